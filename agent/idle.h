/*
 * idle.h - the idle-timeout test (`--idle-test SECONDS`) and its pure
 * judgement.
 *
 * A NAT or stateful firewall forgets a flow that stayed idle longer than
 * its established timeout; the FTP control connection, idle while a long
 * transfer runs on the data connection, is the one that dies ("the
 * transfer completed but the client hangs at the end").  After the
 * check the agent holds real FTP control connections to the server,
 * logged in as the real FTP client is (--ftp-user, anonymous by default),
 * each idle for a different time (S/4, S/2 and S), then sends NOOP on each:
 * any reply means the path still knew the flow.  A NOOP that gets no
 * answer, or a reset, while a new connection still gets the banner at
 * once, means the path forgot the idle one.  The TLS control channel to
 * the reflector is held idle for S too (a second session: hello, then
 * one ping after S).
 *
 * idle_run() does the I/O (on the check's event_base); the rest is pure.
 */
#ifndef FTPATH_AGENT_IDLE_H
#define FTPATH_AGENT_IDLE_H

#include <stddef.h>
#include <sys/socket.h>
#include <event2/event.h>
#include <jansson.h>
#include <openssl/ssl.h>

#define IDLE_MIN_S		1u
#define IDLE_MAX_S		600u
#define IDLE_MAX_CONNS		3

enum idle_outcome {
	IDLE_NOT_RUN = 0,
	IDLE_ANSWERED,		/* NOOP got a reply: the flow survived */
	IDLE_SILENT,		/* no reply within the wait */
	IDLE_RESET,		/* ECONNRESET: a RST came */
	IDLE_CLOSED,		/* the server closed it (EOF or a 421) */
	IDLE_NO_START,		/* connect or banner failed: not tested */
};

struct idle_conn_obs {
	unsigned idle_s;		/* how long it stayed idle */
	enum idle_outcome outcome;
	int code;			/* the NOOP's reply code, 0: none */
	char reply[96];			/* that reply line, printable */
	int error;			/* errno when it failed */
};

struct idle_obs {
	int tested;
	char reason[160];		/* why not, when !tested */
	unsigned seconds;		/* --idle-test */
	unsigned wait_ms;		/* how long a NOOP's answer was awaited */
	struct sockaddr_storage server;	/* address:port of the FTP control */
	unsigned n;
	struct idle_conn_obs ftp[IDLE_MAX_CONNS];	/* shortest first */
	int fresh_tested;		/* a new connection after the idle ones */
	int fresh_ok;			/* ... got its banner */
	/* The TLS control channel, idle for `seconds`, then a ping. */
	int chan_tested;
	int chan_ok;			/* pong came */
	int chan_silent;		/* no pong within the reply wait */
	int chan_reset;			/* a reset instead (the reflector's own
					   session_timeout closes cleanly) */
	char chan_error[160];		/* why not tested, or what failed */
};

struct idle_result {
	int timeout;			/* idle-timeout: the path forgot a flow */
	unsigned largest_ok;		/* longest idle that survived, s */
	unsigned smallest_bad;		/* shortest that did not, s, 0: none */
	enum idle_outcome how;		/* how the shortest bad one died */
	int chan_lost;			/* the control channel forgot too */
};

/* Idle times for seconds (shortest first) into o; zeroes the rest. */
void idle_plan(struct idle_obs *o, unsigned seconds);
void idle_decide(const struct idle_obs *o, struct idle_result *r);
/* At least one FTP connection got its banner and was held. */
int idle_held(const struct idle_obs *o);
void idle_evidence(const struct idle_obs *o, const struct idle_result *r,
    char *buf, size_t len);
void idle_advice(const struct idle_result *r, char *buf, size_t len);
const char *idle_outcome_name(enum idle_outcome x);
/* The JSON "idle" object (new reference; NULL on ENOMEM). */
json_t *idle_json(const struct idle_obs *o, const struct idle_result *r);

struct idle_params {
	struct event_base *base;
	const struct sockaddr *server;	/* FTP control address:port */
	unsigned wait_ms;		/* answer wait per NOOP / banner */
	const char *user;		/* login; NULL: "anonymous" */
	const char *password;		/* NULL: "ftpath@" */
	/* The reflector for the channel test; host NULL: not tested. */
	SSL_CTX *ctx;
	const char *host;
	uint16_t port;
};

/* Run the test (o from idle_plan).  0 or FTP_ERR_NOMEM / FTP_ERR_SYSTEM
 * (o->reason says why). */
int idle_run(const struct idle_params *p, struct idle_obs *o);

#endif
