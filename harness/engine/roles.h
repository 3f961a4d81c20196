/* SPDX-License-Identifier: MIT */
/*
 * The roles of a repetition.  The tested role drives a strategy; the fixed
 * roles (source, sink, echo client) are one implementation for every
 * strategy, so only the role under test differs between cells.
 */
#ifndef COPYLAB_ROLES_H
#define COPYLAB_ROLES_H

#include "rep.h"

/* Runs in the child; never returns. */
void role_main(const struct role_ctx *r) __attribute__((noreturn));

#endif
