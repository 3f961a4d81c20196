/* SPDX-License-Identifier: MIT */
/*
 * `copylab trace [--json] [--out FILE] -- COMMAND ARGS...`: runs any
 * dynamically linked command with libcopytrace.so preloaded and prints its
 * copy ledger (bytes to and from user memory, bytes moved inside the
 * kernel, by fd kind, per process and in total) on stderr or into FILE,
 * never on the command's stdout.  No root, no BPF.
 * tracer/copytrace.h has the record format; docs/tracer.md the meaning.
 */
#include "cli.h"
#include "harness/results/write.h"
#include "harness/measure/tracer_link.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct trace_proc {
	long pid, ppid;
	char comm[64];
	bool before_exec;	/* the record of an image that then called exec */
	struct copytrace_ledger l;
};

struct trace_result {
	struct trace_proc *procs;
	size_t nprocs, bad_lines;
	struct copytrace_ledger total;
};

static void trace_usage(FILE *out)
{
	fprintf(out,
		"usage: copylab trace [--json] [--out FILE] -- COMMAND [ARGS...]\n"
		"\n"
		"Runs COMMAND with the LD_PRELOAD tracer (" TRACER_NAME ") and prints its copy\n"
		"ledger on stderr (COMMAND keeps stdout): for each process and in total, the calls and bytes of the read\n"
		"family (bytes_to_user), the write family (bytes_from_user) and the splice\n"
		"family (bytes_in_kernel: splice, tee, sendfile, copy_file_range), split by\n"
		"fd kind (file, socket, pipe, other), plus vmsplice and mmaps of files.\n"
		"Children and exec'd programs are traced too.  No root needed.\n"
		"\n"
		"It sees calls that dynamically linked programs make through libc; not\n"
		"static binaries, raw syscall(), io_uring, or I/O done inside libc itself\n"
		"(stdio buffers).  See docs/tracer.md.\n"
		"\n"
		"options:\n"
		"  --json      print the ledger as one JSON object instead of a table\n"
		"  --out FILE  write the JSON object to FILE (atomically) instead of stderr\n"
		"  -h, --help  this text\n"
		"\n"
		"The tracer is looked for in $COPYLAB_TRACER, else next to the copylab\n"
		"executable.  Exit status: 0 if COMMAND succeeded, 1 if it failed, could\n"
		"not be run or left no record, 2 bad usage.\n");
}

/* --- finding the tracer ---------------------------------------------------- */

/* --- running the command ----------------------------------------------------- */

extern char **environ;

/* environ with LD_PRELOAD (the tracer first) and COPYTRACE_OUT set. */
static char **traced_environ(const char *tracer, const char *out)
{
	size_t n = 0, j = 0;
	const char *old = getenv("LD_PRELOAD");
	char *preload = NULL, *outvar = NULL;
	char **env;

	while (environ[n])
		n++;
	env = calloc(n + 3, sizeof(*env));
	if (!env)
		return NULL;
	if (asprintf(&preload, "LD_PRELOAD=%s%s%s", tracer, old && *old ? ":" : "", old ? old : "") < 0 ||
	    asprintf(&outvar, "%s=%s", COPYTRACE_ENV_OUT, out) < 0) {
		free(env);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "LD_PRELOAD=", 11) &&
		    strncmp(environ[i], COPYTRACE_ENV_OUT "=", strlen(COPYTRACE_ENV_OUT) + 1))
			env[j++] = environ[i];
	env[j++] = preload;
	env[j++] = outvar;
	env[j] = NULL;
	return env;
}

static void command_line(char *buf, size_t len, char **argv)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; argv[i] && used < len; i++)
		used += snprintf(buf + used, len - used, "%s%s", i ? " " : "", argv[i]);
	if (used >= len && len > 4)
		strcpy(buf + len - 4, "...");
}


/* --- reading the records ------------------------------------------------------ */

static uint64_t get_u64(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
}

static int kind_index(const char *name, size_t len)
{
	for (int k = 0; k < CT_KINDS; k++)
		if (strlen(copytrace_kind_names[k]) == len && !strncmp(name, copytrace_kind_names[k], len))
			return k;
	return -1;
}

static bool parse_record(json_t *rec, struct trace_proc *p)
{
	json_t *v, *routes, *fam, *cb;
	const char *key;

	if (!json_is_object(rec) || !json_is_integer(json_object_get(rec, "pid")))
		return false;
	memset(p, 0, sizeof(*p));
	p->pid = (long)json_integer_value(json_object_get(rec, "pid"));
	p->ppid = (long)get_u64(rec, "ppid");
	v = json_object_get(rec, "comm");
	snprintf(p->comm, sizeof(p->comm), "%s", json_is_string(v) ? json_string_value(v) : "?");
	v = json_object_get(rec, "event");
	p->before_exec = json_is_string(v) && !strcmp(json_string_value(v), "exec");
	for (int f = 0; f < CT_FAMILIES; f++) {
		fam = json_object_get(rec, copytrace_family_names[f]);
		for (int k = 0; k < CT_KINDS; k++) {
			cb = json_object_get(fam, copytrace_kind_names[k]);
			p->l.calls[f][k] = get_u64(cb, "calls");
			p->l.bytes[f][k] = get_u64(cb, "bytes");
		}
	}
	routes = json_object_get(rec, "splice_routes");
	json_object_foreach(routes, key, cb) {
		const char *gt = strchr(key, '>');
		int a = gt ? kind_index(key, (size_t)(gt - key)) : -1;
		int b = gt ? kind_index(gt + 1, strlen(gt + 1)) : -1;

		if (a < 0 || b < 0)
			continue;
		p->l.route_calls[a][b] = get_u64(cb, "calls");
		p->l.route_bytes[a][b] = get_u64(cb, "bytes");
	}
	v = json_object_get(rec, "vmsplice");
	p->l.vms_calls = get_u64(v, "calls");
	p->l.vms_bytes = get_u64(v, "bytes");
	p->l.vms_read_calls = get_u64(v, "read_calls");
	p->l.vms_read_bytes = get_u64(v, "read_bytes");
	v = json_object_get(rec, "mmap");
	p->l.mmap_calls = get_u64(v, "calls");
	p->l.mmap_bytes = get_u64(v, "bytes");
	return true;
}

static void ledger_add(struct copytrace_ledger *sum, const struct copytrace_ledger *l)
{
	uint64_t *s = (uint64_t *)sum;
	const uint64_t *a = (const uint64_t *)l;

	for (size_t i = 0; i < sizeof(*sum) / sizeof(uint64_t); i++)
		s[i] += a[i];
}

static int read_records(const char *path, struct trace_result *res)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0, alloc = 0;

	memset(res, 0, sizeof(*res));
	if (!f) {
		fprintf(stderr, "copylab: trace: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (getline(&line, &cap, f) > 0) {
		json_t *rec = json_loads(line, 0, NULL);
		struct trace_proc p;

		if (!parse_record(rec, &p)) {
			res->bad_lines++;
			json_decref(rec);
			continue;
		}
		json_decref(rec);
		if (res->nprocs == alloc) {
			size_t na = alloc ? alloc * 2 : 16;
			struct trace_proc *np = realloc(res->procs, na * sizeof(*np));

			if (!np)
				break;
			res->procs = np;
			alloc = na;
		}
		res->procs[res->nprocs++] = p;
		ledger_add(&res->total, &p.l);
	}
	free(line);
	fclose(f);
	return 0;
}

/* --- the ledger as JSON ----------------------------------------------------------- */

static uint64_t family_sum(const struct copytrace_ledger *l, int f, bool bytes)
{
	uint64_t s = 0;

	for (int k = 0; k < CT_KINDS; k++)
		s += bytes ? l->bytes[f][k] : l->calls[f][k];
	return s;
}

static json_t *cb_json(uint64_t calls, uint64_t bytes)
{
	return json_pack("{s:I,s:I}", "calls", (json_int_t)calls, "bytes", (json_int_t)bytes);
}

/* Adds the ledger's fields to obj. */
static void ledger_json(json_t *obj, const struct copytrace_ledger *l)
{
	json_t *routes = json_object();

	json_object_set_new(obj, "bytes_to_user", json_integer((json_int_t)family_sum(l, CT_READ, true)));
	json_object_set_new(obj, "bytes_from_user", json_integer((json_int_t)family_sum(l, CT_WRITE, true)));
	json_object_set_new(obj, "bytes_in_kernel", json_integer((json_int_t)family_sum(l, CT_SPLICE, true)));
	json_object_set_new(obj, "vmsplice_bytes", json_integer((json_int_t)l->vms_bytes));
	json_object_set_new(obj, "mmap_bytes", json_integer((json_int_t)l->mmap_bytes));
	json_object_set_new(obj, "calls", json_pack("{s:I,s:I,s:I,s:I,s:I}",
		"read", (json_int_t)family_sum(l, CT_READ, false),
		"write", (json_int_t)family_sum(l, CT_WRITE, false),
		"splice", (json_int_t)family_sum(l, CT_SPLICE, false),
		"vmsplice", (json_int_t)l->vms_calls, "mmap", (json_int_t)l->mmap_calls));
	for (int f = 0; f < CT_FAMILIES; f++) {
		json_t *fam = json_object();

		for (int k = 0; k < CT_KINDS; k++)
			json_object_set_new(fam, copytrace_kind_names[k], cb_json(l->calls[f][k], l->bytes[f][k]));
		json_object_set_new(obj, copytrace_family_names[f], fam);
	}
	for (int a = 0; a < CT_KINDS; a++)
		for (int b = 0; b < CT_KINDS; b++) {
			char key[32];

			if (!l->route_calls[a][b])
				continue;
			snprintf(key, sizeof(key), "%s>%s", copytrace_kind_names[a], copytrace_kind_names[b]);
			json_object_set_new(routes, key, cb_json(l->route_calls[a][b], l->route_bytes[a][b]));
		}
	json_object_set_new(obj, "splice_routes", routes);
	json_object_set_new(obj, "vmsplice", json_pack("{s:I,s:I,s:I,s:I}",
		"calls", (json_int_t)l->vms_calls, "bytes", (json_int_t)l->vms_bytes,
		"read_calls", (json_int_t)l->vms_read_calls, "read_bytes", (json_int_t)l->vms_read_bytes));
	json_object_set_new(obj, "mmap", cb_json(l->mmap_calls, l->mmap_bytes));
}

static json_t *result_json(const struct trace_result *res, char **argv, int status, const char *tracer)
{
	json_t *root = json_object(), *cmd = json_array(), *procs = json_array(), *totals = json_object();

	for (int i = 0; argv[i]; i++)
		json_array_append_new(cmd, json_string(argv[i]));
	json_object_set_new(root, "version", json_integer(1));
	json_object_set_new(root, "command", cmd);
	json_object_set_new(root, "exit_status", WIFEXITED(status) ? json_integer(WEXITSTATUS(status)) : json_null());
	json_object_set_new(root, "signal", WIFSIGNALED(status) ? json_integer(WTERMSIG(status)) : json_null());
	json_object_set_new(root, "tracer", json_string(tracer));
	json_object_set_new(totals, "processes", json_integer((json_int_t)res->nprocs));
	ledger_json(totals, &res->total);
	json_object_set_new(root, "totals", totals);
	for (size_t i = 0; i < res->nprocs; i++) {
		const struct trace_proc *p = &res->procs[i];
		json_t *o = json_pack("{s:I,s:I,s:s,s:s}", "pid", (json_int_t)p->pid, "ppid", (json_int_t)p->ppid,
				      "comm", p->comm, "event", p->before_exec ? "exec" : "exit");

		ledger_json(o, &p->l);
		json_array_append_new(procs, o);
	}
	json_object_set_new(root, "processes", procs);
	return root;
}

/* The ledger as JSON text, replacing path atomically (results.c's writer). */
static int write_json_atomically(const char *path, json_t *root)
{
	char *text = json_dumps(root, JSON_INDENT(2));
	int err;

	if (!text)
		return -ENOMEM;
	err = write_file_atomic(path, text, strlen(text));
	free(text);
	return err;
}

/* --- the ledger as a table ------------------------------------------------------ */

static const char *const family_meaning[CT_FAMILIES] = {
	"read family: copied from the kernel into user memory",
	"write family: copied from user memory into the kernel",
	"splice family (splice, tee, sendfile, copy_file_range): moved inside the kernel",
};

static void print_family_rows(FILE *out, const struct copytrace_ledger *l, bool all)
{
	for (int f = 0; f < CT_FAMILIES; f++) {
		if (!all && !family_sum(l, f, false))
			continue;
		for (int b = 0; b < 2; b++) {
			fprintf(out, "  %-7s %-6s", b ? "" : copytrace_family_names[f], b ? "bytes" : "calls");
			for (int k = 0; k < CT_KINDS; k++)
				fprintf(out, " %13" PRIu64, b ? l->bytes[f][k] : l->calls[f][k]);
			fprintf(out, " %13" PRIu64 "\n", family_sum(l, f, b));
		}
	}
	bool any_route = false;

	for (int a = 0; a < CT_KINDS; a++)
		for (int b = 0; b < CT_KINDS; b++) {
			if (!l->route_calls[a][b])
				continue;
			fprintf(out, "%s %s>%s %" PRIu64 " B in %" PRIu64 " call%s", any_route ? "," : "  splice by route (source>destination):",
			       copytrace_kind_names[a], copytrace_kind_names[b], l->route_bytes[a][b],
			       l->route_calls[a][b], l->route_calls[a][b] == 1 ? "" : "s");
			any_route = true;
		}
	if (any_route)
		fputc('\n', out);
	if (all || l->vms_calls) {
		fprintf(out, "  vmsplice: %" PRIu64 " calls, %" PRIu64 " bytes", l->vms_calls, l->vms_bytes);
		if (l->vms_read_calls)
			fprintf(out, " (%" PRIu64 " of them copied out of a pipe into user memory)", l->vms_read_bytes);
		fputc('\n', out);
	}
	if (all || l->mmap_calls)
		fprintf(out, "  mmap of files: %" PRIu64 " calls, %" PRIu64 " bytes mapped\n", l->mmap_calls, l->mmap_bytes);
}

static void print_header(FILE *out)
{
	fprintf(out, "  %-14s", "");
	for (int k = 0; k < CT_KINDS; k++)
		fprintf(out, " %13s", copytrace_kind_names[k]);
	fprintf(out, " %13s\n", "total");
}

static void print_table(FILE *out, const struct trace_result *res, const char *cmdline, int status)
{
	const struct copytrace_ledger *t = &res->total;

	fprintf(out, "copy ledger of: %s\n", cmdline);
	if (WIFEXITED(status))
		fprintf(out, "exit status %d, %zu process record%s\n", WEXITSTATUS(status), res->nprocs,
		       res->nprocs == 1 ? "" : "s");
	else
		fprintf(out, "killed by signal %d (%s), %zu process record%s\n", WTERMSIG(status),
		       strsignal(WTERMSIG(status)), res->nprocs, res->nprocs == 1 ? "" : "s");
	for (size_t i = 0; i < res->nprocs; i++) {
		const struct trace_proc *p = &res->procs[i];

		fprintf(out, "\nprocess %ld %s (parent %ld)%s\n", p->pid, p->comm, p->ppid,
		       p->before_exec ? ", before it called exec" : "");
		if (!family_sum(&p->l, CT_READ, false) && !family_sum(&p->l, CT_WRITE, false) &&
		    !family_sum(&p->l, CT_SPLICE, false) && !p->l.vms_calls && !p->l.mmap_calls) {
			fprintf(out, "  no traced calls\n");
			continue;
		}
		print_header(out);
		print_family_rows(out, &p->l, false);
	}
	fprintf(out, "\ntotal over %zu process%s\n", res->nprocs, res->nprocs == 1 ? "" : "es");
	print_header(out);
	print_family_rows(out, t, true);
	fputc('\n', out);
	fprintf(out, "  bytes_to_user   %15" PRIu64 "  %s\n", family_sum(t, CT_READ, true), family_meaning[CT_READ]);
	fprintf(out, "  bytes_from_user %15" PRIu64 "  %s\n", family_sum(t, CT_WRITE, true), family_meaning[CT_WRITE]);
	fprintf(out, "  bytes_in_kernel %15" PRIu64 "  %s\n", family_sum(t, CT_SPLICE, true), family_meaning[CT_SPLICE]);
	fprintf(out, "  vmsplice_bytes  %15" PRIu64 "  vmsplice: user pages handed to a pipe by reference\n", t->vms_bytes);
}

/* --- the command ------------------------------------------------------------------ */

int cmd_trace(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out_file = NULL, *tmpdir = getenv("TMPDIR");
	char tracer[PATH_MAX], tmpbuf[PATH_MAX], *records = NULL, **env, cmdline[512];
	bool json = false;
	struct trace_result res;
	int c, fd, status = 0, rc;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'o':
			out_file = optarg;
			break;
		case 'h':
			trace_usage(stdout);
			return 0;
		case ':':
		case '?':
			if (optopt == 'o')
				return usage_error("trace: option '--out' needs a file name (see copylab trace --help)");
			return usage_error("trace: unknown option '%s'; valid: --json, --out FILE, --help",
					   argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage_error("trace: no command given; usage: copylab trace [--json] [--out FILE] -- COMMAND [ARGS...]");
	if (out_file && !*out_file)
		return usage_error("trace: --out needs a file name");
	argv += optind;
	command_line(cmdline, sizeof(cmdline), argv);

	char why[PATH_MAX + 128];

	if (tracer_find(tracer, sizeof(tracer), why, sizeof(why)) != 0) {
		fprintf(stderr, "copylab: trace: %s\n", why);
		return EXIT_RUN_FAILED;
	}
	if (strpbrk(tracer, ": ")) {
		fprintf(stderr, "copylab: trace: %s: LD_PRELOAD cannot name a path with ':' or ' ' in it\n", tracer);
		return EXIT_RUN_FAILED;
	}
	/* Absolute, so a command that changes directory still finds it. */
	if (!tmpdir || !*tmpdir || !realpath(tmpdir, tmpbuf))
		strcpy(tmpbuf, "/tmp");
	if (asprintf(&records, "%s/copylab-trace.XXXXXX", tmpbuf) < 0)
		return EXIT_RUN_FAILED;
	fd = mkstemp(records);
	if (fd < 0) {
		fprintf(stderr, "copylab: trace: cannot make a temporary file %s: %s\n", records, strerror(errno));
		free(records);
		return EXIT_RUN_FAILED;
	}
	close(fd);
	env = traced_environ(tracer, records);
	if (!env || cli_run_command("trace", argv, env, &status) != 0) {
		unlink(records);
		free(records);
		return EXIT_RUN_FAILED;
	}
	rc = read_records(records, &res);
	unlink(records);
	free(records);
	if (rc != 0)
		return EXIT_RUN_FAILED;

	rc = 0;
	if (res.bad_lines)
		fprintf(stderr, "copylab: trace: %zu record line%s could not be read and %s left out\n",
			res.bad_lines, res.bad_lines == 1 ? "" : "s", res.bad_lines == 1 ? "was" : "were");
	if (res.nprocs == 0) {
		/* A process killed by a signal runs no destructor: that case is said below. */
		if (!WIFSIGNALED(status))
			fprintf(stderr, "copylab: trace: the tracer recorded nothing: '%s' may be statically linked "
				"or setuid, or may have cleared LD_PRELOAD (see docs/tracer.md)\n", argv[0]);
		rc = EXIT_RUN_FAILED;
	}

	json_t *root = result_json(&res, argv, status, tracer);

	/*
	 * Never on stdout: it is the traced command's, and `trace -- cat F >G`
	 * must leave G a copy of F (time and strace use stderr too).
	 */
	if (out_file) {
		int err = write_json_atomically(out_file, root);

		if (err) {
			fprintf(stderr, "copylab: trace: --out %s: %s\n", out_file, strerror(-err));
			rc = EXIT_RUN_FAILED;
		}
	} else if (json) {
		json_dumpf(root, stderr, JSON_INDENT(2));
		fputc('\n', stderr);
	} else {
		print_table(stderr, &res, cmdline, status);
	}
	json_decref(root);
	free(res.procs);

	if (WIFSIGNALED(status)) {
		fprintf(stderr, "copylab: trace: '%s' was killed by signal %d (%s)%s\n", argv[0],
			WTERMSIG(status), strsignal(WTERMSIG(status)),
			res.nprocs ? "" : "; a killed process leaves no record");
		rc = EXIT_RUN_FAILED;
	} else if (WEXITSTATUS(status) != 0) {
		fprintf(stderr, "copylab: trace: '%s' exited with status %d%s\n", argv[0], WEXITSTATUS(status),
			WEXITSTATUS(status) == 127 ? " (127: a command it ran was not found)" : "");
		rc = EXIT_RUN_FAILED;
	}
	return rc;
}
