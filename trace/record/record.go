// Package record runs a recording session: it starts the eBPF tracer,
// snapshots what is already open, aggregates kernel events and counters into
// per-process, per-resource totals and writes them into a trace file every
// second until the duration ends, the context is cancelled or the recorded
// command exits. Totals that can no longer change (of exited processes,
// deleted files, closed connections) are forgotten once written, so memory
// stays flat on long recordings (retire.go).
package record

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/decompose-dev/decompose/trace"
	"github.com/decompose-dev/decompose/trace/ebpf"
)

// Options configures one recording. At most one of PID, Command and Cgroup
// may be set; none means the whole host.
type Options struct {
	// Output is the trace file to create; it must not exist.
	Output string
	// Duration stops the recording after this long; 0 means until ctx is
	// cancelled (or, with Command, until the command exits).
	Duration time.Duration
	// PID records that process and all its descendants, present and future.
	PID int
	// Command is started by the recorder and recorded with its descendants.
	Command []string
	// Stdin, Stdout and Stderr of Command; nil means none.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Cgroup is a cgroup v2 directory (absolute, or relative to the
	// cgroup v2 mount: /sys/fs/cgroup, or /sys/fs/cgroup/unified on a
	// hybrid host): record the processes in it and below. A cgroup v1
	// directory is refused with ErrUsage, a host without cgroup v2 with
	// ErrNoCgroup2.
	Cgroup string
	// Progress receives one line per second (nil: no progress).
	Progress io.Writer
	// IOEntries bounds the kernel counter map (0: 65536 entries).
	IOEntries uint32
	// HooksOnly records processes only: the I/O hooks are attached but
	// count nothing (ebpf.Config.HooksOnly). For benchmarks.
	HooksOnly bool
	// Recorder is stored in the trace meta; empty means "decompose (ebpf)".
	Recorder string
	// OnLoading, when set, is called once the privileges and the output
	// are checked, just before the programs are loaded (which takes a few
	// seconds): the place to say "loading...".
	OnLoading func()
	// OnStart, when set, is called once every hook is attached and the
	// snapshot is taken: from then on, activity is recorded. (Loading and
	// verifying the programs takes a few seconds.)
	OnStart func()
}

// Summary describes a finished recording.
type Summary struct {
	Output     string
	Elapsed    time.Duration
	Processes  int
	Resources  int
	Accesses   int
	Signals    int
	Couplings  int // resources accessed by two or more processes
	Events     uint64
	Drops      uint64 // ring buffer records lost
	BlindSpots []trace.BlindSpot
	// CommandExit is the exit code of Command (-1 when it was killed by the
	// recorder at the end of the recording).
	CommandExit int
	// MountedTracefs is true when the recorder mounted tracefs itself.
	MountedTracefs bool
	// Hooks lists the hooks the kernel refused.
	RefusedHooks []ebpf.Hook
}

// ErrUsage marks an invalid Options.
var ErrUsage = errors.New("invalid recording options")

func (o *Options) validate() error {
	modes := 0
	if o.PID != 0 {
		modes++
	}
	if len(o.Command) > 0 {
		modes++
	}
	if o.Cgroup != "" {
		modes++
	}
	switch {
	case o.Output == "":
		return fmt.Errorf("%w: no output file", ErrUsage)
	case modes > 1:
		return fmt.Errorf("%w: choose one of a pid, a command or a cgroup", ErrUsage)
	case o.PID < 0:
		return fmt.Errorf("%w: pid %d", ErrUsage, o.PID)
	case o.Duration < 0:
		return fmt.Errorf("%w: negative duration", ErrUsage)
	}
	if o.PID != 0 {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", o.PID)); err != nil {
			return fmt.Errorf("%w: no process %d", ErrUsage, o.PID)
		}
	}
	if o.Cgroup != "" {
		path, err := resolveCgroup(o.Cgroup, cgroupMount(), cgroup1Mounts())
		if err != nil {
			return err
		}
		o.Cgroup = path
	}
	return nil
}

func (o *Options) mode() string {
	switch {
	case o.PID != 0:
		return fmt.Sprintf("pid %d", o.PID)
	case len(o.Command) > 0:
		return "command"
	case o.Cgroup != "":
		return "cgroup " + o.Cgroup
	}
	return "host"
}

// Run records until opts.Duration elapses, ctx is cancelled or the command
// exits, then detaches every hook and finalizes the trace. Privileges are
// checked first, then the output: its file system must have MinFreeBytes
// free and the file is created before anything is attached, so an
// unwritable path or a full disk fails early; the file is removed again when
// the tracer cannot start. When the disk fills up during the recording, Run
// stops with an error and the trace keeps what was committed before.
func Run(ctx context.Context, opts Options) (Summary, error) {
	sum := Summary{Output: opts.Output, CommandExit: -1}
	if err := opts.validate(); err != nil {
		return sum, err
	}
	if err := ebpf.CheckPrivileges(); err != nil {
		return sum, fmt.Errorf("%w: run instead: sudo %s", err, commandLine(os.Args))
	}
	if err := checkOutput(opts.Output); err != nil {
		return sum, err
	}
	host, _ := os.Hostname()
	h := trace.Host{Hostname: host, Kernel: kernelRelease(), BootID: bootID(), IPs: hostIPs(), StartNS: time.Now().UnixNano()}
	meta := trace.Meta{Recorder: opts.Recorder, Mode: opts.mode()}
	if meta.Recorder == "" {
		meta.Recorder = "decompose (ebpf)"
	}
	_, statErr := os.Lstat(opts.Output)
	existed := !errors.Is(statErr, fs.ErrNotExist)
	w, err := trace.Create(opts.Output, meta, h)
	if err != nil {
		// Create makes the file exclusively: unless it was there before
		// (and Create refused it), what is left is a partial file of ours.
		if !existed {
			os.Remove(opts.Output)
		}
		return sum, diskFull(err, opts.Output)
	}
	r := &session{opts: opts, w: w, host: h, meta: meta, sum: &sum}
	err = r.run(ctx)
	if r.tr == nil { // never started: leave no empty trace behind
		w.Close(h, meta)
		os.Remove(opts.Output)
	}
	return sum, diskFull(err, opts.Output)
}

// MinFreeBytes is the free space Run wants on the output's file system
// before it starts: a short recording of a small application takes a few
// hundred KiB.
const MinFreeBytes = 1 << 20

// checkOutput fails when the trace cannot be written at path: its directory
// is missing, or its file system is read-only or nearly full.
func checkOutput(path string) error {
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("output %s: directory %s: %w", path, dir, errors.Unwrap(err))
	}
	if !st.IsDir() {
		return fmt.Errorf("output %s: %s is not a directory", path, dir)
	}
	var sfs unix.Statfs_t
	if err := unix.Statfs(dir, &sfs); err != nil {
		return nil // let creating the file tell
	}
	if sfs.Flags&unix.ST_RDONLY != 0 {
		return fmt.Errorf("output %s: %s is on a read-only file system: write the trace elsewhere", path, dir)
	}
	if free := sfs.Bavail * uint64(sfs.Bsize); free < MinFreeBytes {
		return fmt.Errorf("output %s: only %d KiB free on the file system of %s (want at least %d KiB): free space or write the trace elsewhere",
			path, free>>10, dir, MinFreeBytes>>10)
	}
	return nil
}

// diskFull explains a write error when the output's file system is full.
func diskFull(err error, path string) error {
	if err == nil {
		return nil
	}
	var sfs unix.Statfs_t
	if unix.Statfs(filepath.Dir(path), &sfs) == nil && sfs.Bavail*uint64(sfs.Bsize) < MinFreeBytes {
		return fmt.Errorf("%w: the file system of %s is full: free space or write the trace elsewhere (what was recorded before is kept)", err, path)
	}
	return err
}

// commandLine quotes argv for a shell, for messages that say what to run.
func commandLine(argv []string) string {
	out := make([]string, len(argv))
	for i, a := range argv {
		if a != "" && strings.IndexFunc(a, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,@%+", r))
		}) < 0 {
			out[i] = a
			continue
		}
		out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(out, " ")
}

// session is one running recording.
type session struct {
	opts Options
	w    *trace.Writer
	host trace.Host
	meta trace.Meta
	sum  *Summary
	tr   *ebpf.Tracer
	st   *state
	cmd  *command
	evs  uint64 // events handled
	// snapshotDone is set once the snapshot of existing processes is read.
	snapshotDone bool
	// drainBuf and sigBuf are reused by every drain.
	drainBuf []counterEntry
	sigBuf   []sigEntry
}

func (r *session) run(ctx context.Context) error {
	cfg := ebpf.Config{IOEntries: r.opts.IOEntries, Listeners: tcpListeners(), HooksOnly: r.opts.HooksOnly}
	switch {
	case r.opts.PID != 0, len(r.opts.Command) > 0:
		cfg.Filter = ebpf.FilterPIDs
	case r.opts.Cgroup != "":
		cfg.Filter, cfg.Cgroup = ebpf.FilterCgroup, r.opts.Cgroup
	}
	if r.opts.OnLoading != nil {
		r.opts.OnLoading()
	}
	tr, err := ebpf.New(cfg)
	if err != nil {
		return fmt.Errorf("start tracer: %w", err)
	}
	r.tr = tr
	defer tr.Close()
	r.sum.MountedTracefs = tr.MountedTracefs
	if err := r.setScope(); err != nil {
		return err
	}
	r.st.forget = func(keys []ebpf.IOKey) {
		if _, err := tr.DeleteCounters(keys); err != nil {
			r.st.dropped["counter delete error"]++
		}
	}
	r.st.forgetSigs = func(keys []ebpf.SigKey) {
		if _, err := tr.DeleteSignalCounters(keys); err != nil {
			r.st.dropped["signal counter delete error"]++
		}
	}
	noteListeners(tr)
	if err := tr.Snapshot(r.handle); err != nil {
		r.st.dropped["snapshot failed: "+err.Error()]++
	}
	r.st.endSnapshot()
	r.crossCheckUnix()
	r.snapshotDone = true
	events := make(chan any, 4096)
	go func() {
		defer close(events)
		for {
			ev, err := tr.ReadEvent()
			switch {
			case errors.Is(err, ebpf.ErrMalformed):
				events <- readError{"malformed kernel records"}
				continue
			case errors.Is(err, ebpf.ErrFlushed), errors.Is(err, ebpf.ErrClosed):
				return
			case err != nil:
				events <- readError{"ring buffer read error"}
				return
			}
			events <- ev
		}
	}()
	if r.cmd != nil {
		if err := r.cmd.release(); err != nil {
			return err
		}
	}
	if r.opts.OnStart != nil {
		r.opts.OnStart()
	}
	err = r.loop(ctx, events)
	// Stop producing, then consume what the kernel already sent.
	tr.Detach()
	tr.Flush()
	for ev := range events {
		r.handle(ev)
	}
	r.drain()
	r.crossCheckUnix()
	r.st.flush(r.w)
	r.st.settle()
	if r.cmd != nil {
		r.sum.CommandExit = r.cmd.stop()
	}
	r.finish()
	tr.Close()
	cerr := r.w.Close(r.host, r.meta)
	if err != nil && cerr != nil && cerr.Error() == err.Error() {
		cerr = nil // the writer reports its first failure again
	}
	return errors.Join(err, cerr)
}

// setScope builds the user-space filter and seeds the kernel's traced set.
func (r *session) setScope() error {
	switch {
	case r.opts.PID != 0:
		set := descendants(uint32(r.opts.PID))
		for pid := range set {
			if err := r.tr.Track(pid); err != nil {
				return err
			}
		}
		r.st = newState(func(tgid uint32, _ uint64) bool { return set[tgid] || r.tracked(tgid) })
	case len(r.opts.Command) > 0:
		cmd, err := startCommand(r.opts)
		if err != nil {
			return err
		}
		r.cmd = cmd
		if err := r.tr.Track(uint32(cmd.pid())); err != nil {
			cmd.stop()
			return err
		}
		pid := uint32(cmd.pid())
		r.st = newState(func(tgid uint32, _ uint64) bool { return tgid == pid || r.tracked(tgid) })
	case r.opts.Cgroup != "":
		rel := strings.TrimPrefix(r.opts.Cgroup, cgroupMount())
		if rel == "" {
			rel = "/"
		}
		r.st = newState(func(tgid uint32, _ uint64) bool {
			b, err := os.ReadFile(fmt.Sprintf("%s/%d/cgroup", procRoot, tgid))
			cg := parseCgroup(b)
			return r.snapshotDone || (err == nil && (cg == rel || strings.HasPrefix(cg, strings.TrimSuffix(rel, "/")+"/")))
		})
	default:
		r.st = newState(nil)
	}
	return nil
}

// tracked reports whether a process outside the initial set is in scope:
// only the snapshot sees every process of the host; after it, the kernel
// side sends events of traced processes only.
func (r *session) tracked(uint32) bool { return r.snapshotDone }

func (r *session) loop(ctx context.Context, events <-chan any) error {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var deadline <-chan time.Time
	if r.opts.Duration > 0 {
		t := time.NewTimer(r.opts.Duration)
		defer t.Stop()
		deadline = t.C
	}
	var cmdDone <-chan struct{}
	if r.cmd != nil {
		cmdDone = r.cmd.done
	}
	start := time.Now()
	lastEvs := uint64(0)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-deadline:
			return nil
		case <-cmdDone:
			return nil
		case ev, ok := <-events:
			if !ok {
				return errors.New("ring buffer reader stopped")
			}
			r.handle(ev)
		case now := <-tick.C:
			r.drain()
			r.writeStats()
			if err := r.w.Commit(); err != nil {
				return err
			}
			if r.opts.Progress != nil {
				fmt.Fprintf(r.opts.Progress, "%s  processes %d  resources %d  couplings %d  events/s %d  drops %d\n",
					now.Sub(start).Truncate(time.Second), r.st.nextProc, r.st.nextRes, r.st.couplings,
					r.evs-lastEvs, r.sum.Drops)
			}
			lastEvs = r.evs
		}
	}
}

// handle applies one kernel record.
func (r *session) handle(ev any) {
	r.evs++
	switch e := ev.(type) {
	case *ebpf.Proc:
		r.st.onProc(e)
	case *ebpf.File:
		r.st.onFile(e)
	case *ebpf.PathOp:
		r.st.onPathOp(e)
	case *ebpf.ShmAt:
		r.st.onShmAt(e)
	case readError:
		r.st.dropped[e.what]++
	}
}

// counterEntry is one kernel counter read by drain.
type counterEntry struct {
	k ebpf.IOKey
	v ebpf.IOVal
}

// readError is a failure of the event reader, counted as a blind spot by
// the goroutine that owns the state.
type readError struct{ what string }

// drain reads every kernel counter and writes what changed.
func (r *session) drain() {
	// Apply entries oldest first: the first datagram of a UDP exchange
	// decides which end is the receiver, and the result does not depend
	// on the map's iteration order.
	all := r.drainBuf[:0]
	readAt := bootNow()
	if err := r.tr.Counters(func(k *ebpf.IOKey, v *ebpf.IOVal) {
		if !r.st.unchanged(k, v) {
			all = append(all, counterEntry{*k, *v})
		}
	}); err != nil {
		r.st.dropped["counter read error"]++
	}
	r.drainBuf = all
	sort.Slice(all, func(i, j int) bool {
		if all[i].v.First != all[j].v.First {
			return all[i].v.First < all[j].v.First
		}
		return all[i].k.Tgid < all[j].k.Tgid
	})
	for i := range all {
		r.st.onCounter(&all[i].k, &all[i].v, readAt)
	}
	r.drainSignals(readAt)
	r.st.endDrain()
	r.st.flush(r.w)
	r.st.retire()
}

// blindSpots lists what the recorder could not see so far.
func (r *session) blindSpots() []trace.BlindSpot {
	var out []trace.BlindSpot
	st, _ := r.tr.Stats()
	r.sum.Drops = st.RingDrops
	r.sum.Events = st.Events
	add := func(what string, n int64, detail string) {
		out = append(out, trace.BlindSpot{What: what, Count: n, Detail: detail})
	}
	if st.RingDrops > 0 {
		add("ring buffer full", int64(st.RingDrops), "process, open and first-use records lost; some accesses may lack a process or path")
	}
	if st.IOFull > 0 {
		add("counter map full", int64(st.IOFull), "reads/writes not counted because the kernel counter map could not take a new entry")
	}
	// Every entry the kernel created was read with a description, read
	// without one, is described and waits to be read, or was evicted.
	if read := r.st.incarnations + r.st.unresolved + r.st.inFlight(); st.IONew > read {
		add("counter entries evicted", int64(st.IONew-read), "per-process file/socket counters evicted from the LRU map before they were read (raise IOEntries)")
	}
	if st.SigNew > r.st.sigEntries {
		add("signal counters evicted", int64(st.SigNew-r.st.sigEntries), "(sender, target, signal) counters evicted from the kernel's LRU map before they were read")
	}
	if st.TrackedFull > 0 {
		add("traced set full", int64(st.TrackedFull), "children of traced processes that could not be followed")
	}
	if r.st.anonShared > 0 {
		add("shared anonymous memory at start", int64(r.st.anonShared), "processes holding MAP_SHARED|MAP_ANONYMOUS memory from before the recording: shared with forked children only, not attributed to a resource")
	}
	if _, _, _, disagree := r.st.unixPairCounts(); disagree > 0 {
		add("unix peers paired otherwise by the kernel", disagree, "unix socket pairs the kernel's sock_diag table pairs differently from the BPF side: a coupling over them may be misattributed")
	}
	if r.st.unresolved > 0 {
		add("counters without description", int64(r.st.unresolved), "counter entries whose file or socket description was lost")
	}
	for what, n := range r.st.dropped {
		add(what, n, "")
	}
	for _, h := range r.tr.Hooks() {
		if h.Err != nil {
			add("hook refused: "+h.Name, 1, h.Err.Error())
		}
	}
	add("not traced: io_uring, sendmmsg/recvmmsg, I/O through mmap'd memory", 0, "these operations are invisible to the syscall tracepoints the recorder uses")
	sort.Slice(out, func(i, j int) bool { return out[i].What < out[j].What })
	return out
}

func (r *session) writeStats() {
	for _, b := range r.blindSpots() {
		r.w.PutBlindSpot(b)
	}
	st, _ := r.tr.Stats()
	r.w.SetCounter("events", int64(st.Events))
	r.w.SetCounter("io_ops", int64(st.IOOps))
	r.w.SetCounter("io_entries_created", int64(st.IONew))
	r.w.SetCounter("ring_drops", int64(st.RingDrops))
	r.w.SetCounter("user_events_handled", int64(r.evs))
	outside, confirmed, completed, disagree := r.st.unixPairCounts()
	r.w.SetCounter("unix_peers_confirmed", confirmed)
	r.w.SetCounter("unix_peers_completed", completed)
	r.w.SetCounter("unix_peers_outside", outside)
	r.w.SetCounter("unix_peers_disagree", disagree)
}

// crossCheckUnix checks the unix socket pairs recorded so far against the
// kernel's sock_diag table (crosscheck.go); a failed dump is a blind spot.
func (r *session) crossCheckUnix() {
	table, err := dumpUnixSockets()
	if err != nil {
		r.st.dropped["unix peer cross-check failed: "+err.Error()]++
		return
	}
	r.st.crossCheckUnix(table)
}

// finish records the final statistics into the trace and the summary.
func (r *session) finish() {
	r.writeStats()
	r.host.EndNS = time.Now().UnixNano()
	r.sum.Elapsed = time.Duration(r.host.EndNS - r.host.StartNS)
	r.sum.Processes = int(r.st.nextProc)
	r.sum.Resources = int(r.st.nextRes)
	r.sum.Accesses = r.st.accesses
	r.sum.Signals = r.st.signals
	r.sum.Couplings = r.st.couplings
	r.sum.BlindSpots = r.blindSpots()
	for _, h := range r.tr.Hooks() {
		if h.Err != nil {
			r.sum.RefusedHooks = append(r.sum.RefusedHooks, h)
		}
	}
}

// command is the program started in command mode. It is held at a gate (a
// shell waiting on a pipe) until the kernel traces its pid, so not even its
// first syscalls after exec are missed.
type command struct {
	c    *exec.Cmd
	gate *os.File
	done chan struct{}
	err  error
}

const gateScript = `read _ <&3; exec 3<&-; exec "$@"`

func startCommand(o Options) (*command, error) {
	rd, wr, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start command: %w", err)
	}
	c := exec.Command("/bin/sh", append([]string{"-c", gateScript, "decompose-gate"}, o.Command...)...)
	c.Stdin, c.Stdout, c.Stderr = o.Stdin, o.Stdout, o.Stderr
	c.ExtraFiles = []*os.File{rd}
	if err := c.Start(); err != nil {
		rd.Close()
		wr.Close()
		return nil, fmt.Errorf("start command %q: %w", o.Command[0], err)
	}
	rd.Close()
	cmd := &command{c: c, gate: wr, done: make(chan struct{})}
	go func() {
		cmd.err = c.Wait()
		close(cmd.done)
	}()
	return cmd, nil
}

func (c *command) pid() int { return c.c.Process.Pid }

// release lets the command run.
func (c *command) release() error {
	defer c.gate.Close()
	if _, err := c.gate.Write([]byte("go\n")); err != nil {
		return fmt.Errorf("release command: %w", err)
	}
	return nil
}

// stop ends the command if it still runs (SIGTERM, then SIGKILL after 5 s)
// and returns its exit code, or -1 when it had to be stopped.
func (c *command) stop() int {
	c.gate.Close()
	select {
	case <-c.done:
		return c.c.ProcessState.ExitCode()
	default:
	}
	c.c.Process.Signal(os.Interrupt)
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		c.c.Process.Kill()
		<-c.done
	}
	return -1
}
