/* SPDX-License-Identifier: MIT */
/*
 * `copylab compare DIR_A DIR_B [--out DIR]`: what differs between two runs,
 * first their conditions (env.json's conditions and facts), then the cells
 * in one run only, then each cell in both with B/A, its interval from the
 * two runs' repetitions and a verdict; the table, a TSV and a chart, in a
 * directory of its own that appears whole or not at all.
 */
#include "harness/cli/cli.h"
#include "harness/model/options.h"
#include "harness/results/cellkey.h"
#include "harness/results/read.h"
#include "harness/results/summary.h"
#include "harness/results/write.h"
#include "cells.h"
#include "compare_diff.h"
#include "gnuplot.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char compare_help[] =
"usage: copylab compare [--out DIR] [--format png,svg] [--tsv] DIR_A DIR_B\n"
"\n"
"Says what changed from run A to run B.  First the conditions that differ\n"
"(env.json's conditions: --sndbuf, --rcvbuf, --pipe-size, --pin, --cache,\n"
"--sink, the probes...; then the facts of the machine and build), or \"none\n"
"differ\"; then the cells (scenario, transport, size, block, strategy and\n"
"variant) in one run only; then each cell in both: the median throughput and\n"
"the median CPU per GiB of the role under test of each (summary.csv), B/A of\n"
"both, an interval for each B/A at 95% from the two runs' repetitions, and a\n"
"verdict: \"beyond noise\" when the interval excludes 1, \"no difference\n"
"measured\" when it holds 1, \"too few reps\" under 3 repetitions a side.\n"
"The runs are not paired rep by rep, so the interval is Hodges-Lehmann's:\n"
"the order statistics of every B_i/A_j that the Mann-Whitney distribution\n"
"allows (with 3 reps a side, min..max of the 9 ratios: 90%, said as such).\n"
"\n"
"Writes compare.txt (the table), compare.tsv, compare.dat and the chart\n"
"compare.png/.svg into a new directory: --out DIR (new or empty, outside A\n"
"and B), default results/compare-<A>-vs-<B>-<time>.  --tsv prints the TSV\n"
"instead of the table.\n"
"Exit status: 0 done, 1 a directory's files are missing or malformed, or no\n"
"cell is in both (nothing is written then), 2 bad usage: --out inside A or B\n"
"or holding files, or a directory that is not a results directory: a file\n"
"of it is not a regular file, is over its size cap, or holds a number out of\n"
"range (nan, inf, a negative figure).\n";

/* What the command line asked. */
struct compare_args {
	const char *out;	/* --out, or NULL: results/compare-A-vs-B-TIME */
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
	if (ca->out && !*ca->out)
		return usage_error("compare: --out is empty; give a new directory for the comparison");
	return 0;
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

/* ---- where the comparison goes ---------------------------------------------------- */

/* DIR's last component, letters, digits, - _ . only, for a directory name. */
static void clean_base(const char *dir, char *out, size_t len)
{
	char copy[PATH_MAX];
	size_t k = 0;

	snprintf(copy, sizeof(copy), "%s", dir);
	for (const char *s = basename(copy); *s && k + 1 < len && k < 60; s++)
		out[k++] = (isalnum((unsigned char)*s) || *s == '-' || *s == '_' || *s == '.') ? *s : '_';
	out[k] = '\0';
	if (!k || !strcmp(out, ".") || !strcmp(out, ".."))
		snprintf(out, len, "run");
}

/* Whether PATH (existing or not yet) is DIR or lies inside it, symbolic links resolved. */
static bool path_inside(const char *path, const char *dir)
{
	char rdir[PATH_MAX], at[PATH_MAX], probe[PATH_MAX];
	size_t n;

	if (!realpath(dir, rdir))
		return false;
	snprintf(probe, sizeof(probe), "%s", path);
	while (!realpath(probe, at)) {
		char *slash = strrchr(probe, '/');

		if (!slash)
			snprintf(probe, sizeof(probe), ".");
		else if (slash == probe)
			probe[1] = '\0';
		else
			*slash = '\0';
	}
	n = strlen(rdir);
	return !strncmp(at, rdir, n) && (at[n] == '\0' || at[n] == '/' || n == 1);
}

static bool dir_is_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	bool empty = d != NULL;

	while (d && empty && (e = readdir(d)))
		empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
	if (d)
		closedir(d);
	return empty;
}

/*
 * The directory the comparison goes to, into out: --out, or a new
 * results/compare-A-vs-B-TIME.  Outside A and B, new or empty.  0 or
 * usage_error's status; nothing is made.
 */
static int compare_out_dir(const struct compare_args *ca, char *out, size_t len)
{
	char a[80], b[80], stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	struct stat st;

	if (ca->out) {
		snprintf(out, len, "%s", ca->out);
	} else {
		clean_base(ca->dir_a, a, sizeof(a));
		clean_base(ca->dir_b, b, sizeof(b));
		localtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
		snprintf(out, len, "results/compare-%s-vs-%s-%s", a, b, stamp);
		for (int i = 2; i < 100 && lstat(out, &st) == 0; i++)
			snprintf(out, len, "results/compare-%s-vs-%s-%s-%d", a, b, stamp, i);
	}
	if (strlen(out) > 3800)
		return usage_error("compare: --out is %zu characters long; give a shorter path", strlen(out));
	for (int side = 0; side < 2; side++)
		if (path_inside(out, side ? ca->dir_b : ca->dir_a))
			return usage_error("compare: %s%s is inside %s's directory %s; give --out a directory of its own, "
					   "outside both runs", ca->out ? "--out " : "the default output ", out,
					   side ? "B" : "A", side ? ca->dir_b : ca->dir_a);
	if (lstat(out, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return usage_error("compare: --out %s is not a directory; give a new directory", out);
		/* An empty one is replaced whole when the comparison is done (rename). */
		if (!dir_is_empty(out))
			return usage_error("compare: --out %s holds files; give a new directory (or an empty one)", out);
	}
	return 0;
}

/* ---- the table -------------------------------------------------------------------- */

/*
 * What sets a row's variant apart: ", 8 conns, cold cache, 1 MiB pipe, 4
 * outstanding, 1000 rps offered, 4 KiB answers", or "" (cellkey.h: every
 * condition of the cell but its size, block and strategy).
 */
static const char *variant_text(const struct rr_cell_key *k, char *buf, size_t len)
{
	char pipe[32], answer[32];
	int n = 0;

	buf[0] = '\0';
	if (k->conns > 1)
		n += snprintf(buf + n, len - n, ", %u conns", k->conns);
	if (!strcmp(k->cache, "cold") && (size_t)n < len)
		n += snprintf(buf + n, len - n, ", cold cache");
	if (k->pipe && (size_t)n < len)
		n += snprintf(buf + n, len - n, ", %s pipe", human_bytes(k->pipe, pipe, sizeof(pipe)));
	if (k->outstanding > 1 && (size_t)n < len)
		n += snprintf(buf + n, len - n, ", %u outstanding", k->outstanding);
	if (k->rps && (size_t)n < len)
		n += snprintf(buf + n, len - n, ", %u rps offered", k->rps);
	if (k->response && (size_t)n < len)
		snprintf(buf + n, len - n, ", %s answers", human_bytes(k->response, answer, sizeof(answer)));
	return buf;
}

/*
 * "serve tcp 2 MiB 64 KiB splice" (the block left out for the chart), then
 * the variant; a cell bounded by time is its time: "relay tcp 10 s ...".
 */
static const char *cell_label(const struct rr_csv *c, size_t row, bool with_block, char *buf, size_t len)
{
	char by[32], bl[32], variant[160];
	struct rr_cell_key k;

	if (!rr_row_key(c, row, &k)) {
		snprintf(buf, len, "(row %zu: not a cell)", row + 1);
		return buf;
	}
	if (k.time_s > 0)
		snprintf(by, sizeof(by), "%g s", k.time_s);
	else
		human_bytes(k.bytes, by, sizeof(by));
	snprintf(buf, len, "%s %s %s%s%s %s%s", k.scenario, k.transport, by,
		 with_block ? " " : "",
		 with_block ? human_bytes(k.block, bl, sizeof(bl)) : "",
		 k.strategy, variant_text(&k, variant, sizeof(variant)));
	return buf;
}

/* "copylab run --scenario ..." from env.json's conditions.argv, or NULL when not recorded. */
static char *command_of(json_t *env)
{
	json_t *argv = json_object_get(json_object_get(env, "conditions"), "argv"), *x;
	struct sbuf sb = { 0 };
	size_t i;

	if (!json_is_array(argv) || !json_array_size(argv))
		return NULL;
	sb_add(&sb, "copylab");
	json_array_foreach(argv, i, x)
		if (i > 0 && json_is_string(x))
			sb_printf(&sb, " %s", json_string_value(x));
	return sb.p;
}

static void print_diff_lines(FILE *f, const struct env_diffs *d, size_t from, size_t to, size_t skip)
{
	size_t shown = 0;

	for (size_t i = from; i < to; i++) {
		if (shown++ == 40) {
			fprintf(f, "  ... and %zu more (see the two env.json)\n", to - i);
			return;
		}
		fprintf(f, "  %-28s %s -> %s\n", d->v[i].key + skip, d->v[i].a, d->v[i].b);
	}
}

/* The median over a run's cells of their steal_cpus_median; NAN when its summary has none. */
static double run_steal(const struct rr_dir *d)
{
	double *v = malloc((d->summary.nrows + 1) * sizeof(*v)), m;
	size_t n = 0;

	if (!v)
		return NAN;
	for (size_t r = 0; r < d->summary.nrows; r++) {
		const char *f = rr_csv_get(&d->summary, r, "steal_cpus_median");

		if (f && *f)
			v[n++] = strtod(f, NULL);
	}
	m = n ? rr_median(v, n) : NAN;
	free(v);
	return m;
}

/*
 * The hypervisor's steal in each run: not a condition either run set, but
 * a difference in it moves throughput and latency as one would.
 */
static void print_steal(FILE *f, const struct rr_dir *a, const struct rr_dir *b)
{
	double sa = run_steal(a), sb = run_steal(b), ncpus;
	char ta[16] = "-", tb[16] = "-";

	if (isnan(sa) && isnan(sb))
		return;
	if (!isnan(sa))
		snprintf(ta, sizeof(ta), "%.3f", sa);
	if (!isnan(sb))
		snprintf(tb, sizeof(tb), "%.3f", sb);
	fprintf(f, "the hypervisor's steal, the median of the cells' medians, in CPUs: A %s, B %s", ta, tb);
	/* one side's steal unknown (a summary older than the column): nothing to weigh */
	if (!isnan(sa) && !isnan(sb) && b->env && rr_num(b->env, "cpus_online", &ncpus) &&
	    steal_notable(sa, ncpus) != steal_notable(sb, ncpus))
		fprintf(f, " (%s lost 5%% of the CPUs or more: its figures carry more of the host's)",
			steal_notable(sb, ncpus) ? "B" : "A");
	fputc('\n', f);
}

/* The conditions that differ (or that none do, or that a run did not record them), then the facts. */
static void print_conditions(FILE *f, const struct rr_dir *a, const struct rr_dir *b)
{
	struct env_diffs d = env_differences(a->env, b->env);
	char *cmd_a = command_of(a->env), *cmd_b = command_of(b->env);

	fprintf(f, "\nA ran: %s\nB ran: %s\n\n", cmd_a ? cmd_a : "(not recorded)", cmd_b ? cmd_b : "(not recorded)");
	if (!d.a_conditions || !d.b_conditions)
		fprintf(f, "conditions not recorded in %s (a run older than env.json's conditions): "
			"compare cannot say which of them differ\n",
			!d.a_conditions && !d.b_conditions ? "A nor B" : !d.a_conditions ? "A" : "B");
	else if (d.nconditions == 0)
		fprintf(f, "none differ: the same conditions\n");
	else {
		fprintf(f, "conditions that differ (A -> B):\n");
		print_diff_lines(f, &d, 0, d.nconditions, strlen("conditions."));
	}
	if (!a->env || !b->env)
		fprintf(f, "the machine and build: env.json missing in %s\n", !a->env ? "A" : "B");
	else if (d.n == d.nconditions)
		fprintf(f, "the machine and build: the same facts\n");
	else {
		fprintf(f, "facts of the machine and build that differ (A -> B):\n");
		print_diff_lines(f, &d, d.nconditions, d.n, 0);
	}
	print_steal(f, a, b);
	env_diffs_free(&d);
	free(cmd_a);
	free(cmd_b);
}

/*
 * The rows of X's summary that Y lacks, after "cells only in NAME: ", on F
 * and, when NOTE is set (--tsv, whose rows are the cells in both), on stderr.
 */
static void print_only(FILE *f, const struct rr_dir *x, const struct rr_dir *y, const char *name, bool note)
{
	char label[256];
	int n = 0;

	for (size_t i = 0; i < x->summary.nrows; i++)
		n += rr_summary_same_cell(y, &x->summary, i) < 0;
	if (n > 1)
		fprintf(f, "cells only in %s (%d):\n", name, n);
	else
		fprintf(f, "cells only in %s: %s", name, n == 0 ? "none\n" : "");
	for (size_t i = 0; i < x->summary.nrows; i++) {
		if (rr_summary_same_cell(y, &x->summary, i) >= 0)
			continue;
		cell_label(&x->summary, i, true, label, sizeof(label));
		fprintf(f, "%s%s\n", n > 1 ? "  " : "", label);
		if (note)
			fprintf(stderr, "copylab compare: cell only in %s: %s\n", name, label);
	}
}

/* ---- the cells in both ------------------------------------------------------------ */

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

/* Throughput, or the tested role's CPU per GiB, of each usable repetition of a summary row. */
static size_t row_values(const struct rr_dir *d, long row, bool cpu, double *out)
{
	const char *role = rr_csv_get(&d->summary, row, "tested_role");
	char path[96];
	size_t n = 0;

	snprintf(path, sizeof(path), "roles.%s.cpu_per_gib_s", role ? role : "");
	for (size_t i = 0; i < d->nrec; i++) {
		double v;

		if (rr_is_peer(d->rec[i]) || !rec_usable(d->rec[i]) || !rr_record_in_row(d->rec[i], &d->summary, row))
			continue;
		if (rr_num(d->rec[i], cpu ? path : "bytes_per_s", &v))
			out[n++] = v;
	}
	return n;
}

static struct compare_ratio row_ratio(const struct rr_dir *a, long ra, const struct rr_dir *b, long rb, bool cpu)
{
	double *va = calloc(a->nrec + 1, sizeof(*va)), *vb = calloc(b->nrec + 1, sizeof(*vb));
	struct compare_ratio r = compare_ratio_of(NULL, 0, NULL, 0);

	if (va && vb)
		r = compare_ratio_of(vb, row_values(b, rb, cpu, vb), va, row_values(a, ra, cpu, va));
	free(va);
	free(vb);
	return r;
}

/* "[0.712, 0.760] 90%", or "-" without an interval. */
static const char *interval_text(const struct compare_ratio *r, char *buf, size_t len)
{
	if (!isfinite(r->lo) || !isfinite(r->hi))
		return "-";
	snprintf(buf, len, "[%.3f, %.3f] %.0f%%", r->lo, r->hi, floor(r->level * 100));
	return buf;
}

static void tsv_real(FILE *f, double v, const char *fmt)
{
	fputc('\t', f);
	if (isfinite(v))
		fprintf(f, fmt, v);
}

static void tsv_ratio(FILE *f, const struct compare_ratio *r)
{
	tsv_real(f, r->lo, "%.6g");
	tsv_real(f, r->hi, "%.6g");
	tsv_real(f, r->level, "%.4f");
	fprintf(f, "\t%s", compare_verdict_text(r->verdict));
}

/* One cell in both: a row of the table and of the TSV, a bar pair in the chart's data. */
static void compare_cell(FILE *f, FILE *tsv, FILE *dat, const struct rr_dir *a, long ra, const struct rr_dir *b,
			 size_t rb, int n)
{
	const struct rr_csv *bs = &b->summary;
	double ta = csv_num(a, ra, "bytes_per_s_median"), tb = csv_num(b, rb, "bytes_per_s_median");
	double ca = csv_num(a, ra, "tested_cpu_per_gib_median"), cb = csv_num(b, rb, "tested_cpu_per_gib_median");
	struct compare_ratio rt = row_ratio(a, ra, b, (long)rb, false), rc = row_ratio(a, ra, b, (long)rb, true);
	char s1[32], s2[32], it[64], ic[64], label[256], variant[160], stv[256];
	struct rr_cell_key k;

	if (!rr_row_key(bs, rb, &k))	/* matched a row of A, so it has every column of a cell */
		return;
	/* The strategy column carries the variant (", cold cache") where there is one. */
	snprintf(stv, sizeof(stv), "%s%s", k.strategy, variant_text(&k, variant, sizeof(variant)));
	if (k.time_s > 0)	/* bounded by time: each rep moved its own count */
		snprintf(s1, sizeof(s1), "%g s", k.time_s);
	else
		human_bytes(k.bytes, s1, sizeof(s1));
	fprintf(f, "%-7s %-5s %-9s %-9s %-14s %3zu/%-3zu %8.0f %8.0f %7.3f %-20s %-22s %9.3f %9.3f %7.3f %-20s %s\n",
		k.scenario, k.transport, s1, human_bytes(k.block, s2, sizeof(s2)),
		stv, rt.na, rt.nb, ta / 1e6, tb / 1e6, ratio(tb, ta),
		interval_text(&rt, it, sizeof(it)), compare_verdict_text(rt.verdict), ca, cb, ratio(cb, ca),
		interval_text(&rc, ic, sizeof(ic)), compare_verdict_text(rc.verdict));
	fprintf(tsv, "%s\t%s\t%" PRIu64 "\t%" PRIu64 "\t%s\t%.6g\t%.6g\t%.3f\t%.6g\t%.6g\t%.3f\t%zu\t%zu",
		k.scenario, k.transport, k.bytes, k.block, k.strategy, ta, tb,
		ratio(tb, ta), ca, cb, ratio(cb, ca), rt.na, rt.nb);
	tsv_ratio(tsv, &rt);
	tsv_ratio(tsv, &rc);
	/* outstanding as summary.csv has it: 0 outside echo */
	fprintf(tsv, "\t%u\t%s\t%" PRIu64 "\t%u\t%u\t%g\t%" PRIu64 "\n", k.conns, k.cache, k.pipe,
		strcmp(k.scenario, "echo") && !k.rps ? 0 : k.outstanding, k.rps, k.time_s, k.response);
	fprintf(dat, "%d\t%s", n, cell_label(bs, rb, false, label, sizeof(label)));
	const double col[] = { ratio(tb, ta), ratio(cb, ca), rt.lo, rt.hi, rc.lo, rc.hi };

	for (size_t i = 0; i < sizeof(col) / sizeof(col[0]); i++) {
		fputc('\t', dat);
		gp_num(dat, col[i]);
	}
	fputc('\n', dat);
}

static const char tsv_head[] =
	"scenario\ttransport\tbytes\tblock\tstrategy\tA_bytes_per_s\tB_bytes_per_s\tthroughput_ratio\t"
	"A_cpu_per_gib\tB_cpu_per_gib\tcpu_ratio\tA_reps\tB_reps\tthroughput_lo\tthroughput_hi\t"
	"throughput_level\tthroughput_verdict\tcpu_lo\tcpu_hi\tcpu_level\tcpu_verdict\tconns\tcache\t"
	"pipe_size_asked\toutstanding\trps\ttime_s\tresponse\n";

/* Every cell in both runs, in B's order: the table's rows, the TSV's, the chart's.  How many. */
static int compare_cells(FILE *f, FILE *tsv, FILE *dat, FILE *vars, const struct rr_dir *a, const struct rr_dir *b)
{
	char label[256], esc[1280];
	int n = 0;

	fprintf(f, "\ncells in both: B/A of the medians (throughput; CPU per GiB of the role under test), an interval\n"
		"for each at %.0f%% from the two runs' repetitions (Hodges-Lehmann: the order statistics of every\n"
		"B_i/A_j that the Mann-Whitney distribution allows, since the runs are not paired rep by rep; its\n"
		"own coverage where too few reps allow %.0f%%), and a verdict (beyond noise: the interval excludes 1)\n"
		"%-7s %-5s %-9s %-9s %-14s %7s %8s %8s %7s %-20s %-22s %9s %9s %7s %-20s %s\n",
		COMPARE_LEVEL * 100, COMPARE_LEVEL * 100, "scenario", "trans", "size", "block", "strategy", "reps A/B",
		"A MB/s", "B MB/s", "B/A", "interval", "verdict", "A CPU/GiB", "B CPU/GiB", "B/A", "interval", "verdict");
	fprintf(vars, "set xtics (");
	for (size_t i = 0; i < b->summary.nrows; i++) {
		long ra = rr_summary_same_cell(a, &b->summary, i);

		if (ra < 0)
			continue;
		compare_cell(f, tsv, dat, a, ra, b, i, ++n);
		fprintf(vars, "%s\"%s\" %d", n > 1 ? ", " : "",
			gp_escape(cell_label(&b->summary, i, false, label, sizeof(label)), esc, sizeof(esc)), n);
	}
	fprintf(vars, ")\nset xrange [0.3:%g]\nwidth = %d\nheight = 700\n", n + 0.7, n > 20 ? 1600 : 1200);
	fprintf(f, "\nthroughput B/A > 1: B is faster; CPU B/A < 1: B spends less CPU per GiB.  %d cell(s) in both.\n", n);
	return n;
}

/* ---- the comparison, made in a staging directory and renamed into place ------------ */

/* The chart's line on what changed: "conditions: sndbuf default -> 4096", the first three. */
static void changed_line(const struct rr_dir *a, const struct rr_dir *b, char *buf, size_t len)
{
	struct env_diffs d = env_differences(a->env, b->env);
	size_t n = 0;

	if (!d.a_conditions || !d.b_conditions)
		snprintf(buf, len, "conditions not recorded in %s", !d.a_conditions ? "A" : "B");
	else if (!d.nconditions)
		snprintf(buf, len, "none differ: the same conditions");
	else
		n = (size_t)snprintf(buf, len, "conditions that differ:");
	for (size_t i = 0; i < d.nconditions && i < 3 && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s %s %s -> %s", i ? ";" : "",
				      d.v[i].key + strlen("conditions."), d.v[i].a, d.v[i].b);
	if (d.nconditions > 3 && n < len)
		snprintf(buf + n, len - n, "; and %zu more", d.nconditions - 3);
	env_diffs_free(&d);
}

/* The table and TSV texts of B (p->d) against A, and the chart in p->plots.  0, or the exit status. */
static int compare_render(struct plot *p, const struct rr_dir *a, const struct compare_args *ca,
			  const char *machine_a, const char *out, char **txt, char **tsv)
{
	size_t ltxt, ltsv;
	FILE *f = open_memstream(txt, &ltxt), *t = open_memstream(tsv, &ltsv), *dat = NULL, *vars = NULL;
	char title[2048], changed[512];
	int n = 0, rc = EXIT_RUN_FAILED;
	long head = 0;

	if (!f || !t || chart_open(p, "compare", &dat, &vars))
		goto out;
	fprintf(f, "copylab compare: what changed from A to B\n  A = %s (%s)\n  B = %s (%s)\n", ca->dir_a,
		machine_a, ca->dir_b, p->machine);
	print_conditions(f, a, &p->d);
	fputs(tsv_head, t);
	fputc('\n', f);
	print_only(f, a, &p->d, "A", ca->tsv);
	print_only(f, &p->d, a, "B", ca->tsv);
	head = ftell(f);
	n = compare_cells(f, t, dat, vars, a, &p->d);
	changed_line(a, &p->d, changed, sizeof(changed));
	fprintf(f, "output: %s/ (compare.txt, compare.tsv, compare.dat, compare.{%s})\n", out, p->formats);
	snprintf(title, sizeof(title), "B / A, cell by cell: bars the medians' ratio, whiskers its %.0f%% interval "
		 "(throughput; CPU per GiB of the role under test)\nA: %s (%s)\nB: %s (%s)\n%s", COMPARE_LEVEL * 100,
		 ca->dir_a, machine_a, ca->dir_b, p->machine, changed);
	gp_str(vars, "title", title);
	fclose(dat);
	fclose(vars);
	dat = vars = NULL;
	if (n == 0) {
		fprintf(stderr, "copylab compare: no cell (scenario, transport, size, block, strategy) is in both %s and %s\n",
			ca->dir_a, ca->dir_b);
		goto out;
	}
	if (chart_finish(p, "compare", "compare.gp", NULL, "compare"))
		goto out;
	rc = 0;
out:
	if (dat)
		fclose(dat);
	if (vars)
		fclose(vars);
	if (f && fclose(f))
		rc = EXIT_RUN_FAILED;
	if (t && fclose(t))
		rc = EXIT_RUN_FAILED;
	/* No cell in both: what differs still tells why (a cache state, a pipe size, another size). */
	if (n == 0 && head > 0 && *txt && !ca->tsv)
		fwrite(*txt, 1, (size_t)head, stderr);
	return rc;
}

/* Removes a staging directory and what is in it (plot_tmp_remove does it for p->tmp). */
static void remove_tree(struct plot *p, const char *dir)
{
	snprintf(p->tmp, sizeof(p->tmp), "%.4000s", dir);
	plot_tmp_remove(p);
}

/*
 * Renders into a hidden directory beside OUT, writes the table and TSV
 * there, then renames it to OUT: a reader, or a failure, never sees half
 * of it.  0, or the exit status.
 */
static int compare_write(struct plot *p, const struct rr_dir *a, const struct compare_args *ca,
			 const char *machine_a, const char *out)
{
	char copy[PATH_MAX], parent[PATH_MAX], stage[PATH_MAX], path[PATH_MAX + 64];
	char *txt = NULL, *tsv = NULL;
	int rc;

	/* compare_out_dir kept OUT short enough for the names made beside and in it. */
	snprintf(copy, sizeof(copy), "%s", out);
	snprintf(parent, sizeof(parent), "%s", dirname(copy));
	snprintf(stage, sizeof(stage), "%.3900s/.compare.XXXXXX", parent);
	if (mkdir_p(parent) || !mkdtemp(stage)) {
		fprintf(stderr, "copylab compare: cannot create %s: %s\n", stage, strerror(errno));
		return EXIT_RUN_FAILED;
	}
	snprintf(p->plots, sizeof(p->plots), "%.3950s", stage);
	snprintf(p->tmp, sizeof(p->tmp), "%.3950s/.chart.XXXXXX", stage);
	if (!mkdtemp(p->tmp)) {
		fprintf(stderr, "copylab compare: cannot create %s: %s\n", p->tmp, strerror(errno));
		remove_tree(p, stage);
		return EXIT_RUN_FAILED;
	}
	rc = compare_render(p, a, ca, machine_a, out, &txt, &tsv);
	plot_tmp_remove(p);
	snprintf(path, sizeof(path), "%s/compare.txt", stage);
	if (!rc && (!txt || write_file_atomic(path, txt, strlen(txt))))
		rc = EXIT_RUN_FAILED;
	snprintf(path, sizeof(path), "%s/compare.tsv", stage);
	if (!rc && (!tsv || write_file_atomic(path, tsv, strlen(tsv))))
		rc = EXIT_RUN_FAILED;
	/* An empty --out is replaced; a new name is taken. */
	if (!rc && rename(stage, out) < 0) {
		fprintf(stderr, "copylab compare: cannot put the comparison at %s: %s\n", out, strerror(errno));
		rc = EXIT_RUN_FAILED;
	}
	if (rc)
		remove_tree(p, stage);
	else if (ca->tsv) {
		fputs(tsv, stdout);
		fprintf(stderr, "copylab compare: %s/ (compare.txt, compare.tsv, compare.dat, compare.{%s})\n", out,
			p->formats);
	} else
		fputs(txt, stdout);
	free(txt);
	free(tsv);
	return rc;
}

int cmd_compare(int argc, char **argv)
{
	struct plot p = { 0 };
	struct rr_dir a = { 0 };
	struct compare_args ca = { 0 };
	char machine_a[256], out[PATH_MAX];
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
	if ((rc = compare_out_dir(&ca, out, sizeof(out))))
		goto done;
	if (plot_find_scripts(p.scripts, sizeof(p.scripts))) {
		rc = EXIT_RUN_FAILED;
		goto done;
	}
	rr_machine(&a, machine_a, sizeof(machine_a));
	rr_machine(&p.d, p.machine, sizeof(p.machine));
	rc = compare_write(&p, &a, &ca, machine_a, out);
	if (!rc && (fflush(stdout) || ferror(stdout))) {
		fprintf(stderr, "copylab compare: cannot write the %s on stdout: %s (it is in %s/)\n",
			ca.tsv ? "TSV" : "table", strerror(errno), out);
		rc = EXIT_RUN_FAILED;
	}
done:
	plot_free(&p);
	rr_close(&a);
	return rc;
}
