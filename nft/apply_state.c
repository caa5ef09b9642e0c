/*
 * apply_state.c - what apply.c and its watchdog do to the kernel and to
 * the state directory (apply_int.h): libnftables runs and listings, the
 * state files written so that a crash leaves the old or the new one,
 * and the undo of a plan file.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nftables/libnftables.h>

#include "apply_int.h"
#include "err.h"
#include "readfile.h"

/* ---- libnftables ---- */

/* Map nft's error text to our code; the text itself goes to err. */
static int
nft_error(const char *msg, char *err, size_t errlen)
{
	size_t len = msg ? strlen(msg) : 0;

	while (len > 0 && msg[len - 1] == '\n')
		len--;
	if (len == 0)
		ftp_errmsg(err, errlen, "nft failed without a reason");
	else
		ftp_errmsg(err, errlen, "%.*s", (int)len, msg);
	if (msg != NULL && strstr(msg, "No such file or directory") != NULL)
		return FTP_ERR_NOTFOUND;
	if (msg != NULL && strstr(msg, "Operation not permitted") != NULL) {
		errno = EPERM;
		return FTP_ERR_DENIED;
	}
	return FTP_ERR_INVAL;
}

/*
 * One libnftables context: run buf with these output flags (dry: check
 * only), *out (may be NULL) a copy of the output.
 */
static int
nft_exec(const char *buf, unsigned flags, int dry, char **out, char *err,
    size_t errlen)
{
	struct nft_ctx *ctx;
	const char *o;
	int r = FTP_ERR_NOMEM;

	if ((ctx = nft_ctx_new(NFT_CTX_DEFAULT)) == NULL)
		return FTP_ERR_NOMEM;
	if (nft_ctx_buffer_output(ctx) != 0 || nft_ctx_buffer_error(ctx) != 0)
		goto out;
	nft_ctx_output_set_flags(ctx, flags);
	nft_ctx_set_dry_run(ctx, dry != 0);
	if (nft_run_cmd_from_buffer(ctx, buf) != 0) {
		r = nft_error(nft_ctx_get_error_buffer(ctx), err, errlen);
		goto out;
	}
	o = nft_ctx_get_output_buffer(ctx);
	r = FTP_ERR_NOMEM;
	if (out != NULL && (*out = strdup(o ? o : "")) == NULL)
		goto out;
	r = 0;
out:
	nft_ctx_free(ctx);
	return r;
}

/*
 * Run buf through libnftables.  JSON input is taken when NFT_RUN_JSON is
 * set (libnftables parses JSON when its output is JSON).  *out (may be
 * NULL) gets a copy of the output.
 */
int
apply_nft_run(const char *buf, unsigned how, char **out, char *err,
    size_t errlen)
{
	unsigned flags = NFT_CTX_OUTPUT_HANDLE;

	if (how & NFT_RUN_JSON)
		flags |= NFT_CTX_OUTPUT_JSON;
	if (how & NFT_RUN_ECHO)
		flags |= NFT_CTX_OUTPUT_ECHO;
	return nft_exec(buf, flags, (how & NFT_RUN_DRY) != 0, out, err,
	    errlen);
}

/* The ruleset: text with handles and without counter values (what a
 * rollback must give back), or JSON with handles (watermarks). */
int
apply_nft_listing(int json, char **out, char *err, size_t errlen)
{
	return nft_exec("list ruleset", NFT_CTX_OUTPUT_HANDLE |
	    (json ? NFT_CTX_OUTPUT_JSON : NFT_CTX_OUTPUT_STATELESS), 0, out,
	    err, errlen);
}

/* ---- state files ---- */

int
apply_state_path(const char *dir, const char *name, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= len ? FTP_ERR_TOOBIG : 0;
}

/* Write a state file so that it is either old or new after a crash:
 * a temporary, fsync, rename, fsync of the directory. */
int
apply_state_write(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	size_t len = strlen(text), done = 0;
	ssize_t n;
	int fd = -1, dfd = -1, r;

	if ((r = apply_state_path(dir, name, path, sizeof(path))) != 0)
		return r;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return FTP_ERR_TOOBIG;
	r = FTP_ERR_SYSTEM;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600))
	    == -1)
		goto out;
	while (done < len) {
		if ((n = write(fd, text + done, len - done)) == -1) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		done += (size_t)n;
	}
	if (fsync(fd) == -1 || rename(tmp, path) == -1)
		goto out;
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1)
		(void)fsync(dfd);	/* best effort: the rename is done */
	r = 0;
out:
	if (fd != -1)
		close(fd);
	if (dfd != -1)
		close(dfd);
	return r;
}

void
apply_state_remove(const char *dir)
{
	char path[PATH_MAX];

	/* The plan last: while it exists the state is "to be undone". */
	if (apply_state_path(dir, APPLY_BEFORE_FILE, path, sizeof(path)) == 0)
		(void)unlink(path);
	if (apply_state_path(dir, APPLY_PLAN_FILE ".tmp", path,
	    sizeof(path)) == 0)
		(void)unlink(path);
	if (apply_state_path(dir, APPLY_BEFORE_FILE ".tmp", path,
	    sizeof(path)) == 0)
		(void)unlink(path);
	if (apply_state_path(dir, APPLY_PLAN_FILE, path, sizeof(path)) == 0)
		(void)unlink(path);
}

int
apply_state_exists(const char *dir, const char *name)
{
	char path[PATH_MAX];

	return apply_state_path(dir, name, path, sizeof(path)) == 0 &&
	    access(path, F_OK) == 0;
}

/* mkdir -p for the last component only (its parent, /run, exists). */
int
apply_state_dir_make(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return FTP_ERR_SYSTEM;
	if (stat(dir, &st) == -1)
		return FTP_ERR_SYSTEM;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return FTP_ERR_SYSTEM;
	}
	return 0;
}

/* Take the lock without waiting: *fd on success, FTP_ERR_DENIED when a
 * live apply (its watchdog) holds it. */
int
apply_state_lock(const char *dir, int *fd)
{
	char path[PATH_MAX];
	int lfd, r;

	if ((r = apply_state_path(dir, APPLY_LOCK_FILE, path,
	    sizeof(path))) != 0)
		return r;
	if ((lfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1)
		return FTP_ERR_SYSTEM;
	if (flock(lfd, LOCK_EX | LOCK_NB) == -1) {
		r = errno == EWOULDBLOCK ? FTP_ERR_DENIED : FTP_ERR_SYSTEM;
		close(lfd);
		return r;
	}
	*fd = lfd;
	return 0;
}

int
apply_state_plan_load(const char *dir, struct apply_plan **out, char *err,
    size_t errlen)
{
	char path[PATH_MAX], *text = NULL;
	size_t len;
	int r;

	if ((r = apply_state_path(dir, APPLY_PLAN_FILE, path,
	    sizeof(path))) != 0)
		return r;
	if ((r = readfile_load(path, APPLY_PLAN_MAX, &text, &len)) != 0) {
		ftp_errmsg(err, errlen, "%s: %s", path, ftp_strerror(r));
		return r == FTP_ERR_SYSTEM && errno == ENOENT ?
		    FTP_ERR_NOTFOUND : r;
	}
	r = apply_plan_decode(text, out, err, errlen);
	free(text);
	return r;
}

int
apply_state_plan_store(const char *dir, const struct apply_plan *p)
{
	char *text = NULL;
	int r;

	if ((r = apply_plan_encode(p, &text)) != 0)
		return r;
	r = apply_state_write(dir, APPLY_PLAN_FILE, text);
	free(text);
	return r;
}

/* ---- the undo ---- */

/* One batch of the undo: text (element deletes from a script) then
 * JSON.  An item already gone counts as undone. */
static int
undo_batch(const char *json, const char *text, int one, char *err,
    size_t errlen)
{
	int r = 0;

	if (text != NULL && text[0] != '\0')
		r = apply_nft_run(text, NFT_RUN_TEXT, NULL, err, errlen);
	if ((r == 0 || (one && r == FTP_ERR_NOTFOUND)) &&
	    strcmp(json, "{\"nftables\":[]}") != 0)
		r = apply_nft_run(json, NFT_RUN_JSON, NULL, err, errlen);
	return one && r == FTP_ERR_NOTFOUND ? 0 : r;
}

/* The whole undo as one transaction; if the kernel refuses it (one of
 * our items vanished), each item alone, newest first. */
static int
undo_run(const struct apply_plan *p, char *err, size_t errlen)
{
	char *json = NULL, *text = NULL;
	size_t i;
	int r, first = 0;

	if ((r = apply_plan_undo(p, -1, &json, &text)) != 0)
		return r;
	r = undo_batch(json, text, 0, err, errlen);
	free(json);
	free(text);
	if (r == 0)
		return 0;
	for (i = apply_plan_count(p); i-- > 0;) {
		json = text = NULL;
		if ((r = apply_plan_undo(p, (long)i, &json, &text)) == 0)
			r = undo_batch(json, text, 1, err, errlen);
		free(json);
		free(text);
		if (r != 0 && first == 0)
			first = r;
	}
	return first;
}

/* The plan against the live ruleset: without the tables made again
 * since, and a provisional one made exact. */
static int
undo_resolve(struct apply_plan **p, char *err, size_t errlen)
{
	struct apply_plan *exact = NULL;
	char *listing = NULL;
	size_t dropped = 0;
	int r, loaded = 0;

	if ((r = apply_nft_listing(1, &listing, err, errlen)) != 0)
		return r;
	if ((r = apply_plan_keep_live(*p, listing, &dropped)) != 0 ||
	    !apply_plan_provisional(*p))
		goto out;
	if ((r = apply_plan_resolve(*p, listing, &exact, &loaded, err,
	    errlen)) != 0)
		goto out;
	apply_plan_free(*p);
	*p = exact;
out:
	free(listing);
	return r;
}

/* Compare the live listing with apply.before: 1 same, 0 not, -1 none. */
static int
undo_compare(const char *dir)
{
	char path[PATH_MAX], *before = NULL, *now = NULL;
	size_t len;
	int same = -1;

	if (apply_state_path(dir, APPLY_BEFORE_FILE, path, sizeof(path)) != 0 ||
	    readfile_load(path, APPLY_LISTING_MAX, &before, &len) != 0)
		return -1;
	if (apply_nft_listing(0, &now, NULL, 0) == 0)
		same = strcmp(before, now) == 0;
	free(before);
	free(now);
	return same;
}

/*
 * Undo what apply.plan says, compare, remove the state.  The caller holds
 * the lock.  A failed undo keeps the plan: it is then stale, for the
 * operator to see and to run again.
 */
int
apply_undo_dir(const char *dir, int *identical, char *err, size_t errlen)
{
	struct apply_plan *p = NULL;
	int r;

	if ((r = apply_state_plan_load(dir, &p, err, errlen)) != 0)
		return r;
	if ((r = undo_resolve(&p, err, errlen)) != 0 ||
	    (r = undo_run(p, err, errlen)) != 0)
		goto out;
	if (identical != NULL)
		*identical = undo_compare(dir) == 1;
	apply_state_remove(dir);
out:
	apply_plan_free(p);
	return r;
}
