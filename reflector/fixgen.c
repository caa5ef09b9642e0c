/*
 * fixgen.c - the server-side fix from the reflector's own trace
 * (fixgen.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "err.h"
#include "fixgen.h"

#define FIXGEN_SCOPE_MAX	(ADDR_STRLEN + 4)

static int
fixgen_style_parse(const json_t *v, enum patch_style *out)
{
	const char *s;

	if (v == NULL || json_is_null(v)) {
		*out = PATCH_STYLE_AUTO;
		return 0;
	}
	if ((s = json_string_value(v)) == NULL)
		return FTP_ERR_INVAL;
	if (strcmp(s, "auto") == 0)
		*out = PATCH_STYLE_AUTO;
	else if (strcmp(s, "helper") == 0)
		*out = PATCH_STYLE_HELPER;
	else if (strcmp(s, "ports") == 0)
		*out = PATCH_STYLE_PORTS;
	else
		return FTP_ERR_INVAL;
	return 0;
}

int
fixgen_req_parse(const json_t *fix, const struct sockaddr *observed,
    struct fixgen_req *out, char *why, size_t whylen)
{
	struct fixgen_req rq;
	const json_t *scope;
	char a[ADDR_STRLEN];

	memset(&rq, 0, sizeof(rq));
	if (fix != NULL && !json_is_null(fix) && !json_is_object(fix)) {
		ftp_errmsg(why, whylen, "fix must be an object or null");
		return FTP_ERR_INVAL;
	}
	if (fix != NULL && json_is_object(fix)) {
		if (fixgen_style_parse(json_object_get(fix, "style"),
		    &rq.style) != 0) {
			ftp_errmsg(why, whylen, "fix.style must be \"auto\", "
			    "\"helper\", \"ports\" or null");
			return FTP_ERR_INVAL;
		}
		scope = json_object_get(fix, "scope");
		if (scope != NULL && !json_is_null(scope)) {
			if (!json_is_string(scope) || json_string_length(scope)
			    >= FIXGEN_SCOPE_MAX || addr_cidr_parse(
			    json_string_value(scope), &rq.net, &rq.prefix)
			    != 0) {
				ftp_errmsg(why, whylen, "fix.scope must be a "
				    "network ADDR/LEN or null");
				return FTP_ERR_INVAL;
			}
			/* Wider than the agent, never elsewhere: a scope
			 * without the agent's address would open the host
			 * for a network this session never tested. */
			if (!addr_cidr_contains((struct sockaddr *)&rq.net,
			    rq.prefix, observed)) {
				ftp_errmsg(why, whylen, "fix.scope %s does not "
				    "contain %s, the agent's address as the "
				    "reflector sees it",
				    json_string_value(scope), addr_text(
				    observed, 0, a, sizeof(a)));
				return FTP_ERR_INVAL;
			}
			rq.has_scope = 1;
		}
	}
	*out = rq;
	return 0;
}

/* A hole of the server host, as the trace saw the rule. */
static void
fixgen_hole(const struct fixgen_rule *r, enum patch_path path,
    const struct portrange *pr, const struct sockaddr *peer,
    uint16_t control_port, uint16_t data_port, struct patch_hole *h)
{
	memset(h, 0, sizeof(*h));
	h->host = PATCH_HOST_SERVER;
	h->family = r->family;
	h->table = r->table;
	h->chain = r->chain;
	h->has_handle = r->has_handle;
	h->handle = r->handle;
	h->verdict = r->reject ? PATCH_VERDICT_REJECT : PATCH_VERDICT_DROP;
	/* The trace tells the direction, not the hook: inbound drops are
	 * judged as input, outbound as output (the connect-back's own
	 * direction, or the answers of a passive connection). */
	h->hook = r->outbound ? "output" : "input";
	h->path = path;
	memcpy(&h->peer, peer, addr_len(peer));
	h->ports = path == PATCH_PATH_ACTIVE ? NULL : pr;
	h->nports = path == PATCH_PATH_ACTIVE ? 0 : 1;
	h->control_port = control_port;
	h->data_port = data_port;
	h->stateful = r->related;
	h->cause = "server-local-rule";
}

/* One variant, written and checked: {text, verified, verify_error,
 * style, style_reason} (host, file and kind for the outer object). */
static json_t *
fixgen_one(const struct patch_hole *h, int outer)
{
	char *text = NULL, err[512] = "";
	int verified = 0, rc, data = patch_style_applies(h);
	json_t *o;

	if ((rc = patch_write(h, 1, PATCH_HOST_SERVER, &text)) != 0)
		snprintf(err, sizeof(err), "no patch for this rule: %s",
		    ftp_strerror(rc));
	else if ((rc = patch_verify(text, err, sizeof(err))) == 0)
		verified = 1;
	else if (err[0] == '\0')
		snprintf(err, sizeof(err), "%s", ftp_strerror(rc));
	/* A patch the kernel rejects is never shown as a fix. */
	o = json_pack("{s:o,s:b,s:o,s:o,s:o}",
	    "text", verified ? json_string(text) : json_null(),
	    "verified", verified,
	    "verify_error", verified ? json_null() : json_string(err),
	    "style", data ? json_string(patch_style_name(
	    patch_style_effective(h))) : json_null(),
	    "style_reason", data ? json_string(patch_style_reason(h)) :
	    json_null());
	free(text);
	if (o != NULL && outer && (json_object_set_new(o, "host",
	    json_string("server")) != 0 || json_object_set_new(o, "file",
	    json_string("server.nft")) != 0 || json_object_set_new(o, "kind",
	    json_string("nftables")) != 0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *
fixgen_json(const struct fixgen_rule *r, enum patch_path path,
    uint16_t lo, uint16_t hi, const struct sockaddr *peer,
    uint16_t control_port, uint16_t data_port,
    const struct fixgen_req *req)
{
	struct portrange pr = { lo, hi };
	struct patch_hole h;
	json_t *o, *alt;

	fixgen_hole(r, path, &pr, peer, control_port, data_port, &h);
	if (req != NULL) {
		h.style = req->style;
		if (req->has_scope) {
			h.peer = req->net;
			h.prefix = req->prefix;
		}
	}
	if ((o = fixgen_one(&h, 1)) == NULL)
		return NULL;
	/* Only the agent's FTP client learns whether the server offers
	 * AUTH TLS, after this: write both, the agent keeps one. */
	if (!patch_style_applies(&h) || h.style != PATCH_STYLE_AUTO ||
	    !h.stateful)
		return o;
	h.tls_offered = 1;
	if ((alt = fixgen_one(&h, 0)) == NULL ||
	    json_object_set_new(o, "if_auth_tls", alt) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}
