/* SPDX-License-Identifier: MIT */
/*
 * The one way the readers of a run directory open a file: regular files
 * only, opened so that a FIFO cannot block the open, and never more than a
 * cap read into memory, so a results directory that someone linked to
 * /dev/zero or a FIFO is refused instead of exhausting memory or hanging.
 */
#ifndef COPYLAB_RESULTS_BOUNDED_H
#define COPYLAB_RESULTS_BOUNDED_H

#include <stddef.h>

/*
 * Caps, each far above what a run writes: the biggest bench on the
 * reference machine wrote a results.jsonl of 2.4 MiB (480 records of up to
 * 7 KiB), a summary.csv of 41 KiB and an env.json of 20 KiB.  64 MiB of
 * records is some 12,000 repetitions and, parsed, about half a GiB of JSON
 * objects; more than that is not a copylab run.
 */
#define BOUNDED_CAP_RECORDS	((size_t)64 << 20)	/* results.jsonl, peers.jsonl */
#define BOUNDED_CAP_SUMMARY	((size_t)4 << 20)	/* summary.csv */
#define BOUNDED_CAP_ENV		((size_t)4 << 20)	/* env.json */

/*
 * The whole of PATH, NUL-terminated, malloc'd, in *text (length in *len,
 * which may be NULL), when PATH is (or links to) a regular file of at most
 * cap bytes, a cap also kept while reading (a file that grows under us).
 * 0, or a negative errno with err naming PATH and what is wrong:
 *   -ENOENT   there is no such file
 *   -EINVAL   not a regular file (a FIFO, a device, a directory, a socket)
 *   -EFBIG    more than cap bytes
 *   -EILSEQ   it holds a NUL byte: not text
 *   other     what open or read said
 */
int bounded_read(const char *path, size_t cap, char **text, size_t *len, char *err, size_t errlen);

/* bounded_read of any bytes (a chart image): NUL bytes allowed, never -EILSEQ. */
int bounded_read_bytes(const char *path, size_t cap, char **data, size_t *len, char *err, size_t errlen);
#define BOUNDED_CAP_CHART	((size_t)64 << 20)	/* a chart of plots/, inlined in report.html */

/* "a FIFO", "a directory", "a character device", ...: what a st_mode is. */
const char *bounded_file_kind(unsigned mode);

#endif
