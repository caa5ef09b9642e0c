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
#include "verdict_int.h"

void
vc_ev_add(struct verdict *v, enum verdict_stage st, const char *fmt, ...)
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

void
vc_fail(struct verdict *v, enum cause c)
{
	v->pass = 0;
	v->cause = c;
}

/* "192.0.2.1:21", or the bare address when the port is unknown (0). */
const char *
vc_ss_text(const struct sockaddr *sa, char *buf, size_t len)
{
	if (!addr_is_inet(sa)) {
		snprintf(buf, len, "an unknown address");
		return buf;
	}
	return addr_text(sa, 1, buf, len);	/* v4-mapped as plain v4 */
}

/* The address alone, unmapped: "192.0.2.1". */
const char *
vc_ip_text(const struct sockaddr *sa, char *buf, size_t len)
{
	return addr_text(sa, 0, buf, len);
}

/* ss if known, else fallback with the given port (0 = leave it). */
const char *
vc_ss_text_or(const struct sockaddr *sa, const struct sockaddr *fallback,
    uint16_t port, char *buf, size_t len)
{
	struct sockaddr_storage tmp;

	if (addr_is_inet(sa) || !addr_is_inet(fallback))
		return vc_ss_text(sa, buf, len);
	addr_store(&tmp, fallback);
	if (port != 0)
		addr_set_port((struct sockaddr *)&tmp, port);
	return vc_ss_text(ADDR_SA(&tmp), buf, len);
}

/* Names rather than strerror(): stable, short and locale-free. */
const char *
vc_errno_name(int e)
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
const char *
vc_banner_text(const struct probe_obs *o, char *buf, size_t len)
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

int
vc_banner_starts(const struct probe_obs *o, const char *code)
{
	return strncmp(o->banner, code, strlen(code)) == 0;
}

void
vc_set_hop(struct vctx *c)
{
	if (c->o->icmp.present && addr_is_inet(ADDR_SA(&c->o->icmp.from)))
		vc_ip_text(ADDR_SA(&c->o->icmp.from), c->v->hop,
		    sizeof(c->v->hop));
}

void
vc_not_run(struct vctx *c)
{
	vc_fail(c->v, CAUSE_NONE);
	vc_ev_add(c->v, VERDICT_STAGE_AGENT, "not tested: the %s probe of port "
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

	if (c->o->kind == PROBE_ACTIVE ||
	    !addr_is_inet(ADDR_SA(&c->f->server)) ||
	    !addr_is_inet(ADDR_SA(&c->f->dialled)) ||
	    addr_equal(srv, (const struct sockaddr *)&c->f->dialled) ||
	    addr_equal(srv, (const struct sockaddr *)&c->f->reflector_local))
		return;
	vc_ev_add(c->v, VERDICT_STAGE_SERVER, "the reflector answered at its "
	    "management address %s, but the FTP service address %s is "
	    "unreachable from the agent: route its segment, or serve FTP on "
	    "an address the clients can reach",
	    vc_ss_text(ADDR_SA(&c->f->dialled), mgmt, sizeof(mgmt)),
	    vc_ip_text(ADDR_SA(&c->f->server), svc, sizeof(svc)));
}

/*
 * ICMP from the socket error queue, either direction.  Only the two
 * unreachable families identify a cause; the sender is the hop.
 */
/*
 * An ICMP error sent in the name of the address we dialled, which is the
 * address the reflector's own control connection arrived on (no DNAT in
 * between): only the server host's own stack sends that.  (With the
 * server-side trace, vc_trace_verdict() has already named the rule.)
 */
static int
icmp_from_server_host(const struct vctx *c)
{
	const struct sockaddr *from = (const struct sockaddr *)&c->o->icmp.from;
	const struct sockaddr *dst = addr_is_inet(ADDR_SA(&c->o->remote)) ?
	    ADDR_SA(&c->o->remote) : ADDR_SA(&c->f->server);

	return c->o->kind != PROBE_ACTIVE &&
	    addr_is_inet(ADDR_SA(&c->o->icmp.from)) &&
	    addr_is_inet(ADDR_SA(&c->f->reflector_local)) &&
	    addr_equal(from, dst) &&
	    addr_equal(from, (const struct sockaddr *)&c->f->reflector_local);
}

void
vc_icmp_verdict(struct vctx *c)
{
	const struct errq_icmp *e = &c->o->icmp;
	char desc[64], from[ADDR_STRLEN];

	vc_fail(c->v, CAUSE_NONE);
	if (!e->present) {
		vc_ev_add(c->v, VERDICT_STAGE_PATH, "%s failed as if an ICMP "
		    "error came back (%s), but the error queue held none, so "
		    "its sender and kind are unknown", c->what,
		    vc_errno_name(c->o->error));
		return;
	}
	vc_set_hop(c);
	errq_describe(e, desc, sizeof(desc));
	if (addr_is_inet(ADDR_SA(&e->from)))
		vc_ip_text(ADDR_SA(&e->from), from, sizeof(from));
	else
		snprintf(from, sizeof(from), "an unknown sender");
	if (c->o->icmp_retry_port != 0)
		vc_ev_add(c->v, VERDICT_STAGE_PATH, "%s timed out with no ICMP "
		    "while other ports got ICMP: %s rate-limits ICMP; port %u "
		    "retried alone got %s from %s", c->what, from,
		    c->o->icmp_retry_port, desc, from);
	else
		vc_ev_add(c->v, VERDICT_STAGE_PATH, "%s got %s from %s", c->what,
		    desc, from);
	if (errq_is_admin_prohibited(e) && icmp_from_server_host(c)) {
		c->v->cause = CAUSE_SERVER_LOCAL_RULE;
		vc_ev_add(c->v, VERDICT_STAGE_SERVER, "the rejection came from the "
		    "server host itself (%s, the reflector's own address): a "
		    "rule in its firewall rejects the connection; which rule "
		    "is not known without the server-side trace", from);
	} else if (errq_is_admin_prohibited(e)) {
		c->v->cause = CAUSE_PATH_REJECT;
		vc_ev_add(c->v, VERDICT_STAGE_PATH, "a firewall at %s rejects the "
		    "connection administratively", from);
	} else if (errq_is_net_or_host_unreachable(e)) {
		c->v->cause = CAUSE_ROUTING_GAP;
		vc_ev_add(c->v, VERDICT_STAGE_PATH, "%s could not forward the "
		    "packet towards %s: no route, or the host does not answer "
		    "on its segment", from, c->dst);
		service_addr_note(c);
	} else {
		vc_ev_add(c->v, VERDICT_STAGE_PATH, "this kind of ICMP error does "
		    "not identify a cause by itself");
	}
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
	vc_ev_add(c->v, VERDICT_STAGE_SERVER, "%lu connection(s) without this "
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
		vc_classify_in(&c);
	else
		vc_classify_out(&c);
	flood_note(&c);
}

static int
nat_between(const struct sockaddr_storage *a,
    const struct sockaddr_storage *b)
{
	if (!addr_is_inet(ADDR_SA(a)) || !addr_is_inet(ADDR_SA(b)))
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
