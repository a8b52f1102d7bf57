package main

import (
	"github.com/spf13/cobra"
)

func newManifestsCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "manifests -f k8s|compose -o DIR TRACE...",
		Short: "Write Kubernetes (and compose) drafts for the plan (not implemented yet)",
		Example: `  decompose manifests -f k8s -o k8s/ app.trace
  decompose manifests -f compose -o compose/ --plan plan.json`,
		RunE: func(*cobra.Command, []string) error { return errNotImplemented },
	}
}
