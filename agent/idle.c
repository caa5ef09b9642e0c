/*
 * idle.c - the idle-timeout test (idle.h): FTP control connections held
 * idle for different times, the control channel idle too, and the pure
 * judgement of which survived.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>

#include "addr.h"
#include "clock.h"
#include "control.h"
#include "err.h"
#include "idle.h"
#include "log.h"

const char *
idle_outcome_name(enum idle_outcome x)
{
	switch (x) {
	case IDLE_NOT_RUN:	return "not-run";
	case IDLE_ANSWERED:	return "answered";
	case IDLE_SILENT:	return "no-answer";
	case IDLE_RESET:	return "reset";
	case IDLE_CLOSED:	return "closed-by-server";
	case IDLE_NO_START:	return "not-started";
	}
	return "unknown";
}

void
idle_plan(struct idle_obs *o, unsigned seconds)
{
	unsigned t[IDLE_MAX_CONNS] = { seconds / 4, seconds / 2, seconds };
	unsigned i;

	memset(o, 0, sizeof(*o));
	o->seconds = seconds;
	/* Shortest first, each at least 1 s and longer than the last:
	 * the shorter ones bracket the timeout the longest one met. */
	for (i = 0; i < IDLE_MAX_CONNS; i++) {
		if (t[i] < IDLE_MIN_S || (o->n > 0 &&
		    t[i] <= o->ftp[o->n - 1].idle_s))
			continue;
		o->ftp[o->n++].idle_s = t[i];
	}
}

/* ---- judgement (pure) ---- */

static int
idle_forgotten(enum idle_outcome x)
{
	return x == IDLE_SILENT || x == IDLE_RESET;
}

void
idle_decide(const struct idle_obs *o, struct idle_result *r)
{
	unsigned i;

	memset(r, 0, sizeof(*r));
	if (!o->tested)
		return;
	for (i = 0; i < o->n; i++) {
		const struct idle_conn_obs *c = &o->ftp[i];

		if (c->outcome == IDLE_ANSWERED && c->idle_s > r->largest_ok)
			r->largest_ok = c->idle_s;
		if (idle_forgotten(c->outcome) && (r->smallest_bad == 0 ||
		    c->idle_s < r->smallest_bad)) {
			r->smallest_bad = c->idle_s;
			r->how = c->outcome;
		}
	}
	r->chan_lost = o->chan_tested && (o->chan_silent || o->chan_reset);
	/* The server still takes new connections: the idle one was
	 * forgotten on the way, not refused by a dead server.  A shorter
	 * idle that did not survive while a longer one did is loss, not a
	 * timeout. */
	r->timeout = (r->smallest_bad != 0 && o->fresh_ok &&
	    r->smallest_bad > r->largest_ok) || r->chan_lost;
}

int
idle_held(const struct idle_obs *o)
{
	unsigned i;

	for (i = 0; i < o->n; i++)
		if (o->ftp[i].outcome != IDLE_NO_START &&
		    o->ftp[i].outcome != IDLE_NOT_RUN)
			return 1;
	return 0;
}

void
idle_evidence(const struct idle_obs *o, const struct idle_result *r,
    char *buf, size_t len)
{
	char a[ADDR_STRLEN + 8];
	size_t off = 0;
	unsigned i;

	addr_ntop_port((const struct sockaddr *)&o->server, a, sizeof(a));
	off += (size_t)snprintf(buf + off, len - off, "FTP control "
	    "connections to %s held idle, then NOOP:", a);
	for (i = 0; i < o->n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s %u s %s%s%s",
		    i ? "," : "", o->ftp[i].idle_s,
		    idle_outcome_name(o->ftp[i].outcome),
		    o->ftp[i].code ? " " : "", o->ftp[i].reply);
	if (off < len && r->smallest_bad != 0)
		off += (size_t)snprintf(buf + off, len - off, "; %s within "
		    "%u ms while a new connection %s: the path (a NAT or "
		    "stateful firewall) forgot the connection idle for %u s%s",
		    r->how == IDLE_RESET ? "a reset came" : "no answer came",
		    o->wait_ms, o->fresh_ok ? "got its banner at once" :
		    "failed too", r->smallest_bad, r->how == IDLE_RESET ?
		    " (the reset was sent by a middlebox or by the server "
		    "host's own firewall; the server itself answers new "
		    "connections)" : "");
	if (off < len && r->largest_ok != 0)
		off += (size_t)snprintf(buf + off, len - off, "; the longest "
		    "idle that survived: %u s", r->largest_ok);
	else if (off < len && r->smallest_bad != 0)
		off += (size_t)snprintf(buf + off, len - off, "; no idle "
		    "time tried survived");
	if (off < len && o->chan_tested)
		(void)snprintf(buf + off, len - off, "; the TLS control "
		    "channel to the reflector idle for %u s: %s", o->seconds,
		    o->chan_ok ? "answered the ping" : o->chan_error);
}

void
idle_advice(const struct idle_result *r, char *buf, size_t len)
{
	unsigned k = r->largest_ok > 1 ? r->largest_ok / 2 : 1;

	snprintf(buf, len, "keep idle connections alive more often than "
	    "every %u s, or raise the path's idle limit: client TCP "
	    "keepalive (curl --keepalive-time %u; lftp and GUI clients: "
	    "their keepalive or NOOP interval), server side (vsftpd "
	    "idle_session_timeout, TCP keepalive), the firewall or NAT's "
	    "established timeout (nftables ct timeout policy "
	    "{ established: ... }, conntrack "
	    "net.netfilter.nf_conntrack_tcp_timeout_established)",
	    r->largest_ok ? r->largest_ok : 1, k);
}

json_t *
idle_json(const struct idle_obs *o, const struct idle_result *r)
{
	json_t *conns;
	unsigned i;

	if (!o->tested)
		return json_pack("{s:b, s:s}", "tested", 0, "reason",
		    o->reason);
	if ((conns = json_array()) == NULL)
		return NULL;
	for (i = 0; i < o->n; i++)
		json_array_append_new(conns, json_pack("{s:i, s:s, s:o, s:s}",
		    "idle_s", (int)o->ftp[i].idle_s, "outcome",
		    idle_outcome_name(o->ftp[i].outcome), "code",
		    o->ftp[i].code ? json_integer(o->ftp[i].code) :
		    json_null(), "reply", o->ftp[i].reply));
	return json_pack("{s:b, s:i, s:i, s:o, s:b, s:o, s:o, s:{s:b, s:b, "
	    "s:s}, s:b}", "tested", 1, "seconds", (int)o->seconds, "wait_ms",
	    (int)o->wait_ms, "connections", conns, "fresh_ok", o->fresh_ok,
	    "largest_ok_s", r->largest_ok ? json_integer(r->largest_ok) :
	    json_null(), "smallest_failed_s", r->smallest_bad ?
	    json_integer(r->smallest_bad) : json_null(), "channel",
	    "tested", o->chan_tested, "ok", o->chan_ok, "error",
	    o->chan_error, "timeout", r->timeout);
}

/* ---- the connections ---- */

enum idle_state {
	IC_CONNECTING,		/* waiting for the banner */
	IC_USER,		/* USER sent */
	IC_PASS,		/* PASS sent */
	IC_IDLE,
	IC_WAIT,		/* NOOP sent */
	IC_DONE,
};

struct idle_run;

struct idle_conn {
	struct idle_run *run;
	struct idle_conn_obs *obs;	/* NULL: the fresh connection */
	int fd;
	struct event *ev;
	enum idle_state st;
	uint64_t t0;			/* connect, then banner, then NOOP */
	char buf[512];
	size_t len;
	int banner_ok;
};

struct idle_run {
	const struct idle_params *p;
	struct idle_obs *o;
	struct idle_conn c[IDLE_MAX_CONNS + 1];	/* the last: fresh */
	struct event *tick;
};

static void
idle_conn_end(struct idle_conn *k, enum idle_outcome x, int err)
{
	if (k->obs != NULL && k->st != IC_DONE) {
		k->obs->outcome = x;
		k->obs->error = err;
	}
	k->st = IC_DONE;
	if (k->ev != NULL)
		event_free(k->ev);
	k->ev = NULL;
	if (k->fd != -1) {
		if (x == IDLE_ANSWERED)
			(void)send(k->fd, "QUIT\r\n", 6, MSG_DONTWAIT |
			    MSG_NOSIGNAL);
		close(k->fd);
	}
	k->fd = -1;
}

/* A final reply line ("ddd text"), or 0. */
static int
idle_reply(struct idle_conn *k, char *line, size_t len)
{
	char *eol;
	size_t n;

	while ((eol = memchr(k->buf, '\n', k->len)) != NULL) {
		n = (size_t)(eol - k->buf) + 1;
		snprintf(line, len, "%.*s", (int)(n > 2 ? n - 2 : 0), k->buf);
		memmove(k->buf, eol + 1, k->len - n);
		k->len -= n;
		if (n >= 4 && line[0] >= '1' && line[0] <= '5' && line[3] == ' ')
			return atoi(line);
	}
	if (k->len == sizeof(k->buf))
		k->len = 0;	/* an endless line: not FTP */
	return 0;
}

/* One command; 0, or -1 when the connection had to end. */
static int
idle_send(struct idle_conn *k, const char *verb, const char *arg)
{
	char cmd[300];
	int n = snprintf(cmd, sizeof(cmd), "%s %s\r\n", verb, arg);

	if (n < 0 || (size_t)n >= sizeof(cmd) || send(k->fd, cmd, (size_t)n,
	    MSG_DONTWAIT | MSG_NOSIGNAL) != n) {
		idle_conn_end(k, IDLE_NO_START, errno);
		return -1;
	}
	return 0;
}

/*
 * Banner, then a login as a real session would be (a client idles
 * logged in, between transfers); a login the server refuses still
 * leaves a connection to idle on, so only a 421 ends it.
 */
static int
idle_login(struct idle_conn *k, int code)
{
	const struct idle_params *p = k->run->p;

	if (k->st == IC_CONNECTING) {
		if (code != 220) {
			idle_conn_end(k, IDLE_NO_START, 0);
			return 1;
		}
		k->banner_ok = 1;
		if (k->obs == NULL) {
			idle_conn_end(k, IDLE_ANSWERED, 0);
			return 1;
		}
		k->st = IC_USER;
		(void)idle_send(k, "USER", p->user ? p->user : "anonymous");
		return 1;
	}
	if (code == 421) {
		idle_conn_end(k, IDLE_NO_START, 0);
		return 1;
	}
	if (k->st == IC_USER && code == 331) {
		k->st = IC_PASS;
		(void)idle_send(k, "PASS", p->password ? p->password :
		    "ftpath@");
		return 1;
	}
	k->st = IC_IDLE;
	k->t0 = clock_mono_ms();
	return 1;
}

static void
idle_got(struct idle_conn *k, int code, const char *line)
{
	if (k->st == IC_CONNECTING || k->st == IC_USER || k->st == IC_PASS) {
		(void)idle_login(k, code);
		return;
	}
	/* A line before the NOOP (a server's 421 on its own idle timeout)
	 * is followed by its close, which ends the connection as closed. */
	if (k->st != IC_WAIT)
		return;
	snprintf(k->obs->reply, sizeof(k->obs->reply), "%.60s", line);
	k->obs->code = code;
	/* 421: the server's own idle timeout closed it (not the path). */
	idle_conn_end(k, code == 421 ? IDLE_CLOSED : IDLE_ANSWERED, 0);
}

static void
idle_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct idle_conn *k = arg;
	char line[sizeof(k->buf)];
	ssize_t n;
	int code;

	(void)what;
	n = recv(fd, k->buf + k->len, sizeof(k->buf) - k->len, MSG_DONTWAIT);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		int err = n < 0 ? errno : 0;

		idle_conn_end(k, k->st == IC_CONNECTING ? IDLE_NO_START :
		    err == ECONNRESET ? IDLE_RESET : n == 0 ? IDLE_CLOSED :
		    IDLE_SILENT, err);
		return;
	}
	k->len += (size_t)n;
	while (k->st != IC_DONE && (code = idle_reply(k, line,
	    sizeof(line))) != 0)
		idle_got(k, code, line);
}

static int
idle_conn_start(struct idle_run *run, struct idle_conn *k)
{
	const struct sockaddr *sa = run->p->server;

	k->st = IC_CONNECTING;
	k->t0 = clock_mono_ms();
	if ((k->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) < 0)
		return FTP_ERR_SYSTEM;
	if (connect(k->fd, sa, (socklen_t)addr_len(sa)) != 0 &&
	    errno != EINPROGRESS) {
		idle_conn_end(k, IDLE_NO_START, errno);
		return 0;
	}
	if ((k->ev = event_new(run->p->base, k->fd, EV_READ | EV_PERSIST,
	    idle_read_cb, k)) == NULL || event_add(k->ev, NULL) != 0)
		return FTP_ERR_NOMEM;
	return 0;
}

/* The clocks of every connection: NOOP when its idle time is up, and
 * the answer waits. */
static void
idle_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct idle_run *run = arg;
	uint64_t now = clock_mono_ms();
	unsigned i;

	(void)fd;
	(void)what;
	for (i = 0; i <= IDLE_MAX_CONNS; i++) {
		struct idle_conn *k = &run->c[i];

		if (k->st == IC_DONE)
			continue;
		if (k->st != IC_IDLE && now - k->t0 >= run->o->wait_ms)
			idle_conn_end(k, k->st == IC_WAIT ? IDLE_SILENT :
			    IDLE_NO_START, ETIMEDOUT);
		else if (k->st == IC_IDLE && k->obs != NULL &&
		    now - k->t0 >= (uint64_t)k->obs->idle_s * 1000) {
			k->st = IC_WAIT;
			k->t0 = now;
			if (send(k->fd, "NOOP\r\n", 6, MSG_DONTWAIT |
			    MSG_NOSIGNAL) != 6)
				idle_conn_end(k, errno == ECONNRESET ?
				    IDLE_RESET : IDLE_SILENT, errno);
		}
	}
}

static int
idle_busy(const struct idle_run *run, unsigned from, unsigned to)
{
	unsigned i;

	for (i = from; i < to; i++)
		if (run->c[i].st != IC_DONE)
			return 1;
	return 0;
}

/* A second control session, hello now, one ping after o->seconds. */
static struct control *
idle_channel_start(const struct idle_params *p, struct idle_obs *o)
{
	struct control_welcome w;
	struct control *ctl;

	if (p->host == NULL) {
		snprintf(o->chan_error, sizeof(o->chan_error), "not tested");
		return NULL;
	}
	if ((ctl = control_new(p->base, p->ctx)) == NULL)
		return NULL;
	if (control_connect(ctl, p->host, p->port) != 0 ||
	    control_hello(ctl, &w) != 0) {
		snprintf(o->chan_error, sizeof(o->chan_error), "not tested "
		    "(a second session could not start: %s)",
		    control_errmsg(ctl));
		control_free(ctl);
		return NULL;
	}
	o->chan_tested = 1;
	return ctl;
}

static void
idle_channel_ping(struct control *ctl, struct idle_obs *o)
{
	struct control_rtt rtt;

	if (control_ping(ctl, 1, &rtt) == 0) {
		o->chan_ok = 1;
		return;
	}
	snprintf(o->chan_error, sizeof(o->chan_error), "%s",
	    control_errmsg(ctl));
	/* Only a silence or a reset is the path's: a clean close is the
	 * reflector's own session timeout (session_timeout). */
	o->chan_silent = strstr(o->chan_error, "timed out") != NULL;
	o->chan_reset = strstr(o->chan_error, strerror(ECONNRESET)) != NULL;
}

static void
idle_run_free(struct idle_run *run)
{
	unsigned i;

	for (i = 0; i <= IDLE_MAX_CONNS; i++)
		idle_conn_end(&run->c[i], IDLE_NOT_RUN, 0);
	if (run->tick != NULL)
		event_free(run->tick);
}

int
idle_run(const struct idle_params *p, struct idle_obs *o)
{
	struct timeval tv = { 0, 100000 };
	struct control *ctl = NULL;
	struct idle_run run;
	uint64_t t0, deadline;
	unsigned i;
	int r = FTP_ERR_NOMEM, pinged = 0;

	memset(&run, 0, sizeof(run));
	run.p = p;
	run.o = o;
	o->wait_ms = p->wait_ms;
	memcpy(&o->server, p->server, addr_len(p->server));
	for (i = 0; i <= IDLE_MAX_CONNS; i++) {
		run.c[i].fd = -1;
		run.c[i].st = IC_DONE;
		run.c[i].obs = i < o->n ? &o->ftp[i] : NULL;
		run.c[i].run = &run;
	}
	if ((run.tick = event_new(p->base, -1, EV_PERSIST, idle_tick_cb,
	    &run)) == NULL || event_add(run.tick, &tv) != 0)
		goto out;
	for (i = 0; i < o->n; i++)
		if ((r = idle_conn_start(&run, &run.c[i])) != 0)
			goto out;
	o->tested = 1;
	ctl = idle_channel_start(p, o);
	t0 = clock_mono_ms();
	/* Bounded: every connection ends within its idle time plus two
	 * waits; the ping within its own reply timeout. */
	deadline = t0 + (uint64_t)o->seconds * 1000 + 2 * (uint64_t)p->wait_ms +
	    1000;
	while ((idle_busy(&run, 0, o->n) || (ctl != NULL && !pinged)) &&
	    clock_mono_ms() < deadline) {
		if (ctl != NULL && !pinged &&
		    clock_mono_ms() - t0 >= (uint64_t)o->seconds * 1000) {
			idle_channel_ping(ctl, o);
			pinged = 1;
			continue;
		}
		if (event_base_loop(p->base, EVLOOP_ONCE) != 0)
			break;
	}
	/* The server still answers a new connection: a dead idle one was
	 * the path's doing. */
	o->fresh_tested = 1;
	if ((r = idle_conn_start(&run, &run.c[IDLE_MAX_CONNS])) != 0)
		goto out;
	while (idle_busy(&run, IDLE_MAX_CONNS, IDLE_MAX_CONNS + 1) &&
	    event_base_loop(p->base, EVLOOP_ONCE) == 0)
		;
	o->fresh_ok = run.c[IDLE_MAX_CONNS].banner_ok;
	r = 0;
out:
	if (r != 0) {
		snprintf(o->reason, sizeof(o->reason), "the test could not "
		    "run: %s", ftp_strerror(r));
		o->tested = 0;
	}
	control_free(ctl);
	idle_run_free(&run);
	return r;
}
