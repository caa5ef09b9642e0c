/*
 * classify_helper.c - a path that failed for bare probes but worked for
 * the real FTP client, or for the ALG's rewritten PORT address
 * (classify_int.h).  Part of the one classifier: such a path passes
 * with cause alg-dependent, because it works only as a connection
 * related to the control session, which FTPS will break.
 */
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "classify_int.h"

/* ---- the real FTP client over the same paths ---- */

void
classify_index_service(struct classify_ctx *c)
{
	static const enum ftpcheck_mode pm[2] = { FTPCHECK_EPSV,
	    FTPCHECK_PASV };
	const struct evidence *e = c->e;
	size_t i;
	int k;

	for (k = 0; e->svc != NULL && k < 2; k++) {
		const struct ftpcheck_data *d = &e->svc->mode[pm[k]];
		uint16_t port;

		if (!d->attempted || !d->ok || !d->adv_ok ||
		    !addr_equal((const struct sockaddr *)&d->adv,
		    (const struct sockaddr *)&e->f->server))
			continue;
		port = addr_port((const struct sockaddr *)&d->adv);
		c->pdata[k] = d;
		c->pmode[k] = pm[k];
		for (i = 0; i < e->n_probes; i++)
			if (e->probes[i].kind == PROBE_PASSIVE &&
			    e->probes[i].port == port)
				c->pprobe[k] = &e->probes[i];
	}
}

/* Whose helper lets the related connection through, as the traces tell. */
static const char *
helper_host(const struct probe_obs *o)
{
	if (o->kind == PROBE_ACTIVE)
		return o->crule ? "on the agent host (its nftables "
		    "rule drops the bare connect-back)" : o->rule ?
		    "on the server host (its nftables rule drops the bare "
		    "connect-back)" : "on the path or on a host without a "
		    "trace";
	return o->rule ? "on the server host (its nftables rule "
	    "drops the bare connection)" : o->crule ? "on the agent "
	    "host (its nftables rule drops the bare connection)" :
	    "on the path or on a host without a trace";
}

/*
 * The path failed for bare probes but the real FTP client moved data over
 * it: the data connection passes as one related to the control session
 * (an FTP conntrack helper or ALG that read PASV/PORT in clear).
 */
static void
helper_pass(const struct probe_obs *o, const char *mode, const char *data,
    struct verdict *v)
{
	char bare[VERDICT_EVIDENCE_LEN];

	snprintf(bare, sizeof(bare), "%.200s", classify_ev_first(v,
	    VERDICT_STAGE_PATH));
	memset(v, 0, sizeof(*v));
	v->pass = 1;
	v->cause = CAUSE_ALG_DEPENDENT;
	classify_ev_push(v, VERDICT_STAGE_PATH, "the real FTP client's %s data "
	    "connection %s moved data: FTP works on this path", mode, data);
	classify_ev_push(v, VERDICT_STAGE_PATH, "bare connections without an "
	    "FTP dialogue fail: %s", bare);
	classify_ev_push(v, VERDICT_STAGE_PATH, "so it works only as a "
	    "connection related to the control session, through an FTP "
	    "conntrack helper or ALG %s", helper_host(o));
	classify_ev_push(v, VERDICT_STAGE_PATH, "warning: FTPS (encrypted "
	    "control) blinds the helper, and so does a client that connects "
	    "before the helper saw its PASV/PORT: those will fail");
}

void
classify_passive_service(const struct classify_ctx *c,
    const struct probe_obs *o, struct verdict *v)
{
	char a[ADDR_STRLEN + 8], data[ADDR_STRLEN + 48];
	int k;

	if (v->pass || o->kind != PROBE_PASSIVE)
		return;
	for (k = 0; k < 2; k++) {
		if (c->pdata[k] == NULL || c->pprobe[k] == NULL ||
		    c->pprobe[k]->outcome == OUTCOME_ACKED ||
		    !evidence_same_obs(c->pprobe[k], o))
			continue;
		snprintf(data, sizeof(data), "to %s (%llu bytes)",
		    addr_text(ADDR_SA(&c->pdata[k]->adv), 1, a, sizeof(a)),
		    (unsigned long long)c->pdata[k]->bytes);
		helper_pass(o, ftpcheck_mode_name(c->pmode[k]), data, v);
		return;
	}
}

/* ---- the active path ---- */

/* Active mode through the ALG's pinhole: the plain connect-back failed,
 * the one to the PORT address as the ALG rewrote it worked. */
static int
active_alg(const struct alg_obs *a, struct verdict *v)
{
	char plain[VERDICT_EVIDENCE_LEN];

	if (a == NULL || v->pass || !a->d[ALG_D_CONTROL].tested ||
	    !a->active_tested || !a->active_ok)
		return 0;
	snprintf(plain, sizeof(plain), "%.180s", classify_ev_first(v,
	    VERDICT_STAGE_PATH));
	memset(v, 0, sizeof(*v));
	v->pass = 1;
	v->cause = CAUSE_ALG_DEPENDENT;
	classify_ev_push(v, VERDICT_STAGE_PATH, "only through the FTP ALG: the "
	    "connect-back to the PORT address as the reflector received it "
	    "(%s) reached the agent's listener (port %u) in %u ms",
	    a->active_target, a->listen_port, a->active_ms);
	classify_ev_push(v, VERDICT_STAGE_PATH, "without the ALG (port "
	    "announced only over TLS): %s", plain);
	classify_ev_push(v, VERDICT_STAGE_PATH, "warning: the ALG opens the "
	    "pinhole only when it can read PORT/EPRT; with FTPS (encrypted "
	    "control) active mode will fail");
	return 1;
}

/* The real FTP client's active transfer worked where the connect-back
 * failed: through a helper that read its PORT/EPRT. */
static void
active_service(const struct classify_ctx *c, const struct probe_obs *o,
    struct verdict *v)
{
	static const enum ftpcheck_mode am[2] = { FTPCHECK_EPRT,
	    FTPCHECK_PORT };
	char a[ADDR_STRLEN + 8], data[ADDR_STRLEN + 64];
	int k;

	/* A listener that never opened proves nothing either way. */
	if (v->pass || c->e->svc == NULL || o->arm == ARM_ERROR)
		return;
	for (k = 0; k < 2; k++) {
		const struct ftpcheck_data *d = &c->e->svc->mode[am[k]];

		if (!d->attempted || !d->ok || !d->peer_is_server)
			continue;
		snprintf(data, sizeof(data), "from %s (%llu bytes)",
		    addr_text(ADDR_SA(&d->peer), 1, a, sizeof(a)),
		    (unsigned long long)d->bytes);
		helper_pass(o, ftpcheck_mode_name(am[k]), data, v);
		return;
	}
}

/* The ALG's pinhole first: once it passed the path, the client's active
 * transfer has nothing left to overturn. */
void
classify_active_helper(const struct classify_ctx *c, const struct probe_obs *o,
    struct verdict *v)
{
	if (!active_alg(c->e->alg, v))
		active_service(c, o, v);
}
