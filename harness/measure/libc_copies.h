/* SPDX-License-Identifier: MIT */
/*
 * Where libc's memcpy, memmove and mempcpy live in this process: the
 * functions the dynamic linker chose for this CPU (glibc resolves them at
 * run time), bounded by the sizes in libc's debug symbols.  Role processes
 * are forked from this one, so the addresses hold there too.
 */
#ifndef COPYLAB_LIBC_COPIES_H
#define COPYLAB_LIBC_COPIES_H

#include <stddef.h>
#include <stdint.h>

#define LIBC_COPY_MAX 8

struct libc_copy_range {
	uint64_t lo, hi;	/* [lo, hi) in this process */
	char name[48];		/* the chosen function: "__memmove_avx_unaligned_erms" */
};

/*
 * Fills up to LIBC_COPY_MAX ranges (duplicates folded: memcpy and memmove
 * are often one function).  The count, or -1 with why (no debug symbols
 * for libc: Debian's libc6-dbg).
 */
int libc_copy_ranges(struct libc_copy_range *out, char *why, size_t whylen);

#endif
