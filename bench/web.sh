#!/usr/bin/env bash
# Web: nginx (Debian) on loopback serving a 4 KiB static file, and the same
# file through a proxied request to an upstream (a second nginx server
# block; no upstream keep-alive, as in a default proxy_pass), both with an
# access log. wrk loads each for BENCH_DURATION seconds. Interleaved A/B
# pairs, untraced first in odd pairs and traced first in even ones (see
# ab_pair in lib.sh); the traced arm runs under a whole-host
# `decompose record` started before and stopped after it. Many short pairs:
# back-to-back untraced runs of this load differ by up to 15 % here.
#
#   sudo bash bench/web.sh        # BENCH_PAIRS=10 BENCH_DURATION=6 BENCH_CONNS=32
# Targets: traced/untraced requests/s >= 0.95; p99 latency within 10 %.
source "$(dirname "$0")/lib.sh"

PAIRS=${BENCH_PAIRS:-10}
DUR=${BENCH_DURATION:-6}
CONNS=${BENCH_CONNS:-32}
THREADS=${BENCH_THREADS:-2}
if [ "$SMOKE" = 1 ]; then PAIRS=1 DUR=1 CONNS=4; fi

need_pkgs nginx:nginx wrk:wrk
build
read -r PORT UPORT < <("$BT" freeport -n 2)

mkdir -p "$WORK/www/proxy" "$WORK/upstream" "$WORK/nginx-tmp"
# a 4 KiB page
{
	echo "<!doctype html><title>bench</title><pre>"
	for ((i = 0; i < 64; i++)); do printf '%063d\n' "$i"; done | head -c 4000
	echo "</pre>"
} >"$WORK/www/static.html"
cp "$WORK/www/static.html" "$WORK/upstream/item.html"
cat >"$WORK/nginx.conf" <<EOF
user root;
worker_processes 2;
pid $WORK/nginx.pid;
error_log $WORK/error.log warn;
events { worker_connections 4096; }
http {
	default_type text/html;
	sendfile on;
	keepalive_requests 1000000;
	access_log $WORK/access.log;
	client_body_temp_path $WORK/nginx-tmp/body;
	proxy_temp_path $WORK/nginx-tmp/proxy;
	fastcgi_temp_path $WORK/nginx-tmp/fastcgi;
	uwsgi_temp_path $WORK/nginx-tmp/uwsgi;
	scgi_temp_path $WORK/nginx-tmp/scgi;
	server {
		listen 127.0.0.1:$PORT;
		root $WORK/www;
		location /proxy/ { proxy_pass http://127.0.0.1:$UPORT/; }
	}
	server {
		listen 127.0.0.1:$UPORT;
		root $WORK/upstream;
		access_log $WORK/upstream-access.log;
	}
}
EOF
nginx -q -t -c "$WORK/nginx.conf" -p "$WORK" || die "bad nginx configuration"
nginx -c "$WORK/nginx.conf" -p "$WORK"
# shellcheck disable=SC2016
at_exit 'kill -QUIT "$(cat "$WORK/nginx.pid")"; for _ in $(seq 50); do [ -e "$WORK/nginx.pid" ] || break; sleep 0.1; done'
for _ in $(seq 50); do [ -s "$WORK/nginx.pid" ] && break; sleep 0.1; done
"$BT" wrk-lua >"$WORK/report.lua"

declare -A URL=([static]="http://127.0.0.1:$PORT/static.html" [proxy]="http://127.0.0.1:$PORT/proxy/item.html")
# warm up both paths (and check they answer 200)
for c in static proxy; do
	wrk -t1 -c2 -d"$([ "$SMOKE" = 1 ] && echo 1s || echo 2s)" -s "$WORK/report.lua" "${URL[$c]}" >"$WORK/warm.out"
	r=$("$BT" wrk <"$WORK/warm.out")
	case "$r" in *"non2xx=0 "*) ;; *) die "$c: $r" ;; esac
done

run_arm() { # pair arm
	local c load f1 f2 r
	for c in static proxy; do
		: >"$WORK/access.log"
		: >"$WORK/upstream-access.log"
		f1=$(foreign "${REC_PID:-0}")
		load=$(load1)
		rec_cpu_start "$((DUR > 1 ? DUR - 1 : 1))"
		wrk -t"$THREADS" -c"$CONNS" -d"${DUR}s" -s "$WORK/report.lua" "${URL[$c]}" >"$WORK/wrk.out"
		rec_cpu_wait
		f2=$(foreign "${REC_PID:-0}")
		r=$("$BT" wrk <"$WORK/wrk.out") || die "wrk: $(cat "$WORK/wrk.out")"
		echo "pair=$1 arm=$2 case=$c load=$load foreign=$((f1 > f2 ? f1 : f2)) $r $(rec_cpu_field)" | tee -a "$RAW" >&2
	done
}

for ((pair = 1; pair <= PAIRS; pair++)); do
	wait_load >/dev/null
	"$BT" waitclean -for "${FOREIGN_WAIT}s" >/dev/null
	ab_pair "$pair" "$WORK/web.trace"
done

{
	"$BT" ab -raw "$RAW" -metric rps,higher,0.95,req/s -metric p99_ms,lower,1.10,ms
	echo
	"$BT" ab -raw "$RAW" -exclude-foreign -metric rps,higher,0.95,req/s -metric p99_ms,lower,1.10,ms || true
	echo
	echo "wrk -t$THREADS -c$CONNS -d${DUR}s on 127.0.0.1; nginx 2 workers, access log on, sendfile on; static = a 4 KiB file; proxy = the same file through proxy_pass to a second server block (a new upstream connection per request)."
	echo "Runs during which another decompose recorder was loaded on the machine (other people's tests) have foreign>0 in the raw file."
	echo
	echo "Traced runs, with the recorder's own CPU (rec_cpu_pct: utime+stime of decompose record during the run, % of one core; the machine has 2):"
	echo
	"$BT" table -raw "$RAW" -where arm=traced -cols pair,case,load,foreign,rps,p99_ms,rec_cpu_pct
	echo
	echo '```'
	cat "$WORK/recorder.txt"
	echo '```'
} >"$WORK/table.md"
finish "Web: nginx + wrk, with and without a whole-host recording"
