/* SPDX-License-Identifier: MIT */
/* The source file's care between repetitions (inputs.c); run_inputs_prepare is in run.h. */
#ifndef COPYLAB_INPUTS_H
#define COPYLAB_INPUTS_H

#include "rep.h"

#include <stddef.h>
#include <stdint.h>

/*
 * --cache cold: the source file leaves the page cache before each rep.
 * note says how (fadvise; drop_caches as root).
 */
void evict_source(const char *path, char *note, size_t len);
/* After --fault truncate: the file's bytes from `from` on written back. */
void restore_source(const struct run_inputs *in, uint64_t from);

#endif
