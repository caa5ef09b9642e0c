/*
 * fw_shared.h - the reflector's one nftables table for all its sessions.
 *
 * Instead of one table per session (fw.h), the reflector keeps one
 * inet table "ftpath_reflector" whose sets sessions fill and empty:
 *
 *   set probe4   ipv4_addr . inet_service, interval, timeout
 *   set probe6   ipv6_addr . inet_service, interval, timeout
 *                  an armed session's agent address . its probe ports
 *   set divert4/divert6   the same keys, for the sessions diverted
 *                  to the transparent listener (a subset of probe*)
 *   set active4/active6   ipv4_addr / ipv6_addr, timeout: agents whose
 *                  connect-backs from ACTIVE are traced
 *   chain trace_pre  filter hook prerouting priority -350:
 *     ip saddr . tcp dport @probe4 tcp flags & (syn|rst) != 0 meta nftrace set 1
 *   chain trace_out  filter hook output priority -350:
 *     ip daddr . tcp sport @probe4 tcp flags & (syn|rst) != 0 meta nftrace set 1
 *     ip daddr @active4 tcp sport ACTIVE tcp flags & (syn|rst) != 0 meta nftrace set 1
 *   chain tproxy4 / tproxy6  filter hook prerouting priority -150:
 *     ip saddr . tcp dport @divert4 tproxy ip to ADDR:PORT meta mark set MARK accept
 *     (empty until a session is diverted; fw_shared_put_tproxy replaces
 *     the rule when the transparent listener's port changes)
 *   (ip6 alike)
 *
 * So the reflector opens exactly what its sessions armed: the agent's
 * observed address and the plan's ports (both checked against the
 * configuration by the caller), and the active port is never in a
 * divert set.  Every element carries a timeout (a second line of
 * defence: nothing outlives a session by more than its lifetime even if
 * a delete were lost); the table is created with FW_F_OWNER, so the
 * kernel removes it with the socket that made it, and its name matches
 * fw_table_is_ours(), so a restart's fw_cleanup_stale() removes a stale
 * one.
 *
 * Builders only (talk with fw_nl_talk()); every change is one batch
 * (a transaction): fw_shared_batch() then fw_shared_put_*() then
 * fw_batch_finish().
 *
 * Errors: 0 or a negative FTP_ERR_*.
 */
#ifndef FTPATH_FW_SHARED_H
#define FTPATH_FW_SHARED_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "addr.h"
#include "fw_nl.h"

#define FW_SHARED_ID	"reflector"	/* table FW_TABLE_PREFIX + this */

enum fw_shared_set {
	FW_SHARED_PROBE = 0,	/* traced probe ports */
	FW_SHARED_DIVERT,	/* diverted probe ports */
	FW_SHARED_ACTIVE,	/* connect-back peers (address only) */
};

/* A batch with room for about nelems elements. */
struct fw_batch *fw_shared_batch(uint32_t seq, size_t nelems);

/*
 * The table, its sets and chains, and the trace rules (active_port: the
 * connect-back's source port, 0 for no active trace rule).  Created with
 * NLM_F_EXCL: an existing table fails (EEXIST).  owner: FW_F_OWNER.
 */
int fw_shared_put_table(struct fw_batch *b, uint16_t active_port, int owner);
/* Delete the whole table. */
int fw_shared_put_del_table(struct fw_batch *b);
/*
 * Replace the tproxy rule of to's family (AF_INET/AF_INET6): flush its
 * chain, then "... @divertN tproxy to ADDR:PORT meta mark set MARK
 * accept" (ADDR omitted when to's address is unspecified/any).
 */
int fw_shared_put_tproxy(struct fw_batch *b, const struct sockaddr *to,
    uint32_t mark);
/*
 * Add (add != 0, with timeout_ms) or delete the elements of peer's
 * address and each range of pr in set which (for FW_SHARED_ACTIVE the
 * ranges are ignored: one element, the address).  An identical element
 * that exists is no error on add; a partly overlapping one is (EEXIST).
 */
int fw_shared_put_elems(struct fw_batch *b, int add, enum fw_shared_set which,
    const struct sockaddr *peer, const struct portrange *pr, size_t npr,
    uint64_t timeout_ms);

#endif
