/*
 * test_mtuidle.c - the MTU black-hole and idle-timeout rules: their pure
 * judgements (mtu.h, idle.h) and what the classifier makes of hand-built
 * evidence (documentation addresses: agent 192.0.2.10, server
 * 203.0.113.2).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testfacts.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "idle.h"
#include "mtu.h"
#include "report.h"

#define AGENT	"192.0.2.10"
#define SERVER	"203.0.113.2"

/* ---- MTU: what the probe connections carried ---- */

/* Every size acked; packets above cut (0: none) lose server-to-client
 * filler, everything passes client-to-server. */
static void
mtu_cut(struct mtu_obs *o, unsigned cut)
{
	unsigned i;

	mtu_plan(o, AF_INET);
	o->tested = 1;
	o->port = 21;
	for (i = 0; i < o->n; i++) {
		struct mtu_size *s = &o->size[i];

		s->acked = 1;
		s->c2s_acked = o->bytes;
		s->s2c_bytes = cut != 0 && s->packet > cut ? 2896 : o->bytes;
		s->pmtu_start = s->pmtu_end = 1500;
	}
}

static void
test_mtu_plan(void **state)
{
	struct mtu_obs o;

	(void)state;
	mtu_plan(&o, AF_INET);
	assert_int_equal(o.n, MTU_MAX_SIZES);
	assert_int_equal(o.size[0].packet, 1500);
	assert_int_equal(o.size[0].mss, 1460);
	assert_int_equal(o.bytes, MTU_BYTES);
	mtu_plan(&o, AF_INET6);
	assert_int_equal(o.size[0].mss, 1440);
}

static void
test_mtu_cut_s2c(void **state)
{
	struct mtu_obs o;
	struct mtu_result r;

	(void)state;
	mtu_cut(&o, 1280);
	mtu_decide(&o, &r);
	assert_true(r.tested);
	assert_true(r.d[MTU_S2C].blackhole);
	assert_int_equal(r.d[MTU_S2C].largest_ok, 1280);
	assert_int_equal(r.d[MTU_S2C].smallest_bad, 1320);
	assert_false(r.d[MTU_C2S].blackhole);
	assert_int_equal(r.d[MTU_C2S].largest_ok, 1500);
}

/* The agent's own packets were no larger than its path MTU (a route
 * mtu of 1280): client-to-server is judged at that size. */
static void
test_mtu_c2s_route_mtu(void **state)
{
	struct mtu_obs o;
	struct mtu_result r;
	unsigned i;

	(void)state;
	mtu_cut(&o, 1280);
	for (i = 0; i < o.n; i++)
		o.size[i].pmtu_start = o.size[i].pmtu_end = 1280;
	mtu_decide(&o, &r);
	assert_int_equal(r.d[MTU_C2S].largest_ok, 1280);
	assert_false(r.d[MTU_C2S].blackhole);
	assert_true(r.d[MTU_S2C].blackhole);
}

/* ICMP came back (the path MTU dropped): path MTU discovery works, even
 * if the filler had not all arrived in time. */
static void
test_mtu_frag_needed(void **state)
{
	struct mtu_obs o;
	struct mtu_result r;

	(void)state;
	mtu_cut(&o, 1280);
	o.size[0].pmtu_end = 1280;
	mtu_decide(&o, &r);
	assert_true(r.d[MTU_S2C].frag_needed);
	assert_false(r.d[MTU_S2C].blackhole);
}

/* Small segments fail too: a broken path, not an MTU. */
static void
test_mtu_all_fail(void **state)
{
	struct mtu_obs o;
	struct mtu_result r;
	unsigned i;

	(void)state;
	mtu_cut(&o, 1);
	mtu_decide(&o, &r);
	assert_false(r.d[MTU_S2C].blackhole);
	assert_int_equal(r.d[MTU_S2C].largest_ok, 0);
	/* ... and a small size failing below a large one that passed is
	 * loss, not a cut */
	mtu_cut(&o, 0);
	o.size[o.n - 1].s2c_bytes = 0;
	mtu_decide(&o, &r);
	assert_false(r.d[MTU_S2C].blackhole);
	/* no ack at all: nothing known */
	for (i = 0; i < o.n; i++)
		o.size[i].acked = 0;
	mtu_decide(&o, &r);
	assert_false(r.tested);
}

/* ---- idle: which idle connections survived ---- */

static void
test_idle_plan(void **state)
{
	struct idle_obs o;

	(void)state;
	idle_plan(&o, 6);
	assert_int_equal(o.n, 3);
	assert_int_equal(o.ftp[0].idle_s, 1);
	assert_int_equal(o.ftp[1].idle_s, 3);
	assert_int_equal(o.ftp[2].idle_s, 6);
	idle_plan(&o, 1);
	assert_int_equal(o.n, 1);
	assert_int_equal(o.ftp[0].idle_s, 1);
	idle_plan(&o, 2);
	assert_int_equal(o.n, 2);
	assert_int_equal(o.ftp[1].idle_s, 2);
}

static void
idle_forgot(struct idle_obs *o, unsigned seconds, unsigned after)
{
	unsigned i;

	idle_plan(o, seconds);
	o->tested = 1;
	o->wait_ms = 3000;
	sa_set(&o->server, SERVER, 21);
	for (i = 0; i < o->n; i++) {
		o->ftp[i].outcome = o->ftp[i].idle_s > after ? IDLE_SILENT :
		    IDLE_ANSWERED;
		if (o->ftp[i].outcome == IDLE_ANSWERED)
			o->ftp[i].code = 200;
	}
	o->fresh_tested = o->fresh_ok = 1;
	o->chan_tested = o->chan_ok = 1;
}

static void
test_idle_decide(void **state)
{
	struct idle_obs o;
	struct idle_result r;

	(void)state;
	idle_forgot(&o, 8, 4);
	idle_decide(&o, &r);
	assert_true(r.timeout);
	assert_int_equal(r.largest_ok, 4);
	assert_int_equal(r.smallest_bad, 8);
	/* the server took no new connection either: not the path's doing */
	o.fresh_ok = 0;
	idle_decide(&o, &r);
	assert_false(r.timeout);
	/* the server closed it (its own idle timeout, 421): not the path */
	idle_forgot(&o, 8, 4);
	o.ftp[2].outcome = IDLE_CLOSED;
	idle_decide(&o, &r);
	assert_false(r.timeout);
	/* everything survived */
	idle_forgot(&o, 8, 8);
	idle_decide(&o, &r);
	assert_false(r.timeout);
	assert_int_equal(r.largest_ok, 8);
	/* only the control channel went silent */
	o.chan_ok = 0;
	o.chan_silent = 1;
	idle_decide(&o, &r);
	assert_true(r.timeout);
	assert_true(r.chan_lost);
	/* ... or was reset; a clean close is the reflector's own timeout */
	o.chan_silent = 0;
	o.chan_reset = 1;
	idle_decide(&o, &r);
	assert_true(r.chan_lost);
	o.chan_reset = 0;
	idle_decide(&o, &r);
	assert_false(r.timeout);
}

/* ---- the classifier over both ---- */

struct fixture {
	struct session_facts f;
	struct probe_obs probes[2];
	struct probe_obs active;
	struct mtu_obs mtu;
	struct idle_obs idle;
	struct evidence e;
};

static void
obs_acked(struct probe_obs *o, enum probe_kind k, uint16_t port)
{
	memset(o, 0, sizeof(*o));
	o->kind = k;
	o->port = port;
	o->outcome = OUTCOME_ACKED;
	o->arm = ARM_LISTENING;
	o->arrived = 1;
	if (k == PROBE_ACTIVE) {
		inet_set(&o->local, SERVER, 20);
		inet_set(&o->remote, AGENT, 41000);
	} else {
		inet_set(&o->local, AGENT, 45000);
		inet_set(&o->remote, SERVER, port);
	}
	o->seen_peer = o->local;
	o->seen_local = o->remote;
}

static struct fixture *
fixture_new(void)
{
	struct fixture *x = calloc(1, sizeof(*x));

	assert_non_null(x);
	facts_set(&x->f, AGENT, SERVER, 10, 500);
	obs_acked(&x->probes[0], PROBE_CONTROL, 21);
	x->probes[0].served = 1;	/* diverted: the FTP server owns 21 */
	obs_acked(&x->probes[1], PROBE_PASSIVE, 30000);
	obs_acked(&x->active, PROBE_ACTIVE, 20);
	x->e.f = &x->f;
	x->e.agent_version = "test";
	x->e.reflector_version = "test";
	x->e.server_name = SERVER;
	x->e.control_port = 21;
	x->e.probes = x->probes;
	x->e.n_probes = 2;
	x->e.active = &x->active;
	return x;
}

static json_t *
run(const struct fixture *x)
{
	struct report *r = classify(&x->e);
	json_t *j;

	assert_non_null(r);
	assert_non_null(j = report_json(r));
	report_free(r);
	if (getenv("CLASSIFY_DUMP") != NULL)
		json_dumpf(j, stderr, JSON_INDENT(1));
	return j;
}

static const char *
verdict_of(const json_t *j, const char *name, const char **cause)
{
	const json_t *p;
	size_t i;

	json_array_foreach(json_object_get(j, "probes"), i, p)
		if (strcmp(json_string_value(json_object_get(p, "name")),
		    name) == 0) {
			*cause = json_string_value(json_object_get(p, "cause"));
			return json_string_value(json_object_get(p, "verdict"));
		}
	fail_msg("no probe %s", name);
	return NULL;
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

static int
list_has(const json_t *list, const char *text)
{
	const json_t *s;
	size_t i;

	json_array_foreach(list, i, s)
		if (json_is_string(s) && strstr(json_string_value(s), text))
			return 1;
	return 0;
}

/* Server-to-client black hole: the data paths fail with the cause, the
 * control path passes, the cause names the direction and the advice. */
static void
test_classify_mtu_blackhole(void **state)
{
	struct fixture *x = fixture_new();
	const json_t *c;
	const char *cause;
	json_t *j;

	(void)state;
	mtu_cut(&x->mtu, 1280);
	x->e.mtu = &x->mtu;
	x->e.channel.small_mss = MTU_CHANNEL_MSS;
	x->e.channel.small_mss_ok = 1;
	j = run(x);
	assert_string_equal(verdict_of(j, "control", &cause), "pass");
	assert_string_equal(verdict_of(j, "passive", &cause), "fail");
	assert_string_equal(cause, "mtu-blackhole");
	assert_string_equal(verdict_of(j, "active", &cause), "fail");
	assert_string_equal(cause, "mtu-blackhole");
	assert_non_null(c = cause_of(j, "mtu-blackhole"));
	assert_string_equal(json_string_value(json_object_get(c, "severity")),
	    "failure");
	assert_true(list_has(json_object_get(c, "probes"),
	    "path server-to-client"));
	assert_true(list_has(json_object_get(c, "evidence"),
	    "1280-byte packets and smaller"));
	assert_true(list_has(json_object_get(c, "evidence"),
	    "completed with MSS 1200"));
	assert_true(list_has(json_object_get(c, "advice"),
	    "maxseg size set rt mtu"));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    json_object_get(j, "mtu"), "server_to_client"), "largest_ok")),
	    1280);
	json_decref(j);
	free(x);
}

/* Working path MTU discovery, or no test: no cause, paths pass. */
static void
test_classify_mtu_none(void **state)
{
	struct fixture *x = fixture_new();
	const char *cause;
	json_t *j;

	(void)state;
	mtu_cut(&x->mtu, 1280);
	x->mtu.size[0].pmtu_end = 1280;
	x->e.mtu = &x->mtu;
	j = run(x);
	assert_string_equal(verdict_of(j, "passive", &cause), "pass");
	assert_null(cause_of(j, "mtu-blackhole"));
	json_decref(j);
	mtu_plan(&x->mtu, AF_INET);
	snprintf(x->mtu.reason, sizeof(x->mtu.reason), "not armed");
	j = run(x);
	assert_string_equal(verdict_of(j, "active", &cause), "pass");
	assert_false(json_is_true(json_object_get(json_object_get(j, "mtu"),
	    "tested")));
	json_decref(j);
	free(x);
}

static int
notes_have(const json_t *j, const char *text)
{
	return list_has(json_object_get(j, "notes"), text);
}

/* The small-MSS retry of the control channel is a note; only the MTU
 * test's black hole explains it. */
static void
test_classify_channel_note(void **state)
{
	struct fixture *x = fixture_new();
	json_t *j;

	(void)state;
	x->e.channel.small_mss = MTU_CHANNEL_MSS;
	x->e.channel.small_mss_ok = 1;
	mtu_cut(&x->mtu, 1280);
	x->e.mtu = &x->mtu;
	j = run(x);
	assert_true(notes_have(j, "completed with TCP MSS 1200: the path "
	    "loses large segments (mtu-blackhole)"));
	json_decref(j);
	mtu_cut(&x->mtu, 0);
	j = run(x);
	assert_true(notes_have(j, "the MTU test found no black hole"));
	assert_null(cause_of(j, "mtu-blackhole"));
	json_decref(j);
	free(x);
}

static void
test_classify_idle(void **state)
{
	struct fixture *x = fixture_new();
	const json_t *c;
	const char *cause;
	json_t *j;

	(void)state;
	idle_forgot(&x->idle, 6, 1);
	x->idle.chan_ok = 0;
	x->idle.chan_silent = 1;
	snprintf(x->idle.chan_error, sizeof(x->idle.chan_error), "timed out");
	x->e.idle = &x->idle;
	j = run(x);
	assert_string_equal(verdict_of(j, "control", &cause), "pass");
	assert_string_equal(verdict_of(j, "passive", &cause), "pass");
	assert_non_null(c = cause_of(j, "idle-timeout"));
	assert_string_equal(json_string_value(json_object_get(c, "severity")),
	    "failure");
	assert_true(list_has(json_object_get(c, "evidence"),
	    "the longest idle that survived: 1 s"));
	assert_true(list_has(json_object_get(c, "evidence"),
	    "TLS control channel"));
	assert_true(list_has(json_object_get(c, "advice"),
	    "nf_conntrack_tcp_timeout_established"));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j,
	    "idle"), "largest_ok_s")), 1);
	json_decref(j);
	/* everything survived: no cause */
	idle_forgot(&x->idle, 6, 6);
	j = run(x);
	assert_null(cause_of(j, "idle-timeout"));
	json_decref(j);
	free(x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mtu_plan),
		cmocka_unit_test(test_mtu_cut_s2c),
		cmocka_unit_test(test_mtu_c2s_route_mtu),
		cmocka_unit_test(test_mtu_frag_needed),
		cmocka_unit_test(test_classify_channel_note),
		cmocka_unit_test(test_mtu_all_fail),
		cmocka_unit_test(test_idle_plan),
		cmocka_unit_test(test_idle_decide),
		cmocka_unit_test(test_classify_mtu_blackhole),
		cmocka_unit_test(test_classify_mtu_none),
		cmocka_unit_test(test_classify_idle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
