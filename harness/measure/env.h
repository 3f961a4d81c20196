/* SPDX-License-Identifier: MIT */
/* env.json's facts of the machine and build (env.c); results_open writes them. */
#ifndef COPYLAB_ENV_H
#define COPYLAB_ENV_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * What the command line set for every cell of a run, so that two runs can
 * be told apart by more than their figures (copylab compare).  Conditions
 * that vary per cell (size, block, conns of a sweep, cache, pipe) are in
 * the records as well.
 */
struct env_conditions {
	char **argv;			/* the whole command line, NULL-terminated */
	int sndbuf, rcvbuf;		/* 0: the kernel's default */
	uint64_t pipe_size;		/* --pipe-size asked; 0: the kernel's default */
	const char *pin;		/* --pin as given; NULL: auto */
	bool cache_cold, nonblock, sink_discard, no_perf, profile;
	double timeout_s;
	long reps, warmup;
	unsigned conns, outstanding;	/* 0: not given (1) */
	const char *sweep;		/* NULL: none */
	const char *workdir;		/* NULL: /var/tmp */
	const char *bpf, *tracer, *cputime;	/* the probes' notes: "ok (...)", "off (...)", or why not */
};

/* env.json's "conditions" object (docs/results.md); NULL when out of memory. */
json_t *env_conditions_json(const struct env_conditions *c);
/* The type of the filesystem holding PATH ("tmpfs", "ext4", "0x1234"); NULL when statfs fails. */
const char *env_fs_type(const char *path, char *buf, size_t len);

/*
 * Whether a network interface is virtual, from its ethtool driver name
 * (NULL or "": none could be read) and whether it has a backing device
 * (/sys/class/net/IF/device).  Over a virtual link the data never meets a
 * NIC: zero-copy sends complete as copied and the figures are the
 * kernel's, not a wire's.  When virtual, *kind names it for a sentence
 * ("a veth", "a device with no hardware behind it") and why says how it
 * was judged (env.json's virtual_reason).  No I/O.
 */
bool env_link_virtual(const char *driver, bool has_device, char *kind, size_t kindlen, char *why, size_t whylen);

/* The environment: kernel, CPU, cores, page size, pipe max, versions, git. */
json_t *env_collect(void);

#endif
