package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/decompose-dev/decompose/graph"
	"github.com/decompose-dev/decompose/tui"
)

func newTUICommand() *cobra.Command {
	var flags analysisFlags
	var planPath, output string
	cmd := &cobra.Command{
		Use:   "tui TRACE... | tui --plan FILE",
		Short: "Explore the plan and try changes (move, merge, split, undo) in a terminal UI",
		Long: `tui shows the plan in the terminal: pods with their components, every
coupling with its evidence, warnings and blind spots. Try changes before
committing to them: move a component to another pod (m) or a new one (n),
merge two pods (M), split marked components out (space, then S); the
crossing couplings, quality figures and warnings are recomputed at once, and
a move that would split shared memory or a pipe is refused with the reason.
u undoes, U redoes, 5 shows the diff from the engine's proposal, and w
saves the edited plan as JSON that decompose reads back with --plan. ? lists
every key.`,
		Example: `  decompose tui app.trace
  decompose tui -o edited.json web.trace db.trace
  decompose tui --plan plan.json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := tuiOptions(cmd, &flags, planPath, output, args)
			if err != nil {
				return err
			}
			in, out, err := terminal(cmd)
			if err != nil {
				return err
			}
			res, err := tui.Run(cmd.Context(), opts, in, out)
			if err != nil {
				return err
			}
			if res.SavedTo != "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "tui: plan saved to %s\n", res.SavedTo)
			}
			return nil
		},
	}
	flags.register(cmd)
	cmd.Flags().StringVar(&planPath, "plan", "", "open a plan saved by analyze --json or by the tui, instead of traces")
	cmd.Flags().StringVarP(&output, "output", "o", "", "file w offers to save to (default: the --plan file, else decompose-plan.json)")
	return cmd
}

// tuiOptions checks the arguments before the UI starts, so that a usage
// error is one line on stderr, and says how to load the plan. The engine
// flags are checked by analysisFlags.plan when the UI loads: its usage
// error ends the UI and comes back from tui.Run unchanged.
func tuiOptions(cmd *cobra.Command, flags *analysisFlags, planPath, output string, args []string) (tui.Options, error) {
	if _, err := flags.options(); err != nil {
		return tui.Options{}, err
	}
	switch {
	case planPath != "" && len(args) > 0:
		return tui.Options{}, usageError{errors.New("tui takes either traces or --plan FILE, not both")}
	case planPath == "" && len(args) == 0:
		return tui.Options{}, usageError{errors.New("tui needs at least one trace file (written by decompose record), or --plan FILE")}
	case planPath != "" && (cmd.Flags().Changed("ignore") || cmd.Flags().Changed("resolution")):
		return tui.Options{}, usageError{errors.New("--ignore and --resolution apply to traces: a saved plan is already analyzed")}
	}
	if planPath != "" {
		if output == "" {
			output = planPath
		}
		return tui.Options{Load: func() (*graph.Plan, error) { return readPlanFile(planPath) }, Source: filepath.Base(planPath), SavePath: output}, nil
	}
	if output == "" {
		output = "decompose-plan.json"
	}
	source := filepath.Base(args[0])
	if len(args) > 1 {
		source = fmt.Sprintf("%d traces", len(args))
	}
	return tui.Options{Load: func() (*graph.Plan, error) { return flags.plan(args) }, Source: source, SavePath: output}, nil
}

func readPlanFile(path string) (*graph.Plan, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	defer f.Close()
	return graph.ReadPlan(f, path)
}

// terminal returns the command's input and output when both are
// terminals: the UI cannot run on a pipe.
func terminal(cmd *cobra.Command) (*os.File, *os.File, error) {
	in, inOK := cmd.InOrStdin().(*os.File)
	out, outOK := cmd.OutOrStdout().(*os.File)
	if !inOK || !outOK || !term.IsTerminal(int(in.Fd())) || !term.IsTerminal(int(out.Fd())) {
		return nil, nil, errors.New("tui needs a terminal on standard input and output: use decompose analyze or report to print the plan")
	}
	return in, out, nil
}
