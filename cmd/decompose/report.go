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
}

func newReportCommand(stdout io.Writer) *cobra.Command {
	var flags analysisFlags
	var format, output string
	cmd := &cobra.Command{
		Use:   "report -f md|json|text [-o FILE] TRACE...",
		Short: "Write the plan as a report (Markdown with a Mermaid diagram, JSON, text)",
		Example: `  decompose report -f md -o plan.md app.trace
  decompose report -f json app.trace | jq '.pods[].name'`,
		Args: traceArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			render, ok := renderers[format]
			if !ok {
				if format == "html" || format == "dot" {
					return fmt.Errorf("report format %q is not implemented yet: use -f md, json or text", format)
				}
				return usageError{fmt.Errorf("unknown report format %q: use md, json or text", format)}
			}
			plan, err := flags.plan(args)
			if err != nil {
				return err
			}
			return writeOutput(output, stdout, func(w io.Writer) error { return render(w, plan) })
		},
	}
	flags.register(cmd)
	cmd.Flags().StringVarP(&format, "format", "f", "md", "report format: md, json or text")
	cmd.Flags().StringVarP(&output, "output", "o", "", "file to write (default: standard output)")
	return cmd
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
