/*
 * test_trace.c - the reflector's per-session trace records (trace.c),
 * fed with hand-built events: matching by 5-tuple and by trace id, the
 * compact runs of "traces", and what an incomplete trace reports.
 * Detached traces do no nftables I/O, so no root is needed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <linux/netfilter.h>

#include "trace.h"

#define AGENT	"198.51.100.2"
#define SERVER	"203.0.113.2"
#define OTHER	"198.51.100.99"

static void
sa_set(struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)ss;

	memset(ss, 0, sizeof(*ss));
	s4->sin_family = AF_INET;
	s4->sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, ip, &s4->sin_addr), 1);
}

static struct trace *
new_trace(void)
{
	struct sockaddr_storage peer;
	struct portrange pasv = { 30000, 30099 };
	struct trace *t;

	sa_set(&peer, AGENT, 0);
	t = trace_new_detached((struct sockaddr *)&peer, 21, &pasv);
	assert_non_null(t);
	return t;
}

/* An event of our trace rule (prerouting or output) with headers. */
static void
ev_tuple(struct fw_trace_event *ev, uint32_t id, const char *src,
    uint16_t sport, const char *dst, uint16_t dport, const char *chain)
{
	memset(ev, 0, sizeof(*ev));
	ev->id = id;
	ev->family = NFPROTO_INET;
	ev->nfproto = NFPROTO_IPV4;
	ev->type = FW_TRACE_RULE;
	snprintf(ev->table, sizeof(ev->table), "ftpath_x");
	snprintf(ev->chain, sizeof(ev->chain), "%s", chain);
	ev->has_handle = 1;
	ev->handle = 2;
	ev->verdict = FW_V_CONTINUE;
	ev->has_tuple = 1;
	ev->l4proto = IPPROTO_TCP;
	sa_set(&ev->src, src, sport);
	sa_set(&ev->dst, dst, dport);
}

/* A later event of the same packet: a drop, without headers. */
static void
ev_drop(struct fw_trace_event *ev, uint32_t id, uint64_t handle)
{
	memset(ev, 0, sizeof(*ev));
	ev->id = id;
	ev->family = NFPROTO_INET;
	ev->type = FW_TRACE_RULE;
	snprintf(ev->table, sizeof(ev->table), "harness_filter");
	snprintf(ev->chain, sizeof(ev->chain), "input");
	ev->has_handle = 1;
	ev->handle = handle;
	ev->verdict = FW_V_DROP;
}

static json_t *
observe(struct trace *t)
{
	json_t *obs = json_object();
	size_t bytes = 0;

	assert_non_null(obs);
	assert_int_equal(trace_observations(t, NULL, obs, &bytes), 0);
	assert_true(bytes > 0);
	return obs;
}

static json_t *
run_at(json_t *obs, size_t i)
{
	return json_array_get(json_object_get(obs, "traces"), i);
}

static void
test_drop_by_id(void **state)
{
	struct trace *t = new_trace();
	struct fw_trace_event ev;
	json_t *obs, *r, *v;
	unsigned p;

	(void)state;
	/* Every passive port: SYN at prerouting, then dropped at input. */
	for (p = 30000; p <= 30099; p++) {
		ev_tuple(&ev, 1000 + p, AGENT, 40000, SERVER, (uint16_t)p,
		    "trace_pre");
		trace_feed(t, &ev);
		ev_drop(&ev, 1000 + p, 5);
		trace_feed(t, &ev);
	}
	/* Port 21: SYN seen and answered. */
	ev_tuple(&ev, 7, AGENT, 40001, SERVER, 21, "trace_pre");
	trace_feed(t, &ev);
	ev_tuple(&ev, 8, SERVER, 21, AGENT, 40001, "trace_out");
	trace_feed(t, &ev);
	obs = observe(t);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    obs, "trace"), "state")), "on");
	assert_int_equal(json_array_size(json_object_get(obs, "traces")), 2);
	r = run_at(obs, 0);
	assert_string_equal(json_string_value(json_object_get(r, "ports")),
	    "21");
	assert_true(json_is_true(json_object_get(r, "syn_seen")));
	assert_true(json_is_true(json_object_get(r, "synack_sent")));
	assert_true(json_is_null(json_object_get(r, "verdict")));
	r = run_at(obs, 1);
	assert_string_equal(json_string_value(json_object_get(r, "ports")),
	    "30000-30099");
	assert_true(json_is_true(json_object_get(r, "syn_seen")));
	assert_true(json_is_false(json_object_get(r, "synack_sent")));
	v = json_object_get(r, "verdict");
	assert_string_equal(json_string_value(json_object_get(v, "family")),
	    "inet");
	assert_string_equal(json_string_value(json_object_get(v, "table")),
	    "harness_filter");
	assert_string_equal(json_string_value(json_object_get(v, "chain")),
	    "input");
	assert_int_equal(json_integer_value(json_object_get(v, "handle")), 5);
	assert_string_equal(json_string_value(json_object_get(v, "verdict")),
	    "drop");
	assert_string_equal(json_string_value(json_object_get(v,
	    "direction")), "in");
	json_decref(obs);
	trace_free(t);
}

/* Packets of other peers and other ports are not ours; an id reused by
 * such a packet no longer names our probe. */
static void
test_foreign_ignored(void **state)
{
	struct trace *t = new_trace();
	struct fw_trace_event ev;
	json_t *obs, *r;

	(void)state;
	ev_tuple(&ev, 1, OTHER, 40000, SERVER, 30000, "trace_pre");
	trace_feed(t, &ev);
	ev_tuple(&ev, 2, AGENT, 40000, SERVER, 7021, "trace_pre");
	trace_feed(t, &ev);
	ev_drop(&ev, 1, 5);
	trace_feed(t, &ev);
	ev_tuple(&ev, 3, AGENT, 40000, SERVER, 30001, "trace_pre");
	trace_feed(t, &ev);
	ev_tuple(&ev, 3, OTHER, 40000, SERVER, 30001, "input");
	trace_feed(t, &ev);
	ev_drop(&ev, 3, 5);
	trace_feed(t, &ev);
	obs = observe(t);
	/* 21, 30000: nothing; 30001: seen, not dropped; rest: nothing. */
	assert_int_equal(json_array_size(json_object_get(obs, "traces")), 4);
	r = run_at(obs, 0);
	assert_string_equal(json_string_value(json_object_get(r, "ports")),
	    "21");
	assert_true(json_is_false(json_object_get(r, "syn_seen")));
	r = run_at(obs, 1);
	assert_string_equal(json_string_value(json_object_get(r, "ports")),
	    "30000");
	r = run_at(obs, 2);
	assert_string_equal(json_string_value(json_object_get(r, "ports")),
	    "30001");
	assert_true(json_is_true(json_object_get(r, "syn_seen")));
	assert_true(json_is_null(json_object_get(r, "verdict")));
	r = run_at(obs, 3);
	assert_string_equal(json_string_value(json_object_get(r, "ports")),
	    "30002-30099");
	assert_true(json_is_false(json_object_get(r, "syn_seen")));
	json_decref(obs);
	trace_free(t);
}

/* The answer dropped on its way out: no SYN-ACK left, the rule is named
 * with direction "out". */
static void
test_outbound_drop(void **state)
{
	struct trace *t = new_trace();
	struct fw_trace_event ev;
	json_t *obs, *r, *v;

	(void)state;
	ev_tuple(&ev, 1, AGENT, 40000, SERVER, 21, "trace_pre");
	trace_feed(t, &ev);
	ev_tuple(&ev, 2, SERVER, 21, AGENT, 40000, "trace_out");
	trace_feed(t, &ev);
	ev_drop(&ev, 2, 9);
	snprintf(ev.chain, sizeof(ev.chain), "output");
	trace_feed(t, &ev);
	obs = observe(t);
	r = run_at(obs, 0);
	assert_string_equal(json_string_value(json_object_get(r, "ports")),
	    "21");
	assert_true(json_is_false(json_object_get(r, "synack_sent")));
	v = json_object_get(r, "verdict");
	assert_string_equal(json_string_value(json_object_get(v,
	    "direction")), "out");
	assert_string_equal(json_string_value(json_object_get(v, "chain")),
	    "output");
	json_decref(obs);
	trace_free(t);
}

static void
test_incomplete_and_null(void **state)
{
	struct trace *t = new_trace();
	json_t *obs, *st;
	size_t bytes;

	(void)state;
	trace_set_incomplete(t, "the kernel dropped trace events (ENOBUFS)");
	obs = observe(t);
	st = json_object_get(obs, "trace");
	assert_string_equal(json_string_value(json_object_get(st, "state")),
	    "incomplete");
	assert_non_null(strstr(json_string_value(json_object_get(st,
	    "reason")), "ENOBUFS"));
	json_decref(obs);
	trace_free(t);

	obs = json_object();
	assert_int_equal(trace_observations(NULL, NULL, obs, &bytes), 0);
	st = json_object_get(obs, "trace");
	assert_string_equal(json_string_value(json_object_get(st, "state")),
	    "unavailable");
	assert_int_equal(json_array_size(json_object_get(obs, "traces")), 0);
	json_decref(obs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_drop_by_id),
		cmocka_unit_test(test_foreign_ignored),
		cmocka_unit_test(test_outbound_drop),
		cmocka_unit_test(test_incomplete_and_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
