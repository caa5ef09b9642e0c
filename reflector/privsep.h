/*
 * privsep.h - the reflector as two processes: a privileged helper and an
 * unprivileged engine, as OpenSSH's monitor and chrony's privops are.
 *
 * privsep_start() forks the helper right after the configuration, the
 * certificate and the key were loaded.  The helper keeps only
 * CAP_NET_ADMIN and CAP_NET_BIND_SERVICE (and, started as root, becomes
 * the configured user); it owns the shared nftables table (its socket is
 * the table's owner), the divert policy routes, and makes the
 * transparent listeners, the sockets of ports below 1024 and the trace
 * socket.  It serves the fixed request table of privmsg.h over a
 * SOCK_SEQPACKET socketpair, checking each request against the
 * configuration it read itself.  The engine (TLS, sessions, agent JSON,
 * the event loop) then drops every capability, and when root becomes
 * the user too, with no_new_privs.
 *
 * The engine's end closing (exit, crash, kill -9) makes the helper remove
 * the table and the routes it made, and exit.  The helper's end closing
 * makes the engine stop (privsep_watch()).
 *
 * Not separated: a process with neither capability nor root (nothing to
 * separate), and allow_apply = yes (the apply loader needs CAP_NET_ADMIN
 * in the process that derived the fixes; said in the log).
 */
#ifndef FTPATH_PRIVSEP_H
#define FTPATH_PRIVSEP_H

#include <stddef.h>
#include <event2/event.h>

#include "config.h"

/*
 * Fork the helper and drop the engine's privileges (cfg->user when
 * root).  0: separated, or nothing to separate (*separated 0); else
 * FTP_ERR_* with the reason in why, and the reflector must not start.
 */
int privsep_start(const struct reflector_config *cfg, int *separated,
    char *why, size_t whylen);
/*
 * What privsep_start() would refuse before forking, for -n: a user that
 * does not exist when root would become it.  0 or FTP_ERR_* with why.
 */
int privsep_check(const struct reflector_config *cfg, char *why,
    size_t whylen);
/* Stop base's loop when the helper goes away.  0 or FTP_ERR_NOMEM. */
int privsep_watch(struct event_base *base);
/* At exit, after everything that asked the helper: close and reap. */
void privsep_stop(void);

#endif
