/* SPDX-License-Identifier: MIT */
/*
 * `copylab cleanup`: removes what a killed run left behind: network
 * namespaces, veth links (with their tbf/netem qdiscs and the XDP program
 * of a killed AF_XDP port, which goes with its link) and nftables tables
 * whose names carry the copylab- prefix, and nothing else.  A namespace or
 * table whose name carries the pid of a live process, or no readable pid,
 * is kept, and so is a link whose peer end is in a kept namespace and a
 * stackd socket that is still listened on.
 */
#include "cli.h"
#include "scratch.h"
#include "harness/net/netns.h"
#include "userstack/proto.h"

#include <dirent.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <errno.h>
#include <unistd.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_cleanup(int argc, char **argv);

static const char cleanup_help[] =
"usage: copylab cleanup [--dry-run]\n"
"\n"
"Removes what a killed copylab run left behind, and says what it removed:\n"
"network namespaces named copylab-* (with the veth links, addresses,\n"
"tbf/netem qdiscs and nftables tables inside them, such as the DNAT table of\n"
"a routed path's router, and XDP programs of AF_XDP ports), copylab-*\n"
"links (and any XDP program on them) in this namespace, nftables tables\n"
"named copylab-*, and copylab stackd's control sockets\n"
"(" US_SOCKET_DIR "/copylab-*.sock), and the scratch directories of dead\n"
"runs (copylab-PID-XXXXXX under /var/tmp and under every --workdir a run\n"
"of this user used: a scratch directory is removed only when its marker\n"
"proves this user's copylab made it and its run is gone).  Nothing without\n"
"the prefix is touched.\n"
"One rule of liveness for every kind: a name that carries the pid of a live\n"
"process (a run in progress) is kept, and so is a name that carries no pid\n"
"(nothing proves its run gone), a stackd socket something still listens on,\n"
"and a link whose other end is in a namespace that is kept.\n"
"\n"
"  --dry-run   say what would be removed, remove nothing\n"
"\n"
"Exit status: 0 done (or nothing to clean), 1 something could not be removed.\n";

struct tally {
	int removed, kept, failed;
	bool dry;
};

static bool prefixed(const char *name)
{
	return strncmp(name, NETNS_PREFIX, strlen(NETNS_PREFIX)) == 0;
}

/*
 * Whether a stackd still answers on its control socket: a listener takes
 * the connection (or has a full backlog); a socket file nobody listens on
 * refuses it.  Only a refusal proves the stackd gone.
 */
static bool socket_listened(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	bool listened;

	if (fd < 0 || strlen(path) >= sizeof(sa.sun_path)) {
		if (fd >= 0)
			close(fd);
		return true;	/* cannot tell: keep it */
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	listened = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno == EAGAIN || errno == EINPROGRESS;
	close(fd);
	return listened;
}

/*
 * The one liveness rule for every kind of object: the pid its name
 * carries is running, or (names without a readable pid) the object itself
 * shows a holder.  *why says which, for the "kept" line.
 */
static bool owner_alive(const char *name, char *why, size_t whylen)
{
	pid_t pid = netns_owner_pid(name);

	if (pid > 0 && netns_owner_alive(name)) {
		snprintf(why, whylen, "its owner (pid %d) is still running", (int)pid);
		return true;
	}
	if (pid <= 0) {
		snprintf(why, whylen, "its name carries no owner pid, so nothing proves its run is gone");
		return true;
	}
	return false;
}

/*
 * An XDP program on the link of one `ip -o link` line ("xdp program
 * xsk_def_prog id 1528, native"): what a killed AF_XDP port (copylab xdp,
 * stackd --netif xdp) leaves.  copylab attaches it over netlink with no
 * bpffs pin, so it lives as long as the link: removing the link (or its
 * namespace) removes it.
 */
static bool xdp_on_link(const char *line, char *buf, size_t len)
{
	const char *p = strstr(line, "prog/xdp id ");
	char name[64] = "?";
	long id;

	if (!p)
		return false;
	id = strtol(p + strlen("prog/xdp id "), NULL, 10);
	if ((p = strstr(p, " name ")))
		sscanf(p + 6, "%63s", name);
	snprintf(buf, len, "xdp program %s id %ld, %s", name, id,
		 strstr(line, " xdpgeneric ") ? "generic" : strstr(line, " xdpoffload ") ? "offload" : "native");
	return true;
}

/* "veth copylab-ab12cda, qdisc tbf" — what a namespace holds, for the report. */
static void describe_netns(const char *ns, char *buf, size_t len)
{
	char out[8192], err[256], *save = NULL, *line;
	size_t n = 0;

	buf[0] = '\0';
	if (netns_cmd(out, sizeof(out), err, sizeof(err), "ip", "-n", ns, "-o", "link", "show", NULL) == 0)
		for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char name[64];

			if (sscanf(line, "%*d: %63[^:@]", name) == 1 && strcmp(name, "lo")) {
				char xdp[96];

				n += snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? ", " : "", name);
				if (xdp_on_link(line, xdp, sizeof(xdp)))
					n += snprintf(buf + n, n < len ? len - n : 0, " with %s", xdp);
			}
		}
	save = NULL;
	if (netns_cmd(out, sizeof(out), err, sizeof(err), "tc", "-n", ns, "qdisc", "show", NULL) == 0)
		for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char kind[32], dev[64];

			if (sscanf(line, "qdisc %31s %*s dev %63s", kind, dev) == 2 &&
			    (!strcmp(kind, "tbf") || !strcmp(kind, "netem")))
				n += snprintf(buf + n, n < len ? len - n : 0, "%s%s qdisc on %s", n ? ", " : "", kind, dev);
		}
	/* A routed path's router holds nat's DNAT table: it goes with the namespace. */
	save = NULL;
	if (netns_cmd(out, sizeof(out), err, sizeof(err), "ip", "netns", "exec", ns, "nft", "list", "tables", NULL) == 0)
		for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char family[16], name[200];

			if (sscanf(line, "table %15s %199s", family, name) == 2)
				n += snprintf(buf + n, n < len ? len - n : 0, "%snftables table %s %s", n ? ", " : "",
					      family, name);
		}
}

static void clean_namespaces(struct tally *t)
{
	DIR *d = opendir(NETNS_DIR);
	struct dirent *e;
	struct { char name[256], what[512]; } *stale = NULL;
	char why[128];
	int n = 0, cap = 0;

	if (!d)
		return;		/* no /run/netns: no named namespace at all */
	/* Described first, removed after: removing one end's namespace takes the veth from the other. */
	while ((e = readdir(d))) {
		if (!prefixed(e->d_name))
			continue;
		if (owner_alive(e->d_name, why, sizeof(why))) {
			printf("kept namespace %s: %s\n", e->d_name, why);
			t->kept++;
			continue;
		}
		if (netns_locked(e->d_name)) {
			printf("kept namespace %s: a running copylab holds it (from another pid namespace?)\n",
			       e->d_name);
			t->kept++;
			continue;
		}
		if (n == cap) {
			void *m = realloc(stale, (cap = cap ? 2 * cap : 8) * sizeof(*stale));

			if (!m)
				break;
			stale = m;
		}
		snprintf(stale[n].name, sizeof(stale[n].name), "%s", e->d_name);
		describe_netns(e->d_name, stale[n].what, sizeof(stale[n].what));
		n++;
	}
	closedir(d);
	for (int i = 0; i < n; i++) {
		const char *what = stale[i].what;
		char err[320];

		if (!t->dry && netns_cmd(NULL, 0, err, sizeof(err), "ip", "netns", "del", stale[i].name, NULL)) {
			fprintf(stderr, "copylab: cleanup: %s\n", err);
			t->failed++;
			continue;
		}
		printf("%s namespace %s%s%s%s\n", t->dry ? "would remove" : "removed", stale[i].name,
		       what[0] ? " (with " : "", what, what[0] ? ")" : "");
		t->removed++;
	}
	free(stale);
}

/*
 * Whether a link here belongs to a run in progress: its peer end is in a
 * copylab namespace that is kept (a test's stand-in host, whose shell is
 * alive), or its own name carries a live pid.  A test that is running
 * loses its link otherwise, and its traffic to the far address then
 * follows the default route off the machine.  Says why in why.
 */
static bool link_in_use(const char *name, const char *line, char *why, size_t whylen)
{
	const char *at = strstr(line, " link-netns ");
	char peer_ns[256];

	if (netns_owner_alive(name)) {
		snprintf(why, whylen, "its owner (pid %d) is still running", (int)netns_owner_pid(name));
		return true;
	}
	if (!at || sscanf(at, " link-netns %255s", peer_ns) != 1 || !prefixed(peer_ns))
		return false;
	if (netns_owner_alive(peer_ns)) {
		snprintf(why, whylen, "its peer is in namespace %s, whose owner (pid %d) is still running", peer_ns,
			 (int)netns_owner_pid(peer_ns));
		return true;
	}
	if (netns_locked(peer_ns)) {
		snprintf(why, whylen, "its peer is in namespace %s, which a running copylab holds", peer_ns);
		return true;
	}
	return false;
}

/* copylab-* links in this namespace: made outside a namespace, or a test's. */
static void clean_links(struct tally *t)
{
	char out[65536], err[320], why[400], *save = NULL, *line;
	char names[64][64], xdps[64][96];
	int n = 0;

	if (netns_cmd(out, sizeof(out), err, sizeof(err), "ip", "-o", "link", "show", NULL)) {
		fprintf(stderr, "copylab: cleanup: %s\n", err);
		t->failed++;
		return;
	}
	for (line = strtok_r(out, "\n", &save); line && n < 64; line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%*d: %63[^:@]", names[n]) != 1 || !prefixed(names[n]))
			continue;
		if (link_in_use(names[n], line, why, sizeof(why))) {
			printf("kept link %s: %s\n", names[n], why);
			t->kept++;
			continue;
		}
		xdps[n][0] = '\0';
		xdp_on_link(line, xdps[n], sizeof(xdps[n]));
		n++;
	}
	for (int i = 0; i < n; i++) {
		char q[8192] = "", kinds[160] = "";

		/* A veth's peer may have gone with its namespace already. */
		if (netns_cmd(q, sizeof(q), err, sizeof(err), "tc", "qdisc", "show", "dev", names[i], NULL) == 0) {
			if (strstr(q, "qdisc tbf"))
				strcat(kinds, ", tbf qdisc");
			if (strstr(q, "qdisc netem"))
				strcat(kinds, ", netem qdisc");
		}
		if (xdps[i][0]) {
			strcat(kinds, ", ");
			strcat(kinds, xdps[i]);
		}
		if (t->dry) {
			printf("would remove link %s%s\n", names[i], kinds);
			t->removed++;
			continue;
		}
		if (netns_cmd(NULL, 0, err, sizeof(err), "ip", "link", "del", names[i], NULL)) {
			/* Deleting one end of a veth deletes the other: not a failure. */
			if (strstr(err, "Cannot find device"))
				continue;
			fprintf(stderr, "copylab: cleanup: %s\n", err);
			t->failed++;
			continue;
		}
		printf("removed link %s%s\n", names[i], kinds);
		t->removed++;
	}
}

static void clean_nft(struct tally *t)
{
	char out[65536], err[320], why[128], *save = NULL, *line;

	if (netns_cmd(out, sizeof(out), err, sizeof(err), "nft", "list", "tables", NULL)) {
		if (strstr(err, "not installed"))
			printf("nftables: nft is not installed, so no table was checked (tables inside removed namespaces went with them)\n");
		else
			printf("nftables: cannot list tables (%s)\n", err);
		return;
	}
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char family[16], name[256];

		if (sscanf(line, "table %15s %255s", family, name) != 2 || !prefixed(name))
			continue;
		if (owner_alive(name, why, sizeof(why))) {
			printf("kept nftables table %s %s: %s\n", family, name, why);
			t->kept++;
			continue;
		}
		if (t->dry) {
			printf("would remove nftables table %s %s\n", family, name);
			t->removed++;
			continue;
		}
		if (netns_cmd(NULL, 0, err, sizeof(err), "nft", "delete", "table", family, name, NULL)) {
			fprintf(stderr, "copylab: cleanup: %s\n", err);
			t->failed++;
			continue;
		}
		printf("removed nftables table %s %s\n", family, name);
		t->removed++;
	}
}

/* copylab stackd's control sockets (US_SOCKET_DIR/copylab-*.sock) of stackds that are gone. */
static void clean_stack_sockets(struct tally *t)
{
	DIR *d = opendir(US_SOCKET_DIR);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[512];
		size_t n = strlen(e->d_name);

		if (!prefixed(e->d_name) || n < 5 || strcmp(e->d_name + n - 5, ".sock"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", US_SOCKET_DIR, e->d_name);
		/* A stackd started with --socket NAME has no pid in the name: its listener speaks for it. */
		if (netns_owner_alive(e->d_name) || socket_listened(path)) {
			printf("kept stackd socket %s: a stackd still listens on it\n", path);
			t->kept++;
			continue;
		}
		if (!t->dry && unlink(path)) {
			fprintf(stderr, "copylab: cleanup: unlink %s: %s\n", path, strerror(errno));
			t->failed++;
			continue;
		}
		printf("%s stackd socket %s\n", t->dry ? "would remove" : "removed", path);
		t->removed++;
	}
	closedir(d);
}

int cmd_cleanup(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct tally t = { 0 };
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'n': t.dry = true; break;
		case 'h': fputs(cleanup_help, stdout); return 0;
		default:
			return usage_error("cleanup: unknown option '%s' (see copylab cleanup --help)", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("cleanup: unexpected argument '%s' (see copylab cleanup --help)", argv[optind]);
	clean_namespaces(&t);
	clean_links(&t);
	clean_nft(&t);
	clean_stack_sockets(&t);
	/* Scratch of dead runs under /var/tmp and every --workdir a run of this user used. */
	t.removed += scratch_sweep_known(t.dry, stdout);
	if (t.removed == 0 && t.failed == 0)
		printf("nothing to clean%s\n", t.kept ? " (what was kept, above, is a live run's or not provably a dead one's)" : "");
	fflush(stdout);
	return t.failed ? EXIT_RUN_FAILED : 0;
}
