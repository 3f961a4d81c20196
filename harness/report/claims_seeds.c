/* SPDX-License-Identifier: MIT */
/*
 * The claims of the five articles copylab was made from (claims_seeds.h
 * names them), each with its judge: pure functions from the cells' records
 * and the direct checks' results to a verdict, as in claims_table.c.
 */
#include "claims_figures.h"
#include "claims_seeds.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- figures of these claims */

/* A role's sampled share of CPU in the page-fault and memory-management group; NAN without the sampler. */
static double fig_mm_share(json_t *rec, const void *role)
{
	char path[96];
	double mm, all;

	snprintf(path, sizeof(path), "roles.%s.cputime.groups.mm", (const char *)role);
	if (!rr_num(rec, path, &mm))
		return NAN;
	snprintf(path, sizeof(path), "roles.%s.cputime.sampled_s", (const char *)role);
	return rr_num(rec, path, &all) && all > 0 ? mm / all : NAN;
}

/* A role's sampled samples (all of its CPU, not its copies'). */
static double fig_samples(json_t *rec, const void *role)
{
	char path[96];
	double v;

	snprintf(path, sizeof(path), "roles.%s.cputime.samples", (const char *)role);
	return rr_num(rec, path, &v) ? v : NAN;
}

/* A role's read-, write- and splice-family calls per chunk of the record's block. */
static double fig_calls_per_chunk(json_t *rec, const void *role)
{
	static const char *const fam[] = { "read", "write", "splice" };
	double chunks, sum = 0, v, block;

	if (!rr_num(rec, "bytes", &chunks) || !rr_num(rec, "block", &block) || block <= 0)
		return NAN;
	chunks /= block;
	for (size_t i = 0; i < sizeof(fam) / sizeof(fam[0]); i++) {
		struct role_key k = { role, fam[i] };

		v = fig_ledger_calls(rec, &k);
		sum += isnan(v) ? 0 : v;
	}
	return chunks > 0 && sum > 0 ? sum / chunks : NAN;
}

/* Scheduler switches of a role per chunk: the BPF ledger's, else perf's. */
static double fig_switches_per_chunk(json_t *rec, const void *role)
{
	char path[96];
	double sw, bytes, block;

	snprintf(path, sizeof(path), "roles.%s.bpf.sched_switches", (const char *)role);
	if (!rr_num(rec, path, &sw)) {
		snprintf(path, sizeof(path), "roles.%s.perf.context_switches", (const char *)role);
		if (!rr_num(rec, path, &sw))
			return NAN;
	}
	if (!rr_num(rec, "bytes", &bytes) || !rr_num(rec, "block", &block) || bytes <= 0 || block <= 0)
		return NAN;
	return sw / (bytes / block);
}

/* A figure of a record divided by its bytes. */
static double fig_per_byte(json_t *rec, const void *path)
{
	double v, bytes;

	return rr_num(rec, path, &v) && rr_num(rec, "bytes", &bytes) && bytes > 0 ? v / bytes : NAN;
}

/* Records of STRATEGY in a cell: *all, *usable (status ok), *mismatch (verification failed); bytes verified. */
static double verified_bytes(const struct crcell *c, const char *strategy, int *all, int *usable, int *mismatch)
{
	double sum = 0, b;
	json_t *rec;
	size_t i;

	*all = *usable = *mismatch = 0;
	if (!c || !c->records)
		return 0;
	json_array_foreach(c->records, i, rec) {
		const char *s = rr_str(rec, "strategy"), *v = rr_str(rec, "verify");

		if (!s || strcmp(s, strategy))
			continue;
		++*all;
		if (v && !strcmp(v, "mismatch"))
			++*mismatch;
		if (cr_usable(rec, strategy, -1) && v && !strcmp(v, "ok") && rr_num(rec, "bytes", &b)) {
			++*usable;
			sum += b;
		}
	}
	return sum;
}

/* ---------------------------------------------------------------- sendfile's output */

static void judge_sendfile_out_socket(const struct claim_evidence *ev, struct judgement *j)
{
	const struct kcheck *k = &ev->check;
	char *ft = call_text(k->call), *pt = call_text(k->second);
	bool file_ok = k->call.ret >= 0 && k->data_intact, pipe_ok = k->second.ret >= 0 && k->second_intact;

	MEASURE(j, "sendfile into a regular file %s%s; into a pipe %s%s", ft,
		k->call.ret >= 0 ? (k->data_intact ? ", the bytes read back intact" : ", but the bytes read back differ") : "",
		pt, k->second.ret >= 0 ? (k->second_intact ? ", the bytes read back intact" :
					  ", but the bytes read back differ") : "");
	if (file_ok || pipe_ok)
		decide(j, V_NOT, "this kernel sent a file into %s, byte-exact: the output need not be a socket (any file "
		       "since Linux 2.6.33)", file_ok && pipe_ok ? "a regular file and into a pipe" :
		       file_ok ? "a regular file" : "a pipe");
	else if (k->call.ret >= 0 || k->second.ret >= 0)
		decide(j, V_CANNOT, "sendfile returned success but the bytes read back differ: the check is not sound");
	else if (k->call.err == EINVAL && k->second.err == EINVAL)
		decide(j, V_HOLDS, "the kernel refused a regular file and a pipe as sendfile's output (EINVAL)");
	else
		decide(j, V_CANNOT, "the check itself failed: into a file %s, into a pipe %s", ft, pt);
	free(ft);
	free(pt);
}

/* ---------------------------------------------------------------- splice: partial moves, corruption, MOVE, page tables */

static void judge_splice_nonblock_partial(const struct claim_evidence *ev, struct judgement *j)
{
	const struct kcheck *k = &ev->check;
	struct crcell *c = ev->cell[CELL_SPLICE_NONBLOCK].run;
	struct crgroup g = { c, "splice", -1 };
	double shorts = cell_median(&g, "roles.relay.short_ops"), again = cell_median(&g, "roles.relay.eagain");
	int all, usable, mismatch;
	double bytes = verified_bytes(c, "splice", &all, &usable, &mismatch);
	bool partial = k->call.ret > 0 && k->call.ret < k->asked && k->left > 0;
	char *ct = call_text(k->call);
	char a[32], b[32];

	MEASURE(j, "direct: %s of %ld bytes asked, %ld left in the pipe; copylab's non-blocking splice relay: %d of %d "
		"repetitions byte-exact (%.0f bytes verified), %s short moves and %s EAGAINs per repetition (medians)",
		ct, k->asked, k->left, usable, all, bytes, fmt_g(shorts, a, sizeof(a)), fmt_g(again, b, sizeof(b)));
	if (k->call.ret < 0 && k->call.err != EAGAIN)
		decide(j, V_CANNOT, "the check itself failed: %s", ct);
	else if (!partial)
		decide(j, V_NOT, "a non-blocking splice into a socket that could take less %s",
		       k->call.ret == k->asked ? "moved everything" : "moved nothing and left the pipe as it was");
	else if (!c || all == 0)
		decide(j, V_CANNOT, "the partial move happens (%ld of %ld bytes left in the pipe); whether copylab's loop "
		       "handles it cannot be said: its cell did not run", k->left, k->asked);
	else if (usable < all)
		decide(j, V_CANNOT, "the partial move happens, and copylab's own loop did not deliver %d of %d "
		       "repetitions byte-exact (see the cell's log)", all - usable, all);
	else
		decide(j, V_HOLDS, "a non-blocking splice moved %ld of %ld bytes and left %ld in the pipe; copylab's loop, "
		       "which keeps what is left in the pipe and resumes, delivered every repetition byte-exact%s",
		       k->call.ret, k->asked, k->left, shorts + again > 0 ? "" :
		       " (though its cell met no short move here)");
	free(ct);
}

static void judge_splice_socket_read_corrupts(const struct claim_evidence *ev, struct judgement *j)
{
	int all[2], usable[2], mismatch[2];
	double bytes = verified_bytes(ev->cell[CELL_SPLICE_NONBLOCK].run, "splice", &all[0], &usable[0], &mismatch[0]) +
		       verified_bytes(ev->cell[CELL_RELAY].run, "splice", &all[1], &usable[1], &mismatch[1]);
	char a[32];

	MEASURE(j, "splice relays (blocking and non-blocking) reading from sockets: %d repetitions, %d byte-exact, %d "
		"failed verification; %s GiB spliced out of sockets and verified by the sink's hash",
		all[0] + all[1], usable[0] + usable[1], mismatch[0] + mismatch[1], fmt_g(bytes / GIB, a, sizeof(a)));
	if (mismatch[0] + mismatch[1] > 0)
		decide(j, V_HOLDS, "%d repetitions spliced from a socket delivered bytes that differ from those sent",
		       mismatch[0] + mismatch[1]);
	else if (bytes <= 0)
		decide(j, V_CANNOT, "no splice relay repetition was verified (the cells did not run)");
	else
		decide(j, V_NOT, "%s GiB spliced out of sockets, every byte as sent: no corruption here (a bug fixed "
		       "long ago cannot be shown absent, only unseen)", a);
}

static void judge_splice_move(const struct claim_evidence *ev, struct judgement *j)
{
	struct crcell *c = ev->cell[CELL_SPLICE_MOVE].run;
	struct crgroup plain = { c, "splice", -1 }, move = { c, "splice:move", -1 }, rw = { c, "readwrite", -1 };
	struct copy_cmp cp, cm;
	struct sys_ratio s;

	cp = copy_compare(j, (struct copy_side){ &plain, "relay", "splice" }, (struct copy_side){ &rw, "relay", "readwrite" });
	MEASURE(j, "; ");
	cm = copy_compare(j, (struct copy_side){ &move, "relay", "splice:move" },
			  (struct copy_side){ &rw, "relay", "readwrite" });
	MEASURE(j, "; ");
	s = system_ratio(j, c, "splice:move", "splice", -1);
	if (cp.state == COPY_MEASURED && !copied(&cp))
		decide(j, V_NOT, "without SPLICE_F_MOVE splice already spent %.0f%% of readwrite's copy time per GiB: "
		       "the zero copy does not come from the flag (the kernel has ignored it since 2.6.21)", 100 * cp.share);
	else if (cp.state == COPY_MEASURED && cm.state == COPY_MEASURED && copied(&cm))
		decide(j, V_NOT, "with SPLICE_F_MOVE splice still spent %.0f%% of readwrite's copy time per GiB",
		       100 * cm.share);
	else if (cp.state == COPY_MEASURED && cm.state == COPY_MEASURED)
		decide(j, V_HOLDS, "splice copied without the flag (%.0f%% of readwrite's copy time) and not with it (%.0f%%)",
		       100 * cp.share, 100 * cm.share);
	else if (!sys_ratio_undecidable(j, &s))
		decide_cost(j, &s.p, CELL_SPLICE_MOVE, "the copy time cannot decide; the flag lowered the system-wide CPU "
			    "per GiB", "the copy time cannot decide; the flag raised the system-wide CPU per GiB");
	if (j->verdict == V_NODIFF)
		cr_append(&j->why, ": the flag changed nothing measurable (%s)", cp.state == COPY_MEASURED ? cm.why : cp.why);
}

static void judge_splice_remaps_pages(const struct claim_evidence *ev, struct judgement *j)
{
	struct crcell *c = ev->cell[CELL_RELAY].run;
	struct crgroup g = { c, "splice", -1 }, r = { c, "readwrite", -1 };
	double f = cell_median_of(&g, fig_per_byte, "roles.relay.faults_minor") * GIB;
	double rf = cell_median_of(&r, fig_per_byte, "roles.relay.faults_minor") * GIB;
	char a[32], b[32];

	MEASURE(j, "relay minor page faults per GiB: splice %s, readwrite %s; ", fmt_g(f, a, sizeof(a)),
		fmt_g(rf, b, sizeof(b)));
	copy_compare(j, (struct copy_side){ &g, "relay", "splice" }, (struct copy_side){ &r, "relay", "readwrite" });
	if (!c)
		decide(j, V_CANNOT, "the relay cell did not run");
	else
		decide(j, V_CANNOT, "no counter here sees which page-table entries the kernel changes: the pipe holds "
		       "references to the socket buffers' pages (no process mapping is touched, as the relay's page "
		       "faults show), and TLB shootdowns are not recorded; the copy time says only that no copy was made");
}

/* ---------------------------------------------------------------- vmsplice */

static void judge_vmsplice_reuse(const struct claim_evidence *ev, struct judgement *j)
{
	const struct kcheck *k = &ev->check;
	char *vt = call_text(k->call), *wt = call_text(k->second);

	MEASURE(j, "vmsplice of a page of 'A's %s, then the page overwritten: the reader got %s; write() control %s, "
		"the reader got %s", vt, k->data_intact ? "the 'A's" : "other bytes (the overwrite)", wt,
		k->second_intact ? "the 'A's" : "other bytes");
	if (k->call.ret < 0 || k->second.ret < 0)
		decide(j, V_CANNOT, "the check itself failed: vmsplice %s, write %s", vt, wt);
	else if (!k->second_intact)
		decide(j, V_CANNOT, "the write() control did not read back its own bytes: the check is not sound");
	else if (k->data_intact)
		decide(j, V_NOT, "the reader got the bytes as given: the pipe held a copy, not the page");
	else
		decide(j, V_HOLDS, "the reader got the overwrite: the pipe held a reference to the application's page, "
		       "while write()'s pipe held a copy");
	free(vt);
	free(wt);
}

static void judge_vmsplice_no_copy(const struct claim_evidence *ev, struct judgement *j)
{
	struct crgroup d = { ev->cell[CELL_PIPE].run, "vmsplice", -1 }, dr = { ev->cell[CELL_PIPE].run, "readwrite", -1 };
	struct crgroup m = { ev->cell[CELL_VMSPLICE_PIPE].run, "vmsplice", -1 };
	struct crgroup mr = { ev->cell[CELL_VMSPLICE_PIPE].run, "readwrite", -1 };
	double granted = cell_median(&m, "pipe_size");
	struct copy_cmp cd, cm;
	char a[32];

	cd = copy_compare(j, (struct copy_side){ &d, "writer", "vmsplice's writer (default pipe)" },
			  (struct copy_side){ &dr, "writer", "readwrite's writer" });
	MEASURE(j, "; ");
	cm = copy_compare(j, (struct copy_side){ &m, "writer", "vmsplice's writer (--pipe-size 1M)" },
			  (struct copy_side){ &mr, "writer", "readwrite's writer" });
	MEASURE(j, "; the pipe granted for --pipe-size 1M: %s bytes. The reader copies every byte out of the pipe "
		"in all of them.", fmt_g(granted, a, sizeof(a)));
	if (cd.state != COPY_MEASURED || cm.state != COPY_MEASURED)
		decide(j, V_CANNOT, "%s", cd.state != COPY_MEASURED ? cd.why : cm.why);
	else if (copied(&cd) || copied(&cm))
		decide(j, V_NOT, "vmsplice's writer spent %.0f%% (default pipe) and %.0f%% (1 MiB pipe) of readwrite's "
		       "writer's copy time per GiB: the bytes were copied", 100 * cd.share, 100 * cm.share);
	else
		decide(j, V_HOLDS, "vmsplice's writer spent %.0f%% (default pipe) and %.0f%% (1 MiB pipe) of readwrite's "
		       "writer's copy time per GiB: the pages entered the pipe uncopied", 100 * cd.share, 100 * cm.share);
}

/* ---------------------------------------------------------------- the zero-copy article's table */

/* A row of the article's table: what it says one chunk of a file sent to a socket costs. */
struct table_row {
	const char *strategy;
	double cpu_copies;	/* per byte */
	double mode_switches;	/* per chunk: two per system call */
};

/* The copies per byte that count as the claimed number: none is at most 0.2 of a copy, else 0.6x..1.5x. */
static void claimed_range(double claimed, double *lo, double *hi)
{
	*lo = claimed == 0 ? 0 : 0.6 * claimed;
	*hi = claimed == 0 ? 0.2 : 1.5 * claimed;
}

static void judge_table_row(const struct claim_evidence *ev, struct judgement *j, const struct table_row *t)
{
	struct crgroup g = { ev->cell[CELL_SERVE].run, t->strategy, cr_size(ev->size) };
	double calls = cell_median_of(&g, fig_calls_per_chunk, "server");
	double sw = cell_median_of(&g, fig_switches_per_chunk, "server"), modes = 2 * calls, l[3];
	bool modes_ok = fabs(modes - t->mode_switches) <= 0.25 * t->mode_switches;
	struct copy_cmp c;
	struct crpaired r;
	double lo, hi;
	char a[32], b[32], d[32];

	ledger_of(&g, "server", l);
	by_construction(j, "%s GiB to user and %s GiB from user per GiB for %s's server — by construction: the ledger "
			"names copies by the calls made", fmt_g(l[0], a, sizeof(a)), fmt_g(l[1], b, sizeof(b)), t->strategy);
	MEASURE(j, "serve at %s, the server: %s transfer calls per chunk, so %s mode switches (claimed %g); %s scheduler "
		"switches per chunk; CPU copies per byte as the server's copy time over the client's, which copies each "
		"byte once (claimed %g): ", ev->size, fmt_g(calls, a, sizeof(a)), fmt_g(modes, b, sizeof(b)),
		t->mode_switches, fmt_g(sw, d, sizeof(d)), t->cpu_copies);
	c = copy_compare(j, (struct copy_side){ &g, "server", t->strategy }, (struct copy_side){ &g, "client", "the client" });
	/* Some tens of copy samples a rep: the verdict rests on the interval of the per-rep ratios, not on one figure. */
	r = role_copy_ratio(&g, "server", "client");
	claimed_range(t->cpu_copies, &lo, &hi);
	if (r.n)
		MEASURE(j, "; per rep, server over client: median %.2f, [%.2f..%.2f] over %d reps (covers the median "
			"with %.1f%%)", r.median, r.dlo, r.dhi, r.n, 100 * r.dlevel);
	MEASURE(j, ". DMA copies are not visible to any counter here, and on loopback there are none.");
	if (isnan(calls))
		decide(j, V_CANNOT, "the ledger did not count the server's calls");
	else if (!modes_ok)
		decide(j, V_NOT, "%.1f mode switches per chunk, not %g", modes, t->mode_switches);
	else if (c.state != COPY_MEASURED || !r.n)
		decide(j, V_CANNOT, "%.1f mode switches per chunk, as claimed; the CPU copies cannot be measured: %s",
		       modes, c.state != COPY_MEASURED ? c.why : "no rep has both roles' copy time");
	else if (r.dhi < lo || r.dlo > hi)
		decide(j, V_NOT, "%.1f mode switches per chunk as claimed, but %.1f CPU copies per byte, not %g "
		       "([%.2f..%.2f] over %d reps lies outside %.1f..%.1f)", modes, r.median, t->cpu_copies, r.dlo, r.dhi,
		       r.n, lo, hi);
	else if (r.dlo >= lo && r.dhi <= hi)
		decide(j, V_HOLDS, "%.1f mode switches per chunk and %.1f CPU copies per byte, as claimed ([%.2f..%.2f] "
		       "over %d reps lies inside %.1f..%.1f)", modes, r.median, r.dlo, r.dhi, r.n, lo, hi);
	else
		decide(j, V_UNRESOLVED, "%.1f mode switches per chunk as claimed; %.1f CPU copies per byte, but its "
		       "interval [%.2f..%.2f] over %d reps reaches both inside and outside %.1f..%.1f: the sampled copy "
		       "time is too coarse here to decide", modes, r.median, r.dlo, r.dhi, r.n, lo, hi);
}

/* The table's read/write column says four CPU copies; its own text says two of them are DMA. */
static void judge_table_readwrite(const struct claim_evidence *ev, struct judgement *j)
{
	judge_table_row(ev, j, &(struct table_row){ "readwrite", 4, 4 });
}

static void judge_table_mmap_write(const struct claim_evidence *ev, struct judgement *j)
{
	judge_table_row(ev, j, &(struct table_row){ "mmap_write", 1, 2 });
}

static void judge_table_sendfile(const struct claim_evidence *ev, struct judgement *j)
{
	judge_table_row(ev, j, &(struct table_row){ "sendfile", 0, 2 });
}

/* "2 per splice": a chunk is two splices (file into the pipe, the pipe into the socket). */
static void judge_table_splice(const struct claim_evidence *ev, struct judgement *j)
{
	judge_table_row(ev, j, &(struct table_row){ "splice", 0, 4 });
}

/* ---------------------------------------------------------------- latency, memory bandwidth, the echo server */

static double fig_p50(json_t *rec, const void *unused)
{
	double v;

	(void)unused;
	return rr_num(rec, "latency.p50_us", &v) ? v : NAN;
}

static void judge_lower_latency(const struct claim_evidence *ev, struct judgement *j)
{
	struct crcell *c = ev->cell[CELL_ECHO].run;
	struct crgroup s = { c, "splice", -1 }, r = { c, "readwrite", -1 };
	struct crpaired p = paired_ratio_of(c, "splice", "readwrite", -1, fig_p50, NULL);
	char a[32], b[32], d[32];

	MEASURE(j, "echo of %s-byte messages, one in flight: median round trip readwrite %s us, splice %s us; p50 "
		"splice/readwrite ", fmt_g(cell_median(&r, "block"), d, sizeof(d)),
		fmt_g(cell_median(&r, "latency.p50_us"), a, sizeof(a)), fmt_g(cell_median(&s, "latency.p50_us"), b, sizeof(b)));
	paired_text(j, &p);
	decide_cost(j, &p, CELL_ECHO, "splice's median round trip was shorter (the paired interval lies below 1.0)",
		    "splice's median round trip was longer (the paired interval lies above 1.0)");
}

static void judge_lower_memory_bandwidth(const struct claim_evidence *ev, struct judgement *j)
{
	const struct kcheck *k = &ev->check;
	char *t = call_text(k->call);

	MEASURE(j, "a hardware cache-miss counter for this process: %s", t);
	if (k->call.ret < 0)
		decide(j, V_CANNOT, "this machine gives no hardware counters (%s: a virtual machine without a PMU, or "
		       "one not passed through), and no memory-controller counters: memory traffic cannot be counted "
		       "here; the sampled copy time of the other claims is the nearest figure", errno_name(k->call.err));
	else
		decide(j, V_CANNOT, "this machine has a cache-miss counter, but copylab records no memory traffic (no "
		       "memory-controller counts): the sampled copy time of the other claims is the nearest figure");
	free(t);
}

static void judge_splice_echo_no_copy(const struct claim_evidence *ev, struct judgement *j)
{
	struct crgroup g = { ev->cell[CELL_ECHO].run, "splice", -1 }, r = { ev->cell[CELL_ECHO].run, "readwrite", -1 };
	struct copy_cmp c;
	double l[3];
	char a[32], b[32];

	ledger_of(&g, "server", l);
	by_construction(j, "%s GiB to user and %s from user per GiB for the splice echo server — by construction: the "
			"ledger counts splice-family calls as in-kernel", fmt_g(l[0], a, sizeof(a)), fmt_g(l[1], b, sizeof(b)));
	c = copy_compare(j, (struct copy_side){ &g, "server", "splice's server" },
			 (struct copy_side){ &r, "server", "readwrite's server" });
	decide_no_copy(j, &c, "the splice echo server");
}

/* ---------------------------------------------------------------- size, page faults, DMA */

static void judge_gain_needs_size(const struct claim_evidence *ev, struct judgement *j)
{
	struct crcell *small = ev->cell[CELL_SERVE_SMALL].run;
	const char *path = "roles.server.cpu_per_gib_s";
	struct crpaired ps = paired_ratio(small, "sendfile", "readwrite", -1, path);
	struct crpaired pb = paired_ratio(ev->cell[CELL_SERVE].run, "sendfile", "readwrite", cr_size(ev->size), path);
	enum side s = ratio_side(&ps), b = ratio_side(&pb);

	MEASURE(j, "the server's own CPU per GiB, sendfile/readwrite: at 64K ");
	paired_text(j, &ps);
	MEASURE(j, "; at %s ", ev->size);
	paired_text(j, &pb);
	j->reps = ps.n;
	if (s == SIDE_NONE || b == SIDE_NONE)
		decide(j, V_CANNOT, "a serve cell has no paired repetitions");
	else if (s == SIDE_BELOW)
		decide(j, V_NOT, "sendfile's gain showed at 64 KiB already (the paired interval lies below 1.0)");
	else if (b == SIDE_ABOVE || (b == SIDE_ACROSS && s == SIDE_ABOVE))
		decide(j, V_NOT, "sendfile showed no gain at %s either", ev->size);
	else if (b != SIDE_BELOW) {
		j->more |= 1u << CELL_SERVE;
		j->reps = pb.n;
		decide(j, V_NODIFF, "the gain at %s is itself not decided (its interval includes 1.0)", ev->size);
	} else {
		/* Invisible is a ratio that still includes 1.0 after the added repetitions, as "no difference" is. */
		if (s == SIDE_ACROSS || s == SIDE_FEW)
			j->more |= 1u << CELL_SERVE_SMALL;
		decide(j, V_HOLDS, "no gain at 64 KiB (%s), and a gain at %s (the interval lies below 1.0)",
		       s == SIDE_ABOVE ? "sendfile cost more" : "the interval includes 1.0", ev->size);
	}
}

static void judge_mmap_faults_cost(const struct claim_evidence *ev, struct judgement *j)
{
	long big = cr_size(ev->size);
	struct crgroup m = { ev->cell[CELL_SERVE].run, "mmap_write", big }, r = { ev->cell[CELL_SERVE].run, "readwrite", big };
	double ms = cell_median_of(&m, fig_mm_share, "server"), rs = cell_median_of(&r, fig_mm_share, "server");
	double n = cell_median_of(&m, fig_samples, "server");
	double f = cell_median_of(&m, fig_per_byte, "roles.server.perf.page_faults") * GIB;
	char a[32];

	MEASURE(j, "at %s, the server's sampled CPU in page faults and memory management: mmap_write %.1f%%, readwrite "
		"%.1f%% (medians, %.0f samples); mmap_write's page faults per GiB %s", ev->size, 100 * ms, 100 * rs, n,
		fmt_g(f, a, sizeof(a)));
	if (isnan(ms) || isnan(rs))
		decide(j, V_CANNOT, "no sampled CPU groups in the serve records (the CPU sampler needs root)");
	else if (!(n >= COPY_MIN_SAMPLES))
		decide(j, V_CANNOT, "mmap_write's server CPU rests on %.0f samples, too few", n);
	else if (ms >= 0.2 && ms > 2 * rs)
		decide(j, V_HOLDS, "page faults and memory management took %.0f%% of mmap_write's server CPU (readwrite's: "
		       "%.0f%%)", 100 * ms, 100 * rs);
	else
		decide(j, V_NOT, "page faults and memory management took only %.0f%% of mmap_write's server CPU "
		       "(readwrite's: %.0f%%)", 100 * ms, 100 * rs);
}

static void judge_sg_dma_no_cpu_copy(const struct claim_evidence *ev, struct judgement *j)
{
	long big = cr_size(ev->size);
	struct crgroup g = { ev->cell[CELL_SERVE].run, "sendfile", big }, r = { ev->cell[CELL_SERVE].run, "readwrite", big };
	const char *transport = group_str(&g, "transport");
	struct copy_cmp c;

	MEASURE(j, "the serve cell ran over %s", transport ? transport : "nothing (no usable record)");
	if (!transport || strcmp(transport, "nic")) {
		decide(j, V_CANNOT, "no real NIC: over %s the bytes are delivered to a local socket, so there is no "
		       "scatter-gather DMA to take them; `copylab claims --transport nic --peer HOST:PORT` measures it "
		       "against a second host", transport ? transport : ev->transport);
		return;
	}
	MEASURE(j, "; ");
	c = copy_compare(j, (struct copy_side){ &g, "server", "sendfile's server" },
			 (struct copy_side){ &r, "server", "readwrite's server" });
	decide_no_copy(j, &c, "sendfile's server, sending through the NIC,");
}

/* ---------------------------------------------------------------- the user-space stack, port forwarding */

static void judge_userstack_copies(const struct claim_evidence *ev, struct judgement *j)
{
	const struct claim_cell *cc = &ev->cell[CELL_USERSTACK];
	struct crgroup g = { cc->run, "readwrite", -1 };
	double wrote = cell_median_of(&g, fig_per_byte, "roles.stack.bytes");
	double calls = cell_median_of(&g, fig_per_byte, "roles.stack.calls") * cell_median(&g, "block");
	char a[32], b[32];

	if (!cc->run) {
		MEASURE(j, "not run: %s", cc->not_run ? cc->not_run : "the cell did not run");
		decide(j, V_CANNOT, "%s", cc->not_run ? cc->not_run : "the userstack cell did not run");
		return;
	}
	by_construction(j, "stackd reads each byte out of the program's Unix socket before lwIP takes it — by "
			"construction of the ipc data path (/proc/PID/io's read bytes are not in the record)");
	MEASURE(j, "send over userstack (the ipc path: the program's socket is an AF_UNIX stream to stackd): stackd "
		"wrote %s bytes per payload byte into the kernel (its write calls: TAP frames), in %s read and write "
		"calls per chunk. The shm path (a shared ring) is not a `copylab run` transport: "
		"scripts/userstack-bench.sh compares the two", fmt_g(wrote, a, sizeof(a)), fmt_g(calls, b, sizeof(b)));
	if (isnan(wrote))
		decide(j, V_CANNOT, "the records have no stack role (see the cell's log)");
	else if (wrote >= 0.9)
		decide(j, V_HOLDS, "beyond the program's own write, stackd copied each byte out of the socket and again "
		       "into the kernel (%.2f bytes written per byte)", wrote);
	else
		decide(j, V_NOT, "stackd wrote only %.2f bytes per payload byte into the kernel", wrote);
}

static void judge_port_forward(const struct claim_evidence *ev, struct judgement *j)
{
	const struct claim_cell *nat = &ev->cell[CELL_NAT], *redir = &ev->cell[CELL_REDIRECT];
	struct crgroup gr = { redir->run, redir->strategy, -1 };

	if (nat->run && nat->strategy) {
		struct crgroup g = { nat->run, nat->strategy, -1 };

		MEASURE(j, "through a router (%s over routed): %s; ", nat->strategy,
			!isnan(cell_median(&g, "roles.relay.bytes")) ? "a relay role in the record" :
			isnan(cell_median(&g, "bytes")) ? "no usable record" : "no relay process in the record");
		system_ratio(j, nat->run, nat->strategy, "readwrite", -1);
		MEASURE(j, "; ");
	} else {
		MEASURE(j, "through a router: not run (%s); ", nat->not_run ? nat->not_run : "no nat strategy");
	}
	if (!redir->strategy) {
		MEASURE(j, "on one host: copylab list has no redirect strategy");
		decide(j, V_CANNOT, "the same-host half: copylab has no REDIRECT/OUTPUT strategy, since on loopback an "
		       "OUTPUT DNAT only rewrites the port of a connection that never leaves lo (no bytes are forwarded, "
		       "so there is nothing to cost); the router half is nat-no-process");
		return;
	}
	if (!redir->run) {
		MEASURE(j, "on one host: not run: %s", redir->not_run);
		decide(j, V_CANNOT, "the same-host half did not run here: %s", redir->not_run);
		return;
	}
	MEASURE(j, "on one host (%s): %s", redir->strategy,
		isnan(cell_median(&gr, "roles.relay.bytes")) ? "no relay process in the record" : "a relay role");
	if (!isnan(cell_median(&gr, "roles.relay.bytes")))
		decide(j, V_NOT, "a relay process took part on one host");
	else if (isnan(cell_median(&gr, "bytes")))
		decide(j, V_CANNOT, "the same-host cell gave no usable record");
	else
		decide(j, V_HOLDS, "neither the router's DNAT nor the same-host rule ran a process");
}

/* ---------------------------------------------------------------- the claims */

const struct claim seed_claim_table[] = {
	{
		.id = "sendfile-out-must-be-socket",
		.statement = "Since Linux 2.6.9 sendfile() can only send a file that supports mmap out through a socket: "
			     "its output must be a socket, not a file or a pipe.",
		.source = SEED_SPLICE_FAMILY "; " SEED_ZERO_COPY " (section 3.4)",
		.figure = "direct sendfile() of a 4 KiB regular file into a regular file and into a pipe, each read back",
		.expectation = "EINVAL for both outputs",
		.check = check_sendfile_outputs,
		.judge = judge_sendfile_out_socket,
	},
	{
		.id = "splice-nonblock-partial",
		.statement = "In non-blocking mode splice() may move part of what was asked and leave the rest in the "
			     "pipe, so a production loop must keep what is left and resume.",
		.source = SEED_ZERO_COPY " (section 4.3, the proxy's comments)",
		.figure = "a direct non-blocking splice of a pipe holding 64 KiB into a loopback TCP socket with 4 KiB "
			  "buffers: bytes moved and left in the pipe; copylab's splice relay with --nonblock and 16 KiB "
			  "socket buffers: byte-exact repetitions, short moves and EAGAINs",
		.expectation = "part moved and bytes left in the pipe; every repetition of the relay byte-exact",
		.cells = { CELL_SPLICE_NONBLOCK },
		.check = check_splice_partial,
		.judge = judge_splice_nonblock_partial,
	},
	{
		.id = "splice-socket-read-corrupts",
		.statement = "splice()'s implementation of reading from a socket can corrupt data.",
		.source = SEED_SPLICE_FAMILY,
		.figure = "every splice relay repetition (blocking, and non-blocking with small buffers): the sink's "
			  "hash of every byte against the source's pattern",
		.expectation = "if the claim holds here: a repetition that fails verification",
		.cells = { CELL_SPLICE_NONBLOCK, CELL_RELAY },
		.judge = judge_splice_socket_read_corrupts,
	},
	{
		.id = "splice-move-zero-copy",
		.statement = "SPLICE_F_MOVE is what makes splice() zero-copy: it moves pages instead of copying them.",
		.source = SEED_ZERO_COPY " (section 4.2); " SEED_SPLICE_FAMILY "; splice(2) (the flag is a no-op "
			  "since 2.6.21)",
		.figure = "relay: the relay's sampled copy time per GiB, splice and splice:move each against readwrite's; "
			  "system-wide busy CPU per GiB, splice:move / splice, paired, beside (deciding only without the "
			  "sampler)",
		.expectation = "splice without the flag copying (over 10% of readwrite's copy time) and with it not",
		.cells = { CELL_SPLICE_MOVE },
		.judge = judge_splice_move,
	},
	{
		.id = "splice-remaps-pages",
		.statement = "splice() works by rewriting page-table entries: the pages are moved into the pipe and out "
			     "by remapping, not copied.",
		.source = SEED_ZERO_COPY " (sections 4.1 and 5.4)",
		.figure = "no counter here sees page-table changes; beside: the splice relay's minor page faults per GiB "
			  "and its sampled copy time against readwrite's",
		.expectation = "cannot be measured here: what is measured is the copy not made, not how",
		.cells = { CELL_RELAY },
		.judge = judge_splice_remaps_pages,
	},
	{
		.id = "vmsplice-reuse-changes-pipe",
		.statement = "After vmsplice() the application must not touch its buffer: writing into it changes the "
			     "data still in the pipe.",
		.source = SEED_ZERO_COPY " (section 4.5); docs/labs/lab3-vmsplice.md's reuse.c",
		.figure = "a direct vmsplice of a page of 'A's, the page overwritten with 'B's, the pipe read; write() "
			  "as the control",
		.expectation = "the reader gets the 'B's after vmsplice and the 'A's after write()",
		.check = check_vmsplice_reuse,
		.judge = judge_vmsplice_reuse,
	},
	{
		.id = "vmsplice-no-copy",
		.statement = "vmsplice() moves application memory into a pipe without copying it.",
		.source = SEED_ZERO_COPY " (section 4.4)",
		.figure = "pipe: the writer's sampled copy time per GiB, vmsplice against readwrite's writer, in a default "
			  "pipe and in a 1 MiB pipe (--pipe-size 1M)",
		.expectation = "both at most 10% of readwrite's writer's",
		.cells = { CELL_PIPE, CELL_VMSPLICE_PIPE },
		.judge = judge_vmsplice_no_copy,
	},
	{
		.id = "table-readwrite",
		.statement = "The zero-copy article's table: read/write costs 4 CPU copies and 4 context switches.",
		.source = SEED_ZERO_COPY " (section 6.2, the comparison table)",
		.figure = "serve at the plan's size, the server: read/write/splice-family calls per chunk (x2: mode "
			  "switches) from the ledger's counts; CPU copies per byte: its sampled copy time over the client's "
			  "(one copy per byte); scheduler switches beside",
		.expectation = "4 mode switches per chunk and 4 CPU copies per byte (0.6x..1.5x)",
		.cells = { CELL_SERVE },
		.judge = judge_table_readwrite,
	},
	{
		.id = "table-mmap-write",
		.statement = "mmap + write costs one CPU copy per byte (page cache to socket buffer) and the mode "
			     "switches of one write call per chunk.",
		.source = "not in the zero-copy article's table (" SEED_ZERO_COPY " names mmap only as sendfile's "
			  "input); the row of Linux Journal, \"Zero Copy I\" (Stancevic, 2003) and IBM developerWorks (2008)",
		.figure = "as table-readwrite, for mmap_write",
		.expectation = "2 mode switches per chunk and 1 CPU copy per byte (0.6x..1.5x)",
		.cells = { CELL_SERVE },
		.judge = judge_table_mmap_write,
	},
	{
		.id = "table-sendfile",
		.statement = "The zero-copy article's table: modern sendfile costs 0 CPU copies (2 DMA) and 2 context "
			     "switches.",
		.source = SEED_ZERO_COPY " (section 6.2, the comparison table)",
		.figure = "as table-readwrite, for sendfile",
		.expectation = "2 mode switches per chunk and at most 0.2 CPU copies per byte",
		.cells = { CELL_SERVE },
		.judge = judge_table_sendfile,
	},
	{
		.id = "table-splice",
		.statement = "The zero-copy article's table: splice costs 0 CPU copies (1-2 DMA) and 2 context switches "
			     "per splice call.",
		.source = SEED_ZERO_COPY " (section 6.2, the comparison table)",
		.figure = "as table-readwrite, for splice (two splice calls per chunk: into its pipe and out)",
		.expectation = "4 mode switches per chunk (2 per call) and at most 0.2 CPU copies per byte",
		.cells = { CELL_SERVE },
		.judge = judge_table_splice,
	},
	{
		.id = "zero-copy-lower-latency",
		.statement = "Zero-copy lowers latency: fewer steps shorten the end-to-end transfer time.",
		.source = SEED_ZERO_COPY " (section 6.1)",
		.figure = "echo, one message of the plan's block in flight: median round trip (latency.p50_us), splice / "
			  "readwrite, paired rep by rep",
		.expectation = "the paired ratio's interval below 1.0",
		.cells = { CELL_ECHO },
		.judge = judge_lower_latency,
	},
	{
		.id = "zero-copy-lower-memory-bandwidth",
		.statement = "Zero-copy lowers memory bandwidth: fewer trips over the memory bus.",
		.source = SEED_ZERO_COPY " (section 6.1)",
		.figure = "memory traffic would need hardware (uncore memory-controller) counters: a direct "
			  "perf_event_open of a hardware cache-miss counter says whether this machine has any",
		.expectation = "cannot be measured without hardware counters",
		.check = check_hw_counters,
		.judge = judge_lower_memory_bandwidth,
	},
	{
		.id = "splice-echo-no-user-copy",
		.statement = "A splice echo server (socket into a pipe and back out) copies nothing to user space.",
		.source = SEED_SPLICE_FAMILY " (its echo server, section 3)",
		.figure = "echo, the server: sampled copy time per GiB, splice against readwrite; the ledger's bytes beside",
		.expectation = "splice's at most 10% of readwrite's",
		.cells = { CELL_ECHO },
		.judge = judge_splice_echo_no_copy,
	},
	{
		.id = "zero-copy-gain-needs-size",
		.statement = "The gain of zero-copy does not show for small transfers: only with enough data does it appear.",
		.source = SEED_SPLICE_PROXY,
		.figure = "serve: the server's own CPU per GiB, sendfile / readwrite, paired, at 64 KiB (one chunk) and "
			  "at the plan's size",
		.expectation = "the interval includes 1.0 (or lies above) at 64 KiB and lies below 1.0 at the plan's size",
		.cells = { CELL_SERVE_SMALL, CELL_SERVE },
		.judge = judge_gain_needs_size,
	},
	{
		.id = "mmap-faults-large-cost",
		.statement = "Page-fault handling is a large part of the cost of moving bytes through mapped memory.",
		.source = SEED_SPLICE_PROXY " (\"缺页处理也是一大户\")",
		.figure = "serve at the plan's size, the server: the share of its sampled CPU in page faults and memory "
			  "management (cputime.groups.mm), mmap_write against readwrite; page faults per GiB beside",
		.expectation = "at least 20% of mmap_write's server CPU, and over twice readwrite's share",
		.cells = { CELL_SERVE },
		.judge = judge_mmap_faults_cost,
	},
	{
		.id = "sendfile-sg-dma-no-cpu-copy",
		.statement = "With scatter-gather DMA, sendfile() makes no CPU copy at all: the NIC gathers the bytes "
			     "from the page cache.",
		.source = SEED_ZERO_COPY " (sections 3.1.2 and 5.3)",
		.figure = "serve over a real NIC (transport nic): the server's sampled copy time per GiB, sendfile "
			  "against readwrite",
		.expectation = "over nic: sendfile's at most 10% of readwrite's; elsewhere: cannot be measured",
		.cells = { CELL_SERVE },
		.judge = judge_sg_dma_no_cpu_copy,
	},
	{
		.id = "userstack-ipc-adds-copies",
		.statement = "A user-space TCP stack offered to unmodified programs through an LD_PRELOAD socket shim "
			     "and IPC to a stack daemon adds copies of every byte.",
		.source = SEED_USERSTACK,
		.figure = "send over transport userstack (the shim's ipc path to copylab stackd): the bytes stackd "
			  "wrote into the kernel per payload byte and its calls per chunk (/proc/PID/io)",
		.expectation = "at least 0.9 bytes written by stackd per payload byte, beside the program's own write",
		.cells = { CELL_USERSTACK },
		.judge = judge_userstack_copies,
	},
	{
		.id = "port-forward-no-process",
		.statement = "iptables port forwarding needs no process, on one host (REDIRECT in OUTPUT) as through a "
			     "router (PREROUTING DNAT), where a user-space proxy needs one.",
		.source = SEED_SOCKET_OFFLOAD,
		.figure = "relay over routed with nat (DNAT in a router namespace): a relay role in the record or not, "
			  "system-wide CPU per GiB against readwrite; on one host: a redirect strategy, if copylab has one",
		.expectation = "no relay process in either",
		.cells = { CELL_NAT, CELL_REDIRECT },
		.judge = judge_port_forward,
	},
};

const size_t seed_claim_count = sizeof(seed_claim_table) / sizeof(seed_claim_table[0]);

size_t claims_total(void)
{
	return claim_count + seed_claim_count;
}

const struct claim *claim_at(size_t i)
{
	return i < claim_count ? &claim_table[i] : i < claims_total() ? &seed_claim_table[i - claim_count] : NULL;
}
