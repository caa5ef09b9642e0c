/*
 * session.c - one agent's control session: TLS, frames, timers and
 * admission (see session.h and common/PROTOCOL.md); its requests are
 * session_req.c.
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
#include "mtusrv.h"
#include "channel.h"
#include "connectback.h"
#include "divert.h"
#include "err.h"
#include "fixgen.h"
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

/* Stop reading while this much output is queued (an agent that sends
 * pings and never reads must not grow our memory). */
#define SESSION_OUT_MAX		(1024 * 1024)

const char *
session_tag(const struct session *s)
{
	return s->have_token ? s->token : "-";
}

/* ---- sending ---- */

void
session_send(struct session *s, json_t *msg)
{
	int r;

	if (msg == NULL) {
		log_warnx("session %s: out of memory building a reply",
		    s->peer_text);
		session_close(s);
		return;
	}
	if ((r = channel_send(s->bev, msg)) != 0) {
		log_warnx("session %s: cannot send %s: %s", s->peer_text,
		    proto_type(msg), ftp_strerror(r));
		json_decref(msg);
		session_close(s);
		return;
	}
	log_debug("session %s: sent %s", s->peer_text, proto_type(msg));
	json_decref(msg);
}

void
session_error(struct session *s, const char *code, const char *message)
{
	log_debug("session %s: error %s: %s", s->peer_text, code, message);
	session_send(s, proto_error_new(code, message));
}

/*
 * Refused for max_sessions: "busy" with the wait the recent sessions
 * suggest (rstats.h), so that the agent waits and tries again instead of
 * giving up (PROTOCOL.md).
 */
static void
session_busy(struct session *s)
{
	json_t *e = proto_error_new("busy", "the reflector serves its maximum "
	    "number of sessions; try again after retry_after_ms");

	if (e != NULL)
		json_object_set_new(e, "retry_after_ms",
		    json_integer(rstats_retry_after_ms()));
	log_debug("session %s: busy, retry after %u ms", s->peer_text,
	    rstats_retry_after_ms());
	session_send(s, e);
}

/* ---- life cycle ---- */

/* Tell the owner we are done; nothing may touch s afterwards. */
static void
session_finish(struct session *s)
{
	if (s->state == SESSION_DONE)
		return;
	s->state = SESSION_DONE;
	bufferevent_disable(s->bev, EV_READ | EV_WRITE);
	s->hooks->closed(s, s->hooks_arg);
}

/*
 * Stop reading and release the probes now; the bufferevent lives until
 * the last frame left the output buffer (session_write_cb).
 */
void
session_close(struct session *s)
{
	struct timeval tv = { SESSION_CLOSE_WAIT_S, 0 };

	if (s->state == SESSION_CLOSING || s->state == SESSION_DONE)
		return;
	s->state = SESSION_CLOSING;
	session_release(s);
	bufferevent_disable(s->bev, EV_READ);
	bufferevent_set_timeouts(s->bev, NULL, &tv);
}

/* After any callback: finish when closing and everything was written. */
static void
session_settle(struct session *s)
{
	if (s->state == SESSION_CLOSING &&
	    evbuffer_get_length(bufferevent_get_output(s->bev)) == 0)
		session_finish(s);
}

static void
session_read_cb(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;
	json_t *msg;
	int r;

	while (s->state != SESSION_CLOSING && s->state != SESSION_DONE) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) >
		    SESSION_OUT_MAX) {
			/* Resumed by session_write_cb once drained. */
			s->throttled = 1;
			bufferevent_disable(bev, EV_READ);
			break;
		}
		r = channel_recv(bev, &msg);
		if (r == FTP_ERR_AGAIN)
			break;
		if (r != 0) {
			log_warnx("session %s: %s from agent, closing",
			    s->peer_text, ftp_strerror(r));
			session_error(s, "bad-request", r == FTP_ERR_TOOBIG ?
			    "frame too large" : "malformed frame");
			session_close(s);
			break;
		}
		session_dispatch(s, msg);
		json_decref(msg);
	}
	session_settle(s);
}

static void
session_write_cb(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;

	if (s->throttled && s->state != SESSION_CLOSING &&
	    s->state != SESSION_DONE) {
		s->throttled = 0;
		bufferevent_enable(bev, EV_READ);
		/* Input may already be buffered: no new read event comes. */
		session_read_cb(bev, s);
		return;
	}
	session_settle(s);
}

/*
 * Reason of a TLS-level failure for the log.  Returns 1 when it was only
 * the peer closing without close_notify (OpenSSL 3 reports that as an
 * error, libevent 2.1 does not map it to EOF), which is a normal end.
 */
static int
session_tls_error(struct session *s, char *buf, size_t len)
{
	unsigned long e;
	SSL *ssl = bufferevent_openssl_get_ssl(s->bev);
	int eof = 0, any = 0;

	buf[0] = '\0';
	while ((e = bufferevent_get_openssl_error(s->bev)) != 0) {
		any = 1;
#ifdef SSL_R_UNEXPECTED_EOF_WHILE_READING
		if (ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
			eof = 1;
#endif
		if (buf[0] == '\0')
			ERR_error_string_n(e, buf, len);
	}
	if (buf[0] == '\0' && ssl != NULL)
		tls_last_error(ssl, buf, len);
	if (buf[0] == '\0')
		snprintf(buf, len, "%s", errno != 0 ? strerror(errno) :
		    "connection closed");
	return eof && any;
}

static void
session_on_connected(struct session *s)
{
	char name[256];
	struct timeval tv;

	tls_peer_name(bufferevent_openssl_get_ssl(s->bev), name, sizeof(name));
	/* Authenticated: only now does it compete for a session slot, and
	 * only an allowed name does. */
	s->state = SESSION_HELLO;
	evtimer_del(s->deadline);
	if (!config_agent_allowed(s->cfg, name)) {
		s->refuse = 1;
		log_warnx("session %s: refused, agent certificate \"%s\" "
		    "matches no allowed_agents pattern", s->peer_text, name);
		rstats_refused(RSTATS_NOT_ALLOWED);
		session_error(s, "not-allowed", "this agent certificate is "
		    "not in the reflector's allowed_agents");
		session_close(s);
		session_settle(s);
		return;
	}
	s->refuse = s->hooks->admit(s, s->hooks_arg) != 0;
	if (s->refuse) {
		log_warnx("session %s (%s): refused, too many sessions",
		    s->peer_text, name);
		rstats_refused(RSTATS_TOO_MANY_SESSIONS);
		session_busy(s);
		session_close(s);
		session_settle(s);
		return;
	}
	log_info("session %s: started, agent certificate \"%s\"", s->peer_text,
	    name);
	rstats_session_started();
	s->counted = 1;
	clock_gettime(CLOCK_MONOTONIC, &s->started);
	tv.tv_sec = s->cfg->session_timeout_s;
	tv.tv_usec = 0;
	bufferevent_set_timeouts(s->bev, &tv, &tv);
	tv.tv_sec = s->cfg->session_lifetime_s;
	evtimer_add(s->deadline, &tv);
}

/* The handshake deadline or the lifetime ran out. */
static void
session_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	(void)fd;
	(void)what;
	if (s->state == SESSION_HANDSHAKE) {
		log_debug("session %s: TLS handshake not finished within %us, "
		    "dropped", s->peer_text, s->cfg->handshake_timeout_s);
		rstats_refused(RSTATS_HANDSHAKE_TIMEOUT);
		session_finish(s);
		return;
	}
	if (s->state == SESSION_CLOSING || s->state == SESSION_DONE)
		return;
	log_info("session %s: lifetime of %us reached, closing (token "
	    "%.8s...)", s->peer_text, s->cfg->session_lifetime_s,
	    session_tag(s));
	session_error(s, "lifetime", "the session reached its maximum "
	    "lifetime");
	session_close(s);
	session_settle(s);
}

static void
session_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;
	char reason[256];

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		session_on_connected(s);
		return;
	}
	if (s->state == SESSION_HANDSHAKE) {
		if (what & BEV_EVENT_TIMEOUT)
			snprintf(reason, sizeof(reason), "handshake timed out");
		else
			(void)session_tls_error(s, reason, sizeof(reason));
		log_warnx("session %s: TLS handshake failed: %s", s->peer_text,
		    reason);
		rstats_refused(RSTATS_TLS_FAILED);
	} else if (what & BEV_EVENT_TIMEOUT) {
		if (s->state == SESSION_CLOSING)
			log_debug("session %s: could not flush the last frame",
			    s->peer_text);
		else
			log_info("session %s: idle for %us, closing (token "
			    "%.8s...)", s->peer_text, s->cfg->session_timeout_s,
			    session_tag(s));
	} else if (s->state != SESSION_CLOSING) {
		if ((what & BEV_EVENT_ERROR) &&
		    !session_tls_error(s, reason, sizeof(reason))) {
			log_info("session %s: ended: %s (token %.8s...)",
			    s->peer_text, reason, session_tag(s));
		} else {
			log_info("session %s: ended: agent closed the "
			    "connection (token %.8s...)", s->peer_text,
			    session_tag(s));
		}
	}
	session_finish(s);
}

struct session *
session_new(struct event_base *base, const struct reflector_config *cfg,
    const struct session_shared *sh, struct bufferevent *bev,
    const struct session_hooks *hooks, void *hooks_arg)
{
	struct session *s;
	socklen_t sl;
	evutil_socket_t fd = bufferevent_getfd(bev);
	struct timeval tv;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->base = base;
	s->cfg = cfg;
	s->ports = sh->ports;
	s->apply = sh->apply;
	s->armq = sh->armq;
	s->bev = bev;
	s->hooks = hooks;
	s->hooks_arg = hooks_arg;
	s->state = SESSION_HANDSHAKE;
	sl = sizeof(s->observed);
	if (getpeername(fd, (struct sockaddr *)&s->observed, &sl) == -1)
		goto fail;
	sl = sizeof(s->local);
	if (getsockname(fd, (struct sockaddr *)&s->local, &sl) == -1)
		goto fail;
	addr_unmap(&s->observed);
	addr_unmap(&s->local);
	addr_ntop_port((struct sockaddr *)&s->observed, s->peer_text,
	    sizeof(s->peer_text));
	/* A hard deadline for the handshake: a peer trickling a byte a
	 * second must not hold a slot longer than one that sends nothing. */
	if ((s->deadline = evtimer_new(base, session_deadline_cb, s)) == NULL)
		goto fail;
	tv.tv_sec = cfg->handshake_timeout_s;
	tv.tv_usec = 0;
	if (evtimer_add(s->deadline, &tv) == -1)
		goto fail;
	bufferevent_setcb(bev, session_read_cb, session_write_cb,
	    session_event_cb, s);
	if (bufferevent_enable(bev, EV_READ | EV_WRITE) == -1)
		goto fail;
	log_debug("session %s: connection on %s", s->peer_text,
	    addr_ntop_port((struct sockaddr *)&s->local, (char[ADDR_STRLEN]){0},
	    ADDR_STRLEN));
	return s;
fail:
	bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
	if (s->deadline != NULL)
		event_free(s->deadline);
	free(s);
	return NULL;
}

void
session_free(struct session *s)
{
	SSL *ssl;

	if (s == NULL)
		return;
	if (s->counted)
		rstats_session_ended(clock_ms_since(&s->started));
	session_release(s);
	if (s->deadline != NULL)
		event_free(s->deadline);
	if (s->bev != NULL) {
		/* Best effort close_notify so that the agent sees a clean
		 * end; the socket is non-blocking, one attempt only. */
		ssl = bufferevent_openssl_get_ssl(s->bev);
		if (ssl != NULL && s->state != SESSION_HANDSHAKE &&
		    SSL_is_init_finished(ssl)) {
			(void)SSL_shutdown(ssl);
			/* Errors of a dead peer must not reach the next
			 * session's log line through the thread's queue. */
			ERR_clear_error();
		}
		bufferevent_free(s->bev);
	}
	free(s);
}

const char *
session_token(const struct session *s)
{
	return s->have_token ? s->token : NULL;
}

int
session_refused(const struct session *s)
{
	return s->refuse;
}

int
session_handshaking(const struct session *s)
{
	return s->state == SESSION_HANDSHAKE;
}

const struct sockaddr *
session_peer(const struct session *s)
{
	return (const struct sockaddr *)&s->observed;
}
