/*
 * privops.c - privileged socket operations (see privops.h).
 *
 * Today these run in-process; the narrow signatures are the seam for a
 * later privileged helper that passes the fd back over SCM_RIGHTS.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "err.h"
#include "errq.h"
#include "privops.h"

static int
privops_socket(const struct sockaddr *addr, int transparent, int *fd)
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
	if (transparent && (addr->sa_family == AF_INET ?
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
privops_listen_socket(const struct sockaddr *addr, int transparent,
    int backlog, int *fd)
{
	int s, r, saved;

	if ((r = privops_socket(addr, transparent, &s)) != 0)
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
    int *fd)
{
	return privops_listen_socket(addr, 1, backlog, fd);
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
