/*
 * test_ftpcmd.c - PORT/EPRT parsing, 227/229 formatting, the exact byte
 * escaping of the ALG transcripts, line splitting.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "addr.h"
#include "err.h"
#include "ftpcmd.h"
#include "testaddr.h"

static void
test_port(void **state)
{
	struct sockaddr_storage ss, want;

	(void)state;
	assert_int_equal(ftpcmd_parse_port("198,51,100,2,148,41", &ss), 0);
	sa_set(&want, "198.51.100.2", 148 * 256 + 41);
	assert_true(addr_equal((struct sockaddr *)&ss,
	    (struct sockaddr *)&want));
	assert_int_equal(addr_port((struct sockaddr *)&ss), 37929);
	assert_int_equal(ftpcmd_parse_port("198,51,100,256,1,1", &ss),
	    FTP_ERR_INVAL);
	assert_int_equal(ftpcmd_parse_port("198,51,100,2,1", &ss),
	    FTP_ERR_INVAL);
	assert_int_equal(ftpcmd_parse_port("198,51,100,2,1,1 ", &ss),
	    FTP_ERR_INVAL);
	assert_int_equal(ftpcmd_parse_port(" 198,51,100,2,1,1", &ss),
	    FTP_ERR_INVAL);
	assert_int_equal(ftpcmd_parse_port("", &ss), FTP_ERR_INVAL);
}

static void
test_eprt(void **state)
{
	struct sockaddr_storage ss, want;

	(void)state;
	assert_int_equal(ftpcmd_parse_eprt("|1|203.0.113.1|38159|", &ss), 0);
	sa_set(&want, "203.0.113.1", 38159);
	assert_true(addr_equal((struct sockaddr *)&ss,
	    (struct sockaddr *)&want));
	assert_int_equal(addr_port((struct sockaddr *)&ss), 38159);
	assert_int_equal(ftpcmd_parse_eprt("!2!2001:db8:1::2!50000!", &ss), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(addr_port((struct sockaddr *)&ss), 50000);
	/* family and address disagree */
	assert_int_equal(ftpcmd_parse_eprt("|2|203.0.113.1|1|", &ss),
	    FTP_ERR_INVAL);
	assert_int_equal(ftpcmd_parse_eprt("|1|203.0.113.1|70000|", &ss),
	    FTP_ERR_INVAL);
	assert_int_equal(ftpcmd_parse_eprt("|1|203.0.113.1|1", &ss),
	    FTP_ERR_INVAL);
	assert_int_equal(ftpcmd_parse_eprt("1|1|203.0.113.1|1|", &ss),
	    FTP_ERR_INVAL);
	assert_int_equal(ftpcmd_parse_eprt("|3|203.0.113.1|1|", &ss),
	    FTP_ERR_INVAL);
	assert_int_equal(ftpcmd_parse_eprt("||||", &ss), FTP_ERR_INVAL);
}

static void
test_format(void **state)
{
	struct sockaddr_storage ss;
	char buf[128];

	(void)state;
	sa_set(&ss, "203.0.113.2", 30000);
	assert_int_equal(ftpcmd_format_227((struct sockaddr *)&ss, buf,
	    sizeof(buf)), 0);
	assert_string_equal(buf,
	    "227 Entering Passive Mode (203,0,113,2,117,48).\r\n");
	sa_set(&ss, "2001:db8:2::2", 30000);
	assert_int_equal(ftpcmd_format_227((struct sockaddr *)&ss, buf,
	    sizeof(buf)), FTP_ERR_INVAL);
	assert_int_equal(ftpcmd_format_229(30000, buf, sizeof(buf)), 0);
	assert_string_equal(buf,
	    "229 Entering Extended Passive Mode (|||30000|)\r\n");
	assert_int_equal(ftpcmd_format_229(30000, buf, 10), FTP_ERR_TOOBIG);
}

static void
test_escape_round_trip(void **state)
{
	unsigned char in[256], back[256];
	char esc[256 * 4 + 1];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)i;
	assert_int_equal(ftpcmd_escape(in, sizeof(in), esc, sizeof(esc)), 0);
	for (i = 0; esc[i] != '\0'; i++)
		assert_true(esc[i] >= 0x20 && esc[i] < 0x7f);
	assert_int_equal(ftpcmd_unescape(esc, back, sizeof(back), &n), 0);
	assert_int_equal(n, sizeof(in));
	assert_memory_equal(in, back, sizeof(in));
	assert_int_equal(ftpcmd_escape("PORT 1\\2\r\n", 10, esc, sizeof(esc)),
	    0);
	assert_string_equal(esc, "PORT 1\\\\2\\r\\n");
	/* too small: truncated, well-formed, reported */
	assert_int_equal(ftpcmd_escape("\r\n", 2, esc, 4), FTP_ERR_TOOBIG);
	assert_string_equal(esc, "\\r");
}

/* The JSON form holds every byte, a NUL and non-UTF-8 included. */
static void
test_escape_json(void **state)
{
	json_t *j;

	(void)state;
	assert_non_null(j = ftpcmd_escape_json("227 \xff\0x\r\n", 9));
	assert_string_equal(json_string_value(j), "227 \\xff\\x00x\\r\\n");
	json_decref(j);
	assert_non_null(j = ftpcmd_escape_json("", 0));
	assert_string_equal(json_string_value(j), "");
	json_decref(j);
}

static void
test_unescape_bad(void **state)
{
	char out[16];
	size_t n;

	(void)state;
	assert_int_equal(ftpcmd_unescape("\\q", out, sizeof(out), &n),
	    FTP_ERR_INVAL);
	assert_int_equal(ftpcmd_unescape("\\x4", out, sizeof(out), &n),
	    FTP_ERR_INVAL);
	assert_int_equal(ftpcmd_unescape("\\xZZ", out, sizeof(out), &n),
	    FTP_ERR_INVAL);
	assert_int_equal(ftpcmd_unescape("a\tb", out, sizeof(out), &n),
	    FTP_ERR_INVAL);
	assert_int_equal(ftpcmd_unescape("\\", out, sizeof(out), &n),
	    FTP_ERR_INVAL);
	assert_int_equal(ftpcmd_unescape("abc", out, 2, &n), FTP_ERR_TOOBIG);
}

static void
test_lines(void **state)
{
	const char *buf = "PASV\r\nEPSV\nQUI";
	const char *l;
	size_t off = 0, ll;
	int complete;

	(void)state;
	assert_int_equal(ftpcmd_next_line(buf, strlen(buf), &off, &l, &ll,
	    &complete), 0);
	assert_int_equal(ll, 4);
	assert_memory_equal(l, "PASV", 4);
	assert_true(complete);
	assert_int_equal(ftpcmd_next_line(buf, strlen(buf), &off, &l, &ll,
	    &complete), 0);
	assert_memory_equal(l, "EPSV", 4);
	assert_int_equal(ll, 4);
	assert_int_equal(ftpcmd_next_line(buf, strlen(buf), &off, &l, &ll,
	    &complete), 0);
	assert_false(complete);
	assert_int_equal(ll, 3);
	assert_int_equal(ftpcmd_next_line(buf, strlen(buf), &off, &l, &ll,
	    &complete), FTP_ERR_AGAIN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_port),
		cmocka_unit_test(test_eprt),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_escape_round_trip),
		cmocka_unit_test(test_escape_json),
		cmocka_unit_test(test_unescape_bad),
		cmocka_unit_test(test_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
