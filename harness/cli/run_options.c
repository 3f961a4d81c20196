/* SPDX-License-Identifier: MIT */
/*
 * Parsing the options copylab run and bench share: the getopt table, the
 * values each takes (--fault, --pin, --sweep, --strategy) and the checks
 * --conns needs against the rest.
 */
#include "run_options.h"
#include "harness/measure/tracer_link.h"
#include "cli.h"
#include "harness/model/options.h"
#include "harness/model/scenario.h"
#include "harness/engine/remote.h"
#include "harness/engine/verify.h"
#include "harness/results/series.h"

#include <errno.h>
#include <getopt.h>
#include <linux/magic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#define DEFAULT_SIZE (64ull << 20)
#define GIB 1073741824.0

enum {
	OPT_SCENARIO = 256, OPT_STRATEGY, OPT_TRANSPORT, OPT_SIZE, OPT_BLOCK, OPT_REPS,
	OPT_WARMUP, OPT_OUT, OPT_JSON, OPT_NONBLOCK, OPT_SNDBUF, OPT_RCVBUF, OPT_PIPE_SIZE,
	OPT_SINK, OPT_FAULT, OPT_TIMEOUT, OPT_WORKDIR, OPT_QUICK, OPT_HELP,
	OPT_NO_BPF, OPT_REQUIRE_BPF, OPT_NO_PERF, OPT_TRACER, OPT_NO_TRACER, OPT_PROFILE,
	OPT_PIN, OPT_CACHE, OPT_SWEEP, OPT_OUTSTANDING, OPT_RPS, OPT_CONNS, OPT_REQUEST, OPT_RESPONSE,
	OPT_MTU, OPT_OFFLOAD, OPT_RATE, OPT_DELAY, OPT_PEER, OPT_KEY, OPT_TIME, OPT_INTERVAL,
};

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
	{ "key", required_argument, NULL, OPT_KEY },
	{ "pin", required_argument, NULL, OPT_PIN },
	{ "cache", required_argument, NULL, OPT_CACHE },
	{ "sweep", required_argument, NULL, OPT_SWEEP },
	{ "outstanding", required_argument, NULL, OPT_OUTSTANDING },
	{ "rps", required_argument, NULL, OPT_RPS },
	{ "request", required_argument, NULL, OPT_REQUEST },
	{ "response", required_argument, NULL, OPT_RESPONSE },
	{ "conns", required_argument, NULL, OPT_CONNS },
	{ "time", required_argument, NULL, OPT_TIME },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "help", no_argument, NULL, OPT_HELP },
	{ 0 }
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

/* MemAvailable now; false when /proc/meminfo cannot say, and then nothing is refused. */
static bool mem_available(uint64_t *bytes)
{
	char text[8192];
	FILE *f = fopen("/proc/meminfo", "re");
	size_t n;

	if (!f)
		return false;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	return parse_meminfo_available(text, bytes) == 0;
}

/*
 * The largest payload of the run: --size, or the top of --sweep size=A..B
 * (parse_sweep judges the rest); *swept says which.
 */
static uint64_t largest_size(const struct parsed *p, bool *swept)
{
	const char *dots = p->sweep && !strncmp(p->sweep, "size=", 5) ? strstr(p->sweep, "..") : NULL;
	char err[320];
	uint64_t hi;

	*swept = dots && parse_size("--sweep", dots + 2, 1ull << 40, &hi, err, sizeof(err)) == 0;
	return *swept ? hi : p->size;
}

/*
 * --size against the memory the run will hold, before anything is made:
 * past MemAvailable the OOM killer ends the run (exit 137) after the
 * scratch and the results directory exist.  A group holds its payload
 * (one shared anonymous mapping of every byte, a page more for tests'
 * duplicated block: harness/engine/pattern.c) and the chunk hashes of it
 * (and of each connection's slice with --conns); on a tmpfs workdir the
 * source file and the output file are memory too.  Bench is judged as
 * copy, its one scenario with both files, and only for a --size given.
 * 0 or EXIT_USAGE.
 */
static int check_memory(const struct parsed *p, bool bench)
{
	int sc = bench ? SC_COPY : p->scenario ? scenario_find(p->scenario) : -1;
	bool swept;
	uint64_t size = largest_size(p, &swept), avail, need, page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t hashes = (size + VERIFY_CHUNK - 1) / VERIFY_CHUNK * sizeof(uint64_t);
	const struct scenario_def *d = sc >= 0 ? scenario_def(sc) : NULL;
	struct statfs fs;
	bool tmpfs, in_file, out_file;
	char what[160];

	if ((bench && !p->size_set) || !mem_available(&avail))
		return 0;
	need = (size + page - 1) / page * page + 4096 + hashes * (p->cfg.conns > 1 ? 2 : 1);
	tmpfs = statfs(p->workdir ? p->workdir : "/var/tmp", &fs) == 0 &&
		(fs.f_type == TMPFS_MAGIC || fs.f_type == RAMFS_MAGIC);
	in_file = tmpfs && d && d->in == EP_FILE;
	out_file = tmpfs && d && (d->out == EP_FILE || d->out2_file);
	need += (in_file + out_file) * size;
	if (need <= avail)
		return 0;
	snprintf(what, sizeof(what), "the payload, generated once and shared by the roles, and its chunk hashes%s%s%s",
		 in_file || out_file ? "; on the tmpfs workdir " : "", in_file ? "the source file" : "",
		 in_file && out_file ? " and the output file" : out_file ? "the output file" : "");
	if (swept)
		return usage_error("--sweep %s: its largest size holds about %.1f GiB in memory (%s) and MemAvailable is %.1f GiB; sweep to a smaller size",
				   p->sweep, need / GIB, what, avail / GIB);
	return usage_error("--size %s: this run holds about %.1f GiB in memory (%s) and MemAvailable is %.1f GiB; use a smaller --size",
			   p->size_arg ? p->size_arg : "64M (the default)", need / GIB, what, avail / GIB);
}

/* A count of 1 to max into an unsigned field of the run.  0 or -EINVAL with err (320 bytes). */
static int parse_unsigned(const char *opt, const char *arg, long max, unsigned *out, char err[320])
{
	long n = 0;
	int r = parse_count(opt, arg, 1, max, &n, err, 320);

	*out = (unsigned)n;
	return r;
}

/* --time or --interval: a duration from 1 ms to 1 h, kept as given for messages.  0 or -errno with err. */
static int parse_bound(bool time, const char *arg, struct parsed *p, char err[320])
{
	*(time ? &p->time_arg : &p->interval_arg) = arg;
	return parse_duration(time ? "--time" : "--interval", arg, 0.001, 3600,
			      time ? &p->cfg.time_s : &p->cfg.interval_s, err, 320);
}

int parse_common(int argc, char **argv, const char *cmd, bool bench, struct parsed *p)
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
	/* li names the option: argv[optind - 1] is its value when one follows it. */
	for (int li = -1; (c = getopt_long(argc, argv, "+", run_opts, &li)) != -1; li = -1) {
		int r = 0;

		if (bench && c != OPT_QUICK && c != OPT_OUT && c != OPT_REPS && c != OPT_SIZE &&
		    c != OPT_TIMEOUT && c != OPT_HELP && c != OPT_WORKDIR && c != OPT_NO_BPF &&
		    c != OPT_REQUIRE_BPF && c != OPT_NO_PERF && c != OPT_TRACER && c != OPT_NO_TRACER &&
		    c != OPT_PIN && c != OPT_FAULT &&
		    c != '?' && c != ':')
			return usage_error("bench: option '--%s' is for copylab run; bench takes --quick, --out, --reps, --size, --timeout, --workdir, --pin, --fault, --no-bpf, --require-bpf, --no-perf",
					   li >= 0 ? run_opts[li].name : "?");
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
		case OPT_CONNS:
			r = parse_unsigned("--conns", optarg, MAX_CONNS, &p->cfg.conns, err);
			break;
		case OPT_OUTSTANDING:
			r = parse_unsigned("--outstanding", optarg, 1024, &p->cfg.outstanding, err);
			break;
		case OPT_RPS:
			/* 10^6 a second is a request per microsecond: the client's own clock and loop cannot go faster */
			r = parse_unsigned("--rps", optarg, 1000000, &p->cfg.rps, err);
			break;
		case OPT_TIME:
		case OPT_INTERVAL:
			r = parse_bound(c == OPT_TIME, optarg, p, err);
			break;
		case OPT_REQUEST:
		case OPT_RESPONSE: {
			const char *opt = c == OPT_REQUEST ? "--request" : "--response";

			/* 64 MiB: a request is one read into the server's buffer, an answer is made from it */
			if (parse_size(opt, optarg, ECHO_MESSAGE_MAX, &u, err, sizeof(err)) || u == 0)
				return usage_error("%s: '%s' is not a size from 1 byte to 64 MiB (the bytes of each %s, e.g. 64 or 4K)",
						   opt, optarg, c == OPT_REQUEST ? "request" : "answer");
			if (c == OPT_REQUEST)
				p->request = u;
			else
				p->cfg.response = u;
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
			p->size_arg = optarg;
			break;
		case OPT_BLOCK:
			r = parse_size("--block", optarg, 1ull << 30, &p->block, err, sizeof(err));
			p->block_set = true;
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
		case OPT_KEY:
			/* Read now: a key file that is missing, too open or too short is a usage error before anything runs. */
			if (remote_key_load(optarg, &p->key, err, sizeof(err)))
				return usage_error("--key: %s", err);
			p->key_given = true;
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
	if (p->key_given && !p->peer)
		return usage_error("--key proves the key to nic mode's daemons: it needs --transport nic --peer HOST:PORT");
	return p->help ? 0 : check_memory(p, bench);
}

/*
 * --pin: "none", "auto" (role i on CPU i when every role gets a CPU of its
 * own, so no two roles of a cell share one; none otherwise), or a list of
 * CPUs in role order, the role under test first.
 */
int parse_pin(const char *spec, enum scenario sc, int pin[MAX_ROLES])
{
	int nroles = scenario_def(sc)->nroles;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	char buf[128], *save = NULL, *tok;
	int i = 0;

	for (int k = 0; k < MAX_ROLES; k++)
		pin[k] = -1;
	/*
	 * auto: each role a CPU of its own, so two roles do not share one.  A
	 * scenario of one role (copy) is left free: pinned, it held its
	 * io_uring workers (io-wq threads inherit its CPU) on the same CPU, and
	 * uring_rw copied 1.4 GB/s where unpinned it copied 1.9, as copylab
	 * copy does.
	 */
	if (!spec || !strcmp(spec, "auto")) {
		if (nroles > 1 && ncpu >= nroles)
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

/*
 * --sweep block=A..B | size=A..B | conns=A..B | rps=A..B: the powers of two
 * from A to B (A and B themselves powers of two).  Returns how many values, or -1 after a
 * usage message.
 */
int parse_sweep(const char *spec, uint64_t values[MAX_SWEEP])
{
	bool block = !strncmp(spec, "block=", 6), size = !strncmp(spec, "size=", 5);
	bool conns = !strncmp(spec, "conns=", 6), rps = !strncmp(spec, "rps=", 4);
	const char *range = block || conns ? spec + 6 : size ? spec + 5 : rps ? spec + 4 : NULL;
	const char *dots = range ? strstr(range, "..") : NULL;
	char lo_s[32], err[320];
	uint64_t lo, hi;
	int n = 0;

	if (!range || !dots || dots - range >= (ptrdiff_t)sizeof(lo_s)) {
		usage_error("--sweep: '%s' is not a sweep; use block=A..B, size=A..B, conns=A..B or rps=A..B, e.g. block=4K..1M, conns=1..64, rps=1024..65536", spec);
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
	if (rps && hi > 1000000) {
		usage_error("--sweep: rps=%s..%s: at most 1000000 requests a second (--rps's limit)", lo_s, dots + 2);
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

/* Two labels that ask for the same thing in other words ("splice:more:pipe=1M", "splice:pipe=1M:more"). */
static bool same_request(const struct strategy_spec *a, const struct strategy_spec *b)
{
	const struct tunables *x = &a->tun, *y = &b->tun;

	return a->s == b->s && x->set == y->set && x->pipe_size == y->pipe_size && x->more == y->more &&
	       x->move == y->move && x->gift == y->gift && x->hugepages == y->hugepages &&
	       x->populate == y->populate && x->ring_entries == y->ring_entries && x->batch == y->batch &&
	       x->sqpoll == y->sqpoll && x->trunc == y->trunc && x->busy == y->busy;
}

/* One label of the list into g, checked against the place and the labels before it.  0 or EXIT_USAGE. */
static int add_strategy_label(const char *label, const struct strategy_place *place, int tr, struct group *g)
{
	struct strategy_spec *sp = &g->spec[g->nspecs];
	char err[320];
	struct refusal why;

	if (parse_strategy_spec(label, sp, err, sizeof(err)))
		return usage_error("%s", err);
	why = strategy_refusal(sp->s, place);
	if (why.kind == REFUSE_SCENARIO)
		return usage_error("%s cannot run %s: %s", sp->s->name, scenario_name(place->scenario), why.why);
	if (why.kind == REFUSE_ANSWER)
		return usage_error("%s cannot answer with --response (a reply of another size than the request): %s",
				   sp->s->name, why.why);
	if (why.kind != REFUSE_NONE)
		return usage_error("%s cannot run here (%s): %s", sp->s->name, transport_name(tr), why.why);
	if ((why.why = spec_option_refusal(sp, place->scenario, place->af_unix)))
		return usage_error("%s cannot run %s%s%s: %s", sp->label, scenario_name(place->scenario),
				   place->transport ? " over " : "", place->transport ? place->transport : "", why.why);
	for (int i = 0; i < g->nspecs; i++) {
		if (!strcmp(g->spec[i].label, sp->label))
			return usage_error("--strategy: '%s' is listed twice", sp->label);
		if (same_request(&g->spec[i], sp))
			return usage_error("--strategy: '%s' asks for the same as '%s' (the same options, written differently); list it once",
					   sp->label, g->spec[i].label);
	}
	g->nspecs++;
	return 0;
}

/*
 * The labels of LIST, or for "all" every strategy supporting the scenario
 * over that transport.  The list is copied whole, whatever its length: a
 * fixed buffer cut a long list and ran what was left of its last label.
 */
int parse_strategy_list(const char *list, enum scenario sc, int tr, struct group *g)
{
	struct strategy_place place = run_place(sc, tr);
	char names[256], err[320], *copy, *rest, *tok;

	place.unequal_answer = g->cfg.response != 0;
	int n = 0, r = 0;

	g->nspecs = 0;
	if (!strcmp(list, "all")) {
		for (size_t i = 0; i < strategy_count && g->nspecs < MAX_SPECS; i++)
			if (strategy_refusal(strategy_table[i], &place).kind == REFUSE_NONE)
				parse_strategy_spec(strategy_table[i]->name, &g->spec[g->nspecs++], err, sizeof(err));
		return 0;
	}
	if (!(copy = rest = strdup(list))) {
		fprintf(stderr, "copylab: out of memory for the --strategy list\n");
		return EXIT_RUN_FAILED;
	}
	while (!r && (tok = strsep(&rest, ","))) {
		n++;
		if (!*tok)
			r = usage_error("--strategy: item %d of '%.60s%s' is empty (a doubled, leading or trailing comma); separate labels with single commas",
					n, list, strlen(list) > 60 ? "..." : "");
		else if (!strcmp(tok, "all"))
			r = usage_error("--strategy: all stands alone (every strategy the scenario supports); it cannot be listed with other labels");
		else if (g->nspecs == MAX_SPECS)
			r = usage_error("--strategy: at most %d strategies in one run; this list has more", MAX_SPECS);
		else
			r = add_strategy_label(tok, &place, tr, g);
	}
	free(copy);
	if (!r && g->nspecs == 0)
		r = usage_error("--strategy: no strategy given; valid: %s, or all", strategy_names(names, sizeof(names)));
	return r;
}

/*
 * --conns N and --sweep conns=: serve and relay only, over a transport
 * whose fixed roles are local, without the faults that change the size or
 * close the sink, and without the discarding sink (each of one connection).
 * Every strategy with a process fits: each move() is non-blocking and
 * names in wait[] what it waits on (sockets, an io_uring ring, sockmap's
 * timer), so one poll() loop steps N of them.
 */
int check_conns(const struct parsed *p, enum scenario sc, int tr, struct group *g)
{
	bool many = p->cfg.conns > 1 || (p->sweep && !strncmp(p->sweep, "conns=", 6));

	if (!many)
		return 0;
	if (!scenario_def(sc)->many_conns)
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

static bool in_group(const struct group *g, const struct strategy *s)
{
	for (int i = 0; i < g->nspecs; i++)
		if (g->spec[i].s == s)
			return true;
	return false;
}

/*
 * Whoever asks for all expects every strategy of the scenario: one stderr
 * line names those the place refused or --conns dropped, each with its
 * sentence (issue 22: msg_zerocopy vanished over unix without a word).
 * Strategies the scenario itself refuses are not listed: all never meant
 * them, and `copylab list` shows them.
 */
void say_left_out(const struct parsed *p, enum scenario sc, int tr, const struct group *g)
{
	struct strategy_place place = run_place(sc, tr);
	char why[256];
	int n = 0;

	place.unequal_answer = g->cfg.response != 0;
	/*
	 * A run that loads the tracer re-executes itself (tracer_reexec) and
	 * checks its options again: the first pass has said it already.
	 */
	if (strcmp(p->strategies, "all") || tracer_reexecuted())
		return;
	for (size_t i = 0; i < strategy_count; i++) {
		const struct strategy *s = strategy_table[i];
		struct refusal r = strategy_refusal(s, &place);

		if (r.kind == REFUSE_SCENARIO || (r.kind == REFUSE_NONE && in_group(g, s)))
			continue;
		if (r.kind != REFUSE_NONE)
			snprintf(why, sizeof(why), "%s", r.why);
		else if (s->role_replaced_by)
			snprintf(why, sizeof(why), "%s: no process plays the %s (%s)",
				 sc == SC_RELAY && (g->cfg.rps || (p->sweep && !strncmp(p->sweep, "rps=", 4)))
					 ? "relay --rps" : "--conns",
				 scenario_def(sc)->roles[0], s->role_replaced_by);
		else
			snprintf(why, sizeof(why), "at most %d strategies in one run", MAX_SPECS);
		fprintf(stderr, "%s%s (%s)", n++ ? "; " : "copylab: run: --strategy all left out ", s->name, why);
	}
	if (n)
		fputc('\n', stderr);
}

/*
 * Why --time cannot bound scenario sc, or NULL where it can: a fixed
 * source that sends for as long as asked, or a role under test that sends
 * laps of its payload from memory (send, pipe).
 */
static const char *time_refusal(enum scenario sc)
{
	switch (sc) {
	case SC_RELAY: case SC_FANOUT: case SC_STORE: case SC_RECV: case SC_SEND: case SC_PIPE:
		return NULL;
	case SC_SERVE: case SC_COPY:
		return "its input is a file, whose size is fixed";
	case SC_ECHO:
		return "its client counts requests of --block bytes, not a stream (use --size, or --rps for a load)";
	default:
		return "it has no stream to bound";
	}
}

int check_bounds(const struct parsed *p, enum scenario sc, int tr)
{
	const struct run_config *c = &p->cfg;
	bool sweep_size = p->sweep && !strncmp(p->sweep, "size=", 5);
	const char *why;

	if (c->time_s > 0) {
		if (p->size_set || sweep_size)
			return usage_error("--time %s and %s both bound the run; give one: --time to send for that long, --size to send that many bytes",
					   p->time_arg, p->size_set ? "--size" : "--sweep size=");
		if ((why = time_refusal(sc)))
			return usage_error("--time cannot bound %s: %s; --time applies to the streams: relay, fanout, store, recv, send and pipe",
					   scenario_name(sc), why);
		if (sc == SC_RELAY && (c->rps || (p->sweep && !strncmp(p->sweep, "rps=", 4))))
			return usage_error("--time cannot bound relay --rps: its client counts requests of --block bytes through the relay, not a stream; use --size (the requests are --size / --block)");
		if (tr == TR_NIC)
			return usage_error("--time: over --transport nic the source is the far daemon, which sends a fixed count; use --size");
		if (c->conns > 1 || (p->sweep && !strncmp(p->sweep, "conns=", 6)))
			return usage_error("--time: --conns splits a fixed --size among the connections; a run bounded by time has one connection");
		if (c->fault.kind != FAULT_NONE || c->corrupt != CORRUPT_NONE)
			return usage_error("--time: --fault acts at a byte offset of a stream of known length; use --size with --fault");
	}
	if (c->interval_s <= 0)
		return 0;
	if (c->time_s > 0 && c->interval_s > c->time_s)
		return usage_error("--interval %s is longer than --time %s: the run would end before its first interval; give an interval at most as long as --time",
				   p->interval_arg, p->time_arg);
	if (c->time_s > 0 && c->time_s / c->interval_s > SERIES_MAX - 2)
		return usage_error("--interval %s: --time %s would make more than %d intervals; use a longer --interval",
				   p->interval_arg, p->time_arg, SERIES_MAX);
	/* A run bounded by size lasts at most --timeout: that bounds its intervals. */
	if (c->time_s <= 0 && c->timeout_s / c->interval_s > SERIES_MAX - 2)
		return usage_error("--interval %s: a run bounded by --size may last up to --timeout (%g s), more than %d intervals; use a longer --interval or a shorter --timeout",
				   p->interval_arg, c->timeout_s, SERIES_MAX);
	if (c->time_s <= 0 && c->interval_s > c->timeout_s)
		return usage_error("--interval %s is longer than --timeout (%g s), the longest a repetition may run; give a shorter interval",
				   p->interval_arg, c->timeout_s);
	return 0;
}
