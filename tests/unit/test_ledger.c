/* SPDX-License-Identifier: MIT */
/*
 * The BPF copy ledger against known work: forked children move exact byte
 * counts inside their window and the parent checks every figure it reads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/io_uring.h>
#include <sys/syscall.h>

#include "harness/measure/bpf/ledger.h"
#include "harness/model/base.h"

#ifdef HAVE_BPF
#include <bpf/btf.h>
#endif
#include <time.h>

#ifdef __SANITIZE_ADDRESS__
#define UNDER_ASAN 1
#else
#define UNDER_ASAN 0
#endif

#define MIB (1u << 20)

static struct ledger *g_ledger;
static char g_why[256];

/* One buffer for every child, filled before fork: no faults in a window. */
static unsigned char g_buf[MIB];

static int group_setup(void **state)
{
	if (geteuid() != 0)
		snprintf(g_why, sizeof(g_why), "not root (BPF needs root or CAP_BPF)");
	else if (ledger_open(&g_ledger, g_why, sizeof(g_why)) == 0)
		print_message("# ledger: %s\n", ledger_describe(g_ledger));
	if (!g_ledger)
		print_message("# ledger: %s\n", g_why);
	memset(g_buf, 'x', sizeof(g_buf));
	return 0;
}

static int group_teardown(void **state)
{
	ledger_close(g_ledger);
	return 0;
}

/*
 * Skip where BPF is truly missing; but where the machine kind is known to
 * have it (COPYLAB_REQUIRE_BPF=1), a missing ledger is a failure.
 */
static struct ledger *need_ledger(void)
{
	const char *req = getenv("COPYLAB_REQUIRE_BPF");

	if (g_ledger)
		return g_ledger;
	if (req && strcmp(req, "1") == 0)
		fail_msg("COPYLAB_REQUIRE_BPF=1 but the ledger is unavailable: %s", g_why);
	print_message("# skip: %s\n", g_why);
	skip();
	return NULL;
}

/* Runs fn in a forked child; its return value is the exit status. */
static pid_t spawn(int (*fn)(void *), void *arg)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn(arg));
	return pid;
}

static void reap(pid_t pid)
{
	int st;

	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	/* Each child returns a distinct non-zero code for the step that failed. */
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void run_child(int (*fn)(void *), void *arg)
{
	reap(spawn(fn, arg));
}

static void read_slot(int slot, struct ledger_counts *c)
{
	assert_int_equal(ledger_read(g_ledger, slot, c), 0);
}

static void assert_slot_zero(int slot)
{
	struct ledger_counts c, zero;

	memset(&zero, 0, sizeof(zero));
	read_slot(slot, &c);
	/* Whether the io_uring probes attached is no count: it may be set. */
	zero.uring.have = c.uring.have;
	assert_memory_equal(&c, &zero, sizeof(c));
}

static void fresh_slot(int slot)
{
	assert_int_equal(ledger_reset(g_ledger, slot), 0);
	assert_slot_zero(slot);
}

/* ---- (a) read and write across the boundary ---------------------------- */

enum { SLOT_RW = 0, SLOT_SPLICE, SLOT_TCP, SLOT_IN, SLOT_OUT, SLOT_RESET, SLOT_SCHED, SLOT_FAULT };
/* The io_uring test reuses a slot the earlier tests are done with. */
#define SLOT_URING SLOT_RW

static int child_read_write(void *arg)
{
	int null = open("/dev/null", O_WRONLY), zero = open("/dev/zero", O_RDONLY);

	if (null < 0 || zero < 0)
		return 1;
	if (ledger_window_begin(g_ledger, SLOT_RW))
		return 2;
	/* /dev/null and /dev/zero never move short: the returns are exact. */
	for (int i = 0; i < 3; i++)
		if (write(null, g_buf, 100000) != 100000)
			return 3;
	if (read(zero, g_buf, 12345) != 12345)
		return 4;
	if (ledger_window_end(g_ledger))
		return 5;
	return 0;
}

static void test_read_write_bytes(void **state)
{
	struct ledger_counts c;

	need_ledger();
	fresh_slot(SLOT_RW);
	run_child(child_read_write, NULL);
	read_slot(SLOT_RW, &c);
	print_message("# rw: syscalls %llu write %llu read %llu from_user %llu to_user %llu\n",
		      (unsigned long long)c.syscalls, (unsigned long long)c.by_family[LF_WRITE],
		      (unsigned long long)c.by_family[LF_READ],
		      (unsigned long long)c.bytes_from_user, (unsigned long long)c.bytes_to_user);
	assert_true(c.by_family[LF_WRITE] >= 3);
	assert_true(c.by_family[LF_READ] >= 1);
	assert_int_equal(c.bytes_from_user, 300000);
	assert_int_equal(c.bytes_to_user, 12345);
	assert_int_equal(c.bytes_in_kernel, 0);
	assert_int_equal(c.skb_copy_bytes, 0);
	/* Four calls in the window; bpf() (the markers) is never counted. */
	assert_true(c.syscalls >= 4 && c.syscalls <= 8);
}

/* ---- (b) splice: bytes that stay in the kernel ------------------------- */

static int g_splice_file = -1;

static int child_splice(void *arg)
{
	int null = open("/dev/null", O_WRONLY), p[2];
	loff_t off = 0;
	size_t left = MIB;

	if (null < 0 || pipe(p))
		return 1;
	if (ledger_window_begin(g_ledger, SLOT_SPLICE))
		return 2;
	while (left) {
		ssize_t in = splice(g_splice_file, &off, p[1], NULL, left, 0), out;

		if (in <= 0)
			return 3;
		for (ssize_t moved = 0; moved < in; moved += out) {
			out = splice(p[0], NULL, null, NULL, in - moved, 0);
			if (out <= 0)
				return 4;
		}
		left -= in;
	}
	if (ledger_window_end(g_ledger))
		return 5;
	return 0;
}

static void test_splice_bytes_in_kernel(void **state)
{
	char path[] = "/tmp/test_ledger.XXXXXX";
	struct ledger_counts c;

	need_ledger();
	g_splice_file = mkstemp(path);
	assert_true(g_splice_file >= 0);
	unlink(path);
	assert_int_equal(write_all(g_splice_file, g_buf, MIB, NULL), 0);
	fresh_slot(SLOT_SPLICE);
	run_child(child_splice, NULL);
	close(g_splice_file);
	read_slot(SLOT_SPLICE, &c);
	print_message("# splice: calls %llu in_kernel %llu\n",
		      (unsigned long long)c.by_family[LF_SPLICE],
		      (unsigned long long)c.bytes_in_kernel);
	/* Each byte is counted twice: into the pipe and out of it. */
	assert_int_equal(c.bytes_in_kernel, 2 * MIB);
	assert_true(c.by_family[LF_SPLICE] >= 2);
	assert_int_equal(c.bytes_to_user, 0);
	assert_int_equal(c.bytes_from_user, 0);
}

/* ---- (c) TCP over loopback: the socket copy to user memory ------------- */

struct tcp_pair {
	int rx, tx;
};

static int child_tcp_receiver(void *arg)
{
	const struct tcp_pair *t = arg;
	size_t got = 0;

	close(t->tx);
	if (ledger_window_begin(g_ledger, SLOT_TCP))
		return 2;
	while (got < MIB) {
		ssize_t n = read(t->rx, g_buf, MIB - got);

		if (n <= 0)
			return 3;
		got += n;
	}
	if (ledger_window_end(g_ledger))
		return 5;
	return 0;
}

/* Outside the map: its sends must not count in the receiver's slot. */
static int child_tcp_sender(void *arg)
{
	const struct tcp_pair *t = arg;

	close(t->rx);
	return write_all(t->tx, g_buf, MIB, NULL) ? 3 : 0;
}

/* A connected TCP pair on 127.0.0.1, port chosen by the kernel. */
static void tcp_pair_open(struct tcp_pair *t)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &alen), 0);
	t->tx = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(t->tx >= 0);
	assert_int_equal(connect(t->tx, (struct sockaddr *)&a, sizeof(a)), 0);
	t->rx = accept(lfd, NULL, NULL);
	assert_true(t->rx >= 0);
	close(lfd);
}

static void test_tcp_skb_copy(void **state)
{
	struct ledger_counts c;
	struct tcp_pair t;
	pid_t rx, tx;

	need_ledger();
	tcp_pair_open(&t);
	fresh_slot(SLOT_TCP);
	rx = spawn(child_tcp_receiver, &t);
	tx = spawn(child_tcp_sender, &t);
	close(t.rx);
	close(t.tx);
	reap(tx);
	reap(rx);
	read_slot(SLOT_TCP, &c);
	print_message("# tcp: reads %llu to_user %llu skb_copy %llu from_user %llu\n",
		      (unsigned long long)c.by_family[LF_READ], (unsigned long long)c.bytes_to_user,
		      (unsigned long long)c.skb_copy_bytes, (unsigned long long)c.bytes_from_user);
	assert_int_equal(c.bytes_to_user, MIB);
	assert_in_range(c.skb_copy_bytes, MIB - MIB / 100, MIB + MIB / 100);
	assert_true(c.by_family[LF_READ] >= 1);
	assert_int_equal(c.bytes_from_user, 0);
}

/* ---- (d) only processes in the map count ------------------------------- */

static int child_with_grandchild(void *arg)
{
	int null = open("/dev/null", O_WRONLY), st;
	pid_t pid;

	if (null < 0)
		return 1;
	if (ledger_window_begin(g_ledger, SLOT_IN))
		return 2;
	/* The grandchild is a new tgid: the window does not follow fork(). */
	pid = fork();
	if (pid < 0)
		return 3;
	if (pid == 0) {
		for (int i = 0; i < 5; i++)
			if (write(null, g_buf, 4096) != 4096)
				_exit(1);
		_exit(0);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		return 4;
	if (write(null, g_buf, 1) != 1)
		return 5;
	if (ledger_window_end(g_ledger))
		return 6;
	return 0;
}

static void test_outsiders_not_counted(void **state)
{
	struct ledger_counts c;
	int null = open("/dev/null", O_WRONLY);

	need_ledger();
	assert_true(null >= 0);
	fresh_slot(SLOT_IN);
	fresh_slot(SLOT_OUT);
	run_child(child_with_grandchild, NULL);
	/* Nor does this process, which never opened a window. */
	assert_int_equal(write_all(null, g_buf, 65536, NULL), 0);
	close(null);
	read_slot(SLOT_IN, &c);
	print_message("# outsiders: in-window writes %llu bytes %llu\n",
		      (unsigned long long)c.by_family[LF_WRITE],
		      (unsigned long long)c.bytes_from_user);
	assert_int_equal(c.by_family[LF_WRITE], 1);
	assert_int_equal(c.bytes_from_user, 1);
	assert_slot_zero(SLOT_OUT);
	/* Ending a window this process never began is an error, not a no-op. */
	assert_int_equal(ledger_window_end(g_ledger), -ENOENT);
}

/* ---- (e) reset --------------------------------------------------------- */

static int child_write_1000(void *arg)
{
	int null = open("/dev/null", O_WRONLY);

	if (null < 0)
		return 1;
	if (ledger_window_begin(g_ledger, SLOT_RESET))
		return 2;
	if (write(null, g_buf, 1000) != 1000)
		return 3;
	if (ledger_window_end(g_ledger))
		return 5;
	return 0;
}

static void test_reset_zeroes(void **state)
{
	struct ledger_counts c;

	need_ledger();
	fresh_slot(SLOT_RESET);
	run_child(child_write_1000, NULL);
	run_child(child_write_1000, NULL);
	read_slot(SLOT_RESET, &c);
	/* Without a reset the slot accumulates across windows... */
	assert_int_equal(c.bytes_from_user, 2000);
	assert_int_equal(c.by_family[LF_WRITE], 2);
	/* ...and a reset clears every field on every CPU. */
	assert_int_equal(ledger_reset(g_ledger, SLOT_RESET), 0);
	assert_slot_zero(SLOT_RESET);
	assert_int_equal(ledger_reset(g_ledger, LEDGER_MAX_SLOTS), -EINVAL);
	assert_int_equal(ledger_read(g_ledger, -1, &c), -EINVAL);
}

/* ---- (f) scheduler switches and page faults ---------------------------- */

static int child_sleeps(void *arg)
{
	if (ledger_window_begin(g_ledger, SLOT_SCHED))
		return 2;
	for (int i = 0; i < 10; i++)
		usleep(2000);
	if (ledger_window_end(g_ledger))
		return 5;
	return 0;
}

#define FAULT_PAGES 1000

static int child_touches_pages(void *arg)
{
	long pg = sysconf(_SC_PAGESIZE);
	volatile unsigned char *p = mmap(NULL, FAULT_PAGES * pg, PROT_READ | PROT_WRITE,
					 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return 1;
	/* One fault per page: no THP or mTHP folio may cover several. */
	if (madvise((void *)p, FAULT_PAGES * pg, MADV_NOHUGEPAGE))
		return 3;
	if (ledger_window_begin(g_ledger, SLOT_FAULT))
		return 2;
	for (long i = 0; i < FAULT_PAGES; i++)
		p[i * pg] = 1;
	if (ledger_window_end(g_ledger))
		return 5;
	return 0;
}

static void test_switches_and_faults(void **state)
{
	struct ledger_counts s, f;

	need_ledger();
	fresh_slot(SLOT_SCHED);
	fresh_slot(SLOT_FAULT);
	run_child(child_sleeps, NULL);
	run_child(child_touches_pages, NULL);
	read_slot(SLOT_SCHED, &s);
	read_slot(SLOT_FAULT, &f);
	print_message("# sched: switches %llu other %llu; faults: %llu\n",
		      (unsigned long long)s.sched_switches,
		      (unsigned long long)s.by_family[LF_OTHER],
		      (unsigned long long)f.page_faults);
	/* Each usleep blocks, so each leaves the CPU at least once. */
	assert_true(s.sched_switches >= 10);
	assert_true(s.by_family[LF_OTHER] >= 10);
	/* AddressSanitizer's shadow memory takes faults of its own. */
	assert_in_range(f.page_faults, FAULT_PAGES, FAULT_PAGES + (UNDER_ASAN ? 400 : 50));
	assert_int_equal(f.bytes_from_user + f.bytes_to_user, 0);
}

/* ---- (g) io_uring: bytes moved by SQEs, with no read/write syscall ------ */

/*
 * A bare ring through the raw syscalls (no liburing, so the test needs
 * nothing the harness does not): setup, the three mappings, submit n SQEs
 * and wait for their n CQEs in one io_uring_enter.
 */
struct raw_ring {
	int fd;
	unsigned *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
};

static int raw_ring_open(struct raw_ring *r, unsigned entries)
{
	struct io_uring_params p;
	size_t sq_len, cq_len;
	unsigned char *sq, *cq;

	memset(&p, 0, sizeof(p));
	r->fd = (int)syscall(__NR_io_uring_setup, entries, &p);
	if (r->fd < 0)
		return -1;
	sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	if (p.features & IORING_FEAT_SINGLE_MMAP)
		sq_len = cq_len = sq_len > cq_len ? sq_len : cq_len;
	sq = mmap(NULL, sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd,
		  IORING_OFF_SQ_RING);
	if (sq == MAP_FAILED)
		return -1;
	cq = (p.features & IORING_FEAT_SINGLE_MMAP) ? sq :
		mmap(NULL, cq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd,
		     IORING_OFF_CQ_RING);
	if (cq == MAP_FAILED)
		return -1;
	r->sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQES);
	if (r->sqes == MAP_FAILED)
		return -1;
	r->sq_tail = (unsigned *)(sq + p.sq_off.tail);
	r->sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
	r->sq_array = (unsigned *)(sq + p.sq_off.array);
	r->cq_head = (unsigned *)(cq + p.cq_off.head);
	r->cq_tail = (unsigned *)(cq + p.cq_off.tail);
	r->cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
	r->cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	return 0;
}

static void raw_ring_queue(struct raw_ring *r, unsigned i, int op, int fd, void *buf, unsigned len)
{
	struct io_uring_sqe *sqe = &r->sqes[i];

	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = (unsigned char)op;
	sqe->fd = fd;
	sqe->addr = (unsigned long)buf;
	sqe->len = len;
	sqe->off = 0;
	sqe->user_data = i;
	r->sq_array[i & *r->sq_mask] = i;
}

/* Submits n queued SQEs and reaps n CQEs into res[user_data]; their sum, or -1. */
static long raw_ring_run(struct raw_ring *r, unsigned n, long *res_out)
{
	long sum = 0;
	unsigned head, got = 0;

	__atomic_store_n(r->sq_tail, n, __ATOMIC_RELEASE);
	while (got < n) {
		if (syscall(__NR_io_uring_enter, r->fd, got ? 0 : n, n - got, IORING_ENTER_GETEVENTS,
			    NULL, 0) < 0)
			return -1;
		head = *r->cq_head;
		while (head != __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE)) {
			const struct io_uring_cqe *cqe = &r->cqes[head & *r->cq_mask];
			int res = cqe->res;

			if (res < 0)
				return -1;
			if (cqe->user_data < n)
				res_out[cqe->user_data] = res;
			sum += res;
			head++;
			got++;
		}
		__atomic_store_n(r->cq_head, head, __ATOMIC_RELEASE);
	}
	return sum;
}

#define URING_READS 4
#define URING_READ_LEN 65536
#define URING_WRITES 2
#define URING_WRITE_LEN 1000

/*
 * What the child's CQEs said, shared with the parent: /dev/zero may return
 * a short read, so the ledger is held to the CQEs, not to the lengths asked.
 */
struct uring_seen {
	long read_bytes, write_bytes;
};
static struct uring_seen *g_uring_seen;

static int child_uring(void *arg)
{
	long res[8] = { 0 };
	int zero = open("/dev/zero", O_RDONLY), null = open("/dev/null", O_WRONLY);
	struct raw_ring r;
	unsigned i = 0;

	if (zero < 0 || null < 0)
		return 1;
	/* The ring is made before the window: only its operations count. */
	if (raw_ring_open(&r, 8))
		return 77;
	for (int k = 0; k < URING_READS; k++, i++)
		raw_ring_queue(&r, i, IORING_OP_READ, zero, g_buf + k * URING_READ_LEN, URING_READ_LEN);
	for (int k = 0; k < URING_WRITES; k++, i++)
		raw_ring_queue(&r, i, IORING_OP_WRITE, null, g_buf, URING_WRITE_LEN);
	raw_ring_queue(&r, i++, IORING_OP_NOP, -1, NULL, 0);
	if (ledger_window_begin(g_ledger, SLOT_URING))
		return 2;
	if (raw_ring_run(&r, i, res) <= 0)
		return 3;
	if (ledger_window_end(g_ledger))
		return 5;
	for (int k = 0; k < URING_READS; k++)
		g_uring_seen->read_bytes += res[k];
	for (int k = URING_READS; k < URING_READS + URING_WRITES; k++)
		g_uring_seen->write_bytes += res[k];
	return 0;
}

static void test_uring_sqes_and_bytes(void **state)
{
	struct ledger_counts c;
	pid_t pid;
	int st;

	need_ledger();
	g_uring_seen = mmap(NULL, sizeof(*g_uring_seen), PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(g_uring_seen != MAP_FAILED);
	memset(g_uring_seen, 0, sizeof(*g_uring_seen));
	fresh_slot(SLOT_URING);
	pid = spawn(child_uring, NULL);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) == 77) {
		print_message("# skip: io_uring_setup failed (io_uring disabled?)\n");
		skip();
	}
	assert_int_equal(WEXITSTATUS(st), 0);
	read_slot(SLOT_URING, &c);
	print_message("# uring: have %d sqes r/w/o %llu/%llu/%llu cqe bytes r/w %llu/%llu enters %llu\n",
		      c.uring.have, (unsigned long long)c.uring.sqes[LU_READ],
		      (unsigned long long)c.uring.sqes[LU_WRITE], (unsigned long long)c.uring.sqes[LU_OTHER],
		      (unsigned long long)c.uring.cqe_bytes[LU_READ],
		      (unsigned long long)c.uring.cqe_bytes[LU_WRITE],
		      (unsigned long long)c.by_family[LF_URING]);
	if (!c.uring.have) {
		const char *req = getenv("COPYLAB_REQUIRE_BPF");

		if (req && !strcmp(req, "1"))
			fail_msg("the io_uring tracepoints did not attach: %s", ledger_describe(g_ledger));
		skip();
	}
	assert_int_equal(c.uring.sqes[LU_READ], URING_READS);
	assert_int_equal(c.uring.sqes[LU_WRITE], URING_WRITES);
	assert_int_equal(c.uring.sqes[LU_OTHER], 1);
	assert_int_equal(c.uring.cqes[LU_READ], URING_READS);
	assert_int_equal(c.uring.cqes[LU_WRITE], URING_WRITES);
	/* Every byte the CQEs reported, no more: /dev/zero may read short. */
	assert_true(g_uring_seen->read_bytes > 0);
	assert_int_equal(c.uring.cqe_bytes[LU_READ], g_uring_seen->read_bytes);
	assert_int_equal(c.uring.cqe_bytes[LU_WRITE], g_uring_seen->write_bytes);
	assert_int_equal(g_uring_seen->write_bytes, URING_WRITES * URING_WRITE_LEN);
	assert_int_equal(c.uring.sqes[LU_SEND] + c.uring.sqes[LU_RECV] + c.uring.sqes[LU_SPLICE], 0);
	/* The bytes moved with no read or write syscall: the syscall ledger sees none. */
	assert_int_equal(c.bytes_to_user + c.bytes_from_user, 0);
	assert_true(c.by_family[LF_URING] >= 1);
	assert_int_equal(c.by_family[LF_READ] + c.by_family[LF_WRITE], 0);
}

#ifdef HAVE_BPF
/* Whether this kernel's BTF has struct s with a member m. */
static bool btf_has_member(const struct btf *btf, const char *s, const char *m)
{
	int id = btf__find_by_name_kind(btf, s, BTF_KIND_STRUCT);
	const struct btf_type *t = id > 0 ? btf__type_by_id(btf, id) : NULL;
	const struct btf_member *mem = t ? btf_members(t) : NULL;

	for (int i = 0; t && i < btf_vlen(t); i++)
		if (!strcmp(btf__name_by_offset(btf, mem[i].name_off), m))
			return true;
	return false;
}
#endif

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU cpu's steal so far, from its line of /proc/stat, in seconds; NAN when unreadable. */
static double cpu_steal_s(int cpu)
{
	unsigned long long v[8] = { 0 };
	char line[512];
	FILE *f = fopen("/proc/stat", "re");
	double s = NAN;
	int n;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "cpu%d %llu %llu %llu %llu %llu %llu %llu %llu", &n, &v[0], &v[1], &v[2], &v[3], &v[4],
			   &v[5], &v[6], &v[7]) == 9 && n == cpu) {
			s = v[7] / (double)sysconf(_SC_CLK_TCK);
			break;
		}
	if (f)
		fclose(f);
	return s;
}

/*
 * The idle clock and the steal clock over a window of spinning and
 * sleeping: both only grow, idle is at most wall x CPUs, and the probe
 * finds the runqueue's steal clock exactly where the kernel's BTF has one
 * (CO-RE found the fields).  Where /proc/stat saw real steal on the
 * CPU the test ran on, pinned, the steal clock moved too: its runqueue
 * clock is brought up to date at each of the test's own switches.
 */
static void test_idle_and_steal_clocks(void **state)
{
	struct ledger *l = need_ledger();
	struct ledger_idle a, b;
	double t0, t1, steal0, steal1;
	volatile unsigned long spin = 0;
	cpu_set_t one, was;
	int cpu = sched_getcpu();

	(void)state;
	assert_true(cpu >= 0);
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	assert_int_equal(sched_getaffinity(0, sizeof(was), &was), 0);
	assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
	t0 = mono_s();
	steal0 = cpu_steal_s(cpu);
	assert_int_equal(ledger_idle(l, &a), 0);
	for (int k = 0; k < 5; k++) {
		double until = mono_s() + 0.02;

		while (mono_s() < until)
			spin++;
		usleep(20000);
	}
	assert_int_equal(ledger_idle(l, &b), 0);
	t1 = mono_s();
	steal1 = cpu_steal_s(cpu);
	sched_setaffinity(0, sizeof(was), &was);
	assert_true(b.ncpus > 0);
	assert_true(b.idle_ns >= a.idle_ns);
	assert_true((b.idle_ns - a.idle_ns) / 1e9 <= (t1 - t0) * b.ncpus + 0.001);
	assert_true(b.steal_busy_ns >= a.steal_busy_ns);
	assert_true(b.steal_clock_ns >= a.steal_clock_ns);
	/* steal in tasks' stretches is part of all the steal the clocks saw */
	assert_true(b.steal_busy_ns - a.steal_busy_ns <= b.steal_clock_ns - a.steal_clock_ns + 1000000);
#ifdef HAVE_BPF
	{
		struct btf *btf = btf__load_vmlinux_btf();

		assert_non_null(btf);
		assert_int_equal(b.have_steal_clock, btf_has_member(btf, "rq", "prev_steal_time_rq") &&
							 btf_has_member(btf, "cfs_rq", "rq"));
		btf__free(btf);
	}
#endif
	print_message("# steal in the window: /proc/stat's cpu%d %.2f s, the runqueues' clocks %.6f s (%.6f s in "
		      "tasks' stretches)%s\n", cpu, steal1 - steal0, (b.steal_clock_ns - a.steal_clock_ns) / 1e9,
		      (b.steal_busy_ns - a.steal_busy_ns) / 1e9, b.have_steal_clock ? "" : "; no steal clock here");
	if (b.have_steal_clock && steal1 - steal0 >= 0.05)
		assert_true(b.steal_clock_ns > a.steal_clock_ns);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_write_bytes),
		cmocka_unit_test(test_splice_bytes_in_kernel),
		cmocka_unit_test(test_tcp_skb_copy),
		cmocka_unit_test(test_outsiders_not_counted),
		cmocka_unit_test(test_reset_zeroes),
		cmocka_unit_test(test_switches_and_faults),
		cmocka_unit_test(test_uring_sqes_and_bytes),
		cmocka_unit_test(test_idle_and_steal_clocks),
	};

	return cmocka_run_group_tests_name("ledger", tests, group_setup, group_teardown);
}
