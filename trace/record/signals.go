package record

import (
	"cmp"
	"slices"

	"github.com/decompose-dev/decompose/trace"
	"github.com/decompose-dev/decompose/trace/ebpf"
)

// Signals are counted by the kernel, one entry per (sender, target,
// signal), and read with the I/O counters every drain: a signal-heavy
// application (PostgreSQL wakes its processes with SIGUSR1 thousands of
// times a second) would otherwise send a ring buffer record per signal.

// sigRoute says which signal row the totals of one kernel entry go to.
type sigRoute struct {
	row    sigKey
	ignore bool   // the sender is out of scope or over the process limit
	first  uint64 // incarnation of the kernel entry
	count  uint64 // its total at the last read
}

// sigEntry is one kernel signal counter read by drainSignals.
type sigEntry struct {
	k ebpf.SigKey
	v ebpf.SigVal
}

// drainSignals reads the kernel's signal counters, oldest entry first so
// that the result does not depend on the map's order.
func (r *session) drainSignals(readAt uint64) {
	all := r.sigBuf[:0]
	if err := r.tr.SignalCounters(func(k *ebpf.SigKey, v *ebpf.SigVal) { all = append(all, sigEntry{*k, *v}) }); err != nil {
		r.st.dropped["signal counter read error"]++
	}
	r.sigBuf = all
	slices.SortFunc(all, func(a, b sigEntry) int {
		return cmp.Or(cmp.Compare(a.v.First, b.v.First), cmp.Compare(a.k.Tgid, b.k.Tgid),
			cmp.Compare(a.k.TargetTgid, b.k.TargetTgid), cmp.Compare(a.k.Signo, b.k.Signo))
	})
	for i := range all {
		r.st.onSignalCounter(&all[i].k, &all[i].v, readAt)
	}
}

// onSignalCounter applies the current total of one kernel signal entry,
// read at readAt (boot time). Like an access's, a signal row's last_ns is
// the first read that shows its final count, at most a drain late.
func (s *state) onSignalCounter(k *ebpf.SigKey, v *ebpf.SigVal, readAt uint64) {
	rt := s.sigRoutes[*k]
	if rt == nil {
		rt = &sigRoute{}
		s.sigRoutes[*k] = rt
		p := s.process(k.Tgid, k.Start)
		if p == nil {
			rt.ignore = true
		} else {
			rt.row = sigKey{p.ID, int32(k.TargetTgid), int32(k.Signo)}
			if _, ok := s.sigs[rt.row]; !ok {
				s.sigs[rt.row] = &trace.Signal{Sender: p.ID, Target: s.signalTarget(k), TargetPID: int32(k.TargetTgid),
					Signo: int32(k.Signo), FirstNS: s.ns(v.First)}
				s.signals++
			}
		}
	}
	if rt.first != v.First {
		s.sigEntries++
		rt.first, rt.count = v.First, 0
	}
	if rt.ignore || v.Count == rt.count {
		return
	}
	sg := s.sigs[rt.row]
	if sg == nil { // its sender was retired: the row is final
		s.dropped["signals from retired processes"] += int64(v.Count - rt.count)
		rt.count = v.Count
		return
	}
	sg.Count += int64(v.Count - rt.count)
	rt.count = v.Count
	if first := s.ns(v.First); first < sg.FirstNS {
		sg.FirstNS = first
	}
	sg.LastNS = s.ns(readAt)
	s.dirtySigs[rt.row] = true
}

// signalTarget is the ID of the process a signal was sent to, or 0 when it
// is not traced.
func (s *state) signalTarget(k *ebpf.SigKey) trace.ProcessID {
	// process finds a known process first, but gives nil for a retired one
	if t, ok := s.procTomb[procKey{k.TargetTgid, k.TargetStart}]; ok {
		return t.id
	}
	if t := s.process(k.TargetTgid, k.TargetStart); t != nil {
		return t.ID
	}
	return 0
}

// retireSigRoutes forgets the kernel signal entries of retired senders:
// a process that exited sends nothing more, so their counts are final.
func (s *state) retireSigRoutes(retired map[trace.ProcessID]bool) {
	var gone []ebpf.SigKey
	for k, rt := range s.sigRoutes {
		if rt.ignore || retired[rt.row.sender] {
			gone = append(gone, k)
			delete(s.sigRoutes, k)
		}
	}
	if len(gone) > 0 && s.forgetSigs != nil {
		s.forgetSigs(gone)
	}
}
