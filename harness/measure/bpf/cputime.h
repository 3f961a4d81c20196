/* SPDX-License-Identifier: MIT */
/*
 * What cputime.bpf.c and cputime.c share: the per-role sample counters by
 * CPU group (harness/measure/cpugroups.h numbers the groups) and the size
 * of the address-range table.
 */
#ifndef COPYLAB_CPUTIME_BPF_H
#define COPYLAB_CPUTIME_BPF_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Must equal CG_COUNT and its order (cputime.c checks). */
#define CT_GROUPS		9
#define CT_GROUP_COPY_USER	1
#define CT_GROUP_KERNEL_OTHER	7
#define CT_GROUP_USER_OTHER	8
/* Ranges of kernel text by group; about 12,500 on a 6.x kernel. */
#define CT_MAX_RANGES		32768
#define CT_SEARCH_STEPS		15	/* 2^15 = CT_MAX_RANGES */
/* libc's copy routines as resolved in the roles' process image. */
#define CT_USER_COPY_RANGES	8

struct ct_range {
	__u64 start;
	__u32 group;
	__u32 pad;
};

/* One slot's samples on one CPU; user space sums the CPUs. */
struct ct_counters {
	__u64 samples[CT_GROUPS];
};

#endif
