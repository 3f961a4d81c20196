/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the seed articles' claims (harness/report/claims_seeds.c):
 * each judge given synthetic cells and direct checks for every verdict it
 * can give, and a negative control where the naive reading (the ledger's
 * zero-copy bytes, a call that returned success) would hold but the
 * measured figure says otherwise.
 */
#include <errno.h>

#include "claims_judging.h"
#include "harness/report/claims_seeds.h"

/* A cell of NREPS reps of each of N strategies, strategy i's record holding FIGS[i] (JSON members). */
static struct crcell *cell_figs(int n, const char *const *strategy, const char *const *figs, long bytes)
{
	json_t *arr = json_array();

	for (int rep = 1; rep <= NREPS; rep++)
		for (int i = 0; i < n; i++)
			add(arr, strategy[i], rep, bytes, "%s", figs[i]);
	return cell_of(arr);
}

/* A role's members: its sampled copy seconds (< 0: no sampler) and its ledger's calls. */
static char *role(const char *name, double copy, const char *calls)
{
	char c[160], *s = NULL;

	cr_append(&s, "\"%s\":{%s,\"ledger\":{\"calls\":{%s},\"bytes_to_user\":0,\"bytes_from_user\":0,"
		  "\"bytes_in_kernel\":%ld}}", name, cputime(copy, c, sizeof(c)), calls ? calls : "", 2 * B64);
	return s;
}

/* ---------------------------------------------------------------- direct checks */

static void test_sendfile_out_must_be_socket(void **state UNUSED)
{
	struct claim_evidence ev = evidence();
	const char *id = "sendfile-out-must-be-socket";

	ev.check = (struct kcheck){ .call = { -1, EINVAL }, .second = { -1, EINVAL } };
	expect(id, &ev, V_HOLDS, "refused a regular file and a pipe");
	ev.check = (struct kcheck){ .call = { 4096, 0 }, .data_intact = true, .second = { 4096, 0 }, .second_intact = true };
	expect(id, &ev, V_NOT, "into a regular file and into a pipe, byte-exact");
	ev.check = (struct kcheck){ .call = { -1, EINVAL }, .second = { 4096, 0 }, .second_intact = true };
	expect(id, &ev, V_NOT, "sent a file into a pipe, byte-exact");
	/* Negative control: sendfile said success, but what came out is not what went in. */
	ev.check = (struct kcheck){ .call = { 4096, 0 }, .second = { -1, EINVAL } };
	expect(id, &ev, V_CANNOT, "the bytes read back differ");
	ev.check = (struct kcheck){ .call = { -1, EBADF }, .second = { -1, EBADF } };
	expect(id, &ev, V_CANNOT, "the check itself failed");
}

static void test_vmsplice_reuse_changes_pipe(void **state UNUSED)
{
	struct claim_evidence ev = evidence();
	const char *id = "vmsplice-reuse-changes-pipe";

	ev.check = (struct kcheck){ .call = { 4096, 0 }, .second = { 4096, 0 }, .second_intact = true };
	expect(id, &ev, V_HOLDS, "the reader got the overwrite");
	/* Negative control: vmsplice succeeded, yet the pipe kept the bytes as given. */
	ev.check.data_intact = true;
	expect(id, &ev, V_NOT, "the pipe held a copy");
	ev.check = (struct kcheck){ .call = { 4096, 0 }, .second = { 4096, 0 } };
	expect(id, &ev, V_CANNOT, "the write() control did not read back its own bytes");
	ev.check = (struct kcheck){ .call = { -1, ENOMEM }, .second = { 4096, 0 }, .second_intact = true };
	expect(id, &ev, V_CANNOT, "the check itself failed: vmsplice returned -1, errno ENOMEM");
}

static void test_lower_memory_bandwidth(void **state UNUSED)
{
	struct claim_evidence ev = evidence();
	const char *id = "zero-copy-lower-memory-bandwidth";

	ev.check = (struct kcheck){ .call = { -1, ENOENT } };
	expect(id, &ev, V_CANNOT, "no hardware counters (ENOENT");
	/* A counter that opens is still no count of memory traffic. */
	ev.check = (struct kcheck){ .call = { 5, 0 } };
	expect(id, &ev, V_CANNOT, "has a cache-miss counter, but copylab records no memory traffic");
}

/* ---------------------------------------------------------------- splice */

/* A non-blocking splice relay cell: SHORTS short moves per rep; BAD reps failed verification. */
static struct crcell *nonblock_cell(int shorts, int bad)
{
	json_t *arr = json_array();

	for (int rep = 1; rep <= NREPS; rep++)
		add(arr, "splice", rep, B64, "\"verify\":\"%s\"%s,\"roles\":{\"relay\":{\"short_ops\":%d,\"eagain\":%d}}",
		    rep <= bad ? "mismatch" : "ok", rep <= bad ? ",\"status\":\"failed\"" : "", shorts, shorts / 2);
	return cell_of(arr);
}

static void test_splice_nonblock_partial(void **state UNUSED)
{
	struct claim_evidence ev = evidence();
	const char *id = "splice-nonblock-partial";
	const struct kcheck partial = { .call = { 10240, 0 }, .asked = 65536, .left = 55296 };

	ev.check = partial;
	expect(id, &ev, V_CANNOT, "its cell did not run");
	expect_on(&ev, CELL_SPLICE_NONBLOCK, nonblock_cell(64, 0), id, V_HOLDS,
		  "moved 10240 of 65536 bytes and left 55296 in the pipe");
	expect_on(&ev, CELL_SPLICE_NONBLOCK, nonblock_cell(0, 0), id, V_HOLDS, "met no short move here");
	/* Negative control: the partial move happens, and copylab's own loop lost bytes. */
	expect_on(&ev, CELL_SPLICE_NONBLOCK, nonblock_cell(64, 1), id, V_CANNOT,
		  "did not deliver 1 of 8 repetitions byte-exact");
	ev.check = (struct kcheck){ .call = { 65536, 0 }, .asked = 65536, .left = 0 };
	expect_on(&ev, CELL_SPLICE_NONBLOCK, nonblock_cell(64, 0), id, V_NOT, "moved everything");
	ev.check = (struct kcheck){ .call = { -1, EAGAIN }, .asked = 65536, .left = 65536 };
	expect(id, &ev, V_NOT, "moved nothing");
	ev.check = (struct kcheck){ .call = { -1, ECONNREFUSED }, .asked = 65536, .left = -1 };
	expect(id, &ev, V_CANNOT, "the check itself failed");
}

static void test_splice_socket_read_corrupts(void **state UNUSED)
{
	struct claim_evidence ev = evidence();
	const char *id = "splice-socket-read-corrupts";

	expect(id, &ev, V_CANNOT, "no splice relay repetition was verified");
	ev.cell[CELL_RELAY].run = nonblock_cell(0, 0);
	expect_on(&ev, CELL_SPLICE_NONBLOCK, nonblock_cell(64, 0), id, V_NOT, "1 GiB spliced out of sockets, every byte");
	/* Negative control: most repetitions passed, but one failed its hash. */
	expect_on(&ev, CELL_SPLICE_NONBLOCK, nonblock_cell(64, 1), id, V_HOLDS, "1 repetitions spliced from a socket");
	drop(&ev, CELL_RELAY);
}

/* A relay cell of readwrite, splice and splice:move: relay copy seconds (rw 0.04), system CPU of move SYS[i]. */
static struct crcell *move_cell(double plain, double move, const double *sys, bool resolved)
{
	json_t *arr = json_array();
	const char *name[3] = { "readwrite", "splice", "splice:move" };
	const double copy[3] = { plain < 0 ? -1 : 0.04, plain, move };
	char c[160], s[200];

	for (int rep = 1; rep <= NREPS; rep++)
		for (int i = 0; i < 3; i++)
			add(arr, name[i], rep, B64, "\"roles\":{\"relay\":{%s}},%s%s", cputime(copy[i], c, sizeof(c)),
			    system_cpu(i == 2 && sys ? sys[rep - 1] : 1, resolved, s, sizeof(s)),
			    copy[i] < 0 ? "," NOSAMPLER : "");
	return cell_of(arr);
}

static const double lower[NREPS] = { 0.5, 0.6, 0.7, 0.65, 0.55, 0.62, 0.58, 0.6 },
	higher[NREPS] = { 1.2, 1.5, 1.3, 1.4, 1.25, 1.35, 1.28, 1.32 },
	across[NREPS] = { 0.9, 1.1, 1.0, 0.95, 1.05, 0.98, 1.02, 1.01 };

static void test_splice_move_zero_copy(void **state UNUSED)
{
	struct claim_evidence ev = evidence();
	const char *id = "splice-move-zero-copy";

	/* Negative control: the flag's cell copies nothing, but neither does plain splice. */
	expect_on(&ev, CELL_SPLICE_MOVE, move_cell(0.001, 0.001, NULL, true), id, V_NOT,
		  "without SPLICE_F_MOVE splice already spent 2%");
	expect_on(&ev, CELL_SPLICE_MOVE, move_cell(0.04, 0.001, NULL, true), id, V_HOLDS, "and not with it (2%)");
	expect_on(&ev, CELL_SPLICE_MOVE, move_cell(0.04, 0.04, NULL, true), id, V_NOT,
		  "with SPLICE_F_MOVE splice still spent 100%");
	ev.cell[CELL_SPLICE_MOVE].run = move_cell(-1, -1, across, true);
	expect_more(id, &ev, "the flag changed nothing measurable", CELL_SPLICE_MOVE, NREPS);
	drop(&ev, CELL_SPLICE_MOVE);
	expect_on(&ev, CELL_SPLICE_MOVE, move_cell(-1, -1, lower, true), id, V_HOLDS, "the flag lowered");
	expect_on(&ev, CELL_SPLICE_MOVE, move_cell(-1, -1, higher, true), id, V_NOT, "the flag raised");
	expect_on(&ev, CELL_SPLICE_MOVE, move_cell(-1, -1, lower, false), id, V_UNRESOLVED, "too coarse to decide");
}

static void test_splice_remaps_pages(void **state UNUSED)
{
	struct claim_evidence ev = evidence();
	const char *id = "splice-remaps-pages";
	const char *name[2] = { "splice", "readwrite" };
	char *fig[2] = { role("relay", 0.001, "\"splice\":2048"), role("relay", 0.04, "\"read\":1024") };

	expect(id, &ev, V_CANNOT, "the relay cell did not run");
	/* Negative control: the ledger's bytes and the copy time both say "no copy": the mechanism is still unseen. */
	for (int i = 0; i < 2; i++) {
		char *w = NULL;

		cr_append(&w, "\"roles\":{%s}", fig[i]);
		free(fig[i]);
		fig[i] = w;
	}
	expect_on(&ev, CELL_RELAY, cell_figs(2, name, (const char *const *)fig, B64), id, V_CANNOT,
		  "no counter here sees which page-table entries");
	free(fig[0]);
	free(fig[1]);
}

/* ---------------------------------------------------------------- copy time: vmsplice, echo, DMA */

/* A cell of A and readwrite whose ROLE copies A_COPY and 0.04 seconds (< 0: no sampler); EXTRA members. */
static struct crcell *copy_cell(const char *a, const char *r, double a_copy, const char *extra)
{
	const char *name[2] = { a, "readwrite" };
	char *fig[2] = { NULL, NULL }, *ra = role(r, a_copy, "\"splice\":2048"), *rr = role(r, a_copy < 0 ? -1 : 0.04, "");
	struct crcell *c;

	cr_append(&fig[0], "\"roles\":{%s}%s%s", ra, extra, a_copy < 0 ? "," NOSAMPLER : "");
	cr_append(&fig[1], "\"roles\":{%s}%s%s", rr, extra, a_copy < 0 ? "," NOSAMPLER : "");
	c = cell_figs(2, name, (const char *const *)fig, B64);
	free(fig[0]);
	free(fig[1]);
	free(ra);
	free(rr);
	return c;
}

static void test_vmsplice_no_copy(void **state UNUSED)
{
	struct claim_evidence ev = evidence();
	const char *id = "vmsplice-no-copy";

	ev.cell[CELL_PIPE].run = copy_cell("vmsplice", "writer", 0.001, "");
	expect_on(&ev, CELL_VMSPLICE_PIPE, copy_cell("vmsplice", "writer", 0.002, ",\"pipe_size\":1048576"), id, V_HOLDS,
		  "2% (default pipe) and 5% (1 MiB pipe)");
	/* Negative control: the default pipe holds it, the 1 MiB pipe's writer copies. */
	expect_on(&ev, CELL_VMSPLICE_PIPE, copy_cell("vmsplice", "writer", 0.04, ""), id, V_NOT, "the bytes were copied");
	expect_on(&ev, CELL_VMSPLICE_PIPE, copy_cell("vmsplice", "writer", -1, ""), id, V_CANNOT, "the CPU sampler needs root");
	drop(&ev, CELL_PIPE);
}

static void test_splice_echo_no_user_copy(void **state UNUSED)
{
	struct claim_evidence ev = evidence();
	const char *id = "splice-echo-no-user-copy";

	ev.cell[CELL_ECHO].run = copy_cell("splice", "server", 0.001, "");
	expect_built(id, &ev, V_HOLDS, "no copy of the payload", "counts splice-family calls as in-kernel");
	drop(&ev, CELL_ECHO);
	/* Negative control: in the ledger nothing to user, in the sampler readwrite's copy. */
	expect_on(&ev, CELL_ECHO, copy_cell("splice", "server", 0.04, ""), id, V_NOT, "the bytes were copied");
	expect_on(&ev, CELL_ECHO, copy_cell("splice", "server", -1, ""), id, V_CANNOT, "the CPU sampler needs root");
}

static void test_sg_dma_no_cpu_copy(void **state UNUSED)
{
	struct claim_evidence ev = evidence();
	const char *id = "sendfile-sg-dma-no-cpu-copy";

	expect_on(&ev, CELL_SERVE, copy_cell("sendfile", "server", 0.001, ",\"transport\":\"tcp\""), id, V_CANNOT,
		  "no real NIC: over tcp");
	expect_on(&ev, CELL_SERVE, copy_cell("sendfile", "server", 0.001, ",\"transport\":\"nic\""), id, V_HOLDS,
		  "no copy of the payload");
	/* Negative control: over a NIC, sendfile (in-kernel in the ledger) still copied. */
	expect_on(&ev, CELL_SERVE, copy_cell("sendfile", "server", 0.04, ",\"transport\":\"nic\""), id, V_NOT,
		  "the bytes were copied");
}

/* ---------------------------------------------------------------- the table */

/* A serve cell of STRATEGY at 64M: the server's CALLS and copy seconds SCOPY, the client's 0.04. */
static struct crcell *table_cell(const char *strategy, const char *calls, double scopy)
{
	char c[160], *fig = NULL, *server = role("server", scopy, calls);
	struct crcell *cell;

	cr_append(&fig, "\"roles\":{%s,\"client\":{%s}}%s", server, cputime(scopy < 0 ? -1 : 0.04, c, sizeof(c)),
		  scopy < 0 ? "," NOSAMPLER : "");
	cell = cell_figs(1, &strategy, (const char *const *)&fig, B64);
	free(fig);
	free(server);
	return cell;
}

/* A readwrite serve cell whose server copied SCOPY[rep] seconds in each rep, the client 0.04 s each time. */
static struct crcell *table_cell_reps(const double *scopy)
{
	json_t *arr = json_array();
	char c[160];

	for (int rep = 1; rep <= NREPS; rep++) {
		char *server = role("server", scopy[rep - 1], "\"read\":1024,\"write\":1024");

		add(arr, "readwrite", rep, B64, "\"roles\":{%s,\"client\":{%s}}", server, cputime(0.04, c, sizeof(c)));
		free(server);
	}
	return cell_of(arr);
}

/*
 * The copies per byte are decided on the interval of the per-rep ratios:
 * inside 0.6x..1.5x of the claim holds, outside does not hold, and one that
 * reaches both sides is unresolved (a rep holds some tens of copy samples:
 * one rep's ratio moved from 2.1 to 3.5 between two quiet runs).
 */
static void test_table_interval(void **state UNUSED)
{
	struct claim_evidence ev = evidence();
	static const double inside[NREPS] = { 0.13, 0.14, 0.15, 0.16, 0.17, 0.18, 0.19, 0.20 };
	static const double mixed[NREPS] = { 0.08, 0.10, 0.12, 0.14, 0.16, 0.18, 0.20, 0.22 };
	static const double below[NREPS] = { 0.06, 0.065, 0.07, 0.075, 0.08, 0.085, 0.09, 0.09 };

	expect_on(&ev, CELL_SERVE, table_cell_reps(inside), "table-readwrite", V_HOLDS,
		  "[3.25..5.00] over 8 reps lies inside 2.4..6.0");
	expect_on(&ev, CELL_SERVE, table_cell_reps(mixed), "table-readwrite", V_UNRESOLVED,
		  "[2.00..5.50] over 8 reps reaches both inside and outside 2.4..6.0");
	expect_on(&ev, CELL_SERVE, table_cell_reps(below), "table-readwrite", V_NOT,
		  "not 4 ([1.50..2.25] over 8 reps lies outside 2.4..6.0)");
}

static void test_table(void **state UNUSED)
{
	struct claim_evidence ev = evidence();
	const char *rw = "\"read\":1024,\"write\":1024";

	/* The table's four CPU copies: two are DMA, so the server copies twice the client's one. */
	expect_on(&ev, CELL_SERVE, table_cell("readwrite", rw, 0.08), "table-readwrite", V_NOT,
		  "2.0 CPU copies per byte, not 4");
	expect_on(&ev, CELL_SERVE, table_cell("readwrite", rw, 0.16), "table-readwrite", V_HOLDS,
		  "4.0 mode switches per chunk and 4.0 CPU copies per byte");
	expect_on(&ev, CELL_SERVE, table_cell("readwrite", "\"read\":1024,\"write\":3072", 0.16), "table-readwrite",
		  V_NOT, "8.0 mode switches per chunk, not 4");
	expect_on(&ev, CELL_SERVE, table_cell("readwrite", NULL, 0.16), "table-readwrite", V_CANNOT,
		  "did not count the server's calls");
	expect_on(&ev, CELL_SERVE, table_cell("readwrite", rw, -1), "table-readwrite", V_CANNOT,
		  "the CPU copies cannot be measured");
	expect_on(&ev, CELL_SERVE, table_cell("mmap_write", "\"write\":1024", 0.04), "table-mmap-write", V_HOLDS,
		  "1.0 CPU copies per byte");
	ev.cell[CELL_SERVE].run = table_cell("sendfile", "\"splice\":1024", 0.001);
	expect_built("table-sendfile", &ev, V_HOLDS, "2.0 mode switches per chunk and 0.0 CPU copies",
		     "0 GiB to user and 0 GiB from user");
	drop(&ev, CELL_SERVE);
	/* Negative control: sendfile's calls and in-kernel bytes, and a copy as long as the client's. */
	expect_on(&ev, CELL_SERVE, table_cell("sendfile", "\"splice\":1024", 0.04), "table-sendfile", V_NOT,
		  "1.0 CPU copies per byte, not 0");
	expect_on(&ev, CELL_SERVE, table_cell("splice", "\"splice\":2048", 0.001), "table-splice", V_HOLDS,
		  "4.0 mode switches per chunk");
}

/* ---------------------------------------------------------------- latency, size, faults */

static struct crcell *echo_cell(const double *ratio)
{
	json_t *arr = json_array();

	for (int rep = 1; rep <= NREPS; rep++) {
		add(arr, "splice", rep, B64, "\"latency\":{\"p50_us\":%g}", 60 * ratio[rep - 1]);
		add(arr, "readwrite", rep, B64, "\"latency\":{\"p50_us\":60}");
	}
	return cell_of(arr);
}

static void test_lower_latency(void **state UNUSED)
{
	struct claim_evidence ev = evidence();
	const char *id = "zero-copy-lower-latency";

	expect_on(&ev, CELL_ECHO, echo_cell(lower), id, V_HOLDS, "shorter");
	expect_on(&ev, CELL_ECHO, echo_cell(higher), id, V_NOT, "longer");
	ev.cell[CELL_ECHO].run = echo_cell(across);
	expect_more(id, &ev, "includes 1.0", CELL_ECHO, NREPS);
	drop(&ev, CELL_ECHO);
	expect(id, &ev, V_CANNOT, "no paired repetitions");
}

/* Serve records of sendfile and readwrite at BYTES: the server's CPU per GiB, sendfile's RATIO[i] of readwrite's. */
static void add_server_cpu(json_t *arr, long bytes, const double *ratio)
{
	for (int rep = 1; rep <= NREPS; rep++) {
		add(arr, "sendfile", rep, bytes, "\"roles\":{\"server\":{\"cpu_per_gib_s\":%g}}", ratio[rep - 1]);
		add(arr, "readwrite", rep, bytes, "\"roles\":{\"server\":{\"cpu_per_gib_s\":1}}");
	}
}

static void sizes(struct claim_evidence *ev, const double *small, const double *big)
{
	json_t *s = json_array(), *b = json_array();

	add_server_cpu(s, 65536, small);
	add_server_cpu(b, B64, big);
	ev->cell[CELL_SERVE_SMALL].run = cell_of(s);
	ev->cell[CELL_SERVE].run = cell_of(b);
}

static void unsizes(struct claim_evidence *ev)
{
	drop(ev, CELL_SERVE_SMALL);
	drop(ev, CELL_SERVE);
}

static void test_gain_needs_size(void **state UNUSED)
{
	struct claim_evidence ev = evidence();
	const char *id = "zero-copy-gain-needs-size";
	struct judgement j;

	sizes(&ev, across, lower);
	j = judged(id, &ev, V_HOLDS, "no gain at 64 KiB (the interval includes 1.0)");
	assert_true(j.more & (1u << CELL_SERVE_SMALL));	/* invisible is said at the cap, like no difference */
	judgement_free(&j);
	unsizes(&ev);
	sizes(&ev, higher, lower);
	expect(id, &ev, V_HOLDS, "sendfile cost more");
	unsizes(&ev);
	/* Negative control: the gain at the plan's size is there, and at 64 KiB too. */
	sizes(&ev, lower, lower);
	expect(id, &ev, V_NOT, "showed at 64 KiB already");
	unsizes(&ev);
	sizes(&ev, across, higher);
	expect(id, &ev, V_NOT, "no gain at 64M either");
	unsizes(&ev);
	sizes(&ev, across, across);
	expect_more(id, &ev, "the gain at 64M is itself not decided", CELL_SERVE, NREPS);
	unsizes(&ev);
	expect(id, &ev, V_CANNOT, "no paired repetitions");
}

/* A serve cell at 64M: the server's sampled CPU in page faults, mmap_write MM and readwrite 0.01 of 0.4 s. */
static struct crcell *mm_cell(double mm, int samples, double faults)
{
	json_t *arr = json_array();
	const char *name[2] = { "mmap_write", "readwrite" };

	for (int rep = 1; rep <= NREPS; rep++)
		for (int i = 0; i < 2; i++) {
			if (samples < 0)
				add(arr, name[i], rep, B64, "\"roles\":{\"server\":{\"cputime\":null}}");
			else
				add(arr, name[i], rep, B64, "\"roles\":{\"server\":{\"perf\":{\"page_faults\":%g},"
				    "\"cputime\":{\"samples\":%d,\"sampled_s\":0.4,\"groups\":{\"mm\":%g}}}}",
				    i ? 2 : faults, samples, i ? 0.01 : mm);
		}
	return cell_of(arr);
}

static void test_mmap_faults_large_cost(void **state UNUSED)
{
	struct claim_evidence ev = evidence();
	const char *id = "mmap-faults-large-cost";

	expect_on(&ev, CELL_SERVE, mm_cell(0.15, 400, 1024), id, V_HOLDS, "took 37% of mmap_write's server CPU");
	/* Negative control: many faults counted, little CPU in them. */
	expect_on(&ev, CELL_SERVE, mm_cell(0.02, 400, 16384), id, V_NOT, "took only 5%");
	expect_on(&ev, CELL_SERVE, mm_cell(0.15, 4, 1024), id, V_CANNOT, "4 samples, too few");
	expect_on(&ev, CELL_SERVE, mm_cell(0, -1, 0), id, V_CANNOT, "no sampled CPU groups");
}

/* ---------------------------------------------------------------- userstack, port forwarding */

static struct crcell *stack_cell(double written)
{
	json_t *arr = json_array();

	for (int rep = 1; rep <= NREPS; rep++)
		if (written < 0)
			add(arr, "readwrite", rep, B64, "\"roles\":{\"sender\":{}}");
		else
			add(arr, "readwrite", rep, B64, "\"roles\":{\"sender\":{},\"stack\":{\"bytes\":%.0f,\"calls\":"
			    "90000}}", written * (double)B64);
	return cell_of(arr);
}

static void test_userstack_adds_copies(void **state UNUSED)
{
	struct claim_evidence ev = evidence();
	const char *id = "userstack-ipc-adds-copies";

	ev.cell[CELL_USERSTACK].not_run = "transport userstack starts copylab stackd ...: root";
	expect(id, &ev, V_CANNOT, "root");
	ev.cell[CELL_USERSTACK].not_run = NULL;
	ev.cell[CELL_USERSTACK].run = stack_cell(1.05);
	expect_built(id, &ev, V_HOLDS, "1.05 bytes written per byte", "by construction of the ipc data path");
	drop(&ev, CELL_USERSTACK);
	expect_on(&ev, CELL_USERSTACK, stack_cell(0.1), id, V_NOT, "only 0.10 bytes");
	expect_on(&ev, CELL_USERSTACK, stack_cell(-1), id, V_CANNOT, "no stack role");
}

static struct crcell *forward_cell(const char *strategy, bool relay)
{
	json_t *arr = json_array();
	char s[200];

	for (int rep = 1; rep <= NREPS; rep++) {
		add(arr, strategy, rep, B64, "\"roles\":{\"source\":{}%s},%s", relay ? ",\"relay\":{\"bytes\":1}" : "",
		    system_cpu(0.7, true, s, sizeof(s)));
		add(arr, "readwrite", rep, B64, "\"roles\":{\"relay\":{\"bytes\":1}},%s", system_cpu(1, true, s, sizeof(s)));
	}
	return cell_of(arr);
}

static void test_port_forward_no_process(void **state UNUSED)
{
	struct claim_evidence ev = evidence();
	const char *id = "port-forward-no-process";
	struct claim_cell *r = &ev.cell[CELL_REDIRECT];

	ev.cell[CELL_NAT].strategy = "nat";
	ev.cell[CELL_NAT].run = forward_cell("nat", false);
	expect(id, &ev, V_CANNOT, "no REDIRECT/OUTPUT strategy");
	r->strategy = "redirect";
	r->not_run = "redirect writes nftables rules, which needs root";
	expect(id, &ev, V_CANNOT, "did not run here: redirect writes");
	r->not_run = NULL;
	expect_on(&ev, CELL_REDIRECT, forward_cell("redirect", false), id, V_HOLDS, "neither");
	/* Negative control: the router's DNAT ran no process, the same-host rule did. */
	expect_on(&ev, CELL_REDIRECT, forward_cell("redirect", true), id, V_NOT, "a relay process took part on one host");
	drop(&ev, CELL_NAT);
}

/* Every seed claim names a seed piece, by title, in its source. */
static void test_seed_claims_cite_seeds(void **state UNUSED)
{
	static const char *const titles[] = {
		SEED_SPLICE_PROXY, SEED_SPLICE_FAMILY, SEED_ZERO_COPY, SEED_USERSTACK, SEED_SOCKET_OFFLOAD,
	};

	assert_true(seed_claim_count >= 19);
	for (size_t i = 0; i < seed_claim_count; i++) {
		bool cited = false;

		for (size_t t = 0; t < sizeof(titles) / sizeof(titles[0]); t++)
			cited |= strstr(seed_claim_table[i].source, titles[t]) != NULL;
		if (!cited)
			print_error("%s cites no seed: %s\n", seed_claim_table[i].id, seed_claim_table[i].source);
		assert_true(cited);
		assert_ptr_equal(claim_find(seed_claim_table[i].id), &seed_claim_table[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sendfile_out_must_be_socket),
		cmocka_unit_test(test_vmsplice_reuse_changes_pipe),
		cmocka_unit_test(test_lower_memory_bandwidth),
		cmocka_unit_test(test_splice_nonblock_partial),
		cmocka_unit_test(test_splice_socket_read_corrupts),
		cmocka_unit_test(test_splice_move_zero_copy),
		cmocka_unit_test(test_splice_remaps_pages),
		cmocka_unit_test(test_vmsplice_no_copy),
		cmocka_unit_test(test_splice_echo_no_user_copy),
		cmocka_unit_test(test_sg_dma_no_cpu_copy),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_table_interval),
		cmocka_unit_test(test_lower_latency),
		cmocka_unit_test(test_gain_needs_size),
		cmocka_unit_test(test_mmap_faults_large_cost),
		cmocka_unit_test(test_userstack_adds_copies),
		cmocka_unit_test(test_port_forward_no_process),
		cmocka_unit_test(test_seed_claims_cite_seeds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
