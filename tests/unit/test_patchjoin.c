/*
 * test_patchjoin.c - several patches for one host as one batch
 * (nft/patchjoin.h): repeated object definitions once, every rule kept.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "patchjoin.h"

static void
test_join(void **state)
{
	const char *a =
	    "# first\n"
	    "add ct helper inet filter ftp-standard { type \"ftp\" protocol tcp; }\n"
	    "add chain inet filter ftp_helper_pre { type filter hook prerouting priority filter; }\n"
	    "add rule inet filter ftp_helper_pre ip saddr 198.51.100.2 tcp dport 21 ct helper set \"ftp-standard\"\n"
	    "insert rule inet filter input handle 4 ip saddr 198.51.100.2 tcp dport 21 accept\n";
	const char *b =
	    "# second\n"
	    "add ct helper inet filter ftp-standard { type \"ftp\" protocol tcp; }\n"
	    "add chain inet filter ftp_helper_pre { type filter hook prerouting priority filter; }\n"
	    "add rule inet filter ftp_helper_pre ip saddr 198.51.100.2 tcp dport 21 ct helper set \"ftp-standard\"\n"
	    "add rule inet filter input ip saddr 198.51.100.2 tcp dport 30000-30099 accept";
	const char *const in[] = { a, b };
	char *out = NULL;

	(void)state;
	assert_int_equal(patchjoin(in, 2, &out), 0);
	assert_string_equal(out,
	    "# first\n"
	    "add ct helper inet filter ftp-standard { type \"ftp\" protocol tcp; }\n"
	    "add chain inet filter ftp_helper_pre { type filter hook prerouting priority filter; }\n"
	    "add rule inet filter ftp_helper_pre ip saddr 198.51.100.2 tcp dport 21 ct helper set \"ftp-standard\"\n"
	    "insert rule inet filter input handle 4 ip saddr 198.51.100.2 tcp dport 21 accept\n"
	    "# second\n"
	    "add rule inet filter ftp_helper_pre ip saddr 198.51.100.2 tcp dport 21 ct helper set \"ftp-standard\"\n"
	    "add rule inet filter input ip saddr 198.51.100.2 tcp dport 30000-30099 accept\n");
	free(out);
	assert_int_equal(patchjoin(in, 0, &out), 0);
	assert_string_equal(out, "");
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_join),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
