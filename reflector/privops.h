/*
 * privops.h - the reflector's privileged operations.
 *
 * Binding ports below 1024 (21, 20) needs CAP_NET_BIND_SERVICE; the
 * transparent listener, the divert policy route, the shared nftables
 * table and its trace need CAP_NET_ADMIN.  Every such operation goes
 * through this fixed set.  When the reflector separated (privsep.h) each
 * call is a request to the privileged helper, which checks it against
 * the configuration (privmsg.h) and passes sockets back with SCM_RIGHTS,
 * while the code that parses agent input runs with no capabilities;
 * otherwise it is done in-process.  The functions take addresses, ports
 * and set elements, never agent-supplied text.
 */
#ifndef FTPATH_PRIVOPS_H
#define FTPATH_PRIVOPS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "privmsg.h"

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

/* Add (add != 0) or remove the divert policy route of family. */
int privops_route(int add, int family);
/* A socket subscribed to the nftables trace group (fw_trace.h), with a
 * receive buffer of rcvbuf bytes (0: the default). */
int privops_trace_socket(int *fd, int rcvbuf);
/* Create (add, with the connect-back trace of active_port, 0: none) or
 * delete the shared table (fw_shared.h), owned by the doer's socket. */
int privops_table(int add, uint16_t active_port);
/* The tproxy rule of to's family: divert to to (loopback:port). */
int privops_tproxy_rule(const struct sockaddr *to, uint32_t mark);
/* One transaction of set elements of peer (privmsg.h ops). */
int privops_elems(const struct sockaddr *peer, const struct privmsg_op *ops,
    size_t nops, uint64_t timeout_ms);
/* fw_text.h's fw_rule_facts(), done where it may be. */
int privops_rule_facts(int family, const char *table, const char *chain,
    int has_handle, uint64_t handle, char **text, int *related);
/* patch.h's patch_verify() by the helper (its delegate in the engine). */
int privops_verify_patch(const char *text, char *err, size_t errlen);
/* fw.h's fw_cleanup_stale(), done where it may be. */
int privops_cleanup_stale(unsigned *removed);

/*
 * The helper's side: do the request q that privmsg_check() passed, here;
 * rep's text/related/count filled, *nfds descriptors into fds (at most
 * PRIVMSG_MAX_FDS, the caller sends and closes them).  0 or FTP_ERR_*.
 */
int privops_serve(const struct privmsg_req *q, struct privmsg_rep *rep,
    int *fds, size_t *nfds);

#endif
