/* SPDX-License-Identifier: MIT */
/*
 * The command line `copylab serve` and `copylab relay` share (see
 * ev_server_configure in server.h): one shape of options, one set of
 * checks, each tool's names in its struct ev_tool.
 */
#include "server.h"
#include "harness/cli/cli.h"
#include "harness/model/options.h"

#include <getopt.h>
#include <string.h>

enum { OPT_LISTEN = 256, OPT_TARGET, OPT_STRATEGY, OPT_BLOCK, OPT_MAXC, OPT_OWN_TIMEOUT,
       OPT_IDLE_TIMEOUT, OPT_FIN_TIMEOUT, OPT_MAX_REQUESTS, OPT_BACKLOG, OPT_GRACE, OPT_LOG,
       OPT_QUIET };

struct cli_args {
	const char *label;
	bool block_set;
};

/* --NAME S for a timeout: more than 0 seconds.  0, or the exit status. */
static int parse_timeout(const char *name, const char *arg, int64_t *ms)
{
	char err[512];
	double secs;

	if (parse_seconds(name, arg, &secs, err, sizeof(err)))
		return usage_error("%s", err);
	if (secs <= 0)
		return usage_error("%s must be more than 0 seconds", name);
	*ms = (int64_t)(secs * 1000);
	return 0;
}

/* One of the options above.  0, or the exit status. */
static int parse_option(struct ev_server *srv, struct cli_args *a, int opt, const char *arg)
{
	char err[512], name[64];
	uint64_t block;
	long n;

	switch (opt) {
	case OPT_LISTEN: srv->listen_s = arg; return 0;
	case OPT_TARGET: srv->target_s = arg; return 0;
	case OPT_STRATEGY: a->label = arg; return 0;
	case OPT_QUIET: srv->quiet = true; return 0;
	case OPT_BLOCK:
		if (parse_size("--block", arg, 1ull << 30, &block, err, sizeof(err)))
			return usage_error("%s", err);
		if (block == 0)
			return usage_error("--block must be at least 1 byte");
		srv->block = (size_t)block;
		a->block_set = true;
		return 0;
	case OPT_MAXC:
		if (parse_count("--max-conns", arg, 1, 1000000, &n, err, sizeof(err)))
			return usage_error("%s", err);
		srv->max_conns = n;
		return 0;
	case OPT_OWN_TIMEOUT:
		snprintf(name, sizeof(name), "--%s", srv->tool->own_timeout_opt);
		return parse_timeout(name, arg, &srv->own_timeout_ms);
	case OPT_IDLE_TIMEOUT:
		return parse_timeout("--idle-timeout", arg, &srv->idle_timeout_ms);
	case OPT_FIN_TIMEOUT:
		return parse_timeout("--fin-timeout", arg, &srv->fin_timeout_ms);
	case OPT_GRACE:
		return parse_timeout("--grace", arg, &srv->grace_ms);
	case OPT_MAX_REQUESTS:
		if (parse_count("--max-requests", arg, 1, 1000000000, &n, err, sizeof(err)))
			return usage_error("%s", err);
		srv->max_requests = n;
		return 0;
	case OPT_BACKLOG:
		/* listen(2) takes an int; the kernel caps it at net.core.somaxconn anyway. */
		if (parse_count("--backlog", arg, 1, 65535, &n, err, sizeof(err)))
			return usage_error("%s", err);
		srv->backlog = (int)n;
		return 0;
	case OPT_LOG:
		if (!*arg)
			return usage_error("--log needs a file name");
		srv->log_path = arg;
		return 0;
	}
	return EXIT_USAGE;
}

/* The options, in the order the usage lists them.  true to go on. */
static bool parse_options(struct ev_server *srv, struct cli_args *a, int argc, char **argv,
			  int *status)
{
	const struct ev_tool *t = srv->tool;
	struct option longopts[16] = {
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ t->target_opt, required_argument, NULL, OPT_TARGET },
		{ "strategy", required_argument, NULL, OPT_STRATEGY },
		{ "block", required_argument, NULL, OPT_BLOCK },
		{ "max-conns", required_argument, NULL, OPT_MAXC },
		{ t->own_timeout_opt, required_argument, NULL, OPT_OWN_TIMEOUT },
		{ "idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT },
		{ "backlog", required_argument, NULL, OPT_BACKLOG },
		{ "grace", required_argument, NULL, OPT_GRACE },
		{ "log", required_argument, NULL, OPT_LOG },
		{ "quiet", no_argument, NULL, OPT_QUIET },
		{ "help", no_argument, NULL, 'h' },
	};
	size_t nopt = 12;

	/* A tool's own options (EV_OPT_*) exist only for it; the rest stay zero (the end). */
	if (t->own_opts & EV_OPT_FIN_TIMEOUT)
		longopts[nopt++] = (struct option){ "fin-timeout", required_argument, NULL, OPT_FIN_TIMEOUT };
	if (t->own_opts & EV_OPT_MAX_REQUESTS)
		longopts[nopt++] = (struct option){ "max-requests", required_argument, NULL, OPT_MAX_REQUESTS };
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (opt == 'h') {
			t->usage(stdout);
			*status = 0;
			return false;
		}
		if (opt < OPT_LISTEN || opt > OPT_QUIET) {
			t->usage(stderr);	/* getopt_long said what is wrong */
			*status = EXIT_USAGE;
			return false;
		}
		*status = parse_option(srv, a, opt, optarg);
		if (*status)
			return false;
	}
	if (optind < argc) {
		*status = usage_error("%s: unexpected argument '%s' (see copylab %s --help)", t->name,
				      argv[optind], t->name);
		return false;
	}
	if (!srv->listen_s || !srv->target_s) {
		*status = usage_error("%s needs --listen ADDR:PORT and --%s %s (see copylab %s --help)",
				      t->name, t->target_opt, t->target_arg, t->name);
		return false;
	}
	return true;
}

bool ev_server_configure(struct ev_server *srv, int argc, char **argv, int *status)
{
	const struct ev_tool *t = srv->tool;
	struct cli_args a = { .label = t->default_label };
	char err[512];
	struct refusal why;

	srv->block = 64 * 1024;
	srv->max_conns = 1024;
	srv->backlog = 1024;
	srv->grace_ms = 10000;
	if (!parse_options(srv, &a, argc, argv, status))
		return false;
	if (parse_strategy_spec(a.label, &srv->spec, err, sizeof(err))) {
		*status = usage_error("%s", err);
		return false;
	}
	/*
	 * Whatever else a strategy waits on (an io_uring ring, a timer, the
	 * socket's error queue) is a descriptor the tool's epoll set watches
	 * beside the connection: only a strategy that runs no process at all
	 * (nat) has nothing to work with.
	 */
	why = strategy_refusal(srv->spec.s, &EV_PLACE(t->scenario));
	if (why.kind != REFUSE_NONE) {
		*status = usage_error("%s cannot %s%s: %s", srv->spec.s->name, t->cannot,
				      why.kind == REFUSE_PROCESS ? " with this tool" : "", why.why);
		return false;
	}
	if ((why.why = spec_option_refusal(&srv->spec, t->scenario, false))) {
		*status = usage_error("%s cannot %s: %s", srv->spec.label, t->cannot, why.why);
		return false;
	}
	ev_call_sizes(srv->spec.s, &srv->spec.tun, &srv->block, a.block_set, t->big_block);
	if (ev_parse_addr(srv->listen_s, &srv->listen_addr, &srv->listen_len, err, sizeof(err))) {
		*status = usage_error("--listen %s", err);
		return false;
	}
	return true;
}
