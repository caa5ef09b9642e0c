/*
 * fixgen.h - the server-side fix the reflector derives from its own
 * trace (DESIGN.md "Fixes"): for a rule on this host that dropped a
 * probe, the nftables patch that opens exactly that hole (nft/patch.h),
 * checked by this host's kernel against its live ruleset before anyone
 * sees it.  Never from text an agent sends: the agent only learns the
 * result, in the trace records of the observations and active-result
 * (PROTOCOL.md "fix").
 *
 * What the agent may ask (plan.fix, fixgen_req_parse): a wider source
 * than its own address (a network that contains it: --fix-scope) and
 * the remedy for data connections (--fix-style).  Both are checked
 * values, never text that goes into the patch as written.
 */
#ifndef FTPATH_REFLECTOR_FIXGEN_H
#define FTPATH_REFLECTOR_FIXGEN_H

#include <stddef.h>
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
	int related;			/* its chain accepts ct state related */
};

/* The agent's wishes for its fixes (plan.fix); zeroed: none. */
struct fixgen_req {
	int			 has_scope;
	struct sockaddr_storage	 net;		/* --fix-scope network */
	unsigned		 prefix;
	enum patch_style	 style;		/* AUTO unless asked */
};

/*
 * plan.fix: NULL or JSON null for none, else {scope, style}: scope null
 * or "ADDR/LEN" (addr_cidr_parse) that contains observed (the agent's
 * address as this host sees it: a wider source, never another one);
 * style null, "auto", "helper" or "ports".  0, or FTP_ERR_INVAL with
 * the reason in why (for the error message); *out is set only on 0.
 */
int fixgen_req_parse(const json_t *fix, const struct sockaddr *observed,
    struct fixgen_req *out, char *why, size_t whylen);

/*
 * The "fix" object {host, file, kind, text, verified, verify_error,
 * style, style_reason} for one dropping rule: path and ports lo-hi
 * (control/passive: the server ports; active: ignored, the connect-back
 * to any port of the peer from data_port), the peer the agent's observed
 * address or req's scope (req may be NULL).  style is "helper" or
 * "ports" for a data path the patch lets in, null otherwise.  Where the
 * choice rests on what the reflector cannot know - an automatic style
 * for a stateful chain, which depends on whether the FTP server offers
 * AUTH TLS - the object is written for a server without it, and
 * "if_auth_tls" holds the same keys for one with it.  A hole
 * patch_write() cannot express is {text: null, verified: false,
 * verify_error: why}.  New reference, or NULL on no memory.
 */
json_t *fixgen_json(const struct fixgen_rule *r, enum patch_path path,
    uint16_t lo, uint16_t hi, const struct sockaddr *peer,
    uint16_t control_port, uint16_t data_port,
    const struct fixgen_req *req);

#endif
