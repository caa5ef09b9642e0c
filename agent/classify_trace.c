/*
 * classify_trace.c - what the traces, late ICMP and the TCP traceroute
 * say about one path (classify_int.h).  Part of the one classifier: the
 * driver runs these around the per-path rules of verdict.c, so a later
 * observation of the same path corrects the probe's first impression.
 */
#include <stdio.h>

#include "addr.h"
#include "classify.h"
#include "classify_int.h"

/* ---- trace planning (an observation-only question) ---- */

static int
path_cause(enum cause c)
{
	return c == CAUSE_PATH_SILENT_DROP || c == CAUSE_ROUTING_GAP ||
	    c == CAUSE_PATH_REJECT;
}

static int
trace_outcome(const struct probe_obs *o)
{
	return o->kind != PROBE_ACTIVE && (o->outcome == OUTCOME_TIMEOUT ||
	    o->outcome == OUTCOME_ICMP || o->outcome == OUTCOME_RESET);
}

/* v is the per-path verdict of o: the path failed before the server
 * host, or nothing says it got there. */
static int
trace_wanted(const struct probe_obs *o, const struct verdict *v)
{
	if (v->pass || !trace_outcome(o))
		return 0;
	if (path_cause(v->cause))
		return 1;
	return v->cause == CAUSE_NONE && !o->arrived &&
	    !(o->trace_record && o->syn_seen);
}

int
classify_wants_trace(const struct probe_obs *o, const struct session_facts *f)
{
	struct verdict v;

	verdict_classify(o, f, &v);
	return trace_wanted(o, &v);
}

/* ---- what the server's trace could see ---- */

/*
 * The reflector traces (and diverts) what comes from the agent's address
 * as it observed it on the control channel.  A probe that left from an
 * address of the other family (a dual-stack deployment: the channel over
 * IPv4, the FTP service address IPv6) was invisible to it: its "no trace
 * event" proves nothing, so the server's trace is unavailable for it,
 * and a port armed for the other address says nothing either.
 */
const struct probe_obs *
classify_trace_scope(const struct session_facts *f,
    const struct probe_obs *o, struct probe_obs *copy, char *reason,
    size_t len)
{
	char a[ADDR_STRLEN];

	if (o->kind == PROBE_ACTIVE || o->local.ss_family == AF_UNSPEC ||
	    f->agent_observed.ss_family == AF_UNSPEC ||
	    o->local.ss_family == f->agent_observed.ss_family ||
	    o->trace_state == TRACE_OBS_NONE ||
	    o->trace_state == TRACE_OBS_UNAVAILABLE)
		return o;
	if (copy != o)
		*copy = *o;
	copy->trace_state = TRACE_OBS_UNAVAILABLE;
	copy->trace_record = 0;
	copy->rule = NULL;
	/* nor did it divert or bind for that source: its arming says
	 * nothing about this probe */
	if (!copy->arrived)
		copy->arm = ARM_UNKNOWN;
	snprintf(reason, len, "it follows the agent's address seen on the "
	    "control channel (%s), not this probe's other-family source",
	    addr_text(ADDR_SA(&f->agent_observed), 0, a, sizeof(a)));
	copy->trace_reason = reason;
	return copy;
}

/* ---- late ICMP ---- */

/*
 * A probe judged silent whose socket later got ICMP: the ICMP is its
 * answer (a router that gives up neighbour resolution answers after
 * about 3 s).  The per-path rules then see it as they see prompt ICMP.
 */
const struct probe_obs *
classify_late_icmp(const struct evidence *e, const struct probe_obs *o,
    struct probe_obs *copy, const struct evidence_late_icmp **late, int *own)
{
	*late = NULL;
	if (o->outcome != OUTCOME_TIMEOUT || o->arrived ||
	    (*late = evidence_late_for(e, o, own)) == NULL)
		return o;
	*copy = *o;
	copy->outcome = OUTCOME_ICMP;
	copy->icmp = (*late)->icmp;
	return copy;
}

void
classify_late_evidence(const struct evidence_late_icmp *late, int own,
    struct verdict *v)
{
	char d[96], a[ADDR_STRLEN];

	errq_describe(&late->icmp, d, sizeof(d));
	classify_ev_push(v, VERDICT_STAGE_PATH, "the ICMP (%s from %s) came "
	    "after the probe's timeout, within %u ms of the SYN: a router "
	    "that answers only when it gives up (neighbour resolution takes "
	    "about 3 s)",
	    d, addr_text(ADDR_SA(&late->icmp.from), 0, a, sizeof(a)),
	    late->after_ms);
	if (!own)
		classify_ev_push(v, VERDICT_STAGE_PATH, "that ICMP answered "
		    "the probe to port %u of the same address: unreachable "
		    "is about the address, and routers rate-limit ICMP",
		    late->port);
}

/* ---- traceroute ---- */

/*
 * The hop list as path evidence, and the last hop that answered as the
 * hop when the ICMP evidence named none.  A trace that got an answer in
 * the server's name names no hop: it never claims a death it did not
 * see.  Returns 1 when the trace completed a handshake on the probe's
 * own 5-tuple.
 */
static int
trace_apply(const struct probe_obs *o, const struct evidence_trace *g,
    struct verdict *v)
{
	const struct traceroute_path *p = &g->path;
	const struct traceroute_hop *ans = traceroute_last_answered(p);
	const struct traceroute_hop *end = traceroute_reached(p);
	char label[96], line[VERDICT_EVIDENCE_LEN], a[ADDR_STRLEN];

	if (p->n == 0)
		return 0;
	if (g->first.port != o->port || !p->same_tuple)
		snprintf(label, sizeof(label), "hops (traced on port %u%s)",
		    g->first.port, p->same_tuple ? "" : " from another source "
		    "port: the probe's was taken");
	else
		snprintf(label, sizeof(label), "hops");
	classify_ev_push(v, VERDICT_STAGE_PATH, "%s", traceroute_format(p,
	    label, line, sizeof(line)));
	/* The probes' own ICMP came from that router: its silence at the
	 * next TTL is its rate limit, not a drop. */
	if (p->hop[p->n - 1].result == TRACEROUTE_SILENT && ans != NULL &&
	    o->icmp.present && addr_equal((const struct sockaddr *)&ans->from,
	    (const struct sockaddr *)&o->icmp.from))
		classify_ev_push(v, VERDICT_STAGE_PATH, "TTL %u got no "
		    "answer, but the probes got ICMP from %s: routers "
		    "rate-limit ICMP, so that silence proves no drop",
		    p->hop[p->n - 1].ttl,
		    addr_text(ADDR_SA(&ans->from), 0, a, sizeof(a)));
	if (v->hop[0] == '\0' && ans != NULL &&
	    (end == NULL || v->cause == CAUSE_PATH_REJECT))
		addr_text(ADDR_SA(&ans->from), 0, v->hop, sizeof(v->hop));
	/* Got through on the probe's own 5-tuple, or on its run's traced
	 * port: either contradicts a drop of this observation. */
	return end != NULL && end->result == TRACEROUTE_CONNECTED &&
	    p->same_tuple;
}

/* A handshake on the same 5-tuple completed after the probe and its
 * confirmation failed: no path cause can stand. */
static void
intermittent(const struct probe_obs *o, const struct evidence_trace *g,
    struct verdict *v)
{
	const struct traceroute_hop *end = traceroute_reached(&g->path);

	v->cause = CAUSE_NONE;
	v->hop[0] = '\0';
	classify_ev_push(v, VERDICT_STAGE_PATH, "intermittent: the SYN "
	    "failed %s, then the traceroute's SYN on %s completed a handshake "
	    "at TTL %u; no cause is named for a path that works sometimes",
	    o->confirm_ms ? "twice" : "once", g->first.port == o->port ?
	    "the same 5-tuple" : "the same path (this run's traced port)",
	    end != NULL ? end->ttl : 0);
}

/* Only a failure that wanted a trace reads one; a handshake the trace
 * completed on the same 5-tuple overturns a path cause. */
const struct evidence_trace *
classify_trace(const struct evidence *e, const struct probe_obs *o,
    struct verdict *v)
{
	const struct evidence_trace *g;

	if (!trace_wanted(o, v) || (g = evidence_trace_for(e, o)) == NULL)
		return NULL;
	if (trace_apply(o, g, v) && path_cause(v->cause))
		intermittent(o, g, v);
	return g;
}

/*
 * A silent drop and a routing gap whose router sends no ICMP look alike
 * at the port.  The control channel tells them apart when it reached the
 * same address: the route is there, so a filter keyed on these ports
 * drops them.  Otherwise the alternative is named.
 */
void
classify_silent_drop(const struct session_facts *f, const struct probe_obs *o,
    struct verdict *v)
{
	char a[ADDR_STRLEN];

	if (v->pass || v->cause != CAUSE_PATH_SILENT_DROP)
		return;
	if (addr_equal((const struct sockaddr *)&o->remote,
	    (const struct sockaddr *)&f->dialled))
		classify_ev_push(v, VERDICT_STAGE_PATH, "the control "
		    "channel reaches this same address on port %u: the "
		    "route is there, so a filter drops these ports, not a "
		    "routing gap",
		    addr_port((const struct sockaddr *)&f->dialled));
	else
		classify_ev_push(v, VERDICT_STAGE_PATH, "alternative: a "
		    "router with no route to %s that sends no ICMP would "
		    "look the same (the control channel reached another "
		    "address, so it does not tell)",
		    addr_text(ADDR_SA(&o->remote), 0, a, sizeof(a)));
}
