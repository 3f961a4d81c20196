/* SPDX-License-Identifier: MIT */
/*
 * Looking things up in the cells of a run read back (cells.h): what
 * `copylab plot`'s charts and report draw from, and the figures of a
 * record they show.
 */
#include "cells.h"

#include "harness/model/options.h"
#include "harness/model/scenario.h"
#include "harness/results/stats.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- lists, points, cells ------------------------------------------------- */

void list_add(struct list *l, const char *s)
{
	for (int i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], s))
			return;
	if (l->n < MAX_LIST)
		l->v[l->n++] = s;
}

bool point_eq(struct point a, struct point b)
{
	bool timed = a.time_s > 0 || b.time_s > 0;

	return (timed ? a.time_s == b.time_s : a.bytes == b.bytes) && a.block == b.block && a.conns == b.conns;
}

const char *point_size_text(struct point pt, char *buf, size_t len)
{
	if (pt.time_s > 0)
		snprintf(buf, len, "%g s", pt.time_s);
	else
		human_bytes(pt.bytes, buf, len);
	return buf;
}

static struct point point_of_cell(const struct rr_cell *c)
{
	return (struct point){ c->bytes, c->block, c->conns, c->time_s };
}

static void points_add(struct points *p, struct point pt)
{
	for (int i = 0; i < p->n; i++)
		if (point_eq(p->v[i], pt))
			return;
	if (p->n < MAX_LIST)
		p->v[p->n++] = pt;
}

/* By time for points bounded by time (after every sized one), else by bytes; then block, conns. */
static int cmp_point(const void *a, const void *b)
{
	const struct point *x = a, *y = b;

	if (x->time_s != y->time_s)
		return x->time_s < y->time_s ? -1 : 1;
	if (x->time_s == 0 && x->bytes != y->bytes)
		return x->bytes < y->bytes ? -1 : 1;
	if (x->block != y->block)
		return x->block < y->block ? -1 : 1;
	return x->conns < y->conns ? -1 : x->conns > y->conns;
}

struct list scenarios_of(const struct rr_dir *d)
{
	struct list l = { 0 };

	for (size_t i = 0; i < d->ncells; i++)
		list_add(&l, d->cell[i].scenario);
	return l;
}

struct list strategies_of(const struct rr_dir *d, const char *sc, const char *tr)
{
	struct list l = { 0 };

	for (size_t i = 0; i < d->ncells; i++)
		if (!strcmp(d->cell[i].scenario, sc) && (!tr || !strcmp(d->cell[i].transport, tr)))
			list_add(&l, d->cell[i].strategy);
	return l;
}

struct list transports_of(const struct rr_dir *d, const char *sc)
{
	struct list l = { 0 };

	for (size_t i = 0; i < d->ncells; i++)
		if (!strcmp(d->cell[i].scenario, sc))
			list_add(&l, d->cell[i].transport);
	return l;
}

/*
 * The cells bounded by time have their own charts (the interval series):
 * each of their reps moved its own count of bytes, so they are points of
 * the size charts only where a run has nothing else.
 */
struct points points_of(const struct rr_dir *d, const char *sc, const char *tr)
{
	struct points p = { 0 };

	for (int timed = 0; timed < 2 && p.n == 0; timed++)
		for (size_t i = 0; i < d->ncells; i++)
			if (!strcmp(d->cell[i].scenario, sc) && !strcmp(d->cell[i].transport, tr) &&
			    (d->cell[i].time_s > 0) == timed)
				points_add(&p, point_of_cell(&d->cell[i]));
	qsort(p.v, p.n, sizeof(p.v[0]), cmp_point);
	return p;
}

struct point representative(const struct points *p)
{
	struct point best = p->v[0];

	for (int i = 1; i < p->n; i++) {
		const struct point *c = &p->v[i];
		double dc = fabs(log2((double)c->block) - 16), db = fabs(log2((double)best.block) - 16);
		/* the longest run where the points are bounded by time (points_of gives one kind) */
		double zc = c->time_s > 0 ? c->time_s : (double)c->bytes;
		double zb = best.time_s > 0 ? best.time_s : (double)best.bytes;

		if (zc > zb || (zc == zb && dc < db) || (zc == zb && c->block == best.block && c->conns < best.conns))
			best = *c;
	}
	return best;
}

const struct rr_cell *find_cell(const struct rr_dir *d, const char *sc, const char *tr, struct point pt,
				const char *strategy)
{
	for (size_t i = 0; i < d->ncells; i++) {
		const struct rr_cell *c = &d->cell[i];

		if (!strcmp(c->scenario, sc) && !strcmp(c->transport, tr) && point_eq(point_of_cell(c), pt) &&
		    !strcmp(c->strategy, strategy))
			return c;
	}
	return NULL;
}

bool has_usable(const struct rr_dir *d, const char *sc, const char *tr)
{
	for (size_t i = 0; i < d->ncells; i++)
		if (!strcmp(d->cell[i].scenario, sc) && (!tr || !strcmp(d->cell[i].transport, tr)) &&
		    d->cell[i].nusable)
			return true;
	return false;
}

bool has_latency(const struct rr_dir *d, const char *sc)
{
	for (size_t i = 0; i < d->nrec; i++) {
		const char *rs = rr_str(d->rec[i], "scenario");

		if (rs && !strcmp(rs, sc) && json_is_object(json_object_get(d->rec[i], "latency")))
			return true;
	}
	return false;
}

const char *point_text(struct point pt, char *buf, size_t len)
{
	char a[48], b[48];

	/* block 0: only peers' records (peers.sh), which have no block of their own */
	if (pt.block)
		snprintf(buf, len, "%s%s, block %s", pt.time_s > 0 ? "for " : "", point_size_text(pt, a, sizeof(a)),
			 human_bytes(pt.block, b, sizeof(b)));
	else
		snprintf(buf, len, "%s (peers)", human_bytes(pt.bytes, a, sizeof(a)));
	if (pt.conns > 1)
		snprintf(buf + strlen(buf), len - strlen(buf), ", %u connections", pt.conns);
	return buf;
}

const char *scenario_path(const char *sc)
{
	int i = scenario_find(sc);

	return i >= 0 ? scenario_def(i)->path : "";
}

int roles_of(const struct rr_dir *d, const struct rr_cell *c, const char **out, int max)
{
	int sc = scenario_find(c->scenario), n = 0;

	if (sc >= 0) {
		const struct scenario_def *def = scenario_def(sc);

		for (int i = 0; i < def->nroles && n < max; i++)
			out[n++] = def->roles[i];
		return n;
	}
	if (c->nusable == 0)
		return 0;
	const char *key;
	json_t *role;

	if (c->tested_role)
		out[n++] = c->tested_role;
	json_object_foreach(json_object_get(d->rec[c->rec[0]], "roles"), key, role)
		if (n < max && (!c->tested_role || strcmp(key, c->tested_role)))
			out[n++] = key;
	return n;
}

/* ---- variants of a cell: cache, outstanding, pipe size, offered load ------- */

static const char *rec_cache(json_t *r)
{
	const char *c = rr_str(r, "cache");

	return c && *c ? c : "warm";
}

static int rec_outstanding(json_t *r)
{
	double v;

	return rr_num(r, "latency.outstanding", &v) && v >= 1 ? (int)v : 0;
}

static unsigned rec_rps(json_t *r)
{
	double v;

	return rr_num(r, "latency.offered_rps", &v) && v >= 1 ? (unsigned)v : 0;
}

bool rec_usable(json_t *r)
{
	const char *st = rr_str(r, "status"), *v = rr_str(r, "verify");

	return st && !strcmp(st, "ok") && !(v && !strcmp(v, "mismatch"));
}

static struct variant variant_of(json_t *r)
{
	return (struct variant){ rec_cache(r), rec_outstanding(r), rr_pipe_asked(r), rec_rps(r) };
}

static bool variant_eq(struct variant a, struct variant b)
{
	return !strcmp(a.cache, b.cache) && a.outstanding == b.outstanding && a.pipe == b.pipe && a.rps == b.rps;
}

static void variants_add(struct variants *vs, struct variant v)
{
	for (int k = 0; k < vs->n; k++)
		if (variant_eq(vs->v[k], v))
			return;
	if (vs->n < (int)(sizeof(vs->v) / sizeof(vs->v[0])))
		vs->v[vs->n++] = v;
}

/* Whether record R is of SC over TR, and of STRATEGY unless that is NULL. */
static bool rec_of(json_t *r, const char *sc, const char *tr, const char *strategy)
{
	const char *rs = rr_str(r, "scenario"), *rt = rr_str(r, "transport"), *st = rr_str(r, "strategy");

	return rs && rt && st && !strcmp(rs, sc) && !strcmp(rt, tr) && (!strategy || !strcmp(st, strategy));
}

/* Whether record R is of the data point (SC, TR, PT), and of STRATEGY unless that is NULL. */
static bool rec_at(json_t *r, const char *sc, const char *tr, struct point pt, const char *strategy)
{
	double t;
	struct point rp = {
		(uint64_t)json_integer_value(json_object_get(r, "bytes")),
		(uint64_t)json_integer_value(json_object_get(r, "block")),
		rr_conns(r), rr_num(r, "time_s", &t) && t > 0 ? t : 0,
	};

	return rec_of(r, sc, tr, strategy) && point_eq(rp, pt);
}

struct variants point_variants(const struct rr_dir *d, const char *sc, const char *tr, struct point pt)
{
	struct variants vs = { 0 };

	for (size_t i = 0; i < d->nrec; i++)
		if (rec_at(d->rec[i], sc, tr, pt, NULL))
			variants_add(&vs, variant_of(d->rec[i]));
	return vs;
}

/* Whether C is nearer the defaults than BEST: warm, the kernel's pipe, fewest outstanding, closed loop or least load. */
static bool nearer_defaults(struct variant c, struct variant best)
{
	int cw = !strcmp(c.cache, "warm"), bw = !strcmp(best.cache, "warm");

	if (cw != bw)
		return cw > bw;
	if ((c.pipe == 0) != (best.pipe == 0))
		return c.pipe == 0;
	if (c.outstanding != best.outstanding)
		return c.outstanding < best.outstanding;
	return c.rps < best.rps;
}

struct variant main_variant(const struct variants *vs)
{
	struct variant best = vs->n ? vs->v[0] : (struct variant){ "warm", 0, 0, 0 };

	for (int i = 1; i < vs->n; i++)
		if (nearer_defaults(vs->v[i], best))
			best = vs->v[i];
	return best;
}

/*
 * A cell of one variant: the usable records of C that have its cache,
 * outstanding and pipe size (rec is allocated: free it).  nreps counts
 * them all; 0 when C has no record of that variant.
 */
static int variant_cell(const struct rr_dir *d, const struct rr_cell *c, struct variant v, struct rr_cell *out)
{
	*out = *c;
	out->nreps = out->nusable = out->nverified = 0;
	out->rec = calloc(d->nrec + 1, sizeof(*out->rec));
	if (!out->rec)
		return -1;
	for (size_t i = 0; i < d->nrec; i++) {
		json_t *r = d->rec[i];

		if (!rec_at(r, c->scenario, c->transport, point_of_cell(c), c->strategy) ||
		    !variant_eq(variant_of(r), v))
			continue;
		out->nreps++;
		if (rec_usable(r)) {
			out->rec[out->nusable++] = i;
			if (json_is_true(json_object_get(r, "verified")))
				out->nverified++;
		}
	}
	return 0;
}

bool cell_in_variant(const struct rr_dir *d, const struct rr_cell *c, struct variant v, struct rr_cell *out)
{
	if (!c || variant_cell(d, c, v, out))
		return false;
	if (out->nreps == 0) {
		free(out->rec);
		out->rec = NULL;
		return false;
	}
	return true;
}

/*
 * A cold (or other) cache and a pipe size asked are always named; the
 * number outstanding when ALL has several; "default pipe" when another of
 * ALL asked for a pipe size.
 */
const char *variant_words(struct variant v, const struct variants *all, char *buf, size_t len)
{
	bool several_out = false, several_pipe = false, several_rps = false;
	char pipe[48];

	for (int i = 1; all && i < all->n; i++) {
		several_out |= all->v[i].outstanding != all->v[0].outstanding;
		several_pipe |= all->v[i].pipe != all->v[0].pipe;
		several_rps |= all->v[i].rps != all->v[0].rps;
	}
	buf[0] = '\0';
	if (!strcmp(v.cache, "cold"))
		snprintf(buf, len, "cold cache");
	else if (strcmp(v.cache, "warm"))
		snprintf(buf, len, "cache %s", v.cache);
	if (several_out && v.outstanding)
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%d outstanding", buf[0] ? ", " : "", v.outstanding);
	if (v.pipe)
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s pipe", buf[0] ? ", " : "",
			 human_bytes(v.pipe, pipe, sizeof(pipe)));
	else if (several_pipe)
		snprintf(buf + strlen(buf), len - strlen(buf), "%sdefault pipe", buf[0] ? ", " : "");
	if (v.rps || several_rps)
		snprintf(buf + strlen(buf), len - strlen(buf), v.rps ? "%s%u/s offered" : "%sclosed loop",
			 buf[0] ? ", " : "", v.rps);
	return buf;
}

const char *variant_suffix(struct variant v, const struct variants *all, char *buf, size_t len)
{
	char w[88];

	variant_words(v, all, w, sizeof(w));
	snprintf(buf, len, "%s%s%s", w[0] ? " (" : "", w, w[0] ? ")" : "");
	return buf;
}

struct point_cells point_cells_of(const struct rr_dir *d, const char *sc, const char *tr, struct point pt)
{
	struct point_cells pc = { sc, tr, pt, strategies_of(d, sc, tr), point_variants(d, sc, tr, pt), 0 };

	pc.n = pc.vs.n * pc.st.n;
	return pc;
}

bool point_cell(const struct rr_dir *d, const struct point_cells *pc, int k, struct rr_cell *out, char *suffix,
		size_t len)
{
	struct variant v = pc->vs.v[k / pc->st.n];

	if (!cell_in_variant(d, find_cell(d, pc->sc, pc->tr, pc->pt, pc->st.v[k % pc->st.n]), v, out))
		return false;
	variant_suffix(v, &pc->vs, suffix, len);
	return true;
}

/* ---- metrics of one record ------------------------------------------------ */

bool m_mbps(json_t *r, const void *arg, double *v)
{
	(void)arg;
	if (!rr_num(r, "bytes_per_s", v))
		return false;
	*v /= 1e6;
	return true;
}

static json_t *tested_role_of(json_t *r)
{
	const char *key;
	json_t *role;

	json_object_foreach(json_object_get(r, "roles"), key, role)
		if (json_is_true(json_object_get(role, "under_test")))
			return role;
	return NULL;
}

/*
 * The figure at path A of ROLE (plus the one at B unless that is NULL) in
 * UNITs (GIB for bytes, 1 for seconds and counts) per GiB of the payload;
 * false when one is absent.
 */
static bool role_per_gib(json_t *role, const char *a, const char *b, double unit, double gib, double *v)
{
	double x, y = 0;

	if (!rr_num(role, a, &x) || (b && !rr_num(role, b, &y)))
		return false;
	*v = (b ? x + y : x) / unit / gib;
	return true;
}

/*
 * The copy ledger of ROLE: `ledger`, the same fields whichever instrument
 * counted; records written before it have only the instrument's own
 * object, bpf or (unprivileged) tracer, with the same byte keys.
 */
static json_t *role_ledger(json_t *role)
{
	static const char *const keys[] = { "ledger", "bpf", "tracer" };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_t *l = json_object_get(role, keys[i]);

		if (json_is_object(l))
			return l;
	}
	return NULL;
}

/* The read, write and splice calls ledger L counted (ledger, tracer: calls; bpf: syscalls_by_family). */
static bool ledger_calls(json_t *l, double *n)
{
	static const char *const family[] = { "read", "write", "splice" };
	json_t *c = json_object_get(l, "calls");

	if (!json_is_object(c))
		c = json_object_get(l, "syscalls_by_family");
	if (!json_is_object(c))
		return false;
	*n = 0;
	for (size_t i = 0; i < sizeof(family) / sizeof(family[0]); i++) {
		double v;

		if (rr_num(c, family[i], &v))
			*n += v;
	}
	return true;
}

/*
 * An io_uring strategy under the tracer (or a BPF ledger older than its
 * io_uring probes) moves its bytes in completions the ledger never sees:
 * its 0 would read as "nothing copied", so it is no figure at all.
 */
static bool role_ledger_unseen(json_t *role, json_t *l)
{
	double seen, made;

	return l && !json_is_true(json_object_get(l, "io_uring_seen")) && ledger_calls(l, &seen) && seen == 0 &&
	       rr_num(role, "calls", &made) && made > 0;
}

static json_t *role_of(json_t *r, const char *name)
{
	return name ? json_object_get(json_object_get(r, "roles"), name) : tested_role_of(r);
}

bool ledger_unseen(json_t *r, const char *role)
{
	json_t *ro = role_of(r, role);

	return ro && role_ledger_unseen(ro, role_ledger(ro));
}

/* The ledger's bytes through user memory (RW_USERMEM) or in the kernel per GiB of the payload. */
static bool ledger_per_gib(json_t *role, enum role_what w, double gib, double *v)
{
	json_t *l = role_ledger(role);

	if (!l || role_ledger_unseen(role, l))
		return false;
	if (w == RW_USERMEM)
		return role_per_gib(l, "bytes_to_user", "bytes_from_user", GIB, gib, v);
	return role_per_gib(l, "bytes_in_kernel", NULL, GIB, gib, v);
}

/* The CPU sampler's figures of ROLE: W is one of RW_SAMPLED .. RW_GROUP. */
static bool cputime_per_gib(json_t *role, const struct role_metric *m, double gib, double *v)
{
	char path[64];

	switch (m->what) {
	case RW_SAMPLED:
		return role_per_gib(role, "cputime.sampled_s", NULL, 1, gib, v);
	case RW_COPY:
		return role_per_gib(role, "cputime.copy_s", NULL, 1, gib, v);
	case RW_PREDICTED_RESIDENT:
		return role_per_gib(role, "cputime.predicted_copy_s.resident", NULL, 1, gib, v);
	case RW_PREDICTED_DRAM:
		return role_per_gib(role, "cputime.predicted_copy_s.dram", NULL, 1, gib, v);
	case RW_GROUP:
		snprintf(path, sizeof(path), "cputime.groups.%s", cpu_group_name(m->group));
		return role_per_gib(role, path, NULL, 1, gib, v);
	default:
		return false;
	}
}

bool m_role(json_t *r, const void *arg, double *v)
{
	const struct role_metric *m = arg;
	json_t *role = role_of(r, m->role);
	double gib = json_integer_value(json_object_get(r, "bytes")) / GIB;

	if (!role || gib <= 0)
		return false;
	switch (m->what) {
	case RW_USER:
		return role_per_gib(role, "cpu_user_s", NULL, 1, gib, v);
	case RW_SYS:
		return role_per_gib(role, "cpu_sys_s", NULL, 1, gib, v);
	case RW_CPU:
		/* A peer's cpu_s (schedstat, ns) is finer than its tick-counted user and sys. */
		return role_per_gib(role, "cpu_s", NULL, 1, gib, v) ||
		       role_per_gib(role, "cpu_user_s", "cpu_sys_s", 1, gib, v);
	case RW_USERMEM:
	case RW_KERNEL:
		return ledger_per_gib(role, m->what, gib, v);
	case RW_SYSCALLS:
		return role_per_gib(role, "bpf.syscalls", NULL, 1, gib, v);
	case RW_CALLS:
		return role_per_gib(role, "calls", NULL, 1, gib, v);
	/*
	 * A role's own getrusage; a peer has none, only what copylab probe's
	 * BPF counted for it (sched_switch with it as prev; page_fault_user).
	 */
	case RW_CTX:
		return role_per_gib(role, "ctx_voluntary", "ctx_involuntary", 1, gib, v) ||
		       role_per_gib(role, "bpf.sched_switches", NULL, 1, gib, v);
	case RW_FAULTS:
		return role_per_gib(role, "faults_minor", "faults_major", 1, gib, v) ||
		       role_per_gib(role, "bpf.page_faults", NULL, 1, gib, v);
	case RW_SAMPLED:
	case RW_COPY:
	case RW_PREDICTED_RESIDENT:
	case RW_PREDICTED_DRAM:
	case RW_GROUP:
		return cputime_per_gib(role, m, gib, v);
	}
	return false;
}

double cell_metric_median(const struct rr_dir *d, const struct rr_cell *c, rr_metric m, const void *arg)
{
	double med, lo, hi;

	if (!c)
		return NAN;
	rr_cell_stat(d, c, m, arg, &med, &lo, &hi);
	return med;
}

double role_median(const struct rr_dir *d, const struct rr_cell *c, const char *role, enum role_what w)
{
	struct role_metric m = { role, w, 0 };

	return cell_metric_median(d, c, m_role, &m);
}

/* A rep's sampled CPU per GiB with the record, to find the median one. */
struct sampled_rep {
	double total;
	json_t *r;
};

static int cmp_sampled_rep(const void *a, const void *b)
{
	const struct sampled_rep *x = a, *y = b;

	return x->total < y->total ? -1 : x->total > y->total;
}

/* ROLE's CPU group G per GiB in record R; NAN when absent. */
static double group_per_gib(json_t *r, const char *role, enum cpu_group g)
{
	struct role_metric m = { role, RW_GROUP, g };
	double v;

	return m_role(r, &m, &v) ? v : NAN;
}

/*
 * The median repetition's split rather than each group's own median:
 * medians of parts need not add up to the median of the whole, and a
 * stacked bar must.
 */
bool role_split(const struct rr_dir *d, const struct rr_cell *c, const char *role, double groups[CG_COUNT],
		double *sampled)
{
	struct role_metric m = { role, RW_SAMPLED, 0 };
	struct sampled_rep *v = calloc(c->nusable + 1, sizeof(*v));
	size_t n = 0, lo, hi;

	if (!v)
		return false;
	for (size_t i = 0; i < c->nusable; i++) {
		json_t *r = d->rec[c->rec[i]];
		bool whole = true;

		for (int g = 0; g < CG_COUNT; g++)
			whole &= isfinite(group_per_gib(r, role, g));
		if (whole && m_role(r, &m, &v[n].total))
			v[n++].r = r;
	}
	if (n == 0) {
		free(v);
		return false;
	}
	qsort(v, n, sizeof(*v), cmp_sampled_rep);
	lo = (n - 1) / 2;
	hi = n / 2;
	*sampled = (v[lo].total + v[hi].total) / 2;
	for (int g = 0; g < CG_COUNT; g++)
		groups[g] = (group_per_gib(v[lo].r, role, g) + group_per_gib(v[hi].r, role, g)) / 2;
	free(v);
	return true;
}

const char *cell_metrics_note(const struct rr_dir *d, const struct rr_cell *c, const char *key)
{
	char path[64];

	snprintf(path, sizeof(path), "metrics.%s", key);
	for (size_t i = 0; i < c->nusable; i++) {
		const char *n = rr_str(d->rec[c->rec[i]], path);

		if (n)
			return n;
	}
	return NULL;
}

const char *cputime_missing(const struct rr_dir *d, const struct rr_cell *c, const char *role, char *buf,
			    size_t len)
{
	const char *n = cell_metrics_note(d, c, "cputime"), *absent = NULL;
	char path[96];

	role = role ? role : c->tested_role;
	snprintf(path, sizeof(path), "roles.%s", role ? role : "?");
	for (size_t i = 0; i < c->nusable && !absent; i++)
		if (!rr_get(d->rec[c->rec[i]], path))
			absent = rr_str(d->rec[c->rec[i]], "role_absent");
	if (absent)	/* no process played the role (nat: the kernel did its job) */
		snprintf(buf, len, "%s", absent);
	else if (!n)
		snprintf(buf, len, "the records predate the CPU sampler (no roles.ROLE.cputime)");
	else if (!strncmp(n, "ok", 2))	/* the sampler ran, but not over this role (no local process) */
		snprintf(buf, len, "roles.%s.cputime is null (metrics.cputime: %s)", role ? role : "?", n);
	else
		snprintf(buf, len, "%s", n);
	return buf;
}

const char *cell_limiting_role(const struct rr_dir *d, const struct rr_cell *c)
{
	for (size_t i = 0; i < c->nusable; i++) {
		const char *role = rr_str(d->rec[c->rec[i]], "limiting_role");
		size_t k = 0;

		if (!role)
			continue;
		for (size_t j = 0; j < c->nusable; j++) {
			const char *o = rr_str(d->rec[c->rec[j]], "limiting_role");

			k += o && !strcmp(o, role);
		}
		if (2 * k > c->nusable)
			return role;
	}
	return NULL;
}

/* ---- latency (echo) -------------------------------------------------------- */

/* A latency record's message size: latency.message_bytes, else its block. */
static uint64_t rec_message(json_t *r)
{
	double msg;

	if (!rr_num(r, "latency.message_bytes", &msg))
		msg = (double)json_integer_value(json_object_get(r, "block"));
	return (uint64_t)msg;
}

/* A latency record's answer size: latency.response_bytes, else (older records: an echo) its message's. */
static uint64_t rec_response(json_t *r)
{
	double n;

	return rr_num(r, "latency.response_bytes", &n) ? (uint64_t)n : rec_message(r);
}

/* Adds a row per (message, answer, outstanding, cache) of STRATEGY's latency records, no figures yet. */
static int lat_rows_of_strategy(const struct rr_dir *d, const char *sc, const char *tr, const char *strategy,
				struct lat_rows *lr, size_t *cap)
{
	size_t first = lr->n;

	for (size_t i = 0; i < d->nrec; i++) {
		json_t *r = d->rec[i];
		bool seen = false;

		if (!rec_of(r, sc, tr, strategy) || !json_is_object(json_object_get(r, "latency")))
			continue;
		for (size_t k = first; k < lr->n && !seen; k++)
			seen = lr->v[k].message == rec_message(r) && lr->v[k].response == rec_response(r) &&
			       lr->v[k].outstanding == rec_outstanding(r) &&
			       lr->v[k].rps == rec_rps(r) && !strcmp(lr->v[k].cache, rec_cache(r));
		if (seen)
			continue;
		if (lr->n == *cap) {
			size_t nc = *cap ? 2 * *cap : 32;
			struct lat_row *nv = realloc(lr->v, nc * sizeof(*nv));

			if (!nv)
				return -1;
			lr->v = nv;
			*cap = nc;
		}
		lr->v[lr->n++] = (struct lat_row){ strategy, rec_cache(r), rec_message(r), rec_response(r),
						   rec_outstanding(r), 0, rec_rps(r), NAN, NAN, NAN, NAN, NAN };
	}
	return 0;
}

/* ROW's figures over its usable records; v: five scratch arrays of d->nrec. */
static void lat_row_figures(const struct rr_dir *d, const char *sc, const char *tr, struct lat_row *row,
			    double *v[5])
{
	size_t n = 0, na = 0;

	for (size_t i = 0; i < d->nrec; i++) {
		json_t *r = d->rec[i];
		double a, b, c, m, got;

		if (!rec_of(r, sc, tr, row->strategy) || !rec_usable(r) ||
		    !json_is_object(json_object_get(r, "latency")) || rec_outstanding(r) != row->outstanding ||
		    rec_rps(r) != row->rps || strcmp(rec_cache(r), row->cache))
			continue;
		if (rec_message(r) != row->message || rec_response(r) != row->response ||
		    !rr_num(r, "latency.p50_us", &a) ||
		    !rr_num(r, "latency.p99_us", &b) || !rr_num(r, "latency.p999_us", &c) ||
		    !rr_num(r, "latency.max_us", &m))
			continue;
		v[0][n] = a;
		v[1][n] = b;
		v[2][n] = c;
		v[3][n] = m;
		if (rr_num(r, "latency.achieved_rps", &got))
			v[4][na++] = got;
		n++;
	}
	row->nreps = n;
	row->achieved = row->rps ? rr_median(v[4], na) : NAN;
	row->p50 = rr_median(v[0], n);
	row->p99 = rr_median(v[1], n);
	row->p999 = rr_median(v[2], n);
	row->max = stats_max(v[3], n);
}

static int cmp_lat_row(const void *a, const void *b)
{
	const struct lat_row *x = a, *y = b;

	if (x->outstanding != y->outstanding)
		return x->outstanding < y->outstanding ? -1 : 1;
	if (x->rps != y->rps)
		return x->rps < y->rps ? -1 : 1;
	if (x->message != y->message)
		return x->message < y->message ? -1 : 1;
	if (x->response != y->response)
		return x->response < y->response ? -1 : 1;
	return 0;
}

/* Sorts by (outstanding, offered load, message), keeping the strategy order within: qsort is not stable. */
static void lat_rows_sort(struct lat_rows *lr)
{
	for (size_t i = 1; i < lr->n; i++)
		for (size_t j = i; j > 0 && cmp_lat_row(&lr->v[j - 1], &lr->v[j]) > 0; j--) {
			struct lat_row t = lr->v[j];

			lr->v[j] = lr->v[j - 1];
			lr->v[j - 1] = t;
		}
}

struct lat_rows latency_rows(const struct rr_dir *d, const char *sc, const char *tr)
{
	struct lat_rows lr = { 0 };
	struct list st = strategies_of(d, sc, tr);
	double *v[5] = { NULL };
	size_t cap = 0;

	for (int k = 0; k < 5; k++)
		v[k] = calloc(d->nrec + 1, sizeof(double));
	if (!v[0] || !v[1] || !v[2] || !v[3] || !v[4])
		goto out;
	for (int s = 0; s < st.n; s++)
		if (lat_rows_of_strategy(d, sc, tr, st.v[s], &lr, &cap))
			goto out;
	for (size_t k = 0; k < lr.n; k++)
		lat_row_figures(d, sc, tr, &lr.v[k], v);
	lat_rows_sort(&lr);
out:
	for (int k = 0; k < 5; k++)
		free(v[k]);
	return lr;
}

bool lat_row_not_offered(const struct lat_row *r)
{
	return r->rps && isfinite(r->achieved) && r->achieved < LOAD_OFFERED_SHARE * r->rps;
}
