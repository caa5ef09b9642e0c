/*
 * apply_int.h - what apply.c (the public steps), apply_state.c
 * (libnftables, the state files, the undo) and apply_watchdog.c (the
 * process that decides) share.  Not for other modules: apply.h is the
 * interface, and describes the steps and the watchdog.
 */
#ifndef FTPATH_APPLY_INT_H
#define FTPATH_APPLY_INT_H

#include <stddef.h>

#include "apply.h"

#define APPLY_PLAN_MAX		(4 * 1024 * 1024)
#define APPLY_LISTING_MAX	(64 * 1024 * 1024)
#define APPLY_READY_MS		5000	/* the watchdog's start-up */
#define APPLY_UNDO_MS		30000	/* an undo in progress */
#define APPLY_REPLY_MAX		512	/* a line from the watchdog */

/* How apply_nft_run() runs a buffer (or'ed). */
enum { NFT_RUN_TEXT = 0, NFT_RUN_JSON = 1, NFT_RUN_ECHO = 2,
    NFT_RUN_DRY = 4 };

/* apply_state.c: libnftables */
/*
 * Run buf through libnftables.  JSON input is taken when NFT_RUN_JSON is
 * set.  *out (may be NULL) gets a copy of the output.  The kernel's
 * message goes to err: FTP_ERR_NOTFOUND for "No such file or
 * directory", FTP_ERR_DENIED for EPERM, else FTP_ERR_INVAL.
 */
int apply_nft_run(const char *buf, unsigned how, char **out, char *err,
    size_t errlen);
/* The ruleset: text with handles and without counter values (json 0),
 * or JSON with handles (json 1).  *out malloc'd. */
int apply_nft_listing(int json, char **out, char *err, size_t errlen);

/* apply_state.c: the files in the state directory */
int apply_state_path(const char *dir, const char *name, char *buf,
    size_t len);
/* Old or new after a crash: a temporary, fsync, rename, fsync. */
int apply_state_write(const char *dir, const char *name, const char *text);
/* The before-listing, the temporaries, then the plan (last: while it
 * exists the state is "to be undone"). */
void apply_state_remove(const char *dir);
int apply_state_exists(const char *dir, const char *name);
int apply_state_dir_make(const char *dir);
/* The lock without waiting: *fd, or FTP_ERR_DENIED when a live apply
 * (its watchdog) holds it. */
int apply_state_lock(const char *dir, int *fd);
/* apply.plan: FTP_ERR_NOTFOUND when there is none. */
int apply_state_plan_load(const char *dir, struct apply_plan **out,
    char *err, size_t errlen);
int apply_state_plan_store(const char *dir, const struct apply_plan *p);

/* apply_state.c: the undo */
/* Undo what apply.plan says, compare (*identical, may be NULL), remove
 * the state.  The caller holds the lock.  A failed undo keeps the plan:
 * it is then stale, for the operator to see and to run again. */
int apply_undo_dir(const char *dir, int *identical, char *err,
    size_t errlen);

/* apply_watchdog.c */
/* Start the watchdog for dir (double fork, see apply.h), holding lockfd,
 * and wait until it runs: *sock our end of its socket, *wpid its pid.
 * 0 or FTP_ERR_SYSTEM. */
int apply_watchdog_spawn(const char *dir, int lockfd, unsigned timeout_s,
    int *sock, long *wpid);
/* A line from the watchdog, waiting at most ms: 0, or FTP_ERR_SYSTEM
 * with errno EPIPE (it is gone) or ETIMEDOUT. */
int apply_watchdog_read(int sock, int ms, char *buf, size_t len);

#endif
