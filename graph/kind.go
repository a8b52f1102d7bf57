package graph

// Kind is the type of a coupling.
type Kind string

// The coupling kinds, as in docs and the --json contract.
const (
	KindFile   Kind = "file"   // a file written by one, read or written by another
	KindConfig Kind = "config" // a file only read, by several
	KindDir    Kind = "dir"    // entries created by one, read/removed by another
	KindPipe   Kind = "pipe"
	KindFIFO   Kind = "fifo"
	KindUnix   Kind = "unix"
	KindTCP    Kind = "tcp"
	KindUDP    Kind = "udp"
	KindShm    Kind = "shm"
	KindSignal Kind = "signal"
)

// Distance is how far apart a coupling lets its two sides live.
type Distance string

// The distance classes of product.md's table, closest first.
const (
	// SameContainer: never split (shared memory, anonymous pipes).
	SameContainer Distance = "container"
	// SamePod: same pod by default; a change allows a split.
	SamePod Distance = "pod"
	// SeparatePods: separate pods, the client reaches the server through a
	// Service (possibly after pointing it away from loopback).
	SeparatePods Distance = "service"
	// AnyDistance: shared read-only configuration, served by a ConfigMap.
	AnyDistance Distance = "config"
)

// mustColocate reports whether the engine merges the two sides into one pod.
func (d Distance) mustColocate() bool { return d == SameContainer || d == SamePod }

// remedies says what change lets a coupling of each kind cross a pod boundary.
var remedies = map[Kind]string{
	KindFile:   "give the file a single writer, or replace it with an API or a queue; until then both sides need one ReadWriteMany volume",
	KindConfig: "ship the file as a ConfigMap mounted in every pod that reads it",
	KindDir:    "replace the shared directory (spool) with a queue or an object store; until then both sides need one ReadWriteMany volume",
	KindPipe:   "an anonymous pipe cannot cross containers: keep the two in one container, or replace the pipe with a socket",
	KindFIFO:   "replace the FIFO with a TCP or unix-socket listener reached through a Service",
	KindUnix:   "listen on TCP instead of the unix socket and reach it through a Service",
	KindTCP:    "point the client at the Service name instead of a loopback or host address",
	KindUDP:    "point the sender at the Service name instead of a loopback or host address",
	KindShm:    "shared memory cannot cross pods: keep both in one container, or replace it with an API",
	KindSignal: "replace the signal with an API call (an HTTP endpoint or a control socket), or keep both in one pod with shareProcessNamespace",
}
