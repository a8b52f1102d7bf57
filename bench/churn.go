package bench

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/decompose-dev/decompose/trace"
)

// ChurnResult is what a whole-host trace says about the churn run: execs
// marked "MARKER-i" in argv[1], and the paced writer's file.
type ChurnResult struct {
	Expected   int   // execs made
	Seen       int   // distinct marked execs in the trace
	WithExe    int   // ... with their executable path
	WithParent int   // ... attributed to their parent (the shell loop)
	Writes     int64 // writes to the writer's file counted in the trace
	RingDrops  int64 // recorder counter ring_drops at the end
	Evicted    int64 // blind spot: counter entries evicted
	Unresolved int64 // blind spot: counters without description
	Processes  int   // processes in the trace
}

// String is the raw results line.
func (c ChurnResult) String() string {
	return fmt.Sprintf("execs_expected=%d execs_seen=%d execs_with_exe=%d execs_with_parent=%d writes_counted=%d ring_drops=%d evicted=%d unresolved=%d trace_processes=%d",
		c.Expected, c.Seen, c.WithExe, c.WithParent, c.Writes, c.RingDrops, c.Evicted, c.Unresolved, c.Processes)
}

// CountChurn reads the trace at path. marker prefixes argv[1] of each exec
// ("MARKER-<i>", i from 0 to n-1); writerFile is the file the paced writer
// wrote ("" to skip).
func CountChurn(path, marker string, n int, writerFile string) (ChurnResult, error) {
	t, err := trace.Open(path)
	if err != nil {
		return ChurnResult{}, err
	}
	res := ChurnResult{Expected: n, Processes: len(t.Processes)}
	byID := map[trace.ProcessID]*trace.Process{}
	for i := range t.Processes {
		byID[t.Processes[i].ID] = &t.Processes[i]
	}
	seen := map[int]bool{}
	exe := map[int]bool{}
	parent := map[int]bool{}
	for _, p := range t.Processes {
		if len(p.Argv) < 2 {
			continue
		}
		v, ok := strings.CutPrefix(p.Argv[1], marker+"-")
		if !ok {
			continue
		}
		i, err := strconv.Atoi(v)
		if err != nil || i < 0 || i >= n {
			continue
		}
		seen[i] = true
		if filepath.Base(p.Exe) == "true" {
			exe[i] = true
		}
		if pp := byID[p.ParentID]; pp != nil && strings.Contains(filepath.Base(pp.Exe), "bash") {
			parent[i] = true
		}
	}
	res.Seen, res.WithExe, res.WithParent = len(seen), len(exe), len(parent)
	if writerFile != "" {
		ids := map[trace.ResourceID]bool{}
		for _, r := range t.Resources {
			if r.Path == writerFile {
				ids[r.ID] = true
			}
		}
		for _, a := range t.Accesses {
			if ids[a.Resource] {
				res.Writes += a.Writes
			}
		}
	}
	for _, c := range t.Counters {
		if c.Name == "ring_drops" {
			res.RingDrops = c.Value
		}
	}
	for _, b := range t.BlindSpots {
		switch b.What {
		case "counter entries evicted":
			res.Evicted = b.Count
		case "counters without description":
			res.Unresolved = b.Count
		}
	}
	return res, nil
}
