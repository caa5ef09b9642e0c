/*
 * report_junit.c - --junit FILE: the report model as JUnit XML for CI
 * pipelines: one testsuite, one testcase per path run (as the human
 * report compacts them), a failure per failing run whose message is the
 * cause and whose text is the evidence, and one testcase per failing
 * finding outside the paths (the real FTP client, the server host's
 * settings, security groups).
 */
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "err.h"
#include "report.h"
#include "report_int.h"

/* XML character data and attribute values; control characters, which
 * XML 1.0 cannot carry, become '?'. */
static void
junit_esc(FILE *fp, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		switch (ch) {
		case '<':	fputs("&lt;", fp); break;
		case '>':	fputs("&gt;", fp); break;
		case '&':	fputs("&amp;", fp); break;
		case '"':	fputs("&quot;", fp); break;
		case '\n':	fputs("&#10;", fp); break;
		default:
			fputc(ch < 0x20 && ch != '\t' ? '?' : ch, fp);
		}
	}
}

static size_t
junit_failing_xcauses(const struct report *r)
{
	size_t i, n = 0;

	for (i = 0; i < r->n_xcauses; i++)
		n += r->xcauses[i].sev == REPORT_FAILURE;
	return n;
}

static void
junit_run(FILE *fp, const struct report_run *run)
{
	const struct report_entry *e = run->first;
	const char *cause = cause_name(e->v.cause);
	char p[16], a[ADDR_STRLEN];
	unsigned i;

	fprintf(fp, "    <testcase classname=\"ftpath.%s\" name=\"%s tcp/%s ",
	    probe_kind_name(e->o.kind), probe_kind_name(e->o.kind),
	    report_ports_text(run, p, sizeof(p)));
	junit_esc(fp, addr_text(ADDR_SA(&e->o.remote), 0, a, sizeof(a)));
	fprintf(fp, "\" time=\"%.3f\">\n", e->o.elapsed_ms / 1000.0);
	if (!e->v.pass) {
		fputs("      <failure type=\"", fp);
		junit_esc(fp, cause ? cause : "cause-not-determined");
		fputs("\" message=\"", fp);
		junit_esc(fp, cause ? cause : "cause not determined");
		fputs("\">", fp);
		for (i = 0; i < e->v.n_evidence; i++) {
			junit_esc(fp, e->v.evidence[i]);
			fputs("&#10;", fp);
		}
		fputs("</failure>\n", fp);
	} else if (cause != NULL) {
		fputs("      <system-out>warning: ", fp);
		junit_esc(fp, cause);
		fputs("</system-out>\n", fp);
	}
	fputs("    </testcase>\n", fp);
}

static void
junit_xcauses(FILE *fp, const struct report *r)
{
	size_t i;

	for (i = 0; i < r->n_xcauses; i++) {
		const struct report_xcause *x = &r->xcauses[i];

		if (x->sev != REPORT_FAILURE)
			continue;
		fputs("    <testcase classname=\"ftpath.finding\" name=\"", fp);
		junit_esc(fp, x->label);
		fputs("\" time=\"0\">\n      <failure type=\"", fp);
		junit_esc(fp, cause_name(x->cause));
		fputs("\" message=\"", fp);
		junit_esc(fp, cause_name(x->cause));
		fputs("\">", fp);
		junit_esc(fp, x->evidence);
		fputs("</failure>\n    </testcase>\n", fp);
	}
}

int
report_junit(const struct report *r, FILE *fp)
{
	struct report_view vw;
	size_t i, failures;

	if (report_view_build(r, &vw) != 0)
		return FTP_ERR_NOMEM;
	failures = junit_failing_xcauses(r);
	for (i = 0; i < vw.n_runs; i++)
		failures += !vw.runs[i].first->v.pass;
	fprintf(fp, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<testsuites>\n  <testsuite name=\"ftpath ");
	junit_esc(fp, r->server_name);
	fprintf(fp, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" "
	    "time=\"%.3f\">\n", vw.n_runs + junit_failing_xcauses(r), failures,
	    r->duration_ms / 1000.0);
	for (i = 0; i < vw.n_runs; i++)
		junit_run(fp, &vw.runs[i]);
	junit_xcauses(fp, r);
	fputs("  </testsuite>\n</testsuites>\n", fp);
	report_view_free(&vw);
	return ferror(fp) ? FTP_ERR_SYSTEM : 0;
}
