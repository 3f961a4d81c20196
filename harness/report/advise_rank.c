/* SPDX-License-Identifier: MIT */
/*
 * Ranking with tie groups, verdicts and the pick: see advise_rank.h.  A
 * ranked order alone invents differences (four strategies at 0.800 s/GiB,
 * one /proc/stat tick apart, printed as 1. 2. 3. 4.); every order here
 * rests on a paired interval.
 */
#include "advise_rank.h"

#include "harness/results/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *rank_verdict_text(enum rank_verdict v)
{
	switch (v) {
	case RV_LEADER: return "leader";
	case RV_APART: return "apart";
	case RV_SUGGESTIVE: return "suggestive";
	case RV_NODIFF: return "no difference measured";
	case RV_UNRESOLVED: return "unresolved";
	case RV_UNPAIRED: return "not paired";
	case RV_NOFIGURE: return "no figure";
	}
	return "?";
}

/* How many usable records of A and B have a system-wide CPU too coarse to decide; their median ticks. */
static int unresolved_of(const struct crcell *c, const char *a, const char *b, long bytes, double *ticks)
{
	int total, missing, unresolved;
	double t;

	cr_resolution(c, a, b, bytes, &total, &missing, &unresolved, &t);
	if (ticks)
		*ticks = t;
	return unresolved;
}

enum rank_verdict rank_tell(struct crcell *c, const char *a, const char *b, long bytes,
			    const struct advise_metric *m, struct crpaired *p)
{
	*p = paired_ratio_of(c, a, b, bytes, m->fig, m->arg);
	if (m->tick_counted && unresolved_of(c, a, b, bytes, NULL) > 0)
		return RV_UNRESOLVED;
	if (p->n == 0 || isnan(p->lo) || isnan(p->hi))
		return RV_UNPAIRED;
	if (p->lo <= 1.0 && p->hi >= 1.0)
		return RV_NODIFF;
	return p->level >= ADVISE_APART_LEVEL ? RV_APART : RV_SUGGESTIVE;
}

/* Better first; no figure last. */
static bool better(const struct advise_metric *m, double a, double b)
{
	if (isnan(a))
		return false;
	if (isnan(b))
		return true;
	return m->higher_better ? a > b : a < b;
}

/* The verdicts that mean "cannot be told apart": such a strategy joins the group. */
static bool joins(enum rank_verdict v)
{
	return v == RV_NODIFF || v == RV_UNRESOLVED;
}

static void sort_by_median(struct ranking *k)
{
	for (int i = 1; i < k->n; i++)
		for (int j = i; j > 0 && better(k->m, k->r[j].median, k->r[j - 1].median); j--) {
			struct ranked t = k->r[j];

			k->r[j] = k->r[j - 1];
			k->r[j - 1] = t;
		}
}

/* Stable: by group (no figure last), the order by median kept within a group. */
static void sort_by_group(struct ranking *k)
{
	for (int i = 1; i < k->n; i++)
		for (int j = i; j > 0; j--) {
			int a = k->r[j].group ? k->r[j].group : ADVISE_MAX + 1;
			int b = k->r[j - 1].group ? k->r[j - 1].group : ADVISE_MAX + 1;
			struct ranked t;

			if (a >= b)
				break;
			t = k->r[j];
			k->r[j] = k->r[j - 1];
			k->r[j - 1] = t;
		}
}

/* Groups: each strategy not yet placed starts one, and takes in those it cannot be told from. */
static void group(struct crcell *c, long bytes, struct ranking *k)
{
	int g = 0;
	struct crpaired p;

	for (int i = 0; i < k->n; i++) {
		if (k->r[i].group || isnan(k->r[i].median))
			continue;
		k->r[i].group = ++g;
		for (int j = i + 1; j < k->n; j++)
			if (!k->r[j].group && !isnan(k->r[j].median) &&
			    joins(rank_tell(c, k->r[j].label, k->r[i].label, bytes, k->m, &p))) {
				k->r[j].group = g;
				k->r[j].tied = true;
			}
	}
}

/* The figure's one verdict, from the leader's group and the next group's first. */
static enum rank_verdict overall(const struct ranking *k)
{
	enum rank_verdict v = RV_LEADER;

	for (int i = 1; i < k->n; i++) {
		if (k->r[i].group == 1 && k->r[i].verdict == RV_UNRESOLVED)
			return RV_UNRESOLVED;
		if (k->r[i].group == 1)
			v = RV_NODIFF;
	}
	if (v == RV_NODIFF)
		return v;
	for (int i = 1; i < k->n; i++)
		if (k->r[i].group == 2)
			return k->r[i].verdict;
	return v;
}

struct ranking rank_by(struct crcell *c, const char *const *labels, int n, long bytes,
		       const struct advise_metric *m)
{
	struct ranking k = { .m = m, .ticks = NAN };

	for (int i = 0; i < n && k.n < ADVISE_MAX; i++) {
		struct crgroup g = { c, labels[i], bytes };
		struct ranked *r = &k.r[k.n++];

		*r = (struct ranked){ .label = labels[i], .verdict = RV_NOFIGURE };
		r->median = cell_median_of(&g, m->fig, m->arg);
	}
	sort_by_median(&k);
	group(c, bytes, &k);
	sort_by_group(&k);
	for (int i = 0; i < k.n; i++) {
		struct ranked *r = &k.r[i];

		if (isnan(r->median))
			r->verdict = RV_NOFIGURE;
		else if (i == 0)
			r->verdict = RV_LEADER;
		else
			r->verdict = rank_tell(c, r->label, k.r[0].label, bytes, m, &r->p);
	}
	k.verdict = k.n ? overall(&k) : RV_NOFIGURE;
	if (m->tick_counted && k.n > 1)
		k.unresolved_reps = unresolved_of(c, k.r[0].label, k.r[1].label, bytes, &k.ticks);
	return k;
}

const struct ranked *ranking_find(const struct ranking *k, const char *label)
{
	for (int i = 0; i < k->n; i++)
		if (!strcmp(k->r[i].label, label))
			return &k->r[i];
	return NULL;
}

struct advice advise_pick(struct crcell *c, long bytes, const struct ranking *thru, const struct ranking *cost,
			  bool paced_by_fixed_role)
{
	struct advice a = { .paced_by_fixed_role = paced_by_fixed_role };
	double best = NAN;
	struct crpaired p;

	for (int i = 0; i < thru->n && a.ncandidates < ADVISE_MAX; i++)
		if (thru->r[i].group == 1 || (paced_by_fixed_role && thru->r[i].group))
			a.candidates[a.ncandidates++] = thru->r[i].label;
	for (int i = 0; i < a.ncandidates; i++) {
		const struct ranked *r = ranking_find(cost, a.candidates[i]);

		if (r && better(cost->m, r->median, best)) {
			best = r->median;
			a.pick = a.candidates[i];
		}
	}
	/* No candidate has the CPU figure (no process plays the role): throughput alone decides. */
	if (!a.pick && a.ncandidates)
		a.pick = a.candidates[0];
	for (int i = 0; i < a.ncandidates; i++) {
		const struct ranked *r = ranking_find(cost, a.candidates[i]);
		enum rank_verdict v;

		if (!a.pick || a.candidates[i] == a.pick || !r || isnan(r->median))
			continue;
		v = rank_tell(c, a.candidates[i], a.pick, bytes, cost->m, &p);
		if (v == RV_UNRESOLVED)
			a.cost_unresolved = true;
		if (joins(v))
			a.peers[a.npeers++] = a.candidates[i];
	}
	return a;
}
