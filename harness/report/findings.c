/* SPDX-License-Identifier: MIT */
/* What a run found, in words (findings.h). */
#include "findings.h"
#include "harness/results/cellkey.h"
#include "harness/results/summary.h"
#include "strategies/strategy.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void summary_num(char *buf, size_t len, const char *field, double scale, const char *fmt)
{
	char *end;
	double v;

	if (!field || !*field) {
		snprintf(buf, len, "-");
		return;
	}
	v = strtod(field, &end);
	if (*end) {
		snprintf(buf, len, "%s", field);
		return;
	}
	snprintf(buf, len, fmt, v * scale);
}

void summary_verdict_text(const struct rr_csv *cs, long sr, const char *strategy, char *out, size_t len)
{
	const char *diff = rr_csv_get(cs, sr, "difference");
	char m[24], a[24], b[24];

	summary_num(m, sizeof(m), rr_csv_get(cs, sr, "ratio_vs_readwrite_median"), 1, "%.2f");
	if (!strcmp(m, "-")) {
		snprintf(out, len, "-");
		return;
	}
	if (!diff) {	/* an older summary.csv: no interval, no verdict */
		summary_num(a, sizeof(a), rr_csv_get(cs, sr, "ratio_vs_readwrite_min"), 1, "%.2f");
		summary_num(b, sizeof(b), rr_csv_get(cs, sr, "ratio_vs_readwrite_max"), 1, "%.2f");
		snprintf(out, len, "%sx [min..max %s..%s]", m, a, b);
		return;
	}
	if (!*diff) {
		snprintf(out, len, !strcmp(strategy, "readwrite") ? "1 (baseline)" : "%sx (no verdict)", m);
		return;
	}
	if (!strcmp(diff, "no difference measured")) {
		snprintf(out, len, "%sx no difference measured", m);
		return;
	}
	summary_num(a, sizeof(a), rr_csv_get(cs, sr, "ratio_ci_lo"), 1, "%.2f");
	summary_num(b, sizeof(b), rr_csv_get(cs, sr, "ratio_ci_hi"), 1, "%.2f");
	snprintf(out, len, "%sx [%s..%s] %s", m, a, b, diff);
}

/* ---- the headline cell of each scenario and transport ------------------------ */

static const char *field(const struct rr_csv *cs, size_t r, const char *name)
{
	const char *v = rr_csv_get(cs, r, name);

	return v ? v : "";
}

static double number(const struct rr_csv *cs, size_t r, const char *name)
{
	const char *v = rr_csv_get(cs, r, name);
	char *end;
	double d;

	if (!v || !*v)
		return NAN;
	d = strtod(v, &end);
	return *end ? NAN : d;
}

/* Rows a and b are the same data point: only the strategy differs (cellkey.h). */
static bool same_point(const struct rr_csv *cs, size_t a, size_t b)
{
	struct rr_cell_key ka, kb;

	return rr_row_key(cs, a, &ka) && rr_row_key(cs, b, &kb) && rr_same_point(&ka, &kb);
}

/*
 * Whether row r is a cell bounded by --time: its time_s column, or, in a
 * summary older than that column, its records.
 */
static bool timed_row(const struct rr_dir *d, size_t r)
{
	const struct rr_csv *cs = &d->summary;

	if (rr_csv_col(cs, "time_s") >= 0)
		return number(cs, r, "time_s") > 0;
	for (size_t i = 0; i < d->ncells; i++) {
		const struct rr_cell *c = &d->cell[i];

		if (c->time_s > 0 && !strcmp(c->scenario, field(cs, r, "scenario")) &&
		    !strcmp(c->transport, field(cs, r, "transport")) && !strcmp(c->strategy, field(cs, r, "strategy")) &&
		    (double)c->bytes == number(cs, r, "bytes") && (double)c->block == number(cs, r, "block"))
			return true;
	}
	return false;
}

/*
 * The default conditions: warm cache, one connection, the default pipe,
 * one request in flight, closed loop, bounded by size.
 */
static bool plain_cell(const struct rr_dir *d, size_t r)
{
	const struct rr_csv *cs = &d->summary;
	const char *cache = field(cs, r, "cache"), *out = field(cs, r, "outstanding"), *rps = field(cs, r, "rps");

	return (!*cache || !strcmp(cache, "warm")) && rr_summary_conns(cs, r) <= 1 && rr_summary_pipe(cs, r) == 0 &&
	       (!*out || atoi(out) <= 1) && (!*rps || atoi(rps) == 0) && !timed_row(d, r);
}

/*
 * Which cell speaks for scenario/transport of row r: a plain one, the
 * largest size, the block nearest 64 KiB.  Better than the current pick?
 */
static bool better_headline(const struct rr_dir *d, size_t r, long best)
{
	const struct rr_csv *cs = &d->summary;
	double by, bb, kr, kb;

	if (best < 0)
		return true;
	if (plain_cell(d, r) != plain_cell(d, (size_t)best))
		return plain_cell(d, r);
	by = number(cs, r, "bytes");
	bb = number(cs, (size_t)best, "bytes");
	if (by != bb)
		return by > bb;
	kr = fabs(log2(number(cs, r, "block") / 65536.0));
	kb = fabs(log2(number(cs, (size_t)best, "block") / 65536.0));
	return kr < kb;
}

/* The role that kept a CPU busy in most of the repetitions of row r's cell and strategy, or NULL. */
static const char *limiting_role_of(const struct rr_dir *d, size_t r)
{
	const struct rr_csv *cs = &d->summary;
	const char *votes[64];
	size_t nv = 0, n = 0;

	/* the summary's own verdict, over its usable reps; a summary older than the column asks the records */
	if (rr_csv_col(cs, "limited_by") >= 0)
		return *field(cs, r, "limited_by") ? field(cs, r, "limited_by") : NULL;
	for (size_t i = 0; i < d->nrec && nv < 64; i++) {
		if (!rr_record_in_row(d->rec[i], cs, r))
			continue;
		n++;
		votes[nv++] = rr_str(d->rec[i], "limiting_role");
	}
	for (size_t i = 0; i < nv; i++) {
		size_t k = 0;

		for (size_t j = 0; votes[i] && j < nv; j++)
			k += votes[j] && !strcmp(votes[i], votes[j]);
		if (votes[i] && 2 * k > n)
			return votes[i];
	}
	return NULL;
}

/*
 * Why a strategy's own CPU figure understates its cost: its work runs in
 * kernel context charged elsewhere, or no process plays the role.  NULL
 * when the figure is the role's own.
 */
static const char *cpu_elsewhere(const char *label)
{
	char base[64];
	const struct strategy *st;

	snprintf(base, sizeof(base), "%.*s", (int)strcspn(label, ":"), label);
	st = strategy_find(base);
	return !st ? NULL : st->cpu_elsewhere ? st->cpu_elsewhere : st->role_replaced_by;
}

/*
 * A strategy none of whose bytes were checked (readwrite:trunc, --sink
 * discard) is a floor, not a contender: it cannot lead a finding.
 */
static bool unverified(const struct rr_csv *cs, size_t r)
{
	return number(cs, r, "verified_reps") == 0 && number(cs, r, "reps") > 0;
}

/* "; X checked no byte (a floor, not a contender): 1072 MB/s, 0.268 s CPU per GiB" */
static int floor_note(const struct rr_csv *cs, long floor, char *out, size_t len)
{
	char cpu[32];

	if (floor < 0)
		return 0;
	summary_num(cpu, sizeof(cpu), field(cs, (size_t)floor, "tested_cpu_per_gib_median"), 1, "%.3f");
	return snprintf(out, len, "; %s checked no byte (a floor, not a contender): %.0f MB/s, %s s CPU per GiB",
			field(cs, (size_t)floor, "strategy"), number(cs, (size_t)floor, "bytes_per_s_median") / 1e6,
			cpu);
}

/*
 * "; the hypervisor held back 0.36 of the 2 CPUs (steal) in splice's
 * median repetition: ..." when the most any strategy of row h's point
 * lost is notable (summary.h); 0 chars otherwise.
 */
static int steal_note(const struct plot *p, size_t h, char *out, size_t len)
{
	const struct rr_csv *cs = &p->d.summary;
	double ncpus, most = NAN;
	long at = -1;

	if (!p->d.env || !rr_num(p->d.env, "cpus_online", &ncpus))
		return 0;
	for (size_t r = 0; r < cs->nrows; r++)
		if (same_point(cs, h, r) && isfinite(number(cs, r, "steal_cpus_median")) &&
		    !(number(cs, r, "steal_cpus_median") <= most)) {
			most = number(cs, r, "steal_cpus_median");
			at = (long)r;
		}
	if (at < 0 || !steal_notable(most, ncpus))
		return 0;
	return snprintf(out, len, "; the hypervisor held back %.2f of the %g CPUs (steal) in %s's median repetition: "
			"figures here are partly the host's", most, ncpus, field(cs, (size_t)at, "strategy"));
}

/* One finding: the headline cell of row h's scenario and transport. */
static void finding(const struct plot *p, size_t h, struct sbuf *md, struct sbuf *html)
{
	const struct rr_csv *cs = &p->d.summary;
	long fast = -1, cheap = -1, rw = -1, away = -1, floor = -1;
	char line[1024], size[32], blk[32], verdict[160], cpu[32], rwcpu[32];
	const char *lim;

	for (size_t r = 0; r < cs->nrows; r++) {
		if (!same_point(cs, h, r))
			continue;
		if (unverified(cs, r)) {
			if (floor < 0 || number(cs, r, "bytes_per_s_median") > number(cs, (size_t)floor, "bytes_per_s_median"))
				floor = (long)r;
			continue;
		}
		if (!strcmp(field(cs, r, "strategy"), "readwrite"))
			rw = (long)r;
		if (fast < 0 || number(cs, r, "bytes_per_s_median") > number(cs, (size_t)fast, "bytes_per_s_median"))
			fast = (long)r;
		if (!isfinite(number(cs, r, "tested_cpu_per_gib_median")))
			continue;
		/* A figure that is not the role's own cost ranks apart. */
		long *slot = cpu_elsewhere(field(cs, r, "strategy")) ? &away : &cheap;

		if (*slot < 0 || number(cs, r, "tested_cpu_per_gib_median") <
				     number(cs, (size_t)*slot, "tested_cpu_per_gib_median"))
			*slot = (long)r;
	}
	if (number(cs, h, "time_s") > 0)	/* what each rep moved is its own: the cell is its time */
		summary_num(size, sizeof(size), field(cs, h, "time_s"), 1, "%g s");
	else if (number(cs, h, "bytes") < 1048576)
		summary_num(size, sizeof(size), field(cs, h, "bytes"), 1.0 / 1024, "%.0f KiB");
	else
		summary_num(size, sizeof(size), field(cs, h, "bytes"), 1.0 / 1048576, "%.0f MiB");
	summary_num(blk, sizeof(blk), field(cs, h, "block"), 1.0 / 1024, "%.0f KiB");
	if (atoi(field(cs, h, "rps")) > 0) {
		/* open loop: every strategy moved what the schedule asked, so no one is "fastest" */
		int lo = atoi(field(cs, h, "rps")), hi = lo;

		for (size_t r = 0; r < cs->nrows; r++)
			if (!strcmp(field(cs, r, "scenario"), field(cs, h, "scenario")) &&
			    !strcmp(field(cs, r, "transport"), field(cs, h, "transport")) && atoi(field(cs, r, "rps")) > 0) {
				lo = atoi(field(cs, r, "rps")) < lo ? atoi(field(cs, r, "rps")) : lo;
				hi = atoi(field(cs, r, "rps")) > hi ? atoi(field(cs, r, "rps")) : hi;
			}
		int k = snprintf(line, sizeof(line), "%s over %s (%s, %s requests): open loop at %d%s%.0d requests/s "
				 "offered, so its throughput is the schedule's; see the latency table and the load chart",
				 field(cs, h, "scenario"), field(cs, h, "transport"), size, blk, lo, hi > lo ? ".." : "",
				 hi > lo ? hi : 0);

		if (k > 0 && (size_t)k < sizeof(line))
			steal_note(p, h, line + k, sizeof(line) - k);
		goto out;
	}
	if (fast < 0) {
		int k = snprintf(line, sizeof(line), "%s over %s (%s, %s blocks): no strategy's bytes were checked, so "
				 "nothing here is a verified figure", field(cs, h, "scenario"), field(cs, h, "transport"),
				 size, blk);

		if (k > 0 && (size_t)k < sizeof(line))
			floor_note(cs, floor, line + k, sizeof(line) - k);
		goto out;
	}
	summary_verdict_text(cs, fast, field(cs, (size_t)fast, "strategy"), verdict, sizeof(verdict));
	int n = snprintf(line, sizeof(line), "%s over %s (%s, %s blocks): fastest %s, %.0f MB/s, %s", field(cs, h, "scenario"),
			 field(cs, h, "transport"), size, blk, field(cs, (size_t)fast, "strategy"),
			 number(cs, (size_t)fast, "bytes_per_s_median") / 1e6,
			 rw == fast ? "the baseline" : rw < 0 ? "no readwrite to pair with" : verdict);
	if (cheap >= 0 && n > 0 && (size_t)n < sizeof(line)) {
		summary_num(cpu, sizeof(cpu), field(cs, (size_t)cheap, "tested_cpu_per_gib_median"), 1, "%.3f");
		summary_num(rwcpu, sizeof(rwcpu), rw >= 0 ? field(cs, (size_t)rw, "tested_cpu_per_gib_median") : "", 1, "%.3f");
		n += snprintf(line + n, sizeof(line) - n, "; least CPU per GiB (%s): %s, %s s%s%s%s",
			      field(cs, (size_t)cheap, "tested_role"), field(cs, (size_t)cheap, "strategy"), cpu,
			      rw >= 0 && rw != cheap ? " (readwrite " : "", rw >= 0 && rw != cheap ? rwcpu : "",
			      rw >= 0 && rw != cheap ? " s)" : "");
	}
	if (away >= 0 && n > 0 && (size_t)n < sizeof(line) &&
	    (cheap < 0 || number(cs, (size_t)away, "tested_cpu_per_gib_median") <
			      number(cs, (size_t)cheap, "tested_cpu_per_gib_median")))
		n += snprintf(line + n, sizeof(line) - n, " (%s shows less, but %s: see the whole machine's CPU)",
			      field(cs, (size_t)away, "strategy"), cpu_elsewhere(field(cs, (size_t)away, "strategy")));
	lim = limiting_role_of(&p->d, (size_t)fast);
	if (lim && n > 0 && (size_t)n < sizeof(line))
		n += snprintf(line + n, sizeof(line) - n, "; the %s set the pace of %s (busy ≥ 0.9)", lim,
			      field(cs, (size_t)fast, "strategy"));
	if (n > 0 && (size_t)n < sizeof(line))
		n += steal_note(p, h, line + n, sizeof(line) - n);
	if (n > 0 && (size_t)n < sizeof(line))
		floor_note(cs, floor, line + n, sizeof(line) - n);
out:
	sb_printf(md, "- %s\n", line);
	sb_add(html, "<li>");
	sb_html(html, line);
	sb_add(html, "</li>\n");
}

void report_findings(const struct plot *p, struct sbuf *md, struct sbuf *html)
{
	const struct rr_csv *cs = &p->d.summary;
	bool *done;

	if (!p->d.have_summary || !cs->nrows || !(done = calloc(cs->nrows, sizeof(*done))))
		return;
	sb_add(md, "## Findings\n\nOne line per scenario and transport, at its headline cell (default conditions, "
		   "the largest size, the block nearest 64 KiB). Ratios are to readwrite, paired repetition by "
		   "repetition, with summary.csv's interval and verdict; the tables below have every cell.\n\n");
	sb_add(html, "<h2 id=findings>Findings</h2>\n<p>One line per scenario and transport, at its headline cell "
		     "(default conditions, the largest size, the block nearest 64 KiB). Ratios are to readwrite, paired "
		     "repetition by repetition, with summary.csv's interval and verdict; the tables below have every "
		     "cell.</p>\n<ul>\n");
	for (size_t r = 0; r < cs->nrows; r++) {
		long best = -1;

		if (done[r])
			continue;
		/* Every row of this scenario and transport: the best of them speaks for it. */
		for (size_t k = r; k < cs->nrows; k++)
			if (!strcmp(field(cs, k, "scenario"), field(cs, r, "scenario")) &&
			    !strcmp(field(cs, k, "transport"), field(cs, r, "transport"))) {
				done[k] = true;
				if (better_headline(&p->d, k, best))
					best = (long)k;
			}
		finding(p, (size_t)best, md, html);
	}
	sb_add(html, "</ul>\n");
	sb_add(md, "\n");
	free(done);
}
