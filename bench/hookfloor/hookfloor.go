// Package hookfloor measures the floor of each kind of kernel hook a
// recorder of reads and writes can use where kprobes, fentry and LSM are
// refused: it attaches do-nothing BPF programs (bpf/floor.bpf.c) to one
// kind of hook at a time and times bench's syscall loops, interleaved with
// runs where nothing is attached. What a hook adds there is what the
// kernel's path into a program costs before the program does any work, so
// no recorder built on that hook can add less.
package hookfloor

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/link"

	"github.com/decompose-dev/decompose/bench"
)

// An Arm is one set of hooks attached during a run.
type Arm struct {
	Name string
	// What is the arm's column heading.
	What string
	// syscalls are the per-syscall exit tracepoints of the arm;
	// tracing are its tp_btf programs (by program name).
	syscalls, tracing []string
}

var rw = []string{"read", "write", "pread64", "pwrite64"}

// Arms are the sets measured, in order. "none" is the baseline every
// other arm is compared with; "split" is sockets from the socket layer's
// tracepoints and files and pipes from per-syscall tracepoints.
var Arms = []Arm{
	{Name: "none", What: "nothing attached"},
	{Name: "syscall", What: "sys_exit_* tracepoints (read, write, pread64, pwrite64, sendto, recvfrom)",
		syscalls: append(slices.Clone(rw), "sendto", "recvfrom")},
	{Name: "sock", What: "tp_btf sock_send_length + sock_recv_length",
		tracing: []string{"sock_send_length", "sock_recv_length"}},
	{Name: "split", What: "sys_exit_{read,write,pread64,pwrite64} + tp_btf sock_*_length",
		syscalls: rw, tracing: []string{"sock_send_length", "sock_recv_length"}},
	{Name: "rawexit", What: "tp_btf sys_exit (one program for every syscall)",
		tracing: []string{"raw_sys_exit"}},
}

// DefaultCases are the loops measured: getppid has no hook of its own
// and shows the tax every syscall pays; unixmsg is sendto/recvfrom.
var DefaultCases = []string{"getppid", "file", "pipe", "unix", "unixmsg", "tcp"}

// attached is an arm's programs and links.
type attached struct {
	progs []*ebpf.Program
	links []link.Link
}

func (a *attached) close() {
	for _, l := range a.links {
		l.Close()
	}
	for _, p := range a.progs {
		p.Close()
	}
}

// ErrUnavailable wraps the reason an arm's hooks cannot be loaded on this
// kernel: it lacks the hook (the socket tracepoints need 6.3) or the
// program type. Any other failure stops the run.
var ErrUnavailable = errors.New("hook unavailable")

// attach loads and attaches arm's programs from spec; on an error, what it
// had attached is closed again.
func attach(spec *ebpf.CollectionSpec, arm Arm) (_ *attached, err error) {
	a := &attached{}
	defer func() {
		if err != nil {
			a.close()
		}
	}()
	load := func(name string) (*ebpf.Program, error) {
		ps := spec.Programs[name]
		if ps == nil {
			return nil, fmt.Errorf("no program %s in the floor object", name)
		}
		p, err := ebpf.NewProgram(ps)
		if errors.Is(err, btf.ErrNotFound) || errors.Is(err, ebpf.ErrNotSupported) {
			return nil, fmt.Errorf("%w: load %s: %v", ErrUnavailable, name, err)
		}
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", name, err)
		}
		a.progs = append(a.progs, p)
		return p, nil
	}
	for _, sc := range arm.syscalls {
		p, err := load("sys_exit_" + sc)
		if err != nil {
			return nil, err
		}
		l, err := link.Tracepoint("syscalls", "sys_exit_"+sc, p, nil)
		if err != nil {
			return nil, fmt.Errorf("attach sys_exit_%s: %w", sc, err)
		}
		a.links = append(a.links, l)
	}
	for _, name := range arm.tracing {
		p, err := load(name)
		if err != nil {
			return nil, err
		}
		l, err := link.AttachTracing(link.TracingOptions{Program: p})
		if err != nil {
			return nil, fmt.Errorf("attach %s: %w", name, err)
		}
		a.links = append(a.links, l)
	}
	return a, nil
}

// Run times every case under every arm, rounds times, and writes one
// key=value line per (round, arm, case): ns_per_syscall is the looping
// thread's CPU time per syscall. Each round starts at a different arm, so
// that no arm always runs right after another. An arm whose hooks this
// kernel lacks is written once as unavailable=1, followed by a comment
// line with the reason, and left out.
func Run(w io.Writer, rounds, iters int, cases []string, dir string) error {
	if os.Geteuid() != 0 {
		return errors.New("loading BPF programs needs root: run it with sudo")
	}
	spec, err := loadFloor()
	if err != nil {
		return fmt.Errorf("read the floor object: %w", err)
	}
	unavailable := map[string]bool{}
	for r := 0; r < rounds; r++ {
		for i := range Arms {
			arm := Arms[(r+i)%len(Arms)]
			if unavailable[arm.Name] {
				continue
			}
			a, err := attach(spec, arm)
			if errors.Is(err, ErrUnavailable) {
				unavailable[arm.Name] = true
				fmt.Fprintf(w, "arm=%s unavailable=1\n# arm %s: %v\n", arm.Name, arm.Name, err)
				continue
			}
			if err != nil {
				return fmt.Errorf("arm %s: %w", arm.Name, err)
			}
			err = runCases(w, r+1, arm.Name, iters, cases, dir)
			a.close()
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func runCases(w io.Writer, round int, arm string, iters int, cases []string, dir string) error {
	for _, name := range cases {
		c, ok := bench.SysCaseByName(name)
		if !ok {
			return fmt.Errorf("no syscall case %q", name)
		}
		res, err := bench.RunSysCase(c, iters, dir)
		if err != nil {
			return fmt.Errorf("arm %s: %w", arm, err)
		}
		fmt.Fprintf(w, "round=%d arm=%s %s ns_per_syscall=%.2f\n", round, arm, res, res.NsPerIter/float64(c.Syscalls))
	}
	return nil
}

// Row is one case's summary: the baseline's median ns per syscall and,
// per other arm, the median over rounds of what the arm added to each
// syscall (against the baseline of the same round), with its range.
// Unavailable holds the arms whose hooks the kernel lacked.
type Row struct {
	Case        string
	Base        float64
	Added       map[string]Added
	Unavailable map[string]bool
}

// Added is what one arm added to one case's syscalls.
type Added struct {
	Median, Lo, Hi float64
	Rounds         int
}

// Summarize turns Run's records into rows, in the order the cases first
// appear.
func Summarize(recs []bench.Record) []Row {
	type key struct {
		round, arm, cas string
	}
	ns := map[key]float64{}
	var cases []string
	unavailable := map[string]bool{}
	for _, r := range recs {
		if r["unavailable"] == "1" {
			unavailable[r["arm"]] = true
		}
		if r["case"] == "" || r["arm"] == "" {
			continue
		}
		if !slices.Contains(cases, r["case"]) {
			cases = append(cases, r["case"])
		}
		ns[key{r["round"], r["arm"], r["case"]}] = r.Num("ns_per_syscall")
	}
	var rows []Row
	for _, c := range cases {
		row := Row{Case: c, Added: map[string]Added{}, Unavailable: unavailable}
		var base []float64
		diffs := map[string][]float64{}
		for k, v := range ns {
			if k.cas != c || k.arm != "none" {
				continue
			}
			base = append(base, v)
			for _, arm := range Arms[1:] {
				if x, ok := ns[key{k.round, arm.Name, c}]; ok {
					diffs[arm.Name] = append(diffs[arm.Name], x-v)
				}
			}
		}
		row.Base = bench.Median(base)
		for arm, d := range diffs {
			lo, hi := bench.MinMax(d)
			row.Added[arm] = Added{Median: bench.Median(d), Lo: lo, Hi: hi, Rounds: len(d)}
		}
		rows = append(rows, row)
	}
	return rows
}

// Format writes rows as a Markdown table, one column per arm.
func Format(w io.Writer, rows []Row) {
	heads := []string{"case", "rounds", "ns per syscall, " + Arms[0].What + " (median)"}
	for _, a := range Arms[1:] {
		heads = append(heads, "added by "+a.What)
	}
	fmt.Fprintln(w, "| "+strings.Join(heads, " | ")+" |")
	fmt.Fprintln(w, "|"+strings.Repeat("---|", len(heads)))
	for _, r := range rows {
		rounds := 0
		for _, a := range r.Added {
			rounds = max(rounds, a.Rounds)
		}
		cells := []string{r.Case, fmt.Sprint(rounds), bench.Num(r.Base)}
		for _, arm := range Arms[1:] {
			a, ok := r.Added[arm.Name]
			switch {
			case r.Unavailable[arm.Name]:
				cells = append(cells, "unavailable")
				continue
			case !ok || math.IsNaN(a.Median):
				cells = append(cells, "-")
				continue
			}
			cells = append(cells, fmt.Sprintf("%s (%s to %s)", bench.Num(a.Median), bench.Num(a.Lo), bench.Num(a.Hi)))
		}
		fmt.Fprintln(w, "| "+strings.Join(cells, " | ")+" |")
	}
}
