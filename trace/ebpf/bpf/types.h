// SPDX-License-Identifier: GPL-2.0
// Records shared between the BPF programs and the Go loader. Every struct is
// exported to Go by bpf2go (-type), so fields are fixed-size and explicitly
// padded; the Go side decodes them with encoding/binary.
#pragma once

#define PATH_BUF 4352   /* 4096 + one NAME_MAX component, see walk_path */
#define PATH_MASK 4095
#define NAME_CHUNK 256
#define ARGS_BUF 2048
#define SUN_LEN 108

enum ev_type {
	EV_EXEC = 1,
	EV_FORK = 2,
	EV_EXIT = 3,
	EV_FILE = 4,   /* first sight of (process, file) or an open/connect/accept/listen/mmap */
	EV_PATHOP = 5, /* unlink/rmdir/mkdir/mknod/rename inside a directory */
	/* 6 was EV_SIGNAL: signals are counted in the sigs map instead */
	EV_SHMAT = 7,
	EV_TASK = 8,   /* snapshot: a process already running */
};

/* Why a file record was emitted. */
enum file_reason {
	R_IO = 1,      /* first read/write seen on it */
	R_OPEN = 2,
	R_CONNECT = 3,
	R_ACCEPT = 4,
	R_LISTEN = 5,
	R_MMAP = 6,
	R_SNAPSHOT = 7,
	R_MAPPED = 8,  /* snapshot: a MAP_SHARED mapping of the file (flags: MAPF_*) */
};

/* flags of an R_MAPPED record (instead of f_flags). */
enum map_flags {
	MAPF_WRITE = 1, /* the mapping is writable (VM_WRITE) */
	MAPF_SYSV = 2,  /* a SysV shm segment: ino is the shmid, the path /SYSV<key> */
	MAPF_ANON = 4,  /* shared anonymous memory (MAP_SHARED|MAP_ANONYMOUS) */
};

enum pathop {
	OP_UNLINK = 1,
	OP_RMDIR = 2,
	OP_MKDIR = 3,
	OP_MKNOD = 4,
	OP_RENAME_FROM = 5,
	OP_RENAME_TO = 6,
};

/* Indexes of the per-CPU stats array. */
enum stat_idx {
	STAT_RB_DROPS = 0,   /* ring buffer reservations that failed */
	STAT_IO_NEW = 1,     /* counter entries created in the io map */
	STAT_IO_FULL = 2,    /* counter entries that could not be created */
	STAT_EVENTS = 3,     /* ring buffer records submitted */
	STAT_IO_OPS = 4,     /* hot-path operations counted */
	STAT_SNAP_DROPS = 5, /* snapshot records that did not fit the iterator buffer */
	STAT_TRACED_FULL = 6,/* traced-tgid map updates that failed */
	STAT_SIG_NEW = 7,    /* signal counter entries created in the sigs map */
	STAT_MAX = 8,
};

struct hdr {
	__u32 type;
	__u32 tgid;
	__u64 start; /* group leader start_boottime: (tgid, start) names a process */
	__u64 ts;    /* bpf_ktime_get_boot_ns */
};

struct task_ev {
	struct hdr h;
	__u32 ppid;
	__u32 uid;
	__u32 gid;
	__s32 exit_code;
	__u64 parent_start;
	__u64 cgroup;
	__u64 netns;
	char comm[16];
};

struct exec_ev {
	struct task_ev t;
	__u32 args_len;
	__u32 path_len;
	char args[ARGS_BUF];
	char path[PATH_BUF];
};

struct file_ev {
	struct hdr h;
	__u32 reason;
	__s32 fd;
	__u32 dev;
	__u32 mode;
	__u64 ino;
	__u32 gen;
	__u32 flags;      /* f_flags, or the open(2) flags for R_OPEN */
	__u64 parent_ino;
	__u64 magic;
	__u64 sk;         /* kernel struct sock of this socket */
	__u64 peer_sk;    /* unix: the peer's struct sock */
	__u64 peer_ino;   /* unix: the peer's socket inode */
	__u16 family;
	__u16 stype;
	__u16 sstate;
	__u16 lport;
	__u16 rport;
	__u16 kfamily;    /* address given to sendto/recvfrom (datagram sockets) */
	__u16 kport;
	__u16 sun_len;
	__u8 laddr[16];
	__u8 raddr[16];
	__u8 kaddr[16];
	__u16 peer_sun_len;
	__u16 ksun_len;
	__u32 path_len;
	__u64 kino;       /* the counter key's ino and gen: they differ from the */
	__u32 kgen;       /* file's for a connection aggregate (KEY_GEN_TCP_AGG) */
	__u32 kpad;
	char sun[SUN_LEN];
	char peer_sun[SUN_LEN];
	char ksun[SUN_LEN];
	char path[PATH_BUF];
};

struct pathop_ev {
	struct hdr h;
	__u32 op;
	__s32 dfd;
	__u32 base_len;
	__u32 name_len;
	char name[NAME_CHUNK];
	char base[PATH_BUF];
};

/* Key of the per-(sender, target, signal) counters: the sender is the
 * process that called kill/tgkill/sigqueue, the target the process the
 * signal was sent to; each is named by its tgid and its leader's start time
 * (pids are reused). */
struct sig_key {
	__u32 tgid;
	__u32 target_tgid;
	__u64 start;
	__u64 target_start;
	__u32 signo;
	__u32 pad;
};

/* Signals sent since the entry was created at first
 * (bpf_ktime_get_boot_ns), which identifies the incarnation. */
struct sig_val {
	__u64 first;
	__u64 count;
};

struct shmat_ev {
	struct hdr h;
	__s32 shmid;
	__u32 shmflg; /* shmat(2) flags: SHM_RDONLY makes a read-only attach */
	__u64 addr;
};

/* Key of the per-(process, inode[, peer address]) counters. */
/* io_key.gen of a TCP connection aggregate: every connection of one process
 * between one client address and one server endpoint shares one key, whose
 * family/port/addr are the server endpoint and ino the client address (IPv4,
 * or IPv6 folded to 64 bits); dev is 0. Busy clients open a connection per
 * request: a key per socket would churn the map and the ring buffer. */
#define KEY_GEN_TCP_AGG 0xfffffffe

struct io_key {
	__u32 tgid;
	__u32 dev;
	__u64 ino;
	__u64 start;
	__u32 gen;
	__u16 family; /* non-zero only for datagram send/recv with an address */
	__u16 port;
	__u8 addr[16]; /* IPv4/IPv6 address, or a hash of a unix path */
};

/* Totals since the entry was created; first (bpf_ktime_get_boot_ns)
 * identifies the incarnation. There is no "last seen" time: user space
 * knows an entry changed between two reads of the map, which is as precise
 * as it needs, and a clock read (an ordered rdtsc in a VM) costs about as
 * much as the rest of the read/write hot path. */
struct io_val {
	__u64 first;
	__u64 opens;
	__u64 opens_w;
	__u64 reads;
	__u64 rbytes;
	__u64 writes;
	__u64 wbytes;
	__u64 creates;
	__u64 maps;
	__u64 connects;
	__u64 accepts;
	__u64 listens;
	__u32 first_what; /* the W_* bits of the operation that created the entry */
	__u32 pad;
};
