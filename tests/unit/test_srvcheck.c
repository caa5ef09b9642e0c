/*
 * test_srvcheck.c - the server host's facts: the reflector's welcome
 * additions (hostinfo.c) read back by the agent (srvcheck.c), and the
 * pure decisions: clock-skew, server-side DNAT, hosts-file lines,
 * dns-mismatch, pasv-address (settings merged with the 227) and the
 * limit behind a 421.
 *
 * Documentation addresses: the server host 203.0.113.2 (2001:db8:2::2),
 * its public port-forwarded address 192.0.2.10, a wrong name target
 * 192.0.2.77.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "ftpconf.h"
#include "hostinfo.h"
#include "report.h"
#include "srvcheck.h"
#include "testaddr.h"

#define SA(ss)	((const struct sockaddr *)(ss))

/* A welcome as hostinfo.c builds it from a vsftpd.conf text. */
static json_t *
welcome_for(const char *conf)
{
	struct ftpconf *cf = ftpconf_new();
	json_t *w = json_object(), *ftp;
	char err[256];

	assert_non_null(cf);
	assert_int_equal(ftpconf_parse(cf, FTPCONF_VSFTPD, "vsftpd.conf",
	    conf, strlen(conf), err, sizeof(err)), 0);
	ftp = hostinfo_ftp_json(cf, "/etc/vsftpd.conf");
	assert_non_null(ftp);
	json_object_set_new(w, "ftp_server", ftp);
	json_object_set_new(w, "addresses", json_pack("[s,s,s]", "127.0.0.1",
	    "203.0.113.2", "2001:db8:2::2"));
	json_object_set_new(w, "time_ms", json_integer(1700000000000LL));
	ftpconf_free(cf);
	return w;
}

static void
host_for(const char *conf, struct srvcheck_host *h)
{
	json_t *w = welcome_for(conf);

	srvcheck_host_parse(w, h);
	json_decref(w);
}

static void
test_welcome_roundtrip(void **state)
{
	struct srvcheck_host h;
	struct sockaddr_storage a;
	char buf[128];
	json_t *w;

	(void)state;
	w = welcome_for("listen=YES\npasv_address=203.0.113.2\n"
	    "max_per_ip=1\n");
	/* what goes on the wire */
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    json_object_get(json_object_get(w, "ftp_server"), "settings"),
	    "pasv_address"), "text")), "pasv_address=203.0.113.2");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    json_object_get(json_object_get(w, "ftp_server"), "settings"),
	    "max_per_ip"), "line")), 3);
	assert_true(json_is_null(json_object_get(json_object_get(
	    json_object_get(json_object_get(w, "ftp_server"), "settings"),
	    "max_clients"), "line")));
	srvcheck_host_parse(w, &h);
	json_decref(w);
	assert_true(h.have_addrs);
	assert_int_equal(h.n_addrs, 3);
	assert_true(h.have_ftp);
	assert_int_equal(h.kind, FTPCONF_VSFTPD);
	assert_string_equal(h.file, "/etc/vsftpd.conf");
	assert_true(h.s[SRVCHECK_PASV_ADDRESS].set);
	assert_int_equal(h.s[SRVCHECK_PASV_ADDRESS].line, 2);
	assert_string_equal(h.s[SRVCHECK_PASV_ADDRESS].str, "203.0.113.2");
	assert_int_equal(h.s[SRVCHECK_MAX_PER_IP].num, 1);
	assert_false(h.s[SRVCHECK_MAX_CLIENTS].set);
	assert_int_equal(h.s[SRVCHECK_MAX_CLIENTS].num, 2000);
	assert_int_equal(h.s[SRVCHECK_PASV_ENABLE].num, 1);
	sa_set(&a, "203.0.113.2", 21);
	assert_int_equal(srvcheck_host_local(&h, SA(&a)), 1);
	sa_set(&a, "192.0.2.10", 21);
	assert_int_equal(srvcheck_host_local(&h, SA(&a)), 0);
	/* loopback is not shown to a remote client */
	assert_string_equal(srvcheck_host_addrs_text(&h, buf, sizeof(buf)),
	    "203.0.113.2, 2001:db8:2::2");
}

static void
test_old_reflector(void **state)
{
	struct srvcheck_host h;
	struct sockaddr_storage a;
	json_t *w = json_pack("{s:s}", "type", "welcome");

	(void)state;
	srvcheck_host_parse(w, &h);
	json_decref(w);
	assert_false(h.have_addrs);
	assert_false(h.have_ftp);
	sa_set(&a, "192.0.2.10", 21);
	assert_int_equal(srvcheck_host_local(&h, SA(&a)), -1);
}

static void
test_ifaddrs(void **state)
{
	struct sockaddr_storage a1, a2, a3, a5;
	struct sockaddr pk;
	struct ifaddrs i1, i2, i3, i4, i5;
	json_t *j;

	(void)state;
	sa_set(&a1, "203.0.113.2", 0);
	sa_set(&a2, "2001:db8:2::2", 0);
	sa_set(&a3, "203.0.113.2", 0);
	sa_set(&a5, "fe80::1", 0);
	((struct sockaddr_in6 *)(void *)&a5)->sin6_scope_id = 1;
	memset(&pk, 0, sizeof(pk));
	pk.sa_family = AF_PACKET;
	memset(&i1, 0, sizeof(i1));
	i2 = i3 = i4 = i5 = i1;
	i1.ifa_addr = (struct sockaddr *)&a1;
	i1.ifa_next = &i2;
	i2.ifa_addr = &pk;		/* link layer: skipped */
	i2.ifa_next = &i3;
	i3.ifa_addr = (struct sockaddr *)&a2;
	i3.ifa_next = &i4;
	i4.ifa_addr = (struct sockaddr *)&a3;	/* a repeat */
	i4.ifa_next = &i5;
	i5.ifa_addr = (struct sockaddr *)&a5;	/* link-local: no scope */
	j = hostinfo_addresses_json(&i1);
	assert_non_null(j);
	assert_int_equal(json_array_size(j), 3);
	assert_string_equal(json_string_value(json_array_get(j, 0)),
	    "203.0.113.2");
	assert_string_equal(json_string_value(json_array_get(j, 1)),
	    "2001:db8:2::2");
	assert_string_equal(json_string_value(json_array_get(j, 2)),
	    "fe80::1");
	json_decref(j);
	j = hostinfo_addresses_json(NULL);
	assert_int_equal(json_array_size(j), 0);
	json_decref(j);
}

static void
test_clock(void **state)
{
	struct srvcheck_clock k;

	(void)state;
	/* stamped 600 s ahead, 1 ms before it arrived (RTT 2 ms) */
	srvcheck_clock_decide(1000600000LL - 1, 1000000000LL, 2.0, &k);
	assert_true(k.known);
	assert_true(k.skewed);
	assert_int_equal(k.uncertainty_ms, 2);
	assert_in_range(k.offset_ms, 599999, 600001);
	/* behind */
	srvcheck_clock_decide(1000000000LL - 120000, 1000000000LL, 0, &k);
	assert_true(k.skewed);
	assert_true(k.offset_ms < -119000);
	/* within the bound */
	srvcheck_clock_decide(1000030000LL, 1000000000LL, 1, &k);
	assert_false(k.skewed);
	/* 61 s, but the round trip makes it +-1.5 s: not proven */
	srvcheck_clock_decide(1000000000LL - 1501 + 61000, 1000000000LL, 3000,
	    &k);
	assert_int_equal(k.offset_ms, 61000);
	assert_int_equal(k.uncertainty_ms, 1501);
	assert_false(k.skewed);
	/* the same offset measured over a fast channel is proven */
	srvcheck_clock_decide(1000000000LL - 1 + 61000, 1000000000LL, 0, &k);
	assert_true(k.skewed);
	/* no time_ms from the reflector */
	srvcheck_clock_decide(0, 1000000000LL, 1, &k);
	assert_false(k.known);
	assert_false(k.skewed);
}

static void
test_dnat(void **state)
{
	struct srvcheck_host h;
	struct srvcheck_dnat d;
	struct sockaddr_storage svc, seen;

	(void)state;
	host_for("listen=YES\n", &h);
	sa_set(&svc, "192.0.2.10", 21);
	sa_set(&seen, "203.0.113.2", 21);
	srvcheck_dnat_decide(&h, SA(&svc), 1, SA(&seen), 1, 1, &d);
	assert_true(d.known);
	assert_false(d.local);
	assert_true(d.detected);
	assert_true(d.port_preserved);
	/* nothing reached the host: no claim of a port-forward */
	srvcheck_dnat_decide(&h, SA(&svc), 0, NULL, 0, 0, &d);
	assert_false(d.detected);
	assert_false(d.port_known);
	/* the host's own address */
	sa_set(&svc, "203.0.113.2", 21);
	srvcheck_dnat_decide(&h, SA(&svc), 1, SA(&seen), 1, 1, &d);
	assert_true(d.local);
	assert_false(d.detected);
	/* no addresses from the reflector: unknown */
	memset(&h, 0, sizeof(h));
	srvcheck_dnat_decide(&h, SA(&svc), 1, NULL, 0, 0, &d);
	assert_false(d.known);
	assert_false(d.detected);
}

static void
test_hosts_find(void **state)
{
	static const char hosts[] =
	    "127.0.0.1\tlocalhost\n"
	    "# 192.0.2.1 ftp.example.net (commented out)\n"
	    "192.0.2.5 www.ftp.example.net ftp.example.net.evil\n"
	    "192.0.2.77  mirror FTP.Example.NET # old server\r\n"
	    "192.0.2.78 ftp.example.net\n";
	struct srvcheck_hosts_line l;

	(void)state;
	srvcheck_hosts_find(hosts, strlen(hosts), "ftp.example.net", &l);
	assert_true(l.found);
	assert_int_equal(l.line, 4);
	assert_string_equal(l.text,
	    "192.0.2.77  mirror FTP.Example.NET # old server");
	srvcheck_hosts_find(hosts, strlen(hosts), "ftp.example.org", &l);
	assert_false(l.found);
	/* the address field is not a name */
	srvcheck_hosts_find(hosts, strlen(hosts), "192.0.2.78", &l);
	assert_false(l.found);
	srvcheck_hosts_find(hosts, strlen(hosts), "localhost", &l);
	assert_int_equal(l.line, 1);
	/* last line without a newline */
	srvcheck_hosts_find("192.0.2.9 a", 11, "a", &l);
	assert_true(l.found);
	assert_string_equal(l.text, "192.0.2.9 a");
}

static void
test_mount_source(void **state)
{
	static const char mi[] =
	    "22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n"
	    "870 22 8:1 /etc/netns/ftp1-dnsmm-c/hosts /etc/hosts "
	    "rw,relatime - ext4 /dev/sda1 rw\n";
	char out[256];

	(void)state;
	assert_int_equal(srvcheck_mount_source(mi, strlen(mi), "/etc/hosts",
	    out, sizeof(out)), 0);
	assert_string_equal(out, "/etc/netns/ftp1-dnsmm-c/hosts");
	assert_int_equal(srvcheck_mount_source(mi, strlen(mi),
	    "/etc/resolv.conf", out, sizeof(out)), FTP_ERR_NOTFOUND);
}

static void
test_dns(void **state)
{
	struct srvcheck_host h;
	struct srvcheck_dns d;
	struct sockaddr_storage r[2];

	(void)state;
	host_for("listen=YES\n", &h);
	memset(&d, 0, sizeof(d));
	sa_set(&r[0], "192.0.2.77", 21);
	srvcheck_dns_decide(&h, r, 1, 0, &d);
	assert_true(d.checked);
	assert_true(d.mismatch);
	/* it reached the host anyway: a port-forward, not a wrong name */
	srvcheck_dns_decide(&h, r, 1, 1, &d);
	assert_false(d.mismatch);
	/* one of the addresses is the server's */
	sa_set(&r[1], "2001:db8:2::2", 21);
	srvcheck_dns_decide(&h, r, 2, 0, &d);
	assert_false(d.mismatch);
	/* nothing resolved / nothing known */
	srvcheck_dns_decide(&h, r, 0, 0, &d);
	assert_false(d.checked);
	memset(&h, 0, sizeof(h));
	srvcheck_dns_decide(&h, r, 1, 0, &d);
	assert_false(d.mismatch);
}

static void
meas_set(struct srvcheck_pasv_meas *m, const char *adv, int connected)
{
	memset(m, 0, sizeof(*m));
	m->attempted = 1;
	sa_set(&m->adv, adv, 30001);
	m->connected = connected;
}

static void
test_pasv_dnat_wrong(void **state)
{
	struct srvcheck_host h;
	struct srvcheck_pasv p;
	struct srvcheck_pasv_meas m;
	struct sockaddr_storage svc, in;

	(void)state;
	host_for("listen=YES\npasv_address=203.0.113.2\n", &h);
	sa_set(&svc, "192.0.2.10", 21);
	sa_set(&in, "203.0.113.2", 21);
	/* measured: the 227 named the inside address and failed */
	meas_set(&m, "203.0.113.2", 0);
	srvcheck_pasv_decide(&h, SA(&svc), 1, SA(&in), &m, &p);
	assert_true(p.cause);
	assert_false(p.from_config);
	assert_non_null(strstr(p.evidence,
	    "/etc/vsftpd.conf:2 pasv_address=203.0.113.2"));
	assert_string_equal(p.advice,
	    "vsftpd: pasv_address=192.0.2.10 (and pasv_addr_resolve=NO)");
	assert_string_equal(p.note, "");
	/* not measured: the settings alone, under DNAT */
	srvcheck_pasv_decide(&h, SA(&svc), 1, SA(&in), NULL, &p);
	assert_true(p.cause);
	assert_true(p.from_config);
	/* ... but not without a proven port-forward */
	srvcheck_pasv_decide(&h, SA(&svc), 0, NULL, NULL, &p);
	assert_false(p.cause);
	/* the 227 worked after all (an ALG rewrote it): no cause, a note */
	meas_set(&m, "192.0.2.10", 1);
	srvcheck_pasv_decide(&h, SA(&svc), 1, SA(&in), &m, &p);
	assert_false(p.cause);
	assert_non_null(strstr(p.note, "worked"));
}

static void
test_pasv_unset_and_right(void **state)
{
	struct srvcheck_host h;
	struct srvcheck_pasv p;
	struct srvcheck_pasv_meas m;
	struct sockaddr_storage svc, in;

	(void)state;
	sa_set(&svc, "192.0.2.10", 21);
	sa_set(&in, "203.0.113.2", 21);
	/* unset under DNAT: the server advertises its inside address */
	host_for("listen=YES\n", &h);
	srvcheck_pasv_decide(&h, SA(&svc), 1, SA(&in), NULL, &p);
	assert_true(p.cause);
	assert_non_null(strstr(p.evidence, "pasv_address not set"));
	assert_non_null(strstr(p.evidence, "(203.0.113.2)"));
	/* unset without DNAT: right */
	srvcheck_pasv_decide(&h, SA(&in), 0, NULL, NULL, &p);
	assert_false(p.cause);
	/* right setting, right 227 */
	host_for("listen=YES\npasv_address=192.0.2.10\n", &h);
	meas_set(&m, "192.0.2.10", 1);
	srvcheck_pasv_decide(&h, SA(&svc), 1, SA(&in), &m, &p);
	assert_false(p.cause);
	assert_string_equal(p.note, "");
	/* right setting, wrong 227: one cause, saying the file is not what
	 * runs (no advice to set what is already set) */
	meas_set(&m, "203.0.113.2", 0);
	srvcheck_pasv_decide(&h, SA(&svc), 1, SA(&in), &m, &p);
	assert_true(p.cause);
	assert_non_null(strstr(p.evidence, "does not run with this file"));
	assert_string_equal(p.advice, "");
	/* PASV is IPv4 only */
	sa_set(&svc, "2001:db8:2::2", 21);
	srvcheck_pasv_decide(&h, SA(&svc), 1, NULL, NULL, &p);
	assert_false(p.cause);
	/* passive off, or a name: the settings decide nothing */
	host_for("listen=YES\npasv_enable=NO\n", &h);
	sa_set(&svc, "192.0.2.10", 21);
	srvcheck_pasv_decide(&h, SA(&svc), 1, SA(&in), NULL, &p);
	assert_false(p.cause);
	host_for("listen=YES\npasv_address=ftp.example.net\n"
	    "pasv_addr_resolve=YES\n", &h);
	srvcheck_pasv_decide(&h, SA(&svc), 1, SA(&in), NULL, &p);
	assert_false(p.cause);
}

static void
test_refused(void **state)
{
	struct srvcheck_host h;
	struct srvcheck_refused r;

	(void)state;
	host_for("listen=YES\nmax_per_ip=1\n", &h);
	srvcheck_refused_decide(&h, "421 There are too many connections from "
	    "your internet address.", &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.key[0], SRVCHECK_MAX_PER_IP);
	assert_non_null(strstr(r.evidence[0],
	    "/etc/vsftpd.conf:2 max_per_ip=1"));
	assert_string_equal(r.advice[0], "vsftpd: max_per_ip=10");
	srvcheck_refused_decide(&h, "421 There are too many connected users, "
	    "please try later.", &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.key[0], SRVCHECK_MAX_CLIENTS);
	assert_non_null(strstr(r.evidence[0], "max_clients not set"));
	/* unknown wording: every limit in force */
	srvcheck_refused_decide(&h, "421 Service not available", &r);
	assert_int_equal(r.n, 2);
	/* 0 = no limit: it explains nothing */
	host_for("listen=YES\nmax_per_ip=0\nmax_clients=0\n", &h);
	srvcheck_refused_decide(&h, "421 Service not available", &r);
	assert_int_equal(r.n, 0);
	/* no settings */
	memset(&h, 0, sizeof(h));
	srvcheck_refused_decide(&h, "421 x", &r);
	assert_int_equal(r.n, 0);
}

/* report.c's side: a warning fails nothing; advice lands on its cause;
 * nat.server gains the extra keys. */
static void
test_report_findings(void **state)
{
	struct session_facts f;
	struct report *rep;
	json_t *j, *c;
	size_t i;
	int seen = 0;

	(void)state;
	memset(&f, 0, sizeof(f));
	rep = report_new(&f, "a", "r", "192.0.2.10");
	assert_non_null(rep);
	assert_int_equal(report_add_cause(rep, REPORT_PART_SERVER_HOST,
	    REPORT_WARNING, CAUSE_CLOCK_SKEW, "control channel",
	    "600 s ahead"), 0);
	assert_false(report_failed(rep));
	assert_int_equal(report_set_server_nat(rep, json_pack("{s:b,s:s}",
	    "detected", 1, "service", "192.0.2.10"), "service forwarded"), 0);
	assert_int_equal(report_add_cause(rep, REPORT_PART_SERVER_HOST,
	    REPORT_FAILURE, CAUSE_PASV_ADDRESS, "server settings",
	    "vsftpd.conf:2 pasv_address=203.0.113.2"), 0);
	assert_int_equal(report_add_advice(rep, CAUSE_PASV_ADDRESS,
	    "vsftpd: pasv_address=192.0.2.10", json_pack("{s:s}", "key",
	    "pasv_address")), 0);
	assert_int_equal(report_set_extra(rep, "server_host",
	    json_object()), 0);
	assert_true(report_failed(rep));
	j = report_json(rep);
	assert_non_null(j);
	assert_true(json_is_true(json_object_get(json_object_get(
	    json_object_get(j, "nat"), "server"), "detected")));
	assert_non_null(json_object_get(j, "server_host"));
	json_array_foreach(json_object_get(j, "causes"), i, c) {
		const char *n = json_string_value(json_object_get(c, "cause"));

		if (strcmp(n, "clock-skew") == 0) {
			assert_string_equal(json_string_value(
			    json_object_get(c, "severity")), "warning");
			seen++;
		} else if (strcmp(n, "pasv-address") == 0) {
			assert_string_equal(json_string_value(json_array_get(
			    json_object_get(c, "advice"), 0)),
			    "vsftpd: pasv_address=192.0.2.10");
			assert_int_equal(json_array_size(json_object_get(c,
			    "settings")), 1);
			assert_string_equal(json_string_value(
			    json_object_get(c, "severity")), "failure");
			seen++;
		}
	}
	assert_int_equal(seen, 2);
	json_decref(j);
	report_free(rep);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_welcome_roundtrip),
		cmocka_unit_test(test_old_reflector),
		cmocka_unit_test(test_ifaddrs),
		cmocka_unit_test(test_clock),
		cmocka_unit_test(test_dnat),
		cmocka_unit_test(test_hosts_find),
		cmocka_unit_test(test_mount_source),
		cmocka_unit_test(test_dns),
		cmocka_unit_test(test_pasv_dnat_wrong),
		cmocka_unit_test(test_pasv_unset_and_right),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_report_findings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
