/*
 * fw_route.c - fwmark rule and local default route for tproxy (see
 * fw_route.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>

#include "err.h"
#include "fw_route.h"

int
fw_route_check(int family, uint32_t mark, uint32_t table)
{
	if (family != AF_INET && family != AF_INET6)
		return FTP_ERR_INVAL;
	if (table < FW_ROUTE_TABLE_MIN || table > FW_ROUTE_TABLE_MAX)
		return FTP_ERR_RANGE;
	if (mark == 0)
		return FTP_ERR_INVAL;
	return 0;
}

static int
fw_table_ours(uint32_t table)
{
	return table >= FW_ROUTE_TABLE_MIN && table <= FW_ROUTE_TABLE_MAX;
}

/* "local default dev lo table T": type local makes the kernel deliver
 * whatever this table routes to the host itself. */
int
fw_build_route_local(int add, int family, uint32_t table,
    unsigned lo_ifindex, uint32_t seq, struct fw_batch **out)
{
	struct fw_batch *b;
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	int r;

	if ((r = fw_route_check(family, 1, table)) != 0)
		return r;
	if ((b = fw_batch_new(0, seq, 0)) == NULL)
		return FTP_ERR_NOMEM;
	nlh = fw_batch_raw_msg(b, add ? RTM_NEWROUTE : RTM_DELROUTE,
	    add ? NLM_F_CREATE | NLM_F_EXCL : 0);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (unsigned char)family;
	rtm->rtm_table = RT_TABLE_UNSPEC;	/* > 255: RTA_TABLE says */
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = RT_SCOPE_HOST;
	rtm->rtm_type = RTN_LOCAL;
	mnl_attr_put_u32(nlh, RTA_TABLE, table);
	mnl_attr_put_u32(nlh, RTA_OIF, lo_ifindex);
	if ((r = fw_batch_commit(b)) != 0 || (r = fw_batch_finish(b)) != 0) {
		fw_batch_free(b);
		return r;
	}
	*out = b;
	return 0;
}

int
fw_build_rule_fwmark(int add, int family, uint32_t mark, uint32_t table,
    uint32_t seq, struct fw_batch **out)
{
	struct fib_rule_hdr *frh;
	struct fw_batch *b;
	struct nlmsghdr *nlh;
	int r;

	if ((r = fw_route_check(family, mark, table)) != 0)
		return r;
	if ((b = fw_batch_new(0, seq, 0)) == NULL)
		return FTP_ERR_NOMEM;
	nlh = fw_batch_raw_msg(b, add ? RTM_NEWRULE : RTM_DELRULE,
	    add ? NLM_F_CREATE | NLM_F_EXCL : 0);
	frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
	frh->family = (uint8_t)family;
	frh->action = FR_ACT_TO_TBL;
	mnl_attr_put_u32(nlh, FRA_PRIORITY, table);
	mnl_attr_put_u32(nlh, FRA_FWMARK, mark);
	mnl_attr_put_u32(nlh, FRA_FWMASK, UINT32_MAX);
	mnl_attr_put_u32(nlh, FRA_TABLE, table);
	if ((r = fw_batch_commit(b)) != 0 || (r = fw_batch_finish(b)) != 0) {
		fw_batch_free(b);
		return r;
	}
	*out = b;
	return 0;
}

static int
fw_route_talk(struct fw_nl *rt, int add, int family, uint32_t table)
{
	struct fw_batch *b = NULL;
	int r;

	/* lo is ifindex 1 in every network namespace. */
	if ((r = fw_build_route_local(add, family, table, 1, fw_nl_seq(rt),
	    &b)) == 0)
		r = fw_nl_talk(rt, b);
	fw_batch_free(b);
	return r;
}

static int
fw_rule_talk(struct fw_nl *rt, int add, int family, uint32_t mark,
    uint32_t table)
{
	struct fw_batch *b = NULL;
	int r;

	if ((r = fw_build_rule_fwmark(add, family, mark, table, fw_nl_seq(rt),
	    &b)) == 0)
		r = fw_nl_talk(rt, b);
	fw_batch_free(b);
	return r;
}

int
fw_policy_route_add(struct fw_nl *rt, int family, uint32_t mark,
    uint32_t table)
{
	int r, saved;

	if ((r = fw_route_check(family, mark, table)) != 0)
		return r;
	/* Route first: alone in its private table it changes nothing. */
	if ((r = fw_route_talk(rt, 1, family, table)) != 0)
		return r;
	if ((r = fw_rule_talk(rt, 1, family, mark, table)) != 0) {
		saved = errno;
		(void)fw_route_talk(rt, 0, family, table);
		errno = saved;
	}
	return r;
}

int
fw_policy_route_del(struct fw_nl *rt, int family, uint32_t mark,
    uint32_t table)
{
	int r, r2;

	if ((r = fw_route_check(family, mark, table)) != 0)
		return r;
	/* Rule first: once it is gone no packet can use the table. */
	r = fw_rule_talk(rt, 0, family, mark, table);
	if (r == FTP_ERR_NOTFOUND)
		r = 0;
	r2 = fw_route_talk(rt, 0, family, table);
	if (r2 == FTP_ERR_NOTFOUND ||
	    (r2 == FTP_ERR_SYSTEM && errno == ESRCH))
		r2 = 0;
	return r != 0 ? r : r2;
}

/* ---- stale cleanup ---- */

struct fw_rt_stale {
	struct fw_batch	*b;
	uint16_t	 del_type;
};

static int
fw_u32_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(a);

	/* FRA_TABLE/RTA_TABLE and FRA_PRIORITY are all we look at. */
	if ((type == FRA_TABLE || type == FRA_PRIORITY || type == RTA_TABLE) &&
	    mnl_attr_validate(a, MNL_TYPE_U32) == 0)
		tb[type] = a;
	return MNL_CB_OK;
}

/* Re-send a dumped object as a delete, the way `ip rule flush` does: the
 * kernel matches the delete against exactly what it reported. */
static int
fw_rt_stale_queue(struct fw_rt_stale *st, const struct nlmsghdr *nlh)
{
	struct nlmsghdr *del;
	size_t plen = mnl_nlmsg_get_payload_len(nlh);

	if ((del = fw_batch_raw_msg(st->b, st->del_type, 0)) == NULL)
		return FTP_ERR_TOOBIG;
	memcpy(mnl_nlmsg_put_extra_header(del, plen),
	    mnl_nlmsg_get_payload(nlh), plen);
	return fw_batch_commit(st->b);
}

static int
fw_rt_stale_rule_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *tb[__FRA_MAX] = { 0 };
	const struct fib_rule_hdr *frh;
	uint32_t table, prio;

	if (nlh->nlmsg_type != RTM_NEWRULE ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*frh))
		return 0;
	frh = mnl_nlmsg_get_payload(nlh);
	if (mnl_attr_parse(nlh, sizeof(*frh), fw_u32_attr_cb, tb) < 0)
		return 0;
	table = tb[FRA_TABLE] ? mnl_attr_get_u32(tb[FRA_TABLE]) : frh->table;
	prio = tb[FRA_PRIORITY] ? mnl_attr_get_u32(tb[FRA_PRIORITY]) : 0;
	if (!fw_table_ours(table) || !fw_table_ours(prio))
		return 0;
	return fw_rt_stale_queue(arg, nlh);
}

static int
fw_rt_stale_route_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *tb[RTA_MAX + 1] = { 0 };
	const struct rtmsg *rtm;
	uint32_t table;

	if (nlh->nlmsg_type != RTM_NEWROUTE ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm))
		return 0;
	rtm = mnl_nlmsg_get_payload(nlh);
	if (mnl_attr_parse(nlh, sizeof(*rtm), fw_u32_attr_cb, tb) < 0)
		return 0;
	table = tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) :
	    rtm->rtm_table;
	if (!fw_table_ours(table))
		return 0;
	return fw_rt_stale_queue(arg, nlh);
}

/* Dump one object kind (all families) and delete what is ours. */
static int
fw_rt_stale_pass(struct fw_nl *rt, uint16_t get, uint16_t del,
    fw_nl_data_cb cb, unsigned *count)
{
	char req[MNL_SOCKET_BUFFER_SIZE];
	struct fw_rt_stale st = { .del_type = del };
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	uint32_t seq = fw_nl_seq(rt);
	int r;

	if ((st.b = fw_batch_new(64 * 1024, seq + 1, 0)) == NULL)
		return FTP_ERR_NOMEM;
	nlh = mnl_nlmsg_put_header(req);
	nlh->nlmsg_type = get;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	/* rtmsg and fib_rule_hdr both start with the family byte. */
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_UNSPEC;
	if ((r = fw_nl_dump(rt, nlh, nlh->nlmsg_len, seq, cb, &st)) != 0 ||
	    (r = fw_batch_finish(st.b)) != 0)
		goto out;
	if (fw_batch_count(st.b) > 0 && (r = fw_nl_talk(rt, st.b)) != 0)
		goto out;
	*count += fw_batch_count(st.b);
out:
	fw_batch_free(st.b);
	return r;
}

int
fw_route_cleanup_stale(struct fw_nl *rt, unsigned *removed)
{
	unsigned n = 0;
	int r, r2;

	/* Rules before routes, for the same reason as in _del. */
	r = fw_rt_stale_pass(rt, RTM_GETRULE, RTM_DELRULE,
	    fw_rt_stale_rule_cb, &n);
	r2 = fw_rt_stale_pass(rt, RTM_GETROUTE, RTM_DELROUTE,
	    fw_rt_stale_route_cb, &n);
	if (r == 0)
		r = r2;
	if (r == 0 && removed != NULL)
		*removed = n;
	return r;
}
