/*
 * verdict_in.c - the rules for the active connect-back (the reflector
 * connects to the agent from port 20): the server host's trace of it and
 * each outcome at the agent's listener (see verdict.c for the principle).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "errq.h"
#include "verdict_int.h"

/* ---- active: the reflector connects back from port 20 ---- */

/*
 * The server host's own trace of the connect-back (active-result.record).
 * A path cause for the connect-back needs it as the control and passive
 * probes need the agent host's: a rule in the server's output chain
 * drops the SYN as silently as the path, and connect() does not fail.
 * Only a complete trace clears the server host: an incomplete one may
 * have lost the drop event of the SYN it saw leave.
 */
static int
cb_left_server(const struct probe_obs *o)
{
	return o->trace_state == TRACE_OBS_ON && o->trace_record &&
	    o->cb_syn_sent;
}

/* A rule on the server host dropped the connect-back and no SYN of it
 * got out.  A drop event is positive evidence even in an incomplete
 * trace. */
static int
cb_server_dropped(const struct probe_obs *o)
{
	if ((o->trace_state != TRACE_OBS_ON &&
	    o->trace_state != TRACE_OBS_INCOMPLETE) || !o->trace_record ||
	    !o->rule || o->cb_syn_sent || o->arrived)
		return 0;
	switch (o->outcome) {
	case OUTCOME_TIMEOUT:
	case OUTCOME_RESET:
	case OUTCOME_ICMP:
	case OUTCOME_LOCAL_ERROR:
		return 1;
	default:
		return 0;
	}
}

static void
cb_server_rule(struct vctx *c)
{
	const struct probe_obs *o = c->o;
	char rule[512], clause[160];

	vc_fail(c->v, CAUSE_SERVER_LOCAL_RULE);
	if (o->outcome == OUTCOME_LOCAL_ERROR)
		snprintf(clause, sizeof(clause), "failed on the server host "
		    "(%s)", vc_errno_name(o->error));
	else
		vc_in_failure_clause(c, clause, sizeof(clause));
	vc_ev_add(c->v, VERDICT_STAGE_SERVER, "the connect-back from %s to %s %s",
	    c->src, c->dst, clause);
	vc_trace_rule_text(o->rule, rule, sizeof(rule));
	vc_ev_add(c->v, VERDICT_STAGE_SERVER, "the connect-back SYN from %s was "
	    "%s on the server host by rule '%s' (the server host's nftables "
	    "trace: no SYN of it left)", c->src, vc_rule_verb(o->rule), rule);
}

/* Why the server's trace cannot clear the server host for the
 * connect-back; nothing when it does. */
static void
cb_trace_missing(struct vctx *c)
{
	const struct probe_obs *o = c->o;
	const char *why = vc_reason(o->trace_reason);

	if (cb_left_server(o))
		return;
	switch (o->trace_state) {
	case TRACE_OBS_NONE:
		vc_ev_add(c->v, VERDICT_STAGE_SERVER, "the reflector sent no trace "
		    "of the connect-back, so whether its SYN left the server "
		    "host (a rule in its output chain drops it as silently as "
		    "the path) is not known");
		break;
	case TRACE_OBS_UNAVAILABLE:
		vc_ev_add(c->v, VERDICT_STAGE_SERVER, "no nftables trace at the "
		    "server (%s), so whether the connect-back SYN left the "
		    "server host is not known", why);
		break;
	case TRACE_OBS_INCOMPLETE:
		vc_ev_add(c->v, VERDICT_STAGE_SERVER, "the nftables trace at the "
		    "server is incomplete (%s): that it names no rule dropping "
		    "the connect-back proves nothing", why);
		break;
	default:
		vc_ev_add(c->v, VERDICT_STAGE_SERVER, "the server's nftables trace "
		    "saw no connect-back SYN leave the server host");
		break;
	}
}

static void
in_acked(struct vctx *c)
{
	const struct probe_obs *o = c->o;
	const struct sockaddr *seen = (const struct sockaddr *)&o->seen_peer;
	const struct sockaddr *used = (const struct sockaddr *)&o->local;
	char s[ADDR_STRLEN];

	if (!o->arrived) {
		vc_fail(c->v, CAUSE_NONE);
		vc_ev_add(c->v, VERDICT_STAGE_SERVER, "the reflector reports an "
		    "acknowledged connect-back from %s to %s", c->src, c->dst);
		vc_ev_add(c->v, VERDICT_STAGE_AGENT, "the agent's listener "
		    "recorded no such connection, so something else answered");
		return;
	}
	c->v->pass = 1;
	vc_ev_add(c->v, VERDICT_STAGE_AGENT, "the connect-back from %s to %s "
	    "reached the agent's listener and was acknowledged in %u ms",
	    c->src, c->dst, o->elapsed_ms);
	if (!addr_is_inet(ADDR_SA(&o->seen_peer)))
		return;
	if (addr_port(seen) != o->port)
		vc_ev_add(c->v, VERDICT_STAGE_PATH, "source port %u rewritten to "
		    "%u (NAT on the server side)", o->port, addr_port(seen));
	if (addr_is_inet(ADDR_SA(&o->local)) && !addr_equal(seen, used))
		vc_ev_add(c->v, VERDICT_STAGE_PATH, "the agent saw the connect-back "
		    "from %s (the reflector used %s): source NAT on the server "
		    "side", vc_ss_text(ADDR_SA(&o->seen_peer), s, sizeof(s)),
		    c->src);
}

/* How the connect-back failed, as a clause for the NAT sentence. */
void
vc_in_failure_clause(const struct vctx *c, char *buf, size_t len)
{
	const struct probe_obs *o = c->o;
	char desc[64], from[ADDR_STRLEN];

	switch (o->outcome) {
	case OUTCOME_ICMP:
		errq_describe(&o->icmp, desc, sizeof(desc));
		snprintf(from, sizeof(from), "an unknown sender");
		if (o->icmp.present && addr_is_inet(ADDR_SA(&o->icmp.from)))
			vc_ip_text(ADDR_SA(&o->icmp.from), from, sizeof(from));
		snprintf(buf, len, "got %s from %s", desc, from);
		break;
	case OUTCOME_RESET:
		snprintf(buf, len, "was answered by a RST");
		break;
	case OUTCOME_OTHER_SERVICE:
		snprintf(buf, len, "reached a service that is not the agent");
		break;
	case OUTCOME_SILENT_PEER:
		snprintf(buf, len, "completed a handshake the agent never saw");
		break;
	default:
		snprintf(buf, len, "got no answer within %u ms", c->ms);
		break;
	}
}

static void
in_nat(struct vctx *c)
{
	char a[ADDR_STRLEN], b[ADDR_STRLEN], clause[160];

	vc_fail(c->v, CAUSE_NAT);
	vc_set_hop(c);
	vc_in_failure_clause(c, clause, sizeof(clause));
	vc_ss_text(ADDR_SA(&c->f->agent_local), a, sizeof(a));
	vc_ss_text(ADDR_SA(&c->f->agent_observed), b, sizeof(b));
	vc_ev_add(c->v, VERDICT_STAGE_AGENT, "the agent is behind source NAT "
	    "(agent %s, seen by the reflector as %s)", a, b);
	vc_ev_add(c->v, VERDICT_STAGE_PATH, "the connect-back from %s to %s %s",
	    c->src, c->dst, clause);
	vc_ev_add(c->v, VERDICT_STAGE_PATH, "active mode through this NAT works "
	    "only with an FTP ALG / port forward");
}

static int
in_agent_listening(const struct probe_obs *o)
{
	return o->arm == ARM_LISTENING || o->arm == ARM_UNKNOWN;
}

static void
in_reset(struct vctx *c)
{
	vc_fail(c->v, CAUSE_NONE);
	if (in_agent_listening(c->o) && !c->o->arrived) {
		vc_ev_add(c->v, VERDICT_STAGE_PATH, "connect-back from %s to %s was "
		    "answered by a RST although the agent was listening and saw "
		    "no connection", c->src, c->dst);
		/* The agent host's complete trace, naming no rule of its
		 * own, leaves the path. */
		if (vc_ctrace_nothing_came(c->o) && cb_left_server(c->o)) {
			c->v->cause = CAUSE_PATH_REJECT;
			vc_ev_add(c->v, VERDICT_STAGE_PATH, "it left the server "
			    "host (its nftables trace) and never reached the "
			    "agent host (its nftables trace): a firewall on "
			    "the path rejected it");
		} else if (vc_ctrace_nothing_came(c->o)) {
			vc_ev_add(c->v, VERDICT_STAGE_PATH, "it never reached the "
			    "agent host (its nftables trace): a firewall on "
			    "the path or on the server host rejected it");
			cb_trace_missing(c);
		} else {
			vc_ev_add(c->v, VERDICT_STAGE_PATH, "a firewall on the path "
			    "or on the agent host rejected it");
		}
		return;
	}
	vc_ev_add(c->v, VERDICT_STAGE_PATH, "connect-back from %s to %s was "
	    "answered by a RST", c->src, c->dst);
	vc_ev_add(c->v, VERDICT_STAGE_AGENT, c->o->arrived ?
	    "the agent's listener recorded the connection, so the RST is "
	    "unexplained" : "the agent's listener was not open, so the RST "
	    "may be the agent host's own");
}

static void
in_timeout(struct vctx *c)
{
	vc_fail(c->v, CAUSE_NONE);
	if (c->o->arrived) {
		c->v->cause = CAUSE_RETURN_PATH;
		vc_ev_add(c->v, VERDICT_STAGE_AGENT, "the agent's listener accepted "
		    "the connect-back from %s to %s", c->src, c->dst);
		vc_ev_add(c->v, VERDICT_STAGE_RETURN, "the agent accepted the "
		    "connection but nothing came back to the reflector within "
		    "%u ms", c->ms);
		return;
	}
	vc_ev_add(c->v, VERDICT_STAGE_SERVER, "connect-back SYN from %s to %s: "
	    "no answer within %u ms and no ICMP", c->src, c->dst, c->ms);
	if (in_agent_listening(c->o) && vc_ctrace_nothing_came(c->o) &&
	    cb_left_server(c->o)) {
		c->v->cause = CAUSE_PATH_SILENT_DROP;
		vc_ev_add(c->v, VERDICT_STAGE_SERVER, "the SYN left the server host "
		    "(its nftables trace) and no rule there dropped it");
		vc_ev_add(c->v, VERDICT_STAGE_AGENT, "the agent was listening and "
		    "saw no connection, and the SYN never reached the agent "
		    "host (its nftables trace): dropped silently between "
		    "server and agent");
		return;
	}
	if (in_agent_listening(c->o) && vc_ctrace_nothing_came(c->o)) {
		vc_ev_add(c->v, VERDICT_STAGE_AGENT, "the agent was listening and "
		    "saw no connection, and the SYN never reached the agent "
		    "host (its nftables trace): dropped on the way or on the "
		    "server host");
		cb_trace_missing(c);
		return;
	}
	if (in_agent_listening(c->o)) {
		vc_ev_add(c->v, VERDICT_STAGE_AGENT, "the agent was listening and "
		    "saw no connection: dropped silently on the way, or by a "
		    "firewall on the agent host (only its nftables trace tells "
		    "which)");
		cb_trace_missing(c);
		return;
	}
	vc_ev_add(c->v, VERDICT_STAGE_AGENT, "the agent's listener was not open, "
	    "so where the SYN went is not known");
}

static void
in_other(struct vctx *c)
{
	char b[sizeof(c->o->banner) + 1];

	vc_fail(c->v, CAUSE_NONE);
	vc_ev_add(c->v, VERDICT_STAGE_PATH, "the connect-back from %s to %s "
	    "reached a service that is not the agent's listener", c->src,
	    c->dst);
	vc_ev_add(c->v, VERDICT_STAGE_PATH, "that service's banner: '%s'",
	    vc_banner_text(c->o, b, sizeof(b)));
}

static void
in_silent(struct vctx *c)
{
	if (c->o->arrived) {
		c->v->pass = 1;
		vc_ev_add(c->v, VERDICT_STAGE_AGENT, "the agent's listener recorded "
		    "the connect-back from %s to %s; its acknowledgement did not "
		    "reach the reflector within %u ms", c->src, c->dst, c->ms);
		return;
	}
	vc_fail(c->v, CAUSE_NONE);
	vc_ev_add(c->v, VERDICT_STAGE_SERVER, "the connect-back from %s to %s "
	    "completed a handshake but nothing answered the probe line "
	    "within %u ms", c->src, c->dst, c->ms);
	vc_ev_add(c->v, VERDICT_STAGE_AGENT, "the agent's listener did not record "
	    "it, so something other than the agent accepted it");
}

static void
in_local_error(struct vctx *c)
{
	int e = c->o->error;

	vc_fail(c->v, CAUSE_NONE);
	if (e == ENETUNREACH || e == EHOSTUNREACH) {
		c->v->cause = CAUSE_ROUTING_GAP;
		vc_ev_add(c->v, VERDICT_STAGE_SERVER, "no route from the server "
		    "host to %s (connect-back: %s, no ICMP)", c->dst,
		    vc_errno_name(e));
	} else if (e == EPERM || e == EACCES) {
		vc_ev_add(c->v, VERDICT_STAGE_SERVER, "the connect-back from %s to "
		    "%s failed on the server host (%s): its own firewall "
		    "refused it, or port %u could not be bound", c->src,
		    c->dst, vc_errno_name(e), c->o->port);
	} else {
		vc_ev_add(c->v, VERDICT_STAGE_SERVER, "the connect-back from %s to "
		    "%s failed on the server host (%s, errno %d)", c->src,
		    c->dst, vc_errno_name(e), e);
	}
}

static int
in_path_failure(enum probe_outcome oc)
{
	return oc == OUTCOME_ICMP || oc == OUTCOME_RESET ||
	    oc == OUTCOME_TIMEOUT || oc == OUTCOME_OTHER_SERVICE ||
	    oc == OUTCOME_SILENT_PEER;
}

void
vc_classify_in(struct vctx *c)
{
	const struct probe_obs *o = c->o;

	vc_ss_text_or(ADDR_SA(&o->local), ADDR_SA(&c->f->reflector_local),
	    o->port, c->src, sizeof(c->src));
	vc_ss_text_or(ADDR_SA(&o->remote), ADDR_SA(&c->f->agent_observed), 0,
	    c->dst, sizeof(c->dst));
	snprintf(c->what, sizeof(c->what), "connect-back from %s to %s",
	    c->src, c->dst);
	/* A rule on the server host dropped it: it never left, so neither
	 * the path, nor NAT, nor the agent host had a say. */
	if (cb_server_dropped(o)) {
		cb_server_rule(c);
		vc_ctrace_missing(c);
		return;
	}
	/* The agent host's own rule dropped it: whatever NAT there is, the
	 * connect-back got here. */
	if (vc_ctrace_explains(c)) {
		vc_ctrace_local_rule(c);
		return;
	}
	/* Unsolicited inbound through source NAT is the expected failure;
	 * a local error on the reflector host is not the NAT's doing. */
	if (!o->arrived && in_path_failure(o->outcome) &&
	    verdict_client_nat(c->f)) {
		in_nat(c);
		return;
	}
	switch (o->outcome) {
	case OUTCOME_NOT_RUN:		vc_not_run(c); break;
	case OUTCOME_ACKED:		in_acked(c); break;
	case OUTCOME_OTHER_SERVICE:	in_other(c); break;
	case OUTCOME_SILENT_PEER:	in_silent(c); break;
	case OUTCOME_RESET:		in_reset(c); break;
	case OUTCOME_ICMP:		vc_icmp_verdict(c); break;
	case OUTCOME_TIMEOUT:		in_timeout(c); break;
	case OUTCOME_LOCAL_ERROR:	in_local_error(c); break;
	}
	if (in_path_failure(o->outcome))
		vc_ctrace_missing(c);
}
