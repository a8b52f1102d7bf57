package bench

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// WrkLua is the wrk script whose done() callback prints one key=value line
// with the throughput and latency percentiles (wrk reports latency in
// microseconds; the line gives milliseconds).
const WrkLua = `done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("wrk requests=%d duration_s=%.3f rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f errors=%d non2xx=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.connect + e.read + e.write + e.timeout, e.status))
end
`

// ParseWrk finds the line WrkLua prints in wrk's output.
func ParseWrk(out string) (Record, error) {
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "wrk requests=") {
			r := ParseRecord(strings.TrimPrefix(line, "wrk "))
			if r.Num("requests") <= 0 {
				return r, fmt.Errorf("wrk made no request: %s", line)
			}
			return r, nil
		}
	}
	return nil, errors.New("no summary line from wrk (is the -s script the one benchtool wrk-lua writes?)")
}

var pgTPS = regexp.MustCompile(`(?m)^tps = ([0-9.]+) \(without initial connection time\)`)
var pgLat = regexp.MustCompile(`(?m)^latency average = ([0-9.]+) ms`)
var pgFailed = regexp.MustCompile(`(?m)^number of failed transactions: ([0-9]+)`)

// ParsePgbench reads pgbench's summary (tps, average latency, failed
// transactions) and, when logs is not empty, the per-transaction logs that
// `pgbench -l --log-prefix` wrote, for the latency percentiles.
func ParsePgbench(out string, logs []string) (Record, error) {
	r := Record{}
	m := pgTPS.FindStringSubmatch(out)
	if m == nil {
		return nil, errors.New("no tps line in pgbench output")
	}
	r["tps"] = m[1]
	if m := pgLat.FindStringSubmatch(out); m != nil {
		r["lat_avg_ms"] = m[1]
	}
	r["failed"] = "0"
	if m := pgFailed.FindStringSubmatch(out); m != nil {
		r["failed"] = m[1]
	}
	if len(logs) == 0 {
		return r, nil
	}
	var lat []float64
	for _, p := range logs {
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			// client_id transaction_no time script_no time_epoch time_us
			fs := strings.Fields(sc.Text())
			if len(fs) < 3 {
				continue
			}
			us, err := strconv.ParseFloat(fs[2], 64)
			if err != nil {
				continue // "skipped" or "failed"
			}
			lat = append(lat, us/1000)
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return nil, err
		}
	}
	if len(lat) == 0 {
		return nil, errors.New("pgbench transaction logs hold no transaction")
	}
	r["txns"] = strconv.Itoa(len(lat))
	r["p50_ms"] = strconv.FormatFloat(Percentile(lat, 50), 'f', 3, 64)
	r["p99_ms"] = strconv.FormatFloat(Percentile(lat, 99), 'f', 3, 64)
	return r, nil
}

// PgbenchLogs lists the transaction logs written with --log-prefix prefix.
func PgbenchLogs(prefix string) ([]string, error) {
	return filepath.Glob(prefix + ".*")
}

// ParseTimeV reads the wall time and peak RSS from /usr/bin/time -v output.
func ParseTimeV(out string) (wall time.Duration, maxRSSKB int64, err error) {
	var gotWall, gotRSS bool
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if v, ok := strings.CutPrefix(line, "Elapsed (wall clock) time (h:mm:ss or m:ss): "); ok {
			wall, err = parseClock(v)
			if err != nil {
				return 0, 0, err
			}
			gotWall = true
		}
		if v, ok := strings.CutPrefix(line, "Maximum resident set size (kbytes): "); ok {
			maxRSSKB, err = strconv.ParseInt(v, 10, 64)
			if err != nil {
				return 0, 0, err
			}
			gotRSS = true
		}
	}
	if !gotWall || !gotRSS {
		return 0, 0, errors.New("no wall clock or maximum resident set size line in /usr/bin/time -v output")
	}
	return wall, maxRSSKB, nil
}

// parseClock reads h:mm:ss or m:ss.ss.
func parseClock(s string) (time.Duration, error) {
	parts := strings.Split(s, ":")
	var secs float64
	for _, p := range parts {
		v, err := strconv.ParseFloat(p, 64)
		if err != nil {
			return 0, fmt.Errorf("wall clock %q: %w", s, err)
		}
		secs = secs*60 + v
	}
	return time.Duration(secs * float64(time.Second)), nil
}

// ReadAll reads r into a string (for the parse subcommands).
func ReadAll(r io.Reader) (string, error) {
	b, err := io.ReadAll(r)
	return string(b), err
}
