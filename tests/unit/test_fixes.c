/*
 * test_fixes.c - the agent's keeping of the server's fixes (fixes.c):
 * a trace record's fix with its if_auth_tls variant settles on the one
 * for what the FTP client saw, and the style keys come along.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fixes.h"

static const char *const record =
    "{\"host\": \"server\", \"file\": \"server.nft\", \"kind\": \"nftables\","
    " \"text\": \"HELPER\", \"verified\": true, \"verify_error\": null,"
    " \"style\": \"helper\", \"style_reason\": \"stateful\","
    " \"if_auth_tls\": {\"text\": \"PORTS\", \"verified\": true,"
    " \"verify_error\": null, \"style\": \"ports\","
    " \"style_reason\": \"AUTH TLS\"}}";

static struct fixes *fx;	/* the last settled(), freed by teardown */

static const struct evidence_fix *
settled(int tls)
{
	const struct evidence_fix *f;
	json_t *j;
	size_t n;

	fixes_free(fx);
	assert_non_null(fx = fixes_new());
	assert_non_null(j = json_loads(record, 0, NULL));
	assert_int_equal(fixes_take_server(fx, j, PROBE_PASSIVE, 30000,
	    30099), 0);
	json_decref(j);
	fixes_settle_tls(fx, tls);
	fixes_settle_tls(fx, !tls);	/* once settled, it stays */
	f = fixes_list(fx, &n);
	assert_int_equal(n, 1);
	return f;
}

static void
test_settle(void **state)
{
	const struct evidence_fix *f;

	(void)state;
	f = settled(0);
	assert_string_equal(f->text, "HELPER");
	assert_string_equal(f->style, "helper");
	assert_string_equal(f->style_reason, "stateful");
	assert_true(f->verified);
	assert_true(f->server);
	f = settled(1);
	assert_string_equal(f->text, "PORTS");
	assert_string_equal(f->style, "ports");
	assert_string_equal(f->style_reason, "AUTH TLS");
	assert_int_equal(f->lo, 30000);
	assert_int_equal(f->hi, 30099);
	assert_int_equal(f->kind, PROBE_PASSIVE);
}

static void
test_no_style(void **state)
{
	struct fixes *one;
	const struct evidence_fix *f;
	json_t *j;
	size_t n;

	(void)state;
	assert_non_null(one = fixes_new());
	/* control: no style; an unverified one keeps its reason */
	assert_non_null(j = json_loads("{\"text\": null, \"verified\": false,"
	    " \"verify_error\": \"nope\", \"style\": null, \"style_reason\":"
	    " null}", 0, NULL));
	assert_int_equal(fixes_take_server(one, j, PROBE_CONTROL, 21, 21), 0);
	json_decref(j);
	fixes_settle_tls(one, 1);
	f = fixes_list(one, &n);
	assert_int_equal(n, 1);
	assert_null(f->text);
	assert_false(f->verified);
	assert_string_equal(f->verify_error, "nope");
	assert_string_equal(f->style, "");
	assert_string_equal(f->style_reason, "");
	fixes_free(one);
	fixes_settle_tls(NULL, 1);
}

static int
teardown(void **state)
{
	(void)state;
	fixes_free(fx);
	fx = NULL;
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_settle),
		cmocka_unit_test(test_no_style),
	};

	return cmocka_run_group_tests(tests, NULL, teardown);
}
