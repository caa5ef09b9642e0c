/*
 * sdnotify.c - sd_notify(3) over $NOTIFY_SOCKET (see sdnotify.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "sdnotify.h"

#define SDNOTIFY_MAX	4096

/* $NOTIFY_SOCKET as a sockaddr_un; *len its length.  1 when unset. */
static int
sdnotify_addr(struct sockaddr_un *sun, socklen_t *len)
{
	const char *path = getenv("NOTIFY_SOCKET");
	size_t n;

	if (path == NULL || *path == '\0')
		return 1;
	n = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || n < 2 ||
	    n >= sizeof(sun->sun_path))
		return FTP_ERR_INVAL;
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, n);
	/* "@name": the abstract namespace, a leading NUL and no terminator
	 * (the length says where the name ends). */
	if (path[0] == '@') {
		sun->sun_path[0] = '\0';
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	} else
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
		    1);
	return 0;
}

/* A socket connected ahead of time (sdnotify_open), or -1. */
static int sdnotify_fd = -1;

int
sdnotify_open(void)
{
	struct sockaddr_un sun;
	socklen_t len;
	int fd, r, saved;

	if (sdnotify_fd != -1 || (r = sdnotify_addr(&sun, &len)) == 1)
		return 0;
	if (r != 0)
		return r;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return FTP_ERR_SYSTEM;
	if (connect(fd, (struct sockaddr *)&sun, len) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return FTP_ERR_SYSTEM;
	}
	sdnotify_fd = fd;
	return 0;
}

int
sdnotify(const char *state)
{
	struct sockaddr_un sun;
	socklen_t len;
	ssize_t n;
	int fd, r, saved;

	if ((r = sdnotify_addr(&sun, &len)) != 0)
		return r;
	if (state == NULL)
		return FTP_ERR_INVAL;
	if (sdnotify_fd != -1) {
		n = send(sdnotify_fd, state, strlen(state), MSG_NOSIGNAL);
		return n == (ssize_t)strlen(state) ? 0 : FTP_ERR_SYSTEM;
	}
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return FTP_ERR_SYSTEM;
	n = sendto(fd, state, strlen(state), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, len);
	saved = errno;
	close(fd);
	errno = saved;
	if (n < 0)
		return FTP_ERR_SYSTEM;
	return (size_t)n == strlen(state) ? 0 : FTP_ERR_SYSTEM;
}

int
sdnotifyf(const char *fmt, ...)
{
	char buf[SDNOTIFY_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return FTP_ERR_TOOBIG;
	return sdnotify(buf);
}

int
sdnotify_reloading(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return FTP_ERR_SYSTEM;
	return sdnotifyf("RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000ULL);
}
