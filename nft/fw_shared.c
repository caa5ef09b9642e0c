/*
 * fw_shared.c - builders of the reflector's shared table (see
 * fw_shared.h).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

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
#include "fw_shared.h"

#define FW_SHARED_TABLE		FW_TABLE_PREFIX FW_SHARED_ID
#define FW_SHARED_TPROXY4	"tproxy4"
#define FW_SHARED_TPROXY6	"tproxy6"
/* nft's datatype ids (nft list prints the elements readably) and its
 * concatenation encoding: first type << 6 | second. */
#define FW_TYPE_IPV4	7
#define FW_TYPE_IPV6	8
#define FW_TYPE_SERVICE	13
#define FW_TYPE_CONCAT(a, b)	(((a) << 6) | (b))
/* Per element in the batch: key, key end, timeout, headers. */
#define FW_SHARED_BYTES_PER_ELEM	128
#define FW_SHARED_BYTES_BASE		8192

struct fw_shared_setdef {
	const char	*name;
	int		 family;	/* AF_* of the keys */
	enum fw_shared_set which;
	uint32_t	 set_id;	/* ties a rule to a set of the batch */
};

static const struct fw_shared_setdef fw_shared_sets[] = {
	{ "probe4", AF_INET, FW_SHARED_PROBE, 1 },
	{ "probe6", AF_INET6, FW_SHARED_PROBE, 2 },
	{ "divert4", AF_INET, FW_SHARED_DIVERT, 3 },
	{ "divert6", AF_INET6, FW_SHARED_DIVERT, 4 },
	{ "active4", AF_INET, FW_SHARED_ACTIVE, 5 },
	{ "active6", AF_INET6, FW_SHARED_ACTIVE, 6 },
};
#define FW_SHARED_NSETS	(sizeof(fw_shared_sets) / sizeof(fw_shared_sets[0]))

static const struct fw_shared_setdef *
fw_shared_setdef(enum fw_shared_set which, int family)
{
	size_t i;

	for (i = 0; i < FW_SHARED_NSETS; i++)
		if (fw_shared_sets[i].which == which &&
		    fw_shared_sets[i].family == family)
			return &fw_shared_sets[i];
	return NULL;
}

static size_t
fw_shared_addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

struct fw_batch *
fw_shared_batch(uint32_t seq, size_t nelems)
{
	return fw_batch_new(FW_SHARED_BYTES_BASE +
	    nelems * FW_SHARED_BYTES_PER_ELEM, seq, 1);
}

/* ---- table, sets, chains ---- */

static int
fw_shared_put_set(struct fw_batch *b, const struct fw_shared_setdef *d)
{
	uint8_t fields[2];
	uint32_t alen = (uint32_t)fw_shared_addr_len(d->family);
	uint32_t atype = d->family == AF_INET ? FW_TYPE_IPV4 : FW_TYPE_IPV6;
	struct nftnl_set *s;
	struct nlmsghdr *nlh;
	int r = FTP_ERR_NOMEM;

	if ((s = nftnl_set_alloc()) == NULL)
		return r;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, FW_SHARED_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, d->name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(s, NFTNL_SET_ID, d->set_id);
	if (d->which == FW_SHARED_ACTIVE) {
		nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, atype);
		nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, alen);
		nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_TIMEOUT);
	} else {
		/* address . port, each field padded to 32 bits */
		fields[0] = (uint8_t)alen;
		fields[1] = 2;
		nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE,
		    FW_TYPE_CONCAT(atype, FW_TYPE_SERVICE));
		nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, alen + 4);
		nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_INTERVAL |
		    NFT_SET_TIMEOUT | NFT_SET_CONCAT);
		nftnl_set_set_data(s, NFTNL_SET_DESC_CONCAT, fields,
		    sizeof(fields));
	}
	r = FTP_ERR_TOOBIG;
	if ((nlh = fw_batch_nft_msg(b, NFT_MSG_NEWSET, NFPROTO_INET,
	    NLM_F_CREATE | NLM_F_EXCL)) != NULL) {
		nftnl_set_nlmsg_build_payload(nlh, s);
		r = fw_batch_commit(b);
	}
	nftnl_set_free(s);
	return r;
}

/* ---- rules ---- */

/* "meta nfproto F meta l4proto tcp" */
static int
fw_shared_match_proto(struct nftnl_rule *r, int family)
{
	uint8_t nfproto = family == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6;
	uint8_t l4 = IPPROTO_TCP;
	int r0;

	if ((r0 = fw_meta_load(r, NFT_META_NFPROTO)) != 0 ||
	    (r0 = fw_cmp_eq(r, &nfproto, 1)) != 0 ||
	    (r0 = fw_meta_load(r, NFT_META_L4PROTO)) != 0)
		return r0;
	return fw_cmp_eq(r, &l4, 1);
}

/* Offset of saddr (from_peer) or daddr in the network header. */
static uint32_t
fw_shared_addr_off(int family, int from_peer)
{
	if (family == AF_INET)
		return from_peer ? 12 : 16;
	return from_peer ? 8 : 24;
}

/*
 * "ip saddr . tcp dport @set" (from_peer: the agent's packets to our
 * ports) or "ip daddr . tcp sport @set" (our answers).  The port goes to
 * the 32-bit register right after the address: NFT_REG32_01 after an
 * IPv4 address, NFT_REG32_04 after an IPv6 one.
 */
static int
fw_shared_match_concat(struct nftnl_rule *r, const struct fw_shared_setdef *d,
    int from_peer)
{
	uint32_t alen = (uint32_t)fw_shared_addr_len(d->family);
	uint32_t preg = d->family == AF_INET ? NFT_REG32_01 : NFT_REG32_04;
	int r0;

	if ((r0 = fw_shared_match_proto(r, d->family)) != 0 ||
	    (r0 = fw_payload_load(r, NFT_PAYLOAD_NETWORK_HEADER,
	    fw_shared_addr_off(d->family, from_peer), alen)) != 0 ||
	    (r0 = fw_payload_load_reg(r, NFT_PAYLOAD_TRANSPORT_HEADER,
	    from_peer ? 2 : 0, 2, preg)) != 0)
		return r0;
	return fw_lookup_set(r, d->name, d->set_id);
}

/* "ip daddr @activeN tcp sport ACTIVE" */
static int
fw_shared_match_active(struct nftnl_rule *r, const struct fw_shared_setdef *d,
    uint16_t active_port)
{
	uint16_t port = htons(active_port);
	int r0;

	if ((r0 = fw_shared_match_proto(r, d->family)) != 0 ||
	    (r0 = fw_payload_load(r, NFT_PAYLOAD_NETWORK_HEADER,
	    fw_shared_addr_off(d->family, 0),
	    (uint32_t)fw_shared_addr_len(d->family))) != 0 ||
	    (r0 = fw_lookup_set(r, d->name, d->set_id)) != 0 ||
	    (r0 = fw_payload_load(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0,
	    2)) != 0)
		return r0;
	return fw_cmp_eq(r, &port, sizeof(port));
}

static int
fw_shared_rule_msg(struct fw_batch *b, struct nftnl_rule *r)
{
	struct nlmsghdr *nlh;

	if ((nlh = fw_batch_nft_msg(b, NFT_MSG_NEWRULE, NFPROTO_INET,
	    NLM_F_CREATE | NLM_F_APPEND)) == NULL)
		return FTP_ERR_TOOBIG;
	nftnl_rule_nlmsg_build_payload(nlh, r);
	return fw_batch_commit(b);
}

static struct nftnl_rule *
fw_shared_rule_new(const char *chain)
{
	struct nftnl_rule *r;

	if ((r = nftnl_rule_alloc()) == NULL)
		return NULL;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, FW_SHARED_TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	return r;
}

/* One trace rule: kind 0 in, 1 out (answers), 2 active. */
static int
fw_shared_put_trace_rule(struct fw_batch *b, int family, int kind,
    uint16_t active_port)
{
	const struct fw_shared_setdef *d = fw_shared_setdef(kind == 2 ?
	    FW_SHARED_ACTIVE : FW_SHARED_PROBE, family);
	struct nftnl_rule *r;
	int rc;

	if ((r = fw_shared_rule_new(kind == 0 ? FW_CHAIN_TRACE_PRE :
	    FW_CHAIN_TRACE_OUT)) == NULL)
		return FTP_ERR_NOMEM;
	if (kind == 2)
		rc = fw_shared_match_active(r, d, active_port);
	else
		rc = fw_shared_match_concat(r, d, kind == 0);
	if (rc == 0 && (rc = fw_match_syn_or_rst(r)) == 0 &&
	    (rc = fw_stmt_trace(r)) == 0)
		rc = fw_shared_rule_msg(b, r);
	nftnl_rule_free(r);
	return rc;
}

int
fw_shared_put_table(struct fw_batch *b, uint16_t active_port, int owner)
{
	static const int fams[2] = { AF_INET, AF_INET6 };
	size_t i;
	int r, k;

	if ((r = fw_put_inet_table(b, FW_SHARED_TABLE, owner)) != 0)
		return r;
	for (i = 0; i < FW_SHARED_NSETS; i++)
		if ((r = fw_shared_put_set(b, &fw_shared_sets[i])) != 0)
			return r;
	if ((r = fw_put_base_chain(b, FW_SHARED_TABLE, FW_CHAIN_TRACE_PRE,
	    NF_INET_PRE_ROUTING, FW_PRIO_TRACE)) != 0 ||
	    (r = fw_put_base_chain(b, FW_SHARED_TABLE, FW_CHAIN_TRACE_OUT,
	    NF_INET_LOCAL_OUT, FW_PRIO_TRACE)) != 0 ||
	    (r = fw_put_base_chain(b, FW_SHARED_TABLE, FW_SHARED_TPROXY4,
	    NF_INET_PRE_ROUTING, FW_PRIO_TPROXY)) != 0 ||
	    (r = fw_put_base_chain(b, FW_SHARED_TABLE, FW_SHARED_TPROXY6,
	    NF_INET_PRE_ROUTING, FW_PRIO_TPROXY)) != 0)
		return r;
	for (i = 0; i < 2; i++)
		for (k = 0; k < 3; k++) {
			if (k == 2 && active_port == 0)
				continue;
			if ((r = fw_shared_put_trace_rule(b, fams[i], k,
			    active_port)) != 0)
				return r;
		}
	return 0;
}

int
fw_shared_put_del_table(struct fw_batch *b)
{
	return fw_put_del_table(b, NFPROTO_INET, FW_SHARED_TABLE);
}

/* The address is all zero bytes (0.0.0.0, ::): tproxy then keeps the
 * address the packet was sent to. */
static int
fw_shared_addr_any(const struct sockaddr *sa)
{
	const uint8_t *p;
	size_t i, n = fw_shared_addr_len(sa->sa_family);

	p = sa->sa_family == AF_INET ? (const uint8_t *)&((const struct
	    sockaddr_in *)(const void *)sa)->sin_addr : (const uint8_t *)
	    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

/* "... tproxy ip to [ADDR]:PORT meta mark set MARK accept" */
static int
fw_shared_stmt_tproxy(struct nftnl_rule *r, const struct sockaddr *to,
    uint32_t mark)
{
	struct sockaddr_storage a;
	uint32_t nfproto = to->sa_family == AF_INET ? NFPROTO_IPV4 :
	    NFPROTO_IPV6;

	memset(&a, 0, sizeof(a));
	memcpy(&a, to, addr_len(to));
	if (fw_shared_addr_any(to))
		a.ss_family = AF_UNSPEC;
	return fw_stmt_tproxy_to(r, nfproto, &a, addr_port(to), mark);
}

int
fw_shared_put_tproxy(struct fw_batch *b, const struct sockaddr *to,
    uint32_t mark)
{
	const struct fw_shared_setdef *d;
	const char *chain;
	struct nftnl_rule *r;
	struct nlmsghdr *nlh;
	int rc;

	if (to == NULL || (to->sa_family != AF_INET &&
	    to->sa_family != AF_INET6) || addr_port(to) == 0 || mark == 0)
		return FTP_ERR_INVAL;
	chain = to->sa_family == AF_INET ? FW_SHARED_TPROXY4 :
	    FW_SHARED_TPROXY6;
	d = fw_shared_setdef(FW_SHARED_DIVERT, to->sa_family);
	/* A rule without a handle deletes every rule of the chain. */
	if ((r = fw_shared_rule_new(chain)) == NULL)
		return FTP_ERR_NOMEM;
	rc = FTP_ERR_TOOBIG;
	if ((nlh = fw_batch_nft_msg(b, NFT_MSG_DELRULE, NFPROTO_INET,
	    0)) != NULL) {
		nftnl_rule_nlmsg_build_payload(nlh, r);
		rc = fw_batch_commit(b);
	}
	nftnl_rule_free(r);
	if (rc != 0)
		return rc;
	if ((r = fw_shared_rule_new(chain)) == NULL)
		return FTP_ERR_NOMEM;
	if ((rc = fw_shared_match_concat(r, d, 1)) == 0 &&
	    (rc = fw_shared_stmt_tproxy(r, to, mark)) == 0)
		rc = fw_shared_rule_msg(b, r);
	nftnl_rule_free(r);
	return rc;
}

/* ---- elements ---- */

/* The key "addr . port": address, then the port in network order in a
 * 32-bit field of its own (the rest zero). */
static size_t
fw_shared_key(uint8_t *key, const struct sockaddr *peer, uint16_t port)
{
	size_t alen = fw_shared_addr_len(peer->sa_family);
	uint16_t p = htons(port);

	memset(key, 0, 20);
	if (peer->sa_family == AF_INET)
		memcpy(key, &((const struct sockaddr_in *)(const void *)peer)
		    ->sin_addr, 4);
	else
		memcpy(key, &((const struct sockaddr_in6 *)(const void *)peer)
		    ->sin6_addr, 16);
	memcpy(key + alen, &p, sizeof(p));
	return alen + 4;
}

static int
fw_shared_elem(struct nftnl_set *s, const struct sockaddr *peer,
    const struct portrange *pr, int concat, int add, uint64_t timeout_ms)
{
	struct nftnl_set_elem *e;
	uint8_t key[20], end[20];
	size_t klen;

	if ((e = nftnl_set_elem_alloc()) == NULL)
		return FTP_ERR_NOMEM;
	if (concat) {
		klen = fw_shared_key(key, peer, pr->lo);
		(void)fw_shared_key(end, peer, pr->hi);
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, (uint32_t)klen);
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY_END, end,
		    (uint32_t)klen);
	} else {
		klen = fw_shared_key(key, peer, 0);
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key,
		    (uint32_t)fw_shared_addr_len(peer->sa_family));
	}
	if (add && timeout_ms != 0)
		nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_TIMEOUT, timeout_ms);
	nftnl_set_elem_add(s, e);	/* the set owns e */
	return 0;
}

int
fw_shared_put_elems(struct fw_batch *b, int add, enum fw_shared_set which,
    const struct sockaddr *peer, const struct portrange *pr, size_t npr,
    uint64_t timeout_ms)
{
	const struct fw_shared_setdef *d;
	struct nftnl_set *s;
	struct nlmsghdr *nlh;
	size_t i;
	int r = FTP_ERR_NOMEM, concat = which != FW_SHARED_ACTIVE;

	if (peer == NULL || (d = fw_shared_setdef(which,
	    peer->sa_family)) == NULL || (concat && (pr == NULL || npr == 0)))
		return FTP_ERR_INVAL;
	for (i = 0; concat && i < npr; i++)
		if (pr[i].lo == 0 || pr[i].lo > pr[i].hi)
			return FTP_ERR_RANGE;
	if ((s = nftnl_set_alloc()) == NULL)
		return r;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, FW_SHARED_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, d->name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	for (i = 0; i < (concat ? npr : 1); i++)
		if ((r = fw_shared_elem(s, peer, concat ? &pr[i] : NULL, concat,
		    add, timeout_ms)) != 0)
			goto out;
	r = FTP_ERR_TOOBIG;
	if ((nlh = fw_batch_nft_msg(b, add ? NFT_MSG_NEWSETELEM :
	    NFT_MSG_DELSETELEM, NFPROTO_INET, add ? NLM_F_CREATE : 0)) == NULL)
		goto out;
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	r = fw_batch_commit(b);
out:
	nftnl_set_free(s);
	return r;
}
