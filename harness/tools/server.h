/* SPDX-License-Identifier: MIT */
/*
 * The server `copylab serve` and `copylab relay` both are: their common
 * command line, a listening socket, one epoll set, the stop and log
 * signals as a descriptor, accepting up to --max-conns (paused while
 * descriptors run out, and tried again after EV_ACCEPT_RETRY_MS whether or
 * not a connection closed), a timeout sweep about once a second, a
 * graceful stop within --grace, a log with a time on every line (stderr,
 * or --log FILE, reopened on SIGHUP), and a list of connections stepped
 * again without waiting on epoll.  What a connection is and does, each
 * tool says through its struct ev_tool.
 */
#ifndef COPYLAB_SERVER_H
#define COPYLAB_SERVER_H

#include "evloop.h"
#include "harness/model/spec.h"

#include <stddef.h>
#include <stdio.h>

/* A tool's struct around a member of it (its server, its connection). */
#define ev_container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

/*
 * The server's part of a connection.  It is the first member of the
 * tool's own connection struct: the server allocates and frees that whole
 * struct (ev_tool.conn_size) through it.  Its handles' owner points here.
 */
struct ev_conn {
	size_t slot;			/* in srv->conns */
	bool dead;			/* closed; freed at the end of the loop's turn */
	bool queued;			/* in srv->runnable */
	size_t rq_slot;
	struct ev_conn *next_dead;
	char peer[64];			/* the client's address, for log lines */
};

struct ev_server;

/*
 * Options only one tool has, as bits of ev_tool.own_opts: their values
 * live in struct ev_server with the shared ones, so one parser serves both.
 */
enum {
	EV_OPT_MAX_REQUESTS = 1 << 0,	/* serve: requests per kept-alive connection */
	EV_OPT_FIN_TIMEOUT = 1 << 1,	/* relay: a half-closed pair's silence */
};

/*
 * How long accepting stays off after accept(2) failed for want of
 * descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM), as nginx waits:
 * a closing connection turns it back on sooner, but with none open only
 * this timer does.
 */
#define EV_ACCEPT_RETRY_MS	500

/* What one tool is to the server. */
struct ev_tool {
	const char *name;		/* "serve": the command, and its messages' prefix */
	enum scenario scenario;
	const char *cannot;		/* "serve files": what a refused strategy cannot do */
	const char *default_label;	/* --strategy when not given */
	/*
	 * The option every run needs beside --listen ("root", "DIR"), and
	 * the tool's own timeout beside --idle-timeout ("header-timeout").
	 */
	const char *target_opt, *target_arg;
	const char *own_timeout_opt;
	size_t big_block;		/* ev_call_sizes' big */
	unsigned own_opts;		/* EV_OPT_* */
	void (*usage)(FILE *out);

	size_t conn_size;		/* the tool's connection struct */
	/*
	 * A new client's socket, before it counts: what the tool needs of its
	 * own.  0, or -1 to refuse it (the server closes fd and accepts no
	 * more on this wake-up).
	 */
	int (*conn_open)(struct ev_server *srv, struct ev_conn *c, int fd);
	/* After it counts (slot and peer set); it may close the connection. */
	void (*conn_start)(struct ev_server *srv, struct ev_conn *c);
	/* An epoll event on one of the connection's handles. */
	void (*conn_event)(struct ev_server *srv, struct ev_conn *c, const struct ev_handle *h,
			   uint32_t events);
	/* Its turn from the runnable list (ev_conn_queue). */
	void (*conn_step)(struct ev_server *srv, struct ev_conn *c);
	/* Its timeouts, about once a second. */
	void (*conn_sweep)(struct ev_server *srv, struct ev_conn *c, int64_t now);
	/* A stop began (NULL: nothing to do before the grace time runs out). */
	void (*conn_stop)(struct ev_server *srv, struct ev_conn *c);
	/* Ends it: the tool's teardown, then ev_conn_drop.  Not twice. */
	void (*conn_close)(struct ev_server *srv, struct ev_conn *c);
};

struct ev_server {
	const struct ev_tool *tool;

	/* the command line (ev_server_configure) */
	const char *listen_s, *target_s;
	struct sockaddr_storage listen_addr;
	socklen_t listen_len;
	struct strategy_spec spec;	/* its tunables with ev_call_sizes' pipe */
	size_t block;
	long max_conns;
	int backlog;			/* listen(2)'s; the kernel caps it at somaxconn */
	int64_t own_timeout_ms, idle_timeout_ms;	/* the tool's defaults until given */
	int64_t fin_timeout_ms;		/* EV_OPT_FIN_TIMEOUT */
	long max_requests;		/* EV_OPT_MAX_REQUESTS */
	int64_t grace_ms;		/* what a stop leaves connections to finish */
	const char *log_path;		/* --log FILE, or NULL: stderr */
	bool quiet;

	/* running */
	int ep, listen_fd, sig_fd;
	struct ev_handle hl, hs;
	char addr[80];			/* where it listens, as printed */
	bool accepting, stopping;
	int64_t stop_deadline;
	int64_t accept_retry_at;	/* accepting paused for an error: when to try again, or 0 */
	FILE *log;			/* stderr, or --log's file */
	uint64_t accept_errors;		/* accept(2) failures for want of descriptors or memory */
	struct ev_conn **conns;		/* max_conns slots */
	long live;
	/*
	 * Connections to step again after the next look at epoll (timeout 0
	 * while any are here), whatever their descriptors say: a budget
	 * spent, a strategy with operations in flight (io_uring) that epoll
	 * has nothing to report on, a wait epoll cannot watch (a regular file).
	 */
	struct ev_conn **runnable, **runnable_next;
	size_t nrunnable;
	struct ev_conn *graveyard;	/* closed this turn: events may still name them */
};

/*
 * The command line both tools share (--listen, the target, --strategy,
 * --block, --max-conns, two timeouts, --quiet, --help), the strategy's
 * refusal and call sizes.  srv->tool and the timeouts' defaults set
 * before.  true to go on; false: the command ends with *status.
 */
bool ev_server_configure(struct ev_server *srv, int argc, char **argv, int *status);

/*
 * Fits --max-conns to the descriptor limit (per_conn descriptors each),
 * listens, and prints "listening on ADDR:PORT".  0 or the exit status.
 */
int ev_server_listen(struct ev_server *srv, long per_conn);
/* Its line on stderr unless --quiet: "copylab NAME: WHERE, strategy ..., max N connections". */
void ev_server_announce(struct ev_server *srv, const char *where);
/* The loop, until a stop has let the connections finish.  0 or the exit status. */
int ev_server_run(struct ev_server *srv);
/*
 * Closes what is left: the connections (conn_close), the descriptors.
 * The log stays open for the tool's summary; ev_log_close ends it.
 */
void ev_server_close(struct ev_server *srv);

/*
 * A line on the log (stderr or --log FILE), after the time it was written
 * (UTC, milliseconds): access lines, the tools' errors, the summary.
 */
void ev_log(struct ev_server *srv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ev_log_close(struct ev_server *srv);
/* "1.234 s" of milliseconds, for log lines. */
const char *ev_duration(char *buf, size_t len, int64_t ms);

/* After the tool's teardown: out of its slot and the runnable list, freed after this turn. */
void ev_conn_drop(struct ev_server *srv, struct ev_conn *c);
/* Step it again after the next look at epoll (once, however often queued). */
void ev_conn_queue(struct ev_server *srv, struct ev_conn *c);

#endif
