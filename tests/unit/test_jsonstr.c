/*
 * test_jsonstr.c - strings in and out of jansson values: a peer's field
 * of the wrong type or missing reads as the default, never as NULL.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "jsonstr.h"

static void
test_get(void **state)
{
	json_t *o = json_pack("{s:s, s:i}", "name", "vsftpd", "port", 21);

	(void)state;
	assert_non_null(o);
	assert_string_equal(jsonstr_get(o, "name", "-"), "vsftpd");
	assert_string_equal(jsonstr_get(o, "port", "-"), "-");
	assert_string_equal(jsonstr_get(o, "missing", ""), "");
	assert_string_equal(jsonstr_get(NULL, "name", "?"), "?");
	json_decref(o);
}

static void
test_copy(void **state)
{
	json_t *s = json_string("inet ftpath_trace input");
	json_t *i = json_integer(7);
	char buf[5];

	(void)state;
	assert_non_null(s);
	assert_non_null(i);
	jsonstr_copy(buf, sizeof(buf), s);
	assert_string_equal(buf, "inet");	/* truncated, terminated */
	memset(buf, 'x', sizeof(buf));
	jsonstr_copy(buf, sizeof(buf), i);
	assert_string_equal(buf, "");
	jsonstr_copy(buf, sizeof(buf), NULL);
	assert_string_equal(buf, "");
	json_decref(s);
	json_decref(i);
}

static void
test_or_null(void **state)
{
	json_t *j;

	(void)state;
	assert_true(json_is_null(jsonstr_or_null(NULL)));
	assert_true(json_is_null(jsonstr_or_null("")));
	assert_non_null(j = jsonstr_or_null("421 Too many"));
	assert_string_equal(json_string_value(j), "421 Too many");
	json_decref(j);
	/* not UTF-8: no value, so the caller's json_pack fails loudly */
	assert_null(jsonstr_or_null("\xff"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get),
		cmocka_unit_test(test_copy),
		cmocka_unit_test(test_or_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
