/* SPDX-License-Identifier: MIT */
/*
 * Transport userstack: copylab runs its own `copylab stackd` (lwIP over a
 * TAP in a namespace of its own) for the invocation, and makes each pair
 * with one end in lwIP and the other in the kernel's stack on the TAP's
 * far side.  The lwIP end is the shim's kind of socket (an AF_UNIX fd whose
 * other end stackd holds; the ipc data path), made by the same control
 * requests libcopylab-stack.so sends, so every strategy runs on it
 * unchanged and no LD_PRELOAD is needed in copylab's roles.
 */
#ifndef COPYLAB_USERSTACK_LINK_H
#define COPYLAB_USERSTACK_LINK_H

#include "harness/results/record.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Starts stackd (once per invocation; stopped at exit).  0 or -errno with err. */
int userstack_start(char *err, size_t errlen);
void userstack_stop(void);
bool userstack_active(void);
/* stackd's namespace ("copylab-<pid>-r<pid>"), NULL when not started. */
const char *userstack_netns(void);

/*
 * A connected pair: the end in lwIP is *up when lwip_up (lwIP connects to
 * a kernel listener), else *down (lwIP listens, the kernel connects).
 */
struct sockopts;
int userstack_pair(const struct sockopts *o, bool lwip_up, int *up, int *down, char *err, size_t errlen);

/* stackd's CPU and read/write-family syscalls and bytes (/proc/PID/stat, /proc/PID/io). */
struct userstack_sample {
	double user_s, sys_s;
	uint64_t syscr, syscw, rchar, wchar;
	long vcsw, ivcsw, minflt;
};
int userstack_sample(struct userstack_sample *s);
/* The role "stack" of a record: the difference of two samples. */
void userstack_role(const struct userstack_sample *a, const struct userstack_sample *b,
		    struct role_result *r);

#endif
