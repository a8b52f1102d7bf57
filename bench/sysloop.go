package bench

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// SysCase is one tight syscall loop. Each iteration makes Syscalls
// syscalls, Traced of which have a recorder hook (the others, like close,
// only pay the cost every syscall pays once any syscall tracepoint is on).
type SysCase struct {
	Name     string
	Syscalls int
	Traced   int
	// Div divides the iteration count of slow cases (loopback TCP, a new
	// connection per iteration) so that every case runs for about as long.
	Div   int
	setup func(dir string) (iter func() error, cleanup func(), err error)
}

// SysCases are the loops of bench/syscalls.sh, in the order they run.
var SysCases = []SysCase{
	{Name: "getppid", Syscalls: 1, Traced: 0, setup: setupGetppid},
	{Name: "file", Syscalls: 2, Traced: 2, setup: setupFile},
	{Name: "pipe", Syscalls: 2, Traced: 2, setup: setupPipe},
	{Name: "unix", Syscalls: 2, Traced: 2, setup: setupUnix},
	{Name: "unixmsg", Syscalls: 2, Traced: 2, setup: setupUnixMsg},
	{Name: "tcp", Syscalls: 2, Traced: 2, Div: 10, setup: setupTCP},
	{Name: "connect", Syscalls: 6, Traced: 2, Div: 50, setup: setupConnect},
}

// SysCaseByName finds a case.
func SysCaseByName(name string) (SysCase, bool) {
	for _, c := range SysCases {
		if c.Name == name {
			return c, true
		}
	}
	return SysCase{}, false
}

// SysResult is one timed run of a case.
type SysResult struct {
	Case  SysCase
	Iters int
	// NsPerIter is the CPU time of the looping thread per iteration
	// (CLOCK_THREAD_CPUTIME_ID: user + system time, the BPF programs run
	// at syscall exit included, time other processes took on a busy
	// machine excluded).
	NsPerIter float64
	// WallNsPerIter is the elapsed time per iteration.
	WallNsPerIter float64
}

// String is the raw results line of r (without pair/arm fields).
func (r SysResult) String() string {
	return fmt.Sprintf("case=%s syscalls_per_iter=%d traced_per_iter=%d iters=%d ns_per_iter=%.2f wall_ns_per_iter=%.2f",
		r.Case.Name, r.Case.Syscalls, r.Case.Traced, r.Iters, r.NsPerIter, r.WallNsPerIter)
}

// threadCPU is the CPU time of the calling OS thread.
func threadCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		panic(err) // never fails on Linux for a valid clock id
	}
	return time.Duration(ts.Nano())
}

// RunSysCase runs c for iters iterations (iters/c.Div for slow cases)
// after a warm-up, on one locked OS thread, and returns the time per
// iteration. dir holds the case's scratch file.
func RunSysCase(c SysCase, iters int, dir string) (SysResult, error) {
	if c.Div > 1 {
		iters = max(1, iters/c.Div)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	iter, cleanup, err := c.setup(dir)
	if err != nil {
		return SysResult{}, fmt.Errorf("%s: set up: %w", c.Name, err)
	}
	defer cleanup()
	// Warm up: the first operation on a (process, file) key creates the
	// recorder's counter entry and sends a ring buffer record; the
	// steady state is what a busy server sees.
	for i := 0; i < min(1000, iters); i++ {
		if err := iter(); err != nil {
			return SysResult{}, fmt.Errorf("%s: %w", c.Name, err)
		}
	}
	start, cpu0 := time.Now(), threadCPU()
	for i := 0; i < iters; i++ {
		if err := iter(); err != nil {
			return SysResult{}, fmt.Errorf("%s: %w", c.Name, err)
		}
	}
	cpu, el := threadCPU()-cpu0, time.Since(start)
	return SysResult{Case: c, Iters: iters, NsPerIter: float64(cpu.Nanoseconds()) / float64(iters),
		WallNsPerIter: float64(el.Nanoseconds()) / float64(iters)}, nil
}

func errno(e unix.Errno) error {
	if e != 0 {
		return e
	}
	return nil
}

var buf64 = make([]byte, 64)

func rawRW(trap uintptr, fd int, b []byte) error {
	_, _, e := unix.RawSyscall(trap, uintptr(fd), uintptr(unsafePointer(b)), uintptr(len(b)))
	return errno(e)
}

// rawRW6 is rawRW with three more arguments, all zero: pread64/pwrite64 at
// offset 0, sendto/recvfrom with no flags and no address.
func rawRW6(trap uintptr, fd int, b []byte) error {
	_, _, e := unix.RawSyscall6(trap, uintptr(fd), uintptr(unsafePointer(b)), uintptr(len(b)), 0, 0, 0)
	return errno(e)
}

func setupGetppid(string) (func() error, func(), error) {
	return func() error {
		unix.RawSyscall(unix.SYS_GETPPID, 0, 0, 0)
		return nil
	}, func() {}, nil
}

// setupFile: write 64 bytes at offset 0 of a regular file and read them
// back with pwrite(2) and pread(2), which the same hot path counts as
// write(2) and read(2). (The loop used write, read and two lseeks, whose
// untraced-syscall tax counted against each read/write.)
func setupFile(dir string) (func() error, func(), error) {
	f, err := os.CreateTemp(dir, "sysloop-*.dat")
	if err != nil {
		return nil, nil, err
	}
	fd := int(f.Fd())
	return func() error {
			if err := rawRW6(unix.SYS_PWRITE64, fd, buf64); err != nil {
				return err
			}
			return rawRW6(unix.SYS_PREAD64, fd, buf64)
		}, func() {
			f.Close()
			os.Remove(f.Name())
		}, nil
}

// pairLoop writes 64 bytes into w and reads them from r.
func pairLoop(w, r int, closeAll func()) (func() error, func(), error) {
	return func() error {
		if err := rawRW(unix.SYS_WRITE, w, buf64); err != nil {
			return err
		}
		return rawRW(unix.SYS_READ, r, buf64)
	}, closeAll, nil
}

func setupPipe(string) (func() error, func(), error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return nil, nil, err
	}
	return pairLoop(p[1], p[0], func() { unix.Close(p[0]); unix.Close(p[1]) })
}

func setupUnix(string) (func() error, func(), error) {
	p, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	return pairLoop(p[0], p[1], func() { unix.Close(p[0]); unix.Close(p[1]) })
}

// setupUnixMsg is the unix case with sendto(2) and recvfrom(2) (no
// address), the calls PostgreSQL and its clients make on their sockets.
func setupUnixMsg(string) (func() error, func(), error) {
	p, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	return func() error {
		if err := rawRW6(unix.SYS_SENDTO, p[0], buf64); err != nil {
			return err
		}
		return rawRW6(unix.SYS_RECVFROM, p[1], buf64)
	}, func() { unix.Close(p[0]); unix.Close(p[1]) }, nil
}

// listener opens a TCP listener on a free loopback port.
func listener() (int, *unix.SockaddrInet4, error) {
	l, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, nil, err
	}
	unix.SetsockoptInt(l, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	if err := unix.Bind(l, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		unix.Close(l)
		return -1, nil, err
	}
	if err := unix.Listen(l, 128); err != nil {
		unix.Close(l)
		return -1, nil, err
	}
	sa, err := unix.Getsockname(l)
	if err != nil {
		unix.Close(l)
		return -1, nil, err
	}
	return l, sa.(*unix.SockaddrInet4), nil
}

// dialAccept connects a new socket to the listener l and accepts it. The
// client gets SO_LINGER 0 so that closing it leaves no TIME_WAIT behind.
func dialAccept(l int, sa *unix.SockaddrInet4) (c, s int, err error) {
	c, err = unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, -1, err
	}
	if err := unix.SetsockoptLinger(c, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0}); err != nil {
		unix.Close(c)
		return -1, -1, err
	}
	if err := unix.Connect(c, sa); err != nil {
		unix.Close(c)
		return -1, -1, err
	}
	s, _, err = unix.Accept4(l, unix.SOCK_CLOEXEC)
	if err != nil {
		unix.Close(c)
		return -1, -1, err
	}
	return c, s, nil
}

func setupTCP(string) (func() error, func(), error) {
	l, sa, err := listener()
	if err != nil {
		return nil, nil, err
	}
	c, s, err := dialAccept(l, sa)
	if err != nil {
		unix.Close(l)
		return nil, nil, err
	}
	unix.SetsockoptInt(c, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	return pairLoop(c, s, func() { unix.Close(c); unix.Close(s); unix.Close(l) })
}

// setupConnect: socket, connect, accept4 and two closes per iteration
// (plus a setsockopt): a new connection each time, as a server without
// keep-alive sees.
func setupConnect(string) (func() error, func(), error) {
	l, sa, err := listener()
	if err != nil {
		return nil, nil, err
	}
	return func() error {
		c, s, err := dialAccept(l, sa)
		if err != nil {
			return err
		}
		unix.Close(s)
		unix.Close(c)
		return nil
	}, func() { unix.Close(l) }, nil
}

// Clean says how RunSysLoops keeps other recorders out of a run.
type Clean struct {
	// Enabled makes every case wait for (and be repeated after) other
	// decompose recorders on the host.
	Enabled bool
	// Ours is the recorder whose programs are not counted (0: none).
	Ours int
	// Wait bounds the wait for the host to be free of other recorders.
	Wait time.Duration
	// Tries bounds the runs of one case.
	Tries int
}

// WaitClean waits up to d until no recorder but ours has hot-path
// programs loaded, and returns how many it last counted.
func WaitClean(ours int, d time.Duration) (int, error) {
	end := time.Now().Add(d)
	for {
		n, err := ForeignRecorders(ours)
		if err != nil || n == 0 || time.Now().After(end) {
			return n, err
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// RunSysLoops runs every named case once and writes one line per case.
// With clean.Enabled, a case whose run saw another recorder's programs
// (before or after it) is run again, up to clean.Tries times; the line
// says foreign=N, the count of the last try.
func RunSysLoops(w io.Writer, names []string, iters int, dir string, prefix string, clean Clean) error {
	if dir == "" {
		dir = os.TempDir()
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	for _, n := range names {
		c, ok := SysCaseByName(n)
		if !ok {
			return fmt.Errorf("no syscall case %q", n)
		}
		var r SysResult
		foreign := 0
		for try := 0; try < max(1, clean.Tries); try++ {
			if clean.Enabled {
				if foreign, err = WaitClean(clean.Ours, clean.Wait); err != nil {
					return err
				}
			}
			if r, err = RunSysCase(c, iters, dir); err != nil {
				return err
			}
			if !clean.Enabled {
				break
			}
			after, err := ForeignRecorders(clean.Ours)
			if err != nil {
				return err
			}
			foreign = max(foreign, after)
			if foreign == 0 {
				break
			}
		}
		line := r.String()
		if clean.Enabled {
			line += fmt.Sprintf(" foreign=%d", foreign)
		}
		if prefix != "" {
			line = prefix + " " + line
		}
		fmt.Fprintln(w, line)
	}
	return nil
}

// PacedWrites writes 64 bytes at offset 0 of path rate times a second (in
// batches every 10 ms) for d, and returns the writes made.
func PacedWrites(path string, rate int, d time.Duration) (int, time.Duration, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|os.O_TRUNC, 0o644)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	fd := f.Fd()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := time.Now()
	n := 0
	for {
		el := time.Since(start)
		if el >= d {
			return n, el, nil
		}
		want := int(el.Seconds()*float64(rate)) + rate/100
		for ; n < want; n++ {
			if _, _, e := unix.RawSyscall6(unix.SYS_PWRITE64, fd, uintptr(unsafePointer(buf64)), 64, 0, 0, 0); e != 0 {
				return n, time.Since(start), e
			}
		}
		time.Sleep(time.Until(start.Add(time.Duration(float64(n) / float64(rate) * float64(time.Second)))))
	}
}
