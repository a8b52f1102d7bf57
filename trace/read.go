package trace

import (
	"bytes"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"sync"
)

// Errors that explain why a file cannot be read as a trace. Open wraps them
// with the file name and what the user can do.
var (
	ErrNotTrace  = errors.New("not a decompose trace")
	ErrNewer     = errors.New("written by a newer decompose")
	ErrTruncated = errors.New("truncated")
	ErrCorrupt   = errors.New("corrupt")
)

// sqliteMagic starts every SQLite database file.
var sqliteMagic = []byte("SQLite format 3\x00")

// Open reads the whole trace at path into memory, in canonical order.
// Anything that is not a complete trace of a known schema version gives an
// error wrapping ErrNotTrace, ErrNewer, ErrTruncated or ErrCorrupt, whose text
// is one line naming the file and what to do; Open never panics.
func Open(path string) (t *Trace, err error) {
	defer func() {
		if r := recover(); r != nil {
			t, err = nil, fmt.Errorf("read trace %s: %w: the reader failed (%s): record the trace again", path, ErrCorrupt, oneLine(fmt.Sprint(r)))
		}
	}()
	if err := checkHeader(path); err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", openDSN(path))
	if err != nil {
		return nil, fmt.Errorf("read trace %s: %w", path, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(4)
	t, err = readAll(db)
	if err != nil {
		return nil, fmt.Errorf("read trace %s: %w: %s: record the trace again or restore it from a copy", path, ErrCorrupt, oneLine(err.Error()))
	}
	return t, nil
}

// openDSN opens read-only unless a hot journal shows that the recorder was
// killed inside a transaction: then SQLite must roll it back, which restores
// the last committed state, and that needs write access.
func openDSN(path string) string {
	dsn := fileDSN(path) + "?_pragma=busy_timeout(10000)"
	if _, err := os.Stat(path + "-journal"); err == nil {
		return dsn
	}
	return dsn + "&mode=ro"
}

// fileDSN names path as a SQLite URI, escaping '?' and '#' in file names.
func fileDSN(path string) string {
	return "file:" + (&url.URL{Path: path}).EscapedPath()
}

// checkHeader validates the 100-byte SQLite header before SQLite sees the
// file, so that the common mistakes get precise messages.
func checkHeader(path string) error {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("read trace %s: no such file: pass the path of a trace written by decompose record", path)
		}
		return fmt.Errorf("read trace %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("read trace %s: %w", path, err)
	}
	if st.IsDir() {
		return fmt.Errorf("read trace %s: %w: it is a directory: pass a .trace file", path, ErrNotTrace)
	}
	hdr := make([]byte, 100)
	n, err := io.ReadFull(f, hdr)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read trace %s: %w", path, err)
	}
	if n < len(sqliteMagic) || !bytes.Equal(hdr[:len(sqliteMagic)], sqliteMagic) {
		if n == 0 {
			return fmt.Errorf("read trace %s: %w: the file is empty: record the trace again", path, ErrNotTrace)
		}
		return fmt.Errorf("read trace %s: %w: not a SQLite file: pass a trace written by decompose record", path, ErrNotTrace)
	}
	if n < len(hdr) {
		return fmt.Errorf("read trace %s: %w: the file ends inside its header: copy the trace again", path, ErrTruncated)
	}
	if id := binary.BigEndian.Uint32(hdr[68:]); id != applicationID {
		return fmt.Errorf("read trace %s: %w: a SQLite database of another application: pass a trace written by decompose record", path, ErrNotTrace)
	}
	if v := int(binary.BigEndian.Uint32(hdr[60:])); v > SchemaVersion {
		return fmt.Errorf("read trace %s: %w (schema %d, this build reads up to %d): upgrade decompose", path, ErrNewer, v, SchemaVersion)
	} else if v < 1 {
		return fmt.Errorf("read trace %s: %w: schema version %d is unknown: record the trace again", path, ErrCorrupt, v)
	}
	pageSize := int64(binary.BigEndian.Uint16(hdr[16:]))
	if pageSize == 1 {
		pageSize = 65536
	}
	pages := int64(binary.BigEndian.Uint32(hdr[28:]))
	// The in-header page count is valid when the change counter matches the
	// version-valid-for number; SQLite has written both since 3.7.0.
	if binary.BigEndian.Uint32(hdr[24:]) == binary.BigEndian.Uint32(hdr[92:]) && pages*pageSize > st.Size() {
		return fmt.Errorf("read trace %s: %w: %d of %d bytes present: copy the trace again", path, ErrTruncated, st.Size(), pages*pageSize)
	}
	return nil
}

// readAll reads every table. The three big tables are read concurrently,
// each on its own connection: the reader spends most of its time in SQLite
// per row, so this nearly halves the time on two cores. Each step writes
// its own fields of the Trace.
func readAll(db *sql.DB) (*Trace, error) {
	t := &Trace{}
	steps := []struct {
		name string
		read func(*sql.DB, *Trace) error
	}{
		{"meta", readMeta}, {"host", readHost}, {"processes", readProcesses}, {"resources", readResources},
		{"accesses", readAccesses}, {"signals", readSignals}, {"counters", readCounters}, {"blind_spots", readBlindSpots}, {"users", readUsers},
	}
	reads := make([]func() error, len(steps))
	for i, s := range steps {
		reads[i] = func() error { return s.read(db, t) }
	}
	errs := concurrently(reads...)
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", steps[i].name, err)
		}
	}
	t.Sort()
	return t, nil
}

// concurrently runs every fn at once and returns their errors, a panic in
// one (a malformed file reaching a corner of the SQLite code) as an error.
func concurrently(fns ...func() error) []error {
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if r := recover(); r != nil {
					errs[i] = fmt.Errorf("reader failed: %v", r)
				}
			}()
			errs[i] = fn()
		}()
	}
	wg.Wait()
	return errs
}

// scanRows runs q and calls scan for every row, stopping at the first error.
func scanRows(db *sql.DB, q string, scan func(*sql.Rows) error, args ...any) error {
	rows, err := db.Query(q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

func readMeta(db *sql.DB, t *Trace) error {
	t.Meta.SchemaVersion = SchemaVersion
	return scanRows(db, `SELECT key, value FROM meta`, func(r *sql.Rows) error {
		var k, v string
		if err := r.Scan(&k, &v); err != nil {
			return err
		}
		switch k {
		case "recorder":
			t.Meta.Recorder = v
		case "mode":
			t.Meta.Mode = v
		case "finalized":
			t.Meta.Finalized = v == "true"
		}
		return nil
	})
}

func readHost(db *sql.DB, t *Trace) error {
	seen := false
	err := scanRows(db, `SELECT hostname, kernel, boot_id, ips, start_ns, end_ns FROM host`, func(r *sql.Rows) error {
		var ips string
		h := &t.Host
		if err := r.Scan(&h.Hostname, &h.Kernel, &h.BootID, &ips, &h.StartNS, &h.EndNS); err != nil {
			return err
		}
		seen = true
		return json.Unmarshal([]byte(ips), &h.IPs)
	})
	if err == nil && !seen {
		err = errors.New("no host row")
	}
	return err
}

func readProcesses(db *sql.DB, t *Trace) error {
	return scanRows(db, `SELECT id, pid, ppid, parent_id, start_ns, exit_ns, exit_code, exe, argv, comm, uid, gid, cgroup, netns, snapshot FROM processes ORDER BY id`, func(r *sql.Rows) error {
		var p Process
		var argv string
		var netns int64
		if err := r.Scan(&p.ID, &p.PID, &p.PPID, &p.ParentID, &p.StartNS, &p.ExitNS, &p.ExitCode, &p.Exe, &argv, &p.Comm, &p.UID, &p.GID, &p.Cgroup, &netns, &p.Snapshot); err != nil {
			return err
		}
		p.NetNS = uint64(netns)
		if err := json.Unmarshal([]byte(argv), &p.Argv); err != nil {
			return fmt.Errorf("process %d argv: %w", p.ID, err)
		}
		t.Processes = append(t.Processes, p)
		return nil
	})
}

func readResources(db *sql.DB, t *Trace) error {
	return scanRows(db, `SELECT id, kind, dev, ino, path, src, dst, listen, key FROM resources ORDER BY id`, func(r *sql.Rows) error {
		var res Resource
		var dev, ino int64
		if err := r.Scan(&res.ID, &res.Kind, &dev, &ino, &res.Path, &res.Src, &res.Dst, &res.Listen, &res.Key); err != nil {
			return err
		}
		if !res.Kind.Valid() {
			return fmt.Errorf("resource %d has unknown kind %q", res.ID, res.Kind)
		}
		res.Dev, res.Ino = uint64(dev), uint64(ino)
		t.Resources = append(t.Resources, res)
		return nil
	})
}

// readAccesses reads the largest table in two halves by process, on two
// connections at once: the pure-Go SQLite spends most of a read in per-column
// calls, and the halves keep both cores busy once the other tables are read.
// The halves fill the two ends of one slice sized by counting first (a
// count costs no column calls), so the table is held once.
func readAccesses(db *sql.DB, t *Trace) error {
	var maxProcess sql.NullInt64
	var total, first int
	if err := db.QueryRow(`SELECT max(process_id), count(*) FROM accesses`).Scan(&maxProcess, &total); err != nil {
		return err
	}
	mid := maxProcess.Int64 / 2
	if err := db.QueryRow(`SELECT count(*) FROM accesses WHERE process_id <= ?`, mid).Scan(&first); err != nil {
		return err
	}
	first = min(first, total)
	all := make([]Access, total)
	// Three-index slices: a half that finds more rows than counted (a trace
	// still being written) grows into a copy instead of into the other half.
	halves := [2][]Access{all[:0:first], all[first:first:total]}
	var reads [2]func() error
	for i, where := range []string{"process_id <= ?", "process_id > ?"} {
		reads[i] = func() error {
			return scanRows(db, `SELECT process_id, resource_id, opens, opens_write, reads, read_bytes, writes, write_bytes, creates, removes, renames, shared_maps, execs, connects, accepts, listens, first_ns, last_ns FROM accesses WHERE `+where+` ORDER BY process_id, resource_id`, func(r *sql.Rows) error {
				var a Access
				if err := r.Scan(&a.Process, &a.Resource, &a.Opens, &a.OpensWrite, &a.Reads, &a.ReadBytes, &a.Writes, &a.WriteBytes,
					&a.Creates, &a.Removes, &a.Renames, &a.SharedMaps, &a.Execs, &a.Connects, &a.Accepts, &a.Listens, &a.FirstNS, &a.LastNS); err != nil {
					return err
				}
				halves[i] = append(halves[i], a)
				return nil
			}, mid)
		}
	}
	if err := errors.Join(concurrently(reads[:]...)...); err != nil {
		return err
	}
	if len(halves[0]) == first && len(halves[1]) == total-first {
		t.Accesses = all // both halves filled their places exactly
	} else {
		t.Accesses = append(append(make([]Access, 0, len(halves[0])+len(halves[1])), halves[0]...), halves[1]...)
	}
	return nil
}

func readSignals(db *sql.DB, t *Trace) error {
	return scanRows(db, `SELECT sender_id, target_id, target_pid, signo, count, first_ns, last_ns FROM signals`, func(r *sql.Rows) error {
		var s Signal
		if err := r.Scan(&s.Sender, &s.Target, &s.TargetPID, &s.Signo, &s.Count, &s.FirstNS, &s.LastNS); err != nil {
			return err
		}
		t.Signals = append(t.Signals, s)
		return nil
	})
}

func readCounters(db *sql.DB, t *Trace) error {
	return scanRows(db, `SELECT name, value FROM counters`, func(r *sql.Rows) error {
		var c Counter
		if err := r.Scan(&c.Name, &c.Value); err != nil {
			return err
		}
		t.Counters = append(t.Counters, c)
		return nil
	})
}

func readBlindSpots(db *sql.DB, t *Trace) error {
	return scanRows(db, `SELECT what, count, detail FROM blind_spots`, func(r *sql.Rows) error {
		var b BlindSpot
		if err := r.Scan(&b.What, &b.Count, &b.Detail); err != nil {
			return err
		}
		t.BlindSpots = append(t.BlindSpots, b)
		return nil
	})
}

func readUsers(db *sql.DB, t *Trace) error {
	return scanRows(db, `SELECT uid, name FROM users ORDER BY uid`, func(r *sql.Rows) error {
		var u User
		if err := r.Scan(&u.UID, &u.Name); err != nil {
			return err
		}
		t.Users = append(t.Users, u)
		return nil
	})
}

// oneLine turns a message from SQLite, which may quote corrupt bytes, into
// one printable line of bounded length.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:200], "") + "..."
	}
	return s
}
