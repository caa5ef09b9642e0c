/*
 * test_applymsg.c - the apply-* control messages (common/applymsg.h) and
 * the reflector's side of them that runs before any kernel step
 * (reflector/applysrv.h): what it keeps and what it refuses.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "applymsg.h"
#include "applysrv.h"
#include "config.h"
#include "err.h"
#include "proto.h"

#define TOKEN	"0123456789abcdef0123456789abcdef"
#define TOKEN2	"fedcba9876543210fedcba9876543210"

static json_t *
parse(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);

	assert_non_null(j);
	return j;
}

static void
test_request_round_trip(void **state)
{
	struct applymsg_request r, back;
	char err[256];
	json_t *m;

	(void)state;
	memset(&r, 0, sizeof(r));
	memcpy(r.session, TOKEN, sizeof(TOKEN));
	r.fixes[0].record = APPLYMSG_TRACES;
	r.fixes[0].lo = 30000;
	r.fixes[0].hi = 30099;
	r.fixes[1].record = APPLYMSG_TRACES;
	r.fixes[1].lo = r.fixes[1].hi = 21;
	r.fixes[2].record = APPLYMSG_ACTIVE;
	r.n_fixes = 3;
	r.confirm_timeout_s = 30;
	assert_non_null(m = applymsg_request_encode(&r));
	assert_string_equal(proto_type(m), "apply-request");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(m, "fixes"), 1), "ports")), "21");
	assert_int_equal(applymsg_request_decode(m, &back, err, sizeof(err)),
	    0);
	assert_string_equal(back.session, TOKEN);
	assert_int_equal(back.n_fixes, 3);
	assert_int_equal(back.fixes[0].lo, 30000);
	assert_int_equal(back.fixes[0].hi, 30099);
	assert_int_equal(back.fixes[1].lo, 21);
	assert_int_equal(back.fixes[2].record, APPLYMSG_ACTIVE);
	assert_int_equal(back.confirm_timeout_s, 30);
	json_decref(m);
}

/* Every malformed request is refused with a reason, output untouched. */
static void
test_request_refused(void **state)
{
	static const char *const bad[] = {
		/* patch text riding along: never taken */
		"{\"v\":1,\"type\":\"apply-request\",\"session\":\"" TOKEN "\","
		    "\"fixes\":[{\"record\":\"active\"}],\"confirm_timeout_s\":30,"
		    "\"text\":\"flush ruleset\"}",
		"{\"v\":1,\"type\":\"apply-request\",\"session\":\"" TOKEN "\","
		    "\"fixes\":[{\"record\":\"active\",\"text\":\"x\"}],"
		    "\"confirm_timeout_s\":30}",
		"{\"v\":1,\"type\":\"apply-request\",\"session\":\"ABC\","
		    "\"fixes\":[{\"record\":\"active\"}],\"confirm_timeout_s\":30}",
		"{\"v\":1,\"type\":\"apply-request\",\"session\":\"" TOKEN "\","
		    "\"fixes\":[],\"confirm_timeout_s\":30}",
		"{\"v\":1,\"type\":\"apply-request\",\"session\":\"" TOKEN "\","
		    "\"fixes\":[{\"record\":\"traces\",\"ports\":\"99-9\"}],"
		    "\"confirm_timeout_s\":30}",
		"{\"v\":1,\"type\":\"apply-request\",\"session\":\"" TOKEN "\","
		    "\"fixes\":[{\"record\":\"traces\"}],\"confirm_timeout_s\":30}",
		"{\"v\":1,\"type\":\"apply-request\",\"session\":\"" TOKEN "\","
		    "\"fixes\":[{\"record\":\"active\"}],\"confirm_timeout_s\":0}",
		"{\"v\":1,\"type\":\"apply-request\",\"session\":\"" TOKEN "\","
		    "\"fixes\":[{\"record\":\"active\"}],"
		    "\"confirm_timeout_s\":601}",
		"{\"v\":1,\"type\":\"apply-confirm\"}",
	};
	struct applymsg_request out;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *m = parse(bad[i]);

		memset(&out, 0x5a, sizeof(out));
		err[0] = '\0';
		assert_int_equal(applymsg_request_decode(m, &out, err,
		    sizeof(err)), FTP_ERR_INVAL);
		assert_true(err[0] != '\0');
		assert_int_equal(out.n_fixes, (size_t)0x5a5a5a5a5a5a5a5aULL);
		json_decref(m);
	}
}

static void
test_request_too_many(void **state)
{
	struct applymsg_request r, back;
	char err[256];
	json_t *m;
	size_t i;

	(void)state;
	memset(&r, 0, sizeof(r));
	memcpy(r.session, TOKEN, sizeof(TOKEN));
	r.confirm_timeout_s = 5;
	r.n_fixes = APPLYMSG_MAX_FIXES;
	for (i = 0; i < r.n_fixes; i++)
		r.fixes[i].record = APPLYMSG_ACTIVE;
	assert_non_null(m = applymsg_request_encode(&r));
	assert_int_equal(applymsg_request_decode(m, &back, err, sizeof(err)),
	    0);
	json_array_append_new(json_object_get(m, "fixes"),
	    json_pack("{s:s}", "record", "active"));
	assert_int_equal(applymsg_request_decode(m, &back, err, sizeof(err)),
	    FTP_ERR_INVAL);
	json_decref(m);
}

static void
test_result_round_trip(void **state)
{
	struct applymsg_result *r = calloc(1, sizeof(*r));
	struct applymsg_result *back = calloc(1, sizeof(*back));
	char err[256];
	json_t *m;

	(void)state;
	assert_non_null(r);
	assert_non_null(back);
	r->state = APPLYMSG_ROLLED_BACK;
	snprintf(r->reason, sizeof(r->reason), "the re-test failed");
	r->identical = 1;
	r->n_added = 1;
	snprintf(r->added[0], sizeof(r->added[0]),
	    "rule inet filter input handle 9");
	assert_non_null(m = applymsg_result_encode(r));
	assert_string_equal(json_string_value(json_object_get(m, "state")),
	    "rolled-back");
	assert_int_equal(applymsg_result_decode(m, back, err, sizeof(err)), 0);
	assert_int_equal(back->state, APPLYMSG_ROLLED_BACK);
	assert_string_equal(back->reason, "the re-test failed");
	assert_int_equal(back->identical, 1);
	assert_int_equal(back->n_added, 1);
	assert_string_equal(back->added[0], "rule inet filter input handle 9");
	json_decref(m);
	m = parse("{\"v\":1,\"type\":\"apply-result\",\"state\":\"maybe\"}");
	assert_int_equal(applymsg_result_decode(m, back, err, sizeof(err)),
	    FTP_ERR_INVAL);
	json_decref(m);
	m = parse("{\"v\":1,\"type\":\"apply-result\",\"state\":\"refused\","
	    "\"reason\":\"allow_apply is no\",\"identical\":null}");
	assert_int_equal(applymsg_result_decode(m, back, err, sizeof(err)), 0);
	assert_int_equal(back->state, APPLYMSG_REFUSED);
	assert_int_equal(back->identical, -1);
	json_decref(m);
	m = applymsg_decision_encode(1);
	assert_string_equal(proto_type(m), "apply-confirm");
	json_decref(m);
	m = applymsg_decision_encode(0);
	assert_string_equal(proto_type(m), "apply-rollback");
	json_decref(m);
	free(r);
	free(back);
}

/* ---- applysrv: what it keeps and refuses (no kernel reached) ---- */

static void
addr4(struct sockaddr_in *sin, const char *a)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, a, &sin->sin_addr), 1);
}

static const char *
result_reason(json_t *m)
{
	assert_non_null(m);
	assert_string_equal(proto_type(m), "apply-result");
	assert_string_equal(json_string_value(json_object_get(m, "state")),
	    "refused");
	return json_string_value(json_object_get(m, "reason"));
}

static json_t *
request(const char *token, const char *ports)
{
	return json_pack("{s:i,s:s,s:s,s:[{s:s,s:s}],s:i}", "v", 1, "type",
	    "apply-request", "session", token, "fixes", "record", "traces",
	    "ports", ports, "confirm_timeout_s", 10);
}

static void
test_applysrv_refusals(void **state)
{
	struct reflector_config cfg;
	struct sockaddr_in agent, other;
	struct applysrv *a;
	json_t *obs, *req, *rep;
	unsigned hold = 99;
	int owner;

	(void)state;
	assert_int_equal(config_defaults(&cfg), 0);
	addr4(&agent, "198.51.100.2");
	addr4(&other, "198.51.100.3");
	obs = parse("{\"v\":1,\"type\":\"observations\",\"traces\":[{"
	    "\"ports\":\"30000-30099\",\"fix\":{\"host\":\"server\","
	    "\"verified\":true,\"text\":\"add rule inet f input accept\\n\"}},"
	    "{\"ports\":\"21\",\"fix\":{\"verified\":false,\"text\":null}}]}");
	assert_non_null(a = applysrv_new(&cfg));

	/* allow_apply = no (the default): refused, nothing kept */
	applysrv_remember(a, TOKEN, (struct sockaddr *)&agent, obs);
	req = request(TOKEN, "30000-30099");
	rep = applysrv_handle(a, &owner, (struct sockaddr *)&agent, req, &hold);
	assert_string_equal(result_reason(rep),
	    "allow_apply is no in the reflector's configuration");
	assert_int_equal(hold, 0);
	json_decref(rep);

	cfg.allow_apply = 1;
	rep = applysrv_handle(a, &owner, (struct sockaddr *)&agent, req, &hold);
	assert_non_null(strstr(result_reason(rep), "no fixes kept"));
	json_decref(rep);

	applysrv_remember(a, TOKEN, (struct sockaddr *)&agent, obs);
	/* another agent address than the one the fixes were derived for */
	rep = applysrv_handle(a, &owner, (struct sockaddr *)&other, req, &hold);
	assert_non_null(strstr(result_reason(rep), "another agent address"));
	json_decref(rep);
	json_decref(req);
	/* a run it derived no verified fix for */
	req = request(TOKEN, "21");
	rep = applysrv_handle(a, &owner, (struct sockaddr *)&agent, req, &hold);
	assert_non_null(strstr(result_reason(rep), "trace run 21-21"));
	json_decref(rep);
	json_decref(req);
	/* an unknown session */
	req = request(TOKEN2, "30000-30099");
	rep = applysrv_handle(a, &owner, (struct sockaddr *)&agent, req, &hold);
	assert_non_null(strstr(result_reason(rep), "no fixes kept"));
	json_decref(rep);
	json_decref(req);
	/* deciding without an apply */
	req = parse("{\"v\":1,\"type\":\"apply-confirm\"}");
	rep = applysrv_handle(a, &owner, (struct sockaddr *)&agent, req, &hold);
	assert_string_equal(proto_type(rep), "error");
	assert_string_equal(json_string_value(json_object_get(rep, "code")),
	    "unexpected");
	json_decref(rep);
	json_decref(req);
	/* a malformed request: an error frame, not a result */
	req = parse("{\"v\":1,\"type\":\"apply-request\",\"session\":\"x\"}");
	rep = applysrv_handle(a, &owner, (struct sockaddr *)&agent, req, &hold);
	assert_string_equal(proto_type(rep), "error");
	json_decref(rep);
	json_decref(req);
	applysrv_owner_gone(a, &owner);
	applysrv_free(a);
	json_decref(obs);
	config_release(&cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_round_trip),
		cmocka_unit_test(test_request_refused),
		cmocka_unit_test(test_request_too_many),
		cmocka_unit_test(test_result_round_trip),
		cmocka_unit_test(test_applysrv_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
