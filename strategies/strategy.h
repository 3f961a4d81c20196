/* SPDX-License-Identifier: MIT */
/*
 * The strategy interface: one const struct strategy per file in strategies/,
 * listed once in strategies/list.h.  A strategy moves bytes for the role
 * under test; the harness owns processes, descriptors, timing and
 * verification.  Strategies never print and never exit: they return a
 * negative errno and name the failing syscall in xfer->failed_call.
 */
#ifndef COPYLAB_STRATEGY_H
#define COPYLAB_STRATEGY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The data paths.  Order is the order `copylab list` prints them in. */
enum scenario {
	SC_SERVE,	/* file -> socket */
	SC_SEND,	/* memory -> socket */
	SC_RELAY,	/* socket -> socket */
	SC_FANOUT,	/* socket -> socket + file */
	SC_STORE,	/* socket -> file */
	SC_COPY,	/* file -> file */
	SC_ECHO,	/* socket -> same socket */
	SC_PIPE,	/* memory -> pipe (a fixed reader drains it) */
	SC_RECV,	/* socket -> memory (the role uses the bytes where it received them) */
	SC_COUNT
};

/* What an endpoint of the role under test is. */
enum endpoint_kind {
	EP_NONE,
	EP_FILE,	/* regular file */
	EP_SOCKET,	/* stream socket (TCP or AF_UNIX) */
	EP_PIPE,	/* pipe (write end for output) */
	EP_MEMORY,	/* application memory: input xfer->mem; output handed to xfer->use */
};

/*
 * Tunables a strategy may accept.  Each strategy lists the ones it honours
 * in .tunables; asking for one it does not honour is a usage error, so a
 * figure never claims a flag that was silently ignored.
 */
enum tunable_bit {
	TUN_PIPE_SIZE	= 1u << 0,	/* F_SETPIPE_SZ on the strategy's own pipes */
	TUN_MORE	= 1u << 1,	/* SPLICE_F_MORE on splices toward a socket */
	TUN_MOVE	= 1u << 2,	/* SPLICE_F_MOVE (a hint; kept for teaching) */
	TUN_GIFT	= 1u << 3,	/* SPLICE_F_GIFT on vmsplice */
	TUN_HUGEPAGES	= 1u << 4,	/* madvise(MADV_HUGEPAGE) on the strategy's memory */
	TUN_POPULATE	= 1u << 5,	/* MAP_POPULATE on mmap (faults taken up front) */
	TUN_RING	= 1u << 6,	/* io_uring: submission queue entries (ring=N) */
	TUN_BATCH	= 1u << 7,	/* io_uring: slots, so operations in flight (batch=N) */
	TUN_SQPOLL	= 1u << 8,	/* io_uring: IORING_SETUP_SQPOLL, a kernel thread submits */
	TUN_TRUNC	= 1u << 9,	/* recv(MSG_TRUNC): the kernel discards, nothing is copied or seen */
	TUN_BUSY	= 1u << 10,	/* spin on EAGAIN instead of sleeping in poll(); SO_BUSY_POLL on sockets */
};

struct tunables {
	uint32_t set;		/* enum tunable_bit: which were asked for */
	size_t pipe_size;	/* requested; 0 = kernel default */
	bool more, move, gift, hugepages, populate;
	bool nonblock;		/* descriptors are O_NONBLOCK; move may return -EAGAIN */
	unsigned ring_entries;	/* TUN_RING: io_uring SQ size; 0 = the strategy's default */
	unsigned batch;		/* TUN_BATCH: io_uring slots in flight; 0 = the strategy's default */
	bool sqpoll;		/* TUN_SQPOLL (the bit in .set says it as well) */
	bool trunc;		/* TUN_TRUNC */
	/*
	 * TUN_BUSY: descriptors are non-blocking and the drive loop calls
	 * move again at once after -EAGAIN instead of waiting in poll(), as
	 * Mazzoli's last pipe step and the kernel's busy-poll tests do.
	 */
	bool busy;
};

/* Counters a strategy keeps of its own calls (cheap; no tracing needed). */
struct io_counters {
	uint64_t calls;		/* data-moving syscalls issued */
	uint64_t short_ops;	/* calls that moved less than asked (>0) */
	uint64_t eagain;	/* calls that returned EAGAIN */
	uint64_t eintr;		/* calls interrupted by a signal */
};

/*
 * What a zero-copy send strategy (MSG_ZEROCOPY, io_uring send_zc) learns
 * from its completions: how many sends the kernel really did without
 * copying and how many it copied anyway (SO_EE_CODE_ZEROCOPY_COPIED, as on
 * loopback).  `reported` says the strategy fills these; others leave it 0.
 */
struct zerocopy_counters {
	bool reported;
	uint64_t sends;		/* zero-copy sends issued */
	uint64_t completions;	/* notifications reaped */
	uint64_t copied;	/* of those sends, ones the kernel copied */
	uint64_t bytes_copied;	/* their bytes, where known */
	uint64_t bytes;		/* bytes the zero-copy sends took, copied or not */
};

/*
 * What a zero-copy receive strategy (TCP_ZEROCOPY_RECEIVE) delivered, and
 * how: bytes whose pages were mapped into its memory, bytes the kernel
 * copied into its small copy buffer (the unaligned remainder), and bytes
 * it had to read() (the kernel's recv_skip_hint: data in frames that are
 * not whole pages).  `reported` says the strategy fills these.
 */
struct zcrecv_counters {
	bool reported;
	uint64_t bytes_mapped;
	uint64_t bytes_copybuf;
	uint64_t bytes_read;
	uint64_t maps;		/* getsockopt(TCP_ZEROCOPY_RECEIVE) calls */
	uint64_t unmaps;	/* madvise(MADV_DONTNEED) calls over the ring */
};

/* One descriptor and the events the strategy waits for on it. */
struct wait_on {
	int fd;			/* -1: unused */
	short events;		/* POLLIN / POLLOUT */
};

/*
 * One transfer, as the role under test sees it.  The harness fills the
 * endpoint fields and calls setup once, move until it returns 0, then
 * teardown.  Offsets and bookkeeping of the transfer belong to the strategy
 * (in priv); `moved` is what it has delivered to its (first) output.
 */
struct xfer {
	enum scenario scenario;
	enum endpoint_kind in_kind, out_kind;
	int in_fd;		/* file, socket or -1 for memory */
	int out_fd;		/* socket, file or pipe write end */
	int out2_fd;		/* fanout's second destination (a file), else -1 */
	const unsigned char *mem;	/* EP_MEMORY input: the whole payload */
	uint64_t total;		/* bytes to move from a file or memory input;
				 * UINT64_MAX for a socket (until EOF) */
	size_t block;		/* bytes per call */
	/*
	 * echo --response: the bytes answered for every `block` received (a
	 * request), the answer being the request's bytes over and over to
	 * that length; 0: every byte is sent back as it came (an echo).
	 */
	size_t answer;
	struct tunables tun;

	uint64_t moved;		/* bytes delivered to out_fd so far */
	struct io_counters io;
	struct wait_on wait[2];	/* set before returning -EAGAIN */
	const char *failed_call;	/* syscall that failed, set with an error */
	size_t pipe_granted;	/* pipe size actually granted, 0 if no pipe */
	bool thp_granted;	/* huge pages backed the strategy's memory */
	struct zerocopy_counters zc;	/* zero-copy strategies only */
	struct zcrecv_counters zcr;	/* zero-copy receive strategies only */
	void *priv;		/* the strategy's own state (priv_size bytes, zeroed) */
	/*
	 * File input only: the offset in the file where the transfer starts
	 * (the bytes in_offset .. in_offset + total are moved).  0 in the
	 * harness's runs; `copylab serve` sets it for a Range request.
	 */
	uint64_t in_offset;
	/*
	 * The output socket's next MSG_ZEROCOPY sequence number, in and out.
	 * The kernel numbers every zero-copy send of a socket from 0 for its
	 * whole life, so a completion names sends by that count: a transfer
	 * on a socket that earlier transfers used (copylab serve's keep-alive)
	 * must start from where they stopped.  0 on a fresh socket; a
	 * zero-copy strategy leaves the next number here when it stops, and
	 * the owner of the socket passes it to the socket's next transfer.
	 */
	uint32_t zc_next_seq;
	/* Set by xfer_begin once the state is allocated: xfer_end has work. */
	bool begun;
	/*
	 * EP_MEMORY output (recv): the role's use of the bytes, where the
	 * strategy received them (its buffer, its mapped pages).  The strategy
	 * calls it (through io_use) with each piece in stream order before
	 * that memory is reused; 0, or a negative errno that fails the
	 * transfer.  NULL: the bytes are only counted (a unit test's choice).
	 */
	int (*use)(void *arg, const unsigned char *p, size_t n);
	void *use_arg;
	/*
	 * Set by a strategy that, by design, delivers bytes nobody sees
	 * (MSG_TRUNC: the kernel discards them): the sentence says so, and
	 * the role reports the transfer unverified instead of judging it.
	 */
	const char *unseen;
};

/*
 * What the harness gives a strategy whose role under test is kernel
 * configuration instead of a process (nat: DNAT rules in a router
 * namespace).  The harness makes the path and the sink's listener; the
 * strategy configures the kernel so that a connection to front reaches
 * back, and removes what it made.  Addresses and ports in network order.
 */
struct kernel_path {
	enum scenario scenario;
	const char *netns;		/* where the configuration goes (ip netns name) */
	char table[64];			/* the name the strategy gives what it makes (copylab-<pid>-...) */
	uint32_t front_addr;		/* where the source connects */
	uint16_t front_port;
	uint32_t back_addr;		/* the sink's listener */
	uint16_t back_port;
	/*
	 * Runs argv (a tool, e.g. nft) inside netns: 0, or -1 with err set
	 * (the tool's own message).  Given by the harness, so a strategy
	 * neither forks nor prints.
	 */
	int (*exec_in_netns)(struct kernel_path *k, char *const argv[]);
	char err[320];
	const char *failed_call;	/* set with an error: "nft add table" */
	bool configured;		/* set by configure, cleared by unconfigure */
};

/* Per-scenario capability: supported, or the one-sentence reason why not. */
struct scenario_support {
	bool ok;
	const char *why_not;
};

struct strategy {
	const char *name;
	const char *summary;		/* one line: what it does */
	/*
	 * What choosing it asks of the kernel and of the application beyond
	 * what its figures show (kernel version, limits, privileges): `needs`
	 * everywhere, `caveat[sc]` in one scenario.  One sentence each;
	 * `copylab advise` prints them beside its ranking and `copylab
	 * explain` beside the support table, so the two say the same.
	 */
	const char *needs;
	const char *caveat[SC_COUNT];
	struct scenario_support support[SC_COUNT];
	uint32_t tunables;		/* enum tunable_bit it honours */
	/*
	 * Optional: the label's tunables against each other and the
	 * strategy's limits (io_uring's ring= and batch=).  The label parser
	 * calls it, so a value setup would refuse is a usage error before
	 * anything runs.  0, or -EINVAL with why set to the rule as a sentence.
	 */
	int (*check_tunables)(const struct tunables *t, char *why, size_t len);
	size_t priv_size;

	/* Prepare (pipes, mappings).  Runs before the barrier. */
	int (*setup)(struct xfer *x);
	/*
	 * Move as much as can be moved now.  Returns >0 when it made progress,
	 * 0 when the transfer is complete (input exhausted and every byte
	 * delivered to every output), -EAGAIN after setting x->wait when it
	 * cannot progress without blocking, or another negative errno with
	 * x->failed_call set.  -EINTR is retried by the harness.
	 */
	ssize_t (*move)(struct xfer *x);
	/* Release what setup made.  Runs on every path, also after errors. */
	void (*teardown)(struct xfer *x);
	/*
	 * Optional: begin the next transfer on what setup made, after one that
	 * ended (move returned 0) — copylab serve's next response on a
	 * kept-alive connection — instead of a teardown and a setup: an
	 * io_uring ring or a ring of zero-copy buffers costs more to make than
	 * a small response takes to send.  xfer_next has set the new in_fd,
	 * in_offset, total and block and cleared the progress.  0; -ENOSPC when
	 * what setup made does not fit (a larger block): the caller then tears
	 * down and sets up anew; another negative errno on failure.
	 */
	int (*rearm)(struct xfer *x);
	/*
	 * NULL when the strategy works over AF_UNIX stream sockets as over
	 * TCP; otherwise the one sentence why not (the support table is per
	 * scenario; this is the transport's exception).  setup() refuses such
	 * a socket with -EOPNOTSUPP all the same.
	 */
	const char *af_unix_why_not;
	/*
	 * echo with --response: NULL when, as echo's server, the strategy
	 * answers x->answer bytes for every x->block it receives (a server
	 * whose replies differ in size from its requests, as netperf's TCP_RR
	 * -r models); otherwise the one sentence why it cannot.  A strategy
	 * that does not set it must honour x->answer: the client verifies
	 * every answer, so one that echoed instead would fail, not mislead.
	 */
	const char *unequal_answer_why_not;
	/*
	 * Non-NULL when the strategy needs a privilege an ordinary user lacks
	 * (loading BPF: root or CAP_BPF): the sentence says which.  `--strategy
	 * all` leaves it out for an unprivileged user; asking for it names why.
	 */
	const char *needs_privilege;
	/*
	 * Non-NULL when move() may wait on a descriptor of its own besides the
	 * transfer's sockets and files (an io_uring ring, a timer, a socket's
	 * error queue): the sentence says which.  The harness polls whatever
	 * x->wait names; copylab serve and copylab relay give such a
	 * descriptor an epoll entry beside the connection's sockets.  An event
	 * loop that watched only its connections' sockets could not drive it.
	 */
	const char *waits_beyond_sockets;
	/*
	 * Non-NULL when the strategy runs over one transport only (its name as
	 * --transport spells it); elsewhere_why_not says why not elsewhere.
	 * `--strategy all` leaves it out on the others, `copylab list` shows why.
	 */
	const char *only_transport;
	const char *elsewhere_why_not;
	/*
	 * Non-NULL when no process plays the role under test: kernel
	 * configuration does its job (the sentence says what).  The harness
	 * then forks no process for that role, connects the fixed roles to
	 * each other through the path configure() sets up (its setup and move
	 * only refuse, with -EOPNOTSUPP), and
	 * says so in the record (role_absent).  unconfigure runs on every
	 * path, also after errors.
	 */
	const char *role_replaced_by;
	/*
	 * Non-NULL when the role's process exists but the bytes move in
	 * kernel context charged to whoever is on the CPU (softirq,
	 * kworkers): its own CPU figure understates the cost, and the
	 * sentence says why.  Reports judge such a strategy by the whole
	 * machine's CPU.
	 */
	const char *cpu_elsewhere;
	int (*configure)(struct kernel_path *k);
	void (*unconfigure)(struct kernel_path *k);
	/*
	 * true when `block` only caps each call and the strategy keeps no
	 * buffer of that size in user memory (sendfile, splice: the bytes stay
	 * in the kernel).  A long-lived tool may then ask for large calls at no
	 * memory cost per connection; `copylab serve` and `copylab relay` do.
	 */
	bool no_user_buffer;
};

static inline bool strategy_supports(const struct strategy *s, enum scenario sc)
{
	return sc < SC_COUNT && s->support[sc].ok;
}

/* Registry (strategies/registry.c, generated from strategies/list.h). */
extern const struct strategy *const strategy_table[];
extern const size_t strategy_count;
const struct strategy *strategy_find(const char *name);

/*
 * Where a caller means to run a strategy.  Every caller (copylab run and
 * bench, serve, relay, copy, claims) asks strategy_refusal with one of these,
 * so that which strategy may run where is decided in one place, from the
 * strategy's table.
 */
struct strategy_place {
	enum scenario scenario;
	const char *transport;	/* as --transport spells it; NULL: the place has no sockets */
	bool af_unix;		/* the role's sockets are AF_UNIX (unix; userstack's shim socket) */
	bool own_process;	/* a tool runs the strategy itself: a role that kernel
				 * configuration replaces cannot be played there */
	int privileged;		/* 1 root, 0 not; -1: not judged here (the tool tries
				 * setup and names the call that failed) */
	bool unequal_answer;	/* echo answers a size other than the request's (--response) */
};

enum refusal_kind {
	REFUSE_NONE,
	REFUSE_SCENARIO,	/* the strategy's table says no for this scenario */
	REFUSE_TRANSPORT,	/* not over this transport */
	REFUSE_PROCESS,		/* no process plays its role; this place needs one */
	REFUSE_PRIVILEGE,	/* it needs a privilege the caller lacks */
	REFUSE_ANSWER,		/* it cannot answer a size other than the request's */
};

struct refusal {
	enum refusal_kind kind;
	const char *why;	/* one sentence; NULL with REFUSE_NONE */
};

struct refusal strategy_refusal(const struct strategy *s, const struct strategy_place *where);

#endif
