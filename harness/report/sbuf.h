/* SPDX-License-Identifier: MIT */
/*
 * A growing string for the report and the chart scripts: appends never
 * fail, they set oom instead, so a writer checks once at the end.
 */
#ifndef COPYLAB_REPORT_SBUF_H
#define COPYLAB_REPORT_SBUF_H

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
/* Text for HTML: &, <, >, " escaped. */
void sb_html(struct sbuf *b, const char *s);
/* d[0..n) in base64, for a data: URL. */
void sb_base64(struct sbuf *b, const unsigned char *d, size_t n);

#endif
