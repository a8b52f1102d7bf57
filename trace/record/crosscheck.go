package record

import (
	"fmt"
	"math"

	"github.com/decompose-dev/decompose/trace"
	"github.com/decompose-dev/decompose/trace/ebpf"
)

// The BPF side pairs the two ends of a unix socket by the kernel's socket
// pointers, or by the bound name (resource keys of classifyUnix). The
// cross-check asks the kernel, through sock_diag, which socket is at the
// other end of every unix socket a recorded process holds, and compares:
//   - confirmed: both ends are held by recorded processes and the BPF side
//     put them in one resource;
//   - completed: one end (or both) was never put in a resource, e.g. it
//     was unconnected and unnamed when the BPF side described it; the
//     kernel's pairing puts it in the other end's resource (or in a new
//     one), so the holders become coupled;
//   - outside: the other end is held by no recorded process: one out of
//     scope (the system logger of a --pid recording), or a socket the
//     recorder did not see;
//   - disagree: the BPF side put the two ends in different resources, or
//     recorded another peer than the kernel reports. Counted as a blind
//     spot, since then a coupling may be misattributed.
// It runs once the snapshot is taken and again at the end of the
// recording; a pair keeps the most telling verdict of the two.

// Verdicts of one pair, least telling first.
const (
	pairOutside = iota + 1
	pairConfirmed
	pairCompleted
	pairDisagree
)

// maxUnixSocks bounds the index of unix sockets.
const maxUnixSocks = 100000

// unixSock is what the recorder knows of one unix socket.
type unixSock struct {
	res     trace.ResourceID // 0: not put in a resource
	bpfPeer uint64           // the peer's inode as the BPF side read it
	procs   []trace.ProcessID
}

// unixIndex maps socket inodes to what the recorder knows of them; the
// verdicts of the pairs checked are kept beside it.
type unixIndex struct {
	socks    map[uint32]*unixSock
	verdicts map[[2]uint32]int
}

// noteUnixSock indexes the unix socket behind f, held by p and put in x
// (nil when it was not classified as a shared resource).
func (s *state) noteUnixSock(f *ebpf.File, p *proc, x *res) {
	if f == nil || f.Sock == nil || f.Sock.Family != afUnix || f.Ino == 0 || f.Ino > math.MaxUint32 {
		return
	}
	if p.NetNS != 0 && s.ownNS != 0 && p.NetNS != s.ownNS {
		return // sock_diag lists the recorder's network namespace only
	}
	if s.unix.socks == nil {
		s.unix.socks, s.unix.verdicts = map[uint32]*unixSock{}, map[[2]uint32]int{}
	}
	ino := uint32(f.Ino)
	e := s.unix.socks[ino]
	if e == nil {
		if len(s.unix.socks) >= maxUnixSocks {
			s.dropped["unix sockets over the cross-check limit"]++
			return
		}
		e = &unixSock{}
		s.unix.socks[ino] = e
	}
	if x != nil {
		e.res = x.ID
	}
	if f.Sock.PeerIno != 0 {
		e.bpfPeer = f.Sock.PeerIno
	}
	for _, id := range e.procs {
		if id == p.ID {
			return
		}
	}
	if len(e.procs) < 8 {
		e.procs = append(e.procs, p.ID)
	}
}

// pruneUnix forgets sockets that are no longer open (open: the inodes of
// /proc/net/unix) and the verdicts of pairs whose ends are both forgotten.
func (s *state) pruneUnix(open map[uint64]bool) {
	for ino := range s.unix.socks {
		if !open[uint64(ino)] {
			delete(s.unix.socks, ino)
		}
	}
	for k := range s.unix.verdicts {
		if s.unix.socks[k[0]] == nil && s.unix.socks[k[1]] == nil {
			delete(s.unix.verdicts, k)
		}
	}
}

// crossCheckUnix compares the indexed sockets with the kernel's table and
// completes the pairs the BPF side left unpaired.
func (s *state) crossCheckUnix(table map[uint32]unixDiag) {
	for ino, e := range s.unix.socks {
		d, ok := table[ino]
		if !ok || d.Peer == 0 {
			continue // closed, a listener, or unconnected
		}
		k := [2]uint32{min(ino, d.Peer), max(ino, d.Peer)}
		v := s.checkPair(ino, e, d.Peer)
		if v > s.unix.verdicts[k] {
			s.unix.verdicts[k] = v
		}
	}
}

// checkPair gives the verdict on socket ino (e) whose peer the kernel says
// is peer, completing the pair when it can.
func (s *state) checkPair(ino uint32, e *unixSock, peer uint32) int {
	if e.bpfPeer != 0 && e.bpfPeer != uint64(peer) {
		return pairDisagree
	}
	o := s.unix.socks[peer]
	if o == nil {
		return pairOutside
	}
	if o.bpfPeer != 0 && o.bpfPeer != uint64(ino) {
		return pairDisagree
	}
	switch {
	case e.res != 0 && e.res == o.res:
		return pairConfirmed
	case e.res != 0 && o.res != 0:
		return pairDisagree
	}
	x := s.resByID(max(e.res, o.res))
	if x == nil && (e.res != 0 || o.res != 0) {
		return pairOutside // its resource was retired: nothing to complete
	}
	if x == nil {
		// neither end was classified: a pair of unnamed sockets
		lo := min(ino, peer)
		x = s.resource(fmt.Sprintf("unix:diag:%d", lo), trace.Resource{Kind: trace.KindUnix, Ino: uint64(lo)})
		if x == nil {
			return pairOutside
		}
	}
	for _, end := range []*unixSock{e, o} {
		end.res = x.ID
		for _, id := range end.procs {
			p := s.procByID(id)
			if p == nil {
				continue
			}
			if _, held := s.acc[accKey{p.ID, x.ID}]; !held {
				// holding a connected socket: both ends can write
				s.access(p, x, s.ns(bootNow())).OpensWrite++
			}
		}
	}
	return pairCompleted
}

// unixPairCounts counts the verdicts of the pairs checked.
func (s *state) unixPairCounts() (outside, confirmed, completed, disagree int64) {
	for _, v := range s.unix.verdicts {
		switch v {
		case pairOutside:
			outside++
		case pairConfirmed:
			confirmed++
		case pairCompleted:
			completed++
		case pairDisagree:
			disagree++
		}
	}
	return
}
