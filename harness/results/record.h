/* SPDX-License-Identifier: MIT */
/*
 * What one repetition of one cell produced.  The run engine (run.c) fills
 * it; the results writer (record_json.c, write.c) turns it into a JSON Lines record and
 * the summary.  docs/results.md documents every field of the record.
 */
#ifndef COPYLAB_RECORD_H
#define COPYLAB_RECORD_H

#include "strategies/strategy.h"
#include "harness/model/scenario.h"
#include "harness/measure/bpf/ledger.h"
#include "harness/measure/bpf/cpusample.h"
#include "harness/measure/perfcount.h"
#include "harness/measure/profile.h"
#include "harness/measure/sysstat.h"
#include "harness/measure/latency.h"
#include "harness/measure/tcpinfo.h"
#include "tracer/copytrace.h"
#include "series.h"

#include <stdbool.h>
#include <stdint.h>

#define RECORD_SCHEMA "copylab.rep/1"

/* Per-role figures over the measured window (barrier release to role end). */
struct role_result {
	char name[16];		/* "server", "sink", "relay", ... */
	bool under_test;	/* runs the strategy; the others are fixed */
	double cpu_user_s, cpu_sys_s;
	long ctx_voluntary, ctx_involuntary;
	long faults_minor, faults_major;
	uint64_t bytes;		/* bytes this role delivered (or received, for a sink) */
	struct io_counters io;	/* the role's own data-moving calls */
	int cpu_pinned;		/* the CPU it was pinned to, -1 when not pinned */
	int cpu_last;		/* the CPU it was on at its window's end */
	struct perf_values perf;	/* perf counters over the window */
	bool have_ledger;
	struct ledger_counts ledger;	/* BPF copy ledger over the window */
	bool have_tracer;
	struct copytrace_totals tracer;	/* LD_PRELOAD tracer over the window */
	struct zerocopy_counters zc;	/* the role's zero-copy sends, where it made any */
	bool have_cputime;
	struct cpusample_counts cputime;	/* where its CPU went, sampled over the window */
	struct tcp_facts tcp_send;	/* TCP_INFO of the TCP sockets it sends on, at its window's end */
};

enum verify_state {
	VERIFY_OK,		/* every byte arrived, in order, as sent */
	VERIFY_MISMATCH,	/* a run failure, never a figure */
	VERIFY_SKIPPED,		/* nothing hashed (--sink discard; recv's readwrite:trunc): figure unverified */
};

struct cell {
	enum scenario scenario;
	char strategy[48];	/* label as asked: "vmsplice:gift" */
	char base[24];		/* strategy name: "vmsplice" */
	char transport[16];	/* "tcp", "unix", "none" (copy, pipe) */
	uint64_t bytes;
	size_t block;
	char cache[8];		/* "warm" or "cold": page cache state of file inputs */
	unsigned outstanding;	/* echo: requests in flight at most; 0 elsewhere */
	unsigned conns;		/* parallel connections sharing `bytes` (1 when not asked) */
	size_t pipe_asked;	/* --pipe-size as asked (not as granted); 0 = the kernel default */
	unsigned rps;		/* echo --rps: requests a second offered, open loop; 0 closed loop or elsewhere */
	double time_s;		/* --time: the run was bounded by time (bytes: what moved); 0: by --size */
	size_t response;	/* echo --response: bytes answered per request of `block`; 0 = block (an echo) */
};

/*
 * --conns N: how the connections of one repetition fared, each measured
 * from the barrier's release to its last byte at the receiving role.
 */
struct conn_spread {
	uint64_t bytes_min, bytes_max;		/* each connection's share of the cell's bytes */
	double completion_min_s, completion_median_s, completion_max_s;
	double bps_min, bps_median, bps_max;	/* share / completion, per connection */
};

/*
 * --fault: what was asked and what happened.  asked[0] == '\0' when the run
 * asked for no fault (the record's "fault" is then null).
 */
struct fault_outcome {
	char asked[48];		/* the canonical --fault text: "kill=server@2M", "flip@1000" */
	char kind[20];		/* "kill", "sink-reset", "flip", ... */
	char role[16];		/* the role that acts or is acted on; "" when the harness does it */
	bool at_offset;		/* the fault acts at a byte offset: `at` holds it */
	uint64_t at;
	bool fired;
	bool have_fired_at;	/* fired_at is known: the byte count where it acted */
	uint64_t fired_at;
	uint64_t role_bytes;	/* what the acting role moved (for "did not fire") */
	uint64_t signals_sent;	/* signals=HZ: how many were sent */
};

/*
 * The label's busy option, as it ran: the tested role spun on EAGAIN
 * instead of sleeping in poll(), and SO_BUSY_POLL was asked on its
 * sockets (none in pipe).  asked false: no busy, the rest is zero.
 */
struct busy_outcome {
	bool asked;
	bool reader_spun;	/* pipe: the fixed reader spun as well (both sides, Mazzoli's last step) */
	int32_t sockets;	/* the role's sockets SO_BUSY_POLL was asked on */
	int32_t granted;	/* of those, the ones the kernel set it on */
	int32_t refused_errno;	/* the kernel's errno for the first refusal; 0: none */
	uint32_t usec;		/* the value asked (microseconds the kernel may poll a queue) */
	int32_t napi_id;	/* SO_INCOMING_NAPI_ID of the first socket at the end: 0 = no NAPI
				 * context, so busy polling had nothing to poll; -1 unknown */
};

struct rep_result {
	struct cell cell;
	int rep;		/* 1-based counted repetition; 0 for warm-up */
	double wall_s;		/* barrier release to the last byte */
	double bytes_per_s;
	enum verify_state verify;
	uint64_t digest;	/* XXH3-64 over the per-chunk hashes received */
	char verify_note[224];	/* on mismatch: first bad offset; on skip: why */
	size_t pipe_granted;	/* strategy's pipe size, 0 if none */
	bool hugepages_asked;	/* the label asked for huge pages */
	bool thp_granted;	/* and they were granted */
	struct zerocopy_counters zc;	/* the tested role's zero-copy completions */
	struct zcrecv_counters zcr;	/* the tested role's zero-copy receive */
	char fixed_sender[16];	/* how the fixed source sent: "send", "msg_zerocopy"; "" without one */
	bool nonblock;
	struct busy_outcome busy;	/* the label's busy: spun, and SO_BUSY_POLL's outcome */
	int nroles;
	struct role_result roles[MAX_ROLES];
	char perf_note[96];	/* "ok", "software counters only: ...", "off (--no-perf)" */
	char bpf_note[128];	/* "ok", "unavailable: ...", "off (--no-bpf)" */
	char tracer_note[128];	/* "ok (...)" or why the tracer is not in use */
	char cputime_note[160];	/* "ok (...)" or why no role has sampled CPU time */
	struct profile_result profile;	/* --profile of the role under test */
	struct system_cpu system_cpu;	/* the whole machine over the repetition's window */
	struct latency_summary latency;	/* echo: every round trip (count 0 otherwise) */
	struct conn_spread spread;	/* per-connection figures (all equal for one connection) */
	char cache_note[64];	/* how the cold cache was made */
	char role_absent[160];	/* "relay: no process; kernel NAT ..." when no process played the tested role */
	struct fault_outcome fault;	/* --fault: asked and fired (asked "" without one) */
	double interval_s;		/* --interval as asked; 0 without */
	struct interval_series *series;	/* its readings (heap, rep_result_release frees it); NULL without */
	struct series_stats interval_bps;	/* the series' throughput, kept when the series is freed */
	int status;		/* 0 ok; negative errno; or -ETIMEDOUT */
	char error[320];	/* the message, naming strategy, scenario, role, syscall, errno */
};

const char *verify_state_name(enum verify_state v);
/* Frees what a repetition holds on the heap (its interval series). */
void rep_result_release(struct rep_result *rep);

#endif
