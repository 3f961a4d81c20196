/* SPDX-License-Identifier: MIT */
/* What the subcommands share: the form of a usage error. */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>

char **copylab_argv;

int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("copylab: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_USAGE;
}
