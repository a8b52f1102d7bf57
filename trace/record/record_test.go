package record

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/decompose-dev/decompose/trace"
	bpf "github.com/decompose-dev/decompose/trace/ebpf"
	"github.com/decompose-dev/decompose/trace/ebpf/ebpftest"
)

// helperBin is testdata/helper, built once by TestMain.
var helperBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "decompose-record-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	helperBin = filepath.Join(dir, "helper")
	out, err := exec.Command("go", "build", "-o", helperBin, "./testdata/helper").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build helper: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// needRecorder skips only when the process really cannot load BPF.
func needRecorder(t *testing.T) {
	t.Helper()
	if err := bpf.CheckPrivileges(); err != nil {
		t.Skipf("recording needs privileges: %v", err)
	}
	if err := bpf.CheckBTF(); err != nil {
		t.Skipf("kernel lacks BTF: %v", err)
	}
}

// record runs a recording with opts (Output is set here), reads the trace
// back, and checks that nothing is left behind.
func record(t *testing.T, ctx context.Context, opts Options) *trace.Trace {
	t.Helper()
	needRecorder(t)
	opts.Output = filepath.Join(t.TempDir(), "t.trace")
	var progress strings.Builder
	opts.Progress = &progress
	objs := watchObjects(t, &opts)
	start := time.Now()
	sum, err := Run(ctx, opts)
	if err != nil {
		t.Fatalf("record: %v", err)
	}
	t.Logf("recorded in %v: %+v", time.Since(start).Round(time.Millisecond), sum)
	tr, err := trace.Open(opts.Output)
	if err != nil {
		t.Fatalf("open trace: %v", err)
	}
	if !tr.Meta.Finalized {
		t.Errorf("trace not finalized")
	}
	checkClean(t, objs)
	return tr
}

// runCommand records sh -c script in command mode.
func runCommand(t *testing.T, script string) *trace.Trace {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var stderr strings.Builder
	tr := record(t, ctx, Options{Command: []string{"/bin/sh", "-c", script}, Stderr: &stderr})
	if stderr.Len() > 0 {
		t.Logf("command stderr: %s", stderr.String())
	}
	return tr
}

// watchObjects wraps opts.OnStart to note the BPF objects the recording
// holds once it runs; checkClean then proves they are all gone.
func watchObjects(t *testing.T, opts *Options) *ebpftest.Objects {
	t.Helper()
	objs := &ebpftest.Objects{}
	next := opts.OnStart
	opts.OnStart = func() {
		o, err := ebpftest.Held(os.Getpid())
		if err != nil {
			t.Errorf("list BPF objects: %v", err)
		}
		*objs = o
		if next != nil {
			next()
		}
	}
	return objs
}

// checkClean fails when BPF objects of the recording (noted by
// watchObjects), decompose programs held by no process, or child processes
// remain.
func checkClean(t *testing.T, objs *ebpftest.Objects) {
	t.Helper()
	if objs.Len() == 0 {
		t.Errorf("the recording held no BPF object (was OnStart called?)")
	}
	if left := ebpftest.WaitGone(*objs, 10*time.Second); left.Len() > 0 {
		t.Errorf("BPF objects left behind: %v", left)
	}
	if orphans, err := ebpftest.WaitNoOrphans(10 * time.Second); err != nil || len(orphans) > 0 {
		t.Errorf("decompose programs held by no process: %v (%v)", orphans, err)
	}
	if kids := children(os.Getpid()); len(kids) > 0 {
		t.Errorf("child processes left behind: %v", kids)
	}
}

func children(pid int) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		// children in a process group of their own were started by the
		// test itself (startGroup), which kills them at cleanup
		if pgid, err := syscall.Getpgid(n); err != nil || pgid != syscall.Getpgrp() {
			continue
		}
		if st, err := readStat(uint32(n)); err == nil && int(st.PPID) == pid {
			if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", n)); !strings.Contains(string(b), ") Z ") {
				out = append(out, n)
			}
		}
	}
	return out
}

// ---- trace queries ----

func procsByExe(tr *trace.Trace, base string) []trace.Process {
	var out []trace.Process
	for _, p := range tr.Processes {
		if filepath.Base(p.Exe) == base {
			out = append(out, p)
		}
	}
	return out
}

func procByArg(tr *trace.Trace, arg string) (trace.Process, bool) {
	for _, p := range tr.Processes {
		if len(p.Argv) > 1 && p.Argv[1] == arg {
			return p, true
		}
	}
	return trace.Process{}, false
}

func resources(tr *trace.Trace, kind trace.ResourceKind, match func(trace.Resource) bool) []trace.Resource {
	var out []trace.Resource
	for _, r := range tr.Resources {
		if r.Kind == kind && (match == nil || match(r)) {
			out = append(out, r)
		}
	}
	return out
}

func accessesOf(tr *trace.Trace, r trace.ResourceID) map[trace.ProcessID]trace.Access {
	out := map[trace.ProcessID]trace.Access{}
	for _, a := range tr.Accesses {
		if a.Resource == r {
			out[a.Process] = a
		}
	}
	return out
}

func exeOf(tr *trace.Trace, id trace.ProcessID) string {
	for _, p := range tr.Processes {
		if p.ID == id {
			return filepath.Base(p.Exe) + " " + strings.Join(p.Argv, " ")
		}
	}
	return "?"
}

func dumpResource(t *testing.T, tr *trace.Trace, r trace.Resource) {
	t.Helper()
	t.Logf("resource %d %s %s", r.ID, r.Kind, r.Name())
	for id, a := range accessesOf(tr, r.ID) {
		t.Logf("  by %q: %+v", exeOf(tr, id), a)
	}
}

// ---- focused tests, one per coupling kind ----

func TestFileWrittenByOneReadByAnother(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "shared.txt")
	tr := runCommand(t, fmt.Sprintf("printf 'hello world\\n' > %s; cat %s > /dev/null", f, f))
	rs := resources(tr, trace.KindFile, func(r trace.Resource) bool { return r.Path == f })
	if len(rs) != 1 {
		t.Fatalf("want one file resource %s, got %v", f, rs)
	}
	dumpResource(t, tr, rs[0])
	var wrote, read bool
	for id, a := range accessesOf(tr, rs[0].ID) {
		exe := exeOf(tr, id)
		if strings.HasPrefix(exe, "dash") && a.Writes > 0 && a.WriteBytes == 12 && a.OpensWrite > 0 {
			wrote = true
		}
		if strings.HasPrefix(exe, "cat") && a.Reads > 0 && a.ReadBytes == 12 && a.Opens > 0 {
			read = true
		}
	}
	if !wrote || !read {
		t.Errorf("writer (sh, 12 bytes) seen %v, reader (cat, 12 bytes) seen %v", wrote, read)
	}
}

func TestSpoolDirectory(t *testing.T) {
	dir := t.TempDir()
	spool := filepath.Join(dir, "spool")
	tr := runCommand(t, fmt.Sprintf("mkdir %s && for i in 1 2 3; do echo job > %s/j$i; done; ls %s > /dev/null; rm %s/j1 %s/j2 %s/j3",
		spool, spool, spool, spool, spool, spool))
	rs := resources(tr, trace.KindDir, func(r trace.Resource) bool { return r.Path == spool })
	if len(rs) != 1 {
		t.Fatalf("want one dir resource %s, got %v", spool, resources(tr, trace.KindDir, nil))
	}
	dumpResource(t, tr, rs[0])
	got := map[string]trace.Access{}
	for id, a := range accessesOf(tr, rs[0].ID) {
		got[strings.Fields(exeOf(tr, id))[0]] = a
	}
	if got["dash"].Creates < 3 {
		t.Errorf("sh should have created 3 entries: %+v", got["dash"])
	}
	if got["ls"].Reads == 0 {
		t.Errorf("ls should have listed the spool: %+v", got["ls"])
	}
	if got["rm"].Removes != 3 {
		t.Errorf("rm should have removed 3 entries: %+v", got["rm"])
	}
	parent := resources(tr, trace.KindDir, func(r trace.Resource) bool { return r.Path == dir })
	if len(parent) != 1 || accessesOf(tr, parent[0].ID)[procsByExe(tr, "mkdir")[0].ID].Creates != 1 {
		t.Errorf("mkdir should have created one entry in %s", dir)
	}
}

func TestAnonymousPipe(t *testing.T) {
	tr := runCommand(t, "head -c 100000 /dev/zero | wc -c > /dev/null")
	var found bool
	for _, r := range resources(tr, trace.KindPipe, nil) {
		acc := accessesOf(tr, r.ID)
		var w, rd int64
		for id, a := range acc {
			if strings.HasPrefix(exeOf(tr, id), "head") {
				w = a.WriteBytes
			}
			if strings.HasPrefix(exeOf(tr, id), "wc") {
				rd = a.ReadBytes
			}
		}
		if w == 100000 && rd == 100000 {
			found = true
			dumpResource(t, tr, r)
		}
	}
	if !found {
		for _, r := range resources(tr, trace.KindPipe, nil) {
			dumpResource(t, tr, r)
		}
		t.Errorf("no pipe with head writing and wc reading 100000 bytes")
	}
}

func TestFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "ff")
	tr := runCommand(t, fmt.Sprintf("mkfifo %s; cat %s > /dev/null & echo hello-fifo > %s; wait", fifo, fifo, fifo))
	rs := resources(tr, trace.KindFIFO, func(r trace.Resource) bool { return r.Path == fifo })
	if len(rs) != 1 {
		t.Fatalf("want one fifo %s, got %v", fifo, resources(tr, trace.KindFIFO, nil))
	}
	dumpResource(t, tr, rs[0])
	var w, r bool
	for id, a := range accessesOf(tr, rs[0].ID) {
		if strings.HasPrefix(exeOf(tr, id), "dash") && a.WriteBytes == 11 {
			w = true
		}
		if strings.HasPrefix(exeOf(tr, id), "cat") && a.ReadBytes == 11 {
			r = true
		}
	}
	if !w || !r {
		t.Errorf("fifo writer sh seen %v, reader cat seen %v", w, r)
	}
}

// pairAccesses checks that the resource has a process with argv[1]==a
// moving aBytes out and bBytes in, and one with argv[1]==b the reverse.
func checkExchange(t *testing.T, tr *trace.Trace, r trace.Resource, a, b string, aOut, bOut int64) bool {
	t.Helper()
	pa, ok1 := procByArg(tr, a)
	pb, ok2 := procByArg(tr, b)
	if !ok1 || !ok2 {
		t.Errorf("processes %s/%s not found", a, b)
		return false
	}
	acc := accessesOf(tr, r.ID)
	xa, xb := acc[pa.ID], acc[pb.ID]
	return xa.WriteBytes == aOut && xa.ReadBytes == bOut && xb.WriteBytes == bOut && xb.ReadBytes == aOut
}

func TestUnixStreamSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "app.sock")
	tr := runCommand(t, fmt.Sprintf("%s unix-server %s & while [ ! -e %s.ready ]; do sleep 0.01; done; %s unix-client %s; wait",
		helperBin, sock, sock, helperBin, sock))
	rs := resources(tr, trace.KindUnix, func(r trace.Resource) bool { return r.Path == sock })
	if len(rs) != 1 {
		t.Fatalf("want one unix resource %s, got %v", sock, resources(tr, trace.KindUnix, nil))
	}
	dumpResource(t, tr, rs[0])
	if !checkExchange(t, tr, rs[0], "unix-client", "unix-server", 1000, 500) {
		t.Errorf("client should send 1000 and receive 500 bytes, server the reverse")
	}
	srv, _ := procByArg(tr, "unix-server")
	if a := accessesOf(tr, rs[0].ID)[srv.ID]; a.Listens == 0 || a.Accepts == 0 {
		t.Errorf("server should listen and accept: %+v", a)
	}
}

func TestUnixSocketpair(t *testing.T) {
	tr := runCommand(t, helperBin+" socketpair")
	var ok bool
	for _, r := range resources(tr, trace.KindUnix, func(r trace.Resource) bool { return r.Path == "" }) {
		if checkExchange(t, tr, r, "socketpair", "socketpair-child", 1000, 500) {
			ok = true
			dumpResource(t, tr, r)
		}
	}
	if !ok {
		for _, r := range resources(tr, trace.KindUnix, nil) {
			dumpResource(t, tr, r)
		}
		t.Errorf("no socketpair resource shared by parent (1000 out) and child (500 out)")
	}
}

func TestTCPLoopback(t *testing.T) {
	port := filepath.Join(t.TempDir(), "port")
	tr := runCommand(t, fmt.Sprintf("%s tcp-server %s & while [ ! -e %s ]; do sleep 0.01; done; %s tcp-client $(cat %s); wait",
		helperBin, port, port, helperBin, port))
	b, _ := os.ReadFile(port)
	srvAddr := string(b)
	conns := resources(tr, trace.KindTCP, func(r trace.Resource) bool { return r.Dst == srvAddr && !r.Listen })
	if len(conns) != 1 {
		t.Fatalf("want one connection to %s, got %v", srvAddr, resources(tr, trace.KindTCP, nil))
	}
	dumpResource(t, tr, conns[0])
	if !checkExchange(t, tr, conns[0], "tcp-client", "tcp-server", 1000, 500) {
		t.Errorf("client should send 1000 and receive 500 bytes, server the reverse")
	}
	cli, _ := procByArg(tr, "tcp-client")
	srv, _ := procByArg(tr, "tcp-server")
	acc := accessesOf(tr, conns[0].ID)
	if acc[cli.ID].Connects != 1 || acc[srv.ID].Accepts != 1 {
		t.Errorf("want one connect by the client and one accept by the server")
	}
	ls := resources(tr, trace.KindTCP, func(r trace.Resource) bool { return r.Listen && r.Dst == srvAddr })
	if len(ls) != 1 || accessesOf(tr, ls[0].ID)[srv.ID].Listens != 1 {
		t.Errorf("want the listener %s owned by the server", srvAddr)
	}
}

// TestTCPConnectionsAggregate makes 300 connections, one after the other,
// from one client to one server (a proxy that connects per request): they
// are one resource, client address with port 0 to the server endpoint, with
// every connect, accept and byte counted, whether the server's port is told
// apart by its listen (seen in the kernel) or not.
func TestTCPConnectionsAggregate(t *testing.T) {
	const n = 300
	port := filepath.Join(t.TempDir(), "port")
	tr := runCommand(t, fmt.Sprintf("%[1]s tcp-server %[2]s %[3]d & while [ ! -e %[2]s ]; do sleep 0.01; done; %[1]s tcp-client $(cat %[2]s) %[3]d; wait",
		helperBin, port, n))
	b, _ := os.ReadFile(port)
	srvAddr := string(b)
	conns := resources(tr, trace.KindTCP, func(r trace.Resource) bool { return r.Dst == srvAddr && !r.Listen })
	if len(conns) != 1 {
		t.Fatalf("want the %d connections to %s as one resource, got %d: %v", n, srvAddr, len(conns), conns)
	}
	dumpResource(t, tr, conns[0])
	if conns[0].Src != "127.0.0.1:0" {
		t.Errorf("src %q, want the client address with port 0", conns[0].Src)
	}
	cli, _ := procByArg(tr, "tcp-client")
	srv, _ := procByArg(tr, "tcp-server")
	acc := accessesOf(tr, conns[0].ID)
	c, s := acc[cli.ID], acc[srv.ID]
	if c.Connects != n || s.Accepts != n {
		t.Errorf("connects %d, accepts %d; want %d each", c.Connects, s.Accepts, n)
	}
	if c.WriteBytes != n*1000 || c.ReadBytes != n*500 || s.ReadBytes != n*1000 || s.WriteBytes != n*500 {
		t.Errorf("client wrote %d read %d, server read %d wrote %d; want %d and %d", c.WriteBytes, c.ReadBytes, s.ReadBytes, s.WriteBytes, n*1000, n*500)
	}
}

func TestUDPLoopback(t *testing.T) {
	port := filepath.Join(t.TempDir(), "port")
	tr := runCommand(t, fmt.Sprintf("%s udp-server %s & while [ ! -e %s ]; do sleep 0.01; done; %s udp-client $(cat %s); wait",
		helperBin, port, port, helperBin, port))
	b, _ := os.ReadFile(port)
	srvAddr := string(b)
	rs := resources(tr, trace.KindUDP, func(r trace.Resource) bool { return r.Dst == srvAddr })
	if len(rs) != 1 {
		t.Fatalf("want one UDP flow to %s, got %v", srvAddr, resources(tr, trace.KindUDP, nil))
	}
	dumpResource(t, tr, rs[0])
	if !checkExchange(t, tr, rs[0], "udp-client", "udp-server", 700, 300) {
		t.Errorf("client should send 700 and receive 300 bytes, server the reverse")
	}
}

func TestSharedMemoryFile(t *testing.T) {
	path := fmt.Sprintf("/dev/shm/decompose-test-%d", os.Getpid())
	t.Cleanup(func() { os.Remove(path) })
	tr := runCommand(t, fmt.Sprintf("%s shm w %s; %s shm r %s", helperBin, path, helperBin, path))
	rs := resources(tr, trace.KindFile, func(r trace.Resource) bool { return r.Path == path })
	if len(rs) != 1 {
		t.Fatalf("want one /dev/shm file, got %v", resources(tr, trace.KindFile, nil))
	}
	dumpResource(t, tr, rs[0])
	n := 0
	for _, a := range accessesOf(tr, rs[0].ID) {
		if a.SharedMaps > 0 {
			n++
		}
	}
	if n != 2 {
		t.Errorf("want two processes mapping %s shared, got %d", path, n)
	}
}

func TestSignal(t *testing.T) {
	tr := runCommand(t, "sleep 5 & sleep 0.2; kill -HUP $!; wait")
	sleeps := procsByExe(tr, "sleep")
	shs := procsByExe(tr, "dash")
	var found bool
	for _, s := range tr.Signals {
		t.Logf("signal %+v", s)
		for _, sl := range sleeps {
			for _, sh := range shs {
				if s.Sender == sh.ID && s.Target == sl.ID && s.Signo == 1 && s.Count == 1 {
					found = true
				}
			}
		}
	}
	if !found {
		t.Errorf("want SIGHUP from sh to sleep")
	}
}

// TestManySignals: a process signalled 500 times by one sender makes one
// row with count 500, and the signals are counted in the kernel, not sent
// as 500 ring buffer records (PostgreSQL signals its processes thousands of
// times a second).
func TestManySignals(t *testing.T) {
	const n = 500
	tr := runCommand(t, fmt.Sprintf(`sh -c 'trap "" USR1; sleep 2' & sleep 0.3; for i in $(seq %d); do kill -USR1 $!; done; wait`, n))
	shs := procsByExe(tr, "dash")
	if len(shs) != 2 {
		t.Fatalf("want two sh, got %d", len(shs))
	}
	var rows []trace.Signal
	for _, s := range tr.Signals {
		if s.Signo == int32(syscall.SIGUSR1) {
			rows = append(rows, s)
		}
	}
	if len(rows) != 1 {
		t.Fatalf("want one SIGUSR1 row, got %+v", rows)
	}
	s := rows[0]
	if s.Count != n || s.Sender == s.Target || (s.Sender != shs[0].ID && s.Sender != shs[1].ID) ||
		(s.Target != shs[0].ID && s.Target != shs[1].ID) || s.FirstNS == 0 || s.LastNS < s.FirstNS {
		t.Errorf("signal row %+v: want count %d from one sh to the other", s, n)
	}
	for _, c := range tr.Counters {
		if c.Name == "events" && c.Value >= n {
			t.Errorf("%d ring buffer records for a run of %d signals: signals are still records", c.Value, n)
		}
	}
}

// TestKernelSignalsHaveNoSender: the SIGALRMs of an interval timer are sent
// by the kernel in the context of whatever runs on the CPU at that moment
// (here two busy loops): they are no signal from that process.
func TestKernelSignalsHaveNoSender(t *testing.T) {
	tr := runCommand(t, fmt.Sprintf("%[1]s spin 2s & %[1]s spin 2s & %[1]s alarms 20; wait", helperBin))
	alarmed, ok := procByArg(tr, "alarms")
	if !ok {
		t.Fatal("the alarms process is not in the trace")
	}
	for _, s := range tr.Signals {
		if s.Signo == int32(syscall.SIGALRM) || s.Target == alarmed.ID {
			t.Errorf("signal %+v: a timer's signal recorded as sent by a process", s)
		}
	}
}

func TestShortLivedChild(t *testing.T) {
	tr := runCommand(t, "sleep 0.005; /bin/true; echo done > /dev/null")
	shs := procsByExe(tr, "dash")
	if len(shs) != 1 {
		t.Fatalf("want one sh, got %d", len(shs))
	}
	for _, exe := range []string{"sleep", "true"} {
		ps := procsByExe(tr, exe)
		if len(ps) != 1 {
			t.Errorf("want one %s, got %d", exe, len(ps))
			continue
		}
		p := ps[0]
		t.Logf("%s: %+v", exe, p)
		if p.ParentID != shs[0].ID || p.ExitNS == 0 || p.ExitNS < p.StartNS || len(p.Argv) == 0 {
			t.Errorf("%s should be a child of sh with start, exit and argv: %+v", exe, p)
		}
	}
}

func TestSnapshotOfAlreadyOpen(t *testing.T) {
	needRecorder(t)
	dir := t.TempDir()
	logf, sock := filepath.Join(dir, "daemon.log"), filepath.Join(dir, "daemon.sock")
	cmd := exec.Command(helperBin, "hold", logf, sock, "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	for i := 0; ; i++ {
		if _, err := os.Stat(sock + ".ready"); err == nil {
			break
		}
		if i > 500 {
			t.Fatal("helper did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	opts := Options{PID: cmd.Process.Pid, Output: filepath.Join(dir, "t.trace")}
	objs := watchObjects(t, &opts)
	sum, err := Run(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", sum)
	tr, err := trace.Open(opts.Output)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := procByArg(tr, "hold")
	if !ok || !p.Snapshot || filepath.Base(p.Exe) != "helper" {
		t.Fatalf("want the running helper as a snapshot process, got %+v", tr.Processes)
	}
	if len(tr.Processes) != 1 {
		t.Errorf("pid mode should record only the helper, got %d processes", len(tr.Processes))
	}
	files := resources(tr, trace.KindFile, func(r trace.Resource) bool { return r.Path == logf })
	if len(files) != 1 || accessesOf(tr, files[0].ID)[p.ID].OpensWrite != 1 {
		t.Errorf("want %s open for writing by the helper", logf)
	}
	socks := resources(tr, trace.KindUnix, func(r trace.Resource) bool { return r.Path == sock })
	if len(socks) != 1 || accessesOf(tr, socks[0].ID)[p.ID].Listens != 1 {
		t.Errorf("want the helper listening on %s, got %v", sock, resources(tr, trace.KindUnix, nil))
	}
	cmd.Process.Kill()
	cmd.Wait()
	checkClean(t, objs)
}

// startGroup starts sh -c script in its own process group and kills the
// whole group when the test ends, whatever its outcome.
func startGroup(t *testing.T, script string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	return cmd
}

// waitFile waits until path exists and returns its content.
func waitFile(t *testing.T, path string, d time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		if b, err := os.ReadFile(path); err == nil {
			return string(b)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not appear within %v", path, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSnapshotOfSharedMappings starts a writer and a reader that map a
// /dev/shm file and attach a SysV segment, and close the fds, all before
// recording starts: the snapshot must find both mappings of both, the
// writable ones counted as write access, and the shared anonymous memory of
// both counted as a blind spot.
func TestSnapshotOfSharedMappings(t *testing.T) {
	needRecorder(t)
	dir := t.TempDir()
	path := fmt.Sprintf("/dev/shm/decompose-snap-%d", os.Getpid())
	key := fmt.Sprintf("%08x", 0x7dc00000|os.Getpid()&0xffff)
	t.Cleanup(func() { os.Remove(path) })
	w, r := filepath.Join(dir, "w.ready"), filepath.Join(dir, "r.ready")
	sh := startGroup(t, fmt.Sprintf("%[1]s maphold w %[2]s %[3]s %[4]s & while [ ! -e %[4]s ]; do sleep 0.01; done; %[1]s maphold r %[2]s %[3]s %[5]s & wait",
		helperBin, path, key, w, r))
	id, _ := strconv.Atoi(waitFile(t, w, 10*time.Second))
	t.Cleanup(func() { unix.SysvShmCtl(id, unix.IPC_RMID, nil) })
	waitFile(t, r, 10*time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	tr := record(t, ctx, Options{PID: sh.Process.Pid})
	writer, reader := procByArgs(tr, "maphold", "w"), procByArgs(tr, "maphold", "r")
	if writer == nil || reader == nil || !writer.Snapshot || !reader.Snapshot {
		t.Fatalf("want the writer and the reader as snapshot processes, got %+v", tr.Processes)
	}
	files := resources(tr, trace.KindFile, func(r trace.Resource) bool { return r.Path == path })
	if len(files) != 1 {
		t.Fatalf("want one resource %s, got %+v", path, tr.Resources)
	}
	dumpResource(t, tr, files[0])
	acc := accessesOf(tr, files[0].ID)
	if a := acc[writer.ID]; a.SharedMaps != 1 || a.OpensWrite != 1 || !a.Wrote() {
		t.Errorf("writer: want one writable shared mapping, got %+v", a)
	}
	if a := acc[reader.ID]; a.SharedMaps != 1 || a.Wrote() {
		t.Errorf("reader: want one read-only shared mapping, got %+v", a)
	}
	k, _ := strconv.ParseUint(key, 16, 32)
	segs := resources(tr, trace.KindSysVShm, func(r trace.Resource) bool { return r.Ino == uint64(id) })
	if len(segs) != 1 || segs[0].Key != int64(k) {
		t.Fatalf("want one SysV segment id %d key %#x, got %+v", id, k, resources(tr, trace.KindSysVShm, nil))
	}
	dumpResource(t, tr, segs[0])
	acc = accessesOf(tr, segs[0].ID)
	if a := acc[writer.ID]; a.SharedMaps != 1 || !a.Wrote() {
		t.Errorf("writer: want a read-write attach, got %+v", a)
	}
	if a := acc[reader.ID]; a.SharedMaps != 1 || a.Wrote() {
		t.Errorf("reader: want a read-only attach, got %+v", a)
	}
	if n := blindSpot(tr, "shared anonymous memory at start"); n != 2 {
		t.Errorf("want the shared anonymous memory of 2 processes as a blind spot, got %d (%+v)", n, tr.BlindSpots)
	}
}

// procByArgs finds the process whose argv[1:] starts with args.
func procByArgs(tr *trace.Trace, args ...string) *trace.Process {
	for i, p := range tr.Processes {
		if len(p.Argv) > len(args) && slices.Equal(p.Argv[1:len(args)+1], args) {
			return &tr.Processes[i]
		}
	}
	return nil
}

func blindSpot(tr *trace.Trace, what string) int64 {
	for _, b := range tr.BlindSpots {
		if b.What == what {
			return b.Count
		}
	}
	return -1
}

// TestPIDReuse has a process write a.txt and exit, then forces the kernel
// to give its pid to a new process (through ns_last_pid) that writes b.txt:
// the trace must hold two processes with that pid, each with its own argv
// and its own file, and no access of one attributed to the other.
func TestPIDReuse(t *testing.T) {
	dir := t.TempDir()
	tr := runCommand(t, helperBin+" pidreuse "+dir)
	b, err := os.ReadFile(filepath.Join(dir, "reused"))
	if err != nil {
		t.Fatalf("the helper did not get a pid reused: %v", err)
	}
	pid, _ := strconv.Atoi(string(b))
	var same []trace.Process
	for _, p := range tr.Processes {
		if int(p.PID) == pid {
			same = append(same, p)
		}
	}
	if len(same) != 2 {
		t.Fatalf("want two processes with pid %d, got %+v", pid, same)
	}
	first, second := same[0], same[1]
	if first.StartNS > second.StartNS {
		first, second = second, first
	}
	t.Logf("pid %d: first %q (start %d, exit %d), second %q (start %d)", pid, first.Argv, first.StartNS, first.ExitNS, second.Argv, second.StartNS)
	if first.ExitNS == 0 || first.ExitNS > second.StartNS {
		t.Errorf("the first process should have exited before the second started")
	}
	if !slices.Contains(first.Argv, "write") || !slices.Contains(second.Argv, "gated-write") {
		t.Errorf("argv mixed up: first %q, second %q", first.Argv, second.Argv)
	}
	for _, c := range []struct {
		file   string
		writer trace.Process
	}{{"a.txt", first}, {"b.txt", second}} {
		path := filepath.Join(dir, c.file)
		rs := resources(tr, trace.KindFile, func(r trace.Resource) bool { return r.Path == path })
		if len(rs) != 1 {
			t.Errorf("want one resource %s, got %d", path, len(rs))
			continue
		}
		acc := accessesOf(tr, rs[0].ID)
		if a, ok := acc[c.writer.ID]; !ok || a.WriteBytes != 6 {
			t.Errorf("%s: want 6 bytes written by %q, got %+v", c.file, c.writer.Argv, a)
		}
		for id := range acc {
			if id != c.writer.ID {
				t.Errorf("%s: also accessed by %s", c.file, exeOf(tr, id))
			}
		}
	}
}

// TestEvictionsAreBlindSpots shrinks the kernel counter map to 512 entries
// and creates 5,000 files in one burst: counters are evicted before they
// are read, and every file missing from the trace is accounted for by a
// blind spot.
func TestEvictionsAreBlindSpots(t *testing.T) {
	const n = 5000
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tr := record(t, ctx, Options{IOEntries: 512,
		Command: []string{"/bin/sh", "-c", fmt.Sprintf(`i=0; while [ $i -lt %d ]; do i=$((i+1)); : > %s/f$i; done`, n, dir)}})
	seen := len(resources(tr, trace.KindFile, func(r trace.Resource) bool { return filepath.Dir(r.Path) == dir }))
	evicted := max(blindSpot(tr, "counter entries evicted"), 0)
	// a lost description (ring buffer full, or outwaited) leaves a counter
	// without description
	lost := max(blindSpot(tr, "ring buffer full"), blindSpot(tr, "counters without description"), 0)
	t.Logf("files in the trace %d of %d, evicted %d, descriptions lost %d", seen, n, evicted, lost)
	if evicted == 0 {
		t.Errorf("no eviction counted with a 512-entry map and %d new files", n)
	}
	if missing := int64(n - seen); missing > evicted+lost {
		t.Errorf("%d files missing but only %d evictions and %d lost descriptions counted", missing, evicted, lost)
	}
}

// TestCommandExitCodeAndProgress records a command that exits 3 after a
// second and a half: its exit code is in the summary, and one progress
// line per second was written.
func TestCommandExitCodeAndProgress(t *testing.T) {
	needRecorder(t)
	var progress strings.Builder
	opts := Options{Command: []string{"/bin/sh", "-c", "sleep 1.5; exit 3"}, Progress: &progress,
		Output: filepath.Join(t.TempDir(), "t.trace")}
	objs := watchObjects(t, &opts)
	sum, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if sum.CommandExit != 3 {
		t.Errorf("CommandExit = %d, want 3", sum.CommandExit)
	}
	line := regexp.MustCompile(`^\d+s  processes \d+  resources \d+  couplings \d+  events/s \d+  drops \d+$`)
	lines := strings.Split(strings.TrimSpace(progress.String()), "\n")
	if len(lines) < 1 || !line.MatchString(lines[0]) {
		t.Errorf("want at least one progress line like %q, got %q", line, progress.String())
	}
	checkClean(t, objs)
}

// TestCommandStoppedAtDuration: when the duration ends first, the
// recorder stops the command (it leaves no child behind) and reports -1.
func TestCommandStoppedAtDuration(t *testing.T) {
	needRecorder(t)
	opts := Options{Command: []string{"/bin/sleep", "30"}, Duration: 1500 * time.Millisecond,
		Output: filepath.Join(t.TempDir(), "t.trace")}
	objs := watchObjects(t, &opts)
	start := time.Now()
	sum, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if sum.CommandExit != -1 || time.Since(start) > 20*time.Second {
		t.Errorf("CommandExit = %d after %v, want -1 soon after the duration", sum.CommandExit, time.Since(start))
	}
	checkClean(t, objs) // no child left
}

// TestCgroupMode puts one reader of a file into a new cgroup v2 and leaves
// another outside: a recording of the cgroup holds the first (and its
// children) and not the second.
func TestCgroupMode(t *testing.T) {
	needRecorder(t)
	root := cgroupMount()
	if root == "" {
		t.Fatal("no cgroup v2 hierarchy mounted: cgroup mode cannot work on this host")
	}
	cg := filepath.Join(root, fmt.Sprintf("decompose-test-%d", os.Getpid()))
	if err := os.Mkdir(cg, 0o755); err != nil {
		t.Fatalf("create cgroup: %v", err)
	}
	// registered before startGroup's, so it runs after the loops are killed
	t.Cleanup(func() {
		for i := 0; i < 100 && os.Remove(cg) != nil; i++ {
			time.Sleep(50 * time.Millisecond)
		}
		if _, err := os.Stat(cg); err == nil {
			t.Errorf("cgroup %s left behind", cg)
		}
	})
	file := filepath.Join(t.TempDir(), "shared.conf")
	os.WriteFile(file, []byte("x=1\n"), 0o644)
	loop := fmt.Sprintf("while :; do cat %s > /dev/null; sleep 0.1; done", file)
	inside := startGroup(t, loop)
	outside := startGroup(t, loop)
	if err := os.WriteFile(filepath.Join(cg, "cgroup.procs"), []byte(strconv.Itoa(inside.Process.Pid)), 0o644); err != nil {
		t.Fatalf("move into the cgroup: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
	defer cancel()
	tr := record(t, ctx, Options{Cgroup: strings.TrimPrefix(cg, root)})
	rel := strings.TrimPrefix(cg, root)
	var in, out, cats int
	for _, p := range tr.Processes {
		switch {
		case int(p.PID) == inside.Process.Pid:
			in++
		case int(p.PID) == outside.Process.Pid:
			out++
		}
		if p.Cgroup != rel {
			t.Errorf("process %d %q in cgroup %q, want only %q", p.PID, p.Argv, p.Cgroup, rel)
		}
		if filepath.Base(p.Exe) == "cat" {
			cats++
		}
	}
	if in != 1 || out != 0 || cats == 0 {
		t.Errorf("want the shell in the cgroup and its cats, not the one outside: in %d, out %d, cats %d", in, out, cats)
	}
	if rs := resources(tr, trace.KindFile, func(r trace.Resource) bool { return r.Path == file }); len(rs) != 1 {
		t.Errorf("want %s read inside the cgroup", file)
	}
}
