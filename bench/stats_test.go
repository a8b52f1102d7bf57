package bench

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{math.NaN(), 5}, 5},
	} {
		if got := Median(c.in); got != c.want {
			t.Errorf("Median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
	if !math.IsNaN(Median(nil)) {
		t.Error("Median(nil) is not NaN")
	}
	if got := Percentile([]float64{5, 1, 4, 2, 3, 6, 7, 8, 9, 10}, 90); got != 9 {
		t.Errorf("p90 = %v", got)
	}
}

const abRaw = `
pair=1 arm=untraced case=static rps=1000 p99_ms=2.0
pair=1 arm=traced case=static rps=960 p99_ms=2.1
pair=2 arm=untraced case=static rps=1100 p99_ms=2.0
pair=2 arm=traced case=static rps=900 p99_ms=2.4
pair=3 arm=untraced case=static rps=1050 p99_ms=2.0
pair=3 arm=traced case=static rps=1040 p99_ms=2.0
pair=3 arm=untraced case=proxy rps=500 p99_ms=4
`

func TestCompareAB(t *testing.T) {
	recs, err := ReadRecords(strings.NewReader(abRaw))
	if err != nil {
		t.Fatal(err)
	}
	rps, _ := ParseMetric("rps,higher,0.95")
	p99, _ := ParseMetric("p99_ms,lower,1.10,ms")
	rows := CompareAB(recs, []Metric{rps, p99})
	if len(rows) != 4 {
		t.Fatalf("%d rows", len(rows))
	}
	r := rows[0]
	if r.Case != "static" || r.Pairs != 3 || r.Untraced != 1050 || r.Traced != 960 || r.Pass {
		t.Errorf("static rps: %+v", r)
	}
	if math.Abs(r.Ratio-960.0/1050) > 1e-9 || math.Abs(r.PairLo-900.0/1100) > 1e-9 || math.Abs(r.PairHi-1040.0/1050) > 1e-9 {
		t.Errorf("ratios: %v %v %v", r.Ratio, r.PairLo, r.PairHi)
	}
	if p := rows[1]; p.Metric.Name != "p99_ms" || p.Traced != 2.1 || !p.Pass {
		t.Errorf("static p99: %+v", p)
	}
	if p := rows[2]; p.Case != "proxy" || p.Pairs != 0 {
		t.Errorf("proxy without a traced run: %+v", p)
	}
	var sb strings.Builder
	FormatAB(&sb, rows[:2])
	if !strings.Contains(sb.String(), "| static | rps | 3 | 1050 | 960.0 | 0.914 |") || !strings.Contains(sb.String(), "MISS") {
		t.Errorf("table:\n%s", sb.String())
	}
}

func TestCompareSyscalls(t *testing.T) {
	raw := `pair=1 arm=untraced case=pipe syscalls_per_iter=2 traced_per_iter=2 ns_per_iter=1000
pair=1 arm=traced case=pipe syscalls_per_iter=2 traced_per_iter=2 ns_per_iter=1200
pair=2 arm=untraced case=pipe syscalls_per_iter=2 traced_per_iter=2 ns_per_iter=1100
pair=2 arm=traced case=pipe syscalls_per_iter=2 traced_per_iter=2 ns_per_iter=1500
pair=1 arm=untraced case=getppid syscalls_per_iter=1 traced_per_iter=0 ns_per_iter=150
pair=1 arm=traced case=getppid syscalls_per_iter=1 traced_per_iter=0 ns_per_iter=170
`
	recs, _ := ReadRecords(strings.NewReader(raw))
	rows := CompareSyscalls(recs, 150, map[string]bool{"pipe": true})
	if len(rows) != 2 {
		t.Fatalf("%d rows", len(rows))
	}
	// per pair: (1200-1000)/2 = 100, (1500-1100)/2 = 200: median 150
	if p := rows[0]; p.Case != "pipe" || p.AddedPerTraced != 150 || !p.Pass || p.Lo != 100 || p.Hi != 200 {
		t.Errorf("pipe: %+v", p)
	}
	if g := rows[1]; g.AddedPerTraced != 20 || g.Target != 0 {
		t.Errorf("getppid: %+v", g)
	}
}

func TestCompareScale(t *testing.T) {
	raw := `series=size op=analyze records=1000 procs=10 wall_s=0.1 maxrss_mb=20
series=size op=analyze records=10000 procs=100 wall_s=1 maxrss_mb=40
series=size op=analyze records=1000000 procs=10000 wall_s=4 maxrss_mb=900
series=procs op=analyze records=10000 procs=100 wall_s=1 maxrss_mb=40
`
	recs, _ := ReadRecords(strings.NewReader(raw))
	rows := CompareScale(recs)
	if len(rows) != 4 || math.Abs(rows[1].Growth-1) > 1e-9 || rows[3].Series != "procs" || !math.IsNaN(rows[3].Growth) {
		t.Fatalf("rows: %+v", rows)
	}
	var sb strings.Builder
	FormatScale(&sb, rows, 1e6, 5, 1024)
	if !strings.Contains(sb.String(), "| size | analyze | 1000000 | 10000 | 1 | 4.000 | 900.0 | 0.30 | < 5 s, < 1024 MB | PASS |") {
		t.Errorf("table:\n%s", sb.String())
	}
}

func TestParseWrk(t *testing.T) {
	out := "Running 1s test @ http://127.0.0.1:1/\n  2 threads and 4 connections\n" +
		"wrk requests=1234 duration_s=1.002 rps=1231.5 p50_ms=0.100 p90_ms=0.200 p99_ms=0.900 max_ms=3.000 errors=0 non2xx=0\n"
	r, err := ParseWrk(out)
	if err != nil || r.Num("rps") != 1231.5 || r.Num("p99_ms") != 0.9 {
		t.Errorf("ParseWrk: %v %v", r, err)
	}
	if _, err := ParseWrk("unable to connect"); err == nil {
		t.Error("no error without a summary line")
	}
}

func TestParsePgbench(t *testing.T) {
	out := `pgbench (15.18 (Debian 15.18-0+deb12u1))
transaction type: <builtin: TPC-B (sort of)>
number of failed transactions: 0 (0.000%)
latency average = 3.369 ms
initial connection time = 5.123 ms
tps = 1187.333235 (without initial connection time)
`
	dir := t.TempDir()
	log := filepath.Join(dir, "l.123")
	var sb strings.Builder
	for i := 1; i <= 100; i++ {
		fmt.Fprintf(&sb, "0 %d %d 0 1700000000 123\n", i, i*1000)
	}
	if err := os.WriteFile(log, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	logs, _ := PgbenchLogs(filepath.Join(dir, "l"))
	r, err := ParsePgbench(out, logs)
	if err != nil {
		t.Fatal(err)
	}
	if r.Num("tps") != 1187.333235 || r.Num("p99_ms") != 99 || r.Num("p50_ms") != 50 || r.Num("txns") != 100 || r.Num("failed") != 0 {
		t.Errorf("ParsePgbench: %v", r)
	}
}

func TestParseTimeV(t *testing.T) {
	out := `	Command being timed: "decompose analyze x.trace"
	Elapsed (wall clock) time (h:mm:ss or m:ss): 1:02.50
	Maximum resident set size (kbytes): 204800
`
	wall, kb, err := ParseTimeV(out)
	if err != nil || wall != 62500*time.Millisecond || kb != 204800 {
		t.Errorf("ParseTimeV: %v %v %v", wall, kb, err)
	}
}

func TestReadProc(t *testing.T) {
	s, err := ReadProc(os.Getpid())
	if err != nil || !s.Exists || s.HWMKB <= 0 || s.RSSKB <= 0 {
		t.Fatalf("ReadProc(self): %+v %v", s, err)
	}
	deadline := time.Now().Add(50 * time.Millisecond)
	for time.Now().Before(deadline) {
	}
	s2, _ := ReadProc(os.Getpid())
	if p := CPUPercent(s, s2); p < 0 || p > 400 {
		t.Errorf("CPU %% %v", p)
	}
}

func TestSysLoopsRun(t *testing.T) {
	var sb strings.Builder
	names := make([]string, 0, len(SysCases))
	for _, c := range SysCases {
		names = append(names, c.Name)
	}
	if err := RunSysLoops(&sb, names, 2000, t.TempDir(), "pair=1 arm=untraced", Clean{}); err != nil {
		t.Fatal(err)
	}
	recs, _ := ReadRecords(strings.NewReader(sb.String()))
	if len(recs) != len(SysCases) {
		t.Fatalf("%d lines:\n%s", len(recs), sb.String())
	}
	for _, r := range recs {
		if !(r.Num("ns_per_iter") > 0) || r["arm"] != "untraced" {
			t.Errorf("line %v", r)
		}
	}
}

func TestPacedWrites(t *testing.T) {
	n, el, err := PacedWrites(filepath.Join(t.TempDir(), "w"), 20000, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if rate := float64(n) / el.Seconds(); rate < 5000 || rate > 25000 {
		t.Errorf("%d writes in %v: %.0f/s, want about 20000/s", n, el, rate)
	}
}

func TestWithoutForeign(t *testing.T) {
	recs, _ := ReadRecords(strings.NewReader(`pair=1 arm=untraced case=a foreign=0 x=1
pair=1 arm=traced case=a foreign=2 x=2
pair=2 arm=untraced case=a foreign=0 x=3
pair=2 arm=traced case=a foreign=0 x=4
pair=1 arm=untraced case=b foreign=0 x=5
`))
	out, n := WithoutForeign(recs)
	if n != 1 || len(out) != 3 || out[0]["pair"] != "2" || out[2]["case"] != "b" {
		t.Errorf("WithoutForeign: %d dropped, kept %v", n, out)
	}
}
