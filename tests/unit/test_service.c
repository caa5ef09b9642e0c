/*
 * test_service.c - the real FTP client's result -> failure, causes,
 * the report's "service" object and causes list (service.c, report.c).
 *
 * Documentation addresses: the agent 198.51.100.2, the server
 * 203.0.113.2, an unreachable 227 address 192.0.2.99.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "report.h"
#include "service.h"
#include "testaddr.h"

static void
reply(struct ftpcheck_reply *r, int code, const char *text)
{
	memset(r, 0, sizeof(*r));
	r->code = code;
	r->nlines = 1;
	snprintf(r->text, sizeof(r->text), "%s", text);
}

/* A session where everything worked (all four modes). */
static void
good(struct ftpcheck_result *r)
{
	int m;

	memset(r, 0, sizeof(*r));
	r->control_connected = 1;
	sa_set(&r->control_local, "198.51.100.2", 40000);
	sa_set(&r->control_peer, "203.0.113.2", 21);
	reply(&r->banner, 220, "220 (vsFTPd 3.0.3)");
	reply(&r->user, 331, "331 Please specify the password.");
	reply(&r->pass, 230, "230 Login successful.");
	r->logged_in = 1;
	for (m = 0; m < FTPCHECK_NMODES; m++) {
		struct ftpcheck_data *d = &r->mode[m];

		d->attempted = 1;
		d->connected = 1;
		d->ok = 1;
		d->bytes = 62;
		reply(&d->xfer, 150, "150 Here comes the directory listing.");
		reply(&d->done, 226, "226 Directory send OK.");
	}
	reply(&r->mode[FTPCHECK_EPSV].reply, 229,
	    "229 Entering Extended Passive Mode (|||30001|)");
	r->mode[FTPCHECK_EPSV].adv_ok = 1;
	sa_set(&r->mode[FTPCHECK_EPSV].adv, "203.0.113.2", 30001);
	reply(&r->mode[FTPCHECK_PASV].reply, 227,
	    "227 Entering Passive Mode (203,0,113,2,117,49).");
	r->mode[FTPCHECK_PASV].adv_ok = 1;
	sa_set(&r->mode[FTPCHECK_PASV].adv, "203.0.113.2", 30001);
}

static void
test_good(void **state)
{
	struct ftpcheck_result r;
	struct service_cause c[SERVICE_MAX_CAUSES];

	(void)state;
	good(&r);
	assert_int_equal(service_failed(&r), 0);
	assert_int_equal(service_causes(&r, c, SERVICE_MAX_CAUSES), 0);
}

static void
test_refused(void **state)
{
	struct ftpcheck_result r;
	struct service_cause c[SERVICE_MAX_CAUSES];
	int m;

	(void)state;
	good(&r);
	reply(&r.banner, 421, "421 There are too many connections from your "
	    "internet address.");
	r.logged_in = 0;
	memset(&r.user, 0, sizeof(r.user));
	memset(&r.pass, 0, sizeof(r.pass));
	for (m = 0; m < FTPCHECK_NMODES; m++)
		memset(&r.mode[m], 0, sizeof(r.mode[m]));
	assert_int_equal(service_failed(&r), 1);
	assert_int_equal(service_causes(&r, c, SERVICE_MAX_CAUSES), 1);
	assert_int_equal(c[0].cause, CAUSE_SERVICE_REFUSED);
	assert_string_equal(c[0].evidence, "421 There are too many "
	    "connections from your internet address.");
}

static void
pasv_unreachable(struct ftpcheck_result *r)
{
	struct ftpcheck_data *d = &r->mode[FTPCHECK_PASV];

	good(r);
	reply(&d->reply, 227, "227 Entering Passive Mode (192,0,2,99,117,49).");
	sa_set(&d->adv, "192.0.2.99", 30001);
	d->adv_differs = 1;
	d->connected = 0;
	d->ok = 0;
	d->bytes = 0;
	d->data_err = ENETUNREACH;
	memset(&d->xfer, 0, sizeof(d->xfer));
	memset(&d->done, 0, sizeof(d->done));
}

static void
test_pasv_address(void **state)
{
	struct ftpcheck_result r;
	struct service_cause c[SERVICE_MAX_CAUSES];

	(void)state;
	pasv_unreachable(&r);
	assert_int_equal(service_failed(&r), 1);
	assert_int_equal(service_causes(&r, c, SERVICE_MAX_CAUSES), 1);
	assert_int_equal(c[0].cause, CAUSE_PASV_ADDRESS);
	assert_non_null(strstr(c[0].evidence, "227 advertised "
	    "192.0.2.99:30001, the client dialled 203.0.113.2; the data "
	    "connection to it failed ("));
	assert_non_null(strstr(c[0].evidence, "); EPSV worked"));
	/* EPSV failing too: still the cause, without the last clause */
	r.mode[FTPCHECK_EPSV].ok = 0;
	assert_int_equal(service_causes(&r, c, SERVICE_MAX_CAUSES), 1);
	assert_null(strstr(c[0].evidence, "EPSV worked"));
}

/* The 227 address is the one dialled, or the data connection worked: no
 * pasv-address; a failing session without proof names no cause. */
static void
test_no_cause(void **state)
{
	struct ftpcheck_result r;
	struct service_cause c[SERVICE_MAX_CAUSES];

	(void)state;
	pasv_unreachable(&r);
	r.mode[FTPCHECK_PASV].adv_differs = 0;
	assert_int_equal(service_failed(&r), 1);
	assert_int_equal(service_causes(&r, c, SERVICE_MAX_CAUSES), 0);

	pasv_unreachable(&r);
	r.mode[FTPCHECK_PASV].connected = 1;
	assert_int_equal(service_causes(&r, c, SERVICE_MAX_CAUSES), 0);

	/* control connection refused (no FTP server) */
	memset(&r, 0, sizeof(r));
	r.control_err = ECONNREFUSED;
	assert_int_equal(service_failed(&r), 1);
	assert_int_equal(service_causes(&r, c, SERVICE_MAX_CAUSES), 0);

	/* login refused, active mode refused */
	good(&r);
	r.logged_in = 0;
	reply(&r.pass, 530, "530 Login incorrect.");
	assert_int_equal(service_failed(&r), 1);
	assert_int_equal(service_causes(&r, c, SERVICE_MAX_CAUSES), 0);
	good(&r);
	r.mode[FTPCHECK_PORT].ok = 0;
	reply(&r.mode[FTPCHECK_PORT].reply, 500, "500 Illegal PORT command.");
	assert_int_equal(service_failed(&r), 1);
	assert_int_equal(service_causes(&r, c, SERVICE_MAX_CAUSES), 0);

	/* TLS is informational */
	good(&r);
	r.tls.attempted = 1;
	reply(&r.tls.reply, 530, "530 Please login with USER and PASS.");
	assert_int_equal(service_failed(&r), 0);
}

static void
test_json_and_report(void **state)
{
	struct ftpcheck_result r;
	struct session_facts f;
	struct evidence e;
	struct report *rep;
	json_t *j, *svc, *causes, *c, *m;
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	(void)state;
	memset(&f, 0, sizeof(f));
	sa_set(&f.server, "203.0.113.2", 21);
	memset(&e, 0, sizeof(e));
	e.f = &f;
	e.agent_version = "0.1.0";
	e.reflector_version = "r";
	e.server_name = "203.0.113.2";
	e.control_port = 21;
	rep = classify(&e);
	assert_non_null(rep);
	/* not tested: {"tested": false}, nothing fails */
	j = report_json(rep);
	assert_non_null(j);
	assert_true(json_is_false(json_object_get(json_object_get(j,
	    "service"), "tested")));
	json_decref(j);
	assert_int_equal(report_failed(rep), 0);
	report_free(rep);

	pasv_unreachable(&r);
	e.svc = &r;
	assert_non_null(rep = classify(&e));
	assert_int_equal(report_failed(rep), 1);
	j = report_json(rep);
	assert_non_null(j);
	svc = json_object_get(j, "service");
	assert_true(json_is_false(json_object_get(svc, "ok")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    svc, "banner"), "code")), 220);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    svc, "login"), "code")), 230);
	m = json_array_get(json_object_get(svc, "modes"), FTPCHECK_PASV);
	assert_string_equal(json_string_value(json_object_get(m, "mode")),
	    "PASV");
	assert_true(json_is_false(json_object_get(m, "ok")));
	assert_string_equal(json_string_value(json_object_get(m,
	    "advertised")), "192.0.2.99:30001");
	assert_non_null(json_string_value(json_object_get(m, "data_error")));
	assert_true(json_is_null(json_object_get(svc, "tls")));
	causes = json_object_get(j, "causes");
	assert_int_equal(json_array_size(causes), 1);
	c = json_array_get(causes, 0);
	assert_string_equal(json_string_value(json_object_get(c, "cause")),
	    "pasv-address");
	assert_string_equal(json_string_value(json_array_get(
	    json_object_get(c, "probes"), 0)), "service PASV");
	assert_int_equal(json_array_size(json_object_get(c, "evidence")), 1);
	json_decref(j);

	out = open_memstream(&buf, &len);
	assert_non_null(out);
	assert_int_equal(report_print(rep, out, 0), 0);
	fclose(out);
	assert_non_null(strstr(buf, "real FTP client: 203.0.113.2:21"));
	assert_non_null(strstr(buf, "PASS EPSV"));
	assert_non_null(strstr(buf, "FAIL PASV     data connection to "
	    "192.0.2.99:30001 failed"));
	assert_non_null(strstr(buf, "pasv-address: 227 advertised"));
	free(buf);
	report_free(rep);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_pasv_address),
		cmocka_unit_test(test_no_cause),
		cmocka_unit_test(test_json_and_report),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
