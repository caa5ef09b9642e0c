/*
 * verdict.c - turn the facts of one probed path into pass/fail, a cause
 * class and evidence sentences.
 *
 * The rule that governs everything here: a cause is named only when the
 * observations prove it.  When they only narrow it down, the verdict is a
 * failure with CAUSE_NONE and the evidence says what is and is not known.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "errq.h"
#include "verdict.h"

#define VERDICT_FMT(a, b) __attribute__((format(printf, a, b)))

/* Everything one classification needs, with the addresses as text once. */
struct vctx {
	const struct probe_obs *o;
	const struct session_facts *f;
	struct verdict *v;
	char src[ADDR_STRLEN];	/* the opener's end */
	char dst[ADDR_STRLEN];	/* the accepting end */
	char what[2 * ADDR_STRLEN + 32];	/* "SYN to D" / "connect-back ..." */
	unsigned ms;		/* how long the opener waited */
};

static void ev_add(struct verdict *v, enum verdict_stage st,
    const char *fmt, ...) VERDICT_FMT(3, 4);

static void
ev_add(struct verdict *v, enum verdict_stage st, const char *fmt, ...)
{
	va_list ap;

	/* The rules below never emit more than the maximum; a dropped
	 * sentence is better than an overflow if one ever does. */
	if (v->n_evidence >= VERDICT_MAX_EVIDENCE)
		return;
	va_start(ap, fmt);
	vsnprintf(v->evidence[v->n_evidence], VERDICT_EVIDENCE_LEN, fmt, ap);
	va_end(ap);
	v->stage[v->n_evidence] = (unsigned char)st;
	v->n_evidence++;
}

static void
fail(struct verdict *v, enum cause c)
{
	v->pass = 0;
	v->cause = c;
}

static int
ss_known(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET || ss->ss_family == AF_INET6;
}

/* "192.0.2.1:21", or the bare address when the port is unknown (0). */
static const char *
ss_text(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	struct sockaddr_storage plain = *ss;
	const struct sockaddr *sa = (const struct sockaddr *)&plain;

	/* A dual-stack socket reports v4 peers as ::ffff:a.b.c.d; people
	 * read and grep for the plain form. */
	addr_unmap(&plain);
	if (!ss_known(&plain))
		snprintf(buf, len, "an unknown address");
	else if (addr_port(sa) == 0)
		addr_ntop(sa, buf, len);
	else
		addr_ntop_port(sa, buf, len);
	return buf;
}

/* The address alone, unmapped: "192.0.2.1". */
static const char *
ip_text(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	struct sockaddr_storage plain = *ss;

	addr_unmap(&plain);
	return addr_ntop((const struct sockaddr *)&plain, buf, len);
}

/* ss if known, else fallback with the given port (0 = leave it). */
static const char *
ss_text_or(const struct sockaddr_storage *ss,
    const struct sockaddr_storage *fallback, uint16_t port, char *buf,
    size_t len)
{
	struct sockaddr_storage tmp;

	if (ss_known(ss) || !ss_known(fallback))
		return ss_text(ss, buf, len);
	tmp = *fallback;
	if (port != 0)
		addr_set_port((struct sockaddr *)&tmp, port);
	return ss_text(&tmp, buf, len);
}

/* Names rather than strerror(): stable, short and locale-free. */
static const char *
errno_name(int e)
{
	switch (e) {
	case 0:			return "errno not recorded";
	case EPERM:		return "EPERM";
	case EACCES:		return "EACCES";
	case ENETUNREACH:	return "ENETUNREACH";
	case EHOSTUNREACH:	return "EHOSTUNREACH";
	case ECONNREFUSED:	return "ECONNREFUSED";
	case ECONNRESET:	return "ECONNRESET";
	case ETIMEDOUT:		return "ETIMEDOUT";
	case EADDRINUSE:	return "EADDRINUSE";
	case EADDRNOTAVAIL:	return "EADDRNOTAVAIL";
	case EAFNOSUPPORT:	return "EAFNOSUPPORT";
	case EMFILE:		return "EMFILE";
	case ENFILE:		return "ENFILE";
	case ENOBUFS:		return "ENOBUFS";
	case ENOMEM:		return "ENOMEM";
	case EINVAL:		return "EINVAL";
	case ENETDOWN:		return "ENETDOWN";
	case EPROTO:		return "EPROTO";
	}
	return "an unlisted errno";
}

/* The banner as printable ASCII, so evidence stays valid JSON text. */
static const char *
banner_text(const struct probe_obs *o, char *buf, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len && i < sizeof(o->banner) &&
	    o->banner[i] != '\0'; i++) {
		unsigned char ch = (unsigned char)o->banner[i];

		buf[i] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '.';
	}
	buf[i] = '\0';
	return buf;
}

static int
banner_starts(const struct probe_obs *o, const char *code)
{
	return strncmp(o->banner, code, strlen(code)) == 0;
}

static void
set_hop(struct vctx *c)
{
	if (c->o->icmp.present && ss_known(&c->o->icmp.from))
		ip_text(&c->o->icmp.from, c->v->hop, sizeof(c->v->hop));
}

static void
not_run(struct vctx *c)
{
	fail(c->v, CAUSE_NONE);
	ev_add(c->v, VERDICT_STAGE_AGENT, "not tested: the %s probe of port "
	    "%u was not run", probe_kind_name(c->o->kind), c->o->port);
}

/*
 * The service address is not the reflector's: when the path to it has a
 * gap, say that the reflector's own address was reached, so nobody
 * blames the whole host.
 */
static void
service_addr_note(struct vctx *c)
{
	const struct sockaddr *srv = (const struct sockaddr *)&c->f->server;
	char mgmt[ADDR_STRLEN], svc[ADDR_STRLEN];

	if (c->o->kind == PROBE_ACTIVE || !ss_known(&c->f->server) ||
	    !ss_known(&c->f->dialled) ||
	    addr_equal(srv, (const struct sockaddr *)&c->f->dialled) ||
	    addr_equal(srv, (const struct sockaddr *)&c->f->reflector_local))
		return;
	ev_add(c->v, VERDICT_STAGE_SERVER, "the reflector answered at its "
	    "management address %s, but the FTP service address %s is "
	    "unreachable from the agent: route its segment, or serve FTP on "
	    "an address the clients can reach", ss_text(&c->f->dialled, mgmt,
	    sizeof(mgmt)), ip_text(&c->f->server, svc, sizeof(svc)));
}

/*
 * ICMP from the socket error queue, either direction.  Only the two
 * unreachable families identify a cause; the sender is the hop.
 */
/*
 * An ICMP error sent in the name of the address we dialled, which is the
 * address the reflector's own control connection arrived on (no DNAT in
 * between): only the server host's own stack sends that.  (With the
 * server-side trace, trace_verdict() has already named the rule.)
 */
static int
icmp_from_server_host(const struct vctx *c)
{
	const struct sockaddr *from = (const struct sockaddr *)&c->o->icmp.from;
	const struct sockaddr *dst = (const struct sockaddr *)(
	    ss_known(&c->o->remote) ? &c->o->remote : &c->f->server);

	return c->o->kind != PROBE_ACTIVE && ss_known(&c->o->icmp.from) &&
	    ss_known(&c->f->reflector_local) && addr_equal(from, dst) &&
	    addr_equal(from, (const struct sockaddr *)&c->f->reflector_local);
}

static void
icmp_verdict(struct vctx *c)
{
	const struct errq_icmp *e = &c->o->icmp;
	char desc[64], from[ADDR_STRLEN];

	fail(c->v, CAUSE_NONE);
	if (!e->present) {
		ev_add(c->v, VERDICT_STAGE_PATH, "%s failed as if an ICMP "
		    "error came back (%s), but the error queue held none, so "
		    "its sender and kind are unknown", c->what,
		    errno_name(c->o->error));
		return;
	}
	set_hop(c);
	errq_describe(e, desc, sizeof(desc));
	if (ss_known(&e->from))
		ip_text(&e->from, from, sizeof(from));
	else
		snprintf(from, sizeof(from), "an unknown sender");
	if (c->o->icmp_retry_port != 0)
		ev_add(c->v, VERDICT_STAGE_PATH, "%s timed out with no ICMP "
		    "while other ports got ICMP: %s rate-limits ICMP; port %u "
		    "retried alone got %s from %s", c->what, from,
		    c->o->icmp_retry_port, desc, from);
	else
		ev_add(c->v, VERDICT_STAGE_PATH, "%s got %s from %s", c->what,
		    desc, from);
	if (errq_is_admin_prohibited(e) && icmp_from_server_host(c)) {
		c->v->cause = CAUSE_SERVER_LOCAL_RULE;
		ev_add(c->v, VERDICT_STAGE_SERVER, "the rejection came from the "
		    "server host itself (%s, the reflector's own address): a "
		    "rule in its firewall rejects the connection; which rule "
		    "is not known without the server-side trace", from);
	} else if (errq_is_admin_prohibited(e)) {
		c->v->cause = CAUSE_PATH_REJECT;
		ev_add(c->v, VERDICT_STAGE_PATH, "a firewall at %s rejects the "
		    "connection administratively", from);
	} else if (errq_is_net_or_host_unreachable(e)) {
		c->v->cause = CAUSE_ROUTING_GAP;
		ev_add(c->v, VERDICT_STAGE_PATH, "%s could not forward the "
		    "packet towards %s: no route, or the host does not answer "
		    "on its segment", from, c->dst);
		service_addr_note(c);
	} else {
		ev_add(c->v, VERDICT_STAGE_PATH, "this kind of ICMP error does "
		    "not identify a cause by itself");
	}
}

/* ---- the reflector's nftables trace (control/passive probes) ---- */

static int ctrace_usable(const struct probe_obs *o);
static int ctrace_explains(const struct vctx *c);
static void ctrace_missing(struct vctx *c);

/*
 * A path cause needs the agent host cleared as well: a rule there that
 * drops our SYN does not fail connect() (TCP ignores the EPERM of its
 * own transmissions and retransmits until it times out), and one that
 * drops the answer looks like a loss on the way back.  Only the agent
 * host's own trace clears it; without one (no CAP_NET_ADMIN) the path
 * cause is not named.  An incomplete trace clears it unless it recorded
 * a drop (ctrace_missing() then says that its silence proves nothing):
 * it lost some ports' events, and a range must not split on that.
 */
static int
ctrace_syn_left(const struct probe_obs *o)
{
	if (!ctrace_usable(o))
		return 0;
	return o->syn_sent || (o->ctrace_state == TRACE_OBS_INCOMPLETE &&
	    !(o->crule.present && o->crule.outbound));
}

/* No answer (or connect-back SYN) reached the agent host. */
static int
ctrace_nothing_came(const struct probe_obs *o)
{
	return ctrace_usable(o) && !o->answer_seen && !o->crule.present;
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
	const char *why = o->trace_reason[0] != '\0' ? o->trace_reason :
	    "no reason given";

	switch (o->trace_state) {
	case TRACE_OBS_UNAVAILABLE:
		ev_add(c->v, VERDICT_STAGE_SERVER, "no nftables trace at the "
		    "server (%s), so whether the SYN reached the server host "
		    "is not known from there", why);
		break;
	case TRACE_OBS_INCOMPLETE:
		ev_add(c->v, VERDICT_STAGE_SERVER, "the nftables trace at the "
		    "server is incomplete (%s): the absence of an event proves "
		    "nothing", why);
		break;
	case TRACE_OBS_ON:
		if (!o->trace_record)
			ev_add(c->v, VERDICT_STAGE_SERVER, "the reflector sent "
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
		return o->icmp.present && ss_known(&o->icmp.from) &&
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
		ev_add(c->v, VERDICT_STAGE_AGENT, "SYN from %s to %s was "
		    "answered by a RST", c->src, c->dst);
		break;
	case OUTCOME_ICMP:
		set_hop(c);
		errq_describe(&c->o->icmp, desc, sizeof(desc));
		ip_text(&c->o->icmp.from, from, sizeof(from));
		ev_add(c->v, VERDICT_STAGE_AGENT, "SYN from %s to %s got %s "
		    "from %s", c->src, c->dst, desc, from);
		break;
	default:
		if (c->o->confirm_ms != 0)
			ev_add(c->v, VERDICT_STAGE_AGENT, "SYN from %s to %s: no "
			    "answer within %u ms and no ICMP; a second attempt "
			    "waited %u ms, silent too", c->src, c->dst, c->ms,
			    c->o->confirm_ms);
		else
			ev_add(c->v, VERDICT_STAGE_AGENT, "SYN from %s to %s: no "
			    "answer within %u ms and no ICMP", c->src, c->dst,
			    c->ms);
		break;
	}
}

/* "inet filter input handle 5: tcp dport 30000-30099 drop" */
static void
trace_rule_text(const struct probe_rule *r, char *buf, size_t len)
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
static const char *
rule_verb(const struct probe_rule *r)
{
	return strcmp(r->verdict, "reject") == 0 ? "rejected" : "dropped";
}

static void
trace_server_rule(struct vctx *c)
{
	/* Room for every field; ev_add() bounds the sentence. */
	char rule[512];

	fail(c->v, CAUSE_SERVER_LOCAL_RULE);
	trace_agent_side(c);
	trace_rule_text(&c->o->rule, rule, sizeof(rule));
	if (c->o->rule.outbound)
		ev_add(c->v, VERDICT_STAGE_SERVER, "the SYN reached the server "
		    "host (nftables trace); rule '%s' %s the server's "
		    "answer", rule, rule_verb(&c->o->rule));
	else
		ev_add(c->v, VERDICT_STAGE_SERVER, "the SYN reached the server "
		    "host (nftables trace); rule '%s' %s it", rule,
		    rule_verb(&c->o->rule));
}

/* The complete server trace saw no packet of the probe. */
static void
trace_never_reached(struct vctx *c)
{
	int left = ctrace_syn_left(c->o);

	fail(c->v, left ? CAUSE_PATH_SILENT_DROP : CAUSE_NONE);
	trace_agent_side(c);
	ev_add(c->v, VERDICT_STAGE_SERVER, "no trace event at the server: the "
	    "SYN never reached the server host");
	if (left)
		ev_add(c->v, VERDICT_STAGE_PATH, "the SYN left the agent host "
		    "(its nftables trace) and no ICMP and no RST came back: it "
		    "was dropped silently on the path");
	else
		ev_add(c->v, VERDICT_STAGE_AGENT, "whether the SYN left the "
		    "agent host is not known: its own firewall would drop it "
		    "as silently as the path (connect() does not fail)");
}

/*
 * Verdicts the server's trace proves.  Returns 1 when it classified the
 * probe.  A drop event is positive evidence even in an incomplete trace;
 * anything that rests on the absence of an event needs a complete one.
 */
static int
trace_verdict(struct vctx *c)
{
	const struct probe_obs *o = c->o;
	char agent[ADDR_STRLEN];

	if (!o->trace_record || (o->trace_state != TRACE_OBS_ON &&
	    o->trace_state != TRACE_OBS_INCOMPLETE))
		return 0;
	if (o->rule.present && trace_failed_at_server(c)) {
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
	ip_text(&c->f->agent_observed, agent, sizeof(agent));
	if (o->synack_sent) {
		/* The answer reached the agent host and a rule there dropped
		 * it: that rule is the cause (ctrace_local_rule). */
		if (ctrace_explains(c))
			return 0;
		fail(c->v, ctrace_nothing_came(o) ? CAUSE_RETURN_PATH :
		    CAUSE_NONE);
		trace_agent_side(c);
		ev_add(c->v, VERDICT_STAGE_SERVER, "the SYN reached the server "
		    "host (nftables trace) and no rule there dropped it");
		if (c->v->cause == CAUSE_RETURN_PATH)
			ev_add(c->v, VERDICT_STAGE_RETURN, "the server answered: "
			    "a SYN-ACK left port %u towards %s (nftables trace), "
			    "but nothing reached the agent host (its nftables "
			    "trace)", o->port, agent);
		else
			ev_add(c->v, VERDICT_STAGE_RETURN, "the server answered: "
			    "a SYN-ACK left port %u towards %s (nftables trace), "
			    "but the agent got nothing: lost on the way back, or "
			    "dropped by the agent host's own firewall", o->port,
			    agent);
		return 1;
	}
	fail(c->v, CAUSE_NONE);
	trace_agent_side(c);
	ev_add(c->v, VERDICT_STAGE_SERVER, "the SYN reached the server host "
	    "(nftables trace) and no nftables rule dropped it, but no answer "
	    "left port %u: lost on the host outside nftables, or nothing "
	    "answered", o->port);
	return 1;
}

/* ---- the agent host's own nftables trace (ctrace.c) ---- */

static void in_failure_clause(const struct vctx *c, char *buf, size_t len);

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
	    ctrace_failed(o) && o->crule.present && o->crule.outbound &&
	    !o->syn_sent;
}

/* A drop on the agent host that explains the failure by itself: any
 * inbound one, an outbound one only if no SYN got out past it.  A drop
 * event is positive evidence even in an incomplete trace. */
static int
ctrace_explains(const struct vctx *c)
{
	const struct probe_obs *o = c->o;

	if (!ctrace_usable(o) || !ctrace_failed(o) || !o->crule.present)
		return 0;
	if (o->kind == PROBE_ACTIVE)
		return 1;
	return !o->crule.outbound || !o->syn_sent;
}

static void
ctrace_local_rule(struct vctx *c)
{
	const struct probe_obs *o = c->o;
	char rule[512], clause[160];

	fail(c->v, CAUSE_CLIENT_LOCAL_RULE);
	trace_rule_text(&o->crule, rule, sizeof(rule));
	if (o->kind == PROBE_ACTIVE) {
		in_failure_clause(c, clause, sizeof(clause));
		ev_add(c->v, VERDICT_STAGE_SERVER, "the connect-back from %s to "
		    "%s %s", c->src, c->dst, clause);
		if (o->crule.outbound)
			ev_add(c->v, VERDICT_STAGE_AGENT, "the connect-back SYN "
			    "reached the agent host (nftables trace); the "
			    "agent host's own rule '%s' %s the agent's "
			    "answer", rule, rule_verb(&o->crule));
		else
			ev_add(c->v, VERDICT_STAGE_AGENT, "the agent host's own "
			    "rule '%s' %s the connect-back SYN (nftables "
			    "trace on the agent host)", rule,
			    rule_verb(&o->crule));
		return;
	}
	if (o->outcome == OUTCOME_LOCAL_ERROR)
		ev_add(c->v, VERDICT_STAGE_AGENT, "connecting from %s to %s "
		    "failed on the agent host (%s)", c->src, c->dst,
		    errno_name(o->error));
	else
		trace_agent_side(c);
	if (o->crule.outbound && !o->syn_sent &&
	    o->ctrace_state == TRACE_OBS_ON)
		ev_add(c->v, VERDICT_STAGE_AGENT, "the agent host's own rule "
		    "'%s' %s the SYN: it never left the agent host "
		    "(nftables trace)", rule, rule_verb(&o->crule));
	else if (o->crule.outbound)
		ev_add(c->v, VERDICT_STAGE_AGENT, "the agent host's own rule "
		    "'%s' %s the SYN (nftables trace on the agent host)",
		    rule, rule_verb(&o->crule));
	else
		ev_add(c->v, VERDICT_STAGE_AGENT, "the agent host's own rule "
		    "'%s' %s the server's answer (nftables trace on the "
		    "agent host)", rule, rule_verb(&o->crule));
}

/* A drop here that did not decide the verdict is still evidence. */
static void
ctrace_note_drop(struct vctx *c)
{
	char rule[512];

	if (c->v->pass || !ctrace_usable(c->o) || !c->o->crule.present)
		return;
	trace_rule_text(&c->o->crule, rule, sizeof(rule));
	ev_add(c->v, VERDICT_STAGE_AGENT, "the agent host's own rule '%s' "
	    "also dropped a packet of this probe (%s; nftables trace)", rule,
	    c->o->crule.outbound ? "outbound" : "inbound");
}

/* Say when the agent host could not be traced, so no reader takes the
 * absence of a client-local-rule as evidence. */
static void
ctrace_missing(struct vctx *c)
{
	const struct probe_obs *o = c->o;

	if (c->v->pass || o->outcome == OUTCOME_NOT_RUN ||
	    c->v->cause == CAUSE_CLIENT_LOCAL_RULE)
		return;
	if (o->ctrace_state == TRACE_OBS_UNAVAILABLE)
		ev_add(c->v, VERDICT_STAGE_AGENT, "no nftables trace on the "
		    "agent host (%s), so whether its own rules dropped the "
		    "probe is not known", o->ctrace_reason[0] != '\0' ?
		    o->ctrace_reason : "no reason given");
	else if (o->ctrace_state == TRACE_OBS_INCOMPLETE && !o->crule.present)
		ev_add(c->v, VERDICT_STAGE_AGENT, "the nftables trace on the "
		    "agent host is incomplete (%s): that it names no dropping "
		    "rule proves nothing", o->ctrace_reason[0] != '\0' ?
		    o->ctrace_reason : "no reason given");
}

/* The probe's source as the far end saw it, when it differs: NAT. */
static void
out_snat_note(struct vctx *c)
{
	const struct probe_obs *o = c->o;
	const struct sockaddr *seen = (const struct sockaddr *)&o->seen_peer;
	const struct sockaddr *used = (const struct sockaddr *)&o->local;
	char s[ADDR_STRLEN], u[ADDR_STRLEN];

	if (!o->arrived || !ss_known(&o->seen_peer) || !ss_known(&o->local))
		return;
	if (addr_equal(seen, used) && addr_port(seen) == addr_port(used))
		return;
	ev_add(c->v, VERDICT_STAGE_PATH, "the reflector saw the probe from %s "
	    "(agent used %s): source NAT", ss_text(&o->seen_peer, s,
	    sizeof(s)), ss_text(&o->local, u, sizeof(u)));
}

static void
out_acked(struct vctx *c)
{
	c->v->pass = 1;
	ev_add(c->v, VERDICT_STAGE_SERVER, "the probe from %s to %s reached "
	    "the reflector and was acknowledged in %u ms", c->src, c->dst,
	    c->o->elapsed_ms);
	out_snat_note(c);
}

static void
out_other_service(struct vctx *c)
{
	char b[sizeof(c->o->banner) + 1];

	banner_text(c->o, b, sizeof(b));
	if (c->o->kind == PROBE_CONTROL && banner_starts(c->o, "421")) {
		fail(c->v, CAUSE_SERVICE_REFUSED);
		ev_add(c->v, VERDICT_STAGE_SERVER, "the FTP service at %s "
		    "refused the session: '%s'", c->dst, b);
		return;
	}
	c->v->pass = 1;
	if (c->o->kind == PROBE_CONTROL && banner_starts(c->o, "220"))
		ev_add(c->v, VERDICT_STAGE_SERVER, "the FTP server at %s "
		    "answered: '%s'", c->dst, b);
	else
		ev_add(c->v, VERDICT_STAGE_SERVER, "the handshake with %s "
		    "completed; the port is owned by another service (banner "
		    "'%s')", c->dst, b);
	if (c->o->arrived)
		out_snat_note(c);
	else if (c->o->arm == ARM_LISTENING)
		ev_add(c->v, VERDICT_STAGE_SERVER, "the reflector listened on "
		    "port %u but did not record the connection: something "
		    "before it answered", c->o->port);
	else
		ev_add(c->v, VERDICT_STAGE_SERVER, "the reflector could not "
		    "confirm arrival because the port is in use");
}

static void
out_silent(struct vctx *c)
{
	if (c->o->arrived) {
		c->v->pass = 1;
		ev_add(c->v, VERDICT_STAGE_SERVER, "the reflector recorded the "
		    "probe from %s to %s; its acknowledgement did not reach "
		    "the agent within %u ms", c->src, c->dst, c->ms);
		out_snat_note(c);
		return;
	}
	fail(c->v, CAUSE_NONE);
	ev_add(c->v, VERDICT_STAGE_AGENT, "the handshake from %s to %s "
	    "completed, but nothing answered the probe line within %u ms",
	    c->src, c->dst, c->ms);
	ev_add(c->v, VERDICT_STAGE_SERVER, "the reflector did not record the "
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

	fail(c->v, path ? CAUSE_PATH_REJECT : CAUSE_NONE);
	if (path) {
		ev_add(c->v, VERDICT_STAGE_PATH, "RST in the name of %s "
		    "although the reflector was listening and saw no "
		    "connection", c->dst);
		ev_add(c->v, VERDICT_STAGE_PATH, "the SYN left the agent host "
		    "and never reached the server host (nftables traces on "
		    "both): a firewall on the path rejected it");
		return;
	}
	ev_add(c->v, VERDICT_STAGE_PATH, "RST in the name of %s although the "
	    "reflector was listening and saw no connection: a firewall on the "
	    "path, on the server host or on the agent host rejected it",
	    c->dst);
	if (o->trace_state == TRACE_OBS_ON && o->trace_record && o->syn_seen)
		ev_add(c->v, VERDICT_STAGE_SERVER, "the SYN reached the server "
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
		fail(c->v, CAUSE_NONE);
		ev_add(c->v, VERDICT_STAGE_SERVER, "the reflector recorded the "
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
		fail(c->v, CAUSE_NONE);
		ev_add(c->v, VERDICT_STAGE_SERVER, "RST in the name of %s; "
		    "another process owns port %u on the server host: it may "
		    "listen on a different address only, or a reject rule with "
		    "tcp reset answered", c->dst, c->o->port);
		trace_missing(c);
		return;
	}
	fail(c->v, CAUSE_NOT_LISTENING);
	ev_add(c->v, VERDICT_STAGE_SERVER, "RST from the server %s: nothing "
	    "listens on port %u", c->dst, c->o->port);
	if (c->o->arm == ARM_IN_USE)
		ev_add(c->v, VERDICT_STAGE_SERVER, "the SYN reached the server "
		    "host (nftables trace) and no rule there rejected it: "
		    "another process owns port %u, but on a different address "
		    "only", c->o->port);
}

static void
out_timeout(struct vctx *c)
{
	fail(c->v, CAUSE_NONE);
	if (c->o->arrived) {
		c->v->cause = CAUSE_RETURN_PATH;
		ev_add(c->v, VERDICT_STAGE_SERVER, "the reflector accepted the "
		    "connection from %s to %s", c->src, c->dst);
		ev_add(c->v, VERDICT_STAGE_RETURN, "the server accepted the "
		    "connection but nothing came back to the agent within "
		    "%u ms", c->ms);
		return;
	}
	if (c->o->confirm_ms != 0)
		ev_add(c->v, VERDICT_STAGE_AGENT, "SYN from %s to %s: no "
		    "answer within %u ms and no ICMP; a second attempt waited "
		    "%u ms, silent too", c->src, c->dst, c->ms,
		    c->o->confirm_ms);
	else
		ev_add(c->v, VERDICT_STAGE_AGENT, "SYN from %s to %s: no "
		    "answer within %u ms and no ICMP", c->src, c->dst, c->ms);
	/* A complete server trace has decided already (trace_verdict):
	 * without one, which of these it was is not known. */
	if (c->o->arm == ARM_LISTENING) {
		ev_add(c->v, VERDICT_STAGE_SERVER, "the reflector listened on "
		    "port %u and accepted no connection: the SYN, or the "
		    "server's answer on the way back, was dropped silently "
		    "on the path or by a firewall on the server host or the "
		    "agent host (only nftables traces tell which)",
		    c->o->port);
		trace_missing(c);
		return;
	}
	ev_add(c->v, VERDICT_STAGE_SERVER, "the reflector was not listening "
	    "on port %u itself, so whether the SYN reached the server host "
	    "is not known", c->o->port);
	trace_missing(c);
}

static void
out_local_error(struct vctx *c)
{
	int e = c->o->error;

	fail(c->v, CAUSE_NONE);
	if (e == ENETUNREACH || e == EHOSTUNREACH) {
		c->v->cause = CAUSE_ROUTING_GAP;
		ev_add(c->v, VERDICT_STAGE_AGENT, "no route from the agent host "
		    "to %s (connect: %s, no ICMP)", c->dst, errno_name(e));
	} else if (e == EPERM || e == EACCES) {
		ev_add(c->v, VERDICT_STAGE_AGENT, "the agent host's own firewall "
		    "refused the connection to %s (connect: %s)", c->dst,
		    errno_name(e));
		if (c->o->ctrace_state == TRACE_OBS_NONE)
			ev_add(c->v, VERDICT_STAGE_AGENT, "naming the rule "
			    "(client-local-rule) needs the agent host's "
			    "nftables trace, which was not collected");
		else if (c->o->ctrace_state == TRACE_OBS_ON)
			ev_add(c->v, VERDICT_STAGE_AGENT, "the agent host's "
			    "nftables trace named no rule that dropped it");
	} else {
		ev_add(c->v, VERDICT_STAGE_AGENT, "connecting to %s failed on "
		    "the agent host (%s, errno %d)", c->dst, errno_name(e), e);
	}
}

/* Control port: a path that works but reaches no FTP server. */
static void
control_no_server(struct vctx *c)
{
	fail(c->v, CAUSE_NOT_LISTENING);
	ev_add(c->v, VERDICT_STAGE_SERVER, "probe reached the server host "
	    "(ftpath's reflector accepted it on port %u because no service "
	    "owned the port); no FTP server is listening on %u", c->o->port,
	    c->o->port);
}

static void
classify_out(struct vctx *c)
{
	const struct probe_obs *o = c->o;

	ss_text_or(&o->local, &c->f->agent_local, 0, c->src, sizeof(c->src));
	ss_text_or(&o->remote, &c->f->server, o->port, c->dst,
	    sizeof(c->dst));
	snprintf(c->what, sizeof(c->what), "SYN to %s", c->dst);
	if (ctrace_syn_never_left(c)) {
		ctrace_local_rule(c);
		return;
	}
	if (trace_verdict(c)) {
		ctrace_note_drop(c);
		ctrace_missing(c);
		return;
	}
	if (ctrace_explains(c)) {
		ctrace_local_rule(c);
		return;
	}
	switch (o->outcome) {
	case OUTCOME_NOT_RUN:		not_run(c); break;
	case OUTCOME_ACKED:		out_acked(c); break;
	case OUTCOME_OTHER_SERVICE:	out_other_service(c); break;
	case OUTCOME_SILENT_PEER:	out_silent(c); break;
	case OUTCOME_RESET:		out_reset(c); break;
	case OUTCOME_ICMP:		icmp_verdict(c); break;
	case OUTCOME_TIMEOUT:		out_timeout(c); break;
	case OUTCOME_LOCAL_ERROR:	out_local_error(c); break;
	}
	/* The reflector only binds (or diverts without a service behind)
	 * the control port when nobody owns it. */
	if (o->kind == PROBE_CONTROL && o->arm == ARM_LISTENING && !o->served &&
	    c->v->pass)
		control_no_server(c);
	ctrace_note_drop(c);
	ctrace_missing(c);
}

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
	    !o->rule.present || o->cb_syn_sent || o->arrived)
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

	fail(c->v, CAUSE_SERVER_LOCAL_RULE);
	if (o->outcome == OUTCOME_LOCAL_ERROR)
		snprintf(clause, sizeof(clause), "failed on the server host "
		    "(%s)", errno_name(o->error));
	else
		in_failure_clause(c, clause, sizeof(clause));
	ev_add(c->v, VERDICT_STAGE_SERVER, "the connect-back from %s to %s %s",
	    c->src, c->dst, clause);
	trace_rule_text(&o->rule, rule, sizeof(rule));
	ev_add(c->v, VERDICT_STAGE_SERVER, "the connect-back SYN from %s was "
	    "%s on the server host by rule '%s' (the server host's nftables "
	    "trace: no SYN of it left)", c->src, rule_verb(&o->rule), rule);
}

/* Why the server's trace cannot clear the server host for the
 * connect-back; nothing when it does. */
static void
cb_trace_missing(struct vctx *c)
{
	const struct probe_obs *o = c->o;
	const char *why = o->trace_reason[0] != '\0' ? o->trace_reason :
	    "no reason given";

	if (cb_left_server(o))
		return;
	switch (o->trace_state) {
	case TRACE_OBS_NONE:
		ev_add(c->v, VERDICT_STAGE_SERVER, "the reflector sent no trace "
		    "of the connect-back, so whether its SYN left the server "
		    "host (a rule in its output chain drops it as silently as "
		    "the path) is not known");
		break;
	case TRACE_OBS_UNAVAILABLE:
		ev_add(c->v, VERDICT_STAGE_SERVER, "no nftables trace at the "
		    "server (%s), so whether the connect-back SYN left the "
		    "server host is not known", why);
		break;
	case TRACE_OBS_INCOMPLETE:
		ev_add(c->v, VERDICT_STAGE_SERVER, "the nftables trace at the "
		    "server is incomplete (%s): that it names no rule dropping "
		    "the connect-back proves nothing", why);
		break;
	default:
		ev_add(c->v, VERDICT_STAGE_SERVER, "the server's nftables trace "
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
		fail(c->v, CAUSE_NONE);
		ev_add(c->v, VERDICT_STAGE_SERVER, "the reflector reports an "
		    "acknowledged connect-back from %s to %s", c->src, c->dst);
		ev_add(c->v, VERDICT_STAGE_AGENT, "the agent's listener "
		    "recorded no such connection, so something else answered");
		return;
	}
	c->v->pass = 1;
	ev_add(c->v, VERDICT_STAGE_AGENT, "the connect-back from %s to %s "
	    "reached the agent's listener and was acknowledged in %u ms",
	    c->src, c->dst, o->elapsed_ms);
	if (!ss_known(&o->seen_peer))
		return;
	if (addr_port(seen) != o->port)
		ev_add(c->v, VERDICT_STAGE_PATH, "source port %u rewritten to "
		    "%u (NAT on the server side)", o->port, addr_port(seen));
	if (ss_known(&o->local) && !addr_equal(seen, used))
		ev_add(c->v, VERDICT_STAGE_PATH, "the agent saw the connect-back "
		    "from %s (the reflector used %s): source NAT on the server "
		    "side", ss_text(&o->seen_peer, s, sizeof(s)), c->src);
}

/* How the connect-back failed, as a clause for the NAT sentence. */
static void
in_failure_clause(const struct vctx *c, char *buf, size_t len)
{
	const struct probe_obs *o = c->o;
	char desc[64], from[ADDR_STRLEN];

	switch (o->outcome) {
	case OUTCOME_ICMP:
		errq_describe(&o->icmp, desc, sizeof(desc));
		snprintf(from, sizeof(from), "an unknown sender");
		if (o->icmp.present && ss_known(&o->icmp.from))
			ip_text(&o->icmp.from, from, sizeof(from));
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

	fail(c->v, CAUSE_NAT);
	set_hop(c);
	in_failure_clause(c, clause, sizeof(clause));
	ss_text(&c->f->agent_local, a, sizeof(a));
	ss_text(&c->f->agent_observed, b, sizeof(b));
	ev_add(c->v, VERDICT_STAGE_AGENT, "the agent is behind source NAT "
	    "(agent %s, seen by the reflector as %s)", a, b);
	ev_add(c->v, VERDICT_STAGE_PATH, "the connect-back from %s to %s %s",
	    c->src, c->dst, clause);
	ev_add(c->v, VERDICT_STAGE_PATH, "active mode through this NAT works "
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
	fail(c->v, CAUSE_NONE);
	if (in_agent_listening(c->o) && !c->o->arrived) {
		ev_add(c->v, VERDICT_STAGE_PATH, "connect-back from %s to %s was "
		    "answered by a RST although the agent was listening and saw "
		    "no connection", c->src, c->dst);
		/* The agent host's complete trace, naming no rule of its
		 * own, leaves the path. */
		if (ctrace_nothing_came(c->o) && cb_left_server(c->o)) {
			c->v->cause = CAUSE_PATH_REJECT;
			ev_add(c->v, VERDICT_STAGE_PATH, "it left the server "
			    "host (its nftables trace) and never reached the "
			    "agent host (its nftables trace): a firewall on "
			    "the path rejected it");
		} else if (ctrace_nothing_came(c->o)) {
			ev_add(c->v, VERDICT_STAGE_PATH, "it never reached the "
			    "agent host (its nftables trace): a firewall on "
			    "the path or on the server host rejected it");
			cb_trace_missing(c);
		} else {
			ev_add(c->v, VERDICT_STAGE_PATH, "a firewall on the path "
			    "or on the agent host rejected it");
		}
		return;
	}
	ev_add(c->v, VERDICT_STAGE_PATH, "connect-back from %s to %s was "
	    "answered by a RST", c->src, c->dst);
	ev_add(c->v, VERDICT_STAGE_AGENT, c->o->arrived ?
	    "the agent's listener recorded the connection, so the RST is "
	    "unexplained" : "the agent's listener was not open, so the RST "
	    "may be the agent host's own");
}

static void
in_timeout(struct vctx *c)
{
	fail(c->v, CAUSE_NONE);
	if (c->o->arrived) {
		c->v->cause = CAUSE_RETURN_PATH;
		ev_add(c->v, VERDICT_STAGE_AGENT, "the agent's listener accepted "
		    "the connect-back from %s to %s", c->src, c->dst);
		ev_add(c->v, VERDICT_STAGE_RETURN, "the agent accepted the "
		    "connection but nothing came back to the reflector within "
		    "%u ms", c->ms);
		return;
	}
	ev_add(c->v, VERDICT_STAGE_SERVER, "connect-back SYN from %s to %s: "
	    "no answer within %u ms and no ICMP", c->src, c->dst, c->ms);
	if (in_agent_listening(c->o) && ctrace_nothing_came(c->o) &&
	    cb_left_server(c->o)) {
		c->v->cause = CAUSE_PATH_SILENT_DROP;
		ev_add(c->v, VERDICT_STAGE_SERVER, "the SYN left the server host "
		    "(its nftables trace) and no rule there dropped it");
		ev_add(c->v, VERDICT_STAGE_AGENT, "the agent was listening and "
		    "saw no connection, and the SYN never reached the agent "
		    "host (its nftables trace): dropped silently between "
		    "server and agent");
		return;
	}
	if (in_agent_listening(c->o) && ctrace_nothing_came(c->o)) {
		ev_add(c->v, VERDICT_STAGE_AGENT, "the agent was listening and "
		    "saw no connection, and the SYN never reached the agent "
		    "host (its nftables trace): dropped on the way or on the "
		    "server host");
		cb_trace_missing(c);
		return;
	}
	if (in_agent_listening(c->o)) {
		ev_add(c->v, VERDICT_STAGE_AGENT, "the agent was listening and "
		    "saw no connection: dropped silently on the way, or by a "
		    "firewall on the agent host (only its nftables trace tells "
		    "which)");
		cb_trace_missing(c);
		return;
	}
	ev_add(c->v, VERDICT_STAGE_AGENT, "the agent's listener was not open, "
	    "so where the SYN went is not known");
}

static void
in_other(struct vctx *c)
{
	char b[sizeof(c->o->banner) + 1];

	fail(c->v, CAUSE_NONE);
	ev_add(c->v, VERDICT_STAGE_PATH, "the connect-back from %s to %s "
	    "reached a service that is not the agent's listener", c->src,
	    c->dst);
	ev_add(c->v, VERDICT_STAGE_PATH, "that service's banner: '%s'",
	    banner_text(c->o, b, sizeof(b)));
}

static void
in_silent(struct vctx *c)
{
	if (c->o->arrived) {
		c->v->pass = 1;
		ev_add(c->v, VERDICT_STAGE_AGENT, "the agent's listener recorded "
		    "the connect-back from %s to %s; its acknowledgement did not "
		    "reach the reflector within %u ms", c->src, c->dst, c->ms);
		return;
	}
	fail(c->v, CAUSE_NONE);
	ev_add(c->v, VERDICT_STAGE_SERVER, "the connect-back from %s to %s "
	    "completed a handshake but nothing answered the probe line "
	    "within %u ms", c->src, c->dst, c->ms);
	ev_add(c->v, VERDICT_STAGE_AGENT, "the agent's listener did not record "
	    "it, so something other than the agent accepted it");
}

static void
in_local_error(struct vctx *c)
{
	int e = c->o->error;

	fail(c->v, CAUSE_NONE);
	if (e == ENETUNREACH || e == EHOSTUNREACH) {
		c->v->cause = CAUSE_ROUTING_GAP;
		ev_add(c->v, VERDICT_STAGE_SERVER, "no route from the server "
		    "host to %s (connect-back: %s, no ICMP)", c->dst,
		    errno_name(e));
	} else if (e == EPERM || e == EACCES) {
		ev_add(c->v, VERDICT_STAGE_SERVER, "the connect-back from %s to "
		    "%s failed on the server host (%s): its own firewall "
		    "refused it, or port %u could not be bound", c->src,
		    c->dst, errno_name(e), c->o->port);
	} else {
		ev_add(c->v, VERDICT_STAGE_SERVER, "the connect-back from %s to "
		    "%s failed on the server host (%s, errno %d)", c->src,
		    c->dst, errno_name(e), e);
	}
}

static int
in_path_failure(enum probe_outcome oc)
{
	return oc == OUTCOME_ICMP || oc == OUTCOME_RESET ||
	    oc == OUTCOME_TIMEOUT || oc == OUTCOME_OTHER_SERVICE ||
	    oc == OUTCOME_SILENT_PEER;
}

static void
classify_in(struct vctx *c)
{
	const struct probe_obs *o = c->o;

	ss_text_or(&o->local, &c->f->reflector_local, o->port, c->src,
	    sizeof(c->src));
	ss_text_or(&o->remote, &c->f->agent_observed, 0, c->dst,
	    sizeof(c->dst));
	snprintf(c->what, sizeof(c->what), "connect-back from %s to %s",
	    c->src, c->dst);
	/* A rule on the server host dropped it: it never left, so neither
	 * the path, nor NAT, nor the agent host had a say. */
	if (cb_server_dropped(o)) {
		cb_server_rule(c);
		ctrace_missing(c);
		return;
	}
	/* The agent host's own rule dropped it: whatever NAT there is, the
	 * connect-back got here. */
	if (ctrace_explains(c)) {
		ctrace_local_rule(c);
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
	case OUTCOME_NOT_RUN:		not_run(c); break;
	case OUTCOME_ACKED:		in_acked(c); break;
	case OUTCOME_OTHER_SERVICE:	in_other(c); break;
	case OUTCOME_SILENT_PEER:	in_silent(c); break;
	case OUTCOME_RESET:		in_reset(c); break;
	case OUTCOME_ICMP:		icmp_verdict(c); break;
	case OUTCOME_TIMEOUT:		in_timeout(c); break;
	case OUTCOME_LOCAL_ERROR:	in_local_error(c); break;
	}
	if (in_path_failure(o->outcome))
		ctrace_missing(c);
}

/*
 * A failed probe to a port the reflector listened on itself, while
 * connections without a token came there: the flood is evidence, so
 * that nobody reads the failure as the path's alone.  (The reflector
 * closes such connections at once; they can still crowd a listen queue.)
 */
static void
flood_note(struct vctx *c)
{
	if (c->v->pass || c->o->arm != ARM_LISTENING || c->f->foreign == 0)
		return;
	ev_add(c->v, VERDICT_STAGE_SERVER, "%lu connection(s) without this "
	    "session's token reached the reflector's ports while they were "
	    "armed (a flood or another client)", c->f->foreign);
}

void
verdict_classify(const struct probe_obs *o, const struct session_facts *f,
    struct verdict *v)
{
	struct vctx c;

	memset(v, 0, sizeof(*v));
	memset(&c, 0, sizeof(c));
	c.o = o;
	c.f = f;
	c.v = v;
	c.ms = o->elapsed_ms != 0 ? o->elapsed_ms : f->timeout_ms;
	if (o->kind == PROBE_ACTIVE)
		classify_in(&c);
	else
		classify_out(&c);
	flood_note(&c);
}

static int
nat_between(const struct sockaddr_storage *a,
    const struct sockaddr_storage *b)
{
	if (!ss_known(a) || !ss_known(b))
		return 0;
	return !addr_equal((const struct sockaddr *)a,
	    (const struct sockaddr *)b);
}

int
verdict_client_nat(const struct session_facts *f)
{
	return nat_between(&f->agent_local, &f->agent_observed);
}

int
verdict_server_nat(const struct session_facts *f)
{
	return nat_between(&f->dialled, &f->reflector_local);
}

const char *
cause_name(enum cause c)
{
	switch (c) {
	case CAUSE_NONE:		return NULL;
	case CAUSE_ROUTING_GAP:		return "routing-gap";
	case CAUSE_PATH_SILENT_DROP:	return "path-silent-drop";
	case CAUSE_PATH_REJECT:		return "path-reject";
	case CAUSE_RETURN_PATH:		return "return-path";
	case CAUSE_SERVER_LOCAL_RULE:	return "server-local-rule";
	case CAUSE_CLIENT_LOCAL_RULE:	return "client-local-rule";
	case CAUSE_NAT:			return "nat";
	case CAUSE_ALG_REWRITE:		return "alg-rewrite";
	case CAUSE_ALG_DEPENDENT:	return "alg-dependent";
	case CAUSE_PASV_ADDRESS:	return "pasv-address";
	case CAUSE_NOT_LISTENING:	return "not-listening";
	case CAUSE_SERVICE_REFUSED:	return "service-refused";
	case CAUSE_DNS_MISMATCH:	return "dns-mismatch";
	case CAUSE_CLOCK_SKEW:		return "clock-skew";
	case CAUSE_MTU_BLACKHOLE:	return "mtu-blackhole";
	case CAUSE_IDLE_TIMEOUT:	return "idle-timeout";
	}
	return NULL;
}

enum cause
cause_from_name(const char *name)
{
	const char *n;
	int c;

	/* The classes are numbered from 1 without gaps. */
	for (c = 1; (n = cause_name((enum cause)c)) != NULL; c++)
		if (strcmp(n, name) == 0)
			return (enum cause)c;
	return CAUSE_NONE;
}

const char *
probe_kind_name(enum probe_kind k)
{
	switch (k) {
	case PROBE_CONTROL:	return "control";
	case PROBE_PASSIVE:	return "passive";
	case PROBE_ACTIVE:	return "active";
	}
	return "unknown";
}

const char *
probe_direction_name(enum probe_kind k)
{
	return k == PROBE_ACTIVE ? "server-to-client" : "client-to-server";
}

const char *
outcome_name(enum probe_outcome o)
{
	switch (o) {
	case OUTCOME_NOT_RUN:		return "not-run";
	case OUTCOME_ACKED:		return "acked";
	case OUTCOME_OTHER_SERVICE:	return "other-service";
	case OUTCOME_SILENT_PEER:	return "silent-peer";
	case OUTCOME_RESET:		return "reset";
	case OUTCOME_ICMP:		return "icmp";
	case OUTCOME_TIMEOUT:		return "timeout";
	case OUTCOME_LOCAL_ERROR:	return "local-error";
	}
	return "unknown";
}

const char *
verdict_stage_name(enum verdict_stage s)
{
	switch (s) {
	case VERDICT_STAGE_AGENT:	return "agent host";
	case VERDICT_STAGE_PATH:	return "path";
	case VERDICT_STAGE_SERVER:	return "server host";
	case VERDICT_STAGE_RETURN:	return "way back";
	}
	return "?";
}
