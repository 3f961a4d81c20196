/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the run directory writer (harness/results/write.c, env.c):
 * record keys and types, summary medians and paired ratios, atomic files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/results/bounded.h"
#include "harness/results/write.h"

/* cmocka passes state to every test; most do not need it. */
#define UNUSED __attribute__((unused))

/* ---- fixtures ----------------------------------------------------------- */

struct fixture {
	char dir[64];		/* a fresh directory per test */
	char run[PATH_MAX];	/* the run directory inside it */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/copylab-test-results.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	/* Two levels that do not exist yet: results_open must create both. */
	snprintf(f->run, sizeof(f->run), "%s/results/run-1", f->dir);
	*state = f;
	return 0;
}

static int rm_entry(const char *path, const struct stat *st UNUSED, int flag UNUSED,
		    struct FTW *ftw UNUSED)
{
	return remove(path);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* A relay-like repetition with a tested role and one fixed role. */
static struct rep_result make_rep(const char *strategy, size_t block, int rep, double bps)
{
	struct rep_result r = { 0 };

	r.cell.scenario = SC_RELAY;
	snprintf(r.cell.strategy, sizeof(r.cell.strategy), "%s", strategy);
	snprintf(r.cell.base, sizeof(r.cell.base), "%.*s",
		 (int)strcspn(strategy, ":"), strategy);
	snprintf(r.cell.transport, sizeof(r.cell.transport), "tcp");
	r.cell.bytes = 1u << 30;
	r.cell.block = block;
	r.rep = rep;
	r.bytes_per_s = bps;
	r.wall_s = (double)r.cell.bytes / bps;
	r.verify = VERIFY_OK;
	r.digest = 0xabcULL;
	r.nroles = 2;
	snprintf(r.roles[0].name, sizeof(r.roles[0].name), "relay");
	r.roles[0].under_test = true;
	r.roles[0].cpu_user_s = 0.25 * rep;
	r.roles[0].cpu_sys_s = 0.25 * rep;
	r.roles[0].ctx_voluntary = 10 * rep;
	r.roles[0].ctx_involuntary = rep;
	r.roles[0].faults_minor = 100 * rep;
	r.roles[0].bytes = r.cell.bytes;
	r.roles[0].io.calls = 16384;
	snprintf(r.roles[1].name, sizeof(r.roles[1].name), "sink");
	r.roles[1].cpu_user_s = 0.5;
	r.roles[1].bytes = r.cell.bytes;
	return r;
}

static struct results *open_ok(const struct fixture *f)
{
	char err[256] = "";
	struct results *r = results_open(f->run, "run-1", err, sizeof(err));

	if (!r)
		fail_msg("results_open: %s", err);
	return r;
}

static char *slurp(const char *dir, const char *name)
{
	char path[PATH_MAX];
	FILE *fp;
	char *text = NULL;
	size_t len = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "r");
	if (!fp)
		fail_msg("cannot open %s: %s", path, strerror(errno));
	if (getdelim(&text, &len, '\0', fp) < 0) {
		/* An empty file reads as "". */
		free(text);
		text = strdup("");
	}
	fclose(fp);
	return text;
}

/* ---- results.jsonl ------------------------------------------------------ */

static void assert_key(json_t *obj, const char *key, json_type type)
{
	json_t *v = json_object_get(obj, key);

	if (!v)
		fail_msg("key %s missing", key);
	if (json_typeof(v) != type)
		fail_msg("key %s has type %d, expected %d", key, json_typeof(v), type);
}

static void check_record_shape(json_t *rec, bool failed)
{
	static const char *const role_ints[] = {
		"ctx_voluntary", "ctx_involuntary", "faults_minor", "faults_major",
		"bytes", "calls", "short_ops", "eagain", "eintr",
	};
	const char *name;
	json_t *role;

	assert_key(rec, "schema", JSON_STRING);
	assert_key(rec, "run_id", JSON_STRING);
	assert_key(rec, "scenario", JSON_STRING);
	assert_key(rec, "strategy", JSON_STRING);
	assert_key(rec, "strategy_base", JSON_STRING);
	assert_key(rec, "transport", JSON_STRING);
	assert_key(rec, "bytes", JSON_INTEGER);
	assert_key(rec, "block", JSON_INTEGER);
	assert_key(rec, "rep", JSON_INTEGER);
	assert_key(rec, "wall_s", JSON_REAL);
	assert_key(rec, "bytes_per_s", JSON_REAL);
	assert_key(rec, "verified", failed ? JSON_FALSE : JSON_TRUE);
	assert_key(rec, "verify", JSON_STRING);
	assert_key(rec, "digest", JSON_STRING);
	assert_key(rec, "nonblock", JSON_FALSE);
	assert_key(rec, "status", JSON_STRING);
	assert_key(rec, "roles", JSON_OBJECT);
	/* Nullable keys are present either way. */
	assert_non_null(json_object_get(rec, "verify_note"));
	assert_non_null(json_object_get(rec, "pipe_size"));
	assert_int_equal(json_object_size(json_object_get(rec, "roles")), 2);
	json_object_foreach(json_object_get(rec, "roles"), name, role) {
		assert_true(json_is_boolean(json_object_get(role, "under_test")));
		assert_key(role, "cpu_user_s", JSON_REAL);
		assert_key(role, "cpu_sys_s", JSON_REAL);
		assert_key(role, "cpu_per_gib_s", JSON_REAL);
		for (size_t i = 0; i < sizeof(role_ints) / sizeof(role_ints[0]); i++)
			assert_key(role, role_ints[i], JSON_INTEGER);
	}
}

static void test_records_are_whole_json_lines(void **state)
{
	struct fixture *f = *state;
	struct results *r = open_ok(f);
	struct rep_result ok = make_rep("vmsplice:gift", 65536, 1, 2e9);
	struct rep_result bad = make_rep("vmsplice:gift", 65536, 2, 1e9);
	char *text, *save = NULL;
	int lines = 0;

	ok.pipe_granted = 1 << 20;
	bad.verify = VERIFY_MISMATCH;
	bad.status = -EIO;
	snprintf(bad.verify_note, sizeof(bad.verify_note), "first bad offset 4096");
	snprintf(bad.error, sizeof(bad.error), "vmsplice on relay: splice: Input/output error");
	assert_int_equal(results_add(r, &ok), 0);
	assert_int_equal(results_add(r, &bad), 0);

	text = slurp(f->run, "results.jsonl");
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_error_t e;
		json_t *rec = json_loads(line, 0, &e);

		if (!rec)
			fail_msg("line %d is not JSON: %s", lines + 1, e.text);
		check_record_shape(rec, lines == 1);
		json_decref(rec);
		lines++;
	}
	assert_int_equal(lines, 2);
	free(text);
	results_close(r);
}

static void test_record_values(void **state UNUSED)
{
	struct rep_result rep = make_rep("vmsplice:gift", 65536, 3, 2e9);
	json_t *rec, *relay;

	rep.verify = VERIFY_SKIPPED;
	snprintf(rep.verify_note, sizeof(rep.verify_note), "--sink discard");
	rec = rep_to_json(&rep, "run-x");
	assert_non_null(rec);
	assert_string_equal(json_string_value(json_object_get(rec, "schema")), RECORD_SCHEMA);
	assert_string_equal(json_string_value(json_object_get(rec, "run_id")), "run-x");
	assert_string_equal(json_string_value(json_object_get(rec, "scenario")), "relay");
	assert_string_equal(json_string_value(json_object_get(rec, "strategy")), "vmsplice:gift");
	assert_string_equal(json_string_value(json_object_get(rec, "strategy_base")), "vmsplice");
	assert_int_equal(json_integer_value(json_object_get(rec, "bytes")), 1 << 30);
	assert_int_equal(json_integer_value(json_object_get(rec, "rep")), 3);
	/* Unverified figures are never "verified", even when the run succeeded. */
	assert_true(json_is_false(json_object_get(rec, "verified")));
	assert_string_equal(json_string_value(json_object_get(rec, "verify")), "skipped");
	assert_string_equal(json_string_value(json_object_get(rec, "verify_note")), "--sink discard");
	assert_string_equal(json_string_value(json_object_get(rec, "digest")), "0x0000000000000abc");
	assert_true(json_is_null(json_object_get(rec, "pipe_size")));
	/* No --pipe-size: null, the kernel default; present either way. */
	assert_non_null(json_object_get(rec, "pipe_size_asked"));
	assert_true(json_is_null(json_object_get(rec, "pipe_size_asked")));
	rep.cell.pipe_asked = 1 << 20;
	json_decref(rec);
	rec = rep_to_json(&rep, "run-x");
	assert_int_equal(json_integer_value(json_object_get(rec, "pipe_size_asked")), 1 << 20);
	assert_string_equal(json_string_value(json_object_get(rec, "status")), "ok");
	relay = json_object_get(json_object_get(rec, "roles"), "relay");
	assert_true(json_is_true(json_object_get(relay, "under_test")));
	/* (0.75 + 0.75) s over exactly 1 GiB. */
	assert_true(json_real_value(json_object_get(relay, "cpu_per_gib_s")) == 1.5);
	assert_int_equal(json_integer_value(json_object_get(relay, "calls")), 16384);
	json_decref(rec);
}

static void test_record_nulls(void **state UNUSED)
{
	struct rep_result rep = make_rep("readwrite", 65536, 1, 0);
	json_t *rec, *sink;

	/* A role that moved nothing has no CPU per GiB; 0 B/s makes wall_s infinite. */
	rep.roles[1].bytes = 0;
	rec = rep_to_json(&rep, "run-x");
	assert_non_null(rec);
	assert_true(json_is_null(json_object_get(rec, "verify_note")));
	assert_true(json_is_null(json_object_get(rec, "wall_s")));
	sink = json_object_get(json_object_get(rec, "roles"), "sink");
	assert_true(json_is_null(json_object_get(sink, "cpu_per_gib_s")));
	json_decref(rec);
}

static void test_add_rejects_warmup(void **state)
{
	struct fixture *f = *state;
	struct results *r = open_ok(f);
	struct rep_result warm = make_rep("readwrite", 65536, 0, 1e9);

	assert_int_equal(results_add(r, &warm), -EINVAL);
	results_close(r);
}

/* ---- summary.csv -------------------------------------------------------- */

static const char header[] =
	"scenario,transport,bytes,block,strategy,reps,verified_reps,"
	"bytes_per_s_median,bytes_per_s_min,bytes_per_s_max,wall_s_median,"
	"tested_role,tested_cpu_per_gib_median,tested_cpu_user_s_median,tested_cpu_sys_s_median,"
	"ratio_vs_readwrite_median,ratio_vs_readwrite_min,ratio_vs_readwrite_max,"
	"bytes_per_s_ci_lo,bytes_per_s_ci_hi,bytes_per_s_ci_level,"
	"ratio_ci_lo,ratio_ci_hi,ratio_ci_level,difference,cache,outstanding,conns,"
	"pipe_size_asked,tested_copy_per_gib_median,limited_by,rps,time_s,response,steal_cpus_median";
enum { F_SCENARIO, F_TRANSPORT, F_BYTES, F_BLOCK, F_STRATEGY, F_REPS, F_VERIFIED,
       F_BPS_MED, F_BPS_MIN, F_BPS_MAX, F_WALL_MED, F_ROLE, F_CPG_MED, F_USER_MED,
       F_SYS_MED, F_RATIO_MED, F_RATIO_MIN, F_RATIO_MAX, F_BPS_CI_LO, F_BPS_CI_HI,
       F_BPS_CI_LEVEL, F_RATIO_CI_LO, F_RATIO_CI_HI, F_RATIO_CI_LEVEL, F_DIFFERENCE, F_CACHE, F_OUTSTANDING, F_CONNS,
       F_PIPE_ASKED, F_COPY_MED, F_LIMITED_BY, F_RPS, F_TIME, F_RESPONSE, F_STEAL, NFIELDS };

/* Splits the next CSV line (no quoting in these tests) into exactly NFIELDS fields. */
static void next_row(char **save, char *field[NFIELDS])
{
	char *p = strtok_r(NULL, "\n", save);
	int n = 0;

	assert_non_null(p);
	for (;;) {
		char *comma = strchr(p, ',');

		if (n < NFIELDS)
			field[n] = p;
		n++;
		if (!comma)
			break;
		*comma = '\0';
		p = comma + 1;
	}
	assert_int_equal(n, NFIELDS);
}

static void test_summary_medians_and_paired_ratios(void **state)
{
	static const double rw[] = { 100, 200, 300 }, sp[] = { 150, 300, 600 };
	struct fixture *f = *state;
	struct results *r = open_ok(f);
	char *text, *save = NULL, *line;
	char *field[NFIELDS];

	/* Interleaved as the run engine does: A B A B A B. */
	for (int i = 0; i < 3; i++) {
		struct rep_result a = make_rep("readwrite", 65536, i + 1, rw[i]);
		struct rep_result b = make_rep("splice", 65536, i + 1, sp[i]);

		assert_int_equal(results_add(r, &a), 0);
		assert_int_equal(results_add(r, &b), 0);
	}
	/* Another block size with no readwrite partner: no ratio. */
	struct rep_result lone = make_rep("splice", 4096, 1, 50);
	/* A failed repetition counts as a rep but gives no figure. */
	struct rep_result failed = make_rep("splice", 4096, 2, 1e12);

	failed.status = -ETIMEDOUT;
	snprintf(failed.error, sizeof(failed.error), "relay timed out");
	assert_int_equal(results_add(r, &lone), 0);
	assert_int_equal(results_add(r, &failed), 0);
	assert_int_equal(results_write_summary(r), 0);

	text = slurp(f->run, "summary.csv");
	line = strtok_r(text, "\n", &save);
	assert_string_equal(line, header);

	next_row(&save, field);
	assert_string_equal(field[F_SCENARIO], "relay");
	assert_string_equal(field[F_TRANSPORT], "tcp");
	assert_string_equal(field[F_BYTES], "1073741824");
	assert_string_equal(field[F_BLOCK], "65536");
	assert_string_equal(field[F_STRATEGY], "readwrite");
	assert_string_equal(field[F_CONNS], "1");	/* a record without --conns (cell.conns 0) is one connection */
	assert_string_equal(field[F_PIPE_ASKED], "0");	/* no --pipe-size: the kernel default */
	assert_string_equal(field[F_COPY_MED], "");	/* not sampled: empty, never 0 */
	assert_string_equal(field[F_LIMITED_BY], "");	/* no role near a full CPU */
	assert_string_equal(field[F_REPS], "3");
	assert_string_equal(field[F_VERIFIED], "3");
	assert_string_equal(field[F_BPS_MED], "200");
	assert_string_equal(field[F_ROLE], "relay");
	/* Per rep i: (0.5 i s) / 1 GiB; median over i = 1, 2, 3. */
	assert_string_equal(field[F_CPG_MED], "1");
	assert_string_equal(field[F_USER_MED], "0.5");
	assert_string_equal(field[F_RATIO_MED], "1");
	assert_string_equal(field[F_RATIO_MIN], "1");
	assert_string_equal(field[F_RATIO_MAX], "1");

	next_row(&save, field);
	assert_string_equal(field[F_STRATEGY], "splice");
	assert_string_equal(field[F_BPS_MED], "300");
	assert_string_equal(field[F_BPS_MIN], "150");
	assert_string_equal(field[F_BPS_MAX], "600");
	/* 150/100, 300/200, 600/300 = 1.5, 1.5, 2 (not 300/200 of the medians alone). */
	assert_string_equal(field[F_RATIO_MED], "1.5");
	assert_string_equal(field[F_RATIO_MIN], "1.5");
	assert_string_equal(field[F_RATIO_MAX], "2");
	/* Three paired ratios: the interval is min..max, covering 75%, and excludes 1. */
	assert_string_equal(field[F_BPS_CI_LO], "150");
	assert_string_equal(field[F_BPS_CI_HI], "600");
	assert_string_equal(field[F_RATIO_CI_LO], "1.5");
	assert_string_equal(field[F_RATIO_CI_HI], "2");
	assert_string_equal(field[F_RATIO_CI_LEVEL], "0.75");
	assert_string_equal(field[F_DIFFERENCE], "faster");

	next_row(&save, field);
	assert_string_equal(field[F_STRATEGY], "splice");
	assert_string_equal(field[F_BLOCK], "4096");
	assert_string_equal(field[F_REPS], "2");
	assert_string_equal(field[F_VERIFIED], "1");
	assert_string_equal(field[F_BPS_MED], "50");
	assert_string_equal(field[F_BPS_MAX], "50");
	assert_string_equal(field[F_RATIO_MED], "");
	assert_string_equal(field[F_RATIO_MIN], "");
	assert_string_equal(field[F_RATIO_MAX], "");

	assert_null(strtok_r(NULL, "\n", &save));
	free(text);
	results_close(r);
}

/*
 * Two groups that differ only in --pipe-size: two rows each for readwrite
 * and splice, and each ratio paired with readwrite at its own pipe size.
 */
/* echo --sweep rps=: each offered load is a cell of its own; open loop, the ratio is not a verdict. */
static void test_summary_offered_load_is_part_of_the_cell(void **state)
{
	struct fixture *f = *state;
	struct results *r = open_ok(f);
	char *text, *save = NULL;
	char *field[NFIELDS];

	for (int i = 0; i < 2; i++) {
		struct rep_result a = make_rep("readwrite", 65536, i + 1, 100);
		struct rep_result b = make_rep("splice", 65536, i + 1, 50);
		struct rep_result c = make_rep("readwrite", 65536, i + 1, 200);
		struct rep_result d = make_rep("splice", 65536, i + 1, 600);

		a.cell.rps = b.cell.rps = 1000;
		c.cell.rps = d.cell.rps = 2000;
		assert_int_equal(results_add(r, &a), 0);
		assert_int_equal(results_add(r, &b), 0);
		assert_int_equal(results_add(r, &c), 0);
		assert_int_equal(results_add(r, &d), 0);
	}
	assert_int_equal(results_write_summary(r), 0);
	text = slurp(f->run, "summary.csv");
	assert_string_equal(strtok_r(text, "\n", &save), header);
	static const char *const want[][4] = {
		{ "readwrite", "1000", "100", "" }, { "splice", "1000", "50", "set by the offered load" },
		{ "readwrite", "2000", "200", "" }, { "splice", "2000", "600", "set by the offered load" },
	};
	for (size_t i = 0; i < 4; i++) {
		next_row(&save, field);
		assert_string_equal(field[F_STRATEGY], want[i][0]);
		assert_string_equal(field[F_RPS], want[i][1]);
		assert_string_equal(field[F_BPS_MED], want[i][2]);
		assert_string_equal(field[F_DIFFERENCE], want[i][3]);
	}
	assert_null(strtok_r(NULL, "\n", &save));
	free(text);
	results_close(r);
}

/* Reps bounded by time each move their own count: one cell by their time, and the record says so. */
static void test_summary_timed_reps_are_one_cell(void **state)
{
	struct fixture *f = *state;
	struct results *r = open_ok(f);
	char *text, *save = NULL;
	char *field[NFIELDS];
	static const char *const names[] = { "relay", "source", "sink" };
	struct series_point pt = { .have_bytes = true };
	json_t *rec;

	for (int i = 0; i < 3; i++) {
		struct rep_result a = make_rep("readwrite", 65536, i + 1, 100);

		a.cell.time_s = 2;
		a.cell.bytes = (1u << 30) + 4096u * i;
		assert_int_equal(results_add(r, &a), 0);
	}
	assert_int_equal(results_write_summary(r), 0);
	text = slurp(f->run, "summary.csv");
	assert_string_equal(strtok_r(text, "\n", &save), header);
	next_row(&save, field);
	assert_string_equal(field[F_STRATEGY], "readwrite");
	assert_string_equal(field[F_REPS], "3");
	assert_string_equal(field[F_TIME], "2");	/* the cell's bound, what two runs pair by */
	assert_string_equal(field[F_RESPONSE], "0");
	assert_null(strtok_r(NULL, "\n", &save));
	free(text);
	results_close(r);

	struct rep_result a = make_rep("readwrite", 65536, 1, 100);

	a.cell.time_s = 2;
	a.interval_s = 0.5;
	a.series = series_new(0.5, 3, names);
	series_add(a.series, &pt);
	pt.t_ns = 500000000;
	pt.bytes = 1000;
	series_add(a.series, &pt);
	a.interval_bps = series_throughput(a.series);
	rec = rep_to_json(&a, "run-x");
	assert_string_equal(json_string_value(json_object_get(rec, "bounded_by")), "time");
	assert_true(json_real_value(json_object_get(rec, "time_s")) == 2);
	assert_int_equal(json_array_size(json_object_get(rec, "intervals")), 1);
	assert_true(json_is_null(json_object_get(json_object_get(json_array_get(json_object_get(rec, "intervals"), 0), "cpu"), "sink")));
	assert_true(json_real_value(json_object_get(json_object_get(rec, "interval_bps"), "median")) == 2000);
	json_decref(rec);
	rep_result_release(&a);
	assert_null(a.series);
}

/*
 * results.jsonl stays within what plot, report and compare read: a record
 * whose intervals would pass that cap is written without them, says so,
 * and keeps their throughput; every record before it is whole.
 */
static void test_intervals_left_out_past_the_readers_cap(void **state)
{
	struct fixture *f = *state;
	struct results *r = open_ok(f);
	static const char *const names[] = { "relay", "source", "sink" };
	const size_t cap = 1 << 20;	/* BOUNDED_CAP_RECORDS's behaviour, at a test's size */
	char path[PATH_MAX + 16];
	struct stat st;
	int i, whole = 0, lean = -1;

	results_set_records_cap(r, cap);
	snprintf(path, sizeof(path), "%s/results.jsonl", f->run);
	for (i = 1; i <= 12 && lean < 0; i++) {
		struct rep_result a = make_rep("readwrite", 65536, i, 100);
		struct series_point pt = { .have_bytes = true };

		a.cell.time_s = 100;
		a.interval_s = 0.001;
		a.series = series_new(0.001, 3, names);
		assert_non_null(a.series);
		for (int k = 0; k < 3000; k++) {
			pt.t_ns = (int64_t)k * 1000000 + 123457;
			pt.bytes = (uint64_t)k * 123456789u;
			for (int role = 0; role < 3; role++) {
				pt.have_cpu[role] = true;
				pt.cpu_s[role] = k * 0.000987654321;
			}
			series_add(a.series, &pt);
		}
		a.interval_bps = series_throughput(a.series);
		assert_int_equal(results_add(r, &a), 0);
		assert_int_equal(stat(path, &st), 0);
		assert_true((size_t)st.st_size <= cap);
		rep_result_release(&a);

		char *text = slurp(f->run, "results.jsonl"), *last = text, *nl;

		while ((nl = strchr(last, '\n')) && nl[1])
			last = nl + 1;
		json_t *rec = json_loads(last, 0, NULL);

		assert_non_null(rec);
		if (json_is_array(json_object_get(rec, "intervals"))) {
			assert_null(json_object_get(rec, "intervals_omitted"));
			whole++;
		} else {
			assert_true(json_is_null(json_object_get(rec, "intervals")));
			assert_non_null(strstr(json_string_value(json_object_get(rec, "intervals_omitted")),
					       "2999 intervals left out: with them results.jsonl would pass 1 MiB"));
			assert_true(json_is_object(json_object_get(rec, "interval_bps")));
			lean = i;
		}
		json_decref(rec);
		free(text);
	}
	assert_true(whole >= 1 && lean == whole + 1);
	results_close(r);
}

static void test_summary_pipe_size_asked_is_part_of_the_cell(void **state)
{
	struct fixture *f = *state;
	struct results *r = open_ok(f);
	char *text, *save = NULL;
	char *field[NFIELDS];

	for (int i = 0; i < 2; i++) {
		struct rep_result a = make_rep("readwrite", 65536, i + 1, 100);
		struct rep_result b = make_rep("splice", 65536, i + 1, 50);
		struct rep_result c = make_rep("readwrite", 65536, i + 1, 200);
		struct rep_result d = make_rep("splice", 65536, i + 1, 600);

		c.cell.pipe_asked = d.cell.pipe_asked = 1 << 20;
		assert_int_equal(results_add(r, &a), 0);
		assert_int_equal(results_add(r, &b), 0);
		assert_int_equal(results_add(r, &c), 0);
		assert_int_equal(results_add(r, &d), 0);
	}
	assert_int_equal(results_write_summary(r), 0);
	text = slurp(f->run, "summary.csv");
	assert_string_equal(strtok_r(text, "\n", &save), header);
	static const char *const want[][4] = {
		{ "readwrite", "0", "100", "1" }, { "splice", "0", "50", "0.5" },
		{ "readwrite", "1048576", "200", "1" }, { "splice", "1048576", "600", "3" },
	};
	for (size_t i = 0; i < 4; i++) {
		next_row(&save, field);
		assert_string_equal(field[F_STRATEGY], want[i][0]);
		assert_string_equal(field[F_PIPE_ASKED], want[i][1]);
		assert_string_equal(field[F_BPS_MED], want[i][2]);
		assert_string_equal(field[F_RATIO_MED], want[i][3]);
	}
	assert_null(strtok_r(NULL, "\n", &save));
	free(text);
	results_close(r);
}

/*
 * The sampled copy time's median per GiB, and the role that kept a CPU
 * busy in most reps: the sink at 0.95 of the wall time in two reps of
 * three limits the cell; the relay's copy samples at 1 ms each.
 */
static void test_summary_copy_time_and_limiting_role(void **state)
{
	struct fixture *f = *state;
	struct results *r = open_ok(f);
	char *text, *save = NULL, *field[NFIELDS];

	for (int i = 1; i <= 3; i++) {
		struct rep_result rep = make_rep("readwrite", 65536, i, 1e9);

		rep.roles[1].cpu_user_s = i < 3 ? 0.95 * rep.wall_s : 0.1 * rep.wall_s;
		rep.roles[0].have_cputime = true;
		rep.roles[0].cputime.period_s = 0.001;
		rep.roles[0].cputime.samples[CG_COPY_KERNEL] = 100 * (uint64_t)i;
		rep.roles[0].cputime.samples[CG_NET] = 50;
		rep.roles[0].cputime.total = 100 * (uint64_t)i + 50;
		assert_int_equal(results_add(r, &rep), 0);
	}
	assert_int_equal(results_write_summary(r), 0);
	text = slurp(f->run, "summary.csv");
	strtok_r(text, "\n", &save);
	next_row(&save, field);
	/* 0.1, 0.2, 0.3 s over 1 GiB each: the median is 0.2 s/GiB */
	assert_string_equal(field[F_COPY_MED], "0.2");
	assert_string_equal(field[F_LIMITED_BY], "sink");
	free(text);
	results_close(r);
}

/*
 * The hypervisor's steal: summary.csv's steal_cpus_median is the median of
 * steal_s / wall_s, and the table says so under its rows when it reaches 5%
 * of the CPUs (steal_notable).  wall_s is 1.073741824 s at 1e9 B/s.
 */
static void test_summary_steal(void **state)
{
	struct fixture *f = *state;
	struct results *r = open_ok(f);
	char *text, *save = NULL, *field[NFIELDS], *table = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&table, &len);
	double ncpus = (double)sysconf(_SC_NPROCESSORS_ONLN);
	/* per rep, in CPUs: readwrite 0.1, 0.2, 0.3 of each CPU; splice none (no /proc/stat) */
	for (int i = 1; i <= 3; i++) {
		struct rep_result a = make_rep("readwrite", 65536, i, 1e9);
		struct rep_result b = make_rep("splice", 65536, i, 1e9);

		a.system_cpu.have = true;
		a.system_cpu.steal_s = 0.1 * i * ncpus * a.wall_s;
		assert_int_equal(results_add(r, &a), 0);
		assert_int_equal(results_add(r, &b), 0);
	}
	assert_int_equal(results_write_summary(r), 0);
	text = slurp(f->run, "summary.csv");
	strtok_r(text, "\n", &save);
	next_row(&save, field);
	assert_string_equal(field[F_STRATEGY], "readwrite");
	assert_float_equal(strtod(field[F_STEAL], NULL), 0.2 * ncpus, 1e-9);
	next_row(&save, field);
	assert_string_equal(field[F_STEAL], "");	/* no reading, no figure */
	results_print_table(r, out);
	fclose(out);
	assert_non_null(strstr(table, "  steal: the hypervisor held back "));
	assert_non_null(strstr(table, " CPUs in readwrite's median repetition"));
	free(table);
	free(text);
	results_close(r);
}

/* Under 5% of the CPUs the table says nothing of steal. */
static void test_table_quiet_under_notable_steal(void **state)
{
	struct fixture *f = *state;
	struct results *r = open_ok(f);
	char *table = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&table, &len);
	struct rep_result a = make_rep("readwrite", 65536, 1, 1e9);

	a.system_cpu.have = true;
	a.system_cpu.steal_s = 0.04 * (double)sysconf(_SC_NPROCESSORS_ONLN) * a.wall_s;
	assert_int_equal(results_add(r, &a), 0);
	results_print_table(r, out);
	fclose(out);
	assert_null(strstr(table, "steal"));
	free(table);
	results_close(r);
}

static void test_summary_of_nothing_is_the_header(void **state)
{
	struct fixture *f = *state;
	struct results *r = open_ok(f);
	char *text;

	assert_int_equal(results_write_summary(r), 0);
	text = slurp(f->run, "summary.csv");
	assert_int_equal(strlen(text), strlen(header) + 1);
	assert_memory_equal(text, header, strlen(header));
	free(text);
	results_close(r);
}

/* ---- the table ---------------------------------------------------------- */

static void test_table(void **state)
{
	struct fixture *f = *state;
	struct results *r = open_ok(f);
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	for (int i = 1; i <= 2; i++) {
		struct rep_result a = make_rep("readwrite", 65536, i, 1e9);
		struct rep_result b = make_rep("splice", 65536, i, 2e9);
		struct rep_result c = make_rep("readwrite", 65536, i, 1e9);

		c.cell.pipe_asked = 1 << 20;
		assert_int_equal(results_add(r, &a), 0);
		assert_int_equal(results_add(r, &b), 0);
		assert_int_equal(results_add(r, &c), 0);
	}
	results_print_table(r, out);
	fclose(out);
	assert_non_null(strstr(text, "MB/s = 10^6 bytes/s"));
	assert_non_null(strstr(text, "relay over tcp, 1 GiB, block 64 KiB, 2 reps (role"));
	/* A pipe size asked is its own block of the table, named in its heading. */
	assert_non_null(strstr(text, "relay over tcp, 1 GiB, block 64 KiB, 2 reps, 1 MiB pipe (role"));
	/* 2e9 B/s is 2000 MB/s; twice readwrite; both repetitions verified. */
	assert_non_null(strstr(text, "2000 [2000..2000]"));
	assert_non_null(strstr(text, "2.00"));
	assert_non_null(strstr(text, "2/2"));
	free(text);
	results_close(r);
}

/* ---- the directory ------------------------------------------------------ */

static void test_no_temporary_files_left(void **state)
{
	struct fixture *f = *state;
	struct results *r = open_ok(f);
	struct rep_result rep = make_rep("readwrite", 65536, 1, 1e9);
	struct dirent *de;
	char path[PATH_MAX + 32];
	DIR *d;
	int files = 0;

	assert_int_equal(results_add(r, &rep), 0);
	assert_int_equal(results_write_summary(r), 0);
	d = opendir(f->run);
	assert_non_null(d);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' && (!de->d_name[1] || !strcmp(de->d_name, "..")))
			continue;
		if (strstr(de->d_name, ".tmp"))
			fail_msg("temporary file left: %s", de->d_name);
		files++;
	}
	closedir(d);
	/* env.json, results.jsonl, summary.csv, and the lock while the run lasts */
	assert_int_equal(files, 4);
	results_close(r);
	snprintf(path, sizeof(path), "%s/.copylab.lock", f->run);
	assert_int_equal(access(path, F_OK), -1);
}

static void test_env_json(void **state)
{
	static const char *const keys[] = {
		"kernel", "cpu_model", "cpus_online", "page_size", "pipe_max_size",
		"thp_enabled", "mem_total_kib", "compiler",
	};
	struct fixture *f = *state;
	struct results *r = open_ok(f);
	char *text = slurp(f->run, "env.json");
	json_error_t e;
	json_t *env = json_loads(text, 0, &e), *versions;

	if (!env)
		fail_msg("env.json is not JSON: %s", e.text);
	assert_string_equal(json_string_value(json_object_get(env, "schema")), "copylab.env/1");
	assert_string_equal(json_string_value(json_object_get(env, "run_id")), "run-1");
	assert_key(env, "copylab_git_rev", JSON_STRING);
	assert_key(env, "created_utc", JSON_STRING);
	/* Facts may be null on another machine, but the keys are always there. */
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!json_object_get(env, keys[i]))
			fail_msg("env.json lacks %s", keys[i]);
	assert_null(json_object_get(env, "hostname"));
	/* Linux always has these. */
	assert_key(env, "kernel", JSON_OBJECT);
	assert_key(env, "page_size", JSON_INTEGER);
	versions = json_object_get(env, "versions");
	assert_key(versions, "xxhash", JSON_STRING);
	assert_key(versions, "jansson", JSON_STRING);
	assert_key(versions, "glibc", JSON_STRING);
	json_decref(env);
	free(text);
	results_close(r);
}

static void test_open_fails_with_message(void **state)
{
	struct fixture *f = *state;
	char err[256] = "", path[PATH_MAX];

	assert_null(results_open("/proc/nope", "run-1", err, sizeof(err)));
	assert_non_null(strstr(err, "/proc/nope"));

	/* A component that is a file, not a directory. */
	snprintf(path, sizeof(path), "%s/file", f->dir);
	assert_int_equal(write_file_atomic(path, "x", 1), 0);
	strcat(path, "/run");
	err[0] = '\0';
	assert_null(results_open(path, "run-1", err, sizeof(err)));
	assert_non_null(strstr(err, "Not a directory"));
}

static void test_open_refuses_a_used_directory(void **state)
{
	struct fixture *f = *state;
	struct results *r = open_ok(f);
	struct rep_result rep = make_rep("readwrite", 65536, 1, 1e9);
	char err[256] = "";

	assert_int_equal(results_add(r, &rep), 0);
	results_close(r);
	assert_null(results_open(f->run, "run-2", err, sizeof(err)));
	assert_non_null(strstr(err, "already holds"));
}

/* The codes session.c maps to exit statuses: a used directory, a file in the way. */
static void test_create_says_why(void **state)
{
	struct fixture *f = *state;
	struct results *r = open_ok(f);
	struct rep_result rep = make_rep("readwrite", 65536, 1, 1e9);
	char err[512] = "", path[PATH_MAX];

	assert_int_equal(results_add(r, &rep), 0);
	results_close(r);
	assert_int_equal(results_create(f->run, "run-2", &r, err, sizeof(err)), -EEXIST);
	assert_null(r);
	snprintf(path, sizeof(path), "%s/results/run-1/.copylab.lock", f->dir);
	assert_int_equal(access(path, F_OK), -1);	/* the refusal left no lock file */

	snprintf(path, sizeof(path), "%s/file", f->dir);
	assert_int_equal(write_file_atomic(path, "x", 1), 0);
	assert_int_equal(results_create(path, "run-2", &r, err, sizeof(err)), -ENOTDIR);
}

/*
 * A run in another process holds the directory: -EBUSY naming its pid.
 * When it ends without closing (killed), its lock goes with it and the
 * lock file it left is no obstacle.
 */
static void test_create_refuses_a_held_directory(void **state)
{
	struct fixture *f = *state;
	int ready[2], release[2];
	struct results *r;
	char err[1024] = "", want[64], c;
	pid_t child;
	int status;

	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(release), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct results *held = NULL;

		close(release[1]);
		c = results_create(f->run, "run-1", &held, err, sizeof(err)) == 0 ? 'y' : 'n';
		if (write(ready[1], &c, 1) != 1 || read(release[0], &c, 1) < 0)
			_exit(2);
		_exit(0);	/* no results_close: as if killed */
	}
	close(ready[1]);
	close(release[0]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	assert_int_equal(c, 'y');
	assert_int_equal(results_create(f->run, "run-2", &r, err, sizeof(err)), -EBUSY);
	assert_null(r);
	snprintf(want, sizeof(want), "in use by another run: pid %d (", (int)child);
	if (!strstr(err, want))
		fail_msg("err '%s' does not name pid %d", err, (int)child);
	close(release[1]);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(results_create(f->run, "run-2", &r, err, sizeof(err)), 0);
	results_close(r);
	close(ready[0]);
}

/*
 * The lock is the run's, not its children's: a role forked after
 * results_create that outlives the run must not keep the next run out
 * (a flock on the inherited descriptor would).
 */
static void test_lock_is_not_inherited_by_children(void **state)
{
	struct fixture *f = *state;
	int ready[2], release[2];
	struct results *r;
	char err[1024] = "", c;
	pid_t child;
	int status;

	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(release), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct results *held = NULL;

		close(release[1]);
		if (results_create(f->run, "run-1", &held, err, sizeof(err)) != 0)
			_exit(1);
		if (fork() == 0) {	/* the straggling role: waits for the test to let it go */
			c = 'y';
			if (write(ready[1], &c, 1) != 1 || read(release[0], &c, 1) < 0)
				_exit(2);
			_exit(0);
		}
		_exit(0);	/* the run ends; its role lives on */
	}
	close(ready[1]);
	close(release[0]);
	assert_int_equal(read(ready[0], &c, 1), 1);	/* the role is alive */
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (results_create(f->run, "run-2", &r, err, sizeof(err)) != 0)
		fail_msg("the next run was refused while only a child of the last one lived: %s", err);
	results_close(r);
	close(release[1]);	/* the role may go */
	close(ready[0]);
}

static void test_write_file_atomic_replaces(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX], *text;

	snprintf(path, sizeof(path), "%s/a.txt", f->dir);
	assert_int_equal(write_file_atomic(path, "first\n", 6), 0);
	assert_int_equal(write_file_atomic(path, "2\n", 2), 0);
	text = slurp(f->dir, "a.txt");
	assert_string_equal(text, "2\n");
	free(text);
	snprintf(path, sizeof(path), "%s/no/such/dir/a.txt", f->dir);
	assert_int_equal(write_file_atomic(path, "x", 1), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_records_are_whole_json_lines, setup, teardown),
		cmocka_unit_test(test_record_values),
		cmocka_unit_test(test_record_nulls),
		cmocka_unit_test_setup_teardown(test_add_rejects_warmup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_summary_medians_and_paired_ratios, setup, teardown),
		cmocka_unit_test_setup_teardown(test_summary_offered_load_is_part_of_the_cell, setup, teardown),
		cmocka_unit_test_setup_teardown(test_summary_pipe_size_asked_is_part_of_the_cell, setup, teardown),
		cmocka_unit_test_setup_teardown(test_summary_timed_reps_are_one_cell, setup, teardown),
		cmocka_unit_test_setup_teardown(test_summary_copy_time_and_limiting_role, setup, teardown),
		cmocka_unit_test_setup_teardown(test_summary_steal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table_quiet_under_notable_steal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_summary_of_nothing_is_the_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_temporary_files_left, setup, teardown),
		cmocka_unit_test_setup_teardown(test_env_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_fails_with_message, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_refuses_a_used_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_says_why, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_refuses_a_held_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_is_not_inherited_by_children, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_file_atomic_replaces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_intervals_left_out_past_the_readers_cap, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
