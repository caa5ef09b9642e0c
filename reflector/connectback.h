/*
 * connectback.h - the active-mode test: the reflector connects from its
 * active source port (20) back to the agent, as an FTP server does for
 * PORT/EPRT.
 *
 * Anti-bounce: the caller passes the agent's *observed* address (from the
 * control connection); nothing here takes an address from agent input.
 * The connection carries the probe line "FTPATH/1 <token> active-<source
 * port>" (active-20 by default) and
 * succeeds only when the agent answers with the matching ack.  Failure is
 * described by an errno and, when one arrived, the ICMP error read from
 * the socket's error queue.
 */
#ifndef FTPATH_CONNECTBACK_H
#define FTPATH_CONNECTBACK_H

#include <stdint.h>
#include <sys/socket.h>
#include <event2/event.h>

#include <jansson.h>

#include "errq.h"

/* Probe id of the connect-back: this prefix and the source port
 * (PROTOCOL.md), the id the agent expects from welcome's
 * active_source_port. */
#define CONNECTBACK_PROBE_PREFIX	"active-"

struct connectback_result {
	int ok;				/* connected and acked */
	struct sockaddr_storage local;	/* our address:port; AF_UNSPEC if unknown */
	struct sockaddr_storage remote;	/* observed address:agent port */
	uint64_t ms;			/* start to completion */
	int err;			/* errno (0 when ok) */
	struct errq_icmp icmp;		/* icmp.present == 0: none */
};

struct connectback;

/*
 * Prepare a connect-back from local's address (unmapped) port source_port
 * to observed's address (unmapped) port port.  token is copied.  done is
 * called exactly once from the event loop (never from connectback_start)
 * unless the object is freed first.  NULL on allocation failure.
 */
struct connectback *connectback_new(struct event_base *base,
    const struct sockaddr *local, uint16_t source_port,
    const struct sockaddr *observed, uint16_t port, const char *token,
    unsigned timeout_ms,
    void (*done)(const struct connectback_result *res, void *arg),
    void *arg);

/*
 * The port policy of every connect-back (active and alg-active alike):
 * the agent's port must be at least min_port (connectback_min_port).
 * NULL when it may be dialled, else the reason, written into why.
 */
const char *connectback_port_refused(uint16_t port, uint16_t min_port,
    char *why, size_t len);

/* Carry probe_id (PROTOCOL.md probe ids) instead of active-<source port>;
 * before connectback_start().  0 or FTP_ERR_INVAL. */
int connectback_set_probe(struct connectback *cb, const char *probe_id);

/* Start the attempt.  0, or FTP_ERR_NOMEM / FTP_ERR_INVAL (started). */
int connectback_start(struct connectback *cb);

/* Cancel (if still running) and free.  NULL is a no-op. */
void connectback_free(struct connectback *cb);

/* The result's fields as `active-result` carries them (ok, local, remote,
 * ms, error, icmp) in a new message of the given type; NULL on ENOMEM. */
json_t *connectback_result_msg(const char *type,
    const struct connectback_result *res);

/* Symbolic errno name ("ECONNREFUSED", "ETIMEDOUT", ...) as PROTOCOL.md
 * wants in active-result.error; "EUNKNOWN" for values not in the table. */
const char *connectback_errno_name(int err);

#endif
