// Command helper is the other end of the recorder's focused tests: each
// subcommand is one side of one coupling kind.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) < 2 {
		fail(fmt.Errorf("usage: helper MODE ARGS"))
	}
	var err error
	switch a := os.Args[2:]; os.Args[1] {
	case "unix-server":
		err = unixServer(a[0])
	case "unix-client":
		err = unixClient(a[0])
	case "socketpair":
		err = socketpair()
	case "socketpair-child":
		err = socketpairChild()
	case "tcp-server":
		err = tcpServer(a[0], count(a, 1))
	case "tcp-client":
		err = tcpClient(a[0], count(a, 1))
	case "udp-server":
		err = udpServer(a[0])
	case "udp-client":
		err = udpClient(a[0])
	case "shm":
		err = shm(a[0], a[1])
	case "hold":
		err = hold(a[0], a[1], a[2])
	case "maphold":
		err = mapHold(a[0], a[1], a[2], a[3])
	case "pidreuse":
		err = pidReuse(a[0])
	case "write":
		err = os.WriteFile(a[0], []byte(a[1]), 0o644)
	case "unix-hold":
		err = unixHold(a[0])
	case "unix-hold-pair":
		err = unixHoldEnd(os.NewFile(3, "pair"))
	case "unix-hold-client":
		err = unixHoldClient(a[0])
	case "spin":
		err = spin(a[0])
	case "alarms":
		err = alarms(count(a, 0))
	case "gated-write":
		err = gatedWrite(a[0], a[1])
	default:
		err = fmt.Errorf("unknown mode %s", os.Args[1])
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "helper:", err)
	os.Exit(1)
}

// writeReady writes s to path atomically, so a waiting peer sees all of it.
func writeReady(path, s string) error {
	if err := os.WriteFile(path+".tmp", []byte(s), 0o644); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}

func exchange(c net.Conn, send, recv int) error {
	if _, err := c.Write(make([]byte, send)); err != nil {
		return err
	}
	_, err := io.ReadFull(c, make([]byte, recv))
	return err
}

func serve(c net.Conn, recv, send int) error {
	if _, err := io.ReadFull(c, make([]byte, recv)); err != nil {
		return err
	}
	_, err := c.Write(make([]byte, send))
	return err
}

func unixServer(path string) error {
	l, err := net.Listen("unix", path)
	if err != nil {
		return err
	}
	defer l.Close()
	if err := writeReady(path+".ready", "ok"); err != nil {
		return err
	}
	c, err := l.Accept()
	if err != nil {
		return err
	}
	defer c.Close()
	return serve(c, 1000, 500)
}

func unixClient(path string) error {
	c, err := net.Dial("unix", path)
	if err != nil {
		return err
	}
	defer c.Close()
	return exchange(c, 1000, 500)
}

func socketpair() error {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		return err
	}
	child := os.NewFile(uintptr(fds[1]), "child")
	cmd := exec.Command(os.Args[0], "socketpair-child")
	cmd.ExtraFiles = []*os.File{child}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	child.Close()
	c, err := net.FileConn(os.NewFile(uintptr(fds[0]), "parent"))
	if err != nil {
		return err
	}
	if err := exchange(c, 1000, 500); err != nil {
		return err
	}
	c.Close()
	return cmd.Wait()
}

func socketpairChild() error {
	c, err := net.FileConn(os.NewFile(3, "pair"))
	if err != nil {
		return err
	}
	defer c.Close()
	return serve(c, 1000, 500)
}

// count is the optional number argument a[i], 1 when absent.
func count(a []string, i int) int {
	if len(a) <= i {
		return 1
	}
	n, err := strconv.Atoi(a[i])
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// tcpServer serves n connections one after the other, each an exchange of
// 1000 bytes in and 500 out.
func tcpServer(portFile string, n int) error {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer l.Close()
	if err := writeReady(portFile, l.Addr().String()); err != nil {
		return err
	}
	for range n {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		err = serve(c, 1000, 500)
		c.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// tcpClient makes n connections to addr, one after the other (as a proxy
// that connects per request does).
func tcpClient(addr string, n int) error {
	for range n {
		c, err := net.Dial("tcp4", addr)
		if err != nil {
			return err
		}
		err = exchange(c, 1000, 500)
		c.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func udpServer(portFile string) error {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return err
	}
	defer c.Close()
	if err := writeReady(portFile, c.LocalAddr().String()); err != nil {
		return err
	}
	buf := make([]byte, 2000)
	c.SetDeadline(time.Now().Add(10 * time.Second))
	_, from, err := c.ReadFromUDP(buf)
	if err != nil {
		return err
	}
	_, err = c.WriteToUDP(make([]byte, 300), from)
	return err
}

func udpClient(addr string) error {
	to, err := net.ResolveUDPAddr("udp4", addr)
	if err != nil {
		return err
	}
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.WriteToUDP(make([]byte, 700), to); err != nil {
		return err
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	_, _, err = c.ReadFromUDP(make([]byte, 2000))
	return err
}

// shm maps path MAP_SHARED and writes (mode w) or reads (mode r) it.
func shm(mode, path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Truncate(4096); err != nil {
		return err
	}
	m, err := syscall.Mmap(int(f.Fd()), 0, 4096, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return err
	}
	defer syscall.Munmap(m)
	if mode == "w" {
		copy(m, "hello through shared memory")
	}
	return nil
}

// hold opens file for writing and listens on a unix socket, signals
// readiness, then sleeps: a daemon that opened its resources long ago.
func hold(file, sock, seconds string) error {
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	l, err := net.Listen("unix", sock)
	if err != nil {
		return err
	}
	defer l.Close()
	if err := writeReady(sock+".ready", strconv.Itoa(os.Getpid())); err != nil {
		return err
	}
	n, _ := strconv.Atoi(seconds)
	time.Sleep(time.Duration(n) * time.Second)
	return nil
}

// mapHold maps path MAP_SHARED (read-write for mode w, read-only for r) and
// closes the fd, attaches the SysV segment of key (hex; created by mode w,
// attached read-only by r), maps shared anonymous memory, signals readiness
// on ready and sleeps until killed: a daemon whose shared memory was set up
// long before the recording.
func mapHold(mode, path, key, ready string) error {
	flag, prot := os.O_RDONLY, syscall.PROT_READ
	if mode == "w" {
		flag, prot = os.O_RDWR|os.O_CREATE, syscall.PROT_READ|syscall.PROT_WRITE
	}
	f, err := os.OpenFile(path, flag, 0o600)
	if err != nil {
		return err
	}
	if mode == "w" {
		if err := f.Truncate(4096); err != nil {
			return err
		}
	}
	m, err := syscall.Mmap(int(f.Fd()), 0, 4096, prot, syscall.MAP_SHARED)
	if err != nil {
		return err
	}
	f.Close() // the mapping outlives the descriptor
	if mode == "w" {
		copy(m, "hello")
	}
	k, err := strconv.ParseUint(key, 16, 32)
	if err != nil {
		return err
	}
	shmflg, atflg := 0, unix.SHM_RDONLY
	if mode == "w" {
		shmflg, atflg = unix.IPC_CREAT|0o600, 0
	}
	id, err := unix.SysvShmGet(int(k), 4096, shmflg)
	if err != nil {
		return fmt.Errorf("shmget: %w", err)
	}
	if _, err := unix.SysvShmAttach(id, 0, atflg); err != nil {
		return fmt.Errorf("shmat: %w", err)
	}
	if _, err := syscall.Mmap(-1, 0, 4096, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED|syscall.MAP_ANON); err != nil {
		return err
	}
	if err := writeReady(ready, strconv.Itoa(id)); err != nil {
		return err
	}
	time.Sleep(time.Minute)
	return errors.New("not killed within a minute")
}

// pidReuse makes the kernel give the pid of an exited process to a new one:
// child A writes dir/a.txt and exits; then, through ns_last_pid, children
// are started until one, B, gets A's pid, and only B writes dir/b.txt (the
// others exit without writing). It writes "A's pid" to dir/reused.
func pidReuse(dir string) error {
	a := exec.Command(os.Args[0], "write", filepath.Join(dir, "a.txt"), "from a")
	if err := a.Run(); err != nil {
		return err
	}
	pid := a.Process.Pid
	for attempt := 0; attempt < 5000; attempt++ {
		if err := os.WriteFile("/proc/sys/kernel/ns_last_pid", []byte(strconv.Itoa(pid-1)), 0); err != nil {
			return err
		}
		b := exec.Command(os.Args[0], "gated-write", filepath.Join(dir, "b.txt"), "from b")
		gate, err := b.StdinPipe()
		if err != nil {
			return err
		}
		if err := b.Start(); err != nil {
			return err
		}
		if b.Process.Pid == pid {
			io.WriteString(gate, "go\n")
		}
		gate.Close()
		if err := b.Wait(); err != nil {
			return err
		}
		if b.Process.Pid == pid {
			return writeReady(filepath.Join(dir, "reused"), strconv.Itoa(pid))
		}
	}
	return fmt.Errorf("pid %d was not reused in 5000 attempts", pid)
}

// gatedWrite writes content to path only when stdin says "go".
func gatedWrite(path, content string) error {
	line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
	if line != "go\n" {
		return nil
	}
	return os.WriteFile(path, []byte(content), 0o644)
}

// unixHold connects two pairs of processes over unix stream sockets and
// then only holds them: a socketpair whose second end it hands to a forked
// child, and a connection a client makes to the socket it listens on at
// dir/hold.sock. It writes dir/ready once both are connected and sleeps:
// sockets that a recording started later must find already paired.
func unixHold(dir string) error {
	// close-on-exec: only the child given the second end holds it
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	end := os.NewFile(uintptr(fds[1]), "child end")
	pair := exec.Command(os.Args[0], "unix-hold-pair")
	pair.ExtraFiles, pair.Stderr = []*os.File{end}, os.Stderr
	if err := pair.Start(); err != nil {
		return err
	}
	end.Close()
	mine := os.NewFile(uintptr(fds[0]), "parent end")
	defer mine.Close()
	sock := filepath.Join(dir, "hold.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		return err
	}
	defer l.Close()
	client := exec.Command(os.Args[0], "unix-hold-client", sock)
	client.Stderr = os.Stderr
	if err := client.Start(); err != nil {
		return err
	}
	c, err := l.Accept()
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := io.ReadFull(c, make([]byte, 1)); err != nil { // the client is connected
		return err
	}
	if err := writeReady(filepath.Join(dir, "ready"), fmt.Sprintf("%d %d %d", os.Getpid(), pair.Process.Pid, client.Process.Pid)); err != nil {
		return err
	}
	time.Sleep(60 * time.Second)
	return nil
}

// unixHoldEnd holds one end of the socketpair of unixHold.
func unixHoldEnd(f *os.File) error {
	defer f.Close()
	time.Sleep(60 * time.Second)
	return nil
}

// unixHoldClient connects to unixHold's socket, says so with one byte and
// holds the connection.
func unixHoldClient(path string) error {
	c, err := net.Dial("unix", path)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.Write([]byte{1}); err != nil {
		return err
	}
	time.Sleep(60 * time.Second)
	return nil
}

// spin keeps a CPU busy for the duration d: whatever the kernel does on
// that CPU meanwhile (a timer firing) runs in this process's context.
func spin(d string) error {
	dur, err := time.ParseDuration(d)
	if err != nil {
		return err
	}
	for end := time.Now().Add(dur); time.Now().Before(end); {
	}
	return nil
}

// alarms waits for n SIGALRMs of an interval timer (setitimer), which the
// kernel sends: no process sends them.
func alarms(n int) error {
	ch := make(chan os.Signal, n)
	signal.Notify(ch, syscall.SIGALRM)
	every := unix.Timeval{Usec: 50_000}
	if _, err := unix.Setitimer(unix.ItimerReal, unix.Itimerval{Interval: every, Value: every}); err != nil {
		return err
	}
	for range n {
		<-ch
	}
	return nil
}
