/*
 * algrun.c - the ALG dialogue and its requests (see algrun.h).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "active.h"
#include "addr.h"
#include "algrun.h"
#include "clock.h"
#include "err.h"
#include "ftpcheck.h"
#include "ftpcmd.h"
#include "jsonstr.h"
#include "log.h"
#include "proto.h"

struct algrun {
	const struct algrun_params *p;
	struct alg_obs *o;
	struct alg_dlg *d;	/* the dialogue running */
	uint16_t named_port;	/* the port PORT/EPRT name (both dialogues) */
	int fd;
	size_t acked;		/* a_recv bytes consumed by complete lines */
	struct active *act;
};

/* Wait for events on r->fd until the deadline; 1 ready, 0 timeout. */
static int
algrun_poll(struct algrun *r, short events, uint64_t deadline)
{
	struct pollfd pfd = { r->fd, events, 0 };
	uint64_t now;
	int n;

	for (;;) {
		now = clock_mono_ms();
		if (now >= deadline)
			return 0;
		n = poll(&pfd, 1, (int)(deadline - now));
		if (n > 0)
			return 1;
		if (n == 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

static int
algrun_connect(struct algrun *r, const struct sockaddr *sa)
{
	int soerr = 0;
	socklen_t sl = sizeof(soerr);

	r->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (r->fd == -1)
		return -1;
	if (connect(r->fd, sa, addr_len(sa)) == -1 && errno != EINPROGRESS)
		return -1;
	if (algrun_poll(r, POLLOUT, clock_mono_ms() + r->p->timeout_ms) != 1) {
		errno = ETIMEDOUT;
		return -1;
	}
	if (getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == -1 ||
	    soerr != 0) {
		errno = soerr != 0 ? soerr : errno;
		return -1;
	}
	return 0;
}

/* Send one line in one segment; recorded when log is set. */
static int
algrun_send(struct algrun *r, const char *text, int log)
{
	struct alg_dlg *d = r->d;
	size_t n = strlen(text);

	if (send(r->fd, text, n, MSG_NOSIGNAL) != (ssize_t)n)
		return -1;
	if (log && d->a_sent_len + n <= sizeof(d->a_sent)) {
		memcpy(d->a_sent + d->a_sent_len, text, n);
		d->a_sent_len += n;
	}
	return 0;
}

/* Read until one more complete line; its text (escaped) into line. */
static int
algrun_reply(struct algrun *r, char *line, size_t len)
{
	struct alg_dlg *d = r->d;
	uint64_t deadline = clock_mono_ms() + r->p->timeout_ms;
	const char *l;
	size_t off, ll;
	ssize_t n;
	int complete;

	for (;;) {
		off = r->acked;
		if (ftpcmd_next_line(d->a_recv, d->a_recv_len, &off, &l, &ll,
		    &complete) == 0 && complete) {
			r->acked = off;
			(void)ftpcmd_escape(l, ll, line, len);
			return 0;
		}
		if (d->a_recv_len == sizeof(d->a_recv)) {
			errno = EMSGSIZE;
			return -1;
		}
		if (algrun_poll(r, POLLIN, deadline) != 1) {
			errno = ETIMEDOUT;
			return -1;
		}
		n = recv(r->fd, d->a_recv + d->a_recv_len,
		    sizeof(d->a_recv) - d->a_recv_len, MSG_DONTWAIT);
		if (n == 0) {
			errno = ECONNRESET;
			return -1;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (n > 0)
			d->a_recv_len += (size_t)n;
	}
}

/* The probe line and its ack: the "first command" the helper skips. */
static int
algrun_hello(struct algrun *r, const char *token)
{
	char line[PROTO_PROBE_LINE_MAX], id[32], reply[ALG_TEXT_MAX];

	snprintf(id, sizeof(id), "alg-%u", (unsigned)r->d->port);
	if (proto_probe_line(line, sizeof(line), token, id) != 0 ||
	    algrun_send(r, line, 0) != 0 ||
	    algrun_reply(r, reply, sizeof(reply)) != 0)
		return -1;
	/* The transcripts start after the ack on both ends. */
	memmove(r->d->a_recv, r->d->a_recv + r->acked,
	    r->d->a_recv_len - r->acked);
	r->d->a_recv_len -= r->acked;
	r->acked = 0;
	if (strncmp(reply, "FTPATH/1 OK ", 12) != 0) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

/* Our listener for the connect-back, on the dialogue's own address. */
static void
algrun_listen(struct algrun *r, const struct sockaddr_storage *local)
{
	char id[32];

	if (r->p->no_active) {
		snprintf(r->o->active_skip, sizeof(r->o->active_skip),
		    "--no-active");
		return;
	}
	snprintf(id, sizeof(id), "alg-active-%u", (unsigned)r->p->source_port);
	r->act = active_new(r->p->base, control_token(r->p->ctl),
	    r->p->source_port, r->p->timeout_ms + CONTROL_REPLY_TIMEOUT_MS);
	if (r->act == NULL || active_set_probe_id(r->act, id) != 0 ||
	    active_listen(r->act, (const struct sockaddr *)local, 0) != 0) {
		snprintf(r->o->active_skip, sizeof(r->o->active_skip),
		    "cannot listen for the connect-back: %s", strerror(errno));
		active_free(r->act);
		r->act = NULL;
		return;
	}
	r->o->listen_port = active_port(r->act);
}

/* One command, one reply. */
static int
algrun_command(struct algrun *r, const char *cmd)
{
	char line[FTPCMD_LINE_MAX], reply[ALG_TEXT_MAX];

	snprintf(line, sizeof(line), "%s\r\n", cmd);
	if (algrun_send(r, line, 1) != 0 ||
	    algrun_reply(r, reply, sizeof(reply)) != 0)
		return -1;
	return 0;
}

/*
 * PASV (IPv4), EPSV, PORT (IPv4), EPRT: one reply each.  PORT/EPRT last:
 * the kernel's helper keeps one expectation per control connection
 * (max_expected 1), so a later 227 would evict the pinhole PORT opened.
 * QUIT comes after the connect-back: an ALG may drop its pinholes with
 * the control connection, and a real client keeps it open during a
 * transfer.  The first dialogue opens the listener for the connect-back;
 * the second (A/B) names the same port, so that its bytes are the same.
 */
static int
algrun_dialogue(struct algrun *r, int first)
{
	struct sockaddr_storage local;
	socklen_t sl = sizeof(local);
	char cmd[FTPCMD_LINE_MAX];
	int v4;

	if (getsockname(r->fd, (struct sockaddr *)&local, &sl) != 0)
		return -1;
	addr_unmap(&local);
	v4 = local.ss_family == AF_INET;
	if ((v4 && algrun_command(r, "PASV") != 0) ||
	    algrun_command(r, "EPSV") != 0)
		return -1;
	if (first) {
		algrun_listen(r, &local);
		/* Without a listener the commands still name a port: the
		 * helper only needs a well-formed command to show what it
		 * does. */
		r->named_port = r->o->listen_port ? r->o->listen_port :
		    addr_port((struct sockaddr *)&local);
	}
	addr_set_port((struct sockaddr *)&local, r->named_port);
	if (v4 && (ftpcheck_format_port((struct sockaddr *)&local, cmd,
	    sizeof(cmd)) != 0 || algrun_command(r, cmd) != 0))
		return -1;
	if (ftpcheck_format_eprt((struct sockaddr *)&local, cmd,
	    sizeof(cmd)) != 0 || algrun_command(r, cmd) != 0)
		return -1;
	return 0;
}

static int
algrun_quit(struct algrun *r)
{
	return algrun_command(r, "QUIT");
}

static void
algrun_unescape(const json_t *v, char *out, size_t cap, size_t *n)
{
	const char *s = json_string_value(v);

	if (s == NULL || ftpcmd_unescape(s, out, cap, n) != 0)
		*n = 0;
}

/* One dialogue's record (the message itself, or an entry of its
 * "dialogues") into d. */
static void
algrun_record(struct alg_dlg *d, const json_t *rec)
{
	const char *st = json_string_value(json_object_get(rec, "state"));

	snprintf(d->r_state, sizeof(d->r_state), "%s", st ? st : "none");
	algrun_unescape(json_object_get(rec, "received"), d->r_recv,
	    sizeof(d->r_recv), &d->r_recv_len);
	algrun_unescape(json_object_get(rec, "sent"), d->r_sent,
	    sizeof(d->r_sent), &d->r_sent_len);
	d->have_reflector = st != NULL && strcmp(st, "none") != 0;
}

/* The record of the dialogue whose probe id we sent: "alg-<port>". */
static const json_t *
algrun_find(const json_t *rep, uint16_t port)
{
	const json_t *e;
	const char *probe;
	char id[32];
	size_t i;

	snprintf(id, sizeof(id), "alg-%u", (unsigned)port);
	json_array_foreach(json_object_get(rep, "dialogues"), i, e) {
		probe = json_string_value(json_object_get(e, "probe"));
		if (probe != NULL && strcmp(probe, id) == 0)
			return e;
	}
	return NULL;
}

/* The reflector's record: alg-dialogue.  A reflector without
 * "dialogues" ran one dialogue: the control port's, at the top. */
static int
algrun_report(struct algrun *r)
{
	struct alg_obs *o = r->o;
	json_t *req, *rep = NULL;
	const json_t *rec;
	enum alg_dlg_id i;
	int rc;

	if ((req = proto_msg_new("alg-report")) == NULL)
		return FTP_ERR_NOMEM;
	rc = control_request(r->p->ctl, req, "alg-dialogue",
	    CONTROL_REPLY_TIMEOUT_MS, &rep);
	json_decref(req);
	if (rc != 0)
		return control_alive(r->p->ctl) ? 0 : rc;
	for (i = 0; i < ALG_ND; i++) {
		if (!o->d[i].tested)
			continue;
		rec = json_is_array(json_object_get(rep, "dialogues")) ?
		    algrun_find(rep, o->d[i].port) :
		    i == ALG_D_CONTROL ? rep : NULL;
		if (rec != NULL)
			algrun_record(&o->d[i], rec);
		else
			snprintf(o->d[i].r_state, sizeof(o->d[i].r_state),
			    "none");
	}
	json_decref(rep);
	return 0;
}

/* The connect-back to the PORT address as received: alg-active. */
static int
algrun_active(struct algrun *r)
{
	struct alg_obs *o = r->o;
	json_t *req, *rep = NULL;
	int rc;

	if (r->act == NULL)
		return 0;
	if ((req = proto_msg_new("alg-active")) == NULL ||
	    json_object_set_new(req, "timeout_ms",
	    json_integer(r->p->timeout_ms)) != 0) {
		json_decref(req);
		return FTP_ERR_NOMEM;
	}
	rc = control_request(r->p->ctl, req, "alg-active-result",
	    2 * r->p->timeout_ms + CONTROL_REPLY_TIMEOUT_MS, &rep);
	json_decref(req);
	if (rc != 0) {
		snprintf(o->active_skip, sizeof(o->active_skip), "%s",
		    control_errmsg(r->p->ctl));
		return control_alive(r->p->ctl) ? 0 : rc;
	}
	o->active_tested = 1;
	jsonstr_copy(o->active_refused, sizeof(o->active_refused),
	    json_object_get(rep, "refused"));
	jsonstr_copy(o->active_error, sizeof(o->active_error),
	    json_object_get(rep, "error"));
	jsonstr_copy(o->active_target, sizeof(o->active_target),
	    json_object_get(rep, "target"));
	if (json_is_integer(json_object_get(rep, "ms")))
		o->active_ms = (unsigned)json_integer_value(json_object_get(rep,
		    "ms"));
	/* Both ends must agree: the reflector's ack and our listener's
	 * record of a connection with our token. */
	o->active_ok = json_is_true(json_object_get(rep, "ok")) &&
	    active_arrived(r->act);
	json_decref(rep);
	return 0;
}

/* Connect to the dialogue's port and pass the probe line; d->tested or
 * d->reason. */
static int
algrun_start(struct algrun *r, struct alg_dlg *d)
{
	struct sockaddr_storage sa;

	memcpy(&sa, r->p->server, addr_len(r->p->server));
	addr_set_port((struct sockaddr *)&sa, d->port);
	r->d = d;
	r->acked = 0;
	if (algrun_connect(r, (struct sockaddr *)&sa) != 0 ||
	    algrun_hello(r, control_token(r->p->ctl)) != 0) {
		snprintf(d->reason, sizeof(d->reason), "the dialogue on port "
		    "%u could not start: %s", (unsigned)d->port,
		    strerror(errno));
		if (r->fd != -1)
			close(r->fd);
		r->fd = -1;
		return -1;
	}
	d->tested = 1;
	return 0;
}

static void
algrun_cut(struct algrun *r)
{
	snprintf(r->d->dialogue_error, sizeof(r->d->dialogue_error),
	    "cut short after %zu bytes sent: %s", r->d->a_sent_len,
	    strerror(errno));
	close(r->fd);
	r->fd = -1;
}

static void
algrun_end(struct algrun *r)
{
	if (r->fd != -1 && algrun_quit(r) != 0)
		snprintf(r->d->dialogue_error, sizeof(r->d->dialogue_error),
		    "no reply to QUIT: %s", strerror(errno));
	if (r->fd != -1)
		close(r->fd);
	r->fd = -1;
}

/* The A/B: the same commands on a port no FTP ALG looks at, after the
 * control port's dialogue has ended (no connect-back: one per session). */
static void
algrun_other(struct algrun *r)
{
	struct alg_dlg *d = &r->o->d[ALG_D_OTHER];

	if (r->p->other_port == 0)
		return;
	d->port = r->p->other_port;
	if (algrun_start(r, d) != 0)
		return;
	if (algrun_dialogue(r, 0) != 0)
		algrun_cut(r);
	algrun_end(r);
}

int
algrun_run(const struct algrun_params *p, struct alg_obs *o)
{
	struct alg_dlg *c = &o->d[ALG_D_CONTROL];
	struct algrun r;
	int rc = 0;

	memset(&r, 0, sizeof(r));
	r.p = p;
	r.o = o;
	r.fd = -1;
	c->port = addr_port(p->server);
	memcpy(&o->client_public, p->client_public,
	    addr_len(p->client_public));
	memcpy(&o->server_public, p->server_public,
	    addr_len(p->server_public));
	addr_unmap(&o->client_public);
	addr_unmap(&o->server_public);
	if (algrun_start(&r, c) != 0)
		goto out;
	if (algrun_dialogue(&r, 1) != 0)
		algrun_cut(&r);
	if ((rc = algrun_active(&r)) != 0)
		goto out;
	algrun_end(&r);
	algrun_other(&r);
	if ((rc = algrun_report(&r)) != 0)
		goto out;
	if (r.act == NULL && !o->active_skip[0])
		snprintf(o->active_skip, sizeof(o->active_skip),
		    "no listener");
out:
	if (r.fd != -1)
		close(r.fd);
	active_free(r.act);
	return rc;
}
