/* SPDX-License-Identifier: MIT */
/*
 * `copylab compare DIR_A DIR_B`: the cells two runs have in common side by
 * side, from their summary.csv, as a table (or TSV) and a chart of B/A.
 */
#include "harness/cli/cli.h"
#include "harness/model/options.h"
#include "harness/results/read.h"
#include "gnuplot.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char compare_help[] =
"usage: copylab compare [--out DIR] [--format png,svg] [--tsv] DIR_A DIR_B\n"
"\n"
"Puts the cells (scenario, transport, size, block, strategy) that two runs\n"
"have in common side by side: the median throughput and the median CPU per\n"
"GiB of the role under test of each (from their summary.csv), and B/A of\n"
"both.  Prints the table and draws DIR_B/plots/compare-<A>.png/.svg (or in\n"
"--out DIR).  --tsv prints tab-separated values instead of the table.\n"
"Exit status: 0 done, 1 a directory's files are missing or malformed, or no\n"
"cell is in both, 2 bad usage or a directory that is not a results directory:\n"
"a file of it is not a regular file, is over its size cap, or holds a number\n"
"out of range (nan, inf, a negative figure).\n";

/* What the command line asked. */
struct compare_args {
	const char *out;	/* --out, or NULL: B's plots/ */
	bool tsv;
	const char *dir_a, *dir_b;
};

/* The command line into *ca and p->formats; 0, -1 after --help, or usage_error's status. */
static int compare_options(int argc, char **argv, struct plot *p, struct compare_args *ca)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' },
		{ "tsv", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c, rc;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'o': ca->out = optarg; break;
		case 't': ca->tsv = true; break;
		case 'f':
			if ((rc = plot_formats_parse(optarg, p->formats, sizeof(p->formats))))
				return rc;
			break;
		case 'h':
			fputs(compare_help, stdout);
			return -1;
		case ':':
			return usage_error("compare: option '%s' needs a value (see copylab compare --help)", argv[optind - 1]);
		default:
			return usage_error("compare: unknown option '%s' (see copylab compare --help)", argv[optind - 1]);
		}
	}
	if (optind != argc - 2)
		return usage_error("compare: give two results directories, A then B (see copylab compare --help)");
	ca->dir_a = argv[optind];
	ca->dir_b = argv[optind + 1];
	return 0;
}

static double csv_num(const struct rr_dir *d, long row, const char *col)
{
	const char *f = row >= 0 ? rr_csv_get(&d->summary, row, col) : NULL;
	char *end;
	double v;

	if (!f || !*f)
		return NAN;
	v = strtod(f, &end);
	return *end ? NAN : v;
}

static double ratio(double b, double a)
{
	return isfinite(a) && isfinite(b) && a > 0 ? b / a : NAN;
}

static int open_for_compare(const char *dir, struct rr_dir *d)
{
	char err[8192];

	switch (rr_open(dir, d, err, sizeof(err))) {
	case RR_OK:
		break;
	case RR_NO_DIR:
	case RR_REFUSED:
		return usage_error("compare: %s", err);
	default:
		fprintf(stderr, "copylab compare: %s\n", err);
		return EXIT_RUN_FAILED;
	}
	if (!d->have_summary) {
		fprintf(stderr, "copylab compare: %s/summary.csv: missing (compare reads the summaries of both runs)\n", dir);
		rr_close(d);
		return EXIT_RUN_FAILED;
	}
	return 0;
}

/* "compare-A": the chart's name from A's directory name, letters, digits, - _ . only. */
static void compare_chart_name(const char *dir_a, char *name, size_t len)
{
	char abase[PATH_MAX], clean[128];
	size_t k = 0;

	snprintf(abase, sizeof(abase), "%s", dir_a);
	for (const char *s = basename(abase); *s && k < sizeof(clean) - 1; s++)
		clean[k++] = (isalnum((unsigned char)*s) || *s == '-' || *s == '_' || *s == '.') ? *s : '_';
	clean[k] = '\0';
	snprintf(name, len, "compare-%s", k ? clean : "A");
}

static void compare_print_head(const struct compare_args *ca, const char *machine_a, const char *machine_b)
{
	if (ca->tsv)
		printf("scenario\ttransport\tbytes\tblock\tstrategy\tA_bytes_per_s\tB_bytes_per_s\tthroughput_ratio\t"
		       "A_cpu_per_gib\tB_cpu_per_gib\tcpu_ratio\n");
	else
		printf("B/A of the medians: A = %s (%s)\n                   B = %s (%s)\n\n"
		       "%-7s %-5s %-9s %-9s %-14s %9s %9s %7s %9s %9s %7s\n", ca->dir_a, machine_a,
		       ca->dir_b, machine_b, "scenario", "trans", "size", "block", "strategy", "A MB/s",
		       "B MB/s", "B/A", "A CPU/GiB", "B CPU/GiB", "B/A");
}

/*
 * Every row of B's summary that A has too: printed, and a bar pair in the
 * chart's data and a tic in its vars.  Returns how many.
 */
static int compare_cells(const struct plot *p, const struct rr_dir *a, bool tsv, FILE *dat, FILE *vars)
{
	const struct rr_csv *bs = &p->d.summary;
	int n = 0;

	for (size_t i = 0; i < bs->nrows; i++) {
		const char *sc = rr_csv_get(bs, i, "scenario"), *tr = rr_csv_get(bs, i, "transport");
		const char *st = rr_csv_get(bs, i, "strategy");
		uint64_t by = strtoull(rr_csv_get(bs, i, "bytes"), NULL, 10);
		uint64_t bl = strtoull(rr_csv_get(bs, i, "block"), NULL, 10);
		long ra = rr_summary_same_cell(a, bs, i);
		double ta, tb, ca, cb, rt, rcpu;
		char s1[48], s2[48];

		if (ra < 0)
			continue;
		ta = csv_num(a, ra, "bytes_per_s_median");
		tb = csv_num(&p->d, i, "bytes_per_s_median");
		ca = csv_num(a, ra, "tested_cpu_per_gib_median");
		cb = csv_num(&p->d, i, "tested_cpu_per_gib_median");
		rt = ratio(tb, ta);
		rcpu = ratio(cb, ca);
		n++;
		if (tsv)
			printf("%s\t%s\t%" PRIu64 "\t%" PRIu64 "\t%s\t%.6g\t%.6g\t%.3f\t%.6g\t%.6g\t%.3f\n", sc, tr, by, bl,
			       st, ta, tb, rt, ca, cb, rcpu);
		else
			printf("%-7s %-5s %-9s %-9s %-14s %9.0f %9.0f %7.3f %9.3f %9.3f %7.3f\n", sc, tr,
			       human_bytes(by, s1, sizeof(s1)), human_bytes(bl, s2, sizeof(s2)), st, ta / 1e6, tb / 1e6,
			       rt, ca, cb, rcpu);
		fprintf(dat, "%d\t%s %s %s\t", n, sc, tr, st);
		gp_num(dat, rt);
		fputc('\t', dat);
		gp_num(dat, rcpu);
		fputc('\n', dat);
		fprintf(vars, "%s\"%s %s\\n%s\" %d", n > 1 ? ", " : "", sc, tr, st, n);
	}
	return n;
}

/* The table and the chart of B (p->d) against A; the command's exit status. */
static int compare_runs(struct plot *p, const struct rr_dir *a, const struct compare_args *ca,
			const char *machine_a)
{
	char title[2048], name[160];
	FILE *dat, *vars;
	int n;

	compare_chart_name(ca->dir_a, name, sizeof(name));
	if (chart_open(p, name, &dat, &vars))
		return EXIT_RUN_FAILED;
	compare_print_head(ca, machine_a, p->machine);
	fprintf(vars, "set xtics (");
	n = compare_cells(p, a, ca->tsv, dat, vars);
	fprintf(vars, ")\nset xrange [0.3:%g]\nwidth = %d\nheight = 650\n", n + 0.7, n > 20 ? 1600 : 1200);
	snprintf(title, sizeof(title), "B / A, cell by cell (median throughput; median CPU per GiB of the role under test)\n"
		 "A: %s (%s)\nB: %s (%s)", ca->dir_a, machine_a, ca->dir_b, p->machine);
	gp_str(vars, "title", title);
	fclose(dat);
	fclose(vars);
	if (n == 0) {
		fprintf(stderr, "copylab compare: no cell (scenario, transport, size, block, strategy) is in both %s and %s\n",
			ca->dir_a, ca->dir_b);
		return EXIT_RUN_FAILED;
	}
	if (!ca->tsv)
		printf("\nthroughput B/A > 1: B is faster; CPU B/A < 1: B spends less CPU per GiB.  %d cell(s) in both.\n", n);
	if (chart_finish(p, name, "compare.gp", NULL, "compare"))
		return EXIT_RUN_FAILED;
	fprintf(ca->tsv ? stderr : stdout, "chart: %s/%s.{%s}\n", p->plots, name, p->formats);
	return 0;
}

int cmd_compare(int argc, char **argv)
{
	struct plot p = { 0 };
	struct rr_dir a = { 0 };
	struct compare_args ca = { 0 };
	char machine_a[256];
	int rc;

	snprintf(p.formats, sizeof(p.formats), "png svg");
	rc = compare_options(argc, argv, &p, &ca);
	if (rc)
		return rc < 0 ? 0 : rc;
	if ((rc = open_for_compare(ca.dir_a, &a)))
		return rc;
	if ((rc = open_for_compare(ca.dir_b, &p.d))) {
		rr_close(&a);
		return rc;
	}
	snprintf(p.dir, sizeof(p.dir), "%s", ca.dir_b);
	if (plot_find_scripts(p.scripts, sizeof(p.scripts))) {
		rc = EXIT_RUN_FAILED;
		goto done;
	}
	rr_machine(&a, machine_a, sizeof(machine_a));
	rr_machine(&p.d, p.machine, sizeof(p.machine));
	snprintf(p.plots, sizeof(p.plots), "%s", ca.out ? ca.out : "");
	if (!ca.out)
		snprintf(p.plots, sizeof(p.plots), "%s/plots", p.dir);
	snprintf(p.tmp, sizeof(p.tmp), "%s/.compare.XXXXXX", p.plots);
	if ((mkdir(p.plots, 0755) < 0 && errno != EEXIST) || !mkdtemp(p.tmp)) {
		fprintf(stderr, "copylab compare: cannot create %s: %s\n", p.tmp, strerror(errno));
		rc = EXIT_RUN_FAILED;
		goto done;
	}
	rc = compare_runs(&p, &a, &ca, machine_a);
	plot_tmp_remove(&p);
done:
	plot_free(&p);
	rr_close(&a);
	return rc;
}
