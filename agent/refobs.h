/*
 * refobs.h - the reflector's messages decoded into the probes' evidence:
 * how it armed each port (armed), which probes arrived and as what
 * (observations.arrivals), its nftables trace of the ports and the
 * checked patch for a rule that dropped them (observations.traces), per
 * PROTOCOL.md.  What is malformed is left out, never guessed; what the
 * reader should know (ports not armed, a trace missing or incomplete)
 * becomes a note.
 */
#ifndef FTPATH_AGENT_REFOBS_H
#define FTPATH_AGENT_REFOBS_H

#include <stdint.h>
#include <jansson.h>

struct probe_engine;
struct fixes;

/* Where the decoded facts go (all borrowed). */
struct refobs {
	struct probe_engine *pe;
	struct fixes *fx;		/* the server host's checked patches */
	uint16_t cport;			/* the control port probed */
	json_t *notes;			/* array of strings */
	unsigned long foreign;		/* observations.foreign */
};

/* An `armed` message. */
void refobs_armed(struct refobs *c, const json_t *armed);
/* One page of `observations`; the first carries the trace. */
void refobs_observations(struct refobs *c, const json_t *obs, int first);
/* Without the reflector's observations its arming says nothing about
 * arrivals: clear what came from it. */
void refobs_forget(struct probe_engine *pe);

#endif
