/*
 * active.h - the agent's side of the active-mode test: a listener for the
 * reflector's connect-back from source port 20 (PROTOCOL.md, `active`).
 *
 * The listener accepts only connections whose probe line carries this
 * session's token and the probe id "active-<source port>"; anything else is
 * counted as foreign and dropped (another host, a scanner, an old session).
 * The reflector's `active-result` and the listener's own record are then
 * combined into one struct probe_obs of kind PROBE_ACTIVE.
 */
#ifndef FTPATH_AGENT_ACTIVE_H
#define FTPATH_AGENT_ACTIVE_H

#include <stdint.h>
#include <event2/event.h>
#include <jansson.h>

#include "verdict.h"

struct active;

/* token is copied; timeout_ms bounds how long one accepted connection may
 * take to send its probe line.  NULL on ENOMEM. */
struct active *active_new(struct event_base *base, const char *token,
    uint16_t source_port, unsigned timeout_ms);
void active_free(struct active *a);

/* Accept probe_id instead of "active-<source port>" (the ALG's
 * connect-back, alg.h).  0 or FTP_ERR_INVAL (too long). */
int active_set_probe_id(struct active *a, const char *probe_id);

/* Listen on local's address (its port is ignored) at port, 0 = ephemeral.
 * 0 or FTP_ERR_SYSTEM (errno kept). */
int active_listen(struct active *a, const struct sockaddr *local,
    uint16_t port);
/* The port actually listened on (after active_listen). */
uint16_t active_port(const struct active *a);

/* 1 once our reflector's connect-back arrived with the right token. */
int active_arrived(const struct active *a);
/* Connections refused for a wrong token or probe id. */
unsigned active_foreign(const struct active *a);

/* Take the reflector's `active-result` message into the observation.
 * 0 or FTP_ERR_PROTO for a malformed result. */
int active_set_result(struct active *a, const json_t *msg);

/* The combined observation (outcome OUTCOME_NOT_RUN if no result came). */
void active_obs(const struct active *a, struct probe_obs *o);

/* errno value for a name such as "ECONNREFUSED"; 0 if unknown. */
int active_errno_from_name(const char *name);

#endif
