/* SPDX-License-Identifier: MIT */
/* System-wide CPU: /proc/stat's first line in seconds, and the ledger's idle nanoseconds. */
#include "sysstat.h"
#include "bpf/ledger.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int read_proc_stat(struct system_cpu *out)
{
	unsigned long long v[8] = { 0 };
	double hz = (double)sysconf(_SC_CLK_TCK);
	FILE *f = fopen("/proc/stat", "re");
	int n;

	if (!f)
		return -1;
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu",
		   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	if (n < 7 || hz <= 0)
		return -1;
	out->have = true;
	out->tick_s = 1.0 / hz;
	out->user_s = v[0] / hz;
	out->nice_s = v[1] / hz;
	out->system_s = v[2] / hz;
	out->idle_s = v[3] / hz;
	out->iowait_s = v[4] / hz;
	out->irq_s = v[5] / hz;
	out->softirq_s = v[6] / hz;
	out->steal_s = v[7] / hz;
	return 0;
}

int system_cpu_read(struct system_cpu *out, struct ledger *l)
{
	struct ledger_idle idle;
	struct timespec ts;

	memset(out, 0, sizeof(*out));
	if (read_proc_stat(out))
		return -1;
	if (l && ledger_idle(l, &idle) == 0) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		out->mono_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
		out->have_ns = true;
		out->idle_ns = idle.idle_ns;
		out->steal_busy_ns = idle.steal_busy_ns;
		out->steal_clock_ns = idle.steal_clock_ns;
		out->have_steal_clock = idle.have_steal_clock;
		out->ncpus = idle.ncpus;
	}
	return 0;
}

/*
 * Whether the nanosecond figure is free of steal: the runqueues' steal
 * clocks moved (so the steal in tasks' stretches is known and taken out),
 * or /proc/stat saw less than two ticks of it in the window.
 */
static bool steal_separable(const struct system_cpu *a, const struct system_cpu *b, double steal_s)
{
	if (steal_s < 2 * b->tick_s)
		return true;
	return a->have_steal_clock && b->have_steal_clock && b->steal_clock_ns > a->steal_clock_ns;
}

struct system_cpu system_cpu_delta(const struct system_cpu *a, const struct system_cpu *b)
{
	struct system_cpu d = { 0 };

	if (!a->have || !b->have)
		return d;
	d = (struct system_cpu){
		.have = true,
		.tick_s = b->tick_s,
		.user_s = b->user_s - a->user_s, .nice_s = b->nice_s - a->nice_s,
		.system_s = b->system_s - a->system_s, .idle_s = b->idle_s - a->idle_s,
		.iowait_s = b->iowait_s - a->iowait_s, .irq_s = b->irq_s - a->irq_s,
		.softirq_s = b->softirq_s - a->softirq_s, .steal_s = b->steal_s - a->steal_s,
	};
	if (a->have_ns && b->have_ns && b->mono_ns >= a->mono_ns && b->idle_ns >= a->idle_ns &&
	    b->steal_busy_ns >= a->steal_busy_ns && steal_separable(a, b, d.steal_s)) {
		double wall = (b->mono_ns - a->mono_ns) / 1e9, idle = (b->idle_ns - a->idle_ns) / 1e9;
		double stolen = (b->steal_busy_ns - a->steal_busy_ns) / 1e9;
		double busy = wall * b->ncpus - idle - stolen;

		d.have_ns = true;
		d.ncpus = b->ncpus;
		d.idle_ns = b->idle_ns - a->idle_ns;
		d.mono_ns = b->mono_ns - a->mono_ns;
		d.steal_busy_ns = b->steal_busy_ns - a->steal_busy_ns;
		d.steal_busy_s = stolen;
		d.busy_ns_s = busy > 0 ? busy : 0;
	}
	return d;
}

static double ticks_busy_s(const struct system_cpu *s)
{
	return s->user_s + s->nice_s + s->system_s + s->irq_s + s->softirq_s;
}

double system_cpu_busy(const struct system_cpu *s)
{
	return s->have_ns ? s->busy_ns_s : ticks_busy_s(s);
}

double system_cpu_busy_ticks(const struct system_cpu *s)
{
	return s->tick_s > 0 ? ticks_busy_s(s) / s->tick_s : 0;
}

bool system_cpu_resolved(const struct system_cpu *s)
{
	return s->have && (s->have_ns || system_cpu_busy_ticks(s) + 0.5 >= SYSTEM_CPU_MIN_TICKS);
}

const char *system_cpu_method(const struct system_cpu *s)
{
	return s->have_ns ? "bpf idle ns" : "/proc/stat ticks";
}
