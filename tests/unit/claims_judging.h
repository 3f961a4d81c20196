/* SPDX-License-Identifier: MIT */
/*
 * What the claims' unit tests share (test_claims.c, test_claims_seeds.c):
 * synthetic cells built from JSON records with the figures a run writes,
 * and the assertions that judge a claim on them.  Included once per test
 * program, so its functions are static.
 */
#ifndef COPYLAB_TEST_CLAIMS_JUDGING_H
#define COPYLAB_TEST_CLAIMS_JUDGING_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/report/claims.h"
#include "harness/report/claims_figures.h"

#define UNUSED __attribute__((unused))

#define B64 67108864L
#define B16 16777216L
/* Paired repetitions of a synthetic cell: the fewest a verdict decides on (CLAIMS_MIN_PAIRS). */
#define NREPS CLAIMS_MIN_PAIRS
#define NOSAMPLER "\"metrics\":{\"cputime\":\"the CPU sampler needs root\"}"

/* ---------------------------------------------------------------- synthetic cells */

/* Appends a usable record (status ok, 64 KiB blocks) of STRATEGY at REP and BYTES, with FMT's members. */
static inline void add(json_t *arr, const char *strategy, int rep, long bytes, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static inline void add(json_t *arr, const char *strategy, int rep, long bytes, const char *fmt, ...)
{
	char figs[2048], text[2400];
	json_error_t err;
	json_t *r;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(figs, sizeof(figs), fmt, ap);
	va_end(ap);
	snprintf(text, sizeof(text), "{\"strategy\":\"%s\",\"status\":\"ok\",\"rep\":%d,\"bytes\":%ld,"
		 "\"block\":65536%s%s}", strategy, rep, bytes, *figs ? "," : "", figs);
	r = json_loads(text, 0, &err);
	if (!r)
		print_error("%s: %s\n", text, err.text);
	assert_non_null(r);
	json_array_append_new(arr, r);
}

static inline struct crcell *cell_of(json_t *arr)
{
	struct rr_csv none = { 0 };

	return cell_new(arr, &none);
}

/* A role's sampled CPU: COPY seconds in the copy routines at 1000 Hz; COPY < 0: no sampler here. */
static inline const char *cputime(double copy, char *buf, size_t len)
{
	if (copy < 0)
		snprintf(buf, len, "\"cputime\":null");
	else
		snprintf(buf, len, "\"cputime\":{\"rate_hz\":1000,\"samples\":400,\"sampled_s\":0.4,\"copy_s\":%g,"
			 "\"copy_share\":0.1,\"predicted_copy_s\":null}", copy);
	return buf;
}

/* The system-wide CPU per GiB: resolved from the nanosecond source, or from too few ticks. */
static inline const char *system_cpu(double busy, bool resolved, char *buf, size_t len)
{
	snprintf(buf, len, "\"system_cpu\":{\"busy_per_gib_s\":%g,\"method\":\"%s\",\"resolved\":%s,\"busy_ticks\":%d}",
		 busy, resolved ? "bpf idle ns" : "/proc/stat ticks", resolved ? "true" : "false", resolved ? 80 : 12);
	return buf;
}

static inline struct claim_evidence evidence(void)
{
	return (struct claim_evidence){ .size = "64M", .size_small = "16M", .transport = "tcp" };
}

/* Judges claim ID on EV: its verdict must be WANT and its reason hold WHY; the judgement is returned. */
static inline struct judgement judged(const char *id, const struct claim_evidence *ev, enum verdict want, const char *why)
{
	const struct claim *c = claim_find(id);
	struct judgement j;

	assert_non_null(c);
	j = claim_judge_run(c, ev);
	if (j.verdict != want || !strstr(j.why, why))
		print_error("%s: got \"%s\" (%s), measured: %s\n", id, verdict_text(j.verdict), j.why, j.measurement);
	assert_int_equal(j.verdict, want);
	assert_non_null(strstr(j.why, why));
	assert_true(*j.measurement);
	return j;
}

static inline void expect(const char *id, const struct claim_evidence *ev, enum verdict want, const char *why)
{
	struct judgement j = judged(id, ev, want, why);

	judgement_free(&j);
}

/* As expect(), and the judgement states what holds by construction, holding WHAT. */
static inline void expect_built(const char *id, const struct claim_evidence *ev, enum verdict want, const char *why,
			 const char *what)
{
	struct judgement j = judged(id, ev, want, why);

	if (!strstr(j.construction, "by construction") || !strstr(j.construction, what))
		print_error("%s: by construction: \"%s\"\n", id, j.construction);
	assert_non_null(strstr(j.construction, "by construction"));
	assert_non_null(strstr(j.construction, what));
	judgement_free(&j);
}

/* As expect(), and the judgement asks for more repetitions of CELL, having decided on REPS. */
static inline void expect_more(const char *id, const struct claim_evidence *ev, const char *why, enum cell_id cell, int reps)
{
	struct judgement j = judged(id, ev, V_NODIFF, why);

	assert_true(j.more & (1u << cell));
	assert_int_equal(j.reps, reps);
	judgement_free(&j);
}

static inline void drop(struct claim_evidence *ev, enum cell_id id)
{
	cell_free(ev->cell[id].run);
	ev->cell[id].run = NULL;
}

/* As expect(), with cell ID run by C, freed after. */
static inline void expect_on(struct claim_evidence *ev, enum cell_id id, struct crcell *c, const char *claim,
		      enum verdict want, const char *why)
{
	ev->cell[id].run = c;
	expect(claim, ev, want, why);
	drop(ev, id);
}

#endif
