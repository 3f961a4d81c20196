/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the command line's value parsers (harness/model/options.c)
 * on arbitrary strings.  The input is split at the first NUL-free byte
 * boundaries: byte 0 picks the bounds, the rest is the text.  Checks the
 * promises of options.h, not only the absence of crashes: a parsed size
 * is within max, a parsed count within [min, max], seconds in (0, 86400],
 * and every error message is a NUL-terminated, non-empty sentence.
 */
#include "harness/model/options.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const uint64_t size_max[] = { 0, 1, 4096, 1ull << 31, 1ull << 40, UINT64_MAX };
static const long count_min[] = { 0, 1, -5, 0 };
static const long count_max[] = { 0, 1000000, 5, 0x7fffffffffffffffL };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, err[512];
	uint64_t v;
	long n;
	double secs;
	struct strategy_spec spec;
	unsigned sel = size ? data[0] : 0;

	if (size == 0)
		return 0;
	/* The CLI hands these parsers C strings: stop at the first NUL. */
	s = malloc(size);
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';

	uint64_t max = size_max[sel % (sizeof(size_max) / sizeof(size_max[0]))];
	err[0] = '\0';
	if (parse_size("--size", s, max, &v, err, sizeof(err)) == 0) {
		if (v > max)
			abort();
	} else if (!err[0] || !memchr(err, '\0', sizeof(err))) {
		abort();
	}

	long lo = count_min[(sel >> 3) % 4], hi = count_max[(sel >> 5) % 4];
	err[0] = '\0';
	if (parse_count("--reps", s, lo, hi, &n, err, sizeof(err)) == 0) {
		if (n < lo || n > hi)
			abort();
	} else if (!err[0]) {
		abort();
	}

	err[0] = '\0';
	if (parse_seconds("--timeout", s, &secs, err, sizeof(err)) == 0) {
		if (!isfinite(secs) || secs <= 0 || secs > 86400)
			abort();
	} else if (!err[0]) {
		abort();
	}

	err[0] = '\0';
	if (parse_strategy_spec(s, &spec, err, sizeof(err)) == 0) {
		if (!spec.s || !memchr(spec.label, '\0', sizeof(spec.label)))
			abort();
	} else if (!err[0]) {
		abort();
	}
	/* A small error buffer must truncate, never overflow. */
	parse_strategy_spec(s, &spec, err, 8);
	parse_size("--block", s, max, &v, err, 8);

	free(s);
	return 0;
}
