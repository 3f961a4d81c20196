/* SPDX-License-Identifier: MIT */
/*
 * readwrite: the baseline.  read() into a user buffer, then write()/send()
 * it out; every byte crosses the user/kernel boundary twice.  In recv the
 * output is the role's own memory: one read() copy, then the role uses
 * the bytes in the buffer.  readwrite:trunc (recv only) is recv's ceiling:
 * recv(MSG_TRUNC) makes the kernel drop the bytes without copying them.
 */
#include "io.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TRUNC_UNSEEN "readwrite:trunc: recv(MSG_TRUNC) had the kernel discard the bytes without copying them: nothing was hashed"

struct readwrite_state {
	unsigned char *buf;		/* read buffer, block bytes (fd input) */
	size_t buf_len;
	unsigned char *mem_copy;	/* huge-page private copy of x->mem */
	size_t mem_copy_len;
	bool huge;
	const unsigned char *chunk;	/* what is being delivered now */
	size_t chunk_len;
	size_t sent_out, sent_out2;	/* bytes of the chunk already delivered */
	uint64_t consumed;		/* bytes taken from the input */
	bool eof;			/* socket input said EOF */
	/* echo --response (x->answer): the request read so far, the answer sent so far */
	size_t request_got, answer_sent;
};

static bool chunk_delivered(const struct xfer *x, const struct readwrite_state *st)
{
	return st->sent_out == st->chunk_len &&
	       (x->out2_fd < 0 || st->sent_out2 == st->chunk_len);
}

static int readwrite_setup(struct xfer *x)
{
	struct readwrite_state *st = x->priv;
	int ret;

	if (x->block == 0)
		return (int)io_fail(x, "setup", EINVAL);
	st->huge = x->tun.hugepages;
	if (x->tun.trunc) {
		/* Only a socket can discard, and only a memory output can do without the bytes. */
		if (x->in_kind != EP_SOCKET || x->out_kind != EP_MEMORY)
			return (int)io_fail(x, "setup", EINVAL);
		x->unseen = TRUNC_UNSEEN;
		return 0;
	}

	if (x->in_kind == EP_MEMORY) {
		/* Memory input needs no buffer: it is sent from where it lies. */
		if (!st->huge || x->total == 0)
			return 0;
		ret = io_buffer_alloc(x, x->total, true, (void **)&st->mem_copy);
		if (ret < 0)
			return ret;
		st->mem_copy_len = x->total;
		memcpy(st->mem_copy, x->mem, x->total);
		return 0;
	}

	/* A file input read from its own position: start at the range's offset. */
	if (x->in_kind == EP_FILE && x->in_offset &&
	    lseek(x->in_fd, (off_t)x->in_offset, SEEK_SET) < 0)
		return (int)io_fail(x, "lseek", errno);
	ret = io_buffer_alloc(x, x->block, st->huge, (void **)&st->buf);
	if (ret < 0)
		return ret;
	st->buf_len = x->block;
	return 0;
}

/*
 * Take the next chunk from the input: a slice of memory, or one read().
 * Returns its length, 0 when the input is exhausted, or a negative errno.
 */
static ssize_t readwrite_fill(struct xfer *x, struct readwrite_state *st)
{
	uint64_t left = x->total - st->consumed;
	size_t want = left < x->block ? (size_t)left : x->block;
	ssize_t n;

	st->chunk_len = 0;
	st->sent_out = st->sent_out2 = 0;
	if (left == 0 || st->eof)
		return 0;

	if (x->in_kind == EP_MEMORY) {
		st->chunk = (st->mem_copy ? st->mem_copy : x->mem) + st->consumed;
		n = (ssize_t)want;
	} else {
		n = io_read(x, x->in_fd, st->buf, want);
		if (n < 0)
			return n;
		if (n == 0) {
			/* A socket ends with EOF; a file that ends early was truncated. */
			if (x->in_kind != EP_SOCKET)
				return io_fail(x, "read", EIO);
			st->eof = true;
			return 0;
		}
		st->chunk = st->buf;
	}
	st->chunk_len = (size_t)n;
	st->consumed += (uint64_t)n;
	return n;
}

/* Write the rest of the chunk to one output, resuming at *done. */
static ssize_t write_rest(struct xfer *x, int fd, bool is_socket,
			  const unsigned char *chunk, size_t len, size_t *done)
{
	size_t start = *done;
	ssize_t n;

	while (*done < len) {
		n = io_send(x, fd, chunk + *done, len - *done, is_socket);
		if (n < 0)
			return n;
		if (n == 0)
			return io_fail(x, is_socket ? "send" : "write", EIO);
		*done += (size_t)n;
	}
	return (ssize_t)(*done - start);
}

/*
 * Deliver the current chunk to every output.  fanout's file goes first: a
 * regular file never says EAGAIN, so it is not held back by a full socket.
 */
static ssize_t readwrite_deliver(struct xfer *x, struct readwrite_state *st)
{
	size_t before = st->sent_out;
	ssize_t n, progress = 0;

	if (x->out2_fd >= 0) {
		n = write_rest(x, x->out2_fd, false, st->chunk, st->chunk_len, &st->sent_out2);
		if (n < 0)
			return n;
		progress += n;
	}
	if (x->out_kind == EP_MEMORY) {
		/* The bytes are used where read() put them; io_use counts them in moved. */
		n = io_use(x, st->chunk, st->chunk_len);
		if (n < 0)
			return n;
		st->sent_out = st->chunk_len;
		return progress + n;
	}
	n = write_rest(x, x->out_fd, x->out_kind == EP_SOCKET, st->chunk, st->chunk_len,
		       &st->sent_out);
	x->moved += st->sent_out - before;
	if (n < 0)
		return n;
	return progress + n;
}

/*
 * echo --response: read one whole request (block bytes) into the buffer,
 * then send x->answer bytes made of it over and over, as a server whose
 * answers differ in size from its questions.  A request cut short by EOF
 * is left unanswered: the client sends whole ones, so it can only be
 * damage, which the client's verifier names.
 */
static ssize_t readwrite_answer(struct xfer *x, struct readwrite_state *st)
{
	size_t before = st->answer_sent;
	ssize_t n;

	if (st->request_got < x->block) {
		n = io_read(x, x->in_fd, st->buf + st->request_got, x->block - st->request_got);
		if (n <= 0)
			return n;
		st->request_got += (size_t)n;
		if (st->request_got < x->block)
			return n;
		st->answer_sent = before = 0;
	}
	while (st->answer_sent < x->answer) {
		size_t at = st->answer_sent % x->block, len = x->block - at;

		if (len > x->answer - st->answer_sent)
			len = x->answer - st->answer_sent;
		n = io_send(x, x->out_fd, st->buf + at, len, true);
		if (n == 0)
			n = io_fail(x, "send", EIO);
		if (n < 0) {
			x->moved += st->answer_sent - before;
			return n;
		}
		st->answer_sent += (size_t)n;
	}
	x->moved += st->answer_sent - before;
	st->request_got = 0;
	return (ssize_t)(st->answer_sent - before);
}

/* One chunk per call: fill when the last one is out everywhere, then deliver. */
static ssize_t readwrite_move(struct xfer *x)
{
	struct readwrite_state *st = x->priv;
	ssize_t n;

	if (x->tun.trunc) {
		/* The ceiling: the kernel frees the queued bytes, no copy, nothing to use. */
		n = io_recv_trunc(x, x->in_fd, x->block);
		if (n > 0)
			x->moved += (uint64_t)n;
		return n;
	}
	if (x->answer)
		return readwrite_answer(x, st);
	if (chunk_delivered(x, st)) {
		n = readwrite_fill(x, st);
		if (n <= 0)
			return n;
	}
	return readwrite_deliver(x, st);
}

/* The next transfer from a file (serve's next response): the buffer stays, the progress starts again. */
static int readwrite_rearm(struct xfer *x)
{
	struct readwrite_state *st = x->priv;

	if (x->in_kind != EP_FILE || x->block > st->buf_len)
		return -ENOSPC;
	/* The next range may come on the same descriptor: seek whatever the offset. */
	if (lseek(x->in_fd, (off_t)x->in_offset, SEEK_SET) < 0)
		return (int)io_fail(x, "lseek", errno);
	st->chunk = NULL;
	st->chunk_len = st->sent_out = st->sent_out2 = 0;
	st->consumed = 0;
	st->eof = false;
	return 0;
}

static void readwrite_teardown(struct xfer *x)
{
	struct readwrite_state *st = x->priv;

	if (!st)
		return;
	io_buffer_free(st->buf, st->buf_len, st->huge);
	io_buffer_free(st->mem_copy, st->mem_copy_len, true);
	st->buf = st->mem_copy = NULL;
	st->buf_len = st->mem_copy_len = 0;
}

/* trunc keeps no buffer: a hugepages beside it would name a flag that changes nothing. */
static int readwrite_check_tunables(const struct tunables *t, char *why, size_t len)
{
	if (t->trunc && t->hugepages) {
		snprintf(why, len, "readwrite:trunc keeps no buffer (the kernel discards the bytes), so hugepages has nothing to back; ask for one of them");
		return -EINVAL;
	}
	return 0;
}

const struct strategy strategy_readwrite = {
	.name = "readwrite",
	.summary = "read() into a user buffer, then write()/send() it: two copies through user memory",
	.needs = "any POSIX system; every byte is copied into user memory and out again, so the application can read or change it",
	.support = {
		[SC_SERVE] = { .ok = true },
		[SC_SEND] = { .ok = true },
		[SC_RELAY] = { .ok = true },
		[SC_FANOUT] = { .ok = true },
		[SC_STORE] = { .ok = true },
		[SC_COPY] = { .ok = true },
		[SC_ECHO] = { .ok = true },
		[SC_PIPE] = { .ok = true },
		[SC_RECV] = { .ok = true },
	},
	.tunables = TUN_HUGEPAGES | TUN_TRUNC | TUN_BUSY,
	.check_tunables = readwrite_check_tunables,
	.priv_size = sizeof(struct readwrite_state),
	.setup = readwrite_setup,
	.move = readwrite_move,
	.teardown = readwrite_teardown,
	.rearm = readwrite_rearm,
};
