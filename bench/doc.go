// Package bench holds the measuring helpers of decompose's benchmarks: the
// syscall loops, A/B summaries (medians, ratios, targets), parsers for the
// output of wrk, pgbench and /usr/bin/time, /proc readings of the recorder's
// CPU and memory, and per-program BPF statistics. The benchmarks themselves
// are the shell scripts beside this file (bench/*.sh, one command each; see
// BENCHMARKS.md), which call these helpers through cmd/benchtool.
//
// The tests of this package are smoke tests: they run every script in its
// BENCH_SMOKE=1 mode (a few seconds each) so that the scripts and their
// parsers cannot rot. They need root (the recorder is eBPF) and the Debian
// packages listed in scripts/test.sh.
package bench
