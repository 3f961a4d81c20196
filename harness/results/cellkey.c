/* SPDX-License-Identifier: MIT */
/* Which summary rows and records are one cell (cellkey.h). */
#include "cellkey.h"

#include <stdlib.h>
#include <string.h>

/* A summary field as a count: DEF where the column is absent or empty (a run older than it). */
static uint64_t row_count(const struct rr_csv *c, size_t row, const char *col, uint64_t def)
{
	const char *v = rr_csv_get(c, row, col);

	return v && *v ? strtoull(v, NULL, 10) : def;
}

static double row_real(const struct rr_csv *c, size_t row, const char *col)
{
	const char *v = rr_csv_get(c, row, col);
	double x = v && *v ? strtod(v, NULL) : 0;

	return x > 0 ? x : 0;
}

static unsigned at_least_one(uint64_t v)
{
	return v >= 1 ? (unsigned)v : 1;
}

/* "warm" where a run does not say (older runs, scenarios without a file input). */
static const char *cache_or_warm(const char *v)
{
	return v && *v ? v : "warm";
}

bool rr_row_key(const struct rr_csv *c, size_t row, struct rr_cell_key *k)
{
	const char *by = rr_csv_get(c, row, "bytes"), *bl = rr_csv_get(c, row, "block");

	memset(k, 0, sizeof(*k));
	k->scenario = rr_csv_get(c, row, "scenario");
	k->transport = rr_csv_get(c, row, "transport");
	k->strategy = rr_csv_get(c, row, "strategy");
	if (!k->scenario || !k->transport || !k->strategy || !by || !bl)
		return false;
	k->bytes = strtoull(by, NULL, 10);
	k->block = strtoull(bl, NULL, 10);
	k->cache = cache_or_warm(rr_csv_get(c, row, "cache"));
	k->outstanding = at_least_one(row_count(c, row, "outstanding", 1));
	k->conns = at_least_one(rr_summary_conns(c, row));
	k->pipe = rr_summary_pipe(c, row);
	k->rps = (unsigned)row_count(c, row, "rps", 0);
	k->time_s = row_real(c, row, "time_s");
	/* An answer of the request's size is an echo, however it was asked (a --sweep block= value can be it). */
	k->response = row_count(c, row, "response", 0);
	if (k->response == k->block)
		k->response = 0;
	return true;
}

/* A record's number at PATH as a count, 0 where absent or null. */
static uint64_t rec_count(json_t *rec, const char *path)
{
	double v;

	return rr_num(rec, path, &v) && v > 0 ? (uint64_t)v : 0;
}

bool rr_record_key(json_t *rec, struct rr_cell_key *k)
{
	double by, bl, t;

	memset(k, 0, sizeof(*k));
	k->scenario = rr_str(rec, "scenario");
	k->transport = rr_str(rec, "transport");
	k->strategy = rr_str(rec, "strategy");
	if (!k->scenario || !k->transport || !k->strategy || !rr_num(rec, "bytes", &by) || !rr_num(rec, "block", &bl))
		return false;
	k->bytes = (uint64_t)by;
	k->block = (uint64_t)bl;
	k->cache = cache_or_warm(rr_str(rec, "cache"));
	k->outstanding = at_least_one(rec_count(rec, "latency.outstanding"));
	k->conns = rr_conns(rec);
	k->pipe = rr_pipe_asked(rec);
	k->rps = (unsigned)rec_count(rec, "latency.offered_rps");
	k->time_s = rr_num(rec, "time_s", &t) && t > 0 ? t : 0;
	/* A record names the answer's size always; the summary only where it is not the request's. */
	k->response = rec_count(rec, "latency.response_bytes");
	if (k->response == k->block)
		k->response = 0;
	return true;
}

bool rr_same_point(const struct rr_cell_key *a, const struct rr_cell_key *b)
{
	bool timed = a->time_s > 0 || b->time_s > 0;

	return !strcmp(a->scenario, b->scenario) && !strcmp(a->transport, b->transport) &&
	       (timed ? a->time_s == b->time_s : a->bytes == b->bytes) && a->block == b->block &&
	       !strcmp(a->cache, b->cache) && a->outstanding == b->outstanding && a->conns == b->conns &&
	       a->pipe == b->pipe && a->rps == b->rps && a->response == b->response;
}

bool rr_same_cell(const struct rr_cell_key *a, const struct rr_cell_key *b)
{
	return rr_same_point(a, b) && !strcmp(a->strategy, b->strategy);
}

long rr_summary_row_of(const struct rr_dir *d, const struct rr_cell_key *k)
{
	struct rr_cell_key r;

	for (size_t row = 0; row < d->summary.nrows; row++)
		if (rr_row_key(&d->summary, row, &r) && rr_same_cell(&r, k))
			return (long)row;
	return -1;
}

long rr_summary_same_cell(const struct rr_dir *d, const struct rr_csv *b, size_t row)
{
	struct rr_cell_key k;

	return rr_row_key(b, row, &k) ? rr_summary_row_of(d, &k) : -1;
}

bool rr_record_in_row(json_t *rec, const struct rr_csv *c, size_t row)
{
	struct rr_cell_key kr, kc;

	return rr_record_key(rec, &kr) && rr_row_key(c, row, &kc) && rr_same_cell(&kr, &kc);
}
