/*
 * test_ftpconf.c - FTP server configuration reader: vsftpd defaults,
 * Debian's shipped vsftpd.conf, passive range and address, bad values
 * with line numbers, proftpd and pure-ftpd samples, advice strings.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "addr.h"
#include "err.h"
#include "ftpconf.h"

static const char debian_vsftpd_conf[] =
#include "fixtures/vsftpd_debian.inc"
    ;

static const char proftpd_sample[] =
    "# /etc/proftpd/proftpd.conf -- a Debian-like sample\n"
    "Include /etc/proftpd/modules.conf\n"
    "UseIPv6\t\t\t\ton\n"
    "ServerName\t\t\t\"Debian\"\n"
    "ServerType\t\t\tstandalone\n"
    "DeferWelcome\t\t\toff\n"
    "Port\t\t\t\t2121\n"
    "PassivePorts 49152 49200\n"
    "MasqueradeAddress\t\tftp.example.org\n"
    "MaxInstances\t\t\t30\n"
    "MaxClients 20 \"Sorry, max %m users\"\n"
    "MaxClientsPerHost \\\n"
    "    3\n"
    "<IfModule mod_tls.c>\n"
    "  TLSEngine on\n"
    "  TLSRequired auth+data\n"
    "</IfModule>\n"
    "<VirtualHost 192.0.2.50>\n"
    "  Port 2222\n"
    "  <Anonymous ~ftp>\n"
    "  </Anonymous>\n"
    "</VirtualHost>\n"
    "<Anonymous ~ftp>\n"
    "  User ftp\n"
    "  MaxClients 5\n"
    "  <Limit WRITE>\n"
    "    DenyAll\n"
    "  </Limit>\n"
    "</Anonymous>\n";

static const char pure_sample[] =
    "############################################################\n"
    "#  Configuration file for pure-ftpd wrappers\n"
    "ChrootEveryone              yes\n"
    "BrokenClientsCompatibility  no\n"
    "MaxClientsNumber            50\n"
    "Daemonize                   yes\n"
    "MaxClientsPerIP             8\n"
    "NoAnonymous                 yes\n"
    "Bind                        ,2121\n"
    "PassivePortRange            30000 50000\n"
    "ForcePassiveIP              203.0.113.7\n"
    "IPV4Only                    yes\n"
    "TLS                         2\n";

static struct ftpconf *
parse_ok(enum ftpconf_kind kind, const char *name, const char *text)
{
	struct ftpconf *cf = ftpconf_new();
	char err[256] = "";

	assert_non_null(cf);
	if (ftpconf_parse(cf, kind, name, text, strlen(text), err,
	    sizeof(err)) != 0)
		fail_msg("unexpected error: %s", err);
	return cf;
}

/* Parse expecting FTP_ERR_CONFIG; returns the message. */
static void
parse_bad(const char *name, const char *text, const char *want)
{
	struct ftpconf *cf = ftpconf_new();
	char err[256] = "";

	assert_non_null(cf);
	assert_int_equal(ftpconf_parse(cf, FTPCONF_AUTO, name, text,
	    strlen(text), err, sizeof(err)), FTP_ERR_CONFIG);
	if (strstr(err, want) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err, want);
	ftpconf_free(cf);
}

static unsigned long
num(const struct ftpconf *cf, enum ftpconf_field f)
{
	struct ftpconf_fact fa;

	assert_int_equal(ftpconf_get(cf, f, &fa), 0);
	return fa.num;
}

static struct ftpconf_fact
fact(const struct ftpconf *cf, enum ftpconf_field f)
{
	struct ftpconf_fact fa;

	assert_int_equal(ftpconf_get(cf, f, &fa), 0);
	return fa;
}

static void
assert_evidence(const struct ftpconf *cf, enum ftpconf_field f,
    const char *want)
{
	char buf[256];

	assert_int_equal(ftpconf_evidence(cf, f, buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
}

static void
test_vsftpd_defaults(void **state)
{
	struct ftpconf *cf = parse_ok(FTPCONF_VSFTPD, "vsftpd.conf", "");
	struct portrange pr;
	int i;

	(void)state;
	assert_int_equal(ftpconf_kind(cf), FTPCONF_VSFTPD);
	for (i = 0; i < FTPCONF_NFIELDS; i++)
		assert_int_equal(fact(cf, i).set, 0);
	assert_int_equal(ftpconf_control_port(cf), 21);
	assert_int_equal(num(cf, FTPCONF_LISTEN_V4), 0);
	assert_int_equal(num(cf, FTPCONF_LISTEN_V6), 0);
	assert_null(fact(cf, FTPCONF_LISTEN_ADDRESS).str);
	assert_int_equal(num(cf, FTPCONF_PASV_ENABLE), 1);
	assert_int_equal(num(cf, FTPCONF_PASV_MIN_PORT), 0);
	assert_int_equal(num(cf, FTPCONF_PASV_MAX_PORT), 0);
	assert_null(fact(cf, FTPCONF_PASV_ADDRESS).str);
	assert_int_equal(num(cf, FTPCONF_PASV_ADDR_RESOLVE), 0);
	assert_int_equal(num(cf, FTPCONF_PORT_ENABLE), 1);
	assert_int_equal(num(cf, FTPCONF_CONNECT_FROM_PORT_20), 0);
	assert_int_equal(num(cf, FTPCONF_FTP_DATA_PORT), 20);
	assert_int_equal(num(cf, FTPCONF_MAX_CLIENTS), 2000);
	assert_int_equal(num(cf, FTPCONF_MAX_PER_IP), 50);
	assert_int_equal(num(cf, FTPCONF_TLS_ENABLE), 0);
	assert_int_equal(num(cf, FTPCONF_TLS_LOGIN_REQUIRED), 1);
	assert_int_equal(num(cf, FTPCONF_TLS_DATA_REQUIRED), 1);
	assert_int_equal(num(cf, FTPCONF_ANONYMOUS_ENABLE), 1);
	/* vsftpd picks from 1024-65535 when no range is set. */
	assert_int_equal(ftpconf_passive_range(cf, &pr), 0);
	assert_int_equal(pr.lo, 1024);
	assert_int_equal(pr.hi, 65535);
	assert_evidence(cf, FTPCONF_PASV_ADDRESS,
	    "vsftpd.conf: pasv_address not set (vsftpd default: none)");
	assert_evidence(cf, FTPCONF_MAX_PER_IP,
	    "vsftpd.conf: max_per_ip not set (vsftpd default: 50)");
	/* ftpconf_new() alone holds the same defaults. */
	ftpconf_free(cf);
	cf = ftpconf_new();
	assert_int_equal(num(cf, FTPCONF_MAX_CLIENTS), 2000);
	ftpconf_free(cf);
	ftpconf_free(NULL);
}

static void
test_vsftpd_debian(void **state)
{
	struct ftpconf *cf = parse_ok(FTPCONF_AUTO, "/etc/vsftpd.conf",
	    debian_vsftpd_conf);
	char buf[512];

	(void)state;
	assert_int_equal(ftpconf_kind(cf), FTPCONF_VSFTPD);
	assert_int_equal(num(cf, FTPCONF_LISTEN_V4), 0);
	assert_int_equal(fact(cf, FTPCONF_LISTEN_V4).line, 14);
	assert_int_equal(num(cf, FTPCONF_LISTEN_V6), 1);
	assert_int_equal(num(cf, FTPCONF_ANONYMOUS_ENABLE), 0);
	assert_int_equal(num(cf, FTPCONF_CONNECT_FROM_PORT_20), 1);
	assert_int_equal(num(cf, FTPCONF_TLS_ENABLE), 0);
	assert_int_equal(fact(cf, FTPCONF_PASV_MIN_PORT).set, 0);
	assert_int_equal(ftpconf_control_port(cf), 21);
	assert_evidence(cf, FTPCONF_LISTEN_V6,
	    "vsftpd.conf:22 listen_ipv6=YES");
	assert_evidence(cf, FTPCONF_CONNECT_FROM_PORT_20,
	    "vsftpd.conf:60 connect_from_port_20=YES");
	assert_evidence(cf, FTPCONF_TLS_ENABLE,
	    "vsftpd.conf:151 ssl_enable=NO");
	assert_int_equal(ftpconf_summary(cf, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "vsftpd (vsftpd.conf): control port 21, "
	    "passive 1024-65535 address of the control socket, active from "
	    "port 20, max clients 2000, per address 50 (0 = no limit), TLS "
	    "off, anonymous no");
	ftpconf_free(cf);
}

static void
test_vsftpd_pasv(void **state)
{
	struct ftpconf *cf;
	struct portrange pr;

	(void)state;
	cf = parse_ok(FTPCONF_VSFTPD, "vsftpd.conf",
	    "listen=YES\npasv_min_port=30000\npasv_max_port=30099\n"
	    "pasv_address=192.0.2.9\nlisten_port=2121\n");
	assert_int_equal(ftpconf_passive_range(cf, &pr), 0);
	assert_int_equal(pr.lo, 30000);
	assert_int_equal(pr.hi, 30099);
	assert_string_equal(fact(cf, FTPCONF_PASV_ADDRESS).str, "192.0.2.9");
	assert_evidence(cf, FTPCONF_PASV_ADDRESS,
	    "vsftpd.conf:4 pasv_address=192.0.2.9");
	assert_int_equal(ftpconf_control_port(cf), 2121);
	assert_evidence(cf, FTPCONF_CONTROL_PORT,
	    "vsftpd.conf:5 listen_port=2121");
	ftpconf_free(cf);

	/* 0 = unset; only the minimum set; reversed (max ignored). */
	cf = parse_ok(FTPCONF_VSFTPD, "v",
	    "pasv_min_port=0\npasv_max_port=0\n");
	assert_int_equal(ftpconf_passive_range(cf, &pr), 0);
	assert_int_equal(pr.lo, 1024);
	assert_int_equal(pr.hi, 65535);
	assert_int_equal(fact(cf, FTPCONF_PASV_MIN_PORT).set, 1);
	ftpconf_free(cf);
	cf = parse_ok(FTPCONF_VSFTPD, "v", "pasv_min_port=40000\n");
	ftpconf_passive_range(cf, &pr);
	assert_int_equal(pr.lo, 40000);
	assert_int_equal(pr.hi, 65535);
	ftpconf_free(cf);
	cf = parse_ok(FTPCONF_VSFTPD, "v",
	    "pasv_min_port=40000\npasv_max_port=30000\n");
	ftpconf_passive_range(cf, &pr);
	assert_int_equal(pr.lo, 40000);
	assert_int_equal(pr.hi, 65535);
	ftpconf_free(cf);
	/* Leading 0 is octal in vsftpd: 050000 = 20480. */
	cf = parse_ok(FTPCONF_VSFTPD, "v", "pasv_min_port=050000\n");
	assert_int_equal(num(cf, FTPCONF_PASV_MIN_PORT), 20480);
	ftpconf_free(cf);
	/* Disabled passive mode; empty pasv_address unsets; later wins. */
	cf = parse_ok(FTPCONF_VSFTPD, "v", "pasv_enable=no\n"
	    "pasv_address=192.0.2.1\npasv_address=\n");
	assert_int_equal(ftpconf_passive_range(cf, &pr), FTP_ERR_NOTFOUND);
	assert_null(fact(cf, FTPCONF_PASV_ADDRESS).str);
	assert_int_equal(fact(cf, FTPCONF_PASV_ADDRESS).line, 3);
	ftpconf_free(cf);
	cf = parse_ok(FTPCONF_VSFTPD, "v", "pasv_address=192.0.2.1\n"
	    "pasv_address\n");
	assert_null(fact(cf, FTPCONF_PASV_ADDRESS).str);
	ftpconf_free(cf);
	/* A name needs pasv_addr_resolve, in either order. */
	cf = parse_ok(FTPCONF_VSFTPD, "v",
	    "pasv_address=ftp.example.org\npasv_addr_resolve=YES\n");
	assert_string_equal(fact(cf, FTPCONF_PASV_ADDRESS).str,
	    "ftp.example.org");
	ftpconf_free(cf);
}

static void
test_vsftpd_syntax(void **state)
{
	struct ftpconf *cf;

	(void)state;
	/* Booleans in any case; comments; leading blanks; unknown keys;
	 * CRLF line ends. */
	cf = parse_ok(FTPCONF_VSFTPD, "v",
	    "# comment\n\n   \n  port_enable=false\r\nssl_enable=True\n"
	    "banner_file=/etc/x\nno_such_option=whatever\n"
	    "  # indented comment\nmax_per_ip=0\n");
	assert_int_equal(num(cf, FTPCONF_PORT_ENABLE), 0);
	assert_int_equal(num(cf, FTPCONF_TLS_ENABLE), 1);
	assert_int_equal(num(cf, FTPCONF_MAX_PER_IP), 0);
	assert_evidence(cf, FTPCONF_PORT_ENABLE, "v:4 port_enable=false");
	ftpconf_free(cf);
	/* No final newline. */
	cf = parse_ok(FTPCONF_VSFTPD, "v", "listen_port=990");
	assert_int_equal(ftpconf_control_port(cf), 990);
	ftpconf_free(cf);
}

static void
test_vsftpd_bad(void **state)
{
	(void)state;
	parse_bad("vsftpd.conf", "listen=YES\n\npasv_min_port=abc\n",
	    "vsftpd.conf:3: bad value for pasv_min_port: \"abc\"");
	parse_bad("vsftpd.conf", "listen_port=0\n", "vsftpd.conf:1: bad value "
	    "for listen_port");
	parse_bad("vsftpd.conf", "#\nlisten_port=70000\n", "vsftpd.conf:2:");
	parse_bad("vsftpd.conf", "listen_port=21x\n", "vsftpd.conf:1:");
	parse_bad("vsftpd.conf", "listen_port=-1\n", "vsftpd.conf:1:");
	parse_bad("vsftpd.conf", "listen=maybe\n", "vsftpd.conf:1: bad value "
	    "for listen: \"maybe\" (vsftpd takes YES or NO)");
	parse_bad("vsftpd.conf", "listen=YES \n", "vsftpd.conf:1: bad value");
	parse_bad("vsftpd.conf", "max_clients=\n", "vsftpd.conf:1: missing "
	    "value for max_clients");
	parse_bad("vsftpd.conf", "ssl_enable\n", "missing value");
	parse_bad("vsftpd.conf", "a=b\nlisten_port = 21\n", "vsftpd.conf:2: "
	    "blank around '=' in listen_port");
	parse_bad("vsftpd.conf", "pasv_address=ftp.example.org\n",
	    "vsftpd.conf:1: bad value for pasv_address");
	parse_bad("vsftpd.conf", "x=1\npasv_address=2001:db8::1\n",
	    "vsftpd.conf:2:");
	parse_bad("vsftpd.conf", "listen_address=::1\n", "vsftpd.conf:1:");
	parse_bad("vsftpd.conf", "listen_address6=192.0.2.1\n",
	    "vsftpd.conf:1:");
	parse_bad("vsftpd.conf", "listen=YES\n#\nlisten_ipv6=YES\n",
	    "vsftpd.conf:3: listen=YES and listen_ipv6=YES");
}

static void
test_robustness(void **state)
{
	struct ftpconf *cf = ftpconf_new();
	char err[256], *big;
	size_t n = FTPCONF_LINE_MAX + 10;
	const char nul[] = "listen=YES\nx\0y\n";

	(void)state;
	assert_non_null(cf);
	big = malloc(n + 1);
	assert_non_null(big);
	memset(big, '#', n);
	big[n] = '\0';
	assert_int_equal(ftpconf_parse(cf, FTPCONF_VSFTPD, "v", big, n, err,
	    sizeof(err)), FTP_ERR_CONFIG);
	assert_string_equal(err, "v:1: line longer than 4096 characters");
	free(big);
	assert_int_equal(ftpconf_parse(cf, FTPCONF_VSFTPD, "v", nul,
	    sizeof(nul) - 1, err, sizeof(err)), FTP_ERR_CONFIG);
	assert_string_equal(err, "v:2: NUL byte in line");
	/* After an error the defaults are back, not half a file. */
	assert_int_equal(num(cf, FTPCONF_LISTEN_V4), 0);
	assert_int_equal(ftpconf_parse(cf, FTPCONF_VSFTPD, "v", NULL, 0, err,
	    sizeof(err)), 0);
	assert_int_equal(ftpconf_parse(NULL, FTPCONF_VSFTPD, "v", "", 0, err,
	    sizeof(err)), FTP_ERR_INVAL);
	assert_int_equal(ftpconf_parse(cf, 99, "v", "", 0, err, sizeof(err)),
	    FTP_ERR_INVAL);
	/* Control characters never reach evidence. */
	assert_int_equal(ftpconf_parse(cf, FTPCONF_VSFTPD, "v",
	    "pasv_address=\x1b[2J\n", 18, err, sizeof(err)), FTP_ERR_CONFIG);
	assert_int_equal(ftpconf_parse(cf, FTPCONF_PROFTPD, "p",
	    "MasqueradeAddress \x1b\n", 20, err, sizeof(err)),
	    FTP_ERR_CONFIG);
	assert_null(strchr(err, '\x1b'));
	ftpconf_free(cf);
}

static void
test_load_file(void **state)
{
	char path[] = "/tmp/ftpath-test-ftpconf.XXXXXX";
	struct ftpconf *cf = ftpconf_new();
	char err[256], want[128];
	FILE *f;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs("listen=YES\nmax_per_ip=3\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(ftpconf_load_file(cf, FTPCONF_VSFTPD, path, err,
	    sizeof(err)), 0);
	assert_int_equal(num(cf, FTPCONF_MAX_PER_IP), 3);
	/* Evidence names the file by its last component. */
	snprintf(want, sizeof(want), "%s:2 max_per_ip=3",
	    strrchr(path, '/') + 1);
	assert_evidence(cf, FTPCONF_MAX_PER_IP, want);
	unlink(path);
	assert_int_equal(ftpconf_load_file(cf, FTPCONF_VSFTPD, path, err,
	    sizeof(err)), FTP_ERR_SYSTEM);
	assert_non_null(strstr(err, "No such file"));
	ftpconf_free(cf);
}

static void
test_proftpd(void **state)
{
	struct ftpconf *cf = parse_ok(FTPCONF_AUTO, "proftpd.conf",
	    proftpd_sample);
	struct portrange pr;

	(void)state;
	assert_int_equal(ftpconf_kind(cf), FTPCONF_PROFTPD);
	assert_int_equal(ftpconf_control_port(cf), 2121);
	assert_int_equal(num(cf, FTPCONF_FTP_DATA_PORT), 2120);
	assert_int_equal(ftpconf_passive_range(cf, &pr), 0);
	assert_int_equal(pr.lo, 49152);
	assert_int_equal(pr.hi, 49200);
	assert_string_equal(fact(cf, FTPCONF_PASV_ADDRESS).str,
	    "ftp.example.org");
	assert_int_equal(num(cf, FTPCONF_MAX_CLIENTS), 20);
	assert_int_equal(num(cf, FTPCONF_MAX_PER_IP), 3);
	/* A continued line is evidence at its first line. */
	assert_evidence(cf, FTPCONF_MAX_PER_IP,
	    "proftpd.conf:12 MaxClientsPerHost     3");
	assert_int_equal(num(cf, FTPCONF_TLS_ENABLE), 1);
	assert_int_equal(num(cf, FTPCONF_TLS_LOGIN_REQUIRED), 1);
	assert_int_equal(num(cf, FTPCONF_TLS_DATA_REQUIRED), 1);
	assert_int_equal(num(cf, FTPCONF_ANONYMOUS_ENABLE), 1);
	assert_int_equal(fact(cf, FTPCONF_ANONYMOUS_ENABLE).line, 23);
	assert_evidence(cf, FTPCONF_PASV_ADDRESS,
	    "proftpd.conf:9 MasqueradeAddress  ftp.example.org");
	ftpconf_free(cf);

	/* Defaults: no range (kernel ephemeral), no limits, no anon. */
	cf = parse_ok(FTPCONF_PROFTPD, "proftpd.conf", "ServerName x\n");
	assert_int_equal(ftpconf_passive_range(cf, &pr), 0);
	assert_int_equal(pr.lo, 0);
	assert_int_equal(pr.hi, 0);
	assert_int_equal(ftpconf_control_port(cf), 21);
	assert_int_equal(num(cf, FTPCONF_FTP_DATA_PORT), 20);
	assert_int_equal(num(cf, FTPCONF_ANONYMOUS_ENABLE), 0);
	assert_evidence(cf, FTPCONF_MAX_CLIENTS,
	    "proftpd.conf: MaxClients not set (proftpd default: none)");
	assert_evidence(cf, FTPCONF_PASV_ADDR_RESOLVE,
	    "proftpd.conf: proftpd has no pasv_addr_resolve setting "
	    "(always on)");
	ftpconf_free(cf);

	parse_bad("proftpd.conf", "Port 21\nPassivePorts 60000 50000\n",
	    "proftpd.conf:2: PassivePorts 60000 50000 is reversed");
	parse_bad("proftpd.conf", "PassivePorts 80 90\n",
	    "proftpd.conf:1: bad value for PassivePorts");
	parse_bad("proftpd.conf", "<Global>\nPort x\n</Global>\n",
	    "proftpd.conf:2: bad value for Port");
	parse_bad("proftpd.conf", "<Global>\n", "<Global> not closed");
	parse_bad("proftpd.conf", "</Global>\n", "proftpd.conf:1: unexpected");
	parse_bad("proftpd.conf", "TLSRequired sometimes\n", "proftpd.conf:1:");
	parse_bad("proftpd.conf", "MaxClients many\n", "proftpd.conf:1:");
}

static void
test_pureftpd(void **state)
{
	struct ftpconf *cf = parse_ok(FTPCONF_AUTO, "pure-ftpd.conf",
	    pure_sample);
	struct portrange pr;

	(void)state;
	assert_int_equal(ftpconf_kind(cf), FTPCONF_PUREFTPD);
	assert_int_equal(ftpconf_control_port(cf), 2121);
	assert_null(fact(cf, FTPCONF_LISTEN_ADDRESS).str);
	assert_int_equal(ftpconf_passive_range(cf, &pr), 0);
	assert_int_equal(pr.lo, 30000);
	assert_int_equal(pr.hi, 50000);
	assert_string_equal(fact(cf, FTPCONF_PASV_ADDRESS).str,
	    "203.0.113.7");
	assert_int_equal(num(cf, FTPCONF_MAX_CLIENTS), 50);
	assert_int_equal(num(cf, FTPCONF_MAX_PER_IP), 8);
	assert_int_equal(num(cf, FTPCONF_ANONYMOUS_ENABLE), 0);
	assert_int_equal(num(cf, FTPCONF_LISTEN_V6), 0);
	assert_int_equal(num(cf, FTPCONF_LISTEN_V4), 1);
	assert_int_equal(num(cf, FTPCONF_TLS_ENABLE), 1);
	assert_int_equal(num(cf, FTPCONF_TLS_LOGIN_REQUIRED), 1);
	assert_int_equal(num(cf, FTPCONF_TLS_DATA_REQUIRED), 0);
	assert_evidence(cf, FTPCONF_MAX_PER_IP,
	    "pure-ftpd.conf:7 MaxClientsPerIP             8");
	ftpconf_free(cf);

	cf = parse_ok(FTPCONF_PUREFTPD, "p", "Bind 192.0.2.3,21\n");
	assert_string_equal(fact(cf, FTPCONF_LISTEN_ADDRESS).str,
	    "192.0.2.3");
	assert_int_equal(ftpconf_control_port(cf), 21);
	ftpconf_free(cf);
	cf = parse_ok(FTPCONF_PUREFTPD, "p", "Bind 2001:db8::1\nNATmode yes\n");
	assert_string_equal(fact(cf, FTPCONF_LISTEN_ADDRESS).str,
	    "2001:db8::1");
	assert_int_equal(num(cf, FTPCONF_PASV_ENABLE), 0);
	ftpconf_free(cf);

	parse_bad("pure-ftpd.conf", "TLS 4\n", "pure-ftpd.conf:1: bad value "
	    "for TLS");
	parse_bad("pure-ftpd.conf", "Bind ,0\n", "pure-ftpd.conf:1:");
	parse_bad("pure-ftpd.conf", "\nPassivePortRange 30000\n",
	    "pure-ftpd.conf:2: PassivePortRange takes two ports");
}

/* Content alone decides when the file name says nothing. */
static void
test_detect(void **state)
{
	struct ftpconf *cf;

	(void)state;
	cf = parse_ok(FTPCONF_AUTO, "ftp.conf", "ServerName x\n<Global>\n"
	    "</Global>\nPort 2121\n");
	assert_int_equal(ftpconf_kind(cf), FTPCONF_PROFTPD);
	ftpconf_free(cf);
	cf = parse_ok(FTPCONF_AUTO, "ftp.conf", "ChrootEveryone yes\n"
	    "NoAnonymous yes\n");
	assert_int_equal(ftpconf_kind(cf), FTPCONF_PUREFTPD);
	ftpconf_free(cf);
	cf = parse_ok(FTPCONF_AUTO, "ftp.conf", "listen=YES\n"
	    "anonymous_enable=NO\n");
	assert_int_equal(ftpconf_kind(cf), FTPCONF_VSFTPD);
	ftpconf_free(cf);
	assert_string_equal(ftpconf_kind_name(FTPCONF_PUREFTPD), "pure-ftpd");
	assert_string_equal(ftpconf_field_name(FTPCONF_PROFTPD,
	    FTPCONF_PASV_ADDRESS), "MasqueradeAddress");
}

static void
assert_advice(enum ftpconf_kind k, enum ftpconf_advice a, const char *v,
    const char *want)
{
	char buf[256];

	assert_int_equal(ftpconf_advice(k, a, v, buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
}

static void
test_advice(void **state)
{
	char small[10];

	(void)state;
	assert_advice(FTPCONF_VSFTPD, FTPCONF_ADVICE_PASV_ADDRESS,
	    "203.0.113.2", "vsftpd: pasv_address=203.0.113.2 (and "
	    "pasv_addr_resolve=NO)");
	assert_advice(FTPCONF_VSFTPD, FTPCONF_ADVICE_PASV_ADDRESS,
	    "ftp.example.org", "vsftpd: pasv_address=ftp.example.org (and "
	    "pasv_addr_resolve=YES)");
	assert_advice(FTPCONF_PROFTPD, FTPCONF_ADVICE_PASV_ADDRESS,
	    "203.0.113.2", "proftpd: MasqueradeAddress 203.0.113.2");
	assert_advice(FTPCONF_PUREFTPD, FTPCONF_ADVICE_PASV_ADDRESS,
	    "203.0.113.2", "pure-ftpd: ForcePassiveIP 203.0.113.2");
	assert_advice(FTPCONF_VSFTPD, FTPCONF_ADVICE_PASV_RANGE,
	    "30000-30099", "vsftpd: pasv_enable=YES, pasv_min_port=30000, "
	    "pasv_max_port=30099");
	assert_advice(FTPCONF_PROFTPD, FTPCONF_ADVICE_PASV_RANGE,
	    "30000-30099", "proftpd: PassivePorts 30000 30099");
	assert_advice(FTPCONF_PUREFTPD, FTPCONF_ADVICE_PASV_RANGE,
	    "30000-30099", "pure-ftpd: PassivePortRange 30000 30099");
	assert_advice(FTPCONF_VSFTPD, FTPCONF_ADVICE_PORT20, NULL,
	    "vsftpd: connect_from_port_20=YES (and ftp_data_port=20)");
	assert_advice(FTPCONF_PROFTPD, FTPCONF_ADVICE_PORT20, NULL,
	    "proftpd: Port 21 (active data then comes from port 20, one "
	    "below the control port)");
	assert_advice(FTPCONF_PUREFTPD, FTPCONF_ADVICE_PORT20, NULL,
	    "pure-ftpd: no setting; active data leaves from port 20, allow "
	    "it outbound in the firewall");
	assert_advice(FTPCONF_VSFTPD, FTPCONF_ADVICE_MAX_PER_IP, "10",
	    "vsftpd: max_per_ip=10");
	assert_advice(FTPCONF_PROFTPD, FTPCONF_ADVICE_MAX_PER_IP, "10",
	    "proftpd: MaxClientsPerHost 10");
	assert_advice(FTPCONF_PUREFTPD, FTPCONF_ADVICE_MAX_PER_IP, "10",
	    "pure-ftpd: MaxClientsPerIP 10");
	assert_advice(FTPCONF_VSFTPD, FTPCONF_ADVICE_MAX_CLIENTS, "0",
	    "vsftpd: max_clients=0 (0 = no limit)");
	assert_advice(FTPCONF_PROFTPD, FTPCONF_ADVICE_MAX_CLIENTS, "0",
	    "proftpd: MaxClients none");
	assert_advice(FTPCONF_PUREFTPD, FTPCONF_ADVICE_MAX_CLIENTS, "200",
	    "pure-ftpd: MaxClientsNumber 200");
	assert_advice(FTPCONF_PUREFTPD, FTPCONF_ADVICE_PASV_ENABLE, NULL,
	    "pure-ftpd: NATmode no");
	/* Values that would inject into a config line are refused. */
	assert_int_equal(ftpconf_advice(FTPCONF_VSFTPD,
	    FTPCONF_ADVICE_PASV_ADDRESS, "1.2.3.4\nlisten=NO", small,
	    sizeof(small)), FTP_ERR_INVAL);
	assert_int_equal(ftpconf_advice(FTPCONF_VSFTPD,
	    FTPCONF_ADVICE_PASV_ADDRESS, "a b", small, sizeof(small)),
	    FTP_ERR_INVAL);
	assert_int_equal(ftpconf_advice(FTPCONF_VSFTPD,
	    FTPCONF_ADVICE_PASV_RANGE, "9-1", small, sizeof(small)),
	    FTP_ERR_INVAL);
	assert_int_equal(ftpconf_advice(FTPCONF_VSFTPD,
	    FTPCONF_ADVICE_MAX_PER_IP, "-1", small, sizeof(small)),
	    FTP_ERR_INVAL);
	assert_int_equal(ftpconf_advice(FTPCONF_AUTO,
	    FTPCONF_ADVICE_PORT20, NULL, small, sizeof(small)),
	    FTP_ERR_INVAL);
	assert_int_equal(ftpconf_advice(FTPCONF_VSFTPD, 42, "1", small,
	    sizeof(small)), FTP_ERR_INVAL);
	assert_int_equal(ftpconf_advice(FTPCONF_PROFTPD,
	    FTPCONF_ADVICE_PASV_ADDRESS, "203.0.113.2", small,
	    sizeof(small)), FTP_ERR_TOOBIG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vsftpd_defaults),
		cmocka_unit_test(test_vsftpd_debian),
		cmocka_unit_test(test_vsftpd_pasv),
		cmocka_unit_test(test_vsftpd_syntax),
		cmocka_unit_test(test_vsftpd_bad),
		cmocka_unit_test(test_robustness),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_proftpd),
		cmocka_unit_test(test_pureftpd),
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_advice),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
