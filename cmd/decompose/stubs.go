package main

import "errors"

// errNotImplemented is returned by subcommands whose issue has not landed.
var errNotImplemented = errors.New("not implemented yet: see the open issues; record, analyze, report, manifests, demo and version work today")
