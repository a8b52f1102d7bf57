#!/usr/bin/env bash
# Process churn: while a whole-host `decompose record` runs, a shell loop
# execs BENCH_EXECS short-lived processes (/bin/true MARKER-i) paced over
# BENCH_SECONDS, and at the same time a paced writer makes BENCH_WRITE_RATE
# 64-byte writes per second to one file. Then the trace is read back:
# every exec must be there with its executable and its parent (the shell),
# the writes counted must equal the writes made, and no event may be dropped.
# Drops are reported for the recorder's start-up (attach + snapshot, before
# the churn) and for the churn itself, from the recorder's per-second
# progress lines.
#
#   sudo bash bench/churn.sh     # BENCH_EXECS=5000 BENCH_SECONDS=10 BENCH_WRITE_RATE=100000 BENCH_RUNS=3
# Target: every exec attributed, 0 dropped events.
source "$(dirname "$0")/lib.sh"

N=${BENCH_EXECS:-5000}
SECS=${BENCH_SECONDS:-10}
RATE=${BENCH_WRITE_RATE:-100000}
RUNS=${BENCH_RUNS:-3}
if [ "$SMOKE" = 1 ]; then N=200 SECS=1 RATE=10000 RUNS=1; fi

need_pkgs true:coreutils
build

# churn N SECS MARKER: exec /bin/true MARKER-i N times, paced to N/SECS a
# second (checked every 50 execs; sleeps only when ahead).
churn() {
	local n=$1 secs=$2 marker=$3 i t0 now due
	t0=${EPOCHREALTIME/./}
	for ((i = 0; i < n; i++)); do
		/bin/true "$marker-$i"
		if ((i % 50 == 49)); then
			now=${EPOCHREALTIME/./}
			due=$((t0 + (i + 1) * secs * 1000000 / n))
			if ((due > now)); then sleep "$(printf '0.%06d' $((due - now)))"; fi
		fi
	done
}

for ((run = 1; run <= RUNS; run++)); do
	load=$(wait_load)
	marker="dcbench-$$-$run"
	tr=$WORK/churn-$run.trace
	rec_start "$tr"
	sleep 3 # start-up records drained, a few idle progress lines
	drops0=$(rec_drops_now)
	"$BT" writer -file "$WORK/writes-$run.dat" -rate "$RATE" -for "${SECS}s" >"$WORK/writer.out" &
	wpid=$!
	t0=${EPOCHREALTIME/./}
	churn "$N" "$SECS" "$marker"
	t1=${EPOCHREALTIME/./}
	wait "$wpid"
	sleep 2 # the last counters are drained every second
	drops1=$(rec_drops_now)
	rec_stop
	sum=$REC_SUMMARY
	count=$("$BT" churncount -trace "$tr" -marker "$marker" -n "$N" -writer-file "$WORK/writes-$run.dat")
	line="run=$run load=$load execs=$N exec_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", (b-a)/1e6}') $(sed 's/^/writer_/; s/ / writer_/g' "$WORK/writer.out") $count drops_startup=${drops0:-0} drops_churn=$((${drops1:-0} - ${drops0:-0})) $sum"
	echo "$line" | tee -a "$RAW" >&2
	rm -f "$tr"
done

# Verdicts per run: every exec seen with exe and parent, writes exact, no drop.
awk '{
	delete f; for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
	ok_exec = (f["execs_with_parent"] == f["execs_expected"] && f["execs_with_exe"] == f["execs_expected"])
	ok_writes = (f["writes_counted"] == f["writer_writes"])
	printf "run=%s attributed=%s/%s writes=%s/%s drops=%s exec_result=%s writes_result=%s drops_result=%s\n", f["run"],
		f["execs_with_parent"], f["execs_expected"], f["writes_counted"], f["writer_writes"], f["rec_drops"],
		ok_exec ? "PASS" : "MISS", ok_writes ? "PASS" : "MISS", f["rec_drops"] == 0 ? "PASS" : "MISS"
}' "$RAW" >"$WORK/verdicts.raw"

{
	"$BT" table -raw "$RAW" -cols run,load,execs,exec_s,execs_seen,execs_with_exe,execs_with_parent,writer_writes,writer_rate,writes_counted,drops_startup,drops_churn,rec_drops,evicted,unresolved,rec_events,trace_processes
	echo
	"$BT" table -raw "$WORK/verdicts.raw" -cols run,attributed,writes,drops,exec_result,writes_result,drops_result
	echo
	echo "Targets: every exec attributed (in the trace with its executable and its parent shell), 0 dropped events. drops_startup: ring buffer records lost between attaching and the first idle seconds (the snapshot of every process and open file of the host); drops_churn: lost during the churn; rec_drops: the recorder's total. evicted / unresolved: counter entries evicted from the LRU map before a drain / counters whose file record was lost (blind spots in the trace)."
} >"$WORK/table.md"
finish "Process churn: $N execs in ${SECS} s and $RATE writes/s under a whole-host recording"
