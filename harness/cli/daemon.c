/* SPDX-License-Identifier: MIT */
/*
 * `copylab sink` and `copylab source`: the far host's fixed roles in nic
 * mode.  Each listens on exactly the address given (no wildcard default)
 * and serves one run at a time for `copylab run --transport nic --peer`.
 */
#include "cli.h"
#include "harness/model/options.h"
#include "harness/engine/remote.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

int cmd_sink(int argc, char **argv);
int cmd_source(int argc, char **argv);

static const char daemon_help[] =
"usage: copylab %s --listen ADDR:PORT [--runs N] [--quiet]\n"
"\n"
"The far end of nic mode: plays the fixed %s for `copylab run --transport nic\n"
"--peer HOST:PORT` on another host, one run at a time.  The control channel\n"
"and the data connections share ADDR:PORT; the %s regenerates the pattern\n"
"and %s, and sends back its counters (CPU user/system, context switches,\n"
"faults over its window)%s.\n"
"\n"
"  --listen ADDR:PORT   the one address to bind: an interface's address, or\n"
"                       [v6]:PORT; 0.0.0.0 only if you mean every interface\n"
"  --runs N             exit after N runs (default: serve until SIGINT/SIGTERM)\n"
"  --quiet              no line per run on stderr\n"
"\n"
"Exit status: 0 stopped, 1 cannot listen, 2 bad usage.\n";

static int cmd_daemon(int argc, char **argv, enum role_kind kind)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "runs", required_argument, NULL, 'n' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *name = kind == RK_SINK ? "sink" : "source", *listen_addr = NULL;
	long runs = 0;
	bool quiet = false;
	char err[320];
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'l': listen_addr = optarg; break;
		case 'q': quiet = true; break;
		case 'n':
			if (parse_count("--runs", optarg, 1, 1000000, &runs, err, sizeof(err)))
				return usage_error("%s", err);
			break;
		case 'h':
			printf(daemon_help, name, name, name,
			       kind == RK_SINK ? "verifies every byte it receives (XXH3, first bad offset)"
					       : "sends it as the stream",
			       kind == RK_SINK ? " and its verdict" : "");
			return 0;
		case ':':
			return usage_error("%s: option '%s' needs a value (see copylab %s --help)", name, argv[optind - 1], name);
		default:
			return usage_error("%s: unknown option '%s' (see copylab %s --help)", name, argv[optind - 1], name);
		}
	}
	if (optind < argc)
		return usage_error("%s: unexpected argument '%s' (see copylab %s --help)", name, argv[optind], name);
	if (!listen_addr)
		return usage_error("%s: --listen ADDR:PORT is required: the daemon binds only the address it is given", name);
	return remote_daemon(kind, listen_addr, (int)runs, !quiet);
}

int cmd_sink(int argc, char **argv)
{
	return cmd_daemon(argc, argv, RK_SINK);
}

int cmd_source(int argc, char **argv)
{
	return cmd_daemon(argc, argv, RK_SOURCE);
}
