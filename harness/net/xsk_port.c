/* SPDX-License-Identifier: MIT */
/*
 * The AF_XDP frame port (see xsk_port.h): libxdp's default XSK program,
 * loaded with libbpf and attached over netlink by copylab itself, a UMEM of
 * 4 KiB chunks, and the four rings (fill, completion, rx, tx).
 *
 * Why copylab attaches the program itself instead of letting
 * xsk_socket__create do it: libxdp's own attach installs its multi-program
 * dispatcher when a bpffs is mounted and pins it there, and pins outlive a
 * SIGKILLed process and its namespace; a plain netlink attach lives exactly
 * as long as the link, so `copylab cleanup` removing the namespace removes
 * the program.  It also lets every attempted mode report the kernel's own
 * errno and message.
 */
#include "xsk_port.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

int xsk_attach_parse(const char *s, enum xsk_attach *out)
{
	if (!strcmp(s, "auto"))
		*out = XSK_ATTACH_AUTO;
	else if (!strcmp(s, "native") || !strcmp(s, "drv"))
		*out = XSK_ATTACH_NATIVE;
	else if (!strcmp(s, "generic") || !strcmp(s, "skb"))
		*out = XSK_ATTACH_GENERIC;
	else
		return -EINVAL;
	return 0;
}

int xsk_bind_parse(const char *s, enum xsk_bind *out)
{
	if (!strcmp(s, "auto"))
		*out = XSK_BIND_AUTO;
	else if (!strcmp(s, "zerocopy") || !strcmp(s, "zc"))
		*out = XSK_BIND_ZEROCOPY;
	else if (!strcmp(s, "copy"))
		*out = XSK_BIND_COPY;
	else
		return -EINVAL;
	return 0;
}

int xsk_mode_parse(const char *spec, struct xsk_port_request *req)
{
	char buf[64], *save = NULL, *tok;
	bool attach_seen = false, bind_seen = false;

	req->attach = XSK_ATTACH_AUTO;
	req->bind = XSK_BIND_AUTO;
	if (strlen(spec) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", spec);
	if (buf[0] == ':' || (buf[0] && buf[strlen(buf) - 1] == ':') || strstr(buf, "::"))
		return -EINVAL;	/* an empty word: "xdp::copy" is a typo, not auto */
	for (tok = strtok_r(buf, ":", &save); tok; tok = strtok_r(NULL, ":", &save)) {
		/* "auto" names neither kind: it leaves both where they are. */
		if (!attach_seen && !xsk_attach_parse(tok, &req->attach) && strcmp(tok, "auto"))
			attach_seen = true;
		else if (!bind_seen && !xsk_bind_parse(tok, &req->bind) && strcmp(tok, "auto"))
			bind_seen = true;
		else if (strcmp(tok, "auto"))
			return -EINVAL;	/* unknown, or a second word of the same kind */
	}
	return 0;
}

const char *xsk_attach_name(enum xsk_attach a)
{
	return a == XSK_ATTACH_NATIVE ? "native" : a == XSK_ATTACH_GENERIC ? "generic" : "auto";
}

const char *xsk_bind_name(enum xsk_bind b)
{
	return b == XSK_BIND_ZEROCOPY ? "zerocopy" : b == XSK_BIND_COPY ? "copy" : "auto";
}

json_t *xsk_facts_json(const struct xsk_port_facts *f)
{
	json_t *j = json_object(), *ref = json_array();

	json_object_set_new(j, "ifname", json_string(f->ifname));
	json_object_set_new(j, "netns", json_string(f->netns));
	json_object_set_new(j, "queue", json_integer(f->queue));
	json_object_set_new(j, "rx_queues", json_integer(f->rx_queues));
	if (f->prog_id) {
		json_object_set_new(j, "attach", json_string(xsk_attach_name(f->attach)));
		json_object_set_new(j, "bind", json_string(xsk_bind_name(f->bind)));
		json_object_set_new(j, "prog_id", json_integer(f->prog_id));
		json_object_set_new(j, "frame_size", json_integer(f->frame_size));
		json_object_set_new(j, "max_frame", json_integer(f->max_frame));
	} else {
		json_object_set_new(j, "attach", json_null());
		json_object_set_new(j, "bind", json_null());
	}
	for (int i = 0; i < f->n_refused; i++) {
		const struct xsk_refusal *r = &f->refused[i];
		json_t *o = json_object();

		json_object_set_new(o, "attach", json_string(xsk_attach_name(r->attach)));
		json_object_set_new(o, "bind", json_string(xsk_bind_name(r->bind)));
		json_object_set_new(o, "step", json_string(r->step));
		json_object_set_new(o, "errno", json_integer(r->err));
		json_object_set_new(o, "errname", json_string(strerrorname_np(r->err) ? strerrorname_np(r->err) : "?"));
		json_object_set_new(o, "error", json_string(strerror(r->err)));
		json_object_set_new(o, "kernel_message", json_string(r->message));
		json_array_append_new(ref, o);
	}
	json_object_set_new(j, "refused", ref);
	return j;
}

#ifndef HAVE_LIBXDP

const char *xsk_port_unavailable(void)
{
	return "copylab was built without libxdp (install Debian's libxdp-dev and rebuild)";
}

int xsk_port_open(struct xsk_port **out, const char *netns, const char *ifname,
		  const struct xsk_port_request *req, struct xsk_port_facts *facts,
		  char *err, size_t errlen)
{
	*out = NULL;
	snprintf(err, errlen, "%s", xsk_port_unavailable());
	return -ENOSYS;
}

int xsk_port_fd(const struct xsk_port *p) { return -ENOSYS; }
ssize_t xsk_port_recv(struct xsk_port *p, void *buf, size_t len) { return -ENOSYS; }
int xsk_port_send(struct xsk_port *p, const void *frame, size_t len) { return -ENOSYS; }
const struct xsk_port_facts *xsk_port_facts(const struct xsk_port *p) { return NULL; }
void xsk_port_stats(const struct xsk_port *p, struct xsk_port_stats *st) { memset(st, 0, sizeof(*st)); }
void xsk_port_counts(const struct xsk_port *p, struct xsk_port_stats *st) { memset(st, 0, sizeof(*st)); }
int xsk_port_close(struct xsk_port *p) { return 0; }

#else

#include "netns.h"

#include <bpf/bpf.h>
#include <fcntl.h>
#include <bpf/libbpf.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <xdp/libxdp.h>
#include <xdp/xsk.h>

/* 4 KiB chunks: one frame each (no multi-buffer), as the kernel's samples. */
#define FRAME_SIZE	XSK_UMEM__DEFAULT_FRAME_SIZE
#define RING_SIZE	1024u			/* each of fill, completion, rx, tx */
#define NUM_FRAMES	(2 * RING_SIZE)		/* first half for rx, second for tx */
#define DEFAULT_PROG	"xsk_def_xdp_prog.o"	/* shipped by libxdp (Debian libxdp1) */
#define DEFAULT_PROG_NAME "xsk_def_prog"

struct xsk_port {
	struct xsk_port_facts facts;
	int nsfd;			/* the namespace, entered again to detach */
	int ifindex;
	struct xdp_program *xprog;	/* libxdp's handle on the object file */
	int prog_fd;
	__u32 attach_flags;		/* XDP_FLAGS_DRV_MODE or _SKB_MODE, 0: not attached */
	void *area;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill, tx;
	struct xsk_ring_cons comp, rx;
	uint64_t tx_free[RING_SIZE];	/* tx chunks not in flight */
	unsigned int n_tx_free;
	bool kick_pending;
	struct xsk_port_stats st;
};

const char *xsk_port_unavailable(void)
{
	return NULL;
}

/* ---- the kernel's messages -------------------------------------------------
 * libbpf prints netlink's extack text ("Kernel error message: veth: Peer MTU
 * is too large to set XDP") through its print callback; while a port opens
 * or closes, that callback keeps the last message for the refusal record.
 * The callback is process-wide, so the open/close sections are serialised. */

static pthread_mutex_t print_lock = PTHREAD_MUTEX_INITIALIZER;
static char kernel_msg[160];

static int keep_kernel_message(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[256];
	const char *m;

	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	if ((m = strstr(line, "Kernel error message: "))) {
		snprintf(kernel_msg, sizeof(kernel_msg), "%s", m + strlen("Kernel error message: "));
		kernel_msg[strcspn(kernel_msg, "\n")] = '\0';
	}
	return 0;
}

static int quiet_libxdp(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

struct print_state {
	libbpf_print_fn_t bpf;
	libxdp_print_fn_t xdp;
};

static void messages_capture(struct print_state *s)
{
	pthread_mutex_lock(&print_lock);
	kernel_msg[0] = '\0';
	s->bpf = libbpf_set_print(keep_kernel_message);
	s->xdp = libxdp_set_print(quiet_libxdp);
}

static void messages_restore(struct print_state *s)
{
	libbpf_set_print(s->bpf);
	libxdp_set_print(s->xdp);
	pthread_mutex_unlock(&print_lock);
}

/* ---- steps of opening ------------------------------------------------------ */

static __u32 mode_flag(enum xsk_attach a)
{
	return a == XSK_ATTACH_NATIVE ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
}

/* The rx queues of ifname (ETHTOOL_GCHANNELS; 1 where the driver has none). */
static int rx_queue_count(const char *ifname)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r;

	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ch;
	r = ioctl(fd, SIOCETHTOOL, &ifr) ? -errno : 0;
	close(fd);
	if (r == -EOPNOTSUPP)
		return 1;
	if (r)
		return r;
	r = (int)(ch.rx_count > ch.combined_count ? ch.rx_count : ch.combined_count);
	return r > 0 ? r : 1;
}

/* libxdp finds its default program where the distribution put it. */
static int program_load(struct xsk_port *p, char *err, size_t errlen)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_map *map;
	struct bpf_prog_info info;
	__u32 ilen = sizeof(info);
	long e;
	int r;

	p->xprog = xdp_program__find_file(DEFAULT_PROG, NULL, NULL);
	if ((e = libxdp_get_error(p->xprog))) {
		p->xprog = NULL;
		snprintf(err, errlen, "cannot open libxdp's default XSK program %s: %s (package libxdp1)",
			 DEFAULT_PROG, strerror((int)-e));
		return (int)e;
	}
	obj = xdp_program__bpf_obj(p->xprog);
	/* One slot per rx queue, as libxdp sizes it: the program indexes by rx_queue_index. */
	if (!(map = bpf_object__find_map_by_name(obj, "xsks_map")) ||
	    !(prog = bpf_object__find_program_by_name(obj, DEFAULT_PROG_NAME))) {
		snprintf(err, errlen, "%s has no xsks_map or %s: not libxdp's default XSK program",
			 DEFAULT_PROG, DEFAULT_PROG_NAME);
		return -ENOENT;
	}
	if ((r = bpf_map__set_max_entries(map, p->facts.rx_queues)) || (r = bpf_object__load(obj))) {
		snprintf(err, errlen, "loading %s: %s", DEFAULT_PROG, strerror(-r));
		return r;
	}
	p->prog_fd = bpf_program__fd(prog);
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(p->prog_fd, &info, &ilen) == 0)
		p->facts.prog_id = info.id;
	return 0;
}

/*
 * XDP_FLAGS_UPDATE_IF_NOEXIST: never replace someone else's program.
 * 0, or the positive errno the kernel gave (kernel_msg has its words).
 */
static int program_attach(struct xsk_port *p, enum xsk_attach a)
{
	__u32 flags = mode_flag(a);
	int r;

	kernel_msg[0] = '\0';
	r = bpf_xdp_attach(p->ifindex, p->prog_fd, flags | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
	if (r)
		return -r;
	p->attach_flags = flags;
	return 0;
}

/* Detaches only our own program (XDP_FLAGS_REPLACE with its fd). */
static int program_detach(struct xsk_port *p)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = p->prog_fd);
	int r;

	if (!p->attach_flags)
		return 0;
	r = bpf_xdp_detach(p->ifindex, p->attach_flags, &opts);
	/* The link (or its namespace) already gone took the program with it. */
	if (r == -ENODEV)
		r = 0;
	p->attach_flags = 0;
	return r;
}

static void socket_close(struct xsk_port *p)
{
	if (p->xsk)
		xsk_socket__delete(p->xsk);
	p->xsk = NULL;
	if (p->umem)
		xsk_umem__delete(p->umem);
	p->umem = NULL;
}

/*
 * A UMEM registered afresh for every bind attempt (a socket whose bind
 * failed is not reused), then the socket bound to the queue.  0 or the
 * positive errno.
 */
static int socket_bind(struct xsk_port *p, enum xsk_bind b)
{
	const struct xsk_umem_config ucfg = {
		.fill_size = RING_SIZE, .comp_size = RING_SIZE,
		.frame_size = FRAME_SIZE, .frame_headroom = 0, .flags = 0,
	};
	const struct xsk_socket_config scfg = {
		.rx_size = RING_SIZE, .tx_size = RING_SIZE,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,	/* attached by us */
		.bind_flags = (b == XSK_BIND_ZEROCOPY ? XDP_ZEROCOPY : XDP_COPY) | XDP_USE_NEED_WAKEUP,
	};
	int r;

	if ((r = xsk_umem__create(&p->umem, p->area, (__u64)NUM_FRAMES * FRAME_SIZE, &p->fill, &p->comp, &ucfg))) {
		p->umem = NULL;
		return -r;
	}
	if ((r = xsk_socket__create(&p->xsk, p->facts.ifname, p->facts.queue, p->umem, &p->rx, &p->tx, &scfg))) {
		p->xsk = NULL;
		socket_close(p);
		return -r;
	}
	return 0;
}

/*
 * EBUSY from bind means the queue still holds the pool of a socket that
 * was closed moments ago (ours from the mode tried before, or the last
 * run's): the kernel releases it from a deferred work item.  Waiting for
 * that is not a refusal, so EBUSY is retried for up to about a second;
 * every other errno is the kernel's answer.
 */
static int socket_bind_settled(struct xsk_port *p, enum xsk_bind b)
{
	int e = 0;

	for (unsigned int wait_ms = 5, waited = 0; ; waited += wait_ms, wait_ms *= 2) {
		if ((e = socket_bind(p, b)) != EBUSY || waited >= 1000)
			return e;
		usleep(wait_ms * 1000);
	}
}

/* Every rx chunk on the fill ring; every tx chunk free. */
static int rings_prime(struct xsk_port *p)
{
	__u32 idx = 0;

	if (xsk_ring_prod__reserve(&p->fill, RING_SIZE, &idx) != RING_SIZE)
		return -ENOSPC;
	for (unsigned int i = 0; i < RING_SIZE; i++)
		*xsk_ring_prod__fill_addr(&p->fill, idx + i) = (uint64_t)i * FRAME_SIZE;
	xsk_ring_prod__submit(&p->fill, RING_SIZE);
	p->n_tx_free = 0;
	for (unsigned int i = 0; i < RING_SIZE; i++)
		p->tx_free[p->n_tx_free++] = (uint64_t)(RING_SIZE + i) * FRAME_SIZE;
	return 0;
}

static void refuse(struct xsk_port *p, enum xsk_attach a, enum xsk_bind b, const char *step, int e)
{
	struct xsk_refusal *r;

	if (p->facts.n_refused >= XSK_MAX_REFUSALS)
		return;
	r = &p->facts.refused[p->facts.n_refused++];
	r->attach = a;
	r->bind = b;
	r->step = step;
	r->err = e;
	snprintf(r->message, sizeof(r->message), "%s", kernel_msg);
	kernel_msg[0] = '\0';
}

/* "native/zerocopy: bind: EOPNOTSUPP (Operation not supported); ..." */
static void refusals_text(const struct xsk_port_facts *f, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 0; i < f->n_refused && n < len; i++) {
		const struct xsk_refusal *r = &f->refused[i];

		n += snprintf(buf + n, len - n, "%s%s/%s: %s %s (%s)%s%s%s", i ? "; " : "",
			      xsk_attach_name(r->attach), xsk_bind_name(r->bind), r->step,
			      strerrorname_np(r->err) ? strerrorname_np(r->err) : "?", strerror(r->err),
			      r->message[0] ? ": \"" : "", r->message, r->message[0] ? "\"" : "");
	}
}

/* Tries the modes the request allows; 0 when one works. */
static int modes_try(struct xsk_port *p, const struct xsk_port_request *req)
{
	static const enum xsk_attach attaches[] = { XSK_ATTACH_NATIVE, XSK_ATTACH_GENERIC };
	static const enum xsk_bind binds[] = { XSK_BIND_ZEROCOPY, XSK_BIND_COPY };

	for (size_t i = 0; i < 2; i++) {
		enum xsk_attach a = attaches[i];
		int e;

		if (req->attach != XSK_ATTACH_AUTO && req->attach != a)
			continue;
		if ((e = program_attach(p, a))) {
			refuse(p, a, req->bind, "attach", e);
			continue;
		}
		for (size_t k = 0; k < 2; k++) {
			enum xsk_bind b = binds[k];

			if (req->bind != XSK_BIND_AUTO && req->bind != b)
				continue;
			if ((e = socket_bind_settled(p, b))) {
				refuse(p, a, b, "bind", e);
				continue;
			}
			p->facts.attach = a;
			p->facts.bind = b;
			return 0;
		}
		program_detach(p);
	}
	return -EOPNOTSUPP;
}

/* Everything but the namespace fd and the struct; safe on a half-open port. */
static int port_release(struct xsk_port *p)
{
	int r;

	socket_close(p);
	r = program_detach(p);
	if (p->xprog)
		xdp_program__close(p->xprog);
	p->xprog = NULL;
	if (p->area)
		munmap(p->area, (size_t)NUM_FRAMES * FRAME_SIZE);
	p->area = NULL;
	return r;
}

int xsk_port_open(struct xsk_port **out, const char *netns, const char *ifname,
		  const struct xsk_port_request *req, struct xsk_port_facts *facts,
		  char *err, size_t errlen)
{
	struct xsk_port *p;
	struct print_state ps;
	int saved = -1, r, q, e;

	*out = NULL;
	if (!(p = calloc(1, sizeof(*p)))) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	p->nsfd = -1;
	p->prog_fd = -1;
	snprintf(p->facts.ifname, sizeof(p->facts.ifname), "%s", ifname);
	snprintf(p->facts.netns, sizeof(p->facts.netns), "%s", netns ? netns : "");
	p->facts.queue = req->queue;
	p->facts.frame_size = FRAME_SIZE;
	/* In aligned mode the kernel puts a frame XDP_PACKET_HEADROOM into its chunk. */
	p->facts.max_frame = FRAME_SIZE - XDP_PACKET_HEADROOM;

	if (!netns || !netns[0]) {
		/* The caller's namespace: kept, so close detaches there from whatever thread. */
		if ((p->nsfd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) < 0) {
			r = -errno;
			snprintf(err, errlen, "open /proc/thread-self/ns/net: %s", strerror(-r));
			free(p);
			return r;
		}
	} else {
		if ((p->nsfd = netns_open(netns)) < 0) {
			r = p->nsfd;
			snprintf(err, errlen, "network namespace %s: %s", netns, strerror(-r));
			free(p);
			return r;
		}
		if ((r = netns_enter(p->nsfd, &saved))) {
			snprintf(err, errlen, "entering network namespace %s: %s", netns, strerror(-r));
			close(p->nsfd);
			free(p);
			return r;
		}
	}
	messages_capture(&ps);
	if (!(p->ifindex = (int)if_nametoindex(ifname))) {
		r = -ENODEV;
		snprintf(err, errlen, "no interface %s in namespace %s", ifname, netns && netns[0] ? netns : "(this one)");
		goto fail;
	}
	if ((q = rx_queue_count(ifname)) < 0) {
		r = q;
		snprintf(err, errlen, "ETHTOOL_GCHANNELS on %s: %s", ifname, strerror(-r));
		goto fail;
	}
	p->facts.rx_queues = (unsigned int)q;
	if (req->queue >= p->facts.rx_queues) {
		r = -EINVAL;
		snprintf(err, errlen, "queue %u does not exist on %s: it has %u rx queue%s (make the veth with "
			 "numrxqueues/numtxqueues above the queue, or bind queue 0)", req->queue, ifname,
			 p->facts.rx_queues, p->facts.rx_queues == 1 ? "" : "s");
		goto fail;
	}
	p->area = mmap(NULL, (size_t)NUM_FRAMES * FRAME_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (p->area == MAP_FAILED) {
		p->area = NULL;
		r = -errno;
		snprintf(err, errlen, "mmap of the UMEM (%u chunks of %u bytes): %s", NUM_FRAMES, FRAME_SIZE,
			 strerror(-r));
		goto fail;
	}
	if ((r = program_load(p, err, errlen)))
		goto fail;
	if ((r = modes_try(p, req))) {
		char why[700];

		refusals_text(&p->facts, why, sizeof(why));
		snprintf(err, errlen, "AF_XDP on %s queue %u: the kernel refused every mode asked for (attach %s, bind %s): %s",
			 ifname, req->queue, xsk_attach_name(req->attach), xsk_bind_name(req->bind), why);
		r = p->facts.n_refused ? -p->facts.refused[p->facts.n_refused - 1].err : r;
		goto fail;
	}
	if ((e = xsk_socket__update_xskmap(p->xsk, bpf_map__fd(bpf_object__find_map_by_name(
							xdp_program__bpf_obj(p->xprog), "xsks_map"))))) {
		r = e < 0 ? e : -e;
		snprintf(err, errlen, "putting the socket into xsks_map[%u]: %s", req->queue, strerror(-r));
		goto fail;
	}
	if ((r = rings_prime(p))) {
		snprintf(err, errlen, "priming the fill ring: %s", strerror(-r));
		goto fail;
	}
	messages_restore(&ps);
	if (saved >= 0)
		netns_leave(saved);
	if (facts)
		*facts = p->facts;
	*out = p;
	return 0;
fail:
	if (facts) {
		*facts = p->facts;
		facts->prog_id = 0;	/* nothing is attached */
	}
	port_release(p);
	messages_restore(&ps);
	if (saved >= 0)
		netns_leave(saved);
	if (p->nsfd >= 0)
		close(p->nsfd);
	free(p);
	return r;
}

int xsk_port_fd(const struct xsk_port *p)
{
	return xsk_socket__fd(p->xsk);
}

const struct xsk_port_facts *xsk_port_facts(const struct xsk_port *p)
{
	return &p->facts;
}

void xsk_port_counts(const struct xsk_port *p, struct xsk_port_stats *st)
{
	*st = p->st;
}

void xsk_port_stats(const struct xsk_port *p, struct xsk_port_stats *st)
{
	struct xdp_statistics xs;
	socklen_t len = sizeof(xs);

	*st = p->st;
	if (getsockopt(xsk_socket__fd(p->xsk), SOL_XDP, XDP_STATISTICS, &xs, &len) == 0)
		st->rx_dropped = xs.rx_dropped + xs.rx_ring_full;
}

/* Wakes the kernel when a ring asks for it (XDP_USE_NEED_WAKEUP). */
static void tx_kick(struct xsk_port *p)
{
	p->kick_pending = false;
	if (!xsk_ring_prod__needs_wakeup(&p->tx))
		return;
	/* Copy mode transmits inside this call; EAGAIN/EBUSY: try again later. */
	for (int i = 0; i < 16; i++) {
		p->st.tx_kicks++;
		if (sendto(xsk_socket__fd(p->xsk), NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0)
			return;
		if (errno != EAGAIN && errno != EBUSY && errno != ENOBUFS && errno != EINTR)
			return;
	}
	p->kick_pending = true;
}

static void tx_reclaim(struct xsk_port *p)
{
	__u32 idx, n = xsk_ring_cons__peek(&p->comp, RING_SIZE, &idx);

	for (__u32 i = 0; i < n; i++)
		p->tx_free[p->n_tx_free++] = *xsk_ring_cons__comp_addr(&p->comp, idx + i);
	if (n)
		xsk_ring_cons__release(&p->comp, n);
}

ssize_t xsk_port_recv(struct xsk_port *p, void *buf, size_t len)
{
	const struct xdp_desc *d;
	__u32 idx, fidx;
	uint64_t addr;
	size_t n, flen;

	if (xsk_ring_cons__peek(&p->rx, 1, &idx) != 1) {
		if (xsk_ring_prod__needs_wakeup(&p->fill))
			recvfrom(xsk_socket__fd(p->xsk), NULL, 0, MSG_DONTWAIT, NULL, NULL);
		return -EAGAIN;
	}
	d = xsk_ring_cons__rx_desc(&p->rx, idx);
	addr = d->addr;
	n = flen = d->len;
	if (n > len) {
		p->st.rx_truncated++;
		n = len;
	}
	memcpy(buf, xsk_umem__get_data(p->area, addr), n);
	xsk_ring_cons__release(&p->rx, 1);
	/* The chunk goes straight back to the kernel: the frame was copied out. */
	if (xsk_ring_prod__reserve(&p->fill, 1, &fidx) == 1) {
		*xsk_ring_prod__fill_addr(&p->fill, fidx) = addr - addr % FRAME_SIZE;
		xsk_ring_prod__submit(&p->fill, 1);
	}
	p->st.rx_frames++;
	p->st.rx_bytes += flen;
	return (ssize_t)n;
}

int xsk_port_send(struct xsk_port *p, const void *frame, size_t len)
{
	__u32 idx;
	uint64_t addr;

	if (len > p->facts.max_frame)
		return -EMSGSIZE;
	if (p->kick_pending)
		tx_kick(p);
	tx_reclaim(p);
	if (!p->n_tx_free || xsk_ring_prod__reserve(&p->tx, 1, &idx) != 1) {
		tx_kick(p);
		return -EAGAIN;
	}
	addr = p->tx_free[--p->n_tx_free];
	memcpy(xsk_umem__get_data(p->area, addr), frame, len);
	xsk_ring_prod__tx_desc(&p->tx, idx)->addr = addr;
	xsk_ring_prod__tx_desc(&p->tx, idx)->len = (__u32)len;
	xsk_ring_prod__tx_desc(&p->tx, idx)->options = 0;
	xsk_ring_prod__submit(&p->tx, 1);
	tx_kick(p);
	p->st.tx_frames++;
	p->st.tx_bytes += len;
	return 0;
}

int xsk_port_close(struct xsk_port *p)
{
	struct print_state ps;
	int saved = -1, r;

	if (!p)
		return 0;
	if (p->nsfd >= 0 && netns_enter(p->nsfd, &saved))
		saved = -1;	/* safe anyway: the detach names our program, never another's */
	messages_capture(&ps);
	r = port_release(p);
	messages_restore(&ps);
	if (saved >= 0)
		netns_leave(saved);
	if (p->nsfd >= 0)
		close(p->nsfd);
	free(p);
	return r;
}

#endif
