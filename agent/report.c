/*
 * report.c - collect classified probes and render them, as a packet
 * tracer would: passing paths on one line, failing paths as the stages
 * they crossed with the evidence of each, then the cause.
 *
 * Passive ranges can be tens of thousands of ports, so consecutive ports
 * with the same observable result ("signature") are shown as one run.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "alg.h"
#include "err.h"
#include "jsonstr.h"
#include "report.h"
#include "traceroute.h"

struct report_entry {
	struct probe_obs o;
	struct verdict v;
	size_t seq;		/* insertion order, keeps sorting stable */
	long trace;		/* index into report.traces, -1: none */
};

/* A cause from outside the probes (report_add_cause). */
struct report_xcause {
	enum cause cause;
	enum report_part part;
	enum report_severity sev;
	char *label;
	char *evidence;
};

/* The setting to change for a cause (report_add_advice). */
struct report_advice {
	enum cause cause;
	char *text;
	json_t *setting;	/* or NULL */
};

struct report {
	struct session_facts f;
	char *agent_version;
	char *reflector_version;
	char *server_name;
	struct report_entry *ents;
	size_t n, cap;
	char **notes;
	size_t n_notes, cap_notes;
	unsigned duration_ms;
	json_t *service;	/* NULL: not tested */
	struct report_xcause *xcauses;
	size_t n_xcauses, cap_xcauses;
	json_t *alg;		/* NULL: not tested */
	struct traceroute_path *traces;	/* distinct ones, shared by entries */
	size_t n_traces, cap_traces;
	struct report_advice *advice;
	size_t n_advice, cap_advice;
	json_t *nat_server;	/* extra keys of nat.server, or NULL */
	char *nat_line;		/* its header line, or NULL */
	json_t *extra;		/* extra top-level keys, or NULL */
};

/* Consecutive entries (in view order) rendered as one path. */
struct report_run {
	const struct report_entry *first;
	uint16_t lo, hi;
	unsigned count;
	unsigned inferred;	/* members whose ICMP came from a retry */
	uint16_t retry_port;	/* the port that was retried */
	const struct traceroute_path *trace;	/* first's, or NULL */
};

struct report_view {
	const struct report_entry **order;
	struct report_run *runs;
	size_t n_runs;
};

#define ANSI_GREEN	"\033[32m"
#define ANSI_RED	"\033[31m"
#define ANSI_BOLD	"\033[1m"
#define ANSI_RESET	"\033[0m"

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
	json_decref(r->service);
	json_decref(r->alg);
	free(r->ents);
	free(r->agent_version);
	free(r->reflector_version);
	free(r->server_name);
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

int
report_add(struct report *r, const struct probe_obs *o,
    const struct verdict *v)
{
	struct report_entry *e;

	if ((e = grow(r->ents, &r->cap, r->n, sizeof(*r->ents))) == NULL)
		return FTP_ERR_NOMEM;
	r->ents = e;
	e = &r->ents[r->n];
	e->o = *o;
	e->v = *v;
	/* Never trust a count from outside to index the evidence array. */
	if (e->v.n_evidence > VERDICT_MAX_EVIDENCE)
		e->v.n_evidence = VERDICT_MAX_EVIDENCE;
	e->seq = r->n++;
	e->trace = -1;
	return 0;
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
	if ((e = report_add(r, o, v)) != 0)
		return e;
	r->ents[r->n - 1].trace = idx;
	return 0;
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

void
report_set_service(struct report *r, json_t *service)
{
	json_decref(r->service);
	r->service = json_incref(service);
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
report_failed(const struct report *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (!r->ents[i].v.pass)
			return 1;
	for (i = 0; i < r->n_xcauses; i++)
		if (r->xcauses[i].sev == REPORT_FAILURE)
			return 1;
	return r->service != NULL &&
	    json_is_false(json_object_get(r->service, "ok"));
}

/* ---- ordering and runs ---- */

static int
ss_known(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET || ss->ss_family == AF_INET6;
}

/* Total order on addresses (port ignored, v4-mapped as v4). */
static int
ss_addr_cmp(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	struct sockaddr_storage pa = *a, pb = *b;

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
		if ((c = ss_addr_cmp(&a->o.remote, &b->o.remote)) != 0)
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
	if (a->present != b->present)
		return 0;
	return !a->present || (a->handle == b->handle &&
	    a->has_handle == b->has_handle && a->outbound == b->outbound &&
	    strcmp(a->family, b->family) == 0 &&
	    strcmp(a->table, b->table) == 0 &&
	    strcmp(a->chain, b->chain) == 0);
}

/* Same observable result: what decides whether two ports share a run. */
static int
same_signature(const struct report_entry *a, const struct report_entry *b)
{
	const struct errq_icmp *ia = &a->o.icmp, *ib = &b->o.icmp;

	if (a->v.pass != b->v.pass || a->v.cause != b->v.cause ||
	    a->o.outcome != b->o.outcome || a->o.arm != b->o.arm ||
	    a->o.arrived != b->o.arrived || ia->present != ib->present)
		return 0;
	if (ia->present && (ia->family != ib->family || ia->type != ib->type ||
	    ia->code != ib->code || ss_addr_cmp(&ia->from, &ib->from) != 0))
		return 0;
	/* The server's trace: one run names one rule. */
	if (a->o.trace_record != b->o.trace_record ||
	    a->o.syn_seen != b->o.syn_seen ||
	    a->o.synack_sent != b->o.synack_sent)
		return 0;
	if (!same_rule(&a->o.rule, &b->o.rule) || a->trace != b->trace)
		return 0;
	/* The agent host's trace likewise, as far as it decides anything:
	 * syn_sent only matters next to a rule, answer_seen never alone.
	 * (An incomplete trace lost some ports' events; comparing those
	 * would split one run of equal verdicts into many.) */
	if (a->o.ctrace_state != b->o.ctrace_state ||
	    !same_rule(&a->o.crule, &b->o.crule) ||
	    (a->o.crule.present && a->o.syn_sent != b->o.syn_sent))
		return 0;
	return ss_addr_cmp(&a->o.remote, &b->o.remote) == 0;
}

static int
extends_run(const struct report_run *run, const struct report_entry *e)
{
	return e->o.kind == PROBE_PASSIVE &&
	    run->first->o.kind == PROBE_PASSIVE &&
	    (unsigned)e->o.port == (unsigned)run->hi + 1 &&
	    same_signature(run->first, e);
}

static void
view_free(struct report_view *vw)
{
	free(vw->order);
	free(vw->runs);
	memset(vw, 0, sizeof(*vw));
}

static int
view_build(const struct report *r, struct report_view *vw)
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

		if (run != NULL && extends_run(run, e)) {
			run->hi = e->o.port;
			run->count++;
		} else {
			run = &vw->runs[vw->n_runs++];
			run->first = e;
			run->trace = e->trace >= 0 ? &r->traces[e->trace] :
			    NULL;
			run->lo = run->hi = e->o.port;
			run->count = 1;
		}
		if (e->o.icmp_retry_port != 0) {
			run->inferred++;
			run->retry_port = e->o.icmp_retry_port;
		}
	}
	ret = 0;
out:
	if (ret != 0)
		view_free(vw);
	return ret;
}

/* ---- text pieces shared by both renderings ---- */

static const char *
ports_text(const struct report_run *run, char *buf, size_t len)
{
	if (run->lo == run->hi)
		snprintf(buf, len, "%u", run->lo);
	else
		snprintf(buf, len, "%u-%u", run->lo, run->hi);
	return buf;
}

/* "passive 30000-30049": how a run is named in the causes list. */
static const char *
run_label(const struct report_run *run, char *buf, size_t len)
{
	char p[16];

	snprintf(buf, len, "%s %s", probe_kind_name(run->first->o.kind),
	    ports_text(run, p, sizeof(p)));
	return buf;
}

/* Said first when a run stands for many ports, so that the port numbers
 * in the evidence that follows are not mistaken for the whole run. */
static const char *
run_preface(const struct report_run *run, char *buf, size_t len)
{
	char p[16];

	if (run->inferred > 0 && run->inferred < run->count)
		snprintf(buf, len, "all %u ports %s gave the same result; %u "
		    "of them got no ICMP in the parallel pass (the sender "
		    "rate-limits ICMP) and port %u retried alone got the same "
		    "ICMP; the evidence is that of port %u", run->count,
		    ports_text(run, p, sizeof(p)), run->inferred,
		    run->retry_port, run->lo);
	else
		snprintf(buf, len, "all %u ports %s gave the same result; the "
		    "evidence is that of port %u", run->count,
		    ports_text(run, p, sizeof(p)), run->lo);
	return buf;
}

/* addr_text() for the storage this module keeps addresses in. */
static const char *
ss_text(const struct sockaddr_storage *ss, int with_port, char *buf,
    size_t len)
{
	return addr_text((const struct sockaddr *)ss, with_port, buf, len);
}

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
jaddr(const struct sockaddr_storage *ss)
{
	char buf[ADDR_STRLEN];

	if (!ss_known(ss))
		return json_null();
	return json_string(ss_text(ss, 0, buf, sizeof(buf)));
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
	    jset(o, k1, jaddr(a1)) != 0 || jset(o, k2, jaddr(a2)) != 0) {
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
	    jset(o, "agent", jaddr(&f->agent_local)) != 0 ||
	    jset(o, "observed", jaddr(&f->agent_observed)) != 0)
		goto fail;
	/* Only stated when both ports of the control connection are known. */
	if (ss_known(&f->agent_local) && ss_known(&f->agent_observed) &&
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
	    jset(srv, "dialled", jaddr(&f->dialled)) != 0 ||
	    jset(srv, "reflector", jaddr(&f->reflector_local)) != 0 ||
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
	    jappend(a, jtext(run_preface(run, pre, sizeof(pre)))) != 0)
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
	    &o->crule : &o->rule;
	json_t *r;
	int e;

	if (!pr->present)
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
		if (h == NULL || jset(h, "from", jaddr(&hp->from)) != 0 ||
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
		    json_string(ports_text(run, p, sizeof(p))));
	else
		r |= jset(o, "port", json_integer(run->lo));
	r |= jset(o, "address", jaddr(&e->o.remote));
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
	    json_string(run_label(run, label, sizeof(label))));
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

static json_t *
json_service(const struct report *r)
{
	if (r->service != NULL)
		return json_incref(r->service);
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
		return json_incref(r->alg);
	return json_pack("{s:b}", "tested", 0);
}

void
report_set_alg(struct report *r, json_t *alg)
{
	json_decref(r->alg);
	r->alg = json_incref(alg);
}

json_t *
report_json(const struct report *r)
{
	const struct session_facts *f = &r->f;
	struct report_view vw;
	json_t *root = NULL;
	int ok = 0;

	if (view_build(r, &vw) != 0)
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
	    jset(root, "service", json_service(r)) != 0 ||
	    jset(root, "notes", json_notes(r)) != 0 ||
	    jset(root, "duration_ms", json_integer(r->duration_ms)) != 0 ||
	    jset(root, "server", jtext(r->server_name)) != 0 ||
	    jset(root, "rtt_ms", json_integer(f->rtt_ms)) != 0 ||
	    (r->extra != NULL &&
	    json_object_update_missing(root, r->extra) != 0))
		goto out;
	ok = 1;
out:
	view_free(&vw);
	if (!ok) {
		json_decref(root);
		root = NULL;
	}
	return root;
}

/* ---- human report ---- */

struct print_ctx {
	FILE *out;
	int color;
	int port_w;	/* width of "tcp/30000-30099" */
	int addr_w;
};

static void
print_header(const struct report *r, FILE *out)
{
	const struct session_facts *f = &r->f;
	char a[ADDR_STRLEN], b[ADDR_STRLEN];

	fprintf(out, "ftpath: agent %s -> reflector %s\n",
	    ss_text(&f->agent_local, 0, a, sizeof(a)),
	    ss_text(&f->dialled, 1, b, sizeof(b)));
	fprintf(out, "  server    %s", r->server_name ? r->server_name : "?");
	ss_text(&f->server, 0, a, sizeof(a));
	if (ss_known(&f->server) &&
	    (r->server_name == NULL || strcmp(r->server_name, a) != 0))
		fprintf(out, " (%s)", a);
	fprintf(out, "\n  rtt       %u ms, duration %u ms\n", f->rtt_ms,
	    r->duration_ms);
	fprintf(out, "  versions  agent %s, reflector %s\n",
	    r->agent_version ? r->agent_version : "?",
	    r->reflector_version ? r->reflector_version : "?");
	if (verdict_client_nat(f))
		fprintf(out, "  nat       agent %s is seen by the reflector as "
		    "%s (source NAT)\n",
		    ss_text(&f->agent_local, 1, a, sizeof(a)),
		    ss_text(&f->agent_observed, 1, b, sizeof(b)));
	if (verdict_server_nat(f))
		fprintf(out, "  nat       reflector dialled as %s is %s "
		    "(destination NAT)\n",
		    ss_text(&f->dialled, 1, a, sizeof(a)),
		    ss_text(&f->reflector_local, 1, b, sizeof(b)));
	if (r->nat_line != NULL)
		fprintf(out, "  nat       %s\n", r->nat_line);
	fputc('\n', out);
}

static void
print_widths(const struct report_view *vw, struct print_ctx *pc)
{
	char p[16], a[ADDR_STRLEN];
	size_t i;
	int n;

	pc->port_w = 6;
	pc->addr_w = 1;
	for (i = 0; i < vw->n_runs; i++) {
		n = (int)strlen(ports_text(&vw->runs[i], p, sizeof(p))) + 4;
		if (n > pc->port_w)
			pc->port_w = n;
		n = (int)strlen(ss_text(&vw->runs[i].first->o.remote, 0, a,
		    sizeof(a)));
		if (n > pc->addr_w)
			pc->addr_w = n;
	}
}

static void
print_run_head(const struct print_ctx *pc, const struct report_run *run)
{
	const struct report_entry *e = run->first;
	char p[16], tp[24], a[ADDR_STRLEN];

	snprintf(tp, sizeof(tp), "tcp/%s", ports_text(run, p, sizeof(p)));
	fprintf(pc->out, "%s%s%s %-7s  %-*s  %-*s  ",
	    pc->color ? (e->v.pass ? ANSI_GREEN : ANSI_RED) : "",
	    e->v.pass ? "PASS" : "FAIL", pc->color ? ANSI_RESET : "",
	    probe_kind_name(e->o.kind), pc->port_w, tp, pc->addr_w,
	    ss_text(&e->o.remote, 0, a, sizeof(a)));
}

/* The order a probe crosses the stages: the opener's host first. */
static void
stage_order(enum probe_kind k, enum verdict_stage st[4])
{
	st[0] = k == PROBE_ACTIVE ? VERDICT_STAGE_SERVER : VERDICT_STAGE_AGENT;
	st[1] = VERDICT_STAGE_PATH;
	st[2] = k == PROBE_ACTIVE ? VERDICT_STAGE_AGENT : VERDICT_STAGE_SERVER;
	st[3] = VERDICT_STAGE_RETURN;
}

#define LABEL_W	13

/* "cause:  NAME (warning): evidence", the one way a cause is named under a
 * path or a section; evidence NULL when the lines above say it. */
static void
print_cause(FILE *out, int color, enum cause c, enum report_severity sev,
    const char *evidence)
{
	fprintf(out, "      %-*s %s%s%s%s%s%s\n", LABEL_W, "cause:",
	    color ? ANSI_BOLD : "", cause_name(c), color ? ANSI_RESET : "",
	    sev == REPORT_WARNING ? " (warning)" : "",
	    evidence != NULL ? ": " : "", evidence != NULL ? evidence : "");
}

static size_t
xcauses_in(const struct report *r, enum report_part part)
{
	size_t i, n = 0;

	for (i = 0; i < r->n_xcauses; i++)
		n += r->xcauses[i].part == part;
	return n;
}

/* The extra causes (report_add_cause) printed in one part. */
static void
print_xcauses(const struct report *r, enum report_part part, FILE *out,
    int color)
{
	size_t i;

	for (i = 0; i < r->n_xcauses; i++)
		if (r->xcauses[i].part == part)
			print_cause(out, color, r->xcauses[i].cause,
			    r->xcauses[i].sev, r->xcauses[i].evidence);
}

static void
print_stages(const struct print_ctx *pc, const struct verdict *v,
    enum probe_kind k)
{
	enum verdict_stage st[4];
	unsigned i, s;

	stage_order(k, st);
	for (s = 0; s < 4; s++) {
		char label[24];
		int first = 1;

		snprintf(label, sizeof(label), "%s:", verdict_stage_name(st[s]));
		for (i = 0; i < v->n_evidence; i++) {
			if (v->stage[i] != st[s])
				continue;
			fprintf(pc->out, "      %-*s %s\n", LABEL_W,
			    first ? label : "", v->evidence[i]);
			first = 0;
		}
	}
}

static void
print_fail(const struct print_ctx *pc, const struct report_run *run)
{
	const struct verdict *v = &run->first->v;
	const char *cause = cause_name(v->cause);
	const char *bold = pc->color ? ANSI_BOLD : "";
	const char *reset = pc->color ? ANSI_RESET : "";
	char pre[VERDICT_EVIDENCE_LEN];

	print_run_head(pc, run);
	if (cause != NULL)
		fprintf(pc->out, "%s%s%s\n", bold, cause, reset);
	else
		fprintf(pc->out, "cause not determined\n");
	if (run->count > 1)
		fprintf(pc->out, "      %-*s %s\n", LABEL_W, "ports:",
		    run_preface(run, pre, sizeof(pre)));
	print_stages(pc, v, run->first->o.kind);
	if (cause != NULL)
		print_cause(pc->out, pc->color, v->cause, REPORT_FAILURE, NULL);
	else
		fprintf(pc->out, "      %-*s none named: the evidence above "
		    "does not prove one\n", LABEL_W, "cause:");
	/* fix: lines come with the fix writers; none are known yet. */
}

static void
print_pass(const struct print_ctx *pc, const struct report_run *run)
{
	const struct verdict *v = &run->first->v;

	print_run_head(pc, run);
	fprintf(pc->out, "%s\n", v->n_evidence > 0 ? v->evidence[0] : "");
	/* A pass with a cause is a warning (alg-dependent): say why. */
	if (v->cause != CAUSE_NONE) {
		unsigned i;

		for (i = 1; i < v->n_evidence; i++)
			fprintf(pc->out, "      %-*s %s\n", LABEL_W, "",
			    v->evidence[i]);
		print_cause(pc->out, pc->color, v->cause, REPORT_WARNING, NULL);
	}
}

/* "real FTP client:": the session, one line per data mode, TLS, and the
 * causes the session proves. */
static void
print_service(const struct report *r, FILE *out, int color)
{
	const json_t *sv = r->service, *m, *tls;
	const char *err;
	size_t i;

	if (sv == NULL)
		return;
	fprintf(out, "\nreal FTP client: %s\n", jsonstr_get(sv, "server", ""));
	err = json_string_value(json_object_get(sv, "error"));
	if (err != NULL)
		fprintf(out, "%s%s%s session  %s\n",
		    color ? ANSI_RED : "", "FAIL", color ? ANSI_RESET : "", err);
	json_array_foreach(json_object_get(sv, "modes"), i, m) {
		int att = json_is_true(json_object_get(m, "attempted"));
		int ok = json_is_true(json_object_get(m, "ok"));

		if (!att && err != NULL)
			continue;
		fprintf(out, "%s%s%s %-7s  %s\n",
		    color && att ? (ok ? ANSI_GREEN : ANSI_RED) : "",
		    !att ? "----" : ok ? "PASS" : "FAIL",
		    color && att ? ANSI_RESET : "", jsonstr_get(m, "mode", ""),
		    jsonstr_get(m, "reason", ""));
	}
	tls = json_object_get(sv, "tls");
	if (json_is_object(tls)) {
		const json_t *rep = json_object_get(tls, "reply");
		const char *txt = json_string_value(json_object_get(rep,
		    "text"));
		char line[96];

		snprintf(line, sizeof(line), "%s", txt ? txt : "no reply");
		line[strcspn(line, "\n")] = '\0';
		if (json_is_true(json_object_get(tls, "handshake_ok")))
			fprintf(out, "     TLS      AUTH TLS: handshake ok%s%s%s"
			    "\n",
			    json_is_true(json_object_get(tls, "self_signed")) ?
			    ", self-signed" : "",
			    json_is_true(json_object_get(tls, "expired")) ?
			    ", expired" : "",
			    json_is_true(json_object_get(tls, "name_match")) ?
			    "" : ", name mismatch");
		else
			fprintf(out, "     TLS      AUTH TLS: %s\n", line);
	}
	print_xcauses(r, REPORT_PART_SERVICE, out, color);
}

/* "server host:": causes found from the server host's own facts
 * (REPORT_PART_SERVER_HOST) and the settings to change (advice). */
static void
print_findings(const struct report *r, FILE *out, int color)
{
	size_t i;

	if (xcauses_in(r, REPORT_PART_SERVER_HOST) == 0 && r->n_advice == 0)
		return;
	fprintf(out, "\nserver host:\n");
	print_xcauses(r, REPORT_PART_SERVER_HOST, out, color);
	for (i = 0; i < r->n_advice; i++)
		fprintf(out, "      %-*s %s (%s)\n", LABEL_W, "fix:",
		    r->advice[i].text, cause_name(r->advice[i].cause));
}

/* "FTP ALG:": the dialogue, then the causes it proves. */
static void
print_alg(const struct report *r, FILE *out, int color)
{
	alg_print(r->alg, out, color);
	/* alg_print is silent on an untested ALG; its causes need a head. */
	if (!json_is_true(json_object_get(r->alg, "tested")) &&
	    xcauses_in(r, REPORT_PART_ALG) > 0)
		fprintf(out, "\nFTP ALG:\n");
	print_xcauses(r, REPORT_PART_ALG, out, color);
}

static void
print_summary(const struct report *r, FILE *out)
{
	size_t i, pass = 0;

	if (r->n_notes > 0) {
		fprintf(out, "\nnotes:\n");
		for (i = 0; i < r->n_notes; i++)
			fprintf(out, "  - %s\n", r->notes[i]);
	}
	for (i = 0; i < r->n; i++)
		pass += r->ents[i].v.pass ? 1 : 0;
	fprintf(out, "\n%zu paths tested: %zu pass, %zu fail\n", r->n, pass,
	    r->n - pass);
}

int
report_print(const struct report *r, FILE *out, int color)
{
	struct report_view vw;
	struct print_ctx pc;
	size_t i;

	if (view_build(r, &vw) != 0)
		return FTP_ERR_NOMEM;
	pc.out = out;
	pc.color = color;
	print_widths(&vw, &pc);
	print_header(r, out);
	for (i = 0; i < vw.n_runs; i++) {
		if (vw.runs[i].first->v.pass)
			print_pass(&pc, &vw.runs[i]);
		else
			print_fail(&pc, &vw.runs[i]);
	}
	print_alg(r, out, color);
	print_service(r, out, color);
	print_findings(r, out, color);
	print_summary(r, out);
	view_free(&vw);
	return ferror(out) ? FTP_ERR_SYSTEM : 0;
}
