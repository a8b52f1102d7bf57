// SPDX-License-Identifier: GPL-2.0
//go:build ignore

// Do-nothing programs, one per hook a recorder of reads and writes could
// use without kprobes, fentry or LSM. Timing syscall loops with each set
// attached gives the floor of that hook kind: what the kernel's path into
// a program costs before the program does any work.

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

/* Per-syscall exit tracepoints (perf events), as decompose attaches them. */
#define SYS_EXIT(name)                                                         \
	SEC("tracepoint/syscalls/sys_exit_" #name)                            \
	int sys_exit_##name(void *ctx) { return 0; }

SYS_EXIT(read)
SYS_EXIT(write)
SYS_EXIT(pread64)
SYS_EXIT(pwrite64)
SYS_EXIT(sendto)
SYS_EXIT(recvfrom)

/* The socket layer's length tracepoints (kernel 6.3+), through BTF. */
SEC("tp_btf/sock_send_length")
int sock_send_length(void *ctx) { return 0; }
SEC("tp_btf/sock_recv_length")
int sock_recv_length(void *ctx) { return 0; }

/* One raw syscall-exit tracepoint that runs for every syscall. */
SEC("tp_btf/sys_exit")
int raw_sys_exit(void *ctx) { return 0; }
