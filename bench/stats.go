package bench

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
)

// Record is one measurement line of a raw results file: space-separated
// key=value fields, e.g. "pair=1 arm=traced case=static rps=20311.2".
type Record map[string]string

// Num returns the numeric value of field k, or NaN when it is missing or
// not a number.
func (r Record) Num(k string) float64 {
	v, ok := r[k]
	if !ok {
		return math.NaN()
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return math.NaN()
	}
	return f
}

// ParseRecord parses one key=value line; words without '=' are ignored.
func ParseRecord(line string) Record {
	r := Record{}
	for _, w := range strings.Fields(line) {
		if k, v, ok := strings.Cut(w, "="); ok && k != "" {
			r[k] = v
		}
	}
	return r
}

// ReadRecords reads every non-empty, non-comment line of r.
func ReadRecords(r io.Reader) ([]Record, error) {
	var out []Record
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if rec := ParseRecord(line); len(rec) > 0 {
			out = append(out, rec)
		}
	}
	return out, sc.Err()
}

// ReadRecordsFile reads the raw results file at path.
func ReadRecordsFile(path string) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadRecords(f)
}

// Median of xs (NaN values are left out); NaN when none is left.
func Median(xs []float64) float64 {
	var v []float64
	for _, x := range xs {
		if !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return math.NaN()
	}
	sort.Float64s(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// Percentile returns the p-th percentile (0-100, nearest rank) of xs, which
// it sorts.
func Percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	sort.Float64s(xs)
	rank := int(math.Ceil(p / 100 * float64(len(xs))))
	rank = min(max(rank, 1), len(xs))
	return xs[rank-1]
}

// MinMax returns the smallest and largest non-NaN values of xs.
func MinMax(xs []float64) (lo, hi float64) {
	lo, hi = math.NaN(), math.NaN()
	for _, x := range xs {
		if math.IsNaN(x) {
			continue
		}
		if math.IsNaN(lo) || x < lo {
			lo = x
		}
		if math.IsNaN(hi) || x > hi {
			hi = x
		}
	}
	return lo, hi
}

// Metric is one figure compared between the untraced and traced arms.
type Metric struct {
	Name string
	// Higher is true when a larger value is better (throughput); then the
	// target is met when traced/untraced >= Target. Otherwise (latency)
	// the target is met when traced/untraced <= Target.
	Higher bool
	Target float64
	Unit   string
}

// ParseMetric reads "name,higher|lower,target[,unit]".
func ParseMetric(s string) (Metric, error) {
	parts := strings.Split(s, ",")
	if len(parts) < 3 {
		return Metric{}, fmt.Errorf("metric %q: want name,higher|lower,target[,unit]", s)
	}
	m := Metric{Name: parts[0]}
	switch parts[1] {
	case "higher":
		m.Higher = true
	case "lower":
	default:
		return Metric{}, fmt.Errorf("metric %q: %q is neither higher nor lower", s, parts[1])
	}
	t, err := strconv.ParseFloat(parts[2], 64)
	if err != nil {
		return Metric{}, fmt.Errorf("metric %q: target: %w", s, err)
	}
	m.Target = t
	if len(parts) > 3 {
		m.Unit = parts[3]
	}
	return m, nil
}

// ABRow is the comparison of one metric of one case.
type ABRow struct {
	Case      string
	Metric    Metric
	Pairs     int     // pairs with both arms measured
	Untraced  float64 // median
	Traced    float64 // median
	Ratio     float64 // Traced / Untraced (ratio of the medians)
	PairLo    float64 // smallest per-pair ratio
	PairHi    float64 // largest per-pair ratio
	PairMed   float64 // median of the per-pair ratios
	Pass      bool
	Untraceds []float64
	Traceds   []float64
	// PairedU and PairedT hold the values of the pairs with both arms, in
	// pair order.
	PairedU, PairedT []float64
}

// Arms of an A/B comparison, as written in the arm= field.
const (
	ArmUntraced = "untraced"
	ArmTraced   = "traced"
)

// CompareAB groups records by their case field and compares each metric
// between arm=untraced and arm=traced, pairing runs by their pair field.
// Cases keep the order of their first appearance.
func CompareAB(recs []Record, metrics []Metric) []ABRow {
	var cases []string
	seen := map[string]bool{}
	type key struct{ c, pair, arm string }
	byKey := map[key]Record{}
	for _, r := range recs {
		c := r["case"]
		if !seen[c] {
			seen[c] = true
			cases = append(cases, c)
		}
		byKey[key{c, r["pair"], r["arm"]}] = r
	}
	var rows []ABRow
	for _, c := range cases {
		var pairs []string
		pseen := map[string]bool{}
		for _, r := range recs {
			if r["case"] == c && !pseen[r["pair"]] {
				pseen[r["pair"]] = true
				pairs = append(pairs, r["pair"])
			}
		}
		for _, m := range metrics {
			row := ABRow{Case: c, Metric: m}
			var ratios []float64
			for _, p := range pairs {
				u, uok := byKey[key{c, p, ArmUntraced}]
				t, tok := byKey[key{c, p, ArmTraced}]
				if uok {
					row.Untraceds = append(row.Untraceds, u.Num(m.Name))
				}
				if tok {
					row.Traceds = append(row.Traceds, t.Num(m.Name))
				}
				if uok && tok {
					row.Pairs++
					row.PairedU = append(row.PairedU, u.Num(m.Name))
					row.PairedT = append(row.PairedT, t.Num(m.Name))
					ratios = append(ratios, t.Num(m.Name)/u.Num(m.Name))
				}
			}
			row.Untraced, row.Traced = Median(row.Untraceds), Median(row.Traceds)
			row.Ratio = row.Traced / row.Untraced
			row.PairLo, row.PairHi = MinMax(ratios)
			row.PairMed = Median(ratios)
			if m.Higher {
				row.Pass = row.Ratio >= m.Target
			} else {
				row.Pass = row.Ratio <= m.Target
			}
			rows = append(rows, row)
		}
	}
	return rows
}

// Verdict is "PASS" or "MISS".
func Verdict(pass bool) string {
	if pass {
		return "PASS"
	}
	return "MISS"
}

// FormatAB writes rows as a Markdown table.
func FormatAB(w io.Writer, rows []ABRow) {
	fmt.Fprintln(w, "| case | metric | pairs | untraced (median) | traced (median) | traced/untraced | per-pair ratios (median, min-max) | target | result |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		op := ">="
		if !r.Metric.Higher {
			op = "<="
		}
		unit := ""
		if r.Metric.Unit != "" {
			unit = " " + r.Metric.Unit
		}
		fmt.Fprintf(w, "| %s | %s | %d | %s%s | %s%s | %.3f | %.3f (%.3f-%.3f) | %s %.2f | %s |\n",
			r.Case, r.Metric.Name, r.Pairs, num(r.Untraced), unit, num(r.Traced), unit, r.Ratio,
			r.PairMed, r.PairLo, r.PairHi, op, r.Metric.Target, Verdict(r.Pass))
	}
}

// SummaryLines writes one machine-readable line per row.
func SummaryLines(w io.Writer, rows []ABRow) {
	for _, r := range rows {
		fmt.Fprintf(w, "summary case=%s metric=%s pairs=%d untraced=%s traced=%s ratio=%.4f target=%g result=%s\n",
			r.Case, r.Metric.Name, r.Pairs, num(r.Untraced), num(r.Traced), r.Ratio, r.Metric.Target, Verdict(r.Pass))
	}
}

// num formats a measurement with a sensible number of digits.
func num(x float64) string {
	switch a := math.Abs(x); {
	case math.IsNaN(x):
		return "n/a"
	case a >= 1000:
		return strconv.FormatFloat(x, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(x, 'f', 1, 64)
	default:
		return strconv.FormatFloat(x, 'f', 3, 64)
	}
}

// Num formats x like the tables do.
func Num(x float64) string { return num(x) }

// SysRow is the added cost per traced syscall of one syscall loop case.
type SysRow struct {
	Case           string
	SyscallsPerIt  float64
	TracedPerIt    float64
	Pairs          int
	Untraced       float64 // median ns per iteration
	Traced         float64 // median ns per iteration
	AddedPerIt     float64 // median over pairs of (traced - untraced) ns per iteration
	AddedPerTraced float64 // AddedPerIt / TracedPerIt (per syscall when TracedPerIt is 0)
	Lo, Hi         float64 // range of the per-pair added ns per traced syscall
	Target         float64 // 0: no target for this case
	Pass           bool
}

// CompareSyscalls computes, for each case, the nanoseconds the recording
// adds to each traced syscall: per pair (traced - untraced) ns per
// iteration divided by the traced syscalls per iteration, then the median
// over pairs. Cases whose name is in targeted are held to target.
func CompareSyscalls(recs []Record, target float64, targeted map[string]bool) []SysRow {
	rows := CompareAB(recs, []Metric{{Name: "ns_per_iter", Target: math.Inf(1)}})
	var out []SysRow
	for _, r := range rows {
		s := SysRow{Case: r.Case, Pairs: r.Pairs, Untraced: r.Untraced, Traced: r.Traced}
		for _, rec := range recs {
			if rec["case"] == r.Case {
				s.SyscallsPerIt, s.TracedPerIt = rec.Num("syscalls_per_iter"), rec.Num("traced_per_iter")
				break
			}
		}
		div := s.TracedPerIt
		if div <= 0 || math.IsNaN(div) {
			div = s.SyscallsPerIt
		}
		var added []float64
		for i := range r.PairedU {
			added = append(added, (r.PairedT[i]-r.PairedU[i])/div)
		}
		s.AddedPerTraced = Median(added)
		s.AddedPerIt = s.AddedPerTraced * div
		s.Lo, s.Hi = MinMax(added)
		if targeted[r.Case] {
			s.Target = target
			s.Pass = s.AddedPerTraced <= target
		}
		out = append(out, s)
	}
	return out
}

// FormatSyscalls writes rows as a Markdown table.
func FormatSyscalls(w io.Writer, rows []SysRow) {
	fmt.Fprintln(w, "| case | syscalls/iter (traced) | pairs | untraced ns/iter (median) | traced ns/iter (median) | ratio | added ns per traced syscall (median of pairs, min-max) | target | result |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		target, verdict := "-", "-"
		if r.Target > 0 {
			target, verdict = fmt.Sprintf("<= %.0f ns", r.Target), Verdict(r.Pass)
		}
		fmt.Fprintf(w, "| %s | %.0f (%.0f) | %d | %s | %s | %.3f | %s (%s to %s) | %s | %s |\n",
			r.Case, r.SyscallsPerIt, r.TracedPerIt, r.Pairs, num(r.Untraced), num(r.Traced), r.Traced/r.Untraced,
			num(r.AddedPerTraced), num(r.Lo), num(r.Hi), target, verdict)
	}
}

// FormatTable writes the cols fields of recs as a Markdown table.
func FormatTable(w io.Writer, recs []Record, cols []string) {
	fmt.Fprintln(w, "| "+strings.Join(cols, " | ")+" |")
	fmt.Fprintln(w, "|"+strings.Repeat("---|", len(cols)))
	for _, r := range recs {
		vals := make([]string, len(cols))
		for i, c := range cols {
			vals[i] = r[c]
			if vals[i] == "" {
				vals[i] = "-"
			}
		}
		fmt.Fprintln(w, "| "+strings.Join(vals, " | ")+" |")
	}
}

// ScaleRow is the median of the repetitions of one operation at one size.
type ScaleRow struct {
	Series   string // "size" (records grow, processes = records/100) or "procs" (processes grow)
	Op       string
	Records  float64
	Procs    float64
	Reps     int
	WallS    float64 // median wall time
	MaxRSSMB float64 // median peak RSS
	// Growth is the exponent k of wall ~ x^k against the previous row of
	// the same series and op, x being the records (series size) or the
	// processes (series procs); NaN for the first.
	Growth float64
}

// CompareScale groups records (series=, op=, records=, procs=, wall_s=,
// maxrss_mb=) by series, operation and size, in order of first appearance.
func CompareScale(recs []Record) []ScaleRow {
	type key struct{ s, op, n, p string }
	var order []key
	groups := map[key][]Record{}
	for _, r := range recs {
		k := key{r["series"], r["op"], r["records"], r["procs"]}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	var rows []ScaleRow
	prev := map[string]ScaleRow{}
	for _, k := range order {
		g := groups[k]
		var wall, rss []float64
		for _, r := range g {
			wall = append(wall, r.Num("wall_s"))
			rss = append(rss, r.Num("maxrss_mb"))
		}
		row := ScaleRow{Series: k.s, Op: k.op, Records: g[0].Num("records"), Procs: g[0].Num("procs"), Reps: len(g),
			WallS: Median(wall), MaxRSSMB: Median(rss), Growth: math.NaN()}
		x := func(r ScaleRow) float64 {
			if r.Series == "procs" {
				return r.Procs
			}
			return r.Records
		}
		series := k.s + "/" + k.op
		if p, ok := prev[series]; ok && x(p) != x(row) && p.WallS > 0 && row.WallS > 0 {
			row.Growth = math.Log(row.WallS/p.WallS) / math.Log(x(row)/x(p))
		}
		prev[series] = row
		rows = append(rows, row)
	}
	return rows
}

// FormatScale writes rows as a Markdown table; the target (seconds, MB) is
// checked for the analyze rows at records=targetRecords of series size.
func FormatScale(w io.Writer, rows []ScaleRow, targetRecords, targetS, targetMB float64) {
	fmt.Fprintln(w, "| series | operation | access records | processes | runs | wall s (median) | peak RSS MB (median) | growth exponent k | target | result |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		g := "-"
		if !math.IsNaN(r.Growth) {
			g = fmt.Sprintf("%.2f", r.Growth)
		}
		target, verdict := "-", "-"
		if r.Records == targetRecords && r.Series != "procs" && (r.Op == "analyze" || r.Op == "analyze-go") {
			if math.IsNaN(r.MaxRSSMB) {
				target = fmt.Sprintf("< %g s", targetS)
				verdict = Verdict(r.WallS < targetS)
			} else {
				target = fmt.Sprintf("< %g s, < %g MB", targetS, targetMB)
				verdict = Verdict(r.WallS < targetS && r.MaxRSSMB < targetMB)
			}
		}
		fmt.Fprintf(w, "| %s | %s | %.0f | %.0f | %d | %.3f | %s | %s | %s | %s |\n",
			r.Series, r.Op, r.Records, r.Procs, r.Reps, r.WallS, num(r.MaxRSSMB), g, target, verdict)
	}
}

// WithoutForeign drops the pairs (per case) in which either run saw
// another recorder loaded on the machine (foreign > 0), and returns how
// many pairs it dropped.
func WithoutForeign(recs []Record) ([]Record, int) {
	type key struct{ c, pair string }
	bad := map[key]bool{}
	for _, r := range recs {
		if r.Num("foreign") > 0 {
			bad[key{r["case"], r["pair"]}] = true
		}
	}
	var out []Record
	for _, r := range recs {
		if !bad[key{r["case"], r["pair"]}] {
			out = append(out, r)
		}
	}
	return out, len(bad)
}
