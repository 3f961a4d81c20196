/* SPDX-License-Identifier: MIT */
/*
 * A growing string: the text of results.jsonl, summary.csv and env.json is
 * built in one before it is written atomically.
 */
#ifndef COPYLAB_STRBUF_H
#define COPYLAB_STRBUF_H

#include <stddef.h>

/* The first allocation failure sticks (err), like ferror(3); {0} is empty. */
struct strbuf {
	char *p;
	size_t len, cap;
	int err;
};

/* Appends; after a failure, nothing. */
void sb_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
