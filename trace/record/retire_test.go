package record

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/decompose-dev/decompose/trace"
	"github.com/decompose-dev/decompose/trace/ebpf"
)

// fakeProc points procRoot at a directory holding a /proc/PID/stat for
// each of pids (started at 1 s after boot, parent 1) and restores it.
func fakeProc(t *testing.T, pids ...uint32) string {
	t.Helper()
	root := t.TempDir()
	for _, pid := range pids {
		dir := filepath.Join(root, fmt.Sprint(pid))
		os.MkdirAll(dir, 0o755)
		stat := fmt.Sprintf("%d (fake) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100 0 0", pid)
		if err := os.WriteFile(filepath.Join(dir, "stat"), []byte(stat), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old := procRoot
	procRoot = root
	t.Cleanup(func() { procRoot = old })
	return root
}

// drainTicks runs n drains, as the recorder does every second, in which
// the kernel map holds the unchanged entries of kernel (until they are
// deleted through forget).
func drainTicks(s *state, w *trace.Writer, n int, kernel map[ebpf.IOKey]ebpf.IOVal) {
	for range n {
		for k, v := range kernel {
			s.onCounter(&k, &v, bootNow())
		}
		s.endDrain()
		s.flush(w)
		s.retire()
	}
}

// TestRetirement drives the state through the life of a spool file and of
// a short-lived process: rows are written as totals, forgotten once idle
// and gone, and a row that comes back goes on from its totals.
func TestRetirement(t *testing.T) {
	const daemon, job = 4000001, 4000002 // above any pid_max: never a real process
	fakeProc(t, daemon, job)
	out := filepath.Join(t.TempDir(), "r.trace")
	w, err := trace.Create(out, trace.Meta{Recorder: "test"}, trace.Host{})
	if err != nil {
		t.Fatal(err)
	}
	s := newState(nil)
	kernel := map[ebpf.IOKey]ebpf.IOVal{}
	var forgotten []ebpf.IOKey
	s.forget = func(keys []ebpf.IOKey) {
		forgotten = append(forgotten, keys...)
		for _, k := range keys {
			delete(kernel, k)
		}
	}

	spool := filepath.Join(t.TempDir(), "job.json") // never created: "deleted"
	key := ebpf.IOKey{Tgid: daemon, Start: 1e9, Dev: 8, Ino: 77}
	s.onFile(&ebpf.File{Reason: ebpf.ReasonOpen, TGID: daemon, Start: 1e9, Mode: sIFREG, Dev: kernelDev(8), Ino: 77, Path: spool, Key: key})
	kernel[key] = ebpf.IOVal{First: 5, OpensW: 1, Writes: 1, Wbytes: 10}
	jobKey := ebpf.IOKey{Tgid: job, Start: 1e9, Dev: 8, Ino: 78}
	s.onFile(&ebpf.File{Reason: ebpf.ReasonOpen, TGID: job, Start: 1e9, Mode: sIFREG, Dev: kernelDev(8), Ino: 78, Path: "/", Key: jobKey})
	kernel[jobKey] = ebpf.IOVal{First: 6, Opens: 1}
	drainTicks(s, w, 1, kernel)
	s.onProc(&ebpf.Proc{Kind: ebpf.ProcExit, TGID: job, Start: 1e9, TS: 2e9})
	if len(s.procs) != 2 || len(s.acc) != 2 {
		t.Fatalf("want 2 processes and 2 accesses, got %d and %d", len(s.procs), len(s.acc))
	}

	drainTicks(s, w, retireIdle+retireEvery, kernel)
	if len(s.acc) != 0 {
		t.Errorf("accesses of an exited process and of a deleted file should be retired: %d left", len(s.acc))
	}
	if len(s.procs) != 1 || s.procs[procKey{daemon, 1e9}] == nil {
		t.Errorf("only the daemon should stay in memory: %d processes", len(s.procs))
	}
	if p := s.process(job, 1e9); p != nil {
		t.Errorf("a retired process came back as %+v", p)
	}
	if len(forgotten) != 2 {
		t.Errorf("want the kernel entries of both retired accesses deleted, got %v", forgotten)
	}
	if len(s.res) != 0 {
		t.Errorf("want no resource left in memory, got %d", len(s.res))
	}

	// The daemon writes the deleted file again through a descriptor it
	// kept: the kernel makes a new entry and describes it again.
	s.onFile(&ebpf.File{Reason: ebpf.ReasonIO, TGID: daemon, Start: 1e9, Mode: sIFREG, Dev: kernelDev(8), Ino: 77, Path: spool, Key: key})
	kernel[key] = ebpf.IOVal{First: 99, Writes: 1, Wbytes: 5}
	drainTicks(s, w, 1, kernel)
	if err := w.Close(trace.Host{}, trace.Meta{}); err != nil {
		t.Fatal(err)
	}
	tr, err := trace.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	var files int
	for _, r := range tr.Resources {
		if r.Path == spool {
			files++
			a := accessesOf(tr, r.ID)
			if len(a) != 1 {
				t.Fatalf("want one access of %s, got %v", spool, a)
			}
			for _, a := range a {
				if a.Writes != 2 || a.WriteBytes != 15 || a.OpensWrite != 1 {
					t.Errorf("want the totals to go on after retirement (2 writes, 15 bytes), got %+v", a)
				}
			}
		}
	}
	if files != 1 {
		t.Errorf("want one resource for %s (same ID after retirement), got %d", spool, files)
	}
	if len(tr.Processes) != 2 {
		t.Errorf("want both processes in the trace, got %d", len(tr.Processes))
	}
}

// TestTombstonesExpire checks that what cannot come back is forgotten
// entirely after tombLife drains.
func TestTombstonesExpire(t *testing.T) {
	const job = 4000003
	fakeProc(t)
	w, err := trace.Create(filepath.Join(t.TempDir(), "r.trace"), trace.Meta{}, trace.Host{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(trace.Host{}, trace.Meta{})
	s := newState(nil)
	key := ebpf.IOKey{Tgid: job, Start: 1e9, Ino: 5}
	kernel := map[ebpf.IOKey]ebpf.IOVal{key: {First: 1, Writes: 1, Wbytes: 3}}
	s.forget = func(keys []ebpf.IOKey) {
		for _, k := range keys {
			delete(kernel, k)
		}
	}
	s.onFile(&ebpf.File{Reason: ebpf.ReasonIO, TGID: job, Start: 1e9, Mode: sIFIFO, Magic: pipefsMagic, Ino: 5, Key: key})
	drainTicks(s, w, retireIdle+retireEvery+tombLife+retireEvery, kernel)
	if len(kernel) != 0 {
		t.Errorf("the kernel entry of the vanished process was not deleted")
	}
	if n := len(s.procs) + len(s.res) + len(s.acc) + len(s.procTomb) + len(s.resTomb) + len(s.accTomb) + len(s.routes); n != 0 {
		t.Errorf("want nothing left of a vanished process and its pipe, got procs %d res %d acc %d tombs %d/%d/%d routes %d",
			len(s.procs), len(s.res), len(s.acc), len(s.procTomb), len(s.resTomb), len(s.accTomb), len(s.routes))
	}
}

func TestParseNetTables(t *testing.T) {
	tcp := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 111 1 0 100 0 0 10 0
   1: 0100007F:1F90 0100007F:D598 01 00000000:00000000 00:00000000 00000000     0        0 112 1 0
   2: 0100007F:1F90 0100007F:D599 06 00000000:00000000 03:0000107F 00000000     0        0 0 3 0
   3: garbage
`
	var got []string
	parseInetTable([]byte(tcp), func(l, r netip.AddrPort, st int, ino uint64) {
		got = append(got, fmt.Sprintf("%v %v %d %d", l, r, st, ino))
	})
	want := []string{"127.0.0.1:8080 0.0.0.0:0 10 111", "127.0.0.1:8080 127.0.0.1:54680 1 112", "127.0.0.1:8080 127.0.0.1:54681 6 0"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("parseInetTable:\n got %v\nwant %v", got, want)
	}
	tcp6 := "  0: 00000000000000000000000001000000:0050 0000000000000000FFFF00000100007F:C350 01 0:0 0:0 0 0 0 7 1\n"
	parseInetTable([]byte(tcp6), func(l, r netip.AddrPort, st int, ino uint64) {
		if l.String() != "[::1]:80" || r.String() != "127.0.0.1:50000" || ino != 7 {
			t.Errorf("tcp6 line: %v %v %d", l, r, ino)
		}
	})
	unix := "Num       RefCount Protocol Flags    Type St Inode Path\n0000000069c05c9c: 00000003 00000000 00000000 0001 03  1590 /run/x.sock\nbad line\n"
	var inos []uint64
	parseUnixTable([]byte(unix), func(ino uint64) { inos = append(inos, ino) })
	if len(inos) != 1 || inos[0] != 1590 {
		t.Errorf("parseUnixTable: %v", inos)
	}
	nt := netTables{tcp: map[string]bool{"listen 127.0.0.1:8080": true, "127.0.0.1:54680->127.0.0.1:8080": true},
		udp: map[string]bool{"0.0.0.0:53": true}, unix: map[uint64]bool{1590: true}}
	for _, c := range []struct {
		kind     string
		listen   bool
		src, dst string
		ino      uint64
		gone     bool
	}{
		{"tcp", true, "", "127.0.0.1:8080", 0, false},
		{"tcp", true, "", "127.0.0.1:9090", 0, true},
		{"tcp", false, "127.0.0.1:54680", "127.0.0.1:8080", 0, false},
		{"tcp", false, "127.0.0.1:54681", "127.0.0.1:8080", 0, true},
		{"udp", false, "127.0.0.1:40000", "127.0.0.1:53", 0, false}, // the server is bound to the wildcard
		{"udp", false, "127.0.0.1:40000", "127.0.0.1:54", 0, true},
		{"unix", false, "", "", 1590, false},
		{"unix", false, "", "", 1591, true},
		{"unix", false, "", "", 0, false}, // cannot tell
	} {
		if got := nt.connGone(c.kind, c.listen, c.src, c.dst, c.ino); got != c.gone {
			t.Errorf("connGone(%+v) = %v", c, got)
		}
	}
}

func FuzzParseNetTables(f *testing.F) {
	f.Add([]byte("  0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 111 1\n"))
	f.Add([]byte("0000000069c05c9c: 00000003 00000000 00000000 0001 03  1590 /x\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		parseInetTable(b, func(netip.AddrPort, netip.AddrPort, int, uint64) {})
		parseUnixTable(b, func(uint64) {})
	})
}
