/*
 * fw_trace.h - nftables trace events: which table/chain/rule saw a
 * traced packet and what it decided.
 *
 * A packet gets traced when a rule sets `meta nftrace` on it (the session
 * table of fw.h does so for probe packets).  From then on the kernel
 * multicasts one NFT_MSG_TRACE message per rule verdict, chain return and
 * base-chain policy to the NFNLGRP_NFTRACE group, in every table.
 *
 * Two halves, as everywhere in nft/:
 *   fw_trace_decode()   pure: one netlink message -> struct fw_trace_event
 *   fw_trace_listener   the socket: non-blocking, for the caller's libevent
 *                       loop (EV_READ|EV_PERSIST on fw_trace_fd(), then
 *                       fw_trace_read() in the callback).
 *
 * Errors: 0 (or a count) or negative FTP_ERR_*.  Subscribing needs
 * CAP_NET_ADMIN.
 */
#ifndef FTPATH_FW_TRACE_H
#define FTPATH_FW_TRACE_H

#include <stdint.h>
#include <sys/socket.h>

struct nlmsghdr;

#define FW_TRACE_NAME_MAX 256		/* NFT_NAME_MAXLEN */

enum fw_trace_type {
	FW_TRACE_UNKNOWN = 0,
	FW_TRACE_RULE,		/* a rule matched: verdict is the rule's */
	FW_TRACE_RETURN,	/* fell off the end of a regular chain */
	FW_TRACE_POLICY,	/* base chain policy applied */
};

enum fw_verdict {
	FW_V_UNKNOWN = 0,
	FW_V_ACCEPT,
	FW_V_DROP,
	FW_V_STOLEN,
	FW_V_QUEUE,
	FW_V_REPEAT,
	FW_V_STOP,
	FW_V_CONTINUE,		/* rule matched, evaluation goes on */
	FW_V_BREAK,
	FW_V_JUMP,
	FW_V_GOTO,
	FW_V_RETURN,
};

/*
 * One event, plain data.  Names are NUL-terminated copies.  The 5-tuple
 * is valid when has_tuple: src/dst hold addresses and ports (port 0 for
 * protocols without ports); l4proto is IPPROTO_TCP/UDP/... .  The kernel
 * copies the packet headers only into the first event of each trace id
 * (per hook), so later events of the same packet have has_tuple == 0:
 * correlate them by id.
 */
struct fw_trace_event {
	uint32_t		 id;		/* same for all events of a packet */
	int			 family;	/* NFPROTO_* of the table */
	int			 nfproto;	/* NFPROTO_* of the packet */
	enum fw_trace_type	 type;
	char			 table[FW_TRACE_NAME_MAX];
	char			 chain[FW_TRACE_NAME_MAX];
	int			 has_handle;
	uint64_t		 handle;	/* rule handle when has_handle */
	enum fw_verdict		 verdict;
	char			 jump_target[FW_TRACE_NAME_MAX];
	uint32_t		 iif;		/* 0 if not known */
	uint32_t		 oif;
	uint32_t		 mark;
	int			 has_tuple;
	uint8_t			 l4proto;
	struct sockaddr_storage	 src;
	struct sockaddr_storage	 dst;
};

/* "accept", "drop", ..., "unknown". */
const char *fw_verdict_name(enum fw_verdict v);
/* "rule", "return", "policy", "unknown". */
const char *fw_trace_type_name(enum fw_trace_type t);
/* "ip", "ip6", "inet", "arp", "bridge", "netdev"; NULL if unknown. */
const char *fw_family_name(int nfproto);

/*
 * Decode one NFT_MSG_TRACE message of at most len bytes (the bytes the
 * caller holds from nlh on; nlmsg_len must fit in them).  Pure, and safe
 * on any input: every attribute is validated with libmnl before it is
 * read.  0 and *ev filled, FTP_ERR_INVAL if it is not a trace message,
 * FTP_ERR_PROTO if malformed (truncated or unaligned, a bad attribute or
 * a repeated one, a name longer than FW_TRACE_NAME_MAX, no NFTA_TRACE_ID
 * or NFTA_TRACE_TYPE, a verdict nest without its code); *ev is untouched
 * then.  Missing or short packet headers only leave has_tuple at 0.
 */
int fw_trace_decode(const struct nlmsghdr *nlh, size_t len,
    struct fw_trace_event *ev);

/* Pure header parser used by fw_trace_decode (exposed for tests):
 * network header (IPv4 or IPv6, by version nibble) plus transport header
 * bytes.  0 and the tuple fields of ev set, or FTP_ERR_INVAL. */
int fw_trace_parse_tuple(const void *nh, size_t nhlen, const void *th,
    size_t thlen, struct fw_trace_event *ev);

struct fw_trace_listener;

/* Open a non-blocking netlink socket subscribed to NFNLGRP_NFTRACE.
 * NULL with errno set on failure (EPERM without CAP_NET_ADMIN). */
struct fw_trace_listener *fw_trace_listener_new(void);
/* A listener on a socket fw_trace_listener_new() subscribed elsewhere
 * (the reflector's privileged helper passes it): reading the group needs
 * no capability, joining it does.  Takes fd (closed by _free), NULL
 * with errno set on failure (fd is then still the caller's). */
struct fw_trace_listener *fw_trace_listener_from_fd(int fd);
void fw_trace_listener_free(struct fw_trace_listener *l);
/* The receive buffer for a trace of thousands of probes at once (a
 * whole passive range, the reflector's every session): kernel memory,
 * used only while events queue. */
#define FW_TRACE_RCVBUF_LARGE	(64 * 1024 * 1024)
/* Another receive buffer size (SO_RCVBUFFORCE with CAP_NET_ADMIN, else
 * SO_RCVBUF, which the kernel caps): a shared listener takes every
 * session's storm.  0 or FTP_ERR_SYSTEM. */
int fw_trace_listener_set_rcvbuf(struct fw_trace_listener *l, int bytes);
/* The fd to watch for EV_READ.  Owned by the listener. */
int fw_trace_fd(const struct fw_trace_listener *l);

/* Called once per decoded event; ev is valid only during the call. */
typedef void (*fw_trace_cb)(const struct fw_trace_event *ev, void *arg);

/*
 * Read what is pending (bounded, so one busy listener cannot starve the
 * loop) and call cb for each trace event.  Only datagrams from the kernel
 * (sender port id 0) and not truncated are decoded; others are read and
 * dropped, as are messages fw_trace_decode() rejects.  Returns the number of events
 * delivered (0 if nothing was pending) or a negative error.
 * FTP_ERR_SYSTEM with errno ENOBUFS means the kernel dropped events
 * because we read too slowly: "no event" is then no longer evidence that
 * a packet did not arrive, and the caller must treat its current
 * observations as incomplete.  The listener stays usable.
 */
int fw_trace_read(struct fw_trace_listener *l, fw_trace_cb cb, void *arg);

#endif
