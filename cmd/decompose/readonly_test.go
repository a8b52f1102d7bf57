package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/decompose-dev/decompose/trace"
)

// TestRecorderOnlyReads proves the promise the recorder makes to a
// production machine: it never writes to, signals, connects to or attaches
// to the application it records. strace, an observer independent of our
// own tracer, logs every system call of the recorder that could touch
// another process while it records the fixture application (whole host,
// under load), and the test allows only:
//   - signals the recorder sends to itself (the Go runtime preempts its
//     own threads with tgkill(self, tid, SIGURG));
//   - files opened for writing that are the trace (and SQLite's side
//     files next to it);
//   - sockets of the netlink family (the kernel, never a process);
//   - no ptrace, process_vm_writev, pidfd_send_signal, pidfd_getfd or
//     setns at all.
func TestRecorderOnlyReads(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("recording needs root; CI runs as root")
	}
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Fatal("strace is not installed (scripts/test.sh installs it)")
	}
	bin := buildCLI(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	app := startShop(t, ctx)

	dir := t.TempDir()
	out, log := filepath.Join(dir, "app.trace"), filepath.Join(dir, "strace.log")
	cmd := exec.CommandContext(ctx, strace, "-f", "-qq", "-s", "4096", "-o", log,
		"-e", "trace="+strings.Join(touchingCalls, ","),
		bin, "record", "-o", out, "--duration", "12s")
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(90 * time.Second)
	for !strings.Contains(stderr.String(), "recording into ") {
		if time.Now().After(deadline) {
			t.Fatalf("recorder did not start under strace:\n%s", stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Load while recording: the app's sockets, files, FIFOs and signals are
	// all busy, so anything the recorder did to them would show.
	if err := app.Drive(ctx, 40); err != nil {
		t.Fatalf("drive: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("recorder under strace: %v\n%s", err, stderr.String())
	}
	tr, err := trace.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Accesses) == 0 {
		t.Fatal("the recording under strace holds no accesses: it proves nothing")
	}

	calls := readStraceLog(t, log)
	if len(calls) == 0 {
		t.Fatal("strace logged no calls: the filter or the log is broken")
	}
	self := calls[0].pid // strace -f logs the traced command's own pid first
	counted := map[string]int{}
	for _, c := range calls {
		counted[c.name]++
		if why := touchesOthers(c, self, out); why != "" {
			t.Errorf("recorder %s: %s", why, c.line)
		}
	}
	// The test must see the calls it judges, or it proves nothing.
	for _, name := range []string{"openat", "tgkill"} {
		if counted[name] == 0 {
			t.Errorf("strace logged no %s call of the recorder (logged: %v)", name, counted)
		}
	}
	t.Logf("recorder system calls judged: %v", counted)
}

// touchingCalls are the system calls through which one process can change
// or reach another: signals, debugging, memory writes, opening files (for
// writing) and sockets.
var touchingCalls = []string{
	"kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "pidfd_send_signal",
	"pidfd_getfd", "ptrace", "process_vm_writev", "setns",
	"open", "openat", "openat2", "creat", "truncate",
	"socket", "connect", "sendto", "sendmsg",
}

// straceCall is one logged call: the thread id, the call's name, its
// argument text, and the whole line.
type straceCall struct {
	pid        int
	name, args string
	line       string
}

var straceLine = regexp.MustCompile(`^(\d+) +([a-z0-9_]+)\((.*)`)

// readStraceLog parses strace -f -o output. A call split by another
// thread's ("<unfinished ...>" and later "<... resumed>") keeps its
// arguments in the first part, which is the one returned.
func readStraceLog(t *testing.T, path string) []straceCall {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var calls []straceCall
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := straceLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue // resumed halves, exits, signals delivered
		}
		pid, _ := strconv.Atoi(m[1])
		calls = append(calls, straceCall{pid: pid, name: m[2], args: m[3], line: sc.Text()})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return calls
}

// touchesOthers says how c could touch a process other than the recorder
// (self), or "" when it cannot.
func touchesOthers(c straceCall, self int, out string) string {
	first := func() string { a, _, _ := strings.Cut(c.args, ","); return strings.TrimSpace(a) }
	switch c.name {
	case "kill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo":
		if first() != strconv.Itoa(self) {
			return "signals another process"
		}
	case "tkill":
		return "signals a thread by id alone"
	case "pidfd_send_signal", "pidfd_getfd", "ptrace", "process_vm_writev", "setns":
		return "reaches into another process"
	case "socket":
		if !strings.HasPrefix(c.args, "AF_NETLINK,") {
			return "opens a socket that is not netlink"
		}
	case "connect", "sendto", "sendmsg":
		// Only netlink sockets exist (above); their messages go to the kernel.
	case "open", "openat", "openat2", "creat", "truncate":
		if c.name != "truncate" && !strings.Contains(c.args, "O_WRONLY") && !strings.Contains(c.args, "O_RDWR") &&
			!strings.Contains(c.args, "O_CREAT") && !strings.Contains(c.args, "O_TRUNC") && c.name != "creat" {
			return ""
		}
		path := quoted(c.args)
		if path == out || strings.HasPrefix(path, out+"-") {
			return "" // the trace, its -journal and -wal
		}
		return "opens for writing a file that is not its trace"
	}
	return ""
}

// quoted is the first double-quoted string of strace argument text.
func quoted(args string) string {
	_, rest, ok := strings.Cut(args, `"`)
	if !ok {
		return ""
	}
	s, _, _ := strings.Cut(rest, `"`)
	return s
}

// TestTouchesOthersJudge checks the judge of TestRecorderOnlyReads on
// lines of each kind, so that test can fail.
func TestTouchesOthersJudge(t *testing.T) {
	const self, out = 100, "/tmp/x/app.trace"
	cases := []struct {
		line  string
		touch bool
	}{
		{`100 tgkill(100, 104, SIGURG) = 0`, false},
		{`104 tgkill(4242, 4242, SIGTERM) = 0`, true},
		{`100 kill(4242, SIGHUP) = 0`, true},
		{`100 kill(100, SIGTERM) = 0`, false},
		{`100 tkill(4242, SIGKILL) = 0`, true},
		{`100 ptrace(PTRACE_ATTACH, 4242) = 0`, true},
		{`100 process_vm_writev(4242, [], 1, [], 1, 0) = 0`, true},
		{`100 pidfd_send_signal(5, SIGTERM, NULL, 0) = 0`, true},
		{`100 socket(AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, NETLINK_SOCK_DIAG) = 3`, false},
		{`100 socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0) = 3`, true},
		{`100 socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3`, true},
		{`100 openat(AT_FDCWD, "/proc/4242/cmdline", O_RDONLY|O_CLOEXEC) = 3`, false},
		{`100 openat(AT_FDCWD, "/proc/4242/mem", O_RDWR) = 3`, true},
		{`100 openat(AT_FDCWD, "/srv/app/data.db", O_WRONLY|O_APPEND) = 3`, true},
		{`100 openat(AT_FDCWD, "/tmp/x/app.trace", O_RDWR|O_CREAT|O_CLOEXEC, 0644) = 3`, false},
		{`100 openat(AT_FDCWD, "/tmp/x/app.trace-journal", O_RDWR|O_CREAT|O_CLOEXEC, 0644) = 4`, false},
		{`100 creat("/srv/app/pid", 0644) = 3`, true},
		{`100 truncate("/srv/app/log", 0) = 0`, true},
	}
	for _, c := range cases {
		m := straceLine.FindStringSubmatch(c.line)
		if m == nil {
			t.Fatalf("line does not parse: %s", c.line)
		}
		pid, _ := strconv.Atoi(m[1])
		why := touchesOthers(straceCall{pid: pid, name: m[2], args: m[3], line: c.line}, self, out)
		if (why != "") != c.touch {
			t.Errorf("%s: judged %q, want touching=%v", c.line, why, c.touch)
		}
	}
}
