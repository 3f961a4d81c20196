/* SPDX-License-Identifier: MIT */
/* errno names, the monotonic clock, and a write that finishes (base.h). */
#include "base.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

volatile sig_atomic_t run_interrupted;

const char *errno_name(int err)
{
	static char buf[16];
	const char *n = strerrorname_np(err);

	if (n)
		return n;
	snprintf(buf, sizeof(buf), "%d", err);
	return buf;
}

int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

double secs_since(int64_t t0_ns)
{
	return (now_ns() - t0_ns) / 1e9;
}

int write_all(int fd, const void *buf, size_t len, volatile sig_atomic_t *stop)
{
	const char *p = buf;

	while (len > 0) {
		/* One call writes at most about 2 GiB; ask for less and loop. */
		ssize_t n = write(fd, p, len > (1u << 30) ? (1u << 30) : len);

		if (stop && *stop)
			return -EINTR;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
