/*
 * alg.c - classify the ALG dialogue and render it (see alg.h).
 */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "alg.h"
#include "ftpcheck.h"
#include "ftpcmd.h"
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

void
alg_classify(const struct alg_obs *o, struct alg_result *r)
{
	enum alg_xchg x;
	int any_missing = 0;

	memset(r, 0, sizeof(*r));
	r->cls = ALG_UNTOUCHED;
	if (!o->tested)
		return;
	for (x = 0; x < ALG_NX; x++) {
		int up = x == ALG_X_PORT || x == ALG_X_EPRT;

		r->x[x].cls = up ?
		    alg_exchange(x, o->a_sent, o->a_sent_len, o->r_recv,
		    o->r_recv_len, o->have_reflector, &o->client_public,
		    &r->x[x]) :
		    alg_exchange(x, o->r_sent, o->r_sent_len, o->a_recv,
		    o->a_recv_len, o->have_reflector, &o->server_public,
		    &r->x[x]);
		if (r->x[x].cls == ALG_MISSING)
			any_missing = 1;
		else if (r->x[x].cls > r->cls)
			r->cls = r->x[x].cls;
	}
	/* A dialogue cut short says nothing about an ALG by itself. */
	if (r->cls == ALG_UNTOUCHED && any_missing)
		r->cls = ALG_MISSING;
	r->rewrite = r->cls >= ALG_REWRITTEN_PORT;
	r->rewrite_fails = r->cls >= ALG_REWRITTEN_WRONG;
}

void
alg_rewrite_evidence(const struct alg_result *r, char *buf, size_t len)
{
	size_t off = 0;
	enum alg_xchg x;
	int n;

	buf[0] = '\0';
	for (x = 0; x < ALG_NX && off < len; x++) {
		const struct alg_x *e = &r->x[x];

		if (e->cls < ALG_REWRITTEN_PORT)
			continue;
		n = snprintf(buf + off, len - off, "%s%s sent '%s', received "
		    "'%s' (%s)", off ? "; " : "", alg_xchg_name(x), e->sent,
		    e->received, alg_class_name(e->cls));
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

int
alg_active(const struct alg_obs *o, struct verdict *v)
{
	char plain[VERDICT_EVIDENCE_LEN];
	unsigned i, pick = 0;

	if (v->pass || !o->tested || !o->active_tested || !o->active_ok)
		return 0;
	/* What the path did to the plain connect-back says most. */
	for (i = v->n_evidence; i-- > 0;)
		if (v->stage[i] == VERDICT_STAGE_PATH)
			pick = i;
	snprintf(plain, sizeof(plain), "%s", v->n_evidence > 0 ?
	    v->evidence[pick] : "the connect-back failed");
	memset(v, 0, sizeof(*v));
	v->pass = 1;
	v->cause = CAUSE_ALG_DEPENDENT;
	snprintf(v->evidence[0], VERDICT_EVIDENCE_LEN, "only through the "
	    "FTP ALG: the connect-back to the PORT address as the reflector "
	    "received it (%s) reached the agent's listener (port %u) in %u "
	    "ms", o->active_target, o->listen_port, o->active_ms);
	v->stage[0] = VERDICT_STAGE_PATH;
	snprintf(v->evidence[1], VERDICT_EVIDENCE_LEN, "without the ALG "
	    "(port announced only over TLS): %.*s", 180, plain);
	v->stage[1] = VERDICT_STAGE_PATH;
	snprintf(v->evidence[2], VERDICT_EVIDENCE_LEN, "warning: the ALG "
	    "opens the pinhole only when it can read PORT/EPRT; with FTPS "
	    "(encrypted control) active mode will fail");
	v->stage[2] = VERDICT_STAGE_PATH;
	v->n_evidence = 3;
	return 1;
}

/* ---- JSON ---- */

static json_t *
alg_jexchanges(const struct alg_result *r)
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

json_t *
alg_json(const struct alg_obs *o, const struct alg_result *r)
{
	if (!o->tested)
		return json_pack("{s:b, s:s}", "tested", 0, "reason",
		    o->reason);
	return json_pack("{s:b, s:i, s:s, s:o, s:o, s:o, s:{s:o, s:o, s:o, "
	    "s:o}, s:o}",
	    "tested", 1, "port", (json_int_t)o->port,
	    "class", alg_class_name(r->cls),
	    "exchanges", alg_jexchanges(r),
	    "reflector_state", o->have_reflector ? json_string(o->r_state) :
	    json_null(),
	    "dialogue_error", jsonstr_or_null(o->dialogue_error),
	    "transcript",
	    "agent_sent", ftpcmd_escape_json(o->a_sent, o->a_sent_len),
	    "reflector_received", o->have_reflector ?
	    ftpcmd_escape_json(o->r_recv, o->r_recv_len) : json_null(),
	    "reflector_sent", o->have_reflector ?
	    ftpcmd_escape_json(o->r_sent, o->r_sent_len) : json_null(),
	    "agent_received", ftpcmd_escape_json(o->a_recv, o->a_recv_len),
	    "active", alg_jactive(o));
}

/* ---- human section ---- */

static const char *
alg_jget(const json_t *o, const char *key)
{
	return jsonstr_get(o, key, "-");
}

static void
alg_print_active(const json_t *act, FILE *out)
{
	if (!json_is_true(json_object_get(act, "tested"))) {
		fprintf(out, "  connect-back to the PORT address: not tested "
		    "(%s)\n", alg_jget(act, "reason"));
		return;
	}
	if (json_is_string(json_object_get(act, "refused")))
		fprintf(out, "  connect-back to the PORT address: refused: "
		    "%s\n", alg_jget(act, "refused"));
	else if (json_is_true(json_object_get(act, "ok")))
		fprintf(out, "  connect-back to the PORT address %s as "
		    "received: reached the agent in %lld ms\n",
		    alg_jget(act, "target"),
		    json_integer_value(json_object_get(act, "ms")));
	else
		fprintf(out, "  connect-back to the PORT address %s as "
		    "received: failed (%s)\n", alg_jget(act, "target"),
		    alg_jget(act, "error"));
}

void
alg_print(const json_t *alg, FILE *out, int color)
{
	const json_t *e;
	const char *cls;
	size_t i;

	if (!json_is_true(json_object_get(alg, "tested")))
		return;
	cls = alg_jget(alg, "class");
	fprintf(out, "\nFTP ALG: dialogue on tcp/%lld: %s%s%s\n",
	    json_integer_value(json_object_get(alg, "port")),
	    color ? "\033[1m" : "", cls, color ? "\033[0m" : "");
	json_array_foreach(json_object_get(alg, "exchanges"), i, e) {
		const char *c = alg_jget(e, "class");

		if (strcmp(c, "not-sent") == 0)
			continue;
		fprintf(out, "  %-5s sent      %s\n", alg_jget(e, "name"),
		    alg_jget(e, "sent"));
		fprintf(out, "        received  %s  [%s]\n",
		    alg_jget(e, "received"), c);
	}
	if (json_is_string(json_object_get(alg, "dialogue_error")))
		fprintf(out, "  dialogue: %s\n", alg_jget(alg,
		    "dialogue_error"));
	alg_print_active(json_object_get(alg, "active"), out);
}
