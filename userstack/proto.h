/* SPDX-License-Identifier: MIT */
/*
 * The wire protocol between the shim (libcopylab-stack.so, in the
 * application) and copylab stackd (lwIP).  Each shimmed TCP socket is a
 * real AF_UNIX stream socket whose other end stackd holds: the application
 * polls, forks and execs with a real fd.  Requests and replies travel on a
 * separate per-process control connection as fixed-size records; a
 * connection may name only the sockets it made, or whose fd it passed with
 * US_LOOKUP (others: EPERM; docs/threat-model-stackd.md).  No lwIP
 * and no <netinet/tcp.h> here: both sides include it (see the TCP_MSS clash
 * in docs/strategies/userstack.md).
 */
#ifndef COPYLAB_USERSTACK_PROTO_H
#define COPYLAB_USERSTACK_PROTO_H

#include <stdint.h>

/* Environment the `copylab stack` wrapper sets for the shim. */
#define US_ENV_SOCKET "COPYLAB_STACK_SOCKET"	/* stackd's control socket path */
#define US_ENV_PATH "COPYLAB_STACK_PATH"	/* data path: ipc (default) or shm */

/* Where stackd puts its control socket: copylab-<pid>-NAME.sock. */
#define US_SOCKET_DIR "/run/copylab"

/* The subnet inside stackd's namespace: the TAP's kernel side and lwIP. */
#define US_KERNEL_ADDR "10.214.0.1"
#define US_STACK_ADDR "10.214.0.2"
#define US_PREFIX_LEN 24
#define US_TAP_NAME "copylab-tap"

enum us_op {
	US_SOCKET = 1,	/* -> fd (SCM_RIGHTS), id; a = data path (US_DATA_*) */
	US_BIND,	/* id, addr, port */
	US_LISTEN,	/* id, a = backlog */
	US_CONNECT,	/* id, addr, port; replied when lwIP connected or failed */
	US_STATUS,	/* id -> val: US_ST_*; err -ECONNRESET after a reset */
	US_NAME,	/* id -> addr/port (local), raddr/rport (peer) */
	US_SETOPT,	/* id, a = US_OPT_*, val */
	US_GETOPT,	/* id, a = US_OPT_* -> val */
	US_LOOKUP,	/* the fd itself (SCM_RIGHTS) -> id: a socket this connection did not make */
};

enum us_data_path { US_DATA_IPC = 0, US_DATA_SHM = 1 };

enum us_state { US_ST_OPEN = 0, US_ST_EOF = 1 };

enum us_opt {
	US_OPT_NODELAY = 1,
	US_OPT_KEEPALIVE,
	US_OPT_REUSEADDR,
	US_OPT_MAXSEG,
	US_OPT_ERROR,
};

struct us_req {
	uint32_t op, id;
	int32_t a;
	uint32_t addr;		/* network byte order */
	uint16_t port;		/* host byte order */
	uint16_t pad;
	uint64_t ino;
	int64_t val;
};

struct us_rep {
	int32_t err;		/* 0 or -errno */
	uint32_t id;
	uint32_t addr, raddr;	/* network byte order */
	uint16_t port, rport;
	uint32_t data_path;	/* of the socket US_LOOKUP found */
	int64_t val;
	uint64_t ino;		/* of the fd passed with the reply */
};

/*
 * What a listening socket's fd carries: one record per accepted connection,
 * with that connection's fd attached (SCM_RIGHTS).
 */
struct us_accept_rec {
	uint32_t id;
	uint32_t raddr;
	uint16_t rport;
	uint16_t pad;
	uint32_t data_path;
	uint64_t ino;
};

#endif
