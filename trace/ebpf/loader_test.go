package ebpf

import (
	"os"
	"os/exec"
	"testing"
	"time"
)

func requireRoot(t *testing.T) {
	t.Helper()
	if err := CheckPrivileges(); err != nil {
		t.Skipf("needs privileges: %v", err)
	}
}

func TestLoadAttachClose(t *testing.T) {
	requireRoot(t)
	if left := ourPrograms(t); len(left) > 0 {
		t.Fatalf("programs already loaded before the test: %v", left)
	}
	tr, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range tr.Hooks() {
		if h.Err != nil {
			t.Errorf("hook %s refused: %v", h.Name, h.Err)
		}
	}
	if n := len(ourPrograms(t)); n < 40 {
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
	waitNoPrograms(t)
}
