/*
 * test_reqmsg.c - the decoders of the agent's requests: every field rule
 * refused with the sentence the reflector sends back, valid requests
 * decoded completely.  Addresses are documentation ones.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "err.h"
#include "reqmsg.h"

#define TOKEN	"0123456789abcdef0123456789abcdef"

static json_t *
j(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, JSON_ALLOW_NUL, &e);

	assert_non_null(v);
	return v;
}

/* decode text with fn into a buffer; the return and the sentence. */
#define DECODE(fn, type, text, want_r, want_why) do {			\
	type q_;							\
	const char *why_ = NULL;					\
	json_t *m_ = j(text);						\
	int r_ = fn(m_, &q_, &why_);					\
	assert_int_equal(r_, want_r);					\
	assert_non_null(why_);						\
	assert_string_equal(why_, (want_why));				\
	json_decref(m_);						\
} while (0)

static void
test_hello(void **state)
{
	struct reqmsg_hello h;
	const char *why = NULL;
	json_t *m;

	(void)state;
	m = j("{\"token\":\"" TOKEN "\",\"agent\":\"ftpath-agent 0.1.0\","
	    "\"time_ms\":1700000000000}");
	assert_int_equal(reqmsg_hello(m, &h, &why), 0);
	assert_string_equal(h.token, TOKEN);
	assert_string_equal(h.agent, "ftpath-agent 0.1.0");
	assert_true(h.time_ms == 1700000000000LL);
	json_decref(m);
	DECODE(reqmsg_hello, struct reqmsg_hello, "{\"token\":\"0123456789ABCDEF"
	    "0123456789abcdef\",\"agent\":\"a\",\"time_ms\":1}", FTP_ERR_INVAL,
	    "token must be 32 lowercase hex characters");
	DECODE(reqmsg_hello, struct reqmsg_hello, "{\"token\":\"0123\","
	    "\"agent\":\"a\",\"time_ms\":1}", FTP_ERR_INVAL,
	    "token must be 32 lowercase hex characters");
	DECODE(reqmsg_hello, struct reqmsg_hello, "{\"token\":\"" TOKEN "\","
	    "\"agent\":\"a\\u0001\",\"time_ms\":1}", FTP_ERR_INVAL,
	    "agent must be a string");
	DECODE(reqmsg_hello, struct reqmsg_hello, "{\"token\":\"" TOKEN "\","
	    "\"agent\":\"a\\u0000b\",\"time_ms\":1}", FTP_ERR_INVAL,
	    "agent must be a string");
	DECODE(reqmsg_hello, struct reqmsg_hello, "{\"token\":\"" TOKEN "\","
	    "\"agent\":\"a\",\"time_ms\":-1}", FTP_ERR_INVAL,
	    "time_ms must be a non-negative integer");
	DECODE(reqmsg_hello, struct reqmsg_hello, "{\"token\":\"" TOKEN "\","
	    "\"agent\":\"a\",\"time_ms\":\"1\"}", FTP_ERR_INVAL,
	    "time_ms must be a non-negative integer");
}

static void
test_ping(void **state)
{
	struct reqmsg_ping p;
	const char *why = NULL;
	json_t *m;

	(void)state;
	m = j("{\"seq\":3,\"t\":{\"any\":[1,2]}}");
	assert_int_equal(reqmsg_ping(m, &p, &why), 0);
	assert_true(p.seq == 3);
	assert_true(json_is_object(p.t_borrowed));
	json_decref(m);
	DECODE(reqmsg_ping, struct reqmsg_ping, "{\"seq\":3}", FTP_ERR_INVAL,
	    "t is missing");
	DECODE(reqmsg_ping, struct reqmsg_ping, "{\"seq\":-3,\"t\":1}",
	    FTP_ERR_INVAL, "seq must be a non-negative integer");
}

static void
test_plan(void **state)
{
	struct reqmsg_plan *p = malloc(sizeof(*p));
	const char *why = NULL;
	char big[2048];
	json_t *m;
	size_t i;

	(void)state;
	assert_non_null(p);
	m = j("{\"server\":\"203.0.113.2\",\"control_port\":21,"
	    "\"passive\":\"30000-30099\",\"agent_addrs\":[\"198.51.100.2\","
	    "\"2001:db8::2\"],\"timeout_ms\":250,\"fix\":{\"style\":\"ports\"}}");
	assert_int_equal(reqmsg_plan(m, p, &why), 0);
	assert_string_equal(p->server, "203.0.113.2");
	assert_int_equal(p->control_port, 21);
	assert_true(p->has_passive);
	assert_int_equal(p->passive.lo, 30000);
	assert_int_equal(p->passive.hi, 30099);
	assert_int_equal(p->n_agent_addrs, 2);
	assert_int_equal(p->agent_addrs[1].ss_family, AF_INET6);
	assert_int_equal(p->timeout_ms, 250);
	assert_non_null(p->fix_borrowed);
	json_decref(m);
	m = j("{\"server\":\"s\",\"control_port\":2121,\"passive\":null,"
	    "\"agent_addrs\":[],\"timeout_ms\":1}");
	assert_int_equal(reqmsg_plan(m, p, &why), 0);
	assert_false(p->has_passive);
	assert_null(p->fix_borrowed);
	json_decref(m);
	free(p);
	DECODE(reqmsg_plan, struct reqmsg_plan, "{\"server\":\"\","
	    "\"control_port\":21,\"passive\":null,\"agent_addrs\":[],"
	    "\"timeout_ms\":1}", FTP_ERR_INVAL, "server must be a string");
	DECODE(reqmsg_plan, struct reqmsg_plan, "{\"server\":\"s\","
	    "\"control_port\":0,\"passive\":null,\"agent_addrs\":[],"
	    "\"timeout_ms\":1}", FTP_ERR_INVAL,
	    "control_port must be an integer 1-65535");
	DECODE(reqmsg_plan, struct reqmsg_plan, "{\"server\":\"s\","
	    "\"control_port\":21,\"passive\":\"30099-30000\","
	    "\"agent_addrs\":[],\"timeout_ms\":1}", FTP_ERR_INVAL,
	    "passive must be \"LO-HI\" or null");
	DECODE(reqmsg_plan, struct reqmsg_plan, "{\"server\":\"s\","
	    "\"control_port\":21,\"agent_addrs\":[],\"timeout_ms\":1}",
	    FTP_ERR_INVAL, "passive must be \"LO-HI\" or null");
	DECODE(reqmsg_plan, struct reqmsg_plan, "{\"server\":\"s\","
	    "\"control_port\":21,\"passive\":null,\"agent_addrs\":"
	    "[\"ftp.example.net\"],\"timeout_ms\":1}", FTP_ERR_INVAL,
	    "agent_addrs must hold numeric IP addresses");
	DECODE(reqmsg_plan, struct reqmsg_plan, "{\"server\":\"s\","
	    "\"control_port\":21,\"passive\":null,\"agent_addrs\":{},"
	    "\"timeout_ms\":1}", FTP_ERR_INVAL,
	    "agent_addrs must be an array of at most 64 addresses");
	DECODE(reqmsg_plan, struct reqmsg_plan, "{\"server\":\"s\","
	    "\"control_port\":21,\"passive\":null,\"agent_addrs\":[],"
	    "\"timeout_ms\":0}", FTP_ERR_INVAL,
	    "timeout_ms must be a positive integer");
	/* 65 addresses: one too many, refused before any is parsed. */
	strcpy(big, "{\"server\":\"s\",\"control_port\":21,\"passive\":null,"
	    "\"timeout_ms\":1,\"agent_addrs\":[");
	for (i = 0; i < 65; i++)
		strcat(big, i ? ",\"192.0.2.1\"" : "\"192.0.2.1\"");
	strcat(big, "]}");
	DECODE(reqmsg_plan, struct reqmsg_plan, big, FTP_ERR_INVAL,
	    "agent_addrs must be an array of at most 64 addresses");
}

static void
test_active_collect_wait(void **state)
{
	struct reqmsg_active a;
	struct reqmsg_collect c;
	const char *why = NULL;
	json_t *m;

	(void)state;
	m = j("{\"port\":40000,\"timeout_ms\":500}");
	assert_int_equal(reqmsg_active(m, &a, &why), 0);
	assert_int_equal(a.port, 40000);
	assert_int_equal(a.timeout_ms, 500);
	json_decref(m);
	DECODE(reqmsg_active, struct reqmsg_active, "{\"port\":65536,"
	    "\"timeout_ms\":500}", FTP_ERR_INVAL,
	    "port must be an integer 1-65535");
	DECODE(reqmsg_active, struct reqmsg_active, "{\"port\":40000,"
	    "\"timeout_ms\":86400001}", FTP_ERR_INVAL,
	    "timeout_ms must be a positive integer");
	m = j("{}");
	assert_int_equal(reqmsg_collect(m, &c, &why), 0);
	assert_int_equal(c.from, 0);
	json_decref(m);
	m = j("{\"from\":2500}");
	assert_int_equal(reqmsg_collect(m, &c, &why), 0);
	assert_int_equal(c.from, 2500);
	json_decref(m);
	DECODE(reqmsg_collect, struct reqmsg_collect, "{\"from\":-1}",
	    FTP_ERR_INVAL, "collect.from must be an integer >= 0");
	DECODE(reqmsg_wait, struct reqmsg_wait, "{\"timeout_ms\":true}",
	    FTP_ERR_INVAL, "timeout_ms must be a positive integer");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello),
		cmocka_unit_test(test_ping),
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_active_collect_wait),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
