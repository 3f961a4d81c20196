/* SPDX-License-Identifier: MIT */
/*
 * The session that copylab run and bench share: scratch and results
 * directories, the probes, signals, and the group runner that interleaves
 * the strategies rep by rep (A B C A B C ...), so drift hits all alike.
 */
#include "session.h"
#include "harness/results/bounded.h"
#include "run_options.h"
#include "harness/measure/env.h"
#include "scratch.h"
#include "cli.h"
#include "harness/model/base.h"
#include "harness/engine/remote.h"
#include "harness/engine/run.h"
#include "harness/results/write.h"
#include "harness/model/options.h"
#include "harness/model/scenario.h"
#include "harness/measure/bpf/ledger.h"
#include "harness/measure/bpf/cpusample.h"
#include "harness/measure/tracer_link.h"
#include "harness/net/userstack_link.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- scratch space ------------------------------------------------------ */

/* The run's scratch directory, after removing what killed runs left under the same base. */
static int make_workdir(struct session *s, const char *base, char *err, size_t errlen)
{
	scratch_sweep(base ? base : "/var/tmp", false, NULL);
	if (base)
		scratch_note_base(base);
	return scratch_create(base ? base : "/var/tmp", s->workdir, sizeof(s->workdir), err, errlen);
}

static void make_run_id(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;
	char stamp[32];

	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	snprintf(buf, len, "%s-%d", stamp, (int)getpid());
}

/* ---- running groups ----------------------------------------------------- */

static void progress(struct session *s, const struct group *g, const struct strategy_spec *sp, int rep)
{
	if (!s->progress_tty)
		return;
	double el = secs_since(s->started_ns);
	double left = s->cells_done ? el / s->cells_done * (s->cells_total - s->cells_done) : 0;

	fprintf(stderr, "\r\033[K[%d/%d] %s %s %s, rep %d/%d (%s) ~%.0fs left",
		s->cells_done + 1, s->cells_total, scenario_name(g->cfg.scenario), sp->label,
		scenario_def(g->cfg.scenario)->uses_transport ? transport_name(g->cfg.transport) : "",
		rep ? rep : 0, s->reps, rep ? "counted" : "warm-up", left);
}

/* Off a terminal (CI, a pipe): one line per finished repetition, nothing redrawn. */
static void progress_line(const struct session *s, const struct group *g, const struct rep_result *r)
{
	char size[32];

	fprintf(stderr, "copylab: [%d/%d] %s %s%s%s, %s, rep %d/%d: %.0f MB/s, %s\n",
		s->cells_done, s->cells_total, scenario_name(g->cfg.scenario), r->cell.strategy,
		scenario_def(g->cfg.scenario)->uses_transport ? " over " : "",
		scenario_def(g->cfg.scenario)->uses_transport ? transport_name(g->cfg.transport) : "",
		human_bytes(r->cell.bytes, size, sizeof(size)), r->rep, s->reps, r->bytes_per_s / 1e6,
		r->verify == VERIFY_OK ? "verified" : "NOT verified (nothing was hashed: --sink discard or MSG_TRUNC)");
}

static void keep_rep(struct session *s, const struct rep_result *r)
{
	if (s->nall == s->capall) {
		size_t cap = s->capall ? s->capall * 2 : 64;
		struct rep_result *n = realloc(s->all, cap * sizeof(*n));

		if (!n)
			return;
		s->all = n;
		s->capall = cap;
	}
	s->all[s->nall++] = *r;
	/* The summary needs the series' figures only, kept beside it; the series is freed with r. */
	s->all[s->nall - 1].series = NULL;
}

/* --json: the record on stdout as in results.jsonl.  0, or -errno when it could not be written. */
static int print_record(struct session *s, const struct rep_result *r)
{
	json_t *j = rep_to_json(r, s->run_id);
	int bad = !j || json_dumpf(j, stdout, JSON_COMPACT | JSON_REAL_PRECISION(15)) < 0;

	bad |= putchar('\n') == EOF;
	bad |= fflush(stdout) == EOF;
	json_decref(j);
	return bad ? -(errno ? errno : EIO) : 0;
}

int session_stdout_check(const char *what)
{
	if (fflush(stdout) != EOF && !ferror(stdout))
		return 0;
	fprintf(stderr, "copylab: cannot write %s to standard output: %s\n", what, strerror(errno ? errno : EIO));
	return EXIT_RUN_FAILED;
}

/*
 * A repetition that failed, in words.  A signal that came meanwhile may
 * surface as any call's EINTR (a connect while the sockets are made):
 * then the signal is what happened, and the call is the detail.
 */
static void say_failed_rep(const struct session *s, const struct group *g, const struct strategy_spec *sp,
			   const struct rep_result *r)
{
	const char *nl = s->progress_tty ? "\n" : "";

	if (run_interrupted && !strstr(r->error, "interrupted by"))
		fprintf(stderr, "%scopylab: %s %s: interrupted by SIG%s (%s) (%s); no record was written\n", nl,
			sp->label, scenario_name(g->cfg.scenario), sigabbrev_np(run_interrupted),
			strsignal(run_interrupted), r->error);
	else
		fprintf(stderr, "%scopylab: %s\n", nl, r->error);
}

/* One group: warm-ups, then counted reps, strategies interleaved. 0 or 1. */
int run_group(struct session *s, struct group *g)
{
	struct run_inputs in;
	struct rep_result r;
	char err[320];
	int status = 0;

	g->cfg.workdir = s->workdir;
	r.series = NULL;
	if (run_inputs_prepare(&in, &g->cfg, err, sizeof(err))) {
		fprintf(stderr, "copylab: %s scenario: %s\n", scenario_name(g->cfg.scenario), err);
		return EXIT_RUN_FAILED;
	}
	bool given_up[MAX_SPECS] = { 0 };
	bool stop = false;

	for (int rep = 1 - s->warmup; rep <= s->reps && !stop; rep++) {
		for (int i = 0; i < g->nspecs && !stop; i++) {
			if (given_up[i])
				continue;
			if (run_interrupted) {
				fprintf(stderr, "\ncopylab: interrupted by SIG%s (%s); no record was written for the unfinished repetition\n",
					sigabbrev_np(run_interrupted), strsignal(run_interrupted));
				status = EXIT_RUN_FAILED;
				stop = true;
				break;
			}
			progress(s, g, &g->spec[i], rep > 0 ? rep : 0);
			rep_result_release(&r);
			if (run_rep(&g->cfg, &g->spec[i], &in, rep > 0 ? rep : 0, &r)) {
				say_failed_rep(s, g, &g->spec[i], &r);
				status = EXIT_RUN_FAILED;
				/* bench goes on with the next cell; run stops at the first failure. */
				if (s->keep_going && !run_interrupted) {
					given_up[i] = true;
					s->cells_failed++;
					fprintf(stderr, "copylab: bench: no further reps of %s %s; going on with the next cell\n",
						scenario_name(g->cfg.scenario), g->spec[i].label);
					continue;
				}
				stop = true;
				break;
			}
			s->cells_done++;
			if (rep <= 0)
				continue;
			int wr = results_add(s->res, &r);

			if (wr == -EFBIG) {
				fprintf(stderr, "copylab: %s/results.jsonl: another record would take it past %zu MiB, the "
					"most copylab plot, report and compare read; the records so far are kept: run "
					"fewer repetitions or cells into one directory\n", results_dir(s->res),
					BOUNDED_CAP_RECORDS >> 20);
				status = EXIT_RUN_FAILED;
				stop = true;
				break;
			}
			if (wr) {
				fprintf(stderr, "copylab: cannot write %s/results.jsonl: %s\n",
					results_dir(s->res), strerror(-wr));
				status = EXIT_RUN_FAILED;
				stop = true;
				break;
			}
			keep_rep(s, &r);
			if (s->json && (wr = print_record(s, &r))) {
				fprintf(stderr, "copylab: --json: cannot write a record to standard output: %s; "
					"the records so far are in %s/results.jsonl\n", strerror(-wr), results_dir(s->res));
				status = EXIT_RUN_FAILED;
				stop = true;
				break;
			}
			if (!s->progress_tty)
				progress_line(s, g, &r);
		}
	}
	rep_result_release(&r);
	int ws = results_write_summary(s->res);

	if (ws) {
		fprintf(stderr, "copylab: cannot write %s/summary.csv: %s\n", results_dir(s->res), strerror(-ws));
		status = EXIT_RUN_FAILED;
	}
	if (s->progress_tty)
		fprintf(stderr, "\r\033[K");
	else if (!status) {
		char bound[48];

		if (g->cfg.time_s > 0)
			snprintf(bound, sizeof(bound), "%g s each (bounded by time)", g->cfg.time_s);
		else
			snprintf(bound, sizeof(bound), "%" PRIu64 " bytes", g->cfg.size);
		fprintf(stderr, "copylab: done %s%s%s, %s, %d strateg%s x %d reps\n",
			scenario_name(g->cfg.scenario),
			scenario_def(g->cfg.scenario)->uses_transport ? " over " : "",
			scenario_def(g->cfg.scenario)->uses_transport ? transport_name(g->cfg.transport) : "",
			bound, g->nspecs, g->nspecs == 1 ? "y" : "ies", s->reps);
	}
	run_inputs_release(&in);
	return status;
}

/*
 * The CPU sampler rides on the ledger's windows.  env.json names its
 * method and the kernel's copy routines it found, so a reader can check
 * what "copy time" covered on this kernel.
 */
static void session_sampler(struct session *s)
{
	char why[160];

	if (cpusample_open(s->ledger, &s->sampler, why, sizeof(why))) {
		s->sampler = NULL;
		snprintf(s->cputime_note, sizeof(s->cputime_note), "unavailable: %.140s", why);
		results_env_extra("cpu_sampler", json_pack("{s:s}", "note", s->cputime_note));
		return;
	}
	snprintf(s->cputime_note, sizeof(s->cputime_note), "ok (cpu-clock sampling at %.0f Hz)",
		 cpusample_rate_hz());
	results_env_extra("cpu_sampler", json_pack("{s:s, s:f, s:s}", "method", cpusample_describe(s->sampler),
						   "rate_hz", cpusample_rate_hz(),
						   "kernel_copy_routines", cpusample_copy_routines(s->sampler)));
}

/* The BPF ledger for the whole session: loaded once, shared by every rep. */
int session_ledger(struct session *s, bool no_bpf, bool require_bpf)
{
	char why[128];

	if (no_bpf) {
		snprintf(s->bpf_note, sizeof(s->bpf_note), "off (--no-bpf)");
		snprintf(s->cputime_note, sizeof(s->cputime_note), "off (--no-bpf)");
		return 0;
	}
	if (ledger_open(&s->ledger, why, sizeof(why)) == 0) {
		snprintf(s->bpf_note, sizeof(s->bpf_note), "ok (%s)", ledger_describe(s->ledger));
		session_sampler(s);
		return 0;
	}
	s->ledger = NULL;
	snprintf(s->bpf_note, sizeof(s->bpf_note), "%s", why);
	snprintf(s->cputime_note, sizeof(s->cputime_note), "unavailable: needs the BPF ledger (%.100s)", why);
	if (require_bpf) {
		fprintf(stderr, "copylab: --require-bpf: the BPF ledger did not load: %s\n", why);
		return EXIT_RUN_FAILED;
	}
	return 0;
}

/*
 * The tracer counts the roles' calls when BPF cannot (or beside it, with
 * --tracer).  It works only preloaded, so the first time copylab re-executes
 * itself with LD_PRELOAD; the re-executed copylab finds it loaded.
 */
int session_tracer(struct session *s, bool want, bool refuse)
{
	char why[PATH_MAX + 128];

	if (refuse || (!want && s->ledger)) {
		snprintf(s->tracer_note, sizeof(s->tracer_note), "%s",
			 refuse ? "off (--no-tracer)" : "off (BPF counts; --tracer adds it)");
		return 0;
	}
	s->tracer = tracer_loaded();
	/* An exec would forget the signal: the caller says it and stops instead. */
	if (!s->tracer && run_interrupted)
		return 0;
	if (!s->tracer) {
		cpusample_close(s->sampler);
		s->sampler = NULL;
		if (s->ledger)
			ledger_close(s->ledger);
		tracer_reexec(copylab_argv, why, sizeof(why));
		/* Still here: the run goes on without it and says why. */
		s->ledger = NULL;
		if (want) {
			fprintf(stderr, "copylab: --tracer: %s\n", why);
			return EXIT_RUN_FAILED;
		}
		snprintf(s->tracer_note, sizeof(s->tracer_note), "unavailable: %.100s", why);
		return 0;
	}
	snprintf(s->tracer_note, sizeof(s->tracer_note), "ok (LD_PRELOAD %s)", TRACER_NAME);
	return 0;
}

/* ---- the paths given ------------------------------------------------------ */

/* The deepest existing directory on the way to path (path itself, or a parent), into buf. */
static int nearest_existing(const char *path, char *buf, size_t len, struct stat *st)
{
	snprintf(buf, len, "%s", path);
	for (;;) {
		if (stat(buf, st) == 0)
			return 0;
		if (errno != ENOENT)
			return -errno;
		char *slash = strrchr(buf, '/');

		while (slash && slash > buf && slash[1] == '\0') {	/* "a/b/" */
			*slash = '\0';
			slash = strrchr(buf, '/');
		}
		if (!slash)
			snprintf(buf, len, ".");
		else if (slash == buf)
			buf[1] = '\0';
		else
			*slash = '\0';
	}
}

int session_check_paths(const char *out, const char *workbase)
{
	const char *work = workbase ? workbase : "/var/tmp";
	char at[PATH_MAX];
	struct stat st;
	int r;

	if (stat(work, &st) < 0)
		return usage_error("--workdir %s: %s; give an existing directory for scratch files (default /var/tmp)",
				   work, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return usage_error("--workdir %s is not a directory; give a directory for scratch files (default /var/tmp)",
				   work);
	if (access(work, W_OK | X_OK) < 0)
		return usage_error("--workdir %s: this user cannot make files there (%s); give a writable directory",
				   work, strerror(errno));
	if (!out)
		return 0;
	if ((r = nearest_existing(out, at, sizeof(at), &st)))
		return usage_error("--out %s: %s; give a new directory for the results", out, strerror(-r));
	if (!S_ISDIR(st.st_mode))
		return usage_error("--out %s: %s is not a directory; give a new directory for the results",
				   out, at);
	if (strcmp(at, out) && access(at, W_OK | X_OK) < 0)
		return usage_error("--out %s: this user cannot make a directory in %s (%s)", out, at, strerror(errno));
	if (!strcmp(at, out) && (faccessat(AT_FDCWD, out, F_OK, 0) == 0)) {
		char probe[PATH_MAX + 16];

		snprintf(probe, sizeof(probe), "%s/results.jsonl", out);
		if (access(probe, F_OK) == 0)
			return usage_error("--out %s already holds the results of a run; give a new directory "
					   "(copylab compare reads two of them side by side)", out);
	}
	return 0;
}

/* What a run or bench set for all its cells, into env.json, so compare can say what changed. */
void session_conditions(const struct parsed *p, const struct session *s)
{
	const struct env_conditions c = {
		.argv = copylab_argv, .sndbuf = p->cfg.sock.sndbuf, .rcvbuf = p->cfg.sock.rcvbuf,
		.pipe_size = p->cfg.pipe_size, .pin = p->pin, .cache_cold = p->cfg.cache_cold,
		.nonblock = p->cfg.nonblock, .sink_discard = p->cfg.sink_discard, .no_perf = p->cfg.no_perf,
		.profile = p->cfg.profile, .timeout_s = p->cfg.timeout_s, .reps = s->reps, .warmup = s->warmup,
		.conns = p->cfg.conns, .outstanding = p->cfg.outstanding, .sweep = p->sweep, .workdir = p->workdir,
		.bpf = s->bpf_note, .tracer = s->tracer_note, .cputime = s->cputime_note,
	};

	results_env_extra("conditions", env_conditions_json(&c));
}

int session_open(struct session *s, const char *out, const char *workbase)
{
	char dir[PATH_MAX], err[800];
	int rc;

	make_run_id(s->run_id, sizeof(s->run_id));
	if (out)
		snprintf(dir, sizeof(dir), "%s", out);
	else
		snprintf(dir, sizeof(dir), "results/%s", s->run_id);
	if (make_workdir(s, workbase, err, sizeof(err))) {
		fprintf(stderr, "copylab: %s\n", err);
		return EXIT_RUN_FAILED;
	}
	rc = results_create(dir, s->run_id, &s->res, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "copylab: %s\n", err);
		scratch_remove(s->workdir);
		/* Another run's directory, or not a directory: the --out given is wrong. */
		return rc == -EBUSY || rc == -EEXIST || rc == -ENOTDIR ? EXIT_USAGE : EXIT_RUN_FAILED;
	}
	s->started_ns = now_ns();
	s->progress_tty = isatty(STDERR_FILENO) && !getenv("CI");
	catch_stop_signals();
	return 0;
}

/* Prints the table on `table` unless NULL (the caller printed it), then closes. */
void session_close(struct session *s, FILE *table)
{
	if (table)
		results_print_table(s->res, table);
	fprintf(table ? table : stdout, "\nresults: %s/ (results.jsonl, summary.csv, env.json)\n",
		results_dir(s->res));
	results_close(s->res);
	cpusample_close(s->sampler);
	if (s->ledger)
		ledger_close(s->ledger);
	/* The veth link goes on every way out: this, an error, a signal (atexit as well). */
	link_destroy();
	lons_destroy();
	remote_close(s->remote);
	if (s->workdir[0])
		scratch_remove(s->workdir);
	free(s->all);
}
