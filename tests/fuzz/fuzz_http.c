/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: http_parse_request (harness/tools/http.c), the request-head
 * parser of `copylab serve`, on arbitrary bytes, then what the server does
 * with a parsed head: the range resolved against a few file sizes and the
 * climb check.  Checks http.h's promises: a complete head is no longer
 * than the input nor HTTP_MAX_HEAD, the status is one of those listed, the
 * path starts with '/' and holds no control character, a range resolves
 * inside the file.
 */
#include "harness/tools/http.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const uint64_t file_sizes[] = { 0, 1, 4095, 4096, 65537, UINT64_MAX / 2, UINT64_MAX };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_request req;
	/* A copy of exactly `size` bytes: ASan sees any read past the end. */
	char *buf = malloc(size ? size : 1);
	int r;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	r = http_parse_request(buf, size, &req);
	if (r > 0) {
		if ((size_t)r > size || (size_t)r > HTTP_MAX_HEAD || (size_t)r != req.head_len)
			abort();
		if (req.path[0] != '/' || !memchr(req.path, '\0', sizeof(req.path)))
			abort();
		for (const char *p = req.path; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				abort();
		if (!memchr(req.method_name, '\0', sizeof(req.method_name)))
			abort();
		(void)http_path_climbs(req.path);
		for (size_t i = 0; i < sizeof(file_sizes) / sizeof(file_sizes[0]); i++) {
			uint64_t first = 0, count = 0, fsz = file_sizes[i];
			int k = http_resolve_range(&req, fsz, &first, &count);

			if (k == 1 && (count == 0 || first >= fsz || count > fsz - first))
				abort();
		}
	} else if (r < 0) {
		if (r != -400 && r != -414 && r != -431 && r != -505)
			abort();
		(void)http_reason(-r);
	} else if (size >= HTTP_MAX_HEAD) {
		abort();	/* "incomplete" only below the head limit */
	}
	free(buf);
	return 0;
}
