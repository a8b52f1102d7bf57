package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/decompose-dev/decompose/graph"
	"github.com/decompose-dev/decompose/trace/static"
)

// staticFlags are the options of decompose static.
type staticFlags struct {
	asJSON bool
	dir    string
	traces []string
}

func newStaticCommand() *cobra.Command {
	var f staticFlags
	cmd := &cobra.Command{
		Use:   "static [--json] [--dir DIR] [--trace FILE]... [PATTERNS...]",
		Short: "Find couplings a priori in Go source, and the code behind recorded ones",
		Long: `static loads the Go packages matching PATTERNS (default ./..., run from a
module directory) and lists, per binary (main package), the calls that touch
resources other processes may share: files and directories, FIFOs, shared
memory, listeners and dials (tcp, udp, unix), exec, signals sent and expected,
and environment variables read. Paths and addresses are followed through
constants, variables, filepath.Join, fmt.Sprintf and flag defaults; what only
the run time knows is shown as {expression}. A call in a package used by
several binaries counts for each binary that can reach it from main.
Settings read from a configuration file (cfg["db_addr"], viper.GetString)
take the values the file's text in the source tree gives them (the file, a
.example or template of it, or a Go string named after it), and flags also
the values the tree's start scripts pass; each such value says where it was
found.

It then predicts the couplings between binaries whose calls name the same
path, socket, address, setting or signal.

With --trace, it also analyzes the recordings and points every runtime
coupling at the calls behind it: what matched, what ran but was not
predicted, and what was predicted but never seen.`,
		Example: `  decompose static
  decompose static ./cmd/...
  decompose static --json ./... > sites.json
  decompose static --trace app.trace ./...`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runStatic(cmd, f, args)
		},
	}
	cmd.Flags().BoolVar(&f.asJSON, "json", false, "print sites, couplings (and the join) as JSON")
	cmd.Flags().StringVar(&f.dir, "dir", ".", "module directory the patterns are relative to")
	cmd.Flags().StringArrayVar(&f.traces, "trace", nil, "a recording to join with the source (repeat for several hosts)")
	return cmd
}

func runStatic(cmd *cobra.Command, f staticFlags, patterns []string) error {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	res, err := static.Analyze(cmd.Context(), static.Options{Dir: f.dir, Patterns: patterns})
	if err != nil {
		return fmt.Errorf("static: %w", err)
	}
	fmt.Fprintf(stderr, "static: %d packages, %d binaries, %d sites in %.1fs\n", res.Packages, len(res.Binaries), len(res.Sites), res.Elapsed.Seconds())
	var join *static.JoinReport
	if len(f.traces) > 0 {
		if join, err = joinTraces(f.traces, res); err != nil {
			return err
		}
	}
	if f.asJSON {
		return writeStaticJSON(stdout, res, join)
	}
	if err := static.WriteText(stdout, res); err != nil {
		return err
	}
	if join == nil {
		return nil
	}
	fmt.Fprintln(stdout)
	return static.WriteJoin(stdout, join)
}

// joinTraces analyzes the recordings and matches their couplings to sites.
func joinTraces(paths []string, res *static.Result) (*static.JoinReport, error) {
	traces, err := openTraces(paths)
	if err != nil {
		return nil, err
	}
	plan, err := graph.Analyze(traces, graph.Options{})
	if err != nil {
		return nil, err
	}
	return static.Attach(plan, res), nil
}

func writeStaticJSON(w io.Writer, res *static.Result, join *static.JoinReport) error {
	out := struct {
		*static.Result
		Join *static.JoinReport `json:"join,omitempty"`
	}{res, join}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
