package main

import (
	"github.com/spf13/cobra"
)

func newTUICommand() *cobra.Command {
	return &cobra.Command{
		Use:     "tui TRACE...",
		Short:   "Explore the plan and try changes in a terminal UI (not implemented yet)",
		Example: `  decompose tui app.trace`,
		RunE:    func(*cobra.Command, []string) error { return errNotImplemented },
	}
}
