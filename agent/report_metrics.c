/*
 * report_metrics.c - one check's report model as Prometheus metrics (the
 * text exposition format, version 0.0.4), for `ftpath-agent watch`
 * (watch.h), which adds the metrics that span checks.  Every series is
 * labelled with the FTP server it is about, so one Prometheus can scrape
 * a fleet of agents.
 */
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "err.h"
#include "report.h"
#include "report_int.h"

/* A label value: backslash, quote and newline escaped. */
static void
metrics_label(FILE *fp, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', fp);
		if (*s == '\n')
			fputs("\\n", fp);
		else
			fputc(*s, fp);
	}
}

static void
metrics_paths(FILE *fp, const struct report *r, const struct report_view *vw)
{
	char p[16];
	size_t i;

	fputs("# HELP ftpath_path_up 1 if the FTP path passed, 0 if it "
	    "failed (passive ports in runs of equal verdict).\n"
	    "# TYPE ftpath_path_up gauge\n", fp);
	for (i = 0; i < vw->n_runs; i++) {
		const struct report_run *run = &vw->runs[i];
		const struct report_entry *e = run->first;

		fprintf(fp, "ftpath_path_up{server=\"");
		metrics_label(fp, r->server_name);
		fprintf(fp, "\",path=\"%s\",ports=\"%s\"} %d\n",
		    probe_kind_name(e->o.kind), report_ports_text(run, p,
		    sizeof(p)), e->v.pass ? 1 : 0);
	}
}

/* Each cause once, failure winning over warning, as in the JSON. */
static void
metrics_causes(FILE *fp, const struct report *r, const struct report_view *vw)
{
	int sev[64] = { 0 };	/* 0 none, 1 warning, 2 failure */
	size_t i;
	int c;

	for (i = 0; i < vw->n_runs; i++) {
		const struct verdict *v = &vw->runs[i].first->v;
		int s = v->pass ? 1 : 2;

		if (v->cause != CAUSE_NONE && (int)v->cause < 64 &&
		    sev[v->cause] < s)
			sev[v->cause] = s;
	}
	for (i = 0; i < r->n_xcauses; i++) {
		int s = r->xcauses[i].sev == REPORT_FAILURE ? 2 : 1;

		if ((int)r->xcauses[i].cause < 64 &&
		    sev[r->xcauses[i].cause] < s)
			sev[r->xcauses[i].cause] = s;
	}
	fputs("# HELP ftpath_cause 1 for every cause the last check named "
	    "(severity failure or warning).\n# TYPE ftpath_cause gauge\n", fp);
	for (c = 1; c < 64 && cause_name((enum cause)c) != NULL; c++) {
		if (sev[c] == 0)
			continue;
		fprintf(fp, "ftpath_cause{server=\"");
		metrics_label(fp, r->server_name);
		fprintf(fp, "\",cause=\"%s\",severity=\"%s\"} 1\n",
		    cause_name((enum cause)c), sev[c] == 2 ? "failure" :
		    "warning");
	}
}

int
report_metrics(const struct report *r, int exit_code, FILE *fp)
{
	struct report_view vw;

	if (report_view_build(r, &vw) != 0)
		return FTP_ERR_NOMEM;
	metrics_paths(fp, r, &vw);
	metrics_causes(fp, r, &vw);
	fputs("# HELP ftpath_reflector_reachable 1 if the last check paired "
	    "with the reflector.\n# TYPE ftpath_reflector_reachable gauge\n"
	    "ftpath_reflector_reachable{server=\"", fp);
	metrics_label(fp, r->server_name);
	fprintf(fp, "\"} %d\n", exit_code == 3 ? 0 : 1);
	fputs("# HELP ftpath_check_exit_status The last check's exit status "
	    "(0 pass, 1 fail, 2 usage, 3 reflector unreachable).\n"
	    "# TYPE ftpath_check_exit_status gauge\n"
	    "ftpath_check_exit_status{server=\"", fp);
	metrics_label(fp, r->server_name);
	fprintf(fp, "\"} %d\n", exit_code);
	report_view_free(&vw);
	return ferror(fp) ? FTP_ERR_SYSTEM : 0;
}
