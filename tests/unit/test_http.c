/* SPDX-License-Identifier: MIT */
/* The request-head parser of `copylab serve`: framing, targets, ranges, limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/tools/http.h"

static struct http_request rq;

static int parse(const char *s)
{
	return http_parse_request(s, strlen(s), &rq);
}

static void test_simple_get(void **state)
{
	const char *s = "GET /a/b.txt HTTP/1.1\r\nHost: x\r\n\r\n";

	assert_int_equal(parse(s), (int)strlen(s));
	assert_int_equal(rq.method, HTTP_GET);
	assert_string_equal(rq.method_name, "GET");
	assert_string_equal(rq.path, "/a/b.txt");
	assert_int_equal(rq.version_minor, 1);
	assert_true(rq.keep_alive);
	assert_false(rq.has_body);
	assert_int_equal(rq.range, HTTP_RANGE_NONE);
}

static void test_incomplete_and_pipelined(void **state)
{
	const char *two = "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n";
	const char *one = "GET /1 HTTP/1.1\r\nHost: x\r\n\r\n";

	/* Every strict prefix of a head is "need more". */
	for (size_t n = 0; n < strlen(one); n++)
		assert_int_equal(http_parse_request(one, n, &rq), 0);
	/* Only the first head is consumed; the second waits in the buffer. */
	assert_int_equal(parse(two), (int)strlen(one));
	assert_string_equal(rq.path, "/1");
	assert_int_equal(parse(two + strlen(one)), (int)strlen(one));
	assert_string_equal(rq.path, "/2");
}

static void test_line_ends_and_leading_empty_lines(void **state)
{
	assert_true(parse("GET / HTTP/1.1\nHost: x\n\n") > 0);
	assert_true(parse("\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n") > 0);
	assert_string_equal(rq.path, "/");
}

static void test_methods_and_versions(void **state)
{
	assert_true(parse("HEAD /f HTTP/1.1\r\nHost: x\r\n\r\n") > 0);
	assert_int_equal(rq.method, HTTP_HEAD);
	assert_true(parse("POST /f HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n") > 0);
	assert_int_equal(rq.method, HTTP_OTHER);
	assert_true(rq.has_body);
	assert_true(parse("BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n") > 0);
	assert_int_equal(rq.method, HTTP_OTHER);
	assert_string_equal(rq.method_name, "BREW");
	/* "get" is a different method (methods are case-sensitive). */
	assert_true(parse("get / HTTP/1.1\r\nHost: x\r\n\r\n") > 0);
	assert_int_equal(rq.method, HTTP_OTHER);

	assert_int_equal(parse("GET / HTTP/2.0\r\nHost: x\r\n\r\n"), -505);
	assert_int_equal(parse("GET / HTTP/0.9\r\n\r\n"), -505);
	assert_int_equal(parse("GET / HTTP/1\r\nHost: x\r\n\r\n"), -400);
	assert_int_equal(parse("GET / http/1.1\r\nHost: x\r\n\r\n"), -400);
	assert_int_equal(parse("GET /\r\n\r\n"), -400);
	assert_int_equal(parse("GARBAGE\r\n\r\n"), -400);
	assert_int_equal(parse("GET  / HTTP/1.1\r\nHost: x\r\n\r\n"), -400);
	assert_int_equal(parse("G(T / HTTP/1.1\r\nHost: x\r\n\r\n"), -400);
	assert_int_equal(parse("GET /a b HTTP/1.1\r\nHost: x\r\n\r\n"), -400);
}

static void test_keep_alive_rules(void **state)
{
	assert_true(parse("GET / HTTP/1.0\r\n\r\n") > 0);
	assert_false(rq.keep_alive);
	assert_int_equal(rq.version_minor, 0);
	assert_true(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n") > 0);
	assert_true(rq.keep_alive);
	assert_true(parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") > 0);
	assert_false(rq.keep_alive);
	assert_true(parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: TE, close\r\n\r\n") > 0);
	assert_false(rq.keep_alive);
	assert_true(parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\n\r\n") > 0);
	assert_true(rq.keep_alive);
}

static void test_host_and_framing(void **state)
{
	assert_int_equal(parse("GET / HTTP/1.1\r\n\r\n"), -400);		/* no Host */
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), -400);
	assert_true(parse("GET http://example.org/x?y HTTP/1.1\r\n\r\n") > 0);	/* absolute-form */
	assert_string_equal(rq.path, "/x");
	assert_true(parse("GET http://example.org HTTP/1.1\r\n\r\n") > 0);
	assert_string_equal(rq.path, "/");
	assert_int_equal(parse("GET * HTTP/1.1\r\nHost: x\r\n\r\n"), -400);
	assert_int_equal(parse("GET x HTTP/1.1\r\nHost: x\r\n\r\n"), -400);

	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
			       "Transfer-Encoding: chunked\r\n\r\n"), -400);	/* smuggling */
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"), -400);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
			       "Content-Length: 2\r\n\r\n"), -400);
	assert_true(parse("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n") > 0);
	assert_false(rq.has_body);
	assert_true(parse("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n") > 0);
	assert_true(rq.has_body);
}

static void test_header_syntax(void **state)
{
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n"), -400);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost : x\r\n\r\n"), -400);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n"), -400);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x\r\n: empty\r\n\r\n"), -400);
	/* A NUL inside a value (the length says where the buffer ends). */
	{
		static const char nul[] = "GET / HTTP/1.1\r\nHost: x\r\nX: a\0b\r\n\r\n";

		assert_int_equal(http_parse_request(nul, sizeof(nul) - 1, &rq), -400);
	}
	assert_true(parse("GET / HTTP/1.1\r\nhOsT:x\r\nX-Empty:\r\n\r\n") > 0);
}

static void test_percent_decoding(void **state)
{
	assert_true(parse("GET /a%20b/%41%2f HTTP/1.1\r\nHost: x\r\n\r\n") > 0);
	assert_string_equal(rq.path, "/a b/A/");
	/* Decoded once: %252e stays "%2e", it is not decoded again to ".". */
	assert_true(parse("GET /%252e%252e/x HTTP/1.1\r\nHost: x\r\n\r\n") > 0);
	assert_string_equal(rq.path, "/%2e%2e/x");
	assert_false(http_path_climbs(rq.path));
	assert_true(parse("GET /%2e%2e/x HTTP/1.1\r\nHost: x\r\n\r\n") > 0);
	assert_string_equal(rq.path, "/../x");
	assert_true(http_path_climbs(rq.path));

	assert_int_equal(parse("GET /a%00b HTTP/1.1\r\nHost: x\r\n\r\n"), -400);
	assert_int_equal(parse("GET /a%0ab HTTP/1.1\r\nHost: x\r\n\r\n"), -400);
	assert_int_equal(parse("GET /a%zz HTTP/1.1\r\nHost: x\r\n\r\n"), -400);
	assert_int_equal(parse("GET /a% HTTP/1.1\r\nHost: x\r\n\r\n"), -400);
	assert_int_equal(parse("GET /a%4 HTTP/1.1\r\nHost: x\r\n\r\n"), -400);
	assert_true(parse("GET /q?x=%00&y=../ HTTP/1.1\r\nHost: x\r\n\r\n") > 0);	/* query dropped */
	assert_string_equal(rq.path, "/q");
}

static void test_path_climbs(void **state)
{
	assert_true(http_path_climbs("/.."));
	assert_true(http_path_climbs("/../a"));
	assert_true(http_path_climbs("/a/../b"));
	assert_true(http_path_climbs("/a/.."));
	assert_true(http_path_climbs(".."));
	assert_false(http_path_climbs("/a..b/..c/c.."));
	assert_false(http_path_climbs("/./a/."));
	assert_false(http_path_climbs("/"));
	assert_false(http_path_climbs("/..."));
}

static void test_ranges(void **state)
{
	uint64_t first = 0, count = 0;

	assert_true(parse("GET / HTTP/1.1\r\nHost: x\r\nRange: bytes=0-99\r\n\r\n") > 0);
	assert_int_equal(rq.range, HTTP_RANGE_FROM);
	assert_int_equal(http_resolve_range(&rq, 1000, &first, &count), 1);
	assert_int_equal(first, 0);
	assert_int_equal(count, 100);
	assert_int_equal(http_resolve_range(&rq, 50, &first, &count), 1);	/* clamped */
	assert_int_equal(count, 50);
	assert_int_equal(http_resolve_range(&rq, 0, &first, &count), -1);	/* empty file */

	assert_true(parse("GET / HTTP/1.1\r\nHost: x\r\nRange: bytes=500-\r\n\r\n") > 0);
	assert_int_equal(http_resolve_range(&rq, 1000, &first, &count), 1);
	assert_int_equal(first, 500);
	assert_int_equal(count, 500);
	assert_int_equal(http_resolve_range(&rq, 500, &first, &count), -1);

	assert_true(parse("GET / HTTP/1.1\r\nHost: x\r\nRange: bytes=-10\r\n\r\n") > 0);
	assert_int_equal(rq.range, HTTP_RANGE_SUFFIX);
	assert_int_equal(http_resolve_range(&rq, 1000, &first, &count), 1);
	assert_int_equal(first, 990);
	assert_int_equal(count, 10);
	assert_int_equal(http_resolve_range(&rq, 4, &first, &count), 1);	/* more than the file */
	assert_int_equal(first, 0);
	assert_int_equal(count, 4);
	assert_true(parse("GET / HTTP/1.1\r\nHost: x\r\nRange: bytes=-0\r\n\r\n") > 0);
	assert_int_equal(http_resolve_range(&rq, 1000, &first, &count), -1);

	assert_true(parse("GET / HTTP/1.1\r\nHost: x\r\nRange: bytes=18446744073709551615-\r\n\r\n") > 0);
	assert_int_equal(http_resolve_range(&rq, 1000, &first, &count), -1);

	/* Ignored (the whole file): other units, several ranges, bad syntax, overflow. */
	static const char *const ignored[] = {
		"items=0-1", "bytes=0-1,5-6", "bytes=5-1", "bytes=a-b", "bytes=-", "bytes=",
		"bytes=1-2-3", "bytes=99999999999999999999999-",
	};
	char buf[256];

	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++) {
		snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nHost: x\r\nRange: %s\r\n\r\n", ignored[i]);
		assert_true(parse(buf) > 0);
		assert_int_equal(rq.range, HTTP_RANGE_NONE);
		assert_int_equal(http_resolve_range(&rq, 1000, &first, &count), 0);
	}
	/* Two Range headers: neither is trusted. */
	assert_true(parse("GET / HTTP/1.1\r\nHost: x\r\nRange: bytes=0-1\r\nRange: bytes=2-3\r\n\r\n") > 0);
	assert_int_equal(rq.range, HTTP_RANGE_NONE);
}

static void test_limits(void **state)
{
	size_t n = HTTP_MAX_HEAD + 100;
	char *big = malloc(n + 1);
	int head;

	assert_non_null(big);
	/* A head that has not ended within the limit is 431, complete or not. */
	head = snprintf(big, n, "GET / HTTP/1.1\r\nHost: x\r\nX: ");
	memset(big + head, 'a', n - (size_t)head);
	assert_int_equal(http_parse_request(big, HTTP_MAX_HEAD - 1, &rq), 0);
	assert_int_equal(http_parse_request(big, HTTP_MAX_HEAD, &rq), -431);
	assert_int_equal(http_parse_request(big, n, &rq), -431);
	memcpy(big + n - 4, "\r\n\r\n", 4);
	assert_int_equal(http_parse_request(big, n, &rq), -431);

	/* A path longer than the buffer for it. */
	head = snprintf(big, n, "GET /");
	memset(big + head, 'p', HTTP_MAX_PATH + 10);
	snprintf(big + head + HTTP_MAX_PATH + 10, n - (size_t)head - HTTP_MAX_PATH - 10,
		 " HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(parse(big), -414);
	free(big);
}

static void test_reasons(void **state)
{
	assert_string_equal(http_reason(404), "Not Found");
	assert_string_equal(http_reason(416), "Range Not Satisfiable");
	assert_string_equal(http_reason(431), "Request Header Fields Too Large");
	assert_string_equal(http_reason(799), "Unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_get),
		cmocka_unit_test(test_incomplete_and_pipelined),
		cmocka_unit_test(test_line_ends_and_leading_empty_lines),
		cmocka_unit_test(test_methods_and_versions),
		cmocka_unit_test(test_keep_alive_rules),
		cmocka_unit_test(test_host_and_framing),
		cmocka_unit_test(test_header_syntax),
		cmocka_unit_test(test_percent_decoding),
		cmocka_unit_test(test_path_climbs),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_reasons),
	};

	return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
