/*
 * service.h - the real FTP client (ftpcheck.h) as part of `check`: run it
 * once the reflector has let go of the ports, then turn its result into
 * the report's "service" object, its human lines and the causes it
 * proves (DESIGN.md "real service": service-refused, pasv-address).
 *
 * service_run() does I/O on the caller's event_base; the rest is pure.
 */
#ifndef FTPATH_AGENT_SERVICE_H
#define FTPATH_AGENT_SERVICE_H

#include <sys/socket.h>
#include <event2/event.h>
#include <jansson.h>

#include "ftpcheck.h"
#include <stdio.h>
#include "verdict.h"

#define SERVICE_MAX_CAUSES	3
#define SERVICE_EVIDENCE_LEN	FTPCHECK_TEXT_MAX

/* A cause the real FTP session proves. */
struct service_cause {
	enum cause cause;
	char label[32];			/* "service banner", "service PASV" */
	char evidence[SERVICE_EVIDENCE_LEN];
};

/*
 * Run one ftpcheck session against server (address and control port),
 * pumping base until it ends (bounded by opts->timeout_ms per wait),
 * then, when connections > 1, that many control connections at once
 * (ftpconns.h: the server's connection limit) into out->conns.
 * 0 with *out filled, or a negative FTP_ERR_* (nothing ran).
 */
int service_run(struct event_base *base, const struct sockaddr *server,
    const struct ftpcheck_opts *opts, unsigned connections,
    struct ftpcheck_result *out);

/* 1 if the session failed: no control connection, a banner other than
 * 2xx, no login, or an attempted data mode that did not transfer.  TLS
 * is informational and never fails it. */
int service_failed(const struct ftpcheck_result *r);

/* The causes r proves (at most max); returns how many were written. */
unsigned service_causes(const struct ftpcheck_result *r,
    struct service_cause *out, unsigned max);

/*
 * 1 if data mode m moved data in plain FTP and failed under FTPS in the
 * way an FTP helper or ALG that cannot read the encrypted PASV/PORT
 * makes it fail: the server accepted the mode (passive: its address
 * parsed; active: 2xx) and the data connection never came up.  A mode
 * that failed in plain FTP too, or whose data connection came up and
 * failed in TLS, is not.  Then evidence names both outcomes.
 */
int service_ftps_broke(const struct ftpcheck_result *r, enum ftpcheck_mode m,
    char *evidence, size_t len);

/* The report's "service" object (new reference; NULL on ENOMEM). */
json_t *service_json(const struct ftpcheck_result *r);

/* The human "real FTP client:" section (the session, one line per data
 * mode, TLS), rendered from r itself. */
void service_print(const struct ftpcheck_result *r, FILE *out, int color);

#endif
