/*
 * ftpcheck_mode.c - the data modes of the real FTP client (ftpcheck.h,
 * ftpcheck_mode.h): for each selected mode the PASV/EPSV/PORT/EPRT
 * command, the data connection it leads to (dialled for passive, accepted
 * on our listener for active), the RETR/LIST transfer over it and the
 * mode's end; each fills one struct ftpcheck_data.
 *
 * The control dialogue (ftpcheck.c) hands over after TYPE I and gets the
 * control connection back with QUIT sent.  A data connection is plain
 * here; in the FTPS session its reads go through ftpcheck_tls.c, on the
 * same socket and the same event, so both share one life cycle.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "addr.h"
#include "clock.h"
#include "err.h"
#include "errq.h"
#include "ftpcheck.h"
#include "ftpcheck_int.h"
#include "ftpcheck_mode.h"

static void ftpcheck_data_cb(evutil_socket_t fd, short what, void *arg);
static void ftpcheck_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg);

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
void
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

void
ftpcheck_data_close(struct ftpcheck *fc)
{
	ftpcheck_data_sock_close(fc);
	if (fc->lst != NULL) {
		evconnlistener_free(fc->lst);
		fc->lst = NULL;
	}
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

void
ftpcheck_next_mode(struct ftpcheck *fc)
{
	while (++fc->cur < FTPCHECK_NMODES) {
		if (ftpcheck_mode_begin(fc) == 0)
			return;
	}
	ftpcheck_send(fc, "QUIT");
	ftpcheck_wait(fc, FC_QUIT);
}

void
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

int
ftpcheck_mode_timeout(struct ftpcheck *fc)
{
	struct ftpcheck_data *d = ftpcheck_cur(fc);

	if (fc->state == FC_DATA_CONNECT) {
		/* Nothing owed on the control connection yet: carry on. */
		d->data_timed_out = 1;
		ftpcheck_data_failed(fc, ETIMEDOUT);
		ftpcheck_mode_end(fc);
		return 0;
	}
	d->data_timed_out = fc->data_fd != -1 || !d->connected;
	if (fc->data_ssl != NULL && !d->tls_ok && d->tls_error[0] == '\0')
		snprintf(d->tls_error, sizeof(d->tls_error),
		    "TLS handshake: timed out");
	if (ftpcheck_final_code(d) != 0) {
		/* The server has said its last word: still in step. */
		ftpcheck_mode_end(fc);
		return 0;
	}
	return -1;
}
