#!/usr/bin/env bash
# Syscall cost: what a whole-host `decompose record` adds to each syscall.
#
# Tight loops (bench/sysloop.go, one OS thread, CPU time of that thread):
# 64-byte pwrite+pread at offset 0 of a regular file (write and read's hot
# path), on a pipe, on a unix socketpair (write/read, and sendto/recvfrom
# as unixmsg) and on a loopback TCP connection;
# a new loopback TCP connection per iteration (socket, connect, accept4,
# close x2); and getppid, which no hook watches, for the tax every syscall
# pays once a syscall tracepoint is on. Interleaved A/B: untraced, traced, untraced, ...
# (the recorder is started and stopped around each traced run). Each case
# waits for other decompose recorders on the host (other people's tests) to
# go away and is repeated when one appeared during it.
# After the last traced run, a profile run with BPF statistics on:
# run_time_ns / run_cnt of each of the recorder's programs while the loops run.
#
#   sudo bash bench/syscalls.sh            # BENCH_PAIRS=7 BENCH_ITERS=2000000
# Target: <= 150 ns added per read/write (file, pipe, unix, unixmsg, tcp) at the median.
# bench/hookfloor.sh measures how much of that the hooks take before a program runs.
source "$(dirname "$0")/lib.sh"

PAIRS=${BENCH_PAIRS:-7}
ITERS=${BENCH_ITERS:-2000000}
CASES=${BENCH_CASES:-getppid,file,pipe,unix,unixmsg,tcp,connect}
CLEAN=(-clean -wait "${FOREIGN_WAIT}s")
# smoke runs share the machine with other smoke runs' recorders: no waiting
if [ "$SMOKE" = 1 ]; then PAIRS=1 ITERS=10000 CLEAN=(); fi

need_pkgs bpftool:bpftool
PERF=0
if [ "$SMOKE" != 1 ]; then
	need_pkgs perf:linux-perf
	PERF=1
fi
build
log "$PAIRS pairs of $ITERS iterations per case ($CASES)"

for ((pair = 1; pair <= PAIRS; pair++)); do
	load=$(wait_load)
	log "pair $pair/$PAIRS: untraced (load $load)"
	"$BT" sysloop "${CLEAN[@]}" -n "$ITERS" -cases "$CASES" -dir "$WORK" \
		-prefix "pair=$pair arm=untraced load=$load" >>"$RAW"
	rec_start "$WORK/sys-$pair.trace"
	sleep 1 # let the recorder drain the snapshot's records
	load=$(load1)
	log "pair $pair/$PAIRS: traced (load $load)"
	"$BT" sysloop "${CLEAN[@]}" -ours "$REC_PID" -n "$ITERS" -cases "$CASES" -dir "$WORK" \
		-prefix "pair=$pair arm=traced load=$load" >>"$RAW" || {
		rec_check
		die "the traced loops failed"
	}
	if [ "$pair" = "$PAIRS" ]; then
		# After the last traced run, with the same recorder: BPF statistics
		# on (they add to every program run, so never during an A/B run).
		log "profile: BPF statistics of the recorder's programs while the loops run"
		"$BT" bpfprofile -pid "$REC_PID" -- "$BT" sysloop -n $((ITERS / 2)) -cases "$CASES" -dir "$WORK" \
			>"$WORK/profile.md" 2>"$WORK/profile.loops"
		if [ "$PERF" = 1 ]; then
			# software clock sampling (no hardware counters on these VMs)
			log "profile: perf record of the pipe loop"
			perf record -q -e cpu-clock -F 10000 -g -o "$WORK/perf.data" -- \
				"$BT" sysloop -n "$ITERS" -cases pipe -dir "$WORK" >"$WORK/perf.loop" 2>&1 || true
			perf report -i "$WORK/perf.data" --no-children --sort sym --stdio 2>/dev/null |
				grep -E '^ +[0-9.]+%' | head -25 >"$OUT/$NAME.perf.txt" || true
		fi
	fi
	rec_stop
	echo "recorder pair=$pair $REC_SUMMARY" >>"$WORK/recorder.txt"
	rm -f "$WORK/sys-$pair.trace"
done
grep -q '^bpfprofile total_ms=' "$WORK/profile.md" || die "no BPF profile"
cp "$WORK/profile.md" "$OUT/$NAME.profile.md"

{
	"$BT" sysab -raw "$RAW" -target 150 -cases file,pipe,unix,unixmsg,tcp
	echo
	echo "ns/iter is the CPU time of the looping thread (CLOCK_THREAD_CPUTIME_ID), so time other processes take on the shared machine is not counted; the wall-clock figures are in the raw file. The per-pair added cost compares a traced run with the untraced run just before it."
	echo "getppid has no hook: what it gains is the tax every syscall of every process pays while any syscall tracepoint is attached. connect makes a new loopback connection per iteration (2 traced syscalls: connect, accept4; each creates two new counter keys and sends two file records through the ring buffer)."
	echo
	echo "Loops during the profile run:"
	echo
	echo '```'
	cat "$WORK/profile.loops"
	echo '```'
	echo
	cat "$WORK/profile.md"
	echo
	if [ -s "$OUT/$NAME.perf.txt" ]; then
		echo "perf record -e cpu-clock -g of the pipe loop under the recorder ($(cat "$WORK/perf.loop")), top symbols by self time:"
		echo
		echo '```'
		cat "$OUT/$NAME.perf.txt"
		echo '```'
		echo
	fi
	echo "Recorder summaries of the traced runs (whole host: everything else running on the machine is recorded too):"
	echo
	echo '```'
	cat "$WORK/recorder.txt"
	echo '```'
} >"$WORK/table.md"
finish "Syscall cost while recording (whole host)"
