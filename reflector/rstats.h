/*
 * rstats.h - the reflector's own counters, for its /metrics endpoint
 * (metrics_listen =, metricsrv.h).
 *
 * Process-wide by nature, like the log: one reflector per process, and
 * every place that counts (the server's accept path, sessions, traces,
 * the probe port registry) runs on its one event loop, so plain counters
 * need no locking.  Counting never fails and never allocates.
 */
#ifndef FTPATH_RSTATS_H
#define FTPATH_RSTATS_H

#include <stdio.h>

/* Why a connection or an agent was turned away. */
enum rstats_refusal {
	RSTATS_TOO_MANY_SESSIONS,	/* max_sessions reached */
	RSTATS_NOT_ALLOWED,		/* allowed_agents */
	RSTATS_HANDSHAKE_BUDGET,	/* max_handshakes(_per_source) */
	RSTATS_TOO_MANY_CONNECTIONS,	/* the connection cap */
	RSTATS_TLS_FAILED,		/* TLS handshake failed */
	RSTATS_HANDSHAKE_TIMEOUT,	/* handshake_timeout passed */
	RSTATS_NREFUSALS
};

void rstats_session_started(void);
/* A session that started ended after ms milliseconds. */
void rstats_session_ended(unsigned ms);
/*
 * How long an agent refused with "busy" should wait before it tries
 * again: the recent sessions' mean duration (an exponentially weighted
 * average), within RSTATS_RETRY_MIN_MS..RSTATS_RETRY_MAX_MS; the agent
 * adds its own jitter.
 */
#define RSTATS_RETRY_MIN_MS	250u
#define RSTATS_RETRY_MAX_MS	10000u
unsigned rstats_retry_after_ms(void);
void rstats_refused(enum rstats_refusal why);
/* A session's nftables trace lost events (ENOBUFS: it was incomplete). */
void rstats_trace_incomplete(void);
/* A session's nftables table or rule could not be installed. */
void rstats_nft_failed(void);
/* Connections to the probe ports that carried no session's token. */
void rstats_foreign(void);
/* One SIGHUP reload: ok 1 applied, 0 refused (the old one stays). */
void rstats_reload(int ok);

/*
 * The exposition text, malloc'd (NULL: no memory).  extra (may be NULL)
 * appends series only its caller knows (handshakes in progress by
 * source address) to fp.
 */
char *rstats_render(void (*extra)(FILE *fp, void *arg), void *arg);

/* At start (and in tests): every counter zero, the start time now. */
void rstats_init(void);

#endif
