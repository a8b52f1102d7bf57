package ebpf

import (
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/cilium/ebpf"
)

// progIDs lists the BPF program IDs loaded in the system.
func progIDs(t *testing.T) map[ebpf.ProgramID]bool {
	t.Helper()
	ids := map[ebpf.ProgramID]bool{}
	var id ebpf.ProgramID
	for {
		next, err := ebpf.ProgramGetNextID(id)
		if err != nil {
			return ids
		}
		ids[next] = true
		id = next
	}
}

func requireRoot(t *testing.T) {
	t.Helper()
	if err := CheckPrivileges(); err != nil {
		t.Skipf("needs privileges: %v", err)
	}
}

func TestLoadAttachClose(t *testing.T) {
	requireRoot(t)
	before := progIDs(t)
	tr, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range tr.Hooks() {
		if h.Err != nil {
			t.Errorf("hook %s refused: %v", h.Name, h.Err)
		}
	}
	if n := len(progIDs(t)) - len(before); n < 40 {
		t.Errorf("only %d new programs loaded", n)
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
	tr.SetDeadline(time.Now())
	<-done
	var procs, files int
	for _, ev := range got {
		switch e := ev.(type) {
		case *Proc:
			procs++
			if e.Kind == ProcExec {
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
	after := progIDs(t)
	for id := range after {
		if !before[id] {
			t.Errorf("program %d left behind", id)
		}
	}
}
