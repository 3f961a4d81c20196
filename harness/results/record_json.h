/* SPDX-License-Identifier: MIT */
/*
 * One repetition as its results.jsonl record (record_json.c;
 * docs/results.md), and the figures the summary states as the record does.
 */
#ifndef COPYLAB_RECORD_JSON_H
#define COPYLAB_RECORD_JSON_H

#include "record.h"

#include <jansson.h>
#include <stdbool.h>

/* One repetition as a JSON object (the record of docs/results.md). */
json_t *rep_to_json(const struct rep_result *rep, const char *run_id);
/*
 * A BPF ledger as the record's roles.ROLE.bpf object (docs/results.md);
 * payload (bytes moved) gives its per_gib figures, 0 leaves them null.
 */
json_t *ledger_counts_json(const struct ledger_counts *l, uint64_t payload);

/* The record's "verified": the run completed and every byte was checked good. */
bool rep_verified(const struct rep_result *rep);
/* CPU seconds (user + system) per GiB this role moved; NAN if it moved none. */
double role_cpu_per_gib(const struct role_result *role);

#endif
