/*
 * control_int.h - what the parts of the agent's control-channel client
 * share.  Not for other modules: control.h is the interface.
 *
 * control.c is the channel: the object, the TLS connection and its
 * libevent plumbing (callbacks, the loop pump, sending, the reason a
 * connection failed).  control_dialog.c is the protocol dialogue over
 * it: waiting for a reply, the reflector's error frames (policy codes,
 * busy and its retry delay), hello/welcome and ping.  control_parse.c
 * holds the pure decoders of the reflector's fields.
 */
#ifndef FTPATH_AGENT_CONTROL_INT_H
#define FTPATH_AGENT_CONTROL_INT_H

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <jansson.h>

#include "control.h"

/*
 * One control channel.  control.c keeps the connection's part (bev,
 * timer, the failure and its reason) and fills the inbox;
 * control_dialog.c takes replies from it and keeps what the dialogue
 * learnt (welcome, busy_ms, closed_early).
 */
struct control {
	struct event_base *base;
	SSL_CTX *ctx;			/* borrowed */
	struct bufferevent *bev;	/* owns the SSL and the fd */
	struct event *timer;		/* deadline of the current wait */
	json_t *inbox;			/* received, not yet consumed */
	json_t *welcome;		/* the welcome message, once received */
	int connected;
	int failed;			/* channel unusable */
	int timed_out;
	int new_frame;			/* set by the read callback */
	/* TCP_MAXSEG before connect, 0: none */
	unsigned mss;
	int tcp_up;			/* the last failed try had TCP up */
	char token[PROTO_TOKEN_HEXLEN + 1];
	/* The address being dialled, for messages. */
	char target[ADDR_STRLEN];
	/* The reflector's TLS alert about our certificate, or NULL. */
	const char *cert_refusal;
	/* "busy" (max_sessions): the wait the reflector asked for, 0 if the
	 * last refusal was not busy. */
	unsigned busy_ms;
	/* The socket's error at the last failure. */
	int sock_errno;
	int closed_early;	/* closed before welcome, no alert, no error */
	char errmsg[512];
};

/* control.c: the channel */
/* Run the loop until *flag, a failure or timeout_ms: 0, FTP_ERR_SYSTEM
 * with errno ETIMEDOUT, or FTP_ERR_PROTO when the channel failed. */
int control_pump(struct control *c, const int *flag, unsigned timeout_ms);

/* control_parse.c: the pure decoders */
/* welcome message m into *w; a field absent or malformed leaves its
 * default (0, AF_UNSPEC, no passive range, active source port 20). */
void control_welcome_parse(const json_t *m, struct control_welcome *w);

#endif
