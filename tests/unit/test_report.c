/*
 * test_report.c - run compaction, the JSON contract and the human report.
 *
 * Verdicts are produced by the real classifier from hand-built facts, so
 * these tests also show what a user would read.  Set FTPATH_TEST_DUMP=1
 * to print the rendered reports.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testfacts.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkapply.h"
#include "report.h"
#include "report_int.h"

#define AGENT	"192.0.2.10"
#define SERVER	"203.0.113.2"
#define NATADDR	"198.51.100.7"

static void
facts_init(struct session_facts *f)
{
	facts_set(f, AGENT, SERVER, 12, 300);
}

/* Classify and add one probe; returns the verdict's pass. */
static int
add(struct report *r, const struct session_facts *f, struct probe_obs *o)
{
	struct verdict v;

	verdict_classify(o, f, &v);
	assert_int_equal(report_add(r, o, &v), 0);
	return v.pass;
}

static void
add_passive(struct report *r, const struct session_facts *f, uint16_t port,
    enum probe_outcome oc)
{
	struct probe_obs o;

	memset(&o, 0, sizeof(o));
	o.kind = PROBE_PASSIVE;
	o.port = port;
	o.outcome = oc;
	o.arm = ARM_LISTENING;
	o.elapsed_ms = oc == OUTCOME_TIMEOUT ? 300 : 15;
	inet_set(&o.local, AGENT, (uint16_t)(20000 + port % 1000));
	inet_set(&o.remote, SERVER, port);
	if (oc == OUTCOME_ACKED) {
		o.arrived = 1;
		o.seen_peer = o.local;
	}
	/* A silent drop on the path is named only when both hosts' traces
	 * place it there: our SYN left, the server saw none of it. */
	if (oc == OUTCOME_TIMEOUT) {
		o.trace_state = o.ctrace_state = TRACE_OBS_ON;
		o.trace_record = 1;
		o.syn_sent = 1;
	}
	add(r, f, &o);
}

static void
add_control(struct report *r, const struct session_facts *f)
{
	struct probe_obs o;

	memset(&o, 0, sizeof(o));
	o.kind = PROBE_CONTROL;
	o.port = 21;
	o.outcome = OUTCOME_OTHER_SERVICE;
	o.arm = ARM_IN_USE;
	inet_set(&o.local, AGENT, 45000);
	inet_set(&o.remote, SERVER, 21);
	snprintf(o.banner, sizeof(o.banner), "220 (vsFTPd 3.0.5)");
	assert_true(add(r, f, &o));
}

static void
add_active(struct report *r, const struct session_facts *f,
    enum probe_outcome oc)
{
	struct probe_obs o;

	memset(&o, 0, sizeof(o));
	o.kind = PROBE_ACTIVE;
	o.port = 20;
	o.outcome = oc;
	inet_set(&o.local, SERVER, 20);
	assert_int_equal(addr_inet_set(&o.remote, ADDR_SA(&f->agent_observed)),
	    0);
	((struct sockaddr_in *)(void *)&o.remote)->sin_port = htons(41000);
	o.elapsed_ms = 25;
	if (oc == OUTCOME_ACKED) {
		o.arrived = 1;
		inet_set(&o.seen_peer, SERVER, 20);
	}
	/* ... and the connect-back never reached the agent host. */
	if (oc == OUTCOME_TIMEOUT)
		o.ctrace_state = TRACE_OBS_ON;
	add(r, f, &o);
}

/* control pass, 30000-30049 pass, 30050-30099 silent drop, active pass;
 * passive ports added backwards to show that the report sorts them. */
static struct report *
build_main(struct session_facts *f)
{
	struct report *r;
	int port;

	facts_init(f);
	r = report_new(f, "0.1.0", "0.1.1", "ftp.example.net");
	assert_non_null(r);
	add_control(r, f);
	for (port = 30099; port >= 30000; port--)
		add_passive(r, f, (uint16_t)port, port < 30050 ?
		    OUTCOME_ACKED : OUTCOME_TIMEOUT);
	add_active(r, f, OUTCOME_ACKED);
	report_set_duration(r, 1532);
	assert_int_equal(report_note(r, "ALG test not run yet"), 0);
	return r;
}

static char *
render(const struct report *r, int color)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	assert_non_null(fp);
	assert_int_equal(report_print(r, fp, color), 0);
	assert_int_equal(fclose(fp), 0);
	if (getenv("FTPATH_TEST_DUMP") != NULL)
		fputs(buf, stderr);
	return buf;
}

static json_t *
passive_objects(json_t *root, size_t *n)
{
	json_t *probes = json_object_get(root, "probes"), *out, *p;
	size_t i;

	assert_true(json_is_array(probes));
	out = json_array();
	json_array_foreach(probes, i, p)
		if (strcmp(json_string_value(json_object_get(p, "name")),
		    "passive") == 0)
			json_array_append(out, p);
	*n = json_array_size(out);
	return out;
}

/* Ports whose ICMP was inferred by a retry join the run of those that got
 * it directly, and the run says how many were inferred. */
static void
test_run_with_inferred_icmp(void **state)
{
	struct session_facts f;
	struct report *r;
	struct probe_obs o;
	json_t *root, *pas, *ev;
	size_t n;
	int port;

	(void)state;
	facts_init(&f);
	r = report_new(&f, "0.1.0", "0.1.0", SERVER);
	assert_non_null(r);
	for (port = 30000; port < 30010; port++) {
		memset(&o, 0, sizeof(o));
		o.kind = PROBE_PASSIVE;
		o.port = (uint16_t)port;
		o.outcome = OUTCOME_ICMP;
		o.arm = ARM_LISTENING;
		inet_set(&o.local, AGENT, (uint16_t)(20000 + port % 1000));
		inet_set(&o.remote, SERVER, (uint16_t)port);
		o.icmp.present = 1;
		o.icmp.family = AF_INET;
		o.icmp.type = 3;
		o.icmp.code = 1;
		sa_set(&o.icmp.from, "198.51.100.1", 0);
		if (port >= 30006)
			o.icmp_retry_port = 30006;
		add(r, &f, &o);
	}
	root = report_json(r);
	assert_non_null(root);
	pas = passive_objects(root, &n);
	assert_int_equal(n, 1);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(pas, 0), "ports")), "30000-30009");
	ev = json_object_get(json_array_get(pas, 0), "evidence");
	assert_non_null(strstr(json_string_value(json_array_get(ev, 0)),
	    "4 of them got no ICMP"));
	json_decref(pas);
	json_decref(root);
	report_free(r);
}

static void
test_json_runs(void **state)
{
	struct session_facts f;
	struct report *r = build_main(&f);
	json_t *root, *pas, *a, *b, *ev;
	size_t n;

	(void)state;
	root = report_json(r);
	assert_non_null(root);
	if (getenv("FTPATH_TEST_DUMP") != NULL)
		json_dumpf(root, stderr, JSON_INDENT(2));
	pas = passive_objects(root, &n);
	assert_int_equal(n, 2);
	a = json_array_get(pas, 0);
	b = json_array_get(pas, 1);
	assert_string_equal(json_string_value(json_object_get(a, "ports")),
	    "30000-30049");
	assert_string_equal(json_string_value(json_object_get(b, "ports")),
	    "30050-30099");
	assert_null(json_object_get(a, "port"));
	assert_string_equal(json_string_value(json_object_get(a, "verdict")),
	    "pass");
	assert_true(json_is_null(json_object_get(a, "cause")));
	assert_string_equal(json_string_value(json_object_get(b, "verdict")),
	    "fail");
	assert_string_equal(json_string_value(json_object_get(b, "cause")),
	    "path-silent-drop");
	assert_string_equal(json_string_value(json_object_get(b,
	    "direction")), "client-to-server");
	assert_true(json_is_null(json_object_get(b, "hop")));
	assert_true(json_is_null(json_object_get(b, "rule")));
	ev = json_object_get(b, "evidence");
	assert_true(json_array_size(ev) >= 2);
	assert_non_null(strstr(json_string_value(json_array_get(ev, 0)),
	    "all 50 ports 30050-30099"));
	json_decref(pas);
	json_decref(root);
	report_free(r);
}

static void
test_json_structure(void **state)
{
	struct session_facts f;
	struct report *r = build_main(&f);
	json_t *root, *probes, *c, *nat;
	static const char *const keys[] = {
		"version", "agent", "reflector", "nat", "alg", "probes",
		"causes", "notes", "duration_ms", "server", "rtt_ms",
	};
	size_t i;

	(void)state;
	root = report_json(r);
	assert_non_null(root);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_non_null(json_object_get(root, keys[i]));
	assert_int_equal(json_integer_value(json_object_get(root, "version")),
	    REPORT_JSON_VERSION);
	assert_int_equal(json_integer_value(json_object_get(root,
	    "duration_ms")), 1532);
	assert_int_equal(json_integer_value(json_object_get(root, "rtt_ms")),
	    12);
	assert_string_equal(json_string_value(json_object_get(root, "server")),
	    "ftp.example.net");
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(root, "agent"), "local")), AGENT);
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(root, "agent"), "version")), "0.1.0");
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(root, "reflector"), "dialled")), SERVER);
	assert_true(json_is_false(json_object_get(json_object_get(root, "alg"),
	    "tested")));
	nat = json_object_get(root, "nat");
	assert_true(json_is_false(json_object_get(json_object_get(nat,
	    "client"), "detected")));
	assert_true(json_is_true(json_object_get(json_object_get(nat,
	    "client"), "port_preserved")));
	assert_true(json_is_false(json_object_get(json_object_get(nat,
	    "server"), "detected")));
	/* control, two passive runs, active */
	probes = json_object_get(root, "probes");
	assert_int_equal(json_array_size(probes), 4);
	c = json_array_get(probes, 0);
	assert_string_equal(json_string_value(json_object_get(c, "name")),
	    "control");
	assert_int_equal(json_integer_value(json_object_get(c, "port")), 21);
	c = json_array_get(probes, 3);
	assert_string_equal(json_string_value(json_object_get(c, "name")),
	    "active");
	assert_string_equal(json_string_value(json_object_get(c,
	    "direction")), "server-to-client");
	assert_int_equal(json_integer_value(json_object_get(c, "port")), 20);
	/* one cause, naming the failing run */
	c = json_object_get(root, "causes");
	assert_int_equal(json_array_size(c), 1);
	c = json_array_get(c, 0);
	assert_string_equal(json_string_value(json_object_get(c, "cause")),
	    "path-silent-drop");
	assert_string_equal(json_string_value(json_array_get(
	    json_object_get(c, "probes"), 0)), "passive 30050-30099");
	/* a path cause: guidance for the device, never claimed verified */
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    c, "fix"), "kind")), "guidance");
	assert_true(json_is_false(json_object_get(json_object_get(c, "fix"),
	    "verified")));
	assert_non_null(strstr(json_string_value(json_object_get(
	    json_object_get(c, "fix"), "text")), "allow tcp/30050-30099"));
	assert_string_equal(json_string_value(json_object_get(c,
	    "severity")), "failure");
	assert_string_equal(json_string_value(json_array_get(
	    json_object_get(root, "notes"), 0)), "ALG test not run yet");
	json_decref(root);
	report_free(r);
}

static void
test_causes_deduplicated(void **state)
{
	struct session_facts f;
	struct report *r;
	json_t *root, *causes, *labels;
	size_t n;
	int port;

	(void)state;
	facts_init(&f);
	r = report_new(&f, "0.1.0", "0.1.0", SERVER);
	assert_non_null(r);
	for (port = 30000; port <= 30020; port++)
		add_passive(r, &f, (uint16_t)port, port == 30010 ?
		    OUTCOME_ACKED : OUTCOME_TIMEOUT);
	root = report_json(r);
	assert_non_null(root);
	json_decref(passive_objects(root, &n));
	assert_int_equal(n, 3);
	causes = json_object_get(root, "causes");
	assert_int_equal(json_array_size(causes), 1);
	labels = json_object_get(json_array_get(causes, 0), "probes");
	assert_int_equal(json_array_size(labels), 2);
	assert_string_equal(json_string_value(json_array_get(labels, 0)),
	    "passive 30000-30009");
	assert_string_equal(json_string_value(json_array_get(labels, 1)),
	    "passive 30011-30020");
	json_decref(root);
	report_free(r);
}

/* A gap in the ports or another ICMP sender starts a new run. */
/* A full range is stored as runs from report_add on: one entry per run,
 * the counts still per port. */
static void
test_runs_stored_compact(void **state)
{
	struct session_facts f;
	struct report *r;
	json_t *root, *pas;
	unsigned tested, failed;
	enum cause first;
	size_t n;
	char *txt = NULL;
	size_t len = 0;
	FILE *out;
	int port;

	(void)state;
	facts_init(&f);
	r = report_new(&f, NULL, NULL, NULL);
	assert_non_null(r);
	add_control(r, &f);
	for (port = 1024; port <= 65535; port++)
		add_passive(r, &f, (uint16_t)port, port == 40000 ||
		    (port >= 50000 && port <= 50099) ? OUTCOME_TIMEOUT :
		    OUTCOME_ACKED);
	/* control, 1024-39999, 40000, 40001-49999, 50000-50099, the rest */
	assert_int_equal(r->n, 6);
	assert_int_equal(r->n_paths, 1 + 64512);
	report_ports_status(r, PROBE_PASSIVE, 30000, 50049, &tested, &failed,
	    &first);
	assert_int_equal(tested, 50049 - 30000 + 1);
	assert_int_equal(failed, 51);
	assert_int_equal(first, CAUSE_PATH_SILENT_DROP);
	root = report_json(r);
	assert_non_null(root);
	pas = passive_objects(root, &n);
	assert_int_equal(n, 5);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(pas, 3), "ports")), "50000-50099");
	json_decref(pas);
	json_decref(root);
	out = open_memstream(&txt, &len);
	assert_non_null(out);
	assert_int_equal(report_print(r, out, 0), 0);
	fclose(out);
	assert_non_null(strstr(txt, "64513 paths tested: 64412 pass, 101 fail"));
	free(txt);
	report_free(r);
}

static void
test_run_boundaries(void **state)
{
	struct session_facts f;
	struct report *r;
	struct probe_obs o;
	json_t *root, *pas;
	size_t n;
	int port;

	(void)state;
	facts_init(&f);
	r = report_new(&f, NULL, NULL, NULL);
	assert_non_null(r);
	add_passive(r, &f, 30000, OUTCOME_ACKED);
	add_passive(r, &f, 30001, OUTCOME_ACKED);
	add_passive(r, &f, 30003, OUTCOME_ACKED);
	for (port = 30004; port <= 30007; port++) {
		memset(&o, 0, sizeof(o));
		o.kind = PROBE_PASSIVE;
		o.port = (uint16_t)port;
		o.outcome = OUTCOME_ICMP;
		o.arm = ARM_LISTENING;
		inet_set(&o.local, AGENT, 45000);
		inet_set(&o.remote, SERVER, o.port);
		o.icmp.present = 1;
		o.icmp.family = AF_INET;
		o.icmp.type = 3;
		o.icmp.code = 13;
		sa_set(&o.icmp.from, port < 30006 ? "198.51.100.1" :
		    "198.51.100.2", 0);
		add(r, &f, &o);
	}
	root = report_json(r);
	assert_non_null(root);
	pas = passive_objects(root, &n);
	assert_int_equal(n, 4);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(pas, 0), "ports")), "30000-30001");
	assert_int_equal(json_integer_value(json_object_get(
	    json_array_get(pas, 1), "port")), 30003);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(pas, 2), "hop")), "198.51.100.1");
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(pas, 3), "hop")), "198.51.100.2");
	/* both reject runs share one cause entry */
	assert_int_equal(json_array_size(json_object_get(root, "causes")), 1);
	assert_true(json_is_null(json_object_get(root, "server")));
	json_decref(pas);
	json_decref(root);
	report_free(r);
}

static void
test_json_nat(void **state)
{
	struct session_facts f;
	struct report *r;
	json_t *root, *cl, *sv;

	(void)state;
	facts_init(&f);
	sa_set(&f.agent_observed, NATADDR, 52000);
	sa_set(&f.reflector_local, "192.0.2.55", 7021);
	r = report_new(&f, "0.1.0", "0.1.0", SERVER);
	assert_non_null(r);
	add_active(r, &f, OUTCOME_TIMEOUT);
	root = report_json(r);
	assert_non_null(root);
	cl = json_object_get(json_object_get(root, "nat"), "client");
	sv = json_object_get(json_object_get(root, "nat"), "server");
	assert_true(json_is_true(json_object_get(cl, "detected")));
	assert_string_equal(json_string_value(json_object_get(cl, "agent")),
	    AGENT);
	assert_string_equal(json_string_value(json_object_get(cl,
	    "observed")), NATADDR);
	assert_true(json_is_false(json_object_get(cl, "port_preserved")));
	assert_true(json_is_true(json_object_get(sv, "detected")));
	assert_string_equal(json_string_value(json_object_get(sv,
	    "reflector")), "192.0.2.55");
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(json_object_get(root, "causes"), 0), "cause")),
	    "nat");
	json_decref(root);
	report_free(r);

	/* unknown sides: null addresses, port preservation not claimed */
	memset(&f.agent_observed, 0, sizeof(f.agent_observed));
	r = report_new(&f, "0.1.0", "0.1.0", SERVER);
	assert_non_null(r);
	root = report_json(r);
	assert_non_null(root);
	cl = json_object_get(json_object_get(root, "nat"), "client");
	assert_true(json_is_null(json_object_get(cl, "observed")));
	assert_null(json_object_get(cl, "port_preserved"));
	assert_true(json_is_false(json_object_get(cl, "detected")));
	json_decref(root);
	report_free(r);
}

static void
test_human_plain(void **state)
{
	struct session_facts f;
	struct report *r = build_main(&f);
	char *s;

	(void)state;
	s = render(r, 0);
	assert_non_null(strstr(s, "FAIL"));
	assert_non_null(strstr(s, "path-silent-drop"));
	assert_non_null(strstr(s, "PASS control"));
	assert_non_null(strstr(s, "tcp/30050-30099"));
	assert_non_null(strstr(s, "tcp/30000-30049"));
	assert_non_null(strstr(s, "agent host:"));
	assert_non_null(strstr(s, "server host:"));
	assert_non_null(strstr(s, "cause:"));
	assert_non_null(strstr(s, "fix:          allow tcp/30050-30099"));
	assert_non_null(strstr(s, "not verified"));
	assert_non_null(strstr(s, "ALG test not run yet"));
	assert_non_null(strstr(s, "102 paths tested: 52 pass, 50 fail"));
	assert_null(strchr(s, '\033'));
	free(s);
	report_free(r);
}

static void
test_human_color(void **state)
{
	struct session_facts f;
	struct report *r = build_main(&f);
	char *s;

	(void)state;
	s = render(r, 1);
	assert_non_null(strstr(s, "\033[31mFAIL"));
	assert_non_null(strstr(s, "\033[32mPASS"));
	assert_non_null(strstr(s, "\033[1mpath-silent-drop"));
	free(s);
	report_free(r);
}

static void
test_human_nat_header(void **state)
{
	struct session_facts f;
	struct report *r;
	char *s;

	(void)state;
	facts_init(&f);
	sa_set(&f.agent_observed, NATADDR, 52000);
	r = report_new(&f, "0.1.0", "0.1.0", SERVER);
	assert_non_null(r);
	add_active(r, &f, OUTCOME_TIMEOUT);
	s = render(r, 0);
	assert_non_null(strstr(s, "source NAT"));
	assert_non_null(strstr(s, NATADDR ":52000"));
	assert_non_null(strstr(s, "FAIL active"));
	assert_non_null(strstr(s, "1 paths tested: 0 pass, 1 fail"));
	free(s);
	report_free(r);
}

/* Passive ports the server's own rule drops: the rule in the JSON
 * object, and a run splits where the dropping rule changes. */
static void
add_dropped(struct report *r, const struct session_facts *f, uint16_t port,
    uint64_t handle, const char *text)
{
	struct probe_rule rule;
	struct probe_obs o;

	memset(&o, 0, sizeof(o));
	o.kind = PROBE_PASSIVE;
	o.port = port;
	o.outcome = OUTCOME_TIMEOUT;
	o.arm = ARM_LISTENING;
	o.elapsed_ms = 300;
	inet_set(&o.local, AGENT, (uint16_t)(20000 + port % 1000));
	inet_set(&o.remote, SERVER, port);
	o.trace_state = TRACE_OBS_ON;
	o.trace_record = 1;
	o.syn_seen = 1;
	/* on the stack: the report keeps its own copy */
	memset(&rule, 0, sizeof(rule));
	rule.has_handle = 1;
	rule.handle = handle;
	snprintf(rule.family, sizeof(rule.family), "inet");
	snprintf(rule.table, sizeof(rule.table), "filter");
	snprintf(rule.chain, sizeof(rule.chain), "input");
	snprintf(rule.verdict, sizeof(rule.verdict), "drop");
	snprintf(rule.text, sizeof(rule.text), "%s", text);
	o.rule = &rule;
	add(r, f, &o);
}

static void
test_json_rule(void **state)
{
	struct session_facts f;
	struct report *r;
	json_t *root, *pas, *a, *b, *rule;
	size_t n;
	uint16_t p;

	(void)state;
	facts_init(&f);
	r = report_new(&f, "0.1.0", "0.1.0", SERVER);
	assert_non_null(r);
	for (p = 30000; p < 30010; p++)
		add_dropped(r, &f, p, 5, "tcp dport 30000-30009 drop");
	for (p = 30010; p < 30020; p++)
		add_dropped(r, &f, p, 6, "tcp dport 30010-30019 drop");
	root = report_json(r);
	assert_non_null(root);
	if (getenv("FTPATH_TEST_DUMP") != NULL)
		json_dumpf(root, stderr, JSON_INDENT(2));
	pas = passive_objects(root, &n);
	assert_int_equal(n, 2);
	a = json_array_get(pas, 0);
	b = json_array_get(pas, 1);
	assert_string_equal(json_string_value(json_object_get(a, "ports")),
	    "30000-30009");
	assert_string_equal(json_string_value(json_object_get(a, "cause")),
	    "server-local-rule");
	rule = json_object_get(a, "rule");
	assert_true(json_is_object(rule));
	assert_string_equal(json_string_value(json_object_get(rule,
	    "family")), "inet");
	assert_string_equal(json_string_value(json_object_get(rule, "table")),
	    "filter");
	assert_string_equal(json_string_value(json_object_get(rule, "chain")),
	    "input");
	assert_int_equal(json_integer_value(json_object_get(rule, "handle")),
	    5);
	assert_string_equal(json_string_value(json_object_get(rule, "text")),
	    "tcp dport 30000-30009 drop");
	assert_string_equal(json_string_value(json_object_get(b, "ports")),
	    "30010-30019");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(b,
	    "rule"), "handle")), 6);
	json_decref(pas);
	json_decref(root);
	report_free(r);
}

static void
test_failed(void **state)
{
	struct session_facts f;
	struct report *r;

	(void)state;
	facts_init(&f);
	r = report_new(&f, "0.1.0", "0.1.0", SERVER);
	assert_non_null(r);
	assert_false(report_failed(r));
	add_control(r, &f);
	add_passive(r, &f, 30000, OUTCOME_ACKED);
	assert_false(report_failed(r));
	add_passive(r, &f, 30001, OUTCOME_TIMEOUT);
	assert_true(report_failed(r));
	report_free(r);
	report_free(NULL);
}

static void
test_empty(void **state)
{
	struct session_facts f;
	struct report *r;
	json_t *root;
	char *s;

	(void)state;
	memset(&f, 0, sizeof(f));
	r = report_new(&f, NULL, NULL, NULL);
	assert_non_null(r);
	root = report_json(r);
	assert_non_null(root);
	assert_int_equal(json_array_size(json_object_get(root, "probes")), 0);
	assert_true(json_is_null(json_object_get(json_object_get(root,
	    "agent"), "local")));
	json_decref(root);
	s = render(r, 0);
	assert_non_null(strstr(s, "0 paths tested: 0 pass, 0 fail"));
	free(s);
	report_free(r);
}

/* The severity of a "causes" entry, asserted present on every one. */
static const char *
severity_of(json_t *root, const char *cause)
{
	json_t *c;
	size_t i;
	const char *found = NULL;

	json_array_foreach(json_object_get(root, "causes"), i, c) {
		const char *sev = json_string_value(json_object_get(c,
		    "severity"));

		assert_non_null(sev);
		assert_true(strcmp(sev, "failure") == 0 ||
		    strcmp(sev, "warning") == 0);
		if (strcmp(json_string_value(json_object_get(c, "cause")),
		    cause) == 0)
			found = sev;
	}
	return found;
}

/* One representation: every cause has a severity; a passing path with a
 * cause and a warning extra cause are warnings that fail nothing; a
 * failure merged with a warning of the same class is a failure. */
static void
test_severity(void **state)
{
	struct session_facts f;
	struct report *r;
	struct probe_obs o;
	struct verdict v;
	json_t *root;
	char *s;

	(void)state;
	facts_init(&f);
	r = report_new(&f, "0.1.0", "0.1.0", SERVER);
	assert_non_null(r);
	add_control(r, &f);
	memset(&o, 0, sizeof(o));
	o.kind = PROBE_ACTIVE;
	o.port = 20;
	o.outcome = OUTCOME_ACKED;
	inet_set(&o.remote, AGENT, 41000);
	memset(&v, 0, sizeof(v));
	v.pass = 1;
	v.cause = CAUSE_ALG_DEPENDENT;
	snprintf(v.evidence[0], sizeof(v.evidence[0]), "only through the ALG");
	v.n_evidence = 1;
	assert_int_equal(report_add(r, &o, &v), 0);
	assert_int_equal(report_add_cause(r, REPORT_PART_SERVER_HOST,
	    REPORT_WARNING, CAUSE_CLOCK_SKEW, "control channel",
	    "600 s ahead"), 0);
	assert_int_equal(report_add_cause(r, REPORT_PART_ALG, REPORT_WARNING,
	    CAUSE_ALG_REWRITE, "alg", "PORT rewritten"), 0);
	assert_false(report_failed(r));
	assert_int_equal(report_add_cause(r, REPORT_PART_ALG, REPORT_FAILURE,
	    CAUSE_ALG_REWRITE, "alg", "EPRT mangled"), 0);
	assert_true(report_failed(r));
	assert_non_null(root = report_json(r));
	assert_string_equal(severity_of(root, "alg-dependent"), "warning");
	assert_string_equal(severity_of(root, "clock-skew"), "warning");
	assert_string_equal(severity_of(root, "alg-rewrite"), "failure");
	assert_int_equal(json_array_size(json_object_get(root, "causes")), 3);
	json_decref(root);
	s = render(r, 0);
	assert_non_null(strstr(s, "cause:        alg-dependent (warning)\n"));
	assert_non_null(strstr(s, "cause:        clock-skew (warning): 600 s "
	    "ahead\n"));
	assert_non_null(strstr(s, "cause:        alg-rewrite (warning): PORT "
	    "rewritten\n"));
	assert_non_null(strstr(s, "cause:        alg-rewrite: EPRT mangled\n"));
	free(s);
	report_free(r);
}

/* --apply: the readers it plans from, and its section as rendered from
 * the model (text and JSON). */
static void
test_apply_section(void **state)
{
	struct report_run_info runs[8];
	struct checkapply_obs *o = calloc(1, sizeof(*o));
	struct session_facts f;
	struct report *r = build_main(&f);
	unsigned tested, failed;
	enum cause first;
	json_t *root, *ap;
	size_t n;
	char *s;

	(void)state;
	assert_non_null(o);
	assert_int_equal(report_runs(r, runs, 8, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(runs[2].kind, PROBE_PASSIVE);
	assert_int_equal(runs[2].lo, 30050);
	assert_int_equal(runs[2].hi, 30099);
	assert_false(runs[2].pass);
	report_ports_status(r, PROBE_PASSIVE, 30040, 30059, &tested, &failed,
	    &first);
	assert_int_equal(tested, 20);
	assert_int_equal(failed, 10);
	assert_int_equal(first, runs[2].cause);
	assert_int_equal(report_service_failed_modes(r), 0);
	root = report_json(r);
	assert_false(json_is_true(json_object_get(json_object_get(root,
	    "apply"), "requested")));
	json_decref(root);

	o->confirm_timeout_s = 30;
	o->host[CHECKAPPLY_CLIENT].state = CHECKAPPLY_NONE;
	o->host[CHECKAPPLY_CLIENT].identical = -1;
	o->host[CHECKAPPLY_SERVER].state = CHECKAPPLY_ROLLED_BACK;
	o->host[CHECKAPPLY_SERVER].identical = 1;
	snprintf(o->host[CHECKAPPLY_SERVER].reason, CHECKAPPLY_REASON,
	    "the re-test: passive 30050-30099 still fails (return-path)");
	o->host[CHECKAPPLY_SERVER].n_added = 1;
	snprintf(o->host[CHECKAPPLY_SERVER].added[0], CHECKAPPLY_LINE,
	    "rule inet filter input handle 5");
	o->retested = 1;
	o->retest_ms = 812;
	o->n_paths = 1;
	o->paths[0].kind = PROBE_PASSIVE;
	o->paths[0].lo = 30050;
	o->paths[0].hi = 30099;
	o->paths[0].cause = CAUSE_SERVER_LOCAL_RULE;
	o->paths[0].host = CHECKAPPLY_SERVER;
	o->paths[0].after = 0;
	o->paths[0].after_failed = 50;
	o->paths[0].after_cause = CAUSE_RETURN_PATH;
	o->svc_before = o->svc_after = 3;	/* EPSV, PASV */
	assert_int_equal(report_set_apply(r, o), 0);
	free(o);

	s = render(r, 0);
	assert_non_null(strstr(s, "\napply (commit-confirmed, 30 s to "
	    "confirm):\n  client host: no patch to apply\n"));
	assert_non_null(strstr(s, "  server host: rolled-back: the re-test: "
	    "passive 30050-30099 still fails (return-path) (ruleset identical "
	    "to before)\n    loaded: rule inet filter input handle 5\n"));
	assert_non_null(strstr(s, "  passive  30050-30099  FAIL -> FAIL       "
	    "server-local-rule (server patch)\n"));
	assert_non_null(strstr(s, "re-test: return-path, 50 port(s)\n"));
	assert_non_null(strstr(s, "  real FTP client: EPSV PASV failed "
	    "before; after: EPSV PASV\n"));
	assert_non_null(strstr(s, "not every failing path passes"));
	free(s);

	root = report_json(r);
	ap = json_object_get(root, "apply");
	assert_true(json_is_true(json_object_get(ap, "requested")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    json_object_get(ap, "hosts"), "server"), "state")), "rolled-back");
	assert_true(json_is_true(json_object_get(json_object_get(
	    json_object_get(ap, "hosts"), "server"), "identical")));
	assert_true(json_is_null(json_object_get(json_object_get(
	    json_object_get(ap, "hosts"), "client"), "identical")));
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(ap, "paths"), 0), "after")), "fail");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(ap, "paths"), 0), "after_cause")), "return-path");
	assert_string_equal(json_string_value(json_array_get(json_object_get(
	    json_object_get(ap, "service"), "failed_after"), 1)), "PASV");
	assert_false(json_is_true(json_object_get(ap, "all_pass")));
	json_decref(root);
	report_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apply_section),
		cmocka_unit_test(test_json_runs),
		cmocka_unit_test(test_run_with_inferred_icmp),
		cmocka_unit_test(test_json_structure),
		cmocka_unit_test(test_causes_deduplicated),
		cmocka_unit_test(test_run_boundaries),
		cmocka_unit_test(test_runs_stored_compact),
		cmocka_unit_test(test_json_nat),
		cmocka_unit_test(test_human_plain),
		cmocka_unit_test(test_human_color),
		cmocka_unit_test(test_human_nat_header),
		cmocka_unit_test(test_failed),
		cmocka_unit_test(test_json_rule),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_severity),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
