package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/decompose-dev/decompose/report"
)

func newAnalyzeCommand(stdout io.Writer) *cobra.Command {
	var flags analysisFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "analyze TRACE...",
		Short: "Turn one or more traces into a decomposition plan",
		Long: `analyze groups the recorded processes into components, types and weighs
every coupling between them, and proposes pods. Give several traces, one per
host, to analyze an application spread over several machines: a connection
seen from both ends is joined into one coupling.`,
		Example: `  decompose analyze app.trace
  decompose analyze --json web.trace db.trace > plan.json
  decompose analyze --ignore '^(sshd|cron)$' --resolution 1 app.trace`,
		Args: traceArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			plan, err := flags.plan(args)
			if err != nil {
				return err
			}
			if asJSON {
				return report.JSON(stdout, plan)
			}
			return report.Text(stdout, plan)
		},
	}
	flags.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the plan as JSON (the stable contract other tools read)")
	return cmd
}
