/* SPDX-License-Identifier: MIT */
/*
 * `copylab plot DIR`: the charts of a run directory (DIR/plots/, PNG and
 * SVG, drawn by gnuplot: charts.c, lines.c) and the report that puts the
 * environment, the summary tables and the charts together (DIR/report.md,
 * a self-contained DIR/report.html: page.c).  docs/charts.md describes
 * each chart.
 */
#include "harness/cli/cli.h"
#include "harness/results/read.h"
#include "charts.h"
#include "gnuplot.h"
#include "page.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char plot_help[] =
"usage: copylab plot [--format png,svg] [--no-report] [--p99-limit US] DIR\n"
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
"  load-SCENARIO-TRANSPORT  echo at offered loads (--sweep rps=): round-trip\n"
"                           p50/p99/p99.9 against requests/s; a ringed p99: a\n"
"                           load the client could not offer\n"
"  throughput, cpu_per_gib  every scenario of the run in one chart\n"
"Each chart's data is beside it (NAME.dat).  docs/charts.md explains them.\n"
"\n"
"  --format LIST   png, svg or png,svg (default)\n"
"  --no-report     charts only\n"
"  --p99-limit US  echo at offered loads (run --rps, --sweep rps=): the report\n"
"                  says up to which load each strategy's p99 stays within US\n"
"                  microseconds (default 1000)\n"
"The gnuplot scripts are found beside the executable (scripts/plot) or in\n"
"$COPYLAB_SCRIPTS.  Exit status: 0 done, 1 DIR's files are missing or\n"
"malformed (the message names the file and line) or gnuplot failed, 2 bad usage\n"
"or DIR is not a results directory: a file of it is not a regular file, is over\n"
"its size cap, or holds a number out of range (nan, inf, a negative figure).\n";

/* The command line into p->dir, p->formats and *report; 0, -1 after --help, or usage_error's status. */
static int plot_options(int argc, char **argv, struct plot *p, bool *report)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "no-report", no_argument, NULL, 'n' },
		{ "p99-limit", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c, rc;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if ((rc = plot_formats_parse(optarg, p->formats, sizeof(p->formats))))
				return rc;
			break;
		case 'n':
			*report = false;
			break;
		case 'l': {
			char *end;

			p->p99_limit_us = strtod(optarg, &end);
			if (end == optarg || *end || !(p->p99_limit_us >= 1 && p->p99_limit_us <= 1e9))
				return usage_error("plot: --p99-limit '%s' is not a latency in microseconds (1..1e9, e.g. 500)",
						   optarg);
			break;
		}
		case 'h':
			fputs(plot_help, stdout);
			return -1;
		case ':':
			return usage_error("plot: option '%s' needs a value (see copylab plot --help)", argv[optind - 1]);
		default:
			return usage_error("plot: unknown option '%s' (see copylab plot --help)", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return usage_error("plot: give one results directory (see copylab plot --help)");
	snprintf(p->dir, sizeof(p->dir), "%s", argv[optind]);
	return 0;
}

/* Reads p->dir and makes plots/ and the temporary directory; 0 or the exit status. */
static int plot_open(struct plot *p)
{
	char err[8192];

	switch (rr_open(p->dir, &p->d, err, sizeof(err))) {
	case RR_OK:
		break;
	case RR_NO_DIR:
	case RR_REFUSED:
		return usage_error("plot: %s", err);
	default:
		fprintf(stderr, "copylab plot: %s\n", err);
		return EXIT_RUN_FAILED;
	}
	if (plot_find_scripts(p->scripts, sizeof(p->scripts))) {
		rr_close(&p->d);
		return EXIT_RUN_FAILED;
	}
	p->run_id = p->d.env && rr_str(p->d.env, "run_id") ? rr_str(p->d.env, "run_id")
		  : rr_str(p->d.rec[0], "run_id") ? rr_str(p->d.rec[0], "run_id") : "?";
	rr_machine(&p->d, p->machine, sizeof(p->machine));
	snprintf(p->plots, sizeof(p->plots), "%s/plots", p->dir);
	snprintf(p->tmp, sizeof(p->tmp), "%s/.plots.XXXXXX", p->dir);
	if ((mkdir(p->plots, 0755) < 0 && errno != EEXIST) || !mkdtemp(p->tmp)) {
		fprintf(stderr, "copylab plot: cannot create %s: %s\n", errno == EEXIST ? p->tmp : p->plots,
			strerror(errno));
		rr_close(&p->d);
		return EXIT_RUN_FAILED;
	}
	return 0;
}

/* What was drawn and written, then the notes, one a line. */
static void plot_print(struct plot *p, bool report, int rc)
{
	char *save = NULL;

	printf("plots: %s/ (%zu charts, %s)\n", p->plots, p->nch, p->formats);
	if (report && rc == 0)
		printf("report: %s/report.md, %s/report.html\n", p->dir, p->dir);
	if (!p->notes.len)
		return;
	for (char *l = strtok_r(p->notes.p, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		printf("note: %s\n", l);
}

int cmd_plot(int argc, char **argv)
{
	struct plot p = { 0 };
	bool report = true;
	int rc;

	snprintf(p.formats, sizeof(p.formats), "png svg");
	rc = plot_options(argc, argv, &p, &report);
	if (rc)
		return rc < 0 ? 0 : rc;
	if ((rc = plot_open(&p)))
		return rc;
	charts_draw(&p);
	if (report && report_write(&p))
		rc = EXIT_RUN_FAILED;
	plot_tmp_remove(&p);
	if (p.gnuplot_failures) {
		fprintf(stderr, "copylab plot: %d chart(s) could not be drawn\n", p.gnuplot_failures);
		rc = EXIT_RUN_FAILED;
	}
	plot_print(&p, report, rc);
	plot_free(&p);
	return rc;
}
