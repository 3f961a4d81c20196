/* SPDX-License-Identifier: MIT */
/* Finding, loading and reading the LD_PRELOAD tracer from copylab itself. */
#include "tracer_link.h"

#include <dlfcn.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REEXEC_GUARD "COPYLAB_TRACER_REEXEC"

int tracer_find(char *path, size_t len, char *why, size_t whylen)
{
	const char *env = getenv("COPYLAB_TRACER");
	char exe[PATH_MAX];
	ssize_t n;

	if (env && *env) {
		if (!realpath(env, path) || access(path, R_OK) != 0) {
			snprintf(why, whylen, "COPYLAB_TRACER=%s: %s (run `make` to build %s)",
				 env, strerror(errno), TRACER_NAME);
			return -1;
		}
		return 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0) {
		snprintf(why, whylen, "cannot find my own executable (/proc/self/exe: %s); set COPYLAB_TRACER",
			 strerror(errno));
		return -1;
	}
	exe[n] = '\0';
	if (snprintf(path, len, "%s/%s", dirname(exe), TRACER_NAME) >= (int)len) {
		snprintf(why, whylen, "the path of the tracer is too long");
		return -1;
	}
	if (access(path, R_OK) != 0) {
		snprintf(why, whylen, "%s not found (%s): `make` builds it, or set COPYLAB_TRACER",
			 path, strerror(errno));
		return -1;
	}
	return 0;
}

copytrace_totals_fn tracer_loaded(void)
{
	copytrace_totals_fn fn = (copytrace_totals_fn)dlsym(RTLD_DEFAULT, COPYTRACE_TOTALS_SYMBOL);
	struct copytrace_totals t;

	/* Loaded but not counting (no $COPYTRACE_OUT) is as good as absent. */
	return fn && fn(&t) == 0 ? fn : NULL;
}

int tracer_reexec(char **argv, char *why, size_t whylen)
{
	char lib[PATH_MAX], preload[PATH_MAX * 2];
	const char *old = getenv("LD_PRELOAD");

	if (getenv(REEXEC_GUARD)) {
		snprintf(why, whylen, "the tracer was preloaded but does not count (is it built with a sanitizer?)");
		return -1;
	}
	if (tracer_find(lib, sizeof(lib), why, whylen))
		return -1;
	snprintf(preload, sizeof(preload), "%s%s%s", lib, old && *old ? ":" : "", old && *old ? old : "");
	setenv("LD_PRELOAD", preload, 1);
	/* Counting needs a record file; the roles read totals, not records. */
	setenv(COPYTRACE_ENV_OUT, "/dev/null", 1);
	setenv(REEXEC_GUARD, "1", 1);
	execv("/proc/self/exe", argv);
	snprintf(why, whylen, "re-executing with the tracer preloaded failed: %s", strerror(errno));
	return -1;
}

bool tracer_reexecuted(void)
{
	return getenv(REEXEC_GUARD) != NULL;
}
