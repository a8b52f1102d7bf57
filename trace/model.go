package trace

import (
	"fmt"
	"net/netip"
	"sort"
)

// ProcessID identifies a process within one trace. It is assigned by the
// writer's caller and is never a kernel pid: pids are reused, IDs are not.
type ProcessID int64

// ResourceID identifies a resource within one trace.
type ResourceID int64

// Trace is the whole content of one trace file, ordered by ID.
type Trace struct {
	Meta       Meta
	Host       Host
	Processes  []Process
	Resources  []Resource
	Accesses   []Access
	Signals    []Signal
	Counters   []Counter
	BlindSpots []BlindSpot
	Users      []User
}

// Meta describes how and by what a trace was produced.
type Meta struct {
	SchemaVersion int
	// Recorder names the producer, e.g. "decompose 0.1.0 (ebpf)" or
	// "synthetic: fixtures/legacyshop/expected.json".
	Recorder string
	// Mode is how the recording chose what to watch: "host", "pid 123",
	// "command", "cgroup /sys/fs/cgroup/...", or "synthetic".
	Mode string
	// Finalized is false when the recorder was killed before it closed the
	// trace: the data is valid up to its last commit.
	Finalized bool
}

// Host is the machine a trace was recorded on. Times are Unix nanoseconds.
type Host struct {
	Hostname string
	Kernel   string
	BootID   string
	IPs      []string
	StartNS  int64
	EndNS    int64
}

// Process is one process (threads are folded into it) seen during recording.
type Process struct {
	ID       ProcessID
	PID      int32
	PPID     int32
	ParentID ProcessID // 0 when the parent was not seen
	StartNS  int64
	ExitNS   int64 // 0 when still running at the end of the recording
	ExitCode int32
	Exe      string
	// Argv has secrets replaced by "<redacted>" before it reaches the trace.
	Argv   []string
	Comm   string
	UID    uint32
	GID    uint32
	Cgroup string
	NetNS  uint64
	// Snapshot is true for processes already running when recording started.
	Snapshot bool
}

// ResourceKind says what sort of object a resource is.
type ResourceKind string

// The resource kinds. A file in /dev/shm is a KindFile; that it is shared
// memory shows in the accesses (SharedMaps).
const (
	KindFile    ResourceKind = "file"
	KindDir     ResourceKind = "dir"
	KindPipe    ResourceKind = "pipe"
	KindFIFO    ResourceKind = "fifo"
	KindUnix    ResourceKind = "unix"
	KindTCP     ResourceKind = "tcp"
	KindUDP     ResourceKind = "udp"
	KindSysVShm ResourceKind = "sysvshm"
)

// Kinds lists every resource kind, in schema order.
var Kinds = []ResourceKind{KindFile, KindDir, KindPipe, KindFIFO, KindUnix, KindTCP, KindUDP, KindSysVShm}

// kindOf is the kind named b, "" if none of Kinds. It returns the string of
// Kinds rather than allocating one per resource read.
func kindOf(b []byte) ResourceKind {
	for _, k := range Kinds {
		if string(b) == string(k) {
			return k
		}
	}
	return ""
}

// Resource is something processes share. Which fields are set depends on
// Kind:
//   - file, dir, fifo: Dev, Ino, Path.
//   - pipe: Ino (pipefs inode; both ends of one pipe share it).
//   - unix: Ino of the listening or first-seen socket, Path (bound name,
//     "@name" for the abstract namespace, "" for socketpairs).
//   - tcp, udp: Src is the client (connecting or sending) endpoint, Dst the
//     server (listening or receiving) endpoint, both "ip:port". For TCP, Src
//     has port 0: one resource holds every connection from that client
//     address to Dst (traces of schema 1 written before this rule name each
//     connection by its ephemeral port; both read the same). A listener has
//     Listen set and an empty Src. The same connections recorded on two
//     hosts have the same Src and Dst, which is how traces are joined.
//   - sysvshm: Key and Ino (shmid).
type Resource struct {
	ID     ResourceID
	Kind   ResourceKind
	Dev    uint64
	Ino    uint64
	Path   string
	Src    string
	Dst    string
	Listen bool
	Key    int64
}

// Client is Src as people read it: the address alone for a TCP aggregate
// of connections ("10.0.0.5", not "10.0.0.5:0").
func (r Resource) Client() string {
	if ap, err := netip.ParseAddrPort(r.Src); err == nil && ap.Port() == 0 {
		return ap.Addr().String()
	}
	return r.Src
}

// Name is a short human-readable name for the resource.
func (r Resource) Name() string {
	switch r.Kind {
	case KindTCP, KindUDP:
		if r.Listen || r.Src == "" {
			return fmt.Sprintf("%s:%s", r.Kind, r.Dst)
		}
		return fmt.Sprintf("%s:%s->%s", r.Kind, r.Client(), r.Dst)
	case KindPipe:
		return fmt.Sprintf("pipe:[%d]", r.Ino)
	case KindSysVShm:
		return fmt.Sprintf("sysvshm:key=%#x", r.Key)
	case KindUnix:
		if r.Path == "" {
			return fmt.Sprintf("unix:[%d]", r.Ino)
		}
	}
	return r.Path
}

// Access aggregates everything one process did to one resource. Counts are
// totals over the recording, not deltas. For a directory, Creates, Removes
// and Renames count entries the process created, removed or renamed inside
// it and Reads counts directory listings.
type Access struct {
	Process    ProcessID
	Resource   ResourceID
	Opens      int64 // opens for reading only
	OpensWrite int64 // opens for writing (O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND)
	Reads      int64
	ReadBytes  int64
	Writes     int64
	WriteBytes int64
	Creates    int64
	Removes    int64
	Renames    int64
	SharedMaps int64 // MAP_SHARED mappings or SysV shmat
	Execs      int64
	Connects   int64
	Accepts    int64
	Listens    int64
	FirstNS    int64
	LastNS     int64
}

// Wrote reports whether the process changed the resource or its entries.
func (a Access) Wrote() bool {
	return a.Writes > 0 || a.WriteBytes > 0 || a.OpensWrite > 0 || a.Creates > 0 || a.Removes > 0 || a.Renames > 0
}

// Signal counts the signals one process sent to another.
type Signal struct {
	Sender    ProcessID
	Target    ProcessID // 0 when the target was not a traced process
	TargetPID int32
	Signo     int32
	Count     int64
	FirstNS   int64
	LastNS    int64
}

// Counter is one of the recorder's own statistics, e.g. events seen.
type Counter struct {
	Name  string
	Value int64
}

// BlindSpot is something the recorder could not see: dropped events, a hook
// that failed to attach, evicted map entries. Count is how many times.
type BlindSpot struct {
	What   string
	Count  int64
	Detail string
}

// User names a uid as the host's passwd database did at recording time, so
// that plans can say "www-data" rather than 33.
type User struct {
	UID  uint32
	Name string
}

// Sort puts every table of t in canonical order, so that two traces with the
// same content compare and encode identically.
func (t *Trace) Sort() {
	sort.Slice(t.Processes, func(i, j int) bool { return t.Processes[i].ID < t.Processes[j].ID })
	sort.Slice(t.Resources, func(i, j int) bool { return t.Resources[i].ID < t.Resources[j].ID })
	sort.Slice(t.Accesses, func(i, j int) bool {
		a, b := t.Accesses[i], t.Accesses[j]
		if a.Process != b.Process {
			return a.Process < b.Process
		}
		return a.Resource < b.Resource
	})
	sort.Slice(t.Signals, func(i, j int) bool {
		a, b := t.Signals[i], t.Signals[j]
		if a.Sender != b.Sender {
			return a.Sender < b.Sender
		}
		if a.TargetPID != b.TargetPID {
			return a.TargetPID < b.TargetPID
		}
		return a.Signo < b.Signo
	})
	sort.Slice(t.Counters, func(i, j int) bool { return t.Counters[i].Name < t.Counters[j].Name })
	sort.Slice(t.BlindSpots, func(i, j int) bool { return t.BlindSpots[i].What < t.BlindSpots[j].What })
	sort.Slice(t.Users, func(i, j int) bool { return t.Users[i].UID < t.Users[j].UID })
}
