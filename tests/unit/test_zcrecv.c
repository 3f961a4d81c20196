/* SPDX-License-Identifier: MIT */
/*
 * TCP_ZEROCOPY_RECEIVE bookkeeping (strategies/zcrecv.h) on synthetic
 * results: mapped pages, the copy buffer's remainder, the skip hint, the
 * end of stream as EIO, socket errors, a broken contract; the ring's
 * placement and its batched unmapping.  Then the kernel itself on a
 * loopback pair: a tail smaller than a page lands in the copy buffer, and
 * the end of the stream is EIO.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "strategies/zcrecv.h"

static struct tcp_zerocopy_receive zc_result(uint32_t length, int32_t copied, uint32_t skip, int32_t err)
{
	struct tcp_zerocopy_receive zc;

	memset(&zc, 0, sizeof(zc));
	zc.length = length;
	zc.copybuf_len = copied;
	zc.recv_skip_hint = skip;
	zc.err = err;
	return zc;
}

static void test_mapped_then_remainder(void **state)
{
	struct tcp_zerocopy_receive zc = zc_result(15 * 4096, 1000, 0, 0);
	struct zcr_outcome o;

	(void)state;
	zcrecv_interpret(0, 0, &zc, 16 << 20, 4095, &o);
	assert_int_equal(o.err, 0);
	assert_int_equal(o.mapped, 15 * 4096);
	assert_int_equal(o.copied, 1000);
	assert_int_equal(o.skip, 0);
	assert_false(o.nothing);
	assert_false(o.eof_maybe);
}

static void test_skip_hint_only(void **state)
{
	/* A plain sender's data in page fragments: nothing maps, all is read(). */
	struct tcp_zerocopy_receive zc = zc_result(0, 0, 65483, 0);
	struct zcr_outcome o;

	(void)state;
	zcrecv_interpret(0, 0, &zc, 1 << 20, 4095, &o);
	assert_int_equal(o.mapped, 0);
	assert_int_equal(o.skip, 65483);
	assert_false(o.nothing);
}

static void test_nothing_queued(void **state)
{
	struct tcp_zerocopy_receive zc = zc_result(0, 0, 0, 0);
	struct zcr_outcome o;

	(void)state;
	zcrecv_interpret(0, 0, &zc, 1 << 20, 4095, &o);
	assert_true(o.nothing);
	assert_int_equal(o.err, 0);
}

static void test_eio_is_end_of_stream(void **state)
{
	struct tcp_zerocopy_receive zc = zc_result(0, 0, 0, 0);
	struct zcr_outcome o;

	(void)state;
	zcrecv_interpret(-1, EIO, &zc, 1 << 20, 4095, &o);
	assert_true(o.eof_maybe);
	assert_int_equal(o.err, 0);
	zcrecv_interpret(-1, EINVAL, &zc, 1 << 20, 4095, &o);
	assert_false(o.eof_maybe);
	assert_int_equal(o.err, EINVAL);
}

static void test_errors_in_the_struct(void **state)
{
	struct tcp_zerocopy_receive reset = zc_result(0, 0, 0, ECONNRESET);
	struct tcp_zerocopy_receive badcopy = zc_result(4096, -EFAULT, 0, 0);
	struct tcp_zerocopy_receive toolong = zc_result(8192, 0, 0, 0);
	struct tcp_zerocopy_receive bigcopy = zc_result(0, 5000, 0, 0);
	struct zcr_outcome o;

	(void)state;
	zcrecv_interpret(0, 0, &reset, 1 << 20, 4095, &o);
	assert_int_equal(o.err, ECONNRESET);
	zcrecv_interpret(0, 0, &badcopy, 1 << 20, 4095, &o);
	assert_int_equal(o.err, EFAULT);
	/* More mapped than asked, more copied than the buffer holds: a broken contract. */
	zcrecv_interpret(0, 0, &toolong, 4096, 4095, &o);
	assert_int_equal(o.err, EPROTO);
	zcrecv_interpret(0, 0, &bigcopy, 4096, 4095, &o);
	assert_int_equal(o.err, EPROTO);
}

static void test_ring_asks_all_room_and_wraps_in_one_drop(void **state)
{
	size_t pos = 0, ask, ring = 16 << 20, min_room = 64 << 10;

	(void)state;
	assert_int_equal(zcrecv_ring_next(&pos, ring, min_room, &ask), 0);
	assert_int_equal(pos, 0);
	assert_int_equal(ask, ring);
	pos = 15 * 4096;
	assert_int_equal(zcrecv_ring_next(&pos, ring, min_room, &ask), 0);
	assert_int_equal(ask, ring - 15 * 4096);
	/* Less than min_room left: back to the start, dropping what was mapped. */
	pos = ring - 4096;
	assert_int_equal(zcrecv_ring_next(&pos, ring, min_room, &ask), ring - 4096);
	assert_int_equal(pos, 0);
	assert_int_equal(ask, ring);
	/* Full to the end. */
	pos = ring;
	assert_int_equal(zcrecv_ring_next(&pos, ring, min_room, &ask), ring);
	assert_int_equal(pos, 0);
	/* A min_room beyond the ring means the ring itself. */
	pos = 4096;
	assert_int_equal(zcrecv_ring_next(&pos, ring, ring * 2, &ask), 4096);
	assert_int_equal(ask, ring);
}

/* A connected loopback pair: *tx sends toward *rx. */
static void tcp_pair(int *tx, int *rx)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &alen), 0);
	*tx = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(*tx, (struct sockaddr *)&a, sizeof(a)), 0);
	*rx = accept(lfd, NULL, NULL);
	assert_true(*rx >= 0);
	close(lfd);
}

static void test_kernel_tail_and_eof(void **state)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), ring_len = 16 * page;
	unsigned char copybuf[4096];
	char msg[100];
	int tx, rx;
	void *ring;

	(void)state;
	tcp_pair(&tx, &rx);
	ring = mmap(NULL, ring_len, PROT_READ, MAP_SHARED, rx, 0);
	if (ring == MAP_FAILED) {
		close(tx);
		close(rx);
		skip();		/* a kernel without tcp mmap (before 4.18) */
	}
	memset(msg, 'z', sizeof(msg));
	assert_int_equal(send(tx, msg, sizeof(msg), 0), sizeof(msg));
	shutdown(tx, SHUT_WR);
	struct pollfd p = { .fd = rx, .events = POLLIN };

	assert_int_equal(poll(&p, 1, 5000), 1);
	for (int call = 0; call < 2; call++) {
		struct tcp_zerocopy_receive zc;
		socklen_t zlen = sizeof(zc);
		struct zcr_outcome o;
		int ret;

		memset(&zc, 0, sizeof(zc));
		zc.address = (uint64_t)(uintptr_t)ring;
		zc.length = (uint32_t)ring_len;
		zc.copybuf_address = (uint64_t)(uintptr_t)copybuf;
		zc.copybuf_len = (int32_t)page - 1;
		ret = getsockopt(rx, IPPROTO_TCP, TCP_ZEROCOPY_RECEIVE, &zc, &zlen);
		zcrecv_interpret(ret, ret < 0 ? errno : 0, &zc, (uint32_t)ring_len, (uint32_t)page - 1, &o);
		if (call == 0) {
			/* Less than a page queued: all of it through the copy buffer. */
			assert_int_equal(o.err, 0);
			assert_int_equal(o.mapped, 0);
			assert_int_equal(o.copied, sizeof(msg));
			assert_memory_equal(copybuf, msg, sizeof(msg));
		} else {
			/* Nothing left and the peer's FIN in: EIO. */
			assert_true(o.eof_maybe);
		}
	}
	munmap(ring, ring_len);
	close(tx);
	close(rx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mapped_then_remainder),
		cmocka_unit_test(test_skip_hint_only),
		cmocka_unit_test(test_nothing_queued),
		cmocka_unit_test(test_eio_is_end_of_stream),
		cmocka_unit_test(test_errors_in_the_struct),
		cmocka_unit_test(test_ring_asks_all_room_and_wraps_in_one_drop),
		cmocka_unit_test(test_kernel_tail_and_eof),
	};

	return cmocka_run_group_tests_name("zcrecv", tests, NULL, NULL);
}
