/*
 * report.h - the report model and its two renderings, the human report
 * (report_text.c) and the versioned JSON report (report_json.c).
 *
 * The model holds the classifier's output: every path's verdict, the
 * causes found outside the paths, advice, notes, and the observations
 * the sections show (the real FTP client's result, the ALG dialogue).
 * Only the classifier (classify.h) writes into it; the renderers read
 * the C structures, never JSON.  Pure apart from writing to a FILE.
 */
#ifndef FTPATH_REPORT_H
#define FTPATH_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include "verdict.h"

#define REPORT_JSON_VERSION 1

struct report;

/* Copies f and the strings.  NULL on allocation failure. */
struct report *report_new(const struct session_facts *f,
    const char *agent_version, const char *reflector_version,
    const char *server_name);
void report_free(struct report *r);

/* Copies o and v.  Probes may be added in any order.  0 or FTP_ERR_NOMEM. */
int report_add(struct report *r, const struct probe_obs *o,
    const struct verdict *v);
/*
 * report_add with the TCP traceroute of the path (traceroute.h), shown
 * as the JSON "traceroute" array of a failing run; tr NULL: not traced
 * ("traceroute": null).  tr is copied; equal traces are stored once.
 * 0 or FTP_ERR_NOMEM.
 */
struct traceroute_path;
int report_add_traced(struct report *r, const struct probe_obs *o,
    const struct verdict *v, const struct traceroute_path *tr);
/* A free-text note shown under the report (e.g. "passive not tested"). */
int report_note(struct report *r, const char *text);
void report_set_duration(struct report *r, unsigned ms);

/*
 * The real FTP client's result (ftpcheck.h, copied): shown as the
 * top-level JSON object "service" (without it {"tested": false}) and as
 * the "real FTP client:" section.  A failed session (service_failed())
 * makes report_failed() 1.  0 or FTP_ERR_NOMEM.
 */
struct ftpcheck_result;
int report_set_service(struct report *r, const struct ftpcheck_result *svc);
/*
 * Every entry of the JSON "causes" has a "severity": "failure" (a failing
 * path, or an extra cause that fails the check: report_failed() is 1) or
 * "warning" (a path that passes with a cause, e.g. alg-dependent, or an
 * extra cause that fails nothing, e.g. clock-skew).  The human report
 * says "(warning)" after a warning cause's name.
 */
enum report_severity {
	REPORT_FAILURE,
	REPORT_WARNING,
};

/* Where the human report prints an extra cause. */
enum report_part {
	REPORT_PART_SERVICE,		/* "real FTP client:" */
	REPORT_PART_ALG,		/* "FTP ALG:" */
	REPORT_PART_SERVER_HOST,	/* "server host:" (the host's facts) */
	REPORT_PART_SESSION,		/* "session:" (nat, the channel) */
	REPORT_PART_SG,			/* "security groups:" */
};

/*
 * A cause found outside the probes (the real FTP client, the ALG test,
 * the server host's facts): merged into "causes" by name with the
 * probes' causes, label appended to its "probes" and evidence to its
 * "evidence"; a failure anywhere makes the merged entry a failure.
 * Strings are copied.  0 or FTP_ERR_NOMEM.
 */
int report_add_cause(struct report *r, enum report_part part,
    enum report_severity sev, enum cause c, const char *label,
    const char *evidence);

/*
 * The ALG test (alg.h) and its classes, copied: the top-level "alg"
 * object (without it {"tested": false}) and its human section.  0 or
 * FTP_ERR_NOMEM.
 */
struct alg_obs;
struct alg_result;
int report_set_alg(struct report *r, const struct alg_obs *o,
    const struct alg_result *res);

/*
 * The setting to change for cause c ("vsftpd: pasv_address=..."): the
 * strings in "advice" and the settings (takes the reference; NULL for
 * none) in "settings" on c's "causes" entry, and "fix:" lines under
 * "server host:".  0 or FTP_ERR_NOMEM.
 */
int report_add_advice(struct report *r, enum cause c, const char *advice,
    json_t *setting);
/*
 * Extra keys for nat.server (takes the reference; "detected" true wins
 * over the control channel's false) and a header line ("nat ...", NULL
 * for none).  0 or FTP_ERR_NOMEM.
 */
int report_set_server_nat(struct report *r, json_t *extra, const char *line);
/* An extra top-level JSON key (takes the reference; never replaces a key
 * of the report itself).  0 or FTP_ERR_NOMEM. */
int report_set_extra(struct report *r, const char *key, json_t *value);

/*
 * A checked patch for cause c (evidence.h struct evidence_fix, copied):
 * the JSON "fix" of c's causes entry ({host, file, kind "nftables", text,
 * verified, verify_error}; several for one cause are one script), the
 * "fix:" lines under the runs it covers, and --fix-out's files.
 * 0 or FTP_ERR_NOMEM.
 */
struct evidence_fix;
int report_add_fix(struct report *r, enum cause c,
    const struct evidence_fix *f);

/*
 * The evaluated --sg files (sg.h), borrowed: they must outlive every
 * rendering.  The JSON "security_groups", the "security groups:"
 * section, and --fix-out's cloud-<provider>.sh.  0.
 */
struct sg;
int report_set_sgs(struct report *r, const struct sg *const *sgs, size_t n);

/* The JUnit XML of --junit (report_junit.c): one testcase per path run,
 * failures carrying the cause and the evidence.  0, FTP_ERR_NOMEM or
 * FTP_ERR_SYSTEM. */
int report_junit(const struct report *r, FILE *fp);

/* The self-contained HTML page of --html (report_html.c): every path,
 * a failing one drawn as the stages it crossed with the one it died at
 * marked.  0, FTP_ERR_NOMEM or FTP_ERR_SYSTEM. */
int report_html(const struct report *r, FILE *fp);

/* The Prometheus text exposition of one check (report_metrics.c):
 * ftpath_path_up, ftpath_cause, ftpath_reflector_reachable,
 * ftpath_check_exit_status.  0, FTP_ERR_NOMEM or FTP_ERR_SYSTEM. */
int report_metrics(const struct report *r, int exit_code, FILE *fp);

/* Write the files of --fix-out into the existing directory dir: server.nft
 * and client.nft (verified patches only), server-settings.txt (the FTP
 * server settings to change), only those that have content; names of
 * the files written go to log_info.  0, or FTP_ERR_SYSTEM (errno). */
int report_write_fixes(const struct report *r, const char *dir);

/* ---- check --apply (checkapply.h; report_apply.c) ---- */

/* What --apply did and its re-test saw (copied): the JSON "apply"
 * object ({"requested": false} without it) and the "apply" section. */
struct checkapply_obs;
int report_set_apply(struct report *r, const struct checkapply_obs *o);

/* The runs of the report as rendered (report order): at most max into
 * out, *n of them.  0 or FTP_ERR_NOMEM. */
struct report_run_info {
	enum probe_kind kind;
	uint16_t lo, hi;
	int pass;
	enum cause cause;
};
int report_runs(const struct report *r, struct report_run_info *out,
    size_t max, size_t *n);
/* The paths of kind with ports lo-hi in r: how many were tested, how
 * many fail, and the cause of the first that fails. */
void report_ports_status(const struct report *r, enum probe_kind k,
    uint16_t lo, uint16_t hi, unsigned *tested, unsigned *failed,
    enum cause *first);
/* The verified patches (borrowed text), at most max. */
struct report_fix_info {
	enum cause cause;
	int server;		/* the server host's, else the agent's */
	enum probe_kind kind;
	uint16_t lo, hi;
	const char *text;
};
size_t report_verified_fixes(const struct report *r,
    struct report_fix_info *out, size_t max);
/* The real FTP client's data modes that failed (FTPCHECK_MODE_BIT()s;
 * 0 when it passed or did not run). */
unsigned report_service_failed_modes(const struct report *r);
/* 1 if the real FTP client ran (its result is in r). */
int report_service_ran(const struct report *r);

/* 1 if at least one path fails, the service check failed or a cause of
 * severity REPORT_FAILURE was added. */
int report_failed(const struct report *r);

/* New reference to the JSON report (see DESIGN.md); NULL on ENOMEM. */
json_t *report_json(const struct report *r);
/* Human report; colour escapes only when color != 0. */
int report_print(const struct report *r, FILE *out, int color);

#endif
