/*
 * report_html.c - --html FILE: the report model as one self-contained
 * HTML page to attach to a ticket (no external assets, no script).  Each
 * path is a row; a failing one is drawn as the packet tracer's stages
 * (agent host -> path -> server host -> the way back, or the other way
 * for the active connect-back), the stage where it died marked, each
 * with its evidence, then the cause and the fix.
 */
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "err.h"
#include "report.h"
#include "report_int.h"

static void
html_esc(FILE *fp, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		switch (*s) {
		case '<':	fputs("&lt;", fp); break;
		case '>':	fputs("&gt;", fp); break;
		case '&':	fputs("&amp;", fp); break;
		case '"':	fputs("&quot;", fp); break;
		default:	fputc(*s, fp);
		}
	}
}

/* The stage a failing path died at, as the cause places it. */
static enum verdict_stage
html_death(const struct report_entry *e)
{
	switch (e->v.cause) {
	case CAUSE_CLIENT_LOCAL_RULE:
		return VERDICT_STAGE_AGENT;
	case CAUSE_SERVER_LOCAL_RULE:
	case CAUSE_NOT_LISTENING:
	case CAUSE_SERVICE_REFUSED:
		return VERDICT_STAGE_SERVER;
	case CAUSE_RETURN_PATH:
		return VERDICT_STAGE_RETURN;
	default:
		return VERDICT_STAGE_PATH;
	}
}

static void
html_stage_order(enum probe_kind k, enum verdict_stage st[4])
{
	st[0] = k == PROBE_ACTIVE ? VERDICT_STAGE_SERVER : VERDICT_STAGE_AGENT;
	st[1] = VERDICT_STAGE_PATH;
	st[2] = k == PROBE_ACTIVE ? VERDICT_STAGE_AGENT : VERDICT_STAGE_SERVER;
	st[3] = VERDICT_STAGE_RETURN;
}

static void
html_stages(FILE *fp, const struct report_entry *e)
{
	enum verdict_stage st[4], dead = html_death(e);
	unsigned s, i;
	int known = e->v.cause != CAUSE_NONE;

	html_stage_order(e->o.kind, st);
	fputs("<div class=\"trace\">", fp);
	for (s = 0; s < 4; s++) {
		int here = known && st[s] == dead;

		fprintf(fp, "<div class=\"stage%s\" data-stage=\"%s\"><h4>%s%s"
		    "</h4>", here ? " died" : "", verdict_stage_name(st[s]),
		    verdict_stage_name(st[s]), here ? " &#x2717; died here" :
		    "");
		for (i = 0; i < e->v.n_evidence; i++) {
			if (e->v.stage[i] != st[s])
				continue;
			fputs("<p>", fp);
			html_esc(fp, e->v.evidence[i]);
			fputs("</p>", fp);
		}
		fputs("</div>", fp);
		if (s < 3)
			fputs("<div class=\"arrow\">&#x2192;</div>", fp);
	}
	fputs("</div>", fp);
}

static void
html_run(FILE *fp, const struct report *r, const struct report_run *run)
{
	const struct report_entry *e = run->first;
	const struct report_fix *x = report_fix_for(r, run);
	const char *cause = cause_name(e->v.cause);
	char p[16], a[ADDR_STRLEN], g[512];

	fprintf(fp, "<section class=\"path %s\" data-verdict=\"%s\" "
	    "data-cause=\"%s\"><h3><span class=\"v\">%s</span> %s tcp/%s ",
	    e->v.pass ? "pass" : "fail", e->v.pass ? "pass" : "fail",
	    cause ? cause : "", e->v.pass ? "PASS" : "FAIL",
	    probe_kind_name(e->o.kind), report_ports_text(run, p, sizeof(p)));
	html_esc(fp, addr_text(ADDR_SA(&e->o.remote), 0, a, sizeof(a)));
	if (cause != NULL)
		fprintf(fp, " &mdash; <b class=\"cause\">%s</b>%s", cause,
		    e->v.pass ? " (warning)" : "");
	fputs("</h3>", fp);
	if (e->v.pass) {
		fputs("<p>", fp);
		html_esc(fp, e->v.n_evidence ? e->v.evidence[0] : "");
		fputs("</p></section>\n", fp);
		return;
	}
	html_stages(fp, e);
	if (x != NULL && x->verified) {
		fprintf(fp, "<p>fix: %s, checked by the %s host's kernel</p>"
		    "<pre class=\"fix\">", x->server ? "server.nft" :
		    "client.nft", x->server ? "server" : "agent");
		html_esc(fp, x->text);
		fputs("</pre>", fp);
	} else if (report_guidance(r, run, g, sizeof(g))[0] != '\0') {
		fputs("<p class=\"guidance\">fix: ", fp);
		html_esc(fp, g);
		fputs("</p>", fp);
	}
	fputs("</section>\n", fp);
}

static const char html_style[] =
    "body{font-family:sans-serif;margin:1.5em;color:#222}"
    "h1{font-size:1.3em}h3{font-size:1em;margin:.2em 0}"
    ".path{border:1px solid #ccc;border-radius:6px;padding:.5em;"
    "margin:.6em 0}.pass .v{color:#1a7f37}.fail .v{color:#c62828}"
    ".fail{border-color:#c62828}.trace{display:flex;align-items:stretch}"
    ".stage{flex:1;border:1px solid #999;border-radius:4px;padding:.3em;"
    "font-size:.85em;background:#f6f8fa}.stage h4{margin:0 0 .3em 0}"
    ".died{background:#fdecea;border:2px solid #c62828}"
    ".arrow{align-self:center;padding:0 .4em;font-size:1.4em}"
    "pre.fix{background:#f0f0f0;padding:.5em;overflow:auto}"
    ".notes li{font-size:.9em}";

static void
html_header(FILE *fp, const struct report *r)
{
	char a[ADDR_STRLEN], b[ADDR_STRLEN];

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<title>ftpath report: ", fp);
	html_esc(fp, r->server_name);
	fprintf(fp, "</title><style>%s</style></head><body>\n<h1>ftpath: "
	    "agent ", html_style);
	html_esc(fp, addr_text(ADDR_SA(&r->f.agent_local), 0, a,
	    sizeof(a)));
	fputs(" &rarr; reflector ", fp);
	html_esc(fp, addr_text(ADDR_SA(&r->f.dialled), 1, b, sizeof(b)));
	fputs(", server ", fp);
	html_esc(fp, r->server_name);
	fprintf(fp, "</h1>\n<p>rtt %u ms, duration %u ms</p>\n", r->f.rtt_ms,
	    r->duration_ms);
}

int
report_html(const struct report *r, FILE *fp)
{
	struct report_view vw;
	size_t i, pass = 0;

	if (report_view_build(r, &vw) != 0)
		return FTP_ERR_NOMEM;
	html_header(fp, r);
	for (i = 0; i < vw.n_runs; i++) {
		html_run(fp, r, &vw.runs[i]);
		pass += vw.runs[i].first->v.pass;
	}
	for (i = 0; i < r->n_xcauses; i++) {
		fprintf(fp, "<section class=\"finding\" data-cause=\"%s\"><h3>"
		    "%s%s: ", cause_name(r->xcauses[i].cause),
		    cause_name(r->xcauses[i].cause), r->xcauses[i].sev ==
		    REPORT_WARNING ? " (warning)" : "");
		html_esc(fp, r->xcauses[i].label);
		fputs("</h3><p>", fp);
		html_esc(fp, r->xcauses[i].evidence);
		fputs("</p></section>\n", fp);
	}
	if (r->n_notes > 0) {
		fputs("<h2>notes</h2><ul class=\"notes\">", fp);
		for (i = 0; i < r->n_notes; i++) {
			fputs("<li>", fp);
			html_esc(fp, r->notes[i]);
			fputs("</li>", fp);
		}
		fputs("</ul>\n", fp);
	}
	fprintf(fp, "<p id=\"summary\">%zu path runs: %zu pass, %zu fail</p>\n"
	    "</body></html>\n", vw.n_runs, pass, vw.n_runs - pass);
	report_view_free(&vw);
	return ferror(fp) ? FTP_ERR_SYSTEM : 0;
}
