/*
 * test_ftpcheck.c - the pure parts of agent/ftpcheck.c: FTP reply
 * reassembly, 227/229 parsing, PORT/EPRT formatting.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>
#include <event2/event.h>

#include "err.h"
#include "ftpcheck.h"

static int
parse(const char *s, size_t *used, struct ftpcheck_reply *r)
{
	return ftpcheck_reply_parse(s, strlen(s), used, r);
}

static void
test_reply_single(void **state)
{
	struct ftpcheck_reply r;
	size_t used;

	(void)state;
	assert_int_equal(parse("220 (vsFTPd 3.0.5)\r\n", &used, &r), 1);
	assert_int_equal(r.code, 220);
	assert_int_equal(r.nlines, 1);
	assert_string_equal(r.text, "220 (vsFTPd 3.0.5)");
	assert_int_equal(used, 20);

	/* bare LF, bare code, and a second reply left in the buffer */
	assert_int_equal(parse("200\n331 next\r\n", &used, &r), 1);
	assert_int_equal(r.code, 200);
	assert_string_equal(r.text, "200");
	assert_int_equal(used, 4);

	assert_int_equal(parse("421 There are too many connections from "
	    "your internet address.\r\n", &used, &r), 1);
	assert_int_equal(r.code, 421);
	assert_string_equal(r.text, "421 There are too many connections "
	    "from your internet address.");
}

static void
test_reply_multi(void **state)
{
	struct ftpcheck_reply r;
	size_t used;
	const char *m = "220-Welcome\r\n"
	    "  indented line\r\n"
	    "220-still going\r\n"
	    "230 another code inside\r\n"
	    "220 done\r\n"
	    "331 rest\r\n";

	(void)state;
	assert_int_equal(parse(m, &used, &r), 1);
	assert_int_equal(r.code, 220);
	assert_int_equal(r.nlines, 5);
	assert_string_equal(r.text, "220-Welcome\n  indented line\n"
	    "220-still going\n230 another code inside\n220 done");
	assert_int_equal(used, strlen(m) - strlen("331 rest\r\n"));

	/* non-printable bytes are masked */
	assert_int_equal(parse("220 a\tb\x01\xff\r\n", &used, &r), 1);
	assert_string_equal(r.text, "220 a?b??");
}

static void
test_reply_truncated(void **state)
{
	struct ftpcheck_reply r;
	size_t used = 99;

	(void)state;
	assert_int_equal(parse("", &used, &r), 0);
	assert_int_equal(parse("220 no end", &used, &r), 0);
	assert_int_equal(parse("220-first\r\n220-second\r\n", &used, &r), 0);
	assert_int_equal(parse("220-first\r\n220 las", &used, &r), 0);
	assert_int_equal(used, 99);	/* untouched unless complete */
}

static void
test_reply_garbage(void **state)
{
	struct ftpcheck_reply r;
	struct ftpcheck_rparser p;
	size_t used, i;
	char *big;
	static const char *const bad[] = {
		"hello\r\n", "22\r\n", "2200 x\r\n", "220x\r\n", "620 x\r\n",
		"020 x\r\n", " 220 x\r\n", "\r\n", "abc 220\r\n",
	};

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse(bad[i], &used, &r), FTP_ERR_PROTO);

	/* a line over the limit, with and without its end */
	big = malloc(FTPCHECK_LINE_MAX + 16);
	assert_non_null(big);
	memset(big, 'x', FTPCHECK_LINE_MAX + 8);
	memcpy(big, "220 ", 4);
	big[FTPCHECK_LINE_MAX + 8] = '\0';
	assert_int_equal(parse(big, &used, &r), FTP_ERR_TOOBIG);
	memcpy(big + FTPCHECK_LINE_MAX + 8, "\r\n", 3);
	assert_int_equal(parse(big, &used, &r), FTP_ERR_TOOBIG);
	/* exactly at the limit is fine, text truncated to what is kept */
	memcpy(big + FTPCHECK_LINE_MAX, "\r\n", 3);
	assert_int_equal(parse(big, &used, &r), 1);
	assert_int_equal(r.code, 220);
	assert_int_equal(strlen(r.text), FTPCHECK_TEXT_MAX - 1);
	assert_int_equal(r.truncated, 1);
	free(big);

	/* endless multi-line reply */
	ftpcheck_rparser_init(&p);
	assert_int_equal(ftpcheck_rparser_feed(&p, "220-x", 5, &r), 0);
	for (i = 1; i < FTPCHECK_REPLY_LINES_MAX; i++)
		assert_int_equal(ftpcheck_rparser_feed(&p, "more", 4, &r), 0);
	assert_int_equal(ftpcheck_rparser_feed(&p, "220 end", 7, &r),
	    FTP_ERR_TOOBIG);
}

static void
test_reply_long_multi_truncates(void **state)
{
	struct ftpcheck_rparser p;
	struct ftpcheck_reply r;
	char line[200];
	int i;

	(void)state;
	ftpcheck_rparser_init(&p);
	memset(line, 'y', sizeof(line));
	assert_int_equal(ftpcheck_rparser_feed(&p, "230-hi", 6, &r), 0);
	for (i = 0; i < 20; i++)
		assert_int_equal(ftpcheck_rparser_feed(&p, line, sizeof(line),
		    &r), 0);
	assert_int_equal(ftpcheck_rparser_feed(&p, "230 ok", 6, &r), 1);
	assert_int_equal(r.code, 230);
	assert_int_equal(r.truncated, 1);
	assert_true(strlen(r.text) < FTPCHECK_TEXT_MAX);
}

static void
check_227(const char *text, const char *addr, unsigned port)
{
	struct sockaddr_in sin;
	char buf[INET_ADDRSTRLEN];

	assert_int_equal(ftpcheck_parse_227(text, &sin), 0);
	assert_int_equal(sin.sin_family, AF_INET);
	inet_ntop(AF_INET, &sin.sin_addr, buf, sizeof(buf));
	assert_string_equal(buf, addr);
	assert_int_equal(ntohs(sin.sin_port), port);
}

static void
test_227(void **state)
{
	struct sockaddr_in sin;
	size_t i;
	static const char *const bad[] = {
		"227 Entering Passive Mode", "227 (1,2,3,4,5)",
		"227 (256,1,1,1,1,1)", "227 (1,2,3,4,5,256)",
		"227 (1,2,3,4,0,0)", "227 (1,2,3,4,5,)", "227 (1,,3,4,5,6)",
		"227 (1000,2,3,4,5,6)", "227 (1,2,3,4,5,6000)", "", "227",
		"227 (1.2.3.4,5,6)",
	};

	(void)state;
	check_227("227 Entering Passive Mode (203,0,113,2,117,48).",
	    "203.0.113.2", 30000);
	check_227("227 Entering Passive Mode (192,0,2,99,117,49)",
	    "192.0.2.99", 30001);
	/* no parentheses; text before and after */
	check_227("227 =198,51,100,10,4,1 ok", "198.51.100.10", 1025);
	/* the first valid group wins; a bad group first is skipped */
	check_227("227 (300,1,1,1,1,1) (198,51,100,1,0,21)", "198.51.100.1", 21);
	check_227("227 (0,0,0,0,255,255)", "0.0.0.0", 65535);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ftpcheck_parse_227(bad[i], &sin),
		    FTP_ERR_INVAL);
}

static void
test_229(void **state)
{
	uint16_t port = 0;
	size_t i;
	static const char *const bad[] = {
		"229 Entering Extended Passive Mode", "229 (||30000|)",
		"229 (|||30000)", "229 (|||0|)", "229 (|||65536|)",
		"229 (|||123456|)", "229 (|||port|)", "229 (1113000001)",
		"229 (|!|30000|)", "229 (|||30000!)", "229 (|||", "229 (",
		"229 (   30000 )",
	};

	(void)state;
	assert_int_equal(ftpcheck_parse_229(
	    "229 Entering Extended Passive Mode (|||30000|)", &port), 0);
	assert_int_equal(port, 30000);
	assert_int_equal(ftpcheck_parse_229("229 (!!!65535!)", &port), 0);
	assert_int_equal(port, 65535);
	assert_int_equal(ftpcheck_parse_229("229 x (nope) (|||21|).", &port),
	    0);
	assert_int_equal(port, 21);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ftpcheck_parse_229(bad[i], &port),
		    FTP_ERR_INVAL);
}

static void
test_port_eprt(void **state)
{
	struct sockaddr_in s4;
	struct sockaddr_in6 s6;
	char buf[128];

	(void)state;
	memset(&s4, 0, sizeof(s4));
	s4.sin_family = AF_INET;
	s4.sin_port = htons(40001);
	inet_pton(AF_INET, "198.51.100.2", &s4.sin_addr);
	assert_int_equal(ftpcheck_format_port((struct sockaddr *)&s4, buf,
	    sizeof(buf)), 0);
	assert_string_equal(buf, "PORT 198,51,100,2,156,65");
	assert_int_equal(ftpcheck_format_eprt((struct sockaddr *)&s4, buf,
	    sizeof(buf)), 0);
	assert_string_equal(buf, "EPRT |1|198.51.100.2|40001|");
	/* too small a buffer */
	assert_int_equal(ftpcheck_format_port((struct sockaddr *)&s4, buf,
	    10), FTP_ERR_TOOBIG);
	assert_int_equal(ftpcheck_format_eprt((struct sockaddr *)&s4, buf,
	    27), FTP_ERR_TOOBIG);

	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	s6.sin6_port = htons(21);
	inet_pton(AF_INET6, "2001:db8:1::2", &s6.sin6_addr);
	assert_int_equal(ftpcheck_format_eprt((struct sockaddr *)&s6, buf,
	    sizeof(buf)), 0);
	assert_string_equal(buf, "EPRT |2|2001:db8:1::2|21|");
	assert_int_equal(ftpcheck_format_port((struct sockaddr *)&s6, buf,
	    sizeof(buf)), FTP_ERR_INVAL);
	/* link-local: the scope is dropped */
	inet_pton(AF_INET6, "fe80::1", &s6.sin6_addr);
	s6.sin6_scope_id = 2;
	assert_int_equal(ftpcheck_format_eprt((struct sockaddr *)&s6, buf,
	    sizeof(buf)), 0);
	assert_string_equal(buf, "EPRT |2|fe80::1|21|");
	/* v4-mapped counts as IPv4 */
	inet_pton(AF_INET6, "::ffff:192.0.2.1", &s6.sin6_addr);
	assert_int_equal(ftpcheck_format_port((struct sockaddr *)&s6, buf,
	    sizeof(buf)), 0);
	assert_string_equal(buf, "PORT 192,0,2,1,0,21");
	assert_int_equal(ftpcheck_format_eprt((struct sockaddr *)&s6, buf,
	    sizeof(buf)), 0);
	assert_string_equal(buf, "EPRT |1|192.0.2.1|21|");
}

static void
test_addr_private(void **state)
{
	struct sockaddr_in s4;
	struct sockaddr_in6 s6;
	size_t i;
	/*
	 * Classification inputs only, never dialled: the function exists to
	 * recognise private and special ranges in a server's 227 reply, so
	 * the table must name them; traffic in the tests stays on
	 * documentation ranges.
	 */
	static const struct {
		const char *a;
		int priv;
	} v4[] = {
		{ "10.1.2.3", 1 }, { "172.16.0.1", 1 }, { "172.31.255.1", 1 },
		{ "172.32.0.1", 0 }, { "192.168.5.5", 1 }, { "100.64.0.1", 1 },
		{ "100.128.0.1", 0 }, { "127.0.0.1", 1 }, { "169.254.1.1", 1 },
		{ "0.0.0.0", 1 }, { "203.0.113.2", 0 }, { "192.0.2.99", 0 },
	}, v6[] = {
		{ "::1", 1 }, { "::", 1 }, { "fe80::1", 1 }, { "fd00::1", 1 },
		{ "2001:db8::1", 0 }, { "::ffff:10.0.0.1", 1 },
		{ "::ffff:203.0.113.2", 0 },
	};

	(void)state;
	for (i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
		memset(&s4, 0, sizeof(s4));
		s4.sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, v4[i].a, &s4.sin_addr), 1);
		assert_int_equal(ftpcheck_addr_private((struct sockaddr *)&s4),
		    v4[i].priv);
	}
	for (i = 0; i < sizeof(v6) / sizeof(v6[0]); i++) {
		memset(&s6, 0, sizeof(s6));
		s6.sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, v6[i].a, &s6.sin6_addr),
		    1);
		assert_int_equal(ftpcheck_addr_private((struct sockaddr *)&s6),
		    v6[i].priv);
	}
}

static void
test_new_rejects(void **state)
{
	struct sockaddr_in s4;
	struct ftpcheck_opts o;
	struct event_base *base;

	(void)state;
	memset(&s4, 0, sizeof(s4));
	s4.sin_family = AF_INET;
	s4.sin_port = htons(21);
	memset(&o, 0, sizeof(o));
	o.user = "anonymous\r\nDELE x";
	base = event_base_new();
	/* no base, CR/LF in a command argument, no port */
	assert_non_null(base);
	assert_null(ftpcheck_new(NULL, (struct sockaddr *)&s4, &o));
	assert_null(ftpcheck_new(base, (struct sockaddr *)&s4, &o));
	o.user = NULL;
	o.path = "file\nQUIT";
	assert_null(ftpcheck_new(base, (struct sockaddr *)&s4, &o));
	s4.sin_port = 0;
	assert_null(ftpcheck_new(base, (struct sockaddr *)&s4, NULL));
	event_base_free(base);
	ftpcheck_free(NULL);
	assert_string_equal(ftpcheck_mode_name(FTPCHECK_EPRT), "EPRT");
	assert_string_equal(ftpcheck_mode_name(FTPCHECK_NMODES), "?");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reply_single),
		cmocka_unit_test(test_reply_multi),
		cmocka_unit_test(test_reply_truncated),
		cmocka_unit_test(test_reply_garbage),
		cmocka_unit_test(test_reply_long_multi_truncates),
		cmocka_unit_test(test_227),
		cmocka_unit_test(test_229),
		cmocka_unit_test(test_port_eprt),
		cmocka_unit_test(test_addr_private),
		cmocka_unit_test(test_new_rejects),
	};

	return cmocka_run_group_tests_name("ftpcheck", tests, NULL, NULL);
}
