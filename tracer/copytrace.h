/* SPDX-License-Identifier: MIT */
/*
 * What libcopytrace.so writes and `copylab trace` reads: one JSON object a
 * line per process, appended to the file named by $COPYTRACE_OUT.  Both
 * sides take the family and fd-kind names from here.  docs/tracer.md
 * describes the record.
 */
#ifndef COPYLAB_COPYTRACE_H
#define COPYLAB_COPYTRACE_H

#include <stdint.h>

#define COPYTRACE_ENV_OUT "COPYTRACE_OUT"
#define COPYTRACE_RECORD_VERSION 1

/* Families of calls, as the BPF ledger groups syscalls (vmsplice apart). */
enum copytrace_family {
	CT_READ,	/* bytes_to_user: read, readv, pread, preadv(2), recv, recvfrom, recvmsg, recvmmsg */
	CT_WRITE,	/* bytes_from_user: write, writev, pwrite, pwritev(2), send, sendto, sendmsg, sendmmsg */
	CT_SPLICE,	/* bytes_in_kernel: splice, tee, sendfile, copy_file_range */
	CT_FAMILIES
};

/* What an fd is, from fstat: S_ISREG, S_ISSOCK, S_ISFIFO, anything else. */
enum copytrace_kind {
	CT_FILE,
	CT_SOCKET,
	CT_PIPE,
	CT_OTHER,	/* character devices (/dev/null, ttys), eventfd, directories, bad fds */
	CT_KINDS
};

/*
 * One process's counters, as its record carries them (docs/tracer.md): the
 * tracer keeps them as _Atomic uint64_t, `copylab trace` reads them back
 * into uint64_t.  Only counters of type T, so either can be walked as an
 * array of words.
 */
#define COPYTRACE_LEDGER_FIELDS(T)						\
	T calls[CT_FAMILIES][CT_KINDS];						\
	T bytes[CT_FAMILIES][CT_KINDS];						\
	/* The splice family by (source kind, destination kind). */		\
	T route_calls[CT_KINDS][CT_KINDS];					\
	T route_bytes[CT_KINDS][CT_KINDS];					\
	T vms_calls, vms_bytes;			/* all vmsplice calls */	\
	T vms_read_calls, vms_read_bytes;	/* those on a pipe's read end */ \
	T mmap_calls, mmap_bytes;		/* successful maps of regular files */

struct copytrace_ledger {
	COPYTRACE_LEDGER_FIELDS(uint64_t)
};

/*
 * A program the library is preloaded into can read its own totals so far:
 * dlsym(RTLD_DEFAULT, COPYTRACE_TOTALS_SYMBOL) finds copytrace_totals only
 * when the library is there.  copylab's roles take it at the edges of their
 * measured window when the BPF ledger cannot load (and beside it, to
 * cross-check the two).  Counting is on only while $COPYTRACE_OUT is set.
 */
struct copytrace_totals {
	uint64_t calls[CT_FAMILIES];
	uint64_t bytes[CT_FAMILIES];	/* to user, from user, in kernel */
	uint64_t vmsplice_calls, vmsplice_bytes;
};
#define COPYTRACE_TOTALS_SYMBOL "copytrace_totals"
typedef int (*copytrace_totals_fn)(struct copytrace_totals *out);

static const char *const copytrace_family_names[CT_FAMILIES] = { "read", "write", "splice" };
static const char *const copytrace_kind_names[CT_KINDS] = { "file", "socket", "pipe", "other" };

#endif
