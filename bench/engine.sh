#!/usr/bin/env bash
# Engine and report scaling: synthetic traces (fixtures/synth.Scaled, written
# with synth.Write) from 1e3 to 1e6 access records with records/100
# processes (10 to 10,000), then `decompose analyze`, `report -f html`,
# `report -f md` and `manifests -f k8s` on each under /usr/bin/time -v (wall
# time and peak RSS of the whole command, reading the trace included);
# then 1e5 records with 10 to 10,000 processes (analyze only); then the Go
# benchmarks BenchmarkAnalyze (graph) and BenchmarkStore (trace store write
# and read throughput).
#
#   bash bench/engine.sh     # BENCH_SIZES="1000 10000 100000 1000000" BENCH_REPS=3
# Target: 1e6 records analyzed in under 5 s and under 1 GB.
source "$(dirname "$0")/lib.sh"

SIZES=${BENCH_SIZES:-"1000 10000 100000 1000000"}
REPS=${BENCH_REPS:-3}
PROCS=${BENCH_PROCS:-"10 100 1000 10000"}
PROCS_RECORDS=${BENCH_PROCS_RECORDS:-100000}
GOBENCH=1
if [ "$SMOKE" = 1 ]; then SIZES="1000 10000" REPS=1 PROCS="10 100" PROCS_RECORDS=10000 GOBENCH=0; fi

need_pkgs /usr/bin/time:time
build

# timed OP RECORDS PROCS CMD...: run CMD under /usr/bin/time -v, append a
# line to the raw file (in series $SERIES).
timed() {
	local op=$1 n=$2 p=$3 r
	shift 3
	/usr/bin/time -v "$@" >/dev/null 2>"$WORK/time.out" || die "$op failed: $(tail -5 "$WORK/time.out")"
	r=$("$BT" timev <"$WORK/time.out")
	echo "series=$SERIES op=$op records=$n procs=$p $r" | tee -a "$RAW" >&2
}

scale_one() { # RECORDS PROCS OPS...
	local n=$1 p=$2 tr=$WORK/synth-$1-$2.trace op rep
	shift 2
	"$BT" synth -records "$n" -procs "$p" -o "$tr" | sed "s/^/op=synth-write series=$SERIES /" >>"$WORK/write.raw"
	for ((rep = 1; rep <= REPS; rep++)); do
		for op in "$@"; do
			case $op in
			analyze) timed analyze "$n" "$p" "$DECOMPOSE" analyze "$tr" ;;
			analyze-json) timed analyze-json "$n" "$p" "$DECOMPOSE" analyze --json "$tr" ;;
			report-html) timed report-html "$n" "$p" "$DECOMPOSE" report -f html -o "$WORK/r.html" "$tr" ;;
			report-md) timed report-md "$n" "$p" "$DECOMPOSE" report -f md -o "$WORK/r.md" "$tr" ;;
			manifests)
				rm -rf "$WORK/manifests"
				timed manifests "$n" "$p" "$DECOMPOSE" manifests -f k8s -o "$WORK/manifests" "$tr"
				;;
			esac
		done
	done
	rm -f "$tr"
}

SERIES=size
for n in $SIZES; do
	p=$((n / 100 > 10 ? n / 100 : 10))
	log "$n records, $p processes"
	scale_one "$n" "$p" analyze report-html report-md manifests
done
SERIES=procs
for p in $PROCS; do
	log "$PROCS_RECORDS records, $p processes"
	scale_one "$PROCS_RECORDS" "$p" analyze
done

if [ "$GOBENCH" = 1 ]; then
	log "go test -bench Analyze ./graph/ and -bench Store ./trace/"
	(cd "$REPO" && go test -run '^$' -bench Analyze -benchtime 3x -benchmem ./graph/) >"$WORK/gobench-graph.txt" 2>&1 || die "$(tail -20 "$WORK/gobench-graph.txt")"
	(cd "$REPO" && go test -run '^$' -bench Store -benchtime 1x ./trace/) >"$WORK/gobench-trace.txt" 2>&1 || die "$(tail -20 "$WORK/gobench-trace.txt")"
	# BenchmarkAnalyze/accesses=1000000-2  3  1234567890 ns/op  567 alloc-MB/op ...
	awk '/^BenchmarkAnalyze\/accesses=/ { split($1, a, "[=-]"); for (i = 3; i <= NF; i++) if ($(i) == "ns/op") ns = $(i-1); else if ($(i) == "alloc-MB/op") mb = $(i-1)
		printf "series=size op=analyze-go records=%s procs=%d wall_s=%.3f alloc_mb=%s\n", a[2], (a[2] / 100 > 10 ? a[2] / 100 : 10), ns / 1e9, mb }' "$WORK/gobench-graph.txt" >>"$RAW"
	awk '/^BenchmarkStore\// { for (i = 3; i <= NF; i++) if ($(i) == "records/s") rs = $(i-1); split($1, a, "[/=-]"); printf "op=store-%s records=%s records_per_s=%s\n", a[2], a[4], rs }' "$WORK/gobench-trace.txt" >>"$WORK/write.raw"
fi

{
	"$BT" scale -raw "$RAW" -target-records 1000000 -target-s 5 -target-mb 1024
	echo
	echo "Trace store throughput (synth-write: synth.Write of each trace above; store-write/store-read: BenchmarkStore):"
	echo
	"$BT" table -raw "$WORK/write.raw" -cols op,series,records,processes,resources,write_s,write_records_per_s,records_per_s
	echo
	echo "analyze, report-*, manifests: the whole command under /usr/bin/time -v (reading the trace included), median of $REPS runs; processes = records/100 (at least 10) except in the rows at $PROCS_RECORDS records, which vary the processes. Growth exponent k: wall time grows as x^k between successive rows of the same series and operation, x = the records (series size) or the processes (series procs): 1 is linear."
	if [ "$GOBENCH" = 1 ]; then
		echo "analyze-go: graph.Analyze alone on an in-memory trace (BenchmarkAnalyze, -benchtime 3x), alloc_mb = bytes allocated per analysis."
		echo
		echo '```'
		grep -E '^(Benchmark|goos|goarch|cpu|pkg)' "$WORK/gobench-graph.txt" "$WORK/gobench-trace.txt" | sed 's/^[^:]*://'
		echo '```'
	fi
} >"$WORK/table.md"
finish "Engine and report scaling"
