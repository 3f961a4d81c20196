/* SPDX-License-Identifier: MIT */
/*
 * The line charts (lines.h): a sweep's throughput and CPU per GiB against
 * the swept block, size or number of connections, and echo's round-trip
 * latency against the message size, on log axes.
 */
#include "lines.h"

#include "harness/model/options.h"
#include "cells.h"
#include "style.h"

#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- sweeps ------------------------------------------------------------------- */

/* "64M" style token for file names. */
static const char *size_token(uint64_t n, char *buf, size_t len)
{
	static const char unit[] = "KMGT";

	for (int u = 3; u >= 0; u--) {
		uint64_t m = 1ull << (10 * (u + 1));

		if (n >= m && n % m == 0) {
			snprintf(buf, len, "%" PRIu64 "%c", n / m, unit[u]);
			return buf;
		}
	}
	snprintf(buf, len, "%" PRIu64, n);
	return buf;
}

/*
 * A sweep is several cells of one scenario and transport that differ in
 * one of block, bytes or conns, the other two fixed (the fields of
 * `fixed`; its swept one is ignored).
 */
enum sweep_kind { SWEEP_BLOCK, SWEEP_SIZE, SWEEP_CONNS };

static uint64_t sweep_value(struct point pt, enum sweep_kind kind)
{
	return kind == SWEEP_BLOCK ? pt.block : kind == SWEEP_SIZE ? pt.bytes : pt.conns;
}

/* pt has fixed's values in every dimension but the swept one. */
static bool sweep_member(struct point pt, struct point fixed, enum sweep_kind kind)
{
	return (kind == SWEEP_SIZE || pt.bytes == fixed.bytes) && (kind == SWEEP_BLOCK || pt.block == fixed.block) &&
	       (kind == SWEEP_CONNS || pt.conns == fixed.conns);
}

static const char *const sweep_word[] = { "block", "size", "conns" };

/* "at size 1 MiB", "at block 64 KiB", "at 1 MiB, block 64 KiB" (conns), for the title. */
static const char *sweep_fixed_text(struct point fixed, enum sweep_kind kind, char *buf, size_t len)
{
	char a[48], b[48];

	if (kind == SWEEP_BLOCK)
		snprintf(buf, len, "size %s", human_bytes(fixed.bytes, a, sizeof(a)));
	else if (kind == SWEEP_SIZE)
		snprintf(buf, len, "block %s", human_bytes(fixed.block, a, sizeof(a)));
	else
		snprintf(buf, len, "%s in all, block %s", human_bytes(fixed.bytes, a, sizeof(a)),
			 human_bytes(fixed.block, b, sizeof(b)));
	if (kind != SWEEP_CONNS && fixed.conns > 1)
		snprintf(buf + strlen(buf), len - strlen(buf), ", %u connections", fixed.conns);
	return buf;
}

/* "sweep-block-relay-tcp", with "-2M" (and "-conns4") when NAME_FIXED: several sweeps of one kind. */
static void sweep_name(char *name, size_t len, const char *sc, const char *tr, enum sweep_kind kind,
		       struct point fixed, bool name_fixed)
{
	char tok[32];

	snprintf(name, len, "sweep-%s-%s-%s%s%s", sweep_word[kind], sc, tr, name_fixed ? "-" : "",
		 name_fixed ? size_token(kind == SWEEP_SIZE ? fixed.block : fixed.bytes, tok, sizeof(tok)) : "");
	if (name_fixed && kind != SWEEP_CONNS && fixed.conns > 1)
		snprintf(name + strlen(name), len - strlen(name), "-conns%u", fixed.conns);
}

/* The row of swept value VAL: throughput median, min, max and CPU per GiB of each strategy. */
static void sweep_row(const struct plot *p, FILE *dat, const char *sc, const char *tr, const struct list *st,
		      enum sweep_kind kind, struct point fixed, uint64_t val)
{
	struct point pt = fixed;
	char tok[32];

	if (kind == SWEEP_BLOCK)
		pt.block = val;
	else if (kind == SWEEP_SIZE)
		pt.bytes = val;
	else
		pt.conns = (unsigned)val;
	if (kind == SWEEP_CONNS)
		fprintf(dat, "%" PRIu64 "\t%" PRIu64, val, val);
	else
		fprintf(dat, "%" PRIu64 "\t%s", val, size_token(val, tok, sizeof(tok)));
	/* a sweep's line is one variant: the defaults where the run has them */
	struct variants vs = point_variants(&p->d, sc, tr, pt);
	struct variant main = main_variant(&vs);

	for (int k = 0; k < st->n; k++) {
		struct rr_cell cv;
		double med = NAN, lo = NAN, hi = NAN, cpu = NAN;

		if (cell_in_variant(&p->d, find_cell(&p->d, sc, tr, pt, st->v[k]), main, &cv)) {
			rr_cell_stat(&p->d, &cv, m_mbps, NULL, &med, &lo, &hi);
			cpu = role_median(&p->d, &cv, NULL, RW_CPU);
			free(cv.rec);
		}
		for (int j = 0; j < 4; j++) {
			double v = j == 0 ? med : j == 1 ? lo : j == 2 ? hi : cpu;

			fputc('\t', dat);
			gp_num(dat, v > 0 ? v : NAN);	/* log axes: 0 cannot be drawn */
		}
	}
	fputc('\n', dat);
}

static int plot_sweep(struct plot *p, const char *sc, const char *tr, enum sweep_kind kind, struct point fixed,
		      bool name_fixed)
{
	struct points pts = points_of(&p->d, sc, tr);
	struct list st = strategies_of(&p->d, sc, tr);
	uint64_t vals[MAX_LIST];
	int nv = 0;
	char name[160], title[1024], caption[512], a[96], colors[1024];
	FILE *dat, *vars;

	for (int i = 0; i < pts.n; i++)
		if (sweep_member(pts.v[i], fixed, kind))
			vals[nv++] = sweep_value(pts.v[i], kind);
	if (nv < 2)
		return 0;
	/* points are sorted by bytes, block, conns, so the members' values ascend */
	sweep_name(name, sizeof(name), sc, tr, kind, fixed, name_fixed);
	if (chart_open(p, name, &dat, &vars))
		return -1;
	fputs(kind == SWEEP_BLOCK ? "block\tlabel" : kind == SWEEP_SIZE ? "bytes\tlabel" : "conns\tlabel", dat);
	for (int k = 0; k < st.n; k++)
		fprintf(dat, "\t%s\t%s_min\t%s_max\t%s_cpu", st.v[k], st.v[k], st.v[k], st.v[k]);
	fputc('\n', dat);
	for (int i = 0; i < nv; i++)
		sweep_row(p, dat, sc, tr, &st, kind, fixed, vals[i]);
	fclose(dat);
	legend_colors(&st, colors, sizeof(colors));
	fprintf(vars, "nstrat = %d\nwidth = 1400\nheight = 620\n", st.n);
	gp_str(vars, "colors", colors);
	gp_str(vars, "xlabel", kind == SWEEP_BLOCK ? "block: bytes per call of the role under test (log scale)"
			       : kind == SWEEP_SIZE ? "bytes moved per repetition (log scale)"
			       : "parallel connections sharing the bytes, all driven from one loop (log scale)");
	sweep_fixed_text(fixed, kind, a, sizeof(a));
	snprintf(title, sizeof(title), "%s (%s) over %s: %s sweep at %s%s\n%s; run %s", sc, scenario_path(sc), tr,
		 kind == SWEEP_BLOCK ? "block size" : kind == SWEEP_SIZE ? "transfer size" : "connections", a,
		 kind == SWEEP_CONNS ? " (throughput: all connections together)" : "", p->machine, p->run_id);
	gp_str(vars, "title", title);
	fclose(vars);
	snprintf(caption, sizeof(caption), "%s over %s: throughput and CPU per GiB against the %s (%s)", sc, tr,
		 kind == SWEEP_BLOCK ? "block size" : kind == SWEEP_SIZE ? "transfer size" : "number of connections", a);
	return chart_finish(p, name, "sweep.gp", sc, caption);
}

void plot_sweeps(struct plot *p, const char *sc, const char *tr)
{
	struct points pts = points_of(&p->d, sc, tr);

	for (int kind = SWEEP_BLOCK; kind <= SWEEP_CONNS; kind++) {
		struct point done[MAX_LIST];
		int nd = 0;
		bool several_fixed = false;

		/* each distinct setting of the two fixed dimensions is one sweep */
		for (int i = 0; i < pts.n; i++) {
			bool seen = false;

			for (int k = 0; k < nd && !seen; k++)
				seen = sweep_member(pts.v[i], done[k], kind);
			if (!seen)
				done[nd++] = pts.v[i];
		}
		for (int k = 0; k < nd; k++) {
			int members = 0;

			for (int i = 0; i < pts.n; i++)
				members += sweep_member(pts.v[i], done[k], kind);
			several_fixed |= members > 1 && nd > 1;
		}
		for (int k = 0; k < nd; k++)
			plot_sweep(p, sc, tr, kind, done[k], several_fixed);
	}
}

/* ---- latency (echo): p50 / p99 / p99.9 against the message size --------------------- */

/* A row a latency chart draws: warm, with figures. */
static bool lat_row_drawn(const struct lat_row *r)
{
	return strcmp(r->cache, "cold") && r->nreps;
}

/*
 * The one load the chart against the message size draws: closed loop when
 * the run has it, else the smallest offered load.  Loads are the load
 * chart's x; mixed into this one they would draw one message's figures
 * at several loads as if they were one.
 */
static unsigned latency_chart_rps(const struct lat_rows *lr)
{
	unsigned rps = UINT_MAX;

	for (size_t i = 0; i < lr->n; i++)
		if (lat_row_drawn(&lr->v[i]) && lr->v[i].rps < rps)
			rps = lr->v[i].rps;
	return rps;
}

/*
 * The strategies of the rows drawn, and the panels: the smallest
 * outstanding and, when it differs, the largest.  Returns how many panels,
 * 0 when no row is drawn.
 */
static int latency_panels(const struct lat_rows *lr, struct list *st, int outs[2])
{
	int nout = 0, lo = INT_MAX, hi = 0;

	for (size_t i = 0; i < lr->n; i++) {
		if (!lat_row_drawn(&lr->v[i]))
			continue;
		lo = lr->v[i].outstanding < lo ? lr->v[i].outstanding : lo;
		hi = lr->v[i].outstanding > hi ? lr->v[i].outstanding : hi;
		list_add(st, lr->v[i].strategy);
	}
	if (st->n == 0)
		return 0;
	outs[nout++] = lo;
	if (hi != lo)
		outs[nout++] = hi;
	return nout;
}

/* The message sizes of the warm rows, ascending; returns how many. */
static int latency_messages(const struct lat_rows *lr, uint64_t msgs[MAX_LIST])
{
	int nm = 0;

	for (size_t i = 0; i < lr->n; i++) {
		bool seen = false;

		for (int k = 0; k < nm; k++)
			seen |= msgs[k] == lr->v[i].message;
		if (!seen && nm < MAX_LIST && strcmp(lr->v[i].cache, "cold"))
			msgs[nm++] = lr->v[i].message;
	}
	for (int i = 1; i < nm; i++)
		for (int j = i; j > 0 && msgs[j - 1] > msgs[j]; j--) {
			uint64_t t = msgs[j];

			msgs[j] = msgs[j - 1];
			msgs[j - 1] = t;
		}
	return nm;
}

static const struct lat_row *latency_row_at(const struct lat_rows *lr, uint64_t msg, int out, const char *strategy)
{
	unsigned rps = latency_chart_rps(lr);

	for (size_t i = 0; i < lr->n; i++)
		if (lr->v[i].message == msg && lr->v[i].outstanding == out && !strcmp(lr->v[i].strategy, strategy) &&
		    lr->v[i].rps == rps && lat_row_drawn(&lr->v[i]))
			return &lr->v[i];
	return NULL;
}

/* The µs drawn, for the y range. */
struct lat_range {
	double ymin, ymax;
};

/* Widens the range to a drawn figure (a log axis: only x > 0 is drawn); whether it was one. */
static bool lat_range_add(struct lat_range *yr, double x)
{
	if (!(x > 0))
		return false;
	yr->ymin = x < yr->ymin ? x : yr->ymin;
	yr->ymax = x > yr->ymax ? x : yr->ymax;
	return true;
}

/* One panel's block of data: a line per message size.  Returns how many figures it has. */
static int latency_panel(FILE *dat, const struct lat_rows *lr, const struct list *st, const uint64_t *msgs, int nm,
			 int out, struct lat_range *yr)
{
	int with_data = 0;
	char tok[32];

	fprintf(dat, "# outstanding %d\n", out);
	for (int m = 0; m < nm; m++) {
		fprintf(dat, "%" PRIu64 "\t%s", msgs[m], human_bytes(msgs[m], tok, sizeof(tok)));
		for (int s = 0; s < st->n; s++) {
			const struct lat_row *row = latency_row_at(lr, msgs[m], out, st->v[s]);

			for (int j = 0; j < 3; j++) {
				double x = !row ? NAN : j == 0 ? row->p50 : j == 1 ? row->p99 : row->p999;

				fputc('\t', dat);
				gp_num(dat, x > 0 ? x : NAN);	/* log axis */
				with_data += lat_range_add(yr, x);
			}
		}
		fputc('\n', dat);
	}
	return with_data;
}

/*
 * latency-SC-TR: a panel for outstanding = 1 (or the smallest) and one for
 * the largest outstanding; x the message size, y µs, both log; per strategy
 * p50 (solid), p99 (dashed), p99.9 (dotted).  Warm cells only.  The data:
 * one block per panel (two blank lines between): message bytes, its label,
 * then p50, p99, p99.9 per strategy (names in the vars file).
 */
int plot_latency(struct plot *p, const char *sc, const char *tr)
{
	struct lat_rows lr = latency_rows(&p->d, sc, tr);
	struct list st = { 0 };
	struct lat_range yr = { INFINITY, 0 };
	int outs[2], nout = latency_panels(&lr, &st, outs), drawn = 0, nm;
	uint64_t msgs[MAX_LIST];
	char name[160], title[1024], caption[512], colors[1024], names[1024], tok[32], hbuf[48];
	FILE *dat, *vars;

	if (nout == 0) {
		free(lr.v);
		return 0;
	}
	nm = latency_messages(&lr, msgs);
	snprintf(name, sizeof(name), "latency-%s-%s", sc, tr);
	if (chart_open(p, name, &dat, &vars)) {
		free(lr.v);
		return -1;
	}
	for (int o = 0; o < nout; o++) {
		int with_data;

		if (o)
			fputs("\n\n", dat);
		with_data = latency_panel(dat, &lr, &st, msgs, nm, outs[o], &yr);
		fprintf(vars, "has%d = %d\n", o + 1, with_data > 0);
		fprintf(vars, "out%d = %d\n", o + 1, outs[o]);
		drawn += with_data > 0;
	}
	fclose(dat);
	free(lr.v);
	legend_colors(&st, colors, sizeof(colors));
	legend_names(&st, names, sizeof(names));
	fprintf(vars, "nstrat = %d\nnpanels = %d\nwidth = %d\nheight = 680\n", st.n, nout, nout > 1 ? 1400 : 900);
	fprintf(vars, "xmin = %g\nxmax = %g\nymin = %g\nymax = %g\n", msgs[0] / 1.6, msgs[nm - 1] * 1.6,
		drawn ? yr.ymin / 1.5 : 1, drawn ? yr.ymax * 1.5 : 10);
	gp_str(vars, "colors", colors);
	gp_str(vars, "names", names);
	snprintf(title, sizeof(title), "%s (%s) over %s: round-trip latency against the message size\n"
		 "p50 / p99 / p99.9 of each repetition's round trips, median over the reps%s\n%s; run %s",
		 sc, scenario_path(sc), tr, nout > 1 ? "; left: 1 outstanding, right: the most outstanding" : "",
		 p->machine, p->run_id);
	gp_str(vars, "title", title);
	fclose(vars);
	if (!drawn)
		return 0;
	snprintf(caption, sizeof(caption), "%s over %s: round-trip latency p50 / p99 / p99.9 (µs, log) against the "
		 "message size (%s..%s)", sc, tr, human_bytes(msgs[0], hbuf, sizeof(hbuf)),
		 human_bytes(msgs[nm - 1], tok, sizeof(tok)));
	return chart_finish(p, name, "latency.gp", sc, caption);
}

/* ---- latency (echo) at offered loads: p50 / p99 / p99.9 against requests/s ----------- */

/* A row the load chart draws: open loop, warm, with figures. */
static bool load_row_drawn(const struct lat_row *r)
{
	return r->rps && lat_row_drawn(r);
}

/* The (message, outstanding) groups of the open-loop rows, first seen first; returns how many. */
static int load_groups(const struct lat_rows *lr, const struct lat_row *groups[MAX_LIST])
{
	int ng = 0;

	for (size_t i = 0; i < lr->n; i++) {
		bool seen = false;

		if (!load_row_drawn(&lr->v[i]))
			continue;
		for (int g = 0; g < ng && !seen; g++)
			seen = groups[g]->message == lr->v[i].message && groups[g]->response == lr->v[i].response &&
			       groups[g]->outstanding == lr->v[i].outstanding;
		if (!seen && ng < MAX_LIST)
			groups[ng++] = &lr->v[i];
	}
	return ng;
}

/* The offered loads of group G, ascending; returns how many. */
static int load_values(const struct lat_rows *lr, const struct lat_row *g, unsigned loads[MAX_LIST])
{
	int n = 0;

	for (size_t i = 0; i < lr->n; i++) {
		const struct lat_row *r = &lr->v[i];
		bool seen = false;

		if (!load_row_drawn(r) || r->message != g->message || r->response != g->response ||
		    r->outstanding != g->outstanding)
			continue;
		for (int k = 0; k < n; k++)
			seen |= loads[k] == r->rps;
		if (!seen && n < MAX_LIST)
			loads[n++] = r->rps;
	}
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && loads[j - 1] > loads[j]; j--) {
			unsigned t = loads[j];

			loads[j] = loads[j - 1];
			loads[j - 1] = t;
		}
	return n;
}

static const struct lat_row *load_row_at(const struct lat_rows *lr, const struct lat_row *g, unsigned rps,
					 const char *strategy)
{
	for (size_t i = 0; i < lr->n; i++)
		if (load_row_drawn(&lr->v[i]) && lr->v[i].message == g->message && lr->v[i].response == g->response &&
		    lr->v[i].rps == rps &&
		    lr->v[i].outstanding == g->outstanding && !strcmp(lr->v[i].strategy, strategy))
			return &lr->v[i];
	return NULL;
}

/*
 * The data: a line per offered load: the load, its label, then per
 * strategy p50, p99, p99.9 and the p99 again where the load was not
 * offered (NaN where it was), which the script rings.  Returns how many
 * figures; *not_offered counts the rings.
 */
static int load_data(FILE *dat, const struct lat_rows *lr, const struct lat_row *g, const struct list *st,
		     const unsigned *loads, int nl, struct lat_range *yr, int *not_offered)
{
	int with_data = 0;

	fputs("# offered\tlabel", dat);
	for (int s = 0; s < st->n; s++)
		fprintf(dat, "\t%s_p50\t%s_p99\t%s_p999\t%s_not_offered", st->v[s], st->v[s], st->v[s], st->v[s]);
	fputc('\n', dat);
	for (int l = 0; l < nl; l++) {
		fprintf(dat, "%u\t%u", loads[l], loads[l]);
		for (int s = 0; s < st->n; s++) {
			const struct lat_row *row = load_row_at(lr, g, loads[l], st->v[s]);

			for (int j = 0; j < 4; j++) {
				double x = !row ? NAN : j == 0 ? row->p50 : j == 1 || j == 3 ? row->p99 : row->p999;

				if (j == 3 && row && !lat_row_not_offered(row))
					x = NAN;
				fputc('\t', dat);
				gp_num(dat, x > 0 ? x : NAN);	/* log axis */
				if (j == 3) {
					*not_offered += x > 0;
					continue;
				}
				with_data += lat_range_add(yr, x);
			}
		}
		fputc('\n', dat);
	}
	return with_data;
}

/* load-SC-TR[-MESSAGE-outN]: the chart of one (message, outstanding) group. */
static int plot_load_group(struct plot *p, const struct lat_rows *lr, const struct lat_row *g, bool several,
			   const char *sc, const char *tr)
{
	struct list st = { 0 };
	struct lat_range yr = { INFINITY, 0 };
	unsigned loads[MAX_LIST];
	int nl = load_values(lr, g, loads), drawn, rings = 0;
	char name[160], title[1024], caption[512], colors[1024], names[1024], tok[32], msg[48];
	FILE *dat, *vars;

	/* one load is a point, not a curve: the latency table and chart have it */
	if (nl < 2)
		return 0;
	for (size_t i = 0; i < lr->n; i++)
		if (load_row_drawn(&lr->v[i]) && lr->v[i].message == g->message && lr->v[i].response == g->response &&
		    lr->v[i].outstanding == g->outstanding)
			list_add(&st, lr->v[i].strategy);
	snprintf(name, sizeof(name), "load-%s-%s", sc, tr);
	if (several)
		snprintf(name + strlen(name), sizeof(name) - strlen(name), "-%s-out%d",
			 size_token(g->message, tok, sizeof(tok)), g->outstanding);
	if (chart_open(p, name, &dat, &vars))
		return -1;
	drawn = load_data(dat, lr, g, &st, loads, nl, &yr, &rings);
	fclose(dat);
	legend_colors(&st, colors, sizeof(colors));
	legend_names(&st, names, sizeof(names));
	fprintf(vars, "nstrat = %d\nwidth = 1000\nheight = 680\nrings = %d\n", st.n, rings);
	fprintf(vars, "xmin = %g\nxmax = %g\nymin = %g\nymax = %g\n", loads[0] / 1.6, loads[nl - 1] * 1.6,
		drawn ? yr.ymin / 1.5 : 1, drawn ? yr.ymax * 1.5 : 10);
	gp_str(vars, "colors", colors);
	gp_str(vars, "names", names);
	human_bytes(g->message, msg, sizeof(msg));
	if (g->response != g->message)
		snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg), " → %s",
			 human_bytes(g->response, tok, sizeof(tok)));
	snprintf(title, sizeof(title), "%s (%s) over %s: round-trip latency against the offered load\n"
		 "%s messages, open loop, at most %d outstanding; p50 / p99 / p99.9 of each repetition, median over "
		 "the reps\n%s; run %s", sc, scenario_path(sc), tr, msg, g->outstanding, p->machine, p->run_id);
	gp_str(vars, "title", title);
	fclose(vars);
	if (!drawn)
		return 0;
	snprintf(caption, sizeof(caption), "%s over %s: round-trip latency p50 / p99 / p99.9 (µs, log) against the "
		 "offered load (%u..%u requests/s, %s messages)%s", sc, tr, loads[0], loads[nl - 1], msg,
		 rings ? "; a ringed p99: that load was not offered (achieved under 90%)" : "");
	return chart_finish(p, name, "load.gp", sc, caption);
}

/*
 * load-SC-TR: echo at offered loads (--rps, --sweep rps=): x the offered
 * requests/s, y µs, both log, per strategy p50 (solid), p99 (dashed),
 * p99.9 (dotted); a load the client could not offer has its p99 ringed.
 * One chart per message size and outstanding, named apart when several.
 */
int plot_load(struct plot *p, const char *sc, const char *tr)
{
	struct lat_rows lr = latency_rows(&p->d, sc, tr);
	const struct lat_row *groups[MAX_LIST];
	int ng = load_groups(&lr, groups), r = 0;

	for (int g = 0; g < ng && !r; g++)
		r = plot_load_group(p, &lr, groups[g], ng > 1, sc, tr);
	free(lr.v);
	return r;
}
