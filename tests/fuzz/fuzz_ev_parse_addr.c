/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: ev_parse_addr (harness/tools/evloop.c), the parser of
 * `copylab serve` and `copylab relay`'s --listen and --to, on arbitrary
 * strings.  Checks evloop.h's promise, not only the absence of crashes:
 * 0 fills an IPv4 or IPv6 address of its own length; -1 leaves an error
 * message that is a NUL-terminated sentence naming what a right value
 * looks like.  Numeric hosts and ports only (AI_NUMERICHOST), so no name
 * is ever looked up.
 */
#include "harness/tools/evloop.h"

#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	char err[512];
	/* A NUL-terminated copy of exactly the input: ASan sees any read past it. */
	char *s = malloc(size + 1);

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	memset(err, 'x', sizeof(err));
	memset(&ss, 0, sizeof(ss));
	if (ev_parse_addr(s, &ss, &len, err, sizeof(err)) == 0) {
		if (!strchr(s, ':'))
			abort();	/* no port was given, yet it parsed */
		if (!(ss.ss_family == AF_INET && len == sizeof(struct sockaddr_in)) &&
		    !(ss.ss_family == AF_INET6 && len == sizeof(struct sockaddr_in6)))
			abort();
	} else {
		if (!memchr(err, '\0', sizeof(err)) || !err[0] || !strstr(err, "ADDR:PORT"))
			abort();
	}
	free(s);
	return 0;
}
