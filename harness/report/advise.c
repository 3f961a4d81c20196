/* SPDX-License-Identifier: MIT */
/*
 * `copylab advise --scenario S`: which strategy to choose for one workload
 * on this machine.  Runs every strategy of the scenario (a child `copylab
 * run ... --strategy all --json`) or reads a results directory, then ranks
 * the strategies by throughput and by CPU per GiB (the tested role's and
 * the whole machine's), saying where the figures cannot tell two apart and
 * which caveats apply.
 */
#include "harness/model/base.h"
#include "harness/cli/cli.h"
#include "cellrun.h"
#include "harness/results/write.h"
#include "harness/model/scenario.h"
#include "harness/results/stats.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_LABELS 32

struct entry {
	const char *label;
	char base[64];		/* the label without its variant ("vmsplice:gift" -> "vmsplice") */
	double bps, bps_lo, bps_hi;	/* median and its interval */
	double role_cpu, sys_cpu;	/* medians, s per GiB */
	int reps, verified;
	const char *limited_by;		/* the role that kept a CPU busy in most reps, or "" */
};

static void advise_usage(FILE *out)
{
	fprintf(out,
		"usage: copylab advise --scenario S [--transport T] [--size N] [--reps N]\n"
		"                      [--block N] [--conns N] [--from DIR] [--out DIR]\n\n"
		"Ranks the strategies that can run scenario S on this machine, by throughput\n"
		"and by CPU per GiB (the role under test's, and the whole machine's from\n"
		"/proc/stat), and prints the caveats that apply.  Without --from it runs\n"
		"`copylab run --scenario S --strategy all --json` (default 256M, 5 reps)\n"
		"into --out DIR (default results/advise-<time>); with --from it reads the\n"
		"records of an earlier run directory instead.\n\n"
		"  --conns N   N parallel connections sharing the size (copylab run --conns; serve, relay)\n\n"
		"Exit status: 0, 1 the run failed, 2 bad usage (or --conns not yet supported).\n");
}

/* Does `copylab run --help` list OPT?  (The harness grows options over time.) */
static bool run_supports(const char *opt)
{
	int p[2];
	pid_t pid;
	char buf[8192];
	size_t len = 0;
	ssize_t n;
	int status;

	if (pipe(p))
		return false;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		execl("/proc/self/exe", "copylab", "run", "--help", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	while ((n = read(p[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	close(p[0]);
	if (pid > 0)
		waitpid(pid, &status, 0);
	buf[len] = '\0';
	return strstr(buf, opt) != NULL;
}

/* Keeps the records and rows of one data point: scenario, transport, bytes, block. */
static void filter_cell(struct crcell *c, const char *scenario, const char *transport, long *bytes)
{
	json_t *keep = json_array(), *rec;
	size_t i;
	long want = *bytes, block = -1;
	int k = 0;

	/* The size: the one asked for, else the largest of the scenario. */
	if (want < 0)
		for (int r = 0; r < c->nrows; r++)
			if (!strcmp(cr_csv_str(&c->rows[r], "scenario"), scenario) &&
			    (!transport || !strcmp(cr_csv_str(&c->rows[r], "transport"), transport)) &&
			    cr_csv_num(&c->rows[r], "bytes") > want)
				want = (long)cr_csv_num(&c->rows[r], "bytes");
	for (int r = 0; r < c->nrows; r++) {
		struct crrow *row = &c->rows[r];

		if (strcmp(cr_csv_str(row, "scenario"), scenario) ||
		    (transport && strcmp(cr_csv_str(row, "transport"), transport)) ||
		    (long)cr_csv_num(row, "bytes") != want)
			continue;
		if (block < 0)
			block = (long)cr_csv_num(row, "block");
		if ((long)cr_csv_num(row, "block") != block || !strcmp(cr_csv_str(row, "cache"), "cold"))
			continue;
		c->rows[k++] = *row;
	}
	c->nrows = k;
	json_array_foreach(c->records, i, rec) {
		const char *sc = json_string_value(json_object_get(rec, "scenario"));
		const char *tr = json_string_value(json_object_get(rec, "transport"));
		const char *cache = json_string_value(json_object_get(rec, "cache"));

		if (sc && !strcmp(sc, scenario) && (!transport || (tr && !strcmp(tr, transport))) &&
		    (long)json_integer_value(json_object_get(rec, "bytes")) == want &&
		    (long)json_integer_value(json_object_get(rec, "block")) == block &&
		    !(cache && !strcmp(cache, "cold")))
			json_array_append(keep, rec);
	}
	json_decref(c->records);
	c->records = keep;
	*bytes = want;
}

static void base_of(const char *label, char *buf, size_t len)
{
	snprintf(buf, len, "%s", label);
	buf[strcspn(buf, ":")] = '\0';
}

/* What a strategy needs from the kernel and the user, as far as copylab knows it. */
static const char *strategy_caveat(const char *base)
{
	static const struct { const char *name, *text; } t[] = {
		{ "readwrite", "any POSIX system; the baseline: every byte is copied into and out of user memory" },
		{ "mmap_write", "any Linux; faults grow with the file, and a file truncated while mapped raises SIGBUS in the server" },
		{ "sendfile", "file input only (Linux >= 2.2; any output file since 2.6.33); no TLS in user space (kTLS aside)" },
		{ "splice", "Linux >= 2.6.17; a pipe per connection (two descriptors; up to pipe-max-size, 1 MiB here without CAP_SYS_RESOURCE)" },
		{ "tee", "Linux >= 2.6.17; two pipes per connection" },
		{ "vmsplice", "Linux >= 2.6.17; the application must not touch a buffer while its pages sit in a pipe (a ring of buffers)" },
		{ "copy_file_range", "Linux >= 4.5 (across file systems since 5.3); file to file only" },
		{ "msg_zerocopy", "Linux >= 4.14; completions on the error queue; on loopback and veth the kernel copies anyway (NOTES); RLIMIT_MEMLOCK" },
		{ "sockmap", "Linux >= 4.14 with BPF sockmap redirect; needs root or CAP_BPF + CAP_NET_ADMIN; the work is charged to softirq, not the relay" },
		{ "nat", "root (CAP_NET_ADMIN) and nftables; no process to observe: compare system-wide CPU" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (!strcmp(base, t[i].name))
			return t[i].text;
	if (strstr(base, "uring"))
		return "io_uring: Linux >= 5.1 (splice 5.7, send_zc 6.0); often disabled by policy (io_uring_disabled)";
	return NULL;
}

static int cmp_bps(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	return (x->bps < y->bps) - (x->bps > y->bps);
}

static double role_cpu_of(const struct entry *e) { return e->role_cpu; }
static double sys_cpu_of(const struct entry *e) { return e->sys_cpu; }

/* Ranks by a cost (lower first), NAN last. */
static void rank_cost(const struct entry *e, int n, double (*f)(const struct entry *), int *order)
{
	for (int i = 0; i < n; i++)
		order[i] = i;
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++) {
			double a = f(&e[order[i]]), b = f(&e[order[j]]);

			if ((isnan(a) && !isnan(b)) || (!isnan(a) && !isnan(b) && b < a)) {
				int t = order[i];

				order[i] = order[j];
				order[j] = t;
			}
		}
}

/* "no difference measured" between two labels on a figure, from the paired ratio's min..max. */
static const char *tell_apart(struct crcell *c, const char *a, const char *b, const char *path,
			      struct crpaired *p)
{
	*p = paired_ratio(c, a, b, -1, path);
	if (p->n == 0)
		return "not paired";
	if (p->min <= 1.0 && p->max >= 1.0)
		return "no difference measured";
	return "apart";
}

/* "A vs B: x1.234 [min..max] paired over N reps: apart": whether the top two differ on a figure. */
static void print_top_two(struct crcell *c, const char *a, const char *b, const char *path)
{
	struct crpaired p;
	const char *v = tell_apart(c, a, b, path, &p);

	printf("  %s vs %s: x%.3f [%.3f..%.3f] paired over %d reps: %s\n", a, b, p.median, p.min, p.max, p.n, v);
}

struct advise_args {
	const char *scenario, *transport, *size, *reps, *block, *conns, *from, *out;
};

/* Reads and checks the options: -1 to go on, else the exit status (--help, bad usage). */
static int advise_options(int argc, char **argv, struct advise_args *a)
{
	static const struct option opts[] = {
		{ "scenario", required_argument, NULL, 's' },
		{ "transport", required_argument, NULL, 't' },
		{ "size", required_argument, NULL, 'z' },
		{ "reps", required_argument, NULL, 'r' },
		{ "block", required_argument, NULL, 'b' },
		{ "conns", required_argument, NULL, 'c' },
		{ "from", required_argument, NULL, 'f' },
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	*a = (struct advise_args){ .reps = "5" };
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 's': a->scenario = optarg; break;
		case 't': a->transport = optarg; break;
		case 'z': a->size = optarg; break;
		case 'r': a->reps = optarg; break;
		case 'b': a->block = optarg; break;
		case 'c': a->conns = optarg; break;
		case 'f': a->from = optarg; break;
		case 'o': a->out = optarg; break;
		case 'h': advise_usage(stdout); return 0;
		default: advise_usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error("advise: unexpected argument '%s'", argv[optind]);
	if (!a->scenario)
		return usage_error("advise: --scenario is required (serve, send, relay, fanout, store, copy, echo, pipe)");
	if (scenario_find(a->scenario) < 0)
		return usage_error("advise: unknown scenario '%s' (see copylab list)", a->scenario);
	if (a->size && cr_size(a->size) <= 0)
		return usage_error("advise: --size '%s' is not a size (e.g. 64M, 1G)", a->size);
	if (a->conns && !run_supports("--conns"))
		return usage_error("advise: --conns %s: many connections at once are not yet supported by the "
				   "harness (`copylab run --help` has no --conns); advise for one connection, without --conns",
				   a->conns);
	return -1;
}

/* Runs every strategy of the scenario into --out (or results/advise-S-TIME). */
static struct crcell *advise_run(const struct advise_args *a)
{
	const char *args[20];
	int k = 0;
	char *dir = NULL;

	if (a->out) {
		dir = cr_strdup(a->out);
	} else {
		char stamp[32];
		time_t now = time(NULL);

		strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", gmtime(&now));
		cr_append(&dir, "results/advise-%s-%s", a->scenario, stamp);
	}
	mkdir_p(dir);
	args[k++] = "run";
	args[k++] = "--scenario";
	args[k++] = a->scenario;
	args[k++] = "--strategy";
	args[k++] = "all";
	if (a->transport) {
		args[k++] = "--transport";
		args[k++] = a->transport;
	}
	args[k++] = "--size";
	args[k++] = a->size ? a->size : "256M";
	args[k++] = "--reps";
	args[k++] = a->reps;
	if (a->block) {
		args[k++] = "--block";
		args[k++] = a->block;
	}
	if (a->conns) {
		args[k++] = "--conns";
		args[k++] = a->conns;
	}
	args[k] = NULL;
	fprintf(stderr, "advise: running copylab");
	for (int j = 0; j < k; j++)
		fprintf(stderr, " %s", args[j]);
	fprintf(stderr, " --json --out %s\n", dir);
	return cell_run(args, k, dir);
}

/*
 * The records to advise from: --from's directory, or a run of its own.
 * NULL with *status when there are none or the run failed.
 */
static struct crcell *advise_cell(const struct advise_args *a, int *status)
{
	struct crcell *c;

	if (a->from) {
		c = cell_load(a->from);
		if (json_array_size(c->records) == 0) {
			fprintf(stderr, "copylab: advise: no records in %s/results.jsonl\n", a->from);
			*status = EXIT_RUN_FAILED;
			cell_free(c);
			return NULL;
		}
		return c;
	}
	c = advise_run(a);
	if (c->exit_code != 0) {
		fprintf(stderr, "copylab: advise: the run failed (exit %d): %s\n  see %s\n", c->exit_code,
			c->first_stderr_line, c->log);
		*status = c->exit_code == EXIT_USAGE ? EXIT_USAGE : EXIT_RUN_FAILED;
		cell_free(c);
		return NULL;
	}
	return c;
}

/*
 * One entry per strategy row with a throughput, by throughput (highest
 * first); *tested becomes the rows' role under test where they name one.
 */
static int advise_entries(struct crcell *c, struct entry *e, const char **tested)
{
	int n = 0;

	for (int r = 0; r < c->nrows && n < MAX_LABELS; r++) {
		struct entry *x = &e[n];
		const struct crrow *row = &c->rows[r];
		struct crgroup g;

		x->label = cr_csv_str(row, "strategy");
		base_of(x->label, x->base, sizeof(x->base));
		x->bps = cr_csv_num(row, "bytes_per_s_median");
		x->bps_lo = cr_csv_num(row, "bytes_per_s_ci_lo");
		x->bps_hi = cr_csv_num(row, "bytes_per_s_ci_hi");
		x->role_cpu = cr_csv_num(row, "tested_cpu_per_gib_median");
		x->reps = (int)cr_csv_num(row, "reps");
		x->verified = (int)cr_csv_num(row, "verified_reps");
		/* a summary from before the column: "" (nothing known limited it) */
		x->limited_by = cr_csv_str(row, "limited_by");
		g.cell = c;
		g.strategy = x->label;
		g.bytes = -1;
		x->sys_cpu = cell_median(&g, "system_cpu.busy_per_gib_s");
		/* nat's row names no tested role: it has no process. */
		if (cr_csv_str(row, "tested_role")[0])
			*tested = cr_csv_str(row, "tested_role");
		if (!isnan(x->bps))
			n++;
	}
	qsort(e, (size_t)n, sizeof(e[0]), cmp_bps);
	return n;
}

static void print_by_throughput(struct crcell *c, const struct entry *e, int n)
{
	printf("By throughput (higher is better; MB/s = 10^6 B/s, median [interval]):\n");
	for (int k = 0; k < n; k++)
		printf("  %d. %-22s %8.0f [%.0f..%.0f]%s%s%s%s\n", k + 1, e[k].label, e[k].bps / 1e6, e[k].bps_lo / 1e6,
		       e[k].bps_hi / 1e6, e[k].verified < e[k].reps ? "  (not all reps verified)" : "",
		       e[k].limited_by[0] ? "  (limited by the " : "", e[k].limited_by,
		       e[k].limited_by[0] ? ": it kept a CPU 90% busy, so this rank says little of the strategy)" : "");
	if (n > 1)
		print_top_two(c, e[0].label, e[1].label, "bytes_per_s");
}

static void print_by_role_cpu(struct crcell *c, const struct entry *e, int n, const char *tested)
{
	int order[MAX_LABELS];
	char path[96];

	rank_cost(e, n, role_cpu_of, order);
	printf("\nBy CPU of the %s per GiB (lower is better; user + system s/GiB, median):\n", tested);
	for (int k = 0; k < n; k++)
		if (isnan(e[order[k]].role_cpu))
			printf("  %d. %-22s %8s (no process plays the %s: see system-wide CPU)\n", k + 1,
			       e[order[k]].label, "-", tested);
		else
			printf("  %d. %-22s %8.3f\n", k + 1, e[order[k]].label, e[order[k]].role_cpu);
	snprintf(path, sizeof(path), "roles.%s.cpu_per_gib_s", tested);
	if (n > 1)
		print_top_two(c, e[order[0]].label, e[order[1]].label, path);
}

static void print_by_system_cpu(struct crcell *c, const struct entry *e, int n)
{
	int order[MAX_LABELS];

	rank_cost(e, n, sys_cpu_of, order);
	printf("\nBy system-wide CPU per GiB (every process and softirq; lower is better):\n");
	for (int k = 0; k < n; k++)
		printf("  %d. %-22s %8.3f\n", k + 1, e[order[k]].label, e[order[k]].sys_cpu);
	if (n > 1)
		print_top_two(c, e[order[0]].label, e[order[1]].label, "system_cpu.busy_per_gib_s");
}

/* What the ranking does not show: the transport, the size, the reps, the concurrency, each strategy's needs. */
static void print_caveats(const struct advise_args *a, const char *transport, long bytes,
			  const struct entry *e, int n)
{
	printf("\nCaveats:\n");
	if (transport && (!strcmp(transport, "tcp") || !strcmp(transport, "unix")))
		printf("  - %s stays inside this machine: no NIC, no DMA, and zero-copy sends are copied on delivery\n"
		       "    to a local socket; a real NIC can rank the strategies differently (try --transport veth or nic).\n",
		       !strcmp(transport, "tcp") ? "tcp here is loopback: it" : "unix: it");
	if (bytes >= 0 && bytes < 1048576)
		printf("  - small transfers (%ld B): per-transfer setup (pipes, mappings) weighs more than per-byte cost;\n"
		       "    measure with the real message size and --reps >= 6.\n", bytes);
	if (e[0].reps < 6)
		printf("  - %d reps: min..max covers a median with %.1f%% only; use --reps 6 or more for 95%%.\n",
		       e[0].reps, 100.0 * stats_minmax_level((size_t)e[0].reps));
	if (a->conns)
		printf("  - %s connections shared the size, each role driving them from one loop: the ranking holds for\n"
		       "    that concurrency; each record's per_conn has the spread of the connections' completion times.\n",
		       a->conns);
	else
		printf("  - one connection at a time: many concurrent connections are not measured (try --conns N).\n");
	printf("  - system-wide CPU includes the fixed roles (sink hashing) and everything else the machine did.\n");
	for (int k = 0; k < n; k++) {
		const char *cv = strategy_caveat(e[k].base);
		bool seen = false;

		for (int j = 0; j < k; j++)
			if (!strcmp(e[j].base, e[k].base))
				seen = true;
		if (cv && !seen)
			printf("  - %s: %s\n", e[k].base, cv);
	}
}

int cmd_advise(int argc, char **argv)
{
	struct advise_args a;
	struct entry e[MAX_LABELS];
	const char *tested, *transport;
	struct crcell *c;
	long bytes = -1;
	int n, status = advise_options(argc, argv, &a);

	if (status >= 0)
		return status;
	tested = scenario_def(scenario_find(a.scenario))->roles[0];
	c = advise_cell(&a, &status);
	if (!c)
		return status;
	if (a.from && a.size)
		bytes = cr_size(a.size);
	filter_cell(c, a.scenario, a.transport, &bytes);
	if (c->nrows == 0) {
		fprintf(stderr, "copylab: advise: no %s%s%s cell in the results\n", a.scenario,
			a.transport ? " over " : "", a.transport ? a.transport : "");
		cell_free(c);
		return EXIT_RUN_FAILED;
	}
	n = advise_entries(c, e, &tested);
	if (n == 0) {
		fprintf(stderr, "copylab: advise: no usable repetition in the results\n");
		cell_free(c);
		return EXIT_RUN_FAILED;
	}
	/* The records' own transport: the run's default when none was asked for. */
	transport = json_array_size(c->records) ?
		    json_string_value(json_object_get(json_array_get(c->records, 0), "transport")) : a.transport;
	printf("Advice for %s over %s, %.1f MiB per transfer, %d reps per strategy (role under test: %s)\n",
	       a.scenario, transport ? transport : "?", bytes / 1048576.0, e[0].reps, tested);
	printf("from %s\n\n", c->dir);
	print_by_throughput(c, e, n);
	print_by_role_cpu(c, e, n, tested);
	print_by_system_cpu(c, e, n);
	print_caveats(&a, transport, bytes, e, n);
	cell_free(c);
	return 0;
}
