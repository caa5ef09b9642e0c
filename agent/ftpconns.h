/*
 * ftpconns.h - the FTP server's connection limit as clients meet it.
 *
 * GUI clients open 2-4 control connections at once for parallel
 * transfers; a per-address or total limit (vsftpd max_per_ip and
 * max_clients, proftpd MaxClientsPerHost, pure-ftpd -C) answers the
 * extra ones with 421.  ftpconns_run() opens n control connections at
 * the same time, waits for every banner (or failure), holds them all
 * open until then, and closes them with QUIT.
 *
 * Runs on the caller's event_base; every wait is bounded by timeout_ms.
 */
#ifndef FTPATH_AGENT_FTPCONNS_H
#define FTPATH_AGENT_FTPCONNS_H

#include <sys/socket.h>
#include <event2/event.h>

#include "ftpcheck.h"

#define FTPCONNS_MAX	16

/*
 * server: address and control port.  0 with *out filled (out->tried
 * says how many were opened), or FTP_ERR_NOMEM / FTP_ERR_INVAL.
 */
int ftpconns_run(struct event_base *base, const struct sockaddr *server,
    unsigned n, unsigned timeout_ms, struct ftpcheck_conns *out);

#endif
