/*
 * fixes.c - the checked patches of a check (fixes.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "err.h"
#include "fixes.h"
#include "jsonstr.h"
#include "log.h"
#include "patch.h"

struct fixes {
	struct evidence_fix f[FIXES_MAX];
	/* f[i] for a server that offers AUTH TLS (if_auth_tls), until
	 * fixes_settle_tls(); has_alt[i] says there is one. */
	struct evidence_fix alt[FIXES_MAX];
	int has_alt[FIXES_MAX];
	size_t n;
};

/* One fix as it comes: borrowed strings, NULL text for none. */
struct fix_in {
	const char *text;
	int verified;
	const char *err;
	const char *style;	/* NULL: no choice (control, answers) */
	const char *reason;
};

struct fixes *
fixes_new(void)
{
	return calloc(1, sizeof(struct fixes));
}

static void
fix_clear(struct evidence_fix *f)
{
	free((char *)f->text);
	free((char *)f->verify_error);
	free((char *)f->style);
	free((char *)f->style_reason);
	memset(f, 0, sizeof(*f));
}

void
fixes_free(struct fixes *fx)
{
	size_t i;

	if (fx == NULL)
		return;
	for (i = 0; i < fx->n; i++) {
		fix_clear(&fx->f[i]);
		fix_clear(&fx->alt[i]);
	}
	free(fx);
}

const struct evidence_fix *
fixes_list(const struct fixes *fx, size_t *n)
{
	*n = fx != NULL ? fx->n : 0;
	return fx != NULL ? fx->f : NULL;
}

/* Fill f from in (strings copied). */
static int
fix_set(struct evidence_fix *f, int server, enum probe_kind kind,
    uint16_t lo, uint16_t hi, const struct fix_in *in)
{
	memset(f, 0, sizeof(*f));
	f->server = server;
	f->kind = kind;
	f->lo = lo;
	f->hi = hi;
	f->verified = in->verified && in->text != NULL;
	if ((in->text != NULL && (f->text = strdup(in->text)) == NULL) ||
	    (f->verify_error = strdup(in->err != NULL ? in->err : "")) ==
	    NULL || (f->style = strdup(in->style != NULL ? in->style : "")) ==
	    NULL || (f->style_reason = strdup(in->style != NULL &&
	    in->reason != NULL ? in->reason : "")) == NULL) {
		fix_clear(f);
		return FTP_ERR_NOMEM;
	}
	return 0;
}

/* Keep one, with its variant for AUTH TLS (alt may be NULL). */
static int
fixes_add(struct fixes *fx, int server, enum probe_kind kind, uint16_t lo,
    uint16_t hi, const struct fix_in *in, const struct fix_in *alt)
{
	size_t i = fx->n;

	if (i >= FIXES_MAX)
		return 0;	/* more runs than that: the first ones speak */
	if (fix_set(&fx->f[i], server, kind, lo, hi, in) != 0)
		return FTP_ERR_NOMEM;
	if (alt != NULL && fix_set(&fx->alt[i], server, kind, lo, hi, alt)
	    != 0) {
		fix_clear(&fx->f[i]);
		return FTP_ERR_NOMEM;
	}
	fx->has_alt[i] = alt != NULL;
	fx->n++;
	return 0;
}

static void
fix_in_json(const json_t *fix, struct fix_in *in)
{
	in->text = json_string_value(json_object_get(fix, "text"));
	in->verified = json_is_true(json_object_get(fix, "verified"));
	in->err = jsonstr_get(fix, "verify_error", "");
	in->style = json_string_value(json_object_get(fix, "style"));
	in->reason = jsonstr_get(fix, "style_reason", "");
}

int
fixes_take_server(struct fixes *fx, const json_t *fix, enum probe_kind kind,
    uint16_t lo, uint16_t hi)
{
	const json_t *tls;
	struct fix_in in, alt;

	if (!json_is_object(fix))
		return 0;
	fix_in_json(fix, &in);
	tls = json_object_get(fix, "if_auth_tls");
	if (json_is_object(tls))
		fix_in_json(tls, &alt);
	return fixes_add(fx, 1, kind, lo, hi, &in, json_is_object(tls) ?
	    &alt : NULL);
}

void
fixes_settle_tls(struct fixes *fx, int tls_offered)
{
	struct evidence_fix t;
	size_t i;

	for (i = 0; fx != NULL && i < fx->n; i++) {
		if (!fx->has_alt[i])
			continue;
		if (tls_offered) {
			t = fx->f[i];
			fx->f[i] = fx->alt[i];
			fx->alt[i] = t;
		}
		fix_clear(&fx->alt[i]);
		fx->has_alt[i] = 0;
	}
}

/* The same rule dropped both on the agent host. */
static int
same_crule(const struct probe_obs *a, const struct probe_obs *b)
{
	return a->crule && b->crule &&
	    a->crule->has_handle == b->crule->has_handle &&
	    a->crule->handle == b->crule->handle &&
	    a->crule->outbound == b->crule->outbound &&
	    strcmp(a->crule->family, b->crule->family) == 0 &&
	    strcmp(a->crule->table, b->crule->table) == 0 &&
	    strcmp(a->crule->chain, b->crule->chain) == 0;
}

static void
client_hole(const struct probe_obs *o, const struct session_facts *f,
    uint16_t control_port, const struct portrange *pr, struct patch_hole *h)
{
	memset(h, 0, sizeof(*h));
	h->host = PATCH_HOST_CLIENT;
	h->family = o->crule->family;
	h->table = o->crule->table;
	h->chain = o->crule->chain;
	h->has_handle = o->crule->has_handle;
	h->handle = o->crule->handle;
	h->verdict = strcmp(o->crule->verdict, "reject") == 0 ?
	    PATCH_VERDICT_REJECT : PATCH_VERDICT_DROP;
	/* The trace tells the direction: our SYN leaving, or an answer or
	 * the connect-back arriving. */
	h->hook = o->crule->outbound ? "output" : "input";
	h->path = o->kind == PROBE_CONTROL ? PATCH_PATH_CONTROL :
	    o->kind == PROBE_PASSIVE ? PATCH_PATH_PASSIVE : PATCH_PATH_ACTIVE;
	memcpy(&h->peer, &f->server, addr_len((const struct sockaddr *)
	    &f->server));
	/* Active: real transfers listen on other ports than the probe's,
	 * so the connect-back from the data port is let in to any port. */
	h->ports = o->kind == PROBE_ACTIVE ? NULL : pr;
	h->nports = o->kind == PROBE_ACTIVE ? 0 : 1;
	h->control_port = control_port;
	h->data_port = o->kind == PROBE_ACTIVE ? o->port : 20;
	h->stateful = o->crule->related;
	h->cause = "client-local-rule";
}

static int
client_fix(struct fixes *fx, const struct probe_obs *o,
    const struct session_facts *f, uint16_t control_port, uint16_t lo,
    uint16_t hi, enum patch_style style, int tls_offered)
{
	struct portrange pr = { lo, hi };
	struct patch_hole h;
	struct fix_in in;
	char *text = NULL, err[512] = "";
	int r, verified = 0;

	client_hole(o, f, control_port, &pr, &h);
	h.style = style;
	h.tls_offered = tls_offered;
	if ((r = patch_write(&h, 1, PATCH_HOST_CLIENT, &text)) != 0)
		snprintf(err, sizeof(err), "no patch for this rule: %s",
		    ftp_strerror(r));
	else if ((r = patch_verify(text, err, sizeof(err))) == 0)
		verified = 1;
	else if (err[0] == '\0')
		snprintf(err, sizeof(err), "%s", ftp_strerror(r));
	log_debug("client fix for %u-%u: %s", lo, hi, verified ? "verified" :
	    err);
	/* A patch this host's kernel rejects is never shown. */
	in.text = verified ? text : NULL;
	in.verified = verified;
	in.err = verified ? "" : err;
	in.style = patch_style_applies(&h) ? patch_style_name(
	    patch_style_effective(&h)) : NULL;
	in.reason = patch_style_reason(&h);
	r = fixes_add(fx, 0, o->kind, lo, hi, &in, NULL);
	free(text);
	return r;
}

int
fixes_derive_client(struct fixes *fx, const struct probe_obs *probes,
    size_t n, const struct probe_obs *active, const struct session_facts *f,
    uint16_t control_port, enum patch_style style, int tls_offered)
{
	size_t i, j;
	int r;

	for (i = 0; i < n; i = j) {
		const struct probe_obs *o = &probes[i];

		/* a run: the same kind, consecutive ports, the same rule */
		for (j = i + 1; j < n && probes[j].kind == o->kind &&
		    probes[j].port == probes[j - 1].port + 1 &&
		    same_crule(o, &probes[j]); j++)
			;
		if (o->crule && o->outcome != OUTCOME_ACKED &&
		    (r = client_fix(fx, o, f, control_port, o->port,
		    probes[j - 1].port, style, tls_offered)) != 0)
			return r;
	}
	if (active != NULL && active->crule &&
	    active->outcome != OUTCOME_ACKED)
		return client_fix(fx, active, f, control_port, 0, 0, style,
		    tls_offered);
	return 0;
}
