// SPDX-License-Identifier: MIT
/*
 * copylab stackd: lwIP (Debian's liblwip, NO_SYS=0, the tcpip thread) over a
 * netif backend, serving any number of shimmed programs.  Each shimmed TCP
 * socket is one AF_UNIX stream pair: the program holds one end (its "socket"
 * fd), stackd the other, and moves bytes between that end and an lwIP pcb
 * (ipc path) or between a shared ring and the pcb (shm path, shm_ring.h).
 * Control requests arrive on per-process control connections (proto.h).
 *
 * lwIP's raw API under LOCK_TCPIP_CORE, not its sockets API: this build has
 * LWIP_NETCONN_FULLDUPLEX off (one thread may not read while another writes
 * the same socket) and lwip_poll cannot wait on a Unix fd beside lwIP's own.
 * Every socket's state is touched only with the core lock held, by the main
 * thread (epoll over the Unix fds) or by lwIP's callbacks (the netif's
 * receive thread, the tcpip thread's timers), so one lock orders them all;
 * nothing under it waits on a client (every Unix fd is nonblocking).
 *
 * stackd runs as root for whoever may reach its control socket: the user
 * who started it and an optional --group, by the socket's mode and by the
 * peer's credentials.  A connection acts only on the sockets it made or
 * proved it holds (docs/threat-model-stackd.md).
 */
#include "stackd.h"
#include "netif_backend.h"
#include "harness/net/xsk_port.h"
#include "proto.h"
#include "ctl_req.h"
#include "shm_ring.h"
#include "harness/net/netns.h"

#include "lwip/opt.h"
#include "lwip/init.h"
#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/sys.h"
#include "lwip/tcp.h"
#include "lwip/tcpip.h"
#include "netif/ethernet.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#define SOCK_SLOTS 4096		/* live shimmed sockets at most */
#define CTL_MAX 1024		/* control connections at most (fd numbers) */
#define STAGE_SIZE 65536	/* ipc: bytes read from the program per tcp_write batch */
#define RXQ_MAX 512		/* received pbuf chains waiting for the program */
#define RESETS_KEPT 1024
#define CTL_BATCH 16		/* requests taken from one connection per wakeup: the others get their turn */
#define CTL_LOG_MAX 8		/* refusals logged per connection: a hostile one cannot fill the log */

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif

enum ev_kind { EV_LISTEN = 0, EV_CTL = 1, EV_SOCK = 2, EV_SIGNAL = 3 };

struct ctl {
	int fd;
	bool open;
	struct ucred peer;	/* who connected (SO_PEERCRED), for the log */
	struct us_req_buf rb;	/* the request being read: it may arrive a byte at a time */
	int passed_fd;		/* an fd that came with that request (US_LOOKUP's proof), or -1 */
	unsigned logged;
	uint64_t holds[SOCK_SLOTS / 64];	/* by slot: the sockets this connection may act on */
};

struct sock {
	uint32_t id;
	int fd;			/* stackd's end of the pair */
	uint64_t ino, dev;	/* the program's end: US_LOOKUP compares the fd it is passed */
	int data_path;
	struct tcp_pcb *pcb;
	struct ctl *pending;	/* owed a US_CONNECT reply */
	bool listening, connecting, established;
	bool app_eof;		/* read EOF from the program: it shut down writing or closed */
	bool peer_eof;		/* the peer's FIN arrived */
	bool tx_shut, rx_shut;	/* FIN sent to the peer; EOF passed to the program */
	bool app_eof_pending;	/* shm: the program closed every copy; EOF once the tx ring is drained */
	bool registered;
	uint32_t events;
	uint32_t laddr, raddr;	/* network order */
	uint16_t lport, rport;
	/* Received, not yet taken by the program. */
	struct pbuf *rxq[RXQ_MAX];
	unsigned rxq_head, rxq_n;
	size_t rxq_off;
	/* ipc: read from the program, not yet accepted by tcp_write. */
	char *stage;
	size_t stage_len, stage_off;
	/* shm: the two rings, mapped from a memfd the program maps too. */
	struct shm_ring_pair *shm;
	size_t shm_len;
	int memfd;		/* kept: a program that execs maps it again (US_LOOKUP) */
};

static struct sock *socks[SOCK_SLOTS];
static uint32_t next_id = 1;
static struct ctl ctls[CTL_MAX];
static uint32_t resets[RESETS_KEPT];
static unsigned resets_next;
static int ep = -1;
static struct netif stack_netif;

/* Who may connect: root, the user who started stackd, and --group's members. */
static struct {
	uid_t owner;
	bool group_set;
	gid_t group;
} access_cfg;

/* What stackd made, for the cleanup on every exit path. */
static struct {
	char ns[128], sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	bool ns_made, sock_made;
	const struct netif_backend *be;
	pid_t owner;
} made;

static void stackd_cleanup(void)
{
	char err[256];

	if (made.owner != getpid())
		return;		/* a child (ip, via netns_cmd) exiting */
	if (made.be)
		made.be->close();
	made.be = NULL;
	if (made.sock_made)
		unlink(made.sock_path);
	made.sock_made = false;
	if (made.ns_made && netns_cmd(NULL, 0, err, sizeof(err), "ip", "netns", "del", made.ns, NULL))
		fprintf(stderr, "copylab: stackd: %s\n", err);
	made.ns_made = false;
}

/* --- the socket table -------------------------------------------------------- */

static struct sock *sock_find(uint32_t id)
{
	struct sock *s = id ? socks[id % SOCK_SLOTS] : NULL;

	return s && s->id == id ? s : NULL;
}

static void *id_arg(uint32_t id)
{
	return (void *)(uintptr_t)id;
}

static struct sock *sock_new(int data_path)
{
	struct sock *s;

	for (int tries = 0; tries < SOCK_SLOTS; tries++, next_id++) {
		if (!next_id)
			next_id = 1;
		if (socks[next_id % SOCK_SLOTS])
			continue;
		if (!(s = calloc(1, sizeof(*s))))
			return NULL;
		s->id = next_id++;
		s->fd = -1;
		s->memfd = -1;
		s->data_path = data_path;
		socks[s->id % SOCK_SLOTS] = s;
		return s;
	}
	return NULL;
}

static void sock_detach_pcb(struct sock *s)
{
	if (!s->pcb)
		return;
	tcp_arg(s->pcb, NULL);
	if (!s->listening) {
		tcp_recv(s->pcb, NULL);
		tcp_sent(s->pcb, NULL);
		tcp_err(s->pcb, NULL);	/* lwIP refuses an err callback on a listening pcb */
	} else {
		tcp_accept(s->pcb, NULL);
	}
}

/* Closes the pcb gracefully (FIN after what is queued) or, when told, with a RST. */
static void sock_release_pcb(struct sock *s, bool reset)
{
	if (!s->pcb)
		return;
	sock_detach_pcb(s);
	if (reset || tcp_close(s->pcb) != ERR_OK)
		tcp_abort(s->pcb);
	s->pcb = NULL;
}

static void ctl_reply(struct ctl *c, const struct us_rep *rep);

static void sock_free(struct sock *s)
{
	sock_release_pcb(s, false);
	if (s->pending) {
		struct us_rep rep = { .err = -ECONNABORTED, .id = s->id };

		ctl_reply(s->pending, &rep);
	}
	if (s->fd >= 0)
		close(s->fd);	/* leaves epoll with it */
	while (s->rxq_n) {
		pbuf_free(s->rxq[s->rxq_head]);
		s->rxq_head = (s->rxq_head + 1) % RXQ_MAX;
		s->rxq_n--;
	}
	if (s->shm)
		munmap(s->shm, s->shm_len);
	if (s->memfd >= 0)
		close(s->memfd);
	free(s->stage);
	/* The slot's next socket is not this one: nobody holds it yet. */
	for (unsigned i = 0; i < CTL_MAX; i++)
		ctls[i].holds[(s->id % SOCK_SLOTS) / 64] &= ~(1ull << (s->id % 64));
	socks[s->id % SOCK_SLOTS] = NULL;
	free(s);
}

static bool ctl_holds(const struct ctl *c, const struct sock *s)
{
	unsigned k = s->id % SOCK_SLOTS;

	return c->holds[k / 64] >> (k % 64) & 1;
}

static void ctl_grant(struct ctl *c, const struct sock *s)
{
	unsigned k = s->id % SOCK_SLOTS;

	c->holds[k / 64] |= 1ull << (k % 64);
}

static void reset_remember(uint32_t id)
{
	resets[resets_next++ % RESETS_KEPT] = id;
}

static bool reset_known(uint32_t id)
{
	for (unsigned i = 0; i < RESETS_KEPT; i++)
		if (resets[i] == id)
			return true;
	return false;
}

static int err_errno(err_t e)
{
	switch (e) {
	case ERR_OK: return 0;
	case ERR_MEM: return ENOMEM;
	case ERR_BUF: return ENOBUFS;
	case ERR_TIMEOUT: return ETIMEDOUT;
	case ERR_RTE: return EHOSTUNREACH;
	case ERR_INPROGRESS: return EINPROGRESS;
	case ERR_VAL: return EINVAL;
	case ERR_WOULDBLOCK: return EWOULDBLOCK;
	case ERR_USE: return EADDRINUSE;
	case ERR_ALREADY: return EALREADY;
	case ERR_ISCONN: return EISCONN;
	case ERR_CONN: return ENOTCONN;
	case ERR_IF: return EIO;
	case ERR_ABRT: return ECONNABORTED;
	case ERR_RST: return ECONNRESET;
	case ERR_CLSD: return ENOTCONN;
	case ERR_ARG: return EINVAL;
	default: return EIO;
	}
}

/* --- epoll interest ------------------------------------------------------------ */

static bool tx_room(struct sock *s)
{
	return s->pcb && tcp_sndbuf(s->pcb) > 0 && tcp_sndqueuelen(s->pcb) < TCP_SND_QUEUELEN - 4;
}

static bool tx_pending(struct sock *s)
{
	if (s->data_path == US_DATA_SHM)
		return s->shm && shm_ring_used(&s->shm->tx) > 0;
	return s->stage_off < s->stage_len;
}

/*
 * What the main thread waits for on s->fd.  EPOLLHUP (the program closed
 * every copy) comes whatever the mask, so a socket that must not be read
 * now (lwIP's send buffer is full, the program has data queued) leaves
 * epoll until lwIP's sent callback makes room, or HUP would spin.
 */
static void sock_interest(struct sock *s)
{
	uint32_t want = 0;
	bool blocked = false;

	if (s->fd < 0)
		return;
	if (s->data_path == US_DATA_SHM) {
		/* Doorbells: the program wrote into the tx ring or made room in the rx ring. */
		if (s->established) {
			bool tx_stuck = tx_pending(s) && !tx_room(s);

			if ((!s->app_eof && !tx_stuck) || s->rxq_n)
				want = EPOLLIN;
			else if (tx_stuck)
				blocked = true;
		}
	} else {
		if (s->established && !s->app_eof) {
			if (tx_room(s) && !tx_pending(s))
				want |= EPOLLIN;
			else
				blocked = true;
		}
		if (s->rxq_n)
			want |= EPOLLOUT;
	}
	if (blocked && !want) {
		if (s->registered)
			epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
		s->registered = false;
		return;
	}
	if (s->registered && want == s->events)
		return;
	struct epoll_event ev = { .events = want, .data.u64 = ((uint64_t)s->id << 2) | EV_SOCK };

	if (epoll_ctl(ep, s->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s->fd, &ev) == 0) {
		s->registered = true;
		s->events = want;
	}
}

/* --- moving bytes: peer -> program ------------------------------------------------ */

static void sock_recved(struct sock *s, size_t n)
{
	while (n && s->pcb) {
		u16_t chunk = n > 0xffff ? 0xffff : (u16_t)n;

		tcp_recved(s->pcb, chunk);
		n -= chunk;
	}
}

static void sock_finish_if_done(struct sock *s);

/* Copies what fits of chain p, from byte off on, into ring r. */
static size_t ring_put_pbuf(struct shm_ring *r, struct pbuf *p, size_t off)
{
	size_t put = 0;

	for (struct pbuf *q = p; q; q = q->next) {
		size_t n, want;

		if (off >= q->len) {
			off -= q->len;
			continue;
		}
		want = q->len - off;
		n = shm_ring_put(r, (char *)q->payload + off, want);
		put += n;
		off = 0;
		if (n < want)
			break;
	}
	return put;
}

/* Passes the queued pbufs to the program: a writev to the pair (ipc) or a copy into the rx ring (shm). */
static int sock_flush_rx(struct sock *s)
{
	size_t delivered = 0;

	while (s->rxq_n) {
		struct pbuf *head = s->rxq[s->rxq_head];
		size_t off = s->rxq_off;
		ssize_t w;

		if (s->data_path == US_DATA_SHM) {
			w = (ssize_t)ring_put_pbuf(&s->shm->rx, head, off);
			if (w == 0) {
				/* Full: the program's read rings us when it has made room. */
				shm_ring_arm(&s->shm->rx, SHM_WAITER_STACK);
				if (!shm_ring_room(&s->shm->rx))
					break;
				continue;
			}
		} else {
			struct iovec iov[64];
			int n = 0;
			size_t skip = off;

			for (struct pbuf *q = head; q && n < 64; q = q->next) {
				if (skip >= q->len) {
					skip -= q->len;
					continue;
				}
				iov[n++] = (struct iovec){ (char *)q->payload + skip, q->len - skip };
				skip = 0;
			}
			w = writev(s->fd, iov, n);
			if (w < 0) {
				if (errno == EAGAIN || errno == EINTR)
					break;
				return -errno;	/* EPIPE: the program is gone */
			}
		}
		delivered += (size_t)w;
		s->rxq_off += (size_t)w;
		if (s->rxq_off == head->tot_len) {
			pbuf_free(head);
			s->rxq_head = (s->rxq_head + 1) % RXQ_MAX;
			s->rxq_n--;
			s->rxq_off = 0;
		}
	}
	if (delivered && s->data_path == US_DATA_SHM)
		shm_ring_wake(&s->shm->rx, s->fd, SHM_WAITER_APP);
	sock_recved(s, delivered);
	if (!s->rxq_n && s->peer_eof && !s->rx_shut) {
		s->rx_shut = true;
		if (s->data_path == US_DATA_SHM)
			shm_ring_close(&s->shm->rx, s->fd);
		else
			shutdown(s->fd, SHUT_WR);
	}
	return 0;
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct sock *s = sock_find((uint32_t)(uintptr_t)arg);

	if (!s) {
		if (p)
			pbuf_free(p);
		tcp_arg(pcb, NULL);
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	if (!p) {
		s->peer_eof = true;
	} else if (s->rxq_n == RXQ_MAX) {
		return ERR_MEM;		/* lwIP keeps it and offers it again */
	} else {
		s->rxq[(s->rxq_head + s->rxq_n++) % RXQ_MAX] = p;
	}
	if (sock_flush_rx(s) < 0) {
		/* The program closed every copy of its fd: RST, as the kernel does for data after close. */
		sock_detach_pcb(s);
		tcp_abort(pcb);
		s->pcb = NULL;
		sock_free(s);
		return ERR_ABRT;
	}
	sock_interest(s);
	sock_finish_if_done(s);
	return ERR_OK;
}

/* --- moving bytes: program -> peer -------------------------------------------------- */

/* Reads what the program wrote (ipc) or takes it from the tx ring (shm) into tcp_write, as far as lwIP has room. */
static void sock_push_tx(struct sock *s)
{
	bool wrote = false;

	if (!s->pcb || !s->established)
		return;
	if (s->data_path == US_DATA_SHM) {
		size_t taken = 0;

		for (;;) {
			size_t room = tcp_sndbuf(s->pcb), n;
			const void *p;

			/* No room in lwIP: its sent callback brings us back, no doorbell needed. */
			if (!room || tcp_sndqueuelen(s->pcb) >= TCP_SND_QUEUELEN - 4)
				break;
			p = shm_ring_peek(&s->shm->tx, &n);
			if (!n) {
				/* Empty: armed before looking again, so a write after the look rings us. */
				shm_ring_arm(&s->shm->tx, SHM_WAITER_STACK);
				p = shm_ring_peek(&s->shm->tx, &n);
				if (!n)
					break;
			}
			if (n > room)
				n = room;
			if (n > 0xffff)
				n = 0xffff;
			if (tcp_write(s->pcb, p, (u16_t)n, TCP_WRITE_FLAG_COPY) != ERR_OK)
				break;
			shm_ring_consume(&s->shm->tx, n);
			taken += n;
			wrote = true;
		}
		/*
		 * The program sleeps only on a full ring: wake it when half is free,
		 * not after every ACK's worth (the kernel's AF_UNIX and TCP wake a
		 * blocked writer with the same kind of hysteresis).
		 */
		if (taken && shm_ring_room(&s->shm->tx) >= SHM_RING_SIZE / 2)
			shm_ring_wake(&s->shm->tx, s->fd, SHM_WAITER_APP);
		if (shm_ring_closed(&s->shm->tx) && !shm_ring_used(&s->shm->tx))
			s->app_eof = true;
	} else {
		for (;;) {
			if (s->stage_off == s->stage_len) {
				size_t room = tcp_sndbuf(s->pcb);
				ssize_t n;

				if (s->app_eof || !room || tcp_sndqueuelen(s->pcb) >= TCP_SND_QUEUELEN - 4)
					break;
				n = read(s->fd, s->stage, room < STAGE_SIZE ? room : STAGE_SIZE);
				if (n < 0 && (errno == EAGAIN || errno == EINTR))
					break;
				if (n <= 0) {
					s->app_eof = true;
					break;
				}
				s->stage_len = (size_t)n;
				s->stage_off = 0;
			}
			size_t want = s->stage_len - s->stage_off, room = tcp_sndbuf(s->pcb);

			if (!room)
				break;
			if (want > room)
				want = room;
			if (want > 0xffff)
				want = 0xffff;
			if (tcp_write(s->pcb, s->stage + s->stage_off, (u16_t)want, TCP_WRITE_FLAG_COPY) != ERR_OK)
				break;	/* ERR_MEM: the segment queue is full; lwIP's sent callback brings us back */
			s->stage_off += want;
			wrote = true;
		}
	}
	if (wrote)
		tcp_output(s->pcb);
	if (s->app_eof && !tx_pending(s) && !s->tx_shut) {
		s->tx_shut = true;
		tcp_shutdown(s->pcb, 0, 1);
	}
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct sock *s = sock_find((uint32_t)(uintptr_t)arg);

	if (!s)
		return ERR_OK;
	sock_push_tx(s);
	sock_interest(s);
	sock_finish_if_done(s);
	return ERR_OK;
}

/* Both directions ended and delivered: let lwIP finish the pcb, and forget the socket. */
static void sock_finish_if_done(struct sock *s)
{
	if (s->app_eof && s->tx_shut && s->peer_eof && s->rx_shut && !s->rxq_n)
		sock_free(s);
}

static void on_err(void *arg, err_t err)
{
	struct sock *s = sock_find((uint32_t)(uintptr_t)arg);

	if (!s)
		return;
	s->pcb = NULL;		/* lwIP has freed it */
	if (s->pending) {
		struct us_rep rep = { .err = err == ERR_RST ? -ECONNREFUSED : -err_errno(err), .id = s->id };
		struct ctl *c = s->pending;

		s->pending = NULL;
		ctl_reply(c, &rep);
	} else {
		reset_remember(s->id);
	}
	if (s->data_path == US_DATA_SHM && s->shm)
		shm_ring_reset(s->shm, s->fd);
	sock_free(s);
}

static void sock_names(struct sock *s)
{
	if (!s->pcb)
		return;
	s->laddr = ip_2_ip4(&s->pcb->local_ip)->addr;
	s->lport = s->pcb->local_port;
	if (!s->listening) {
		s->raddr = ip_2_ip4(&s->pcb->remote_ip)->addr;
		s->rport = s->pcb->remote_port;
	}
}

static void sock_callbacks(struct sock *s)
{
	tcp_arg(s->pcb, id_arg(s->id));
	tcp_recv(s->pcb, on_recv);
	tcp_sent(s->pcb, on_sent);
	tcp_err(s->pcb, on_err);
}

/* --- the program's end of a socket ------------------------------------------------ */

/*
 * The pair of a new socket, and for the shm path its memfd with the two
 * rings, mapped here; *client and *memfd go to the program.
 */
static int sock_make_pair(struct sock *s, int *client, int *memfd)
{
	int sv[2];
	struct stat st;

	*memfd = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -errno;
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	if (fstat(sv[1], &st) == 0) {
		s->ino = st.st_ino;
		s->dev = st.st_dev;
	}
	s->fd = sv[0];
	*client = sv[1];
	if (s->data_path == US_DATA_SHM) {
		int r = shm_ring_create(&s->shm, &s->shm_len, &s->memfd);

		if (r < 0) {
			close(sv[1]);
			*client = -1;
			return r;
		}
		*memfd = s->memfd;
	} else if (!(s->stage = malloc(STAGE_SIZE))) {
		close(sv[1]);
		*client = -1;
		return -ENOMEM;
	}
	return 0;
}

/* Sends rec (len bytes) on fd with fds[0..n) attached. */
static int send_with_fds(int fd, const void *rec, size_t len, const int *fds, int n, int flags)
{
	char cbuf[CMSG_SPACE(2 * sizeof(int))];
	struct iovec iov = { (void *)rec, len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (n) {
		memset(cbuf, 0, sizeof(cbuf));
		msg.msg_control = cbuf;
		msg.msg_controllen = CMSG_SPACE(n * sizeof(int));
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(n * sizeof(int));
		memcpy(CMSG_DATA(c), fds, n * sizeof(int));
	}
	return sendmsg(fd, &msg, MSG_NOSIGNAL | flags) == (ssize_t)len ? 0 : -errno;
}

static err_t on_accept(void *arg, struct tcp_pcb *newpcb, err_t err)
{
	struct sock *l = sock_find((uint32_t)(uintptr_t)arg), *s;
	struct us_accept_rec rec;
	int fds[2], nfds, client, memfd, r;

	if (!l || err != ERR_OK || !newpcb)
		return ERR_VAL;
	if (!(s = sock_new(l->data_path)))
		return ERR_MEM;
	if (sock_make_pair(s, &client, &memfd) < 0) {
		sock_free(s);
		return ERR_MEM;
	}
	s->pcb = newpcb;
	s->established = true;
	sock_callbacks(s);
	sock_names(s);
	memset(&rec, 0, sizeof(rec));
	rec.id = s->id;
	rec.raddr = s->raddr;
	rec.rport = s->rport;
	rec.data_path = (uint32_t)s->data_path;
	rec.ino = s->ino;
	fds[0] = client;
	fds[1] = memfd;
	nfds = memfd >= 0 ? 2 : 1;
	r = send_with_fds(l->fd, &rec, sizeof(rec), fds, nfds, MSG_DONTWAIT);
	close(client);
	if (r < 0) {
		/* The listener's queue is full or the program is gone: refuse this one. */
		sock_detach_pcb(s);
		s->pcb = NULL;
		sock_free(s);
		tcp_abort(newpcb);
		return ERR_ABRT;
	}
	tcp_backlog_accepted(newpcb);
	/* Whoever may act on the listener may act on what it accepts (a preforked server's children). */
	for (unsigned i = 0; i < CTL_MAX; i++)
		if (ctls[i].open && ctl_holds(&ctls[i], l))
			ctl_grant(&ctls[i], s);
	sock_interest(s);
	return ERR_OK;
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct sock *s = sock_find((uint32_t)(uintptr_t)arg);
	struct us_rep rep;

	if (!s)
		return ERR_VAL;
	s->connecting = false;
	s->established = true;
	sock_names(s);
	memset(&rep, 0, sizeof(rep));
	rep.id = s->id;
	rep.addr = s->laddr;
	rep.port = s->lport;
	rep.raddr = s->raddr;
	rep.rport = s->rport;
	if (s->pending) {
		struct ctl *c = s->pending;

		s->pending = NULL;
		ctl_reply(c, &rep);
	}
	sock_push_tx(s);
	sock_interest(s);
	return ERR_OK;
}

/* The main thread's work when s->fd is readable, writable or hung up. */
static void sock_event(struct sock *s, uint32_t events)
{
	if (s->listening || s->connecting || !s->established) {
		if (events & (EPOLLHUP | EPOLLERR)) {
			sock_release_pcb(s, s->connecting);
			sock_free(s);
		}
		return;
	}
	if (s->data_path == US_DATA_SHM) {
		/* Drained before looking at the rings: a doorbell rung after this is kept. */
		if (events & EPOLLIN)
			shm_ring_drain_doorbells(s->fd);
		if (events & (EPOLLHUP | EPOLLERR))
			s->app_eof_pending = true;
	}
	if (events & EPOLLOUT || (s->data_path == US_DATA_SHM && events & EPOLLIN)) {
		if (sock_flush_rx(s) < 0) {
			sock_release_pcb(s, true);
			sock_free(s);
			return;
		}
	}
	if (events & (EPOLLIN | EPOLLHUP))
		sock_push_tx(s);
	if (s->app_eof_pending && !tx_pending(s) && !s->app_eof) {
		/* shm: every copy of the program's fd is closed, and its ring is drained. */
		s->app_eof = true;
		sock_push_tx(s);
	}
	if (events & (EPOLLHUP | EPOLLERR) && s->app_eof && !tx_pending(s)) {
		/* Every copy of the program's fd is closed: what it did not read, it never will. */
		sock_release_pcb(s, s->rxq_n > 0);
		sock_free(s);
		return;
	}
	sock_interest(s);
	sock_finish_if_done(s);
}

/* --- control requests ---------------------------------------------------------------- */

static void ctl_close(struct ctl *c);

/* A refusal or a broken rule, in the log: a few per connection, so a hostile one cannot fill it. */
static void ctl_log(struct ctl *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ctl_log(struct ctl *c, const char *fmt, ...)
{
	va_list ap;

	if (c->logged++ >= CTL_LOG_MAX)
		return;
	fprintf(stderr, "copylab: stackd: connection of uid %u (pid %d): ", (unsigned)c->peer.uid, (int)c->peer.pid);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(c->logged == CTL_LOG_MAX ? " (further refusals on it are not logged)\n" : "\n", stderr);
}

/*
 * Replies never wait: a client that does not read them (its receive queue
 * holds hundreds) breaks the one-request-one-reply rule and is let go,
 * rather than stall every socket under the core lock.
 */
static int ctl_send(struct ctl *c, const void *rec, size_t len, const int *fds, int nfds)
{
	if (!c->open)
		return -ENOTCONN;
	if (send_with_fds(c->fd, rec, len, fds, nfds, MSG_DONTWAIT) == 0)
		return 0;
	ctl_log(c, "does not read its replies: closed");
	ctl_close(c);
	return -EAGAIN;
}

static void ctl_reply(struct ctl *c, const struct us_rep *rep)
{
	ctl_send(c, rep, sizeof(*rep), NULL, 0);
}

/* A request for a socket the daemon no longer has (or never had). */
static void ctl_gone(const struct us_req *q, struct us_rep *rep)
{
	if (q->op == US_STATUS) {
		/* Gone: finished cleanly, unless it ended in a reset. */
		rep->err = reset_known(q->id) ? -ECONNRESET : 0;
		rep->val = US_ST_EOF;
	} else {
		rep->err = reset_known(q->id) ? -ECONNRESET : -EBADF;
	}
}

/*
 * US_SOCKET: a new socket, replied with the program's end of its pair (and
 * the shm data path's memory).  True when it replied itself.
 */
static bool ctl_socket(struct ctl *c, const struct us_req *q, struct us_rep *rep)
{
	struct sock *s;
	int client, memfd, fds[2];

	if (q->a != US_DATA_IPC && q->a != US_DATA_SHM) {
		rep->err = -EINVAL;
		return false;
	}
	if (!(s = sock_new(q->a)) || !(s->pcb = tcp_new_ip_type(IPADDR_TYPE_V4))) {
		if (s)
			sock_free(s);
		rep->err = -ENOMEM;
		return false;
	}
	tcp_arg(s->pcb, id_arg(s->id));
	tcp_err(s->pcb, on_err);
	if ((rep->err = sock_make_pair(s, &client, &memfd)) < 0) {
		sock_free(s);
		return false;
	}
	sock_interest(s);
	rep->id = s->id;
	rep->ino = s->ino;
	rep->data_path = (uint32_t)s->data_path;
	fds[0] = client;
	fds[1] = memfd;
	if (ctl_send(c, rep, sizeof(*rep), fds, memfd >= 0 ? 2 : 1) < 0)
		sock_free(s);
	else
		ctl_grant(c, s);
	close(client);
	return true;
}

static void ctl_listen(struct sock *s, const struct us_req *q, struct us_rep *rep)
{
	struct tcp_pcb *l;
	err_t e = ERR_OK;

	if (s->listening)
		return;
	if (s->established || s->connecting) {
		rep->err = -EINVAL;
		return;
	}
	if (!s->lport && tcp_bind(s->pcb, IP4_ADDR_ANY, 0) != ERR_OK) {
		rep->err = -EADDRINUSE;
		return;
	}
	l = tcp_listen_with_backlog_and_err(s->pcb, (u8_t)(q->a > 0 && q->a < 255 ? q->a : 255), &e);
	if (!l) {
		rep->err = -err_errno(e);
		return;
	}
	s->pcb = l;
	s->listening = true;
	tcp_arg(l, id_arg(s->id));
	tcp_accept(l, on_accept);
	sock_names(s);
}

/* US_CONNECT: true when the reply is left to on_connected or on_err. */
static bool ctl_connect(struct ctl *c, struct sock *s, const struct us_req *q, struct us_rep *rep)
{
	ip_addr_t a = IPADDR4_INIT(q->addr);
	err_t e;

	if (s->established || s->listening) {
		rep->err = -EISCONN;
		return false;
	}
	if (s->connecting) {
		rep->err = -EALREADY;
		return false;
	}
	sock_callbacks(s);
	e = tcp_connect(s->pcb, &a, q->port, on_connected);
	if (e != ERR_OK) {
		rep->err = -err_errno(e);
		return false;
	}
	s->connecting = true;
	s->pending = c;
	return true;
}

static void ctl_setopt(struct sock *s, const struct us_req *q, struct us_rep *rep)
{
	if (!s->pcb) {
		rep->err = -EINVAL;
		return;
	}
	switch (q->a) {
	case US_OPT_NODELAY:
		if (q->val)
			tcp_nagle_disable(s->pcb);
		else
			tcp_nagle_enable(s->pcb);
		break;
	case US_OPT_KEEPALIVE:
	case US_OPT_REUSEADDR: {
		u8_t opt = q->a == US_OPT_KEEPALIVE ? SOF_KEEPALIVE : SOF_REUSEADDR;

		if (q->val)
			ip_set_option(s->pcb, opt);
		else
			ip_reset_option(s->pcb, opt);
		break;
	}
	default:
		rep->err = -ENOPROTOOPT;
	}
}

static void ctl_getopt(struct sock *s, const struct us_req *q, struct us_rep *rep)
{
	switch (q->a) {
	case US_OPT_NODELAY:
		rep->val = s->pcb && !s->listening ? !!tcp_nagle_disabled(s->pcb) : 0;
		break;
	case US_OPT_KEEPALIVE:
		rep->val = s->pcb ? !!ip_get_option(s->pcb, SOF_KEEPALIVE) : 0;
		break;
	case US_OPT_REUSEADDR:
		rep->val = s->pcb ? !!ip_get_option(s->pcb, SOF_REUSEADDR) : 0;
		break;
	case US_OPT_MAXSEG:
		rep->val = s->pcb && !s->listening ? tcp_mss(s->pcb) : TCP_MSS;
		break;
	case US_OPT_ERROR:
		rep->val = 0;
		break;
	default:
		rep->err = -ENOPROTOOPT;
	}
}

/*
 * US_LOOKUP: the socket behind a descriptor the shim did not create (after
 * exec, or passed by SCM_RIGHTS), found by the descriptor itself, which
 * the request carries: holding it is the proof that the caller may act on
 * that socket, which this connection may do from now on.  The shm data
 * path's memory goes with the reply.  True when it replied itself.
 */
static bool ctl_lookup(struct ctl *c, const struct us_req *q, struct us_rep *rep)
{
	struct stat st;
	struct sock *s = NULL;
	int type;
	socklen_t tl = sizeof(type);

	if (c->passed_fd < 0) {
		ctl_log(c, "US_LOOKUP without the descriptor itself (an inode number proves nothing): refused");
		rep->err = -EPERM;
		return false;
	}
	/* A socket first: fstat of a file on FUSE could wait on its server, and the core lock is held. */
	if (getsockopt(c->passed_fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 || fstat(c->passed_fd, &st) < 0) {
		rep->err = -ENOENT;
		return false;
	}
	for (unsigned i = 0; i < SOCK_SLOTS && !s; i++)
		if (socks[i] && socks[i]->ino == st.st_ino && socks[i]->dev == st.st_dev)
			s = socks[i];
	if (!s) {
		rep->err = -ENOENT;
		return false;
	}
	ctl_grant(c, s);
	rep->id = s->id;
	rep->ino = s->ino;
	rep->data_path = (uint32_t)s->data_path;
	rep->val = s->listening;
	if (s->memfd < 0)
		return false;
	ctl_send(c, rep, sizeof(*rep), &s->memfd, 1);
	return true;
}

static void ctl_request(struct ctl *c, const struct us_req *q)
{
	struct us_rep rep;
	struct sock *s = us_req_names_socket(q->op) ? sock_find(q->id) : NULL;
	ip_addr_t a = IPADDR4_INIT(q->addr);
	bool replied = false;
	const char *why;

	memset(&rep, 0, sizeof(rep));
	rep.id = q->id;
	if ((rep.err = us_req_check(q, &why)) < 0) {
		ctl_log(c, "%s: refused", why);
		ctl_reply(c, &rep);
		return;
	}
	if (us_req_names_socket(q->op) && !s) {
		ctl_gone(q, &rep);
		ctl_reply(c, &rep);
		return;
	}
	if (s && !ctl_holds(c, s)) {
		/* Ids are sequential: anyone could name anyone's.  Only the maker, or a proven holder, may act. */
		ctl_log(c, "does not hold socket %u (it made it, or passes its fd with US_LOOKUP): op %u refused",
			s->id, q->op);
		rep.err = -EPERM;
		ctl_reply(c, &rep);
		return;
	}
	switch (q->op) {
	case US_SOCKET:
		replied = ctl_socket(c, q, &rep);
		break;
	case US_BIND:
		rep.err = -err_errno(tcp_bind(s->pcb, &a, q->port));
		sock_names(s);
		rep.addr = s->laddr;
		rep.port = s->lport;
		break;
	case US_LISTEN:
		ctl_listen(s, q, &rep);
		break;
	case US_CONNECT:
		replied = ctl_connect(c, s, q, &rep);
		break;
	case US_LOOKUP:
		replied = ctl_lookup(c, q, &rep);
		break;
	case US_STATUS:
		rep.val = s->peer_eof && s->rx_shut ? US_ST_EOF : US_ST_OPEN;
		break;
	case US_NAME:
		sock_names(s);
		rep.addr = s->laddr;
		rep.port = s->lport;
		rep.raddr = s->raddr;
		rep.rport = s->rport;
		if (!s->established && !s->listening)
			rep.val = -ENOTCONN;
		break;
	case US_SETOPT:
		ctl_setopt(s, q, &rep);
		break;
	case US_GETOPT:
		ctl_getopt(s, q, &rep);
		break;
	default:
		rep.err = -EINVAL;
	}
	if (!replied)
		ctl_reply(c, &rep);
}

static void ctl_close(struct ctl *c)
{
	if (!c->open)
		return;
	for (unsigned i = 0; i < SOCK_SLOTS; i++)
		if (socks[i] && socks[i]->pending == c)
			socks[i]->pending = NULL;
	close(c->fd);
	if (c->passed_fd >= 0)
		close(c->passed_fd);
	c->passed_fd = -1;
	c->open = false;
}

/* Keeps the first descriptor that came with the request being read; any other goes at once. */
static void ctl_take_fds(struct ctl *c, struct msghdr *msg)
{
	for (struct cmsghdr *m = CMSG_FIRSTHDR(msg); m; m = CMSG_NXTHDR(msg, m)) {
		if (m->cmsg_level != SOL_SOCKET || m->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < (m->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(m) + i * sizeof(int), sizeof(int));
			if (c->passed_fd < 0)
				c->passed_fd = fd;
			else
				close(fd);
		}
	}
}

/*
 * What the connection has sent, without waiting for what it has not: a
 * request that arrives a byte at a time is collected across wakeups, and
 * the core lock is never held over a read that could block.
 */
static void ctl_event(struct ctl *c)
{
	for (int k = 0; k < CTL_BATCH && c->open; k++) {
		char cbuf[CMSG_SPACE(4 * sizeof(int))];
		size_t room;
		struct iovec iov = { us_req_space(&c->rb, &room), 0 };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
				      .msg_controllen = sizeof(cbuf) };
		struct us_req q;
		ssize_t n;

		iov.iov_len = room;
		n = recvmsg(c->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n > 0)
			ctl_take_fds(c, &msg);
		if (n <= 0) {
			ctl_close(c);
			return;
		}
		if (us_req_take(&c->rb, (size_t)n, &q)) {
			ctl_request(c, &q);
			if (c->passed_fd >= 0)
				close(c->passed_fd);	/* a proof for this request only */
			c->passed_fd = -1;
		}
	}
}

/* May this peer use the stack?  Root, the user who started stackd, and --group's members. */
static bool peer_allowed(int fd, struct ucred *cr)
{
	socklen_t len = sizeof(*cr);
	gid_t *groups;
	bool member = false;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cr, &len) < 0)
		return false;
	if (cr->uid == 0 || cr->uid == access_cfg.owner)
		return true;
	if (!access_cfg.group_set)
		return false;
	if (cr->gid == access_cfg.group)
		return true;
	/* Its supplementary groups as they were at connect (Linux 4.13+); sized by a first call. */
	len = 0;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, NULL, &len) < 0 && errno != ERANGE)
		return false;
	if (!len || !(groups = malloc(len)))
		return false;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0)
		for (size_t i = 0; i < len / sizeof(gid_t) && !member; i++)
			member = groups[i] == access_cfg.group;
	free(groups);
	return member;
}

/* A new control connection: admitted (nonblocking, holding nothing yet) or refused with EACCES and a log line. */
static void ctl_accept(int lfd)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	struct ucred cr = { .pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1 };
	struct ctl *c;

	if (fd < 0)
		return;
	if (fd >= CTL_MAX) {
		fprintf(stderr, "copylab: stackd: %d control connections are open already: one more refused\n",
			CTL_MAX);
		close(fd);
		return;
	}
	if (!peer_allowed(fd, &cr)) {
		struct us_rep rep = { .err = -EACCES };

		if (access_cfg.group_set)
			fprintf(stderr, "copylab: stackd: refused a control connection from uid %u (pid %d): only uid %u "
				"and group %u may use this stack\n", (unsigned)cr.uid, (int)cr.pid,
				(unsigned)access_cfg.owner, (unsigned)access_cfg.group);
		else
			fprintf(stderr, "copylab: stackd: refused a control connection from uid %u (pid %d): only uid %u "
				"may use this stack (copylab stackd --group GROUP lets a group in)\n", (unsigned)cr.uid,
				(int)cr.pid, (unsigned)access_cfg.owner);
		/* Its first request's answer, waiting for it: the shim then says EACCES, not "stackd is gone". */
		(void)!send(fd, &rep, sizeof(rep), MSG_DONTWAIT | MSG_NOSIGNAL);
		close(fd);
		return;
	}
	c = &ctls[fd];
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->open = true;
	c->peer = cr;
	c->passed_fd = -1;
	struct epoll_event cev = { .events = EPOLLIN, .data.u64 = ((uint64_t)fd << 2) | EV_CTL };

	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev) < 0)
		ctl_close(c);
}

/* --- setting up ------------------------------------------------------------------------ */

static int listen_control(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path %s is too long", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	/* Born mode 0600: no moment in which another user could connect before the chmod below. */
	mode_t old_mask = umask(0177);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		umask(old_mask);
		snprintf(err, errlen, "bind %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return r;
	}
	umask(old_mask);
	made.sock_made = true;
	/*
	 * The socket's mode is the first wall (connect needs write permission),
	 * the peer's credentials at accept the second (peer_allowed).
	 */
	if (access_cfg.group_set &&
	    (chown(path, (uid_t)-1, access_cfg.group) < 0 || chmod(path, 0660) < 0)) {
		snprintf(err, errlen, "giving %s to group %u: %s", path, (unsigned)access_cfg.group, strerror(errno));
		close(fd);
		return -EPERM;
	}
	if (listen(fd, 128) < 0) {
		snprintf(err, errlen, "listen %s: %s", path, strerror(errno));
		close(fd);
		return -errno;
	}
	return fd;
}

/*
 * lwIP's assertions abort(): the namespace and the socket go all the same
 * (umount2 + unlink is what `ip netns del` does; both are signal-safe).
 */
static void on_fatal(int sig)
{
	char path[256];

	if (made.sock_made)
		unlink(made.sock_path);
	if (made.ns_made) {
		snprintf(path, sizeof(path), NETNS_DIR "/%s", made.ns);
		umount2(path, MNT_DETACH);
		unlink(path);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void tcpip_ready(void *arg)
{
	sys_sem_signal((sys_sem_t *)arg);
}

static int make_namespace(const struct stackd_config *cfg, int *nsfd, char *err, size_t errlen)
{
	char addr[32];

	snprintf(made.ns, sizeof(made.ns), NETNS_PREFIX "%d-%s", (int)getpid(), cfg->name);
	if (netns_cmd(NULL, 0, err, errlen, "ip", "netns", "add", made.ns, NULL))
		return -EIO;
	made.ns_made = true;
	if ((*nsfd = netns_open(made.ns)) < 0) {
		snprintf(err, errlen, "open %s/%s: %s", NETNS_DIR, made.ns, strerror(-*nsfd));
		return *nsfd;
	}
	/* In use while this lock is held: `copylab cleanup` leaves it alone. */
	flock(*nsfd, LOCK_SH);
	if (made.be->open(*nsfd, US_TAP_NAME, err, errlen) < 0)
		return -EIO;
	snprintf(addr, sizeof(addr), "%s/%d", US_KERNEL_ADDR, US_PREFIX_LEN);
	if (netns_cmd(NULL, 0, err, errlen, "ip", "-n", made.ns, "link", "set", "lo", "up", NULL) ||
	    netns_cmd(NULL, 0, err, errlen, "ip", "-n", made.ns, "addr", "add", addr, "dev", US_TAP_NAME, NULL) ||
	    netns_cmd(NULL, 0, err, errlen, "ip", "-n", made.ns, "link", "set", US_TAP_NAME, "up", NULL))
		return -EIO;
	return 0;
}

static int start_lwip(char *err, size_t errlen)
{
	sys_sem_t ready;
	ip4_addr_t ip, mask, gw;

	if (sys_sem_new(&ready, 0) != ERR_OK) {
		snprintf(err, errlen, "lwIP: sys_sem_new failed");
		return -ENOMEM;
	}
	tcpip_init(tcpip_ready, &ready);
	sys_sem_wait(&ready);
	sys_sem_free(&ready);
	ip4addr_aton(US_STACK_ADDR, &ip);
	ip4addr_aton("255.255.255.0", &mask);
	ip4addr_aton(US_KERNEL_ADDR, &gw);
	LOCK_TCPIP_CORE();
	if (!netif_add(&stack_netif, &ip, &mask, &gw, NULL, made.be->netif_init, ethernet_input)) {
		UNLOCK_TCPIP_CORE();
		snprintf(err, errlen, "lwIP: netif_add failed");
		return -EIO;
	}
	netif_set_default(&stack_netif);
	netif_set_link_up(&stack_netif);
	netif_set_up(&stack_netif);
	UNLOCK_TCPIP_CORE();
	return made.be->start(&stack_netif, err, errlen);
}

int stackd_run(const struct stackd_config *cfg)
{
	char err[512];
	int nsfd = -1, lfd = -1, sfd = -1, status = 1;
	sigset_t sigs;

	memset(&made, 0, sizeof(made));
	made.owner = getpid();
	access_cfg.owner = getuid();
	access_cfg.group_set = cfg->group_set;
	access_cfg.group = cfg->group;
	if (!(made.be = netif_backend_find(cfg->netif ? cfg->netif : "tap"))) {
		fprintf(stderr, "copylab: stackd: --netif %s: unknown; valid: tap, xdp[:native|generic][:zerocopy|copy]\n",
			cfg->netif);
		return 2;
	}
	atexit(stackd_cleanup);
	/* Signals arrive on a signalfd in the main loop; lwIP's threads (made later) inherit the mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGABRT, on_fatal);
	signal(SIGSEGV, on_fatal);
	signal(SIGBUS, on_fatal);
	if ((sfd = signalfd(-1, &sigs, SFD_CLOEXEC)) < 0) {
		snprintf(err, sizeof(err), "signalfd: %s", strerror(errno));
		goto fail;
	}
	if (make_namespace(cfg, &nsfd, err, sizeof(err)) < 0)
		goto fail;
	if (cfg->socket) {
		snprintf(made.sock_path, sizeof(made.sock_path), "%s", cfg->socket);
	} else {
		mkdir(US_SOCKET_DIR, 0755);
		snprintf(made.sock_path, sizeof(made.sock_path), US_SOCKET_DIR "/" NETNS_PREFIX "%d-%s.sock",
			 (int)getpid(), cfg->name);
	}
	if (start_lwip(err, sizeof(err)) < 0)
		goto fail;
	if ((lfd = listen_control(made.sock_path, err, sizeof(err))) < 0)
		goto fail;
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		snprintf(err, sizeof(err), "epoll_create1: %s", strerror(errno));
		goto fail;
	}
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EV_LISTEN };

	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	ev.data.u64 = EV_SIGNAL;
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	if (!cfg->quiet) {
		printf("stackd ready: netns %s, socket %s, lwIP %s, kernel side %s (%s), netif %s\n", made.ns,
		       made.sock_path, US_STACK_ADDR, US_KERNEL_ADDR, US_TAP_NAME, made.be->name);
		if (netif_xdp_facts()) {
			json_t *j = xsk_facts_json(netif_xdp_facts());
			char *js = json_dumps(j, JSON_COMPACT);

			/* The mode in use and every refusal with its errno, for the record. */
			printf("stackd xdp: %s\n", js ? js : "{}");
			free(js);
			json_decref(j);
		}
		fflush(stdout);
	}
	for (;;) {
		struct epoll_event evs[64];
		int n = epoll_wait(ep, evs, 64, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, sizeof(err), "epoll_wait: %s", strerror(errno));
			goto fail;
		}
		for (int i = 0; i < n; i++) {
			uint64_t d = evs[i].data.u64;

			switch (d & 3) {
			case EV_SIGNAL: {
				struct signalfd_siginfo si;

				if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si) && !cfg->quiet)
					fprintf(stderr, "copylab: stackd: %s, cleaning up\n", strsignal((int)si.ssi_signo));
				status = 0;
				goto out;
			}
			case EV_LISTEN:
				LOCK_TCPIP_CORE();
				ctl_accept(lfd);
				UNLOCK_TCPIP_CORE();
				break;
			case EV_CTL: {
				struct ctl *c = &ctls[d >> 2];

				if (!c->open)
					break;
				LOCK_TCPIP_CORE();
				ctl_event(c);
				UNLOCK_TCPIP_CORE();
				break;
			}
			case EV_SOCK: {
				LOCK_TCPIP_CORE();
				struct sock *s = sock_find((uint32_t)(d >> 2));

				if (s)
					sock_event(s, evs[i].events);
				UNLOCK_TCPIP_CORE();
				break;
			}
			}
		}
	}
fail:
	fprintf(stderr, "copylab: stackd: %s\n", err);
out:
	stackd_cleanup();
	return status;
}
