/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: remote_split_hostport (harness/engine/remote.c), which
 * splits `copylab daemon --listen` and --peer's HOST:PORT, on arbitrary
 * strings and buffer sizes.  Byte 0 picks the sizes of host and port
 * (the callers' 256 and 16 among them, and tiny ones to reach the
 * truncation checks); the rest is the text.  Checks remote_wire.h's
 * promise: on 0, host and port are NUL-terminated within their buffers,
 * the port is decimal digits from 1 to 65535, and an unbracketed host
 * holds no ':'; the buffers' bytes past their size are never written.
 */
#include "harness/engine/remote_wire.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const size_t host_sizes[] = { 256, 1, 2, 8, 40, 64, 255, 300 };
static const size_t port_sizes[] = { 16, 1, 2, 3, 5, 6, 8, 32 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t hlen = host_sizes[size ? data[0] & 7 : 0];
	size_t plen = port_sizes[size ? (data[0] >> 3) & 7 : 0];
	char host[320], port[48], *s;
	int r;
	long p;

	if (size)
		data++, size--;
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	memset(host, 'h', sizeof(host));
	memset(port, 'p', sizeof(port));
	r = remote_split_hostport(s, host, hlen, port, plen);
	/* Past the sizes given, nothing is touched. */
	for (size_t i = hlen; i < sizeof(host); i++)
		if (host[i] != 'h')
			abort();
	for (size_t i = plen; i < sizeof(port); i++)
		if (port[i] != 'p')
			abort();
	if (r == 0) {
		if (!memchr(host, '\0', hlen) || !memchr(port, '\0', plen) || !port[0])
			abort();
		if (strspn(port, "0123456789") != strlen(port))
			abort();
		p = strtol(port, NULL, 10);
		if (p < 1 || p > 65535)
			abort();
		if (s[0] != '[' && strchr(host, ':'))
			abort();
	} else if (r != -EINVAL) {
		abort();
	}
	free(s);
	return 0;
}
