/*
 * fixgen.h - the server-side fix the reflector derives from its own
 * trace (DESIGN.md "Fixes"): for a rule on this host that dropped a
 * probe, the nftables patch that opens exactly that hole (nft/patch.h),
 * checked by this host's kernel against its live ruleset before anyone
 * sees it.  Never from text an agent sends: the agent only learns the
 * result, in the trace records of the observations and active-result
 * (PROTOCOL.md "fix").
 */
#ifndef FTPATH_REFLECTOR_FIXGEN_H
#define FTPATH_REFLECTOR_FIXGEN_H

#include <stdint.h>
#include <sys/socket.h>
#include <jansson.h>

#include "patch.h"

struct fixgen_rule {
	const char *family;		/* "inet", "ip", "ip6" */
	const char *table, *chain;
	int has_handle;			/* 0: the chain's policy */
	uint64_t handle;
	int reject;
	int outbound;			/* it dropped a packet leaving */
};

/*
 * The "fix" object {host, file, kind, text, verified, verify_error} for
 * one dropping rule: path and ports lo-hi (control/passive: the server
 * ports; active: ignored, the connect-back to any port of peer from
 * data_port), peer the agent's observed address.  A hole patch_write()
 * cannot express is {text: null, verified: false, verify_error: why}.
 * New reference, or NULL on no memory.
 */
json_t *fixgen_json(const struct fixgen_rule *r, enum patch_path path,
    uint16_t lo, uint16_t hi, const struct sockaddr *peer,
    uint16_t control_port, uint16_t data_port);

#endif
