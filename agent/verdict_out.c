/*
 * verdict_out.c - the rules for the probes the agent opens (control and
 * passive): what the reflector and both hosts' nftables traces saw, and
 * each outcome of the connect (see verdict.c for the principle).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "errq.h"
#include "verdict_int.h"

/* ---- the reflector's nftables trace (control/passive probes) ---- */

static int ctrace_usable(const struct probe_obs *o);

/*
 * A path cause needs the agent host cleared as well: a rule there that
 * drops our SYN does not fail connect() (TCP ignores the EPERM of its
 * own transmissions and retransmits until it times out), and one that
 * drops the answer looks like a loss on the way back.  Only the agent
 * host's own trace clears it; without one (no CAP_NET_ADMIN) the path
 * cause is not named.  An incomplete trace clears it unless it recorded
 * a drop (vc_ctrace_missing() then says that its silence proves nothing):
 * it lost some ports' events, and a range must not split on that.
 */
static int
ctrace_syn_left(const struct probe_obs *o)
{
	if (!ctrace_usable(o))
		return 0;
	return o->syn_sent || (o->ctrace_state == TRACE_OBS_INCOMPLETE &&
	    !(o->crule && o->crule->outbound));
}

/* No answer (or connect-back SYN) reached the agent host. */
int
vc_ctrace_nothing_came(const struct probe_obs *o)
{
	return ctrace_usable(o) && !o->answer_seen && !o->crule;
}

/*
 * Why the trace cannot decide this probe, for the verdicts that fall
 * back to what the agent alone saw.  Nothing when the reflector sent no
 * trace at all (an older reflector, or no observations).
 */
static void
trace_missing(struct vctx *c)
{
	const struct probe_obs *o = c->o;
	const char *why = vc_reason(o->trace_reason);

	switch (o->trace_state) {
	case TRACE_OBS_UNAVAILABLE:
		vc_ev_add(c->v, VERDICT_STAGE_SERVER, "no nftables trace at the "
		    "server (%s), so whether the SYN reached the server host "
		    "is not known from there", why);
		break;
	case TRACE_OBS_INCOMPLETE:
		vc_ev_add(c->v, VERDICT_STAGE_SERVER, "the nftables trace at the "
		    "server is incomplete (%s): the absence of an event proves "
		    "nothing", why);
		break;
	case TRACE_OBS_ON:
		if (!o->trace_record)
			vc_ev_add(c->v, VERDICT_STAGE_SERVER, "the reflector sent "
			    "no trace record for port %u (records truncated), "
			    "so the trace cannot tell whether the SYN reached "
			    "the server host", o->port);
		break;
	default:
		break;
	}
}

/* The probe failed in a way a rule on the server host can explain: a
 * silence, a RST, or ICMP sent by the server itself. */
static int
trace_failed_at_server(const struct vctx *c)
{
	const struct probe_obs *o = c->o;
	const struct sockaddr *from = (const struct sockaddr *)&o->icmp.from;

	if (o->arrived)
		return 0;
	switch (o->outcome) {
	case OUTCOME_TIMEOUT:
	case OUTCOME_RESET:
		return 1;
	case OUTCOME_ICMP:
		return o->icmp.present && addr_is_inet(ADDR_SA(&o->icmp.from)) &&
		    (addr_equal(from, (const struct sockaddr *)&c->f->server) ||
		    addr_equal(from, (const struct sockaddr *)&o->remote) ||
		    addr_equal(from,
		    (const struct sockaddr *)&c->f->reflector_local));
	default:
		return 0;
	}
}

/* What the agent saw, as the first sentence of a trace verdict. */
static void
trace_agent_side(struct vctx *c)
{
	char desc[64], from[ADDR_STRLEN];

	switch (c->o->outcome) {
	case OUTCOME_RESET:
		vc_ev_add(c->v, VERDICT_STAGE_AGENT, "SYN from %s to %s was "
		    "answered by a RST", c->src, c->dst);
		break;
	case OUTCOME_ICMP:
		vc_set_hop(c);
		errq_describe(&c->o->icmp, desc, sizeof(desc));
		vc_ip_text(ADDR_SA(&c->o->icmp.from), from, sizeof(from));
		vc_ev_add(c->v, VERDICT_STAGE_AGENT, "SYN from %s to %s got %s "
		    "from %s", c->src, c->dst, desc, from);
		break;
	default:
		if (c->o->confirm_ms != 0)
			vc_ev_add(c->v, VERDICT_STAGE_AGENT, "SYN from %s to %s: no "
			    "answer within %u ms and no ICMP; a second attempt "
			    "waited %u ms, silent too", c->src, c->dst, c->ms,
			    c->o->confirm_ms);
		else
			vc_ev_add(c->v, VERDICT_STAGE_AGENT, "SYN from %s to %s: no "
			    "answer within %u ms and no ICMP", c->src, c->dst,
			    c->ms);
		break;
	}
}

/* "inet filter input handle 5: tcp dport 30000-30099 drop" */
void
vc_trace_rule_text(const struct probe_rule *r, char *buf, size_t len)
{
	if (!r->has_handle)
		snprintf(buf, len, "policy %s of chain %s %s %s",
		    r->verdict[0] ? r->verdict : "drop", r->family, r->table,
		    r->chain);
	else if (r->text[0] != '\0')
		snprintf(buf, len, "%s %s %s handle %llu: %s", r->family,
		    r->table, r->chain, (unsigned long long)r->handle, r->text);
	else
		snprintf(buf, len, "%s %s %s handle %llu (its text could not "
		    "be read)", r->family, r->table, r->chain,
		    (unsigned long long)r->handle);
}

/* "rejected" for a reject rule (it answered), else "dropped". */
const char *
vc_reason(const char *why)
{
	return why != NULL && why[0] != '\0' ? why : "no reason given";
}

const char *
vc_rule_verb(const struct probe_rule *r)
{
	return strcmp(r->verdict, "reject") == 0 ? "rejected" : "dropped";
}

static void
trace_server_rule(struct vctx *c)
{
	/* Room for every field; vc_ev_add() bounds the sentence. */
	char rule[512];

	vc_fail(c->v, CAUSE_SERVER_LOCAL_RULE);
	trace_agent_side(c);
	vc_trace_rule_text(c->o->rule, rule, sizeof(rule));
	if (c->o->rule->outbound)
		vc_ev_add(c->v, VERDICT_STAGE_SERVER, "the SYN reached the server "
		    "host (nftables trace); rule '%s' %s the server's "
		    "answer", rule, vc_rule_verb(c->o->rule));
	else
		vc_ev_add(c->v, VERDICT_STAGE_SERVER, "the SYN reached the server "
		    "host (nftables trace); rule '%s' %s it", rule,
		    vc_rule_verb(c->o->rule));
}

/* The complete server trace saw no packet of the probe. */
static void
trace_never_reached(struct vctx *c)
{
	int left = ctrace_syn_left(c->o);

	vc_fail(c->v, left ? CAUSE_PATH_SILENT_DROP : CAUSE_NONE);
	trace_agent_side(c);
	vc_ev_add(c->v, VERDICT_STAGE_SERVER, "no trace event at the server: the "
	    "SYN never reached the server host");
	if (left)
		vc_ev_add(c->v, VERDICT_STAGE_PATH, "the SYN left the agent host "
		    "(its nftables trace) and no ICMP and no RST came back: it "
		    "was dropped silently on the path");
	else
		vc_ev_add(c->v, VERDICT_STAGE_AGENT, "whether the SYN left the "
		    "agent host is not known: its own firewall would drop it "
		    "as silently as the path (connect() does not fail)");
}

/*
 * Verdicts the server's trace proves.  Returns 1 when it classified the
 * probe.  A drop event is positive evidence even in an incomplete trace;
 * anything that rests on the absence of an event needs a complete one.
 */
int
vc_trace_verdict(struct vctx *c)
{
	const struct probe_obs *o = c->o;
	char agent[ADDR_STRLEN];

	if (!o->trace_record || (o->trace_state != TRACE_OBS_ON &&
	    o->trace_state != TRACE_OBS_INCOMPLETE))
		return 0;
	if (o->rule && trace_failed_at_server(c)) {
		trace_server_rule(c);
		return 1;
	}
	if (o->trace_state != TRACE_OBS_ON || o->outcome != OUTCOME_TIMEOUT ||
	    o->arrived)
		return 0;
	if (!o->syn_seen) {
		trace_never_reached(c);
		return 1;
	}
	vc_ip_text(ADDR_SA(&c->f->agent_observed), agent, sizeof(agent));
	if (o->synack_sent) {
		/* The answer reached the agent host and a rule there dropped
		 * it: that rule is the cause (ctrace_local_rule). */
		if (vc_ctrace_explains(c))
			return 0;
		vc_fail(c->v, vc_ctrace_nothing_came(o) ? CAUSE_RETURN_PATH :
		    CAUSE_NONE);
		trace_agent_side(c);
		vc_ev_add(c->v, VERDICT_STAGE_SERVER, "the SYN reached the server "
		    "host (nftables trace) and no rule there dropped it");
		if (c->v->cause == CAUSE_RETURN_PATH)
			vc_ev_add(c->v, VERDICT_STAGE_RETURN, "the server answered: "
			    "a SYN-ACK left port %u towards %s (nftables trace), "
			    "but nothing reached the agent host (its nftables "
			    "trace)", o->port, agent);
		else
			vc_ev_add(c->v, VERDICT_STAGE_RETURN, "the server answered: "
			    "a SYN-ACK left port %u towards %s (nftables trace), "
			    "but the agent got nothing: lost on the way back, or "
			    "dropped by the agent host's own firewall", o->port,
			    agent);
		return 1;
	}
	vc_fail(c->v, CAUSE_NONE);
	trace_agent_side(c);
	vc_ev_add(c->v, VERDICT_STAGE_SERVER, "the SYN reached the server host "
	    "(nftables trace) and no nftables rule dropped it, but no answer "
	    "left port %u: lost on the host outside nftables, or nothing "
	    "answered", o->port);
	return 1;
}

/* ---- the agent host's own nftables trace (ctrace.c) ---- */


static int
ctrace_usable(const struct probe_obs *o)
{
	return o->ctrace_state == TRACE_OBS_ON ||
	    o->ctrace_state == TRACE_OBS_INCOMPLETE;
}

/* The probe failed in a way a rule on the agent host can explain. */
static int
ctrace_failed(const struct probe_obs *o)
{
	if (o->arrived)
		return 0;
	switch (o->outcome) {
	case OUTCOME_TIMEOUT:
	case OUTCOME_RESET:
	case OUTCOME_ICMP:
		return 1;
	case OUTCOME_LOCAL_ERROR:
		/* For the connect-back that is the reflector host's error. */
		return o->kind != PROBE_ACTIVE;
	default:
		return 0;
	}
}

/*
 * Our SYN never left: a rule here dropped it and the trace, complete,
 * shows no SYN of this probe that got out.  Only this outranks what the
 * server's trace says about the same probe.
 */
static int
ctrace_syn_never_left(const struct vctx *c)
{
	const struct probe_obs *o = c->o;

	return o->kind != PROBE_ACTIVE && o->ctrace_state == TRACE_OBS_ON &&
	    ctrace_failed(o) && o->crule && o->crule->outbound &&
	    !o->syn_sent;
}

/* A drop on the agent host that explains the failure by itself: any
 * inbound one, an outbound one only if no SYN got out past it.  A drop
 * event is positive evidence even in an incomplete trace. */
int
vc_ctrace_explains(const struct vctx *c)
{
	const struct probe_obs *o = c->o;

	if (!ctrace_usable(o) || !ctrace_failed(o) || !o->crule)
		return 0;
	if (o->kind == PROBE_ACTIVE)
		return 1;
	return !o->crule->outbound || !o->syn_sent;
}

void
vc_ctrace_local_rule(struct vctx *c)
{
	const struct probe_obs *o = c->o;
	char rule[512], clause[160];

	vc_fail(c->v, CAUSE_CLIENT_LOCAL_RULE);
	vc_trace_rule_text(o->crule, rule, sizeof(rule));
	if (o->kind == PROBE_ACTIVE) {
		vc_in_failure_clause(c, clause, sizeof(clause));
		vc_ev_add(c->v, VERDICT_STAGE_SERVER, "the connect-back from %s to "
		    "%s %s", c->src, c->dst, clause);
		if (o->crule->outbound)
			vc_ev_add(c->v, VERDICT_STAGE_AGENT, "the connect-back SYN "
			    "reached the agent host (nftables trace); the "
			    "agent host's own rule '%s' %s the agent's "
			    "answer", rule, vc_rule_verb(o->crule));
		else
			vc_ev_add(c->v, VERDICT_STAGE_AGENT, "the agent host's own "
			    "rule '%s' %s the connect-back SYN (nftables "
			    "trace on the agent host)", rule,
			    vc_rule_verb(o->crule));
		return;
	}
	if (o->outcome == OUTCOME_LOCAL_ERROR)
		vc_ev_add(c->v, VERDICT_STAGE_AGENT, "connecting from %s to %s "
		    "failed on the agent host (%s)", c->src, c->dst,
		    vc_errno_name(o->error));
	else
		trace_agent_side(c);
	if (o->crule->outbound && !o->syn_sent &&
	    o->ctrace_state == TRACE_OBS_ON)
		vc_ev_add(c->v, VERDICT_STAGE_AGENT, "the agent host's own rule "
		    "'%s' %s the SYN: it never left the agent host "
		    "(nftables trace)", rule, vc_rule_verb(o->crule));
	else if (o->crule->outbound)
		vc_ev_add(c->v, VERDICT_STAGE_AGENT, "the agent host's own rule "
		    "'%s' %s the SYN (nftables trace on the agent host)",
		    rule, vc_rule_verb(o->crule));
	else
		vc_ev_add(c->v, VERDICT_STAGE_AGENT, "the agent host's own rule "
		    "'%s' %s the server's answer (nftables trace on the "
		    "agent host)", rule, vc_rule_verb(o->crule));
}

/* A drop here that did not decide the verdict is still evidence. */
static void
ctrace_note_drop(struct vctx *c)
{
	char rule[512];

	if (c->v->pass || !ctrace_usable(c->o) || !c->o->crule)
		return;
	vc_trace_rule_text(c->o->crule, rule, sizeof(rule));
	vc_ev_add(c->v, VERDICT_STAGE_AGENT, "the agent host's own rule '%s' "
	    "also dropped a packet of this probe (%s; nftables trace)", rule,
	    c->o->crule->outbound ? "outbound" : "inbound");
}

/* Say when the agent host could not be traced, so no reader takes the
 * absence of a client-local-rule as evidence. */
void
vc_ctrace_missing(struct vctx *c)
{
	const struct probe_obs *o = c->o;

	if (c->v->pass || o->outcome == OUTCOME_NOT_RUN ||
	    c->v->cause == CAUSE_CLIENT_LOCAL_RULE)
		return;
	if (o->ctrace_state == TRACE_OBS_UNAVAILABLE)
		vc_ev_add(c->v, VERDICT_STAGE_AGENT, "no nftables trace on the "
		    "agent host (%s), so whether its own rules dropped the "
		    "probe is not known", vc_reason(
		    o->ctrace_reason));
	else if (o->ctrace_state == TRACE_OBS_INCOMPLETE && !o->crule)
		vc_ev_add(c->v, VERDICT_STAGE_AGENT, "the nftables trace on the "
		    "agent host is incomplete (%s): that it names no dropping "
		    "rule proves nothing", vc_reason(
		    o->ctrace_reason));
}

/* The probe's source as the far end saw it, when it differs: NAT. */
static void
out_snat_note(struct vctx *c)
{
	const struct probe_obs *o = c->o;
	const struct sockaddr *seen = (const struct sockaddr *)&o->seen_peer;
	const struct sockaddr *used = (const struct sockaddr *)&o->local;
	char s[ADDR_STRLEN], u[ADDR_STRLEN];

	if (!o->arrived || !addr_is_inet(ADDR_SA(&o->seen_peer)) ||
	    !addr_is_inet(ADDR_SA(&o->local)))
		return;
	if (addr_equal(seen, used) && addr_port(seen) == addr_port(used))
		return;
	vc_ev_add(c->v, VERDICT_STAGE_PATH, "the reflector saw the probe from %s "
	    "(agent used %s): source NAT", vc_ss_text(ADDR_SA(&o->seen_peer), s,
	    sizeof(s)), vc_ss_text(ADDR_SA(&o->local), u, sizeof(u)));
}

static void
out_acked(struct vctx *c)
{
	c->v->pass = 1;
	vc_ev_add(c->v, VERDICT_STAGE_SERVER, "the probe from %s to %s reached "
	    "the reflector and was acknowledged in %u ms", c->src, c->dst,
	    c->o->elapsed_ms);
	out_snat_note(c);
}

static void
out_other_service(struct vctx *c)
{
	char b[sizeof(c->o->banner) + 1];

	vc_banner_text(c->o, b, sizeof(b));
	if (c->o->kind == PROBE_CONTROL && vc_banner_starts(c->o, "421")) {
		vc_fail(c->v, CAUSE_SERVICE_REFUSED);
		vc_ev_add(c->v, VERDICT_STAGE_SERVER, "the FTP service at %s "
		    "refused the session: '%s'", c->dst, b);
		return;
	}
	c->v->pass = 1;
	if (c->o->kind == PROBE_CONTROL && vc_banner_starts(c->o, "220"))
		vc_ev_add(c->v, VERDICT_STAGE_SERVER, "the FTP server at %s "
		    "answered: '%s'", c->dst, b);
	else
		vc_ev_add(c->v, VERDICT_STAGE_SERVER, "the handshake with %s "
		    "completed; the port is owned by another service (banner "
		    "'%s')", c->dst, b);
	if (c->o->arrived)
		out_snat_note(c);
	else if (c->o->arm == ARM_LISTENING)
		vc_ev_add(c->v, VERDICT_STAGE_SERVER, "the reflector listened on "
		    "port %u but did not record the connection: something "
		    "before it answered", c->o->port);
	else
		vc_ev_add(c->v, VERDICT_STAGE_SERVER, "the reflector could not "
		    "confirm arrival because the port is in use");
}

static void
out_silent(struct vctx *c)
{
	if (c->o->arrived) {
		c->v->pass = 1;
		vc_ev_add(c->v, VERDICT_STAGE_SERVER, "the reflector recorded the "
		    "probe from %s to %s; its acknowledgement did not reach "
		    "the agent within %u ms", c->src, c->dst, c->ms);
		out_snat_note(c);
		return;
	}
	vc_fail(c->v, CAUSE_NONE);
	vc_ev_add(c->v, VERDICT_STAGE_AGENT, "the handshake from %s to %s "
	    "completed, but nothing answered the probe line within %u ms",
	    c->src, c->dst, c->ms);
	vc_ev_add(c->v, VERDICT_STAGE_SERVER, "the reflector did not record the "
	    "connection, so something other than it accepted the handshake");
}

/*
 * A RST although the reflector listened and saw nothing: a reject on the
 * path only when both traces place it there (the SYN left the agent host
 * and never reached the server host); else a reject rule on either host
 * looks the same.
 */
static void
out_reset_unseen(struct vctx *c)
{
	const struct probe_obs *o = c->o;
	int path = o->trace_state == TRACE_OBS_ON && o->trace_record &&
	    !o->syn_seen && ctrace_syn_left(o);

	vc_fail(c->v, path ? CAUSE_PATH_REJECT : CAUSE_NONE);
	if (path) {
		vc_ev_add(c->v, VERDICT_STAGE_PATH, "RST in the name of %s "
		    "although the reflector was listening and saw no "
		    "connection", c->dst);
		vc_ev_add(c->v, VERDICT_STAGE_PATH, "the SYN left the agent host "
		    "and never reached the server host (nftables traces on "
		    "both): a firewall on the path rejected it");
		return;
	}
	vc_ev_add(c->v, VERDICT_STAGE_PATH, "RST in the name of %s although the "
	    "reflector was listening and saw no connection: a firewall on the "
	    "path, on the server host or on the agent host rejected it",
	    c->dst);
	if (o->trace_state == TRACE_OBS_ON && o->trace_record && o->syn_seen)
		vc_ev_add(c->v, VERDICT_STAGE_SERVER, "the SYN reached the server "
		    "host (nftables trace) and no nftables rule there "
		    "rejected it");
	trace_missing(c);
}

static void
out_reset(struct vctx *c)
{
	if (c->o->arm == ARM_LISTENING && !c->o->arrived) {
		out_reset_unseen(c);
		return;
	}
	if (c->o->arm == ARM_LISTENING) {
		/* It arrived and still a RST came back: contradictory. */
		vc_fail(c->v, CAUSE_NONE);
		vc_ev_add(c->v, VERDICT_STAGE_SERVER, "the reflector recorded the "
		    "probe to %s, yet the agent got a RST", c->dst);
		return;
	}
	/*
	 * The reflector's EADDRINUSE says some socket owns the port, maybe
	 * on another address only.  A reject rule with tcp reset (on either
	 * host or the path) looks the same: only the server's trace, the
	 * SYN seen arriving and no rule rejecting it, rules that out.
	 * Without CAP_NET_ADMIN the reflector can neither divert the port
	 * nor trace it, so this is its usual state then.
	 */
	if (c->o->arm == ARM_IN_USE && !(c->o->trace_state == TRACE_OBS_ON &&
	    c->o->trace_record && c->o->syn_seen)) {
		vc_fail(c->v, CAUSE_NONE);
		vc_ev_add(c->v, VERDICT_STAGE_SERVER, "RST in the name of %s; "
		    "another process owns port %u on the server host: it may "
		    "listen on a different address only, or a reject rule with "
		    "tcp reset answered", c->dst, c->o->port);
		trace_missing(c);
		return;
	}
	vc_fail(c->v, CAUSE_NOT_LISTENING);
	vc_ev_add(c->v, VERDICT_STAGE_SERVER, "RST from the server %s: nothing "
	    "listens on port %u", c->dst, c->o->port);
	if (c->o->arm == ARM_IN_USE)
		vc_ev_add(c->v, VERDICT_STAGE_SERVER, "the SYN reached the server "
		    "host (nftables trace) and no rule there rejected it: "
		    "another process owns port %u, but on a different address "
		    "only", c->o->port);
}

static void
out_timeout(struct vctx *c)
{
	vc_fail(c->v, CAUSE_NONE);
	if (c->o->arrived) {
		c->v->cause = CAUSE_RETURN_PATH;
		vc_ev_add(c->v, VERDICT_STAGE_SERVER, "the reflector accepted the "
		    "connection from %s to %s", c->src, c->dst);
		vc_ev_add(c->v, VERDICT_STAGE_RETURN, "the server accepted the "
		    "connection but nothing came back to the agent within "
		    "%u ms", c->ms);
		return;
	}
	if (c->o->confirm_ms != 0)
		vc_ev_add(c->v, VERDICT_STAGE_AGENT, "SYN from %s to %s: no "
		    "answer within %u ms and no ICMP; a second attempt waited "
		    "%u ms, silent too", c->src, c->dst, c->ms,
		    c->o->confirm_ms);
	else
		vc_ev_add(c->v, VERDICT_STAGE_AGENT, "SYN from %s to %s: no "
		    "answer within %u ms and no ICMP", c->src, c->dst, c->ms);
	/* A complete server trace has decided already (trace_verdict):
	 * without one, which of these it was is not known. */
	if (c->o->arm == ARM_LISTENING) {
		vc_ev_add(c->v, VERDICT_STAGE_SERVER, "the reflector listened on "
		    "port %u and accepted no connection: the SYN, or the "
		    "server's answer on the way back, was dropped silently "
		    "on the path or by a firewall on the server host or the "
		    "agent host (only nftables traces tell which)",
		    c->o->port);
		trace_missing(c);
		return;
	}
	vc_ev_add(c->v, VERDICT_STAGE_SERVER, "the reflector was not listening "
	    "on port %u itself, so whether the SYN reached the server host "
	    "is not known", c->o->port);
	trace_missing(c);
}

static void
out_local_error(struct vctx *c)
{
	int e = c->o->error;

	vc_fail(c->v, CAUSE_NONE);
	if (e == ENETUNREACH || e == EHOSTUNREACH) {
		c->v->cause = CAUSE_ROUTING_GAP;
		vc_ev_add(c->v, VERDICT_STAGE_AGENT, "no route from the agent host "
		    "to %s (connect: %s, no ICMP)", c->dst, vc_errno_name(e));
	} else if (e == EPERM || e == EACCES) {
		vc_ev_add(c->v, VERDICT_STAGE_AGENT, "the agent host's own firewall "
		    "refused the connection to %s (connect: %s)", c->dst,
		    vc_errno_name(e));
		if (c->o->ctrace_state == TRACE_OBS_NONE)
			vc_ev_add(c->v, VERDICT_STAGE_AGENT, "naming the rule "
			    "(client-local-rule) needs the agent host's "
			    "nftables trace, which was not collected");
		else if (c->o->ctrace_state == TRACE_OBS_ON)
			vc_ev_add(c->v, VERDICT_STAGE_AGENT, "the agent host's "
			    "nftables trace named no rule that dropped it");
	} else {
		vc_ev_add(c->v, VERDICT_STAGE_AGENT, "connecting to %s failed on "
		    "the agent host (%s, errno %d)", c->dst, vc_errno_name(e), e);
	}
}

/* Control port: a path that works but reaches no FTP server. */
static void
control_no_server(struct vctx *c)
{
	vc_fail(c->v, CAUSE_NOT_LISTENING);
	vc_ev_add(c->v, VERDICT_STAGE_SERVER, "probe reached the server host "
	    "(ftpath's reflector accepted it on port %u because no service "
	    "owned the port); no FTP server is listening on %u", c->o->port,
	    c->o->port);
}

void
vc_classify_out(struct vctx *c)
{
	const struct probe_obs *o = c->o;

	vc_ss_text_or(ADDR_SA(&o->local), ADDR_SA(&c->f->agent_local), 0,
	    c->src, sizeof(c->src));
	vc_ss_text_or(ADDR_SA(&o->remote), ADDR_SA(&c->f->server), o->port,
	    c->dst, sizeof(c->dst));
	snprintf(c->what, sizeof(c->what), "SYN to %s", c->dst);
	if (ctrace_syn_never_left(c)) {
		vc_ctrace_local_rule(c);
		return;
	}
	if (vc_trace_verdict(c)) {
		ctrace_note_drop(c);
		vc_ctrace_missing(c);
		return;
	}
	if (vc_ctrace_explains(c)) {
		vc_ctrace_local_rule(c);
		return;
	}
	switch (o->outcome) {
	case OUTCOME_NOT_RUN:		vc_not_run(c); break;
	case OUTCOME_ACKED:		out_acked(c); break;
	case OUTCOME_OTHER_SERVICE:	out_other_service(c); break;
	case OUTCOME_SILENT_PEER:	out_silent(c); break;
	case OUTCOME_RESET:		out_reset(c); break;
	case OUTCOME_ICMP:		vc_icmp_verdict(c); break;
	case OUTCOME_TIMEOUT:		out_timeout(c); break;
	case OUTCOME_LOCAL_ERROR:	out_local_error(c); break;
	}
	/* The reflector only binds (or diverts without a service behind)
	 * the control port when nobody owns it. */
	if (o->kind == PROBE_CONTROL && o->arm == ARM_LISTENING && !o->served &&
	    c->v->pass)
		control_no_server(c);
	ctrace_note_drop(c);
	vc_ctrace_missing(c);
}
