/*
 * privops.c - privileged socket operations (see privops.h).
 *
 * Today these run in-process; the narrow signatures are the seam for a
 * later privileged helper that passes the fd back over SCM_RIGHTS.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "err.h"
#include "errq.h"
#include "privops.h"

/* Socket options of privops_socket(). */
#define PRIVOPS_TRANSPARENT	0x1
#define PRIVOPS_REUSEPORT	0x2

static int
privops_socket(const struct sockaddr *addr, int flags, int *fd)
{
	int s, on = 1, saved;

	if (addr->sa_family != AF_INET && addr->sa_family != AF_INET6) {
		errno = EAFNOSUPPORT;
		return FTP_ERR_SYSTEM;
	}
	s = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    IPPROTO_TCP);
	if (s == -1)
		return FTP_ERR_SYSTEM;
	if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1)
		goto fail;
	/* Bound to one concrete address, so v6-only is what we mean. */
	if (addr->sa_family == AF_INET6 && setsockopt(s, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) == -1)
		goto fail;
	if ((flags & PRIVOPS_REUSEPORT) && setsockopt(s, SOL_SOCKET,
	    SO_REUSEPORT, &on, sizeof(on)) == -1)
		goto fail;
	if ((flags & PRIVOPS_TRANSPARENT) && (addr->sa_family == AF_INET ?
	    setsockopt(s, SOL_IP, IP_TRANSPARENT, &on, sizeof(on)) :
	    setsockopt(s, SOL_IPV6, IPV6_TRANSPARENT, &on, sizeof(on))) == -1)
		goto fail;
	if (bind(s, addr, addr_len(addr)) == -1)
		goto fail;
	*fd = s;
	return 0;
fail:
	saved = errno;
	close(s);
	errno = saved;
	return FTP_ERR_SYSTEM;
}

static int
privops_listen_socket(const struct sockaddr *addr, int flags, int backlog,
    int *fd)
{
	int s, r, saved;

	if ((r = privops_socket(addr, flags, &s)) != 0)
		return r;
	if (listen(s, backlog) == -1) {
		saved = errno;
		close(s);
		errno = saved;
		return FTP_ERR_SYSTEM;
	}
	*fd = s;
	return 0;
}

int
privops_listen(const struct sockaddr *addr, int backlog, int *fd)
{
	return privops_listen_socket(addr, 0, backlog, fd);
}

int
privops_listen_transparent(const struct sockaddr *addr, int backlog,
    int *fds, size_t nfds)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	size_t i;
	int r, saved;

	if (nfds == 0 || addr_len(addr) > sizeof(ss)) {
		errno = EINVAL;
		return FTP_ERR_SYSTEM;
	}
	memcpy(&ss, addr, addr_len(addr));
	for (i = 0; i < nfds; i++) {
		if ((r = privops_listen_socket((struct sockaddr *)&ss,
		    PRIVOPS_TRANSPARENT | PRIVOPS_REUSEPORT, backlog,
		    &fds[i])) != 0)
			goto fail;
		/* The first picked the port (0 asks for one); the rest of
		 * the group joins it there. */
		if (i == 0 && getsockname(fds[0], (struct sockaddr *)&ss,
		    &sl) == -1) {
			i++;
			r = FTP_ERR_SYSTEM;
			goto fail;
		}
	}
	return 0;
fail:
	saved = errno;
	while (i > 0)
		close(fds[--i]);
	errno = saved;
	return r;
}

int
privops_bound_socket(const struct sockaddr *local, int *fd)
{
	int s, r, saved;

	if ((r = privops_socket(local, 0, &s)) != 0)
		return r;
	if (errq_enable(s, local->sa_family) != 0) {
		saved = errno;
		close(s);
		errno = saved;
		return FTP_ERR_SYSTEM;
	}
	*fd = s;
	return 0;
}
