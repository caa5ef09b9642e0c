/*
 * report_text.c - the human report, shaped like a packet tracer: passing
 * paths on one line, failing paths as the stages they crossed with the
 * evidence of each, then the cause.  Rendered from the report model
 * (report_int.h), never from the JSON.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "alg.h"
#include "err.h"
#include "report.h"
#include "report_int.h"
#include "service.h"
#include "sg.h"
#include "traceroute.h"

#define ANSI_GREEN	"\033[32m"
#define ANSI_RED	"\033[31m"
#define ANSI_BOLD	"\033[1m"
#define ANSI_RESET	"\033[0m"

/* ---- human report ---- */

struct print_ctx {
	const struct report *r;
	FILE *out;
	int color;
	int port_w;	/* width of "tcp/30000-30099" */
	int addr_w;
};

static void
print_header(const struct report *r, FILE *out)
{
	const struct session_facts *f = &r->f;
	char a[ADDR_STRLEN], b[ADDR_STRLEN];

	fprintf(out, "ftpath: agent %s -> reflector %s\n",
	    addr_text(ADDR_SA(&f->agent_local), 0, a, sizeof(a)),
	    addr_text(ADDR_SA(&f->dialled), 1, b, sizeof(b)));
	fprintf(out, "  server    %s", r->server_name ? r->server_name : "?");
	addr_text(ADDR_SA(&f->server), 0, a, sizeof(a));
	if (addr_is_inet(ADDR_SA(&f->server)) &&
	    (r->server_name == NULL || strcmp(r->server_name, a) != 0))
		fprintf(out, " (%s)", a);
	fprintf(out, "\n  rtt       %u ms, duration %u ms\n", f->rtt_ms,
	    r->duration_ms);
	fprintf(out, "  versions  agent %s, reflector %s\n",
	    r->agent_version ? r->agent_version : "?",
	    r->reflector_version && r->reflector_version[0] ?
	    r->reflector_version : "(not reached)");
	if (verdict_client_nat(f))
		fprintf(out, "  nat       agent %s is seen by the reflector as "
		    "%s (source NAT)\n",
		    addr_text(ADDR_SA(&f->agent_local), 1, a, sizeof(a)),
		    addr_text(ADDR_SA(&f->agent_observed), 1, b,
		    sizeof(b)));
	if (verdict_server_nat(f))
		fprintf(out, "  nat       reflector dialled as %s is %s "
		    "(destination NAT)\n",
		    addr_text(ADDR_SA(&f->dialled), 1, a, sizeof(a)),
		    addr_text(ADDR_SA(&f->reflector_local), 1, b,
		    sizeof(b)));
	if (r->nat_line != NULL)
		fprintf(out, "  nat       %s\n", r->nat_line);
	fputc('\n', out);
}

static void
print_widths(const struct report_view *vw, struct print_ctx *pc)
{
	char p[16], a[ADDR_STRLEN];
	size_t i;
	int n;

	pc->port_w = 6;
	pc->addr_w = 1;
	for (i = 0; i < vw->n_runs; i++) {
		n = (int)strlen(report_ports_text(&vw->runs[i], p, sizeof(p))) + 4;
		if (n > pc->port_w)
			pc->port_w = n;
		n = (int)strlen(addr_text(ADDR_SA(
		    &vw->runs[i].first->o.remote), 0, a, sizeof(a)));
		if (n > pc->addr_w)
			pc->addr_w = n;
	}
}

static void
print_run_head(const struct print_ctx *pc, const struct report_run *run)
{
	const struct report_entry *e = run->first;
	char p[16], tp[24], a[ADDR_STRLEN];

	snprintf(tp, sizeof(tp), "tcp/%s", report_ports_text(run, p, sizeof(p)));
	fprintf(pc->out, "%s%s%s %-7s  %-*s  %-*s  ",
	    pc->color ? (e->v.pass ? ANSI_GREEN : ANSI_RED) : "",
	    e->v.pass ? "PASS" : "FAIL", pc->color ? ANSI_RESET : "",
	    probe_kind_name(e->o.kind), pc->port_w, tp, pc->addr_w,
	    addr_text(ADDR_SA(&e->o.remote), 0, a, sizeof(a)));
}

/* The order a probe crosses the stages: the opener's host first. */
static void
stage_order(enum probe_kind k, enum verdict_stage st[4])
{
	st[0] = k == PROBE_ACTIVE ? VERDICT_STAGE_SERVER : VERDICT_STAGE_AGENT;
	st[1] = VERDICT_STAGE_PATH;
	st[2] = k == PROBE_ACTIVE ? VERDICT_STAGE_AGENT : VERDICT_STAGE_SERVER;
	st[3] = VERDICT_STAGE_RETURN;
}

#define LABEL_W	13

/* "cause:  NAME (warning): evidence", the one way a cause is named under a
 * path or a section; evidence NULL when the lines above say it. */
static void
print_cause(FILE *out, int color, enum cause c, enum report_severity sev,
    const char *evidence)
{
	fprintf(out, "      %-*s %s%s%s%s%s%s\n", LABEL_W, "cause:",
	    color ? ANSI_BOLD : "", cause_name(c), color ? ANSI_RESET : "",
	    sev == REPORT_WARNING ? " (warning)" : "",
	    evidence != NULL ? ": " : "", evidence != NULL ? evidence : "");
}

static size_t
xcauses_in(const struct report *r, enum report_part part)
{
	size_t i, n = 0;

	for (i = 0; i < r->n_xcauses; i++)
		n += r->xcauses[i].part == part;
	return n;
}

/* The extra causes (report_add_cause) printed in one part. */
static void
print_xcauses(const struct report *r, enum report_part part, FILE *out,
    int color)
{
	size_t i;

	for (i = 0; i < r->n_xcauses; i++)
		if (r->xcauses[i].part == part)
			print_cause(out, color, r->xcauses[i].cause,
			    r->xcauses[i].sev, r->xcauses[i].evidence);
}

static void
print_stages(const struct print_ctx *pc, const struct verdict *v,
    enum probe_kind k)
{
	enum verdict_stage st[4];
	unsigned i, s;

	stage_order(k, st);
	for (s = 0; s < 4; s++) {
		char label[24];
		int first = 1;

		snprintf(label, sizeof(label), "%s:", verdict_stage_name(st[s]));
		for (i = 0; i < v->n_evidence; i++) {
			if (v->stage[i] != st[s])
				continue;
			fprintf(pc->out, "      %-*s %s\n", LABEL_W,
			    first ? label : "", v->evidence[i]);
			first = 0;
		}
	}
}

/* "fix:" under a failing run: the checked patch, or what to change on a
 * device ftpath does not run on. */
static void
print_fix(const struct print_ctx *pc, const struct report_run *run)
{
	const struct report_fix *x = report_fix_for(pc->r, run);
	char g[512];
	const char *t, *nl;

	if (x == NULL) {
		if (report_guidance(pc->r, run, g, sizeof(g))[0] != '\0')
			fprintf(pc->out, "      %-*s %s\n", LABEL_W, "fix:", g);
		return;
	}
	if (!x->verified) {
		fprintf(pc->out, "      %-*s no patch: %s\n", LABEL_W, "fix:",
		    x->verify_error);
		return;
	}
	fprintf(pc->out, "      %-*s %s, checked by the %s host's kernel "
	    "(nft -c); load it there with nft -f\n", LABEL_W, "fix:",
	    x->server ? "server.nft" : "client.nft", x->server ? "server" :
	    "agent");
	if (x->style != NULL && x->style[0] != '\0')
		fprintf(pc->out, "      %-*s %s (%s); the other remedy is "
		    "--fix-style %s%s\n", LABEL_W, "remedy:", strcmp(x->style,
		    "helper") == 0 ? "the FTP conntrack helper" :
		    "the data ports opened explicitly", x->style_reason,
		    strcmp(x->style, "helper") == 0 ? "ports" : "helper",
		    strcmp(x->style, "helper") == 0 ? " (works with FTPS)" :
		    " (FTPS blinds the helper)");
	for (t = x->text; *t != '\0'; t = *nl ? nl + 1 : nl) {
		nl = t + strcspn(t, "\n");
		fprintf(pc->out, "      %-*s | %.*s\n", LABEL_W, "",
		    (int)(nl - t), t);
	}
}

static void
print_fail(const struct print_ctx *pc, const struct report_run *run)
{
	const struct verdict *v = &run->first->v;
	const char *cause = cause_name(v->cause);
	const char *bold = pc->color ? ANSI_BOLD : "";
	const char *reset = pc->color ? ANSI_RESET : "";
	char pre[VERDICT_EVIDENCE_LEN];

	print_run_head(pc, run);
	if (cause != NULL)
		fprintf(pc->out, "%s%s%s\n", bold, cause, reset);
	else
		fprintf(pc->out, "cause not determined\n");
	if (run->count > 1)
		fprintf(pc->out, "      %-*s %s\n", LABEL_W, "ports:",
		    report_run_preface(run, pre, sizeof(pre)));
	print_stages(pc, v, run->first->o.kind);
	if (cause != NULL)
		print_cause(pc->out, pc->color, v->cause, REPORT_FAILURE, NULL);
	else
		fprintf(pc->out, "      %-*s none named: the evidence above "
		    "does not prove one\n", LABEL_W, "cause:");
	print_fix(pc, run);
}

static void
print_pass(const struct print_ctx *pc, const struct report_run *run)
{
	const struct verdict *v = &run->first->v;

	print_run_head(pc, run);
	fprintf(pc->out, "%s\n", v->n_evidence > 0 ? v->evidence[0] : "");
	/* A pass with a cause is a warning (alg-dependent): say why. */
	if (v->cause != CAUSE_NONE) {
		unsigned i;

		for (i = 1; i < v->n_evidence; i++)
			fprintf(pc->out, "      %-*s %s\n", LABEL_W, "",
			    v->evidence[i]);
		print_cause(pc->out, pc->color, v->cause, REPORT_WARNING, NULL);
	}
}

/* "real FTP client:": the session, then the causes it proves. */
static void
print_service(const struct report *r, FILE *out, int color)
{
	if (r->svc == NULL)
		return;
	service_print(r->svc, out, color);
	print_xcauses(r, REPORT_PART_SERVICE, out, color);
}

/* "server host:": causes found from the server host's own facts
 * (REPORT_PART_SERVER_HOST) and the settings to change (advice). */
static void
print_findings(const struct report *r, FILE *out, int color)
{
	size_t i;

	if (xcauses_in(r, REPORT_PART_SERVER_HOST) == 0 && r->n_advice == 0)
		return;
	fprintf(out, "\nserver host:\n");
	print_xcauses(r, REPORT_PART_SERVER_HOST, out, color);
	for (i = 0; i < r->n_advice; i++)
		fprintf(out, "      %-*s %s (%s)\n", LABEL_W, "fix:",
		    r->advice[i].text, cause_name(r->advice[i].cause));
}

/* "FTP ALG:": the dialogue, then the causes it proves. */
static void
print_alg(const struct report *r, FILE *out, int color)
{
	int tested = r->alg != NULL && r->alg->d[ALG_D_CONTROL].tested;

	if (tested)
		alg_print(r->alg, &r->alg_res, out, color);
	/* alg_print is silent on an untested ALG; its causes need a head. */
	if (!tested && xcauses_in(r, REPORT_PART_ALG) > 0)
		fprintf(out, "\nFTP ALG:\n");
	print_xcauses(r, REPORT_PART_ALG, out, color);
}

/* "session:": causes about the session as a whole (nat). */
static void
print_session(const struct report *r, FILE *out, int color)
{
	if (xcauses_in(r, REPORT_PART_SESSION) == 0)
		return;
	fprintf(out, "\nsession:\n");
	print_xcauses(r, REPORT_PART_SESSION, out, color);
}

static const char *
sg_allow_text(enum sg_allow a)
{
	return a == SG_ALLOWED ? "allowed" : a == SG_DENIED ? "denied" :
	    "unknown";
}

static void
print_sg_group(const struct sg_group_view *g, FILE *out)
{
	size_t k;

	fprintf(out, "  %s %s %s (%s)\n", g->provider, g->kind, g->group,
	    g->file);
	for (k = 0; k < g->npaths; k++) {
		const struct sg_path_view *p = &g->paths[k];
		char ports[16];

		if (p->ports.lo == p->ports.hi)
			snprintf(ports, sizeof(ports), "%u", p->ports.lo);
		else
			snprintf(ports, sizeof(ports), "%u-%u", p->ports.lo,
			    p->ports.hi);
		fprintf(out, "    %-8s tcp/%-12s %-8s by %s%s\n", p->name,
		    ports, sg_allow_text(p->allowed), p->rule ? p->rule :
		    "default", p->explains ? ": explains the measurement" :
		    "");
		if (p->note != NULL)
			fprintf(out, "             %s\n", p->note);
	}
	for (k = 0; k < g->nfix; k++)
		fprintf(out, "    fix: %s\n", g->fix[k]);
}

/* "security groups:": every evaluated group, its paths and fixes. */
static void
print_sgs(const struct report *r, FILE *out, int color)
{
	struct sg_group_view g;
	size_t i, k;

	if (r->n_sgs == 0)
		return;
	fprintf(out, "\nsecurity groups:\n");
	for (i = 0; i < r->n_sgs; i++)
		for (k = 0; sg_group(r->sgs[i], k, &g) == 0; k++)
			print_sg_group(&g, out);
	print_xcauses(r, REPORT_PART_SG, out, color);
}

static void
print_summary(const struct report *r, FILE *out)
{
	size_t i, pass = 0;

	if (r->n_notes > 0) {
		fprintf(out, "\nnotes:\n");
		for (i = 0; i < r->n_notes; i++)
			fprintf(out, "  - %s\n", r->notes[i]);
	}
	for (i = 0; i < r->n; i++)
		pass += r->ents[i].v.pass ? r->ents[i].count : 0;
	fprintf(out, "\n%zu paths tested: %zu pass, %zu fail\n", r->n_paths,
	    pass, r->n_paths - pass);
}

int
report_print(const struct report *r, FILE *out, int color)
{
	struct report_view vw;
	struct print_ctx pc;
	size_t i;

	if (report_view_build(r, &vw) != 0)
		return FTP_ERR_NOMEM;
	pc.r = r;
	pc.out = out;
	pc.color = color;
	print_widths(&vw, &pc);
	print_header(r, out);
	for (i = 0; i < vw.n_runs; i++) {
		if (vw.runs[i].first->v.pass)
			print_pass(&pc, &vw.runs[i]);
		else
			print_fail(&pc, &vw.runs[i]);
	}
	print_session(r, out, color);
	print_alg(r, out, color);
	print_service(r, out, color);
	print_findings(r, out, color);
	print_sgs(r, out, color);
	report_apply_print(r, out);
	print_summary(r, out);
	report_view_free(&vw);
	return ferror(out) ? FTP_ERR_SYSTEM : 0;
}
