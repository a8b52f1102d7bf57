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
	for _, h := range tr.Hooks() {
		if h.Err != nil {
			t.Errorf("hook %s refused: %v", h.Name, h.Err)
		}
	}
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
	tr, err := New(Config{NoVoidCast: true})
	if err != nil {
		t.Fatal(err)
	}
	ours := held(t)
	defer waitGone(t, ours)
	defer tr.Close()
	for _, h := range tr.Hooks() {
		if h.Err != nil {
			t.Errorf("hook %s refused: %v", h.Name, h.Err)
		}
	}
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
	tr, err := New(Config{Unrolled: true})
	if err != nil {
		t.Fatal(err)
	}
	ours := held(t)
	defer waitGone(t, ours)
	defer tr.Close()
	if !tr.Unrolled {
		t.Fatal("the unrolled variant was not loaded")
	}
	for _, h := range tr.Hooks() {
		if h.Err != nil {
			t.Errorf("hook %s refused: %v", h.Name, h.Err)
		}
	}
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
// (SelfPID: the Ctrl-C that stops it) is not recorded, while the same
// signal sent by the same shell to another process is.
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
	tr, err := New(Config{SelfPID: self.Process.Pid})
	if err != nil {
		t.Fatal(err)
	}
	ours := held(t)
	defer waitGone(t, ours)
	defer tr.Close()
	done := make(chan map[uint32]int)
	go func() {
		got := map[uint32]int{}
		for {
			ev, err := tr.ReadEvent()
			if err != nil {
				done <- got
				return
			}
			if s, ok := ev.(*Signal); ok && s.Signo == 10 {
				got[s.Target]++
			}
		}
	}()
	kill := fmt.Sprintf("kill -USR1 %d %d", self.Process.Pid, other.Process.Pid)
	if err := exec.Command("/bin/sh", "-c", kill).Run(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	tr.Detach()
	tr.Flush()
	got := <-done
	if got[uint32(other.Process.Pid)] != 1 {
		t.Errorf("SIGUSR1 to another process recorded %d times, want 1", got[uint32(other.Process.Pid)])
	}
	if n := got[uint32(self.Process.Pid)]; n != 0 {
		t.Errorf("SIGUSR1 to the recorder recorded %d times, want 0", n)
	}
}
