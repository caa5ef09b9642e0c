/*
 * portreg.c - process-wide probe port registry (see portreg.h).
 *
 * Raw non-blocking fds with one event each rather than evconnlistener:
 * a plan may open thousands of ports, and a probe connection needs no
 * more than one bounded read and one small write.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "divert.h"
#include "err.h"
#include "log.h"
#include "portreg.h"
#include "privops.h"
#include "proto.h"
#include "rstats.h"

/* A flood a port's owners do not expect is closed as fast as it is
 * accepted; the queue only has to absorb a burst of it. */
#define PORTREG_BACKLOG		128
#define PORTREG_ACCEPT_BURST	64
/* Ports hash on their number; few addresses share a number. */
#define PORTREG_BUCKETS		4096
/*
 * Every armed agent's probes land on the transparent listener at once
 * (a hundred agents of a hundred ports are ten thousand SYNs), and one
 * socket queues at most net.core.somaxconn (4096) of them: beyond that
 * the kernel drops SYNs and a clean path looks lossy.  A SO_REUSEPORT
 * group of this many sockets queues this many times more.
 */
#define PORTREG_TPROXY_GROUP	8

struct portreg_port;

struct portreg_ref {
	LIST_ENTRY(portreg_ref) entry;
	struct portreg_port *pp;
	struct portreg_owner owner;
};

struct portreg_conn {
	TAILQ_ENTRY(portreg_conn) entry;
	TAILQ_ENTRY(portreg_conn) age;		/* the registry's, oldest first */
	struct portreg_port *pp;
	int fd;
	struct sockaddr_storage peer;		/* unmapped */
	struct event *ev;
	uint64_t deadline_ms;	/* absolute: a slow sender gains nothing */
	size_t len;
	char buf[PROTO_PROBE_LINE_MAX];
};

struct portreg_port {
	LIST_ENTRY(portreg_port) entry;		/* hash bucket */
	struct portreg *reg;
	struct sockaddr_storage addr;		/* unmapped, with port */
	uint16_t port;
	size_t nfds;				/* 1, or a transparent group */
	int fds[PORTREG_TPROXY_GROUP];
	struct event *evs[PORTREG_TPROXY_GROUP];
	LIST_HEAD(portreg_ref_list, portreg_ref) refs;
	TAILQ_HEAD(portreg_conn_list, portreg_conn) conns;	/* line not yet complete */
};

LIST_HEAD(portreg_bucket, portreg_port);

struct portreg {
	struct event_base *base;
	/* The transparent listeners (IPv4, IPv6), also in the buckets. */
	struct portreg_port *transparent[2];
	unsigned max_conns;
	unsigned nconns;
	TAILQ_HEAD(portreg_age_list, portreg_conn) by_age;
	size_t nports;
	unsigned long foreign;
	struct portreg_bucket buckets[PORTREG_BUCKETS];
};

struct portreg *
portreg_new(struct event_base *base, unsigned max_conns)
{
	struct portreg *reg;
	size_t i;

	if ((reg = calloc(1, sizeof(*reg))) == NULL)
		return NULL;
	reg->base = base;
	reg->max_conns = max_conns > 0 ? max_conns : 1;
	TAILQ_INIT(&reg->by_age);
	for (i = 0; i < PORTREG_BUCKETS; i++)
		LIST_INIT(&reg->buckets[i]);
	return reg;
}

void
portreg_free(struct portreg *reg)
{
	if (reg == NULL)
		return;
	/* Ports live only as long as their references, and every owner
	 * (a session) releases its references before the server frees us. */
	if (reg->nports != 0)
		log_warnx("portreg: %zu ports still referenced at exit",
		    reg->nports);
	free(reg);
}

static void
portreg_conn_free(struct portreg_conn *pc)
{
	struct portreg *reg = pc->pp->reg;

	TAILQ_REMOVE(&pc->pp->conns, pc, entry);
	TAILQ_REMOVE(&reg->by_age, pc, age);
	reg->nconns--;
	if (pc->ev != NULL)
		event_free(pc->ev);
	if (pc->fd != -1)
		close(pc->fd);
	free(pc);
}

/* Nobody of pp's sessions claims a connection: it reached all of them. */
static void
portreg_foreign_port(struct portreg_port *pp, const char *why)
{
	struct portreg_ref *ref;

	pp->reg->foreign++;
	rstats_foreign();
	log_debug("portreg: foreign connection on port %u: %s", pp->port,
	    why);
	LIST_FOREACH(ref, &pp->refs, entry)
		ref->owner.foreign(ref->owner.arg);
}

/* 1 if ref's session expects probes from peer's address. */
static int
portreg_ref_expects(const struct portreg_ref *ref,
    const struct sockaddr *peer)
{
	size_t i;

	if (ref->owner.npeers == 0)
		return 1;
	for (i = 0; i < ref->owner.npeers; i++)
		if (addr_equal((const struct sockaddr *)&ref->owner.peers[i],
		    peer))
			return 1;
	return 0;
}

/* 1 if some owner of pp expects probes from peer's address. */
static int
portreg_expected(const struct portreg_port *pp, const struct sockaddr *peer)
{
	const struct portreg_ref *ref;

	LIST_FOREACH(ref, &pp->refs, entry)
		if (portreg_ref_expects(ref, peer))
			return 1;
	return 0;
}

/*
 * An accepted connection nobody claims: evidence only for the sessions
 * that expect its source address.  The transparent listener serves every
 * session; an agent's own probe it gave up on (closed before its line
 * was read, late under load) is no flood seen by all the others.
 */
static void
portreg_foreign_conn(struct portreg_conn *pc, const char *why)
{
	struct portreg_ref *ref;

	pc->pp->reg->foreign++;
	rstats_foreign();
	log_debug("portreg: foreign connection on port %u: %s", pc->pp->port,
	    why);
	LIST_FOREACH(ref, &pc->pp->refs, entry)
		if (portreg_ref_expects(ref, (struct sockaddr *)&pc->peer))
			ref->owner.foreign(ref->owner.arg);
}

/* A complete line: hand it to the session whose token it carries. */
static void
portreg_dispatch(struct portreg_conn *pc, const char *token,
    const char *probe)
{
	char ack[PROTO_PROBE_LINE_MAX + 16];
	struct portreg_ref *ref;
	int r;

	LIST_FOREACH(ref, &pc->pp->refs, entry)
		if (strcmp(ref->owner.token, token) == 0)
			break;
	if (ref == NULL) {
		/* A token of a session that did not arm this port (or of
		 * none) proves nothing to anyone. */
		portreg_foreign_conn(pc, "token of no session on the port");
		return;
	}
	r = ref->owner.arrival(ref->owner.arg, pc->fd, probe);
	if (r == PORTREG_ARRIVAL_TAKEN)
		pc->fd = -1;	/* the owner's now */
	else if (r == 0 && proto_probe_ack(ack, sizeof(ack), probe) == 0)
		(void)send(pc->fd, ack, strlen(ack),
		    MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* One read of a probe connection; frees pc when it is done. */
static void
portreg_conn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct portreg_conn *pc = arg;
	char token[PROTO_TOKEN_HEXLEN + 2], probe[PROTO_PROBE_LINE_MAX];
	const char *why;
	ssize_t n;
	uint64_t now;
	int r;

	if (what & EV_TIMEOUT)
		goto timeout;
	n = recv(fd, pc->buf + pc->len, sizeof(pc->buf) - pc->len,
	    MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		goto again;
	if (n <= 0) {
		why = n == 0 ? "closed before a line" : "read error";
		goto foreign;
	}
	pc->len += (size_t)n;
	r = proto_probe_parse(pc->buf, pc->len, token, sizeof(token), probe,
	    sizeof(probe));
	if (r == FTP_ERR_AGAIN) {
		if (pc->len < sizeof(pc->buf))
			goto again;
		why = "line too long";
		goto foreign;
	}
	if (r != 0) {
		why = "not a probe line";
		goto foreign;
	}
	portreg_dispatch(pc, token, probe);
	portreg_conn_free(pc);
	return;
again:
	now = clock_mono_ms();
	if (now < pc->deadline_ms) {
		struct timeval tv;
		uint64_t left = pc->deadline_ms - now;

		tv.tv_sec = (time_t)(left / 1000);
		tv.tv_usec = (suseconds_t)(left % 1000) * 1000;
		if (event_add(pc->ev, &tv) == 0)
			return;
	}
timeout:
	why = "line timed out";
foreign:
	portreg_foreign_conn(pc, why);
	portreg_conn_free(pc);
}

static void
portreg_take(struct portreg_port *pp, int fd, const struct sockaddr *peer)
{
	struct portreg *reg = pp->reg;
	struct portreg_conn *pc;
	struct portreg_ref *ref;
	unsigned wait_ms = 0;

	if ((pc = calloc(1, sizeof(*pc))) == NULL) {
		close(fd);
		return;
	}
	/* The line's owner is unknown until it is read: give it the most
	 * patient wait of the sessions on the port. */
	LIST_FOREACH(ref, &pp->refs, entry)
		if (ref->owner.line_wait_ms > wait_ms)
			wait_ms = ref->owner.line_wait_ms;
	pc->pp = pp;
	pc->fd = fd;
	memcpy(&pc->peer, peer, addr_len(peer));
	pc->deadline_ms = clock_mono_ms() + wait_ms;
	pc->ev = event_new(reg->base, fd, EV_READ, portreg_conn_cb, pc);
	TAILQ_INSERT_TAIL(&pp->conns, pc, entry);
	TAILQ_INSERT_TAIL(&reg->by_age, pc, age);
	reg->nconns++;
	if (pc->ev == NULL) {
		log_warnx("portreg: cannot watch probe connection");
		portreg_conn_free(pc);
		return;
	}
	/* An agent sends its line with the connection: read it now, and
	 * hold (with a timer) only a connection that is still silent. */
	portreg_conn_cb(fd, EV_READ, pc);
}

/* At the cap, the oldest held connection (the longest silent) goes. */
static void
portreg_make_room(struct portreg *reg)
{
	struct portreg_conn *pc;

	while (reg->nconns >= reg->max_conns &&
	    (pc = TAILQ_FIRST(&reg->by_age)) != NULL) {
		portreg_foreign_conn(pc, "closed to make room (connection cap)");
		portreg_conn_free(pc);
	}
}

static void
portreg_accept_cb(evutil_socket_t fd, short what, void *arg)
{
	struct portreg_port *pp = arg;
	struct portreg *reg = pp->reg;
	struct sockaddr_storage peer;
	socklen_t sl;
	int i, c;

	(void)what;
	for (i = 0; i < PORTREG_ACCEPT_BURST; i++) {
		sl = sizeof(peer);
		c = accept4(fd, (struct sockaddr *)&peer, &sl,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (c == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED)
				log_warn("portreg: accept on port %u",
				    pp->port);
			return;
		}
		addr_unmap(&peer);
		if (!portreg_expected(pp, (struct sockaddr *)&peer)) {
			close(c);
			portreg_foreign_port(pp, "from an address no session "
			    "on the port expects");
			continue;
		}
		portreg_make_room(reg);
		portreg_take(pp, c, (struct sockaddr *)&peer);
	}
}

static struct portreg_bucket *
portreg_bucket(struct portreg *reg, uint16_t port)
{
	return &reg->buckets[port % PORTREG_BUCKETS];
}

static struct portreg_port *
portreg_lookup(struct portreg *reg, const struct sockaddr *addr,
    uint16_t port)
{
	struct portreg_port *pp;

	LIST_FOREACH(pp, portreg_bucket(reg, port), entry)
		if (pp->port == port &&
		    addr_equal((struct sockaddr *)&pp->addr, addr))
			return pp;
	return NULL;
}

/* The port's events and sockets (those made so far). */
static void
portreg_close_fds(struct portreg_port *pp)
{
	size_t i;

	for (i = 0; i < pp->nfds; i++) {
		if (pp->evs[i] != NULL)
			event_free(pp->evs[i]);
		pp->evs[i] = NULL;
		close(pp->fds[i]);
	}
	pp->nfds = 0;
}

/* The listening socket(s) for pp->addr (a port 0 there is filled in). */
static int
portreg_listen(struct portreg_port *pp, int transparent)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int saved;

	if (!transparent) {
		pp->nfds = 1;
		return privops_listen((struct sockaddr *)&pp->addr,
		    PORTREG_BACKLOG, &pp->fds[0]);
	}
	/* Every probe of a session arrives here at once: the kernel's
	 * largest backlog, not a per-port one, on each of the group. */
	if (privops_listen_transparent((struct sockaddr *)&pp->addr,
	    SOMAXCONN, pp->fds, PORTREG_TPROXY_GROUP) != 0)
		return FTP_ERR_SYSTEM;
	pp->nfds = PORTREG_TPROXY_GROUP;
	if (getsockname(pp->fds[0], (struct sockaddr *)&ss, &sl) == -1) {
		saved = errno;
		portreg_close_fds(pp);
		errno = saved;
		return FTP_ERR_SYSTEM;
	}
	pp->port = addr_port((struct sockaddr *)&ss);
	addr_set_port((struct sockaddr *)&pp->addr, pp->port);
	return 0;
}

/* Bind a new port; errno set on failure. */
static int
portreg_open(struct portreg *reg, const struct sockaddr *local,
    uint16_t port, int transparent, struct portreg_port **out)
{
	struct portreg_port *pp;
	size_t i;
	int saved;

	if ((pp = calloc(1, sizeof(*pp))) == NULL) {
		errno = ENOMEM;
		return FTP_ERR_NOMEM;
	}
	pp->reg = reg;
	pp->port = port;
	memcpy(&pp->addr, local, addr_len(local));
	addr_unmap(&pp->addr);
	addr_set_port((struct sockaddr *)&pp->addr, port);
	LIST_INIT(&pp->refs);
	TAILQ_INIT(&pp->conns);
	if (portreg_listen(pp, transparent) != 0) {
		saved = errno;
		free(pp);
		errno = saved;
		return FTP_ERR_SYSTEM;
	}
	port = pp->port;
	for (i = 0; i < pp->nfds; i++) {
		pp->evs[i] = event_new(reg->base, pp->fds[i],
		    EV_READ | EV_PERSIST, portreg_accept_cb, pp);
		if (pp->evs[i] == NULL || event_add(pp->evs[i], NULL) == -1) {
			portreg_close_fds(pp);
			free(pp);
			errno = ENOMEM;
			return FTP_ERR_NOMEM;
		}
	}
	LIST_INSERT_HEAD(portreg_bucket(reg, port), pp, entry);
	reg->nports++;
	*out = pp;
	return 0;
}

int
portreg_acquire(struct portreg *reg, const struct sockaddr *local,
    uint16_t port, const struct portreg_owner *owner,
    struct portreg_ref **ref, int *shared)
{
	struct sockaddr_storage ss;
	struct portreg_port *pp;
	struct portreg_ref *r;
	int rc;

	*ref = NULL;
	*shared = 0;
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		errno = ENOMEM;
		return FTP_ERR_NOMEM;
	}
	memcpy(&ss, local, addr_len(local));
	addr_unmap(&ss);
	if ((pp = portreg_lookup(reg, (struct sockaddr *)&ss, port)) != NULL)
		*shared = 1;
	else if ((rc = portreg_open(reg, (struct sockaddr *)&ss, port, 0,
	    &pp)) != 0) {
		int saved = errno;

		free(r);
		errno = saved;
		return rc;
	}
	r->pp = pp;
	r->owner = *owner;
	LIST_INSERT_HEAD(&pp->refs, r, entry);
	*ref = r;
	return 0;
}

/* The listener and the policy route that delivers to it live together. */
static int
portreg_open_transparent(struct portreg *reg, const struct sockaddr *lo,
    struct portreg_port **out)
{
	int rc, saved;

	if ((rc = divert_route_add(lo->sa_family)) != 0)
		return rc;
	if ((rc = portreg_open(reg, lo, 0, 1, out)) != 0) {
		saved = errno;
		(void)divert_route_del(lo->sa_family);
		errno = saved;
	}
	return rc;
}

int
portreg_acquire_transparent(struct portreg *reg, int family,
    const struct portreg_owner *owner, struct portreg_ref **ref,
    struct sockaddr_storage *to)
{
	struct sockaddr_storage lo;
	struct portreg_port **slot;
	struct portreg_ref *r;
	socklen_t sl;
	int rc;

	*ref = NULL;
	/* Loopback: the tproxy rule reaches it, no other host can. */
	if (addr_parse_ip(family == AF_INET6 ? "::1" : "127.0.0.1", &lo,
	    &sl) != 0) {
		errno = EAFNOSUPPORT;
		return FTP_ERR_SYSTEM;
	}
	slot = &reg->transparent[family == AF_INET6];
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		errno = ENOMEM;
		return FTP_ERR_NOMEM;
	}
	if (*slot == NULL && (rc = portreg_open_transparent(reg,
	    (struct sockaddr *)&lo, slot)) != 0) {
		int saved = errno;

		free(r);
		errno = saved;
		return rc;
	}
	r->pp = *slot;
	r->owner = *owner;
	LIST_INSERT_HEAD(&r->pp->refs, r, entry);
	memcpy(to, &r->pp->addr, sizeof(*to));
	*ref = r;
	return 0;
}

void
portreg_release(struct portreg *reg, struct portreg_ref *ref)
{
	struct portreg_port *pp;

	if (ref == NULL)
		return;
	pp = ref->pp;
	LIST_REMOVE(ref, entry);
	free(ref);
	if (!LIST_EMPTY(&pp->refs))
		return;
	/* Out of the table first: freeing the connections may resume
	 * accepting on every port, and this one is going away. */
	LIST_REMOVE(pp, entry);
	reg->nports--;
	if (reg->transparent[0] == pp || reg->transparent[1] == pp) {
		reg->transparent[reg->transparent[1] == pp] = NULL;
		if (divert_route_del(pp->addr.ss_family) != 0)
			log_warn("portreg: cannot remove the policy route of "
			    "the transparent listener");
	}
	while (!TAILQ_EMPTY(&pp->conns))
		portreg_conn_free(TAILQ_FIRST(&pp->conns));
	portreg_close_fds(pp);
	free(pp);
}

size_t
portreg_nports(const struct portreg *reg)
{
	return reg->nports;
}

unsigned long
portreg_foreign(const struct portreg *reg)
{
	return reg->foreign;
}

unsigned
portreg_held(const struct portreg *reg, const void *owner_arg)
{
	const struct portreg_conn *pc;
	const struct portreg_ref *ref;
	unsigned n = 0;

	TAILQ_FOREACH(pc, &reg->by_age, age)
		LIST_FOREACH(ref, &pc->pp->refs, entry)
			if (ref->owner.arg == owner_arg &&
			    portreg_ref_expects(ref,
			    (const struct sockaddr *)&pc->peer)) {
				n++;
				break;
			}
	return n;
}
