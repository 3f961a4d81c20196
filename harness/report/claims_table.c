/* SPDX-License-Identifier: MIT */
/*
 * The claims `copylab claims` measures, one entry each, the cells that
 * test them, and their judges: pure functions from the cells' records and
 * the direct checks' results to a verdict, its measurement and its reason.
 */
#include "claims_figures.h"
#include "claims_seeds.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- the cells */

const struct cell_spec cell_specs[CELL_COUNT] = {
	[CELL_RELAY] = { .scenario = "relay", .strategies = "readwrite,splice" },
	/* Two sizes: the page faults of mmap_write grow with the file. */
	[CELL_SERVE] = { .scenario = "serve", .strategies = "readwrite,mmap_write,sendfile,splice", .sweep = true },
	[CELL_FANOUT] = { .scenario = "fanout", .strategies = "readwrite,tee" },
	[CELL_PIPE] = { .scenario = "pipe", .strategies = "readwrite,vmsplice,vmsplice:gift" },
	[CELL_SOCKMAP] = {
		.scenario = "relay", .strategies = "readwrite", .uses = "sockmap",
		.privilege = RUN_AS_ITS_STRATEGY,
		.unrun = "copylab run --scenario relay --strategy readwrite,sockmap (not run)",
	},
	/*
	 * nat runs only where a router forwards (NOTES: PREROUTING DNAT needs a
	 * router namespace between two veth links), so its cell is over
	 * routed (nat's only transport), with readwrite and splice on the same
	 * path beside it.
	 */
	[CELL_NAT] = {
		.scenario = "relay", .strategies = "readwrite,splice", .uses = "nat",
		.privilege = RUN_AS_ITS_STRATEGY,
		.unrun = "copylab run --scenario relay --strategy nat --transport routed (not run)",
	},
	/*
	 * Zero-copy receive needs its own namespace (lo-ns), so root; at the
	 * selftest's own chunk size, so read() is not charged for more calls.
	 * recv, not store: the receiver uses the bytes where they arrived, as
	 * the selftest does, with no file write to hide the saving.
	 * readwrite:trunc (MSG_TRUNC) is the floor beside it, never the verdict.
	 */
	[CELL_ZEROCOPY_RECV] = {
		.scenario = "recv", .strategies = "readwrite,readwrite:trunc", .uses = "zerocopy_recv",
		.transport = "lo-ns", .block = "512K",
		.privilege = RUN_ROOT_ONLY, .root_why = "transport lo-ns makes a network namespace, which needs root",
		.unrun = "copylab run --scenario recv --strategy readwrite,readwrite:trunc,zerocopy_recv --transport lo-ns --block 512K",
	},
	[CELL_REFUSE_SENDFILE] = { .scenario = "relay", .strategies = "sendfile", .refusal = true },
	[CELL_REFUSE_SPLICE] = { .scenario = "send", .strategies = "splice", .refusal = true },
	SEED_CELL_SPECS
};

/* ---------------------------------------------------------------- the judges */

static void judge_readwrite_copies(const struct claim_evidence *ev, struct judgement *j)
{
	struct crgroup g = { ev->cell[CELL_RELAY].run, "readwrite", -1 };
	static const struct role_key rd_k = { "relay", "read" }, wr_k = { "relay", "write" };
	double rd = cell_median_of(&g, fig_ledger_calls, &rd_k), wr = cell_median_of(&g, fig_ledger_calls, &wr_k);
	double per_chunk = (rd + wr) / rd, l[3];
	struct copy_cmp c;
	char a[32], b[32], d[32], e[32];

	ledger_of(&g, "relay", l);
	by_construction(j, "%s GiB to user and %s GiB from user per GiB — by construction: the ledger counts what "
			"read-family calls return as copied to user and what write-family calls take as copied from user",
			fmt_g(l[0], a, sizeof(a)), fmt_g(l[1], b, sizeof(b)));
	MEASURE(j, "%s syscalls per chunk (%s bytes per read, median), so %s mode switches per chunk; the sink "
		"reads each byte once (one copy); ", fmt_g(per_chunk, a, sizeof(a)),
		fmt_g(cell_median(&g, "bytes") / rd, d, sizeof(d)), fmt_g(2 * per_chunk, e, sizeof(e)));
	c = copy_compare(j, (struct copy_side){ &g, "relay", "the relay" },
			 (struct copy_side){ &g, "sink", "the sink" });
	MEASURE(j, ". DMA copies are not visible to any counter here and on loopback there are none.");
	if (isnan(per_chunk))
		decide(j, V_CANNOT, "the ledger did not count the relay's calls");
	else if (per_chunk < 1.8 || per_chunk > 2.6)
		decide(j, V_NOT, "%.2f system calls per chunk, not two", per_chunk);
	else if (c.state != COPY_MEASURED)
		decide(j, V_CANNOT, "two calls per chunk measured; the two CPU copies cannot be: %s", c.why);
	else if (c.share >= 1.4 && c.share <= 3.0)
		decide(j, V_HOLDS, "two calls per chunk, and the relay's copy time was %.1fx the sink's single copy: "
		       "two CPU copies; the other two \"copies\" are DMA, which loopback does not do", c.share);
	else
		decide(j, V_NOT, "the relay's copy time was %.1fx the sink's single copy, not about twice it", c.share);
}

static void judge_readwrite_context_switches(const struct claim_evidence *ev, struct judgement *j)
{
	struct crgroup g = { ev->cell[CELL_RELAY].run, "readwrite", -1 };
	static const struct role_key rd_k = { "relay", "read" };
	double sw = cell_median(&g, "roles.relay.bpf.sched_switches");
	double rd = cell_median_of(&g, fig_ledger_calls, &rd_k);
	char a[32];

	/* perf counts the same switches where the BPF ledger is not loaded. */
	if (isnan(sw))
		sw = cell_median(&g, "roles.relay.perf.context_switches");
	MEASURE(j, "%s scheduler switches per chunk (median), against 4 mode switches per chunk: "
		"a switch happens only when a call blocks (no data yet, a full socket buffer) or the task is preempted.",
		fmt_g(sw / rd, a, sizeof(a)));
	if (isnan(sw) || isnan(rd))
		decide(j, V_CANNOT, "neither the BPF ledger nor perf counted the relay's switches and calls");
	else if (sw / rd >= 3.0)
		decide(j, V_HOLDS, "the relay switched out about four times per chunk");
	else
		decide(j, V_NOT, "the four are mode switches (user<->kernel), not scheduler switches");
}

static void judge_sendfile_no_user_copy(const struct claim_evidence *ev, struct judgement *j)
{
	long big = cr_size(ev->size);
	struct crgroup g = { ev->cell[CELL_SERVE].run, "sendfile", big };
	struct crgroup r = { ev->cell[CELL_SERVE].run, "readwrite", big };
	struct copy_cmp c;
	double l[3];
	char a[32], b[32], d[32];

	ledger_of(&g, "server", l);
	by_construction(j, "0 bytes through user memory (ledger: to user %s, from user %s, in kernel %s GiB per GiB) — "
			"by construction: the ledger counts sendfile as in-kernel",
			fmt_g(l[0], a, sizeof(a)), fmt_g(l[1], b, sizeof(b)), fmt_g(l[2], d, sizeof(d)));
	MEASURE(j, "server, %s: ", ev->size);
	c = copy_compare(j, (struct copy_side){ &g, "server", "sendfile" },
			 (struct copy_side){ &r, "server", "readwrite" });
	decide_no_copy(j, &c, "sendfile's server");
}

/* The exit status of a refusal cell, or -1 when it did not run. */
static int exit_of(const struct crcell *c)
{
	return c ? c->exit_code : -1;
}

static void judge_sendfile_not_from_socket(const struct claim_evidence *ev, struct judgement *j)
{
	const struct crcell *refused = ev->cell[CELL_REFUSE_SENDFILE].run;
	char *dt = call_text(ev->check.call);

	by_construction(j, "`copylab run --scenario relay --strategy sendfile` exited %d (%s) — by construction: "
			"copylab's support table refuses the pair before any call", exit_of(refused),
			refused ? refused->first_stderr_line : "not run");
	MEASURE(j, "the kernel check: %s", dt);
	if (ev->check.call.ret >= 0)
		decide(j, V_NOT, "this kernel accepted a socket as sendfile's input");
	else if (ev->check.call.err == EINVAL)
		decide(j, V_HOLDS, "the kernel itself refuses a socket as sendfile's input");
	else
		decide(j, V_CANNOT, "the check itself failed: %s", dt);
	free(dt);
}

static void judge_splice_needs_pipe(const struct claim_evidence *ev, struct judgement *j)
{
	const struct crcell *refused = ev->cell[CELL_REFUSE_SPLICE].run;
	struct crgroup g = { ev->cell[CELL_RELAY].run, "splice", -1 }, r = { ev->cell[CELL_RELAY].run, "readwrite", -1 };
	static const struct role_key sp_k = { "relay", "splice" };
	double chunks = cell_median(&g, "bytes") / cell_median(&g, "block"), l[3];
	const struct kcall *k = &ev->check.call;
	char *dt = call_text(*k);
	struct copy_cmp c;
	char a[32], b[32];

	ledger_of(&g, "relay", l);
	by_construction(j, "%s GiB per GiB in the kernel and %s to user for the splice relay — by construction: the "
			"ledger counts splice-family calls as in-kernel, and the relay splices each byte into its pipe "
			"and out; `copylab run --scenario send --strategy splice` exited %d — by construction: copylab's "
			"support table refuses it", fmt_g(l[2], a, sizeof(a)), fmt_g(l[0], b, sizeof(b)), exit_of(refused));
	MEASURE(j, "direct splice socket->socket %s; the splice relay made %s splice calls per chunk; ", dt,
		fmt_g(cell_median_of(&g, fig_ledger_calls, &sp_k) / chunks, a, sizeof(a)));
	c = copy_compare(j, (struct copy_side){ &g, "relay", "splice" },
			 (struct copy_side){ &r, "relay", "readwrite" });
	if (k->ret >= 0)
		decide(j, V_NOT, "this kernel spliced socket to socket without a pipe");
	else if (k->err != EINVAL)
		decide(j, V_CANNOT, "the check itself failed: %s", dt);
	else if (copied(&c))
		decide(j, V_NOT, "the kernel refuses a pipe-less splice, but the relay's route through its pipe spent "
		       "%.0f%% of readwrite's copy time per GiB: the pipe did not spare the copy", 100 * c.share);
	else if (c.state != COPY_MEASURED)
		decide(j, V_HOLDS, "the kernel refuses a pipe-less splice (EINVAL); whether the relay's pipe copies "
		       "cannot be measured here (%s)", c.why);
	else
		decide(j, V_HOLDS, "the kernel refuses a pipe-less splice (EINVAL), and the relay's route through its "
		       "pipe spent %.0f%% of readwrite's copy time per GiB", 100 * c.share);
	free(dt);
}

/* The measurement's "ROLE's own CPU per GiB: readwrite x s, A y s (medians); A/readwrite ratio; ". */
static void own_cpu_text(struct judgement *j, struct crcell *c, const char *a, long bytes, const char *role)
{
	struct crgroup ga = { c, a, bytes }, gr = { c, "readwrite", bytes };
	char path[96], x[32], y[32];
	struct crpaired p;

	snprintf(path, sizeof(path), "roles.%s.cpu_per_gib_s", role);
	p = paired_ratio(c, a, "readwrite", bytes, path);
	MEASURE(j, "%s's own CPU per GiB: readwrite %s s, %s %s s (medians); %s/readwrite ", role,
		fmt_g(cell_median(&gr, path), x, sizeof(x)), a, fmt_g(cell_median(&ga, path), y, sizeof(y)), a);
	paired_text(j, &p);
	MEASURE(j, "; ");
}

static void judge_splice_relay_less_cpu(const struct claim_evidence *ev, struct judgement *j)
{
	struct crcell *relay = ev->cell[CELL_RELAY].run;
	struct crgroup g = { relay, "splice", -1 }, r = { relay, "readwrite", -1 };
	struct sys_ratio s;
	struct copy_cmp c;

	own_cpu_text(j, relay, "splice", -1, "relay");
	s = system_ratio(j, relay, "splice", "readwrite", -1);
	MEASURE(j, "; ");
	c = copy_compare(j, (struct copy_side){ &g, "relay", "splice" },
			 (struct copy_side){ &r, "relay", "readwrite" });
	/* On loopback the relay's receive and transmit work runs in softirq, often in another's context. */
	if (copied(&c))
		decide(j, V_NOT, "splice spent %.0f%% of readwrite's copy time per GiB: the bytes were copied, so the "
		       "claim's reason does not hold", 100 * c.share);
	else if (!sys_ratio_undecidable(j, &s))
		decide_cost(j, &s.p, CELL_RELAY, "the system-wide CPU per GiB was lower (the paired interval lies below 1.0)",
			    "the system-wide CPU per GiB was higher (the paired interval lies above 1.0)");
	if (j->verdict != V_NOT && c.state != COPY_MEASURED)
		cr_append(&j->why, "; whether the bytes entered user memory cannot be measured here");
}

static void judge_tee_no_user_copy(const struct claim_evidence *ev, struct judgement *j)
{
	struct crgroup g = { ev->cell[CELL_FANOUT].run, "tee", -1 }, r = { ev->cell[CELL_FANOUT].run, "readwrite", -1 };
	static const struct role_key skb_k = { "relay", "skb_copy_bytes" };
	double l[3], rl[3], skb, rskb;
	struct copy_cmp c;
	char a[32], b[32], d[32], e[32], f[32];

	ledger_of(&g, "relay", l);
	ledger_of(&r, "relay", rl);
	by_construction(j, "0 bytes through user memory (ledger, tee relay: to user %s, from user %s, in kernel %s "
			"GiB per GiB; readwrite relay: to user %s, from user %s) — by construction: the ledger counts "
			"tee and splice as in-kernel", fmt_g(l[0], a, sizeof(a)), fmt_g(l[1], b, sizeof(b)),
			fmt_g(l[2], d, sizeof(d)), fmt_g(rl[0], e, sizeof(e)), fmt_g(rl[1], f, sizeof(f)));
	skb = cell_median_of(&g, fig_ledger_per_gib, &skb_k);
	rskb = cell_median_of(&r, fig_ledger_per_gib, &skb_k);
	MEASURE(j, "copied out of socket buffers into user memory (the probe on skb_copy_datagram_iovec, where the "
		"kernel makes that copy): tee %s, readwrite %s GiB per GiB; ", fmt_g(skb, a, sizeof(a)),
		fmt_g(rskb, b, sizeof(b)));
	c = copy_compare(j, (struct copy_side){ &g, "relay", "tee" },
			 (struct copy_side){ &r, "relay", "readwrite" });
	/*
	 * The recording leg writes a file: a splice into its page cache copies
	 * each byte in the kernel, as readwrite's write does, and the sampler's
	 * copy group cannot tell that copy from one across the user boundary.
	 */
	if (c.state != COPY_MEASURED)
		decide(j, V_CANNOT, "%s", c.why);
	else if (!copied(&c))
		decide(j, V_HOLDS, "the tee relay spent %.0f%% of readwrite's copy time per GiB: no copy of the payload",
		       100 * c.share);
	else if (isnan(skb))
		decide(j, V_CANNOT, "the relay copied in the kernel (%.0f%% of readwrite's copy time per GiB) and no probe "
		       "here says whether into user memory", 100 * c.share);
	else if (skb > 0.01)
		decide(j, V_NOT, "the tee relay copied %.2f GiB per GiB out of socket buffers into user memory", skb);
	else
		decide(j, V_HOLDS, "no byte left a socket buffer for user memory, but the relay still spent %.0f%% of "
		       "readwrite's copy time copying in the kernel (a splice into a file's page cache copies)",
		       100 * c.share);
}

static void judge_gift_needs_alignment(const struct claim_evidence *ev, struct judgement *j)
{
	const struct kcheck *gc = &ev->check;
	struct crcell *pipe = ev->cell[CELL_PIPE].run;
	struct crgroup g = { pipe, "vmsplice:gift", -1 }, r = { pipe, "vmsplice", -1 };
	struct crpaired p = paired_ratio(pipe, "vmsplice:gift", "vmsplice", -1, "bytes_per_s");
	char *ut = call_text(gc->call), *at = call_text(gc->aligned);
	struct crpaired cp;
	struct copy_cmp c;

	MEASURE(j, "unaligned gift %s%s; aligned gift of one page %s; throughput vmsplice:gift / vmsplice ",
		ut, gc->call.ret == 1000 ? (gc->data_intact ? " and the bytes read back intact" :
					    " but the bytes read back differ") : "", at);
	paired_text(j, &p);
	MEASURE(j, "; ");
	c = copy_compare(j, (struct copy_side){ &g, NULL, "vmsplice:gift (writer and reader)" },
			 (struct copy_side){ &r, NULL, "vmsplice" });
	cp = paired_ratio_of(pipe, "vmsplice:gift", "vmsplice", -1, fig_copy_per_gib, NULL);
	MEASURE(j, "; copy time vmsplice:gift / vmsplice ");
	paired_text(j, &cp);
	if (gc->call.ret >= 0)
		decide(j, V_NOT, "this kernel accepted an unaligned gift and delivered the bytes intact "
			   "(GIFT only marks the pipe buffers as stealable; nothing on this path steals them)%s",
		       c.state == COPY_MEASURED && c.share > 0.9 ? "; and gifted pages were copied like any other" :
		       ratio_side(&p) == SIDE_ACROSS ? "; and gifting made no measurable difference" : "");
	else if (gc->call.err != EINVAL)
		decide(j, V_CANNOT, "the check itself failed: %s", ut);
	else if (c.state != COPY_MEASURED)
		decide(j, V_CANNOT, "the kernel refused the unaligned gift (EINVAL); whether a gift moves pages instead "
		       "of copying them cannot be measured here: %s", c.why);
	else
		decide_cost(j, &cp, CELL_PIPE, "the kernel refused the unaligned gift, and gifting cut the copy time "
			    "(the paired interval lies below 1.0)", "the kernel refused the unaligned gift, but gifted pages "
			    "were copied more than plain ones (the paired interval lies above 1.0)");
	if (j->verdict == V_NODIFF)
		cr_append(&j->why, ": the kernel refused the unaligned gift, but a gift's copy time was no lower");
	free(ut);
	free(at);
}

static void judge_mmap_trades_copy_for_faults(const struct claim_evidence *ev, struct judgement *j)
{
	struct crcell *serve = ev->cell[CELL_SERVE].run;
	long big = cr_size(ev->size), small = cr_size(ev->size_small);
	struct crgroup mb = { serve, "mmap_write", big }, ms = { serve, "mmap_write", small };
	struct crgroup rb = { serve, "readwrite", big }, rs = { serve, "readwrite", small };
	double fb = cell_median(&mb, "roles.server.perf.page_faults"), fs = cell_median(&ms, "roles.server.perf.page_faults");
	double rfb = cell_median(&rb, "roles.server.perf.page_faults"), rfs = cell_median(&rs, "roles.server.perf.page_faults");
	double l[3], rl[3];
	struct crpaired p;
	struct copy_cmp c;
	char a[32], b[32], d[32], e[32], f[32], h[32];

	ledger_of(&mb, "server", l);
	ledger_of(&rb, "server", rl);
	by_construction(j, "%s GiB to user per GiB for mmap_write (readwrite: %s) — by construction: mmap_write makes "
			"no read call, and the ledger counts only what read-family calls return as copied to user",
			fmt_g(l[0], a, sizeof(a)), fmt_g(rl[0], b, sizeof(b)));
	MEASURE(j, "perf page faults of the server at %s / %s: mmap_write %s / %s, readwrite %s / %s (medians); at %s, ",
		ev->size_small, ev->size, fmt_g(fs, d, sizeof(d)), fmt_g(fb, e, sizeof(e)),
		fmt_g(rfs, f, sizeof(f)), fmt_g(rfb, h, sizeof(h)), ev->size);
	c = copy_compare(j, (struct copy_side){ &mb, "server", "mmap_write" },
			 (struct copy_side){ &rb, "server", "readwrite" });
	/* One copy of two saved is about half, but a read copy from a warm page cache costs less than the write's. */
	p = paired_ratio_of(serve, "mmap_write", "readwrite", big, fig_copy_per_gib, "server");
	MEASURE(j, "; copy time mmap_write / readwrite ");
	paired_text(j, &p);
	if (isnan(fb) || isnan(fs))
		decide(j, V_CANNOT, "perf did not count the server's page faults");
	else if (!(fb > 1.5 * fs && fb > 10 * (isnan(rfb) ? 0 : rfb)))
		decide(j, V_NOT, "the faults did not grow with the file");
	else if (c.state != COPY_MEASURED)
		decide(j, V_CANNOT, "the faults grew with the file; the copy mmap saves cannot be measured here: %s", c.why);
	else
		decide_cost(j, &p, CELL_SERVE, "mmap_write's copy time per GiB was lower than readwrite's (the paired "
			    "interval lies below 1.0: the read copy saved), and its faults grew with the file (one per "
			    "mapped page or fault-around batch)", "the faults grew with the file, but mmap_write's copy "
			    "time was higher than readwrite's: no copy saved");
}

/* One cell of zero-copy-faster: A's throughput over readwrite's, and the fixed role that bound both, if one did. */
struct faster_cell {
	struct crpaired p;
	enum side side;
	const char *limiter;
	double busy;
};

static struct faster_cell faster_cell(struct judgement *j, struct crcell *c, const char *a, long bytes,
				      const char *what)
{
	struct crgroup ga = { c, a, bytes }, gr = { c, "readwrite", bytes };
	struct faster_cell f = { .p = paired_ratio(c, a, "readwrite", bytes, "bytes_per_s") };

	f.side = ratio_side(&f.p);
	f.limiter = fixed_limiter(&ga, &gr, &f.busy);
	MEASURE(j, "%s %s/readwrite ", what, a);
	paired_text(j, &f.p);
	if (f.limiter)
		MEASURE(j, ", limited by the fixed %s (busy %.2f of the wall time)", f.limiter, f.busy);
	return f;
}

/* Whether a cell's throughput ratio is still undecided, and so more repetitions are wanted. */
static bool undecided(const struct faster_cell *f)
{
	return f->side == SIDE_FEW || f->side == SIDE_ACROSS;
}

static void judge_zero_copy_faster(const struct claim_evidence *ev, struct judgement *j)
{
	struct faster_cell s, r;
	const struct faster_cell *lim;
	bool below;

	s = faster_cell(j, ev->cell[CELL_SERVE].run, "sendfile", cr_size(ev->size), "serve");
	MEASURE(j, "; ");
	r = faster_cell(j, ev->cell[CELL_RELAY].run, "splice", -1, "relay");
	j->reps = s.p.n < r.p.n ? s.p.n : r.p.n;
	below = s.side == SIDE_BELOW || r.side == SIDE_BELOW;
	/* A ratio of 1.00 between two strategies that both wait on one fixed role says nothing of either. */
	lim = s.side == SIDE_ACROSS && s.limiter ? &s : r.side == SIDE_ACROSS && r.limiter ? &r : NULL;
	if (s.side == SIDE_NONE || r.side == SIDE_NONE) {
		decide(j, V_CANNOT, "a cell has no paired repetitions (failed cell?)");
	} else if (s.side == SIDE_ABOVE && r.side == SIDE_ABOVE) {
		decide(j, V_HOLDS, "both intervals lie above 1.0");
	} else if ((s.side == SIDE_ABOVE || r.side == SIDE_ABOVE) && below) {
		decide(j, V_NODIFF, "only one of the two intervals lies above 1.0 and the other below");
	} else if (s.side == SIDE_BELOW && r.side == SIDE_BELOW) {
		decide(j, V_NOT, "both intervals lie below 1.0: on %s there is no NIC and no DMA to save, the sink's own "
		       "copy and hashing bound every strategy alike, and the zero-copy path pays its own costs (page "
		       "references, smaller socket writes)", ev->transport);
	} else if (below && s.side != SIDE_FEW && r.side != SIDE_FEW) {
		decide(j, V_NOT, "one interval lies below 1.0 and none above: on %s there is no NIC and no DMA to save",
		       ev->transport);
	} else if (lim && s.side != SIDE_FEW && r.side != SIDE_FEW) {
		decide(j, V_CANNOT, "the fixed %s limited the %s cell (busy %.2f of its wall time): its throughput "
		       "cannot show a saved copy", lim->limiter, lim == &s ? "serve" : "relay", lim->busy);
	} else {
		j->more |= (undecided(&s) ? 1u << CELL_SERVE : 0) | (undecided(&r) ? 1u << CELL_RELAY : 0);
		/* The repetitions of the ratio still undecided, not of the one that was. */
		j->reps = undecided(&s) && (!undecided(&r) || s.p.n < r.p.n) ? s.p.n : r.p.n;
		if (s.side == SIDE_FEW || r.side == SIDE_FEW)
			decide(j, V_NODIFF, "fewer than %d paired repetitions decide nothing", CLAIMS_MIN_PAIRS);
		else if (s.side == SIDE_ABOVE || r.side == SIDE_ABOVE)
			decide(j, V_NODIFF, "only the %s interval lies above 1.0; the %s includes it",
			       s.side == SIDE_ABOVE ? "serve" : "relay", s.side == SIDE_ABOVE ? "relay's" : "serve's");
		else
			decide(j, V_NODIFF, "both intervals include 1.0: on %s there is no NIC and no DMA, so a saved copy "
			       "shows in CPU rather than in throughput", ev->transport);
	}
}

static void judge_sendfile_less_cpu(const struct claim_evidence *ev, struct judgement *j)
{
	struct crcell *serve = ev->cell[CELL_SERVE].run;
	long big = cr_size(ev->size);
	struct sys_ratio s;

	MEASURE(j, "at %s: ", ev->size);
	own_cpu_text(j, serve, "sendfile", big, "server");
	/* On loopback the server's transmit runs the client's receive in softirq: only the whole machine is fair. */
	s = system_ratio(j, serve, "sendfile", "readwrite", big);
	if (!sys_ratio_undecidable(j, &s))
		decide_cost(j, &s.p, CELL_SERVE, "the system-wide CPU per GiB was lower (the paired interval lies below 1.0)",
			    "the system-wide CPU per GiB was higher (the paired interval lies above 1.0)");
}

static void judge_sockmap_no_wakeups(const struct claim_evidence *ev, struct judgement *j)
{
	const char *sockmap = ev->cell[CELL_SOCKMAP].strategy;
	struct crcell *cell = ev->cell[CELL_SOCKMAP].run;
	struct crgroup g = { cell, sockmap, -1 }, r = { cell, "readwrite", -1 };
	static const struct role_key sys_k = { "relay", "syscalls" };
	double sy, ry, wk, rwk, block, cpu;
	char a[32], b[32], d[32], e[32];

	if (!sockmap) {
		MEASURE(j, "copylab list has no sockmap strategy");
		decide(j, V_CANNOT, "not yet in copylab");
		return;
	}
	if (!cell) {
		MEASURE(j, "not run: %s", ev->cell[CELL_SOCKMAP].not_run);
		decide(j, V_CANNOT, "sockmap needs root here");
		return;
	}
	sy = cell_median_of(&g, fig_ledger_per_gib, &sys_k) * GIB;
	ry = cell_median_of(&r, fig_ledger_per_gib, &sys_k) * GIB;
	by_construction(j, "no system call per chunk (relay syscalls per GiB: %s %s, readwrite %s) — by construction: "
			"copylab's sockmap relay only sets up the map and waits for the end of the stream",
			sockmap, fmt_g(sy, a, sizeof(a)), fmt_g(ry, b, sizeof(b)));
	wk = cell_median_of(&g, fig_wakeups_per_chunk, "relay");
	rwk = cell_median_of(&r, fig_wakeups_per_chunk, "relay");
	block = cell_median(&g, "block");
	/*
	 * A busy readwrite relay is rarely woken either: it never sleeps.  What
	 * tells them apart is whose context the kernel moved the bytes in, which
	 * the relay's own CPU shows.
	 */
	cpu = cell_median(&g, "roles.relay.cpu_per_gib_s") / cell_median(&r, "roles.relay.cpu_per_gib_s");
	MEASURE(j, "relay wake-ups (voluntary switches) per chunk of %s bytes: %s %s, readwrite %s; ",
		fmt_g(block, a, sizeof(a)), sockmap, fmt_g(wk, d, sizeof(d)), fmt_g(rwk, e, sizeof(e)));
	own_cpu_text(j, cell, sockmap, -1, "relay");
	system_ratio(j, cell, sockmap, "readwrite", -1);
	if (isnan(wk) || isnan(cpu))
		decide(j, V_CANNOT, "the cell did not run or its records have no wake-ups or relay CPU");
	else if (wk >= 0.05)
		decide(j, V_NOT, "the relay process woke %.2f times per chunk", wk);
	else if (cpu > 0.05)
		decide(j, V_NOT, "the relay process was seldom woken, but spent %.0f%% of readwrite's relay CPU per GiB: "
		       "the kernel moved bytes in its context", 100 * cpu);
	else
		decide(j, V_HOLDS, "the relay process woke %.3f times per chunk and spent %.1f%% of readwrite's relay CPU "
		       "per GiB: the bytes moved without it", wk, 100 * cpu);
}

/*
 * The floor beside claim 13: readwrite:trunc's receiver CPU per GiB over
 * readwrite's, paired.  MSG_TRUNC leaves the kernel's receive path alone
 * (no copy, no use): what no receive strategy can go below.  Unverified,
 * so stated, never deciding.
 */
static void floor_text(struct judgement *j, struct crcell *c)
{
	struct crpaired f = paired_ratio(c, "readwrite:trunc", "readwrite", -1, "roles.receiver.cpu_per_gib_s");

	if (f.n == 0) {
		MEASURE(j, "no readwrite:trunc floor in the cell");
		return;
	}
	MEASURE(j, "the floor, readwrite:trunc (MSG_TRUNC: the kernel discards, nothing copied or used; unverified) "
		"/ readwrite ");
	paired_text(j, &f);
}

static void judge_zerocopy_recv_halves_cpu(const struct claim_evidence *ev, struct judgement *j)
{
	const struct claim_cell *zc = &ev->cell[CELL_ZEROCOPY_RECV];
	struct crgroup g2 = { zc->run, "zerocopy_recv", -1 };
	struct crpaired p;
	double share;
	char d[32];

	if (!zc->strategy) {
		MEASURE(j, "copylab list has no zerocopy_recv strategy");
		decide(j, V_CANNOT, "not in this copylab");
		return;
	}
	if (!zc->run) {
		MEASURE(j, "not run: %s", zc->not_run);
		decide(j, V_CANNOT, "transport lo-ns (a namespace whose lo MTU gives whole-page segments) needs root");
		return;
	}
	/* The selftest's own figure is the receiver's CPU: the claim is judged on it, the machine's beside. */
	p = paired_ratio(zc->run, "zerocopy_recv", "readwrite", -1, "roles.receiver.cpu_per_gib_s");
	share = cell_median(&g2, "zerocopy_recv.share_mapped");
	own_cpu_text(j, zc->run, "zerocopy_recv", -1, "receiver");
	system_ratio(j, zc->run, "zerocopy_recv", "readwrite", -1);
	MEASURE(j, "; %s%% of the bytes mapped; ", fmt_g(100 * share, d, sizeof(d)));
	floor_text(j, zc->run);
	MEASURE(j, ". The receiver hashes the bytes where they arrived (recv), the use both strategies make, and "
		"sets SO_RCVLOWAT to the chunk as the selftest does (zerocopy_recv). On loopback the kernel copies a "
		"MSG_ZEROCOPY send into fresh pages at delivery, in the sender's context, for both strategies alike; "
		"the receiver's figure does not see it.");
	j->reps = p.n;
	if (p.n == 0 || isnan(share))
		decide(j, V_CANNOT, "the lo-ns cell gave no paired repetitions (see its log)");
	else if (share < 0.9)
		decide(j, V_CANNOT, "only %.1f%% of the bytes were mapped: the link or the sender did not give whole pages",
		       100 * share);
	else if (ratio_side(&p) == SIDE_BELOW && p.median <= 0.6)
		decide(j, V_HOLDS, "the receiver's CPU per GiB was %.2fx readwrite's (paired median), the interval below 1.0",
		       p.median);
	else if (ratio_side(&p) == SIDE_BELOW)
		decide(j, V_NOT, "lower, but %.2fx, not half", p.median);
	else
		decide_cost(j, &p, CELL_ZEROCOPY_RECV, "", "zero-copy receive cost more CPU than read()");
}

static void judge_nat_no_process(const struct claim_evidence *ev, struct judgement *j)
{
	const struct claim_cell *nc = &ev->cell[CELL_NAT];
	struct crgroup g = { nc->run, nc->strategy, -1 };
	struct sys_ratio rw, sp;
	double present, n;

	if (!nc->strategy) {
		MEASURE(j, "copylab list has no nat strategy");
		decide(j, V_CANNOT, "not yet in copylab");
		return;
	}
	if (!nc->run) {
		MEASURE(j, "not run: %s", nc->not_run);
		decide(j, V_CANNOT, "nat needs root here");
		return;
	}
	present = cell_median(&g, "roles.relay.bytes");
	n = cell_median(&g, "bytes");
	by_construction(j, "no relay process — by construction: copylab's %s strategy starts none and lets the "
			"kernel forward", nc->strategy);
	MEASURE(j, "%s over routed: %s; ", nc->strategy, isnan(n) ? "no usable record" :
		isnan(present) ? "the bytes arrived verified, no relay process in the record" :
		"the record has a relay role");
	rw = system_ratio(j, nc->run, nc->strategy, "readwrite", -1);
	MEASURE(j, "; ");
	sp = system_ratio(j, nc->run, nc->strategy, "splice", -1);
	if (isnan(n))
		decide(j, V_CANNOT, "the nat cell did not run here (see its log)");
	else if (!isnan(present))
		decide(j, V_NOT, "a relay process took part");
	else if (sys_ratio_undecidable(j, &rw) || sys_ratio_undecidable(j, &sp))
		;
	else if (ratio_side(&rw.p) == SIDE_ABOVE || ratio_side(&sp.p) == SIDE_ABOVE)
		decide(j, V_NOT, "the kernel's forwarding cost more system-wide CPU per GiB than a process relay");
	else if (ratio_side(&rw.p) == SIDE_BELOW && ratio_side(&sp.p) == SIDE_BELOW)
		decide(j, V_HOLDS, "its system-wide CPU per GiB lay below readwrite's and splice's (paired intervals "
		       "below 1.0)");
	else
		decide_cost(j, ratio_side(&rw.p) == SIDE_BELOW ? &sp.p : &rw.p, CELL_NAT, "", "");
	j->reps = rw.p.n < sp.p.n ? rw.p.n : sp.p.n;
}

/* ---------------------------------------------------------------- the claims */

#define SRC_IBM "IBM developerWorks, \"Efficient data transfer through zero copy\" (Palaniappan & Nagaraja, 2008); " \
		"Linux Journal, \"Zero Copy I: User-Mode Perspective\" (Stancevic, 2003)"

const struct claim claim_table[] = {
	{
		.id = "readwrite-copies",
		.statement = "A read/write relay costs four copies and four context switches per chunk: two DMA "
			     "copies and two CPU copies (kernel to user on read, user to kernel on write), and two "
			     "system calls, each entering and leaving the kernel (four mode switches).",
		.source = SEED_ZERO_COPY " (section 1); " SRC_IBM,
		.figure = "relay role: syscalls (read + write family) per chunk (one read); the relay's sampled copy time "
			  "(cputime.copy_s) against the sink's, which reads each byte once; the ledger's bytes beside",
		.expectation = "2 syscalls per chunk (4 mode switches); the relay's copy time 1.4-3x the sink's (two CPU "
			       "copies against one); DMA copies: none on loopback",
		.cells = { CELL_RELAY },
		.judge = judge_readwrite_copies,
	},
	{
		/* "context switches" read as scheduler switches */
		.id = "readwrite-context-switches",
		.statement = "Read literally, \"four context switches\" per chunk means the scheduler switches tasks "
			     "four times for every read/write pair.",
		.source = SEED_ZERO_COPY " (section 1); " SRC_IBM,
		.figure = "relay role: bpf.sched_switches (else perf context switches) per chunk (one read)",
		.expectation = "if the claim meant scheduler switches: about 4 per chunk",
		.cells = { CELL_RELAY },
		.judge = judge_readwrite_context_switches,
	},
	{
		.id = "sendfile-no-user-copy",
		.statement = "sendfile() moves a file to a socket without the bytes passing through user memory.",
		.source = SEED_ZERO_COPY " (section 3.1.2); sendfile(2); IBM developerWorks (2008)",
		.figure = "serve, server role: sampled copy time per GiB (cputime.copy_s), sendfile against readwrite, "
			  "at the plan's size; the ledger's bytes beside",
		.expectation = "sendfile's copy time at most 10% of readwrite's",
		.cells = { CELL_SERVE },
		.judge = judge_sendfile_no_user_copy,
	},
	{
		.id = "sendfile-not-from-socket",
		.statement = "sendfile() cannot read from a socket: its input must be a file that supports mmap-like "
			     "page-cache reads, so it cannot build a socket-to-socket proxy.",
		.source = SEED_ZERO_COPY " (section 3.4); " SEED_SPLICE_PROXY "; " SEED_SOCKET_OFFLOAD "; sendfile(2) "
			  "(\"in_fd ... cannot be a socket\")",
		.figure = "exit status of `copylab run --scenario relay --strategy sendfile` (the support table) and a direct sendfile() between sockets",
		.expectation = "the kernel refuses (EINVAL); copylab's exit 2 is its own table's",
		.cells = { CELL_REFUSE_SENDFILE },
		.check = check_sendfile_from_socket,
		.judge = judge_sendfile_not_from_socket,
	},
	{
		.id = "splice-needs-pipe",
		.statement = "splice() needs a pipe on one side of every call, so a socket-to-socket splice proxy "
			     "goes through a pipe it owns (and application memory cannot be spliced at all).",
		.source = SEED_SPLICE_PROXY "; " SEED_SPLICE_FAMILY "; " SEED_ZERO_COPY " (section 4.2); splice(2) (\"one "
			  "of the file descriptors must refer to a pipe\"); LWN on splice (2006)",
		.figure = "a direct splice() socket to socket; relay splice: splice calls per chunk and the relay's sampled "
			  "copy time against readwrite's; the refusal of `--scenario send --strategy splice` and the "
			  "ledger's bytes beside",
		.expectation = "EINVAL; the splice relay's copy time at most 10% of readwrite's (its pipe holds page "
			       "references, not copies)",
		.cells = { CELL_RELAY, CELL_REFUSE_SPLICE },
		.check = check_splice_socket_to_socket,
		.judge = judge_splice_needs_pipe,
	},
	{
		.id = "splice-relay-less-cpu",
		.statement = "A splice proxy costs less CPU per byte than a read/write proxy, since the bytes never "
			     "enter user memory.",
		.source = SEED_SPLICE_PROXY "; " SEED_ZERO_COPY " (section 4.3); LWN on splice (2006); HAProxy documentation "
			  "(option splice-auto); Cloudflare blog, \"SOCKMAP - TCP splicing of the future\" (2019)",
		.figure = "system-wide busy CPU per GiB (resolved only), splice / readwrite, paired rep by rep: on loopback "
			  "the relay's network work runs in softirq, often in another process's context; the relay's own "
			  "CPU per GiB beside; the relay's sampled copy time against readwrite's",
		.expectation = "the paired ratio's interval below 1.0; splice's copy time at most 10% of readwrite's",
		.cells = { CELL_RELAY },
		.judge = judge_splice_relay_less_cpu,
	},
	{
		.id = "tee-no-user-copy",
		.statement = "tee() duplicates a stream (here: forward it and record it) without copying it through user memory.",
		.source = SEED_SPLICE_PROXY " (tee as an in-kernel memcpy); " SEED_ZERO_COPY " (section 4.6); tee(2); LWN, "
			  "\"Some new system calls\" (2006)",
		.figure = "fanout, relay role: sampled copy time per GiB, tee against readwrite (1 copy to user + 2 from "
			  "user); where tee still copies, the bytes copied out of socket buffers into user memory "
			  "(bpf.skb_copy_bytes, probed at the copy); the ledger's bytes beside",
		.expectation = "tee's copy time at most 10% of readwrite's, or, where the recording's page-cache copy "
			       "remains, no byte copied from a socket buffer to user memory",
		.cells = { CELL_FANOUT },
		.judge = judge_tee_no_user_copy,
	},
	{
		.id = "gift-needs-alignment",
		.statement = "vmsplice() with SPLICE_F_GIFT needs page-aligned buffers (memory and length), and gifting "
			     "lets the kernel move pages instead of copying them.",
		.source = SEED_SPLICE_FAMILY "; vmsplice(2) (SPLICE_F_GIFT: \"data must also be properly page aligned\")",
		.figure = "a direct vmsplice(SPLICE_F_GIFT) of 1000 bytes at offset 7 of a page; pipe cell: sampled copy "
			  "time of writer and reader, vmsplice:gift against vmsplice; throughput, paired, beside",
		.expectation = "EINVAL for the unaligned gift; a gift's copy time below plain vmsplice's (paired interval "
			       "below 1.0)",
		.cells = { CELL_PIPE },
		.check = check_gift_alignment,
		.judge = judge_gift_needs_alignment,
	},
	{
		.id = "mmap-trades-copy-for-faults",
		.statement = "mmap() + write() saves the copy into user memory, and pays with page faults (and TLB work) "
			     "that grow with the file.",
		.source = SEED_SPLICE_PROXY " (page faults); Linux Journal, \"Zero Copy I\" (Stancevic, 2003); IBM "
			  "developerWorks (2008)",
		.figure = "serve, server role: perf.page_faults at two sizes, mmap_write vs readwrite; sampled copy time "
			  "per GiB, mmap_write / readwrite paired rep by rep; the ledger's bytes to user beside",
		.expectation = "mmap_write's faults growing with size (1.5x from a quarter of it, 10x readwrite's); its copy "
			       "time below readwrite's, paired (one copy of two saved)",
		.cells = { CELL_SERVE },
		.judge = judge_mmap_trades_copy_for_faults,
	},
	{
		.id = "zero-copy-faster",
		.statement = "Zero-copy (sendfile, splice) raises throughput over read/write.",
		.source = SEED_ZERO_COPY " (section 6.1); IBM developerWorks (2008), and many articles after it",
		.figure = "throughput ratio to readwrite, paired rep by rep, with the interval of its median: serve "
			  "sendfile, relay splice; the fixed role that limited a cell (busy >= 0.9), if one did",
		.expectation = "interval above 1.0 for both",
		.cells = { CELL_SERVE, CELL_RELAY },
		.judge = judge_zero_copy_faster,
	},
	{
		.id = "sendfile-less-cpu",
		.statement = "sendfile() lowers the CPU the sender spends per byte.",
		.source = SEED_ZERO_COPY " (section 6.1); IBM developerWorks (2008); nginx documentation (sendfile on)",
		.figure = "serve at the plan's size: system-wide busy CPU per GiB (resolved only), sendfile / readwrite, "
			  "paired rep by rep (on loopback the server's transmit runs the client's receive in softirq); "
			  "the server's own CPU per GiB beside",
		.expectation = "the paired ratio's interval below 1.0",
		.cells = { CELL_SERVE },
		.judge = judge_sendfile_less_cpu,
	},
	{
		.id = "sockmap-no-wakeups",
		.statement = "An eBPF sockmap relay forwards the bytes in the kernel without waking the relay process.",
		.source = SEED_SOCKET_OFFLOAD "; Cloudflare blog, \"SOCKMAP - TCP splicing of the future\" (Majkowski, 2019)",
		.figure = "relay role: voluntary context switches (wake-ups) per chunk and its own CPU per GiB against "
			  "readwrite's relay; its syscalls per GiB and the system-wide busy CPU per GiB beside (NOTES: "
			  "sockmap work is charged to whoever is on the CPU)",
		.expectation = "fewer than 0.05 wake-ups per chunk (the relay wakes for its setup and its wait for the end "
			       "of the stream, a timer that follows the backlog's drain, not for the bytes) and its own CPU "
			       "per GiB at most 5% of readwrite's relay's",
		.cells = { CELL_SOCKMAP },
		.judge = judge_sockmap_no_wakeups,
	},
	{
		.id = "zerocopy-recv-halves-cpu",
		.statement = "Zero-copy receive (mmap of a TCP socket + TCP_ZEROCOPY_RECEIVE) halves the receiver's CPU "
			     "per byte: the kernel's tcp_mmap selftest reports about 0.45x against read().",
		.source = "Linux tools/testing/selftests/net/tcp_mmap.c (Dumazet, 2018): ~88-110 vs ~202-251 usec per MB on loopback",
		.figure = "recv over lo-ns (socket -> memory: the receiver hashes the bytes where they arrived; MSS 61440, "
			  "the fixed source sending with MSG_ZEROCOPY for all), blocks of 512 KiB (the selftest's chunk, "
			  "and zerocopy_recv's SO_RCVLOWAT): receiver CPU per GiB (the selftest's figure), zerocopy_recv / "
			  "readwrite, paired rep by rep; zerocopy_recv.share_mapped; readwrite:trunc / readwrite as the "
			  "floor and system-wide busy CPU per GiB beside",
		.expectation = "the paired ratio's interval below 1.0, its median at most 0.6, with >= 90% of the bytes mapped",
		.cells = { CELL_ZEROCOPY_RECV },
		.judge = judge_zerocopy_recv_halves_cpu,
	},
	{
		.id = "nat-no-process",
		.statement = "Kernel port forwarding (DNAT) relays a TCP stream with no process at all.",
		.source = SEED_SOCKET_OFFLOAD "; iptables/nftables documentation (DNAT); Cloudflare blog (2019), which "
			  "compares it",
		.figure = "relay cell over routed with readwrite, splice and nat: system-wide busy CPU per GiB (resolved "
			  "only), nat / readwrite and nat / splice, paired rep by rep; nat's record has no relay role",
		.expectation = "both paired ratios' intervals below 1.0",
		.cells = { CELL_NAT },
		.judge = judge_nat_no_process,
	},
};

const size_t claim_count = sizeof(claim_table) / sizeof(claim_table[0]);

const struct claim *claim_find(const char *id)
{
	for (size_t i = 0; i < claims_total(); i++)
		if (!strcmp(claim_at(i)->id, id))
			return claim_at(i);
	return NULL;
}

struct judgement claim_judge_run(const struct claim *c, const struct claim_evidence *ev)
{
	struct judgement j = { .verdict = V_CANNOT, .measurement = cr_strdup(""), .why = cr_strdup(""),
			       .construction = cr_strdup("") };

	c->judge(ev, &j);
	return j;
}

void judgement_free(struct judgement *j)
{
	free(j->measurement);
	free(j->why);
	free(j->construction);
	j->measurement = j->why = j->construction = NULL;
}
