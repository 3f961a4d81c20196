/* SPDX-License-Identifier: MIT */
/*
 * `copylab run` and `copylab bench`: validate everything first (a usage
 * error writes nothing), then run cell groups with the strategies
 * interleaved rep by rep (A B C A B C ...), so drift hits all alike.
 */
#include "cli.h"
#include "harness/model/base.h"
#include "harness/model/options.h"
#include "harness/engine/remote.h"
#include "harness/results/write.h"
#include "harness/engine/run.h"
#include "harness/model/scenario.h"
#include "harness/results/stats.h"
#include "harness/measure/bpf/ledger.h"
#include "harness/measure/tracer_link.h"
#include "harness/net/userstack_link.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stddef.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_SPECS 16
#define DEFAULT_SIZE (64ull << 20)
#define DEFAULT_BLOCK (64 * 1024)

struct group {
	struct run_config cfg;
	struct strategy_spec spec[MAX_SPECS];
	int nspecs;
};

struct session {
	struct results *res;
	char run_id[64];
	char workdir[PATH_MAX];
	int reps, warmup;
	bool json;
	bool progress_tty;
	int cells_done, cells_total;	/* repetitions, for progress */
	int64_t started_ns;
	struct rep_result *all;		/* every counted rep, for bench's ratios */
	struct ledger *ledger;
	char bpf_note[128];
	copytrace_totals_fn tracer;
	char tracer_note[128];
	size_t nall, capall;
	struct remote *remote;		/* --transport nic */
	bool keep_going;		/* bench: a failed cell ends only that strategy's reps */
	int cells_failed;
};

/* ---- signals and scratch space ----------------------------------------- */

static void on_signal(int sig)
{
	run_interrupted = sig;
}

static void install_signal_handlers(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	/* No SA_RESTART: a wait in the parent must see EINTR and stop the rep. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path);	/* best effort: go on with the rest */
	return 0;
}

/*
 * A run killed with SIGKILL cannot remove its scratch directory: the next
 * run does, when the pid in the name is no longer alive.  Only names of
 * copylab's own form are touched.
 */
static void remove_dead_scratch(const char *base)
{
	DIR *d = opendir(base);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[PATH_MAX], tail[16];
		int pid;

		if (sscanf(e->d_name, "copylab-%d-%15s", &pid, tail) != 2 || pid <= 0 ||
		    strlen(tail) != 6 || (kill(pid, 0) == 0 || errno != ESRCH))
			continue;
		snprintf(path, sizeof(path), "%s/%s", base, e->d_name);
		nftw(path, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	}
	closedir(d);
}

static int make_workdir(struct session *s, const char *base, char *err, size_t errlen)
{
	remove_dead_scratch(base ? base : "/var/tmp");
	/* The pid in the name lets `copylab cleanup` tell a dead run's scratch from a live one. */
	snprintf(s->workdir, sizeof(s->workdir), "%s/copylab-%d-XXXXXX", base ? base : "/var/tmp", (int)getpid());
	if (!mkdtemp(s->workdir)) {
		snprintf(err, errlen, "cannot create a scratch directory in %s: %s",
			 base ? base : "/var/tmp", strerror(errno));
		s->workdir[0] = '\0';
		return -errno;
	}
	return 0;
}

static void make_run_id(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;
	char stamp[32];

	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	snprintf(buf, len, "%s-%d", stamp, (int)getpid());
}

/* ---- running groups ----------------------------------------------------- */

static void progress(struct session *s, const struct group *g, const struct strategy_spec *sp, int rep)
{
	if (!s->progress_tty)
		return;
	double el = secs_since(s->started_ns);
	double left = s->cells_done ? el / s->cells_done * (s->cells_total - s->cells_done) : 0;

	fprintf(stderr, "\r\033[K[%d/%d] %s %s %s, rep %d/%d (%s) ~%.0fs left",
		s->cells_done + 1, s->cells_total, scenario_name(g->cfg.scenario), sp->label,
		scenario_def(g->cfg.scenario)->uses_transport ? transport_name(g->cfg.transport) : "",
		rep ? rep : 0, s->reps, rep ? "counted" : "warm-up", left);
}

/* Off a terminal (CI, a pipe): one line per finished repetition, nothing redrawn. */
static void progress_line(const struct session *s, const struct group *g, const struct rep_result *r)
{
	char size[32];

	fprintf(stderr, "copylab: [%d/%d] %s %s%s%s, %s, rep %d/%d: %.0f MB/s, %s\n",
		s->cells_done, s->cells_total, scenario_name(g->cfg.scenario), r->cell.strategy,
		scenario_def(g->cfg.scenario)->uses_transport ? " over " : "",
		scenario_def(g->cfg.scenario)->uses_transport ? transport_name(g->cfg.transport) : "",
		human_bytes(g->cfg.size, size, sizeof(size)), r->rep, s->reps, r->bytes_per_s / 1e6,
		r->verify == VERIFY_OK ? "verified" : "NOT verified (--sink discard)");
}

static void keep_rep(struct session *s, const struct rep_result *r)
{
	if (s->nall == s->capall) {
		size_t cap = s->capall ? s->capall * 2 : 64;
		struct rep_result *n = realloc(s->all, cap * sizeof(*n));

		if (!n)
			return;
		s->all = n;
		s->capall = cap;
	}
	s->all[s->nall++] = *r;
}

static void print_record(struct session *s, const struct rep_result *r)
{
	json_t *j = rep_to_json(r, s->run_id);

	json_dumpf(j, stdout, JSON_COMPACT | JSON_REAL_PRECISION(15));	/* as results.jsonl */
	putchar('\n');
	fflush(stdout);
	json_decref(j);
}

/* One group: warm-ups, then counted reps, strategies interleaved. 0 or 1. */
static int run_group(struct session *s, struct group *g)
{
	struct run_inputs in;
	struct rep_result r;
	char err[320];
	int status = 0;

	g->cfg.workdir = s->workdir;
	if (run_inputs_prepare(&in, &g->cfg, err, sizeof(err))) {
		fprintf(stderr, "copylab: %s scenario: %s\n", scenario_name(g->cfg.scenario), err);
		return EXIT_RUN_FAILED;
	}
	bool given_up[MAX_SPECS] = { 0 };
	bool stop = false;

	for (int rep = 1 - s->warmup; rep <= s->reps && !stop; rep++) {
		for (int i = 0; i < g->nspecs && !stop; i++) {
			if (given_up[i])
				continue;
			if (run_interrupted) {
				fprintf(stderr, "\ncopylab: interrupted by %s; no record was written for the unfinished repetition\n",
					strsignal(run_interrupted));
				status = EXIT_RUN_FAILED;
				stop = true;
				break;
			}
			progress(s, g, &g->spec[i], rep > 0 ? rep : 0);
			if (run_rep(&g->cfg, &g->spec[i], &in, rep > 0 ? rep : 0, &r)) {
				fprintf(stderr, "%scopylab: %s\n", s->progress_tty ? "\n" : "", r.error);
				status = EXIT_RUN_FAILED;
				/* bench goes on with the next cell; run stops at the first failure. */
				if (s->keep_going && !run_interrupted) {
					given_up[i] = true;
					s->cells_failed++;
					fprintf(stderr, "copylab: bench: no further reps of %s %s; going on with the next cell\n",
						scenario_name(g->cfg.scenario), g->spec[i].label);
					continue;
				}
				stop = true;
				break;
			}
			s->cells_done++;
			if (rep <= 0)
				continue;
			int wr = results_add(s->res, &r);

			if (wr) {
				fprintf(stderr, "copylab: cannot write %s/results.jsonl: %s\n",
					results_dir(s->res), strerror(-wr));
				status = EXIT_RUN_FAILED;
				stop = true;
				break;
			}
			keep_rep(s, &r);
			if (s->json)
				print_record(s, &r);
			if (!s->progress_tty)
				progress_line(s, g, &r);
		}
	}
	int ws = results_write_summary(s->res);

	if (ws) {
		fprintf(stderr, "copylab: cannot write %s/summary.csv: %s\n", results_dir(s->res), strerror(-ws));
		status = EXIT_RUN_FAILED;
	}
	if (s->progress_tty)
		fprintf(stderr, "\r\033[K");
	else if (!status)
		fprintf(stderr, "copylab: done %s%s%s, %" PRIu64 " bytes, %d strateg%s x %d reps\n",
			scenario_name(g->cfg.scenario),
			scenario_def(g->cfg.scenario)->uses_transport ? " over " : "",
			scenario_def(g->cfg.scenario)->uses_transport ? transport_name(g->cfg.transport) : "",
			g->cfg.size, g->nspecs, g->nspecs == 1 ? "y" : "ies", s->reps);
	run_inputs_release(&in);
	return status;
}

/* The BPF ledger for the whole session: loaded once, shared by every rep. */
static int session_ledger(struct session *s, bool no_bpf, bool require_bpf)
{
	char why[128];

	if (no_bpf) {
		snprintf(s->bpf_note, sizeof(s->bpf_note), "off (--no-bpf)");
		return 0;
	}
	if (ledger_open(&s->ledger, why, sizeof(why)) == 0) {
		snprintf(s->bpf_note, sizeof(s->bpf_note), "ok (%s)", ledger_describe(s->ledger));
		return 0;
	}
	s->ledger = NULL;
	snprintf(s->bpf_note, sizeof(s->bpf_note), "%s", why);
	if (require_bpf) {
		fprintf(stderr, "copylab: --require-bpf: the BPF ledger did not load: %s\n", why);
		return EXIT_RUN_FAILED;
	}
	return 0;
}

/*
 * The tracer counts the roles' calls when BPF cannot (or beside it, with
 * --tracer).  It works only preloaded, so the first time copylab re-executes
 * itself with LD_PRELOAD; the re-executed copylab finds it loaded.
 */
static int session_tracer(struct session *s, bool want, bool refuse)
{
	char why[PATH_MAX + 128];

	if (refuse || (!want && s->ledger)) {
		snprintf(s->tracer_note, sizeof(s->tracer_note), "%s",
			 refuse ? "off (--no-tracer)" : "off (BPF counts; --tracer adds it)");
		return 0;
	}
	s->tracer = tracer_loaded();
	if (!s->tracer) {
		if (s->ledger)
			ledger_close(s->ledger);
		tracer_reexec(copylab_argv, why, sizeof(why));
		/* Still here: the run goes on without it and says why. */
		s->ledger = NULL;
		if (want) {
			fprintf(stderr, "copylab: --tracer: %s\n", why);
			return EXIT_RUN_FAILED;
		}
		snprintf(s->tracer_note, sizeof(s->tracer_note), "unavailable: %.100s", why);
		return 0;
	}
	snprintf(s->tracer_note, sizeof(s->tracer_note), "ok (LD_PRELOAD %s)", TRACER_NAME);
	return 0;
}

static int session_open(struct session *s, const char *out, const char *workbase)
{
	char dir[PATH_MAX], err[320];

	make_run_id(s->run_id, sizeof(s->run_id));
	if (out)
		snprintf(dir, sizeof(dir), "%s", out);
	else
		snprintf(dir, sizeof(dir), "results/%s", s->run_id);
	if (make_workdir(s, workbase, err, sizeof(err))) {
		fprintf(stderr, "copylab: %s\n", err);
		return EXIT_RUN_FAILED;
	}
	s->res = results_open(dir, s->run_id, err, sizeof(err));
	if (!s->res) {
		fprintf(stderr, "copylab: %s\n", err);
		rmdir(s->workdir);
		return EXIT_RUN_FAILED;
	}
	s->started_ns = now_ns();
	s->progress_tty = isatty(STDERR_FILENO) && !getenv("CI");
	install_signal_handlers();
	return 0;
}

/* Prints the table on `table` unless NULL (the caller printed it), then closes. */
static void session_close(struct session *s, FILE *table)
{
	if (table)
		results_print_table(s->res, table);
	fprintf(table ? table : stdout, "\nresults: %s/ (results.jsonl, summary.csv, env.json)\n",
		results_dir(s->res));
	results_close(s->res);
	if (s->ledger)
		ledger_close(s->ledger);
	/* The veth link goes on every way out: this, an error, a signal (atexit as well). */
	link_destroy();
	lons_destroy();
	remote_close(s->remote);
	if (s->workdir[0])
		rmdir(s->workdir);
	free(s->all);
}

/* ---- option parsing shared by run and bench ----------------------------- */

enum {
	OPT_SCENARIO = 256, OPT_STRATEGY, OPT_TRANSPORT, OPT_SIZE, OPT_BLOCK, OPT_REPS,
	OPT_WARMUP, OPT_OUT, OPT_JSON, OPT_NONBLOCK, OPT_SNDBUF, OPT_RCVBUF, OPT_PIPE_SIZE,
	OPT_SINK, OPT_FAULT, OPT_TIMEOUT, OPT_WORKDIR, OPT_QUICK, OPT_HELP,
	OPT_NO_BPF, OPT_REQUIRE_BPF, OPT_NO_PERF, OPT_TRACER, OPT_NO_TRACER, OPT_PROFILE,
	OPT_PIN, OPT_CACHE, OPT_SWEEP, OPT_OUTSTANDING, OPT_CONNS,
	OPT_MTU, OPT_OFFLOAD, OPT_RATE, OPT_DELAY, OPT_PEER,
};

static const char run_help[] =
"usage: copylab run --scenario S --strategy X[,Y...|all] [options]\n"
"\n"
"Runs scenario S with each strategy, interleaved rep by rep, verifies every\n"
"byte, prints a table and writes DIR/results.jsonl, summary.csv, env.json.\n"
"\n"
"  --scenario S       serve, send, relay, fanout, store, copy, echo, pipe\n"
"  --strategy LIST    comma-separated labels, or all; a label may carry options:\n"
"                     vmsplice:gift, vmsplice:gift:hugepages, splice:more:pipe=1M\n"
"  --transport T      tcp (127.0.0.1), unix, veth (two network namespaces joined\n"
"                     by a veth pair), routed (A | router | B: two veth links\n"
"                     and a forwarding namespace; a relay runs in the router,\n"
"                     nat's DNAT rules go there), lo-ns (127.0.0.1 in a namespace\n"
"                     whose lo has MTU 61492: whole-page segments, and a\n"
"                     MSG_ZEROCOPY fixed source), nic (a second host: --peer)\n"
"                     or userstack (the tested role's sockets in lwIP via\n"
"                     copylab stackd, the peer the kernel's TCP over a TAP;\n"
"                     root); default tcp (copy and pipe: none).  See\n"
"                     docs/transports.md\n"
"  --mtu N            veth, routed: the links' MTU (68..65535); default 1500\n"
"  --offload on|off   veth: TSO, GSO and GRO on or off; default: the veth's own\n"
"  --rate R           veth: a tbf qdisc on both ends (100mbit, 1gbit, ...)\n"
"  --delay D          veth: a netem delay on both ends (10ms); refused where\n"
"                     the kernel has no netem\n"
"  --peer H:P[,H:P]   nic: the far `copylab sink` (and `copylab source`) daemons\n"
"  --size N           bytes to move; K/M/G suffixes are powers of 1024; default 64M\n"
"  --block N          bytes per call of the role under test; default 64K\n"
"  --sweep block=A..B | size=A..B | conns=A..B   one cell per power of two\n"
"                     from A to B\n"
"  --conns N          serve, relay: N parallel connections (1..256) share --size:\n"
"                     connection i carries bytes i*size/N up to (i+1)*size/N;\n"
"                     each role drives all N non-blocking from one loop\n"
"  --outstanding N    echo: requests in flight at most (default 1: request/response);\n"
"                     the message size is --block; every round trip is timed\n"
"  --reps N           counted repetitions; default 3\n"
"  --warmup N         uncounted repetitions first; default 1\n"
"  --out DIR          results directory; default results/<run-id>\n"
"  --json             print the records as JSON Lines on stdout (table on stderr)\n"
"  --nonblock         O_NONBLOCK descriptors for the role under test (poll loop)\n"
"  --sndbuf N, --rcvbuf N   SO_SNDBUF / SO_RCVBUF on every socket\n"
"  --pipe-size N      F_SETPIPE_SZ for the scenario's pipe and strategies' pipes\n"
"  --sink hash|discard  hash every byte (default) or splice to /dev/null (unverified)\n"
"  --timeout SEC      end a repetition that runs longer; default 120\n"
"  --fault F          fault injection, for tests (one kind per run; N in bytes with\n"
"                     K/M/G; refused where the scenario lacks what it needs):\n"
"%s"
"    flip@N, drop@N, dup@N, swap@N\n"
"                         the data entering the path is damaged at byte N: the run\n"
"                         must fail verification, naming the offset\n"
"  --workdir DIR      where scratch files go; default /var/tmp\n"
"  --no-bpf           no BPF copy ledger; --require-bpf: fail if it cannot load\n"
"  --no-perf          no perf counters\n"
"  --profile          perf record (cpu-clock, call graphs) on the role under test;\n"
"                     the record keeps its top kernel and user symbols\n"
"  --pin auto|none|CPU,CPU,...  pin the roles (role under test first) to CPUs;\n"
"                     auto (default): one CPU per role when there are enough\n"
"  --cache warm|cold  page cache state of file inputs before each rep (serve,\n"
"                     copy); cold: posix_fadvise(DONTNEED), + drop_caches as root\n"
"  --tracer           also count with the LD_PRELOAD tracer (beside BPF, to\n"
"                     cross-check); it is used anyway when BPF cannot load,\n"
"                     unless --no-tracer\n"
"\n"
"Exit status: 0 success, 1 a run failed, 2 bad usage.\n";

static const char bench_help[] =
"usage: copylab bench [--quick] [--out DIR] [--reps N] [--size N] [--timeout SEC]\n"
"\n"
"Runs the default matrix: every scenario with every strategy that supports it\n"
"(and vmsplice:gift), over tcp loopback, 256 MiB per socket cell and 1 GiB for\n"
"copy and pipe, which move faster than 2 GB/s (--quick: 64 MiB),\n"
"block 64 KiB, 1 warm-up and 5 counted repetitions (--quick: 2), interleaved;\n"
"serve and copy also with a cold page cache; pipe also with a 1 MiB pipe\n"
"(--pipe-size 1M, or pipe-max-size where smaller: at the default 64 KiB the\n"
"reader is woken once a chunk); echo as a latency workload:\n"
"messages of 64 B, 1 KiB, 16 KiB and 64 KiB with 1 and 8 in flight, 20000\n"
"round trips per cell (at most 256 MiB; --quick: 2000), every one timed.\n"
"Serve and relay also over tcp and veth side by side (256 MiB; where copylab\n"
"can make the veth link); send over veth with readwrite, msg_zerocopy and\n"
"uring_send_zc (64 KiB sends: sender CPU ratios and the share of sends not\n"
"copied); every relay strategy, nat among them, over routed (the one path\n"
"where nat runs: system-wide CPU per GiB against nat's); store over lo-ns\n"
"with readwrite and zerocopy_recv at 64 KiB and 1 MiB blocks (one MSG_ZEROCOPY\n"
"sender for both; the receiver CPU ratio is printed).  Roles are pinned one\n"
"CPU each where the machine has enough (--pin).  Then the\n"
"relay cell with the instruments on and off, for what they cost.  Prints the\n"
"table and the headline figures, and writes the results directory.\n"
"\n"
"  --quick      a smoke run: its figures are not for quoting\n"
"  --out DIR    results directory; default results/<run-id>\n"
"  --reps N, --size N, --timeout SEC, --workdir DIR, --pin P: as for copylab run\n"
"  --no-bpf, --require-bpf, --no-perf, --tracer, --no-tracer: as for copylab run\n"
"  --fault F    as for copylab run (tests), in every cell it applies to; a cell\n"
"               that fails ends its strategy's reps and the bench goes on\n";

static const struct option run_opts[] = {
	{ "scenario", required_argument, NULL, OPT_SCENARIO },
	{ "strategy", required_argument, NULL, OPT_STRATEGY },
	{ "transport", required_argument, NULL, OPT_TRANSPORT },
	{ "size", required_argument, NULL, OPT_SIZE },
	{ "block", required_argument, NULL, OPT_BLOCK },
	{ "reps", required_argument, NULL, OPT_REPS },
	{ "warmup", required_argument, NULL, OPT_WARMUP },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "nonblock", no_argument, NULL, OPT_NONBLOCK },
	{ "sndbuf", required_argument, NULL, OPT_SNDBUF },
	{ "rcvbuf", required_argument, NULL, OPT_RCVBUF },
	{ "pipe-size", required_argument, NULL, OPT_PIPE_SIZE },
	{ "sink", required_argument, NULL, OPT_SINK },
	{ "fault", required_argument, NULL, OPT_FAULT },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "workdir", required_argument, NULL, OPT_WORKDIR },
	{ "quick", no_argument, NULL, OPT_QUICK },
	{ "no-bpf", no_argument, NULL, OPT_NO_BPF },
	{ "require-bpf", no_argument, NULL, OPT_REQUIRE_BPF },
	{ "no-perf", no_argument, NULL, OPT_NO_PERF },
	{ "tracer", no_argument, NULL, OPT_TRACER },
	{ "no-tracer", no_argument, NULL, OPT_NO_TRACER },
	{ "profile", no_argument, NULL, OPT_PROFILE },
	{ "mtu", required_argument, NULL, OPT_MTU },
	{ "offload", required_argument, NULL, OPT_OFFLOAD },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "delay", required_argument, NULL, OPT_DELAY },
	{ "peer", required_argument, NULL, OPT_PEER },
	{ "pin", required_argument, NULL, OPT_PIN },
	{ "cache", required_argument, NULL, OPT_CACHE },
	{ "sweep", required_argument, NULL, OPT_SWEEP },
	{ "outstanding", required_argument, NULL, OPT_OUTSTANDING },
	{ "conns", required_argument, NULL, OPT_CONNS },
	{ "help", no_argument, NULL, OPT_HELP },
	{ 0 }
};

struct parsed {
	const char *scenario, *strategies, *transport, *out, *workdir;
	uint64_t size, block;
	long reps, warmup;
	bool json, quick, help, size_set, reps_set;
	bool no_bpf, require_bpf, tracer, no_tracer;
	const char *pin, *sweep;
	struct run_config cfg;
	struct link_config link;	/* veth */
	const char *link_opt;		/* the first veth option given, for a usage error */
	const char *peer;		/* nic */
};

/* --fault KIND=VALUE (the table of harness/engine/fault.c) | flip@N | drop@N | dup@N | swap@N (tests only). */
static int parse_fault(const char *arg, struct run_config *cfg, char *err, size_t errlen)
{
	static const struct { const char *name; enum corruption kind; } kinds[] = {
		{ "flip@", CORRUPT_FLIP }, { "drop@", CORRUPT_DROP },
		{ "dup@", CORRUPT_DUP }, { "swap@", CORRUPT_SWAP },
	};

	int r;

	if (cfg->fault.kind != FAULT_NONE && strchr(arg, '=')) {
		snprintf(err, errlen, "--fault %s: one fault kind per run (--fault %s is given already)",
			 arg, fault_name(cfg->fault.kind));
		return -EINVAL;
	}
	if ((r = fault_parse(arg, &cfg->fault, err, errlen)) <= 0) {
		if (r == 0 && cfg->fault.kind == FAULT_SINK_CLOSE)
			cfg->sink_close_at = cfg->fault.n;	/* the nic daemons take it too */
		return r;
	}
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t n = strlen(kinds[i].name);

		if (strncmp(arg, kinds[i].name, n))
			continue;
		cfg->corrupt = kinds[i].kind;
		return parse_size("--fault", arg + n, 1ull << 40, &cfg->corrupt_at, err, errlen);
	}
	snprintf(err, errlen, "--fault: '%s' is not a fault; valid: sink-close=N, sink-reset=N, sink-halfclose=N, sink-stall=N, sink-slow=USEC, source-reset=N, source-halfclose=N, signals=HZ, truncate=N, kill=ROLE@N, flip@N, drop@N, dup@N, swap@N (N in bytes; see copylab run --help)",
		 arg);
	return -EINVAL;
}

static int parse_common(int argc, char **argv, const char *cmd, bool bench, struct parsed *p)
{
	char err[320];
	long v;
	uint64_t u;
	int c;

	memset(p, 0, sizeof(*p));
	p->size = DEFAULT_SIZE;
	p->block = DEFAULT_BLOCK;
	p->reps = 3;
	p->warmup = 1;
	p->cfg.timeout_s = 120;
	p->cfg.sink_close_at = UINT64_MAX;
	p->link.mtu = LINK_DEFAULT_MTU;
	p->link.offload = -1;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+", run_opts, NULL)) != -1) {
		int r = 0;

		if (bench && c != OPT_QUICK && c != OPT_OUT && c != OPT_REPS && c != OPT_SIZE &&
		    c != OPT_TIMEOUT && c != OPT_HELP && c != OPT_WORKDIR && c != OPT_NO_BPF &&
		    c != OPT_REQUIRE_BPF && c != OPT_NO_PERF && c != OPT_TRACER && c != OPT_NO_TRACER &&
		    c != OPT_PIN && c != OPT_FAULT &&
		    c != '?' && c != ':')
			return usage_error("bench: option '%s' is for copylab run; bench takes --quick, --out, --reps, --size, --timeout, --workdir, --pin, --fault, --no-bpf, --require-bpf, --no-perf",
					   argv[optind - 1]);
		switch (c) {
		case OPT_SCENARIO: p->scenario = optarg; break;
		case OPT_STRATEGY: p->strategies = optarg; break;
		case OPT_TRANSPORT: p->transport = optarg; break;
		case OPT_OUT: p->out = optarg; break;
		case OPT_WORKDIR: p->workdir = optarg; break;
		case OPT_JSON: p->json = true; break;
		case OPT_NONBLOCK: p->cfg.nonblock = true; break;
		case OPT_QUICK: p->quick = true; break;
		case OPT_NO_BPF: p->no_bpf = true; break;
		case OPT_REQUIRE_BPF: p->require_bpf = true; break;
		case OPT_NO_PERF: p->cfg.no_perf = true; break;
		case OPT_TRACER: p->tracer = true; break;
		case OPT_NO_TRACER: p->no_tracer = true; break;
		case OPT_PROFILE: p->cfg.profile = true; break;
		case OPT_PIN: p->pin = optarg; break;
		case OPT_SWEEP: p->sweep = optarg; break;
		case OPT_CONNS: {
			long n;

			r = parse_count("--conns", optarg, 1, MAX_CONNS, &n, err, sizeof(err));
			p->cfg.conns = (unsigned)n;
			break;
		}
		case OPT_OUTSTANDING: {
			long n;

			r = parse_count("--outstanding", optarg, 1, 1024, &n, err, sizeof(err));
			p->cfg.outstanding = (unsigned)n;
			break;
		}
		case OPT_CACHE:
			if (strcmp(optarg, "warm") && strcmp(optarg, "cold"))
				return usage_error("--cache: '%s' is not a cache state; valid: warm, cold", optarg);
			p->cfg.cache_cold = !strcmp(optarg, "cold");
			break;
		case OPT_HELP: p->help = true; break;
		case OPT_SIZE:
			r = parse_size("--size", optarg, 1ull << 40, &p->size, err, sizeof(err));
			p->size_set = true;
			break;
		case OPT_BLOCK:
			r = parse_size("--block", optarg, 1ull << 30, &p->block, err, sizeof(err));
			if (!r && p->block == 0)
				return usage_error("--block: must be at least 1 byte");
			break;
		case OPT_REPS:
			r = parse_count("--reps", optarg, 1, 1000, &p->reps, err, sizeof(err));
			p->reps_set = true;
			break;
		case OPT_WARMUP:
			r = parse_count("--warmup", optarg, 0, 100, &p->warmup, err, sizeof(err));
			break;
		case OPT_SNDBUF:
		case OPT_RCVBUF:
			r = parse_size(c == OPT_SNDBUF ? "--sndbuf" : "--rcvbuf", optarg, 1u << 30, &u, err, sizeof(err));
			if (c == OPT_SNDBUF)
				p->cfg.sock.sndbuf = u;
			else
				p->cfg.sock.rcvbuf = u;
			break;
		case OPT_PIPE_SIZE:
			r = parse_size("--pipe-size", optarg, 1u << 30, &u, err, sizeof(err));
			p->cfg.pipe_size = u;
			break;
		case OPT_SINK:
			if (strcmp(optarg, "hash") && strcmp(optarg, "discard"))
				return usage_error("--sink: '%s' is not a sink; valid: hash, discard", optarg);
			p->cfg.sink_discard = !strcmp(optarg, "discard");
			break;
		case OPT_FAULT:
			r = parse_fault(optarg, &p->cfg, err, sizeof(err));
			break;
		case OPT_TIMEOUT:
			r = parse_seconds("--timeout", optarg, &p->cfg.timeout_s, err, sizeof(err));
			break;
		case OPT_MTU:
			r = parse_count("--mtu", optarg, 68, 65535, &v, err, sizeof(err));
			p->link.mtu = v;
			p->link_opt = "--mtu";
			break;
		case OPT_OFFLOAD:
			if (strcmp(optarg, "on") && strcmp(optarg, "off"))
				return usage_error("--offload: '%s' is neither on nor off", optarg);
			p->link.offload = !strcmp(optarg, "on");
			p->link_opt = "--offload";
			break;
		case OPT_RATE:
			r = link_parse_rate(optarg, &p->link.rate_bps, err, sizeof(err));
			p->link_opt = "--rate";
			break;
		case OPT_DELAY:
			r = link_parse_delay(optarg, &p->link.delay_s, err, sizeof(err));
			p->link_opt = "--delay";
			break;
		case OPT_PEER:
			p->peer = optarg;
			break;
		case ':':
			return usage_error("%s: option '%s' needs a value (see copylab %s --help)", cmd, argv[optind - 1], cmd);
		default:
			return usage_error("%s: unknown option '%s' (see copylab %s --help)", cmd, argv[optind - 1], cmd);
		}
		if (r)
			return usage_error("%s", err);
		(void)v;
	}
	if (optind < argc)
		return usage_error("%s: unexpected argument '%s' (see copylab %s --help)", cmd, argv[optind], cmd);
	return 0;
}

/*
 * --pin: "none", "auto" (role i on CPU i when every role gets a CPU of its
 * own, so no two roles of a cell share one; none otherwise), or a list of
 * CPUs in role order, the role under test first.
 */
static int parse_pin(const char *spec, enum scenario sc, int pin[MAX_ROLES])
{
	int nroles = scenario_def(sc)->nroles;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	char buf[128], *save = NULL, *tok;
	int i = 0;

	for (int k = 0; k < MAX_ROLES; k++)
		pin[k] = -1;
	if (!spec || !strcmp(spec, "auto")) {
		if (ncpu >= nroles)
			for (int k = 0; k < nroles; k++)
				pin[k] = k;
		return 0;
	}
	if (!strcmp(spec, "none"))
		return 0;
	snprintf(buf, sizeof(buf), "%s", spec);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save), i++) {
		char err[160];
		long cpu;

		if (i >= nroles)
			return usage_error("--pin: %s has %d roles (%s first); '%s' names more CPUs",
					   scenario_name(sc), nroles, scenario_def(sc)->roles[0], spec);
		if (parse_count("--pin", tok, 0, ncpu - 1, &cpu, err, sizeof(err)))
			return usage_error("%s (an online CPU), or auto, or none", err);
		pin[i] = (int)cpu;
	}
	if (i != nroles)
		return usage_error("--pin: %s has %d roles (%s); give one CPU for each, or auto, or none",
				   scenario_name(sc), nroles, scenario_def(sc)->roles[0]);
	return 0;
}

#define MAX_SWEEP 40

/*
 * --sweep block=A..B | size=A..B: the powers of two from A to B (A and B
 * themselves powers of two).  Returns how many values, or -1 after a
 * usage message.
 */
static int parse_sweep(const char *spec, uint64_t values[MAX_SWEEP])
{
	bool block = !strncmp(spec, "block=", 6), size = !strncmp(spec, "size=", 5);
	bool conns = !strncmp(spec, "conns=", 6);
	const char *range = block || conns ? spec + 6 : size ? spec + 5 : NULL;
	const char *dots = range ? strstr(range, "..") : NULL;
	char lo_s[32], err[320];
	uint64_t lo, hi;
	int n = 0;

	if (!range || !dots || dots - range >= (ptrdiff_t)sizeof(lo_s)) {
		usage_error("--sweep: '%s' is not a sweep; use block=A..B, size=A..B or conns=A..B, e.g. block=4K..1M, conns=1..64", spec);
		return -1;
	}
	snprintf(lo_s, sizeof(lo_s), "%.*s", (int)(dots - range), range);
	if (parse_size("--sweep", lo_s, block ? 1ull << 30 : 1ull << 40, &lo, err, sizeof(err)) ||
	    parse_size("--sweep", dots + 2, block ? 1ull << 30 : 1ull << 40, &hi, err, sizeof(err))) {
		usage_error("%s", err);
		return -1;
	}
	if (conns && hi > MAX_CONNS) {
		usage_error("--sweep: conns=%s..%s: at most %d connections", lo_s, dots + 2, MAX_CONNS);
		return -1;
	}
	if (lo == 0 || hi < lo || (lo & (lo - 1)) || (hi & (hi - 1))) {
		usage_error("--sweep: %s..%s must run from a power of two up to a larger or equal one (e.g. 4K..1M)",
			    lo_s, dots + 2);
		return -1;
	}
	for (uint64_t v = lo; v <= hi && n < MAX_SWEEP; v *= 2)
		values[n++] = v;
	return n;
}

/* True when role i of the scenario is a receiving sink (the one --sink discard replaces). */
static bool role_is_sink(enum scenario sc, int i)
{
	const char *name = scenario_def(sc)->roles[i];

	return sc != SC_ECHO && strcmp(name, "source") != 0;
}

/* Why strategy NAME cannot run scenario sc over tr here, or NULL when it can. */
static const char *refusal_here(const char *name, enum scenario sc, enum transport tr)
{
	const struct strategy *st = strategy_find(name);
	struct strategy_place place = run_place(sc, tr);

	return st ? strategy_refusal(st, &place).why : "no such strategy in this build";
}

/*
 * The labels of LIST, or for "all" every strategy supporting the scenario
 * over that transport.
 */
static int parse_strategy_list(const char *list, enum scenario sc, int tr, struct group *g)
{
	struct strategy_place place = run_place(sc, tr);
	char buf[512], err[320], *save = NULL, *tok;
	struct refusal why;

	g->nspecs = 0;
	if (!strcmp(list, "all")) {
		for (size_t i = 0; i < strategy_count && g->nspecs < MAX_SPECS; i++)
			if (strategy_refusal(strategy_table[i], &place).kind == REFUSE_NONE)
				parse_strategy_spec(strategy_table[i]->name, &g->spec[g->nspecs++], err, sizeof(err));
		return 0;
	}
	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct strategy_spec *sp = &g->spec[g->nspecs];

		if (g->nspecs == MAX_SPECS)
			return usage_error("--strategy: at most %d strategies in one run", MAX_SPECS);
		if (parse_strategy_spec(tok, sp, err, sizeof(err)))
			return usage_error("%s", err);
		why = strategy_refusal(sp->s, &place);
		if (why.kind == REFUSE_SCENARIO)
			return usage_error("%s cannot run %s: %s", sp->s->name, scenario_name(sc), why.why);
		if (why.kind != REFUSE_NONE)
			return usage_error("%s cannot run here (%s): %s", sp->s->name, transport_name(tr), why.why);
		for (int i = 0; i < g->nspecs; i++)
			if (!strcmp(g->spec[i].label, sp->label))
				return usage_error("--strategy: '%s' is listed twice", sp->label);
		g->nspecs++;
	}
	if (g->nspecs == 0)
		return usage_error("--strategy: no strategy given; valid: %s, or all",
				   strategy_names(buf, sizeof(buf)));
	return 0;
}

/*
 * --conns N and --sweep conns=: serve and relay only, over a transport
 * whose fixed roles are local, without the faults that change the size or
 * close the sink, and without the discarding sink (each of one connection).
 * Every strategy with a process fits: each move() is non-blocking and
 * names in wait[] what it waits on (sockets, an io_uring ring, sockmap's
 * timer), so one poll() loop steps N of them.
 */
static int check_conns(const struct parsed *p, enum scenario sc, int tr, struct group *g)
{
	bool many = p->cfg.conns > 1 || (p->sweep && !strncmp(p->sweep, "conns=", 6));

	if (!many)
		return 0;
	if (sc != SC_SERVE && sc != SC_RELAY)
		return usage_error("--conns: scenario %s has one connection; parallel connections apply to serve and relay",
				   scenario_name(sc));
	if (tr == TR_NIC)
		return usage_error("--conns: over --transport nic the fixed roles run on the far host, which drives one connection; use tcp, unix or veth");
	if (tr == TR_LONS)
		return usage_error("--conns: over --transport lo-ns the fixed source sends with MSG_ZEROCOPY on one connection (for zerocopy_recv's store); use tcp, unix, veth or routed");
	if (p->cfg.sink_discard)
		return usage_error("--conns: --sink discard drives one connection; the parallel sink hashes every byte (--sink hash)");
	if (p->cfg.corrupt == CORRUPT_DROP || p->cfg.corrupt == CORRUPT_DUP || p->cfg.sink_close_at != UINT64_MAX)
		return usage_error("--conns: --fault drop@, dup@ and sink-close= change one connection's length; with --conns use flip@ or swap@");
	if (p->cfg.fault.kind != FAULT_NONE)
		return usage_error("--conns: --fault %s acts on one connection's roles; with --conns use flip@ or swap@",
				   fault_name(p->cfg.fault.kind));
	/*
	 * A strategy with no process for the tested role (nat) has the fixed
	 * roles connected through the one path it configures: no N transfers
	 * to drive.  --strategy all leaves it out, as a transport refusal does.
	 */
	for (int i = 0; i < g->nspecs; i++) {
		const struct strategy *s = g->spec[i].s;

		if (!s->role_replaced_by)
			continue;
		if (strcmp(p->strategies, "all"))
			return usage_error("%s cannot run --conns: no process plays the %s (%s), and the harness connects the fixed roles through the one path it configures",
					   s->name, scenario_def(sc)->roles[0], s->role_replaced_by);
		memmove(&g->spec[i], &g->spec[i + 1], (g->nspecs - i - 1) * sizeof(g->spec[0]));
		g->nspecs--;
		i--;
	}
	if (g->nspecs == 0)
		return usage_error("--conns: no strategy of --strategy all can run parallel connections over %s",
				   transport_name(tr));
	return 0;
}

int cmd_run(int argc, char **argv)
{
	struct parsed p;
	struct session s = { 0 };
	struct group g = { 0 };
	char names[256], err[320];
	int sc, tr = TR_TCP, r;

	if ((r = parse_common(argc, argv, "run", false, &p)))
		return r;
	if (p.help) {
		printf(run_help, fault_help());
		return 0;
	}
	if (!p.scenario)
		return usage_error("run: --scenario is required; valid: %s", scenario_names(names, sizeof(names)));
	if ((sc = scenario_find(p.scenario)) < 0)
		return usage_error("unknown scenario '%s'; valid: %s", p.scenario, scenario_names(names, sizeof(names)));
	if (!p.strategies)
		return usage_error("run: --strategy is required; valid: %s, or all", strategy_names(names, sizeof(names)));
	if (p.transport && (tr = transport_find(p.transport)) < 0)
		return usage_error("unknown transport '%s'; valid: %s", p.transport, transport_names(names, sizeof(names)));
	if ((r = parse_strategy_list(p.strategies, sc, tr, &g)))
		return r;
	if (p.link_opt && tr != TR_VETH && tr != TR_ROUTED)
		return usage_error("%s applies to --transport veth or routed (the links copylab makes); this run is over %s",
				   p.link_opt, transport_name(tr));
	if (p.peer && tr != TR_NIC)
		return usage_error("--peer applies to --transport nic; this run is over %s", transport_name(tr));
	if (tr == TR_NIC && !p.peer)
		return usage_error("--transport nic needs --peer HOST:PORT[,HOST:PORT]: the far `copylab sink` (and `copylab source`)");
	if (fault_check(&p.cfg.fault, sc, tr == TR_NIC, err, sizeof(err)))
		return usage_error("%s", err);
	/* The receiver's faults act in the hashing sink, which --sink discard replaces. */
	if (p.cfg.sink_discard && sc != SC_ECHO &&
	    (p.cfg.fault.kind == FAULT_SINK_CLOSE || p.cfg.fault.kind == FAULT_SINK_RESET ||
	     p.cfg.fault.kind == FAULT_SINK_HALFCLOSE || p.cfg.fault.kind == FAULT_SINK_STALL ||
	     p.cfg.fault.kind == FAULT_SINK_SLOW ||
	     (p.cfg.fault.kind == FAULT_KILL && p.cfg.fault.role_index > 0 &&
	      role_is_sink(sc, p.cfg.fault.role_index))))
		return usage_error("--fault %s acts in the sink that hashes; --sink discard splices to /dev/null instead (use --sink hash)",
				   fault_name(p.cfg.fault.kind));
	/* A signal or a kill needs a process: a strategy that replaces the role has none. */
	for (int i = 0; i < g.nspecs; i++)
		if (g.spec[i].s->role_replaced_by &&
		    (p.cfg.fault.kind == FAULT_SIGNALS ||
		     (p.cfg.fault.kind == FAULT_KILL && p.cfg.fault.role_index == 0)))
			return usage_error("--fault %s: %s runs no %s process (%s); nothing to signal or kill",
					   fault_name(p.cfg.fault.kind), g.spec[i].label,
					   scenario_def(sc)->roles[0], g.spec[i].s->role_replaced_by);

	if ((r = check_conns(&p, sc, tr, &g)))
		return r;
	g.cfg = p.cfg;
	g.cfg.scenario = sc;
	g.cfg.transport = tr;
	if ((r = parse_pin(p.pin, sc, g.cfg.pin)))
		return r;
	if (g.cfg.outstanding && sc != SC_ECHO)
		return usage_error("--outstanding: only the echo scenario has requests in flight");
	if (g.cfg.cache_cold && scenario_def(sc)->in != EP_FILE)
		return usage_error("--cache cold: scenario %s reads no file; it applies to serve and copy",
				   scenario_name(sc));
	g.cfg.size = p.size;
	g.cfg.block = p.block;
	s.reps = p.reps;
	s.warmup = p.warmup;
	s.json = p.json;

	/* A sweep is one group per value, all in one results directory. */
	struct group *groups = NULL;
	uint64_t values[MAX_SWEEP];
	int ngroups = 1;

	if (p.sweep && (ngroups = parse_sweep(p.sweep, values)) < 0)
		return EXIT_USAGE;
	groups = calloc(ngroups, sizeof(*groups));
	if (!groups)
		return EXIT_RUN_FAILED;
	for (int i = 0; i < ngroups; i++) {
		groups[i] = g;
		if (p.sweep && !strncmp(p.sweep, "block=", 6))
			groups[i].cfg.block = values[i];
		else if (p.sweep && !strncmp(p.sweep, "conns=", 6))
			groups[i].cfg.conns = (unsigned)values[i];
		else if (p.sweep)
			groups[i].cfg.size = values[i];
		s.cells_total += (p.reps + p.warmup) * g.nspecs;
	}
	if ((r = session_ledger(&s, p.no_bpf, p.require_bpf)) ||
	    (r = session_tracer(&s, p.tracer, p.no_tracer))) {
		free(groups);
		return r;
	}
	/* Made before session_open, so a refusal writes nothing and env.json can describe the link. */
	p.link.routed = tr == TR_ROUTED;
	if ((tr == TR_VETH || tr == TR_ROUTED) && scenario_def(sc)->uses_transport &&
	    (r = link_create(&p.link, err, sizeof(err)))) {
		fprintf(stderr, "copylab: transport %s: %s\n", transport_name(tr), err);
		if (s.ledger)
			ledger_close(s.ledger);
		free(groups);
		return r == -EOPNOTSUPP || r == -EINVAL ? EXIT_USAGE : EXIT_RUN_FAILED;
	}
	if (tr == TR_LONS && scenario_def(sc)->uses_transport && (r = lons_create(err, sizeof(err)))) {
		fprintf(stderr, "copylab: transport lo-ns: %s\n", err);
		if (s.ledger)
			ledger_close(s.ledger);
		free(groups);
		return EXIT_RUN_FAILED;
	}
	if (tr == TR_USERSTACK && scenario_def(sc)->uses_transport && (r = userstack_start(err, sizeof(err)))) {
		fprintf(stderr, "copylab: transport userstack: %s\n", err);
		if (s.ledger)
			ledger_close(s.ledger);
		free(groups);
		return EXIT_RUN_FAILED;
	}
	if (tr == TR_NIC && ((r = remote_open(p.peer, &s.remote, err, sizeof(err))) ||
			     (r = remote_check_scenario(s.remote, sc, err, sizeof(err))))) {
		fprintf(stderr, "copylab: %s%s\n", strncmp(err, "transport nic", 13) ? "transport nic: " : "", err);
		if (s.ledger)
			ledger_close(s.ledger);
		remote_close(s.remote);
		free(groups);
		return r == -EINVAL || r == -EOPNOTSUPP ? EXIT_USAGE : EXIT_RUN_FAILED;
	}
	if (scenario_def(sc)->uses_transport)
		results_env_extra("transport", transport_facts(tr, remote_first_peer(s.remote)));
	if ((r = session_open(&s, p.out, p.workdir))) {
		if (s.ledger)
			ledger_close(s.ledger);
		link_destroy();
		lons_destroy();
		remote_close(s.remote);
		free(groups);
		return r;
	}
	for (int i = 0; i < ngroups && !r && !run_interrupted; i++) {
		groups[i].cfg.remote = s.remote;
		groups[i].cfg.ledger = s.ledger;
		groups[i].cfg.bpf_note = s.bpf_note;
		groups[i].cfg.tracer = s.tracer;
		groups[i].cfg.tracer_note = s.tracer_note;
		r = run_group(&s, &groups[i]);
	}
	if (run_interrupted)
		r = EXIT_RUN_FAILED;
	session_close(&s, p.json ? stderr : stdout);
	free(groups);
	return r;
}

/* ---- bench --------------------------------------------------------------- */

/* Median of one figure over the counted reps of a (scenario, strategy) cell. */
/* Median over the reps of one echo cell of a latency figure (offset into the summary). */
static double echo_median(const struct session *s, const struct rep_result *like, size_t field)
{
	double *v = calloc(s->nall ? s->nall : 1, sizeof(*v));
	size_t n = 0;

	for (size_t i = 0; v && i < s->nall; i++) {
		const struct rep_result *r = &s->all[i];

		if (r->cell.scenario == SC_ECHO && r->cell.block == like->cell.block &&
		    r->cell.outstanding == like->cell.outstanding &&
		    !strcmp(r->cell.strategy, like->cell.strategy) && r->latency.count)
			v[n++] = *(const double *)((const char *)&r->latency + field);
	}
	double m = n ? stats_median(v, n) : NAN;

	free(v);
	return m;
}

/* Echo round trips per cell: the median over reps of each percentile. */
static void print_echo_latency(const struct session *s, FILE *out)
{
	bool header = false;

	for (size_t i = 0; i < s->nall; i++) {
		const struct rep_result *r = &s->all[i];
		bool first = true;

		if (r->cell.scenario != SC_ECHO || !r->latency.count)
			continue;
		for (size_t j = 0; j < i && first; j++)
			first = !(s->all[j].cell.scenario == SC_ECHO && s->all[j].cell.block == r->cell.block &&
				  s->all[j].cell.outstanding == r->cell.outstanding &&
				  !strcmp(s->all[j].cell.strategy, r->cell.strategy));
		if (!first)
			continue;
		if (!header) {
			fprintf(out, "\nEcho round trips (µs; every round trip timed; median over the reps):\n"
				"  %-10s %8s %11s %8s %8s %8s %9s\n", "strategy", "message", "outstanding",
				"p50", "p99", "p99.9", "max");
			header = true;
		}
		fprintf(out, "  %-10s %8zu %11u %8.1f %8.1f %8.1f %9.1f\n", r->cell.strategy, r->cell.block,
			r->cell.outstanding,
			echo_median(s, r, offsetof(struct latency_summary, p50_us)),
			echo_median(s, r, offsetof(struct latency_summary, p99_us)),
			echo_median(s, r, offsetof(struct latency_summary, p999_us)),
			echo_median(s, r, offsetof(struct latency_summary, max_us)));
	}
}

/* Median of a figure over the reps of one (scenario, transport, size, strategy) cell. */
static double point_median(const struct session *s, enum scenario sc, const char *tr, uint64_t bytes,
			   const char *label, bool cpu_per_gib)
{
	double *v = calloc(s->nall ? s->nall : 1, sizeof(*v));
	size_t n = 0;

	for (size_t i = 0; v && i < s->nall; i++) {
		const struct rep_result *r = &s->all[i];

		if (r->cell.scenario != sc || strcmp(r->cell.transport, tr) || r->cell.bytes != bytes ||
		    strcmp(r->cell.strategy, label) || strcmp(r->cell.cache, "warm"))
			continue;
		v[n++] = cpu_per_gib ? (r->roles[0].cpu_user_s + r->roles[0].cpu_sys_s) /
				       (r->cell.bytes / (double)(1ull << 30)) : r->bytes_per_s;
	}
	double m = n ? stats_median(v, n) : NAN;

	free(v);
	return m;
}

static void print_veth_comparison(const struct session *s, FILE *out)
{
	static const char *const labels[] = { "readwrite", "sendfile", "splice" };
	uint64_t bytes = 0;

	for (size_t i = 0; i < s->nall && !bytes; i++)
		if (!strcmp(s->all[i].cell.transport, "veth"))
			bytes = s->all[i].cell.bytes;
	if (!bytes)
		return;
	fprintf(out, "\nLoopback vs veth (%.0f MiB, medians; veth/tcp ratios; CPU of the role under test):\n"
		"  %-6s %-10s %9s %9s %6s %10s %10s %6s\n", bytes / 1048576.0, "", "", "tcp MB/s",
		"veth MB/s", "ratio", "tcp s/GiB", "veth s/GiB", "ratio");
	for (int sc = SC_SERVE; sc <= SC_RELAY; sc += SC_RELAY - SC_SERVE)
		for (size_t k = 0; k < 3; k++) {
			double t = point_median(s, sc, "tcp", bytes, labels[k], false);
			double v = point_median(s, sc, "veth", bytes, labels[k], false);
			double tc = point_median(s, sc, "tcp", bytes, labels[k], true);
			double vc = point_median(s, sc, "veth", bytes, labels[k], true);

			if (isnan(t) || isnan(v))
				continue;
			fprintf(out, "  %-6s %-10s %9.0f %9.0f %6.2f %10.3f %10.3f %6.2f\n", scenario_name(sc),
				labels[k], t / 1e6, v / 1e6, v / t, tc, vc, vc / tc);
		}
}

/* One figure of a rep, or NAN when the rep does not have it. */
typedef double (*rep_figure)(const struct rep_result *r);

static double gib_of(const struct rep_result *r)
{
	return r->cell.bytes / (double)(1ull << 30);
}

/* CPU per GiB of the role under test; NAN when no process played it (nat). */
static double fig_tested_cpu(const struct rep_result *r)
{
	for (int i = 0; i < r->nroles; i++)
		if (r->roles[i].under_test)
			return (r->roles[i].cpu_user_s + r->roles[i].cpu_sys_s) / gib_of(r);
	return NAN;
}

/* The whole machine's busy CPU per GiB: softirq and kworkers included (sysstat.c). */
static double fig_system_cpu(const struct rep_result *r)
{
	return r->system_cpu.have ? system_cpu_busy(&r->system_cpu) / gib_of(r) : NAN;
}

static double fig_throughput(const struct rep_result *r)
{
	return r->bytes_per_s;
}

/* Share of zero-copy sends the kernel did not copy after all. */
static double fig_zc_share(const struct rep_result *r)
{
	return r->zc.reported && r->zc.completions ? 1.0 - (double)r->zc.copied / r->zc.completions : NAN;
}

static double fig_zc_completions(const struct rep_result *r)
{
	return r->zc.reported ? (double)r->zc.completions : NAN;
}

/*
 * Median of a figure over the warm counted reps of one (scenario,
 * transport, strategy) cell, with --pipe-size PIPE asked (0: the default).
 */
static double figure_median_pipe(const struct session *s, enum scenario sc, const char *tr, const char *label,
				 size_t pipe, rep_figure fig)
{
	double *v = calloc(s->nall ? s->nall : 1, sizeof(*v));
	size_t n = 0;

	for (size_t i = 0; v && i < s->nall; i++) {
		const struct rep_result *r = &s->all[i];
		double x;

		if (r->cell.scenario != sc || strcmp(r->cell.transport, tr) || strcmp(r->cell.strategy, label) ||
		    strcmp(r->cell.cache, "warm") || r->cell.pipe_asked != pipe || r->cell.bytes == 0 ||
		    isnan(x = fig(r)))
			continue;
		v[n++] = x;
	}
	double m = n ? stats_median(v, n) : NAN;

	free(v);
	return m;
}

/* The same, at the kernel's default pipe size. */
static double figure_median(const struct session *s, enum scenario sc, const char *tr, const char *label,
			    rep_figure fig)
{
	return figure_median_pipe(s, sc, tr, label, 0, fig);
}

/* The strategies of a (scenario, transport) point, in first-seen order. */
static int point_labels(const struct session *s, enum scenario sc, const char *tr, const char *labels[MAX_SPECS])
{
	int n = 0;

	for (size_t i = 0; i < s->nall; i++) {
		const struct rep_result *r = &s->all[i];
		bool seen = false;

		if (r->cell.scenario != sc || strcmp(r->cell.transport, tr))
			continue;
		for (int k = 0; k < n && !seen; k++)
			seen = !strcmp(labels[k], r->cell.strategy);
		if (!seen && n < MAX_SPECS)
			labels[n++] = r->cell.strategy;
	}
	return n;
}

/*
 * The relay floor: every relay strategy over the routed path, nat among
 * them.  nat has no relay process, so the comparison is the whole
 * machine's busy CPU per GiB (what the kernel's forwarding costs is only
 * there); the process relays' own CPU is beside it.  All on one path, so
 * the router's forwarding and both veth links are in every cell alike.
 */
/*
 * CPUs the rest of the machine kept busy just before the routed group
 * (one second with nothing of ours running): system-wide figures include
 * that load, so on a shared machine they are read against it.
 */
static double background_busy_cpus = NAN;

static void measure_background(void)
{
	struct system_cpu a, b, d;
	struct timespec one = { .tv_sec = 1 };

	if (system_cpu_read(&a, NULL))
		return;
	nanosleep(&one, NULL);
	if (system_cpu_read(&b, NULL))
		return;
	d = system_cpu_delta(&a, &b);
	if (d.have)
		background_busy_cpus = system_cpu_busy(&d) / 1.0;
}

static void print_relay_floor(const struct session *s, FILE *out)
{
	const char *labels[MAX_SPECS];
	int n = point_labels(s, SC_RELAY, "routed", labels);
	double nat_sys = figure_median(s, SC_RELAY, "routed", "nat", fig_system_cpu);

	if (n == 0)
		return;
	fprintf(out, "\nRelay over routed (A | router | B; the relay in the router namespace, nat's DNAT there;\n"
		"medians; system = whole-machine busy CPU per GiB, /proc/stat):\n"
		"  %-14s %9s %14s %14s %12s\n", "strategy", "MB/s", "relay s/GiB", "system s/GiB", "system/nat");
	for (int k = 0; k < n; k++) {
		double bps = figure_median(s, SC_RELAY, "routed", labels[k], fig_throughput);
		double own = figure_median(s, SC_RELAY, "routed", labels[k], fig_tested_cpu);
		double sys = figure_median(s, SC_RELAY, "routed", labels[k], fig_system_cpu);
		char own_s[24], ratio_s[24];

		if (isnan(own))
			snprintf(own_s, sizeof(own_s), "no process");
		else
			snprintf(own_s, sizeof(own_s), "%.3f", own);
		if (nat_sys > 0 && !isnan(sys))
			snprintf(ratio_s, sizeof(ratio_s), "%.2fx", sys / nat_sys);
		else
			snprintf(ratio_s, sizeof(ratio_s), "-");
		fprintf(out, "  %-14s %9.0f %14s %14.3f %12s\n", labels[k], bps / 1e6, own_s, sys, ratio_s);
	}
	if (isnan(nat_sys))
		fprintf(out, "  (no nat figure: nat needs root and nft; see its errors above)\n");
	if (!isnan(background_busy_cpus))
		fprintf(out, "  background: %.2f of %ld CPUs were busy in the second before this group, with nothing of\n"
			"  copylab's running; the system figures include such load (idle machine: near 0)\n",
			background_busy_cpus, sysconf(_SC_NPROCESSORS_ONLN));
	if (background_busy_cpus > 0.25 * sysconf(_SC_NPROCESSORS_ONLN))
		fprintf(out, "  so here the system-wide ratios mostly measure the other load: rerun on an idle machine\n");
}

/*
 * Zero-copy sends over veth, 64 KiB per send: the sender's CPU against
 * readwrite's, and how many of the sends the kernel really did not copy
 * (toward a local socket it copies: NOTES).
 */
static void print_send_zerocopy(const struct session *s, FILE *out)
{
	static const char *const labels[] = { "readwrite", "msg_zerocopy", "uring_send_zc" };
	double rw = figure_median(s, SC_SEND, "veth", "readwrite", fig_tested_cpu);
	bool header = false;

	for (size_t k = 0; k < sizeof(labels) / sizeof(labels[0]); k++) {
		double bps = figure_median(s, SC_SEND, "veth", labels[k], fig_throughput);
		double cpu = figure_median(s, SC_SEND, "veth", labels[k], fig_tested_cpu);
		double share = figure_median(s, SC_SEND, "veth", labels[k], fig_zc_share);
		double comps = figure_median(s, SC_SEND, "veth", labels[k], fig_zc_completions);
		char ratio[24], sh[48];

		if (isnan(bps))
			continue;
		if (!header) {
			fprintf(out, "\nSend over veth, 64 KiB sends (medians; sender CPU per GiB against readwrite's):\n"
				"  %-14s %9s %12s %12s %s\n", "strategy", "MB/s", "sender s/GiB", "x readwrite",
				"sends not copied");
			header = true;
		}
		snprintf(ratio, sizeof(ratio), rw > 0 && !isnan(cpu) ? "%.2fx" : "-", cpu / rw);
		if (isnan(share))
			snprintf(sh, sizeof(sh), "- (not a zero-copy send)");
		else
			snprintf(sh, sizeof(sh), "%.1f%% of %.0f completions", 100 * share, comps);
		fprintf(out, "  %-14s %9.0f %12.3f %12s %s\n", labels[k], bps / 1e6, cpu, ratio, sh);
	}
}

#define ZCRECV_BENCH_BLOCK ((size_t)1 << 20)

/* The counted rep of a store-over-lo-ns cell of one strategy and rep number; NULL if none. */
static const struct rep_result *lons_store_rep(const struct session *s, const char *label, size_t block,
					       int rep)
{
	for (size_t i = 0; i < s->nall; i++) {
		const struct rep_result *r = &s->all[i];

		if (r->cell.scenario == SC_STORE && !strcmp(r->cell.transport, "lo-ns") &&
		    !strcmp(r->cell.strategy, label) && r->cell.block == block && r->rep == rep)
			return r;
	}
	return NULL;
}

static double receiver_cpu_per_gib(const struct rep_result *r)
{
	return (r->roles[0].cpu_user_s + r->roles[0].cpu_sys_s) / (r->cell.bytes / (double)(1ull << 30));
}

/*
 * Issue 12's goal for zero-copy receive: the receiver's CPU per GiB at
 * most 1.0x readwrite's on the same lo-ns link and the same MSG_ZEROCOPY
 * sender, with 99% or more of the bytes mapped.  Paired rep by rep, per
 * block size: readwrite reads one block per call while zerocopy_recv maps
 * all that is queued, so the block decides how many more calls readwrite
 * makes.
 */
static void print_zcrecv_block(const struct session *s, size_t block, FILE *out)
{
	double ratio[64], share[64], zc[64], rw[64];
	size_t n = 0;

	for (int rep = 1; rep <= 64; rep++) {
		const struct rep_result *z = lons_store_rep(s, "zerocopy_recv", block, rep);
		const struct rep_result *b = lons_store_rep(s, "readwrite", block, rep);
		uint64_t all;

		if (!z || !b || !z->zcr.reported || receiver_cpu_per_gib(b) <= 0)
			continue;
		all = z->zcr.bytes_mapped + z->zcr.bytes_copybuf + z->zcr.bytes_read;
		zc[n] = receiver_cpu_per_gib(z);
		rw[n] = receiver_cpu_per_gib(b);
		ratio[n] = zc[n] / rw[n];
		share[n] = all ? (double)z->zcr.bytes_mapped / (double)all : 0;
		n++;
	}
	if (!n)
		return;
	double med = stats_median(ratio, n), mapped = stats_median(share, n);

	fprintf(out, "  block %4zu KiB: zerocopy_recv %.3f s / readwrite %.3f s = %.2fx (paired median of %zu;"
		" min %.2f, max %.2f), %.1f%% of bytes mapped; goal (at most 1.0x at >= 99%% mapped): %s\n",
		block >> 10, stats_median(zc, n), stats_median(rw, n), med, n,
		stats_min(ratio, n), stats_max(ratio, n), 100 * mapped,
		med <= 1.0 && mapped >= 0.99 ? "met" : "not met");
}

static void print_zcrecv_comparison(const struct session *s, FILE *out)
{
	const struct rep_result *any = NULL;

	for (size_t i = 0; i < s->nall && !any; i++)
		if (s->all[i].cell.scenario == SC_STORE && !strcmp(s->all[i].cell.transport, "lo-ns"))
			any = &s->all[i];
	if (!any)
		return;
	fprintf(out, "\nZero-copy receive (store over lo-ns, %.0f MiB, one MSG_ZEROCOPY fixed sender for both;"
		" receiver CPU per GiB, paired rep by rep):\n", any->cell.bytes / 1048576.0);
	print_zcrecv_block(s, DEFAULT_BLOCK, out);
	print_zcrecv_block(s, ZCRECV_BENCH_BLOCK, out);
}

/*
 * The pipe scenario at each pipe size asked beside the default: at 64 KiB
 * the reader is woken once a chunk, so both strategies wait on the
 * wake-up; a bigger pipe shows the copy vmsplice saves.
 */
static void print_pipe_sizes(const struct session *s, FILE *out)
{
	for (size_t i = 0; i < s->nall; i++) {
		const struct rep_result *r = &s->all[i];
		size_t pipe = r->cell.pipe_asked;
		bool first = true;
		char asked[32];

		if (r->cell.scenario != SC_PIPE || !pipe)
			continue;
		for (size_t j = 0; j < i && first; j++)
			first = !(s->all[j].cell.scenario == SC_PIPE && s->all[j].cell.pipe_asked == pipe);
		if (!first)
			continue;
		double rw = figure_median_pipe(s, SC_PIPE, "none", "readwrite", pipe, fig_throughput);
		double vm = figure_median_pipe(s, SC_PIPE, "none", "vmsplice", pipe, fig_throughput);

		char granted[32];

		/* What F_SETPIPE_SZ gave the scenario's pipe: pipe-max-size may have refused the size asked. */
		human_bytes(r->pipe_granted, granted, sizeof(granted));
		if (rw > 0 && vm > 0)
			fprintf(out, "  pipe throughput, --pipe-size %s (granted %s): "
				"vmsplice %.0f MB/s / readwrite %.0f MB/s = %.2fx (higher is better)\n",
				human_bytes(pipe, asked, sizeof(asked)), r->pipe_granted ? granted : "?",
				vm / 1e6, rw / 1e6, vm / rw);
	}
}

static void print_headline(const struct session *s, FILE *out)
{
	/* Each figure from one transport's cells: the bench also runs relay over veth and routed. */
	double rw_cpu = figure_median(s, SC_RELAY, "tcp", "readwrite", fig_tested_cpu);
	double sp_cpu = figure_median(s, SC_RELAY, "tcp", "splice", fig_tested_cpu);
	double rw_pipe = figure_median(s, SC_PIPE, "none", "readwrite", fig_throughput);
	double vm_pipe = figure_median(s, SC_PIPE, "none", "vmsplice", fig_throughput);

	fprintf(out, "\nHeadline ratios (medians of this run):\n");
	if (rw_cpu > 0 && sp_cpu >= 0)
		fprintf(out, "  relay over tcp, relay-role CPU per GiB: splice %.3f s / readwrite %.3f s = %.2fx (lower is better)\n",
			sp_cpu, rw_cpu, sp_cpu / rw_cpu);
	if (rw_pipe > 0 && vm_pipe > 0)
		fprintf(out, "  pipe throughput: vmsplice %.0f MB/s / readwrite %.0f MB/s = %.2fx (higher is better)\n",
			vm_pipe / 1e6, rw_pipe / 1e6, vm_pipe / rw_pipe);
	print_pipe_sizes(s, out);
	{
		double sm = figure_median(s, SC_RELAY, "tcp", "sockmap", fig_tested_cpu);
		double sp = figure_median(s, SC_RELAY, "tcp", "splice", fig_tested_cpu);
		double sms = figure_median(s, SC_RELAY, "tcp", "sockmap", fig_system_cpu);
		double sps = figure_median(s, SC_RELAY, "tcp", "splice", fig_system_cpu);

		if (sp > 0 && !isnan(sm))
			fprintf(out, "  relay over tcp, relay-role CPU per GiB: sockmap %.3f s / splice %.3f s = %.2fx; "
				"system-wide %.3f s / %.3f s = %.2fx (NOTES: sockmap's work lands in softirq)\n",
				sm, sp, sm / sp, sms, sps, sps > 0 ? sms / sps : NAN);
	}
	print_echo_latency(s, out);
	print_veth_comparison(s, out);
	print_relay_floor(s, out);
	print_send_zerocopy(s, out);
	print_zcrecv_comparison(s, out);
}

/*
 * What the instruments cost: the relay cell with BPF and perf on, and with
 * both off (the BPF programs detached, so no syscall pays for them),
 * alternating on/off and off/on rep by rep so drift hits both alike.
 * Written to probe-cost.json beside the records, not into them: these reps
 * are not the matrix's.
 */
static void bench_probe_cost(struct session *s, const struct group *relay, FILE *out)
{
	static const char *const labels[] = { "readwrite", "splice" };
	enum { NS = 2, MAXR = 32 };
	double thr[NS][2][MAXR];
	struct run_inputs in;
	struct group g = *relay;
	struct rep_result r;
	char err[320], path[PATH_MAX];
	int reps = s->reps < MAXR ? s->reps : MAXR;
	json_t *doc = json_object(), *cells = json_array();

	g.cfg.workdir = s->workdir;
	if (run_inputs_prepare(&in, &g.cfg, err, sizeof(err))) {
		fprintf(stderr, "copylab: probe cost: %s\n", err);
		json_decref(doc);
		json_decref(cells);
		return;
	}
	fprintf(out, "\nProbe cost (relay over tcp, %.0f MiB, %d paired reps; BPF ledger + perf on vs off):\n",
		g.cfg.size / 1048576.0, reps);
	for (int i = 0; i < NS; i++) {
		struct strategy_spec spec;
		double ratio[MAXR];
		size_t nr = 0;
		bool ok = true;

		parse_strategy_spec(labels[i], &spec, err, sizeof(err));
		for (int rep = 0; rep <= reps && ok && !run_interrupted; rep++) {
			for (int k = 0; k < 2 && ok; k++) {
				bool on = (k + rep) % 2 == 0;

				if (on && !s->ledger)
					ledger_open(&s->ledger, err, sizeof(err));
				if (!on && s->ledger) {
					ledger_close(s->ledger);
					s->ledger = NULL;
				}
				g.cfg.ledger = s->ledger;
				g.cfg.no_perf = !on;
				if (run_rep(&g.cfg, &spec, &in, rep, &r)) {
					fprintf(stderr, "copylab: probe cost: %s\n", r.error);
					ok = false;
				} else if (rep > 0) {
					thr[i][on][rep - 1] = r.bytes_per_s;
				}
			}
		}
		if (!ok)
			continue;
		json_t *on_a = json_array(), *off_a = json_array();

		for (int rep = 0; rep < reps; rep++) {
			ratio[nr++] = thr[i][1][rep] / thr[i][0][rep];
			json_array_append_new(on_a, json_real(thr[i][1][rep]));
			json_array_append_new(off_a, json_real(thr[i][0][rep]));
		}
		double med = stats_median(ratio, nr);

		fprintf(out, "  %-9s instrumented / bare throughput = %.3fx (paired median; min %.3f, max %.3f)\n",
			labels[i], med, stats_min(ratio, nr), stats_max(ratio, nr));
		json_array_append_new(cells, json_pack("{s:s, s:o, s:o, s:f, s:f, s:f}", "strategy", labels[i],
			"instrumented_bytes_per_s", on_a, "bare_bytes_per_s", off_a,
			"ratio_median", med, "ratio_min", stats_min(ratio, nr), "ratio_max", stats_max(ratio, nr)));
	}
	if (!s->ledger)
		ledger_open(&s->ledger, err, sizeof(err));
	run_inputs_release(&in);
	json_object_set_new(doc, "schema", json_string("copylab.probe-cost/1"));
	json_object_set_new(doc, "scenario", json_string("relay"));
	json_object_set_new(doc, "bytes", json_integer((json_int_t)g.cfg.size));
	json_object_set_new(doc, "cells", cells);
	char *text = json_dumps(doc, JSON_INDENT(2) | JSON_REAL_PRECISION(15));

	snprintf(path, sizeof(path), "%s/probe-cost.json", results_dir(s->res));
	if (!text || write_file_atomic(path, text, strlen(text)))
		fprintf(stderr, "copylab: cannot write %s\n", path);
	free(text);
	json_decref(doc);
}

/*
 * The bench's next group: LIST's strategies for one scenario over one
 * transport, SIZE bytes a rep (--size or the quick run's 64 MiB win),
 * counted into the session's total.  NULL, with nothing added, when none
 * of LIST can run there.
 */
static struct group *bench_group_add(struct group *groups, int *ngroups, struct session *s,
				     const struct parsed *p, const char *list, enum scenario sc,
				     enum transport tr, uint64_t size, size_t block)
{
	struct group *g = &groups[*ngroups];

	memset(g, 0, sizeof(*g));
	parse_strategy_list(list, sc, tr, g);
	if (g->nspecs == 0)
		return NULL;
	g->cfg = p->cfg;
	g->cfg.scenario = sc;
	g->cfg.transport = tr;
	g->cfg.size = p->size_set ? p->size : p->quick ? 64ull << 20 : size;
	g->cfg.block = block;
	parse_pin(p->pin, sc, g->cfg.pin);
	s->cells_total += (s->reps + s->warmup) * g->nspecs;
	(*ngroups)++;
	return g;
}

/*
 * The bench's second pipe size: 1 MiB, or pipe-max-size where that is
 * smaller (an unprivileged F_SETPIPE_SZ cannot pass it).  Where the kernel
 * still grants less, the records' pipe_size says what the pipe was.
 */
#define BENCH_PIPE_SIZE (1ul << 20)

static size_t bench_pipe_size(void)
{
	FILE *f = fopen("/proc/sys/fs/pipe-max-size", "re");
	unsigned long max = 0;

	if (f) {
		if (fscanf(f, "%lu", &max) != 1)
			max = 0;
		fclose(f);
	}
	return max && max < BENCH_PIPE_SIZE ? max : BENCH_PIPE_SIZE;
}

int cmd_bench(int argc, char **argv)
{
	struct parsed p;
	struct session s = { 0 };
	struct group groups[3 * SC_COUNT + 6];
	char err[320];
	int r, ngroups = 0, failed = 0;

	if ((r = parse_common(argc, argv, "bench", true, &p)))
		return r;
	if (p.help) {
		fputs(bench_help, stdout);
		return 0;
	}
	s.reps = p.reps_set ? p.reps : (p.quick ? 2 : 5);
	s.warmup = 1;
	for (int sc = 0; sc < SC_COUNT; sc++) {
		/*
		 * 256 MiB per socket cell, 1 GiB where a cell moves faster than
		 * 2 GB/s here (copy, pipe): each rep lasts long enough to measure,
		 * and the whole matrix stays within minutes.
		 */
		uint64_t size = (sc == SC_COPY || sc == SC_PIPE) ? 1ull << 30 : 256ull << 20;
		struct group *g = bench_group_add(groups, &ngroups, &s, &p, "all", sc, TR_TCP, size, DEFAULT_BLOCK);

		if (!g)
			continue;
		/* Gifting is the one flag the articles make a claim about: bench it beside. */
		if (strategy_supports(strategy_find("vmsplice"), sc) && g->nspecs < MAX_SPECS &&
		    parse_strategy_spec("vmsplice:gift", &g->spec[g->nspecs], err, sizeof(err)) == 0) {
			g->nspecs++;
			s.cells_total += s.reps + s.warmup;
		}
		/*
		 * Echo is a latency workload: request/response and 8 in flight, at
		 * four message sizes, each cell timing every one of its round trips.
		 */
		if (sc == SC_ECHO) {
			static const size_t msg[] = { 64, 1024, 16384, 65536 };
			struct group proto = *g;

			ngroups--;
			s.cells_total -= (s.reps + s.warmup) * g->nspecs;
			for (size_t m = 0; m < sizeof(msg) / sizeof(msg[0]); m++)
				for (unsigned o = 1; o <= 8; o += 7) {
					struct group *e = &groups[ngroups++];
					uint64_t msgs = p.quick ? 2000 : 20000;

					*e = proto;
					e->cfg.block = msg[m];
					e->cfg.outstanding = o;
					if (msgs * msg[m] > (256ull << 20))
						msgs = (256ull << 20) / msg[m];
					e->cfg.size = msgs * msg[m];
					s.cells_total += (s.reps + s.warmup) * e->nspecs;
				}
			continue;
		}
		/*
		 * The pipe at the kernel's default 64 KiB and at 1 MiB: at 64 KiB
		 * the reader is woken once a chunk, and that cross-core wake-up,
		 * not the copy, is what the writer waits for; a bigger pipe
		 * shows what vmsplice saves once it is not.
		 */
		if (sc == SC_PIPE) {
			groups[ngroups] = *g;
			groups[ngroups].cfg.pipe_size = bench_pipe_size();
			s.cells_total += (s.reps + s.warmup) * g->nspecs;
			ngroups++;
		}
		/* A file read from the disk is another workload than one in memory: both. */
		if (scenario_def(sc)->in == EP_FILE) {
			groups[ngroups] = *g;
			groups[ngroups].cfg.cache_cold = true;
			s.cells_total += (s.reps + s.warmup) * g->nspecs;
			ngroups++;
		}
	}
	/*
	 * Loopback against a NIC-like path: serve and relay with readwrite,
	 * sendfile and splice over tcp and veth, same size, side by side.
	 * Only where copylab can make the veth link (root, namespaces).
	 */
	struct link_config veth_cfg = { 0 };
	char veth_err[256];
	bool veth = link_create(&veth_cfg, veth_err, sizeof(veth_err)) == 0;

	if (!veth)
		fprintf(stderr, "copylab: bench: no loopback vs veth comparison: %s\n", veth_err);
	/* The tcp side is the matrix's own serve and relay cells, of the same size. */
	if (veth) {
		bench_group_add(groups, &ngroups, &s, &p, "readwrite,sendfile,splice", SC_SERVE, TR_VETH,
				256ull << 20, DEFAULT_BLOCK);
		bench_group_add(groups, &ngroups, &s, &p, "readwrite,splice", SC_RELAY, TR_VETH,
				256ull << 20, DEFAULT_BLOCK);
	}
	/*
	 * Zero-copy sends on a NIC-like path: readwrite, msg_zerocopy and
	 * uring_send_zc over veth with 64 KiB sends, side by side.
	 */
	if (veth) {
		char list[128];

		snprintf(list, sizeof(list), "readwrite%s%s",
			 refusal_here("msg_zerocopy", SC_SEND, TR_VETH) ? "" : ",msg_zerocopy",
			 refusal_here("uring_send_zc", SC_SEND, TR_VETH) ? "" : ",uring_send_zc");
		bench_group_add(groups, &ngroups, &s, &p, list, SC_SEND, TR_VETH, 256ull << 20, DEFAULT_BLOCK);
	}
	/*
	 * The relay floor: every relay strategy, nat among them, on the one
	 * path where nat can run (routed: a router namespace between two veth
	 * links; NOTES: PREROUTING DNAT does not act on loopback).
	 */
	struct link_config routed_cfg = { .routed = true };
	char routed_err[256];
	bool routed = link_create(&routed_cfg, routed_err, sizeof(routed_err)) == 0;

	if (!routed)
		fprintf(stderr, "copylab: bench: no relay-vs-nat comparison: %s\n", routed_err);
	if (routed) {
		if (refusal_here("nat", SC_RELAY, TR_ROUTED))
			fprintf(stderr, "copylab: bench: relay over routed without nat: %s\n",
				refusal_here("nat", SC_RELAY, TR_ROUTED));
		bench_group_add(groups, &ngroups, &s, &p, "all", SC_RELAY, TR_ROUTED, 256ull << 20, DEFAULT_BLOCK);
	}
	/*
	 * Zero-copy receive against readwrite's receive: store over lo-ns, the
	 * same link and the same MSG_ZEROCOPY sender for both.
	 */
	char lons_err[256];

	/* At the default block and at 1 MiB, where readwrite makes as few calls. */
	for (int k = 0; k < 2 && lons_create(lons_err, sizeof(lons_err)) == 0; k++)
		bench_group_add(groups, &ngroups, &s, &p, "readwrite,zerocopy_recv", SC_STORE, TR_LONS,
				256ull << 20, k ? ZCRECV_BENCH_BLOCK : DEFAULT_BLOCK);
	if (!lons_netns_name()) {
		fprintf(stderr, "copylab: bench: no zero-copy receive comparison: %s\n", lons_err);
	}
	if (p.quick)
		fprintf(stderr, "copylab: --quick is a smoke run (64 MiB, 2 reps): its figures are not for quoting\n");
	if ((r = session_ledger(&s, p.no_bpf, p.require_bpf)) ||
	    (r = session_tracer(&s, p.tracer, p.no_tracer)))
		return r;
	for (int i = 0; i < ngroups; i++) {
		/* A fault that does not apply to a scenario leaves its cells alone. */
		if (fault_check(&groups[i].cfg.fault, groups[i].cfg.scenario, false, err, sizeof(err))) {
			memset(&groups[i].cfg.fault, 0, sizeof(groups[i].cfg.fault));
			groups[i].cfg.sink_close_at = UINT64_MAX;
		}
		groups[i].cfg.ledger = s.ledger;
		groups[i].cfg.bpf_note = s.bpf_note;
		groups[i].cfg.tracer = s.tracer;
		groups[i].cfg.tracer_note = s.tracer_note;
	}
	if (veth)
		results_env_extra("transport_veth", transport_facts(TR_VETH, NULL));
	if (routed)
		results_env_extra("transport_routed", transport_facts(TR_ROUTED, NULL));
	if ((r = session_open(&s, p.out, p.workdir))) {
		if (s.ledger)
			ledger_close(s.ledger);
		return r;
	}
	s.keep_going = true;
	for (int i = 0; i < ngroups && !run_interrupted; i++) {
		if (groups[i].cfg.transport == TR_ROUTED && groups[i].cfg.scenario == SC_RELAY)
			measure_background();
		if (run_group(&s, &groups[i]))
			failed++;	/* the bench goes on with the next cell */
	}
	/* The probe-cost lines wait for the table, so the headline figures end the output. */
	char *probe_text = NULL;
	size_t probe_len = 0;
	FILE *probe_out = open_memstream(&probe_text, &probe_len);

	/* Once, on the matrix's relay cell (the first relay group, over tcp). */
	for (int i = 0; i < ngroups && !run_interrupted && probe_out; i++)
		if (groups[i].cfg.scenario == SC_RELAY && groups[i].cfg.transport == TR_TCP && s.ledger &&
		    groups[i].cfg.fault.kind == FAULT_NONE) {
			bench_probe_cost(&s, &groups[i], probe_out);
			break;
		}
	if (probe_out)
		fclose(probe_out);
	results_print_table(s.res, stdout);
	print_headline(&s, stdout);
	if (probe_text)
		fputs(probe_text, stdout);
	free(probe_text);
	session_close(&s, NULL);
	if (failed || run_interrupted) {
		fprintf(stderr, "copylab: %d of %d scenario groups failed (%d cells); the others ran to their end\n",
			failed, ngroups, s.cells_failed);
		return EXIT_RUN_FAILED;
	}
	return 0;
}
