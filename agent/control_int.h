/*
 * control_int.h - what the parts of the agent's control-channel client
 * share.  Not for other modules: control.h is the interface.
 *
 * control.c is the channel and the dialogue over it; control_parse.c
 * holds the pure decoders of the reflector's fields.
 */
#ifndef FTPATH_AGENT_CONTROL_INT_H
#define FTPATH_AGENT_CONTROL_INT_H

#include <jansson.h>

#include "control.h"

/* control_parse.c: the pure decoders */
/* welcome message m into *w; a field absent or malformed leaves its
 * default (0, AF_UNSPEC, no passive range, active source port 20). */
void control_welcome_parse(const json_t *m, struct control_welcome *w);

#endif
