/*
 * algrun.h - the agent's side of the ALG test (PROTOCOL.md "ALG
 * dialogue"): the FTP dialogue on the control port, the connect-back to
 * the PORT address as the reflector received it (`alg-active`), the same
 * dialogue again on a port that is not an FTP control port (the A/B),
 * and the reflector's record of both (`alg-report`).  Fills struct
 * alg_obs (alg.h), which alg.c classifies.
 *
 * The dialogue is strictly sequential (each command waits for its reply,
 * as a real client does, and as the kernel's FTP helper needs: it only
 * parses a command that starts right after a line end it saw), so it
 * runs with poll() on its one socket, each wait bounded; the control
 * requests then pump the event loop as usual.
 */
#ifndef FTPATH_AGENT_ALGRUN_H
#define FTPATH_AGENT_ALGRUN_H

#include <stdint.h>
#include <sys/socket.h>
#include <event2/event.h>

#include "alg.h"
#include "control.h"

struct algrun_params {
	struct event_base *base;
	struct control *ctl;
	const struct sockaddr *server;	/* address and control port */
	uint16_t other_port;		/* the A/B's port (not an FTP control
					   port), 0: none */
	uint16_t source_port;		/* the reflector's active source port */
	unsigned timeout_ms;		/* per reply of the dialogue */
	int no_active;			/* no connect-back */
	const struct sockaddr *client_public;	/* observed (welcome) */
	const struct sockaddr *server_public;	/* the address dialled */
};

/*
 * Run the test.  Returns 0 with o filled (a dialogue's tested 0 and its
 * reason when it could not start; no A/B without the control port's),
 * or the negative FTP_ERR_* of a lost control channel.
 */
int algrun_run(const struct algrun_params *p, struct alg_obs *o);

#endif
