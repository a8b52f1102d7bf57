#!/usr/bin/env bash
# The recorder's own cost: CPU (utime + stime from /proc/PID/stat, in % of
# one core) and peak RSS (VmHWM) of `decompose record` while it records the
# legacyshop fixture, first idle, then under load (shop-load driving orders
# through the shop, 8 concurrent clients, again and again). Two modes: --pid
# (the shop's process tree, as `decompose demo` records it) and the whole
# host (everything else running on the machine is recorded too).
#
#   sudo bash bench/recorder-cost.sh     # BENCH_IDLE_SECONDS=20 BENCH_LOAD_SECONDS=30
# Target: peak RSS <= 100 MB.
source "$(dirname "$0")/lib.sh"

IDLE=${BENCH_IDLE_SECONDS:-20}
LOADS=${BENCH_LOAD_SECONDS:-30}
MODES=${BENCH_MODES:-"pid host"}
if [ "$SMOKE" = 1 ]; then IDLE=2 LOADS=3 MODES=pid; fi

build
mkdir -p "$WORK/shopbin"
log "building and starting legacyshop"
"$BT" shop -bindir "$WORK/shopbin" -root "$WORK/shoproot" -env "$WORK/shop.env" >"$WORK/shop.log" 2>&1 &
SHOP=$!
# shellcheck disable=SC2016
at_exit 'kill -TERM "$SHOP"; wait "$SHOP"'
for _ in $(seq 600); do
	[ -s "$WORK/shop.env" ] && break
	kill -0 "$SHOP" 2>/dev/null || die "legacyshop did not start: $(cat "$WORK/shop.log")"
	sleep 0.2
done
[ -s "$WORK/shop.env" ] || die "legacyshop did not start in 120 s"
# shellcheck disable=SC1091
source "$WORK/shop.env"

# drive SECONDS: run shop-load (100 orders, 8 clients) again and again for
# SECONDS; prints the orders placed.
drive() {
	local end=$((SECONDS + $1)) n=0
	while [ $SECONDS -lt $end ]; do
		"$SHOP_LOAD" -url "$SHOP_URL" -orders 100 -concurrency 8 -spool "$SHOP_SPOOL" -timeout 60s >>"$WORK/load.log" 2>&1 ||
			die "shop-load failed: $(tail -3 "$WORK/load.log")"
		n=$((n + 100))
	done
	echo "$n"
}

for mode in $MODES; do
	args=()
	[ "$mode" = pid ] && args=(--pid "$SHOP_PID")
	tr=$WORK/cost-$mode.trace
	load=$(wait_load)
	rec_start "$tr" "${args[@]}"
	startup=$("$BT" proc -pid "$REC_PID" | sed 's/\([a-z_]*\)=/startup_\1=/g')
	idle=$("$BT" procwatch -pid "$REC_PID" -for "${IDLE}s")
	echo "mode=$mode phase=idle load=$load seconds=$IDLE $idle" | tee -a "$RAW" >&2
	drive "$LOADS" >"$WORK/orders" &
	dpid=$!
	busy=$("$BT" procwatch -pid "$REC_PID" -for "${LOADS}s")
	wait "$dpid"
	orders=$(cat "$WORK/orders")
	echo "mode=$mode phase=load load=$(load1) seconds=$LOADS orders=$orders orders_per_s=$((orders / LOADS)) $busy" | tee -a "$RAW" >&2
	rec_stop
	sum=$REC_SUMMARY
	echo "mode=$mode phase=total $startup trace_mb=$(du -m "$tr" | cut -f1) $sum" | tee -a "$RAW" >&2
	rm -f "$tr"
done

awk '/phase=(idle|load)/ { delete f; for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
	printf "mode=%s phase=%s hwm_mb=%s target=<=100MB result=%s\n", f["mode"], f["phase"], f["hwm_mb"], (f["hwm_mb"] <= 100 ? "PASS" : "MISS") }' "$RAW" >"$WORK/verdicts.raw"
{
	"$BT" table -raw "$RAW" -where phase=idle -cols mode,phase,seconds,load,cpu_pct,cpu_s,hwm_mb,rss_mb
	echo
	"$BT" table -raw "$RAW" -where phase=load -cols mode,phase,seconds,load,orders,orders_per_s,cpu_pct,cpu_s,hwm_mb,rss_mb
	echo
	"$BT" table -raw "$RAW" -where phase=total -cols mode,startup_cpu_s,startup_hwm_mb,trace_mb,rec_elapsed,rec_processes,rec_resources,rec_events,rec_drops
	echo
	"$BT" table -raw "$WORK/verdicts.raw" -cols mode,phase,hwm_mb,target,result
	echo
	echo "cpu_pct: CPU time of the recorder (utime+stime) over the phase, in % of one core; hwm_mb: VmHWM (peak RSS since the recorder started) at the end of the phase; startup_*: CPU and VmHWM once the programs are loaded and the snapshot taken."
} >"$WORK/table.md"
finish "The recorder's own cost: legacyshop idle and under load"
