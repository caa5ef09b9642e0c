/*
 * server.c - TLS control listener, session registry and the probe port
 * registry the sessions share (see server.h).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>

#include "addr.h"
#include "err.h"
#include "log.h"
#include "portreg.h"
#include "rstats.h"
#include "applysrv.h"
#include "armq.h"
#include "server.h"
#include "session.h"

/* A burst of agents (a fleet's timers fire together) must find its SYNs
 * queued, not dropped: accepted, those beyond the handshake budget get a
 * prompt close the agent takes for "busy", while a dropped SYN costs it
 * a retransmission second each time and, under a thousand agents,
 * its whole connect deadline (load.sh N=1000: 6512 overflows, 14 agents
 * exit 3 with a backlog of 64).  The kernel caps it at somaxconn. */
#define SERVER_BACKLOG		SOMAXCONN
/* Entries beyond both budgets (max_sessions authenticated, max_handshakes
 * in the handshake): agents being refused, sessions flushing their last
 * frame.  Past that, new TCP connections are dropped unanswered. */
#define SERVER_EXTRA_CONNS	16
/* Probe connections being read at once, per allowed session: the
 * registry's cap for the process (fds stay bounded as before sharing). */
#define SERVER_PROBE_CONNS	1024

struct server_entry {
	TAILQ_ENTRY(server_entry) entry;
	struct session *session;
};

TAILQ_HEAD(server_entry_list, server_entry);

struct server {
	struct event_base *base;
	const struct reflector_config *cfg;
	SSL_CTX *ctx;
	struct evconnlistener *listener;
	/* What every session is handed: the probe port registry, check
	 * --apply's fixes and window, the arming queue; owned here. */
	struct session_shared shared;
	struct session_hooks hooks;
	struct server_entry_list sessions;
	unsigned nsessions;	/* all entries */
	unsigned long ndropped;	/* connections closed at accept */
};

/* Connections in the TLS handshake from one source address, and in all. */
struct server_hs_count {
	unsigned total;
	unsigned same;			/* from the address asked about */
};

/* One handshaking entry, for finding the busiest source. */
struct server_hs_slot {
	const struct sockaddr	*addr;
	unsigned		 order;	/* position in the list: age */
	struct server_entry	*e;
};

static int
server_token_in_use_cb(const char *token, const struct session *self,
    void *arg)
{
	struct server *srv = arg;
	struct server_entry *e;
	const char *t;

	for (e = TAILQ_FIRST(&srv->sessions); e != NULL;
	    e = TAILQ_NEXT(e, entry)) {
		if (e->session == self)
			continue;
		t = session_token(e->session);
		if (t != NULL && strcmp(t, token) == 0)
			return 1;
	}
	return 0;
}

/*
 * Only authenticated sessions compete for max_sessions, so unauthenticated
 * connections, which have a budget of their own, never starve an agent.
 */
static int
server_admit_cb(const struct session *s, void *arg)
{
	struct server *srv = arg;
	struct server_entry *e;
	unsigned n = 0;

	TAILQ_FOREACH(e, &srv->sessions, entry) {
		if (e->session != s && !session_handshaking(e->session) &&
		    !session_refused(e->session))
			n++;
	}
	return n < srv->cfg->max_sessions ? 0 : 1;
}

static void
server_hs_count(const struct server *srv, const struct sockaddr *peer,
    struct server_hs_count *c)
{
	struct server_entry *e;

	memset(c, 0, sizeof(*c));
	TAILQ_FOREACH(e, &srv->sessions, entry) {
		if (!session_handshaking(e->session))
			continue;
		c->total++;
		if (addr_equal(session_peer(e->session), peer))
			c->same++;
	}
}

/* Address bytes for ordering (peers are unmapped: v4 is AF_INET). */
static const void *
server_addr_bytes(const struct sockaddr *sa, size_t *n)
{
	if (sa->sa_family == AF_INET6) {
		*n = 16;
		return &((const struct sockaddr_in6 *)(const void *)sa)
		    ->sin6_addr;
	}
	*n = 4;
	return &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
}

/* By address, then by age (oldest first). */
static int
server_hs_slot_cmp(const void *pa, const void *pb)
{
	const struct server_hs_slot *a = pa, *b = pb;
	const void *x, *y;
	size_t nx, ny;
	int c;

	if (a->addr->sa_family != b->addr->sa_family)
		return a->addr->sa_family < b->addr->sa_family ? -1 : 1;
	x = server_addr_bytes(a->addr, &nx);
	y = server_addr_bytes(b->addr, &ny);
	if ((c = memcmp(x, y, nx < ny ? nx : ny)) != 0)
		return c;
	return a->order < b->order ? -1 : a->order > b->order;
}

/*
 * The oldest handshake of the source address with the most handshakes,
 * or NULL (none, or out of memory).  *busiest gets that count.  Sorting
 * keeps it O(n log n): it runs on every accept while the slots are full.
 */
static struct server_entry *
server_hs_busiest(const struct server *srv, unsigned total,
    unsigned *busiest)
{
	struct server_hs_slot *v;
	struct server_entry *e, *pick = NULL;
	unsigned i = 0, run, order = 0;

	*busiest = 0;
	if (total == 0 || (v = calloc(total, sizeof(*v))) == NULL)
		return NULL;
	TAILQ_FOREACH(e, &srv->sessions, entry) {
		order++;
		if (!session_handshaking(e->session) || i == total)
			continue;
		v[i].addr = session_peer(e->session);
		v[i].order = order;
		v[i++].e = e;
	}
	qsort(v, i, sizeof(*v), server_hs_slot_cmp);
	for (total = i, i = 0; i < total; i += run) {
		for (run = 1; i + run < total &&
		    addr_equal(v[i].addr, v[i + run].addr); run++)
			;
		if (run > *busiest) {
			*busiest = run;
			pick = v[i].e;		/* the run's oldest */
		}
	}
	free(v);
	return pick;
}

/* Close a connection still in its handshake, to make room. */
static void
server_evict(struct server *srv, struct server_entry *e)
{
	TAILQ_REMOVE(&srv->sessions, e, entry);
	srv->nsessions--;
	session_free(e->session);
	free(e);
}

/* Log a drop without letting a flood flood the log: the 1st, 2nd, 4th,
 * 8th, ... */
static void
server_drop_log(struct server *srv, const char *peer, const char *why)
{
	srv->ndropped++;
	if ((srv->ndropped & (srv->ndropped - 1)) == 0)
		log_warnx("server: %s: %s, dropped (%lu connections dropped "
		    "so far)", peer, why, srv->ndropped);
}

/*
 * The pre-authentication budget.  0 to accept the connection from peer,
 * else FTP_ERR_DENIED (logged).  When every handshake slot is taken, the
 * oldest handshake of the busiest source makes room for a source that has
 * fewer: spreading a flood over many addresses does not lock out one
 * agent.
 */
static int
server_budget(struct server *srv, const struct sockaddr *peer,
    const char *ptext)
{
	const struct reflector_config *cfg = srv->cfg;
	struct server_entry *oldest;
	struct server_hs_count c;
	unsigned busiest;

	if (srv->nsessions >= cfg->max_sessions + cfg->max_handshakes +
	    SERVER_EXTRA_CONNS) {
		server_drop_log(srv, ptext, "too many connections");
		rstats_refused(RSTATS_TOO_MANY_CONNECTIONS);
		return FTP_ERR_DENIED;
	}
	server_hs_count(srv, peer, &c);
	if (c.same >= cfg->max_handshakes_per_source) {
		server_drop_log(srv, ptext, "too many TLS handshakes from "
		    "this address");
		rstats_refused(RSTATS_HANDSHAKE_BUDGET);
		return FTP_ERR_DENIED;
	}
	if (c.total < cfg->max_handshakes)
		return 0;
	oldest = server_hs_busiest(srv, c.total, &busiest);
	if (oldest == NULL || c.same >= busiest) {
		server_drop_log(srv, ptext, "too many TLS handshakes");
		rstats_refused(RSTATS_HANDSHAKE_BUDGET);
		return FTP_ERR_DENIED;
	}
	log_debug("server: %s: handshake slots full, the oldest handshake "
	    "of the busiest source makes room", ptext);
	server_evict(srv, oldest);
	return 0;
}

static void
server_session_closed_cb(struct session *s, void *arg)
{
	struct server *srv = arg;
	struct server_entry *e;

	for (e = TAILQ_FIRST(&srv->sessions); e != NULL;
	    e = TAILQ_NEXT(e, entry)) {
		if (e->session != s)
			continue;
		TAILQ_REMOVE(&srv->sessions, e, entry);
		srv->nsessions--;
		free(e);
		break;
	}
	session_free(s);
}

/*
 * Every control frame is a small write answered by the peer: with
 * Nagle's algorithm the second of two back-to-back frames (the TLS
 * handshake's last flight, then welcome) waits for the peer's delayed
 * ACK, about 40 ms per exchange.  A failure only costs that latency.
 */
static void
server_nodelay(evutil_socket_t fd)
{
	int one = 1;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
		log_debug("server: TCP_NODELAY: %s", strerror(errno));
}

static void
server_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct server *srv = arg;
	struct server_entry *e = NULL;
	struct bufferevent *bev = NULL;
	struct sockaddr_storage peer;
	char pbuf[ADDR_STRLEN];
	SSL *ssl = NULL;

	(void)l;
	server_nodelay(fd);
	memset(&peer, 0, sizeof(peer));
	if (salen > 0 && (size_t)salen <= sizeof(peer))
		memcpy(&peer, sa, (size_t)salen);
	addr_unmap(&peer);
	addr_ntop_port((struct sockaddr *)&peer, pbuf, sizeof(pbuf));
	if (server_budget(srv, (struct sockaddr *)&peer, pbuf) != 0) {
		close(fd);
		return;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL ||
	    (ssl = SSL_new(srv->ctx)) == NULL) {
		log_warnx("server: %s: out of memory", pbuf);
		goto fail;
	}
	bev = bufferevent_openssl_socket_new(srv->base, fd, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		log_warnx("server: %s: cannot create TLS bufferevent", pbuf);
		goto fail;
	}
	/* From here the bufferevent owns ssl and fd. */
	ssl = NULL;
	fd = -1;
	/* An agent that vanishes without close_notify is an EOF, not a TLS
	 * error worth a warning. */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	if ((e->session = session_new(srv->base, srv->cfg, &srv->shared, bev,
	    &srv->hooks, srv)) == NULL) {
		log_warnx("server: %s: cannot create session", pbuf);
		goto fail;
	}
	TAILQ_INSERT_TAIL(&srv->sessions, e, entry);
	srv->nsessions++;
	log_debug("server: connection from %s (%u sessions)", pbuf,
	    srv->nsessions);
	return;
fail:
	if (bev != NULL)
		bufferevent_free(bev);
	if (ssl != NULL)
		SSL_free(ssl);
	if (fd != -1)
		close(fd);
	free(e);
}

static void
server_error_cb(struct evconnlistener *l, void *arg)
{
	(void)l;
	(void)arg;
	/* EMFILE and the like: the listener keeps running. */
	log_warn("server: accept");
}

struct server *
server_new(struct event_base *base, const struct reflector_config *cfg,
    SSL_CTX *ctx)
{
	struct server *srv;

	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return NULL;
	srv->base = base;
	srv->cfg = cfg;
	srv->ctx = ctx;
	if ((srv->shared.ports = portreg_new(base, cfg->max_sessions *
	    SERVER_PROBE_CONNS)) == NULL ||
	    (srv->shared.apply = applysrv_new(cfg)) == NULL ||
	    (srv->shared.armq = armq_new(cfg->max_armed_ports)) == NULL) {
		portreg_free(srv->shared.ports);
		applysrv_free(srv->shared.apply);
		free(srv);
		return NULL;
	}
	srv->hooks.token_in_use = server_token_in_use_cb;
	srv->hooks.closed = server_session_closed_cb;
	srv->hooks.admit = server_admit_cb;
	TAILQ_INIT(&srv->sessions);
	return srv;
}

void
server_free(struct server *srv)
{
	struct server_entry *e;

	if (srv == NULL)
		return;
	if (srv->listener != NULL)
		evconnlistener_free(srv->listener);
	while ((e = TAILQ_FIRST(&srv->sessions)) != NULL) {
		TAILQ_REMOVE(&srv->sessions, e, entry);
		session_free(e->session);
		free(e);
	}
	/* After the sessions: they hold the references to its ports, and
	 * an undecided apply (its watchdog rolls back). */
	portreg_free(srv->shared.ports);
	applysrv_free(srv->shared.apply);
	armq_free(srv->shared.armq);
	free(srv);
}

int
server_bind(const struct reflector_config *cfg, int *out, char *err,
    size_t errlen)
{
	char host[ADDR_STRLEN];
	struct sockaddr_storage ss;
	socklen_t sl;
	uint16_t port;
	int fd = -1, on = 1, off = 0, saved;

	*out = -1;
	if (addr_split_hostport(cfg->listen, CONFIG_DEFAULT_PORT, host,
	    sizeof(host), &port) != 0 ||
	    addr_parse_ip(host, &ss, &sl) != 0) {
		snprintf(err, errlen, "bad listen address \"%s\"",
		    cfg->listen);
		return FTP_ERR_CONFIG;
	}
	addr_set_port((struct sockaddr *)&ss, port);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    IPPROTO_TCP);
	if (fd == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return FTP_ERR_SYSTEM;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    (ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &off, sizeof(off)) == -1)) {
		snprintf(err, errlen, "setsockopt: %s", strerror(errno));
		goto fail;
	}
	if (bind(fd, (struct sockaddr *)&ss, sl) == -1) {
		snprintf(err, errlen, "bind %s: %s", cfg->listen,
		    strerror(errno));
		goto fail;
	}
	*out = fd;
	return 0;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return FTP_ERR_SYSTEM;
}

int
server_start(struct server *srv, int fd, char *err, size_t errlen)
{
	srv->listener = evconnlistener_new(srv->base, server_accept_cb, srv,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, SERVER_BACKLOG, fd);
	if (srv->listener == NULL) {
		snprintf(err, errlen, "listen %s: %s", srv->cfg->listen,
		    strerror(errno));
		close(fd);
		return FTP_ERR_SYSTEM;
	}
	evconnlistener_set_error_cb(srv->listener, server_error_cb);
	log_info("listening on %s", srv->cfg->listen);
	return 0;
}

void
server_set_ctx(struct server *srv, SSL_CTX *ctx)
{
	/* Each SSL holds a reference to the context it was made from:
	 * sessions in flight keep theirs, whatever becomes of this one. */
	srv->ctx = ctx;
	/* The configuration was reloaded with it. */
	armq_set_budget(srv->shared.armq, srv->cfg->max_armed_ports);
}

unsigned
server_nsessions(const struct server *srv)
{
	return srv->nsessions;
}

/* One source address's handshakes in progress, for server_metrics. */
struct server_hs_run {
	const struct sockaddr *addr;
	unsigned n;
};

static int
server_hs_run_cmp(const void *pa, const void *pb)
{
	const struct server_hs_run *a = pa, *b = pb;

	return a->n > b->n ? -1 : a->n < b->n;
}

/* The handshakes in progress, in all and for the busiest sources. */
static void
server_metrics_hs(FILE *fp, struct server_hs_slot *v, unsigned n)
{
	struct server_hs_run *runs;
	char text[ADDR_STRLEN];
	unsigned i, k = 0, run;

	qsort(v, n, sizeof(*v), server_hs_slot_cmp);
	if ((runs = calloc(n > 0 ? n : 1, sizeof(*runs))) == NULL)
		return;
	for (i = 0; i < n; i += run) {
		for (run = 1; i + run < n && addr_equal(v[i].addr,
		    v[i + run].addr); run++)
			;
		runs[k].addr = v[i].addr;
		runs[k++].n = run;
	}
	qsort(runs, k, sizeof(*runs), server_hs_run_cmp);
	for (i = 0; i < k && i < SERVER_METRICS_PEERS; i++)
		fprintf(fp, "ftpath_reflector_handshakes_by_source{source=\"%s\"}"
		    " %u\n", addr_ntop(runs[i].addr, text, sizeof(text)),
		    runs[i].n);
	free(runs);
}

void
server_metrics(FILE *fp, void *arg)
{
	const struct server *srv = arg;
	struct server_hs_slot *v;
	struct server_entry *e;
	unsigned n = 0;

	fprintf(fp, "# HELP ftpath_reflector_armed_ports Probe ports armed now, "
	    "all sessions (the arming queue lets in max_armed_ports).\n"
	    "# TYPE ftpath_reflector_armed_ports gauge\n"
	    "ftpath_reflector_armed_ports %zu\n"
	    "# HELP ftpath_reflector_plans_queued Checked plans waiting in the "
	    "arming queue (an armed session of their address, or the port "
	    "budget).\n"
	    "# TYPE ftpath_reflector_plans_queued gauge\n"
	    "ftpath_reflector_plans_queued %zu\n",
	    armq_armed_ports(srv->shared.armq), armq_waiting(srv->shared.armq));
	TAILQ_FOREACH(e, &srv->sessions, entry)
		n += session_handshaking(e->session) != 0;
	fprintf(fp, "# HELP ftpath_reflector_handshakes Control connections in "
	    "their TLS handshake now (not yet authenticated).\n"
	    "# TYPE ftpath_reflector_handshakes gauge\n"
	    "ftpath_reflector_handshakes %u\n"
	    "# HELP ftpath_reflector_handshakes_by_source The same for the "
	    "busiest source addresses (at most %d).\n"
	    "# TYPE ftpath_reflector_handshakes_by_source gauge\n", n,
	    SERVER_METRICS_PEERS);
	if (n == 0 || (v = calloc(n, sizeof(*v))) == NULL)
		return;
	n = 0;
	TAILQ_FOREACH(e, &srv->sessions, entry)
		if (session_handshaking(e->session))
			v[n++].addr = session_peer(e->session);
	server_metrics_hs(fp, v, n);
	free(v);
}
