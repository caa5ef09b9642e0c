/*
 * test_classify.c - the one classifier over whole-check evidence.
 *
 * Each test builds the evidence of one situation by hand (documentation
 * addresses: agent 192.0.2.10, server 203.0.113.2, router 198.51.100.1)
 * and asserts on the report model's JSON rendering: the verdicts and
 * causes the rules across paths and stages decide.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testfacts.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "report.h"

#define AGENT	"192.0.2.10"
#define SERVER	"203.0.113.2"
#define ROUTER	"198.51.100.1"
#define NATADDR	"198.51.100.7"
#define NPASV	4
#define PASV_LO	30000

struct fixture {
	struct session_facts f;
	struct probe_obs probes[1 + NPASV];
	struct probe_obs active;
	struct probe_rule rule;		/* what probes[].rule may point at */
	struct evidence_trace trace;
	struct evidence_late_icmp late;
	struct alg_obs alg;
	struct ftpcheck_result svc;
	struct evidence e;
};

static void
obs_out(struct probe_obs *o, enum probe_kind k, uint16_t port,
    enum probe_outcome oc)
{
	memset(o, 0, sizeof(*o));
	o->kind = k;
	o->port = port;
	o->outcome = oc;
	inet_set(&o->local, AGENT, 45000);
	inet_set(&o->remote, SERVER, port);
	o->elapsed_ms = 20;
	o->arm = ARM_LISTENING;
	o->trace_state = TRACE_OBS_ON;
	o->ctrace_state = TRACE_OBS_ON;
	if (oc == OUTCOME_ACKED) {
		o->arrived = 1;
		o->seen_peer = o->local;
		o->seen_local = o->remote;
	}
}

/* Control passes; the passive range, the active path as given. */
static struct fixture *
fixture_new(enum probe_outcome passive)
{
	struct fixture *x = calloc(1, sizeof(*x));
	unsigned i;

	assert_non_null(x);
	facts_set(&x->f, AGENT, SERVER, 10, 500);
	obs_out(&x->probes[0], PROBE_CONTROL, 21, OUTCOME_ACKED);
	x->probes[0].served = 1;	/* diverted: the FTP server owns 21 */
	for (i = 0; i < NPASV; i++)
		obs_out(&x->probes[1 + i], PROBE_PASSIVE,
		    (uint16_t)(PASV_LO + i), passive);
	memset(&x->active, 0, sizeof(x->active));
	x->active.kind = PROBE_ACTIVE;
	x->active.port = 20;
	x->active.outcome = OUTCOME_ACKED;
	inet_set(&x->active.local, SERVER, 20);
	inet_set(&x->active.remote, AGENT, 41000);
	x->active.arrived = 1;
	x->active.seen_peer = x->active.local;
	x->e.f = &x->f;
	x->e.agent_version = "test";
	x->e.reflector_version = "test";
	x->e.server_name = SERVER;
	x->e.control_port = 21;
	x->e.probes = x->probes;
	x->e.n_probes = 1 + NPASV;
	x->e.active = &x->active;
	return x;
}

/* The passive probes dropped silently where both traces place it. */
static void
passive_path_drop(struct fixture *x)
{
	unsigned i;

	for (i = 0; i < NPASV; i++) {
		struct probe_obs *o = &x->probes[1 + i];

		o->elapsed_ms = 500;
		o->confirm_ms = 1000;
		o->trace_record = 1;
		o->ctrace_state = TRACE_OBS_ON;
		o->syn_sent = 1;
	}
}

/* ... dropped on the server host by its own rule (the policy). */
static void
passive_server_rule(struct fixture *x)
{
	struct probe_rule *r = &x->rule;
	unsigned i;

	memset(r, 0, sizeof(*r));
	r->has_handle = 0;
	snprintf(r->family, sizeof(r->family), "inet");
	snprintf(r->table, sizeof(r->table), "filter");
	snprintf(r->chain, sizeof(r->chain), "input");
	snprintf(r->verdict, sizeof(r->verdict), "drop");
	for (i = 0; i < NPASV; i++) {
		struct probe_obs *o = &x->probes[1 + i];

		o->elapsed_ms = 500;
		o->trace_record = 1;
		o->syn_seen = 1;
		o->syn_sent = 1;
		o->rule = r;
	}
}

/* The real FTP client logged in; mode m moved data (to port). */
static void
svc_ok(struct fixture *x, enum ftpcheck_mode m, uint16_t port, int ok)
{
	struct ftpcheck_data *d = &x->svc.mode[m];

	x->svc.control_connected = 1;
	sa_set(&x->svc.control_peer, SERVER, 21);
	x->svc.banner.code = 220;
	snprintf(x->svc.banner.text, sizeof(x->svc.banner.text), "220 hi");
	x->svc.logged_in = 1;
	x->svc.pass.code = 230;
	d->attempted = 1;
	d->reply.code = m == FTPCHECK_EPSV ? 229 : m == FTPCHECK_PASV ? 227 :
	    200;
	if (m == FTPCHECK_EPSV || m == FTPCHECK_PASV) {
		d->adv_ok = 1;
		sa_set(&d->adv, SERVER, port);
	} else {
		sa_set(&d->listen, AGENT, port);
		sa_set(&d->peer, SERVER, 20);
		d->peer_is_server = 1;
	}
	d->connected = ok;
	d->ok = ok;
	d->data_timed_out = !ok;
	d->bytes = ok ? 62 : 0;
	x->e.svc = &x->svc;
}

/*
 * Golden renderings: the text and JSON reports of a fixture are compared
 * with tests/unit/golden/NAME.{txt,json}, which scripts/golden.sh writes
 * (FTPATH_GOLDEN_WRITE=1) and nobody edits by hand.  The same evidence
 * must always give the same report.
 */
static char *
render_text(const struct report *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	assert_non_null(fp);
	assert_int_equal(report_print(r, fp, 0), 0);
	assert_int_equal(fclose(fp), 0);
	return buf;
}

static char *
slurp_file(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *buf;
	long n;

	if (fp == NULL)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	buf = calloc(1, (size_t)n + 1);
	if (buf != NULL && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(fp);
	return buf;
}

static void
golden_one(const char *name, const char *ext, const char *got)
{
	char path[512];
	char *want;
	FILE *fp;

	snprintf(path, sizeof(path), "tests/unit/golden/%s.%s", name, ext);
	if (getenv("FTPATH_GOLDEN_WRITE") != NULL) {
		assert_non_null(fp = fopen(path, "w"));
		fputs(got, fp);
		assert_int_equal(fclose(fp), 0);
		return;
	}
	if ((want = slurp_file(path)) == NULL)
		fail_msg("no golden file %s (run scripts/golden.sh)", path);
	if (strcmp(want, got) != 0) {
		print_message("--- %s\n%s\n+++ got\n%s\n", path, want, got);
		fail_msg("%s differs from the rendering (scripts/golden.sh "
		    "rewrites it; review the diff)", path);
	}
	free(want);
}

static void
golden(const char *name, const struct report *r)
{
	json_t *j = report_json(r);
	char *txt = render_text(r), *js;

	assert_non_null(j);
	js = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
	assert_non_null(js);
	golden_one(name, "txt", txt);
	golden_one(name, "json", js);
	free(txt);
	free(js);
	json_decref(j);
}

static const char *golden_name;	/* set by a test: compare its run() */

static json_t *
run(const struct fixture *x)
{
	struct report *r = classify(&x->e);
	json_t *j;

	assert_non_null(r);
	assert_non_null(j = report_json(r));
	if (golden_name != NULL) {
		golden(golden_name, r);
		golden_name = NULL;
	}
	report_free(r);
	if (getenv("CLASSIFY_DUMP") != NULL)
		json_dumpf(j, stderr, JSON_INDENT(1));
	return j;
}

/* The probe object of kind name ("control", "passive", "active"). */
static const json_t *
probe_of(const json_t *j, const char *name)
{
	const json_t *p;
	size_t i;

	json_array_foreach(json_object_get(j, "probes"), i, p)
		if (strcmp(json_string_value(json_object_get(p, "name")),
		    name) == 0)
			return p;
	fail_msg("no probe %s", name);
	return NULL;
}

static const json_t *
cause_of(const json_t *j, const char *name)
{
	const json_t *c;
	size_t i;

	json_array_foreach(json_object_get(j, "causes"), i, c)
		if (strcmp(json_string_value(json_object_get(c, "cause")),
		    name) == 0)
			return c;
	return NULL;
}

static int
evidence_has(const json_t *p, const char *needle)
{
	const json_t *e;
	size_t i;

	json_array_foreach(json_object_get(p, "evidence"), i, e)
		if (strstr(json_string_value(e), needle) != NULL)
			return 1;
	return 0;
}

/* p's verdict is v and its cause c (NULL: none). */
static void
assert_verdict(const json_t *p, const char *v, const char *c)
{
	assert_string_equal(json_string_value(json_object_get(p, "verdict")),
	    v);
	if (c == NULL)
		assert_true(json_is_null(json_object_get(p, "cause")));
	else
		assert_string_equal(json_string_value(json_object_get(p,
		    "cause")), c);
}

/* The baseline: all paths pass, nothing to say. */
static void
test_clean(void **state)
{
	struct fixture *x = fixture_new(OUTCOME_ACKED);
	json_t *j;

	(void)state;
	golden_name = "clean";
	j = run(x);
	assert_verdict(probe_of(j, "control"), "pass", NULL);
	assert_verdict(probe_of(j, "passive"), "pass", NULL);
	assert_verdict(probe_of(j, "active"), "pass", NULL);
	assert_int_equal(json_array_size(json_object_get(j, "causes")), 0);
	json_decref(j);
	free(x);
}

/* A stateful server passes data only as related (FTP helper): bare
 * probes die on its policy, the real client's EPSV moved data. */
static void
test_helper_dependent_passive(void **state)
{
	struct fixture *x = fixture_new(OUTCOME_TIMEOUT);
	const json_t *p, *c;
	json_t *j;

	(void)state;
	golden_name = "server-helper";
	passive_server_rule(x);
	svc_ok(x, FTPCHECK_EPSV, PASV_LO + 2, 1);
	j = run(x);
	p = probe_of(j, "passive");
	assert_verdict(p, "pass", "alg-dependent");
	assert_true(evidence_has(p, "EPSV data connection"));
	assert_true(evidence_has(p, "on the server host"));
	assert_true(evidence_has(p, "FTPS"));
	assert_non_null(c = cause_of(j, "alg-dependent"));
	assert_string_equal(json_string_value(json_object_get(c,
	    "severity")), "warning");
	assert_null(cause_of(j, "server-local-rule"));
	json_decref(j);
	free(x);
}

/* The same without the helper: the real client fails too. */
static void
test_no_helper_stays_rule(void **state)
{
	struct fixture *x = fixture_new(OUTCOME_TIMEOUT);
	json_t *j;

	(void)state;
	golden_name = "server-nohelper";
	passive_server_rule(x);
	svc_ok(x, FTPCHECK_EPSV, PASV_LO + 2, 0);
	j = run(x);
	assert_verdict(probe_of(j, "passive"), "fail", "server-local-rule");
	assert_null(cause_of(j, "alg-dependent"));
	json_decref(j);
	free(x);
}

/* The real client's data went to a port outside the failing run (or to
 * another address): it proves nothing about the run. */
static void
test_helper_needs_same_path(void **state)
{
	struct fixture *x = fixture_new(OUTCOME_TIMEOUT);
	json_t *j;

	(void)state;
	passive_server_rule(x);
	svc_ok(x, FTPCHECK_EPSV, 40000, 1);
	j = run(x);
	assert_verdict(probe_of(j, "passive"), "fail", "server-local-rule");
	json_decref(j);
	free(x);
}

/* Active mode through the ALG's pinhole. */
static void
test_active_alg_dependent(void **state)
{
	struct fixture *x = fixture_new(OUTCOME_ACKED);
	const json_t *p;
	json_t *j;

	(void)state;
	golden_name = "nat-alg";
	x->active.outcome = OUTCOME_RESET;
	x->active.arrived = 0;
	x->active.error = ECONNREFUSED;
	x->alg.d[ALG_D_CONTROL].tested = 1;
	x->alg.active_tested = 1;
	x->alg.active_ok = 1;
	snprintf(x->alg.active_target, sizeof(x->alg.active_target),
	    NATADDR ":38159");
	x->e.alg = &x->alg;
	j = run(x);
	p = probe_of(j, "active");
	assert_verdict(p, "pass", "alg-dependent");
	assert_true(evidence_has(p, NATADDR ":38159"));
	assert_true(evidence_has(p, "FTPS"));
	json_decref(j);
	/* the ALG's connect-back failed too: no pinhole, still a failure */
	x->alg.active_ok = 0;
	j = run(x);
	assert_string_equal(json_string_value(json_object_get(probe_of(j,
	    "active"), "verdict")), "fail");
	assert_null(cause_of(j, "alg-dependent"));
	json_decref(j);
	free(x);
}

/* A later handshake on the same 5-tuple contradicts a silent drop. */
static void
test_intermittent_not_a_cause(void **state)
{
	struct fixture *x = fixture_new(OUTCOME_TIMEOUT);
	struct traceroute_path *tp = &x->trace.path;
	const json_t *p;
	json_t *j;

	(void)state;
	golden_name = "intermittent";
	passive_path_drop(x);
	x->trace.first = x->probes[1];
	addr_store(&tp->local, ADDR_SA(&x->probes[1].local));
	addr_store(&tp->remote, ADDR_SA(&x->probes[1].remote));
	tp->same_tuple = 1;
	tp->n = 2;
	tp->hop[0].ttl = 1;
	tp->hop[0].result = TRACEROUTE_TIME_EXCEEDED;
	sa_set(&tp->hop[0].from, ROUTER, 0);
	tp->hop[1].ttl = 2;
	tp->hop[1].result = TRACEROUTE_CONNECTED;
	sa_set(&tp->hop[1].from, SERVER, PASV_LO);
	x->e.traces = &x->trace;
	x->e.n_traces = 1;
	j = run(x);
	p = probe_of(j, "passive");
	assert_verdict(p, "fail", NULL);
	assert_true(evidence_has(p, "intermittent"));
	assert_null(cause_of(j, "path-silent-drop"));
	json_decref(j);
	/* without the contradiction the same evidence is a silent drop, a
	 * filter: the control channel reaches the same address */
	tp->n = 1;
	j = run(x);
	assert_verdict(probe_of(j, "passive"), "fail", "path-silent-drop");
	assert_true(evidence_has(probe_of(j, "passive"), "not a routing gap"));
	json_decref(j);
	/* a service address the channel did not reach: the alternative */
	sa_set(&x->f.dialled, "192.0.2.99", 7021);
	j = run(x);
	assert_true(evidence_has(probe_of(j, "passive"),
	    "alternative: a router with no route"));
	json_decref(j);
	free(x);
}

/* Host-unreachable that came after the probes' timeout: a routing gap,
 * for every silent probe to that address. */
static void
test_late_icmp_routing_gap(void **state)
{
	struct fixture *x = fixture_new(OUTCOME_TIMEOUT);
	const json_t *p;
	json_t *j;

	(void)state;
	golden_name = "routing-gap-arp";
	passive_path_drop(x);
	x->late.kind = PROBE_PASSIVE;
	x->late.port = PASV_LO;
	x->late.after_ms = 3120;
	sa_set(&x->late.remote, SERVER, PASV_LO);
	x->late.icmp.present = 1;
	x->late.icmp.family = AF_INET;
	x->late.icmp.type = 3;
	x->late.icmp.code = 1;
	sa_set(&x->late.icmp.from, ROUTER, 0);
	x->e.late = &x->late;
	x->e.n_late = 1;
	j = run(x);
	p = probe_of(j, "passive");
	assert_verdict(p, "fail", "routing-gap");
	assert_true(evidence_has(p, "3120 ms"));
	assert_string_equal(json_string_value(json_object_get(p, "hop")),
	    ROUTER);
	json_decref(j);
	/* admin-prohibited is about a port: not inferred for other ports */
	x->late.icmp.code = 13;
	x->late.port = 1;
	j = run(x);
	assert_verdict(probe_of(j, "passive"), "fail", "path-silent-drop");
	json_decref(j);
	free(x);
}

/* Dual stack: the channel over IPv4, the probes from IPv6.  The
 * reflector's trace follows the IPv4 address: its silence about the IPv6
 * probes proves nothing, so no path cause. */
static void
test_dualstack_trace_blind(void **state)
{
	struct fixture *x = fixture_new(OUTCOME_TIMEOUT);
	const json_t *p;
	json_t *j;
	unsigned i;

	(void)state;
	golden_name = "silent-drop";
	passive_path_drop(x);
	j = run(x);
	assert_verdict(probe_of(j, "passive"), "fail", "path-silent-drop");
	json_decref(j);
	for (i = 0; i < NPASV; i++) {
		inet_set(&x->probes[1 + i].local, "2001:db8:1::2", 45000);
		inet_set(&x->probes[1 + i].remote, "2001:db8:2::2",
		    (uint16_t)(PASV_LO + i));
	}
	j = run(x);
	p = probe_of(j, "passive");
	assert_verdict(p, "fail", NULL);
	assert_true(evidence_has(p, "not this probe's other-family source"));
	json_decref(j);
	free(x);
}

/* Source NAT is a cause (a warning) even when every path passes. */
static void
test_nat_listed(void **state)
{
	struct fixture *x = fixture_new(OUTCOME_ACKED);
	const json_t *c;
	json_t *j;

	(void)state;
	golden_name = "nat";
	sa_set(&x->f.agent_observed, NATADDR, 40000);
	j = run(x);
	assert_non_null(c = cause_of(j, "nat"));
	assert_string_equal(json_string_value(json_object_get(c,
	    "severity")), "warning");
	assert_non_null(strstr(json_string_value(json_array_get(
	    json_object_get(c, "evidence"), 0)), NATADDR));
	json_decref(j);
	free(x);
}

/* A 421 on the next control connection is service-refused. */
static void
test_refused_next_connection(void **state)
{
	struct fixture *x = fixture_new(OUTCOME_ACKED);
	json_t *j;

	(void)state;
	golden_name = "max-per-ip";
	svc_ok(x, FTPCHECK_EPSV, PASV_LO, 1);
	x->svc.tls.attempted = 1;
	x->svc.tls.reply.code = 421;
	snprintf(x->svc.tls.reply.text, sizeof(x->svc.tls.reply.text),
	    "421 There are too many connections from your internet address.");
	j = run(x);
	assert_non_null(cause_of(j, "service-refused"));
	json_decref(j);
	free(x);
}

/* No session with the reflector: still a report, saying why. */
static void
test_channel_failed(void **state)
{
	struct fixture *x = fixture_new(OUTCOME_ACKED);
	json_t *j;

	(void)state;
	golden_name = "no-reflector";
	x->e.n_probes = 0;
	x->e.active = NULL;
	x->e.channel.failed = 1;
	x->e.channel.attempts = 3;
	snprintf(x->e.channel.error, sizeof(x->e.channel.error),
	    "connect to 203.0.113.2:7021: no answer");
	j = run(x);
	assert_int_equal(json_integer_value(json_object_get(j, "version")),
	    REPORT_JSON_VERSION);
	assert_non_null(strstr(json_string_value(json_array_get(
	    json_object_get(j, "notes"), 0)), "after 3 attempt(s)"));
	json_decref(j);
	free(x);
}

/* The Prometheus rendering of the same model (watch.h). */
static void
test_metrics(void **state)
{
	struct fixture *x = fixture_new(OUTCOME_TIMEOUT);
	struct report *r;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp;

	(void)state;
	passive_path_drop(x);
	assert_non_null(r = classify(&x->e));
	assert_non_null(fp = open_memstream(&buf, &len));
	assert_int_equal(report_metrics(r, 1, fp), 0);
	assert_int_equal(fclose(fp), 0);
	assert_non_null(strstr(buf, "ftpath_path_up{server=\"203.0.113.2\","
	    "path=\"passive\",ports=\"30000-30003\"} 0\n"));
	assert_non_null(strstr(buf, "ftpath_path_up{server=\"203.0.113.2\","
	    "path=\"control\",ports=\"21\"} 1\n"));
	assert_non_null(strstr(buf, "ftpath_cause{server=\"203.0.113.2\","
	    "cause=\"path-silent-drop\",severity=\"failure\"} 1\n"));
	assert_non_null(strstr(buf, "ftpath_check_exit_status{server=\""
	    "203.0.113.2\"} 1\n"));
	assert_non_null(strstr(buf, "# TYPE ftpath_path_up gauge\n"));
	free(buf);
	report_free(r);
	free(x);
}

/* The same evidence always gives the same report. */
static void
test_deterministic(void **state)
{
	struct fixture *x = fixture_new(OUTCOME_TIMEOUT);
	char *a, *b;
	json_t *j;

	(void)state;
	passive_server_rule(x);
	svc_ok(x, FTPCHECK_EPSV, PASV_LO + 1, 1);
	j = run(x);
	a = json_dumps(j, JSON_SORT_KEYS);
	json_decref(j);
	j = run(x);
	b = json_dumps(j, JSON_SORT_KEYS);
	json_decref(j);
	assert_non_null(a);
	assert_non_null(b);
	assert_string_equal(a, b);
	free(a);
	free(b);
	free(x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean),
		cmocka_unit_test(test_helper_dependent_passive),
		cmocka_unit_test(test_no_helper_stays_rule),
		cmocka_unit_test(test_helper_needs_same_path),
		cmocka_unit_test(test_active_alg_dependent),
		cmocka_unit_test(test_intermittent_not_a_cause),
		cmocka_unit_test(test_late_icmp_routing_gap),
		cmocka_unit_test(test_dualstack_trace_blind),
		cmocka_unit_test(test_nat_listed),
		cmocka_unit_test(test_refused_next_connection),
		cmocka_unit_test(test_channel_failed),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_deterministic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
