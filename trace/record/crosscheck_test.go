package record

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/decompose-dev/decompose/trace"
	"github.com/decompose-dev/decompose/trace/ebpf"
)

// unixFile is the description of a unix socket (inode ino, peer inode
// peer, kernel sock sk paired with peerSk) held by tgid.
func unixFile(tgid uint32, ino, peer, sk, peerSk uint64, path string) *ebpf.File {
	return &ebpf.File{Reason: ebpf.ReasonSnapshot, TGID: tgid, Start: uint64(tgid) * 1e9, Mode: sIFSOCK, Ino: ino, Flags: 2,
		Sock: &ebpf.Sock{Family: afUnix, Type: sockStream, Sk: sk, PeerSk: peerSk, PeerIno: peer, Path: path}}
}

// holders lists the pids of the processes accessing the unix resource
// whose key is k.
func holders(s *state, k string) []int32 {
	x := s.res[k]
	if x == nil {
		return nil
	}
	var out []int32
	for ak := range s.acc {
		if ak.r == x.ID {
			out = append(out, s.procIDs[ak.p].PID)
		}
	}
	if len(out) == 2 && out[0] > out[1] {
		out[0], out[1] = out[1], out[0]
	}
	return out
}

// TestCrossCheckUnix feeds snapshot descriptions of unix sockets to a
// state and checks its verdicts against a kernel table: pairs the BPF side
// paired are confirmed, pairs it left unpaired are completed (the holders
// become coupled), a peer held by no recorded process is outside, and two
// ends in different resources disagree.
func TestCrossCheckUnix(t *testing.T) {
	// Pids far above pid_max: /proc knows none of them.
	const a, b, c, d, e, f, g, h = 1 << 30, 1<<30 + 1, 1<<30 + 2, 1<<30 + 3, 1<<30 + 4, 1<<30 + 5, 1<<30 + 6, 1<<30 + 7
	s := newState(nil)
	s.ownNS = 0
	for _, x := range []*ebpf.File{
		unixFile(a, 101, 102, 0xa0, 0xb0, ""),            // socketpair, paired by the BPF side
		unixFile(b, 102, 101, 0xb0, 0xa0, ""),            //
		unixFile(c, 201, 0, 0xc0, 0, ""),                 // read while unconnected: no resource
		unixFile(d, 202, 0, 0xd0, 0, "/run/x.sock"),      // its peer, bound
		unixFile(e, 301, 0, 0xe0, 0, ""),                 // neither end classified
		unixFile(f, 302, 0, 0xf0, 0, ""),                 //
		unixFile(g, 401, 0, 0x10, 0, "/run/one.sock"),    // ends in two resources
		unixFile(h, 402, 0, 0x20, 0, "/run/two.sock"),    //
		unixFile(a, 501, 0, 0x30, 0x40, "/run/log.sock"), // its peer is out of scope
	} {
		s.onFile(x)
	}
	table := map[uint32]unixDiag{}
	for _, p := range [][2]uint32{{101, 102}, {201, 202}, {301, 302}, {401, 402}, {501, 999}} {
		table[p[0]] = unixDiag{Ino: p[0], Peer: p[1]}
		table[p[1]] = unixDiag{Ino: p[1], Peer: p[0]}
	}
	s.crossCheckUnix(table)
	s.crossCheckUnix(table) // the end-of-recording check changes nothing
	outside, confirmed, completed, disagree := s.unixPairCounts()
	if outside != 1 || confirmed != 1 || completed != 2 || disagree != 1 {
		t.Errorf("outside %d confirmed %d completed %d disagree %d, want 1 1 2 1", outside, confirmed, completed, disagree)
	}
	if got := holders(s, "unix:path:/run/x.sock"); fmt.Sprint(got) != fmt.Sprint([]int32{c, d}) {
		t.Errorf("the unconnected end should join its bound peer's resource: holders %v", got)
	}
	if got := holders(s, "unix:diag:301"); fmt.Sprint(got) != fmt.Sprint([]int32{e, f}) {
		t.Errorf("two unclassified ends should share a new resource: holders %v", got)
	}
	for k, x := range s.acc {
		if s.procIDs[k.p].PID == c && x.OpensWrite != 1 {
			t.Errorf("a completed end should count one open, got %+v", x.Access)
		}
	}
	// A BPF peer that is not the kernel's is a disagreement too.
	s2 := newState(nil)
	s2.ownNS = 0
	s2.onFile(unixFile(a, 101, 777, 0xa0, 0xb0, ""))
	s2.onFile(unixFile(b, 102, 101, 0xb0, 0xa0, ""))
	s2.crossCheckUnix(map[uint32]unixDiag{101: {Ino: 101, Peer: 102}, 102: {Ino: 102, Peer: 101}})
	if _, _, _, n := s2.unixPairCounts(); n != 1 {
		t.Errorf("want the wrong BPF peer counted as a disagreement, got %d", n)
	}
	// Closed sockets are forgotten with their verdicts.
	s.pruneUnix(map[uint64]bool{101: true})
	if len(s.unix.socks) != 1 || len(s.unix.verdicts) != 1 {
		t.Errorf("after pruning: %d sockets, %d verdicts, want 1 and 1", len(s.unix.socks), len(s.unix.verdicts))
	}
}

// TestUnixPeersBeforeRecording connects a socketpair handed to a forked
// child and a client to a listening path socket, all before the recording
// starts: the snapshot must pair both with the right processes, and the
// kernel's sock_diag table must confirm both pairs.
func TestUnixPeersBeforeRecording(t *testing.T) {
	needRecorder(t)
	dir := t.TempDir()
	sh := startGroup(t, fmt.Sprintf("exec %s unix-hold %s", helperBin, dir))
	waitFile(t, filepath.Join(dir, "ready"), 10*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	tr := record(t, ctx, Options{PID: sh.Process.Pid})
	server, pairEnd, client := procByArgs(tr, "unix-hold"), procByArgs(tr, "unix-hold-pair"), procByArgs(tr, "unix-hold-client")
	if server == nil || pairEnd == nil || client == nil {
		t.Fatalf("want the holder, its socketpair child and its client, got %+v", tr.Processes)
	}
	for _, r := range resources(tr, trace.KindUnix, nil) {
		dumpResource(t, tr, r)
	}
	sock := filepath.Join(dir, "hold.sock")
	paths := resources(tr, trace.KindUnix, func(r trace.Resource) bool { return r.Path == sock })
	if len(paths) != 1 {
		t.Fatalf("want one unix resource %s, got %d", sock, len(paths))
	}
	if acc := accessesOf(tr, paths[0].ID); len(acc) != 2 || acc[server.ID].Listens == 0 || acc[client.ID] == (trace.Access{}) {
		t.Errorf("want %s held by the listening server and its client only, got %+v", sock, acc)
	}
	var pairs int
	for _, r := range resources(tr, trace.KindUnix, func(r trace.Resource) bool { return r.Path == "" }) {
		acc := accessesOf(tr, r.ID)
		_, bySrv := acc[server.ID]
		_, byEnd := acc[pairEnd.ID]
		if len(acc) == 2 && bySrv && byEnd {
			pairs++
		}
	}
	if pairs != 1 {
		t.Errorf("want one socketpair resource shared by the holder and its child, got %d", pairs)
	}
	want := map[string]int64{"unix_peers_confirmed": 2, "unix_peers_completed": 0, "unix_peers_disagree": 0}
	for _, c := range tr.Counters {
		if n, ok := want[c.Name]; ok {
			if c.Value != n {
				t.Errorf("counter %s = %d, want %d", c.Name, c.Value, n)
			}
			delete(want, c.Name)
		}
	}
	if len(want) > 0 {
		t.Errorf("counters missing from the trace: %v", want)
	}
	for _, b := range tr.BlindSpots {
		if strings.HasPrefix(b.What, "unix peer") {
			t.Errorf("unexpected blind spot %+v", b)
		}
	}
}
