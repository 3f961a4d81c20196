/* SPDX-License-Identifier: MIT */
/*
 * HTTP/1.1 request-head parsing for `copylab serve` (see http.h): strict
 * where a mistake could mislead the server (framing, the target), lenient
 * where RFC 9112 allows it (bare LF line ends, leading empty lines, a Range
 * it does not handle is ignored).
 */
#include "http.h"

#include <string.h>
#include <strings.h>

/* tchar of RFC 9110: the characters of a method or a header name. */
static bool is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Case-insensitive compare of buf[0..len) with a NUL-terminated word. */
static bool span_is(const char *buf, size_t len, const char *word)
{
	return strlen(word) == len && strncasecmp(buf, word, len) == 0;
}

/*
 * The end of the line starting at p (the '\n'), or NULL if the buffer ends
 * first.  *content_len excludes the line end ("\r\n" or "\n").
 */
static const char *line_end(const char *p, const char *end, size_t *content_len)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	if (!nl)
		return NULL;
	*content_len = (size_t)(nl - p) - (nl > p && nl[-1] == '\r');
	return nl;
}

/* Decimal digits only, no sign, no overflow.  false if not a number. */
static bool parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return true;
}

/*
 * The target into out->path: origin-form ("/a/b?q") or absolute-form
 * ("http://host/a/b"), query and fragment dropped, percent-decoded once.
 * Returns 0 or a negated status.
 */
static int parse_target(const char *t, size_t len, struct http_request *out)
{
	size_t o = 0, i = 0;

	if (len >= 7 && strncasecmp(t, "http://", 7) == 0)
		i = 7;
	else if (len >= 8 && strncasecmp(t, "https://", 8) == 0)
		i = 8;
	if (i) {
		/* absolute-form: the authority replaces Host (RFC 9112 3.2.2) */
		while (i < len && t[i] != '/' && t[i] != '?' && t[i] != '#')
			i++;
		out->has_host = true;
		if (i == len || t[i] != '/')
			out->path[o++] = '/';
	} else if (len == 0 || t[0] != '/') {
		return -400;	/* "*" and relative targets name no file */
	}
	for (; i < len && t[i] != '?' && t[i] != '#'; i++) {
		unsigned char c = (unsigned char)t[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= len)
				return -400;
			hi = hex_value((unsigned char)t[i + 1]);
			lo = hex_value((unsigned char)t[i + 2]);
			if (hi < 0 || lo < 0)
				return -400;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
			/* %00 would cut the name short in every C call: refused. */
			if (c == 0)
				return -400;
		}
		/* Control characters have no place in a file name we serve (or a log line). */
		if (c < 0x20 || c == 0x7f)
			return -400;
		if (o + 1 >= sizeof(out->path))
			return -414;
		out->path[o++] = (char)c;
	}
	out->path[o] = '\0';
	return 0;
}

/* "bytes=a-b", "bytes=a-", "bytes=-n"; anything else leaves the range unset. */
static void parse_range(const char *v, size_t len, struct http_request *out)
{
	const char *dash;
	uint64_t a, b;

	out->range = HTTP_RANGE_NONE;
	if (len < 6 || strncasecmp(v, "bytes=", 6) != 0)
		return;
	v += 6;
	len -= 6;
	/* Optional whitespace around the one range-spec; several ranges are ignored. */
	while (len && (*v == ' ' || *v == '\t'))
		v++, len--;
	while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	if (memchr(v, ',', len))
		return;
	dash = memchr(v, '-', len);
	if (!dash)
		return;
	if (dash == v) {
		if (!parse_u64(v + 1, len - 1, &b))
			return;
		out->range = HTTP_RANGE_SUFFIX;
		out->range_first = 0;
		out->range_last = b;
		return;
	}
	if (!parse_u64(v, (size_t)(dash - v), &a))
		return;
	if ((size_t)(dash - v) + 1 == len) {
		b = UINT64_MAX;
	} else if (!parse_u64(dash + 1, len - (size_t)(dash - v) - 1, &b) || b < a) {
		return;
	}
	out->range = HTTP_RANGE_FROM;
	out->range_first = a;
	out->range_last = b;
}

/* The tokens of a Connection header: "close", "keep-alive", others ignored. */
static void parse_connection(const char *v, size_t len, bool *close, bool *keep)
{
	size_t i = 0;

	while (i < len) {
		size_t start, end;

		while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		start = i;
		while (i < len && v[i] != ',')
			i++;
		end = i;
		while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
			end--;
		if (span_is(v + start, end - start, "close"))
			*close = true;
		else if (span_is(v + start, end - start, "keep-alive"))
			*keep = true;
	}
}

/* The request line.  Returns 0 or a negated status. */
static int parse_request_line(const char *p, size_t len, struct http_request *out)
{
	const char *sp1, *sp2, *ver;
	size_t mlen, tlen, vlen;
	int ret;

	sp1 = memchr(p, ' ', len);
	if (!sp1 || sp1 == p)
		return -400;
	mlen = (size_t)(sp1 - p);
	for (size_t i = 0; i < mlen; i++)
		if (!is_tchar((unsigned char)p[i]))
			return -400;
	sp2 = memchr(sp1 + 1, ' ', len - mlen - 1);
	if (!sp2)
		return -400;
	tlen = (size_t)(sp2 - sp1 - 1);
	ver = sp2 + 1;
	vlen = len - (size_t)(ver - p);
	for (size_t i = 0; i < tlen; i++) {
		unsigned char c = (unsigned char)sp1[1 + i];

		if (c <= 0x20 || c == 0x7f)
			return -400;
	}

	/* HTTP-version = "HTTP/" DIGIT "." DIGIT */
	if (vlen != 8 || memcmp(ver, "HTTP/", 5) != 0 || ver[6] != '.' ||
	    ver[5] < '0' || ver[5] > '9' || ver[7] < '0' || ver[7] > '9')
		return -400;
	if (ver[5] != '1')
		return -505;
	out->version_minor = ver[7] == '0' ? 0 : 1;

	{
		size_t keep = mlen < sizeof(out->method_name) ? mlen : sizeof(out->method_name) - 1;

		memcpy(out->method_name, p, keep);
		out->method_name[keep] = '\0';
	}
	if (mlen == 3 && memcmp(p, "GET", 3) == 0)
		out->method = HTTP_GET;
	else if (mlen == 4 && memcmp(p, "HEAD", 4) == 0)
		out->method = HTTP_HEAD;
	else
		out->method = HTTP_OTHER;

	ret = parse_target(sp1 + 1, tlen, out);
	return ret;
}

int http_parse_request(const char *buf, size_t len, struct http_request *out)
{
	const char *p = buf, *end = buf + len, *nl;
	size_t llen;
	bool conn_close = false, conn_keep = false, have_cl = false, have_te = false;
	bool range_seen = false;
	int hosts = 0, ret;
	uint64_t cl = 0;

	memset(out, 0, sizeof(*out));
	if (len > HTTP_MAX_HEAD)
		end = buf + HTTP_MAX_HEAD;

	/* Empty lines before the request line are ignored (RFC 9112 2.2). */
	while (p < end && (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n')))
		p += *p == '\r' ? 2 : 1;

	nl = line_end(p, end, &llen);
	if (!nl)
		return len >= HTTP_MAX_HEAD ? -431 : 0;

	/* First make sure the whole head is here: the end is an empty line. */
	{
		const char *q = nl + 1, *qnl;
		size_t qlen;

		for (;;) {
			qnl = line_end(q, end, &qlen);
			if (!qnl)
				return len >= HTTP_MAX_HEAD ? -431 : 0;
			if (qlen == 0)
				break;
			q = qnl + 1;
		}
		out->head_len = (size_t)(qnl + 1 - buf);
	}

	ret = parse_request_line(p, llen, out);
	if (ret < 0)
		return ret;

	for (p = nl + 1;; p = nl + 1) {
		const char *colon, *v, *vend;
		size_t nlen;

		nl = line_end(p, end, &llen);
		if (llen == 0)
			break;
		/* obs-fold (a line that continues the previous one) is refused. */
		if (*p == ' ' || *p == '\t')
			return -400;
		colon = memchr(p, ':', llen);
		if (!colon || colon == p)
			return -400;
		nlen = (size_t)(colon - p);
		for (size_t i = 0; i < nlen; i++)
			if (!is_tchar((unsigned char)p[i]))
				return -400;	/* also "Name :" (space before the colon) */
		v = colon + 1;
		vend = p + llen;
		while (v < vend && (*v == ' ' || *v == '\t'))
			v++;
		while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t'))
			vend--;
		for (const char *c = v; c < vend; c++)
			if ((unsigned char)*c < 0x20 && *c != '\t')
				return -400;	/* NUL, bare CR and the like in a value */

		if (span_is(p, nlen, "host")) {
			hosts++;
		} else if (span_is(p, nlen, "connection")) {
			parse_connection(v, (size_t)(vend - v), &conn_close, &conn_keep);
		} else if (span_is(p, nlen, "content-length")) {
			uint64_t n;

			if (!parse_u64(v, (size_t)(vend - v), &n) || (have_cl && n != cl))
				return -400;
			have_cl = true;
			cl = n;
		} else if (span_is(p, nlen, "transfer-encoding")) {
			have_te = true;
		} else if (span_is(p, nlen, "range")) {
			/* Two Range headers: neither is trusted, the whole file is sent. */
			if (range_seen) {
				out->range = HTTP_RANGE_NONE;
			} else {
				parse_range(v, (size_t)(vend - v), out);
			}
			range_seen = true;
		}
	}

	/* Both framings at once is how requests are smuggled: refused. */
	if (have_cl && have_te)
		return -400;
	if (hosts > 1 || (out->version_minor == 1 && hosts == 0 && !out->has_host))
		return -400;
	out->has_host = out->has_host || hosts == 1;
	out->has_body = have_te || cl > 0;
	out->keep_alive = out->version_minor == 1 ? !conn_close : (conn_keep && !conn_close);
	return (int)out->head_len;
}

int http_resolve_range(const struct http_request *req, uint64_t size,
		       uint64_t *first, uint64_t *count)
{
	uint64_t last;

	switch (req->range) {
	case HTTP_RANGE_FROM:
		if (req->range_first >= size)
			return -1;
		last = req->range_last < size - 1 ? req->range_last : size - 1;
		*first = req->range_first;
		*count = last - req->range_first + 1;
		return 1;
	case HTTP_RANGE_SUFFIX:
		if (req->range_last == 0 || size == 0)
			return -1;
		*count = req->range_last < size ? req->range_last : size;
		*first = size - *count;
		return 1;
	default:
		return 0;
	}
}

bool http_path_climbs(const char *path)
{
	const char *s = path;

	while (*s) {
		const char *e = strchr(s, '/');
		size_t n = e ? (size_t)(e - s) : strlen(s);

		if (n == 2 && s[0] == '.' && s[1] == '.')
			return true;
		if (!e)
			break;
		s = e + 1;
	}
	return false;
}

const char *http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 206: return "Partial Content";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 414: return "URI Too Long";
	case 416: return "Range Not Satisfiable";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}
