/*
 * report.c - the report model: the classifier's verdicts and causes
 * (only the classifier, classify.h, writes it), and the runs both
 * renderers show.
 *
 * Passive ranges can be tens of thousands of ports, so consecutive ports
 * with the same observable result ("signature") are shown as one run.
 * The renderers are report_text.c and report_json.c; neither reads the
 * other's output.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "copypool.h"
#include "err.h"
#include "evidence.h"
#include "report.h"
#include "report_int.h"
#include "service.h"
#include "traceroute.h"

static char *
dup_or_null(const char *s, int *err)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*err = 1;
	return d;
}

struct report *
report_new(const struct session_facts *f, const char *agent_version,
    const char *reflector_version, const char *server_name)
{
	struct report *r;
	int err = 0;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->f = *f;
	r->agent_version = dup_or_null(agent_version, &err);
	r->reflector_version = dup_or_null(reflector_version, &err);
	r->server_name = dup_or_null(server_name, &err);
	if ((r->kept = copypool_new()) == NULL)
		err = 1;
	if (err) {
		report_free(r);
		return NULL;
	}
	return r;
}

void
report_free(struct report *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n_notes; i++)
		free(r->notes[i]);
	free(r->notes);
	for (i = 0; i < r->n_xcauses; i++) {
		free(r->xcauses[i].label);
		free(r->xcauses[i].evidence);
	}
	free(r->xcauses);
	free(r->traces);
	for (i = 0; i < r->n_advice; i++) {
		free(r->advice[i].text);
		json_decref(r->advice[i].setting);
	}
	free(r->advice);
	json_decref(r->nat_server);
	free(r->nat_line);
	json_decref(r->extra);
	for (i = 0; i < r->n_fixes; i++) {
		free(r->fixes[i].text);
		free(r->fixes[i].verify_error);
		free(r->fixes[i].style);
		free(r->fixes[i].style_reason);
	}
	free(r->fixes);
	free(r->svc);
	free(r->alg);
	free(r->apply);
	free(r->ents);
	free(r->agent_version);
	free(r->reflector_version);
	free(r->server_name);
	copypool_free(r->kept);
	free(r);
}

/* Room for one more element of size sz: the (maybe moved) array, or
 * NULL with the old array untouched. */
static void *
grow(void *arr, size_t *cap, size_t n, size_t sz)
{
	void *nw;
	size_t ncap;

	if (n < *cap)
		return arr;
	ncap = *cap == 0 ? 16 : *cap * 2;
	if (ncap > SIZE_MAX / sz / 2 || (nw = realloc(arr, ncap * sz)) == NULL)
		return NULL;
	*cap = ncap;
	return nw;
}

static int same_signature(const struct report_entry *a,
    const struct probe_obs *o, const struct verdict *v, long trace);

/* The last entry, if the passive port o continues its run. */
static struct report_entry *
report_run_tail(struct report *r, const struct probe_obs *o,
    const struct verdict *v, long trace)
{
	struct report_entry *e;

	if (r->n == 0 || o->kind != PROBE_PASSIVE)
		return NULL;
	e = &r->ents[r->n - 1];
	if (e->o.kind != PROBE_PASSIVE || (unsigned)o->port != e->hi + 1u ||
	    !same_signature(e, o, v, trace))
		return NULL;
	return e;
}

/* The entry's own copies of what its observation points at. */
static int
report_keep(struct report *r, struct probe_obs *o)
{
	if ((o->trace_reason != NULL && (o->trace_reason =
	    copypool_str(r->kept, o->trace_reason)) == NULL) ||
	    (o->ctrace_reason != NULL && (o->ctrace_reason =
	    copypool_str(r->kept, o->ctrace_reason)) == NULL) ||
	    (o->rule != NULL && (o->rule = copypool_bytes(r->kept, o->rule,
	    sizeof(*o->rule))) == NULL) ||
	    (o->crule != NULL && (o->crule = copypool_bytes(r->kept, o->crule,
	    sizeof(*o->crule))) == NULL))
		return FTP_ERR_NOMEM;
	return 0;
}

static int
report_add_entry(struct report *r, const struct probe_obs *o,
    const struct verdict *v, long trace)
{
	struct report_entry *e;

	r->n_paths++;
	if ((e = report_run_tail(r, o, v, trace)) == NULL) {
		if ((e = grow(r->ents, &r->cap, r->n,
		    sizeof(*r->ents))) == NULL) {
			r->n_paths--;
			return FTP_ERR_NOMEM;
		}
		r->ents = e;
		e = &r->ents[r->n];
		e->o = *o;
		if (report_keep(r, &e->o) != 0) {
			r->n_paths--;
			return FTP_ERR_NOMEM;
		}
		e->v = *v;
		/* Never trust a count from outside to index the evidence
		 * array. */
		if (e->v.n_evidence > VERDICT_MAX_EVIDENCE)
			e->v.n_evidence = VERDICT_MAX_EVIDENCE;
		e->seq = r->n++;
		e->trace = trace;
		e->hi = o->port;
		e->count = 0;
		e->inferred = 0;
		e->retry_port = 0;
	}
	e->hi = o->port;
	e->count++;
	if (o->icmp_retry_port != 0) {
		e->inferred++;
		e->retry_port = o->icmp_retry_port;
	}
	return 0;
}

int
report_add(struct report *r, const struct probe_obs *o,
    const struct verdict *v)
{
	return report_add_entry(r, o, v, -1);
}

/* The index of tr in r->traces, added if no equal one is there: the ports
 * of a run share one trace. */
static int
report_trace_index(struct report *r, const struct traceroute_path *tr,
    long *idx)
{
	struct traceroute_path *t;
	size_t i;

	for (i = 0; i < r->n_traces; i++)
		if (traceroute_path_equal(&r->traces[i], tr)) {
			*idx = (long)i;
			return 0;
		}
	if ((t = grow(r->traces, &r->cap_traces, r->n_traces,
	    sizeof(*r->traces))) == NULL)
		return FTP_ERR_NOMEM;
	r->traces = t;
	r->traces[r->n_traces] = *tr;
	*idx = (long)r->n_traces++;
	return 0;
}

int
report_add_traced(struct report *r, const struct probe_obs *o,
    const struct verdict *v, const struct traceroute_path *tr)
{
	long idx = -1;
	int e;

	if (tr != NULL && (e = report_trace_index(r, tr, &idx)) != 0)
		return e;
	return report_add_entry(r, o, v, idx);
}

int
report_note(struct report *r, const char *text)
{
	char **notes, *d;

	if ((notes = grow(r->notes, &r->cap_notes, r->n_notes,
	    sizeof(*r->notes))) == NULL)
		return FTP_ERR_NOMEM;
	r->notes = notes;
	if ((d = strdup(text)) == NULL)
		return FTP_ERR_NOMEM;
	r->notes[r->n_notes++] = d;
	return 0;
}

void
report_set_duration(struct report *r, unsigned ms)
{
	r->duration_ms = ms;
}

int
report_set_service(struct report *r, const struct ftpcheck_result *svc)
{
	struct ftpcheck_result *c;

	if ((c = malloc(sizeof(*c))) == NULL)
		return FTP_ERR_NOMEM;
	*c = *svc;
	free(r->svc);
	r->svc = c;
	return 0;
}

int
report_set_alg(struct report *r, const struct alg_obs *o,
    const struct alg_result *res)
{
	struct alg_obs *c;

	if ((c = malloc(sizeof(*c))) == NULL)
		return FTP_ERR_NOMEM;
	*c = *o;
	free(r->alg);
	r->alg = c;
	r->alg_res = *res;
	return 0;
}

int
report_add_cause(struct report *r, enum report_part part,
    enum report_severity sev, enum cause c, const char *label,
    const char *evidence)
{
	struct report_xcause *x;
	char *l, *e;

	if (cause_name(c) == NULL)
		return 0;
	if ((x = grow(r->xcauses, &r->cap_xcauses, r->n_xcauses,
	    sizeof(*r->xcauses))) == NULL)
		return FTP_ERR_NOMEM;
	r->xcauses = x;
	l = strdup(label ? label : "service");
	e = strdup(evidence ? evidence : "");
	if (l == NULL || e == NULL) {
		free(l);
		free(e);
		return FTP_ERR_NOMEM;
	}
	x = &r->xcauses[r->n_xcauses++];
	x->cause = c;
	x->part = part;
	x->sev = sev;
	x->label = l;
	x->evidence = e;
	return 0;
}

int
report_add_advice(struct report *r, enum cause c, const char *advice,
    json_t *setting)
{
	struct report_advice *a;
	char *t;

	if ((a = grow(r->advice, &r->cap_advice, r->n_advice,
	    sizeof(*r->advice))) == NULL || (t = strdup(advice)) == NULL) {
		if (a != NULL)
			r->advice = a;
		json_decref(setting);
		return FTP_ERR_NOMEM;
	}
	r->advice = a;
	a = &r->advice[r->n_advice++];
	a->cause = c;
	a->text = t;
	a->setting = setting;
	return 0;
}

int
report_set_server_nat(struct report *r, json_t *extra, const char *line)
{
	char *l = NULL;

	if (line != NULL && line[0] != '\0' && (l = strdup(line)) == NULL) {
		json_decref(extra);
		return FTP_ERR_NOMEM;
	}
	json_decref(r->nat_server);
	free(r->nat_line);
	r->nat_server = extra;
	r->nat_line = l;
	return 0;
}

int
report_set_extra(struct report *r, const char *key, json_t *value)
{
	if (value == NULL)
		return FTP_ERR_NOMEM;
	if (r->extra == NULL && (r->extra = json_object()) == NULL) {
		json_decref(value);
		return FTP_ERR_NOMEM;
	}
	return json_object_set_new(r->extra, key, value) == 0 ? 0 :
	    FTP_ERR_NOMEM;
}

int
report_add_fix(struct report *r, enum cause c, const struct evidence_fix *f)
{
	struct report_fix *x;
	int err = 0;

	if ((x = grow(r->fixes, &r->cap_fixes, r->n_fixes,
	    sizeof(*r->fixes))) == NULL)
		return FTP_ERR_NOMEM;
	r->fixes = x;
	x = &r->fixes[r->n_fixes];
	memset(x, 0, sizeof(*x));
	x->cause = c;
	x->server = f->server;
	x->kind = f->kind;
	x->lo = f->lo;
	x->hi = f->hi;
	x->verified = f->verified && f->text != NULL;
	x->text = dup_or_null(f->text, &err);
	x->verify_error = dup_or_null(f->verify_error ? f->verify_error : "",
	    &err);
	x->style = dup_or_null(f->style ? f->style : "", &err);
	x->style_reason = dup_or_null(f->style_reason ? f->style_reason : "",
	    &err);
	if (err) {
		free(x->text);
		free(x->verify_error);
		free(x->style);
		free(x->style_reason);
		return FTP_ERR_NOMEM;
	}
	r->n_fixes++;
	return 0;
}

int
report_set_sgs(struct report *r, const struct sg *const *sgs, size_t n)
{
	r->sgs = sgs;
	r->n_sgs = n;
	return 0;
}

const struct report_fix *
report_fix_for(const struct report *r, const struct report_run *run)
{
	const struct report_entry *e = run->first;
	size_t i;

	for (i = 0; i < r->n_fixes; i++) {
		const struct report_fix *x = &r->fixes[i];

		if (x->cause == e->v.cause && x->kind == e->o.kind &&
		    (e->o.kind == PROBE_ACTIVE ||
		    (x->lo <= run->hi && run->lo <= x->hi)))
			return x;
	}
	return NULL;
}

const char *
report_guidance(const struct report *r, const struct report_run *run,
    char *buf, size_t len)
{
	const struct report_entry *e = run->first;
	const struct session_facts *f = &r->f;
	char p[16], a[ADDR_STRLEN], b[ADDR_STRLEN];
	const char *at = e->v.hop[0] ? e->v.hop : NULL;

	buf[0] = '\0';
	if (e->v.pass)
		return buf;
	switch (e->v.cause) {
	case CAUSE_PATH_SILENT_DROP:
	case CAUSE_PATH_REJECT:
		snprintf(buf, len, "allow tcp/%s from %s to %s on the "
		    "firewall %s%s (a device ftpath does not run on: not "
		    "verified)", report_ports_text(run, p, sizeof(p)),
		    addr_text(e->o.kind != PROBE_ACTIVE &&
		    e->o.local.ss_family == f->agent_observed.ss_family ?
		    ADDR_SA(&f->agent_observed) : ADDR_SA(&e->o.local), 0, a,
		    sizeof(a)),
		    addr_text(ADDR_SA(&e->o.remote), 0, b, sizeof(b)),
		    at ? "at or just after hop " : "on the path",
		    at ? at : "");
		break;
	case CAUSE_RETURN_PATH:
		snprintf(buf, len, "let the answers from tcp/%s of %s back to "
		    "%s: a stateless ACL or asymmetric route on the way back "
		    "(not verified)", report_ports_text(run, p, sizeof(p)),
		    addr_text(ADDR_SA(&e->o.remote), 0, a, sizeof(a)),
		    addr_text(ADDR_SA(&f->agent_observed), 0, b,
		    sizeof(b)));
		break;
	default:
		break;
	}
	return buf;
}

int
report_failed(const struct report *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (!r->ents[i].v.pass)
			return 1;
	for (i = 0; i < r->n_xcauses; i++)
		if (r->xcauses[i].sev == REPORT_FAILURE)
			return 1;
	return r->svc != NULL && service_failed(r->svc);
}

/* ---- ordering and runs ---- */

/* Total order on addresses (port ignored, v4-mapped as v4). */
static int
ss_addr_cmp(const struct sockaddr *a, const struct sockaddr *b)
{
	struct sockaddr_storage pa, pb;

	addr_store(&pa, a);
	addr_store(&pb, b);
	addr_unmap(&pa);
	addr_unmap(&pb);
	if (pa.ss_family != pb.ss_family)
		return pa.ss_family < pb.ss_family ? -1 : 1;
	if (pa.ss_family == AF_INET)
		return memcmp(&((struct sockaddr_in *)(void *)&pa)->sin_addr,
		    &((struct sockaddr_in *)(void *)&pb)->sin_addr, 4);
	if (pa.ss_family == AF_INET6)
		return memcmp(&((struct sockaddr_in6 *)(void *)&pa)->sin6_addr,
		    &((struct sockaddr_in6 *)(void *)&pb)->sin6_addr, 16);
	return 0;
}

static int
kind_rank(enum probe_kind k)
{
	return k == PROBE_CONTROL ? 0 : k == PROBE_PASSIVE ? 1 : 2;
}

/* control, then passive by (server address, port), then active. */
static int
entry_cmp(const void *pa, const void *pb)
{
	const struct report_entry *a = *(const struct report_entry *const *)pa;
	const struct report_entry *b = *(const struct report_entry *const *)pb;
	int c;

	if (kind_rank(a->o.kind) != kind_rank(b->o.kind))
		return kind_rank(a->o.kind) - kind_rank(b->o.kind);
	if (a->o.kind == PROBE_PASSIVE) {
		if ((c = ss_addr_cmp(ADDR_SA(&a->o.remote),
		    ADDR_SA(&b->o.remote))) != 0)
			return c;
		if (a->o.port != b->o.port)
			return a->o.port < b->o.port ? -1 : 1;
	}
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Both name the same dropping rule, or neither names one. */
static int
same_rule(const struct probe_rule *a, const struct probe_rule *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return a == b || (a->handle == b->handle &&
	    a->has_handle == b->has_handle && a->outbound == b->outbound &&
	    strcmp(a->family, b->family) == 0 &&
	    strcmp(a->table, b->table) == 0 &&
	    strcmp(a->chain, b->chain) == 0);
}

/* Same observable result: what decides whether two ports share a run. */
static int
same_signature(const struct report_entry *a, const struct probe_obs *bo,
    const struct verdict *bv, long btrace)
{
	const struct errq_icmp *ia = &a->o.icmp, *ib = &bo->icmp;

	if (a->v.pass != bv->pass || a->v.cause != bv->cause ||
	    a->o.outcome != bo->outcome || a->o.arm != bo->arm ||
	    a->o.arrived != bo->arrived || ia->present != ib->present)
		return 0;
	if (ia->present && (ia->family != ib->family || ia->type != ib->type ||
	    ia->code != ib->code || ss_addr_cmp(ADDR_SA(&ia->from),
	    ADDR_SA(&ib->from)) != 0))
		return 0;
	/* The server's trace: one run names one rule. */
	if (a->o.trace_record != bo->trace_record ||
	    a->o.syn_seen != bo->syn_seen ||
	    a->o.synack_sent != bo->synack_sent)
		return 0;
	if (!same_rule(a->o.rule, bo->rule) || a->trace != btrace)
		return 0;
	/* The agent host's trace likewise, as far as it decides anything:
	 * syn_sent only matters next to a rule, answer_seen never alone.
	 * (An incomplete trace lost some ports' events; comparing those
	 * would split one run of equal verdicts into many.) */
	if (a->o.ctrace_state != bo->ctrace_state ||
	    !same_rule(a->o.crule, bo->crule) ||
	    (a->o.crule != NULL && a->o.syn_sent != bo->syn_sent))
		return 0;
	return ss_addr_cmp(ADDR_SA(&a->o.remote), ADDR_SA(&bo->remote)) == 0;
}

static int
extends_run(const struct report_run *run, const struct report_entry *e)
{
	return e->o.kind == PROBE_PASSIVE &&
	    run->first->o.kind == PROBE_PASSIVE &&
	    (unsigned)e->o.port == (unsigned)run->hi + 1 &&
	    same_signature(run->first, &e->o, &e->v, e->trace);
}

void
report_view_free(struct report_view *vw)
{
	free(vw->order);
	free(vw->runs);
	memset(vw, 0, sizeof(*vw));
}

int
report_view_build(const struct report *r, struct report_view *vw)
{
	struct report_run *run = NULL;
	size_t i;
	int ret = FTP_ERR_NOMEM;

	memset(vw, 0, sizeof(*vw));
	if (r->n == 0)
		return 0;
	vw->order = calloc(r->n, sizeof(*vw->order));
	vw->runs = calloc(r->n, sizeof(*vw->runs));
	if (vw->order == NULL || vw->runs == NULL)
		goto out;
	for (i = 0; i < r->n; i++)
		vw->order[i] = &r->ents[i];
	qsort(vw->order, r->n, sizeof(*vw->order), entry_cmp);
	for (i = 0; i < r->n; i++) {
		const struct report_entry *e = vw->order[i];

		if (run == NULL || !extends_run(run, e)) {
			run = &vw->runs[vw->n_runs++];
			run->first = e;
			run->trace = e->trace >= 0 ? &r->traces[e->trace] :
			    NULL;
			run->lo = e->o.port;
		}
		run->hi = e->hi;
		run->count += e->count;
		if (e->inferred != 0) {
			run->inferred += e->inferred;
			run->retry_port = e->retry_port;
		}
	}
	ret = 0;
out:
	if (ret != 0)
		report_view_free(vw);
	return ret;
}

/* ---- text pieces shared by both renderings ---- */

const char *
report_ports_text(const struct report_run *run, char *buf, size_t len)
{
	if (run->lo == run->hi)
		snprintf(buf, len, "%u", run->lo);
	else
		snprintf(buf, len, "%u-%u", run->lo, run->hi);
	return buf;
}

/* "passive 30000-30049": how a run is named in the causes list. */
const char *
report_run_label(const struct report_run *run, char *buf, size_t len)
{
	char p[16];

	snprintf(buf, len, "%s %s", probe_kind_name(run->first->o.kind),
	    report_ports_text(run, p, sizeof(p)));
	return buf;
}

/* Said first when a run stands for many ports, so that the port numbers
 * in the evidence that follows are not mistaken for the whole run. */
const char *
report_run_preface(const struct report_run *run, char *buf, size_t len)
{
	char p[16];

	if (run->inferred > 0 && run->inferred < run->count)
		snprintf(buf, len, "all %u ports %s gave the same result; %u "
		    "of them got no ICMP in the parallel pass (the sender "
		    "rate-limits ICMP) and port %u retried alone got the same "
		    "ICMP; the evidence is that of port %u", run->count,
		    report_ports_text(run, p, sizeof(p)), run->inferred,
		    run->retry_port, run->lo);
	else
		snprintf(buf, len, "all %u ports %s gave the same result; the "
		    "evidence is that of port %u", run->count,
		    report_ports_text(run, p, sizeof(p)), run->lo);
	return buf;
}


