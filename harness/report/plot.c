/* SPDX-License-Identifier: MIT */
/*
 * `copylab plot DIR` and `copylab compare DIR_A DIR_B`: charts of a run
 * directory (DIR/plots/, PNG and SVG, by gnuplot on the scripts in scripts/plot/, fed
 * with .dat files prepared here), the report that puts the environment,
 * the summary tables and the charts together (DIR/report.md, a
 * self-contained DIR/report.html), and two runs side by side.  Every chart
 * is drawn in a temporary directory and renamed into place, so a reader
 * never sees a half-written one.  docs/charts.md describes each chart.
 */
#include "harness/cli/cli.h"
#include "harness/model/options.h"
#include "harness/results/write.h"
#include "harness/results/read.h"
#include "harness/model/scenario.h"
#include "cells.h"
#include "gnuplot.h"
#include "page.h"
#include "sbuf.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* ---- chart style ----------------------------------------------------------- */

/* A fixed colour per strategy, so one strategy looks the same in every chart. */
static uint32_t strategy_color(const char *label)
{
	static const struct { const char *name; uint32_t rgb; } known[] = {
		{ "readwrite", 0x3a78b5 }, { "mmap_write", 0xe07b39 }, { "sendfile", 0x3fa34d },
		{ "splice", 0xc0392b }, { "tee", 0x8e6bbf }, { "vmsplice", 0x8c564b },
		{ "copy_file_range", 0xd45fa8 }, { "vmsplice:gift", 0xc49c94 },
	};
	/* peers in greys and browns, apart from every strategy's colour */
	static const struct { const char *name; uint32_t rgb; } peers[] = {
		{ "peer:nginx-sendfile-on", 0x3b3b3b }, { "peer:nginx-sendfile-off", 0x9a9a9a },
		{ "peer:haproxy-splice", 0x6b4423 }, { "peer:haproxy-nosplice", 0xb8936a },
		{ "peer:socat", 0x556b2f }, { "peer:iperf3", 0x2f4f4f }, { "peer:iperf3-zerocopy", 0x7a8b8b },
		{ "peer:cp", 0x5a5a5a },
	};
	static const uint32_t extra[] = { 0x17becf, 0xbcbd22, 0x7f7f7f, 0x1f3f7f, 0x9467bd, 0xff9896 };
	uint32_t h = 5381;
	const char *dash;

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(label, known[i].name))
			return known[i].rgb;
	for (size_t i = 0; i < sizeof(peers) / sizeof(peers[0]); i++)
		if (!strcmp(label, peers[i].name))
			return peers[i].rgb;
	/*
	 * copylab:serve-sendfile, copylab:relay-splice (the tools, measured by
	 * peers.sh): the strategy's colour, lightened halfway to white.
	 */
	if (!strncmp(label, "copylab:", 8) && (dash = strchr(label, '-'))) {
		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (!strcmp(dash + 1, known[i].name)) {
				uint32_t c = known[i].rgb, r = (c >> 16) & 0xff, g = (c >> 8) & 0xff, bl = c & 0xff;

				return ((r + 255) / 2) << 16 | ((g + 255) / 2) << 8 | (bl + 255) / 2;
			}
	}
	for (const char *s = label; *s; s++)
		h = h * 33 + (unsigned char)*s;
	return extra[h % (sizeof(extra) / sizeof(extra[0]))];
}

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

static void legend_vars(FILE *vars, const struct list *strategies)
{
	char names[1024] = "", colors[1024] = "";

	for (int i = 0; i < strategies->n; i++) {
		char c[16];

		snprintf(c, sizeof(c), "#%06x", strategy_color(strategies->v[i]));
		strncat(names, strategies->v[i], sizeof(names) - strlen(names) - 2);
		strncat(names, " ", sizeof(names) - strlen(names) - 1);
		strncat(colors, c, sizeof(colors) - strlen(colors) - 2);
		strncat(colors, " ", sizeof(colors) - strlen(colors) - 1);
	}
	gp_str(vars, "names", names);
	gp_str(vars, "colors", colors);
}

/* ---- bar charts: throughput per scenario, and the run overview ------------- */

struct group {
	const char *scenario, *transport;
	struct point pt;
	struct variant v;	/* the records of the point a group's bars are drawn from */
	char label[160];
};

enum bar_metric { BAR_THROUGHPUT, BAR_TESTED_CPU };

static int draw_bars(struct plot *p, const char *name, const char *scenario, const struct group *g, int ng,
		     enum bar_metric what, const char *title, const char *caption, const char *xlabel)
{
	struct list strategies = { 0 };
	FILE *dat, *vars;
	int nbars = 0, max_lines = 1;
	struct sbuf tics = { 0 };

	for (int i = 0; i < ng; i++) {
		struct list s = strategies_of(&p->d, g[i].scenario, g[i].transport);

		for (int k = 0; k < s.n; k++) {
			struct rr_cell cv;

			if (cell_in_variant(&p->d, find_cell(&p->d, g[i].scenario, g[i].transport, g[i].pt, s.v[k]),
					    g[i].v, &cv)) {
				list_add(&strategies, s.v[k]);
				free(cv.rec);
			}
		}
	}
	if (chart_open(p, name, &dat, &vars))
		return -1;
	sb_add(&tics, "set xtics (");
	double x = 0.5;

	for (int i = 0; i < ng; i++) {
		double first = -1, last = 0;

		for (int k = 0; k < strategies.n; k++) {
			struct rr_cell cv, *c = &cv;
			struct role_metric tested = { NULL, RW_CPU };
			double med, lo, hi;

			if (!cell_in_variant(&p->d, find_cell(&p->d, g[i].scenario, g[i].transport, g[i].pt,
							      strategies.v[k]), g[i].v, &cv))
				continue;
			x += 1;
			if (what == BAR_THROUGHPUT)
				rr_cell_stat(&p->d, c, m_mbps, NULL, &med, &lo, &hi);
			else
				rr_cell_stat(&p->d, c, m_role, &tested, &med, &lo, &hi);
			fprintf(dat, "%g\t", x);
			gp_num(dat, med);
			fputc('\t', dat);
			gp_num(dat, lo);
			fputc('\t', dat);
			gp_num(dat, hi);
			if (!isfinite(med))
				fprintf(dat, "\t%u\tfailed\n", strategy_color(c->strategy));
			else if (what == BAR_THROUGHPUT)
				fprintf(dat, "\t%u\t%.0f\n", strategy_color(c->strategy), med);
			else
				fprintf(dat, "\t%u\t%.3f\n", strategy_color(c->strategy), med);
			if (first < 0)
				first = x;
			last = x;
			nbars++;
			free(cv.rec);
		}
		if (first >= 0) {
			char esc[256];
			size_t e = 0;
			int lines = 1;

			for (const char *s = g[i].label; *s; s++)
				lines += *s == '\n';
			if (lines > max_lines)
				max_lines = lines;

			for (const char *s = g[i].label; *s && e < sizeof(esc) - 3; s++) {
				if (*s == '"' || *s == '\\')
					esc[e++] = '\\';
				if (*s == '\n') {
					esc[e++] = '\\';
					esc[e++] = 'n';
				} else {
					esc[e++] = *s;
				}
			}
			esc[e] = '\0';
			sb_printf(&tics, "%s\"%s\" %g", tics.len > 11 ? ", " : "", esc, (first + last) / 2);
		}
		x += 1;		/* a gap between groups */
	}
	sb_add(&tics, ")\n");
	fclose(dat);
	if (tics.p)
		fputs(tics.p, vars);
	free(tics.p);
	fprintf(vars, "set xrange [0:%g]\n", x);
	fprintf(vars, "width = %d\nheight = %d\nshow_values = %d\nxlabel_drop = %d\n", nbars > 30 ? 1600 : 1200,
		620, nbars <= 28, max_lines - 1);
	legend_vars(vars, &strategies);
	gp_str(vars, "title", title);
	gp_str(vars, "xlabel", xlabel);
	gp_str(vars, "ylabel", what == BAR_THROUGHPUT
		? "throughput (MB/s, 1 MB = 10^6 bytes): median, bars min..max"
		: "CPU s per GiB, role under test (user + system): median, bars min..max");
	fclose(vars);
	if (nbars == 0)
		return 0;
	return chart_finish(p, name, "bars.gp", scenario, caption);
}

static const char *transports_text(const struct list *t, char *buf, size_t len)
{
	buf[0] = '\0';
	for (int i = 0; i < t->n; i++) {
		strncat(buf, i ? (i == t->n - 1 ? " and " : ", ") : "", len - strlen(buf) - 1);
		strncat(buf, t->v[i], len - strlen(buf) - 1);
	}
	return buf;
}

/* "\n8 connections" for a bar's label (a static buffer: one use per call). */
static const char *conns_text(unsigned conns)
{
	static char buf[32];

	snprintf(buf, sizeof(buf), "\n%u connections", conns);
	return buf;
}

static int plot_throughput(struct plot *p, const char *sc)
{
	struct list tr = transports_of(&p->d, sc);
	struct group g[MAX_LIST];
	int ng = 0;
	bool many = false;
	char title[1024], caption[512], name[128], ttext[128], ptext[96];
	struct point only = { 0, 0, 1 };

	for (int t = 0; t < tr.n; t++) {
		struct points pts = points_of(&p->d, sc, tr.v[t]);

		if (pts.n > 1 || (only.bytes && (pts.v[0].bytes != only.bytes || pts.v[0].block != only.block ||
						  pts.v[0].conns != only.conns)))
			many = true;
		only = pts.v[0];
	}
	for (int t = 0; t < tr.n; t++) {
		struct points pts = points_of(&p->d, sc, tr.v[t]);

		for (int i = 0; i < pts.n && ng < MAX_LIST; i++) {
			/* One group of bars per variant of the point: a cold cache, a pipe size asked, ... */
			struct variants vs = point_variants(&p->d, sc, tr.v[t], pts.v[i]);

			for (int vi = 0; vi < vs.n && ng < MAX_LIST; vi++) {
				char a[48], b[48], w[88];

				g[ng] = (struct group){ sc, tr.v[t], pts.v[i], vs.v[vi], "" };
				variant_words(vs.v[vi], &vs, w, sizeof(w));
				if (many)
					snprintf(g[ng].label, sizeof(g[ng].label), "%s\n%s\n%s%s%s%s%s", tr.v[t],
						 human_bytes(pts.v[i].bytes, a, sizeof(a)), pts.v[i].block ? "block " : "peers",
						 pts.v[i].block ? human_bytes(pts.v[i].block, b, sizeof(b)) : "",
						 pts.v[i].conns > 1 ? conns_text(pts.v[i].conns) : "", w[0] ? "\n" : "", w);
				else
					snprintf(g[ng].label, sizeof(g[ng].label), "%s%s%s", tr.v[t], w[0] ? "\n" : "", w);
				ng++;
			}
		}
	}
	transports_text(&tr, ttext, sizeof(ttext));
	snprintf(title, sizeof(title), "%s (%s): throughput by strategy, median of the counted reps, bars min..max\n"
		 "transport %s%s%s\n%s; run %s", sc, scenario_path(sc), ttext, many ? "" : ", ",
		 many ? "" : point_text(only, ptext, sizeof(ptext)), p->machine, p->run_id);
	snprintf(caption, sizeof(caption), "%s: throughput by strategy (median, min..max), over %s", sc, ttext);
	snprintf(name, sizeof(name), "throughput-%s", sc);
	return draw_bars(p, name, sc, g, ng, BAR_THROUGHPUT, title, caption, "transport");
}

/* The whole run in two charts: every scenario's representative data point. */
static int plot_overview(struct plot *p)
{
	struct list sc = scenarios_of(&p->d);
	struct group g[MAX_LIST];
	int ng = 0;
	char title[1024];

	for (int s = 0; s < sc.n; s++) {
		struct list tr = transports_of(&p->d, sc.v[s]);

		for (int t = 0; t < tr.n && ng < MAX_LIST; t++) {
			struct points pts = points_of(&p->d, sc.v[s], tr.v[t]);
			char a[48];

			if (!has_usable(&p->d, sc.v[s], tr.v[t]))
				continue;
			struct point pt = representative(&pts);
			struct variants vs = point_variants(&p->d, sc.v[s], tr.v[t], pt);

			char w[88];

			/* the defaults where the run has them; a pipe size or cold cache is named */
			g[ng] = (struct group){ sc.v[s], tr.v[t], pt, main_variant(&vs), "" };
			variant_words(g[ng].v, NULL, w, sizeof(w));
			snprintf(g[ng].label, sizeof(g[ng].label), "%s\n%s\n%s%s%s", sc.v[s], tr.v[t],
				 human_bytes(g[ng].pt.bytes, a, sizeof(a)), w[0] ? "\n" : "", w);
			ng++;
		}
	}
	snprintf(title, sizeof(title), "Every scenario: throughput by strategy (median, bars min..max)\n%s; run %s",
		 p->machine, p->run_id);
	draw_bars(p, "throughput", NULL, g, ng, BAR_THROUGHPUT, title,
		  "the whole run: throughput of every scenario and strategy", "scenario, transport, size");
	snprintf(title, sizeof(title), "Every scenario: CPU of the role under test per GiB moved (user + system, median, bars min..max)\n%s; run %s",
		 p->machine, p->run_id);
	return draw_bars(p, "cpu_per_gib", NULL, g, ng, BAR_TESTED_CPU, title,
			 "the whole run: CPU per GiB of the role under test", "scenario, transport, size");
}

/* ---- CPU per GiB by role ------------------------------------------------------ */

static int plot_cpu_roles(struct plot *p, const char *sc, const char *tr)
{
	struct points pts = points_of(&p->d, sc, tr);
	struct point pt = representative(&pts);
	struct list st = strategies_of(&p->d, sc, tr);
	char name[128], title[1024], caption[512], ptext[96];
	FILE *dat, *vars;
	double x = 0;
	int nbars = 0;

	snprintf(name, sizeof(name), "cpu-%s-%s", sc, tr);
	if (chart_open(p, name, &dat, &vars))
		return -1;
	struct variants vs = point_variants(&p->d, sc, tr, pt);

	/* Variant by variant (a cold cache, a pipe size asked), strategy by strategy. */
	for (int vk = 0; vk < vs.n * st.n; vk++) {
		struct rr_cell cv, *c = &cv;
		const char *roles[8];
		char suffix[96];
		int nr;
		double first;

		if (!cell_in_variant(&p->d, find_cell(&p->d, sc, tr, pt, st.v[vk % st.n]), vs.v[vk / st.n], &cv))
			continue;
		variant_suffix(vs.v[vk / st.n], &vs, suffix, sizeof(suffix));
		nr = roles_of(&p->d, c, roles, 8);
		first = x + 1;
		for (int r = 0; r < nr; r++) {
			double u = role_median(&p->d, c, roles[r], RW_USER);
			double s = role_median(&p->d, c, roles[r], RW_SYS);
			char label[64];

			x += 1;
			snprintf(label, sizeof(label), "%s%s", roles[r], r == 0 ? " (tested)" : "");
			fprintf(dat, "%g\t%s\t%s\t", x, c->strategy, label);
			gp_num(dat, u);
			fputc('\t', dat);
			gp_num(dat, s);
			fputc('\t', dat);
			gp_num(dat, u + s);
			fputc('\n', dat);
			nbars++;
		}
		fprintf(vars, "set label \"%s%s\" at first %g, graph -0.13 center font ',11'\n", c->strategy,
			suffix, (first + x) / 2);
		x += 1;
		free(cv.rec);
	}
	fclose(dat);
	fprintf(vars, "set xrange [0:%g]\nwidth = %d\nheight = 620\n", x, nbars > 18 ? 1600 : 1200);
	snprintf(title, sizeof(title), "%s (%s) over %s, %s: CPU seconds per GiB moved, by role, system and user stacked\n"
		 "(medians over the counted reps; per GiB of the cell's %s payload)\n%s; run %s",
		 sc, scenario_path(sc), tr, point_text(pt, ptext, sizeof(ptext)), sc, p->machine, p->run_id);
	gp_str(vars, "title", title);
	fclose(vars);
	if (nbars == 0)
		return 0;
	snprintf(caption, sizeof(caption), "%s over %s: CPU per GiB by role (user and system)%s%s", sc, tr,
		 pts.n > 1 ? " at " : "", pts.n > 1 ? ptext : "");
	return chart_finish(p, name, "cpu.gp", sc, caption);
}

/* ---- the copy ledger ----------------------------------------------------------- */

/* Why a cell has no ledger: the records' metrics.bpf note. */
static const char *bpf_note_of(const struct rr_dir *d, const struct rr_cell *c)
{
	for (size_t i = 0; i < c->nusable; i++) {
		const char *n = rr_str(d->rec[c->rec[i]], "metrics.bpf");

		if (n)
			return n;
	}
	return "the records carry no BPF ledger (roles.ROLE.bpf is null)";
}

static int plot_ledger(struct plot *p, const char *sc, const char *tr)
{
	struct points pts = points_of(&p->d, sc, tr);
	struct point pt = representative(&pts);
	struct list st = strategies_of(&p->d, sc, tr);
	char name[128], title[1024], caption[512], ptext[96], why[512] = "";
	FILE *dat, *vars;
	int n = 0, with_bpf = 0;
	const char *tested = NULL;

	snprintf(name, sizeof(name), "ledger-%s-%s", sc, tr);
	if (chart_open(p, name, &dat, &vars))
		return -1;
	struct variants vs = point_variants(&p->d, sc, tr, pt);
	struct sbuf tics = { 0 };

	/* One bar per strategy and variant (a cold cache, a pipe size asked), variant by variant. */
	for (int vk = 0; vk < vs.n * st.n; vk++) {
		struct rr_cell cv, *c = &cv;

		if (!cell_in_variant(&p->d, find_cell(&p->d, sc, tr, pt, st.v[vk % st.n]), vs.v[vk / st.n], &cv))
			continue;
		/*
		 * A peer has a ledger where peers.sh's copylab probe counted one
		 * (not socat's); one without is left out of the chart, not noted.
		 */
		if (c->nusable) {
			double um = role_median(&p->d, c, NULL, RW_USERMEM);

			if (isfinite(um))
				with_bpf++;
			else if (!c->peer && !why[0])
				snprintf(why, sizeof(why), "%s", bpf_note_of(&p->d, c));
			if (!c->peer || !tested)
				tested = c->tested_role;
		}
		free(cv.rec);
	}
	for (int vk = 0; vk < vs.n * st.n; vk++) {
		struct rr_cell cv, *c = &cv;
		char suffix[96];

		if (!cell_in_variant(&p->d, find_cell(&p->d, sc, tr, pt, st.v[vk % st.n]), vs.v[vk / st.n], &cv))
			continue;
		if (c->nusable == 0 || (c->peer && !isfinite(role_median(&p->d, c, NULL, RW_USERMEM)))) {
			free(cv.rec);
			continue;
		}
		variant_suffix(vs.v[vk / st.n], &vs, suffix, sizeof(suffix));
		n++;
		fprintf(dat, "%d\t%s%s\t%u\t", n, c->strategy, suffix, strategy_color(c->strategy));
		gp_num(dat, role_median(&p->d, c, NULL, RW_USERMEM));
		fputc('\t', dat);
		gp_num(dat, role_median(&p->d, c, NULL, RW_KERNEL));
		fputc('\t', dat);
		gp_num(dat, role_median(&p->d, c, NULL, with_bpf ? RW_SYSCALLS : RW_CALLS));
		fputc('\t', dat);
		gp_num(dat, role_median(&p->d, c, NULL, RW_CTX));
		fputc('\t', dat);
		gp_num(dat, role_median(&p->d, c, NULL, RW_FAULTS));
		fputc('\n', dat);
		sb_printf(&tics, "%s\"%s%s\" %d", n > 1 ? ", " : "", c->strategy, suffix, n);
		free(cv.rec);
	}
	fclose(dat);
	fprintf(vars, "set xtics (%s", tics.p ? tics.p : "");
	free(tics.p);
	fprintf(vars, ")\nset xrange [0.3:%g]\nwidth = 1300\nheight = 820\nhave_bpf = %d\n", n + 0.7,
		with_bpf > 0);
	gp_str(vars, "bpf_note", why[0] ? why : "-");
	gp_str(vars, "syscall_label", with_bpf ? "syscalls (all kinds, BPF raw_syscalls) per GiB"
				      : "data-moving calls per GiB (the strategy's own count; no BPF)");
	snprintf(title, sizeof(title), "%s (%s) over %s, %s: the copy ledger of the role under test (%s) per GiB moved\n"
		 "(medians over the counted reps)\n%s; run %s",
		 sc, scenario_path(sc), tr, point_text(pt, ptext, sizeof(ptext)), tested ? tested : "?",
		 p->machine, p->run_id);
	gp_str(vars, "title", title);
	fclose(vars);
	if (n == 0)
		return 0;
	if (!with_bpf)
		plot_note(p, "%s over %s: no copy ledger (bytes through user memory or in the kernel) in these records: %s; "
		     "the ledger chart shows syscalls, context switches and faults only", sc, tr, why);
	else if (with_bpf < n && why[0])
		plot_note(p, "%s over %s: some strategies have no copy ledger: %s", sc, tr, why);
	snprintf(caption, sizeof(caption), "%s over %s: the copy ledger per GiB (role under test)%s", sc, tr,
		 with_bpf ? "" : " - no BPF ledger in these records");
	return chart_finish(p, name, "ledger.gp", sc, caption);
}

/* ---- sweeps ------------------------------------------------------------------- */

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
		snprintf(buf, len, "%s in all, block %s", human_bytes(fixed.bytes, a, sizeof(a)), human_bytes(fixed.block, b, sizeof(b)));
	if (kind != SWEEP_CONNS && fixed.conns > 1)
		snprintf(buf + strlen(buf), len - strlen(buf), ", %u connections", fixed.conns);
	return buf;
}

static int plot_sweep(struct plot *p, const char *sc, const char *tr, enum sweep_kind kind, struct point fixed,
		      bool name_fixed)
{
	struct points pts = points_of(&p->d, sc, tr);
	struct list st = strategies_of(&p->d, sc, tr);
	uint64_t vals[MAX_LIST];
	int nv = 0;
	char name[160], title[1024], caption[512], tok[32], a[96], colors[1024] = "";
	FILE *dat, *vars;

	for (int i = 0; i < pts.n; i++)
		if (sweep_member(pts.v[i], fixed, kind))
			vals[nv++] = sweep_value(pts.v[i], kind);
	if (nv < 2)
		return 0;
	/* points are sorted by bytes, block, conns, so the members' values ascend */
	snprintf(name, sizeof(name), "sweep-%s-%s-%s%s%s", sweep_word[kind], sc, tr, name_fixed ? "-" : "",
		 name_fixed ? size_token(kind == SWEEP_SIZE ? fixed.block : fixed.bytes, tok, sizeof(tok)) : "");
	if (name_fixed && kind != SWEEP_CONNS && fixed.conns > 1)
		snprintf(name + strlen(name), sizeof(name) - strlen(name), "-conns%u", fixed.conns);
	if (chart_open(p, name, &dat, &vars))
		return -1;
	fputs(kind == SWEEP_BLOCK ? "block\tlabel" : kind == SWEEP_SIZE ? "bytes\tlabel" : "conns\tlabel", dat);
	for (int k = 0; k < st.n; k++) {
		char c[16];

		fprintf(dat, "\t%s\t%s_min\t%s_max\t%s_cpu", st.v[k], st.v[k], st.v[k], st.v[k]);
		snprintf(c, sizeof(c), "#%06x ", strategy_color(st.v[k]));
		strncat(colors, c, sizeof(colors) - strlen(colors) - 1);
	}
	fputc('\n', dat);
	for (int i = 0; i < nv; i++) {
		struct point pt = fixed;

		if (kind == SWEEP_BLOCK)
			pt.block = vals[i];
		else if (kind == SWEEP_SIZE)
			pt.bytes = vals[i];
		else
			pt.conns = (unsigned)vals[i];
		if (kind == SWEEP_CONNS)
			fprintf(dat, "%" PRIu64 "\t%" PRIu64, vals[i], vals[i]);
		else
			fprintf(dat, "%" PRIu64 "\t%s", vals[i], size_token(vals[i], tok, sizeof(tok)));
		/* a sweep's line is one variant: the defaults where the run has them */
		struct variants vs = point_variants(&p->d, sc, tr, pt);
		struct variant main = main_variant(&vs);

		for (int k = 0; k < st.n; k++) {
			struct rr_cell cv;
			double med = NAN, lo = NAN, hi = NAN, cpu = NAN;

			if (cell_in_variant(&p->d, find_cell(&p->d, sc, tr, pt, st.v[k]), main, &cv)) {
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
	fclose(dat);
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

/* Every sweep in the points of SC over TR: each dimension with two or more values. */
static void plot_sweeps(struct plot *p, const char *sc, const char *tr)
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

/* ---- efficiency ---------------------------------------------------------------- */

static int plot_efficiency(struct plot *p, const char *sc)
{
	struct list tr = transports_of(&p->d, sc);
	char name[128], title[1024], caption[512], words[256] = "", ttext[128], ptext[96] = "";
	FILE *dat, *vars;
	int n = 0;
	struct point pt = { 0, 0, 1 };

	snprintf(name, sizeof(name), "efficiency-%s", sc);
	if (chart_open(p, name, &dat, &vars))
		return -1;
	for (int t = 0; t < tr.n; t++) {
		struct points pts = points_of(&p->d, sc, tr.v[t]);
		struct list st = strategies_of(&p->d, sc, tr.v[t]);

		pt = representative(&pts);
		if (t)
			fputs("\n\n", dat);
		struct variants vs = point_variants(&p->d, sc, tr.v[t], pt);

		/* a point per strategy and variant (a cold cache, a pipe size asked) */
		for (int vk = 0; vk < vs.n * st.n; vk++) {
			struct rr_cell cv, *c = &cv;
			char suffix[96];
			double mb, cpu;

			if (!cell_in_variant(&p->d, find_cell(&p->d, sc, tr.v[t], pt, st.v[vk % st.n]),
					     vs.v[vk / st.n], &cv))
				continue;
			variant_suffix(vs.v[vk / st.n], &vs, suffix, sizeof(suffix));
			mb = cell_metric_median(&p->d, c, m_mbps, NULL);
			cpu = role_median(&p->d, c, NULL, RW_CPU);
			fprintf(dat, "%s%s\t", c->strategy, suffix);
			gp_num(dat, cpu);
			fputc('\t', dat);
			gp_num(dat, mb);
			fprintf(dat, "\t%u\n", strategy_color(c->strategy));
			n++;
			free(cv.rec);
		}
		strncat(words, tr.v[t], sizeof(words) - strlen(words) - 2);
		strncat(words, " ", sizeof(words) - strlen(words) - 1);
	}
	fclose(dat);
	fprintf(vars, "width = 1100\nheight = 650\n");
	gp_str(vars, "transports", words);
	transports_text(&tr, ttext, sizeof(ttext));
	if (tr.n == 1)
		point_text(pt, ptext, sizeof(ptext));
	snprintf(title, sizeof(title), "%s (%s): throughput against CPU per GiB of the role under test\n"
		 "transport %s%s%s (higher and further left is better)\n%s; run %s", sc, scenario_path(sc), ttext,
		 ptext[0] ? ", " : "", ptext, p->machine, p->run_id);
	gp_str(vars, "title", title);
	fclose(vars);
	if (n == 0)
		return 0;
	snprintf(caption, sizeof(caption), "%s: efficiency, throughput against CPU per GiB", sc);
	return chart_finish(p, name, "efficiency.gp", sc, caption);
}

/* ---- latency (echo): p50 / p99 / p99.9 against the message size --------------------- */

/*
 * latency-SC-TR: a panel for outstanding = 1 (or the smallest) and one for
 * the largest outstanding; x the message size, y µs, both log; per strategy
 * p50 (solid), p99 (dashed), p99.9 (dotted).  Warm cells only.  The data:
 * one block per panel (two blank lines between): message bytes, its label,
 * then p50, p99, p99.9 per strategy (names in the vars file).
 */
static int plot_latency(struct plot *p, const char *sc, const char *tr)
{
	struct lat_rows lr = latency_rows(&p->d, sc, tr);
	struct list st = { 0 };
	int outs[2], nout = 0, lo = INT_MAX, hi = 0, drawn = 0;
	double ymin = INFINITY, ymax = 0;
	uint64_t msgs[MAX_LIST];
	int nm = 0;
	char name[160], title[1024], caption[512], colors[1024] = "", names[1024] = "", tok[32], hbuf[48];
	FILE *dat, *vars;

	for (size_t i = 0; i < lr.n; i++) {
		if (!strcmp(lr.v[i].cache, "cold") || lr.v[i].nreps == 0)
			continue;
		lo = lr.v[i].outstanding < lo ? lr.v[i].outstanding : lo;
		hi = lr.v[i].outstanding > hi ? lr.v[i].outstanding : hi;
		list_add(&st, lr.v[i].strategy);
	}
	if (st.n == 0) {
		free(lr.v);
		return 0;
	}
	outs[nout++] = lo;
	if (hi != lo)
		outs[nout++] = hi;
	for (size_t i = 0; i < lr.n; i++) {
		bool seen = false;

		for (int k = 0; k < nm; k++)
			seen |= msgs[k] == lr.v[i].message;
		if (!seen && nm < MAX_LIST && strcmp(lr.v[i].cache, "cold"))
			msgs[nm++] = lr.v[i].message;
	}
	for (int i = 1; i < nm; i++)	/* ascending */
		for (int j = i; j > 0 && msgs[j - 1] > msgs[j]; j--) {
			uint64_t t = msgs[j];

			msgs[j] = msgs[j - 1];
			msgs[j - 1] = t;
		}
	snprintf(name, sizeof(name), "latency-%s-%s", sc, tr);
	if (chart_open(p, name, &dat, &vars)) {
		free(lr.v);
		return -1;
	}
	for (int o = 0; o < nout; o++) {
		int with_data = 0;

		if (o)
			fputs("\n\n", dat);
		fprintf(dat, "# outstanding %d\n", outs[o]);
		for (int m = 0; m < nm; m++) {
			fprintf(dat, "%" PRIu64 "\t%s", msgs[m], human_bytes(msgs[m], tok, sizeof(tok)));
			for (int s = 0; s < st.n; s++) {
				const struct lat_row *row = NULL;

				for (size_t i = 0; i < lr.n && !row; i++)
					if (lr.v[i].message == msgs[m] && lr.v[i].outstanding == outs[o] &&
					    !strcmp(lr.v[i].strategy, st.v[s]) && strcmp(lr.v[i].cache, "cold") &&
					    lr.v[i].nreps)
						row = &lr.v[i];
				for (int j = 0; j < 3; j++) {
					double x = !row ? NAN : j == 0 ? row->p50 : j == 1 ? row->p99 : row->p999;

					fputc('\t', dat);
					gp_num(dat, x > 0 ? x : NAN);	/* log axis */
					with_data += x > 0;
					if (x > 0) {
						ymin = x < ymin ? x : ymin;
						ymax = x > ymax ? x : ymax;
					}
				}
			}
			fputc('\n', dat);
		}
		fprintf(vars, "has%d = %d\n", o + 1, with_data > 0);
		fprintf(vars, "out%d = %d\n", o + 1, outs[o]);
		drawn += with_data > 0;
	}
	fclose(dat);
	for (int s = 0; s < st.n; s++) {
		char c[16];

		snprintf(c, sizeof(c), "#%06x ", strategy_color(st.v[s]));
		strncat(colors, c, sizeof(colors) - strlen(colors) - 1);
		strncat(names, st.v[s], sizeof(names) - strlen(names) - 2);
		strncat(names, " ", sizeof(names) - strlen(names) - 1);
	}
	fprintf(vars, "nstrat = %d\nnpanels = %d\nwidth = %d\nheight = 680\n", st.n, nout, nout > 1 ? 1400 : 900);
	fprintf(vars, "xmin = %g\nxmax = %g\nymin = %g\nymax = %g\n", msgs[0] / 1.6, msgs[nm - 1] * 1.6,
		drawn ? ymin / 1.5 : 1, drawn ? ymax * 1.5 : 10);
	gp_str(vars, "colors", colors);
	gp_str(vars, "names", names);
	snprintf(title, sizeof(title), "%s (%s) over %s: round-trip latency against the message size\n"
		 "p50 / p99 / p99.9 of each repetition's round trips, median over the reps%s\n%s; run %s",
		 sc, scenario_path(sc), tr, nout > 1 ? "; left: 1 outstanding, right: the most outstanding" : "",
		 p->machine, p->run_id);
	gp_str(vars, "title", title);
	fclose(vars);
	free(lr.v);
	if (!drawn)
		return 0;
	snprintf(caption, sizeof(caption), "%s over %s: round-trip latency p50 / p99 / p99.9 (µs, log) against the "
		 "message size (%s..%s)", sc, tr, human_bytes(msgs[0], hbuf, sizeof(hbuf)),
		 human_bytes(msgs[nm - 1], tok, sizeof(tok)));
	return chart_finish(p, name, "latency.gp", sc, caption);
}

/* ---- copylab plot -------------------------------------------------------------------------- */

static const char plot_help[] =
"usage: copylab plot [--format png,svg] [--no-report] DIR\n"
"\n"
"Draws the charts of the results directory DIR (made by copylab run or bench)\n"
"into DIR/plots/ as PNG and SVG, with gnuplot, and writes DIR/report.md and a\n"
"self-contained DIR/report.html (environment, summary tables, charts).  The\n"
"records of scripts/peers.sh --out DIR (peers.jsonl) are drawn beside them:\n"
"  throughput-SCENARIO      throughput by strategy, grouped by transport\n"
"  cpu-SCENARIO-TRANSPORT   CPU seconds per GiB by role, user and system\n"
"  ledger-SCENARIO-TRANSPORT  the copy ledger per GiB: bytes through user\n"
"                           memory vs in the kernel, syscalls, context switches,\n"
"                           page faults (role under test)\n"
"  sweep-block-... / sweep-size-... / sweep-conns-...  throughput and CPU per\n"
"                           GiB against the swept block, transfer size or\n"
"                           number of parallel connections (log axes)\n"
"  efficiency-SCENARIO      throughput against CPU per GiB, one point per strategy\n"
"  latency-SCENARIO-TRANSPORT  echo: round-trip p50/p99/p99.9 against the\n"
"                           message size, at 1 and the most outstanding\n"
"  throughput, cpu_per_gib  every scenario of the run in one chart\n"
"Each chart's data is beside it (NAME.dat).  docs/charts.md explains them.\n"
"\n"
"  --format LIST   png, svg or png,svg (default)\n"
"  --no-report     charts only\n"
"The gnuplot scripts are found beside the executable (scripts/plot) or in\n"
"$COPYLAB_SCRIPTS.  Exit status: 0 done, 1 DIR's files are missing or\n"
"malformed (the message names the file and line) or gnuplot failed, 2 bad usage.\n";

static int plot_dir(struct plot *p, bool report)
{
	struct list sc = scenarios_of(&p->d);
	bool peers = false;

	for (size_t i = 0; i < p->d.ncells; i++)
		peers |= p->d.cell[i].peer;
	if (peers)
		plot_note(p, "peers.jsonl: scripts/peers.sh's records are drawn beside copylab's (labels peer:... and "
		     "copylab:...); they have CPU and throughput, and a copy ledger where peers.sh's copylab probe "
		     "counted one");
	for (int s = 0; s < sc.n; s++) {
		struct list tr = transports_of(&p->d, sc.v[s]);

		if (!has_usable(&p->d, sc.v[s], NULL)) {
			plot_note(p, "%s: no chart: no repetition completed and verified", sc.v[s]);
			continue;
		}
		plot_throughput(p, sc.v[s]);
		for (int t = 0; t < tr.n; t++) {
			if (!has_usable(&p->d, sc.v[s], tr.v[t]))
				continue;
			plot_cpu_roles(p, sc.v[s], tr.v[t]);
			plot_ledger(p, sc.v[s], tr.v[t]);
			plot_sweeps(p, sc.v[s], tr.v[t]);
			if (has_latency(&p->d, sc.v[s]))
				plot_latency(p, sc.v[s], tr.v[t]);
		}
		plot_efficiency(p, sc.v[s]);
	}
	plot_overview(p);
	if (report && report_write(p))
		return -1;
	return 0;
}

int cmd_plot(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "no-report", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct plot p = { 0 };
	bool report = true;
	char err[8192];
	int c, rc = 0;

	snprintf(p.formats, sizeof(p.formats), "png svg");
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if ((rc = plot_formats_parse(optarg, p.formats, sizeof(p.formats))))
				return rc;
			break;
		case 'n':
			report = false;
			break;
		case 'h':
			fputs(plot_help, stdout);
			return 0;
		case ':':
			return usage_error("plot: option '%s' needs a value (see copylab plot --help)", argv[optind - 1]);
		default:
			return usage_error("plot: unknown option '%s' (see copylab plot --help)", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return usage_error("plot: give one results directory (see copylab plot --help)");
	snprintf(p.dir, sizeof(p.dir), "%s", argv[optind]);
	switch (rr_open(p.dir, &p.d, err, sizeof(err))) {
	case RR_OK:
		break;
	case RR_NO_DIR:
		return usage_error("plot: %s", err);
	default:
		fprintf(stderr, "copylab plot: %s\n", err);
		return EXIT_RUN_FAILED;
	}
	if (plot_find_scripts(p.scripts, sizeof(p.scripts))) {
		rr_close(&p.d);
		return EXIT_RUN_FAILED;
	}
	p.run_id = p.d.env && rr_str(p.d.env, "run_id") ? rr_str(p.d.env, "run_id")
		 : rr_str(p.d.rec[0], "run_id") ? rr_str(p.d.rec[0], "run_id") : "?";
	rr_machine(&p.d, p.machine, sizeof(p.machine));
	snprintf(p.plots, sizeof(p.plots), "%s/plots", p.dir);
	snprintf(p.tmp, sizeof(p.tmp), "%s/.plots.XXXXXX", p.dir);
	if ((mkdir(p.plots, 0755) < 0 && errno != EEXIST) || !mkdtemp(p.tmp)) {
		fprintf(stderr, "copylab plot: cannot create %s: %s\n", errno == EEXIST ? p.tmp : p.plots,
			strerror(errno));
		rr_close(&p.d);
		return EXIT_RUN_FAILED;
	}
	if (plot_dir(&p, report))
		rc = EXIT_RUN_FAILED;
	plot_tmp_remove(&p);
	if (p.gnuplot_failures) {
		fprintf(stderr, "copylab plot: %d chart(s) could not be drawn\n", p.gnuplot_failures);
		rc = EXIT_RUN_FAILED;
	}
	printf("plots: %s/ (%zu charts, %s)\n", p.plots, p.nch, p.formats);
	if (report && rc == 0)
		printf("report: %s/report.md, %s/report.html\n", p.dir, p.dir);
	if (p.notes.len) {
		char *save = NULL;

		for (char *l = strtok_r(p.notes.p, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
			printf("note: %s\n", l);
	}
	plot_free(&p);
	return rc;
}
