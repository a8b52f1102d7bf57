package bench

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// clkTck is USER_HZ, the unit of utime and stime in /proc/PID/stat (100 on
// every Linux architecture decompose runs on).
const clkTck = 100

// ProcSample is one reading of a process's CPU time and memory.
type ProcSample struct {
	At     time.Time
	CPU    time.Duration // utime + stime
	HWMKB  int64         // VmHWM: peak resident set size
	RSSKB  int64         // VmRSS
	Exists bool
}

// ReadProc reads /proc/pid/stat and /proc/pid/status.
func ReadProc(pid int) (ProcSample, error) {
	s := ProcSample{At: time.Now()}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	// The command name (field 2) may hold spaces: fields count from the
	// last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return s, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	fs := strings.Fields(string(b[i+1:]))
	// fs[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(fs) < 13 {
		return s, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(fs)+2)
	}
	ut, err1 := strconv.ParseInt(fs[11], 10, 64)
	st, err2 := strconv.ParseInt(fs[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return s, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	s.CPU = time.Duration(ut+st) * time.Second / clkTck
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		v = strings.TrimSuffix(strings.TrimSpace(v), " kB")
		switch k {
		case "VmHWM":
			s.HWMKB, _ = strconv.ParseInt(v, 10, 64)
		case "VmRSS":
			s.RSSKB, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	s.Exists = true
	return s, sc.Err()
}

// CPUPercent is the CPU used between two samples, in percent of one core.
func CPUPercent(a, b ProcSample) float64 {
	wall := b.At.Sub(a.At)
	if wall <= 0 {
		return 0
	}
	return 100 * float64(b.CPU-a.CPU) / float64(wall)
}

// ProgStat is the run statistics of one BPF program.
type ProgStat struct {
	ID      ebpf.ProgramID
	Name    string
	Type    string
	RunCnt  uint64
	RunNS   uint64
	Misses  uint64
	HeldBy  bool // held by the process asked about
	Foreign bool // not held by it
}

// heldProgIDs returns the ids of the BPF programs pid holds an fd of.
func heldProgIDs(pid int) (map[ebpf.ProgramID]bool, error) {
	dir := fmt.Sprintf("/proc/%d/fdinfo", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	ids := map[ebpf.ProgramID]bool{}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "prog_id:"); ok {
				if id, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32); err == nil {
					ids[ebpf.ProgramID(id)] = true
				}
			}
		}
	}
	return ids, nil
}

// ProgStats lists every BPF program of the host with its run statistics
// (zero unless statistics are enabled) and whether pid holds it.
func ProgStats(pid int) ([]ProgStat, error) {
	held := map[ebpf.ProgramID]bool{}
	if pid > 0 {
		var err error
		if held, err = heldProgIDs(pid); err != nil {
			return nil, err
		}
	}
	var out []ProgStat
	id := ebpf.ProgramID(0)
	for {
		next, err := ebpf.ProgramGetNextID(id)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				break
			}
			return nil, err
		}
		id = next
		p, err := ebpf.NewProgramFromID(id)
		if err != nil {
			continue // unloaded meanwhile
		}
		st := ProgStat{ID: id, HeldBy: held[id], Foreign: !held[id]}
		if info, err := p.Info(); err == nil {
			st.Name, st.Type = info.Name, info.Type.String()
		}
		if s, err := p.Stats(); err == nil {
			st.RunCnt, st.RunNS, st.Misses = s.RunCount, uint64(s.Runtime), s.RecursionMisses
		}
		p.Close()
		out = append(out, st)
	}
	return out, nil
}

// HookNames are the names (as the kernel keeps them, 15 characters) of the
// recorder's hot-path programs, used to spot other recorders on the host.
var HookNames = []string{"exit_read", "exit_write"}

// ForeignRecorders counts the programs named like the recorder's hot-path
// hooks that pid does not hold: another decompose (or a test of it) is
// tracing the host, and an "untraced" run is not untraced.
func ForeignRecorders(pid int) (int, error) {
	all, err := ProgStats(pid)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, p := range all {
		if p.Foreign && (p.Name == "exit_write") {
			n++
		}
	}
	return n, nil
}

// EnableStats turns on BPF run-time statistics until the returned func is
// called.
func EnableStats() (func(), error) {
	c, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
	if err != nil {
		return nil, fmt.Errorf("enable BPF statistics: %w", err)
	}
	return func() { c.Close() }, nil
}

// ProgDelta is the work one program did between two ProgStats readings.
type ProgDelta struct {
	Name   string
	ID     ebpf.ProgramID
	Runs   uint64
	NS     uint64
	Misses uint64
}

// AvgNS is the mean run time per invocation.
func (d ProgDelta) AvgNS() float64 {
	if d.Runs == 0 {
		return 0
	}
	return float64(d.NS) / float64(d.Runs)
}

// DeltaHeld returns, for the programs held in after, what they did since
// before, most total time first; programs that did not run are left out.
func DeltaHeld(before, after []ProgStat) []ProgDelta {
	prev := map[ebpf.ProgramID]ProgStat{}
	for _, p := range before {
		prev[p.ID] = p
	}
	var out []ProgDelta
	for _, p := range after {
		if !p.HeldBy {
			continue
		}
		b := prev[p.ID]
		d := ProgDelta{Name: p.Name, ID: p.ID, Runs: p.RunCnt - b.RunCnt, NS: p.RunNS - b.RunNS, Misses: p.Misses - b.Misses}
		if d.Runs > 0 {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].NS != out[j].NS {
			return out[i].NS > out[j].NS
		}
		return out[i].Name < out[j].Name
	})
	return out
}
