/* SPDX-License-Identifier: MIT */
/*
 * copylab bench's headline figures: medians over the session's counted
 * reps, set side by side (loopback against veth, the relay floor, zero-copy
 * sends and receives, pipe sizes, echo latency).
 */
#include "bench_report.h"
#include "run_options.h"
#include "harness/model/options.h"
#include "harness/model/scenario.h"
#include "harness/measure/sysstat.h"
#include "harness/results/stats.h"
#include "harness/results/role_figures.h"
#include "harness/results/summary.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Whether a and b are reps of one round-trip cell: scenario, message, window, offered load, strategy. */
static bool same_round_trip_cell(const struct rep_result *a, const struct rep_result *b)
{
	return a->cell.scenario == b->cell.scenario && a->cell.block == b->cell.block &&
	       a->cell.outstanding == b->cell.outstanding && a->cell.rps == b->cell.rps &&
	       !strcmp(a->cell.strategy, b->cell.strategy);
}

/* Median over the reps of one round-trip cell of a latency figure (offset into the summary). */
static double echo_median(const struct session *s, const struct rep_result *like, size_t field)
{
	double *v = calloc(s->nall ? s->nall : 1, sizeof(*v));
	size_t n = 0;

	for (size_t i = 0; v && i < s->nall; i++) {
		const struct rep_result *r = &s->all[i];

		if (same_round_trip_cell(r, like) && r->latency.count)
			v[n++] = *(const double *)((const char *)&r->latency + field);
	}
	double m = n ? stats_median(v, n) : NAN;

	free(v);
	return m;
}

/* Whether r is the first rep of its round-trip cell in the session. */
static bool first_of_cell(const struct session *s, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (same_round_trip_cell(&s->all[j], &s->all[i]))
			return false;
	return true;
}

/*
 * Round trips at offered loads (open loop): echo, and relay's round trip
 * through the relay to a fixed echo.  A load the client could not offer
 * (achieved under 0.9 of it) is marked: its latencies are not of that load.
 */
static void print_load_latency(const struct session *s, FILE *out)
{
	bool header = false;

	for (size_t i = 0; i < s->nall; i++) {
		const struct rep_result *r = &s->all[i];
		double achieved;

		if (!r->cell.rps || !r->latency.count || !first_of_cell(s, i))
			continue;
		if (!header) {
			fprintf(out, "\nRound trips at an offered load (µs; open loop, each timed from when it was due;\n"
				"echo, and relay end to end through the relay to a fixed echo; median over the reps):\n"
				"  %-6s %-10s %8s %9s %8s %8s %8s %9s\n", "", "strategy", "message", "offered/s",
				"achieved", "p50", "p99", "p99.9");
			header = true;
		}
		achieved = echo_median(s, r, offsetof(struct latency_summary, achieved_rps));
		fprintf(out, "  %-6s %-10s %8zu %9u %8.0f %8.1f %8.1f %8.1f%s\n", scenario_name(r->cell.scenario),
			r->cell.strategy, r->cell.block, r->cell.rps, achieved,
			echo_median(s, r, offsetof(struct latency_summary, p50_us)),
			echo_median(s, r, offsetof(struct latency_summary, p99_us)),
			echo_median(s, r, offsetof(struct latency_summary, p999_us)),
			achieved < 0.9 * r->cell.rps ? "  not offered" : "");
	}
}

/* Echo round trips per cell: the median over reps of each percentile. */
static void print_echo_latency(const struct session *s, FILE *out)
{
	bool header = false;

	for (size_t i = 0; i < s->nall; i++) {
		const struct rep_result *r = &s->all[i];

		if (r->cell.scenario != SC_ECHO || r->cell.rps || !r->latency.count || !first_of_cell(s, i))
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
 * transport, strategy, block) cell, with --pipe-size PIPE asked (0: the
 * default).
 */
static double figure_median_at(const struct session *s, enum scenario sc, const char *tr, const char *label,
			       size_t block, size_t pipe, rep_figure fig)
{
	double *v = calloc(s->nall ? s->nall : 1, sizeof(*v));
	size_t n = 0;

	for (size_t i = 0; v && i < s->nall; i++) {
		const struct rep_result *r = &s->all[i];
		double x;

		if (r->cell.scenario != sc || strcmp(r->cell.transport, tr) || strcmp(r->cell.strategy, label) ||
		    strcmp(r->cell.cache, "warm") || r->cell.pipe_asked != pipe || r->cell.bytes == 0 ||
		    r->cell.time_s > 0 ||	/* the timed relay is a figure of its own (print_timed_relay) */
		    r->cell.block != block || isnan(x = fig(r)))
			continue;
		v[n++] = x;
	}
	double m = n ? stats_median(v, n) : NAN;

	free(v);
	return m;
}

/* At the matrix's block, with --pipe-size PIPE asked. */
static double figure_median_pipe(const struct session *s, enum scenario sc, const char *tr, const char *label,
				 size_t pipe, rep_figure fig)
{
	return figure_median_at(s, sc, tr, label, DEFAULT_BLOCK, pipe, fig);
}

/* At the matrix's block and the kernel's default pipe size. */
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
 * background_busy_cpus: what the rest of the machine kept busy just
 * before, read against the system-wide figures.
 */
static void print_relay_floor(const struct session *s, double background_busy_cpus, FILE *out)
{
	const char *labels[MAX_SPECS];
	int n = point_labels(s, SC_RELAY, "routed", labels);
	double nat_sys = figure_median(s, SC_RELAY, "routed", "nat", fig_system_cpu);

	if (n == 0)
		return;
	fprintf(out, "\nRelay over routed (A | router | B; the relay in the router namespace, nat's DNAT there;\n"
		"medians; system = whole-machine busy CPU per GiB: the ledger's idle ns, or /proc/stat ticks):\n"
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

/* The counted rep of one cell (scenario, transport, strategy, block) and rep number; NULL if none. */
static const struct rep_result *cell_rep(const struct session *s, enum scenario sc, const char *tr,
					 const char *label, size_t block, int rep)
{
	for (size_t i = 0; i < s->nall; i++) {
		const struct rep_result *r = &s->all[i];

		if (r->cell.scenario == sc && !strcmp(r->cell.transport, tr) &&
		    !strcmp(r->cell.strategy, label) && r->cell.block == block && r->rep == rep)
			return r;
	}
	return NULL;
}

static const struct rep_result *lons_store_rep(const struct session *s, const char *label, size_t block,
					       int rep)
{
	return cell_rep(s, SC_STORE, "lo-ns", label, block, rep);
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
 * Claim 13's figure, here and in the bench: in recv (the receiver hashes
 * the bytes where they arrived, no write after) each receiver's CPU per
 * GiB over readwrite's, paired rep by rep, with the interval of the
 * median; readwrite:trunc (MSG_TRUNC, unverified) is the floor no receive
 * strategy can go below.
 */
static void print_recv_ratio(const struct session *s, const char *tr, const char *label, FILE *out)
{
	double ratio[64], mine[64];
	size_t n = 0;

	for (int rep = 1; rep <= 64; rep++) {
		const struct rep_result *a = cell_rep(s, SC_RECV, tr, label, RECV_BENCH_BLOCK, rep);
		const struct rep_result *b = cell_rep(s, SC_RECV, tr, "readwrite", RECV_BENCH_BLOCK, rep);

		if (!a || !b || receiver_cpu_per_gib(b) <= 0 || a->cell.bytes == 0)
			continue;
		mine[n] = receiver_cpu_per_gib(a);
		ratio[n] = mine[n] / receiver_cpu_per_gib(b);
		n++;
	}
	if (!n)
		return;
	struct stats_summary r = stats_summarize(ratio, n);

	fprintf(out, "  %-6s %-16s %.3f s/GiB = %.2fx readwrite's [%.2f..%.2f, %.1f%%] over %zu paired reps%s\n", tr,
		label, stats_median(mine, n), r.median, r.ci.lo, r.ci.hi, 100 * r.ci.level, n,
		strcmp(label, "readwrite:trunc") ? "" : " (the floor; unverified)");
}

static void print_recv_comparison(const struct session *s, FILE *out)
{
	static const char *const trs[] = { "tcp", "lo-ns" };
	static const char *const labels[] = { "zerocopy_recv", "uring_rw", "readwrite:trunc" };
	bool any = false;

	for (size_t i = 0; i < s->nall && !any; i++)
		any = s->all[i].cell.scenario == SC_RECV && s->all[i].cell.block == RECV_BENCH_BLOCK;
	if (!any)
		return;
	fprintf(out, "\nReceive into memory (recv, %zu KiB chunks: the receiver hashes the bytes where they arrived;\n"
		"receiver CPU per GiB against readwrite's, paired rep by rep; claim 13 says zerocopy_recv ~0.45x):\n",
		RECV_BENCH_BLOCK >> 10);
	for (size_t t = 0; t < sizeof(trs) / sizeof(trs[0]); t++)
		for (size_t k = 0; k < sizeof(labels) / sizeof(labels[0]); k++)
			print_recv_ratio(s, trs[t], labels[k], out);
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

/* sockmap against splice in the relay over tcp: its own CPU and, since its work lands in softirq, the machine's. */
static void print_sockmap_relay(const struct session *s, FILE *out)
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

/* ---- copy time: sampled, and predicted from the ledger's bytes ---------------- */

static const struct role_result *tested_of(const struct rep_result *r)
{
	for (int i = 0; i < r->nroles; i++)
		if (r->roles[i].under_test)
			return &r->roles[i];
	return NULL;
}

static double fig_copy(const struct rep_result *r)
{
	const struct role_result *ro = tested_of(r);

	return ro && ro->have_cputime ? role_cputime_of(ro, NULL).copy_s / gib_of(r) : NAN;
}

static double fig_copy_kernel(const struct rep_result *r)
{
	const struct role_result *ro = tested_of(r);

	return ro && ro->have_cputime ? role_cputime_of(ro, NULL).group_s[CG_COPY_KERNEL] / gib_of(r) : NAN;
}

static double fig_predicted_resident(const struct rep_result *r)
{
	const struct role_result *ro = tested_of(r);

	return ro ? role_cputime_of(ro, memcpy_rate()).predicted_resident_s / gib_of(r) : NAN;
}

static double fig_predicted_dram(const struct rep_result *r)
{
	const struct role_result *ro = tested_of(r);

	return ro ? role_cputime_of(ro, memcpy_rate()).predicted_dram_s / gib_of(r) : NAN;
}

/* Bytes through the tested role's memory (to + from user) per byte moved. */
static double fig_usermem(const struct rep_result *r)
{
	const struct role_result *ro = tested_of(r);
	struct role_ledger l;

	if (!ro || !(l = role_ledger_of(ro)).have)
		return NAN;
	return (double)(l.to_user + l.from_user) / (double)r->cell.bytes;
}

/* Per strategy of SC over tcp: sampled copy s/GiB beside the prediction's range and the ledger's bytes. */
static void print_copy_point(const struct session *s, enum scenario sc, FILE *out)
{
	const char *labels[MAX_SPECS];
	int n = point_labels(s, sc, "tcp", labels);

	for (int k = 0; k < n; k++) {
		double c = figure_median(s, sc, "tcp", labels[k], fig_copy);
		double lo = figure_median(s, sc, "tcp", labels[k], fig_predicted_resident);
		double hi = figure_median(s, sc, "tcp", labels[k], fig_predicted_dram);
		double um = figure_median(s, sc, "tcp", labels[k], fig_usermem);

		if (isnan(c) && isnan(um))
			continue;
		fprintf(out, "  %-6s %-16s %8.3f  %8.3f .. %-8.3f  %6.2f\n", scenario_name(sc), labels[k], c, lo, hi, um);
	}
}

/*
 * Where the ledger infers, the sampler measures: the tested role's time in
 * the copy routines per GiB against what its bytes through user memory
 * would take at memcpy's rates (in cache .. from memory).
 */
static void print_copy_time(const struct session *s, FILE *out)
{
	double rw = figure_median(s, SC_RELAY, "tcp", "readwrite", fig_copy);
	double sp = figure_median(s, SC_RELAY, "tcp", "splice", fig_copy);
	double spk = figure_median(s, SC_RELAY, "tcp", "splice", fig_copy_kernel);
	double urw = figure_median(s, SC_SERVE, "tcp", "uring_rw", fig_usermem);
	double rrw = figure_median(s, SC_SERVE, "tcp", "readwrite", fig_usermem);

	if (isnan(rw) && isnan(urw))
		return;
	fprintf(out, "\nCopy time (the CPU sampler) and the ledger's bytes:\n");
	if (!isnan(rw) && !isnan(sp))
		fprintf(out, "  relay over tcp, relay-role copy seconds per GiB (sampled): readwrite %.3f s, splice %.4f s "
			"(of it in the kernel's copy routines %.4f s)\n", rw, sp, spk);
	if (!isnan(urw))
		fprintf(out, "  serve over tcp, GiB through the server's memory per GiB (ledger, io_uring counted): "
			"uring_rw %.2f, readwrite %.2f\n", urw, rrw);
	fprintf(out, "\n  The role under test over tcp (s per GiB, medians): sampled copy time, and predicted\n"
		"  from the ledger's bytes through user memory at memcpy's rates (cached .. from memory); GiB\n"
		"  through user memory per GiB moved (the ledger):\n"
		"  %-6s %-16s %8s  %20s  %6s\n", "", "strategy", "sampled", "predicted", "GiB");
	print_copy_point(s, SC_RELAY, out);
	print_copy_point(s, SC_SERVE, out);
}

/* ---- the hypervisor's steal over the whole bench ---------------------------------- */

/*
 * How much of the machine the host kept back, rep by rep (steal_s over
 * wall_s, in CPUs): throughput and latency carry it, and the tables name
 * the cells where it was notable (summary.h).
 */
static void print_steal(const struct session *s, FILE *out)
{
	long ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	double *v = malloc((s->nall + 1) * sizeof(*v));
	size_t n = 0, notable = 0;

	if (!v)
		return;
	for (size_t i = 0; i < s->nall; i++) {
		const struct rep_result *r = &s->all[i];

		if (!r->system_cpu.have || !(r->wall_s > 0))
			continue;
		v[n] = r->system_cpu.steal_s / r->wall_s;
		notable += steal_notable(v[n], (double)ncpus);
		n++;
	}
	if (n)
		fprintf(out, "\nSteal (the hypervisor kept the CPUs, /proc/stat), in CPUs of %ld, over %zu reps: "
			"median %.3f, max %.3f;\n  %zu rep%s at 5%% of the CPUs or more (a cell whose median rep "
			"reached it has a steal: line under its table).\n  System-wide CPU figures leave steal out "
			"(docs/metrics.md); throughput and latency cannot.\n", ncpus, n, stats_median(v, n),
			stats_max(v, n), notable, notable == 1 ? "" : "s");
	free(v);
}

/* ---- the block sweep: a cell far below readwrite's at its block ----------------- */

static const size_t sweep_blocks[] = { 4096, 16384, 65536, 262144, 1048576 };

static void print_stalls(const struct session *s, FILE *out)
{
	static const enum scenario scs[] = { SC_SERVE, SC_SEND, SC_RELAY };
	int stalls = 0, seen = 0, blocks = 0;

	for (size_t i = 0; i < sizeof(scs) / sizeof(scs[0]); i++) {
		const char *labels[MAX_SPECS];
		int n = point_labels(s, scs[i], "tcp", labels);

		for (size_t b = 0; b < sizeof(sweep_blocks) / sizeof(sweep_blocks[0]); b++) {
			double rw = figure_median_at(s, scs[i], "tcp", "readwrite", sweep_blocks[b], 0, fig_throughput);

			if (!(rw > 0))
				continue;
			blocks |= 1 << b;
			for (int k = 0; k < n; k++) {
				double v = figure_median_at(s, scs[i], "tcp", labels[k], sweep_blocks[b], 0, fig_throughput);

				if (isnan(v))
					continue;
				seen++;
				if (v * 10 >= rw)
					continue;
				if (!stalls++)
					fprintf(out, "\nBlock sweep over tcp: cells under a tenth of readwrite's throughput at the same block:\n");
				fprintf(out, "  %s %s, block %zu KiB: %.0f MB/s against readwrite's %.0f (%.3fx)\n",
					scenario_name(scs[i]), labels[k], sweep_blocks[b] >> 10, v / 1e6, rw / 1e6, v / rw);
			}
		}
	}
	/* Only a run that swept the blocks (bench --quick) says none stalled across them. */
	if (seen > 0 && !stalls && (blocks & (blocks - 1)))
		fprintf(out, "\nBlock sweep over tcp (serve, send, relay; 4 KiB .. 1 MiB): no cell under a tenth of "
			"readwrite's throughput at its block (%d cells)\n", seen);
}

bool bench_sweep_block(size_t i, size_t *block)
{
	if (i >= sizeof(sweep_blocks) / sizeof(sweep_blocks[0]))
		return false;
	*block = sweep_blocks[i];
	return true;
}

/*
 * The relay bounded by time (issue 20): per strategy, the lowest and
 * highest interval throughput over its reps and the median of their
 * medians; the series themselves are drawn by copylab plot (series-*).
 */
static void print_timed_relay(const struct session *s, FILE *out)
{
	static const char *const labels[] = { "readwrite", "splice" };
	bool head = false;

	for (size_t k = 0; k < sizeof(labels) / sizeof(labels[0]); k++) {
		double mn = INFINITY, mx = 0, med[64], t = 0;
		size_t n = 0;

		for (size_t i = 0; i < s->nall && n < 64; i++) {
			const struct rep_result *r = &s->all[i];

			if (r->cell.scenario != SC_RELAY || strcmp(r->cell.transport, "tcp") ||
			    strcmp(r->cell.strategy, labels[k]) || !(r->cell.time_s > 0) || r->interval_bps.n == 0)
				continue;
			mn = fmin(mn, r->interval_bps.min);
			mx = fmax(mx, r->interval_bps.max);
			med[n++] = r->interval_bps.median;
			t = r->cell.time_s;
		}
		if (!n)
			continue;
		if (!head)
			fprintf(out, "\nRelay over tcp bounded by time, interval throughput (plots/series-relay-tcp-*):\n");
		fprintf(out, "  %-9s %g s, %zu rep%s: min %.0f MB/s, median %.0f, max %.0f (max/min %.2fx)\n", labels[k], t,
			n, n == 1 ? "" : "s", mn / 1e6, stats_median(med, n) / 1e6, mx / 1e6, mn > 0 ? mx / mn : NAN);
		head = true;
	}
}

void print_headline(const struct session *s, double background_busy_cpus, FILE *out)
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
	print_sockmap_relay(s, out);
	print_echo_latency(s, out);
	print_load_latency(s, out);
	print_veth_comparison(s, out);
	print_relay_floor(s, background_busy_cpus, out);
	print_send_zerocopy(s, out);
	print_zcrecv_comparison(s, out);
	print_recv_comparison(s, out);
	print_copy_time(s, out);
	print_stalls(s, out);
	print_timed_relay(s, out);
	print_steal(s, out);
}
