/*
 * trace.h - server-side nftables trace of one session's probe packets.
 *
 * The tracing itself is the server role of nft/fw_session.h; this module
 * adds the reflector's start-up cleanup and the observations JSON.
 *
 * When a plan is armed the session creates a struct trace: a session
 * table "ftpath_<id>" with the trace part only (fw.h: meta nftrace on
 * packets from the agent's observed address to the probe ports, and on
 * their answers) and a trace listener on the session's event loop.  Each
 * event is matched to a probe port by its 5-tuple (inbound: saddr = the
 * agent, dport = probe port; outbound: daddr = the agent, sport = probe
 * port), or by its trace id for the later events of the same packet that
 * carry no headers.  Per port the trace keeps a compact record:
 *
 *   syn_seen     a packet of the probe reached the server host's
 *                prerouting hook (our trace rule runs at -350, earlier
 *                than anything else on the host)
 *   synack_sent  an answer left on the probe port towards the agent and
 *                no rule on the server host dropped it
 *   verdict      the first drop (reject is a drop with a reply) that
 *                ended a probe packet's path on this host: family, table,
 *                chain, handle; the rule's text is looked up once per
 *                distinct rule, at collect time
 *
 * With an active port the table also traces the reflector's connect-backs
 * from that port to the agent (its own trace_out rule, not the port set:
 * the agent's answers to port 20 must never meet the tproxy rule); per
 * connection, keyed by the agent's port, the trace keeps whether a SYN
 * left the server host and the rule that dropped it (trace_connectback).
 *
 * The table is created with FW_F_OWNER, so the kernel removes it if the
 * reflector dies; trace_free() removes it otherwise.  Without nftables
 * (no CAP_NET_ADMIN, or trace_startup() found it unusable) a trace is
 * "unavailable"; after lost events (ENOBUFS) it is "incomplete": "no
 * event" is then no evidence that a packet did not arrive, and the
 * observations say so.
 *
 * Errors: 0 or a negative FTP_ERR_*.
 */
#ifndef FTPATH_TRACE_H
#define FTPATH_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <event2/event.h>
#include <jansson.h>

#include "addr.h"
#include "fw_trace.h"
#include "listener.h"

enum trace_state {
	TRACE_ON,		/* table and listener up, no event lost */
	TRACE_UNAVAILABLE,	/* no trace at all (see the reason) */
	TRACE_INCOMPLETE,	/* events were lost: absence proves nothing */
};

/* "on", "unavailable", "incomplete" as in PROTOCOL.md. */
const char *trace_state_name(enum trace_state st);

/*
 * Once at reflector start-up: remove the nftables tables and policy
 * routes a crashed earlier run left behind (fw_cleanup_stale) and log
 * what was removed.  If nftables cannot be used (EPERM: no
 * CAP_NET_ADMIN), log that once; every later trace is then created
 * "unavailable" without trying.  Never fails the start-up.
 */
void trace_startup(struct event_base *base, uint16_t active_port,
    unsigned lifetime_s);
/* At exit, after every trace was freed: the shared table goes. */
void trace_shutdown(void);

struct trace;

/*
 * Trace one session: id names the table (fw.h: [a-z0-9], cut to its
 * first FW_ID_MAX characters, so a token will do), peer the agent's
 * observed address (port
 * ignored), control_port and passive (may be NULL) the probe ports,
 * active_port the source port of the connect-backs (0: not traced).
 * Listens on base before the table exists, so no event of a probe is
 * missed.  A trace that cannot be set up is still returned, in state
 * TRACE_UNAVAILABLE with its reason (and logged); NULL only on no memory.
 */
struct trace *trace_new(struct event_base *base, const char *id,
    const struct sockaddr *peer, uint16_t control_port,
    const struct portrange *passive, uint16_t active_port);
/*
 * The same, and the table also diverts the agent's connections to the
 * probe ports to the transparent listener at to (listener_set_divert),
 * marking them with mark.  If that table cannot be created the trace is
 * unavailable like any other: the caller must then not count on the
 * diversion (and falls back to listening on the ports).
 */
struct trace *trace_new_diverting(struct event_base *base, const char *id,
    const struct sockaddr *peer, uint16_t control_port,
    const struct portrange *passive, uint16_t active_port,
    const struct sockaddr *to, uint32_t mark);
/* What the agent asked of its fixes (plan.fix, fixgen.h), copied; the
 * fixes of the records follow it.  NULL t or req is ignored. */
struct fixgen_req;
void trace_set_fixreq(struct trace *t, const struct fixgen_req *req);
/* 1 if t could not be armed because another session of the same agent
 * address holds partly overlapping ports (the agent should retry). */
int trace_conflict(const struct trace *t);
/* 0 if nftables was found unusable at start-up (no CAP_NET_ADMIN). */
int trace_nft_usable(void);
/* Remove the table (if any), stop listening, free.  NULL is ignored. */
void trace_free(struct trace *t);

/* The same without any nftables I/O, for tests: state TRACE_ON, events
 * come only from trace_feed(). */
struct trace *trace_new_detached(const struct sockaddr *peer,
    uint16_t control_port, const struct portrange *passive,
    uint16_t active_port);
/* Account one decoded trace event (what the listener callback does). */
void trace_feed(struct trace *t, const struct fw_trace_event *ev);
/* Mark the trace incomplete (the listener does on ENOBUFS). */
void trace_set_incomplete(struct trace *t, const char *reason);

enum trace_state trace_state(const struct trace *t);
const char *trace_reason(const struct trace *t);

/*
 * Add the trace to an observations message (first page): "trace"
 * {state, reason} and "traces", the runs of ports with identical records,
 * for the ports none of whose probes arrived at ls (may be NULL).
 * Reads what is still pending on the listener first, then looks up the
 * text of every distinct rule not looked up yet.  "traces" stops at
 * TRACE_JSON_MAX bytes; "traces_truncated" is then true.  t may be NULL
 * (no plan armed): state "unavailable", no runs.  *bytes gets the compact
 * size of what was added.  0 or FTP_ERR_NOMEM.
 */
#define TRACE_JSON_MAX	(64 * 1024)
int trace_observations(struct trace *t, const struct listener_set *ls,
    json_t *obs, size_t *bytes);

/*
 * Add the trace of the connect-back to the agent's port peer_port to an
 * active-result message (PROTOCOL.md): "trace" {state, reason} and
 * "record": null when the trace is unavailable or recorded no packet of
 * that connection, else {syn_sent, verdict} (verdict as in "traces",
 * direction "out").  Reads what is still pending on the listener first.
 * t may be NULL (no plan armed): state "unavailable".  0 or
 * FTP_ERR_NOMEM.
 */
int trace_connectback(struct trace *t, uint16_t peer_port, json_t *msg);

#endif
