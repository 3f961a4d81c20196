/* SPDX-License-Identifier: MIT */
/*
 * `copylab claims`: the claims of the zero-copy articles and man pages
 * (claims_table.c), each measured on this machine and given a verdict.
 * The cells run as child processes of `copylab run ... --json --out
 * DIR/claims-N` (the same code path a user runs by hand) and are read back
 * through harness/results/.  A cell whose deciding paired ratio still
 * includes 1.0 runs again with more repetitions, merged into its records,
 * until the ratio is decided or the cap is reached.  Two claims are also
 * decided by small direct checks of the kernel, here (a splice and a
 * sendfile between sockets, an unaligned vmsplice with SPLICE_F_GIFT).
 */
#include "harness/cli/cli.h"
#include "harness/model/base.h"
#include "harness/model/scenario.h"
#include "harness/results/write.h"
#include "claims.h"
#include "claims_figures.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- direct kernel checks */

/*
 * CALL from one AF_UNIX stream socketpair, with 7 bytes waiting to be read
 * in it, into another: sockets on both sides, no pipe anywhere.
 */
static struct kcheck between_sockets(const char *cmd, long (*call)(int in, int out))
{
	struct kcheck k = { .cmd = cmd };
	int a[2], b[2];
	ssize_t put;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, a)) {
		k.call = (struct kcall){ -1, errno };
		return k;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, b)) {
		k.call = (struct kcall){ -1, errno };
		close(a[0]);
		close(a[1]);
		return k;
	}
	put = write(a[0], "copylab", 7);
	(void)put;	/* a short write does not matter: the call below is the check */
	errno = 0;
	k.call.ret = call(a[1], b[0]);
	k.call.err = k.call.ret < 0 ? errno : 0;
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
	return k;
}

static long splice_between(int in, int out)
{
	return splice(in, NULL, out, NULL, 7, SPLICE_F_NONBLOCK);
}

static long sendfile_between(int in, int out)
{
	fcntl(in, F_SETFL, O_NONBLOCK);
	return sendfile(out, in, NULL, 7);
}

struct kcheck check_splice_socket_to_socket(void)
{
	return between_sockets("splice(socket, socket) with no pipe (AF_UNIX socketpairs)", splice_between);
}

struct kcheck check_sendfile_from_socket(void)
{
	return between_sockets("sendfile(out=socket, in=socket) (AF_UNIX socketpairs)", sendfile_between);
}

/*
 * vmsplice() of a buffer that is not page-aligned (offset 7, length 1000)
 * with SPLICE_F_GIFT, then the same from an aligned page: what the kernel
 * says, and whether the bytes read back out of the pipe are the ones given.
 */
struct kcheck check_gift_alignment(void)
{
	struct kcheck g = { .cmd = "vmsplice(pipe, {buf+7, 1000}, 1, SPLICE_F_GIFT) in harness/report/claims.c" };
	long page = sysconf(_SC_PAGESIZE);
	unsigned char *buf = NULL, back[1000];
	int p[2];
	struct iovec iov;

	if (posix_memalign((void **)&buf, (size_t)page, (size_t)page * 2) || pipe(p)) {
		g.call = g.aligned = (struct kcall){ -1, errno ? errno : ENOMEM };
		free(buf);
		return g;
	}
	for (long i = 0; i < page * 2; i++)
		buf[i] = (unsigned char)(i * 31 + 7);
	iov.iov_base = buf + 7;
	iov.iov_len = 1000;
	errno = 0;
	g.call.ret = vmsplice(p[1], &iov, 1, SPLICE_F_GIFT);
	g.call.err = g.call.ret < 0 ? errno : 0;
	if (g.call.ret == 1000 && read(p[0], back, 1000) == 1000)
		g.data_intact = !memcmp(back, buf + 7, 1000);
	iov.iov_base = buf + page;
	iov.iov_len = (size_t)page;
	errno = 0;
	g.aligned.ret = vmsplice(p[1], &iov, 1, SPLICE_F_GIFT);
	g.aligned.err = g.aligned.ret < 0 ? errno : 0;
	close(p[0]);
	close(p[1]);
	free(buf);
	return g;
}

/* ---------------------------------------------------------------- the cells */

struct plan {
	const char *size;
	const char *size_small;	/* for the page-fault growth */
	int reps;
	int reps_cap;		/* added repetitions stop here */
	const char *transport;
	const char *peer, *key;	/* nic: passed to every cell over nic */
	char *dir;
	bool *only;		/* --only: the claims asked for (claim_at's order), or NULL for all */
	unsigned cells;		/* 1 << cell_id of each cell the claims asked for read */
};

/* Whether the plan judges the Ith claim. */
static bool wanted(const struct plan *pl, size_t i)
{
	return !pl->only || pl->only[i];
}

/*
 * A cell's deciding ratio whose interval still includes 1.0 gets this many
 * more paired repetitions at a time, up to REPS_CAP in all: enough that
 * the interval of the median narrows (order statistics from 9 pairs on),
 * few enough that a claims run stays minutes long.
 */
#define REPS_STEP 3
#define REPS_CAP 15

/* What the command keeps of a cell beside what the judges see. */
struct cell_state {
	const struct strategy *st;	/* the strategy its spec `uses`, or NULL */
	int number;		/* its records are in DIR/claims-NUMBER */
	int reps;		/* counted repetitions of each strategy so far */
	char refused[512];	/* why copylab refused a cell that may be refused */
};

static void claims_usage(FILE *out)
{
	fprintf(out,
		"usage: copylab claims [--quick] [--out DIR] [--size N] [--reps N] [--reps-cap N]\n"
		"                      [--transport T [--peer H:P[,H:P] --key FILE]] [--only ID[,ID...]]\n\n"
		"Measures each claim of the zero-copy articles and man pages on this machine\n"
		"and gives it a verdict on measured figures: holds here, does not hold here,\n"
		"no difference measured (at N repetitions), unresolved (a system-wide CPU\n"
		"figure, or a sampled copy time, too coarse to decide), or cannot be\n"
		"measured here (with why).  What follows from how copylab counts is stated\n"
		"\"by construction\" and decides nothing.  Every cell is a `copylab run`\n"
		"child whose records stay in DIR/claims-N/; a cell whose deciding paired\n"
		"ratio still includes 1.0 is run again, %d repetitions at a time, up to %d\n"
		"(DIR/claims-N.repsA-B/).\n\n"
		"  --quick        64 MiB cells (a few minutes at most)\n"
		"  --size N       payload per cell (default 256M; --quick: 64M)\n"
		"  --reps N       counted repetitions per cell to start with (default 8, the\n"
		"                 fewest a ratio is decided on: min..max covers the median\n"
		"                 with 99.2%%)\n"
		"  --reps-cap N   stop adding repetitions at N (default %d, at least --reps)\n"
		"  --transport T  tcp (default) or another transport `copylab run` accepts\n"
		"  --peer, --key  nic: the far daemons and their key, for every cell over nic\n"
		"  --only IDS     judge only these claims (comma-separated ids; `copylab claims\n"
		"                 --list` prints them) and run only the cells they read\n"
		"  --list         print every claim's id and statement, and exit\n"
		"  --out DIR      where cells, claims.json and claims.md go\n"
		"                 (default results/claims-<time>)\n\n"
		"Prints the ledger; writes DIR/claims.json and DIR/claims.md atomically.\n"
		"Exit status: 0 every claim got a verdict from cells that ran, 1 a cell failed,\n"
		"2 bad usage.\n", REPS_STEP, REPS_CAP, REPS_CAP);
}

/* The strategy a cell `uses`: the first whose name holds it and that runs the cell's scenario. */
static const struct strategy *strategy_for(const struct cell_spec *s)
{
	int sc = scenario_find(s->scenario);

	for (size_t i = 0; i < strategy_count && s->uses; i++)
		if (strstr(strategy_table[i]->name, s->uses) && sc >= 0 &&
		    strategy_supports(strategy_table[i], (enum scenario)sc))
			return strategy_table[i];
	return NULL;
}

/* Why a cell cannot run for this user, or NULL. */
static const char *why_not_run(const struct cell_spec *s, const struct strategy *st)
{
	if (geteuid() == 0)
		return NULL;
	if (s->privilege == RUN_ROOT_ONLY)
		return s->root_why;
	if (s->privilege == RUN_AS_ITS_STRATEGY)
		return st->needs_privilege;
	return NULL;
}

/* A cell's `copylab run` arguments; the strings argv points into. */
struct cell_args {
	const char *argv[32];
	int n;
	char reps[16], list[256], sweep[128];
};

/* The arguments of the cell of spec S (with strategy ST, if it uses one), with REPS repetitions. */
static void cell_args(const struct plan *pl, const struct cell_spec *s, const struct strategy *st, int reps,
		      struct cell_args *a)
{
	const char *transport = s->transport ? s->transport :
				st && st->only_transport ? st->only_transport : pl->transport;
	bool socket = !s->refusal && strcmp(s->scenario, "copy") && strcmp(s->scenario, "pipe");
	int n = 0;

	snprintf(a->list, sizeof(a->list), "%s%s%s", s->strategies, st ? "," : "", st ? st->name : "");
	snprintf(a->reps, sizeof(a->reps), "%d", reps);
	a->argv[n++] = "run";
	a->argv[n++] = "--scenario";
	a->argv[n++] = s->scenario;
	a->argv[n++] = "--strategy";
	a->argv[n++] = a->list;
	if (socket) {
		a->argv[n++] = "--transport";
		a->argv[n++] = transport;
	}
	if (socket && !strcmp(transport, "nic") && pl->peer) {
		a->argv[n++] = "--peer";
		a->argv[n++] = pl->peer;
		if (pl->key) {
			a->argv[n++] = "--key";
			a->argv[n++] = pl->key;
		}
	}
	if (s->sweep) {
		snprintf(a->sweep, sizeof(a->sweep), "size=%s..%s", pl->size_small, pl->size);
		a->argv[n++] = "--sweep";
		a->argv[n++] = a->sweep;
	} else {
		a->argv[n++] = "--size";
		a->argv[n++] = s->refusal ? "1M" : s->size ? s->size : pl->size;
	}
	for (int i = 0; s->args && s->args[i] && n < 24; i++)
		a->argv[n++] = s->args[i];
	if (s->block) {
		a->argv[n++] = "--block";
		a->argv[n++] = s->block;
	}
	a->argv[n++] = "--reps";
	a->argv[n++] = a->reps;
	a->argv[n] = NULL;
	a->n = n;
}

static void announce(const char *what, const struct cell_args *a)
{
	fprintf(stderr, "claims: %s: copylab", what);
	for (int i = 0; i < a->n; i++)
		fprintf(stderr, " %s", a->argv[i]);
	fprintf(stderr, "\n");
}

/* Runs the cell of spec S as the plan says; a refusal is not numbered. */
static struct crcell *run_cell(const struct plan *pl, const struct cell_spec *s, struct cell_state *cs,
			       int *ncells)
{
	struct cell_args a;
	char dir[4096], what[32];

	cell_args(pl, s, cs->st, s->refusal ? 1 : pl->reps, &a);
	if (s->refusal) {
		snprintf(dir, sizeof(dir), "%s/claims-refuse-%s", pl->dir, a.list);
		return cell_run(a.argv, a.n, dir);
	}
	cs->number = ++*ncells;
	cs->reps = pl->reps;
	snprintf(dir, sizeof(dir), "%s/claims-%d", pl->dir, cs->number);
	snprintf(what, sizeof(what), "cell %d", cs->number);
	announce(what, &a);
	return cell_run(a.argv, a.n, dir);
}

/*
 * Runs the cell of spec S again with more repetitions, into a directory of
 * its own, and merges its records into CELL's: each added run warms up and
 * interleaves its strategies like the first, so its pairs are as fair.
 * False when the run failed (its records are then left out).
 */
static bool add_reps(const struct plan *pl, const struct cell_spec *s, struct cell_state *cs, struct crcell *cell)
{
	int k = pl->reps_cap - cs->reps < REPS_STEP ? pl->reps_cap - cs->reps : REPS_STEP;
	struct cell_args a;
	struct crcell *more;
	char dir[4096], what[96];

	cell_args(pl, s, cs->st, k, &a);
	snprintf(dir, sizeof(dir), "%s/claims-%d.reps%d-%d", pl->dir, cs->number, cs->reps + 1, cs->reps + k);
	snprintf(what, sizeof(what), "cell %d: a verdict is undecided at %d repetitions, adding %d",
		 cs->number, cs->reps, k);
	announce(what, &a);
	more = cell_run(a.argv, a.n, dir);
	if (more->exit_code != 0) {
		fprintf(stderr, "claims: added repetitions failed (exit %d): %s\n  see %s\n", more->exit_code,
			more->command, more->log);
		cell_free(more);
		cs->reps = pl->reps_cap;	/* no further tries: the cell stays as it was */
		return false;
	}
	cr_append(&more->command, "  # repetitions %d-%d", cs->reps + 1, cs->reps + k);
	cell_merge(cell, more);
	cs->reps += k;
	return true;
}

/* Runs every cell that can run here, in the table's order; *failed when one that should succeed did not. */
static void run_cells(const struct plan *pl, struct claim_cell cells[CELL_COUNT], struct cell_state cs[CELL_COUNT],
		      bool *failed)
{
	int ncells = 0;

	for (int id = CELL_NONE + 1; id < CELL_COUNT; id++) {
		const struct cell_spec *s = &cell_specs[id];

		cs[id] = (struct cell_state){ .st = strategy_for(s) };
		cells[id] = (struct claim_cell){ NULL, cs[id].st ? cs[id].st->name : NULL, NULL };
		if ((s->uses && !cs[id].st) || !(pl->cells & (1u << id)))
			continue;
		cells[id].not_run = why_not_run(s, cs[id].st);
		if (!cells[id].not_run)
			cells[id].run = run_cell(pl, s, &cs[id], &ncells);
		/* copylab refused it here (exit 2): not run, with its reason, and no failure. */
		if (cells[id].run && s->may_refuse && cells[id].run->exit_code == EXIT_USAGE) {
			snprintf(cs[id].refused, sizeof(cs[id].refused), "%s", cells[id].run->first_stderr_line);
			cells[id].not_run = cs[id].refused;
			cell_free(cells[id].run);
			cells[id].run = NULL;
		}
	}
	for (int id = CELL_NONE + 1; id < CELL_COUNT; id++) {
		const struct crcell *c = cells[id].run;

		if (c && !cell_specs[id].refusal && c->exit_code != 0) {
			*failed = true;
			fprintf(stderr, "claims: cell failed (exit %d): %s\n  see %s\n",
				c->exit_code, c->command, c->log);
		}
	}
}

/* ---------------------------------------------------------------- judging */

/* The commands that tested claim C, one a line: its cells', then its direct check's. */
static char *cells_text(const struct claim *c, const struct claim_evidence *ev)
{
	char *s = cr_strdup("");

	for (int k = 0; k < CLAIM_MAX_CELLS && c->cells[k] != CELL_NONE; k++) {
		const struct claim_cell *cc = &ev->cell[c->cells[k]];
		const struct cell_spec *spec = &cell_specs[c->cells[k]];

		if (*s)
			cr_append(&s, "\n");
		if (cc->run)
			cr_append(&s, "%s", cc->run->command);
		else if (!cc->strategy)
			cr_append(&s, "copylab list (no %s strategy)", spec->uses);
		else
			cr_append(&s, "%s", spec->unrun);
	}
	if (c->check)
		cr_append(&s, "%s%s", *s ? "\n" : "", ev->check.cmd);
	return s;
}

/* Every claim of the table judged on the cells and its direct check (CHECKS[i]), in the table's order. */
static struct ledger_entry *judge_claims(const struct plan *pl, const struct claim_cell cells[CELL_COUNT],
					 const struct kcheck *checks, size_t *n)
{
	struct ledger_entry *e = calloc(claims_total(), sizeof(*e));

	*n = 0;
	for (size_t i = 0; e && i < claims_total(); i++) {
		const struct claim *c = claim_at(i);
		struct claim_evidence ev = { .size = pl->size, .size_small = pl->size_small,
					     .transport = pl->transport, .check = checks[i] };

		if (!wanted(pl, i))
			continue;
		memcpy(ev.cell, cells, sizeof(ev.cell));
		e[*n].claim = c;
		e[*n].cells = cells_text(c, &ev);
		e[*n].judgement = claim_judge_run(c, &ev);
		++*n;
	}
	return e;
}

static void ledger_free(struct ledger_entry *e)
{
	for (size_t i = 0; e && i < claims_total(); i++) {
		free(e[i].cells);
		judgement_free(&e[i].judgement);
	}
	free(e);
}

/*
 * Judges the claims; while a claim's deciding ratio still includes 1.0 and
 * its cell is under the cap, adds repetitions to that cell and judges
 * again.  Only the ratio's own interval stops it, never a verdict the
 * judge would like: a claim ends decided or "no difference measured at N".
 */
static struct ledger_entry *judge_until_decided(const struct plan *pl, struct claim_cell cells[CELL_COUNT],
						struct cell_state cs[CELL_COUNT], bool *failed, size_t *n)
{
	struct kcheck *checks = calloc(claims_total(), sizeof(*checks));
	struct ledger_entry *e = NULL;
	bool added = true;

	for (size_t i = 0; checks && i < claims_total(); i++)
		if (claim_at(i)->check && wanted(pl, i))
			checks[i] = claim_at(i)->check();	/* once: the kernel's answer does not vary */
	while (checks && added) {
		unsigned more = 0;

		ledger_free(e);
		e = judge_claims(pl, cells, checks, n);
		for (size_t i = 0; e && i < *n; i++)
			more |= e[i].judgement.more;
		added = false;
		for (int id = CELL_NONE + 1; e && id < CELL_COUNT; id++) {
			if (!(more & (1u << id)) || !cells[id].run || cs[id].reps >= pl->reps_cap)
				continue;
			if (add_reps(pl, &cell_specs[id], &cs[id], cells[id].run))
				added = true;
			else
				*failed = true;
		}
	}
	free(checks);
	return e;
}

/* ---------------------------------------------------------------- the command */

/* DIR/claims.md and DIR/claims.json, each written atomically; false when one could not be. */
static bool write_ledger(const char *dir, const struct ledger_run *r, const struct ledger_entry *e, size_t n)
{
	char *md = ledger_markdown(r, e, n);
	json_t *js = ledger_json(r, e, n);
	char *text = json_dumps(js, JSON_INDENT(2));
	char path[4200];
	int r1, r2;

	snprintf(path, sizeof(path), "%s/claims.md", dir);
	r1 = write_file_atomic(path, md, strlen(md));
	snprintf(path, sizeof(path), "%s/claims.json", dir);
	r2 = text ? write_file_atomic(path, text, strlen(text)) : -ENOMEM;
	if (r1 < 0 || r2 < 0)
		fprintf(stderr, "copylab: claims: cannot write %s/claims.{md,json}: %s\n", dir,
			strerror(-(r1 < 0 ? r1 : r2)));
	else
		printf("claims: %s/claims.md, %s/claims.json; the cells' records in %s/claims-*/\n",
		       dir, dir, dir);
	free(md);
	free(text);
	json_decref(js);
	return r1 >= 0 && r2 >= 0;
}

/* "16M": a quarter of SIZE, for the fault-growth claim. */
static void quarter_of(const char *size, char *buf, size_t len)
{
	long quarter = cr_size(size) / 4;

	if (quarter % (1024 * 1024) == 0)
		snprintf(buf, len, "%ldM", quarter / 1024 / 1024);
	else
		snprintf(buf, len, "%ldK", quarter / 1024);
}

/* Prints every claim's id and statement: what --only takes. */
static void list_claims(void)
{
	for (size_t i = 0; i < claims_total(); i++)
		printf("%-34s %s\n", claim_at(i)->id, claim_at(i)->statement);
}

/* Marks the claims of IDS (comma-separated) in pl->only; -1, or the usage error's exit status. */
static int select_claims(struct plan *pl, const char *ids)
{
	char *list = cr_strdup(ids), *save = NULL, *tok;
	int status = -1;

	pl->only = calloc(claims_total(), sizeof(*pl->only));
	if (!pl->only || !list) {
		free(list);
		return usage_error("claims: out of memory");
	}
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		const struct claim *c = claim_find(tok);
		size_t i = 0;

		if (!c) {
			char *valid = NULL;

			for (size_t k = 0; k < claims_total(); k++)
				cr_append(&valid, "%s%s", k ? ", " : "", claim_at(k)->id);
			status = usage_error("claims: --only: no claim '%s'; valid: %s", tok, valid ? valid : "");
			free(valid);
			break;
		}
		while (claim_at(i) != c)
			i++;
		pl->only[i] = true;
	}
	free(list);
	for (size_t i = 0; status < 0; i++) {
		if (i == claims_total()) {
			status = usage_error("claims: --only needs claim ids, e.g. --only sendfile-not-from-socket");
			break;
		}
		if (pl->only[i])
			break;
	}
	return status;
}

/* The cells the plan's claims read (their `cells`), as a mask of 1 << cell_id. */
static unsigned cells_wanted(const struct plan *pl)
{
	unsigned m = 0;

	for (size_t i = 0; i < claims_total(); i++)
		for (int k = 0; wanted(pl, i) && k < CLAIM_MAX_CELLS && claim_at(i)->cells[k] != CELL_NONE; k++)
			m |= 1u << claim_at(i)->cells[k];
	return m;
}

/* Reads the options into the plan: -1 to go on, else the exit status (--help, --list, bad usage). */
static int claims_options(int argc, char **argv, struct plan *pl, bool *quick, const char **out)
{
	static const struct option opts[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "out", required_argument, NULL, 'o' },
		{ "size", required_argument, NULL, 's' },
		{ "reps", required_argument, NULL, 'r' },
		{ "reps-cap", required_argument, NULL, 'c' },
		{ "transport", required_argument, NULL, 't' },
		{ "peer", required_argument, NULL, 'p' },
		{ "key", required_argument, NULL, 'k' },
		{ "only", required_argument, NULL, 'O' },
		{ "list", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *size = NULL, *only = NULL;
	int opt, reps = 0, cap = 0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'q': *quick = true; break;
		case 'o': *out = optarg; break;
		case 's': size = optarg; break;
		case 'r':
			reps = atoi(optarg);
			if (reps < 1)
				return usage_error("claims: --reps needs a number >= 1");
			break;
		case 'c':
			cap = atoi(optarg);
			if (cap < 1)
				return usage_error("claims: --reps-cap needs a number >= 1, not '%s'", optarg);
			break;
		case 't': pl->transport = optarg; break;
		case 'p': pl->peer = optarg; break;
		case 'k': pl->key = optarg; break;
		case 'O': only = optarg; break;
		case 'l': list_claims(); return 0;
		case 'h': claims_usage(stdout); return 0;
		default: claims_usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error("claims: unexpected argument '%s'", argv[optind]);
	pl->size = size ? size : *quick ? "64M" : "256M";
	if (cr_size(pl->size) < 4 * 65536)
		return usage_error("claims: --size '%s' is not a size of at least 256K", pl->size);
	if ((pl->peer || pl->key) && strcmp(pl->transport, "nic"))
		return usage_error("claims: --peer and --key are for --transport nic, not '%s'", pl->transport);
	pl->reps = reps ? reps : CLAIMS_MIN_PAIRS;
	pl->reps_cap = cap ? cap : REPS_CAP;
	if (pl->reps_cap < pl->reps)
		pl->reps_cap = pl->reps;
	if (only) {
		int status = select_claims(pl, only);

		if (status >= 0)
			return status;
	}
	pl->cells = cells_wanted(pl);
	return -1;
}

int cmd_claims(int argc, char **argv)
{
	struct plan pl = { .transport = "tcp" };
	struct claim_cell cells[CELL_COUNT];
	struct cell_state cs[CELL_COUNT];
	struct ledger_entry *ledger;
	struct ledger_run run;
	size_t n = 0;
	const char *out = NULL;
	bool quick = false, failed = false;
	char date[64], cmdline[1024] = "copylab claims", smallbuf[32];
	struct utsname un;
	time_t now = time(NULL);
	int status = claims_options(argc, argv, &pl, &quick, &out);

	if (status >= 0)
		return status;
	for (int i = 1; i < argc; i++) {
		strncat(cmdline, " ", sizeof(cmdline) - strlen(cmdline) - 1);
		strncat(cmdline, argv[i], sizeof(cmdline) - strlen(cmdline) - 1);
	}
	quarter_of(pl.size, smallbuf, sizeof(smallbuf));
	pl.size_small = smallbuf;
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", gmtime(&now));
	if (out) {
		pl.dir = cr_strdup(out);
	} else {
		char stamp[32];

		strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", gmtime(&now));
		cr_append(&pl.dir, "results/claims-%s", stamp);
	}
	if (mkdir_p(pl.dir) < 0) {
		fprintf(stderr, "copylab: claims: cannot create %s: %s\n", pl.dir, strerror(errno));
		return EXIT_RUN_FAILED;
	}
	uname(&un);

	run_cells(&pl, cells, cs, &failed);
	ledger = judge_until_decided(&pl, cells, cs, &failed, &n);
	if (!ledger) {
		fputs("copylab: out of memory\n", stderr);
		return EXIT_RUN_FAILED;
	}
	ledger_print(stdout, ledger, n);
	run = (struct ledger_run){ cmdline, date, un.release, pl.size, pl.transport, pl.reps, pl.reps_cap, quick };
	if (!write_ledger(pl.dir, &run, ledger, n))
		failed = true;
	return failed ? EXIT_RUN_FAILED : 0;
}
