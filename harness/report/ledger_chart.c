/* SPDX-License-Identifier: MIT */
/*
 * The copy ledger chart (ledger_chart.h): a row per strategy and variant
 * of one data point into ledger-SC-TR.dat, what the panels are titled and
 * what a panel without figures says into its .vars.gp, for
 * scripts/plot/ledger.gp.  The records say which instrument counted the
 * bytes (BPF as root, the LD_PRELOAD tracer unprivileged) and why one did
 * not; that reason is what a reader sees instead of zero bars.
 */
#include "ledger_chart.h"

#include "cells.h"
#include "harness/model/sbuf.h"
#include "style.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the ledger's cells have: how many have each figure, why one lacks it, the role under test. */
struct ledger_survey {
	int with_bytes, with_syscalls, with_copy, with_predicted;
	char bytes_why[512], copy_why[512];
	char absent[512];	/* a strategy whose records have no role under test, and why (nat) */
	struct list unseen;	/* strategies whose data path the ledger's instrument did not see */
	const char *unseen_by;	/* that instrument: "tracer", "bpf" (records older than its io_uring probes) */
	struct list sources;	/* the instruments that counted the bytes drawn: bpf, tracer */
	const char *tested;
};

/* Which instrument counted the ledger of TESTED in R: "bpf", "tracer"; NULL when none did. */
static const char *ledger_source(json_t *r, const char *tested)
{
	char path[96];
	const char *s;

	if (!tested)
		return NULL;
	snprintf(path, sizeof(path), "roles.%s.ledger.source", tested);
	if ((s = rr_str(r, path)))
		return s;
	/* records written before the ledger object have the instrument's own */
	snprintf(path, sizeof(path), "roles.%s.bpf", tested);
	if (json_is_object(rr_get(r, path)))
		return "bpf";
	snprintf(path, sizeof(path), "roles.%s.tracer", tested);
	return json_is_object(rr_get(r, path)) ? "tracer" : NULL;
}

/* Why cell C has no ledger bytes: what each instrument's metrics note says. */
static void bytes_why(const struct rr_dir *d, const struct rr_cell *c, char *buf, size_t len)
{
	const char *bpf = cell_metrics_note(d, c, "bpf"), *tracer = cell_metrics_note(d, c, "tracer");

	if (bpf || tracer)
		snprintf(buf, len, "BPF ledger %s; tracer %s", bpf ? bpf : "not noted", tracer ? tracer : "not noted");
	else
		snprintf(buf, len, "the records carry no copy ledger (roles.ROLE.ledger, bpf and tracer are null)");
}

/* "the tracer counted none of uring_rw's read, write or splice calls ...": the strategies LS could not see. */
static void unseen_text(const struct ledger_survey *ls, char *buf, size_t len)
{
	char names[256];

	legend_names(&ls->unseen, names, sizeof(names));
	if (names[0])
		names[strlen(names) - 1] = '\0';
	snprintf(buf, len, "the %s counted none of the read, write or splice calls of %s while the role made calls: "
		 "its data path is out of that instrument's sight (io_uring's completions are, for one)",
		 ls->unseen_by ? ls->unseen_by : "ledger", names);
}

static void survey_cell(const struct rr_dir *d, const struct rr_cell *c, struct ledger_survey *ls)
{
	bool bytes = isfinite(role_median(d, c, NULL, RW_USERMEM)), copy = isfinite(role_median(d, c, NULL, RW_COPY));
	const char *src = ledger_source(d->rec[c->rec[0]], c->tested_role);

	ls->with_bytes += bytes;
	ls->with_syscalls += isfinite(role_median(d, c, NULL, RW_SYSCALLS));
	ls->with_copy += copy;
	ls->with_predicted += isfinite(role_median(d, c, NULL, RW_PREDICTED_RESIDENT));
	if (bytes && src)
		list_add(&ls->sources, src);
	if (!c->tested_role) {
		const char *absent = rr_str(d->rec[c->rec[0]], "role_absent");

		snprintf(ls->absent, sizeof(ls->absent), "%s has no ledger: %s", c->strategy,
			 absent ? absent : "no role under test in its records");
		return;
	}
	if (!ls->tested || !c->peer)
		ls->tested = c->tested_role;
	/*
	 * A peer has a ledger where peers.sh's copylab probe counted one (not
	 * socat's) and no copy time: what it lacks is left out, not noted.
	 */
	if (c->peer)
		return;
	if (!bytes && ledger_unseen(d->rec[c->rec[0]], NULL)) {
		list_add(&ls->unseen, c->strategy);
		ls->unseen_by = ls->unseen_by ? ls->unseen_by : src;
	}
	else if (!bytes && !ls->bytes_why[0])
		bytes_why(d, c, ls->bytes_why, sizeof(ls->bytes_why));
	if (!copy && !ls->copy_why[0])
		cputime_missing(d, c, NULL, ls->copy_why, sizeof(ls->copy_why));
}

static void ledger_survey(const struct plot *p, const struct point_cells *pc, struct ledger_survey *ls)
{
	for (int k = 0; k < pc->n; k++) {
		struct rr_cell cv;
		char suffix[96];

		if (!point_cell(&p->d, pc, k, &cv, suffix, sizeof(suffix)))
			continue;
		if (cv.nusable)
			survey_cell(&p->d, &cv, ls);
		free(cv.rec);
	}
}

/*
 * One row per strategy and variant with figures (a peer only with a
 * ledger): x, label, colour, the columns ledger.gp names, and 1 where
 * the ledger did not see the strategy's data path.  The xtics into TICS.
 * Returns how many rows.
 */
static int ledger_rows(const struct plot *p, const struct point_cells *pc, bool with_syscalls, FILE *dat,
		       struct sbuf *tics)
{
	const enum role_what cols[] = { RW_USERMEM, RW_KERNEL, with_syscalls ? RW_SYSCALLS : RW_CALLS, RW_CTX,
					RW_FAULTS, RW_COPY, RW_PREDICTED_RESIDENT, RW_PREDICTED_DRAM };
	int n = 0;

	for (int k = 0; k < pc->n; k++) {
		struct rr_cell cv, *c = &cv;
		char suffix[96];

		if (!point_cell(&p->d, pc, k, &cv, suffix, sizeof(suffix)))
			continue;
		/* nat: no process played the role under test, so there is no ledger to draw (said in the notes) */
		if (c->nusable == 0 || !c->tested_role ||
		    (c->peer && !isfinite(role_median(&p->d, c, NULL, RW_USERMEM)))) {
			free(cv.rec);
			continue;
		}
		n++;
		fprintf(dat, "%d\t%s%s\t%u", n, c->strategy, suffix, strategy_color(c->strategy));
		for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
			fputc('\t', dat);
			gp_num(dat, role_median(&p->d, c, NULL, cols[i]));
		}
		fprintf(dat, "\t%d\n", ledger_unseen(p->d.rec[c->rec[0]], NULL));
		char esc[512], sesc[256];

		sb_printf(tics, "%s\"%s%s\" %d", n > 1 ? ", " : "", gp_escape(c->strategy, esc, sizeof(esc)),
			  gp_escape(suffix, sesc, sizeof(sesc)), n);
		free(cv.rec);
	}
	return n;
}

/* The panels' switches, titles and what a panel without figures says. */
static void ledger_vars(FILE *vars, const struct ledger_survey *ls)
{
	char src[64], title[128], note[640];

	legend_names(&ls->sources, src, sizeof(src));
	if (src[0])
		src[strlen(src) - 1] = '\0';
	fprintf(vars, "have_bytes = %d\nhave_copy = %d\nhave_predicted = %d\n", ls->with_bytes > 0,
		ls->with_copy > 0, ls->with_predicted > 0);
	snprintf(title, sizeof(title), "bytes copied per GiB moved (ledger counted by %s)", src[0] ? src : "-");
	gp_str(vars, "bytes_title", title);
	if (!ls->bytes_why[0] && ls->unseen.n)
		unseen_text(ls, note, sizeof(note));
	else
		snprintf(note, sizeof(note), "%s", ls->bytes_why[0] ? ls->bytes_why : "-");
	gp_str(vars, "bytes_note", note);
	snprintf(note, sizeof(note), "not seen by\nthe %s", ls->unseen_by ? ls->unseen_by : "ledger");
	gp_str(vars, "unseen_label", note);
	gp_str(vars, "copy_note", ls->copy_why[0] ? ls->copy_why : "-");
	gp_str(vars, "syscall_label", ls->with_syscalls ? "syscalls (all kinds, BPF raw_syscalls) per GiB"
						      : "data-moving calls per GiB (the strategy's own count; no BPF)");
}

/* What the report says of a ledger chart of SC over TR with N rows that lacks some figures. */
static void ledger_notes(struct plot *p, const char *sc, const char *tr, const struct ledger_survey *ls, int n)
{
	char unseen[512];

	if (!ls->with_bytes && ls->bytes_why[0])
		plot_note(p, "%s over %s: no copy ledger (bytes through user memory or in the kernel) in these records: "
			  "%s; the ledger chart's bytes panel says so", sc, tr, ls->bytes_why);
	else if (ls->with_bytes < n && ls->bytes_why[0])
		plot_note(p, "%s over %s: some strategies have no copy ledger: %s", sc, tr, ls->bytes_why);
	if (ls->unseen.n) {
		unseen_text(ls, unseen, sizeof(unseen));
		plot_note(p, "%s over %s: no bytes drawn where %s", sc, tr, unseen);
	}
	if (!ls->with_copy && ls->copy_why[0])
		plot_note(p, "%s over %s: no copy time (roles.ROLE.cputime) in these records: %s; the ledger chart's "
			  "copy-time panel says so", sc, tr, ls->copy_why);
	else if (ls->with_copy < n && ls->copy_why[0])
		plot_note(p, "%s over %s: some strategies have no copy time: %s", sc, tr, ls->copy_why);
}

int plot_ledger(struct plot *p, const char *sc, const char *tr)
{
	struct points pts = points_of(&p->d, sc, tr);
	struct point pt = representative(&pts);
	struct point_cells pc = point_cells_of(&p->d, sc, tr, pt);
	char name[128], title[1024], caption[512], ptext[96];
	struct ledger_survey ls = { 0 };
	struct sbuf tics = { 0 };
	FILE *dat, *vars;
	int n;

	snprintf(name, sizeof(name), "ledger-%s-%s", sc, tr);
	if (chart_open(p, name, &dat, &vars))
		return -1;
	ledger_survey(p, &pc, &ls);
	n = ledger_rows(p, &pc, ls.with_syscalls > 0, dat, &tics);
	fclose(dat);
	fprintf(vars, "set xtics (%s", tics.p ? tics.p : "");
	free(tics.p);
	fprintf(vars, ")\nset xrange [0.3:%g]\nwidth = 1500\nheight = 940\n", n + 0.7);
	ledger_vars(vars, &ls);
	snprintf(title, sizeof(title), "%s (%s) over %s, %s: the copy ledger of the role under test (%s) per GiB moved\n"
		 "(medians over the counted reps)\n%s; run %s",
		 sc, scenario_path(sc), tr, point_text(pt, ptext, sizeof(ptext)), ls.tested ? ls.tested : "?",
		 p->machine, p->run_id);
	gp_str(vars, "title", title);
	fclose(vars);
	if (ls.absent[0])
		plot_note(p, "%s over %s: %s", sc, tr, ls.absent);
	if (n == 0)
		return 0;
	ledger_notes(p, sc, tr, &ls, n);
	snprintf(caption, sizeof(caption), "%s over %s: the copy ledger per GiB (role under test): bytes, copy time "
		 "sampled and predicted, syscalls, switches, faults%s", sc, tr,
		 ls.with_bytes ? "" : " - no copy ledger in these records");
	return chart_finish(p, name, "ledger.gp", sc, caption);
}
