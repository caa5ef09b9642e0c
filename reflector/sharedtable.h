/*
 * sharedtable.h - the reflector's one nftables table and one trace
 * listener, shared by every session (nft/fw_shared.h has the table).
 *
 * One table per session made every session open its own trace listener,
 * so every trace event of the host reached every session (N^2 work,
 * overflowing sockets from about 30 sessions on); and every arming was a
 * table of its own.  Here the process owns:
 *
 *   - the table "ftpath_reflector" (FW_F_OWNER: the kernel removes it
 *     with our socket when we die), created when the first session arms
 *     and removed when the last one disarms, so an idle reflector leaves
 *     no nftables state;
 *   - its set elements, counted by reference: two sessions from one
 *     address (agents behind one NAT) with the same plan share them;
 *     every element carries a timeout (the session lifetime and a
 *     margin) as a second line of defence, refreshed when shared;
 *   - one trace listener with a large receive buffer, opened before the
 *     table exists; each event goes only to the sessions whose agent
 *     address is its source or destination (a hash on the address), and
 *     the later header-less events of a packet follow its trace id.
 *     Lost events (ENOBUFS) make every armed session's trace incomplete.
 *
 * Errors: 0 or a negative FTP_ERR_*.
 */
#ifndef FTPATH_SHAREDTABLE_H
#define FTPATH_SHAREDTABLE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <event2/event.h>

#include "addr.h"
#include "fw_session.h"

struct sharedtable;
struct sharedtable_sub;

/*
 * active_port: the connect-back's source port (its trace rule; 0: none);
 * mark: the tproxy mark; elem_timeout_ms: every element's timeout.
 * Nothing touches the kernel until the first arm.  NULL on no memory.
 */
struct sharedtable *sharedtable_new(struct event_base *base,
    uint16_t active_port, uint32_t mark, uint64_t elem_timeout_ms);
/* Every subscription must have been disarmed; removes the table. */
void sharedtable_free(struct sharedtable *st);

/*
 * Arm one session: its trace records fs (fw_session_new_fed with
 * sharedtable_drain) get the events of peer's packets; the set elements
 * peer . pr (npr ranges, merged here) go into the probe set, and into
 * the divert set with a tproxy rule to divert_to (the transparent
 * listener) when divert_to is not NULL; with trace_active also peer
 * into the active set.  One transaction: all of it or nothing.
 * Returns 0 with *out, FTP_ERR_AGAIN when another session of the same
 * address holds partly overlapping ports (try again when it ended), or
 * another error with a reason in why.
 */
int sharedtable_arm(struct sharedtable *st, struct fw_session *fs,
    const struct sockaddr *peer, const struct portrange *pr, size_t npr,
    int trace_active, const struct sockaddr *divert_to,
    struct sharedtable_sub **out, char *why, size_t whylen);
/* Remove the session's elements (those no other session shares) and
 * stop feeding fs; the last one removes the table.  NULL is ignored. */
void sharedtable_disarm(struct sharedtable *st, struct sharedtable_sub *sub);

/* Deliver the events still queued on the listener (bounded); the drain
 * callback of fw_session_new_fed (arg: the struct sharedtable). */
void sharedtable_drain(void *st);

/* Armed sessions; times the kernel dropped events (ENOBUFS). */
size_t sharedtable_nsubs(const struct sharedtable *st);
unsigned long sharedtable_overflows(const struct sharedtable *st);

#endif
