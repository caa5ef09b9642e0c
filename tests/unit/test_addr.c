/*
 * test_addr.c - address parsing/printing, port ranges and port sets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "addr.h"
#include "err.h"
#include "testaddr.h"

static void
test_split_hostport(void **state)
{
	char host[64];
	uint16_t port;
	size_t i;
	static const struct {
		const char *in, *host;
		uint16_t port;
	} good[] = {
		{ "192.0.2.1", "192.0.2.1", 7021 },
		{ "192.0.2.1:21", "192.0.2.1", 21 },
		{ "ftp.example.com:2121", "ftp.example.com", 2121 },
		{ "ftp.example.com", "ftp.example.com", 7021 },
		{ "[2001:db8::1]:21", "2001:db8::1", 21 },
		{ "[2001:db8::1]", "2001:db8::1", 7021 },
		{ "2001:db8::1", "2001:db8::1", 7021 },
		{ "::", "::", 7021 },
		{ "[::]:65535", "::", 65535 },
		{ "[fe80::1%eth0]:1", "fe80::1%eth0", 1 },
	};
	static const char *const bad[] = {
		"", ":21", "[]:21", "[::1", "[::1]x", "[::1]:", "host:",
		"host:0", "host:65536", "host:-1", "host:+21", "host:21x",
		"host: 21", "[::1]:99999",
	};

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		port = 0;
		assert_int_equal(addr_split_hostport(good[i].in, 7021, host,
		    sizeof(host), &port), 0);
		assert_string_equal(host, good[i].host);
		assert_int_equal(port, good[i].port);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strcpy(host, "keep");
		port = 42;
		if (addr_split_hostport(bad[i], 7021, host, sizeof(host),
		    &port) != FTP_ERR_INVAL)
			fail_msg("accepted \"%s\"", bad[i]);
		/* Out-parameters untouched on failure. */
		assert_string_equal(host, "keep");
		assert_int_equal(port, 42);
	}
	/* Host longer than hostlen - 1. */
	assert_int_equal(addr_split_hostport("abcdefgh:21", 1, host, 8,
	    &port), FTP_ERR_INVAL);
	assert_int_equal(addr_split_hostport("abcdefg:21", 1, host, 8,
	    &port), 0);
	assert_string_equal(host, "abcdefg");
}

static void
test_parse_ip_ntop(void **state)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	char buf[ADDR_STRLEN];

	(void)state;
	assert_int_equal(addr_parse_ip("192.0.2.1", &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	assert_int_equal(addr_len((struct sockaddr *)&ss), len);
	assert_int_equal(addr_port((struct sockaddr *)&ss), 0);
	assert_string_equal(addr_ntop((struct sockaddr *)&ss, buf,
	    sizeof(buf)), "192.0.2.1");
	addr_set_port((struct sockaddr *)&ss, 21);
	assert_int_equal(addr_port((struct sockaddr *)&ss), 21);
	assert_string_equal(addr_ntop_port((struct sockaddr *)&ss, buf,
	    sizeof(buf)), "192.0.2.1:21");

	assert_int_equal(addr_parse_ip("2001:DB8:0::1", &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	assert_string_equal(addr_ntop((struct sockaddr *)&ss, buf,
	    sizeof(buf)), "2001:db8::1");
	addr_set_port((struct sockaddr *)&ss, 990);
	assert_string_equal(addr_ntop_port((struct sockaddr *)&ss, buf,
	    sizeof(buf)), "[2001:db8::1]:990");
	/* Too small a buffer gives "?" rather than a truncated address. */
	assert_string_equal(addr_ntop((struct sockaddr *)&ss, buf, 5), "?");

	assert_int_equal(addr_parse_ip("", &ss, &len), FTP_ERR_INVAL);
	assert_int_equal(addr_parse_ip("example.com", &ss, &len),
	    FTP_ERR_INVAL);
	assert_int_equal(addr_parse_ip("192.0.2", &ss, &len), FTP_ERR_INVAL);
	assert_int_equal(addr_parse_ip("192.0.2.256", &ss, &len),
	    FTP_ERR_INVAL);
	assert_int_equal(addr_parse_ip("[::1]", &ss, &len), FTP_ERR_INVAL);
	assert_int_equal(addr_parse_ip("192.0.2.1:21", &ss, &len),
	    FTP_ERR_INVAL);

	ss.ss_family = AF_UNIX;
	assert_string_equal(addr_ntop((struct sockaddr *)&ss, buf,
	    sizeof(buf)), "?");
	assert_int_equal(addr_len((struct sockaddr *)&ss), 0);
}

static void
test_equal_unmap(void **state)
{
	struct sockaddr_storage a, b, c;
	socklen_t len;
	char buf[ADDR_STRLEN];

	(void)state;
	assert_int_equal(addr_parse_ip("192.0.2.1", &a, &len), 0);
	assert_int_equal(addr_parse_ip("::ffff:192.0.2.1", &b, &len), 0);
	assert_int_equal(addr_parse_ip("192.0.2.2", &c, &len), 0);
	/* Ports do not matter, mapped form equals plain v4. */
	addr_set_port((struct sockaddr *)&a, 21);
	addr_set_port((struct sockaddr *)&b, 40000);
	assert_true(addr_equal((struct sockaddr *)&a, (struct sockaddr *)&b));
	assert_true(addr_equal((struct sockaddr *)&b, (struct sockaddr *)&a));
	assert_false(addr_equal((struct sockaddr *)&a,
	    (struct sockaddr *)&c));
	assert_false(addr_equal((struct sockaddr *)&b,
	    (struct sockaddr *)&c));

	addr_unmap(&b);
	assert_int_equal(b.ss_family, AF_INET);
	assert_int_equal(addr_port((struct sockaddr *)&b), 40000);
	assert_string_equal(addr_ntop((struct sockaddr *)&b, buf,
	    sizeof(buf)), "192.0.2.1");
	/* A real v6 address is left alone. */
	assert_int_equal(addr_parse_ip("2001:db8::1", &c, &len), 0);
	addr_unmap(&c);
	assert_int_equal(c.ss_family, AF_INET6);
	assert_false(addr_equal((struct sockaddr *)&a,
	    (struct sockaddr *)&c));
	assert_int_equal(addr_parse_ip("2001:db8::0:1", &b, &len), 0);
	assert_true(addr_equal((struct sockaddr *)&b, (struct sockaddr *)&c));
}

/* The display form: mapped v4 unmapped, a port only when asked and not
 * 0, "?" for what is no address. */
static void
test_text(void **state)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char buf[ADDR_STRLEN];

	(void)state;
	assert_int_equal(addr_parse_ip("::ffff:192.0.2.1", &ss, &len), 0);
	assert_string_equal(addr_text((struct sockaddr *)&ss, 1, buf,
	    sizeof(buf)), "192.0.2.1");
	addr_set_port((struct sockaddr *)&ss, 21);
	assert_string_equal(addr_text((struct sockaddr *)&ss, 1, buf,
	    sizeof(buf)), "192.0.2.1:21");
	assert_string_equal(addr_text((struct sockaddr *)&ss, 0, buf,
	    sizeof(buf)), "192.0.2.1");
	assert_int_equal(addr_parse_ip("2001:db8::1", &ss, &len), 0);
	addr_set_port((struct sockaddr *)&ss, 21);
	assert_string_equal(addr_text((struct sockaddr *)&ss, 1, buf,
	    sizeof(buf)), "[2001:db8::1]:21");
	assert_true(addr_is_inet((struct sockaddr *)&ss));
	memset(&ss, 0, sizeof(ss));
	assert_false(addr_is_inet((struct sockaddr *)&ss));
	assert_string_equal(addr_text((struct sockaddr *)&ss, 1, buf,
	    sizeof(buf)), "?");
	assert_false(addr_is_inet(NULL));
	assert_string_equal(addr_text(NULL, 0, buf, sizeof(buf)), "?");
	assert_int_equal(addr_parse_ip("198.51.100.7", &ss, &len), 0);
	assert_true(addr_is_inet((struct sockaddr *)&ss));
}

static void
test_resolve_numeric(void **state)
{
	struct sockaddr_storage out[4];
	char buf[ADDR_STRLEN];
	int n;

	(void)state;
	/* Numeric names only: no network in unit tests. */
	n = addr_resolve("192.0.2.7", 2121, out, 4);
	assert_int_equal(n, 1);
	assert_string_equal(addr_ntop_port((struct sockaddr *)&out[0], buf,
	    sizeof(buf)), "192.0.2.7:2121");
	n = addr_resolve("::1", 21, out, 4);
	assert_int_equal(n, 1);
	assert_string_equal(addr_ntop_port((struct sockaddr *)&out[0], buf,
	    sizeof(buf)), "[::1]:21");
	assert_true(addr_resolve("", 21, out, 4) < 0);
	assert_true(addr_resolve("::1", 21, out, 0) < 0);
}

static void
test_portrange(void **state)
{
	struct portrange r = { 7, 7 };
	size_t i;
	static const char *const bad[] = {
		"0", "65536", "0-10", "10-65536", "200-100", "1-", "-1", "-",
		"", "a-b", "1-2-3", " 1-2", "1 -2", "+1", "99999999999999999999",
	};

	(void)state;
	assert_int_equal(portrange_parse("1", &r), 0);
	assert_int_equal(r.lo, 1);
	assert_int_equal(r.hi, 1);
	assert_int_equal(portrange_count(&r), 1);
	assert_int_equal(portrange_parse("30000-30099", &r), 0);
	assert_int_equal(r.lo, 30000);
	assert_int_equal(r.hi, 30099);
	assert_int_equal(portrange_count(&r), 100);
	assert_int_equal(portrange_parse("1-65535", &r), 0);
	assert_int_equal(portrange_count(&r), 65535);
	assert_int_equal(portrange_parse("65535", &r), 0);
	assert_int_equal(r.lo, 65535);
	assert_int_equal(portrange_parse("21-21", &r), 0);
	assert_int_equal(portrange_count(&r), 1);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r.lo = 7;
		r.hi = 8;
		if (portrange_parse(bad[i], &r) == 0)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(r.lo, 7);
		assert_int_equal(r.hi, 8);
	}
	r.lo = 0;
	assert_int_equal(portrange_count(&r), 0);
}

static void
test_portset(void **state)
{
	struct portset *ps = portset_new();
	struct portrange r;
	char buf[128];

	(void)state;
	assert_non_null(ps);
	assert_int_equal(portset_count(ps), 0);
	assert_int_equal(portset_format(ps, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");

	assert_int_equal(portset_parse(ps, "21,20,30000-30099,30050-30100"),
	    0);
	assert_int_equal(portset_count(ps), 2 + 101);
	assert_true(portset_contains(ps, 20));
	assert_true(portset_contains(ps, 21));
	assert_false(portset_contains(ps, 22));
	assert_false(portset_contains(ps, 0));
	assert_true(portset_contains(ps, 30100));
	assert_false(portset_contains(ps, 30101));
	r.lo = 30000;
	r.hi = 30100;
	assert_true(portset_contains_range(ps, &r));
	r.hi = 30101;
	assert_false(portset_contains_range(ps, &r));
	assert_int_equal(portset_format(ps, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "20-21,30000-30100");
	assert_int_equal(portset_format(ps, buf, 10), FTP_ERR_TOOBIG);

	/* A bad item leaves the set unchanged. */
	assert_int_equal(portset_parse(ps, "22,0"), FTP_ERR_INVAL);
	assert_int_equal(portset_parse(ps, "22,"), FTP_ERR_INVAL);
	assert_int_equal(portset_parse(ps, ",22"), FTP_ERR_INVAL);
	assert_int_equal(portset_parse(ps, "22,,23"), FTP_ERR_INVAL);
	assert_int_equal(portset_parse(ps, ""), FTP_ERR_INVAL);
	assert_int_equal(portset_parse(ps, "22,100-50"), FTP_ERR_INVAL);
	assert_false(portset_contains(ps, 22));
	assert_int_equal(portset_count(ps), 103);

	/* Blanks around items, edges of the port space. */
	assert_int_equal(portset_parse(ps, " 1 , 65535"), 0);
	assert_true(portset_contains(ps, 1));
	assert_true(portset_contains(ps, 65535));
	assert_int_equal(portset_format(ps, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "1,20-21,30000-30100,65535");

	r.lo = 0;
	r.hi = 5;
	assert_int_equal(portset_add_range(ps, &r), FTP_ERR_INVAL);
	r.lo = 1;
	r.hi = 65535;
	assert_int_equal(portset_add_range(ps, &r), 0);
	assert_int_equal(portset_count(ps), 65535);
	assert_int_equal(portset_format(ps, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "1-65535");
	portset_free(ps);
	portset_free(NULL);
}

static void
test_cidr(void **state)
{
	static const char *const bad[] = { "198.51.100.0", "198.51.100.0/",
	    "198.51.100.0/0", "198.51.100.0/33", "198.51.100.0/24x",
	    "198.51.100.0/-1", "2001:db8::/129", "2001:db8::/0", "/24",
	    "example.org/24", "198.51.100/24", "fe80::1%lo/64",
	    "::ffff:198.51.100.0/120", "198.51.100.0/ 24", "" };
	struct sockaddr_storage net, a;
	unsigned pfx = 99;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(addr_cidr_parse(bad[i], &net, &pfx),
		    FTP_ERR_INVAL);
		assert_int_equal(pfx, 99);	/* untouched on failure */
	}
	assert_int_equal(addr_cidr_parse(NULL, &net, &pfx), FTP_ERR_INVAL);

	assert_int_equal(addr_cidr_parse("198.51.100.0/24", &net, &pfx), 0);
	assert_int_equal(pfx, 24);
	sa_set(&a, "198.51.100.3", 21);
	assert_true(addr_cidr_contains((struct sockaddr *)&net, pfx,
	    (struct sockaddr *)&a));
	sa_set(&a, "::ffff:198.51.100.200", 0);	/* a dual-stack view */
	assert_true(addr_cidr_contains((struct sockaddr *)&net, pfx,
	    (struct sockaddr *)&a));
	sa_set(&a, "198.51.101.3", 0);
	assert_false(addr_cidr_contains((struct sockaddr *)&net, pfx,
	    (struct sockaddr *)&a));
	sa_set(&a, "2001:db8::3", 0);		/* another family */
	assert_false(addr_cidr_contains((struct sockaddr *)&net, pfx,
	    (struct sockaddr *)&a));

	/* A prefix that is not a byte boundary; host bits as written. */
	assert_int_equal(addr_cidr_parse("203.0.113.77/27", &net, &pfx), 0);
	sa_set(&a, "203.0.113.95", 0);
	assert_true(addr_cidr_contains((struct sockaddr *)&net, pfx,
	    (struct sockaddr *)&a));
	sa_set(&a, "203.0.113.96", 0);
	assert_false(addr_cidr_contains((struct sockaddr *)&net, pfx,
	    (struct sockaddr *)&a));
	sa_set(&a, "203.0.113.63", 0);
	assert_false(addr_cidr_contains((struct sockaddr *)&net, pfx,
	    (struct sockaddr *)&a));

	assert_int_equal(addr_cidr_parse("2001:db8:1::/49", &net, &pfx), 0);
	assert_int_equal(pfx, 49);
	sa_set(&a, "2001:db8:1:7fff::1", 0);
	assert_true(addr_cidr_contains((struct sockaddr *)&net, pfx,
	    (struct sockaddr *)&a));
	sa_set(&a, "2001:db8:1:8000::1", 0);
	assert_false(addr_cidr_contains((struct sockaddr *)&net, pfx,
	    (struct sockaddr *)&a));
	assert_int_equal(addr_cidr_parse("2001:db8::2/128", &net, &pfx), 0);
	sa_set(&a, "2001:db8::2", 0);
	assert_true(addr_cidr_contains((struct sockaddr *)&net, pfx,
	    (struct sockaddr *)&a));
	assert_false(addr_cidr_contains((struct sockaddr *)&net, 129,
	    (struct sockaddr *)&a));
	assert_false(addr_cidr_contains(NULL, 24, (struct sockaddr *)&a));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_hostport),
		cmocka_unit_test(test_parse_ip_ntop),
		cmocka_unit_test(test_equal_unmap),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_resolve_numeric),
		cmocka_unit_test(test_portrange),
		cmocka_unit_test(test_portset),
		cmocka_unit_test(test_cidr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
