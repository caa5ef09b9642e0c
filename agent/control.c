/*
 * control.c - the agent's TLS control-channel client (control.h): the
 * channel.  The object, the TLS connection over bufferevent_openssl
 * with its libevent plumbing (the callbacks, the loop pump, sending),
 * and the reason a connection failed.  The protocol dialogue over it
 * is control_dialog.c, the pure decoders of the reflector's fields
 * control_parse.c (control_int.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>

#include "channel.h"
#include "control_int.h"
#include "err.h"
#include "log.h"
#include "tls.h"

#define CONTROL_MAX_ADDRS	8

static int
control_make_token(char *out, size_t len)
{
	uint8_t raw[PROTO_TOKEN_HEXLEN / 2];
	size_t i;

	if (len < sizeof(raw) * 2 + 1)
		return FTP_ERR_INVAL;
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return FTP_ERR_SYSTEM;
	for (i = 0; i < sizeof(raw); i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

static void
control_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct control *c = arg;

	(void)fd;
	(void)what;
	c->timed_out = 1;
}

struct control *
control_new(struct event_base *base, SSL_CTX *ctx)
{
	struct control *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->base = base;
	c->ctx = ctx;
	c->inbox = json_array();
	c->timer = evtimer_new(base, control_timer_cb, c);
	if (c->inbox == NULL || c->timer == NULL ||
	    control_make_token(c->token, sizeof(c->token)) != 0) {
		control_free(c);
		return NULL;
	}
	return c;
}

void
control_free(struct control *c)
{
	if (c == NULL)
		return;
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	if (c->timer != NULL)
		event_free(c->timer);
	json_decref(c->inbox);
	json_decref(c->welcome);
	free(c);
}

const char *
control_token(const struct control *c)
{
	return c->token;
}

int
control_alive(const struct control *c)
{
	return c->bev != NULL && !c->failed;
}

const char *
control_errmsg(const struct control *c)
{
	return c->errmsg;
}

/* The socket's pending error, else errno of the failed call, else 0. */
static int
control_sock_error(const struct control *c)
{
	int saved = EVUTIL_SOCKET_ERROR(), err = 0;
	socklen_t el = sizeof(err);
	evutil_socket_t fd = c->bev ? bufferevent_getfd(c->bev) : -1;

	if (fd >= 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 &&
	    err != 0)
		return err;
	return saved;
}

/*
 * With TLS 1.3 the reflector judges our certificate after our side of
 * the handshake is done, and says why in an alert: what it means for
 * the person holding the certificate, or NULL for another alert.
 */
static const char *
control_cert_alert(unsigned long e)
{
	if (ERR_GET_LIB(e) != ERR_LIB_SSL)
		return NULL;
	switch (ERR_GET_REASON(e)) {
	case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
		return "it is revoked (listed in the reflector's CRL): a new "
		    "agent certificate is needed";
	case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
		return "it is not signed by the CA the reflector trusts";
	case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
		return "it has expired, or is not valid yet, by the "
		    "reflector's clock";
	case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
	case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
		return "the reflector could not verify it (is it an agent "
		    "certificate, extendedKeyUsage clientAuth?)";
	default:
		return NULL;
	}
}

/* "certificate verify failed" says nothing of why: the reflector's
 * certificate, with the verification's own reason (revoked, expired,
 * another CA). */
static void
control_verify_why(struct control *c, unsigned long e, char *buf,
    size_t len)
{
	SSL *ssl;
	long v;

	if (ERR_GET_LIB(e) != ERR_LIB_SSL ||
	    ERR_GET_REASON(e) != SSL_R_CERTIFICATE_VERIFY_FAILED ||
	    (ssl = bufferevent_openssl_get_ssl(c->bev)) == NULL ||
	    (v = SSL_get_verify_result(ssl)) == X509_V_OK)
		return;
	snprintf(buf, len, "the reflector's certificate failed verification: "
	    "%s", X509_verify_cert_error_string(v));
}

static void
control_fail(struct control *c, const char *what)
{
	char tls[160];
	unsigned long e;
	int serr = control_sock_error(c);

	c->failed = 1;
	if (c->sock_errno == 0)
		c->sock_errno = serr;
	if (c->errmsg[0] != '\0')
		return;	/* keep the first, most specific reason */
	/* Library 0 is not OpenSSL's own: libevent files socket errors
	 * there, and the errno says more. */
	e = c->bev ? bufferevent_get_openssl_error(c->bev) : 0;
	if (e != 0 && ERR_GET_LIB(e) != 0) {
		c->cert_refusal = control_cert_alert(e);
		ERR_error_string_n(e, tls, sizeof(tls));
		control_verify_why(c, e, tls, sizeof(tls));
		snprintf(c->errmsg, sizeof(c->errmsg), "%s: %s: TLS: %s",
		    c->target, what, tls);
	} else if (serr != 0) {
		snprintf(c->errmsg, sizeof(c->errmsg), "%s: %s: %s",
		    c->target, what, strerror(serr));
	} else {
		snprintf(c->errmsg, sizeof(c->errmsg), "%s: %s", c->target,
		    what);
	}
}

static void
control_read_cb(struct bufferevent *bev, void *arg)
{
	struct control *c = arg;
	json_t *msg;
	int r;

	while ((r = channel_recv(bev, &msg)) == 0) {
		log_debug("control: received %s", proto_type(msg));
		json_array_append_new(c->inbox, msg);
		c->new_frame = 1;
	}
	if (r != FTP_ERR_AGAIN) {
		snprintf(c->errmsg, sizeof(c->errmsg),
		    "reflector sent a bad frame: %s", ftp_strerror(r));
		c->failed = 1;
		bufferevent_disable(bev, EV_READ);
	}
}

static void
control_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct control *c = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		c->connected = 1;
		return;
	}
	if ((what & BEV_EVENT_TIMEOUT) && c->errmsg[0] == '\0') {
		/* errno is stale here: no call failed, the clock ran out. */
		c->failed = 1;
		snprintf(c->errmsg, sizeof(c->errmsg), "%s: no TCP/TLS "
		    "handshake within %u ms", c->target,
		    CONTROL_CONNECT_TIMEOUT_MS);
	} else if (what & BEV_EVENT_TIMEOUT)
		c->failed = 1;
	else if (what & BEV_EVENT_EOF)
		control_fail(c, c->connected ?
		    "reflector closed the control connection" :
		    "reflector closed the connection during the TLS handshake");
	else
		control_fail(c, c->connected ? "control connection failed" :
		    "connect/TLS handshake failed");
}

/* Run the loop until *flag or a failure or the timer fires. */
int
control_pump(struct control *c, const int *flag, unsigned timeout_ms)
{
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };

	c->timed_out = 0;
	evtimer_add(c->timer, &tv);
	while (!*flag && !c->failed && !c->timed_out) {
		if (event_base_loop(c->base, EVLOOP_ONCE) == -1) {
			c->failed = 1;
			break;
		}
	}
	evtimer_del(c->timer);
	if (*flag)
		return 0;
	if (c->timed_out) {
		errno = ETIMEDOUT;
		return FTP_ERR_SYSTEM;
	}
	return FTP_ERR_PROTO;
}

/* A socket with TCP_MAXSEG set before connect when c->mss asks for
 * one (mtu.h: a path that loses large segments), else -1 (libevent
 * makes its own); -2 on failure. */
static evutil_socket_t
control_socket(const struct control *c, const struct sockaddr *sa)
{
	evutil_socket_t fd;
	int mss = (int)c->mss;

	if (c->mss == 0)
		return -1;
	if ((fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) < 0)
		return -2;
	if (setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof(mss)) != 0) {
		close(fd);
		return -2;
	}
	return fd;
}

/* TCP got through (the handshake stalled above it). */
static int
control_tcp_established(evutil_socket_t fd)
{
	struct tcp_info ti;
	socklen_t sl = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	return fd >= 0 && getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &sl) ==
	    0 && ti.tcpi_state == TCP_ESTABLISHED;
}

void
control_set_mss(struct control *c, unsigned mss)
{
	c->mss = mss;
}

int
control_tls_stalled(const struct control *c)
{
	return c->tcp_up;
}

/*
 * Every control message is one small frame waiting for its answer: with
 * Nagle's algorithm each would wait out the peer's delayed ACK (about
 * 40 ms a round trip, measured by tests/bench/load.sh's handshake rate).
 */
static void
control_nodelay(struct bufferevent *bev)
{
	int one = 1, fd = (int)bufferevent_getfd(bev);

	if (fd >= 0 && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
	    sizeof(one)) != 0)
		log_debug("control: TCP_NODELAY: %s", strerror(errno));
}

static int
control_try(struct control *c, const char *host,
    const struct sockaddr_storage *ss)
{
	struct timeval tv = { CONTROL_CONNECT_TIMEOUT_MS / 1000,
	    (CONTROL_CONNECT_TIMEOUT_MS % 1000) * 1000 };
	const struct sockaddr *sa = (const struct sockaddr *)ss;
	evutil_socket_t fd;
	SSL *ssl;
	int r;

	c->failed = 0;
	c->connected = 0;
	c->tcp_up = 0;
	c->busy_ms = 0;
	c->sock_errno = 0;
	c->closed_early = 0;
	c->errmsg[0] = '\0';
	if ((ssl = tls_client_ssl_new(c->ctx, host)) == NULL) {
		snprintf(c->errmsg, sizeof(c->errmsg),
		    "cannot set up TLS for %s", host);
		return FTP_ERR_TLS;
	}
	if ((fd = control_socket(c, sa)) == -2) {
		SSL_free(ssl);
		snprintf(c->errmsg, sizeof(c->errmsg), "socket: %s",
		    strerror(errno));
		return FTP_ERR_SYSTEM;
	}
	c->bev = bufferevent_openssl_socket_new(c->base, fd, ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		SSL_free(ssl);
		if (fd >= 0)
			close(fd);
		return FTP_ERR_NOMEM;
	}
	bufferevent_setcb(c->bev, control_read_cb, NULL, control_event_cb, c);
	bufferevent_set_timeouts(c->bev, &tv, &tv);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	addr_ntop_port(sa, c->target, sizeof(c->target));
	log_debug("control: connecting to %s", c->target);
	if (bufferevent_socket_connect(c->bev, sa, (int)addr_len(sa)) != 0)
		control_fail(c, "connect failed");
	else
		control_nodelay(c->bev);
	r = c->failed ? FTP_ERR_SYSTEM :
	    control_pump(c, &c->connected, CONTROL_CONNECT_TIMEOUT_MS + 1000);
	if (r == 0) {
		/* The deadline was for the handshake only; waits have their
		 * own timers from now on. */
		bufferevent_set_timeouts(c->bev, NULL, NULL);
		return 0;
	}
	if (c->errmsg[0] == '\0')
		snprintf(c->errmsg, sizeof(c->errmsg), "%s: no TCP/TLS "
		    "handshake within %u ms", c->target,
		    CONTROL_CONNECT_TIMEOUT_MS);
	c->tcp_up = control_tcp_established(bufferevent_getfd(c->bev));
	bufferevent_free(c->bev);
	c->bev = NULL;
	return FTP_ERR_TLS;
}

int
control_connect(struct control *c, const char *host, uint16_t port)
{
	struct sockaddr_storage addrs[CONTROL_MAX_ADDRS];
	int n, i, r = FTP_ERR_NOTFOUND;

	if ((n = addr_resolve(host, port, addrs, CONTROL_MAX_ADDRS)) <= 0) {
		snprintf(c->errmsg, sizeof(c->errmsg), "cannot resolve %s: %s",
		    host, ftp_strerror(n));
		return n < 0 ? n : FTP_ERR_NOTFOUND;
	}
	for (i = 0; i < n; i++) {
		if ((r = control_try(c, host, &addrs[i])) == 0)
			break;
		log_debug("control: %s", c->errmsg);
	}
	return r;
}

int
control_send(struct control *c, const json_t *msg)
{
	int r;

	if (c->bev == NULL || c->failed)
		return FTP_ERR_PROTO;
	log_debug("control: sending %s", proto_type(msg));
	if ((r = channel_send(c->bev, msg)) != 0)
		snprintf(c->errmsg, sizeof(c->errmsg), "cannot send %s: %s",
		    proto_type(msg), ftp_strerror(r));
	return r;
}

int
control_reset_by_peer(const struct control *c)
{
	return c->sock_errno == ECONNRESET;
}

int
control_endpoints(const struct control *c, struct sockaddr_storage *local,
    struct sockaddr_storage *peer)
{
	evutil_socket_t fd;
	socklen_t l1 = sizeof(*local), l2 = sizeof(*peer);

	if (c->bev == NULL || (fd = bufferevent_getfd(c->bev)) < 0)
		return FTP_ERR_INVAL;
	if (getsockname(fd, (struct sockaddr *)local, &l1) == -1 ||
	    getpeername(fd, (struct sockaddr *)peer, &l2) == -1)
		return FTP_ERR_SYSTEM;
	addr_unmap(local);
	addr_unmap(peer);
	return 0;
}
