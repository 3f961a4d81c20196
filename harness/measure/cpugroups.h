/* SPDX-License-Identifier: MIT */
/*
 * Where a role's CPU time goes, in a few groups a student can reason with:
 * copying, the TCP/IP stack, scheduling and wake-ups, syscall entry and
 * exit, page faults and memory management, copylab's own probes, the rest
 * of the kernel, and user code.  One table of symbol rules decides the
 * group of every kernel symbol; the CPU sampler (bpf/cputime) sorts each
 * sample's address into the ranges built from it.  No I/O here: the
 * builder takes /proc/kallsyms as text, so it is unit-tested and fuzzed.
 */
#ifndef COPYLAB_CPUGROUPS_H
#define COPYLAB_CPUGROUPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cpu_group {
	CG_COPY_KERNEL,		/* the kernel's copy routines (copy_to/from_user, memcpy) */
	CG_COPY_USER,		/* libc's memcpy/memmove in the role's own process */
	CG_NET,			/* sockets, TCP/IP, devices, softirq: send and receive paths */
	CG_SCHED,		/* scheduling, wake-ups, waiting (poll, epoll) */
	CG_SYSCALL,		/* syscall entry and exit, descriptor look-ups */
	CG_MM,			/* page faults, page allocation, mappings, slab */
	CG_PROBES,		/* copylab's own BPF programs and their maps */
	CG_KERNEL_OTHER,	/* the rest of the kernel (file systems, pipes, io_uring, locks) */
	CG_USER_OTHER,		/* the role's own user code but libc's copies */
	CG_COUNT
};

/* "copy_kernel", ... as the record spells it. */
const char *cpu_group_name(enum cpu_group g);
/* "copying (kernel)", ... as the report and the docs say it. */
const char *cpu_group_title(enum cpu_group g);

/* One rule: a symbol's exact name, or a prefix ending in '*'. */
struct cpu_group_rule {
	enum cpu_group group;
	const char *pattern;
};
/* In order: the first rule that matches a symbol decides its group. */
extern const struct cpu_group_rule cpu_group_rules[];
extern const size_t cpu_group_nrules;

/* The group of a kernel symbol; CG_KERNEL_OTHER when no rule matches. */
enum cpu_group cpu_group_of_symbol(const char *name);

/* An address range of one group: from start to the next range's start. */
struct sym_range {
	uint64_t start;
	uint32_t group;
	uint32_t pad;
};

struct symgroups_info {
	size_t symbols;		/* text symbols read */
	size_t ranges;		/* ranges after merging neighbours of one group */
	bool addresses_hidden;	/* every address read as 0 (kptr_restrict, not root) */
	char copy_routines[512];	/* the copy symbols found, space-separated, for env.json */
};

/*
 * Builds the sorted ranges from /proc/kallsyms text: text symbols only (t,
 * T, w, W, and those of modules and BPF programs), each given its group,
 * sorted by address, neighbours of one group merged.  The number of ranges
 * written to out (at most cap), or -EINVAL (no symbol; or every address
 * hidden, info->addresses_hidden set), -ENOSPC (more than cap), -ENOMEM.
 */
long symgroups_build(const char *text, size_t len, struct sym_range *out, size_t cap,
		     struct symgroups_info *info);

/* The group of address `ip` in ranges built above; CG_KERNEL_OTHER before the first. */
enum cpu_group symgroups_find(const struct sym_range *r, size_t n, uint64_t ip);

#endif
