/* SPDX-License-Identifier: MIT */
/*
 * `copylab copy --strategy X [--verify] SRC DST`: a real file copier (like
 * cp) built on any strategy that supports the copy scenario, driven through
 * the strategy interface exactly as the harness drives the role under test.
 * DST is written under a temporary name beside it and renamed into place
 * only when every byte is there (and, with --verify, hashes equal), so a
 * failed or interrupted copy never leaves a half-written DST.
 */
#include "cli.h"
#include "harness/model/base.h"
#include "strategies/drive.h"
#include "harness/model/options.h"
#include "harness/engine/run.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

/*
 * 1 MiB per call: a copy is file to file, where fewer, larger calls cost
 * less (a 64 KiB block makes 16 times the syscalls for the same bytes), and
 * 1 MiB is what an unprivileged pipe may grow to (pipe-max-size), so
 * splice can move a whole block per call when given pipe=1M.  Past 1 MiB
 * the gain is lost in the page cache copy itself (docs/charts.md has the
 * measurement) while read/write's buffer stops fitting in L2.
 */
#define COPY_DEFAULT_BLOCK (1u << 20)

static const char copy_help[] =
"usage: copylab copy --strategy X [--block N] [--verify] [--fsync] [--verbose] SRC DST\n"
"\n"
"Copies the regular file SRC to DST (or into DST/ if DST is a directory) with\n"
"copy strategy X: readwrite, mmap_write, sendfile, splice, or any strategy\n"
"whose support table has copy; a label may carry options (splice:pipe=1M).\n"
"DST is written to a temporary file beside it and renamed into place only\n"
"when complete, with the mode of SRC (less the umask).\n"
"\n"
"  --strategy X   the strategy (required); copylab list shows which can copy\n"
"  --block N      bytes per call; K/M/G suffixes; default 1M\n"
"  --verify       hash SRC and the copy with XXH3-64 before the rename; a\n"
"                 mismatch fails the copy and leaves DST as it was\n"
"  --fsync        fsync the copy before the rename (durable across a crash)\n"
"  --verbose      say what was copied (and its hash, with --verify)\n"
"Exit status: 0 copied, 1 the copy failed (the message names the strategy,\n"
"syscall and errno; DST is untouched), 2 bad usage.\n";

/* XXH3-64 of a whole descriptor, read from offset 0. */
static int hash_fd(int fd, XXH64_hash_t *out, const char **call)
{
	static unsigned char buf[1 << 20];
	XXH3_state_t *st = XXH3_createState();
	off_t off = 0;

	if (!st)
		return -ENOMEM;
	XXH3_64bits_reset(st);
	for (;;) {
		ssize_t n = pread(fd, buf, sizeof(buf), off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			*call = "pread";
			XXH3_freeState(st);
			return -e;
		}
		if (n == 0)
			break;
		XXH3_64bits_update(st, buf, n);
		off += n;
	}
	*out = XXH3_64bits_digest(st);
	XXH3_freeState(st);
	return 0;
}

static int copy_fail(const char *label, const char *call, int err, const char *what)
{
	fprintf(stderr, "copylab copy: %s: %s failed: %s (%s)%s%s\n", label, call ? call : "?", strerror(err),
		errno_name(err), what ? ": " : "", what ? what : "");
	return EXIT_RUN_FAILED;
}

/* What the command line asks of copylab copy. */
struct copy_options {
	struct strategy_spec spec;
	uint64_t block;
	bool verify, fsync, verbose, help;
	const char *src, *dst;
};

/* One copy under way: SRC open, and the temporary file that becomes DST. */
struct copy_job {
	int in, out;
	struct stat sst;			/* of SRC */
	char target[PATH_MAX];			/* DST, or DST/ and SRC's name */
	char tmp[PATH_MAX + 32];		/* beside target, renamed to it at the end */
};

/* The options and the strategy's fitness to copy.  0 (help set when asked for), or EXIT_USAGE after saying why. */
static int copy_parse(int argc, char **argv, struct copy_options *o)
{
	static const struct option opts[] = {
		{ "strategy", required_argument, NULL, 's' },
		{ "block", required_argument, NULL, 'b' },
		{ "verify", no_argument, NULL, 'v' },
		{ "fsync", no_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *label = NULL;
	char err[320], names[256];
	struct refusal why;
	int c;

	memset(o, 0, sizeof(*o));
	o->block = COPY_DEFAULT_BLOCK;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 's': label = optarg; break;
		case 'v': o->verify = true; break;
		case 'f': o->fsync = true; break;
		case 'V': o->verbose = true; break;
		case 'b':
			if (parse_size("--block", optarg, 1ull << 30, &o->block, err, sizeof(err)))
				return usage_error("%s", err);
			if (o->block == 0)
				return usage_error("--block: must be at least 1 byte");
			break;
		case 'h':
			o->help = true;
			return 0;
		case ':':
			return usage_error("copy: option '%s' needs a value (see copylab copy --help)", argv[optind - 1]);
		default:
			return usage_error("copy: unknown option '%s' (see copylab copy --help)", argv[optind - 1]);
		}
	}
	if (!label)
		return usage_error("copy: --strategy is required; valid: %s", strategy_names(names, sizeof(names)));
	if (parse_strategy_spec(label, &o->spec, err, sizeof(err)))
		return usage_error("%s", err);
	why = strategy_refusal(o->spec.s, &(struct strategy_place){ .scenario = SC_COPY, .own_process = true,
								    .privileged = -1 });
	if (why.kind != REFUSE_NONE)
		return usage_error("%s cannot copy a file: %s", o->spec.s->name, why.why);
	if ((why.why = spec_option_refusal(&o->spec, SC_COPY, false)))
		return usage_error("%s cannot copy a file: %s", o->spec.label, why.why);
	if (optind != argc - 2)
		return usage_error("copy: give a source and a destination (see copylab copy --help)");
	o->src = argv[optind];
	o->dst = argv[optind + 1];
	return 0;
}

/*
 * Where the copy goes: DST, or under SRC's name into DST when that is a
 * directory, as cp does; and the temporary name beside it.  0, or
 * EXIT_RUN_FAILED when the target is SRC itself.
 */
static int copy_names(const struct copy_options *o, struct copy_job *j)
{
	char dircopy[PATH_MAX], basecopy[PATH_MAX];
	struct stat dstst;

	snprintf(j->target, sizeof(j->target), "%s", o->dst);
	if (stat(o->dst, &dstst) == 0 && S_ISDIR(dstst.st_mode)) {
		snprintf(basecopy, sizeof(basecopy), "%s", o->src);
		snprintf(j->target, sizeof(j->target), "%s/%s", o->dst, basename(basecopy));
	}
	if (stat(j->target, &dstst) == 0 && dstst.st_dev == j->sst.st_dev && dstst.st_ino == j->sst.st_ino) {
		fprintf(stderr, "copylab copy: %s and %s are the same file\n", o->src, j->target);
		return EXIT_RUN_FAILED;
	}
	snprintf(dircopy, sizeof(dircopy), "%s", j->target);
	snprintf(basecopy, sizeof(basecopy), "%s", j->target);
	snprintf(j->tmp, sizeof(j->tmp), "%s/.%s.copylab-XXXXXX", dirname(dircopy), basename(basecopy));
	return 0;
}

/* SRC's bytes into the temporary file, driven through the strategy.  0 or EXIT_RUN_FAILED after saying why. */
static int copy_bytes(const struct copy_options *o, struct copy_job *j)
{
	uint64_t size = (uint64_t)j->sst.st_size;
	struct xfer x;
	ssize_t r;

	xfer_init(&x, SC_COPY, EP_FILE, EP_FILE, o->block, &o->spec.tun);
	x.in_fd = j->in;
	x.out_fd = j->out;
	x.total = j->sst.st_size;
	r = xfer_begin(o->spec.s, &x);
	if (r == -ENOMEM && !x.begun)
		return copy_fail(o->spec.label, "calloc", ENOMEM, "strategy state");
	if (r == 0)
		r = xfer_drive(o->spec.s, &x, &run_interrupted);
	xfer_end(o->spec.s, &x);
	if (r == -EINTR && run_interrupted) {
		fprintf(stderr, "copylab copy: %s: interrupted by %s after %" PRIu64 " of %" PRIu64
			" bytes; %s left as it was\n", o->spec.label, strsignal(run_interrupted), x.moved,
			size, j->target);
		return EXIT_RUN_FAILED;
	}
	if (r < 0) {
		char what[2 * PATH_MAX + 128];

		snprintf(what, sizeof(what), "after %" PRIu64 " of %" PRIu64 " bytes into %s; %s left as it was",
			 x.moved, size, j->tmp, j->target);
		return copy_fail(o->spec.label, x.failed_call, -r, what);
	}
	if (x.moved != size) {
		fprintf(stderr, "copylab copy: %s: moved %" PRIu64 " bytes but %s has %" PRIu64
			" (did it change during the copy?); %s left as it was\n", o->spec.label, x.moved, o->src,
			size, j->target);
		return EXIT_RUN_FAILED;
	}
	return 0;
}

/* --verify: SRC and the copy hash alike.  0 or EXIT_RUN_FAILED after saying why. */
static int copy_verify(const struct copy_options *o, const struct copy_job *j)
{
	XXH64_hash_t hs, hd;
	const char *call = NULL;
	int e = hash_fd(j->in, &hs, &call);

	if (e || (e = hash_fd(j->out, &hd, &call)))
		return copy_fail("--verify", call, -e, o->src);
	if (hs != hd) {
		fprintf(stderr, "copylab copy: %s: --verify: XXH3-64 of %s is %016llx but of the copy %016llx; "
			"%s left as it was\n", o->spec.label, o->src, (unsigned long long)hs,
			(unsigned long long)hd, j->target);
		return EXIT_RUN_FAILED;
	}
	if (o->verbose)
		printf("verified: XXH3-64 %016llx\n", (unsigned long long)hs);
	return 0;
}

/*
 * The temporary file made whole: SRC's mode (less the umask), the bytes,
 * and as asked fsync and the hashes.  0 or EXIT_RUN_FAILED after saying why.
 */
static int copy_to_temp(const struct copy_options *o, struct copy_job *j)
{
	mode_t um = umask(0);
	int rc;

	umask(um);
	if (fchmod(j->out, j->sst.st_mode & 07777 & ~um) < 0)
		return copy_fail(o->spec.label, "fchmod", errno, j->tmp);
	if ((rc = copy_bytes(o, j)))
		return rc;
	if (o->fsync && fsync(j->out) < 0)
		return copy_fail(o->spec.label, "fsync", errno, j->tmp);
	return o->verify ? copy_verify(o, j) : 0;
}

/* The temporary file closed and renamed to the target.  0 or EXIT_RUN_FAILED after saying why. */
static int copy_commit(const struct copy_options *o, struct copy_job *j)
{
	int out = j->out;

	j->out = -1;
	if (close(out) < 0)
		return copy_fail(o->spec.label, "close", errno, j->tmp);
	if (rename(j->tmp, j->target) < 0)
		return copy_fail(o->spec.label, "rename", errno, j->target);
	if (o->verbose)
		printf("copied %" PRIu64 " bytes %s -> %s with %s (block %" PRIu64 ")\n", (uint64_t)j->sst.st_size,
		       o->src, j->target, o->spec.label, o->block);
	return 0;
}

/* SRC, open as j->in, to its target; the temporary file goes unless renamed.  0 or EXIT_RUN_FAILED. */
static int copy_file(const struct copy_options *o, struct copy_job *j)
{
	int rc;

	if (fstat(j->in, &j->sst) < 0)
		return copy_fail(o->spec.label, "fstat", errno, o->src);
	if (!S_ISREG(j->sst.st_mode)) {
		fprintf(stderr, "copylab copy: %s: not a regular file (copy strategies read a file with a size)\n", o->src);
		return EXIT_RUN_FAILED;
	}
	if ((rc = copy_names(o, j)))
		return rc;
	/* Signals end the copy between two steps, so the temporary file goes. */
	catch_stop_signals();
	j->out = mkostemp(j->tmp, O_CLOEXEC);	/* O_RDWR | O_CREAT | O_EXCL: never an existing file */
	if (j->out < 0)
		return copy_fail(o->spec.label, "open", errno, j->tmp);
	rc = copy_to_temp(o, j);
	if (!rc)
		rc = copy_commit(o, j);
	if (rc)
		unlink(j->tmp);
	return rc;
}

int cmd_copy(int argc, char **argv)
{
	struct copy_options o;
	struct copy_job j = { .in = -1, .out = -1 };
	int rc;

	if ((rc = copy_parse(argc, argv, &o)))
		return rc;
	if (o.help) {
		fputs(copy_help, stdout);
		return 0;
	}
	j.in = open(o.src, O_RDONLY | O_CLOEXEC);
	if (j.in < 0)
		return copy_fail(o.spec.label, "open", errno, o.src);
	rc = copy_file(&o, &j);
	if (j.out >= 0)
		close(j.out);
	close(j.in);
	return rc;
}
