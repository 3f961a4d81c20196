/* SPDX-License-Identifier: MIT */
/*
 * `copylab explain STRATEGY`: the summary of docs/strategies/STRATEGY.md in
 * the terminal, then the support table from the strategy's own module (so
 * the "why not" sentences are the ones `copylab run` refuses with).
 */
#include "cli.h"
#include "harness/results/record.h"
#include "harness/model/scenario.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void explain_usage(FILE *out)
{
	fprintf(out,
		"usage: copylab explain STRATEGY [--full]\n\n"
		"Prints the summary of docs/strategies/STRATEGY.md (its \"## In short\"\n"
		"section, or the page up to its second \"## \" heading), then the\n"
		"strategy's support table: which scenarios it runs and why not the others.\n\n"
		"  --full   print the whole page\n\n"
		"The pages are found in $COPYLAB_DOCS (a docs/ directory or its\n"
		"strategies/ subdirectory), else in docs/strategies beside the executable.\n"
		"Exit status: 0, or 2 for an unknown strategy or bad usage.\n");
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f)
		return NULL;
	for (;;) {
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap ? cap * 2 : 8192);

			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
			cap = cap ? cap * 2 : 8192;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		if (n == 0)
			break;
		len += n;
	}
	fclose(f);
	buf[len] = '\0';
	return buf;
}

/* Tries DIR/NAME.md and DIR/strategies/NAME.md; the text or NULL, path in `path`. */
static char *page_in(const char *dir, const char *name, char *path, size_t len)
{
	char *text;

	snprintf(path, len, "%s/%s.md", dir, name);
	if ((text = slurp(path)))
		return text;
	snprintf(path, len, "%s/strategies/%s.md", dir, name);
	return slurp(path);
}

static char *find_page(const char *name, char *path, size_t len)
{
	const char *env = getenv("COPYLAB_DOCS");
	char exe[PATH_MAX], dir[PATH_MAX + 32];
	ssize_t n;
	char *text;

	if (env && *env && (text = page_in(env, name, path, len)))
		return text;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		snprintf(dir, sizeof(dir), "%s/docs", dirname(exe));
		if ((text = page_in(dir, name, path, len)))
			return text;
	}
	snprintf(path, len, "docs/strategies/%s.md", name);
	return slurp(path);
}

static bool is_h2(const char *line)
{
	return !strncmp(line, "## ", 3);
}

/*
 * The summary: the title line and the "## In short" section when the page
 * has one, else everything up to the second "## " heading.  The SPDX
 * comment line is left out.
 */
static void print_summary(const char *text)
{
	const char *p = text, *start = NULL, *end = NULL, *title = NULL;
	int h2 = 0;

	for (const char *line = text; *line; ) {
		const char *nl = strchr(line, '\n');
		const char *next = nl ? nl + 1 : line + strlen(line);

		if (!title && !strncmp(line, "# ", 2))
			title = line;
		if (is_h2(line) && !strncmp(line, "## In short", 11)) {
			start = line;
			for (end = next; *end && !is_h2(end); ) {
				const char *e = strchr(end, '\n');

				end = e ? e + 1 : end + strlen(end);
			}
			break;
		}
		line = next;
	}
	if (start) {
		if (title) {
			const char *nl = strchr(title, '\n');

			fwrite(title, 1, nl ? (size_t)(nl - title + 1) : strlen(title), stdout);
			putchar('\n');
		}
		fwrite(start, 1, (size_t)(end - start), stdout);
		return;
	}
	/* No "In short": up to the second "## " heading. */
	for (const char *line = p; *line; ) {
		const char *nl = strchr(line, '\n');
		const char *next = nl ? nl + 1 : line + strlen(line);

		if (is_h2(line) && ++h2 == 2)
			break;
		if (strncmp(line, "<!--", 4))
			fwrite(line, 1, (size_t)(next - line), stdout);
		line = next;
	}
}

static void print_support(const struct strategy *s)
{
	printf("\nSupport (from the strategy's own table, as `copylab run` enforces it):\n");
	for (int sc = 0; sc < SC_COUNT; sc++) {
		if (s->support[sc].ok)
			printf("  %-7s +  runs\n", scenario_name(sc));
		else
			printf("  %-7s -  %s\n", scenario_name(sc),
			       s->support[sc].why_not ? s->support[sc].why_not : "not supported");
	}
	if (s->af_unix_why_not)
		printf("  over unix: %s\n", s->af_unix_why_not);
	if (strategy_supports(s, SC_ECHO) && s->unequal_answer_why_not)
		printf("  echo with --response: %s\n", s->unequal_answer_why_not);
	if (s->needs)
		printf("  needs: %s\n", s->needs);
	for (int sc = 0; sc < SC_COUNT; sc++)
		if (s->caveat[sc])
			printf("  in %s: %s\n", scenario_name(sc), s->caveat[sc]);
	if (s->only_transport)
		printf("  transports: %s only: %s\n", s->only_transport, s->elsewhere_why_not);
	if (s->role_replaced_by)
		printf("  no process for the role under test: %s\n", s->role_replaced_by);
	if (s->needs_privilege)
		printf("  privilege: %s\n", s->needs_privilege);
	if (s->waits_beyond_sockets)
		printf("  waits: %s (an event loop that drives it must watch that too)\n", s->waits_beyond_sockets);
}

static int unknown_strategy(const char *name)
{
	fprintf(stderr, "copylab: unknown strategy '%s'; valid:", name);
	for (size_t i = 0; i < strategy_count; i++)
		fprintf(stderr, "%s %s", i ? "," : "", strategy_table[i]->name);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

int cmd_explain(int argc, char **argv)
{
	const char *name = NULL;
	bool full = false;
	const struct strategy *s;
	char path[PATH_MAX + 64];
	char *text;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			explain_usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--full")) {
			full = true;
		} else if (argv[i][0] == '-') {
			return usage_error("explain: unknown option '%s' (see copylab explain --help)", argv[i]);
		} else if (!name) {
			name = argv[i];
		} else {
			return usage_error("explain: one strategy at a time ('%s' is extra)", argv[i]);
		}
	}
	if (!name) {
		explain_usage(stderr);
		return EXIT_USAGE;
	}
	s = strategy_find(name);
	if (!s)
		return unknown_strategy(name);

	printf("%s: %s\n\n", s->name, s->summary);
	text = find_page(s->name, path, sizeof(path));
	if (text) {
		if (full) {
			fputs(text, stdout);
		} else {
			/* The summary without its trailing blank lines. */
			char *buf = NULL;
			size_t len = 0;
			FILE *mem = open_memstream(&buf, &len);
			FILE *saved = stdout;

			if (mem) {
				stdout = mem;
				print_summary(text);
				stdout = saved;
				fclose(mem);
				/* The summary's own blank lines, then one before the table. */
				while (len > 0 && buf[len - 1] == '\n')
					len--;
				fwrite(buf, 1, len, stdout);
				putchar('\n');
				free(buf);
			} else {
				print_summary(text);
			}
		}
		free(text);
	} else {
		printf("(no page docs/strategies/%s.md found: set COPYLAB_DOCS to the docs directory)\n",
		       s->name);
	}
	print_support(s);
	if (text && !full)
		printf("\nThe whole page: %s (or copylab explain %s --full)\n", path, s->name);
	return 0;
}
