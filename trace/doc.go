// Package trace is the evidence model of decompose and its on-disk store.
//
// A trace is one SQLite file holding what a recorder saw on one host: the
// host itself, the processes, the resources they shared (files, directories,
// pipes, FIFOs, unix sockets, TCP/UDP endpoints, shared memory), the
// aggregated accesses of each process to each resource, the signals sent
// between processes, and the recorder's own counters and blind spots.
//
// Every reader and writer of trace files goes through this package: Create
// returns a Writer whose upserts are committed at least once per Commit call
// (the recorder commits every second, so a killed recorder leaves a valid
// trace), and Open reads a whole trace into memory after validating that the
// file is a decompose trace of a schema version this build understands. The
// schema is documented for users of sqlite3 in docs/trace-format.md.
package trace
