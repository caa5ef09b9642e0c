/*
 * divert.c - policy route for tproxy diversion (see divert.h).
 */
#include <errno.h>

#include <linux/netlink.h>

#include "divert.h"
#include "err.h"
#include "fw_nl.h"
#include "fw_route.h"

static int
divert_route(int add, int family)
{
	struct fw_nl *rt;
	int r, saved;

	if ((rt = fw_nl_open(NETLINK_ROUTE)) == NULL)
		return FTP_ERR_SYSTEM;
	r = add ? fw_policy_route_add(rt, family, DIVERT_MARK, DIVERT_TABLE) :
	    fw_policy_route_del(rt, family, DIVERT_MARK, DIVERT_TABLE);
	saved = errno;
	fw_nl_free(rt);
	errno = saved;
	return r;
}

int
divert_route_add(int family)
{
	return divert_route(1, family);
}

int
divert_route_del(int family)
{
	return divert_route(0, family);
}
