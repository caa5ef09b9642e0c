/*
 * session_int.h - what session.c (the session's life: TLS, frames,
 * timers, admission) and session_req.c (the agent's requests, decoded by
 * reqmsg.h, dispatched and handled) share.  Not for other modules:
 * session.h is the interface.
 */
#ifndef FTPATH_SESSION_INT_H
#define FTPATH_SESSION_INT_H

#include <time.h>
#include <event2/bufferevent.h>
#include <jansson.h>

#include "addr.h"
#include "config.h"
#include "proto.h"
#include "reqmsg.h"
#include "fixgen.h"
#include "session.h"

#define SESSION_CLOSE_WAIT_S	5	/* to flush a last frame (bye, errors) */
/* Room left in a frame for the rest of the observations message. */
#define SESSION_FRAME_SLACK	1024

enum session_state {
	SESSION_HANDSHAKE,	/* TLS not yet up */
	SESSION_HELLO,		/* waiting for hello */
	SESSION_READY,		/* welcome sent, no plan yet */
	SESSION_QUEUED,		/* plan checked, waiting in the arming queue */
	SESSION_ARMED,		/* plan armed */
	SESSION_CLOSING,	/* flushing the last frame */
	SESSION_DONE,		/* hooks->closed called */
};

enum session_active {
	ACTIVE_NONE,
	ACTIVE_RUNNING,
	ACTIVE_DONE,
};

struct session {
	struct event_base *base;
	const struct reflector_config *cfg;
	struct bufferevent *bev;
	struct portreg *ports;		/* the server's, shared */
	struct applysrv *apply;		/* the server's, shared */
	struct armq *armq;		/* the server's, shared */
	struct armq_ticket *ticket;	/* its place there, from the plan on */
	struct event *arm_ev;		/* arms a plan the queue granted */
	struct reqmsg_plan plan;	/* the plan waiting (fix_borrowed NULL) */
	struct fixgen_req fixreq;	/* and its plan.fix */
	const struct session_hooks *hooks;
	void *hooks_arg;
	int refuse;
	int counted;		/* rstats_session_started() was called */
	struct timespec started;	/* when it was authenticated */
	enum session_state state;
	/* The handshake deadline, then the session's lifetime: one timer
	 * that traffic never resets (the bufferevent's timeouts are the
	 * idle timer, which a byte every few seconds would keep alive). */
	struct event *deadline;

	struct sockaddr_storage observed;	/* getpeername, unmapped */
	struct sockaddr_storage local;		/* getsockname, unmapped */
	char peer_text[ADDR_STRLEN];		/* for logs */
	char token[PROTO_TOKEN_HEXLEN + 1];
	int have_token;

	int throttled;			/* reading paused for output */

	struct listener_set *listeners;
	enum session_active active;
	struct connectback *connectback;
	struct trace *trace;		/* nftables trace, once armed */
	int diverted;			/* its table also holds the tproxy rule */
	struct algsrv *alg;		/* the ALG dialogue, once armed */
	struct mtusrv *mtu;		/* the MTU test's connections */
};

/* session.c */
const char *session_tag(const struct session *s);
/* Queue msg (consumed; NULL: out of memory, which closes). */
void session_send(struct session *s, json_t *msg);
void session_error(struct session *s, const char *code, const char *message);
/* Flush what is queued, then end (hooks->closed). */
void session_close(struct session *s);

/* session_req.c */
/* An agent's wait capped by max_timeout_ms; a probe line's wait (at
 * least SESSION_LINE_WAIT_FLOOR_MS, session_req.c says why). */
unsigned session_cap_ms(const struct session *s, json_int_t ms);
unsigned session_line_wait_ms(const struct session *s, json_int_t ms);
/* One decoded frame of the agent's. */
void session_dispatch(struct session *s, const json_t *msg);
/* Drop what the session armed: listeners, trace, connect-back, ALG. */
void session_release(struct session *s);

/* session_plan.c */
/* "plan": checked, queued until its turn, armed ("armed"). */
void session_on_plan(struct session *s, const struct reqmsg_plan *q);

#endif
