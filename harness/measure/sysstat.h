/* SPDX-License-Identifier: MIT */
/*
 * System-wide CPU over a window, from /proc/stat: the work the kernel does
 * for a role outside the role's own accounting (loopback receive in
 * softirq, kworkers, a sockmap redirect, NAT) is only visible here.
 */
#ifndef COPYLAB_SYSSTAT_H
#define COPYLAB_SYSSTAT_H

#include <stdbool.h>

struct system_cpu {
	bool have;
	double user_s, nice_s, system_s, idle_s, iowait_s, irq_s, softirq_s, steal_s;
};

/* The machine's CPU time so far (all CPUs summed). */
int system_cpu_read(struct system_cpu *out);
/* b - a, field by field. */
struct system_cpu system_cpu_delta(const struct system_cpu *a, const struct system_cpu *b);
/* Everything but idle, iowait and steal: CPU seconds spent working. */
double system_cpu_busy(const struct system_cpu *s);

#endif
