/* SPDX-License-Identifier: MIT */
/*
 * The scenario table: each data path, its endpoints and its roles.  The
 * run engine builds descriptors from it; `copylab list` prints it.
 */
#ifndef COPYLAB_SCENARIO_H
#define COPYLAB_SCENARIO_H

#include "strategies/strategy.h"

#include <stdbool.h>
#include <stddef.h>

#define MAX_ROLES 4
#define MAX_CONNS 256	/* --conns: parallel transfers of one cell, at most */

struct scenario_def {
	const char *name;
	const char *path;		/* "file -> socket" */
	const char *summary;		/* what the role under test is in real life */
	enum endpoint_kind in, out;
	bool out2_file;			/* fanout also records to a file */
	bool uses_transport;		/* has sockets: tcp/unix apply */
	int nroles;
	const char *roles[MAX_ROLES];	/* the role under test first */
	bool many_conns;		/* --conns N: parallel connections apply */
};

const struct scenario_def *scenario_def(enum scenario sc);
/* "serve", ...; NULL for a value out of range. */
const char *scenario_name(enum scenario sc);
/* -1 when unknown. */
int scenario_find(const char *name);
/* "serve, send, ..." into buf, for error messages. */
const char *scenario_names(char *buf, size_t len);

#endif
