/*
 * test_owners.c - listening ports from /proc/net/tcp{,6} lines.
 *
 * The lines are as a little-endian host prints them (the kernel writes
 * each 32-bit address word as loaded in host order); the parser undoes
 * that whatever the host, and these cases run where the text is known.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "err.h"
#include "owners.h"

#define REST	" 00000000:00000000 00:00000000 00000000     0        0 4242 1 " \
		"0000000000000000 100 0 0 10 0\n"

static void
test_header_and_listeners(void **state)
{
	struct owners o;

	(void)state;
	memset(&o, 0, sizeof(o));
	assert_int_equal(owners_parse_line(&o, "  sl  local_address rem_address"
	    "   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
	    "inode\n", 0), 0);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* 0.0.0.0:21 listening: the FTP server */
	assert_int_equal(owners_parse_line(&o,
	    "   0: 00000000:0015 00000000:0000 0A" REST, 0), 1);
	/* 203.0.113.2:30005 listening (vsftpd's PASV socket) */
	assert_int_equal(owners_parse_line(&o,
	    "   1: 027100CB:7535 00000000:0000 0A" REST, 0), 1);
	/* 127.0.0.1:40000 listening: loopback only, does not count */
	assert_int_equal(owners_parse_line(&o,
	    "   2: 0100007F:9C40 00000000:0000 0A" REST, 0), 0);
	/* an established connection on 7021 is no listener */
	assert_int_equal(owners_parse_line(&o,
	    "   3: 027100CB:1B6D 026433C6:D2F0 01" REST, 0), 0);
	assert_true(owners_listening(&o, 21));
	assert_true(owners_listening(&o, 30005));
	assert_false(owners_listening(&o, 40000));
	assert_false(owners_listening(&o, 7021));
	assert_false(owners_listening(&o, 20));
#endif
}

static void
test_ipv6(void **state)
{
	struct owners o;

	(void)state;
	memset(&o, 0, sizeof(o));
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* [::]:21 */
	assert_int_equal(owners_parse_line(&o, "   0: "
	    "00000000000000000000000000000000:0015 "
	    "00000000000000000000000000000000:0000 0A" REST, 1), 1);
	/* [::1]:7000: loopback */
	assert_int_equal(owners_parse_line(&o, "   1: "
	    "00000000000000000000000001000000:1B58 "
	    "00000000000000000000000000000000:0000 0A" REST, 1), 0);
	/* [::ffff:127.0.0.1]:7001: v4-mapped loopback */
	assert_int_equal(owners_parse_line(&o, "   2: "
	    "0000000000000000FFFF00000100007F:1B59 "
	    "00000000000000000000000000000000:0000 0A" REST, 1), 0);
	/* [2001:db8:2::2]:2121 */
	assert_int_equal(owners_parse_line(&o, "   3: "
	    "B80D0120020000000000000002000000:0849 "
	    "00000000000000000000000000000000:0000 0A" REST, 1), 1);
	assert_true(owners_listening(&o, 21));
	assert_true(owners_listening(&o, 2121));
	assert_false(owners_listening(&o, 7000));
	assert_false(owners_listening(&o, 7001));
#endif
}

static void
test_malformed(void **state)
{
	struct owners o;

	(void)state;
	memset(&o, 0, sizeof(o));
	assert_int_equal(owners_parse_line(&o, "", 0), FTP_ERR_INVAL);
	assert_int_equal(owners_parse_line(&o, "garbage\n", 0), FTP_ERR_INVAL);
	/* a v6 address given to the v4 parser */
	assert_int_equal(owners_parse_line(&o, "   0: "
	    "00000000000000000000000000000000:0015 "
	    "00000000000000000000000000000000:0000 0A" REST, 0),
	    FTP_ERR_INVAL);
	/* a short address */
	assert_int_equal(owners_parse_line(&o,
	    "   0: 0000:0015 00000000:0000 0A" REST, 0), FTP_ERR_INVAL);
}

/* The real tables of the test's own namespace read without error. */
static void
test_scan(void **state)
{
	struct owners o;

	(void)state;
	assert_int_equal(owners_scan(&o), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_and_listeners),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_scan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
