/* SPDX-License-Identifier: MIT */
/*
 * The few helpers every layer of the harness uses: an errno's name, the
 * monotonic clock, a write that finishes and where a system tool is.  Kept here, below everything,
 * so that no layer includes another only to reach one of them.
 */
#ifndef COPYLAB_BASE_H
#define COPYLAB_BASE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Set by a command's SIGINT/SIGTERM handler: a running repetition, a far
 * role's wait and a write_all given it end cleanly at the next check.
 */
extern volatile sig_atomic_t run_interrupted;

/* Figures "per GiB" divide by 2^30 bytes of payload. */
#define GIB 1073741824.0

/* "EPIPE" for EPIPE; the number as text when it has no name. */
const char *errno_name(int err);

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t now_ns(void);
/* Seconds from a now_ns() reading to now. */
double secs_since(int64_t t0_ns);

/*
 * Writes all of buf, retrying EINTR and short writes.  0, or -errno; a set
 * *stop (a signal handler's flag; NULL for none) ends it with -EINTR.
 * Callers on sockets ignore SIGPIPE, as every copylab process that writes
 * to a peer does.
 */
int write_all(int fd, const void *buf, size_t len, volatile sig_atomic_t *stop);

/* Fills err with the message (printf-style) and returns -1: a reader's or parser's refusal. */
int errorf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * The absolute path of a system tool copylab runs (ip, tc, nft, perf),
 * found once in the system's directories (/usr/sbin, /usr/bin, /sbin,
 * /bin) and never through the caller's PATH: copylab runs as root, and a
 * PATH from a user's shell must not choose what root executes.  NULL
 * when the tool is not installed.
 */
const char *system_tool(const char *name);

#endif
