/* SPDX-License-Identifier: MIT */
/*
 * The claims `copylab claims` measures, one entry each, the cells that
 * test them, and their judges: pure functions from the cells' records and
 * the direct checks' results to a verdict, its measurement and its reason.
 */
#include "claims.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GIB 1073741824.0

/* ---------------------------------------------------------------- the cells */

const struct cell_spec cell_specs[CELL_COUNT] = {
	[CELL_RELAY] = { .scenario = "relay", .strategies = "readwrite,splice" },
	/* Two sizes: the page faults of mmap_write grow with the file. */
	[CELL_SERVE] = { .scenario = "serve", .strategies = "readwrite,mmap_write,sendfile", .sweep = true },
	[CELL_FANOUT] = { .scenario = "fanout", .strategies = "readwrite,tee" },
	[CELL_PIPE] = { .scenario = "pipe", .strategies = "readwrite,vmsplice,vmsplice:gift" },
	[CELL_SOCKMAP] = { .scenario = "relay", .strategies = "readwrite", .uses = "sockmap" },
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
	 */
	[CELL_ZEROCOPY_RECV] = {
		.scenario = "store", .strategies = "readwrite", .uses = "zerocopy_recv",
		.transport = "lo-ns", .block = "512K",
		.privilege = RUN_ROOT_ONLY, .root_why = "transport lo-ns makes a network namespace, which needs root",
		.unrun = "copylab run --scenario store --strategy readwrite,zerocopy_recv --transport lo-ns --block 512K",
	},
	[CELL_REFUSE_SENDFILE] = { .scenario = "relay", .strategies = "sendfile", .refusal = true },
	[CELL_REFUSE_SPLICE] = { .scenario = "send", .strategies = "splice", .refusal = true },
};

/* ---------------------------------------------------------------- what judges write */

#define MEASURE(j, ...) cr_append(&(j)->measurement, __VA_ARGS__)

static void decide(struct judgement *j, enum verdict v, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void decide(struct judgement *j, enum verdict v, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	j->verdict = v;
	free(j->why);
	j->why = s ? s : cr_strdup("");
}

static const char *fmt_g(double v, char *buf, size_t len)
{
	if (isnan(v))
		snprintf(buf, len, "n/a");
	else
		snprintf(buf, len, "%.3g", v);
	return buf;
}

/* "x [min..max] over n paired reps (coverage c)" */
static void paired_text(struct judgement *j, const struct crpaired *p)
{
	char a[32], b[32], c[32];

	if (p->n == 0) {
		MEASURE(j, "n/a (no paired repetitions)");
		return;
	}
	MEASURE(j, "%s [%s..%s] over %d paired reps (min..max covers the median with %.1f%%)",
		fmt_g(p->median, a, sizeof(a)), fmt_g(p->min, b, sizeof(b)), fmt_g(p->max, c, sizeof(c)),
		p->n, 100.0 * p->coverage);
}

/* "returned -1, errno EINVAL (Invalid argument)" or "returned 7 (success)" */
static char *call_text(struct kcall k)
{
	char *s = NULL;

	if (k.ret < 0)
		cr_append(&s, "returned -1, errno %s (%s)", errno_name(k.err), strerror(k.err));
	else
		cr_append(&s, "returned %ld (success)", k.ret);
	return s;
}

/*
 * A paired ratio of a cost (lower is better): holds when the whole range
 * is below 1, does not when it is all above; LOWER and HIGHER say so.
 */
static void decide_lower(struct judgement *j, const struct crpaired *p, const char *lower, const char *higher)
{
	if (p->n == 0)
		decide(j, V_CANNOT, "no paired repetitions");
	else if (p->max < 1.0)
		decide(j, V_HOLDS, "%s", lower);
	else if (p->min > 1.0)
		decide(j, V_NOT, "%s", higher);
	else
		decide(j, V_NODIFF, "the paired range includes 1.0");
}

/* ---------------------------------------------------------------- the judges */

static void judge_readwrite_copies(const struct claim_evidence *ev, struct judgement *j)
{
	struct crgroup g = { ev->cell[CELL_RELAY].run, "readwrite", -1 };
	double tu = cell_median(&g, "roles.relay.bpf.per_gib.bytes_to_user") / GIB;
	double fu = cell_median(&g, "roles.relay.bpf.per_gib.bytes_from_user") / GIB;
	double rd = cell_median(&g, "roles.relay.bpf.syscalls_by_family.read");
	double wr = cell_median(&g, "roles.relay.bpf.syscalls_by_family.write");
	double bytes = cell_median(&g, "bytes");
	double per_chunk = (rd + wr) / rd;
	char a[32], b[32], d[32], e[32], f[32];

	MEASURE(j, "to user %s GiB/GiB, from user %s GiB/GiB; %s syscalls per chunk (%s bytes per read, median); "
		"so %s mode switches per chunk. DMA copies are not visible to any counter here and on loopback there are none.",
		fmt_g(tu, a, sizeof(a)), fmt_g(fu, b, sizeof(b)), fmt_g(per_chunk, d, sizeof(d)),
		fmt_g(bytes / rd, e, sizeof(e)), fmt_g(2 * per_chunk, f, sizeof(f)));
	if (isnan(tu) || isnan(fu) || isnan(per_chunk))
		decide(j, V_CANNOT, "the BPF ledger did not count (see metrics.bpf in the records)");
	else if (fabs(tu - 1) < 0.05 && fabs(fu - 1) < 0.05 && per_chunk > 1.8 && per_chunk < 2.6)
		decide(j, V_HOLDS, "as two CPU copies and four mode switches per chunk; the other two \"copies\" are DMA, which loopback does not do");
	else
		decide(j, V_NOT, "the ledger does not show one copy each way per byte or two calls per chunk");
}

static void judge_readwrite_context_switches(const struct claim_evidence *ev, struct judgement *j)
{
	struct crgroup g = { ev->cell[CELL_RELAY].run, "readwrite", -1 };
	double sw = cell_median(&g, "roles.relay.bpf.sched_switches");
	double rd = cell_median(&g, "roles.relay.bpf.syscalls_by_family.read");
	char a[32];

	MEASURE(j, "%s scheduler switches per chunk (median), against 4 mode switches per chunk: "
		"a switch happens only when a call blocks (no data yet, a full socket buffer) or the task is preempted.",
		fmt_g(sw / rd, a, sizeof(a)));
	if (isnan(sw) || isnan(rd))
		decide(j, V_CANNOT, "the BPF ledger did not count");
	else if (sw / rd >= 3.0)
		decide(j, V_HOLDS, "the relay switched out about four times per chunk");
	else
		decide(j, V_NOT, "the four are mode switches (user<->kernel), not scheduler switches");
}

/* Shared by sendfile and tee: no payload through user memory. */
static void decide_user_copy(struct judgement *j, double to_user, double from_user)
{
	if (isnan(to_user) || isnan(from_user))
		decide(j, V_CANNOT, "the BPF ledger did not count");
	else if (to_user + from_user < 0.01)
		decide(j, V_HOLDS, "no payload crossed the user boundary");
	else
		decide(j, V_NOT, "payload crossed the user boundary");
}

static void judge_sendfile_no_user_copy(const struct claim_evidence *ev, struct judgement *j)
{
	struct crgroup g = { ev->cell[CELL_SERVE].run, "sendfile", cr_size(ev->size) };
	double tu = cell_median(&g, "roles.server.bpf.per_gib.bytes_to_user") / GIB;
	double fu = cell_median(&g, "roles.server.bpf.per_gib.bytes_from_user") / GIB;
	double ik = cell_median(&g, "roles.server.bpf.per_gib.bytes_in_kernel") / GIB;
	char a[32], b[32], d[32];

	MEASURE(j, "server: to user %s, from user %s, in kernel %s GiB per GiB (medians)",
		fmt_g(tu, a, sizeof(a)), fmt_g(fu, b, sizeof(b)), fmt_g(ik, d, sizeof(d)));
	decide_user_copy(j, tu, fu);
}

static void judge_sendfile_not_from_socket(const struct claim_evidence *ev, struct judgement *j)
{
	const struct crcell *refused = ev->cell[CELL_REFUSE_SENDFILE].run;
	char *dt = call_text(ev->check.call);

	MEASURE(j, "copylab run exited %d: %s; the kernel check: %s",
		refused->exit_code, refused->first_stderr_line, dt);
	if (refused->exit_code == 2 && ev->check.call.ret < 0)
		decide(j, V_HOLDS, "the interface refuses the pair and the kernel itself refuses a socket input");
	else if (ev->check.call.ret >= 0)
		decide(j, V_NOT, "this kernel accepted a socket as sendfile's input");
	else
		decide(j, V_NOT, "copylab did not refuse the pair with exit 2");
	free(dt);
}

static void judge_splice_needs_pipe(const struct claim_evidence *ev, struct judgement *j)
{
	const struct crcell *refused = ev->cell[CELL_REFUSE_SPLICE].run;
	struct crgroup g = { ev->cell[CELL_RELAY].run, "splice", -1 };
	double ik = cell_median(&g, "roles.relay.bpf.per_gib.bytes_in_kernel") / GIB;
	double tu = cell_median(&g, "roles.relay.bpf.per_gib.bytes_to_user") / GIB;
	long ret = ev->check.call.ret;
	char *dt = call_text(ev->check.call);
	char a[32], b[32];

	MEASURE(j, "direct splice socket->socket %s; `run --scenario send --strategy splice` exited %d (%s); "
		"relay splice: in kernel %s GiB per GiB, to user %s",
		dt, refused->exit_code, refused->first_stderr_line,
		fmt_g(ik, a, sizeof(a)), fmt_g(tu, b, sizeof(b)));
	if (ret < 0 && refused->exit_code == 2 && fabs(ik - 2) < 0.1)
		decide(j, V_HOLDS, "the kernel refuses a pipe-less splice, and the relay's own pipe shows in the ledger as 2x");
	else if (ret >= 0)
		decide(j, V_NOT, "this kernel spliced socket to socket without a pipe");
	else if (isnan(ik))
		decide(j, V_CANNOT, "the BPF ledger did not count the splice relay");
	else
		decide(j, V_NOT, "the ledger or the refusal differ from the expectation");
	free(dt);
}

static void judge_splice_relay_less_cpu(const struct claim_evidence *ev, struct judgement *j)
{
	struct crcell *relay = ev->cell[CELL_RELAY].run;
	struct crpaired p = paired_ratio(relay, "splice", "readwrite", -1, "roles.relay.cpu_per_gib_s");
	struct crpaired s = paired_ratio(relay, "splice", "readwrite", -1, "system_cpu.busy_per_gib_s");
	struct crgroup g1 = { relay, "readwrite", -1 }, g2 = { relay, "splice", -1 };
	char a[32], b[32];

	MEASURE(j, "relay CPU per GiB: readwrite %s s, splice %s s (medians); splice/readwrite ",
		fmt_g(cell_median(&g1, "roles.relay.cpu_per_gib_s"), a, sizeof(a)),
		fmt_g(cell_median(&g2, "roles.relay.cpu_per_gib_s"), b, sizeof(b)));
	paired_text(j, &p);
	MEASURE(j, "; system-wide busy CPU per GiB, splice/readwrite ");
	paired_text(j, &s);
	decide_lower(j, &p, "the relay's CPU per GiB was lower in every pair",
		     "the relay's CPU per GiB was higher in every pair");
}

static void judge_tee_no_user_copy(const struct claim_evidence *ev, struct judgement *j)
{
	struct crgroup g = { ev->cell[CELL_FANOUT].run, "tee", -1 }, r = { ev->cell[CELL_FANOUT].run, "readwrite", -1 };
	double tu = cell_median(&g, "roles.relay.bpf.per_gib.bytes_to_user") / GIB;
	double fu = cell_median(&g, "roles.relay.bpf.per_gib.bytes_from_user") / GIB;
	double ik = cell_median(&g, "roles.relay.bpf.per_gib.bytes_in_kernel") / GIB;
	double rtu = cell_median(&r, "roles.relay.bpf.per_gib.bytes_to_user") / GIB;
	double rfu = cell_median(&r, "roles.relay.bpf.per_gib.bytes_from_user") / GIB;
	char a[32], b[32], d[32], e[32], f[32];

	MEASURE(j, "tee relay: to user %s, from user %s, in kernel %s GiB per GiB; readwrite relay: to user %s, from user %s",
		fmt_g(tu, a, sizeof(a)), fmt_g(fu, b, sizeof(b)), fmt_g(ik, d, sizeof(d)),
		fmt_g(rtu, e, sizeof(e)), fmt_g(rfu, f, sizeof(f)));
	decide_user_copy(j, tu, fu);
}

static void judge_gift_needs_alignment(const struct claim_evidence *ev, struct judgement *j)
{
	const struct kcheck *gc = &ev->check;
	char *ut = call_text(gc->call);
	char *at = call_text(gc->aligned);
	struct crpaired p = paired_ratio(ev->cell[CELL_PIPE].run, "vmsplice:gift", "vmsplice", -1, "bytes_per_s");

	MEASURE(j, "unaligned gift %s%s; aligned gift of one page %s; throughput vmsplice:gift / vmsplice ",
		ut, gc->call.ret == 1000 ? (gc->data_intact ? " and the bytes read back intact" :
					    " but the bytes read back differ") : "", at);
	paired_text(j, &p);
	if (gc->call.ret < 0 && gc->call.err == EINVAL)
		decide(j, V_HOLDS, "the kernel refused the unaligned gift");
	else if (gc->call.ret >= 0)
		decide(j, V_NOT, "this kernel accepted an unaligned gift and delivered the bytes intact "
			   "(GIFT only marks the pipe buffers as stealable; nothing on this path steals them)%s",
		       p.n && p.min <= 1.0 && p.max >= 1.0 ? "; and gifting made no measurable difference" : "");
	else
		decide(j, V_CANNOT, "the check itself failed: %s", ut);
	free(ut);
	free(at);
}

static void judge_mmap_trades_copy_for_faults(const struct claim_evidence *ev, struct judgement *j)
{
	struct crcell *serve = ev->cell[CELL_SERVE].run;
	long big = cr_size(ev->size), small = cr_size(ev->size_small);
	struct crgroup mb = { serve, "mmap_write", big }, ms = { serve, "mmap_write", small };
	struct crgroup rb = { serve, "readwrite", big }, rs = { serve, "readwrite", small };
	double tu = cell_median(&mb, "roles.server.bpf.per_gib.bytes_to_user") / GIB;
	double rtu = cell_median(&rb, "roles.server.bpf.per_gib.bytes_to_user") / GIB;
	double fb = cell_median(&mb, "roles.server.perf.page_faults"), fs = cell_median(&ms, "roles.server.perf.page_faults");
	double rfb = cell_median(&rb, "roles.server.perf.page_faults"), rfs = cell_median(&rs, "roles.server.perf.page_faults");
	char a[32], b[32], d[32], e[32], f[32], h[32];

	MEASURE(j, "to user per GiB: mmap_write %s, readwrite %s; perf page faults of the server at %s / %s: "
		"mmap_write %s / %s, readwrite %s / %s (medians)",
		fmt_g(tu, a, sizeof(a)), fmt_g(rtu, b, sizeof(b)), ev->size_small, ev->size,
		fmt_g(fs, d, sizeof(d)), fmt_g(fb, e, sizeof(e)), fmt_g(rfs, f, sizeof(f)), fmt_g(rfb, h, sizeof(h)));
	if (isnan(tu) || isnan(fb) || isnan(fs))
		decide(j, V_CANNOT, "the BPF ledger or perf did not count");
	else if (tu < 0.01 && fb > 1.5 * fs && fb > 10 * (isnan(rfb) ? 0 : rfb))
		decide(j, V_HOLDS, "no read copy, and faults grew with the file (one per mapped page or fault-around batch)");
	else
		decide(j, V_NOT, "the faults did not grow with size or a read copy remained");
}

static void judge_zero_copy_faster(const struct claim_evidence *ev, struct judgement *j)
{
	const struct crrow *s = summary_row(ev->cell[CELL_SERVE].run, "sendfile", cr_size(ev->size));
	const struct crrow *r = summary_row(ev->cell[CELL_RELAY].run, "splice", -1);
	double slo = cr_csv_num(s, "ratio_ci_lo"), shi = cr_csv_num(s, "ratio_ci_hi");
	double rlo = cr_csv_num(r, "ratio_ci_lo"), rhi = cr_csv_num(r, "ratio_ci_hi");
	char a[32], b[32], d[32], e[32], f[32], h[32];

	MEASURE(j, "serve sendfile/readwrite %s [%s..%s] (%s); relay splice/readwrite %s [%s..%s] (%s)",
		fmt_g(cr_csv_num(s, "ratio_vs_readwrite_median"), a, sizeof(a)), fmt_g(slo, b, sizeof(b)),
		fmt_g(shi, d, sizeof(d)), cr_csv_str(s, "difference"),
		fmt_g(cr_csv_num(r, "ratio_vs_readwrite_median"), e, sizeof(e)), fmt_g(rlo, f, sizeof(f)),
		fmt_g(rhi, h, sizeof(h)), cr_csv_str(r, "difference"));
	if (isnan(slo) || isnan(rlo))
		decide(j, V_CANNOT, "a cell has no ratio (failed cell?)");
	else if (slo > 1 && rlo > 1)
		decide(j, V_HOLDS, "both intervals lie above 1.0");
	else if ((shi < 1 || rhi < 1) && !(slo > 1 || rlo > 1))
		decide(j, V_NOT, "%s: on %s there is no NIC and no DMA to save, the sink's own copy and hashing "
			   "bound every strategy alike, and the zero-copy path pays its own costs (page references, "
			   "smaller socket writes)",
		       shi < 1 && rhi < 1 ? "both intervals lie below 1.0" : "one interval lies below 1.0 and none above",
		       ev->transport);
	else if (slo > 1 || rlo > 1)
		decide(j, V_NODIFF, "only one of the two intervals lies above 1.0%s",
		       (shi < 1 || rhi < 1) ? " and the other below" : "");
	else
		decide(j, V_NODIFF, "on %s there is no NIC and no DMA: the sink's own copy and hashing and the loopback "
			   "transmit bound every strategy alike, so a saved copy shows in CPU, not in throughput",
		       ev->transport);
}

static void judge_sendfile_less_cpu(const struct claim_evidence *ev, struct judgement *j)
{
	struct crcell *serve = ev->cell[CELL_SERVE].run;
	long big = cr_size(ev->size);
	struct crpaired p = paired_ratio(serve, "sendfile", "readwrite", big, "roles.server.cpu_per_gib_s");
	struct crgroup g1 = { serve, "readwrite", big }, g2 = { serve, "sendfile", big };
	char a[32], b[32];

	MEASURE(j, "server CPU per GiB: readwrite %s s, sendfile %s s (medians); sendfile/readwrite ",
		fmt_g(cell_median(&g1, "roles.server.cpu_per_gib_s"), a, sizeof(a)),
		fmt_g(cell_median(&g2, "roles.server.cpu_per_gib_s"), b, sizeof(b)));
	paired_text(j, &p);
	decide_lower(j, &p, "lower in every pair", "higher in every pair");
}

static void judge_sockmap_no_wakeups(const struct claim_evidence *ev, struct judgement *j)
{
	const char *sockmap = ev->cell[CELL_SOCKMAP].strategy;
	struct crcell *cell = ev->cell[CELL_SOCKMAP].run;
	struct crgroup g = { cell, sockmap, -1 }, r = { cell, "readwrite", -1 };
	double sy, ry, sw, rwk;
	struct crpaired s;
	char a[32], b[32], d[32], e[32];

	if (!sockmap) {
		MEASURE(j, "copylab list has no sockmap strategy");
		decide(j, V_CANNOT, "not yet in copylab");
		return;
	}
	sy = cell_median(&g, "roles.relay.bpf.per_gib.syscalls");
	ry = cell_median(&r, "roles.relay.bpf.per_gib.syscalls");
	sw = cell_median(&g, "roles.relay.ctx_voluntary");
	rwk = cell_median(&r, "roles.relay.ctx_voluntary");
	s = paired_ratio(cell, sockmap, "readwrite", -1, "system_cpu.busy_per_gib_s");
	MEASURE(j, "relay syscalls per GiB: %s %s, readwrite %s; relay wake-ups (voluntary switches) per rep: "
		"%s %s, readwrite %s; system busy CPU per GiB %s/readwrite ",
		sockmap, fmt_g(sy, a, sizeof(a)), fmt_g(ry, b, sizeof(b)), sockmap,
		fmt_g(sw, d, sizeof(d)), fmt_g(rwk, e, sizeof(e)), sockmap);
	paired_text(j, &s);
	if (isnan(sy) || isnan(ry))
		decide(j, V_CANNOT, "the cell did not run or the BPF ledger did not count");
	else if (sy < 0.05 * ry)
		decide(j, V_HOLDS, "no system call per chunk: the relay's few calls are its setup and its wait for the "
		       "end (%.1f%% of readwrite's per GiB)", 100 * sy / ry);
	else
		decide(j, V_NOT, "the relay process made %.1f%% of readwrite's system calls per GiB", 100 * sy / ry);
}

static void judge_zerocopy_recv_halves_cpu(const struct claim_evidence *ev, struct judgement *j)
{
	const struct claim_cell *zc = &ev->cell[CELL_ZEROCOPY_RECV];
	struct crgroup g1 = { zc->run, "readwrite", -1 }, g2 = { zc->run, "zerocopy_recv", -1 };
	struct crpaired p;
	double share;
	char a[32], b[32], d[32];

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
	p = paired_ratio(zc->run, "zerocopy_recv", "readwrite", -1, "roles.receiver.cpu_per_gib_s");
	share = cell_median(&g2, "zerocopy_recv.share_mapped");
	MEASURE(j, "receiver CPU per GiB: readwrite %s s, zerocopy_recv %s s (medians), %s%% of the bytes mapped; "
		"zerocopy_recv/readwrite ",
		fmt_g(cell_median(&g1, "roles.receiver.cpu_per_gib_s"), a, sizeof(a)),
		fmt_g(cell_median(&g2, "roles.receiver.cpu_per_gib_s"), b, sizeof(b)),
		fmt_g(100 * share, d, sizeof(d)));
	paired_text(j, &p);
	MEASURE(j, ". Store writes the bytes to a file, a copy both strategies make: the receive copy is the one saved; "
		"at 64 KiB blocks readwrite also makes about four times the calls (see docs/strategies/zerocopy_recv.md). "
		"On loopback the kernel copies a MSG_ZEROCOPY send into fresh pages at delivery, in the sender's "
		"context, for both strategies alike; the receiver's figure does not see it.");
	if (p.n == 0 || isnan(share))
		decide(j, V_CANNOT, "the lo-ns cell gave no paired repetitions (see its log)");
	else if (share < 0.9)
		decide(j, V_CANNOT, "only %.1f%% of the bytes were mapped: the link or the sender did not give whole pages",
		       100 * share);
	else if (p.median <= 0.6 && p.max < 1.0)
		decide(j, V_HOLDS, "the receiver's CPU per GiB was %.2fx readwrite's (paired median), lower in every pair",
		       p.median);
	else if (p.min > 1.0)
		decide(j, V_NOT, "zero-copy receive cost more CPU than read() in every pair");
	else if (p.max < 1.0)
		decide(j, V_NOT, "lower in every pair, but %.2fx, not half", p.median);
	else
		decide(j, V_NODIFF, "the paired range includes 1.0");
}

static void judge_nat_no_process(const struct claim_evidence *ev, struct judgement *j)
{
	const struct claim_cell *nc = &ev->cell[CELL_NAT];
	struct crgroup g = { nc->run, nc->strategy, -1 };
	double present, n;
	struct crpaired s;

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
	s = paired_ratio(nc->run, nc->strategy, "readwrite", -1, "system_cpu.busy_per_gib_s");
	MEASURE(j, "%s over routed: %s; system busy CPU per GiB %s/readwrite ", nc->strategy,
		isnan(n) ? "no usable record" :
		isnan(present) ? "no relay process in the record" : "the record has a relay role", nc->strategy);
	paired_text(j, &s);
	if (isnan(n))
		decide(j, V_CANNOT, "the nat cell did not run here (see its log)");
	else if (isnan(present))
		decide(j, V_HOLDS, "the bytes arrived verified with no relay process");
	else
		decide(j, V_NOT, "a relay process took part");
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
		.source = SRC_IBM,
		.figure = "relay role: bpf.bytes_to_user and bpf.bytes_from_user per GiB; syscalls (read + write family) per chunk (one read)",
		.expectation = "1 GiB to user + 1 GiB from user per GiB moved (two CPU copies); 2 syscalls per chunk (4 mode switches); DMA copies: none on loopback",
		.cells = { CELL_RELAY },
		.judge = judge_readwrite_copies,
	},
	{
		/* "context switches" read as scheduler switches */
		.id = "readwrite-context-switches",
		.statement = "Read literally, \"four context switches\" per chunk means the scheduler switches tasks "
			     "four times for every read/write pair.",
		.source = SRC_IBM,
		.figure = "relay role: bpf.sched_switches per chunk (one read)",
		.expectation = "if the claim meant scheduler switches: about 4 per chunk",
		.cells = { CELL_RELAY },
		.judge = judge_readwrite_context_switches,
	},
	{
		.id = "sendfile-no-user-copy",
		.statement = "sendfile() moves a file to a socket without the bytes passing through user memory.",
		.source = "sendfile(2); IBM developerWorks (2008)",
		.figure = "serve, server role: bpf.bytes_to_user + bytes_from_user per GiB; bytes_in_kernel per GiB",
		.expectation = "≈ 0 through user memory; ≈ 1 GiB per GiB inside the kernel",
		.cells = { CELL_SERVE },
		.judge = judge_sendfile_no_user_copy,
	},
	{
		.id = "sendfile-not-from-socket",
		.statement = "sendfile() cannot read from a socket: its input must be a file that supports mmap-like "
			     "page-cache reads, so it cannot build a socket-to-socket proxy.",
		.source = "sendfile(2) (\"in_fd ... cannot be a socket\")",
		.figure = "exit status of `copylab run --scenario relay --strategy sendfile` (the support table) and a direct sendfile() between sockets",
		.expectation = "exit 2 with the reason; the kernel refuses (EINVAL)",
		.cells = { CELL_REFUSE_SENDFILE },
		.check = check_sendfile_from_socket,
		.judge = judge_sendfile_not_from_socket,
	},
	{
		.id = "splice-needs-pipe",
		.statement = "splice() needs a pipe on one side of every call, so a socket-to-socket splice proxy "
			     "goes through a pipe it owns (and application memory cannot be spliced at all).",
		.source = "splice(2) (\"one of the file descriptors must refer to a pipe\"); LWN on splice (2006)",
		.figure = "a direct splice() socket to socket; `copylab run --scenario send --strategy splice` (refused); "
			  "relay splice: relay bpf.bytes_in_kernel per GiB",
		.expectation = "EINVAL; exit 2; 2 GiB per GiB in the kernel (into the pipe and out of it)",
		.cells = { CELL_RELAY, CELL_REFUSE_SPLICE },
		.check = check_splice_socket_to_socket,
		.judge = judge_splice_needs_pipe,
	},
	{
		.id = "splice-relay-less-cpu",
		.statement = "A splice proxy costs less CPU per byte than a read/write proxy, since the bytes never "
			     "enter user memory.",
		.source = "LWN on splice (2006); HAProxy documentation (option splice-auto); Cloudflare blog, \"SOCKMAP - TCP splicing of the future\" (2019)",
		.figure = "relay role CPU per GiB, splice / readwrite, paired rep by rep; system-wide busy CPU per GiB likewise",
		.expectation = "ratio below 1 in every paired repetition",
		.cells = { CELL_RELAY },
		.judge = judge_splice_relay_less_cpu,
	},
	{
		.id = "tee-no-user-copy",
		.statement = "tee() duplicates a stream (here: forward it and record it) without copying it through user memory.",
		.source = "tee(2); LWN, \"Some new system calls\" (2006)",
		.figure = "fanout, relay role: bpf.bytes_to_user + bytes_from_user per GiB (tee vs readwrite)",
		.expectation = "≈ 0 for tee (readwrite: 1 to user + 2 from user)",
		.cells = { CELL_FANOUT },
		.judge = judge_tee_no_user_copy,
	},
	{
		.id = "gift-needs-alignment",
		.statement = "vmsplice() with SPLICE_F_GIFT needs page-aligned buffers (memory and length), and gifting "
			     "lets the kernel move pages instead of copying them.",
		.source = "vmsplice(2) (SPLICE_F_GIFT: \"data must also be properly page aligned\")",
		.figure = "a direct vmsplice(SPLICE_F_GIFT) of 1000 bytes at offset 7 of a page; pipe cell vmsplice:gift / vmsplice throughput, paired",
		.expectation = "EINVAL for the unaligned gift; gift faster than plain vmsplice",
		.cells = { CELL_PIPE },
		.check = check_gift_alignment,
		.judge = judge_gift_needs_alignment,
	},
	{
		.id = "mmap-trades-copy-for-faults",
		.statement = "mmap() + write() saves the copy into user memory, and pays with page faults (and TLB work) "
			     "that grow with the file.",
		.source = "Linux Journal, \"Zero Copy I\" (Stancevic, 2003); IBM developerWorks (2008)",
		.figure = "serve, server role: bpf.bytes_to_user per GiB; perf.page_faults at two sizes, mmap_write vs readwrite",
		.expectation = "mmap_write: 0 to user, faults growing ~ linearly with size; readwrite: 1 GiB to user, faults flat",
		.cells = { CELL_SERVE },
		.judge = judge_mmap_trades_copy_for_faults,
	},
	{
		.id = "zero-copy-faster",
		.statement = "Zero-copy (sendfile, splice) raises throughput over read/write.",
		.source = "IBM developerWorks (2008), and many articles after it",
		.figure = "throughput ratio to readwrite, paired, with its interval (summary.csv ratio_ci_lo..hi, difference): serve sendfile, relay splice",
		.expectation = "interval above 1.0 for both",
		.cells = { CELL_SERVE, CELL_RELAY },
		.judge = judge_zero_copy_faster,
	},
	{
		.id = "sendfile-less-cpu",
		.statement = "sendfile() lowers the CPU the sender spends per byte.",
		.source = "IBM developerWorks (2008); nginx documentation (sendfile on)",
		.figure = "serve, server role CPU per GiB, sendfile / readwrite, paired rep by rep",
		.expectation = "ratio below 1 in every paired repetition",
		.cells = { CELL_SERVE },
		.judge = judge_sendfile_less_cpu,
	},
	{
		.id = "sockmap-no-wakeups",
		.statement = "An eBPF sockmap relay forwards the bytes in the kernel without waking the relay process.",
		.source = "Cloudflare blog, \"SOCKMAP - TCP splicing of the future\" (Majkowski, 2019)",
		.figure = "relay role syscalls and voluntary context switches (wake-ups) per GiB, sockmap vs readwrite; "
			  "system-wide busy CPU per GiB (NOTES: sockmap work is charged to whoever is on the CPU)",
		.expectation = "no call per chunk: the relay's calls are its setup and its wait for the end of the stream "
			       "(a timer that follows the backlog's drain), under 5% of readwrite's per GiB",
		.cells = { CELL_SOCKMAP },
		.judge = judge_sockmap_no_wakeups,
	},
	{
		.id = "zerocopy-recv-halves-cpu",
		.statement = "Zero-copy receive (mmap of a TCP socket + TCP_ZEROCOPY_RECEIVE) halves the receiver's CPU "
			     "per byte: the kernel's tcp_mmap selftest reports about 0.45x against read().",
		.source = "Linux tools/testing/selftests/net/tcp_mmap.c (Dumazet, 2018): ~88-110 vs ~202-251 usec per MB on loopback",
		.figure = "store over lo-ns (MSS 61440, the fixed source sending with MSG_ZEROCOPY for both), blocks of 512 KiB "
			  "(the selftest's chunk): receiver CPU per GiB, zerocopy_recv / readwrite, paired rep by rep; "
			  "zerocopy_recv.share_mapped",
		.expectation = "ratio about 0.45-0.55 with >= 99% of the bytes mapped",
		.cells = { CELL_ZEROCOPY_RECV },
		.judge = judge_zerocopy_recv_halves_cpu,
	},
	{
		.id = "nat-no-process",
		.statement = "Kernel port forwarding (DNAT) relays a TCP stream with no process at all.",
		.source = "iptables/nftables documentation (DNAT); Cloudflare blog (2019), which compares it",
		.figure = "relay cell over routed with readwrite, splice and nat: nat's record has no relay process (roles without relay) and verified bytes; system busy CPU per GiB nat/readwrite, paired",
		.expectation = "no relay role in the record; system-wide CPU per GiB below every process relay's",
		.cells = { CELL_NAT },
		.judge = judge_nat_no_process,
	},
};

const size_t claim_count = sizeof(claim_table) / sizeof(claim_table[0]);

const struct claim *claim_find(const char *id)
{
	for (size_t i = 0; i < claim_count; i++)
		if (!strcmp(claim_table[i].id, id))
			return &claim_table[i];
	return NULL;
}

struct judgement claim_judge_run(const struct claim *c, const struct claim_evidence *ev)
{
	struct judgement j = { V_CANNOT, cr_strdup(""), cr_strdup("") };

	c->judge(ev, &j);
	return j;
}

void judgement_free(struct judgement *j)
{
	free(j->measurement);
	free(j->why);
	j->measurement = j->why = NULL;
}
