/*
 * test_alg.c - the ALG classifier: each exchange as sent vs received,
 * the overall class, the A/B against a non-FTP port, cause alg-rewrite,
 * and the active verdict that passes only through the ALG
 * (alg-dependent).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "alg.h"
#include "report.h"
#include "testaddr.h"

#define R227 "227 Entering Passive Mode (203,0,113,2,117,48).\r\n"
#define R229 "229 Entering Extended Passive Mode (|||30000|)\r\n"
#define A_SENT "PASV\r\nEPSV\r\nPORT 198,51,100,2,149,15\r\n" \
	"EPRT |1|198.51.100.2|38159|\r\nQUIT\r\n"
#define R_SENT R227 R229 "200 PORT command successful.\r\n" \
	"200 EPRT command successful.\r\n221 Goodbye.\r\n"

#define V6_SENT "EPSV\r\nEPRT |2|2001:db8:1::2|4000|\r\nQUIT\r\n"
#define V6_REPLIES R229 "200 EPRT command successful.\r\n221 Goodbye.\r\n"
/* PORT and EPRT as a NAT gateway's FTP helper rewrites them */
#define A_SENT_NAT "PASV\r\nEPSV\r\nPORT 203,0,113,1,149,15\r\n" \
	"EPRT |1|203.0.113.1|38159|\r\nQUIT\r\n"

static void
set(char *dst, size_t *len, const char *s)
{
	*len = strlen(s);
	memcpy(dst, s, *len);
}

/* One dialogue on port whose bytes arrived as given. */
static void
dlg(struct alg_dlg *d, uint16_t port, const char *r_recv,
    const char *a_recv)
{
	d->tested = 1;
	d->port = port;
	d->have_reflector = 1;
	snprintf(d->r_state, sizeof(d->r_state), "closed");
	set(d->a_sent, &d->a_sent_len, A_SENT);
	set(d->r_sent, &d->r_sent_len, R_SENT);
	set(d->r_recv, &d->r_recv_len, r_recv);
	set(d->a_recv, &d->a_recv_len, a_recv);
}

/* A dialogue on port 21 through NAT (agent 198.51.100.2 seen as
 * 203.0.113.1) whose bytes arrived as given; no A/B. */
static struct alg_obs *
obs(const char *r_recv, const char *a_recv)
{
	struct alg_obs *o = calloc(1, sizeof(*o));

	assert_non_null(o);
	dlg(&o->d[ALG_D_CONTROL], 21, r_recv, a_recv);
	sa_set(&o->client_public, "203.0.113.1", 0);
	sa_set(&o->server_public, "203.0.113.2", 0);
	return o;
}

static void
test_untouched(void **state)
{
	struct alg_obs *o = obs(A_SENT, R_SENT);
	struct alg_result r;
	json_t *j;

	(void)state;
	alg_classify(o, &r);
	assert_int_equal(r.d[ALG_D_CONTROL].cls, ALG_UNTOUCHED);
	assert_int_equal(r.d[ALG_D_CONTROL].x[ALG_X_PORT].cls, ALG_UNTOUCHED);
	assert_int_equal(r.d[ALG_D_CONTROL].x[ALG_X_229].cls, ALG_UNTOUCHED);
	assert_false(r.rewrite);
	j = alg_json(o, &r);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "class")),
	    "untouched");
	json_decref(j);
	free(o);
}

static void
test_rewritten_to_observed(void **state)
{
	struct alg_obs *o = obs("PASV\r\nEPSV\r\nPORT 203,0,113,1,149,15\r\n"
	    "EPRT |1|203.0.113.1|38159|\r\nQUIT\r\n", R_SENT);
	struct alg_result r;
	char ev[512];

	(void)state;
	alg_classify(o, &r);
	assert_int_equal(r.d[ALG_D_CONTROL].x[ALG_X_PORT].cls, ALG_REWRITTEN_OBSERVED);
	assert_int_equal(r.d[ALG_D_CONTROL].x[ALG_X_EPRT].cls, ALG_REWRITTEN_OBSERVED);
	assert_int_equal(r.d[ALG_D_CONTROL].x[ALG_X_227].cls, ALG_UNTOUCHED);
	assert_int_equal(r.d[ALG_D_CONTROL].cls, ALG_REWRITTEN_OBSERVED);
	assert_true(r.rewrite);
	assert_false(r.rewrite_fails);
	assert_string_equal(r.d[ALG_D_CONTROL].x[ALG_X_PORT].sent, "PORT 198,51,100,2,149,15");
	assert_string_equal(r.d[ALG_D_CONTROL].x[ALG_X_PORT].received,
	    "PORT 203,0,113,1,149,15");
	alg_rewrite_evidence(o, &r, ev, sizeof(ev));
	assert_non_null(strstr(ev, "PORT sent 'PORT 198,51,100,2,149,15', "
	    "received 'PORT 203,0,113,1,149,15'"));
	free(o);
}

static void
test_rewritten_wrong_and_port(void **state)
{
	/* double NAT: an address neither sent nor observed; the port of
	 * the 229 changed */
	struct alg_obs *o = obs("PASV\r\nEPSV\r\nPORT 192,0,2,7,149,15\r\n"
	    "EPRT |1|198.51.100.2|38160|\r\nQUIT\r\n", R227
	    "229 Entering Extended Passive Mode (|||30001|)\r\n"
	    "200 PORT command successful.\r\n"
	    "200 EPRT command successful.\r\n221 Goodbye.\r\n");
	struct alg_result r;

	(void)state;
	alg_classify(o, &r);
	assert_int_equal(r.d[ALG_D_CONTROL].x[ALG_X_PORT].cls, ALG_REWRITTEN_WRONG);
	assert_int_equal(r.d[ALG_D_CONTROL].x[ALG_X_EPRT].cls, ALG_REWRITTEN_PORT);
	assert_int_equal(r.d[ALG_D_CONTROL].x[ALG_X_229].cls, ALG_REWRITTEN_PORT);
	assert_int_equal(r.d[ALG_D_CONTROL].cls, ALG_REWRITTEN_WRONG);
	assert_true(r.rewrite_fails);
	free(o);
}

static void
test_mangled_and_missing(void **state)
{
	struct alg_obs *o = obs("PASV\r\nEPSV\r\nPORT 203,0,113,1\r\n",
	    R227);
	struct alg_result r;

	(void)state;
	alg_classify(o, &r);
	assert_int_equal(r.d[ALG_D_CONTROL].x[ALG_X_PORT].cls, ALG_MANGLED);
	assert_int_equal(r.d[ALG_D_CONTROL].x[ALG_X_EPRT].cls, ALG_MISSING);
	assert_int_equal(r.d[ALG_D_CONTROL].x[ALG_X_229].cls, ALG_MISSING);
	assert_int_equal(r.d[ALG_D_CONTROL].cls, ALG_MANGLED);
	free(o);
	/* only cut short: missing, no rewrite */
	o = obs("PASV\r\n", R227);
	alg_classify(o, &r);
	assert_int_equal(r.d[ALG_D_CONTROL].cls, ALG_MISSING);
	assert_false(r.rewrite);
	free(o);
}

static void
test_not_sent_ipv6(void **state)
{
	struct alg_obs *o = obs("", "");
	struct alg_dlg *d;
	struct alg_result r;

	(void)state;
	d = &o->d[ALG_D_CONTROL];
	set(d->a_sent, &d->a_sent_len, V6_SENT);
	set(d->r_recv, &d->r_recv_len, V6_SENT);
	set(d->r_sent, &d->r_sent_len, V6_REPLIES);
	set(d->a_recv, &d->a_recv_len, V6_REPLIES);
	alg_classify(o, &r);
	assert_int_equal(r.d[ALG_D_CONTROL].x[ALG_X_PORT].cls, ALG_NOT_SENT);
	assert_int_equal(r.d[ALG_D_CONTROL].x[ALG_X_227].cls, ALG_NOT_SENT);
	assert_int_equal(r.d[ALG_D_CONTROL].x[ALG_X_EPRT].cls, ALG_UNTOUCHED);
	assert_int_equal(r.d[ALG_D_CONTROL].cls, ALG_UNTOUCHED);
	free(o);
}

/* The A/B: the same dialogue on tcp/30000 as well. */
static struct alg_obs *
obs_ab(const char *ctl_recv, const char *other_recv)
{
	struct alg_obs *o = obs(ctl_recv, R_SENT);

	dlg(&o->d[ALG_D_OTHER], 30000, other_recv, R_SENT);
	return o;
}

static const char *
ab_get(const json_t *j, const char *key)
{
	return json_string_value(json_object_get(json_object_get(j, "ab"),
	    key));
}

static void
test_ab_ftp_alg(void **state)
{
	struct alg_obs *o = obs_ab(A_SENT_NAT, A_SENT);
	struct alg_result r;
	char ev[1024];
	json_t *j;

	(void)state;
	alg_classify(o, &r);
	assert_int_equal(r.d[ALG_D_CONTROL].cls, ALG_REWRITTEN_OBSERVED);
	assert_int_equal(r.d[ALG_D_OTHER].cls, ALG_UNTOUCHED);
	assert_int_equal(r.ab, ALG_AB_FTP_ALG);
	assert_true(r.rewrite);
	assert_false(r.rewrite_fails);
	alg_rewrite_evidence(o, &r, ev, sizeof(ev));
	assert_non_null(strstr(ev, "on tcp/21: PORT sent 'PORT "
	    "198,51,100,2,149,15', received 'PORT 203,0,113,1,149,15'"));
	assert_non_null(strstr(ev, "the same dialogue on tcp/30000 (not an "
	    "FTP control port) arrived untouched: an FTP ALG keyed on the "
	    "control port 21"));
	assert_null(strstr(ev, "generic"));
	assert_non_null(j = alg_json(o, &r));
	assert_string_equal(json_string_value(json_object_get(j, "class")),
	    "rewritten-to-observed");
	assert_string_equal(ab_get(j, "rewriter"), "ftp-alg");
	assert_string_equal(ab_get(j, "class"), "untouched");
	assert_int_equal(json_integer_value(json_object_get(
	    json_object_get(j, "ab"), "port")), 30000);
	assert_true(json_is_array(json_object_get(json_object_get(j, "ab"),
	    "exchanges")));
	json_decref(j);
	free(o);
}

static void
test_ab_generic(void **state)
{
	struct alg_obs *o = obs_ab(A_SENT_NAT, A_SENT_NAT);
	struct alg_result r;
	char ev[1024];
	json_t *j;

	(void)state;
	alg_classify(o, &r);
	assert_int_equal(r.d[ALG_D_OTHER].cls, ALG_REWRITTEN_OBSERVED);
	assert_int_equal(r.ab, ALG_AB_GENERIC);
	assert_true(r.rewrite);
	alg_rewrite_evidence(o, &r, ev, sizeof(ev));
	assert_non_null(strstr(ev, "on tcp/21: PORT sent"));
	assert_non_null(strstr(ev, "on tcp/30000 (not an FTP control port): "
	    "PORT sent"));
	assert_non_null(strstr(ev, "a generic payload rewriter"));
	assert_null(strstr(ev, "an FTP ALG keyed on the control port 21"));
	assert_non_null(j = alg_json(o, &r));
	assert_string_equal(ab_get(j, "rewriter"), "generic");
	assert_string_equal(ab_get(j, "class"), "rewritten-to-observed");
	json_decref(j);
	free(o);
}

static void
test_ab_none_and_other_only(void **state)
{
	struct alg_obs *o = obs_ab(A_SENT, A_SENT);
	struct alg_result r;
	char ev[1024];
	json_t *j;

	(void)state;
	alg_classify(o, &r);
	assert_int_equal(r.ab, ALG_AB_NONE);
	assert_false(r.rewrite);
	assert_non_null(j = alg_json(o, &r));
	assert_string_equal(ab_get(j, "rewriter"), "none");
	assert_string_equal(json_string_value(json_object_get(j, "class")),
	    "untouched");
	json_decref(j);
	free(o);
	/* only the other port's bytes rewritten: still a rewrite */
	o = obs_ab(A_SENT, A_SENT_NAT);
	alg_classify(o, &r);
	assert_int_equal(r.d[ALG_D_CONTROL].cls, ALG_UNTOUCHED);
	assert_int_equal(r.ab, ALG_AB_OTHER_ONLY);
	assert_true(r.rewrite);
	alg_rewrite_evidence(o, &r, ev, sizeof(ev));
	assert_ptr_equal(strstr(ev, "on tcp/30000 (not an FTP control port): "
	    "PORT sent"), ev);
	assert_non_null(strstr(ev, "the dialogue on the control port 21 "
	    "arrived untouched"));
	free(o);
}

static void
test_ab_inconclusive_and_not_tested(void **state)
{
	/* the other port's dialogue cut short after EPSV */
	struct alg_obs *o = obs_ab(A_SENT_NAT, "PASV\r\nEPSV\r\n");
	struct alg_result r;
	char ev[1024], tiny[24];
	json_t *j;

	(void)state;
	alg_classify(o, &r);
	assert_int_equal(r.d[ALG_D_OTHER].cls, ALG_MISSING);
	assert_int_equal(r.ab, ALG_AB_INCONCLUSIVE);
	assert_true(r.rewrite);
	alg_rewrite_evidence(o, &r, ev, sizeof(ev));
	assert_non_null(strstr(ev, "the dialogue on tcp/30000 was cut short"));
	/* a short buffer is cut, never overrun */
	alg_rewrite_evidence(o, &r, tiny, sizeof(tiny));
	assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
	free(o);
	/* no A/B: said so, with the reason */
	o = obs(A_SENT_NAT, R_SENT);
	o->d[ALG_D_OTHER].port = 30000;
	snprintf(o->d[ALG_D_OTHER].reason, sizeof(o->d[ALG_D_OTHER].reason),
	    "the passive probe to port 30000 did not reach the reflector");
	alg_classify(o, &r);
	assert_int_equal(r.ab, ALG_AB_NOT_TESTED);
	assert_true(r.rewrite);
	alg_rewrite_evidence(o, &r, ev, sizeof(ev));
	assert_non_null(strstr(ev, "not compared with another port (the "
	    "passive probe"));
	assert_non_null(j = alg_json(o, &r));
	assert_true(json_is_false(json_object_get(json_object_get(j, "ab"),
	    "tested")));
	assert_string_equal(ab_get(j, "rewriter"), "not-tested");
	assert_non_null(strstr(ab_get(j, "reason"), "passive probe"));
	json_decref(j);
	free(o);
}

static void
test_untested_json(void **state)
{
	struct alg_obs o;
	struct alg_result r;
	json_t *j;

	(void)state;
	memset(&o, 0, sizeof(o));
	snprintf(o.d[ALG_D_CONTROL].reason, sizeof(o.d[ALG_D_CONTROL].reason),
	    "port 21 in use");
	alg_classify(&o, &r);
	assert_false(r.rewrite);
	j = alg_json(&o, &r);
	assert_non_null(j);
	assert_true(json_is_false(json_object_get(j, "tested")));
	assert_string_equal(json_string_value(json_object_get(j, "reason")),
	    "port 21 in use");
	json_decref(j);
}

/* A warning cause is listed with severity "warning" and fails nothing;
 * the alg object is the report's "alg". */
static void
test_report_warning(void **state)
{
	struct session_facts f;
	struct report *rep;
	struct alg_obs *o = obs(A_SENT, R_SENT);
	struct alg_result res;
	json_t *j, *c;

	(void)state;
	memset(&f, 0, sizeof(f));
	assert_non_null(rep = report_new(&f, "t", "t", "srv"));
	assert_int_equal(report_add_cause(rep, REPORT_PART_ALG,
	    REPORT_WARNING, CAUSE_ALG_REWRITE, "alg",
	    "PORT rewritten to the observed address"), 0);
	alg_classify(o, &res);
	assert_int_equal(report_set_alg(rep, o, &res), 0);
	free(o);
	assert_int_equal(report_failed(rep), 0);
	assert_non_null(j = report_json(rep));
	c = json_array_get(json_object_get(j, "causes"), 0);
	assert_string_equal(json_string_value(json_object_get(c, "cause")),
	    "alg-rewrite");
	assert_string_equal(json_string_value(json_object_get(c,
	    "severity")), "warning");
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(j, "alg"), "class")), "untouched");
	json_decref(j);
	report_free(rep);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_untouched),
		cmocka_unit_test(test_rewritten_to_observed),
		cmocka_unit_test(test_rewritten_wrong_and_port),
		cmocka_unit_test(test_mangled_and_missing),
		cmocka_unit_test(test_not_sent_ipv6),
		cmocka_unit_test(test_ab_ftp_alg),
		cmocka_unit_test(test_ab_generic),
		cmocka_unit_test(test_ab_none_and_other_only),
		cmocka_unit_test(test_ab_inconclusive_and_not_tested),
		cmocka_unit_test(test_untested_json),
		cmocka_unit_test(test_report_warning),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
