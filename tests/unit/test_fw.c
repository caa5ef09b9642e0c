/*
 * test_fw.c - nft/ without a kernel: batch builders parsed back, ACK
 * draining against a fake kernel behind struct fw_nl_ops, trace decoding
 * from hand-built messages, rule-text lookup and name validation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/fib_rules.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>

#include "err.h"
#include "fw.h"
#include "fw_nl.h"
#include "fw_route.h"
#include "fw_text.h"
#include "fw_trace.h"

#define NFT_TYPE(m)	((NFNL_SUBSYS_NFTABLES << 8) | (m))
#define PEER4		"192.0.2.7"
#define PEER6		"2001:db8::7"

/* ---- helpers ---- */

static void
peer_set(struct fw_spec *s, const char *addr)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)&s->peer;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&s->peer;

	memset(&s->peer, 0, sizeof(s->peer));
	if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1)
		a4->sin_family = AF_INET;
	else {
		assert_int_equal(inet_pton(AF_INET6, addr, &a6->sin6_addr), 1);
		a6->sin6_family = AF_INET6;
	}
}

static const struct portrange ports_mixed[] = {
	{ 30000, 30009 }, { 21, 21 }, { 30005, 30020 }, { 22, 22 },
};

static void
spec_init(struct fw_spec *s, const char *peer, unsigned parts)
{
	memset(s, 0, sizeof(*s));
	s->id = "t1";
	peer_set(s, peer);
	s->ports = ports_mixed;
	s->nports = sizeof(ports_mixed) / sizeof(ports_mixed[0]);
	s->parts = parts;
	s->tproxy_port = 7000;
	s->tproxy_mark = 0x4654;
}

/* Collect the messages of a batch buffer. */
struct msgs {
	const struct nlmsghdr	*m[64];
	int			 n;
};

static void
msgs_split(const void *buf, size_t len, struct msgs *out)
{
	const struct nlmsghdr *nlh = buf;
	int left = (int)len;

	out->n = 0;
	while (mnl_nlmsg_ok(nlh, left) && out->n < 64) {
		out->m[out->n++] = nlh;
		nlh = mnl_nlmsg_next(nlh, &left);
	}
	assert_int_equal(left, 0);
}

/* ---- names and spec ---- */

static void
test_names(void **state)
{
	char buf[FW_TABLE_MAX];
	static const char *const good_id[] = { "a", "0", "abc123",
	    "0123456789abcdef" };
	static const char *const bad_id[] = { "", "A", "a-b", "a_b", "a.b",
	    "0123456789abcdef0", "a b", "é", "x;y" };
	static const char *const good_name[] = { "filter", "INPUT",
	    "my-chain.v2", "_x", "ftpath_abc" };
	static const char *const bad_name[] = { "", "a b", "a;b", "a\"b",
	    "a\nb", "a{", "$x", "a/b", "a'b", "tab\t" };
	char longname[FW_NAME_MAX + 1];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good_id) / sizeof(good_id[0]); i++)
		assert_int_equal(fw_id_check(good_id[i]), 0);
	for (i = 0; i < sizeof(bad_id) / sizeof(bad_id[0]); i++)
		assert_int_equal(fw_id_check(bad_id[i]), FTP_ERR_INVAL);
	assert_int_equal(fw_id_check(NULL), FTP_ERR_INVAL);
	for (i = 0; i < sizeof(good_name) / sizeof(good_name[0]); i++)
		assert_int_equal(fw_name_check(good_name[i]), 0);
	for (i = 0; i < sizeof(bad_name) / sizeof(bad_name[0]); i++)
		assert_int_equal(fw_name_check(bad_name[i]), FTP_ERR_INVAL);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(fw_name_check(longname), FTP_ERR_INVAL);
	longname[FW_NAME_MAX - 1] = '\0';
	assert_int_equal(fw_name_check(longname), 0);

	assert_int_equal(fw_table_name("s1", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "ftpath_s1");
	assert_int_equal(fw_table_name("S1", buf, sizeof(buf)), FTP_ERR_INVAL);
	assert_int_equal(fw_table_name("s1", buf, 5), FTP_ERR_TOOBIG);
	assert_int_equal(fw_table_is_ours("ftpath_s1"), 0);
	assert_int_equal(fw_table_is_ours("ftpath_"), FTP_ERR_INVAL);
	assert_int_equal(fw_table_is_ours("ftpath_S1"), FTP_ERR_INVAL);
	assert_int_equal(fw_table_is_ours("filter"), FTP_ERR_INVAL);
	assert_int_equal(fw_table_is_ours(NULL), FTP_ERR_INVAL);
}

static void
test_spec_check(void **state)
{
	struct portrange bad = { 10, 9 }, zero = { 0, 5 };
	struct fw_spec s;

	(void)state;
	spec_init(&s, PEER4, FW_PART_TRACE | FW_PART_TPROXY);
	assert_int_equal(fw_spec_check(&s), 0);
	s.peer.ss_family = AF_UNIX;
	assert_int_equal(fw_spec_check(&s), FTP_ERR_INVAL);
	spec_init(&s, PEER4, 0);
	assert_int_equal(fw_spec_check(&s), FTP_ERR_INVAL);
	spec_init(&s, PEER4, FW_PART_TRACE);
	s.nports = 0;
	assert_int_equal(fw_spec_check(&s), FTP_ERR_INVAL);
	s.ports = &bad;
	s.nports = 1;
	assert_int_equal(fw_spec_check(&s), FTP_ERR_RANGE);
	s.ports = &zero;
	assert_int_equal(fw_spec_check(&s), FTP_ERR_RANGE);
	spec_init(&s, PEER4, FW_PART_TPROXY);
	s.tproxy_port = 0;
	assert_int_equal(fw_spec_check(&s), FTP_ERR_INVAL);
	spec_init(&s, PEER4, FW_PART_TRACE);
	s.id = "Bad";
	assert_int_equal(fw_spec_check(&s), FTP_ERR_INVAL);
	s.id = "ok";
	s.nports = FW_PORTS_MAX + 1;
	assert_int_equal(fw_spec_check(&s), FTP_ERR_TOOBIG);
}

/* ---- builders ---- */

static int
expr_name_cb(struct nftnl_expr *e, void *data)
{
	char *names = data;

	strcat(names, nftnl_expr_get_str(e, NFTNL_EXPR_NAME));
	strcat(names, " ");
	return 0;
}

static void
check_rule(const struct nlmsghdr *nlh, const char *chain, const char *exprs)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	char names[512] = "";

	assert_non_null(r);
	assert_int_equal(nlh->nlmsg_type, NFT_TYPE(NFT_MSG_NEWRULE));
	assert_int_equal(nftnl_rule_nlmsg_parse(nlh, r), 0);
	assert_string_equal(nftnl_rule_get_str(r, NFTNL_RULE_TABLE),
	    "ftpath_t1");
	assert_string_equal(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN), chain);
	nftnl_expr_foreach(r, expr_name_cb, names);
	assert_string_equal(names, exprs);
	nftnl_rule_free(r);
}

static void
check_chain(const struct nlmsghdr *nlh, const char *name, uint32_t hook,
    int prio)
{
	struct nftnl_chain *c = nftnl_chain_alloc();

	assert_non_null(c);
	assert_int_equal(nlh->nlmsg_type, NFT_TYPE(NFT_MSG_NEWCHAIN));
	assert_int_equal(nftnl_chain_nlmsg_parse(nlh, c), 0);
	assert_string_equal(nftnl_chain_get_str(c, NFTNL_CHAIN_NAME), name);
	assert_string_equal(nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE),
	    "filter");
	assert_int_equal(nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM), hook);
	assert_int_equal(nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO), prio);
	nftnl_chain_free(c);
}

/* The first nested attribute of the given type inside nest, or NULL. */
static const struct nlattr *
nested_get(const struct nlattr *nest, uint16_t type)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, nest)
		if (mnl_attr_get_type(a) == type)
			return a;
	return NULL;
}

/*
 * The merged elements of ports_mixed: 21-22 and 30000-30020.  Walked by
 * hand: libnftnl numbers the element nests 1, 2, 3... when building but
 * its own parser wants every one to be NFTA_LIST_ELEM, so
 * nftnl_set_elems_nlmsg_parse() refuses batches of more than one element.
 */
static void
check_elems(const struct nlmsghdr *nlh)
{
	static const struct { uint16_t key; int end; } want[] = {
		{ 21, 0 }, { 23, 1 }, { 30000, 0 }, { 30021, 1 },
	};
	const struct nlattr *a, *list = NULL, *el, *key, *val, *fl;
	uint16_t port;
	size_t i = 0;

	assert_int_equal(nlh->nlmsg_type, NFT_TYPE(NFT_MSG_NEWSETELEM));
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_SET)
			assert_string_equal(mnl_attr_get_str(a), "ports");
		if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_ELEMENTS)
			list = a;
	}
	assert_non_null(list);
	mnl_attr_for_each_nested(el, list) {
		assert_true(i < 4);
		key = nested_get(el, NFTA_SET_ELEM_KEY);
		assert_non_null(key);
		val = nested_get(key, NFTA_DATA_VALUE);
		assert_non_null(val);
		assert_int_equal(mnl_attr_get_payload_len(val), 2);
		memcpy(&port, mnl_attr_get_payload(val), 2);
		assert_int_equal(ntohs(port), want[i].key);
		fl = nested_get(el, NFTA_SET_ELEM_FLAGS);
		assert_int_equal(fl ? ntohl(mnl_attr_get_u32(fl)) : 0,
		    want[i].end ? NFT_SET_ELEM_INTERVAL_END : 0);
		i++;
	}
	assert_int_equal(i, 4);
}

#define MATCH4	"meta cmp meta cmp payload cmp payload lookup "
/* trace rules only: tcp flags & (syn | rst) != 0 */
#define SYNRST	"payload bitwise cmp "

static void
test_build_add(void **state)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct fw_batch *b = NULL;
	struct fw_spec s;
	struct msgs m;
	const void *buf;
	size_t len;
	int i;

	(void)state;
	spec_init(&s, PEER4, FW_PART_TRACE | FW_PART_TPROXY);
	assert_int_equal(fw_build_add(&s, 100, &b), 0);
	buf = fw_batch_data(b, &len);
	assert_non_null(buf);
	msgs_split(buf, len, &m);
	/* begin, table, set, elems, 3 x (chain, rule), end */
	assert_int_equal(m.n, 11);
	assert_int_equal(fw_batch_count(b), 9);
	assert_int_equal(m.m[0]->nlmsg_type, NFNL_MSG_BATCH_BEGIN);
	assert_int_equal(m.m[10]->nlmsg_type, NFNL_MSG_BATCH_END);
	for (i = 0; i < m.n; i++) {
		assert_int_equal(m.m[i]->nlmsg_seq, 100 + (uint32_t)i);
		if (i > 0 && i < 10)
			assert_true(m.m[i]->nlmsg_flags & NLM_F_ACK);
	}
	assert_int_equal(m.m[1]->nlmsg_type, NFT_TYPE(NFT_MSG_NEWTABLE));
	assert_true(m.m[1]->nlmsg_flags & NLM_F_EXCL);
	assert_int_equal(nftnl_table_nlmsg_parse(m.m[1], t), 0);
	assert_string_equal(nftnl_table_get_str(t, NFTNL_TABLE_NAME),
	    "ftpath_t1");
	assert_int_equal(nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY),
	    NFPROTO_INET);
	assert_int_equal(m.m[2]->nlmsg_type, NFT_TYPE(NFT_MSG_NEWSET));
	check_elems(m.m[3]);
	check_chain(m.m[4], FW_CHAIN_TRACE_PRE, NF_INET_PRE_ROUTING, -350);
	check_rule(m.m[5], FW_CHAIN_TRACE_PRE, MATCH4 SYNRST "immediate meta ");
	check_chain(m.m[6], FW_CHAIN_TRACE_OUT, NF_INET_LOCAL_OUT, -350);
	check_rule(m.m[7], FW_CHAIN_TRACE_OUT, MATCH4 SYNRST "immediate meta ");
	check_chain(m.m[8], FW_CHAIN_TPROXY, NF_INET_PRE_ROUTING, -150);
	check_rule(m.m[9], FW_CHAIN_TPROXY, MATCH4
	    "immediate tproxy immediate meta immediate ");
	fw_batch_free(b);
	nftnl_table_free(t);
}

/* The peer address is compared at the right offset for each direction. */
static void
test_build_add_v6_trace_only(void **state)
{
	static const uint32_t want_off[] = { 24, 0, 13 };
	static const uint32_t want_len[] = { 16, 2, 1 };
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nftnl_expr_iter *it;
	struct nftnl_expr *e;
	struct fw_batch *b = NULL;
	struct fw_spec s;
	struct msgs m;
	const void *buf;
	size_t len;
	int npayload = 0;

	(void)state;
	spec_init(&s, PEER6, FW_PART_TRACE);
	assert_int_equal(fw_build_add(&s, 1, &b), 0);
	buf = fw_batch_data(b, &len);
	msgs_split(buf, len, &m);
	assert_int_equal(m.n, 9);	/* begin table set elems 2x2 end */
	assert_int_equal(nftnl_rule_nlmsg_parse(m.m[7], r), 0);
	assert_string_equal(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN),
	    FW_CHAIN_TRACE_OUT);
	it = nftnl_expr_iter_create(r);
	while ((e = nftnl_expr_iter_next(it)) != NULL) {
		if (strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME),
		    "payload") != 0)
			continue;
		/* ip6 daddr (24, 16 bytes), tcp sport (0, 2 bytes), then
		 * tcp flags (13, 1 byte) */
		assert_true(npayload < 3);
		assert_int_equal(nftnl_expr_get_u32(e,
		    NFTNL_EXPR_PAYLOAD_OFFSET), want_off[npayload]);
		assert_int_equal(nftnl_expr_get_u32(e,
		    NFTNL_EXPR_PAYLOAD_LEN), want_len[npayload]);
		npayload++;
	}
	assert_int_equal(npayload, 3);
	nftnl_expr_iter_destroy(it);
	nftnl_rule_free(r);
	fw_batch_free(b);
	/* Bad spec: nothing is built, *out untouched. */
	b = NULL;
	s.id = "NO";
	assert_int_equal(fw_build_add(&s, 1, &b), FTP_ERR_INVAL);
	assert_null(b);
}

/* Payload offsets and lengths of one rule, in order. */
static void
check_payloads(const struct nlmsghdr *nlh, const char *chain,
    const uint32_t *off, const uint32_t *len, int n)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nftnl_expr_iter *it;
	struct nftnl_expr *e;
	int i = 0;

	assert_non_null(r);
	assert_int_equal(nftnl_rule_nlmsg_parse(nlh, r), 0);
	assert_string_equal(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN), chain);
	it = nftnl_expr_iter_create(r);
	while ((e = nftnl_expr_iter_next(it)) != NULL) {
		if (strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME),
		    "payload") != 0)
			continue;
		assert_true(i < n);
		assert_int_equal(nftnl_expr_get_u32(e,
		    NFTNL_EXPR_PAYLOAD_OFFSET), off[i]);
		assert_int_equal(nftnl_expr_get_u32(e,
		    NFTNL_EXPR_PAYLOAD_LEN), len[i]);
		i++;
	}
	assert_int_equal(i, n);
	nftnl_expr_iter_destroy(it);
	nftnl_rule_free(r);
}

/*
 * FW_F_CLIENT: the ports are the peer's.  Prerouting matches "ip saddr
 * PEER tcp sport @ports", output "ip daddr PEER tcp dport @ports", both
 * still SYN/RST only; the server role keeps dport/sport; no tproxy.
 */
static void
test_build_add_client(void **state)
{
	static const uint32_t pre_off[] = { 12, 0, 13 }, pre_len[] = { 4, 2, 1 };
	static const uint32_t out_off[] = { 16, 2, 13 }, out_len[] = { 4, 2, 1 };
	static const uint32_t pre6_off[] = { 8, 0, 13 };
	static const uint32_t out6_off[] = { 24, 2, 13 };
	static const uint32_t len6[] = { 16, 2, 1 };
	static const uint32_t spre_off[] = { 12, 2, 13 };
	static const uint32_t sout_off[] = { 16, 0, 13 };
	struct nftnl_table *t = nftnl_table_alloc();
	struct fw_batch *b = NULL;
	struct fw_spec s;
	struct msgs m;
	const void *buf;
	size_t len;

	(void)state;
	spec_init(&s, PEER4, FW_PART_TRACE);
	s.flags = FW_F_OWNER | FW_F_CLIENT;
	assert_int_equal(fw_spec_check(&s), 0);
	assert_int_equal(fw_build_add(&s, 1, &b), 0);
	buf = fw_batch_data(b, &len);
	msgs_split(buf, len, &m);
	assert_int_equal(m.n, 9);	/* begin table set elems 2x2 end */
	assert_int_equal(nftnl_table_nlmsg_parse(m.m[1], t), 0);
	assert_int_equal(nftnl_table_get_u32(t, NFTNL_TABLE_FLAGS),
	    NFT_TABLE_F_OWNER);
	check_elems(m.m[3]);
	check_chain(m.m[4], FW_CHAIN_TRACE_PRE, NF_INET_PRE_ROUTING, -350);
	check_rule(m.m[5], FW_CHAIN_TRACE_PRE, MATCH4 SYNRST "immediate meta ");
	check_payloads(m.m[5], FW_CHAIN_TRACE_PRE, pre_off, pre_len, 3);
	check_chain(m.m[6], FW_CHAIN_TRACE_OUT, NF_INET_LOCAL_OUT, -350);
	check_rule(m.m[7], FW_CHAIN_TRACE_OUT, MATCH4 SYNRST "immediate meta ");
	check_payloads(m.m[7], FW_CHAIN_TRACE_OUT, out_off, out_len, 3);
	fw_batch_free(b);
	b = NULL;

	spec_init(&s, PEER6, FW_PART_TRACE);
	s.flags = FW_F_CLIENT;
	assert_int_equal(fw_build_add(&s, 1, &b), 0);
	buf = fw_batch_data(b, &len);
	msgs_split(buf, len, &m);
	check_payloads(m.m[5], FW_CHAIN_TRACE_PRE, pre6_off, len6, 3);
	check_payloads(m.m[7], FW_CHAIN_TRACE_OUT, out6_off, len6, 3);
	fw_batch_free(b);
	b = NULL;

	/* The server role is unchanged by the flag's existence. */
	spec_init(&s, PEER4, FW_PART_TRACE);
	assert_int_equal(fw_build_add(&s, 1, &b), 0);
	buf = fw_batch_data(b, &len);
	msgs_split(buf, len, &m);
	check_payloads(m.m[5], FW_CHAIN_TRACE_PRE, spre_off, pre_len, 3);
	check_payloads(m.m[7], FW_CHAIN_TRACE_OUT, sout_off, out_len, 3);
	fw_batch_free(b);
	b = NULL;

	/* tproxy is a server's part: refused for a client, nothing built. */
	spec_init(&s, PEER4, FW_PART_TRACE | FW_PART_TPROXY);
	s.flags = FW_F_CLIENT;
	assert_int_equal(fw_spec_check(&s), FTP_ERR_INVAL);
	assert_int_equal(fw_build_add(&s, 1, &b), FTP_ERR_INVAL);
	assert_null(b);
	s.flags = 0x80;
	assert_int_equal(fw_spec_check(&s), FTP_ERR_INVAL);
	nftnl_table_free(t);
}

/* The cmp data of the n-th cmp expression (0-based) of a rule. */
static void
check_cmp_data(const struct nlmsghdr *nlh, int nth, const void *want,
    uint32_t wlen)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nftnl_expr_iter *it;
	struct nftnl_expr *e;
	const void *data = NULL;
	uint32_t dlen = 0;
	int i = 0;

	assert_non_null(r);
	assert_int_equal(nftnl_rule_nlmsg_parse(nlh, r), 0);
	it = nftnl_expr_iter_create(r);
	while ((e = nftnl_expr_iter_next(it)) != NULL) {
		if (strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "cmp") != 0)
			continue;
		if (i++ == nth) {
			data = nftnl_expr_get(e, NFTNL_EXPR_CMP_DATA, &dlen);
			break;
		}
	}
	assert_non_null(data);
	assert_int_equal(dlen, wlen);
	assert_memory_equal(data, want, wlen);
	nftnl_expr_iter_destroy(it);
	nftnl_rule_free(r);
}

/*
 * trace_active_port: one more rule in trace_out, "ip daddr PEER tcp
 * sport 20" (a compare, no lookup: the port is not in the set, which
 * the tproxy rule uses), SYN/RST only.  Servers only, trace part only.
 */
static void
test_build_add_active(void **state)
{
	static const uint32_t off4[] = { 16, 0, 13 }, len4[] = { 4, 2, 1 };
	static const uint32_t off6[] = { 24, 0, 13 }, len6[] = { 16, 2, 1 };
	uint16_t port20 = htons(20);
	uint8_t peer4[4] = { 192, 0, 2, 7 };
	struct fw_batch *b = NULL;
	struct fw_spec s;
	struct msgs m;
	const void *buf;
	size_t len;

	(void)state;
	spec_init(&s, PEER4, FW_PART_TRACE | FW_PART_TPROXY);
	s.trace_active_port = 20;
	assert_int_equal(fw_spec_check(&s), 0);
	assert_int_equal(fw_build_add(&s, 1, &b), 0);
	buf = fw_batch_data(b, &len);
	msgs_split(buf, len, &m);
	/* begin table set elems, pre (chain rule), out (chain rule rule),
	 * tproxy (chain rule), end */
	assert_int_equal(m.n, 12);
	check_elems(m.m[3]);	/* 21-22, 30000-30020: no 20 */
	check_rule(m.m[7], FW_CHAIN_TRACE_OUT, MATCH4 SYNRST "immediate meta ");
	check_rule(m.m[8], FW_CHAIN_TRACE_OUT, "meta cmp meta cmp payload cmp "
	    "payload cmp " SYNRST "immediate meta ");
	check_payloads(m.m[8], FW_CHAIN_TRACE_OUT, off4, len4, 3);
	check_cmp_data(m.m[8], 2, peer4, 4);
	check_cmp_data(m.m[8], 3, &port20, 2);
	check_chain(m.m[9], FW_CHAIN_TPROXY, NF_INET_PRE_ROUTING, -150);
	check_rule(m.m[10], FW_CHAIN_TPROXY, MATCH4
	    "immediate tproxy immediate meta immediate ");
	fw_batch_free(b);
	b = NULL;

	spec_init(&s, PEER6, FW_PART_TRACE);
	s.trace_active_port = 20;
	assert_int_equal(fw_build_add(&s, 1, &b), 0);
	buf = fw_batch_data(b, &len);
	msgs_split(buf, len, &m);
	assert_int_equal(m.n, 10);
	check_payloads(m.m[8], FW_CHAIN_TRACE_OUT, off6, len6, 3);
	check_cmp_data(m.m[8], 3, &port20, 2);
	fw_batch_free(b);
	b = NULL;

	/* A client does not connect back; a trace port needs the trace. */
	s.flags = FW_F_CLIENT;
	assert_int_equal(fw_spec_check(&s), FTP_ERR_INVAL);
	assert_int_equal(fw_build_add(&s, 1, &b), FTP_ERR_INVAL);
	assert_null(b);
	spec_init(&s, PEER4, FW_PART_TPROXY);
	s.trace_active_port = 20;
	assert_int_equal(fw_spec_check(&s), FTP_ERR_INVAL);
}

static void
test_build_del(void **state)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct fw_batch *b = NULL;
	struct msgs m;
	const void *buf;
	size_t len;

	(void)state;
	assert_int_equal(fw_build_del("t1", 7, &b), 0);
	buf = fw_batch_data(b, &len);
	msgs_split(buf, len, &m);
	assert_int_equal(m.n, 3);
	assert_int_equal(m.m[1]->nlmsg_type, NFT_TYPE(NFT_MSG_DELTABLE));
	assert_int_equal(nftnl_table_nlmsg_parse(m.m[1], t), 0);
	assert_string_equal(nftnl_table_get_str(t, NFTNL_TABLE_NAME),
	    "ftpath_t1");
	fw_batch_free(b);
	nftnl_table_free(t);
	assert_int_equal(fw_build_del("../x", 7, &b), FTP_ERR_INVAL);
	assert_int_equal(fw_build_del_table(NFPROTO_IPV4, "a b", 7, &b),
	    FTP_ERR_INVAL);
}

/* ---- fake kernel behind fw_nl_ops ---- */

enum fake_mode {
	FAKE_OK,		/* ACK every message */
	FAKE_EPERM_BATCH,	/* refuse the batch header (no CAP_NET_ADMIN) */
	FAKE_FAIL_AT,		/* error on the fail_at-th ACKed message */
	FAKE_SILENT,		/* never answer */
	FAKE_STALE_FIRST,	/* a stale ACK from an earlier exchange first */
};

#define FAKE_Q 64

struct fake {
	enum fake_mode	 mode;
	int		 fail_at;
	int		 fail_errno;
	int		 nsent;
	char		 last[65536];
	size_t		 lastlen;
	char		 q[FAKE_Q][2048];
	size_t		 qlen[FAKE_Q];
	int		 nq, next;
	/* tables a GETTABLE dump reports */
	const char	*const *tables;
	const int	*families;
	int		 ntables;
};

#define FAKE_PORTID 4242

static struct nlmsghdr *
fake_put(struct fake *f, uint16_t type, uint32_t seq)
{
	struct nlmsghdr *nlh;

	assert_true(f->nq < FAKE_Q);
	nlh = mnl_nlmsg_put_header(f->q[f->nq]);
	nlh->nlmsg_type = type;
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_pid = FAKE_PORTID;
	return nlh;
}

static void
fake_ack(struct fake *f, const struct nlmsghdr *req, uint32_t seq, int err)
{
	struct nlmsghdr *nlh = fake_put(f, NLMSG_ERROR, seq);
	struct nlmsgerr *e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));

	e->error = -err;
	e->msg = *req;
	f->qlen[f->nq++] = nlh->nlmsg_len;
}

static void
fake_dump_tables(struct fake *f, uint32_t seq)
{
	struct nlmsghdr *nlh;
	struct nftnl_table *t;
	int i;

	for (i = 0; i < f->ntables; i++) {
		t = nftnl_table_alloc();
		nftnl_table_set_str(t, NFTNL_TABLE_NAME, f->tables[i]);
		nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY,
		    (uint32_t)f->families[i]);
		nlh = nftnl_nlmsg_build_hdr(f->q[f->nq], NFT_MSG_NEWTABLE,
		    (uint16_t)f->families[i], NLM_F_MULTI, seq);
		nlh->nlmsg_pid = FAKE_PORTID;
		nftnl_table_nlmsg_build_payload(nlh, t);
		f->qlen[f->nq++] = nlh->nlmsg_len;
		nftnl_table_free(t);
	}
	nlh = fake_put(f, NLMSG_DONE, seq);
	nlh->nlmsg_flags = NLM_F_MULTI;
	f->qlen[f->nq++] = nlh->nlmsg_len;
}

static int
fake_send(void *ctx, const void *buf, size_t len)
{
	struct fake *f = ctx;
	struct msgs m;
	int i, acked = 0;

	f->nsent++;
	assert_true(len <= sizeof(f->last));
	memcpy(f->last, buf, len);
	f->lastlen = len;
	msgs_split(f->last, len, &m);
	if (f->mode == FAKE_SILENT)
		return 0;
	if (m.m[0]->nlmsg_flags & NLM_F_DUMP) {
		fake_dump_tables(f, m.m[0]->nlmsg_seq);
		return 0;
	}
	if (f->mode == FAKE_STALE_FIRST)
		fake_ack(f, m.m[0], m.m[0]->nlmsg_seq - 500, EEXIST);
	for (i = 0; i < m.n; i++) {
		if (m.m[i]->nlmsg_type == NFNL_MSG_BATCH_BEGIN &&
		    f->mode == FAKE_EPERM_BATCH) {
			fake_ack(f, m.m[i], m.m[i]->nlmsg_seq, EPERM);
			return 0;
		}
		if (!(m.m[i]->nlmsg_flags & NLM_F_ACK))
			continue;
		acked++;
		fake_ack(f, m.m[i], m.m[i]->nlmsg_seq,
		    f->mode == FAKE_FAIL_AT && acked == f->fail_at ?
		    f->fail_errno : 0);
	}
	return 0;
}

static int
fake_recv(void *ctx, void *buf, size_t len, int timeout_ms)
{
	struct fake *f = ctx;
	size_t n;

	(void)timeout_ms;
	if (f->next >= f->nq)
		return 0;	/* "timed out" */
	n = f->qlen[f->next];
	assert_true(n <= len);
	memcpy(buf, f->q[f->next++], n);
	return (int)n;
}

static uint32_t
fake_portid(void *ctx)
{
	(void)ctx;
	return FAKE_PORTID;
}

static const struct fw_nl_ops fake_ops = {
	.send = fake_send,
	.recv = fake_recv,
	.portid = fake_portid,
	.close = NULL,
};

static struct fake *
fake_new(enum fake_mode mode, struct fw_nl **nl)
{
	struct fake *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->mode = mode;
	*nl = fw_nl_new(&fake_ops, f);
	assert_non_null(*nl);
	return f;
}

static void
test_talk_ok(void **state)
{
	struct fw_nl *nl;
	struct fake *f = fake_new(FAKE_OK, &nl);
	struct fw_spec s;

	(void)state;
	spec_init(&s, PEER4, FW_PART_TRACE | FW_PART_TPROXY);
	assert_int_equal(fw_table_add(nl, &s), 0);
	assert_int_equal(f->nsent, 1);
	assert_int_equal(f->next, 9);		/* every ACK drained */
	assert_int_equal(fw_table_del(nl, "t1"), 0);
	assert_int_equal(f->nsent, 2);
	fw_nl_free(nl);
	free(f);
}

static void
test_talk_eperm(void **state)
{
	struct fw_nl *nl;
	struct fake *f = fake_new(FAKE_EPERM_BATCH, &nl);
	struct fw_spec s;

	(void)state;
	spec_init(&s, PEER4, FW_PART_TRACE);
	errno = 0;
	assert_int_equal(fw_table_add(nl, &s), FTP_ERR_DENIED);
	assert_int_equal(errno, EPERM);
	/* One batch, refused as a whole: nothing else was sent, nothing
	 * left to undo. */
	assert_int_equal(f->nsent, 1);
	fw_nl_free(nl);
	free(f);
}

static void
test_talk_fail_mid_batch(void **state)
{
	struct fw_nl *nl;
	struct fake *f = fake_new(FAKE_FAIL_AT, &nl);
	struct fw_spec s;

	(void)state;
	/* The tproxy rule (9th message) fails, e.g. no nft_tproxy module:
	 * the kernel aborts the transaction; we report that error and have
	 * still drained every ACK so the socket stays in step. */
	f->fail_at = 9;
	f->fail_errno = EOPNOTSUPP;
	spec_init(&s, PEER4, FW_PART_TRACE | FW_PART_TPROXY);
	assert_int_equal(fw_table_add(nl, &s), FTP_ERR_SYSTEM);
	assert_int_equal(errno, EOPNOTSUPP);
	assert_int_equal(f->next, f->nq);
	assert_int_equal(f->nsent, 1);
	/* ENOENT on delete maps to NOTFOUND. */
	f->nq = f->next = 0;
	f->fail_at = 1;
	f->fail_errno = ENOENT;
	assert_int_equal(fw_table_del(nl, "t1"), FTP_ERR_NOTFOUND);
	fw_nl_free(nl);
	free(f);
}

static void
test_talk_silent_and_stale(void **state)
{
	struct fw_nl *nl;
	struct fake *f = fake_new(FAKE_SILENT, &nl);

	(void)state;
	assert_int_equal(fw_table_del(nl, "t1"), FTP_ERR_SYSTEM);
	assert_int_equal(errno, ETIMEDOUT);
	/* An ACK with someone else's sequence number (an EEXIST from an
	 * exchange we gave up on) must not be taken for ours. */
	f->mode = FAKE_STALE_FIRST;
	assert_int_equal(fw_table_del(nl, "t1"), 0);
	assert_int_equal(f->next, f->nq);
	fw_nl_free(nl);
	free(f);
}

static void
test_cleanup_stale(void **state)
{
	static const char *const names[] = { "filter", "ftpath_abc",
	    "ftpath_x1", "ftpath_BAD", "ftpathzz" };
	static const int fams[] = { NFPROTO_IPV4, NFPROTO_INET, NFPROTO_IPV6,
	    NFPROTO_INET, NFPROTO_INET };
	struct nftnl_table *t = nftnl_table_alloc();
	struct fw_nl *nl;
	struct fake *f = fake_new(FAKE_OK, &nl);
	unsigned removed = 99;
	struct msgs m;

	(void)state;
	f->tables = names;
	f->families = fams;
	f->ntables = 5;
	assert_int_equal(fw_table_cleanup_stale(nl, &removed), 0);
	assert_int_equal(removed, 2);
	assert_int_equal(f->nsent, 2);		/* dump, then one batch */
	msgs_split(f->last, f->lastlen, &m);
	assert_int_equal(m.n, 4);
	assert_int_equal(m.m[1]->nlmsg_type, NFT_TYPE(NFT_MSG_DELTABLE));
	assert_int_equal(nftnl_table_nlmsg_parse(m.m[1], t), 0);
	assert_string_equal(nftnl_table_get_str(t, NFTNL_TABLE_NAME),
	    "ftpath_abc");
	assert_int_equal(nftnl_table_nlmsg_parse(m.m[2], t), 0);
	assert_string_equal(nftnl_table_get_str(t, NFTNL_TABLE_NAME),
	    "ftpath_x1");
	assert_int_equal(nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY),
	    NFPROTO_IPV6);
	/* Nothing of ours: only the dump is sent. */
	f->nsent = 0;
	f->ntables = 1;
	assert_int_equal(fw_table_cleanup_stale(nl, &removed), 0);
	assert_int_equal(removed, 0);
	assert_int_equal(f->nsent, 1);
	nftnl_table_free(t);
	fw_nl_free(nl);
	free(f);
}

/* ---- policy routes ---- */

struct attrs {
	const struct nlattr *tb[64];
};

static int
attr_cb(const struct nlattr *a, void *data)
{
	struct attrs *at = data;

	if (mnl_attr_get_type(a) < 64)
		at->tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

static void
test_route_build(void **state)
{
	struct attrs at = { { 0 } };
	const struct fib_rule_hdr *frh;
	const struct rtmsg *rtm;
	struct fw_batch *b = NULL;
	struct msgs m;
	const void *buf;
	size_t len;

	(void)state;
	assert_int_equal(fw_route_check(AF_INET, 1, FW_ROUTE_TABLE_MIN - 1),
	    FTP_ERR_RANGE);
	assert_int_equal(fw_route_check(AF_INET, 0, FW_ROUTE_TABLE_MIN),
	    FTP_ERR_INVAL);
	assert_int_equal(fw_build_rule_fwmark(1, AF_INET, 0x4654,
	    FW_ROUTE_TABLE_MIN, 5, &b), 0);
	buf = fw_batch_data(b, &len);
	msgs_split(buf, len, &m);
	assert_int_equal(m.n, 1);	/* rtnetlink: no batch framing */
	assert_int_equal(m.m[0]->nlmsg_type, RTM_NEWRULE);
	frh = mnl_nlmsg_get_payload(m.m[0]);
	assert_int_equal(frh->action, FR_ACT_TO_TBL);
	assert_int_equal(mnl_attr_parse(m.m[0], sizeof(*frh), attr_cb, &at),
	    MNL_CB_OK);
	assert_int_equal(mnl_attr_get_u32(at.tb[FRA_FWMARK]), 0x4654);
	assert_int_equal(mnl_attr_get_u32(at.tb[FRA_TABLE]),
	    FW_ROUTE_TABLE_MIN);
	assert_int_equal(mnl_attr_get_u32(at.tb[FRA_PRIORITY]),
	    FW_ROUTE_TABLE_MIN);
	fw_batch_free(b);

	memset(&at, 0, sizeof(at));
	assert_int_equal(fw_build_route_local(0, AF_INET6, FW_ROUTE_TABLE_MAX,
	    1, 9, &b), 0);
	buf = fw_batch_data(b, &len);
	msgs_split(buf, len, &m);
	assert_int_equal(m.m[0]->nlmsg_type, RTM_DELROUTE);
	rtm = mnl_nlmsg_get_payload(m.m[0]);
	assert_int_equal(rtm->rtm_type, RTN_LOCAL);
	assert_int_equal(rtm->rtm_family, AF_INET6);
	assert_int_equal(mnl_attr_parse(m.m[0], sizeof(*rtm), attr_cb, &at),
	    MNL_CB_OK);
	assert_int_equal(mnl_attr_get_u32(at.tb[RTA_TABLE]),
	    FW_ROUTE_TABLE_MAX);
	assert_int_equal(mnl_attr_get_u32(at.tb[RTA_OIF]), 1);
	fw_batch_free(b);
}

/* ---- trace decode ---- */

struct tmsg {
	char		 buf[2048];
	struct nlmsghdr	*nlh;
};

static void
tmsg_start(struct tmsg *t, uint8_t family)
{
	struct nfgenmsg *g;

	t->nlh = mnl_nlmsg_put_header(t->buf);
	t->nlh->nlmsg_type = NFT_TYPE(NFT_MSG_TRACE);
	g = mnl_nlmsg_put_extra_header(t->nlh, sizeof(*g));
	g->nfgen_family = family;
	g->version = NFNETLINK_V0;
	mnl_attr_put_u32(t->nlh, NFTA_TRACE_ID, htonl(0xabcd1234));
}

static void
tmsg_verdict(struct tmsg *t, int32_t code, const char *chain)
{
	struct nlattr *nest = mnl_attr_nest_start(t->nlh, NFTA_TRACE_VERDICT);

	mnl_attr_put_u32(t->nlh, NFTA_VERDICT_CODE, htonl((uint32_t)code));
	if (chain != NULL)
		mnl_attr_put_strz(t->nlh, NFTA_VERDICT_CHAIN, chain);
	mnl_attr_nest_end(t->nlh, nest);
}

/* A 20-byte IPv4 header and a TCP header's first 20 bytes. */
static void
tmsg_tcp4(struct tmsg *t, const char *src, const char *dst, uint16_t sport,
    uint16_t dport)
{
	uint8_t ip[20] = { 0x45, 0, 0, 60, 0, 0, 0x40, 0, 64, IPPROTO_TCP };
	uint8_t tcp[20] = { 0 };

	inet_pton(AF_INET, src, ip + 12);
	inet_pton(AF_INET, dst, ip + 16);
	sport = htons(sport);
	dport = htons(dport);
	memcpy(tcp, &sport, 2);
	memcpy(tcp + 2, &dport, 2);
	tcp[13] = 0x02;		/* SYN */
	mnl_attr_put(t->nlh, NFTA_TRACE_NETWORK_HEADER, sizeof(ip), ip);
	mnl_attr_put(t->nlh, NFTA_TRACE_TRANSPORT_HEADER, sizeof(tcp), tcp);
}

static void
check_addr(const struct sockaddr_storage *ss, const char *addr,
    uint16_t port)
{
	char buf[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &a->sin_addr, buf, sizeof(buf));
		assert_int_equal(ntohs(a->sin_port), port);
	} else {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;

		assert_int_equal(ss->ss_family, AF_INET6);
		inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof(buf));
		assert_int_equal(ntohs(a->sin6_port), port);
	}
	assert_string_equal(buf, addr);
}

static void
test_trace_decode_rule4(void **state)
{
	struct fw_trace_event ev;
	struct tmsg t;

	(void)state;
	tmsg_start(&t, NFPROTO_INET);
	mnl_attr_put_strz(t.nlh, NFTA_TRACE_TABLE, "filter");
	mnl_attr_put_strz(t.nlh, NFTA_TRACE_CHAIN, "input");
	mnl_attr_put_u32(t.nlh, NFTA_TRACE_TYPE, htonl(NFT_TRACETYPE_RULE));
	mnl_attr_put_u64(t.nlh, NFTA_TRACE_RULE_HANDLE, htobe64(17));
	tmsg_verdict(&t, NF_DROP, NULL);
	mnl_attr_put_u32(t.nlh, NFTA_TRACE_NFPROTO, htonl(NFPROTO_IPV4));
	mnl_attr_put_u32(t.nlh, NFTA_TRACE_IIF, htonl(3));
	mnl_attr_put_u32(t.nlh, NFTA_TRACE_MARK, htonl(0x4654));
	tmsg_tcp4(&t, "198.51.100.2", "203.0.113.2", 40000, 21);

	assert_int_equal(fw_trace_decode(t.nlh, t.nlh->nlmsg_len, &ev), 0);
	assert_int_equal(ev.id, 0xabcd1234);
	assert_int_equal(ev.family, NFPROTO_INET);
	assert_int_equal(ev.nfproto, NFPROTO_IPV4);
	assert_string_equal(ev.table, "filter");
	assert_string_equal(ev.chain, "input");
	assert_int_equal(ev.type, FW_TRACE_RULE);
	assert_true(ev.has_handle);
	assert_int_equal(ev.handle, 17);
	assert_int_equal(ev.verdict, FW_V_DROP);
	assert_string_equal(fw_verdict_name(ev.verdict), "drop");
	assert_int_equal(ev.iif, 3);
	assert_int_equal(ev.mark, 0x4654);
	assert_true(ev.has_tuple);
	assert_int_equal(ev.l4proto, IPPROTO_TCP);
	check_addr(&ev.src, "198.51.100.2", 40000);
	check_addr(&ev.dst, "203.0.113.2", 21);
}

static void
test_trace_decode_policy_and_jump(void **state)
{
	struct fw_trace_event ev;
	struct tmsg t;

	(void)state;
	/* Policy event: no handle, the policy is the verdict. */
	tmsg_start(&t, NFPROTO_IPV6);
	mnl_attr_put_strz(t.nlh, NFTA_TRACE_TABLE, "t6");
	mnl_attr_put_strz(t.nlh, NFTA_TRACE_CHAIN, "in");
	mnl_attr_put_u32(t.nlh, NFTA_TRACE_TYPE, htonl(NFT_TRACETYPE_POLICY));
	mnl_attr_put_u32(t.nlh, NFTA_TRACE_POLICY, htonl(NF_DROP));
	assert_int_equal(fw_trace_decode(t.nlh, t.nlh->nlmsg_len, &ev), 0);
	assert_int_equal(ev.type, FW_TRACE_POLICY);
	assert_string_equal(fw_trace_type_name(ev.type), "policy");
	assert_false(ev.has_handle);
	assert_int_equal(ev.verdict, FW_V_DROP);
	assert_false(ev.has_tuple);
	assert_string_equal(fw_family_name(ev.family), "ip6");

	/* Jump, with its target chain. */
	tmsg_start(&t, NFPROTO_IPV4);
	mnl_attr_put_strz(t.nlh, NFTA_TRACE_TABLE, "t");
	mnl_attr_put_strz(t.nlh, NFTA_TRACE_CHAIN, "c");
	mnl_attr_put_u32(t.nlh, NFTA_TRACE_TYPE, htonl(NFT_TRACETYPE_RULE));
	mnl_attr_put_u64(t.nlh, NFTA_TRACE_RULE_HANDLE, htobe64(4));
	tmsg_verdict(&t, NFT_JUMP, "sub");
	assert_int_equal(fw_trace_decode(t.nlh, t.nlh->nlmsg_len, &ev), 0);
	assert_int_equal(ev.verdict, FW_V_JUMP);
	assert_string_equal(ev.jump_target, "sub");

	/* Return event. */
	tmsg_start(&t, NFPROTO_IPV4);
	mnl_attr_put_strz(t.nlh, NFTA_TRACE_TABLE, "t");
	mnl_attr_put_strz(t.nlh, NFTA_TRACE_CHAIN, "sub");
	mnl_attr_put_u32(t.nlh, NFTA_TRACE_TYPE, htonl(NFT_TRACETYPE_RETURN));
	tmsg_verdict(&t, NFT_CONTINUE, NULL);
	assert_int_equal(fw_trace_decode(t.nlh, t.nlh->nlmsg_len, &ev), 0);
	assert_int_equal(ev.type, FW_TRACE_RETURN);
	assert_int_equal(ev.verdict, FW_V_CONTINUE);
}

static void
test_trace_decode_bad(void **state)
{
	struct fw_trace_event ev;
	struct tmsg t;
	uint8_t shortip[10] = { 0x45 };

	(void)state;
	/* Not a trace message. */
	tmsg_start(&t, NFPROTO_INET);
	t.nlh->nlmsg_type = NFT_TYPE(NFT_MSG_NEWTABLE);
	assert_int_equal(fw_trace_decode(t.nlh, t.nlh->nlmsg_len, &ev), FTP_ERR_INVAL);
	/* Truncated network header: the event stands, without a tuple. */
	tmsg_start(&t, NFPROTO_INET);
	mnl_attr_put_strz(t.nlh, NFTA_TRACE_TABLE, "t");
	mnl_attr_put_u32(t.nlh, NFTA_TRACE_TYPE, htonl(NFT_TRACETYPE_RULE));
	mnl_attr_put(t.nlh, NFTA_TRACE_NETWORK_HEADER, sizeof(shortip),
	    shortip);
	assert_int_equal(fw_trace_decode(t.nlh, t.nlh->nlmsg_len, &ev), 0);
	assert_false(ev.has_tuple);
}

static void
test_trace_tuple6(void **state)
{
	struct fw_trace_event ev = { 0 };
	uint8_t ip6[48] = { 0x60 }, th[8] = { 0x9c, 0x40, 0x00, 0x15 };

	(void)state;
	/* IPv6 + one 8-byte destination-options header, then TCP. */
	ip6[6] = IPPROTO_DSTOPTS;
	inet_pton(AF_INET6, "2001:db8:1::2", ip6 + 8);
	inet_pton(AF_INET6, "2001:db8:2::2", ip6 + 24);
	ip6[40] = IPPROTO_TCP;
	ip6[41] = 0;
	assert_int_equal(fw_trace_parse_tuple(ip6, sizeof(ip6), th,
	    sizeof(th), &ev), 0);
	assert_int_equal(ev.l4proto, IPPROTO_TCP);
	check_addr(&ev.src, "2001:db8:1::2", 40000);
	check_addr(&ev.dst, "2001:db8:2::2", 21);
	/* Extension header running past the copied bytes. */
	ip6[41] = 5;
	ip6[40] = IPPROTO_DSTOPTS;
	assert_int_equal(fw_trace_parse_tuple(ip6, sizeof(ip6), th,
	    sizeof(th), &ev), FTP_ERR_INVAL);
}

/* ---- rule text ---- */

static const char listing[] =
    "table inet filter { # handle 1\n"
    "\tchain input { # handle 2\n"
    "\t\ttype filter hook input priority filter; policy drop;\n"
    "\t\tct state established,related accept # handle 3\n"
    "\t\ttcp dport 21 drop # handle 13\n"
    "\t\ttcp dport 2121 counter packets 0 bytes 0 drop # handle 4\n"
    "\t}\n"
    "}\n";

static void
test_rule_text_find(void **state)
{
	char *s = NULL;

	(void)state;
	assert_int_equal(fw_rule_text_find(listing, 3, &s), 0);
	assert_string_equal(s, "ct state established,related accept");
	free(s);
	/* "# handle 13" must not be taken for handle 1 or 3. */
	assert_int_equal(fw_rule_text_find(listing, 13, &s), 0);
	assert_string_equal(s, "tcp dport 21 drop");
	free(s);
	assert_int_equal(fw_rule_text_find(listing, 4, &s), 0);
	assert_string_equal(s, "tcp dport 2121 counter packets 0 bytes 0 drop");
	free(s);
	s = NULL;
	/* Table and chain lines carry handles but are not rules. */
	assert_int_equal(fw_rule_text_find(listing, 2, &s), FTP_ERR_NOTFOUND);
	assert_int_equal(fw_rule_text_find(listing, 1, &s), FTP_ERR_NOTFOUND);
	assert_int_equal(fw_rule_text_find(listing, 99, &s), FTP_ERR_NOTFOUND);
	assert_int_equal(fw_rule_text_find("", 1, &s), FTP_ERR_NOTFOUND);
	assert_null(s);
}

/* A stateful chain is one that accepts related connections. */
static void
test_chain_related(void **state)
{
	static const char *const yes[] = {
	    "\t\tct state established,related accept # handle 3\n",
	    "\t\tct state { established, related } accept # handle 3\n",
	    "\t\tct state related counter packets 1 bytes 60 accept\n",
	    "\t\tct state vmap { invalid : drop, established : accept, "
	    "related : accept } # handle 5\n",
	    "\t\tiifname \"lo\" accept\n\t\tct state related accept\n",
	};
	static const char *const no[] = {
	    "", "\t\tct state established accept # handle 3\n",
	    "\t\tct state != related drop # handle 3\n",
	    "\t\tct state != related accept # handle 3\n",
	    "\t\tct state related drop # handle 3\n",
	    "\t\tct state established accept\n\t\ttcp dport 21 accept "
	    "comment \"related\"\n",
	    "\t\tct status related accept\n",
	};
	size_t i;

	(void)state;
	assert_int_equal(fw_chain_related_find(listing), 1);
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		assert_int_equal(fw_chain_related_find(yes[i]), 1);
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_int_equal(fw_chain_related_find(no[i]), 0);
}

static void
test_rule_text_rejects_names(void **state)
{
	char *s = NULL;

	(void)state;
	/* Refused before libnftables is ever called. */
	assert_int_equal(fw_rule_text(NFPROTO_INET, "t; flush ruleset", "c",
	    1, &s), FTP_ERR_INVAL);
	assert_int_equal(fw_rule_text(NFPROTO_INET, "t", "c\nflush", 1, &s),
	    FTP_ERR_INVAL);
	assert_int_equal(fw_rule_text(NFPROTO_INET, "-t", "c", 1, &s),
	    FTP_ERR_INVAL);
	assert_int_equal(fw_rule_text(NFPROTO_INET, "1t", "c", 1, &s),
	    FTP_ERR_INVAL);
	assert_int_equal(fw_rule_text(99, "t", "c", 1, &s), FTP_ERR_INVAL);
	assert_null(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_spec_check),
		cmocka_unit_test(test_build_add),
		cmocka_unit_test(test_build_add_v6_trace_only),
		cmocka_unit_test(test_build_add_client),
		cmocka_unit_test(test_build_add_active),
		cmocka_unit_test(test_build_del),
		cmocka_unit_test(test_talk_ok),
		cmocka_unit_test(test_talk_eperm),
		cmocka_unit_test(test_talk_fail_mid_batch),
		cmocka_unit_test(test_talk_silent_and_stale),
		cmocka_unit_test(test_cleanup_stale),
		cmocka_unit_test(test_route_build),
		cmocka_unit_test(test_trace_decode_rule4),
		cmocka_unit_test(test_trace_decode_policy_and_jump),
		cmocka_unit_test(test_trace_decode_bad),
		cmocka_unit_test(test_trace_tuple6),
		cmocka_unit_test(test_rule_text_find),
		cmocka_unit_test(test_rule_text_rejects_names),
		cmocka_unit_test(test_chain_related),
	};

	return cmocka_run_group_tests_name("fw", tests, NULL, NULL);
}
