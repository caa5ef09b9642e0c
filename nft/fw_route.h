/*
 * fw_route.h - the policy routing a tproxy rule needs, over rtnetlink:
 *
 *   ip rule add fwmark MARK lookup TABLE priority TABLE
 *   ip route add local default dev lo table TABLE        (ip -6 alike)
 *
 * Marked packets are then delivered locally, where the transparent
 * listener picks them up.  Our rules and routes are recognised by a fixed
 * range of table numbers, FW_ROUTE_TABLE_MIN..MAX, which we also use as
 * the rule priority: a rule is ours when both its priority and its table
 * are in the range, a route when its table is.  That is how the stale
 * cleanup finds them after a crash.
 *
 * Errors: 0 or negative FTP_ERR_* (kernel errors as in fw_nl.h).
 * rt is a NETLINK_ROUTE fw_nl; sending needs CAP_NET_ADMIN.
 */
#ifndef FTPATH_FW_ROUTE_H
#define FTPATH_FW_ROUTE_H

#include <stdint.h>

#include "fw_nl.h"

#define FW_ROUTE_TABLE_MIN	27100u
#define FW_ROUTE_TABLE_MAX	27199u

/* 0 if family is AF_INET/AF_INET6, table in range and mark != 0. */
int fw_route_check(int family, uint32_t mark, uint32_t table);

/*
 * Builders (no I/O).  Each makes one message; lo_ifindex is the loopback
 * interface index (1 in every namespace, but asked for by the caller).
 */
int fw_build_route_local(int add, int family, uint32_t table,
    unsigned lo_ifindex, uint32_t seq, struct fw_batch **out);
int fw_build_rule_fwmark(int add, int family, uint32_t mark, uint32_t table,
    uint32_t seq, struct fw_batch **out);

/*
 * Add the route, then the rule.  If the rule fails the route is removed
 * again, so a failure leaves nothing behind.  The table number must not
 * be in use (EEXIST otherwise): one table per session.
 */
int fw_policy_route_add(struct fw_nl *rt, int family, uint32_t mark,
    uint32_t table);
/* Remove rule and route; both are tried, the first error other than
 * "not there" is returned. */
int fw_policy_route_del(struct fw_nl *rt, int family, uint32_t mark,
    uint32_t table);

/* Dump rules and routes of all families and delete those in our range.
 * *removed (may be NULL) gets the count, on success only. */
int fw_route_cleanup_stale(struct fw_nl *rt, unsigned *removed);

#endif
