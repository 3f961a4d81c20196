/* SPDX-License-Identifier: MIT */
/*
 * Verification: the expected XXH3-64 hash of every 64 KiB chunk of the
 * payload is computed before the run; a receiving role feeds what arrives
 * into a verifier that checks each chunk as it completes and, on the first
 * mismatch, regenerates that chunk to name the exact first bad offset.
 */
#ifndef COPYLAB_VERIFY_H
#define COPYLAB_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xxhash.h>

#define VERIFY_CHUNK (64 * 1024)

struct expected {
	uint64_t base;		/* pattern offset of the stream's first byte (0, or a
				 * connection's slice under --conns) */
	uint64_t total;		/* EXPECTED_OPEN: a stream bounded by time, its length judged
				 * by the parent against what the source sent */
	uint64_t period;	/* 0, or the ring's length: the stream repeats it (--time) */
	/*
	 * echo --response: the stream is the answers, `answer` bytes for each
	 * request of `request` bytes, made of that request's bytes over and
	 * over; 0: the stream is the pattern itself.
	 */
	uint64_t request, answer;
	size_t nchunks;
	uint64_t *hash;		/* one per chunk; the last may be short */
};

int expected_build(struct expected *e, const unsigned char *payload, uint64_t total);
/* The expected hashes of payload[base, base + len): one connection's slice. */
int expected_build_slice(struct expected *e, const unsigned char *payload, uint64_t base, uint64_t len);
/*
 * --time: a stream of any length that repeats payload[0, period) (period a
 * whole number of chunks).  Bytes a lap apart are equal, so a lap lost
 * whole shows only in the count: the parent compares the receiver's with
 * the source's.
 */
#define EXPECTED_OPEN UINT64_MAX
int expected_build_ring(struct expected *e, const unsigned char *payload, uint64_t period);
/* The expected hashes of the answers to `requests` requests (struct expected's request, answer). */
int expected_build_answers(struct expected *e, uint64_t requests, uint64_t request, uint64_t answer);
/* The bytes [off, off + len) of e's stream, regenerated. */
void expected_fill(const struct expected *e, unsigned char *buf, uint64_t off, size_t len);
void expected_free(struct expected *e);

struct verifier {
	const struct expected *e;
	unsigned char *chunk;	/* VERIFY_CHUNK bytes, page-aligned */
	size_t fill;		/* bytes of the current chunk received */
	uint64_t off;		/* stream offset of chunk[0] */
	bool bad;
	uint64_t bad_off;	/* first bad stream offset */
	char note[160];
	XXH3_state_t *digest;	/* over the received chunk hashes */
	XXH3_state_t *stream;	/* verifier_feed: the current chunk, hashed piece by piece */
	bool streaming;		/* the current chunk's fill bytes are in stream, not in chunk */
};

int verifier_init(struct verifier *v, const struct expected *e);
void verifier_free(struct verifier *v);
/* Where to receive next: at most *len bytes at the returned pointer. */
unsigned char *verifier_space(struct verifier *v, size_t *len);
/* n bytes were received at verifier_space(). */
void verifier_commit(struct verifier *v, size_t n);
/*
 * n received bytes at p, where the receiving role keeps them (recv: its
 * buffer, its mapped pages): hashed in place, never copied into the
 * verifier.  A chunk that lies whole in one piece is hashed at once, and a
 * bad one is then located to the byte; a chunk spread over pieces is
 * hashed as they come, and a bad one is named by its range.  Not to be
 * mixed with verifier_space/verifier_commit on one verifier.
 */
void verifier_feed(struct verifier *v, const unsigned char *p, size_t n);
/* End of stream: checks the last chunk and the length.  true if all good. */
bool verifier_finish(struct verifier *v, uint64_t *digest);
/* Bytes received so far. */
static inline uint64_t verifier_received(const struct verifier *v)
{
	return v->off + v->fill;
}

/* Verify a file's whole content; note says what was wrong.  true if good. */
bool verify_file(const char *path, const struct expected *e, uint64_t *digest,
		 char *note, size_t notelen);

#endif
