/* SPDX-License-Identifier: MIT */
/*
 * A growing string: the files of a run directory, the report and the
 * chart scripts are built in one before they are written.  Appends never
 * fail, they set oom instead, so a writer checks once at the end.
 */
#ifndef COPYLAB_SBUF_H
#define COPYLAB_SBUF_H

#include <stdbool.h>
#include <stddef.h>

struct sbuf {
	char *p;		/* NUL-terminated, or NULL while empty */
	size_t len, cap;
	bool oom;
};

void sb_addn(struct sbuf *b, const char *s, size_t n);
void sb_add(struct sbuf *b, const char *s);
void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* 0, or -ENOMEM once an append failed. */
int sb_error(const struct sbuf *b);
/* Text for HTML: &, <, >, " escaped. */
void sb_html(struct sbuf *b, const char *s);
/* d[0..n) in base64, for a data: URL. */
void sb_base64(struct sbuf *b, const unsigned char *d, size_t n);

#endif
