/* SPDX-License-Identifier: MIT */
/*
 * How `copylab advise` ranks strategies on one figure and picks one: each
 * strategy's ratio to the leader, paired by repetition, with its interval;
 * tie groups of strategies the intervals cannot tell apart; one verdict
 * per figure; and the recommendation that weighs throughput against CPU.
 * Pure functions of a cell's records, so the unit tests feed them
 * synthetic ones.
 */
#ifndef COPYLAB_ADVISE_RANK_H
#define COPYLAB_ADVISE_RANK_H

#include <stdbool.h>

#include "cellrun.h"

#define ADVISE_MAX 32
/*
 * A pair of intervals that excludes 1.0 is "apart" from this coverage on:
 * below it (min..max of 5 or fewer pairs covers the median with 93.75% at
 * most) it is "suggestive", and more repetitions would settle it.
 */
#define ADVISE_APART_LEVEL 0.95

/* A figure advise ranks by: a record's value, which way is better, how it is shown. */
struct advise_metric {
	const char *title;	/* "throughput", "CPU of the relay per GiB" */
	const char *unit;	/* "MB/s", "s/GiB", "µs" */
	double scale;		/* shown = value * scale */
	int decimals;		/* shown with */
	bool higher_better;
	cr_figure fig;
	const void *arg;
	/* The figure is system-wide CPU: a record whose /proc/stat ticks were too few cannot decide. */
	bool tick_counted;
};

/* How one strategy compares with another on a figure. */
enum rank_verdict {
	RV_LEADER,	/* it is the one compared against */
	RV_APART,	/* the paired interval excludes 1.0 at 95% or more */
	RV_SUGGESTIVE,	/* it excludes 1.0, with fewer pairs than 95% needs */
	RV_NODIFF,	/* the interval holds 1.0 */
	RV_UNRESOLVED,	/* a figure rests on too few clock ticks */
	RV_UNPAIRED,	/* no repetition of both */
	RV_NOFIGURE,	/* this strategy has no such figure (no process plays the role) */
};

const char *rank_verdict_text(enum rank_verdict v);

struct ranked {
	const char *label;
	double median;		/* the figure's median over usable reps, unscaled; NAN: none */
	int group;		/* 1: the leader's tie group, 2: the next ...; 0: no figure */
	bool tied;		/* in its group but not its first */
	enum rank_verdict verdict;	/* against the leader */
	struct crpaired p;	/* this / the leader */
};

struct ranking {
	const struct advise_metric *m;
	int n;
	struct ranked r[ADVISE_MAX];	/* by group, then by median, best first; no figure last */
	/*
	 * The figure's one verdict: the leader against the nearest other.
	 * RV_NODIFF or RV_UNRESOLVED when its group holds more than the
	 * leader; RV_APART or RV_SUGGESTIVE when the next group's first is
	 * apart; RV_LEADER when only one strategy has the figure.
	 */
	enum rank_verdict verdict;
	int unresolved_reps;	/* tick_counted: records too coarse to decide */
	double ticks;		/* their median ticks; NAN if none */
};

/*
 * A's figure over B's, paired by repetition at BYTES, and what it says:
 * apart, suggestive, no difference, unresolved, unpaired.
 */
enum rank_verdict rank_tell(struct crcell *c, const char *a, const char *b, long bytes,
			    const struct advise_metric *m, struct crpaired *p);

/*
 * Ranks LABELS (N of them) on M over C's records of BYTES: the best first;
 * each next strategy the intervals cannot tell from a group's first joins
 * that group.  Rank and verdict never contradict: a strategy ranked below
 * the leader's group is apart from (or suggestively below) the leader.
 */
struct ranking rank_by(struct crcell *c, const char *const *labels, int n, long bytes,
		       const struct advise_metric *m);

/* The ranked entry of LABEL, or NULL. */
const struct ranked *ranking_find(const struct ranking *k, const char *label);

/* What advise recommends for one workload. */
struct advice {
	const char *pick;		/* NULL when nothing has a figure */
	const char *peers[ADVISE_MAX];	/* within noise of the pick on both figures */
	int npeers;
	/* The pick's candidates: the throughput leader's group, or all when a fixed role set the pace. */
	const char *candidates[ADVISE_MAX];
	int ncandidates;
	bool paced_by_fixed_role;
	bool cost_unresolved;		/* the CPU figure could not tell the candidates apart */
};

/*
 * The strategy to choose: among the candidates (THRU's leading group, or
 * every strategy when a fixed role set the throughput), the one with the
 * lowest COST; the peers are the candidates the cost cannot tell from it.
 */
struct advice advise_pick(struct crcell *c, long bytes, const struct ranking *thru, const struct ranking *cost,
			  bool paced_by_fixed_role);

#endif
