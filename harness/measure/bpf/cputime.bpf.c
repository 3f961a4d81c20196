/* SPDX-License-Identifier: MIT OR GPL-2.0 */
/*
 * Where each role's CPU time goes, measured: a program on a software
 * cpu-clock perf event of every CPU (no kprobes, no fentry, no hardware
 * counters needed) sorts each sample of a role process by the address it
 * interrupted, into the CPU groups of harness/measure/cpugroups.c: a
 * binary search over kernel text ranges built from /proc/kallsyms, and
 * libc's copy routines for user addresses.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "cputime.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* The ledger's tgid -> slot map, shared (user space reuses its descriptor). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} role_slot SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, struct ct_counters);
} ct_counts SEC(".maps");

/* Sorted by start; filled once by user space, then only read. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CT_MAX_RANGES);
	__type(key, __u32);
	__type(value, struct ct_range);
} ct_ranges SEC(".maps");

const volatile __u32 nranges = 0;
const volatile __u64 user_copy_lo[CT_USER_COPY_RANGES] = {};
const volatile __u64 user_copy_hi[CT_USER_COPY_RANGES] = {};

/*
 * The interrupted registers: bpf_perf_event_data's first member, the UAPI
 * x86_64 struct pt_regs.  A copy of that stable layout without vmlinux.h's
 * preserve_access_index, so reading ip takes no CO-RE relocation and
 * libbpf does not parse the kernel's 5 MB BTF at every load (0.4 s here).
 */
struct uapi_pt_regs {
	__u64 r15, r14, r13, r12, bp, bx, r11, r10, r9, r8;
	__u64 ax, cx, dx, si, di, orig_ax, ip, cs, flags, sp, ss;
};

/* x86_64: the kernel's half of the address space. */
#define KERNEL_START 0xffff800000000000ULL

/* The binary search's state, stepped by bpf_loop. */
struct search {
	__u64 ip;
	__u32 lo, hi;
};

/*
 * One step: halve [lo, hi) toward the last range whose start is <= ip.
 * Stepped by bpf_loop rather than an unrolled loop: the verifier checks
 * the callback once, where 15 inlined steps over the frozen range count
 * are 2^15 paths to walk (half a second at every load).
 */
static long search_step(__u32 i, void *arg)
{
	struct search *s = arg;
	__u32 mid;
	struct ct_range *r;

	if (s->hi - s->lo <= 1)
		return 1;
	mid = s->lo + (s->hi - s->lo) / 2;
	r = bpf_map_lookup_elem(&ct_ranges, &mid);
	if (!r)
		return 1;
	if (r->start <= s->ip)
		s->lo = mid;
	else
		s->hi = mid;
	return 0;
}

static __always_inline __u32 kernel_group(__u64 ip)
{
	struct search s = { .ip = ip, .lo = 0, .hi = nranges };
	struct ct_range *r;

	if (s.hi == 0 || s.hi > CT_MAX_RANGES)
		return CT_GROUP_KERNEL_OTHER;
	bpf_loop(CT_SEARCH_STEPS + 1, search_step, &s, 0);
	r = bpf_map_lookup_elem(&ct_ranges, &s.lo);
	if (!r || ip < r->start || r->group >= CT_GROUPS)
		return CT_GROUP_KERNEL_OTHER;
	return r->group;
}

static __always_inline __u32 user_group(__u64 ip)
{
	for (int i = 0; i < CT_USER_COPY_RANGES; i++)
		if (ip >= user_copy_lo[i] && ip < user_copy_hi[i])
			return CT_GROUP_COPY_USER;
	return CT_GROUP_USER_OTHER;
}

SEC("perf_event")
int on_cpu_sample(void *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u32 *slot = bpf_map_lookup_elem(&role_slot, &tgid);
	struct ct_counters *c;
	__u64 ip;
	__u32 g;

	if (!slot)
		return 0;
	c = bpf_map_lookup_elem(&ct_counts, slot);
	if (!c)
		return 0;
	ip = ((const struct uapi_pt_regs *)ctx)->ip;
	g = ip >= KERNEL_START ? kernel_group(ip) : user_group(ip);
	if (g < CT_GROUPS)
		__sync_fetch_and_add(&c->samples[g], 1);
	return 0;
}
