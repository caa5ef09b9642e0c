/*
 * test_trace.c - the reflector's per-session trace records (trace.c),
 * fed with hand-built events: matching by 5-tuple and by trace id, the
 * compact runs of "traces", and what an incomplete trace reports.
 * Detached traces do no nftables I/O, so no root is needed.
 * Also the trace decoder (fw_trace_decode) against hostile messages: each
 * is rejected, and *ev left alone.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <libmnl/libmnl.h>

#include "ctrace.h"
#include "err.h"
#include "fw_trace.h"
#include "fw_session.h"
#include "trace.h"
#include "verdict.h"

#define AGENT	"198.51.100.2"
#define SERVER	"203.0.113.2"
#define OTHER	"198.51.100.99"

static void
sa_set(struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)ss;

	memset(ss, 0, sizeof(*ss));
	s4->sin_family = AF_INET;
	s4->sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, ip, &s4->sin_addr), 1);
}

static struct trace *
new_trace_active(uint16_t active_port)
{
	struct sockaddr_storage peer;
	struct portrange pasv = { 30000, 30099 };
	struct trace *t;

	sa_set(&peer, AGENT, 0);
	t = trace_new_detached((struct sockaddr *)&peer, 21, &pasv,
	    active_port);
	assert_non_null(t);
	return t;
}

static struct trace *
new_trace(void)
{
	return new_trace_active(0);
}

/* An event of our trace rule (prerouting or output) with headers. */
static void
ev_tuple(struct fw_trace_event *ev, uint32_t id, const char *src,
    uint16_t sport, const char *dst, uint16_t dport, const char *chain)
{
	memset(ev, 0, sizeof(*ev));
	ev->id = id;
	ev->family = NFPROTO_INET;
	ev->nfproto = NFPROTO_IPV4;
	ev->type = FW_TRACE_RULE;
	snprintf(ev->table, sizeof(ev->table), "ftpath_x");
	snprintf(ev->chain, sizeof(ev->chain), "%s", chain);
	ev->has_handle = 1;
	ev->handle = 2;
	ev->verdict = FW_V_CONTINUE;
	ev->has_tuple = 1;
	ev->l4proto = IPPROTO_TCP;
	sa_set(&ev->src, src, sport);
	sa_set(&ev->dst, dst, dport);
}

/* A later event of the same packet: a drop, without headers. */
static void
ev_drop(struct fw_trace_event *ev, uint32_t id, uint64_t handle)
{
	memset(ev, 0, sizeof(*ev));
	ev->id = id;
	ev->family = NFPROTO_INET;
	ev->type = FW_TRACE_RULE;
	snprintf(ev->table, sizeof(ev->table), "harness_filter");
	snprintf(ev->chain, sizeof(ev->chain), "input");
	ev->has_handle = 1;
	ev->handle = handle;
	ev->verdict = FW_V_DROP;
}

static json_t *
observe(struct trace *t)
{
	json_t *obs = json_object();
	size_t bytes = 0;

	assert_non_null(obs);
	assert_int_equal(trace_observations(t, NULL, obs, &bytes), 0);
	assert_true(bytes > 0);
	return obs;
}

static json_t *
run_at(json_t *obs, size_t i)
{
	return json_array_get(json_object_get(obs, "traces"), i);
}

static void
test_drop_by_id(void **state)
{
	struct trace *t = new_trace();
	struct fw_trace_event ev;
	json_t *obs, *r, *v;
	unsigned p;

	(void)state;
	/* Every passive port: SYN at prerouting, then dropped at input. */
	for (p = 30000; p <= 30099; p++) {
		ev_tuple(&ev, 1000 + p, AGENT, 40000, SERVER, (uint16_t)p,
		    "trace_pre");
		trace_feed(t, &ev);
		ev_drop(&ev, 1000 + p, 5);
		trace_feed(t, &ev);
	}
	/* Port 21: SYN seen and answered. */
	ev_tuple(&ev, 7, AGENT, 40001, SERVER, 21, "trace_pre");
	trace_feed(t, &ev);
	ev_tuple(&ev, 8, SERVER, 21, AGENT, 40001, "trace_out");
	trace_feed(t, &ev);
	obs = observe(t);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    obs, "trace"), "state")), "on");
	assert_int_equal(json_array_size(json_object_get(obs, "traces")), 2);
	r = run_at(obs, 0);
	assert_string_equal(json_string_value(json_object_get(r, "ports")),
	    "21");
	assert_true(json_is_true(json_object_get(r, "syn_seen")));
	assert_true(json_is_true(json_object_get(r, "synack_sent")));
	assert_true(json_is_null(json_object_get(r, "verdict")));
	r = run_at(obs, 1);
	assert_string_equal(json_string_value(json_object_get(r, "ports")),
	    "30000-30099");
	assert_true(json_is_true(json_object_get(r, "syn_seen")));
	assert_true(json_is_false(json_object_get(r, "synack_sent")));
	v = json_object_get(r, "verdict");
	assert_string_equal(json_string_value(json_object_get(v, "family")),
	    "inet");
	assert_string_equal(json_string_value(json_object_get(v, "table")),
	    "harness_filter");
	assert_string_equal(json_string_value(json_object_get(v, "chain")),
	    "input");
	assert_int_equal(json_integer_value(json_object_get(v, "handle")), 5);
	assert_string_equal(json_string_value(json_object_get(v, "verdict")),
	    "drop");
	assert_string_equal(json_string_value(json_object_get(v,
	    "direction")), "in");
	json_decref(obs);
	trace_free(t);
}

/* Packets of other peers and other ports are not ours; an id reused by
 * such a packet no longer names our probe. */
static void
test_foreign_ignored(void **state)
{
	struct trace *t = new_trace();
	struct fw_trace_event ev;
	json_t *obs, *r;

	(void)state;
	ev_tuple(&ev, 1, OTHER, 40000, SERVER, 30000, "trace_pre");
	trace_feed(t, &ev);
	ev_tuple(&ev, 2, AGENT, 40000, SERVER, 7021, "trace_pre");
	trace_feed(t, &ev);
	ev_drop(&ev, 1, 5);
	trace_feed(t, &ev);
	ev_tuple(&ev, 3, AGENT, 40000, SERVER, 30001, "trace_pre");
	trace_feed(t, &ev);
	ev_tuple(&ev, 3, OTHER, 40000, SERVER, 30001, "input");
	trace_feed(t, &ev);
	ev_drop(&ev, 3, 5);
	trace_feed(t, &ev);
	obs = observe(t);
	/* 21, 30000: nothing; 30001: seen, not dropped; rest: nothing. */
	assert_int_equal(json_array_size(json_object_get(obs, "traces")), 4);
	r = run_at(obs, 0);
	assert_string_equal(json_string_value(json_object_get(r, "ports")),
	    "21");
	assert_true(json_is_false(json_object_get(r, "syn_seen")));
	r = run_at(obs, 1);
	assert_string_equal(json_string_value(json_object_get(r, "ports")),
	    "30000");
	r = run_at(obs, 2);
	assert_string_equal(json_string_value(json_object_get(r, "ports")),
	    "30001");
	assert_true(json_is_true(json_object_get(r, "syn_seen")));
	assert_true(json_is_null(json_object_get(r, "verdict")));
	r = run_at(obs, 3);
	assert_string_equal(json_string_value(json_object_get(r, "ports")),
	    "30002-30099");
	assert_true(json_is_false(json_object_get(r, "syn_seen")));
	json_decref(obs);
	trace_free(t);
}

/* The answer dropped on its way out: no SYN-ACK left, the rule is named
 * with direction "out". */
static void
test_outbound_drop(void **state)
{
	struct trace *t = new_trace();
	struct fw_trace_event ev;
	json_t *obs, *r, *v;

	(void)state;
	ev_tuple(&ev, 1, AGENT, 40000, SERVER, 21, "trace_pre");
	trace_feed(t, &ev);
	ev_tuple(&ev, 2, SERVER, 21, AGENT, 40000, "trace_out");
	trace_feed(t, &ev);
	ev_drop(&ev, 2, 9);
	snprintf(ev.chain, sizeof(ev.chain), "output");
	trace_feed(t, &ev);
	obs = observe(t);
	r = run_at(obs, 0);
	assert_string_equal(json_string_value(json_object_get(r, "ports")),
	    "21");
	assert_true(json_is_false(json_object_get(r, "synack_sent")));
	v = json_object_get(r, "verdict");
	assert_string_equal(json_string_value(json_object_get(v,
	    "direction")), "out");
	assert_string_equal(json_string_value(json_object_get(v, "chain")),
	    "output");
	json_decref(obs);
	trace_free(t);
}

static void
test_incomplete_and_null(void **state)
{
	struct trace *t = new_trace();
	json_t *obs, *st;
	size_t bytes;

	(void)state;
	trace_set_incomplete(t, "the kernel dropped trace events (ENOBUFS)");
	obs = observe(t);
	st = json_object_get(obs, "trace");
	assert_string_equal(json_string_value(json_object_get(st, "state")),
	    "incomplete");
	assert_non_null(strstr(json_string_value(json_object_get(st,
	    "reason")), "ENOBUFS"));
	json_decref(obs);
	trace_free(t);

	obs = json_object();
	assert_int_equal(trace_observations(NULL, NULL, obs, &bytes), 0);
	st = json_object_get(obs, "trace");
	assert_string_equal(json_string_value(json_object_get(st, "state")),
	    "unavailable");
	assert_int_equal(json_array_size(json_object_get(obs, "traces")), 0);
	json_decref(obs);
}

/* A later event of a packet on the client: its output or input chain. */
static void
ev_drop_chain(struct fw_trace_event *ev, uint32_t id, uint64_t handle,
    const char *chain)
{
	ev_drop(ev, id, handle);
	snprintf(ev->chain, sizeof(ev->chain), "%s", chain);
}

static json_t *
connectback(struct trace *t, uint16_t agent_port)
{
	json_t *m = json_object();

	assert_non_null(m);
	assert_int_equal(trace_connectback(t, agent_port, m), 0);
	return m;
}

/*
 * The connect-backs from port 20: one record per agent port (the plain
 * one and the ALG's do not mix), dropped per packet, never in "traces";
 * a trace without the active port, another destination or a probe port's
 * answer make no connect-back record.
 */
static void
test_connectback(void **state)
{
	struct trace *t = new_trace_active(20);
	struct fw_trace_event ev;
	json_t *m, *rec, *v, *obs;
	uint32_t id;

	(void)state;
	/* The plain connect-back to 41000: SYN and its retransmission both
	 * dropped in output. */
	for (id = 50; id <= 51; id++) {
		ev_tuple(&ev, id, SERVER, 20, AGENT, 41000, "trace_out");
		trace_feed(t, &ev);
		ev_drop_chain(&ev, id, 11, "output");
		trace_feed(t, &ev);
	}
	/* The ALG's to 42000 got out. */
	ev_tuple(&ev, 60, SERVER, 20, AGENT, 42000, "trace_out");
	trace_feed(t, &ev);
	/* Not ours: another host; a probe port's answer to 43000. */
	ev_tuple(&ev, 70, SERVER, 20, OTHER, 41000, "trace_out");
	trace_feed(t, &ev);
	ev_drop_chain(&ev, 70, 12, "output");
	trace_feed(t, &ev);
	ev_tuple(&ev, 71, SERVER, 21, AGENT, 43000, "trace_out");
	trace_feed(t, &ev);

	m = connectback(t, 41000);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    m, "trace"), "state")), "on");
	rec = json_object_get(m, "record");
	assert_true(json_is_object(rec));
	assert_true(json_is_false(json_object_get(rec, "syn_sent")));
	v = json_object_get(rec, "verdict");
	assert_string_equal(json_string_value(json_object_get(v, "chain")),
	    "output");
	assert_int_equal(json_integer_value(json_object_get(v, "handle")), 11);
	assert_string_equal(json_string_value(json_object_get(v,
	    "direction")), "out");
	json_decref(m);

	m = connectback(t, 42000);
	rec = json_object_get(m, "record");
	assert_true(json_is_true(json_object_get(rec, "syn_sent")));
	assert_true(json_is_null(json_object_get(rec, "verdict")));
	json_decref(m);

	m = connectback(t, 43000);	/* only port 21's answer went there */
	assert_true(json_is_null(json_object_get(m, "record")));
	json_decref(m);

	/* The probe ports' runs know nothing of port 20. */
	obs = observe(t);
	assert_int_equal(json_array_size(json_object_get(obs, "traces")), 2);
	assert_string_equal(json_string_value(json_object_get(run_at(obs, 0),
	    "ports")), "21");
	assert_string_equal(json_string_value(json_object_get(run_at(obs, 1),
	    "ports")), "30000-30099");
	json_decref(obs);
	trace_free(t);

	/* Without the active port nothing of port 20 is recorded. */
	t = new_trace();
	ev_tuple(&ev, 50, SERVER, 20, AGENT, 41000, "trace_out");
	trace_feed(t, &ev);
	m = connectback(t, 41000);
	assert_true(json_is_null(json_object_get(m, "record")));
	json_decref(m);
	trace_free(t);

	/* No plan armed: no trace at all. */
	m = connectback(NULL, 41000);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    m, "trace"), "state")), "unavailable");
	assert_true(json_is_null(json_object_get(m, "record")));
	json_decref(m);
}

static struct ctrace *
new_ctrace(void)
{
	struct sockaddr_storage server;
	struct portrange pasv = { 30000, 30099 };
	struct ctrace *ct;

	sa_set(&server, SERVER, 0);
	ct = ctrace_new_detached((struct sockaddr *)&server, 21, &pasv, 20);
	assert_non_null(ct);
	return ct;
}

static void
obs_init(struct probe_obs *o, enum probe_kind kind, uint16_t port)
{
	memset(o, 0, sizeof(*o));
	o->kind = kind;
	o->port = port;
	o->outcome = OUTCOME_TIMEOUT;
}

/*
 * The client role: the ports are the server's.  Our SYN to 21 dropped
 * in our output chain, a passive probe that went out and got its answer,
 * the connect-back from port 20 dropped in our input chain; the server
 * role's view of the same tuples (our ports) is ignored.
 */
static void
test_client_role(void **state)
{
	struct ctrace *ct = new_ctrace();
	struct fw_trace_event ev;
	struct probe_obs o;

	(void)state;
	ev_tuple(&ev, 1, AGENT, 40000, SERVER, 21, "trace_out");
	ctrace_feed(ct, &ev);
	ev_drop_chain(&ev, 1, 3, "output");
	ctrace_feed(ct, &ev);
	/* The retransmission, dropped again: still one rule, never out. */
	ev_tuple(&ev, 9, AGENT, 40000, SERVER, 21, "trace_out");
	ctrace_feed(ct, &ev);
	ev_drop_chain(&ev, 9, 3, "output");
	ctrace_feed(ct, &ev);
	ev_tuple(&ev, 2, AGENT, 40001, SERVER, 30000, "trace_out");
	ctrace_feed(ct, &ev);
	ev_tuple(&ev, 3, SERVER, 30000, AGENT, 40001, "trace_pre");
	ctrace_feed(ct, &ev);
	ev_tuple(&ev, 4, SERVER, 20, AGENT, 45000, "trace_pre");
	ctrace_feed(ct, &ev);
	ev_drop_chain(&ev, 4, 5, "input");
	ctrace_feed(ct, &ev);
	/* Server-role tuples (port on the agent's side) are not ours. */
	ev_tuple(&ev, 5, SERVER, 40002, AGENT, 30001, "trace_pre");
	ctrace_feed(ct, &ev);
	ev_drop_chain(&ev, 5, 7, "input");
	ctrace_feed(ct, &ev);

	obs_init(&o, PROBE_CONTROL, 21);
	ctrace_apply(ct, &o);
	assert_int_equal(o.ctrace_state, TRACE_OBS_ON);
	assert_false(o.syn_sent);
	assert_false(o.answer_seen);
	assert_non_null(o.crule);
	assert_true(o.crule->outbound);
	assert_true(o.crule->has_handle);
	assert_int_equal(o.crule->handle, 3);
	assert_string_equal(o.crule->family, "inet");
	assert_string_equal(o.crule->table, "harness_filter");
	assert_string_equal(o.crule->chain, "output");
	assert_string_equal(o.crule->verdict, "drop");

	obs_init(&o, PROBE_PASSIVE, 30000);
	ctrace_apply(ct, &o);
	assert_true(o.syn_sent);
	assert_true(o.answer_seen);
	assert_null(o.crule);

	obs_init(&o, PROBE_PASSIVE, 30001);
	ctrace_apply(ct, &o);
	assert_int_equal(o.ctrace_state, TRACE_OBS_ON);
	assert_false(o.syn_sent);
	assert_false(o.answer_seen);
	assert_null(o.crule);

	obs_init(&o, PROBE_ACTIVE, 20);
	ctrace_apply(ct, &o);
	assert_true(o.answer_seen);
	assert_false(o.syn_sent);
	assert_non_null(o.crule);
	assert_false(o.crule->outbound);
	assert_int_equal(o.crule->handle, 5);
	assert_string_equal(o.crule->chain, "input");
	ctrace_free(ct);
	ctrace_free(NULL);
}

/* A SYN that went out once and was dropped on a later try still left. */
static void
test_client_some_left(void **state)
{
	struct ctrace *ct = new_ctrace();
	struct fw_trace_event ev;
	struct probe_obs o;

	(void)state;
	ev_tuple(&ev, 1, AGENT, 40000, SERVER, 30005, "trace_out");
	ctrace_feed(ct, &ev);
	ev_tuple(&ev, 2, AGENT, 40000, SERVER, 30005, "trace_out");
	ctrace_feed(ct, &ev);
	ev_drop_chain(&ev, 2, 3, "output");
	ctrace_feed(ct, &ev);
	/* A second drop event of the same packet counts once. */
	ctrace_feed(ct, &ev);
	obs_init(&o, PROBE_PASSIVE, 30005);
	ctrace_apply(ct, &o);
	assert_true(o.syn_sent);
	assert_non_null(o.crule);
	assert_true(o.crule->outbound);
	ctrace_free(ct);
}

/* The generic session's server role is what trace.c wraps: same
 * records through the fw_session accessors. */
static void
test_session_server_role(void **state)
{
	struct sockaddr_storage peer;
	struct portrange pr[2] = { { 21, 21 }, { 30000, 30099 } };
	struct fw_session_spec spec;
	const struct fw_session_port *p;
	struct fw_trace_event ev;
	struct fw_session *s;

	(void)state;
	sa_set(&peer, AGENT, 0);
	memset(&spec, 0, sizeof(spec));
	spec.role = FW_SESSION_SERVER;
	spec.peer = (struct sockaddr *)&peer;
	spec.ports = pr;
	spec.nports = 2;
	assert_non_null(s = fw_session_new_detached(&spec));
	assert_int_equal(fw_session_nports(s), 101);
	ev_tuple(&ev, 1, AGENT, 40000, SERVER, 30002, "trace_pre");
	fw_session_feed(s, &ev);
	ev_drop(&ev, 1, 4);
	fw_session_feed(s, &ev);
	assert_non_null(p = fw_session_find(s, 30002));
	assert_true(p->in_seen);
	assert_true(p->in_dropped);
	assert_int_equal(p->in_pkts, 1);
	assert_int_equal(p->in_drops, 1);
	assert_int_equal(p->rule_dir, FW_SESSION_IN);
	assert_int_equal(fw_session_rule_at(s, p->rule)->handle, 4);
	assert_null(fw_session_find(s, 22));
	assert_int_equal(fw_session_state(s), FW_SESSION_ON);
	fw_session_set_incomplete(s, "lost");
	assert_int_equal(fw_session_state(s), FW_SESSION_INCOMPLETE);
	assert_string_equal(fw_session_reason(s), "lost");
	fw_session_free(s);
	/* No ports: no session. */
	spec.nports = 0;
	assert_null(fw_session_new_detached(&spec));
}


/* ---- the decoder against hostile messages ---- */

#define TRACE_TYPE	((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_TRACE)

/* A trace message: netlink header, nfgenmsg (family, version), then the
 * body bytes as given. */
static struct nlmsghdr *
hmsg(char *buf, size_t bufsz, uint8_t family, const void *body, size_t n)
{
	struct nlmsghdr *nlh;
	struct nfgenmsg *g;

	memset(buf, 0, bufsz);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = TRACE_TYPE;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = family;
	g->version = NFNETLINK_V0;
	assert_true(MNL_NLMSG_HDRLEN + sizeof(*g) + n <= bufsz);
	if (n > 0)
		memcpy((char *)g + sizeof(*g), body, n);
	nlh->nlmsg_len += (uint32_t)MNL_ALIGN(n);
	return nlh;
}

/* Rejected, and ev untouched (its sentinel id survives). */
static void
assert_rejected(const struct nlmsghdr *nlh, size_t len)
{
	struct fw_trace_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.id = 0x5a5a5a5a;
	assert_int_equal(fw_trace_decode(nlh, len, &ev), FTP_ERR_PROTO);
	assert_int_equal(ev.id, 0x5a5a5a5a);
}

static void
hex_bytes(const char *hex, uint8_t *out, size_t *n)
{
	unsigned v;

	for (*n = 0; hex[0] != '\0' && hex[1] != '\0'; hex += 2) {
		assert_int_equal(sscanf(hex, "%2x", &v), 1);
		out[(*n)++] = (uint8_t)v;
	}
}

/* libnftnl 1.2.4 calls exit(1) on a trace without NFTA_TRACE_ID: the
 * 20-byte multicast with nfgenmsg 02000000 and no attribute. */
static void
test_decode_no_id(void **state)
{
	char buf[256];
	struct nlmsghdr *nlh;

	(void)state;
	nlh = hmsg(buf, sizeof(buf), NFPROTO_IPV4, NULL, 0);
	assert_int_equal(nlh->nlmsg_len, 20);
	assert_rejected(nlh, nlh->nlmsg_len);
	/* With a type but still no id. */
	mnl_attr_put_u32(nlh, NFTA_TRACE_TYPE, htonl(NFT_TRACETYPE_RULE));
	assert_rejected(nlh, nlh->nlmsg_len);
}

/* A verdict attribute without nested data (libnftnl read an
 * uninitialised table), and one whose nest lacks the code. */
static void
test_decode_empty_verdict(void **state)
{
	char buf[256];
	struct nlmsghdr *nlh;
	struct nlattr *nest;

	(void)state;
	nlh = hmsg(buf, sizeof(buf), NFPROTO_INET, NULL, 0);
	mnl_attr_put_u32(nlh, NFTA_TRACE_ID, htonl(1));
	mnl_attr_put_u32(nlh, NFTA_TRACE_TYPE, htonl(NFT_TRACETYPE_RULE));
	mnl_attr_put(nlh, NFTA_TRACE_VERDICT | NLA_F_NESTED, 0, NULL);
	assert_rejected(nlh, nlh->nlmsg_len);

	nlh = hmsg(buf, sizeof(buf), NFPROTO_INET, NULL, 0);
	mnl_attr_put_u32(nlh, NFTA_TRACE_ID, htonl(1));
	mnl_attr_put_u32(nlh, NFTA_TRACE_TYPE, htonl(NFT_TRACETYPE_RULE));
	nest = mnl_attr_nest_start(nlh, NFTA_TRACE_VERDICT);
	mnl_attr_put_strz(nlh, NFTA_VERDICT_CHAIN, "sub");
	mnl_attr_nest_end(nlh, nest);
	assert_rejected(nlh, nlh->nlmsg_len);
}

/* The message on which libnftnl strdup()ed an unterminated TABLE past the
 * end (ASan heap overflow): nfgenmsg and attributes as the hex gives. */
static void
test_decode_unterminated_table(void **state)
{
	static const char hex[] = "74000000080006000000000708000400001400050c00"
	    "b200000000000000058008000100ffffffff";
	uint8_t raw[64];
	char *heap;
	size_t n;
	struct nlmsghdr *nlh;

	(void)state;
	hex_bytes(hex, raw, &n);
	assert_int_equal(n, 40);
	/* Exactly the message's bytes on the heap, so that ASan sees any
	 * read past its end. */
	heap = malloc(MNL_NLMSG_HDRLEN + n);
	assert_non_null(heap);
	nlh = (struct nlmsghdr *)heap;
	memset(nlh, 0, MNL_NLMSG_HDRLEN);
	nlh->nlmsg_len = (uint32_t)(MNL_NLMSG_HDRLEN + n);
	nlh->nlmsg_type = TRACE_TYPE;
	memcpy(heap + MNL_NLMSG_HDRLEN, raw, n);
	/* The version byte is 0 (NFNETLINK_V0): the TABLE is what fails. */
	assert_rejected(nlh, nlh->nlmsg_len);
	free(heap);
}

/* More that the kernel never sends: a length beyond the bytes held, an
 * unaligned length, a repeated attribute, a name longer than the
 * kernel's, trailing bytes that are no attribute, a wrong-sized u32. */
static void
test_decode_malformed(void **state)
{
	char buf[1024], name[FW_TRACE_NAME_MAX + 8];
	struct fw_trace_event ev;
	struct nlmsghdr *nlh;
	uint32_t len;

	(void)state;
	nlh = hmsg(buf, sizeof(buf), NFPROTO_INET, NULL, 0);
	mnl_attr_put_u32(nlh, NFTA_TRACE_ID, htonl(1));
	mnl_attr_put_u32(nlh, NFTA_TRACE_TYPE, htonl(NFT_TRACETYPE_RULE));
	mnl_attr_put_strz(nlh, NFTA_TRACE_TABLE, "t");
	assert_int_equal(fw_trace_decode(nlh, nlh->nlmsg_len, &ev), 0);
	assert_int_equal(ev.id, 1);
	assert_string_equal(ev.table, "t");
	len = nlh->nlmsg_len;
	assert_rejected(nlh, len - 4);
	assert_rejected(nlh, 8);
	nlh->nlmsg_len = len - 1;
	assert_rejected(nlh, len);
	nlh->nlmsg_len = len;

	mnl_attr_put_u32(nlh, NFTA_TRACE_ID, htonl(2));
	assert_rejected(nlh, nlh->nlmsg_len);

	nlh = hmsg(buf, sizeof(buf), NFPROTO_INET, NULL, 0);
	mnl_attr_put_u32(nlh, NFTA_TRACE_ID, htonl(1));
	mnl_attr_put_u32(nlh, NFTA_TRACE_TYPE, htonl(NFT_TRACETYPE_RULE));
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	mnl_attr_put_strz(nlh, NFTA_TRACE_CHAIN, name);
	assert_rejected(nlh, nlh->nlmsg_len);

	nlh = hmsg(buf, sizeof(buf), NFPROTO_INET, NULL, 0);
	mnl_attr_put_u32(nlh, NFTA_TRACE_ID, htonl(1));
	mnl_attr_put_u32(nlh, NFTA_TRACE_TYPE, htonl(NFT_TRACETYPE_RULE));
	nlh->nlmsg_len += 4;		/* zeroed: nla_len 0 */
	assert_rejected(nlh, nlh->nlmsg_len);

	nlh = hmsg(buf, sizeof(buf), NFPROTO_INET, NULL, 0);
	mnl_attr_put_u32(nlh, NFTA_TRACE_ID, htonl(1));
	mnl_attr_put_u16(nlh, NFTA_TRACE_TYPE, htons(NFT_TRACETYPE_RULE));
	assert_rejected(nlh, nlh->nlmsg_len);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_drop_by_id),
		cmocka_unit_test(test_foreign_ignored),
		cmocka_unit_test(test_outbound_drop),
		cmocka_unit_test(test_incomplete_and_null),
		cmocka_unit_test(test_connectback),
		cmocka_unit_test(test_client_role),
		cmocka_unit_test(test_client_some_left),
		cmocka_unit_test(test_session_server_role),
		cmocka_unit_test(test_decode_no_id),
		cmocka_unit_test(test_decode_empty_verdict),
		cmocka_unit_test(test_decode_unterminated_table),
		cmocka_unit_test(test_decode_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
