/* SPDX-License-Identifier: MIT */
/* `copylab ladder`: Mazzoli's pipe ladder, his reader's and the verified one, as ratios. */
#ifndef COPYLAB_LADDER_H
#define COPYLAB_LADDER_H

/* 0, EXIT_RUN_FAILED when a run failed (the table still shows what ran), EXIT_USAGE. */
int cmd_ladder(int argc, char **argv);

#endif
