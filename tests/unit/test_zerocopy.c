/* SPDX-License-Identifier: MIT */
/*
 * MSG_ZEROCOPY completion parsing (strategies/zerocopy.h) against
 * synthetic error-queue data: control messages built by hand, ranges that
 * merge, wrap and repeat, copied and not copied; then one real loopback
 * round trip, where the kernel must say it copied.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "strategies/zerocopy.h"

/* A control buffer holding one message, as recvmsg(MSG_ERRQUEUE) fills it. */
struct ctrl {
	union {
		char buf[CMSG_SPACE(sizeof(struct sock_extended_err) + sizeof(struct sockaddr_in6))];
		struct cmsghdr align;
	};
};

static struct cmsghdr *make_cmsg(struct ctrl *c, int level, int type, const struct sock_extended_err *ee)
{
	struct msghdr msg = { .msg_control = c->buf, .msg_controllen = sizeof(c->buf) };
	struct cmsghdr *cm;

	memset(c, 0, sizeof(*c));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = level;
	cm->cmsg_type = type;
	cm->cmsg_len = CMSG_LEN(sizeof(*ee));
	memcpy(CMSG_DATA(cm), ee, sizeof(*ee));
	return cm;
}

static struct sock_extended_err zc_ee(uint32_t lo, uint32_t hi, bool copied)
{
	struct sock_extended_err ee = {
		.ee_errno = 0,
		.ee_origin = SO_EE_ORIGIN_ZEROCOPY,
		.ee_code = copied ? SO_EE_CODE_ZEROCOPY_COPIED : 0,
		.ee_info = lo,
		.ee_data = hi,
	};
	return ee;
}

static void test_parse_ipv4_copied(void **state)
{
	struct ctrl c;
	struct sock_extended_err ee = zc_ee(0, 4, true);
	struct zc_range r;
	int err = 0;

	assert_int_equal(zerocopy_parse_cmsg(make_cmsg(&c, SOL_IP, IP_RECVERR, &ee), &r, &err), ZC_RANGE);
	assert_int_equal(r.lo, 0);
	assert_int_equal(r.hi, 4);
	assert_true(r.copied);
	assert_int_equal(zerocopy_range_len(&r), 5);
}

static void test_parse_ipv6_not_copied(void **state)
{
	struct ctrl c;
	struct sock_extended_err ee = zc_ee(7, 7, false);
	struct zc_range r;
	int err = 0;

	assert_int_equal(zerocopy_parse_cmsg(make_cmsg(&c, SOL_IPV6, IPV6_RECVERR, &ee), &r, &err), ZC_RANGE);
	assert_int_equal(r.lo, 7);
	assert_int_equal(r.hi, 7);
	assert_false(r.copied);
	assert_int_equal(zerocopy_range_len(&r), 1);
}

static void test_parse_other_messages(void **state)
{
	struct ctrl c;
	struct sock_extended_err ee = zc_ee(0, 1, false), icmp = {
		.ee_errno = EHOSTUNREACH, .ee_origin = SO_EE_ORIGIN_ICMP,
	}, quiet = { .ee_origin = SO_EE_ORIGIN_LOCAL };
	struct zc_range r;
	int err = 0;
	struct cmsghdr *cm;

	/* Not an error-queue message at all. */
	assert_int_equal(zerocopy_parse_cmsg(make_cmsg(&c, SOL_SOCKET, SCM_RIGHTS, &ee), &r, &err),
			 ZC_NOT_ZEROCOPY);
	/* An ICMP error is an error to report, with its errno. */
	assert_int_equal(zerocopy_parse_cmsg(make_cmsg(&c, SOL_IP, IP_RECVERR, &icmp), &r, &err), ZC_ERROR);
	assert_int_equal(err, EHOSTUNREACH);
	/* Another origin without an errno: not ours, not an error. */
	assert_int_equal(zerocopy_parse_cmsg(make_cmsg(&c, SOL_IP, IP_RECVERR, &quiet), &r, &err),
			 ZC_NOT_ZEROCOPY);
	/* A zerocopy origin with an errno is an error. */
	ee.ee_errno = ENOBUFS;
	assert_int_equal(zerocopy_parse_cmsg(make_cmsg(&c, SOL_IP, IP_RECVERR, &ee), &r, &err), ZC_ERROR);
	assert_int_equal(err, ENOBUFS);
	/* Too short to hold a sock_extended_err: ignored, never read past it. */
	ee = zc_ee(0, 1, false);
	cm = make_cmsg(&c, SOL_IP, IP_RECVERR, &ee);
	cm->cmsg_len = CMSG_LEN(sizeof(ee) - 1);
	assert_int_equal(zerocopy_parse_cmsg(cm, &r, &err), ZC_NOT_ZEROCOPY);
}

static unsigned g_done[4];

static void count_done(void *arg, uint16_t tag)
{
	g_done[tag % 4]++;
}

static void test_tracker_merged_ranges(void **state)
{
	static struct zc_tracker t;
	struct zerocopy_counters zc = { 0 };
	struct zc_range a = { .lo = 0, .hi = 2, .copied = true }, b = { .lo = 3, .hi = 4, .copied = false };

	memset(&t, 0, sizeof(t));
	memset(g_done, 0, sizeof(g_done));
	for (uint32_t i = 0; i < 5; i++)
		zerocopy_track_send(&t, &zc, 1000 + i, (uint16_t)(i % 2));
	assert_true(zc.reported);
	assert_int_equal(zc.sends, 5);
	assert_int_equal(t.inflight, 5);
	/* One notification for three sends, all copied: their bytes count. */
	assert_int_equal(zerocopy_complete(&t, &zc, &a, count_done, NULL), 0);
	assert_int_equal(zc.completions, 3);
	assert_int_equal(zc.copied, 3);
	assert_int_equal(zc.bytes_copied, 1000 + 1001 + 1002);
	assert_int_equal(g_done[0], 2);
	assert_int_equal(g_done[1], 1);
	/* The rest really not copied. */
	assert_int_equal(zerocopy_complete(&t, &zc, &b, count_done, NULL), 0);
	assert_int_equal(zc.completions, 5);
	assert_int_equal(zc.copied, 3);
	assert_int_equal(t.inflight, 0);
	/* The same range again: stray, counted by the return, nothing changes. */
	assert_int_equal(zerocopy_complete(&t, &zc, &b, count_done, NULL), 2);
	assert_int_equal(zc.completions, 5);
	/* Numbers never handed out are stray too. */
	b.lo = 10;
	b.hi = 11;
	assert_int_equal(zerocopy_complete(&t, &zc, &b, NULL, NULL), 2);
	/* A range longer than anything in flight is corrupt. */
	b.lo = 0;
	b.hi = ZC_TRACK + 5;
	assert_int_equal(zerocopy_complete(&t, &zc, &b, NULL, NULL), ZC_TRACK + 6);
	assert_int_equal(zc.completions, 5);
}

static void test_tracker_wraps(void **state)
{
	static struct zc_tracker t;
	struct zerocopy_counters zc = { 0 };
	struct zc_range r = { .lo = 0xfffffffeu, .hi = 1, .copied = true };

	memset(&t, 0, sizeof(t));
	t.next_seq = 0xfffffffeu;
	for (int i = 0; i < 4; i++)
		zerocopy_track_send(&t, &zc, 100, 0);
	assert_int_equal(t.next_seq, 2);
	assert_int_equal(zerocopy_range_len(&r), 4);
	assert_int_equal(zerocopy_complete(&t, &zc, &r, NULL, NULL), 0);
	assert_int_equal(zc.completions, 4);
	assert_int_equal(zc.copied, 4);
	assert_int_equal(zc.bytes_copied, 400);
	assert_int_equal(t.inflight, 0);
}

/* A real send(MSG_ZEROCOPY) on loopback: delivered to a local socket, so copied. */
/* A connected TCP pair over loopback, the sender with SO_ZEROCOPY (skip without it). */
static void loopback_pair(int *lfd, int *tx, int *rx)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int one = 1;

	*lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(*lfd >= 0);
	assert_int_equal(bind(*lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(*lfd, 1), 0);
	assert_int_equal(getsockname(*lfd, (struct sockaddr *)&a, &alen), 0);
	*tx = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(*tx, (struct sockaddr *)&a, sizeof(a)), 0);
	*rx = accept(*lfd, NULL, NULL);
	assert_true(*rx >= 0);
	if (setsockopt(*tx, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one))) {
		print_message("# skip: SO_ZEROCOPY: %s\n", strerror(errno));
		skip();
	}
}

/* n sends of a 64 KiB buffer with MSG_ZEROCOPY, tracked, each read by rx. */
static void send_tracked(int tx, int rx, struct zc_tracker *t, struct zerocopy_counters *zc, int n)
{
	static char buf[65536];

	for (int i = 0; i < n; i++) {
		assert_int_equal(send(tx, buf, sizeof(buf), MSG_ZEROCOPY), sizeof(buf));
		zerocopy_track_send(t, zc, sizeof(buf), 0);
		for (size_t got = 0; got < sizeof(buf);) {
			ssize_t r = recv(rx, buf, sizeof(buf) - got, 0);

			assert_true(r > 0);
			got += (size_t)r;
		}
	}
}

/*
 * Reads the error queue (POLLERR) until `want` completions are counted or
 * a second passes; returns the numbers the tracker ignored (not in flight).
 */
static unsigned reap_tracked(int tx, struct zc_tracker *t, struct zerocopy_counters *zc, uint64_t want)
{
	unsigned ignored = 0;

	for (int tries = 0; zc->completions < want && tries < 10; tries++) {
		char ctrl[CMSG_SPACE(sizeof(struct sock_extended_err) + sizeof(struct sockaddr_in6))];
		struct msghdr msg = { .msg_control = ctrl, .msg_controllen = sizeof(ctrl) };
		struct pollfd p = { .fd = tx, .events = 0 };
		struct zc_range r;
		int err = 0;

		poll(&p, 1, 100);
		if (recvmsg(tx, &msg, MSG_ERRQUEUE) < 0)
			continue;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
			if (zerocopy_parse_cmsg(cm, &r, &err) == ZC_RANGE)
				ignored += zerocopy_complete(t, zc, &r, NULL, NULL);
	}
	return ignored;
}

static void test_loopback_reports_copied(void **state)
{
	static struct zc_tracker t;
	struct zerocopy_counters zc = { 0 };
	int lfd, tx, rx;

	memset(&t, 0, sizeof(t));
	loopback_pair(&lfd, &tx, &rx);
	send_tracked(tx, rx, &t, &zc, 4);
	assert_int_equal(reap_tracked(tx, &t, &zc, 4), 0);
	print_message("# loopback: sends %llu completions %llu copied %llu bytes_copied %llu\n",
		      (unsigned long long)zc.sends, (unsigned long long)zc.completions,
		      (unsigned long long)zc.copied, (unsigned long long)zc.bytes_copied);
	assert_int_equal(zc.completions, 4);
	assert_int_equal(zc.copied, 4);
	assert_int_equal(zc.bytes_copied, 4 * 65536);
	close(tx);
	close(rx);
	close(lfd);
}

/*
 * A second transfer on the same socket (a kept-alive connection): the
 * kernel goes on numbering from where the first stopped, so a tracker that
 * starts again from 0 matches none of its completions, and one that starts
 * from the first's next number (xfer.zc_next_seq) matches all.
 */
static void test_second_transfer_continues_the_numbering(void **state)
{
	static struct zc_tracker first, fresh, continued;
	struct zerocopy_counters zc1 = { 0 }, zc2 = { 0 }, zc3 = { 0 };
	int lfd, tx, rx;

	memset(&first, 0, sizeof(first));
	loopback_pair(&lfd, &tx, &rx);
	send_tracked(tx, rx, &first, &zc1, 3);
	assert_int_equal(reap_tracked(tx, &first, &zc1, 3), 0);
	assert_int_equal(first.next_seq, 3);

	/* Starting again from 0: the kernel's numbers 3 and 4 are not in flight here. */
	memset(&fresh, 0, sizeof(fresh));
	send_tracked(tx, rx, &fresh, &zc2, 2);
	assert_int_equal(reap_tracked(tx, &fresh, &zc2, 2), 2);
	assert_int_equal(zc2.completions, 0);
	assert_int_equal(fresh.inflight, 2);

	memset(&continued, 0, sizeof(continued));
	continued.next_seq = 5;	/* 3 sends, then the 2 above */
	send_tracked(tx, rx, &continued, &zc3, 2);
	assert_int_equal(reap_tracked(tx, &continued, &zc3, 2), 0);
	assert_int_equal(zc3.completions, 2);
	assert_int_equal(continued.inflight, 0);
	close(tx);
	close(rx);
	close(lfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ipv4_copied),
		cmocka_unit_test(test_parse_ipv6_not_copied),
		cmocka_unit_test(test_parse_other_messages),
		cmocka_unit_test(test_tracker_merged_ranges),
		cmocka_unit_test(test_tracker_wraps),
		cmocka_unit_test(test_loopback_reports_copied),
		cmocka_unit_test(test_second_transfer_continues_the_numbering),
	};

	return cmocka_run_group_tests_name("zerocopy", tests, NULL, NULL);
}
