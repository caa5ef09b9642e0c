/*
 * session_req.c - the requests of one agent's session: decoded by
 * reqmsg.h, dispatched through a table, each handled from its struct
 * (see session.h and common/PROTOCOL.md).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include "clock.h"
#include "addr.h"
#include "algsrv.h"
#include "armq.h"
#include "mtusrv.h"
#include "channel.h"
#include "connectback.h"
#include "err.h"
#include "hostinfo.h"
#include "listener.h"
#include "log.h"
#include "proto.h"
#include "reqmsg.h"
#include "rstats.h"
#include "session.h"
#include "session_int.h"
#include "tls.h"
#include "trace.h"

#ifndef FTPATH_VERSION
#define FTPATH_VERSION "0"
#endif

/* ---- limits ---- */

unsigned
session_cap_ms(const struct session *s, json_int_t ms)
{
	if ((uint64_t)ms > s->cfg->max_timeout_ms)
		return s->cfg->max_timeout_ms;
	return (unsigned)ms;
}

/*
 * How long an accepted probe connection may take to deliver its line.
 * The handshake already crossed the network, so this is not the agent's
 * RTT-derived timeout: an agent busy opening thousands of probes sends
 * lines late, and closing them early would fake failures.
 */
#define SESSION_LINE_WAIT_FLOOR_MS	5000

unsigned
session_line_wait_ms(const struct session *s, json_int_t ms)
{
	return session_cap_ms(s, ms > SESSION_LINE_WAIT_FLOOR_MS ? ms :
	    SESSION_LINE_WAIT_FLOOR_MS);
}

/* ---- message handlers ---- */

static void
session_on_hello(struct session *s, const struct reqmsg_hello *h)
{
	const char *token = h->token, *agent = h->agent;
	char obuf[ADDR_STRLEN], lbuf[ADDR_STRLEN];
	json_t *w;

	if (s->hooks->token_in_use(token, s, s->hooks_arg)) {
		session_error(s, "token-in-use",
		    "another live session uses this token");
		return;
	}
	w = proto_msg_new("welcome");
	if (w == NULL) {
		session_send(s, NULL);
		return;
	}
	addr_ntop((struct sockaddr *)&s->observed, obuf, sizeof(obuf));
	addr_ntop((struct sockaddr *)&s->local, lbuf, sizeof(lbuf));
	json_object_set_new(w, "reflector",
	    json_string("ftpath-reflector/" FTPATH_VERSION));
	json_object_set_new(w, "observed", json_string(obuf));
	json_object_set_new(w, "observed_port",
	    json_integer(addr_port((struct sockaddr *)&s->observed)));
	json_object_set_new(w, "local", json_string(lbuf));
	json_object_set_new(w, "local_port",
	    json_integer(addr_port((struct sockaddr *)&s->local)));
	json_object_set_new(w, "time_ms",
	    json_integer((json_int_t)clock_wall_ms()));
	json_object_set_new(w, "control_port",
	    json_integer(s->cfg->control_port));
	if (s->cfg->passive.lo != 0) {
		char range[16];

		snprintf(range, sizeof(range), "%u-%u", s->cfg->passive.lo,
		    s->cfg->passive.hi);
		json_object_set_new(w, "passive_range", json_string(range));
	} else {
		json_object_set_new(w, "passive_range", json_null());
	}
	json_object_set_new(w, "active_source_port",
	    json_integer(s->cfg->active_source_port));
	json_object_set_new(w, "max_ports",
	    json_integer(s->cfg->max_ports_per_session));
	if (hostinfo_welcome(w, s->cfg) != 0) {
		json_decref(w);
		session_send(s, NULL);
		return;
	}
	memcpy(s->token, token, PROTO_TOKEN_HEXLEN + 1);
	s->have_token = 1;
	s->state = SESSION_READY;
	log_info("session %s: hello from agent \"%.64s\", token %.8s...",
	    s->peer_text, agent, s->token);
	session_send(s, w);
}

static void
session_on_ping(struct session *s, const struct reqmsg_ping *q)
{
	json_t *p;

	if ((p = proto_msg_new("pong")) == NULL) {
		session_send(s, NULL);
		return;
	}
	json_object_set_new(p, "seq", json_integer(q->seq));
	/* Opaque: echoed unchanged (a reference, not a copy). */
	json_object_set(p, "t", (json_t *)q->t_borrowed);
	session_send(s, p);
}

/* ---- the ALG dialogue (algsrv.h) ---- */

static void
session_on_alg_report(struct session *s)
{
	if (s->alg == NULL) {
		session_error(s, "unexpected", "no plan armed");
		return;
	}
	session_send(s, algsrv_report(s->alg));
}

static void
session_alg_active_done_cb(json_t *msg, void *arg)
{
	session_send(arg, msg);
}

static void
session_on_alg_active(struct session *s, const struct reqmsg_wait *q)
{
	json_t *now = NULL;
	int r;

	if (s->alg == NULL) {
		session_error(s, "unexpected", "no plan armed");
		return;
	}
	r = algsrv_active(s->alg, session_cap_ms(s, q->timeout_ms), &now,
	    session_alg_active_done_cb, s);
	if (r == FTP_ERR_DENIED) {
		session_error(s, "alg-active-done",
		    "the ALG connect-back ran already in this session");
		return;
	}
	if (r != 0 || now != NULL)
		session_send(s, now);	/* NULL: out of memory, closes */
}

static void
session_active_done_cb(const struct connectback_result *res, void *arg)
{
	struct session *s = arg;
	char rbuf[ADDR_STRLEN];
	const char *local;
	json_t *m;

	s->active = ACTIVE_DONE;
	if ((m = connectback_result_msg("active-result", res)) == NULL)
		goto out;
	/* What the server host's own trace saw of this connection. */
	if (trace_connectback(s->trace, addr_port(
	    (const struct sockaddr *)&res->remote), m) != 0) {
		json_decref(m);
		m = NULL;
		goto out;
	}
	local = json_string_value(json_object_get(m, "local"));
	log_info("session %s: active connect-back %s -> %s: %s (%llu ms)",
	    s->peer_text, local != NULL ? local : "?",
	    addr_ntop_port((const struct sockaddr *)&res->remote, rbuf,
	    sizeof(rbuf)), res->ok ? "ok" : connectback_errno_name(res->err),
	    (unsigned long long)res->ms);
	applysrv_remember(s->apply, s->token, (struct sockaddr *)&s->observed,
	    m);
out:
	/* Freeing the connect-back here is safe: it calls us last. */
	connectback_free(s->connectback);
	s->connectback = NULL;
	session_send(s, m);
}

static void
session_on_active(struct session *s, const struct reqmsg_active *q)
{
	uint16_t port = q->port;
	char why[96];
	int r;

	if (s->active != ACTIVE_NONE) {
		session_error(s, "active-done",
		    "the active test ran already in this session");
		return;
	}
	/* The port policy of alg-active, so neither test dials what the
	 * other refuses. */
	if (connectback_port_refused(port,
	    s->cfg->connectback_min_port, why, sizeof(why)) != NULL) {
		session_error(s, "port-not-allowed", why);
		return;
	}
	/* Anti-bounce: the target is the observed address, nothing else. */
	s->connectback = connectback_new(s->base,
	    (struct sockaddr *)&s->local, s->cfg->active_source_port,
	    (struct sockaddr *)&s->observed, port, s->token,
	    session_cap_ms(s, q->timeout_ms), session_active_done_cb, s);
	if (s->connectback == NULL) {
		session_send(s, NULL);
		return;
	}
	if ((r = connectback_start(s->connectback)) != 0) {
		connectback_free(s->connectback);
		s->connectback = NULL;
		log_warnx("session %s: connect-back: %s", s->peer_text,
		    ftp_strerror(r));
		session_error(s, "unexpected", "cannot start the connect-back");
		return;
	}
	s->active = ACTIVE_RUNNING;
}

/* One arrival as the observations message carries it. */
static json_t *
session_arrival_json(const struct listener_arrival *a)
{
	char pbuf[ADDR_STRLEN], lbuf[ADDR_STRLEN];
	json_t *o;

	if ((o = json_object()) == NULL)
		return NULL;
	json_object_set_new(o, "probe", json_string(a->probe));
	json_object_set_new(o, "peer", json_string(addr_ntop_port(
	    (const struct sockaddr *)&a->peer, pbuf, sizeof(pbuf))));
	json_object_set_new(o, "local", json_string(addr_ntop_port(
	    (const struct sockaddr *)&a->local, lbuf, sizeof(lbuf))));
	json_object_set_new(o, "ms", json_integer((json_int_t)a->ms));
	return o;
}

/*
 * A frame is bounded by PROTO_MAX_PAYLOAD and a large passive range makes
 * more arrivals than fit, so collect is paged: the agent asks from index
 * "from" and gets "next" (the index to ask for next) or null at the end.
 */
static void
session_on_collect(struct session *s, const struct reqmsg_collect *q)
{
	json_t *m, *arr, *o;
	size_t i, n, from = q->from, used = 0, sz;
	if ((m = proto_msg_new("observations")) == NULL ||
	    (arr = json_array()) == NULL) {
		json_decref(m);
		session_send(s, NULL);
		return;
	}
	json_object_set_new(m, "arrivals", arr);
	if (from == 0 && trace_observations(s->trace, s->listeners, m,
	    &used) != 0) {
		json_decref(m);
		session_send(s, NULL);
		return;
	}
	n = s->listeners != NULL ? listener_set_narrivals(s->listeners) : 0;
	for (i = from; i < n; i++) {
		if ((o = session_arrival_json(listener_set_arrival(
		    s->listeners, i))) == NULL) {
			json_decref(m);
			session_send(s, NULL);
			return;
		}
		sz = json_dumpb(o, NULL, 0, JSON_COMPACT) + 1;
		if (used + sz > PROTO_MAX_PAYLOAD - SESSION_FRAME_SLACK) {
			json_decref(o);
			break;
		}
		used += sz;
		json_array_append_new(arr, o);
	}
	json_object_set_new(m, "next", i < n ?
	    json_integer((json_int_t)i) : json_null());
	json_object_set_new(m, "total", json_integer((json_int_t)n));
	json_object_set_new(m, "foreign", json_integer(s->listeners != NULL ?
	    listener_set_foreign(s->listeners) : 0));
	log_debug("session %s: collect from %zu: %zu of %zu arrivals",
	    s->peer_text, from, json_array_size(arr), n);
	/* What this reflector derived, kept for a later apply-request. */
	applysrv_remember(s->apply, s->token, (struct sockaddr *)&s->observed,
	    m);
	session_send(s, m);
}

/* Everything the plan armed.  The table (the tproxy rule) goes first,
 * so that no connection is diverted to a listener on its way out. */
void
session_release(struct session *s)
{
	if (s->trace != NULL && trace_state(s->trace) == TRACE_INCOMPLETE)
		rstats_trace_incomplete();
	/* Undecided: the watchdog rolls the server's patch back. */
	applysrv_owner_gone(s->apply, s);
	trace_free(s->trace);
	s->trace = NULL;
	listener_set_free(s->listeners);
	s->listeners = NULL;
	connectback_free(s->connectback);
	s->connectback = NULL;
	algsrv_free(s->alg);
	s->alg = NULL;
	mtusrv_free(s->mtu);
	s->mtu = NULL;
	/* Last: the sessions it held back may arm (on their next turn). */
	armq_leave(s->armq, s->ticket);
	s->ticket = NULL;
	if (s->arm_ev != NULL)
		event_free(s->arm_ev);
	s->arm_ev = NULL;
}

static void
session_on_bye(struct session *s)
{
	/* Close the listeners before answering, as PROTOCOL.md says. */
	session_release(s);
	session_send(s, proto_msg_new("bye"));
	log_info("session %s: bye (token %.8s...)", s->peer_text,
	    session_tag(s));
	session_close(s);
}

/*
 * apply-request / apply-confirm / apply-rollback (applysrv.h).  While
 * this session holds an undecided apply its idle timer outlasts the
 * window: the agent is busy re-testing, and the watchdog decides at
 * the deadline anyway.
 */
static void
session_on_apply(struct session *s, const json_t *msg)
{
	unsigned hold = 0;
	json_t *reply = applysrv_handle(s->apply, s,
	    (struct sockaddr *)&s->observed, msg, &hold);
	struct timeval tv = { s->cfg->session_timeout_s, 0 };

	if ((unsigned)tv.tv_sec < hold + SESSION_CLOSE_WAIT_S)
		tv.tv_sec = hold + SESSION_CLOSE_WAIT_S;
	bufferevent_set_timeouts(s->bev, &tv, &tv);
	session_send(s, reply);
}

/*
 * The requests: each decoded by reqmsg.h (every field check there), then
 * handled from the decoded struct.  A malformed request is answered
 * "bad-request" with the decoder's sentence.
 */
#define SESSION_ROUTE(name, kind, handler)				\
static void								\
session_route_##name(struct session *s, const json_t *msg)		\
{									\
	struct reqmsg_##kind q;						\
	const char *why = "bad request";				\
									\
	if (reqmsg_##kind(msg, &q, &why) != 0) {			\
		session_error(s, "bad-request", why);			\
		return;							\
	}								\
	handler(s, &q);							\
}

SESSION_ROUTE(hello, hello, session_on_hello)
SESSION_ROUTE(ping, ping, session_on_ping)
SESSION_ROUTE(plan, plan, session_on_plan)
SESSION_ROUTE(active, active, session_on_active)
SESSION_ROUTE(collect, collect, session_on_collect)
SESSION_ROUTE(alg_active, wait, session_on_alg_active)

static void
session_route_alg_report(struct session *s, const json_t *msg)
{
	(void)msg;
	session_on_alg_report(s);
}

static void
session_route_bye(struct session *s, const json_t *msg)
{
	(void)msg;
	session_on_bye(s);
}

/* In which states a request is taken: hello only first, the others
 * only after it (a plan twice and the like are the handlers' to say). */
enum session_route_when {
	ROUTE_FIRST,		/* SESSION_HELLO only */
	ROUTE_AFTER_HELLO,	/* any state but SESSION_HELLO */
};

/* {type, when, handler}. */
static const struct session_route {
	const char *type;
	enum session_route_when when;
	void (*fn)(struct session *, const json_t *);
} session_routes[] = {
	{ "hello", ROUTE_FIRST, session_route_hello },
	{ "ping", ROUTE_AFTER_HELLO, session_route_ping },
	{ "plan", ROUTE_AFTER_HELLO, session_route_plan },
	{ "active", ROUTE_AFTER_HELLO, session_route_active },
	{ "collect", ROUTE_AFTER_HELLO, session_route_collect },
	{ "alg-report", ROUTE_AFTER_HELLO, session_route_alg_report },
	{ "alg-active", ROUTE_AFTER_HELLO, session_route_alg_active },
	{ "bye", ROUTE_AFTER_HELLO, session_route_bye },
};

static const struct session_route *
session_route_of(const char *type)
{
	size_t i;

	for (i = 0; i < sizeof(session_routes) / sizeof(session_routes[0]);
	    i++)
		if (strcmp(session_routes[i].type, type) == 0)
			return &session_routes[i];
	return NULL;
}

void
session_dispatch(struct session *s, const json_t *msg)
{
	const char *type = proto_type(msg);
	const struct session_route *rt = session_route_of(type);

	log_debug("session %s: received %s", s->peer_text, type);
	if (strcmp(type, "error") == 0) {
		/* Never answer an error with an error (no ping-pong). */
		log_warnx("session %s: agent reported error %s: %s",
		    s->peer_text,
		    json_string_value(json_object_get(msg, "code")) ?
		    json_string_value(json_object_get(msg, "code")) : "?",
		    json_string_value(json_object_get(msg, "message")) ?
		    json_string_value(json_object_get(msg, "message")) : "");
		return;
	}
	if (rt == NULL && !applysrv_handles(type)) {
		session_error(s, "bad-request", "unknown message type");
		return;
	}
	if (rt != NULL && rt->when == ROUTE_FIRST && s->state != SESSION_HELLO) {
		session_error(s, "unexpected", "hello already received");
		return;
	}
	if ((rt == NULL || rt->when == ROUTE_AFTER_HELLO) &&
	    s->state == SESSION_HELLO) {
		session_error(s, "unexpected", "hello first");
		return;
	}
	if (rt != NULL)
		rt->fn(s, msg);
	else
		session_on_apply(s, msg);
}
