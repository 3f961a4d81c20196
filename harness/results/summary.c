/* SPDX-License-Identifier: MIT */
/*
 * The summary of a run's repetitions, one row a cell: summary.csv's text
 * and the readable table printed at the end of a run (docs/results.md).
 */
#include "summary.h"
#include "harness/model/base.h"
#include "role_figures.h"
#include "record_json.h"
#include "stats.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BASELINE	"readwrite"	/* the strategy every ratio is against */

/*
 * ---- summary: one cell per (scenario, transport, bytes, block, cache,
 * outstanding, conns, pipe size asked, offered rps, strategy) ----
 */

/* A figure we may use: the run completed and no byte was wrong. */
static bool rep_usable(const struct rep_result *rep)
{
	return rep->status == 0 && rep->verify != VERIFY_MISMATCH;
}

static const struct role_result *tested_role(const struct rep_result *rep)
{
	for (int i = 0; i < rep->nroles && i < MAX_ROLES; i++)
		if (rep->roles[i].under_test)
			return &rep->roles[i];
	return NULL;
}

/*
 * Same data point: only the strategy differs.  A run bounded by time moves
 * what it can: its reps differ in bytes and are one cell by their time.
 */
static bool same_point(const struct cell *a, const struct cell *b)
{
	bool timed = a->time_s > 0 || b->time_s > 0;

	return a->scenario == b->scenario && (timed ? a->time_s == b->time_s : a->bytes == b->bytes) &&
	       a->block == b->block &&
	       strcmp(a->transport, b->transport) == 0 && strcmp(a->cache, b->cache) == 0 &&
	       a->outstanding == b->outstanding && a->conns == b->conns && a->pipe_asked == b->pipe_asked &&
	       a->rps == b->rps && a->response == b->response;
}

static bool same_cell(const struct cell *a, const struct cell *b)
{
	return same_point(a, b) && strcmp(a->strategy, b->strategy) == 0;
}

/* Whether reps[i] is the first of its cell: cells are listed in first-seen order. */
static bool first_of_cell(const struct rep_set *r, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (same_cell(&r->reps[j].cell, &r->reps[i].cell))
			return false;
	return true;
}

static bool first_of_point(const struct rep_set *r, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (same_point(&r->reps[j].cell, &r->reps[i].cell))
			return false;
	return true;
}

struct cell_summary {
	int reps, verified_reps;
	char tested_role[sizeof(((struct role_result *)0)->name)];
	/* Over the usable repetitions (completed, no mismatch). */
	struct stats_summary bps, wall, cpu_per_gib, cpu_user, cpu_sys, ctx, faults;
	struct stats_summary ratio;	/* paired against readwrite; n == 0 if none */
	struct stats_summary copy_per_gib;	/* the tested role's sampled copy seconds; n == 0 if none */
	struct stats_summary steal_cpus;	/* the hypervisor's steal over the wall time, in CPUs */
	/* The role that limited most of the usable reps (role_figures.h), or "". */
	char limited_by[sizeof(((struct role_result *)0)->name)];
};

enum column { COL_BPS, COL_WALL, COL_CPG, COL_USER, COL_SYS, COL_CTX, COL_FAULTS, COL_RATIO, COL_COPY, COL_STEAL,
	      NCOLS };

struct column_buf {
	double *v;
	size_t n;
};

static void push(struct column_buf *c, double x)
{
	if (isfinite(x))
		c->v[c->n++] = x;
}

/* How often each role name limited a cell's reps. */
struct limit_count {
	char name[sizeof(((struct role_result *)0)->name)];
	size_t n;
};

static void note_limit(const struct rep_result *rep, struct limit_count *lc)
{
	int i = limiting_role(rep);

	if (i < 0)
		return;
	for (int k = 0; k < MAX_ROLES; k++) {
		if (!lc[k].name[0])
			memcpy(lc[k].name, rep->roles[i].name, sizeof(lc[k].name));
		if (strncmp(lc[k].name, rep->roles[i].name, sizeof(lc[k].name)) == 0) {
			lc[k].n++;
			return;
		}
	}
}

/* The role that limited more than half of `reps` usable reps, or "". */
static void majority_limit(const struct limit_count *lc, size_t reps, char *out, size_t len)
{
	out[0] = '\0';
	for (int k = 0; k < MAX_ROLES; k++)
		if (lc[k].name[0] && 2 * lc[k].n > reps && len > 0) {
			size_t n = strnlen(lc[k].name, sizeof(lc[k].name));

			n = n < len - 1 ? n : len - 1;
			memcpy(out, lc[k].name, n);
			out[n] = '\0';
		}
}

static int summarize_cell(const struct rep_set *r, const struct cell *cell, struct cell_summary *cs)
{
	struct column_buf col[NCOLS];
	double *vals = malloc(NCOLS * r->n * sizeof(*vals));
	struct stats_sample *mine = malloc(2 * r->n * sizeof(*mine));
	struct stats_sample *base = mine + r->n;
	size_t nmine = 0, nbase = 0;
	struct limit_count limits[MAX_ROLES] = { 0 };

	if (!vals || !mine) {
		free(vals);
		free(mine);
		return -ENOMEM;
	}
	memset(cs, 0, sizeof(*cs));
	for (int c = 0; c < NCOLS; c++)
		col[c] = (struct column_buf){ vals + (size_t)c * r->n, 0 };

	for (size_t i = 0; i < r->n; i++) {
		const struct rep_result *rep = &r->reps[i];
		const struct role_result *ro = tested_role(rep);

		if (rep_usable(rep) && same_point(&rep->cell, cell) &&
		    strcmp(rep->cell.strategy, BASELINE) == 0)
			base[nbase++] = (struct stats_sample){ rep->rep, rep->bytes_per_s };
		if (!same_cell(&rep->cell, cell))
			continue;
		cs->reps++;
		cs->verified_reps += rep_verified(rep);
		if (ro && !cs->tested_role[0])
			memcpy(cs->tested_role, ro->name, sizeof(cs->tested_role));
		if (!rep_usable(rep))
			continue;
		mine[nmine++] = (struct stats_sample){ rep->rep, rep->bytes_per_s };
		push(&col[COL_BPS], rep->bytes_per_s);
		push(&col[COL_WALL], rep->wall_s);
		if (rep->system_cpu.have && rep->wall_s > 0)
			push(&col[COL_STEAL], rep->system_cpu.steal_s / rep->wall_s);
		if (!ro)
			continue;
		push(&col[COL_CPG], role_cpu_per_gib(ro));
		push(&col[COL_USER], ro->cpu_user_s);
		push(&col[COL_SYS], ro->cpu_sys_s);
		push(&col[COL_CTX], (double)ro->ctx_voluntary + (double)ro->ctx_involuntary);
		push(&col[COL_FAULTS], (double)ro->faults_minor);
		if (ro->have_cputime && rep->cell.bytes)
			push(&col[COL_COPY], role_cputime_of(ro, NULL).copy_s / ((double)rep->cell.bytes / GIB));
		note_limit(rep, limits);
	}
	majority_limit(limits, col[COL_BPS].n, cs->limited_by, sizeof(cs->limited_by));
	col[COL_RATIO].n = stats_paired_ratios(mine, nmine, base, nbase, col[COL_RATIO].v, r->n);

	cs->bps = stats_summarize(col[COL_BPS].v, col[COL_BPS].n);
	cs->wall = stats_summarize(col[COL_WALL].v, col[COL_WALL].n);
	cs->cpu_per_gib = stats_summarize(col[COL_CPG].v, col[COL_CPG].n);
	cs->cpu_user = stats_summarize(col[COL_USER].v, col[COL_USER].n);
	cs->cpu_sys = stats_summarize(col[COL_SYS].v, col[COL_SYS].n);
	cs->ctx = stats_summarize(col[COL_CTX].v, col[COL_CTX].n);
	cs->faults = stats_summarize(col[COL_FAULTS].v, col[COL_FAULTS].n);
	cs->ratio = stats_summarize(col[COL_RATIO].v, col[COL_RATIO].n);
	cs->copy_per_gib = stats_summarize(col[COL_COPY].v, col[COL_COPY].n);
	cs->steal_cpus = stats_summarize(col[COL_STEAL].v, col[COL_STEAL].n);
	free(vals);
	free(mine);
	return 0;
}

/* One field, after a comma unless it is the first; RFC 4180 quoting only if needed. */
static void csv_field(struct sbuf *sb, bool first, const char *s)
{
	if (!first)
		sb_printf(sb, ",");
	if (!strpbrk(s, ",\"\r\n")) {
		sb_printf(sb, "%s", s);
		return;
	}
	sb_printf(sb, "\"");
	for (; *s; s++)
		sb_printf(sb, *s == '"' ? "\"\"" : "%c", *s);
	sb_printf(sb, "\"");
}

#define CSV_NUM 32

/* An undefined figure is an empty field. */
static const char *csv_real(double x, char buf[CSV_NUM])
{
	if (isfinite(x))
		snprintf(buf, CSV_NUM, "%.12g", x);
	else
		buf[0] = '\0';
	return buf;
}

static const char *csv_uint(unsigned long long v, char buf[CSV_NUM])
{
	snprintf(buf, CSV_NUM, "%llu", v);
	return buf;
}

static const char csv_header[] =
	"scenario,transport,bytes,block,strategy,reps,verified_reps,"
	"bytes_per_s_median,bytes_per_s_min,bytes_per_s_max,wall_s_median,"
	"tested_role,tested_cpu_per_gib_median,tested_cpu_user_s_median,tested_cpu_sys_s_median,"
	"ratio_vs_readwrite_median,ratio_vs_readwrite_min,ratio_vs_readwrite_max,"
	"bytes_per_s_ci_lo,bytes_per_s_ci_hi,bytes_per_s_ci_level,"
	"ratio_ci_lo,ratio_ci_hi,ratio_ci_level,difference,cache,outstanding,conns,pipe_size_asked,"
	"tested_copy_per_gib_median,limited_by,rps,time_s,response,steal_cpus_median\n";

/*
 * The verdict of the paired ratio to readwrite: a difference is claimed only
 * when the median's interval excludes 1.0.
 */
static const char *difference_of(const struct cell *c, const struct cell_summary *cs)
{
	if (cs->ratio.n == 0 || strcmp(c->strategy, BASELINE) == 0)
		return "";
	/* open loop: the client's schedule sets the rate; latency is the figure that compares */
	if (c->rps)
		return "set by the offered load";
	if (!(cs->ratio.ci.lo > 1.0 || cs->ratio.ci.hi < 1.0))
		return "no difference measured";
	return cs->ratio.ci.lo > 1.0 ? "faster" : "slower";
}

static void csv_row(struct sbuf *sb, const struct cell *c, const struct cell_summary *cs)
{
	const char *sc = scenario_name(c->scenario);
	char n[28][CSV_NUM];
	/* In the order of csv_header. */
	const char *field[] = {
		sc ? sc : "?", c->transport,
		csv_uint(c->bytes, n[0]), csv_uint(c->block, n[1]),
		c->strategy,
		csv_uint((unsigned)cs->reps, n[2]), csv_uint((unsigned)cs->verified_reps, n[3]),
		csv_real(cs->bps.median, n[4]), csv_real(cs->bps.min, n[5]),
		csv_real(cs->bps.max, n[6]),
		csv_real(cs->wall.median, n[7]),
		cs->tested_role,
		csv_real(cs->cpu_per_gib.median, n[8]),
		csv_real(cs->cpu_user.median, n[9]), csv_real(cs->cpu_sys.median, n[10]),
		csv_real(cs->ratio.median, n[11]), csv_real(cs->ratio.min, n[12]),
		csv_real(cs->ratio.max, n[13]),
		csv_real(cs->bps.ci.lo, n[14]), csv_real(cs->bps.ci.hi, n[15]),
		csv_real(cs->bps.ci.level, n[16]),
		csv_real(cs->ratio.ci.lo, n[17]), csv_real(cs->ratio.ci.hi, n[18]),
		csv_real(cs->ratio.ci.level, n[19]),
		difference_of(c, cs),
		c->cache[0] ? c->cache : "warm",
		csv_uint(c->outstanding, n[20]),
		csv_uint(c->conns ? c->conns : 1, n[21]),
		csv_uint(c->pipe_asked, n[22]),
		csv_real(cs->copy_per_gib.n ? cs->copy_per_gib.median : NAN, n[23]),
		cs->limited_by,
		csv_uint(c->rps, n[24]),
		/* bounded by time: the cell is its time, and `bytes` what its first rep moved */
		csv_real(c->time_s, n[25]),
		csv_uint(c->response, n[26]),
		csv_real(cs->steal_cpus.n ? cs->steal_cpus.median : NAN, n[27]),
	};

	for (size_t i = 0; i < sizeof(field) / sizeof(field[0]); i++)
		csv_field(sb, i == 0, field[i]);
	sb_printf(sb, "\n");
}

int summary_csv(const struct rep_set *r, struct sbuf *sb)
{
	int err = 0;

	sb_printf(sb, "%s", csv_header);
	for (size_t i = 0; !err && i < r->n; i++) {
		struct cell_summary cs;

		if (!first_of_cell(r, i))
			continue;
		err = summarize_cell(r, &r->reps[i].cell, &cs);
		if (!err)
			csv_row(sb, &r->reps[i].cell, &cs);
	}
	return err ? err : sb_error(sb);
}

/* ---- the readable table ------------------------------------------------- */

/* 65536 -> "64 KiB"; 1048577 -> "1.0 MiB (1048577 B)": odd sizes matter here. */
static void format_size(uint64_t v, char *out, size_t outlen)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	uint64_t scale = 1;
	int u = 0;

	while (u < 4 && v >= scale * 1024) {
		scale *= 1024;
		u++;
	}
	if (v % scale == 0)
		snprintf(out, outlen, "%llu %s", (unsigned long long)(v / scale), unit[u]);
	else
		snprintf(out, outlen, "%.1f %s (%llu B)", (double)v / (double)scale, unit[u],
			 (unsigned long long)v);
}

enum { TCOLS = 9, TCELL = 64 };

struct table_row {
	char c[TCOLS][TCELL];
};

/* MB/s median [min..max], with as many decimals as small figures need. */
static void format_mbps(const struct stats_summary *s, char *out, size_t outlen)
{
	double m = s->median / 1e6;
	int prec = m >= 100 ? 0 : m >= 1 ? 1 : 3;

	if (s->n == 0)
		snprintf(out, outlen, "failed");
	else
		snprintf(out, outlen, "%.*f [%.*f..%.*f]", prec, m, prec, s->min / 1e6,
			 prec, s->max / 1e6);
}

static void format_figure(const struct stats_summary *s, const char *fmt, char *out, size_t outlen)
{
	if (s->n == 0)
		snprintf(out, outlen, "-");
	else
		snprintf(out, outlen, fmt, s->median);
}

static void table_row_of(const struct cell *c, const struct cell_summary *cs, struct table_row *row)
{
	snprintf(row->c[0], TCELL, "%s", c->strategy);
	format_mbps(&cs->bps, row->c[1], TCELL);
	format_figure(&cs->ratio, "%.2f", row->c[2], TCELL);
	/* "=": the interval of the paired ratio includes 1.0, no difference measured. */
	if (strcmp(difference_of(c, cs), "no difference measured") == 0)
		strncat(row->c[2], "=", TCELL - strlen(row->c[2]) - 1);
	else if (cs->ratio.n)
		strncat(row->c[2], " ", TCELL - strlen(row->c[2]) - 1);
	format_figure(&cs->cpu_per_gib, "%.3f", row->c[3], TCELL);
	format_figure(&cs->ctx, "%.0f", row->c[4], TCELL);
	format_figure(&cs->faults, "%.0f", row->c[5], TCELL);
	format_figure(&cs->copy_per_gib, "%.3f", row->c[6], TCELL);
	snprintf(row->c[7], TCELL, "%s", cs->limited_by[0] ? cs->limited_by : "-");
	snprintf(row->c[8], TCELL, "%d/%d", cs->verified_reps, cs->reps);
}

/* Strategy names left-aligned, figures right-aligned, two spaces between. */
static void print_rows(FILE *out, const struct table_row *rows, size_t n)
{
	int w[TCOLS] = { 0 };

	for (size_t i = 0; i < n; i++)
		for (int c = 0; c < TCOLS; c++)
			if ((int)strlen(rows[i].c[c]) > w[c])
				w[c] = (int)strlen(rows[i].c[c]);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "  %-*s", w[0], rows[i].c[0]);
		for (int c = 1; c < TCOLS; c++)
			fprintf(out, "  %*s", w[c], rows[i].c[c]);
		fputc('\n', out);
	}
}

static const struct table_row table_head = { {
	"strategy", "MB/s median [min..max]", "x readwrite", "CPU s/GiB",
	"ctx sw", "faults", "copy s/GiB", "limited by", "verified",
} };

/*
 * --interval: per strategy of the point, the lowest, median and highest
 * interval throughput over its reps (each rep's min, median and max).
 */
static void print_intervals(const struct rep_set *r, size_t first, FILE *out)
{
	const struct cell *point = &r->reps[first].cell;

	for (size_t i = first; i < r->n; i++) {
		double mn = INFINITY, mx = 0, med[64];
		size_t n = 0, intervals = 0;

		if (!same_point(&r->reps[i].cell, point) || !first_of_cell(r, i))
			continue;
		for (size_t j = i; j < r->n && n < 64; j++) {
			const struct series_stats *st = &r->reps[j].interval_bps;

			if (!same_cell(&r->reps[j].cell, &r->reps[i].cell) || !rep_usable(&r->reps[j]) || st->n == 0)
				continue;
			mn = st->min < mn ? st->min : mn;
			mx = st->max > mx ? st->max : mx;
			med[n++] = st->median;
			intervals += st->n;
		}
		if (n)
			fprintf(out, "  %s: interval MB/s min %.1f, median %.1f, max %.1f (%zu intervals in %zu rep%s)\n",
				r->reps[i].cell.strategy, mn / 1e6, stats_median(med, n) / 1e6, mx / 1e6, intervals, n,
				n == 1 ? "" : "s");
	}
}

/* A line under a point's rows when the hypervisor held back a notable share of the CPUs. */
static void print_steal(double steal_cpus, const char *strategy, FILE *out)
{
	long ncpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (strategy && steal_notable(steal_cpus, (double)ncpus))
		fprintf(out, "  steal: the hypervisor held back %.2f of the %ld CPUs in %s's median repetition: "
			"figures here\n  are partly the host's (system_cpu.steal_s in each record)\n",
			steal_cpus, ncpus, strategy);
}

/* One block: the strategies measured at the data point of reps[first]. */
static int print_point(const struct rep_set *r, size_t first, FILE *out)
{
	const struct cell *point = &r->reps[first].cell;
	struct table_row *rows = calloc(r->n + 1, sizeof(*rows));
	const char *sc = scenario_name(point->scenario);
	char size[48], block[48], role[sizeof(((struct role_result *)0)->name)] = "";
	size_t nrows = 1;
	int reps = 0;
	double steal = NAN;
	const char *steal_in = NULL;

	if (!rows)
		return -ENOMEM;
	rows[0] = table_head;
	for (size_t i = first; i < r->n; i++) {
		struct cell_summary cs;

		if (!same_point(&r->reps[i].cell, point) || !first_of_cell(r, i))
			continue;
		if (summarize_cell(r, &r->reps[i].cell, &cs) != 0) {
			free(rows);
			return -ENOMEM;
		}
		table_row_of(&r->reps[i].cell, &cs, &rows[nrows++]);
		reps = cs.reps > reps ? cs.reps : reps;
		if (cs.steal_cpus.n && !(cs.steal_cpus.median <= steal)) {
			steal = cs.steal_cpus.median;
			steal_in = r->reps[i].cell.strategy;
		}
		if (!role[0])
			memcpy(role, cs.tested_role, sizeof(role));
	}
	format_size(point->bytes, size, sizeof(size));
	format_size(point->block, block, sizeof(block));
	fprintf(out, "\n%s", sc ? sc : "?");
	if (strcmp(point->transport, "none") != 0)
		fprintf(out, " over %s", point->transport);
	if (point->time_s > 0)
		fprintf(out, ", for %g s (bounded by time), block %s, %d rep%s", point->time_s, block, reps,
			reps == 1 ? "" : "s");
	else
		fprintf(out, ", %s, block %s, %d rep%s", size, block, reps, reps == 1 ? "" : "s");
	if (strcmp(point->cache, "cold") == 0)
		fprintf(out, ", cold cache");
	if (point->outstanding > 1)
		fprintf(out, ", %u outstanding", point->outstanding);
	if (point->rps)
		fprintf(out, ", %u requests/s offered", point->rps);
	if (point->conns > 1)
		fprintf(out, ", %u connections sharing it", point->conns);
	if (point->pipe_asked) {
		char pipe[48];

		format_size(point->pipe_asked, pipe, sizeof(pipe));
		fprintf(out, ", %s pipe", pipe);
	}
	if (role[0])
		fprintf(out, " (role under test: %s)", role);
	fputc('\n', out);
	print_rows(out, rows, nrows);
	print_steal(steal, steal_in, out);
	print_intervals(r, first, out);
	free(rows);
	return 0;
}

void summary_print_table(const struct rep_set *r, FILE *out)
{
	if (r->n == 0) {
		fprintf(out, "No results recorded.\n");
		return;
	}
	fprintf(out, "MB/s = 10^6 bytes/s.  x readwrite = median of the ratios to readwrite, "
		"repetition by repetition.\n"
		"CPU s/GiB (user + system per 2^30 bytes), ctx sw (voluntary + involuntary) "
		"and faults (minor)\nare of the role under test, medians over the repetitions.  A ratio "
		"marked = has an interval\n(order statistics of the paired ratios) that includes 1.0: "
		"no difference measured.\ncopy s/GiB: the role under test's sampled time in copy routines "
		"(- when not sampled).\nlimited by: the role that kept a CPU at least 90%% busy in most "
		"repetitions: it set the pace,\nso a ratio near 1.00 there says the cell was limited, "
		"not that the strategies cost the same.\n");
	for (size_t i = 0; i < r->n; i++) {
		if (first_of_point(r, i) && print_point(r, i, out) != 0) {
			fprintf(out, "results: out of memory printing the table\n");
			return;
		}
	}
}
