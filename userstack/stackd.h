/* SPDX-License-Identifier: MIT */
/* copylab stackd: lwIP over a netif backend, serving shimmed programs over a Unix socket. */
#ifndef COPYLAB_USERSTACK_STACKD_H
#define COPYLAB_USERSTACK_STACKD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct stackd_config {
	const char *name;	/* the NAME of --netns: copylab-<pid>-NAME */
	const char *netif;	/* backend: "tap" */
	const char *socket;	/* control socket path, NULL: US_SOCKET_DIR/copylab-<pid>-NAME.sock */
	bool quiet;
	/* Who may use the stack besides the user who started it (docs/threat-model-stackd.md). */
	bool group_set;
	gid_t group;		/* --group: its members, by the peer's gid or supplementary groups */
};

/* Runs until SIGINT/SIGTERM/SIGHUP; removes what it made on every exit.  An exit status. */
int stackd_run(const struct stackd_config *cfg);

/* NAME as --netns takes it: 1 to 24 of [a-z0-9_-]. */
bool stackd_name_ok(const char *name);

#endif
