package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// The smoke test runs each benchmark script in its BENCH_SMOKE=1 mode (a
// second or two of load per arm) and checks that its raw results parse and
// hold every case and arm. It judges no target: a smoke run is far too
// short for that. The scripts run concurrently, with prebuilt binaries.

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the benchmarks need root (eBPF recorder, servers started by hand); scripts/test.sh runs them as root")
	}
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// binaries builds decompose and benchtool once for every smoke test.
func binaries(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "decompose-bench-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binDir = dir
		for _, pkg := range []string{"./cmd/decompose", "./bench/cmd/benchtool"} {
			cmd := exec.Command(goTool(), "build", "-o", dir, pkg)
			cmd.Dir = ".."
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// smokeRun is the outcome of one script's smoke run.
type smokeRun struct {
	recs   []Record
	md     string
	output string
	took   time.Duration
	err    error
}

// runScript runs bench/NAME.sh in smoke mode with the binaries in bin.
func runScript(name, bin, out string) smokeRun {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", name+".sh")
	cmd.Env = append(os.Environ(), "BENCH_SMOKE=1", "BENCH_NO_INSTALL=1", "BENCH_BIN="+bin, "BENCH_OUT="+out)
	cmd.WaitDelay = 10 * time.Second
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	start := time.Now()
	err := cmd.Run()
	r := smokeRun{output: buf.String(), took: time.Since(start)}
	if err != nil {
		r.err = fmt.Errorf("bash bench/%s.sh (smoke): %w", name, err)
		return r
	}
	if r.recs, r.err = ReadRecordsFile(filepath.Join(out, name+".raw")); r.err != nil {
		return r
	}
	md, err := os.ReadFile(filepath.Join(out, name+".md"))
	r.md, r.err = string(md), err
	return r
}

// smokeChecks are what each script's smoke run must show, by script name.
var smokeChecks = map[string]func(t *testing.T, recs []Record, md string){
	"syscalls":      checkSyscalls,
	"web":           checkWeb,
	"pg":            checkPG,
	"churn":         checkChurn,
	"recorder-cost": checkRecorderCost,
	"engine":        checkEngine,
	"hookfloor":     checkHookfloor,
}

// TestSmoke runs every benchmark script at once (they take a few seconds
// each, mostly waiting; go test's -parallel would run only two at a time on
// a two-core machine) and then checks each one's results.
func TestSmoke(t *testing.T) {
	requireRoot(t)
	bin := binaries(t)
	names := make([]string, 0, len(smokeChecks))
	for n := range smokeChecks {
		names = append(names, n)
	}
	sort.Strings(names)
	runs := make([]smokeRun, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		out := t.TempDir()
		wg.Add(1)
		go func() {
			defer wg.Done()
			runs[i] = runScript(n, bin, out)
		}()
	}
	wg.Wait()
	for i, n := range names {
		t.Run(n, func(t *testing.T) {
			r := runs[i]
			if r.err != nil {
				t.Fatalf("%v\n%s", r.err, r.output)
			}
			t.Logf("bench/%s.sh smoke run: %v", n, r.took.Round(100*time.Millisecond))
			if !strings.Contains(r.md, "- machine: ") || !strings.Contains(r.md, "|---|") {
				t.Errorf("%s.md lacks the machine line or a table:\n%s", n, r.md)
			}
			smokeChecks[n](t, r.recs, r.md)
			if t.Failed() {
				t.Logf("output of bench/%s.sh:\n%s", n, r.output)
			}
		})
	}
}

// where returns the records whose fields match kv ("k=v" ...).
func where(recs []Record, kv ...string) []Record {
	var out []Record
	for _, r := range recs {
		ok := true
		for _, f := range kv {
			k, v, _ := strings.Cut(f, "=")
			if r[k] != v {
				ok = false
			}
		}
		if ok {
			out = append(out, r)
		}
	}
	return out
}

// positive fails unless every record of recs has fields keys > 0.
func positive(t *testing.T, what string, recs []Record, keys ...string) {
	t.Helper()
	if len(recs) == 0 {
		t.Errorf("%s: no record", what)
	}
	for _, r := range recs {
		for _, k := range keys {
			if !(r.Num(k) > 0) {
				t.Errorf("%s: %s=%q in %v", what, k, r[k], r)
			}
		}
	}
}

// zero fails unless every record of recs has fields keys == 0.
func zero(t *testing.T, what string, recs []Record, keys ...string) {
	t.Helper()
	for _, r := range recs {
		for _, k := range keys {
			if r.Num(k) != 0 {
				t.Errorf("%s: %s=%q in %v", what, k, r[k], r)
			}
		}
	}
}

func checkSyscalls(t *testing.T, recs []Record, md string) {
	for _, c := range SysCases {
		for _, arm := range []string{ArmUntraced, ArmTraced} {
			positive(t, "syscalls "+c.Name+" "+arm, where(recs, "case="+c.Name, "arm="+arm), "ns_per_iter", "wall_ns_per_iter", "iters")
		}
	}
	// the profile found the recorder's programs and their run counts
	for _, want := range []string{"| exit_read |", "| exit_write |", "bpfprofile total_ms=", "added ns per traced syscall"} {
		if !strings.Contains(md, want) {
			t.Errorf("syscalls.md lacks %q:\n%s", want, md)
		}
	}
}

func checkWeb(t *testing.T, recs []Record, md string) {
	for _, c := range []string{"static", "proxy"} {
		for _, arm := range []string{ArmUntraced, ArmTraced} {
			rs := where(recs, "case="+c, "arm="+arm)
			positive(t, "web "+c+" "+arm, rs, "rps", "p99_ms", "requests")
			zero(t, "web "+c+" "+arm, rs, "errors", "non2xx")
		}
	}
	if !strings.Contains(md, "| static | rps |") || !strings.Contains(md, "| proxy | p99_ms |") {
		t.Errorf("web.md lacks its A/B rows:\n%s", md)
	}
}

func checkPG(t *testing.T, recs []Record, md string) {
	for _, c := range []string{"tpcb", "select"} {
		for _, arm := range []string{ArmUntraced, ArmTraced} {
			rs := where(recs, "case="+c, "arm="+arm)
			positive(t, "pg "+c+" "+arm, rs, "tps", "p99_ms", "txns")
			zero(t, "pg "+c+" "+arm, rs, "failed")
		}
	}
	if !strings.Contains(md, "| tpcb | tps |") || !strings.Contains(md, "| select | p99_ms |") {
		t.Errorf("pg.md lacks its A/B rows:\n%s", md)
	}
}

func checkChurn(t *testing.T, recs []Record, md string) {
	positive(t, "churn", recs, "execs_expected", "execs_seen", "writer_writes", "writes_counted", "rec_events")
	for _, r := range recs {
		for _, k := range []string{"execs_with_exe", "execs_with_parent", "drops_startup", "drops_churn", "rec_drops"} {
			if _, ok := r[k]; !ok {
				t.Errorf("churn: no %s in %v", k, r)
			}
		}
	}
	if !strings.Contains(md, "exec_result") {
		t.Errorf("churn.md lacks the verdicts:\n%s", md)
	}
}

func checkRecorderCost(t *testing.T, recs []Record, md string) {
	positive(t, "recorder-cost idle", where(recs, "phase=idle"), "hwm_mb", "rss_mb", "seconds")
	positive(t, "recorder-cost load", where(recs, "phase=load"), "hwm_mb", "orders", "cpu_s")
	positive(t, "recorder-cost total", where(recs, "phase=total"), "startup_hwm_mb", "rec_events")
	if !strings.Contains(md, "<=100MB") {
		t.Errorf("recorder-cost.md lacks the RSS verdicts:\n%s", md)
	}
}

func checkEngine(t *testing.T, recs []Record, md string) {
	for _, op := range []string{"analyze", "report-html", "report-md", "manifests"} {
		for _, n := range []string{"1000", "10000"} {
			positive(t, "engine "+op+" "+n, where(recs, "series=size", "op="+op, "records="+n), "wall_s", "maxrss_mb")
		}
	}
	positive(t, "engine procs", where(recs, "series=procs", "op=analyze"), "maxrss_mb")
	if !strings.Contains(md, "| size | analyze | 10000 |") {
		t.Errorf("engine.md lacks its rows:\n%s", md)
	}
}

func checkHookfloor(t *testing.T, recs []Record, md string) {
	// hookfloor.Arms and hookfloor.DefaultCases (that package imports this one)
	for _, arm := range []string{"none", "syscall", "sock", "split", "rawexit"} {
		for _, c := range []string{"getppid", "file", "pipe", "unix", "unixmsg", "tcp"} {
			positive(t, "hookfloor "+arm+" "+c, where(recs, "arm="+arm, "case="+c), "ns_per_syscall", "iters")
		}
	}
	if un := where(recs, "unavailable=1"); len(un) > 0 {
		t.Errorf("hookfloor: hooks unavailable on this kernel: %v", un)
	}
	if !strings.Contains(md, "| unixmsg | 1 |") {
		t.Errorf("hookfloor.md lacks its rows:\n%s", md)
	}
}

// TestAllRunsEveryScript keeps bench/all.sh and the smoke tests in step
// with the scripts in bench/.
func TestAllRunsEveryScript(t *testing.T) {
	all, err := os.ReadFile("all.sh")
	if err != nil {
		t.Fatal(err)
	}
	scripts, _ := filepath.Glob("*.sh")
	for _, s := range scripts {
		name := strings.TrimSuffix(s, ".sh")
		if name == "all" || name == "lib" {
			continue
		}
		if !strings.Contains(string(all), " "+name+" ") && !strings.Contains(string(all), " "+name+";") {
			t.Errorf("all.sh does not run %s", s)
		}
		if smokeChecks[name] == nil {
			t.Errorf("no smoke test runs %s", s)
		}
	}
}
