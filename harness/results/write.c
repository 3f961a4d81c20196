/* SPDX-License-Identifier: MIT */
/*
 * The run directory (results.jsonl, summary.csv, env.json; see
 * docs/results.md) and the readable table printed at the end of a run.
 */
#include "write.h"
#include "harness/model/base.h"
#include "stats.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define JSONL_NAME	"results.jsonl"
#define SUMMARY_NAME	"summary.csv"
#define ENV_NAME	"env.json"
#define BASELINE	"readwrite"	/* the strategy every ratio is against */
#define GIB		1073741824.0

/*
 * 15 significant digits: more than any clock or counter here resolves, and
 * 0.1 stays "0.1" instead of "0.10000000000000001".
 */
#define REAL_PRECISION	JSON_REAL_PRECISION(15)

/* A growing string; the first allocation failure sticks, like ferror(3). */
struct strbuf {
	char *p;
	size_t len, cap;
	int err;
};

struct results {
	char *dir, *run_id;
	struct rep_result *reps;	/* counted repetitions, in the order added */
	size_t n, cap;
	struct strbuf jsonl;		/* results.jsonl exactly as last written */
};

/* ---- small helpers ---------------------------------------------------- */

static void sb_printf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void sb_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (sb->err)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		sb->err = -EINVAL;
		return;
	}
	if (sb->len + (size_t)n + 1 > sb->cap) {
		size_t cap = sb->cap ? sb->cap : 4096;
		char *p;

		while (sb->len + (size_t)n + 1 > cap)
			cap *= 2;
		p = realloc(sb->p, cap);
		if (!p) {
			sb->err = -ENOMEM;
			return;
		}
		sb->p = p;
		sb->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(sb->p + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

static int dir_path(const struct results *r, const char *name, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s/%s", r->dir, name);

	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

/*
 * The new content in an unnamed file (O_TMPFILE) of the target's directory,
 * written and synced, then named and renamed over the target: a process
 * killed while writing leaves nothing behind, and one killed between the
 * link and the rename (microseconds) leaves one hidden temporary at most.
 * Where O_TMPFILE is not supported, a named temporary is written instead.
 */
int write_file_atomic(const char *path, const char *text, size_t len)
{
	const char *slash = strrchr(path, '/');
	char tmp[PATH_MAX], dir[PATH_MAX], proc[64];
	int fd, n, err = 0;
	bool unnamed;

	/* Same directory as path: rename(2) is atomic only within one filesystem. */
	if (slash)
		n = snprintf(tmp, sizeof(tmp), "%.*s/.%s.tmp.XXXXXX",
			     (int)(slash - path), path, slash + 1);
	else
		n = snprintf(tmp, sizeof(tmp), ".%s.tmp.XXXXXX", path);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -ENAMETOOLONG;
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
	/* O_CLOEXEC: role processes forked later must not inherit it. */
	fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
	unnamed = fd >= 0;
	if (!unnamed)
		fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = write_all(fd, text, len, NULL);
	/* mkstemp makes 0600; results are meant to be read by whoever studies them. */
	if (!err && fchmod(fd, 0644) != 0)
		err = -errno;
	/* Data on disk before the name points at it, or a crash could leave an empty file. */
	if (!err && fsync(fd) != 0)
		err = -errno;
	if (!err && unnamed) {
		/* A name for the unnamed file: mktemp's is free, linkat fails if not. */
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		for (int tries = 0; tries < 8; tries++) {
			char try[PATH_MAX];

			struct timespec ts;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			memcpy(try, tmp, sizeof(try));
			/* The XXXXXX of the template: pid, attempt and clock, in hex. */
			snprintf(strstr(try, "XXXXXX"), 7, "%06x",
				 (unsigned)(getpid() * 2654435761u ^ (unsigned)ts.tv_nsec ^ (unsigned)tries) & 0xffffff);
			if (linkat(AT_FDCWD, proc, AT_FDCWD, try, AT_SYMLINK_FOLLOW) == 0) {
				memcpy(tmp, try, sizeof(tmp));
				err = 0;
				break;
			}
			err = -errno;
			if (errno != EEXIST)
				break;
		}
	}
	if (close(fd) != 0 && !err)
		err = -errno;
	if (!err && rename(tmp, path) != 0)
		err = -errno;
	if (err && !strstr(tmp, "XXXXXX"))
		unlink(tmp);
	return err;
}

/* mkdir -p: every missing component, 0755. */
int mkdir_p(const char *dir)
{
	char path[PATH_MAX];
	struct stat st;
	size_t len = strlen(dir);

	if (len == 0 || len >= sizeof(path))
		return len ? -ENAMETOOLONG : -ENOENT;
	memcpy(path, dir, len + 1);
	for (char *p = path + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(path, 0755) != 0 && errno != EEXIST)
			return -errno;
		*p = c;
		if (c == '\0')
			break;
	}
	/* EEXIST is also what a plain file of that name gives. */
	if (stat(dir, &st) != 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

/* ---- the record --------------------------------------------------------- */

/*
 * A string field of the record.  The fields are fixed arrays, so bound the
 * length; a byte that is not valid UTF-8 (a localized strerror, say) is
 * replaced rather than losing the whole record.
 */
static json_t *text_json(const char *buf, size_t size)
{
	size_t len = strnlen(buf, size);
	json_t *j = json_stringn(buf, len);
	char clean[512];

	if (j || len >= sizeof(clean))
		return j;
	for (size_t i = 0; i < len; i++)
		clean[i] = (unsigned char)buf[i] < 0x80 ? buf[i] : '?';
	return json_stringn(clean, len);
}

#define TEXT_JSON(field) text_json((field), sizeof(field))

/* JSON has no NAN or infinity: an undefined figure is null. */
static json_t *real_json(double x)
{
	return isfinite(x) ? json_real(x) : json_null();
}

static bool rep_verified(const struct rep_result *rep)
{
	return rep->status == 0 && rep->verify == VERIFY_OK;
}

/* A figure we may use: the run completed and no byte was wrong. */
static bool rep_usable(const struct rep_result *rep)
{
	return rep->status == 0 && rep->verify != VERIFY_MISMATCH;
}

/* CPU seconds (user + system) per GiB this role moved; NAN if it moved none. */
static double role_cpu_per_gib(const struct role_result *role)
{
	if (role->bytes == 0)
		return NAN;
	return (role->cpu_user_s + role->cpu_sys_s) / ((double)role->bytes / GIB);
}

static const struct role_result *tested_role(const struct rep_result *rep)
{
	for (int i = 0; i < rep->nroles && i < MAX_ROLES; i++)
		if (rep->roles[i].under_test)
			return &rep->roles[i];
	return NULL;
}

/* Integer counters: a count, or null when it was not counted. */
static json_t *count_json(bool have, uint64_t v)
{
	return have ? json_integer((json_int_t)v) : json_null();
}

/* A figure per GiB of payload; null when not counted or nothing moved. */
static json_t *per_gib_json(bool have, double v, uint64_t payload)
{
	return have && payload ? real_json(v / ((double)payload / GIB)) : json_null();
}

static json_t *perf_json(const struct perf_values *p)
{
	json_t *o = json_object();

	if (!p->have) {
		json_decref(o);
		return json_null();
	}
	for (int i = 0; i < PC_COUNT; i++)
		json_object_set_new(o, perf_counter_name(i), count_json(p->have & (1u << i), p->v[i]));
	return o;
}

json_t *ledger_counts_json(const struct ledger_counts *l, uint64_t payload)
{
	json_t *fam, *per, *uring = NULL;

	fam = json_object();
	for (int f = 0; f < LF_COUNT; f++)
		json_object_set_new(fam, ledger_family_name(f), json_integer((json_int_t)l->by_family[f]));
	/*
	 * io_uring moves bytes with no read/write syscall: its SQEs, CQEs and
	 * the bytes of their results by class of opcode; null when the
	 * io_uring tracepoints did not attach.
	 */
	if (l->uring.have) {
		json_t *sqes = json_object(), *cqes = json_object(), *bytes = json_object();
		uint64_t nsqe = 0, nbytes = 0;

		for (int k = 0; k < LU_COUNT; k++) {
			const char *n = ledger_uring_class_name(k);

			json_object_set_new(sqes, n, json_integer((json_int_t)l->uring.sqes[k]));
			json_object_set_new(cqes, n, json_integer((json_int_t)l->uring.cqes[k]));
			json_object_set_new(bytes, n, json_integer((json_int_t)l->uring.cqe_bytes[k]));
			nsqe += l->uring.sqes[k];
			nbytes += l->uring.cqe_bytes[k];
		}
		uring = json_pack("{s:o, s:o, s:o, s:I, s:I, s:o}", "sqes", sqes, "cqes", cqes,
				  "cqe_bytes", bytes, "sqes_total", (json_int_t)nsqe,
				  "cqe_bytes_total", (json_int_t)nbytes,
				  "sqes_per_gib", per_gib_json(true, nsqe, payload));
	}
	per = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
			"syscalls", per_gib_json(true, l->syscalls, payload),
			"bytes_to_user", per_gib_json(true, l->bytes_to_user, payload),
			"bytes_from_user", per_gib_json(true, l->bytes_from_user, payload),
			"bytes_in_kernel", per_gib_json(true, l->bytes_in_kernel, payload),
			"skb_copy_bytes", per_gib_json(true, l->skb_copy_bytes, payload),
			"sched_switches", per_gib_json(true, l->sched_switches, payload),
			"page_faults", per_gib_json(true, l->page_faults, payload));
	return json_pack("{s:I, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o}",
			 "syscalls", (json_int_t)l->syscalls,
			 "syscalls_by_family", fam,
			 "bytes_to_user", (json_int_t)l->bytes_to_user,
			 "bytes_from_user", (json_int_t)l->bytes_from_user,
			 "bytes_in_kernel", (json_int_t)l->bytes_in_kernel,
			 "skb_copy_bytes", (json_int_t)l->skb_copy_bytes,
			 "sched_switches", (json_int_t)l->sched_switches,
			 "page_faults", (json_int_t)l->page_faults,
			 "per_gib", per,
			 "uring", uring ? uring : json_null());
}

static json_t *ledger_json(const struct role_result *ro, uint64_t payload)
{
	return ro->have_ledger ? ledger_counts_json(&ro->ledger, payload) : json_null();
}

static json_t *tracer_json(const struct role_result *ro)
{
	const struct copytrace_totals *t = &ro->tracer;

	if (!ro->have_tracer)
		return json_null();
	return json_pack("{s:{s:I, s:I, s:I}, s:I, s:I, s:I, s:I, s:I}",
			 "calls", "read", (json_int_t)t->calls[CT_READ],
			 "write", (json_int_t)t->calls[CT_WRITE],
			 "splice", (json_int_t)t->calls[CT_SPLICE],
			 "bytes_to_user", (json_int_t)t->bytes[CT_READ],
			 "bytes_from_user", (json_int_t)t->bytes[CT_WRITE],
			 "bytes_in_kernel", (json_int_t)t->bytes[CT_SPLICE],
			 "vmsplice_calls", (json_int_t)t->vmsplice_calls,
			 "vmsplice_bytes", (json_int_t)t->vmsplice_bytes);
}

static json_t *role_json(const struct role_result *ro, uint64_t payload)
{
	const struct perf_values *p = &ro->perf;

	return json_pack("{s:b, s:o, s:o, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I,"
			 " s:o, s:o, s:o, s:o, s:o, s:o}",
			 "under_test", ro->under_test,
			 "cpu_user_s", real_json(ro->cpu_user_s),
			 "cpu_sys_s", real_json(ro->cpu_sys_s),
			 "cpu_per_gib_s", real_json(role_cpu_per_gib(ro)),
			 "ctx_voluntary", (json_int_t)ro->ctx_voluntary,
			 "ctx_involuntary", (json_int_t)ro->ctx_involuntary,
			 "faults_minor", (json_int_t)ro->faults_minor,
			 "faults_major", (json_int_t)ro->faults_major,
			 "bytes", (json_int_t)ro->bytes,
			 "calls", (json_int_t)ro->io.calls,
			 "short_ops", (json_int_t)ro->io.short_ops,
			 "eagain", (json_int_t)ro->io.eagain,
			 "eintr", (json_int_t)ro->io.eintr,
			 "cpu_pinned", ro->cpu_pinned >= 0 ? json_integer(ro->cpu_pinned) : json_null(),
			 "cpu_last", ro->cpu_last >= 0 ? json_integer(ro->cpu_last) : json_null(),
			 "perf", perf_json(p),
			 "bpf", ledger_json(ro, payload),
			 "tracer", tracer_json(ro),
			 "per_gib", json_pack("{s:o, s:o, s:o}",
				"context_switches", per_gib_json(p->have & (1u << PC_CONTEXT_SWITCHES),
								 p->v[PC_CONTEXT_SWITCHES], payload),
				"page_faults", per_gib_json(p->have & (1u << PC_PAGE_FAULTS),
							    p->v[PC_PAGE_FAULTS], payload),
				"task_clock_s", per_gib_json(p->have & (1u << PC_TASK_CLOCK),
							     p->v[PC_TASK_CLOCK] / 1e9, payload)));
}

/* {"server": {...}, "client": {...}}, in the order the run engine gave. */
static json_t *roles_json(const struct rep_result *rep)
{
	json_t *roles = json_object();

	for (int i = 0; roles && i < rep->nroles && i < MAX_ROLES; i++) {
		const struct role_result *ro = &rep->roles[i];
		char name[sizeof(ro->name) + 1];

		snprintf(name, sizeof(name), "%.*s", (int)strnlen(ro->name, sizeof(ro->name)), ro->name);
		if (json_object_set_new(roles, name, role_json(ro, rep->cell.bytes)) != 0) {
			json_decref(roles);
			roles = NULL;
		}
	}
	return roles;
}

static json_t *profile_json(const struct rep_result *rep)
{
	const struct profile_result *p = &rep->profile;
	json_t *top;

	if (!p->taken)
		return p->note[0] ? json_pack("{s:s}", "note", p->note) : json_null();
	top = json_array();
	for (int i = 0; i < p->n; i++)
		json_array_append_new(top, json_pack("{s:s, s:s, s:o}", "symbol", p->top[i].symbol,
						     "mode", p->top[i].kernel ? "kernel" : "user",
						     "share", real_json(p->top[i].share)));
	return json_pack("{s:s, s:I, s:o}", "event", "cpu-clock", "samples", (json_int_t)p->samples,
			 "top", top);
}

/*
 * The whole machine over the window: what no role's own accounting shows
 * (softirq, kworkers).  busy = everything but idle, iowait and steal.
 */
static json_t *system_cpu_json(const struct system_cpu *c, uint64_t payload)
{
	double busy = system_cpu_busy(c);

	if (!c->have)
		return json_null();
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
			 "user_s", real_json(c->user_s + c->nice_s),
			 "system_s", real_json(c->system_s),
			 "irq_s", real_json(c->irq_s),
			 "softirq_s", real_json(c->softirq_s),
			 "idle_s", real_json(c->idle_s),
			 "steal_s", real_json(c->steal_s),
			 "busy_s", real_json(busy),
			 "busy_per_gib_s", payload ? real_json(busy / ((double)payload / GIB)) : json_null());
}

/* Echo round trips: every one counted, percentiles from the histogram. */
static json_t *latency_json(const struct rep_result *rep)
{
	const struct latency_summary *l = &rep->latency;

	if (rep->cell.scenario != SC_ECHO)
		return json_null();
	return json_pack("{s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
			 "message_bytes", (json_int_t)rep->cell.block,
			 "outstanding", (json_int_t)l->outstanding,
			 "round_trips", (json_int_t)l->count,
			 "mean_us", real_json(l->mean_us), "min_us", real_json(l->min_us),
			 "p50_us", real_json(l->p50_us), "p90_us", real_json(l->p90_us),
			 "p99_us", real_json(l->p99_us), "p999_us", real_json(l->p999_us),
			 "max_us", real_json(l->max_us));
}

/*
 * The connections of the cell: how many shared `bytes`, and the spread of
 * their shares, completion times and throughputs (docs/results.md).
 */
static json_t *per_conn_json(const struct rep_result *rep)
{
	const struct conn_spread *c = &rep->spread;

	if (rep->cell.scenario != SC_SERVE && rep->cell.scenario != SC_RELAY)
		return json_null();
	return json_pack("{s:I, s:I, s:{s:o, s:o, s:o}, s:{s:o, s:o, s:o}}",
			 "bytes_min", (json_int_t)c->bytes_min, "bytes_max", (json_int_t)c->bytes_max,
			 "completion_s", "min", real_json(c->completion_min_s),
			 "median", real_json(c->completion_median_s), "max", real_json(c->completion_max_s),
			 "bytes_per_s", "min", real_json(c->bps_min), "median", real_json(c->bps_median),
			 "max", real_json(c->bps_max));
}

/* Zero-copy sends as the kernel reported them: really not copied, or copied. */
static json_t *zerocopy_json(const struct zerocopy_counters *z)
{
	if (!z->reported)
		return json_null();
	return json_pack("{s:I, s:I, s:I, s:I, s:o}",
			 "sends", (json_int_t)z->sends,
			 "completions", (json_int_t)z->completions,
			 "copied", (json_int_t)z->copied,
			 "bytes_copied", (json_int_t)z->bytes_copied,
			 "share_not_copied", z->completions
				? real_json(1.0 - (double)z->copied / (double)z->completions) : json_null());
}

/*
 * Zero-copy receive: of the bytes delivered, how many came from mapped
 * pages and how many by copy (the copy buffer's remainder, and read() of
 * what the kernel could not map).
 */
static json_t *zerocopy_recv_json(const struct zcrecv_counters *z)
{
	uint64_t copied = z->bytes_copybuf + z->bytes_read, all = z->bytes_mapped + copied;

	if (!z->reported)
		return json_null();
	return json_pack("{s:I, s:I, s:I, s:I, s:o, s:I, s:I}",
			 "bytes_mapped", (json_int_t)z->bytes_mapped,
			 "bytes_copied", (json_int_t)copied,
			 "bytes_copybuf", (json_int_t)z->bytes_copybuf,
			 "bytes_read", (json_int_t)z->bytes_read,
			 "share_mapped", all ? real_json((double)z->bytes_mapped / (double)all) : json_null(),
			 "maps", (json_int_t)z->maps,
			 "unmaps", (json_int_t)z->unmaps);
}

static json_t *status_json(const struct rep_result *rep)
{
	if (rep->status == 0)
		return json_string("ok");
	if (rep->error[0])
		return TEXT_JSON(rep->error);
	return json_string(strerror(rep->status < 0 ? -rep->status : rep->status));
}

json_t *rep_to_json(const struct rep_result *rep, const char *run_id)
{
	char digest[24];

	snprintf(digest, sizeof(digest), "0x%016llx", (unsigned long long)rep->digest);
	/* "o" takes ownership; one NULL among them (no memory) fails the whole pack. */
	return json_pack("{s:s, s:s, s:s?, s:o, s:o, s:o, s:I, s:I, s:i, s:o, s:o,"
			 " s:b, s:s?, s:o, s:s, s:b, s:o, s:o, s:o, s:o, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o,"
			 " s:o, s:I, s:o}",
			 "schema", RECORD_SCHEMA,
			 "run_id", run_id ? run_id : "",
			 "scenario", scenario_name(rep->cell.scenario),
			 "strategy", TEXT_JSON(rep->cell.strategy),
			 "strategy_base", TEXT_JSON(rep->cell.base),
			 "transport", TEXT_JSON(rep->cell.transport),
			 "bytes", (json_int_t)rep->cell.bytes,
			 "block", (json_int_t)rep->cell.block,
			 "rep", rep->rep,
			 "wall_s", real_json(rep->wall_s),
			 "bytes_per_s", real_json(rep->bytes_per_s),
			 "verified", rep_verified(rep),
			 "verify", verify_state_name(rep->verify),
			 "verify_note", rep->verify_note[0] ? TEXT_JSON(rep->verify_note) : json_null(),
			 "digest", digest,
			 "nonblock", rep->nonblock,
			 "pipe_size", rep->pipe_granted ? json_integer((json_int_t)rep->pipe_granted)
							: json_null(),
			 "pipe_size_asked", rep->cell.pipe_asked ? json_integer((json_int_t)rep->cell.pipe_asked)
								 : json_null(),
			 "huge_pages", rep->hugepages_asked ? json_boolean(rep->thp_granted) : json_null(),
			 "status", status_json(rep),
			 "metrics", json_pack("{s:s, s:s, s:s}",
				"perf", rep->perf_note[0] ? rep->perf_note : "unknown",
				"bpf", rep->bpf_note[0] ? rep->bpf_note : "unknown",
				"tracer", rep->tracer_note[0] ? rep->tracer_note : "unknown"),
			 "cache", rep->cell.cache[0] ? rep->cell.cache : "warm",
			 "cache_note", rep->cache_note[0] ? json_string(rep->cache_note) : json_null(),
			 "system_cpu", system_cpu_json(&rep->system_cpu, rep->cell.bytes),
			 "latency", latency_json(rep),
			 "profile", profile_json(rep),
			 "zerocopy", zerocopy_json(&rep->zc),
			 "role_absent", rep->role_absent[0] ? TEXT_JSON(rep->role_absent) : json_null(),
			 "zerocopy_recv", zerocopy_recv_json(&rep->zcr),
			 "fixed_sender", rep->fixed_sender[0] ? json_string(rep->fixed_sender) : json_null(),
			 "roles", roles_json(rep),
			 "conns", (json_int_t)(rep->cell.conns ? rep->cell.conns : 1),
			 "per_conn", per_conn_json(rep));
}

/* ---- the run directory -------------------------------------------------- */

static json_t *env_extra;

void results_env_extra(const char *key, json_t *value)
{
	if (!env_extra)
		env_extra = json_object();
	json_object_set_new(env_extra, key, value ? value : json_null());
}

static int write_env(const struct results *r)
{
	char path[PATH_MAX];
	json_t *env = env_collect();
	char *text = NULL;
	int err = dir_path(r, ENV_NAME, path, sizeof(path));

	/* The run id ties env.json to the records of the same run. */
	if (!err && (!env || json_object_set_new(env, "run_id", json_string(r->run_id)) != 0))
		err = -ENOMEM;
	if (!err && env_extra && json_object_update(env, env_extra))
		err = -ENOMEM;
	if (!err) {
		text = json_dumps(env, JSON_INDENT(2) | REAL_PRECISION);
		err = text ? 0 : -ENOMEM;
	}
	if (!err) {
		struct strbuf sb = { 0 };

		sb_printf(&sb, "%s\n", text);
		err = sb.err ? sb.err : write_file_atomic(path, sb.p, sb.len);
		free(sb.p);
	}
	free(text);
	json_decref(env);
	return err;
}

void results_close(struct results *r)
{
	if (!r)
		return;
	free(r->dir);
	free(r->run_id);
	free(r->reps);
	free(r->jsonl.p);
	free(r);
}

struct results *results_open(const char *dir, const char *run_id, char *err, size_t errlen)
{
	struct results *r = calloc(1, sizeof(*r));
	char path[PATH_MAX];
	int rc;

	if (!r || !(r->dir = strdup(dir)) || !(r->run_id = strdup(run_id ? run_id : ""))) {
		snprintf(err, errlen, "results: out of memory");
		goto fail;
	}
	rc = mkdir_p(dir);
	if (rc) {
		snprintf(err, errlen, "results: cannot create directory %s: %s", dir, strerror(-rc));
		goto fail;
	}
	/*
	 * A directory holding another run's records would end up with this
	 * run's env.json beside them, then lose them at the first add.
	 */
	rc = dir_path(r, JSONL_NAME, path, sizeof(path));
	if (!rc && access(path, F_OK) == 0) {
		snprintf(err, errlen, "results: %s already holds the results of a run; "
			 "choose a new directory", dir);
		goto fail;
	}
	if (!rc)
		rc = write_env(r);
	if (rc) {
		snprintf(err, errlen, "results: cannot write %s/%s: %s", dir, ENV_NAME, strerror(-rc));
		goto fail;
	}
	return r;
fail:
	results_close(r);
	return NULL;
}

const char *results_dir(const struct results *r)
{
	return r->dir;
}

/* Terminates every string field, so the record and the summary agree. */
static void terminate_strings(struct rep_result *rep)
{
#define TERMINATE(a) ((a)[sizeof(a) - 1] = '\0')
	TERMINATE(rep->cell.strategy);
	TERMINATE(rep->cell.base);
	TERMINATE(rep->cell.transport);
	TERMINATE(rep->cell.cache);
	TERMINATE(rep->verify_note);
	TERMINATE(rep->error);
	TERMINATE(rep->role_absent);
	for (int i = 0; i < MAX_ROLES; i++)
		TERMINATE(rep->roles[i].name);
#undef TERMINATE
}

int results_add(struct results *r, const struct rep_result *rep)
{
	char path[PATH_MAX];
	struct rep_result copy = *rep;
	size_t old_len = r->jsonl.len;
	json_t *rec;
	char *line;
	int err;

	if (rep->rep < 1)
		return -EINVAL;		/* warm-ups are not results */
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 64;
		struct rep_result *p = realloc(r->reps, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		r->reps = p;
		r->cap = cap;
	}
	terminate_strings(&copy);
	rec = rep_to_json(&copy, r->run_id);
	line = rec ? json_dumps(rec, JSON_COMPACT | REAL_PRECISION) : NULL;
	json_decref(rec);
	if (line)
		sb_printf(&r->jsonl, "%s\n", line);
	err = line ? r->jsonl.err : -ENOMEM;
	free(line);
	if (!err)
		err = dir_path(r, JSONL_NAME, path, sizeof(path));
	/*
	 * Rewriting the whole file through a rename means a reader (or a run
	 * killed mid-write) only ever sees whole lines.
	 */
	if (!err)
		err = write_file_atomic(path, r->jsonl.p, r->jsonl.len);
	if (err) {
		/* Keep memory equal to disk: the summary must agree with the records. */
		r->jsonl.len = old_len;
		r->jsonl.err = 0;
		return err;
	}
	r->reps[r->n++] = copy;
	return 0;
}

/*
 * ---- summary: one cell per (scenario, transport, bytes, block, cache,
 * outstanding, conns, pipe size asked, strategy) ----
 */

/* Same data point: only the strategy differs. */
static bool same_point(const struct cell *a, const struct cell *b)
{
	return a->scenario == b->scenario && a->bytes == b->bytes && a->block == b->block &&
	       strcmp(a->transport, b->transport) == 0 && strcmp(a->cache, b->cache) == 0 &&
	       a->outstanding == b->outstanding && a->conns == b->conns && a->pipe_asked == b->pipe_asked;
}

static bool same_cell(const struct cell *a, const struct cell *b)
{
	return same_point(a, b) && strcmp(a->strategy, b->strategy) == 0;
}

/* Whether reps[i] is the first of its cell: cells are listed in first-seen order. */
static bool first_of_cell(const struct results *r, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (same_cell(&r->reps[j].cell, &r->reps[i].cell))
			return false;
	return true;
}

static bool first_of_point(const struct results *r, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (same_point(&r->reps[j].cell, &r->reps[i].cell))
			return false;
	return true;
}

struct cell_summary {
	int reps, verified_reps;
	char tested_role[sizeof(((struct role_result *)0)->name)];
	/* Over the usable repetitions (completed, no mismatch). */
	struct stats_summary bps, wall, cpu_per_gib, cpu_user, cpu_sys, ctx, faults;
	struct stats_summary ratio;	/* paired against readwrite; n == 0 if none */
};

enum column { COL_BPS, COL_WALL, COL_CPG, COL_USER, COL_SYS, COL_CTX, COL_FAULTS, COL_RATIO, NCOLS };

struct column_buf {
	double *v;
	size_t n;
};

static void push(struct column_buf *c, double x)
{
	if (isfinite(x))
		c->v[c->n++] = x;
}

static int summarize_cell(const struct results *r, const struct cell *cell, struct cell_summary *cs)
{
	struct column_buf col[NCOLS];
	double *vals = malloc(NCOLS * r->n * sizeof(*vals));
	struct stats_sample *mine = malloc(2 * r->n * sizeof(*mine));
	struct stats_sample *base = mine + r->n;
	size_t nmine = 0, nbase = 0;

	if (!vals || !mine) {
		free(vals);
		free(mine);
		return -ENOMEM;
	}
	memset(cs, 0, sizeof(*cs));
	for (int c = 0; c < NCOLS; c++)
		col[c] = (struct column_buf){ vals + (size_t)c * r->n, 0 };

	for (size_t i = 0; i < r->n; i++) {
		const struct rep_result *rep = &r->reps[i];
		const struct role_result *ro = tested_role(rep);

		if (rep_usable(rep) && same_point(&rep->cell, cell) &&
		    strcmp(rep->cell.strategy, BASELINE) == 0)
			base[nbase++] = (struct stats_sample){ rep->rep, rep->bytes_per_s };
		if (!same_cell(&rep->cell, cell))
			continue;
		cs->reps++;
		cs->verified_reps += rep_verified(rep);
		if (ro && !cs->tested_role[0])
			memcpy(cs->tested_role, ro->name, sizeof(cs->tested_role));
		if (!rep_usable(rep))
			continue;
		mine[nmine++] = (struct stats_sample){ rep->rep, rep->bytes_per_s };
		push(&col[COL_BPS], rep->bytes_per_s);
		push(&col[COL_WALL], rep->wall_s);
		if (!ro)
			continue;
		push(&col[COL_CPG], role_cpu_per_gib(ro));
		push(&col[COL_USER], ro->cpu_user_s);
		push(&col[COL_SYS], ro->cpu_sys_s);
		push(&col[COL_CTX], (double)ro->ctx_voluntary + (double)ro->ctx_involuntary);
		push(&col[COL_FAULTS], (double)ro->faults_minor);
	}
	col[COL_RATIO].n = stats_paired_ratios(mine, nmine, base, nbase, col[COL_RATIO].v, r->n);

	cs->bps = stats_summarize(col[COL_BPS].v, col[COL_BPS].n);
	cs->wall = stats_summarize(col[COL_WALL].v, col[COL_WALL].n);
	cs->cpu_per_gib = stats_summarize(col[COL_CPG].v, col[COL_CPG].n);
	cs->cpu_user = stats_summarize(col[COL_USER].v, col[COL_USER].n);
	cs->cpu_sys = stats_summarize(col[COL_SYS].v, col[COL_SYS].n);
	cs->ctx = stats_summarize(col[COL_CTX].v, col[COL_CTX].n);
	cs->faults = stats_summarize(col[COL_FAULTS].v, col[COL_FAULTS].n);
	cs->ratio = stats_summarize(col[COL_RATIO].v, col[COL_RATIO].n);
	free(vals);
	free(mine);
	return 0;
}

/* One field, after a comma unless it is the first; RFC 4180 quoting only if needed. */
static void csv_field(struct strbuf *sb, bool first, const char *s)
{
	if (!first)
		sb_printf(sb, ",");
	if (!strpbrk(s, ",\"\r\n")) {
		sb_printf(sb, "%s", s);
		return;
	}
	sb_printf(sb, "\"");
	for (; *s; s++)
		sb_printf(sb, *s == '"' ? "\"\"" : "%c", *s);
	sb_printf(sb, "\"");
}

#define CSV_NUM 32

/* An undefined figure is an empty field. */
static const char *csv_real(double x, char buf[CSV_NUM])
{
	if (isfinite(x))
		snprintf(buf, CSV_NUM, "%.12g", x);
	else
		buf[0] = '\0';
	return buf;
}

static const char *csv_uint(unsigned long long v, char buf[CSV_NUM])
{
	snprintf(buf, CSV_NUM, "%llu", v);
	return buf;
}

static const char csv_header[] =
	"scenario,transport,bytes,block,strategy,reps,verified_reps,"
	"bytes_per_s_median,bytes_per_s_min,bytes_per_s_max,wall_s_median,"
	"tested_role,tested_cpu_per_gib_median,tested_cpu_user_s_median,tested_cpu_sys_s_median,"
	"ratio_vs_readwrite_median,ratio_vs_readwrite_min,ratio_vs_readwrite_max,"
	"bytes_per_s_ci_lo,bytes_per_s_ci_hi,bytes_per_s_ci_level,"
	"ratio_ci_lo,ratio_ci_hi,ratio_ci_level,difference,cache,outstanding,conns,pipe_size_asked\n";

/*
 * The verdict of the paired ratio to readwrite: a difference is claimed only
 * when the median's interval excludes 1.0.
 */
static const char *difference_of(const struct cell *c, const struct cell_summary *cs)
{
	if (cs->ratio.n == 0 || strcmp(c->strategy, BASELINE) == 0)
		return "";
	if (!(cs->ratio.ci.lo > 1.0 || cs->ratio.ci.hi < 1.0))
		return "no difference measured";
	return cs->ratio.ci.lo > 1.0 ? "faster" : "slower";
}

static void csv_row(struct strbuf *sb, const struct cell *c, const struct cell_summary *cs)
{
	const char *sc = scenario_name(c->scenario);
	char n[23][CSV_NUM];
	/* In the order of csv_header. */
	const char *field[] = {
		sc ? sc : "?", c->transport,
		csv_uint(c->bytes, n[0]), csv_uint(c->block, n[1]),
		c->strategy,
		csv_uint((unsigned)cs->reps, n[2]), csv_uint((unsigned)cs->verified_reps, n[3]),
		csv_real(cs->bps.median, n[4]), csv_real(cs->bps.min, n[5]),
		csv_real(cs->bps.max, n[6]),
		csv_real(cs->wall.median, n[7]),
		cs->tested_role,
		csv_real(cs->cpu_per_gib.median, n[8]),
		csv_real(cs->cpu_user.median, n[9]), csv_real(cs->cpu_sys.median, n[10]),
		csv_real(cs->ratio.median, n[11]), csv_real(cs->ratio.min, n[12]),
		csv_real(cs->ratio.max, n[13]),
		csv_real(cs->bps.ci.lo, n[14]), csv_real(cs->bps.ci.hi, n[15]),
		csv_real(cs->bps.ci.level, n[16]),
		csv_real(cs->ratio.ci.lo, n[17]), csv_real(cs->ratio.ci.hi, n[18]),
		csv_real(cs->ratio.ci.level, n[19]),
		difference_of(c, cs),
		c->cache[0] ? c->cache : "warm",
		csv_uint(c->outstanding, n[20]),
		csv_uint(c->conns ? c->conns : 1, n[21]),
		csv_uint(c->pipe_asked, n[22]),
	};

	for (size_t i = 0; i < sizeof(field) / sizeof(field[0]); i++)
		csv_field(sb, i == 0, field[i]);
	sb_printf(sb, "\n");
}

int results_write_summary(struct results *r)
{
	struct strbuf sb = { 0 };
	char path[PATH_MAX];
	int err = 0;

	sb_printf(&sb, "%s", csv_header);
	for (size_t i = 0; !err && i < r->n; i++) {
		struct cell_summary cs;

		if (!first_of_cell(r, i))
			continue;
		err = summarize_cell(r, &r->reps[i].cell, &cs);
		if (!err)
			csv_row(&sb, &r->reps[i].cell, &cs);
	}
	if (!err)
		err = sb.err;
	if (!err)
		err = dir_path(r, SUMMARY_NAME, path, sizeof(path));
	if (!err)
		err = write_file_atomic(path, sb.p, sb.len);
	free(sb.p);
	return err;
}

/* ---- the readable table ------------------------------------------------- */

/* 65536 -> "64 KiB"; 1048577 -> "1.0 MiB (1048577 B)": odd sizes matter here. */
static void format_size(uint64_t v, char *out, size_t outlen)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	uint64_t scale = 1;
	int u = 0;

	while (u < 4 && v >= scale * 1024) {
		scale *= 1024;
		u++;
	}
	if (v % scale == 0)
		snprintf(out, outlen, "%llu %s", (unsigned long long)(v / scale), unit[u]);
	else
		snprintf(out, outlen, "%.1f %s (%llu B)", (double)v / (double)scale, unit[u],
			 (unsigned long long)v);
}

enum { TCOLS = 7, TCELL = 64 };

struct table_row {
	char c[TCOLS][TCELL];
};

/* MB/s median [min..max], with as many decimals as small figures need. */
static void format_mbps(const struct stats_summary *s, char *out, size_t outlen)
{
	double m = s->median / 1e6;
	int prec = m >= 100 ? 0 : m >= 1 ? 1 : 3;

	if (s->n == 0)
		snprintf(out, outlen, "failed");
	else
		snprintf(out, outlen, "%.*f [%.*f..%.*f]", prec, m, prec, s->min / 1e6,
			 prec, s->max / 1e6);
}

static void format_figure(const struct stats_summary *s, const char *fmt, char *out, size_t outlen)
{
	if (s->n == 0)
		snprintf(out, outlen, "-");
	else
		snprintf(out, outlen, fmt, s->median);
}

static void table_row_of(const struct cell *c, const struct cell_summary *cs, struct table_row *row)
{
	snprintf(row->c[0], TCELL, "%s", c->strategy);
	format_mbps(&cs->bps, row->c[1], TCELL);
	format_figure(&cs->ratio, "%.2f", row->c[2], TCELL);
	/* "=": the interval of the paired ratio includes 1.0, no difference measured. */
	if (strcmp(difference_of(c, cs), "no difference measured") == 0)
		strncat(row->c[2], "=", TCELL - strlen(row->c[2]) - 1);
	else if (cs->ratio.n)
		strncat(row->c[2], " ", TCELL - strlen(row->c[2]) - 1);
	format_figure(&cs->cpu_per_gib, "%.3f", row->c[3], TCELL);
	format_figure(&cs->ctx, "%.0f", row->c[4], TCELL);
	format_figure(&cs->faults, "%.0f", row->c[5], TCELL);
	snprintf(row->c[6], TCELL, "%d/%d", cs->verified_reps, cs->reps);
}

/* Strategy names left-aligned, figures right-aligned, two spaces between. */
static void print_rows(FILE *out, const struct table_row *rows, size_t n)
{
	int w[TCOLS] = { 0 };

	for (size_t i = 0; i < n; i++)
		for (int c = 0; c < TCOLS; c++)
			if ((int)strlen(rows[i].c[c]) > w[c])
				w[c] = (int)strlen(rows[i].c[c]);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "  %-*s", w[0], rows[i].c[0]);
		for (int c = 1; c < TCOLS; c++)
			fprintf(out, "  %*s", w[c], rows[i].c[c]);
		fputc('\n', out);
	}
}

static const struct table_row table_head = { {
	"strategy", "MB/s median [min..max]", "x readwrite", "CPU s/GiB",
	"ctx sw", "faults", "verified",
} };

/* One block: the strategies measured at the data point of reps[first]. */
static int print_point(const struct results *r, size_t first, FILE *out)
{
	const struct cell *point = &r->reps[first].cell;
	struct table_row *rows = calloc(r->n + 1, sizeof(*rows));
	const char *sc = scenario_name(point->scenario);
	char size[48], block[48], role[sizeof(((struct role_result *)0)->name)] = "";
	size_t nrows = 1;
	int reps = 0;

	if (!rows)
		return -ENOMEM;
	rows[0] = table_head;
	for (size_t i = first; i < r->n; i++) {
		struct cell_summary cs;

		if (!same_point(&r->reps[i].cell, point) || !first_of_cell(r, i))
			continue;
		if (summarize_cell(r, &r->reps[i].cell, &cs) != 0) {
			free(rows);
			return -ENOMEM;
		}
		table_row_of(&r->reps[i].cell, &cs, &rows[nrows++]);
		reps = cs.reps > reps ? cs.reps : reps;
		if (!role[0])
			memcpy(role, cs.tested_role, sizeof(role));
	}
	format_size(point->bytes, size, sizeof(size));
	format_size(point->block, block, sizeof(block));
	fprintf(out, "\n%s", sc ? sc : "?");
	if (strcmp(point->transport, "none") != 0)
		fprintf(out, " over %s", point->transport);
	fprintf(out, ", %s, block %s, %d rep%s", size, block, reps, reps == 1 ? "" : "s");
	if (strcmp(point->cache, "cold") == 0)
		fprintf(out, ", cold cache");
	if (point->outstanding > 1)
		fprintf(out, ", %u outstanding", point->outstanding);
	if (point->conns > 1)
		fprintf(out, ", %u connections sharing it", point->conns);
	if (point->pipe_asked) {
		char pipe[48];

		format_size(point->pipe_asked, pipe, sizeof(pipe));
		fprintf(out, ", %s pipe", pipe);
	}
	if (role[0])
		fprintf(out, " (role under test: %s)", role);
	fputc('\n', out);
	print_rows(out, rows, nrows);
	free(rows);
	return 0;
}

void results_print_table(const struct results *r, FILE *out)
{
	if (r->n == 0) {
		fprintf(out, "No results recorded.\n");
		return;
	}
	fprintf(out, "MB/s = 10^6 bytes/s.  x readwrite = median of the ratios to readwrite, "
		"repetition by repetition.\n"
		"CPU s/GiB (user + system per 2^30 bytes), ctx sw (voluntary + involuntary) "
		"and faults (minor)\nare of the role under test, medians over the repetitions.  A ratio "
		"marked = has an interval\n(order statistics of the paired ratios) that includes 1.0: "
		"no difference measured.\n");
	for (size_t i = 0; i < r->n; i++) {
		if (first_of_point(r, i) && print_point(r, i, out) != 0) {
			fprintf(out, "results: out of memory printing the table\n");
			return;
		}
	}
}
