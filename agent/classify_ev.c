/*
 * classify_ev.c - the sentences a verdict's evidence is made of, and the
 * fixes a cause answers (classify_int.h).  Part of the one classifier:
 * every rule writes through these, so the evidence of each verdict stays
 * bounded and a fix is reported only for the cause it answers.
 */
#include <stdarg.h>
#include <stdio.h>

#include "classify_int.h"

/* One more sentence; the last one is overwritten when full, because the
 * rule adding it says why the sentences above do not decide. */
void
classify_ev_push(struct verdict *v, enum verdict_stage st,
    const char *fmt, ...)
{
	unsigned i = v->n_evidence < VERDICT_MAX_EVIDENCE ? v->n_evidence++ :
	    VERDICT_MAX_EVIDENCE - 1;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->evidence[i], VERDICT_EVIDENCE_LEN, fmt, ap);
	va_end(ap);
	v->stage[i] = (unsigned char)st;
}

/* The first sentence of v at stage st (or any), for a rule that quotes
 * what it overturns. */
const char *
classify_ev_first(const struct verdict *v, enum verdict_stage st)
{
	unsigned i;

	for (i = 0; i < v->n_evidence; i++)
		if (v->stage[i] == st)
			return v->evidence[i];
	return v->n_evidence > 0 ? v->evidence[0] : "the probe failed";
}

/* A patch answers a path whose cause is that host's own rule: the
 * server's for server-local-rule, ours for client-local-rule. */
void
classify_mark_fixes(struct classify_ctx *c, const struct probe_obs *o,
    const struct verdict *v)
{
	size_t i, n = c->e->n_fixes < CLASSIFY_MAX_FIXES ? c->e->n_fixes :
	    CLASSIFY_MAX_FIXES;

	if (v->pass || (v->cause != CAUSE_SERVER_LOCAL_RULE &&
	    v->cause != CAUSE_CLIENT_LOCAL_RULE))
		return;
	for (i = 0; i < n; i++) {
		const struct evidence_fix *f = &c->e->fixes[i];

		if (f->server == (v->cause == CAUSE_SERVER_LOCAL_RULE) &&
		    f->kind == o->kind && (o->kind == PROBE_ACTIVE ||
		    (f->lo <= o->port && o->port <= f->hi)))
			c->fix_cause[i] = v->cause;
	}
}

int
classify_fixes(struct classify_ctx *c)
{
	size_t i, n = c->e->n_fixes < CLASSIFY_MAX_FIXES ? c->e->n_fixes :
	    CLASSIFY_MAX_FIXES;
	int r;

	for (i = 0; i < n; i++)
		if (c->fix_cause[i] != CAUSE_NONE && (r = report_add_fix(
		    c->rep, c->fix_cause[i], &c->e->fixes[i])) != 0)
			return r;
	return 0;
}
