/* SPDX-License-Identifier: MIT */
/*
 * Where `copylab serve` finds the file a request names: beneath --root
 * and nowhere else, a regular file or a directory's index.html, and
 * nothing else opened for reading.  openat2(RESOLVE_BENEATH) where the
 * kernel has it; else a walk of openat(O_NOFOLLOW), one component at a
 * time, that refuses what RESOLVE_BENEATH refuses (docs/threat-model.md).
 */
#ifndef COPYLAB_SERVE_PATH_H
#define COPYLAB_SERVE_PATH_H

#include "server.h"

#include <stdbool.h>
#include <sys/stat.h>

struct serve_root {
	int fd;				/* --root, O_PATH */
	/*
	 * false after openat2 said ENOSYS once (said on srv's log), or with
	 * the test-only COPYLAB_TEST_NO_OPENAT2=1: the walk from then on.
	 */
	bool have_openat2;
	struct ev_server *srv;
};

/*
 * The file a request's decoded path names: a regular file, or a
 * directory's index.html.  fd open for reading with *st filled, or
 * -status (403: out of the root, a link loop, not a regular file, no
 * index.html; 404: no such file).
 */
int serve_open_target(struct serve_root *r, const char *path, struct stat *st);

#endif
