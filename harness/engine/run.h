/* SPDX-License-Identifier: MIT */
/*
 * The run engine: one repetition of one cell.  The parent prepares the
 * payload and descriptors, forks one process per role, releases them
 * together from a barrier, collects each role's report, kills whatever is
 * left on an error, a timeout or a signal, and verifies file outputs.
 */
#ifndef COPYLAB_RUN_H
#define COPYLAB_RUN_H

#include "fault.h"
#include "pattern.h"
#include "harness/model/record.h"
#include "harness/net/transport.h"
#include "verify.h"
#include "tracer/copytrace.h"

struct ledger;
struct remote;

#include <limits.h>
#include <signal.h>

/*
 * Negative verification: the data entering the path is damaged after the
 * expected hashes were taken, as a faulty strategy would damage it, so a
 * test can prove that every kind of damage is caught and located.
 */
enum corruption { CORRUPT_NONE, CORRUPT_FLIP, CORRUPT_DROP, CORRUPT_DUP, CORRUPT_SWAP };
#define CORRUPT_BLOCK 4096

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
	uint64_t corrupt_at;	/* where (bytes; rounded down to a 4 KiB block) */
	double timeout_s;
	const char *workdir;
	bool no_perf;		/* --no-perf */
	bool profile;		/* --profile: perf record on the role under test */
	bool cache_cold;	/* --cache cold: evict file inputs before each rep */
	unsigned outstanding;	/* echo: requests in flight at most (default 1) */
	unsigned conns;		/* --conns: parallel transfers (serve, relay); 0 or 1 = one */
	int pin[MAX_ROLES];	/* CPU per role (role order of the scenario), -1 = none */
	struct ledger *ledger;	/* BPF copy ledger, NULL when off or unavailable */
	const char *bpf_note;	/* why there is no ledger, or "ok (...)" */
	copytrace_totals_fn tracer;	/* the preloaded tracer's totals, or NULL */
	const char *tracer_note;
	const struct remote *remote;	/* --transport nic: the far daemons (--peer) */
};

/* A strategy as asked for: the module plus the options in its label. */
struct strategy_spec {
	const struct strategy *s;
	char label[48];
	struct tunables tun;
};

/* What every repetition of one size shares: payload, hashes, source file. */
struct run_inputs {
	struct payload payload;
	struct expected expected;
	unsigned conns;			/* connections the payload is split among (>= 1) */
	struct expected *slice;		/* --conns > 1: each connection's slice, else NULL */
	char source_path[PATH_MAX];	/* "" when the scenario reads no file */
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

int run_inputs_prepare(struct run_inputs *in, const struct run_config *c,
		       char *err, size_t errlen);
void run_inputs_release(struct run_inputs *in);

/*
 * Runs one repetition (rep 0 = warm-up).  0 when it completed and its
 * bytes verified (or were knowingly discarded); otherwise non-zero with
 * out->error saying what failed.
 */
int run_rep(const struct run_config *c, const struct strategy_spec *spec,
	    const struct run_inputs *in, int rep, struct rep_result *out);

/* Set by the CLI's SIGINT/SIGTERM handler; a running rep ends cleanly. */
extern volatile sig_atomic_t run_interrupted;

/* "EPIPE" for EPIPE; the number as text when it has no name. */
const char *errno_name(int err);

#endif
