/*
 * tlsclose.c - a refused handshake's socket kept until its alert is out
 * (see tlsclose.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tlsclose.h"
#include "log.h"

struct tlsclose_conn {
	LIST_ENTRY(tlsclose_conn) entry;
	struct tlsclose *tc;
	struct event *ev;
	int fd;				/* our duplicate */
};

struct tlsclose {
	struct event_base *base;
	LIST_HEAD(, tlsclose_conn) conns;
	unsigned n, max;
};

static void
tlsclose_conn_free(struct tlsclose_conn *lc)
{
	LIST_REMOVE(lc, entry);
	lc->tc->n--;
	if (lc->ev != NULL)
		event_free(lc->ev);
	close(lc->fd);
	free(lc);
}

/* Discard what the peer sends; its EOF, an error or the timeout end it. */
static void
tlsclose_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tlsclose_conn *lc = arg;
	char buf[4096];
	ssize_t n;
	int i;

	if (what & EV_TIMEOUT) {
		tlsclose_conn_free(lc);
		return;
	}
	/* Bounded: a peer streaming data is cut at the timeout anyway. */
	for (i = 0; i < 16; i++) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR))
			return;
		tlsclose_conn_free(lc);	/* EOF or a reset: done */
		return;
	}
}

/* Take over the socket of ssl after its fatal alert was written. */
static void
tlsclose_take(struct tlsclose *tc, const SSL *ssl)
{
	struct timeval tv = { TLSCLOSE_LINGER_S, 0 };
	struct tlsclose_conn *lc;
	int fd;

	if (tc->base == NULL || tc->n >= tc->max ||
	    (fd = SSL_get_fd(ssl)) < 0)
		return;
	if ((lc = calloc(1, sizeof(*lc))) == NULL)
		return;
	if ((lc->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1) {
		free(lc);
		return;
	}
	lc->tc = tc;
	LIST_INSERT_HEAD(&tc->conns, lc, entry);
	tc->n++;
	/* FIN after the alert; nothing else is written on a refused
	 * handshake. */
	(void)shutdown(lc->fd, SHUT_WR);
	if ((lc->ev = event_new(tc->base, lc->fd, EV_READ | EV_PERSIST,
	    tlsclose_read_cb, lc)) == NULL || event_add(lc->ev, &tv) == -1) {
		log_warnx("tlsclose: cannot watch a refused connection");
		tlsclose_conn_free(lc);
	}
}

/*
 * OpenSSL calls this after it has written an alert to the socket: a
 * fatal one before the handshake finished is a refusal.
 */
static void
tlsclose_info_cb(const SSL *ssl, int where, int ret)
{
	struct tlsclose *tc;

	if ((where & SSL_CB_WRITE_ALERT) != SSL_CB_WRITE_ALERT ||
	    (ret >> 8) != SSL3_AL_FATAL || SSL_is_init_finished(ssl))
		return;
	if ((tc = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl))) != NULL)
		tlsclose_take(tc, ssl);
}

struct tlsclose *
tlsclose_new(unsigned max)
{
	struct tlsclose *tc;

	if ((tc = calloc(1, sizeof(*tc))) == NULL)
		return NULL;
	LIST_INIT(&tc->conns);
	tc->max = max;
	return tc;
}

void
tlsclose_free(struct tlsclose *tc)
{
	if (tc == NULL)
		return;
	while (!LIST_EMPTY(&tc->conns))
		tlsclose_conn_free(LIST_FIRST(&tc->conns));
	free(tc);
}

void
tlsclose_set_base(struct tlsclose *tc, struct event_base *base)
{
	tc->base = base;
}

void
tlsclose_install(struct tlsclose *tc, SSL_CTX *ctx)
{
	SSL_CTX_set_app_data(ctx, tc);
	SSL_CTX_set_info_callback(ctx, tlsclose_info_cb);
}

unsigned
tlsclose_count(const struct tlsclose *tc)
{
	return tc->n;
}
