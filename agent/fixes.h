/*
 * fixes.h - the checked nftables patches of a check, as evidence
 * (evidence.h struct evidence_fix).
 *
 * Server host: the reflector derives the patch from its own trace and
 * has its kernel check it (reflector/fixgen.h); this module keeps what
 * the trace records carried.  Client host: this module derives the
 * patch from the agent host's own trace of the probes (the rule in
 * probe_obs.crule), writes it with nft/patch.h and has this host's
 * kernel check it (patch_verify, needs CAP_NET_ADMIN).  Which patch
 * answers which cause is the classifier's to decide.
 */
#ifndef FTPATH_AGENT_FIXES_H
#define FTPATH_AGENT_FIXES_H

#include <stddef.h>
#include <jansson.h>

#include "evidence.h"
#include "patch.h"

#define FIXES_MAX	32

struct fixes;

struct fixes *fixes_new(void);
void fixes_free(struct fixes *fx);

/* A trace record's "fix" object (PROTOCOL.md) for the server host's run
 * of kind and ports lo-hi; anything but an object is ignored.  Its
 * "if_auth_tls" variant is kept aside for fixes_settle_tls().  0 or
 * FTP_ERR_NOMEM. */
int fixes_take_server(struct fixes *fx, const json_t *fix,
    enum probe_kind kind, uint16_t lo, uint16_t hi);

/* Once the real FTP client has run: the server's fixes written both
 * ways (an automatic style on a stateful chain) become the one for a
 * server that offers AUTH TLS (tls_offered) or not. */
void fixes_settle_tls(struct fixes *fx, int tls_offered);

/*
 * The agent host's patches: one per run of probes (control, passive
 * ports in order, the active connect-back) that the agent host's own
 * rule dropped, for the server address f->server.  style is --fix-style
 * (patch.h); tls_offered: the server offered AUTH TLS.  Each is checked
 * by this host's kernel.  0 or FTP_ERR_NOMEM.
 */
int fixes_derive_client(struct fixes *fx, const struct probe_obs *probes,
    size_t n, const struct probe_obs *active, const struct session_facts *f,
    uint16_t control_port, enum patch_style style, int tls_offered);

/* The fixes so far (owned by fx). */
const struct evidence_fix *fixes_list(const struct fixes *fx, size_t *n);

#endif
