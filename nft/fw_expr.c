/*
 * fw_expr.c - nftables expression helpers shared by the table builders
 * (see fw_expr.h).
 */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <libnftnl/expr.h>
#include <linux/netlink.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "err.h"
#include "fw_expr.h"
#include "fw_nl.h"

int
fw_expr_add(struct nftnl_rule *r, struct nftnl_expr *e)
{
	if (e == NULL)
		return FTP_ERR_NOMEM;
	nftnl_rule_add_expr(r, e);	/* the rule owns e from here */
	return 0;
}

int
fw_meta_load(struct nftnl_rule *r, uint32_t key)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	}
	return fw_expr_add(r, e);
}

int
fw_meta_store(struct nftnl_rule *r, uint32_t key)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, NFT_REG_1);
	}
	return fw_expr_add(r, e);
}

int
fw_cmp_eq(struct nftnl_rule *r, const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
		nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	}
	return fw_expr_add(r, e);
}

int
fw_payload_load_reg(struct nftnl_rule *r, uint32_t base, uint32_t off,
    uint32_t len, uint32_t reg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, reg);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	}
	return fw_expr_add(r, e);
}

int
fw_payload_load(struct nftnl_rule *r, uint32_t base, uint32_t off,
    uint32_t len)
{
	return fw_payload_load_reg(r, base, off, len, NFT_REG_1);
}

int
fw_lookup_set(struct nftnl_rule *r, const char *set, uint32_t set_id)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
		nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
		if (set_id != 0)
			nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID,
			    set_id);
	}
	return fw_expr_add(r, e);
}

int
fw_imm_data_reg(struct nftnl_rule *r, const void *data, uint32_t len,
    uint32_t reg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, reg);
		nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, data, len);
	}
	return fw_expr_add(r, e);
}

int
fw_imm_data(struct nftnl_rule *r, const void *data, uint32_t len)
{
	return fw_imm_data_reg(r, data, len, NFT_REG_1);
}

int
fw_imm_verdict(struct nftnl_rule *r, int verdict)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT,
		    (uint32_t)verdict);
	}
	return fw_expr_add(r, e);
}

int
fw_tproxy_to(struct nftnl_rule *r, uint32_t nfproto, int with_addr)
{
	struct nftnl_expr *e = nftnl_expr_alloc("tproxy");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_TPROXY_FAMILY, nfproto);
		nftnl_expr_set_u32(e, NFTNL_EXPR_TPROXY_REG_PORT, NFT_REG_1);
		if (with_addr)
			nftnl_expr_set_u32(e, NFTNL_EXPR_TPROXY_REG_ADDR,
			    NFT_REG_2);
	}
	return fw_expr_add(r, e);
}

int
fw_tproxy_addr(struct nftnl_rule *r, const struct sockaddr_storage *a)
{
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)a;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)a;

	if (a->ss_family == AF_INET)
		return fw_imm_data_reg(r, &s4->sin_addr, sizeof(s4->sin_addr),
		    NFT_REG_2);
	if (a->ss_family == AF_INET6)
		return fw_imm_data_reg(r, &s6->sin6_addr,
		    sizeof(s6->sin6_addr), NFT_REG_2);
	return 0;
}

int
fw_match_syn_or_rst(struct nftnl_rule *r)
{
	uint8_t mask = 0x02 | 0x04, zero = 0;	/* TH_SYN | TH_RST */
	struct nftnl_expr *e;
	int r0;

	if ((r0 = fw_payload_load(r, NFT_PAYLOAD_TRANSPORT_HEADER, 13,
	    1)) != 0)
		return r0;
	if ((e = nftnl_expr_alloc("bitwise")) != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, 1);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &mask, 1);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &zero, 1);
	}
	if ((r0 = fw_expr_add(r, e)) != 0)
		return r0;
	if ((e = nftnl_expr_alloc("cmp")) != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_NEQ);
		nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, &zero, 1);
	}
	return fw_expr_add(r, e);
}

int
fw_stmt_trace(struct nftnl_rule *r)
{
	uint8_t one = 1;
	int r0;

	if ((r0 = fw_imm_data(r, &one, sizeof(one))) != 0)
		return r0;
	return fw_meta_store(r, NFT_META_NFTRACE);
}

int
fw_stmt_tproxy_to(struct nftnl_rule *r, uint32_t nfproto,
    const struct sockaddr_storage *a, uint16_t port, uint32_t mark)
{
	uint16_t nport = htons(port);
	int r0;

	if ((r0 = fw_tproxy_addr(r, a)) != 0 ||
	    (r0 = fw_imm_data(r, &nport, sizeof(nport))) != 0 ||
	    (r0 = fw_tproxy_to(r, nfproto, a->ss_family != AF_UNSPEC)) != 0 ||
	    (r0 = fw_imm_data(r, &mark, sizeof(mark))) != 0 ||
	    (r0 = fw_meta_store(r, NFT_META_MARK)) != 0)
		return r0;
	return fw_imm_verdict(r, NF_ACCEPT);
}

/* ---- whole objects ---- */

/* NEW/DEL TABLE: flags NLM_F_CREATE | NLM_F_EXCL for NEW, 0 for DEL. */
static int
fw_put_table_msg(struct fw_batch *b, uint16_t type, int family,
    const char *name, int owner)
{
	struct nftnl_table *t;
	struct nlmsghdr *nlh;
	int r = FTP_ERR_NOMEM;

	if ((t = nftnl_table_alloc()) == NULL)
		return r;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, name);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, (uint32_t)family);
	if (owner)
		nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, NFT_TABLE_F_OWNER);
	r = FTP_ERR_TOOBIG;
	if ((nlh = fw_batch_nft_msg(b, type, (uint16_t)family,
	    type == NFT_MSG_NEWTABLE ? NLM_F_CREATE | NLM_F_EXCL : 0)) !=
	    NULL) {
		nftnl_table_nlmsg_build_payload(nlh, t);
		r = fw_batch_commit(b);
	}
	nftnl_table_free(t);
	return r;
}

int
fw_put_inet_table(struct fw_batch *b, const char *table, int owner)
{
	return fw_put_table_msg(b, NFT_MSG_NEWTABLE, NFPROTO_INET, table,
	    owner);
}

int
fw_put_del_table(struct fw_batch *b, int family, const char *name)
{
	return fw_put_table_msg(b, NFT_MSG_DELTABLE, family, name, 0);
}

int
fw_put_base_chain(struct fw_batch *b, const char *table, const char *chain,
    uint32_t hook, int prio)
{
	struct nftnl_chain *c;
	struct nlmsghdr *nlh;
	int r = FTP_ERR_NOMEM;

	if ((c = nftnl_chain_alloc()) == NULL)
		return r;
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, chain);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hook);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	r = FTP_ERR_TOOBIG;
	if ((nlh = fw_batch_nft_msg(b, NFT_MSG_NEWCHAIN, NFPROTO_INET,
	    NLM_F_CREATE | NLM_F_EXCL)) != NULL) {
		nftnl_chain_nlmsg_build_payload(nlh, c);
		r = fw_batch_commit(b);
	}
	nftnl_chain_free(c);
	return r;
}
