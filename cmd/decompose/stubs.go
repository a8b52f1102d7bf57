package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// errNotImplemented is returned by subcommands whose issue has not landed.
var errNotImplemented = errors.New("not implemented yet: see the open issues; analyze, report -f md|json|text, demo and version work today")

func newManifestsCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "manifests -f k8s|compose -o DIR TRACE...",
		Short: "Write Kubernetes (and compose) drafts for the plan (not implemented yet)",
		Example: `  decompose manifests -f k8s -o k8s/ app.trace
  decompose manifests -f compose -o compose/ --plan plan.json`,
		RunE: func(*cobra.Command, []string) error { return errNotImplemented },
	}
}

func newTUICommand() *cobra.Command {
	return &cobra.Command{
		Use:     "tui TRACE...",
		Short:   "Explore the plan and try changes in a terminal UI (not implemented yet)",
		Example: `  decompose tui app.trace`,
		RunE:    func(*cobra.Command, []string) error { return errNotImplemented },
	}
}

func newStaticCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "static [--json] [PATTERNS...]",
		Short: "Find couplings a priori in Go source (not implemented yet)",
		Example: `  decompose static ./...
  decompose static --json ./cmd/... > sites.json`,
		RunE: func(*cobra.Command, []string) error { return errNotImplemented },
	}
}
