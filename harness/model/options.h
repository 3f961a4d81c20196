/* SPDX-License-Identifier: MIT */
/*
 * Parsing of the command line's values: sizes with K/M/G suffixes,
 * counts, seconds, and strategy labels with options ("vmsplice:gift").
 * Each parser fills err with a sentence naming what was wrong and what
 * would be right.
 */
#ifndef COPYLAB_OPTIONS_H
#define COPYLAB_OPTIONS_H

#include "spec.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "64M" -> 67108864.  Powers of 1024; whole numbers only. */
int parse_size(const char *opt, const char *s, uint64_t max, uint64_t *out, char *err, size_t errlen);
int parse_count(const char *opt, const char *s, long min, long max, long *out, char *err, size_t errlen);
int parse_seconds(const char *opt, const char *s, double *out, char *err, size_t errlen);
/*
 * A duration: a decimal number and a unit, ms, s or m (a bare number is
 * seconds): "500ms", "10s", "2m".  Into *out in seconds, from min_s to
 * max_s, the bounds said in the sentence when it is out of them.
 */
int parse_duration(const char *opt, const char *s, double min_s, double max_s, double *out,
		   char *err, size_t errlen);
/* One label: "splice:more:pipe=1M".  Strategy must exist and honour each option. */
int parse_strategy_spec(const char *label, struct strategy_spec *spec, char *err, size_t errlen);
/* A label option that may not run everywhere (trunc, busy): where not, and why. */
struct label_limit {
	const char *name;
	uint32_t bit;			/* enum tunable_bit */
	uint32_t only_in;		/* 1u << scenario for each it runs in; 0: any */
	const char *elsewhere_why;	/* why not in the others (with only_in) */
	const char *not_unix;		/* why not over AF_UNIX, or NULL */
};
/* The i-th such option (from 0); false past the last.  `copylab list` shows them. */
bool label_option_limit(size_t i, struct label_limit *out);
/*
 * The label's options against where it would run: NULL, or the sentence
 * why one of them cannot (trunc outside recv, busy outside echo and pipe,
 * or trunc over AF_UNIX).
 */
const char *spec_option_refusal(const struct strategy_spec *spec, enum scenario sc, bool af_unix);
/* "readwrite, mmap_write, ..." */
const char *strategy_names(char *buf, size_t len);
/*
 * MemAvailable of /proc/meminfo's text ("MemAvailable:  24317480 kB"), in
 * bytes.  0; -ENOENT when the line is absent (kernels before 3.14);
 * -EINVAL when it is not a number of kB.
 */
int parse_meminfo_available(const char *text, uint64_t *bytes);
/* "64 MiB", "1.0 GiB", "4097 B" */
const char *human_bytes(uint64_t n, char *buf, size_t len);

#endif
