/* SPDX-License-Identifier: MIT */
/*
 * Bounded reads of a run directory's files (bounded.h): type checked on
 * the open descriptor, size capped before and while reading.
 */
#include "bounded.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *bounded_file_kind(unsigned mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG: return "a regular file";
	case S_IFDIR: return "a directory";
	case S_IFIFO: return "a FIFO";
	case S_IFCHR: return "a character device";
	case S_IFBLK: return "a block device";
	case S_IFSOCK: return "a socket";
	default: return "not a file";
	}
}

static int too_big(const char *path, unsigned long long size, size_t cap, const char *when,
		   char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: %llu bytes%s, more than the %zu MiB a copylab run writes there "
		 "(not a results file?)", path, size, when, cap >> 20);
	return -EFBIG;
}

/* Reads fd to its end into a buffer of at most cap + 1 bytes; -EFBIG past cap. */
static int read_capped(int fd, const char *path, size_t hint, size_t cap, char **text, size_t *len,
		       char *err, size_t errlen)
{
	size_t size = (hint < cap ? hint : cap) + 2, n = 0;
	char *buf = malloc(size);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t r;

		if (n + 1 == size) {
			/* Grew since fstat: follow it, but only up to one byte past the cap. */
			size_t ns = size * 2 < cap + 2 ? size * 2 : cap + 2;
			char *nb = ns > size ? realloc(buf, ns) : NULL;

			if (!nb) {
				free(buf);
				return ns > size ? -ENOMEM : too_big(path, n, cap, " (it grew while read)", err, errlen);
			}
			buf = nb;
			size = ns;
		}
		r = read(fd, buf + n, size - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = -errno;

			free(buf);
			snprintf(err, errlen, "%s: %s", path, strerror(-e));
			return e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > cap) {
		free(buf);
		return too_big(path, n, cap, " (it grew while read)", err, errlen);
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

static int read_file(const char *path, size_t cap, bool text_only, char **text, size_t *len, char *err, size_t errlen)
{
	/* O_NONBLOCK: opening a FIFO for reading would wait for a writer. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	struct stat st;
	size_t n = 0;
	char *nul;
	int rc;

	*text = NULL;
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	/* fstat of what was opened, not stat of the name: no swap in between. */
	if (fstat(fd, &st) != 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
	} else if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file (%s); a results directory holds the files "
			 "copylab wrote", path, bounded_file_kind(st.st_mode));
		rc = -EINVAL;
	} else if ((unsigned long long)st.st_size > cap) {
		rc = too_big(path, (unsigned long long)st.st_size, cap, "", err, errlen);
	} else {
		rc = read_capped(fd, path, (size_t)st.st_size, cap, text, &n, err, errlen);
		if (rc == -ENOMEM)
			snprintf(err, errlen, "%s: out of memory", path);
	}
	close(fd);
	if (rc == 0 && text_only && (nul = memchr(*text, '\0', n))) {
		snprintf(err, errlen, "%s: a NUL byte at offset %zu: not a text file", path, (size_t)(nul - *text));
		free(*text);
		*text = NULL;
		rc = -EILSEQ;
	}
	if (rc == 0 && len)
		*len = n;
	return rc;
}

int bounded_read(const char *path, size_t cap, char **text, size_t *len, char *err, size_t errlen)
{
	return read_file(path, cap, true, text, len, err, errlen);
}

int bounded_read_bytes(const char *path, size_t cap, char **data, size_t *len, char *err, size_t errlen)
{
	return read_file(path, cap, false, data, len, err, errlen);
}
