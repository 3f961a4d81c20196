/* SPDX-License-Identifier: MIT */
/*
 * HTTP/1.1 request parsing for `copylab serve`: a pure function over a
 * buffer (no I/O, no allocation), so it can be unit-tested and fuzzed.
 * Only what a static file server needs: the request line, the headers that
 * change its answer (Host, Connection, Range, Content-Length,
 * Transfer-Encoding), and the target percent-decoded once.
 */
#ifndef COPYLAB_HTTP_H
#define COPYLAB_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Request head limit: a head that does not end within it is a 431. */
#define HTTP_MAX_HEAD 8192
#define HTTP_MAX_PATH 4096

enum http_method {
	HTTP_GET,
	HTTP_HEAD,
	HTTP_OTHER,	/* a well-formed token we do not serve: 405 */
};

enum http_range_kind {
	HTTP_RANGE_NONE,	/* no Range, or one we ignore (serve the whole file) */
	HTTP_RANGE_FROM,	/* bytes=a-b or bytes=a- (last = UINT64_MAX) */
	HTTP_RANGE_SUFFIX,	/* bytes=-n: the last n bytes */
};

struct http_request {
	enum http_method method;
	char method_name[16];		/* as sent (truncated), for the log */
	char path[HTTP_MAX_PATH];	/* percent-decoded once, no query, starts with '/' */
	int version_minor;		/* HTTP/1.x */
	bool keep_alive;		/* the client wants the connection kept */
	bool has_body;			/* Content-Length > 0 or Transfer-Encoding */
	bool has_host;
	enum http_range_kind range;
	uint64_t range_first, range_last;	/* FROM: first..last; SUFFIX: range_last = n */
	size_t head_len;		/* bytes of the head, up to and including the empty line */
};

/*
 * Parses the request head at the start of buf[0..len).
 *   > 0   a complete head of that many bytes; *out filled
 *   0     incomplete: read more (len is still below HTTP_MAX_HEAD)
 *   < 0   the negated status to answer with, then close:
 *         -400 malformed (bad request line, header syntax, bad or NUL
 *              percent-encoding, a relative target, obs-fold, a bad or
 *              conflicting Content-Length, HTTP/1.1 without Host)
 *         -431 no end of head within HTTP_MAX_HEAD bytes
 *         -505 an HTTP version other than 1.0 and 1.1
 * A method other than GET and HEAD parses (method = HTTP_OTHER): the
 * server answers 405.  A Range the server does not handle (not "bytes",
 * several ranges, bad syntax) is ignored, as RFC 9110 allows.
 */
int http_parse_request(const char *buf, size_t len, struct http_request *out);

/*
 * The byte range a request asks of a file of `size` bytes.
 *   1  a satisfiable range: *first, *count set (answer 206)
 *   0  no range: the whole file (answer 200)
 *  -1  not satisfiable (answer 416 with "Content-Range: bytes *\/size")
 */
int http_resolve_range(const struct http_request *req, uint64_t size,
		       uint64_t *first, uint64_t *count);

/* The reason phrase of a status code ("Not Found"), "Unknown" if none. */
const char *http_reason(int status);

/* True when a decoded path has a ".." segment (a try to climb out of the root). */
bool http_path_climbs(const char *path);

#endif
