/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of harness/results/cellkey.c: which summary rows and records
 * are one cell.  Every condition a run can vary splits cells; a run bounded
 * by time pairs by its time, whatever each rep moved; columns and keys a run
 * predates read as their defaults.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "harness/results/cellkey.h"

#define UNUSED __attribute__((unused))

static json_t *rec(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);

	assert_non_null(j);
	return j;
}

static void parse(const char *csv, struct rr_csv *c)
{
	char err[200];

	memset(c, 0, sizeof(*c));
	assert_int_equal(rr_csv_parse(csv, "summary.csv", c, err, sizeof(err)), 0);
}

/* A record is its row's when every column of the cell matches; absent columns read as the defaults. */
static void test_record_in_row(void **state UNUSED)
{
	struct rr_csv c;
	json_t *warm = rec("{\"scenario\":\"serve\",\"transport\":\"tcp\",\"bytes\":1024,\"block\":512,"
			   "\"strategy\":\"splice\",\"cache\":\"warm\",\"latency\":null}");
	json_t *old = rec("{\"scenario\":\"serve\",\"transport\":\"tcp\",\"bytes\":1024,\"block\":512,"
			  "\"strategy\":\"splice\"}");
	json_t *other = rec("{\"scenario\":\"serve\",\"transport\":\"tcp\",\"bytes\":2048,\"block\":512,"
			    "\"strategy\":\"splice\"}");

	parse("scenario,transport,bytes,block,strategy,cache,outstanding,conns,pipe_size_asked\n"
	      "serve,tcp,1024,512,splice,warm,0,1,0\n"
	      "serve,tcp,1024,512,splice,cold,0,1,0\n", &c);
	assert_true(rr_record_in_row(warm, &c, 0));
	assert_false(rr_record_in_row(warm, &c, 1));
	assert_true(rr_record_in_row(old, &c, 0));
	assert_false(rr_record_in_row(other, &c, 0));
	rr_csv_free(&c);
	json_decref(warm);
	json_decref(old);
	json_decref(other);
}

/*
 * Timed cells: reps that moved different counts are the row's by their
 * time; another time, or a sized run of the same count, is not.
 */
static void test_timed_by_time(void **state UNUSED)
{
	struct rr_csv c;
	json_t *moved_more = rec("{\"scenario\":\"relay\",\"transport\":\"tcp\",\"bytes\":9000000,\"block\":65536,"
				 "\"strategy\":\"splice\",\"bounded_by\":\"time\",\"time_s\":2.0}");
	json_t *other_time = rec("{\"scenario\":\"relay\",\"transport\":\"tcp\",\"bytes\":7000000,\"block\":65536,"
				 "\"strategy\":\"splice\",\"bounded_by\":\"time\",\"time_s\":3.0}");
	json_t *sized = rec("{\"scenario\":\"relay\",\"transport\":\"tcp\",\"bytes\":7000000,\"block\":65536,"
			    "\"strategy\":\"splice\",\"bounded_by\":\"size\",\"time_s\":null}");
	struct rr_cell_key a, b;

	parse("scenario,transport,bytes,block,strategy,rps,time_s,response\n"
	      "relay,tcp,7000000,65536,splice,0,2,0\n"
	      "relay,tcp,7000000,65536,splice,0,0,0\n", &c);
	assert_true(rr_record_in_row(moved_more, &c, 0));
	assert_false(rr_record_in_row(other_time, &c, 0));
	assert_false(rr_record_in_row(sized, &c, 0));
	assert_true(rr_record_in_row(sized, &c, 1));
	assert_false(rr_record_in_row(moved_more, &c, 1));
	/* two rows: a timed and a sized one of the same count are different points */
	assert_true(rr_row_key(&c, 0, &a) && rr_row_key(&c, 1, &b));
	assert_false(rr_same_point(&a, &b));
	assert_true(a.time_s == 2 && b.time_s == 0);
	rr_csv_free(&c);
	json_decref(moved_more);
	json_decref(other_time);
	json_decref(sized);
}

/* The offered load and the answer's size split cells; an answer of the request's size is the default. */
static void test_load_and_answer(void **state UNUSED)
{
	struct rr_csv c;
	json_t *at1000 = rec("{\"scenario\":\"echo\",\"transport\":\"tcp\",\"bytes\":1048576,\"block\":1024,"
			     "\"strategy\":\"readwrite\",\"latency\":{\"outstanding\":1,\"offered_rps\":1000,"
			     "\"response_bytes\":1024}}");
	json_t *at4000 = rec("{\"scenario\":\"echo\",\"transport\":\"tcp\",\"bytes\":1048576,\"block\":1024,"
			     "\"strategy\":\"readwrite\",\"latency\":{\"outstanding\":1,\"offered_rps\":4000,"
			     "\"response_bytes\":1024}}");
	json_t *big = rec("{\"scenario\":\"echo\",\"transport\":\"tcp\",\"bytes\":1048576,\"block\":1024,"
			  "\"strategy\":\"readwrite\",\"latency\":{\"outstanding\":1,\"offered_rps\":null,"
			  "\"response_bytes\":65536}}");
	struct rr_cell_key k;

	parse("scenario,transport,bytes,block,strategy,outstanding,rps,time_s,response\n"
	      "echo,tcp,1048576,1024,readwrite,1,1000,0,0\n"
	      "echo,tcp,1048576,1024,readwrite,1,4000,0,0\n"
	      "echo,tcp,1048576,1024,readwrite,1,0,0,65536\n", &c);
	assert_true(rr_record_in_row(at1000, &c, 0));
	assert_false(rr_record_in_row(at1000, &c, 1));
	assert_true(rr_record_in_row(at4000, &c, 1));
	assert_true(rr_record_in_row(big, &c, 2));
	assert_false(rr_record_in_row(big, &c, 0));
	assert_true(rr_record_key(at1000, &k));
	assert_int_equal(k.response, 0);
	assert_int_equal(k.rps, 1000);
	rr_csv_free(&c);
	/* --sweep block= with --response: the value whose block is the answer's size is an echo on both sides */
	parse("scenario,transport,bytes,block,strategy,outstanding,rps,time_s,response\n"
	      "echo,tcp,1048576,1024,readwrite,1,1000,0,1024\n", &c);
	assert_true(rr_record_in_row(at1000, &c, 0));
	rr_csv_free(&c);
	json_decref(at1000);
	json_decref(at4000);
	json_decref(big);
}

/* Two runs' summaries: a row of B finds A's row of the same cell, an older A without the newer columns included. */
static void test_same_cell_across_runs(void **state UNUSED)
{
	struct rr_dir a;
	struct rr_csv b;

	memset(&a, 0, sizeof(a));
	parse("scenario,transport,bytes,block,strategy,cache,outstanding,conns,pipe_size_asked\n"
	      "relay,tcp,1073741824,65536,splice,warm,0,1,0\n"
	      "relay,tcp,1073741824,65536,readwrite,warm,0,1,0\n", &a.summary);
	parse("scenario,transport,bytes,block,strategy,cache,outstanding,conns,pipe_size_asked,rps,time_s,response\n"
	      "relay,tcp,1073741824,65536,readwrite,warm,0,1,0,0,0,0\n"
	      "relay,tcp,1073741824,65536,readwrite,warm,0,1,0,0,10,0\n"
	      "relay,tcp,1073741824,65536,readwrite,warm,0,8,0,0,0,0\n"
	      "relay,tcp,1073741824,65536,readwrite,warm,0,1,0,1000,0,0\n", &b);
	assert_int_equal(rr_summary_same_cell(&a, &b, 0), 1);
	assert_int_equal(rr_summary_same_cell(&a, &b, 1), -1);	/* timed: not A's sized cell */
	assert_int_equal(rr_summary_same_cell(&a, &b, 2), -1);	/* 8 connections */
	assert_int_equal(rr_summary_same_cell(&a, &b, 3), -1);	/* a round trip at an offered load */
	rr_csv_free(&a.summary);
	rr_csv_free(&b);
}

/* A row or record without a column every one has is no cell at all. */
static void test_incomplete(void **state UNUSED)
{
	struct rr_csv c;
	struct rr_cell_key k;
	json_t *r = rec("{\"scenario\":\"relay\",\"transport\":\"tcp\",\"strategy\":\"splice\",\"block\":4096}");

	parse("scenario,transport,strategy,block\nrelay,tcp,splice,4096\n", &c);
	assert_false(rr_row_key(&c, 0, &k));
	assert_false(rr_record_key(r, &k));
	assert_false(rr_record_in_row(r, &c, 0));
	rr_csv_free(&c);
	json_decref(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_in_row),
		cmocka_unit_test(test_timed_by_time),
		cmocka_unit_test(test_load_and_answer),
		cmocka_unit_test(test_same_cell_across_runs),
		cmocka_unit_test(test_incomplete),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
