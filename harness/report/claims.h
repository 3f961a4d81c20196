/* SPDX-License-Identifier: MIT */
/*
 * The claims of `copylab claims`: the table of claims and of the cells
 * that test them, the judges that give each its verdict, and the ledger.
 */
#ifndef COPYLAB_CLAIMS_H
#define COPYLAB_CLAIMS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cellrun.h"

/*
 * A verdict is given on measured evidence only: what follows from how
 * copylab counts (a judgement's `construction`) is stated beside it and
 * never decides it.
 */
enum verdict {
	V_HOLDS,
	V_NOT,
	V_NODIFF,	/* the deciding interval still includes 1.0 at the judgement's reps */
	V_UNRESOLVED,	/* the deciding system-wide CPU figure was too coarse (system_cpu.resolved false) */
	V_CANNOT,
};

const char *verdict_text(enum verdict v);

/* The cells the claims run, in the order they run (claims-1, claims-2, ...). */
enum cell_id {
	CELL_NONE,		/* ends a claim's list */
	CELL_RELAY,
	CELL_SERVE,
	CELL_FANOUT,
	CELL_PIPE,
	CELL_SOCKMAP,
	CELL_NAT,
	CELL_ZEROCOPY_RECV,
	CELL_REFUSE_SENDFILE,
	CELL_REFUSE_SPLICE,
	/* The seed articles' cells (claims_seeds.c). */
	CELL_SPLICE_NONBLOCK,
	CELL_SPLICE_MOVE,
	CELL_VMSPLICE_PIPE,
	CELL_ECHO,
	CELL_SERVE_SMALL,
	CELL_USERSTACK,
	CELL_REDIRECT,
	CELL_COUNT
};

/* Who may run a cell: copylab run would refuse the others. */
enum cell_privilege {
	RUN_ANY_USER,
	RUN_ROOT_ONLY,		/* root_why says why */
	RUN_AS_ITS_STRATEGY,	/* root where its strategy has needs_privilege */
};

/* A cell as data: `copylab run` with these options. */
struct cell_spec {
	const char *scenario;
	const char *strategies;	/* --strategy, before the one `uses` finds */
	/*
	 * A strategy not every copylab has: the first whose name holds this
	 * and that runs the scenario, last in --strategy.  Without one the
	 * cell is not run.  Its only_transport, if it has one, replaces the
	 * plan's transport.
	 */
	const char *uses;
	const char *transport;	/* NULL: the plan's (--transport) */
	const char *block;	/* --block, or NULL */
	bool sweep;		/* --sweep size=SMALL..SIZE instead of --size */
	/*
	 * Run to be refused: --size 1M --reps 1 and no --transport, in
	 * DIR/claims-refuse-STRATEGIES; its exit status is the figure, so
	 * it is not numbered, not announced and never a failed cell.
	 */
	bool refusal;
	/*
	 * Exit status 2 (copylab refused the cell here: no lwIP, no such
	 * transport) means "not run", with its first stderr line, not a failure.
	 */
	bool may_refuse;
	const char *size;	/* its own --size instead of the plan's, or NULL */
	const char *const *args;	/* more `copylab run` options, NULL-terminated, or NULL */
	enum cell_privilege privilege;
	const char *root_why;	/* RUN_ROOT_ONLY: why it needs root */
	const char *unrun;	/* the ledger's line for it when it cannot run here */
};

extern const struct cell_spec cell_specs[CELL_COUNT];

/* What a direct call of the kernel returned: ret, and errno when ret < 0. */
struct kcall {
	long ret;
	int err;
};

/* A direct check of the kernel, beside the cells (harness/report/claims.c). */
struct kcheck {
	const char *cmd;	/* what it did, as the ledger lists it */
	struct kcall call;
	struct kcall aligned;	/* the gift check: the same gift from an aligned page */
	bool data_intact;	/* the gift check: the unaligned gift's bytes read back as given */
	/*
	 * The seed checks: sendfile into a pipe (beside `call`, into a file);
	 * the reuse check's write() control; whether what the reader got is
	 * what was given, for each.
	 */
	struct kcall second;
	bool second_intact;
	long asked, left;	/* the partial-splice check: bytes asked, bytes left in the pipe after */
};

struct kcheck check_splice_socket_to_socket(void);
struct kcheck check_sendfile_from_socket(void);
struct kcheck check_gift_alignment(void);
/* The seed articles' direct checks (claims_checks.c). */
struct kcheck check_sendfile_outputs(void);
struct kcheck check_splice_partial(void);
struct kcheck check_vmsplice_reuse(void);
struct kcheck check_hw_counters(void);

/* A cell as the judges see it. */
struct claim_cell {
	struct crcell *run;	/* its records and summary; NULL when it did not run */
	const char *strategy;	/* the strategy its spec's `uses` found, or NULL */
	const char *not_run;	/* why it did not run though copylab has its strategy */
};

/* Everything a judge reads: no judge runs, prints or opens anything. */
struct claim_evidence {
	struct claim_cell cell[CELL_COUNT];	/* a judge reads the cells its claim lists */
	struct kcheck check;	/* the claim's direct check, when it has one */
	const char *size;	/* the plan's payload ("64M") */
	const char *size_small;	/* a quarter of it, the serve sweep's other size */
	const char *transport;
};

struct judgement {
	enum verdict verdict;
	char *measurement;	/* the figures, as the ledger prints them */
	char *why;		/* why it cannot be measured, or the verdict's short reason */
	/*
	 * What holds by how copylab counts or by how it is built ("0 bytes
	 * through user memory — by construction: ..."), or "": stated, never
	 * the verdict.
	 */
	char *construction;
	int reps;		/* the paired repetitions of the deciding ratio; 0 when none decides */
	unsigned more;		/* 1 << cell_id of each cell whose added repetitions could decide it */
};

typedef void (*claim_judge)(const struct claim_evidence *ev, struct judgement *j);

#define CLAIM_MAX_CELLS 3

/* A claim: what it says, what tests it, and how its verdict is reached. */
struct claim {
	const char *id;
	const char *statement;	/* paraphrased */
	const char *source;
	const char *figure;	/* what decides it */
	const char *expectation;
	enum cell_id cells[CLAIM_MAX_CELLS];	/* in the ledger's order; CELL_NONE ends */
	struct kcheck (*check)(void);	/* a direct check of the kernel, listed after the cells */
	claim_judge judge;
};

extern const struct claim claim_table[];
extern const size_t claim_count;
/* The claims of the seed articles copylab was made from (claims_seeds.c), after claim_table's. */
extern const struct claim seed_claim_table[];
extern const size_t seed_claim_count;

/* Every claim, claim_table's then seed_claim_table's: how many, and the Ith. */
size_t claims_total(void);
const struct claim *claim_at(size_t i);

/* Judges a claim on its evidence: a fresh judgement (judgement_free releases it). */
struct judgement claim_judge_run(const struct claim *c, const struct claim_evidence *ev);
void judgement_free(struct judgement *j);
const struct claim *claim_find(const char *id);

/* A claim judged: the ledger's entry. */
struct ledger_entry {
	const struct claim *claim;
	char *cells;		/* the commands that tested it, one a line */
	struct judgement judgement;
};

/* What the ledger's JSON says of the run beside the claims. */
struct ledger_run {
	const char *cmdline, *date, *kernel;
	const char *size, *transport;
	int reps;		/* asked for */
	int reps_cap;		/* where added repetitions stop */
	bool quick;
};

void ledger_print(FILE *out, const struct ledger_entry *e, size_t n);
char *ledger_markdown(const struct ledger_run *r, const struct ledger_entry *e, size_t n);
json_t *ledger_json(const struct ledger_run *r, const struct ledger_entry *e, size_t n);

#endif
