/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the claims' judges (harness/report/claims_table.c): each
 * judge given synthetic cells, built from JSON records with the figures a
 * run writes, and a synthetic direct check, for every verdict it can give.
 * The negative controls give a strategy the ledger's zero-copy bytes but
 * the copy time of readwrite: the claims that rest on a saved copy must
 * then not hold, whatever the ledger counts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/report/claims.h"
#include "harness/report/claims_figures.h"

#include "claims_judging.h"

/* ---------------------------------------------------------------- 1, 2: the read/write relay */

/*
 * A relay cell of readwrite: the relay's ledger (READS and WRITES calls,
 * 1 GiB to and from user per GiB), its and the sink's copy seconds (< 0:
 * no sampler), SWITCHES scheduler switches; BPF: the older records' ledger.
 */
static struct crcell *rw_relay(double reads, double writes, double relay_copy, double sink_copy, double switches,
			       bool bpf)
{
	json_t *arr = json_array();
	char rc[160], sc[160], ledger[400];

	if (bpf)
		snprintf(ledger, sizeof(ledger), "\"bpf\":{\"syscalls_by_family\":{\"read\":%g,\"write\":%g},"
			 "\"bytes_to_user\":%ld,\"bytes_from_user\":%ld,\"bytes_in_kernel\":0,\"sched_switches\":%g}",
			 reads, writes, B64, B64, switches);
	else
		snprintf(ledger, sizeof(ledger), "\"ledger\":{\"source\":\"bpf\",\"calls\":{\"read\":%g,\"write\":%g},"
			 "\"bytes_to_user\":%ld,\"bytes_from_user\":%ld,\"bytes_in_kernel\":0},"
			 "\"perf\":{\"context_switches\":%g}", reads, writes, B64, B64, switches);
	for (int rep = 1; rep <= 3; rep++)
		add(arr, "readwrite", rep, B64, "\"roles\":{\"relay\":{%s,%s},\"sink\":{%s}}%s", ledger,
		    cputime(relay_copy, rc, sizeof(rc)), cputime(sink_copy, sc, sizeof(sc)),
		    relay_copy < 0 ? "," NOSAMPLER : "");
	return cell_of(arr);
}

static void test_readwrite_copies(void **state UNUSED)
{
	struct claim_evidence ev = evidence();
	const char *id = "readwrite-copies";

	ev.cell[CELL_RELAY].run = rw_relay(1024, 1024, 0.04, 0.02, 100, false);
	expect_built(id, &ev, V_HOLDS, "two CPU copies", "1 GiB to user and 1 GiB from user");
	drop(&ev, CELL_RELAY);

	/* The older records' BPF ledger serves where the record has no `ledger`. */
	expect_on(&ev, CELL_RELAY, rw_relay(1024, 1024, 0.04, 0.02, 100, true), id, V_HOLDS, "two CPU copies");

	expect_on(&ev, CELL_RELAY, rw_relay(1024, 4096, 0.04, 0.02, 100, false), id, V_NOT,
		  "5.00 system calls per chunk, not two");

	/* Negative control: the ledger counts two copies, the relay's copy time is the sink's one. */
	expect_on(&ev, CELL_RELAY, rw_relay(1024, 1024, 0.02, 0.02, 100, false), id, V_NOT,
		  "1.0x the sink's single copy");

	ev.cell[CELL_RELAY].run = rw_relay(1024, 1024, -1, -1, 100, false);
	expect_built(id, &ev, V_CANNOT, "the two CPU copies cannot be: no sampled copy time: the CPU sampler needs root",
		     "ledger counts what read-family calls return");
	drop(&ev, CELL_RELAY);

	/* A sink copy of 5 samples is too coarse to weigh the relay's against. */
	expect_on(&ev, CELL_RELAY, rw_relay(1024, 1024, 0.01, 0.005, 100, false), id, V_CANNOT,
		  "fewer than 10: too few to compare");

	expect(id, &ev, V_CANNOT, "the ledger did not count the relay's calls");
}

static void test_readwrite_context_switches(void **state UNUSED)
{
	struct claim_evidence ev = evidence();
	const char *id = "readwrite-context-switches";

	expect_on(&ev, CELL_RELAY, rw_relay(1024, 1024, 0.04, 0.02, 4096, true), id, V_HOLDS,
		  "about four times per chunk");

	expect_on(&ev, CELL_RELAY, rw_relay(1024, 1024, 0.04, 0.02, 100, true), id, V_NOT, "mode switches");

	/* Without the BPF ledger's count, perf's. */
	expect_on(&ev, CELL_RELAY, rw_relay(1024, 1024, 0.04, 0.02, 4096, false), id, V_HOLDS,
		  "about four times per chunk");

	expect(id, &ev, V_CANNOT, "neither the BPF ledger nor perf");
}

/* ---------------------------------------------------------------- copy time against readwrite's: 3, 5, 7 */

/*
 * A cell of NREPS paired reps of A and readwrite at BYTES: ROLE's ledger (A
 * all in kernel, readwrite through user memory), its copy seconds (< 0: no
 * sampler; readwrite's 0.04), and its system-wide CPU per GiB: A's SYS[i]
 * at rep i (NULL: 1), readwrite's 1, RESOLVED or not; and ROLE's own CPU
 * per GiB: A's OWN, readwrite's 1.
 */
struct pairs {
	const char *a, *role;
	long bytes;
	double copy;
	const double *sys;
	bool resolved;
	double own;
	int n;			/* pairs; 0: NREPS */
	bool probe;		/* A's record has the BPF probe's skb_copy_bytes: SKB GiB per GiB */
	double skb;
};

/* 64 MiB pairs of A against readwrite, ROLE copying COPY seconds, the system-wide CPU resolved. */
#define PAIRS(A, ROLE, COPY) .a = A, .role = ROLE, .bytes = B64, .copy = COPY, .resolved = true

static void add_pairs(json_t *arr, const struct pairs *p)
{
	int n = p->n ? p->n : NREPS;
	char ca[160], cr[160], sa[200], sr[200], probe[64] = "";

	if (p->probe)
		snprintf(probe, sizeof(probe), ",\"bpf\":{\"skb_copy_bytes\":%.0f}", p->skb * (double)p->bytes);
	for (int rep = 1; rep <= n; rep++) {
		add(arr, p->a, rep, p->bytes, "\"roles\":{\"%s\":{\"cpu_per_gib_s\":%g,%s,\"ledger\":{\"calls\":{\"splice\":"
		    "2048},\"bytes_to_user\":0,\"bytes_from_user\":0,\"bytes_in_kernel\":%ld}%s}},%s%s",
		    p->role, p->own, cputime(p->copy, ca, sizeof(ca)), 2 * p->bytes, probe,
		    system_cpu(p->sys ? p->sys[rep - 1] : 1, p->resolved, sa, sizeof(sa)),
		    p->copy < 0 ? "," NOSAMPLER : "");
		add(arr, "readwrite", rep, p->bytes, "\"roles\":{\"%s\":{\"cpu_per_gib_s\":1,%s,\"ledger\":{\"calls\":"
		    "{\"read\":1024,\"write\":1024},\"bytes_to_user\":%ld,\"bytes_from_user\":%ld,\"bytes_in_kernel\":0}}},"
		    "%s%s", p->role, cputime(p->copy < 0 ? -1 : 0.04, cr, sizeof(cr)), p->bytes,
		    p->bytes, system_cpu(1, p->resolved, sr, sizeof(sr)), p->copy < 0 ? "," NOSAMPLER : "");
	}
}

static struct crcell *pairs_cell(const struct pairs *p)
{
	json_t *arr = json_array();

	add_pairs(arr, p);
	return cell_of(arr);
}

static void test_sendfile_no_user_copy(void **state UNUSED)
{
	struct claim_evidence ev = evidence();
	const char *id = "sendfile-no-user-copy";
	struct pairs p = { PAIRS("sendfile", "server", 0.001), .own = 0.5 };

	ev.cell[CELL_SERVE].run = pairs_cell(&p);
	expect_built(id, &ev, V_HOLDS, "sendfile's server spent 2% of readwrite's copy time",
		     "the ledger counts sendfile as in-kernel");
	drop(&ev, CELL_SERVE);

	/* Negative control: in the ledger sendfile, in the sampler a copy as long as readwrite's. */
	p.copy = 0.04;
	ev.cell[CELL_SERVE].run = pairs_cell(&p);
	expect_built(id, &ev, V_NOT, "spent 100% of readwrite's copy time per GiB: the bytes were copied",
		     "0 bytes through user memory");
	drop(&ev, CELL_SERVE);

	p.copy = -1;
	ev.cell[CELL_SERVE].run = pairs_cell(&p);
	expect_built(id, &ev, V_CANNOT, "no sampled copy time: the CPU sampler needs root", "0 bytes through user memory");
	drop(&ev, CELL_SERVE);

	/* Records of another size than the plan's: nothing to compare. */
	p.copy = 0.001;
	p.bytes = B16;
	expect_on(&ev, CELL_SERVE, pairs_cell(&p), id, V_CANNOT, "no sampled copy time");
}

static void test_tee_no_user_copy(void **state UNUSED)
{
	struct claim_evidence ev = evidence();
	const char *id = "tee-no-user-copy";
	struct pairs p = { PAIRS("tee", "relay", 0.002), .own = 0.5 };

	ev.cell[CELL_FANOUT].run = pairs_cell(&p);
	expect_built(id, &ev, V_HOLDS, "the tee relay spent 5% of readwrite's copy time",
		     "counts tee and splice as in-kernel");
	drop(&ev, CELL_FANOUT);

	/* Negative control: tee calls, readwrite's copy time, and the copy out of socket buffers probed. */
	p.copy = 0.04;
	p.probe = true;
	p.skb = 1.0;
	expect_on(&ev, CELL_FANOUT, pairs_cell(&p), id, V_NOT,
		  "copied 1.00 GiB per GiB out of socket buffers into user memory");

	/* A copy that stays in the kernel (the recording's page cache) is named, and is not a user copy. */
	p.copy = 0.03;
	p.skb = 0;
	expect_on(&ev, CELL_FANOUT, pairs_cell(&p), id, V_HOLDS,
		  "no byte left a socket buffer for user memory, but the relay still spent 75%");

	p.probe = false;
	expect_on(&ev, CELL_FANOUT, pairs_cell(&p), id, V_CANNOT, "no probe here says whether into user memory");

	p.copy = -1;
	ev.cell[CELL_FANOUT].run = pairs_cell(&p);
	expect_built(id, &ev, V_CANNOT, "the CPU sampler needs root", "0 bytes through user memory");
	drop(&ev, CELL_FANOUT);
}

/* A refusal cell: what `copylab run` exited with. */
static struct crcell *refused(int code)
{
	struct crcell *c = cell_of(json_array());

	c->exit_code = code;
	snprintf(c->first_stderr_line, sizeof(c->first_stderr_line), "copylab: sendfile cannot run relay");
	return c;
}

static void test_sendfile_not_from_socket(void **state UNUSED)
{
	struct claim_evidence ev = evidence();
	const char *id = "sendfile-not-from-socket";

	ev.cell[CELL_REFUSE_SENDFILE].run = refused(2);
	ev.check = (struct kcheck){ .call = { -1, EINVAL } };
	expect_built(id, &ev, V_HOLDS, "the kernel itself refuses a socket", "exited 2");

	/* copylab's own refusal decides nothing: the kernel accepting is what counts. */
	ev.check = (struct kcheck){ .call = { 7, 0 } };
	expect(id, &ev, V_NOT, "this kernel accepted a socket as sendfile's input");

	ev.check = (struct kcheck){ .call = { -1, EMFILE } };
	expect(id, &ev, V_CANNOT, "the check itself failed: returned -1, errno EMFILE");
	drop(&ev, CELL_REFUSE_SENDFILE);
}

static void test_splice_needs_pipe(void **state UNUSED)
{
	struct claim_evidence ev = evidence();
	const char *id = "splice-needs-pipe";
	struct pairs p = { PAIRS("splice", "relay", 0.001), .own = 0.5 };

	ev.cell[CELL_REFUSE_SPLICE].run = refused(2);
	ev.check = (struct kcheck){ .call = { -1, EINVAL } };
	ev.cell[CELL_RELAY].run = pairs_cell(&p);
	expect_built(id, &ev, V_HOLDS, "spent 2% of readwrite's copy time", "2 GiB per GiB in the kernel");
	drop(&ev, CELL_RELAY);

	/* Negative control: splice-family calls, and the copy time of readwrite. */
	p.copy = 0.04;
	ev.cell[CELL_RELAY].run = pairs_cell(&p);
	expect_built(id, &ev, V_NOT, "the pipe did not spare the copy", "ledger counts splice-family calls as in-kernel");
	drop(&ev, CELL_RELAY);

	/* The kernel's refusal is measured; the pipe's copy is not, and the verdict says so. */
	p.copy = -1;
	ev.cell[CELL_RELAY].run = pairs_cell(&p);
	expect(id, &ev, V_HOLDS, "whether the relay's pipe copies cannot be measured here");

	ev.check = (struct kcheck){ .call = { 7, 0 } };
	expect(id, &ev, V_NOT, "spliced socket to socket without a pipe");

	ev.check = (struct kcheck){ .call = { -1, EMFILE } };
	expect(id, &ev, V_CANNOT, "the check itself failed");
	drop(&ev, CELL_RELAY);
	drop(&ev, CELL_REFUSE_SPLICE);
}

/* ---------------------------------------------------------------- system-wide CPU: 6, 11 */

static const double lower[NREPS] = { 0.5, 0.6, 0.7, 0.65, 0.55, 0.62, 0.58, 0.6 },
	higher[NREPS] = { 1.2, 1.5, 1.3, 1.4, 1.25, 1.35, 1.28, 1.32 };
static const double across[NREPS] = { 0.9, 1.1, 1.0, 0.95, 1.05, 0.98, 1.02, 1.01 };

static void test_splice_relay_less_cpu(void **state UNUSED)
{
	struct claim_evidence ev = evidence();
	const char *id = "splice-relay-less-cpu";
	struct pairs p = { PAIRS("splice", "relay", 0.001), .sys = lower, .own = 0.6 };

	expect_on(&ev, CELL_RELAY, pairs_cell(&p), id, V_HOLDS, "the system-wide CPU per GiB was lower");

	p.sys = higher;
	expect_on(&ev, CELL_RELAY, pairs_cell(&p), id, V_NOT, "the system-wide CPU per GiB was higher");

	/* The relay's own CPU is 0.6x readwrite's, but the machine's is no lower: no difference, more reps. */
	p.sys = across;
	ev.cell[CELL_RELAY].run = pairs_cell(&p);
	expect_more(id, &ev, "the interval of the paired ratio includes 1.0", CELL_RELAY, NREPS);
	drop(&ev, CELL_RELAY);

	/* Three pairs decide nothing, however far from 1.0. */
	p.sys = lower;
	p.n = 3;
	ev.cell[CELL_RELAY].run = pairs_cell(&p);
	expect_more(id, &ev, "only 3 paired repetitions", CELL_RELAY, 3);
	drop(&ev, CELL_RELAY);

	/* A figure of a few ticks never decides, even far below 1.0. */
	p.n = 0;
	p.resolved = false;
	expect_on(&ev, CELL_RELAY, pairs_cell(&p), id, V_UNRESOLVED,
		  "16 of 16 repetitions' system-wide CPU rests on 12 /proc/stat ticks");

	/* Negative control: lower CPU, but the copy time of readwrite: the claim's reason fails. */
	p.resolved = true;
	p.copy = 0.04;
	expect_on(&ev, CELL_RELAY, pairs_cell(&p), id, V_NOT,
		  "the bytes were copied, so the claim's reason does not hold");

	p.copy = -1;
	expect_on(&ev, CELL_RELAY, pairs_cell(&p), id, V_HOLDS,
		  "whether the bytes entered user memory cannot be measured here");

	expect(id, &ev, V_CANNOT, "no usable records of splice and readwrite");
}

/* Records from a copylab before system_cpu.resolved: the figure is there, and still decides nothing. */
static void test_system_cpu_without_resolution(void **state UNUSED)
{
	struct claim_evidence ev = evidence();
	json_t *arr = json_array();

	for (int rep = 1; rep <= NREPS; rep++) {
		add(arr, "splice", rep, B64, "\"roles\":{\"relay\":{\"cpu_per_gib_s\":0.5}},"
		    "\"system_cpu\":{\"busy_per_gib_s\":0.5}");
		add(arr, "readwrite", rep, B64, "\"roles\":{\"relay\":{\"cpu_per_gib_s\":1}},"
		    "\"system_cpu\":{\"busy_per_gib_s\":1}");
	}
	ev.cell[CELL_RELAY].run = cell_of(arr);
	expect("splice-relay-less-cpu", &ev, V_CANNOT, "no system_cpu.resolved");
	drop(&ev, CELL_RELAY);
}

static void test_sendfile_less_cpu(void **state UNUSED)
{
	struct claim_evidence ev = evidence();
	const char *id = "sendfile-less-cpu";
	struct pairs p = { PAIRS("sendfile", "server", 0.001), .sys = lower, .own = 0.5 };
	json_t *arr;

	expect_on(&ev, CELL_SERVE, pairs_cell(&p), id, V_HOLDS, "lower");

	p.sys = higher;
	expect_on(&ev, CELL_SERVE, pairs_cell(&p), id, V_NOT, "higher");

	/* The server's own CPU halves; the machine's does not move: undecided, the serve cell wants reps. */
	p.sys = across;
	ev.cell[CELL_SERVE].run = pairs_cell(&p);
	expect_more(id, &ev, "includes 1.0", CELL_SERVE, NREPS);
	drop(&ev, CELL_SERVE);

	p.sys = lower;
	p.resolved = false;
	expect_on(&ev, CELL_SERVE, pairs_cell(&p), id, V_UNRESOLVED, "too coarse to decide");

	/* Only the plan's size is judged: the small size of the sweep has its own pairs. */
	arr = json_array();
	p = (struct pairs){ PAIRS("sendfile", "server", 0.001), .sys = higher, .own = 0.5 };
	p.bytes = B16;
	add_pairs(arr, &p);
	p = (struct pairs){ PAIRS("sendfile", "server", 0.001), .sys = lower, .own = 0.5 };
	add_pairs(arr, &p);
	expect_on(&ev, CELL_SERVE, cell_of(arr), id, V_HOLDS, "lower");
}

/* ---------------------------------------------------------------- 8: the gift */

/*
 * A pipe cell of NREPS paired reps: the reader's copy seconds of vmsplice:gift
 * GIFT_COPY (< 0: no sampler) and of vmsplice 0.02; the writers' none.
 */
static struct crcell *pipe_cell(double gift_copy)
{
	json_t *arr = json_array();
	char w[160], r[160], pw[160], pr[160];

	for (int rep = 1; rep <= NREPS; rep++) {
		add(arr, "vmsplice:gift", rep, B64, "\"bytes_per_s\":%g,\"roles\":{\"writer\":{%s},\"reader\":{%s}}%s",
		    1e9 * across[rep - 1], cputime(gift_copy < 0 ? -1 : 0, w, sizeof(w)),
		    cputime(gift_copy, r, sizeof(r)), gift_copy < 0 ? "," NOSAMPLER : "");
		add(arr, "vmsplice", rep, B64, "\"bytes_per_s\":1e9,\"roles\":{\"writer\":{%s},\"reader\":{%s}}",
		    cputime(gift_copy < 0 ? -1 : 0, pw, sizeof(pw)), cputime(gift_copy < 0 ? -1 : 0.02, pr, sizeof(pr)));
	}
	return cell_of(arr);
}

static void test_gift_needs_alignment(void **state UNUSED)
{
	struct claim_evidence ev = evidence();
	const char *id = "gift-needs-alignment";

	ev.cell[CELL_PIPE].run = pipe_cell(0.01);
	ev.check = (struct kcheck){ .call = { -1, EINVAL }, .aligned = { 4096, 0 } };
	expect(id, &ev, V_HOLDS, "gifting cut the copy time (the paired interval lies below 1.0)");
	drop(&ev, CELL_PIPE);

	ev.cell[CELL_PIPE].run = pipe_cell(0.02);
	expect_more(id, &ev, "the kernel refused the unaligned gift, but a gift's copy time was no lower", CELL_PIPE, NREPS);
	drop(&ev, CELL_PIPE);

	expect_on(&ev, CELL_PIPE, pipe_cell(0.03), id, V_NOT, "gifted pages were copied more than plain ones");

	ev.cell[CELL_PIPE].run = pipe_cell(-1);
	expect(id, &ev, V_CANNOT, "whether a gift moves pages instead of copying them cannot be measured here");

	ev.check = (struct kcheck){ .call = { 1000, 0 }, .aligned = { 4096, 0 }, .data_intact = true };
	expect(id, &ev, V_NOT, "(GIFT only marks the pipe buffers as stealable; nothing on this path steals them); and "
	       "gifting made no measurable difference");
	drop(&ev, CELL_PIPE);

	ev.cell[CELL_PIPE].run = pipe_cell(0.02);
	expect(id, &ev, V_NOT, "accepted an unaligned gift and delivered the bytes intact (GIFT only marks the pipe "
	       "buffers as stealable; nothing on this path steals them); and gifted pages were copied like any other");

	ev.check = (struct kcheck){ .call = { -1, EFAULT }, .aligned = { -1, EFAULT } };
	expect(id, &ev, V_CANNOT, "the check itself failed: returned -1, errno EFAULT");
	drop(&ev, CELL_PIPE);
}

/* ---------------------------------------------------------------- 9: mmap's faults */

/*
 * A serve sweep at 16M and 64M of mmap_write and readwrite: the server's
 * page faults (mmap_write FAULTS16 / FAULTS64, readwrite 2 / 2; < 0: perf
 * did not count) and copy seconds at 64M (mmap_write MCOPY, < 0: no
 * sampler; readwrite 0.04).
 */
static struct crcell *faults_cell(double faults16, double faults64, double mcopy)
{
	json_t *arr = json_array();
	const struct { const char *s; long bytes; double faults, copy; } row[] = {
		{ "mmap_write", B16, faults16, mcopy }, { "mmap_write", B64, faults64, mcopy },
		{ "readwrite", B16, 2, mcopy < 0 ? -1 : 0.04 }, { "readwrite", B64, 2, mcopy < 0 ? -1 : 0.04 },
	};
	char c[160], f[64];

	for (int rep = 1; rep <= NREPS; rep++)
		for (size_t i = 0; i < sizeof(row) / sizeof(row[0]); i++) {
			snprintf(f, sizeof(f), row[i].faults < 0 ? "null" : "%g", row[i].faults);
			add(arr, row[i].s, rep, row[i].bytes, "\"roles\":{\"server\":{\"perf\":{\"page_faults\":%s},%s,"
			    "\"ledger\":{\"bytes_to_user\":%ld}}}%s", f, cputime(row[i].copy, c, sizeof(c)),
			    row[i].s[0] == 'r' ? row[i].bytes : 0L, mcopy < 0 ? "," NOSAMPLER : "");
		}
	return cell_of(arr);
}

static void test_mmap_trades_copy_for_faults(void **state UNUSED)
{
	struct claim_evidence ev = evidence();
	const char *id = "mmap-trades-copy-for-faults";

	ev.cell[CELL_SERVE].run = faults_cell(10, 34, 0.02);
	expect_built(id, &ev, V_HOLDS, "mmap_write's copy time per GiB was lower than readwrite's",
		     "mmap_write makes no read call");
	drop(&ev, CELL_SERVE);

	expect_on(&ev, CELL_SERVE, faults_cell(10, 12, 0.02), id, V_NOT, "the faults did not grow with the file");

	/* Negative control: no read call in the ledger, and still readwrite's copy time: nothing saved is shown. */
	ev.cell[CELL_SERVE].run = faults_cell(10, 34, 0.04);
	expect_more(id, &ev, "includes 1.0", CELL_SERVE, NREPS);
	drop(&ev, CELL_SERVE);

	expect_on(&ev, CELL_SERVE, faults_cell(10, 34, 0.06), id, V_NOT,
		  "mmap_write's copy time was higher than readwrite's: no copy saved");

	ev.cell[CELL_SERVE].run = faults_cell(10, 34, -1);
	expect_built(id, &ev, V_CANNOT, "the copy mmap saves cannot be measured here", "0 GiB to user");
	drop(&ev, CELL_SERVE);

	expect_on(&ev, CELL_SERVE, faults_cell(-1, -1, 0.02), id, V_CANNOT, "perf did not count");
}

/* ---------------------------------------------------------------- 10: throughput */

/*
 * A cell of N paired reps of A and readwrite at BYTES, A's throughput over
 * readwrite's RATIO[i] at rep i; LIMITER (or NULL) the fixed role that was
 * busy 0.97 of every rep's wall time.
 */
static void add_throughput(json_t *arr, const char *a, long bytes, const double *ratio, int n, const char *limiter)
{
	char lim[200] = "";

	if (limiter)
		snprintf(lim, sizeof(lim), ",\"limiting_role\":\"%s\",\"roles\":{\"%s\":{\"under_test\":false,"
			 "\"busy\":0.97},\"tested\":{\"under_test\":true,\"busy\":0.5}}", limiter, limiter);
	for (int rep = 1; rep <= n; rep++) {
		add(arr, a, rep, bytes, "\"bytes_per_s\":%g%s", 1e9 * ratio[rep - 1], lim);
		add(arr, "readwrite", rep, bytes, "\"bytes_per_s\":1e9%s", lim);
	}
}

static void faster(struct claim_evidence *ev, const double *serve, const double *relay, int n, const char *limiter)
{
	json_t *s = json_array(), *r = json_array();

	add_throughput(s, "sendfile", B64, serve, n, limiter);
	add_throughput(r, "splice", B64, relay, n, limiter);
	ev->cell[CELL_SERVE].run = cell_of(s);
	ev->cell[CELL_RELAY].run = cell_of(r);
}

static void unfaster(struct claim_evidence *ev)
{
	drop(ev, CELL_SERVE);
	drop(ev, CELL_RELAY);
}

static void test_zero_copy_faster(void **state UNUSED)
{
	static const double above[NREPS] = { 1.1, 1.2, 1.3, 1.25, 1.15, 1.22, 1.18, 1.2 };
	static const double across9[9] = { 0.9, 1.1, 1.0, 0.95, 1.05, 0.9, 1.1, 1.0, 1.02 };
	struct claim_evidence ev = evidence();
	const char *id = "zero-copy-faster";
	struct judgement j;
	json_t *arr;

	faster(&ev, above, above, NREPS, NULL);
	expect(id, &ev, V_HOLDS, "both intervals lie above 1.0");
	unfaster(&ev);

	faster(&ev, lower, lower, NREPS, NULL);
	expect(id, &ev, V_NOT, "both intervals lie below 1.0: on tcp there is no NIC");
	unfaster(&ev);

	faster(&ev, lower, across, NREPS, NULL);
	expect(id, &ev, V_NOT, "one interval lies below 1.0 and none above");
	unfaster(&ev);

	faster(&ev, above, lower, NREPS, NULL);
	expect(id, &ev, V_NODIFF, "only one of the two intervals lies above 1.0 and the other below");
	unfaster(&ev);

	faster(&ev, across, across, NREPS, NULL);
	j = judged(id, &ev, V_NODIFF, "both intervals include 1.0: on tcp there is no NIC");
	assert_int_equal(j.more, (1u << CELL_SERVE) | (1u << CELL_RELAY));
	judgement_free(&j);
	unfaster(&ev);

	faster(&ev, above, across, NREPS, NULL);
	expect_more(id, &ev, "only the serve interval lies above 1.0; the relay's includes it", CELL_RELAY, NREPS);
	unfaster(&ev);

	/* The repetitions named are the undecided ratio's: the relay's 9, not the decided serve's 5. */
	faster(&ev, above, across, NREPS, NULL);
	drop(&ev, CELL_RELAY);
	arr = json_array();
	add_throughput(arr, "splice", B64, across9, 9, NULL);
	ev.cell[CELL_RELAY].run = cell_of(arr);
	expect_more(id, &ev, "the relay's includes it", CELL_RELAY, 9);
	unfaster(&ev);

	/* A ratio of 1.00 when a fixed role bound both strategies is no "no difference". */
	faster(&ev, across, across, NREPS, "sink");
	expect(id, &ev, V_CANNOT, "the fixed sink limited the serve cell (busy 0.97");
	unfaster(&ev);

	faster(&ev, above, above, 3, NULL);
	expect_more(id, &ev, "fewer than 8 paired repetitions decide nothing", CELL_RELAY, 3);
	unfaster(&ev);

	/* The serve records are of another size than the plan's: no pairs to read. */
	ev.size = "256M";
	faster(&ev, above, above, NREPS, NULL);
	expect(id, &ev, V_CANNOT, "a cell has no paired repetitions");
	unfaster(&ev);
}

/* ---------------------------------------------------------------- 12: sockmap */

/*
 * A sockmap cell of NREPS paired reps: the sockmap relay's voluntary switches
 * WAKEUPS per rep (1024 chunks) and its CPU per GiB CPU (readwrite's relay:
 * 40 wake-ups, 0.6 s).
 */
static struct crcell *sockmap_cell(double wakeups, double cpu)
{
	json_t *arr = json_array();
	char s[200];

	for (int rep = 1; rep <= NREPS; rep++) {
		/* The syscall total is the BPF ledger's alone: the ledger object does not repeat it. */
		add(arr, "sockmap", rep, B64, "\"roles\":{\"relay\":{\"ctx_voluntary\":%g,\"cpu_per_gib_s\":%g,"
		    "\"ledger\":{\"calls\":{\"read\":0}},\"bpf\":{\"syscalls\":20}}},%s", wakeups, cpu,
		    system_cpu(0.6, true, s, sizeof(s)));
		add(arr, "readwrite", rep, B64, "\"roles\":{\"relay\":{\"ctx_voluntary\":40,\"cpu_per_gib_s\":0.6,"
		    "\"ledger\":{\"calls\":{\"read\":1024}},\"bpf\":{\"syscalls\":2100}}},%s",
		    system_cpu(1, true, s, sizeof(s)));
	}
	return cell_of(arr);
}

static void test_sockmap_no_wakeups(void **state UNUSED)
{
	struct claim_evidence ev = evidence();
	const char *id = "sockmap-no-wakeups";

	expect(id, &ev, V_CANNOT, "not yet in copylab");

	ev.cell[CELL_SOCKMAP].strategy = "sockmap";
	ev.cell[CELL_SOCKMAP].run = sockmap_cell(20, 0.006);
	expect_built(id, &ev, V_HOLDS, "woke 0.020 times per chunk and spent 1.0% of readwrite's relay CPU",
		     "syscalls per GiB: sockmap 320, readwrite 3.36e+04");
	drop(&ev, CELL_SOCKMAP);

	expect_on(&ev, CELL_SOCKMAP, sockmap_cell(1024, 0.006), id, V_NOT, "woke 1.00 times per chunk");

	/* Seldom woken, like a busy readwrite relay: the relay's own CPU shows whose context moved the bytes. */
	expect_on(&ev, CELL_SOCKMAP, sockmap_cell(20, 0.3), id, V_NOT, "spent 50% of readwrite's relay CPU per GiB");

	expect_on(&ev, CELL_SOCKMAP, cell_of(json_array()), id, V_CANNOT, "the cell did not run");
}

/* ---------------------------------------------------------------- 13: zero-copy receive */

/*
 * A recv cell of N paired reps: zerocopy_recv's receiver CPU over readwrite's RATIO[i], SHARE of the bytes
 * mapped, and readwrite:trunc's (the floor) at 0.2.
 */
static struct crcell *zc_cell(const double *ratio, int n, double share)
{
	json_t *arr = json_array();
	char s[200];

	for (int rep = 1; rep <= n; rep++) {
		add(arr, "zerocopy_recv", rep, B64, "\"roles\":{\"receiver\":{\"cpu_per_gib_s\":%g}},"
		    "\"zerocopy_recv\":{\"share_mapped\":%g},%s", ratio[rep - 1], share, system_cpu(1, true, s, sizeof(s)));
		add(arr, "readwrite", rep, B64, "\"roles\":{\"receiver\":{\"cpu_per_gib_s\":1}},%s",
		    system_cpu(1, true, s, sizeof(s)));
		add(arr, "readwrite:trunc", rep, B64, "\"roles\":{\"receiver\":{\"cpu_per_gib_s\":0.2}},%s",
		    system_cpu(1, true, s, sizeof(s)));
	}
	return cell_of(arr);
}

static void test_zerocopy_recv_halves_cpu(void **state UNUSED)
{
	static const double half[NREPS] = { 0.45, 0.5, 0.55, 0.48, 0.52, 0.49, 0.51, 0.5 },
			    most[NREPS] = { 0.7, 0.75, 0.8, 0.72, 0.78, 0.74, 0.76, 0.75 };
	struct claim_evidence ev = evidence();
	const char *id = "zerocopy-recv-halves-cpu";
	struct claim_cell *zc = &ev.cell[CELL_ZEROCOPY_RECV];
	struct judgement j;

	expect(id, &ev, V_CANNOT, "not in this copylab");
	zc->strategy = "zerocopy_recv";
	zc->not_run = "transport lo-ns makes a network namespace, which needs root";
	expect(id, &ev, V_CANNOT, "needs root");
	zc->not_run = NULL;

	zc->run = zc_cell(half, NREPS, 1.0);
	j = judged(id, &ev, V_HOLDS, "0.50x readwrite's");
	/* The floor is stated beside the verdict, from readwrite:trunc's records. */
	if (!strstr(j.measurement, "the floor, readwrite:trunc") || !strstr(j.measurement, "0.2"))
		print_error("measured: %s\n", j.measurement);
	assert_non_null(strstr(j.measurement, "the floor, readwrite:trunc"));
	judgement_free(&j);
	drop(&ev, CELL_ZEROCOPY_RECV);

	zc->run = zc_cell(most, NREPS, 1.0);
	expect(id, &ev, V_NOT, "lower, but 0.75x, not half");
	drop(&ev, CELL_ZEROCOPY_RECV);

	zc->run = zc_cell(higher, NREPS, 1.0);
	expect(id, &ev, V_NOT, "cost more CPU than read()");
	drop(&ev, CELL_ZEROCOPY_RECV);

	zc->run = zc_cell(across, NREPS, 1.0);
	expect_more(id, &ev, "includes 1.0", CELL_ZEROCOPY_RECV, NREPS);
	drop(&ev, CELL_ZEROCOPY_RECV);

	zc->run = zc_cell(half, NREPS, 0.5);
	expect(id, &ev, V_CANNOT, "only 50.0% of the bytes were mapped");
	drop(&ev, CELL_ZEROCOPY_RECV);

	zc->run = cell_of(json_array());
	expect(id, &ev, V_CANNOT, "no paired repetitions");
	drop(&ev, CELL_ZEROCOPY_RECV);
}

/* ---------------------------------------------------------------- 14: nat */

/*
 * A routed relay cell of NREPS paired reps: nat's system CPU over readwrite's
 * and splice's SYS[i], RESOLVED or not; RELAY: nat's record has a relay.
 */
static struct crcell *nat_cell(const double *sys, bool resolved, bool relay)
{
	json_t *arr = json_array();
	char s[200];

	for (int rep = 1; rep <= NREPS; rep++) {
		add(arr, "nat", rep, B64, "\"roles\":{\"source\":{},\"sink\":{}%s},%s",
		    relay ? ",\"relay\":{\"bytes\":67108864}" : "", system_cpu(sys[rep - 1], resolved, s, sizeof(s)));
		add(arr, "readwrite", rep, B64, "\"roles\":{\"relay\":{\"bytes\":67108864}},%s",
		    system_cpu(1, resolved, s, sizeof(s)));
		add(arr, "splice", rep, B64, "\"roles\":{\"relay\":{\"bytes\":67108864}},%s",
		    system_cpu(1, resolved, s, sizeof(s)));
	}
	return cell_of(arr);
}

static void test_nat_no_process(void **state UNUSED)
{
	const char *failed[] = { "{\"strategy\":\"nat\",\"status\":\"failed\",\"rep\":1,\"bytes\":67108864}", NULL };
	struct claim_evidence ev = evidence();
	const char *id = "nat-no-process";
	json_t *arr;

	expect(id, &ev, V_CANNOT, "not yet in copylab");

	ev.cell[CELL_NAT].strategy = "nat";
	ev.cell[CELL_NAT].not_run = "nat writes nftables rules in a network namespace, which needs root (CAP_NET_ADMIN)";
	expect(id, &ev, V_CANNOT, "nat needs root here");
	ev.cell[CELL_NAT].not_run = NULL;

	ev.cell[CELL_NAT].run = nat_cell(lower, true, false);
	expect_built(id, &ev, V_HOLDS, "below readwrite's and splice's", "starts none");
	drop(&ev, CELL_NAT);

	expect_on(&ev, CELL_NAT, nat_cell(higher, true, false), id, V_NOT,
		  "cost more system-wide CPU per GiB than a process relay");

	ev.cell[CELL_NAT].run = nat_cell(across, true, false);
	expect_more(id, &ev, "includes 1.0", CELL_NAT, NREPS);
	drop(&ev, CELL_NAT);

	expect_on(&ev, CELL_NAT, nat_cell(lower, false, false), id, V_UNRESOLVED, "too coarse to decide");

	expect_on(&ev, CELL_NAT, nat_cell(lower, true, true), id, V_NOT, "a relay process took part");

	arr = json_array();
	json_array_append_new(arr, json_loads(failed[0], 0, NULL));
	expect_on(&ev, CELL_NAT, cell_of(arr), id, V_CANNOT, "the nat cell did not run here");
}

/* ---------------------------------------------------------------- added repetitions */

/*
 * Added repetitions are paired within their own run: a first run whose
 * splice/readwrite ratios are all 0.5 and a second whose are all 2, both
 * numbered 1..3, merge into three pairs of 0.5 and three of 2 (never a
 * cross-run 0.25 or 4), and the second run's reps follow the first's.
 */
static void test_merged_reps_pair_within_their_run(void **state UNUSED)
{
	json_t *first = json_array(), *second = json_array();
	struct crcell *a, *b;
	struct crpaired p;
	double rep;

	for (int r = 1; r <= 3; r++) {
		add(first, "splice", r, B64, "\"bytes_per_s\":1");
		add(first, "readwrite", r, B64, "\"bytes_per_s\":2");
		add(second, "readwrite", r, B64, "\"bytes_per_s\":1");
		add(second, "splice", r, B64, "\"bytes_per_s\":2");
	}
	a = cell_of(first);
	b = cell_of(second);
	free(b->command);
	b->command = strdup("copylab run --reps 3");
	assert_int_equal(cell_merge(a, b), 6);
	p = paired_ratio(a, "splice", "readwrite", -1, "bytes_per_s");
	assert_int_equal(p.n, 6);
	assert_true(p.min == 0.5 && p.max == 2.0);
	assert_true(p.median == 1.25);
	assert_true(rr_num(json_array_get(a->records, 11), "rep", &rep) && rep == 6);
	assert_non_null(strstr(a->command, "\ncopylab run --reps 3"));
	cell_free(a);
}

/*
 * The interval of the paired median narrows as pairs are added: min..max
 * up to 8 pairs, then order statistics, so a run of 9 whose two outliers
 * straddle 1.0 can still decide.
 */
static void test_paired_interval_narrows(void **state UNUSED)
{
	static const double ratio[9] = { 0.5, 1.1, 1.12, 1.14, 1.16, 1.18, 1.2, 1.22, 3.0 };
	json_t *arr = json_array();
	struct crcell *c;
	struct crpaired p;

	for (int r = 1; r <= 9; r++) {
		add(arr, "splice", r, B64, "\"bytes_per_s\":%g", ratio[r - 1]);
		add(arr, "readwrite", r, B64, "\"bytes_per_s\":1");
	}
	c = cell_of(arr);
	p = paired_ratio(c, "splice", "readwrite", -1, "bytes_per_s");
	assert_int_equal(p.n, 9);
	assert_true(p.min == 0.5 && p.max == 3.0);
	assert_true(p.lo == 1.1 && p.hi == 1.22);
	assert_true(p.level > 0.96 && p.level < 0.962);
	cell_free(c);
}

/* ---------------------------------------------------------------- the ledger */

static void test_ledger_says_reps_and_construction(void **state UNUSED)
{
	struct ledger_entry e = { claim_find("splice-relay-less-cpu"), strdup("copylab run ..."),
				  { V_NODIFF, strdup("m"), strdup("the interval includes 1.0"),
				    strdup("x — by construction: y"), 15, 0 } };
	struct ledger_run r = { "copylab claims", "today", "6.18", "64M", "tcp", 5, 15, true };
	char *md = ledger_markdown(&r, &e, 1), *text = NULL;
	json_t *js = ledger_json(&r, &e, 1), *c = json_array_get(json_object_get(js, "claims"), 0);
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ledger_print(f, &e, 1);
	fclose(f);
	assert_non_null(strstr(text, "VERDICT: no difference measured at 15 repetitions — the interval"));
	assert_non_null(strstr(text, "\n    not measured: x — by construction: y\n"));
	assert_non_null(strstr(md, "\n- not measured: x — by construction: y\n"));
	assert_non_null(strstr(md, "**verdict: no difference measured at 15 repetitions**"));
	assert_string_equal(json_string_value(json_object_get(js, "schema")), "copylab.claims/2");
	assert_string_equal(json_string_value(json_object_get(c, "verdict")), "no difference measured");
	assert_int_equal(json_integer_value(json_object_get(c, "repetitions")), 15);
	assert_string_equal(json_string_value(json_object_get(c, "by_construction")), "x — by construction: y");
	assert_string_equal(verdict_text(V_UNRESOLVED), "unresolved");
	free(text);
	free(md);
	json_decref(js);
	free(e.cells);
	judgement_free(&e.judgement);
}

/* Every claim has its texts, a judge, and cells or a direct check; ids are unique. */
static void test_table_is_complete(void **state UNUSED)
{
	assert_true(claims_total() >= 14 + 19);
	assert_null(claim_at(claims_total()));
	for (size_t i = 0; i < claims_total(); i++) {
		const struct claim *c = claim_at(i);

		assert_true(*c->id && *c->statement && *c->source && *c->figure && *c->expectation);
		assert_non_null(c->judge);
		assert_true(c->cells[0] != CELL_NONE || c->check);
		assert_ptr_equal(claim_find(c->id), c);
	}
	assert_null(claim_find("no-such-claim"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_readwrite_copies),
		cmocka_unit_test(test_readwrite_context_switches),
		cmocka_unit_test(test_sendfile_no_user_copy),
		cmocka_unit_test(test_sendfile_not_from_socket),
		cmocka_unit_test(test_splice_needs_pipe),
		cmocka_unit_test(test_splice_relay_less_cpu),
		cmocka_unit_test(test_system_cpu_without_resolution),
		cmocka_unit_test(test_tee_no_user_copy),
		cmocka_unit_test(test_gift_needs_alignment),
		cmocka_unit_test(test_mmap_trades_copy_for_faults),
		cmocka_unit_test(test_zero_copy_faster),
		cmocka_unit_test(test_sendfile_less_cpu),
		cmocka_unit_test(test_sockmap_no_wakeups),
		cmocka_unit_test(test_zerocopy_recv_halves_cpu),
		cmocka_unit_test(test_nat_no_process),
		cmocka_unit_test(test_merged_reps_pair_within_their_run),
		cmocka_unit_test(test_paired_interval_narrows),
		cmocka_unit_test(test_ledger_says_reps_and_construction),
		cmocka_unit_test(test_table_is_complete),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
