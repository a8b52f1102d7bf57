package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/decompose-dev/decompose/trace/record"
)

func newRecordCommand(stdout, stderr io.Writer) *cobra.Command {
	var opts record.Options
	var cpuProfile string
	cmd := &cobra.Command{
		Use:   "record -o FILE [--duration D] [--pid PID | --cgroup PATH | -- COMMAND ARGS...]",
		Short: "Record with eBPF which processes share files, pipes, sockets, memory and signals (root)",
		Long: `record watches the running application with eBPF and writes a trace: a SQLite
file that analyze, report, tui and manifests read. It never changes or signals
the traced processes. Without --pid, --cgroup or a command it records the whole
host. It stops after --duration, on Ctrl-C or SIGTERM (then it detaches and
finalizes the trace), or when the recorded command exits. Needs root, or the
capabilities CAP_BPF and CAP_PERFMON.`,
		Example: `  sudo decompose record -o app.trace --duration 10m
  sudo decompose record -o app.trace --pid 1234
  sudo decompose record -o app.trace --cgroup system.slice/legacy.service
  sudo decompose record -o app.trace -- /opt/app/bin/start.sh`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Output == "" {
				return usageError{errors.New("record needs -o FILE, the trace to write")}
			}
			if len(args) > 0 && cmd.ArgsLenAtDash() != 0 {
				return usageError{fmt.Errorf("unexpected argument %q: put the command to record after --", args[0])}
			}
			opts.Command = args
			if cpuProfile != "" {
				stop, err := startCPUProfile(cpuProfile)
				if err != nil {
					return err
				}
				defer stop()
			}
			return runRecord(cmd, opts, stdout, stderr)
		},
	}
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "", "trace file to write (must not exist)")
	cmd.Flags().DurationVar(&opts.Duration, "duration", 0, "stop after this long (e.g. 30s, 10m); default: until Ctrl-C")
	cmd.Flags().IntVar(&opts.PID, "pid", 0, "record this process and its descendants, present and future")
	cmd.Flags().StringVar(&opts.Cgroup, "cgroup", "", "record the processes of this cgroup v2 directory and below")
	// For bench/ and whoever profiles the recorder's user-space side.
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a Go CPU profile of the recorder to this file")
	cmd.Flags().MarkHidden("cpuprofile")
	// For bench/: what the attached hooks cost without the programs' work.
	cmd.Flags().BoolVar(&opts.HooksOnly, "hooks-only", false, "attach the I/O hooks but count nothing (a benchmark's floor)")
	cmd.Flags().MarkHidden("hooks-only")
	return cmd
}

// runRecord runs one recording and prints its summary. Progress goes to
// stderr: a live line on a terminal, plain lines otherwise.
func runRecord(cmd *cobra.Command, opts record.Options, stdout, stderr io.Writer) error {
	if os.Getenv("GOGC") == "" {
		// The recorder runs for hours next to the application: trade a
		// little of its ~1-5 % CPU for a smaller heap (the default lets
		// the heap grow to twice what is live between collections).
		debug.SetGCPercent(50)
	}
	opts.Stdin, opts.Stdout, opts.Stderr = os.Stdin, stdout, stderr
	opts.Progress = progressWriter(stderr)
	opts.OnLoading = func() { fmt.Fprintln(stderr, "loading the eBPF programs...") }
	opts.OnStart = func() { fmt.Fprintf(stderr, "recording into %s (Ctrl-C to stop)\n", opts.Output) }
	sum, err := record.Run(cmd.Context(), opts)
	if _, live := opts.Progress.(*liveLine); live {
		fmt.Fprintln(stderr)
	}
	if err != nil {
		if errors.Is(err, record.ErrUsage) {
			return usageError{err}
		}
		return fmt.Errorf("record: %w", err)
	}
	if sum.MountedTracefs {
		fmt.Fprintln(stderr, "note: tracefs was not mounted; decompose mounted it at /sys/kernel/tracing and left it mounted")
	}
	for _, h := range sum.RefusedHooks {
		fmt.Fprintf(stderr, "blind spot: the kernel refused hook %v\n", h)
	}
	fmt.Fprintf(stdout, "recorded %s in %s: %d processes, %d resources, %d shared, %d signals, %d events, %d dropped\n",
		sum.Output, sum.Elapsed.Round(time.Second), sum.Processes, sum.Resources, sum.Couplings, sum.Signals, sum.Events, sum.Drops)
	fmt.Fprintf(stdout, "next: decompose analyze %s\n", sum.Output)
	if len(opts.Command) > 0 && sum.CommandExit > 0 {
		// The trace is complete; say that the recorded command failed,
		// as a shell running it directly would.
		return fmt.Errorf("the recorded command %s exited with status %d (the trace is complete)", opts.Command[0], sum.CommandExit)
	}
	return nil
}

// startCPUProfile starts a Go CPU profile into path; stop ends and
// closes it.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// progressWriter rewrites one status line in place on a terminal and passes
// lines through unchanged elsewhere (logs, CI).
func progressWriter(w io.Writer) io.Writer {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return &liveLine{w: w}
	}
	return w
}

// liveLine turns each written line into a carriage-return update.
type liveLine struct{ w io.Writer }

func (l *liveLine) Write(b []byte) (int, error) {
	line := b
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	if _, err := fmt.Fprintf(l.w, "\r\x1b[K%s", line); err != nil {
		return 0, err
	}
	return len(b), nil
}
