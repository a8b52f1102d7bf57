package trace

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// The reader talks to SQLite through its C API, as modernc.org/sqlite/lib
// transpiles it, rather than through database/sql: it is the same SQLite
// the database/sql driver wraps (imported for the Writer, whose init also
// patches the library). Reading 1e6 access rows of 18 columns is some 40
// million column calls, and the driver makes each of them dear: it opens
// every connection SQLITE_OPEN_FULLMUTEX, so every call takes and releases
// the connection mutex, and database/sql converts every value by
// reflection into its destination. Here a connection belongs to one
// goroutine (SQLITE_OPEN_NOMUTEX) and a column is read straight into its
// Go type: the same rows for about a third of the CPU time.

// sqlConn is one connection to a trace file. It is not safe for concurrent
// use: each goroutine of the reader opens its own.
type sqlConn struct {
	tls *libc.TLS
	db  uintptr
	// path is the trace file, for opening more connections to it.
	path string
}

// ptrSize is the size of a C pointer, which SQLite writes through the
// out-parameters of open and prepare.
const ptrSize = int(unsafe.Sizeof(uintptr(0)))

// openSQL opens the SQLite file named by the URI dsn (see fileDSN),
// read-only unless readWrite. A read-write connection lets SQLite roll back
// a hot journal (a recorder killed inside a transaction) on first read.
// Busy connections wait up to 10 s for a writer's lock, as a recorder
// writing the trace holds it briefly once a second.
func openSQL(dsn string, readWrite bool) (*sqlConn, error) {
	flags := int32(sqlite3.SQLITE_OPEN_READONLY)
	if readWrite {
		flags = sqlite3.SQLITE_OPEN_READWRITE
	}
	c := &sqlConn{tls: libc.NewTLS()}
	if err := c.open(dsn, flags|sqlite3.SQLITE_OPEN_NOMUTEX|sqlite3.SQLITE_OPEN_URI); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

// open opens the database of c; c.db is set, to be closed, even when it
// fails.
func (c *sqlConn) open(dsn string, flags int32) error {
	name, err := libc.CString(dsn)
	if err != nil {
		return err
	}
	defer libc.Xfree(c.tls, name)
	pp := libc.Xcalloc(c.tls, 1, 8) // room for a pointer on every platform
	if pp == 0 {
		return errors.New("out of memory")
	}
	defer libc.Xfree(c.tls, pp)
	rc := sqlite3.Xsqlite3_open_v2(c.tls, name, pp, flags, 0)
	// SQLite may return a handle on failure too: it holds the message.
	c.db = readPtr(pp)
	if rc == sqlite3.SQLITE_OK {
		rc = sqlite3.Xsqlite3_busy_timeout(c.tls, c.db, 10000)
	}
	if rc != sqlite3.SQLITE_OK {
		return c.error(rc)
	}
	return nil
}

// readPtr reads the pointer SQLite stored at p, a C allocation.
func readPtr(p uintptr) uintptr {
	b := libc.GoBytes(p, ptrSize)
	if ptrSize == 4 {
		return uintptr(binary.NativeEndian.Uint32(b))
	}
	return uintptr(binary.NativeEndian.Uint64(b))
}

// close closes the connection; it is safe on a connection that failed to
// open.
func (c *sqlConn) close() {
	if c.db != 0 {
		sqlite3.Xsqlite3_close_v2(c.tls, c.db)
		c.db = 0
	}
	c.tls.Close()
}

// error is SQLite's message for the result code rc of the last call on c.
func (c *sqlConn) error(rc int32) error {
	msg := libc.GoString(sqlite3.Xsqlite3_errstr(c.tls, rc))
	if c.db != 0 {
		if m := libc.GoString(sqlite3.Xsqlite3_errmsg(c.tls, c.db)); m != msg {
			msg += ": " + m
		}
	}
	return fmt.Errorf("%s (%d)", msg, rc)
}

// query prepares q, binds args to its parameters in order and returns the
// rows before the first; the caller must close them.
func (c *sqlConn) query(q string, args ...int64) (*sqlRows, error) {
	zq, err := libc.CString(q)
	if err != nil {
		return nil, err
	}
	defer libc.Xfree(c.tls, zq)
	pp := libc.Xcalloc(c.tls, 1, 8)
	if pp == 0 {
		return nil, errors.New("out of memory")
	}
	defer libc.Xfree(c.tls, pp)
	if rc := sqlite3.Xsqlite3_prepare_v2(c.tls, c.db, zq, -1, pp, 0); rc != sqlite3.SQLITE_OK {
		return nil, c.error(rc)
	}
	r := &sqlRows{c: c, stmt: readPtr(pp)}
	if r.stmt == 0 {
		return nil, errors.New("no statement in query")
	}
	for i, a := range args {
		if rc := sqlite3.Xsqlite3_bind_int64(c.tls, r.stmt, int32(i+1), a); rc != sqlite3.SQLITE_OK {
			err := c.error(rc)
			r.close()
			return nil, err
		}
	}
	return r, nil
}

// sqlRows steps through the result of a query. Its column readers keep the
// first value they cannot convert in err, so that a row is scanned without
// a check per column and checked once; a reader after a failed one gives a
// zero value.
//
// They convert as database/sql's Scan did when the reader used it, so that
// every trace, even a hand-edited or damaged one holding a value of an
// unexpected type, reads as it did: an integer column reads an INTEGER as
// is and any other value by parsing its text (a REAL formatted as Go
// formats a float64); a text column reads TEXT and BLOB as they are and
// numbers as that text; NULL is an error everywhere.
type sqlRows struct {
	c    *sqlConn
	stmt uintptr
	err  error
}

// next steps to the next row; it reports false at the end or on an error,
// which err then holds.
func (r *sqlRows) next() bool {
	if r.err != nil {
		return false
	}
	switch rc := sqlite3.Xsqlite3_step(r.c.tls, r.stmt); rc {
	case sqlite3.SQLITE_ROW:
		return true
	case sqlite3.SQLITE_DONE:
		return false
	default:
		r.err = r.c.error(rc)
		return false
	}
}

// close finalizes the statement and returns the first error of the rows.
func (r *sqlRows) close() error {
	sqlite3.Xsqlite3_finalize(r.c.tls, r.stmt)
	return r.err
}

// fail keeps the first error of the rows.
func (r *sqlRows) fail(i int, err error) {
	if r.err == nil {
		name := libc.GoString(sqlite3.Xsqlite3_column_name(r.c.tls, r.stmt, int32(i)))
		r.err = fmt.Errorf("column %s: %w", name, err)
	}
}

// integer reads column i if it holds an INTEGER, the common case.
func (r *sqlRows) integer(i int) (int64, bool) {
	if sqlite3.Xsqlite3_column_type(r.c.tls, r.stmt, int32(i)) != sqlite3.SQLITE_INTEGER {
		return 0, false
	}
	return sqlite3.Xsqlite3_column_int64(r.c.tls, r.stmt, int32(i)), true
}

// int64 reads column i into an int64.
func (r *sqlRows) int64(i int) int64 {
	return r.ranged(i, math.MinInt64, math.MaxInt64, func(s string) (int64, error) {
		return strconv.ParseInt(s, 10, 64)
	})
}

// int32 reads column i into an int32.
func (r *sqlRows) int32(i int) int32 {
	return int32(r.ranged(i, math.MinInt32, math.MaxInt32, func(s string) (int64, error) {
		return strconv.ParseInt(s, 10, 32)
	}))
}

// uint32 reads column i into a uint32.
func (r *sqlRows) uint32(i int) uint32 {
	return uint32(r.ranged(i, 0, math.MaxUint32, func(s string) (int64, error) {
		v, err := strconv.ParseUint(s, 10, 32)
		return int64(v), err
	}))
}

// ranged reads column i, an INTEGER from lo to hi, or else by parsing its
// text with parse, which database/sql used for a Go integer of that range.
func (r *sqlRows) ranged(i int, lo, hi int64, parse func(string) (int64, error)) int64 {
	if v, ok := r.integer(i); ok && lo <= v && v <= hi {
		return v
	}
	v, err := parse(string(r.bytes(i)))
	if err != nil {
		r.fail(i, err)
	}
	return v
}

// bool reads column i into a bool: the INTEGER 0 or 1, or text that
// strconv.ParseBool accepts.
func (r *sqlRows) bool(i int) bool {
	switch sqlite3.Xsqlite3_column_type(r.c.tls, r.stmt, int32(i)) {
	case sqlite3.SQLITE_INTEGER:
		v := sqlite3.Xsqlite3_column_int64(r.c.tls, r.stmt, int32(i))
		if v == 0 || v == 1 {
			return v == 1
		}
		r.fail(i, fmt.Errorf("%d is not a boolean", v))
	case sqlite3.SQLITE_TEXT, sqlite3.SQLITE_BLOB:
		v, err := strconv.ParseBool(string(r.bytes(i)))
		if err != nil {
			r.fail(i, err)
		}
		return v
	default:
		r.fail(i, errors.New("a real or NULL is not a boolean"))
	}
	return false
}

// bytes reads column i as text: a view of SQLite's memory, valid until
// the next call on the rows, for TEXT and BLOB values; numbers formatted.
func (r *sqlRows) bytes(i int) []byte {
	var p uintptr
	switch sqlite3.Xsqlite3_column_type(r.c.tls, r.stmt, int32(i)) {
	case sqlite3.SQLITE_TEXT:
		p = sqlite3.Xsqlite3_column_text(r.c.tls, r.stmt, int32(i))
	case sqlite3.SQLITE_BLOB:
		p = sqlite3.Xsqlite3_column_blob(r.c.tls, r.stmt, int32(i))
	case sqlite3.SQLITE_INTEGER:
		return strconv.AppendInt(nil, sqlite3.Xsqlite3_column_int64(r.c.tls, r.stmt, int32(i)), 10)
	case sqlite3.SQLITE_FLOAT:
		return strconv.AppendFloat(nil, sqlite3.Xsqlite3_column_double(r.c.tls, r.stmt, int32(i)), 'g', -1, 64)
	default:
		r.fail(i, errors.New("NULL where a value belongs"))
		return nil
	}
	// The length is asked after the pointer, as SQLite documents: it is
	// of the value as converted for the pointer.
	n := sqlite3.Xsqlite3_column_bytes(r.c.tls, r.stmt, int32(i))
	if p == 0 || n <= 0 {
		return nil
	}
	return libc.GoBytes(p, int(n))
}

// text reads column i as a string of its own.
func (r *sqlRows) text(i int) string {
	return string(r.bytes(i))
}
