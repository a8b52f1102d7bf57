// Command benchtool is the measuring side of decompose's benchmark scripts
// (bench/*.sh): syscall loops, a paced writer, parsers for wrk, pgbench and
// /usr/bin/time, A/B summaries with targets, /proc and BPF statistics of the
// recorder, synthetic traces and the legacyshop fixture. Every subcommand
// prints key=value lines (or a Markdown table) on stdout.
//
//	benchtool sysloop -cases pipe,unix -n 1000000
//	benchtool ab -raw web.raw -metric rps,higher,0.95 -metric p99_ms,lower,1.10
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/decompose-dev/decompose/bench"
	"github.com/decompose-dev/decompose/bench/hookfloor"
	"github.com/decompose-dev/decompose/fixtures/legacyshop"
	"github.com/decompose-dev/decompose/fixtures/synth"
	"github.com/decompose-dev/decompose/trace/record"
)

type command struct {
	usage string
	run   func(args []string) error
}

var commands = map[string]command{
	"sysloop":    {"sysloop [-cases a,b] [-n N] [-dir D] [-prefix 'pair=1 arm=traced']: time tight syscall loops", sysloop},
	"writer":     {"writer -file F [-rate 100000] [-for 10s]: paced 64-byte pwrites", writer},
	"ab":         {"ab -raw FILE -metric name,higher|lower,target[,unit]...: A/B table with medians and ratios", ab},
	"hookfloor":  {"hookfloor [-rounds 7] [-n N] [-cases a,b] [-dir D]: time the loops under do-nothing programs on each hook kind", hookfloorCmd},
	"floorab":    {"floorab -raw FILE: table of what each hook kind added per syscall", floorab},
	"sysab":      {"sysab -raw FILE [-target 150] [-cases file,pipe,unix]: added ns per traced syscall", sysab},
	"wrk-lua":    {"wrk-lua: print the wrk script that reports rps and percentiles", wrkLua},
	"wrk":        {"wrk < wrk-output: key=value summary", wrkParse},
	"pgbench":    {"pgbench -out FILE [-log-prefix P]: key=value summary of a pgbench run", pgbenchParse},
	"timev":      {"timev < time-v-output: wall_s and maxrss_mb", timev},
	"proc":       {"proc -pid P: cpu_s, hwm_mb, rss_mb of a process", proc},
	"procwatch":  {"procwatch -pid P -for D: CPU % and peak RSS of a process over D", procwatch},
	"bpfprofile": {"bpfprofile -pid P -- CMD ARGS: per-program BPF run time of P's programs while CMD runs", bpfprofile},
	"foreign":    {"foreign [-pid P]: count recorder hot-path programs not held by P", foreign},
	"waitclean":  {"waitclean [-pid P] [-for 2m]: wait until no recorder but P is loaded; print how many are left", waitclean},
	"churncount": {"churncount -trace F -marker M -n N [-writer-file F]: execs and writes seen in a trace", churncount},
	"synth":      {"synth -records N -procs P -o FILE: write a synth.Scaled trace", synthCmd},
	"freeport":   {"freeport [-n 1]: free TCP ports on 127.0.0.1", freeport},
	"shop":       {"shop -bindir B -root R -env FILE: build and start legacyshop, write its env, stop it at SIGTERM", shop},
	"median":     {"median < numbers: the median", medianCmd},
	"record":     {"record -o TRACE [-pid P] -for D [-cpuprofile F] [-memprofile F]: record.Run in this process, with Go profiles", recordCmd},
	"table":      {"table -raw FILE -cols a,b,c [-where k=v]: Markdown table of raw records", table},
	"scale":      {"scale -raw FILE [-target-records 1000000 -target-s 5 -target-mb 1024]: engine scaling table", scale},
}

func main() {
	if len(os.Args) < 2 || commands[os.Args[1]].run == nil {
		names := make([]string, 0, len(commands))
		for n := range commands {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintln(os.Stderr, "usage: benchtool COMMAND ...")
		for _, n := range names {
			fmt.Fprintln(os.Stderr, "  "+commands[n].usage)
		}
		os.Exit(2)
	}
	if err := commands[os.Args[1]].run(os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "benchtool %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, " ") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func sysloop(args []string) error {
	fs := flag.NewFlagSet("sysloop", flag.ExitOnError)
	cases := fs.String("cases", "getppid,file,pipe,unix,unixmsg,tcp,connect", "cases to run, in order")
	n := fs.Int("n", 1000000, "iterations per case (slow cases run fewer: tcp n/10, connect n/50)")
	dir := fs.String("dir", "", "directory of the scratch file (default: $TMPDIR)")
	prefix := fs.String("prefix", "", "fields to put before each line")
	clean := fs.Bool("clean", false, "wait for other recorders to leave before each case, repeat a case they disturbed")
	ours := fs.Int("ours", 0, "with -clean: the pid of our recorder, whose programs do not count")
	wait := fs.Duration("wait", 2*time.Minute, "with -clean: longest wait for other recorders to leave")
	tries := fs.Int("tries", 5, "with -clean: most runs of one case")
	fs.Parse(args)
	return bench.RunSysLoops(os.Stdout, strings.Split(*cases, ","), *n, *dir, *prefix,
		bench.Clean{Enabled: *clean, Ours: *ours, Wait: *wait, Tries: *tries})
}

func hookfloorCmd(args []string) error {
	fs := flag.NewFlagSet("hookfloor", flag.ExitOnError)
	rounds := fs.Int("rounds", 7, "rounds; each runs every arm once")
	n := fs.Int("n", 300000, "iterations per case and arm (tcp n/10)")
	cases := fs.String("cases", strings.Join(hookfloor.DefaultCases, ","), "cases to run, in order")
	dir := fs.String("dir", "", "directory of the file case's scratch file (default: $TMPDIR)")
	fs.Parse(args)
	return hookfloor.Run(os.Stdout, *rounds, *n, strings.Split(*cases, ","), *dir)
}

func floorab(args []string) error {
	fs := flag.NewFlagSet("floorab", flag.ExitOnError)
	raw := fs.String("raw", "", "raw results of hookfloor")
	fs.Parse(args)
	recs, err := readRaw(*raw, nil)
	if err != nil {
		return err
	}
	hookfloor.Format(os.Stdout, hookfloor.Summarize(recs))
	return nil
}

func writer(args []string) error {
	fs := flag.NewFlagSet("writer", flag.ExitOnError)
	file := fs.String("file", "", "file to write")
	rate := fs.Int("rate", 100000, "writes per second")
	d := fs.Duration("for", 10*time.Second, "how long")
	fs.Parse(args)
	if *file == "" {
		return errors.New("-file is required")
	}
	n, el, err := bench.PacedWrites(*file, *rate, *d)
	if err != nil {
		return err
	}
	fmt.Printf("writes=%d elapsed_s=%.3f rate=%.0f\n", n, el.Seconds(), float64(n)/el.Seconds())
	return nil
}

func readRaw(path string, filter multi) ([]bench.Record, error) {
	recs, err := bench.ReadRecordsFile(path)
	if err != nil {
		return nil, err
	}
	var out []bench.Record
	for _, r := range recs {
		keep := true
		for _, f := range filter {
			k, v, _ := strings.Cut(f, "=")
			if r[k] != v {
				keep = false
			}
		}
		if keep {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no measurement", path)
	}
	return out, nil
}

func ab(args []string) error {
	fs := flag.NewFlagSet("ab", flag.ExitOnError)
	raw := fs.String("raw", "", "raw results file")
	var metrics, where multi
	fs.Var(&metrics, "metric", "name,higher|lower,target[,unit] (repeatable)")
	fs.Var(&where, "where", "key=value: only these records (repeatable)")
	summary := fs.Bool("summary", false, "print summary lines instead of the table")
	clean := fs.Bool("exclude-foreign", false, "leave out the pairs during which another recorder was loaded (foreign>0)")
	fs.Parse(args)
	recs, err := readRaw(*raw, where)
	if err != nil {
		return err
	}
	if *clean {
		var n int
		recs, n = bench.WithoutForeign(recs)
		fmt.Printf("Leaving out %d case-pairs during which another decompose recorder was loaded:\n\n", n)
		if len(recs) == 0 {
			fmt.Println("(no pair left)")
			return nil
		}
	}
	var ms []bench.Metric
	for _, s := range metrics {
		m, err := bench.ParseMetric(s)
		if err != nil {
			return err
		}
		ms = append(ms, m)
	}
	rows := bench.CompareAB(recs, ms)
	for _, r := range rows {
		if r.Pairs == 0 || math.IsNaN(r.Ratio) {
			return fmt.Errorf("case %s metric %s: no complete untraced/traced pair", r.Case, r.Metric.Name)
		}
	}
	if *summary {
		bench.SummaryLines(os.Stdout, rows)
	} else {
		bench.FormatAB(os.Stdout, rows)
	}
	return nil
}

func sysab(args []string) error {
	fs := flag.NewFlagSet("sysab", flag.ExitOnError)
	raw := fs.String("raw", "", "raw results file")
	target := fs.Float64("target", 150, "ns added per traced read/write")
	cases := fs.String("cases", "file,pipe,unix,tcp", "cases held to the target")
	fs.Parse(args)
	recs, err := readRaw(*raw, nil)
	if err != nil {
		return err
	}
	targeted := map[string]bool{}
	for _, c := range strings.Split(*cases, ",") {
		targeted[c] = true
	}
	rows := bench.CompareSyscalls(recs, *target, targeted)
	for _, r := range rows {
		if r.Pairs == 0 {
			return fmt.Errorf("case %s: no complete untraced/traced pair", r.Case)
		}
	}
	bench.FormatSyscalls(os.Stdout, rows)
	return nil
}

func wrkLua([]string) error {
	_, err := io.WriteString(os.Stdout, bench.WrkLua)
	return err
}

func wrkParse([]string) error {
	out, err := bench.ReadAll(os.Stdin)
	if err != nil {
		return err
	}
	r, err := bench.ParseWrk(out)
	if err != nil {
		return err
	}
	fmt.Printf("rps=%s p50_ms=%s p99_ms=%s errors=%s non2xx=%s requests=%s\n", r["rps"], r["p50_ms"], r["p99_ms"], r["errors"], r["non2xx"], r["requests"])
	return nil
}

func pgbenchParse(args []string) error {
	fs := flag.NewFlagSet("pgbench", flag.ExitOnError)
	out := fs.String("out", "", "pgbench's stdout")
	prefix := fs.String("log-prefix", "", "the --log-prefix of the run (for percentiles)")
	fs.Parse(args)
	b, err := os.ReadFile(*out)
	if err != nil {
		return err
	}
	var logs []string
	if *prefix != "" {
		if logs, err = bench.PgbenchLogs(*prefix); err != nil {
			return err
		}
		if len(logs) == 0 {
			return fmt.Errorf("no transaction log %s.*", *prefix)
		}
	}
	r, err := bench.ParsePgbench(string(b), logs)
	if err != nil {
		return err
	}
	fmt.Printf("tps=%s p50_ms=%s p99_ms=%s lat_avg_ms=%s txns=%s failed=%s\n", r["tps"], r["p50_ms"], r["p99_ms"], r["lat_avg_ms"], r["txns"], r["failed"])
	return nil
}

func timev([]string) error {
	out, err := bench.ReadAll(os.Stdin)
	if err != nil {
		return err
	}
	wall, kb, err := bench.ParseTimeV(out)
	if err != nil {
		return err
	}
	fmt.Printf("wall_s=%.3f maxrss_mb=%.1f\n", wall.Seconds(), float64(kb)/1024)
	return nil
}

func proc(args []string) error {
	fs := flag.NewFlagSet("proc", flag.ExitOnError)
	pid := fs.Int("pid", 0, "process")
	fs.Parse(args)
	s, err := bench.ReadProc(*pid)
	if err != nil {
		return err
	}
	fmt.Printf("cpu_s=%.2f hwm_mb=%.1f rss_mb=%.1f\n", s.CPU.Seconds(), float64(s.HWMKB)/1024, float64(s.RSSKB)/1024)
	return nil
}

func procwatch(args []string) error {
	fs := flag.NewFlagSet("procwatch", flag.ExitOnError)
	pid := fs.Int("pid", 0, "process")
	d := fs.Duration("for", 10*time.Second, "how long")
	fs.Parse(args)
	a, err := bench.ReadProc(*pid)
	if err != nil {
		return err
	}
	// Sample every 100 ms so that a peak of VmRSS is seen even if the
	// process exits (VmHWM is read at the end as well).
	peakRSS := a.RSSKB
	end := time.Now().Add(*d)
	b := a
	for time.Now().Before(end) {
		time.Sleep(min(100*time.Millisecond, time.Until(end)))
		s, err := bench.ReadProc(*pid)
		if err != nil {
			return fmt.Errorf("process %d ended during the watch: %w", *pid, err)
		}
		b = s
		peakRSS = max(peakRSS, s.RSSKB)
	}
	fmt.Printf("cpu_pct=%.2f cpu_s=%.2f wall_s=%.1f hwm_mb=%.1f rss_mb=%.1f peak_rss_mb=%.1f\n", bench.CPUPercent(a, b),
		(b.CPU - a.CPU).Seconds(), b.At.Sub(a.At).Seconds(), float64(b.HWMKB)/1024, float64(b.RSSKB)/1024, float64(peakRSS)/1024)
	return nil
}

func bpfprofile(args []string) error {
	fs := flag.NewFlagSet("bpfprofile", flag.ExitOnError)
	pid := fs.Int("pid", 0, "the recorder whose programs are profiled")
	fs.Parse(args)
	if fs.NArg() == 0 || *pid == 0 {
		return errors.New("usage: bpfprofile -pid P -- CMD ARGS")
	}
	stop, err := bench.EnableStats()
	if err != nil {
		return err
	}
	defer stop()
	before, err := bench.ProgStats(*pid)
	if err != nil {
		return err
	}
	cmd := execCommand(fs.Args())
	start := time.Now()
	runErr := cmd.Run()
	el := time.Since(start)
	after, err := bench.ProgStats(*pid)
	if err != nil {
		return err
	}
	if runErr != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), runErr)
	}
	ds := bench.DeltaHeld(before, after)
	var total uint64
	for _, d := range ds {
		total += d.NS
	}
	fmt.Printf("BPF programs of pid %d while `%s` ran (%.1f s, statistics on: each figure includes the ~20-30 ns the statistics add per run):\n\n",
		*pid, strings.Join(fs.Args(), " "), el.Seconds())
	fmt.Println("| program | runs | total ms | ns per run (run_time_ns/run_cnt) | recursion misses |")
	fmt.Println("|---|---|---|---|---|")
	for _, d := range ds {
		fmt.Printf("| %s | %d | %.1f | %.1f | %d |\n", d.Name, d.Runs, float64(d.NS)/1e6, d.AvgNS(), d.Misses)
	}
	fmt.Printf("\nbpfprofile total_ms=%.1f wall_s=%.2f\n", float64(total)/1e6, el.Seconds())
	return nil
}

func foreign(args []string) error {
	fs := flag.NewFlagSet("foreign", flag.ExitOnError)
	pid := fs.Int("pid", 0, "our recorder (0: none)")
	fs.Parse(args)
	n, err := bench.ForeignRecorders(*pid)
	if err != nil {
		return err
	}
	fmt.Println(n)
	return nil
}

func churncount(args []string) error {
	fs := flag.NewFlagSet("churncount", flag.ExitOnError)
	path := fs.String("trace", "", "trace file")
	marker := fs.String("marker", "", "argv[1] prefix of the execs")
	n := fs.Int("n", 0, "execs made")
	wf := fs.String("writer-file", "", "file of the paced writer")
	fs.Parse(args)
	r, err := bench.CountChurn(*path, *marker, *n, *wf)
	if err != nil {
		return err
	}
	fmt.Println(r)
	return nil
}

func synthCmd(args []string) error {
	fs := flag.NewFlagSet("synth", flag.ExitOnError)
	records := fs.Int("records", 1000, "access records")
	procs := fs.Int("procs", 10, "processes")
	out := fs.String("o", "", "trace to write")
	fs.Parse(args)
	if *out == "" {
		return errors.New("-o is required")
	}
	tr := synth.Scaled(*records, *procs)
	start := time.Now()
	if err := synth.Write(tr, *out); err != nil {
		return err
	}
	el := time.Since(start)
	fmt.Printf("records=%d processes=%d resources=%d write_s=%.3f write_records_per_s=%.0f\n",
		len(tr.Accesses), len(tr.Processes), len(tr.Resources), el.Seconds(), float64(len(tr.Accesses))/el.Seconds())
	return nil
}

func freeport(args []string) error {
	fs := flag.NewFlagSet("freeport", flag.ExitOnError)
	n := fs.Int("n", 1, "how many")
	fs.Parse(args)
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []string
	for i := 0; i < *n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		ls = append(ls, l)
		ports = append(ports, strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
	}
	fmt.Println(strings.Join(ports, " "))
	return nil
}

func shop(args []string) error {
	fs := flag.NewFlagSet("shop", flag.ExitOnError)
	binDir := fs.String("bindir", "", "where to build the binaries (reused)")
	root := fs.String("root", "", "install root (created; removed at the end)")
	env := fs.String("env", "", "file to write SHOP_PID, SHOP_URL, SHOP_SPOOL, SHOP_LOAD into")
	fs.Parse(args)
	if *binDir == "" || *root == "" || *env == "" {
		return errors.New("-bindir, -root and -env are required")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := legacyshop.Build(ctx, *binDir); err != nil {
		return err
	}
	inst, err := legacyshop.NewInstall(*root, *binDir)
	if err != nil {
		return err
	}
	defer os.RemoveAll(*root)
	app, err := inst.Start(ctx)
	if err != nil {
		return err
	}
	content := fmt.Sprintf("SHOP_PID=%d\nSHOP_URL=%s\nSHOP_SPOOL=%s\nSHOP_LOAD=%s/%s\n",
		app.StartPID(), inst.WebURL(), inst.SpoolDir, *binDir, legacyshop.LoadDriver)
	if err := os.WriteFile(*env+".tmp", []byte(content), 0o644); err != nil {
		app.Stop()
		return err
	}
	if err := os.Rename(*env+".tmp", *env); err != nil {
		app.Stop()
		return err
	}
	<-ctx.Done()
	return app.Stop()
}

func medianCmd([]string) error {
	out, err := bench.ReadAll(os.Stdin)
	if err != nil {
		return err
	}
	var xs []float64
	for _, f := range strings.Fields(out) {
		x, err := strconv.ParseFloat(f, 64)
		if err != nil {
			return err
		}
		xs = append(xs, x)
	}
	fmt.Println(bench.Num(bench.Median(xs)))
	return nil
}

func execCommand(argv []string) *exec.Cmd {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stderr, os.Stderr
	return cmd
}

func waitclean(args []string) error {
	fs := flag.NewFlagSet("waitclean", flag.ExitOnError)
	pid := fs.Int("pid", 0, "our recorder (0: none)")
	d := fs.Duration("for", 2*time.Minute, "longest wait")
	fs.Parse(args)
	n, err := bench.WaitClean(*pid, *d)
	if err != nil {
		return err
	}
	fmt.Println(n)
	return nil
}

func table(args []string) error {
	fs := flag.NewFlagSet("table", flag.ExitOnError)
	raw := fs.String("raw", "", "raw results file")
	cols := fs.String("cols", "", "fields, comma-separated")
	var where multi
	fs.Var(&where, "where", "key=value: only these records (repeatable)")
	fs.Parse(args)
	recs, err := readRaw(*raw, where)
	if err != nil {
		return err
	}
	bench.FormatTable(os.Stdout, recs, strings.Split(*cols, ","))
	return nil
}

func scale(args []string) error {
	fs := flag.NewFlagSet("scale", flag.ExitOnError)
	raw := fs.String("raw", "", "raw results file")
	tr := fs.Float64("target-records", 1e6, "size the target applies to")
	ts := fs.Float64("target-s", 5, "analyze wall time target, seconds")
	tm := fs.Float64("target-mb", 1024, "analyze peak RSS target, MB")
	var where multi
	fs.Var(&where, "where", "key=value: only these records (repeatable)")
	fs.Parse(args)
	recs, err := readRaw(*raw, where)
	if err != nil {
		return err
	}
	bench.FormatScale(os.Stdout, bench.CompareScale(recs), *tr, *ts, *tm)
	return nil
}

// recordCmd runs the recorder in this process (what `decompose record`
// runs) so that Go's profiler can see where its user-space time and memory
// go.
func recordCmd(args []string) error {
	fs := flag.NewFlagSet("record", flag.ExitOnError)
	out := fs.String("o", "", "trace to write")
	pid := fs.Int("pid", 0, "record this process tree (0: the whole host)")
	d := fs.Duration("for", 30*time.Second, "how long")
	cpu := fs.String("cpuprofile", "", "write a CPU profile of the recording (after start-up) here")
	mem := fs.String("memprofile", "", "write a heap profile here one second before the recording ends")
	ready := fs.String("ready", "", "create this file once the recorder records")
	fs.Parse(args)
	if *out == "" {
		return errors.New("-o is required")
	}
	if *mem != "" {
		runtime.MemProfileRate = 4096
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var cpuf *os.File
	heapDone := make(chan struct{})
	opts := record.Options{Output: *out, PID: *pid, Duration: *d, OnStart: func() {
		if *cpu != "" {
			f, err := os.Create(*cpu)
			if err == nil && pprof.StartCPUProfile(f) == nil {
				cpuf = f
			}
		}
		if *ready != "" {
			os.WriteFile(*ready, nil, 0o644)
		}
		if *mem != "" {
			go func() {
				defer close(heapDone)
				time.Sleep(max(0, *d-time.Second))
				if f, err := os.Create(*mem); err == nil {
					pprof.Lookup("heap").WriteTo(f, 0)
					f.Close()
				}
			}()
		}
	}}
	sum, err := record.Run(ctx, opts)
	if cpuf != nil {
		pprof.StopCPUProfile()
		cpuf.Close()
	}
	if *mem != "" && err == nil {
		<-heapDone
	}
	if err != nil {
		return err
	}
	fmt.Printf("rec_processes=%d rec_resources=%d rec_events=%d rec_drops=%d\n", sum.Processes, sum.Resources, sum.Events, sum.Drops)
	return nil
}
