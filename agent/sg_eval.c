/*
 * sg_eval.c - evaluate each group of a file against the measured FTP
 * paths (see sg.h for what is evaluated, sg_match.c for how one rule
 * and one port are judged).
 *
 * A path's ports are cut where any rule's or measurement's range starts
 * or ends, so one decision per piece covers a whole range (a passive
 * range may be 1024-65535); equal neighbours then merge into the runs
 * the report shows.  A stateless network ACL also needs the way back,
 * summed up over the client's ephemeral ports (or port 20 for the
 * active path's answers).  Each run says whether the group explains
 * what was measured, and why in a note.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "sg_int.h"

static int
sg_cut_cmp(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? -1 : x > y;
}

/* Add cut v if it falls inside (lo, hi]. */
static void
sg_cut_add(unsigned *cuts, size_t *n, unsigned v, const struct portrange *r)
{
	if (v > r->lo && v <= r->hi)
		cuts[(*n)++] = v;
}

/* The sorted starts of the pieces of r: r.lo and every boundary of a
 * rule's or a measurement's range inside it.  Caller frees. */
static unsigned *
sg_cuts(const struct sg_ev *ev, const struct portrange *r,
    const struct sg_measure *ms, size_t nm, size_t *ncuts)
{
	const struct sg_group *g = ev->g;
	unsigned *cuts;
	size_t i, j, n = 1, max = 1 + 2 * nm;

	for (i = 0; i < g->nrules; i++)
		max += 2 * g->rules[i].dports.n;
	if ((cuts = calloc(max, sizeof(*cuts))) == NULL)
		return NULL;
	cuts[0] = r->lo;
	for (i = 0; i < g->nrules; i++) {
		for (j = 0; j < g->rules[i].dports.n; j++) {
			sg_cut_add(cuts, &n, g->rules[i].dports.r[j].lo, r);
			sg_cut_add(cuts, &n, g->rules[i].dports.r[j].hi + 1u, r);
		}
	}
	for (i = 0; i < nm; i++) {
		if (ms[i].ports.lo == 0)
			continue;
		sg_cut_add(cuts, &n, ms[i].ports.lo, r);
		sg_cut_add(cuts, &n, ms[i].ports.hi + 1u, r);
	}
	qsort(cuts, n, sizeof(*cuts), sg_cut_cmp);
	for (i = 1, j = 1; i < n; i++)
		if (cuts[i] != cuts[j - 1])
			cuts[j++] = cuts[i];
	*ncuts = j;
	return cuts;
}

/* The measurement that covers port, or NULL. */
static const struct sg_measure *
sg_measure_at(const struct sg_measure *ms, size_t nm, unsigned port)
{
	size_t i;

	for (i = 0; i < nm; i++)
		if (ms[i].ports.lo == 0 ||
		    (port >= ms[i].ports.lo && port <= ms[i].ports.hi))
			return &ms[i];
	return NULL;
}

static int
sg_dec_equal(const struct sg_dec *a, const struct sg_dec *b)
{
	return a->allow == b->allow && a->rule == b->rule &&
	    a->peer == b->peer && a->unk_rule == b->unk_rule &&
	    a->disabled == b->disabled && a->assumed == b->assumed;
}

/* The way back of a stateless group, summed up over its ports. */
struct sg_ret {
	int stateless;
	enum sg_allow allow;
	const struct sg_rule *rule;	/* the earliest denying, else the
					 * first piece's */
	char allowed_ports[96];		/* when only some are allowed */
};

static void
sg_return(struct sg_ev *ev, const struct sg_flow *f, struct sg_ret *ret)
{
	struct sg_dec d;
	size_t i, n = 0, nallow = 0, ndeny = 0, len;
	unsigned *cuts = sg_cuts(ev, &f->dports, NULL, 0, &n);

	memset(ret, 0, sizeof(*ret));
	ret->stateless = 1;
	if (cuts == NULL) {
		ev->rc = FTP_ERR_NOMEM;
		return;
	}
	for (i = 0; i < n; i++) {
		unsigned hi = i + 1 < n ? cuts[i + 1] - 1 : f->dports.hi;

		sg_decide(ev, f, cuts[i], &d);
		/* The earliest denying rule: a fix must come before it. */
		if (i == 0 || (d.allow == SG_DENIED && (ndeny == 0 ||
		    (d.rule != NULL && (ret->rule == NULL ||
		    d.rule->priority < ret->rule->priority)))))
			ret->rule = d.rule;
		nallow += d.allow == SG_ALLOWED;
		ndeny += d.allow == SG_DENIED;
		len = strlen(ret->allowed_ports);
		if (d.allow == SG_ALLOWED)
			snprintf(ret->allowed_ports + len,
			    sizeof(ret->allowed_ports) - len, "%s%u-%u",
			    len > 0 ? "," : "", cuts[i], hi);
	}
	free(cuts);
	if (nallow == n)
		ret->allow = SG_ALLOWED;
	else if (ndeny == n)
		ret->allow = SG_DENIED;
	else
		ret->allow = SG_UNKNOWN;
}

/* The flows of path p, or 0 when the input leaves it out. */
static int
sg_path_flows(const struct sg_ev *ev, enum sg_path p, struct sg_flow *fwd,
    struct sg_flow *back)
{
	const struct sg_input *in = ev->in;
	uint16_t port = p == SG_PATH_CONTROL ? in->control_port :
	    p == SG_PATH_CHANNEL ? in->channel_port : 0;

	memset(fwd, 0, sizeof(*fwd));
	memset(back, 0, sizeof(*back));
	if (p == SG_PATH_ACTIVE) {
		if (in->active_dports.lo == 0 || in->active_sport == 0)
			return 0;
		*fwd = (struct sg_flow){ SG_OUT,
		    { in->active_sport, in->active_sport }, in->active_dports };
		*back = (struct sg_flow){ SG_IN, in->active_dports,
		    { in->active_sport, in->active_sport } };
		return 1;
	}
	if (p == SG_PATH_PASSIVE) {
		if (in->passive.lo == 0)
			return 0;
		*fwd = (struct sg_flow){ SG_IN, ev->eph, in->passive };
	} else {
		if (port == 0)
			return 0;
		*fwd = (struct sg_flow){ SG_IN, ev->eph, { port, port } };
	}
	*back = (struct sg_flow){ SG_OUT, fwd->dports, ev->eph };
	return 1;
}

static const char *const sg_path_names[SG_NPATHS] = {
	"control", "passive", "active", "channel",
};

/* One run being built: equal decisions over neighbouring ports. */
struct sg_run {
	struct portrange ports;
	struct sg_dec d;
	const struct sg_measure *m;
};

/* The "rule" text: what people find in the console. */
static void
sg_rule_text(const struct sg_ev *ev, const struct sg_rule *r,
    const struct sg_peer *peer, char *buf, size_t len)
{
	if (r == NULL)
		snprintf(buf, len, "default");
	else if (ev->g->kind == SG_KIND_SG)
		snprintf(buf, len, "%s %s %s", r->name,
		    r->dir == SG_IN ? "from" : "to",
		    peer != NULL ? peer->text : "?");
	else if (ev->g->kind == SG_KIND_NACL)
		snprintf(buf, len, "%s", r->name);
	else
		snprintf(buf, len, "%s (priority %ld)", r->name, r->priority);
}

static void
sg_run_rule(const struct sg_ev *ev, const struct sg_run *run,
    const struct sg_ret *ret, char *buf, size_t len)
{
	const struct sg_dec *d = &run->d;
	char fr[256], rr[256];

	if (d->allow == SG_UNKNOWN)
		sg_rule_text(ev, d->unk_rule, d->unk.peer, fr, sizeof(fr));
	else
		sg_rule_text(ev, d->rule, d->peer, fr, sizeof(fr));
	sg_rule_text(ev, ret->rule, NULL, rr, sizeof(rr));
	if (!ret->stateless || d->allow == SG_DENIED ||
	    (d->allow == SG_UNKNOWN && ret->allow != SG_DENIED))
		snprintf(buf, len, "%s", fr);
	else if (ret->allow == SG_DENIED)
		snprintf(buf, len, "%s (return traffic)", rr);
	else
		snprintf(buf, len, "%s; return: %s", fr, rr);
}

/* Why a rule's match is unknown, in words. */
static void
sg_unknown_text(const struct sg_ev *ev, const struct sg_dec *d, char *buf,
    size_t len)
{
	const char *what = d->unk.why != NULL ? d->unk.why->text : "?";
	char rt[256];

	sg_rule_text(ev, d->unk_rule, d->unk.peer, rt, sizeof(rt));
	if (d->unk.unk == SG_U_SPORT)
		snprintf(buf, len, "depends on %s: it allows only some of the "
		    "client's source ports", rt);
	else if (d->unk.unk == SG_U_LOCAL)
		snprintf(buf, len, "depends on %s: it names %s, and the "
		    "server's own (private) address is not known", rt, what);
	else if (d->unk.why != NULL && d->unk.why->kind == SG_PEER_TAG)
		snprintf(buf, len, "depends on %s: service tag %s is not in "
		    "the file", rt, what);
	else
		snprintf(buf, len, "depends on %s: the client's private "
		    "address %s may be in %s, whose members are not in the "
		    "file", rt, ev->client_txt, what);
}

/* The cause a denial by this group would have produced. */
static int
sg_cause_fits(const char *cause, int fwd_denied, int ret_denied)
{
	return (fwd_denied && strcmp(cause, "path-silent-drop") == 0) ||
	    (ret_denied && strcmp(cause, "return-path") == 0);
}

/* explains and the note for a run whose decision is known. */
static int
sg_explain(const struct sg_ev *ev, const struct sg_run *run,
    enum sg_allow allow, int fwd_denied, int ret_denied, char *buf,
    size_t len)
{
	const struct sg_measure *m = run->m;
	const char *cause = m != NULL && m->cause != NULL ? m->cause : "";

	buf[0] = '\0';
	if (m == NULL || m->result == SG_NOT_MEASURED) {
		snprintf(buf, len, "not measured");
		return 0;
	}
	if (allow == SG_ALLOWED && m->result == SG_PASSED)
		return 1;
	if (allow == SG_ALLOWED) {
		snprintf(buf, len, "the group allows it: the failure%s%s%s "
		    "comes from elsewhere (%s, another firewall on the path or "
		    "the host)", *cause ? " (" : "", cause, *cause ? ")" : "",
		    ev->g->kind == SG_KIND_NACL ? "a security group" :
		    "a network ACL");
		return 0;
	}
	if (m->result == SG_PASSED) {
		snprintf(buf, len, "the group denies it but the probe passed: "
		    "the group is not the one in the path (or not applied to "
		    "this host)");
		return 0;
	}
	if (*cause == '\0') {
		snprintf(buf, len, "the probes named no cause; the group's "
		    "silent drop accounts for the failure");
		return 1;
	}
	if (sg_cause_fits(cause, fwd_denied, ret_denied))
		return 1;
	snprintf(buf, len, "the group's drop would show as %s, but the "
	    "probes measured %s: something else on the path decides first",
	    fwd_denied ? "path-silent-drop" : "return-path", cause);
	return 0;
}

/* Assumptions and disabled rules the verdict rests on. */
static void
sg_note_tail(const struct sg_dec *d, enum sg_allow allow, char *buf,
    size_t len)
{
	size_t l = strlen(buf);

	if (d->assumed != NULL && allow != SG_UNKNOWN) {
		snprintf(buf + l, len - l, "%srests on an assumption: %s",
		    l > 0 ? "; " : "", d->assumed);
		l = strlen(buf);
	}
	if (d->disabled != NULL)
		snprintf(buf + l, len - l, "%srule %s would %s it but is "
		    "disabled", l > 0 ? "; " : "", d->disabled->name,
		    d->disabled->action == SG_ALLOW ? "allow" : "deny");
}

static int
sg_path_add(struct sg_gres *res, const struct sg_path_view *v,
    const struct sg_runfix *rf)
{
	struct sg_path_view *pv;
	struct sg_runfix *nr;

	if ((pv = realloc(res->paths, (res->npaths + 1) * sizeof(*pv))) ==
	    NULL)
		return FTP_ERR_NOMEM;
	res->paths = pv;
	if ((nr = realloc(res->rf, (res->npaths + 1) * sizeof(*nr))) == NULL)
		return FTP_ERR_NOMEM;
	res->rf = nr;
	pv[res->npaths] = *v;
	nr[res->npaths] = *rf;
	res->npaths++;
	return 0;
}

static int
sg_run_emit(struct sg_ev *ev, enum sg_path p, const struct sg_flow *fwd,
    const struct sg_flow *back, const struct sg_run *run,
    const struct sg_ret *ret)
{
	struct sg_path_view v = { sg_path_names[p], run->ports, SG_UNKNOWN,
	    0, NULL, NULL };
	struct sg_runfix rf;
	enum sg_allow rt = ret->stateless ? ret->allow : SG_ALLOWED;
	char rule[600], note[1400];
	int r;

	memset(&rf, 0, sizeof(rf));
	rf.fwd_denied = run->d.allow == SG_DENIED;
	rf.ret_denied = rt == SG_DENIED;
	if (rf.fwd_denied || rf.ret_denied)
		v.allowed = SG_DENIED;
	else if (run->d.allow == SG_ALLOWED && rt == SG_ALLOWED)
		v.allowed = SG_ALLOWED;
	sg_run_rule(ev, run, ret, rule, sizeof(rule));
	if (v.allowed != SG_UNKNOWN)
		v.explains = sg_explain(ev, run, v.allowed, rf.fwd_denied,
		    rf.ret_denied, note, sizeof(note));
	else if (run->d.allow == SG_UNKNOWN)
		sg_unknown_text(ev, &run->d, note, sizeof(note));
	else
		snprintf(note, sizeof(note), "the way back is allowed only "
		    "to client ports %s: it depends on the client's source "
		    "port", ret->allowed_ports[0] ? ret->allowed_ports :
		    "(none)");
	sg_note_tail(&run->d, v.allowed, note, sizeof(note));
	rf.path = p;
	rf.dir = fwd->dir;
	rf.fwd_rule = run->d.rule;
	rf.ret_rule = ret->rule;
	rf.ports = run->ports;
	rf.ret_dir = back->dir;
	rf.ret_ports = back->dports;
	rf.needed = v.allowed == SG_DENIED &&
	    (run->m == NULL || run->m->result != SG_PASSED);
	if ((v.rule = strdup(rule)) == NULL ||
	    (note[0] != '\0' && (v.note = strdup(note)) == NULL) ||
	    (r = sg_path_add(ev->res, &v, &rf)) != 0) {
		free((void *)v.rule);
		free((void *)v.note);
		return FTP_ERR_NOMEM;
	}
	return 0;
}

static int
sg_eval_path(struct sg_ev *ev, enum sg_path p, const struct sg_flow *fwd,
    const struct sg_flow *back)
{
	const struct sg_measure *ms = ev->in->measure[p];
	size_t i, n = 0, nm = ms != NULL ? ev->in->nmeasure[p] : 0;
	struct sg_ret ret = { 0, SG_ALLOWED, NULL, "" };
	struct sg_run cur, next;
	unsigned *cuts;
	int r = 0;

	if (ev->g->kind == SG_KIND_NACL)
		sg_return(ev, back, &ret);
	if (ev->rc != 0 ||
	    (cuts = sg_cuts(ev, &fwd->dports, ms, nm, &n)) == NULL)
		return FTP_ERR_NOMEM;
	for (i = 0; i < n && r == 0; i++) {
		next.ports.lo = (uint16_t)cuts[i];
		next.ports.hi = i + 1 < n ? (uint16_t)(cuts[i + 1] - 1) :
		    fwd->dports.hi;
		sg_decide(ev, fwd, cuts[i], &next.d);
		next.m = sg_measure_at(ms, nm, cuts[i]);
		if (i > 0 && sg_dec_equal(&cur.d, &next.d) &&
		    cur.m == next.m) {
			cur.ports.hi = next.ports.hi;
			continue;
		}
		if (i > 0)
			r = sg_run_emit(ev, p, fwd, back, &cur, &ret);
		cur = next;
	}
	if (r == 0 && n > 0)
		r = sg_run_emit(ev, p, fwd, back, &cur, &ret);
	free(cuts);
	return r != 0 ? r : ev->rc;
}

static int
sg_order_cmp(const void *a, const void *b, void *arg)
{
	const struct sg_rule *rules = arg;
	const struct sg_rule *x = &rules[*(const size_t *)a];
	const struct sg_rule *y = &rules[*(const size_t *)b];

	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	/* GCP: a deny wins a tie; elsewhere priorities are unique. */
	if (x->action != y->action)
		return x->action == SG_DENY ? -1 : 1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

static int
sg_eval_group(const struct sg *sg, size_t gi, struct sg_ev *ev)
{
	const struct sg_group *g = &sg->groups[gi];
	struct sg_flow fwd, back;
	size_t i;
	int p;

	ev->g = g;
	ev->res = &sg->res[gi];
	ev->rc = 0;
	if ((ev->order = calloc(g->nrules + 1, sizeof(size_t))) == NULL)
		return FTP_ERR_NOMEM;
	for (i = 0; i < g->nrules; i++)
		ev->order[i] = i;
	qsort_r(ev->order, g->nrules, sizeof(size_t), sg_order_cmp,
	    g->rules);
	for (p = 0; p < SG_NPATHS && ev->rc == 0; p++)
		if (sg_path_flows(ev, (enum sg_path)p, &fwd, &back))
			ev->rc = sg_eval_path(ev, (enum sg_path)p, &fwd,
			    &back);
	free(ev->order);
	ev->order = NULL;
	return ev->rc;
}

static int
sg_input_check(const struct sg_input *in, char *err, size_t errlen)
{
	const struct portrange *r[3] = {
		&in->passive, &in->active_dports, &in->client_ephemeral,
	};
	size_t i;

	if ((in->client.ss_family != AF_INET &&
	    in->client.ss_family != AF_INET6) ||
	    (in->server.ss_family != AF_INET &&
	    in->server.ss_family != AF_INET6)) {
		ftp_errmsg(err, errlen, "security groups: the client's and the "
		    "server's addresses must be IPv4 or IPv6");
		return FTP_ERR_INVAL;
	}
	for (i = 0; i < 3; i++) {
		if (r[i]->lo > r[i]->hi) {
			ftp_errmsg(err, errlen, "security groups: reversed "
			    "port range %u-%u", r[i]->lo, r[i]->hi);
			return FTP_ERR_INVAL;
		}
	}
	return 0;
}

static void
sg_ev_init(struct sg_ev *ev, const struct sg *sg, const struct sg_input *in)
{
	memset(ev, 0, sizeof(*ev));
	ev->sg = sg;
	ev->in = in;
	ev->client = in->client;
	ev->server = in->server;
	addr_unmap(&ev->client);
	addr_unmap(&ev->server);
	addr_text((const struct sockaddr *)&ev->client, 0, ev->client_txt,
	    sizeof(ev->client_txt));
	ev->eph = in->client_ephemeral;
	if (ev->eph.lo == 0)
		ev->eph = (struct portrange){ 1024, 65535 };
}

int
sg_eval(struct sg *sg, const struct sg_input *in, char *err, size_t errlen)
{
	struct sg_strv names = { NULL, 0 };
	struct sg_ev ev;
	size_t i;
	int r;

	if ((r = sg_input_check(in, err, errlen)) != 0)
		return r;
	for (i = 0; i < sg->nres; i++)
		sg_gres_free(&sg->res[i]);
	free(sg->res);
	sg->nres = 0;
	r = FTP_ERR_NOMEM;
	if ((sg->res = calloc(sg->ngroups + 1, sizeof(*sg->res))) == NULL)
		goto out;
	sg->nres = sg->ngroups;
	sg_ev_init(&ev, sg, in);
	for (i = 0; i < sg->ngroups; i++) {
		if ((r = sg_eval_group(sg, i, &ev)) != 0 ||
		    (r = sg_fix_group(sg, i, in, &names)) != 0)
			goto out;
	}
	r = 0;
out:
	if (r != 0) {
		ftp_errmsg(err, errlen, "%s: %s", sg->file, ftp_strerror(r));
		for (i = 0; i < sg->nres; i++)
			sg_gres_free(&sg->res[i]);
		free(sg->res);
		sg->res = NULL;
		sg->nres = 0;
	}
	sg_strv_free(&names);
	return r;
}
