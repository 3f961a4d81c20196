/* SPDX-License-Identifier: MIT */
/* A growing string for the files of a run directory (strbuf.h). */
#include "strbuf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void sb_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (sb->err)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		sb->err = -EINVAL;
		return;
	}
	if (sb->len + (size_t)n + 1 > sb->cap) {
		size_t cap = sb->cap ? sb->cap : 4096;
		char *p;

		while (sb->len + (size_t)n + 1 > cap)
			cap *= 2;
		p = realloc(sb->p, cap);
		if (!p) {
			sb->err = -ENOMEM;
			return;
		}
		sb->p = p;
		sb->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(sb->p + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}
