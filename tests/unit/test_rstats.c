/*
 * test_rstats.c - the reflector's counters and their exposition.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rstats.h"

static void
extra(FILE *fp, void *arg)
{
	fprintf(fp, "extra_series %d\n", *(int *)arg);
}

/* Each counter where the exposition says; the gauge is started - ended;
 * every reason is listed, counted or not; the caller's series last. */
/* The retry hint follows the sessions' mean duration, bounded. */
static void
test_retry_after(void **state)
{
	unsigned i;

	(void)state;
	rstats_init();
	rstats_session_ended(2000);
	assert_int_equal(rstats_retry_after_ms(), 2000);
	rstats_session_ended(10000);
	assert_int_equal(rstats_retry_after_ms(), 3000);
	for (i = 0; i < 100; i++)
		rstats_session_ended(600000);
	assert_int_equal(rstats_retry_after_ms(), RSTATS_RETRY_MAX_MS);
}

static void
test_render(void **state)
{
	char *t;
	int x = 7;

	(void)state;
	rstats_init();
	rstats_session_started();
	rstats_session_started();
	assert_int_equal(rstats_retry_after_ms(), 1000);
	rstats_session_ended(100);
	assert_int_equal(rstats_retry_after_ms(), RSTATS_RETRY_MIN_MS);
	rstats_refused(RSTATS_NOT_ALLOWED);
	rstats_refused(RSTATS_TLS_FAILED);
	rstats_refused(RSTATS_TLS_FAILED);
	rstats_refused(RSTATS_NREFUSALS);	/* ignored */
	rstats_trace_incomplete();
	rstats_foreign();
	rstats_reload(1);
	rstats_reload(0);
	rstats_reload(0);
	t = rstats_render(extra, &x);
	assert_non_null(t);
	assert_non_null(strstr(t, "\nftpath_reflector_sessions 1\n"));
	assert_non_null(strstr(t, "\nftpath_reflector_sessions_total 2\n"));
	assert_non_null(strstr(t, "ftpath_reflector_refusals_total"
	    "{reason=\"not-allowed\"} 1\n"));
	assert_non_null(strstr(t, "ftpath_reflector_refusals_total"
	    "{reason=\"tls-failed\"} 2\n"));
	assert_non_null(strstr(t, "ftpath_reflector_refusals_total"
	    "{reason=\"too-many-sessions\"} 0\n"));
	assert_non_null(strstr(t, "\nftpath_reflector_trace_incomplete_total "
	    "1\n"));
	assert_non_null(strstr(t, "\nftpath_reflector_foreign_connections_total"
	    " 1\n"));
	assert_non_null(strstr(t, "ftpath_reflector_reloads_total"
	    "{result=\"failed\"} 2\n"));
	assert_non_null(strstr(t, "# TYPE ftpath_reflector_sessions gauge\n"));
	assert_string_equal(t + strlen(t) - strlen("extra_series 7\n"),
	    "extra_series 7\n");
	free(t);
	rstats_init();
	t = rstats_render(NULL, NULL);
	assert_non_null(strstr(t, "\nftpath_reflector_sessions_total 0\n"));
	free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_retry_after),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
