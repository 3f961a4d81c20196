/* SPDX-License-Identifier: MIT */
/* copylab: compare the ways Linux moves bytes.  Dispatches the subcommands. */
#include "cli.h"
#include "harness/report/labcheck.h"
#include "harness/report/ladder.h"

#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *what;
} commands[] = {
	{ "list", cmd_list, "strategies, scenarios, transports and which pairs can run" },
	{ "run", cmd_run, "run one scenario with one or more strategies, verified, and write results" },
	{ "bench", cmd_bench, "run the default matrix (every supported scenario x strategy)" },
	{ "serve", cmd_serve, "a static HTTP/1.1 file server whose bodies move by a strategy (curl, wrk)" },
	{ "relay", cmd_relay, "a TCP proxy whose two directions move by a strategy (iperf3)" },
	{ "trace", cmd_trace, "run any program under the LD_PRELOAD tracer and print its copy ledger" },
	{ "probe", cmd_probe, "the BPF copy ledger of running processes (a server) while a command runs" },
	{ "plot", cmd_plot, "draw the charts and the report of a results directory" },
	{ "compare", cmd_compare, "two results directories side by side, with ratios" },
	{ "copy", cmd_copy, "copy a file with any copy strategy, like cp" },
	{ "explain", cmd_explain, "a strategy's page in short, and the scenarios it can and cannot run" },
	{ "claims", cmd_claims, "each claim of the zero-copy articles, measured here, with a verdict" },
	{ "advise", cmd_advise, "rank the strategies for one workload on this machine, with caveats" },
	{ "ladder", cmd_ladder, "Mazzoli's pipe ladder: his four steps as ratios, his reader's and the verified one" },
	{ "lab", cmd_lab, "check a student's results of a lab against its key (lab check N DIR)" },
	{ "sink", cmd_sink, "nic mode, on the far host: the fixed sink daemon (--listen ADDR:PORT)" },
	{ "source", cmd_source, "nic mode, on the far host: the fixed source daemon (--listen ADDR:PORT)" },
	{ "stackd", cmd_stackd, "the user-space TCP stack (lwIP) over a TAP in a namespace of its own" },
	{ "stack", cmd_stack, "run any program with its TCP sockets through stackd (LD_PRELOAD shim)" },
	{ "cleanup", cmd_cleanup, "remove copylab-* namespaces, links, qdiscs and nft tables a killed run left" },
	{ "xdp", cmd_xdp, "AF_XDP on a veth pair: the modes this kernel allows, each checked byte-exact" },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: copylab COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-7s %s\n", commands[i].name, commands[i].what);
	fprintf(out, "\n`copylab COMMAND --help` describes each one.  Exit status: 0 success,\n"
		     "1 a run failed (verification, syscall error, timeout), 2 bad usage.\n");
}

int main(int argc, char **argv)
{
	copylab_argv = argv;
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	char names[256];
	size_t used = 0;

	/* The valid names from the table itself, so the message never lags behind it. */
	names[0] = '\0';
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]) && used < sizeof(names); i++)
		used += snprintf(names + used, sizeof(names) - used, "%s%s", i ? ", " : "", commands[i].name);
	return usage_error("unknown command '%s'; valid: %s (see copylab --help)", argv[1], names);
}
