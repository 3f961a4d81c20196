/* SPDX-License-Identifier: MIT */
/* /proc/stat's first line, in seconds. */
#include "sysstat.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

int system_cpu_read(struct system_cpu *out)
{
	unsigned long long v[8] = { 0 };
	double hz = (double)sysconf(_SC_CLK_TCK);
	FILE *f = fopen("/proc/stat", "re");
	int n;

	memset(out, 0, sizeof(*out));
	if (!f)
		return -1;
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu",
		   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	if (n < 7 || hz <= 0)
		return -1;
	*out = (struct system_cpu){
		.have = true,
		.user_s = v[0] / hz, .nice_s = v[1] / hz, .system_s = v[2] / hz,
		.idle_s = v[3] / hz, .iowait_s = v[4] / hz, .irq_s = v[5] / hz,
		.softirq_s = v[6] / hz, .steal_s = v[7] / hz,
	};
	return 0;
}

struct system_cpu system_cpu_delta(const struct system_cpu *a, const struct system_cpu *b)
{
	if (!a->have || !b->have)
		return (struct system_cpu){ 0 };
	return (struct system_cpu){
		.have = true,
		.user_s = b->user_s - a->user_s, .nice_s = b->nice_s - a->nice_s,
		.system_s = b->system_s - a->system_s, .idle_s = b->idle_s - a->idle_s,
		.iowait_s = b->iowait_s - a->iowait_s, .irq_s = b->irq_s - a->irq_s,
		.softirq_s = b->softirq_s - a->softirq_s, .steal_s = b->steal_s - a->steal_s,
	};
}

double system_cpu_busy(const struct system_cpu *s)
{
	return s->user_s + s->nice_s + s->system_s + s->irq_s + s->softirq_s;
}
