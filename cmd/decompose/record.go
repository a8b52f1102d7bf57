package main

import (
	"io"

	"github.com/spf13/cobra"
)

func newRecordCommand(stdout, stderr io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "record -o FILE [--duration D] [--pid PID | --cgroup PATH | -- COMMAND ARGS...]",
		Short: "Record with eBPF which processes share what (root; not implemented yet)",
		Example: `  sudo decompose record -o app.trace --duration 10m
  sudo decompose record -o app.trace --pid 1234
  sudo decompose record -o app.trace -- /opt/app/bin/start.sh`,
		RunE: func(*cobra.Command, []string) error { return errNotImplemented },
	}
}
