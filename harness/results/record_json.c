/* SPDX-License-Identifier: MIT */
/*
 * One repetition as its results.jsonl record (docs/results.md): rep_to_json
 * and the objects it is made of, one function an object.
 */
#include "harness/model/base.h"
#include "record_json.h"
#include "role_figures.h"

#include <math.h>
#include <stdio.h>
#include <string.h>


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

bool rep_verified(const struct rep_result *rep)
{
	return rep->status == 0 && rep->verify == VERIFY_OK;
}

double role_cpu_per_gib(const struct role_result *role)
{
	if (role->bytes == 0)
		return NAN;
	return (role->cpu_user_s + role->cpu_sys_s) / ((double)role->bytes / GIB);
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
	return json_pack("{s:I, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o}",
			 "syscalls", (json_int_t)l->syscalls,
			 "syscalls_by_family", fam,
			 "bytes_to_user", (json_int_t)l->bytes_to_user,
			 "bytes_from_user", (json_int_t)l->bytes_from_user,
			 "bytes_in_kernel", (json_int_t)l->bytes_in_kernel,
			 "skb_copy_bytes", (json_int_t)l->skb_copy_bytes,
			 "sched_switches", (json_int_t)l->sched_switches,
			 "page_faults", (json_int_t)l->page_faults,
			 "steal_s", real_json(l->steal_ns / 1e9),
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

/* roles.ROLE.ledger: the same fields whichever instrument counted (role_figures.h). */
static json_t *role_ledger_json(const struct role_result *ro, uint64_t payload)
{
	struct role_ledger l = role_ledger_of(ro);

	if (!l.have)
		return json_null();
	return json_pack("{s:s, s:{s:I, s:I, s:I}, s:I, s:I, s:I, s:b, s:I, s:{s:o, s:o, s:o}}",
			 "source", l.source,
			 "calls", "read", (json_int_t)l.calls_read, "write", (json_int_t)l.calls_write,
			 "splice", (json_int_t)l.calls_splice,
			 "bytes_to_user", (json_int_t)l.to_user,
			 "bytes_from_user", (json_int_t)l.from_user,
			 "bytes_in_kernel", (json_int_t)l.in_kernel,
			 "io_uring_seen", l.io_uring_seen,
			 "zerocopy_not_copied", (json_int_t)l.zerocopy_not_copied,
			 "per_gib", "bytes_to_user", per_gib_json(true, l.to_user, payload),
			 "bytes_from_user", per_gib_json(true, l.from_user, payload),
			 "bytes_in_kernel", per_gib_json(true, l.in_kernel, payload));
}

/* roles.ROLE.cputime: where the role's CPU went, sampled; null without the sampler. */
static json_t *role_cputime_json(const struct role_result *ro, uint64_t payload)
{
	struct role_cputime t = role_cputime_of(ro, memcpy_rate());
	json_t *groups;

	if (!t.have)
		return json_null();
	groups = json_object();
	for (int g = 0; g < CG_COUNT; g++)
		json_object_set_new(groups, cpu_group_name(g), real_json(t.group_s[g]));
	return json_pack("{s:f, s:I, s:o, s:o, s:o, s:o, s:o, s:o}",
			 "rate_hz", t.rate_hz,
			 "samples", (json_int_t)t.samples,
			 "sampled_s", real_json(t.sampled_s),
			 "copy_s", real_json(t.copy_s),
			 "copy_per_gib_s", per_gib_json(true, t.copy_s, payload),
			 "copy_share", real_json(t.copy_share),
			 "groups", groups,
			 "predicted_copy_s", isnan(t.predicted_resident_s) ? json_null()
				: json_pack("{s:o, s:o}", "resident", real_json(t.predicted_resident_s),
					    "dram", real_json(t.predicted_dram_s)));
}

/* TCP_INFO of the role's sending TCP sockets (tcpinfo.h); null when it sends on none. */
static json_t *tcp_send_json(const struct tcp_facts *t)
{
	if (!t->sockets)
		return json_null();
	return json_pack("{s:I, s:I, s:I, s:I, s:o, s:o, s:I, s:I, s:I, s:I}",
			 "sockets", (json_int_t)t->sockets,
			 "retrans_segs", (json_int_t)t->retrans_segs,
			 "bytes_retrans", (json_int_t)t->bytes_retrans,
			 "bytes_acked", (json_int_t)t->bytes_acked,
			 "rtt_us", real_json(t->rtt_us),
			 "snd_cwnd", real_json(t->snd_cwnd),
			 "snd_mss", (json_int_t)t->snd_mss,
			 "busy_us", (json_int_t)t->busy_us,
			 "rwnd_limited_us", (json_int_t)t->rwnd_limited_us,
			 "sndbuf_limited_us", (json_int_t)t->sndbuf_limited_us);
}

static json_t *role_json(const struct rep_result *rep, const struct role_result *ro, uint64_t payload)
{
	const struct perf_values *p = &ro->perf;
	json_t *o;

	o = json_pack("{s:b, s:o, s:o, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I,"
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
	if (o && (json_object_set_new(o, "ledger", role_ledger_json(ro, payload)) ||
		  json_object_set_new(o, "cputime", role_cputime_json(ro, payload)) ||
		  json_object_set_new(o, "busy", real_json(role_busy(rep, ro))) ||
		  json_object_set_new(o, "tcp_send", tcp_send_json(&ro->tcp_send)))) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

/* {"server": {...}, "client": {...}}, in the order the run engine gave. */
static json_t *roles_json(const struct rep_result *rep)
{
	json_t *roles = json_object();

	for (int i = 0; roles && i < rep->nroles && i < MAX_ROLES; i++) {
		const struct role_result *ro = &rep->roles[i];
		char name[sizeof(ro->name) + 1];

		snprintf(name, sizeof(name), "%.*s", (int)strnlen(ro->name, sizeof(ro->name)), ro->name);
		if (json_object_set_new(roles, name, role_json(rep, ro, rep->cell.bytes)) != 0) {
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
 * (softirq, kworkers).  busy = everything but idle, iowait and steal;
 * steal_in_busy_s is the steal the nanosecond figure took out (null when
 * the ticks gave it).
 */
static json_t *system_cpu_json(const struct system_cpu *c, uint64_t payload)
{
	double busy = system_cpu_busy(c);

	if (!c->have)
		return json_null();
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:b, s:o}",
			 "user_s", real_json(c->user_s + c->nice_s),
			 "system_s", real_json(c->system_s),
			 "irq_s", real_json(c->irq_s),
			 "softirq_s", real_json(c->softirq_s),
			 "idle_s", real_json(c->idle_s),
			 "steal_s", real_json(c->steal_s),
			 "steal_in_busy_s", c->have_ns ? real_json(c->steal_busy_s) : json_null(),
			 "busy_s", real_json(busy),
			 "busy_per_gib_s", payload ? real_json(busy / ((double)payload / GIB)) : json_null(),
			 "method", system_cpu_method(c),
			 "resolved", system_cpu_resolved(c),
			 "busy_ticks", real_json(system_cpu_busy_ticks(c)));
}

/* Echo round trips: every one counted, percentiles from the histogram. */
static json_t *latency_json(const struct rep_result *rep)
{
	const struct latency_summary *l = &rep->latency;

	/* echo, and relay's round trip (--rps) */
	if (rep->cell.scenario != SC_ECHO && !rep->cell.rps)
		return json_null();
	return json_pack("{s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
			 "message_bytes", (json_int_t)rep->cell.block,
			 "request_bytes", (json_int_t)rep->cell.block,
			 "response_bytes", (json_int_t)(rep->cell.response ? rep->cell.response : rep->cell.block),
			 "outstanding", (json_int_t)l->outstanding,
			 "offered_rps", l->offered_rps ? json_integer(l->offered_rps) : json_null(),
			 "achieved_rps", real_json(l->achieved_rps),
			 "send_lag_max_us", real_json(l->send_lag_max_us),
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

/*
 * busy: the tested role spun on EAGAIN (never poll()); in pipe whether the
 * reader spun too; SO_BUSY_POLL on the role's sockets (null without one):
 * the value, how many took it, the kernel's refusal, and the NAPI id the
 * packets came through (0: no NAPI context, so the setting polled nothing).
 */
static json_t *busy_json(const struct busy_outcome *b)
{
	char refused[64];

	if (!b->asked)
		return json_null();
	if (b->refused_errno)
		snprintf(refused, sizeof(refused), "%s (%s)", errno_name(b->refused_errno), strerror(b->refused_errno));
	return json_pack("{s:b, s:b, s:o}", "spin", 1, "reader_spun", b->reader_spun,
			 "so_busy_poll", !b->sockets ? json_null() : json_pack("{s:i, s:i, s:i, s:s?, s:o}",
				"usec", (int)b->usec, "sockets", (int)b->sockets, "set", (int)b->granted,
				"refused", b->refused_errno ? refused : NULL,
				"napi_id", b->napi_id >= 0 ? json_integer(b->napi_id) : json_null()));
}

static json_t *status_json(const struct rep_result *rep)
{
	if (rep->status == 0)
		return json_string("ok");
	if (rep->error[0])
		return TEXT_JSON(rep->error);
	return json_string(strerror(rep->status < 0 ? -rep->status : rep->status));
}

void rep_result_release(struct rep_result *rep)
{
	series_free(rep->series);
	rep->series = NULL;
}

const char *verify_state_name(enum verify_state v)
{
	switch (v) {
	case VERIFY_OK: return "ok";
	case VERIFY_MISMATCH: return "mismatch";
	case VERIFY_SKIPPED: return "skipped";
	}
	return "?";
}

/* The role that kept its CPU busy (role_figures.h), or null: then no role limited the cell. */
static json_t *limiting_role_json(const struct rep_result *rep)
{
	int i = limiting_role(rep);

	return i < 0 ? json_null() : TEXT_JSON(rep->roles[i].name);
}

/* --fault: what was asked and whether, and where, it fired; null without one. */
static json_t *fault_json(const struct fault_outcome *f)
{
	if (!f->asked[0])
		return json_null();
	return json_pack("{s:o, s:o, s:o, s:o, s:b, s:o, s:o}",
			 "asked", TEXT_JSON(f->asked),
			 "kind", TEXT_JSON(f->kind),
			 "role", f->role[0] ? TEXT_JSON(f->role) : json_null(),
			 "at", count_json(f->at_offset, f->at),
			 "fired", f->fired,
			 "fired_at", count_json(f->fired && f->have_fired_at, f->fired_at),
			 "signals_sent", count_json(!strcmp(f->kind, "signals"), f->signals_sent));
}

/* --time and --interval: how the run was bounded, and its series; added after the earlier keys. */
static json_t *with_bounds(json_t *j, const struct rep_result *rep)
{
	bool timed = rep->cell.time_s > 0;

	if (j && (json_object_set_new(j, "bounded_by", json_string(timed ? "time" : "size")) ||
		  json_object_set_new(j, "time_s", timed ? json_real(rep->cell.time_s) : json_null()) ||
		  json_object_set_new(j, "interval_s", rep->interval_s > 0 ? json_real(rep->interval_s) : json_null()) ||
		  json_object_set_new(j, "intervals", rep->interval_s > 0 ? series_json(rep->series) : json_null()) ||
		  json_object_set_new(j, "interval_bps", series_stats_json(&rep->interval_bps)))) {
		json_decref(j);
		return NULL;
	}
	return j;
}

json_t *rep_to_json(const struct rep_result *rep, const char *run_id)
{
	char digest[24];

	snprintf(digest, sizeof(digest), "0x%016llx", (unsigned long long)rep->digest);
	/* "o" takes ownership; one NULL among them (no memory) fails the whole pack. */
	return with_bounds(json_pack("{s:s, s:s, s:s?, s:o, s:o, s:o, s:I, s:I, s:i, s:o, s:o,"
			 " s:b, s:s?, s:o, s:s, s:b, s:o, s:o, s:o, s:o, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o,"
			 " s:o, s:I, s:o, s:o, s:o, s:o}",
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
			 "metrics", json_pack("{s:s, s:s, s:s, s:s}",
				"perf", rep->perf_note[0] ? rep->perf_note : "unknown",
				"bpf", rep->bpf_note[0] ? rep->bpf_note : "unknown",
				"tracer", rep->tracer_note[0] ? rep->tracer_note : "unknown",
				"cputime", rep->cputime_note[0] ? rep->cputime_note : "unknown"),
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
			 "per_conn", per_conn_json(rep),
			 "limiting_role", limiting_role_json(rep),
			 "fault", fault_json(&rep->fault),
			 "busy", busy_json(&rep->busy)), rep);
}
