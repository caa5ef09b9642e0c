/*
 * classify_sg.c - the cloud security groups of --sg held against what
 * was measured (classify.h; the evaluator is sg.h).  Part of the one
 * classifier: it runs last, over the verdicts the other rules decided,
 * and adds the evidence a group gives to a measured cause.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "classify_int.h"
#include "err.h"
#include "sg.h"

static enum sg_path
sg_path_of(enum probe_kind k)
{
	return k == PROBE_CONTROL ? SG_PATH_CONTROL : k == PROBE_PASSIVE ?
	    SG_PATH_PASSIVE : SG_PATH_ACTIVE;
}

int
classify_sg_measure(struct classify_sg *m, const struct probe_obs *o,
    const struct verdict *v)
{
	enum sg_path p = sg_path_of(o->kind);
	const char *cause = cause_name(v->cause);
	enum sg_measured res = v->pass ? SG_PASSED : SG_FAILED;
	struct sg_measure *last = m->n[p] ? &m->m[p][m->n[p] - 1] : NULL;
	uint16_t port = o->kind == PROBE_ACTIVE ? 0 : o->port;

	/* consecutive ports with one result are one run */
	if (last != NULL && port != 0 && last->ports.hi + 1u == port &&
	    last->result == res && (last->cause == cause ||
	    (last->cause && cause && strcmp(last->cause, cause) == 0))) {
		last->ports.hi = port;
		return 0;
	}
	if (m->n[p] == m->cap[p]) {
		size_t cap = m->cap[p] ? 2 * m->cap[p] : 16;
		struct sg_measure *nm = reallocarray(m->m[p], cap,
		    sizeof(*nm));

		if (nm == NULL)
			return FTP_ERR_NOMEM;
		m->m[p] = nm;
		m->cap[p] = cap;
	}
	last = &m->m[p][m->n[p]++];
	last->ports.lo = last->ports.hi = port;
	last->result = res;
	last->cause = cause;
	return 0;
}

void
classify_sg_free(struct classify_sg *m)
{
	int p;

	for (p = 0; p < SG_NPATHS; p++)
		free(m->m[p]);
	memset(m, 0, sizeof(*m));
}

static void
sg_input_of(const struct evidence *e, const struct classify_sg *m,
    struct sg_input *in, struct sg_measure *channel)
{
	size_t i;
	int p;

	memset(in, 0, sizeof(*in));
	in->client = e->f->agent_observed;
	in->server = e->f->server;
	in->control_port = e->control_port;
	for (i = 0; i < e->n_probes; i++) {
		const struct probe_obs *o = &e->probes[i];

		if (o->kind != PROBE_PASSIVE)
			continue;
		if (in->passive.lo == 0 || o->port < in->passive.lo)
			in->passive.lo = o->port;
		if (o->port > in->passive.hi)
			in->passive.hi = o->port;
	}
	if (e->active != NULL) {
		in->active_sport = e->active->port;
		in->active_dports.lo = in->active_dports.hi = addr_port(
		    (const struct sockaddr *)&e->active->remote);
	}
	in->channel_port = addr_port((const struct sockaddr *)&e->f->dialled);
	/* The channel carried this session: it passed. */
	memset(channel, 0, sizeof(*channel));
	channel->result = e->channel.failed ? SG_FAILED : SG_PASSED;
	in->measure[SG_PATH_CHANNEL] = channel;
	in->nmeasure[SG_PATH_CHANNEL] = 1;
	for (p = 0; p < SG_PATH_CHANNEL; p++) {
		in->measure[p] = m->m[p];
		in->nmeasure[p] = m->n[p];
	}
}

/* A measured cause a denying group explains gains its evidence. */
static int
sg_explained(struct report *rep, const struct sg_group_view *g,
    const struct sg_path_view *pv, const struct classify_sg *m)
{
	enum sg_path p = strcmp(pv->name, "control") == 0 ? SG_PATH_CONTROL :
	    strcmp(pv->name, "passive") == 0 ? SG_PATH_PASSIVE :
	    strcmp(pv->name, "active") == 0 ? SG_PATH_ACTIVE : SG_NPATHS;
	char ev[768], label[96], ports[24];
	size_t i;

	if (p == SG_NPATHS || pv->allowed != SG_DENIED || !pv->explains)
		return 0;
	for (i = 0; i < m->n[p]; i++) {
		const struct sg_measure *x = &m->m[p][i];
		enum cause c;

		if (x->result != SG_FAILED || x->cause == NULL ||
		    (c = cause_from_name(x->cause)) == CAUSE_NONE)
			continue;
		if (pv->ports.lo == pv->ports.hi)
			snprintf(ports, sizeof(ports), "%u", pv->ports.lo);
		else
			snprintf(ports, sizeof(ports), "%u-%u", pv->ports.lo,
			    pv->ports.hi);
		snprintf(label, sizeof(label), "%s %s", g->provider, g->group);
		snprintf(ev, sizeof(ev), "%s %s %s (%s) denies %s tcp/%s "
		    "(%s): it explains the measured %s", g->provider, g->kind,
		    g->group, g->file, pv->name, ports, pv->rule ? pv->rule :
		    "default", x->cause);
		return report_add_cause(rep, REPORT_PART_SG, REPORT_FAILURE, c,
		    label, ev);
	}
	return 0;
}

static int
sg_findings(struct report *rep, const struct sg *sg,
    const struct classify_sg *m)
{
	struct sg_group_view g;
	char note[768];
	size_t i, k;
	int r;

	for (i = 0; sg_group(sg, i, &g) == 0; i++)
		for (k = 0; k < g.npaths; k++) {
			if ((r = sg_explained(rep, &g, &g.paths[k], m)) != 0)
				return r;
			if (g.paths[k].note == NULL)
				continue;
			snprintf(note, sizeof(note), "%s %s (%s), %s: %s",
			    g.provider, g.group, g.file, g.paths[k].name,
			    g.paths[k].note);
			if ((r = report_note(rep, note)) != 0)
				return r;
		}
	return 0;
}

int
classify_sg(const struct evidence *e, const struct classify_sg *m,
    struct report *rep)
{
	struct sg_measure channel;
	struct sg_input in;
	char err[256], note[512];
	size_t i;
	int r;

	if (e->n_sgs == 0)
		return 0;
	sg_input_of(e, m, &in, &channel);
	for (i = 0; i < e->n_sgs; i++) {
		if ((r = sg_eval(e->sgs[i], &in, err, sizeof(err))) != 0) {
			if (r == FTP_ERR_NOMEM)
				return r;
			snprintf(note, sizeof(note), "security groups not "
			    "evaluated: %s", err);
			if ((r = report_note(rep, note)) != 0)
				return r;
			continue;
		}
		if ((r = sg_findings(rep, e->sgs[i], m)) != 0)
			return r;
	}
	return report_set_sgs(rep, (const struct sg *const *)e->sgs,
	    e->n_sgs);
}
