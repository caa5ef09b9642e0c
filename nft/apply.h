/*
 * apply.h - load an nftables patch atomically, roll it back by itself
 * unless confirmed (commit-confirmed), even when the applier is killed.
 *
 * Input: a script that only ADDS: add/insert rule, add/create chain,
 * table, set, map, element, ct helper (the forms nft_patch writes).
 * Anything that removes or changes what is there (flush, delete, destroy,
 * replace, reset, rename), include, declarative "table x { ... }" blocks
 * and other object kinds are refused by apply_screen() with the line and
 * the reason.  Every add of a table, chain, set, map, element or ct helper
 * is loaded as "create" (NLM_F_EXCL): an object that exists already makes
 * the kernel refuse the whole patch, so everything the undo plan deletes
 * was made by the patch and nothing the operator had is ever removed.
 * Two exceptions: the idiom "add table F T" / "add chain F T C" without
 * a body changes nothing that exists, so it stays an add, and a table or
 * chain that existed before the load is dropped from both plans
 * (apply_plan_drop_existing), never deleted by an undo; and sets and maps
 * stay "add" because nftables 1.0.6 silently drops their inline
 * "elements = { }" on create: apply refuses one that exists itself,
 * against the listing taken before the load (apply_plan_check_new).
 *
 * apply_load(), in order:
 *   1. screen the script (pure, apply_plan.h);
 *   2. lock STATE_DIR/apply.lock (flock, one apply at a time); an
 *      apply.plan left behind (stale) refuses the apply;
 *   3. dry run against the live ruleset (nft_ctx_set_dry_run): a script
 *      the kernel rejects is never loaded, the kernel's message is
 *      returned in err;
 *   4. save the prior state: "nft -a -s list ruleset" text in
 *      apply.before (rollback compares against it), and per table the
 *      highest handle in use (the watermark);
 *   5. write a PROVISIONAL undo plan (what the script will create, by
 *      name, and for rules their chain and the watermark) to apply.plan;
 *   6. start the watchdog (below) and wait until it runs;
 *   7. load the script as one transaction with echo + handles + JSON:
 *      the kernel's echo names every rule handle, chain, set, element
 *      and object created;
 *   8. replace apply.plan (write, fsync, rename) by the EXACT plan built
 *      from the echo.
 * The window between 7 and 8 is closed by 5: a plan found provisional is
 * resolved against the live ruleset (apply_plan_resolve): since the load
 * is atomic, either nothing of it exists (nothing to undo) or all of it;
 * named objects are found by name and rules as the only rules above the
 * watermark in their chain, which must be exactly as many as the script
 * added there (else the rollback refuses to guess and says so).
 *
 * Every plan also records each existing table's own handle: an undo run
 * later (a stale plan) skips a table made again since (another handle),
 * whose rule handles would name the operator's new rules.
 *
 * The undo is the exact inverse: delete those rules by handle, the
 * elements, then the chains, sets and objects created (newest first), as
 * one transaction; it never restores from text (that would reset
 * counters, set elements and handles of the operator's own rules).  If
 * the transaction fails (the operator deleted one of our rules meanwhile)
 * each item is retried alone and "No such file or directory" counts as
 * done.  Afterwards the listing is compared with apply.before.
 *
 * The watchdog: a double fork (setsid in between: its own session and
 * process group, no terminal, not in the applier's job), all other fds
 * closed, stdio on /dev/null, cwd "/".  It keeps the flock on apply.lock
 * (so a live watchdog and a stale plan are told apart by the kernel
 * dropping the lock when it dies) and one end of a socketpair whose other
 * end only the applier holds (close-on-exec).  It waits up to
 * confirm_timeout seconds (counted from its start, before the load) for
 * one byte: 'K' keep (confirm), 'R' roll back now, 'A' abort (the load
 * failed: nothing to undo).  End of file without a byte means the applier
 * died: roll back at once, never keep.  So does SIGTERM to the watchdog.
 * The watchdog alone decides; it writes its decision back on the socket
 * ("kept", "rolled-back identical|differs", "rollback-failed ...") and
 * removes apply.plan only when done.  A watchdog killed itself (kill -9)
 * leaves apply.plan and an unlocked apply.lock: apply_stale() reports it,
 * apply_rollback_stale() runs it.
 *
 * Needs CAP_NET_ADMIN (every kernel step).  Errors: 0 or a negative
 * FTP_ERR_*; err (may be NULL) gets a one-line-or-nft-formatted reason:
 *   FTP_ERR_INVAL   the script was refused (screen) or the kernel rejected
 *                   it (err holds nft's own error text);
 *   FTP_ERR_DENIED  another apply holds the lock, or a stale plan exists;
 *   FTP_ERR_NOTFOUND no stale plan (apply_rollback_stale);
 *   FTP_ERR_RANGE   confirmed too late: the watchdog had rolled back;
 *   FTP_ERR_PROTO   the echo or a plan file could not be understood;
 *   FTP_ERR_SYSTEM  errno (EIO: libnftables gave no reason, EPIPE: the
 *                   watchdog died; the change then stays loaded and the
 *                   plan is stale).
 * Library code: never exits the caller; the forked watchdog ends with
 * _exit().  Not thread-safe (fork).  No signal disposition is needed from
 * the caller: the socket is written with MSG_NOSIGNAL.  The applier's end
 * is close-on-exec; a child the applier forks without exec would hold it
 * open, and the applier's death would then not end the window early.
 */
#ifndef FTPATH_APPLY_H
#define FTPATH_APPLY_H

#include <stddef.h>
#include <stdio.h>

#include "apply_plan.h"

#define APPLY_STATE_DIR		"/run/ftpath"
#define APPLY_CONFIRM_TIMEOUT	30	/* seconds */
#define APPLY_TIMEOUT_MAX	86400	/* seconds */

/* Fault injection for tests: "die-after-load" makes apply_load() kill
 * its own process right after the kernel took the patch and before the
 * exact plan replaces the provisional one (tests/netns/apply_test.sh). */
#define APPLY_FAULT_ENV		"FTPATH_APPLY_FAULT"

/* Files inside the state directory. */
#define APPLY_LOCK_FILE		"apply.lock"
#define APPLY_PLAN_FILE		"apply.plan"
#define APPLY_BEFORE_FILE	"apply.before"
#define APPLY_LOG_FILE		"apply.log"

/* ---- kernel, files and the watchdog ---- */

struct apply_opts {
	const char	*state_dir;		/* NULL: APPLY_STATE_DIR */
	unsigned	 confirm_timeout;	/* seconds; 0: the default */
};

/* A loaded, not yet decided patch and its watchdog. */
struct apply;

/*
 * Check, save, load (steps 1-8 above).  On success *out is the loaded
 * patch, waiting for apply_confirm() or apply_rollback(); its watchdog
 * rolls it back at the deadline or when this process dies.
 */
int apply_load(const char *script, const struct apply_opts *o,
    struct apply **out, char *err, size_t errlen);
/* Check only (steps 1 and 3): the kernel's verdict on the script, no
 * lock, no state, nothing loaded. */
int apply_check(const char *script, char *err, size_t errlen);

/* What was loaded (owned by a). */
const struct apply_plan *apply_plan_of(const struct apply *a);
/* The watchdog's pid (for the operator, and for tests). */
long apply_watchdog_pid(const struct apply *a);
/* Milliseconds until the watchdog rolls back by itself (0: past). */
long apply_remaining_ms(const struct apply *a);

/* Keep it.  0 kept; FTP_ERR_RANGE: too late, it was rolled back. */
int apply_confirm(struct apply *a, char *err, size_t errlen);
/*
 * Roll back now (or, wait = 1, wait for the watchdog's own decision at
 * the deadline).  0: rolled back and the ruleset listing equals the one
 * before (*identical, may be NULL, 1) or not (0, e.g. counters moved);
 * 1: it had been kept (a confirm came first); negative on failure.
 */
int apply_rollback(struct apply *a, int wait, int *identical, char *err,
    size_t errlen);
/* Release a.  Undecided: the watchdog sees the socket close and rolls
 * back.  NULL is a no-op. */
void apply_free(struct apply *a);

/*
 * A plan left behind (watchdog killed, machine state after a crash):
 * 0 with *out (may be NULL) if one exists and no watchdog holds it,
 * FTP_ERR_NOTFOUND if none, FTP_ERR_DENIED if a live watchdog owns it.
 */
int apply_stale(const char *state_dir, struct apply_plan **out);
/* Run a stale plan, compare with apply.before, remove the state. */
int apply_rollback_stale(const char *state_dir, int *identical, char *err,
    size_t errlen);

/*
 * For "check --apply": load the patch, call retest(arg) (1 pass, 0 fail,
 * negative error), keep it if it passed, else roll back at once.  *kept
 * (set on success) 1 or 0; the rollback's identity in *identical (may be
 * NULL).  The retest must finish within confirm_timeout, or the watchdog
 * rolls back first and the confirm fails with FTP_ERR_RANGE.
 */
typedef int (*apply_retest_fn)(void *arg);
int apply_run(const char *script, const struct apply_opts *o,
    apply_retest_fn retest, void *arg, int *kept, int *identical,
    char *err, size_t errlen);

#endif
