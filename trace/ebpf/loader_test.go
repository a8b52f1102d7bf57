package ebpf_test

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	. "github.com/decompose-dev/decompose/trace/ebpf"
)

func requireRoot(t *testing.T) {
	t.Helper()
	if err := CheckPrivileges(); err != nil {
		t.Skipf("needs privileges: %v", err)
	}
}

func TestLoadAttachClose(t *testing.T) {
	requireRoot(t)
	if o := held(t); o.Len() > 0 {
		t.Fatalf("BPF objects held before the test: %v", o)
	}
	tr, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	ours := held(t)
	checkHooks(t, tr)
	if n := len(ours.Progs); n < 40 {
		t.Errorf("only %d programs loaded", n)
	}
	done := make(chan struct{})
	var got []any
	go func() {
		defer close(done)
		for {
			ev, err := tr.ReadEvent()
			if err != nil {
				return
			}
			got = append(got, ev)
		}
	}()
	cmd := exec.Command("/bin/sh", "-c", "echo hi > "+t.TempDir()+"/x; cat /etc/hostname >/dev/null")
	cmd.Stdout = os.Stdout
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	tr.Detach()
	tr.Flush()
	<-done
	var procs, files int
	for _, ev := range got {
		switch e := ev.(type) {
		case *Proc:
			procs++
			if e.Kind == ProcExec && e.TGID == uint32(cmd.Process.Pid) {
				t.Logf("exec %d %s %q", e.TGID, e.Exe, e.Argv)
			}
		case *File:
			files++
			if e.TGID == uint32(cmd.Process.Pid) {
				t.Logf("file %d %v %s", e.Reason, e.Ino, e.Path)
			}
		}
	}
	if procs == 0 || files == 0 {
		t.Errorf("procs=%d files=%d", procs, files)
	}
	var snaps int
	if err := tr.Snapshot(func(any) { snaps++ }); err != nil {
		t.Fatal(err)
	}
	t.Logf("snapshot records: %d", snaps)
	st, _ := tr.Stats()
	t.Logf("stats %+v", st)
	tr.Close()
	tr.Close()
	waitGone(t, ours)
}

// TestProbeReadVariant loads the fast programs as on kernels whose
// bpf_rdonly_cast cannot cast to void (before 6.15): every hook must still
// load, and reads must still be counted.
func TestProbeReadVariant(t *testing.T) {
	requireRoot(t)
	tr := newTracer(t, Config{NoVoidCast: true})
	checkHooks(t, tr)
	if err := exec.Command("/bin/sh", "-c", "cat /etc/hostname >/dev/null").Run(); err != nil {
		t.Fatal(err)
	}
	st, err := tr.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.IOOps == 0 {
		t.Errorf("no read or write counted: %+v", st)
	}
}

// TestHooksOnly: with HooksOnly every hook is attached, but reads, writes
// and opens are not counted (the floor bench/ measures against).
func TestHooksOnly(t *testing.T) {
	requireRoot(t)
	tr := newTracer(t, Config{HooksOnly: true})
	checkHooks(t, tr)
	cmd := exec.Command("/bin/sh", "-c", "cat /etc/hostname >/dev/null")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	st, err := tr.Stats()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	tr.Counters(func(k *IOKey, _ *IOVal) {
		if k.Tgid == uint32(cmd.Process.Pid) {
			n++
		}
	})
	if st.IOOps != 0 || n != 0 {
		t.Errorf("%d operations and %d counters of the shell counted, want none", st.IOOps, n)
	}
}

// TestUnrolledVariant loads the programs built for kernels without
// bpf_loop, so that they keep loading and resolving paths here too: the
// snapshot must find a file a child holds open, by its full path.
func TestUnrolledVariant(t *testing.T) {
	requireRoot(t)
	probe := t.TempDir() + "/probe"
	child := exec.Command("/bin/sh", "-c", "exec 3>"+probe+"; exec sleep 30")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { child.Process.Kill(); child.Wait() }()
	for i := 0; ; i++ {
		if _, err := os.Stat(probe); err == nil {
			break
		}
		if i > 500 {
			t.Fatal("the child did not open its file")
		}
		time.Sleep(10 * time.Millisecond)
	}
	tr := newTracer(t, Config{Unrolled: true})
	if !tr.Unrolled {
		t.Fatal("the unrolled variant was not loaded")
	}
	checkHooks(t, tr)
	found := false
	if err := tr.Snapshot(func(ev any) {
		if f, ok := ev.(*File); ok && f.TGID == uint32(child.Process.Pid) && f.Path == probe {
			found = true
		}
	}); err != nil {
		t.Fatal(err)
	}
	if !found {
		t.Errorf("the snapshot of the unrolled variant does not show %s open in the child", probe)
	}
}

// TestRecorderSignalsLeftOut checks that a signal sent to the recorder
// (SelfPID: the Ctrl-C that stops it) is not counted, while the same signal
// sent by the same shell to another process is; and that signals are
// counted in the map, not sent one record each through the ring buffer.
func TestRecorderSignalsLeftOut(t *testing.T) {
	requireRoot(t)
	self := exec.Command("sleep", "30")
	other := exec.Command("sleep", "30")
	for _, c := range []*exec.Cmd{self, other} {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { c.Process.Kill(); c.Wait() }()
	}
	tr := newTracer(t, Config{SelfPID: self.Process.Pid})
	before, err := tr.Stats()
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	kill := fmt.Sprintf("for i in $(seq %d); do kill -USR1 %d %d; done", n, self.Process.Pid, other.Process.Pid)
	sh := exec.Command("/bin/sh", "-c", kill)
	if err := sh.Run(); err != nil {
		t.Fatal(err)
	}
	got := map[uint32]uint64{}
	err = tr.SignalCounters(func(k *SigKey, v *SigVal) {
		if k.Tgid == uint32(sh.Process.Pid) && k.Signo == 10 {
			got[k.TargetTgid] += v.Count
			if v.First == 0 || k.Start == 0 || k.TargetStart == 0 {
				t.Errorf("entry %+v %+v lacks a start time", k, v)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if got[uint32(other.Process.Pid)] != n {
		t.Errorf("SIGUSR1 to another process counted %d times, want %d", got[uint32(other.Process.Pid)], n)
	}
	if c := got[uint32(self.Process.Pid)]; c != 0 {
		t.Errorf("SIGUSR1 to the recorder counted %d times, want 0", c)
	}
	after, err := tr.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if d := after.SigNew - before.SigNew; d != 1 {
		t.Errorf("%d signal entries created, want 1 (one sender, one target, one signal)", d)
	}
	// the shell's forks and execs of kill (a builtin in dash: none) make
	// records; the signals must not
	if d := after.Events - before.Events; d >= n {
		t.Errorf("%d ring buffer records during %d signals: signals are still records", d, n)
	}
	k := []SigKey{}
	tr.SignalCounters(func(sk *SigKey, _ *SigVal) { k = append(k, *sk) })
	if del, err := tr.DeleteSignalCounters(k); err != nil || del != len(k) {
		t.Errorf("DeleteSignalCounters = %d, %v; want %d", del, err, len(k))
	}
}
