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

/* x86_64: the kernel's half of the address space. */
#define KERNEL_START 0xffff800000000000ULL

static __always_inline __u32 kernel_group(__u64 ip)
{
	__u32 lo = 0, hi = nranges;

	if (hi == 0 || hi > CT_MAX_RANGES)
		return CT_GROUP_KERNEL_OTHER;
	/* The last range whose start is <= ip; 15 steps cover 32768 ranges. */
	for (int i = 0; i < CT_SEARCH_STEPS && hi - lo > 1; i++) {
		__u32 mid = lo + (hi - lo) / 2;
		struct ct_range *r = bpf_map_lookup_elem(&ct_ranges, &mid);

		if (!r)
			return CT_GROUP_KERNEL_OTHER;
		if (r->start <= ip)
			lo = mid;
		else
			hi = mid;
	}
	{
		struct ct_range *r = bpf_map_lookup_elem(&ct_ranges, &lo);

		if (!r || ip < r->start || r->group >= CT_GROUPS)
			return CT_GROUP_KERNEL_OTHER;
		return r->group;
	}
}

static __always_inline __u32 user_group(__u64 ip)
{
	for (int i = 0; i < CT_USER_COPY_RANGES; i++)
		if (ip >= user_copy_lo[i] && ip < user_copy_hi[i])
			return CT_GROUP_COPY_USER;
	return CT_GROUP_USER_OTHER;
}

SEC("perf_event")
int on_cpu_sample(struct bpf_perf_event_data *ctx)
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
	ip = PT_REGS_IP(&ctx->regs);
	g = ip >= KERNEL_START ? kernel_group(ip) : user_group(ip);
	if (g < CT_GROUPS)
		__sync_fetch_and_add(&c->samples[g], 1);
	return 0;
}
