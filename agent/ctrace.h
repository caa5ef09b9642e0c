/*
 * ctrace.h - the agent host's own nftables trace of its probes (the
 * client role of nft/fw_session.h): did our SYN leave this host, did the
 * server's answer (or its connect-back) reach it, and which rule here
 * dropped it.  That evidence names client-local-rule (verdict.c).
 *
 * The table is "ftpath_z<first 15 characters of the session token>": the
 * 'z' is no hex digit, so it never equals the reflector's table of the
 * same session (named from the token itself), even on one host.  It is
 * created with FW_F_OWNER and removed by ctrace_free(); the agent never
 * removes any other table (no stale cleanup: those may be other agents'
 * or the reflector's).
 *
 * Traced: packets between this host and the server on the server's
 * control port, its passive range and the active source port (the
 * connect-back comes from there, and our answer goes back to it).
 */
#ifndef FTPATH_AGENT_CTRACE_H
#define FTPATH_AGENT_CTRACE_H

#include <stdint.h>
#include <sys/socket.h>
#include <event2/event.h>

#include "addr.h"
#include "fw_trace.h"
#include "probe.h"
#include "verdict.h"

struct ctrace;

/*
 * Set up before the probes start: the listener on base, then the table.
 * passive may be NULL or have lo == 0 (not tested); active_port 0 = no
 * active test.  Without nftables (EPERM: no CAP_NET_ADMIN) the trace is
 * returned unavailable with the reason; NULL only on no memory.
 */
struct ctrace *ctrace_new(struct event_base *base, const char *token,
    const struct sockaddr *server, uint16_t control_port,
    const struct portrange *passive, uint16_t active_port);
/* The same without nftables I/O, for tests (events via ctrace_feed). */
struct ctrace *ctrace_new_detached(const struct sockaddr *server,
    uint16_t control_port, const struct portrange *passive,
    uint16_t active_port);
/* Why there is no trace at all (no CAP_NET_ADMIN...), or NULL when
 * there is one (even an incomplete one) or ct is NULL. */
const char *ctrace_unavailable(const struct ctrace *ct);
/* Remove our table, stop listening, free.  NULL is ignored. */
void ctrace_free(struct ctrace *ct);

void ctrace_feed(struct ctrace *ct, const struct fw_trace_event *ev);
/* Read the events pending on our listener now (a bounded read), between
 * the connects of a wave (probe_set_pacer).  NULL is ignored. */
void ctrace_drain(struct ctrace *ct);

/*
 * The session ended early (the control channel dropped): remove our
 * table now, as DESIGN.md's cleanup rule wants, and keep what was
 * recorded, marked incomplete.  Idempotent; NULL is ignored.
 */
void ctrace_stop(struct ctrace *ct);

/*
 * Take the pending events and read the dropping rules' text (once), then
 * write the records into every probe of pe (ctrace_merge) or into one
 * observation (ctrace_apply: control/passive by the server port, active
 * by its source port).  ct NULL leaves the probes untouched.
 */
void ctrace_merge(struct ctrace *ct, struct probe_engine *pe);
void ctrace_apply(struct ctrace *ct, struct probe_obs *o);

#endif
