/*
 * checkapply.c - `check --apply` (see checkapply.h).
 *
 * Sequence: plan (which failing paths, which verified patches of the
 * causes the classifier named) -> load the agent host's patch (apply.h)
 * -> ask the reflector, in a session of its own, to load the fixes it
 * derived (apply-request) -> re-test: a restricted check_run() of the
 * failing paths, classified -> per host keep (confirm) or roll back ->
 * the observations into the report.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "applymsg.h"
#include "check_int.h"
#include "checkapply.h"
#include "clock.h"
#include "err.h"
#include "ftpcheck.h"
#include "log.h"
#include "patchjoin.h"
#include "report.h"

#define CHECKAPPLY_MAX_RUNS	1024
#define CHECKAPPLY_MAX_FIXES	64
#define CHECKAPPLY_PASSIVE_MODES \
	(FTPCHECK_MODE_BIT(FTPCHECK_EPSV) | FTPCHECK_MODE_BIT(FTPCHECK_PASV))
#define CHECKAPPLY_ACTIVE_MODES \
	(FTPCHECK_MODE_BIT(FTPCHECK_EPRT) | FTPCHECK_MODE_BIT(FTPCHECK_PORT))

struct checkapply {
	struct check *c;
	struct report *rep;
	struct checkapply_obs *ob;
	struct report_fix_info fx[CHECKAPPLY_MAX_FIXES];
	size_t n_fx;
	char *client_script;		/* joined, NULL: none */
	struct applymsg_request req;	/* the server fixes, by record */
	struct apply *client;		/* loaded, undecided */
	struct control *srv;		/* the apply session, NULL: none */
	int srv_loaded;
	int svc_wanted;			/* the re-test runs the FTP client */
	struct report *after;		/* the re-test's, or NULL */
};

/* ---- plan ---- */

static int
checkapply_overlaps(const struct report_fix_info *f,
    const struct checkapply_path *p)
{
	if (f->kind != p->kind)
		return 0;
	return p->kind == PROBE_ACTIVE || (f->lo <= p->hi && p->lo <= f->hi);
}

/* The host whose verified patch answers p's cause, or -1. */
static int
checkapply_host_of(const struct checkapply *ca, const struct checkapply_path *p)
{
	size_t i;

	if (p->cause != CAUSE_CLIENT_LOCAL_RULE &&
	    p->cause != CAUSE_SERVER_LOCAL_RULE)
		return -1;
	for (i = 0; i < ca->n_fx; i++)
		if (ca->fx[i].cause == p->cause && ca->fx[i].server ==
		    (p->cause == CAUSE_SERVER_LOCAL_RULE) &&
		    checkapply_overlaps(&ca->fx[i], p))
			return ca->fx[i].server ? CHECKAPPLY_SERVER :
			    CHECKAPPLY_CLIENT;
	return -1;
}

/* The failing runs of the report, each with the host that patches it. */
static int
checkapply_paths(struct checkapply *ca)
{
	struct report_run_info *runs;
	struct checkapply_obs *ob = ca->ob;
	size_t i, n;

	if ((runs = calloc(CHECKAPPLY_MAX_RUNS, sizeof(*runs))) == NULL)
		return FTP_ERR_NOMEM;
	if (report_runs(ca->rep, runs, CHECKAPPLY_MAX_RUNS, &n) != 0) {
		free(runs);
		return FTP_ERR_NOMEM;
	}
	for (i = 0; i < n; i++) {
		struct checkapply_path *p = &ob->paths[ob->n_paths];

		if (runs[i].pass)
			continue;
		if (ob->n_paths == CHECKAPPLY_MAX_PATHS) {
			log_warnx("apply: more than %d failing runs; the rest "
			    "is not re-tested", CHECKAPPLY_MAX_PATHS);
			break;
		}
		p->kind = runs[i].kind;
		p->lo = runs[i].lo;
		p->hi = runs[i].hi;
		p->cause = runs[i].cause;
		p->after = -1;
		p->host = checkapply_host_of(ca, p);
		ob->n_paths++;
	}
	free(runs);
	return 0;
}

/* Only patches of the causes the classifier named for a failing path
 * of that host: the agent's client-local-rule text, the reflector's
 * server-local-rule fixes by the record they came in. */
static int
checkapply_patches(struct checkapply *ca)
{
	const char *texts[CHECKAPPLY_MAX_FIXES];
	size_t i, k, n = 0;

	for (i = 0; i < ca->n_fx; i++) {
		const struct report_fix_info *f = &ca->fx[i];
		struct applymsg_fixref *x;

		if (!f->server && f->cause == CAUSE_CLIENT_LOCAL_RULE) {
			texts[n++] = f->text;
			continue;
		}
		if (!f->server || f->cause != CAUSE_SERVER_LOCAL_RULE ||
		    ca->req.n_fixes == APPLYMSG_MAX_FIXES)
			continue;
		x = &ca->req.fixes[ca->req.n_fixes];
		x->record = f->kind == PROBE_ACTIVE ? APPLYMSG_ACTIVE :
		    APPLYMSG_TRACES;
		x->lo = f->kind == PROBE_ACTIVE ? 0 : f->lo;
		x->hi = f->kind == PROBE_ACTIVE ? 0 : f->hi;
		for (k = 0; k < ca->req.n_fixes; k++)
			if (ca->req.fixes[k].record == x->record &&
			    ca->req.fixes[k].lo == x->lo &&
			    ca->req.fixes[k].hi == x->hi)
				break;
		if (k == ca->req.n_fixes)
			ca->req.n_fixes++;
	}
	if (n > 0 && patchjoin(texts, n, &ca->client_script) != 0)
		return FTP_ERR_NOMEM;
	return 0;
}

/* ---- load ---- */

static void
checkapply_added(const struct apply *ap, struct checkapply_hostobs *h)
{
	const struct apply_plan *p = apply_plan_of(ap);
	struct apply_item_info it;
	size_t i;

	for (i = 0; p != NULL && i < apply_plan_count(p) &&
	    h->n_added < CHECKAPPLY_MAX_ADDED; i++) {
		if (apply_plan_item(p, i, &it) != 0)
			break;
		snprintf(h->added[h->n_added++], CHECKAPPLY_LINE,
		    "%s %s %s%s%s%s%s handle %llu", it.kind, it.family,
		    it.table, it.chain[0] ? " " : "", it.chain,
		    it.name[0] ? " " : "", it.name, it.handle);
	}
}

static void
checkapply_load_client(struct checkapply *ca)
{
	struct checkapply_hostobs *h = &ca->ob->host[CHECKAPPLY_CLIENT];
	struct apply_opts o = { ca->c->o->state_dir,
	    ca->ob->confirm_timeout_s };
	int r;

	if (ca->client_script == NULL) {
		snprintf(h->reason, sizeof(h->reason), "no failing path has a "
		    "client-local-rule cause with a verified patch");
		return;
	}
	r = apply_load(ca->client_script, &o, &ca->client, h->reason,
	    sizeof(h->reason));
	if (r != 0) {
		h->state = r == FTP_ERR_INVAL ? CHECKAPPLY_REJECTED :
		    CHECKAPPLY_REFUSED;
		log_warnx("apply: the agent host's patch was not loaded: %s",
		    h->reason);
		return;
	}
	h->state = CHECKAPPLY_ROLLED_BACK;	/* until decided */
	h->reason[0] = '\0';
	checkapply_added(ca->client, h);
	log_info("apply: the agent host's patch is loaded (%zu item(s)); its "
	    "watchdog %ld rolls it back in %u s unless confirmed",
	    h->n_added, apply_watchdog_pid(ca->client),
	    ca->ob->confirm_timeout_s);
}

static void
checkapply_take_result(struct checkapply_hostobs *h,
    const struct applymsg_result *res)
{
	static const enum checkapply_state map[APPLYMSG_NSTATES] = {
		[APPLYMSG_APPLIED] = CHECKAPPLY_ROLLED_BACK,	/* undecided */
		[APPLYMSG_REFUSED] = CHECKAPPLY_REFUSED,
		[APPLYMSG_REJECTED] = CHECKAPPLY_REJECTED,
		[APPLYMSG_KEPT] = CHECKAPPLY_KEPT,
		[APPLYMSG_ROLLED_BACK] = CHECKAPPLY_ROLLED_BACK,
		[APPLYMSG_FAILED] = CHECKAPPLY_FAILED,
	};
	size_t i;

	h->state = map[res->state];
	snprintf(h->reason, sizeof(h->reason), "%s", res->reason);
	h->identical = res->identical;
	for (i = 0; i < res->n_added && h->n_added < CHECKAPPLY_MAX_ADDED;
	    i++)
		snprintf(h->added[h->n_added++], CHECKAPPLY_LINE, "%s",
		    res->added[i]);
}

/* One apply-* request on the apply session: 0 with *res, or negative
 * (why in h->reason). */
static int
checkapply_ask(struct checkapply *ca, json_t *req,
    struct applymsg_result *res, struct checkapply_hostobs *h)
{
	json_t *rep = NULL;
	int r;

	if (req == NULL)
		return FTP_ERR_NOMEM;
	r = control_request(ca->srv, req, "apply-result",
	    CONTROL_REPLY_TIMEOUT_MS, &rep);
	json_decref(req);
	if (r != 0) {
		snprintf(h->reason, sizeof(h->reason), "the reflector: %s",
		    control_errmsg(ca->srv));
		return r;
	}
	r = applymsg_result_decode(rep, res, h->reason, sizeof(h->reason));
	json_decref(rep);
	return r;
}

static void
checkapply_load_server(struct checkapply *ca)
{
	struct checkapply_hostobs *h = &ca->ob->host[CHECKAPPLY_SERVER];
	struct check *c = ca->c;
	struct control_welcome w;
	struct applymsg_result *res;

	if (ca->req.n_fixes == 0) {
		snprintf(h->reason, sizeof(h->reason), "no failing path has a "
		    "server-local-rule cause with a verified patch");
		return;
	}
	h->state = CHECKAPPLY_REFUSED;
	if ((res = calloc(1, sizeof(*res))) == NULL ||
	    (ca->srv = control_new(c->base, c->ctx)) == NULL) {
		snprintf(h->reason, sizeof(h->reason), "out of memory");
		free(res);
		return;
	}
	/* The fixes are the derivation session's; this one only asks. */
	memcpy(ca->req.session, control_token(c->ctl), PROTO_TOKEN_HEXLEN + 1);
	ca->req.confirm_timeout_s = ca->ob->confirm_timeout_s;
	if (control_connect(ca->srv, c->host, c->rport) != 0 ||
	    control_hello(ca->srv, &w) != 0) {
		snprintf(h->reason, sizeof(h->reason), "cannot reach the "
		    "reflector again: %s", control_errmsg(ca->srv));
	} else if (checkapply_ask(ca, applymsg_request_encode(&ca->req), res,
	    h) == 0) {
		checkapply_take_result(h, res);
		ca->srv_loaded = res->state == APPLYMSG_APPLIED;
		if (ca->srv_loaded)
			log_info("apply: the reflector loaded the server "
			    "host's patch (%zu item(s))", h->n_added);
		else
			log_warnx("apply: the reflector did not load the "
			    "server host's patch: %s: %s",
			    applymsg_state_name(res->state), res->reason);
	}
	free(res);
}

/* FTPATH_CHECKAPPLY_FAULT=hold: sit in the confirm window (bounded by
 * it) so that a test can kill this process there. */
static void
checkapply_fault(const struct checkapply *ca)
{
	const char *f = getenv(CHECKAPPLY_FAULT_ENV);
	struct timespec t0;

	if (f == NULL || strcmp(f, "hold") != 0)
		return;
	log_info("apply: %s=hold: holding the confirm window open",
	    CHECKAPPLY_FAULT_ENV);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (clock_ms_since(&t0) < (ca->ob->confirm_timeout_s + 2) * 1000u)
		usleep(100 * 1000);
}

/* ---- re-test ---- */

static unsigned
checkapply_retest_modes(const struct checkapply *ca, int *pasv, int *act)
{
	const struct checkapply_obs *ob = ca->ob;
	unsigned m = ob->svc_before;
	size_t i;

	*pasv = *act = 0;
	for (i = 0; i < ob->n_paths; i++) {
		if (ob->paths[i].kind == PROBE_CONTROL)
			m |= FTPCHECK_MODES_ALL;
		else if (ob->paths[i].kind == PROBE_PASSIVE)
			m |= CHECKAPPLY_PASSIVE_MODES;
		else
			m |= CHECKAPPLY_ACTIVE_MODES;
		*pasv |= ob->paths[i].kind == PROBE_PASSIVE;
		*act |= ob->paths[i].kind == PROBE_ACTIVE;
	}
	return ca->c->o->no_active ? m & CHECKAPPLY_PASSIVE_MODES : m;
}

/* The same check again, for the failing paths only (check.h "retest"). */
static void
checkapply_retest(struct checkapply *ca)
{
	struct check *c = ca->c;
	struct check_opts ro = *c->o;
	struct timespec t0;
	size_t i;
	int pasv, act;

	ro.apply = 0;
	ro.retest = 1;
	ro.quiet = 1;
	ro.json = ro.junit = ro.html = ro.fix_out = NULL;
	ro.metrics = NULL;
	ro.n_sg = 0;
	ro.idle_s = 0;
	ro.ftp_connections = 1;
	ro.server = c->server_name;
	ro.control_port = c->cport;
	ro.ftp_modes = checkapply_retest_modes(ca, &pasv, &act);
	ro.no_ftp_check = c->o->no_ftp_check || ro.ftp_modes == 0;
	ca->svc_wanted = !ro.no_ftp_check;
	ro.no_active = !act;
	memset(&ro.passive, 0, sizeof(ro.passive));
	for (i = 0; pasv && i < ca->ob->n_paths; i++) {
		const struct checkapply_path *p = &ca->ob->paths[i];

		if (p->kind != PROBE_PASSIVE)
			continue;
		if (ro.passive.lo == 0 || p->lo < ro.passive.lo)
			ro.passive.lo = p->lo;
		if (p->hi > ro.passive.hi)
			ro.passive.hi = p->hi;
	}
	ro.report_out = &ca->after;
	log_info("apply: re-testing %zu failing path(s)", ca->ob->n_paths);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (check_run(&ro) != CHECK_EXIT_PASS || ca->after == NULL) {
		/* Without a session its verdicts say nothing of the fix. */
		report_free(ca->after);
		ca->after = NULL;
		snprintf(ca->ob->retest_error, sizeof(ca->ob->retest_error),
		    "the re-test could not pair with the reflector, or lost "
		    "it");
	}
	ca->ob->retest_ms = clock_ms_since(&t0);
	ca->ob->retested = ca->after != NULL;
}

/* Each path's "after": the re-test report's own verdicts. */
static void
checkapply_judge(struct checkapply *ca)
{
	struct checkapply_obs *ob = ca->ob;
	unsigned tested, failed, want;
	enum cause first;
	size_t i;

	for (i = 0; ca->after != NULL && i < ob->n_paths; i++) {
		struct checkapply_path *p = &ob->paths[i];

		report_ports_status(ca->after, p->kind, p->lo, p->hi, &tested,
		    &failed, &first);
		want = p->kind == PROBE_ACTIVE ? 1 : (unsigned)(p->hi - p->lo) +
		    1;
		p->after_failed = failed;
		p->after_cause = first;
		p->after = failed > 0 ? 0 : tested == want ? 1 : -1;
	}
	if (ca->after == NULL)
		return;
	/* A real FTP client that should have run and did not proves
	 * nothing: its modes count as failing still. */
	if (ca->svc_wanted && !report_service_ran(ca->after)) {
		ob->svc_after = ob->svc_before;
		snprintf(ob->retest_error, sizeof(ob->retest_error), "the real "
		    "FTP client did not run in the re-test");
	} else {
		ob->svc_after = report_service_failed_modes(ca->after) &
		    ob->svc_before;
	}
	for (i = 0, want = 0; i < ob->n_paths; i++)
		want += ob->paths[i].after == 1;
	log_info("apply: re-test done in %u ms: %u of %zu failing path(s) "
	    "pass; real FTP client %s", ob->retest_ms, want, ob->n_paths,
	    !ca->svc_wanted ? "not run" : !report_service_ran(ca->after) ?
	    "did not run" : ob->svc_after ? "still fails" : "passes");
}

static const char *
checkapply_ports(const struct checkapply_path *p, char *buf, size_t len)
{
	if (p->lo == p->hi)
		snprintf(buf, len, "%u", p->lo);
	else
		snprintf(buf, len, "%u-%u", p->lo, p->hi);
	return buf;
}

/* Keep a host's patch only if every failing path it answers passes. */
static int
checkapply_keep(const struct checkapply_obs *ob, enum checkapply_host h,
    char *why, size_t len)
{
	char ports[16];
	size_t i, mine = 0;

	for (i = 0; i < ob->n_paths; i++) {
		const struct checkapply_path *p = &ob->paths[i];

		if (p->host != (int)h)
			continue;
		mine++;
		if (p->after == 0) {
			snprintf(why, len, "the re-test: %s %s still fails "
			    "(%s)", probe_kind_name(p->kind),
			    checkapply_ports(p, ports, sizeof(ports)),
			    cause_name(p->after_cause) ? cause_name(
			    p->after_cause) : "no cause named");
			return 0;
		}
		if (p->after != 1) {
			snprintf(why, len, "the re-test did not test %s %s",
			    probe_kind_name(p->kind),
			    checkapply_ports(p, ports, sizeof(ports)));
			return 0;
		}
	}
	if (mine == 0)
		snprintf(why, len, "no failing path it answers");
	return mine > 0;
}

/* ---- decide ---- */

static void
checkapply_decide_client(struct checkapply *ca)
{
	struct checkapply_hostobs *h = &ca->ob->host[CHECKAPPLY_CLIENT];
	char why[256] = "";
	int r, ident = -1;

	if (ca->client == NULL)
		return;
	if (checkapply_keep(ca->ob, CHECKAPPLY_CLIENT, why, sizeof(why))) {
		r = apply_confirm(ca->client, h->reason, sizeof(h->reason));
		h->state = r == 0 ? CHECKAPPLY_KEPT : r == FTP_ERR_RANGE ?
		    CHECKAPPLY_ROLLED_BACK : CHECKAPPLY_FAILED;
		if (r == 0)
			snprintf(h->reason, sizeof(h->reason), "the re-test "
			    "passed");
	} else {
		r = apply_rollback(ca->client, 0, &ident, h->reason,
		    sizeof(h->reason));
		h->state = r == 0 ? CHECKAPPLY_ROLLED_BACK : r == 1 ?
		    CHECKAPPLY_KEPT : CHECKAPPLY_FAILED;
		h->identical = ident;
		if (r == 0)
			snprintf(h->reason, sizeof(h->reason), "%s", why);
	}
	log_info("apply: the agent host's patch: %s (%s)",
	    checkapply_state_name(h->state), h->reason);
	apply_free(ca->client);
	ca->client = NULL;
}

static void
checkapply_decide_server(struct checkapply *ca)
{
	struct checkapply_hostobs *h = &ca->ob->host[CHECKAPPLY_SERVER];
	struct applymsg_result *res = calloc(1, sizeof(*res));
	char why[256] = "";
	int keep;

	if (!ca->srv_loaded || res == NULL) {
		free(res);
		return;
	}
	keep = checkapply_keep(ca->ob, CHECKAPPLY_SERVER, why, sizeof(why));
	if (checkapply_ask(ca, applymsg_decision_encode(keep), res, h) != 0) {
		/* Unconfirmed: the reflector's watchdog decides. */
		h->state = CHECKAPPLY_ROLLED_BACK;
		snprintf(h->reason, sizeof(h->reason), "the control channel "
		    "failed before the decision: the reflector's watchdog "
		    "rolls back by itself");
	} else {
		checkapply_take_result(h, res);
		if (res->reason[0] == '\0')
			snprintf(h->reason, sizeof(h->reason), "%s", keep ?
			    "the re-test passed" : why);
	}
	log_info("apply: the server host's patch: %s (%s)",
	    checkapply_state_name(h->state), h->reason);
	free(res);
}

/* A host that loaded and was not kept fails the exit status too: its
 * paths pass no longer. */
static int
checkapply_all_pass(const struct checkapply *ca)
{
	const struct checkapply_obs *ob = ca->ob;
	size_t i;
	int h;

	if (ca->after == NULL || report_failed(ca->after) ||
	    ob->svc_after != 0)
		return 0;
	for (i = 0; i < ob->n_paths; i++)
		if (ob->paths[i].after != 1)
			return 0;
	for (h = 0; h < CHECKAPPLY_NHOSTS; h++)
		if (ob->host[h].state != CHECKAPPLY_KEPT &&
		    ob->host[h].state != CHECKAPPLY_NONE)
			return 0;
	return 1;
}

static void
checkapply_bye(struct checkapply *ca)
{
	json_t *req, *rep = NULL;

	if (ca->srv == NULL || !control_alive(ca->srv))
		return;
	if ((req = proto_msg_new("bye")) == NULL)
		return;
	(void)control_request(ca->srv, req, "bye", CONTROL_REPLY_TIMEOUT_MS,
	    &rep);
	json_decref(req);
	json_decref(rep);
}

static int
checkapply_flow(struct checkapply *ca)
{
	struct checkapply_obs *ob = ca->ob;

	ca->n_fx = report_verified_fixes(ca->rep, ca->fx, CHECKAPPLY_MAX_FIXES);
	ob->svc_before = report_service_failed_modes(ca->rep);
	if (checkapply_paths(ca) != 0 || checkapply_patches(ca) != 0)
		return FTP_ERR_NOMEM;
	/* Our own trace table must not be in the state saved; its
	 * observations are in the report already. */
	ctrace_free(ca->c->ct);
	ca->c->ct = NULL;
	checkapply_load_client(ca);
	checkapply_load_server(ca);
	if (ca->client == NULL && !ca->srv_loaded) {
		snprintf(ob->retest_error, sizeof(ob->retest_error),
		    "no patch was loaded");
		return 0;
	}
	checkapply_fault(ca);
	checkapply_retest(ca);
	checkapply_judge(ca);
	checkapply_decide_client(ca);
	checkapply_decide_server(ca);
	ob->all_pass = checkapply_all_pass(ca);
	return 1;
}

int
checkapply_run(struct check *c, struct report *rep)
{
	struct checkapply *ca = calloc(1, sizeof(*ca));
	int r = -1, loaded;

	if (ca == NULL || (ca->ob = calloc(1, sizeof(*ca->ob))) == NULL) {
		log_warnx("apply: out of memory");
		free(ca);
		return -1;
	}
	ca->c = c;
	ca->rep = rep;
	ca->ob->confirm_timeout_s = c->o->confirm_timeout ?
	    c->o->confirm_timeout : APPLY_CONFIRM_TIMEOUT;
	ca->ob->host[0].identical = ca->ob->host[1].identical = -1;
	if ((loaded = checkapply_flow(ca)) < 0)
		log_warnx("apply: out of memory");
	else
		r = loaded ? ca->ob->all_pass : -1;
	checkapply_bye(ca);
	if (report_set_apply(rep, ca->ob) != 0)
		log_warnx("apply: out of memory recording the result");
	/* Undecided on an error path: released, the watchdog rolls back. */
	apply_free(ca->client);
	control_free(ca->srv);
	report_free(ca->after);
	free(ca->client_script);
	free(ca->ob);
	free(ca);
	return r;
}
