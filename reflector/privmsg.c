/*
 * privmsg.c - the helper's checks of the engine's requests (privmsg.h).
 */
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "divert.h"
#include "err.h"
#include "fw_shared.h"
#include "fw_trace.h"
#include "patch.h"
#include "privmsg.h"

/* Above the budget by at most one plan: armq arms a larger plan alone. */
#define PRIVMSG_PLAN_MAX	65536u
/* An element outlives its session by at most this (trace.c's margin). */
#define PRIVMSG_TIMEOUT_SLACK_MS	(60u * 1000)

static const char *const privmsg_names[PRIVMSG_TYPE_MAX] = {
	[PRIVMSG_LISTEN] = "listen",
	[PRIVMSG_LISTEN_TPROXY] = "listen-tproxy",
	[PRIVMSG_BOUND] = "bound",
	[PRIVMSG_ROUTE] = "route",
	[PRIVMSG_TRACE_SOCKET] = "trace-socket",
	[PRIVMSG_TABLE] = "table",
	[PRIVMSG_TPROXY_RULE] = "tproxy-rule",
	[PRIVMSG_ELEMS] = "elements",
	[PRIVMSG_RULE_FACTS] = "rule-facts",
	[PRIVMSG_CLEANUP] = "cleanup",
	[PRIVMSG_VERIFY_PATCH] = "verify-patch",
};

const char *
privmsg_type_name(uint32_t type)
{
	if (type == 0 || type >= PRIVMSG_TYPE_MAX)
		return "unknown";
	return privmsg_names[type];
}

static int
privmsg_deny(char *why, size_t whylen, const char *what)
{
	snprintf(why, whylen, "%s", what);
	return FTP_ERR_DENIED;
}

static int
privmsg_inet(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET || ss->ss_family == AF_INET6;
}

static int
privmsg_loopback(const struct sockaddr_storage *ss)
{
	static const struct in6_addr lo6 = IN6ADDR_LOOPBACK_INIT;

	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)(const void *)ss)->
		    sin_addr.s_addr == htonl(INADDR_LOOPBACK);
	if (ss->ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)(const void *)ss)->
		    sin6_addr, &lo6, sizeof(lo6)) == 0;
	return 0;
}

/* A host's unicast address: what an agent's observed address can be. */
static int
privmsg_unicast(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		uint32_t a = ntohl(((const struct sockaddr_in *)(const void *)
		    ss)->sin_addr.s_addr);

		return a != 0 && (a >> 24) != 127 && (a >> 28) != 14 &&
		    a != 0xffffffffu;
	}
	if (ss->ss_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)
		    (const void *)ss)->sin6_addr;

		return !IN6_IS_ADDR_UNSPECIFIED(a) && !IN6_IS_ADDR_LOOPBACK(a) &&
		    !IN6_IS_ADDR_MULTICAST(a) && !IN6_IS_ADDR_V4MAPPED(a);
	}
	return 0;
}

/* What nftables table and chain names are made of, NUL-terminated. */
static int
privmsg_name_ok(const char *s)
{
	size_t i, n = strnlen(s, PRIVMSG_NAME_MAX);

	if (n == 0 || n == PRIVMSG_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		    c == '.' || c == '/'))
			return 0;
	}
	return 1;
}

static int
privmsg_check_listen(const struct privmsg_req *q,
    const struct reflector_config *cfg, char *why, size_t whylen)
{
	uint16_t port = addr_port((const struct sockaddr *)&q->addr);

	if (!privmsg_inet(&q->addr))
		return privmsg_deny(why, whylen, "not an IPv4/IPv6 address");
	if (q->backlog < 1 || q->backlog > SOMAXCONN)
		return privmsg_deny(why, whylen, "backlog out of range");
	if (q->type == PRIVMSG_LISTEN_TPROXY) {
		if (!privmsg_loopback(&q->addr) || port != 0)
			return privmsg_deny(why, whylen, "a transparent "
			    "listener is on loopback, its port chosen here");
		if (q->flag < 1 || q->flag > PRIVMSG_MAX_FDS)
			return privmsg_deny(why, whylen, "group size out of "
			    "range");
		return 0;
	}
	if (port == 0 || !portset_contains(cfg->allowed, port))
		return privmsg_deny(why, whylen, "port not allowed by the "
		    "configuration");
	return 0;
}

static int
privmsg_check_bound(const struct privmsg_req *q,
    const struct reflector_config *cfg, char *why, size_t whylen)
{
	if (!privmsg_inet(&q->addr))
		return privmsg_deny(why, whylen, "not an IPv4/IPv6 address");
	if (addr_port((const struct sockaddr *)&q->addr) !=
	    cfg->active_source_port)
		return privmsg_deny(why, whylen, "a connect-back comes from "
		    "active_source_port only");
	return 0;
}

static int
privmsg_check_op(const struct privmsg_op *op,
    const struct reflector_config *cfg)
{
	struct portrange r;

	if (op->add > 1 || op->which > FW_SHARED_ACTIVE)
		return 0;
	if (op->which == FW_SHARED_ACTIVE)
		return 1;
	r.lo = op->lo;
	r.hi = op->hi;
	return r.lo != 0 && r.lo <= r.hi &&
	    portset_contains_range(cfg->allowed, &r);
}

static int
privmsg_check_elems(const struct privmsg_req *q,
    const struct reflector_config *cfg, uint64_t armed, char *why,
    size_t whylen)
{
	uint64_t max_ms = (uint64_t)cfg->session_lifetime_s * 1000 +
	    PRIVMSG_TIMEOUT_SLACK_MS;
	int64_t delta;
	uint32_t i;

	if (!privmsg_unicast(&q->addr))
		return privmsg_deny(why, whylen, "the peer is not a unicast "
		    "address of a host");
	if (q->nops == 0 || q->nops > PRIVMSG_MAX_OPS)
		return privmsg_deny(why, whylen, "element count out of range");
	for (i = 0; i < q->nops; i++) {
		if (!privmsg_check_op(&q->ops[i], cfg))
			return privmsg_deny(why, whylen, "an element names a "
			    "set or ports the configuration does not allow");
		if (q->ops[i].add && (q->timeout_ms == 0 ||
		    q->timeout_ms > max_ms))
			return privmsg_deny(why, whylen, "an element's timeout "
			    "is not within the session lifetime");
	}
	delta = privmsg_probe_delta(q);
	if (delta > 0 && armed + (uint64_t)delta >
	    (uint64_t)cfg->max_armed_ports + PRIVMSG_PLAN_MAX)
		return privmsg_deny(why, whylen, "more probe ports than "
		    "max_armed_ports allows");
	return 0;
}

static int
privmsg_check_nft(const struct privmsg_req *q,
    const struct reflector_config *cfg, char *why, size_t whylen)
{
	switch (q->type) {
	case PRIVMSG_TABLE:
		if (q->flag > 1 || (q->flag && q->port != 0 &&
		    q->port != cfg->active_source_port))
			return privmsg_deny(why, whylen, "the table traces "
			    "connect-backs from active_source_port only");
		return 0;
	case PRIVMSG_TPROXY_RULE:
		if (!privmsg_loopback(&q->addr) ||
		    addr_port((const struct sockaddr *)&q->addr) == 0 ||
		    q->mark != DIVERT_MARK)
			return privmsg_deny(why, whylen, "tproxy diverts to a "
			    "loopback listener with the reflector's mark only");
		return 0;
	case PRIVMSG_RULE_FACTS:
		if (q->family != NFPROTO_INET && q->family != NFPROTO_IPV4 &&
		    q->family != NFPROTO_IPV6 && q->family != NFPROTO_ARP &&
		    q->family != NFPROTO_BRIDGE && q->family != NFPROTO_NETDEV)
			return privmsg_deny(why, whylen, "unknown family");
		if (!privmsg_name_ok(q->table) || !privmsg_name_ok(q->chain))
			return privmsg_deny(why, whylen, "not a table or chain "
			    "name");
		return 0;
	case PRIVMSG_ROUTE:
		if (q->flag > 1 || (q->family != AF_INET &&
		    q->family != AF_INET6))
			return privmsg_deny(why, whylen, "bad route request");
		return 0;
	}
	return 0;
}

int
privmsg_check(const struct privmsg_req *q, size_t len,
    const struct reflector_config *cfg, uint64_t armed, char *why,
    size_t whylen)
{
	if (len != sizeof(*q)) {
		snprintf(why, whylen, "a request of %zu bytes (want %zu)", len,
		    sizeof(*q));
		return FTP_ERR_INVAL;
	}
	switch (q->type) {
	case PRIVMSG_LISTEN:
	case PRIVMSG_LISTEN_TPROXY:
		return privmsg_check_listen(q, cfg, why, whylen);
	case PRIVMSG_BOUND:
		return privmsg_check_bound(q, cfg, why, whylen);
	case PRIVMSG_ELEMS:
		return privmsg_check_elems(q, cfg, armed, why, whylen);
	case PRIVMSG_TABLE:
	case PRIVMSG_TPROXY_RULE:
	case PRIVMSG_RULE_FACTS:
	case PRIVMSG_ROUTE:
		return privmsg_check_nft(q, cfg, why, whylen);
	case PRIVMSG_TRACE_SOCKET:
		if (q->backlog < 0 || q->backlog > FW_TRACE_RCVBUF_LARGE)
			return privmsg_deny(why, whylen, "receive buffer out of "
			    "range");
		return 0;
	case PRIVMSG_CLEANUP:
		return 0;
	case PRIVMSG_VERIFY_PATCH:
		if (memchr(q->text, '\0', sizeof(q->text)) == NULL)
			return privmsg_deny(why, whylen, "patch text not "
			    "terminated");
		if (patch_only_additions(q->text) != 0)
			return privmsg_deny(why, whylen, "not additions only");
		return 0;
	}
	snprintf(why, whylen, "unknown request type %u", q->type);
	return FTP_ERR_INVAL;
}

int64_t
privmsg_probe_delta(const struct privmsg_req *q)
{
	int64_t d = 0;
	uint32_t i;

	for (i = 0; i < q->nops && i < PRIVMSG_MAX_OPS; i++) {
		const struct privmsg_op *op = &q->ops[i];

		if (op->which != FW_SHARED_PROBE || op->lo == 0 ||
		    op->lo > op->hi)
			continue;
		d += (op->add ? 1 : -1) * (int64_t)(op->hi - op->lo + 1);
	}
	return d;
}
