/*
 * test_copypool.c - copies that live as long as their pool: a copy is
 * equal to what was kept, independent of it, and equal records in a row
 * are kept once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "copypool.h"

struct rec {
	int n;
	char text[24];
};

static void
test_copy_is_independent(void **state)
{
	struct copypool *cp = copypool_new();
	struct rec r = { 0 };
	const struct rec *k;
	char buf[16];
	const char *s;

	(void)state;
	assert_non_null(cp);
	r.n = 7;
	snprintf(r.text, sizeof(r.text), "drop");
	assert_non_null(k = copypool_bytes(cp, &r, sizeof(r)));
	assert_ptr_not_equal(k, &r);
	r.n = 8;
	snprintf(r.text, sizeof(r.text), "reject");
	assert_int_equal(k->n, 7);
	assert_string_equal(k->text, "drop");

	snprintf(buf, sizeof(buf), "ENOBUFS");
	assert_non_null(s = copypool_str(cp, buf));
	buf[0] = 'x';
	assert_string_equal(s, "ENOBUFS");
	assert_null(copypool_str(cp, NULL));
	copypool_free(cp);
}

static void
test_equal_kept_once(void **state)
{
	struct copypool *cp = copypool_new();
	const char *a, *b, *c, *again;

	(void)state;
	assert_non_null(cp);
	a = copypool_str(cp, "EPERM");
	b = copypool_str(cp, "EPERM");
	assert_ptr_equal(a, b);
	c = copypool_str(cp, "EPERM: no CAP_NET_ADMIN");
	assert_ptr_not_equal(a, c);
	again = copypool_str(cp, "EPERM");
	assert_ptr_equal(a, again);
	/* a prefix is another string */
	assert_ptr_not_equal(copypool_str(cp, "EPER"), a);
	copypool_free(cp);
}

/* Beyond the recent ones an equal record is kept again: still a right
 * copy, only not shared. */
static void
test_many_distinct(void **state)
{
	struct copypool *cp = copypool_new();
	const char *first, *later;
	char buf[32];
	int i;

	(void)state;
	assert_non_null(cp);
	assert_non_null(first = copypool_str(cp, "rule 0"));
	for (i = 1; i < 1000; i++) {
		snprintf(buf, sizeof(buf), "rule %d", i);
		assert_string_equal(copypool_str(cp, buf), buf);
	}
	assert_non_null(later = copypool_str(cp, "rule 0"));
	assert_string_equal(later, "rule 0");
	assert_string_equal(first, "rule 0");
	copypool_free(cp);
	copypool_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copy_is_independent),
		cmocka_unit_test(test_equal_kept_once),
		cmocka_unit_test(test_many_distinct),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
