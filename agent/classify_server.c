/*
 * classify_server.c - the causes the FTP server gives outside the paths:
 * the ALG dialogue, the real FTP client's session, FTPS data paths and
 * the server host's facts (classify_int.h).  Part of the one classifier:
 * the server host is decided before the paths, whose dns-mismatch rule
 * reads it; its causes are reported after them.
 */
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "classify_int.h"
#include "service.h"
#include "srvcheck.h"

/* The "alg" section and cause alg-rewrite (a warning when the ALG wrote
 * the right address, a failure for a wrong one or garbage). */
int
classify_alg(struct classify_ctx *c)
{
	char ev[8 * VERDICT_EVIDENCE_LEN];
	struct alg_result res;
	int r;

	if (c->e->alg == NULL)
		return 0;
	alg_classify(c->e->alg, &res);
	if ((r = report_set_alg(c->rep, c->e->alg, &res)) != 0 || !res.rewrite)
		return r;
	alg_rewrite_evidence(c->e->alg, &res, ev, sizeof(ev));
	return report_add_cause(c->rep, REPORT_PART_ALG, res.rewrite_fails ?
	    REPORT_FAILURE : REPORT_WARNING, CAUSE_ALG_REWRITE, "alg", ev);
}

int
classify_service(struct classify_ctx *c)
{
	struct service_cause sc[SERVICE_MAX_CAUSES];
	unsigned i, n;
	int r;

	if (c->e->svc == NULL)
		return 0;
	if ((r = report_set_service(c->rep, c->e->svc)) != 0)
		return r;
	n = service_causes(c->e->svc, sc, SERVICE_MAX_CAUSES);
	for (i = 0; i < n; i++)
		if ((r = report_add_cause(c->rep, REPORT_PART_SERVICE,
		    REPORT_FAILURE, sc[i].cause, sc[i].label,
		    sc[i].evidence)) != 0)
			return r;
	return 0;
}

/*
 * FTPS data paths: a mode that moved data in plain FTP but not under
 * PROT P fails only because a helper or ALG read its PASV/PORT in clear
 * (service_ftps_broke()): a failure for FTPS clients, whatever the plain
 * paths' verdicts.  The way out is a path that needs no helper.
 */
int
classify_ftps(struct classify_ctx *c)
{
	char ev[SERVICE_EVIDENCE_LEN], label[32], adv[200];
	unsigned lo = 65535, hi = 0, passive = 0, active = 0;
	size_t i;
	int m, r;

	for (m = 0; c->e->svc != NULL && m < FTPCHECK_NMODES; m++) {
		if (!service_ftps_broke(c->e->svc, (enum ftpcheck_mode)m, ev,
		    sizeof(ev)))
			continue;
		snprintf(label, sizeof(label), "service FTPS %s",
		    ftpcheck_mode_name((enum ftpcheck_mode)m));
		if ((r = report_add_cause(c->rep, REPORT_PART_SERVICE,
		    REPORT_FAILURE, CAUSE_ALG_DEPENDENT, label, ev)) != 0)
			return r;
		if (m == FTPCHECK_EPSV || m == FTPCHECK_PASV)
			passive = 1;
		else
			active = 1;
	}
	for (i = 0; i < c->e->n_probes; i++)
		if (c->e->probes[i].kind == PROBE_PASSIVE) {
			lo = c->e->probes[i].port < lo ?
			    c->e->probes[i].port : lo;
			hi = c->e->probes[i].port > hi ?
			    c->e->probes[i].port : hi;
		}
	if (hi >= lo)
		snprintf(adv, sizeof(adv), "open the passive range tcp/%u-%u "
		    "explicitly (it works with FTPS), instead of relying on "
		    "the FTP conntrack helper", lo, hi);
	else
		snprintf(adv, sizeof(adv), "open the server's passive range "
		    "explicitly (it works with FTPS), instead of relying on "
		    "the FTP conntrack helper");
	if (passive && (r = report_add_advice(c->rep, CAUSE_ALG_DEPENDENT, adv,
	    NULL)) != 0)
		return r;
	if (active && (r = report_add_advice(c->rep, CAUSE_ALG_DEPENDENT,
	    "allow the server's active data connections (from tcp/20) to the "
	    "client explicitly, or use passive mode with its range open: no "
	    "helper can open them under FTPS", NULL)) != 0)
		return r;
	return 0;
}

/* The 421 the real FTP client met first (the banner, else the next
 * connection's), or NULL. */
static const char *
service_refusal(const struct ftpcheck_result *svc)
{
	if (svc == NULL || !svc->control_connected)
		return NULL;
	if (svc->banner.code == 421)
		return svc->banner.text;
	if (svc->tls.attempted && svc->tls.reply.code == 421)
		return svc->tls.reply.text;
	if (svc->conns.refused > 0)
		return svc->conns.refusal.text;
	return NULL;
}

void
classify_decide_server_host(struct classify_ctx *c)
{
	const struct evidence *e = c->e;
	struct sockaddr_storage svc = e->f->server;
	struct srvcheck_input in;

	addr_set_port((struct sockaddr *)&svc, e->control_port);
	memset(&in, 0, sizeof(in));
	in.service = (const struct sockaddr *)&svc;
	in.dialled = (const struct sockaddr *)&e->f->dialled;
	in.probes = e->probes;
	in.n_probes = e->n_probes;
	in.svc = e->svc;
	in.refused = service_refusal(e->svc);
	srvcheck_decide(e->sc, &in, &c->sres);
}

int
classify_server_host(struct classify_ctx *c)
{
	struct srvcheck_finding f[SRVCHECK_MAX_FINDINGS];
	const struct srvcheck *sc = c->e->sc;
	char line[512];
	json_t *x;
	unsigned i, n;
	int r;

	if (sc == NULL)
		return 0;
	if (c->sres.refused[0] == '\0' && c->refused[0] != '\0')
		snprintf(c->sres.refused, sizeof(c->sres.refused), "%s",
		    c->refused);
	if ((r = srvcheck_nat_json(sc, &c->sres, &x, line,
	    sizeof(line))) != 0 ||
	    (x != NULL && (r = report_set_server_nat(c->rep, x, line)) != 0) ||
	    (r = report_set_extra(c->rep, "server_host",
	    srvcheck_host_json(sc, &c->sres))) != 0)
		return r;
	if (c->sres.pasv.note[0] != '\0' &&
	    (r = report_note(c->rep, c->sres.pasv.note)) != 0)
		return r;
	n = srvcheck_findings(sc, &c->sres, f, SRVCHECK_MAX_FINDINGS);
	for (i = 0; i < n; i++) {
		if ((r = report_add_cause(c->rep, REPORT_PART_SERVER_HOST,
		    f[i].warning ? REPORT_WARNING : REPORT_FAILURE, f[i].cause,
		    f[i].label, f[i].evidence)) != 0)
			return r;
		if (f[i].advice[0] != '\0' && (r = report_add_advice(c->rep,
		    f[i].cause, f[i].advice, srvcheck_finding_setting(sc,
		    &f[i]))) != 0)
			return r;
	}
	return 0;
}
