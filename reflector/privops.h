/*
 * privops.h - the reflector's privileged socket operations.
 *
 * Binding ports below 1024 (21, 20) needs CAP_NET_BIND_SERVICE.  Every
 * such operation goes through this fixed request set so that it can later
 * move into a privileged helper process (as chrony's privops.c or
 * OpenSSH's monitor do) while the code that parses agent input runs with
 * no capabilities.  The helper must re-validate each request against the
 * configuration; the functions here take only addresses and ports, never
 * agent-supplied text.
 */
#ifndef FTPATH_PRIVOPS_H
#define FTPATH_PRIVOPS_H

#include <stddef.h>
#include <sys/socket.h>

/*
 * A non-blocking TCP listening socket bound to addr (address and port
 * taken from addr), SO_REUSEADDR set.  Returns 0 with *fd, or
 * FTP_ERR_SYSTEM with errno preserved (EADDRINUSE: another socket owns the
 * port).
 */
int privops_listen(const struct sockaddr *addr, int backlog, int *fd);

/*
 * nfds non-blocking TCP listening sockets bound to addr with
 * IP_TRANSPARENT (IPV6_TRANSPARENT), which needs CAP_NET_ADMIN: a tproxy
 * rule may then hand them connections addressed to other local ports
 * (the FTP server's) while they keep their original destination.  They
 * form one SO_REUSEPORT group on one port (port 0 picks a free one):
 * the kernel spreads connections over them by their addresses, so the
 * group queues nfds times the accept backlog the kernel allows one
 * socket (net.core.somaxconn).  Returns 0 with fds[0..nfds-1], or
 * FTP_ERR_SYSTEM with errno preserved and nothing open.
 */
int privops_listen_transparent(const struct sockaddr *addr, int backlog,
    int *fds, size_t nfds);
/*
 * A non-blocking TCP socket bound to local (address and port, e.g. port
 * 20), SO_REUSEADDR and IP(V6)_RECVERR set, ready for connect().  Returns
 * 0 with *fd, or FTP_ERR_SYSTEM with errno preserved.
 */
int privops_bound_socket(const struct sockaddr *local, int *fd);

#endif
