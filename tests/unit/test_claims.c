/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the claims' judges (harness/report/claims_table.c): each
 * judge given synthetic cells, built from a few JSON records and a
 * summary.csv, and a synthetic direct check, for every verdict it can give.
 * A new claim's test needs only records like these.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/report/claims.h"

#define UNUSED __attribute__((unused))

/* ---------------------------------------------------------------- synthetic cells */

/*
 * One usable record of STRATEGY at repetition REP (64 MiB, status ok),
 * with FIGURES as more JSON members: "\"roles\":{\"relay\":{...}}".
 */
static const char *rec(const char *strategy, int rep, const char *figures)
{
	static char buf[32][1024];
	static int next;
	char *b = buf[next++ % 32];

	snprintf(b, sizeof(buf[0]), "{\"strategy\":\"%s\",\"status\":\"ok\",\"rep\":%d,\"bytes\":67108864%s%s}",
		 strategy, rep, *figures ? "," : "", figures);
	return b;
}

/* A cell of RECORDS (JSON texts, NULL-terminated) and SUMMARY (summary.csv's text, or NULL). */
static struct crcell *cell_of(const char *const *records, const char *summary)
{
	json_t *arr = json_array();
	struct rr_csv csv = { 0 };
	char err[256];

	for (size_t i = 0; records && records[i]; i++) {
		json_t *r = json_loads(records[i], 0, NULL);

		assert_non_null(r);
		json_array_append_new(arr, r);
	}
	if (summary)
		assert_int_equal(rr_csv_parse(summary, "summary.csv", &csv, err, sizeof(err)), 0);
	return cell_new(arr, &csv);
}

static struct claim_evidence evidence(void)
{
	return (struct claim_evidence){ .size = "64M", .size_small = "16M", .transport = "tcp" };
}

/* Judges claim ID on EV: its verdict must be WANT and its reason hold WHY. */
static void expect(const char *id, const struct claim_evidence *ev, enum verdict want, const char *why)
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
	judgement_free(&j);
}

/* ---------------------------------------------------------------- a paired cost: splice-relay-less-cpu */

/* A relay cell of three paired reps: splice's relay CPU per GiB over readwrite's is each of RATIO. */
static struct crcell *relay_cpu(const double ratio[3])
{
	char fig[3][256];
	const char *recs[7];

	for (int i = 0; i < 3; i++) {
		snprintf(fig[i], sizeof(fig[i]),
			 "\"roles\":{\"relay\":{\"cpu_per_gib_s\":%g}},\"system_cpu\":{\"busy_per_gib_s\":1}", ratio[i]);
		recs[2 * i] = rec("splice", i, fig[i]);
		recs[2 * i + 1] = rec("readwrite", i, "\"roles\":{\"relay\":{\"cpu_per_gib_s\":1}},"
					  "\"system_cpu\":{\"busy_per_gib_s\":1}");
	}
	recs[6] = NULL;
	return cell_of(recs, NULL);
}

static void test_splice_relay_less_cpu(void **state UNUSED)
{
	static const double lower[3] = { 0.5, 0.6, 0.7 }, higher[3] = { 1.2, 1.5, 1.3 };
	static const double across[3] = { 0.9, 1.1, 1.0 };
	struct claim_evidence ev = evidence();
	const char *only_readwrite[] = { rec("readwrite", 0, "\"roles\":{\"relay\":{\"cpu_per_gib_s\":1}}"), NULL };

	ev.cell[CELL_RELAY].run = relay_cpu(lower);
	expect("splice-relay-less-cpu", &ev, V_HOLDS, "lower in every pair");
	cell_free(ev.cell[CELL_RELAY].run);

	ev.cell[CELL_RELAY].run = relay_cpu(higher);
	expect("splice-relay-less-cpu", &ev, V_NOT, "higher in every pair");
	cell_free(ev.cell[CELL_RELAY].run);

	ev.cell[CELL_RELAY].run = relay_cpu(across);
	expect("splice-relay-less-cpu", &ev, V_NODIFF, "the paired range includes 1.0");
	cell_free(ev.cell[CELL_RELAY].run);

	ev.cell[CELL_RELAY].run = cell_of(only_readwrite, NULL);
	expect("splice-relay-less-cpu", &ev, V_CANNOT, "no paired repetitions");
	cell_free(ev.cell[CELL_RELAY].run);
}

/* The measurement names both medians and the paired ratio with its range and coverage. */
static void test_splice_relay_less_cpu_measurement(void **state UNUSED)
{
	static const double lower[3] = { 0.5, 0.6, 0.7 };
	struct claim_evidence ev = evidence();
	struct judgement j;

	ev.cell[CELL_RELAY].run = relay_cpu(lower);
	j = claim_judge_run(claim_find("splice-relay-less-cpu"), &ev);
	assert_string_equal(j.measurement,
			    "relay CPU per GiB: readwrite 1 s, splice 0.6 s (medians); splice/readwrite "
			    "0.6 [0.5..0.7] over 3 paired reps (min..max covers the median with 75.0%); "
			    "system-wide busy CPU per GiB, splice/readwrite "
			    "1 [1..1] over 3 paired reps (min..max covers the median with 75.0%)");
	judgement_free(&j);
	cell_free(ev.cell[CELL_RELAY].run);
}

/* ---------------------------------------------------------------- summary intervals: zero-copy-faster */

/* summary.csv of one strategy's row: its throughput ratio to readwrite and its interval. */
static struct crcell *ratio_row(const char *strategy, double lo, double median, double hi)
{
	char csv[512];

	snprintf(csv, sizeof(csv),
		 "strategy,bytes,ratio_vs_readwrite_median,ratio_ci_lo,ratio_ci_hi,difference\n"
		 "readwrite,67108864,1,1,1,\n"
		 "%s,67108864,%g,%g,%g,%s\n", strategy, median, lo, hi,
		 lo > 1 ? "faster" : hi < 1 ? "slower" : "no difference measured");
	return cell_of(NULL, csv);
}

static void faster(struct claim_evidence *ev, const double serve[3], const double relay[3])
{
	ev->cell[CELL_SERVE].run = ratio_row("sendfile", serve[0], serve[1], serve[2]);
	ev->cell[CELL_RELAY].run = ratio_row("splice", relay[0], relay[1], relay[2]);
}

static void unfaster(struct claim_evidence *ev)
{
	cell_free(ev->cell[CELL_SERVE].run);
	cell_free(ev->cell[CELL_RELAY].run);
}

static void test_zero_copy_faster(void **state UNUSED)
{
	static const double above[3] = { 1.1, 1.2, 1.3 }, below[3] = { 0.7, 0.8, 0.9 };
	static const double across[3] = { 0.9, 1.0, 1.1 };
	struct claim_evidence ev = evidence();

	faster(&ev, above, above);
	expect("zero-copy-faster", &ev, V_HOLDS, "both intervals lie above 1.0");
	unfaster(&ev);

	faster(&ev, below, below);
	expect("zero-copy-faster", &ev, V_NOT, "both intervals lie below 1.0: on tcp there is no NIC");
	unfaster(&ev);

	faster(&ev, below, across);
	expect("zero-copy-faster", &ev, V_NOT, "one interval lies below 1.0 and none above");
	unfaster(&ev);

	faster(&ev, across, across);
	expect("zero-copy-faster", &ev, V_NODIFF, "so a saved copy shows in CPU, not in throughput");
	unfaster(&ev);

	faster(&ev, above, below);
	expect("zero-copy-faster", &ev, V_NODIFF, "only one of the two intervals lies above 1.0 and the other below");
	unfaster(&ev);

	/* The serve row is of another size than the plan's: no ratio to read. */
	ev.size = "256M";
	faster(&ev, above, above);
	expect("zero-copy-faster", &ev, V_CANNOT, "a cell has no ratio");
	unfaster(&ev);
}

/* ---------------------------------------------------------------- a cell that may not run: nat-no-process */

static void test_nat_no_process(void **state UNUSED)
{
	const char *no_relay[] = {
		rec("nat", 0, "\"roles\":{\"client\":{},\"server\":{}},\"system_cpu\":{\"busy_per_gib_s\":1}"),
		rec("readwrite", 0, "\"roles\":{\"relay\":{\"bytes\":67108864}},\"system_cpu\":{\"busy_per_gib_s\":2}"),
		NULL,
	};
	const char *with_relay[] = { rec("nat", 0, "\"roles\":{\"relay\":{\"bytes\":67108864}}"), NULL };
	const char *failed[] = { "{\"strategy\":\"nat\",\"status\":\"failed\",\"rep\":0,\"bytes\":67108864}", NULL };
	struct claim_evidence ev = evidence();

	expect("nat-no-process", &ev, V_CANNOT, "not yet in copylab");

	ev.cell[CELL_NAT].strategy = "nat";
	ev.cell[CELL_NAT].not_run = "nat writes nftables rules in a network namespace, which needs root (CAP_NET_ADMIN)";
	expect("nat-no-process", &ev, V_CANNOT, "nat needs root here");

	ev.cell[CELL_NAT].not_run = NULL;
	ev.cell[CELL_NAT].run = cell_of(no_relay, NULL);
	expect("nat-no-process", &ev, V_HOLDS, "no relay process");
	cell_free(ev.cell[CELL_NAT].run);

	ev.cell[CELL_NAT].run = cell_of(with_relay, NULL);
	expect("nat-no-process", &ev, V_NOT, "a relay process took part");
	cell_free(ev.cell[CELL_NAT].run);

	ev.cell[CELL_NAT].run = cell_of(failed, NULL);
	expect("nat-no-process", &ev, V_CANNOT, "the nat cell did not run here");
	cell_free(ev.cell[CELL_NAT].run);
}

/* ---------------------------------------------------------------- a direct check: gift-needs-alignment */

static void test_gift_needs_alignment(void **state UNUSED)
{
	struct claim_evidence ev = evidence();
	const char *none[] = { NULL };

	ev.cell[CELL_PIPE].run = cell_of(none, NULL);
	ev.check = (struct kcheck){ .call = { -1, EINVAL }, .aligned = { 4096, 0 } };
	expect("gift-needs-alignment", &ev, V_HOLDS, "the kernel refused the unaligned gift");

	ev.check = (struct kcheck){ .call = { 1000, 0 }, .aligned = { 4096, 0 }, .data_intact = true };
	expect("gift-needs-alignment", &ev, V_NOT, "accepted an unaligned gift");

	ev.check = (struct kcheck){ .call = { -1, EFAULT }, .aligned = { -1, EFAULT } };
	expect("gift-needs-alignment", &ev, V_CANNOT, "the check itself failed: returned -1, errno EFAULT");
	cell_free(ev.cell[CELL_PIPE].run);
}

/* ---------------------------------------------------------------- the table */

/* Every claim has its texts, a judge, and cells or a direct check; ids are unique. */
static void test_table_is_complete(void **state UNUSED)
{
	assert_true(claim_count >= 13);
	for (size_t i = 0; i < claim_count; i++) {
		const struct claim *c = &claim_table[i];

		assert_true(*c->id && *c->statement && *c->source && *c->figure && *c->expectation);
		assert_non_null(c->judge);
		assert_true(c->cells[0] != CELL_NONE || c->check);
		assert_ptr_equal(claim_find(c->id), c);
	}
	assert_null(claim_find("no-such-claim"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_splice_relay_less_cpu),
		cmocka_unit_test(test_splice_relay_less_cpu_measurement),
		cmocka_unit_test(test_zero_copy_faster),
		cmocka_unit_test(test_nat_no_process),
		cmocka_unit_test(test_gift_needs_alignment),
		cmocka_unit_test(test_table_is_complete),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
