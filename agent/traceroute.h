/*
 * traceroute.h - a TCP traceroute with the 5-tuple of a failed probe:
 * TTL-limited SYNs (IP_TTL / IPV6_UNICAST_HOPS) from the probe's own
 * source address and port to its destination, the answers read from the
 * socket error queue (errq.h).  It names the last hop that answered for a
 * drop or an unreachable (DESIGN.md, "ICMP attribution").
 *
 * One TTL at a time, by necessity: the kernel refuses a second socket
 * with the same 5-tuple while the first is still connecting
 * (EADDRNOTAVAIL), so TTLs cannot be in flight together without changing
 * the source port, and a different source port may take a different
 * path (ECMP hashing, per-flow state).  The cost stays one timeout: an
 * answering hop costs its round trip, and the first silent TTL ends the
 * trace, after the rest of one shared budget.  A TTL that reaches the end
 * (RST or handshake) or an unreachable also ends it.  Traces of several
 * destinations (different 5-tuples) run in parallel on one event_base.
 *
 * Routers rate-limit ICMP (Linux: a burst of 6 per destination, then one
 * a second), so a silent TTL is "no answer", never proof of a drop there;
 * callers trace one port per failing run, and few runs.
 *
 * Usage: traceroute_new() -> traceroute_start() -> pump the loop until
 * traceroute_done() -> traceroute_path() -> traceroute_free().
 * The rest of this header (results, path, format) is pure.
 */
#ifndef FTPATH_AGENT_TRACEROUTE_H
#define FTPATH_AGENT_TRACEROUTE_H

#include <stddef.h>
#include <sys/socket.h>
#include <event2/event.h>

#include "errq.h"

/* Hops beyond this are not traced: FTP paths inside one site are short,
 * and every TTL may cost a router an ICMP token. */
#define TRACEROUTE_MAX_TTL	8

enum traceroute_result {
	TRACEROUTE_SILENT,		/* no answer within the budget */
	TRACEROUTE_TIME_EXCEEDED,	/* a router on the way: from */
	TRACEROUTE_UNREACHABLE,		/* ICMP unreachable (not admin) */
	TRACEROUTE_ADMIN_PROHIBITED,	/* ICMP administratively prohibited */
	TRACEROUTE_OTHER_ICMP,		/* another ICMP error */
	TRACEROUTE_RESET,		/* a RST in the destination's name */
	TRACEROUTE_CONNECTED,		/* the handshake completed */
	TRACEROUTE_LOCAL_ERROR,		/* the SYN could not be sent (err) */
};

struct traceroute_hop {
	unsigned ttl;
	enum traceroute_result result;
	/* The ICMP sender; the destination for RESET/CONNECTED (the answer
	 * carries its address, whoever sent it); AF_UNSPEC otherwise. */
	struct sockaddr_storage from;
	unsigned char icmp_type, icmp_code;	/* ICMP results only */
	int err;				/* errno, LOCAL_ERROR only */
};

struct traceroute_path {
	struct sockaddr_storage local;	/* the source actually used */
	struct sockaddr_storage remote;
	/* 1: bound to the probe's own source port; 0: that port was taken
	 * and the kernel chose another (the 5-tuple differs). */
	int same_tuple;
	unsigned n;
	struct traceroute_hop hop[TRACEROUTE_MAX_TTL];
};

/* ---- pure ---- */

/* "time-exceeded", "unreachable", "admin-prohibited", "icmp", "reset",
 * "connected", "local-error", "silent" (the JSON contract's names). */
const char *traceroute_result_name(enum traceroute_result r);

/*
 * One TTL's outcome: connected (the handshake completed), else the
 * connect error err (0: none yet) and what the error queue held.
 */
enum traceroute_result traceroute_classify(int connected, int err,
    const struct errq_icmp *icmp);

/* 1 if a TTL with this result ends the trace (all but time-exceeded). */
int traceroute_is_final(enum traceroute_result r);

/* Append a hop (ttl = n + 1); from (its port is dropped) and icmp may be
 * NULL (a sender the error queue did not name).  0, or FTP_ERR_INVAL
 * when the path is full. */
int traceroute_path_add(struct traceroute_path *p, enum traceroute_result r,
    const struct sockaddr *from, const struct errq_icmp *icmp, int err);

/* The last hop that answered with ICMP (a router, or the node that
 * rejected), or NULL.  RST and handshake answers carry the destination's
 * address and are not counted: they do not say who sent them. */
const struct traceroute_hop *traceroute_last_answered(
    const struct traceroute_path *p);

/* The final hop when it is RESET or CONNECTED (an answer in the
 * destination's name came back at that TTL), else NULL. */
const struct traceroute_hop *traceroute_reached(
    const struct traceroute_path *p);

/* 1 if both paths hold the same 5-tuple and hops. */
int traceroute_path_equal(const struct traceroute_path *a,
    const struct traceroute_path *b);

/*
 * "hops: 1 198.51.100.1 time-exceeded, 2 * silent -> dies after
 * 198.51.100.1", with label in place of "hops" when not NULL.  Hops that
 * do not fit are replaced by "..."; the ending is always kept.  Returns
 * buf.
 */
const char *traceroute_format(const struct traceroute_path *p,
    const char *label, char *buf, size_t len);

/* ---- the engine ---- */

struct traceroute;

/*
 * local: the failed probe's source address and port (port 0: any);
 * remote: its destination.  budget_ms bounds the whole trace (the
 * probes' adaptive timeout); max_ttl is capped at TRACEROUTE_MAX_TTL.
 * NULL on ENOMEM or mismatched families.
 */
struct traceroute *traceroute_new(struct event_base *base,
    const struct sockaddr *local, const struct sockaddr *remote,
    unsigned max_ttl, unsigned budget_ms);
/* Close any socket, free.  NULL is ignored. */
void traceroute_free(struct traceroute *t);

/* Send TTL 1.  0 (a failure to send is recorded as a hop) or
 * FTP_ERR_NOMEM. */
int traceroute_start(struct traceroute *t);
int traceroute_done(const struct traceroute *t);
const struct traceroute_path *traceroute_path(const struct traceroute *t);

#endif
