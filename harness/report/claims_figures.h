/* SPDX-License-Identifier: MIT */
/*
 * What the claims' judges share: the figures they read from a cell's
 * records (the copy ledger, the sampled copy time, the system-wide CPU
 * and whether it is resolved, the role that limited a cell) and how they
 * write a judgement from them.  Pure functions of the records.
 */
#ifndef COPYLAB_CLAIMS_FIGURES_H
#define COPYLAB_CLAIMS_FIGURES_H

#include "claims.h"

#include "harness/model/base.h"

/*
 * No ratio is decided on fewer pairs: 8 is the fewest whose min..max covers
 * their median with 99% (CR_DECISION_LEVEL; 99.2%).  claims looks again as
 * it adds repetitions, and at 95% a look falls outside by chance alone more
 * than once in twenty: two back-to-back runs on a quiet machine disagreed
 * on one claim (at 6 pairs, [1.09..1.32]; at 15, [0.92..1.13]).
 */
#define CLAIMS_MIN_PAIRS 8
/* A copy counts as not made when its sampled time is at most this share of the reference's. */
#define COPY_NONE_SHARE 0.10
/* A reference copy time of fewer samples is too coarse to compare against. */
#define COPY_MIN_SAMPLES 10.0

#define MEASURE(j, ...) cr_append(&(j)->measurement, __VA_ARGS__)

void decide(struct judgement *j, enum verdict v, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Sets the judgement's by-construction statement. */
void by_construction(struct judgement *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *fmt_g(double v, char *buf, size_t len);
/* "x [lo..hi] over n paired reps (the interval covers their median with c%)" */
void paired_text(struct judgement *j, const struct crpaired *p);
/* "returned -1, errno EINVAL (Invalid argument)" or "returned 7 (success)"; malloc'd. */
char *call_text(struct kcall k);

/* ---------------------------------------------------------------- figures of a record */

/* A role and a ledger key: "relay", "bytes_to_user". */
struct role_key {
	const char *role;
	const char *key;
};

/*
 * The ledger's bytes (or count) of a role per byte moved (GiB per GiB):
 * from the record's roles.ROLE.ledger, else roles.ROLE.bpf (older records,
 * and counts the ledger object does not repeat), else .tracer.
 */
double fig_ledger_per_gib(json_t *rec, const void *role_key);
/* The ledger's calls of a family ("read", "write", "splice") of a role, from the same sources. */
double fig_ledger_calls(json_t *rec, const void *role_key);
/* A role's sampled copy seconds per GiB moved; role NULL: every role's summed. NAN without a sampler. */
double fig_copy_per_gib(json_t *rec, const void *role);
/* How many samples a role's copy time rests on (copy_s x rate_hz). */
double fig_copy_samples(json_t *rec, const void *role);
/* system_cpu.busy_per_gib_s when system_cpu.resolved is true, else NAN. */
double fig_system_cpu(json_t *rec, const void *unused);
/* A role's voluntary switches (wake-ups) per chunk of the record's block. */
double fig_wakeups_per_chunk(json_t *rec, const void *role);

/* The first usable record's string at PATH, or NULL. */
const char *group_str(const struct crgroup *g, const char *path);

/* ---------------------------------------------------------------- deciding */

/* Where a paired ratio's interval lies against 1.0. */
enum side { SIDE_NONE, SIDE_FEW, SIDE_BELOW, SIDE_ABOVE, SIDE_ACROSS };

enum side ratio_side(const struct crpaired *p);

/*
 * A paired ratio of a cost (lower is better) decides: holds when its
 * interval lies below 1.0, does not when above; else no difference, and
 * CELL's added repetitions could decide it.
 */
void decide_cost(struct judgement *j, const struct crpaired *p, enum cell_id cell,
		 const char *lower, const char *higher);

/* The system-wide CPU per GiB of A over B, and whether it may decide. */
struct sys_ratio {
	enum { SYS_RESOLVED, SYS_MISSING, SYS_UNRESOLVED } state;
	struct crpaired p;
	char why[256];		/* SYS_MISSING, SYS_UNRESOLVED: why it may not decide */
};

/* Measures it and appends "system-wide busy CPU per GiB, A/B x [lo..hi] ..." to the measurement. */
struct sys_ratio system_ratio(struct judgement *j, struct crcell *c, const char *a, const char *b, long bytes);
/*
 * Decides the judgement when the ratio may not decide it (missing: cannot
 * be measured; unresolved: unresolved); true when it did.
 */
bool sys_ratio_undecidable(struct judgement *j, const struct sys_ratio *s);

/* A's sampled copy time against a reference's. */
struct copy_cmp {
	enum { COPY_UNMEASURED, COPY_TOO_FEW, COPY_MEASURED } state;
	double a, ref;		/* seconds per GiB, medians */
	double share;		/* a / ref */
	char why[256];		/* unmeasured, too few: why */
};

struct copy_side {
	const struct crgroup *g;
	const char *role;	/* NULL: every role of the record */
	const char *label;	/* as the measurement names it */
};

/* Compares, and appends "sampled copy time per GiB: A x s, REF y s (z% of REF's)". */
struct copy_cmp copy_compare(struct judgement *j, struct copy_side a, struct copy_side ref);

/*
 * ROLE_A's sampled copy time over REF's, rep by rep, where both roles ran
 * in the same records of G (a server and its client): the median of the
 * per-rep ratios and the interval a verdict decides on (dlo..dhi).  A rep
 * holds some tens of copy samples, so one rep's ratio moves by a third;
 * the interval says how far the median can.
 */
struct crpaired role_copy_ratio(const struct crgroup *g, const char *role_a, const char *ref);

/* Whether the sampled copy time shows a copy: measured, and above the share of a copy not made. */
bool copied(const struct copy_cmp *c);
/* "WHO copies nothing through user memory", decided on the sampled copy time against readwrite's. */
void decide_no_copy(struct judgement *j, const struct copy_cmp *c, const char *who);
/* The ledger's "to user, from user, in kernel" of ROLE, GiB per GiB (medians), into a[3]. */
void ledger_of(const struct crgroup *g, const char *role, double a[3]);

/*
 * The fixed role (not the one under test) that limited most usable records
 * of A and B (busy >= 0.9, the record's limiting_role), or NULL; *busy its
 * median busy share.
 */
const char *fixed_limiter(const struct crgroup *a, const struct crgroup *b, double *busy);

#endif
