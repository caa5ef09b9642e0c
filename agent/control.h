/*
 * control.h - the agent's end of the TLS control channel (PROTOCOL.md).
 *
 * Runs on the process's one event_base.  The orchestration is sequential
 * (hello, pings, plan, active, collect, bye), so the blocking-looking calls
 * here pump the event loop until their reply arrives: while they wait, the
 * probe engine and the active listener on the same base keep running.
 *
 * Errors: FTP_ERR_DENIED when the reflector answered `error` with a policy
 * code (port-not-allowed, too-many-ports, ...), which the caller maps to a
 * usage/configuration exit; any other negative FTP_ERR_* means the
 * reflector could not be reached, authenticated or understood.
 * control_errmsg() has the human-readable reason of the last failure.
 */
#ifndef FTPATH_AGENT_CONTROL_H
#define FTPATH_AGENT_CONTROL_H

#include <stdint.h>
#include <event2/event.h>
#include <jansson.h>
#include <openssl/ssl.h>

#include "addr.h"
#include "proto.h"
#include "verdict.h"

#define CONTROL_CONNECT_TIMEOUT_MS	5000u
/* Replies to ordinary requests are immediate; this only bounds a hung peer. */
#define CONTROL_REPLY_TIMEOUT_MS	10000u

/* What the reflector told us in `welcome`. */
struct control_welcome {
	char reflector[64];		/* its version/name, "" if absent */
	struct sockaddr_storage observed;	/* agent as seen, with port */
	struct sockaddr_storage local;	/* reflector's own end, with port */
	uint16_t control_port;		/* 0 if absent */
	struct portrange passive;	/* lo == 0: none configured */
	uint16_t active_source_port;	/* default 20 */
	unsigned max_ports;
	long long time_ms;		/* reflector's wall clock */
	long long recv_ms;		/* our wall clock when it arrived */
};

struct control_rtt {
	unsigned n;
	double min_ms;
	double avg_ms;
	double max_ms;
};

struct control;

/* ctx is borrowed (must outlive the control).  NULL on ENOMEM. */
struct control *control_new(struct event_base *base, SSL_CTX *ctx);
void control_free(struct control *c);

/*
 * Resolve host, connect (each address in turn, CONTROL_CONNECT_TIMEOUT_MS
 * each) and complete the TLS handshake, pinning host in the certificate.
 */
int control_connect(struct control *c, const char *host, uint16_t port);

/*
 * TCP_MAXSEG for the next control_connect() (0: the kernel's): a path
 * that loses large segments without ICMP stalls the TLS handshake after
 * TCP connected (mtu.h).  control_tls_stalled(): the last failed
 * connect had TCP established and the TLS handshake did not complete.
 */
void control_set_mss(struct control *c, unsigned mss);
int control_tls_stalled(const struct control *c);

/* The session token (32 lowercase hex), valid after control_new(). */
const char *control_token(const struct control *c);

/* Send hello, wait for welcome. */
/*
 * After a failed control_hello(): the reflector answered "busy" (it
 * serves max_sessions) and asked to try again after this many
 * milliseconds (bounded to CONTROL_BUSY_MIN_MS..CONTROL_BUSY_MAX_MS);
 * 0 for any other failure.
 */
#define CONTROL_BUSY_MIN_MS	100u
#define CONTROL_BUSY_MAX_MS	30000u
unsigned control_busy_ms(const struct control *c);
/* After a failed control_connect(): the reflector reset the connection
 * before TLS was up, as it does beyond its handshake budget. */
int control_reset_by_peer(const struct control *c);
/* After a failed control_hello(): the reflector closed the session before
 * welcome without a TLS alert or an error frame, as it does to a
 * handshake it evicts when its handshake slots are full. */
int control_closed_early(const struct control *c);
int control_hello(struct control *c, struct control_welcome *w);

/* The welcome message as received (owned by c; NULL before hello):
 * fields this struct does not hold (addresses, ftp_server). */
const json_t *control_welcome_msg(const struct control *c);

/* n pings, one at a time, measured with CLOCK_MONOTONIC. */
int control_ping(struct control *c, unsigned n, struct control_rtt *rtt);

/* Queue msg (borrowed) for sending. */
int control_send(struct control *c, const json_t *msg);

/*
 * Pump the event loop until a message of the given type arrives (returned
 * in *msg, caller json_decref()s), an `error` message arrives, the channel
 * fails, or timeout_ms passes (FTP_ERR_SYSTEM with errno ETIMEDOUT).
 */
int control_wait(struct control *c, const char *type, unsigned timeout_ms,
    json_t **msg);
/* The same for either of two types (e.g. "armed" or "queued"). */
int control_wait_either(struct control *c, const char *type,
    const char *type2, unsigned timeout_ms, json_t **msg);

/* send + wait, for request/reply pairs. */
int control_request(struct control *c, const json_t *req, const char *type,
    unsigned timeout_ms, json_t **reply);

/* agent_local and dialled (getsockname/getpeername of the control fd). */
int control_endpoints(const struct control *c, struct sockaddr_storage *local,
    struct sockaddr_storage *peer);

/* 1 while the channel is usable (an `error` reply does not end it). */
int control_alive(const struct control *c);

/* Reason for the last failure, "" if none. */
const char *control_errmsg(const struct control *c);

/* "192.0.2.1:21" / "[2001:db8::1]:21" into a sockaddr.  0 or FTP_ERR_INVAL. */
int control_parse_addrport(const char *s, struct sockaddr_storage *ss);
/* The same into the compact form; an address it cannot hold, or none,
 * leaves AF_UNSPEC (all zero) and gives FTP_ERR_INVAL. */
int control_parse_addrport_inet(const char *s, struct addr_inet *a);
/* Address text plus a separate port, as in welcome.observed/observed_port. */
int control_parse_addr(const char *s, uint16_t port,
    struct sockaddr_storage *ss);

/* A trace "state" text ("on", ...) as an enum trace_obs_state: NULL is
 * TRACE_OBS_NONE (no trace sent), an unknown one unavailable. */
int control_trace_state(const char *s);
/* A trace "verdict" object (PROTOCOL.md traces[].verdict) into *r: 0;
 * anything but an object clears *r and gives -1 (no rule). */
int control_parse_rule(const json_t *v, struct probe_rule *r);

#endif
