/* SPDX-License-Identifier: MIT */
/*
 * The pattern and the verifier: regeneration from any offset, and every
 * kind of corruption (flip, drop, duplicate, swap, truncate, extra) caught
 * with the exact first bad offset named.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/engine/pattern.h"
#include "harness/engine/verify.h"

#define N (3 * VERIFY_CHUNK + 4097)

static unsigned char *make(size_t n)
{
	unsigned char *p = malloc(n ? n : 1);

	assert_non_null(p);
	pattern_fill(p, 0, n);
	return p;
}

static void test_regenerates_from_any_offset(void **state)
{
	unsigned char *all = make(N), part[100];

	for (uint64_t off = 0; off < 40; off++) {
		pattern_fill(part, off, sizeof(part));
		assert_memory_equal(part, all + off, sizeof(part));
	}
	pattern_fill(part, N - 100, 100);
	assert_memory_equal(part, all + N - 100, 100);
	free(all);
}

static void test_pattern_is_unique_per_block(void **state)
{
	unsigned char *all = make(1 << 20);

	/* No two 4 KiB blocks alike: a swap or duplicate cannot hash the same. */
	for (size_t a = 0; a < 256; a += 17)
		for (size_t b = a + 1; b < 256; b += 13)
			assert_memory_not_equal(all + a * 4096, all + b * 4096, 4096);
	free(all);
}

/* Feed `got` through a verifier in uneven pieces; returns the verdict. */
static bool feed(const unsigned char *sent, size_t sent_len, const unsigned char *got,
		 size_t got_len, uint64_t *bad_off)
{
	struct expected e;
	struct verifier v;
	size_t off = 0, step = 1;
	bool ok;

	assert_int_equal(expected_build(&e, sent, sent_len), 0);
	assert_int_equal(verifier_init(&v, &e), 0);
	while (off < got_len) {
		size_t room, n;
		unsigned char *at = verifier_space(&v, &room);

		n = step < room ? step : room;
		if (n > got_len - off)
			n = got_len - off;
		memcpy(at, got + off, n);
		verifier_commit(&v, n);
		off += n;
		step = step * 3 + 7;	/* short and long reads alike */
		if (step > 200000)
			step = 1;
	}
	ok = verifier_finish(&v, NULL);
	*bad_off = v.bad_off;
	verifier_free(&v);
	expected_free(&e);
	return ok;
}

/*
 * echo --response: the answers' stream (answer k is request k's bytes over
 * and over to `answer` bytes) regenerated from any offset as it is built
 * by hand, hashed into an expected that passes it and names a flipped byte.
 */
static void test_answers_stream(void **state)
{
	static const struct { uint64_t request, answer, requests; } shapes[] = {
		{ 1000, 64, 3000 }, { 64, 5000, 40 }, { 4096, 3 * 4096 + 7, 17 }, { 1, 1, 100 }, { 70000, 3, 9 },
	};

	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		uint64_t n = shapes[i].request, m = shapes[i].answer, total = shapes[i].requests * m;
		unsigned char *req = make(shapes[i].requests * n), *want = malloc(total), *got = malloc(total);
		struct expected e;
		struct verifier v;
		size_t room;

		assert_non_null(want);
		assert_non_null(got);
		for (uint64_t k = 0; k < shapes[i].requests; k++)
			for (uint64_t j = 0; j < m; j++)
				want[k * m + j] = req[k * n + j % n];
		assert_int_equal(expected_build_answers(&e, shapes[i].requests, n, m), 0);
		assert_int_equal(e.total, total);
		for (uint64_t off = 0; off < total; off += total / 7 + 1) {
			size_t len = total - off < 999 ? total - off : 999;

			expected_fill(&e, got, off, len);
			assert_memory_equal(got, want + off, len);
		}
		for (int bad = 0; bad < 2; bad++) {
			uint64_t at = total / 2;

			memcpy(got, want, total);
			if (bad)
				got[at] ^= 0x10;
			assert_int_equal(verifier_init(&v, &e), 0);
			for (uint64_t off = 0; off < total; off += room) {
				unsigned char *to = verifier_space(&v, &room);

				room = total - off < room ? total - off : room;
				memcpy(to, got + off, room);
				verifier_commit(&v, room);
			}
			assert_int_equal(verifier_finish(&v, NULL), !bad);
			if (bad)
				assert_int_equal(v.bad_off, at);
			verifier_free(&v);
		}
		expected_free(&e);
		free(req);
		free(want);
		free(got);
	}
}

static void test_exact_stream_passes(void **state)
{
	uint64_t bad;
	size_t sizes[] = { 0, 1, 4095, 4096, 4097, VERIFY_CHUNK, VERIFY_CHUNK + 1, N };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned char *p = make(sizes[i]);

		assert_true(feed(p, sizes[i], p, sizes[i], &bad));
		free(p);
	}
}

static void test_flip_names_offset(void **state)
{
	unsigned char *p = make(N), *q = make(N);
	uint64_t bad;

	q[2 * VERIFY_CHUNK + 123] ^= 0x40;
	assert_false(feed(p, N, q, N, &bad));
	assert_int_equal(bad, 2 * VERIFY_CHUNK + 123);
	free(p);
	free(q);
}

static void test_drop_block(void **state)
{
	unsigned char *p = make(N), *q = malloc(N);
	uint64_t bad;

	/* Drop 4 KiB at offset 8192: everything after shifts. */
	memcpy(q, p, 8192);
	memcpy(q + 8192, p + 12288, N - 12288);
	assert_false(feed(p, N, q, N - 4096, &bad));
	assert_int_equal(bad, 8192);
	free(p);
	free(q);
}

static void test_duplicate_block(void **state)
{
	unsigned char *p = make(N), *q = malloc(N + 4096);
	uint64_t bad;

	memcpy(q, p, 12288);
	memcpy(q + 12288, p + 8192, N - 8192);	/* 8192..12288 arrives twice */
	assert_false(feed(p, N, q, N + 4096, &bad));
	assert_int_equal(bad, 12288);
	free(p);
	free(q);
}

static void test_swap_blocks(void **state)
{
	unsigned char *p = make(N), *q = make(N);
	uint64_t bad;

	memcpy(q + VERIFY_CHUNK, p + VERIFY_CHUNK + 4096, 4096);
	memcpy(q + VERIFY_CHUNK + 4096, p + VERIFY_CHUNK, 4096);
	assert_false(feed(p, N, q, N, &bad));
	assert_int_equal(bad, VERIFY_CHUNK);
	free(p);
	free(q);
}

static void test_truncated_and_extra(void **state)
{
	unsigned char *p = make(N + 10);
	uint64_t bad;

	assert_false(feed(p, N, p, N - 1, &bad));
	assert_int_equal(bad, N - 1);
	assert_false(feed(p, N, p, N + 10, &bad));
	assert_int_equal(bad, N);
	assert_false(feed(p, 0, p, 1, &bad));
	assert_int_equal(bad, 0);
	free(p);
}

/*
 * verifier_feed: got handed over where it lies, in pieces of `piece`
 * bytes (0: uneven pieces, none a whole aligned chunk).  The verdict, the
 * first bad offset, the digest and the note.
 */
static bool feed_in_place(const unsigned char *sent, size_t sent_len, const unsigned char *got,
			  size_t got_len, size_t piece, uint64_t *bad_off, uint64_t *digest, char *note)
{
	struct expected e;
	struct verifier v;
	size_t off = 0, step = 1;
	bool ok;

	assert_int_equal(expected_build(&e, sent, sent_len), 0);
	assert_int_equal(verifier_init(&v, &e), 0);
	while (off < got_len) {
		size_t n = piece ? piece : step;

		if (n > got_len - off)
			n = got_len - off;
		verifier_feed(&v, got + off, n);
		off += n;
		step = step * 3 + 7;
		if (step > 60000)
			step = 1;
	}
	ok = verifier_finish(&v, digest);
	*bad_off = v.bad_off;
	strcpy(note, v.note);
	verifier_free(&v);
	expected_free(&e);
	return ok;
}

/* The same bytes pass, and give the same digest, fed in place or received into the verifier. */
static void test_feed_in_place_passes(void **state)
{
	size_t sizes[] = { 0, 1, 4095, 4096, 4097, VERIFY_CHUNK, VERIFY_CHUNK + 1, N };
	size_t pieces[] = { 0, 1000, VERIFY_CHUNK, 4 * VERIFY_CHUNK };
	char note[160];

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned char *p = make(sizes[i]);
		struct expected e;
		struct verifier v;
		uint64_t want, got, bad;
		size_t room;

		assert_int_equal(expected_build(&e, p, sizes[i]), 0);
		assert_int_equal(verifier_init(&v, &e), 0);
		for (size_t off = 0; off < sizes[i];) {
			unsigned char *at = verifier_space(&v, &room);
			size_t n = room < sizes[i] - off ? room : sizes[i] - off;

			memcpy(at, p + off, n);
			verifier_commit(&v, n);
			off += n;
		}
		assert_true(verifier_finish(&v, &want));
		verifier_free(&v);
		expected_free(&e);
		for (size_t k = 0; k < sizeof(pieces) / sizeof(pieces[0]); k++) {
			assert_true(feed_in_place(p, sizes[i], p, sizes[i], pieces[k], &bad, &got, note));
			assert_int_equal(got, want);
		}
		free(p);
	}
}

/*
 * Damage fed in place: located to the byte where its chunk came whole in
 * one piece, named by the chunk's range where it came in several.  A short
 * or long stream is told as such, not as bad data.
 */
static void test_feed_in_place_damage(void **state)
{
	unsigned char *p = make(N + 10), *q = make(N);
	uint64_t bad, d;
	char note[160];

	q[2 * VERIFY_CHUNK + 123] ^= 0x40;
	assert_false(feed_in_place(p, N, q, N, VERIFY_CHUNK, &bad, &d, note));
	assert_int_equal(bad, 2 * VERIFY_CHUNK + 123);
	assert_non_null(strstr(note, "first bad byte at offset"));
	assert_false(feed_in_place(p, N, q, N, 1000, &bad, &d, note));
	assert_int_equal(bad, 2 * VERIFY_CHUNK);
	assert_non_null(strstr(note, "bad data in the chunk at offset 131072"));
	assert_false(feed_in_place(p, N, p, N - 1, 1000, &bad, &d, note));
	assert_int_equal(bad, N - 1);
	assert_non_null(strstr(note, "stream ended after"));
	assert_false(feed_in_place(p, N, p, N + 10, 1000, &bad, &d, note));
	assert_int_equal(bad, N);
	assert_false(feed_in_place(p, 0, p, 1, 0, &bad, &d, note));
	assert_int_equal(bad, 0);
	free(p);
	free(q);
}

/*
 * --time: the source sends the ring (two chunks here) again and again and
 * stops at any count; the receiver checks every byte it got against the
 * ring's pattern at that offset, whatever the count.  in_place: through
 * verifier_feed, as recv's tested role does.
 */
static bool ring_stream(const unsigned char *got, size_t len, bool in_place, uint64_t *bad_off, char *note)
{
	unsigned char *ring = make(2 * VERIFY_CHUNK);
	struct expected e;
	struct verifier v;
	size_t off = 0, step = 5;
	bool ok;

	assert_int_equal(expected_build_ring(&e, ring, 2 * VERIFY_CHUNK), 0);
	assert_int_equal(verifier_init(&v, &e), 0);
	while (off < len) {
		size_t room = len - off, n = step < room ? step : room;

		if (in_place) {
			verifier_feed(&v, got + off, n);
		} else {
			unsigned char *at = verifier_space(&v, &room);

			n = n < room ? n : room;
			memcpy(at, got + off, n);
			verifier_commit(&v, n);
		}
		off += n;
		step = step * 3 + 7;
		if (step > 200000)
			step = 5;
	}
	ok = verifier_finish(&v, NULL);
	*bad_off = v.bad_off;
	snprintf(note, 160, "%s", v.note);
	verifier_free(&v);
	expected_free(&e);
	free(ring);
	return ok;
}

static void test_ring_stream_any_count(void **state)
{
	size_t lap = 2 * VERIFY_CHUNK, counts[] = { 0, 1, 4097, lap, lap + 1, 2 * lap + 12345, 5 * lap };
	unsigned char *laps = malloc(5 * lap);
	uint64_t bad;
	char note[160];

	(void)state;
	assert_non_null(laps);
	for (int k = 0; k < 5; k++)
		pattern_fill(laps + k * lap, 0, lap);
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		for (int in_place = 0; in_place < 2; in_place++)
			assert_true(ring_stream(laps, counts[i], in_place, &bad, note));
	/* a flip in the third lap is named at its stream offset */
	laps[2 * lap + VERIFY_CHUNK + 77] ^= 1;
	assert_false(ring_stream(laps, 3 * lap, false, &bad, note));
	assert_int_equal(bad, 2 * lap + VERIFY_CHUNK + 77);
	assert_false(ring_stream(laps, 3 * lap, true, &bad, note));
	laps[2 * lap + VERIFY_CHUNK + 77] ^= 1;
	/* a block dropped in the second lap: what follows is not the ring's */
	memmove(laps + lap + 4096, laps + lap + 8192, 4 * lap - 8192);
	assert_false(ring_stream(laps, 3 * lap, false, &bad, note));
	assert_int_equal(bad, lap + 4096);
	free(laps);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_regenerates_from_any_offset),
		cmocka_unit_test(test_pattern_is_unique_per_block),
		cmocka_unit_test(test_answers_stream),
		cmocka_unit_test(test_exact_stream_passes),
		cmocka_unit_test(test_flip_names_offset),
		cmocka_unit_test(test_drop_block),
		cmocka_unit_test(test_duplicate_block),
		cmocka_unit_test(test_swap_blocks),
		cmocka_unit_test(test_truncated_and_extra),
		cmocka_unit_test(test_feed_in_place_passes),
		cmocka_unit_test(test_feed_in_place_damage),
		cmocka_unit_test(test_ring_stream_any_count),
	};

	return cmocka_run_group_tests_name("verify", tests, NULL, NULL);
}
