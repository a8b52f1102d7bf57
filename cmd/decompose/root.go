package main

import (
	"context"
	"fmt"
	"io"
	"regexp"

	"github.com/spf13/cobra"

	"github.com/decompose-dev/decompose/graph"
	"github.com/decompose-dev/decompose/trace"
	"github.com/decompose-dev/decompose/trace/static"
)

// newRootCommand builds the command tree. Flags live in each command's
// closure: no package-level state.
func newRootCommand(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "decompose",
		Short: "Show how to split a legacy VM application into containers and pods",
		Long: `decompose records which processes of a running application share files,
directories, pipes, FIFOs, unix sockets, TCP/UDP connections, shared memory
and signals (eBPF, no code change), groups them into components, proposes
pods, and explains every hidden coupling that would break a naive split.`,
		Example: `  decompose demo                              # the whole job on a bundled recording
  sudo decompose record -o app.trace --duration 10m
  decompose analyze app.trace`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		newRecordCommand(stdout, stderr),
		newAnalyzeCommand(stdout),
		newReportCommand(stdout),
		newManifestsCommand(),
		newTUICommand(),
		newStaticCommand(),
		newDemoCommand(stdout, stderr),
		newImagesCommand(stdout),
		newVersionCommand(stdout),
	)
	return root
}

// traceArgs requires at least one trace file argument.
func traceArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return usageError{fmt.Errorf("%s needs at least one trace file (written by decompose record)", cmd.Name())}
	}
	return nil
}

// analysisFlags are the engine options shared by analyze, report,
// manifests and tui.
type analysisFlags struct {
	ignore     string
	resolution float64
	source     string
}

func (f *analysisFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.ignore, "ignore", "", "leave out components whose name matches this regular expression")
	cmd.Flags().StringVar(&f.source, "source", "", "Go module directory of the application: point every runtime coupling at the lines of code behind it")
	cmd.Flags().Float64Var(&f.resolution, "resolution", 0, "group components free to live apart by their traffic (Louvain); higher gives more, smaller pods; try 1; 0 groups none")
}

// options checks the flags and returns the engine options; it does no I/O,
// so commands can reject bad flags before they start anything.
func (f *analysisFlags) options() (graph.Options, error) {
	opts := graph.Options{Resolution: f.resolution}
	if f.resolution < 0 {
		return opts, usageError{fmt.Errorf("--resolution %v: pass 0 (no grouping, the default) or a number above 0", f.resolution)}
	}
	if f.ignore != "" {
		re, err := regexp.Compile(f.ignore)
		if err != nil {
			return opts, usageError{fmt.Errorf("--ignore %q is not a regular expression: %v", f.ignore, err)}
		}
		opts.Ignore = re
	}
	return opts, nil
}

// plan reads the traces and runs the engine.
func (f *analysisFlags) plan(paths []string) (*graph.Plan, error) {
	opts, err := f.options()
	if err != nil {
		return nil, err
	}
	traces, err := openTraces(paths)
	if err != nil {
		return nil, err
	}
	plan, err := graph.Analyze(traces, opts)
	if err != nil || f.source == "" {
		return plan, err
	}
	return plan, attachSource(plan, f.source)
}

// openTraces reads every trace, stopping at the first that cannot be read.
func openTraces(paths []string) ([]*trace.Trace, error) {
	traces := make([]*trace.Trace, 0, len(paths))
	for _, p := range paths {
		t, err := trace.Open(p)
		if err != nil {
			return nil, err
		}
		traces = append(traces, t)
	}
	return traces, nil
}

// attachSource scans the Go code base at dir and points every runtime
// coupling of plan at the source lines behind it.
func attachSource(plan *graph.Plan, dir string) error {
	res, err := static.Analyze(context.Background(), static.Options{Dir: dir})
	if err != nil {
		return fmt.Errorf("--source %s: %w", dir, err)
	}
	for _, cj := range static.Attach(plan, res).Couplings {
		plan.Couplings[cj.Index].Code = cj.Code
	}
	return nil
}
