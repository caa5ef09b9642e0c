/*
 * fw.c - session tables: builders and their use (see fw.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>

#include "err.h"
#include "fw.h"
#include "fw_expr.h"
#include "fw_route.h"

/* nft's datatype id for inet_service: lets `nft list` print the set's
 * elements as ports. */
#define FW_TYPE_INET_SERVICE	13
/* Set id tying the lookup to the set created in the same transaction. */
#define FW_SET_ID		1
/* Per-range room in the batch: two elements of ~40 bytes each. */
#define FW_BYTES_PER_RANGE	96

/* ---- names ---- */

int
fw_id_check(const char *id)
{
	size_t i;

	if (id == NULL || id[0] == '\0')
		return FTP_ERR_INVAL;
	for (i = 0; id[i] != '\0'; i++) {
		if (i >= FW_ID_MAX)
			return FTP_ERR_INVAL;
		if (!((id[i] >= 'a' && id[i] <= 'z') ||
		    (id[i] >= '0' && id[i] <= '9')))
			return FTP_ERR_INVAL;
	}
	return 0;
}

int
fw_name_check(const char *name)
{
	size_t i;
	char c;

	if (name == NULL || name[0] == '\0')
		return FTP_ERR_INVAL;
	for (i = 0; (c = name[i]) != '\0'; i++) {
		if (i >= FW_NAME_MAX - 1)
			return FTP_ERR_INVAL;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		    c == '-'))
			return FTP_ERR_INVAL;
	}
	return 0;
}

int
fw_table_name(const char *id, char *buf, size_t len)
{
	int n;

	if (fw_id_check(id) != 0)
		return FTP_ERR_INVAL;
	n = snprintf(buf, len, "%s%s", FW_TABLE_PREFIX, id);
	if (n < 0 || (size_t)n >= len)
		return FTP_ERR_TOOBIG;
	return 0;
}

int
fw_table_is_ours(const char *name)
{
	size_t plen = strlen(FW_TABLE_PREFIX);

	if (name == NULL || strncmp(name, FW_TABLE_PREFIX, plen) != 0)
		return FTP_ERR_INVAL;
	return fw_id_check(name + plen);
}

int
fw_spec_check(const struct fw_spec *spec)
{
	size_t i;
	int fam;

	if (spec == NULL || fw_id_check(spec->id) != 0)
		return FTP_ERR_INVAL;
	fam = spec->peer.ss_family;
	if (fam != AF_INET && fam != AF_INET6)
		return FTP_ERR_INVAL;
	if (spec->parts == 0 ||
	    (spec->parts & ~(unsigned)(FW_PART_TRACE | FW_PART_TPROXY)) != 0)
		return FTP_ERR_INVAL;
	if (spec->flags & ~(unsigned)(FW_F_OWNER | FW_F_CLIENT))
		return FTP_ERR_INVAL;
	/* tproxy steers connections to the reflector: a server's part. */
	if ((spec->flags & FW_F_CLIENT) && (spec->parts & FW_PART_TPROXY))
		return FTP_ERR_INVAL;
	if (spec->ports == NULL || spec->nports == 0)
		return FTP_ERR_INVAL;
	if (spec->nports > FW_PORTS_MAX)
		return FTP_ERR_TOOBIG;
	for (i = 0; i < spec->nports; i++)
		if (spec->ports[i].lo == 0 ||
		    spec->ports[i].lo > spec->ports[i].hi)
			return FTP_ERR_RANGE;
	if ((spec->parts & FW_PART_TPROXY) &&
	    (spec->tproxy_port == 0 || spec->tproxy_mark == 0))
		return FTP_ERR_INVAL;
	/* The connect-back is a server's, and is only traced. */
	if (spec->trace_active_port != 0 && (!(spec->parts & FW_PART_TRACE) ||
	    (spec->flags & FW_F_CLIENT)))
		return FTP_ERR_INVAL;
	if ((spec->parts & FW_PART_TPROXY) &&
	    spec->tproxy_addr.ss_family != AF_UNSPEC &&
	    spec->tproxy_addr.ss_family != fam)
		return FTP_ERR_INVAL;
	return 0;
}

/* ---- port ranges ---- */

static int
fw_range_cmp(const void *a, const void *b)
{
	const struct portrange *x = a, *y = b;

	return (int)x->lo - (int)y->lo;
}

/* Sort and merge overlapping or adjacent ranges: the kernel's interval
 * set refuses overlapping elements, and callers should not need to care.
 * Returns the merged count; r is rewritten in place. */
static size_t
fw_ranges_merge(struct portrange *r, size_t n)
{
	size_t i, out = 0;

	qsort(r, n, sizeof(*r), fw_range_cmp);
	for (i = 1; i < n; i++) {
		if ((uint32_t)r[i].lo <= (uint32_t)r[out].hi + 1) {
			if (r[i].hi > r[out].hi)
				r[out].hi = r[i].hi;
		} else
			r[++out] = r[i];
	}
	return n == 0 ? 0 : out + 1;
}

/* ---- expressions ---- */

/* Append an expression; on failure the rule is left as it was. */
static int
fw_lookup_ports(struct nftnl_rule *r)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
		nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, FW_SET_PORTS);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, FW_SET_ID);
	}
	return fw_expr_add(r, e);
}

/* The port is in register 1; the address, if with_addr, in register 2. */
/* Load the tproxy address into register 2 (nothing when unset). */
/*
 * "meta nfproto X meta l4proto tcp ip[6] Xaddr PEER": in an inet table
 * the L3 protocol must be checked before reading the network header, as
 * nft itself does.  from_peer picks saddr, else daddr.
 */
static int
fw_match_addr(struct nftnl_rule *r, const struct sockaddr_storage *peer,
    int from_peer)
{
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)peer;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)peer;
	uint8_t nfproto, l4 = IPPROTO_TCP;
	uint32_t aoff, alen;
	const void *addr;
	int r0;

	if (peer->ss_family == AF_INET) {
		nfproto = NFPROTO_IPV4;
		aoff = from_peer ? 12 : 16;	/* iphdr saddr / daddr */
		alen = 4;
		addr = &s4->sin_addr;
	} else {
		nfproto = NFPROTO_IPV6;
		aoff = from_peer ? 8 : 24;	/* ipv6hdr saddr / daddr */
		alen = 16;
		addr = &s6->sin6_addr;
	}
	if ((r0 = fw_meta_load(r, NFT_META_NFPROTO)) != 0 ||
	    (r0 = fw_cmp_eq(r, &nfproto, 1)) != 0 ||
	    (r0 = fw_meta_load(r, NFT_META_L4PROTO)) != 0 ||
	    (r0 = fw_cmp_eq(r, &l4, 1)) != 0 ||
	    (r0 = fw_payload_load(r, NFT_PAYLOAD_NETWORK_HEADER, aoff,
	    alen)) != 0 ||
	    (r0 = fw_cmp_eq(r, addr, alen)) != 0)
		return r0;
	return 0;
}

/*
 * The common match: the peer's address, then "tcp Xport @ports".  The
 * ports are ours on a server (dport when the packet comes from the peer)
 * and the peer's on a client (sport when it comes from the peer), hence
 * the exclusive or.
 */
static int
fw_match_peer(struct nftnl_rule *r, const struct sockaddr_storage *peer,
    int from_peer, int client)
{
	uint32_t poff = (!from_peer != !client) ? 2 : 0; /* tcphdr dest/source */
	int r0;

	if ((r0 = fw_match_addr(r, peer, from_peer)) != 0 ||
	    (r0 = fw_payload_load(r, NFT_PAYLOAD_TRANSPORT_HEADER, poff,
	    2)) != 0 ||
	    (r0 = fw_lookup_ports(r)) != 0)
		return r0;
	return 0;
}

/* "ip daddr PEER tcp sport ACTIVE": our connect-back to the peer. */
static int
fw_match_active(struct nftnl_rule *r, const struct fw_spec *spec)
{
	uint16_t port = htons(spec->trace_active_port);
	int r0;

	if ((r0 = fw_match_addr(r, &spec->peer, 0)) != 0 ||
	    (r0 = fw_payload_load(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0,
	    2)) != 0 ||
	    (r0 = fw_cmp_eq(r, &port, sizeof(port))) != 0)
		return r0;
	return 0;
}

/*
 * "tcp flags & (syn | rst) != 0": the verdicts need only the SYN, the
 * SYN-ACK and a RST; tracing every segment of thousands of passing
 * probes would overflow the trace socket and lose the events that count.
 */
/* "... meta nftrace set 1" */
/* "... tproxy ip to [ADDR]:PORT meta mark set MARK accept" */
static int
fw_stmt_tproxy(struct nftnl_rule *r, const struct fw_spec *spec)
{
	return fw_stmt_tproxy_to(r, spec->peer.ss_family == AF_INET ?
	    NFPROTO_IPV4 : NFPROTO_IPV6, &spec->tproxy_addr,
	    spec->tproxy_port, spec->tproxy_mark);
}

/* ---- objects into the batch ---- */

static int
fw_put_table(struct fw_batch *b, const char *table, unsigned flags)
{
	return fw_put_inet_table(b, table, (flags & FW_F_OWNER) != 0);
}

static struct nftnl_set *
fw_set_new(const char *table)
{
	struct nftnl_set *s;

	if ((s = nftnl_set_alloc()) == NULL)
		return NULL;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, FW_SET_PORTS);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(s, NFTNL_SET_ID, FW_SET_ID);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, FW_TYPE_INET_SERVICE);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, sizeof(uint16_t));
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_INTERVAL);
	return s;
}

static int
fw_set_add_key(struct nftnl_set *s, uint32_t port, int end)
{
	struct nftnl_set_elem *e;
	uint16_t key = htons((uint16_t)port);

	if ((e = nftnl_set_elem_alloc()) == NULL)
		return FTP_ERR_NOMEM;
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, &key, sizeof(key));
	if (end)
		nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS,
		    NFT_SET_ELEM_INTERVAL_END);
	nftnl_set_elem_add(s, e);	/* the set owns e */
	return 0;
}

/* The set and its elements: an interval [lo, hi] is the element lo plus
 * an end marker at hi + 1 (none when hi is the last port). */
static int
fw_put_set(struct fw_batch *b, const char *table, const struct portrange *pr,
    size_t n)
{
	struct nftnl_set *s;
	struct nlmsghdr *nlh;
	size_t i;
	int r = FTP_ERR_NOMEM;

	if ((s = fw_set_new(table)) == NULL)
		goto out;
	r = FTP_ERR_TOOBIG;
	if ((nlh = fw_batch_nft_msg(b, NFT_MSG_NEWSET, NFPROTO_INET,
	    NLM_F_CREATE | NLM_F_EXCL)) == NULL)
		goto out;
	nftnl_set_nlmsg_build_payload(nlh, s);
	if ((r = fw_batch_commit(b)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		if ((r = fw_set_add_key(s, pr[i].lo, 0)) != 0)
			goto out;
		if (pr[i].hi < UINT16_MAX &&
		    (r = fw_set_add_key(s, pr[i].hi + 1u, 1)) != 0)
			goto out;
	}
	r = FTP_ERR_TOOBIG;
	if ((nlh = fw_batch_nft_msg(b, NFT_MSG_NEWSETELEM, NFPROTO_INET,
	    NLM_F_CREATE | NLM_F_EXCL)) == NULL)
		goto out;
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	r = fw_batch_commit(b);
out:
	nftnl_set_free(s);
	return r;
}

enum fw_rule_kind {
	FW_RULE_TRACE_IN,
	FW_RULE_TRACE_OUT,
	FW_RULE_TRACE_ACTIVE,
	FW_RULE_TPROXY,
};

static int
fw_put_rule(struct fw_batch *b, const char *table, const char *chain,
    const struct fw_spec *spec, enum fw_rule_kind kind)
{
	struct nftnl_rule *r;
	struct nlmsghdr *nlh;
	int rc = FTP_ERR_NOMEM;

	if ((r = nftnl_rule_alloc()) == NULL)
		goto out;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	if (kind == FW_RULE_TRACE_ACTIVE)
		rc = fw_match_active(r, spec);
	else
		rc = fw_match_peer(r, &spec->peer, kind != FW_RULE_TRACE_OUT,
		    (spec->flags & FW_F_CLIENT) != 0);
	if (rc != 0)
		goto out;
	if (kind == FW_RULE_TPROXY)
		rc = fw_stmt_tproxy(r, spec);
	else if ((rc = fw_match_syn_or_rst(r)) == 0)
		rc = fw_stmt_trace(r);
	if (rc != 0)
		goto out;
	rc = FTP_ERR_TOOBIG;
	if ((nlh = fw_batch_nft_msg(b, NFT_MSG_NEWRULE, NFPROTO_INET,
	    NLM_F_CREATE | NLM_F_APPEND)) == NULL)
		goto out;
	nftnl_rule_nlmsg_build_payload(nlh, r);
	rc = fw_batch_commit(b);
out:
	nftnl_rule_free(r);
	return rc;
}

static int
fw_put_parts(struct fw_batch *b, const char *table, const struct fw_spec *spec)
{
	int r;

	if (spec->parts & FW_PART_TRACE) {
		if ((r = fw_put_base_chain(b, table, FW_CHAIN_TRACE_PRE,
		    NF_INET_PRE_ROUTING, FW_PRIO_TRACE)) != 0 ||
		    (r = fw_put_rule(b, table, FW_CHAIN_TRACE_PRE, spec,
		    FW_RULE_TRACE_IN)) != 0 ||
		    (r = fw_put_base_chain(b, table, FW_CHAIN_TRACE_OUT,
		    NF_INET_LOCAL_OUT, FW_PRIO_TRACE)) != 0 ||
		    (r = fw_put_rule(b, table, FW_CHAIN_TRACE_OUT, spec,
		    FW_RULE_TRACE_OUT)) != 0)
			return r;
		if (spec->trace_active_port != 0 &&
		    (r = fw_put_rule(b, table, FW_CHAIN_TRACE_OUT, spec,
		    FW_RULE_TRACE_ACTIVE)) != 0)
			return r;
	}
	if (spec->parts & FW_PART_TPROXY) {
		if ((r = fw_put_base_chain(b, table, FW_CHAIN_TPROXY,
		    NF_INET_PRE_ROUTING, FW_PRIO_TPROXY)) != 0 ||
		    (r = fw_put_rule(b, table, FW_CHAIN_TPROXY, spec,
		    FW_RULE_TPROXY)) != 0)
			return r;
	}
	return 0;
}

int
fw_build_add(const struct fw_spec *spec, uint32_t seq, struct fw_batch **out)
{
	char table[FW_TABLE_MAX];
	struct portrange *pr = NULL;
	struct fw_batch *b = NULL;
	size_t n;
	int r;

	if ((r = fw_spec_check(spec)) != 0 ||
	    (r = fw_table_name(spec->id, table, sizeof(table))) != 0)
		goto out;
	r = FTP_ERR_NOMEM;
	if ((pr = calloc(spec->nports, sizeof(*pr))) == NULL)
		goto out;
	memcpy(pr, spec->ports, spec->nports * sizeof(*pr));
	n = fw_ranges_merge(pr, spec->nports);
	if ((b = fw_batch_new(n * FW_BYTES_PER_RANGE, seq, 1)) == NULL)
		goto out;
	if ((r = fw_put_table(b, table, spec->flags)) != 0 ||
	    (r = fw_put_set(b, table, pr, n)) != 0 ||
	    (r = fw_put_parts(b, table, spec)) != 0 ||
	    (r = fw_batch_finish(b)) != 0)
		goto out;
	*out = b;
	b = NULL;
	r = 0;
out:
	fw_batch_free(b);
	free(pr);
	return r;
}

int
fw_build_del_table(int family, const char *name, uint32_t seq,
    struct fw_batch **out)
{
	struct fw_batch *b = NULL;
	int r;

	if (fw_name_check(name) != 0 || family < 0 || family > UINT8_MAX)
		return FTP_ERR_INVAL;
	if ((b = fw_batch_new(0, seq, 1)) == NULL)
		return FTP_ERR_NOMEM;
	if ((r = fw_put_del_table(b, family, name)) != 0 ||
	    (r = fw_batch_finish(b)) != 0)
		goto out;
	*out = b;
	b = NULL;
out:
	fw_batch_free(b);
	return r;
}

int
fw_build_del(const char *id, uint32_t seq, struct fw_batch **out)
{
	char table[FW_TABLE_MAX];
	int r;

	if ((r = fw_table_name(id, table, sizeof(table))) != 0)
		return r;
	return fw_build_del_table(NFPROTO_INET, table, seq, out);
}

/* ---- talk ---- */

int
fw_table_add(struct fw_nl *nl, const struct fw_spec *spec)
{
	struct fw_batch *b = NULL;
	int r;

	if ((r = fw_build_add(spec, fw_nl_seq(nl), &b)) == 0)
		r = fw_nl_talk(nl, b);
	fw_batch_free(b);
	return r;
}

int
fw_table_del(struct fw_nl *nl, const char *id)
{
	struct fw_batch *b = NULL;
	int r;

	if ((r = fw_build_del(id, fw_nl_seq(nl), &b)) == 0)
		r = fw_nl_talk(nl, b);
	fw_batch_free(b);
	return r;
}

/* ---- stale cleanup ---- */

struct fw_stale {
	struct fw_batch	*b;
	int		 err;
};

/* Dump callback: queue a delete for every table that is ours. */
static int
fw_stale_table_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct fw_stale *st = arg;
	struct nftnl_table *t;
	const char *name;
	int r = 0;

	if ((t = nftnl_table_alloc()) == NULL)
		return FTP_ERR_NOMEM;
	if (nftnl_table_nlmsg_parse(nlh, t) < 0)
		goto out;	/* not a table: nothing of ours */
	name = nftnl_table_get_str(t, NFTNL_TABLE_NAME);
	if (fw_table_is_ours(name) == 0)
		r = fw_put_del_table(st->b,
		    (int)nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY), name);
out:
	nftnl_table_free(t);
	return r;
}

static int
fw_table_cleanup_once(struct fw_nl *nl, unsigned *removed)
{
	char req[MNL_SOCKET_BUFFER_SIZE];
	struct fw_stale st = { 0 };
	struct nlmsghdr *nlh;
	uint32_t seq = fw_nl_seq(nl);
	int r;

	/* Room for many deletes: a crash loop may have left dozens. */
	if ((st.b = fw_batch_new(64 * 1024, seq + 1, 1)) == NULL)
		return FTP_ERR_NOMEM;
	nlh = nftnl_nlmsg_build_hdr(req, NFT_MSG_GETTABLE, NFPROTO_UNSPEC,
	    NLM_F_DUMP, seq);
	if ((r = fw_nl_dump(nl, nlh, nlh->nlmsg_len, seq, fw_stale_table_cb,
	    &st)) != 0 || (r = fw_batch_finish(st.b)) != 0)
		goto out;
	if (fw_batch_count(st.b) > 0 && (r = fw_nl_talk(nl, st.b)) != 0)
		goto out;
	if (removed != NULL)
		*removed = fw_batch_count(st.b);
out:
	fw_batch_free(st.b);
	return r;
}

int
fw_table_cleanup_stale(struct fw_nl *nl, unsigned *removed)
{
	int r, tries = 0;

	/* A dump that raced with another ruleset change is marked
	 * interrupted (EAGAIN here); it is only a snapshot, so take a new
	 * one. */
	do {
		r = fw_table_cleanup_once(nl, removed);
	} while (r == FTP_ERR_SYSTEM && errno == EAGAIN && ++tries < 3);
	return r;
}

int
fw_cleanup_stale(unsigned *removed)
{
	struct fw_nl *nft = NULL, *rt = NULL;
	unsigned nt = 0, nr = 0;
	int r = FTP_ERR_SYSTEM, r2;

	if ((nft = fw_nl_open(NETLINK_NETFILTER)) == NULL ||
	    (rt = fw_nl_open(NETLINK_ROUTE)) == NULL)
		goto out;
	/* Both halves run even if one fails: a leftover rule is a hole. */
	r = fw_table_cleanup_stale(nft, &nt);
	r2 = fw_route_cleanup_stale(rt, &nr);
	if (r == 0)
		r = r2;
	if (r == 0 && removed != NULL)
		*removed = nt + nr;
out:
	fw_nl_free(rt);
	fw_nl_free(nft);
	return r;
}
