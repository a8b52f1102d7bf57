# Shared by the benchmark scripts in bench/ (sourced, not run).
#
# Environment (all optional):
#   BENCH_OUT         where results go (default /tmp/decompose-bench): NAME.md, NAME.raw, logs
#   BENCH_SMOKE=1     tiny run that only proves the measuring path works (the tests use it)
#   BENCH_NO_INSTALL=1  fail instead of installing missing Debian packages
#   BENCH_BIN         directory holding prebuilt `decompose` and `benchtool` (default: build them)
#   BENCH_LOAD_MAX    wait before each run while the 1-minute load is above this (default: nproc)
#   BENCH_LOAD_WAIT   longest such wait, seconds (default 60; 0 in smoke mode)
#   BENCH_KEEP_TRACES=1  keep the traces the recorder wrote (in BENCH_OUT)
#   BENCH_RECORD_ARGS   extra arguments for `decompose record` (e.g. --cpuprofile FILE)
#   BENCH_FOREIGN_WAIT  longest wait for other recorders on the host to go away, seconds (default 120; 0 in smoke mode)
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
export PATH="$PATH:/usr/local/go/bin:/usr/sbin:/sbin"
SMOKE=${BENCH_SMOKE:-0}
OUT=${BENCH_OUT:-/tmp/decompose-bench}
NAME=$(basename "$0" .sh)
mkdir -p "$OUT"
RAW="$OUT/$NAME.raw"
MD="$OUT/$NAME.md"
: >"$RAW"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/decompose-bench-$NAME-XXXXXX")
chmod 755 "$WORK"
if [ "$SMOKE" = 1 ]; then
	LOAD_WAIT=${BENCH_LOAD_WAIT:-0}
	FOREIGN_WAIT=${BENCH_FOREIGN_WAIT:-0}
else
	LOAD_WAIT=${BENCH_LOAD_WAIT:-60}
	FOREIGN_WAIT=${BENCH_FOREIGN_WAIT:-120}
fi
LOAD_MAX=${BENCH_LOAD_MAX:-$(nproc)}
REC_PID=""
CLEANUPS=()

log() { echo "[$(date +%T)] $NAME: $*" >&2; }
die() {
	echo "$NAME: $*" >&2
	exit 1
}

# at_exit CMD: run CMD (a string, eval'd) when the script ends, last
# registered first.
at_exit() { CLEANUPS+=("$1"); }

_cleanup() {
	local rc=$?
	set +e
	if [ -n "$REC_PID" ]; then
		kill -INT "$REC_PID" 2>/dev/null
		for _ in $(seq 150); do kill -0 "$REC_PID" 2>/dev/null || break; sleep 0.2; done
		kill -KILL "$REC_PID" 2>/dev/null
		wait "$REC_PID" 2>/dev/null
		rec_keep_log
	fi
	local i
	for ((i = ${#CLEANUPS[@]} - 1; i >= 0; i--)); do
		eval "${CLEANUPS[$i]}" >/dev/null 2>&1
	done
	rm -rf "$WORK"
	exit $rc
}
trap _cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || die "needs root (the recorder loads eBPF programs, the servers are started by hand): sudo bash $0"

# need_pkgs CMD:PACKAGE ...: install PACKAGE when CMD (a command name or an
# absolute path, globs allowed) is missing.
need_pkgs() {
	local missing=() spec cmd pkg
	for spec in "$@"; do
		cmd=${spec%%:*} pkg=${spec#*:}
		if [[ $cmd == /* ]]; then
			# shellcheck disable=SC2086
			compgen -G "$cmd" >/dev/null && continue
		else
			command -v "$cmd" >/dev/null 2>&1 && continue
		fi
		missing+=("$pkg")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "${BENCH_NO_INSTALL:-0}" = 1 ]; then
		die "missing Debian packages: ${missing[*]} (BENCH_NO_INSTALL=1; the tests get them from scripts/test.sh)"
	fi
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get -o DPkg::Lock::Timeout=600 update -qq
	apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# build: sets DECOMPOSE and BT (benchtool), built from this checkout unless
# BENCH_BIN holds them.
build() {
	if [ -n "${BENCH_BIN:-}" ] && [ -x "$BENCH_BIN/decompose" ] && [ -x "$BENCH_BIN/benchtool" ]; then
		DECOMPOSE=$BENCH_BIN/decompose BT=$BENCH_BIN/benchtool
		return
	fi
	command -v go >/dev/null || die "needs Go (https://go.dev/dl/) on PATH"
	log "building decompose and benchtool"
	(cd "$REPO" && go build -o "$WORK/bin/decompose" ./cmd/decompose && go build -o "$WORK/bin/benchtool" ./bench/cmd/benchtool)
	DECOMPOSE=$WORK/bin/decompose BT=$WORK/bin/benchtool
}

load1() { cut -d' ' -f1 /proc/loadavg; }

# wait_load: wait (up to LOAD_WAIT s) for the 1-minute load to fall to
# LOAD_MAX; prints the load it starts the run at.
wait_load() {
	local end=$((SECONDS + LOAD_WAIT))
	while [ $SECONDS -lt $end ] && awk -v l="$(load1)" -v m="$LOAD_MAX" 'BEGIN{exit !(l > m)}'; do
		sleep 5
	done
	load1
}

# machine_md: the machine, the date, the code and the load, as Markdown.
machine_md() {
	local rev dirty
	rev=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
	dirty=$(git -C "$REPO" status --porcelain -- cmd trace graph report fixtures 2>/dev/null | awk '{print $2}' | xargs -r -n1 dirname | sort -u | tr '\n' ' ')
	echo "- machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), kernel $(uname -r)"
	echo "- date: $(date -u +%Y-%m-%dT%H:%MZ); code: commit $rev${dirty:+ with uncommitted changes in $dirty}"
	echo "- load average at the start: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared; each run's 1-minute load is in the raw file)"
}

# rec_start TRACE [ARGS...]: start `decompose record -o TRACE ARGS` in the
# background (whole host without ARGS) and wait until it records; sets
# REC_PID. Its stdout and stderr go to TRACE.out and TRACE.err.
rec_start() {
	local tr=$1
	shift
	rm -f "$tr"
	# shellcheck disable=SC2086 # BENCH_RECORD_ARGS is split on purpose
	"$DECOMPOSE" record -o "$tr" ${BENCH_RECORD_ARGS:-} "$@" >"$tr.out" 2>"$tr.err" &
	REC_PID=$!
	local end=$((SECONDS + 180))
	while ! grep -q '^recording into' "$tr.err" 2>/dev/null; do
		if ! kill -0 "$REC_PID" 2>/dev/null || [ $SECONDS -ge $end ]; then
			cat "$tr.err" >&2
			REC_PID=""
			die "decompose record did not start"
		fi
		sleep 0.2
	done
	REC_TRACE=$tr
}

# rec_cpu_start SECONDS: during a traced run, sample the recorder's own CPU
# (it shares the machine's cores with the load) for SECONDS in the
# background; nothing untraced. rec_cpu_wait waits for the sample and
# rec_cpu_field prints it as a raw-file field (rec_cpu_pct=...), or nothing.
rec_cpu_start() {
	: >"$WORK/rec.cpu"
	REC_CPU_PID=""
	if [ -n "$REC_PID" ]; then
		"$BT" procwatch -pid "$REC_PID" -for "$1s" | sed 's/^/rec_/; s/ / rec_/g' >"$WORK/rec.cpu" &
		REC_CPU_PID=$!
	fi
}

rec_cpu_wait() {
	if [ -n "$REC_CPU_PID" ]; then wait "$REC_CPU_PID"; fi
}

rec_cpu_field() { cut -d' ' -f1 "$WORK/rec.cpu"; }

# rec_check: die (with what the recorder said) when it is no longer running.
rec_check() {
	[ -z "$REC_PID" ] && return 0
	kill -0 "$REC_PID" 2>/dev/null && return 0
	local pid=$REC_PID
	REC_PID=""
	wait "$pid" 2>/dev/null
	local rc=$?
	rec_keep_log
	die "decompose record (pid $pid) exited on its own with status $rc during the run: $(tail -5 "$REC_TRACE.err" | tr '\n' ' ') (log: $OUT/$NAME.recorder.log)"
}

# rec_keep_log: append the recorder's output to $OUT/NAME.recorder.log.
rec_keep_log() {
	{
		echo "== decompose record -o $REC_TRACE ($(date +%T))"
		grep -v '^[0-9hms]*  processes ' "$REC_TRACE.err" 2>/dev/null
		tail -3 "$REC_TRACE.err" 2>/dev/null
		cat "$REC_TRACE.out" 2>/dev/null
	} >>"$OUT/$NAME.recorder.log"
	if [ "${BENCH_KEEP_TRACES:-0}" = 1 ] && [ -e "$REC_TRACE" ]; then
		cp "$REC_TRACE" "$OUT/$NAME.$(date +%H%M%S).trace"
	fi
}

# rec_stop: stop the recorder with SIGINT (it detaches and finalizes the
# trace) and set REC_SUMMARY to its summary as key=value: events, drops,
# processes. Call it directly, never in $(...): a subshell could not clear
# REC_PID.
rec_stop() {
	rec_check
	local pid=$REC_PID
	REC_PID=""
	kill -INT "$pid" 2>/dev/null || true
	local end=$((SECONDS + 60))
	while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $end ]; do sleep 0.2; done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
	rec_keep_log
	# recorded T in 8s: 82 processes, 8492 resources, 3165 shared, 11 signals, 14663 events, 550 dropped
	REC_SUMMARY=$(sed -n 's/^recorded .* in \([0-9smh.]*\): \([0-9]*\) processes, \([0-9]*\) resources, .*, \([0-9]*\) events, \([0-9]*\) dropped$/rec_elapsed=\1 rec_processes=\2 rec_resources=\3 rec_events=\4 rec_drops=\5/p' "$REC_TRACE.out")
}

# ab_pair PAIR TRACE: one A/B pair of the calling script's run_arm (PAIR
# ARM): untraced, and traced under a whole-host recording into TRACE. Odd
# pairs run the untraced arm first, even pairs the traced one, so that the
# machine's drift within a pair (it can lose 10 % of its speed in half a
# minute) does not always count against the same arm. The recorder gets a
# second to settle after it starts and after it stops.
ab_pair() {
	local pair=$1 tr=$2
	if ((pair % 2 == 1)); then run_arm "$pair" untraced; fi
	rec_start "$tr"
	sleep 1
	run_arm "$pair" traced
	rec_stop
	echo "recorder pair=$pair $REC_SUMMARY" >>"$WORK/recorder.txt"
	rm -f "$tr"
	if ((pair % 2 == 0)); then
		sleep 1
		run_arm "$pair" untraced
	fi
}

# rec_drops_now: drops so far, from the recorder's last progress line.
rec_drops_now() {
	sed -n 's/.*drops \([0-9]*\)$/\1/p' "$REC_TRACE.err" | tail -1
}

# foreign [PID]: how many other decompose recorders have their hot-path
# programs loaded (PID: ours, not counted).
foreign() {
	rec_check
	"$BT" foreign -pid "${1:-0}"
}

# finish TITLE TARGETS_TEXT: write MD from the table in $WORK/table.md and
# print it.
finish() {
	{
		echo "## $1"
		echo
		machine_md
		if [ "$SMOKE" = 1 ]; then
			echo "- command: \`BENCH_SMOKE=1 bash bench/$NAME.sh\` (smoke run: too short to judge the targets)"
		else
			echo "- command: \`bash bench/$NAME.sh\`"
		fi
		echo
		cat "$WORK/table.md"
	} >"$MD"
	cat "$MD"
	log "results: $MD (raw measurements: $RAW)"
}
