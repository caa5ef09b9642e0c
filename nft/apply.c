/*
 * apply.c - the kernel, state-file and watchdog half of apply.h: check,
 * save, load with echo, confirm or roll back.  The design and the order
 * of steps are in apply.h; the comments here say why a step is so.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nftables/libnftables.h>

#include "apply.h"
#include "clock.h"
#include "err.h"
#include "readfile.h"

#define APPLY_PLAN_MAX		(4 * 1024 * 1024)
#define APPLY_LISTING_MAX	(64 * 1024 * 1024)
#define APPLY_READY_MS		5000	/* the watchdog's start-up */
#define APPLY_UNDO_MS		30000	/* an undo in progress */
#define APPLY_REPLY_MAX		512

struct apply {
	int			 sock;		/* to the watchdog */
	long			 wpid;
	uint64_t		 deadline;	/* clock_mono_ms() */
	struct apply_plan	*plan;
	int			 decided;
	char			 dir[PATH_MAX];
};

/* ---- libnftables ---- */

enum { NFT_RUN_TEXT = 0, NFT_RUN_JSON = 1, NFT_RUN_ECHO = 2,
    NFT_RUN_DRY = 4 };

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
 * Run buf through libnftables.  JSON input is taken when NFT_RUN_JSON is
 * set (libnftables parses JSON when its output is JSON).  *out (may be
 * NULL) gets a copy of the output.
 */
static int
nft_run(const char *buf, unsigned how, char **out, char *err, size_t errlen)
{
	struct nft_ctx *ctx;
	unsigned flags = NFT_CTX_OUTPUT_HANDLE;
	const char *o;
	int r = FTP_ERR_NOMEM;

	if ((ctx = nft_ctx_new(NFT_CTX_DEFAULT)) == NULL)
		return FTP_ERR_NOMEM;
	if (nft_ctx_buffer_output(ctx) != 0 || nft_ctx_buffer_error(ctx) != 0)
		goto out;
	if (how & NFT_RUN_JSON)
		flags |= NFT_CTX_OUTPUT_JSON;
	if (how & NFT_RUN_ECHO)
		flags |= NFT_CTX_OUTPUT_ECHO;
	nft_ctx_output_set_flags(ctx, flags);
	nft_ctx_set_dry_run(ctx, (how & NFT_RUN_DRY) != 0);
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

/* The ruleset: text with handles and without counter values (what a
 * rollback must give back), or JSON with handles (watermarks). */
static int
nft_listing(int json, char **out, char *err, size_t errlen)
{
	struct nft_ctx *ctx;
	const char *o;
	int r = FTP_ERR_NOMEM;

	if ((ctx = nft_ctx_new(NFT_CTX_DEFAULT)) == NULL)
		return FTP_ERR_NOMEM;
	if (nft_ctx_buffer_output(ctx) != 0 || nft_ctx_buffer_error(ctx) != 0)
		goto out;
	nft_ctx_output_set_flags(ctx, NFT_CTX_OUTPUT_HANDLE |
	    (json ? NFT_CTX_OUTPUT_JSON : NFT_CTX_OUTPUT_STATELESS));
	if (nft_run_cmd_from_buffer(ctx, "list ruleset") != 0) {
		r = nft_error(nft_ctx_get_error_buffer(ctx), err, errlen);
		goto out;
	}
	o = nft_ctx_get_output_buffer(ctx);
	if ((*out = strdup(o ? o : "")) == NULL)
		goto out;
	r = 0;
out:
	nft_ctx_free(ctx);
	return r;
}

/* ---- state files ---- */

static int
state_path(const char *dir, const char *name, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= len ? FTP_ERR_TOOBIG : 0;
}

/* Write a state file so that it is either old or new after a crash:
 * a temporary, fsync, rename, fsync of the directory. */
static int
state_write(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	size_t len = strlen(text), done = 0;
	ssize_t n;
	int fd = -1, dfd = -1, r;

	if ((r = state_path(dir, name, path, sizeof(path))) != 0)
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

static void
state_remove(const char *dir)
{
	char path[PATH_MAX];

	/* The plan last: while it exists the state is "to be undone". */
	if (state_path(dir, APPLY_BEFORE_FILE, path, sizeof(path)) == 0)
		(void)unlink(path);
	if (state_path(dir, APPLY_PLAN_FILE ".tmp", path, sizeof(path)) == 0)
		(void)unlink(path);
	if (state_path(dir, APPLY_BEFORE_FILE ".tmp", path, sizeof(path)) == 0)
		(void)unlink(path);
	if (state_path(dir, APPLY_PLAN_FILE, path, sizeof(path)) == 0)
		(void)unlink(path);
}

static int
state_exists(const char *dir, const char *name)
{
	char path[PATH_MAX];

	return state_path(dir, name, path, sizeof(path)) == 0 &&
	    access(path, F_OK) == 0;
}

/* mkdir -p for the last component only (its parent, /run, exists). */
static int
state_dir_make(const char *dir)
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
static int
state_lock(const char *dir, int *fd)
{
	char path[PATH_MAX];
	int lfd, r;

	if ((r = state_path(dir, APPLY_LOCK_FILE, path, sizeof(path))) != 0)
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

static int
plan_load(const char *dir, struct apply_plan **out, char *err,
    size_t errlen)
{
	char path[PATH_MAX], *text = NULL;
	size_t len;
	int r;

	if ((r = state_path(dir, APPLY_PLAN_FILE, path, sizeof(path))) != 0)
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

static int
plan_store(const char *dir, const struct apply_plan *p)
{
	char *text = NULL;
	int r;

	if ((r = apply_plan_encode(p, &text)) != 0)
		return r;
	r = state_write(dir, APPLY_PLAN_FILE, text);
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
		r = nft_run(text, NFT_RUN_TEXT, NULL, err, errlen);
	if ((r == 0 || (one && r == FTP_ERR_NOTFOUND)) &&
	    strcmp(json, "{\"nftables\":[]}") != 0)
		r = nft_run(json, NFT_RUN_JSON, NULL, err, errlen);
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

	if ((r = nft_listing(1, &listing, err, errlen)) != 0)
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

	if (state_path(dir, APPLY_BEFORE_FILE, path, sizeof(path)) != 0 ||
	    readfile_load(path, APPLY_LISTING_MAX, &before, &len) != 0)
		return -1;
	if (nft_listing(0, &now, NULL, 0) == 0)
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
static int
undo_dir(const char *dir, int *identical, char *err, size_t errlen)
{
	struct apply_plan *p = NULL;
	int r;

	if ((r = plan_load(dir, &p, err, errlen)) != 0)
		return r;
	if ((r = undo_resolve(&p, err, errlen)) != 0 ||
	    (r = undo_run(p, err, errlen)) != 0)
		goto out;
	if (identical != NULL)
		*identical = undo_compare(dir) == 1;
	state_remove(dir);
out:
	apply_plan_free(p);
	return r;
}

/* ---- the watchdog ---- */

static volatile sig_atomic_t wd_term;

static void
wd_term_handler(int sig)
{
	(void)sig;
	wd_term = 1;
}

/* The watchdog's own record (its stderr is /dev/null). */
__attribute__((format(printf, 2, 3))) static void
wd_log(const char *dir, const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;
	FILE *f;

	char when[32];
	struct tm tm;
	time_t now = time(NULL);

	if (state_path(dir, APPLY_LOG_FILE, path, sizeof(path)) != 0 ||
	    (f = fopen(path, "ae")) == NULL)
		return;
	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(when, sizeof(when), "%lld", (long long)now);
	fprintf(f, "%s watchdog %ld: ", when, (long)getpid());
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fclose(f);
}

static void
wd_send(int sock, const char *msg)
{
	(void)send(sock, msg, strlen(msg), MSG_NOSIGNAL);
}

/* Only the socket and the lock stay open; stdio on /dev/null, so that no
 * pipe of the applier's caller (a test harness, ssh) is held open. */
static void
wd_detach(int sock, int lockfd)
{
	unsigned lo = (unsigned)(sock < lockfd ? sock : lockfd);
	unsigned hi = (unsigned)(sock < lockfd ? lockfd : sock);
	struct sigaction sa;
	sigset_t all;
	int fd;

	if (lo > 3)
		(void)close_range(3, lo - 1, 0);
	if (hi > lo + 1)
		(void)close_range(lo + 1, hi - 1, 0);
	(void)close_range(hi + 1, ~0U, 0);
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		(void)dup2(fd, 0);
		(void)dup2(fd, 1);
		(void)dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	/* Not holding any mount busy; the state dir is an absolute path. */
	if (chdir("/") == -1)
		wd_log("/", "chdir: %s", strerror(errno));
	umask(077);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGHUP, &sa, NULL);
	(void)sigaction(SIGQUIT, &sa, NULL);
	(void)sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = wd_term_handler;	/* no SA_RESTART: poll wakes */
	(void)sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&all);
	(void)sigprocmask(SIG_SETMASK, &all, NULL);
}

/* Wait for the applier's byte: 'K', 'R', 'A', or 0 for end of file, a
 * timeout or SIGTERM (all three: roll back). */
static char
wd_wait(int sock, uint64_t deadline, const char **why)
{
	struct pollfd pfd = { .fd = sock, .events = POLLIN };
	uint64_t now;
	ssize_t n;
	char c;

	for (;;) {
		if (wd_term) {
			*why = "SIGTERM";
			return 0;
		}
		if ((now = clock_mono_ms()) >= deadline) {
			*why = "no confirmation in time";
			return 0;
		}
		if (poll(&pfd, 1, (int)(deadline - now)) == -1) {
			if (errno == EINTR)
				continue;
			*why = "poll failed";
			return 0;
		}
		if (pfd.revents == 0)
			continue;
		n = recv(sock, &c, 1, 0);
		if (n == 1 && (c == 'K' || c == 'R' || c == 'A')) {
			*why = c == 'R' ? "rollback asked for" : "";
			return c;
		}
		if (n == -1 && errno == EINTR)
			continue;
		*why = "the applier is gone";
		return 0;
	}
}

static void
wd_rollback(const char *dir, int sock, const char *why)
{
	char err[APPLY_REPLY_MAX - 32], msg[APPLY_REPLY_MAX];
	int identical = 0;

	err[0] = '\0';
	if (undo_dir(dir, &identical, err, sizeof(err)) == 0) {
		snprintf(msg, sizeof(msg), "rolled-back %s\n",
		    identical ? "identical" : "differs");
		wd_log(dir, "%s: rolled back", why);
	} else {
		snprintf(msg, sizeof(msg), "rollback-failed %s\n", err);
		wd_log(dir, "rollback failed: %s", err);
	}
	wd_send(sock, msg);
}

/* The watchdog's whole life; never returns. */
__attribute__((noreturn)) static void
wd_main(const char *dir, int sock, int lockfd, unsigned timeout_s)
{
	uint64_t deadline = clock_mono_ms() + (uint64_t)timeout_s * 1000;
	const char *why = "";
	char ready[64], c;

	wd_detach(sock, lockfd);
	snprintf(ready, sizeof(ready), "ready %ld\n", (long)getpid());
	wd_send(sock, ready);
	c = wd_wait(sock, deadline, &why);
	if (c == 'K') {
		state_remove(dir);
		wd_log(dir, "confirmed: kept");
		wd_send(sock, "kept\n");
	} else if (c == 'A') {
		state_remove(dir);
		wd_send(sock, "aborted\n");
	} else {
		wd_rollback(dir, sock, why);
	}
	_exit(0);
}

/* A line from the watchdog, waiting at most ms: 0, or FTP_ERR_SYSTEM with
 * EPIPE (it is gone) or ETIMEDOUT. */
static int
wd_read(int sock, int ms, char *buf, size_t len)
{
	struct pollfd pfd = { .fd = sock, .events = POLLIN };
	uint64_t end = clock_mono_ms() + (uint64_t)ms, now;
	size_t got = 0;
	ssize_t n;

	while (got + 1 < len) {
		if ((now = clock_mono_ms()) >= end) {
			errno = ETIMEDOUT;
			return FTP_ERR_SYSTEM;
		}
		if (poll(&pfd, 1, (int)(end - now)) <= 0)
			continue;
		if ((n = recv(sock, buf + got, 1, 0)) == 1) {
			if (buf[got] == '\n')
				break;
			got++;
		} else if (n == 0 || errno != EINTR) {
			errno = EPIPE;
			return FTP_ERR_SYSTEM;
		}
	}
	buf[got] = '\0';
	return 0;
}

/* Start the watchdog (double fork, see apply.h) and wait for it. */
static int
wd_spawn(struct apply *a, int lockfd, unsigned timeout_s)
{
	char line[64];
	pid_t pid, p2;
	int sv[2], st, r = FTP_ERR_SYSTEM;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		return FTP_ERR_SYSTEM;
	if ((pid = fork()) == -1)
		goto out;
	if (pid == 0) {
		close(sv[0]);
		if (setsid() == -1)
			_exit(1);
		if ((p2 = fork()) != 0)
			_exit(p2 == -1 ? 1 : 0);
		wd_main(a->dir, sv[1], lockfd, timeout_s);
	}
	close(sv[1]);
	sv[1] = -1;
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	if ((r = wd_read(sv[0], APPLY_READY_MS, line, sizeof(line))) != 0)
		goto out;
	if (strncmp(line, "ready ", 6) != 0) {
		errno = EPROTO;
		r = FTP_ERR_SYSTEM;
		goto out;
	}
	a->wpid = strtol(line + 6, NULL, 10);
	a->sock = sv[0];
	sv[0] = -1;
	r = 0;
out:
	if (sv[0] != -1)
		close(sv[0]);
	if (sv[1] != -1)
		close(sv[1]);
	return r;
}

/* Tell the watchdog c and read its decision into buf. */
static int
wd_order(struct apply *a, char c, int ms, char *buf, size_t len)
{
	a->decided = 1;
	/* It may have decided by itself already: its answer is waiting. */
	(void)send(a->sock, &c, 1, MSG_NOSIGNAL);
	return wd_read(a->sock, ms, buf, len);
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
	r = nft_run(batch, NFT_RUN_DRY, NULL, err, errlen);
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

	if ((r = nft_listing(0, &text, err, errlen)) != 0 ||
	    (r = nft_listing(1, &json, err, errlen)) != 0)
		goto out;
	if ((r = apply_plan_check_new(prov, json, err, errlen)) != 0)
		goto out;
	if ((r = apply_plan_watermarks(prov, json)) != 0 ||
	    (r = apply_plan_drop_existing(prov, json)) != 0) {
		ftp_errmsg(err, errlen, "cannot read the ruleset's handles");
		goto out;
	}
	if ((r = state_write(dir, APPLY_BEFORE_FILE, text)) != 0 ||
	    (r = plan_store(dir, prov)) != 0) {
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
	if ((r = nft_run(batch, NFT_RUN_JSON | NFT_RUN_ECHO, &echo, err,
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
	    (r = plan_store(a->dir, a->plan)) != 0)
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

	if ((r = state_dir_make(dir)) != 0) {
		ftp_errmsg(err, errlen, "%s: %s", dir, ftp_strerror(r));
		return r;
	}
	if ((r = state_lock(dir, lockfd)) != 0) {
		ftp_errmsg(err, errlen, r == FTP_ERR_DENIED ? "another apply "
		    "is waiting for its confirmation (%s)" : "%s", r ==
		    FTP_ERR_DENIED ? dir : ftp_strerror(r));
		return r;
	}
	if (state_exists(dir, APPLY_PLAN_FILE)) {
		ftp_errmsg(err, errlen, "a stale undo plan is in %s/%s: roll "
		    "it back first (apply --rollback-stale)", dir,
		    APPLY_PLAN_FILE);
		return FTP_ERR_DENIED;
	}
	r = nft_run(batch, NFT_RUN_DRY, NULL, err, errlen);
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
	if (state_dir_make(dir) != 0 || realpath(dir, a->dir) == NULL) {
		ftp_errmsg(err, errlen, "%s: %s", dir, strerror(errno));
		r = FTP_ERR_SYSTEM;
		goto out;
	}
	if ((r = load_prepare(a->dir, batch, &lockfd, err, errlen)) != 0)
		goto out;
	/* Under the lock and with no plan before it: what it wrote is ours
	 * (never a stale plan, which load_prepare refuses to go past). */
	if ((r = load_save(a->dir, prov, &before, err, errlen)) != 0) {
		state_remove(a->dir);
		goto out;
	}
	/* Before the watchdog's own: a prompt never outlasts it. */
	a->deadline = clock_mono_ms() + (uint64_t)timeout * 1000;
	if ((r = wd_spawn(a, lockfd, timeout)) != 0) {
		ftp_errmsg(err, errlen, "cannot start the watchdog: %s",
		    strerror(errno));
		state_remove(a->dir);
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
		r = wd_read(a->sock, (int)ms, line, sizeof(line));
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

	if (!state_exists(dir, APPLY_PLAN_FILE))
		return FTP_ERR_NOTFOUND;
	if ((r = state_lock(dir, &fd)) != 0)
		return r;
	r = out != NULL ? plan_load(dir, out, NULL, 0) : 0;
	close(fd);
	return r;
}

int
apply_rollback_stale(const char *state_dir, int *identical, char *err,
    size_t errlen)
{
	const char *dir = state_dir ? state_dir : APPLY_STATE_DIR;
	int r, fd = -1;

	if (!state_exists(dir, APPLY_PLAN_FILE)) {
		ftp_errmsg(err, errlen, "no undo plan in %s", dir);
		return FTP_ERR_NOTFOUND;
	}
	if ((r = state_lock(dir, &fd)) != 0) {
		ftp_errmsg(err, errlen, r == FTP_ERR_DENIED ? "a live watchdog "
		    "owns the plan in %s" : "%s", r == FTP_ERR_DENIED ? dir :
		    ftp_strerror(r));
		return r;
	}
	r = undo_dir(dir, identical, err, errlen);
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
