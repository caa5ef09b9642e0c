/*
 * fw_expr.h - nftables expression helpers shared by the table builders
 * (fw.c: one table per session; fw_shared.c: the reflector's one table).
 *
 * Each appends one or a few expressions to a rule; the rule owns them.
 * Data registers: NFT_REG_1 unless a _reg variant names another (a
 * concatenation loads its fields into consecutive 32-bit registers).
 *
 * Errors: 0 or FTP_ERR_NOMEM.
 */
#ifndef FTPATH_FW_EXPR_H
#define FTPATH_FW_EXPR_H

#include <stdint.h>
#include <sys/socket.h>

struct nftnl_rule;
struct nftnl_expr;

/* Append e (NULL: allocation failed); the rule owns it from here. */
int fw_expr_add(struct nftnl_rule *r, struct nftnl_expr *e);
/* meta KEY => reg 1 / meta KEY set reg 1 */
int fw_meta_load(struct nftnl_rule *r, uint32_t key);
int fw_meta_store(struct nftnl_rule *r, uint32_t key);
/* cmp eq reg 1 DATA */
int fw_cmp_eq(struct nftnl_rule *r, const void *data, uint32_t len);
/* payload load LEN @ BASE + OFF => reg 1 (or reg) */
int fw_payload_load(struct nftnl_rule *r, uint32_t base, uint32_t off,
    uint32_t len);
int fw_payload_load_reg(struct nftnl_rule *r, uint32_t base, uint32_t off,
    uint32_t len, uint32_t reg);
/* lookup reg 1 @set (set_id != 0: a set created in the same batch) */
int fw_lookup_set(struct nftnl_rule *r, const char *set, uint32_t set_id);
/* immediate DATA => reg (fw_imm_data: reg 1) / immediate verdict */
int fw_imm_data_reg(struct nftnl_rule *r, const void *data, uint32_t len,
    uint32_t reg);
int fw_imm_data(struct nftnl_rule *r, const void *data, uint32_t len);
int fw_imm_verdict(struct nftnl_rule *r, int verdict);
/* tproxy to the port in reg 1 (and the address in reg 2 if with_addr) */
int fw_tproxy_to(struct nftnl_rule *r, uint32_t nfproto, int with_addr);
/* immediate ADDR => reg 2 (nothing when a is AF_UNSPEC) */
int fw_tproxy_addr(struct nftnl_rule *r, const struct sockaddr_storage *a);
/* tcp flags & (syn | rst) != 0 */
int fw_match_syn_or_rst(struct nftnl_rule *r);
/* meta nftrace set 1 */
int fw_stmt_trace(struct nftnl_rule *r);
/* "tproxy to [ADDR]:PORT meta mark set MARK accept" (nfproto: IPv4 or
 * IPv6; a AF_UNSPEC: keep the packet's destination address) */
int fw_stmt_tproxy_to(struct nftnl_rule *r, uint32_t nfproto,
    const struct sockaddr_storage *a, uint16_t port, uint32_t mark);

/* Whole objects into a batch (fw_nl.h), for both tables' builders. */
struct fw_batch;
/* NEWTABLE inet NAME (exclusive); owner: NFT_TABLE_F_OWNER. */
int fw_put_inet_table(struct fw_batch *b, const char *table, int owner);
/* DELTABLE FAMILY NAME. */
int fw_put_del_table(struct fw_batch *b, int family, const char *name);
/* NEWCHAIN inet TABLE CHAIN: a filter base chain on hook, accepting. */
int fw_put_base_chain(struct fw_batch *b, const char *table,
    const char *chain, uint32_t hook, int prio);

#endif
