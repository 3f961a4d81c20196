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
#include <signal.h>
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

static volatile sig_atomic_t copy_interrupted;

static void on_copy_signal(int sig)
{
	copy_interrupted = sig;
}

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

int cmd_copy(int argc, char **argv)
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
	struct strategy_spec spec = { 0 };
	const char *label = NULL, *src, *dst;
	char err[320], names[256], target[PATH_MAX], tmp[PATH_MAX + 32], dircopy[PATH_MAX], basecopy[PATH_MAX];
	struct refusal why;
	uint64_t block = COPY_DEFAULT_BLOCK;
	bool verify = false, do_fsync = false, verbose = false;
	struct stat sst, dstst;
	struct xfer x;
	int c, in = -1, out = -1, rc = EXIT_RUN_FAILED;
	ssize_t r;
	mode_t um;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 's': label = optarg; break;
		case 'v': verify = true; break;
		case 'f': do_fsync = true; break;
		case 'V': verbose = true; break;
		case 'b':
			if (parse_size("--block", optarg, 1ull << 30, &block, err, sizeof(err)))
				return usage_error("%s", err);
			if (block == 0)
				return usage_error("--block: must be at least 1 byte");
			break;
		case 'h':
			fputs(copy_help, stdout);
			return 0;
		case ':':
			return usage_error("copy: option '%s' needs a value (see copylab copy --help)", argv[optind - 1]);
		default:
			return usage_error("copy: unknown option '%s' (see copylab copy --help)", argv[optind - 1]);
		}
	}
	if (!label)
		return usage_error("copy: --strategy is required; valid: %s", strategy_names(names, sizeof(names)));
	if (parse_strategy_spec(label, &spec, err, sizeof(err)))
		return usage_error("%s", err);
	why = strategy_refusal(spec.s, &(struct strategy_place){ .scenario = SC_COPY, .own_process = true,
								 .privileged = -1 });
	if (why.kind != REFUSE_NONE)
		return usage_error("%s cannot copy a file: %s", spec.s->name, why.why);
	if (optind != argc - 2)
		return usage_error("copy: give a source and a destination (see copylab copy --help)");
	src = argv[optind];
	dst = argv[optind + 1];

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return copy_fail(spec.label, "open", errno, src);
	if (fstat(in, &sst) < 0) {
		rc = copy_fail(spec.label, "fstat", errno, src);
		goto out;
	}
	if (!S_ISREG(sst.st_mode)) {
		fprintf(stderr, "copylab copy: %s: not a regular file (copy strategies read a file with a size)\n", src);
		goto out;
	}
	/* DST a directory: copy into it under SRC's name, as cp does. */
	snprintf(target, sizeof(target), "%s", dst);
	if (stat(dst, &dstst) == 0 && S_ISDIR(dstst.st_mode)) {
		snprintf(basecopy, sizeof(basecopy), "%s", src);
		snprintf(target, sizeof(target), "%s/%s", dst, basename(basecopy));
	}
	if (stat(target, &dstst) == 0 && dstst.st_dev == sst.st_dev && dstst.st_ino == sst.st_ino) {
		fprintf(stderr, "copylab copy: %s and %s are the same file\n", src, target);
		goto out;
	}
	snprintf(dircopy, sizeof(dircopy), "%s", target);
	snprintf(basecopy, sizeof(basecopy), "%s", target);
	snprintf(tmp, sizeof(tmp), "%s/.%s.copylab-XXXXXX", dirname(dircopy), basename(basecopy));

	/* Signals end the copy between two steps, so the temporary file goes. */
	struct sigaction sa = { .sa_handler = on_copy_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	out = mkostemp(tmp, O_CLOEXEC);	/* O_RDWR | O_CREAT | O_EXCL: never an existing file */
	if (out < 0) {
		rc = copy_fail(spec.label, "open", errno, tmp);
		goto out;
	}
	um = umask(0);
	umask(um);
	if (fchmod(out, sst.st_mode & 07777 & ~um) < 0) {
		rc = copy_fail(spec.label, "fchmod", errno, tmp);
		goto out_unlink;
	}

	xfer_init(&x, SC_COPY, EP_FILE, EP_FILE, block, &spec.tun);
	x.in_fd = in;
	x.out_fd = out;
	x.total = sst.st_size;
	r = xfer_begin(spec.s, &x);
	if (r == -ENOMEM && !x.begun) {
		rc = copy_fail(spec.label, "calloc", ENOMEM, "strategy state");
		goto out_unlink;
	}
	if (r == 0)
		r = xfer_drive(spec.s, &x, &copy_interrupted);
	xfer_end(spec.s, &x);
	if (r == -EINTR && copy_interrupted) {
		fprintf(stderr, "copylab copy: %s: interrupted by %s after %" PRIu64 " of %" PRIu64
			" bytes; %s left as it was\n", spec.label, strsignal(copy_interrupted), x.moved,
			(uint64_t)sst.st_size, target);
		goto out_unlink;
	}
	if (r < 0) {
		char what[2 * PATH_MAX + 128];

		snprintf(what, sizeof(what), "after %" PRIu64 " of %" PRIu64 " bytes into %s; %s left as it was",
			 x.moved, (uint64_t)sst.st_size, tmp, target);
		rc = copy_fail(spec.label, x.failed_call, -r, what);
		goto out_unlink;
	}
	if (x.moved != (uint64_t)sst.st_size) {
		fprintf(stderr, "copylab copy: %s: moved %" PRIu64 " bytes but %s has %" PRIu64
			" (did it change during the copy?); %s left as it was\n", spec.label, x.moved, src,
			(uint64_t)sst.st_size, target);
		goto out_unlink;
	}
	if (do_fsync && fsync(out) < 0) {
		rc = copy_fail(spec.label, "fsync", errno, tmp);
		goto out_unlink;
	}
	if (verify) {
		XXH64_hash_t hs, hd;
		const char *call = NULL;
		int e = hash_fd(in, &hs, &call);

		if (e || (e = hash_fd(out, &hd, &call))) {
			rc = copy_fail("--verify", call, -e, src);
			goto out_unlink;
		}
		if (hs != hd) {
			fprintf(stderr, "copylab copy: %s: --verify: XXH3-64 of %s is %016llx but of the copy %016llx; "
				"%s left as it was\n", spec.label, src, (unsigned long long)hs,
				(unsigned long long)hd, target);
			goto out_unlink;
		}
		if (verbose)
			printf("verified: XXH3-64 %016llx\n", (unsigned long long)hs);
	}
	if (close(out) < 0) {
		out = -1;
		rc = copy_fail(spec.label, "close", errno, tmp);
		goto out_unlink;
	}
	out = -1;
	if (rename(tmp, target) < 0) {
		rc = copy_fail(spec.label, "rename", errno, target);
		goto out_unlink;
	}
	if (verbose)
		printf("copied %" PRIu64 " bytes %s -> %s with %s (block %" PRIu64 ")\n", (uint64_t)sst.st_size, src,
		       target, spec.label, block);
	rc = 0;
	goto out;
out_unlink:
	unlink(tmp);
out:
	if (out >= 0)
		close(out);
	if (in >= 0)
		close(in);
	return rc;
}
