/*
 * fw_session.h - one session's nftables trace of probe packets, on either
 * end of a probed path.
 *
 * A struct fw_session owns a session table "ftpath_<id>" with the trace
 * part only (fw.h) and a trace listener (fw_trace.h) on the caller's
 * event loop.  Each trace event is matched to a probe port by its
 * 5-tuple, or by its trace id for the later events of the same packet
 * that carry no headers.  The role says whose ports the probe ports are:
 *
 *   FW_SESSION_SERVER  ours (the reflector): IN  = peer -> our port,
 *                      OUT = our port -> peer (the answer)
 *   FW_SESSION_CLIENT  the peer's (the agent probing a server):
 *                      OUT = us -> peer port (our SYN, or our answer to
 *                      a connection the peer opened from that port),
 *                      IN  = peer port -> us
 *
 * Per port a plain record (struct fw_session_port):
 *
 *   in_seen / out_seen        a traced packet of that direction passed
 *                             our trace rule (prerouting / output at
 *                             -350, earlier than anything else)
 *   in_dropped / out_dropped  a rule or chain policy on this host then
 *                             dropped (or rejected) it
 *   rule, rule_dir            the first dropping rule and its direction;
 *                             its text is read by fw_session_collect()
 *   *_pkts / *_drops          the same counted per packet (trace id)
 *
 * A server may also trace its connect-backs (spec.active_port: the
 * active-mode data connection it opens from port 20 to the peer): one
 * more record per connection, keyed by the peer's port (the reflector's
 * plain connect-back and its ALG connect-back go to different ports of
 * the agent), with only the OUT fields in use: our SYN (or RST) left
 * through the output hook, and a rule here dropped it or not.
 *
 * The table is created with FW_F_OWNER, so the kernel removes it if the
 * process dies; fw_session_free() removes it otherwise, and only it:
 * a session never touches another's table.  Without nftables (EPERM:
 * no CAP_NET_ADMIN) a session is "unavailable" with its reason; after
 * lost events (ENOBUFS) it is "incomplete": "no event" is then no
 * evidence that a packet did not pass.
 *
 * Errors: 0 or a negative FTP_ERR_*.
 */
#ifndef FTPATH_FW_SESSION_H
#define FTPATH_FW_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <event2/event.h>

#include "addr.h"
#include "fw_trace.h"

enum fw_session_role {
	FW_SESSION_SERVER = 0,
	FW_SESSION_CLIENT,
};

enum fw_session_state {
	FW_SESSION_ON,		/* table and listener up, no event lost */
	FW_SESSION_UNAVAILABLE,	/* no trace at all (see the reason) */
	FW_SESSION_INCOMPLETE,	/* events were lost: absence proves nothing */
};

enum fw_session_dir {
	FW_SESSION_IN = 1,	/* towards this host (prerouting) */
	FW_SESSION_OUT = 2,	/* from this host (output) */
};

/* A rule (or chain policy: !has_handle) that dropped a probe packet. */
struct fw_session_rule {
	int		 family;	/* NFPROTO_* of the table */
	char		 table[FW_TRACE_NAME_MAX];
	char		 chain[FW_TRACE_NAME_MAX];
	int		 has_handle;
	uint64_t	 handle;
	int		 looked_up;
	char		*text;		/* NULL if unknown (or not read yet) */
	/* The chain accepts `ct state related` (fw_chain_related_find):
	 * a stateful firewall.  0 when unknown. */
	int		 related;
};

struct fw_session_port {
	uint16_t	 port;
	uint8_t		 in_seen;
	uint8_t		 out_seen;
	uint8_t		 in_dropped;
	uint8_t		 out_dropped;
	uint8_t		 rule_dir;	/* enum fw_session_dir of the drop */
	int16_t		 rule;		/* fw_session_rule_at() index, -1 */
	/* Distinct packets (trace ids) per direction and how many of them
	 * a rule dropped: pkts > drops means at least one got through
	 * this host's hooks (e.g. a retransmitted SYN after a flush). */
	uint32_t	 in_pkts;
	uint32_t	 in_drops;
	uint32_t	 out_pkts;
	uint32_t	 out_drops;
};

/*
 * What to trace.  id names the table (fw.h: [a-z0-9], cut to its first
 * FW_ID_MAX characters); peer the other end (port ignored); ports the
 * probe ports (nports ranges).  who prefixes log lines ("trace").
 * unusable: non-NULL = do not try nftables, be unavailable with this
 * reason (a process that already learned it has no CAP_NET_ADMIN).
 */
struct fw_session_spec {
	enum fw_session_role	 role;
	const char		*id;
	const struct sockaddr	*peer;
	const struct portrange	*ports;
	size_t			 nports;
	const char		*who;
	const char		*unusable;
	/* Server role only, optional: the table also diverts the peer's
	 * connections to the probe ports to this transparent listener
	 * (fw.h tproxy part) with this mark; NULL = trace only. */
	const struct sockaddr	*tproxy_to;
	uint32_t		 tproxy_mark;
	/* Server role only, optional: also trace our connections from this
	 * port to the peer (fw.h trace_active_port); 0 = none. */
	uint16_t		 active_port;
	/* Optional: the trace listener's receive buffer in bytes (0: the
	 * default): a full passive range traces thousands of SYNs within
	 * milliseconds, more than a default buffer holds while the loop is
	 * busy connecting. */
	int			 rcvbuf;
};

struct fw_session;

/*
 * Listen on base (before the table exists, so no event of a probe is
 * missed), then create the table.  A session that cannot be set up is
 * still returned, unavailable with its reason (and logged); NULL only on
 * no memory or a spec without ports.
 */
struct fw_session *fw_session_new(struct event_base *base,
    const struct fw_session_spec *spec);
/* The same without any nftables I/O, for tests: state FW_SESSION_ON,
 * events come only from fw_session_feed(), rule texts are never read. */
struct fw_session *fw_session_new_detached(const struct fw_session_spec *s);
/* Read the events already queued on the session's own listener
 * (bounded); for a caller busy elsewhere, between its own steps. */
void fw_session_drain(struct fw_session *s);
/*
 * A session fed by a listener it does not own (the reflector's shared
 * table, fw_shared.h, has one listener for all sessions and hands each
 * its events with fw_session_feed()): no table, no socket of its own.
 * fw_session_collect() calls drain(arg) to have the owner deliver what
 * is still queued, then reads the rule texts.  State FW_SESSION_ON.
 */
struct fw_session *fw_session_new_fed(const struct fw_session_spec *spec,
    void (*drain)(void *arg), void *arg);
/* Make a session unavailable with reason (its owner could not arm it). */
void fw_session_set_unavailable(struct fw_session *s, const char *reason);
/* Remove our table (if we made it), stop listening, free.  NULL ignored. */
void fw_session_free(struct fw_session *s);
/*
 * End tracing early, keeping the records: collect what is pending, mark
 * the session incomplete with why (if it was on), remove our table and
 * stop listening.  For a session that ends before its owner does (a
 * dropped control channel): its table must not outlive it.
 */
void fw_session_stop(struct fw_session *s, const char *why);

/* Account one decoded trace event (what the listener callback does). */
void fw_session_feed(struct fw_session *s, const struct fw_trace_event *ev);
/* Mark the session incomplete (the listener does on ENOBUFS). */
void fw_session_set_incomplete(struct fw_session *s, const char *reason);

/*
 * Before reading the records: take the events still queued on the
 * listener (they belong to probes that already ended), then read the
 * text of every distinct dropping rule not read yet.
 */
void fw_session_collect(struct fw_session *s);

enum fw_session_state fw_session_state(const struct fw_session *s);
/* NULL if there is none. */
const char *fw_session_reason(const struct fw_session *s);
/* "on", "unavailable", "incomplete". */
const char *fw_session_state_name(enum fw_session_state st);

/* Records, sorted by port, each port once. */
size_t fw_session_nports(const struct fw_session *s);
const struct fw_session_port *fw_session_port_at(const struct fw_session *s,
    size_t i);
/* The record of port, or NULL if it is no probe port. */
const struct fw_session_port *fw_session_find(const struct fw_session *s,
    uint16_t port);
/* The record of our connect-back to the peer's port peer_port (its
 * .port is that port), or NULL if no packet of it was traced. */
const struct fw_session_port *fw_session_connectback(
    const struct fw_session *s, uint16_t peer_port);
/* The rule a record names (p->rule >= 0). */
const struct fw_session_rule *fw_session_rule_at(const struct fw_session *s,
    int i);

#endif
