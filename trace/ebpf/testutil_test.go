package ebpf_test

import (
	"os"
	"testing"
	"time"

	. "github.com/decompose-dev/decompose/trace/ebpf"
	"github.com/decompose-dev/decompose/trace/ebpf/ebpftest"
)

// held returns the BPF objects this test process holds.
func held(t *testing.T) ebpftest.Objects {
	t.Helper()
	o, err := ebpftest.Held(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// waitGone fails the test when objects of o remain 10 s after they were
// released (tp_btf programs are freed after an RCU grace period).
func waitGone(t *testing.T, o ebpftest.Objects) {
	t.Helper()
	if left := ebpftest.WaitGone(o, 10*time.Second); left.Len() > 0 {
		t.Errorf("BPF objects left behind: %v", left)
	}
	if orphans, err := ebpftest.WaitNoOrphans(10 * time.Second); err != nil || len(orphans) > 0 {
		t.Errorf("decompose programs held by no process: %v (%v)", orphans, err)
	}
}

// newTracer starts a tracer with cfg; when the test ends it is closed and
// its BPF objects must be gone (waitGone).
func newTracer(t *testing.T, cfg Config) *Tracer {
	t.Helper()
	tr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ours := held(t)
	t.Cleanup(func() { waitGone(t, ours) })
	t.Cleanup(func() { tr.Close() })
	return tr
}

// checkHooks fails the test for every hook the kernel refused.
func checkHooks(t *testing.T, tr *Tracer) {
	t.Helper()
	for _, h := range tr.Hooks() {
		if h.Err != nil {
			t.Errorf("hook %s refused: %v", h.Name, h.Err)
		}
	}
}
