/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of `copylab advise`'s reasoning (harness/report/advise_rank.c,
 * advise_notes.c) on synthetic records: tie groups where the paired
 * intervals hold 1.0 (four strategies one tick apart are one group, not an
 * order), one verdict per figure (apart, suggestive at few repetitions,
 * no difference, unresolved on too few ticks), rank and verdict never
 * contradicting, the pick weighing CPU among the fastest, and the notes:
 * what was not tested and why, runs that degenerated, caveats per scenario.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/report/advise_notes.h"
#include "harness/report/advise_rank.h"
#include "harness/model/scenario.h"

#define UNUSED __attribute__((unused))
#define B64 67108864L

/* Appends a record of STRATEGY at REP (64 MiB, 64 KiB blocks) with FMT's members; status ok unless given. */
static void add(json_t *arr, const char *strategy, int rep, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void add(json_t *arr, const char *strategy, int rep, const char *fmt, ...)
{
	char figs[1024], text[1400];
	json_error_t err;
	json_t *r;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(figs, sizeof(figs), fmt, ap);
	va_end(ap);
	snprintf(text, sizeof(text), "{\"strategy\":\"%s\",\"rep\":%d,\"bytes\":%ld,\"block\":65536,%s%s}",
		 strategy, rep, B64, strstr(figs, "\"status\"") ? "" : "\"status\":\"ok\",", figs);
	r = json_loads(text, 0, &err);
	if (!r)
		print_error("%s: %s\n", text, err.text);
	assert_non_null(r);
	json_array_append_new(arr, r);
}

static struct crcell *cell_of(json_t *arr)
{
	struct rr_csv none = { 0 };

	return cell_new(arr, &none);
}

static double fig(json_t *rec, const void *path)
{
	json_t *v = rr_get(rec, path);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

static const struct advise_metric THRU = { "throughput", "MB/s", 1e-6, 0, true, fig, "bytes_per_s", false };
static const struct advise_metric SYS = { "system-wide CPU per GiB", "CPU-s/GiB", 1, 3, false, fig,
					  "system_cpu.busy_per_gib_s", true };
static const struct advise_metric ROLE = { "CPU of the relay per GiB", "CPU-s/GiB", 1, 3, false, fig,
					   "roles.relay.cpu_per_gib_s", false };

/* Throughput of each rep: BASE times a wobble that pairs move together (drift of one round). */
static double wobble(int rep)
{
	static const double w[] = { 1.00, 0.97, 1.03, 0.99, 1.02, 0.98, 1.01, 1.00, 0.96, 1.04 };

	return w[(rep - 1) % 10];
}

/* A relay cell: per strategy a throughput factor, a per-rep jitter of the pair, and system CPU. */
static struct crcell *relay_cell(int reps, const char *const *names, const double *bps, const double *jitter,
				 const double *sys, bool resolved)
{
	json_t *arr = json_array();

	for (int rep = 1; rep <= reps; rep++)
		for (int i = 0; names[i]; i++) {
			/* jitter alternates sign, so a ratio of near-equal strategies straddles 1.0 */
			double j = 1 + (rep % 2 ? jitter[i] : -jitter[i]);

			add(arr, names[i], rep,
			    "\"bytes_per_s\":%.1f,\"system_cpu\":{\"busy_per_gib_s\":%g,\"resolved\":%s,"
			    "\"busy_ticks\":%d},\"roles\":{\"relay\":{\"cpu_per_gib_s\":%g}}",
			    bps[i] * wobble(rep) * j, sys[i] * j, resolved ? "true" : "false", resolved ? 90 : 7,
			    sys[i] * 0.25 * j);
		}
	return cell_of(arr);
}

static const char *const NAMES[] = { "readwrite", "splice", "uring_rw", "sockmap", NULL };

static void test_ties_and_apart(void **state UNUSED)
{
	/* splice and readwrite differ by 1% inside a 3% jitter; uring_rw is 40% slower; sockmap 60%. */
	const double bps[] = { 2.00e9, 2.02e9, 1.2e9, 0.8e9 }, jit[] = { 0.03, 0.0, 0.0, 0.0 };
	const double sys[] = { 2.0, 1.5, 2.5, 1.2 };
	struct crcell *c = relay_cell(8, NAMES, bps, jit, sys, true);
	struct ranking k = rank_by(c, NAMES, 4, B64, &THRU);

	assert_int_equal(k.n, 4);
	assert_string_equal(k.r[0].label, "splice");
	assert_int_equal(k.r[0].verdict, RV_LEADER);
	assert_string_equal(k.r[1].label, "readwrite");
	assert_int_equal(k.r[1].group, 1);
	assert_true(k.r[1].tied);
	assert_int_equal(k.r[1].verdict, RV_NODIFF);
	assert_string_equal(k.r[2].label, "uring_rw");
	assert_int_equal(k.r[2].group, 2);
	assert_int_equal(k.r[2].verdict, RV_APART);
	assert_true(k.r[2].p.hi < 1.0);
	assert_int_equal(k.r[3].group, 3);
	/* the leader shares its group: the figure's one verdict is "no difference" */
	assert_int_equal(k.verdict, RV_NODIFF);
	cell_free(c);
}

static void test_few_reps_suggestive(void **state UNUSED)
{
	const double bps[] = { 2.0e9, 1.0e9, 0.5e9, 0.4e9 }, jit[] = { 0, 0, 0, 0 }, sys[] = { 1, 1, 1, 1 };
	struct crcell *c = relay_cell(5, NAMES, bps, jit, sys, true);
	struct ranking k = rank_by(c, NAMES, 4, B64, &THRU);

	/* 5 pairs: min..max covers the median with 93.75%, below ADVISE_APART_LEVEL */
	assert_string_equal(k.r[0].label, "readwrite");
	assert_int_equal(k.r[1].verdict, RV_SUGGESTIVE);
	assert_int_equal(k.verdict, RV_SUGGESTIVE);
	cell_free(c);
	c = relay_cell(6, NAMES, bps, jit, sys, true);
	k = rank_by(c, NAMES, 4, B64, &THRU);
	assert_int_equal(k.r[1].verdict, RV_APART);
	assert_int_equal(k.verdict, RV_APART);
	cell_free(c);
}

/* Four strategies at exactly one figure (one /proc/stat tick each): one group, not an order. */
static void test_equal_figures_one_group(void **state UNUSED)
{
	const double bps[] = { 1e9, 1e9, 1e9, 1e9 }, jit[] = { 0, 0, 0, 0 }, sys[] = { 0.8, 0.8, 0.8, 0.8 };
	struct crcell *c = relay_cell(8, NAMES, bps, jit, sys, true);
	struct ranking k = rank_by(c, NAMES, 4, B64, &SYS);

	for (int i = 0; i < 4; i++)
		assert_int_equal(k.r[i].group, 1);
	assert_int_equal(k.verdict, RV_NODIFF);
	cell_free(c);
}

static void test_unresolved_ticks(void **state UNUSED)
{
	const double bps[] = { 1e9, 1e9, 1e9, 1e9 }, jit[] = { 0, 0, 0, 0 }, sys[] = { 0.8, 1.6, 2.4, 3.2 };
	struct crcell *c = relay_cell(8, NAMES, bps, jit, sys, false);
	struct ranking k = rank_by(c, NAMES, 4, B64, &SYS);

	/* apart by the numbers, but each rests on 7 ticks: nothing may be told apart */
	for (int i = 1; i < 4; i++) {
		assert_int_equal(k.r[i].group, 1);
		assert_int_equal(k.r[i].verdict, RV_UNRESOLVED);
	}
	assert_int_equal(k.verdict, RV_UNRESOLVED);
	assert_int_equal(k.unresolved_reps, 16);
	assert_true(fabs(k.ticks - 7) < 1e-9);
	/* the same figures, resolved, are an order */
	cell_free(c);
	c = relay_cell(8, NAMES, bps, jit, sys, true);
	k = rank_by(c, NAMES, 4, B64, &SYS);
	assert_int_equal(k.verdict, RV_APART);
	assert_int_equal(k.r[3].group, 4);
	cell_free(c);
}

/* Below the leader's group every verdict against the leader is apart or suggestive. */
static void test_rank_never_contradicts_verdict(void **state UNUSED)
{
	const double bps[] = { 2.0e9, 1.9e9, 1.8e9, 1.0e9 }, jit[] = { 0.04, 0.04, 0.04, 0.0 };
	const double sys[] = { 1, 1, 1, 1 };

	for (int reps = 3; reps <= 10; reps++) {
		struct crcell *c = relay_cell(reps, NAMES, bps, jit, sys, true);
		struct ranking k = rank_by(c, NAMES, 4, B64, &THRU);

		for (int i = 1; i < k.n; i++) {
			if (k.r[i].group == 1)
				assert_true(k.r[i].verdict == RV_NODIFF || k.r[i].verdict == RV_UNRESOLVED);
			else
				assert_true(k.r[i].verdict == RV_APART || k.r[i].verdict == RV_SUGGESTIVE);
			assert_true(k.r[i].group >= k.r[i - 1].group);
		}
		cell_free(c);
	}
}

static void test_no_figure_last(void **state UNUSED)
{
	json_t *arr = json_array();
	const char *names[] = { "nat", "readwrite", "splice" };
	struct crcell *c;
	struct ranking k;

	for (int rep = 1; rep <= 6; rep++) {
		add(arr, "nat", rep, "\"bytes_per_s\":3e9,\"roles\":{}");
		add(arr, "readwrite", rep, "\"bytes_per_s\":1e9,\"roles\":{\"relay\":{\"cpu_per_gib_s\":%g}}", 0.5 + rep * 0.01);
		add(arr, "splice", rep, "\"bytes_per_s\":1e9,\"roles\":{\"relay\":{\"cpu_per_gib_s\":%g}}", 0.3 + rep * 0.01);
	}
	c = cell_of(arr);
	k = rank_by(c, names, 3, B64, &ROLE);
	assert_string_equal(k.r[0].label, "splice");
	assert_string_equal(k.r[2].label, "nat");
	assert_int_equal(k.r[2].group, 0);
	assert_int_equal(k.r[2].verdict, RV_NOFIGURE);
	cell_free(c);
}

static void test_pick(void **state UNUSED)
{
	/* readwrite and splice tie on throughput; splice costs less; uring_rw is slower but cheapest */
	const double bps[] = { 2.00e9, 2.02e9, 1.2e9, 0.8e9 }, jit[] = { 0.03, 0.0, 0.0, 0.0 };
	const double sys[] = { 2.0, 1.5, 1.0, 1.8 };
	struct crcell *c = relay_cell(8, NAMES, bps, jit, sys, true);
	struct ranking t = rank_by(c, NAMES, 4, B64, &THRU), s = rank_by(c, NAMES, 4, B64, &SYS);
	struct advice a = advise_pick(c, B64, &t, &s, false);

	assert_int_equal(a.ncandidates, 2);
	assert_string_equal(a.pick, "splice");
	assert_int_equal(a.npeers, 0);
	assert_false(a.cost_unresolved);
	/* a fixed role set the pace: every strategy is a candidate, the cheapest wins */
	a = advise_pick(c, B64, &t, &s, true);
	assert_int_equal(a.ncandidates, 4);
	assert_string_equal(a.pick, "uring_rw");
	cell_free(c);

	/* a cost the intervals cannot tell apart makes the other a peer */
	{
		const double sys2[] = { 1.52, 1.5, 1.0, 1.8 }, jit2[] = { 0.03, 0.0, 0.0, 0.0 };

		c = relay_cell(8, NAMES, bps, jit2, sys2, true);
		t = rank_by(c, NAMES, 4, B64, &THRU);
		s = rank_by(c, NAMES, 4, B64, &SYS);
		a = advise_pick(c, B64, &t, &s, false);
		assert_string_equal(a.pick, "splice");
		assert_int_equal(a.npeers, 1);
		assert_string_equal(a.peers[0], "readwrite");
		cell_free(c);
	}
}

/* Runs F with its output in a string (free it). */
static char *captured(void (*f)(FILE *, void *), void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	assert_non_null(m);
	f(m, arg);
	fclose(m);
	return buf;
}

struct notes_case {
	struct advise_workload w;
	const char *const *labels;
	int n;
	struct crcell *c;
};

static void run_not_tested(FILE *out, void *arg)
{
	struct notes_case *k = arg;

	print_not_tested(out, &k->w, k->labels, k->n);
}

static void run_degenerate(FILE *out, void *arg)
{
	struct notes_case *k = arg;

	print_degenerate(out, k->c, &k->w, k->labels, k->n);
}

static void run_caveats(FILE *out, void *arg)
{
	struct notes_case *k = arg;

	print_caveats(out, &k->w, k->labels, k->n);
}

static void test_not_tested(void **state UNUSED)
{
	const char *const ran[] = { "readwrite", "splice", "uring_rw" };
	struct notes_case k = { { "relay", SC_RELAY, "tcp", B64, 65536, 6, 1, "warm", false, 0, 0, 0, 0 }, ran, 3, NULL };
	char *out = captured(run_not_tested, &k);

	/* nat is refused over tcp, mmap_write by the scenario, sockmap for want of root: each with its sentence */
	assert_non_null(strstr(out, "- nat (not over this transport): "));
	assert_non_null(strstr(out, strategy_find("nat")->elsewhere_why_not));
	assert_non_null(strstr(out, "- mmap_write (not this scenario): "));
	assert_non_null(strstr(out, "- sockmap (needs a privilege): "));
	assert_null(strstr(out, "- splice"));
	assert_null(strstr(out, "- readwrite"));
	free(out);
	/* as root, sockmap has no refusal: its absence is a failed or unasked run */
	k.w.privileged = true;
	out = captured(run_not_tested, &k);
	assert_non_null(strstr(out, "- sockmap: no usable record"));
	free(out);
}

static void test_degenerate(void **state UNUSED)
{
	json_t *arr = json_array();
	const char *const labels[] = { "zerocopy_recv", "msg_zerocopy", "readwrite", "readwrite:trunc" };
	struct notes_case k = { { "store", SC_STORE, "tcp", B64, 65536, 3, 1, "warm", true, 0, 0, 0, 0 }, labels, 4, NULL };
	char *out;

	for (int rep = 1; rep <= 3; rep++) {
		add(arr, "zerocopy_recv", rep, "\"verified\":true,\"zerocopy_recv\":{\"bytes_mapped\":0}");
		add(arr, "msg_zerocopy", rep, "\"verified\":true,\"zerocopy\":{\"share_not_copied\":0}");
		add(arr, "readwrite", rep, rep == 2 ? "\"status\":\"mismatch\"" : "\"verified\":true");
		add(arr, "readwrite:trunc", rep, "\"verified\":false,\"verify\":\"skipped\","
		    "\"verify_note\":\"MSG_TRUNC: the kernel discarded the bytes\"");
	}
	k.c = cell_of(arr);
	out = captured(run_degenerate, &k);
	assert_non_null(strstr(out, "zerocopy_recv mapped nothing"));
	assert_non_null(strstr(out, "msg_zerocopy: the kernel copied every zero-copy send"));
	assert_non_null(strstr(out, "readwrite: 1 of 3 repetitions failed"));
	assert_non_null(strstr(out, "readwrite:trunc: no byte of it was verified (MSG_TRUNC: the kernel discarded"));
	/* verified strategies are not called unverified */
	assert_null(strstr(out, "zerocopy_recv: no byte"));
	assert_null(strstr(out, "readwrite: no byte"));
	free(out);
	cell_free(k.c);

	/* one mapped repetition is enough not to call the receive degenerate */
	arr = json_array();
	add(arr, "zerocopy_recv", 1, "\"verified\":true,\"zerocopy_recv\":{\"bytes_mapped\":0}");
	add(arr, "zerocopy_recv", 2, "\"verified\":true,\"zerocopy_recv\":{\"bytes_mapped\":4096}");
	k.c = cell_of(arr);
	k.n = 1;
	out = captured(run_degenerate, &k);
	assert_string_equal(out, "");
	free(out);
	cell_free(k.c);
}

static void test_caveats_per_scenario(void **state UNUSED)
{
	const char *const relay[] = { "splice", "readwrite" }, *const copy[] = { "copy_file_range" };
	struct notes_case k = { { "relay", SC_RELAY, "tcp", B64, 65536, 6, 1, "warm", true, 0, 0, 0, 0 }, relay, 2, NULL };
	char *out = captured(run_caveats, &k);

	/* the strategy's own sentences, from its table */
	assert_non_null(strstr(out, strategy_find("splice")->needs));
	assert_non_null(strstr(out, strategy_find("splice")->caveat[SC_RELAY]));
	assert_non_null(strstr(out, "(--conns N)"));
	assert_null(strstr(out, "repetitions: a paired interval"));
	assert_null(strstr(out, "fsync"));
	assert_null(strstr(out, "steal"));
	free(out);
	/* the hypervisor's steal: said at 5% of the CPUs or more, with its figure */
	k.w.ncpus = 2;
	k.w.steal_cpus = 0.36;
	out = captured(run_caveats, &k);
	assert_non_null(strstr(out, "- the hypervisor held back 0.36 of the 2 CPUs (steal) in the median repetition"));
	free(out);
	k.w.steal_cpus = 0.09;
	out = captured(run_caveats, &k);
	assert_null(strstr(out, "steal"));
	free(out);
	/* copy: no sockets, one file each side; --conns does not apply there */
	k = (struct notes_case){ { "copy", SC_COPY, NULL, 1000, 65536, 3, 1, "warm", true, 0, 0, 0, 0 }, copy, 1, NULL };
	out = captured(run_caveats, &k);
	assert_null(strstr(out, "--conns"));
	assert_null(strstr(out, "never leave this machine"));
	assert_non_null(strstr(out, "no fsync"));
	assert_non_null(strstr(out, "--cache cold"));
	assert_non_null(strstr(out, "3 repetitions"));
	assert_non_null(strstr(out, "small transfers (1000 B)"));
	assert_non_null(strstr(out, "since 5.19 only between file systems of one type"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ties_and_apart),
		cmocka_unit_test(test_few_reps_suggestive),
		cmocka_unit_test(test_equal_figures_one_group),
		cmocka_unit_test(test_unresolved_ticks),
		cmocka_unit_test(test_rank_never_contradicts_verdict),
		cmocka_unit_test(test_no_figure_last),
		cmocka_unit_test(test_pick),
		cmocka_unit_test(test_not_tested),
		cmocka_unit_test(test_degenerate),
		cmocka_unit_test(test_caveats_per_scenario),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
