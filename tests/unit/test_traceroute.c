/*
 * test_traceroute.c - the pure parts of the TCP traceroute: one TTL's
 * outcome -> result, the hop list, the last hop that answered, the text
 * the report shows, and the JSON "traceroute" array of a failing run.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testfacts.h"

#include <errno.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <stdio.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "err.h"
#include "report.h"
#include "traceroute.h"

#define ROUTER	"198.51.100.1"
#define ROUTER2	"192.0.2.254"
#define SERVER	"203.0.113.2"
#define AGENT	"198.51.100.2"

static struct errq_icmp
icmp4(uint8_t type, uint8_t code, const char *from)
{
	struct errq_icmp e;

	memset(&e, 0, sizeof(e));
	e.present = 1;
	e.family = AF_INET;
	e.type = type;
	e.code = code;
	sa_set(&e.from, from, 0);
	return e;
}

static struct errq_icmp
icmp6(uint8_t type, uint8_t code, const char *from)
{
	struct errq_icmp e = icmp4(type, code, from);

	e.family = AF_INET6;
	return e;
}

static void
path_init(struct traceroute_path *p)
{
	memset(p, 0, sizeof(*p));
	sa_set(&p->local, AGENT, 50602);
	sa_set(&p->remote, SERVER, 30000);
	p->same_tuple = 1;
}

/* Add a hop from an address literal ("" = none). */
static void
hop(struct traceroute_path *p, enum traceroute_result r, const char *from)
{
	struct sockaddr_storage ss;

	if (from[0] == '\0') {
		assert_int_equal(traceroute_path_add(p, r, NULL, NULL, 0), 0);
		return;
	}
	sa_set(&ss, from, 0);
	assert_int_equal(traceroute_path_add(p, r, (struct sockaddr *)&ss,
	    NULL, 0), 0);
}

static void
test_classify(void **state)
{
	struct errq_icmp none, e;

	(void)state;
	memset(&none, 0, sizeof(none));
	assert_int_equal(traceroute_classify(1, 0, &none),
	    TRACEROUTE_CONNECTED);
	assert_int_equal(traceroute_classify(0, ECONNREFUSED, &none),
	    TRACEROUTE_RESET);
	assert_int_equal(traceroute_classify(0, ETIMEDOUT, &none),
	    TRACEROUTE_SILENT);
	assert_int_equal(traceroute_classify(0, 0, NULL), TRACEROUTE_SILENT);
	assert_int_equal(traceroute_classify(0, EPERM, &none),
	    TRACEROUTE_LOCAL_ERROR);
	assert_int_equal(traceroute_classify(0, ENETUNREACH, &none),
	    TRACEROUTE_LOCAL_ERROR);

	e = icmp4(ICMP_TIME_EXCEEDED, 0, ROUTER);
	assert_int_equal(traceroute_classify(0, EHOSTUNREACH, &e),
	    TRACEROUTE_TIME_EXCEEDED);
	e = icmp6(ICMP6_TIME_EXCEEDED, 0, "2001:db8:1::1");
	assert_int_equal(traceroute_classify(0, EHOSTUNREACH, &e),
	    TRACEROUTE_TIME_EXCEEDED);
	e = icmp4(ICMP_DEST_UNREACH, ICMP_PKT_FILTERED, ROUTER);
	assert_int_equal(traceroute_classify(0, EHOSTUNREACH, &e),
	    TRACEROUTE_ADMIN_PROHIBITED);
	e = icmp6(ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_ADMIN, "2001:db8:1::1");
	assert_int_equal(traceroute_classify(0, EACCES, &e),
	    TRACEROUTE_ADMIN_PROHIBITED);
	e = icmp4(ICMP_DEST_UNREACH, ICMP_NET_UNREACH, ROUTER);
	assert_int_equal(traceroute_classify(0, ENETUNREACH, &e),
	    TRACEROUTE_UNREACHABLE);
	/* Port unreachable fails the connect with ECONNREFUSED, as a RST
	 * does: the error queue decides. */
	e = icmp4(ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, SERVER);
	assert_int_equal(traceroute_classify(0, ECONNREFUSED, &e),
	    TRACEROUTE_UNREACHABLE);
	e = icmp4(ICMP_PARAMETERPROB, 0, ROUTER);
	assert_int_equal(traceroute_classify(0, EPROTO, &e),
	    TRACEROUTE_OTHER_ICMP);
	/* The same numbers mean other things in ICMPv6: 11 is no type. */
	e = icmp6(11, 0, "2001:db8:1::1");
	assert_int_equal(traceroute_classify(0, EPROTO, &e),
	    TRACEROUTE_OTHER_ICMP);
}

static void
test_names_and_final(void **state)
{
	(void)state;
	assert_string_equal(traceroute_result_name(TRACEROUTE_SILENT),
	    "silent");
	assert_string_equal(traceroute_result_name(TRACEROUTE_TIME_EXCEEDED),
	    "time-exceeded");
	assert_string_equal(traceroute_result_name(
	    TRACEROUTE_ADMIN_PROHIBITED), "admin-prohibited");
	assert_string_equal(traceroute_result_name(TRACEROUTE_UNREACHABLE),
	    "unreachable");
	assert_string_equal(traceroute_result_name(TRACEROUTE_RESET), "reset");
	assert_string_equal(traceroute_result_name(TRACEROUTE_CONNECTED),
	    "connected");
	assert_false(traceroute_is_final(TRACEROUTE_TIME_EXCEEDED));
	assert_true(traceroute_is_final(TRACEROUTE_SILENT));
	assert_true(traceroute_is_final(TRACEROUTE_UNREACHABLE));
	assert_true(traceroute_is_final(TRACEROUTE_RESET));
	assert_true(traceroute_is_final(TRACEROUTE_CONNECTED));
}

static void
test_path_add(void **state)
{
	struct traceroute_path p;
	struct sockaddr_storage ss;
	struct errq_icmp e = icmp4(ICMP_TIME_EXCEEDED, 0, ROUTER);
	char buf[ADDR_STRLEN];
	unsigned i;

	(void)state;
	path_init(&p);
	/* A sender with a port and in v4-mapped form is kept as plain v4. */
	sa_set(&ss, "::ffff:198.51.100.1", 9);
	assert_int_equal(traceroute_path_add(&p, TRACEROUTE_TIME_EXCEEDED,
	    (struct sockaddr *)&ss, &e, EHOSTUNREACH), 0);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.hop[0].ttl, 1);
	assert_int_equal(p.hop[0].from.ss_family, AF_INET);
	assert_int_equal(addr_port((struct sockaddr *)&p.hop[0].from), 0);
	assert_string_equal(addr_ntop((struct sockaddr *)&p.hop[0].from, buf,
	    sizeof(buf)), ROUTER);
	assert_int_equal(p.hop[0].icmp_type, ICMP_TIME_EXCEEDED);
	assert_int_equal(p.hop[0].err, 0);	/* only local errors keep it */
	assert_int_equal(traceroute_path_add(&p, TRACEROUTE_LOCAL_ERROR,
	    NULL, NULL, EPERM), 0);
	assert_int_equal(p.hop[1].ttl, 2);
	assert_int_equal(p.hop[1].err, EPERM);
	assert_int_equal(p.hop[1].from.ss_family, AF_UNSPEC);
	for (i = p.n; i < TRACEROUTE_MAX_TTL; i++)
		hop(&p, TRACEROUTE_SILENT, "");
	assert_int_equal(traceroute_path_add(&p, TRACEROUTE_SILENT, NULL,
	    NULL, 0), FTP_ERR_INVAL);
	assert_int_equal(p.n, TRACEROUTE_MAX_TTL);
}

static void
assert_hop_is(const struct traceroute_hop *h, unsigned ttl, const char *ip)
{
	char buf[ADDR_STRLEN];

	assert_non_null(h);
	assert_int_equal(h->ttl, ttl);
	assert_string_equal(addr_ntop((const struct sockaddr *)&h->from, buf,
	    sizeof(buf)), ip);
}

static void
test_last_answered(void **state)
{
	struct traceroute_path p;

	(void)state;
	/* The silent drop of the netns scenario. */
	path_init(&p);
	hop(&p, TRACEROUTE_TIME_EXCEEDED, ROUTER);
	hop(&p, TRACEROUTE_SILENT, "");
	assert_hop_is(traceroute_last_answered(&p), 1, ROUTER);
	assert_null(traceroute_reached(&p));

	/* A silent hop in the middle does not hide a later answer. */
	path_init(&p);
	hop(&p, TRACEROUTE_TIME_EXCEEDED, ROUTER);
	hop(&p, TRACEROUTE_SILENT, "");
	hop(&p, TRACEROUTE_ADMIN_PROHIBITED, ROUTER2);
	assert_hop_is(traceroute_last_answered(&p), 3, ROUTER2);

	/* Nothing answered. */
	path_init(&p);
	hop(&p, TRACEROUTE_SILENT, "");
	assert_null(traceroute_last_answered(&p));
	assert_null(traceroute_reached(&p));
	path_init(&p);
	assert_null(traceroute_last_answered(&p));
	assert_null(traceroute_reached(&p));

	/* A RST carries the server's address, not its sender's: the last
	 * hop that answered is the router before it. */
	path_init(&p);
	hop(&p, TRACEROUTE_TIME_EXCEEDED, ROUTER);
	hop(&p, TRACEROUTE_RESET, SERVER);
	assert_hop_is(traceroute_last_answered(&p), 1, ROUTER);
	assert_hop_is(traceroute_reached(&p), 2, SERVER);

	path_init(&p);
	hop(&p, TRACEROUTE_TIME_EXCEEDED, ROUTER);
	hop(&p, TRACEROUTE_CONNECTED, SERVER);
	assert_hop_is(traceroute_reached(&p), 2, SERVER);

	/* An ICMP error whose sender the queue did not name is no hop. */
	path_init(&p);
	hop(&p, TRACEROUTE_TIME_EXCEEDED, ROUTER);
	hop(&p, TRACEROUTE_UNREACHABLE, "");
	assert_hop_is(traceroute_last_answered(&p), 1, ROUTER);
}

static void
assert_format(const struct traceroute_path *p, const char *label,
    const char *want)
{
	char buf[VERDICT_EVIDENCE_LEN];

	assert_string_equal(traceroute_format(p, label, buf, sizeof(buf)),
	    want);
}

static void
test_format(void **state)
{
	struct traceroute_path p;

	(void)state;
	path_init(&p);
	assert_format(&p, NULL, "hops: none traced");
	hop(&p, TRACEROUTE_TIME_EXCEEDED, ROUTER);
	hop(&p, TRACEROUTE_SILENT, "");
	assert_format(&p, NULL, "hops: 1 198.51.100.1 time-exceeded, "
	    "2 * silent -> dies after 198.51.100.1");
	assert_format(&p, "hops (traced on port 30000)", "hops (traced on "
	    "port 30000): 1 198.51.100.1 time-exceeded, 2 * silent -> dies "
	    "after 198.51.100.1");

	path_init(&p);
	hop(&p, TRACEROUTE_SILENT, "");
	assert_format(&p, NULL, "hops: 1 * silent -> no hop answered");

	path_init(&p);
	hop(&p, TRACEROUTE_TIME_EXCEEDED, ROUTER);
	hop(&p, TRACEROUTE_UNREACHABLE, ROUTER);
	assert_format(&p, NULL, "hops: 1 198.51.100.1 time-exceeded, "
	    "2 198.51.100.1 unreachable -> unreachable at 198.51.100.1");

	path_init(&p);
	hop(&p, TRACEROUTE_ADMIN_PROHIBITED, ROUTER);
	assert_format(&p, NULL, "hops: 1 198.51.100.1 admin-prohibited -> "
	    "rejected by 198.51.100.1");

	path_init(&p);
	hop(&p, TRACEROUTE_TIME_EXCEEDED, ROUTER);
	hop(&p, TRACEROUTE_RESET, SERVER);
	assert_format(&p, NULL, "hops: 1 198.51.100.1 time-exceeded, "
	    "2 203.0.113.2 reset -> a RST at TTL 2 in the name of "
	    "203.0.113.2 (from it, or from a middlebox on the way)");

	path_init(&p);
	hop(&p, TRACEROUTE_TIME_EXCEEDED, ROUTER);
	hop(&p, TRACEROUTE_CONNECTED, SERVER);
	assert_format(&p, NULL, "hops: 1 198.51.100.1 time-exceeded, "
	    "2 203.0.113.2 connected -> reached 203.0.113.2 at TTL 2 "
	    "(handshake completed)");

	path_init(&p);
	assert_int_equal(traceroute_path_add(&p, TRACEROUTE_LOCAL_ERROR, NULL,
	    NULL, EPERM), 0);
	assert_format(&p, NULL, "hops: 1 * local-error -> the SYN could not "
	    "be sent (Operation not permitted)");
}

/* Eight long IPv6 hops do not fit one evidence sentence: the middle goes,
 * the ending stays, nothing overflows. */
static void
test_format_truncates(void **state)
{
	struct traceroute_path p;
	char buf[VERDICT_EVIDENCE_LEN], small[24];
	const char *ip = "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff";
	unsigned i;

	(void)state;
	path_init(&p);
	for (i = 0; i + 1 < TRACEROUTE_MAX_TTL; i++)
		hop(&p, TRACEROUTE_TIME_EXCEEDED, ip);
	hop(&p, TRACEROUTE_SILENT, "");
	traceroute_format(&p, NULL, buf, sizeof(buf));
	assert_true(strlen(buf) < sizeof(buf) - 1);
	assert_non_null(strstr(buf, " ..."));
	assert_non_null(strstr(buf, "hops: 1 2001:db8:aaaa:bbbb:cccc:dddd:"
	    "eeee:ffff time-exceeded"));
	assert_non_null(strstr(buf, " -> dies after 2001:db8:aaaa:bbbb:cccc:"
	    "dddd:eeee:ffff"));
	/* A buffer too small for anything still ends in a terminated,
	 * truncated string. */
	traceroute_format(&p, NULL, small, sizeof(small));
	assert_true(strlen(small) < sizeof(small));
	assert_int_equal(strncmp(small, "hops:", 5), 0);
}

static void
test_path_equal(void **state)
{
	struct traceroute_path a, b;

	(void)state;
	path_init(&a);
	hop(&a, TRACEROUTE_TIME_EXCEEDED, ROUTER);
	hop(&a, TRACEROUTE_SILENT, "");
	b = a;
	assert_true(traceroute_path_equal(&a, &b));
	sa_set(&b.local, AGENT, 50603);
	assert_false(traceroute_path_equal(&a, &b));
	b = a;
	sa_set(&b.hop[0].from, ROUTER2, 0);
	assert_false(traceroute_path_equal(&a, &b));
	b = a;
	b.n = 1;
	assert_false(traceroute_path_equal(&a, &b));
	b = a;
	b.same_tuple = 0;
	assert_false(traceroute_path_equal(&a, &b));
}

static void
test_engine_rejects_mixed_families(void **state)
{
	struct event_base *base = event_base_new();
	struct sockaddr_storage l, r;

	(void)state;
	assert_non_null(base);
	sa_set(&l, AGENT, 50602);
	sa_set(&r, "2001:db8:2::2", 30000);
	assert_null(traceroute_new(base, (struct sockaddr *)&l,
	    (struct sockaddr *)&r, 8, 250));
	traceroute_free(NULL);
	event_base_free(base);
}

/* ---- the report's "traceroute" array ---- */

static void
facts_init(struct session_facts *f)
{
	facts_set(f, AGENT, SERVER, 0, 250);
}

static void
obs_init(struct probe_obs *o, enum probe_kind kind, uint16_t port,
    enum probe_outcome oc)
{
	memset(o, 0, sizeof(*o));
	o->kind = kind;
	o->port = port;
	o->outcome = oc;
	o->arm = ARM_LISTENING;
	o->error = oc == OUTCOME_TIMEOUT ? ETIMEDOUT : 0;
	inet_set(&o->local, AGENT, 50602);
	inet_set(&o->remote, SERVER, port);
}

static const json_t *
probe_named(const json_t *doc, const char *name, size_t nth)
{
	const json_t *p;
	size_t i, seen = 0;

	json_array_foreach(json_object_get(doc, "probes"), i, p)
		if (strcmp(json_string_value(json_object_get(p, "name")),
		    name) == 0 && seen++ == nth)
			return p;
	return NULL;
}

static void
test_report_json(void **state)
{
	struct session_facts f;
	struct traceroute_path tr, other;
	struct probe_obs o;
	struct verdict v;
	struct report *r;
	const json_t *p, *h;
	json_t *doc;
	uint16_t port;

	(void)state;
	facts_init(&f);
	path_init(&tr);
	hop(&tr, TRACEROUTE_TIME_EXCEEDED, ROUTER);
	hop(&tr, TRACEROUTE_SILENT, "");
	other = tr;
	other.hop[1].result = TRACEROUTE_CONNECTED;
	sa_set(&other.hop[1].from, SERVER, 0);
	assert_non_null(r = report_new(&f, "t", "t", SERVER));

	obs_init(&o, PROBE_PASSIVE, 29999, OUTCOME_ACKED);
	o.arrived = 1;
	verdict_classify(&o, &f, &v);
	assert_true(v.pass);
	assert_int_equal(report_add(r, &o, &v), 0);
	/* 30000-30001 share one trace (one run), 30002 has another (its
	 * own run), 30003 failed the same way untraced (its own run). */
	for (port = 30000; port <= 30003; port++) {
		obs_init(&o, PROBE_PASSIVE, port, OUTCOME_TIMEOUT);
		verdict_classify(&o, &f, &v);
		assert_false(v.pass);
		assert_int_equal(report_add_traced(r, &o, &v, port < 30002 ?
		    &tr : port == 30002 ? &other : NULL), 0);
	}
	assert_non_null(doc = report_json(r));
	if (getenv("FTPATH_TEST_DUMP") != NULL)
		json_dumpf(doc, stdout, JSON_INDENT(2));

	p = probe_named(doc, "passive", 0);
	assert_non_null(p);
	assert_int_equal(json_integer_value(json_object_get(p, "port")), 29999);
	assert_null(json_object_get(p, "traceroute"));	/* passing: absent */

	p = probe_named(doc, "passive", 1);
	assert_non_null(p);
	assert_string_equal(json_string_value(json_object_get(p, "ports")),
	    "30000-30001");
	assert_int_equal(json_array_size(json_object_get(p, "traceroute")), 2);
	h = json_array_get(json_object_get(p, "traceroute"), 0);
	assert_int_equal(json_integer_value(json_object_get(h, "ttl")), 1);
	assert_string_equal(json_string_value(json_object_get(h, "from")),
	    ROUTER);
	assert_string_equal(json_string_value(json_object_get(h, "result")),
	    "time-exceeded");
	h = json_array_get(json_object_get(p, "traceroute"), 1);
	assert_int_equal(json_integer_value(json_object_get(h, "ttl")), 2);
	assert_true(json_is_null(json_object_get(h, "from")));
	assert_string_equal(json_string_value(json_object_get(h, "result")),
	    "silent");

	p = probe_named(doc, "passive", 2);
	assert_non_null(p);
	assert_int_equal(json_integer_value(json_object_get(p, "port")), 30002);
	h = json_array_get(json_object_get(p, "traceroute"), 1);
	assert_string_equal(json_string_value(json_object_get(h, "result")),
	    "connected");

	p = probe_named(doc, "passive", 3);
	assert_non_null(p);
	assert_int_equal(json_integer_value(json_object_get(p, "port")), 30003);
	assert_non_null(json_object_get(p, "traceroute"));
	assert_true(json_is_null(json_object_get(p, "traceroute")));
	assert_null(probe_named(doc, "passive", 4));
	json_decref(doc);
	report_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_names_and_final),
		cmocka_unit_test(test_path_add),
		cmocka_unit_test(test_last_answered),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_format_truncates),
		cmocka_unit_test(test_path_equal),
		cmocka_unit_test(test_engine_rejects_mixed_families),
		cmocka_unit_test(test_report_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
