/* SPDX-License-Identifier: MIT */
/* errno names, the monotonic clock, and a write that finishes (base.h). */
#include "base.h"

#include <errno.h>
#include <stdarg.h>
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

const char *system_tool(const char *name)
{
	static const char *const dirs[] = { "/usr/sbin", "/usr/bin", "/sbin", "/bin" };
	static struct {
		char name[16];
		char path[64];	/* "" when not found */
	} found[16];
	static int nfound;
	char path[64];

	if (strchr(name, '/') || strlen(name) >= sizeof(found[0].name))
		return NULL;
	for (int i = 0; i < nfound; i++)
		if (!strcmp(found[i].name, name))
			return found[i].path[0] ? found[i].path : NULL;
	path[0] = '\0';
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dirs[i], name);
		if (access(path, X_OK) == 0)
			break;
		path[0] = '\0';
	}
	if (nfound < (int)(sizeof(found) / sizeof(found[0]))) {
		snprintf(found[nfound].name, sizeof(found[nfound].name), "%s", name);
		snprintf(found[nfound].path, sizeof(found[nfound].path), "%s", path);
		nfound++;
		return found[nfound - 1].path[0] ? found[nfound - 1].path : NULL;
	}
	/* More tools than the cache holds: the last answer, kept per call. */
	static char spare[64];

	snprintf(spare, sizeof(spare), "%s", path);
	return spare[0] ? spare : NULL;
}

int errorf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}
