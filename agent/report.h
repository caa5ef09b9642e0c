/*
 * report.h - the human report and the versioned JSON report.
 *
 * Collects classified probes, compacts passive ports into runs of equal
 * verdict, and renders.  Pure apart from writing to the given FILE.
 */
#ifndef FTPATH_REPORT_H
#define FTPATH_REPORT_H

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
 * The real FTP client's result (service.h): shown as the top-level JSON
 * object "service" (takes a new reference; without it the report says
 * {"tested": false}) and as the "real FTP client:" section.  Its "ok"
 * false makes report_failed() 1.
 */
void report_set_service(struct report *r, json_t *service);
/*
 * A cause found outside the probes (the real FTP client): listed once in
 * "causes" with probe_label and the evidence; report_failed() is then 1.
 * 0 or FTP_ERR_NOMEM.
 */
int report_add_cause(struct report *r, enum cause c, const char *probe_label,
    const char *evidence);

/*
 * The ALG test (alg.h): the top-level "alg" object (takes a new
 * reference; without it {"tested": false}) and its human section.
 */
void report_set_alg(struct report *r, json_t *alg);
/*
 * A warning cause (e.g. alg-dependent: a path that passes only through
 * an ALG): listed in "causes" with "severity": "warning", label and
 * evidence, without making report_failed() 1.  0 or FTP_ERR_NOMEM.
 */
int report_add_warning(struct report *r, enum cause c,
    const char *probe_label, const char *evidence);

/*
 * A cause found from the server host's own facts (srvcheck.h: DNAT,
 * FTP server settings, DNS, clock): merged into "causes" by name like
 * report_add_cause(), printed under "server host:".  failing 0 (a
 * clock-skew) marks its entry "warning": true and leaves
 * report_failed() alone.  0 or FTP_ERR_NOMEM.
 */
int report_add_finding(struct report *r, enum cause c, const char *label,
    const char *evidence, int failing);
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

/* 1 if at least one path fails, the service check failed or a failing
 * cause was added. */
int report_failed(const struct report *r);

/* New reference to the JSON report (see DESIGN.md); NULL on ENOMEM. */
json_t *report_json(const struct report *r);
/* Human report; colour escapes only when color != 0. */
int report_print(const struct report *r, FILE *out, int color);

#endif
