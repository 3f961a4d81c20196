/* SPDX-License-Identifier: MIT */
/*
 * `copylab advise --scenario S`: which strategy to choose for one workload
 * on this machine.  Runs the scenario's strategies (a child `copylab run
 * ... --json`) or reads a results directory; then says what to choose and
 * why (advise_rank.c), ranks the strategies on each figure in tie groups
 * with one verdict per figure, names what it did not test and the runs
 * that degenerated, and prints the caveats (advise_notes.c).
 */
#include "harness/model/base.h"
#include "harness/cli/cli.h"
#include "cellrun.h"
#include "advise_notes.h"
#include "advise_rank.h"
#include "harness/model/scenario.h"
#include "harness/results/bounded.h"
#include "harness/results/cellkey.h"
#include "harness/results/write.h"

#include <getopt.h>
#include <limits.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct advise_args {
	const char *scenario, *transport, *size, *reps, *block, *conns, *strategy, *peer, *key, *from, *out, *rps;
};

static void advise_usage(FILE *out)
{
	fprintf(out,
		"usage: copylab advise --scenario S [--transport T] [--size N] [--reps N] [--block N]\n"
		"                      [--conns N] [--rps R] [--strategy LIST] [--peer H:P [--key FILE]]\n"
		"                      [--from DIR] [--out DIR]\n\n"
		"Says which strategy to choose for scenario S on this machine, and why: it\n"
		"ranks the strategies by throughput and by CPU per GiB (the role under test's,\n"
		"and the whole machine's), for echo (and relay --rps) by round-trip latency, each against\n"
		"the leader as a ratio paired by repetition with its interval.  Strategies the\n"
		"intervals cannot tell apart share a rank (\"1=\"); each figure gets one verdict:\n"
		"apart, suggestive (apart, with too few repetitions for 95%%), no difference\n"
		"measured, or unresolved (the figure rests on too few /proc/stat ticks).  Then\n"
		"it names the strategies it did not test and why, the runs whose figures are\n"
		"not what their name suggests, and the caveats from each strategy's table.\n\n"
		"Without --from it runs `copylab run --scenario S --strategy all --json`\n"
		"(default 256M, 6 reps) into --out DIR (default results/advise-S-<time>).\n\n"
		"  --strategy LIST  what to run instead of all (labels with options, e.g.\n"
		"                   readwrite,splice:pipe=1M,uring_splice:pipe=1M)\n"
		"  --conns N        N parallel connections sharing the size (serve, relay)\n"
		"  --rps R          echo, relay: requests sent open loop at R a second (relay:\n"
		"                   the round trip through it); with --from, the load to rank\n"
		"                   among a --sweep rps= run's\n"
		"  --peer H:P       nic mode: --transport nic with the far host's daemons\n"
		"                   (--key FILE proves the shared key to them)\n"
		"  --from DIR       advise from the records of an earlier run instead\n\n"
		"Exit status: 0, 1 the run failed or left nothing to rank, 2 bad usage.\n");
}

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
		{ "rps", required_argument, NULL, 'R' },
		{ "strategy", required_argument, NULL, 'S' },
		{ "peer", required_argument, NULL, 'p' },
		{ "key", required_argument, NULL, 'k' },
		{ "from", required_argument, NULL, 'f' },
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	*a = (struct advise_args){ .reps = "6", .strategy = "all" };
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 's': a->scenario = optarg; break;
		case 't': a->transport = optarg; break;
		case 'z': a->size = optarg; break;
		case 'r': a->reps = optarg; break;
		case 'b': a->block = optarg; break;
		case 'c': a->conns = optarg; break;
		case 'R': a->rps = optarg; break;
		case 'S': a->strategy = optarg; break;
		case 'p': a->peer = optarg; break;
		case 'k': a->key = optarg; break;
		case 'f': a->from = optarg; break;
		case 'o': a->out = optarg; break;
		case 'h': advise_usage(stdout); return 0;
		default: advise_usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error("advise: unexpected argument '%s'", argv[optind]);
	if (!a->scenario || scenario_find(a->scenario) < 0) {
		char names[160];

		return a->scenario ? usage_error("advise: unknown scenario '%s'; valid: %s", a->scenario,
						 scenario_names(names, sizeof(names)))
				   : usage_error("advise: --scenario is required (%s)", scenario_names(names, sizeof(names)));
	}
	if (a->rps && (strcmp(a->scenario, "echo") && strcmp(a->scenario, "relay")))
		return usage_error("advise: --rps offers a load of requests: only echo and relay (its round trip) send them");
	if (a->rps && (strspn(a->rps, "0123456789") != strlen(a->rps) || atol(a->rps) < 1 || atol(a->rps) > 1000000))
		return usage_error("advise: --rps '%s' is not a rate from 1 to 1000000 requests a second", a->rps);
	if (a->size && cr_size(a->size) <= 0)
		return usage_error("advise: --size '%s' is not a size (e.g. 64M, 1G)", a->size);
	if (a->peer && !(a->transport && !strcmp(a->transport, "nic")))
		return usage_error("advise: --peer names nic mode's far host: it needs --transport nic");
	if (a->key && !a->peer)
		return usage_error("advise: --key proves the key to nic mode's daemons: it needs --peer HOST:PORT");
	if (a->out && !a->from && access(a->out, F_OK) == 0)
		return usage_error("advise: --out %s already exists: name a new directory (e.g. %s-2), or advise from "
				   "it with --from %s", a->out, a->out, a->out);
	if (a->from && (a->peer || a->conns || strcmp(a->strategy, "all")))
		return usage_error("advise: --from reads an earlier run; --peer, --conns and --strategy shape a new one");
	return -1;
}

/* Runs the scenario's strategies into --out (or results/advise-S-TIME). */
static struct crcell *advise_run(const struct advise_args *a)
{
	const char *args[24];
	int k = 0;
	char *dir = NULL;
	struct crcell *c;

	if (a->out) {
		dir = cr_strdup(a->out);
	} else {
		char stamp[32];
		time_t now = time(NULL);

		strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", gmtime(&now));
		cr_append(&dir, "results/advise-%s-%s", a->scenario, stamp);
	}
	{
		/* The run makes DIR; its log, DIR.log, goes beside it: the parent must exist. */
		char *parent = cr_strdup(dir);

		mkdir_p(dirname(parent));
		free(parent);
	}
	args[k++] = "run";
	args[k++] = "--scenario";
	args[k++] = a->scenario;
	args[k++] = "--strategy";
	args[k++] = a->strategy;
	args[k++] = "--size";
	args[k++] = a->size ? a->size : "256M";
	args[k++] = "--reps";
	args[k++] = a->reps;
#define PASS(opt, v) do { if (v) { args[k++] = (opt); args[k++] = (v); } } while (0)
	PASS("--transport", a->transport);
	PASS("--block", a->block);
	PASS("--conns", a->conns);
	PASS("--rps", a->rps);
	PASS("--peer", a->peer);
	PASS("--key", a->key);
#undef PASS
	args[k] = NULL;
	fprintf(stderr, "advise: running copylab");
	for (int j = 0; j < k; j++)
		fprintf(stderr, " %s", args[j]);
	fprintf(stderr, " --json --out %s\n", dir);
	c = cell_run(args, k, dir);
	free(dir);
	return c;
}

/* The records to advise from: --from's directory, or a run of its own; NULL with *status when none. */
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

/* A record of the scenario (and transport, when one was asked): its cell key in *k. */
static bool of_workload(json_t *rec, const struct advise_workload *w, const char *transport, struct rr_cell_key *k)
{
	return rr_record_key(rec, k) && !strcmp(k->scenario, w->scenario) &&
	       (!transport || !strcmp(k->transport, transport));
}

/*
 * Keeps the records of one data point (cellkey.h): the scenario over the
 * transport, the size asked for (else the largest), the warm cache where
 * there is one, the load asked for; of those, the point of the first
 * record (its block, connections, pipe, load, window and answer size).
 * Fills what the workload says of them; the number kept.
 */
static int keep_point(struct crcell *c, const char *transport, long want, long want_rps, struct advise_workload *w)
{
	json_t *keep = json_array(), *rec;
	struct rr_cell_key k, point;
	bool warm = false, sized = false, have = false;
	size_t i;

	/*
	 * The largest size; runs bounded by time only where there is none
	 * (their reps each moved their own count: they are one point by their
	 * time, the longest).
	 */
	json_array_foreach(c->records, i, rec) {
		if (!of_workload(rec, w, transport, &k))
			continue;
		if (k.time_s > 0) {
			w->time_s = k.time_s > w->time_s ? k.time_s : w->time_s;
		} else {
			sized = true;
			if (want < 0 && (long)k.bytes > w->bytes)
				w->bytes = (long)k.bytes;
		}
		warm |= !strcmp(k.cache, "warm");
	}
	if (want >= 0 || sized)
		w->time_s = 0;
	if (want >= 0)
		w->bytes = want;
	else if (w->time_s > 0)
		w->bytes = -1;	/* any: cr_usable matches every count */
	json_array_foreach(c->records, i, rec) {
		if (!of_workload(rec, w, transport, &k) || k.time_s != w->time_s ||
		    (w->bytes >= 0 && (long)k.bytes != w->bytes) || (warm && strcmp(k.cache, "warm")) ||
		    (want_rps >= 0 && (long)k.rps != want_rps))
			continue;
		if (!have) {
			/* one load of a --sweep rps= run: the first seen, or --rps's */
			point = k;
			have = true;
			w->transport = k.transport;
			w->cache = k.cache;
		}
		if (rr_same_point(&point, &k))
			json_array_append(keep, rec);
	}
	json_decref(c->records);
	c->records = keep;
	w->block = have ? (long)point.block : -1;
	w->conns = have ? point.conns : 1;
	w->rps = have ? point.rps : 0;
	return (int)json_array_size(keep);
}

/* The hypervisor's steal in the median kept record, in CPUs (steal_s over wall_s); NAN with none. */
static double kept_steal_cpus(const struct crcell *c)
{
	size_t n = 0, i;
	double *v = malloc((json_array_size(c->records) + 1) * sizeof(*v)), m;
	json_t *rec;

	if (!v)
		return NAN;
	json_array_foreach(c->records, i, rec) {
		double steal, wall;

		if (rr_num(rec, "system_cpu.steal_s", &steal) && rr_num(rec, "wall_s", &wall) && wall > 0)
			v[n++] = steal / wall;
	}
	m = n ? rr_median(v, n) : NAN;
	free(v);
	return m;
}

/* The online CPUs of the run whose records these are (its env.json), or 0. */
static double run_cpus(const struct crcell *c)
{
	char path[PATH_MAX], err[256], *text = NULL;
	json_t *env = NULL;
	double n = 0;

	if (!c->dir || !*c->dir || snprintf(path, sizeof(path), "%s/env.json", c->dir) >= (int)sizeof(path))
		return 0;
	/* --from names any directory: read it as every reader of a run does */
	if (bounded_read(path, BOUNDED_CAP_ENV, &text, NULL, err, sizeof(err)) == 0)
		env = json_loads(text, 0, NULL);
	if (!env || !rr_num(env, "cpus_online", &n))
		n = 0;
	json_decref(env);
	free(text);
	return n;
}

/* The strategy labels of the records, first seen first. */
static int labels_of(struct crcell *c, const char **labels, int max)
{
	json_t *rec;
	size_t i;
	int n = 0;

	json_array_foreach(c->records, i, rec) {
		const char *s = json_string_value(json_object_get(rec, "strategy"));
		bool seen = false;

		for (int j = 0; s && j < n; j++)
			seen |= !strcmp(labels[j], s);
		if (s && !seen && n < max)
			labels[n++] = s;
	}
	return n;
}

static double fig_path(json_t *rec, const void *path)
{
	json_t *v = rr_get(rec, path);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

/* The fewest usable repetitions of a label: what the verdicts rest on. */
static int fewest_reps(struct crcell *c, const char *const *labels, int n, long bytes)
{
	int fewest = 0;

	for (int k = 0; k < n; k++) {
		json_t *rec;
		size_t i;
		int u = 0;

		json_array_foreach(c->records, i, rec)
			u += cr_usable(rec, labels[k], bytes);
		if (u && (!fewest || u < fewest))
			fewest = u;
	}
	return fewest;
}

/* The role that set LABEL's pace in most usable reps (limiting_role), or NULL. */
static const char *limiter_of(struct crcell *c, const char *label, long bytes)
{
	const char *role = NULL;
	json_t *rec;
	size_t i;
	int usable = 0, named = 0;

	json_array_foreach(c->records, i, rec) {
		const char *r = json_string_value(json_object_get(rec, "limiting_role"));

		if (!cr_usable(rec, label, bytes))
			continue;
		usable++;
		if (r && (!role || !strcmp(role, r))) {
			role = r;
			named++;
		}
	}
	return named * 2 > usable ? role : NULL;
}

/* "block 64 KiB, pipe 1 MiB": what the strategy's calls were given, from its first usable record. */
static const char *sizes_of(struct crcell *c, const char *label, long bytes, char *buf, size_t len)
{
	json_t *rec;
	size_t i;
	char b[32], p[32];

	json_array_foreach(c->records, i, rec) {
		json_t *pipe = json_object_get(rec, "pipe_size");

		if (!cr_usable(rec, label, bytes))
			continue;
		size_words((long)json_integer_value(json_object_get(rec, "block")), b, sizeof(b));
		if (json_is_integer(pipe))
			snprintf(buf, len, "block %s, pipe %s", b, size_words((long)json_integer_value(pipe), p, sizeof(p)));
		else
			snprintf(buf, len, "block %s", b);
		return buf;
	}
	return "";
}

/* The strategy of a label ("splice:pipe=1M" -> splice), or NULL. */
static const struct strategy *base_strategy(const char *label)
{
	char base[64];

	snprintf(base, sizeof(base), "%s", label);
	base[strcspn(base, ":")] = '\0';
	return strategy_find(base);
}

static bool replaced(const char *label)
{
	const struct strategy *s = base_strategy(label);

	return s && s->role_replaced_by;
}

/* "1", "1=" for a strategy tied with its group's first, "-" for no figure. */
static const char *rank_text(const struct ranked *r, char *buf, size_t len)
{
	if (!r->group)
		return "-";
	snprintf(buf, len, "%d%s", r->group, r->tied ? "=" : "");
	return buf;
}

static void print_ranking(struct crcell *c, const struct ranking *k, const struct advise_workload *w)
{
	const struct advise_metric *m = k->m;

	printf("\nBy %s (%s, %s is better) — %s", m->title, m->unit, m->higher_better ? "higher" : "lower",
	       rank_verdict_text(k->verdict));
	if (k->verdict == RV_UNRESOLVED && !isnan(k->ticks))
		printf(" (%d repetitions rest on %.0f /proc/stat ticks, median: fewer than 20; a larger --size "
		       "resolves it)", k->unresolved_reps, k->ticks);
	printf(":\n");
	for (int i = 0; i < k->n; i++) {
		const struct ranked *r = &k->r[i];
		char rk[16], vs[64] = "", sz[64];
		const char *lim = limiter_of(c, r->label, w->bytes);

		if (r->verdict != RV_LEADER && r->verdict != RV_NOFIGURE && r->p.n)
			snprintf(vs, sizeof(vs), "x%.3f [%.3f..%.3f]", r->p.median, r->p.lo, r->p.hi);
		if (isnan(r->median))
			printf("  %-3s %-24s %9s  no figure%s\n", rank_text(r, rk, sizeof(rk)), r->label, "-",
			       replaced(r->label)
			       ? ": no process plays the role (see system-wide CPU)" : "");
		else
			printf("  %-3s %-24s %9.*f  %-24s %-22s %s%s%s%s\n", rank_text(r, rk, sizeof(rk)), r->label,
			       m->decimals, r->median * m->scale, vs,
			       r->verdict == RV_LEADER ? "leader" : rank_verdict_text(r->verdict),
			       sizes_of(c, r->label, w->bytes, sz, sizeof(sz)),
			       lim && strcmp(lim, scenario_def((enum scenario)w->sc)->roles[0]) ? "; paced by the " : "",
			       lim && strcmp(lim, scenario_def((enum scenario)w->sc)->roles[0]) ? lim : "",
			       lim && strcmp(lim, scenario_def((enum scenario)w->sc)->roles[0]) ? " (90% busy)" : "");
	}
}

/*
 * A role's own CPU understates a strategy whose work runs outside its
 * process (sockmap's redirects in softirq): such a strategy is kept out of
 * that ranking, where it would lead every row by a ratio of 100 or more,
 * and shown under it with why.
 */
static bool works_elsewhere(const char *label)
{
	const struct strategy *st = base_strategy(label);

	return st && st->cpu_elsewhere;
}

static void print_unranked(struct crcell *c, const char *const *labels, int n, const struct advise_metric *m,
			   long bytes)
{
	for (int i = 0; i < n; i++) {
		struct crgroup g = { c, labels[i], bytes };
		double v = cell_median_of(&g, m->fig, m->arg);

		if (!works_elsewhere(labels[i]))
			continue;
		printf("  -   %-24s %9.*f  not ranked: %s; see system-wide CPU\n", labels[i], m->decimals,
		       v * m->scale, base_strategy(labels[i])->cpu_elsewhere);
	}
}

/*
 * The CPU figure the pick weighs: the role under test's, unless a ranked
 * strategy does its work outside the role's process (sockmap's softirq,
 * nat's kernel rules): then the whole machine's, for every strategy alike.
 */
static const char *elsewhere_reason(const char *const *labels, int n, const char **who)
{
	for (int i = 0; i < n; i++) {
		const struct strategy *s = base_strategy(labels[i]);

		if (s && (s->cpu_elsewhere || s->role_replaced_by)) {
			*who = labels[i];
			return s->cpu_elsewhere ? s->cpu_elsewhere : s->role_replaced_by;
		}
	}
	return NULL;
}

static void print_list(const char *const *v, int n)
{
	for (int i = 0; i < n; i++)
		printf("%s%s", i == 0 ? "" : i == n - 1 ? " and " : ", ", v[i]);
}

static void print_advice(const struct advice *a, const struct ranking *thru, const struct ranking *cost,
			 const struct advise_workload *w, const char *elsewhere, const char *who)
{
	char sz[32], bl[32];

	if (w->time_s > 0)	/* bounded by time: each rep moved its own count */
		snprintf(sz, sizeof(sz), "%g s a repetition", w->time_s);
	else {
		size_words(w->bytes, sz, sizeof(sz));
		snprintf(sz + strlen(sz), sizeof(sz) - strlen(sz), " per transfer");
	}
	printf("On this machine, for this workload (%s%s%s, %s, %s blocks", w->scenario,
	       w->transport ? " over " : "", w->transport ? w->transport : "", sz, size_words(w->block, bl, sizeof(bl)));
	if (w->rps)
		printf(", %u requests/s offered", w->rps);
	printf("): ");
	if (!a->pick) {
		printf("nothing to recommend: no strategy has a usable repetition.\n");
		return;
	}
	printf("%s", a->pick);
	if (a->npeers) {
		printf("; ");
		print_list(a->peers, a->npeers);
		printf(" %s within noise of it.\n", a->npeers == 1 ? "is" : "are");
	} else {
		printf(".\n");
	}
	printf("  Why: ");
	if (w->rps) {
		printf("the offered load (%u requests/s, open loop) set every strategy's throughput, so it tells "
		       "nothing of them (the latency rankings below say how each kept up); ", w->rps);
	} else if (a->paced_by_fixed_role) {
		printf("a fixed role kept a CPU 90%% busy in most runs, so throughput tells little of the strategies; ");
	} else if (a->ncandidates > 1) {
		print_list(a->candidates, a->ncandidates);
		printf(" are the fastest (throughput: %s between them); ", rank_verdict_text(RV_NODIFF));
	} else {
		printf("%s is the fastest (throughput: %s); ", a->candidates[0], rank_verdict_text(thru->verdict));
	}
	if (a->ncandidates > 1 || a->paced_by_fixed_role)
		printf("%s it costs the least %s%s", w->rps ? "of them all" : "of those", cost->m->title,
		       a->cost_unresolved ? ", though that figure rests on too few clock ticks to tell some apart" : "");
	else
		printf("its %s ranks %s", cost->m->title, ranking_find(cost, a->pick) && ranking_find(cost, a->pick)->group
		       ? (ranking_find(cost, a->pick)->group == 1 ? "first" : "below the leader") : "nowhere (no figure)");
	if (elsewhere)
		printf(" (the whole machine's CPU, because of %s: %s)", who, elsewhere);
	printf(".\n");
}

/*
 * The tools (copylab serve, copylab relay) give a strategy without a user
 * buffer 1 MiB calls and 1 MiB pipes; a ranking at other sizes is not of
 * them as the tools run them.  Said from the strategy's table.
 */
static void print_tools_note(struct crcell *c, const struct advise_workload *w, const char *const *labels, int n)
{
	const char *names[ADVISE_MAX];
	int k = 0;

	if (w->sc != SC_SERVE && w->sc != SC_RELAY)
		return;
	for (int i = 0; i < n && k < ADVISE_MAX; i++) {
		const struct strategy *s = base_strategy(labels[i]);
		json_t *rec;
		size_t j;
		long pipe = 0;

		if (!s || !s->no_user_buffer)
			continue;
		json_array_foreach(c->records, j, rec)
			if (cr_usable(rec, labels[i], w->bytes) && json_is_integer(json_object_get(rec, "pipe_size")))
				pipe = (long)json_integer_value(json_object_get(rec, "pipe_size"));
		if (w->block < 1048576 || (pipe && pipe < 1048576))
			names[k++] = labels[i];
	}
	if (!k)
		return;
	printf("\nAs the tools run them: copylab %s gives ", w->scenario);
	print_list(names, k);
	printf(" (no user buffer) 1 MiB calls and 1 MiB pipes; here they ran with the sizes beside their rank.\n"
	       "  To rank them at the tools' sizes: copylab advise --scenario %s --block 1M --strategy "
	       "<each label>:pipe=1M (sendfile has no pipe).\n", w->scenario);
}

int cmd_advise(int argc, char **argv)
{
	struct advise_args a;
	struct advise_workload w = { .privileged = geteuid() == 0 };
	const char *labels[ADVISE_MAX], *who = NULL, *elsewhere;
	char role_title[96];
	struct crcell *c;
	int n, status = advise_options(argc, argv, &a);

	if (status >= 0)
		return status;
	w.scenario = a.scenario;
	w.sc = scenario_find(a.scenario);
	c = advise_cell(&a, &status);
	if (!c)
		return status;
	if (keep_point(c, a.transport, a.from && a.size ? cr_size(a.size) : -1, a.rps ? atol(a.rps) : -1, &w) == 0) {
		fprintf(stderr, "copylab: advise: no %s%s%s record%s%s%s in %s\n", a.scenario, a.transport ? " over " : "",
			a.transport ? a.transport : "", a.rps ? " at " : "", a.rps ? a.rps : "",
			a.rps ? " requests/s offered" : "", c->dir);
		cell_free(c);
		return EXIT_RUN_FAILED;
	}
	n = labels_of(c, labels, ADVISE_MAX);
	w.reps = fewest_reps(c, labels, n, w.bytes);
	w.steal_cpus = kept_steal_cpus(c);
	w.ncpus = run_cpus(c);
	if (w.reps == 0) {
		fprintf(stderr, "copylab: advise: no usable repetition in %s (every one failed: see its log)\n", c->dir);
		cell_free(c);
		return EXIT_RUN_FAILED;
	}
	{
		const char *tested = scenario_def((enum scenario)w.sc)->roles[0];
		char role_path[64];
		struct advise_metric thru_m = { "throughput", "MB/s", 1e-6, 0, true, fig_path, "bytes_per_s", false };
		struct advise_metric role_m = { role_title, "CPU-s/GiB", 1, 3, false, fig_path, role_path, false };
		struct advise_metric sys_m = { "system-wide CPU per GiB", "CPU-s/GiB", 1, 3, false, fig_path,
					       "system_cpu.busy_per_gib_s", true };
		struct advise_metric p50_m = { "round-trip latency p50", "µs", 1, 1, false, fig_path, "latency.p50_us", false };
		struct advise_metric p99_m = { "round-trip latency p99", "µs", 1, 1, false, fig_path, "latency.p99_us", false };
		struct ranking thru, role, sys;
		struct advice adv;
		const char *own[ADVISE_MAX];	/* the strategies whose role CPU is their own */
		int paced = 0, with = 0, n_own = 0;

		snprintf(role_title, sizeof(role_title), "CPU of the %s per GiB", tested);
		snprintf(role_path, sizeof(role_path), "roles.%s.cpu_per_gib_s", tested);
		for (int i = 0; i < n; i++)
			if (!works_elsewhere(labels[i]))
				own[n_own++] = labels[i];
		thru = rank_by(c, labels, n, w.bytes, &thru_m);
		role = rank_by(c, own, n_own, w.bytes, &role_m);
		sys = rank_by(c, labels, n, w.bytes, &sys_m);
		for (int i = 0; i < n; i++) {
			const char *lim = limiter_of(c, labels[i], w.bytes);

			with++;
			paced += lim && strcmp(lim, tested);
		}
		elsewhere = elsewhere_reason(labels, n, &who);
		/* open loop: the schedule sets every throughput, so every strategy is a candidate */
		adv = advise_pick(c, w.bytes, &thru, elsewhere ? &sys : &role, paced * 2 > with || w.rps);
		printf("Advice for %s%s%s, %d repetitions per strategy (role under test: %s)\nfrom %s\n\n", a.scenario,
		       w.transport ? " over " : "", w.transport ? w.transport : "", w.reps, tested, c->dir);
		print_advice(&adv, &thru, elsewhere ? &sys : &role, &w, elsewhere, who);
		print_ranking(c, &thru, &w);
		print_ranking(c, &role, &w);
		print_unranked(c, labels, n, &role_m, w.bytes);
		print_ranking(c, &sys, &w);
		if (w.sc == SC_ECHO || w.rps) {
			struct ranking p50 = rank_by(c, labels, n, w.bytes, &p50_m);
			struct ranking p99 = rank_by(c, labels, n, w.bytes, &p99_m);

			print_ranking(c, &p50, &w);
			print_ranking(c, &p99, &w);
		}
	}
	print_tools_note(c, &w, labels, n);
	printf("\nNot tested here:\n");
	if (!print_not_tested(stdout, &w, labels, n))
		printf("  (every strategy of the table ran)\n");
	printf("\nNot what the name suggests:\n");
	if (!print_degenerate(stdout, c, &w, labels, n))
		printf("  (nothing of the kind in these records)\n");
	print_caveats(stdout, &w, labels, n);
	cell_free(c);
	return 0;
}
