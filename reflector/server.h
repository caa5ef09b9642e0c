/*
 * server.h - the reflector's TLS control listener and its sessions.
 *
 * Listens on cfg->listen ("[::]:7021" covers IPv4 and IPv6 through
 * IPV6_V6ONLY=0), completes a mutually authenticated TLS 1.3 handshake per
 * agent and hands the connection to a session (session.h).  Beyond
 * cfg->max_sessions authenticated sessions an agent is answered "error"
 * code "too-many-sessions" and disconnected.  Connections that have not
 * finished the handshake have their own budget (cfg->max_handshakes, of
 * which cfg->max_handshakes_per_source from one address; beyond it a new
 * connection is closed at once, or, when all slots are taken, the oldest
 * handshake of the busiest source makes room for a less busy one) and
 * never take a session slot.  The server owns every session and the probe port
 * registry (portreg.h) through which sessions share listening ports;
 * server_free() ends them all (closing their listeners and connect-backs).
 */
#ifndef FTPATH_SERVER_H
#define FTPATH_SERVER_H

#include <stdio.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "config.h"

struct server;

/* cfg and ctx must outlive the server.  NULL on allocation failure. */
struct server *server_new(struct event_base *base,
    const struct reflector_config *cfg, SSL_CTX *ctx);
void server_free(struct server *srv);

/*
 * The control channel's socket, bound to cfg->listen into *fd: before
 * the process gives up its privileges (the port may be below 1024).
 * Returns 0, or FTP_ERR_CONFIG (bad address) / FTP_ERR_SYSTEM (errno
 * set) with a reason in err.
 */
int server_bind(const struct reflector_config *cfg, int *fd, char *err,
    size_t errlen);
/* Listen on fd (server_bind's, taken either way) and accept agents. */
int server_start(struct server *srv, int fd, char *err, size_t errlen);

/* The TLS context for connections accepted from now on (a reload);
 * sessions in flight keep the one they were made with.  ctx must
 * outlive the server or the next server_set_ctx(). */
void server_set_ctx(struct server *srv, SSL_CTX *ctx);

/* Number of live sessions (including ones still in the handshake). */
unsigned server_nsessions(const struct server *srv);

/* metrics_listen (rstats_render's extra): the handshakes in progress, in
 * all and for the SERVER_METRICS_PEERS busiest source addresses; arg is
 * the server. */
#define SERVER_METRICS_PEERS	16
void server_metrics(FILE *fp, void *arg);

#endif
