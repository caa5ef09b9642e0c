/*
 * fixgen.c - the server-side fix from the reflector's own trace
 * (fixgen.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "err.h"
#include "fixgen.h"

/* A hole of the server host, as the trace saw the rule. */
static void
fixgen_hole(const struct fixgen_rule *r, enum patch_path path,
    const struct portrange *pr, const struct sockaddr *peer,
    uint16_t control_port, uint16_t data_port, struct patch_hole *h)
{
	memset(h, 0, sizeof(*h));
	h->host = PATCH_HOST_SERVER;
	h->family = r->family;
	h->table = r->table;
	h->chain = r->chain;
	h->has_handle = r->has_handle;
	h->handle = r->handle;
	h->verdict = r->reject ? PATCH_VERDICT_REJECT : PATCH_VERDICT_DROP;
	/* The trace tells the direction, not the hook: inbound drops are
	 * judged as input, outbound as output (the connect-back's own
	 * direction, or the answers of a passive connection). */
	h->hook = r->outbound ? "output" : "input";
	h->path = path;
	memcpy(&h->peer, peer, addr_len(peer));
	h->ports = path == PATCH_PATH_ACTIVE ? NULL : pr;
	h->nports = path == PATCH_PATH_ACTIVE ? 0 : 1;
	h->control_port = control_port;
	h->data_port = data_port;
	/* Explicit ports: they work with FTPS as well, and they answer
	 * exactly what the probes measured. */
	h->style = PATCH_STYLE_PORTS;
	h->cause = "server-local-rule";
}

json_t *
fixgen_json(const struct fixgen_rule *r, enum patch_path path,
    uint16_t lo, uint16_t hi, const struct sockaddr *peer,
    uint16_t control_port, uint16_t data_port)
{
	struct portrange pr = { lo, hi };
	struct patch_hole h;
	char *text = NULL, err[512] = "";
	int verified = 0, rc;
	json_t *o;

	fixgen_hole(r, path, &pr, peer, control_port, data_port, &h);
	if ((rc = patch_write(&h, 1, PATCH_HOST_SERVER, &text)) != 0)
		snprintf(err, sizeof(err), "no patch for this rule: %s",
		    ftp_strerror(rc));
	else if ((rc = patch_verify(text, err, sizeof(err))) == 0)
		verified = 1;
	else if (err[0] == '\0')
		snprintf(err, sizeof(err), "%s", ftp_strerror(rc));
	/* A patch the kernel rejects is never shown as a fix. */
	o = json_pack("{s:s,s:s,s:s,s:o,s:b,s:o}", "host", "server",
	    "file", "server.nft", "kind", "nftables",
	    "text", verified ? json_string(text) : json_null(),
	    "verified", verified,
	    "verify_error", verified ? json_null() : json_string(err));
	free(text);
	return o;
}
