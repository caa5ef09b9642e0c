/*
 * test_privmsg.c - the privileged helper's checks of the engine's
 * requests (reflector/privmsg.h): hostile requests a compromised engine
 * could send are refused with their reason, the engine's own are
 * passed.  Addresses are documentation ones.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <linux/netfilter.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "config.h"
#include "divert.h"
#include "err.h"
#include "fw_shared.h"
#include "privmsg.h"

static struct reflector_config cfg;

static int
setup(void **state)
{
	char err[256];

	(void)state;
	assert_int_equal(config_defaults(&cfg), 0);
	assert_int_equal(config_set(&cfg, "passive_range", "30000-30099",
	    err, sizeof(err)), 0);
	assert_int_equal(config_set(&cfg, "cert", "/dev/null", err,
	    sizeof(err)), 0);
	assert_int_equal(config_set(&cfg, "key", "/dev/null", err,
	    sizeof(err)), 0);
	assert_int_equal(config_set(&cfg, "ca", "/dev/null", err,
	    sizeof(err)), 0);
	assert_int_equal(config_validate(&cfg, err, sizeof(err)), 0);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	config_release(&cfg);
	return 0;
}

static struct privmsg_req *
req(uint32_t type, const char *addr, uint16_t port)
{
	struct privmsg_req *q = calloc(1, sizeof(*q));
	socklen_t sl;

	assert_non_null(q);
	q->type = type;
	if (addr != NULL) {
		assert_int_equal(addr_parse_ip(addr, &q->addr, &sl), 0);
		addr_set_port((struct sockaddr *)&q->addr, port);
	}
	return q;
}

/* The check's result and, refused, that why says what. */
static void
expect(struct privmsg_req *q, int want, const char *why_has)
{
	char why[256] = "";

	assert_int_equal(privmsg_check(q, sizeof(*q), &cfg, 0, why,
	    sizeof(why)), want);
	if (why_has != NULL)
		assert_non_null(strstr(why, why_has));
	free(q);
}

static void
test_listen_only_configured_ports(void **state)
{
	struct privmsg_req *q;

	(void)state;
	q = req(PRIVMSG_LISTEN, "203.0.113.2", 21);
	q->backlog = 128;
	expect(q, 0, NULL);
	q = req(PRIVMSG_LISTEN, "203.0.113.2", 30050);
	q->backlog = 128;
	expect(q, 0, NULL);
	/* ssh, and a port next to the range */
	q = req(PRIVMSG_LISTEN, "203.0.113.2", 22);
	q->backlog = 128;
	expect(q, FTP_ERR_DENIED, "not allowed");
	q = req(PRIVMSG_LISTEN, "203.0.113.2", 30100);
	q->backlog = 128;
	expect(q, FTP_ERR_DENIED, "not allowed");
	q = req(PRIVMSG_LISTEN, "203.0.113.2", 21);
	q->backlog = 1 << 30;
	expect(q, FTP_ERR_DENIED, "backlog");
}

static void
test_transparent_listener_on_loopback_only(void **state)
{
	struct privmsg_req *q;

	(void)state;
	q = req(PRIVMSG_LISTEN_TPROXY, "127.0.0.1", 0);
	q->backlog = 4096;
	q->flag = 8;
	expect(q, 0, NULL);
	q = req(PRIVMSG_LISTEN_TPROXY, "203.0.113.2", 0);
	q->backlog = 4096;
	q->flag = 8;
	expect(q, FTP_ERR_DENIED, "loopback");
	q = req(PRIVMSG_LISTEN_TPROXY, "::1", 22);
	q->backlog = 4096;
	q->flag = 8;
	expect(q, FTP_ERR_DENIED, "loopback");
	q = req(PRIVMSG_LISTEN_TPROXY, "::1", 0);
	q->backlog = 4096;
	q->flag = 1000;
	expect(q, FTP_ERR_DENIED, "group size");
}

static void
test_bound_socket_from_active_source_only(void **state)
{
	(void)state;
	expect(req(PRIVMSG_BOUND, "203.0.113.2", 20), 0, NULL);
	expect(req(PRIVMSG_BOUND, "203.0.113.2", 25), FTP_ERR_DENIED,
	    "active_source_port");
	expect(req(PRIVMSG_BOUND, NULL, 0), FTP_ERR_DENIED, "IPv4/IPv6");
}

static struct privmsg_req *
elems(const char *peer, uint8_t which, uint16_t lo, uint16_t hi)
{
	struct privmsg_req *q = req(PRIVMSG_ELEMS, peer, 0);

	q->timeout_ms = 960000;
	q->nops = 1;
	q->ops[0].add = 1;
	q->ops[0].which = which;
	q->ops[0].lo = lo;
	q->ops[0].hi = hi;
	return q;
}

static void
test_elements_within_policy(void **state)
{
	struct privmsg_req *q;

	(void)state;
	expect(elems("198.51.100.7", FW_SHARED_PROBE, 30000, 30099), 0,
	    NULL);
	expect(elems("2001:db8::7", FW_SHARED_DIVERT, 21, 21), 0, NULL);
	/* Diverting ssh for an agent address: the hole a compromised
	 * engine would want. */
	expect(elems("198.51.100.7", FW_SHARED_DIVERT, 22, 22),
	    FTP_ERR_DENIED, "does not allow");
	expect(elems("198.51.100.7", FW_SHARED_PROBE, 1, 65535),
	    FTP_ERR_DENIED, "does not allow");
	expect(elems("198.51.100.7", 9, 21, 21), FTP_ERR_DENIED,
	    "does not allow");
	/* Everyone at once, loopback, a multicast group. */
	expect(elems("0.0.0.0", FW_SHARED_PROBE, 21, 21), FTP_ERR_DENIED,
	    "unicast");
	expect(elems("127.0.0.1", FW_SHARED_PROBE, 21, 21), FTP_ERR_DENIED,
	    "unicast");
	expect(elems("ff02::1", FW_SHARED_PROBE, 21, 21), FTP_ERR_DENIED,
	    "unicast");
	/* An element that would outlive every session. */
	q = elems("198.51.100.7", FW_SHARED_PROBE, 21, 21);
	q->timeout_ms = UINT64_C(1) << 40;
	expect(q, FTP_ERR_DENIED, "timeout");
	q = elems("198.51.100.7", FW_SHARED_PROBE, 21, 21);
	q->nops = PRIVMSG_MAX_OPS + 1;
	expect(q, FTP_ERR_DENIED, "count");
}

static void
test_armed_ports_bounded(void **state)
{
	struct privmsg_req *q = elems("198.51.100.7", FW_SHARED_PROBE, 30000,
	    30099);
	char why[256];

	(void)state;
	assert_int_equal(privmsg_check(q, sizeof(*q), &cfg,
	    (uint64_t)cfg.max_armed_ports + 65536 - 50, why, sizeof(why)),
	    FTP_ERR_DENIED);
	assert_non_null(strstr(why, "max_armed_ports"));
	assert_int_equal(privmsg_probe_delta(q), 100);
	q->ops[0].add = 0;
	assert_int_equal(privmsg_probe_delta(q), -100);
	free(q);
}

static void
test_tproxy_and_table(void **state)
{
	struct privmsg_req *q;

	(void)state;
	q = req(PRIVMSG_TPROXY_RULE, "127.0.0.1", 40000);
	q->mark = DIVERT_MARK;
	expect(q, 0, NULL);
	q = req(PRIVMSG_TPROXY_RULE, "198.51.100.9", 22);
	q->mark = DIVERT_MARK;
	expect(q, FTP_ERR_DENIED, "loopback");
	q = req(PRIVMSG_TPROXY_RULE, "127.0.0.1", 40000);
	q->mark = 1;
	expect(q, FTP_ERR_DENIED, "mark");
	q = req(PRIVMSG_TABLE, NULL, 0);
	q->flag = 1;
	q->port = 20;
	expect(q, 0, NULL);
	q = req(PRIVMSG_TABLE, NULL, 0);
	q->flag = 1;
	q->port = 22;
	expect(q, FTP_ERR_DENIED, "active_source_port");
}

static void
test_rule_facts_names(void **state)
{
	struct privmsg_req *q;

	(void)state;
	q = req(PRIVMSG_RULE_FACTS, NULL, 0);
	q->family = NFPROTO_INET;
	strcpy(q->table, "harness_filter");
	strcpy(q->chain, "input");
	expect(q, 0, NULL);
	/* A second command smuggled into the listing. */
	q = req(PRIVMSG_RULE_FACTS, NULL, 0);
	q->family = NFPROTO_INET;
	strcpy(q->table, "t; flush ruleset");
	strcpy(q->chain, "input");
	expect(q, FTP_ERR_DENIED, "name");
	q = req(PRIVMSG_RULE_FACTS, NULL, 0);
	q->family = NFPROTO_INET;
	memset(q->table, 'a', sizeof(q->table));
	strcpy(q->chain, "input");
	expect(q, FTP_ERR_DENIED, "name");
	q = req(PRIVMSG_RULE_FACTS, NULL, 0);
	q->family = 99;
	strcpy(q->table, "t");
	strcpy(q->chain, "c");
	expect(q, FTP_ERR_DENIED, "family");
}

static void
test_verify_patch_additions_only(void **state)
{
	struct privmsg_req *q;

	(void)state;
	q = req(PRIVMSG_VERIFY_PATCH, NULL, 0);
	strcpy(q->text, "add rule inet harness_filter input tcp dport "
	    "30000-30099 accept\n");
	expect(q, 0, NULL);
	q = req(PRIVMSG_VERIFY_PATCH, NULL, 0);
	strcpy(q->text, "flush ruleset\n");
	expect(q, FTP_ERR_DENIED, "additions");
	q = req(PRIVMSG_VERIFY_PATCH, NULL, 0);
	memset(q->text, 'a', sizeof(q->text));
	expect(q, FTP_ERR_DENIED, "terminated");
}

static void
test_trace_socket_buffer(void **state)
{
	struct privmsg_req *q;

	(void)state;
	q = req(PRIVMSG_TRACE_SOCKET, NULL, 0);
	q->backlog = 32 * 1024 * 1024;
	expect(q, 0, NULL);
	/* A receive buffer of gigabytes is kernel memory of the host. */
	q = req(PRIVMSG_TRACE_SOCKET, NULL, 0);
	q->backlog = 1 << 30;
	expect(q, FTP_ERR_DENIED, "receive buffer");
}

static void
test_malformed(void **state)
{
	struct privmsg_req *q = req(PRIVMSG_TYPE_MAX, NULL, 0);
	char why[256];

	(void)state;
	assert_int_equal(privmsg_check(q, sizeof(*q) - 1, &cfg, 0, why,
	    sizeof(why)), FTP_ERR_INVAL);
	assert_non_null(strstr(why, "bytes"));
	assert_int_equal(privmsg_check(q, sizeof(*q), &cfg, 0, why,
	    sizeof(why)), FTP_ERR_INVAL);
	assert_non_null(strstr(why, "unknown"));
	assert_string_equal(privmsg_type_name(0), "unknown");
	assert_string_equal(privmsg_type_name(PRIVMSG_ELEMS), "elements");
	free(q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listen_only_configured_ports),
		cmocka_unit_test(test_transparent_listener_on_loopback_only),
		cmocka_unit_test(test_bound_socket_from_active_source_only),
		cmocka_unit_test(test_elements_within_policy),
		cmocka_unit_test(test_armed_ports_bounded),
		cmocka_unit_test(test_tproxy_and_table),
		cmocka_unit_test(test_rule_facts_names),
		cmocka_unit_test(test_verify_patch_additions_only),
		cmocka_unit_test(test_trace_socket_buffer),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
