/*
 * divert.h - the policy route behind the reflector's tproxy diversion.
 *
 * A session's tproxy rule (nft/fw.h) hands the agent's probe connections
 * to the transparent listener (portreg.h) and marks their packets with
 * DIVERT_MARK.  This route makes the kernel deliver marked packets
 * locally even when their destination is not (yet) a local address, as
 * under a DNAT on this host, which runs after the tproxy hook:
 *
 *   ip rule add fwmark DIVERT_MARK lookup DIVERT_TABLE
 *   ip route add local default dev lo table DIVERT_TABLE   (ip -6 alike)
 *
 * One per family for the whole process, added with the transparent
 * listener and removed with it.  After a kill -9 it stays until the next
 * start, whose clean-up (fw_cleanup_stale) finds it by its table number.
 *
 * Errors: 0 or a negative FTP_ERR_* with errno set (EPERM: no
 * CAP_NET_ADMIN; EEXIST: another process holds the route).
 */
#ifndef FTPATH_DIVERT_H
#define FTPATH_DIVERT_H

#include <stdint.h>

#include "fw_route.h"

#define DIVERT_MARK	0x46540001u	/* "FT", 1 */
#define DIVERT_TABLE	FW_ROUTE_TABLE_MIN

/* family: AF_INET or AF_INET6. */
int divert_route_add(int family);
int divert_route_del(int family);

#endif
