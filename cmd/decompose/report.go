package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/decompose-dev/decompose/graph"
	"github.com/decompose-dev/decompose/report"
)

// renderers maps report formats to their writers.
var renderers = map[string]func(io.Writer, *graph.Plan) error{
	"md":   report.Markdown,
	"json": report.JSON,
	"text": report.Text,
	"html": report.HTML,
	"dot":  report.DOT,
}

func newReportCommand(stdout io.Writer) *cobra.Command {
	var flags analysisFlags
	var format, output, planPath string
	cmd := &cobra.Command{
		Use:   "report -f html|md|json|dot|text [-o FILE] TRACE... | report --plan FILE ...",
		Short: "Write the plan as a report (interactive HTML, Markdown with a Mermaid diagram, JSON, Graphviz DOT, text)",
		Long: `report renders the plan of the given traces, or of a plan saved as JSON
(--plan, written by analyze --json or the TUI). -f html writes one
self-contained page that works offline: an interactive graph of the pods and
couplings (click a node or an edge for its evidence), the plan table, hidden
couplings with remedies, migration order, blind spots and quality figures.
-f dot writes Graphviz DOT with pods as clusters (dot -Tsvg plan.dot).`,
		Example: `  decompose report -f html -o plan.html app.trace
  decompose report -f html -o plan.html --plan plan.json
  decompose report -f dot app.trace | dot -Tsvg > plan.svg
  decompose report -f md -o plan.md app.trace
  decompose report -f json app.trace | jq '.pods[].name'`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			render, ok := renderers[format]
			if !ok {
				return usageError{fmt.Errorf("unknown report format %q: use html, md, json, dot or text", format)}
			}
			plan, err := loadPlan(cmd, &flags, planPath, args)
			if err != nil {
				return err
			}
			return writeOutput(output, stdout, func(w io.Writer) error { return render(w, plan) })
		},
	}
	flags.register(cmd)
	cmd.Flags().StringVarP(&format, "format", "f", "md", "report format: html, md, json, dot or text")
	cmd.Flags().StringVarP(&output, "output", "o", "", "file to write (default: standard output)")
	cmd.Flags().StringVar(&planPath, "plan", "", "render a plan saved as JSON (analyze --json, the TUI) instead of analyzing traces")
	return cmd
}

// loadPlan reads the plan saved at planPath, or analyzes the traces in
// args: exactly one of the two.
func loadPlan(cmd *cobra.Command, flags *analysisFlags, planPath string, args []string) (*graph.Plan, error) {
	if planPath == "" {
		if err := traceArgs(cmd, args); err != nil {
			return nil, err
		}
		return flags.plan(args)
	}
	if len(args) > 0 {
		return nil, usageError{fmt.Errorf("%s takes either trace files or --plan FILE, not both", cmd.Name())}
	}
	f, err := os.Open(planPath)
	if err != nil {
		return nil, fmt.Errorf("read plan: %w: pass a file written by decompose analyze --json", err)
	}
	defer f.Close()
	return graph.ReadPlan(f, planPath)
}

// writeOutput writes to path, or to stdout when path is empty. The file is
// written beside its final name and renamed, so a failed run never leaves a
// half-written report.
func writeOutput(path string, stdout io.Writer, write func(io.Writer) error) error {
	if path == "" {
		return write(stdout)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".decompose-*")
	if err != nil {
		return fmt.Errorf("write %s: %w: check that the directory exists and is writable", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
