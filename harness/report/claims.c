/* SPDX-License-Identifier: MIT */
/*
 * `copylab claims`: the claims of the zero-copy articles and man pages,
 * each measured on this machine and given a verdict.  The cells run as
 * child processes of `copylab run ... --json --out DIR/claims-N` (the same
 * code path a user runs by hand); their records are read back with jansson.
 * Two claims are decided by small direct checks of the kernel (a splice and
 * a sendfile between sockets, an unaligned vmsplice with SPLICE_F_GIFT).
 */
#include "harness/cli/cli.h"
#include "harness/model/base.h"
#include "harness/results/write.h"
#include "cellrun.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define GIB 1073741824.0

enum verdict { V_HOLDS, V_NOT, V_NODIFF, V_CANNOT };

static const char *verdict_text(enum verdict v)
{
	switch (v) {
	case V_HOLDS: return "holds here";
	case V_NOT: return "does not hold here";
	case V_NODIFF: return "no difference measured";
	default: return "cannot be measured here";
	}
}

struct claim {
	const char *id;
	const char *claim;	/* paraphrased */
	const char *source;
	char *cells;		/* the commands that test it */
	const char *figure;	/* what decides it */
	const char *expectation;
	char *measurement;
	enum verdict verdict;
	char *why;		/* for "cannot be measured", and a short reason otherwise */
};

#define MAX_CLAIMS 20
static struct claim claims[MAX_CLAIMS];
static int nclaims;

static struct claim *claim_add(const char *id, const char *text, const char *source,
			       const char *figure, const char *expectation)
{
	struct claim *c = &claims[nclaims++];

	c->id = id;
	c->claim = text;
	c->source = source;
	c->figure = figure;
	c->expectation = expectation;
	c->cells = cr_strdup("");
	c->measurement = cr_strdup("");
	c->why = cr_strdup("");
	c->verdict = V_CANNOT;
	return c;
}

static void claim_cell(struct claim *c, const struct crcell *cell)
{
	cr_append(&c->cells, "%s%s", *c->cells ? "\n" : "", cell ? cell->command : "");
}

static void claim_cmd(struct claim *c, const char *cmd)
{
	cr_append(&c->cells, "%s%s", *c->cells ? "\n" : "", cmd);
}

static void decide(struct claim *c, enum verdict v, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	c->verdict = v;
	free(c->why);
	c->why = s ? s : cr_strdup("");
}

#define MEASURE(c, ...) cr_append(&(c)->measurement, __VA_ARGS__)

/* ---------------------------------------------------------------- direct kernel checks */

struct direct {
	const char *cmd;
	long ret;
	int err;
};

/* splice() between two connected AF_UNIX stream sockets, no pipe anywhere. */
static struct direct check_splice_socket_to_socket(void)
{
	struct direct d = { "splice(socket, socket) with no pipe (AF_UNIX socketpairs)", 0, 0 };
	int a[2], b[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, a) || socketpair(AF_UNIX, SOCK_STREAM, 0, b)) {
		d.ret = -1;
		d.err = errno;
		return d;
	}
	if (write(a[0], "copylab", 7) != 7)
		d.err = errno;
	errno = 0;
	d.ret = splice(a[1], NULL, b[0], NULL, 7, SPLICE_F_NONBLOCK);
	d.err = d.ret < 0 ? errno : 0;
	close(a[0]); close(a[1]); close(b[0]); close(b[1]);
	return d;
}

/* sendfile() whose input is a socket (with data ready in it). */
static struct direct check_sendfile_from_socket(void)
{
	struct direct d = { "sendfile(out=socket, in=socket) (AF_UNIX socketpairs)", 0, 0 };
	int a[2], b[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, a) || socketpair(AF_UNIX, SOCK_STREAM, 0, b)) {
		d.ret = -1;
		d.err = errno;
		return d;
	}
	if (write(a[0], "copylab", 7) != 7)
		d.err = errno;
	fcntl(a[1], F_SETFL, O_NONBLOCK);
	errno = 0;
	d.ret = sendfile(b[0], a[1], NULL, 7);
	d.err = d.ret < 0 ? errno : 0;
	close(a[0]); close(a[1]); close(b[0]); close(b[1]);
	return d;
}

/*
 * vmsplice() of a buffer that is not page-aligned (offset 7, length 1000)
 * with SPLICE_F_GIFT, then the same from an aligned page: what the kernel
 * says, and whether the bytes read back out of the pipe are the ones given.
 */
struct gift_check {
	long unaligned_ret, aligned_ret;
	int unaligned_err, aligned_err;
	bool unaligned_data_ok;
};

static struct gift_check check_gift_alignment(void)
{
	struct gift_check g = { 0 };
	long page = sysconf(_SC_PAGESIZE);
	unsigned char *buf = NULL, back[1000];
	int p[2];
	struct iovec iov;

	if (posix_memalign((void **)&buf, (size_t)page, (size_t)page * 2) || pipe(p)) {
		g.unaligned_ret = g.aligned_ret = -1;
		g.unaligned_err = g.aligned_err = errno ? errno : ENOMEM;
		free(buf);
		return g;
	}
	for (long i = 0; i < page * 2; i++)
		buf[i] = (unsigned char)(i * 31 + 7);
	iov.iov_base = buf + 7;
	iov.iov_len = 1000;
	errno = 0;
	g.unaligned_ret = vmsplice(p[1], &iov, 1, SPLICE_F_GIFT);
	g.unaligned_err = g.unaligned_ret < 0 ? errno : 0;
	if (g.unaligned_ret == 1000 && read(p[0], back, 1000) == 1000)
		g.unaligned_data_ok = !memcmp(back, buf + 7, 1000);
	iov.iov_base = buf + page;
	iov.iov_len = (size_t)page;
	errno = 0;
	g.aligned_ret = vmsplice(p[1], &iov, 1, SPLICE_F_GIFT);
	g.aligned_err = g.aligned_ret < 0 ? errno : 0;
	close(p[0]);
	close(p[1]);
	free(buf);
	return g;
}

static char *direct_text(long ret, int err)
{
	char *s = NULL;

	if (ret < 0)
		cr_append(&s, "returned -1, errno %s (%s)", errno_name(err), strerror(err));
	else
		cr_append(&s, "returned %ld (success)", ret);
	return s;
}

/* ---------------------------------------------------------------- helpers on figures */

static const char *fmt_g(double v, char *buf, size_t len)
{
	if (isnan(v))
		snprintf(buf, len, "n/a");
	else
		snprintf(buf, len, "%.3g", v);
	return buf;
}

/* "x (min..max of n paired reps, coverage c)" */
static void paired_text(char **out, const struct crpaired *p)
{
	char a[32], b[32], c[32];

	if (p->n == 0) {
		cr_append(out, "n/a (no paired repetitions)");
		return;
	}
	cr_append(out, "%s [%s..%s] over %d paired reps (min..max covers the median with %.1f%%)",
		fmt_g(p->median, a, sizeof(a)), fmt_g(p->min, b, sizeof(b)), fmt_g(p->max, c, sizeof(c)),
		p->n, 100.0 * p->coverage);
}

/* A paired ratio of a cost (lower is better): holds when the whole range is below 1. */
static enum verdict lower_verdict(const struct crpaired *p)
{
	if (p->n == 0)
		return V_CANNOT;
	if (p->max < 1.0)
		return V_HOLDS;
	if (p->min > 1.0)
		return V_NOT;
	return V_NODIFF;
}

/* ---------------------------------------------------------------- the claims */

static const char *SRC_IBM = "IBM developerWorks, \"Efficient data transfer through zero copy\" (Palaniappan & Nagaraja, 2008); "
			     "Linux Journal, \"Zero Copy I: User-Mode Perspective\" (Stancevic, 2003)";

struct plan {
	const char *size;
	const char *size_small;	/* for the page-fault growth */
	int reps;
	const char *transport;
	char *dir;
};

static void claims_usage(FILE *out)
{
	fprintf(out,
		"usage: copylab claims [--quick] [--out DIR] [--size N] [--reps N] [--transport T]\n\n"
		"Measures each claim of the zero-copy articles and man pages on this machine\n"
		"and gives it a verdict: holds here, does not hold here, no difference measured,\n"
		"or cannot be measured here (with why).  Every cell is a `copylab run` child\n"
		"whose records stay in DIR/claims-N/.\n\n"
		"  --quick        64 MiB cells, 3 repetitions (a few minutes at most)\n"
		"  --size N       payload per cell (default 256M; --quick: 64M)\n"
		"  --reps N       counted repetitions per cell (default 6: min..max covers the\n"
		"                 median with 96.9%%; --quick: 3, 75%%)\n"
		"  --transport T  tcp (default) or another transport `copylab run` accepts\n"
		"  --out DIR      where cells, claims.json and claims.md go\n"
		"                 (default results/claims-<time>)\n\n"
		"Prints the ledger; writes DIR/claims.json and DIR/claims.md atomically.\n"
		"Exit status: 0 every claim got a verdict from cells that ran, 1 a cell failed,\n"
		"2 bad usage.\n");
}

static int ncells;

static struct crcell *cell_on(struct plan *pl, const char *transport, const char *scenario,
			      const char *strategies, const char *extra)
{
	char dir[4096], reps[16];
	const char *argv[32];
	int n = 0;

	snprintf(dir, sizeof(dir), "%s/claims-%d", pl->dir, ++ncells);
	snprintf(reps, sizeof(reps), "%d", pl->reps);
	argv[n++] = "run";
	argv[n++] = "--scenario";
	argv[n++] = scenario;
	argv[n++] = "--strategy";
	argv[n++] = strategies;
	if (strcmp(scenario, "copy") && strcmp(scenario, "pipe")) {
		argv[n++] = "--transport";
		argv[n++] = transport;
	}
	if (extra && !strncmp(extra, "sweep:", 6)) {
		argv[n++] = "--sweep";
		argv[n++] = extra + 6;
	} else {
		argv[n++] = "--size";
		argv[n++] = pl->size;
	}
	if (extra && !strncmp(extra, "block:", 6)) {
		argv[n++] = "--block";
		argv[n++] = extra + 6;
	}
	argv[n++] = "--reps";
	argv[n++] = reps;
	argv[n] = NULL;
	fprintf(stderr, "claims: cell %d: copylab", ncells);
	for (int i = 0; i < n; i++)
		fprintf(stderr, " %s", argv[i]);
	fprintf(stderr, "\n");
	return cell_run(argv, n, dir);
}

static struct crcell *cell_for(struct plan *pl, const char *scenario, const char *strategies,
			     const char *extra)
{
	return cell_on(pl, pl->transport, scenario, strategies, extra);
}

static void claims_run(struct plan *pl, bool *failed)
{
	struct crcell *relay, *serve, *fanout, *pipec, *refuse_sf, *refuse_splice;
	struct crcell *sockc = NULL, *natc = NULL, *zcr = NULL;
	const struct strategy *sockmap = NULL, *nat = NULL;
	char sweep[128];
	struct claim *c;

	for (size_t i = 0; i < strategy_count; i++) {
		if (strstr(strategy_table[i]->name, "sockmap") && strategy_supports(strategy_table[i], SC_RELAY))
			sockmap = strategy_table[i];
		if (strstr(strategy_table[i]->name, "nat") && strategy_supports(strategy_table[i], SC_RELAY))
			nat = strategy_table[i];
	}

	relay = cell_for(pl, "relay", "readwrite,splice", NULL);
	snprintf(sweep, sizeof(sweep), "sweep:size=%s..%s", pl->size_small, pl->size);
	serve = cell_for(pl, "serve", "readwrite,mmap_write,sendfile", sweep);
	fanout = cell_for(pl, "fanout", "readwrite,tee", NULL);
	pipec = cell_for(pl, "pipe", "readwrite,vmsplice,vmsplice:gift", NULL);
	if (sockmap) {
		char list[256];

		snprintf(list, sizeof(list), "readwrite,%s", sockmap->name);
		sockc = cell_for(pl, "relay", list, NULL);
	}
	/*
	 * nat runs only where a router forwards (NOTES: PREROUTING DNAT needs a
	 * router namespace between two veth links), so its cell is over
	 * routed, with readwrite and splice on the same path beside it.
	 */
	if (nat && (!nat->needs_privilege || geteuid() == 0)) {
		const char *was = pl->transport;
		char list[256];

		snprintf(list, sizeof(list), "readwrite,splice,%s", nat->name);
		pl->transport = nat->only_transport ? nat->only_transport : was;
		natc = cell_for(pl, "relay", list, NULL);
		pl->transport = was;
	}
	/* Zero-copy receive needs its own namespace (lo-ns), so root. */
	if (strategy_find("zerocopy_recv") && geteuid() == 0)
		/* At the selftest's own chunk size, so read() is not charged for more calls. */
		zcr = cell_on(pl, "lo-ns", "store", "readwrite,zerocopy_recv", "block:512K");
	{
		const char *a1[] = { "run", "--scenario", "relay", "--strategy", "sendfile",
				     "--size", "1M", "--reps", "1", NULL };
		const char *a2[] = { "run", "--scenario", "send", "--strategy", "splice",
				     "--size", "1M", "--reps", "1", NULL };
		char d1[4096], d2[4096];

		snprintf(d1, sizeof(d1), "%s/claims-refuse-sendfile", pl->dir);
		snprintf(d2, sizeof(d2), "%s/claims-refuse-splice", pl->dir);
		refuse_sf = cell_run(a1, 9, d1);
		refuse_splice = cell_run(a2, 9, d2);
	}
	{
		struct crcell *all[] = { relay, serve, fanout, pipec, sockc, natc, zcr };

		for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
			if (all[i] && all[i]->exit_code != 0) {
				*failed = true;
				fprintf(stderr, "claims: cell failed (exit %d): copylab %s\n  see %s\n",
					all[i]->exit_code, all[i]->command, all[i]->log);
			}
	}

	/* 1. read/write: two CPU copies across the user boundary, two syscalls per chunk. */
	c = claim_add("readwrite-copies",
		      "A read/write relay costs four copies and four context switches per chunk: two DMA "
		      "copies and two CPU copies (kernel to user on read, user to kernel on write), and two "
		      "system calls, each entering and leaving the kernel (four mode switches).",
		      SRC_IBM,
		      "relay role: bpf.bytes_to_user and bpf.bytes_from_user per GiB; syscalls (read + write family) per chunk (one read)",
		      "1 GiB to user + 1 GiB from user per GiB moved (two CPU copies); 2 syscalls per chunk (4 mode switches); DMA copies: none on loopback");
	claim_cell(c, relay);
	{
		struct crgroup g = { relay, "readwrite", -1 };
		double tu = cell_median(&g, "roles.relay.bpf.per_gib.bytes_to_user") / GIB;
		double fu = cell_median(&g, "roles.relay.bpf.per_gib.bytes_from_user") / GIB;
		double rd = cell_median(&g, "roles.relay.bpf.syscalls_by_family.read");
		double wr = cell_median(&g, "roles.relay.bpf.syscalls_by_family.write");
		double bytes = cell_median(&g, "bytes");
		double per_chunk = (rd + wr) / rd;
		char a[32], b[32], d[32], e[32], f[32];

		MEASURE(c, "to user %s GiB/GiB, from user %s GiB/GiB; %s syscalls per chunk (%s bytes per read, median); "
			"so %s mode switches per chunk. DMA copies are not visible to any counter here and on loopback there are none.",
			fmt_g(tu, a, sizeof(a)), fmt_g(fu, b, sizeof(b)), fmt_g(per_chunk, d, sizeof(d)),
			fmt_g(bytes / rd, e, sizeof(e)), fmt_g(2 * per_chunk, f, sizeof(f)));
		if (isnan(tu) || isnan(fu) || isnan(per_chunk))
			decide(c, V_CANNOT, "the BPF ledger did not count (see metrics.bpf in the records)");
		else if (fabs(tu - 1) < 0.05 && fabs(fu - 1) < 0.05 && per_chunk > 1.8 && per_chunk < 2.6)
			decide(c, V_HOLDS, "as two CPU copies and four mode switches per chunk; the other two \"copies\" are DMA, which loopback does not do");
		else
			decide(c, V_NOT, "the ledger does not show one copy each way per byte or two calls per chunk");
	}

	/* 2. "context switches" read as scheduler switches. */
	c = claim_add("readwrite-context-switches",
		      "Read literally, \"four context switches\" per chunk means the scheduler switches tasks "
		      "four times for every read/write pair.",
		      SRC_IBM,
		      "relay role: bpf.sched_switches per chunk (one read)",
		      "if the claim meant scheduler switches: about 4 per chunk");
	claim_cell(c, relay);
	{
		struct crgroup g = { relay, "readwrite", -1 };
		double sw = cell_median(&g, "roles.relay.bpf.sched_switches");
		double rd = cell_median(&g, "roles.relay.bpf.syscalls_by_family.read");
		char a[32];

		MEASURE(c, "%s scheduler switches per chunk (median), against 4 mode switches per chunk: "
			"a switch happens only when a call blocks (no data yet, a full socket buffer) or the task is preempted.",
			fmt_g(sw / rd, a, sizeof(a)));
		if (isnan(sw) || isnan(rd))
			decide(c, V_CANNOT, "the BPF ledger did not count");
		else if (sw / rd >= 3.0)
			decide(c, V_HOLDS, "the relay switched out about four times per chunk");
		else
			decide(c, V_NOT, "the four are mode switches (user<->kernel), not scheduler switches");
	}

	/* 3. sendfile: no bytes through user memory. */
	c = claim_add("sendfile-no-user-copy",
		      "sendfile() moves a file to a socket without the bytes passing through user memory.",
		      "sendfile(2); IBM developerWorks (2008)",
		      "serve, server role: bpf.bytes_to_user + bytes_from_user per GiB; bytes_in_kernel per GiB",
		      "≈ 0 through user memory; ≈ 1 GiB per GiB inside the kernel");
	claim_cell(c, serve);
	{
		struct crgroup g = { serve, "sendfile", cr_size(pl->size) };
		double tu = cell_median(&g, "roles.server.bpf.per_gib.bytes_to_user") / GIB;
		double fu = cell_median(&g, "roles.server.bpf.per_gib.bytes_from_user") / GIB;
		double ik = cell_median(&g, "roles.server.bpf.per_gib.bytes_in_kernel") / GIB;
		char a[32], b[32], d[32];

		MEASURE(c, "server: to user %s, from user %s, in kernel %s GiB per GiB (medians)",
			fmt_g(tu, a, sizeof(a)), fmt_g(fu, b, sizeof(b)), fmt_g(ik, d, sizeof(d)));
		if (isnan(tu) || isnan(fu))
			decide(c, V_CANNOT, "the BPF ledger did not count");
		else if (tu + fu < 0.01)
			decide(c, V_HOLDS, "no payload crossed the user boundary");
		else
			decide(c, V_NOT, "payload crossed the user boundary");
	}

	/* 4. sendfile cannot read from a socket. */
	c = claim_add("sendfile-not-from-socket",
		      "sendfile() cannot read from a socket: its input must be a file that supports mmap-like "
		      "page-cache reads, so it cannot build a socket-to-socket proxy.",
		      "sendfile(2) (\"in_fd ... cannot be a socket\")",
		      "exit status of `copylab run --scenario relay --strategy sendfile` (the support table) and a direct sendfile() between sockets",
		      "exit 2 with the reason; the kernel refuses (EINVAL)");
	claim_cmd(c, "copylab run --scenario relay --strategy sendfile --size 1M --reps 1");
	{
		struct direct d = check_sendfile_from_socket();
		char *dt = direct_text(d.ret, d.err);

		claim_cmd(c, d.cmd);
		MEASURE(c, "copylab run exited %d: %s; the kernel check: %s",
			refuse_sf->exit_code, refuse_sf->first_stderr_line, dt);
		if (refuse_sf->exit_code == 2 && d.ret < 0)
			decide(c, V_HOLDS, "the interface refuses the pair and the kernel itself refuses a socket input");
		else if (d.ret >= 0)
			decide(c, V_NOT, "this kernel accepted a socket as sendfile's input");
		else
			decide(c, V_NOT, "copylab did not refuse the pair with exit 2");
		free(dt);
	}

	/* 5. splice needs a pipe. */
	c = claim_add("splice-needs-pipe",
		      "splice() needs a pipe on one side of every call, so a socket-to-socket splice proxy "
		      "goes through a pipe it owns (and application memory cannot be spliced at all).",
		      "splice(2) (\"one of the file descriptors must refer to a pipe\"); LWN on splice (2006)",
		      "a direct splice() socket to socket; `copylab run --scenario send --strategy splice` (refused); "
		      "relay splice: relay bpf.bytes_in_kernel per GiB",
		      "EINVAL; exit 2; 2 GiB per GiB in the kernel (into the pipe and out of it)");
	claim_cell(c, relay);
	claim_cmd(c, "copylab run --scenario send --strategy splice --size 1M --reps 1");
	{
		struct direct d = check_splice_socket_to_socket();
		char *dt = direct_text(d.ret, d.err);
		struct crgroup g = { relay, "splice", -1 };
		double ik = cell_median(&g, "roles.relay.bpf.per_gib.bytes_in_kernel") / GIB;
		double tu = cell_median(&g, "roles.relay.bpf.per_gib.bytes_to_user") / GIB;
		char a[32], b[32];

		claim_cmd(c, d.cmd);
		MEASURE(c, "direct splice socket->socket %s; `run --scenario send --strategy splice` exited %d (%s); "
			"relay splice: in kernel %s GiB per GiB, to user %s",
			dt, refuse_splice->exit_code, refuse_splice->first_stderr_line,
			fmt_g(ik, a, sizeof(a)), fmt_g(tu, b, sizeof(b)));
		if (d.ret < 0 && refuse_splice->exit_code == 2 && fabs(ik - 2) < 0.1)
			decide(c, V_HOLDS, "the kernel refuses a pipe-less splice, and the relay's own pipe shows in the ledger as 2x");
		else if (d.ret >= 0)
			decide(c, V_NOT, "this kernel spliced socket to socket without a pipe");
		else if (isnan(ik))
			decide(c, V_CANNOT, "the BPF ledger did not count the splice relay");
		else
			decide(c, V_NOT, "the ledger or the refusal differ from the expectation");
		free(dt);
	}

	/* 6. a splice relay costs less CPU. */
	c = claim_add("splice-relay-less-cpu",
		      "A splice proxy costs less CPU per byte than a read/write proxy, since the bytes never "
		      "enter user memory.",
		      "LWN on splice (2006); HAProxy documentation (option splice-auto); Cloudflare blog, \"SOCKMAP - TCP splicing of the future\" (2019)",
		      "relay role CPU per GiB, splice / readwrite, paired rep by rep; system-wide busy CPU per GiB likewise",
		      "ratio below 1 in every paired repetition");
	claim_cell(c, relay);
	{
		struct crpaired p = paired_ratio(relay, "splice", "readwrite", -1, "roles.relay.cpu_per_gib_s");
		struct crpaired s = paired_ratio(relay, "splice", "readwrite", -1, "system_cpu.busy_per_gib_s");
		struct crgroup g1 = { relay, "readwrite", -1 }, g2 = { relay, "splice", -1 };
		char a[32], b[32];

		MEASURE(c, "relay CPU per GiB: readwrite %s s, splice %s s (medians); splice/readwrite ",
			fmt_g(cell_median(&g1, "roles.relay.cpu_per_gib_s"), a, sizeof(a)),
			fmt_g(cell_median(&g2, "roles.relay.cpu_per_gib_s"), b, sizeof(b)));
		paired_text(&c->measurement, &p);
		MEASURE(c, "; system-wide busy CPU per GiB, splice/readwrite ");
		paired_text(&c->measurement, &s);
		decide(c, lower_verdict(&p), "%s",
		       lower_verdict(&p) == V_HOLDS ? "the relay's CPU per GiB was lower in every pair" :
		       lower_verdict(&p) == V_NOT ? "the relay's CPU per GiB was higher in every pair" :
		       lower_verdict(&p) == V_NODIFF ? "the paired range includes 1.0" : "no paired repetitions");
	}

	/* 7. tee duplicates without user memory. */
	c = claim_add("tee-no-user-copy",
		      "tee() duplicates a stream (here: forward it and record it) without copying it through user memory.",
		      "tee(2); LWN, \"Some new system calls\" (2006)",
		      "fanout, relay role: bpf.bytes_to_user + bytes_from_user per GiB (tee vs readwrite)",
		      "≈ 0 for tee (readwrite: 1 to user + 2 from user)");
	claim_cell(c, fanout);
	{
		struct crgroup g = { fanout, "tee", -1 }, r = { fanout, "readwrite", -1 };
		double tu = cell_median(&g, "roles.relay.bpf.per_gib.bytes_to_user") / GIB;
		double fu = cell_median(&g, "roles.relay.bpf.per_gib.bytes_from_user") / GIB;
		double ik = cell_median(&g, "roles.relay.bpf.per_gib.bytes_in_kernel") / GIB;
		double rtu = cell_median(&r, "roles.relay.bpf.per_gib.bytes_to_user") / GIB;
		double rfu = cell_median(&r, "roles.relay.bpf.per_gib.bytes_from_user") / GIB;
		char a[32], b[32], d[32], e[32], f[32];

		MEASURE(c, "tee relay: to user %s, from user %s, in kernel %s GiB per GiB; readwrite relay: to user %s, from user %s",
			fmt_g(tu, a, sizeof(a)), fmt_g(fu, b, sizeof(b)), fmt_g(ik, d, sizeof(d)),
			fmt_g(rtu, e, sizeof(e)), fmt_g(rfu, f, sizeof(f)));
		if (isnan(tu) || isnan(fu))
			decide(c, V_CANNOT, "the BPF ledger did not count");
		else if (tu + fu < 0.01)
			decide(c, V_HOLDS, "no payload crossed the user boundary");
		else
			decide(c, V_NOT, "payload crossed the user boundary");
	}

	/* 8. gift needs page alignment. */
	c = claim_add("gift-needs-alignment",
		      "vmsplice() with SPLICE_F_GIFT needs page-aligned buffers (memory and length), and gifting "
		      "lets the kernel move pages instead of copying them.",
		      "vmsplice(2) (SPLICE_F_GIFT: \"data must also be properly page aligned\")",
		      "a direct vmsplice(SPLICE_F_GIFT) of 1000 bytes at offset 7 of a page; pipe cell vmsplice:gift / vmsplice throughput, paired",
		      "EINVAL for the unaligned gift; gift faster than plain vmsplice");
	claim_cell(c, pipec);
	claim_cmd(c, "vmsplice(pipe, {buf+7, 1000}, 1, SPLICE_F_GIFT) in harness/report/claims.c");
	{
		struct gift_check gc = check_gift_alignment();
		char *ut = direct_text(gc.unaligned_ret, gc.unaligned_err);
		char *at = direct_text(gc.aligned_ret, gc.aligned_err);
		struct crpaired p = paired_ratio(pipec, "vmsplice:gift", "vmsplice", -1, "bytes_per_s");

		MEASURE(c, "unaligned gift %s%s; aligned gift of one page %s; throughput vmsplice:gift / vmsplice ",
			ut, gc.unaligned_ret == 1000 ? (gc.unaligned_data_ok ? " and the bytes read back intact" :
							" but the bytes read back differ") : "", at);
		paired_text(&c->measurement, &p);
		if (gc.unaligned_ret < 0 && gc.unaligned_err == EINVAL)
			decide(c, V_HOLDS, "the kernel refused the unaligned gift");
		else if (gc.unaligned_ret >= 0)
			decide(c, V_NOT, "this kernel accepted an unaligned gift and delivered the bytes intact "
				   "(GIFT only marks the pipe buffers as stealable; nothing on this path steals them)%s",
			       p.n && p.min <= 1.0 && p.max >= 1.0 ? "; and gifting made no measurable difference" : "");
		else
			decide(c, V_CANNOT, "the check itself failed: %s", ut);
		free(ut);
		free(at);
	}

	/* 9. mmap + write trades a copy for page faults. */
	c = claim_add("mmap-trades-copy-for-faults",
		      "mmap() + write() saves the copy into user memory, and pays with page faults (and TLB work) "
		      "that grow with the file.",
		      "Linux Journal, \"Zero Copy I\" (Stancevic, 2003); IBM developerWorks (2008)",
		      "serve, server role: bpf.bytes_to_user per GiB; perf.page_faults at two sizes, mmap_write vs readwrite",
		      "mmap_write: 0 to user, faults growing ~ linearly with size; readwrite: 1 GiB to user, faults flat");
	claim_cell(c, serve);
	{
		long big = cr_size(pl->size), small = cr_size(pl->size_small);
		struct crgroup mb = { serve, "mmap_write", big }, ms = { serve, "mmap_write", small };
		struct crgroup rb = { serve, "readwrite", big }, rs = { serve, "readwrite", small };
		double tu = cell_median(&mb, "roles.server.bpf.per_gib.bytes_to_user") / GIB;
		double rtu = cell_median(&rb, "roles.server.bpf.per_gib.bytes_to_user") / GIB;
		double fb = cell_median(&mb, "roles.server.perf.page_faults"), fs = cell_median(&ms, "roles.server.perf.page_faults");
		double rfb = cell_median(&rb, "roles.server.perf.page_faults"), rfs = cell_median(&rs, "roles.server.perf.page_faults");
		char a[32], b[32], d[32], e[32], f[32], h[32];

		MEASURE(c, "to user per GiB: mmap_write %s, readwrite %s; perf page faults of the server at %s / %s: "
			"mmap_write %s / %s, readwrite %s / %s (medians)",
			fmt_g(tu, a, sizeof(a)), fmt_g(rtu, b, sizeof(b)), pl->size_small, pl->size,
			fmt_g(fs, d, sizeof(d)), fmt_g(fb, e, sizeof(e)), fmt_g(rfs, f, sizeof(f)), fmt_g(rfb, h, sizeof(h)));
		if (isnan(tu) || isnan(fb) || isnan(fs))
			decide(c, V_CANNOT, "the BPF ledger or perf did not count");
		else if (tu < 0.01 && fb > 1.5 * fs && fb > 10 * (isnan(rfb) ? 0 : rfb))
			decide(c, V_HOLDS, "no read copy, and faults grew with the file (one per mapped page or fault-around batch)");
		else
			decide(c, V_NOT, "the faults did not grow with size or a read copy remained");
	}

	/* 10. zero-copy raises throughput. */
	c = claim_add("zero-copy-faster",
		      "Zero-copy (sendfile, splice) raises throughput over read/write.",
		      "IBM developerWorks (2008), and many articles after it",
		      "throughput ratio to readwrite, paired, with its interval (summary.csv ratio_ci_lo..hi, difference): serve sendfile, relay splice",
		      "interval above 1.0 for both");
	claim_cell(c, serve);
	claim_cell(c, relay);
	{
		const struct crrow *s = summary_row(serve, "sendfile", cr_size(pl->size));
		const struct crrow *r = summary_row(relay, "splice", -1);
		double slo = cr_csv_num(s, "ratio_ci_lo"), shi = cr_csv_num(s, "ratio_ci_hi");
		double rlo = cr_csv_num(r, "ratio_ci_lo"), rhi = cr_csv_num(r, "ratio_ci_hi");
		char a[32], b[32], d[32], e[32], f[32], h[32];

		MEASURE(c, "serve sendfile/readwrite %s [%s..%s] (%s); relay splice/readwrite %s [%s..%s] (%s)",
			fmt_g(cr_csv_num(s, "ratio_vs_readwrite_median"), a, sizeof(a)), fmt_g(slo, b, sizeof(b)),
			fmt_g(shi, d, sizeof(d)), cr_csv_str(s, "difference"),
			fmt_g(cr_csv_num(r, "ratio_vs_readwrite_median"), e, sizeof(e)), fmt_g(rlo, f, sizeof(f)),
			fmt_g(rhi, h, sizeof(h)), cr_csv_str(r, "difference"));
		if (isnan(slo) || isnan(rlo))
			decide(c, V_CANNOT, "a cell has no ratio (failed cell?)");
		else if (slo > 1 && rlo > 1)
			decide(c, V_HOLDS, "both intervals lie above 1.0");
		else if ((shi < 1 || rhi < 1) && !(slo > 1 || rlo > 1))
			decide(c, V_NOT, "%s: on %s there is no NIC and no DMA to save, the sink's own copy and hashing "
				   "bound every strategy alike, and the zero-copy path pays its own costs (page references, "
				   "smaller socket writes)",
			       shi < 1 && rhi < 1 ? "both intervals lie below 1.0" : "one interval lies below 1.0 and none above",
			       pl->transport);
		else if (slo > 1 || rlo > 1)
			decide(c, V_NODIFF, "only one of the two intervals lies above 1.0%s",
			       (shi < 1 || rhi < 1) ? " and the other below" : "");
		else
			decide(c, V_NODIFF, "on %s there is no NIC and no DMA: the sink's own copy and hashing and the loopback "
				   "transmit bound every strategy alike, so a saved copy shows in CPU, not in throughput",
			       pl->transport);
	}

	/* 11. sendfile lowers the sender's CPU. */
	c = claim_add("sendfile-less-cpu",
		      "sendfile() lowers the CPU the sender spends per byte.",
		      "IBM developerWorks (2008); nginx documentation (sendfile on)",
		      "serve, server role CPU per GiB, sendfile / readwrite, paired rep by rep",
		      "ratio below 1 in every paired repetition");
	claim_cell(c, serve);
	{
		long big = cr_size(pl->size);
		struct crpaired p = paired_ratio(serve, "sendfile", "readwrite", big, "roles.server.cpu_per_gib_s");
		struct crgroup g1 = { serve, "readwrite", big }, g2 = { serve, "sendfile", big };
		char a[32], b[32];

		MEASURE(c, "server CPU per GiB: readwrite %s s, sendfile %s s (medians); sendfile/readwrite ",
			fmt_g(cell_median(&g1, "roles.server.cpu_per_gib_s"), a, sizeof(a)),
			fmt_g(cell_median(&g2, "roles.server.cpu_per_gib_s"), b, sizeof(b)));
		paired_text(&c->measurement, &p);
		decide(c, lower_verdict(&p), "%s",
		       lower_verdict(&p) == V_HOLDS ? "lower in every pair" :
		       lower_verdict(&p) == V_NOT ? "higher in every pair" :
		       lower_verdict(&p) == V_NODIFF ? "the paired range includes 1.0" : "no paired repetitions");
	}

	/* 12. sockmap. */
	c = claim_add("sockmap-no-wakeups",
		      "An eBPF sockmap relay forwards the bytes in the kernel without waking the relay process.",
		      "Cloudflare blog, \"SOCKMAP - TCP splicing of the future\" (Majkowski, 2019)",
		      "relay role syscalls and voluntary context switches (wake-ups) per GiB, sockmap vs readwrite; "
		      "system-wide busy CPU per GiB (NOTES: sockmap work is charged to whoever is on the CPU)",
		      "no call per chunk: the relay's calls are its setup and its wait for the end of the stream "
		      "(a timer that follows the backlog's drain), under 5% of readwrite's per GiB");
	if (!sockmap) {
		claim_cmd(c, "copylab list (no sockmap strategy)");
		MEASURE(c, "copylab list has no sockmap strategy");
		decide(c, V_CANNOT, "not yet in copylab");
	} else {
		struct crgroup g = { sockc, sockmap->name, -1 }, r = { sockc, "readwrite", -1 };
		double sy = cell_median(&g, "roles.relay.bpf.per_gib.syscalls");
		double ry = cell_median(&r, "roles.relay.bpf.per_gib.syscalls");
		double sw = cell_median(&g, "roles.relay.ctx_voluntary"), rwk = cell_median(&r, "roles.relay.ctx_voluntary");
		struct crpaired s = paired_ratio(sockc, sockmap->name, "readwrite", -1, "system_cpu.busy_per_gib_s");
		char a[32], b[32], d[32], e[32];

		claim_cell(c, sockc);
		MEASURE(c, "relay syscalls per GiB: %s %s, readwrite %s; relay wake-ups (voluntary switches) per rep: "
			"%s %s, readwrite %s; system busy CPU per GiB %s/readwrite ",
			sockmap->name, fmt_g(sy, a, sizeof(a)), fmt_g(ry, b, sizeof(b)), sockmap->name,
			fmt_g(sw, d, sizeof(d)), fmt_g(rwk, e, sizeof(e)), sockmap->name);
		paired_text(&c->measurement, &s);
		if (isnan(sy) || isnan(ry))
			decide(c, V_CANNOT, "the cell did not run or the BPF ledger did not count");
		else if (sy < 0.05 * ry)
			decide(c, V_HOLDS, "no system call per chunk: the relay's few calls are its setup and its wait for the "
			       "end (%.1f%% of readwrite's per GiB)", 100 * sy / ry);
		else
			decide(c, V_NOT, "the relay process made %.1f%% of readwrite's system calls per GiB", 100 * sy / ry);
	}

	/* 13b. zero-copy receive. */
	c = claim_add("zerocopy-recv-halves-cpu",
		      "Zero-copy receive (mmap of a TCP socket + TCP_ZEROCOPY_RECEIVE) halves the receiver's CPU "
		      "per byte: the kernel's tcp_mmap selftest reports about 0.45x against read().",
		      "Linux tools/testing/selftests/net/tcp_mmap.c (Dumazet, 2018): ~88-110 vs ~202-251 usec per MB on loopback",
		      "store over lo-ns (MSS 61440, the fixed source sending with MSG_ZEROCOPY for both), blocks of 512 KiB "
		      "(the selftest's chunk): receiver CPU per GiB, zerocopy_recv / readwrite, paired rep by rep; "
		      "zerocopy_recv.share_mapped",
		      "ratio about 0.45-0.55 with >= 99% of the bytes mapped");
	if (!strategy_find("zerocopy_recv")) {
		claim_cmd(c, "copylab list (no zerocopy_recv strategy)");
		MEASURE(c, "copylab list has no zerocopy_recv strategy");
		decide(c, V_CANNOT, "not in this copylab");
	} else if (!zcr) {
		claim_cmd(c, "copylab run --scenario store --strategy readwrite,zerocopy_recv --transport lo-ns --block 512K");
		MEASURE(c, "not run: transport lo-ns makes a network namespace, which needs root");
		decide(c, V_CANNOT, "transport lo-ns (a namespace whose lo MTU gives whole-page segments) needs root");
	} else {
		struct crpaired p = paired_ratio(zcr, "zerocopy_recv", "readwrite", -1, "roles.receiver.cpu_per_gib_s");
		struct crgroup g1 = { zcr, "readwrite", -1 }, g2 = { zcr, "zerocopy_recv", -1 };
		double share = cell_median(&g2, "zerocopy_recv.share_mapped");
		char a[32], b[32], d[32];

		claim_cell(c, zcr);
		MEASURE(c, "receiver CPU per GiB: readwrite %s s, zerocopy_recv %s s (medians), %s%% of the bytes mapped; "
			"zerocopy_recv/readwrite ",
			fmt_g(cell_median(&g1, "roles.receiver.cpu_per_gib_s"), a, sizeof(a)),
			fmt_g(cell_median(&g2, "roles.receiver.cpu_per_gib_s"), b, sizeof(b)),
			fmt_g(100 * share, d, sizeof(d)));
		paired_text(&c->measurement, &p);
		MEASURE(c, ". Store writes the bytes to a file, a copy both strategies make: the receive copy is the one saved; "
			"at 64 KiB blocks readwrite also makes about four times the calls (see docs/strategies/zerocopy_recv.md). "
			"On loopback the kernel copies a MSG_ZEROCOPY send into fresh pages at delivery, in the sender's "
			"context, for both strategies alike; the receiver's figure does not see it.");
		if (p.n == 0 || isnan(share))
			decide(c, V_CANNOT, "the lo-ns cell gave no paired repetitions (see its log)");
		else if (share < 0.9)
			decide(c, V_CANNOT, "only %.1f%% of the bytes were mapped: the link or the sender did not give whole pages",
			       100 * share);
		else if (p.median <= 0.6 && p.max < 1.0)
			decide(c, V_HOLDS, "the receiver's CPU per GiB was %.2fx readwrite's (paired median), lower in every pair",
			       p.median);
		else if (p.min > 1.0)
			decide(c, V_NOT, "zero-copy receive cost more CPU than read() in every pair");
		else if (p.max < 1.0)
			decide(c, V_NOT, "lower in every pair, but %.2fx, not half", p.median);
		else
			decide(c, V_NODIFF, "the paired range includes 1.0");
	}

	/* 13. kernel NAT. */
	c = claim_add("nat-no-process",
		      "Kernel port forwarding (DNAT) relays a TCP stream with no process at all.",
		      "iptables/nftables documentation (DNAT); Cloudflare blog (2019), which compares it",
		      "relay cell over routed with readwrite, splice and nat: nat's record has no relay process (roles without relay) and verified bytes; system busy CPU per GiB nat/readwrite, paired",
		      "no relay role in the record; system-wide CPU per GiB below every process relay's");
	if (!nat) {
		claim_cmd(c, "copylab list (no nat strategy)");
		MEASURE(c, "copylab list has no nat strategy");
		decide(c, V_CANNOT, "not yet in copylab");
	} else if (!natc) {
		claim_cmd(c, "copylab run --scenario relay --strategy nat --transport routed (not run)");
		MEASURE(c, "not run: %s", nat->needs_privilege);
		decide(c, V_CANNOT, "nat needs root here");
	} else {
		struct crgroup g = { natc, nat->name, -1 };
		double present = cell_median(&g, "roles.relay.bytes");
		double n = cell_median(&g, "bytes");
		struct crpaired s = paired_ratio(natc, nat->name, "readwrite", -1, "system_cpu.busy_per_gib_s");

		claim_cell(c, natc);
		MEASURE(c, "%s over routed: %s; system busy CPU per GiB %s/readwrite ", nat->name,
			isnan(n) ? "no usable record" :
			isnan(present) ? "no relay process in the record" : "the record has a relay role", nat->name);
		paired_text(&c->measurement, &s);
		if (isnan(n))
			decide(c, V_CANNOT, "the nat cell did not run here (see its log)");
		else if (isnan(present))
			decide(c, V_HOLDS, "the bytes arrived verified with no relay process");
		else
			decide(c, V_NOT, "a relay process took part");
	}
}

/* ---------------------------------------------------------------- output */

static void print_ledger(FILE *out)
{
	for (int i = 0; i < nclaims; i++) {
		const struct claim *c = &claims[i];

		fprintf(out, "%2d. %s\n    %s\n    source: %s\n    cells:\n", i + 1, c->id, c->claim, c->source);
		for (const char *p = c->cells; *p; ) {
			const char *nl = strchr(p, '\n');
			int len = nl ? (int)(nl - p) : (int)strlen(p);

			fprintf(out, "      %.*s\n", len, p);
			p += len + (nl ? 1 : 0);
		}
		fprintf(out, "    figure: %s\n    expected: %s\n    measured: %s\n    VERDICT: %s%s%s%s\n\n",
			c->figure, c->expectation, c->measurement, verdict_text(c->verdict),
			*c->why ? (c->verdict == V_CANNOT ? " (" : " — ") : "", c->why,
			*c->why && c->verdict == V_CANNOT ? ")" : "");
	}
}

static char *ledger_markdown(const char *cmdline, const char *date, const char *kernel)
{
	char *md = NULL;

	cr_append(&md, "# Claims, measured here\n\n`%s` on %s, kernel %s.\n\n", cmdline, date, kernel);
	cr_append(&md, "| # | claim | verdict | because |\n|---|---|---|---|\n");
	for (int i = 0; i < nclaims; i++)
		cr_append(&md, "| %d | %s | **%s** | %s |\n", i + 1, claims[i].id, verdict_text(claims[i].verdict),
			  claims[i].why);
	for (int i = 0; i < nclaims; i++) {
		const struct claim *c = &claims[i];

		cr_append(&md, "\n## %d. %s\n\n%s\n\n- source: %s\n- cells:\n\n```sh\n%s\n```\n\n- figure: %s\n"
			"- expected: %s\n- measured: %s\n- **verdict: %s**%s%s\n",
			i + 1, c->id, c->claim, c->source, c->cells, c->figure, c->expectation,
			c->measurement, verdict_text(c->verdict), *c->why ? " — " : "", c->why);
	}
	return md;
}

static json_t *ledger_json(const struct plan *pl, const char *cmdline, const char *date,
			   const char *kernel, bool quick)
{
	json_t *root = json_object(), *arr = json_array();

	json_object_set_new(root, "schema", json_string("copylab.claims/1"));
	json_object_set_new(root, "command", json_string(cmdline));
	json_object_set_new(root, "date", json_string(date));
	json_object_set_new(root, "kernel", json_string(kernel));
	json_object_set_new(root, "quick", json_boolean(quick));
	json_object_set_new(root, "size", json_string(pl->size));
	json_object_set_new(root, "reps", json_integer(pl->reps));
	json_object_set_new(root, "transport", json_string(pl->transport));
	for (int i = 0; i < nclaims; i++) {
		const struct claim *c = &claims[i];

		json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}",
			"id", c->id, "claim", c->claim, "source", c->source, "cells", c->cells,
			"figure", c->figure, "expectation", c->expectation, "measurement", c->measurement,
			"verdict", verdict_text(c->verdict), "why", c->why));
	}
	json_object_set_new(root, "claims", arr);
	return root;
}

int cmd_claims(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "out", required_argument, NULL, 'o' },
		{ "size", required_argument, NULL, 's' },
		{ "reps", required_argument, NULL, 'r' },
		{ "transport", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct plan pl = { NULL, NULL, 0, "tcp", NULL };
	const char *out = NULL, *size = NULL;
	bool quick = false, failed = false;
	char date[64], cmdline[1024] = "copylab claims", path[4200], smallbuf[32];
	struct utsname un;
	time_t now = time(NULL);
	int opt, reps = 0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'q': quick = true; break;
		case 'o': out = optarg; break;
		case 's': size = optarg; break;
		case 'r':
			reps = atoi(optarg);
			if (reps < 1)
				return usage_error("claims: --reps needs a number >= 1");
			break;
		case 't': pl.transport = optarg; break;
		case 'h': claims_usage(stdout); return 0;
		default: claims_usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error("claims: unexpected argument '%s'", argv[optind]);
	for (int i = 1; i < argc; i++) {
		strncat(cmdline, " ", sizeof(cmdline) - strlen(cmdline) - 1);
		strncat(cmdline, argv[i], sizeof(cmdline) - strlen(cmdline) - 1);
	}
	pl.size = size ? size : quick ? "64M" : "256M";
	if (cr_size(pl.size) < 4 * 65536)
		return usage_error("claims: --size '%s' is not a size of at least 256K", pl.size);
	/* A quarter of the size, for the fault-growth claim. */
	if ((cr_size(pl.size) / 4) % (1024 * 1024) == 0)
		snprintf(smallbuf, sizeof(smallbuf), "%ldM", cr_size(pl.size) / 4 / 1024 / 1024);
	else
		snprintf(smallbuf, sizeof(smallbuf), "%ldK", cr_size(pl.size) / 4 / 1024);
	pl.size_small = smallbuf;
	pl.reps = reps ? reps : quick ? 3 : 6;
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", gmtime(&now));
	if (out) {
		pl.dir = cr_strdup(out);
	} else {
		char stamp[32];

		strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", gmtime(&now));
		pl.dir = NULL;
		cr_append(&pl.dir, "results/claims-%s", stamp);
	}
	if (mkdir_p(pl.dir) < 0) {
		fprintf(stderr, "copylab: claims: cannot create %s: %s\n", pl.dir, strerror(errno));
		return EXIT_RUN_FAILED;
	}
	uname(&un);

	claims_run(&pl, &failed);

	print_ledger(stdout);
	{
		char *md = ledger_markdown(cmdline, date, un.release);
		json_t *js = ledger_json(&pl, cmdline, date, un.release, quick);
		char *text = json_dumps(js, JSON_INDENT(2));
		int r1, r2;

		snprintf(path, sizeof(path), "%s/claims.md", pl.dir);
		r1 = write_file_atomic(path, md, strlen(md));
		snprintf(path, sizeof(path), "%s/claims.json", pl.dir);
		r2 = text ? write_file_atomic(path, text, strlen(text)) : -ENOMEM;
		if (r1 < 0 || r2 < 0) {
			fprintf(stderr, "copylab: claims: cannot write %s/claims.{md,json}: %s\n", pl.dir,
				strerror(-(r1 < 0 ? r1 : r2)));
			failed = true;
		} else {
			printf("claims: %s/claims.md, %s/claims.json; the cells' records in %s/claims-*/\n",
			       pl.dir, pl.dir, pl.dir);
		}
		free(md);
		free(text);
		json_decref(js);
	}
	return failed ? EXIT_RUN_FAILED : 0;
}
