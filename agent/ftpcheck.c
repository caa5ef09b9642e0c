/*
 * ftpcheck.c - a real FTP session through the path (see ftpcheck.h).
 *
 * One control connection at a time, driven by a small state machine: each
 * state waits for exactly one thing (a connect, a reply, the end of a
 * transfer, a handshake) and one timer bounds that wait.  A wait that times
 * out while the server still owes us a reply leaves the control stream out
 * of step, so the session ends there rather than misreading late replies.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
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
#include <event2/listener.h>

#include "addr.h"
#include "clock.h"
#include "err.h"
#include "errq.h"
#include "ftpcheck.h"
#include "ftpcheck_int.h"
#include "log.h"

#define FTPCHECK_ARG_MAX	512	/* user, password, path */


/* ------------------------------------------------------------------ */
/* The session                                                         */
/* ------------------------------------------------------------------ */

static void ftpcheck_ctl_read_cb(struct bufferevent *bev, void *arg);
static void ftpcheck_ctl_event_cb(struct bufferevent *bev, short what,
    void *arg);
static void ftpcheck_timer_cb(evutil_socket_t fd, short what, void *arg);
static void ftpcheck_data_cb(evutil_socket_t fd, short what, void *arg);
static void ftpcheck_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg);
static void ftpcheck_next_mode(struct ftpcheck *fc);

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
ftpcheck_data_close(struct ftpcheck *fc)
{
	if (fc->data_ev != NULL) {
		event_free(fc->data_ev);
		fc->data_ev = NULL;
	}
	ftpcheck_data_tls_close(fc);
	if (fc->data_fd != -1) {
		close(fc->data_fd);
		fc->data_fd = -1;
	}
	if (fc->lst != NULL) {
		evconnlistener_free(fc->lst);
		fc->lst = NULL;
	}
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

static void LOG_FMT(2, 3)
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

/* ---- transfers ---- */

static void
ftpcheck_mode_end(struct ftpcheck *fc)
{
	struct ftpcheck_data *d = ftpcheck_cur(fc);

	ftpcheck_data_close(fc);
	if (d != NULL)
		d->elapsed_ms = clock_ms_since(&fc->tmode);
	ftpcheck_next_mode(fc);
}

static int
ftpcheck_final_code(const struct ftpcheck_data *d)
{
	if (d->done.code != 0)
		return d->done.code;
	return d->xfer.code >= 200 ? d->xfer.code : 0;
}

/* The transfer is over once the final reply came and, if it says the
 * data went out, the data connection was closed by the server. */
static void
ftpcheck_xfer_check(struct ftpcheck *fc)
{
	struct ftpcheck_data *d = ftpcheck_cur(fc);
	int final = ftpcheck_final_code(d);

	if (final == 0)
		return;
	/* A 226 can overtake the data: the bytes still unread, or (active)
	 * the server's connection still in our accept queue. */
	if (final < 300 && d->connected && !d->data_eof && d->data_err == 0)
		return;
	if (final < 300 && !d->connected && fc->lst != NULL)
		return;
	d->ok = final < 300 && d->connected && d->data_eof && d->data_err == 0;
	ftpcheck_mode_end(fc);
}

static void
ftpcheck_send_xfer(struct ftpcheck *fc)
{
	if (fc->path != NULL)
		ftpcheck_send(fc, "RETR %s", fc->path);
	else
		ftpcheck_send(fc, "LIST /");
	ftpcheck_wait(fc, FC_XFER);
}

int
ftpcheck_data_watch(struct ftpcheck *fc, short what)
{
	/* A TLS read that wants more asks again for the watch it has. */
	if (fc->data_ev != NULL && event_get_events(fc->data_ev) == what &&
	    event_pending(fc->data_ev, EV_READ | EV_WRITE, NULL))
		return 0;
	if (fc->data_ev != NULL)
		event_free(fc->data_ev);
	fc->data_ev = event_new(fc->base, fc->data_fd, what, ftpcheck_data_cb,
	    fc);
	if (fc->data_ev == NULL || event_add(fc->data_ev, NULL) != 0)
		return FTP_ERR_NOMEM;
	return 0;
}

static void
ftpcheck_data_failed(struct ftpcheck *fc, int err)
{
	struct ftpcheck_data *d = ftpcheck_cur(fc);

	d->data_err = err;
	if (fc->data_fd != -1)
		(void)errq_read(fc->data_fd, &d->icmp);
}

/* The data connection is up: read it, in FTPS through TLS.  1 (being
 * read), 0 (FTPS: it all came already) or a negative FTP_ERR_* with the
 * mode's data_err set. */
static int
ftpcheck_data_open(struct ftpcheck *fc)
{
	if (fc->tls_session)
		return ftpcheck_data_tls_start(fc);
	if (ftpcheck_data_watch(fc, EV_READ | EV_PERSIST) != 0) {
		ftpcheck_data_failed(fc, ENOMEM);
		return FTP_ERR_NOMEM;
	}
	return 1;
}

/* The data socket is done with (the listener, if any, stays until the
 * mode ends: it goes with ftpcheck_data_close()). */
static void
ftpcheck_data_sock_close(struct ftpcheck *fc)
{
	if (fc->data_ev != NULL)
		event_free(fc->data_ev);
	fc->data_ev = NULL;
	ftpcheck_data_tls_close(fc);
	if (fc->data_fd != -1)
		close(fc->data_fd);
	fc->data_fd = -1;
}

/* Passive: connect to the advertised address, then ask for the data. */
static void
ftpcheck_passive_connect(struct ftpcheck *fc)
{
	struct ftpcheck_data *d = ftpcheck_cur(fc);
	const struct sockaddr *sa = (const struct sockaddr *)&d->adv;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

	/* Never dial our own host or a broadcast on the server's word. */
	if ((sa->sa_family == AF_INET &&
	    ((ntohl(s4->sin_addr.s_addr) >> 24) == 0 ||
	    (ntohl(s4->sin_addr.s_addr) >> 24) == 127 ||
	    (ntohl(s4->sin_addr.s_addr) >> 28) >= 14)) ||
	    (sa->sa_family == AF_INET6 &&
	    (IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr) ||
	    IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr) ||
	    IN6_IS_ADDR_MULTICAST(&s6->sin6_addr)))) {
		d->data_err = EADDRNOTAVAIL;
		ftpcheck_mode_end(fc);
		return;
	}
	fc->data_fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fc->data_fd == -1) {
		ftpcheck_data_failed(fc, errno);
		ftpcheck_mode_end(fc);
		return;
	}
	(void)errq_enable(fc->data_fd, sa->sa_family);
	if (connect(fc->data_fd, sa, addr_len(sa)) == -1 &&
	    errno != EINPROGRESS) {
		ftpcheck_data_failed(fc, errno);
		ftpcheck_mode_end(fc);
		return;
	}
	if (ftpcheck_data_watch(fc, EV_WRITE) != 0) {
		ftpcheck_data_failed(fc, ENOMEM);
		ftpcheck_mode_end(fc);
		return;
	}
	ftpcheck_wait(fc, FC_DATA_CONNECT);
}

/* After a read (or the start of one): r 1 goes on, 0 is the end of the
 * data, negative an error (recorded); the final reply decides then. */
static void
ftpcheck_data_result(struct ftpcheck *fc, int r)
{
	if (r == 1)
		return;
	ftpcheck_cur(fc)->data_eof = r == 0;
	ftpcheck_data_sock_close(fc);
	if (fc->state == FC_XFER)
		ftpcheck_xfer_check(fc);
}

static void
ftpcheck_data_connected(struct ftpcheck *fc)
{
	struct ftpcheck_data *d = ftpcheck_cur(fc);
	socklen_t len = sizeof(int);
	int err = 0, r;

	if (getsockopt(fc->data_fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		ftpcheck_data_failed(fc, err);
		ftpcheck_mode_end(fc);
		return;
	}
	d->connected = 1;
	len = sizeof(d->peer);
	(void)getpeername(fc->data_fd, (struct sockaddr *)&d->peer, &len);
	d->peer_is_server = addr_equal((struct sockaddr *)&d->peer,
	    (struct sockaddr *)&fc->res.control_peer);
	if ((r = ftpcheck_data_open(fc)) < 0) {
		ftpcheck_mode_end(fc);
		return;
	}
	ftpcheck_send_xfer(fc);
	ftpcheck_data_result(fc, r);
}

/* Plain data: 1 while more is to come, 0 at EOF, -1 on an error. */
static int
ftpcheck_data_read(struct ftpcheck *fc, int fd)
{
	struct ftpcheck_data *d = ftpcheck_cur(fc);
	char buf[16384];
	ssize_t n;

	if ((n = read(fd, buf, sizeof(buf))) > 0) {
		d->bytes += (uint64_t)n;
		return 1;
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 1;
	if (n == 0)
		return 0;
	ftpcheck_data_failed(fc, errno);
	return -1;
}

static void
ftpcheck_data_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ftpcheck *fc = arg;

	(void)what;
	if (fc->state == FC_DATA_CONNECT) {
		ftpcheck_data_connected(fc);
		return;
	}
	ftpcheck_data_result(fc, fc->data_ssl != NULL ?
	    ftpcheck_data_tls_io(fc) : ftpcheck_data_read(fc, (int)fd));
}

/* Active: the server's data connection.  One is enough; later ones are
 * closed unread. */
static void
ftpcheck_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct ftpcheck *fc = arg;
	struct ftpcheck_data *d = ftpcheck_cur(fc);

	(void)l;
	if (d == NULL || d->connected || fc->data_fd != -1 ||
	    (size_t)salen > sizeof(d->peer)) {
		close(fd);
		return;
	}
	memcpy(&d->peer, sa, (size_t)salen);
	addr_unmap(&d->peer);
	d->connected = 1;
	d->peer_is_server = addr_equal(sa,
	    (struct sockaddr *)&fc->res.control_peer);
	fc->data_fd = fd;
	evconnlistener_disable(fc->lst);
	ftpcheck_data_result(fc, ftpcheck_data_open(fc));
}

/* Active: listen where the server should connect (our control address as
 * the socket shows it, a fresh port) and announce it. */
static int
ftpcheck_active_listen(struct ftpcheck *fc, struct ftpcheck_data *d)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int r;

	memcpy(&ss, &fc->res.control_local, sizeof(ss));
	addr_set_port((struct sockaddr *)&ss, 0);
	fc->lst = evconnlistener_new_bind(fc->base, ftpcheck_accept_cb, fc,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 1,
	    (struct sockaddr *)&ss, (int)addr_len((struct sockaddr *)&ss));
	if (fc->lst == NULL)
		return FTP_ERR_SYSTEM;
	if (getsockname(evconnlistener_get_fd(fc->lst),
	    (struct sockaddr *)&ss, &len) == -1)
		return FTP_ERR_SYSTEM;
	memcpy(&d->listen, &ss, sizeof(ss));
	if (fc->cur == FTPCHECK_PORT)
		r = ftpcheck_format_port((struct sockaddr *)&ss, d->cmd,
		    sizeof(d->cmd));
	else
		r = ftpcheck_format_eprt((struct sockaddr *)&ss, d->cmd,
		    sizeof(d->cmd));
	return r;
}

/* Start mode fc->cur; 0 if a command went out, else the mode is over. */
static int
ftpcheck_mode_begin(struct ftpcheck *fc)
{
	struct ftpcheck_data *d = ftpcheck_cur(fc);
	int v6 = fc->res.control_peer.ss_family == AF_INET6;

	if (!(fc->modes & FTPCHECK_MODE_BIT(fc->cur)))
		return -1;
	if (v6 && (fc->cur == FTPCHECK_PASV || fc->cur == FTPCHECK_PORT)) {
		snprintf(d->skipped, sizeof(d->skipped), "IPv4 only");
		return -1;
	}
	/* FTPS is compared with plain FTP, mode by mode. */
	if (fc->tls_session && !fc->res.mode[fc->cur].attempted) {
		snprintf(d->skipped, sizeof(d->skipped), "not run in plain FTP");
		return -1;
	}
	d->attempted = 1;
	clock_gettime(CLOCK_MONOTONIC, &fc->tmode);
	if (fc->cur == FTPCHECK_EPSV || fc->cur == FTPCHECK_PASV) {
		snprintf(d->cmd, sizeof(d->cmd), "%s", ftpcheck_mode_name(fc->cur));
	} else if (ftpcheck_active_listen(fc, d) != 0) {
		d->data_err = errno ? errno : EINVAL;
		ftpcheck_data_close(fc);
		return -1;
	}
	ftpcheck_send(fc, "%s", d->cmd);
	ftpcheck_wait(fc, FC_MODE);
	return 0;
}

static void
ftpcheck_next_mode(struct ftpcheck *fc)
{
	while (++fc->cur < FTPCHECK_NMODES) {
		if (ftpcheck_mode_begin(fc) == 0)
			return;
	}
	ftpcheck_send(fc, "QUIT");
	ftpcheck_wait(fc, FC_QUIT);
}

static void
ftpcheck_mode_reply(struct ftpcheck *fc, const struct ftpcheck_reply *r)
{
	struct ftpcheck_data *d = ftpcheck_cur(fc);
	struct sockaddr_in a4;
	uint16_t port;

	d->reply = *r;
	switch (fc->cur) {
	case FTPCHECK_PASV:
		if (r->code != 227 || ftpcheck_parse_227(r->text, &a4) != 0)
			break;
		memcpy(&d->adv, &a4, sizeof(a4));
		d->adv_ok = 1;
		break;
	case FTPCHECK_EPSV:
		if (r->code != 229 || ftpcheck_parse_229(r->text, &port) != 0)
			break;
		/* 229 names only a port: the address is the one dialled. */
		memcpy(&d->adv, &fc->res.control_peer, sizeof(d->adv));
		addr_set_port((struct sockaddr *)&d->adv, port);
		d->adv_ok = 1;
		break;
	default:
		if (r->code >= 200 && r->code < 300)
			ftpcheck_send_xfer(fc);
		else
			ftpcheck_mode_end(fc);
		return;
	}
	if (!d->adv_ok) {
		ftpcheck_mode_end(fc);
		return;
	}
	d->adv_differs = !addr_equal((struct sockaddr *)&d->adv,
	    (struct sockaddr *)&fc->res.control_peer);
	d->adv_private = ftpcheck_addr_private((struct sockaddr *)&d->adv);
	ftpcheck_passive_connect(fc);
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
	struct ftpcheck_data *d = ftpcheck_cur(fc);
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
		/* Nothing owed on the control connection yet: carry on. */
		d->data_timed_out = 1;
		ftpcheck_data_failed(fc, ETIMEDOUT);
		ftpcheck_mode_end(fc);
		return;
	case FC_XFER:
		d->data_timed_out = fc->data_fd != -1 || !d->connected;
		if (fc->data_ssl != NULL && !d->tls_ok && d->tls_error[0] == '\0')
			snprintf(d->tls_error, sizeof(d->tls_error),
			    "TLS handshake: timed out");
		if (ftpcheck_final_code(d) != 0) {
			/* The server has said its last word: still in step. */
			ftpcheck_mode_end(fc);
			return;
		}
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
