/*
 * test_fixgen.c - what the reflector takes from the agent for its fixes
 * (plan.fix: fixgen_req_parse) and the shape of the fix objects it
 * sends (fixgen_json).  The kernel check (patch_verify) needs
 * CAP_NET_ADMIN and a live ruleset: without them a fix comes back
 * unverified with the reason, and only the keys are checked here; the
 * texts themselves are test_patch's, the loaded patches the namespace
 * scenarios'.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "addr.h"
#include "err.h"
#include "fixgen.h"
#include "testaddr.h"

#define AGENT4	"198.51.100.2"
#define AGENT6	"2001:db8:1::2"

static int
parse(const char *json, const char *observed, struct fixgen_req *rq,
    char *why, size_t whylen)
{
	struct sockaddr_storage obs;
	json_t *fix = NULL;
	int r;

	sa_set(&obs, observed, 40000);
	if (json != NULL)
		assert_non_null(fix = json_loads(json, JSON_DECODE_ANY, NULL));
	r = fixgen_req_parse(fix, (struct sockaddr *)&obs, rq, why, whylen);
	json_decref(fix);
	return r;
}

static void
test_req_parse_ok(void **state)
{
	struct fixgen_req rq;
	struct sockaddr_storage a;
	char why[256];

	(void)state;
	memset(&rq, 0xa5, sizeof(rq));
	assert_int_equal(parse(NULL, AGENT4, &rq, why, sizeof(why)), 0);
	assert_false(rq.has_scope);
	assert_int_equal(rq.style, PATCH_STYLE_AUTO);
	assert_int_equal(parse("null", AGENT4, &rq, why, sizeof(why)), 0);
	assert_int_equal(parse("{}", AGENT4, &rq, why, sizeof(why)), 0);
	assert_int_equal(parse("{\"scope\": null, \"style\": \"helper\"}",
	    AGENT4, &rq, why, sizeof(why)), 0);
	assert_false(rq.has_scope);
	assert_int_equal(rq.style, PATCH_STYLE_HELPER);
	assert_int_equal(parse("{\"style\": \"ports\"}", AGENT4, &rq, why,
	    sizeof(why)), 0);
	assert_int_equal(rq.style, PATCH_STYLE_PORTS);
	assert_int_equal(parse("{\"scope\": \"198.51.100.0/24\", \"style\": "
	    "\"auto\"}", AGENT4, &rq, why, sizeof(why)), 0);
	assert_true(rq.has_scope);
	assert_int_equal(rq.prefix, 24);
	sa_set(&a, "198.51.100.0", 0);
	assert_true(addr_equal((struct sockaddr *)&rq.net,
	    (struct sockaddr *)&a));
	/* A dual-stack listener sees an IPv4 agent in mapped form. */
	assert_int_equal(parse("{\"scope\": \"198.51.100.0/24\"}",
	    "::ffff:198.51.100.2", &rq, why, sizeof(why)), 0);
	assert_int_equal(parse("{\"scope\": \"2001:db8:1::/48\"}", AGENT6,
	    &rq, why, sizeof(why)), 0);
	assert_int_equal(rq.prefix, 48);
	assert_int_equal(parse("{\"scope\": \"198.51.100.2/32\"}", AGENT4,
	    &rq, why, sizeof(why)), 0);
}

static void
test_req_parse_refused(void **state)
{
	static const struct {
		const char *json, *observed, *why;
	} bad[] = {
		{ "[]", AGENT4, "fix must be an object" },
		{ "\"198.51.100.0/24\"", AGENT4, "fix must be an object" },
		{ "{\"style\": \"both\"}", AGENT4, "fix.style" },
		{ "{\"style\": 1}", AGENT4, "fix.style" },
		{ "{\"scope\": 24}", AGENT4, "fix.scope must be" },
		{ "{\"scope\": \"198.51.100.0\"}", AGENT4, "fix.scope must be" },
		{ "{\"scope\": \"0.0.0.0/0\"}", AGENT4, "fix.scope must be" },
		{ "{\"scope\": \"198.51.100.0/24; flush ruleset\"}", AGENT4,
		    "fix.scope must be" },
		/* elsewhere, not wider */
		{ "{\"scope\": \"203.0.113.0/24\"}", AGENT4,
		    "does not contain 198.51.100.2" },
		{ "{\"scope\": \"198.51.100.0/31\"}", "198.51.100.9",
		    "does not contain 198.51.100.9" },
		{ "{\"scope\": \"2001:db8:1::/48\"}", AGENT4,
		    "does not contain" },
		{ "{\"scope\": \"198.51.100.0/24\"}", AGENT6,
		    "does not contain" },
	};
	struct fixgen_req rq;
	char why[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&rq, 0x5a, sizeof(rq));
		why[0] = '\0';
		assert_int_equal(parse(bad[i].json, bad[i].observed, &rq, why,
		    sizeof(why)), FTP_ERR_INVAL);
		if (strstr(why, bad[i].why) == NULL)
			fail_msg("%s: \"%s\" lacks \"%s\"", bad[i].json, why,
			    bad[i].why);
		assert_int_equal(rq.has_scope, 0x5a5a5a5a);	/* untouched */
	}
}

static json_t *
fix_for(int related, enum patch_path path, int outbound,
    const struct fixgen_req *rq)
{
	struct fixgen_rule r;
	struct sockaddr_storage peer;

	memset(&r, 0, sizeof(r));
	r.family = "inet";
	r.table = "filter";
	r.chain = outbound ? "output" : "input";
	r.related = related;
	r.outbound = outbound;
	sa_set(&peer, AGENT4, 40000);
	return fixgen_json(&r, path, 30000, 30099, (struct sockaddr *)&peer,
	    21, 20, rq);
}

static const char *
jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static void
test_fix_shape(void **state)
{
	struct fixgen_req rq;
	json_t *o, *alt;

	(void)state;
	memset(&rq, 0, sizeof(rq));
	/* Stateful chain, automatic style: written for a server without
	 * AUTH TLS (helper), and the other for one with it (ports). */
	assert_non_null(o = fix_for(1, PATCH_PATH_PASSIVE, 0, &rq));
	assert_string_equal(jstr(o, "host"), "server");
	assert_string_equal(jstr(o, "file"), "server.nft");
	assert_string_equal(jstr(o, "kind"), "nftables");
	assert_string_equal(jstr(o, "style"), "helper");
	assert_non_null(strstr(jstr(o, "style_reason"), "stateful"));
	assert_true(json_is_boolean(json_object_get(o, "verified")));
	if (!json_is_true(json_object_get(o, "verified")))
		assert_non_null(jstr(o, "verify_error"));
	assert_non_null(alt = json_object_get(o, "if_auth_tls"));
	assert_string_equal(jstr(alt, "style"), "ports");
	assert_non_null(strstr(jstr(alt, "style_reason"), "AUTH TLS"));
	assert_null(json_object_get(alt, "host"));
	assert_null(json_object_get(alt, "if_auth_tls"));
	json_decref(o);

	/* Not stateful: ports, whatever TLS: no second variant. */
	assert_non_null(o = fix_for(0, PATCH_PATH_PASSIVE, 0, &rq));
	assert_string_equal(jstr(o, "style"), "ports");
	assert_null(json_object_get(o, "if_auth_tls"));
	json_decref(o);

	/* Asked for: one variant, the one asked. */
	rq.style = PATCH_STYLE_PORTS;
	assert_non_null(o = fix_for(1, PATCH_PATH_PASSIVE, 0, &rq));
	assert_string_equal(jstr(o, "style"), "ports");
	assert_non_null(strstr(jstr(o, "style_reason"), "--fix-style ports"));
	assert_null(json_object_get(o, "if_auth_tls"));
	json_decref(o);
	rq.style = PATCH_STYLE_HELPER;
	assert_non_null(o = fix_for(0, PATCH_PATH_ACTIVE, 1, &rq));
	assert_string_equal(jstr(o, "style"), "helper");
	json_decref(o);

	/* Control, and the answers of a passive connection: no choice. */
	rq.style = PATCH_STYLE_AUTO;
	assert_non_null(o = fix_for(1, PATCH_PATH_CONTROL, 0, &rq));
	assert_true(json_is_null(json_object_get(o, "style")));
	assert_null(json_object_get(o, "if_auth_tls"));
	json_decref(o);
	assert_non_null(o = fix_for(1, PATCH_PATH_PASSIVE, 1, &rq));
	assert_true(json_is_null(json_object_get(o, "style")));
	assert_null(json_object_get(o, "if_auth_tls"));
	json_decref(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_req_parse_ok),
		cmocka_unit_test(test_req_parse_refused),
		cmocka_unit_test(test_fix_shape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
