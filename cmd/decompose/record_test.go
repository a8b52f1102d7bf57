package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/decompose-dev/decompose/trace"
	"github.com/decompose-dev/decompose/trace/ebpf/ebpftest"
)

// The fault tests of decompose record (issue 9) run the real binary as
// root, the way a user would, and kill, signal, starve and deprive it. They
// share one build of the binary (TestRecordCLI's subtests). Every process,
// mount and BPF object a subtest makes is removed by t.Cleanup, whatever
// the outcome.
func TestRecordCLI(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("recording needs root; CI runs as root")
	}
	bin := buildCLI(t)
	t.Run("Kill9KeepsCommittedData", func(t *testing.T) { testKill9(t, bin) })
	t.Run("SIGINTDetachesAndFinalizes", func(t *testing.T) { testStopSignal(t, bin, syscall.SIGINT) })
	t.Run("SIGTERMDetachesAndFinalizes", func(t *testing.T) { testStopSignal(t, bin, syscall.SIGTERM) })
	t.Run("BadOutputFailsBeforeAttaching", func(t *testing.T) { testBadOutput(t, bin) })
	t.Run("DiskFullWhileRecording", func(t *testing.T) { testDiskFullWhileRecording(t, bin) })
	t.Run("NotRootNamesCapabilities", func(t *testing.T) { testNotRoot(t, bin) })
	t.Run("HundredThousandFiles", func(t *testing.T) { testManyFiles(t, bin) })
	t.Run("SoakLegacyshop", func(t *testing.T) { testSoak(t, bin) })
}

// buildCLI builds the decompose binary into a directory that nobody can
// also read and execute (for the unprivileged runs).
func buildCLI(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{dir, filepath.Dir(dir)} { // t.TempDir's parent is 0700
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "decompose")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// recorder is a running decompose record.
type recorder struct {
	cmd     *exec.Cmd
	out     string // the trace
	stdout  syncBuffer
	stderr  syncBuffer
	started chan struct{} // closed at "recording into"
	done    chan struct{} // closed when the process was reaped
	state   *os.ProcessState
	objs    ebpftest.Objects // held once started
}

// startRecorder runs bin record -o out args... and kills it at cleanup if
// it still runs.
func startRecorder(t *testing.T, bin, out string, args ...string) *recorder {
	t.Helper()
	r := &recorder{out: out, started: make(chan struct{}), done: make(chan struct{})}
	r.cmd = exec.Command(bin, append([]string{"record", "-o", out}, args...)...)
	r.cmd.Stdout = &r.stdout
	pr, pw := io.Pipe()
	r.cmd.Stderr = pw
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(pr)
		once := sync.Once{}
		for sc.Scan() {
			fmt.Fprintln(&r.stderr, sc.Text())
			if strings.HasPrefix(sc.Text(), "recording into ") {
				once.Do(func() { close(r.started) })
			}
		}
	}()
	go func() {
		r.cmd.Wait()
		r.state = r.cmd.ProcessState
		pw.Close()
		close(r.done)
	}()
	t.Cleanup(func() {
		r.cmd.Process.Kill()
		<-r.done
	})
	return r
}

// waitStarted waits until the recorder is attached and notes the BPF
// objects it holds.
func (r *recorder) waitStarted(t *testing.T) {
	t.Helper()
	select {
	case <-r.started:
	case <-r.done:
		t.Fatalf("recorder exited before it started: %v\n%s", r.state, r.stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("recorder did not start within 60s:\n%s", r.stderr.String())
	}
	o, err := ebpftest.Held(r.cmd.Process.Pid)
	if err != nil || o.Len() == 0 {
		t.Fatalf("no BPF objects held by the running recorder: %v %v", o, err)
	}
	r.objs = o
}

// wait waits for the recorder to exit and returns its exit code.
func (r *recorder) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-r.done:
		return r.state.ExitCode()
	case <-time.After(d):
		t.Fatalf("recorder still running after %v:\n%s", d, r.stderr.String())
		return -1
	}
}

// rss returns the recorder's current and peak resident set in KiB (VmRSS
// and VmHWM), 0 when it is gone. (The Maxrss of wait4 is no use: it also
// counts the test binary's memory, which the child shared until exec.)
func (r *recorder) rss() (now, peak int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", r.cmd.Process.Pid))
	if err != nil {
		return 0, 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(l, ":")
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			now = n
		case "VmHWM":
			peak = n
		}
	}
	return now, peak
}

// checkDetached fails when a BPF object the recorder held, or a decompose
// program that no process holds, is still in the kernel.
func checkDetached(t *testing.T, r *recorder) {
	t.Helper()
	if left := ebpftest.WaitGone(r.objs, 10*time.Second); left.Len() > 0 {
		t.Errorf("BPF objects left behind by the recorder: %v", left)
	}
	if orphans, err := ebpftest.WaitNoOrphans(10 * time.Second); err != nil || len(orphans) > 0 {
		t.Errorf("decompose programs held by no process: %v (%v)", orphans, err)
	}
}

// startWorkload runs sh -c script in a process group of its own, killed
// at cleanup.
func startWorkload(t *testing.T, script string) int {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	return cmd.Process.Pid
}

// busyScript keeps creating, appending to and removing files in dir: many
// new resources and accesses every second.
func busyScript(dir string) string {
	return fmt.Sprintf(`i=0; while :; do i=$((i+1)); echo "$i" > %[1]s/f$((i %% 5000)); echo x >> %[1]s/log; [ $((i %% 1000)) -eq 0 ] && rm -f %[1]s/f*; done`, dir)
}

// mountTmpfs mounts a tmpfs of size bytes on a new directory and unmounts
// it at cleanup (lazily if something still holds it open).
func mountTmpfs(t *testing.T, size int, opts string) string {
	t.Helper()
	dir := t.TempDir()
	o := fmt.Sprintf("size=%d", size)
	if opts != "" {
		o += "," + opts
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, o); err != nil {
		t.Fatalf("mount tmpfs on %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			syscall.Unmount(dir, syscall.MNT_DETACH)
		}
	})
	return dir
}

// fill writes into dir until only about free bytes are left.
func fill(t *testing.T, dir string, free int64) {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	n := int64(st.Bavail)*st.Bsize - free
	if n <= 0 {
		return
	}
	if err := os.WriteFile(filepath.Join(dir, "fill"), make([]byte, n), 0o644); err != nil {
		t.Fatalf("fill %s: %v", dir, err)
	}
}

// oneLineError checks that stderr ends with exactly one "decompose:" error
// line containing every want.
func oneLineError(t *testing.T, stderr string, want ...string) {
	t.Helper()
	var errs []string
	for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if strings.HasPrefix(l, "decompose: ") {
			errs = append(errs, l)
		}
	}
	if len(errs) != 1 {
		t.Fatalf("want one error line, got %d:\n%s", len(errs), stderr)
	}
	for _, w := range want {
		if !strings.Contains(errs[0], w) {
			t.Errorf("error line lacks %q: %s", w, errs[0])
		}
	}
}

// maxAccessNS is the time of the latest access of process pid.
func maxAccessNS(tr *trace.Trace, pid int) int64 {
	ids := map[trace.ProcessID]bool{}
	for _, p := range tr.Processes {
		if int(p.PID) == pid {
			ids[p.ID] = true
		}
	}
	var last int64
	for _, a := range tr.Accesses {
		if ids[a.Process] && a.LastNS > last {
			last = a.LastNS
		}
	}
	return last
}

// testKill9: a recorder killed with SIGKILL in the middle of a busy
// recording leaves a trace that opens, says it is not finalized, names the
// uids seen, and holds the workload's activity up to about a second before
// the kill; the kernel frees every BPF object with the process.
func testKill9(t *testing.T, bin string) {
	work := startWorkload(t, busyScript(t.TempDir()))
	r := startRecorder(t, bin, filepath.Join(t.TempDir(), "k.trace"), "--pid", strconv.Itoa(work))
	r.waitStarted(t)
	time.Sleep(3500 * time.Millisecond)
	killed := time.Now().UnixNano()
	r.cmd.Process.Signal(syscall.SIGKILL)
	if code := r.wait(t, 10*time.Second); code != -1 {
		t.Errorf("exit code %d after SIGKILL", code)
	}
	tr, err := trace.Open(r.out)
	if err != nil {
		t.Fatalf("open the trace of a killed recorder: %v", err)
	}
	if tr.Meta.Finalized {
		t.Errorf("the trace of a killed recorder says it was finalized")
	}
	if !hasUser(tr.Users, 0, "root") {
		t.Errorf("the trace of a killed recorder should still name the workload's uid 0: %+v", tr.Users)
	}
	last := maxAccessNS(tr, work)
	t.Logf("%d processes, %d resources, %d accesses; last access %.2fs before the kill",
		len(tr.Processes), len(tr.Resources), len(tr.Accesses), float64(killed-last)/1e9)
	if last == 0 || killed-last > int64(2500*time.Millisecond) {
		t.Errorf("the trace should hold activity up to the last second before the kill; the last is %.2fs before", float64(killed-last)/1e9)
	}
	checkDetached(t, r)
}

// testStopSignal: SIGINT or SIGTERM makes the recorder detach, drain and
// finalize the trace, exit 0 and leave no BPF object behind.
func testStopSignal(t *testing.T, bin string, sig syscall.Signal) {
	work := startWorkload(t, busyScript(t.TempDir()))
	r := startRecorder(t, bin, filepath.Join(t.TempDir(), "s.trace"), "--pid", strconv.Itoa(work))
	r.waitStarted(t)
	time.Sleep(1500 * time.Millisecond)
	stopped := time.Now()
	r.cmd.Process.Signal(sig)
	if code := r.wait(t, 20*time.Second); code != 0 {
		t.Fatalf("exit code %d after %v:\n%s", code, sig, r.stderr.String())
	}
	t.Logf("stopped %v after the signal", time.Since(stopped).Round(time.Millisecond))
	if !strings.Contains(r.stdout.String(), "recorded "+r.out) {
		t.Errorf("no summary on stdout: %q", r.stdout.String())
	}
	tr, err := trace.Open(r.out)
	if err != nil {
		t.Fatal(err)
	}
	if !tr.Meta.Finalized || tr.Host.EndNS == 0 {
		t.Errorf("trace not finalized after %v: %+v %+v", sig, tr.Meta, tr.Host)
	}
	if maxAccessNS(tr, work) == 0 {
		t.Errorf("the trace holds no access of the workload")
	}
	checkDetached(t, r)
}

// testBadOutput: an output that cannot be written gives one clear error
// line and exit 1 within moments, before the programs are loaded (which
// takes seconds), and leaves no file.
func testBadOutput(t *testing.T, bin string) {
	exists := filepath.Join(t.TempDir(), "exists.trace")
	os.WriteFile(exists, []byte("evidence"), 0o644)
	full := mountTmpfs(t, 256<<10, "")
	fill(t, full, 0)
	ro := mountTmpfs(t, 256<<10, "ro")
	for _, c := range []struct {
		name, out string
		want      []string
	}{
		{"missing directory", "/nonexistent-decompose-dir/x.trace", []string{"/nonexistent-decompose-dir", "no such file or directory"}},
		{"existing file", exists, []string{exists, "file exists"}},
		{"read-only file system", filepath.Join(ro, "x.trace"), []string{"read-only file system"}},
		{"full file system", filepath.Join(full, "x.trace"), []string{"KiB free", "free space or write the trace elsewhere"}},
	} {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			start := time.Now()
			var stderr bytes.Buffer
			cmd := exec.Command(bin, "record", "-o", c.out, "--duration", "5s")
			cmd.Stderr = &stderr
			err := cmd.Run()
			took := time.Since(start)
			if cmd.ProcessState.ExitCode() != 1 {
				t.Fatalf("exit %v, want 1:\n%s", err, stderr.String())
			}
			oneLineError(t, stderr.String(), c.want...)
			// attaching and detaching take over a second (loading 0.4 s,
			// detaching 1 s): a failure within one came before
			if strings.Contains(stderr.String(), "recording into") || took > time.Second {
				t.Errorf("failed after %v, not before attaching:\n%s", took, stderr.String())
			}
			if c.out == exists {
				if b, _ := os.ReadFile(exists); string(b) != "evidence" {
					t.Errorf("the existing file was changed")
				}
			} else if _, err := os.Stat(c.out); err == nil {
				t.Errorf("%s was left behind", c.out)
			}
		})
	}
}

// testDiskFullWhileRecording: when the output's file system fills up during
// the recording, the recorder stops with one error line naming the full
// file system, exits 1, detaches, and the trace keeps what it committed.
func testDiskFullWhileRecording(t *testing.T, bin string) {
	dir := mountTmpfs(t, 4<<20, "")
	fill(t, dir, 1200<<10)
	work := t.TempDir()
	r := startRecorder(t, bin, filepath.Join(dir, "x.trace"), "--", "/bin/sh", "-c",
		fmt.Sprintf(`i=0; while [ $i -lt 200000 ]; do i=$((i+1)); : > %s/a-rather-long-file-name-that-fills-the-trace-quickly-$i; done`, work))
	r.waitStarted(t)
	if code := r.wait(t, 90*time.Second); code != 1 {
		t.Fatalf("exit code %d, want 1:\n%s", code, r.stderr.String())
	}
	oneLineError(t, r.stderr.String(), "x.trace", "is full")
	tr, err := trace.Open(r.out)
	if err != nil {
		t.Fatalf("the trace of a full disk does not open: %v", err)
	}
	t.Logf("trace kept %d resources", len(tr.Resources))
	if tr.Meta.Finalized || len(tr.Resources) == 0 {
		t.Errorf("want a non-finalized trace with the data committed before the disk filled: finalized %v, %d resources", tr.Meta.Finalized, len(tr.Resources))
	}
	checkDetached(t, r)
}

// testNotRoot: without CAP_BPF and CAP_PERFMON, as nobody and as a root
// without capabilities, record says which capabilities are missing and what
// to run instead, exits 1, and creates no file.
func testNotRoot(t *testing.T, bin string) {
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Fatalf("setpriv (util-linux) is missing: %v", err)
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "x.trace")
	for name, drop := range map[string][]string{
		"nobody":            {"--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all"},
		"root_with_no_caps": {"--inh-caps=-all", "--bounding-set=-all"},
	} {
		t.Run(name, func(t *testing.T) {
			var stderr bytes.Buffer
			cmd := exec.Command(setpriv, append(drop, bin, "record", "-o", out, "--duration", "1s")...)
			cmd.Stderr = &stderr
			cmd.Run()
			if code := cmd.ProcessState.ExitCode(); code != 1 {
				t.Fatalf("exit %d, want 1:\n%s", code, stderr.String())
			}
			oneLineError(t, stderr.String(), "CAP_BPF", "CAP_PERFMON", "run instead: sudo "+bin+" record -o "+out)
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s was created", out)
			}
		})
	}
}

// testManyFiles: one process creates and writes 100,000 distinct files
// during a recording. The recorder's memory stays bounded, what it could
// not keep (ring buffer drops, evicted counters) is counted as blind spots
// that account for every file missing from the trace, and the trace is
// valid.
func testManyFiles(t *testing.T, bin string) {
	const n = 100000
	dir := mountTmpfs(t, 512<<20, "nr_inodes=200000")
	r := startRecorder(t, bin, filepath.Join(t.TempDir(), "m.trace"), "--", "/bin/sh", "-c",
		fmt.Sprintf(`i=0; while [ $i -lt %d ]; do i=$((i+1)); echo x > %s/f$i; done`, n, dir))
	r.waitStarted(t)
	var peak int64
	for {
		if _, hwm := r.rss(); hwm > peak {
			peak = hwm
		}
		select {
		case <-r.done:
		case <-time.After(100 * time.Millisecond):
			continue
		}
		break
	}
	if code := r.wait(t, time.Second); code != 0 {
		t.Fatalf("exit %d:\n%s", code, r.stderr.String())
	}
	tr, err := trace.Open(r.out)
	if err != nil {
		t.Fatal(err)
	}
	if !tr.Meta.Finalized {
		t.Errorf("trace not finalized")
	}
	seen := 0
	for _, res := range tr.Resources {
		if res.Kind == trace.KindFile && filepath.Dir(res.Path) == dir {
			seen++
		}
	}
	// A file is missing when its counter was evicted before it was read,
	// when its description was lost (ring buffer full: the counter is then
	// read without one), or when it did not fit a limit.
	counts := map[string]int64{}
	for _, b := range tr.BlindSpots {
		if b.Count > 0 {
			t.Logf("blind spot: %s: %d", b.What, b.Count)
		}
		counts[b.What] = b.Count
	}
	blind := counts["counter entries evicted"] + counts["counter map full"] + counts["descriptions over the limit"] +
		counts["resources over the limit"] + max(counts["ring buffer full"], counts["counters without description"])
	t.Logf("files in the trace: %d of %d; blind spots counted: %d; peak RSS %d MiB (last VmHWM seen)",
		seen, n, blind, peak>>10)
	if missing := int64(n - seen); missing > blind {
		t.Errorf("%d files are missing from the trace but only %d losses are counted as blind spots", missing, blind)
	}
	if peak > 400<<10 {
		t.Errorf("peak RSS %d MiB for %d files, want under 400 MiB", peak>>10, n)
	}
}

// soakDuration is how long the soak test records: DECOMPOSE_SOAK (a Go
// duration, e.g. 30m) or 100 seconds.
func soakDuration(t *testing.T) time.Duration {
	if s := os.Getenv("DECOMPOSE_SOAK"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("DECOMPOSE_SOAK=%q: %v", s, err)
		}
		return d
	}
	return 100 * time.Second
}

// testSoak records legacyshop while orders are driven through it without
// pause and samples the recorder's RSS every second: after a warm-up (the
// first quarter) it must stay flat.
func testSoak(t *testing.T, bin string) {
	d := soakDuration(t)
	ctx, cancel := context.WithTimeout(context.Background(), d+3*time.Minute)
	defer cancel()
	app := startShop(t, ctx)
	r := startRecorder(t, bin, filepath.Join(t.TempDir(), "soak.trace"), "--pid", strconv.Itoa(app.StartPID()),
		"--duration", d.String())
	r.waitStarted(t)
	load, stopLoad := context.WithCancel(ctx)
	loadDone := make(chan int)
	go func() {
		rounds := 0
		for load.Err() == nil {
			if err := app.Drive(load, 20); err != nil && load.Err() == nil {
				t.Errorf("drive: %v", err)
				break
			}
			rounds++
		}
		loadDone <- rounds
	}()
	var samples []int64
	var peak int64
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
wait:
	for {
		select {
		case <-r.done:
			break wait
		case <-tick.C:
			if rss, hwm := r.rss(); rss > 0 {
				samples = append(samples, rss)
				peak = max(peak, hwm)
			}
		}
	}
	stopLoad()
	rounds := <-loadDone
	if code := r.wait(t, time.Second); code != 0 {
		t.Fatalf("exit %d:\n%s", code, r.stderr.String())
	}
	tr, err := trace.Open(r.out)
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) < 8 {
		t.Fatalf("only %d RSS samples", len(samples))
	}
	// The recorder keeps rows in memory until they have been idle for 30 s
	// and their process or resource is gone, and tombstones for a minute
	// more: its memory levels off after about 90 s. Compare the medians
	// of the samples from 55% to 65% of the run and of the last 10%.
	// (Before rows were retired, RSS grew by 0.8 MiB/s under this load.)
	n := len(samples)
	warm, end := median(samples[n*55/100:n*65/100]), median(samples[n*9/10:])
	t.Logf("soak %v: %d x 20 orders; %d processes, %d resources, %d accesses; RSS median %d KiB at 60%%, %d KiB at the end, first %d KiB, peak %d KiB",
		d, rounds, len(tr.Processes), len(tr.Resources), len(tr.Accesses), warm, end, samples[0], peak)
	if growth := end - warm; growth > 12<<10 {
		t.Errorf("RSS grew by %d KiB in the last 40%% of the run (from %d KiB): not flat; samples (KiB, one per second): %v", growth, warm, samples)
	}
	checkDetached(t, r)
}

func median(s []int64) int64 {
	c := slices.Clone(s)
	slices.Sort(c)
	return c[len(c)/2]
}
