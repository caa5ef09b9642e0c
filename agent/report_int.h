/*
 * report_int.h - the report model as its renderers see it (report.c
 * builds it; report_text.c and report_json.c render it).  Not for other
 * modules: they use report.h.
 */
#ifndef FTPATH_AGENT_REPORT_INT_H
#define FTPATH_AGENT_REPORT_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <stdio.h>
#include <jansson.h>

#include "alg.h"
#include "ftpcheck.h"
#include "report.h"
#include "traceroute.h"
#include "verdict.h"

/*
 * One path, or a run of passive ports added one after the other with the
 * same signature (report.c same_signature): o and v are the first port's,
 * as a run is rendered from its first port anyway, so a full passive
 * range costs one entry per run, not one per port.
 */
struct report_entry {
	struct probe_obs o;
	struct verdict v;
	size_t seq;		/* insertion order, keeps sorting stable */
	long trace;		/* index into report.traces, -1: none */
	uint16_t hi;		/* the run's last port (o.port: its first) */
	unsigned count;		/* ports in it */
	unsigned inferred;	/* members whose ICMP came from a retry */
	uint16_t retry_port;	/* the port that was retried */
};

/* A cause from outside the probes (report_add_cause). */
struct report_xcause {
	enum cause cause;
	enum report_part part;
	enum report_severity sev;
	char *label;
	char *evidence;
};

/* The setting to change for a cause (report_add_advice). */
struct report_advice {
	enum cause cause;
	char *text;
	json_t *setting;	/* or NULL */
};

/* A fix for a cause (report_add_fix). */
struct report_fix {
	enum cause cause;
	int server;		/* the server host's (server.nft), else ours */
	enum probe_kind kind;
	uint16_t lo, hi;
	char *text;		/* NULL: none (not verified) */
	int verified;
	char *verify_error;
	char *style;		/* "helper", "ports" or "" (no choice) */
	char *style_reason;
};

struct report {
	struct session_facts f;
	char *agent_version;
	char *reflector_version;
	char *server_name;
	struct report_entry *ents;
	size_t n, cap;
	size_t n_paths;		/* paths (ports) the entries stand for */
	char **notes;
	size_t n_notes, cap_notes;
	unsigned duration_ms;
	struct ftpcheck_result *svc;	/* NULL: not tested */
	struct report_xcause *xcauses;
	size_t n_xcauses, cap_xcauses;
	struct alg_obs *alg;	/* NULL: not tested */
	struct alg_result alg_res;
	struct traceroute_path *traces;	/* distinct ones, shared by entries */
	size_t n_traces, cap_traces;
	struct report_advice *advice;
	size_t n_advice, cap_advice;
	json_t *nat_server;	/* extra keys of nat.server, or NULL */
	char *nat_line;		/* its header line, or NULL */
	json_t *extra;		/* extra top-level keys, or NULL */
	struct report_fix *fixes;
	size_t n_fixes, cap_fixes;
	const struct sg *const *sgs;	/* borrowed (report_set_sgs) */
	size_t n_sgs;
	struct checkapply_obs *apply;	/* NULL: no --apply */
	/* The entries' reasons and rules (verdict.h): a report outlives
	 * the engine whose observations it copied. */
	struct copypool *kept;
};

/* Consecutive entries (in view order) rendered as one path. */
struct report_run {
	const struct report_entry *first;
	uint16_t lo, hi;
	unsigned count;
	unsigned inferred;	/* members whose ICMP came from a retry */
	uint16_t retry_port;	/* the port that was retried */
	const struct traceroute_path *trace;	/* first's, or NULL */
};

struct report_view {
	const struct report_entry **order;
	struct report_run *runs;
	size_t n_runs;
};


/* The entries in report order and their runs; report_view_free() frees
 * what report_view_build() allocated.  0 or FTP_ERR_NOMEM. */
int report_view_build(const struct report *r, struct report_view *vw);
void report_view_free(struct report_view *vw);

/* "30000" or "30000-30099". */
const char *report_ports_text(const struct report_run *run, char *buf,
    size_t len);
/* "passive 30000-30049": how a run is named in the causes list. */
const char *report_run_label(const struct report_run *run, char *buf,
    size_t len);
/* The sentence said first when a run stands for many ports. */
const char *report_run_preface(const struct report_run *run, char *buf,
    size_t len);

/* The fix of run's cause that covers its ports, or NULL. */
const struct report_fix *report_fix_for(const struct report *r,
    const struct report_run *run);
/* "allow tcp/30000-30099 from 198.51.100.2 to 203.0.113.2 on the device
 * at hop 198.51.100.1 ...": what to change where ftpath does not run, for
 * a run failing with a path cause; "" when none applies. */
const char *report_guidance(const struct report *r,
    const struct report_run *run, char *buf, size_t len);

/* The "apply" section (report_apply.c). */
void report_apply_print(const struct report *r, FILE *out);
json_t *report_apply_json(const struct report *r);

#endif
