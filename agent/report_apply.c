/*
 * report_apply.c - the report's "apply" section (checkapply.h): the
 * model's setter, the readers check --apply plans from, and the section's
 * two renderings (human text and JSON), both from the C structures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkapply.h"
#include "err.h"
#include "ftpcheck.h"
#include "report.h"
#include "report_int.h"
#include "service.h"

static const char *const apply_hosts[CHECKAPPLY_NHOSTS] = {
	"client", "server",
};

static const char *const apply_states[] = {
	"none", "refused", "rejected", "kept", "rolled-back", "failed",
};

const char *
checkapply_host_name(enum checkapply_host h)
{
	return (unsigned)h < CHECKAPPLY_NHOSTS ? apply_hosts[h] : "?";
}

const char *
checkapply_state_name(enum checkapply_state s)
{
	return (unsigned)s < sizeof(apply_states) / sizeof(apply_states[0]) ?
	    apply_states[s] : "?";
}

int
report_set_apply(struct report *r, const struct checkapply_obs *o)
{
	struct checkapply_obs *c = malloc(sizeof(*c));

	if (c == NULL)
		return FTP_ERR_NOMEM;
	memcpy(c, o, sizeof(*c));
	free(r->apply);
	r->apply = c;
	return 0;
}

/* ---- readers (for checkapply.c) ---- */

int
report_runs(const struct report *r, struct report_run_info *out, size_t max,
    size_t *n)
{
	struct report_view vw;
	size_t i, k = 0;

	if (report_view_build(r, &vw) != 0)
		return FTP_ERR_NOMEM;
	for (i = 0; i < vw.n_runs && k < max; i++, k++) {
		out[k].kind = vw.runs[i].first->o.kind;
		out[k].lo = vw.runs[i].lo;
		out[k].hi = vw.runs[i].hi;
		out[k].pass = vw.runs[i].first->v.pass;
		out[k].cause = vw.runs[i].first->v.cause;
	}
	report_view_free(&vw);
	*n = k;
	return 0;
}

void
report_ports_status(const struct report *r, enum probe_kind k, uint16_t lo,
    uint16_t hi, unsigned *tested, unsigned *failed, enum cause *first)
{
	size_t i;

	*tested = *failed = 0;
	*first = CAUSE_NONE;
	for (i = 0; i < r->n; i++) {
		const struct report_entry *e = &r->ents[i];
		unsigned n = e->count;

		if (e->o.kind != k)
			continue;
		/* An entry is a run of ports: count those inside lo-hi. */
		if (k != PROBE_ACTIVE) {
			unsigned a = e->o.port > lo ? e->o.port : lo;
			unsigned b = e->hi < hi ? e->hi : hi;

			if (a > b)
				continue;
			n = b - a + 1;
		}
		*tested += n;
		if (e->v.pass)
			continue;
		if (*failed == 0)
			*first = e->v.cause;
		*failed += n;
	}
}

size_t
report_verified_fixes(const struct report *r, struct report_fix_info *out,
    size_t max)
{
	size_t i, k = 0;

	for (i = 0; i < r->n_fixes && k < max; i++) {
		const struct report_fix *f = &r->fixes[i];

		if (!f->verified || f->text == NULL)
			continue;
		out[k].cause = f->cause;
		out[k].server = f->server;
		out[k].kind = f->kind;
		out[k].lo = f->lo;
		out[k].hi = f->hi;
		out[k++].text = f->text;
	}
	return k;
}

/* A data mode that failed: attempted and did not transfer, or never
 * reached because the session itself failed first. */
static unsigned
apply_failed_modes(const struct ftpcheck_result *svc)
{
	unsigned m, bits = 0;

	if (svc == NULL || !service_failed(svc))
		return 0;
	for (m = 0; m < FTPCHECK_NMODES; m++)
		if (!svc->mode[m].ok && (svc->mode[m].attempted ||
		    !svc->logged_in))
			bits |= FTPCHECK_MODE_BIT(m);
	return bits;
}

unsigned
report_service_failed_modes(const struct report *r)
{
	return apply_failed_modes(r->svc);
}

int
report_service_ran(const struct report *r)
{
	return r->svc != NULL;
}

/* ---- renderings ---- */

static const char *
apply_after_text(int after)
{
	return after > 0 ? "pass" : after == 0 ? "fail" : "not-tested";
}

static void
apply_modes_text(unsigned bits, char *buf, size_t len)
{
	size_t off = 0;
	unsigned m;

	buf[0] = '\0';
	for (m = 0; m < FTPCHECK_NMODES && off + 6 < len; m++)
		if (bits & FTPCHECK_MODE_BIT(m))
			off += (size_t)snprintf(buf + off, len - off, "%s%s",
			    off ? " " : "", ftpcheck_mode_name(
			    (enum ftpcheck_mode)m));
}

static void
apply_print_host(const struct checkapply_obs *o, enum checkapply_host h,
    FILE *out)
{
	const struct checkapply_hostobs *x = &o->host[h];
	size_t i;

	if (x->state == CHECKAPPLY_NONE)
		fprintf(out, "  %s host: no patch to apply%s%s\n",
		    checkapply_host_name(h), x->reason[0] ? ": " : "",
		    x->reason);
	else
		fprintf(out, "  %s host: %s%s%s%s\n", checkapply_host_name(h),
		    checkapply_state_name(x->state), x->reason[0] ? ": " : "",
		    x->reason, x->state != CHECKAPPLY_ROLLED_BACK ? "" :
		    x->identical > 0 ? " (ruleset identical to before)" :
		    x->identical == 0 ? " (ruleset differs from before)" : "");
	for (i = 0; i < x->n_added; i++)
		fprintf(out, "    %s %s\n", x->state == CHECKAPPLY_KEPT ?
		    "added:" : "loaded:", x->added[i]);
}

static void
apply_print_path(const struct checkapply_path *p, FILE *out)
{
	char ports[16], after[96] = "";

	if (p->kind == PROBE_ACTIVE || p->lo == p->hi)
		snprintf(ports, sizeof(ports), "%u", p->lo);
	else
		snprintf(ports, sizeof(ports), "%u-%u", p->lo, p->hi);
	if (p->after == 0)
		snprintf(after, sizeof(after), "; re-test: %s, %u port(s)",
		    cause_name(p->after_cause) ? cause_name(p->after_cause) :
		    "no cause", p->after_failed);
	fprintf(out, "  %-8s %-12s FAIL -> %-10s %s%s%s%s\n",
	    probe_kind_name(p->kind), ports,
	    p->after > 0 ? "PASS" : p->after == 0 ? "FAIL" : "not tested",
	    cause_name(p->cause) ? cause_name(p->cause) : "no cause",
	    p->host >= 0 ? " (" : "", p->host >= 0 ? checkapply_host_name(
	    (enum checkapply_host)p->host) : "", p->host >= 0 ?
	    " patch)" : after);
	if (p->host >= 0 && after[0] != '\0')
		fprintf(out, "  %-21s %s\n", "", after + 2);
}

void
report_apply_print(const struct report *r, FILE *out)
{
	const struct checkapply_obs *o = r->apply;
	char b[64], a[64];
	size_t i;
	int h;

	if (o == NULL)
		return;
	fprintf(out, "\napply (commit-confirmed, %u s to confirm):\n",
	    o->confirm_timeout_s);
	for (h = 0; h < CHECKAPPLY_NHOSTS; h++)
		apply_print_host(o, (enum checkapply_host)h, out);
	if (!o->retested && o->retest_error[0] != '\0')
		fprintf(out, "  re-test: not run: %s\n", o->retest_error);
	else if (o->retested)
		fprintf(out, "  re-test of the failing paths (%u ms), before "
		    "-> after:\n", o->retest_ms);
	for (i = 0; o->retested && i < o->n_paths; i++)
		apply_print_path(&o->paths[i], out);
	if (o->retested && o->svc_before != 0) {
		apply_modes_text(o->svc_before, b, sizeof(b));
		apply_modes_text(o->svc_after, a, sizeof(a));
		fprintf(out, "  real FTP client: %s failed before; after: %s\n",
		    b, o->svc_after ? a : "all pass");
	}
	fprintf(out, "  %s\n", o->all_pass ? "every failing path passes with "
	    "the patches kept" : "not every failing path passes with what "
	    "was kept");
}

static json_t *
apply_json_modes(unsigned bits)
{
	json_t *a = json_array();
	unsigned m;

	for (m = 0; a != NULL && m < FTPCHECK_NMODES; m++)
		if (bits & FTPCHECK_MODE_BIT(m))
			json_array_append_new(a, json_string(
			    ftpcheck_mode_name((enum ftpcheck_mode)m)));
	return a;
}

static json_t *
apply_json_host(const struct checkapply_hostobs *x)
{
	json_t *o = json_object(), *added = json_array();
	size_t i;

	if (o == NULL || added == NULL) {
		json_decref(o);
		json_decref(added);
		return NULL;
	}
	for (i = 0; i < x->n_added; i++)
		json_array_append_new(added, json_string(x->added[i]));
	json_object_set_new(o, "state", json_string(checkapply_state_name(
	    x->state)));
	json_object_set_new(o, "reason", x->reason[0] ?
	    json_string(x->reason) : json_null());
	json_object_set_new(o, "identical", x->identical < 0 ? json_null() :
	    json_boolean(x->identical));
	json_object_set_new(o, "added", added);
	return o;
}

static json_t *
apply_json_path(const struct checkapply_path *p)
{
	char ports[16];
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "name", json_string(probe_kind_name(p->kind)));
	if (p->kind == PROBE_ACTIVE || p->lo == p->hi) {
		json_object_set_new(o, "port", json_integer(p->lo));
	} else {
		snprintf(ports, sizeof(ports), "%u-%u", p->lo, p->hi);
		json_object_set_new(o, "ports", json_string(ports));
	}
	json_object_set_new(o, "cause", cause_name(p->cause) ?
	    json_string(cause_name(p->cause)) : json_null());
	json_object_set_new(o, "patch", p->host >= 0 ?
	    json_string(checkapply_host_name((enum checkapply_host)p->host)) :
	    json_null());
	json_object_set_new(o, "before", json_string("fail"));
	json_object_set_new(o, "after", json_string(apply_after_text(
	    p->after)));
	json_object_set_new(o, "after_failed", json_integer(p->after_failed));
	json_object_set_new(o, "after_cause", cause_name(p->after_cause) ?
	    json_string(cause_name(p->after_cause)) : json_null());
	return o;
}

json_t *
report_apply_json(const struct report *r)
{
	const struct checkapply_obs *o = r->apply;
	json_t *j, *hosts, *paths;
	size_t i;

	if (o == NULL)
		return json_pack("{s:b}", "requested", 0);
	if ((j = json_object()) == NULL)
		return NULL;
	if ((hosts = json_object()) == NULL ||
	    json_object_set_new(j, "hosts", hosts) != 0 ||
	    (paths = json_array()) == NULL ||
	    json_object_set_new(j, "paths", paths) != 0)
		goto fail;
	json_object_set_new(j, "requested", json_true());
	json_object_set_new(j, "confirm_timeout_s",
	    json_integer(o->confirm_timeout_s));
	for (i = 0; i < CHECKAPPLY_NHOSTS; i++)
		if (json_object_set_new(hosts, apply_hosts[i],
		    apply_json_host(&o->host[i])) != 0)
			goto fail;
	json_object_set_new(j, "retest", json_pack("{s:b,s:s?,s:i}", "ran",
	    o->retested, "error", o->retest_error[0] ? o->retest_error : NULL,
	    "ms", (json_int_t)o->retest_ms));
	for (i = 0; i < o->n_paths; i++)
		if (json_array_append_new(paths, apply_json_path(
		    &o->paths[i])) != 0)
			goto fail;
	json_object_set_new(j, "service", json_pack("{s:o,s:o}",
	    "failed_before", apply_json_modes(o->svc_before), "failed_after",
	    apply_json_modes(o->svc_after)));
	json_object_set_new(j, "all_pass", json_boolean(o->all_pass));
	return j;
fail:
	json_decref(j);
	return NULL;
}
