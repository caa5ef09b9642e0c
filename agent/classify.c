/*
 * classify.c - every verdict and cause of a check, from all its evidence
 * at once (classify.h): the driver, which runs the rules in order.
 *
 * The per-path rules (verdict.c) see one probe; the rules after them
 * see the probe next to what later stages observed about the same path,
 * so a later observation can correct an early impression instead of
 * being patched onto it.  Each rule that overturns the per-path verdict
 * keeps the evidence it overturns, so the reader can check the
 * reasoning.  The order matters, because a rule reads the verdict the
 * ones before it left:
 *
 *  1. before the paths: the server host (its dns-mismatch rule is a
 *     path rule), the real FTP client's data connections, the MTU test;
 *  2. each control and passive path: late ICMP and the trace's scope,
 *     the per-path rules, dns-mismatch, the traceroute, silent drop or
 *     gap, the real FTP client, the MTU black hole, the fixes its cause
 *     answers, the security groups' runs; then the active path: the
 *     per-path rules, the ALG's pinhole or the client's transfer, the
 *     MTU black hole, the fixes, the runs;
 *  3. outside the paths, in the order reported: the fixes, the notes,
 *     the ALG, the service, FTPS, the server host, NAT, the channel,
 *     the MTU, idle, the security groups.
 *
 * The rules live in classify_trace.c, classify_helper.c,
 * classify_session.c, classify_server.c and classify_sg.c; the
 * sentences and fixes in classify_ev.c (classify_int.h).
 */
#include <stdio.h>
#include <string.h>

#include "classify.h"
#include "classify_int.h"
#include "err.h"
#include "mtu.h"
#include "srvcheck.h"

/* ---- control and passive paths ---- */

static int
classify_path(struct classify_ctx *c, const struct probe_obs *raw)
{
	const struct evidence *e = c->e;
	const struct evidence_late_icmp *late;
	const struct evidence_trace *g;
	struct probe_obs copy;
	int own = 0;
	const struct probe_obs *o;
	char line[VERDICT_EVIDENCE_LEN], scope[VERDICT_EVIDENCE_LEN];
	struct verdict v;

	o = classify_late_icmp(e, raw, &copy, &late, &own);
	o = classify_trace_scope(e->f, o, &copy, scope, sizeof(scope));
	verdict_classify(o, e->f, &v);
	if (late != NULL)
		classify_late_evidence(late, own, &v);
	if (v.cause == CAUSE_SERVICE_REFUSED && c->refused[0] == '\0')
		snprintf(c->refused, sizeof(c->refused), "%.*s",
		    (int)sizeof(o->banner), o->banner);
	/* The path to an address that is not the server's says nothing
	 * about the server's paths: the name is the fault. */
	if (!v.pass && srvcheck_dns_evidence(e->sc, &c->sres, line,
	    sizeof(line))) {
		v.cause = CAUSE_DNS_MISMATCH;
		classify_ev_push(&v, VERDICT_STAGE_AGENT, "%s", line);
	}
	g = classify_trace(e, raw, &v);
	classify_silent_drop(e->f, raw, &v);
	classify_passive_service(c, raw, &v);
	classify_mtu_path(c, raw, &v);
	classify_mark_fixes(c, raw, &v);
	if (classify_sg_measure(&c->sgm, raw, &v) != 0)
		return FTP_ERR_NOMEM;
	if (g == NULL)
		return report_add(c->rep, raw, &v);
	return report_add_traced(c->rep, raw, &v, &g->path);
}

/* ---- the active path ---- */

static int
classify_active(struct classify_ctx *c)
{
	const struct probe_obs *o = c->e->active;
	struct verdict v;

	if (o == NULL)
		return 0;
	verdict_classify(o, c->e->f, &v);
	classify_active_helper(c, o, &v);
	classify_mtu_path(c, o, &v);
	classify_mark_fixes(c, o, &v);
	if (classify_sg_measure(&c->sgm, o, &v) != 0)
		return FTP_ERR_NOMEM;
	return report_add(c->rep, o, &v);
}

static int
classify_paths(struct classify_ctx *c)
{
	size_t i;
	int r;

	for (i = 0; i < c->e->n_probes; i++) {
		/* An untested path is neither a pass nor a failure of the
		 * network: it is counted in a note, not given a verdict. */
		if (c->e->probes[i].outcome == OUTCOME_NOT_RUN)
			continue;
		if ((r = classify_path(c, &c->e->probes[i])) != 0)
			return r;
	}
	return classify_active(c);
}

struct report *
classify(const struct evidence *e)
{
	struct classify_ctx c;

	memset(&c, 0, sizeof(c));
	c.e = e;
	if ((c.rep = report_new(e->f, e->agent_version, e->reflector_version,
	    e->server_name)) == NULL)
		return NULL;
	classify_decide_server_host(&c);
	classify_index_service(&c);
	if (e->mtu != NULL)
		mtu_decide(e->mtu, &c.mres);
	if (classify_paths(&c) != 0 || classify_fixes(&c) != 0 ||
	    classify_notes(&c) != 0 ||
	    classify_alg(&c) != 0 || classify_service(&c) != 0 ||
	    classify_ftps(&c) != 0 ||
	    classify_server_host(&c) != 0 || classify_nat(&c) != 0 ||
	    classify_channel(&c) != 0 || classify_mtu(&c) != 0 ||
	    classify_idle(&c) != 0 || classify_sg(e, &c.sgm, c.rep) != 0) {
		classify_sg_free(&c.sgm);
		report_free(c.rep);
		return NULL;
	}
	classify_sg_free(&c.sgm);
	report_set_duration(c.rep, e->duration_ms);
	return c.rep;
}
