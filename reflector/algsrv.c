/*
 * algsrv.c - minimal FTP server for the ALG dialogue and the connect-back
 * to the PORT address as received (see algsrv.h).
 *
 * A raw non-blocking fd with one event, as in portreg.c: the dialogue is
 * a handful of short lines, each reply fits any socket buffer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "algsrv.h"
#include "clock.h"
#include "connectback.h"
#include "err.h"
#include "ftpcmd.h"
#include "log.h"
#include "proto.h"

enum algsrv_state {
	ALGSRV_NONE,		/* no alg-* probe arrived */
	ALGSRV_OPEN,		/* dialogue running */
	ALGSRV_CLOSED,		/* QUIT answered or the agent closed */
	ALGSRV_LIMIT,		/* a size bound was hit */
	ALGSRV_TIMEOUT,		/* the time bound was hit */
	ALGSRV_ERROR,		/* read/write error */
};

enum algsrv_active {
	ALGSRV_ACTIVE_NONE,
	ALGSRV_ACTIVE_RUNNING,
	ALGSRV_ACTIVE_DONE,
};

struct algsrv {
	struct event_base *base;
	char token[PROTO_TOKEN_HEXLEN + 1];
	struct sockaddr_storage local;
	struct sockaddr_storage observed;
	uint16_t pasv_port;
	uint16_t source_port;
	unsigned wait_ms;

	enum algsrv_state state;
	char probe[PROTO_PROBE_LINE_MAX];
	int fd;
	struct event *ev;
	uint64_t deadline_ms;
	unsigned lines;
	size_t rlen, parsed, slen;
	char rbuf[ALGSRV_MAX_BYTES];	/* every byte received, in order */
	char sbuf[ALGSRV_MAX_BYTES];	/* every byte sent, in order */
	int have_port, have_eprt;
	struct sockaddr_storage port, eprt;	/* first of each, as received */

	enum algsrv_active active;
	struct connectback *cb;
	struct sockaddr_storage target;
	void (*done)(json_t *, void *);
	void *done_arg;
};

static const char *
algsrv_state_name(enum algsrv_state st)
{
	switch (st) {
	case ALGSRV_NONE:	return "none";
	case ALGSRV_OPEN:	return "open";
	case ALGSRV_CLOSED:	return "closed";
	case ALGSRV_LIMIT:	return "limit";
	case ALGSRV_TIMEOUT:	return "timeout";
	case ALGSRV_ERROR:	return "error";
	}
	return "error";
}

struct algsrv *
algsrv_new(struct event_base *base, const char *token,
    const struct sockaddr *local, const struct sockaddr *observed,
    uint16_t pasv_port, uint16_t source_port, unsigned wait_ms)
{
	struct algsrv *a;

	if (strlen(token) != PROTO_TOKEN_HEXLEN ||
	    (a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->base = base;
	memcpy(a->token, token, PROTO_TOKEN_HEXLEN + 1);
	memcpy(&a->local, local, addr_len(local));
	addr_unmap(&a->local);
	memcpy(&a->observed, observed, addr_len(observed));
	addr_unmap(&a->observed);
	a->pasv_port = pasv_port;
	a->source_port = source_port;
	a->wait_ms = wait_ms;
	a->fd = -1;
	return a;
}

static void
algsrv_close(struct algsrv *a, enum algsrv_state st)
{
	if (a->ev != NULL) {
		event_free(a->ev);
		a->ev = NULL;
	}
	if (a->fd != -1) {
		close(a->fd);
		a->fd = -1;
	}
	if (a->state == ALGSRV_OPEN)
		a->state = st;
	log_debug("algsrv: dialogue %s after %u line(s)",
	    algsrv_state_name(a->state), a->lines);
}

void
algsrv_free(struct algsrv *a)
{
	if (a == NULL)
		return;
	algsrv_close(a, ALGSRV_CLOSED);
	connectback_free(a->cb);
	free(a);
}

/* Send text and log it; 0, or -1 when the dialogue had to end. */
static int
algsrv_send(struct algsrv *a, const char *text)
{
	size_t n = strlen(text);
	ssize_t w;

	if (a->slen + n > sizeof(a->sbuf)) {
		algsrv_close(a, ALGSRV_LIMIT);
		return -1;
	}
	w = send(a->fd, text, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (w != (ssize_t)n) {
		/* A short line never fills a socket buffer: the peer is gone. */
		algsrv_close(a, ALGSRV_ERROR);
		return -1;
	}
	memcpy(a->sbuf + a->slen, text, n);
	a->slen += n;
	return 0;
}

/* The reply to one command line (text without its line end). */
static int
algsrv_command(struct algsrv *a, const char *line)
{
	struct sockaddr_storage ss, pasv;
	const char *args = strchr(line, ' ');
	char reply[128];

	args = args != NULL ? args + 1 : "";
	if (strncasecmp(line, "PORT ", 5) == 0) {
		if (ftpcmd_parse_port(args, &ss) != 0)
			return algsrv_send(a, "501 Syntax error in PORT.\r\n");
		if (!a->have_port) {
			a->port = ss;
			a->have_port = 1;
		}
		return algsrv_send(a, "200 PORT command successful.\r\n");
	}
	if (strncasecmp(line, "EPRT ", 5) == 0) {
		if (ftpcmd_parse_eprt(args, &ss) != 0)
			return algsrv_send(a, "501 Syntax error in EPRT.\r\n");
		if (!a->have_eprt) {
			a->eprt = ss;
			a->have_eprt = 1;
		}
		return algsrv_send(a, "200 EPRT command successful.\r\n");
	}
	if (strcasecmp(line, "PASV") == 0) {
		pasv = a->local;
		addr_set_port((struct sockaddr *)&pasv, a->pasv_port);
		if (ftpcmd_format_227((struct sockaddr *)&pasv, reply,
		    sizeof(reply)) != 0)
			return algsrv_send(a, "425 PASV is IPv4 only; use "
			    "EPSV.\r\n");
		return algsrv_send(a, reply);
	}
	if (strncasecmp(line, "EPSV", 4) == 0 &&
	    (line[4] == '\0' || line[4] == ' ')) {
		(void)ftpcmd_format_229(a->pasv_port, reply, sizeof(reply));
		return algsrv_send(a, reply);
	}
	if (strcasecmp(line, "QUIT") == 0) {
		if (algsrv_send(a, "221 Goodbye.\r\n") == 0)
			algsrv_close(a, ALGSRV_CLOSED);
		return -1;
	}
	return algsrv_send(a, "502 Command not implemented.\r\n");
}

/* Answer every complete line not yet answered. */
static void
algsrv_lines(struct algsrv *a)
{
	char line[FTPCMD_LINE_MAX + 1];
	const char *l;
	size_t ll, off = a->parsed;
	int complete;

	while (a->fd != -1 && ftpcmd_next_line(a->rbuf, a->rlen, &off, &l,
	    &ll, &complete) == 0) {
		if (!complete) {
			if (a->rlen - a->parsed > FTPCMD_LINE_MAX)
				algsrv_close(a, ALGSRV_LIMIT);
			return;
		}
		a->parsed = off;
		if (++a->lines > ALGSRV_MAX_LINES || ll > FTPCMD_LINE_MAX) {
			(void)algsrv_send(a, "421 Too many or too long "
			    "commands.\r\n");
			algsrv_close(a, ALGSRV_LIMIT);
			return;
		}
		memcpy(line, l, ll);
		line[ll] = '\0';
		if (algsrv_command(a, line) != 0)
			return;
	}
}

static void
algsrv_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct algsrv *a = arg;
	ssize_t n;

	if ((what & EV_TIMEOUT) || clock_mono_ms() >= a->deadline_ms) {
		algsrv_close(a, ALGSRV_TIMEOUT);
		return;
	}
	if (a->rlen == sizeof(a->rbuf)) {
		algsrv_close(a, ALGSRV_LIMIT);
		return;
	}
	n = recv(fd, a->rbuf + a->rlen, sizeof(a->rbuf) - a->rlen,
	    MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	if (n <= 0) {
		algsrv_close(a, n == 0 ? ALGSRV_CLOSED : ALGSRV_ERROR);
		return;
	}
	a->rlen += (size_t)n;
	algsrv_lines(a);
}

int
algsrv_take(struct algsrv *a, int fd, const char *probe)
{
	char ack[PROTO_PROBE_LINE_MAX + 16];
	struct timeval tv;

	if (a->state != ALGSRV_NONE ||
	    strncmp(probe, ALGSRV_PROBE_PREFIX, strlen(ALGSRV_PROBE_PREFIX))
	    != 0 || proto_probe_ack(ack, sizeof(ack), probe) != 0)
		return 0;
	tv.tv_sec = a->wait_ms / 1000;
	tv.tv_usec = (suseconds_t)(a->wait_ms % 1000) * 1000;
	a->ev = event_new(a->base, fd, EV_READ | EV_PERSIST, algsrv_read_cb,
	    a);
	if (a->ev == NULL || event_add(a->ev, &tv) == -1) {
		if (a->ev != NULL)
			event_free(a->ev);
		a->ev = NULL;
		return 0;	/* acked and closed the usual way */
	}
	a->fd = fd;
	a->state = ALGSRV_OPEN;
	a->deadline_ms = clock_mono_ms() + a->wait_ms;
	snprintf(a->probe, sizeof(a->probe), "%s", probe);
	/* The ack is the first line the server sends, as a 220 banner
	 * would be: after it the helper parses this direction. */
	if (send(fd, ack, strlen(ack), MSG_DONTWAIT | MSG_NOSIGNAL) !=
	    (ssize_t)strlen(ack))
		algsrv_close(a, ALGSRV_ERROR);
	log_debug("algsrv: dialogue %s started", probe);
	return 1;
}

static json_t *
algsrv_jaddr(int have, const struct sockaddr_storage *ss)
{
	char buf[ADDR_STRLEN];

	if (!have)
		return json_null();
	return json_string(addr_ntop_port((const struct sockaddr *)ss, buf,
	    sizeof(buf)));
}

json_t *
algsrv_report(const struct algsrv *a)
{
	json_t *m;

	if ((m = proto_msg_new("alg-dialogue")) == NULL)
		return NULL;
	if (json_object_set_new(m, "state",
	    json_string(algsrv_state_name(a->state))) != 0 ||
	    json_object_set_new(m, "probe", a->state == ALGSRV_NONE ?
	    json_null() : json_string(a->probe)) != 0 ||
	    json_object_set_new(m, "received",
	    ftpcmd_escape_json(a->rbuf, a->rlen)) != 0 ||
	    json_object_set_new(m, "sent",
	    ftpcmd_escape_json(a->sbuf, a->slen)) != 0 ||
	    json_object_set_new(m, "port",
	    algsrv_jaddr(a->have_port, &a->port)) != 0 ||
	    json_object_set_new(m, "eprt",
	    algsrv_jaddr(a->have_eprt, &a->eprt)) != 0) {
		json_decref(m);
		return NULL;
	}
	return m;
}

/* An alg-active-result that says why nothing was dialled. */
static json_t *
algsrv_refusal(const struct algsrv *a, int have_target, const char *why)
{
	json_t *m;

	if ((m = proto_msg_new("alg-active-result")) == NULL)
		return NULL;
	/* A message short of a key would read as another outcome. */
	if (json_object_update_new(m, json_pack("{s:b, s:n, s:n, s:i, s:n, "
	    "s:n, s:o, s:s}", "ok", 0, "local", "remote", "ms", 0, "error",
	    "icmp", "target", algsrv_jaddr(have_target, &a->target),
	    "refused", why)) != 0) {
		json_decref(m);
		return NULL;
	}
	return m;
}

static void
algsrv_active_done_cb(const struct connectback_result *res, void *arg)
{
	struct algsrv *a = arg;
	json_t *m;

	a->active = ALGSRV_ACTIVE_DONE;
	/* NULL (out of memory) is passed on: the session then closes. */
	if ((m = connectback_result_msg("alg-active-result", res)) != NULL &&
	    (json_object_set_new(m, "target", algsrv_jaddr(1,
	    &a->target)) != 0 ||
	    json_object_set_new(m, "refused", json_null()) != 0)) {
		json_decref(m);
		m = NULL;
	}
	log_info("algsrv: connect-back to the PORT address %s: %s",
	    json_string_value(json_object_get(m, "target")) ?
	    json_string_value(json_object_get(m, "target")) : "?",
	    res->ok ? "ok" : connectback_errno_name(res->err));
	/* Safe: the connect-back calls us last. */
	connectback_free(a->cb);
	a->cb = NULL;
	a->done(m, a->done_arg);
}

/* The target of the connect-back, or a reason to refuse it. */
static const char *
algsrv_pick_target(struct algsrv *a, char *why, size_t len)
{
	char t[ADDR_STRLEN], o[ADDR_STRLEN];

	if (a->have_port)
		a->target = a->port;
	else if (a->have_eprt)
		a->target = a->eprt;
	else
		return "no PORT or EPRT command arrived";
	if (!addr_equal((struct sockaddr *)&a->target,
	    (struct sockaddr *)&a->observed)) {
		snprintf(why, len, "the %s address %s as received is not the "
		    "agent's observed address %s (anti-bounce)",
		    a->have_port ? "PORT" : "EPRT",
		    addr_ntop((struct sockaddr *)&a->target, t, sizeof(t)),
		    addr_ntop((struct sockaddr *)&a->observed, o, sizeof(o)));
		return why;
	}
	if (addr_port((struct sockaddr *)&a->target) < 1024) {
		snprintf(why, len, "the %s port %u is privileged "
		    "(anti-bounce)", a->have_port ? "PORT" : "EPRT",
		    addr_port((struct sockaddr *)&a->target));
		return why;
	}
	return NULL;
}

int
algsrv_active(struct algsrv *a, unsigned timeout_ms, json_t **now,
    void (*done)(json_t *msg, void *arg), void *arg)
{
	char why[256], id[32];
	const char *refuse;

	*now = NULL;
	if (a->active != ALGSRV_ACTIVE_NONE)
		return FTP_ERR_DENIED;
	a->active = ALGSRV_ACTIVE_DONE;
	if ((refuse = algsrv_pick_target(a, why, sizeof(why))) != NULL) {
		log_info("algsrv: connect-back refused: %s", refuse);
		*now = algsrv_refusal(a, a->have_port || a->have_eprt, refuse);
		return *now != NULL ? 0 : FTP_ERR_NOMEM;
	}
	a->cb = connectback_new(a->base, (struct sockaddr *)&a->local,
	    a->source_port, (struct sockaddr *)&a->target,
	    addr_port((struct sockaddr *)&a->target), a->token, timeout_ms,
	    algsrv_active_done_cb, a);
	snprintf(id, sizeof(id), ALGSRV_ACTIVE_PROBE "-%u",
	    (unsigned)a->source_port);
	if (a->cb == NULL || connectback_set_probe(a->cb, id) != 0 ||
	    connectback_start(a->cb) != 0) {
		connectback_free(a->cb);
		a->cb = NULL;
		*now = algsrv_refusal(a, 1, "the connect-back could not "
		    "start");
		return *now != NULL ? 0 : FTP_ERR_NOMEM;
	}
	a->active = ALGSRV_ACTIVE_RUNNING;
	a->done = done;
	a->done_arg = arg;
	return 0;
}
