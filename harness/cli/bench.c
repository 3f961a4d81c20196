/* SPDX-License-Identifier: MIT */
/*
 * `copylab bench`: the default matrix (every scenario with every strategy
 * that can run it, and the comparisons over veth, routed and lo-ns) in one
 * session that goes on past a failed cell; then what the instruments cost,
 * the table and the headline figures (bench_report.c).
 */
#include "bench_report.h"
#include "run_options.h"
#include "session.h"
#include "cli.h"
#include "harness/model/base.h"
#include "harness/model/options.h"
#include "harness/model/scenario.h"
#include "harness/engine/run.h"
#include "harness/engine/timed.h"
#include "harness/results/write.h"
#include "harness/results/stats.h"
#include "harness/measure/sysstat.h"
#include "harness/measure/bpf/ledger.h"
#include "harness/measure/bpf/cpusample.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
"sender for both; the receiver CPU ratio is printed); recv (socket -> memory)\n"
"over tcp and lo-ns at 512 KiB chunks with readwrite:trunc (MSG_TRUNC, the\n"
"unverified floor) beside its strategies: each receiver's CPU per GiB over\n"
"readwrite's, paired, with its interval (claim 13's figure); relay over tcp\n"
"bounded by time, 10 s (--quick: 2 s), with readwrite and splice, a reading every\n"
"100 ms (its series drawn, its min/median/max interval throughput in the table);\n"
"echo, and relay's round trip through the relay to a fixed echo, at 1000, 4000\n"
"and 16000 requests/s offered open loop (1 KiB requests, readwrite, splice and\n"
"sockmap; about a second of requests per cell): p50/p99/p99.9 per load.\n"
"Roles are pinned one CPU each where the machine has enough (--pin).  Then the\n"
"relay cell with the instruments on and off, for what they cost.  Prints the\n"
"table and the headline figures, and writes the results directory.\n"
"\n"
"  --quick      a smoke run: its figures are not for quoting\n"
"  --out DIR    results directory; default results/<run-id>\n"
"  --reps N, --size N, --timeout SEC, --workdir DIR, --pin P: as for copylab run\n"
"  --no-bpf, --require-bpf, --no-perf, --tracer, --no-tracer: as for copylab run\n"
"  --fault F    as for copylab run (tests), in every cell it applies to; a cell\n"
"               that fails ends its strategy's reps and the bench goes on\n";

/*
 * The groups a bench can make: the scenarios (echo as eight), the second
 * pipe size, cold caches, veth, routed, lo-ns, and the quick run's block
 * sweep; room to spare, and bench_group_add refuses past it.
 */
#define BENCH_MAX_GROUPS 64

/* The matrix's groups, and what the bench found out while making them. */
struct bench {
	struct session s;
	struct group groups[BENCH_MAX_GROUPS];
	int ngroups;
	bool veth, routed;		/* the links the comparisons need were made */
	double background_busy_cpus;	/* before the routed relay group; NAN unmeasured */
};

/* Why strategy NAME cannot run scenario sc over tr here, or NULL when it can. */
static const char *refusal_here(const char *name, enum scenario sc, enum transport tr)
{
	const struct strategy *st = strategy_find(name);
	struct strategy_place place = run_place(sc, tr);

	return st ? strategy_refusal(st, &place).why : "no such strategy in this build";
}

/*
 * What the instruments cost: the relay cell with BPF and perf on, and with
 * both off (the BPF programs detached, so no syscall pays for them),
 * alternating on/off and off/on rep by rep so drift hits both alike.
 * Written to probe-cost.json beside the records, not into them: these reps
 * are not the matrix's.
 */
/* The probes on (the ledger, the CPU sampler on its windows) or off, for the cost's paired reps. */
static void probes_set(struct session *s, bool on)
{
	char err[320];

	if (on && !s->ledger && ledger_open(&s->ledger, err, sizeof(err)) == 0 &&
	    cpusample_open(s->ledger, &s->sampler, err, sizeof(err)))
		s->sampler = NULL;
	if (!on) {
		cpusample_close(s->sampler);
		s->sampler = NULL;
		ledger_close(s->ledger);
		s->ledger = NULL;
	}
}

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
	fprintf(out, "\nProbe cost (relay over tcp, %.0f MiB, %d paired reps; BPF ledger + CPU sampler + perf on vs off):\n",
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

				probes_set(s, on);
				g.cfg.ledger = s->ledger;
				g.cfg.sampler = s->sampler;
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
	probes_set(s, true);
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
static struct group *bench_group_add(struct bench *b, const struct parsed *p, const char *list, enum scenario sc,
				     enum transport tr, uint64_t size, size_t block)
{
	struct group *g;

	if (b->ngroups == BENCH_MAX_GROUPS) {
		fprintf(stderr, "copylab: bench: more than %d groups; %s over %s left out\n", BENCH_MAX_GROUPS,
			scenario_name(sc), transport_name(tr));
		return NULL;
	}
	g = &b->groups[b->ngroups];
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
	b->s.cells_total += (b->s.reps + b->s.warmup) * g->nspecs;
	b->ngroups++;
	return g;
}

/*
 * The bench's next group a copy of g, counted into the session's total:
 * the caller changes one setting.  NULL when the groups are full.
 */
static struct group *bench_group_again(struct bench *b, const struct group *g)
{
	struct group *again;

	if (b->ngroups == BENCH_MAX_GROUPS) {
		fprintf(stderr, "copylab: bench: more than %d groups; a variant of %s left out\n", BENCH_MAX_GROUPS,
			scenario_name(g->cfg.scenario));
		return NULL;
	}
	again = &b->groups[b->ngroups++];
	*again = *g;
	b->s.cells_total += (b->s.reps + b->s.warmup) * g->nspecs;
	return again;
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

/*
 * Echo is a latency workload: the group just added becomes request/response
 * and 8 in flight, at four message sizes, each cell timing every one of
 * its round trips.
 */
static void bench_echo_groups(struct bench *b, const struct parsed *p)
{
	static const size_t msg[] = { 64, 1024, 16384, 65536 };
	struct group proto = b->groups[--b->ngroups];

	b->s.cells_total -= (b->s.reps + b->s.warmup) * proto.nspecs;
	for (size_t m = 0; m < sizeof(msg) / sizeof(msg[0]); m++)
		for (unsigned o = 1; o <= 8; o += 7) {
			struct group *e = bench_group_again(b, &proto);
			uint64_t msgs = p->quick ? 2000 : 20000;

			if (!e)
				return;
			e->cfg.block = msg[m];
			e->cfg.outstanding = o;
			if (msgs * msg[m] > (256ull << 20))
				msgs = (256ull << 20) / msg[m];
			e->cfg.size = msgs * msg[m];
		}
}

/* One more label into group g (vmsplice:gift, readwrite:trunc), counted in the progress. */
static void bench_group_label(struct bench *b, struct group *g, const char *label)
{
	char err[320];

	if (g->nspecs < MAX_SPECS && parse_strategy_spec(label, &g->spec[g->nspecs], err, sizeof(err)) == 0) {
		g->nspecs++;
		b->s.cells_total += b->s.reps + b->s.warmup;
	}
}

/* Every scenario over tcp loopback, with every strategy that can run it. */
static void bench_scenario_groups(struct bench *b, const struct parsed *p)
{
	for (int sc = 0; sc < SC_COUNT; sc++) {
		/*
		 * 256 MiB per socket cell, 1 GiB where a cell moves faster than
		 * 2 GB/s here (copy, pipe): each rep lasts long enough to measure,
		 * and the whole matrix stays within minutes.
		 */
		uint64_t size = (sc == SC_COPY || sc == SC_PIPE) ? 1ull << 30 : 256ull << 20;
		/* recv at the tcp_mmap selftest's chunk, the block claim 13 is judged at. */
		struct group *g = bench_group_add(b, p, "all", sc, TR_TCP, size,
						  sc == SC_RECV ? RECV_BENCH_BLOCK : DEFAULT_BLOCK), *again;

		if (!g)
			continue;
		/* Gifting is the one flag the articles make a claim about: bench it beside. */
		if (strategy_supports(strategy_find("vmsplice"), sc))
			bench_group_label(b, g, "vmsplice:gift");
		/* MSG_TRUNC, the floor of receiving (unverified), beside the receivers. */
		if (sc == SC_RECV)
			bench_group_label(b, g, "readwrite:trunc");
		if (sc == SC_ECHO) {
			bench_echo_groups(b, p);
			continue;
		}
		/*
		 * The pipe at the kernel's default 64 KiB and at 1 MiB: at 64 KiB
		 * the reader is woken once a chunk, and that cross-core wake-up,
		 * not the copy, is what the writer waits for; a bigger pipe
		 * shows what vmsplice saves once it is not.
		 */
		if (sc == SC_PIPE && (again = bench_group_again(b, g)))
			again->cfg.pipe_size = bench_pipe_size();
		/* A file read from the disk is another workload than one in memory: both. */
		if (scenario_def(sc)->in == EP_FILE && (again = bench_group_again(b, g)))
			again->cfg.cache_cold = true;
	}
}

/*
 * --quick: serve, send and relay over tcp at every block of the sweep,
 * every strategy, so a strategy that stalls at some block size (a
 * zero-copy sender waiting on the peer's delayed ACK did, at 16 KiB) shows
 * in the headline's list instead of hiding behind the 64 KiB matrix.
 */
static void bench_block_sweep_groups(struct bench *b, const struct parsed *p)
{
	static const enum scenario scs[] = { SC_SERVE, SC_SEND, SC_RELAY };
	size_t block;

	if (!p->quick)
		return;
	for (size_t i = 0; i < sizeof(scs) / sizeof(scs[0]); i++)
		for (size_t k = 0; bench_sweep_block(k, &block); k++)
			if (block != DEFAULT_BLOCK)
				bench_group_add(b, p, "all", scs[i], TR_TCP, 64ull << 20, block);
}

/*
 * Loopback against a NIC-like path: serve and relay with readwrite,
 * sendfile and splice over tcp and veth, same size, side by side; and
 * zero-copy sends over veth.  Only where copylab can make the veth link
 * (root, namespaces).
 */
static void bench_veth_groups(struct bench *b, const struct parsed *p)
{
	struct link_config veth_cfg = { 0 };
	char veth_err[256], list[128];

	b->veth = link_create(&veth_cfg, veth_err, sizeof(veth_err)) == 0;
	if (!b->veth) {
		fprintf(stderr, "copylab: bench: no loopback vs veth comparison: %s\n", veth_err);
		return;
	}
	/* The tcp side is the matrix's own serve and relay cells, of the same size. */
	bench_group_add(b, p, "readwrite,sendfile,splice", SC_SERVE, TR_VETH, 256ull << 20, DEFAULT_BLOCK);
	bench_group_add(b, p, "readwrite,splice", SC_RELAY, TR_VETH, 256ull << 20, DEFAULT_BLOCK);
	/* Zero-copy sends: readwrite, msg_zerocopy and uring_send_zc with 64 KiB sends, side by side. */
	snprintf(list, sizeof(list), "readwrite%s%s",
		 refusal_here("msg_zerocopy", SC_SEND, TR_VETH) ? "" : ",msg_zerocopy",
		 refusal_here("uring_send_zc", SC_SEND, TR_VETH) ? "" : ",uring_send_zc");
	bench_group_add(b, p, list, SC_SEND, TR_VETH, 256ull << 20, DEFAULT_BLOCK);
}

/*
 * The relay floor: every relay strategy, nat among them, on the one
 * path where nat can run (routed: a router namespace between two veth
 * links; NOTES: PREROUTING DNAT does not act on loopback).
 */
static void bench_routed_group(struct bench *b, const struct parsed *p)
{
	struct link_config routed_cfg = { .routed = true };
	char routed_err[256];

	b->routed = link_create(&routed_cfg, routed_err, sizeof(routed_err)) == 0;
	if (!b->routed) {
		fprintf(stderr, "copylab: bench: no relay-vs-nat comparison: %s\n", routed_err);
		return;
	}
	if (refusal_here("nat", SC_RELAY, TR_ROUTED))
		fprintf(stderr, "copylab: bench: relay over routed without nat: %s\n",
			refusal_here("nat", SC_RELAY, TR_ROUTED));
	bench_group_add(b, p, "all", SC_RELAY, TR_ROUTED, 256ull << 20, DEFAULT_BLOCK);
}

/*
 * Zero-copy receive against readwrite's receive: store over lo-ns, the
 * same link and the same MSG_ZEROCOPY sender for both, at the default
 * block and at 1 MiB, where readwrite makes as few calls.
 */
static void bench_lons_groups(struct bench *b, const struct parsed *p)
{
	char lons_err[256];
	struct group *g;

	for (int k = 0; k < 2 && lons_create(lons_err, sizeof(lons_err)) == 0; k++)
		bench_group_add(b, p, "readwrite,zerocopy_recv", SC_STORE, TR_LONS,
				256ull << 20, k ? ZCRECV_BENCH_BLOCK : DEFAULT_BLOCK);
	/* recv, claim 13's cell: the receiver uses the bytes where they arrive, with the floor beside. */
	if (lons_netns_name() && (g = bench_group_add(b, p, "all", SC_RECV, TR_LONS, 256ull << 20, RECV_BENCH_BLOCK)))
		bench_group_label(b, g, "readwrite:trunc");
	if (!lons_netns_name())
		fprintf(stderr, "copylab: bench: no zero-copy receive comparison: %s\n", lons_err);
}

/*
 * A relay over tcp bounded by time (10 s; --quick: 2 s) with a reading
 * every 100 ms: the interval series make bench draws (plots/series-*),
 * its min, median and max interval throughput in the table.  Not with
 * --fault, which acts at byte offsets of a stream of known length.
 */
static void bench_timed_group(struct bench *b, const struct parsed *p)
{
	struct group *g;

	if (p->cfg.fault.kind != FAULT_NONE || p->cfg.corrupt != CORRUPT_NONE)
		return;
	if (!(g = bench_group_add(b, p, "readwrite,splice", SC_RELAY, TR_TCP, TIME_RING, DEFAULT_BLOCK)))
		return;
	g->cfg.size = TIME_RING;
	g->cfg.time_s = p->quick ? 2 : 10;
	g->cfg.interval_s = 0.1;
}

/*
 * Latency at offered loads: echo, and relay's round trip (through the
 * relay to a fixed echo), with readwrite, splice and sockmap at three
 * loads, 1 KiB requests sent open loop.  Each cell is about a second of
 * requests (--quick: a quarter).  Not with --fault, whose one-way acts a
 * round trip refuses.
 */
static const unsigned bench_loads[] = { 1000, 4000, 16000 };

static void bench_load_groups(struct bench *b, const struct parsed *p)
{
	static const enum scenario scs[] = { SC_ECHO, SC_RELAY };

	if (p->cfg.fault.kind != FAULT_NONE || p->cfg.corrupt != CORRUPT_NONE || p->cfg.sink_discard)
		return;
	for (size_t k = 0; k < sizeof(scs) / sizeof(scs[0]); k++)
		for (size_t l = 0; l < sizeof(bench_loads) / sizeof(bench_loads[0]); l++) {
			struct group *g = bench_group_add(b, p, "readwrite,splice,sockmap", scs[k], TR_TCP, 0, 1024);
			uint64_t requests = p->quick ? bench_loads[l] / 4 : bench_loads[l];

			if (!g)
				return;
			g->cfg.rps = bench_loads[l];
			g->cfg.size = requests * 1024;
		}
}

/* The session's probes into every group; a fault that does not apply to a scenario leaves its cells alone. */
static void bench_attach_probes(struct bench *b)
{
	char err[320];

	for (int i = 0; i < b->ngroups; i++) {
		struct group *g = &b->groups[i];

		if (fault_check(&g->cfg.fault, g->cfg.scenario, false, err, sizeof(err))) {
			memset(&g->cfg.fault, 0, sizeof(g->cfg.fault));
			g->cfg.sink_close_at = UINT64_MAX;
		}
		g->cfg.ledger = b->s.ledger;
		g->cfg.bpf_note = b->s.bpf_note;
		g->cfg.sampler = b->s.sampler;
		g->cfg.cputime_note = b->s.cputime_note;
		g->cfg.tracer = b->s.tracer;
		g->cfg.tracer_note = b->s.tracer_note;
	}
}

/*
 * CPUs the rest of the machine kept busy in one second with nothing of
 * ours running, into *busy_cpus (left as it was when /proc/stat cannot be
 * read): system-wide figures include that load, so on a shared machine
 * they are read against it.
 */
static void measure_background(double *busy_cpus)
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
		*busy_cpus = system_cpu_busy(&d) / 1.0;
}

/* Every group in turn; a failed one does not stop the bench.  How many failed. */
static int bench_run(struct bench *b)
{
	int failed = 0;

	b->s.keep_going = true;
	for (int i = 0; i < b->ngroups && !run_interrupted; i++) {
		struct group *g = &b->groups[i];

		if (g->cfg.transport == TR_ROUTED && g->cfg.scenario == SC_RELAY)
			measure_background(&b->background_busy_cpus);
		if (run_group(&b->s, g))
			failed++;
	}
	return failed;
}

/* The table, the headline figures, then the probe cost, measured first but printed last. */
static void bench_print(struct bench *b)
{
	char *probe_text = NULL;
	size_t probe_len = 0;
	FILE *probe_out = open_memstream(&probe_text, &probe_len);

	/* Once, on the matrix's relay cell (the first relay group, over tcp). */
	for (int i = 0; i < b->ngroups && !run_interrupted && probe_out; i++) {
		const struct group *g = &b->groups[i];

		if (g->cfg.scenario == SC_RELAY && g->cfg.transport == TR_TCP && b->s.ledger &&
		    g->cfg.fault.kind == FAULT_NONE) {
			bench_probe_cost(&b->s, g, probe_out);
			break;
		}
	}
	if (probe_out)
		fclose(probe_out);
	results_print_table(b->s.res, stdout);
	print_headline(&b->s, b->background_busy_cpus, stdout);
	if (probe_text)
		fputs(probe_text, stdout);
	free(probe_text);
}

/*
 * Why the bench ended early, in words: the signal and where it came,
 * or how many groups and cells failed.
 */
static void bench_say_end(const struct bench *b, int failed)
{
	if (run_interrupted)
		fprintf(stderr, "copylab: bench interrupted by SIG%s (%s) after %d of %d repetitions; "
			"%d cell%s had failed before; the records of the finished repetitions are in %s/\n",
			sigabbrev_np(run_interrupted), strsignal(run_interrupted), b->s.cells_done,
			b->s.cells_total, b->s.cells_failed, b->s.cells_failed == 1 ? "" : "s",
			results_dir(b->s.res));
	if (failed)
		fprintf(stderr, "copylab: %d of %d scenario groups had a failed cell (%d cell%s in all); "
			"the others ran to their end\n", failed, b->ngroups, b->s.cells_failed,
			b->s.cells_failed == 1 ? "" : "s");
}

/* The links, the stack and the probes go on every way out; atexit covers a return too. */
static int bench_abandon(struct bench *b, int r)
{
	cpusample_close(b->s.sampler);
	if (b->s.ledger)
		ledger_close(b->s.ledger);
	link_destroy();
	lons_destroy();
	return r;
}

int cmd_bench(int argc, char **argv)
{
	struct bench b = { .background_busy_cpus = NAN };
	struct parsed p;
	int r, failed;

	/* Before the first link: a signal's default action would leave it behind. */
	catch_stop_signals();
	if ((r = parse_common(argc, argv, "bench", true, &p)))
		return r;
	if (p.help) {
		fputs(bench_help, stdout);
		return 0;
	}
	if ((r = session_check_paths(p.out, p.workdir)))
		return r;
	b.s.reps = p.reps_set ? p.reps : (p.quick ? 2 : 5);
	b.s.warmup = 1;
	/* The probes first: the tracer may re-execute copylab, which would forget links made before. */
	if ((r = session_ledger(&b.s, p.no_bpf, p.require_bpf)) ||
	    (r = session_tracer(&b.s, p.tracer, p.no_tracer)))
		return bench_abandon(&b, r);
	if (interrupted_during("while loading the probes: nothing was made or run"))
		return bench_abandon(&b, EXIT_RUN_FAILED);
	bench_scenario_groups(&b, &p);
	bench_block_sweep_groups(&b, &p);
	bench_veth_groups(&b, &p);
	bench_routed_group(&b, &p);
	bench_lons_groups(&b, &p);
	bench_timed_group(&b, &p);
	bench_load_groups(&b, &p);
	if (interrupted_during("while making the links: they are removed, nothing was run"))
		return bench_abandon(&b, EXIT_RUN_FAILED);
	if (p.quick)
		fprintf(stderr, "copylab: --quick is a smoke run (64 MiB, 2 reps): its figures are not for quoting\n");
	bench_attach_probes(&b);
	if (b.veth)
		results_env_extra("transport_veth", transport_facts(TR_VETH, NULL));
	if (b.routed)
		results_env_extra("transport_routed", transport_facts(TR_ROUTED, NULL));
	session_conditions(&p, &b.s);
	if ((r = session_open(&b.s, p.out, p.workdir)))
		return bench_abandon(&b, r);
	failed = bench_run(&b);
	if (!run_interrupted)
		bench_print(&b);
	bench_say_end(&b, failed);
	session_close(&b.s, run_interrupted ? stderr : NULL);
	if (session_stdout_check("the table and the headline figures"))
		return EXIT_RUN_FAILED;
	return failed || run_interrupted ? EXIT_RUN_FAILED : 0;
}
