/*
 * ctrace.c - the agent host's nftables trace (see ctrace.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "copypool.h"
#include "ctrace.h"
#include "fw.h"
#include "fw_session.h"
#include "fw_trace.h"
#include "log.h"

/* control, passive, active source */
#define CTRACE_RANGES	3

struct ctrace {
	struct fw_session	*s;
	int			 collected;
	uint16_t		 active_port;
	struct copypool		*kept;	/* the reasons and rules applied */
};

static void
ctrace_spec(struct fw_session_spec *spec, struct portrange *pr,
    const char *id, const struct sockaddr *server, uint16_t control_port,
    const struct portrange *passive, uint16_t active_port)
{
	memset(spec, 0, sizeof(*spec));
	spec->role = FW_SESSION_CLIENT;
	spec->id = id;
	spec->peer = server;
	spec->who = "ctrace";
	pr[0].lo = pr[0].hi = control_port;
	spec->nports = 1;
	if (passive != NULL && passive->lo != 0)
		pr[spec->nports++] = *passive;
	if (active_port != 0) {
		pr[spec->nports].lo = pr[spec->nports].hi = active_port;
		spec->nports++;
	}
	spec->ports = pr;
}

static struct ctrace *
ctrace_wrap(struct fw_session *s, uint16_t active_port)
{
	struct ctrace *ct;

	if (s == NULL || (ct = calloc(1, sizeof(*ct))) == NULL) {
		fw_session_free(s);
		return NULL;
	}
	if ((ct->kept = copypool_new()) == NULL) {
		fw_session_free(s);
		free(ct);
		return NULL;
	}
	ct->s = s;
	ct->active_port = active_port;
	return ct;
}

struct ctrace *
ctrace_new(struct event_base *base, const char *token,
    const struct sockaddr *server, uint16_t control_port,
    const struct portrange *passive, uint16_t active_port)
{
	struct portrange pr[CTRACE_RANGES];
	struct fw_session_spec spec;
	char id[FW_ID_MAX + 1];

	/* 'z' + 15 hex digits: never the reflector's "ftpath_<token>". */
	snprintf(id, sizeof(id), "z%.*s", FW_ID_MAX - 1, token != NULL ?
	    token : "");
	ctrace_spec(&spec, pr, id, server, control_port, passive,
	    active_port);
	/*
	 * 64 MiB: the first wave of a full passive range traces thousands
	 * of SYNs within milliseconds, more than a default netlink buffer
	 * holds while the loop is busy connecting (ENOBUFS: the trace turned
	 * incomplete).
	 */
	spec.rcvbuf = FW_TRACE_RCVBUF_LARGE;
	return ctrace_wrap(fw_session_new(base, &spec), active_port);
}

struct ctrace *
ctrace_new_detached(const struct sockaddr *server, uint16_t control_port,
    const struct portrange *passive, uint16_t active_port)
{
	struct portrange pr[CTRACE_RANGES];
	struct fw_session_spec spec;

	ctrace_spec(&spec, pr, "zdetached", server, control_port, passive,
	    active_port);
	return ctrace_wrap(fw_session_new_detached(&spec), active_port);
}

const char *
ctrace_unavailable(const struct ctrace *ct)
{
	const char *why;

	if (ct == NULL || fw_session_state(ct->s) != FW_SESSION_UNAVAILABLE)
		return NULL;
	why = fw_session_reason(ct->s);
	return why != NULL ? why : "no reason given";
}

void
ctrace_free(struct ctrace *ct)
{
	if (ct == NULL)
		return;
	fw_session_free(ct->s);
	copypool_free(ct->kept);
	free(ct);
}

void
ctrace_feed(struct ctrace *ct, const struct fw_trace_event *ev)
{
	fw_session_feed(ct->s, ev);
}

void
ctrace_drain(struct ctrace *ct)
{
	if (ct != NULL)
		fw_session_drain(ct->s);
}

void
ctrace_stop(struct ctrace *ct)
{
	if (ct != NULL)
		fw_session_stop(ct->s, "the control channel dropped and the "
		    "agent removed its trace table before every probe ended");
}

static void
ctrace_collect(struct ctrace *ct)
{
	if (ct->collected)
		return;
	ct->collected = 1;
	fw_session_collect(ct->s);
}

static void
ctrace_rule(const struct fw_session_rule *r, int outbound,
    struct probe_rule *out)
{
	const char *fam = fw_family_name(r->family);

	/* all of it, padding too: equal rules are kept once */
	memset(out, 0, sizeof(*out));
	out->has_handle = r->has_handle;
	out->handle = r->handle;
	out->outbound = outbound;
	out->related = r->related;
	snprintf(out->family, sizeof(out->family), "%s", fam != NULL ? fam :
	    "?");
	/* Names beyond the observation's room are cut, as the reflector's
	 * are on the agent's side. */
	snprintf(out->table, sizeof(out->table), "%.*s",
	    (int)sizeof(out->table) - 1, r->table);
	snprintf(out->chain, sizeof(out->chain), "%.*s",
	    (int)sizeof(out->chain) - 1, r->chain);
	/* As the reflector does: the text tells a reject from a drop. */
	snprintf(out->verdict, sizeof(out->verdict), "%s", r->text != NULL &&
	    strstr(r->text, "reject") != NULL ? "reject" : "drop");
	snprintf(out->text, sizeof(out->text), "%.*s",
	    (int)sizeof(out->text) - 1, r->text != NULL ? r->text : "");
}

void
ctrace_apply(struct ctrace *ct, struct probe_obs *o)
{
	const struct fw_session_port *p;
	const struct fw_session_rule *r;
	struct probe_rule rule;
	int active;

	if (ct == NULL)
		return;
	ctrace_collect(ct);
	switch (fw_session_state(ct->s)) {
	case FW_SESSION_ON:		o->ctrace_state = TRACE_OBS_ON; break;
	case FW_SESSION_INCOMPLETE:	o->ctrace_state = TRACE_OBS_INCOMPLETE;
					break;
	case FW_SESSION_UNAVAILABLE:	o->ctrace_state = TRACE_OBS_UNAVAILABLE;
					break;
	}
	/* NULL (none, or out of memory) reads as "no reason given" */
	o->ctrace_reason = copypool_str(ct->kept, fw_session_reason(ct->s));
	o->syn_sent = o->answer_seen = 0;
	o->crule = NULL;
	if (o->ctrace_state == TRACE_OBS_UNAVAILABLE)
		return;
	active = o->kind == PROBE_ACTIVE;
	if (active && (ct->active_port == 0 || o->port != ct->active_port))
		return;
	if ((p = fw_session_find(ct->s, o->port)) == NULL)
		return;
	/* Out is our SYN (control/passive) or our SYN-ACK (active), in the
	 * server's answer or its connect-back SYN: the same counters, read
	 * as verdict.h documents. */
	o->syn_sent = p->out_pkts > p->out_drops;
	o->answer_seen = p->in_pkts > 0;
	if (p->rule < 0 || (r = fw_session_rule_at(ct->s, p->rule)) == NULL)
		return;
	ctrace_rule(r, p->rule_dir == FW_SESSION_OUT, &rule);
	if ((o->crule = copypool_bytes(ct->kept, &rule, sizeof(rule))) == NULL)
		log_warnx("out of memory keeping a rule the trace named");
}

void
ctrace_merge(struct ctrace *ct, struct probe_engine *pe)
{
	size_t i;

	if (ct == NULL)
		return;
	for (i = 0; i < probe_count(pe); i++)
		ctrace_apply(ct, probe_obs_at(pe, i));
}
