package trace

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"

	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver
)

// Writer adds to a new trace file. Puts are upserts keyed by ID (or by the
// process/resource pair for accesses), carrying totals rather than deltas, so
// a recorder can write its current aggregate state every second. Nothing is
// durable until Commit; Close commits and marks the trace finalized.
// A Writer is not safe for concurrent use.
type Writer struct {
	path  string
	db    *sql.DB
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
	// failed is the first write error; once set, every later call fails.
	failed error
}

// upserts are the statements a Writer prepares in every transaction.
var upserts = map[string]string{
	"process":  `INSERT OR REPLACE INTO processes VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
	"resource": `INSERT OR REPLACE INTO resources VALUES (?,?,?,?,?,?,?,?,?)`,
	"access":   `INSERT OR REPLACE INTO accesses VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
	"signal":   `INSERT OR REPLACE INTO signals VALUES (?,?,?,?,?,?,?)`,
	"counter":  `INSERT OR REPLACE INTO counters VALUES (?,?)`,
	"blind":    `INSERT OR REPLACE INTO blind_spots VALUES (?,?,?)`,
	"user":     `INSERT OR REPLACE INTO users VALUES (?,?)`,
	"meta":     `INSERT OR REPLACE INTO meta VALUES (?,?)`,
	"host":     `INSERT OR REPLACE INTO host VALUES (1,?,?,?,?,?,?)`,
}

// Create makes a new trace file at path and writes its schema, meta and host.
// It refuses to overwrite an existing file: traces are evidence.
func Create(path string, meta Meta, host Host) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("create trace %s: file exists: choose a new path or remove it", path)
		}
		return nil, fmt.Errorf("create trace %s: %w", path, err)
	}
	f.Close()
	db, err := sql.Open("sqlite", fileDSN(path)+"?_pragma=journal_mode(DELETE)&_pragma=synchronous(NORMAL)")
	if err != nil {
		return nil, fmt.Errorf("create trace %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	w := &Writer{path: path, db: db}
	init := fmt.Sprintf("PRAGMA application_id = %d; PRAGMA user_version = %d;", applicationID, SchemaVersion) + schema
	if _, err := db.Exec(init); err != nil {
		db.Close()
		return nil, fmt.Errorf("create trace %s: write schema: %w", path, err)
	}
	if err := w.begin(); err != nil {
		db.Close()
		return nil, err
	}
	meta.SchemaVersion = SchemaVersion
	meta.Finalized = false
	w.SetMeta(meta)
	w.SetHost(host)
	if err := w.Commit(); err != nil {
		w.abort()
		return nil, err
	}
	return w, nil
}

// Path is the file the writer writes.
func (w *Writer) Path() string { return w.path }

func (w *Writer) begin() error {
	tx, err := w.db.BeginTx(context.Background(), nil)
	if err != nil {
		return fmt.Errorf("trace %s: begin transaction: %w", w.path, err)
	}
	w.tx = tx
	w.stmts = make(map[string]*sql.Stmt, len(upserts))
	for name, q := range upserts {
		st, err := tx.Prepare(q)
		if err != nil {
			tx.Rollback()
			return fmt.Errorf("trace %s: prepare %s: %w", w.path, name, err)
		}
		w.stmts[name] = st
	}
	return nil
}

// exec runs a prepared upsert. Errors are deferred to Commit: the first one
// is kept in the transaction and reported there, so callers check once.
func (w *Writer) exec(name string, args ...any) {
	if w.tx == nil {
		return
	}
	if _, err := w.stmts[name].Exec(args...); err != nil {
		w.tx.Rollback()
		w.tx = nil
		w.failed = fmt.Errorf("trace %s: write %s: %w", w.path, name, err)
	}
}

// SetMeta records how the trace was produced.
func (w *Writer) SetMeta(m Meta) {
	w.exec("meta", "recorder", m.Recorder)
	w.exec("meta", "mode", m.Mode)
	w.exec("meta", "schema_version", strconv.Itoa(SchemaVersion))
	w.exec("meta", "finalized", boolText(m.Finalized))
}

// SetHost records the host; call it again to update the end time.
func (w *Writer) SetHost(h Host) {
	ips := h.IPs
	if ips == nil {
		ips = []string{}
	}
	b, _ := json.Marshal(ips)
	w.exec("host", h.Hostname, h.Kernel, h.BootID, string(b), h.StartNS, h.EndNS)
}

// PutProcess inserts or replaces the process with p.ID.
func (w *Writer) PutProcess(p Process) {
	argv := p.Argv
	if argv == nil {
		argv = []string{}
	}
	b, _ := json.Marshal(argv)
	w.exec("process", int64(p.ID), p.PID, p.PPID, int64(p.ParentID), p.StartNS, p.ExitNS, p.ExitCode,
		p.Exe, string(b), p.Comm, p.UID, p.GID, p.Cgroup, int64(p.NetNS), boolInt(p.Snapshot))
}

// PutResource inserts or replaces the resource with r.ID.
func (w *Writer) PutResource(r Resource) {
	w.exec("resource", int64(r.ID), string(r.Kind), int64(r.Dev), int64(r.Ino), r.Path, r.Src, r.Dst, boolInt(r.Listen), r.Key)
}

// PutAccess inserts or replaces the totals of a.Process on a.Resource.
func (w *Writer) PutAccess(a Access) {
	w.exec("access", int64(a.Process), int64(a.Resource), a.Opens, a.OpensWrite, a.Reads, a.ReadBytes,
		a.Writes, a.WriteBytes, a.Creates, a.Removes, a.Renames, a.SharedMaps, a.Execs,
		a.Connects, a.Accepts, a.Listens, a.FirstNS, a.LastNS)
}

// PutSignal inserts or replaces the totals of one sender, target pid and signal.
func (w *Writer) PutSignal(s Signal) {
	w.exec("signal", int64(s.Sender), int64(s.Target), s.TargetPID, s.Signo, s.Count, s.FirstNS, s.LastNS)
}

// SetCounter sets one of the recorder's statistics.
func (w *Writer) SetCounter(name string, value int64) {
	w.exec("counter", name, value)
}

// PutBlindSpot records, or updates the count of, something the recorder
// could not see.
func (w *Writer) PutBlindSpot(b BlindSpot) {
	w.exec("blind", b.What, b.Count, b.Detail)
}

// PutUser records the name of a uid.
func (w *Writer) PutUser(u User) {
	w.exec("user", u.UID, u.Name)
}

// Commit makes everything put so far durable and starts a new transaction.
func (w *Writer) Commit() error {
	if w.failed != nil {
		return w.failed
	}
	if w.tx == nil {
		return fmt.Errorf("trace %s: writer is closed", w.path)
	}
	err := w.tx.Commit()
	w.tx = nil
	if err != nil {
		w.failed = fmt.Errorf("trace %s: commit: %w", w.path, err)
		return w.failed
	}
	if err := w.begin(); err != nil {
		w.failed = err
		return err
	}
	return nil
}

// Close finalizes the trace: it records endNS as the host's end time when it
// is non-zero, marks the trace finalized, commits and closes the file.
// Calling Close twice is safe.
func (w *Writer) Close(h Host, m Meta) error {
	if w.db == nil {
		return w.failed
	}
	m.Finalized = true
	w.SetHost(h)
	w.SetMeta(m)
	err := w.Commit()
	w.abort()
	return err
}

// abort rolls back what was not committed and closes the database.
func (w *Writer) abort() {
	if w.tx != nil {
		w.tx.Rollback()
		w.tx = nil
	}
	if w.db != nil {
		w.db.Close()
		w.db = nil
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// Write stores the whole of t as a new trace file at path, finalized.
func Write(t *Trace, path string) error {
	w, err := Create(path, t.Meta, t.Host)
	if err != nil {
		return err
	}
	for _, p := range t.Processes {
		w.PutProcess(p)
	}
	for _, r := range t.Resources {
		w.PutResource(r)
	}
	for _, a := range t.Accesses {
		w.PutAccess(a)
	}
	for _, s := range t.Signals {
		w.PutSignal(s)
	}
	for _, c := range t.Counters {
		w.SetCounter(c.Name, c.Value)
	}
	for _, b := range t.BlindSpots {
		w.PutBlindSpot(b)
	}
	for _, u := range t.Users {
		w.PutUser(u)
	}
	return w.Close(t.Host, t.Meta)
}
