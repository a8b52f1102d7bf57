package record

import (
	"errors"
	"io/fs"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/decompose-dev/decompose/trace"
	"github.com/decompose-dev/decompose/trace/ebpf"
)

// Retiring keeps the recorder's memory flat on long recordings. Every row
// is written to the trace as a total every second; rows that can no longer
// change are then forgotten:
//   - the accesses of a process that exited, and then the process itself;
//   - the accesses of a file, directory or FIFO whose path no longer leads
//     to its inode (a spool file renamed and deleted), of a TCP connection,
//     UDP socket or unix socket that /proc/net no longer lists (only for
//     processes in the recorder's network namespace), and then the
//     resource;
//   - a resource that no access in memory refers to any more;
//   - the kernel counter entries (and their routes) of retired accesses,
//     which also frees room in the kernel's LRU map.
//
// Nothing is retired before it has been idle for retireIdle drains. What is
// forgotten leaves a small tombstone, so that a resource seen again keeps
// its ID and a late reference to a process finds it; tombstones of things
// that cannot come back (a deleted file, a pipe, a connection) are dropped
// after tombLife drains. A retired access keeps its totals in its tombstone
// for as long as its resource may come back, since the trace holds totals:
// a connection reusing the endpoints of a closed one goes on adding to it.
const (
	retireIdle  = 30 // drains (seconds) without change before a row may be retired
	retireEvery = 10 // drains between two retirement passes
	tombLife    = 60 // drains a tombstone of something that cannot come back is kept
)

// procTomb remembers a retired process.
type procTomb struct {
	id  trace.ProcessID
	gen int
}

// resTomb remembers a retired resource.
type resTomb struct {
	id    trace.ResourceID
	procs int
	gen   int
	// final: the resource cannot be seen again (its inode is gone, or it
	// is a pipe or a connection), so the tombstone may expire.
	final bool
}

// retire runs a retirement pass every retireEvery drains. It must run after
// flush, so that what it forgets is already in the trace.
func (s *state) retire() {
	if s.gen%retireEvery != 0 {
		return
	}
	idle := s.gen - retireIdle
	var net *netTables
	ownNS := selfNetNS()
	gone := map[trace.ResourceID]bool{}
	isGone := func(r *res) bool {
		g, ok := gone[r.ID]
		if !ok {
			switch r.Kind {
			case trace.KindTCP, trace.KindUDP, trace.KindUnix:
				if net == nil {
					t := readNetTables()
					net = &t
				}
				g = net.connGone(string(r.Kind), r.Listen, r.Src, r.Dst, r.Ino)
			default:
				g = pathGone(r)
			}
			gone[r.ID] = g
		}
		return g
	}
	retiredAcc := map[accKey]bool{}
	for k, a := range s.acc {
		if a.touched > idle || s.dirtyAcc[k] {
			continue
		}
		p, r := s.procIDs[k.p], s.resIDs[k.r]
		exited := p == nil || ((p.ExitNS != 0 || p.vanished) && p.exitGen <= idle)
		if !exited {
			if r == nil || (isNet(r) && p.NetNS != 0 && ownNS != 0 && p.NetNS != ownNS) || !isGone(r) {
				continue
			}
		}
		retiredAcc[k] = true
		delete(s.acc, k)
		if p != nil {
			p.live--
		}
		if r != nil {
			r.live--
		}
		if !exited {
			s.accTomb[k] = a.Access
		}
	}
	s.retireProcs(idle)
	if net == nil {
		t := readNetTables()
		net = &t
	}
	s.retireRoutes(retiredAcc, net, ownNS)
	s.pruneUnix(net.unix)
	for k, r := range s.res {
		if r.live > 0 || r.touched > idle {
			continue
		}
		delete(s.res, k)
		delete(s.resIDs, r.ID)
		final := isGone(r)
		switch r.Kind {
		case trace.KindPipe, trace.KindTCP, trace.KindUDP:
			final = !r.Listen
		case trace.KindUnix:
			final = final || r.Path == ""
		}
		s.resTomb[k] = resTomb{id: r.ID, procs: r.procs, gen: s.gen, final: final}
	}
	s.expireTombs()
}

// retireProcs forgets processes that exited before idle and have no
// access left in memory, with the signals they sent.
func (s *state) retireProcs(idle int) {
	retired := map[trace.ProcessID]bool{}
	for k, p := range s.procs {
		if p.ExitNS == 0 && !p.vanished && !alive(k) {
			// its exit record was lost: it is gone all the same
			p.vanished, p.exitGen = true, s.gen
		}
		if (p.ExitNS == 0 && !p.vanished) || p.exitGen > idle || p.live > 0 || p.dirty {
			continue
		}
		delete(s.procs, k)
		delete(s.procIDs, p.ID)
		if s.byPID[k.tgid] == p {
			delete(s.byPID, k.tgid)
		}
		s.procTomb[k] = procTomb{id: p.ID, gen: s.gen}
		retired[p.ID] = true
	}
	for k := range s.sigs {
		if retired[k.sender] && !s.dirtySigs[k] {
			delete(s.sigs, k)
		}
	}
	s.retireSigRoutes(retired)
}

// expireTombs drops tombstones that can no longer be needed: an exited
// process is not referred to long after its exit, and a final resource
// cannot be seen again.
func (s *state) expireTombs() {
	old := s.gen - tombLife
	for k, t := range s.procTomb {
		if t.gen < old {
			delete(s.procTomb, k)
		}
	}
	for k, t := range s.resTomb {
		if t.final && t.gen < old {
			delete(s.resTomb, k)
		}
	}
	// A retired access is needed as long as its resource may come back.
	keep := map[trace.ResourceID]bool{}
	for id := range s.resIDs {
		keep[id] = true
	}
	for _, t := range s.resTomb {
		keep[t.id] = true
	}
	for k := range s.accTomb {
		if !keep[k.r] {
			delete(s.accTomb, k)
		}
	}
	for k, b := range s.byInode {
		if b.gen < s.gen-retireIdle {
			delete(s.byInode, k)
		}
	}
}

func isNet(r *res) bool {
	return r.Kind == trace.KindTCP || r.Kind == trace.KindUDP || r.Kind == trace.KindUnix
}

// retireRoutes forgets the routes of retired accesses, of retired
// processes and of closed sockets idle for retireIdle seconds (one entry
// per connection: a server's accesses to one listening path would
// otherwise gather a route per request), and deletes their kernel counter
// entries: they can only change again if the process reuses a closed
// resource, which then comes back as a new entry with a new description.
func (s *state) retireRoutes(retired map[accKey]bool, net *netTables, ownNS uint64) {
	var keys []ebpf.IOKey
	now := bootNow()
	for k, rt := range s.routes {
		p, live := s.procIDs[rt.acc.p]
		closed := false
		if live && rt.sock && (p.NetNS == 0 || ownNS == 0 || p.NetNS == ownNS) {
			last := max(rt.lastNS, rt.first)
			closed = now-last > uint64(retireIdle)*1e9 && !net.socks[k.Ino]
		}
		if retired[rt.acc] || !live || closed {
			keys = append(keys, k)
			delete(s.routes, k)
		}
	}
	if len(keys) > 0 && s.forget != nil {
		s.forget(keys)
	}
}

// pathGone reports whether a file, directory or FIFO no longer exists at
// its path as the same inode (deleted, or renamed away). It is false for
// other kinds and when it cannot tell.
func pathGone(r *res) bool {
	switch r.Kind {
	case trace.KindFile, trace.KindDir, trace.KindFIFO:
	default:
		return false
	}
	if r.Path == "" || r.Ino == 0 {
		return false
	}
	var st syscall.Stat_t
	if err := syscall.Stat(r.Path, &st); err != nil {
		return err == syscall.ENOENT || err == syscall.ENOTDIR
	}
	return st.Ino != r.Ino || (r.Dev != 0 && uint64(st.Dev) != r.Dev)
}

// alive reports whether process k still runs (or /proc cannot tell).
func alive(k procKey) bool {
	st, err := readStat(k.tgid)
	if err != nil {
		return !errors.Is(err, fs.ErrNotExist)
	}
	return k.start == 0 || sameStart(k.start, st.StartTick)
}

// bootNow is CLOCK_BOOTTIME in nanoseconds, the kernel side's clock.
func bootNow() uint64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts)
	return uint64(ts.Nano())
}
