package trace

import (
	"bytes"
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
	t, err = readAll(path)
	if err != nil {
		return nil, fmt.Errorf("read trace %s: %w: %s: record the trace again or restore it from a copy", path, ErrCorrupt, oneLine(err.Error()))
	}
	return t, nil
}

// openRead opens a connection to read the trace at path: read-only unless
// a hot journal shows that the recorder was killed inside a transaction:
// then SQLite must roll it back, which restores the last committed state,
// and that needs write access.
func openRead(path string) (*sqlConn, error) {
	_, statErr := os.Stat(path + "-journal")
	c, err := openSQL(fileDSN(path), statErr == nil)
	if err != nil {
		return nil, err
	}
	c.path = path
	return c, nil
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

// readAll reads every table of the trace at path. The tables are read
// concurrently, each on a connection of its own (and the largest in two
// halves): the reader spends most of its time in SQLite per row, so this
// keeps both cores busy. Each step writes its own fields of the Trace.
func readAll(path string) (*Trace, error) {
	t := &Trace{}
	steps := []struct {
		name string
		read func(*sqlConn, *Trace) error
	}{
		{"meta", readMeta}, {"host", readHost}, {"processes", readProcesses}, {"resources", readResources},
		{"accesses", readAccesses}, {"signals", readSignals}, {"counters", readCounters}, {"blind_spots", readBlindSpots}, {"users", readUsers},
	}
	reads := make([]func() error, len(steps))
	for i, s := range steps {
		reads[i] = func() error {
			return withConn(path, func(c *sqlConn) error { return s.read(c, t) })
		}
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

// withConn runs fn on a new connection to the trace at path.
func withConn(path string, fn func(*sqlConn) error) error {
	c, err := openRead(path)
	if err != nil {
		return err
	}
	defer c.close()
	return fn(c)
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

// scanRows runs q and calls scan for every row, stopping at the first
// error. A column that does not hold what its reader expects is that
// row's error, whatever scan made of the zero value it got instead.
func scanRows(c *sqlConn, q string, scan func(*sqlRows) error, args ...int64) error {
	r, err := c.query(q, args...)
	if err != nil {
		return err
	}
	for r.next() {
		err := scan(r)
		if r.err != nil {
			err = r.err
		}
		if err != nil {
			r.close()
			return err
		}
	}
	return r.close()
}

// queryInt runs q, a query of one integer such as a count.
func queryInt(c *sqlConn, q string, args ...int64) (int64, error) {
	var n int64
	err := scanRows(c, q, func(r *sqlRows) error {
		n = r.int64(0)
		return nil
	}, args...)
	return n, err
}

func readMeta(c *sqlConn, t *Trace) error {
	t.Meta.SchemaVersion = SchemaVersion
	return scanRows(c, `SELECT key, value FROM meta`, func(r *sqlRows) error {
		v := r.text(1)
		switch string(r.bytes(0)) {
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

func readHost(c *sqlConn, t *Trace) error {
	seen := false
	err := scanRows(c, `SELECT hostname, kernel, boot_id, ips, start_ns, end_ns FROM host`, func(r *sqlRows) error {
		t.Host = Host{Hostname: r.text(0), Kernel: r.text(1), BootID: r.text(2), StartNS: r.int64(4), EndNS: r.int64(5)}
		seen = true
		return json.Unmarshal(r.bytes(3), &t.Host.IPs)
	})
	if err == nil && !seen {
		err = errors.New("no host row")
	}
	return err
}

// sized returns an empty slice with room for the rows of table (nil when
// it has none), so that reading them into it allocates once.
func sized[T any](c *sqlConn, table string) ([]T, error) {
	n, err := queryInt(c, `SELECT count(*) FROM `+table)
	if err != nil || n == 0 {
		return nil, err
	}
	return make([]T, 0, n), nil
}

func readProcesses(c *sqlConn, t *Trace) (err error) {
	if t.Processes, err = sized[Process](c, "processes"); err != nil {
		return err
	}
	return scanRows(c, `SELECT id, pid, ppid, parent_id, start_ns, exit_ns, exit_code, exe, argv, comm, uid, gid, cgroup, netns, snapshot FROM processes ORDER BY id`, func(r *sqlRows) error {
		p := Process{ID: ProcessID(r.int64(0)), PID: r.int32(1), PPID: r.int32(2), ParentID: ProcessID(r.int64(3)),
			StartNS: r.int64(4), ExitNS: r.int64(5), ExitCode: r.int32(6), Exe: r.text(7), Comm: r.text(9),
			UID: r.uint32(10), GID: r.uint32(11), Cgroup: r.text(12), NetNS: uint64(r.int64(13)), Snapshot: r.bool(14)}
		if err := json.Unmarshal(r.bytes(8), &p.Argv); err != nil {
			return fmt.Errorf("process %d argv: %w", p.ID, err)
		}
		t.Processes = append(t.Processes, p)
		return nil
	})
}

func readResources(c *sqlConn, t *Trace) (err error) {
	if t.Resources, err = sized[Resource](c, "resources"); err != nil {
		return err
	}
	return scanRows(c, `SELECT id, kind, dev, ino, path, src, dst, listen, key FROM resources ORDER BY id`, func(r *sqlRows) error {
		res := Resource{ID: ResourceID(r.int64(0)), Dev: uint64(r.int64(2)), Ino: uint64(r.int64(3)),
			Path: r.text(4), Src: r.text(5), Dst: r.text(6), Listen: r.bool(7), Key: r.int64(8)}
		kind := r.bytes(1)
		if res.Kind = kindOf(kind); res.Kind == "" {
			return fmt.Errorf("resource %d has unknown kind %q", res.ID, kind)
		}
		t.Resources = append(t.Resources, res)
		return nil
	})
}

// readAccesses reads the largest table in two halves by process, on two
// connections at once, to keep both cores busy once the other tables are
// read. The halves fill the two ends of one slice sized by counting first
// (a count costs no column calls), so the table is held once.
func readAccesses(c *sqlConn, t *Trace) error {
	// The count and the maximum are separate queries, so that SQLite
	// answers each from the b-tree's structure (the cells per page, the
	// last key) rather than row by row.
	total, err := queryInt(c, `SELECT count(*) FROM accesses`)
	if err != nil {
		return err
	}
	maxProcess, err := queryInt(c, `SELECT coalesce(max(process_id), 0) FROM accesses`)
	if err != nil {
		return err
	}
	mid := maxProcess / 2
	first, err := queryInt(c, `SELECT count(*) FROM accesses WHERE process_id <= ?`, mid)
	if err != nil {
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
			// The first half reads on c, the second on a connection of its own.
			read := func(c *sqlConn) error {
				return scanRows(c, `SELECT process_id, resource_id, opens, opens_write, reads, read_bytes, writes, write_bytes, creates, removes, renames, shared_maps, execs, connects, accepts, listens, first_ns, last_ns FROM accesses WHERE `+where+` ORDER BY process_id, resource_id`, func(r *sqlRows) error {
					halves[i] = append(halves[i], Access{Process: ProcessID(r.int64(0)), Resource: ResourceID(r.int64(1)),
						Opens: r.int64(2), OpensWrite: r.int64(3), Reads: r.int64(4), ReadBytes: r.int64(5),
						Writes: r.int64(6), WriteBytes: r.int64(7), Creates: r.int64(8), Removes: r.int64(9),
						Renames: r.int64(10), SharedMaps: r.int64(11), Execs: r.int64(12), Connects: r.int64(13),
						Accepts: r.int64(14), Listens: r.int64(15), FirstNS: r.int64(16), LastNS: r.int64(17)})
					return nil
				}, mid)
			}
			if i == 0 {
				return read(c)
			}
			return withConn(c.path, read)
		}
	}
	if err := errors.Join(concurrently(reads[:]...)...); err != nil {
		return err
	}
	// The halves seek by key and the count walks the tree's pages: in a
	// damaged tree a key can end a half early or make it skip pages. A
	// Writer adds and replaces rows but never deletes one, so finding fewer
	// than counted means rows were lost, not that a recorder changed the
	// trace meanwhile.
	if read := int64(len(halves[0]) + len(halves[1])); read < total {
		return fmt.Errorf("%d rows counted, %d found", total, read)
	}
	if int64(len(halves[0])) == first && int64(len(halves[1])) == total-first {
		t.Accesses = all // both halves filled their places exactly
	} else {
		t.Accesses = append(append(make([]Access, 0, len(halves[0])+len(halves[1])), halves[0]...), halves[1]...)
	}
	return nil
}

func readSignals(c *sqlConn, t *Trace) error {
	return scanRows(c, `SELECT sender_id, target_id, target_pid, signo, count, first_ns, last_ns FROM signals`, func(r *sqlRows) error {
		t.Signals = append(t.Signals, Signal{Sender: ProcessID(r.int64(0)), Target: ProcessID(r.int64(1)), TargetPID: r.int32(2),
			Signo: r.int32(3), Count: r.int64(4), FirstNS: r.int64(5), LastNS: r.int64(6)})
		return nil
	})
}

func readCounters(c *sqlConn, t *Trace) error {
	return scanRows(c, `SELECT name, value FROM counters`, func(r *sqlRows) error {
		t.Counters = append(t.Counters, Counter{Name: r.text(0), Value: r.int64(1)})
		return nil
	})
}

func readBlindSpots(c *sqlConn, t *Trace) error {
	return scanRows(c, `SELECT what, count, detail FROM blind_spots`, func(r *sqlRows) error {
		t.BlindSpots = append(t.BlindSpots, BlindSpot{What: r.text(0), Count: r.int64(1), Detail: r.text(2)})
		return nil
	})
}

func readUsers(c *sqlConn, t *Trace) error {
	return scanRows(c, `SELECT uid, name FROM users ORDER BY uid`, func(r *sqlRows) error {
		t.Users = append(t.Users, User{UID: r.uint32(0), Name: r.text(1)})
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
