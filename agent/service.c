/*
 * service.c - the real FTP client's session in `check` and what the
 * report says about it.  See service.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "err.h"
#include "jsonstr.h"
#include "ftpconns.h"
#include "service.h"

#define SERVICE_CONNS_SETTLE_MS	1000

static void
service_done_cb(void *arg)
{
	event_base_loopbreak(arg);
}

static int reply_2xx(const struct ftpcheck_reply *r);

/*
 * The connection limit (ftpconns.h), only for a server that greeted us.
 * A server counts a session until its process is gone, a moment after
 * our QUIT: when even the first connection is refused, the slot of the
 * session just closed may still be taken, so the set is tried once more
 * after SERVICE_CONNS_SETTLE_MS.
 */
static void
service_conns(struct event_base *base, const struct sockaddr *server,
    unsigned n, unsigned timeout_ms, struct ftpcheck_conns *out)
{
	struct timeval tv = { SERVICE_CONNS_SETTLE_MS / 1000,
	    (SERVICE_CONNS_SETTLE_MS % 1000) * 1000 };

	if (ftpconns_run(base, server, n, timeout_ms, out) != 0 ||
	    out->first_refused != 1)
		return;
	event_base_loopexit(base, &tv);
	(void)event_base_loop(base, 0);
	(void)ftpconns_run(base, server, n, timeout_ms, out);
}

int
service_run(struct event_base *base, const struct sockaddr *server,
    const struct ftpcheck_opts *opts, unsigned connections,
    struct ftpcheck_result *out)
{
	struct ftpcheck_opts o = *opts;
	struct ftpcheck *fc;

	o.done_cb = service_done_cb;
	o.done_arg = base;
	if ((fc = ftpcheck_new(base, server, &o)) == NULL)
		return errno == ENOMEM ? FTP_ERR_NOMEM : FTP_ERR_INVAL;
	(void)ftpcheck_start(fc);
	/* Other events (the control channel) live on base too: run it one
	 * round at a time until the session is over.  Every wait of the
	 * session is bounded by its own timer. */
	while (!ftpcheck_done(fc))
		if (event_base_loop(base, EVLOOP_ONCE) < 0)
			break;
	*out = *ftpcheck_result(fc);
	ftpcheck_free(fc);
	/* Say where a connection that never happened was going. */
	if (out->control_peer.ss_family == AF_UNSPEC)
		memcpy(&out->control_peer, server, server->sa_family ==
		    AF_INET6 ? sizeof(struct sockaddr_in6) :
		    sizeof(struct sockaddr_in));
	if (connections > 1 && out->control_connected &&
	    reply_2xx(&out->banner))
		service_conns(base, server, connections, o.timeout_ms ?
		    o.timeout_ms : FTPCHECK_TIMEOUT_MS, &out->conns);
	return 0;
}

/* ---- pure parts ---- */

static int
reply_2xx(const struct ftpcheck_reply *r)
{
	return r->code >= 200 && r->code < 300;
}

/* The first line of a reply, or what stood in for it. */
static const char *
reply_line(const struct ftpcheck_reply *r, char *buf, size_t len)
{
	size_t n;

	if (r->code == 0) {
		snprintf(buf, len, "%s", r->timed_out ? "no reply in time" :
		    "no reply");
		return buf;
	}
	n = strcspn(r->text, "\n");
	snprintf(buf, len, "%.*s", (int)n, r->text);
	return buf;
}

/* addr_text() for the storage this module keeps addresses in. */
static const char *
sa_text(const struct sockaddr_storage *ss, int with_port, char *buf,
    size_t len)
{
	return addr_text((const struct sockaddr *)ss, with_port, buf, len);
}

/* Why a connection failed: ICMP, a timeout or an errno; "" if none. */
static const char *
conn_error(int err, int timed_out, const struct errq_icmp *icmp, char *buf,
    size_t len)
{
	char d[96], a[ADDR_STRLEN];

	if (icmp->present) {
		errq_describe(icmp, d, sizeof(d));
		if (icmp->from.ss_family == AF_INET ||
		    icmp->from.ss_family == AF_INET6)
			snprintf(buf, len, "%s from %s", d,
			    sa_text(&icmp->from, 0, a, sizeof(a)));
		else
			snprintf(buf, len, "%s", d);
	} else if (timed_out)
		snprintf(buf, len, "no answer (timed out)");
	else if (err != 0)
		snprintf(buf, len, "%s", strerror(err));
	else
		buf[0] = '\0';
	return buf;
}

static int
mode_passive(enum ftpcheck_mode m)
{
	return m == FTPCHECK_EPSV || m == FTPCHECK_PASV;
}

/* The failure of the data connection of an attempted mode (in FTPS
 * also its TLS handshake), or "". */
static const char *
data_error(const struct ftpcheck_data *d, char *buf, size_t len)
{
	if (d->attempted && d->tls_error[0] != '\0') {
		snprintf(buf, len, "%s", d->tls_error);
		return buf;
	}
	if (!d->attempted || d->connected) {
		buf[0] = '\0';
		return buf;
	}
	return conn_error(d->data_err, d->data_timed_out, &d->icmp, buf, len);
}

/* Why the session stopped before the data modes, or NULL. */
static const char *
session_error(const struct ftpcheck_result *r, char *buf, size_t len)
{
	char e[160], a[ADDR_STRLEN + 8], l[160];

	if (!r->control_connected) {
		conn_error(r->control_err, r->control_timed_out,
		    &r->control_icmp, e, sizeof(e));
		snprintf(buf, len, "control connection to %s failed: %s",
		    sa_text(&r->control_peer, 1, a, sizeof(a)),
		    e[0] ? e : r->aborted[0] ? r->aborted : "unknown");
		return buf;
	}
	if (r->banner.code == 0) {
		snprintf(buf, len, "no banner (%s)",
		    reply_line(&r->banner, l, sizeof(l)));
		return buf;
	}
	if (!reply_2xx(&r->banner)) {
		snprintf(buf, len, "banner: %s",
		    reply_line(&r->banner, l, sizeof(l)));
		return buf;
	}
	if (!r->logged_in) {
		snprintf(buf, len, "login refused: %s",
		    reply_line(r->pass.code != 0 ? &r->pass : &r->user, l,
		    sizeof(l)));
		return buf;
	}
	return NULL;
}

/* One short line on a mode (plain or FTPS): what happened. */
static const char *
mode_reason(const struct ftpcheck_data *d, enum ftpcheck_mode m,
    char *buf, size_t len)
{
	char l[160], a[ADDR_STRLEN + 8], e[160];

	if (!d->attempted) {
		snprintf(buf, len, "not tested%s%s", d->skipped[0] ? ": " : "",
		    d->skipped);
		return buf;
	}
	if (d->ok) {
		snprintf(buf, len, "%llu bytes, %s",
		    (unsigned long long)d->bytes,
		    reply_line(d->done.code ? &d->done : &d->xfer, l,
		    sizeof(l)));
		return buf;
	}
	if (d->reply.code == 0 ||
	    (mode_passive(m) ? !d->adv_ok : !reply_2xx(&d->reply))) {
		snprintf(buf, len, "%s answered: %s", ftpcheck_mode_name(m),
		    reply_line(&d->reply, l, sizeof(l)));
		return buf;
	}
	if (!d->connected) {
		data_error(d, e, sizeof(e));
		if (mode_passive(m))
			snprintf(buf, len, "data connection to %s failed%s%s",
			    sa_text(&d->adv, 1, a, sizeof(a)), e[0] ? ": " : "",
			    e);
		else
			snprintf(buf, len, "the server did not connect to %s "
			    "(%s)", sa_text(&d->listen, 1, a, sizeof(a)),
			    d->xfer.code ? reply_line(&d->xfer, l, sizeof(l)) :
			    e[0] ? e : "no reply");
		return buf;
	}
	if (d->tls_error[0] != '\0') {
		snprintf(buf, len, "data connection %s (%s)", d->tls_error,
		    reply_line(d->done.code ? &d->done : &d->xfer, l,
		    sizeof(l)));
		return buf;
	}
	snprintf(buf, len, "transfer failed: %s",
	    reply_line(d->done.code ? &d->done : &d->xfer, l, sizeof(l)));
	return buf;
}

int
service_failed(const struct ftpcheck_result *r)
{
	char buf[256];
	int m;

	if (session_error(r, buf, sizeof(buf)) != NULL)
		return 1;
	for (m = 0; m < FTPCHECK_NMODES; m++)
		if (r->mode[m].attempted && !r->mode[m].ok)
			return 1;
	return 0;
}

unsigned
service_causes(const struct ftpcheck_result *r, struct service_cause *out,
    unsigned max)
{
	const struct ftpcheck_data *pv = &r->mode[FTPCHECK_PASV];
	const struct ftpcheck_data *ep = &r->mode[FTPCHECK_EPSV];
	char a[ADDR_STRLEN + 8], b[ADDR_STRLEN], e[160];
	unsigned n = 0;

	if (n < max && r->control_connected && r->banner.code >= 400 &&
	    r->banner.code < 500) {
		out[n].cause = CAUSE_SERVICE_REFUSED;
		snprintf(out[n].label, sizeof(out[n].label), "service banner");
		snprintf(out[n].evidence, sizeof(out[n].evidence), "%s",
		    r->banner.text);
		n++;
	}
	/* The AUTH TLS test's own connection, opened as the first one
	 * closed: a 421 there is a limit a client reconnecting meets. */
	if (n < max && r->control_connected && reply_2xx(&r->banner) &&
	    r->tls.attempted && r->tls.reply.code == 421) {
		out[n].cause = CAUSE_SERVICE_REFUSED;
		snprintf(out[n].label, sizeof(out[n].label),
		    "service connection 2");
		snprintf(out[n].evidence, sizeof(out[n].evidence), "the next "
		    "control connection (AUTH TLS test) got: %.900s",
		    r->tls.reply.text);
		n++;
	}
	if (n < max && r->conns.refused > 0) {
		out[n].cause = CAUSE_SERVICE_REFUSED;
		snprintf(out[n].label, sizeof(out[n].label),
		    "service connections");
		snprintf(out[n].evidence, sizeof(out[n].evidence), "of %u "
		    "control connections opened at once, %u were refused; "
		    "connection %u got: %.700s; clients that open parallel "
		    "connections (GUI clients open 2-4) will see this",
		    r->conns.tried, r->conns.refused, r->conns.first_refused,
		    r->conns.refusal.text);
		n++;
	}
	if (n < max && pv->attempted && pv->adv_ok && pv->adv_differs &&
	    !pv->connected) {
		data_error(pv, e, sizeof(e));
		out[n].cause = CAUSE_PASV_ADDRESS;
		snprintf(out[n].label, sizeof(out[n].label), "service PASV");
		snprintf(out[n].evidence, sizeof(out[n].evidence),
		    "227 advertised %s, the client dialled %s; the data "
		    "connection to it failed (%s)%s",
		    sa_text(&pv->adv, 1, a, sizeof(a)),
		    sa_text(&r->control_peer, 0, b, sizeof(b)),
		    e[0] ? e : "not connected",
		    ep->ok ? "; EPSV worked" : "");
		n++;
	}
	return n;
}

int
service_ftps_broke(const struct ftpcheck_result *r, enum ftpcheck_mode m,
    char *evidence, size_t len)
{
	const struct ftpcheck_data *p = &r->mode[m], *t = &r->ftps.mode[m];
	char why[320];

	if (!p->ok || !r->ftps.prot_ok || !t->attempted || t->ok ||
	    t->connected || (mode_passive(m) ? !t->adv_ok :
	    !reply_2xx(&t->reply)))
		return 0;
	mode_reason(t, m, why, sizeof(why));
	snprintf(evidence, len, "%s worked in plain FTP (%llu bytes) and "
	    "failed under FTPS: %s: an FTP helper or ALG on the path or the "
	    "server host opens the data port only when it can read %s; with "
	    "PROT P (encrypted control) it cannot", ftpcheck_mode_name(m),
	    (unsigned long long)p->bytes, why, mode_passive(m) ?
	    "PASV/EPSV" : "PORT/EPRT");
	return 1;
}

static json_t *
jreply(const struct ftpcheck_reply *r)
{
	return json_pack("{s:o,s:o}",
	    "code", r->code ? json_integer(r->code) : json_null(),
	    "text", r->code ? jsonstr_or_null(r->text) : json_null());
}

static json_t *
json_mode(const struct ftpcheck_data *d, enum ftpcheck_mode m)
{
	char reason[320], e[160], a[ADDR_STRLEN + 8];

	mode_reason(d, m, reason, sizeof(reason));
	data_error(d, e, sizeof(e));
	return json_pack("{s:s,s:b,s:b,s:o,s:o,s:o,s:I,s:s}",
	    "mode", ftpcheck_mode_name(m),
	    "attempted", d->attempted,
	    "ok", d->ok,
	    "reply", d->attempted ? jreply(&d->reply) : json_null(),
	    "advertised", mode_passive(m) && d->adv_ok ?
	    json_string(sa_text(&d->adv, 1, a, sizeof(a))) : json_null(),
	    "data_error", jsonstr_or_null(e),
	    "bytes", (json_int_t)d->bytes,
	    "reason", reason);
}

static json_t *
json_conns(const struct ftpcheck_conns *c)
{
	if (c->tried == 0)
		return json_null();
	return json_pack("{s:i,s:i,s:i,s:i,s:o}",
	    "tried", (int)c->tried, "greeted", (int)c->greeted,
	    "refused", (int)c->refused, "failed", (int)c->failed,
	    "refusal", c->refused ? jreply(&c->refusal) : json_null());
}

static json_t *
json_tls(const struct ftpcheck_tls *t)
{
	if (!t->attempted)
		return json_null();
	return json_pack("{s:o,s:b,s:o,s:b,s:b,s:b,s:o,s:o}",
	    "reply", jreply(&t->reply),
	    "handshake_ok", t->handshake_ok,
	    "handshake_error", jsonstr_or_null(t->handshake_error),
	    "self_signed", t->self_signed,
	    "expired", t->expired,
	    "name_match", t->name_match,
	    "verify_error", jsonstr_or_null(t->verify_error),
	    "subject", t->have_cert ? jsonstr_or_null(t->subject) : json_null());
}

/* An FTPS mode: the plain mode's keys and its data connection's TLS. */
static json_t *
json_ftps_mode(const struct ftpcheck_data *d, enum ftpcheck_mode m)
{
	json_t *o = json_mode(d, m);

	if (o != NULL && (json_object_set_new(o, "tls_ok",
	    json_boolean(d->tls_ok)) != 0 || json_object_set_new(o,
	    "tls_resumed", json_boolean(d->tls_resumed)) != 0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The session over TLS (null if it did not start). */
static json_t *
json_ftps(const struct ftpcheck_ftps *f)
{
	json_t *modes;
	int m;

	if (!f->attempted)
		return json_null();
	if ((modes = json_array()) == NULL)
		return NULL;
	for (m = 0; m < FTPCHECK_NMODES; m++)
		if (json_array_append_new(modes, json_ftps_mode(&f->mode[m],
		    (enum ftpcheck_mode)m)) != 0) {
			json_decref(modes);
			return NULL;
		}
	return json_pack("{s:b,s:o,s:o,s:b,s:o,s:o}",
	    "logged_in", f->logged_in,
	    "pbsz", jreply(&f->pbsz),
	    "prot", jreply(&f->prot),
	    "prot_ok", f->prot_ok,
	    "modes", modes,
	    "aborted", jsonstr_or_null(f->aborted));
}

json_t *
service_json(const struct ftpcheck_result *r)
{
	char err[320], a[ADDR_STRLEN + 8];
	const char *se = session_error(r, err, sizeof(err));
	json_t *o, *modes;
	int m;

	if ((modes = json_array()) == NULL)
		return NULL;
	for (m = 0; m < FTPCHECK_NMODES; m++)
		if (json_array_append_new(modes,
		    json_mode(&r->mode[m], (enum ftpcheck_mode)m)) != 0) {
			json_decref(modes);
			return NULL;
		}
	o = json_pack("{s:b,s:b,s:o,s:o,s:o,s:{s:o,s:b},s:o,s:o,s:o,s:o,s:o,"
	    "s:i}",
	    "tested", 1,
	    "ok", !service_failed(r),
	    "server", r->control_peer.ss_family != AF_UNSPEC ?
	    json_string(sa_text(&r->control_peer, 1, a, sizeof(a))) :
	    json_null(),
	    "error", jsonstr_or_null(se),
	    "banner", jreply(&r->banner),
	    "login", "code", r->pass.code ? json_integer(r->pass.code) :
	    r->user.code ? json_integer(r->user.code) : json_null(),
	    "ok", r->logged_in,
	    "modes", modes,
	    "tls", json_tls(&r->tls),
	    "ftps", json_ftps(&r->ftps),
	    "connections", json_conns(&r->conns),
	    "aborted", jsonstr_or_null(r->aborted),
	    "elapsed_ms", (int)r->elapsed_ms);
	return o;
}

/* ---- the human section (from the result, never from its JSON) ---- */

#define ANSI_GREEN	"\033[32m"
#define ANSI_RED	"\033[31m"
#define ANSI_RESET	"\033[0m"

static void
print_tls(const struct ftpcheck_tls *t, FILE *out)
{
	char line[96];

	if (!t->attempted)
		return;
	if (t->handshake_ok) {
		fprintf(out, "     TLS      AUTH TLS: handshake ok%s%s%s\n",
		    t->self_signed ? ", self-signed" : "",
		    t->expired ? ", expired" : "",
		    t->name_match ? "" : ", name mismatch");
		return;
	}
	reply_line(&t->reply, line, sizeof(line));
	fprintf(out, "     TLS      AUTH TLS: %s\n", t->reply.code ? line :
	    "no reply");
}

/* One line per data mode ("EPSV", or "FTPS EPSV" for the TLS session). */
static void
print_mode(const struct ftpcheck_data *d, enum ftpcheck_mode m,
    const char *prefix, FILE *out, int color)
{
	char reason[320], name[16];
	int att = d->attempted;

	mode_reason(d, m, reason, sizeof(reason));
	snprintf(name, sizeof(name), "%s%s", prefix, ftpcheck_mode_name(m));
	fprintf(out, "%s%s%s %-7s  %s\n",
	    color && att ? (d->ok ? ANSI_GREEN : ANSI_RED) : "",
	    !att ? "----" : d->ok ? "PASS" : "FAIL",
	    color && att ? ANSI_RESET : "", name, reason);
}

/* The FTPS session: why it stopped, else its modes that ran. */
static void
print_ftps(const struct ftpcheck_ftps *f, FILE *out, int color)
{
	char line[96];
	int m;

	if (!f->attempted)
		return;
	if (!f->prot_ok) {
		reply_line(f->prot.code ? &f->prot : f->pbsz.code ? &f->pbsz :
		    f->pass.code ? &f->pass : &f->user, line, sizeof(line));
		fprintf(out, "     FTPS     %s\n", f->aborted[0] ? f->aborted :
		    line);
		return;
	}
	for (m = 0; m < FTPCHECK_NMODES; m++)
		if (f->mode[m].attempted)
			print_mode(&f->mode[m], (enum ftpcheck_mode)m, "FTPS ",
			    out, color);
}

void
service_print(const struct ftpcheck_result *r, FILE *out, int color)
{
	char err[320], a[ADDR_STRLEN + 8];
	const char *se = session_error(r, err, sizeof(err));
	int m;

	fprintf(out, "\nreal FTP client: %s\n", r->control_peer.ss_family !=
	    AF_UNSPEC ? sa_text(&r->control_peer, 1, a, sizeof(a)) : "");
	if (se != NULL)
		fprintf(out, "%s%s%s session  %s\n", color ? ANSI_RED : "",
		    "FAIL", color ? ANSI_RESET : "", se);
	for (m = 0; m < FTPCHECK_NMODES; m++)
		if (r->mode[m].attempted || se == NULL)
			print_mode(&r->mode[m], (enum ftpcheck_mode)m, "", out,
			    color);
	print_tls(&r->tls, out);
	print_ftps(&r->ftps, out, color);
	if (r->conns.tried > 0)
		fprintf(out, "     CONNS    %u at once: %u greeted, %u refused, "
		    "%u failed\n", r->conns.tried, r->conns.greeted,
		    r->conns.refused, r->conns.failed);
}
