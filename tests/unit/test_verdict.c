/*
 * test_verdict.c - one test per classification rule of verdict.c.
 *
 * Facts are built by hand with documentation addresses: the agent is
 * 192.0.2.10, the server/reflector 203.0.113.2, routers 198.51.100.x.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testfacts.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "verdict.h"

#define AGENT	"192.0.2.10"
#define SERVER	"203.0.113.2"
#define ROUTER	"198.51.100.1"
#define NATADDR	"198.51.100.7"

static void
facts_init(struct session_facts *f)
{
	facts_set(f, AGENT, SERVER, 10, 500);
}

/* An agent-initiated probe to SERVER:port, reflector listening. */
static void
obs_out(struct probe_obs *o, enum probe_kind k, uint16_t port,
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
}

/* The reflector's connect-back from SERVER:20 to the agent's port. */
static void
obs_active(struct probe_obs *o, const struct session_facts *f,
    enum probe_outcome oc)
{
	memset(o, 0, sizeof(*o));
	o->kind = PROBE_ACTIVE;
	o->port = 20;
	o->outcome = oc;
	inet_set(&o->local, SERVER, 20);
	assert_int_equal(addr_inet_set(&o->remote, ADDR_SA(&f->agent_observed)),
	    0);
	((struct sockaddr_in *)(void *)&o->remote)->sin_port = htons(41000);
	o->elapsed_ms = 30;
	o->arm = ARM_UNKNOWN;
}

/* The server host's complete trace saw the connect-back SYN leave. */
static void
cb_left(struct probe_obs *o)
{
	o->trace_state = TRACE_OBS_ON;
	o->trace_record = 1;
	o->cb_syn_sent = 1;
}

static void
icmp_set(struct probe_obs *o, int family, uint8_t type, uint8_t code,
    const char *from)
{
	o->outcome = OUTCOME_ICMP;
	o->error = EHOSTUNREACH;
	o->icmp.present = 1;
	o->icmp.family = family;
	o->icmp.type = type;
	o->icmp.code = code;
	sa_set(&o->icmp.from, from, 0);
}

static int
has_ev(const struct verdict *v, const char *needle)
{
	unsigned i;

	for (i = 0; i < v->n_evidence; i++)
		if (strstr(v->evidence[i], needle) != NULL)
			return 1;
	return 0;
}

#define assert_ev(v, s) do {						\
	if (!has_ev((v), (s))) {					\
		unsigned i_;						\
		for (i_ = 0; i_ < (v)->n_evidence; i_++)		\
			print_message("evidence: %s\n",			\
			    (v)->evidence[i_]);				\
		fail_msg("no evidence mentions '%s'", (s));		\
	}								\
} while (0)

static void
classify(const struct probe_obs *o, const struct session_facts *f,
    struct verdict *v)
{
	verdict_classify(o, f, v);
	assert_true(v->n_evidence >= 1);
	assert_true(v->n_evidence <= VERDICT_MAX_EVIDENCE);
}

/*
 * Both hosts' traces place a silent drop on the path: the agent host saw
 * our SYN leave, the server host saw none of it.  Without them no path
 * cause is named (test_missing_trace_no_path_cause).
 */
static void
traces_path(struct probe_obs *o)
{
	o->trace_state = TRACE_OBS_ON;
	o->trace_record = 1;
	o->syn_seen = 0;
	o->ctrace_state = TRACE_OBS_ON;
	o->syn_sent = 1;
}

/* ---- control / passive ---- */

/* A silent drop confirmed by a second attempt says so. */
static void
test_timeout_confirmed(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_out(&o, PROBE_PASSIVE, 30050, OUTCOME_TIMEOUT);
	o.elapsed_ms = 260;
	o.confirm_ms = 520;
	traces_path(&o);
	classify(&o, &f, &v);
	assert_false(v.pass);
	assert_int_equal(v.cause, CAUSE_PATH_SILENT_DROP);
	assert_ev(&v, "within 260 ms");
	assert_ev(&v, "second attempt waited 520 ms");
}

/* A silent port the reflector listened on while a flood of tokenless
 * connections came there: the flood is evidence, whatever the cause; a
 * passing port and a quiet session carry no such line. */
static void
test_flood_is_evidence(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	f.foreign = 12000;
	obs_out(&o, PROBE_PASSIVE, 30050, OUTCOME_TIMEOUT);
	classify(&o, &f, &v);
	assert_false(v.pass);
	assert_int_equal(v.cause, CAUSE_NONE);
	assert_ev(&v, "12000 connection(s) without this session's token");
	f.foreign = 0;
	classify(&o, &f, &v);
	assert_false(has_ev(&v, "without this session's token"));
	f.foreign = 12000;
	obs_out(&o, PROBE_PASSIVE, 30050, OUTCOME_ACKED);
	o.arrived = 1;
	classify(&o, &f, &v);
	assert_true(v.pass);
	assert_false(has_ev(&v, "without this session's token"));
}

/* A silent port re-labelled by a lone retry keeps the cause of the ICMP
 * and says that the ICMP came from the retry, not from this probe. */
static void
test_icmp_inferred_by_retry(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_out(&o, PROBE_PASSIVE, 30050, OUTCOME_TIMEOUT);
	icmp_set(&o, AF_INET, 3, 0, "198.51.100.1");
	o.icmp_retry_port = 30006;
	classify(&o, &f, &v);
	assert_false(v.pass);
	assert_int_equal(v.cause, CAUSE_ROUTING_GAP);
	assert_string_equal(v.hop, "198.51.100.1");
	assert_ev(&v, "rate-limits ICMP");
	assert_ev(&v, "port 30006 retried alone");
}

/* The service address sits on a segment the reflector's address does
 * not share: the routing gap says the reflector itself was reached. */
static void
test_icmp_service_addr_gap(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	sa_set(&f.server, "192.0.2.2", 21);
	obs_out(&o, PROBE_CONTROL, 21, OUTCOME_TIMEOUT);
	inet_set(&o.remote, "192.0.2.2", 21);
	icmp_set(&o, AF_INET, 3, 0, ROUTER);
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_ROUTING_GAP);
	assert_string_equal(v.hop, ROUTER);
	assert_ev(&v, "the reflector answered at its management address "
	    SERVER ":7021, but the FTP service address 192.0.2.2 is "
	    "unreachable");

	/* Service and reflector on one address: nothing to contrast. */
	facts_init(&f);
	obs_out(&o, PROBE_CONTROL, 21, OUTCOME_TIMEOUT);
	icmp_set(&o, AF_INET, 3, 0, ROUTER);
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_ROUTING_GAP);
	assert_false(has_ev(&v, "management address"));
}

static void
test_acked_pass(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_out(&o, PROBE_PASSIVE, 30000, OUTCOME_ACKED);
	o.arrived = 1;
	o.seen_peer = o.local;
	classify(&o, &f, &v);
	assert_true(v.pass);
	assert_int_equal(v.cause, CAUSE_NONE);
	assert_string_equal(v.hop, "");
	assert_ev(&v, SERVER ":30000");
	assert_false(has_ev(&v, "NAT"));
}

static void
test_acked_snat_address(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_out(&o, PROBE_PASSIVE, 30000, OUTCOME_ACKED);
	o.arrived = 1;
	inet_set(&o.seen_peer, NATADDR, 51000);
	classify(&o, &f, &v);
	assert_true(v.pass);
	assert_int_equal(v.cause, CAUSE_NONE);
	assert_ev(&v, "saw the probe from " NATADDR ":51000 (agent used "
	    AGENT ":45000): source NAT");
}

static void
test_acked_snat_port_only(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_out(&o, PROBE_PASSIVE, 30000, OUTCOME_ACKED);
	o.arrived = 1;
	inet_set(&o.seen_peer, AGENT, 61000);
	classify(&o, &f, &v);
	assert_true(v.pass);
	assert_ev(&v, "source NAT");
}

static void
test_acked_v4_mapped_not_nat(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_out(&o, PROBE_PASSIVE, 30000, OUTCOME_ACKED);
	o.arrived = 1;
	inet_set(&o.seen_peer, "::ffff:" AGENT, 45000);
	classify(&o, &f, &v);
	assert_true(v.pass);
	assert_false(has_ev(&v, "NAT"));
}

static void
test_other_service_passive_pass(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_out(&o, PROBE_PASSIVE, 30010, OUTCOME_OTHER_SERVICE);
	o.arm = ARM_IN_USE;
	snprintf(o.banner, sizeof(o.banner), "SSH-2.0-OpenSSH\r\n");
	classify(&o, &f, &v);
	assert_true(v.pass);
	assert_int_equal(v.cause, CAUSE_NONE);
	assert_ev(&v, SERVER ":30010");
	assert_ev(&v, "SSH-2.0-OpenSSH..");	/* CR LF made printable */
	assert_ev(&v, "could not confirm arrival");
}

static void
test_control_220_pass(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_out(&o, PROBE_CONTROL, 21, OUTCOME_OTHER_SERVICE);
	o.arm = ARM_IN_USE;
	snprintf(o.banner, sizeof(o.banner), "220 (vsFTPd 3.0.5)");
	classify(&o, &f, &v);
	assert_true(v.pass);
	assert_ev(&v, "220 (vsFTPd 3.0.5)");
	assert_ev(&v, SERVER ":21");
}

static void
test_control_421_service_refused(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_out(&o, PROBE_CONTROL, 21, OUTCOME_OTHER_SERVICE);
	o.arm = ARM_IN_USE;
	snprintf(o.banner, sizeof(o.banner), "421 Too many connections");
	classify(&o, &f, &v);
	assert_false(v.pass);
	assert_int_equal(v.cause, CAUSE_SERVICE_REFUSED);
	assert_ev(&v, "421 Too many connections");
	assert_ev(&v, SERVER ":21");
}

static void
test_icmp_admin_prohibited(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_out(&o, PROBE_PASSIVE, 30001, OUTCOME_ICMP);
	icmp_set(&o, AF_INET, 3, 13, ROUTER);
	classify(&o, &f, &v);
	assert_false(v.pass);
	assert_int_equal(v.cause, CAUSE_PATH_REJECT);
	assert_string_equal(v.hop, ROUTER);
	assert_ev(&v, "SYN to " SERVER ":30001 got ICMP admin-prohibited "
	    "(3/13) from " ROUTER);
}

/* Admin-prohibited in the name of the server itself (the reflector's own
 * address, no DNAT): the server host's firewall, even without its trace;
 * the rule stays unknown.  Under a DNAT the same sender is the gateway. */
static void
test_icmp_admin_from_server_host(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_out(&o, PROBE_PASSIVE, 30001, OUTCOME_ICMP);
	icmp_set(&o, AF_INET, 3, 13, SERVER);
	classify(&o, &f, &v);
	assert_false(v.pass);
	assert_int_equal(v.cause, CAUSE_SERVER_LOCAL_RULE);
	assert_ev(&v, "the rejection came from the server host itself");
	assert_ev(&v, "which rule is not known");

	sa_set(&f.reflector_local, "192.0.2.55", 7021);
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_PATH_REJECT);
}

static void
test_icmp6_admin_prohibited(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_out(&o, PROBE_PASSIVE, 30001, OUTCOME_ICMP);
	inet_set(&o.local, "2001:db8::10", 45000);
	inet_set(&o.remote, "2001:db8::2", 30001);
	icmp_set(&o, AF_INET6, 1, 1, "2001:db8:1::1");
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_PATH_REJECT);
	assert_string_equal(v.hop, "2001:db8:1::1");
	assert_ev(&v, "[2001:db8::2]:30001");
	assert_ev(&v, "ICMPv6 admin-prohibited (1/1)");
}

static void
test_icmp_host_unreachable(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_out(&o, PROBE_CONTROL, 21, OUTCOME_ICMP);
	o.arm = ARM_IN_USE;
	icmp_set(&o, AF_INET, 3, 1, "198.51.100.9");
	classify(&o, &f, &v);
	assert_false(v.pass);
	assert_int_equal(v.cause, CAUSE_ROUTING_GAP);
	assert_string_equal(v.hop, "198.51.100.9");
	assert_ev(&v, "from 198.51.100.9");
	assert_ev(&v, SERVER ":21");
}

static void
test_icmp_other_no_cause(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_out(&o, PROBE_PASSIVE, 30002, OUTCOME_ICMP);
	icmp_set(&o, AF_INET, 11, 0, ROUTER);
	classify(&o, &f, &v);
	assert_false(v.pass);
	assert_int_equal(v.cause, CAUSE_NONE);
	assert_string_equal(v.hop, ROUTER);
	assert_ev(&v, "time-exceeded");
}

static void
test_icmp_without_details(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_out(&o, PROBE_PASSIVE, 30002, OUTCOME_ICMP);
	o.error = EHOSTUNREACH;
	classify(&o, &f, &v);
	assert_false(v.pass);
	assert_int_equal(v.cause, CAUSE_NONE);
	assert_string_equal(v.hop, "");
	assert_ev(&v, SERVER ":30002");
}

static void
test_local_no_route(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_out(&o, PROBE_CONTROL, 21, OUTCOME_LOCAL_ERROR);
	o.error = ENETUNREACH;
	classify(&o, &f, &v);
	assert_false(v.pass);
	assert_int_equal(v.cause, CAUSE_ROUTING_GAP);
	assert_string_equal(v.hop, "");
	assert_ev(&v, "no route from the agent host");
	assert_ev(&v, SERVER);
}

static void
test_local_eperm_no_cause(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_out(&o, PROBE_CONTROL, 21, OUTCOME_LOCAL_ERROR);
	o.error = EPERM;
	classify(&o, &f, &v);
	assert_false(v.pass);
	/* client-local-rule needs the rule itself, not just EPERM */
	assert_int_equal(v.cause, CAUSE_NONE);
	assert_ev(&v, "the agent host's own firewall refused the connection");
	assert_ev(&v, "(connect: EPERM)");
	assert_ev(&v, "nftables trace");
}

static void
test_local_other_error(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_out(&o, PROBE_PASSIVE, 30003, OUTCOME_LOCAL_ERROR);
	o.error = EMFILE;
	classify(&o, &f, &v);
	assert_false(v.pass);
	assert_int_equal(v.cause, CAUSE_NONE);
	assert_ev(&v, "EMFILE");
}

static void
test_reset_listening_path_reject(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_out(&o, PROBE_PASSIVE, 30004, OUTCOME_RESET);
	o.error = ECONNREFUSED;
	traces_path(&o);
	classify(&o, &f, &v);
	assert_false(v.pass);
	assert_int_equal(v.cause, CAUSE_PATH_REJECT);
	assert_ev(&v, "RST in the name of " SERVER ":30004");
	assert_ev(&v, "reflector was listening");
	assert_ev(&v, "never reached the server host (nftables traces on "
	    "both)");

	/* Without the traces a reject rule on either host looks the same. */
	obs_out(&o, PROBE_PASSIVE, 30004, OUTCOME_RESET);
	o.error = ECONNREFUSED;
	classify(&o, &f, &v);
	assert_false(v.pass);
	assert_int_equal(v.cause, CAUSE_NONE);
	assert_ev(&v, "on the server host or on the agent host");

	/* The SYN reached the server host and no rule there rejected it. */
	traces_path(&o);
	o.syn_seen = 1;
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_NONE);
	assert_ev(&v, "no nftables rule there rejected it");
}

static void
test_reset_in_use_not_listening(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;
	const enum arm_state arms[] = { ARM_IN_USE, ARM_UNKNOWN, ARM_ERROR };
	size_t i;

	(void)state;
	facts_init(&f);
	for (i = 0; i < sizeof(arms) / sizeof(arms[0]); i++) {
		obs_out(&o, PROBE_PASSIVE, 30005, OUTCOME_RESET);
		o.arm = arms[i];
		/* the SYN reached the server host, no rule rejected it */
		o.trace_state = TRACE_OBS_ON;
		o.trace_record = 1;
		o.syn_seen = 1;
		classify(&o, &f, &v);
		assert_false(v.pass);
		assert_int_equal(v.cause, CAUSE_NOT_LISTENING);
		assert_ev(&v, "nothing listens on port 30005");
		assert_ev(&v, SERVER);
		/* the owner of an in-use port listens elsewhere */
		assert_int_equal(has_ev(&v, "different address"),
		    arms[i] == ARM_IN_USE);
	}

	/* In use and no server trace (the reflector without CAP_NET_ADMIN
	 * neither diverts nor traces): a reject rule looks the same. */
	obs_out(&o, PROBE_CONTROL, 21, OUTCOME_RESET);
	o.arm = ARM_IN_USE;
	o.trace_state = TRACE_OBS_UNAVAILABLE;
	o.trace_reason = "EPERM";
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_NONE);
	assert_ev(&v, "different address only, or a reject rule");
	assert_ev(&v, "no nftables trace at the server (EPERM)");
}

static void
test_timeout_silent_drop(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_out(&o, PROBE_PASSIVE, 30050, OUTCOME_TIMEOUT);
	o.elapsed_ms = 0;	/* falls back to the session timeout */
	classify(&o, &f, &v);
	assert_false(v.pass);
	/* The reflector listened, but without the traces a firewall on
	 * either host drops as silently as the path. */
	assert_int_equal(v.cause, CAUSE_NONE);
	assert_string_equal(v.hop, "");
	assert_ev(&v, SERVER ":30050");
	assert_ev(&v, "within 500 ms");
	assert_ev(&v, "accepted no connection");
	assert_ev(&v, "on the path or by a firewall on the server host or the "
	    "agent host");
	assert_ev(&v, "only nftables traces tell which");

	traces_path(&o);
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_PATH_SILENT_DROP);
	assert_ev(&v, "the SYN left the agent host (its nftables trace)");
	assert_ev(&v, "dropped silently on the path");
}

static void
test_timeout_unobserved_no_cause(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_out(&o, PROBE_CONTROL, 21, OUTCOME_TIMEOUT);
	o.arm = ARM_IN_USE;
	classify(&o, &f, &v);
	assert_false(v.pass);
	assert_int_equal(v.cause, CAUSE_NONE);
	assert_ev(&v, SERVER ":21");
	assert_ev(&v, "not known");
}

static void
test_timeout_arrived_return_path(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_out(&o, PROBE_PASSIVE, 30060, OUTCOME_TIMEOUT);
	o.arrived = 1;
	inet_set(&o.seen_peer, AGENT, 45000);
	classify(&o, &f, &v);
	assert_false(v.pass);
	assert_int_equal(v.cause, CAUSE_RETURN_PATH);
	assert_ev(&v, SERVER ":30060");
	assert_ev(&v, "nothing came back to the agent");
}

static void
test_silent_peer(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_out(&o, PROBE_PASSIVE, 30070, OUTCOME_SILENT_PEER);
	classify(&o, &f, &v);
	assert_false(v.pass);
	assert_int_equal(v.cause, CAUSE_NONE);
	assert_ev(&v, SERVER ":30070");

	o.arrived = 1;
	classify(&o, &f, &v);
	assert_true(v.pass);
	assert_ev(&v, "reflector recorded");
}

static void
test_not_run(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_out(&o, PROBE_PASSIVE, 30080, OUTCOME_NOT_RUN);
	classify(&o, &f, &v);
	assert_false(v.pass);
	assert_int_equal(v.cause, CAUSE_NONE);
	assert_ev(&v, "not tested");
}

static void
test_control_no_ftp_server(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_out(&o, PROBE_CONTROL, 21, OUTCOME_ACKED);
	o.arrived = 1;
	o.seen_peer = o.local;
	classify(&o, &f, &v);
	assert_false(v.pass);
	assert_int_equal(v.cause, CAUSE_NOT_LISTENING);
	assert_ev(&v, "no FTP server is listening on 21");
	assert_ev(&v, SERVER);
}

static void
test_control_in_use_acked_pass(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_out(&o, PROBE_CONTROL, 21, OUTCOME_ACKED);
	o.arm = ARM_IN_USE;	/* tproxy listener beside the FTP server */
	o.arrived = 1;
	o.seen_peer = o.local;
	classify(&o, &f, &v);
	assert_true(v.pass);
	assert_ev(&v, SERVER ":21");
}

/* ---- active ---- */

static void
test_active_pass(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_active(&o, &f, OUTCOME_ACKED);
	o.arrived = 1;
	inet_set(&o.seen_peer, SERVER, 20);
	classify(&o, &f, &v);
	assert_true(v.pass);
	assert_int_equal(v.cause, CAUSE_NONE);
	assert_ev(&v, SERVER ":20");
	assert_ev(&v, AGENT ":41000");
	assert_false(has_ev(&v, "rewritten"));
}

static void
test_active_port_rewritten(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_active(&o, &f, OUTCOME_ACKED);
	o.arrived = 1;
	inet_set(&o.seen_peer, SERVER, 40020);
	classify(&o, &f, &v);
	assert_true(v.pass);
	assert_ev(&v, "source port 20 rewritten to 40020 (NAT on the server "
	    "side)");
}

static void
test_active_acked_not_arrived(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_active(&o, &f, OUTCOME_ACKED);
	classify(&o, &f, &v);
	assert_false(v.pass);
	assert_int_equal(v.cause, CAUSE_NONE);
	assert_ev(&v, AGENT ":41000");
}

static void
test_active_client_nat_timeout(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	sa_set(&f.agent_observed, NATADDR, 52000);
	obs_active(&o, &f, OUTCOME_TIMEOUT);
	classify(&o, &f, &v);
	assert_false(v.pass);
	assert_int_equal(v.cause, CAUSE_NAT);
	assert_ev(&v, "the agent is behind source NAT (agent " AGENT
	    ":40000, seen by the reflector as " NATADDR ":52000)");
	assert_ev(&v, "to " NATADDR ":41000 got no answer");
	assert_ev(&v, "FTP ALG / port forward");
}

static void
test_active_client_nat_icmp(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	sa_set(&f.agent_observed, NATADDR, 52000);
	obs_active(&o, &f, OUTCOME_ICMP);
	icmp_set(&o, AF_INET, 3, 3, NATADDR);
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_NAT);
	assert_string_equal(v.hop, NATADDR);
	assert_ev(&v, "port-unreachable (3/3) from " NATADDR);
}

static void
test_active_client_nat_local_error_not_nat(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	sa_set(&f.agent_observed, NATADDR, 52000);
	obs_active(&o, &f, OUTCOME_LOCAL_ERROR);
	o.error = EADDRINUSE;
	classify(&o, &f, &v);
	assert_false(v.pass);
	assert_int_equal(v.cause, CAUSE_NONE);
	assert_ev(&v, "EADDRINUSE");
}

static void
test_active_icmp_admin(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_active(&o, &f, OUTCOME_ICMP);
	icmp_set(&o, AF_INET, 3, 13, ROUTER);
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_PATH_REJECT);
	assert_string_equal(v.hop, ROUTER);
	assert_ev(&v, "connect-back from " SERVER ":20 to " AGENT ":41000 "
	    "got ICMP admin-prohibited (3/13) from " ROUTER);
}

static void
test_active_reset(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_active(&o, &f, OUTCOME_RESET);
	o.ctrace_state = TRACE_OBS_ON;	/* it never reached the agent host */
	cb_left(&o);			/* and it left the server host */
	classify(&o, &f, &v);
	assert_false(v.pass);
	assert_int_equal(v.cause, CAUSE_PATH_REJECT);
	assert_ev(&v, AGENT ":41000");
	assert_ev(&v, "agent was listening");
	assert_ev(&v, "never reached the agent host");
	assert_ev(&v, "it left the server host (its nftables trace)");

	/* Without the server host's trace its own reject (tcp reset in
	 * output) looks the same: no cause, and it says why. */
	o.trace_state = TRACE_OBS_UNAVAILABLE;
	o.trace_reason = "EPERM";
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_NONE);
	assert_ev(&v, "on the path or on the server host");
	assert_ev(&v, "no nftables trace at the server (EPERM), so whether "
	    "the connect-back SYN left the server host is not known");
	cb_left(&o);

	/* Without the agent host's trace its own reject looks the same. */
	o.ctrace_state = TRACE_OBS_UNAVAILABLE;
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_NONE);
	assert_ev(&v, "on the path or on the agent host");
	assert_ev(&v, "no nftables trace on the agent host");
	o.ctrace_state = TRACE_OBS_NONE;

	o.arm = ARM_ERROR;	/* the agent's listener was not open */
	classify(&o, &f, &v);
	assert_false(v.pass);
	assert_int_equal(v.cause, CAUSE_NONE);
}

static void
test_active_timeout(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_active(&o, &f, OUTCOME_TIMEOUT);
	o.ctrace_state = TRACE_OBS_ON;	/* nothing reached the agent host */
	cb_left(&o);			/* the SYN left the server host */
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_PATH_SILENT_DROP);
	assert_ev(&v, SERVER ":20");
	assert_ev(&v, AGENT ":41000");
	assert_ev(&v, "never reached the agent host (its nftables trace)");
	assert_ev(&v, "the SYN left the server host (its nftables trace)");

	/* Both traces are needed: without the server's, or with one that
	 * saw no SYN leave, or lost events, no path cause. */
	o.trace_state = TRACE_OBS_NONE;
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_NONE);
	assert_ev(&v, "dropped on the way or on the server host");
	assert_ev(&v, "the reflector sent no trace of the connect-back");
	cb_left(&o);
	o.cb_syn_sent = 0;
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_NONE);
	assert_ev(&v, "saw no connect-back SYN leave the server host");
	cb_left(&o);
	o.trace_state = TRACE_OBS_INCOMPLETE;
	o.trace_reason = "ENOBUFS";
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_NONE);
	assert_ev(&v, "incomplete (ENOBUFS)");
	cb_left(&o);

	/* No trace on the agent host (no CAP_NET_ADMIN): its own input
	 * rule would look the same, so no cause, and it says why. */
	o.ctrace_state = TRACE_OBS_UNAVAILABLE;
	o.ctrace_reason = "nftables not "
	    "usable by the agent (EPERM: no CAP_NET_ADMIN)";
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_NONE);
	assert_ev(&v, "by a firewall on the agent host");
	assert_ev(&v, "no nftables trace on the agent host (nftables not "
	    "usable by the agent (EPERM: no CAP_NET_ADMIN))");

	/* The connect-back reached the agent host and no rule dropped it,
	 * yet the listener saw nothing: not the path's doing either. */
	o.ctrace_state = TRACE_OBS_ON;
	o.answer_seen = 1;
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_NONE);
	o.answer_seen = 0;
	o.ctrace_state = TRACE_OBS_NONE;

	o.arrived = 1;
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_RETURN_PATH);
	assert_ev(&v, "nothing came back to the reflector");

	o.arrived = 0;
	o.arm = ARM_ERROR;
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_NONE);
}

static void
test_active_no_route(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_active(&o, &f, OUTCOME_LOCAL_ERROR);
	o.error = EHOSTUNREACH;
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_ROUTING_GAP);
	assert_ev(&v, "no route from the server host to " AGENT ":41000");
}

/* ---- helpers ---- */

static void
test_nat_detection(void **state)
{
	struct session_facts f;

	(void)state;
	facts_init(&f);
	assert_false(verdict_client_nat(&f));
	assert_false(verdict_server_nat(&f));
	/* a port change alone is not address NAT */
	sa_set(&f.agent_observed, AGENT, 50000);
	assert_false(verdict_client_nat(&f));
	sa_set(&f.agent_observed, "::ffff:" AGENT, 40000);
	assert_false(verdict_client_nat(&f));
	sa_set(&f.agent_observed, NATADDR, 40000);
	assert_true(verdict_client_nat(&f));
	sa_set(&f.reflector_local, "192.0.2.55", 7021);
	assert_true(verdict_server_nat(&f));
	memset(&f.agent_local, 0, sizeof(f.agent_local));
	memset(&f.dialled, 0, sizeof(f.dialled));
	assert_false(verdict_client_nat(&f));
	assert_false(verdict_server_nat(&f));
}

static void
test_names(void **state)
{
	static const char *const want[] = {
		NULL, "routing-gap", "path-silent-drop", "path-reject",
		"return-path", "server-local-rule", "client-local-rule", "nat",
		"alg-rewrite", "alg-dependent", "pasv-address",
		"not-listening", "service-refused", "dns-mismatch",
		"clock-skew",
	};
	size_t i;

	(void)state;
	assert_null(cause_name(CAUSE_NONE));
	for (i = 1; i < sizeof(want) / sizeof(want[0]); i++)
		assert_string_equal(cause_name((enum cause)i), want[i]);
	assert_string_equal(probe_kind_name(PROBE_PASSIVE), "passive");
	assert_string_equal(probe_direction_name(PROBE_ACTIVE),
	    "server-to-client");
	assert_string_equal(probe_direction_name(PROBE_CONTROL),
	    "client-to-server");
	assert_string_equal(outcome_name(OUTCOME_TIMEOUT), "timeout");
	assert_string_equal(verdict_stage_name(VERDICT_STAGE_SERVER),
	    "server host");
}

/* Every kind x outcome x arm x arrived: bounded, printable evidence,
 * and a pass never carries a cause. */
static void
test_all_combinations(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;
	int k, oc, arm, arr, nat;
	unsigned i;
	size_t j;

	(void)state;
	for (nat = 0; nat < 2; nat++)
	for (k = PROBE_CONTROL; k <= PROBE_ACTIVE; k++)
	for (oc = OUTCOME_NOT_RUN; oc <= OUTCOME_LOCAL_ERROR; oc++)
	for (arm = ARM_UNKNOWN; arm <= ARM_ERROR; arm++)
	for (arr = 0; arr < 2; arr++) {
		facts_init(&f);
		if (nat)
			sa_set(&f.agent_observed, NATADDR, 1);
		if (k == PROBE_ACTIVE)
			obs_active(&o, &f, (enum probe_outcome)oc);
		else
			obs_out(&o, (enum probe_kind)k, 21,
			    (enum probe_outcome)oc);
		o.arm = (enum arm_state)arm;
		o.arrived = arr;
		memset(o.banner, 0xff, sizeof(o.banner));
		o.banner[sizeof(o.banner) - 1] = '\0';
		classify(&o, &f, &v);
		if (v.pass)
			assert_int_equal(v.cause, CAUSE_NONE);
		for (i = 0; i < v.n_evidence; i++) {
			assert_true(v.stage[i] <= VERDICT_STAGE_RETURN);
			for (j = 0; v.evidence[i][j] != '\0'; j++)
				assert_true(v.evidence[i][j] >= 0x20 &&
				    v.evidence[i][j] < 0x7f);
		}
	}
}

/* ---- the reflector's nftables trace ---- */

/* A trace record for the probe's port: complete, SYN seen. */
static void
trace_on(struct probe_obs *o)
{
	o->trace_state = TRACE_OBS_ON;
	o->trace_record = 1;
	o->syn_seen = 1;
}

/*
 * The rules the observations point at: one per host is all a test here
 * needs (rule_set and cb_drop fill the server's, ctrace_drop the agent's),
 * and a test changes a field of it after setting it.
 */
static struct probe_rule server_rule, agent_rule;

static void
rule_fill(struct probe_rule *r, int outbound, uint64_t handle,
    const char *table, const char *chain, const char *verdict,
    const char *text)
{
	memset(r, 0, sizeof(*r));
	r->has_handle = 1;
	r->outbound = outbound;
	r->handle = handle;
	snprintf(r->family, sizeof(r->family), "inet");
	snprintf(r->table, sizeof(r->table), "%s", table);
	snprintf(r->chain, sizeof(r->chain), "%s", chain);
	snprintf(r->verdict, sizeof(r->verdict), "%s", verdict);
	snprintf(r->text, sizeof(r->text), "%s", text);
}

static void
rule_set(struct probe_obs *o, uint64_t handle, const char *text)
{
	rule_fill(&server_rule, 0, handle, "filter", "input", "drop", text);
	o->rule = &server_rule;
}

static void
test_trace_drop_server_local_rule(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_out(&o, PROBE_PASSIVE, 30050, OUTCOME_TIMEOUT);
	trace_on(&o);
	rule_set(&o, 5, "tcp dport 30000-30099 drop");
	classify(&o, &f, &v);
	assert_false(v.pass);
	assert_int_equal(v.cause, CAUSE_SERVER_LOCAL_RULE);
	assert_ev(&v, "the SYN reached the server host (nftables trace); rule "
	    "'inet filter input handle 5: tcp dport 30000-30099 drop' "
	    "dropped it");
	assert_ev(&v, SERVER ":30050");
	assert_false(has_ev(&v, "never reached"));
	assert_false(has_ev(&v, "only an nftables trace tells which"));
}

/* A drop event is positive evidence: it holds in an incomplete trace and
 * whether or not the reflector listened on the port. */
static void
test_trace_drop_incomplete_in_use(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_out(&o, PROBE_CONTROL, 21, OUTCOME_TIMEOUT);
	o.arm = ARM_IN_USE;
	trace_on(&o);
	o.trace_state = TRACE_OBS_INCOMPLETE;
	rule_set(&o, 9, "tcp dport 21 drop");
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_SERVER_LOCAL_RULE);
	assert_ev(&v, "rule 'inet filter input handle 9: tcp dport 21 drop' "
	    "dropped it");
}

/* reject with tcp reset: the RST comes from the server host's rule. */
static void
test_trace_reject_reset(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_out(&o, PROBE_PASSIVE, 30001, OUTCOME_RESET);
	o.error = ECONNREFUSED;
	trace_on(&o);
	rule_set(&o, 7, "tcp dport 30000-30099 reject with tcp reset");
	snprintf(server_rule.verdict, sizeof(server_rule.verdict), "reject");
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_SERVER_LOCAL_RULE);
	assert_ev(&v, "answered by a RST");
	assert_ev(&v, "handle 7: tcp dport 30000-30099 reject with tcp reset' "
	    "rejected it");
}

/* ICMP from the server itself names its rule; ICMP from a router does
 * not, whatever the trace says. */
static void
test_trace_reject_icmp_sender(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_out(&o, PROBE_PASSIVE, 30002, OUTCOME_TIMEOUT);
	icmp_set(&o, AF_INET, 3, 13, SERVER);
	trace_on(&o);
	rule_set(&o, 8, "tcp dport 30002 reject with icmp admin-prohibited");
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_SERVER_LOCAL_RULE);
	assert_ev(&v, "from " SERVER);
	assert_ev(&v, "handle 8: tcp dport 30002 reject");

	icmp_set(&o, AF_INET, 3, 13, ROUTER);
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_PATH_REJECT);
	assert_string_equal(v.hop, ROUTER);
}

/* The rule dropped the server's answer on its way out. */
static void
test_trace_drop_outbound(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_out(&o, PROBE_PASSIVE, 30003, OUTCOME_TIMEOUT);
	trace_on(&o);
	rule_set(&o, 11, "tcp sport 30003 drop");
	snprintf(server_rule.chain, sizeof(server_rule.chain), "output");
	server_rule.outbound = 1;
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_SERVER_LOCAL_RULE);
	assert_ev(&v, "rule 'inet filter output handle 11: tcp sport 30003 "
	    "drop' dropped the server's answer");
}

/* A chain policy has no handle and no rule text of its own. */
static void
test_trace_policy_drop(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_out(&o, PROBE_PASSIVE, 30004, OUTCOME_TIMEOUT);
	trace_on(&o);
	rule_set(&o, 0, "");
	server_rule.has_handle = 0;
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_SERVER_LOCAL_RULE);
	assert_ev(&v, "rule 'policy drop of chain inet filter input' "
	    "dropped it");
}

/* The text could not be read: the rule is still named by its handle. */
static void
test_trace_rule_without_text(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_out(&o, PROBE_PASSIVE, 30005, OUTCOME_TIMEOUT);
	trace_on(&o);
	rule_set(&o, 12, "");
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_SERVER_LOCAL_RULE);
	assert_ev(&v, "inet filter input handle 12 (its text could not be "
	    "read)");
}

static void
test_trace_return_path(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_out(&o, PROBE_PASSIVE, 30010, OUTCOME_TIMEOUT);
	trace_on(&o);
	o.synack_sent = 1;
	o.ctrace_state = TRACE_OBS_ON;
	o.syn_sent = 1;
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_RETURN_PATH);
	assert_ev(&v, "the SYN reached the server host (nftables trace)");
	assert_ev(&v, "SYN-ACK left port 30010 towards " AGENT " (nftables "
	    "trace)");
	assert_ev(&v, "nothing reached the agent host (its nftables trace)");

	/* No trace on the agent host: its own input rule dropping the
	 * answer looks the same; said, not claimed. */
	o.ctrace_state = TRACE_OBS_UNAVAILABLE;
	o.ctrace_reason = "EPERM";
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_NONE);
	assert_ev(&v, "dropped by the agent host's own firewall");
	assert_ev(&v, "no nftables trace on the agent host (EPERM)");

	/* The answer reached the agent host (its trace) and no rule there
	 * dropped it: not lost on the way back. */
	o.ctrace_state = TRACE_OBS_ON;
	o.answer_seen = 1;
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_NONE);
}

/* "SYN-ACK left" rests on the absence of a drop event: an incomplete
 * trace cannot prove a return-path failure. */
static void
test_trace_return_path_needs_complete(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_out(&o, PROBE_PASSIVE, 30011, OUTCOME_TIMEOUT);
	trace_on(&o);
	o.synack_sent = 1;
	o.trace_state = TRACE_OBS_INCOMPLETE;
	o.trace_reason = "ENOBUFS";
	classify(&o, &f, &v);
	assert_int_not_equal(v.cause, CAUSE_RETURN_PATH);
	assert_ev(&v, "incomplete (ENOBUFS)");
	assert_ev(&v, "proves nothing");
}

/* Only a complete trace without any event proves the SYN never arrived,
 * even when the reflector was not listening on the port itself. */
static void
test_trace_no_event_silent_drop(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_out(&o, PROBE_PASSIVE, 30020, OUTCOME_TIMEOUT);
	o.arm = ARM_IN_USE;
	traces_path(&o);
	o.confirm_ms = 900;
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_PATH_SILENT_DROP);
	assert_ev(&v, "no trace event at the server: the SYN never reached "
	    "the server host");
	assert_ev(&v, "a second attempt waited 900 ms, silent too");
	assert_false(has_ev(&v, "is not known"));

	/*
	 * No trace on the agent host (no CAP_NET_ADMIN): its own output
	 * rule drops the SYN as silently (TCP swallows the EPERM and
	 * retransmits), so the path is not named, and it says why.
	 */
	o.ctrace_state = TRACE_OBS_UNAVAILABLE;
	o.syn_sent = 0;
	o.ctrace_reason = "nftables not "
	    "usable by the agent (EPERM: no CAP_NET_ADMIN)";
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_NONE);
	assert_ev(&v, "the SYN never reached the server host");
	assert_ev(&v, "whether the SYN left the agent host is not known");
	assert_ev(&v, "no nftables trace on the agent host (nftables not "
	    "usable by the agent (EPERM: no CAP_NET_ADMIN))");
	assert_false(has_ev(&v, "on the path"));

	/* An incomplete trace that recorded no drop clears the agent host
	 * (saying that its silence proves nothing); one that saw the SYN
	 * leave clears it outright. */
	o.ctrace_state = TRACE_OBS_INCOMPLETE;
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_PATH_SILENT_DROP);
	assert_ev(&v, "proves nothing");
	o.ctrace_state = TRACE_OBS_ON;
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_NONE);
	o.syn_sent = 1;
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_PATH_SILENT_DROP);
}

static void
test_trace_incomplete_no_claim(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_out(&o, PROBE_PASSIVE, 30021, OUTCOME_TIMEOUT);
	trace_on(&o);
	o.syn_seen = 0;
	o.trace_state = TRACE_OBS_INCOMPLETE;
	o.trace_reason = "the kernel dropped "
	    "trace events (ENOBUFS)";
	classify(&o, &f, &v);
	/* The reflector listened and saw nothing, but where it was
	 * dropped is not known. */
	assert_int_equal(v.cause, CAUSE_NONE);
	assert_false(has_ev(&v, "never reached"));
	assert_ev(&v, "incomplete (the kernel dropped trace events (ENOBUFS))");
}

static void
test_trace_unavailable_sentence(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_out(&o, PROBE_PASSIVE, 30022, OUTCOME_TIMEOUT);
	o.trace_state = TRACE_OBS_UNAVAILABLE;
	o.trace_reason = "nftables not usable "
	    "by the reflector (EPERM: no CAP_NET_ADMIN)";
	/* The agent host's own trace clears it; the server host is not. */
	o.ctrace_state = TRACE_OBS_ON;
	o.syn_sent = 1;
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_NONE);
	assert_int_not_equal(v.cause, CAUSE_PATH_SILENT_DROP);
	assert_ev(&v, "by a firewall on the server host");
	assert_false(has_ev(&v, "never reached"));
	assert_ev(&v, "no nftables trace at the server (nftables not usable "
	    "by the reflector (EPERM: no CAP_NET_ADMIN))");

	/* Not listening either: nothing is known, and it says why. */
	o.arm = ARM_IN_USE;
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_NONE);
	assert_ev(&v, "no nftables trace at the server");
}

/* Trace on, but no record for this port (the reflector truncated). */
static void
test_trace_no_record(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_out(&o, PROBE_PASSIVE, 30023, OUTCOME_TIMEOUT);
	o.trace_state = TRACE_OBS_ON;
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_NONE);
	assert_false(has_ev(&v, "never reached"));
	assert_ev(&v, "no trace record for port 30023");
}

/* SYN seen, no drop, no answer: the host lost it outside nftables. */
static void
test_trace_seen_no_answer(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_out(&o, PROBE_PASSIVE, 30024, OUTCOME_TIMEOUT);
	trace_on(&o);
	classify(&o, &f, &v);
	assert_false(v.pass);
	assert_int_equal(v.cause, CAUSE_NONE);
	assert_ev(&v, "no nftables rule dropped it, but no answer left port "
	    "30024");
	assert_false(has_ev(&v, "dropped silently"));
}

/* A passing probe stays a pass whatever its trace says. */
static void
test_trace_pass_unchanged(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_out(&o, PROBE_PASSIVE, 30025, OUTCOME_ACKED);
	o.arrived = 1;
	trace_on(&o);
	rule_set(&o, 5, "tcp dport 30025 drop");
	classify(&o, &f, &v);
	assert_true(v.pass);
	assert_int_equal(v.cause, CAUSE_NONE);
}

/* Every combination: the trace claims appear only when proven. */
static void
test_trace_combinations(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;
	int oc, st, rec, syn, ack, rule, arm;

	(void)state;
	facts_init(&f);
	for (oc = OUTCOME_NOT_RUN; oc <= OUTCOME_LOCAL_ERROR; oc++)
	for (st = TRACE_OBS_NONE; st <= TRACE_OBS_INCOMPLETE; st++)
	for (rec = 0; rec < 2; rec++)
	for (syn = 0; syn < 2; syn++)
	for (ack = 0; ack < 2; ack++)
	for (rule = 0; rule < 2; rule++)
	for (arm = ARM_UNKNOWN; arm <= ARM_ERROR; arm++) {
		obs_out(&o, PROBE_PASSIVE, 30030, (enum probe_outcome)oc);
		if (oc == OUTCOME_ICMP)
			icmp_set(&o, AF_INET, 3, 13, SERVER);
		o.arm = (enum arm_state)arm;
		o.trace_state = st;
		o.trace_record = rec;
		o.syn_seen = syn;
		o.synack_sent = ack;
		if (rule)
			rule_set(&o, 5, "tcp dport 30030 drop");
		classify(&o, &f, &v);
		if (has_ev(&v, "never reached the server host"))
			assert_true(st == TRACE_OBS_ON && rec && !syn &&
			    oc == OUTCOME_TIMEOUT);
		/* Proof of a server rule: the trace names it, or the
		 * server itself answered admin-prohibited (sent here in
		 * its name, SERVER, which is also the reflector's). */
		if (v.cause == CAUSE_SERVER_LOCAL_RULE)
			assert_true((rule && rec) || oc == OUTCOME_ICMP);
		if (v.cause == CAUSE_SERVER_LOCAL_RULE && !(rule && rec))
			assert_true(has_ev(&v, "which rule is not known"));
		if (has_ev(&v, "SYN-ACK left"))
			assert_true(st == TRACE_OBS_ON && rec && syn && ack);
		if (v.pass)
			assert_int_equal(v.cause, CAUSE_NONE);
	}
}

static int
path_cause(enum cause c)
{
	return c == CAUSE_PATH_SILENT_DROP || c == CAUSE_PATH_REJECT ||
	    c == CAUSE_RETURN_PATH;
}

/*
 * Issue 3: without CAP_NET_ADMIN on a side, its trace is unavailable.  A
 * silence or a RST then never reads as a path cause (nor as a rule on
 * the host that was not traced), and the evidence says which trace is
 * missing and why.
 */
static void
test_missing_trace_no_path_cause(void **state)
{
	static const enum probe_outcome ocs[] = { OUTCOME_TIMEOUT,
	    OUTCOME_RESET };
	static const char why[] = "EPERM: no CAP_NET_ADMIN";
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;
	size_t i;
	int st, rec, syn, ack, arm, kind;

	(void)state;
	facts_init(&f);
	/* The agent host untraced, whatever the server's trace says. */
	for (kind = PROBE_CONTROL; kind <= PROBE_ACTIVE; kind++)
	for (i = 0; i < sizeof(ocs) / sizeof(ocs[0]); i++)
	for (st = TRACE_OBS_NONE; st <= TRACE_OBS_INCOMPLETE; st++)
	for (rec = 0; rec < 2; rec++)
	for (syn = 0; syn < 2; syn++)
	for (ack = 0; ack < 2; ack++)
	for (arm = ARM_UNKNOWN; arm <= ARM_ERROR; arm++) {
		if (kind == PROBE_ACTIVE)
			obs_active(&o, &f, ocs[i]);
		else
			obs_out(&o, (enum probe_kind)kind, 30040, ocs[i]);
		o.arm = (enum arm_state)arm;
		o.trace_state = st;
		o.trace_record = rec;
		o.syn_seen = syn;
		o.synack_sent = ack;
		o.ctrace_state = TRACE_OBS_UNAVAILABLE;
		o.ctrace_reason = why;
		classify(&o, &f, &v);
		assert_false(v.pass);
		assert_false(path_cause(v.cause));
		assert_int_not_equal(v.cause, CAUSE_CLIENT_LOCAL_RULE);
		assert_ev(&v, "no nftables trace on the agent host (EPERM: no "
		    "CAP_NET_ADMIN)");
	}
	/* The server host untraced, the agent host's trace clean. */
	for (kind = PROBE_CONTROL; kind <= PROBE_PASSIVE; kind++)
	for (i = 0; i < sizeof(ocs) / sizeof(ocs[0]); i++)
	for (arm = ARM_UNKNOWN; arm <= ARM_ERROR; arm++) {
		obs_out(&o, (enum probe_kind)kind, 30040, ocs[i]);
		o.arm = (enum arm_state)arm;
		o.trace_state = TRACE_OBS_UNAVAILABLE;
		o.trace_reason = why;
		o.ctrace_state = TRACE_OBS_ON;
		o.syn_sent = 1;
		classify(&o, &f, &v);
		assert_false(v.pass);
		assert_false(path_cause(v.cause));
		assert_int_not_equal(v.cause, CAUSE_SERVER_LOCAL_RULE);
		/* A RST where nothing listens is the server's own answer. */
		if (v.cause == CAUSE_NOT_LISTENING)
			continue;
		assert_int_equal(v.cause, CAUSE_NONE);
		assert_ev(&v, "no nftables trace at the server (EPERM: no "
		    "CAP_NET_ADMIN)");
	}
}

/* The longest addresses and values must not truncate a sentence. */
static void
test_long_v6_no_truncation(void **state)
{
	static const char *const a = "2001:db8:ffff:ffff:ffff:ffff:ffff:fff1";
	static const char *const b = "2001:db8:ffff:ffff:ffff:ffff:ffff:fff2";
	static const char *const n = "2001:db8:ffff:ffff:ffff:ffff:ffff:fff3";
	static const int errs[] = { EPERM, ENETUNREACH, 12345 };
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;
	int k, oc, arm, arr, e;
	unsigned i;

	(void)state;
	memset(&f, 0, sizeof(f));
	sa_set(&f.agent_local, a, 65535);
	sa_set(&f.agent_observed, n, 65535);
	f.timeout_ms = 4000000000u;
	for (k = PROBE_CONTROL; k <= PROBE_ACTIVE; k++)
	for (oc = OUTCOME_NOT_RUN; oc <= OUTCOME_LOCAL_ERROR; oc++)
	for (arm = ARM_UNKNOWN; arm <= ARM_ERROR; arm++)
	for (arr = 0; arr < 2; arr++)
	for (e = 0; e < 3; e++) {
		memset(&o, 0, sizeof(o));
		o.kind = (enum probe_kind)k;
		o.port = 65535;
		o.outcome = (enum probe_outcome)oc;
		o.arm = (enum arm_state)arm;
		o.arrived = arr;
		o.error = errs[e];
		inet_set(&o.local, k == PROBE_ACTIVE ? b : a, 65535);
		inet_set(&o.remote, k == PROBE_ACTIVE ? n : b, 65535);
		inet_set(&o.seen_peer, n, 65534);
		if (oc == OUTCOME_ICMP) {
			o.icmp.present = 1;
			o.icmp.family = AF_INET6;
			o.icmp.type = 1;
			o.icmp.code = (uint8_t)e;
			sa_set(&o.icmp.from, n, 0);
		}
		memset(o.banner, 'x', sizeof(o.banner) - 1);
		for (f.agent_observed.ss_family = AF_UNSPEC;;
		    f.agent_observed.ss_family = AF_INET6) {
			classify(&o, &f, &v);
			for (i = 0; i < v.n_evidence; i++)
				assert_true(strlen(v.evidence[i]) <
				    VERDICT_EVIDENCE_LEN - 1);
			if (f.agent_observed.ss_family == AF_INET6)
				break;
		}
	}
}

/* ---- the agent host's own trace: client-local-rule ---- */

/* The agent's trace saw its rule drop the SYN and no SYN get out. */
static void
ctrace_drop(struct probe_obs *o, int outbound, uint64_t handle,
    const char *chain, const char *text)
{
	o->ctrace_state = TRACE_OBS_ON;
	rule_fill(&agent_rule, outbound, handle, "filter", chain, "drop", text);
	o->crule = &agent_rule;
}

static void
test_client_rule_syn_dropped(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_out(&o, PROBE_CONTROL, 21, OUTCOME_TIMEOUT);
	ctrace_drop(&o, 1, 3, "output", "tcp dport 21 drop");
	classify(&o, &f, &v);
	assert_false(v.pass);
	assert_int_equal(v.cause, CAUSE_CLIENT_LOCAL_RULE);
	assert_ev(&v, "the agent host's own rule 'inet filter output handle "
	    "3: tcp dport 21 drop' dropped the SYN");
	assert_ev(&v, "never left the agent host");
	assert_int_equal(v.stage[v.n_evidence - 1], VERDICT_STAGE_AGENT);
	assert_string_equal(cause_name(v.cause), "client-local-rule");

	/* connect() failing with EPERM on the agent host: the same rule. */
	o.outcome = OUTCOME_LOCAL_ERROR;
	o.error = EPERM;
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_CLIENT_LOCAL_RULE);
	assert_ev(&v, "failed on the agent host (EPERM)");
	assert_ev(&v, "handle 3: tcp dport 21 drop' dropped the SYN");
}

/*
 * Precedence: the SYN never left, so whatever the server's trace says
 * (here: no event there, which alone reads as a silent drop on the
 * path) the agent's own rule is the cause.
 */
static void
test_client_rule_outranks_server_trace(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_out(&o, PROBE_CONTROL, 21, OUTCOME_TIMEOUT);
	o.trace_state = TRACE_OBS_ON;
	o.trace_record = 1;
	ctrace_drop(&o, 1, 3, "output", "tcp dport 21 drop");
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_CLIENT_LOCAL_RULE);
	assert_false(has_ev(&v, "dropped silently on the path"));

	/* A SYN got out (syn_sent): the server's trace decides. */
	o.syn_sent = 1;
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_PATH_SILENT_DROP);
	assert_ev(&v, "also dropped a packet of this probe (outbound");

	/* Same with the server host's own rule: server-local-rule. */
	o.trace_record = 1;
	o.syn_seen = 1;
	rule_set(&o, 5, "tcp dport 21 drop");
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_SERVER_LOCAL_RULE);
}

/* The server's answer dropped by the agent host's input chain: named
 * when the server's trace does not decide; never for a passing probe. */
static void
test_client_rule_answer_dropped(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_out(&o, PROBE_PASSIVE, 30010, OUTCOME_TIMEOUT);
	ctrace_drop(&o, 0, 9, "input", "tcp sport 30000-30099 drop");
	o.syn_sent = 1;
	o.answer_seen = 1;
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_CLIENT_LOCAL_RULE);
	assert_ev(&v, "rule 'inet filter input handle 9: tcp sport "
	    "30000-30099 drop' dropped the server's answer");

	/* The server's trace shows its answer left, and the agent's that
	 * it arrived and its own rule dropped it: not the way back. */
	trace_on(&o);
	o.synack_sent = 1;
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_CLIENT_LOCAL_RULE);
	assert_ev(&v, "dropped the server's answer");

	obs_out(&o, PROBE_PASSIVE, 30011, OUTCOME_ACKED);
	o.arrived = 1;
	ctrace_drop(&o, 0, 9, "input", "tcp sport 30000-30099 drop");
	classify(&o, &f, &v);
	assert_true(v.pass);
	assert_int_equal(v.cause, CAUSE_NONE);
}

/* Active: the connect-back SYN dropped on the agent host, even behind
 * source NAT (it got here); our answer dropped on the way out too. */
static void
test_client_rule_active(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_active(&o, &f, OUTCOME_TIMEOUT);
	ctrace_drop(&o, 0, 4, "input", "tcp sport 20 drop");
	o.answer_seen = 1;
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_CLIENT_LOCAL_RULE);
	assert_ev(&v, "the agent host's own rule 'inet filter input handle 4: "
	    "tcp sport 20 drop' dropped the connect-back SYN");

	sa_set(&f.agent_observed, NATADDR, 50000);
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_CLIENT_LOCAL_RULE);

	facts_init(&f);
	obs_active(&o, &f, OUTCOME_TIMEOUT);
	ctrace_drop(&o, 1, 6, "output", "tcp dport 20 drop");
	o.answer_seen = 1;
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_CLIENT_LOCAL_RULE);
	assert_ev(&v, "dropped the agent's answer");

	/* A local error on the reflector host is not the agent's rule. */
	obs_active(&o, &f, OUTCOME_LOCAL_ERROR);
	o.error = EADDRINUSE;
	ctrace_drop(&o, 0, 4, "input", "tcp sport 20 drop");
	classify(&o, &f, &v);
	assert_int_not_equal(v.cause, CAUSE_CLIENT_LOCAL_RULE);
}

/* A rule on the server host that drops the connect-back SYN. */
static void
cb_drop(struct probe_obs *o, const char *verdict, const char *text)
{
	o->trace_state = TRACE_OBS_ON;
	o->trace_record = 1;
	o->cb_syn_sent = 0;
	rule_fill(&server_rule, 1, 7, "harness_filter", "output", verdict,
	    text);
	o->rule = &server_rule;
}

/*
 * Active: the server host's own output rule drops (or rejects) the
 * connect-back.  The server's trace names it, whatever the socket saw
 * (a timeout, the RST or ICMP of a reject, EPERM), behind NAT too, and
 * even with the agent host's trace missing; a SYN that still got out,
 * or a connect-back that arrived, is not that rule's doing.
 */
static void
test_server_rule_active(void **state)
{
	static const enum probe_outcome oc[] = {
		OUTCOME_TIMEOUT, OUTCOME_RESET, OUTCOME_ICMP,
		OUTCOME_LOCAL_ERROR,
	};
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;
	size_t i;

	(void)state;
	facts_init(&f);
	obs_active(&o, &f, OUTCOME_TIMEOUT);
	o.ctrace_state = TRACE_OBS_ON;	/* nothing reached the agent host */
	cb_drop(&o, "drop", "tcp sport 20 drop");
	classify(&o, &f, &v);
	assert_false(v.pass);
	assert_int_equal(v.cause, CAUSE_SERVER_LOCAL_RULE);
	assert_ev(&v, "the connect-back SYN from " SERVER ":20 was dropped on "
	    "the server host by rule 'inet harness_filter output handle 7: "
	    "tcp sport 20 drop'");
	assert_ev(&v, "connect-back from " SERVER ":20 to " AGENT ":41000 "
	    "got no answer");

	for (i = 0; i < sizeof(oc) / sizeof(oc[0]); i++) {
		obs_active(&o, &f, oc[i]);
		if (oc[i] == OUTCOME_ICMP)
			icmp_set(&o, AF_INET, 3, 13, SERVER);
		if (oc[i] == OUTCOME_LOCAL_ERROR)
			o.error = EPERM;
		if (oc[i] == OUTCOME_RESET)
			o.error = ECONNREFUSED;
		cb_drop(&o, "reject", "tcp sport 20 reject with tcp reset");
		classify(&o, &f, &v);
		assert_int_equal(v.cause, CAUSE_SERVER_LOCAL_RULE);
		assert_ev(&v, "was rejected on the server host by rule");
	}
	assert_ev(&v, "failed on the server host (EPERM)");

	/* Incomplete: the drop event still counts. */
	obs_active(&o, &f, OUTCOME_TIMEOUT);
	cb_drop(&o, "drop", "tcp sport 20 drop");
	o.trace_state = TRACE_OBS_INCOMPLETE;
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_SERVER_LOCAL_RULE);

	/* Behind source NAT: the SYN never left, so it is not the NAT. */
	sa_set(&f.agent_observed, NATADDR, 50000);
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_SERVER_LOCAL_RULE);
	facts_init(&f);

	/* A SYN of it got out after all: not this rule's failure. */
	obs_active(&o, &f, OUTCOME_TIMEOUT);
	o.ctrace_state = TRACE_OBS_ON;
	cb_drop(&o, "drop", "tcp sport 20 drop");
	o.cb_syn_sent = 1;
	classify(&o, &f, &v);
	assert_int_not_equal(v.cause, CAUSE_SERVER_LOCAL_RULE);

	/* The trace unavailable: no record, no rule, no cause. */
	obs_active(&o, &f, OUTCOME_TIMEOUT);
	o.ctrace_state = TRACE_OBS_ON;
	o.trace_state = TRACE_OBS_UNAVAILABLE;
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_NONE);

	/* Acked: passes whatever an earlier SYN met. */
	obs_active(&o, &f, OUTCOME_ACKED);
	o.arrived = 1;
	cb_drop(&o, "drop", "tcp sport 20 drop");
	classify(&o, &f, &v);
	assert_true(v.pass);
}

/* Without the agent's trace nothing is claimed, and the evidence says
 * why; an incomplete trace's drop event still counts. */
static void
test_client_trace_unavailable(void **state)
{
	struct session_facts f;
	struct probe_obs o;
	struct verdict v;

	(void)state;
	facts_init(&f);
	obs_out(&o, PROBE_CONTROL, 21, OUTCOME_TIMEOUT);
	o.ctrace_state = TRACE_OBS_UNAVAILABLE;
	o.ctrace_reason = "cannot listen "
	    "to nftables trace events (Operation not permitted)";
	classify(&o, &f, &v);
	assert_int_not_equal(v.cause, CAUSE_CLIENT_LOCAL_RULE);
	assert_ev(&v, "no nftables trace on the agent host (cannot listen to "
	    "nftables trace events (Operation not permitted)), so whether "
	    "its own rules dropped the probe is not known");

	obs_out(&o, PROBE_CONTROL, 21, OUTCOME_LOCAL_ERROR);
	o.error = EPERM;
	o.ctrace_state = TRACE_OBS_UNAVAILABLE;
	o.ctrace_reason = "EPERM";
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_NONE);
	assert_ev(&v, "no nftables trace on the agent host (EPERM)");

	/* Incomplete: the drop is positive evidence, "never left" is not. */
	obs_out(&o, PROBE_CONTROL, 21, OUTCOME_TIMEOUT);
	ctrace_drop(&o, 1, 3, "output", "tcp dport 21 drop");
	o.ctrace_state = TRACE_OBS_INCOMPLETE;
	classify(&o, &f, &v);
	assert_int_equal(v.cause, CAUSE_CLIENT_LOCAL_RULE);
	assert_false(has_ev(&v, "never left"));

	/* Incomplete and no rule: said, not claimed. */
	obs_out(&o, PROBE_CONTROL, 21, OUTCOME_TIMEOUT);
	o.ctrace_state = TRACE_OBS_INCOMPLETE;
	o.ctrace_reason = "ENOBUFS";
	classify(&o, &f, &v);
	assert_int_not_equal(v.cause, CAUSE_CLIENT_LOCAL_RULE);
	assert_ev(&v, "proves nothing");

	/* A passing probe gets no such sentence. */
	obs_out(&o, PROBE_PASSIVE, 30000, OUTCOME_ACKED);
	o.arrived = 1;
	o.ctrace_state = TRACE_OBS_UNAVAILABLE;
	classify(&o, &f, &v);
	assert_true(v.pass);
	assert_false(has_ev(&v, "agent host ("));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_acked_pass),
		cmocka_unit_test(test_timeout_confirmed),
		cmocka_unit_test(test_flood_is_evidence),
		cmocka_unit_test(test_icmp_inferred_by_retry),
		cmocka_unit_test(test_icmp_service_addr_gap),
		cmocka_unit_test(test_acked_snat_address),
		cmocka_unit_test(test_acked_snat_port_only),
		cmocka_unit_test(test_acked_v4_mapped_not_nat),
		cmocka_unit_test(test_other_service_passive_pass),
		cmocka_unit_test(test_control_220_pass),
		cmocka_unit_test(test_control_421_service_refused),
		cmocka_unit_test(test_icmp_admin_prohibited),
		cmocka_unit_test(test_icmp_admin_from_server_host),
		cmocka_unit_test(test_icmp6_admin_prohibited),
		cmocka_unit_test(test_icmp_host_unreachable),
		cmocka_unit_test(test_icmp_other_no_cause),
		cmocka_unit_test(test_icmp_without_details),
		cmocka_unit_test(test_local_no_route),
		cmocka_unit_test(test_local_eperm_no_cause),
		cmocka_unit_test(test_local_other_error),
		cmocka_unit_test(test_reset_listening_path_reject),
		cmocka_unit_test(test_reset_in_use_not_listening),
		cmocka_unit_test(test_timeout_silent_drop),
		cmocka_unit_test(test_timeout_unobserved_no_cause),
		cmocka_unit_test(test_timeout_arrived_return_path),
		cmocka_unit_test(test_silent_peer),
		cmocka_unit_test(test_not_run),
		cmocka_unit_test(test_control_no_ftp_server),
		cmocka_unit_test(test_control_in_use_acked_pass),
		cmocka_unit_test(test_active_pass),
		cmocka_unit_test(test_active_port_rewritten),
		cmocka_unit_test(test_active_acked_not_arrived),
		cmocka_unit_test(test_active_client_nat_timeout),
		cmocka_unit_test(test_active_client_nat_icmp),
		cmocka_unit_test(test_active_client_nat_local_error_not_nat),
		cmocka_unit_test(test_active_icmp_admin),
		cmocka_unit_test(test_active_reset),
		cmocka_unit_test(test_active_timeout),
		cmocka_unit_test(test_active_no_route),
		cmocka_unit_test(test_nat_detection),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_all_combinations),
		cmocka_unit_test(test_long_v6_no_truncation),
		cmocka_unit_test(test_trace_drop_server_local_rule),
		cmocka_unit_test(test_trace_drop_incomplete_in_use),
		cmocka_unit_test(test_trace_reject_reset),
		cmocka_unit_test(test_trace_reject_icmp_sender),
		cmocka_unit_test(test_trace_drop_outbound),
		cmocka_unit_test(test_trace_policy_drop),
		cmocka_unit_test(test_trace_rule_without_text),
		cmocka_unit_test(test_trace_return_path),
		cmocka_unit_test(test_trace_return_path_needs_complete),
		cmocka_unit_test(test_trace_no_event_silent_drop),
		cmocka_unit_test(test_trace_incomplete_no_claim),
		cmocka_unit_test(test_trace_unavailable_sentence),
		cmocka_unit_test(test_trace_no_record),
		cmocka_unit_test(test_trace_seen_no_answer),
		cmocka_unit_test(test_trace_pass_unchanged),
		cmocka_unit_test(test_trace_combinations),
		cmocka_unit_test(test_client_rule_syn_dropped),
		cmocka_unit_test(test_client_rule_outranks_server_trace),
		cmocka_unit_test(test_client_rule_answer_dropped),
		cmocka_unit_test(test_client_rule_active),
		cmocka_unit_test(test_server_rule_active),
		cmocka_unit_test(test_client_trace_unavailable),
		cmocka_unit_test(test_missing_trace_no_path_cause),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
