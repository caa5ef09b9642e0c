/*
 * alg.c - classify the ALG dialogue and render it (see alg.h).
 */
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "alg.h"
#include "ftpcheck.h"
#include "ftpcmd.h"
#include "log.h"
#include "jsonstr.h"

const char *
alg_class_name(enum alg_class c)
{
	switch (c) {
	case ALG_NOT_SENT:		return "not-sent";
	case ALG_UNTOUCHED:		return "untouched";
	case ALG_MISSING:		return "missing";
	case ALG_REWRITTEN_PORT:	return "rewritten-port";
	case ALG_REWRITTEN_OBSERVED:	return "rewritten-to-observed";
	case ALG_REWRITTEN_WRONG:	return "rewritten-wrong";
	case ALG_MANGLED:		return "mangled";
	}
	return "mangled";
}

const char *
alg_xchg_name(enum alg_xchg x)
{
	static const char *const n[ALG_NX] = { "PORT", "EPRT", "227", "229" };

	return x < ALG_NX ? n[x] : "?";
}

/* The prefix that starts the exchange's line on the sending side. */
static const char *
alg_prefix(enum alg_xchg x)
{
	static const char *const p[ALG_NX] = { "PORT ", "EPRT ", "227 ",
	    "229 " };

	return p[x];
}

/* Line number idx (0-based) of buf into *line and *len; 0 or -1. */
static int
alg_line(const char *buf, size_t n, int idx, const char **line, size_t *len)
{
	size_t off = 0;
	int i = 0, complete;

	while (ftpcmd_next_line(buf, n, &off, line, len, &complete) == 0) {
		if (i++ == idx)
			return complete ? 0 : -1;
	}
	return -1;
}

/* Index of the first line of buf starting with prefix, or -1. */
static int
alg_find(const char *buf, size_t n, const char *prefix, const char **line,
    size_t *len)
{
	size_t off = 0, pl = strlen(prefix);
	int i = 0, complete;

	while (ftpcmd_next_line(buf, n, &off, line, len, &complete) == 0) {
		if (complete && *len >= pl && strncasecmp(*line, prefix, pl) ==
		    0)
			return i;
		i++;
	}
	return -1;
}

/* The address a line names: PORT/EPRT args, 227 text; 229 port only. */
static int
alg_addr(enum alg_xchg x, const char *line, size_t len,
    struct sockaddr_storage *ss)
{
	char text[FTPCMD_LINE_MAX + 1];
	struct sockaddr_in sin;
	uint16_t port;

	if (len > FTPCMD_LINE_MAX || len < 5)
		return -1;
	memcpy(text, line, len);
	text[len] = '\0';
	memset(ss, 0, sizeof(*ss));
	switch (x) {
	case ALG_X_PORT:
		return ftpcmd_parse_port(text + 5, ss) == 0 ? 0 : -1;
	case ALG_X_EPRT:
		return ftpcmd_parse_eprt(text + 5, ss) == 0 ? 0 : -1;
	case ALG_X_227:
		if (ftpcheck_parse_227(text, &sin) != 0)
			return -1;
		memcpy(ss, &sin, sizeof(sin));
		return 0;
	case ALG_X_229:
		if (ftpcheck_parse_229(text, &port) != 0)
			return -1;
		ss->ss_family = AF_UNSPEC;
		addr_set_port((struct sockaddr *)ss, port);
		return 0;
	case ALG_NX:
		break;
	}
	return -1;
}

static void
alg_text(char *dst, size_t dlen, const char *line, size_t len)
{
	(void)ftpcmd_escape(line, len, dst, dlen);
}

/* One exchange: the sender's line vs the receiver's line of the same
 * index; "public" is the right address after NAT. */
static enum alg_class
alg_exchange(enum alg_xchg x, const char *sbuf, size_t slen,
    const char *rbuf, size_t rlen, int have_rbuf,
    const struct sockaddr_storage *public, struct alg_x *out)
{
	struct sockaddr_storage sa, ra;
	const char *sl, *rl;
	size_t sn, rn;
	int idx;

	if ((idx = alg_find(sbuf, slen, alg_prefix(x), &sl, &sn)) < 0)
		return ALG_NOT_SENT;
	alg_text(out->sent, sizeof(out->sent), sl, sn);
	if (!have_rbuf || alg_line(rbuf, rlen, idx, &rl, &rn) != 0)
		return ALG_MISSING;
	alg_text(out->received, sizeof(out->received), rl, rn);
	if (rn == sn && memcmp(rl, sl, sn) == 0)
		return ALG_UNTOUCHED;
	if (rn < strlen(alg_prefix(x)) || strncasecmp(rl, alg_prefix(x),
	    strlen(alg_prefix(x))) != 0 ||
	    alg_addr(x, rl, rn, &ra) != 0 || alg_addr(x, sl, sn, &sa) != 0)
		return ALG_MANGLED;
	if (x == ALG_X_229 || addr_equal((struct sockaddr *)&ra,
	    (struct sockaddr *)&sa))
		return ALG_REWRITTEN_PORT;
	if (addr_equal((struct sockaddr *)&ra, (const struct sockaddr *)public))
		return ALG_REWRITTEN_OBSERVED;
	return ALG_REWRITTEN_WRONG;
}

/* One dialogue's exchanges; a cut-short one is "missing" unless an
 * exchange shows a rewrite. */
static void
alg_classify_dlg(const struct alg_dlg *d, const struct alg_obs *o,
    struct alg_dres *r)
{
	enum alg_xchg x;
	int any_missing = 0;

	r->cls = ALG_UNTOUCHED;
	for (x = 0; x < ALG_NX; x++) {
		int up = x == ALG_X_PORT || x == ALG_X_EPRT;

		r->x[x].cls = up ?
		    alg_exchange(x, d->a_sent, d->a_sent_len, d->r_recv,
		    d->r_recv_len, d->have_reflector, &o->client_public,
		    &r->x[x]) :
		    alg_exchange(x, d->r_sent, d->r_sent_len, d->a_recv,
		    d->a_recv_len, d->have_reflector, &o->server_public,
		    &r->x[x]);
		if (r->x[x].cls == ALG_MISSING)
			any_missing = 1;
		else if (r->x[x].cls > r->cls)
			r->cls = r->x[x].cls;
	}
	/* A dialogue cut short says nothing about an ALG by itself. */
	if (r->cls == ALG_UNTOUCHED && any_missing)
		r->cls = ALG_MISSING;
}

static int
alg_rewritten(enum alg_class c)
{
	return c >= ALG_REWRITTEN_PORT;
}

/*
 * The A/B: the same bytes on a port no FTP ALG looks at.  Only a
 * comparison of two complete dialogues concludes anything: "untouched"
 * on the other port proves that whatever rewrote the control port's
 * dialogue is keyed on that port.
 */
static enum alg_ab
alg_ab(const struct alg_obs *o, const struct alg_result *r)
{
	enum alg_class c = r->d[ALG_D_CONTROL].cls, x = r->d[ALG_D_OTHER].cls;

	if (!o->d[ALG_D_OTHER].tested)
		return ALG_AB_NOT_TESTED;
	if (alg_rewritten(c) && alg_rewritten(x))
		return ALG_AB_GENERIC;
	if (alg_rewritten(c) && x == ALG_UNTOUCHED)
		return ALG_AB_FTP_ALG;
	if (c == ALG_UNTOUCHED && x == ALG_UNTOUCHED)
		return ALG_AB_NONE;
	if (c == ALG_UNTOUCHED && alg_rewritten(x))
		return ALG_AB_OTHER_ONLY;
	return ALG_AB_INCONCLUSIVE;
}

void
alg_classify(const struct alg_obs *o, struct alg_result *r)
{
	enum alg_dlg_id i;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < ALG_ND; i++)
		r->d[i].cls = ALG_UNTOUCHED;
	if (!o->d[ALG_D_CONTROL].tested)
		return;
	for (i = 0; i < ALG_ND; i++)
		if (o->d[i].tested)
			alg_classify_dlg(&o->d[i], o, &r->d[i]);
	r->ab = alg_ab(o, r);
	r->rewrite = alg_rewritten(r->d[ALG_D_CONTROL].cls) ||
	    (o->d[ALG_D_OTHER].tested && alg_rewritten(r->d[ALG_D_OTHER].cls));
	r->rewrite_fails = r->d[ALG_D_CONTROL].cls >= ALG_REWRITTEN_WRONG ||
	    (o->d[ALG_D_OTHER].tested &&
	    r->d[ALG_D_OTHER].cls >= ALG_REWRITTEN_WRONG);
}

const char *
alg_ab_name(enum alg_ab ab)
{
	switch (ab) {
	case ALG_AB_NOT_TESTED:		return "not-tested";
	case ALG_AB_NONE:		return "none";
	case ALG_AB_FTP_ALG:		return "ftp-alg";
	case ALG_AB_GENERIC:		return "generic";
	case ALG_AB_OTHER_ONLY:		return "other-port-only";
	case ALG_AB_INCONCLUSIVE:	return "inconclusive";
	}
	return "inconclusive";
}

/* Append to buf at *off (bounded; a full buffer stays terminated). */
static void LOG_FMT(4, 5)
alg_cat(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*off >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n > 0)
		*off += (size_t)n < len - *off ? (size_t)n : len - *off - 1;
}

/* "[; ]on tcp/P[ (not an FTP control port)]: X sent '...', received
 * '...' (class); ..." for every rewritten exchange of one dialogue. */
static void
alg_cat_rewrites(const struct alg_dres *d, uint16_t port, int other,
    char *buf, size_t len, size_t *off)
{
	enum alg_xchg x;
	int first = 1;

	if (!alg_rewritten(d->cls))
		return;
	alg_cat(buf, len, off, "%son tcp/%u%s: ", *off ? "; " : "",
	    (unsigned)port, other ? " (not an FTP control port)" : "");
	for (x = 0; x < ALG_NX; x++) {
		const struct alg_x *e = &d->x[x];

		if (!alg_rewritten(e->cls))
			continue;
		alg_cat(buf, len, off, "%s%s sent '%s', received '%s' (%s)",
		    first ? "" : ", ", alg_xchg_name(x), e->sent, e->received,
		    alg_class_name(e->cls));
		first = 0;
	}
}

void
alg_rewrite_evidence(const struct alg_obs *o, const struct alg_result *r,
    char *buf, size_t len)
{
	unsigned cp = o->d[ALG_D_CONTROL].port, xp = o->d[ALG_D_OTHER].port;
	size_t off = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	alg_cat_rewrites(&r->d[ALG_D_CONTROL], (uint16_t)cp, 0, buf, len,
	    &off);
	if (o->d[ALG_D_OTHER].tested)
		alg_cat_rewrites(&r->d[ALG_D_OTHER], (uint16_t)xp, 1, buf, len,
		    &off);
	switch (r->ab) {
	case ALG_AB_FTP_ALG:
		alg_cat(buf, len, &off, "; the same dialogue on tcp/%u (not "
		    "an FTP control port) arrived untouched: an FTP ALG keyed "
		    "on the control port %u rewrote it", xp, cp);
		break;
	case ALG_AB_GENERIC:
		alg_cat(buf, len, &off, "; both ports rewritten: a generic "
		    "payload rewriter (a proxy or NAT rewriting every port), "
		    "not an FTP ALG keyed on the control port");
		break;
	case ALG_AB_OTHER_ONLY:
		alg_cat(buf, len, &off, "; the dialogue on the control port "
		    "%u arrived untouched: a payload rewriter on port %u, not "
		    "an FTP ALG on the control port", cp, xp);
		break;
	case ALG_AB_INCONCLUSIVE:
		alg_cat(buf, len, &off, "; the dialogue on tcp/%u was cut "
		    "short: whether only an FTP ALG rewrites is not known",
		    alg_rewritten(r->d[ALG_D_CONTROL].cls) ? xp : cp);
		break;
	case ALG_AB_NOT_TESTED:
		alg_cat(buf, len, &off, "; not compared with another port "
		    "(%s)", o->d[ALG_D_OTHER].reason[0] ?
		    o->d[ALG_D_OTHER].reason : "not run");
		break;
	case ALG_AB_NONE:
		break;
	}
}

/* ---- JSON ---- */

static json_t *
alg_jexchanges(const struct alg_dres *r)
{
	json_t *a = json_array(), *e;
	enum alg_xchg x;

	if (a == NULL)
		return NULL;
	for (x = 0; x < ALG_NX; x++) {
		const struct alg_x *ex = &r->x[x];

		e = json_pack("{s:s, s:s, s:o, s:o, s:s}",
		    "name", alg_xchg_name(x),
		    "direction", x <= ALG_X_EPRT ? "client-to-server" :
		    "server-to-client",
		    "sent", jsonstr_or_null(ex->sent),
		    "received", jsonstr_or_null(ex->received),
		    "class", alg_class_name(ex->cls));
		if (e == NULL || json_array_append_new(a, e) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *
alg_jactive(const struct alg_obs *o)
{
	if (!o->active_tested)
		return json_pack("{s:b, s:s}", "tested", 0, "reason",
		    o->active_skip);
	return json_pack("{s:b, s:b, s:o, s:o, s:o, s:i, s:i}",
	    "tested", 1, "ok", o->active_ok,
	    "target", jsonstr_or_null(o->active_target),
	    "refused", jsonstr_or_null(o->active_refused),
	    "error", jsonstr_or_null(o->active_error),
	    "ms", (json_int_t)o->active_ms,
	    "listen_port", (json_int_t)o->listen_port);
}

/* One dialogue's keys (port, class, exchanges, reflector_state,
 * dialogue_error, transcript) into obj; consumes obj on failure. */
static json_t *
alg_jdialogue(json_t *obj, const struct alg_dlg *d, const struct alg_dres *r)
{
	json_t *t;

	if (obj == NULL)
		return NULL;
	t = json_pack("{s:o, s:o, s:o, s:o}",
	    "agent_sent", ftpcmd_escape_json(d->a_sent, d->a_sent_len),
	    "reflector_received", d->have_reflector ?
	    ftpcmd_escape_json(d->r_recv, d->r_recv_len) : json_null(),
	    "reflector_sent", d->have_reflector ?
	    ftpcmd_escape_json(d->r_sent, d->r_sent_len) : json_null(),
	    "agent_received", ftpcmd_escape_json(d->a_recv, d->a_recv_len));
	if (json_object_set_new(obj, "port", json_integer(d->port)) != 0 ||
	    json_object_set_new(obj, "class",
	    json_string(alg_class_name(r->cls))) != 0 ||
	    json_object_set_new(obj, "exchanges", alg_jexchanges(r)) != 0 ||
	    json_object_set_new(obj, "reflector_state", d->have_reflector ?
	    json_string(d->r_state) : json_null()) != 0 ||
	    json_object_set_new(obj, "dialogue_error",
	    jsonstr_or_null(d->dialogue_error)) != 0 ||
	    json_object_set_new(obj, "transcript", t) != 0) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

/* "ab": the dialogue on the other port and what the comparison says. */
static json_t *
alg_jab(const struct alg_obs *o, const struct alg_result *r)
{
	const struct alg_dlg *d = &o->d[ALG_D_OTHER];

	if (!d->tested)
		return json_pack("{s:b, s:o, s:s, s:s}", "tested", 0,
		    "port", d->port ? json_integer(d->port) : json_null(),
		    "reason", d->reason, "rewriter", alg_ab_name(r->ab));
	return alg_jdialogue(json_pack("{s:b, s:s}", "tested", 1, "rewriter",
	    alg_ab_name(r->ab)), d, &r->d[ALG_D_OTHER]);
}

json_t *
alg_json(const struct alg_obs *o, const struct alg_result *r)
{
	const struct alg_dlg *d = &o->d[ALG_D_CONTROL];
	json_t *j;

	if (!d->tested)
		return json_pack("{s:b, s:s}", "tested", 0, "reason",
		    d->reason);
	j = alg_jdialogue(json_pack("{s:b}", "tested", 1), d,
	    &r->d[ALG_D_CONTROL]);
	if (j == NULL ||
	    json_object_set_new(j, "active", alg_jactive(o)) != 0 ||
	    json_object_set_new(j, "ab", alg_jab(o, r)) != 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* ---- human section (from the observation and its classes) ---- */

static void
alg_print_active(const struct alg_obs *o, FILE *out)
{
	if (!o->active_tested) {
		fprintf(out, "  connect-back to the PORT address: not tested "
		    "(%s)\n", o->active_skip);
		return;
	}
	if (o->active_refused[0] != '\0')
		fprintf(out, "  connect-back to the PORT address: refused: "
		    "%s\n", o->active_refused);
	else if (o->active_ok)
		fprintf(out, "  connect-back to the PORT address %s as "
		    "received: reached the agent in %u ms\n", o->active_target,
		    o->active_ms);
	else
		fprintf(out, "  connect-back to the PORT address %s as "
		    "received: failed (%s)\n", o->active_target,
		    o->active_error[0] ? o->active_error : "unknown");
}

static void
alg_print_exchanges(const struct alg_dlg *d, const struct alg_dres *r,
    FILE *out)
{
	enum alg_xchg x;

	for (x = 0; x < ALG_NX; x++) {
		const struct alg_x *ex = &r->x[x];

		if (ex->cls == ALG_NOT_SENT)
			continue;
		fprintf(out, "  %-5s sent      %s\n", alg_xchg_name(x),
		    ex->sent);
		fprintf(out, "        received  %s  [%s]\n", ex->received,
		    alg_class_name(ex->cls));
	}
	if (d->dialogue_error[0] != '\0')
		fprintf(out, "  dialogue: %s\n", d->dialogue_error);
}

/* What the A/B means, in words. */
static const char *
alg_ab_text(enum alg_ab ab)
{
	switch (ab) {
	case ALG_AB_NONE:
		return "neither dialogue rewritten";
	case ALG_AB_FTP_ALG:
		return "only the control port's dialogue rewritten: an FTP "
		    "ALG keyed on the control port";
	case ALG_AB_GENERIC:
		return "both rewritten: a generic payload rewriter, not an "
		    "FTP ALG keyed on the control port";
	case ALG_AB_OTHER_ONLY:
		return "only the other port's dialogue rewritten";
	case ALG_AB_INCONCLUSIVE:
		return "a dialogue was cut short: no conclusion";
	case ALG_AB_NOT_TESTED:
		break;
	}
	return alg_ab_name(ab);
}

static void
alg_print_ab(const struct alg_obs *o, const struct alg_result *r, FILE *out)
{
	const struct alg_dlg *d = &o->d[ALG_D_OTHER];

	if (!d->tested) {
		fprintf(out, "  same dialogue on another port: not tested "
		    "(%s)\n", d->reason);
		return;
	}
	fprintf(out, "  same dialogue on tcp/%u (not an FTP control port): "
	    "%s\n", d->port, alg_class_name(r->d[ALG_D_OTHER].cls));
	if (r->d[ALG_D_OTHER].cls != ALG_UNTOUCHED)
		alg_print_exchanges(d, &r->d[ALG_D_OTHER], out);
	fprintf(out, "  A/B: %s\n", alg_ab_text(r->ab));
}

void
alg_print(const struct alg_obs *o, const struct alg_result *r, FILE *out,
    int color)
{
	const struct alg_dlg *d = &o->d[ALG_D_CONTROL];
	enum alg_class cls = r->d[ALG_D_CONTROL].cls;

	if (!d->tested)
		return;
	fprintf(out, "\nFTP ALG: dialogue on tcp/%u: %s%s%s\n", d->port,
	    color ? "\033[1m" : "", alg_class_name(cls),
	    color ? "\033[0m" : "");
	/* Untouched bytes side by side say nothing the class does not;
	 * the JSON keeps them. */
	if (cls == ALG_UNTOUCHED)
		fprintf(out, "  every command and reply arrived exactly as "
		    "sent\n");
	else
		alg_print_exchanges(d, &r->d[ALG_D_CONTROL], out);
	alg_print_active(o, out);
	alg_print_ab(o, r, out);
}
