/*
 * test_ftps.c - the classifier's FTPS data-path rule (classify_server.c
 * classify_ftps, service.c service_ftps_broke): a data mode that moved
 * data in plain FTP and fails under FTPS (PROT P) is alg-dependent with
 * severity failure, both outcomes as evidence and the passive range to
 * open as advice; a mode that fails either way, or whose TLS fails on a
 * data connection that came up, is not.
 *
 * Hand-built evidence (documentation addresses: agent 192.0.2.10, server
 * 203.0.113.2), assertions on the report's JSON, as test_classify.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testfacts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "report.h"

#define AGENT	"192.0.2.10"
#define SERVER	"203.0.113.2"
#define NPASV	4
#define PASV_LO	30000

struct fixture {
	struct session_facts f;
	struct probe_obs probes[1 + NPASV];
	struct ftpcheck_result svc;
	struct evidence e;
};

static void
obs_set(struct probe_obs *o, enum probe_kind k, uint16_t port,
    enum probe_outcome oc)
{
	memset(o, 0, sizeof(*o));
	o->kind = k;
	o->port = port;
	o->outcome = oc;
	inet_set(&o->local, AGENT, 45000);
	inet_set(&o->remote, SERVER, port);
	o->elapsed_ms = 20;
	o->arm = ARM_LISTENING;
	o->trace_state = TRACE_OBS_ON;
	o->ctrace_state = TRACE_OBS_ON;
	if (oc == OUTCOME_ACKED) {
		o->arrived = 1;
		o->seen_peer = o->local;
		o->seen_local = o->remote;
	}
}

/* One data mode as the real client saw it: reply accepted; moved data
 * (ok), or the data connection never came up (timed out). */
static void
mode_set(struct ftpcheck_data *d, enum ftpcheck_mode m, int ok)
{
	memset(d, 0, sizeof(*d));
	d->attempted = 1;
	d->reply.code = m == FTPCHECK_EPSV ? 229 : m == FTPCHECK_PASV ? 227 :
	    200;
	if (m == FTPCHECK_EPSV || m == FTPCHECK_PASV) {
		d->adv_ok = 1;
		sa_set(&d->adv, SERVER, PASV_LO + 1);
	} else {
		sa_set(&d->listen, AGENT, 41000);
		sa_set(&d->peer, SERVER, 20);
		d->peer_is_server = ok;
	}
	d->connected = ok;
	d->data_eof = ok;
	d->ok = ok;
	d->tls_ok = ok;
	d->data_timed_out = !ok;
	d->bytes = ok ? 62 : 0;
	d->xfer.code = ok ? 150 : 0;
	d->done.code = ok ? 226 : 0;
}

/* Every path passes; the real client moved data in every mode in plain
 * FTP; under FTPS mode m has outcome ftps_ok (the rest work). */
static struct fixture *
fixture_new(int plain_ok, int ftps_ok, enum ftpcheck_mode m)
{
	struct fixture *x = calloc(1, sizeof(*x));
	int i;

	assert_non_null(x);
	facts_set(&x->f, AGENT, SERVER, 10, 500);
	obs_set(&x->probes[0], PROBE_CONTROL, 21, OUTCOME_ACKED);
	x->probes[0].served = 1;
	for (i = 0; i < NPASV; i++)
		obs_set(&x->probes[1 + i], PROBE_PASSIVE,
		    (uint16_t)(PASV_LO + i), OUTCOME_ACKED);
	x->svc.control_connected = 1;
	sa_set(&x->svc.control_peer, SERVER, 21);
	x->svc.banner.code = 220;
	x->svc.logged_in = 1;
	x->svc.pass.code = 230;
	x->svc.tls.attempted = 1;
	x->svc.tls.reply.code = 234;
	x->svc.tls.handshake_ok = 1;
	x->svc.ftps.attempted = 1;
	x->svc.ftps.logged_in = 1;
	x->svc.ftps.pbsz.code = 200;
	x->svc.ftps.prot.code = 200;
	x->svc.ftps.prot_ok = 1;
	for (i = 0; i < FTPCHECK_NMODES; i++) {
		mode_set(&x->svc.mode[i], (enum ftpcheck_mode)i,
		    i == (int)m ? plain_ok : 1);
		mode_set(&x->svc.ftps.mode[i], (enum ftpcheck_mode)i,
		    i == (int)m ? ftps_ok : 1);
	}
	x->e.f = &x->f;
	x->e.agent_version = "test";
	x->e.reflector_version = "test";
	x->e.server_name = SERVER;
	x->e.control_port = 21;
	x->e.probes = x->probes;
	x->e.n_probes = 1 + NPASV;
	x->e.svc = &x->svc;
	return x;
}

static json_t *
run(const struct fixture *x, int *failed)
{
	struct report *r = classify(&x->e);
	json_t *j;

	assert_non_null(r);
	assert_non_null(j = report_json(r));
	*failed = report_failed(r);
	report_free(r);
	if (getenv("CLASSIFY_DUMP") != NULL)
		json_dumpf(j, stderr, JSON_INDENT(1));
	return j;
}

static const json_t *
cause_of(const json_t *j, const char *name)
{
	const json_t *c;
	size_t i;

	json_array_foreach(json_object_get(j, "causes"), i, c)
		if (strcmp(json_string_value(json_object_get(c, "cause")),
		    name) == 0)
			return c;
	return NULL;
}

/* Some string of c's array key contains needle. */
static int
has(const json_t *c, const char *key, const char *needle)
{
	const json_t *e;
	size_t i;

	json_array_foreach(json_object_get(c, key), i, e)
		if (strstr(json_string_value(e), needle) != NULL)
			return 1;
	return 0;
}

/* A helper on the server host opens the passive port for plain PASV
 * only: FTPS PASV times out.  alg-dependent, a failure, exit 1. */
static void
test_passive_broken_by_ftps(void **state)
{
	struct fixture *x = fixture_new(1, 0, FTPCHECK_PASV);
	const json_t *c;
	json_t *j;
	int failed;

	(void)state;
	j = run(x, &failed);
	assert_non_null(c = cause_of(j, "alg-dependent"));
	assert_string_equal(json_string_value(json_object_get(c,
	    "severity")), "failure");
	assert_true(has(c, "probes", "service FTPS PASV"));
	assert_false(has(c, "probes", "service FTPS EPSV"));
	assert_true(has(c, "evidence", "PASV worked in plain FTP (62 bytes) "
	    "and failed under FTPS: data connection to 203.0.113.2:30001 "
	    "failed: no answer (timed out)"));
	assert_true(has(c, "evidence", "with PROT P (encrypted control) it "
	    "cannot"));
	assert_true(has(c, "advice", "open the passive range tcp/30000-30003 "
	    "explicitly (it works with FTPS), instead of relying on the FTP "
	    "conntrack helper"));
	assert_true(failed);
	json_decref(j);
	free(x);
}

/* Active: the server's connection under FTPS never came (a client-side
 * helper opened it for plain PORT). */
static void
test_active_broken_by_ftps(void **state)
{
	struct fixture *x = fixture_new(1, 0, FTPCHECK_EPRT);
	const json_t *c;
	json_t *j;
	int failed;

	(void)state;
	j = run(x, &failed);
	assert_non_null(c = cause_of(j, "alg-dependent"));
	assert_string_equal(json_string_value(json_object_get(c,
	    "severity")), "failure");
	assert_true(has(c, "probes", "service FTPS EPRT"));
	assert_true(has(c, "evidence", "EPRT worked in plain FTP"));
	assert_true(has(c, "evidence", "the server did not connect to "
	    "192.0.2.10:41000"));
	assert_true(has(c, "advice", "active data connections"));
	assert_false(has(c, "advice", "passive range tcp/"));
	assert_true(failed);
	json_decref(j);
	free(x);
}

/* A mode that fails in plain FTP too is not about encryption. */
static void
test_fails_both_not_this_cause(void **state)
{
	struct fixture *x = fixture_new(0, 0, FTPCHECK_PASV);
	json_t *j;
	int failed;

	(void)state;
	j = run(x, &failed);
	assert_null(cause_of(j, "alg-dependent"));
	json_decref(j);
	free(x);
}

/* The FTPS data connection came up and its TLS failed: the path is
 * open, so no helper is to blame. */
static void
test_tls_failure_not_this_cause(void **state)
{
	struct fixture *x = fixture_new(1, 0, FTPCHECK_EPSV);
	struct ftpcheck_data *d = &x->svc.ftps.mode[FTPCHECK_EPSV];
	json_t *j;
	int failed;

	(void)state;
	d->connected = 1;
	d->data_timed_out = 0;
	d->data_err = EPROTO;
	snprintf(d->tls_error, sizeof(d->tls_error), "TLS handshake: "
	    "connection closed by the server");
	d->xfer.code = 150;
	d->done.code = 522;
	j = run(x, &failed);
	assert_null(cause_of(j, "alg-dependent"));
	json_decref(j);
	free(x);
}

/* FTPS works in every mode: nothing to say, exit 0. */
static void
test_ftps_clean(void **state)
{
	struct fixture *x = fixture_new(1, 1, FTPCHECK_EPSV);
	json_t *j;
	int failed;

	(void)state;
	j = run(x, &failed);
	assert_int_equal(json_array_size(json_object_get(j, "causes")), 0);
	assert_false(failed);
	json_decref(j);
	free(x);
}

/* PROT P refused: no FTPS mode ran, nothing is concluded. */
static void
test_prot_refused(void **state)
{
	struct fixture *x = fixture_new(1, 0, FTPCHECK_PASV);
	json_t *j;
	int failed;

	(void)state;
	x->svc.ftps.prot.code = 534;
	x->svc.ftps.prot_ok = 0;
	j = run(x, &failed);
	assert_null(cause_of(j, "alg-dependent"));
	json_decref(j);
	free(x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_passive_broken_by_ftps),
		cmocka_unit_test(test_active_broken_by_ftps),
		cmocka_unit_test(test_fails_both_not_this_cause),
		cmocka_unit_test(test_tls_failure_not_this_cause),
		cmocka_unit_test(test_ftps_clean),
		cmocka_unit_test(test_prot_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
