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
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "addr.h"
#include "clock.h"
#include "err.h"
#include "errq.h"
#include "ftpcheck.h"
#include "log.h"

#define FTPCHECK_ARG_MAX	512	/* user, password, path */

enum ftpcheck_state {
	FC_IDLE,
	FC_CONNECT,
	FC_BANNER,
	FC_USER,
	FC_PASS,
	FC_TYPE,
	FC_MODE,		/* reply to PASV/EPSV/PORT/EPRT */
	FC_DATA_CONNECT,	/* passive data connect in flight */
	FC_XFER,		/* RETR/LIST sent: replies + data */
	FC_QUIT,
	FC_AUTH,
	FC_HANDSHAKE,
	FC_DONE,
};

struct ftpcheck {
	struct event_base *base;
	struct sockaddr_storage server;
	char *user, *password, *path, *server_name;
	unsigned modes;
	unsigned timeout_ms;
	int tls;
	void (*done_cb)(void *);
	void *done_arg;

	enum ftpcheck_state state;
	int tls_session;		/* this control connection is for AUTH TLS */
	int opening;			/* inside bufferevent_socket_connect() */
	int cur;			/* mode being run, -1 before the first */
	struct bufferevent *bev;
	unsigned gen;			/* bumped when bev is replaced or freed */
	struct ftpcheck_rparser rp;
	unsigned nreplies;
	struct event *timer;
	int data_fd;
	struct event *data_ev;
	struct evconnlistener *lst;
	SSL_CTX *ssl_ctx;
	struct timespec t0, tmode;
	struct ftpcheck_result res;
	int done;
};

/* ------------------------------------------------------------------ */
/* Pure parts                                                          */
/* ------------------------------------------------------------------ */

void
ftpcheck_rparser_init(struct ftpcheck_rparser *p)
{
	memset(p, 0, sizeof(*p));
}

/* "ddd", "ddd text" or "ddd-text" with d in 1..5 for the first digit. */
static int
ftpcheck_reply_start(const char *line, size_t len, int *code, int *multi)
{
	if (len < 3 || line[0] < '1' || line[0] > '5' ||
	    !isdigit((unsigned char)line[1]) || !isdigit((unsigned char)line[2]))
		return FTP_ERR_PROTO;
	if (len > 3 && line[3] != ' ' && line[3] != '-')
		return FTP_ERR_PROTO;
	*code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	*multi = len > 3 && line[3] == '-';
	return 0;
}

/* Keep the text printable ASCII: it ends up in JSON and terminals. */
static void
ftpcheck_reply_append(struct ftpcheck_reply *r, const char *line, size_t len)
{
	size_t have = strlen(r->text), room, i;

	r->nlines++;
	room = sizeof(r->text) - 1 - have;
	if (r->nlines > 1) {
		if (room == 0) {
			r->truncated = 1;
			return;
		}
		r->text[have++] = '\n';
		room--;
	}
	if (len > room) {
		len = room;
		r->truncated = 1;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		r->text[have + i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	r->text[have + len] = '\0';
}

int
ftpcheck_rparser_feed(struct ftpcheck_rparser *p, const char *line,
    size_t len, struct ftpcheck_reply *out)
{
	int code, multi, r;

	if (len > FTPCHECK_LINE_MAX)
		return FTP_ERR_TOOBIG;
	if (!p->in_multi) {
		if ((r = ftpcheck_reply_start(line, len, &code, &multi)) != 0)
			return r;
		memset(&p->cur, 0, sizeof(p->cur));
		p->cur.code = code;
		ftpcheck_reply_append(&p->cur, line, len);
		if (multi) {
			p->in_multi = 1;
			return 0;
		}
		goto complete;
	}
	if (p->cur.nlines >= FTPCHECK_REPLY_LINES_MAX)
		return FTP_ERR_TOOBIG;
	ftpcheck_reply_append(&p->cur, line, len);
	/* RFC 959: the last line repeats the code followed by a space; any
	 * other line (even "ddd-" or another code) is part of the text. */
	if (ftpcheck_reply_start(line, len, &code, &multi) == 0 && !multi &&
	    code == p->cur.code)
		goto complete;
	return 0;
complete:
	*out = p->cur;
	ftpcheck_rparser_init(p);
	return 1;
}

int
ftpcheck_reply_parse(const char *buf, size_t len, size_t *used,
    struct ftpcheck_reply *out)
{
	struct ftpcheck_rparser p;
	struct ftpcheck_reply r;
	size_t pos = 0, n;
	const char *nl;
	int rc;

	ftpcheck_rparser_init(&p);
	while (pos < len) {
		if ((nl = memchr(buf + pos, '\n', len - pos)) == NULL)
			return len - pos > FTPCHECK_LINE_MAX + 1 ?
			    FTP_ERR_TOOBIG : 0;
		n = (size_t)(nl - (buf + pos));
		if (n > 0 && buf[pos + n - 1] == '\r')
			n--;
		if ((rc = ftpcheck_rparser_feed(&p, buf + pos, n, &r)) < 0)
			return rc;
		pos = (size_t)(nl - buf) + 1;
		if (rc == 1) {
			*used = pos;
			*out = r;
			return 1;
		}
	}
	return 0;
}

/* Six comma-separated numbers 0..255 at s, each 1-3 digits. */
static int
ftpcheck_six(const char *s, unsigned v[6])
{
	int i, digits;

	for (i = 0; i < 6; i++) {
		v[i] = 0;
		for (digits = 0; isdigit((unsigned char)*s); s++) {
			if (++digits > 3)
				return -1;
			v[i] = v[i] * 10 + (unsigned)(*s - '0');
		}
		if (digits == 0 || v[i] > 255)
			return -1;
		if (i < 5 && *s++ != ',')
			return -1;
	}
	return 0;
}

int
ftpcheck_parse_227(const char *text, struct sockaddr_in *out)
{
	const char *s = text;
	unsigned v[6];
	uint16_t port;

	/* Skip the reply code so that "227" is never taken as h1. */
	if (isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) &&
	    isdigit((unsigned char)s[2]))
		s += 3;
	for (; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s) ||
		    (s > text && isdigit((unsigned char)s[-1])))
			continue;
		if (ftpcheck_six(s, v) != 0)
			continue;
		port = (uint16_t)(v[4] * 256 + v[5]);
		if (port == 0)
			continue;
		memset(out, 0, sizeof(*out));
		out->sin_family = AF_INET;
		out->sin_addr.s_addr = htonl((uint32_t)v[0] << 24 |
		    (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3]);
		out->sin_port = htons(port);
		return 0;
	}
	return FTP_ERR_INVAL;
}

int
ftpcheck_parse_229(const char *text, uint16_t *port)
{
	const char *s;
	unsigned long v;
	int digits;
	char d;

	for (s = strchr(text, '('); s != NULL; s = strchr(s + 1, '(')) {
		d = s[1];
		/* RFC 2428: any printable ASCII delimiter; digits would be
		 * ambiguous, so they are refused. */
		if (d < 33 || d > 126 || isdigit((unsigned char)d) ||
		    s[2] != d || s[3] != d)
			continue;
		v = 0;
		for (digits = 0; isdigit((unsigned char)s[4 + digits]) &&
		    digits < 6; digits++)
			v = v * 10 + (unsigned long)(s[4 + digits] - '0');
		if (digits == 0 || digits > 5 || v == 0 || v > 65535 ||
		    s[4 + digits] != d || s[5 + digits] != ')')
			continue;
		*port = (uint16_t)v;
		return 0;
	}
	return FTP_ERR_INVAL;
}

/* The IPv4 address of sa (plain or v4-mapped), or -1. */
static int
ftpcheck_v4(const struct sockaddr *sa, struct in_addr *a, uint16_t *port)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

	if (sa->sa_family == AF_INET) {
		*a = ((const struct sockaddr_in *)sa)->sin_addr;
		*port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		memcpy(a, &s6->sin6_addr.s6_addr[12], 4);
		*port = ntohs(s6->sin6_port);
		return 0;
	}
	return -1;
}

int
ftpcheck_format_port(const struct sockaddr *sa, char *buf, size_t len)
{
	struct in_addr a;
	uint16_t port;
	const unsigned char *b;
	int n;

	if (ftpcheck_v4(sa, &a, &port) != 0)
		return FTP_ERR_INVAL;
	b = (const unsigned char *)&a;
	n = snprintf(buf, len, "PORT %u,%u,%u,%u,%u,%u", b[0], b[1], b[2],
	    b[3], (unsigned)(port >> 8), (unsigned)(port & 0xff));
	return n < 0 || (size_t)n >= len ? FTP_ERR_TOOBIG : 0;
}

int
ftpcheck_format_eprt(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];
	struct in_addr a;
	uint16_t port;
	int n, proto = 1;

	if (ftpcheck_v4(sa, &a, &port) == 0) {
		inet_ntop(AF_INET, &a, host, sizeof(host));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		/* inet_ntop leaves out the scope, which the server could
		 * not use anyway. */
		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		port = ntohs(s6->sin6_port);
		proto = 2;
	} else {
		return FTP_ERR_INVAL;
	}
	n = snprintf(buf, len, "EPRT |%d|%s|%u|", proto, host, (unsigned)port);
	return n < 0 || (size_t)n >= len ? FTP_ERR_TOOBIG : 0;
}

int
ftpcheck_addr_private(const struct sockaddr *sa)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
	struct in_addr a;
	uint16_t port;
	uint32_t h;

	if (ftpcheck_v4(sa, &a, &port) == 0) {
		h = ntohl(a.s_addr);
		return (h >> 24) == 10 || (h >> 24) == 127 || (h >> 24) == 0 ||
		    (h >> 20) == (172u << 4 | 1) ||	/* 172.16/12 */
		    (h >> 16) == (192u << 8 | 168) ||	/* 192.168/16 */
		    (h >> 16) == (169u << 8 | 254) ||	/* 169.254/16 */
		    (h >> 22) == (100u << 2 | 1);	/* 100.64/10 */
	}
	if (sa->sa_family != AF_INET6)
		return 0;
	return IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr) ||
	    IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr) ||
	    IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr) ||
	    (s6->sin6_addr.s6_addr[0] & 0xfe) == 0xfc;	/* ULA fc00::/7 */
}

const char *
ftpcheck_mode_name(enum ftpcheck_mode m)
{
	static const char *const names[] = { "EPSV", "PASV", "EPRT", "PORT" };

	return (unsigned)m < FTPCHECK_NMODES ? names[m] : "?";
}

/* ------------------------------------------------------------------ */
/* The session                                                         */
/* ------------------------------------------------------------------ */

static void ftpcheck_ctl_read_cb(struct bufferevent *bev, void *arg);
static void ftpcheck_ctl_event_cb(struct bufferevent *bev, short what,
    void *arg);
static void ftpcheck_tls_event_cb(struct bufferevent *bev, short what,
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
	if (fc->ssl_ctx != NULL)
		SSL_CTX_free(fc->ssl_ctx);
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
static void
ftpcheck_wait(struct ftpcheck *fc, enum ftpcheck_state st)
{
	struct timeval tv;

	fc->state = st;
	tv.tv_sec = fc->timeout_ms / 1000;
	tv.tv_usec = (fc->timeout_ms % 1000) * 1000;
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

/*
 * End the current control connection.  why (printf format) says why it
 * ended early; NULL for a normal end.  The AUTH TLS connection follows the
 * plain one when asked for and the server was reachable at all.
 */
static void LOG_FMT(2, 3)
ftpcheck_session_end(struct ftpcheck *fc, const char *why, ...)
{
	char *dst = fc->tls_session ? fc->res.tls.handshake_error :
	    fc->res.aborted;
	size_t dlen = fc->tls_session ? sizeof(fc->res.tls.handshake_error) :
	    sizeof(fc->res.aborted);
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

static struct ftpcheck_data *
ftpcheck_cur(struct ftpcheck *fc)
{
	return fc->cur >= 0 && fc->cur < FTPCHECK_NMODES ?
	    &fc->res.mode[fc->cur] : NULL;
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
		return &fc->res.user;
	case FC_PASS:
		return &fc->res.pass;
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

static int
ftpcheck_data_watch(struct ftpcheck *fc, short what)
{
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

static void
ftpcheck_data_connected(struct ftpcheck *fc)
{
	struct ftpcheck_data *d = ftpcheck_cur(fc);
	socklen_t len = sizeof(int);
	int err = 0;

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
	if (ftpcheck_data_watch(fc, EV_READ | EV_PERSIST) != 0) {
		ftpcheck_data_failed(fc, ENOMEM);
		ftpcheck_mode_end(fc);
		return;
	}
	ftpcheck_send_xfer(fc);
}

static void
ftpcheck_data_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ftpcheck *fc = arg;
	struct ftpcheck_data *d = ftpcheck_cur(fc);
	char buf[16384];
	ssize_t n;

	(void)what;
	if (fc->state == FC_DATA_CONNECT) {
		ftpcheck_data_connected(fc);
		return;
	}
	if ((n = read(fd, buf, sizeof(buf))) > 0) {
		d->bytes += (uint64_t)n;
		return;
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n == 0)
		d->data_eof = 1;
	else
		ftpcheck_data_failed(fc, errno);
	/* Keep the listener (if any) until the mode ends: it is freed with
	 * the data socket, so close only the socket side here. */
	event_free(fc->data_ev);
	fc->data_ev = NULL;
	close(fc->data_fd);
	fc->data_fd = -1;
	if (fc->state == FC_XFER)
		ftpcheck_xfer_check(fc);
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
	if (ftpcheck_data_watch(fc, EV_READ | EV_PERSIST) != 0)
		ftpcheck_data_failed(fc, ENOMEM);
	evconnlistener_disable(fc->lst);
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

/* ---- AUTH TLS ---- */

/* A permissive client context: the point is to look at the certificate
 * the server offers, so verification is recorded, never enforced. */
static SSL_CTX *
ftpcheck_ssl_ctx(struct ftpcheck *fc)
{
	if (fc->ssl_ctx == NULL &&
	    (fc->ssl_ctx = SSL_CTX_new(TLS_client_method())) != NULL) {
		SSL_CTX_set_verify(fc->ssl_ctx, SSL_VERIFY_NONE, NULL);
		(void)SSL_CTX_set_default_verify_paths(fc->ssl_ctx);
	}
	return fc->ssl_ctx;
}

static void
ftpcheck_tls_begin(struct ftpcheck *fc)
{
	struct bufferevent *tb;
	struct in6_addr tmp;
	SSL_CTX *ctx;
	SSL *ssl;

	if ((ctx = ftpcheck_ssl_ctx(fc)) == NULL || (ssl = SSL_new(ctx)) == NULL) {
		ftpcheck_session_end(fc, "TLS: cannot create context");
		return;
	}
	if (inet_pton(AF_INET, fc->server_name, &tmp) != 1 &&
	    inet_pton(AF_INET6, fc->server_name, &tmp) != 1)
		(void)SSL_set_tlsext_host_name(ssl, fc->server_name);
	/* The filter takes over the plain bufferevent (and frees it). */
	tb = bufferevent_openssl_filter_new(fc->base, fc->bev, ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	if (tb == NULL) {
		SSL_free(ssl);
		ftpcheck_session_end(fc, "TLS: cannot create filter");
		return;
	}
	fc->bev = tb;
	fc->gen++;
	bufferevent_setcb(tb, NULL, NULL, ftpcheck_tls_event_cb, fc);
	bufferevent_enable(tb, EV_READ | EV_WRITE);
	ftpcheck_wait(fc, FC_HANDSHAKE);
}

static void
ftpcheck_tls_name(X509_NAME *n, char *buf, size_t len)
{
	char *p;

	if (n == NULL || X509_NAME_oneline(n, buf, (int)len) == NULL)
		buf[0] = '\0';
	for (p = buf; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
}

static void
ftpcheck_tls_sans(X509 *cert, char *buf, size_t len)
{
	GENERAL_NAMES *gens;
	char one[300], ip[INET6_ADDRSTRLEN];
	int i;

	buf[0] = '\0';
	gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	if (gens == NULL)
		return;
	for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const unsigned char *d;
		int n, j;

		one[0] = '\0';
		if (g->type == GEN_DNS) {
			d = ASN1_STRING_get0_data(g->d.dNSName);
			n = ASN1_STRING_length(g->d.dNSName);
			snprintf(one, sizeof(one), "DNS:");
			for (j = 0; j < n && j < 255; j++)
				one[4 + j] = d[j] >= 0x20 && d[j] < 0x7f ?
				    (char)d[j] : '?';
			one[4 + j] = '\0';
		} else if (g->type == GEN_IPADD) {
			d = ASN1_STRING_get0_data(g->d.iPAddress);
			n = ASN1_STRING_length(g->d.iPAddress);
			if ((n == 4 && inet_ntop(AF_INET, d, ip, sizeof(ip))) ||
			    (n == 16 && inet_ntop(AF_INET6, d, ip, sizeof(ip))))
				snprintf(one, sizeof(one), "IP:%s", ip);
		}
		if (one[0] != '\0' && strlen(buf) + strlen(one) + 3 < len)
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s",
			    buf[0] ? ", " : "", one);
	}
	GENERAL_NAMES_free(gens);
}

static void
ftpcheck_tls_cert(struct ftpcheck *fc, X509 *cert)
{
	struct ftpcheck_tls *t = &fc->res.tls;
	struct in6_addr tmp;
	struct tm tm;

	t->have_cert = 1;
	ftpcheck_tls_name(X509_get_subject_name(cert), t->subject,
	    sizeof(t->subject));
	ftpcheck_tls_name(X509_get_issuer_name(cert), t->issuer,
	    sizeof(t->issuer));
	ftpcheck_tls_sans(cert, t->sans, sizeof(t->sans));
	t->self_signed = X509_check_issued(cert, cert) == X509_V_OK;
	t->expired = X509_cmp_current_time(X509_get0_notAfter(cert)) < 0;
	t->not_yet_valid = X509_cmp_current_time(X509_get0_notBefore(cert)) > 0;
	if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) == 1)
		strftime(t->not_after, sizeof(t->not_after),
		    "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (inet_pton(AF_INET, fc->server_name, &tmp) == 1 ||
	    inet_pton(AF_INET6, fc->server_name, &tmp) == 1) {
		t->name_checked_against_ip = 1;
		t->name_match = X509_check_ip_asc(cert, fc->server_name, 0) == 1;
	} else {
		t->name_match = X509_check_host(cert, fc->server_name, 0, 0,
		    NULL) == 1;
	}
}

static void
ftpcheck_tls_record(struct ftpcheck *fc, SSL *ssl)
{
	struct ftpcheck_tls *t = &fc->res.tls;
	X509 *cert;

	if (ssl == NULL)
		return;
	snprintf(t->version, sizeof(t->version), "%s", SSL_get_version(ssl));
	snprintf(t->cipher, sizeof(t->cipher), "%s",
	    SSL_get_cipher_name(ssl) ? SSL_get_cipher_name(ssl) : "");
	t->verify_code = SSL_get_verify_result(ssl);
	snprintf(t->verify_error, sizeof(t->verify_error), "%s",
	    X509_verify_cert_error_string(t->verify_code));
	if ((cert = SSL_get1_peer_certificate(ssl)) != NULL) {
		ftpcheck_tls_cert(fc, cert);
		X509_free(cert);
	}
}

static void
ftpcheck_tls_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct ftpcheck *fc = arg;
	SSL *ssl = bufferevent_openssl_get_ssl(bev);
	unsigned long e;
	char buf[200];

	if (what & BEV_EVENT_CONNECTED) {
		fc->res.tls.handshake_ok = 1;
		ftpcheck_tls_record(fc, ssl);
		ftpcheck_session_end(fc, NULL);
		return;
	}
	if (!(what & (BEV_EVENT_ERROR | BEV_EVENT_EOF)))
		return;
	ftpcheck_tls_record(fc, ssl);
	if ((e = bufferevent_get_openssl_error(bev)) != 0)
		ERR_error_string_n(e, buf, sizeof(buf));
	else
		snprintf(buf, sizeof(buf), "%s",
		    (what & BEV_EVENT_EOF) ? "connection closed" :
		    strerror(errno));
	ftpcheck_session_end(fc, "handshake: %s", buf);
}

/* ---- control connection ---- */

static void
ftpcheck_after_login(struct ftpcheck *fc)
{
	fc->res.logged_in = 1;
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
