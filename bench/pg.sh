#!/usr/bin/env bash
# Database: PostgreSQL (Debian) started by hand in a temporary data
# directory on a loopback port, pgbench -i, then pgbench with a few clients
# over TCP: the TPC-B-like default script and the select-only script (-S).
# Interleaved A/B pairs, untraced first in odd pairs and traced first in even
# ones (see ab_pair in lib.sh); the traced arm runs under a whole-host
# `decompose record` started before and stopped after it.
# p99 comes from pgbench's per-transaction logs (-l).
#
#   sudo bash bench/pg.sh        # BENCH_PAIRS=8 BENCH_DURATION=12 BENCH_CLIENTS=4 BENCH_SCALE=10
# Targets: traced/untraced transactions/s >= 0.95; p99 latency within 10 %.
source "$(dirname "$0")/lib.sh"

PAIRS=${BENCH_PAIRS:-8}
DUR=${BENCH_DURATION:-12}
CLIENTS=${BENCH_CLIENTS:-4}
SCALE=${BENCH_SCALE:-10}
if [ "$SMOKE" = 1 ]; then PAIRS=1 DUR=1 SCALE=1; fi

need_pkgs '/usr/lib/postgresql/*/bin/initdb:postgresql' pgbench:postgresql-client
build
PGBIN=$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d | sort -V | tail -1)
PORT=$("$BT" freeport)
PGDIR=$WORK/pg
mkdir -p "$PGDIR"
chown postgres:postgres "$PGDIR"
pgu() { runuser -u postgres -- "$@"; }
pgu "$PGBIN/initdb" -D "$PGDIR/data" -U postgres -A trust -E UTF8 --no-sync >"$PGDIR/initdb.log" 2>&1 ||
	die "initdb failed: $(tail -5 "$PGDIR/initdb.log")"
pgu "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w -t 60 \
	-o "-p $PORT -k $PGDIR -c listen_addresses=127.0.0.1 -c shared_buffers=128MB -c max_connections=50" start >/dev/null ||
	die "postgres did not start: $(tail -5 "$PGDIR/server.log")"
# shellcheck disable=SC2016
at_exit 'runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDIR/data" -m fast -w -t 30 stop'
PGB=(pgbench -h 127.0.0.1 -p "$PORT" -U postgres)
log "pgbench -i -s $SCALE"
"${PGB[@]}" -i -s "$SCALE" -q postgres >"$PGDIR/init.log" 2>&1 || die "pgbench -i failed: $(tail -5 "$PGDIR/init.log")"

declare -A OPTS=([tpcb]="" [select]="-S")
run_arm() { # pair arm
	local c load f1 f2 r prefix
	for c in tpcb select; do
		prefix=$PGDIR/log-$1-$2-$c
		f1=$(foreign "${REC_PID:-0}")
		load=$(load1)
		rec_cpu_start "$((DUR > 1 ? DUR - 1 : 1))"
		# shellcheck disable=SC2086 # OPTS holds several arguments
		(cd "$PGDIR" && "${PGB[@]}" ${OPTS[$c]} -c "$CLIENTS" -j 2 -T "$DUR" -l --log-prefix="$prefix" postgres) >"$PGDIR/run.out" 2>&1 ||
			die "pgbench: $(tail -5 "$PGDIR/run.out")"
		rec_cpu_wait
		f2=$(foreign "${REC_PID:-0}")
		r=$("$BT" pgbench -out "$PGDIR/run.out" -log-prefix "$prefix")
		rm -f "$prefix".*
		echo "pair=$1 arm=$2 case=$c load=$load foreign=$((f1 > f2 ? f1 : f2)) $r $(rec_cpu_field)" | tee -a "$RAW" >&2
	done
}

for ((pair = 1; pair <= PAIRS; pair++)); do
	wait_load >/dev/null
	"$BT" waitclean -for "${FOREIGN_WAIT}s" >/dev/null
	ab_pair "$pair" "$WORK/pg.trace"
done

{
	"$BT" ab -raw "$RAW" -metric tps,higher,0.95,tx/s -metric p99_ms,lower,1.10,ms
	echo
	"$BT" ab -raw "$RAW" -exclude-foreign -metric tps,higher,0.95,tx/s -metric p99_ms,lower,1.10,ms || true
	echo
	echo "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}'), shared_buffers 128MB, fsync on; pgbench -c $CLIENTS -j 2 -T $DUR over TCP on 127.0.0.1, scale $SCALE; tpcb = the default TPC-B-like script, select = -S."
	echo "Runs during which another decompose recorder was loaded on the machine (other people's tests) have foreign>0 in the raw file."
	echo
	echo "Traced runs, with the recorder's own CPU (rec_cpu_pct: utime+stime of decompose record during the run, % of one core; the machine has 2):"
	echo
	"$BT" table -raw "$RAW" -where arm=traced -cols pair,case,load,foreign,tps,p99_ms,rec_cpu_pct
	echo
	echo '```'
	cat "$WORK/recorder.txt"
	echo '```'
} >"$WORK/table.md"
finish "Database: PostgreSQL + pgbench, with and without a whole-host recording"
