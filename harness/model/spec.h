/* SPDX-License-Identifier: MIT */
/*
 * A strategy as the user asked for it: the module and the tunables of its
 * label ("splice:more:pipe=1M").  The option parser makes it; the engine,
 * the tools and the reports read it.
 */
#ifndef COPYLAB_SPEC_H
#define COPYLAB_SPEC_H

#include "strategies/strategy.h"

/* A strategy as asked for: the module plus the options in its label. */
struct strategy_spec {
	const struct strategy *s;
	char label[48];
	struct tunables tun;
};

#endif
