/*
 * traceroute.c - TCP traceroute with a failed probe's 5-tuple (see
 * traceroute.h).
 */
#include <errno.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "err.h"
#include "log.h"
#include "traceroute.h"

/* ---- pure ---- */

const char *
traceroute_result_name(enum traceroute_result r)
{
	switch (r) {
	case TRACEROUTE_SILENT:			return "silent";
	case TRACEROUTE_TIME_EXCEEDED:		return "time-exceeded";
	case TRACEROUTE_UNREACHABLE:		return "unreachable";
	case TRACEROUTE_ADMIN_PROHIBITED:	return "admin-prohibited";
	case TRACEROUTE_OTHER_ICMP:		return "icmp";
	case TRACEROUTE_RESET:			return "reset";
	case TRACEROUTE_CONNECTED:		return "connected";
	case TRACEROUTE_LOCAL_ERROR:		return "local-error";
	}
	return "?";
}

static int
traceroute_is_time_exceeded(const struct errq_icmp *e)
{
	return e->family == AF_INET ? e->type == ICMP_TIME_EXCEEDED :
	    e->type == ICMP6_TIME_EXCEEDED;
}

static int
traceroute_is_unreach(const struct errq_icmp *e)
{
	return e->family == AF_INET ? e->type == ICMP_DEST_UNREACH :
	    e->type == ICMP6_DST_UNREACH;
}

enum traceroute_result
traceroute_classify(int connected, int err, const struct errq_icmp *icmp)
{
	/* The error queue first: a refused connect may carry ICMP (port
	 * unreachable maps to ECONNREFUSED as a RST does). */
	if (icmp != NULL && icmp->present) {
		if (traceroute_is_time_exceeded(icmp))
			return TRACEROUTE_TIME_EXCEEDED;
		if (errq_is_admin_prohibited(icmp))
			return TRACEROUTE_ADMIN_PROHIBITED;
		if (traceroute_is_unreach(icmp))
			return TRACEROUTE_UNREACHABLE;
		return TRACEROUTE_OTHER_ICMP;
	}
	if (connected)
		return TRACEROUTE_CONNECTED;
	if (err == ECONNREFUSED)
		return TRACEROUTE_RESET;
	if (err == 0 || err == ETIMEDOUT || err == EINPROGRESS ||
	    err == EALREADY)
		return TRACEROUTE_SILENT;
	return TRACEROUTE_LOCAL_ERROR;
}

int
traceroute_is_final(enum traceroute_result r)
{
	return r != TRACEROUTE_TIME_EXCEEDED;
}

int
traceroute_path_add(struct traceroute_path *p, enum traceroute_result r,
    const struct sockaddr *from, const struct errq_icmp *icmp, int err)
{
	struct traceroute_hop *h;

	if (p->n >= TRACEROUTE_MAX_TTL)
		return FTP_ERR_INVAL;
	h = &p->hop[p->n];
	memset(h, 0, sizeof(*h));
	h->ttl = ++p->n;
	h->result = r;
	if (from != NULL && (from->sa_family == AF_INET ||
	    from->sa_family == AF_INET6)) {
		memcpy(&h->from, from, addr_len(from));
		addr_unmap(&h->from);
		addr_set_port((struct sockaddr *)&h->from, 0);
	}
	if (icmp != NULL && icmp->present) {
		h->icmp_type = icmp->type;
		h->icmp_code = icmp->code;
	}
	h->err = r == TRACEROUTE_LOCAL_ERROR ? err : 0;
	return 0;
}

static int
traceroute_is_icmp_answer(const struct traceroute_hop *h)
{
	return h->result == TRACEROUTE_TIME_EXCEEDED ||
	    h->result == TRACEROUTE_UNREACHABLE ||
	    h->result == TRACEROUTE_ADMIN_PROHIBITED ||
	    h->result == TRACEROUTE_OTHER_ICMP;
}

const struct traceroute_hop *
traceroute_last_answered(const struct traceroute_path *p)
{
	unsigned i;

	for (i = p->n; i > 0; i--)
		if (traceroute_is_icmp_answer(&p->hop[i - 1]) &&
		    p->hop[i - 1].from.ss_family != AF_UNSPEC)
			return &p->hop[i - 1];
	return NULL;
}

const struct traceroute_hop *
traceroute_reached(const struct traceroute_path *p)
{
	const struct traceroute_hop *h;

	if (p->n == 0)
		return NULL;
	h = &p->hop[p->n - 1];
	return h->result == TRACEROUTE_RESET ||
	    h->result == TRACEROUTE_CONNECTED ? h : NULL;
}

static int
traceroute_addr_same(const struct sockaddr_storage *a,
    const struct sockaddr_storage *b)
{
	if (a->ss_family == AF_UNSPEC || b->ss_family == AF_UNSPEC)
		return a->ss_family == b->ss_family;
	return addr_equal((const struct sockaddr *)a,
	    (const struct sockaddr *)b) &&
	    addr_port((const struct sockaddr *)a) ==
	    addr_port((const struct sockaddr *)b);
}

int
traceroute_path_equal(const struct traceroute_path *a,
    const struct traceroute_path *b)
{
	unsigned i;

	if (a->n != b->n || a->same_tuple != b->same_tuple ||
	    !traceroute_addr_same(&a->local, &b->local) ||
	    !traceroute_addr_same(&a->remote, &b->remote))
		return 0;
	for (i = 0; i < a->n; i++) {
		const struct traceroute_hop *x = &a->hop[i], *y = &b->hop[i];

		if (x->ttl != y->ttl || x->result != y->result ||
		    x->icmp_type != y->icmp_type ||
		    x->icmp_code != y->icmp_code || x->err != y->err ||
		    !traceroute_addr_same(&x->from, &y->from))
			return 0;
	}
	return 1;
}

static const char *
traceroute_ip(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	if (ss->ss_family == AF_UNSPEC)
		return "*";
	return addr_ntop((const struct sockaddr *)ss, buf, len);
}

/* " -> dies after X": what the last TTL says about the path. */
static void
traceroute_ending(const struct traceroute_path *p, char *buf, size_t len)
{
	const struct traceroute_hop *last = &p->hop[p->n - 1];
	const struct traceroute_hop *ans = traceroute_last_answered(p);
	char a[ADDR_STRLEN], f[ADDR_STRLEN];

	if (ans != NULL)
		traceroute_ip(&ans->from, a, sizeof(a));
	traceroute_ip(&last->from, f, sizeof(f));
	switch (last->result) {
	case TRACEROUTE_SILENT:
		if (ans != NULL)
			snprintf(buf, len, " -> dies after %s", a);
		else
			snprintf(buf, len, " -> no hop answered");
		break;
	case TRACEROUTE_TIME_EXCEEDED:
		snprintf(buf, len, " -> still on its way after TTL %u",
		    last->ttl);
		break;
	case TRACEROUTE_UNREACHABLE:
		snprintf(buf, len, " -> unreachable at %s", f);
		break;
	case TRACEROUTE_ADMIN_PROHIBITED:
		snprintf(buf, len, " -> rejected by %s", f);
		break;
	case TRACEROUTE_OTHER_ICMP:
		snprintf(buf, len, " -> ICMP %u/%u from %s", last->icmp_type,
		    last->icmp_code, f);
		break;
	case TRACEROUTE_RESET:
		snprintf(buf, len, " -> a RST at TTL %u in the name of %s "
		    "(from it, or from a middlebox on the way)", last->ttl, f);
		break;
	case TRACEROUTE_CONNECTED:
		snprintf(buf, len, " -> reached %s at TTL %u (handshake "
		    "completed)", f, last->ttl);
		break;
	case TRACEROUTE_LOCAL_ERROR:
		snprintf(buf, len, " -> the SYN could not be sent (%s)",
		    strerror(last->err));
		break;
	}
}

const char *
traceroute_format(const struct traceroute_path *p, const char *label,
    char *buf, size_t len)
{
	char end[2 * ADDR_STRLEN + 64], item[ADDR_STRLEN + 32], a[ADDR_STRLEN];
	size_t off, need;
	unsigned i;

	if (len == 0)
		return buf;
	if (label == NULL)
		label = "hops";
	if (p->n == 0) {
		snprintf(buf, len, "%s: none traced", label);
		return buf;
	}
	traceroute_ending(p, end, sizeof(end));
	off = (size_t)snprintf(buf, len, "%s:", label);
	if (off >= len)
		return buf;
	for (i = 0; i < p->n && off < len; i++) {
		const struct traceroute_hop *h = &p->hop[i];

		snprintf(item, sizeof(item), "%s %u %s %s", i ? "," : "",
		    h->ttl, traceroute_ip(&h->from, a, sizeof(a)),
		    traceroute_result_name(h->result));
		/* Keep room for the ending and a possible " ...". */
		need = strlen(item) + (i + 1 < p->n ? 5 : 0) + strlen(end);
		if (off + need >= len) {
			off += (size_t)snprintf(buf + off, len - off, " ...");
			break;
		}
		off += (size_t)snprintf(buf + off, len - off, "%s", item);
	}
	if (off < len)
		snprintf(buf + off, len - off, "%s", end);
	return buf;
}

/* ---- the engine ---- */

struct traceroute {
	struct event_base *base;
	struct traceroute_path path;
	unsigned max_ttl;
	unsigned budget_ms;
	uint64_t t0_ms;		/* clock_mono_ms() at the start */
	int fd;
	struct event *ev;
	int done;
};

struct traceroute *
traceroute_new(struct event_base *base, const struct sockaddr *local,
    const struct sockaddr *remote, unsigned max_ttl, unsigned budget_ms)
{
	struct traceroute *t;

	if (local->sa_family != remote->sa_family ||
	    (remote->sa_family != AF_INET && remote->sa_family != AF_INET6))
		return NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->base = base;
	t->fd = -1;
	memcpy(&t->path.local, local, addr_len(local));
	memcpy(&t->path.remote, remote, addr_len(remote));
	t->path.same_tuple = addr_port(local) != 0;
	t->max_ttl = max_ttl == 0 || max_ttl > TRACEROUTE_MAX_TTL ?
	    TRACEROUTE_MAX_TTL : max_ttl;
	t->budget_ms = budget_ms;
	return t;
}

static void
traceroute_close(struct traceroute *t, int abortive)
{
	struct linger lg = { 1, 0 };

	if (t->ev != NULL) {
		event_free(t->ev);
		t->ev = NULL;
	}
	if (t->fd == -1)
		return;
	/* A completed handshake is closed with a RST, not a FIN: the
	 * server's service gets no half-open session, and our port is not
	 * left in TIME_WAIT. */
	if (abortive)
		(void)setsockopt(t->fd, SOL_SOCKET, SO_LINGER, &lg,
		    sizeof(lg));
	close(t->fd);
	t->fd = -1;
}

void
traceroute_free(struct traceroute *t)
{
	if (t == NULL)
		return;
	traceroute_close(t, 1);
	free(t);
}

int
traceroute_done(const struct traceroute *t)
{
	return t->done;
}

const struct traceroute_path *
traceroute_path(const struct traceroute *t)
{
	return &t->path;
}

static unsigned
traceroute_left_ms(const struct traceroute *t)
{
	uint64_t ms = clock_mono_ms() - t->t0_ms;

	return ms >= t->budget_ms ? 0 : t->budget_ms - (unsigned)ms;
}

static void traceroute_send(struct traceroute *t);

/* Record this TTL's answer and go on, or stop. */
static void
traceroute_record(struct traceroute *t, int connected, int err)
{
	struct errq_icmp icmp;
	struct sockaddr_storage from;
	enum traceroute_result r;

	memset(&icmp, 0, sizeof(icmp));
	if (t->fd != -1 && errq_read(t->fd, &icmp) != 0)
		icmp.present = 0;
	r = traceroute_classify(connected, err, &icmp);
	memset(&from, 0, sizeof(from));
	if (icmp.present)
		from = icmp.from;
	else if (r == TRACEROUTE_RESET || r == TRACEROUTE_CONNECTED)
		from = t->path.remote;
	/* Cannot fail: the trace stops at max_ttl <= TRACEROUTE_MAX_TTL. */
	(void)traceroute_path_add(&t->path, r, from.ss_family == AF_UNSPEC ?
	    NULL : (struct sockaddr *)&from, &icmp, err);
	log_debug("traceroute: TTL %u: %s", t->path.n,
	    traceroute_result_name(t->path.hop[t->path.n - 1].result));
	traceroute_close(t, connected);
	if (traceroute_is_final(t->path.hop[t->path.n - 1].result) ||
	    t->path.n >= t->max_ttl || traceroute_left_ms(t) == 0) {
		t->done = 1;
		return;
	}
	traceroute_send(t);
}

static int
traceroute_connected(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	return getpeername(fd, (struct sockaddr *)&ss, &sl) == 0;
}

/* Wait for the rest of the budget; -1 when none is left. */
static int
traceroute_rearm(struct traceroute *t)
{
	unsigned left = traceroute_left_ms(t);
	struct timeval tv = { left / 1000, (left % 1000) * 1000 };

	if (left == 0 || t->ev == NULL)
		return -1;
	return event_add(t->ev, &tv) == 0 ? 0 : -1;
}

static void
traceroute_io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct traceroute *t = arg;
	int err = 0;
	socklen_t el = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
		err = errno;
	if (err == 0 && traceroute_connected(fd)) {
		traceroute_record(t, 1, 0);
		return;
	}
	if (err != 0 && err != EINPROGRESS && err != EALREADY) {
		traceroute_record(t, 0, err);
		return;
	}
	/* At the deadline, an ICMP that did not fail the connect still
	 * answers (the error queue is read either way); a spurious wake-up
	 * waits for the rest of the budget. */
	if ((what & EV_TIMEOUT) || traceroute_rearm(t) != 0)
		traceroute_record(t, 0, ETIMEDOUT);
}

static int
traceroute_set_ttl(int fd, int family, int ttl)
{
	if (family == AF_INET)
		return setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));
	return setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl,
	    sizeof(ttl));
}

/*
 * The probe's own source port, with SO_REUSEADDR so that the previous
 * TTL's socket (closed, maybe not yet unhashed) does not stand in the
 * way.  If another socket holds the port, the kernel picks one: the
 * trace goes on with a different 5-tuple and says so (same_tuple 0),
 * and keeps that port for its later TTLs.
 */
static int
traceroute_bind(struct traceroute *t)
{
	struct sockaddr *l = (struct sockaddr *)&t->path.local;
	socklen_t sl = sizeof(t->path.local);
	int on = 1;

	if (setsockopt(t->fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0)
		return -1;
	if (bind(t->fd, l, addr_len(l)) == 0)
		return 0;
	if (errno != EADDRINUSE || addr_port(l) == 0)
		return -1;
	log_debug("traceroute: source port %u is taken; another is used",
	    addr_port(l));
	addr_set_port(l, 0);
	if (bind(t->fd, l, addr_len(l)) != 0 ||
	    getsockname(t->fd, l, &sl) != 0)
		return -1;
	t->path.same_tuple = 0;
	return 0;
}

/* One SYN at TTL n + 1; its answer (or the budget's end) comes to
 * traceroute_io_cb. */
static void
traceroute_send(struct traceroute *t)
{
	const struct sockaddr *r = (const struct sockaddr *)&t->path.remote;

	t->fd = socket(r->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (t->fd == -1 || errq_enable(t->fd, r->sa_family) != 0 ||
	    traceroute_set_ttl(t->fd, r->sa_family, (int)t->path.n + 1) != 0 ||
	    traceroute_bind(t) != 0) {
		traceroute_record(t, 0, errno != 0 ? errno : EINVAL);
		return;
	}
	if (connect(t->fd, r, addr_len(r)) == -1 && errno != EINPROGRESS) {
		traceroute_record(t, 0, errno);
		return;
	}
	t->ev = event_new(t->base, t->fd, EV_WRITE, traceroute_io_cb, t);
	if (t->ev == NULL || traceroute_rearm(t) != 0)
		traceroute_record(t, 0, t->ev == NULL ? ENOMEM : ETIMEDOUT);
}

int
traceroute_start(struct traceroute *t)
{
	if (t->done || t->path.n != 0)
		return 0;
	t->t0_ms = clock_mono_ms();
	traceroute_send(t);
	return 0;
}
