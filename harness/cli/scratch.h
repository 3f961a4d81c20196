/* SPDX-License-Identifier: MIT */
/*
 * A run's scratch directory (BASE/copylab-PID-XXXXXX: its source files and
 * outputs), and the removal of those a killed run left.  copylab runs as
 * root and BASE may be anyone's (--workdir, /var/tmp), so it removes only
 * what it can prove it made: a directory of its name form, owned by this
 * euid, holding a marker written at creation that names the boot, the pid
 * namespace, the pid and that process's start time, whose run is gone.
 * Removal walks with openat and unlinkat and never follows a symlink.
 */
#ifndef COPYLAB_CLI_SCRATCH_H
#define COPYLAB_CLI_SCRATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Makes the directory under base and its marker; 0, or -errno with err. */
int scratch_create(const char *base, char *path, size_t pathlen, char *err, size_t errlen);
/* At the run's end: the marker, then the directory if it is empty. */
void scratch_remove(const char *path);
/*
 * Removes the scratch of dead runs under base, as said above (dry: only
 * says so); a line for each one of our name form on report unless NULL.
 * How many were (or would be) removed.
 */
int scratch_sweep(const char *base, bool dry, FILE *report);
/*
 * Remembers base (a --workdir) in this user's registry of scratch bases,
 * so `copylab cleanup` finds what a killed run left there.
 */
void scratch_note_base(const char *base);
/* scratch_sweep over /var/tmp and every base in the registry. */
int scratch_sweep_known(bool dry, FILE *report);

/*
 * The verdict on one entry of base, for the tests: 1 remove, 0 keep.  Only
 * reads; *why says which rule kept it.
 */
int scratch_is_dead_run(int basefd, const char *name, const char **why);

#endif
