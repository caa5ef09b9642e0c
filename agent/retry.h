/*
 * retry.h - second looks before a silent failure is believed.
 *
 * 1. Confirmation: every probe that timed out without ICMP is tried once
 *    more, all in parallel, with twice the timeout.  A burst of thousands
 *    of SYNs on a loaded host can delay an answer past the RTT-derived
 *    timeout; a real drop costs one more (parallel) timeout, not one per
 *    port.  A probe that gets through on the retry takes the retry's
 *    observation.
 *
 * 2. ICMP rate limiting:
 * Routers rate-limit the ICMP errors they send (Linux: a burst of 6,
 * then one a second per destination), so when a whole passive range is
 * unreachable only the first few probes get ICMP and the rest time out
 * silently.  Calling those "path-silent-drop" would be a wrong claim.
 * When one pass holds both ICMP-answered and silent probes of a kind,
 * one silent probe is retried alone after the limiter refilled; if it
 * gets the same ICMP from the same sender, every silent probe of that
 * kind is given that ICMP, marked as inferred (icmp_retry_port).
 */
#ifndef FTPATH_AGENT_RETRY_H
#define FTPATH_AGENT_RETRY_H

#include <event2/event.h>
#include <sys/socket.h>

#include "probe.h"

/* Wait after the pass before the lone retry: one ICMP token at 1000 ms. */
#define RETRY_ICMP_WAIT_MS	1100
/*
 * A second lone retry, only when the first was silent.  A Linux router
 * with no route charges each net-unreachable twice to one per-source
 * bucket (ip_error()'s limiter, then icmp_send()'s), so it answers once
 * every two seconds.
 */
#define RETRY_ICMP_WAIT2_MS	2100

/*
 * Run both on the finished engine pe, pumping base until done.  Returns
 * the number of probes whose observation changed, or a negative FTP_ERR_*.
 */
int retry_run(struct event_base *base, struct probe_engine *pe,
    const struct sockaddr *server, const char *token, unsigned timeout_ms);

#endif
