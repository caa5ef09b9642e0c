/*
 * session_plan.c - a session's plan: checked, queued for its turn
 * (armq.h), then armed: the probe ports' listeners or diversion, the
 * nftables trace, the ALG dialogue's server (see session.h and
 * common/PROTOCOL.md "plan", "queued", "armed").
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "addr.h"
#include "algsrv.h"
#include "armq.h"
#include "divert.h"
#include "err.h"
#include "fixgen.h"
#include "listener.h"
#include "log.h"
#include "mtusrv.h"
#include "proto.h"
#include "reqmsg.h"
#include "rstats.h"
#include "session.h"
#include "session_int.h"
#include "trace.h"

/* One run of the armed report. */
static int
session_add_run(json_t *ports, uint16_t lo, uint16_t hi,
    enum listener_state st, int err)
{
	char range[16];
	json_t *o;

	if (lo == hi)
		snprintf(range, sizeof(range), "%u", lo);
	else
		snprintf(range, sizeof(range), "%u-%u", lo, hi);
	if ((o = json_object()) == NULL)
		return FTP_ERR_NOMEM;
	json_object_set_new(o, "ports", json_string(range));
	json_object_set_new(o, "state", json_string(listener_state_name(st)));
	json_object_set_new(o, "detail", st == LISTENER_IN_USE ||
	    st == LISTENER_ERROR ? json_string(strerror(err)) : json_null());
	return json_array_append_new(ports, o) == 0 ? 0 : FTP_ERR_NOMEM;
}

static json_t *
session_armed_msg(const struct session *s)
{
	json_t *m, *ports;
	size_t i, n = listener_set_nports(s->listeners);
	uint16_t port, lo = 0, hi = 0;
	enum listener_state st, rst = LISTENER_LISTENING;
	int err, rerr = 0, have = 0;
	size_t nlisten = 0;

	if ((m = proto_msg_new("armed")) == NULL)
		return NULL;
	if ((ports = json_array()) == NULL ||
	    json_object_set_new(m, "ports", ports) != 0)
		goto fail;
	for (i = 0; i < n; i++) {
		listener_set_port(s->listeners, i, &port, &st, &err);
		if (st == LISTENER_LISTENING)
			nlisten++;
		if (have && port == hi + 1 && st == rst && err == rerr) {
			hi = port;
			continue;
		}
		if (have && session_add_run(ports, lo, hi, rst, rerr) != 0)
			goto fail;
		have = 1;
		lo = hi = port;
		rst = st;
		rerr = err;
	}
	if (have && session_add_run(ports, lo, hi, rst, rerr) != 0)
		goto fail;
	log_debug("session %s: %zu of %zu ports listening", s->peer_text,
	    nlisten, n);
	return m;
fail:
	json_decref(m);
	return NULL;
}

/*
 * Divert the agent's connections to the probe ports with tproxy (its
 * observed address only) when nftables can be used: an FTP server that
 * owns a port, or binds a passive port meanwhile, then never notices the
 * probe.  Without it, listen on the ports that are free.  Before "armed":
 * the agent's probes follow it at once.  The table is named after the
 * token (cut to an nftables session id).
 */
static int
session_arm_diverted(struct session *s, uint16_t cport,
    const struct portrange *rp)
{
	struct sockaddr_storage to;

	if (listener_set_divert(s->listeners, cport, rp, &to) != 0) {
		log_warn("session %s: no transparent listener, listening on "
		    "the free ports instead", s->peer_text);
		return FTP_ERR_SYSTEM;
	}
	s->trace = trace_new_diverting(s->base, s->token,
	    (struct sockaddr *)&s->observed, cport, rp,
	    s->cfg->active_source_port, (struct sockaddr *)&to, DIVERT_MARK);
	if (s->trace != NULL && trace_state(s->trace) != TRACE_UNAVAILABLE)
		return 0;
	if (trace_conflict(s->trace)) {
		trace_free(s->trace);
		s->trace = NULL;
		return FTP_ERR_AGAIN;
	}
	log_warnx("session %s: cannot install the tproxy rule, listening on "
	    "the free ports instead", s->peer_text);
	rstats_nft_failed();
	trace_free(s->trace);
	s->trace = NULL;
	return FTP_ERR_SYSTEM;
}

/* Where the agent's probes come from: its observed address and those
 * its plan names. */
struct session_peers {
	struct sockaddr_storage addr[REQMSG_MAX_AGENT_ADDRS + 1];
	size_t n;
};

/* A listener set that takes probes from the plan's addresses only. */
static int
session_new_listeners(struct session *s, unsigned wait_ms,
    const struct session_peers *peers)
{
	int r;

	s->listeners = listener_set_new(s->ports, (struct sockaddr *)&s->local,
	    s->token, wait_ms);
	if (s->listeners == NULL)
		return FTP_ERR_NOMEM;
	if ((r = listener_set_peers(s->listeners, peers->addr,
	    peers->n)) != 0) {
		listener_set_free(s->listeners);
		s->listeners = NULL;
	}
	return r;
}

static int
session_arm(struct session *s, uint16_t cport, const struct portrange *rp,
    unsigned wait_ms, const struct session_peers *peers)
{
	int r;

	if (trace_nft_usable()) {
		if ((r = session_new_listeners(s, wait_ms, peers)) != 0)
			return r;
		if ((r = session_arm_diverted(s, cport, rp)) == 0) {
			s->diverted = 1;
			return 0;
		}
		listener_set_free(s->listeners);
		s->listeners = NULL;
		if (r == FTP_ERR_AGAIN)
			return r;	/* another session's ports */
	}
	if ((r = session_new_listeners(s, wait_ms, peers)) != 0)
		return r;
	if ((r = listener_set_open(s->listeners, cport, rp)) != 0) {
		listener_set_free(s->listeners);
		s->listeners = NULL;
		return r;
	}
	s->trace = trace_new(s->base, s->token,
	    (struct sockaddr *)&s->observed, cport, rp,
	    s->cfg->active_source_port);
	return 0;
}

/* ---- the ALG dialogue's server (algsrv.h) ---- */

static int
session_alg_take_cb(void *arg, int fd, const char *probe)
{
	struct session *s = arg;

	/* mtu-* (mtusrv.h) first: it never claims an alg-* arrival. */
	if (mtusrv_take(s->mtu, fd, probe))
		return 1;
	return s->alg != NULL && algsrv_take(s->alg, fd, probe);
}

/* The dialogue's server, offered every arrival of the plan's listeners;
 * 227/229 name the first passive port (the control port without one). */
static int
session_alg_arm(struct session *s, uint16_t cport,
    const struct portrange *rp, json_int_t tmo)
{
	s->alg = algsrv_new(s->base, s->token, (struct sockaddr *)&s->local,
	    (struct sockaddr *)&s->observed, rp != NULL ? rp->lo : cport,
	    s->cfg->active_source_port, session_line_wait_ms(s, tmo));
	if (s->alg == NULL ||
	    (s->mtu = mtusrv_new(s->base, session_line_wait_ms(s, tmo))) ==
	    NULL)
		return FTP_ERR_NOMEM;
	algsrv_set_min_port(s->alg, s->cfg->connectback_min_port);
	listener_set_take(s->listeners, session_alg_take_cb, s);
	return 0;
}

/* ---- the queue and the plan ---- */

/* The idle timer reads too, except while the plan waits in the queue:
 * the agent has nothing to say until "armed". */
static void
session_idle_timeouts(struct session *s, int reading)
{
	struct timeval tv = { (time_t)s->cfg->session_timeout_s, 0 };

	bufferevent_set_timeouts(s->bev, reading ? &tv : NULL, &tv);
}

/* Arm the plan checked and let in by the queue (s->plan, s->fixreq). */
static void
session_plan_arm(struct session *s)
{
	const struct reqmsg_plan *q = &s->plan;
	const struct portrange *rp = q->has_passive ? &q->passive : NULL;
	uint16_t cport = q->control_port;
	unsigned tmo = q->timeout_ms;
	struct session_peers peers;
	char ptext[16] = "none";
	size_t i;
	int r;

	/* Probes come from the agent's address as seen here, and (dual
	 * stack, no NAT) from those it names; from nowhere else. */
	peers.addr[0] = s->observed;
	peers.n = 1;
	for (i = 0; i < q->n_agent_addrs; i++)
		peers.addr[peers.n++] = q->agent_addrs[i];
	if (rp != NULL)
		snprintf(ptext, sizeof(ptext), "%u-%u", rp->lo, rp->hi);
	session_idle_timeouts(s, 1);
	if ((r = session_arm(s, cport, rp, session_line_wait_ms(s, tmo),
	    &peers)) != 0 || (r = session_alg_arm(s, cport, rp, tmo)) != 0) {
		s->state = SESSION_READY;
		session_release(s);
		if (r == FTP_ERR_AGAIN) {
			session_error(s, "unexpected", "another session from "
			    "this address holds overlapping probe ports");
			return;
		}
		log_warnx("session %s: cannot arm: %s", s->peer_text,
		    ftp_strerror(r));
		session_error(s, "unexpected", "cannot arm the listeners");
		return;
	}
	trace_set_fixreq(s->trace, &s->fixreq);
	s->state = SESSION_ARMED;
	log_info("session %s: plan armed: control %u, passive %s, "
	    "%zu ports %s (server \"%.64s\")", s->peer_text, (unsigned)cport,
	    ptext, listener_set_nports(s->listeners),
	    s->diverted ? "diverted to the transparent listener" :
	    "listened on where free", q->server);
	session_send(s, session_armed_msg(s));
}

/* The queue let the plan in (deferred from session_grant_cb). */
static void
session_granted_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	(void)fd;
	(void)what;
	if (s->state != SESSION_QUEUED)
		return;
	log_debug("session %s: the arming queue let the plan in",
	    s->peer_text);
	session_plan_arm(s);
}

/* armq's grant callback runs inside another session's armq_leave():
 * arm on the next turn of the loop, not in the middle of that. */
static void
session_grant_cb(void *arg)
{
	struct session *s = arg;

	event_active(s->arm_ev, EV_TIMEOUT, 1);
}

static json_t *
session_queued_msg(struct session *s)
{
	json_t *m = proto_msg_new("queued");

	if (m == NULL)
		return NULL;
	json_object_set_new(m, "position", json_integer((json_int_t)
	    armq_ticket_position(s->armq, s->ticket)));
	json_object_set_new(m, "waiting_for", json_string(armq_wait_name(
	    armq_ticket_wait(s->ticket))));
	json_object_set_new(m, "armed_ports", json_integer((json_int_t)
	    armq_armed_ports(s->armq)));
	return m;
}

/*
 * A checked plan takes a ticket of the arming queue (armq.h): armed at
 * once when no session of the same address is armed and the port budget
 * has room, else "queued" now and "armed" when its turn comes.
 */
static void
session_plan_enqueue(struct session *s, size_t nports)
{
	int r;

	if (s->arm_ev == NULL && (s->arm_ev = evtimer_new(s->base,
	    session_granted_cb, s)) == NULL) {
		session_send(s, NULL);
		return;
	}
	r = armq_enter(s->armq, (struct sockaddr *)&s->observed, nports,
	    session_grant_cb, s, &s->ticket);
	if (r != 0) {
		session_send(s, NULL);
		return;
	}
	if (armq_ticket_wait(s->ticket) == ARMQ_WAIT_NONE) {
		session_plan_arm(s);
		return;
	}
	s->state = SESSION_QUEUED;
	session_idle_timeouts(s, 0);
	log_info("session %s: plan queued (waiting for %s, position %zu, "
	    "%zu ports armed)", s->peer_text, armq_wait_name(
	    armq_ticket_wait(s->ticket)), armq_ticket_position(s->armq,
	    s->ticket), armq_armed_ports(s->armq));
	session_send(s, session_queued_msg(s));
}

void
session_on_plan(struct session *s, const struct reqmsg_plan *q)
{
	const char *code = NULL;
	const struct portrange *rp = q->has_passive ? &q->passive : NULL;
	char reason[192];

	if (s->state == SESSION_ARMED || s->state == SESSION_QUEUED) {
		session_error(s, "unexpected", "a plan is already armed");
		return;
	}
	/* What the agent asks of its fixes: checked values only. */
	if (fixgen_req_parse(q->fix_borrowed,
	    (struct sockaddr *)&s->observed, &s->fixreq, reason,
	    sizeof(reason)) != 0) {
		session_error(s, "bad-request", reason);
		return;
	}
	if (listener_policy_check(s->cfg, q->control_port, rp, &code, reason,
	    sizeof(reason)) != 0) {
		session_error(s, code, reason);
		return;
	}
	s->plan = *q;
	s->plan.fix_borrowed = NULL;	/* the frame goes; fixreq stays */
	session_plan_enqueue(s, 1 + (rp != NULL ?
	    (size_t)(rp->hi - rp->lo) + 1 : 0));
}
