/*
 * classify_int.h - what the parts of the one classifier share.  Not for
 * other modules: classify.h is the interface.
 *
 * classify.c is the driver: the rules of each path in order, then the
 * causes outside the paths.  classify_ev.c writes the evidence sentences
 * and keeps the fixes a cause answers; classify_trace.c what the traces,
 * late ICMP and the traceroute say about one path; classify_helper.c a
 * path that works only through an FTP helper or ALG; classify_server.c
 * the causes the FTP server gives outside the paths; classify_session.c
 * the causes of the session as a whole (MTU, idle, NAT, the channel,
 * the notes); classify_sg.c holds the security-group rule.
 */
#ifndef FTPATH_AGENT_CLASSIFY_INT_H
#define FTPATH_AGENT_CLASSIFY_INT_H

#include <stddef.h>

#include "evidence.h"
#include "mtu.h"
#include "report.h"
#include "sg.h"
#include "srvcheck.h"

#define CLASSIFY_FMT(a, b) __attribute__((format(printf, a, b)))
#define CLASSIFY_MAX_FIXES	64

/* The verdicts per path as runs of ports, for the security groups. */
struct classify_sg {
	struct sg_measure *m[SG_NPATHS];
	size_t n[SG_NPATHS], cap[SG_NPATHS];
};

/* One classification: the evidence, the report it fills and what the
 * rules decided before the paths (the server host, the MTU test). */
struct classify_ctx {
	const struct evidence *e;
	struct report *rep;
	struct srvcheck_result sres;
	/* The real FTP client's passive data connections that moved data,
	 * and the probe of the same port (NULL: not probed). */
	const struct ftpcheck_data *pdata[2];
	enum ftpcheck_mode pmode[2];
	const struct probe_obs *pprobe[2];
	char refused[FTPCHECK_TEXT_MAX];	/* a 421 seen by a probe */
	/* The cause each evidence fix answers (CAUSE_NONE: none). */
	enum cause fix_cause[CLASSIFY_MAX_FIXES];
	struct classify_sg sgm;		/* verdicts as runs, for --sg */
	struct mtu_result mres;		/* mtu.h, decided first */
};

/* classify_ev.c: evidence sentences and fixes */
/* One more sentence on v; the last is overwritten when v is full. */
void classify_ev_push(struct verdict *v, enum verdict_stage st,
    const char *fmt, ...) CLASSIFY_FMT(3, 4);
/* The first sentence of v at stage st (else the first, else a stock
 * one), for a rule that quotes what it overturns. */
const char *classify_ev_first(const struct verdict *v,
    enum verdict_stage st);
/* Note the fixes that answer o's final verdict v. */
void classify_mark_fixes(struct classify_ctx *c, const struct probe_obs *o,
    const struct verdict *v);
/* Report the fixes noted.  0 or FTP_ERR_NOMEM. */
int classify_fixes(struct classify_ctx *c);

/* classify_trace.c: the traces, late ICMP and traceroute of one path */
/* o as the reflector's trace could see it: a copy in *copy (with the
 * why in reason) when o left from an address of another family than
 * the agent's, which is the one the reflector traces; else o. */
const struct probe_obs *classify_trace_scope(const struct session_facts *f,
    const struct probe_obs *o, struct probe_obs *copy, char *reason,
    size_t len);
/* o with the ICMP that reached its socket after it was judged silent
 * (in *copy; *late the ICMP, *own whether it answered o itself), else o
 * and *late NULL. */
const struct probe_obs *classify_late_icmp(const struct evidence *e,
    const struct probe_obs *o, struct probe_obs *copy,
    const struct evidence_late_icmp **late, int *own);
/* The sentences on v that say the ICMP came late. */
void classify_late_evidence(const struct evidence_late_icmp *late, int own,
    struct verdict *v);
/* The traceroute of o, applied to v (its hops; intermittent when it got
 * through on the same 5-tuple); NULL when o wanted none or has none. */
const struct evidence_trace *classify_trace(const struct evidence *e,
    const struct probe_obs *o, struct verdict *v);
/* A silent drop: what the control channel says against a routing gap. */
void classify_silent_drop(const struct session_facts *f,
    const struct probe_obs *o, struct verdict *v);

/* classify_helper.c: the real FTP client and the ALG over the paths */
/* Which of the client's passive data connections moved data, and the
 * probes of their ports (c->pdata, c->pmode, c->pprobe). */
void classify_index_service(struct classify_ctx *c);
/* A passive path the client moved data over passes as alg-dependent. */
void classify_passive_service(const struct classify_ctx *c,
    const struct probe_obs *o, struct verdict *v);
/* The active path that worked through the ALG's pinhole or for the
 * client's active transfer passes as alg-dependent. */
void classify_active_helper(const struct classify_ctx *c,
    const struct probe_obs *o, struct verdict *v);

/* classify_server.c: the ALG, the service and the server host.  Each
 * int function returns 0 or FTP_ERR_NOMEM. */
/* The server host's facts held against the probes and the real FTP
 * client (c->sres); before the paths, whose dns-mismatch rule reads
 * it. */
void classify_decide_server_host(struct classify_ctx *c);
/* The "alg" section and cause alg-rewrite. */
int classify_alg(struct classify_ctx *c);
/* The real FTP client's section and the causes of its session. */
int classify_service(struct classify_ctx *c);
/* Cause alg-dependent for the data modes that FTPS broke. */
int classify_ftps(struct classify_ctx *c);
/* The server host's section, notes and causes (a 421 a probe met stands
 * in for the client's). */
int classify_server_host(struct classify_ctx *c);

/* classify_session.c: the causes of the session as a whole.  Each int
 * function returns 0 or FTP_ERR_NOMEM. */
/* A data path that passed fails as mtu-blackhole when the MTU test
 * (c->mres) lost large segments in either direction. */
void classify_mtu_path(const struct classify_ctx *c,
    const struct probe_obs *o, struct verdict *v);
/* The "mtu" section, a cause per direction and the channel's note. */
int classify_mtu(struct classify_ctx *c);
/* The "idle" section and cause idle-timeout. */
int classify_idle(struct classify_ctx *c);
/* Cause nat (a warning) for either side's NAT. */
int classify_nat(struct classify_ctx *c);
/* A note when the control channel never carried a session. */
int classify_channel(struct classify_ctx *c);
/* The stages' notes, an intermittent channel, probes not run. */
int classify_notes(struct classify_ctx *c);

/* classify_sg.c: the security groups */
/* Record path o's final verdict v.  0 or FTP_ERR_NOMEM. */
int classify_sg_measure(struct classify_sg *m, const struct probe_obs *o,
    const struct verdict *v);
void classify_sg_free(struct classify_sg *m);

/* Evaluate e's groups against the measured runs: security_groups,
 * notes, and evidence on the causes a group explains.  0 or
 * FTP_ERR_NOMEM. */
int classify_sg(const struct evidence *e, const struct classify_sg *m,
    struct report *rep);

#endif
