/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: env.json's parsers of sysctl, sysfs and command-line
 * text (harness/measure/envfacts.c) on arbitrary strings.  Byte 0 picks
 * the parser (low 3 bits) and the output buffer's size (the rest: tiny
 * ones reach the truncation checks); the rest is the text.  Checks
 * envfacts.h's promises: parsed integers are >= 0; on success a CPU list
 * is "none" or digits, commas and dashes, NUL-terminated within its
 * buffer; bytes past the size given are never written.
 */
#include "harness/measure/envfacts.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const size_t out_sizes[] = { 64, 1, 2, 4, 5, 8, 16, 256, 512, 3, 6, 7, 12, 24, 32, 128,
				    33, 40, 48, 100, 200, 300, 400, 1000, 9, 10, 11, 13, 14, 15, 17, 2048 };

static void check_list(const char *out, size_t len)
{
	size_t n = strnlen(out, len);

	if (n == len)
		abort();	/* not terminated within its buffer */
	if (strcmp(out, "none") && strspn(out, "0123456789,-") != n)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned pick = size ? data[0] & 7 : 0;
	size_t len = out_sizes[size ? data[0] >> 3 : 0];
	char out[2048 + 16], *s;
	long long v[3];
	unsigned irq;

	if (size)
		data++, size--;
	if (!(s = malloc(size + 1)))
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	memset(out, 'x', sizeof(out));
	switch (pick) {
	case 0:
		if (envf_parse_triple(s, v) == 0 && (v[0] < 0 || v[1] < 0 || v[2] < 0))
			abort();
		break;
	case 1:
		if (envf_parse_integer(s, v) == 0 && v[0] < 0)
			abort();
		(void)envf_parse_flag(s);
		break;
	case 2:
		if (envf_cmdline_mitigations(s, out, len) && strnlen(out, len) == len)
			abort();
		break;
	case 3:
		if (envf_mask_cpus(s, out, len) == 0)
			check_list(out, len);
		break;
	case 4:
		(void)envf_irq_name(s, &irq);
		break;
	default:
		(void)envf_vuln_state(s);
		break;
	}
	/* Nothing past the size given is touched. */
	for (size_t i = len; i < sizeof(out); i++)
		if (out[i] != 'x')
			abort();
	free(s);
	return 0;
}
