/* SPDX-License-Identifier: MIT */
/*
 * nic mode: fixed roles on a second host.  `copylab sink --listen A:P` and
 * `copylab source --listen A:P` are daemons there; `copylab run --transport
 * nic --peer H:P[,H:P]` drives them, one run at a time, over a control
 * channel on the same port: 4-byte big-endian length + one JSON object,
 * at most REMOTE_MSG_MAX bytes.  The conversation of one repetition:
 *
 *   driver -> {"op":"hello","version":1}
 *   daemon -> {"ok":true,"daemon":"sink","version":1,"pid":P,"nonce":"<64 hex>"}
 *   driver -> {"op":"auth","mac":"<64 hex>"}  (remote_auth.h: HMAC of the nonce under the key)
 *   daemon -> {"ok":true,"daemon":"sink","version":1,"pid":P}
 *   driver -> {"op":"run","version":1,"role":"sink","scenario":"serve",
 *              "size":N,"block":B,"sndbuf":0,"rcvbuf":0,"nodelay":false,
 *              "discard":false,"close_at":-1}
 *   daemon -> {"ok":true,"token":"<32 hex>"}   (payload and hashes built)
 *   driver    opens the data connection to the same address and port and
 *             writes the 32-byte token first; the stream follows
 *   driver -> {"op":"go"}                       (at the barrier's release)
 *   daemon -> {"op":"result","status":0,"bytes":N,"verify":"ok",
 *              "digest":"0x..","note":"","first_bad_offset":null,
 *              "cpu_user_s":..,"cpu_sys_s":..,"ctx_voluntary":..,...}
 *
 * Anything malformed, oversized, out of order, unproved (a run before the
 * key's proof) or over the daemon's --max-size gets {"ok":false,
 * "error":"..."} and the connection is closed.  A daemon started with
 * --insecure-no-auth sends no nonce, and the driver skips auth.  The
 * limits and deadlines are in docs/threat-model-nic.md.  Every message, either way, is parsed and
 * checked by ctl_parse (harness/engine/control.h).  A driver that hangs up its
 * control channel mid-run (killed, stopped) ends the run at once: the
 * daemon watches the channel while it waits for data and while it moves it.
 */
#ifndef COPYLAB_REMOTE_H
#define COPYLAB_REMOTE_H

#include "control.h"
#include "remote_auth.h"
#include "rep.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct remote;

/*
 * Parses "HOST:PORT[,HOST:PORT]" ([v6]:port allowed), asks each daemon
 * what it serves (hello), proves key to it (copylab run's --key, read
 * while the options were parsed; NULL: none), and keeps them.  0 or
 * -errno; err says which peer failed and why.
 */
int remote_open(const char *peers, const struct remote_key *key, struct remote **out, char *err, size_t errlen);
void remote_close(struct remote *r);
/* The peer that serves kind ("HOST:PORT"), or NULL. */
const char *remote_peer_for(const struct remote *r, enum role_kind kind);
/* The first peer, for transport_facts(TR_NIC, ...). */
const char *remote_first_peer(const struct remote *r);

/*
 * Whether r has a daemon for every fixed role of scenario sc (echo's client
 * cannot be far).  0, or -EINVAL/-EOPNOTSUPP with err: a usage error.
 */
int remote_check_scenario(const struct remote *r, enum scenario sc, char *err, size_t errlen);

/*
 * One repetition's far role: sends the run parameters, makes the data
 * connection.  *data_fd is the local end of the stream (the tested role's
 * out_fd toward a far sink, its in_fd from a far source), *ctl_fd the
 * control channel that remote_role_main() finishes with.  In the parent,
 * before the roles fork.  0 or -errno with err saying what failed.
 */
int remote_role_begin(const struct remote *r, enum role_kind kind, const struct run_config *c,
		      int *data_fd, int *ctl_fd, char *err, size_t errlen);

/*
 * The local stand-in of a far role, run in the role's forked process
 * instead of role_main(): reports ready, waits for the barrier, sends
 * "go", waits for the far result and reports it as the role's own (its
 * t_end_ns is when the result arrived).  Never returns.
 */
void remote_role_main(const struct role_ctx *ctx, int ctl_fd) __attribute__((noreturn));

/* The daemons: `copylab sink` / `copylab source` (harness/cli/daemon.c). */
struct remote_daemon_config {
	enum role_kind kind;
	const char *listen_addr;
	int max_runs;			/* exit after this many runs; 0: never */
	bool verbose;
	const struct remote_key *key;	/* NULL: --insecure-no-auth */
	uint64_t max_size;		/* a larger run is refused before any allocation */
	int run_timeout_s;		/* the least time a run is given (--run-timeout) */
};

/*
 * A run's overall deadline, in ms from its run message: run_timeout_s, or
 * longer for a size that needs it at REMOTE_MIN_RATE.
 */
#define REMOTE_MIN_RATE 1000000ull	/* bytes/s */
int64_t remote_run_budget_ms(uint64_t size, int run_timeout_s);

/* 0 stopped, 1 cannot listen, 2 a bad --listen. */
int remote_daemon(const struct remote_daemon_config *dc);

/* ---- framing, shared by both sides (and the tests) ---- */

/*
 * One message: 0, or -errno (-EMSGSIZE over the cap; remote_recv: -EPROTO
 * when ctl_parse refuses it, -EPIPE at EOF, -ETIMEDOUT), with err.
 */
int remote_send(int fd, const struct ctl_msg *msg);
int remote_recv(int fd, struct ctl_msg *msg, int timeout_ms, char *err, size_t errlen);

#endif
