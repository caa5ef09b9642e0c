/*
 * applysrv.h - the reflector's end of `check --apply` (PROTOCOL.md
 * "Apply"): it loads, on request, only the server-side fixes it derived
 * itself from its own trace (fixgen.h), never text an agent sends.
 *
 * Remembering.  Every verified fix the reflector sends in a trace record
 * (observations.traces[].fix, active-result.record.fix) is kept here,
 * keyed by the session's token and the agent's observed address, for
 * cfg->session_lifetime_s after it was sent: the agent asks for the
 * apply from a later session, once its report exists.  Bounded:
 * APPLYSRV_SESSIONS sessions (the oldest goes first), APPLYSRV_FIXES
 * fixes of at most APPLYSRV_TEXT_MAX bytes each.  With allow_apply = no
 * nothing is kept.
 *
 * Applying.  apply-request names a remembered session (its token) and
 * which of its fixes, by the trace record each came in.  Refused (no
 * change) unless allow_apply is yes, nftables is usable (CAP_NET_ADMIN),
 * the session is remembered for the same observed address, every fix
 * named is there, and no other apply is undecided.  Otherwise the fixes
 * are joined (patchjoin.h) and loaded by nft/apply.h in one transaction
 * with its watchdog, for the window the agent asked (at most
 * APPLYMSG_TIMEOUT_MAX s): the prior state is saved in
 * cfg->apply_state_dir, and the watchdog rolls back by itself at the
 * deadline, when the owning session ends (bye, channel drop, timeout:
 * applysrv_owner_gone) or when the reflector dies.  apply-confirm keeps
 * it, apply-rollback undoes it at once.  One undecided apply per
 * reflector.
 *
 * Loading and deciding run nft and wait for the watchdog: they block the
 * event loop for that long (milliseconds), once per apply.
 */
#ifndef FTPATH_APPLYSRV_H
#define FTPATH_APPLYSRV_H

#include <sys/socket.h>
#include <jansson.h>

#include "config.h"

#define APPLYSRV_SESSIONS	32
#define APPLYSRV_FIXES		16
#define APPLYSRV_TEXT_MAX	(64 * 1024)

struct applysrv;

/* cfg must outlive it.  NULL on no memory. */
struct applysrv *applysrv_new(const struct reflector_config *cfg);
/* An undecided apply is released: its watchdog rolls back.  NULL ok. */
void applysrv_free(struct applysrv *a);

/*
 * Keep the verified fixes of msg, an outgoing observations (first page)
 * or active-result, for the session token and the agent's observed
 * address.  Anything else, and everything with allow_apply = no, is
 * ignored.  A fix that does not fit the bounds is left out (logged).
 */
void applysrv_remember(struct applysrv *a, const char *token,
    const struct sockaddr *observed, const json_t *msg);

/* 1 for the message types handled here. */
int applysrv_handles(const char *type);

/*
 * One apply-request, apply-confirm or apply-rollback of the session
 * owner (opaque, compared only), whose agent is at observed.  Returns the
 * reply to send: apply-result, or an "error" message for a malformed or
 * unexpected request; NULL on no memory.  *hold_s: while owner has an
 * undecided apply, the seconds left in its window (the session keeps its
 * idle timer beyond it), else 0.
 */
json_t *applysrv_handle(struct applysrv *a, const void *owner,
    const struct sockaddr *observed, const json_t *msg, unsigned *hold_s);

/* owner ends: its undecided apply is released and the watchdog rolls it
 * back by itself.  Safe for an owner without one. */
void applysrv_owner_gone(struct applysrv *a, const void *owner);

#endif
