/*
 * trace.c - server-side nftables trace of one session (see trace.h): the
 * server role of nft/fw_session.c, plus what the reflector adds to it
 * (the start-up cleanup and the "traces" runs of the observations).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "fw.h"
#include "fw_session.h"
#include "fw_trace.h"
#include "log.h"
#include "divert.h"
#include "fixgen.h"
#include "sharedtable.h"
#include "privops.h"
#include "trace.h"

/* The generic session does the tracing; this only names it. */
struct trace {
	struct fw_session	*s;
	/* For the fixes (fixgen.h): whom the holes are for, and which
	 * port is the control port. */
	struct sockaddr_storage	 peer;
	uint16_t		 control_port;
	uint16_t		 active_port;
	struct sharedtable_sub	*sub;	/* its elements in the shared table */
	int			 conflict;	/* FTP_ERR_AGAIN from arming */
	struct fixgen_req	 fixreq;	/* the agent's plan.fix */
};

/* Learned once at start-up (trace_startup): a process without
 * CAP_NET_ADMIN need not fail the same way for every session. */
static int trace_nft_unusable;
static char trace_nft_reason[160];
/* The one table and trace listener of the process (sharedtable.h). */
static struct sharedtable *trace_shared;
/* Elements outlive their session's lifetime by this much at most. */
#define TRACE_ELEM_MARGIN_MS	(60u * 1000)

const char *
trace_state_name(enum trace_state st)
{
	switch (st) {
	case TRACE_ON:		return "on";
	case TRACE_UNAVAILABLE:	return "unavailable";
	case TRACE_INCOMPLETE:	return "incomplete";
	}
	return "unavailable";
}

void
trace_startup(struct event_base *base, uint16_t active_port,
    unsigned lifetime_s)
{
	unsigned removed = 0;
	int r, e;

	if (base != NULL && trace_shared == NULL)
		trace_shared = sharedtable_new(base, active_port, DIVERT_MARK,
		    (uint64_t)lifetime_s * 1000 + TRACE_ELEM_MARGIN_MS);
	r = privops_cleanup_stale(&removed);
	e = errno;
	if (r == 0) {
		if (removed > 0)
			log_info("removed %u stale ftpath nftables table(s) and "
			    "policy route(s) of an earlier run", removed);
		else
			log_debug("no stale ftpath nftables tables or policy "
			    "routes");
		return;
	}
	if (e == EPERM || e == EACCES || r == FTP_ERR_DENIED) {
		trace_nft_unusable = 1;
		snprintf(trace_nft_reason, sizeof(trace_nft_reason),
		    "nftables not usable by the reflector (%s: no "
		    "CAP_NET_ADMIN)", e == EACCES ? "EACCES" : "EPERM");
		log_warnx("%s: no stale-table cleanup, sessions run without "
		    "the server-side trace", trace_nft_reason);
		return;
	}
	/* Something else (a kernel without nf_tables, a transient error):
	 * say so, and let each session try and report its own reason. */
	errno = e;
	log_warnx("stale nftables cleanup failed: %s", ftp_strerror(r));
}

void
trace_shutdown(void)
{
	sharedtable_free(trace_shared);
	trace_shared = NULL;
}

void
trace_set_incomplete(struct trace *t, const char *reason)
{
	fw_session_set_incomplete(t->s, reason);
}

enum trace_state
trace_state(const struct trace *t)
{
	switch (fw_session_state(t->s)) {
	case FW_SESSION_ON:		return TRACE_ON;
	case FW_SESSION_INCOMPLETE:	return TRACE_INCOMPLETE;
	case FW_SESSION_UNAVAILABLE:	break;
	}
	return TRACE_UNAVAILABLE;
}

const char *
trace_reason(const struct trace *t)
{
	return fw_session_reason(t->s);
}

/* The server role: the probe ports are ours, the peer is the agent. */
static void
trace_spec(struct fw_session_spec *spec, struct portrange pr[2],
    const char *id, const struct sockaddr *peer, uint16_t control_port,
    const struct portrange *passive, uint16_t active_port)
{
	memset(spec, 0, sizeof(*spec));
	spec->role = FW_SESSION_SERVER;
	spec->id = id;
	spec->peer = peer;
	pr[0].lo = pr[0].hi = control_port;
	spec->nports = 1;
	if (passive != NULL)
		pr[spec->nports++] = *passive;
	spec->ports = pr;
	spec->active_port = active_port;
	spec->who = "trace";
}

static struct trace *
trace_wrap(struct fw_session *s, const struct fw_session_spec *spec)
{
	struct trace *t;

	if (s == NULL)
		return NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		fw_session_free(s);
		return NULL;
	}
	t->s = s;
	memcpy(&t->peer, spec->peer, addr_len(spec->peer));
	t->control_port = spec->ports[0].lo;
	t->active_port = spec->active_port;
	return t;
}

struct trace *
trace_new_detached(const struct sockaddr *peer, uint16_t control_port,
    const struct portrange *passive, uint16_t active_port)
{
	struct fw_session_spec spec;
	struct portrange pr[2];

	trace_spec(&spec, pr, NULL, peer, control_port, passive, active_port);
	return trace_wrap(fw_session_new_detached(&spec), &spec);
}

void
trace_feed(struct trace *t, const struct fw_trace_event *ev)
{
	fw_session_feed(t->s, ev);
}

/* A session of the shared table: its records are fed by the one
 * listener, its ports are elements of the shared sets. */
static struct trace *
trace_new_shared(const struct fw_session_spec *spec,
    const struct sockaddr *to)
{
	struct trace *t;
	char why[200];
	int r;

	t = trace_wrap(fw_session_new_fed(spec, sharedtable_drain,
	    trace_shared), spec);
	if (t == NULL)
		return NULL;
	r = sharedtable_arm(trace_shared, t->s, spec->peer, spec->ports,
	    spec->nports, spec->active_port != 0, to, &t->sub, why,
	    sizeof(why));
	if (r != 0) {
		t->conflict = r == FTP_ERR_AGAIN;
		fw_session_set_unavailable(t->s, why);
		log_warnx("trace %s: %s; the session runs without it",
		    spec->id, why);
	}
	return t;
}

struct trace *
trace_new_diverting(struct event_base *base, const char *id,
    const struct sockaddr *peer, uint16_t control_port,
    const struct portrange *passive, uint16_t active_port,
    const struct sockaddr *to, uint32_t mark)
{
	struct fw_session_spec spec;
	struct portrange pr[2];

	trace_spec(&spec, pr, id, peer, control_port, passive, active_port);
	spec.tproxy_to = to;
	spec.tproxy_mark = mark;
	/* Learned at start-up: do not fail the same way every session. */
	if (trace_nft_unusable)
		spec.unusable = trace_nft_reason;
	if (trace_nft_unusable || trace_shared == NULL)
		return trace_wrap(fw_session_new(base, &spec), &spec);
	return trace_new_shared(&spec, to);
}

struct trace *
trace_new(struct event_base *base, const char *id,
    const struct sockaddr *peer, uint16_t control_port,
    const struct portrange *passive, uint16_t active_port)
{
	return trace_new_diverting(base, id, peer, control_port, passive,
	    active_port, NULL, 0);
}

void
trace_set_fixreq(struct trace *t, const struct fixgen_req *req)
{
	if (t != NULL && req != NULL)
		t->fixreq = *req;
}

int
trace_conflict(const struct trace *t)
{
	return t != NULL && t->conflict;
}

int
trace_nft_usable(void)
{
	return !trace_nft_unusable;
}

void
trace_free(struct trace *t)
{
	if (t == NULL)
		return;
	/* The elements first: no packet is diverted to a closed listener. */
	sharedtable_disarm(trace_shared, t->sub);
	fw_session_free(t->s);
	free(t);
}

/* ---- observations ---- */

static json_t *
trace_verdict_json(const struct trace *t, const struct fw_session_port *p)
{
	const struct fw_session_rule *r;
	const char *fam;
	json_t *o;
	int reject;

	if (p->rule < 0 || (r = fw_session_rule_at(t->s, p->rule)) == NULL)
		return json_null();
	if ((o = json_object()) == NULL)
		return NULL;
	fam = fw_family_name(r->family);
	reject = r->text != NULL && strstr(r->text, "reject") != NULL;
	json_object_set_new(o, "family", fam != NULL ? json_string(fam) :
	    json_null());
	json_object_set_new(o, "table", json_string(r->table));
	json_object_set_new(o, "chain", json_string(r->chain));
	json_object_set_new(o, "handle", r->has_handle ?
	    json_integer((json_int_t)r->handle) : json_null());
	json_object_set_new(o, "verdict", json_string(reject ? "reject" :
	    "drop"));
	if (!r->has_handle)
		json_object_set_new(o, "rule", json_string("policy drop"));
	else
		json_object_set_new(o, "rule", r->text != NULL ?
		    json_string(r->text) : json_null());
	json_object_set_new(o, "direction", json_string(
	    p->rule_dir == FW_SESSION_OUT ? "out" : "in"));
	return o;
}

/* The checked fix for the rule that dropped p's packets (fixgen.h), or
 * json_null() when none did; NULL on no memory. */
static json_t *
trace_fix_json(const struct trace *t, const struct fw_session_port *p,
    enum patch_path path, uint16_t lo, uint16_t hi)
{
	const struct fw_session_rule *r;
	struct fixgen_rule fr;

	if (p->rule < 0 || (r = fw_session_rule_at(t->s, p->rule)) == NULL ||
	    fw_family_name(r->family) == NULL)
		return json_null();
	memset(&fr, 0, sizeof(fr));
	fr.family = fw_family_name(r->family);
	fr.table = r->table;
	fr.chain = r->chain;
	fr.has_handle = r->has_handle;
	fr.handle = r->handle;
	fr.reject = r->text != NULL && strstr(r->text, "reject") != NULL;
	fr.outbound = p->rule_dir == FW_SESSION_OUT;
	fr.related = r->related;
	return fixgen_json(&fr, path, lo, hi, (const struct sockaddr *)
	    &t->peer, t->control_port, t->active_port ? t->active_port : 20,
	    &t->fixreq);
}

static int
trace_same(const struct fw_session_port *a, const struct fw_session_port *b)
{
	return a->in_seen == b->in_seen &&
	    (a->out_seen && !a->out_dropped) ==
	    (b->out_seen && !b->out_dropped) &&
	    a->rule == b->rule && (a->rule < 0 || a->rule_dir == b->rule_dir);
}

static json_t *
trace_run_json(const struct trace *t, const struct fw_session_port *lo,
    const struct fw_session_port *hi)
{
	char range[16];
	json_t *o, *v;

	if (lo->port == hi->port)
		snprintf(range, sizeof(range), "%u", lo->port);
	else
		snprintf(range, sizeof(range), "%u-%u", lo->port, hi->port);
	if ((o = json_object()) == NULL)
		return NULL;
	if ((v = trace_verdict_json(t, lo)) == NULL) {
		json_decref(o);
		return NULL;
	}
	json_object_set_new(o, "ports", json_string(range));
	json_object_set_new(o, "syn_seen", json_boolean(lo->in_seen));
	json_object_set_new(o, "synack_sent", json_boolean(lo->out_seen &&
	    !lo->out_dropped));
	json_object_set_new(o, "verdict", v);
	if (lo->rule >= 0 && json_object_set_new(o, "fix", trace_fix_json(t,
	    lo, lo->port == t->control_port ? PATCH_PATH_CONTROL :
	    PATCH_PATH_PASSIVE, lo->port, hi->port)) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Append one run within the byte budget; 1 if it did not fit. */
static int
trace_append_run(const struct trace *t, json_t *runs, size_t lo, size_t hi,
    size_t *used)
{
	json_t *o;
	size_t sz;

	if ((o = trace_run_json(t, fw_session_port_at(t->s, lo),
	    fw_session_port_at(t->s, hi))) == NULL)
		return FTP_ERR_NOMEM;
	sz = json_dumpb(o, NULL, 0, JSON_COMPACT) + 1;
	if (*used + sz > TRACE_JSON_MAX) {
		json_decref(o);
		return 1;
	}
	*used += sz;
	return json_array_append_new(runs, o) == 0 ? 0 : FTP_ERR_NOMEM;
}

/* Which ports some probe arrived on (a bitmap over all ports). */
static uint8_t *
trace_arrived_map(const struct listener_set *ls)
{
	uint8_t *map;
	size_t i, n;

	if ((map = calloc(65536 / 8, 1)) == NULL)
		return NULL;
	n = ls != NULL ? listener_set_narrivals(ls) : 0;
	for (i = 0; i < n; i++) {
		uint16_t port = addr_port((const struct sockaddr *)
		    &listener_set_arrival(ls, i)->local);

		map[port / 8] |= (uint8_t)(1u << (port % 8));
	}
	return map;
}

static int
trace_runs(const struct trace *t, const uint8_t *arrived, json_t *runs,
    size_t *used, int *truncated)
{
	size_t i, lo = 0, n = fw_session_nports(t->s);
	int have = 0, r;

	for (i = 0; i < n; i++) {
		const struct fw_session_port *p = fw_session_port_at(t->s, i);
		uint16_t port = p->port;
		int skip = (arrived[port / 8] >> (port % 8)) & 1;

		if (have && !skip &&
		    fw_session_port_at(t->s, i - 1)->port + 1 == port &&
		    trace_same(fw_session_port_at(t->s, lo), p))
			continue;
		if (have && (r = trace_append_run(t, runs, lo, i - 1,
		    used)) != 0)
			goto stop;
		have = !skip;
		lo = i;
	}
	if (have && (r = trace_append_run(t, runs, lo, n - 1, used)) != 0)
		goto stop;
	return 0;
stop:
	if (r == 1)
		*truncated = 1;
	return r < 0 ? r : 0;
}

int
trace_observations(struct trace *t, const struct listener_set *ls,
    json_t *obs, size_t *bytes)
{
	json_t *st, *runs;
	uint8_t *arrived = NULL;
	size_t used = 0;
	int truncated = 0, r = FTP_ERR_NOMEM;

	*bytes = 0;
	if ((st = json_object()) == NULL)
		return FTP_ERR_NOMEM;
	if (json_object_set_new(obs, "trace", st) != 0)
		return FTP_ERR_NOMEM;
	if ((runs = json_array()) == NULL ||
	    json_object_set_new(obs, "traces", runs) != 0)
		return FTP_ERR_NOMEM;
	if (t == NULL) {
		json_object_set_new(st, "state", json_string("unavailable"));
		json_object_set_new(st, "reason", json_string(
		    "no plan armed, or no memory for a trace"));
		json_object_set_new(obs, "traces_truncated", json_false());
		goto size;
	}
	/* Events still queued belong to probes that already ended; then
	 * the text of every dropping rule. */
	fw_session_collect(t->s);
	json_object_set_new(st, "state", json_string(trace_state_name(
	    trace_state(t))));
	json_object_set_new(st, "reason", trace_reason(t) != NULL ?
	    json_string(trace_reason(t)) : json_null());
	if (trace_state(t) != TRACE_UNAVAILABLE) {
		if ((arrived = trace_arrived_map(ls)) == NULL)
			goto out;
		if ((r = trace_runs(t, arrived, runs, &used, &truncated)) != 0)
			goto out;
	}
	json_object_set_new(obs, "traces_truncated", json_boolean(truncated));
size:
	*bytes = json_dumpb(st, NULL, 0, JSON_COMPACT) + used + 64;
	r = 0;
out:
	free(arrived);
	return r;
}

/* ---- the connect-back ---- */

/* "trace" {state, reason} of t (NULL: no plan armed) into msg. */
static int
trace_state_json(const struct trace *t, json_t *msg)
{
	json_t *st;

	if ((st = json_object()) == NULL ||
	    json_object_set_new(msg, "trace", st) != 0)
		return FTP_ERR_NOMEM;
	if (t == NULL) {
		json_object_set_new(st, "state", json_string("unavailable"));
		json_object_set_new(st, "reason", json_string(
		    "no plan armed, or no memory for a trace"));
		return 0;
	}
	json_object_set_new(st, "state", json_string(trace_state_name(
	    trace_state(t))));
	json_object_set_new(st, "reason", trace_reason(t) != NULL ?
	    json_string(trace_reason(t)) : json_null());
	return 0;
}

int
trace_connectback(struct trace *t, uint16_t peer_port, json_t *msg)
{
	const struct fw_session_port *p = NULL;
	json_t *rec, *v;

	/* The connection just ended: its events may still be queued. */
	if (t != NULL)
		fw_session_collect(t->s);
	if (trace_state_json(t, msg) != 0)
		return FTP_ERR_NOMEM;
	if (t != NULL && trace_state(t) != TRACE_UNAVAILABLE)
		p = fw_session_connectback(t->s, peer_port);
	if (p == NULL)
		return json_object_set_new(msg, "record", json_null()) == 0 ?
		    0 : FTP_ERR_NOMEM;
	if ((rec = json_object()) == NULL)
		return FTP_ERR_NOMEM;
	if ((v = trace_verdict_json(t, p)) == NULL) {
		json_decref(rec);
		return FTP_ERR_NOMEM;
	}
	/* Per packet: a SYN that got out although an earlier one was
	 * dropped (a retransmission after a rule change) still left. */
	json_object_set_new(rec, "syn_sent", json_boolean(p->out_pkts >
	    p->out_drops));
	json_object_set_new(rec, "verdict", v);
	if (p->rule >= 0 && json_object_set_new(rec, "fix", trace_fix_json(t,
	    p, PATCH_PATH_ACTIVE, 0, 0)) != 0) {
		json_decref(rec);
		return FTP_ERR_NOMEM;
	}
	return json_object_set_new(msg, "record", rec) == 0 ? 0 :
	    FTP_ERR_NOMEM;
}
