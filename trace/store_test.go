package trace

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// sampleTrace has one row in every table, with awkward strings.
func sampleTrace() *Trace {
	return &Trace{
		Meta: Meta{SchemaVersion: SchemaVersion, Recorder: "test", Mode: "host", Finalized: true},
		Host: Host{Hostname: "vm1", Kernel: "6.18", BootID: "b", IPs: []string{"10.0.0.1"}, StartNS: 1, EndNS: 2},
		Processes: []Process{
			{ID: 1, PID: 10, Exe: "/usr/bin/a", Argv: []string{"a", "<img src=x>", "line\nbreak"}, StartNS: 1, Snapshot: true},
			{ID: 2, PID: 11, PPID: 10, ParentID: 1, Exe: "/usr/bin/b", Argv: []string{"b"}, UID: 33, GID: 33, Cgroup: "/x", NetNS: 1 << 63, ExitNS: 5, ExitCode: 1},
		},
		Resources: []Resource{
			{ID: 1, Kind: KindFile, Dev: 1 << 63, Ino: 42, Path: "/var/log/\x1b[31mred.log"},
			{ID: 2, Kind: KindTCP, Src: "127.0.0.1:4000", Dst: "127.0.0.1:80"},
		},
		Accesses: []Access{
			{Process: 1, Resource: 1, Writes: 3, WriteBytes: 300, FirstNS: 1, LastNS: 2},
			{Process: 2, Resource: 1, Reads: 1, ReadBytes: 300, Opens: 1},
			{Process: 2, Resource: 2, Connects: 1, Writes: 1, WriteBytes: 5},
		},
		Signals:    []Signal{{Sender: 2, Target: 1, TargetPID: 10, Signo: 1, Count: 2}},
		Counters:   []Counter{{Name: "events", Value: 7}},
		BlindSpots: []BlindSpot{{What: "dropped events", Count: 3, Detail: "ring buffer full"}},
		Users:      []User{{UID: 0, Name: "root"}, {UID: 33, Name: "www-data"}},
	}
}

// writeTrace stores t at a new path in dir, closing it twice, and returns
// the path.
func writeTrace(tb testing.TB, dir string, t *Trace) string {
	tb.Helper()
	path := filepath.Join(dir, "x.trace")
	if err := Write(t, path); err != nil {
		tb.Fatal(err)
	}
	return path
}

func TestRoundTrip(t *testing.T) {
	want := sampleTrace()
	got, err := Open(writeTrace(t, t.TempDir(), want))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip differs:\n got %+v\nwant %+v", got, want)
	}
}

// TestRoundTripManyProcesses reads back accesses of processes on both
// sides of the split the reader makes (by process id, in two halves), in
// order, including processes with no accesses at either end.
func TestRoundTripManyProcesses(t *testing.T) {
	want := sampleTrace()
	want.Accesses = nil
	want.Signals = nil
	for id := ProcessID(3); id <= 101; id++ {
		want.Processes = append(want.Processes, Process{ID: id, PID: int32(id) + 100, Exe: "/bin/x", Argv: []string{"x"}})
		if id%7 == 0 || id == 101 {
			continue // no accesses
		}
		for r := ResourceID(1); r <= 2; r++ {
			want.Accesses = append(want.Accesses, Access{Process: id, Resource: r, Reads: int64(id), ReadBytes: int64(r)})
		}
	}
	got, err := Open(writeTrace(t, t.TempDir(), want))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Accesses, want.Accesses) {
		t.Fatalf("accesses differ: got %d rows, want %d", len(got.Accesses), len(want.Accesses))
	}
}

func TestSameContentSameBytes(t *testing.T) {
	a, err := os.ReadFile(writeTrace(t, t.TempDir(), sampleTrace()))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(writeTrace(t, t.TempDir(), sampleTrace()))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two writes of the same trace differ")
	}
}

func TestUpsertKeepsTotals(t *testing.T) {
	path := filepath.Join(t.TempDir(), "u.trace")
	w, err := Create(path, Meta{}, Host{})
	if err != nil {
		t.Fatal(err)
	}
	w.PutAccess(Access{Process: 1, Resource: 1, Reads: 1})
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	w.PutAccess(Access{Process: 1, Resource: 1, Reads: 5})
	if err := w.Close(Host{}, Meta{}); err != nil {
		t.Fatal(err)
	}
	tr, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Accesses) != 1 || tr.Accesses[0].Reads != 5 {
		t.Fatalf("accesses = %+v, want one with 5 reads", tr.Accesses)
	}
}

// TestUnfinalizedTraceReadable proves that what was committed survives a
// writer that never closes (a killed recorder).
func TestUnfinalizedTraceReadable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.trace")
	w, err := Create(path, Meta{Recorder: "r"}, Host{Hostname: "h"})
	if err != nil {
		t.Fatal(err)
	}
	w.PutProcess(Process{ID: 1, PID: 1, Exe: "/sbin/init"})
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	w.PutProcess(Process{ID: 2, PID: 2, Exe: "/uncommitted"})
	tr, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Meta.Finalized || len(tr.Processes) != 1 {
		t.Fatalf("got finalized=%v processes=%d, want false and 1", tr.Meta.Finalized, len(tr.Processes))
	}
	w.abort()
}

// TestHotJournalRolledBack reads the trace of a recorder killed in the
// middle of a transaction whose pages had already reached the file: the
// reader must let SQLite roll the journal back and see the last commit.
// The kill is simulated by copying the trace and its journal while the
// writer holds the transaction open.
func TestHotJournalRolledBack(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "h.trace")
	want := sampleTrace()
	want.Processes = nil
	w, err := Create(path, want.Meta, want.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer w.abort()
	// More processes than SQLite's page cache holds (2 MB), committed, then
	// rewritten in a transaction: SQLite saves the committed pages to the
	// journal and overwrites them in the file before the commit.
	process := func(id ProcessID, exe string) Process {
		return Process{ID: id, PID: int32(id), Exe: strings.Repeat(exe, 400), Argv: []string{}}
	}
	for id := ProcessID(1); id <= 1000; id++ {
		want.Processes = append(want.Processes, process(id, "/committed"))
		w.PutProcess(want.Processes[id-1])
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	for id := ProcessID(1); id <= 1000; id++ {
		w.PutProcess(process(id, "/uncommitted"))
	}
	if w.failed != nil {
		t.Fatal(w.failed)
	}
	copied := filepath.Join(t.TempDir(), "killed.trace")
	for _, suffix := range []string{"", "-journal"} {
		b, err := os.ReadFile(path + suffix)
		if err != nil {
			t.Fatalf("the writer left no %s: %v", path+suffix, err)
		}
		if err := os.WriteFile(copied+suffix, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Open(copied)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Processes, want.Processes) || got.Meta.Finalized {
		t.Fatalf("got %d processes (finalized %v), not the %d committed ones", len(got.Processes), got.Meta.Finalized, len(want.Processes))
	}
	if _, err := os.Stat(copied + "-journal"); err == nil {
		t.Fatal("the hot journal is still there: nothing was rolled back")
	}
}

// TestOpenFindsLostAccesses damages the process ID of one access row, as
// bit rot would. The reader reads the table in two halves that SQLite
// finds by key: a key beyond the first half's end in its middle ends that
// half early, and the second half starts after it, so the rows between
// were lost without a word (before the reader counted them).
func TestOpenFindsLostAccesses(t *testing.T) {
	tr := sampleTrace()
	tr.Accesses, tr.Signals = nil, nil
	// Every counter 0 and a unique first_ns: the row's record ends with
	// the process ID (1 byte), the resource ID (1 byte: IDs 0 and 1 would
	// take none), first_ns (8 bytes, big-endian); the zeros take no bytes.
	marker := func(p ProcessID, r ResourceID) int64 { return 1<<62 | int64(p)<<16 | int64(r) }
	for p := ProcessID(1); p <= 40; p++ {
		for r := ResourceID(2); r <= 51; r++ {
			tr.Accesses = append(tr.Accesses, Access{Process: p, Resource: r, FirstNS: marker(p, r)})
		}
	}
	b, err := os.ReadFile(writeTrace(t, t.TempDir(), tr))
	if err != nil {
		t.Fatal(err)
	}
	pageSize := int(b[16])<<8 | int(b[17])
	damaged := false
	for r := ResourceID(2); r <= 51 && !damaged; r++ {
		key := binary.BigEndian.AppendUint64(nil, uint64(marker(5, r)))
		at := bytes.Index(b, key)
		if at < 2 || b[at-2] != 5 || b[at-1] != byte(r) {
			t.Fatalf("access (5, %d) is not stored as this test expects", r)
		}
		// Only a row on a leaf page (type 10); a row on an interior page
		// is found by the second half's seek.
		if page := at / pageSize * pageSize; page > 0 && b[page] == 10 {
			b[at-2] = 30 // the halves split at process 20
			damaged = true
		}
	}
	if !damaged {
		t.Fatal("no access of process 5 on a leaf page")
	}
	path := filepath.Join(t.TempDir(), "damaged.trace")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := Open(path); !errors.Is(err, ErrCorrupt) {
		n := -1
		if got != nil {
			n = len(got.Accesses)
		}
		t.Fatalf("Open read %d of %d accesses, err = %v; want ErrCorrupt", n, len(tr.Accesses), err)
	}
}

func TestCreateRefusesExisting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "e.trace")
	os.WriteFile(path, []byte("keep me"), 0o644)
	if _, err := Create(path, Meta{}, Host{}); err == nil || !strings.Contains(err.Error(), "file exists") {
		t.Fatalf("Create over existing file: err = %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "keep me" {
		t.Fatal("existing file was changed")
	}
}

func TestOpenBadFiles(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile(writeTrace(t, dir, sampleTrace()))
	if err != nil {
		t.Fatal(err)
	}
	newer := append([]byte(nil), good...)
	newer[63] = SchemaVersion + 1
	otherApp := append([]byte(nil), good...)
	otherApp[71] ^= 0xff
	corrupt := append([]byte(nil), good...)
	for i := 4096; i < len(corrupt); i++ {
		corrupt[i] = 0xA5
	}
	cases := []struct {
		name    string
		content []byte
		want    error
	}{
		{"empty", nil, ErrNotTrace},
		{"text", []byte("hello, world\n"), ErrNotTrace},
		{"header only", good[:50], ErrTruncated},
		{"truncated", good[:len(good)/2], ErrTruncated},
		{"newer schema", newer, ErrNewer},
		{"other sqlite app", otherApp, ErrNotTrace},
		{"corrupt pages", corrupt, ErrCorrupt},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".trace")
			if err := os.WriteFile(path, c.content, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Open(path)
			if !errors.Is(err, c.want) {
				t.Fatalf("Open: err = %v, want %v", err, c.want)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") || !strings.Contains(msg, path) {
				t.Fatalf("error is not one line naming the file: %q", msg)
			}
		})
	}
	if _, err := Open(filepath.Join(dir, "missing.trace")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("missing file: err = %v", err)
	}
}

// FuzzOpen feeds mutated trace files to the reader: it must return a trace
// or an error, never panic or hang.
func FuzzOpen(f *testing.F) {
	good, err := os.ReadFile(writeTrace(f, f.TempDir(), sampleTrace()))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good, 0, byte(0))
	f.Add(good, 100, byte(0xff))
	f.Add(good[:200], 0, byte(0))
	f.Add([]byte("SQLite format 3\x00"), 0, byte(0))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, content []byte, at int, b byte) {
		if len(content) > 0 {
			if at < 0 {
				at = -at
			}
			content = append([]byte(nil), content...)
			content[at%len(content)] = b
		}
		path := filepath.Join(dir, "fuzz.trace")
		if err := os.WriteFile(path, content, 0o644); err != nil {
			t.Fatal(err)
		}
		os.Remove(path + "-journal")
		var tr *Trace
		var err error
		done := make(chan struct{})
		go func() { tr, err = Open(path); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			os.WriteFile("/tmp/fuzz-hang.trace", content, 0o644)
			t.Fatalf("Open hangs on this input (saved to /tmp/fuzz-hang.trace)")
		}
		if err == nil && tr == nil {
			t.Fatal("nil trace without error")
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Fatalf("multi-line error: %q", err)
		}
	})
}

// TestOpenSurvivesMutations is a deterministic fuzz run that fits in the
// test command: it flips bytes and truncates a good trace a thousand ways.
// (go test -fuzz=FuzzOpen explores further but is slow through SQLite.)
func TestOpenSurvivesMutations(t *testing.T) {
	good, err := os.ReadFile(writeTrace(t, t.TempDir(), sampleTrace()))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(1, 2))
	failures := 0
	for i := 0; i < 1000; i++ {
		c := append([]byte(nil), good...)
		for j := 0; j <= r.IntN(4); j++ {
			c[r.IntN(len(c))] = byte(r.IntN(256))
		}
		if i%4 == 0 {
			c = c[:r.IntN(len(c))]
		}
		p := filepath.Join(dir, "m.trace")
		if err := os.WriteFile(p, c, 0o644); err != nil {
			t.Fatal(err)
		}
		tr, err := Open(p)
		if err != nil {
			failures++
			if strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), p) {
				t.Fatalf("mutation %d: error is not one line naming the file: %q", i, err)
			}
		} else if tr == nil {
			t.Fatalf("mutation %d: nil trace without error", i)
		}
	}
	t.Logf("%d of 1000 mutations rejected with a one-line error, the rest read", failures)
	if failures == 0 {
		t.Fatal("no mutation was rejected: the reader checks nothing")
	}
}

func TestCloseTwice(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.trace")
	w, err := Create(path, Meta{}, Host{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(Host{}, Meta{}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(Host{}, Meta{}); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
