/* SPDX-License-Identifier: MIT OR GPL-2.0 */
/*
 * The copy ledger's kernel side: raw tracepoints that count, per role slot,
 * syscalls by family, the bytes they move, socket copies, switches, faults.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "probes.h"

/* GPL-compatible, as bpf_probe_read_kernel (BPF_CORE_READ) requires. */
char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Written by user space only: a role enters at window begin, leaves at end. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PROBES_MAX_ROLES);
	__type(key, __u32);	/* tgid */
	__type(value, __u32);	/* slot */
} role_slot SEC(".maps");

/* Per CPU so the hot path never bounces a cache line between cores. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PROBES_MAX_SLOTS);
	__type(key, __u32);
	__type(value, struct role_counters);
} counters SEC(".maps");

/*
 * io_uring completions may run in another task (an io-wq worker, task
 * work, softirq): the ring a role submitted to says whose they are.  LRU,
 * so rings of roles long gone make room by themselves.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 256);
	__type(key, __u64);	/* struct io_ring_ctx * */
	__type(value, __u32);	/* slot */
} uring_ring_slot SEC(".maps");

/*
 * Atomic even though per CPU: since 6.14 the syscall tracepoints run with
 * preemption enabled, so two role threads can interleave on one CPU.
 */
#define ADD(field, n) __sync_fetch_and_add(&(field), (n))

/* The counters of the slot `tgid` is counted into, or NULL. */
static __always_inline struct role_counters *slot_of(__u32 tgid, __u32 *slot_out)
{
	__u32 *slot = bpf_map_lookup_elem(&role_slot, &tgid);

	if (!slot)
		return NULL;
	if (slot_out)
		*slot_out = *slot;
	return bpf_map_lookup_elem(&counters, slot);
}

static __always_inline struct role_counters *current_slot(__u32 *slot_out)
{
	return slot_of(bpf_get_current_pid_tgid() >> 32, slot_out);
}

static __always_inline int family_of(long nr)
{
	switch (nr) {
	case NR_read: case NR_readv: case NR_pread64: case NR_preadv:
	case NR_preadv2: case NR_recvfrom: case NR_recvmsg: case NR_recvmmsg:
		return PF_READ;
	case NR_write: case NR_writev: case NR_pwrite64: case NR_pwritev:
	case NR_pwritev2: case NR_sendto: case NR_sendmsg: case NR_sendmmsg:
		return PF_WRITE;
	case NR_splice: case NR_tee: case NR_vmsplice: case NR_sendfile:
	case NR_copy_file_range:
		return PF_SPLICE;
	case NR_poll: case NR_ppoll: case NR_select: case NR_pselect6:
	case NR_epoll_wait: case NR_epoll_pwait: case NR_epoll_pwait2:
		return PF_WAIT;
	case NR_io_uring_enter:
		return PF_URING;
	default:
		return PF_OTHER;
	}
}

SEC("raw_tp/sys_enter")
int BPF_PROG(on_sys_enter, struct pt_regs *regs, long nr)
{
	struct role_counters *c;

	/*
	 * bpf() is how a role opens and closes its window: leave it out so
	 * the markers cost nothing in the figures they frame.
	 */
	if (nr == NR_bpf)
		return 0;
	c = current_slot(NULL);
	if (!c)
		return 0;
	ADD(c->syscalls, 1);
	ADD(c->by_family[family_of(nr)], 1);
	return 0;
}

/*
 * The return value, by the family of the call.  The syscall number is read
 * back from the saved registers (orig_ax) rather than carried over from
 * sys_enter in a map: no map update and delete on every counted call, so
 * the probes cost the roles less.  recvmmsg and sendmmsg return a count of
 * messages, not bytes, and are left out of the sums.
 */
SEC("raw_tp/sys_exit")
int BPF_PROG(on_sys_exit, struct pt_regs *regs, long ret)
{
	struct role_counters *c;
	long nr;
	int fam;

	/* Every syscall on the machine passes here: one lookup, then out. */
	if (ret <= 0)
		return 0;
	c = current_slot(NULL);
	if (!c)
		return 0;
	nr = BPF_CORE_READ(regs, orig_ax);
	if (nr == NR_recvmmsg || nr == NR_sendmmsg)
		return 0;
	fam = family_of(nr);
	/*
	 * recv(MSG_TRUNC) on a stream socket returns what the kernel threw
	 * away uncopied: none of it reached user memory.  The flags are the
	 * call's own arguments, still in the saved registers (x86-64: recvfrom's
	 * fourth in r10, recvmsg's third in dx).
	 */
	if ((nr == NR_recvfrom && (BPF_CORE_READ(regs, r10) & MSG_TRUNC_FLAG)) ||
	    (nr == NR_recvmsg && (BPF_CORE_READ(regs, dx) & MSG_TRUNC_FLAG)))
		return 0;
	if (fam == PF_READ)
		ADD(c->bytes_to_user, ret);
	else if (fam == PF_WRITE)
		ADD(c->bytes_from_user, ret);
	else if (fam == PF_SPLICE)
		ADD(c->bytes_in_kernel, ret);
	return 0;
}

/* skb:skb_copy_datagram_iovec fires in the receiving task's context. */
SEC("raw_tp/skb_copy_datagram_iovec")
int BPF_PROG(on_skb_copy, const struct sk_buff *skb, int len)
{
	struct role_counters *c = current_slot(NULL);

	if (c && len > 0)
		ADD(c->skb_copy_bytes, len);
	return 0;
}

/*
 * Each CPU's idle time in nanoseconds, for the machine's busy CPU at a
 * resolution /proc/stat's 10 ms ticks do not have: the idle task (pid 0)
 * leaving the CPU ends an idle stretch, entering it starts one.  Per CPU
 * and only ever touched by its own CPU's switches: no atomics needed.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct idle_state);
} idle SEC(".maps");

/*
 * The runqueue's steal clock: the ns of steal its clock_task has left out
 * so far (CONFIG_PARAVIRT_TIME_ACCOUNTING, a hypervisor that reports steal,
 * and steal accounting on).  __schedule updates the clock just before the
 * switch, so at a switch it is current.  The flavours let a kernel without
 * those fields load the program: the clock then reads 0.
 */
struct rq___steal {
	__u64 prev_steal_time_rq;
} __attribute__((preserve_access_index));
struct cfs_rq___steal {
	struct rq___steal *rq;
} __attribute__((preserve_access_index));
struct sched_entity___steal {
	struct cfs_rq___steal *cfs_rq;
} __attribute__((preserve_access_index));
struct task_struct___steal {
	struct sched_entity___steal se;
} __attribute__((preserve_access_index));

/* 1 when this kernel's runqueue has a steal clock to read (user space reads it). */
__u32 steal_clock_fields;

static __always_inline __u64 rq_steal_ns(struct task_struct *t)
{
	struct task_struct___steal *ts = (void *)t;

	if (!bpf_core_field_exists(struct cfs_rq___steal, rq) ||
	    !bpf_core_field_exists(struct rq___steal, prev_steal_time_rq))
		return 0;
	steal_clock_fields = 1;
	return BPF_CORE_READ(ts, se.cfs_rq, rq, prev_steal_time_rq);
}

/* The CPU's idle and steal accounting at a switch; returns the steal in prev's stretch (0 for idle). */
static __always_inline __u64 account_idle(struct task_struct *prev, struct task_struct *next)
{
	__u32 zero = 0;
	struct idle_state *st = bpf_map_lookup_elem(&idle, &zero);
	__u64 now, steal, stolen = 0;
	bool prev_idle;

	if (!st)
		return 0;
	now = bpf_ktime_get_ns();
	steal = rq_steal_ns(prev);
	prev_idle = BPF_CORE_READ(prev, pid) == 0;
	/* the steal since the last switch fell in prev's stretch */
	if (!prev_idle && st->steal_last && steal > st->steal_last)
		stolen = steal - st->steal_last;
	st->steal_busy += stolen;
	st->steal_last = steal;
	if (prev_idle && st->since) {
		st->total += now - st->since;
		st->since = 0;
	}
	if (BPF_CORE_READ(next, pid) == 0)
		st->since = now;
	return stolen;
}

/* Counted for the task leaving the CPU: voluntary and involuntary alike. */
SEC("raw_tp/sched_switch")
int BPF_PROG(on_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	struct role_counters *c;
	__u64 stolen = account_idle(prev, next);

	c = slot_of(BPF_CORE_READ(prev, tgid), NULL);
	if (c) {
		ADD(c->sched_switches, 1);
		ADD(c->steal_ns, stolen);
	}
	return 0;
}

SEC("raw_tp/page_fault_user")
int BPF_PROG(on_page_fault, unsigned long address, struct pt_regs *regs, unsigned long error_code)
{
	struct role_counters *c = current_slot(NULL);

	if (c)
		ADD(c->page_faults, 1);
	return 0;
}

/* The class of an io_uring opcode (enum io_uring_op: UAPI, stable numbers). */
static __always_inline int uring_class(__u8 op)
{
	switch (op) {
	case IORING_OP_READ: case IORING_OP_READV: case IORING_OP_READ_FIXED:
	case IORING_OP_READ_MULTISHOT: case 60 /* READV_FIXED */:
		return PU_READ;
	case IORING_OP_WRITE: case IORING_OP_WRITEV: case IORING_OP_WRITE_FIXED:
	case 61 /* WRITEV_FIXED */:
		return PU_WRITE;
	case IORING_OP_SEND: case IORING_OP_SENDMSG: case IORING_OP_SEND_ZC:
	case IORING_OP_SENDMSG_ZC:
		return PU_SEND;
	case IORING_OP_RECV: case IORING_OP_RECVMSG: case 58 /* RECV_ZC */:
		return PU_RECV;
	case IORING_OP_SPLICE: case IORING_OP_TEE:
		return PU_SPLICE;
	default:
		return PU_OTHER;
	}
}

/*
 * Each SQE as the kernel takes it, in the submitting task: the role's own
 * thread, or its SQPOLL thread (iou-sqp-PID, a thread of the role's
 * process since 5.12, so the same tgid).
 */
SEC("raw_tp/io_uring_submit_req")
int BPF_PROG(on_uring_submit, struct io_kiocb *req)
{
	struct role_counters *c;
	__u32 slot;
	__u64 ring;

	c = current_slot(&slot);
	if (!c)
		return 0;
	ring = (__u64)BPF_CORE_READ(req, ctx);
	bpf_map_update_elem(&uring_ring_slot, &ring, &slot, BPF_ANY);
	ADD(c->uring_sqes[uring_class(BPF_CORE_READ(req, opcode))], 1);
	return 0;
}

/*
 * Each CQE posted.  req is NULL for CQEs with no request behind them; a
 * send_zc notification's request is a NOP whose res carries flags, not
 * bytes, so it lands in "other" with no bytes.
 */
SEC("raw_tp/io_uring_complete")
int BPF_PROG(on_uring_complete, struct io_ring_ctx *ring, void *req, struct io_uring_cqe *cqe)
{
	__u64 key = (__u64)ring;
	__u32 *slot = bpf_map_lookup_elem(&uring_ring_slot, &key);
	struct role_counters *c;
	int cls = PU_OTHER;
	__s32 res;

	if (!slot)
		return 0;
	c = bpf_map_lookup_elem(&counters, slot);
	if (!c)
		return 0;
	if (req)
		cls = uring_class(BPF_CORE_READ((struct io_kiocb *)req, opcode));
	res = BPF_CORE_READ(cqe, res);
	ADD(c->uring_cqes[cls], 1);
	if (res > 0)
		ADD(c->uring_cqe_bytes[cls], res);
	return 0;
}
