/*
 * sg_match.c - one rule against one flow and port, and a group's
 * decision from its rules (see sg_eval.c for the whole evaluation).
 *
 * A rule's match is three-valued: yes, no, or unknown when it depends on
 * what the file does not hold (the VirtualNetwork tag for a private
 * client, a prefix that may be the server's private address).  Members
 * of groups, prefix lists and tags that a public client cannot be in are
 * taken as "no" and the assumption is listed, so that the common case
 * still gets a verdict and the reader sees what it rests on.
 *
 * Ordered groups (NACL, NSG, GCP): the first rule that matches decides;
 * an unknown rule before it with the other action makes the result
 * unknown.  AWS security groups are a union of allows.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "sg_int.h"

/* Store an assumption once; the stored copy, or NULL on ENOMEM. */
__attribute__((format(printf, 2, 3)))
static const char *
sg_assume(struct sg_ev *ev, const char *fmt, ...)
{
	struct sg_strv *sv = &ev->res->assume;
	char text[512];
	va_list ap;
	size_t i;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	for (i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], text) == 0)
			return sv->v[i];
	if (sg_strv_add(sv, 0, "%s", text) != 0) {
		ev->rc = FTP_ERR_NOMEM;
		return NULL;
	}
	return sv->v[sv->n - 1];
}

static enum sg_m
sg_remote_peer(struct sg_ev *ev, const struct sg_rule *r,
    const struct sg_peer *p, const char **assumed)
{
	const struct sockaddr *cl = (const struct sockaddr *)&ev->client;
	int priv = sg_addr_private(cl);

	switch (p->kind) {
	case SG_PEER_ANY:
		return SG_M_YES;
	case SG_PEER_CIDR:
		return sg_cidr_contains(&p->cidr, cl) ? SG_M_YES : SG_M_NO;
	case SG_PEER_INTERNET:
		if (priv)
			return SG_M_UNKNOWN;
		/* A tag, not a list: say what the match rests on. */
		*assumed = sg_assume(ev, "%s: the client's public address %s "
		    "is taken as part of the service tag Internet", r->name,
		    ev->client_txt);
		return SG_M_YES;
	case SG_PEER_LB:
		/* The platform's health probes, never an FTP client. */
		return SG_M_NO;
	case SG_PEER_VNET:
	case SG_PEER_MEMBER:
		if (priv)
			return SG_M_UNKNOWN;
		*assumed = sg_assume(ev, "%s: assumed the client's public "
		    "address %s is not in %s%s (its members are not in the "
		    "file)", r->name, ev->client_txt, p->kind == SG_PEER_VNET ?
		    "the service tag " : "", p->text);
		return SG_M_NO;
	default:
		return SG_M_UNKNOWN;
	}
}

static struct sg_match
sg_remote(struct sg_ev *ev, const struct sg_rule *r)
{
	struct sg_match m = { SG_M_NO, NULL, NULL, SG_U_NONE, NULL };
	const char *assumed = NULL;
	enum sg_m pm;
	size_t i;

	for (i = 0; i < r->remote.n; i++) {
		const char *a = NULL;

		pm = sg_remote_peer(ev, r, &r->remote.p[i], &a);
		if (pm == SG_M_YES) {
			m.m = SG_M_YES;
			m.peer = &r->remote.p[i];
			m.assumed = a;
			return m;
		}
		if (a != NULL && assumed == NULL)
			assumed = a;
		if (pm == SG_M_UNKNOWN && m.m == SG_M_NO) {
			m.m = SG_M_UNKNOWN;
			m.why = &r->remote.p[i];
			m.unk = SG_U_REMOTE;
		}
	}
	if (m.m == SG_M_NO)
		m.assumed = assumed;
	return m;
}

/* Whether c holds one of the server host's own addresses. */
static int
sg_is_local(const struct sg_ev *ev, const struct sg_cidr *c)
{
	size_t i;

	for (i = 0; i < ev->in->nserver_local; i++)
		if (sg_cidr_contains(c,
		    (const struct sockaddr *)&ev->in->server_local[i]))
			return 1;
	return 0;
}

/* GCP: a destination range may name the internal or the external
 * address; a private one, with the host's own addresses unknown, may
 * be the server's inside address behind the public one dialled. */
static enum sg_m
sg_local_cidr(const struct sg_ev *ev, const struct sg_cidr *c)
{
	const struct sockaddr *srv = (const struct sockaddr *)&ev->server;

	if (sg_cidr_contains(c, srv) || sg_is_local(ev, c))
		return SG_M_YES;
	if (ev->in->nserver_local == 0 && sg_cidr_private(c) &&
	    !sg_addr_private(srv))
		return SG_M_UNKNOWN;
	return SG_M_NO;
}

/* Azure matches a VM's traffic by its private address (a public IP is
 * translated before the NSG): a prefix that holds only the public
 * address dialled does not decide by itself. */
static enum sg_m
sg_local_nsg(const struct sg_ev *ev, const struct sg_cidr *c)
{
	const struct sockaddr *srv = (const struct sockaddr *)&ev->server;
	int dialled = sg_cidr_contains(c, srv), priv = sg_addr_private(srv);

	if (sg_is_local(ev, c) || (dialled && (priv || c->plen == 0)))
		return SG_M_YES;
	if (ev->in->nserver_local > 0)
		return SG_M_NO;
	if ((dialled && !priv) || (sg_cidr_private(c) && !priv))
		return SG_M_UNKNOWN;
	return SG_M_NO;
}

static enum sg_m
sg_local_peer(struct sg_ev *ev, const struct sg_rule *r,
    const struct sg_peer *p, const char **assumed)
{
	switch (p->kind) {
	case SG_PEER_ANY:
	case SG_PEER_VNET:	/* the group's own host is in its VNet */
		return SG_M_YES;
	case SG_PEER_CIDR:
		return ev->g->kind == SG_KIND_NSG ?
		    sg_local_nsg(ev, &p->cidr) : sg_local_cidr(ev, &p->cidr);
	case SG_PEER_MEMBER:
		*assumed = sg_assume(ev, "%s: assumed the FTP server is in %s",
		    r->name, p->text);
		return SG_M_YES;
	default:
		return SG_M_UNKNOWN;
	}
}

static struct sg_match
sg_local(struct sg_ev *ev, const struct sg_rule *r)
{
	struct sg_match m = { SG_M_NO, NULL, NULL, SG_U_NONE, NULL };
	const char *assumed = NULL;
	enum sg_m pm;
	size_t i;

	if (r->local_any)
		m.m = SG_M_YES;
	for (i = 0; !r->local_any && i < r->local.n; i++) {
		pm = sg_local_peer(ev, r, &r->local.p[i], &assumed);
		if (pm == SG_M_YES) {
			m.m = SG_M_YES;
			m.assumed = assumed;
			break;
		}
		if (pm == SG_M_UNKNOWN && m.m == SG_M_NO) {
			m.m = SG_M_UNKNOWN;
			m.why = &r->local.p[i];
			m.unk = SG_U_LOCAL;
		}
	}
	if (m.m == SG_M_YES && r->scope != NULL)
		m.assumed = sg_assume(ev, "%s: applies only to instances with "
		    "%s; assumed the FTP server is one of them", r->name,
		    r->scope);
	return m;
}

static int
sg_ports_has(const struct sg_ports *p, unsigned port)
{
	size_t i;

	if (p->any)
		return 1;
	for (i = 0; i < p->n; i++)
		if (port >= p->r[i].lo && port <= p->r[i].hi)
			return 1;
	return 0;
}

/* All of the flow's source ports (yes), none (no) or some (unknown).
 * The cover is walked range by range rather than port by port: a
 * hostile file may hold thousands of overlapping ranges. */
static enum sg_m
sg_sports(const struct sg_ports *p, const struct portrange *s)
{
	unsigned pos = s->lo, reach;
	size_t i;
	int any = 0;

	if (p->any)
		return SG_M_YES;
	for (i = 0; i < p->n && !any; i++)
		any = p->r[i].lo <= s->hi && p->r[i].hi >= s->lo;
	if (!any)
		return SG_M_NO;
	while (pos <= s->hi) {
		reach = 0;
		for (i = 0; i < p->n; i++)
			if (p->r[i].lo <= pos && p->r[i].hi >= pos &&
			    p->r[i].hi + 1u > reach)
				reach = p->r[i].hi + 1u;
		if (reach == 0)
			return SG_M_UNKNOWN;	/* a gap at pos */
		pos = reach;
	}
	return SG_M_YES;
}

static struct sg_match
sg_rule_match(struct sg_ev *ev, const struct sg_rule *r,
    const struct sg_flow *f, unsigned port)
{
	struct sg_match m = { SG_M_NO, NULL, NULL, SG_U_NONE, NULL }, loc;
	enum sg_m sp;

	if (r->dir != f->dir || !sg_ports_has(&r->dports, port) ||
	    (sp = sg_sports(&r->sports, &f->sport)) == SG_M_NO)
		return m;
	m = sg_remote(ev, r);
	if (m.m == SG_M_NO)
		return m;
	loc = sg_local(ev, r);
	if (loc.m == SG_M_NO)
		return loc;
	if (m.m == SG_M_YES && loc.m == SG_M_UNKNOWN) {
		loc.peer = m.peer;
		m = loc;
	} else if (m.m == SG_M_YES && loc.assumed != NULL) {
		m.assumed = loc.assumed;
	}
	if (m.m == SG_M_YES && sp == SG_M_UNKNOWN) {
		m.m = SG_M_UNKNOWN;
		m.unk = SG_U_SPORT;
	}
	return m;
}

static enum sg_action
sg_default(const struct sg_group *g, enum sg_dir dir)
{
	/* GCP's implied rules and Azure's defaults (when the file lacks
	 * them) let egress out; AWS lists its egress rules. */
	if (dir == SG_OUT && (g->kind == SG_KIND_FW || g->kind == SG_KIND_NSG))
		return SG_ALLOW;
	return SG_DENY;
}

static enum sg_allow
sg_allow_of(enum sg_action a)
{
	return a == SG_ALLOW ? SG_ALLOWED : SG_DENIED;
}

/* AWS security group: allowed if any rule allows. */
static void
sg_decide_union(struct sg_ev *ev, const struct sg_flow *f, unsigned port,
    struct sg_dec *d)
{
	const struct sg_group *g = ev->g;
	struct sg_match m;
	size_t i;

	d->allow = SG_DENIED;
	for (i = 0; i < g->nrules; i++) {
		m = sg_rule_match(ev, &g->rules[i], f, port);
		if (m.m == SG_M_YES) {
			d->allow = SG_ALLOWED;
			d->rule = &g->rules[i];
			d->peer = m.peer;
			d->assumed = m.assumed;
			d->unk_rule = NULL;
			return;
		}
		if (m.m == SG_M_UNKNOWN && d->unk_rule == NULL) {
			d->unk_rule = &g->rules[i];
			d->unk = m;
		}
		if (m.m == SG_M_NO && m.assumed != NULL && d->assumed == NULL)
			d->assumed = m.assumed;
	}
	if (d->unk_rule != NULL)
		d->allow = SG_UNKNOWN;
}

/* Ordered groups: the first match decides. */
static void
sg_decide_ordered(struct sg_ev *ev, const struct sg_flow *f,
    unsigned port, struct sg_dec *d)
{
	const struct sg_group *g = ev->g;
	const struct sg_rule *r;
	const char *assumed[2] = { NULL, NULL };	/* by action */
	const struct sg_rule *unk[2] = { NULL, NULL };	/* by action */
	struct sg_match m, unkm[2];
	const char *self = NULL;		/* the deciding rule's own */
	enum sg_action act = sg_default(g, f->dir);
	size_t i;

	for (i = 0; i < g->nrules && d->rule == NULL; i++) {
		r = &g->rules[ev->order[i]];
		m = sg_rule_match(ev, r, f, port);
		if (r->disabled) {
			if (m.m == SG_M_YES && d->disabled == NULL)
				d->disabled = r;
			continue;
		}
		if (m.m == SG_M_UNKNOWN && unk[r->action] == NULL) {
			unk[r->action] = r;
			unkm[r->action] = m;
		} else if (m.m == SG_M_NO && m.assumed != NULL &&
		    assumed[r->action] == NULL) {
			assumed[r->action] = m.assumed;
		} else if (m.m == SG_M_YES) {
			d->rule = r;
			d->peer = m.peer;
			act = r->action;
			self = m.assumed;
		}
	}
	d->allow = sg_allow_of(act);
	/* What the verdict rests on: the deciding rule's own assumption
	 * (target tags), else one that kept a rule of the other action
	 * from deciding. */
	d->assumed = self != NULL ? self : assumed[act == SG_ALLOW];
	/* A rule of the other action that may have matched first. */
	if (unk[act == SG_ALLOW] != NULL) {
		d->allow = SG_UNKNOWN;
		d->unk_rule = unk[act == SG_ALLOW];
		d->unk = unkm[act == SG_ALLOW];
	}
	if (d->disabled != NULL && d->disabled->action == act)
		d->disabled = NULL;
}

void
sg_decide(struct sg_ev *ev, const struct sg_flow *f, unsigned port,
    struct sg_dec *d)
{
	memset(d, 0, sizeof(*d));
	if (ev->g->kind == SG_KIND_SG)
		sg_decide_union(ev, f, port, d);
	else
		sg_decide_ordered(ev, f, port, d);
}

