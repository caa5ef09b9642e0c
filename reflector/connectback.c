/*
 * connectback.c - the active-mode connect-back (see connectback.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "connectback.h"
#include "clock.h"
#include "err.h"
#include "log.h"
#include "privops.h"
#include "proto.h"

enum connectback_phase {
	CB_IDLE,
	CB_CONNECTING,
	CB_WAIT_ACK,
	CB_DONE,
};

/* Floor for the ack wait, which is not a network round trip. */
#define CONNECTBACK_ACK_FLOOR_MS	5000

struct connectback {
	struct event_base *base;
	enum connectback_phase phase;
	struct sockaddr_storage local;	/* address and source port */
	struct sockaddr_storage remote;
	char token[PROTO_TOKEN_HEXLEN + 1];
	char probe_id[PROTO_PROBE_LINE_MAX];
	unsigned timeout_ms;
	uint64_t start_ms;
	uint64_t phase_end_ms;	/* deadline of the current phase */
	int fd;
	struct event *ev;
	size_t len;
	char buf[PROTO_PROBE_LINE_MAX];
	struct connectback_result res;
	void (*done)(const struct connectback_result *, void *);
	void *arg;
};

const char *
connectback_errno_name(int err)
{
	switch (err) {
	case 0:			return "OK";
	case ETIMEDOUT:		return "ETIMEDOUT";
	case ECONNREFUSED:	return "ECONNREFUSED";
	case ECONNRESET:	return "ECONNRESET";
	case ECONNABORTED:	return "ECONNABORTED";
	case EHOSTUNREACH:	return "EHOSTUNREACH";
	case ENETUNREACH:	return "ENETUNREACH";
	case EHOSTDOWN:		return "EHOSTDOWN";
	case ENETDOWN:		return "ENETDOWN";
	case EACCES:		return "EACCES";
	case EPERM:		return "EPERM";
	case EADDRINUSE:	return "EADDRINUSE";
	case EADDRNOTAVAIL:	return "EADDRNOTAVAIL";
	case EAFNOSUPPORT:	return "EAFNOSUPPORT";
	case EPROTO:		return "EPROTO";
	case EPIPE:		return "EPIPE";
	case EMSGSIZE:		return "EMSGSIZE";
	case ENOPROTOOPT:	return "ENOPROTOOPT";
	case EPROTONOSUPPORT:	return "EPROTONOSUPPORT";
	case ENOBUFS:		return "ENOBUFS";
	case ENOMEM:		return "ENOMEM";
	case EMFILE:		return "EMFILE";
	case ENFILE:		return "ENFILE";
	case EINVAL:		return "EINVAL";
	case EAGAIN:		return "EAGAIN";
	case EINTR:		return "EINTR";
	case ENOTCONN:		return "ENOTCONN";
	case EISCONN:		return "EISCONN";
	case EALREADY:		return "EALREADY";
	case EINPROGRESS:	return "EINPROGRESS";
	case EBADF:		return "EBADF";
	case ESHUTDOWN:		return "ESHUTDOWN";
	}
	return "EUNKNOWN";
}

struct connectback *
connectback_new(struct event_base *base, const struct sockaddr *local,
    uint16_t source_port, const struct sockaddr *observed, uint16_t port,
    const char *token, unsigned timeout_ms,
    void (*done)(const struct connectback_result *, void *), void *arg)
{
	struct connectback *cb;

	if (strlen(token) != PROTO_TOKEN_HEXLEN)
		return NULL;
	if ((cb = calloc(1, sizeof(*cb))) == NULL)
		return NULL;
	cb->base = base;
	cb->fd = -1;
	memcpy(&cb->local, local, addr_len(local));
	addr_unmap(&cb->local);
	addr_set_port((struct sockaddr *)&cb->local, source_port);
	memcpy(&cb->remote, observed, addr_len(observed));
	addr_unmap(&cb->remote);
	addr_set_port((struct sockaddr *)&cb->remote, port);
	memcpy(cb->token, token, PROTO_TOKEN_HEXLEN + 1);
	snprintf(cb->probe_id, sizeof(cb->probe_id), "%s%u",
	    CONNECTBACK_PROBE_PREFIX, (unsigned)source_port);
	cb->timeout_ms = timeout_ms;
	cb->done = done;
	cb->arg = arg;
	return cb;
}

const char *
connectback_port_refused(uint16_t port, uint16_t min_port, char *why,
    size_t len)
{
	if (port >= min_port)
		return NULL;
	snprintf(why, len, "port %u is below connectback_min_port %u "
	    "(anti-bounce)", (unsigned)port, (unsigned)min_port);
	return why;
}

int
connectback_set_probe(struct connectback *cb, const char *probe_id)
{
	char line[PROTO_PROBE_LINE_MAX];

	/* The line must be sendable: check it now, not at connect time. */
	if (cb->phase != CB_IDLE || proto_probe_line(line, sizeof(line),
	    cb->token, probe_id) != 0)
		return FTP_ERR_INVAL;
	snprintf(cb->probe_id, sizeof(cb->probe_id), "%s", probe_id);
	return 0;
}

void
connectback_free(struct connectback *cb)
{
	if (cb == NULL)
		return;
	if (cb->ev != NULL)
		event_free(cb->ev);
	if (cb->fd != -1)
		close(cb->fd);
	free(cb);
}

/* Arm the event for what (EV_READ/EV_WRITE, 0: timer only) with the time
 * that remains of the overall budget. */
static int connectback_arm(struct connectback *cb, short what);

static void
connectback_finish(struct connectback *cb, int err)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	cb->phase = CB_DONE;
	cb->res.ok = err == 0;
	cb->res.err = err;
	cb->res.ms = clock_mono_ms() - cb->start_ms;
	cb->res.remote = cb->remote;
	if (cb->fd != -1 && getsockname(cb->fd, (struct sockaddr *)&ss,
	    &sl) == 0 && ss.ss_family != AF_UNSPEC) {
		addr_unmap(&ss);
		cb->res.local = ss;
	} else {
		cb->res.local = cb->local;
	}
	if (err != 0 && cb->fd != -1 && errq_read(cb->fd, &cb->res.icmp) != 0)
		memset(&cb->res.icmp, 0, sizeof(cb->res.icmp));
	if (cb->ev != NULL) {
		event_free(cb->ev);
		cb->ev = NULL;
	}
	if (cb->fd != -1) {
		close(cb->fd);
		cb->fd = -1;
	}
	/* Last: done may free cb. */
	cb->done(&cb->res, cb->arg);
}

static void
connectback_send_probe(struct connectback *cb)
{
	char line[PROTO_PROBE_LINE_MAX];
	ssize_t n;
	size_t len;

	if (proto_probe_line(line, sizeof(line), cb->token,
	    cb->probe_id) != 0) {
		connectback_finish(cb, EINVAL);
		return;
	}
	len = strlen(line);
	/* A fresh socket's send buffer always takes one short line. */
	n = send(cb->fd, line, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n != (ssize_t)len) {
		connectback_finish(cb, n == -1 ? errno : EMSGSIZE);
		return;
	}
	cb->phase = CB_WAIT_ACK;
	/* The connect crossed the network; the ack only waits for the
	 * agent's loop, which may be busy with thousands of probes. */
	cb->phase_end_ms = clock_mono_ms() + (cb->timeout_ms >
	    CONNECTBACK_ACK_FLOOR_MS ? cb->timeout_ms :
	    CONNECTBACK_ACK_FLOOR_MS);
	if (connectback_arm(cb, EV_READ) != 0)
		connectback_finish(cb, ENOMEM);
}

static void
connectback_read_ack(struct connectback *cb)
{
	char id[PROTO_PROBE_LINE_MAX];
	ssize_t n;
	int r;

	n = recv(cb->fd, cb->buf + cb->len, sizeof(cb->buf) - cb->len,
	    MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		goto again;
	if (n == -1) {
		connectback_finish(cb, errno);
		return;
	}
	if (n == 0) {
		/* Closed without an ack: not our agent, or it refused. */
		log_debug("connectback: peer closed before the ack");
		connectback_finish(cb, EPROTO);
		return;
	}
	cb->len += (size_t)n;
	r = proto_probe_ack_parse(cb->buf, cb->len, id, sizeof(id));
	if (r == FTP_ERR_AGAIN && cb->len < sizeof(cb->buf))
		goto again;
	if (r != 0 || strcmp(id, cb->probe_id) != 0) {
		log_debug("connectback: bad ack");
		connectback_finish(cb, EPROTO);
		return;
	}
	connectback_finish(cb, 0);
	return;
again:
	if (connectback_arm(cb, EV_READ) != 0)
		connectback_finish(cb, ENOMEM);
}

/* Has the current phase's event happened although the timer fired? */
static int
connectback_ready(const struct connectback *cb)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int soerr = 0;
	socklen_t el = sizeof(soerr);
	char c;

	if (cb->phase == CB_CONNECTING)
		return getsockopt(cb->fd, SOL_SOCKET, SO_ERROR, &soerr,
		    &el) == 0 && (soerr != 0 ||
		    getpeername(cb->fd, (struct sockaddr *)&ss, &sl) == 0);
	if (cb->phase == CB_WAIT_ACK)
		return recv(cb->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) >= 0;
	return 0;
}

static void
connectback_io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct connectback *cb = arg;
	int soerr = 0;
	socklen_t sl = sizeof(soerr);

	/* Timer and readiness can arrive together on a busy loop: the socket
	 * decides, so a completed connect is never called a timeout. */
	if ((what & EV_TIMEOUT) && !connectback_ready(cb)) {
		connectback_finish(cb, ETIMEDOUT);
		return;
	}
	switch (cb->phase) {
	case CB_CONNECTING:
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == -1)
			soerr = errno;
		if (soerr != 0) {
			connectback_finish(cb, soerr);
			return;
		}
		connectback_send_probe(cb);
		return;
	case CB_WAIT_ACK:
		connectback_read_ack(cb);
		return;
	case CB_IDLE:
	case CB_DONE:
		break;
	}
}

/* Delivers a failure found synchronously in start() through the loop. */
static void
connectback_fail_cb(evutil_socket_t fd, short what, void *arg)
{
	struct connectback *cb = arg;

	(void)fd;
	(void)what;
	connectback_finish(cb, cb->res.err);
}

static int
connectback_arm(struct connectback *cb, short what)
{
	uint64_t now = clock_mono_ms(), end, left;
	struct timeval tv;

	end = cb->phase_end_ms;
	left = now < end ? end - now : 0;
	tv.tv_sec = (time_t)(left / 1000);
	tv.tv_usec = (suseconds_t)(left % 1000) * 1000;
	if (cb->ev != NULL)
		event_free(cb->ev);
	cb->ev = event_new(cb->base, cb->fd, what, connectback_io_cb, cb);
	if (cb->ev == NULL || event_add(cb->ev, &tv) == -1)
		return FTP_ERR_NOMEM;
	return 0;
}

int
connectback_start(struct connectback *cb)
{
	char lbuf[ADDR_STRLEN], rbuf[ADDR_STRLEN];
	int fd, err = 0;

	if (cb->phase != CB_IDLE)
		return FTP_ERR_INVAL;
	cb->start_ms = clock_mono_ms();
	cb->phase_end_ms = cb->start_ms + cb->timeout_ms;
	cb->phase = CB_CONNECTING;
	log_debug("connectback: %s -> %s",
	    addr_ntop_port((struct sockaddr *)&cb->local, lbuf, sizeof(lbuf)),
	    addr_ntop_port((struct sockaddr *)&cb->remote, rbuf, sizeof(rbuf)));
	if (privops_bound_socket((struct sockaddr *)&cb->local, &fd) != 0) {
		err = errno;
		goto fail;
	}
	cb->fd = fd;
	if (connect(fd, (struct sockaddr *)&cb->remote,
	    addr_len((struct sockaddr *)&cb->remote)) == -1 &&
	    errno != EINPROGRESS) {
		err = errno;
		goto fail;
	}
	/* Even an immediate connect is reported through the loop. */
	if (connectback_arm(cb, EV_WRITE) != 0)
		return FTP_ERR_NOMEM;
	return 0;
fail:
	cb->res.err = err != 0 ? err : EINVAL;
	cb->ev = event_new(cb->base, -1, 0, connectback_fail_cb, cb);
	if (cb->ev == NULL)
		return FTP_ERR_NOMEM;
	event_active(cb->ev, EV_TIMEOUT, 0);
	return 0;
}

json_t *
connectback_result_msg(const char *type, const struct connectback_result *res)
{
	char lbuf[ADDR_STRLEN], rbuf[ADDR_STRLEN], fbuf[ADDR_STRLEN];
	json_t *m, *icmp;

	if ((m = proto_msg_new(type)) == NULL)
		return NULL;
	json_object_set_new(m, "ok", json_boolean(res->ok));
	if (res->local.ss_family != AF_UNSPEC)
		json_object_set_new(m, "local", json_string(addr_ntop_port(
		    (const struct sockaddr *)&res->local, lbuf, sizeof(lbuf))));
	else
		json_object_set_new(m, "local", json_null());
	json_object_set_new(m, "remote", json_string(addr_ntop_port(
	    (const struct sockaddr *)&res->remote, rbuf, sizeof(rbuf))));
	json_object_set_new(m, "ms", json_integer((json_int_t)res->ms));
	json_object_set_new(m, "error", res->ok ? json_null() :
	    json_string(connectback_errno_name(res->err)));
	if (!res->icmp.present) {
		json_object_set_new(m, "icmp", json_null());
		return m;
	}
	if ((icmp = json_object()) == NULL) {
		json_decref(m);
		return NULL;
	}
	json_object_set_new(icmp, "type", json_integer(res->icmp.type));
	json_object_set_new(icmp, "code", json_integer(res->icmp.code));
	if (res->icmp.from.ss_family != AF_UNSPEC) {
		struct sockaddr_storage from = res->icmp.from;

		addr_unmap(&from);
		json_object_set_new(icmp, "from", json_string(addr_ntop(
		    (struct sockaddr *)&from, fbuf, sizeof(fbuf))));
	} else {
		json_object_set_new(icmp, "from", json_null());
	}
	json_object_set_new(m, "icmp", icmp);
	return m;
}
