/*
 * apply_watchdog.c - the process that decides a loaded patch's fate
 * (apply_int.h; its design is in apply.h): started by a double fork,
 * detached, it waits for the applier's byte or the deadline and keeps
 * the patch, or rolls it back with the undo.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "apply_int.h"
#include "clock.h"
#include "err.h"

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

	if (apply_state_path(dir, APPLY_LOG_FILE, path, sizeof(path)) != 0 ||
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
	if (apply_undo_dir(dir, &identical, err, sizeof(err)) == 0) {
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
		apply_state_remove(dir);
		wd_log(dir, "confirmed: kept");
		wd_send(sock, "kept\n");
	} else if (c == 'A') {
		apply_state_remove(dir);
		wd_send(sock, "aborted\n");
	} else {
		wd_rollback(dir, sock, why);
	}
	_exit(0);
}

int
apply_watchdog_read(int sock, int ms, char *buf, size_t len)
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

int
apply_watchdog_spawn(const char *dir, int lockfd, unsigned timeout_s,
    int *sock, long *wpid)
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
		wd_main(dir, sv[1], lockfd, timeout_s);
	}
	close(sv[1]);
	sv[1] = -1;
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	if ((r = apply_watchdog_read(sv[0], APPLY_READY_MS, line,
	    sizeof(line))) != 0)
		goto out;
	if (strncmp(line, "ready ", 6) != 0) {
		errno = EPROTO;
		r = FTP_ERR_SYSTEM;
		goto out;
	}
	*wpid = strtol(line + 6, NULL, 10);
	*sock = sv[0];
	sv[0] = -1;
	r = 0;
out:
	if (sv[0] != -1)
		close(sv[0]);
	if (sv[1] != -1)
		close(sv[1]);
	return r;
}
