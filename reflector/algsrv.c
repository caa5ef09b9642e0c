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

/* One dialogue: the connection of one alg-* arrival and its bytes. */
struct algsrv_dlg {
	struct algsrv *a;		/* owner (the callbacks' way back) */
	enum algsrv_state state;
	uint16_t local_port;		/* the port it arrived on */
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
};

/* d[0] is the first dialogue, the one on the control port (the agent
 * runs it first); d[1] the same bytes on another port (its A/B). */
#define ALGSRV_FIRST	0

struct algsrv {
	struct event_base *base;
	char token[PROTO_TOKEN_HEXLEN + 1];
	struct sockaddr_storage local;
	struct sockaddr_storage observed;
	uint16_t pasv_port;
	uint16_t source_port;
	uint16_t min_port;		/* connect-back port policy */
	unsigned wait_ms;

	struct algsrv_dlg d[ALGSRV_MAX_DIALOGUES];

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
	size_t i;

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
	a->min_port = 1024;
	a->wait_ms = wait_ms;
	for (i = 0; i < ALGSRV_MAX_DIALOGUES; i++) {
		a->d[i].a = a;
		a->d[i].fd = -1;
	}
	return a;
}

static void
algsrv_close(struct algsrv_dlg *d, enum algsrv_state st)
{
	if (d->ev != NULL) {
		event_free(d->ev);
		d->ev = NULL;
	}
	if (d->fd != -1) {
		close(d->fd);
		d->fd = -1;
	}
	if (d->state == ALGSRV_OPEN)
		d->state = st;
	if (d->state != ALGSRV_NONE)
		log_debug("algsrv: dialogue on port %u %s after %u line(s)",
		    (unsigned)d->local_port, algsrv_state_name(d->state),
		    d->lines);
}

void
algsrv_free(struct algsrv *a)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < ALGSRV_MAX_DIALOGUES; i++)
		algsrv_close(&a->d[i], ALGSRV_CLOSED);
	connectback_free(a->cb);
	free(a);
}

/* Send text and log it; 0, or -1 when the dialogue had to end. */
static int
algsrv_send(struct algsrv_dlg *d, const char *text)
{
	size_t n = strlen(text);
	ssize_t w;

	if (d->slen + n > sizeof(d->sbuf)) {
		algsrv_close(d, ALGSRV_LIMIT);
		return -1;
	}
	w = send(d->fd, text, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (w != (ssize_t)n) {
		/* A short line never fills a socket buffer: the peer is gone. */
		algsrv_close(d, ALGSRV_ERROR);
		return -1;
	}
	memcpy(d->sbuf + d->slen, text, n);
	d->slen += n;
	return 0;
}

/* The reply to one command line (text without its line end). */
static int
algsrv_command(struct algsrv_dlg *d, const char *line)
{
	const struct algsrv *a = d->a;
	struct sockaddr_storage ss, pasv;
	const char *args = strchr(line, ' ');
	char reply[128];

	args = args != NULL ? args + 1 : "";
	if (strncasecmp(line, "PORT ", 5) == 0) {
		if (ftpcmd_parse_port(args, &ss) != 0)
			return algsrv_send(d, "501 Syntax error in PORT.\r\n");
		if (!d->have_port) {
			d->port = ss;
			d->have_port = 1;
		}
		return algsrv_send(d, "200 PORT command successful.\r\n");
	}
	if (strncasecmp(line, "EPRT ", 5) == 0) {
		if (ftpcmd_parse_eprt(args, &ss) != 0)
			return algsrv_send(d, "501 Syntax error in EPRT.\r\n");
		if (!d->have_eprt) {
			d->eprt = ss;
			d->have_eprt = 1;
		}
		return algsrv_send(d, "200 EPRT command successful.\r\n");
	}
	if (strcasecmp(line, "PASV") == 0) {
		pasv = a->local;
		addr_set_port((struct sockaddr *)&pasv, a->pasv_port);
		if (ftpcmd_format_227((struct sockaddr *)&pasv, reply,
		    sizeof(reply)) != 0)
			return algsrv_send(d, "425 PASV is IPv4 only; use "
			    "EPSV.\r\n");
		return algsrv_send(d, reply);
	}
	if (strncasecmp(line, "EPSV", 4) == 0 &&
	    (line[4] == '\0' || line[4] == ' ')) {
		(void)ftpcmd_format_229(a->pasv_port, reply, sizeof(reply));
		return algsrv_send(d, reply);
	}
	if (strcasecmp(line, "QUIT") == 0) {
		if (algsrv_send(d, "221 Goodbye.\r\n") == 0)
			algsrv_close(d, ALGSRV_CLOSED);
		return -1;
	}
	return algsrv_send(d, "502 Command not implemented.\r\n");
}

/* Answer every complete line not yet answered. */
static void
algsrv_lines(struct algsrv_dlg *d)
{
	char line[FTPCMD_LINE_MAX + 1];
	const char *l;
	size_t ll, off = d->parsed;
	int complete;

	while (d->fd != -1 && ftpcmd_next_line(d->rbuf, d->rlen, &off, &l,
	    &ll, &complete) == 0) {
		if (!complete) {
			if (d->rlen - d->parsed > FTPCMD_LINE_MAX)
				algsrv_close(d, ALGSRV_LIMIT);
			return;
		}
		d->parsed = off;
		if (++d->lines > ALGSRV_MAX_LINES || ll > FTPCMD_LINE_MAX) {
			(void)algsrv_send(d, "421 Too many or too long "
			    "commands.\r\n");
			algsrv_close(d, ALGSRV_LIMIT);
			return;
		}
		memcpy(line, l, ll);
		line[ll] = '\0';
		if (algsrv_command(d, line) != 0)
			return;
	}
}

static void
algsrv_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct algsrv_dlg *d = arg;
	ssize_t n;

	if ((what & EV_TIMEOUT) || clock_mono_ms() >= d->deadline_ms) {
		algsrv_close(d, ALGSRV_TIMEOUT);
		return;
	}
	if (d->rlen == sizeof(d->rbuf)) {
		algsrv_close(d, ALGSRV_LIMIT);
		return;
	}
	n = recv(fd, d->rbuf + d->rlen, sizeof(d->rbuf) - d->rlen,
	    MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	if (n <= 0) {
		algsrv_close(d, n == 0 ? ALGSRV_CLOSED : ALGSRV_ERROR);
		return;
	}
	d->rlen += (size_t)n;
	algsrv_lines(d);
}

/* A free slot for a connection, by the port it arrived on (under
 * tproxy the original destination), or NULL: one dialogue per port, in
 * arrival order, ALGSRV_MAX_DIALOGUES per session. */
static struct algsrv_dlg *
algsrv_slot(struct algsrv *a, int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	uint16_t port;
	size_t i;

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
		return NULL;
	addr_unmap(&ss);
	port = addr_port((struct sockaddr *)&ss);
	for (i = 0; i < ALGSRV_MAX_DIALOGUES; i++) {
		if (a->d[i].state == ALGSRV_NONE) {
			a->d[i].local_port = port;
			return &a->d[i];
		}
		if (a->d[i].local_port == port)
			return NULL;
	}
	return NULL;
}

int
algsrv_take(struct algsrv *a, int fd, const char *probe)
{
	char ack[PROTO_PROBE_LINE_MAX + 16];
	struct algsrv_dlg *d;
	struct timeval tv;

	if (strncmp(probe, ALGSRV_PROBE_PREFIX, strlen(ALGSRV_PROBE_PREFIX))
	    != 0 || proto_probe_ack(ack, sizeof(ack), probe) != 0 ||
	    (d = algsrv_slot(a, fd)) == NULL)
		return 0;
	tv.tv_sec = a->wait_ms / 1000;
	tv.tv_usec = (suseconds_t)(a->wait_ms % 1000) * 1000;
	d->ev = event_new(a->base, fd, EV_READ | EV_PERSIST, algsrv_read_cb,
	    d);
	if (d->ev == NULL || event_add(d->ev, &tv) == -1) {
		if (d->ev != NULL)
			event_free(d->ev);
		d->ev = NULL;
		return 0;	/* acked and closed the usual way */
	}
	d->fd = fd;
	d->state = ALGSRV_OPEN;
	d->deadline_ms = clock_mono_ms() + a->wait_ms;
	snprintf(d->probe, sizeof(d->probe), "%s", probe);
	/* The ack is the first line the server sends, as a 220 banner
	 * would be: after it the helper parses this direction. */
	if (send(fd, ack, strlen(ack), MSG_DONTWAIT | MSG_NOSIGNAL) !=
	    (ssize_t)strlen(ack))
		algsrv_close(d, ALGSRV_ERROR);
	log_debug("algsrv: dialogue %s on port %u started", probe,
	    (unsigned)d->local_port);
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

/* The record of one dialogue into obj (the message or a list entry). */
static int
algsrv_jdialogue(json_t *m, const struct algsrv_dlg *d)
{
	if (json_object_set_new(m, "state",
	    json_string(algsrv_state_name(d->state))) != 0 ||
	    json_object_set_new(m, "probe", d->state == ALGSRV_NONE ?
	    json_null() : json_string(d->probe)) != 0 ||
	    json_object_set_new(m, "received",
	    ftpcmd_escape_json(d->rbuf, d->rlen)) != 0 ||
	    json_object_set_new(m, "sent",
	    ftpcmd_escape_json(d->sbuf, d->slen)) != 0 ||
	    json_object_set_new(m, "port",
	    algsrv_jaddr(d->have_port, &d->port)) != 0 ||
	    json_object_set_new(m, "eprt",
	    algsrv_jaddr(d->have_eprt, &d->eprt)) != 0)
		return -1;
	return 0;
}

/* Every dialogue that started, in arrival order. */
static json_t *
algsrv_jdialogues(const struct algsrv *a)
{
	json_t *l = json_array(), *e;
	size_t i;

	if (l == NULL)
		return NULL;
	for (i = 0; i < ALGSRV_MAX_DIALOGUES; i++) {
		if (a->d[i].state == ALGSRV_NONE)
			continue;
		if ((e = json_object()) == NULL ||
		    json_array_append_new(l, e) != 0 ||
		    json_object_set_new(e, "local_port",
		    json_integer(a->d[i].local_port)) != 0 ||
		    algsrv_jdialogue(e, &a->d[i]) != 0) {
			json_decref(l);
			return NULL;
		}
	}
	return l;
}

json_t *
algsrv_report(const struct algsrv *a)
{
	json_t *m;

	if ((m = proto_msg_new("alg-dialogue")) == NULL)
		return NULL;
	if (algsrv_jdialogue(m, &a->d[ALGSRV_FIRST]) != 0 ||
	    json_object_set_new(m, "dialogues", algsrv_jdialogues(a)) != 0) {
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

/* The target of the connect-back, or a reason to refuse it: the first
 * dialogue's only (the control port's, where an FTP ALG looks). */
static const char *
algsrv_pick_target(struct algsrv *a, char *why, size_t len)
{
	const struct algsrv_dlg *d = &a->d[ALGSRV_FIRST];
	char t[ADDR_STRLEN], o[ADDR_STRLEN], pw[96];

	if (d->have_port)
		a->target = d->port;
	else if (d->have_eprt)
		a->target = d->eprt;
	else
		return "no PORT or EPRT command arrived";
	if (!addr_equal((struct sockaddr *)&a->target,
	    (struct sockaddr *)&a->observed)) {
		snprintf(why, len, "the %s address %s as received is not the "
		    "agent's observed address %s (anti-bounce)",
		    d->have_port ? "PORT" : "EPRT",
		    addr_ntop((struct sockaddr *)&a->target, t, sizeof(t)),
		    addr_ntop((struct sockaddr *)&a->observed, o, sizeof(o)));
		return why;
	}
	/* The same policy as the plain active test's. */
	if (connectback_port_refused(addr_port((struct sockaddr *)&a->target),
	    a->min_port, pw, sizeof(pw)) != NULL) {
		snprintf(why, len, "the %s %s", d->have_port ? "PORT" : "EPRT",
		    pw);
		return why;
	}
	return NULL;
}

void
algsrv_set_min_port(struct algsrv *a, uint16_t min_port)
{
	a->min_port = min_port;
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
		*now = algsrv_refusal(a, a->d[ALGSRV_FIRST].have_port ||
		    a->d[ALGSRV_FIRST].have_eprt, refuse);
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
