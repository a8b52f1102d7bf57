package record

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"syscall"

	"github.com/decompose-dev/decompose/trace"
	"github.com/decompose-dev/decompose/trace/ebpf"
	"github.com/decompose-dev/decompose/trace/redact"
)

// Limits that keep user-space memory bounded on a busy host for hours.
const (
	maxProcesses = 200000
	maxResources = 200000
	maxPending   = 100000
	maxListeners = 50000
	// pendingDrains is how many drains a description waits for its entry.
	pendingDrains = 4
)

// procKey names a process across pid reuse.
type procKey struct {
	tgid  uint32
	start uint64
}

type proc struct {
	trace.Process
	dirty   bool
	live    int // accesses of the process held in memory
	exitGen int // drain generation of its exit
	// vanished: no exit record came, but the process is gone
	vanished bool
}

type res struct {
	trace.Resource
	key     string
	procs   int // distinct processes that accessed it
	live    int // accesses of the resource held in memory
	touched int // drain generation of its last change
}

// access is the in-memory totals of one process on one resource.
type access struct {
	trace.Access
	touched int // drain generation of its last change
}

type accKey struct {
	p trace.ProcessID
	r trace.ResourceID
}

type sigKey struct {
	sender trace.ProcessID
	target int32
	signo  int32
}

// route says where the totals of one kernel counter entry go.
type route struct {
	acc   accKey
	dir   *accKey // parent directory, for creates
	first uint64  // incarnation of the entry last applied
	last  ebpf.IOVal
	// lastNS is when last was read (boot time): the latest activity
	// happened between the read before it and then.
	lastNS uint64
	seen   int // drain generation in which the entry was last present
	// ignore: the entry is described but is not a shared resource (an
	// unconnected socket, ...).
	ignore bool
	// sock: the entry counts I/O on a socket (one per connection).
	sock bool
}

// pendingFile is a description waiting for its counter entry.
type pendingFile struct {
	f   *ebpf.File
	gen int // drain generation it arrived in
}

// undescribed is a counter entry read without a description. Its
// description may still be on its way (the kernel sends it after creating
// the entry), so it is counted as lost only after two drains.
type undescribed struct {
	first   uint64 // its incarnation
	since   int    // drain generation it was first read in
	seen    int
	counted bool
}

// state aggregates everything seen into trace rows. It is used by one
// goroutine only.
type state struct {
	boot    int64 // realtime - boottime, ns
	scope   func(tgid uint32, start uint64) bool
	cgroups cgroupPaths

	procs    map[procKey]*proc
	procIDs  map[trace.ProcessID]*proc
	resIDs   map[trace.ResourceID]*res
	byPID    map[uint32]*proc
	nextProc trace.ProcessID

	res     map[string]*res
	nextRes trace.ResourceID

	acc      map[accKey]*access
	dirtyAcc map[accKey]bool
	newRes   []*res

	sigs      map[sigKey]*trace.Signal
	dirtySigs map[sigKey]bool
	sigRoutes map[ebpf.SigKey]*sigRoute

	routes   map[ebpf.IOKey]*route
	pending  map[ebpf.IOKey]pendingFile
	undesc   map[ebpf.IOKey]undescribed
	byInode  map[[2]uint64]inodeKey // (dev, ino) -> resource, for undescribed entries
	lastFrom map[uint32]string      // tgid -> directory of the last rename source

	listeners map[netip.AddrPort]bool

	// What was retired from memory (see retire.go).
	procTomb map[procKey]procTomb
	resTomb  map[string]resTomb
	accTomb  map[accKey]trace.Access
	// forget deletes kernel counter entries that will not be needed.
	forget func([]ebpf.IOKey)
	// forgetSigs deletes kernel signal counter entries that will not change.
	forgetSigs func([]ebpf.SigKey)
	// Totals of what was ever created, retired or not.
	accesses, signals int
	// snapMaps notes, during the snapshot, the (process, resource) pairs
	// whose shared mappings were counted, and whether one was writable.
	snapMaps map[accKey]bool
	anonSeen map[trace.ProcessID]bool
	// anonShared counts processes that held shared anonymous memory at start.
	anonShared int64

	gen          int
	incarnations uint64 // counter entries ever read (with a description)
	sigEntries   uint64 // signal counter entries ever read
	unresolved   uint64 // counter entries ever read without a description
	expired      uint64 // descriptions whose counter entry was never read
	dropped      map[string]int64
	couplings    int

	// users names the uids of the processes written so far.
	users *userNames
	// unix indexes the unix sockets seen, for the sock_diag cross-check
	// (crosscheck.go).
	unix unixIndex
	// ownNS is the recorder's network namespace (0: unknown).
	ownNS uint64
}

func newState(scope func(uint32, uint64) bool) *state {
	return &state{
		boot: bootOffset(), scope: scope,
		procs: map[procKey]*proc{}, procIDs: map[trace.ProcessID]*proc{}, resIDs: map[trace.ResourceID]*res{}, byPID: map[uint32]*proc{},
		res: map[string]*res{}, acc: map[accKey]*access{}, dirtyAcc: map[accKey]bool{},
		sigs: map[sigKey]*trace.Signal{}, dirtySigs: map[sigKey]bool{}, sigRoutes: map[ebpf.SigKey]*sigRoute{},
		routes: map[ebpf.IOKey]*route{}, pending: map[ebpf.IOKey]pendingFile{}, undesc: map[ebpf.IOKey]undescribed{},
		byInode: map[[2]uint64]inodeKey{}, lastFrom: map[uint32]string{},
		listeners: map[netip.AddrPort]bool{}, dropped: map[string]int64{},
		procTomb: map[procKey]procTomb{}, resTomb: map[string]resTomb{}, accTomb: map[accKey]trace.Access{},
		users: newUserNames(passwdPath), ownNS: selfNetNS(),
	}
}

func (s *state) ns(boot uint64) int64 {
	if boot == 0 {
		return 0
	}
	return int64(boot) + s.boot
}

// process returns the process (tgid, start), creating it from /proc (or
// bare) when it was never seen; nil when out of scope or over the limit.
func (s *state) process(tgid uint32, start uint64) *proc {
	k := procKey{tgid, start}
	if p, ok := s.procs[k]; ok {
		return p
	}
	if _, retired := s.procTomb[k]; retired {
		return nil // it exited long ago and its rows are final
	}
	if s.scope != nil && !s.scope(tgid, start) {
		return nil
	}
	if len(s.procs) >= maxProcesses {
		s.dropped["processes over the limit"]++
		return nil
	}
	s.nextProc++
	p := &proc{Process: trace.Process{ID: s.nextProc, PID: int32(tgid), StartNS: s.ns(start)}, dirty: true}
	if st, err := readStat(tgid); err == nil && sameStart(start, st.StartTick) {
		p.PPID = int32(st.PPID)
		p.Comm = st.Comm
		argv, exe := procDetails(tgid)
		p.Argv, p.Exe = redact.Argv(argv), exe
		if b, err := os.ReadFile(fmt.Sprintf("%s/%d/cgroup", procRoot, tgid)); err == nil {
			p.Cgroup = parseCgroup(b)
		}
		if b, err := os.ReadFile(fmt.Sprintf("%s/%d/status", procRoot, tgid)); err == nil {
			p.UID, p.GID, _ = parseStatusIDs(b)
		}
		if parent := s.byPID[st.PPID]; parent != nil {
			p.ParentID = parent.ID
		}
	}
	s.procs[k] = p
	s.procIDs[p.ID] = p
	s.byPID[tgid] = p
	return p
}

func (s *state) onProc(e *ebpf.Proc) {
	switch e.Kind {
	case ebpf.ProcFork:
		parent := s.processIfKnown(e.PPID, e.ParentStart)
		p := s.process(e.TGID, e.Start)
		if p == nil {
			return
		}
		s.fillTask(p, e, parent)
		if parent != nil && p.Exe == "" {
			p.Exe, p.Argv = parent.Exe, parent.Argv
		}
	case ebpf.ProcExec, ebpf.ProcSnapshot:
		p := s.process(e.TGID, e.Start)
		if p == nil {
			return
		}
		s.fillTask(p, e, s.processIfKnown(e.PPID, e.ParentStart))
		if e.Kind == ebpf.ProcSnapshot {
			p.Snapshot = true
			return
		}
		argv := e.Argv
		if !e.ArgvFull {
			if full, _ := procDetails(e.TGID); len(full) > len(argv) {
				argv = full
			}
		}
		p.Argv = redact.Argv(argv)
		if e.Exe != "" {
			p.Exe = e.Exe
		}
	case ebpf.ProcExit:
		p := s.procs[procKey{e.TGID, e.Start}]
		if p == nil {
			return
		}
		p.ExitNS = s.ns(e.TS)
		p.exitGen = s.gen
		status := e.ExitCode
		if sig := status & 0x7f; sig != 0 {
			p.ExitCode = 128 + sig
		} else {
			p.ExitCode = (status >> 8) & 0xff
		}
		p.dirty = true
	}
}

func (s *state) processIfKnown(tgid uint32, start uint64) *proc {
	return s.procs[procKey{tgid, start}]
}

func (s *state) fillTask(p *proc, e *ebpf.Proc, parent *proc) {
	p.PPID = int32(e.PPID)
	if parent != nil {
		p.ParentID = parent.ID
	}
	p.UID, p.GID, p.NetNS = e.UID, e.GID, e.NetNS
	if e.Comm != "" {
		p.Comm = e.Comm
	}
	if cg := s.cgroups.lookup(e.CgroupID); cg != "" {
		p.Cgroup = cg
	}
	if e.Kind == ebpf.ProcSnapshot && p.Exe == "" {
		argv, exe := procDetails(e.TGID)
		p.Argv, p.Exe = redact.Argv(argv), exe
	}
	p.dirty = true
}

// resource returns the resource with key k, creating it with r's fields
// (under its old ID when it was retired from memory).
func (s *state) resource(k string, r trace.Resource) *res {
	if x, ok := s.res[k]; ok {
		if x.Path == "" && r.Path != "" {
			x.Path = r.Path
			s.newRes = append(s.newRes, x)
		}
		if x.Ino == 0 && r.Ino != 0 {
			x.Ino = r.Ino
			s.newRes = append(s.newRes, x)
		}
		x.touched = s.gen
		return x
	}
	if len(s.res) >= maxResources {
		s.dropped["resources over the limit"]++
		return nil
	}
	x := &res{Resource: r, key: k, touched: s.gen}
	if t, ok := s.resTomb[k]; ok {
		x.ID, x.procs = t.id, t.procs
		delete(s.resTomb, k)
	} else {
		s.nextRes++
		x.ID = s.nextRes
	}
	s.res[k] = x
	s.resIDs[x.ID] = x
	s.newRes = append(s.newRes, x)
	return x
}

// known reports whether resource key k was ever created.
func (s *state) known(k string) bool {
	_, live := s.res[k]
	_, retired := s.resTomb[k]
	return live || retired
}

// access returns the totals of p on r, creating them.
func (s *state) access(p *proc, r *res, ts int64) *trace.Access {
	k := accKey{p.ID, r.ID}
	a, ok := s.acc[k]
	if !ok {
		a = &access{Access: trace.Access{Process: p.ID, Resource: r.ID, FirstNS: ts}}
		s.acc[k] = a
		p.live++
		r.live++
		if old, resumed := s.accTomb[k]; resumed {
			// retired too early (a socket reused with the same
			// endpoints, a deleted file still open): go on from its
			// totals, since the trace holds totals, not deltas
			a.Access = old
			delete(s.accTomb, k)
		} else {
			s.accesses++
			r.procs++
			if r.procs == 2 {
				s.couplings++
			}
		}
	}
	if ts > a.LastNS {
		a.LastNS = ts
	}
	a.touched, r.touched = s.gen, s.gen
	s.dirtyAcc[k] = true
	return &a.Access
}

// Socket and file constants.
const (
	sIFMT, sIFREG, sIFDIR, sIFIFO, sIFSOCK = 0o170000, 0o100000, 0o040000, 0o010000, 0o140000
	pipefsMagic                            = 0x50495045
	afUnix, afInet, afInet6                = 1, 2, 10
	sockStream, sockDgram                  = 1, 2
	tcpListen                              = 10
	oAccMode, oCreat, oTrunc, oAppend      = 3, 0o100, 0o1000, 0o2000
)

// classify names the resource a file record is about; ok is false for
// things that are not shared resources (unconnected sockets, ...).
func (s *state) classify(f *ebpf.File, v *ebpf.IOVal) (key string, r trace.Resource, ok bool) {
	switch f.Mode & sIFMT {
	case sIFREG:
		return fmt.Sprintf("file:%d:%d:%d", f.Dev, f.Ino, f.Gen), trace.Resource{Kind: trace.KindFile, Dev: f.Dev, Ino: f.Ino, Path: f.Path}, true
	case sIFDIR:
		return dirKey(f.Dev, f.Ino), trace.Resource{Kind: trace.KindDir, Dev: f.Dev, Ino: f.Ino, Path: f.Path}, true
	case sIFIFO:
		if f.Magic == pipefsMagic {
			return fmt.Sprintf("pipe:%d", f.Ino), trace.Resource{Kind: trace.KindPipe, Ino: f.Ino}, true
		}
		return fmt.Sprintf("fifo:%d:%d", f.Dev, f.Ino), trace.Resource{Kind: trace.KindFIFO, Dev: f.Dev, Ino: f.Ino, Path: f.Path}, true
	case sIFSOCK:
		if f.Sock == nil {
			return "", r, false
		}
		switch f.Sock.Family {
		case afUnix:
			return s.classifyUnix(f)
		case afInet, afInet6:
			return s.classifyInet(f, v)
		}
	}
	return "", r, false
}

func dirKey(dev, ino uint64) string { return fmt.Sprintf("dir:%d:%d", dev, ino) }

func (s *state) classifyUnix(f *ebpf.File) (string, trace.Resource, bool) {
	so := f.Sock
	r := trace.Resource{Kind: trace.KindUnix}
	switch {
	case so.DestPath != "":
		r.Path = so.DestPath
	case so.Path != "":
		r.Path, r.Ino = so.Path, f.Ino
	case so.PeerPath != "":
		r.Path = so.PeerPath
	}
	if r.Path != "" {
		return "unix:path:" + r.Path, r, true
	}
	if so.PeerSk == 0 {
		return "", r, false // unconnected and unnamed: nothing to share yet
	}
	lo, ino := so.Sk, f.Ino
	if so.PeerSk < lo {
		lo, ino = so.PeerSk, so.PeerIno
	}
	r.Ino = ino
	// The kernel address of a freed socket is reused; its inode number
	// is not (soon): together they name one pair.
	return fmt.Sprintf("unix:pair:%x:%d", lo, ino), r, true
}

func (s *state) classifyInet(f *ebpf.File, v *ebpf.IOVal) (string, trace.Resource, bool) {
	so := f.Sock
	kind := trace.KindTCP
	if so.Type == sockDgram {
		kind = trace.KindUDP
	}
	local := so.Local
	if kind == trace.KindTCP && (so.State == tcpListen || f.Reason == ebpf.ReasonListen) {
		s.noteListener(local)
		return fmt.Sprintf("%s:listen:%s", kind, local), trace.Resource{Kind: kind, Dst: local.String(), Listen: true}, true
	}
	remote := so.Remote
	if so.Peer.IsValid() {
		remote = so.Peer
	}
	if !remote.IsValid() || remote.Port() == 0 {
		if kind == trace.KindUDP && local.Port() != 0 {
			s.noteListener(local)
		}
		return "", trace.Resource{}, false
	}
	if !local.Addr().IsValid() || local.Addr().IsUnspecified() {
		if remote.Addr().IsLoopback() {
			local = netip.AddrPortFrom(remote.Addr(), local.Port())
		}
	}
	var client, server netip.AddrPort
	agg, isAgg := f.Key.TCPAggregate()
	switch {
	case isAgg && kind == trace.KindTCP && remote == agg:
		client, server = local, remote // the kernel found our peer's end serving
	case isAgg && kind == trace.KindTCP:
		client, server = remote, local
	case f.Reason == ebpf.ReasonAccept:
		client, server = remote, local
	case f.Reason == ebpf.ReasonConnect:
		client, server = local, remote
	case kind == trace.KindUDP && so.Peer.IsValid() && v != nil && v.FirstWhat&ebpf.WhatRead != 0:
		client, server = remote, local // a receiver: the peer sent to us first
	case kind == trace.KindUDP && so.Peer.IsValid() && v != nil && v.FirstWhat&ebpf.WhatWrite != 0:
		client, server = local, remote // a sender: we sent to the peer first
	case s.isListener(local):
		client, server = remote, local
	case s.isListener(remote):
		client, server = local, remote
	case ephemeral(local.Port()) && !ephemeral(remote.Port()):
		client, server = local, remote
	case ephemeral(remote.Port()) && !ephemeral(local.Port()):
		client, server = remote, local
	case local.Port() > remote.Port():
		client, server = local, remote
	default:
		client, server = remote, local
	}
	if kind == trace.KindTCP {
		// Every connection from one client address to one server endpoint
		// is one resource: a client that connects per request would
		// otherwise make a resource per ephemeral port. The kernel counts
		// them under one key already (ebpf.KeyGenTCPAggregate).
		client = anyPort(client)
	}
	if kind == trace.KindUDP {
		// both directions of one exchange are one resource
		if s.known(fmt.Sprintf("%s:%s->%s", kind, server, client)) {
			client, server = server, client
		}
	}
	return fmt.Sprintf("%s:%s->%s", kind, client, server), trace.Resource{Kind: kind, Src: client.String(), Dst: server.String()}, true
}

// noteListener remembers a listening (or receiving) endpoint; the set is
// only a hint for telling clients from servers, so it is simply cleared
// when it grows too large.
func (s *state) noteListener(ap netip.AddrPort) {
	if len(s.listeners) >= maxListeners {
		clear(s.listeners)
	}
	s.listeners[ap] = true
}

func (s *state) isListener(ap netip.AddrPort) bool {
	if s.listeners[ap] {
		return true
	}
	for _, any := range []netip.Addr{netip.IPv4Unspecified(), netip.IPv6Unspecified()} {
		if s.listeners[netip.AddrPortFrom(any, ap.Port())] {
			return true
		}
	}
	return false
}

// ephemeral reports whether port is in Linux's default local port range.
func ephemeral(port uint16) bool { return port >= 32768 && port <= 60999 }

// onFile records the description of a counter entry (or a snapshot file).
func (s *state) onFile(f *ebpf.File) {
	if f.Reason == ebpf.ReasonSnapshot || f.Reason == ebpf.ReasonMapped {
		s.onSnapshotFile(f)
		return
	}
	if f.Sock != nil && f.Sock.State == tcpListen {
		s.noteListener(f.Sock.Local)
	}
	if _, ok := s.routes[f.Key]; ok {
		return
	}
	if len(s.pending) >= maxPending {
		s.dropped["descriptions over the limit"]++
		return
	}
	s.pending[f.Key] = pendingFile{f, s.gen}
}

func (s *state) onSnapshotFile(f *ebpf.File) {
	if f.Reason == ebpf.ReasonMapped {
		s.onSnapshotMap(f)
		return
	}
	if f.Sock != nil && f.Sock.State == tcpListen {
		s.noteListener(f.Sock.Local)
	}
	p := s.process(f.TGID, f.Start)
	if p == nil {
		return
	}
	key, r, ok := s.classify(f, nil)
	if !ok {
		s.noteUnixSock(f, p, nil)
		return
	}
	x := s.resource(key, r)
	if x == nil {
		return
	}
	s.noteUnixSock(f, p, x)
	s.noteInode(f.Dev, f.Ino, key)
	a := s.access(p, x, s.ns(f.TS))
	switch {
	case x.Listen || (f.Sock != nil && f.Sock.State == tcpListen):
		a.Listens++
	case f.Flags&oAccMode != 0 || f.Flags&oAppend != 0:
		a.OpensWrite++
	default:
		a.Opens++
	}
}

// onSnapshotMap records a shared mapping that existed when recording
// started: one SharedMaps per process and file however many areas map it,
// and, when one of them is writable, one OpensWrite, since writing through
// the mapping writes the file.
func (s *state) onSnapshotMap(f *ebpf.File) {
	p := s.process(f.TGID, f.Start)
	if p == nil {
		return
	}
	var x *res
	var key string
	if f.Flags&ebpf.MapAnon != 0 {
		if s.anonSeen == nil {
			s.anonSeen = map[trace.ProcessID]bool{}
		}
		if !s.anonSeen[p.ID] {
			s.anonSeen[p.ID] = true
			s.anonShared++
		}
		return
	}
	if f.Flags&ebpf.MapSysV != 0 {
		x = s.sysvShm(int32(f.Ino), sysvKeyFromPath(f.Path))
	} else if k, r, ok := s.classify(f, nil); ok && r.Kind == trace.KindFile {
		key = k
		x = s.resource(key, r)
		if x != nil {
			s.noteInode(f.Dev, f.Ino, key)
		}
	}
	if x == nil {
		return
	}
	a := s.access(p, x, s.ns(f.TS))
	k := accKey{p.ID, x.ID}
	wrote, seen := s.snapMaps[k]
	if !seen {
		a.SharedMaps++
	}
	if f.Flags&ebpf.MapWritable != 0 && !wrote {
		a.OpensWrite++
		wrote = true
	}
	if s.snapMaps == nil {
		s.snapMaps = map[accKey]bool{}
	}
	s.snapMaps[k] = wrote
}

// endSnapshot forgets what only the snapshot needed.
func (s *state) endSnapshot() { s.snapMaps, s.anonSeen = nil, nil }

// sysvShm returns the resource of SysV segment shmid; key < 0 means unknown
// (then /proc/sysvipc/shm is asked).
func (s *state) sysvShm(shmid int32, key int64) *res {
	if key < 0 {
		key, _ = sysvShmKey(shmid)
	}
	return s.resource(fmt.Sprintf("sysvshm:%d", shmid), trace.Resource{Kind: trace.KindSysVShm, Key: key, Ino: uint64(uint32(shmid))})
}

// routeFor resolves where a counter entry goes, from its description or,
// failing that, from another process's description of the same inode.
func (s *state) routeFor(k *ebpf.IOKey, v *ebpf.IOVal) *route {
	p := s.process(k.Tgid, k.Start)
	if p == nil {
		return nil
	}
	f := s.pending[*k].f
	var key string
	var r trace.Resource
	ok := false
	if f != nil {
		key, r, ok = s.classify(f, v)
		if !ok {
			s.noteUnixSock(f, p, nil)
			delete(s.pending, *k)
			return &route{acc: accKey{p: p.ID}, ignore: true, sock: f.Mode&sIFMT == sIFSOCK}
		}
	} else if known, found := s.byInode[[2]uint64{kernelDev(k.Dev), k.Ino}]; found && k.Family == 0 {
		key, ok = known.key, true
	}
	if !ok {
		return nil
	}
	x := s.resource(key, r)
	if x == nil {
		return nil
	}
	s.noteUnixSock(f, p, x)
	if k.Family == 0 {
		s.noteInode(x.Dev, x.Ino, key)
		if f != nil {
			s.noteInode(f.Dev, f.Ino, key)
		}
	}
	rt := &route{acc: accKey{p.ID, x.ID}, sock: isNet(x)}
	if f != nil && f.Mode&sIFMT == sIFREG && f.ParentIno != 0 {
		d := s.resource(dirKey(f.Dev, f.ParentIno), trace.Resource{Kind: trace.KindDir, Dev: f.Dev, Ino: f.ParentIno, Path: filepath.Dir(f.Path)})
		if d != nil {
			rt.dir = &accKey{p.ID, d.ID}
		}
	}
	delete(s.pending, *k)
	return rt
}

// inodeKey is the resource an inode was last seen as.
type inodeKey struct {
	key string
	gen int
}

// noteInode remembers that inode (dev, ino) is resource key, so that a
// counter entry of that inode whose description was lost can still be
// attributed. Entries not refreshed for retireIdle drains are forgotten.
func (s *state) noteInode(dev, ino uint64, key string) {
	s.byInode[[2]uint64{dev, ino}] = inodeKey{key, s.gen}
}

// kernelDev mirrors ebpf's conversion of a kernel dev_t to the stat encoding.
func kernelDev(d uint32) uint64 {
	major, minor := uint64(d>>20), uint64(d&0xfffff)
	return (major&0xfff)<<8 | (major&^0xfff)<<32 | minor&0xff | (minor&^0xff)<<12
}

// unchanged reports whether a counter entry has the totals it had at the
// last drain (or is one whose counts are ignored), and then marks its route
// as seen, which is all onCounter would do with it. Most entries of a busy
// host are idle until they are retired (tens of thousands under the
// fixture's load): drain copies and sorts only the others.
func (s *state) unchanged(k *ebpf.IOKey, v *ebpf.IOVal) bool {
	rt := s.routes[*k]
	if rt == nil || rt.first != v.First || (!rt.ignore && rt.last != *v) {
		return false
	}
	rt.seen = s.gen
	return true
}

// onCounter applies the current totals of one kernel counter entry, read at
// readAt (boot time). The kernel keeps no "last seen" time (a clock read
// costs too much on its hot path): an access is last seen at the first read
// of the map that shows its final totals, at most one drain interval late.
func (s *state) onCounter(k *ebpf.IOKey, v *ebpf.IOVal, readAt uint64) {
	rt := s.routes[*k]
	if rt == nil {
		rt = s.routeFor(k, v)
		if rt == nil {
			u, seen := s.undesc[*k]
			if !seen || u.first != v.First {
				u = undescribed{first: v.First, since: s.gen}
			}
			u.seen = s.gen
			if !u.counted && s.gen-u.since >= 2 {
				s.unresolved++ // once per entry and incarnation
				u.counted = true
			}
			s.undesc[*k] = u
			return
		}
		s.routes[*k] = rt
		delete(s.undesc, *k)
	}
	rt.seen = s.gen
	if rt.first != v.First {
		s.incarnations++
		rt.first, rt.last = v.First, ebpf.IOVal{}
	}
	if rt.ignore {
		return
	}
	var d ebpf.IOVal
	d.Opens, d.OpensW = v.Opens-rt.last.Opens, v.OpensW-rt.last.OpensW
	d.Reads, d.Rbytes = v.Reads-rt.last.Reads, v.Rbytes-rt.last.Rbytes
	d.Writes, d.Wbytes = v.Writes-rt.last.Writes, v.Wbytes-rt.last.Wbytes
	d.Creates, d.Maps = v.Creates-rt.last.Creates, v.Maps-rt.last.Maps
	d.Connects, d.Accepts, d.Listens = v.Connects-rt.last.Connects, v.Accepts-rt.last.Accepts, v.Listens-rt.last.Listens
	if d == (ebpf.IOVal{}) {
		return
	}
	rt.last, rt.lastNS = *v, readAt
	p, r := s.procByID(rt.acc.p), s.resByID(rt.acc.r)
	if p == nil || r == nil {
		s.dropped["activity on retired rows"]++
		return
	}
	a := s.access(p, r, s.ns(readAt))
	if a.FirstNS == 0 || s.ns(v.First) < a.FirstNS {
		a.FirstNS = s.ns(v.First)
	}
	a.Opens += int64(d.Opens)
	a.OpensWrite += int64(d.OpensW)
	a.Reads += int64(d.Reads)
	a.ReadBytes += int64(d.Rbytes)
	a.Writes += int64(d.Writes)
	a.WriteBytes += int64(d.Wbytes)
	a.SharedMaps += int64(d.Maps)
	a.Connects += int64(d.Connects)
	a.Accepts += int64(d.Accepts)
	a.Listens += int64(d.Listens)
	if r.Kind == trace.KindDir {
		a.Creates += int64(d.Creates)
	} else if d.Creates > 0 && rt.dir != nil {
		if dr := s.resByID(rt.dir.r); dr != nil {
			s.access(p, dr, s.ns(readAt)).Creates += int64(d.Creates)
		}
	}
}

// settle ends the recording's accounting after the last drain: nothing
// is in flight any more, so a description still waiting belongs to an
// entry that was evicted, and an entry still undescribed lost its
// description.
func (s *state) settle() {
	for k, u := range s.undesc {
		if !u.counted {
			s.unresolved++
		}
		delete(s.undesc, k)
	}
	s.expired += uint64(len(s.pending))
	clear(s.pending)
}

// inFlight counts counter entries not yet accounted for either way: read
// but not yet described, or described but not yet read.
func (s *state) inFlight() uint64 {
	n := uint64(len(s.pending))
	for _, u := range s.undesc {
		if !u.counted {
			n++
		}
	}
	return n
}

// endDrain forgets routes of entries that left the kernel map, and
// descriptions whose entry was not read in pendingDrains drains: the kernel
// creates the entry before it sends the description, so such an entry was
// evicted before it could be read. (One drain is not enough: reading a hash
// map while it changes may skip an entry.)
func (s *state) endDrain() {
	for k, rt := range s.routes {
		if rt.seen < s.gen-1 {
			delete(s.routes, k)
		}
	}
	for k, u := range s.undesc {
		if u.seen < s.gen-1 {
			delete(s.undesc, k)
			if !u.counted {
				s.unresolved++
			}
		}
	}
	for k, p := range s.pending {
		if p.gen < s.gen-pendingDrains {
			delete(s.pending, k)
			s.expired++
		}
	}
	s.gen++
}

func (s *state) procByID(id trace.ProcessID) *proc { return s.procIDs[id] }

func (s *state) resByID(id trace.ResourceID) *res { return s.resIDs[id] }

func (s *state) onPathOp(e *ebpf.PathOp) {
	p := s.process(e.TGID, e.Start)
	if p == nil || e.Path == "" || e.Path[0] != '/' {
		return
	}
	dir := filepath.Dir(filepath.Clean(e.Path))
	if e.Op == ebpf.OpRenameFrom {
		s.lastFrom[e.TGID] = dir
		if len(s.lastFrom) > 10000 {
			s.lastFrom = map[uint32]string{}
		}
	}
	if e.Op == ebpf.OpRenameTo {
		from, ok := s.lastFrom[e.TGID]
		delete(s.lastFrom, e.TGID)
		if ok && from == dir {
			return // a rename inside one directory counts once
		}
	}
	key, r := "dirpath:"+dir, trace.Resource{Kind: trace.KindDir, Path: dir}
	var st syscall.Stat_t
	if syscall.Stat(dir, &st) == nil {
		key, r.Dev, r.Ino = dirKey(uint64(st.Dev), st.Ino), uint64(st.Dev), st.Ino
	}
	x := s.resource(key, r)
	if x == nil {
		return
	}
	a := s.access(p, x, s.ns(e.TS))
	switch e.Op {
	case ebpf.OpUnlink, ebpf.OpRmdir:
		a.Removes++
	case ebpf.OpMkdir, ebpf.OpMknod:
		a.Creates++
	case ebpf.OpRenameFrom, ebpf.OpRenameTo:
		a.Renames++
	}
}

func (s *state) onShmAt(e *ebpf.ShmAt) {
	p := s.process(e.TGID, e.Start)
	if p == nil {
		return
	}
	x := s.sysvShm(e.ShmID, -1)
	if x == nil {
		return
	}
	a := s.access(p, x, s.ns(e.TS))
	a.SharedMaps++
	if !e.ReadOnly {
		a.OpensWrite++ // a read-write attach: the process can write the segment
	}
}

// flush writes every changed row and forgets the dirty marks.
func (s *state) flush(w *trace.Writer) {
	ids := make([]*proc, 0)
	for _, p := range s.procs {
		if p.dirty {
			ids = append(ids, p)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i].ID < ids[j].ID })
	for _, p := range ids {
		w.PutProcess(p.Process)
		s.users.note(p.UID)
		p.dirty = false
	}
	s.users.flush(w)
	for _, r := range s.newRes {
		w.PutResource(r.Resource)
	}
	s.newRes = s.newRes[:0]
	for k := range s.dirtyAcc {
		w.PutAccess(s.acc[k].Access)
	}
	clear(s.dirtyAcc)
	for k := range s.dirtySigs {
		w.PutSignal(*s.sigs[k])
	}
	clear(s.dirtySigs)
}
