/* SPDX-License-Identifier: MIT */
/*
 * The report page of `copylab plot` (page.h): the findings first, then a
 * table per data point (from summary.csv where the run has one, else from
 * the records), echo's latency tables and the charts, and the environment
 * last, as Markdown and as one HTML file with the charts inlined.
 */
#include "page.h"
#include "envtext.h"
#include "findings.h"
#include "harness/results/bounded.h"
#include "harness/results/cellkey.h"

#include "harness/model/options.h"
#include "harness/results/write.h"
#include "cells.h"
#include "harness/model/sbuf.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- a table in both pages ------------------------------------------------- */

/* A table's head row, after the caller's title (Markdown) and caption (HTML). */
static void table_head_row(struct sbuf *md, struct sbuf *html, const char *const *head, size_t nh)
{
	sb_add(md, "|");
	sb_add(html, "<tr>");
	for (size_t h = 0; h < nh; h++) {
		sb_printf(md, " %s |", head[h]);
		sb_printf(html, "<th>%s</th>", head[h]);
	}
	/* the first column is text, the others numbers: right-aligned */
	sb_add(md, "\n|---|");
	for (size_t h = 1; h < nh; h++)
		sb_add(md, "---:|");
	sb_add(md, "\n");
	sb_add(html, "</tr>\n");
}

static void table_row(struct sbuf *md, struct sbuf *html, const char *const *f, size_t n)
{
	sb_add(md, "|");
	sb_add(html, "<tr>");
	for (size_t h = 0; h < n; h++) {
		sb_printf(md, " %s |", f[h]);
		sb_add(html, h ? "<td class=n>" : "<td>");
		sb_html(html, f[h]);
		sb_add(html, "</td>");
	}
	sb_add(md, "\n");
	sb_add(html, "</tr>\n");
}

/* ---- the summary tables ----------------------------------------------------- */

/* The rows of one data point's table: from summary.csv, else from the records. */
struct row {
	char strategy[128], med[32], min[32], max[32], ratio[128], limited[96], cpu[32], verified[32];
};

static const char *const table_head[] = {
	"strategy", "MB/s median", "min", "max", "x readwrite (paired): median [CI] verdict",
	"limiting role", "CPU s/GiB (role under test)", "verified reps",
};
#define TABLE_COLS (sizeof(table_head) / sizeof(table_head[0]))
#define COL_LIMITED 5

/* The columns of a summary table, its head or a row: the limiting role's only when LIMITED. */
static size_t table_columns(const char *const *all, bool limited, const char **out)
{
	size_t n = 0;

	for (size_t i = 0; i < TABLE_COLS; i++)
		if (limited || i != COL_LIMITED)
			out[n++] = all[i];
	return n;
}

/*
 * The summary.csv row of variant V of cell C: the row of its first usable
 * record's cell (cellkey.h: every condition, the offered load and the
 * bound by time included), else of the cell and variant as the records
 * group them.  -1 if none.
 */
static long summary_row_of(const struct plot *p, const struct rr_cell *c, struct variant v)
{
	struct rr_cell_key k = {
		.scenario = c->scenario, .transport = c->transport, .strategy = c->strategy, .cache = v.cache,
		.bytes = c->bytes, .block = c->block, .outstanding = v.outstanding > 1 ? (unsigned)v.outstanding : 1,
		.conns = c->conns, .pipe = v.pipe, .rps = v.rps, .time_s = c->time_s,
	}, r;

	if (c->nusable && rr_record_key(p->d.rec[c->rec[0]], &r))
		k = r;
	return rr_summary_row_of(&p->d, &k);
}

/* Row R's figures from summary.csv's row SR. */
static void row_from_summary(const struct rr_csv *cs, long sr, const struct rr_cell *c, struct row *r)
{
	summary_num(r->med, sizeof(r->med), rr_csv_get(cs, sr, "bytes_per_s_median"), 1e-6, "%.0f");
	summary_num(r->min, sizeof(r->min), rr_csv_get(cs, sr, "bytes_per_s_min"), 1e-6, "%.0f");
	summary_num(r->max, sizeof(r->max), rr_csv_get(cs, sr, "bytes_per_s_max"), 1e-6, "%.0f");
	summary_verdict_text(cs, sr, c->strategy, r->ratio, sizeof(r->ratio));
	summary_num(r->cpu, sizeof(r->cpu), rr_csv_get(cs, sr, "tested_cpu_per_gib_median"), 1, "%.3f");
	snprintf(r->verified, sizeof(r->verified), "%s/%s",
		 rr_csv_get(cs, sr, "verified_reps") ? rr_csv_get(cs, sr, "verified_reps") : "?",
		 rr_csv_get(cs, sr, "reps") ? rr_csv_get(cs, sr, "reps") : "?");
}

/* Row R's figures from the records of C (no summary row: no paired ratio). */
static void row_from_records(const struct plot *p, const struct rr_cell *c, double med, double lo, double hi,
			     struct row *r)
{
	double cpu = role_median(&p->d, c, NULL, RW_CPU);

	snprintf(r->med, sizeof(r->med), isfinite(med) ? "%.0f" : "-", med);
	snprintf(r->min, sizeof(r->min), isfinite(lo) ? "%.0f" : "-", lo);
	snprintf(r->max, sizeof(r->max), isfinite(hi) ? "%.0f" : "-", hi);
	snprintf(r->ratio, sizeof(r->ratio), c->peer ? "- (scripts/peers.sh: not paired with readwrite)"
						      : "- (no summary.csv)");
	snprintf(r->cpu, sizeof(r->cpu), isfinite(cpu) ? "%.3f" : "-", cpu);
	snprintf(r->verified, sizeof(r->verified), "%zu/%zu", c->nverified, c->nreps);
}

/*
 * A ratio near 1 reads as "no difference" unless the reader knows one
 * role kept a CPU busy and set the pace whatever the strategy did.
 */
static void limiting_text(const struct plot *p, const struct rr_cell *c, struct row *r)
{
	const char *role = cell_limiting_role(&p->d, c);

	snprintf(r->limited, sizeof(r->limited), role ? "limited by %s (busy ≥ 0.9)" : "-", role);
}

static int table_rows(const struct plot *p, const char *sc, const char *tr, struct point pt, struct row *rows, int max)
{
	/* Variant by variant, so each block of rows is read against its own readwrite. */
	struct point_cells pc = point_cells_of(&p->d, sc, tr, pt);
	int n = 0;

	for (int k = 0; k < pc.n && n < max; k++) {
		struct rr_cell cv;
		struct row *r = &rows[n];
		char suffix[96];
		double med, lo, hi;
		long sr;

		if (!point_cell(&p->d, &pc, k, &cv, suffix, sizeof(suffix)))
			continue;
		memset(r, 0, sizeof(*r));
		snprintf(r->strategy, sizeof(r->strategy), "%s%s", cv.strategy, suffix);
		rr_cell_stat(&p->d, &cv, m_mbps, NULL, &med, &lo, &hi);
		sr = p->d.have_summary && !cv.peer ? summary_row_of(p, &cv, pc.vs.v[k / pc.st.n]) : -1;
		if (sr >= 0)
			row_from_summary(&p->d.summary, sr, &cv, r);
		else
			row_from_records(p, &cv, med, lo, hi, r);
		limiting_text(p, &cv, r);
		free(cv.rec);
		n++;
	}
	return n;
}

/* ---- where the CPU of the role under test went -------------------------------- */

/* "0.123", or "-" when not measured. */
static void fmt_fig(char *buf, size_t len, double v)
{
	snprintf(buf, len, isfinite(v) ? "%.3f" : "-", v);
}

/*
 * Cell C's row into MD and HTML: sampled CPU, copy time sampled and
 * predicted, the groups (all s per GiB); false (WHY set, once) when its
 * role under test was not sampled.
 */
static bool split_row(const struct plot *p, const struct rr_cell *c, const char *suffix, struct sbuf *md,
		      struct sbuf *html, char *why, size_t whylen)
{
	double groups[CG_COUNT], sampled, lo = role_median(&p->d, c, NULL, RW_PREDICTED_RESIDENT),
	       hi = role_median(&p->d, c, NULL, RW_PREDICTED_DRAM);
	bool have = role_split(&p->d, c, NULL, groups, &sampled);
	char name[224], f[3 + CG_COUNT][40];
	const char *fv[4 + CG_COUNT] = { name };

	snprintf(name, sizeof(name), "%s%s", c->strategy, suffix);
	for (int i = 0; i < 3 + CG_COUNT; i++) {
		snprintf(f[i], sizeof(f[i]), "-");
		fv[i + 1] = f[i];
	}
	if (!have) {
		if (!why[0] && !c->peer)
			cputime_missing(&p->d, c, NULL, why, whylen);
		snprintf(f[0], sizeof(f[0]), "not measured");
	} else {
		fmt_fig(f[0], sizeof(f[0]), sampled);
		fmt_fig(f[1], sizeof(f[1]), role_median(&p->d, c, NULL, RW_COPY));
		if (isfinite(lo) && isfinite(hi))
			snprintf(f[2], sizeof(f[2]), "%.3f..%.3f", lo, hi);
		else
			snprintf(f[2], sizeof(f[2]), "- (no memcpy rates)");
		for (int g = 0; g < CG_COUNT; g++)
			fmt_fig(f[3 + g], sizeof(f[3 + g]), groups[g]);
	}
	table_row(md, html, fv, 4 + CG_COUNT);
	return have;
}

/*
 * Beside the summary table of a data point: the sampled CPU of the role
 * under test, its copy time against the predicted one, and its split; a
 * line saying why when none of the point's cells was sampled.
 */
static void report_cpu_split(const struct plot *p, const char *sc, const char *tr, struct point pt, const char *tested,
			     struct sbuf *md, struct sbuf *html)
{
	struct point_cells pc = point_cells_of(&p->d, sc, tr, pt);
	const char *head[4 + CG_COUNT] = { "strategy", "CPU s/GiB (sampled)", "copy s/GiB (sampled)",
					   "copy s/GiB predicted (in cache..from memory)" };
	struct sbuf rmd = { 0 }, rhtml = { 0 };	/* the rows, until it is known there is a table */
	char why[320] = "", caption[512];
	int sampled = 0;

	for (int g = 0; g < CG_COUNT; g++)
		head[4 + g] = cpu_group_title(g);
	for (int k = 0; k < pc.n; k++) {
		struct rr_cell cv;
		char suffix[96];

		if (!point_cell(&p->d, &pc, k, &cv, suffix, sizeof(suffix)))
			continue;
		if (cv.nusable && (!cv.peer || isfinite(role_median(&p->d, &cv, NULL, RW_SAMPLED))))
			sampled += split_row(p, &cv, suffix, &rmd, &rhtml, why, sizeof(why));
		free(cv.rec);
	}
	if (!sampled) {
		sb_printf(md, "\n*Where the CPU of the %s went: not measured in these records: %s*\n", tested, why);
		sb_add(html, "<p class=note>Where the CPU of the ");
		sb_html(html, tested);
		sb_add(html, " went: not measured in these records: ");
		sb_html(html, why);
		sb_add(html, "</p>\n");
	} else {
		snprintf(caption, sizeof(caption), "%s over %s: where the CPU of the role under test (%s) went, s per GiB "
			 "moved (sampled: the median rep's groups; predicted: the ledger's bytes through user memory at "
			 "memcpy's measured rates)", sc, tr, tested);
		sb_printf(md, "\n**%s**\n\n", caption);
		sb_add(html, "<table><caption>");
		sb_html(html, caption);
		sb_add(html, "</caption>\n");
		table_head_row(md, html, head, 4 + CG_COUNT);
		sb_add(md, rmd.p ? rmd.p : "");
		sb_add(html, rhtml.p ? rhtml.p : "");
		sb_add(html, "</table>\n");
		if (why[0])
			sb_printf(md, "\n*not measured: %s*\n", why);
	}
	free(rmd.p);
	free(rhtml.p);
}

/* The data points of each scenario and transport, for the tables. */
static void report_tables(const struct plot *p, const char *sc, struct sbuf *md, struct sbuf *html)
{
	struct list tr = transports_of(&p->d, sc);

	for (int t = 0; t < tr.n; t++) {
		struct points pts = points_of(&p->d, sc, tr.v[t]);

		for (int i = 0; i < pts.n; i++) {
			struct row rows[MAX_LIST];
			int n = table_rows(p, sc, tr.v[t], pts.v[i], rows, MAX_LIST);
			char ptext[96];
			const struct rr_cell *c0 = NULL;
			const char *tested, *cols[TABLE_COLS];
			bool limited = false;

			for (size_t k = 0; k < p->d.ncells && !c0; k++)
				if (!strcmp(p->d.cell[k].scenario, sc) && !strcmp(p->d.cell[k].transport, tr.v[t]))
					c0 = &p->d.cell[k];
			tested = c0 && c0->tested_role ? c0->tested_role : "?";
			point_text(pts.v[i], ptext, sizeof(ptext));
			sb_printf(md, "\n**%s over %s, %s** (role under test: %s)\n\n", sc, tr.v[t], ptext, tested);
			sb_add(html, "<table><caption>");
			sb_printf(html, "%s over %s, %s (role under test: %s)", sc, tr.v[t], ptext, tested);
			sb_add(html, "</caption>\n");
			for (int r = 0; r < n; r++)
				limited |= strcmp(rows[r].limited, "-") != 0;
			table_head_row(md, html, cols, table_columns(table_head, limited, cols));
			for (int r = 0; r < n; r++) {
				const char *f[] = { rows[r].strategy, rows[r].med, rows[r].min, rows[r].max,
						    rows[r].ratio, rows[r].limited, rows[r].cpu, rows[r].verified };

				table_row(md, html, cols, table_columns(f, limited, cols));
			}
			sb_add(html, "</table>\n");
			report_cpu_split(p, sc, tr.v[t], pts.v[i], tested, md, html);
		}
	}
}

/* "1 KiB", or with --response "64 B → 4 KiB" (request, then answer). */
static const char *message_text(const struct lat_row *r, char *buf, size_t len)
{
	char a[48], b[48];

	if (r->response == r->message)
		return human_bytes(r->message, buf, len);
	snprintf(buf, len, "%s → %s", human_bytes(r->message, a, sizeof(a)), human_bytes(r->response, b, sizeof(b)));
	return buf;
}

/*
 * Echo at offered loads: for each strategy (and message, outstanding,
 * cache), the highest load whose p99 stayed within the limit and the
 * lowest that did not.  The rows are sorted by load within those.
 */
static void report_load_limit(const struct plot *p, const struct lat_rows *lr, const char *sc, const char *tr,
			      struct sbuf *md, struct sbuf *html)
{
	static const char *const head[] = { "strategy", "message", "p99 within the limit up to", "p99 above it from" };
	double limit = p->p99_limit_us > 0 ? p->p99_limit_us : 1000;
	bool any = false;

	for (size_t i = 0; i < lr->n; i++)
		any |= lr->v[i].rps > 0;
	if (!any)
		return;
	sb_printf(md, "\n**%s over %s: the offered load each strategy's p99 stays within %.0f µs** (requests/s, open "
		  "loop; `copylab plot --p99-limit US` sets the limit)\n\n", sc, tr, limit);
	sb_printf(html, "<table><caption>%s over %s: the offered load each strategy's p99 stays within %.0f µs "
		  "(requests/s, open loop)</caption>\n", sc, tr, limit);
	table_head_row(md, html, head, 4);
	for (size_t i = 0; i < lr->n; i++) {
		const struct lat_row *r = &lr->v[i];
		unsigned within = 0, above = 0;
		bool above_short = false;
		char f[4][96];
		const char *fv[4] = { f[0], f[1], f[2], f[3] };
		bool first = true;

		if (!r->rps)
			continue;
		/* one line per group: skip a row whose group was printed at its first row */
		for (size_t k = 0; k < i; k++)
			first &= !(lr->v[k].rps && !strcmp(lr->v[k].strategy, r->strategy) &&
				   lr->v[k].message == r->message && lr->v[k].response == r->response &&
				   lr->v[k].outstanding == r->outstanding &&
				   !strcmp(lr->v[k].cache, r->cache));
		if (!first)
			continue;
		for (size_t k = i; k < lr->n; k++) {
			const struct lat_row *q = &lr->v[k];

			if (!q->rps || strcmp(q->strategy, r->strategy) || q->message != r->message || q->response != r->response ||
			    q->outstanding != r->outstanding || strcmp(q->cache, r->cache) || !isfinite(q->p99))
				continue;
			/* a load the client could not offer says nothing of the server's p99 there */
			if (q->p99 <= limit && !above && !lat_row_not_offered(q))
				within = q->rps;
			else if (!above) {
				above = q->rps;
				above_short = lat_row_not_offered(q);
			}
		}
		snprintf(f[0], sizeof(f[0]), "%s", r->strategy);
		message_text(r, f[1], sizeof(f[1]));
		snprintf(f[2], sizeof(f[2]), within ? "%u" : "none", within);
		snprintf(f[3], sizeof(f[3]), !above ? "never, up to the most offered" : above_short ?
			 "%u (not offered)" : "%u", above);
		table_row(md, html, fv, 4);
	}
	sb_add(html, "</table>\n");
}

/*
 * Under the latency table: each load the client could not offer, in
 * words, so that no one reads its p99 as the server's alone.
 */
static void report_not_offered(const struct lat_rows *lr, struct sbuf *md, struct sbuf *html)
{
	for (size_t i = 0; i < lr->n; i++) {
		const struct lat_row *r = &lr->v[i];
		char msg[48];

		if (!lat_row_not_offered(r))
			continue;
		message_text(r, msg, sizeof(msg));
		sb_printf(md, "\n%s, %s messages, %d outstanding: offered %u/s, achieved %.0f/s — not offered: the replies "
			  "came back at under %.0f%% of the schedule, so the client (or its window) could not keep it, and "
			  "these latencies hold its own lateness.\n", r->strategy, msg, r->outstanding, r->rps, r->achieved,
			  LOAD_OFFERED_SHARE * 100);
		sb_printf(html, "<p>%s, %s messages, %d outstanding: offered %u/s, achieved %.0f/s — not offered: the "
			  "replies came back at under %.0f%% of the schedule, so the client (or its window) could not "
			  "keep it, and these latencies hold its own lateness.</p>\n", r->strategy, msg, r->outstanding,
			  r->rps, r->achieved, LOAD_OFFERED_SHARE * 100);
	}
}

/* The latency table of SC over TR: strategy, message, outstanding, (offered load), p50, p99, p99.9, max. */
static void report_latency(const struct plot *p, const char *sc, const char *tr, struct sbuf *md, struct sbuf *html)
{
	static const char *const closed[] = { "strategy", "message", "outstanding", "p50 µs", "p99 µs", "p99.9 µs",
					      "max µs", "reps" };
	static const char *const open[] = { "strategy", "message", "outstanding", "offered /s", "achieved /s",
					    "p50 µs", "p99 µs", "p99.9 µs", "max µs", "reps" };
	struct lat_rows lr = latency_rows(&p->d, sc, tr);
	bool loads = false;
	const char *const *head;
	size_t nh;

	for (size_t i = 0; i < lr.n; i++)
		loads |= lr.v[i].rps > 0;
	head = loads ? open : closed;
	nh = loads ? 10 : 8;

	if (lr.n == 0) {
		free(lr.v);
		return;
	}
	sb_printf(md, "\n**%s over %s: round-trip latency** (µs; p50, p99, p99.9: median over the reps of each "
		  "rep's percentile; max: the largest round trip of any rep)\n\n", sc, tr);
	sb_add(html, "<table><caption>");
	sb_printf(html, "%s over %s: round-trip latency (µs; p50, p99, p99.9: median over the reps of each rep's "
		  "percentile; max: the largest round trip of any rep)", sc, tr);
	sb_add(html, "</caption>\n");
	table_head_row(md, html, head, nh);
	for (size_t i = 0; i < lr.n; i++) {
		const struct lat_row *r = &lr.v[i];
		char f[10][96], suffix[64];
		const char *fv[10];
		int k = 0;

		variant_suffix((struct variant){ r->cache, 0, 0, 0 }, NULL, suffix, sizeof(suffix));
		snprintf(f[k++], sizeof(f[0]), "%s%s", r->strategy, suffix);
		message_text(r, f[k++], sizeof(f[0]));
		snprintf(f[k++], sizeof(f[0]), "%d", r->outstanding);
		if (loads) {
			snprintf(f[k++], sizeof(f[0]), r->rps ? "%u" : "closed loop", r->rps);
			snprintf(f[k++], sizeof(f[0]), !isfinite(r->achieved) ? "-" : lat_row_not_offered(r) ?
				 "%.0f (not offered)" : "%.0f", r->achieved);
		}
		snprintf(f[k++], sizeof(f[0]), isfinite(r->p50) ? "%.1f" : "-", r->p50);
		snprintf(f[k++], sizeof(f[0]), isfinite(r->p99) ? "%.1f" : "-", r->p99);
		snprintf(f[k++], sizeof(f[0]), isfinite(r->p999) ? "%.1f" : "-", r->p999);
		snprintf(f[k++], sizeof(f[0]), isfinite(r->max) ? "%.1f" : "-", r->max);
		snprintf(f[k++], sizeof(f[0]), "%zu", r->nreps);
		for (size_t h = 0; h < nh; h++)
			fv[h] = f[h];
		table_row(md, html, fv, nh);
	}
	sb_add(html, "</table>\n");
	report_not_offered(&lr, md, html);
	report_load_limit(p, &lr, sc, tr, md, html);
	free(lr.v);
}

/* ---- the environment --------------------------------------------------------- */

/* An object of env.json on one line: "key value; key value". */
static void env_object_text(json_t *v, struct sbuf *s)
{
	const char *k2;
	json_t *v2;

	json_object_foreach(v, k2, v2) {
		char *t = json_is_string(v2) ? strdup(json_string_value(v2)) : json_dumps(v2, JSON_ENCODE_ANY);

		sb_printf(s, "%s%s %s", s->len ? "; " : "", k2, t ? t : "?");
		free(t);
	}
}

/*
 * A link's facts in a line: interface, address, MTU, the offloads on and
 * off, the qdiscs, and each end of a veth the same way.  The raw ethtool
 * feature lists (hundreds of pairs) stay in env.json.
 */
static void transport_text(json_t *v, struct sbuf *s)
{
	static const char *const skip[] = { "features", "refcnt", "handle", "options", "root", "gso_max_size",
					    "gro_max_size", "steering_note", "net_sysctl_note" };
	const char *k;
	json_t *x;

	json_object_foreach(v, k, x) {
		bool skipped = false;

		for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
			skipped |= !strcmp(k, skip[i]);
		if (skipped)
			continue;
		if (!strcmp(k, "steering") || !strcmp(k, "net_sysctl")) {
			sb_add(s, s->len ? "; " : "");
			sb_add(s, !strcmp(k, "net_sysctl") ? "its namespace's " : "");
			envtext_fact(v, k, s);
			continue;
		}
		if (!strcmp(k, "offload") && json_is_object(x)) {
			const char *o;
			json_t *on;

			sb_printf(s, "%soffloads", s->len ? "; " : "");
			json_object_foreach(x, o, on)
				if (json_is_boolean(on))
					sb_printf(s, " %s %s", o, json_is_true(on) ? "on" : "off");
			continue;
		}
		if (json_is_array(x)) {
			size_t i;
			json_t *e;

			sb_printf(s, "%s%s:", s->len ? "; " : "", k);
			json_array_foreach(x, i, e) {
				json_t *kind = json_object_get(e, "kind");

				if (json_is_string(kind)) {	/* a qdisc */
					sb_printf(s, " %s", json_string_value(kind));
					continue;
				}
				sb_add(s, " [");
				struct sbuf sub = { 0 };

				if (json_is_object(e))
					transport_text(e, &sub);
				sb_add(s, sub.p ? sub.p : "");
				free(sub.p);
				sb_add(s, "]");
			}
			continue;
		}
		char *t = json_is_string(x) ? strdup(json_string_value(x)) : json_dumps(x, JSON_ENCODE_ANY);

		sb_printf(s, "%s%s %s", s->len ? "; " : "", k, t ? t : "?");
		free(t);
	}
}

/*
 * The workdir's filesystem on a row of its own, out of the long conditions
 * line: copy_file_range can reflink on xfs and btrfs, which alone turns a
 * copy's verdict around.
 */
static void workdir_fs_row(json_t *cond, void (*row)(struct sbuf *, const char *, const char *), struct sbuf *b)
{
	json_t *fs = json_object_get(cond, "workdir_fs");
	char val[256];

	snprintf(val, sizeof(val), "%s (%s)", json_is_string(fs) ? json_string_value(fs) : "not known",
		 json_is_string(json_object_get(cond, "workdir")) ? json_string_value(json_object_get(cond, "workdir")) : "?");
	row(b, "workdir filesystem", val);
}

static void env_rows(const struct plot *p, void (*row)(struct sbuf *, const char *, const char *), struct sbuf *b)
{
	const char *key;
	json_t *v;

	if (!p->d.env) {
		row(b, "env.json", p->d.env_note);
		return;
	}
	json_object_foreach(p->d.env, key, v) {
		struct sbuf s = { 0 };
		char val[512];

		if (!strcmp(key, "schema"))
			continue;
		if (envtext_fact(p->d.env, key, &s) || json_is_object(v)) {
			if (s.len)
				;	/* a verdict-changing fact, summarised by envtext.c */
			else if (!strncmp(key, "transport", 9))
				transport_text(v, &s);
			else
				env_object_text(v, &s);
			row(b, key, s.p ? s.p : "");
			free(s.p);
			if (!strcmp(key, "conditions"))
				workdir_fs_row(v, row, b);
			continue;
		}
		if (json_is_string(v))
			snprintf(val, sizeof(val), "%s", json_string_value(v));
		else if (json_is_null(v))
			snprintf(val, sizeof(val), "not known on this machine (null)");
		else {
			char *t = json_dumps(v, JSON_ENCODE_ANY);

			snprintf(val, sizeof(val), "%s", t ? t : "?");
			free(t);
		}
		row(b, key, val);
	}
}

static void md_env_row(struct sbuf *b, const char *k, const char *v)
{
	sb_printf(b, "| %s | %s |\n", k, v);
}

static void html_env_row(struct sbuf *b, const char *k, const char *v)
{
	sb_add(b, "<tr><th>");
	sb_html(b, k);
	sb_add(b, "</th><td>");
	sb_html(b, v);
	sb_add(b, "</td></tr>\n");
}

/* ---- the charts ------------------------------------------------------------------ */

/*
 * The bytes of a chart file, malloc'd, in *len; NULL when it cannot be
 * read.  Bounded: plots/ may hold what someone put there (a FIFO, a link
 * to /dev/zero) where gnuplot failed to draw.
 */
static unsigned char *chart_bytes(const char *path, size_t *len)
{
	char *buf, err[512];

	*len = 0;
	return bounded_read_bytes(path, BOUNDED_CAP_CHART, &buf, len, err, sizeof(err)) ? NULL : (unsigned char *)buf;
}

/* A chart: linked from the Markdown, inlined in the HTML (PNG where there is one). */
static void report_chart(const struct plot *p, const struct chart *c, struct sbuf *md, struct sbuf *html)
{
	char path[PATH_MAX + 300];
	bool png = strstr(p->formats, "png") != NULL, svg = strstr(p->formats, "svg") != NULL;
	size_t len;
	unsigned char *buf;

	sb_printf(md, "\n![%s](plots/%s.%s)\n", c->caption, c->name, png ? "png" : "svg");
	if (png && svg)
		sb_printf(md, "\n[SVG](plots/%s.svg), [data](plots/%s.dat)\n", c->name, c->name);
	sb_add(html, "<figure>");
	snprintf(path, sizeof(path), "%s/%s.%s", p->plots, c->name, png ? "png" : "svg");
	buf = chart_bytes(path, &len);
	if (buf && len) {
		sb_printf(html, "<img alt=\"%s\" src=\"data:image/%s;base64,", c->name, png ? "png" : "svg+xml");
		sb_base64(html, buf, len);
		sb_add(html, "\">");
	} else {
		sb_printf(html, "<p class=missing>chart %s could not be read</p>", c->name);
	}
	free(buf);
	sb_add(html, "<figcaption>");
	sb_html(html, c->caption);
	if (png && svg)
		sb_printf(html, " (<a href=\"plots/%s.svg\">SVG</a>, <a href=\"plots/%s.dat\">data</a>)", c->name,
			  c->name);
	sb_add(html, "</figcaption></figure>\n");
}

/* ---- the page ---------------------------------------------------------------------- */

/* Notes on what the figures leave out: failed or unverified reps, a missing summary. */
static void note_rep_quality(struct plot *p)
{
	size_t nrec_failed = 0, nunverified = 0;

	for (size_t i = 0; i < p->d.nrec; i++) {
		if (!rec_usable(p->d.rec[i]))
			nrec_failed++;
		else if (!json_is_true(json_object_get(p->d.rec[i], "verified")))
			nunverified++;
	}
	if (nrec_failed)
		plot_note(p, "%zu repetition(s) failed or did not verify; they give no figure", nrec_failed);
	if (nunverified)
		plot_note(p, "%zu repetition(s) are UNVERIFIED (--sink discard, or recv's readwrite:trunc): their figures were not checked",
			  nunverified);
	if (!p->d.have_summary)
		plot_note(p, "no summary.csv: the tables are computed from results.jsonl and have no paired ratio");
}

/* What [CI] means, from summary.csv's confidence level; "" when the summary has none. */
static void ci_text_of(const struct plot *p, char *buf, size_t len)
{
	const char *lvl = NULL;
	char pc[32];

	buf[0] = '\0';
	for (size_t r = 0; p->d.have_summary && r < p->d.summary.nrows && !lvl; r++) {
		const char *l = rr_csv_get(&p->d.summary, r, "ratio_ci_level");

		if (l && *l)
			lvl = l;
	}
	if (!lvl)
		return;
	summary_num(pc, sizeof(pc), lvl, 100, "%.0f%%");
	snprintf(buf, len, "; [CI] is summary.csv's %s confidence interval of that "
		 "ratio and the verdict its `difference` (faster, slower, or no difference measured "
		 "when the interval holds 1)", pc);
}

/* What the tables add to the summary: the limiting role, the CPU split (both pages say it). */
static const char tables_text[] =
	" Where a table has a limiting role column, \"limited by ROLE (busy ≥ 0.9)\" is a cell where that role kept "
	"one CPU 90% busy or more in most reps (limiting_role): it set the pace, so a ratio near 1 says where the "
	"cell was limited, not that the strategies cost the same. Under each table, where the CPU sampler ran: the role under "
	"test's sampled CPU per GiB, the part of it in the copy routines beside what memcpy's measured rates "
	"predict for the ledger's bytes through user memory (data in cache..from memory), and its split by group.";

static void md_head(const struct plot *p, const char *ci_text, struct sbuf *md)
{
	sb_printf(md, "<!-- generated by copylab plot from %s; do not edit -->\n# copylab run %s\n\n", p->dir,
		  p->run_id);
	sb_printf(md, "%s. %zu counted repetitions in %zu cells. MB/s = 10^6 bytes/s; CPU per GiB = "
		  "user + system seconds of the role under test per 2^30 bytes; x readwrite = the median of the "
		  "ratios to readwrite, repetition by repetition (docs/results.md)%s. Cells run with a cold page "
		  "cache are marked (cold cache), and cells run with --pipe-size by the size asked (1 MiB pipe, for one).%s\n\n",
		  p->machine, p->d.nrec, p->d.ncells, ci_text, tables_text);
}

static void html_head(const struct plot *p, const char *ci_text, struct sbuf *html)
{
	sb_add(html, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>copylab run ");
	sb_html(html, p->run_id);
	sb_add(html, "</title>\n<style>\nbody{font-family:DejaVu Sans,Helvetica,Arial,sans-serif;max-width:1400px;"
		     "margin:1em auto;padding:0 1em;color:#222}\ntable{border-collapse:collapse;margin:.8em 0}\n"
		     "th,td{border:1px solid #ccc;padding:.2em .6em;text-align:left;font-size:.92em}\n"
		     "td.n{text-align:right;font-variant-numeric:tabular-nums}\ncaption{text-align:left;"
		     "font-weight:bold;padding:.3em 0}\nfigure{margin:1.2em 0}\nimg{max-width:100%;"
		     "border:1px solid #ddd}\nfigcaption{font-size:.9em;color:#555}\n.note{background:#fff6e0;"
		     "border-left:4px solid #e0a000;padding:.3em .8em}\n</style></head><body>\n<h1>copylab run ");
	sb_html(html, p->run_id);
	sb_add(html, "</h1>\n<p>");
	sb_html(html, p->machine);
	sb_printf(html, ". %zu counted repetitions in %zu cells. MB/s = 10<sup>6</sup> bytes/s; CPU per GiB = "
		  "user + system seconds of the role under test per 2<sup>30</sup> bytes; x readwrite = the median "
		  "of the ratios to readwrite, repetition by repetition", p->d.nrec, p->d.ncells);
	sb_html(html, ci_text);
	sb_add(html, ". Cells run with a cold page cache are marked (cold cache), and cells run with --pipe-size by the "
		     "size asked (1 MiB pipe, for one).");
	sb_html(html, tables_text);
	sb_add(html, "</p>\n");
}

/*
 * The environment last, and folded in the HTML page: the findings come
 * first.  Transports are summarised (env.json keeps every fact).
 */
static void report_environment(const struct plot *p, struct sbuf *md, struct sbuf *html)
{
	sb_add(md, "\n## Environment\n\nThe machine, the build and the links (env.json holds every fact).\n\n"
		   "| | |\n|---|---|\n");
	env_rows(p, md_env_row, md);
	sb_add(html, "<details id=environment><summary><h2 style=\"display:inline\">Environment</h2> "
		     "(the machine, the build and the links; env.json holds every fact)</summary>\n<table>\n");
	env_rows(p, html_env_row, html);
	sb_add(html, "</table>\n</details>\n");
}

static void report_notes(const struct plot *p, struct sbuf *md, struct sbuf *html)
{
	char *save = NULL, *copy;

	if (!p->notes.len)
		return;
	copy = strdup(p->notes.p);
	sb_add(md, "\n## Notes\n\n");
	sb_add(html, "<h2>Notes</h2>\n");
	for (char *l = copy ? strtok_r(copy, "\n", &save) : NULL; l; l = strtok_r(NULL, "\n", &save)) {
		sb_printf(md, "- %s\n", l);
		sb_add(html, "<p class=note>");
		sb_html(html, l);
		sb_add(html, "</p>\n");
	}
	free(copy);
}

/* A scenario's section: its tables, echo's latency tables, its charts. */
static void report_scenario(const struct plot *p, const char *sc, struct sbuf *md, struct sbuf *html)
{
	sb_printf(md, "\n## %s (%s)\n", sc, scenario_path(sc));
	sb_add(html, "<h2>");
	sb_html(html, sc);
	sb_add(html, " (");
	sb_html(html, scenario_path(sc));
	sb_add(html, ")</h2>\n");
	report_tables(p, sc, md, html);
	if (has_latency(&p->d, sc)) {
		struct list tr = transports_of(&p->d, sc);

		for (int t = 0; t < tr.n; t++)
			report_latency(p, sc, tr.v[t], md, html);
	}
	for (size_t i = 0; i < p->nch; i++)
		if (!strcmp(p->ch[i].scenario, sc))
			report_chart(p, &p->ch[i], md, html);
}

/* The charts of no one scenario, under a heading of their own when there are any. */
static void report_whole_run(const struct plot *p, struct sbuf *md, struct sbuf *html)
{
	bool whole = false;

	for (size_t i = 0; i < p->nch; i++)
		if (!p->ch[i].scenario[0]) {
			if (!whole) {
				sb_add(md, "\n## The whole run\n");
				sb_add(html, "<h2>The whole run</h2>\n");
				whole = true;
			}
			report_chart(p, &p->ch[i], md, html);
		}
}

/* Writes DIR/NAME from B, atomically; 0, or -1 after saying why. */
static int report_save(const struct plot *p, const char *name, const struct sbuf *b)
{
	char path[PATH_MAX + 32];
	int rc;

	snprintf(path, sizeof(path), "%s/%s", p->dir, name);
	rc = write_file_atomic(path, b->p, b->len);
	if (rc)
		fprintf(stderr, "copylab plot: cannot write %s: %s\n", path, strerror(-rc));
	return rc ? -1 : 0;
}

int report_write(struct plot *p)
{
	struct sbuf md = { 0 }, html = { 0 };
	struct list sc = scenarios_of(&p->d);
	char ci_text[256];
	int r1, r2;

	note_rep_quality(p);
	ci_text_of(p, ci_text, sizeof(ci_text));
	md_head(p, ci_text, &md);
	html_head(p, ci_text, &html);
	report_findings(p, &md, &html);
	report_notes(p, &md, &html);
	for (int s = 0; s < sc.n; s++)
		report_scenario(p, sc.v[s], &md, &html);
	report_whole_run(p, &md, &html);
	report_environment(p, &md, &html);
	sb_add(&html, "</body></html>\n");
	if (md.oom || html.oom) {
		fprintf(stderr, "copylab plot: out of memory writing the report\n");
		free(md.p);
		free(html.p);
		return -1;
	}
	r1 = report_save(p, "report.md", &md);
	r2 = report_save(p, "report.html", &html);
	free(md.p);
	free(html.p);
	return r1 || r2 ? -1 : 0;
}
