/* SPDX-License-Identifier: MIT */
/* TEMPORARY stub so the tree links while the BPF ledger is written; replace whole. */
#include "ledger.h"

#include <errno.h>
#include <stdio.h>

int ledger_open(struct ledger **out, char *why, size_t whylen)
{
	*out = NULL;
	snprintf(why, whylen, "unavailable: not built yet");
	return -ENOTSUP;
}
void ledger_close(struct ledger *l) { (void)l; }
const char *ledger_describe(const struct ledger *l) { (void)l; return "none"; }
int ledger_reset(struct ledger *l, int slot) { (void)l; (void)slot; return -ENOTSUP; }
int ledger_window_begin(struct ledger *l, int slot) { (void)l; (void)slot; return -ENOTSUP; }
int ledger_window_end(struct ledger *l) { (void)l; return -ENOTSUP; }
int ledger_read(struct ledger *l, int slot, struct ledger_counts *out) { (void)l; (void)slot; (void)out; return -ENOTSUP; }
const char *ledger_family_name(enum ledger_family f)
{
	static const char *const n[LF_COUNT] = { "read", "write", "splice", "wait", "uring", "other" };
	return f < LF_COUNT ? n[f] : "?";
}
