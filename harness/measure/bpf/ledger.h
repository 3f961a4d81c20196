/* SPDX-License-Identifier: MIT */
/*
 * The copy ledger from BPF: per-role syscall counts by family, bytes across
 * the user/kernel boundary, bytes moved inside the kernel, socket bytes
 * copied to user memory, scheduler switches and user page faults.  Counted
 * in the kernel for the processes of a role only, while that role marks
 * its measured window open.
 *
 * Use: the parent calls ledger_open() once (load + attach), then for each
 * repetition ledger_reset(slot) before forking; each role process calls
 * ledger_window_begin(slot) when the barrier opens and ledger_window_end()
 * when its last byte is moved; the parent reads with ledger_read(slot).
 */
#ifndef COPYLAB_LEDGER_H
#define COPYLAB_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LEDGER_MAX_SLOTS 8

enum ledger_family {
	LF_READ,	/* read, readv, pread64, preadv, preadv2, recvfrom, recvmsg, recvmmsg */
	LF_WRITE,	/* write, writev, pwrite64, pwritev, pwritev2, sendto, sendmsg, sendmmsg */
	LF_SPLICE,	/* splice, tee, vmsplice, sendfile, copy_file_range */
	LF_WAIT,	/* poll, ppoll, select, pselect6, epoll_wait, epoll_pwait, epoll_pwait2 */
	LF_URING,	/* io_uring_enter */
	LF_OTHER,
	LF_COUNT
};

/* io_uring operations by class of opcode (the SQE's, not a syscall's). */
enum ledger_uring_class {
	LU_READ,	/* READ, READV, READ_FIXED, READ_MULTISHOT */
	LU_WRITE,	/* WRITE, WRITEV, WRITE_FIXED */
	LU_SEND,	/* SEND, SENDMSG, SEND_ZC, SENDMSG_ZC */
	LU_RECV,	/* RECV, RECVMSG */
	LU_SPLICE,	/* SPLICE, TEE */
	LU_OTHER,	/* NOP, POLL_ADD, send_zc notifications, CQEs with no request */
	LU_COUNT
};

struct ledger_uring {
	bool have;			/* both io_uring tracepoints attached */
	uint64_t sqes[LU_COUNT];	/* io_uring_submit_req, per class */
	uint64_t cqes[LU_COUNT];	/* io_uring_complete of the role's rings */
	uint64_t cqe_bytes[LU_COUNT];	/* sum of their res > 0 */
};

struct ledger_counts {
	uint64_t syscalls;
	uint64_t by_family[LF_COUNT];
	uint64_t bytes_to_user;		/* sum of read-family returns > 0 */
	uint64_t bytes_from_user;	/* sum of write-family returns > 0 */
	uint64_t bytes_in_kernel;	/* sum of splice-family returns > 0 */
	uint64_t skb_copy_bytes;	/* skb:skb_copy_datagram_iovec len */
	uint64_t sched_switches;	/* sched_switch with a role thread as prev */
	uint64_t page_faults;		/* exceptions:page_fault_user */
	uint64_t steal_ns;		/* the hypervisor's steal in the role's stretches on a CPU (ends counted at switches) */
	struct ledger_uring uring;	/* bytes moved by io_uring, not by syscalls */
};

struct ledger;

/*
 * Load and attach.  0, or -errno with `why` saying what is missing in a
 * form fit for the record ("unavailable: EPERM (BPF needs root or CAP_BPF)", "unavailable:
 * no /sys/kernel/btf/vmlinux", "built without BPF: clang not found").
 */
int ledger_open(struct ledger **out, char *why, size_t whylen);
void ledger_close(struct ledger *l);
/* Which attach method each probe used, e.g. "raw_tp" — for env.json. */
const char *ledger_describe(const struct ledger *l);

int ledger_reset(struct ledger *l, int slot);
/* In the role process: count this process (all its threads) into slot. */
int ledger_window_begin(struct ledger *l, int slot);
/*
 * From outside: count the process pid (all its threads) into slot from now
 * on, as if it had opened its own window (copylab probe, for a program that
 * is not copylab's).  ledger_forget(pid) ends it.
 */
int ledger_watch_pid(struct ledger *l, int slot, int pid);
int ledger_window_end(struct ledger *l);
/*
 * In the parent, after a role is reaped: a role killed inside its window
 * never closed it, and its pid, once reused, must not count into a slot.
 */
int ledger_forget(struct ledger *l, int pid);
int ledger_read(struct ledger *l, int slot, struct ledger_counts *out);
/*
 * The machine's idle time so far, in nanoseconds summed over its CPUs,
 * from the idle task's switches (CLOCK_MONOTONIC), and the steal that fell
 * while tasks held the CPUs.  Busy CPU over a window is wall time times the
 * CPUs, minus the idle delta and that steal's delta: ns resolution where
 * /proc/stat has 10 ms.  steal_busy_ns counts a stretch once it ends (at
 * its switch): a stretch still running is not in it yet.
 */
struct ledger_idle {
	uint64_t idle_ns;
	uint64_t steal_busy_ns;
	uint64_t steal_clock_ns;	/* the runqueues' steal clocks at their last switches, summed */
	bool have_steal_clock;	/* the kernel's runqueue has a steal clock the probe reads */
	int ncpus;
};

/* 0, or -ENOTSUP when sched_switch did not attach. */
int ledger_idle(struct ledger *l, struct ledger_idle *out);

/*
 * The tgid -> slot map's descriptor, for another BPF object that counts by
 * the same windows (the CPU sampler, cpusample.h); -1 without a ledger.
 */
int ledger_role_map_fd(const struct ledger *l);

const char *ledger_family_name(enum ledger_family f);
const char *ledger_uring_class_name(enum ledger_uring_class c);

#endif
