/*
 * apply.c - the public steps of apply.h: check, save, load with echo,
 * confirm or roll back.  The design and the order of steps are in
 * apply.h; the comments here say why a step is so.  What the steps do
 * to the kernel and the state files is apply_state.c, the watchdog
 * apply_watchdog.c.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "apply.h"
#include "apply_int.h"
#include "clock.h"
#include "err.h"

struct apply {
	int			 sock;		/* to the watchdog */
	long			 wpid;
	uint64_t		 deadline;	/* clock_mono_ms() */
	struct apply_plan	*plan;
	int			 decided;
	char			 dir[PATH_MAX];
};

/* Tell the watchdog c and read its decision into buf. */
static int
wd_order(struct apply *a, char c, int ms, char *buf, size_t len)
{
	a->decided = 1;
	/* It may have decided by itself already: its answer is waiting. */
	(void)send(a->sock, &c, 1, MSG_NOSIGNAL);
	return apply_watchdog_read(a->sock, ms, buf, len);
}

/* ---- the public steps ---- */

/* The kernel's text quotes "create" where the patch said "add": say
 * why, and that nothing was loaded. */
static void
check_hint(int r, char *err, size_t errlen)
{
	size_t len;

	if (r == 0 || err == NULL || strstr(err, "File exists") == NULL)
		return;
	len = strlen(err);
	if (len + 1 < errlen)
		snprintf(err + len, errlen - len, "\n(apply loads every add of "
		    "an object as create: this one exists already, and apply "
		    "only adds)");
}

int
apply_check(const char *script, char *err, size_t errlen)
{
	char *batch = NULL;
	int r;

	if ((r = apply_screen(script, &batch, NULL, err, errlen)) != 0)
		return r;
	r = apply_nft_run(batch, NFT_RUN_DRY, NULL, err, errlen);
	free(batch);
	check_hint(r, err, errlen);
	return r == FTP_ERR_NOTFOUND ? FTP_ERR_INVAL : r;
}

/* Steps 4 and 5: apply.before and the provisional plan.  *before_json
 * (the caller frees it) is the listing the exact plan is checked with. */
static int
load_save(const char *dir, struct apply_plan *prov, char **before_json,
    char *err, size_t errlen)
{
	char *text = NULL, *json = NULL;
	int r;

	if ((r = apply_nft_listing(0, &text, err, errlen)) != 0 ||
	    (r = apply_nft_listing(1, &json, err, errlen)) != 0)
		goto out;
	if ((r = apply_plan_check_new(prov, json, err, errlen)) != 0)
		goto out;
	if ((r = apply_plan_watermarks(prov, json)) != 0 ||
	    (r = apply_plan_drop_existing(prov, json)) != 0) {
		ftp_errmsg(err, errlen, "cannot read the ruleset's handles");
		goto out;
	}
	if ((r = apply_state_write(dir, APPLY_BEFORE_FILE, text)) != 0 ||
	    (r = apply_state_plan_store(dir, prov)) != 0) {
		ftp_errmsg(err, errlen, "%s: %s", dir, ftp_strerror(r));
		goto out;
	}
	*before_json = json;
	json = NULL;
out:
	free(text);
	free(json);
	return r;
}

/* Steps 7 and 8: the load itself and the exact plan.  *loaded tells a
 * kernel refusal (nothing of it is there: one transaction) from a
 * failure after the load, which leaves the provisional plan for the
 * watchdog's rollback. */
static int
load_commit(struct apply *a, const char *batch, const char *before_json,
    int *loaded, char *err, size_t errlen)
{
	char *echo = NULL;
	int r;

	*loaded = 0;
	if ((r = apply_nft_run(batch, NFT_RUN_JSON | NFT_RUN_ECHO, &echo, err,
	    errlen)) != 0)
		return r == FTP_ERR_NOTFOUND ? FTP_ERR_INVAL : r;
	*loaded = 1;
	/* Test hook: die inside the window the provisional plan closes. */
	if (getenv(APPLY_FAULT_ENV) != NULL &&
	    strcmp(getenv(APPLY_FAULT_ENV), "die-after-load") == 0)
		raise(SIGKILL);
	/* The kernel echoes no no-op "add table"; check anyway: an undo must
	 * never delete a table the operator had. */
	if ((r = apply_plan_from_echo(echo, &a->plan, err, errlen)) == 0 &&
	    (r = apply_plan_drop_existing(a->plan, before_json)) == 0 &&
	    (r = apply_plan_watermarks(a->plan, before_json)) == 0 &&
	    (r = apply_state_plan_store(a->dir, a->plan)) != 0)
		ftp_errmsg(err, errlen, "%s: %s", a->dir, ftp_strerror(r));
	free(echo);
	return r;
}

/* Steps 2 and 3 under the lock: no stale plan, the kernel's check. */
static int
load_prepare(const char *dir, const char *batch, int *lockfd, char *err,
    size_t errlen)
{
	int r;

	if ((r = apply_state_dir_make(dir)) != 0) {
		ftp_errmsg(err, errlen, "%s: %s", dir, ftp_strerror(r));
		return r;
	}
	if ((r = apply_state_lock(dir, lockfd)) != 0) {
		ftp_errmsg(err, errlen, r == FTP_ERR_DENIED ? "another apply "
		    "is waiting for its confirmation (%s)" : "%s", r ==
		    FTP_ERR_DENIED ? dir : ftp_strerror(r));
		return r;
	}
	if (apply_state_exists(dir, APPLY_PLAN_FILE)) {
		ftp_errmsg(err, errlen, "a stale undo plan is in %s/%s: roll "
		    "it back first (apply --rollback-stale)", dir,
		    APPLY_PLAN_FILE);
		return FTP_ERR_DENIED;
	}
	r = apply_nft_run(batch, NFT_RUN_DRY, NULL, err, errlen);
	check_hint(r, err, errlen);
	return r == FTP_ERR_NOTFOUND ? FTP_ERR_INVAL : r;
}

int
apply_load(const char *script, const struct apply_opts *o,
    struct apply **out, char *err, size_t errlen)
{
	struct apply *a = NULL;
	struct apply_plan *prov = NULL;
	unsigned timeout = o && o->confirm_timeout ? o->confirm_timeout :
	    APPLY_CONFIRM_TIMEOUT;
	const char *dir = o && o->state_dir ? o->state_dir : APPLY_STATE_DIR;
	char *batch = NULL, *before = NULL, line[APPLY_REPLY_MAX];
	int r, lockfd = -1, loaded = 0;

	if (timeout > APPLY_TIMEOUT_MAX)
		return FTP_ERR_RANGE;
	if ((r = apply_screen(script, &batch, &prov, err, errlen)) != 0)
		goto out;
	r = FTP_ERR_NOMEM;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		goto out;
	a->sock = -1;
	/* The watchdog runs in "/": it needs the directory's full name. */
	if (apply_state_dir_make(dir) != 0 || realpath(dir, a->dir) == NULL) {
		ftp_errmsg(err, errlen, "%s: %s", dir, strerror(errno));
		r = FTP_ERR_SYSTEM;
		goto out;
	}
	if ((r = load_prepare(a->dir, batch, &lockfd, err, errlen)) != 0)
		goto out;
	/* Under the lock and with no plan before it: what it wrote is ours
	 * (never a stale plan, which load_prepare refuses to go past). */
	if ((r = load_save(a->dir, prov, &before, err, errlen)) != 0) {
		apply_state_remove(a->dir);
		goto out;
	}
	/* Before the watchdog's own: a prompt never outlasts it. */
	a->deadline = clock_mono_ms() + (uint64_t)timeout * 1000;
	if ((r = apply_watchdog_spawn(a->dir, lockfd, timeout,
	    &a->sock, &a->wpid)) != 0) {
		ftp_errmsg(err, errlen, "cannot start the watchdog: %s",
		    strerror(errno));
		apply_state_remove(a->dir);
		goto out;
	}
	if ((r = load_commit(a, batch, before, &loaded, err, errlen)) != 0) {
		/* Nothing loaded: abort; loaded but not understood: the
		 * provisional plan is undone at once. */
		(void)wd_order(a, loaded ? 'R' : 'A', APPLY_UNDO_MS, line,
		    sizeof(line));
		goto out;
	}
	*out = a;
	a = NULL;
	r = 0;
out:
	if (lockfd != -1)
		close(lockfd);	/* the watchdog keeps its own hold */
	apply_free(a);
	apply_plan_free(prov);
	free(batch);
	free(before);
	return r;
}

const struct apply_plan *
apply_plan_of(const struct apply *a)
{
	return a->plan;
}

long
apply_watchdog_pid(const struct apply *a)
{
	return a->wpid;
}

long
apply_remaining_ms(const struct apply *a)
{
	uint64_t now = clock_mono_ms();

	return now >= a->deadline ? 0 : (long)(a->deadline - now);
}

/* The watchdog's answer: "kept" 1, "rolled-back ..." 0, else negative. */
static int
reply_parse(const char *line, int *identical, char *err, size_t errlen)
{
	if (strcmp(line, "kept") == 0)
		return 1;
	if (strncmp(line, "rolled-back ", 12) == 0) {
		if (identical != NULL)
			*identical = strcmp(line + 12, "identical") == 0;
		return 0;
	}
	ftp_errmsg(err, errlen, "%s", strncmp(line, "rollback-failed ", 16) ==
	    0 ? line + 16 : line);
	return FTP_ERR_SYSTEM;
}

static int
order_failed(const struct apply *a, char *err, size_t errlen)
{
	ftp_errmsg(err, errlen, "the watchdog (pid %ld) is gone: the patch "
	    "stays loaded and %s/%s is stale; run apply --rollback-stale",
	    a->wpid, a->dir, APPLY_PLAN_FILE);
	return FTP_ERR_SYSTEM;
}

int
apply_confirm(struct apply *a, char *err, size_t errlen)
{
	char line[APPLY_REPLY_MAX];
	int r;

	if (a->decided)
		return FTP_ERR_INVAL;
	if (wd_order(a, 'K', APPLY_UNDO_MS, line, sizeof(line)) != 0)
		return order_failed(a, err, errlen);
	if ((r = reply_parse(line, NULL, err, errlen)) == 1)
		return 0;
	if (r == 0) {
		ftp_errmsg(err, errlen, "too late: the watchdog had rolled "
		    "the patch back");
		return FTP_ERR_RANGE;
	}
	return r;
}

int
apply_rollback(struct apply *a, int wait, int *identical, char *err,
    size_t errlen)
{
	char line[APPLY_REPLY_MAX];
	long ms = APPLY_UNDO_MS;
	int r;

	if (a->decided)
		return FTP_ERR_INVAL;
	if (wait) {
		ms += apply_remaining_ms(a);
		a->decided = 1;
		r = apply_watchdog_read(a->sock, (int)ms, line, sizeof(line));
	} else {
		r = wd_order(a, 'R', (int)ms, line, sizeof(line));
	}
	if (r != 0)
		return order_failed(a, err, errlen);
	return reply_parse(line, identical, err, errlen);
}

void
apply_free(struct apply *a)
{
	if (a == NULL)
		return;
	if (a->sock != -1)
		close(a->sock);	/* undecided: the watchdog rolls back */
	apply_plan_free(a->plan);
	free(a);
}

int
apply_stale(const char *state_dir, struct apply_plan **out)
{
	const char *dir = state_dir ? state_dir : APPLY_STATE_DIR;
	int r, fd = -1;

	if (!apply_state_exists(dir, APPLY_PLAN_FILE))
		return FTP_ERR_NOTFOUND;
	if ((r = apply_state_lock(dir, &fd)) != 0)
		return r;
	r = out != NULL ? apply_state_plan_load(dir, out, NULL, 0) : 0;
	close(fd);
	return r;
}

int
apply_rollback_stale(const char *state_dir, int *identical, char *err,
    size_t errlen)
{
	const char *dir = state_dir ? state_dir : APPLY_STATE_DIR;
	int r, fd = -1;

	if (!apply_state_exists(dir, APPLY_PLAN_FILE)) {
		ftp_errmsg(err, errlen, "no undo plan in %s", dir);
		return FTP_ERR_NOTFOUND;
	}
	if ((r = apply_state_lock(dir, &fd)) != 0) {
		ftp_errmsg(err, errlen, r == FTP_ERR_DENIED ? "a live watchdog "
		    "owns the plan in %s" : "%s", r == FTP_ERR_DENIED ? dir :
		    ftp_strerror(r));
		return r;
	}
	r = apply_undo_dir(dir, identical, err, errlen);
	close(fd);
	return r;
}

int
apply_run(const char *script, const struct apply_opts *o,
    apply_retest_fn retest, void *arg, int *kept, int *identical,
    char *err, size_t errlen)
{
	struct apply *a = NULL;
	int r, pass;

	if ((r = apply_load(script, o, &a, err, errlen)) != 0)
		return r;
	pass = retest(arg);
	if (pass == 1) {
		if ((r = apply_confirm(a, err, errlen)) == 0)
			*kept = 1;
	} else if ((r = apply_rollback(a, 0, identical, err, errlen)) >= 0) {
		*kept = r == 1;
		r = 0;
	}
	apply_free(a);
	return r;
}
