/*
 * collect.c - the stages of a check that gather evidence after the
 * reflector has reported (check_int.h): the TCP traceroute of failing
 * runs, the wait for late ICMP, the server name as resolved here, and
 * the freezing of every stage's observations into struct evidence for
 * the one classification.  No verdict is decided here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "check_int.h"
#include "classify.h"
#include "clock.h"
#include "err.h"
#include "log.h"

/* The name --server gave, as this host resolves it (srvcheck.h). */
void
check_server_name(struct check *c)
{
	struct sockaddr_storage svc = c->f.server;

	if (c->sc == NULL)
		return;
	addr_set_port((struct sockaddr *)&svc, c->cport);
	(void)srvcheck_observe(c->sc, c->o->server, (struct sockaddr *)&svc);
}

/* ---- TCP traceroute of failing runs (traceroute.h) ---- */

/* The group of probes with o's observation, or NULL. */
static struct check_trace *
check_trace_group(struct check *c, const struct probe_obs *o)
{
	size_t i;

	for (i = 0; i < c->n_groups; i++)
		if (evidence_same_obs(&c->traces[i].first, o))
			return &c->traces[i];
	return NULL;
}

/* Trace o's own 5-tuple (any source port if it never got one). */
static struct traceroute *
check_trace_start(struct check *c, const struct probe_obs *o)
{
	struct sockaddr_storage local;
	struct traceroute *tr;

	addr_store(&local, ADDR_SA(&o->local));
	if (local.ss_family != o->remote.ss_family) {
		memset(&local, 0, sizeof(local));
		local.ss_family = o->remote.ss_family;
	}
	tr = traceroute_new(c->base, (struct sockaddr *)&local,
	    (const struct sockaddr *)&o->remote, TRACEROUTE_MAX_TTL,
	    c->f.timeout_ms);
	if (tr != NULL && traceroute_start(tr) != 0) {
		traceroute_free(tr);
		tr = NULL;
	}
	return tr;
}

/*
 * After collect and bye: the reflector has reported and let go of the
 * ports, so a trace SYN can be neither an arrival nor a trace record of
 * the session.  The agent host's own trace still listens: its records
 * are taken first.  The traces run in parallel, each within one timeout.
 * Which probes need one is the classifier's question
 * (classify_wants_trace()); the answers are evidence, not verdicts.
 */
void
check_traceroute_start(struct check *c)
{
	size_t i;

	ctrace_merge(c->ct, c->pe);
	c->ct_merged = 1;
	for (i = 0; i < probe_count(c->pe) &&
	    c->n_groups < CHECK_MAX_TRACE_GROUPS; i++) {
		const struct probe_obs *o = probe_obs_at(c->pe, i);
		struct check_trace *g;

		if (o->kind == PROBE_ACTIVE || o->outcome == OUTCOME_NOT_RUN ||
		    check_trace_group(c, o) != NULL)
			continue;
		g = &c->traces[c->n_groups++];
		g->first = *o;
		if (c->n_traced < CHECK_MAX_TRACES &&
		    classify_wants_trace(o, &c->f) &&
		    (g->tr = check_trace_start(c, o)) != NULL)
			c->n_traced++;
	}
	if (c->n_traced > 0)
		log_debug("traceroute: %zu run(s) traced", c->n_traced);
}

/* Bounded: every trace ends within its budget. */
void
check_traceroute_wait(struct check *c)
{
	size_t k;
	int busy;

	do {
		busy = 0;
		for (k = 0; k < c->n_groups; k++)
			busy |= c->traces[k].tr != NULL &&
			    !traceroute_done(c->traces[k].tr);
	} while (busy && event_base_loop(c->base, EVLOOP_ONCE) == 0);
}

/* ---- the evidence, then the one classification ---- */

/*
 * 1 if some probe to o's destination address got an answer from beyond
 * the path: the reflector acked it, or a service there greeted it.  The
 * last router has then resolved that address's neighbour entry, so no
 * late host-unreachable can come for another port of it.
 */
static int
check_addr_answered(struct probe_engine *pe, const struct probe_obs *o)
{
	size_t i;

	for (i = 0; i < probe_count(pe); i++) {
		const struct probe_obs *p = probe_obs_at(pe, i);

		if ((p->outcome == OUTCOME_ACKED ||
		    p->outcome == OUTCOME_OTHER_SERVICE) &&
		    addr_equal((const struct sockaddr *)&p->remote,
		    (const struct sockaddr *)&o->remote))
			return 1;
	}
	return 0;
}

/*
 * A silent probe that nothing explains waits until its socket is
 * CHECK_LATE_WINDOW_MS old: a router that fails neighbour resolution
 * answers host-unreachable only then.  Not when another port of the same
 * address answered (check_addr_answered): the neighbour is there, and the
 * silence is a drop.
 */
void
check_late_wait(struct check *c)
{
	struct timespec t0;
	unsigned wait;
	size_t i;
	int wanted = 0;

	for (i = 0; c->pe != NULL && i < probe_count(c->pe) && !wanted; i++) {
		const struct probe_obs *o = probe_obs_at(c->pe, i);

		wanted = o->outcome == OUTCOME_TIMEOUT &&
		    classify_wants_trace(o, &c->f) &&
		    !check_addr_answered(c->pe, o);
	}
	if (!wanted || (wait = probe_late_wait_ms(c->pe,
	    CHECK_LATE_WINDOW_MS)) == 0)
		return;
	log_debug("waiting %u ms for late ICMP", wait);
	progress_stage(c->prog, "waiting %u ms for a late ICMP answer", wait);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (clock_ms_since(&t0) < wait) {
		struct timeval tv = { 0, 50000 };

		event_base_loopexit(c->base, &tv);
		if (event_base_loop(c->base, 0) < 0)
			break;
	}
}

/* The traces that ran, as evidence (copies of their paths). */
static int
check_ev_traces(struct check *c)
{
	size_t i;

	if (c->n_traced == 0)
		return 0;
	if ((c->ev_traces = calloc(c->n_traced, sizeof(*c->ev_traces))) ==
	    NULL)
		return FTP_ERR_NOMEM;
	for (i = 0; i < c->n_groups; i++) {
		struct evidence_trace *t;

		if (c->traces[i].tr == NULL)
			continue;
		t = &c->ev_traces[c->n_ev_traces++];
		t->first = c->traces[i].first;
		t->path = *traceroute_path(c->traces[i].tr);
	}
	return 0;
}

/* The probes as observed (control and passive), in order: the engine's
 * own array, not a copy (a full passive range is 64,512 of them; nothing
 * changes them after this point). */
static int
check_ev_probes(struct check *c)
{
	c->ev_probes = probe_obs_array(c->pe);
	c->n_ev_probes = probe_count(c->pe);
	return 0;
}

static int
check_ev_notes(struct check *c)
{
	const json_t *n;
	size_t i;

	if (json_array_size(c->notes) == 0)
		return 0;
	if ((c->ev_notes = calloc(json_array_size(c->notes),
	    sizeof(*c->ev_notes))) == NULL)
		return FTP_ERR_NOMEM;
	json_array_foreach(c->notes, i, n)
		c->ev_notes[i] = json_string_value(n);
	return 0;
}

/* Everything the stages observed, frozen for classify(). */
int
check_evidence(struct check *c, struct evidence *e)
{
	int r, tls;

	if (!c->ct_merged && c->pe != NULL)
		ctrace_merge(c->ct, c->pe);
	if (c->act != NULL) {
		active_obs(c->act, &c->ev_active);
		ctrace_apply(c->ct, &c->ev_active);
	}
	if (c->pe != NULL && ((r = check_ev_probes(c)) != 0 ||
	    (r = check_ev_traces(c)) != 0))
		return r;
	if ((r = check_ev_notes(c)) != 0)
		return r;
	/* The remedy for data connections depends on whether the server
	 * offers AUTH TLS, which only the real FTP client saw (patch.h). */
	tls = c->svc != NULL && c->svc->tls.attempted &&
	    c->svc->tls.reply.code == 234;
	fixes_settle_tls(c->fx, tls);
	/* Our own host's patches, checked by our kernel (fixes.h). */
	if ((r = fixes_derive_client(c->fx, c->ev_probes, c->n_ev_probes,
	    c->act != NULL ? &c->ev_active : NULL, &c->f, c->cport,
	    c->o->fix_style, tls)) != 0)
		return r;
	if (c->pe != NULL)
		c->n_late = probe_late_icmp(c->pe, c->late, CHECK_MAX_LATE);
	c->f.foreign = c->ro.foreign;
	memset(e, 0, sizeof(*e));
	e->f = &c->f;
	e->agent_version = FTPATH_VERSION;
	e->reflector_version = c->w.reflector;
	e->server_name = c->server_name[0] ? c->server_name : c->host;
	e->control_port = c->cport;
	e->probes = c->ev_probes;
	e->n_probes = c->n_ev_probes;
	e->active = c->act != NULL ? &c->ev_active : NULL;
	e->traces = c->ev_traces;
	e->n_traces = c->n_ev_traces;
	e->late = c->late;
	e->n_late = c->n_late;
	e->fixes = fixes_list(c->fx, &e->n_fixes);
	e->sgs = c->sgs;
	e->n_sgs = c->n_sgs;
	e->alg = c->alg;
	e->svc = c->svc;
	e->sc = c->sc;
	e->mtu = c->mtu;
	e->idle = c->idle;
	e->notes = c->ev_notes;
	e->n_notes = json_array_size(c->notes);
	e->channel = c->channel;
	e->lost = c->lost;
	e->duration_ms = clock_ms_since(&c->t0);
	return 0;
}

