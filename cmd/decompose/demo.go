package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/decompose-dev/decompose/fixtures/recordings"
	"github.com/decompose-dev/decompose/graph"
	"github.com/decompose-dev/decompose/report"
	"github.com/decompose-dev/decompose/trace"
)

func newDemoCommand(stdout, stderr io.Writer) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Analyze the bundled legacy shop application and write a report",
		Long: `demo shows the whole job on legacyshop, a legacy VM application of nine
programs glued together by a unix socket, loopback TCP and UDP, a spool
directory, a FIFO, a pipe, shared memory, a shared config file and log, and a
cron script that signals a daemon. It analyzes the bundled recording, prints
the plan, and writes a Markdown report and the JSON plan.`,
		Example: `  decompose demo
  decompose demo --out /tmp/shop-demo`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(out, stdout, stderr)
		},
	}
	cmd.Flags().StringVar(&out, "out", filepath.Join(os.TempDir(), "decompose-demo"), "directory for the trace, report.md and plan.json")
	return cmd
}

// runDemo analyzes the bundled recording of legacyshop. Recording the
// fixture live needs the eBPF recorder, which has not landed yet; the demo
// says which source it used.
func runDemo(out string, stdout, stderr io.Writer) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("demo: create %s: %w: pass --out with a writable directory", out, err)
	}
	tracePath := filepath.Join(out, "legacyshop.trace")
	if err := os.WriteFile(tracePath, recordings.Legacyshop, 0o644); err != nil {
		return fmt.Errorf("demo: write %s: %w", tracePath, err)
	}
	t, err := trace.Open(tracePath)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "demo: live recording is not available in this build (the eBPF recorder has not landed); using the bundled recording of legacyshop (%s)\n", t.Meta.Recorder)
	plan, err := graph.Analyze([]*trace.Trace{t}, graph.Options{})
	if err != nil {
		return err
	}
	if f, ok := stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintln(stderr, "demo: the terminal UI has not landed yet; printing the text summary")
	}
	if err := report.Text(stdout, plan); err != nil {
		return err
	}
	mdPath, jsonPath := filepath.Join(out, "report.md"), filepath.Join(out, "plan.json")
	if err := writeOutput(mdPath, nil, func(w io.Writer) error { return report.Markdown(w, plan) }); err != nil {
		return err
	}
	if err := writeOutput(jsonPath, nil, func(w io.Writer) error { return report.JSON(w, plan) }); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nreport: %s\nplan:   %s\ntrace:  %s (query it with sqlite3; see docs/trace-format.md)\n", mdPath, jsonPath, tracePath)
	return nil
}
