/* SPDX-License-Identifier: MIT */
/* A role's ledger, CPU groups and busy share as every reader states them (role_figures.h). */
#include "role_figures.h"

#include <math.h>
#include <string.h>

/* Bytes the kernel really did not copy: what the role's zero-copy sends took, less the copied. */
static uint64_t not_copied(const struct zerocopy_counters *zc)
{
	if (!zc->reported || zc->bytes < zc->bytes_copied)
		return 0;
	return zc->bytes - zc->bytes_copied;
}

static void from_bpf(struct role_ledger *l, const struct ledger_counts *c)
{
	const uint64_t *u = c->uring.cqe_bytes;

	l->source = "bpf";
	l->calls_read = c->by_family[LF_READ];
	l->calls_write = c->by_family[LF_WRITE];
	l->calls_splice = c->by_family[LF_SPLICE];
	l->to_user = c->bytes_to_user;
	l->from_user = c->bytes_from_user;
	l->in_kernel = c->bytes_in_kernel;
	l->io_uring_seen = c->uring.have;
	if (c->uring.have) {
		/* A READ or RECV completes into the role's buffer; WRITE and SEND take from it. */
		l->to_user += u[LU_READ] + u[LU_RECV];
		l->from_user += u[LU_WRITE] + u[LU_SEND];
		l->in_kernel += u[LU_SPLICE];
	}
}

static void from_tracer(struct role_ledger *l, const struct copytrace_totals *t)
{
	l->source = "tracer";
	l->calls_read = t->calls[CT_READ];
	l->calls_write = t->calls[CT_WRITE];
	/* The tracer keeps vmsplice apart; the BPF ledger counts it with the splice family. */
	l->calls_splice = t->calls[CT_SPLICE] + t->vmsplice_calls;
	l->to_user = t->bytes[CT_READ];
	l->from_user = t->bytes[CT_WRITE];
	l->in_kernel = t->bytes[CT_SPLICE] + t->vmsplice_bytes;
}

struct role_ledger role_ledger_of(const struct role_result *ro)
{
	struct role_ledger l;
	uint64_t nc;

	memset(&l, 0, sizeof(l));
	if (ro->have_ledger)
		from_bpf(&l, &ro->ledger);
	else if (ro->have_tracer)
		from_tracer(&l, &ro->tracer);
	else
		return l;
	l.have = true;
	/* Sends that took the role's pages without copying did not cross the boundary. */
	nc = not_copied(&ro->zc);
	l.zerocopy_not_copied = nc;
	l.from_user = l.from_user > nc ? l.from_user - nc : 0;
	return l;
}

struct role_cputime role_cputime_of(const struct role_result *ro, const struct memcpy_rate *rate)
{
	struct role_cputime t;
	const struct cpusample_counts *c = &ro->cputime;
	double cpu = ro->cpu_user_s + ro->cpu_sys_s;
	struct role_ledger l = role_ledger_of(ro);

	memset(&t, 0, sizeof(t));
	t.copy_share = t.predicted_resident_s = t.predicted_dram_s = NAN;
	if (!ro->have_cputime || c->period_s <= 0)
		return t;
	t.have = true;
	t.samples = c->total;
	t.rate_hz = 1.0 / c->period_s;
	t.sampled_s = c->total * c->period_s;
	for (int g = 0; g < CG_COUNT; g++)
		t.group_s[g] = c->samples[g] * c->period_s;
	t.copy_s = t.group_s[CG_COPY_KERNEL] + t.group_s[CG_COPY_USER];
	if (cpu > 0)
		t.copy_share = t.copy_s / cpu;
	if (rate && rate->have && l.have) {
		double bytes = (double)(l.to_user + l.from_user);

		t.predicted_resident_s = bytes / rate->resident_bytes_per_s;
		t.predicted_dram_s = bytes / rate->dram_bytes_per_s;
	}
	return t;
}

double role_busy(const struct rep_result *rep, const struct role_result *ro)
{
	/* steal: time the role held a CPU the host was not running, left out of its CPU time */
	double stolen = ro->have_ledger ? ro->ledger.steal_ns / 1e9 : 0;

	if (!(rep->wall_s > 0))
		return NAN;
	return (ro->cpu_user_s + ro->cpu_sys_s + stolen) / rep->wall_s;
}

int limiting_role(const struct rep_result *rep)
{
	int best = -1;
	double most = LIMITING_BUSY;

	for (int i = 0; i < rep->nroles && i < MAX_ROLES; i++) {
		double b = role_busy(rep, &rep->roles[i]);

		if (b >= most) {
			most = b;
			best = i;
		}
	}
	return best;
}
