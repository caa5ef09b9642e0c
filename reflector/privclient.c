/*
 * privclient.c - the engine's end of the helper's socket (privclient.h).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "privclient.h"

/* How long the helper gets to clean up when the engine ends. */
#define PRIVCLIENT_REAP_MS	3000

static int privclient_sock = -1;
static int privclient_child = -1;

void
privclient_set(int fd, int pid)
{
	privclient_sock = fd;
	privclient_child = pid;
}

int
privclient_active(void)
{
	return privclient_sock != -1;
}

int
privclient_fd(void)
{
	return privclient_sock;
}

int
privclient_pid(void)
{
	return privclient_child;
}

static void
privclient_close_fds(int *fds, size_t n)
{
	while (n > 0)
		close(fds[--n]);
}

/* Descriptors attached to msg into fds; the ones beyond maxfds closed. */
static size_t
privclient_take_fds(struct msghdr *mh, int *fds, size_t maxfds)
{
	struct cmsghdr *c;
	size_t n = 0, i, k;

	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			if (n < maxfds)
				fds[n++] = fd;
			else
				close(fd);
		}
	}
	return n;
}

static int
privclient_recv(struct privmsg_rep *rep, int *fds, size_t maxfds,
    size_t *nfds)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * PRIVMSG_MAX_FDS)];
	} cm;
	struct iovec iov = { rep, sizeof(*rep) };
	struct msghdr mh;
	struct pollfd pfd = { privclient_sock, POLLIN, 0 };
	ssize_t n;
	int r;

	if ((r = poll(&pfd, 1, PRIVCLIENT_TIMEOUT_MS)) <= 0) {
		errno = r == 0 ? ETIMEDOUT : errno;
		return FTP_ERR_SYSTEM;
	}
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	do
		n = recvmsg(privclient_sock, &mh, MSG_CMSG_CLOEXEC);
	while (n == -1 && errno == EINTR);
	if (n <= 0) {
		errno = n == 0 ? EPIPE : errno;
		return FTP_ERR_SYSTEM;
	}
	*nfds = privclient_take_fds(&mh, fds, maxfds);
	if ((size_t)n != sizeof(*rep) || (mh.msg_flags & MSG_CTRUNC) ||
	    rep->nfds != *nfds) {
		privclient_close_fds(fds, *nfds);
		*nfds = 0;
		return FTP_ERR_PROTO;
	}
	rep->text[sizeof(rep->text) - 1] = '\0';
	return 0;
}

int
privclient_call(const struct privmsg_req *q, struct privmsg_rep *rep,
    int *fds, size_t maxfds, size_t *nfds)
{
	ssize_t n;

	*nfds = 0;
	if (privclient_sock == -1) {
		errno = EPIPE;
		return FTP_ERR_SYSTEM;
	}
	do
		n = send(privclient_sock, q, sizeof(*q), MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	if (n != (ssize_t)sizeof(*q))
		return FTP_ERR_SYSTEM;
	return privclient_recv(rep, fds, maxfds, nfds);
}

void
privclient_close(void)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	int i, status;

	if (privclient_sock == -1)
		return;
	close(privclient_sock);
	privclient_sock = -1;
	/* EOF is the helper's signal to remove what it made and exit. */
	for (i = 0; i < PRIVCLIENT_REAP_MS / 20; i++) {
		if (waitpid(privclient_child, &status, WNOHANG) ==
		    privclient_child)
			return;
		nanosleep(&ts, NULL);
	}
	log_warnx("privileged helper (pid %d) did not exit; killing it",
	    privclient_child);
	(void)kill(privclient_child, SIGKILL);
	(void)waitpid(privclient_child, &status, 0);
}
