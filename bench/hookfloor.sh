#!/usr/bin/env bash
# The floor of each hook kind: what the kernel's path into a BPF program
# costs per syscall before the program does any work, on this machine.
#
# Do-nothing programs (bench/hookfloor/bpf/floor.bpf.c) are attached to one
# kind of hook at a time while the syscall loops of bench/syscalls.sh run
# (plus unixmsg: sendto/recvfrom on a unix socketpair): per-syscall exit
# tracepoints as decompose uses them; the socket layer's
# sock_send_length/sock_recv_length tracepoints through tp_btf (kernel
# 6.3+); both, split by fd kind (the design where sockets are counted in the
# socket layer); and one tp_btf program on sys_exit, which runs for every
# syscall. Rounds interleave every arm with a run with nothing attached and
# start at a different arm each time. kprobes and fentry, which could hook
# vfs_read/vfs_write or sock_sendmsg directly, are not among the arms: the
# machines this project runs on refuse them.
#
#   sudo bash bench/hookfloor.sh      # BENCH_ROUNDS=7 BENCH_ITERS=300000
# No target of its own: it says how much of the 150 ns per read/write that
# bench/syscalls.sh holds the recorder to is spent before a program runs.
source "$(dirname "$0")/lib.sh"

ROUNDS=${BENCH_ROUNDS:-7}
ITERS=${BENCH_ITERS:-300000}
if [ "$SMOKE" = 1 ]; then ROUNDS=1 ITERS=5000; fi

build
load=$(wait_load)
foreign=$("$BT" waitclean -for "${FOREIGN_WAIT}s")
log "$ROUNDS rounds of $ITERS iterations per case and arm (load $load, other recorders: $foreign)"
"$BT" hookfloor -rounds "$ROUNDS" -n "$ITERS" -dir "$WORK" >"$RAW"
{
	"$BT" floorab -raw "$RAW"
	echo
	echo "Each cell is the median over rounds of (ns per syscall with the arm's programs attached - ns per syscall with nothing attached, in the same round), with the range. getppid has no hook but the one on sys_exit: what the other arms add to it is the tax every syscall of every process pays while any syscall tracepoint is attached. Other decompose recorders on the host when the run started: $foreign."
	grep -h '^# arm ' "$RAW" | sed 's/^# arm /- unavailable: /' || true
} >"$WORK/table.md"
finish "The floor of each hook kind (do-nothing programs)"
