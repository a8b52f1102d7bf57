package main

import (
	"github.com/spf13/cobra"
)

func newStaticCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "static [--json] [PATTERNS...]",
		Short: "Find couplings a priori in Go source (not implemented yet)",
		Example: `  decompose static ./...
  decompose static --json ./cmd/... > sites.json`,
		RunE: func(*cobra.Command, []string) error { return errNotImplemented },
	}
}
