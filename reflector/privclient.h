/*
 * privclient.h - the engine's end of the privileged helper's socket
 * (privsep.h): one request, one reply, synchronous.
 *
 * The helper answers in microseconds (a bind, a netlink transaction), so
 * a call blocks the engine's loop no longer than doing it itself did; a
 * helper that does not answer within PRIVCLIENT_TIMEOUT_MS is taken for
 * dead.  Until privclient_set() is called (no separation: a process
 * without privileges, or allow_apply) privclient_active() is 0 and
 * privops.h does everything in-process.
 */
#ifndef FTPATH_PRIVCLIENT_H
#define FTPATH_PRIVCLIENT_H

#include <stddef.h>

#include "privmsg.h"

#define PRIVCLIENT_TIMEOUT_MS	10000

/* From now on requests go over fd (owned here), the helper's pid. */
void privclient_set(int fd, int pid);
int privclient_active(void);
int privclient_fd(void);
int privclient_pid(void);
/*
 * Send q, wait for the reply into *rep and up to maxfds descriptors into
 * fds (*nfds of them, the caller's).  0 with rep->result the helper's
 * answer, or FTP_ERR_SYSTEM (errno: EPIPE when the helper is gone,
 * ETIMEDOUT) / FTP_ERR_PROTO for a malformed reply.
 */
int privclient_call(const struct privmsg_req *q, struct privmsg_rep *rep,
    int *fds, size_t maxfds, size_t *nfds);
/* Close the socket (the helper cleans up and exits) and reap it,
 * waiting a bounded time.  No-op when not active. */
void privclient_close(void);

#endif
