/* SPDX-License-Identifier: MIT */
/*
 * Reads a run directory back: results.jsonl (checked line by line),
 * summary.csv (RFC 4180) and env.json, and groups the records into cells.
 * The writer is harness/results/write.c; the format is docs/results.md.
 */
#include "read.h"
#include "harness/model/base.h"
#include "bounded.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- small helpers ------------------------------------------------------ */

json_t *rr_get(json_t *obj, const char *path)
{
	char key[128];
	const char *p = path;

	while (obj && *p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);

		if (!json_is_object(obj) || n >= sizeof(key))
			return NULL;
		memcpy(key, p, n);
		key[n] = '\0';
		obj = json_object_get(obj, key);
		p += n + (dot ? 1 : 0);
	}
	return obj;
}

bool rr_num(json_t *obj, const char *path, double *out)
{
	json_t *v = rr_get(obj, path);

	if (!json_is_number(v))
		return false;
	*out = json_number_value(v);
	return true;
}

const char *rr_str(json_t *obj, const char *path)
{
	return json_string_value(rr_get(obj, path));
}

/* ---- CSV ---------------------------------------------------------------- */

struct strvec {
	char **v;
	size_t n, cap;
};

static int strvec_push(struct strvec *s, char *str)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 32;
		char **nv = realloc(s->v, cap * sizeof(*nv));

		if (!nv)
			return -1;
		s->v = nv;
		s->cap = cap;
	}
	s->v[s->n++] = str;
	return 0;
}

/*
 * One record (line) of CSV from *pp into fields; quoted fields may hold
 * commas, doubled quotes and line breaks.  Returns the number of fields,
 * or -1 on a malformed quote.
 */
static long csv_record(const char **pp, struct strvec *out, int *line)
{
	const char *p = *pp;
	long nf = 0;

	for (;;) {
		size_t cap = 64, n = 0;
		char *f = malloc(cap);

		if (!f)
			return -1;
		if (*p == '"') {
			p++;
			for (;;) {
				if (*p == '\0') {
					free(f);
					return -1;	/* unterminated quote */
				}
				if (*p == '"' && p[1] == '"') {
					p += 2;
					f[n++] = '"';
				} else if (*p == '"') {
					p++;
					break;
				} else {
					if (*p == '\n')
						(*line)++;
					f[n++] = *p++;
				}
				if (n + 1 >= cap && !(f = realloc(f, cap *= 2)))
					return -1;
			}
			if (*p != ',' && *p != '\n' && *p != '\r' && *p != '\0') {
				free(f);
				return -1;	/* text after a closing quote */
			}
		} else {
			while (*p && *p != ',' && *p != '\n' && *p != '\r') {
				if (*p == '"') {
					free(f);
					return -1;	/* a quote inside an unquoted field */
				}
				f[n++] = *p++;
				if (n + 1 >= cap && !(f = realloc(f, cap *= 2)))
					return -1;
			}
		}
		f[n] = '\0';
		if (strvec_push(out, f)) {
			free(f);
			return -1;
		}
		nf++;
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p == '\r')
			p++;
		if (*p == '\n')
			p++;
		break;
	}
	*pp = p;
	return nf;
}

int rr_csv_parse(const char *text, const char *name, struct rr_csv *c, char *err, size_t errlen)
{
	struct strvec all = { 0 };
	const char *p = text;
	int line = 1, *lines = NULL;
	size_t lines_cap = 0;

	memset(c, 0, sizeof(*c));
	while (*p) {
		int at = line;
		long nf = csv_record(&p, &all, &line);

		line++;
		if (nf < 0) {
			for (size_t i = 0; i < all.n; i++)
				free(all.v[i]);
			free(all.v);
			free(lines);
			return errorf(err, errlen, "%s:%d: malformed quoted field", name, at);
		}
		if (c->ncols == 0) {
			c->ncols = nf;
		} else if ((size_t)nf != c->ncols) {
			for (size_t i = 0; i < all.n; i++)
				free(all.v[i]);
			free(all.v);
			free(lines);
			errorf(err, errlen, "%s:%d: %ld fields, but the header has %zu", name, at, nf, c->ncols);
			memset(c, 0, sizeof(*c));
			return -1;
		} else {
			if (c->nrows == lines_cap) {
				int *nl = realloc(lines, (lines_cap = lines_cap ? 2 * lines_cap : 64) * sizeof(*nl));

				if (!nl) {
					for (size_t i = 0; i < all.n; i++)
						free(all.v[i]);
					free(all.v);
					free(lines);
					memset(c, 0, sizeof(*c));
					return errorf(err, errlen, "%s: out of memory", name);
				}
				lines = nl;
			}
			lines[c->nrows++] = at;
		}
	}
	if (c->ncols == 0)
		return errorf(err, errlen, "%s:1: no header", name);
	c->head = all.v;
	c->cells = all.v + c->ncols;
	c->line = lines;
	return 0;
}

void rr_csv_free(struct rr_csv *c)
{
	size_t n = c->ncols * (c->nrows + 1);

	for (size_t i = 0; i < n && c->head; i++)
		free(c->head[i]);
	free(c->head);
	free(c->line);
	memset(c, 0, sizeof(*c));
}

int rr_csv_col(const struct rr_csv *c, const char *name)
{
	for (size_t i = 0; i < c->ncols; i++)
		if (!strcmp(c->head[i], name))
			return (int)i;
	return -1;
}

const char *rr_csv_get(const struct rr_csv *c, size_t row, const char *name)
{
	int col = rr_csv_col(c, name);

	if (col < 0 || row >= c->nrows)
		return NULL;
	return c->cells[row * c->ncols + col];
}

unsigned rr_summary_conns(const struct rr_csv *c, size_t row)
{
	const char *cn = rr_csv_get(c, row, "conns");

	return cn && *cn ? (unsigned)strtoul(cn, NULL, 10) : 1;
}

uint64_t rr_summary_pipe(const struct rr_csv *c, size_t row)
{
	const char *p = rr_csv_get(c, row, "pipe_size_asked");

	return p && *p ? strtoull(p, NULL, 10) : 0;
}

/* ---- records ------------------------------------------------------------ */

/* The keys every chart relies on; anything else is looked up when drawn. */
static int check_record(json_t *r, const char *file, int line, char *err, size_t errlen)
{
	static const struct { const char *key; json_type type; } need[] = {
		{ "schema", JSON_STRING }, { "scenario", JSON_STRING }, { "strategy", JSON_STRING },
		{ "transport", JSON_STRING }, { "bytes", JSON_INTEGER }, { "block", JSON_INTEGER },
		{ "rep", JSON_INTEGER }, { "status", JSON_STRING }, { "verify", JSON_STRING },
		{ "roles", JSON_OBJECT },
	};
	const char *schema;
	json_t *bps = json_object_get(r, "bytes_per_s");
	const char *key;
	json_t *role;

	if (!json_is_object(r))
		return errorf(err, errlen, "%s:%d: not a JSON object", file, line);
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		json_t *v = json_object_get(r, need[i].key);

		if (!v || json_typeof(v) != need[i].type)
			return errorf(err, errlen, "%s:%d: key '%s' is %s (want %s)", file, line, need[i].key,
				    v ? "of the wrong type" : "missing",
				    need[i].type == JSON_STRING ? "a string" :
				    need[i].type == JSON_INTEGER ? "an integer" : "an object");
	}
	schema = json_string_value(json_object_get(r, "schema"));
	if (strncmp(schema, "copylab.rep/", 12))
		return errorf(err, errlen, "%s:%d: schema '%s' is not a copylab.rep record", file, line, schema);
	if (strcmp(schema, "copylab.rep/1"))
		return errorf(err, errlen, "%s:%d: schema '%s' is newer than this copylab reads (copylab.rep/1)",
			    file, line, schema);
	if (!bps || (!json_is_number(bps) && !json_is_null(bps)))
		return errorf(err, errlen, "%s:%d: key 'bytes_per_s' is %s (want a number or null)", file, line,
			    bps ? "of the wrong type" : "missing");
	if (json_object_size(json_object_get(r, "roles")) == 0)
		return errorf(err, errlen, "%s:%d: 'roles' is empty", file, line);
	json_object_foreach(json_object_get(r, "roles"), key, role) {
		if (!json_is_object(role))
			return errorf(err, errlen, "%s:%d: roles.%s is not an object", file, line, key);
		if (!json_is_number(json_object_get(role, "cpu_user_s")) ||
		    !json_is_number(json_object_get(role, "cpu_sys_s")))
			return errorf(err, errlen, "%s:%d: roles.%s has no numeric cpu_user_s and cpu_sys_s",
				    file, line, key);
	}
	return 0;
}

/*
 * A record of scripts/peers.sh (copylab.peer/1, docs/tools.md): a program
 * like nginx or HAProxy measured beside copylab.  It has the figures a
 * chart draws (bytes, wall time, throughput, the tested role's CPU) and
 * none of the harness's (block, ledger, perf).
 */
static int check_peer_record(json_t *r, const char *file, int line, char *err, size_t errlen)
{
	static const struct { const char *key; json_type type; } need[] = {
		{ "scenario", JSON_STRING }, { "strategy", JSON_STRING }, { "transport", JSON_STRING },
		{ "bytes", JSON_INTEGER }, { "rep", JSON_INTEGER }, { "verify", JSON_STRING },
		{ "roles", JSON_OBJECT },
	};
	const char *key;
	json_t *role;

	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		json_t *v = json_object_get(r, need[i].key);

		if (!v || json_typeof(v) != need[i].type)
			return errorf(err, errlen, "%s:%d: key '%s' is %s", file, line, need[i].key,
				    v ? "of the wrong type" : "missing");
	}
	json_object_foreach(json_object_get(r, "roles"), key, role)
		if (!json_is_object(role) || !json_is_number(json_object_get(role, "cpu_user_s")) ||
		    !json_is_number(json_object_get(role, "cpu_sys_s")))
			return errorf(err, errlen, "%s:%d: roles.%s has no numeric cpu_user_s and cpu_sys_s",
				    file, line, key);
	return 0;
}

bool rr_is_peer(json_t *rec)
{
	return json_is_true(json_object_get(rec, "peer"));
}

json_t *rr_record_parse(const char *text, const char *file, int line, char *err, size_t errlen)
{
	json_error_t je;
	json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &je);

	if (!j) {
		errorf(err, errlen, "%s:%d: not valid JSON (column %d: %s)", file, line, je.column, je.text);
		return NULL;
	}
	if (check_record(j, file, line, err, errlen)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* A peer's record as the charts read one: the keys it lacks, filled. */
static int peer_parse(const char *text, const char *file, int line, json_t **out, char *err, size_t errlen)
{
	json_error_t je;
	json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &je);
	const char *schema = j ? rr_str(j, "schema") : NULL;

	if (!j)
		return errorf(err, errlen, "%s:%d: not valid JSON (column %d: %s)", file, line, je.column, je.text);
	if (!json_is_object(j) || !schema || strcmp(schema, "copylab.peer/1")) {
		json_decref(j);
		return errorf(err, errlen, "%s:%d: not a copylab.peer/1 record (scripts/peers.sh writes them)", file, line);
	}
	if (check_peer_record(j, file, line, err, errlen)) {
		json_decref(j);
		return -1;
	}
	/* block comes from the copylab cell of the same data point (peer_blocks), 0 until then */
	json_object_set_new(j, "block", json_integer(0));
	json_object_set_new(j, "status", json_string("ok"));
	json_object_set_new(j, "peer", json_true());
	if (!json_is_number(json_object_get(j, "bytes_per_s")))
		json_object_set_new(j, "bytes_per_s", json_null());
	*out = j;
	return 0;
}

/* What a bounded_read error means for rr_open: refused (not a results file) or malformed. */
static int read_status(int rc)
{
	return rc == -EINVAL || rc == -EFBIG ? RR_REFUSED : RR_BAD;
}

/* The next record of a JSON Lines file into d; 0 or an rr_status. */
static int add_record(struct rr_dir *d, json_t *j, int line, const char *path, char *err, size_t errlen)
{
	if (rr_record_check_numbers(j, path, line, err, errlen)) {
		json_decref(j);
		return RR_REFUSED;
	}
	if (d->nrec % 64 == 0) {
		size_t cap = d->nrec + 64;
		json_t **nr = realloc(d->rec, cap * sizeof(*nr));
		int *nline = nr ? realloc(d->rec_line, cap * sizeof(*nline)) : NULL;

		if (nr)
			d->rec = nr;
		if (!nline) {
			json_decref(j);
			errorf(err, errlen, "out of memory reading %s", path);
			return RR_BAD;
		}
		d->rec_line = nline;
	}
	d->rec[d->nrec] = j;
	d->rec_line[d->nrec++] = line;
	return 0;
}

/*
 * The records of one JSON Lines file: results.jsonl (copylab.rep/1, which
 * must be there unless peers.jsonl is) or peers.jsonl (copylab.peer/1, of
 * scripts/peers.sh run with --out into the same directory).  0 or an
 * rr_status.
 */
static int read_jsonl(struct rr_dir *d, const char *name, bool peers, char *err, size_t errlen)
{
	char path[4200];
	char *text, *p, *nl;
	int line = 0, rc;

	snprintf(path, sizeof(path), "%s/%s", d->path, name);
	rc = bounded_read(path, BOUNDED_CAP_RECORDS, &text, NULL, err, errlen);
	if (rc == -ENOENT)
		errorf(err, errlen, "%s: %s (not a copylab results directory?)", path, strerror(ENOENT));
	if (rc)
		return read_status(rc);
	for (p = text; *p; p = nl ? nl + 1 : p + strlen(p)) {
		json_t *j = NULL;

		nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		line++;
		if (strspn(p, " \t\r") == strlen(p))
			continue;	/* a blank line carries nothing */
		if (peers ? peer_parse(p, path, line, &j, err, errlen) != 0
			  : !(j = rr_record_parse(p, path, line, err, errlen))) {
			free(text);
			return RR_BAD;
		}
		if ((rc = add_record(d, j, line, path, err, errlen))) {
			free(text);
			return rc;
		}
	}
	free(text);
	return 0;
}

/*
 * A peer measured at a data point of the run (same scenario, transport and
 * bytes) takes that point's block, so it stands in the same charts as
 * copylab's strategies; the block is not the peer's own (docs/charts.md).
 */
static void peer_blocks(struct rr_dir *d)
{
	for (size_t i = 0; i < d->nrec; i++) {
		json_t *r = d->rec[i];

		if (!rr_is_peer(r))
			continue;
		for (size_t k = 0; k < d->nrec; k++) {
			json_t *c = d->rec[k];

			if (rr_is_peer(c) || strcmp(rr_str(c, "scenario"), rr_str(r, "scenario")) ||
			    strcmp(rr_str(c, "transport"), rr_str(r, "transport")) ||
			    json_integer_value(json_object_get(c, "bytes")) != json_integer_value(json_object_get(r, "bytes")) ||
			    rr_conns(c) != 1)
				continue;
			json_object_set(r, "block", json_object_get(c, "block"));
			break;
		}
	}
}

/* results.jsonl and peers.jsonl; 0 or an rr_status. */
static int read_records(struct rr_dir *d, char *err, size_t errlen)
{
	char path[4200];
	bool have_peers;
	int rc;

	snprintf(path, sizeof(path), "%s/peers.jsonl", d->path);
	have_peers = access(path, F_OK) == 0;
	snprintf(path, sizeof(path), "%s/results.jsonl", d->path);
	if ((access(path, F_OK) == 0 || !have_peers) && (rc = read_jsonl(d, "results.jsonl", false, err, errlen)))
		return rc;
	if (d->nrec == 0 && !have_peers)
		return errorf(err, errlen, "%s: no records (the run wrote none: did every repetition fail?)", path), RR_BAD;
	if (have_peers && (rc = read_jsonl(d, "peers.jsonl", true, err, errlen)))
		return rc;
	if (d->nrec == 0)
		return errorf(err, errlen, "%s/peers.jsonl: no records, and no results.jsonl beside it", d->path), RR_BAD;
	peer_blocks(d);
	return 0;
}

static bool usable(json_t *r)
{
	return !strcmp(rr_str(r, "status"), "ok") && strcmp(rr_str(r, "verify"), "mismatch");
}

unsigned rr_conns(json_t *rec)
{
	double v;

	return rr_num(rec, "conns", &v) && v >= 1 ? (unsigned)v : 1;
}

uint64_t rr_pipe_asked(json_t *rec)
{
	double v;

	return rr_num(rec, "pipe_size_asked", &v) && v >= 1 ? (uint64_t)v : 0;
}

static int group_cells(struct rr_dir *d, char *err, size_t errlen)
{
	d->cell = calloc(d->nrec, sizeof(*d->cell));
	if (!d->cell)
		return errorf(err, errlen, "out of memory");
	for (size_t i = 0; i < d->nrec; i++) {
		json_t *r = d->rec[i];
		const char *sc = rr_str(r, "scenario"), *tr = rr_str(r, "transport"), *st = rr_str(r, "strategy");
		uint64_t by = json_integer_value(json_object_get(r, "bytes"));
		uint64_t bl = json_integer_value(json_object_get(r, "block"));
		unsigned cn = rr_conns(r);
		struct rr_cell *c = NULL;
		double t = 0;

		/* A run bounded by time: its reps move different counts and are one cell by their time. */
		if (!rr_num(r, "time_s", &t) || !(t > 0))
			t = 0;
		for (size_t k = 0; k < d->ncells && !c; k++)
			if (!strcmp(d->cell[k].scenario, sc) && !strcmp(d->cell[k].transport, tr) &&
			    (t > 0 ? d->cell[k].time_s == t : d->cell[k].time_s == 0 && d->cell[k].bytes == by) &&
			    d->cell[k].block == bl && d->cell[k].conns == cn &&
			    !strcmp(d->cell[k].strategy, st))
				c = &d->cell[k];
		if (!c) {
			const char *key;
			json_t *role;

			c = &d->cell[d->ncells++];
			c->scenario = sc;
			c->transport = tr;
			c->strategy = st;
			c->bytes = by;
			c->time_s = t;
			c->block = bl;
			c->conns = cn;
			c->peer = rr_is_peer(r);
			if (!(c->rec = calloc(d->nrec, sizeof(*c->rec))))
				return errorf(err, errlen, "out of memory");
			json_object_foreach(json_object_get(r, "roles"), key, role)
				if (json_is_true(json_object_get(role, "under_test")) && !c->tested_role)
					c->tested_role = key;
		}
		c->nreps++;
		if (usable(r)) {
			c->rec[c->nusable++] = i;
			if (json_is_true(json_object_get(r, "verified")))
				c->nverified++;
		}
	}
	return 0;
}

/* ---- the directory ------------------------------------------------------ */

/* env.json when there is one (else d->env_note says why not); 0 or an rr_status. */
static int read_env(struct rr_dir *d, char *err, size_t errlen)
{
	char path[4200], *text;
	json_error_t je;
	int rc;

	snprintf(path, sizeof(path), "%s/env.json", d->path);
	rc = bounded_read(path, BOUNDED_CAP_ENV, &text, NULL, err, errlen);
	if (rc == -ENOENT) {
		snprintf(d->env_note, sizeof(d->env_note), "%s: %s", path, strerror(ENOENT));
		return 0;
	}
	if (rc)
		return read_status(rc);
	d->env = json_loads(text, 0, &je);
	free(text);
	if (!d->env)
		return errorf(err, errlen, "%s:%d: not valid JSON (%s)", path, je.line, je.text), RR_BAD;
	if (!json_is_object(d->env))
		return errorf(err, errlen, "%s: not a JSON object", path), RR_BAD;
	return 0;
}

/* summary.csv when there is one; 0 or an rr_status. */
static int read_summary(struct rr_dir *d, char *err, size_t errlen)
{
	static const char *const need[] = { "scenario", "transport", "bytes", "block", "strategy",
					    "bytes_per_s_median", "tested_cpu_per_gib_median" };
	char path[4200], *text;
	int rc;

	snprintf(path, sizeof(path), "%s/summary.csv", d->path);
	rc = bounded_read(path, BOUNDED_CAP_SUMMARY, &text, NULL, err, errlen);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return read_status(rc);
	rc = rr_csv_parse(text, path, &d->summary, err, errlen);
	free(text);
	if (rc)
		return RR_BAD;
	d->have_summary = true;
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (rr_csv_col(&d->summary, need[i]) < 0)
			return errorf(err, errlen, "%s:1: no column '%s' in the header", path, need[i]), RR_BAD;
	return rr_summary_check(&d->summary, path, err, errlen) ? RR_REFUSED : 0;
}

enum rr_status rr_open(const char *dir, struct rr_dir *d, char *err, size_t errlen)
{
	struct stat st;
	int rc;

	memset(d, 0, sizeof(*d));
	snprintf(d->path, sizeof(d->path), "%s", dir);
	if (stat(dir, &st) < 0) {
		errorf(err, errlen, "%s: %s", dir, strerror(errno));
		return RR_NO_DIR;
	}
	if (!S_ISDIR(st.st_mode)) {
		errorf(err, errlen, "%s: not a directory (give a results directory, e.g. results/<run-id>)", dir);
		return RR_NO_DIR;
	}
	if (!(rc = read_records(d, err, errlen)) && !(rc = read_env(d, err, errlen)) &&
	    !(rc = read_summary(d, err, errlen)) && group_cells(d, err, errlen))
		rc = RR_BAD;
	if (rc) {
		rr_close(d);
		return rc;
	}
	return RR_OK;
}

void rr_close(struct rr_dir *d)
{
	for (size_t i = 0; i < d->nrec; i++)
		json_decref(d->rec[i]);
	for (size_t i = 0; i < d->ncells; i++)
		free(d->cell[i].rec);
	free(d->cell);
	free(d->rec);
	free(d->rec_line);
	json_decref(d->env);
	rr_csv_free(&d->summary);
	memset(d, 0, sizeof(*d));
}

const char *rr_machine(const struct rr_dir *d, char *buf, size_t len)
{
	const char *cpu = d->env ? rr_str(d->env, "cpu_model") : NULL;
	const char *rel = d->env ? rr_str(d->env, "kernel.release") : NULL;
	json_t *n = d->env ? json_object_get(d->env, "cpus_online") : NULL;

	if (!d->env) {
		snprintf(buf, len, "unknown machine (no env.json)");
		return buf;
	}
	if (json_is_integer(n))
		snprintf(buf, len, "%s, %lld CPU%s, Linux %s", cpu ? cpu : "unknown CPU",
			 (long long)json_integer_value(n), json_integer_value(n) == 1 ? "" : "s",
			 rel ? rel : "?");
	else
		snprintf(buf, len, "%s, Linux %s", cpu ? cpu : "unknown CPU", rel ? rel : "?");
	return buf;
}

/* ---- statistics --------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double rr_median(double *v, size_t n)
{
	if (n == 0)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

size_t rr_cell_stat(const struct rr_dir *d, const struct rr_cell *c, rr_metric m, const void *arg,
		    double *med, double *min, double *max)
{
	double *v = calloc(c->nusable + 1, sizeof(*v));
	size_t n = 0;

	*med = *min = *max = NAN;
	if (!v)
		return 0;
	for (size_t i = 0; i < c->nusable; i++) {
		double x;

		if (m(d->rec[c->rec[i]], arg, &x) && isfinite(x))
			v[n++] = x;
	}
	if (n) {
		*med = rr_median(v, n);	/* sorts */
		*min = v[0];
		*max = v[n - 1];
	}
	free(v);
	return n;
}
