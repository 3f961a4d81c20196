/* SPDX-License-Identifier: MIT */
/*
 * Runs bounded by time (--time) and interval series (--interval), the
 * parent's side: the readings it takes every interval while it waits for
 * the roles' reports, and the count a timed stream's receivers must agree
 * on with its source.
 */
#ifndef COPYLAB_TIMED_H
#define COPYLAB_TIMED_H

#include "rep.h"
#include "watch.h"
#include "harness/results/series.h"

#include <sys/types.h>

/* --time: the ring the source repeats (the default --size, so the source's cache footprint is a sized run's). */
#define TIME_RING (64ull << 20)

/* What the parent reads every interval; inactive (series NULL) without --interval. */
struct rep_sampler {
	struct interval_series *series;
	int64_t t0, period_ns, next_ns;
	int nroles;
	pid_t pid[MAX_ROLES];
	bool local[MAX_ROLES];		/* a process of this host the parent can read */
	const struct rep_watch *watch;
	int bytes_role;			/* whose progress counts the bytes; -1: the tested transfer; -2: none */
};

/*
 * At the release (t0), with c->interval_s: the baseline reading of the
 * roles (ctx, pid; local: a process here the parent can read), the bytes
 * from where timed_bytes_role says (sampled: the tested transfer is in w).
 * 0, or -ENOMEM (the run goes on without a series: null in its record).
 */
int sampler_start(struct rep_sampler *s, const struct run_config *c, const struct role_ctx *ctx, int nroles,
		  const pid_t *pid, const bool *local, const struct rep_watch *w, bool sampled, int64_t t0);
/* How long the parent may sleep before the next reading is due (at most ms). */
int sampler_wait_ms(const struct rep_sampler *s, int64_t now, int ms);
/* A reading when one is due. */
void sampler_tick(struct rep_sampler *s, int64_t now);
/* The last reading, when every role has reported; the series goes to the caller. */
struct interval_series *sampler_finish(struct rep_sampler *s, int64_t now);
void sampler_drop(struct rep_sampler *s);

/*
 * Where the receiving side's bytes are counted: the tested role's
 * transfer where its output is memory or a file (and the parent can see
 * it: sampled), else the local fixed role that receives (sink, reader,
 * client); -2 when no count can be seen (its receiver is on a far host).
 */
int timed_bytes_role(enum scenario sc, const struct role_ctx *ctx, const bool *local, int nroles, bool sampled);

/*
 * --time: every role that verified must have verified exactly what the
 * source sent.  0 with *total the source's count, or -EIO with note saying
 * which role counted what.
 */
int timed_count_check(const struct role_report *rep, const struct role_ctx *ctx, const char *const names[],
		      const bool *absent, int nroles, uint64_t *total, char *note, size_t len);

#endif
