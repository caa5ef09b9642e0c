/*
 * listener.c - probe listeners of one session (see listener.h).
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

#include "err.h"
#include "listener.h"
#include "log.h"
#include "privops.h"

#define LISTENER_BACKLOG	16
#define LISTENER_ACCEPT_BURST	64

struct listener_port {
	struct listener_set *ls;
	uint16_t port;
	enum listener_state state;
	int err;
	int fd;
	struct event *ev;
};

struct probe_conn {
	TAILQ_ENTRY(probe_conn) entry;
	struct listener_set *ls;
	int fd;
	struct event *ev;
	uint64_t deadline_ms;	/* absolute: a slow sender gains nothing */
	size_t len;
	char buf[PROTO_PROBE_LINE_MAX];
};

TAILQ_HEAD(probe_conn_list, probe_conn);

struct listener_set {
	struct event_base *base;
	struct sockaddr_storage local;
	char token[PROTO_TOKEN_HEXLEN + 1];
	unsigned probe_timeout_ms;
	unsigned max_conns;
	int opened;
	uint64_t armed_ms;

	struct listener_port *ports;
	size_t nports;

	struct probe_conn_list conns;
	unsigned nconns;
	int accept_paused;	/* at max_conns: SYNs wait in the backlog */

	struct listener_arrival *arrivals;
	size_t narrivals;
	size_t arrivals_cap;
	size_t arrivals_max;
	unsigned foreign;
};

static uint64_t
listener_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

const char *
listener_state_name(enum listener_state st)
{
	switch (st) {
	case LISTENER_LISTENING:	return "listening";
	case LISTENER_IN_USE:		return "in-use";
	case LISTENER_ERROR:		return "error";
	}
	return "error";
}

int
listener_policy_check(const struct reflector_config *cfg,
    uint16_t control_port, const struct portrange *passive,
    const char **code, char *msg, size_t msglen)
{
	unsigned count = 1;

	if (control_port == 0 || !portset_contains(cfg->allowed, control_port)) {
		*code = "port-not-allowed";
		snprintf(msg, msglen, "control port %u is not allowed",
		    control_port);
		return FTP_ERR_DENIED;
	}
	if (passive != NULL) {
		if (passive->lo == 0 || passive->lo > passive->hi ||
		    !portset_contains_range(cfg->allowed, passive)) {
			*code = "port-not-allowed";
			snprintf(msg, msglen, "passive range %u-%u is not "
			    "(entirely) allowed", passive->lo, passive->hi);
			return FTP_ERR_DENIED;
		}
		count = portrange_count(passive);
		if (control_port < passive->lo || control_port > passive->hi)
			count++;
	}
	if (count > cfg->max_ports_per_session) {
		*code = "too-many-ports";
		snprintf(msg, msglen, "%u ports requested, at most %u allowed",
		    count, cfg->max_ports_per_session);
		return FTP_ERR_DENIED;
	}
	return 0;
}

struct listener_set *
listener_set_new(struct event_base *base, const struct sockaddr *local,
    const char *token, unsigned probe_timeout_ms, unsigned max_conns)
{
	struct listener_set *ls;

	if (strlen(token) != PROTO_TOKEN_HEXLEN)
		return NULL;
	if ((ls = calloc(1, sizeof(*ls))) == NULL)
		return NULL;
	ls->base = base;
	memcpy(&ls->local, local, addr_len(local));
	addr_unmap(&ls->local);
	memcpy(ls->token, token, PROTO_TOKEN_HEXLEN + 1);
	ls->probe_timeout_ms = probe_timeout_ms;
	ls->max_conns = max_conns;
	TAILQ_INIT(&ls->conns);
	return ls;
}

/*
 * At max_conns the reflector stops accepting instead of closing what it
 * accepted: the kernel completes handshakes into the backlog, so a busy
 * reflector delays an ack but never turns a probe into a false failure.
 */
static void
listener_pause_accept(struct listener_set *ls, int pause)
{
	size_t i;

	if (ls->accept_paused == pause)
		return;
	ls->accept_paused = pause;
	for (i = 0; i < ls->nports; i++) {
		struct event *ev = ls->ports[i].ev;

		if (ev == NULL)
			continue;
		if (pause)
			event_del(ev);
		else if (event_add(ev, NULL) == -1)
			log_warnx("listener: cannot resume port %u",
			    ls->ports[i].port);
	}
}

static void
probe_conn_free(struct probe_conn *pc)
{
	struct listener_set *ls;

	if (pc == NULL)
		return;
	ls = pc->ls;
	TAILQ_REMOVE(&ls->conns, pc, entry);
	ls->nconns--;
	if (pc->ev != NULL)
		event_free(pc->ev);
	close(pc->fd);
	free(pc);
	/* Hysteresis: resume at half the cap, not on every free. */
	if (ls->accept_paused && ls->nconns <= ls->max_conns / 2)
		listener_pause_accept(ls, 0);
}

void
listener_set_free(struct listener_set *ls)
{
	size_t i;

	if (ls == NULL)
		return;
	while (!TAILQ_EMPTY(&ls->conns))
		probe_conn_free(TAILQ_FIRST(&ls->conns));
	for (i = 0; i < ls->nports; i++) {
		if (ls->ports[i].ev != NULL)
			event_free(ls->ports[i].ev);
		if (ls->ports[i].fd != -1)
			close(ls->ports[i].fd);
	}
	free(ls->ports);
	free(ls->arrivals);
	free(ls);
}

static void
listener_record(struct listener_set *ls, int fd, const char *probe)
{
	struct listener_arrival *a;
	struct sockaddr_storage ss;
	socklen_t sl;

	if (ls->narrivals >= ls->arrivals_max) {
		log_debug("listener: arrival list full, %s not recorded", probe);
		return;
	}
	if (ls->narrivals == ls->arrivals_cap) {
		size_t cap = ls->arrivals_cap ? ls->arrivals_cap * 2 : 64;
		struct listener_arrival *n;

		if ((n = reallocarray(ls->arrivals, cap, sizeof(*n))) == NULL) {
			log_warnx("listener: out of memory recording arrival");
			return;
		}
		ls->arrivals = n;
		ls->arrivals_cap = cap;
	}
	a = &ls->arrivals[ls->narrivals];
	memset(a, 0, sizeof(*a));
	snprintf(a->probe, sizeof(a->probe), "%s", probe);
	sl = sizeof(ss);
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0) {
		addr_unmap(&ss);
		a->peer = ss;
	}
	sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
		addr_unmap(&ss);
		a->local = ss;
	}
	a->ms = listener_now_ms() - ls->armed_ms;
	ls->narrivals++;
}

/* One read of a probe connection; frees pc when it is done. */
static void
listener_probe_cb(evutil_socket_t fd, short what, void *arg)
{
	struct probe_conn *pc = arg;
	struct listener_set *ls = pc->ls;
	char token[PROTO_TOKEN_HEXLEN + 2], probe[PROTO_PROBE_LINE_MAX];
	char ack[PROTO_PROBE_LINE_MAX + 16];
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
	if (n <= 0)
		goto foreign;
	pc->len += (size_t)n;
	r = proto_probe_parse(pc->buf, pc->len, token, sizeof(token), probe,
	    sizeof(probe));
	if (r == FTP_ERR_AGAIN) {
		if (pc->len < sizeof(pc->buf))
			goto again;
		log_debug("listener: probe line longer than %zu bytes",
		    sizeof(pc->buf));
		goto foreign;
	}
	if (r != 0 || strcmp(token, ls->token) != 0)
		goto foreign;
	listener_record(ls, fd, probe);
	if (proto_probe_ack(ack, sizeof(ack), probe) == 0)
		(void)send(fd, ack, strlen(ack), MSG_DONTWAIT | MSG_NOSIGNAL);
	log_debug("listener: probe %s arrived", probe);
	probe_conn_free(pc);
	return;
again:
	now = listener_now_ms();
	if (now < pc->deadline_ms) {
		struct timeval tv;
		uint64_t left = pc->deadline_ms - now;

		tv.tv_sec = (time_t)(left / 1000);
		tv.tv_usec = (suseconds_t)(left % 1000) * 1000;
		if (event_add(pc->ev, &tv) == 0)
			return;
	}
timeout:
	log_debug("listener: probe line timed out");
foreign:
	ls->foreign++;
	probe_conn_free(pc);
}

static void
listener_take(struct listener_set *ls, int fd)
{
	struct probe_conn *pc;
	struct timeval tv;

	if ((pc = calloc(1, sizeof(*pc))) == NULL) {
		close(fd);
		return;
	}
	pc->ls = ls;
	pc->fd = fd;
	pc->deadline_ms = listener_now_ms() + ls->probe_timeout_ms;
	pc->ev = event_new(ls->base, fd, EV_READ, listener_probe_cb, pc);
	TAILQ_INSERT_TAIL(&ls->conns, pc, entry);
	ls->nconns++;
	tv.tv_sec = ls->probe_timeout_ms / 1000;
	tv.tv_usec = (ls->probe_timeout_ms % 1000) * 1000;
	if (pc->ev == NULL || event_add(pc->ev, &tv) == -1) {
		log_warnx("listener: cannot watch probe connection");
		probe_conn_free(pc);
	}
}

static void
listener_accept_cb(evutil_socket_t fd, short what, void *arg)
{
	struct listener_port *lp = arg;
	int i, c;

	(void)what;
	for (i = 0; i < LISTENER_ACCEPT_BURST; i++) {
		if (lp->ls->nconns >= lp->ls->max_conns) {
			listener_pause_accept(lp->ls, 1);
			return;
		}
		c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (c == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED)
				log_warn("listener: accept on port %u",
				    lp->port);
			return;
		}
		listener_take(lp->ls, c);
	}
}

static int
listener_open_port(struct listener_set *ls, struct listener_port *lp)
{
	struct sockaddr_storage ss = ls->local;
	int fd;

	lp->ls = ls;
	lp->fd = -1;
	addr_set_port((struct sockaddr *)&ss, lp->port);
	if (privops_listen((struct sockaddr *)&ss, LISTENER_BACKLOG, &fd) != 0) {
		lp->err = errno;
		lp->state = errno == EADDRINUSE ? LISTENER_IN_USE :
		    LISTENER_ERROR;
		return 0;
	}
	lp->fd = fd;
	lp->ev = event_new(ls->base, fd, EV_READ | EV_PERSIST,
	    listener_accept_cb, lp);
	if (lp->ev == NULL || event_add(lp->ev, NULL) == -1) {
		lp->err = ENOMEM;
		lp->state = LISTENER_ERROR;
		if (lp->ev != NULL)
			event_free(lp->ev);
		lp->ev = NULL;
		close(fd);
		lp->fd = -1;
		return 0;
	}
	lp->state = LISTENER_LISTENING;
	return 0;
}

int
listener_set_open(struct listener_set *ls, uint16_t control_port,
    const struct portrange *passive)
{
	size_t n = 1, i;
	unsigned p;

	if (ls->opened)
		return FTP_ERR_INVAL;
	if (passive != NULL)
		n += portrange_count(passive);
	if ((ls->ports = calloc(n, sizeof(*ls->ports))) == NULL)
		return FTP_ERR_NOMEM;
	ls->opened = 1;
	ls->ports[ls->nports++].port = control_port;
	if (passive != NULL) {
		for (p = passive->lo; p <= passive->hi; p++) {
			if (p == control_port)
				continue;
			ls->ports[ls->nports++].port = (uint16_t)p;
		}
	}
	for (i = 0; i < ls->nports; i++)
		listener_open_port(ls, &ls->ports[i]);
	/* Every listening port may see a few probes (retries); bound it. */
	ls->arrivals_max = ls->nports * 4 + 16;
	ls->armed_ms = listener_now_ms();
	return 0;
}

size_t
listener_set_nports(const struct listener_set *ls)
{
	return ls->nports;
}

void
listener_set_port(const struct listener_set *ls, size_t i, uint16_t *port,
    enum listener_state *state, int *err)
{
	*port = ls->ports[i].port;
	*state = ls->ports[i].state;
	*err = ls->ports[i].err;
}

int
listener_set_holds(const struct listener_set *ls, uint16_t port)
{
	size_t lo, hi, mid;

	if (ls->nports == 0)
		return 0;
	if (ls->ports[0].port == port)
		return ls->ports[0].state == LISTENER_LISTENING;
	/* ports[1..] is the passive range, ascending. */
	lo = 1;
	hi = ls->nports;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (ls->ports[mid].port < port)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < ls->nports && ls->ports[lo].port == port &&
	    ls->ports[lo].state == LISTENER_LISTENING;
}

size_t
listener_set_narrivals(const struct listener_set *ls)
{
	return ls->narrivals;
}

const struct listener_arrival *
listener_set_arrival(const struct listener_set *ls, size_t i)
{
	return i < ls->narrivals ? &ls->arrivals[i] : NULL;
}

unsigned
listener_set_foreign(const struct listener_set *ls)
{
	return ls->foreign;
}
