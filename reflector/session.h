/*
 * session.h - one agent's control session on the reflector.
 *
 * State machine (common/PROTOCOL.md): TLS handshake -> hello -> welcome
 * -> ping/pong -> plan -> armed -> active / collect -> bye; or, for
 * check --apply, hello -> apply-request -> apply-confirm|rollback -> bye.  Every field
 * of agent input is validated before anything changes; a bad request is
 * answered with an "error" frame and leaves the session as it was.  A
 * framing error is answered with "error" and the session closes.
 *
 * The session owns its bufferevent (and with it the TLS connection), its
 * probe listeners (references on the server's shared port registry) and
 * its connect-back.  It never frees itself: when it is
 * finished (bye, peer gone, idle timeout, refusal sent, handshake
 * deadline, lifetime) it calls hooks->closed and the owner calls
 * session_free().
 *
 * Two timers bound it besides the idle timeout (cfg->session_timeout_s,
 * reset by traffic): the TLS handshake must finish within
 * cfg->handshake_timeout_s and the whole session within
 * cfg->session_lifetime_s ("error" code "lifetime"), however busy.
 */
#ifndef FTPATH_SESSION_H
#define FTPATH_SESSION_H

#include <stdint.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "applysrv.h"
#include "config.h"
#include "portreg.h"

struct session;

struct session_hooks {
	/* Nonzero when another live session than self holds token. */
	int (*token_in_use)(const char *token, const struct session *self,
	    void *arg);
	/* The session is finished; the owner frees it (may be called from
	 * inside a callback of the session's bufferevent). */
	void (*closed)(struct session *s, void *arg);
	/* The TLS handshake finished (the agent is authenticated): nonzero
	 * to refuse it ("busy").  Only authenticated sessions
	 * compete for cfg->max_sessions. */
	int (*admit)(const struct session *s, void *arg);
};

/*
 * Take over bev (an accepting bufferevent_openssl with
 * BEV_OPT_CLOSE_ON_FREE).  When hooks->admit refuses it after the
 * handshake, the session only sends "error" code "busy" and
 * closes.  cfg, hooks and what sh points to (the process-wide objects
 * the sessions share) must outlive the session.  NULL on failure (bev
 * is then still the caller's).  Each session keeps in sh->apply the
 * fixes it sends and hands it the apply-* messages; it takes a ticket
 * of sh->armq with its plan and arms when the queue grants it.
 */
struct session_shared {
	struct portreg *ports;		/* the probe port registry */
	struct applysrv *apply;		/* check --apply (applysrv.h) */
	struct armq *armq;		/* who may arm now (armq.h) */
};
struct session *session_new(struct event_base *base,
    const struct reflector_config *cfg, const struct session_shared *sh,
    struct bufferevent *bev, const struct session_hooks *hooks,
    void *hooks_arg);
void session_free(struct session *s);

/* The session's token, or NULL before a valid hello. */
const char *session_token(const struct session *s);
/* Nonzero for a session hooks->admit refused. */
int session_refused(const struct session *s);
/* Nonzero while the TLS handshake has not finished (unauthenticated). */
int session_handshaking(const struct session *s);
/* The peer's address as accepted (unmapped). */
const struct sockaddr *session_peer(const struct session *s);

#endif
