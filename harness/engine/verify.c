/* SPDX-License-Identifier: MIT */
/* Chunked XXH3 verification of received streams and written files. */
#include "verify.h"
#include "pattern.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int expected_build(struct expected *e, const unsigned char *payload, uint64_t total)
{
	return expected_build_slice(e, payload, 0, total);
}

int expected_build_slice(struct expected *e, const unsigned char *payload, uint64_t base, uint64_t total)
{
	payload += base;
	e->base = base;
	e->request = e->answer = 0;
	e->period = 0;		/* a stream bounded by size; expected_build_ring sets its lap */
	e->total = total;
	e->nchunks = (total + VERIFY_CHUNK - 1) / VERIFY_CHUNK;
	e->hash = calloc(e->nchunks ? e->nchunks : 1, sizeof(*e->hash));
	if (!e->hash)
		return -ENOMEM;
	for (size_t i = 0; i < e->nchunks; i++) {
		uint64_t off = (uint64_t)i * VERIFY_CHUNK;
		size_t len = total - off < VERIFY_CHUNK ? total - off : VERIFY_CHUNK;

		e->hash[i] = XXH3_64bits(payload + off, len);
	}
	return 0;
}

int expected_build_ring(struct expected *e, const unsigned char *payload, uint64_t period)
{
	int r;

	if (period == 0 || period % VERIFY_CHUNK)
		return -EINVAL;
	if ((r = expected_build_slice(e, payload, 0, period)))
		return r;
	e->total = EXPECTED_OPEN;
	e->period = period;
	return 0;
}

/* The pattern offset of stream offset off: a ring's repeats its lap. */
static uint64_t pattern_off(const struct expected *e, uint64_t off)
{
	return e->base + (e->period ? off % e->period : off);
}

/* The expected hash of the chunk at stream index idx. */
static uint64_t chunk_hash(const struct expected *e, size_t idx)
{
	return e->hash[e->period ? idx % e->nchunks : idx];
}

void expected_fill(const struct expected *e, unsigned char *buf, uint64_t off, size_t len)
{
	if (!e->answer) {
		pattern_fill(buf, pattern_off(e, off), len);
		return;
	}
	/* byte j of answer k is byte j mod request of request k */
	while (len) {
		uint64_t k = off / e->answer, j = off % e->answer, at = j % e->request;
		uint64_t run = e->request - at;

		if (run > e->answer - j)
			run = e->answer - j;
		if (run > len)
			run = len;
		pattern_fill(buf, e->base + k * e->request + at, (size_t)run);
		buf += run;
		off += run;
		len -= (size_t)run;
	}
}

int expected_build_answers(struct expected *e, uint64_t requests, uint64_t request, uint64_t answer)
{
	unsigned char *buf = malloc(VERIFY_CHUNK);

	memset(e, 0, sizeof(*e));
	e->request = request;
	e->answer = answer;
	e->total = requests * answer;
	e->nchunks = (e->total + VERIFY_CHUNK - 1) / VERIFY_CHUNK;
	e->hash = calloc(e->nchunks ? e->nchunks : 1, sizeof(*e->hash));
	if (!e->hash || !buf) {
		free(buf);
		expected_free(e);
		return -ENOMEM;
	}
	for (size_t i = 0; i < e->nchunks; i++) {
		uint64_t off = (uint64_t)i * VERIFY_CHUNK;
		size_t len = e->total - off < VERIFY_CHUNK ? e->total - off : VERIFY_CHUNK;

		expected_fill(e, buf, off, len);
		e->hash[i] = XXH3_64bits(buf, len);
	}
	free(buf);
	return 0;
}

void expected_free(struct expected *e)
{
	free(e->hash);
	e->hash = NULL;
}

int verifier_init(struct verifier *v, const struct expected *e)
{
	memset(v, 0, sizeof(*v));
	v->e = e;
	if (posix_memalign((void **)&v->chunk, 4096, VERIFY_CHUNK))
		return -ENOMEM;
	memset(v->chunk, 0, VERIFY_CHUNK);	/* fault it in before the window */
	v->digest = XXH3_createState();
	v->stream = XXH3_createState();
	if (!v->digest || !v->stream) {
		free(v->chunk);
		XXH3_freeState(v->digest);
		XXH3_freeState(v->stream);
		return -ENOMEM;
	}
	XXH3_64bits_reset(v->digest);
	return 0;
}

void verifier_free(struct verifier *v)
{
	free(v->chunk);
	if (v->digest)
		XXH3_freeState(v->digest);
	if (v->stream)
		XXH3_freeState(v->stream);
	v->chunk = NULL;
	v->digest = v->stream = NULL;
}

unsigned char *verifier_space(struct verifier *v, size_t *len)
{
	*len = VERIFY_CHUNK - v->fill;
	return v->chunk + v->fill;
}

/*
 * Compare a chunk whose hash or length is off with the regenerated pattern
 * and name the exact first bad offset.  A short chunk that matches so far
 * is not bad here: it is the stream's end, reported by verifier_finish.
 */
static void name_bad_offset(struct verifier *v, const unsigned char *got, size_t len, size_t want_len)
{
	size_t cmp = len < want_len ? len : want_len, i = 0;
	unsigned char *want = malloc(VERIFY_CHUNK);

	if (want) {
		expected_fill(v->e, want, v->off, cmp);
		while (i < cmp && want[i] == got[i])
			i++;
		free(want);
	}
	if (i == cmp && len <= want_len && want)
		return;
	v->bad = true;
	v->bad_off = v->off + i;
	if (i < cmp || !want)
		snprintf(v->note, sizeof(v->note),
			 "first bad byte at offset %" PRIu64 " (chunk at %" PRIu64 ")",
			 v->bad_off, v->off);
	else
		snprintf(v->note, sizeof(v->note),
			 "received more than the %" PRIu64 " bytes sent (extra data at offset %" PRIu64 ")",
			 v->e->total, v->bad_off);
}

static size_t expected_len(const struct expected *e, size_t idx)
{
	uint64_t off = (uint64_t)idx * VERIFY_CHUNK;

	if (e->period)
		return VERIFY_CHUNK;	/* a ring is whole chunks, and an open stream has no last one */
	if (idx >= e->nchunks)
		return 0;
	return e->total - off < VERIFY_CHUNK ? e->total - off : VERIFY_CHUNK;
}

/*
 * A chunk shorter than expected can only be the stream's end, which
 * verifier_finish reports by length; a longer one carries extra bytes.
 */
/*
 * Bytes the chunk at v->off should have: 0 past the stream's end (a fed
 * stream closes its last chunk there, so what follows starts unaligned).
 */
static size_t want_here(const struct verifier *v)
{
	return v->off >= v->e->total ? 0 : expected_len(v->e, v->off / VERIFY_CHUNK);
}

static void check_data(struct verifier *v, const unsigned char *got, size_t len)
{
	size_t idx = v->off / VERIFY_CHUNK;
	size_t want = want_here(v);
	uint64_t h = XXH3_64bits(got, len);

	XXH3_64bits_update(v->digest, &h, sizeof(h));
	if (v->bad)
		return;
	if (len == want && h == chunk_hash(v->e, idx))
		return;
	name_bad_offset(v, got, len, want);
}

static void check_chunk(struct verifier *v, size_t len)
{
	check_data(v, v->chunk, len);
}

/*
 * The end of a chunk hashed piece by piece: its bytes are gone, so a bad
 * one is named by its range.  A short last chunk whose bytes are the
 * pattern's so far is the stream's end, which verifier_finish reports.
 */
static void check_streamed(struct verifier *v, size_t len)
{
	size_t idx = v->off / VERIFY_CHUNK;
	size_t want = want_here(v);
	uint64_t h = XXH3_64bits_digest(v->stream);

	XXH3_64bits_update(v->digest, &h, sizeof(h));
	v->streaming = false;
	if (v->bad || (len == want && h == chunk_hash(v->e, idx)))
		return;
	if (len < want) {
		unsigned char *pat = malloc(len);
		bool prefix_ok = false;

		if (pat) {
			expected_fill(v->e, pat, v->off, len);
			prefix_ok = XXH3_64bits(pat, len) == h;
			free(pat);
		}
		if (prefix_ok)
			return;
	}
	v->bad = true;
	v->bad_off = v->off;
	if (v->off >= v->e->total)
		snprintf(v->note, sizeof(v->note),
			 "received more than the %" PRIu64 " bytes sent (extra data at offset %" PRIu64 ")",
			 v->e->total, v->off);
	else
		snprintf(v->note, sizeof(v->note),
			 "bad data in the chunk at offset %" PRIu64 " (%zu bytes; hashed where it was received, "
			 "so the first bad byte within it is not known)", v->off, len);
}

void verifier_feed(struct verifier *v, const unsigned char *p, size_t n)
{
	while (n > 0) {
		uint64_t at = v->off + v->fill;
		size_t take = VERIFY_CHUNK - v->fill;
		/*
		 * The last chunk ends where the stream should: bytes past it
		 * start a chunk of their own, so they are told as extra data,
		 * not as damage to the last chunk.
		 */
		size_t end = at < v->e->total && v->e->total - at < take ? (size_t)(v->e->total - at) : take;

		if (take > n)
			take = n;
		if (take > end)
			take = end;
		if (v->fill == 0 && take == VERIFY_CHUNK) {
			check_data(v, p, VERIFY_CHUNK);
			v->off += VERIFY_CHUNK;
		} else {
			if (!v->streaming)
				XXH3_64bits_reset(v->stream);
			v->streaming = true;
			XXH3_64bits_update(v->stream, p, take);
			v->fill += take;
			if (v->fill == VERIFY_CHUNK || take == end) {
				check_streamed(v, v->fill);
				v->off += v->fill;
				v->fill = 0;
			}
		}
		p += take;
		n -= take;
	}
}

void verifier_commit(struct verifier *v, size_t n)
{
	v->fill += n;
	if (v->fill < VERIFY_CHUNK)
		return;
	check_chunk(v, VERIFY_CHUNK);
	v->off += VERIFY_CHUNK;
	v->fill = 0;
}

bool verifier_finish(struct verifier *v, uint64_t *digest)
{
	if (v->fill > 0) {
		if (v->streaming)
			check_streamed(v, v->fill);
		else
			check_chunk(v, v->fill);
		v->off += v->fill;
		v->fill = 0;
	}
	/* An open stream may end anywhere: the parent judges its count. */
	if (!v->bad && v->e->total != EXPECTED_OPEN && v->off != v->e->total) {
		v->bad = true;
		v->bad_off = v->off;
		snprintf(v->note, sizeof(v->note),
			 "stream ended after %" PRIu64 " of %" PRIu64 " bytes",
			 v->off, v->e->total);
	}
	if (digest)
		*digest = XXH3_64bits_digest(v->digest);
	return !v->bad;
}

bool verify_file(const char *path, const struct expected *e, uint64_t *digest,
		 char *note, size_t notelen)
{
	struct verifier v;
	bool ok = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(note, notelen, "cannot open %s: %s", path, strerror(errno));
		return false;
	}
	if (verifier_init(&v, e)) {
		snprintf(note, notelen, "out of memory");
		close(fd);
		return false;
	}
	for (;;) {
		size_t len;
		unsigned char *at = verifier_space(&v, &len);
		ssize_t n = read(fd, at, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(note, notelen, "reading %s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		verifier_commit(&v, n);
	}
	ok = verifier_finish(&v, digest);
	if (!ok)
		snprintf(note, notelen, "output file %s: %s", strrchr(path, '/') ? strrchr(path, '/') + 1 : path, v.note);
out:
	verifier_free(&v);
	close(fd);
	return ok;
}
