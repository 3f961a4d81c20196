/* SPDX-License-Identifier: MIT */
/*
 * `copylab run`: every option checked first (a usage error writes
 * nothing), then the transport made and one group of cells run, or one
 * group per --sweep value, in one session.
 */
#include "run_options.h"
#include "session.h"
#include "cli.h"
#include "harness/model/base.h"
#include "harness/model/options.h"
#include "harness/engine/remote.h"
#include "harness/engine/timed.h"
#include "harness/results/bounded.h"
#include "harness/results/series.h"
#include "harness/results/write.h"
#include "harness/model/scenario.h"
#include "harness/measure/bpf/ledger.h"
#include "harness/measure/bpf/cpusample.h"
#include "harness/net/userstack_link.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char run_help[] =
"usage: copylab run --scenario S --strategy X[,Y...|all] [options]\n"
"\n"
"Runs scenario S with each strategy, interleaved rep by rep, verifies every\n"
"byte, prints a table and writes DIR/results.jsonl, summary.csv, env.json.\n"
"\n"
"  --scenario S       serve, send, relay, fanout, store, copy, echo, pipe, recv\n"
"  --strategy LIST    comma-separated labels, or all; a label may carry options:\n"
"                     vmsplice:gift, vmsplice:gift:hugepages, splice:more:pipe=1M,\n"
"                     readwrite:trunc (recv only: MSG_TRUNC, unverified),\n"
"                     readwrite:busy, splice:busy, vmsplice:busy (echo, pipe: spin\n"
"                     on EAGAIN instead of sleeping, SO_BUSY_POLL on sockets; in\n"
"                     pipe the reader spins too; the record's busy says so)\n"
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
"  --key FILE         nic: a copy of the daemons' --key file (mode 0600), to prove\n"
"                     it to them; see docs/threat-model-nic.md\n"
"  --size N           bytes to move; K/M/G suffixes are powers of 1024; default 64M\n"
"  --time D           instead of --size (relay, fanout, store, recv, send, pipe):\n"
"                     the sender sends for D (500ms, 10s, 2m; 1ms..1h), then ends\n"
"                     the stream; every byte that arrived is verified, whatever\n"
"                     the count\n"
"  --interval D       every D (at least 1ms, at most --time), the receiving side's\n"
"                     bytes and each role's CPU into the record's intervals\n"
"  --block N          bytes per call of the role under test; default 64K\n"
"  --sweep block=A..B | size=A..B | conns=A..B | rps=A..B   one cell per power\n"
"                     of two from A to B (rps: echo or relay at each offered load)\n"
"  --conns N          serve, relay: N parallel connections (1..256) share --size:\n"
"                     connection i carries bytes i*size/N up to (i+1)*size/N;\n"
"                     each role drives all N non-blocking from one loop\n"
"  --outstanding N    echo: requests in flight at most (default 1: request/response);\n"
"                     the message size is --block; every round trip is timed\n"
"  --request N        echo: bytes of each request (1..64M; the same as --block)\n"
"  --response M       echo: bytes the server answers per request (1..64M; default:\n"
"                     the request's size, an echo): the request's bytes over and\n"
"                     over, every answer byte verified (an answer shorter than\n"
"                     its request carries, and so checks, only its first M bytes);\n"
"                     readwrite only (splice and sockmap send back what came);\n"
"                     --size must be whole requests\n"
"  --rps R            echo: send R requests a second, open loop (1..1000000): each\n"
"                     leaves at its scheduled time and its latency counts from\n"
"                     that time, so a stall is not hidden; --outstanding caps the\n"
"                     requests in flight (default 256 with --rps).  relay: the\n"
"                     same requests go through the relay to a fixed echo behind\n"
"                     it, and back: the relay carries both directions, and each\n"
"                     round trip is timed end to end\n"
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
"                     auto (default): one CPU per role when there are enough,\n"
"                     and none for a scenario of one role (copy)\n"
"  --cache warm|cold  page cache state of file inputs before each rep (serve,\n"
"                     copy); cold: posix_fadvise(DONTNEED), + drop_caches as root\n"
"  --tracer           also count with the LD_PRELOAD tracer (beside BPF, to\n"
"                     cross-check); it is used anyway when BPF cannot load,\n"
"                     unless --no-tracer\n"
"\n"
"Exit status: 0 success, 1 a run failed, 2 bad usage.\n";

/* True when role i of the scenario is a receiving sink (the one --sink discard replaces). */
static bool role_is_sink(enum scenario sc, int i)
{
	const char *name = scenario_def(sc)->roles[i];

	return sc != SC_ECHO && strcmp(name, "source") != 0;
}

/*
 * --fault against the scenario, the transport, the sink and the strategies;
 * fault_check resolves a kill's role into p.  0 or EXIT_USAGE.
 */
static int check_fault(struct parsed *p, enum scenario sc, int tr, const struct group *g)
{
	char err[320];

	if (fault_check(&p->cfg.fault, sc, tr == TR_NIC, err, sizeof(err)))
		return usage_error("%s", err);
	/* The receiver's faults act in the hashing sink, which --sink discard replaces. */
	if (p->cfg.sink_discard && sc != SC_ECHO &&
	    (p->cfg.fault.kind == FAULT_SINK_CLOSE || p->cfg.fault.kind == FAULT_SINK_RESET ||
	     p->cfg.fault.kind == FAULT_SINK_HALFCLOSE || p->cfg.fault.kind == FAULT_SINK_STALL ||
	     p->cfg.fault.kind == FAULT_SINK_SLOW ||
	     (p->cfg.fault.kind == FAULT_KILL && p->cfg.fault.role_index > 0 &&
	      role_is_sink(sc, p->cfg.fault.role_index))))
		return usage_error("--fault %s acts in the sink that hashes; --sink discard splices to /dev/null instead (use --sink hash)",
				   fault_name(p->cfg.fault.kind));
	/* A signal or a kill needs a process: a strategy that replaces the role has none. */
	for (int i = 0; i < g->nspecs; i++)
		if (g->spec[i].s->role_replaced_by &&
		    (p->cfg.fault.kind == FAULT_SIGNALS ||
		     (p->cfg.fault.kind == FAULT_KILL && p->cfg.fault.role_index == 0)))
			return usage_error("--fault %s: %s runs no %s process (%s); nothing to signal or kill",
					   fault_name(p->cfg.fault.kind), g->spec[i].label,
					   scenario_def(sc)->roles[0], g->spec[i].s->role_replaced_by);
	return 0;
}

/*
 * A fault must be in reach of every size of the run (--fault kill=server@2M
 * with --size 1M would never fire): the smallest size decides.  0 or
 * EXIT_USAGE.
 */
static int check_fault_reach(const struct parsed *p, const struct group *g, const uint64_t *values, int ngroups)
{
	uint64_t smallest = g->cfg.size;
	char err[320];

	for (int i = 0; p->sweep && !strncmp(p->sweep, "size=", 5) && i < ngroups; i++)
		smallest = i == 0 || values[i] < smallest ? values[i] : smallest;
	if (fault_check_reach(&p->cfg.fault, p->cfg.corrupt, p->cfg.corrupt_at, smallest, err, sizeof(err)))
		return usage_error("%s", err);
	return 0;
}

/*
 * echo --request N --response M: a server that answers M bytes per N
 * received.  --request is the echo's message size, which --block sets
 * too, so the two may not disagree; M equal to N is a plain echo.  The
 * far client of nic mode and the --fault acts echo what was sent, so
 * they stay with plain echo.  0 or EXIT_USAGE after saying why.
 */
static int check_answer_sizes(struct parsed *p, int sc, int tr)
{
	char a[48], b[48];

	if ((p->request || p->cfg.response) && sc != SC_ECHO)
		return usage_error("%s: only the echo scenario answers requests; scenario %s moves one stream",
				   p->request ? "--request" : "--response", scenario_name(sc));
	if (p->request && p->block_set && p->request != p->block)
		return usage_error("--request %s and --block %s both set echo's request size; give one of them",
				   human_bytes(p->request, a, sizeof(a)), human_bytes(p->block, b, sizeof(b)));
	if (p->request && p->sweep && !strncmp(p->sweep, "block=", 6))
		return usage_error("--request and --sweep block= both set echo's request size; give one of them");
	if (p->request)
		p->block = p->request;
	if (p->cfg.response == p->block && !(p->sweep && !strncmp(p->sweep, "block=", 6)))
		p->cfg.response = 0;
	if (!p->cfg.response)
		return 0;
	if (tr == TR_NIC)
		return usage_error("--response: over --transport nic the far echo client checks echoes only; run unequal sizes over tcp, unix or veth");
	if (fault_acts_on_stream(&p->cfg))
		return usage_error("--response: --fault %s acts on an echo of what was sent; with --response use flip@, drop@, dup@ or swap@",
				   fault_name(p->cfg.fault.kind));
	/* Only an answer's bytes are checked: damage past its length in a request would pass unseen. */
	if (p->cfg.corrupt != CORRUPT_NONE && p->cfg.response < p->block)
		return usage_error("--response %s is shorter than the request (%s): only the first %s of each request reach an answer, the bytes the client checks, so damage from --fault could land where nothing looks; with --fault give --response at least the request's size",
				   human_bytes(p->cfg.response, a, sizeof(a)), human_bytes(p->block, b, sizeof(b)),
				   human_bytes(p->cfg.response, a, sizeof(a)));
	return 0;
}

/*
 * --response: every cell's size must be whole requests, each answered in
 * full (a short last request would wait for an answer the server gives
 * only to whole ones), and the answers, whose hashes are made before the
 * first repetition, at most ANSWERS_MAX bytes.  0 or EXIT_USAGE.
 */
#define ANSWERS_MAX (64ull << 30)	/* made and hashed at a few GB/s: under a minute */

static int check_whole_requests(const struct group *groups, int n)
{
	char a[48], b[48];

	for (int i = 0; i < n; i++) {
		const struct run_config *c = &groups[i].cfg;

		if (c->response && c->size % c->block)
			return usage_error("--response: --size %s is not a whole number of %s requests; make the size a multiple of the request (--request or --block)",
					   human_bytes(c->size, a, sizeof(a)), human_bytes(c->block, b, sizeof(b)));
		if (c->response && c->size / c->block > ANSWERS_MAX / c->response)
			return usage_error("--response %s: %llu requests would be answered with more than 64 GiB, all made and hashed before the first repetition; use a smaller --size or --response",
					   human_bytes(c->response, a, sizeof(a)), (unsigned long long)(c->size / c->block));
	}
	return 0;
}

/*
 * --time with --interval: every interval of every repetition goes into
 * results.jsonl, which the readers (plot, report, compare) take up to
 * BOUNDED_CAP_RECORDS.  A run whose series would pass that is refused
 * before it starts, not after its hours (results_add leaves out a
 * record's series that would pass it all the same, for runs by size whose
 * length is not known).  0 or EXIT_USAGE.
 */
static int check_series_room(const struct parsed *p, const struct group *groups, int n)
{
	double intervals = 0;

	for (int g = 0; g < n; g++) {
		const struct run_config *c = &groups[g].cfg;

		if (c->time_s > 0 && c->interval_s > 0)
			intervals += (double)groups[g].nspecs * p->reps * (c->time_s / c->interval_s + 2);
	}
	if (intervals * SERIES_JSON_BYTES <= (double)BOUNDED_CAP_RECORDS)
		return 0;
	return usage_error("--time %s with --interval %s: %.0f intervals over every strategy and repetition, about %.0f MiB in results.jsonl, more than the %zu MiB copylab plot, report and compare read; use a longer --interval, a shorter --time, or fewer --reps or strategies",
			   p->time_arg, p->interval_arg, intervals, intervals * SERIES_JSON_BYTES / 1048576,
			   BOUNDED_CAP_RECORDS >> 20);
}

/*
 * --rps and --outstanding: echo's, and relay's round trip (relay --rps,
 * or --sweep rps=), where the source sends requests through the relay to
 * a fixed echo behind it.  That round trip is one connection each way
 * with fixed roles that echo and time: not with --conns, the far daemons
 * of nic mode, a fault that acts on a one-way stream, the discarding sink,
 * or a strategy that runs no process (nat: --strategy all leaves it out).
 * 0 or EXIT_USAGE.
 */
static int check_round_trip(const struct parsed *p, int sc, int tr, struct group *g)
{
	bool rt = sc == SC_RELAY && (g->cfg.rps || (p->sweep && !strncmp(p->sweep, "rps=", 4)));

	if (g->cfg.rps && sc != SC_ECHO && sc != SC_RELAY)
		return usage_error("--rps: only echo and relay (the round trip through it) send requests at an offered load");
	if (g->cfg.outstanding && sc != SC_ECHO && !rt)
		return usage_error("--outstanding: only the echo scenario, and relay's round trip (with --rps), have requests in flight");
	if (!rt)
		return 0;
	if (run_conns(&g->cfg) > 1 || (p->sweep && !strncmp(p->sweep, "conns=", 6)))
		return usage_error("relay --rps: the round trip through the relay is one connection each way; leave out --conns");
	if (tr == TR_NIC)
		return usage_error("relay --rps: over --transport nic the far daemons send and sink one way; run the round trip over tcp, unix, veth or routed");
	if (g->cfg.sink_discard)
		return usage_error("relay --rps: the sink echoes the requests back, so it cannot discard them (--sink discard)");
	if (fault_acts_on_stream(&g->cfg))
		return usage_error("relay --rps: --fault %s acts on a one-way stream; with the round trip use flip@, drop@, dup@ or swap@",
				   fault_name(g->cfg.fault.kind));
	for (int i = 0; i < g->nspecs; i++) {
		const struct strategy *s = g->spec[i].s;

		if (!s->role_replaced_by)
			continue;
		if (strcmp(p->strategies, "all"))
			return usage_error("%s cannot run relay --rps: no process plays the relay (%s), so nothing carries the replies back",
					   s->name, s->role_replaced_by);
		/* say_left_out names it with the others */
		memmove(&g->spec[i], &g->spec[i + 1], (g->nspecs - i - 1) * sizeof(g->spec[0]));
		g->nspecs--;
		i--;
	}
	if (g->nspecs == 0)
		return usage_error("relay --rps: no strategy of --strategy all can carry the round trip over %s", transport_name(tr));
	return 0;
}

/*
 * Run's options against each other, in the order the messages are given:
 * *scp, *trp and g (its strategies and configuration) filled.  0 or
 * EXIT_USAGE after saying why.
 */
static int check_run(struct parsed *p, int *scp, int *trp, struct group *g)
{
	char names[256];
	int sc, tr = TR_TCP, r;

	if (!p->scenario)
		return usage_error("run: --scenario is required; valid: %s", scenario_names(names, sizeof(names)));
	if ((sc = scenario_find(p->scenario)) < 0)
		return usage_error("unknown scenario '%s'; valid: %s", p->scenario, scenario_names(names, sizeof(names)));
	if (!p->strategies)
		return usage_error("run: --strategy is required; valid: %s, or all", strategy_names(names, sizeof(names)));
	if (p->transport && (tr = transport_find(p->transport)) < 0)
		return usage_error("unknown transport '%s'; valid: %s", p->transport, transport_names(names, sizeof(names)));
	if (p->transport && !scenario_def(sc)->uses_transport)
		return usage_error("--transport %s: scenario %s moves no bytes over a network (it has no transport); "
				   "leave --transport out (copylab list shows which scenarios have sockets)",
				   p->transport, scenario_name(sc));
	if ((r = check_answer_sizes(p, sc, tr)))
		return r;
	g->cfg.response = p->cfg.response;	/* which strategies can answer it */
	if ((r = parse_strategy_list(p->strategies, sc, tr, g)))
		return r;
	if (p->link_opt && tr != TR_VETH && tr != TR_ROUTED)
		return usage_error("%s applies to --transport veth or routed (the links copylab makes); this run is over %s",
				   p->link_opt, transport_name(tr));
	if (p->peer && tr != TR_NIC)
		return usage_error("--peer applies to --transport nic; this run is over %s", transport_name(tr));
	if (tr == TR_NIC && !p->peer)
		return usage_error("--transport nic needs --peer HOST:PORT[,HOST:PORT]: the far `copylab sink` (and `copylab source`)");
	if ((r = check_fault(p, sc, tr, g)) || (r = check_conns(p, sc, tr, g)) || (r = check_bounds(p, sc, tr)))
		return r;
	g->cfg = p->cfg;
	g->cfg.scenario = sc;
	g->cfg.transport = tr;
	if ((r = parse_pin(p->pin, sc, g->cfg.pin)))
		return r;
	if ((r = check_round_trip(p, sc, tr, g)))
		return r;
	/*
	 * --time in send and pipe: the role under test sets its strategy up
	 * again for every 64 MiB lap, inside the measured window; with huge
	 * pages that setup copies the whole payload into its buffer.
	 */
	for (int i = 0; g->cfg.time_s > 0 && scenario_def(sc)->in == EP_MEMORY && i < g->nspecs; i++)
		if (g->spec[i].tun.hugepages)
			return usage_error("%s with --time: each 64 MiB lap sets the strategy up again inside the measured window, and with huge pages that copies the payload into its buffer; use --size with :hugepages",
					   g->spec[i].label);
	if (g->cfg.cache_cold && scenario_def(sc)->in != EP_FILE)
		return usage_error("--cache cold: scenario %s reads no file; it applies to serve and copy",
				   scenario_name(sc));
	g->cfg.size = g->cfg.time_s > 0 ? TIME_RING : p->size;	/* --time: the ring the source repeats */
	g->cfg.block = p->block;
	*scp = sc;
	*trp = tr;
	say_left_out(p, sc, tr, g);
	return 0;
}

/*
 * A sweep is one group per value, all in one results directory; without
 * one, g alone (n 1).  Counted into the session's total; NULL when out of
 * memory.
 */
static struct group *sweep_groups(const struct parsed *p, const struct group *g, const uint64_t *values, int n,
				  struct session *s)
{
	struct group *groups = calloc(n, sizeof(*groups));

	for (int i = 0; groups && i < n; i++) {
		groups[i] = *g;
		if (p->sweep && !strncmp(p->sweep, "block=", 6))
			groups[i].cfg.block = values[i];
		else if (p->sweep && !strncmp(p->sweep, "conns=", 6))
			groups[i].cfg.conns = (unsigned)values[i];
		else if (p->sweep && !strncmp(p->sweep, "rps=", 4))
			groups[i].cfg.rps = (unsigned)values[i];
		else if (p->sweep)
			groups[i].cfg.size = values[i];
		s->cells_total += (p->reps + p->warmup) * g->nspecs;
	}
	return groups;
}

/*
 * The transport's links, stack or far peers, made before session_open, so
 * a refusal writes nothing and env.json can describe the link.  0, or the
 * exit status after saying why.
 */
static int transport_up(struct parsed *p, enum scenario sc, int tr, struct session *s)
{
	bool uses = scenario_def(sc)->uses_transport;
	char err[320];
	int r;

	p->link.routed = tr == TR_ROUTED;
	if ((tr == TR_VETH || tr == TR_ROUTED) && uses && (r = link_create(&p->link, err, sizeof(err)))) {
		fprintf(stderr, "copylab: transport %s: %s\n", transport_name(tr), err);
		return r == -EOPNOTSUPP || r == -EINVAL ? EXIT_USAGE : EXIT_RUN_FAILED;
	}
	if (tr == TR_LONS && uses && lons_create(err, sizeof(err))) {
		fprintf(stderr, "copylab: transport lo-ns: %s\n", err);
		return EXIT_RUN_FAILED;
	}
	if (tr == TR_USERSTACK && uses && userstack_start(err, sizeof(err))) {
		fprintf(stderr, "copylab: transport userstack: %s\n", err);
		return EXIT_RUN_FAILED;
	}
	if (tr == TR_NIC && ((r = remote_open(p->peer, p->key_given ? &p->key : NULL, &s->remote, err, sizeof(err))) ||
			     (r = remote_check_scenario(s->remote, sc, err, sizeof(err))))) {
		fprintf(stderr, "copylab: %s%s\n", strncmp(err, "transport nic", 13) ? "transport nic: " : "", err);
		return r == -EINVAL || r == -EOPNOTSUPP ? EXIT_USAGE : EXIT_RUN_FAILED;
	}
	if (uses)
		results_env_extra("transport", transport_facts(tr, remote_first_peer(s->remote)));
	return 0;
}

/* The groups in turn, each with the session's probes and peers; the first to fail ends the run. */
static int run_groups(struct session *s, struct group *groups, int ngroups)
{
	int r = 0;

	/* An interrupted run still enters its group, which says where the signal came. */
	for (int i = 0; i < ngroups && !r; i++) {
		groups[i].cfg.remote = s->remote;
		groups[i].cfg.ledger = s->ledger;
		groups[i].cfg.bpf_note = s->bpf_note;
		groups[i].cfg.sampler = s->sampler;
		groups[i].cfg.cputime_note = s->cputime_note;
		groups[i].cfg.tracer = s->tracer;
		groups[i].cfg.tracer_note = s->tracer_note;
		r = run_group(s, &groups[i]);
	}
	/* A signal after the last repetition interrupted nothing: every record is written. */
	if (run_interrupted && !r)
		fprintf(stderr, "copylab: SIG%s (%s) came after the last repetition; the run is complete\n",
			sigabbrev_np(run_interrupted), strsignal(run_interrupted));
	return r;
}

/* Before the session opened: the probes, links, stack and far peers go; r is returned. */
static int run_abandon(struct session *s, struct group *groups, int r)
{
	cpusample_close(s->sampler);
	if (s->ledger)
		ledger_close(s->ledger);
	link_destroy();
	lons_destroy();
	userstack_stop();
	remote_close(s->remote);
	free(groups);
	return r;
}

int cmd_run(int argc, char **argv)
{
	struct parsed p;
	struct session s = { 0 };
	struct group g = { 0 }, *groups;
	uint64_t values[MAX_SWEEP];
	int sc = 0, tr = TR_TCP, r, ngroups = 1;

	/* Before anything is made: a signal's default action would skip the cleanup. */
	catch_stop_signals();
	if ((r = parse_common(argc, argv, "run", false, &p)))
		return r;
	if (p.help) {
		printf(run_help, fault_help());
		return 0;
	}
	if ((r = check_run(&p, &sc, &tr, &g)) || (r = session_check_paths(p.out, p.workdir)))
		return r;
	s.reps = p.reps;
	s.warmup = p.warmup;
	s.json = p.json;
	if (p.sweep && (ngroups = parse_sweep(p.sweep, values)) < 0)
		return EXIT_USAGE;
	if (p.sweep && !strncmp(p.sweep, "rps=", 4) && sc != SC_ECHO && sc != SC_RELAY)
		return usage_error("--sweep rps=: only echo and relay (the round trip through it) send requests at an offered load");
	if ((r = check_fault_reach(&p, &g, values, ngroups)))
		return r;
	if (!(groups = sweep_groups(&p, &g, values, ngroups, &s)))
		return EXIT_RUN_FAILED;
	if ((r = check_whole_requests(groups, ngroups)) || (r = check_series_room(&p, groups, ngroups))) {
		free(groups);
		return r;
	}
	if ((r = session_ledger(&s, p.no_bpf, p.require_bpf)) ||
	    (r = session_tracer(&s, p.tracer, p.no_tracer)) ||
	    (interrupted_during("while loading the probes: nothing was made or run") && (r = EXIT_RUN_FAILED)) ||
	    (r = transport_up(&p, sc, tr, &s)) ||
	    (interrupted_during("while setting up the transport: what was made is removed, nothing was run") && (r = EXIT_RUN_FAILED)))
		return run_abandon(&s, groups, r);
	session_conditions(&p, &s);
	if ((r = session_open(&s, p.out, p.workdir)))
		return run_abandon(&s, groups, r);
	r = run_groups(&s, groups, ngroups);
	session_close(&s, p.json ? stderr : stdout);
	if (!r && session_stdout_check(p.json ? "the records (--json)" : "the table"))
		r = EXIT_RUN_FAILED;
	free(groups);
	return r;
}
