/* SPDX-License-Identifier: MIT */
/*
 * The run engine: one repetition of one cell.  The parent prepares the
 * payload and descriptors, forks one process per role, releases them
 * together from a barrier, collects each role's report, kills whatever is
 * left on an error, a timeout or a signal, and verifies file outputs.
 */
#ifndef COPYLAB_RUN_H
#define COPYLAB_RUN_H

#include "rep.h"

int run_inputs_prepare(struct run_inputs *in, const struct run_config *c,
		       char *err, size_t errlen);
void run_inputs_release(struct run_inputs *in);

/*
 * Runs one repetition (rep 0 = warm-up).  0 when it completed and its
 * bytes verified (or were knowingly discarded); otherwise non-zero with
 * out->error saying what failed.
 */
int run_rep(const struct run_config *c, const struct strategy_spec *spec,
	    const struct run_inputs *in, int rep, struct rep_result *out);

#endif
