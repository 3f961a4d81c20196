/* SPDX-License-Identifier: MIT */
/*
 * What every repetition of one size shares, made once before any role
 * starts: the payload, its expected hashes, the source file; and the
 * source file's care between repetitions (evicted for --cache cold,
 * restored after --fault truncate).
 */
#include "run.h"
#include "inputs.h"
#include "harness/model/base.h"
#include "harness/model/scenario.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/*
 * After the expected hashes: damage the payload at byte `at` exactly (what
 * each kind does there: fault.h).  The payload's size changes with drop
 * and dup, so the source sends what a broken path would; dup's second copy
 * goes into the spare block payload_create maps past the end.  True when
 * the damage was done; false when `at` is out of reach (fault_check_reach
 * refuses that up front; the rep then fails as a fault that did not fire).
 */
static bool corrupt_payload(struct payload *p, enum corruption kind, uint64_t at)
{
	const uint64_t b = CORRUPT_BLOCK;
	unsigned char tmp[CORRUPT_BLOCK];
	uint64_t len;

	if (kind == CORRUPT_NONE || at >= p->size)
		return false;
	len = p->size - at < b ? p->size - at : b;
	switch (kind) {
	case CORRUPT_FLIP:
		p->data[at] ^= 0x10;
		return true;
	case CORRUPT_DROP:
		memmove(p->data + at, p->data + at + len, p->size - at - len);
		p->size -= len;
		return true;
	case CORRUPT_DUP:
		memmove(p->data + at + len, p->data + at, p->size - at);
		p->size += len;
		return true;
	case CORRUPT_SWAP:
		if (p->size - at < 2 * b)
			return false;
		memcpy(tmp, p->data + at, b);
		memcpy(p->data + at, p->data + at + b, b);
		memcpy(p->data + at + b, tmp, b);
		return true;
	default:
		return false;
	}
}

static bool interrupted(void)
{
	return run_interrupted != 0;
}

int run_inputs_prepare(struct run_inputs *in, const struct run_config *c,
		       char *err, size_t errlen)
{
	int r, fd;

	memset(in, 0, sizeof(*in));
	if ((r = payload_create(&in->payload, c->size, interrupted))) {
		if (r == -EINTR)
			snprintf(err, errlen, "interrupted by SIG%s (%s) while generating the payload",
				 sigabbrev_np(run_interrupted), strsignal(run_interrupted));
		else
			snprintf(err, errlen, "cannot map a %" PRIu64 "-byte payload: %s", c->size, strerror(-r));
		payload_destroy(&in->payload);
		return r;
	}
	/* --time: the source repeats the payload; any count of it is checked (verify.h). */
	r = c->time_s > 0 ? expected_build_ring(&in->expected, in->payload.data, c->size)
			  : expected_build(&in->expected, in->payload.data, c->size);
	if (r) {
		snprintf(err, errlen, "out of memory for chunk hashes");
		goto fail;
	}
	/* the answers hashed here, before any window, as the payload's are */
	if (c->scenario == SC_ECHO && c->response &&
	    (r = expected_build_answers(&in->answers, c->size / c->block, c->block, c->response))) {
		snprintf(err, errlen, "out of memory for the answers' chunk hashes");
		goto fail;
	}
	in->conns = run_conns(c);
	if (in->conns > 1) {
		if (!(in->slice = calloc(in->conns, sizeof(*in->slice)))) {
			r = -ENOMEM;
			snprintf(err, errlen, "out of memory for chunk hashes");
			goto fail;
		}
		for (unsigned i = 0; i < in->conns; i++) {
			uint64_t off, len;

			conn_slice(c->size, in->conns, i, &off, &len);
			if ((r = expected_build_slice(&in->slice[i], in->payload.data, off, len))) {
				snprintf(err, errlen, "out of memory for chunk hashes");
				goto fail;
			}
		}
	}
	in->corrupted = corrupt_payload(&in->payload, c->corrupt, c->corrupt_at);
	if (scenario_def(c->scenario)->in != EP_FILE)
		return 0;
	snprintf(in->source_path, sizeof(in->source_path), "%s/source-%" PRIu64 ".dat",
		 c->workdir, c->size);
	fd = open(in->source_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "creating source file %s: %s", in->source_path, strerror(errno));
		goto fail;
	}
	r = write_all(fd, in->payload.data, in->payload.size, &run_interrupted);
	close(fd);
	if (r) {
		snprintf(err, errlen, "writing source file %s: %s (%s)", in->source_path,
			 strerror(-r), errno_name(-r));
		goto fail;
	}
	return 0;
fail:
	run_inputs_release(in);
	return r;
}

void run_inputs_release(struct run_inputs *in)
{
	if (in->source_path[0])
		unlink(in->source_path);
	expected_free(&in->expected);
	expected_free(&in->answers);
	for (unsigned i = 0; in->slice && i < in->conns; i++)
		expected_free(&in->slice[i]);
	free(in->slice);
	payload_destroy(&in->payload);
	memset(in, 0, sizeof(*in));
}

/*
 * --cache cold: the source file leaves the page cache before each rep.
 * fadvise drops this file's clean pages; as root, drop_caches also drops
 * the dentries and inodes, as a reboot would.  The note says which.
 */
void evict_source(const char *path, char *note, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), dc;
	bool dropped = false;

	if (fd >= 0) {
		fdatasync(fd);
		posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
		close(fd);
	}
	dc = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
	if (dc >= 0) {
		dropped = write(dc, "3", 1) == 1;
		close(dc);
	}
	snprintf(note, len, "cold: posix_fadvise(DONTNEED)%s", dropped ? " + drop_caches" : "");
}

/* After --fault truncate: the next rep reads the whole file again. */
void restore_source(const struct run_inputs *in, uint64_t from)
{
	int fd = open(in->source_path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (from < in->payload.size && lseek(fd, (off_t)from, SEEK_SET) >= 0)
		write_all(fd, in->payload.data + from, in->payload.size - from, &run_interrupted);
	close(fd);
}
