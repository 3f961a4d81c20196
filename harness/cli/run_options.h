/* SPDX-License-Identifier: MIT */
/*
 * The options copylab run and bench share, parsed and checked before
 * anything runs, so that a usage error writes nothing.
 */
#ifndef COPYLAB_CLI_RUN_OPTIONS_H
#define COPYLAB_CLI_RUN_OPTIONS_H

#include "session.h"
#include "harness/engine/remote_auth.h"

#define DEFAULT_BLOCK (64 * 1024)
#define MAX_SWEEP 40

/* The command line of run or bench, as given. */
struct parsed {
	const char *scenario, *strategies, *transport, *out, *workdir;
	struct remote_key key;		/* nic: --key FILE, read while parsing */
	bool key_given;
	uint64_t size, block;
	bool block_set;			/* --block was given */
	uint64_t request;		/* echo --request; 0: not given (the request is --block) */
	const char *size_arg;		/* --size as given, for messages */
	const char *time_arg, *interval_arg;	/* --time and --interval as given (cfg holds their seconds) */
	long reps, warmup;
	bool json, quick, help, size_set, reps_set;
	bool no_bpf, require_bpf, tracer, no_tracer;
	const char *pin, *sweep;
	struct run_config cfg;
	struct link_config link;	/* veth */
	const char *link_opt;		/* the first veth option given, for a usage error */
	const char *peer;		/* nic */
};

/*
 * Parses run's options into p, or with bench set only those bench takes;
 * cmd names the command in messages.  0 or EXIT_USAGE after saying why.
 */
int parse_common(int argc, char **argv, const char *cmd, bool bench, struct parsed *p);

/* --pin for scenario sc into pin[] (role order).  0 or EXIT_USAGE. */
int parse_pin(const char *spec, enum scenario sc, int pin[MAX_ROLES]);

/* --sweep into values[]: how many, or -1 after a usage message. */
int parse_sweep(const char *spec, uint64_t values[MAX_SWEEP]);

/* --strategy LIST (or all) for scenario sc over tr into g.  0 or EXIT_USAGE. */
int parse_strategy_list(const char *list, enum scenario sc, int tr, struct group *g);

/* --conns and --sweep conns= against the rest of the run; may drop g's nat.  0 or EXIT_USAGE. */
int check_conns(const struct parsed *p, enum scenario sc, int tr, struct group *g);
/*
 * --time and --interval against the scenario, the transport and the rest
 * (--size, --conns, --fault, --timeout): usage errors before anything runs.
 * 0 or EXIT_USAGE.
 */
int check_bounds(const struct parsed *p, enum scenario sc, int tr);
/*
 * For --strategy all, once every check has passed: one stderr line naming
 * what all left out here and why (the refusal sentence of each).
 */
void say_left_out(const struct parsed *p, enum scenario sc, int tr, const struct group *g);

#endif
