/* SPDX-License-Identifier: MIT */
/*
 * The figures the claims' judges read from a cell's records, and the
 * decisions they share (claims_figures.h).  A record from a copylab that
 * lacks a figure gives NAN, and a judge says it cannot be measured.
 */
#include "claims_figures.h"
#include "harness/results/stats.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- what judges write */

/* The text of fmt, or "" when it cannot be had: a judge's words never fail it. */
static char *vtext(const char *fmt, va_list ap)
{
	char *s = NULL;

	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	return s ? s : cr_strdup("");
}

void decide(struct judgement *j, enum verdict v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	free(j->why);
	j->why = vtext(fmt, ap);
	va_end(ap);
	j->verdict = v;
}

void by_construction(struct judgement *j, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	free(j->construction);
	j->construction = vtext(fmt, ap);
	va_end(ap);
}

const char *fmt_g(double v, char *buf, size_t len)
{
	if (isnan(v))
		snprintf(buf, len, "n/a");
	else
		snprintf(buf, len, "%.3g", v);
	return buf;
}

void paired_text(struct judgement *j, const struct crpaired *p)
{
	char a[32], b[32], c[32];

	if (p->n == 0) {
		MEASURE(j, "n/a (no paired repetitions)");
		return;
	}
	MEASURE(j, "%s [%s..%s] over %d paired reps (the interval covers their median with %.1f%%)",
		fmt_g(p->median, a, sizeof(a)), fmt_g(p->dlo, b, sizeof(b)), fmt_g(p->dhi, c, sizeof(c)),
		p->n, 100.0 * p->dlevel);
}

char *call_text(struct kcall k)
{
	char *s = NULL;

	if (k.ret < 0)
		cr_append(&s, "returned -1, errno %s (%s)", errno_name(k.err), strerror(k.err));
	else
		cr_append(&s, "returned %ld (success)", k.ret);
	return s;
}

/* ---------------------------------------------------------------- figures of a record */

static double num(json_t *obj, const char *path)
{
	double v;

	return rr_num(obj, path, &v) ? v : NAN;
}

/*
 * KEY of a role's copy ledger (CALLS: a family of its calls): from the
 * record's `ledger` (bytes of io_uring and zero-copy sends included), else
 * from the BPF ledger of which it is made (which alone has some counts,
 * the syscall total among them), else the tracer's; NAN when none has it.
 */
static double ledger_value(json_t *rec, const char *role, const char *key, bool calls)
{
	static const char *const source[] = { "ledger", "bpf", "tracer" };
	static const char *const calls_at[] = { "calls", "syscalls_by_family", "calls" };
	char path[160];
	double v;

	for (size_t k = 0; k < sizeof(source) / sizeof(source[0]); k++) {
		snprintf(path, sizeof(path), "roles.%s.%s.%s%s%s", role, source[k], calls ? calls_at[k] : "",
			 calls ? "." : "", key);
		if (rr_num(rec, path, &v))
			return v;
	}
	return NAN;
}

double fig_ledger_per_gib(json_t *rec, const void *arg)
{
	const struct role_key *rk = arg;
	double bytes = num(rec, "bytes");

	return bytes > 0 ? ledger_value(rec, rk->role, rk->key, false) / bytes : NAN;
}

double fig_ledger_calls(json_t *rec, const void *arg)
{
	const struct role_key *rk = arg;

	return ledger_value(rec, rk->role, rk->key, true);
}

/* A role's sampled copy seconds, or their samples (x rate_hz); role NULL: summed over every role. */
static double copy_of(json_t *rec, const char *role, bool samples)
{
	json_t *roles = json_object_get(rec, "roles"), *r;
	const char *name;
	double sum = 0;

	if (role) {
		json_t *ct = rr_get(json_object_get(roles, role), "cputime");

		return num(ct, "copy_s") * (samples ? num(ct, "rate_hz") : 1.0);
	}
	if (!json_is_object(roles) || !json_object_size(roles))
		return NAN;
	json_object_foreach(roles, name, r)
		sum += copy_of(rec, name, samples);
	return sum;
}

double fig_copy_per_gib(json_t *rec, const void *role)
{
	double bytes = num(rec, "bytes");

	return bytes > 0 ? copy_of(rec, role, false) / (bytes / GIB) : NAN;
}

double fig_copy_samples(json_t *rec, const void *role)
{
	return copy_of(rec, role, true);
}

double fig_system_cpu(json_t *rec, const void *unused)
{
	(void)unused;
	/* A figure of a few 10 ms ticks moves by a tick's worth from rep to rep: never a deciding one. */
	if (!json_is_true(rr_get(rec, "system_cpu.resolved")))
		return NAN;
	return num(rec, "system_cpu.busy_per_gib_s");
}

double fig_wakeups_per_chunk(json_t *rec, const void *role)
{
	char path[96];
	double chunks = num(rec, "bytes") / num(rec, "block");

	snprintf(path, sizeof(path), "roles.%s.ctx_voluntary", (const char *)role);
	return chunks > 0 ? num(rec, path) / chunks : NAN;
}

const char *group_str(const struct crgroup *g, const char *path)
{
	json_t *rec;
	size_t i;

	if (!g->cell || !g->cell->records)
		return NULL;
	json_array_foreach(g->cell->records, i, rec) {
		const char *s = cr_usable(rec, g->strategy, g->bytes) ? rr_str(rec, path) : NULL;

		if (s && *s)
			return s;
	}
	return NULL;
}

/* ---------------------------------------------------------------- deciding on a paired ratio */

enum side ratio_side(const struct crpaired *p)
{
	if (p->n == 0)
		return SIDE_NONE;
	if (p->n < CLAIMS_MIN_PAIRS)
		return SIDE_FEW;
	if (p->dhi < 1.0)
		return SIDE_BELOW;
	if (p->dlo > 1.0)
		return SIDE_ABOVE;
	return SIDE_ACROSS;
}

void decide_cost(struct judgement *j, const struct crpaired *p, enum cell_id cell,
		 const char *lower, const char *higher)
{
	j->reps = p->n;
	switch (ratio_side(p)) {
	case SIDE_NONE:
		decide(j, V_CANNOT, "no paired repetitions");
		break;
	case SIDE_FEW:
		j->more |= 1u << cell;
		decide(j, V_NODIFF, "only %d paired repetitions: fewer than %d decide nothing", p->n, CLAIMS_MIN_PAIRS);
		break;
	case SIDE_BELOW:
		decide(j, V_HOLDS, "%s", lower);
		break;
	case SIDE_ABOVE:
		decide(j, V_NOT, "%s", higher);
		break;
	default:
		j->more |= 1u << cell;
		decide(j, V_NODIFF, "the interval of the paired ratio includes 1.0");
	}
}

struct sys_ratio system_ratio(struct judgement *j, struct crcell *c, const char *a, const char *b, long bytes)
{
	struct crgroup g = { c, a, bytes };
	struct sys_ratio s = { .state = SYS_RESOLVED };
	struct crpaired shown = paired_ratio(c, a, b, bytes, "system_cpu.busy_per_gib_s");
	const char *method = group_str(&g, "system_cpu.method");
	int total = 0, missing = 0, unresolved = 0;
	double ticks = NAN;

	if (c && c->records)
		cr_resolution(c, a, b, bytes, &total, &missing, &unresolved, &ticks);
	s.p = paired_ratio_of(c, a, b, bytes, fig_system_cpu, NULL);
	if (unresolved) {
		char t[64] = "";

		if (!isnan(ticks))
			snprintf(t, sizeof(t), " rests on %.0f /proc/stat ticks (median), fewer than 20:", ticks);
		s.state = SYS_UNRESOLVED;
		snprintf(s.why, sizeof(s.why), "%d of %d repetitions' system-wide CPU%s too coarse to decide",
			 unresolved, total, *t ? t : " is unresolved:");
	} else if (!total) {
		s.state = SYS_MISSING;
		snprintf(s.why, sizeof(s.why), "no usable records of %s and %s", a, b);
	} else if (missing) {
		s.state = SYS_MISSING;
		snprintf(s.why, sizeof(s.why), "the records do not say whether their system-wide CPU is resolved "
			 "(no system_cpu.resolved: a copylab before it)");
	}
	MEASURE(j, "system-wide busy CPU per GiB%s%s%s, %s/%s ", method ? " (" : "", method ? method : "",
		method ? ")" : "", a, b);
	paired_text(j, &shown);
	if (s.state == SYS_UNRESOLVED)
		MEASURE(j, " — unresolved");
	return s;
}

bool sys_ratio_undecidable(struct judgement *j, const struct sys_ratio *s)
{
	if (s->state == SYS_MISSING)
		decide(j, V_CANNOT, "%s", s->why);
	else if (s->state == SYS_UNRESOLVED)
		decide(j, V_UNRESOLVED, "%s", s->why);
	return s->state != SYS_RESOLVED;
}

/* ---------------------------------------------------------------- the sampled copy time */

struct copy_cmp copy_compare(struct judgement *j, struct copy_side a, struct copy_side ref)
{
	struct copy_cmp c = { COPY_MEASURED, NAN, NAN, NAN, "" };
	double samples = cell_median_of(ref.g, fig_copy_samples, ref.role);
	const char *note;
	char x[32], y[32];

	c.a = cell_median_of(a.g, fig_copy_per_gib, a.role);
	c.ref = cell_median_of(ref.g, fig_copy_per_gib, ref.role);
	if (isnan(c.a) || isnan(c.ref)) {
		note = group_str(a.g, "metrics.cputime");
		if (!note)
			note = group_str(ref.g, "metrics.cputime");
		c.state = COPY_UNMEASURED;
		snprintf(c.why, sizeof(c.why), "no sampled copy time: %s",
			 note ? note : "the records have no roles' cputime (a copylab before the CPU sampler)");
		MEASURE(j, "sampled copy time: not measured (%s)", note ? note : "no cputime in the records");
		return c;
	}
	c.share = c.a / c.ref;
	MEASURE(j, "sampled copy time per GiB: %s %s s, %s %s s (%.0f%% of %s's; %.0f samples)",
		a.label, fmt_g(c.a, x, sizeof(x)), ref.label, fmt_g(c.ref, y, sizeof(y)),
		100 * c.share, ref.label, samples);
	if (!(samples >= COPY_MIN_SAMPLES)) {
		c.state = COPY_TOO_FEW;
		snprintf(c.why, sizeof(c.why), "%s's copy time rests on %.0f samples, fewer than %.0f: too few to compare",
			 ref.label, samples, COPY_MIN_SAMPLES);
	}
	return c;
}

struct crpaired role_copy_ratio(const struct crgroup *g, const char *role_a, const char *ref)
{
	struct crpaired p = { 0, NAN, NAN, NAN, 0, NAN, NAN, 0, NAN, NAN, 0 };
	size_t i, n = 0;
	json_t *rec;
	double *v;

	if (!g->cell || !g->cell->records || !(v = calloc(json_array_size(g->cell->records) + 1, sizeof(*v))))
		return p;
	json_array_foreach(g->cell->records, i, rec) {
		double a, r;

		if (!cr_usable(rec, g->strategy, g->bytes))
			continue;
		a = fig_copy_per_gib(rec, role_a);
		r = fig_copy_per_gib(rec, ref);
		if (isfinite(a) && isfinite(r) && r > 0)
			v[n++] = a / r;
	}
	if (n) {
		struct stats_summary s = stats_summarize(v, n);
		struct stats_interval d = stats_median_interval_at(v, n, CR_DECISION_LEVEL);

		p = (struct crpaired){ (int)n, s.median, s.min, s.max, stats_minmax_level(n),
				       s.ci.lo, s.ci.hi, s.ci.level, d.lo, d.hi, d.level };
	}
	free(v);
	return p;
}

/* ---------------------------------------------------------------- the role that limited a cell */

struct limiter {
	const char *role;
	int count;
};

/* Counts REC's limiting role in L (up to 8 names) when it is a fixed role; the number of names. */
static int count_limiter(json_t *rec, struct limiter *l, int n)
{
	const char *role = rr_str(rec, "limiting_role");
	json_t *r = role ? json_object_get(json_object_get(rec, "roles"), role) : NULL;
	int k = 0;

	if (!json_is_object(r) || json_is_true(json_object_get(r, "under_test")))
		return n;
	while (k < n && strcmp(l[k].role, role))
		k++;
	if (k == n) {
		if (n == 8)
			return n;
		l[n++] = (struct limiter){ role, 0 };
	}
	l[k].count++;
	return n;
}

const char *fixed_limiter(const struct crgroup *a, const struct crgroup *b, double *busy)
{
	struct limiter l[8];
	int n = 0, total = 0, best = -1;
	char path[96];
	json_t *rec;
	size_t i;

	*busy = NAN;
	if (!a->cell || !a->cell->records)
		return NULL;
	json_array_foreach(a->cell->records, i, rec) {
		if (!cr_usable(rec, a->strategy, a->bytes) && !cr_usable(rec, b->strategy, b->bytes))
			continue;
		total++;
		n = count_limiter(rec, l, n);
	}
	for (int k = 0; k < n; k++)
		if (best < 0 || l[k].count > l[best].count)
			best = k;
	/* Most of the repetitions of both: a limit of one or two says nothing of the cell. */
	if (best < 0 || 2 * l[best].count <= total)
		return NULL;
	snprintf(path, sizeof(path), "roles.%s.busy", l[best].role);
	*busy = cell_median(a, path);
	return l[best].role;
}

/* ---------------------------------------------------------------- what the copy ledger and the sampler say */

/* Whether the sampled copy time shows a copy: measured, and above the share of a copy not made. */
bool copied(const struct copy_cmp *c)
{
	return c->state == COPY_MEASURED && c->share > COPY_NONE_SHARE;
}

/* "A copies nothing through user memory", decided on the sampled copy time against readwrite's. */
void decide_no_copy(struct judgement *j, const struct copy_cmp *c, const char *who)
{
	if (c->state != COPY_MEASURED)
		decide(j, V_CANNOT, "%s", c->why);
	else if (copied(c))
		decide(j, V_NOT, "%s spent %.0f%% of readwrite's copy time per GiB: the bytes were copied", who,
		       100 * c->share);
	else
		decide(j, V_HOLDS, "%s spent %.0f%% of readwrite's copy time per GiB: no copy of the payload", who,
		       100 * c->share);
}

/* The ledger's "to user, from user, in kernel" of ROLE, GiB per GiB (medians), into a[3]. */
void ledger_of(const struct crgroup *g, const char *role, double a[3])
{
	const struct role_key k[3] = {
		{ role, "bytes_to_user" }, { role, "bytes_from_user" }, { role, "bytes_in_kernel" },
	};

	for (int i = 0; i < 3; i++)
		a[i] = cell_median_of(g, fig_ledger_per_gib, &k[i]);
}
