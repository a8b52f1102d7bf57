package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/decompose-dev/decompose/fixtures/livedemo"
	"github.com/decompose-dev/decompose/fixtures/recordings"
	"github.com/decompose-dev/decompose/graph"
	"github.com/decompose-dev/decompose/report"
	"github.com/decompose-dev/decompose/trace"
	"github.com/decompose-dev/decompose/tui"
)

func newDemoCommand(stdout, stderr io.Writer) *cobra.Command {
	var out string
	var bundled bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Record and analyze the bundled legacy shop application, and write a report",
		Long: `demo shows the whole job on legacyshop, a legacy VM application of nine
programs glued together by a unix socket, loopback TCP and UDP, a spool
directory, a FIFO, a pipe, shared memory, a shared config file and log, and a
cron script that signals a daemon. As root, with eBPF and the Go toolchain, it
builds and starts the application, records it while driving orders through it,
and analyzes the recording; otherwise (or with --bundled) it analyzes the
recording bundled in the binary. It prints the plan and writes an HTML report,
a Markdown report and the JSON plan.`,
		Example: `  decompose demo
  sudo decompose demo            # records the application live
  decompose demo --bundled --out /tmp/shop-demo`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), out, bundled, stdout, stderr)
		},
	}
	cmd.Flags().StringVar(&out, "out", filepath.Join(os.TempDir(), "decompose-demo"), "directory for the trace, report.html, report.md and plan.json")
	cmd.Flags().BoolVar(&bundled, "bundled", false, "analyze the bundled recording even when a live recording is possible")
	return cmd
}

// runDemo records legacyshop live when it can, else uses the bundled
// recording, and says which it used and why.
func runDemo(ctx context.Context, out string, bundled bool, stdout, stderr io.Writer) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("demo: create %s: %w: pass --out with a writable directory", out, err)
	}
	tracePath := filepath.Join(out, "legacyshop.trace")
	if err := os.Remove(tracePath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("demo: %w", err)
	}
	if why := liveDemoBlocked(bundled); why != "" {
		fmt.Fprintf(stderr, "demo: using the bundled recording of legacyshop (%s)\n", why)
		if err := os.WriteFile(tracePath, recordings.Legacyshop, 0o644); err != nil {
			return fmt.Errorf("demo: write %s: %w", tracePath, err)
		}
	} else if err := recordLive(ctx, out, tracePath, stderr); err != nil {
		fmt.Fprintf(stderr, "demo: the live recording failed (%v); using the bundled recording\n", oneLineErr(err))
		os.Remove(tracePath)
		if err := os.WriteFile(tracePath, recordings.Legacyshop, 0o644); err != nil {
			return fmt.Errorf("demo: write %s: %w", tracePath, err)
		}
	}
	t, err := trace.Open(tracePath)
	if err != nil {
		return err
	}
	plan, err := graph.Analyze([]*trace.Trace{t}, graph.Options{})
	if err != nil {
		return err
	}
	return showDemo(ctx, plan, out, tracePath, stdout, stderr)
}

// liveDemoBlocked says why the demo cannot record live, or "" if it can.
func liveDemoBlocked(bundled bool) string {
	switch {
	case bundled:
		return "--bundled"
	case os.Geteuid() != 0:
		return "recording live needs root: run sudo decompose demo to record the application yourself"
	}
	if _, err := exec.LookPath("go"); err != nil {
		return "recording live builds the application and needs the Go toolchain on PATH"
	}
	return ""
}

// recordLive builds, starts and records legacyshop into tracePath.
func recordLive(ctx context.Context, out, tracePath string, stderr io.Writer) error {
	fmt.Fprintln(stderr, "demo: recording legacyshop live (build, start, record while driving orders, stop)")
	root, err := os.MkdirTemp("", "legacyshop-root-")
	if err != nil {
		return err
	}
	os.Remove(root) // NewInstall creates it
	_, err = livedemo.Record(ctx, livedemo.Options{BinDir: filepath.Join(out, "bin"), Root: root, Output: tracePath, Log: prefixWriter{stderr, "demo: "}})
	return err
}

// showDemo writes the reports, then opens the plan in the terminal UI when
// standard input and output are a terminal, else prints the text summary.
func showDemo(ctx context.Context, plan *graph.Plan, out, tracePath string, stdout, stderr io.Writer) error {
	files := []struct {
		name   string
		render func(io.Writer, *graph.Plan) error
	}{{"report.html", report.HTML}, {"report.md", report.Markdown}, {"plan.json", report.JSON}}
	var written strings.Builder
	for _, f := range files {
		path := filepath.Join(out, f.name)
		if err := writeOutput(path, nil, func(w io.Writer) error { return f.render(w, plan) }); err != nil {
			return err
		}
		fmt.Fprintf(&written, "%-12s %s\n", f.name+":", path)
	}
	fmt.Fprintf(&written, "%-12s %s (query it with sqlite3; see docs/trace-format.md)\n", "trace:", tracePath)
	if in, term := terminalStreams(stdout); term {
		opts := tui.Options{Load: func() (*graph.Plan, error) { return plan, nil }, Source: "demo: legacyshop", SavePath: filepath.Join(out, "edited-plan.json")}
		if _, err := tui.Run(ctx, opts, in, stdout); err != nil {
			return err
		}
	} else if err := report.Text(stdout, plan); err != nil {
		return err
	}
	_, err := fmt.Fprintf(stdout, "\n%s", written.String())
	return err
}

// terminalStreams returns stdin when both it and stdout are terminals.
func terminalStreams(stdout io.Writer) (*os.File, bool) {
	out, ok := stdout.(*os.File)
	if !ok || !term.IsTerminal(int(out.Fd())) || !term.IsTerminal(int(os.Stdin.Fd())) {
		return nil, false
	}
	return os.Stdin, true
}

// prefixWriter prefixes every write (one log line) with a label.
type prefixWriter struct {
	w      io.Writer
	prefix string
}

func (p prefixWriter) Write(b []byte) (int, error) {
	if _, err := io.WriteString(p.w, p.prefix); err != nil {
		return 0, err
	}
	return p.w.Write(b)
}

func oneLineErr(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", " ")
}
