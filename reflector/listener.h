/*
 * listener.h - the probe listeners of one session (control port and
 * passive range).
 *
 * After a plan passed listener_policy_check(), listener_set_open() takes
 * a reference on every port on the reflector's local address that the
 * agent reached, in the process-wide port registry (portreg.h): the first
 * session binds the socket (through privops, as ports like 21 are
 * privileged), later ones share it.  Each accepted connection must send
 * "FTPATH/1 <token> <probe-id>\r\n" within 128 bytes and the probe
 * timeout; the registry hands a line with this set's token to this set,
 * which records it as an arrival (answered "FTPATH/1 OK <probe-id>\r\n").
 * A connection that carries no token of any session on the port counts
 * as foreign for each of them.  listener_set_free() drops the references;
 * the registry closes a socket with its last reference.
 */
#ifndef FTPATH_LISTENER_H
#define FTPATH_LISTENER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "addr.h"
#include "config.h"
#include "portreg.h"
#include "proto.h"

enum listener_state {
	LISTENER_LISTENING,	/* ftpath listens (maybe shared with others) */
	LISTENER_IN_USE,	/* EADDRINUSE: another process owns the port */
	LISTENER_ERROR,		/* bind/listen failed otherwise (see err) */
	LISTENER_DIVERTED,	/* the agent's connections are diverted to
				 * ftpath (tproxy); nothing else listens */
	LISTENER_DIVERTED_IN_USE, /* the same, and a service (the FTP
				 * server) listens on the port: it keeps
				 * serving everyone else */
};

/* "listening", "in-use", "error", "diverted", "diverted-in-use" as in
 * PROTOCOL.md. */
const char *listener_state_name(enum listener_state st);

struct listener_arrival {
	char probe[PROTO_PROBE_LINE_MAX];	/* probe id as sent */
	struct sockaddr_storage peer;		/* unmapped */
	struct sockaddr_storage local;		/* unmapped */
	uint64_t ms;				/* since the set was armed */
};

/*
 * Check a plan against the configuration: every port (control_port and,
 * when passive is not NULL, its range) must be in cfg->allowed and the
 * number of distinct ports must not exceed cfg->max_ports_per_session.
 * Returns 0, or FTP_ERR_DENIED with *code set to "port-not-allowed" or
 * "too-many-ports" and a reason in msg.
 */
int listener_policy_check(const struct reflector_config *cfg,
    uint16_t control_port, const struct portrange *passive,
    const char **code, char *msg, size_t msglen);

struct listener_set;

/*
 * A set that will listen on local's address (port ignored; an IPv4-mapped
 * address is unmapped) through reg, which must outlive the set.  token
 * (PROTO_TOKEN_HEXLEN hex chars) is copied.  probe_timeout_ms bounds the
 * wait for a probe line (the registry bounds the connections held open
 * at once).  NULL on allocation failure.
 */
struct listener_set *listener_set_new(struct portreg *reg,
    const struct sockaddr *local, const char *token,
    unsigned probe_timeout_ms);
void listener_set_free(struct listener_set *ls);

/*
 * The addresses the session's probes come from: the agent's observed
 * address and the ones its plan named (at most LISTENER_MAX_PEERS,
 * copied, unmapped).  A connection to one of the set's ports from any
 * other address is closed at accept and counted as foreign (portreg.h).
 * Before listener_set_open/divert; not called: any address.  0, or
 * FTP_ERR_INVAL (n out of range, already opened), FTP_ERR_NOMEM.
 */
#define LISTENER_MAX_PEERS	65
int listener_set_peers(struct listener_set *ls,
    const struct sockaddr_storage *peers, size_t n);

/*
 * Listen on control_port and every port of passive (may be NULL), in that
 * order, each port once.  A port that cannot be bound is not an error of
 * the call: its state says why.  Starts the arrival clock.  Returns 0, or
 * FTP_ERR_NOMEM / FTP_ERR_INVAL (called twice).
 */
int listener_set_open(struct listener_set *ls, uint16_t control_port,
    const struct portrange *passive);

/*
 * Instead of listening on the ports, take the process's transparent
 * listener (portreg_acquire_transparent: loopback, IP_TRANSPARENT, with
 * its policy route) for them: every port is then "diverted", and *to is
 * the address a tproxy rule must send the agent's connections to.  The
 * ports themselves are never bound, so an FTP server that owns them (or
 * binds a passive port meanwhile) is not disturbed.  Returns 0, or
 * FTP_ERR_SYSTEM (errno set: EPERM without CAP_NET_ADMIN), FTP_ERR_NOMEM,
 * FTP_ERR_INVAL (already opened).  On failure the set is unchanged.
 */
int listener_set_divert(struct listener_set *ls, uint16_t control_port,
    const struct portrange *passive, struct sockaddr_storage *to);

/*
 * After recording an arrival, offer its connection to take (the ALG
 * dialogue, algsrv.h): take returns 1 when it took fd (then acks and
 * closes it itself), 0 to leave it to the registry.  Optional.
 */
void listener_set_take(struct listener_set *ls,
    int (*take)(void *arg, int fd, const char *probe), void *arg);

/* Ports in the order they were opened, with their state and errno. */
size_t listener_set_nports(const struct listener_set *ls);
void listener_set_port(const struct listener_set *ls, size_t i,
    uint16_t *port, enum listener_state *state, int *err);

/* Arrivals with this session's token, in arrival order. */
size_t listener_set_narrivals(const struct listener_set *ls);
const struct listener_arrival *listener_set_arrival(
    const struct listener_set *ls, size_t i);
/* Connections on the set's ports that carried no token of a session
 * on the port, and those from the set's peers still held open without a
 * line (see portreg.h): asked for when the agent's probes are done. */
unsigned listener_set_foreign(const struct listener_set *ls);

#endif
