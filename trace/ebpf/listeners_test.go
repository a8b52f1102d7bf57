package ebpf_test

import (
	"net"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	. "github.com/decompose-dev/decompose/trace/ebpf"
)

// TestListenPorts checks the hot path's answer to "is this port a listener
// in this network namespace?" (listen_ports, then the listeners map): exact
// for listeners given to New or seen by the kernel in one namespace, and
// deferring to the map (LPMany) for a port listened on in two namespaces or
// noted by user space while the programs run.
func TestListenPorts(t *testing.T) {
	requireRoot(t)
	t.Run("fast", func(t *testing.T) { testListenPorts(t, false) })
	// the object for older kernels has no compare-and-swap (5.12): a
	// listen() it sees defers to the map
	t.Run("unrolled", func(t *testing.T) { testListenPorts(t, true) })
}

func testListenPorts(t *testing.T, unrolled bool) {
	ns := netNSOf(t, "/proc/self/ns/net")
	const preexisting = 40001
	// the recorder's own syscalls are not traced: stand in for it with
	// another process, so that this one's listen() calls are
	stand := exec.Command("sleep", "30")
	if err := stand.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stand.Process.Kill(); stand.Wait() }()
	tr := newTracer(t, Config{SelfPID: stand.Process.Pid, Unrolled: unrolled, Listeners: []Listener{{NetNS: ns, Port: preexisting}}})
	port := func(p uint16) uint64 {
		t.Helper()
		v, err := tr.ListenPort(p)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	inMap := tr.InListeners
	if v := port(preexisting); v != uint64(ns) || !inMap(ns, preexisting) {
		t.Errorf("a listener given to New: listen_ports %#x, want the namespace %#x", v, ns)
	}
	if err := tr.NoteListener(ns, preexisting); err != nil || port(preexisting) != uint64(ns) {
		t.Errorf("noting it again: %v, listen_ports %#x, want it unchanged", err, port(preexisting))
	}
	if err := tr.NoteListener(ns, 40002); err != nil || port(40002) != LPMany || !inMap(ns, 40002) {
		t.Errorf("a listener noted while the programs run: %v, listen_ports %#x, want LPMany", err, port(40002))
	}

	// a listen() seen by the kernel, in our namespace
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	p := uint16(l.Addr().(*net.TCPAddr).Port)
	want := uint64(ns)
	if unrolled {
		want = LPMany
	}
	if v := port(p); v != want || !inMap(ns, p) {
		t.Errorf("listen() on %d: listen_ports %#x, want %#x", p, v, want)
	}
	// the same port listened on in a namespace of our own
	other := listenInNewNetNS(t, p)
	if v := port(p); v != LPMany || !inMap(other, p) || !inMap(ns, p) {
		t.Errorf("port %d in two namespaces: listen_ports %#x, want LPMany and both in the map", p, v)
	}
}

// netNSOf is the inode number of a network namespace file.
func netNSOf(t *testing.T, path string) uint32 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return uint32(st.Ino)
}

// listenInNewNetNS listens on port in a new network namespace (on a thread
// of its own, which is never given back to the runtime) and returns the
// namespace's inode number.
func listenInNewNetNS(t *testing.T, port uint16) uint32 {
	t.Helper()
	type result struct {
		ns  uint32
		err error
	}
	done := make(chan result)
	var run func()
	run = func() {
		runtime.LockOSThread() // not unlocked: the thread dies with its namespace
		if unix.Gettid() == unix.Getpid() {
			// The process's main thread cannot die: it would stay in the
			// namespace, and /proc/self/ns/net would name that one from
			// then on. Hold it until another thread has done the work.
			defer runtime.UnlockOSThread()
			ch := make(chan struct{})
			go func() { run(); close(ch) }()
			<-ch
			return
		}
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			done <- result{err: err}
			return
		}
		var st syscall.Stat_t
		if err := syscall.Stat("/proc/thread-self/ns/net", &st); err != nil {
			done <- result{err: err}
			return
		}
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
		if err != nil {
			done <- result{err: err}
			return
		}
		defer unix.Close(fd)
		// INADDR_ANY: the new namespace's loopback is down
		if err := unix.Bind(fd, &unix.SockaddrInet4{Port: int(port)}); err != nil {
			done <- result{err: os.NewSyscallError("bind", err)}
			return
		}
		done <- result{uint32(st.Ino), os.NewSyscallError("listen", unix.Listen(fd, 1))}
	}
	go run()
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.ns
}
