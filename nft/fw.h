/*
 * fw.h - ftpath's own nftables state: one table per session.
 *
 * A session table is named "ftpath_<id>" (id: 1..16 of [a-z0-9]) in the
 * inet family and holds, depending on fw_spec.parts:
 *
 *   set ports          interval set of the probe ports (inet_service)
 *   chain trace_pre    filter hook prerouting priority -350:
 *                        ip saddr PEER tcp dport @ports meta nftrace set 1
 *   chain trace_out    filter hook output priority -350:
 *                        ip daddr PEER tcp sport @ports meta nftrace set 1
 *                        ip daddr PEER tcp sport ACTIVE meta nftrace set 1
 *                      (the second only with trace_active_port: the
 *                      active-mode connect-back from that port; every
 *                      trace rule also matches only SYN or RST:
 *                      tcp flags & (syn | rst) != 0)
 *   chain tproxy_pre   filter hook prerouting priority -150 (mangle):
 *                        ip saddr PEER tcp dport @ports
 *                        tproxy ip to [ADDR]:PORT meta mark set MARK accept
 *                      (ADDR only when tproxy_addr is set: a listener
 *                      on loopback is then reachable through the rule
 *                      but from no other host)
 *
 * With FW_F_CLIENT the ports are the peer's (a client probing a server):
 * trace_pre matches "ip saddr PEER tcp sport @ports", trace_out
 * "ip daddr PEER tcp dport @ports"; the tproxy part and the active
 * port are then refused.
 *
 * The active port is never in the set: the tproxy rule matches the
 * peer's packets to @ports, and the peer's answers to the connect-back
 * (to our port 20) must reach the connecting socket, not the listener.
 *
 * (ip6 for an IPv6 peer).  -350 is earlier than raw and conntrack, so a
 * trace starts before anything else on the host can drop the packet.
 * The tproxy rule also needs the policy route of fw_route.h.
 *
 * The table is created in one nftables transaction and removed in one:
 * the kernel applies all of it or none of it.  Tables are found again by
 * their name prefix after a crash (fw_table_cleanup_stale).
 *
 * Build apart from talk: fw_build_add()/fw_build_del() only produce a
 * batch (fw_nl.h); fw_table_add()/fw_table_del() send it over a struct
 * fw_nl.  Sending needs CAP_NET_ADMIN: these few calls are the fixed
 * request set a privileged helper would run.
 *
 * Errors: 0 or a negative FTP_ERR_*; kernel errors as described in
 * fw_nl.h (errno holds the kernel's code).
 */
#ifndef FTPATH_FW_H
#define FTPATH_FW_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "addr.h"
#include "fw_nl.h"

#define FW_TABLE_PREFIX	"ftpath_"
#define FW_ID_MAX	16		/* characters of a session id */
#define FW_TABLE_MAX	(sizeof(FW_TABLE_PREFIX) - 1 + FW_ID_MAX + 1)
#define FW_NAME_MAX	256		/* nftables NFT_NAME_MAXLEN, with NUL */
#define FW_PORTS_MAX	512		/* ranges in one spec */

/* Fixed object names inside a session table. */
#define FW_SET_PORTS	"ports"
#define FW_CHAIN_TRACE_PRE	"trace_pre"
#define FW_CHAIN_TRACE_OUT	"trace_out"
#define FW_CHAIN_TPROXY		"tproxy_pre"

#define FW_PRIO_TRACE	(-350)
#define FW_PRIO_TPROXY	(-150)

/* fw_spec.parts */
#define FW_PART_TRACE	0x1
#define FW_PART_TPROXY	0x2

/* fw_spec.flags */
#define FW_F_OWNER	0x1	/* kernel removes the table when the fw_nl
				 * that created it closes (Linux >= 5.12);
				 * only that fw_nl may then delete it */
#define FW_F_CLIENT	0x2	/* ports are the peer's, not ours: trace
				 * our connections to them (no tproxy) */

/*
 * What to install.  Plain value struct owned by the caller; the builder
 * copies what it needs.  peer: AF_INET or AF_INET6, port ignored;
 * ports: nports ranges (overlaps are merged), 1..FW_PORTS_MAX of them.
 */
struct fw_spec {
	const char			*id;
	struct sockaddr_storage		 peer;
	const struct portrange		*ports;
	size_t				 nports;
	unsigned			 parts;
	unsigned			 flags;
	uint16_t			 tproxy_port;	/* FW_PART_TPROXY */
	uint32_t			 tproxy_mark;	/* FW_PART_TPROXY, != 0 */
	/* FW_PART_TPROXY, optional: AF_UNSPEC = the address the packet
	 * arrived on; else the peer's family, port ignored. */
	struct sockaddr_storage		 tproxy_addr;
	/* FW_PART_TRACE, server only, optional: also trace our connections
	 * from this port to the peer (the connect-back); 0 = none. */
	uint16_t			 trace_active_port;
};

/* 0 if id is 1..FW_ID_MAX of [a-z0-9], else FTP_ERR_INVAL. */
int fw_id_check(const char *id);
/* 0 if name is 1..FW_NAME_MAX-1 of [A-Za-z0-9_.-], else FTP_ERR_INVAL.
 * Only such names are ever put into an nft command line. */
int fw_name_check(const char *name);
/* "ftpath_<id>" into buf; 0, FTP_ERR_INVAL (bad id), FTP_ERR_TOOBIG. */
int fw_table_name(const char *id, char *buf, size_t len);
/* 0 if name is "ftpath_" + a valid id, else FTP_ERR_INVAL. */
int fw_table_is_ours(const char *name);
/* Validate a spec (ids, family, ports, tproxy settings). */
int fw_spec_check(const struct fw_spec *spec);

/*
 * Builders.  seq is the first sequence number (fw_nl_seq()); on success
 * *out is a finished batch the caller frees with fw_batch_free().
 * fw_build_add: table + set + elements + chains + rules, one transaction;
 * the table is created with NLM_F_EXCL, so an existing one fails (EEXIST).
 * fw_build_del: delete inet table "ftpath_<id>" with all it holds.
 */
int fw_build_add(const struct fw_spec *spec, uint32_t seq,
    struct fw_batch **out);
int fw_build_del(const char *id, uint32_t seq, struct fw_batch **out);
/* Delete an arbitrary table by family (NFPROTO_*) and name. */
int fw_build_del_table(int family, const char *name, uint32_t seq,
    struct fw_batch **out);

/* Build and talk: nl is a NETLINK_NETFILTER fw_nl. */
int fw_table_add(struct fw_nl *nl, const struct fw_spec *spec);
int fw_table_del(struct fw_nl *nl, const char *id);

/*
 * List all tables (every family) and delete every "ftpath_<id>" one in a
 * single transaction.  *removed (may be NULL) gets the count, set only on
 * success.
 */
int fw_table_cleanup_stale(struct fw_nl *nl, unsigned *removed);

/*
 * Start-up cleanup after a crash: opens its own sockets and removes our
 * stale tables (above) and our policy routes and rules (fw_route.h).
 * Both are attempted; the first error is returned.
 */
int fw_cleanup_stale(unsigned *removed);

#endif
