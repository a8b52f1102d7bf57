// SPDX-License-Identifier: GPL-2.0
//go:build ignore

// decompose's kernel side. Hooks are limited to what works without kprobes,
// fentry or LSM: tp_btf for process lineage and signals, per-syscall exit
// tracepoints for I/O (the syscall arguments are read back from the user
// registers saved at entry, so no enter hook or per-thread map is needed),
// and BPF iterators for the snapshot of what was open before recording.
//
// Hot path (read/write and friends): filter, find the struct file of the fd,
// bump per-(process, inode) totals in an LRU hash. A ring buffer record is
// only sent the first time a (process, inode) key is created.

#include "helpers.h"

char LICENSE[] SEC("license") = "GPL";

#define O_WRONLY 01
#define O_RDWR 02
#define O_CREAT 0100
#define O_EXCL 0200
#define O_TRUNC 01000
#define O_APPEND 02000
#define O_PATH 010000000
#define AT_FDCWD -100
#define AT_REMOVEDIR 0x200
#define MAP_SHARED 0x01
#define PROT_WRITE 0x2
#define SHM_RDONLY 010000
#define VM_WRITE 0x2
#define VM_MAYSHARE 0x80 /* MAP_SHARED; VM_SHARED is cleared for read-only files */
#define S_PRIVATE 512 /* inode flag of kernel-internal files (SysV shm, shared anonymous memory) */
#define TMPFS_MAGIC 0x01021994
#define SIGCHLD 17

enum what {
	W_READ = 1,
	W_WRITE = 2,
	W_OPEN = 4,
	W_OPENW = 8,
	W_CREATE = 16,
	W_MAP = 32,
	W_CONNECT = 64,
	W_ACCEPT = 128,
	W_LISTEN = 256,
};

enum addr_src { A_NONE, A_SENDTO, A_RECVFROM, A_SENDMSG, A_RECVMSG };

/* Exported so bpf2go generates Go types for them. */
struct exec_ev _exec_ev = {};
struct file_ev _file_ev = {};
struct pathop_ev _pathop_ev = {};
struct sig_key _sig_key = {};
struct sig_val _sig_val = {};
struct shmat_ev _shmat_ev = {};
struct io_key _io_key = {};
struct io_val _io_val = {};
struct listen_key _listen_key = {};

/* key_of fills the inode part of k; false when f is not worth counting. f
 * must be a BTF pointer (see FAST_READ). */
static __always_inline bool key_of(struct file *f, struct io_key *k, __u32 *mode)
{
	struct inode *in = FAST_READ(f, f_inode);
	struct super_block *sb = FAST_READ(in, i_sb);

	*mode = FAST_READ(in, i_mode);
	if (!interesting(*mode, FAST_READ(sb, s_magic)))
		return false;
	k->dev = FAST_READ(sb, s_dev);
	k->ino = FAST_READ(in, i_ino);
	k->gen = FAST_READ(in, i_generation);
	return true;
}

#define TCP_LISTEN 10

/* stream_sock is the struct sock behind f when f is a stream socket, else
 * NULL. f must be a BTF pointer to a socket's file (see FAST_READ). */
static __always_inline struct sock *stream_sock(struct file *f)
{
	struct socket *sock = fast_socket(FAST_READ(f, private_data));

	if (FAST_READ(sock, type) != SOCK_STREAM)
		return NULL;
	return FAST_READ(sock, sk);
}

/* sock_netns is the inode number of sk's network namespace. */
static __always_inline __u32 sock_netns(struct sock *sk)
{
	return FAST_READ(sk, __sk_common.skc_net.net, ns.inum);
}

static __always_inline bool is_listener(__u32 netns, __u16 port)
{
	struct listen_key lk = {.netns = netns, .port = port};
	__u32 p = port;
	__u64 *ns = bpf_map_lookup_elem(&listen_ports, &p);

	if (!ns || !*ns)
		return false;
	if (*ns != LP_MANY)
		return *ns == netns;
	return bpf_map_lookup_elem(&listeners, &lk) != NULL;
}

static __always_inline bool ephemeral(__u16 port)
{
	return port >= ephemeral_lo && port <= ephemeral_hi;
}

/* tcp_aggregate turns k, the key of a connected TCP socket, into the key of
 * its connection aggregate (see KEY_GEN_TCP_AGG) when it can tell the
 * server end: the end whose port is listened on in the socket's network
 * namespace, else the fixed port of an ephemeral/fixed pair. Otherwise k
 * keeps naming the socket. f must be a BTF pointer to a socket's file. */
static __always_inline void tcp_aggregate(struct file *f, struct io_key *k)
{
	struct sock *sk = stream_sock(f);
	__u16 fam, lport, rport;
	__u32 netns;
	bool server;

	if (!sk)
		return;
	fam = FAST_READ(sk, __sk_common.skc_family);
	if ((fam != AF_INET && fam != AF_INET6) || FAST_READ(sk, __sk_common.skc_state) == TCP_LISTEN)
		return;
	lport = FAST_READ(sk, __sk_common.skc_num);
	rport = bpf_ntohs(FAST_READ(sk, __sk_common.skc_dport));
	if (!lport || !rport)
		return;
	netns = sock_netns(sk);
	if (is_listener(netns, lport))
		server = true;
	else if (is_listener(netns, rport))
		server = false;
	else if (ephemeral(lport) != ephemeral(rport))
		server = ephemeral(rport);
	else
		return;

	__u8 laddr[16] = {}, raddr[16] = {};
	if (fam == AF_INET) {
		__u32 l = FAST_READ(sk, __sk_common.skc_rcv_saddr), r = FAST_READ(sk, __sk_common.skc_daddr);
		__builtin_memcpy(laddr, &l, 4);
		__builtin_memcpy(raddr, &r, 4);
	} else {
		bpf_probe_read_kernel(laddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_probe_read_kernel(raddr, 16, &sk->__sk_common.skc_v6_daddr);
	}
	__u8 *client = server ? raddr : laddr, *srv = server ? laddr : raddr;
	__u64 c0, c1;
	__builtin_memcpy(&c0, client, 8);
	__builtin_memcpy(&c1, client + 8, 8);
	k->dev = 0;
	k->gen = KEY_GEN_TCP_AGG;
	k->ino = c0 ^ c1;
	k->family = fam;
	k->port = server ? lport : rport;
	__builtin_memcpy(k->addr, srv, 16);
}

/* note_listener remembers the port of a listening TCP socket. */
static __always_inline void note_listener(struct file *f)
{
	struct sock *sk = stream_sock(f);
	struct listen_key lk = {};
	__u8 one = 1;
	__u64 *ns;

	if (!sk)
		return;
	lk.netns = sock_netns(sk);
	lk.port = FAST_READ(sk, __sk_common.skc_num);
	if (lk.port) {
		__u32 p = lk.port;
		/* the listeners entry first: a reader that finds LP_MANY must
		 * find it there */
		bpf_map_update_elem(&listeners, &lk, &one, BPF_ANY);
		ns = bpf_map_lookup_elem(&listen_ports, &p);
		if (ns) {
#ifdef WALK_UNROLLED
			/* compare-and-swap needs 5.12; this object serves older
			 * kernels too: defer to the listeners map */
			*ns = LP_MANY;
#else
			__u64 old = __sync_val_compare_and_swap(ns, 0, (__u64)lk.netns);
			if (old != 0 && old != lk.netns)
				*ns = LP_MANY;
#endif
		}
	}
}

/* account bumps the totals of k and describes f the first time k is seen. */
static __always_inline void account(struct file *f, struct io_key *k, __u32 what, __u64 bytes,
				    __u64 reason_fd, __u32 flags, const char *ksun)
{
	struct io_val *v = bpf_map_lookup_elem(&io, k);
	bool fresh = false;

	if (!v) {
		struct io_val z = {};
		long err;

		z.first = bpf_ktime_get_boot_ns();
		z.first_what = what;
		err = bpf_map_update_elem(&io, k, &z, BPF_NOEXIST);
		if (err == 0) {
			fresh = true;
			stat_inc(STAT_IO_NEW);
		} else if (err != -17 /* EEXIST */) {
			stat_inc(STAT_IO_FULL);
		}
		v = bpf_map_lookup_elem(&io, k);
	}
	if (v) {
		if (what & W_READ) {
			__sync_fetch_and_add(&v->reads, 1);
			__sync_fetch_and_add(&v->rbytes, bytes);
		}
		if (what & W_WRITE) {
			__sync_fetch_and_add(&v->writes, 1);
			__sync_fetch_and_add(&v->wbytes, bytes);
		}
		if (what & W_OPEN)
			__sync_fetch_and_add(&v->opens, 1);
		if (what & W_OPENW)
			__sync_fetch_and_add(&v->opens_w, 1);
		if (what & W_CREATE)
			__sync_fetch_and_add(&v->creates, 1);
		if (what & W_MAP)
			__sync_fetch_and_add(&v->maps, 1);
		if (what & W_CONNECT)
			__sync_fetch_and_add(&v->connects, 1);
		if (what & W_ACCEPT)
			__sync_fetch_and_add(&v->accepts, 1);
		if (what & W_LISTEN)
			__sync_fetch_and_add(&v->listens, 1);
	}
	if (fresh)
		emit_file(f, k, reason_fd, flags, ksun);
}

/* fnv hashes a unix socket path into the 16 address bytes of a key. */
static __always_inline void hash_sun(const char *p, __u8 *out)
{
	__u64 h = 0xcbf29ce484222325ULL;
	for (int i = 0; i < SUN_LEN; i++) {
		h ^= (__u8)p[i];
		h *= 0x100000001b3ULL;
	}
	__builtin_memcpy(out, &h, 8);
}

/* dgram_addr puts the peer address of a datagram send/recv into k. */
static __always_inline bool dgram_addr(struct file *f, struct io_key *k, void *uaddr, long alen, char *sun)
{
	struct socket *sock;
	__u16 fam = 0;

	if (!uaddr)
		return false;
	sock = fast_socket(FAST_READ(f, private_data));
	if (FAST_READ(sock, type) != SOCK_DGRAM)
		return false;
	if (bpf_probe_read_user(&fam, sizeof(fam), uaddr))
		return false;
	if (fam == AF_INET) {
		struct sockaddr_in sin = {};
		bpf_probe_read_user(&sin, sizeof(sin), uaddr);
		k->family = AF_INET;
		k->port = bpf_ntohs(sin.sin_port);
		__builtin_memcpy(k->addr, &sin.sin_addr, 4);
	} else if (fam == AF_INET6) {
		struct sockaddr_in6 sin6 = {};
		bpf_probe_read_user(&sin6, sizeof(sin6), uaddr);
		k->family = AF_INET6;
		k->port = bpf_ntohs(sin6.sin6_port);
		__builtin_memcpy(k->addr, &sin6.sin6_addr, 16);
	} else if (fam == AF_UNIX) {
		char first = 0;

		/* zeroed only here: zeroing it for every socket read and
		 * write cost them all */
		__builtin_memset(sun, 0, SUN_LEN);
		bpf_probe_read_user(&first, 1, uaddr + 2);
		if (first == 0) { /* abstract: length-delimited */
			long n = alen - 2;
			if (n <= 0)
				return false;
			if (n > SUN_LEN)
				n = SUN_LEN;
			bpf_probe_read_user(sun, n & 127, uaddr + 2);
		} else {
			bpf_probe_read_user_str(sun, SUN_LEN, uaddr + 2);
		}
		k->family = AF_UNIX;
		hash_sun(sun, k->addr);
		return true;
	}
	return false;
}

static __always_inline void io_fd(struct task_struct *t, struct io_key *k, long fd, __u32 what, __u64 bytes,
				  int asrc, struct pt_regs *regs)
{
	struct file *f = cur_fd_file(t, fd);
	char sun[SUN_LEN];
	bool has_sun = false;
	__u32 mode;

	if (!f || !key_of(f, k, &mode))
		return;
	if (asrc != A_NONE && (mode & S_IFMT) == S_IFSOCK) {
		void *uaddr = NULL;
		long alen = 0;

		if (asrc == A_SENDTO || asrc == A_RECVFROM) {
			uaddr = (void *)FAST_READ(regs, r8);
			alen = FAST_READ(regs, r9);
		} else {
			struct user_msghdr *m = (void *)FAST_READ(regs, si);
			struct user_msghdr mh = {};
			bpf_probe_read_user(&mh, sizeof(mh), m);
			uaddr = mh.msg_name;
			alen = mh.msg_namelen;
		}
		if (asrc == A_RECVFROM || asrc == A_RECVMSG) {
			/* the sender's unix address is rarely bound: skip it */
			__u16 fam = 0;
			if (uaddr)
				bpf_probe_read_user(&fam, 2, uaddr);
			if (fam == AF_UNIX)
				uaddr = NULL;
		}
		has_sun = dgram_addr(f, k, uaddr, alen, sun);
	}
	if (!has_sun && !k->family && (mode & S_IFMT) == S_IFSOCK)
		tcp_aggregate(f, k);
	account(f, k, what, bytes, ((__u64)R_IO << 32) | (__u32)fd, 0, has_sun ? sun : NULL);
}

/* io_exit is the hot path shared by every read/write-like syscall exit. */
static __always_inline int io_exit(long ret, __u32 what, int asrc)
{
	struct task_struct *t;
	struct pt_regs *regs;
	struct io_key k = {};
	__u32 tgid;

	if (ret <= 0 || hooks_only)
		return 0;
	t = bpf_get_current_task_btf();
	tgid = FAST_READ(t, tgid); /* a load, where bpf_get_current_pid_tgid is a call */
	if (skip_tgid(tgid))
		return 0;
	regs = user_regs(t);
	k.tgid = tgid;
	k.start = cur_leader_start(t);
	stat_inc(STAT_IO_OPS);
	io_fd(t, &k, FAST_READ(regs, di), what, ret, asrc, regs);
	return 0;
}

#define IO_EXIT(name, what, asrc)                                              \
	SEC("tracepoint/syscalls/sys_exit_" #name)                            \
	int exit_##name(struct trace_event_raw_sys_exit *ctx)                 \
	{                                                                      \
		return io_exit(ctx->ret, what, asrc);                          \
	}

IO_EXIT(read, W_READ, A_NONE)
IO_EXIT(write, W_WRITE, A_NONE)
IO_EXIT(pread64, W_READ, A_NONE)
IO_EXIT(pwrite64, W_WRITE, A_NONE)
IO_EXIT(readv, W_READ, A_NONE)
IO_EXIT(writev, W_WRITE, A_NONE)
IO_EXIT(preadv, W_READ, A_NONE)
IO_EXIT(pwritev, W_WRITE, A_NONE)
IO_EXIT(preadv2, W_READ, A_NONE)
IO_EXIT(pwritev2, W_WRITE, A_NONE)
IO_EXIT(getdents64, W_READ, A_NONE)
IO_EXIT(sendto, W_WRITE, A_SENDTO)
IO_EXIT(recvfrom, W_READ, A_RECVFROM)
IO_EXIT(sendmsg, W_WRITE, A_SENDMSG)
IO_EXIT(recvmsg, W_READ, A_RECVMSG)

/* two-fd copies: the first fd argument is read, the other written. */
static __always_inline int copy_exit(long ret, int in_reg_is_si)
{
	struct task_struct *t;
	struct pt_regs *regs;
	struct io_key k = {};
	long in, out;
	__u32 tgid;

	if (ret <= 0 || hooks_only)
		return 0;
	t = bpf_get_current_task_btf();
	tgid = FAST_READ(t, tgid); /* as in io_exit */
	if (skip_tgid(tgid))
		return 0;
	regs = user_regs(t);
	if (in_reg_is_si) { /* sendfile(out, in, ...) */
		out = FAST_READ(regs, di);
		in = FAST_READ(regs, si);
	} else { /* splice/copy_file_range(in, off, out, ...) */
		in = FAST_READ(regs, di);
		out = FAST_READ(regs, dx);
	}
	k.tgid = tgid;
	k.start = cur_leader_start(t);
	stat_inc(STAT_IO_OPS);
	io_fd(t, &k, in, W_READ, ret, A_NONE, regs);
	__builtin_memset(&k.dev, 0, sizeof(k) - offsetof(struct io_key, dev));
	k.start = cur_leader_start(t);
	io_fd(t, &k, out, W_WRITE, ret, A_NONE, regs);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_sendfile64")
int exit_sendfile64(struct trace_event_raw_sys_exit *ctx) { return copy_exit(ctx->ret, 1); }
SEC("tracepoint/syscalls/sys_exit_splice")
int exit_splice(struct trace_event_raw_sys_exit *ctx) { return copy_exit(ctx->ret, 0); }
SEC("tracepoint/syscalls/sys_exit_copy_file_range")
int exit_copy_file_range(struct trace_event_raw_sys_exit *ctx) { return copy_exit(ctx->ret, 0); }

/* one_fd counts a non-I/O operation (open, connect, ...) on fd. */
static __always_inline int one_fd(long fd, __u32 what, __u32 reason, __u32 flags)
{
	struct task_struct *t;
	struct io_key k = {};
	struct file *f;
	__u32 mode, tgid;

	if (hooks_only)
		return 0;
	t = bpf_get_current_task_btf();
	tgid = FAST_READ(t, tgid); /* as in io_exit */
	if (skip_tgid(tgid))
		return 0;
	f = cur_fd_file(t, fd);
	if (!f)
		return 0;
	k.tgid = tgid;
	k.start = cur_leader_start(t);
	if (!key_of(f, &k, &mode))
		return 0;
	if ((mode & S_IFMT) == S_IFSOCK) {
		if (what & W_LISTEN)
			note_listener(f);
		else
			tcp_aggregate(f, &k);
	}
	if ((what & W_OPEN) && (flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND))) {
		what = W_OPENW;
		if ((flags & O_CREAT) && ((flags & O_EXCL) || FAST_READ(f, f_inode, i_size) == 0))
			what |= W_CREATE;
	}
	account(f, &k, what, 0, ((__u64)reason << 32) | (__u32)fd, flags, NULL);
	return 0;
}

static __always_inline int open_exit(long ret, __u32 flags)
{
	if (ret < 0 || (flags & O_PATH))
		return 0;
	return one_fd(ret, W_OPEN, R_OPEN, flags);
}

static __always_inline struct pt_regs *cur_regs(void)
{
	return user_regs(bpf_get_current_task_btf());
}

SEC("tracepoint/syscalls/sys_exit_openat")
int exit_openat(struct trace_event_raw_sys_exit *ctx)
{
	return open_exit(ctx->ret, FAST_READ(cur_regs(), dx));
}

SEC("tracepoint/syscalls/sys_exit_open")
int exit_open(struct trace_event_raw_sys_exit *ctx)
{
	return open_exit(ctx->ret, FAST_READ(cur_regs(), si));
}

SEC("tracepoint/syscalls/sys_exit_creat")
int exit_creat(struct trace_event_raw_sys_exit *ctx)
{
	return open_exit(ctx->ret, O_CREAT | O_WRONLY | O_TRUNC);
}

SEC("tracepoint/syscalls/sys_exit_openat2")
int exit_openat2(struct trace_event_raw_sys_exit *ctx)
{
	__u64 flags = 0;
	void *how = (void *)FAST_READ(cur_regs(), dx);
	bpf_probe_read_user(&flags, sizeof(flags), how);
	return open_exit(ctx->ret, flags);
}

SEC("tracepoint/syscalls/sys_exit_connect")
int exit_connect(struct trace_event_raw_sys_exit *ctx)
{
	if (ctx->ret != 0 && ctx->ret != -115 /* EINPROGRESS */)
		return 0;
	return one_fd(FAST_READ(cur_regs(), di), W_CONNECT, R_CONNECT, 0);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int exit_accept(struct trace_event_raw_sys_exit *ctx)
{
	if (ctx->ret < 0)
		return 0;
	return one_fd(ctx->ret, W_ACCEPT, R_ACCEPT, 0);
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int exit_accept4(struct trace_event_raw_sys_exit *ctx)
{
	if (ctx->ret < 0)
		return 0;
	return one_fd(ctx->ret, W_ACCEPT, R_ACCEPT, 0);
}

SEC("tracepoint/syscalls/sys_exit_listen")
int exit_listen(struct trace_event_raw_sys_exit *ctx)
{
	if (ctx->ret != 0)
		return 0;
	return one_fd(FAST_READ(cur_regs(), di), W_LISTEN, R_LISTEN, 0);
}

SEC("tracepoint/syscalls/sys_exit_mmap")
int exit_mmap(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs;
	long flags, fd;

	if ((unsigned long)ctx->ret >= (unsigned long)-4095)
		return 0;
	regs = cur_regs();
	flags = FAST_READ(regs, r10);
	fd = FAST_READ(regs, r8);
	if (!(flags & MAP_SHARED) || fd < 0)
		return 0;
	/* a writable shared mapping is a way to write the file: count it as
	 * an open for writing */
	if (FAST_READ(regs, dx) & PROT_WRITE)
		return one_fd(fd, W_MAP | W_OPENW, R_MMAP, 0);
	return one_fd(fd, W_MAP, R_MMAP, 0);
}

SEC("tracepoint/syscalls/sys_exit_shmat")
int exit_shmat(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct task_struct *t;
	struct pt_regs *regs;
	struct shmat_ev *e;

	if ((unsigned long)ctx->ret >= (unsigned long)-4095 || skip_tgid(tgid))
		return 0;
	t = bpf_get_current_task_btf();
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		stat_inc(STAT_RB_DROPS);
		return 0;
	}
	regs = user_regs(t);
	fill_hdr(&e->h, EV_SHMAT, tgid, leader_start(t));
	e->shmid = FAST_READ(regs, di);
	e->shmflg = FAST_READ(regs, dx);
	e->addr = ctx->ret;
	stat_inc(STAT_EVENTS);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* ---- entries created, removed and renamed inside directories ---- */

static __noinline int emit_pathop(__u32 op, long dfd, const char *uname)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct task_struct *t;
	struct pathop_ev *e;
	long n;

	if (skip_tgid(tgid))
		return 0;
	t = bpf_get_current_task_btf();
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		stat_inc(STAT_RB_DROPS);
		return 0;
	}
	fill_hdr(&e->h, EV_PATHOP, tgid, leader_start(t));
	e->op = op;
	e->dfd = dfd;
	e->base_len = 0;
	n = bpf_probe_read_user_str(e->name, sizeof(e->name), uname);
	e->name_len = n > 0 ? n : 0;
	if (n > 0 && e->name[0] != '/') {
		if (dfd == AT_FDCWD) {
			struct dentry *d = BPF_CORE_READ(t, fs, pwd.dentry);
			struct vfsmount *vm = BPF_CORE_READ(t, fs, pwd.mnt);
			e->base_len = walk_path(d, vm, e->base);
		} else {
			struct file *f = cur_fd_file(t, dfd);
			if (f)
				e->base_len = walk_file(f, e->base);
		}
	}
	stat_inc(STAT_EVENTS);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

#define PATHOP_EXIT(name, op, dfdexpr, nameexpr)                               \
	SEC("tracepoint/syscalls/sys_exit_" #name)                            \
	int exit_##name(struct trace_event_raw_sys_exit *ctx)                 \
	{                                                                      \
		struct pt_regs *regs;                                          \
		if (ctx->ret != 0)                                             \
			return 0;                                              \
		regs = cur_regs();                                             \
		return emit_pathop(op, dfdexpr, (const char *)(nameexpr));     \
	}

PATHOP_EXIT(unlink, OP_UNLINK, AT_FDCWD, FAST_READ(regs, di))
PATHOP_EXIT(rmdir, OP_RMDIR, AT_FDCWD, FAST_READ(regs, di))
PATHOP_EXIT(mkdir, OP_MKDIR, AT_FDCWD, FAST_READ(regs, di))
PATHOP_EXIT(mkdirat, OP_MKDIR, FAST_READ(regs, di), FAST_READ(regs, si))
PATHOP_EXIT(mknod, OP_MKNOD, AT_FDCWD, FAST_READ(regs, di))
PATHOP_EXIT(mknodat, OP_MKNOD, FAST_READ(regs, di), FAST_READ(regs, si))

SEC("tracepoint/syscalls/sys_exit_unlinkat")
int exit_unlinkat(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs;
	if (ctx->ret != 0)
		return 0;
	regs = cur_regs();
	__u32 op = (FAST_READ(regs, dx) & AT_REMOVEDIR) ? OP_RMDIR : OP_UNLINK;
	return emit_pathop(op, FAST_READ(regs, di), (const char *)FAST_READ(regs, si));
}

static __always_inline int rename_exit(long ret, long odfd, long oname, long ndfd, long nname)
{
	if (ret != 0)
		return 0;
	emit_pathop(OP_RENAME_FROM, odfd, (const char *)oname);
	return emit_pathop(OP_RENAME_TO, ndfd, (const char *)nname);
}

SEC("tracepoint/syscalls/sys_exit_rename")
int exit_rename(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = cur_regs();
	return rename_exit(ctx->ret, AT_FDCWD, FAST_READ(regs, di), AT_FDCWD, FAST_READ(regs, si));
}

SEC("tracepoint/syscalls/sys_exit_renameat")
int exit_renameat(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = cur_regs();
	return rename_exit(ctx->ret, FAST_READ(regs, di), FAST_READ(regs, si), FAST_READ(regs, dx),
			   FAST_READ(regs, r10));
}

SEC("tracepoint/syscalls/sys_exit_renameat2")
int exit_renameat2(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = cur_regs();
	return rename_exit(ctx->ret, FAST_READ(regs, di), FAST_READ(regs, si), FAST_READ(regs, dx),
			   FAST_READ(regs, r10));
}

/* ---- process lineage ---- */

static __always_inline void fill_task(struct task_ev *e, struct task_struct *t, __u32 type)
{
	struct task_struct *parent = BPF_CORE_READ(t, real_parent);

	fill_hdr(&e->h, type, BPF_CORE_READ(t, tgid), leader_start(t));
	e->ppid = BPF_CORE_READ(parent, tgid);
	e->parent_start = leader_start(parent);
	e->uid = BPF_CORE_READ(t, cred, uid.val);
	e->gid = BPF_CORE_READ(t, cred, gid.val);
	e->exit_code = 0;
	e->cgroup = BPF_CORE_READ(t, cgroups, dfl_cgrp, kn, id);
	e->netns = BPF_CORE_READ(t, nsproxy, net_ns, ns.inum);
	BPF_CORE_READ_STR_INTO(&e->comm, t, comm);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	struct task_ev *e;
	__u8 one = 1;

	if (BPF_CORE_READ(child, pid) != ctgid) /* a new thread, folded into its process */
		return 0;
	if (skip_tgid(ptgid))
		return 0;
	if (filter_mode == 1 && bpf_map_update_elem(&traced, &ctgid, &one, BPF_ANY))
		stat_inc(STAT_TRACED_FULL);
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		stat_inc(STAT_RB_DROPS);
		return 0;
	}
	fill_task(e, child, EV_FORK);
	/* the child's real_parent may be a reaper when CLONE_PARENT is used */
	e->ppid = ptgid;
	e->parent_start = leader_start(parent);
	stat_inc(STAT_EVENTS);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);
	struct mm_struct *mm;
	struct exec_ev *e;
	unsigned long as, ae;
	long n;

	if (skip_tgid(tgid))
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		stat_inc(STAT_RB_DROPS);
		return 0;
	}
	fill_task(&e->t, p, EV_EXEC);
	mm = BPF_CORE_READ(p, mm);
	as = BPF_CORE_READ(mm, arg_start);
	ae = BPF_CORE_READ(mm, arg_end);
	n = ae - as;
	if (n < 0)
		n = 0;
	if (n > ARGS_BUF)
		n = ARGS_BUF;
	e->args_len = 0;
	if (n > 0 && bpf_probe_read_user(e->args, n & (ARGS_BUF - 1) ?: ARGS_BUF, (void *)as) == 0)
		e->args_len = n;
	e->path_len = 0;
	struct file *exe = BPF_CORE_READ(mm, exe_file);
	if (exe)
		e->path_len = walk_file(exe, e->path);
	stat_inc(STAT_EVENTS);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);
	struct task_ev *e;

	if (BPF_CORE_READ(p, signal, live.counter) != 0) /* other threads live on */
		return 0;
	if (skip_tgid(tgid))
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (e) {
		fill_task(e, p, EV_EXIT);
		e->exit_code = BPF_CORE_READ(p, exit_code);
		stat_inc(STAT_EVENTS);
		bpf_ringbuf_submit(e, 0);
	} else {
		stat_inc(STAT_RB_DROPS);
	}
	if (filter_mode == 1)
		bpf_map_delete_elem(&traced, &tgid);
	return 0;
}

/* ---- signals ---- */

#define SI_USER 0
#define SI_QUEUE -1
#define SI_TKILL -6

/* sent_by_current reports whether a signal was sent by the current process
 * (kill, tgkill, sigqueue) rather than generated by the kernel: a timer
 * (alarm, setitimer), a fault, I/O readiness or the tty fire in the context
 * of whatever task happens to be running, which sent nothing. info is also
 * SEND_SIG_NOINFO (0: from a process, si_code SI_USER) or SEND_SIG_PRIV
 * (1: from the kernel). */
static __always_inline bool sent_by_current(struct kernel_siginfo *info)
{
	int code;

	if ((unsigned long)info == 0)
		return true;
	if ((unsigned long)info == 1)
		return false;
	code = BPF_CORE_READ(info, si_code);
	return code == SI_USER || code == SI_QUEUE || code == SI_TKILL;
}

SEC("tp_btf/signal_generate")
int BPF_PROG(on_signal, int sig, struct kernel_siginfo *info, struct task_struct *task, int group, int result)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u32 target = BPF_CORE_READ(task, tgid);
	struct sig_key k = {};
	struct sig_val *v;

	/* the recorder's own signals, sent or received (the Ctrl-C that
	 * stops it), are not the application's */
	if (sig == 0 || sig == SIGCHLD || target == tgid || tgid == self_tgid || target == self_tgid)
		return 0;
	if (!sent_by_current(info))
		return 0;
	if (skip_tgid(tgid) && !(filter_mode == 1 && bpf_map_lookup_elem(&traced, &target)))
		return 0;
	k.tgid = tgid;
	k.start = leader_start(bpf_get_current_task_btf());
	k.target_tgid = target;
	k.target_start = leader_start(task);
	k.signo = sig;
	v = bpf_map_lookup_elem(&sigs, &k);
	if (!v) {
		struct sig_val z = {.first = bpf_ktime_get_boot_ns()};

		if (bpf_map_update_elem(&sigs, &k, &z, BPF_NOEXIST) == 0)
			stat_inc(STAT_SIG_NEW);
		v = bpf_map_lookup_elem(&sigs, &k);
		if (!v)
			return 0;
	}
	__sync_fetch_and_add(&v->count, 1);
	return 0;
}

/* ---- snapshot iterators ---- */

SEC("iter/task")
int snap_task(struct bpf_iter__task *ctx)
{
	struct task_struct *t = ctx->task;
	struct task_ev e = {};

	if (!t || BPF_CORE_READ(t, pid) != BPF_CORE_READ(t, tgid) || BPF_CORE_READ(t, tgid) == self_tgid)
		return 0;
	if (BPF_CORE_READ(t, flags) & 0x00200000 /* PF_KTHREAD */)
		return 0;
	fill_task(&e, t, EV_TASK);
	/* on overflow the iterator core shows this task again after a flush */
	bpf_seq_write(ctx->meta->seq, &e, sizeof(e));
	return 0;
}

SEC("iter/task_file")
int snap_file(struct bpf_iter__task_file *ctx)
{
	struct task_struct *t = ctx->task;
	struct file *f = ctx->file;
	struct io_key k = {};
	struct file_ev *e;
	__u32 zero = 0, mode;

	if (!t || !f || BPF_CORE_READ(t, pid) != BPF_CORE_READ(t, tgid) || BPF_CORE_READ(t, tgid) == self_tgid)
		return 0;
	if (!key_of(f, &k, &mode))
		return 0;
	e = bpf_map_lookup_elem(&scratch, &zero);
	if (!e)
		return 0;
	__builtin_memset(e, 0, offsetof(struct file_ev, path));
	fill_hdr(&e->h, EV_FILE, BPF_CORE_READ(t, tgid), BPF_CORE_READ(t, start_boottime));
	e->reason = R_SNAPSHOT;
	e->fd = ctx->fd;
	fill_file(e, f);
	bpf_seq_write(ctx->meta->seq, e, sizeof(*e));
	return 0;
}

/* snap_vma reports every shared file mapping (MAP_SHARED, which sets
 * VM_MAYSHARE) of every process: memory
 * mapped MAP_SHARED before recording started (a segment in /dev/shm mapped
 * at start-up, whose fd is long closed) is invisible to snap_file. SysV
 * segments attached before the start are shared file mappings too (of an
 * internal shmem file whose inode number is the shmid); they are flagged so
 * user space files them as SysV shm. Shared anonymous memory (also an
 * internal shmem file) is flagged too: it is shared with forked children
 * only, and user space counts it rather than naming it. */
SEC("iter/task_vma")
int snap_vma(struct bpf_iter__task_vma *ctx)
{
	struct task_struct *t = ctx->task;
	struct vm_area_struct *vma = ctx->vma;
	struct io_key k = {};
	struct file_ev *e;
	struct inode *in;
	struct file *f;
	__u32 zero = 0, mode, tgid, mflags = 0;
	unsigned long vmf;
	char name[4] = {};

	if (!t || !vma)
		return 0;
	tgid = BPF_CORE_READ(t, tgid);
	if (tgid == self_tgid)
		return 0;
	vmf = BPF_CORE_READ(vma, vm_flags);
	f = FAST_READ(vma, vm_file);
	if (!(vmf & VM_MAYSHARE) || !f)
		return 0;
	in = BPF_CORE_READ(f, f_inode);
	if (BPF_CORE_READ(in, i_flags) & S_PRIVATE) {
		bpf_probe_read_kernel(name, sizeof(name), BPF_CORE_READ(f, f_path.dentry, d_name.name));
		if (BPF_CORE_READ(in, i_sb, s_magic) == TMPFS_MAGIC && name[0] == 'S' && name[1] == 'Y' &&
		    name[2] == 'S' && name[3] == 'V')
			mflags |= MAPF_SYSV;
		else
			mflags |= MAPF_ANON;
	}
	if (!key_of(f, &k, &mode))
		return 0;
	if (vmf & VM_WRITE)
		mflags |= MAPF_WRITE;
	e = bpf_map_lookup_elem(&scratch, &zero);
	if (!e)
		return 0;
	__builtin_memset(e, 0, offsetof(struct file_ev, path));
	fill_hdr(&e->h, EV_FILE, tgid, leader_start(t));
	e->reason = R_MAPPED;
	e->fd = -1;
	fill_file(e, f);
	e->flags = mflags;
	if (mflags & MAPF_SYSV) { /* an unattached dentry: the walk finds no name */
		long n = bpf_probe_read_kernel_str(e->path, NAME_CHUNK, BPF_CORE_READ(f, f_path.dentry, d_name.name));
		e->path_len = n > 0 ? n : 0;
	}
	bpf_seq_write(ctx->meta->seq, e, sizeof(*e));
	return 0;
}
