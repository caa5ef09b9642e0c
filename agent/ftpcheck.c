/*
 * ftpcheck.c - a real FTP session through the path (see ftpcheck.h).
 *
 * One control connection at a time, driven by a small state machine: each
 * state waits for exactly one thing (a connect, a reply, the end of a
 * transfer, a handshake) and one timer bounds that wait.  A wait that times
 * out while the server still owes us a reply leaves the control stream out
 * of step, so the session ends there rather than misreading late replies.
 *
 * This file holds the session and its control dialogue: the connections,
 * banner, login, PBSZ/PROT, QUIT, the timer and the session's end.  From
 * TYPE I to QUIT the data modes run in ftpcheck_mode.c; every reply is
 * still read here, and those to a mode's commands are passed on to it
 * (ftpcheck_mode.h), as are the timeouts of its waits.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "addr.h"
#include "clock.h"
#include "err.h"
#include "errq.h"
#include "ftpcheck.h"
#include "ftpcheck_int.h"
#include "ftpcheck_mode.h"
#include "log.h"

#define FTPCHECK_ARG_MAX	512	/* user, password, path */


/* ------------------------------------------------------------------ */
/* The session                                                         */
/* ------------------------------------------------------------------ */

static void ftpcheck_ctl_read_cb(struct bufferevent *bev, void *arg);
static void ftpcheck_ctl_event_cb(struct bufferevent *bev, short what,
    void *arg);
static void ftpcheck_timer_cb(evutil_socket_t fd, short what, void *arg);

/* User-supplied strings go into commands: no CR/LF, bounded. */
static int
ftpcheck_arg_dup(const char *s, const char *def, char **out)
{
	if (s == NULL)
		s = def;
	*out = NULL;
	if (s == NULL)
		return 0;
	if (strlen(s) > FTPCHECK_ARG_MAX || strpbrk(s, "\r\n") != NULL)
		return FTP_ERR_INVAL;
	if ((*out = strdup(s)) == NULL)
		return FTP_ERR_NOMEM;
	return 0;
}

struct ftpcheck *
ftpcheck_new(struct event_base *base, const struct sockaddr *server,
    const struct ftpcheck_opts *opts)
{
	static const struct ftpcheck_opts defaults;
	struct ftpcheck *fc = NULL;
	char name[ADDR_STRLEN];
	int r;

	if (opts == NULL)
		opts = &defaults;
	if (base == NULL || server == NULL || addr_len(server) == 0 ||
	    addr_port(server) == 0) {
		errno = EINVAL;
		return NULL;
	}
	if ((fc = calloc(1, sizeof(*fc))) == NULL)
		return NULL;
	fc->base = base;
	fc->data_fd = -1;
	fc->cur = -1;
	memcpy(&fc->server, server, addr_len(server));
	fc->modes = opts->modes ? opts->modes & FTPCHECK_MODES_ALL :
	    FTPCHECK_MODES_ALL;
	fc->timeout_ms = opts->timeout_ms ? opts->timeout_ms :
	    FTPCHECK_TIMEOUT_MS;
	fc->data_timeout_ms = opts->data_timeout_ms ? opts->data_timeout_ms :
	    fc->timeout_ms;
	fc->tls = opts->tls;
	fc->done_cb = opts->done_cb;
	fc->done_arg = opts->done_arg;
	addr_ntop(server, name, sizeof(name));
	if ((r = ftpcheck_arg_dup(opts->user, "anonymous", &fc->user)) != 0 ||
	    (r = ftpcheck_arg_dup(opts->password, "ftpath@",
	    &fc->password)) != 0 ||
	    (r = ftpcheck_arg_dup(opts->path, NULL, &fc->path)) != 0 ||
	    (r = ftpcheck_arg_dup(opts->server_name, name,
	    &fc->server_name)) != 0)
		goto fail;
	if ((fc->timer = evtimer_new(base, ftpcheck_timer_cb, fc)) == NULL) {
		r = FTP_ERR_NOMEM;
		goto fail;
	}
	return fc;
fail:
	ftpcheck_free(fc);
	errno = r == FTP_ERR_NOMEM ? ENOMEM : EINVAL;
	return NULL;
}

static void
ftpcheck_ctl_close(struct ftpcheck *fc)
{
	if (fc->bev != NULL) {
		bufferevent_free(fc->bev);
		fc->bev = NULL;
	}
	fc->gen++;
	ftpcheck_rparser_init(&fc->rp);
	fc->nreplies = 0;
}

void
ftpcheck_free(struct ftpcheck *fc)
{
	if (fc == NULL)
		return;
	ftpcheck_data_close(fc);
	ftpcheck_ctl_close(fc);
	if (fc->timer != NULL)
		event_free(fc->timer);
	ftpcheck_tls_free(fc);
	free(fc->user);
	free(fc->password);
	free(fc->path);
	free(fc->server_name);
	free(fc);
}

int
ftpcheck_done(const struct ftpcheck *fc)
{
	return fc->done;
}

const struct ftpcheck_result *
ftpcheck_result(const struct ftpcheck *fc)
{
	return &fc->res;
}

/* Enter a state that waits for something, with a fresh bound. */
void
ftpcheck_wait(struct ftpcheck *fc, enum ftpcheck_state st)
{
	struct timeval tv;
	unsigned ms = st == FC_DATA_CONNECT ? fc->data_timeout_ms :
	    fc->timeout_ms;

	fc->state = st;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(fc->timer, &tv);
}

static void
ftpcheck_finish(struct ftpcheck *fc)
{
	evtimer_del(fc->timer);
	fc->state = FC_DONE;
	fc->done = 1;
	fc->res.elapsed_ms = clock_ms_since(&fc->t0);
	if (fc->done_cb != NULL)
		fc->done_cb(fc->done_arg);
}

static int ftpcheck_ctl_open(struct ftpcheck *fc);

/* Where the reason an early end goes: the plain session's, the AUTH TLS
 * test's until its handshake worked, then the FTPS session's. */
static char *
ftpcheck_end_reason(struct ftpcheck *fc, size_t *len)
{
	if (!fc->tls_session) {
		*len = sizeof(fc->res.aborted);
		return fc->res.aborted;
	}
	if (!fc->res.tls.handshake_ok) {
		*len = sizeof(fc->res.tls.handshake_error);
		return fc->res.tls.handshake_error;
	}
	*len = sizeof(fc->res.ftps.aborted);
	return fc->res.ftps.aborted;
}

/*
 * End the current control connection.  why (printf format) says why it
 * ended early; NULL for a normal end.  The AUTH TLS connection follows the
 * plain one when asked for and the server was reachable at all.
 */
void
ftpcheck_session_end(struct ftpcheck *fc, const char *why, ...)
{
	size_t dlen;
	char *dst = ftpcheck_end_reason(fc, &dlen);
	va_list ap;

	if (why != NULL && dst[0] == '\0') {
		va_start(ap, why);
		vsnprintf(dst, dlen, why, ap);
		va_end(ap);
	}
	evtimer_del(fc->timer);
	ftpcheck_data_close(fc);
	ftpcheck_ctl_close(fc);
	if (!fc->tls_session && fc->tls && fc->res.control_connected) {
		fc->tls_session = 1;
		fc->cur = -1;		/* the FTPS modes start afresh */
		fc->res.tls.attempted = 1;
		if (ftpcheck_ctl_open(fc) == 0)
			return;
	}
	ftpcheck_finish(fc);
}

void
ftpcheck_send(struct ftpcheck *fc, const char *fmt, ...)
{
	struct evbuffer *out = bufferevent_get_output(fc->bev);
	va_list ap;

	va_start(ap, fmt);
	evbuffer_add_vprintf(out, fmt, ap);
	va_end(ap);
	evbuffer_add(out, "\r\n", 2);
}

/*
 * Open a control connection to the server (plain or for AUTH TLS).  The
 * connect() is ours, not libevent's: libevent reports an immediate failure
 * through the event callback from inside bufferevent_socket_connect(),
 * which would end the session twice; here it is a plain return value.
 */
static int
ftpcheck_ctl_open(struct ftpcheck *fc)
{
	const struct sockaddr *sa = (const struct sockaddr *)&fc->server;
	int fd, err;

	if ((fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		goto fail;
	/* The error queue tells an ICMP unreachable's type and sender. */
	(void)errq_enable(fd, sa->sa_family);
	if (connect(fd, sa, addr_len(sa)) == -1 && errno != EINPROGRESS)
		goto fail;
	fc->bev = bufferevent_socket_new(fc->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (fc->bev == NULL) {
		errno = ENOMEM;
		goto fail;
	}
	fd = -1;	/* the bufferevent owns it now */
	fc->gen++;
	bufferevent_setcb(fc->bev, ftpcheck_ctl_read_cb, NULL,
	    ftpcheck_ctl_event_cb, fc);
	bufferevent_enable(fc->bev, EV_READ | EV_WRITE);
	ftpcheck_wait(fc, FC_CONNECT);
	/* NULL: only wait for the connect already in flight. */
	fc->opening = 1;
	err = bufferevent_socket_connect(fc->bev, NULL, 0);
	fc->opening = 0;
	if (err != 0)
		goto fail;
	return 0;
fail:
	err = errno;
	if (!fc->tls_session) {
		fc->res.control_err = err;
		if (fd != -1)
			(void)errq_read(fd, &fc->res.control_icmp);
	} else {
		snprintf(fc->res.tls.handshake_error,
		    sizeof(fc->res.tls.handshake_error), "connect: %s",
		    strerror(err));
	}
	if (fd != -1)
		close(fd);
	evtimer_del(fc->timer);
	ftpcheck_ctl_close(fc);
	errno = err;
	return FTP_ERR_SYSTEM;
}

int
ftpcheck_start(struct ftpcheck *fc)
{
	int r;

	if (fc->state != FC_IDLE)
		return FTP_ERR_INVAL;
	clock_gettime(CLOCK_MONOTONIC, &fc->t0);
	if ((r = ftpcheck_ctl_open(fc)) != 0) {
		snprintf(fc->res.aborted, sizeof(fc->res.aborted),
		    "control connect: %s", strerror(fc->res.control_err));
		ftpcheck_finish(fc);
	}
	return r;
}

struct ftpcheck_data *
ftpcheck_cur(struct ftpcheck *fc)
{
	struct ftpcheck_data *m = fc->tls_session ? fc->res.ftps.mode :
	    fc->res.mode;

	return fc->cur >= 0 && fc->cur < FTPCHECK_NMODES ? &m[fc->cur] : NULL;
}

/* The reply slot the current state is waiting to fill, if any. */
static struct ftpcheck_reply *
ftpcheck_pending(struct ftpcheck *fc)
{
	struct ftpcheck_data *d = ftpcheck_cur(fc);

	switch (fc->state) {
	case FC_BANNER:
		return fc->tls_session ? &fc->res.tls.reply : &fc->res.banner;
	case FC_USER:
		return fc->tls_session ? &fc->res.ftps.user : &fc->res.user;
	case FC_PASS:
		return fc->tls_session ? &fc->res.ftps.pass : &fc->res.pass;
	case FC_PBSZ:
		return &fc->res.ftps.pbsz;
	case FC_PROT:
		return &fc->res.ftps.prot;
	case FC_MODE:
		return d != NULL ? &d->reply : NULL;
	case FC_XFER:
		if (d == NULL)
			return NULL;
		return d->xfer.code == 0 ? &d->xfer : &d->done;
	case FC_AUTH:
		return &fc->res.tls.reply;
	default:
		return NULL;
	}
}

/* ---- control connection ---- */

/* Plain: TYPE I.  FTPS (RFC 4217): PBSZ 0 and PROT P first. */
static void
ftpcheck_after_login(struct ftpcheck *fc)
{
	if (fc->tls_session) {
		fc->res.ftps.logged_in = 1;
		ftpcheck_send(fc, "PBSZ 0");
		ftpcheck_wait(fc, FC_PBSZ);
		return;
	}
	fc->res.logged_in = 1;
	ftpcheck_send(fc, "TYPE I");
	ftpcheck_wait(fc, FC_TYPE);
}

void
ftpcheck_tls_ready(struct ftpcheck *fc)
{
	/* FTPS modes say something only next to the plain ones. */
	if (!fc->res.logged_in) {
		ftpcheck_session_end(fc, NULL);
		return;
	}
	fc->res.ftps.attempted = 1;
	bufferevent_setcb(fc->bev, ftpcheck_ctl_read_cb, NULL,
	    ftpcheck_ctl_event_cb, fc);
	ftpcheck_send(fc, "USER %s", fc->user);
	ftpcheck_wait(fc, FC_USER);
}

/* FTPS: the replies to PBSZ 0 and PROT P. */
static void
ftpcheck_on_prot_reply(struct ftpcheck *fc, const struct ftpcheck_reply *r)
{
	if (r->code < 200 || r->code >= 300) {
		ftpcheck_session_end(fc, "%s refused: %d", fc->state == FC_PBSZ ?
		    "PBSZ 0" : "PROT P", r->code);
		return;
	}
	if (fc->state == FC_PBSZ) {
		ftpcheck_send(fc, "PROT P");
		ftpcheck_wait(fc, FC_PROT);
		return;
	}
	fc->res.ftps.prot_ok = 1;
	ftpcheck_send(fc, "TYPE I");
	ftpcheck_wait(fc, FC_TYPE);
}

static void
ftpcheck_on_reply(struct ftpcheck *fc, const struct ftpcheck_reply *r)
{
	struct ftpcheck_reply *slot = ftpcheck_pending(fc);
	struct ftpcheck_data *d = ftpcheck_cur(fc);

	/* 1xx before the banner or a 2xx is preliminary: wait on. */
	if (r->code < 200 && fc->state != FC_XFER)
		return;
	switch (fc->state) {
	case FC_BANNER:
		*slot = *r;
		if (r->code >= 300) {
			ftpcheck_session_end(fc, "banner %d", r->code);
		} else if (fc->tls_session) {
			ftpcheck_send(fc, "AUTH TLS");
			ftpcheck_wait(fc, FC_AUTH);
		} else {
			ftpcheck_send(fc, "USER %s", fc->user);
			ftpcheck_wait(fc, FC_USER);
		}
		return;
	case FC_USER:
		*slot = *r;
		if (r->code == 230) {
			ftpcheck_after_login(fc);
		} else if (r->code == 331 || r->code == 332) {
			ftpcheck_send(fc, "PASS %s", fc->password);
			ftpcheck_wait(fc, FC_PASS);
		} else {
			ftpcheck_session_end(fc, "USER refused: %d", r->code);
		}
		return;
	case FC_PASS:
		*slot = *r;
		if (r->code >= 200 && r->code < 300)
			ftpcheck_after_login(fc);
		else
			ftpcheck_session_end(fc, "login refused: %d", r->code);
		return;
	case FC_PBSZ:
	case FC_PROT:
		*slot = *r;
		ftpcheck_on_prot_reply(fc, r);
		return;
	case FC_TYPE:
		ftpcheck_next_mode(fc);
		return;
	case FC_MODE:
		ftpcheck_mode_reply(fc, r);
		return;
	case FC_XFER:
		if (d->xfer.code != 0 && r->code < 200)
			return;		/* a second preliminary reply */
		*slot = *r;
		ftpcheck_xfer_check(fc);
		return;
	case FC_QUIT:
		ftpcheck_session_end(fc, NULL);
		return;
	case FC_AUTH:
		*slot = *r;
		if (r->code == 234)
			ftpcheck_tls_begin(fc);
		else
			ftpcheck_session_end(fc, "AUTH TLS refused: %d",
			    r->code);
		return;
	default:
		/* Unasked-for: a 421 means the server is closing on us. */
		if (r->code >= 400)
			ftpcheck_session_end(fc, "unexpected reply: %.200s",
			    r->text);
		return;
	}
}

static void
ftpcheck_ctl_read_cb(struct bufferevent *bev, void *arg)
{
	struct ftpcheck *fc = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct ftpcheck_reply reply;
	struct evbuffer_ptr p;
	char line[FTPCHECK_LINE_MAX + 1];
	unsigned gen = fc->gen;
	size_t eol;
	int r;

	/* on_reply may replace or free the bufferevent: stop reading then. */
	while (fc->gen == gen) {
		p = evbuffer_search_eol(in, NULL, &eol, EVBUFFER_EOL_CRLF);
		if (p.pos < 0) {
			if (evbuffer_get_length(in) > FTPCHECK_LINE_MAX + 1)
				ftpcheck_session_end(fc, "reply line too long");
			return;
		}
		if ((size_t)p.pos > FTPCHECK_LINE_MAX) {
			ftpcheck_session_end(fc, "reply line too long");
			return;
		}
		evbuffer_remove(in, line, (size_t)p.pos);
		evbuffer_drain(in, eol);
		r = ftpcheck_rparser_feed(&fc->rp, line, (size_t)p.pos, &reply);
		if (r < 0) {
			ftpcheck_session_end(fc, "malformed reply: %s",
			    ftp_strerror(r));
			return;
		}
		if (r == 1 && ++fc->nreplies > FTPCHECK_REPLIES_MAX) {
			ftpcheck_session_end(fc, "too many replies");
			return;
		}
		if (r == 1)
			ftpcheck_on_reply(fc, &reply);
	}
}

static void
ftpcheck_ctl_connected(struct ftpcheck *fc, int fd)
{
	socklen_t len;

	if (!fc->tls_session) {
		fc->res.control_connected = 1;
		len = sizeof(fc->res.control_local);
		(void)getsockname(fd, (struct sockaddr *)&fc->res.control_local,
		    &len);
		len = sizeof(fc->res.control_peer);
		(void)getpeername(fd, (struct sockaddr *)&fc->res.control_peer,
		    &len);
	}
	ftpcheck_wait(fc, FC_BANNER);
}

static void
ftpcheck_ctl_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct ftpcheck *fc = arg;
	int err = errno, fd = (int)bufferevent_getfd(bev);

	if (fc->opening)
		return;		/* ftpcheck_ctl_open() reports it */
	if (what & BEV_EVENT_CONNECTED) {
		ftpcheck_ctl_connected(fc, fd);
		return;
	}
	if (!(what & (BEV_EVENT_ERROR | BEV_EVENT_EOF)))
		return;
	if (fc->state == FC_CONNECT) {
		if (!fc->tls_session) {
			fc->res.control_err = err;
			(void)errq_read(fd, &fc->res.control_icmp);
		}
		ftpcheck_session_end(fc, "control connect: %s", strerror(err));
	} else if (fc->state == FC_QUIT) {
		ftpcheck_session_end(fc, NULL);
	} else {
		ftpcheck_session_end(fc, "control connection %s",
		    (what & BEV_EVENT_EOF) ? "closed by the server" :
		    strerror(err));
	}
}

static void
ftpcheck_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ftpcheck *fc = arg;
	struct ftpcheck_reply *slot = ftpcheck_pending(fc);

	(void)fd;
	(void)what;
	switch (fc->state) {
	case FC_CONNECT:
		if (!fc->tls_session) {
			fc->res.control_timed_out = 1;
			fc->res.control_err = ETIMEDOUT;
			(void)errq_read((int)bufferevent_getfd(fc->bev),
			    &fc->res.control_icmp);
		}
		ftpcheck_session_end(fc, "control connect timed out");
		return;
	case FC_DATA_CONNECT:
	case FC_XFER:
		/* The mode's own, unless a final reply is still owed. */
		if (ftpcheck_mode_timeout(fc) == 0)
			return;
		break;
	case FC_HANDSHAKE:
		ftpcheck_session_end(fc, "handshake timed out");
		return;
	case FC_QUIT:
		/* Everything asked for is recorded; a silent QUIT is no loss. */
		ftpcheck_session_end(fc, NULL);
		return;
	default:
		break;
	}
	if (slot != NULL && slot->code == 0)
		slot->timed_out = 1;
	ftpcheck_session_end(fc, "timed out %s",
	    fc->state == FC_XFER ? "in the transfer" : "waiting for a reply");
}
