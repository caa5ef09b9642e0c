/*
 * portreg.h - the reflector's process-wide registry of probe ports.
 *
 * Two sessions may test the same ports at once (two agents behind one
 * FTP server, two engineers).  A port can only be bound once, so the
 * listening sockets belong to the process, not to a session: one socket
 * per (local address, port), shared by every session that armed it and
 * counted by references.  An accepted connection is read here until its
 * probe line is complete, then handed to the session whose token it
 * carries.  A connection that carries no token of a session referencing
 * its port (garbage, too long, too slow, closed early, an unknown or
 * stale token) is foreign: it is counted by the registry and reported to
 * every session referencing the port, as it reached each of them.
 *
 * A connection from an address that none of the port's owners expects
 * (portreg_owner.peers: the agent's observed address and the addresses
 * its plan named) carries none of their probes: it is closed as soon as
 * it is accepted and counted as foreign.  A probe line that is already
 * there when its connection is accepted (an agent sends it at once) is
 * read then; only a connection still silent is held, with the most
 * patient wait of the port's owners.  At max_conns held connections the
 * oldest one is closed (foreign) to make room: a flood of silent
 * connections, even from an agent's own address (a NAT in front of it),
 * costs the reflector max_conns sockets and never stops it accepting, so
 * it cannot turn a probe into a false failure.
 */
#ifndef FTPATH_PORTREG_H
#define FTPATH_PORTREG_H

#include <stdint.h>
#include <sys/socket.h>
#include <event2/event.h>

struct portreg;
struct portreg_ref;

#define PORTREG_ARRIVAL_TAKEN	1

struct portreg_owner {
	/* A probe line with the owner's token arrived on fd (still open,
	 * closed by the registry after the ack); probe is the probe id.
	 * Return 0 to have the registry send the ack, or
	 * PORTREG_ARRIVAL_TAKEN when the owner took fd (it acks and closes
	 * it itself: the ALG dialogue goes on on the connection). */
	int (*arrival)(void *arg, int fd, const char *probe);
	/* A foreign connection on one of the owner's ports. */
	void (*foreign)(void *arg);
	void *arg;
	const char *token;	/* PROTO_TOKEN_HEXLEN hex chars, owner's */
	unsigned line_wait_ms;	/* how long a probe line may take */
	/* The addresses the owner's probes come from (unmapped; ports
	 * ignored), valid as long as the reference: a connection from any
	 * other address is none of the owner's.  npeers 0: any address. */
	const struct sockaddr_storage *peers;
	size_t npeers;
};

/* NULL on allocation failure.  base must outlive the registry. */
struct portreg *portreg_new(struct event_base *base, unsigned max_conns);
/* Every reference must have been released. */
void portreg_free(struct portreg *reg);

/*
 * Reference the listening socket on local's address (unmapped; its port
 * ignored) and port, binding it through privops when no session holds
 * it yet.  owner is copied; owner->token and owner->arg must stay valid
 * until the reference is released.  Returns 0 with *ref, or
 * FTP_ERR_SYSTEM with errno set (EADDRINUSE: another process owns the
 * port) or FTP_ERR_NOMEM.  *shared is set when the socket already existed.
 */
int portreg_acquire(struct portreg *reg, const struct sockaddr *local,
    uint16_t port, const struct portreg_owner *owner,
    struct portreg_ref **ref, int *shared);

/*
 * Reference the process's transparent listener of family (AF_INET or
 * AF_INET6), creating it on first use: IP_TRANSPARENT, bound to the
 * loopback address on a free port, for a tproxy rule to divert probe
 * connections to (their local address stays the one they were sent to,
 * so the probe port is still known).  Lines are handed to owners by
 * token exactly as on a port.  *to gets the listener's address and port
 * (the tproxy target).  Returns 0, or FTP_ERR_SYSTEM with errno set
 * (EPERM: no CAP_NET_ADMIN) or FTP_ERR_NOMEM.
 */
int portreg_acquire_transparent(struct portreg *reg, int family,
    const struct portreg_owner *owner, struct portreg_ref **ref,
    struct sockaddr_storage *to);
/*
 * Drop a reference (NULL is ignored).  The owner's callbacks are not
 * called afterwards.  The last reference of a port closes its socket and
 * the probe connections still being read on it.
 */
void portreg_release(struct portreg *reg, struct portreg_ref *ref);

/* Listening sockets open (for tests and logs). */
size_t portreg_nports(const struct portreg *reg);
/* Foreign connections since start, for the whole process. */
unsigned long portreg_foreign(const struct portreg *reg);
/*
 * Connections held open on the ports of the owner whose arg is owner_arg,
 * from an address it expects, that have not sent a line (yet).  Once the
 * owner's own probes are done, these are not its: a flood from behind
 * its NAT that the connection cap has not closed so far.
 */
unsigned portreg_held(const struct portreg *reg, const void *owner_arg);

#endif
