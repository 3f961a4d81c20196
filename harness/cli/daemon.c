/* SPDX-License-Identifier: MIT */
/*
 * `copylab sink` and `copylab source`: the far host's fixed roles in nic
 * mode.  Each listens on exactly the address given (no wildcard default)
 * and serves one run at a time for `copylab run --transport nic --peer`.
 */
#include "cli.h"
#include "harness/model/options.h"
#include "harness/engine/remote.h"
#include "harness/engine/remote_wire.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

int cmd_sink(int argc, char **argv);
int cmd_source(int argc, char **argv);

static const char daemon_help[] =
"usage: copylab %s --listen ADDR:PORT (--key FILE | --insecure-no-auth)\n"
"                   [--max-size SIZE] [--run-timeout SECONDS] [--runs N] [--quiet]\n"
"       copylab %s --make-key FILE\n"
"\n"
"The far end of nic mode: plays the fixed %s for `copylab run --transport nic\n"
"--peer HOST:PORT --key FILE` on another host, one run at a time.  The control\n"
"channel and the data connections share ADDR:PORT.  The %s regenerates the\n"
"pattern and %s;\n"
"it sends back its counters (CPU user/system, context switches, faults over\n"
"its window)%s.\n"
"docs/threat-model-nic.md says who may reach it and what it refuses.\n"
"\n"
"  --listen ADDR:PORT   the one address to bind: an interface's address, or\n"
"                       [v6]:PORT; 0.0.0.0 only if you mean every interface\n"
"  --key FILE           the shared secret (16 to 4096 bytes, mode 0600 or\n"
"                       stricter); a driver must prove it holds a copy before\n"
"                       anything runs\n"
"  --make-key FILE      write a new key (32 random bytes, mode 0600) and exit;\n"
"                       copy it to the driver's host by a channel you trust\n"
"  --insecure-no-auth   take runs from anyone who can reach ADDR:PORT\n"
"  --max-size SIZE      refuse a run above SIZE bytes before allocating it\n"
"                       (default: half of MemAvailable at start)\n"
"  --run-timeout SECS   the least time a run is given, from its run message\n"
"                       to its result (default 60; a size that needs longer\n"
"                       at 1 MB/s gets that)\n"
"  --runs N             exit after N runs (default: serve until SIGINT/SIGTERM)\n"
"  --quiet              no line per run on stderr\n"
"\n"
"Exit status: 0 stopped (or key written), 1 cannot listen (or write the key),\n"
"2 bad usage.\n";

/* Half of MemAvailable: the payload and its hashes must fit beside what the host is doing. */
static uint64_t default_max_size(void)
{
	char text[8192];
	FILE *f = fopen("/proc/meminfo", "re");
	uint64_t avail = 0;
	size_t n;

	if (!f)
		return 1ull << 30;	/* cannot tell: a modest 1 GiB */
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	return parse_meminfo_available(text, &avail) == 0 && avail ? avail / 2 : 1ull << 30;
}

/* The daemon's options after --listen: the key, the limits.  0 or EXIT_USAGE after saying why. */
struct daemon_args {
	const char *listen_addr, *key_file, *make_key;
	bool insecure, quiet, max_size_set;
	long runs, run_timeout;
	uint64_t max_size;
};

static int parse_daemon_args(int argc, char **argv, const char *name, struct daemon_args *a)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "key", required_argument, NULL, 'k' },
		{ "make-key", required_argument, NULL, 'K' },
		{ "insecure-no-auth", no_argument, NULL, 'I' },
		{ "max-size", required_argument, NULL, 'm' },
		{ "run-timeout", required_argument, NULL, 't' },
		{ "runs", required_argument, NULL, 'n' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	char err[320];
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		int r = 0;

		switch (c) {
		case 'l': a->listen_addr = optarg; break;
		case 'k': a->key_file = optarg; break;
		case 'K': a->make_key = optarg; break;
		case 'I': a->insecure = true; break;
		case 'q': a->quiet = true; break;
		case 'm':
			r = parse_size("--max-size", optarg, CTL_SIZE_MAX, &a->max_size, err, sizeof(err));
			a->max_size_set = true;
			break;
		case 't': r = parse_count("--run-timeout", optarg, 1, 86400, &a->run_timeout, err, sizeof(err)); break;
		case 'n': r = parse_count("--runs", optarg, 1, 1000000, &a->runs, err, sizeof(err)); break;
		case 'h': return -1;
		case ':':
			return usage_error("%s: option '%s' needs a value (see copylab %s --help)", name, argv[optind - 1], name);
		default:
			return usage_error("%s: unknown option '%s' (see copylab %s --help)", name, argv[optind - 1], name);
		}
		if (r)
			return usage_error("%s: %s", name, err);
	}
	if (optind < argc)
		return usage_error("%s: unexpected argument '%s' (see copylab %s --help)", name, argv[optind], name);
	if (a->make_key && (a->listen_addr || a->key_file || a->insecure))
		return usage_error("%s: --make-key FILE writes a key and exits: give it alone", name);
	if (a->make_key)
		return 0;
	if (!a->listen_addr)
		return usage_error("%s: --listen ADDR:PORT is required: the daemon binds only the address it is given", name);
	char host[256], port[16];

	if (remote_split_hostport(a->listen_addr, host, sizeof(host), port, sizeof(port)))
		return usage_error("%s: --listen '%s' is not ADDR:PORT ([v6]:PORT for IPv6)", name, a->listen_addr);
	if (a->key_file && a->insecure)
		return usage_error("%s: --key and --insecure-no-auth contradict each other: give one", name);
	if (!a->key_file && !a->insecure)
		return usage_error("%s: --key FILE is required (make one with `copylab %s --make-key FILE` and copy it to "
				   "the driver's host); --insecure-no-auth serves anyone who can reach %s", name, name,
				   a->listen_addr);
	return 0;
}

static int cmd_daemon(int argc, char **argv, enum role_kind kind)
{
	const char *name = kind == RK_SINK ? "sink" : "source";
	struct daemon_args a = { .run_timeout = 60 };
	static struct remote_key key;
	char err[400];
	int r = parse_daemon_args(argc, argv, name, &a);

	if (r < 0) {
		printf(daemon_help, name, name, name, name,
		       kind == RK_SINK ? "verifies every byte it receives (XXH3, first bad offset)" : "sends it as the stream",
		       kind == RK_SINK ? " and its verdict" : "");
		return 0;
	}
	if (r)
		return r;
	if (a.make_key) {
		if (remote_key_make(a.make_key, err, sizeof(err))) {
			fprintf(stderr, "copylab %s: %s\n", name, err);
			return EXIT_RUN_FAILED;
		}
		fprintf(stderr, "copylab %s: wrote a new key to %s (mode 0600): give it to both ends as --key\n", name, a.make_key);
		return 0;
	}
	if (a.key_file && remote_key_load(a.key_file, &key, err, sizeof(err)))
		return usage_error("%s: --key: %s", name, err);
	if (a.insecure)
		fprintf(stderr, "copylab %s: WARNING: --insecure-no-auth: anyone who can reach %s can make this host "
			"allocate and move up to --max-size bytes per run\n", name, a.listen_addr);
	struct remote_daemon_config dc = {
		.kind = kind, .listen_addr = a.listen_addr, .max_runs = (int)a.runs, .verbose = !a.quiet,
		.key = a.key_file ? &key : NULL, .max_size = a.max_size_set ? a.max_size : default_max_size(),
		.run_timeout_s = (int)a.run_timeout,
	};
	return remote_daemon(&dc);
}

int cmd_sink(int argc, char **argv);
int cmd_source(int argc, char **argv);

int cmd_sink(int argc, char **argv)
{
	return cmd_daemon(argc, argv, RK_SINK);
}

int cmd_source(int argc, char **argv)
{
	return cmd_daemon(argc, argv, RK_SOURCE);
}
