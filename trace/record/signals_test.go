package record

import (
	"testing"

	"github.com/decompose-dev/decompose/trace"
	"github.com/decompose-dev/decompose/trace/ebpf"
)

// TestSignalCounterIncarnations: kernel totals become row counts by
// difference; an entry evicted and created again (a new First) starts from
// zero; entries of a retired sender are deleted from the kernel map.
func TestSignalCounterIncarnations(t *testing.T) {
	s := newState(nil)
	var forgotten []ebpf.SigKey
	s.forgetSigs = func(k []ebpf.SigKey) { forgotten = append(forgotten, k...) }
	k := ebpf.SigKey{Tgid: 4000001, Start: 11, TargetTgid: 4000002, TargetStart: 12, Signo: 10}
	row := func() *trace.Signal {
		t.Helper()
		if len(s.sigs) != 1 {
			t.Fatalf("want one signal row, got %d", len(s.sigs))
		}
		for _, sg := range s.sigs {
			return sg
		}
		return nil
	}
	s.onSignalCounter(&k, &ebpf.SigVal{First: 100, Count: 3}, 1000)
	s.onSignalCounter(&k, &ebpf.SigVal{First: 100, Count: 5}, 2000)
	if sg := row(); sg.Count != 5 || sg.FirstNS != s.ns(100) || sg.LastNS != s.ns(2000) || sg.Target == 0 || sg.Target == sg.Sender {
		t.Errorf("after two reads: %+v, want count 5 first %d last %d", sg, s.ns(100), s.ns(2000))
	}
	s.onSignalCounter(&k, &ebpf.SigVal{First: 100, Count: 5}, 3000)
	if sg := row(); sg.LastNS != s.ns(2000) {
		t.Errorf("an unchanged total moved last_ns to %d", sg.LastNS)
	}
	s.onSignalCounter(&k, &ebpf.SigVal{First: 2500, Count: 2}, 4000)
	if sg := row(); sg.Count != 7 || s.sigEntries != 2 {
		t.Errorf("after a new incarnation: count %d, entries %d; want 7, 2", sg.Count, s.sigEntries)
	}
	sender := row().Sender
	s.retireSigRoutes(map[trace.ProcessID]bool{sender + 100: true})
	if len(forgotten) != 0 {
		t.Errorf("entries of a live sender forgotten: %+v", forgotten)
	}
	s.retireSigRoutes(map[trace.ProcessID]bool{sender: true})
	if len(forgotten) != 1 || forgotten[0] != k || len(s.sigRoutes) != 0 {
		t.Errorf("retiring the sender forgot %+v, routes left %d; want the one entry", forgotten, len(s.sigRoutes))
	}
}
