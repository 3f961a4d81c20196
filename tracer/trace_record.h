/* SPDX-License-Identifier: MIT */
/*
 * The tracer's record of one process (trace_record.c), written without
 * malloc or stdio: a record is also made in _exit, which signal handlers
 * call, and in the child of a fork.
 */
#ifndef COPYLAB_TRACE_RECORD_H
#define COPYLAB_TRACE_RECORD_H

#include "copytrace.h"

#include <stdbool.h>

/*
 * Appends s as one JSON line to path with one write(2), so lines from
 * processes never mix.  One static buffer: the caller keeps a second
 * reporter out.  False when the line did not fit or was not written whole.
 * Hidden: a preloaded library's names would otherwise stand in for the
 * program's own.
 */
bool trace_record_append(const char *path, const struct copytrace_ledger *s, const char *event)
	__attribute__((visibility("hidden")));

#endif
