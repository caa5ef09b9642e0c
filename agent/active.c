/*
 * active.c - listener for the reflector's active-mode connect-back.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "active.h"
#include "control.h"
#include "err.h"
#include "log.h"
#include "proto.h"

/* Connections being read at once; more are refused as foreign, since a
 * legitimate session has exactly one connect-back. */
#define ACTIVE_MAX_CONNS	16

struct active_conn {
	LIST_ENTRY(active_conn) entry;
	struct active *a;
	int fd;
	struct event *ev;
	struct sockaddr_storage peer;
	struct sockaddr_storage local;
	size_t len;
	char buf[PROTO_PROBE_LINE_MAX + 1];
};

struct active {
	struct event_base *base;
	char token[PROTO_TOKEN_HEXLEN + 1];
	char probe_id[32];
	uint16_t source_port;
	unsigned timeout_ms;
	int fd;
	struct event *listen_ev;
	uint16_t port;
	LIST_HEAD(active_conns, active_conn) conns;
	unsigned nconns;
	unsigned foreign;
	struct probe_obs obs;
	/* What obs.trace_reason and obs.rule point at. */
	char trace_reason[128];
	struct probe_rule rule;
};

static void active_accept_cb(evutil_socket_t fd, short what, void *arg);
static void active_conn_cb(evutil_socket_t fd, short what, void *arg);

struct active *
active_new(struct event_base *base, const char *token, uint16_t source_port,
    unsigned timeout_ms)
{
	struct active *a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->base = base;
	snprintf(a->token, sizeof(a->token), "%s", token);
	snprintf(a->probe_id, sizeof(a->probe_id), "active-%u",
	    (unsigned)source_port);
	a->source_port = source_port;
	a->timeout_ms = timeout_ms;
	a->fd = -1;
	LIST_INIT(&a->conns);
	a->obs.kind = PROBE_ACTIVE;
	a->obs.port = source_port;
	a->obs.outcome = OUTCOME_NOT_RUN;
	return a;
}

int
active_set_probe_id(struct active *a, const char *probe_id)
{
	if (strlen(probe_id) >= sizeof(a->probe_id))
		return FTP_ERR_INVAL;
	snprintf(a->probe_id, sizeof(a->probe_id), "%s", probe_id);
	return 0;
}

static void
active_conn_free(struct active_conn *c)
{
	LIST_REMOVE(c, entry);
	c->a->nconns--;
	if (c->ev != NULL)
		event_free(c->ev);
	if (c->fd != -1)
		close(c->fd);
	free(c);
}

void
active_free(struct active *a)
{
	if (a == NULL)
		return;
	while (!LIST_EMPTY(&a->conns))
		active_conn_free(LIST_FIRST(&a->conns));
	if (a->listen_ev != NULL)
		event_free(a->listen_ev);
	if (a->fd != -1)
		close(a->fd);
	free(a);
}

int
active_listen(struct active *a, const struct sockaddr *local, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int on = 1, r = FTP_ERR_SYSTEM;

	memcpy(&ss, local, addr_len(local));
	addr_set_port((struct sockaddr *)&ss, port);
	a->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (a->fd == -1)
		goto out;
	/* A fixed --active-port must be reusable right after a run. */
	if (setsockopt(a->fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
	    bind(a->fd, (struct sockaddr *)&ss, addr_len((struct sockaddr *)
	    &ss)) != 0 || listen(a->fd, ACTIVE_MAX_CONNS) != 0 ||
	    getsockname(a->fd, (struct sockaddr *)&ss, &sl) != 0)
		goto out;
	a->port = addr_port((struct sockaddr *)&ss);
	a->listen_ev = event_new(a->base, a->fd, EV_READ | EV_PERSIST,
	    active_accept_cb, a);
	if (a->listen_ev == NULL || event_add(a->listen_ev, NULL) != 0) {
		r = FTP_ERR_NOMEM;
		goto out;
	}
	r = 0;
out:
	return r;
}

uint16_t
active_port(const struct active *a)
{
	return a->port;
}

int
active_arrived(const struct active *a)
{
	return a->obs.arrived;
}

unsigned
active_foreign(const struct active *a)
{
	return a->foreign;
}

static void
active_accept_one(struct active *a, int fd, const struct sockaddr_storage *ss)
{
	struct timeval tv = { a->timeout_ms / 1000,
	    (a->timeout_ms % 1000) * 1000 };
	struct active_conn *c;
	socklen_t sl;

	if (a->nconns >= ACTIVE_MAX_CONNS || (c = calloc(1, sizeof(*c))) ==
	    NULL) {
		a->foreign++;
		close(fd);
		return;
	}
	c->a = a;
	c->fd = fd;
	c->peer = *ss;
	addr_unmap(&c->peer);
	sl = sizeof(c->local);
	if (getsockname(fd, (struct sockaddr *)&c->local, &sl) == 0)
		addr_unmap(&c->local);
	LIST_INSERT_HEAD(&a->conns, c, entry);
	a->nconns++;
	c->ev = event_new(a->base, fd, EV_READ | EV_PERSIST, active_conn_cb,
	    c);
	if (c->ev == NULL || event_add(c->ev, &tv) != 0)
		active_conn_free(c);
}

static void
active_accept_cb(evutil_socket_t fd, short what, void *arg)
{
	struct active *a = arg;
	struct sockaddr_storage ss;
	socklen_t sl;
	int cfd;

	(void)what;
	for (;;) {
		sl = sizeof(ss);
		cfd = accept4(fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK |
		    SOCK_CLOEXEC);
		if (cfd == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED)
				log_warn("active: accept");
			return;
		}
		active_accept_one(a, cfd, &ss);
	}
}

/* A complete probe line arrived on c: accept it or count it foreign. */
static void
active_conn_line(struct active_conn *c)
{
	struct active *a = c->a;
	char token[PROTO_TOKEN_HEXLEN + 8], id[32], ack[PROTO_PROBE_LINE_MAX];
	char pbuf[ADDR_STRLEN];

	addr_ntop_port((struct sockaddr *)&c->peer, pbuf, sizeof(pbuf));
	if (proto_probe_parse(c->buf, c->len, token, sizeof(token), id,
	    sizeof(id)) != 0 || strcmp(token, a->token) != 0 ||
	    strcmp(id, a->probe_id) != 0) {
		a->foreign++;
		log_info("active: refused a connection from %s: not our "
		    "session's probe line", pbuf);
		return;
	}
	log_debug("active: connect-back from %s arrived", pbuf);
	if (!a->obs.arrived) {
		a->obs.arrived = 1;
		(void)addr_inet_set(&a->obs.seen_peer,
		    (struct sockaddr *)&c->peer);
		(void)addr_inet_set(&a->obs.seen_local,
		    (struct sockaddr *)&c->local);
	}
	/* Best effort: the reflector reports a missing ack in its result. */
	if (proto_probe_ack(ack, sizeof(ack), id) == 0 &&
	    send(c->fd, ack, strlen(ack), MSG_NOSIGNAL) < 0)
		log_debug("active: ack: %s", strerror(errno));
}

static void
active_conn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct active_conn *c = arg;
	ssize_t n;

	if (what & EV_TIMEOUT) {
		c->a->foreign++;
		log_info("active: a connection sent no probe line in time");
		active_conn_free(c);
		return;
	}
	n = recv(fd, c->buf + c->len, PROTO_PROBE_LINE_MAX - c->len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	if (n > 0) {
		c->len += (size_t)n;
		c->buf[c->len] = '\0';
		if (memchr(c->buf, '\n', c->len) == NULL &&
		    c->len < PROTO_PROBE_LINE_MAX)
			return;
		active_conn_line(c);
	} else {
		c->a->foreign++;	/* closed before a full line */
	}
	active_conn_free(c);
}

int
active_errno_from_name(const char *name)
{
	int e;

	if (name == NULL)
		return 0;
	/* glibc knows every name; walking its table avoids a copy here. */
	for (e = 1; e < 256; e++) {
		const char *s = strerrorname_np(e);

		if (s != NULL && strcmp(s, name) == 0)
			return e;
	}
	return 0;
}

static int
active_take_icmp(struct active *a, const json_t *icmp)
{
	const char *from = json_string_value(json_object_get(icmp, "from"));
	json_t *t = json_object_get(icmp, "type");
	json_t *c = json_object_get(icmp, "code");

	if (!json_is_integer(t) || !json_is_integer(c))
		return FTP_ERR_PROTO;
	a->obs.icmp.present = 1;
	a->obs.icmp.type = (uint8_t)json_integer_value(t);
	a->obs.icmp.code = (uint8_t)json_integer_value(c);
	a->obs.icmp.err = a->obs.error;
	a->obs.icmp.from.ss_family = AF_UNSPEC;
	if (from != NULL && control_parse_addr(from, 0, &a->obs.icmp.from)
	    != 0 && control_parse_addrport(from, &a->obs.icmp.from) != 0)
		a->obs.icmp.from.ss_family = AF_UNSPEC;
	/* The ICMP family follows the path's family, known from remote. */
	a->obs.icmp.family = a->obs.remote.ss_family == AF_INET6 ? AF_INET6 :
	    a->obs.icmp.from.ss_family == AF_INET6 ? AF_INET6 : AF_INET;
	return 0;
}

/* The server host's trace of the connect-back (PROTOCOL.md); none from
 * a reflector without it. */
static void
active_take_trace(struct active *a, const json_t *msg)
{
	const json_t *tr = json_object_get(msg, "trace");
	const json_t *rec = json_object_get(msg, "record");
	const char *why = json_string_value(json_object_get(tr, "reason"));

	a->obs.trace_state = control_trace_state(json_string_value(
	    json_object_get(tr, "state")));
	snprintf(a->trace_reason, sizeof(a->trace_reason), "%s",
	    why != NULL ? why : "");
	a->obs.trace_reason = a->trace_reason;
	a->obs.trace_record = 0;
	a->obs.cb_syn_sent = 0;
	a->obs.rule = NULL;
	if (a->obs.trace_state == TRACE_OBS_UNAVAILABLE ||
	    a->obs.trace_state == TRACE_OBS_NONE || !json_is_object(rec))
		return;
	a->obs.trace_record = 1;
	a->obs.cb_syn_sent = json_is_true(json_object_get(rec, "syn_sent"));
	if (control_parse_rule(json_object_get(rec, "verdict"), &a->rule) == 0)
		a->obs.rule = &a->rule;
}

int
active_set_result(struct active *a, const json_t *msg)
{
	const char *errname = json_string_value(json_object_get(msg, "error"));
	const json_t *icmp = json_object_get(msg, "icmp");
	json_t *ms = json_object_get(msg, "ms");
	int ok = json_is_true(json_object_get(msg, "ok"));

	(void)control_parse_addrport_inet(json_string_value(json_object_get(msg,
	    "local")), &a->obs.local);
	(void)control_parse_addrport_inet(json_string_value(json_object_get(msg,
	    "remote")), &a->obs.remote);
	if (json_is_number(ms) && json_number_value(ms) >= 0)
		a->obs.elapsed_ms = (unsigned)json_number_value(ms);
	a->obs.error = ok ? 0 : active_errno_from_name(errname);
	if (ok) {
		a->obs.outcome = OUTCOME_ACKED;
	} else if (json_is_object(icmp)) {
		if (active_take_icmp(a, icmp) != 0)
			return FTP_ERR_PROTO;
		a->obs.outcome = OUTCOME_ICMP;
	} else if (a->obs.error == ECONNREFUSED) {
		a->obs.outcome = OUTCOME_RESET;
	} else if (a->obs.error == ETIMEDOUT) {
		a->obs.outcome = OUTCOME_TIMEOUT;
	} else {
		a->obs.outcome = OUTCOME_LOCAL_ERROR;
	}
	active_take_trace(a, msg);
	return 0;
}

void
active_obs(const struct active *a, struct probe_obs *o)
{
	*o = a->obs;
}
