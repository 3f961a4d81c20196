/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the reader of results directories (harness/
 * results_read.c) that `copylab plot`, `report` and `compare` use.  The
 * input is up to three parts separated by NUL bytes: results.jsonl,
 * summary.csv, env.json.  Each part is parsed in memory (rr_record_parse
 * line by line, rr_csv_parse), then written into a scratch directory and
 * read back whole with rr_open, whose cells and figures are then used the
 * way the charts use them.  An error must come with a message; success
 * must give cells whose counts add up.
 */
#include "harness/results/cellkey.h"
#include "harness/results/read.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[256];

static void write_part(const char *name, const char *text, size_t len, int present)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!present) {
		unlink(path);
		return;
	}
	f = fopen(path, "we");
	if (!f)
		abort();
	if (len && fwrite(text, 1, len, f) != len)
		abort();
	if (fclose(f))
		abort();
}

/* libFuzzer ends with exit() after -runs / -max_total_time: remove the scratch dir then. */
static void remove_dir(void)
{
	static const char *const names[] = { "results.jsonl", "summary.csv", "env.json" };
	char path[512];

	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

static bool metric_bps(json_t *rec, const void *arg, double *v)
{
	return rr_num(rec, (const char *)arg, v);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

	snprintf(dir, sizeof(dir), "%s/copylab-fuzz-rr.XXXXXX", base);
	if (!mkdtemp(dir))
		abort();
	atexit(remove_dir);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *part[3] = { NULL, NULL, NULL }, *p, err[512];
	size_t plen[3] = { 0, 0, 0 }, nparts = 0;
	struct rr_dir d;
	struct rr_csv c;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	/* Split at NULs: each part is then a C string. */
	for (p = text; nparts < 3; nparts++) {
		part[nparts] = p;
		plen[nparts] = strlen(p);
		if (p + plen[nparts] >= text + size)
			{ nparts++; break; }
		p += plen[nparts] + 1;
	}

	/* In memory: every line of the JSONL part, then the CSV part. */
	{
		char *copy = strdup(part[0]), *line = copy, *nl;
		int n = 0;

		for (; copy && *line; line = nl ? nl + 1 : line + strlen(line)) {
			nl = strchr(line, '\n');
			if (nl)
				*nl = '\0';
			err[0] = '\0';
			json_t *j = rr_record_parse(line, "fuzz.jsonl", ++n, err, sizeof(err));

			if (j) {
				double v;

				(void)rr_num(j, "roles.server.bpf.bytes_to_user", &v);
				(void)rr_str(j, "metrics.bpf");
				json_decref(j);
			} else if (!err[0]) {
				abort();
			}
		}
		free(copy);
	}
	if (nparts > 1) {
		err[0] = '\0';
		if (rr_csv_parse(part[1], "fuzz.csv", &c, err, sizeof(err)) == 0) {
			for (size_t r = 0; r < c.nrows; r++)
				(void)rr_csv_get(&c, r, "bytes");
			rr_csv_free(&c);
		} else if (!err[0]) {
			abort();
		}
	}

	/* As a directory, the way plot and compare read it. */
	write_part("results.jsonl", part[0], plen[0], 1);
	write_part("summary.csv", part[1], plen[1], nparts > 1);
	write_part("env.json", part[2], plen[2], nparts > 2);
	err[0] = '\0';
	if (rr_open(dir, &d, err, sizeof(err)) == RR_OK) {
		size_t reps = 0;
		char machine[256];

		(void)rr_machine(&d, machine, sizeof(machine));
		for (size_t i = 0; i < d.ncells; i++) {
			const struct rr_cell *cell = &d.cell[i];
			double med, min, max;
			size_t n;

			if (cell->nusable > cell->nreps || cell->nverified > cell->nusable)
				abort();
			reps += cell->nreps;
			n = rr_cell_stat(&d, cell, metric_bps, "bytes_per_s", &med, &min, &max);
			if (n && !(min <= med && med <= max))
				abort();
			if (cell->tested_role) {
				char path[256];

				snprintf(path, sizeof(path), "roles.%s.cpu_per_gib_s", cell->tested_role);
				(void)rr_cell_stat(&d, cell, metric_bps, path, &med, &min, &max);
			}
			/* every key of the cell: a number, null or absent (older records) */
			if (cell->nusable) {
				struct rr_cell_key k;

				if (rr_record_key(d.rec[cell->rec[0]], &k))
					(void)rr_summary_row_of(&d, &k);
			}
		}
		for (size_t r = 0; r < d.summary.nrows; r++) {
			const char *f = rr_csv_get(&d.summary, r, "bytes_per_s_median");
			double v = f && *f ? strtod(f, NULL) : 0;

			/* What rr_open accepts compare draws: never nan, inf or negative. */
			if (!isfinite(v) || v < 0 || v > RR_NUM_MAX)
				abort();
			(void)rr_summary_pipe(&d.summary, r);
			/* a row is always the same cell as itself, whatever its columns hold */
			if (rr_summary_same_cell(&d, &d.summary, r) < 0 && rr_csv_get(&d.summary, r, "scenario") &&
			    rr_csv_get(&d.summary, r, "transport") && rr_csv_get(&d.summary, r, "strategy") &&
			    rr_csv_get(&d.summary, r, "bytes") && rr_csv_get(&d.summary, r, "block"))
				abort();
		}
		if (reps != d.nrec)
			abort();
		rr_close(&d);
	} else if (!err[0]) {
		abort();
	}
	free(text);
	return 0;
}
