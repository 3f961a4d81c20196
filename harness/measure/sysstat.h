/* SPDX-License-Identifier: MIT */
/*
 * System-wide CPU over a window: the work the kernel does for a role
 * outside the role's own accounting (loopback receive in softirq,
 * kworkers, a sockmap redirect, NAT) is only visible here.  Two sources:
 * /proc/stat (10 ms ticks, per kind of work) and, where the BPF ledger is
 * loaded, each CPU's idle time in nanoseconds from the idle task's
 * switches; busy time is then wall time times the CPUs minus idle, minus
 * the hypervisor's steal that fell while tasks held the CPUs (a vCPU not
 * running at all looks, from inside, like its task running on).  Where
 * that steal cannot be told apart (no steal clock to read, and /proc/stat
 * saw steal), the ticks serve, which leave steal out.  A figure backed by
 * fewer than SYSTEM_CPU_MIN_TICKS ticks and no nanosecond source is
 * "unresolved": too coarse to decide anything.
 */
#ifndef COPYLAB_SYSSTAT_H
#define COPYLAB_SYSSTAT_H

#include <stdbool.h>
#include <stdint.h>

#define SYSTEM_CPU_MIN_TICKS 20

struct ledger;

struct system_cpu {
	bool have;
	double user_s, nice_s, system_s, idle_s, iowait_s, irq_s, softirq_s, steal_s;
	double tick_s;		/* one /proc/stat tick */
	/* the nanosecond source: idle ns summed over CPUs, at mono_ns */
	bool have_ns;
	uint64_t idle_ns, mono_ns;
	/* steal in tasks' stretches, and all the steal the runqueues' clocks saw (ns, over CPUs) */
	uint64_t steal_busy_ns, steal_clock_ns;
	bool have_steal_clock;
	int ncpus;
	double busy_ns_s;	/* in a delta: wall x CPUs - idle - steal_busy_s, seconds */
	double steal_busy_s;	/* in a delta: the steal taken out of busy_ns_s */
};

/* The machine's CPU time so far (all CPUs summed); l (may be NULL) adds the ns source. */
int system_cpu_read(struct system_cpu *out, struct ledger *l);
/* b - a, field by field. */
struct system_cpu system_cpu_delta(const struct system_cpu *a, const struct system_cpu *b);
/*
 * CPU seconds spent working: from the nanosecond source when the delta has
 * it, else /proc/stat's everything but idle, iowait and steal.
 */
double system_cpu_busy(const struct system_cpu *s);
/* /proc/stat's busy ticks in a delta. */
double system_cpu_busy_ticks(const struct system_cpu *s);
/* Whether the delta's busy figure is fine enough to decide on (see above). */
bool system_cpu_resolved(const struct system_cpu *s);
/* "bpf idle ns" or "/proc/stat ticks", for the record. */
const char *system_cpu_method(const struct system_cpu *s);

#endif
