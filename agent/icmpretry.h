/*
 * icmpretry.h - tell ICMP rate limiting from silent drops.
 *
 * Routers rate-limit the ICMP errors they send (Linux: a burst of 6,
 * then one a second per destination), so when a whole passive range is
 * unreachable only the first few probes get ICMP and the rest time out
 * silently.  Calling those "path-silent-drop" would be a wrong claim.
 * When one pass holds both ICMP-answered and silent probes of a kind,
 * one silent probe is retried alone after the limiter refilled; if it
 * gets the same ICMP from the same sender, every silent probe of that
 * kind is given that ICMP, marked as inferred (icmp_retry_port).
 */
#ifndef FTPATH_AGENT_ICMPRETRY_H
#define FTPATH_AGENT_ICMPRETRY_H

#include <event2/event.h>
#include <sys/socket.h>

#include "probe.h"

/* Wait after the pass before the retry: one ICMP token at 1000 ms. */
#define ICMPRETRY_WAIT_MS	1100

/*
 * Run the check on the finished engine pe, pumping base until done.
 * Returns 1 if silent probes were re-labelled, 0 if nothing needed or
 * nothing was confirmed, a negative FTP_ERR_* on failure.
 */
int icmpretry_run(struct event_base *base, struct probe_engine *pe,
    const struct sockaddr *server, const char *token, unsigned timeout_ms);

#endif
