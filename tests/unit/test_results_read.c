/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the run directory reader (harness/results/read.c): CSV
 * parsing (quotes, line breaks, field counts), records checked line by line
 * with errors that name the file and line, cells grouped with medians over
 * their usable repetitions, and the machine line of env.json.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/results/bounded.h"
#include "harness/results/cellkey.h"
#include "harness/results/read.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#define UNUSED __attribute__((unused))

/* The summary row of a sized cell with these conditions (the rest at their defaults), or -1. */
static long summary_row(const struct rr_dir *d, const char *scenario, const char *transport, uint64_t bytes,
			uint64_t block, unsigned conns, uint64_t pipe, const char *strategy)
{
	struct rr_cell_key k = { .scenario = scenario, .transport = transport, .strategy = strategy,
				 .cache = "warm", .bytes = bytes, .block = block, .outstanding = 1,
				 .conns = conns, .pipe = pipe };

	return rr_summary_row_of(d, &k);
}

static char dir[64];

static int rm_entry(const char *path, const struct stat *st UNUSED, int flag UNUSED, struct FTW *ftw UNUSED)
{
	return remove(path);
}

static int setup(void **state UNUSED)
{
	strcpy(dir, "/tmp/copylab-test-rr.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state UNUSED)
{
	return nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static void put(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* One record: the keys the reader checks, with a tested and a fixed role. */
static char *record(const char *strategy, int rep, double bps, const char *status, const char *verify,
		    double user, double sys, const char *bpf)
{
	static char buf[8][1024];
	static int k;
	char *b = buf[k++ % 8];

	snprintf(b, 1024,
		 "{\"schema\":\"copylab.rep/1\",\"run_id\":\"r1\",\"scenario\":\"relay\",\"strategy\":\"%s\","
		 "\"transport\":\"tcp\",\"bytes\":1073741824,\"block\":65536,\"rep\":%d,\"bytes_per_s\":%g,"
		 "\"verified\":%s,\"verify\":\"%s\",\"status\":\"%s\",\"metrics\":{\"bpf\":\"off (--no-bpf)\"},"
		 "\"roles\":{\"relay\":{\"under_test\":true,\"cpu_user_s\":%g,\"cpu_sys_s\":%g,\"bpf\":%s},"
		 "\"source\":{\"under_test\":false,\"cpu_user_s\":0.5,\"cpu_sys_s\":0.25}}}\n",
		 strategy, rep, bps, strcmp(verify, "ok") ? "false" : "true", verify, status, user, sys, bpf);
	return b;
}

static void write_run(void)
{
	char text[8192];

	snprintf(text, sizeof(text), "%s%s%s\n%s%s",
		 record("readwrite", 1, 100e6, "ok", "ok", 0.1, 0.3, "null"),
		 record("splice", 1, 300e6, "ok", "ok", 0.0, 0.2, "{\"bytes_to_user\":0}"),
		 record("readwrite", 2, 200e6, "ok", "ok", 0.1, 0.5, "null"),
		 record("splice", 2, 1e12, "boom: splice failed", "mismatch", 0, 0, "null"),
		 record("readwrite", 3, 400e6, "ok", "skipped", 0.1, 0.4, "null"));
	put("results.jsonl", text);
	put("env.json", "{\"schema\":\"copylab.env/1\",\"run_id\":\"r1\",\"cpu_model\":\"Test CPU\","
			"\"cpus_online\":2,\"kernel\":{\"release\":\"6.1.0-test\"}}");
	put("summary.csv", "scenario,transport,bytes,block,strategy,reps,bytes_per_s_median,tested_cpu_per_gib_median\n"
			   "relay,tcp,1073741824,65536,readwrite,3,200000000,0.5\n"
			   "relay,tcp,1073741824,65536,splice,2,300000000,0.2\n");
}

/* ---- CSV --------------------------------------------------------------------- */

static void test_csv_quotes_and_breaks(void **state UNUSED)
{
	struct rr_csv c;
	char err[256];

	assert_int_equal(rr_csv_parse("a,b,c\r\n1,\"x, y\",\"say \"\"hi\"\"\"\n,\"two\nlines\",\n", "t.csv", &c,
				      err, sizeof(err)), 0);
	assert_int_equal(c.ncols, 3);
	assert_int_equal(c.nrows, 2);
	assert_string_equal(rr_csv_get(&c, 0, "a"), "1");
	assert_string_equal(rr_csv_get(&c, 0, "b"), "x, y");
	assert_string_equal(rr_csv_get(&c, 0, "c"), "say \"hi\"");
	assert_string_equal(rr_csv_get(&c, 1, "a"), "");
	assert_string_equal(rr_csv_get(&c, 1, "b"), "two\nlines");
	assert_string_equal(rr_csv_get(&c, 1, "c"), "");
	assert_null(rr_csv_get(&c, 0, "nope"));
	assert_null(rr_csv_get(&c, 2, "a"));
	assert_int_equal(rr_csv_col(&c, "c"), 2);
	rr_csv_free(&c);
}

static void test_csv_errors_name_the_line(void **state UNUSED)
{
	struct rr_csv c;
	char err[256];

	assert_int_equal(rr_csv_parse("a,b\n1,2\n1,2,3\n", "s.csv", &c, err, sizeof(err)), -1);
	assert_string_equal(err, "s.csv:3: 3 fields, but the header has 2");
	assert_int_equal(rr_csv_parse("a,b\n1,\"open\n", "s.csv", &c, err, sizeof(err)), -1);
	assert_string_equal(err, "s.csv:2: malformed quoted field");
	assert_int_equal(rr_csv_parse("a,b\n1,x\"y\n", "s.csv", &c, err, sizeof(err)), -1);
	assert_string_equal(err, "s.csv:2: malformed quoted field");
	assert_int_equal(rr_csv_parse("", "s.csv", &c, err, sizeof(err)), -1);
	assert_string_equal(err, "s.csv:1: no header");
}

/* ---- the directory ------------------------------------------------------------- */

static bool m_bps(json_t *r, const void *arg UNUSED, double *v)
{
	return rr_num(r, "bytes_per_s", v);
}

static void test_open_groups_cells(void **state UNUSED)
{
	struct rr_dir d;
	char err[512], m[256];
	double med, lo, hi;

	write_run();
	assert_int_equal(rr_open(dir, &d, err, sizeof(err)), RR_OK);
	assert_int_equal(d.nrec, 5);
	assert_int_equal(d.rec_line[3], 5);	/* a blank line 4 is skipped, numbering kept */
	assert_int_equal(d.ncells, 2);
	assert_string_equal(d.cell[0].strategy, "readwrite");
	assert_string_equal(d.cell[0].tested_role, "relay");
	assert_int_equal(d.cell[0].nreps, 3);
	assert_int_equal(d.cell[0].nusable, 3);	/* skipped verification still gives a figure */
	assert_int_equal(d.cell[0].nverified, 2);
	assert_int_equal(d.cell[1].nreps, 2);
	assert_int_equal(d.cell[1].nusable, 1);	/* the mismatch gives none */

	assert_int_equal(rr_cell_stat(&d, &d.cell[0], m_bps, NULL, &med, &lo, &hi), 3);
	assert_true(med == 200e6 && lo == 100e6 && hi == 400e6);
	assert_int_equal(rr_cell_stat(&d, &d.cell[1], m_bps, NULL, &med, &lo, &hi), 1);
	assert_true(med == 300e6 && lo == 300e6 && hi == 300e6);

	assert_true(d.have_summary);
	assert_int_equal(summary_row(&d, "relay", "tcp", 1073741824, 65536, 1, 0, "splice"), 1);
	assert_int_equal(summary_row(&d, "relay", "unix", 1073741824, 65536, 1, 0, "splice"), -1);
	/* a summary without a conns column is one connection a cell */
	assert_int_equal(summary_row(&d, "relay", "tcp", 1073741824, 65536, 8, 0, "splice"), -1);
	/* ... and without a pipe_size_asked column, the default pipe */
	assert_int_equal(rr_summary_pipe(&d.summary, 1), 0);
	assert_int_equal(summary_row(&d, "relay", "tcp", 1073741824, 65536, 1, 1048576, "splice"), -1);
	/* records from before pipe_size_asked asked for the default pipe */
	assert_int_equal(rr_pipe_asked(d.rec[0]), 0);
	assert_string_equal(rr_machine(&d, m, sizeof(m)), "Test CPU, 2 CPUs, Linux 6.1.0-test");

	double v;

	assert_true(rr_num(d.rec[1], "roles.relay.bpf.bytes_to_user", &v) && v == 0);
	assert_false(rr_num(d.rec[0], "roles.relay.bpf.bytes_to_user", &v));	/* bpf is null */
	assert_string_equal(rr_str(d.rec[0], "metrics.bpf"), "off (--no-bpf)");
	assert_null(rr_get(d.rec[0], "roles.nobody.cpu_user_s"));
	rr_close(&d);
}

/*
 * A summary of today's columns (pipe_size_asked last) beside records that
 * have the key (a number, or null for the default): the rows of each pipe
 * size are found apart.
 */
static void test_pipe_size_asked(void **state UNUSED)
{
	struct rr_dir d;
	char err[512], text[4096], *a, *b;

	a = record("readwrite", 1, 100e6, "ok", "ok", 0.1, 0.3, "null");
	b = record("readwrite", 1, 200e6, "ok", "ok", 0.1, 0.3, "null");
	/* the same record, asked for the default (null) and for 1 MiB */
	a[strlen(a) - 2] = '\0';
	b[strlen(b) - 2] = '\0';
	snprintf(text, sizeof(text), "%s,\"pipe_size_asked\":null}\n%s,\"pipe_size_asked\":1048576}\n", a, b);
	put("results.jsonl", text);
	put("summary.csv", "scenario,transport,bytes,block,strategy,bytes_per_s_median,tested_cpu_per_gib_median,"
			   "cache,outstanding,conns,pipe_size_asked\n"
			   "relay,tcp,1073741824,65536,readwrite,100000000,0.4,warm,0,1,0\n"
			   "relay,tcp,1073741824,65536,readwrite,200000000,0.4,warm,0,1,1048576\n");
	assert_int_equal(rr_open(dir, &d, err, sizeof(err)), RR_OK);
	assert_int_equal(d.nrec, 2);
	assert_int_equal(rr_pipe_asked(d.rec[0]), 0);
	assert_int_equal(rr_pipe_asked(d.rec[1]), 1048576);
	assert_int_equal(rr_summary_pipe(&d.summary, 0), 0);
	assert_int_equal(rr_summary_pipe(&d.summary, 1), 1048576);
	assert_int_equal(summary_row(&d, "relay", "tcp", 1073741824, 65536, 1, 0, "readwrite"), 0);
	assert_int_equal(summary_row(&d, "relay", "tcp", 1073741824, 65536, 1, 1048576, "readwrite"), 1);
	assert_int_equal(summary_row(&d, "relay", "tcp", 1073741824, 65536, 1, 4096, "readwrite"), -1);
	rr_close(&d);
}

/* Reps bounded by time move different counts: one cell by their time, apart from a sized one. */
static void test_timed_reps_one_cell(void **state UNUSED)
{
	struct rr_dir d;
	char err[512], text[4096], *r[3];

	for (int i = 0; i < 3; i++) {
		r[i] = record("readwrite", i + 1, 100e6, "ok", "ok", 0.1, 0.3, "null");
		r[i][strlen(r[i]) - 2] = '\0';
	}
	snprintf(text, sizeof(text), "%s,\"time_s\":1,\"bounded_by\":\"time\"}\n%s,\"time_s\":1,\"bounded_by\":\"time\"}\n%s}\n",
		 r[0], r[1], r[2]);
	/* the two timed records moved other counts than the sized one's 1 GiB, and than each other */
	*strstr(text, "1073741824") = '2';
	*strstr(strstr(text, "\n"), "1073741824") = '3';
	put("results.jsonl", text);
	assert_int_equal(rr_open(dir, &d, err, sizeof(err)), RR_OK);
	assert_int_equal(d.nrec, 3);
	assert_int_equal(d.ncells, 2);
	assert_int_equal(d.cell[0].nreps, 2);
	assert_true(d.cell[0].time_s == 1);
	assert_int_equal(d.cell[1].nreps, 1);
	assert_true(d.cell[1].time_s == 0);
	rr_close(&d);
}

static void test_optional_files(void **state UNUSED)
{
	struct rr_dir d;
	char err[512], m[256];
	char path[128];

	write_run();
	snprintf(path, sizeof(path), "%s/env.json", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/summary.csv", dir);
	unlink(path);
	assert_int_equal(rr_open(dir, &d, err, sizeof(err)), RR_OK);
	assert_null(d.env);
	assert_non_null(strstr(d.env_note, "env.json"));
	assert_false(d.have_summary);
	assert_string_equal(rr_machine(&d, m, sizeof(m)), "unknown machine (no env.json)");
	rr_close(&d);
}

static void expect_bad(const char *jsonl, const char *want)
{
	struct rr_dir d;
	char err[512];

	write_run();
	put("results.jsonl", jsonl);
	assert_int_equal(rr_open(dir, &d, err, sizeof(err)), RR_BAD);
	if (!strstr(err, want))
		fail_msg("error '%s' does not contain '%s'", err, want);
}

static void test_errors_name_file_and_line(void **state UNUSED)
{
	struct rr_dir d;
	char err[512], text[4096], path[128];

	snprintf(text, sizeof(text), "%s{\"schema\": oops\n", record("readwrite", 1, 1, "ok", "ok", 0, 0, "null"));
	expect_bad(text, "/results.jsonl:2: not valid JSON");
	expect_bad("[1,2]\n", "results.jsonl:1: not a JSON object");
	expect_bad("{\"schema\":\"copylab.rep/1\"}\n", "results.jsonl:1: key 'scenario' is missing");
	snprintf(text, sizeof(text), "%s", record("readwrite", 1, 1, "ok", "ok", 0, 0, "null"));
	*strstr(text, "1073741824") = '"';	/* bytes becomes a broken string */
	expect_bad(text, "results.jsonl:1:");
	snprintf(text, sizeof(text), "%s", record("readwrite", 1, 1, "ok", "ok", 0, 0, "null"));
	memcpy(strstr(text, "rep/1"), "rep/2", 5);
	expect_bad(text, "results.jsonl:1: schema 'copylab.rep/2' is newer than this copylab reads");
	expect_bad("\n\n", "results.jsonl: no records");

	write_run();
	put("env.json", "{ nope");
	assert_int_equal(rr_open(dir, &d, err, sizeof(err)), RR_BAD);
	assert_non_null(strstr(err, "env.json:1:"));
	write_run();
	put("summary.csv", "scenario,transport\nrelay\n");
	assert_int_equal(rr_open(dir, &d, err, sizeof(err)), RR_BAD);
	assert_non_null(strstr(err, "summary.csv:2: 1 fields, but the header has 2"));
	write_run();
	put("summary.csv", "scenario,transport\nrelay,tcp\n");
	assert_int_equal(rr_open(dir, &d, err, sizeof(err)), RR_BAD);
	assert_non_null(strstr(err, "summary.csv:1: no column 'bytes'"));

	write_run();
	snprintf(path, sizeof(path), "%s/results.jsonl", dir);
	unlink(path);
	assert_int_equal(rr_open(dir, &d, err, sizeof(err)), RR_BAD);
	assert_non_null(strstr(err, "results.jsonl: No such file or directory"));
	snprintf(path, sizeof(path), "%s/missing", dir);
	assert_int_equal(rr_open(path, &d, err, sizeof(err)), RR_NO_DIR);
	assert_non_null(strstr(err, "missing: No such file or directory"));
	snprintf(path, sizeof(path), "%s/env.json", dir);
	assert_int_equal(rr_open(path, &d, err, sizeof(err)), RR_NO_DIR);
	assert_non_null(strstr(err, "not a directory"));
}

static void test_median(void **state UNUSED)
{
	double odd[] = { 3, 1, 2 }, even[] = { 4, 1, 3, 2 };

	assert_true(rr_median(odd, 3) == 2);
	assert_true(rr_median(even, 4) == 2.5);
	assert_true(isnan(rr_median(NULL, 0)));
}

/* ---- limits ------------------------------------------------------------------- */

static void expect_read_error(const char *path, size_t cap, int want_rc, const char *want)
{
	char err[512] = "", *text = (char *)1;
	int rc = bounded_read(path, cap, &text, NULL, err, sizeof(err));

	assert_int_equal(rc, want_rc);
	assert_null(text);
	if (!strstr(err, want))
		fail_msg("error '%s' does not contain '%s'", err, want);
}

static void test_bounded_read(void **state UNUSED)
{
	char path[128], link[128], err[256], *text;
	size_t len;

	put("ok.txt", "hello\n");
	snprintf(path, sizeof(path), "%s/ok.txt", dir);
	assert_int_equal(bounded_read(path, 6, &text, &len, err, sizeof(err)), 0);
	assert_int_equal(len, 6);
	assert_string_equal(text, "hello\n");
	free(text);
	/* A symlink to a regular file is the file. */
	snprintf(link, sizeof(link), "%s/link.txt", dir);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(bounded_read(link, 64, &text, NULL, err, sizeof(err)), 0);
	assert_string_equal(text, "hello\n");
	free(text);

	expect_read_error(path, 5, -EFBIG, "ok.txt: 6 bytes, more than the 0 MiB");
	expect_read_error("/dev/zero", 1 << 20, -EINVAL, "/dev/zero: not a regular file (a character device)");
	expect_read_error(dir, 1 << 20, -EINVAL, "not a regular file (a directory)");
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	expect_read_error(path, 1 << 20, -EINVAL, "fifo: not a regular file (a FIFO)");	/* and did not block */
	snprintf(path, sizeof(path), "%s/none", dir);
	expect_read_error(path, 1 << 20, -ENOENT, "none: No such file or directory");
	snprintf(path, sizeof(path), "%s/nul.txt", dir);
	{
		int fd = open(path, O_WRONLY | O_CREAT, 0644);

		assert_int_equal(write(fd, "ab\0cd", 5), 5);
		close(fd);
	}
	expect_read_error(path, 1 << 20, -EILSEQ, "nul.txt: a NUL byte at offset 2");
}

static void expect_summary(const char *csv, int want_rc, const char *want)
{
	struct rr_csv c;
	char err[512] = "";

	assert_int_equal(rr_csv_parse(csv, "s.csv", &c, err, sizeof(err)), 0);
	assert_int_equal(rr_summary_check(&c, "s.csv", err, sizeof(err)), want_rc);
	if (want && !strstr(err, want))
		fail_msg("error '%s' does not contain '%s'", err, want);
	rr_csv_free(&c);
}

static void test_summary_numbers(void **state UNUSED)
{
	static const char head[] = "scenario,strategy,bytes,bytes_per_s_median,ratio_ci_lo,difference,later\n";
	char csv[512];

	snprintf(csv, sizeof(csv), "%srelay,splice,1024,3.5e9,0.9,faster,words\nrelay,nat,1024,,,,\n", head);
	expect_summary(csv, 0, NULL);
	snprintf(csv, sizeof(csv), "%srelay,splice,1024,3,1,,\nrelay,nat,1024,nan,1,,\n", head);
	expect_summary(csv, -1, "s.csv:3: column 'bytes_per_s_median' is 'nan' (want a finite number");
	snprintf(csv, sizeof(csv), "%srelay,splice,1024,inf,1,,\n", head);
	expect_summary(csv, -1, "s.csv:2: column 'bytes_per_s_median' is 'inf'");
	snprintf(csv, sizeof(csv), "%srelay,splice,1024,-1e308,1,,\n", head);
	expect_summary(csv, -1, "s.csv:2: column 'bytes_per_s_median' is '-1e308'");
	snprintf(csv, sizeof(csv), "%srelay,splice,1024,1e999,1,,\n", head);
	expect_summary(csv, -1, "column 'bytes_per_s_median' is '1e999'");
	snprintf(csv, sizeof(csv), "%srelay,splice,1024,3,-0.5,,\n", head);
	expect_summary(csv, -1, "column 'ratio_ci_lo' is '-0.5'");
	snprintf(csv, sizeof(csv), "%srelay,splice,lots,3,1,,\n", head);
	expect_summary(csv, -1, "column 'bytes' is 'lots' (want a number or nothing)");
	/* A column this reader does not know may hold words, but not a nan. */
	snprintf(csv, sizeof(csv), "%srelay,splice,1,3,1,,NaN\n", head);
	expect_summary(csv, -1, "column 'later' is 'NaN'");
	/* Text columns are text, whatever they spell. */
	snprintf(csv, sizeof(csv), "%sinf,nan,1,3,1,,\n", head);
	expect_summary(csv, 0, NULL);
	/* A quoted line break: the row after it is on line 4. */
	snprintf(csv, sizeof(csv), "%s\"relay\nx\",splice,1,3,1,,\nrelay,splice,1,-3,1,,\n", head);
	expect_summary(csv, -1, "s.csv:4: column 'bytes_per_s_median'");
}

static void test_record_numbers(void **state UNUSED)
{
	struct rr_dir d;
	char err[512], text[2048];
	json_t *j;

	j = json_loads("{\"a\":1,\"roles\":{\"w\":{\"cpu_sys_s\":-0.5}}}", 0, NULL);
	assert_int_equal(rr_record_check_numbers(j, "f", 7, err, sizeof(err)), -1);
	assert_string_equal(err, "f:7: key 'roles.w.cpu_sys_s' is -0.5 (want a finite number from 0 to 1e18)");
	json_decref(j);
	j = json_loads("{\"per\":[1,2,1e300]}", 0, NULL);
	assert_int_equal(rr_record_check_numbers(j, "f", 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "key 'per[2]' is 1e+300"));
	json_decref(j);
	j = json_loads("{\"a\":0,\"b\":null,\"c\":{\"d\":1e18}}", 0, NULL);
	assert_int_equal(rr_record_check_numbers(j, "f", 1, err, sizeof(err)), 0);
	json_decref(j);

	/* In a directory: refused (usage), not malformed. */
	write_run();
	snprintf(text, sizeof(text), "%s%s", record("readwrite", 1, 100e6, "ok", "ok", 0.1, 0.3, "null"),
		 record("splice", 1, -1e308, "ok", "ok", 0.0, 0.2, "null"));
	put("results.jsonl", text);
	assert_int_equal(rr_open(dir, &d, err, sizeof(err)), RR_REFUSED);
	assert_non_null(strstr(err, "results.jsonl:2: key 'bytes_per_s' is -1e+308"));
	write_run();
	put("summary.csv", "scenario,transport,bytes,block,strategy,bytes_per_s_median,tested_cpu_per_gib_median\n"
			   "relay,tcp,1073741824,65536,splice,nan,0.2\n");
	assert_int_equal(rr_open(dir, &d, err, sizeof(err)), RR_REFUSED);
	assert_non_null(strstr(err, "summary.csv:2: column 'bytes_per_s_median' is 'nan'"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csv_quotes_and_breaks),
		cmocka_unit_test(test_csv_errors_name_the_line),
		cmocka_unit_test_setup_teardown(test_open_groups_cells, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipe_size_asked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timed_reps_one_cell, setup, teardown),
		cmocka_unit_test_setup_teardown(test_optional_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors_name_file_and_line, setup, teardown),
		cmocka_unit_test(test_median),
		cmocka_unit_test_setup_teardown(test_bounded_read, setup, teardown),
		cmocka_unit_test(test_summary_numbers),
		cmocka_unit_test_setup_teardown(test_record_numbers, setup, teardown),
	};

	return cmocka_run_group_tests_name("results_read", tests, NULL, NULL);
}
