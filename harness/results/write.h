/* SPDX-License-Identifier: MIT */
/*
 * Results of a run directory: results.jsonl (one record per counted
 * repetition), summary.csv and env.json.  Every file is replaced atomically
 * (written to a temporary name in the same directory, then renamed), so an
 * interrupted run leaves whole lines and a summary that agrees with them.
 */
#ifndef COPYLAB_RESULTS_H
#define COPYLAB_RESULTS_H

#include "record_json.h"	/* the record itself, for those that print one (run, probe) */
#include "record.h"

#include <jansson.h>
#include <stdio.h>

struct results;

/*
 * Creates DIR (and parents), takes its lock (DIR/.copylab.lock, held until
 * results_close, so one run writes a directory at a time), writes
 * env.json.  0 with *out set, or a negative errno with err filled:
 *   -EBUSY    another run holds DIR (err names its pid and command line)
 *   -EEXIST   DIR already holds a run's results.jsonl
 *   -ENOTDIR  DIR, or a component of it, is not a directory
 *   other     what mkdir, open or the write of env.json said (-EACCES, -EROFS, ...)
 */
int results_create(const char *dir, const char *run_id, struct results **out, char *err, size_t errlen);
/* results_create returning the handle: NULL with err filled on failure. */
struct results *results_open(const char *dir, const char *run_id, char *err, size_t errlen);
/*
 * Adds a counted repetition and rewrites results.jsonl.  0 or -errno:
 * -EFBIG when its record would take results.jsonl past what the readers
 * take (BOUNDED_CAP_RECORDS).  A record whose interval series would is
 * written without it, with "intervals_omitted" saying why (and stderr).
 */
int results_add(struct results *r, const struct rep_result *rep);
/* Lowers the most results.jsonl may hold below BOUNDED_CAP_RECORDS (a test's small cap). */
void results_set_records_cap(struct results *r, size_t cap);
/* Rewrites summary.csv from the records added so far.  0 or -errno. */
int results_write_summary(struct results *r);
/* The readable table of the summary (median [min..max], ratio, CPU/GiB). */
void results_print_table(const struct results *r, FILE *out);
void results_close(struct results *r);
const char *results_dir(const struct results *r);

/* mkdir -p DIR (0755): 0, or -errno (-ENOTDIR when a file has the name). */
int mkdir_p(const char *dir);
/* Writes text to path atomically (tmp + fsync + rename).  0 or -errno. */
int write_file_atomic(const char *path, const char *text, size_t len);

/* A key added to env.json by the next results_open (steals value): the transport's facts. */
void results_env_extra(const char *key, json_t *value);

#endif
