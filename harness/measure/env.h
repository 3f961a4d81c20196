/* SPDX-License-Identifier: MIT */
/* env.json's facts of the machine and build (env.c); results_open writes them. */
#ifndef COPYLAB_ENV_H
#define COPYLAB_ENV_H

#include <jansson.h>

/* The environment: kernel, CPU, cores, page size, pipe max, versions, git. */
json_t *env_collect(void);

#endif
