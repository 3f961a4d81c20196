/* SPDX-License-Identifier: MIT */
/*
 * What probes.bpf.c and ledger.c share: the per-role counters the kernel
 * side fills, the families, and the x86_64 syscall numbers it sorts by.
 */
#ifndef COPYLAB_PROBES_H
#define COPYLAB_PROBES_H

/* The BPF side gets __u32/__u64 from vmlinux.h; user space from the UAPI. */
#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Must equal LEDGER_MAX_SLOTS and enum ledger_family (ledger.c checks). */
#define PROBES_MAX_SLOTS	8
/* tgid -> slot: the role processes with an open window; a few per run. */
#define PROBES_MAX_ROLES	64

enum probes_family {
	PF_READ,
	PF_WRITE,
	PF_SPLICE,
	PF_WAIT,
	PF_URING,
	PF_OTHER,
	PF_COUNT
};

/*
 * io_uring operations by class of opcode (their SQEs move bytes with no
 * read/write syscall: the ledger counts them from the io_uring
 * tracepoints).  Must equal enum ledger_uring_class (ledger.c checks).
 */
enum probes_uring_class {
	PU_READ,	/* READ, READV, READ_FIXED, READ_MULTISHOT, READV_FIXED */
	PU_WRITE,	/* WRITE, WRITEV, WRITE_FIXED, WRITEV_FIXED */
	PU_SEND,	/* SEND, SENDMSG, SEND_ZC, SENDMSG_ZC */
	PU_RECV,	/* RECV, RECVMSG, RECV_ZC */
	PU_SPLICE,	/* SPLICE, TEE */
	PU_OTHER,	/* the rest: NOP, POLL_ADD, notifications, ... */
	PU_COUNT
};

/*
 * One slot's counters on one CPU; user space sums the CPUs.  All __u64 so
 * the per-CPU value has no padding and is laid out alike on both sides.
 */
struct role_counters {
	__u64 syscalls;
	__u64 by_family[PF_COUNT];
	__u64 bytes_to_user;
	__u64 bytes_from_user;
	__u64 bytes_in_kernel;
	__u64 skb_copy_bytes;
	__u64 sched_switches;
	__u64 page_faults;
	__u64 uring_sqes[PU_COUNT];	/* io_uring_submit_req */
	__u64 uring_cqes[PU_COUNT];	/* io_uring_complete */
	__u64 uring_cqe_bytes[PU_COUNT];	/* their res, where > 0 */
	__u64 steal_ns;			/* the hypervisor's steal in the role's stretches on a CPU */
};

/*
 * One CPU's idle accounting: since = CLOCK_MONOTONIC ns at which the idle
 * task took the CPU (0 while something else runs), total = idle ns before.
 * Under a hypervisor a task's stretch on the CPU also holds the time the
 * vCPU was not running at all (steal): steal_busy sums the steal that fell
 * in stretches of tasks other than idle, from the runqueue's steal clock
 * (ns) read at each switch; steal_last is that clock at the last switch.
 */
struct idle_state {
	__u64 since;
	__u64 total;
	__u64 steal_last;
	__u64 steal_busy;
};

/*
 * x86_64 syscall numbers (asm/unistd_64.h).  The probes see the native
 * table only; a 32-bit (compat) task's numbers mean other calls, and the
 * harness builds 64-bit roles only.
 */
#define NR_read			0
#define NR_write		1
#define NR_poll			7
#define NR_pread64		17
#define NR_pwrite64		18
#define NR_readv		19
#define NR_writev		20
#define NR_select		23
#define NR_sendfile		40
#define NR_sendto		44
#define NR_recvfrom		45
#define NR_sendmsg		46
#define NR_recvmsg		47
/* MSG_TRUNC (linux/socket.h), which vmlinux.h does not carry. */
#define MSG_TRUNC_FLAG		0x20
#define NR_epoll_wait		232
#define NR_pselect6		270
#define NR_ppoll		271
#define NR_splice		275
#define NR_tee			276
#define NR_vmsplice		278
#define NR_epoll_pwait		281
#define NR_preadv		295
#define NR_pwritev		296
#define NR_recvmmsg		299
#define NR_sendmmsg		307
#define NR_bpf			321
#define NR_copy_file_range	326
#define NR_preadv2		327
#define NR_pwritev2		328
#define NR_io_uring_enter	426
#define NR_epoll_pwait2		441

#endif
