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

static int
sg_is_server(const struct sg_ev *ev, const struct sg_cidr *c)
{
	size_t i;

	if (sg_cidr_contains(c, (const struct sockaddr *)&ev->server))
		return 1;
	for (i = 0; i < ev->in->nserver_local; i++)
		if (sg_cidr_contains(c,
		    (const struct sockaddr *)&ev->in->server_local[i]))
			return 1;
	return 0;
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
		if (sg_is_server(ev, &p->cidr))
			return SG_M_YES;
		/* A private prefix may be the server's inside address
		 * behind the public one dialled. */
		if (ev->in->nserver_local == 0 && sg_cidr_private(&p->cidr) &&
		    !sg_addr_private((const struct sockaddr *)&ev->server))
			return SG_M_UNKNOWN;
		return SG_M_NO;
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

/* All of the flow's source ports (yes), none (no) or some (unknown). */
static enum sg_m
sg_sports(const struct sg_ports *p, const struct portrange *s)
{
	unsigned port, in = 0, n = (unsigned)s->hi - s->lo + 1;
	size_t i;

	if (p->any)
		return SG_M_YES;
	for (i = 0; i < p->n; i++) {
		unsigned lo = p->r[i].lo > s->lo ? p->r[i].lo : s->lo;
		unsigned hi = p->r[i].hi < s->hi ? p->r[i].hi : s->hi;

		if (lo <= hi)
			in += hi - lo + 1;
	}
	/* Overlapping ranges may count twice; count exactly then. */
	if (in > n) {
		in = 0;
		for (port = s->lo; port <= s->hi; port++)
			in += sg_ports_has(p, port) ? 1 : 0;
	}
	return in == 0 ? SG_M_NO : in >= n ? SG_M_YES : SG_M_UNKNOWN;
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
	struct sg_match m;
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
		if (m.m == SG_M_UNKNOWN && d->unk_rule == NULL) {
			d->unk_rule = r;
			d->unk = m;
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
	if (d->unk_rule != NULL && d->unk_rule->action != act)
		d->allow = SG_UNKNOWN;
	else
		d->unk_rule = NULL;
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

