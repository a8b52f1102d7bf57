package ebpf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"structs"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/ringbuf"
)

// Event types as sent by the kernel side.
const (
	evExec   = 1
	evFork   = 2
	evExit   = 3
	evFile   = 4
	evPathOp = 5
	// 6 was a signal record: signals are counted in a map (SignalCounters)
	evShmAt = 7
	evTask  = 8
)

// ProcKind says which lineage event a Proc is.
type ProcKind int

const (
	ProcExec ProcKind = iota + 1
	ProcFork
	ProcExit
	ProcSnapshot
)

// Proc is a fork, exec, exit or snapshot record of one process (tgid).
// (TGID, Start) names a process across pid reuse; TS and Start are
// CLOCK_BOOTTIME nanoseconds.
type Proc struct {
	Kind        ProcKind
	TGID        uint32
	Start       uint64
	TS          uint64
	PPID        uint32
	ParentStart uint64
	UID, GID    uint32
	ExitCode    int32 // raw wait status (exit code << 8 | signal)
	CgroupID    uint64
	NetNS       uint64
	Comm        string
	Exe         string   // exec only
	Argv        []string // exec only
	ArgvFull    bool     // false when the kernel side truncated argv
}

// FileReason is why a File record was sent.
type FileReason uint32

const (
	ReasonIO FileReason = iota + 1
	ReasonOpen
	ReasonConnect
	ReasonAccept
	ReasonListen
	ReasonMmap
	ReasonSnapshot
	// ReasonMapped: a MAP_SHARED mapping found by the snapshot; Flags holds
	// MapWritable and MapSysV, FD is -1.
	ReasonMapped
)

// Flags of a ReasonMapped File.
const (
	// MapWritable: the mapping can be written (VM_WRITE).
	MapWritable = 1
	// MapSysV: a SysV shared memory segment; Ino is its shmid and Path
	// "/SYSV<key in hex>".
	MapSysV = 2
	// MapAnon: shared anonymous memory (MAP_SHARED|MAP_ANONYMOUS), which
	// only forked children share; Path means nothing.
	MapAnon = 4
)

// File describes an open file of a process the first time the process is
// seen using it (or at open/connect/accept/listen/mmap, or in the snapshot).
type File struct {
	Reason    FileReason
	TGID      uint32
	Start     uint64
	TS        uint64
	FD        int32
	Dev       uint64 // user-space (stat) encoding
	Mode      uint32
	Ino       uint64
	Gen       uint32
	Flags     uint32 // open(2) flags for ReasonOpen, else f_flags
	ParentIno uint64
	Magic     uint64
	Path      string // absolute, for files, directories and FIFOs
	Sock      *Sock  // for sockets
	// Key is the counter entry this record describes (zero for snapshots).
	Key IOKey
}

// Sock describes the socket behind a File.
type Sock struct {
	Family   uint16 // AF_UNIX, AF_INET, AF_INET6
	Type     uint16 // SOCK_STREAM, SOCK_DGRAM, ...
	State    uint16 // TCP state for inet sockets
	Local    netip.AddrPort
	Remote   netip.AddrPort
	Peer     netip.AddrPort // datagram peer given to sendto/recvfrom
	Sk       uint64         // kernel struct sock (unix pairing)
	PeerSk   uint64
	PeerIno  uint64
	Path     string // unix: bound name ("@name" for abstract)
	PeerPath string // unix: the peer's bound name
	DestPath string // unix datagram: the name given to sendto
}

// PathOpKind is what happened to a directory entry.
type PathOpKind uint32

const (
	OpUnlink PathOpKind = iota + 1
	OpRmdir
	OpMkdir
	OpMknod
	OpRenameFrom
	OpRenameTo
)

// PathOp is an entry created, removed or renamed inside a directory. Path is
// absolute when the kernel side could resolve the base directory.
type PathOp struct {
	Op    PathOpKind
	TGID  uint32
	Start uint64
	TS    uint64
	Path  string
}

// ShmAt is a SysV shared memory attach.
type ShmAt struct {
	TGID  uint32
	Start uint64
	TS    uint64
	ShmID int32
	// ReadOnly is true for an attach with SHM_RDONLY.
	ReadOnly bool
}

// shmRDOnly is SHM_RDONLY from linux/shm.h.
const shmRDOnly = 0o10000

// ReadEvent returns ErrClosed once the tracer is closed, and ErrFlushed once
// the records pending at a Flush have been read.
var (
	ErrClosed  = ringbuf.ErrClosed
	ErrFlushed = ringbuf.ErrFlushed
)

// ErrMalformed wraps the error of a record ReadEvent could not decode; the
// next record can still be read.
var ErrMalformed = errors.New("malformed kernel record")

// ReadEvent blocks for the next record and decodes it into one of *Proc,
// *File, *PathOp or *ShmAt. It must not be called concurrently.
func (t *Tracer) ReadEvent() (any, error) {
	if err := t.rd.ReadInto(&t.rec); err != nil {
		return nil, err
	}
	ev, err := t.dec.decode(t.rec.RawSample)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return ev, nil
}

// Decode parses one kernel record. Records come from the kernel, but are
// treated as untrusted bytes: a short or unknown record is an error.
func Decode(b []byte) (any, error) {
	var d decoder
	return d.decode(b)
}

// decoder parses kernel records into reused buffers: records are copied,
// not decoded field by field through reflection (a file record is 4.9 KiB,
// mostly its path buffer), and nothing but the result is allocated. One
// decoder serves one goroutine.
type decoder struct {
	exec   decomposeExecEv
	file   decomposeFileEv
	pathop decomposePathopEv
}

func (d *decoder) decode(b []byte) (any, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("decode event: short record (%d bytes)", len(b))
	}
	switch typ := binary.LittleEndian.Uint32(b); typ {
	case evExec:
		if err := load(b, &d.exec); err != nil {
			return nil, err
		}
		p := taskToProc((*decomposeTaskEv)(unsafe.Pointer(&d.exec.T)), ProcExec)
		p.Exe = joinPath(d.exec.Path[:], d.exec.PathLen)
		p.Argv, p.ArgvFull = splitArgs(d.exec.Args[:], d.exec.ArgsLen)
		return p, nil
	case evFork, evExit, evTask:
		var e decomposeTaskEv
		if err := load(b, &e); err != nil {
			return nil, err
		}
		kind := map[uint32]ProcKind{evFork: ProcFork, evExit: ProcExit, evTask: ProcSnapshot}[typ]
		return taskToProc(&e, kind), nil
	case evFile:
		if err := load(b, &d.file); err != nil {
			return nil, err
		}
		return fileOf(&d.file), nil
	case evPathOp:
		if err := load(b, &d.pathop); err != nil {
			return nil, err
		}
		return pathOpOf(&d.pathop), nil
	case evShmAt:
		var e decomposeShmatEv
		if err := load(b, &e); err != nil {
			return nil, err
		}
		return &ShmAt{TGID: e.H.Tgid, Start: e.H.Start, TS: e.H.Ts, ShmID: e.Shmid, ReadOnly: e.Shmflg&shmRDOnly != 0}, nil
	default:
		return nil, fmt.Errorf("decode event: unknown type %d", typ)
	}
}

// load copies a record into dst, whose Go layout is the C layout
// (structs.HostLayout, explicit padding: see TestRecordLayouts) on a
// little-endian host (this file is built for bpfel only, like the objects).
func load[T any](b []byte, dst *T) error {
	n := int(unsafe.Sizeof(*dst))
	if len(b) < n {
		return fmt.Errorf("decode event: short record (%d bytes, want %d)", len(b), n)
	}
	copy(unsafe.Slice((*byte)(unsafe.Pointer(dst)), n), b)
	return nil
}

// decomposeTaskEv is the layout of struct task_ev (bpf2go only emits it
// nested inside exec_ev).
type decomposeTaskEv struct {
	_ structs.HostLayout
	H struct {
		_     structs.HostLayout
		Type  uint32
		Tgid  uint32
		Start uint64
		Ts    uint64
	}
	Ppid        uint32
	Uid         uint32
	Gid         uint32
	ExitCode    int32
	ParentStart uint64
	Cgroup      uint64
	Netns       uint64
	Comm        [16]int8
}

func taskToProc(e *decomposeTaskEv, kind ProcKind) *Proc {
	return &Proc{Kind: kind, TGID: e.H.Tgid, Start: e.H.Start, TS: e.H.Ts, PPID: e.Ppid,
		ParentStart: e.ParentStart, UID: e.Uid, GID: e.Gid, ExitCode: e.ExitCode,
		CgroupID: e.Cgroup, NetNS: e.Netns, Comm: cstr(e.Comm[:])}
}

func bytesOf(s []int8) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s))
}

func cstr(s []int8) string {
	b := bytesOf(s)
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// joinPath turns the leaf-first, NUL-separated components written by
// walk_path into an absolute path.
func joinPath(buf []int8, n uint32) string {
	b := bytesOf(buf)
	if int(n) > len(b) {
		n = uint32(len(b))
	}
	parts := strings.Split(strings.TrimRight(string(b[:n]), "\x00"), "\x00")
	var sb strings.Builder
	for i := len(parts) - 1; i >= 0; i-- {
		if parts[i] == "" || parts[i] == "/" {
			continue
		}
		sb.WriteByte('/')
		sb.WriteString(parts[i])
	}
	if sb.Len() == 0 {
		return "/"
	}
	return sb.String()
}

func splitArgs(buf []int8, n uint32) ([]string, bool) {
	b := bytesOf(buf)
	full := int(n) < len(b)
	if int(n) > len(b) {
		n = uint32(len(b))
	}
	s := strings.TrimRight(string(b[:n]), "\x00")
	if s == "" {
		return nil, full
	}
	return strings.Split(s, "\x00"), full
}

// kernelDev converts a kernel dev_t (major<<20|minor) to the stat encoding.
func kernelDev(d uint32) uint64 {
	major, minor := uint64(d>>20), uint64(d&0xfffff)
	return (major&0xfff)<<8 | (major&^0xfff)<<32 | minor&0xff | (minor&^0xff)<<12
}

func sunString(s []int8, n uint16) string {
	b := bytesOf(s)
	if int(n) > len(b) {
		n = uint16(len(b))
	}
	b = b[:n]
	if len(b) == 0 {
		return ""
	}
	if b[0] == 0 {
		return "@" + strings.TrimRight(string(b[1:]), "\x00")
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

func addrPort(fam uint16, a [16]uint8, port uint16) netip.AddrPort {
	switch fam {
	case 2:
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(a[:4])), port)
	case 10:
		return netip.AddrPortFrom(netip.AddrFrom16(a).Unmap(), port)
	}
	return netip.AddrPort{}
}

const sIFMT, sIFSOCK = 0o170000, 0o140000

func fileOf(e *decomposeFileEv) *File {
	f := &File{Reason: FileReason(e.Reason), TGID: e.H.Tgid, Start: e.H.Start, TS: e.H.Ts, FD: e.Fd,
		Dev: kernelDev(e.Dev), Mode: e.Mode, Ino: e.Ino, Gen: e.Gen, Flags: e.Flags,
		ParentIno: e.ParentIno, Magic: e.Magic,
		Key: IOKey{Tgid: e.H.Tgid, Dev: e.Dev, Ino: e.Ino, Start: e.H.Start, Gen: e.Gen,
			Family: e.Kfamily, Port: e.Kport, Addr: e.Kaddr}}
	if e.Kgen == KeyGenTCPAggregate {
		f.Key.Dev, f.Key.Ino, f.Key.Gen = 0, e.Kino, e.Kgen
	}
	if e.Mode&sIFMT != sIFSOCK {
		if e.PathLen > 0 {
			f.Path = joinPath(e.Path[:], e.PathLen)
		}
		return f
	}
	s := &Sock{Family: e.Family, Type: e.Stype, State: e.Sstate, Sk: e.Sk, PeerSk: e.PeerSk, PeerIno: e.PeerIno,
		Local: addrPort(e.Family, e.Laddr, e.Lport), Remote: addrPort(e.Family, e.Raddr, e.Rport),
		Path: sunString(e.Sun[:], e.SunLen), PeerPath: sunString(e.PeerSun[:], e.PeerSunLen)}
	if e.Kfamily == 1 {
		s.DestPath = sunString(e.Ksun[:], e.KsunLen)
	} else if e.Kfamily != 0 {
		s.Peer = addrPort(e.Kfamily, e.Kaddr, e.Kport)
	}
	f.Sock = s
	return f
}

func pathOpOf(e *decomposePathopEv) *PathOp {
	name := cstr(e.Name[:])
	p := &PathOp{Op: PathOpKind(e.Op), TGID: e.H.Tgid, Start: e.H.Start, TS: e.H.Ts, Path: name}
	if !strings.HasPrefix(name, "/") && e.BaseLen > 0 {
		p.Path = strings.TrimSuffix(joinPath(e.Base[:], e.BaseLen), "/") + "/" + name
	}
	return p
}

// Snapshot runs the task, task_file and task_vma iterators: every process
// already running, then every open file, socket and pipe of every process,
// then every shared file mapping (ReasonMapped), the recorder itself
// excluded. Records arrive as *Proc and *File. A failing mapping iterator
// (kernels before 5.12 lack it) does not stop the others: its error is
// returned after every record of the others was delivered.
func (t *Tracer) Snapshot(fn func(any)) error {
	tasks, err := t.runIter("snap_task")
	if err != nil {
		return err
	}
	if err := eachRecord(tasks, int(unsafe.Sizeof(decomposeTaskEv{})), fn); err != nil {
		return err
	}
	files, err := t.runIter("snap_file")
	if err != nil {
		return err
	}
	fileSize := int(unsafe.Sizeof(decomposeFileEv{}))
	if err := eachRecord(files, fileSize, fn); err != nil {
		return err
	}
	maps, err := t.runIter("snap_vma")
	if err != nil {
		return fmt.Errorf("%w: shared memory mapped before the start is not seen", err)
	}
	return eachRecord(maps, fileSize, fn)
}

func eachRecord(b []byte, size int, fn func(any)) error {
	var d decoder
	for len(b) >= size {
		ev, err := d.decode(b[:size])
		if err != nil {
			return fmt.Errorf("snapshot: %w", err)
		}
		fn(ev)
		b = b[size:]
	}
	if len(b) != 0 {
		return fmt.Errorf("snapshot: %d trailing bytes", len(b))
	}
	return nil
}

// IOKey names one (process, inode[, datagram peer]) counter, or one
// (process, TCP client address, server endpoint) counter when Gen is
// KeyGenTCPAggregate.
type IOKey = decomposeIoKey

// KeyGenTCPAggregate marks the counter of every connection of one process
// between one client address and one server endpoint (Family, Port and Addr;
// Ino holds the client address folded to 64 bits, Dev is 0). The record that
// describes it is the socket of the first such connection.
const KeyGenTCPAggregate = 0xfffffffe

// TCPAggregate reports whether k counts a TCP connection aggregate, and
// its server endpoint.
func (k *IOKey) TCPAggregate() (server netip.AddrPort, ok bool) {
	if k.Gen != KeyGenTCPAggregate || k.Dev != 0 {
		return netip.AddrPort{}, false
	}
	return addrPort(k.Family, k.Addr, k.Port), true
}

// IOVal holds the totals of one counter since First (its incarnation).
// FirstWhat holds the kind of the operation that created it (WhatRead or
// WhatWrite for I/O): for a datagram peer, whether this side sent first.
type IOVal = decomposeIoVal

// Bits of IOVal.FirstWhat.
const (
	WhatRead  = 1
	WhatWrite = 2
)

// Counters reads every entry of the counter map (a consistent-enough view:
// entries keep changing while they are read). k and v are only valid
// during the call. Counters must not be called concurrently.
func (t *Tracer) Counters(fn func(k *IOKey, v *IOVal)) error {
	return readAll(t.maps.Maps["io"], &t.keyBuf, &t.valBuf, fn)
}

// readAll reads every entry of hash map m in batches into the reused
// buffers *keys and *vals (allocated on first use: the maps are read every
// second) and calls fn for each.
func readAll[K, V any](m *ebpf.Map, keys *[]K, vals *[]V, fn func(k *K, v *V)) error {
	const chunk = 4096
	if *keys == nil {
		*keys, *vals = make([]K, chunk), make([]V, chunk)
	}
	var cursor ebpf.MapBatchCursor
	for {
		n, err := m.BatchLookup(&cursor, *keys, *vals, nil)
		for i := 0; i < n; i++ {
			fn(&(*keys)[i], &(*vals)[i])
		}
		if errors.Is(err, ebpf.ErrKeyNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read map %s: %w", m, err)
		}
	}
}

// DeleteCounters removes counter entries that will not be read again (of
// processes that exited, of closed files). Entries already gone are
// skipped; n is the number deleted.
func (t *Tracer) DeleteCounters(keys []IOKey) (n int, err error) {
	return deleteAll(t.maps.Maps["io"], keys)
}

// deleteAll deletes keys from m, skipping those already gone.
func deleteAll[K any](m *ebpf.Map, keys []K) (n int, err error) {
	n, err = m.BatchDelete(keys, nil)
	if err == nil {
		return n, nil
	}
	// BatchDelete stops at the first missing key (or is not supported):
	// delete one by one.
	n = 0
	for i := range keys {
		switch err := m.Delete(&keys[i]); {
		case err == nil:
			n++
		case !errors.Is(err, ebpf.ErrKeyNotExist):
			return n, fmt.Errorf("delete from map %s: %w", m, err)
		}
	}
	return n, nil
}

// SigKey names one (sender, target, signal) counter; SigVal holds the
// signals sent since First (its incarnation). Signals sent by the kernel
// (timers, faults, the tty) and SIGCHLD are not counted.
type (
	SigKey = decomposeSigKey
	SigVal = decomposeSigVal
)

// SignalCounters reads every entry of the signal counter map, like
// Counters. Must not be called concurrently.
func (t *Tracer) SignalCounters(fn func(k *SigKey, v *SigVal)) error {
	return readAll(t.maps.Maps["sigs"], &t.sigKeys, &t.sigVals, fn)
}

// DeleteSignalCounters removes signal counter entries that will not change
// again (their sender exited); n is the number deleted.
func (t *Tracer) DeleteSignalCounters(keys []SigKey) (n int, err error) {
	return deleteAll(t.maps.Maps["sigs"], keys)
}

// Stats are the kernel side's own counters, summed over CPUs.
type Stats struct {
	RingDrops   uint64 // ring buffer records lost (reservation failed)
	IONew       uint64 // counter entries created
	IOFull      uint64 // counter entries that could not be created
	Events      uint64 // ring buffer records sent
	IOOps       uint64 // read/write-like operations seen
	SnapDrops   uint64 // snapshot records lost
	TrackedFull uint64 // children that could not be added to the traced set
	SigNew      uint64 // signal counter entries created
}

// Stats reads the kernel side's counters.
func (t *Tracer) Stats() (Stats, error) {
	var s Stats
	m := t.maps.Maps["stats"]
	fields := []*uint64{&s.RingDrops, &s.IONew, &s.IOFull, &s.Events, &s.IOOps, &s.SnapDrops, &s.TrackedFull, &s.SigNew}
	for i, f := range fields {
		var per []uint64
		if err := m.Lookup(uint32(i), &per); err != nil {
			return s, fmt.Errorf("read stats: %w", err)
		}
		for _, v := range per {
			*f += v
		}
	}
	return s, nil
}
