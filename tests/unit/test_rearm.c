/* SPDX-License-Identifier: MIT */
/*
 * A strategy's rearm (strategy.h): copylab serve sends one response after
 * another on a kept-alive connection with one strategy state.  Every
 * strategy that has a rearm serves three file ranges in turn on one TCP
 * connection, the third with a larger block than it was set up for (a
 * fresh setup then), and the client gets exactly the three ranges.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "strategies/drive.h"

#define FILE_LEN (300 * 1024)

struct range {
	uint64_t off, len;
	size_t block;
};

/* The third asks for more than the first set up: the rearm must refuse and a new setup serve it. */
static const struct range ranges[] = {
	{ 0, 100000, 16384 }, { 12345, 70001, 16384 }, { 4096, 200000, 65536 },
};
#define NRANGES (sizeof(ranges) / sizeof(ranges[0]))

static unsigned char content[FILE_LEN];

struct reader {
	int fd;
	unsigned char *got;
	uint64_t want;
};

static void *read_all(void *arg)
{
	struct reader *r = arg;
	uint64_t n = 0;

	while (n < r->want) {
		ssize_t k = read(r->fd, r->got + n, r->want - n);

		if (k <= 0)
			break;
		n += (uint64_t)k;
	}
	r->want = n;
	return NULL;
}

static void tcp_pair(int sv[2])
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(l >= 0);
	assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(l, 1), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&a, &len), 0);
	sv[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(sv[0], (struct sockaddr *)&a, sizeof(a)), 0);
	sv[1] = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	assert_true(sv[1] >= 0);
	close(l);
}

static int file_with_content(void)
{
	char path[] = "/tmp/copylab-rearm-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, content, sizeof(content)), sizeof(content));
	/* as copylab serve opens it: at the start */
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static void serve_ranges(const struct strategy *s)
{
	uint64_t total = 0, at = 0;
	struct reader rd;
	struct xfer x;
	pthread_t t;
	int sv[2], file = file_with_content();
	struct tunables tun = { 0 };

	for (size_t i = 0; i < NRANGES; i++)
		total += ranges[i].len;
	tcp_pair(sv);
	rd = (struct reader){ .fd = sv[0], .got = malloc(total), .want = total };
	assert_non_null(rd.got);
	assert_int_equal(pthread_create(&t, NULL, read_all, &rd), 0);
	xfer_init(&x, SC_SERVE, EP_FILE, EP_SOCKET, ranges[0].block, &tun);
	x.out_fd = sv[1];
	for (size_t i = 0; i < NRANGES; i++) {
		x.in_fd = file;
		x.in_offset = ranges[i].off;
		x.total = ranges[i].len;
		x.block = ranges[i].block;
		if (xfer_next(s, &x) != 0)
			fail_msg("%s: range %zu: setup or rearm failed in %s", s->name, i,
				 x.failed_call ? x.failed_call : "?");
		if (xfer_drive(s, &x, NULL) != 0)
			fail_msg("%s: range %zu: %s failed", s->name, i, x.failed_call ? x.failed_call : "?");
		assert_int_equal(x.moved, ranges[i].len);
	}
	xfer_end(s, &x);
	shutdown(sv[1], SHUT_WR);
	pthread_join(t, NULL);
	assert_int_equal(rd.want, total);
	for (size_t i = 0; i < NRANGES; i++) {
		if (memcmp(rd.got + at, content + ranges[i].off, ranges[i].len) != 0)
			fail_msg("%s: range %zu arrived damaged", s->name, i);
		at += ranges[i].len;
	}
	free(rd.got);
	close(sv[0]);
	close(sv[1]);
	close(file);
}

static void every_rearm_serves_ranges_in_turn(void **state)
{
	int tested = 0;

	for (size_t i = 0; i < strategy_count; i++) {
		const struct strategy *s = strategy_table[i];

		if (!s->rearm || !strategy_supports(s, SC_SERVE))
			continue;
		print_message("# %s\n", s->name);
		serve_ranges(s);
		tested++;
	}
	/* readwrite has one everywhere; the io_uring ones where liburing is built */
	assert_true(tested >= 2);
}

/* Without a rearm, xfer_next ends the transfer and begins another: sendfile the same way. */
static void without_a_rearm_the_transfer_begins_again(void **state)
{
	serve_ranges(strategy_find("sendfile"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_rearm_serves_ranges_in_turn),
		cmocka_unit_test(without_a_rearm_the_transfer_begins_again),
	};

	for (size_t i = 0; i < sizeof(content); i++)
		content[i] = (unsigned char)(i * 2654435761u >> 13);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
