/* SPDX-License-Identifier: MIT */
/*
 * The types one repetition is made of, shared by the engine (run.c), the
 * role processes (roles.c, fixed_roles.h, role_process.h) and nic mode's
 * far roles (remote.c, remote_daemon.c): what the run is asked to do (run_config), what every repetition of one size shares
 * (run_inputs), what a role is given before fork (role_ctx) and what it
 * reports at its end (role_report).  Types only, so that no file of the
 * engine includes another only to reach them.
 */
#ifndef COPYLAB_REP_H
#define COPYLAB_REP_H

#include "fault.h"
#include "pattern.h"
#include "verify.h"
#include "harness/results/record.h"
#include "harness/model/spec.h"
#include "harness/measure/latency.h"
#include "harness/net/transport.h"
#include "tracer/copytrace.h"

#include <limits.h>

struct ledger;
struct cpusample;
struct remote;

struct run_config {
	enum scenario scenario;
	enum transport transport;
	uint64_t size;
	size_t block;
	struct sockopts sock;
	bool nonblock;
	size_t pipe_size;	/* --pipe-size: scenario pipe and strategy pipes; 0 = default */
	bool sink_discard;	/* the fixed sink splices to /dev/null: unverified */
	uint64_t sink_close_at;	/* fault injection: the sink closes after this many
				 * bytes; UINT64_MAX = never (--fault sink-close) */
	struct fault fault;	/* fault injection: the other --fault kinds */
	enum corruption corrupt;	/* fault injection: damage the data entering the path */
	uint64_t corrupt_at;	/* where: the exact byte offset (fault.h says what each kind does there) */
	double timeout_s;
	const char *workdir;
	bool no_perf;		/* --no-perf */
	bool profile;		/* --profile: perf record on the role under test */
	bool cache_cold;	/* --cache cold: evict file inputs before each rep */
	unsigned outstanding;	/* echo: requests in flight at most (default 1) */
	/*
	 * echo --rps: requests per second sent open loop (each at its time,
	 * its latency counted from that time); 0: closed loop, each request
	 * sent as one completes.
	 */
	unsigned rps;
	/*
	 * echo --response: the bytes the server answers for every request of
	 * `block` bytes (the request's bytes over and over to that length);
	 * 0: each request comes back as it was sent (an echo).
	 */
	size_t response;
	unsigned conns;		/* --conns: parallel transfers (serve, relay); 0 or 1 = one */
	/*
	 * --time: the fixed source sends the ring (size: TIME_RING) again and
	 * again until this many seconds after the release; 0: it sends size.
	 */
	double time_s;
	double interval_s;	/* --interval: a reading every this many seconds; 0: none */
	int pin[MAX_ROLES];	/* CPU per role (role order of the scenario), -1 = none */
	struct ledger *ledger;	/* BPF copy ledger, NULL when off or unavailable */
	const char *bpf_note;	/* why there is no ledger, or "ok (...)" */
	struct cpusample *sampler;	/* where each role's CPU goes, NULL when unavailable */
	const char *cputime_note;	/* why there is no sampler, or "ok (...)" */
	copytrace_totals_fn tracer;	/* the preloaded tracer's totals, or NULL */
	const char *tracer_note;
	const struct remote *remote;	/* --transport nic: the far daemons (--peer) */
};

/* What every repetition of one size shares: payload, hashes, source file. */
struct run_inputs {
	struct payload payload;
	struct expected expected;
	unsigned conns;			/* connections the payload is split among (>= 1) */
	struct expected *slice;		/* --conns > 1: each connection's slice, else NULL */
	struct expected answers;	/* echo --response: the answers' stream, else total 0 */
	char source_path[PATH_MAX];	/* "" when the scenario reads no file */
	bool corrupted;			/* --fault flip@N etc.: the damage was done, at corrupt_at */
};

/*
 * --conns N: --size is the total over all connections, and connection i
 * carries payload bytes [i * size / N, (i + 1) * size / N): shares differ by
 * at most one byte, and each is its own part of the pattern, so bytes that
 * cross from one connection into another are caught as damage.
 */
static inline void conn_slice(uint64_t size, unsigned n, unsigned i, uint64_t *off, uint64_t *len)
{
	uint64_t a = (uint64_t)((unsigned __int128)size * i / n);
	uint64_t b = (uint64_t)((unsigned __int128)size * (i + 1) / n);

	*off = a;
	*len = b - a;
}

static inline unsigned run_conns(const struct run_config *c)
{
	return c->conns > 1 ? c->conns : 1;
}

/*
 * echo: requests in flight at most.  Closed loop, one (request/response)
 * unless asked; open loop (--rps), room for a backlog of 256, so that a
 * slow server shows as latency counted from the schedule before the cap
 * delays a send (the delay is counted all the same).
 */
static inline unsigned echo_window(const struct run_config *c)
{
	return c->outstanding ? c->outstanding : c->rps ? 256 : 1;
}

/* echo --request, --response: at most this many bytes in one request or answer */
#define ECHO_MESSAGE_MAX (64ull << 20)

/*
 * relay --rps: the round trip through the relay.  The source plays echo's
 * client (requests open loop, every reply verified and timed), the sink a
 * fixed read/write echo, and the relay under test carries both directions:
 * two transfers of its strategy, one each way, from one loop.
 */
static inline bool relay_round_trip(const struct run_config *c)
{
	return c->scenario == SC_RELAY && c->rps;
}

/*
 * A --fault that acts on the stream (a kill, a close, a reset, a stall, a
 * signal storm...), as against damage to the data (flip@, drop@, dup@,
 * swap@: `corrupt`).  Such a fault ends or bends the exchange on purpose:
 * a short stream is its consequence, and an echo or a round trip, which
 * answer what was sent, cannot take one.
 */
static inline bool fault_acts_on_stream(const struct run_config *c)
{
	return c->fault.kind != FAULT_NONE || c->sink_close_at != UINT64_MAX;
}

/* The scenarios whose client times round trips: echo, and relay's round trip. */
static inline bool times_round_trips(const struct run_config *c)
{
	return c->scenario == SC_ECHO || relay_round_trip(c);
}

enum role_kind { RK_TESTED, RK_SOURCE, RK_SINK, RK_ECHO_CLIENT, RK_ECHO_FAR };

#define FIXED_IO_BLOCK (64 * 1024)
/* --conns: calls of FIXED_IO_BLOCK per connection per turn of a fixed role's loop */
#define FIXED_TURN_CALLS 4

/* What a role process tells the parent when it ends (one atomic pipe write). */
struct role_report {
	int32_t status;			/* 0 or -errno */
	char call[24];			/* the syscall that failed */
	char what[96];			/* extra context for the error */
	struct role_result res;
	int32_t verify;			/* enum verify_state; -1: not a verifying role */
	uint64_t digest;
	char note[160];
	char perf_note[96];
	uint64_t pipe_granted;
	int32_t thp_granted;		/* the strategy's memory is backed by huge pages */
	struct zerocopy_counters zc;
	struct zcrecv_counters zcr;	/* the tested role's zero-copy receive */
	struct busy_outcome busy;	/* the tested role's spin and SO_BUSY_POLL; a reader's reader_spun */
	char fixed_sender[16];		/* a source role: "send" or "msg_zerocopy" */
	struct latency_summary latency;	/* the echo client's round trips */
	int64_t t_end_ns;		/* CLOCK_MONOTONIC at the role's last byte */
	bool fault_fired;		/* this role acted out the run's --fault ... */
	uint64_t fault_fired_at;	/* ... at this byte count (its own bytes moved) */
};

/*
 * What each role has moved so far, in a mapping shared with the parent:
 * the fixed roles note every call's bytes and time, the tested role's
 * bytes are sampled by the parent from its transfer (also shared).  Read
 * when a repetition times out, to name the role that stopped first.
 */
struct role_progress {
	volatile uint64_t bytes;
	volatile int64_t last_ns;	/* CLOCK_MONOTONIC of the last byte; 0 = none yet */
};

/* Everything a role needs, decided by the parent before fork. */
struct role_ctx {
	enum role_kind kind;
	const struct run_config *c;
	const struct strategy_spec *spec;
	const struct run_inputs *in;
	int in_fd, out_fd;		/* sockets or pipe ends; -1 for files/memory */
	/*
	 * --conns N (serve, relay): the role's N connections, in_fds[0] and
	 * out_fds[0] being in_fd and out_fd; unused entries are -1.
	 */
	int nconn;
	int in_fds[MAX_CONNS], out_fds[MAX_CONNS];
	/* Shared with the parent: CLOCK_MONOTONIC of each connection's last byte
	 * at the receiving role (MAX_CONNS entries). */
	int64_t *conn_end_ns;
	struct role_progress *progress;	/* this role's entry of the shared progress, or NULL */
	struct xfer *tested_xfer;	/* the tested role's transfer, in shared memory, or NULL */
	const char *out_path;		/* file output of the tested role, or NULL */
	const char *out2_path;		/* fanout's recording, or NULL */
	int slot;			/* the role's index: its ledger slot */
	int go_fd;			/* barrier: read returns 0 at release */
	int report_fd;			/* where the report goes */
};

#endif
