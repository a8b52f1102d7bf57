// Command decompose shows how to split a legacy application running on a VM
// into containers and pods: it records with eBPF which processes share
// files, pipes, sockets, shared memory and signals, groups them into
// components, proposes pods, and explains every hidden coupling.
//
// main only wires flags to the packages that do the work; see README.md for
// every subcommand.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// usageError marks errors in how the command was called (exit code 2).
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

// run executes the command line args and returns the process exit code:
// 0 on success, 2 on usage errors, 1 on other errors. Errors are printed as
// one line on stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCommand(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	msg := strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", " ")
	fmt.Fprintf(stderr, "decompose: %s\n", msg)
	var u usageError
	if errors.As(err, &u) || isCobraUsage(err) {
		fmt.Fprintln(stderr, "run 'decompose --help' for usage")
		return 2
	}
	return 1
}

// isCobraUsage recognises the errors cobra returns for unknown commands.
func isCobraUsage(err error) bool {
	m := err.Error()
	return strings.HasPrefix(m, "unknown command") || strings.HasPrefix(m, "unknown flag") ||
		strings.HasPrefix(m, "unknown shorthand flag") || strings.Contains(m, "flag needs an argument")
}
