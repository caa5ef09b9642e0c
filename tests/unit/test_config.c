/*
 * test_config.c - reflector configuration: defaults, file parsing with
 * line-numbered errors, validation, print/reload round trip.
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
#include "config.h"
#include "err.h"

/* Write text to a fresh temp file; the caller unlinks and frees. */
static char *
write_temp(const char *text)
{
	char *path = strdup("/tmp/ftpath-test-config.XXXXXX");
	FILE *f;
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return path;
}

static void
remove_temp(char *path)
{
	unlink(path);
	free(path);
}

/* Load text; returns the result and leaves the message in err. */
static int
load_text(struct reflector_config *cfg, const char *text, char *err,
    size_t errlen, char **pathp)
{
	char *path = write_temp(text);
	int r;

	err[0] = '\0';
	r = config_load_file(cfg, path, err, errlen);
	if (pathp != NULL)
		*pathp = path;
	else
		remove_temp(path);
	return r;
}

static void
test_defaults(void **state)
{
	struct reflector_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(config_defaults(&cfg), 0);
	assert_string_equal(cfg.listen, "[::]:7021");
	assert_int_equal(cfg.control_port, 21);
	assert_int_equal(cfg.active_source_port, 20);
	assert_int_equal(cfg.passive.lo, 0);
	assert_non_null(cfg.allowed);
	assert_int_equal(portset_count(cfg.allowed), 0);
	assert_int_equal(cfg.max_sessions, 8);
	assert_int_equal(cfg.max_ports_per_session, 65535);
	assert_int_equal(cfg.session_timeout_s, 60);
	assert_int_equal(cfg.max_timeout_ms, 10000);
	assert_int_equal(cfg.connectback_min_port, 1024);
	assert_int_equal(cfg.max_handshakes, 64);
	assert_int_equal(cfg.max_handshakes_per_source, 8);
	assert_int_equal(cfg.handshake_timeout_s, 5);
	assert_int_equal(cfg.session_lifetime_s, 900);
	/* check --apply: off unless the operator turns it on */
	assert_int_equal(cfg.allow_apply, 0);
	assert_string_equal(cfg.apply_state_dir, "/run/ftpath");
	assert_string_equal(cfg.cert, "");

	/* Without certificate files the defaults are not a valid config. */
	assert_int_equal(config_validate(&cfg, err, sizeof(err)),
	    FTP_ERR_CONFIG);
	assert_non_null(strstr(err, "cert"));

	/* Derivation of allowed ports. */
	assert_int_equal(config_set(&cfg, "cert", "c.pem", err, sizeof(err)),
	    0);
	assert_int_equal(config_set(&cfg, "key", "k.pem", err, sizeof(err)),
	    0);
	assert_int_equal(config_set(&cfg, "ca", "ca.pem", err, sizeof(err)),
	    0);
	assert_int_equal(config_set(&cfg, "passive_range", "30000-30009",
	    err, sizeof(err)), 0);
	assert_int_equal(config_validate(&cfg, err, sizeof(err)), 0);
	assert_int_equal(portset_count(cfg.allowed), 12);
	assert_true(portset_contains(cfg.allowed, 20));
	assert_true(portset_contains(cfg.allowed, 21));
	assert_true(portset_contains(cfg.allowed, 30009));
	config_release(&cfg);
	assert_null(cfg.allowed);
	config_release(&cfg);
}

static void
test_good_file(void **state)
{
	struct reflector_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(config_defaults(&cfg), 0);
	assert_int_equal(load_text(&cfg,
	    "# ftpath reflector\n"
	    "\n"
	    "listen = 0.0.0.0:7021\n"
	    "  cert=/etc/ftpath/reflector.pem  \n"
	    "key = /etc/ftpath/reflector.key\t# private\n"
	    "ca = /etc/ftp#1/ca.pem\n"
	    "control_port = 2021\r\n"
	    "active_source_port = 2020\n"
	    "passive_range = 40000-40099\n"
	    "allowed_ports = 2020-2021, 40000-40199\n"
	    "max_sessions = 2\n"
	    "max_ports_per_session = 200\n"
	    "session_timeout = 30\n"
	    "max_timeout_ms = 5000\n"
	    "connectback_min_port = 1\n"
	    "max_handshakes = 16\n"
	    "max_handshakes_per_source = 2\n"
	    "handshake_timeout = 3\n"
	    "session_lifetime = 120\n"
	    "allow_apply = yes\n"
	    "apply_state_dir = /var/lib/ftpath\n",
	    err, sizeof(err), NULL), 0);
	assert_string_equal(cfg.listen, "0.0.0.0:7021");
	assert_string_equal(cfg.cert, "/etc/ftpath/reflector.pem");
	assert_string_equal(cfg.key, "/etc/ftpath/reflector.key");
	/* '#' inside a word is part of the value, not a comment. */
	assert_string_equal(cfg.ca, "/etc/ftp#1/ca.pem");
	assert_int_equal(cfg.control_port, 2021);
	assert_int_equal(cfg.active_source_port, 2020);
	assert_int_equal(cfg.passive.lo, 40000);
	assert_int_equal(cfg.passive.hi, 40099);
	assert_int_equal(portset_count(cfg.allowed), 202);
	assert_int_equal(cfg.max_sessions, 2);
	assert_int_equal(cfg.max_ports_per_session, 200);
	assert_int_equal(cfg.session_timeout_s, 30);
	assert_int_equal(cfg.max_timeout_ms, 5000);
	assert_int_equal(cfg.connectback_min_port, 1);
	assert_int_equal(cfg.max_handshakes, 16);
	assert_int_equal(cfg.max_handshakes_per_source, 2);
	assert_int_equal(cfg.handshake_timeout_s, 3);
	assert_int_equal(cfg.session_lifetime_s, 120);
	assert_int_equal(cfg.allow_apply, 1);
	assert_string_equal(cfg.apply_state_dir, "/var/lib/ftpath");
	if (config_validate(&cfg, err, sizeof(err)) != 0)
		fail_msg("%s", err);

	/* Listen forms: bare v6, v4 without port, normalised. */
	assert_int_equal(config_set(&cfg, "listen", "::1", err, sizeof(err)),
	    0);
	assert_string_equal(cfg.listen, "[::1]:7021");
	assert_int_equal(config_set(&cfg, "listen", "192.0.2.1", err,
	    sizeof(err)), 0);
	assert_string_equal(cfg.listen, "192.0.2.1:7021");
	config_release(&cfg);
}

static void
test_unknown_key(void **state)
{
	struct reflector_config cfg;
	char err[256];
	char *path;
	char want[512];

	(void)state;
	assert_int_equal(config_defaults(&cfg), 0);
	assert_int_equal(load_text(&cfg, "cert = a\n# c\n\nbogus = 1\n", err,
	    sizeof(err), &path), FTP_ERR_CONFIG);
	snprintf(want, sizeof(want), "%s:4: unknown key \"bogus\"", path);
	assert_string_equal(err, want);
	remove_temp(path);

	assert_int_equal(config_set(&cfg, "Listen", "[::]:1", err,
	    sizeof(err)), FTP_ERR_CONFIG);
	assert_non_null(strstr(err, "unknown key"));
	assert_int_equal(load_text(&cfg, "just words\n", err, sizeof(err),
	    NULL), FTP_ERR_CONFIG);
	assert_non_null(strstr(err, ":1: expected"));
	assert_int_equal(load_text(&cfg, "= 5\n", err, sizeof(err), NULL),
	    FTP_ERR_CONFIG);
	assert_non_null(strstr(err, ":1: missing key"));
	config_release(&cfg);
}

static void
test_bad_values(void **state)
{
	static const char *const bad[][2] = {
		{ "control_port", "0" },
		{ "control_port", "65536" },
		{ "control_port", "-1" },
		{ "control_port", "+21" },
		{ "control_port", "0x15" },
		{ "control_port", "21a" },
		{ "control_port", "" },
		{ "active_source_port", "99999999999999999999999" },
		{ "max_sessions", "0" },
		{ "max_sessions", "-4294967295" },
		{ "max_ports_per_session", "65536" },
		{ "session_timeout", "1.5" },
		{ "max_timeout_ms", "18446744073709551616" },
		{ "connectback_min_port", "0" },
		{ "max_handshakes", "0" },
		{ "max_handshakes_per_source", "4097" },
		{ "handshake_timeout", "0" },
		{ "handshake_timeout", "61" },
		{ "session_lifetime", "0" },
		{ "allow_apply", "1" },
		{ "allow_apply", "YES" },
		{ "allow_apply", "" },
		{ "apply_state_dir", "run/ftpath" },
		{ "passive_range", "2000-1000" },
		{ "passive_range", "0-10" },
		{ "passive_range", "1-" },
		{ "passive_range", "1-65536" },
		{ "allowed_ports", "21,,22" },
		{ "allowed_ports", "21,0" },
		{ "listen", "example.com:7021" },
		{ "listen", "[::]:0" },
		{ "listen", "0.0.0.0:70000" },
		{ "listen", "" },
		{ "cert", "/a #b" },
		{ "cert", "#b" },
		{ "key", " /lead" },
		{ "ca", "/trail " },
		{ "ca", "/new\nline" },
	};
	struct reflector_config cfg;
	char err[256], line[300], *path, want[512], *big;
	size_t i;

	(void)state;
	assert_int_equal(config_defaults(&cfg), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (config_set(&cfg, bad[i][0], bad[i][1], err, sizeof(err)) !=
		    FTP_ERR_CONFIG)
			fail_msg("accepted %s = \"%s\"", bad[i][0], bad[i][1]);
		assert_non_null(strstr(err, bad[i][0]));
	}
	/* Nothing above changed the configuration. */
	assert_int_equal(cfg.control_port, 21);
	assert_int_equal(cfg.active_source_port, 20);
	assert_int_equal(cfg.max_sessions, 8);
	assert_int_equal(cfg.passive.lo, 0);
	assert_int_equal(portset_count(cfg.allowed), 0);
	assert_string_equal(cfg.listen, "[::]:7021");

	/* The line number points at the bad line. */
	snprintf(line, sizeof(line), "control_port = 21\n\n# x\n"
	    "passive_range = 5-4\n");
	assert_int_equal(load_text(&cfg, line, err, sizeof(err), &path),
	    FTP_ERR_CONFIG);
	snprintf(want, sizeof(want), "%s:4: bad value for passive_range",
	    path);
	assert_memory_equal(err, want, strlen(want));
	remove_temp(path);

	/* Overlong value for a path. */
	big = malloc(5000);
	assert_non_null(big);
	memset(big, 'x', 4096);
	big[4096] = '\0';
	assert_int_equal(config_set(&cfg, "cert", big, err, sizeof(err)),
	    FTP_ERR_CONFIG);
	assert_non_null(strstr(err, "too long"));
	big[4095] = '\0';
	assert_int_equal(config_set(&cfg, "cert", big, err, sizeof(err)), 0);

	/* A line over 4096 characters. */
	memcpy(big, "cert = ", 7);
	memset(big + 7, 'y', 4200);
	memcpy(big + 4207, "\n", 2);
	assert_int_equal(load_text(&cfg, big, err, sizeof(err), NULL),
	    FTP_ERR_CONFIG);
	assert_non_null(strstr(err, ":1: line longer"));
	free(big);

	/* Missing file: a system error naming the file. */
	assert_int_equal(config_load_file(&cfg, "/nonexistent/ftpath.conf",
	    err, sizeof(err)), FTP_ERR_SYSTEM);
	assert_non_null(strstr(err, "/nonexistent/ftpath.conf"));
	config_release(&cfg);
}

static void
set_certs(struct reflector_config *cfg)
{
	char err[256];

	assert_int_equal(config_set(cfg, "cert", "c", err, sizeof(err)), 0);
	assert_int_equal(config_set(cfg, "key", "k", err, sizeof(err)), 0);
	assert_int_equal(config_set(cfg, "ca", "a", err, sizeof(err)), 0);
}

static void
test_validation(void **state)
{
	struct reflector_config cfg;
	char err[256];

	(void)state;
	/* Control port outside an explicit allowed set. */
	assert_int_equal(config_defaults(&cfg), 0);
	set_certs(&cfg);
	assert_int_equal(config_set(&cfg, "allowed_ports", "20,2121", err,
	    sizeof(err)), 0);
	assert_int_equal(config_validate(&cfg, err, sizeof(err)),
	    FTP_ERR_CONFIG);
	assert_non_null(strstr(err, "control_port 21"));
	config_release(&cfg);

	/* Active source port outside. */
	assert_int_equal(config_defaults(&cfg), 0);
	set_certs(&cfg);
	assert_int_equal(config_set(&cfg, "allowed_ports", "21", err,
	    sizeof(err)), 0);
	assert_int_equal(config_validate(&cfg, err, sizeof(err)),
	    FTP_ERR_CONFIG);
	assert_non_null(strstr(err, "active_source_port 20"));
	config_release(&cfg);

	/* Passive range only partly allowed. */
	assert_int_equal(config_defaults(&cfg), 0);
	set_certs(&cfg);
	assert_int_equal(config_set(&cfg, "allowed_ports", "20-21,100-199",
	    err, sizeof(err)), 0);
	assert_int_equal(config_set(&cfg, "passive_range", "150-250", err,
	    sizeof(err)), 0);
	assert_int_equal(config_validate(&cfg, err, sizeof(err)),
	    FTP_ERR_CONFIG);
	assert_non_null(strstr(err, "passive_range 150-250"));
	assert_int_equal(config_set(&cfg, "passive_range", "150-199", err,
	    sizeof(err)), 0);
	assert_int_equal(config_validate(&cfg, err, sizeof(err)), 0);
	/* Explicit allowed set is not widened by validation. */
	assert_int_equal(portset_count(cfg.allowed), 102);
	config_release(&cfg);

	/* Each missing file is named. */
	assert_int_equal(config_defaults(&cfg), 0);
	assert_int_equal(config_set(&cfg, "cert", "c", err, sizeof(err)), 0);
	assert_int_equal(config_set(&cfg, "ca", "a", err, sizeof(err)), 0);
	assert_int_equal(config_validate(&cfg, err, sizeof(err)),
	    FTP_ERR_CONFIG);
	assert_string_equal(err, "key is not set");
	config_release(&cfg);

	/* A listen address written straight into the struct is checked. */
	assert_int_equal(config_defaults(&cfg), 0);
	set_certs(&cfg);
	strcpy(cfg.listen, "nonsense");
	assert_int_equal(config_validate(&cfg, err, sizeof(err)),
	    FTP_ERR_CONFIG);
	assert_non_null(strstr(err, "listen"));
	config_release(&cfg);
}

/* config_print output as a string (caller frees). */
static char *
print_to_string(const struct reflector_config *cfg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	config_print(cfg, f);
	assert_int_equal(fclose(f), 0);
	assert_non_null(buf);
	return buf;
}

static void
test_round_trip(void **state)
{
	struct reflector_config a, b;
	char err[256], *text1, *text2;
	unsigned p;
	struct portrange r;

	(void)state;
	assert_int_equal(config_defaults(&a), 0);
	assert_int_equal(load_text(&a,
	    "listen = ::\n"
	    "cert = /c.pem\nkey = /k.pem\nca = /ca.pem\n"
	    "passive_range = 50000-50100\n"
	    "max_sessions = 3\n", err, sizeof(err), NULL), 0);
	assert_int_equal(config_validate(&a, err, sizeof(err)), 0);
	text1 = print_to_string(&a);
	assert_non_null(strstr(text1, "listen = [::]:7021\n"));
	assert_non_null(strstr(text1, "passive_range = 50000-50100\n"));
	assert_non_null(strstr(text1,
	    "allowed_ports = 20-21,50000-50100\n"));
	assert_non_null(strstr(text1, "session_timeout = 60\n"));

	assert_int_equal(config_defaults(&b), 0);
	assert_int_equal(load_text(&b, text1, err, sizeof(err), NULL), 0);
	assert_int_equal(config_validate(&b, err, sizeof(err)), 0);
	text2 = print_to_string(&b);
	assert_string_equal(text1, text2);
	free(text1);
	free(text2);
	config_release(&b);

	/* A fragmented allowed set spans several lines and still loads. */
	for (p = 1000; p < 20000; p += 2) {
		r.lo = r.hi = (uint16_t)p;
		assert_int_equal(portset_add_range(a.allowed, &r), 0);
	}
	assert_int_equal(config_set(&a, "passive_range", "none", err,
	    sizeof(err)), 0);
	text1 = print_to_string(&a);
	assert_non_null(strstr(text1, "passive_range = none\n"));
	assert_int_equal(config_defaults(&b), 0);
	assert_int_equal(load_text(&b, text1, err, sizeof(err), NULL), 0);
	assert_int_equal(portset_count(b.allowed), portset_count(a.allowed));
	assert_int_equal(b.passive.lo, 0);
	text2 = print_to_string(&b);
	assert_string_equal(text1, text2);
	free(text1);
	free(text2);
	config_release(&b);
	config_release(&a);
}

/* crl is optional: unset it is not printed, set it round-trips, and an
 * empty value ("crl =") unsets it. */
static void
test_crl_key(void **state)
{
	struct reflector_config cfg;
	char err[256], *text;

	(void)state;
	assert_int_equal(config_defaults(&cfg), 0);
	set_certs(&cfg);
	assert_int_equal(config_validate(&cfg, err, sizeof(err)), 0);
	text = print_to_string(&cfg);
	assert_null(strstr(text, "crl"));
	free(text);
	assert_int_equal(load_text(&cfg, "crl = /etc/ftpath/ca.crl\n", err,
	    sizeof(err), NULL), 0);
	assert_string_equal(cfg.crl, "/etc/ftpath/ca.crl");
	text = print_to_string(&cfg);
	assert_non_null(strstr(text, "\nca = a\ncrl = /etc/ftpath/ca.crl\n"));
	free(text);
	assert_int_equal(load_text(&cfg, "crl =\n", err, sizeof(err), NULL),
	    0);
	assert_string_equal(cfg.crl, "");
	config_release(&cfg);
}

/* allowed_agents: patterns normalised to "a, b", printed back, matched
 * with fnmatch; unset (or empty) allows every name; bad characters and
 * too many patterns are refused naming the key. */
static void
test_allowed_agents(void **state)
{
	struct reflector_config cfg;
	char err[256], *text, many[1024];
	size_t i;

	(void)state;
	assert_int_equal(config_defaults(&cfg), 0);
	set_certs(&cfg);
	assert_int_equal(config_agent_allowed(&cfg, "anything"), 1);
	assert_int_equal(load_text(&cfg, "allowed_agents = agent1,site-*  "
	    "ops?\n", err, sizeof(err), NULL), 0);
	assert_string_equal(cfg.allowed_agents, "agent1, site-*, ops?");
	assert_int_equal(config_agent_allowed(&cfg, "agent1"), 1);
	assert_int_equal(config_agent_allowed(&cfg, "site-paris"), 1);
	assert_int_equal(config_agent_allowed(&cfg, "ops7"), 1);
	assert_int_equal(config_agent_allowed(&cfg, "agent2"), 0);
	assert_int_equal(config_agent_allowed(&cfg, "ops77"), 0);
	assert_int_equal(config_agent_allowed(&cfg, ""), 0);
	assert_int_equal(config_validate(&cfg, err, sizeof(err)), 0);
	text = print_to_string(&cfg);
	assert_non_null(strstr(text, "\nallowed_agents = agent1, site-*, "
	    "ops?\n"));
	free(text);
	assert_int_equal(load_text(&cfg, "allowed_agents = agent/1\n", err,
	    sizeof(err), NULL), FTP_ERR_CONFIG);
	assert_non_null(strstr(err, "allowed_agents"));
	many[0] = '\0';
	for (i = 0; i < 65; i++)
		strcat(many, "a,");
	assert_int_equal(config_set(&cfg, "allowed_agents", many, err,
	    sizeof(err)), FTP_ERR_CONFIG);
	assert_int_equal(load_text(&cfg, "allowed_agents =\n", err,
	    sizeof(err), NULL), 0);
	assert_int_equal(config_agent_allowed(&cfg, "agent2"), 1);
	config_release(&cfg);
}

/* metrics_listen: optional, normalised, the port required, printed back
 * only when set. */
static void
test_metrics_listen(void **state)
{
	struct reflector_config cfg;
	char err[256], *text;

	(void)state;
	assert_int_equal(config_defaults(&cfg), 0);
	set_certs(&cfg);
	assert_string_equal(cfg.metrics_listen, "");
	assert_int_equal(load_text(&cfg, "metrics_listen = 203.0.113.2:9110\n",
	    err, sizeof(err), NULL), 0);
	assert_string_equal(cfg.metrics_listen, "203.0.113.2:9110");
	assert_int_equal(load_text(&cfg, "metrics_listen = [2001:db8::1]:9110"
	    "\n", err, sizeof(err), NULL), 0);
	assert_string_equal(cfg.metrics_listen, "[2001:db8::1]:9110");
	assert_int_equal(config_validate(&cfg, err, sizeof(err)), 0);
	text = print_to_string(&cfg);
	assert_non_null(strstr(text, "metrics_listen = [2001:db8::1]:9110\n"));
	free(text);
	assert_int_equal(load_text(&cfg, "metrics_listen = 203.0.113.2\n", err,
	    sizeof(err), NULL), FTP_ERR_CONFIG);
	assert_non_null(strstr(err, "metrics_listen"));
	assert_int_equal(load_text(&cfg, "metrics_listen = localhost:9110\n",
	    err, sizeof(err), NULL), FTP_ERR_CONFIG);
	assert_int_equal(load_text(&cfg, "metrics_listen =\n", err,
	    sizeof(err), NULL), 0);
	text = print_to_string(&cfg);
	assert_null(strstr(text, "metrics_listen"));
	free(text);
	config_release(&cfg);
}

/* The buffer entry point the loader wraps: no NUL terminator needed, a
 * last line without "\n", CRLF, a NUL inside, nothing at all. */
static void
test_parse_buffer(void **state)
{
	static const char text[] = "control_port = 2121\r\nmax_sessions = 3";
	static const char nul[] = "max_sessions = 3\nmax_\0sessions = 4\n";
	struct reflector_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(config_defaults(&cfg), 0);
	/* Not NUL-terminated: the 3 is the last byte given. */
	assert_int_equal(config_parse_buffer(&cfg, text, sizeof(text) - 1,
	    "mem", err, sizeof(err)), 0);
	assert_int_equal(cfg.control_port, 2121);
	assert_int_equal(cfg.max_sessions, 3);
	assert_int_equal(config_parse_buffer(&cfg, nul, sizeof(nul) - 1,
	    "mem", err, sizeof(err)), FTP_ERR_CONFIG);
	assert_string_equal(err, "mem:2: NUL byte in line");
	assert_int_equal(config_parse_buffer(&cfg, NULL, 0, NULL, err,
	    sizeof(err)), 0);
	assert_int_equal(config_parse_buffer(&cfg, "x\n", 2, NULL, err,
	    sizeof(err)), FTP_ERR_CONFIG);
	assert_non_null(strstr(err, "-:1: expected"));
	config_release(&cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_good_file),
		cmocka_unit_test(test_parse_buffer),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_validation),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_crl_key),
		cmocka_unit_test(test_allowed_agents),
		cmocka_unit_test(test_metrics_listen),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
