// SPDX-License-Identifier: GPL-2.0
// Helpers shared by the decompose programs: filtering, fd lookup, path walk,
// socket description and the io counters.
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "types.h"

#define S_IFMT 0170000
#define S_IFSOCK 0140000
#define S_IFREG 0100000
#define S_IFDIR 0040000
#define S_IFIFO 0010000

#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1
#define SOCK_DGRAM 2

#define PIPEFS_MAGIC 0x50495045
#define SOCKFS_MAGIC 0x534F434B
#define PROC_SUPER_MAGIC 0x9fa0
#define SYSFS_MAGIC 0x62656572
#define CGROUP2_SUPER_MAGIC 0x63677270
#define CGROUP_SUPER_MAGIC 0x27e0eb
#define DEBUGFS_MAGIC 0x64626720
#define TRACEFS_MAGIC 0x74726163
#define BPF_FS_MAGIC 0xcafe4a11

#define MAX_DEPTH 40

/* Set by the loader before load. */
const volatile __u32 self_tgid = 0;
const volatile __u32 filter_mode = 0; /* 0 all, 1 traced map, 2 cgroup */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct io_key);
	__type(value, struct io_val);
} io SEC(".maps");

/* Signal counters: a busy application signals all the time (PostgreSQL
 * wakes its processes with SIGUSR1), so a signal is a counter the recorder
 * reads every second, not a ring buffer record. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct sig_key);
	__type(value, struct sig_val);
} sigs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u8);
} traced SEC(".maps");

/* TCP ports listened on, per network namespace: written by exit_listen and,
 * for listeners older than the recording, by user space at start. They tell
 * the server end of a connection from the client end. */
struct listen_key {
	__u32 netns;
	__u16 port;
	__u16 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct listen_key);
	__type(value, __u8);
} listeners SEC(".maps");

/* listen_ports[port] answers "is port a listener here?" on the hot path
 * without a hash lookup (an array lookup is inlined, a hash lookup is three
 * calls): 0 when port was never listened on (TCP), the inode number of the
 * network namespace when only that one listened on it, LP_MANY when several
 * did or when user space noted it while the programs ran: then the listeners
 * map decides. Values only move from 0 to a namespace to LP_MANY. */
#define LP_MANY (~0ULL) /* no namespace inode number: those are 32 bits */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u64); /* 64 bits: compare-and-swap on 32 needs -mcpu=v3 */
} listen_ports SEC(".maps");

/* The local port range (net.ipv4.ip_local_port_range), set by the loader:
 * a connection between an ephemeral and a fixed port whose listener is not
 * known has its client at the ephemeral end. */
const volatile __u16 ephemeral_lo = 32768;
const volatile __u16 ephemeral_hi = 60999;

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} cgroup_filter SEC(".maps");

/* Scratch record for the snapshot iterator (too big for the stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct file_ev);
} scratch SEC(".maps");

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);
	if (v)
		*v += 1;
}

/* skip_current reports whether the current task is outside what we trace. */
static __always_inline bool skip_tgid(__u32 tgid)
{
	if (tgid == 0 || tgid == self_tgid)
		return true;
	if (filter_mode == 1)
		return bpf_map_lookup_elem(&traced, &tgid) == NULL;
	if (filter_mode == 2)
		return bpf_current_task_under_cgroup(&cgroup_filter, 0) != 1;
	return false;
}

static __always_inline __u64 leader_start(struct task_struct *t)
{
	return BPF_CORE_READ(t, group_leader, start_boottime);
}

static __always_inline void fill_hdr(struct hdr *h, __u32 type, __u32 tgid, __u64 start)
{
	h->type = type;
	h->tgid = tgid;
	h->start = start;
	h->ts = bpf_ktime_get_boot_ns();
}

/* The read/write hot path reads kernel memory with plain loads through BTF
 * pointers (bpf_get_current_task_btf, bpf_task_pt_regs, bpf_rdonly_cast):
 * the JIT turns each into one guarded move, where a BPF_CORE_READ is a
 * bpf_probe_read_kernel call (tens of ns each, and the hot path has about
 * fifteen). The variant for old kernels (WALK_UNROLLED: no bpf_loop before
 * 5.17, no bpf_rdonly_cast before 6.2) keeps the helper calls. */
#ifdef WALK_UNROLLED
#define FAST_READ(src, ...) BPF_CORE_READ(src, __VA_ARGS__)
#define fast_file(f) (f)
#define fast_socket(s) (s)
#else
#define FAST_READ(src, ...) (___arrow(src, __VA_ARGS__))
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;
#define fast_file(f) ((struct file *)bpf_rdonly_cast((f), bpf_core_type_id_kernel(struct file)))
#define fast_socket(s) ((struct socket *)bpf_rdonly_cast((s), bpf_core_type_id_kernel(struct socket)))
#endif

/* Set by the loader: whether bpf_rdonly_cast may cast to void (type id 0),
 * which makes a pointer the program may load through directly (6.15); the
 * branch not taken is removed by the verifier. */
const volatile __u32 void_cast = 0;

/* Set by the loader for measurements only (Config.HooksOnly): the I/O,
 * open and connect programs return at once, so that a benchmark can tell
 * what the attached hooks cost from what the programs' work costs. */
const volatile __u32 hooks_only = 0;

/* fd_slot reads one slot of an fd array: a plain load where the kernel
 * allows it, else a bpf_probe_read_kernel call (tens of ns). */
static __always_inline struct file *fd_slot(struct file **slot)
{
	struct file *f = NULL;

#ifndef WALK_UNROLLED
	if (void_cast)
		return *(struct file **)bpf_rdonly_cast(slot, 0);
#endif
	bpf_probe_read_kernel(&f, sizeof(f), slot);
	return f;
}

/* cur_fd_file returns the struct file of fd in the table of the current
 * task t (from bpf_get_current_task_btf), or NULL; the result is usable by
 * FAST_READ. */
static __always_inline struct file *cur_fd_file(struct task_struct *t, long fd)
{
	struct fdtable *fdt = FAST_READ(t, files, fdt);
	struct file *f = NULL;

	if (fd < 0 || fd >= FAST_READ(fdt, max_fds))
		return NULL;
	f = fd_slot(&FAST_READ(fdt, fd)[fd]);
	if (!f)
		return NULL;
	return fast_file(f);
}

/* cur_leader_start is leader_start for the current task t. */
static __always_inline __u64 cur_leader_start(struct task_struct *t)
{
	return FAST_READ(t, group_leader, start_boottime);
}

/* user_regs returns the user registers saved at syscall entry: at a
 * per-syscall exit tracepoint they still hold the arguments (x86_64: di si
 * dx r10 r8 r9). */
#ifdef WALK_UNROLLED
static __always_inline struct pt_regs *user_regs(struct task_struct *t)
{
	return (struct pt_regs *)bpf_task_pt_regs(t);
}
#else
/* regs_offset is where the saved registers sit in every task's kernel
 * stack (THREAD_SIZE minus the frame: the same for all tasks), learnt from
 * the first bpf_task_pt_regs call. Later runs load through the stack
 * pointer instead of calling the helper, which costs a call and a return
 * (both slow under the speculative-execution mitigations of VMs). */
__u64 regs_offset = 0;

static __always_inline struct pt_regs *user_regs(struct task_struct *t)
{
	__u64 stack = (__u64)FAST_READ(t, stack), off = regs_offset;
	struct pt_regs *regs;

	if (off)
		return bpf_rdonly_cast((void *)(stack + off), bpf_core_type_id_kernel(struct pt_regs));
	regs = (struct pt_regs *)bpf_task_pt_regs(t);
	regs_offset = (__u64)regs - stack;
	return regs;
}
#endif

#ifdef WALK_UNROLLED
/* walk_path writes the components of path p, leaf first, each NUL-terminated,
 * into buf (PATH_BUF bytes) and returns the bytes written. Mount points are
 * crossed; the walk ends at the root of the initial mount namespace or
 * after MAX_DEPTH steps. This variant, for kernels without bpf_loop (before
 * 5.17), is a bounded loop the verifier unrolls in every program, which
 * makes loading several times slower. */
static __noinline __u32 walk_path(struct dentry *d, struct vfsmount *vm, char *buf)
{
	struct mount *mnt = (void *)vm - bpf_core_field_offset(struct mount, mnt);
	__u32 off = 0;

	for (int i = 0; i < MAX_DEPTH; i++) {
		struct dentry *parent = BPF_CORE_READ(d, d_parent);
		struct dentry *root = BPF_CORE_READ(vm, mnt_root);

		if (d == root || d == parent) {
			struct mount *mp = BPF_CORE_READ(mnt, mnt_parent);
			if (d != root || mp == mnt)
				break;
			d = BPF_CORE_READ(mnt, mnt_mountpoint);
			mnt = mp;
			vm = (void *)mp + bpf_core_field_offset(struct mount, mnt);
			continue;
		}
		const unsigned char *name = BPF_CORE_READ(d, d_name.name);
		long n = bpf_probe_read_kernel_str(buf + (off & PATH_MASK), NAME_CHUNK, name);
		if (n <= 0)
			break;
		off = (off & PATH_MASK) + n;
		d = parent;
	}
	return off;
}
#else
/* walk_ctx is the state of one path walk, carried from step to step. */
struct walk_ctx {
	struct dentry *d;
	struct vfsmount *vm;
	struct mount *mnt;
	char *buf;
	__u32 off;
};

/* walk_step adds the name of one dentry to the walk, or crosses a mount
 * point; 1 ends the walk. */
static long walk_step(__u64 i, struct walk_ctx *c)
{
	/* copied to locals: inside BPF_CORE_READ an access through c would
	 * be relocated against the kernel's BTF, which has no walk_ctx */
	struct dentry *d = c->d;
	struct vfsmount *vm = c->vm;
	struct mount *mnt = c->mnt;
	struct dentry *parent = BPF_CORE_READ(d, d_parent);
	struct dentry *root = BPF_CORE_READ(vm, mnt_root);

	if (d == root || d == parent) {
		struct mount *mp = BPF_CORE_READ(mnt, mnt_parent);
		if (d != root || mp == mnt)
			return 1;
		c->d = BPF_CORE_READ(mnt, mnt_mountpoint);
		c->mnt = mp;
		c->vm = (void *)mp + bpf_core_field_offset(struct mount, mnt);
		return 0;
	}
	const unsigned char *name = BPF_CORE_READ(d, d_name.name);
	long n = bpf_probe_read_kernel_str(c->buf + (c->off & PATH_MASK), NAME_CHUNK, name);
	if (n <= 0)
		return 1;
	c->off = (c->off & PATH_MASK) + n;
	c->d = parent;
	return 0;
}

/* walk_path writes the components of path p, leaf first, each NUL-terminated,
 * into buf (PATH_BUF bytes) and returns the bytes written. Mount points are
 * crossed; the walk ends at the root of the initial mount namespace or
 * after MAX_DEPTH steps. The steps run in bpf_loop, so the verifier checks
 * one step once instead of MAX_DEPTH unrolled copies in every program:
 * that is most of the recorder's load time. */
static __always_inline __u32 walk_path(struct dentry *d, struct vfsmount *vm, char *buf)
{
	struct walk_ctx c = {
		.d = d,
		.vm = vm,
		.mnt = (void *)vm - bpf_core_field_offset(struct mount, mnt),
		.buf = buf,
	};

	bpf_loop(MAX_DEPTH, walk_step, &c, 0);
	return c.off;
}
#endif

static __always_inline __u32 walk_file(struct file *f, char *buf)
{
	struct dentry *d = BPF_CORE_READ(f, f_path.dentry);
	struct vfsmount *vm = BPF_CORE_READ(f, f_path.mnt);
	return walk_path(d, vm, buf);
}

static __always_inline void read_unix_addr(struct unix_sock *u, char *dst, __u16 *len)
{
	struct unix_address *a = BPF_CORE_READ(u, addr);
	int l;

	if (!a)
		return;
	l = BPF_CORE_READ(a, len) - 2; /* minus sun_family */
	if (l <= 0)
		return;
	if (l > SUN_LEN)
		l = SUN_LEN;
	bpf_probe_read_kernel(dst, SUN_LEN, (void *)a + bpf_core_field_offset(struct unix_address, name) + 2);
	*len = l;
}

/* fill_sock describes the socket behind a file. */
static __always_inline void fill_sock(struct file_ev *e, struct socket *sock)
{
	struct sock *sk = BPF_CORE_READ(sock, sk);
	__u16 fam;

	e->sk = (__u64)sk;
	e->stype = BPF_CORE_READ(sock, type);
	fam = BPF_CORE_READ(sk, __sk_common.skc_family);
	e->family = fam;
	e->sstate = BPF_CORE_READ(sk, __sk_common.skc_state);
	if (fam == AF_INET) {
		BPF_CORE_READ_INTO((__u32 *)e->laddr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)e->raddr, sk, __sk_common.skc_daddr);
		e->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
		e->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	} else if (fam == AF_INET6) {
		BPF_CORE_READ_INTO((struct in6_addr *)e->laddr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO((struct in6_addr *)e->raddr, sk, __sk_common.skc_v6_daddr);
		e->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
		e->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	} else if (fam == AF_UNIX) {
		struct unix_sock *u = (void *)sk;
		struct sock *peer = BPF_CORE_READ(u, peer);

		read_unix_addr(u, e->sun, &e->sun_len);
		e->peer_sk = (__u64)peer;
		if (peer) {
			struct socket *ps = BPF_CORE_READ(peer, sk_socket);
			read_unix_addr((void *)peer, e->peer_sun, &e->peer_sun_len);
			if (ps) {
				struct inode *pi = (void *)ps + bpf_core_field_offset(struct socket_alloc, vfs_inode) -
						   bpf_core_field_offset(struct socket_alloc, socket);
				e->peer_ino = BPF_CORE_READ(pi, i_ino);
			}
		}
	}
}

/* fill_file describes f into e (everything but the header). */
static __noinline void fill_file(struct file_ev *e, struct file *f)
{
	struct inode *in = BPF_CORE_READ(f, f_inode);
	__u32 mode = BPF_CORE_READ(in, i_mode);

	e->mode = mode;
	e->ino = BPF_CORE_READ(in, i_ino);
	e->dev = BPF_CORE_READ(in, i_sb, s_dev);
	e->magic = BPF_CORE_READ(in, i_sb, s_magic);
	e->gen = BPF_CORE_READ(in, i_generation);
	if (!e->flags)
		e->flags = BPF_CORE_READ(f, f_flags);
	if ((mode & S_IFMT) == S_IFSOCK) {
		fill_sock(e, BPF_CORE_READ(f, private_data));
		return;
	}
	if (e->magic == PIPEFS_MAGIC)
		return;
	e->parent_ino = BPF_CORE_READ(f, f_path.dentry, d_parent, d_inode, i_ino);
	e->path_len = walk_file(f, e->path);
}

/* interesting reports whether an inode is worth counting: regular files,
 * directories, pipes/FIFOs and sockets outside pseudo file systems. */
static __always_inline bool interesting(__u32 mode, __u64 magic)
{
	__u32 t = mode & S_IFMT;
	if (t != S_IFREG && t != S_IFDIR && t != S_IFIFO && t != S_IFSOCK)
		return false;
	switch (magic) {
	case PROC_SUPER_MAGIC:
	case SYSFS_MAGIC:
	case CGROUP2_SUPER_MAGIC:
	case CGROUP_SUPER_MAGIC:
	case DEBUGFS_MAGIC:
	case TRACEFS_MAGIC:
	case BPF_FS_MAGIC:
		return false;
	}
	return true;
}

/* emit_file sends a file record for f; reason_fd packs reason<<32 | fd.
 * k names the process and carries the datagram peer address, if any; ksun is
 * the unix path that address hashes, or NULL. */
static __noinline int emit_file(struct file *f, struct io_key *k, __u64 reason_fd, __u32 flags, const char *ksun)
{
	struct file_ev *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		stat_inc(STAT_RB_DROPS);
		return 0;
	}
	__builtin_memset(e, 0, offsetof(struct file_ev, path));
	fill_hdr(&e->h, EV_FILE, k->tgid, k->start);
	e->reason = reason_fd >> 32;
	e->fd = (__s32)reason_fd;
	e->flags = flags;
	fill_file(e, f);
	e->kino = k->ino;
	e->kgen = k->gen;
	e->kfamily = k->family;
	e->kport = k->port;
	__builtin_memcpy(e->kaddr, k->addr, 16);
	if (ksun) {
		bpf_probe_read_kernel(e->ksun, SUN_LEN, ksun);
		e->ksun_len = SUN_LEN;
	}
	stat_inc(STAT_EVENTS);
	bpf_ringbuf_submit(e, 0);
	return 0;
}
