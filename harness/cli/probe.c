/* SPDX-License-Identifier: MIT */
/*
 * `copylab probe --pid PID[,PID...] [--bytes N] [--json] [--out FILE] --
 * COMMAND ARGS...`: the BPF copy ledger of processes copylab did not start
 * (nginx, HAProxy, a server of your own), counted while COMMAND runs (a
 * client: curl, iperf3).  The same probes and the same figures as a
 * role's ledger in a copylab record (roles.ROLE.bpf, docs/results.md), so
 * scripts/peers.sh puts a peer's ledger beside copylab's own.
 */
#include "cli.h"
#include "harness/model/base.h"
#include "harness/model/options.h"
#include "harness/results/write.h"
#include "harness/measure/bpf/ledger.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROBE_MAX_PIDS 16
/* With --children; the ledger's tgid map holds PROBES_MAX_ROLES (64). */
#define PROBE_MAX_WATCHED 48
#define PROBE_SLOT 0

static void probe_usage(FILE *out)
{
	fputs("usage: copylab probe --pid PID[,PID...] [--children] [--bytes N] [--json] [--out FILE]\n"
	      "                     [--require-activity] -- COMMAND [ARGS...]\n"
	      "\n"
	      "Counts, with the BPF probes of copylab's ledger, what the processes PID\n"
	      "(every thread of each) do while COMMAND runs, and prints it: system calls\n"
	      "by family, bytes to and from user memory, bytes moved inside the kernel,\n"
	      "socket bytes copied to user memory, scheduler switches, user page faults,\n"
	      "io_uring operations.  For programs copylab did not start: a server, with\n"
	      "its client as COMMAND.  Needs root (or CAP_BPF and CAP_PERFMON).\n"
	      "\n"
	      "  --pid PID[,PID]  the processes to count (at most 16)\n"
	      "  --children       also count their descendants as they are when COMMAND\n"
	      "                   starts (a server's workers: nginx's master only waits);\n"
	      "                   children forked later are not counted\n"
	      "  --bytes N        the payload COMMAND moves (K/M/G), for the per-GiB figures\n"
	      "  --json           print one JSON object (schema copylab.probe/1)\n"
	      "  --out FILE       write it to FILE (atomically) instead of stdout\n"
	      "  --require-activity  a window in which the processes made no system call\n"
	      "                   is a failure (exit 1, no ledger) instead of a warning\n"
	      "\n"
	      "Exit status: COMMAND's (128 + N when a signal N ended it); 1 when the\n"
	      "probes cannot load, COMMAND cannot run, or (--require-activity) the\n"
	      "processes made no system call; 2 for bad arguments.\n",
	      out);
}

/* "123,456": each a live process.  0, or a usage error's status. */
static int parse_pids(const char *s, int *pids, int *n)
{
	char *copy = strdup(s), *save = NULL, *tok;
	int rc = 0;

	*n = 0;
	if (!copy)
		return EXIT_RUN_FAILED;
	for (tok = strtok_r(copy, ",", &save); tok && rc == 0; tok = strtok_r(NULL, ",", &save)) {
		char *end;
		long v;

		errno = 0;
		v = strtol(tok, &end, 10);
		if (errno || *end || v <= 0 || v > INT32_MAX)
			rc = usage_error("probe: --pid '%s' is not a process id (a positive number)", tok);
		else if (*n == PROBE_MAX_PIDS)
			rc = usage_error("probe: --pid names more than %d processes", PROBE_MAX_PIDS);
		else if (kill((pid_t)v, 0) < 0 && errno == ESRCH)
			rc = usage_error("probe: --pid %ld: no such process", v);
		else
			pids[(*n)++] = (int)v;
	}
	if (rc == 0 && *n == 0)
		rc = usage_error("probe: --pid needs at least one process id");
	free(copy);
	return rc;
}

/* "123 (comm) S 45 ...": the ppid; after the last ')', since comm may hold one.  -1 if not that shape. */
static long stat_ppid(const char *text)
{
	const char *p = strrchr(text, ')');
	char state;
	long ppid;

	return p && sscanf(p + 1, " %c %ld", &state, &ppid) == 2 ? ppid : -1;
}

static bool listed(const int *pids, int n, int pid)
{
	for (int i = 0; i < n; i++)
		if (pids[i] == pid)
			return true;
	return false;
}

/*
 * Appends to pids[] (n of them) every descendant that /proc shows now.  The
 * BPF ledger keys by tgid and has no fork hook (ledger_watch_pid), so this
 * is the tree at start: a child forked later is not counted.  The new
 * count, or -1 when more than max.
 */
static int add_descendants(int *pids, int n, int max)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int (*pp)[2] = NULL, npp = 0, cap = 0;

	while (d && (e = readdir(d))) {
		char path[300], text[512];
		FILE *f;
		long ppid = -1;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		if ((f = fopen(path, "re"))) {
			if (fgets(text, sizeof(text), f))
				ppid = stat_ppid(text);
			fclose(f);
		}
		if (ppid <= 0)
			continue;
		if (npp == cap) {
			int (*np)[2] = realloc(pp, (cap = cap ? 2 * cap : 1024) * sizeof(*pp));

			if (!np)
				break;
			pp = np;
		}
		pp[npp][0] = atoi(e->d_name);
		pp[npp++][1] = (int)ppid;
	}
	if (d)
		closedir(d);
	/* Not probe itself (--pid $$ --children from a shell): its own calls are not the window's. */
	for (int i = 0; i < n && n <= max; i++)
		for (int j = 0; j < npp && n <= max; j++)
			if (pp[j][1] == pids[i] && pp[j][0] != getpid() && !listed(pids, n, pp[j][0])) {
				if (n < max)
					pids[n] = pp[j][0];
				n++;
			}
	free(pp);
	return n > max ? -1 : n;
}

/*
 * No system call in the window: the measurement stands, but it is more
 * likely the wrong process (a server's master) than an idle one, so say
 * which children would have been counted.
 */
static void warn_inactive(const int *pids, int npids, int nwatched, bool children, const char *command)
{
	int kids[PROBE_MAX_WATCHED];
	int n;

	memcpy(kids, pids, npids * sizeof(*pids));
	n = add_descendants(kids, npids, PROBE_MAX_WATCHED);
	fprintf(stderr, "copylab: probe: warning: pid");
	for (int i = 0; i < npids; i++)
		fprintf(stderr, "%s %d", i ? "," : "", pids[i]);
	if (children)
		fprintf(stderr, " and the %d descendant%s watched with %s", nwatched - npids,
			nwatched - npids == 1 ? "" : "s", npids == 1 ? "it" : "them");
	fprintf(stderr, " made no system calls while %s ran", command);
	if (!children && n != npids) {
		fprintf(stderr, "; its children:");
		for (int i = npids; i < n; i++)
			fprintf(stderr, "%s %d", i > npids ? "," : "", kids[i]);
		fprintf(stderr, " may do the work: --children counts them too");
	} else if (!children) {
		fprintf(stderr, "; if another process does the work, name it (or its parent, with --children)");
	}
	fputc('\n', stderr);
}

static void print_table(FILE *out, const struct ledger_counts *l, uint64_t bytes, double wall)
{
	double gib = bytes ? (double)bytes / (1ull << 30) : 0;

	fprintf(out, "ledger over %.3f s%s\n", wall, bytes ? "" : " (--bytes N adds the per-GiB column)");
	fprintf(out, "  %-18s %16s %16s\n", "", "count", bytes ? "per GiB" : "");
#define ROW(name, v)                                                                      \
	do {                                                                              \
		if (bytes)                                                                \
			fprintf(out, "  %-18s %16llu %16.0f\n", name, (unsigned long long)(v), \
				(double)(v) / gib);                                       \
		else                                                                      \
			fprintf(out, "  %-18s %16llu\n", name, (unsigned long long)(v));       \
	} while (0)
	ROW("syscalls", l->syscalls);
	for (int f = 0; f < LF_COUNT; f++) {
		char name[32];

		snprintf(name, sizeof(name), "  %s", ledger_family_name(f));
		ROW(name, l->by_family[f]);
	}
	ROW("bytes to user", l->bytes_to_user);
	ROW("bytes from user", l->bytes_from_user);
	ROW("bytes in kernel", l->bytes_in_kernel);
	ROW("skb copy bytes", l->skb_copy_bytes);
	ROW("sched switches", l->sched_switches);
	ROW("page faults", l->page_faults);
#undef ROW
}

int cmd_probe(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "bytes", required_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ "out", required_argument, NULL, 'o' },
		{ "children", no_argument, NULL, 'c' },
		{ "require-activity", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pid_s = NULL, *out_file = NULL;
	int pids[PROBE_MAX_WATCHED], npids = 0, nnamed, c, status = 0, rc;
	uint64_t bytes = 0;
	bool json = false, children = false, require_activity = false;
	char err[256], why[256];
	struct ledger *l = NULL;
	struct ledger_counts counts;
	int64_t t0;
	double wall;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			pid_s = optarg;
			break;
		case 'b':
			if (parse_size("--bytes", optarg, UINT64_MAX, &bytes, err, sizeof(err)))
				return usage_error("probe: %s", err);
			break;
		case 'j':
			json = true;
			break;
		case 'o':
			out_file = optarg;
			break;
		case 'c':
			children = true;
			break;
		case 'r':
			require_activity = true;
			break;
		case 'h':
			probe_usage(stdout);
			return 0;
		default:
			if (optopt == 'p' || optopt == 'b' || optopt == 'o')
				return usage_error("probe: option '%s' needs a value (see copylab probe --help)",
						   argv[optind - 1]);
			return usage_error("probe: unknown option '%s'; valid: --pid, --children, --bytes, --json, --out, "
					   "--require-activity, --help",
					   argv[optind - 1]);
		}
	}
	if (!pid_s)
		return usage_error("probe: --pid PID is required (the processes to count)");
	if ((rc = parse_pids(pid_s, pids, &npids)))
		return rc;
	if (optind >= argc)
		return usage_error("probe: no command given; usage: copylab probe --pid PID [--json] -- COMMAND [ARGS...]");
	if (out_file && !*out_file)
		return usage_error("probe: --out needs a file name");
	argv += optind;
	nnamed = npids;
	if (children && (npids = add_descendants(pids, npids, PROBE_MAX_WATCHED)) < 0)
		return usage_error("probe: --children: pid %s and their descendants are more than %d processes; "
				   "name the ones that do the work with --pid", pid_s, PROBE_MAX_WATCHED);

	if (ledger_open(&l, why, sizeof(why)) != 0) {
		fprintf(stderr, "copylab: probe: the BPF ledger cannot load here: %s\n", why);
		return EXIT_RUN_FAILED;
	}
	rc = ledger_reset(l, PROBE_SLOT);
	for (int i = 0; i < npids && rc == 0; i++)
		rc = ledger_watch_pid(l, PROBE_SLOT, pids[i]);
	if (rc) {
		fprintf(stderr, "copylab: probe: registering the processes: %s\n", strerror(-rc));
		for (int i = 0; i < npids; i++)
			ledger_forget(l, pids[i]);
		ledger_close(l);
		return EXIT_RUN_FAILED;
	}
	t0 = now_ns();
	rc = cli_run_command("probe", argv, NULL, &status);
	wall = secs_since(t0);
	for (int i = 0; i < npids; i++)
		ledger_forget(l, pids[i]);
	if (rc != 0) {
		ledger_close(l);
		return EXIT_RUN_FAILED;
	}
	rc = ledger_read(l, PROBE_SLOT, &counts);
	ledger_close(l);
	if (rc) {
		fprintf(stderr, "copylab: probe: reading the ledger: %s\n", strerror(-rc));
		return EXIT_RUN_FAILED;
	}

	if (counts.syscalls == 0) {
		warn_inactive(pids, nnamed, npids, children, argv[0]);
		if (require_activity) {
			fprintf(stderr, "copylab: probe: --require-activity: no ledger written\n");
			return EXIT_RUN_FAILED;
		}
	}

	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);

	if (!mem)
		return EXIT_RUN_FAILED;
	if (json) {
		json_t *jp = json_array(), *root;

		for (int i = 0; i < npids; i++)
			json_array_append_new(jp, json_integer(pids[i]));
		root = json_pack("{s:s, s:o, s:s, s:o, s:o, s:f, s:o, s:o}", "schema", "copylab.probe/1",
				 "pids", jp, "command", argv[0],
				 "exit_status", WIFEXITED(status) ? json_integer(WEXITSTATUS(status)) : json_null(),
				 "signal", WIFSIGNALED(status) ? json_integer(WTERMSIG(status)) : json_null(),
				 "wall_s", wall, "bytes", bytes ? json_integer((json_int_t)bytes) : json_null(),
				 "bpf", ledger_counts_json(&counts, bytes));
		json_dumpf(root, mem, JSON_COMPACT);
		fputc('\n', mem);
		json_decref(root);
	} else {
		print_table(mem, &counts, bytes, wall);
	}
	fclose(mem);
	if (out_file) {
		int w = write_file_atomic(out_file, text, len);

		if (w) {
			fprintf(stderr, "copylab: probe: writing %s: %s\n", out_file, strerror(-w));
			free(text);
			return EXIT_RUN_FAILED;
		}
	} else {
		fwrite(text, 1, len, stdout);
	}
	free(text);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
