/*
 * report_json.c - the versioned JSON report (DESIGN.md), rendered from
 * the report model (report_int.h).
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "alg.h"
#include "err.h"
#include "report.h"
#include "report_int.h"
#include "service.h"
#include "sg.h"
#include "traceroute.h"

/* ---- JSON ---- */

/* A JSON string; text that is not UTF-8 is kept as ASCII with '?'. */
static json_t *
jtext(const char *s)
{
	json_t *j;
	char *copy;
	size_t i;

	if (s == NULL)
		return json_null();
	if ((j = json_string(s)) != NULL)
		return j;
	if ((copy = strdup(s)) == NULL)
		return NULL;
	for (i = 0; copy[i] != '\0'; i++)
		if ((unsigned char)copy[i] >= 0x80 ||
		    (unsigned char)copy[i] < 0x20)
			copy[i] = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

static json_t *
jaddr(const struct sockaddr *sa)
{
	char buf[ADDR_STRLEN];

	if (!addr_is_inet(sa))
		return json_null();
	return json_string(addr_text(sa, 0, buf, sizeof(buf)));
}

/* json_object_set_new that reports failure (v NULL or no memory). */
static int
jset(json_t *o, const char *key, json_t *v)
{
	if (v == NULL)
		return -1;
	return json_object_set_new(o, key, v) == 0 ? 0 : -1;
}

static int
jappend(json_t *a, json_t *v)
{
	if (v == NULL)
		return -1;
	return json_array_append_new(a, v) == 0 ? 0 : -1;
}

static json_t *
json_side(const char *version, const char *k1,
    const struct sockaddr_storage *a1, const char *k2,
    const struct sockaddr_storage *a2)
{
	json_t *o = json_object();

	if (o == NULL || jset(o, "version", jtext(version)) != 0 ||
	    jset(o, k1, jaddr(ADDR_SA(a1))) != 0 ||
	    jset(o, k2, jaddr(ADDR_SA(a2))) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *
json_nat_client(const struct session_facts *f)
{
	const struct sockaddr *l = (const struct sockaddr *)&f->agent_local;
	const struct sockaddr *s = (const struct sockaddr *)&f->agent_observed;
	json_t *o = json_object();

	if (o == NULL ||
	    jset(o, "detected", json_boolean(verdict_client_nat(f))) != 0 ||
	    jset(o, "agent", jaddr(ADDR_SA(&f->agent_local))) != 0 ||
	    jset(o, "observed", jaddr(ADDR_SA(&f->agent_observed))) != 0)
		goto fail;
	/* Only stated when both ports of the control connection are known. */
	if (addr_is_inet(ADDR_SA(&f->agent_local)) &&
	    addr_is_inet(ADDR_SA(&f->agent_observed)) &&
	    addr_port(l) != 0 && addr_port(s) != 0 &&
	    jset(o, "port_preserved",
	    json_boolean(addr_port(l) == addr_port(s))) != 0)
		goto fail;
	return o;
fail:
	json_decref(o);
	return NULL;
}

/* nat.server's extra keys (report_set_server_nat); "detected" is true
 * when either the control channel or the extras say so. */
static int
json_nat_server_extra(json_t *srv, const json_t *extra)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)extra, k, v) {
		if (strcmp(k, "detected") == 0 && !json_is_true(v))
			continue;
		if (json_object_set(srv, k, v) != 0)
			return -1;
	}
	return 0;
}

static json_t *
json_nat(const struct report *r)
{
	const struct session_facts *f = &r->f;
	json_t *o = json_object(), *srv = json_object();

	if (o == NULL || srv == NULL ||
	    jset(srv, "detected", json_boolean(verdict_server_nat(f))) != 0 ||
	    jset(srv, "dialled", jaddr(ADDR_SA(&f->dialled))) != 0 ||
	    jset(srv, "reflector", jaddr(ADDR_SA(&f->reflector_local))) != 0 ||
	    (r->nat_server != NULL &&
	    json_nat_server_extra(srv, r->nat_server) != 0) ||
	    jset(o, "client", json_nat_client(f)) != 0 ||
	    jset(o, "server", srv) != 0) {
		json_decref(srv);
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *
json_evidence(const struct report_run *run)
{
	const struct verdict *v = &run->first->v;
	json_t *a = json_array();
	char pre[VERDICT_EVIDENCE_LEN];
	unsigned i;

	if (a == NULL)
		return NULL;
	if (run->count > 1 &&
	    jappend(a, jtext(report_run_preface(run, pre, sizeof(pre)))) != 0)
		goto fail;
	for (i = 0; i < v->n_evidence; i++)
		if (jappend(a, jtext(v->evidence[i])) != 0)
			goto fail;
	return a;
fail:
	json_decref(a);
	return NULL;
}

/* The rule an nftables trace named, or null: the agent host's for a
 * client-local-rule verdict, else the server host's. */
static json_t *
json_rule(const struct probe_obs *o, const struct verdict *v)
{
	const struct probe_rule *pr = v->cause == CAUSE_CLIENT_LOCAL_RULE ?
	    o->crule : o->rule;
	json_t *r;
	int e;

	if (pr == NULL)
		return json_null();
	if ((r = json_object()) == NULL)
		return NULL;
	e = jset(r, "family", jtext(pr->family));
	e |= jset(r, "table", jtext(pr->table));
	e |= jset(r, "chain", jtext(pr->chain));
	e |= jset(r, "handle", pr->has_handle ?
	    json_integer((json_int_t)pr->handle) : json_null());
	e |= jset(r, "verdict", jtext(pr->verdict[0] ? pr->verdict : "drop"));
	e |= jset(r, "text", pr->has_handle ? (pr->text[0] ?
	    jtext(pr->text) : json_null()) : json_string("policy drop"));
	if (e != 0) {
		json_decref(r);
		return NULL;
	}
	return r;
}

/* [{ttl, from, result}], one per TTL sent. */
static json_t *
json_traceroute(const struct traceroute_path *tr)
{
	json_t *a = json_array(), *h;
	unsigned i;

	if (a == NULL)
		return NULL;
	for (i = 0; i < tr->n; i++) {
		const struct traceroute_hop *hp = &tr->hop[i];

		h = json_pack("{s:i}", "ttl", (int)hp->ttl);
		if (h == NULL || jset(h, "from",
		    jaddr(ADDR_SA(&hp->from))) != 0 ||
		    jset(h, "result", json_string(traceroute_result_name(
		    hp->result))) != 0) {
			json_decref(h);
			json_decref(a);
			return NULL;
		}
		/* The array takes h, even when appending fails. */
		if (jappend(a, h) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *
json_probe(const struct report_run *run)
{
	const struct report_entry *e = run->first;
	const char *cause = cause_name(e->v.cause);
	json_t *o = json_object();
	char p[16];
	int r;

	if (o == NULL)
		return NULL;
	r = jset(o, "name", json_string(probe_kind_name(e->o.kind)));
	r |= jset(o, "direction", json_string(probe_direction_name(e->o.kind)));
	if (run->count > 1)
		r |= jset(o, "ports",
		    json_string(report_ports_text(run, p, sizeof(p))));
	else
		r |= jset(o, "port", json_integer(run->lo));
	r |= jset(o, "address", jaddr(ADDR_SA(&e->o.remote)));
	r |= jset(o, "verdict", json_string(e->v.pass ? "pass" : "fail"));
	r |= jset(o, "cause", cause ? json_string(cause) : json_null());
	r |= jset(o, "evidence", json_evidence(run));
	r |= jset(o, "hop", e->v.hop[0] ? jtext(e->v.hop) : json_null());
	r |= jset(o, "rule", json_rule(&e->o, &e->v));
	if (!e->v.pass)
		r |= jset(o, "traceroute", run->trace != NULL ?
		    json_traceroute(run->trace) : json_null());
	if (r != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static const char *
severity_name(enum report_severity sev)
{
	return sev == REPORT_WARNING ? "warning" : "failure";
}

/* The "causes" entry named name, or NULL. */
static json_t *
json_cause_find(json_t *causes, const char *name)
{
	json_t *c;
	size_t i;

	json_array_foreach(causes, i, c)
		if (strcmp(json_string_value(json_object_get(c, "cause")),
		    name) == 0)
			return c;
	return NULL;
}

/* The "causes" list holds each class once: the entry for c (added if
 * new), a failure if any of what it explains fails.  NULL on ENOMEM. */
static json_t *
json_cause_entry(json_t *causes, enum cause c, enum report_severity sev)
{
	const char *name = cause_name(c);
	json_t *e;

	if ((e = json_cause_find(causes, name)) != NULL) {
		if (sev == REPORT_FAILURE &&
		    jset(e, "severity", json_string(severity_name(sev))) != 0)
			return NULL;
		return e;
	}
	if ((e = json_object()) == NULL)
		return NULL;
	if (jset(e, "cause", json_string(name)) != 0 ||
	    jset(e, "severity", json_string(severity_name(sev))) != 0 ||
	    jset(e, "probes", json_array()) != 0 ||
	    jset(e, "fix", json_null()) != 0) {
		json_decref(e);
		return NULL;
	}
	return jappend(causes, e) == 0 ? e : NULL;
}

/* A run's cause: a failure, or a warning when the run passes with one
 * (alg-dependent); the run's probe object carries the evidence. */
static int
json_cause_add(json_t *causes, const struct report_run *run)
{
	const struct verdict *v = &run->first->v;
	char label[48];
	json_t *c;

	c = json_cause_entry(causes, v->cause, v->pass ? REPORT_WARNING :
	    REPORT_FAILURE);
	if (c == NULL)
		return -1;
	return jappend(json_object_get(c, "probes"),
	    json_string(report_run_label(run, label, sizeof(label))));
}

static int
json_runs(json_t *root, const struct report_view *vw)
{
	json_t *probes, *causes;
	size_t i;

	/* Owned by root once set; root's owner frees them on failure. */
	if (jset(root, "probes", (probes = json_array())) != 0 ||
	    jset(root, "causes", (causes = json_array())) != 0)
		return -1;
	for (i = 0; i < vw->n_runs; i++) {
		const struct report_run *run = &vw->runs[i];

		if (jappend(probes, json_probe(run)) != 0)
			return -1;
		if (run->first->v.cause != CAUSE_NONE &&
		    json_cause_add(causes, run) != 0)
			return -1;
	}
	return 0;
}

/* The causes of report_add_cause(): each with its label in "probes" and
 * its sentence in "evidence". */
static int
json_xcauses(json_t *root, const struct report *r)
{
	json_t *causes = json_object_get(root, "causes"), *c, *ev;
	size_t i;

	for (i = 0; i < r->n_xcauses; i++) {
		const struct report_xcause *x = &r->xcauses[i];

		if ((c = json_cause_entry(causes, x->cause, x->sev)) == NULL ||
		    jappend(json_object_get(c, "probes"), jtext(x->label)) != 0)
			return -1;
		if ((ev = json_object_get(c, "evidence")) == NULL &&
		    jset(c, "evidence", (ev = json_array())) != 0)
			return -1;
		if (jappend(ev, jtext(x->evidence)) != 0)
			return -1;
	}
	return 0;
}

/* report_add_advice(): "advice" and "settings" on the cause's entry (an
 * advice for a cause no path or finding named is left out). */
static int
json_advice(json_t *root, const struct report *r)
{
	json_t *causes = json_object_get(root, "causes"), *c, *l;
	size_t i;

	for (i = 0; i < r->n_advice; i++) {
		const struct report_advice *a = &r->advice[i];

		if ((c = json_cause_find(causes, cause_name(a->cause))) == NULL)
			continue;
		if ((l = json_object_get(c, "advice")) == NULL &&
		    jset(c, "advice", (l = json_array())) != 0)
			return -1;
		if (jappend(l, jtext(a->text)) != 0)
			return -1;
		if (a->setting == NULL)
			continue;
		if ((l = json_object_get(c, "settings")) == NULL &&
		    jset(c, "settings", (l = json_array())) != 0)
			return -1;
		if (jappend(l, json_incref(a->setting)) != 0)
			return -1;
	}
	return 0;
}

/* Append text to the fix object's "text" (one script of several). */
static int
json_fix_append(json_t *fix, const char *text)
{
	const char *old = json_string_value(json_object_get(fix, "text"));
	json_t *v;
	size_t n;
	char *buf;

	if (text == NULL)
		return 0;
	if (old == NULL)
		return jset(fix, "text", jtext(text));
	n = strlen(old) + strlen(text) + 2;
	if ((buf = malloc(n)) == NULL)
		return -1;
	snprintf(buf, n, "%s\n%s", old, text);
	v = jtext(buf);
	free(buf);
	return jset(fix, "text", v);
}

/* Fold one patch into its cause's "fix": all of a cause's patches are one
 * script of that host, verified only when every part is. */
static int
json_fix_add(json_t *causes, const struct report_fix *x)
{
	json_t *c = json_cause_find(causes, cause_name(x->cause)), *fix;

	if (c == NULL)
		return 0;
	fix = json_object_get(c, "fix");
	if (!json_is_object(fix)) {
		fix = json_pack("{s:s,s:s,s:s,s:n,s:b,s:n}", "host",
		    x->server ? "server" : "client", "file", x->server ?
		    "server.nft" : "client.nft", "kind", "nftables", "text",
		    "verified", 1, "verify_error");
		if (jset(c, "fix", fix) != 0)
			return -1;
	}
	/* The remedy for data connections, as the first patch with one
	 * chose it (a cause's patches follow the same --fix-style). */
	if (x->style != NULL && x->style[0] != '\0' &&
	    json_object_get(fix, "style") == NULL &&
	    (jset(fix, "style", jtext(x->style)) != 0 ||
	    jset(fix, "style_reason", jtext(x->style_reason)) != 0))
		return -1;
	if (!x->verified && (jset(fix, "verified", json_false()) != 0 ||
	    (json_is_null(json_object_get(fix, "verify_error")) &&
	    jset(fix, "verify_error", jtext(x->verify_error)) != 0)))
		return -1;
	return json_fix_append(fix, x->text);
}

/* A path cause gets the change to make where ftpath does not run, marked
 * as not verified. */
static int
json_guidance(json_t *causes, const struct report *r,
    const struct report_run *run)
{
	char g[512];
	json_t *c, *fix;

	if (report_guidance(r, run, g, sizeof(g))[0] == '\0' ||
	    (c = json_cause_find(causes, cause_name(run->first->v.cause))) ==
	    NULL)
		return 0;
	fix = json_object_get(c, "fix");
	if (!json_is_object(fix)) {
		fix = json_pack("{s:s,s:n,s:s,s:n,s:b,s:s}", "host", "path",
		    "file", "kind", "guidance", "text", "verified", 0,
		    "verify_error", "not verified: ftpath does not run on the "
		    "device");
		if (jset(c, "fix", fix) != 0)
			return -1;
	}
	return json_fix_append(fix, g);
}

static int
json_fixes(json_t *root, const struct report *r, const struct report_view *vw)
{
	json_t *causes = json_object_get(root, "causes");
	size_t i;

	for (i = 0; i < r->n_fixes; i++)
		if (json_fix_add(causes, &r->fixes[i]) != 0)
			return -1;
	for (i = 0; i < vw->n_runs; i++)
		if (json_guidance(causes, r, &vw->runs[i]) != 0)
			return -1;
	return 0;
}

/* security_groups: every evaluated --sg file's entries (sg.h). */
static json_t *
json_sgs(const struct report *r)
{
	json_t *all = json_array(), *one;
	size_t i;

	if (all == NULL)
		return NULL;
	for (i = 0; i < r->n_sgs; i++) {
		if ((one = sg_json(r->sgs[i])) == NULL)
			continue;	/* not evaluated: the notes say why */
		if (json_array_extend(all, one) != 0) {
			json_decref(one);
			json_decref(all);
			return NULL;
		}
		json_decref(one);
	}
	return all;
}

static json_t *
json_service(const struct report *r)
{
	if (r->svc != NULL)
		return service_json(r->svc);
	return json_pack("{s:b}", "tested", 0);
}

static json_t *
json_notes(const struct report *r)
{
	json_t *a = json_array();
	size_t i;

	if (a == NULL)
		return NULL;
	for (i = 0; i < r->n_notes; i++)
		if (jappend(a, jtext(r->notes[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *
json_alg(const struct report *r)
{
	if (r->alg != NULL)
		return alg_json(r->alg, &r->alg_res);
	return json_pack("{s:b}", "tested", 0);
}

json_t *
report_json(const struct report *r)
{
	const struct session_facts *f = &r->f;
	struct report_view vw;
	json_t *root = NULL;
	int ok = 0;

	if (report_view_build(r, &vw) != 0)
		return NULL;
	if ((root = json_object()) == NULL)
		goto out;
	if (jset(root, "version", json_integer(REPORT_JSON_VERSION)) != 0 ||
	    jset(root, "agent", json_side(r->agent_version, "local",
	    &f->agent_local, "observed", &f->agent_observed)) != 0 ||
	    jset(root, "reflector", json_side(r->reflector_version, "dialled",
	    &f->dialled, "local", &f->reflector_local)) != 0 ||
	    jset(root, "nat", json_nat(r)) != 0 ||
	    jset(root, "alg", json_alg(r)) != 0 ||
	    json_runs(root, &vw) != 0 ||
	    json_xcauses(root, r) != 0 ||
	    json_advice(root, r) != 0 ||
	    json_fixes(root, r, &vw) != 0 ||
	    jset(root, "service", json_service(r)) != 0 ||
	    jset(root, "security_groups", json_sgs(r)) != 0 ||
	    jset(root, "apply", report_apply_json(r)) != 0 ||
	    jset(root, "notes", json_notes(r)) != 0 ||
	    jset(root, "duration_ms", json_integer(r->duration_ms)) != 0 ||
	    jset(root, "server", jtext(r->server_name)) != 0 ||
	    jset(root, "rtt_ms", json_integer(f->rtt_ms)) != 0 ||
	    (r->extra != NULL &&
	    json_object_update_missing(root, r->extra) != 0))
		goto out;
	ok = 1;
out:
	report_view_free(&vw);
	if (!ok) {
		json_decref(root);
		root = NULL;
	}
	return root;
}

