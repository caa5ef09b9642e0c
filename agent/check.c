/*
 * check.c - orchestration of `ftpath-agent check`.
 *
 * Sequence: pair (TLS, hello/welcome, RTT) -> plan/armed -> probes and the
 * active connect-back in parallel on one event_base -> collect the
 * reflector's observations -> bye -> a TCP traceroute of failing runs
 * (traceroute.h) -> the real FTP client (service.h) -> classify every
 * path -> report.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>
#include <openssl/ssl.h>

#include "active.h"
#include "alg.h"
#include "algrun.h"
#include "check.h"
#include "clock.h"
#include "retry.h"
#include "control.h"
#include "ctrace.h"
#include "err.h"
#include "log.h"
#include "probe.h"
#include "report.h"
#include "service.h"
#include "srvcheck.h"
#include "tls.h"
#include "traceroute.h"
#include "verdict.h"

#define CHECK_MAX_SERVER_ADDRS	16
/* Failing runs traced (one port each): every trace may cost a router
 * ICMP tokens, and Linux routers give a destination a burst of 6. */
#define CHECK_MAX_TRACES	3
/* Distinct failing observations looked at for a trace. */
#define CHECK_MAX_TRACE_GROUPS	16

/* Probes with the same observation share one trace, of the first. */
struct check_trace {
	struct probe_obs first;
	struct traceroute *tr;		/* NULL: not traced */
};

struct check {
	const struct check_opts *o;
	struct timespec t0;
	char host[256];			/* reflector host */
	uint16_t rport;
	char server_name[256];
	uint16_t cport;			/* FTP control port probed */
	struct portrange passive;	/* lo == 0: passive not tested */
	SSL_CTX *ctx;
	struct event_base *base;
	struct control *ctl;
	struct probe_engine *pe;
	struct active *act;
	struct ctrace *ct;		/* the agent host's own nft trace */
	struct control_welcome w;
	struct control_rtt rtt;
	struct session_facts f;
	json_t *notes;			/* strings, added to the report */
	int lost;			/* control channel lost mid-session */
	struct ftpcheck_result *svc;	/* the real FTP client, or NULL */
	struct alg_obs *alg;		/* the ALG test, or NULL */
	struct check_trace traces[CHECK_MAX_TRACE_GROUPS];
	size_t n_groups, n_traced;
	int ct_merged;			/* ctrace read before the traceroute */
	struct srvcheck *sc;		/* the server host's own facts */
};

unsigned
check_adaptive_timeout(double rtt_max_ms)
{
	/* Rounded up by hand: the build links no libm. */
	unsigned rtt = rtt_max_ms <= 0 ? 0 : rtt_max_ms > 1e6 ? 1000000 :
	    (unsigned)rtt_max_ms + ((double)(unsigned)rtt_max_ms < rtt_max_ms);
	double t = CHECK_TIMEOUT_MIN_MS + 4.0 * rtt;

	if (t < CHECK_TIMEOUT_MIN_MS)
		t = CHECK_TIMEOUT_MIN_MS;
	if (t > CHECK_TIMEOUT_MAX_MS)
		t = CHECK_TIMEOUT_MAX_MS;
	return (unsigned)t;
}

static void LOG_FMT(2, 3)
check_note(struct check *c, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_debug("note: %s", buf);
	json_array_append_new(c->notes, json_string(buf));
}

/* Map a control-channel failure to an exit code, with its message. */
static int
check_ctl_exit(struct check *c, int r)
{
	log_warnx("%s", control_errmsg(c->ctl));
	return r == FTP_ERR_DENIED ? CHECK_EXIT_USAGE : CHECK_EXIT_UNREACHABLE;
}

static int
check_setup(struct check *c)
{
	char err[512];

	if (addr_split_hostport(c->o->reflector, CHECK_DEFAULT_PORT, c->host,
	    sizeof(c->host), &c->rport) != 0) {
		log_warnx("bad --reflector '%s' (HOST[:PORT])", c->o->reflector);
		return CHECK_EXIT_USAGE;
	}
	c->ctx = tls_ctx_new(TLS_ROLE_CLIENT, c->o->cert, c->o->key, c->o->ca,
	    err, sizeof(err));
	if (c->ctx == NULL) {
		log_warnx("TLS setup: %s", err);
		return CHECK_EXIT_USAGE;
	}
	if ((c->notes = json_array()) == NULL ||
	    (c->base = event_base_new()) == NULL ||
	    (c->ctl = control_new(c->base, c->ctx)) == NULL) {
		log_warnx("out of memory");
		return CHECK_EXIT_USAGE;
	}
	return CHECK_EXIT_PASS;
}

static int
check_pair(struct check *c)
{
	int r;

	if ((r = control_connect(c->ctl, c->host, c->rport)) != 0 ||
	    (r = control_hello(c->ctl, &c->w)) != 0 ||
	    (r = control_ping(c->ctl, CHECK_RTT_PINGS, &c->rtt)) != 0)
		return check_ctl_exit(c, r);
	if (control_endpoints(c->ctl, &c->f.agent_local, &c->f.dialled) != 0) {
		log_warn("control connection endpoints");
		return CHECK_EXIT_UNREACHABLE;
	}
	c->f.agent_observed = c->w.observed;
	c->f.reflector_local = c->w.local;
	c->f.rtt_ms = (unsigned)(c->rtt.avg_ms + 0.5);
	c->f.timeout_ms = c->o->timeout_ms ? c->o->timeout_ms :
	    check_adaptive_timeout(c->rtt.max_ms);
	log_debug("rtt min/avg/max %.3f/%.3f/%.3f ms, probe timeout %u ms",
	    c->rtt.min_ms, c->rtt.avg_ms, c->rtt.max_ms, c->f.timeout_ms);
	/* Addresses, FTP settings and clock of the server host (clock-skew,
	 * DNAT, dns-mismatch, pasv-address: srvcheck.h). */
	if ((c->sc = srvcheck_new(control_welcome_msg(c->ctl), c->w.recv_ms,
	    c->rtt.avg_ms)) == NULL) {
		log_warnx("out of memory");
		return CHECK_EXIT_USAGE;
	}
	return CHECK_EXIT_PASS;
}

/* The FTP service address: --server or the reflector host, same family
 * as the control connection when it has one. */
static int
check_pick_server(struct check *c)
{
	struct sockaddr_storage a[CHECK_MAX_SERVER_ADDRS];
	char list[512] = "", buf[ADDR_STRLEN];
	int n, i, pick = 0;
	size_t off = 0;

	snprintf(c->server_name, sizeof(c->server_name), "%s",
	    c->o->server ? c->o->server : c->host);
	c->cport = c->o->control_port ? c->o->control_port :
	    c->w.control_port ? c->w.control_port : 21;
	n = addr_resolve(c->server_name, c->cport, a, CHECK_MAX_SERVER_ADDRS);
	if (n <= 0) {
		log_warnx("cannot resolve server %s: %s", c->server_name,
		    ftp_strerror(n < 0 ? n : FTP_ERR_NOTFOUND));
		return CHECK_EXIT_USAGE;
	}
	for (i = n - 1; i >= 0; i--)
		if (a[i].ss_family == c->f.dialled.ss_family)
			pick = i;
	for (i = 0; i < n && off < sizeof(list) - ADDR_STRLEN; i++)
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
		    i ? ", " : "", addr_ntop((struct sockaddr *)&a[i], buf,
		    sizeof(buf)));
	c->f.server = a[pick];
	addr_unmap(&c->f.server);
	/* With the host's addresses srvcheck says more (DNAT, DNS). */
	if (!srvcheck_knows_host(c->sc) &&
	    !addr_equal((struct sockaddr *)&c->f.server,
	    (struct sockaddr *)&c->f.dialled) &&
	    !addr_equal((struct sockaddr *)&c->f.server,
	    (struct sockaddr *)&c->f.reflector_local))
		check_note(c, "the server address %s is neither the reflector "
		    "address we dialled nor the one it saw: its probe ports "
		    "only answer if that address reaches the reflector's host",
		    addr_ntop((struct sockaddr *)&c->f.server, buf,
		    sizeof(buf)));
	if (n > 1)
		check_note(c, "server %s resolves to %s; probed %s",
		    c->server_name, list, addr_ntop((struct sockaddr *)
		    &c->f.server, buf, sizeof(buf)));
	return CHECK_EXIT_PASS;
}

static void
check_pick_passive(struct check *c)
{
	if (c->o->passive.lo != 0)
		c->passive = c->o->passive;
	else if (c->w.passive.lo != 0)
		c->passive = c->w.passive;
	else
		check_note(c, "passive not tested: no --passive-range and the "
		    "reflector has no passive_range configured");
}

static json_t *
check_plan_msg(struct check *c)
{
	char buf[ADDR_STRLEN], range[16];
	json_t *m = proto_msg_new("plan"), *addrs = json_array();

	if (m == NULL || addrs == NULL) {
		json_decref(m);
		json_decref(addrs);
		return NULL;
	}
	json_array_append_new(addrs, json_string(addr_ntop((struct sockaddr *)
	    &c->f.agent_local, buf, sizeof(buf))));
	json_object_set_new(m, "agent_addrs", addrs);
	json_object_set_new(m, "server", json_string(addr_ntop(
	    (struct sockaddr *)&c->f.server, buf, sizeof(buf))));
	json_object_set_new(m, "control_port", json_integer(c->cport));
	if (c->passive.lo != 0) {
		snprintf(range, sizeof(range), "%u-%u", c->passive.lo,
		    c->passive.hi);
		json_object_set_new(m, "passive", json_string(range));
	} else {
		json_object_set_new(m, "passive", json_null());
	}
	json_object_set_new(m, "timeout_ms", json_integer(c->f.timeout_ms));
	return m;
}

static enum arm_state
check_arm_state(const char *s)
{
	if (s == NULL)
		return ARM_UNKNOWN;
	/* Diverted: the reflector receives the agent's connections to the
	 * port through tproxy, exactly as if it listened there itself. */
	if (strcmp(s, "listening") == 0 || strcmp(s, "diverted") == 0 ||
	    strcmp(s, "diverted-in-use") == 0)
		return ARM_LISTENING;
	if (strcmp(s, "in-use") == 0)
		return ARM_IN_USE;
	if (strcmp(s, "error") == 0)
		return ARM_ERROR;
	return ARM_UNKNOWN;
}

/* "LO-HI", "N" or a JSON integer. */
static int
check_json_range(const json_t *v, struct portrange *r)
{
	if (json_is_integer(v) && json_integer_value(v) > 0 &&
	    json_integer_value(v) < 65536) {
		r->lo = r->hi = (uint16_t)json_integer_value(v);
		return 0;
	}
	if (json_is_string(v))
		return portrange_parse(json_string_value(v), r);
	return FTP_ERR_INVAL;
}

static void
check_merge_armed(struct check *c, const json_t *armed)
{
	const json_t *run;
	size_t i;

	json_array_foreach(json_object_get(armed, "ports"), i, run) {
		struct portrange pr;
		enum arm_state st;
		const char *detail, *state;
		unsigned p;
		int served;

		if (check_json_range(json_object_get(run, "ports"), &pr) != 0)
			continue;
		state = json_string_value(json_object_get(run, "state"));
		st = check_arm_state(state);
		served = state != NULL && strcmp(state, "diverted-in-use") == 0;
		detail = json_string_value(json_object_get(run, "detail"));
		if (st == ARM_ERROR && detail != NULL)
			check_note(c, "reflector could not listen on %u-%u: %s",
			    pr.lo, pr.hi, detail);
		for (p = pr.lo; p <= pr.hi; p++) {
			struct probe_obs *o;

			if ((o = probe_lookup(c->pe, PROBE_CONTROL,
			    (uint16_t)p)) != NULL) {
				o->arm = st;
				o->served = served;
			}
			if ((o = probe_lookup(c->pe, PROBE_PASSIVE,
			    (uint16_t)p)) != NULL) {
				o->arm = st;
				o->served = served;
			}
		}
	}
}

static int
check_plan(struct check *c)
{
	json_t *plan, *armed = NULL;
	unsigned p;
	int r;

	if ((c->pe = probe_new(c->base, (struct sockaddr *)&c->f.server,
	    control_token(c->ctl), c->f.timeout_ms)) == NULL ||
	    probe_add(c->pe, PROBE_CONTROL, c->cport) != 0)
		goto nomem;
	for (p = c->passive.lo; c->passive.lo != 0 && p <= c->passive.hi; p++)
		if (probe_add(c->pe, PROBE_PASSIVE, (uint16_t)p) != 0)
			goto nomem;
	if ((plan = check_plan_msg(c)) == NULL)
		goto nomem;
	r = control_request(c->ctl, plan, "armed", CONTROL_REPLY_TIMEOUT_MS,
	    &armed);
	json_decref(plan);
	if (r != 0)
		return check_ctl_exit(c, r);
	check_merge_armed(c, armed);
	json_decref(armed);
	return CHECK_EXIT_PASS;
nomem:
	log_warnx("out of memory");
	return CHECK_EXIT_USAGE;
}

/* Listen and send `active`; a failure here only skips the active test. */
static int
check_active_start(struct check *c)
{
	char buf[ADDR_STRLEN];
	json_t *m;
	int r;

	if (c->o->no_active) {
		check_note(c, "active not tested (--no-active)");
		return 0;
	}
	c->act = active_new(c->base, control_token(c->ctl),
	    c->w.active_source_port, c->f.timeout_ms + CONTROL_REPLY_TIMEOUT_MS);
	if (c->act == NULL)
		return FTP_ERR_NOMEM;
	if (active_listen(c->act, (struct sockaddr *)&c->f.agent_local,
	    c->o->active_port) != 0) {
		int err = errno;

		check_note(c, "active not tested: cannot listen on %s port %u: "
		    "%s", addr_ntop((struct sockaddr *)&c->f.agent_local, buf,
		    sizeof(buf)), c->o->active_port, strerror(err));
		active_free(c->act);
		c->act = NULL;
		return 0;
	}
	if ((m = proto_msg_new("active")) == NULL)
		return FTP_ERR_NOMEM;
	json_object_set_new(m, "port", json_integer(active_port(c->act)));
	json_object_set_new(m, "timeout_ms", json_integer(c->f.timeout_ms));
	r = control_send(c->ctl, m);
	json_decref(m);
	return r;
}

static int
check_active_wait(struct check *c)
{
	json_t *res = NULL;
	int r;

	if (c->act == NULL)
		return 0;
	/* The reflector waits up to timeout_ms for its connect and the ack;
	 * a slow path adds RTTs on top. */
	r = control_wait(c->ctl, "active-result", 2 * c->f.timeout_ms +
	    CONTROL_REPLY_TIMEOUT_MS, &res);
	if (r != 0 && control_alive(c->ctl)) {
		/* Refused by an error frame: the session goes on without it. */
		check_note(c, "active not tested: %s", control_errmsg(c->ctl));
		active_free(c->act);
		c->act = NULL;
		return 0;
	}
	if (r != 0)
		return r;
	if (active_set_result(c->act, res) != 0)
		check_note(c, "reflector sent a malformed active-result");
	json_decref(res);
	if (active_foreign(c->act) > 0)
		check_note(c, "refused %u connection(s) on the active port "
		    "without this session's token", active_foreign(c->act));
	return 0;
}

static void
check_wait_probes(struct check *c)
{
	while (!probe_done(c->pe)) {
		/* A session's table goes when its control channel drops. */
		if (!control_alive(c->ctl))
			ctrace_stop(c->ct);
		if (event_base_loop(c->base, EVLOOP_ONCE) != 0)
			break;
	}
}

static void
check_merge_arrivals(struct check *c, const json_t *obs, int first)
{
	const json_t *a;
	size_t i;
	json_int_t foreign;

	json_array_foreach(json_object_get(obs, "arrivals"), i, a) {
		const char *id = json_string_value(json_object_get(a, "probe"));
		struct probe_obs *o = id ? probe_find(c->pe, id) : NULL;

		if (o == NULL)
			continue;
		o->arrived = 1;
		if (control_parse_addrport(json_string_value(json_object_get(a,
		    "peer")), &o->seen_peer) != 0)
			memset(&o->seen_peer, 0, sizeof(o->seen_peer));
		if (control_parse_addrport(json_string_value(json_object_get(a,
		    "local")), &o->seen_local) != 0)
			memset(&o->seen_local, 0, sizeof(o->seen_local));
	}
	foreign = json_integer_value(json_object_get(obs, "foreign"));
	if (first && foreign > 0)
		check_note(c, "reflector saw %lld connection(s) to the "
		    "session's ports without this session's token",
		    (long long)foreign);
}

/* One "traces" run onto the probes of its ports. */
static void
check_merge_trace_run(struct check *c, const json_t *run)
{
	const json_t *v = json_object_get(run, "verdict");
	struct portrange pr;
	unsigned p;
	int k;

	if (check_json_range(json_object_get(run, "ports"), &pr) != 0)
		return;
	for (p = pr.lo; p <= pr.hi; p++) {
		for (k = 0; k < 2; k++) {
			struct probe_obs *o = probe_lookup(c->pe, k == 0 ?
			    PROBE_CONTROL : PROBE_PASSIVE, (uint16_t)p);

			if (o == NULL)
				continue;
			o->trace_record = 1;
			o->syn_seen = json_is_true(json_object_get(run,
			    "syn_seen"));
			o->synack_sent = json_is_true(json_object_get(run,
			    "synack_sent"));
			control_parse_rule(v, &o->rule);
		}
	}
}

/* The reflector's nftables trace (first page only, PROTOCOL.md). */
static void
check_merge_trace(struct check *c, const json_t *obs)
{
	const json_t *tr = json_object_get(obs, "trace"), *run;
	int st = control_trace_state(json_string_value(json_object_get(tr,
	    "state")));
	const char *why = json_string_value(json_object_get(tr, "reason"));
	size_t i;

	if (tr == NULL)
		return;		/* a reflector without trace support */
	for (i = 0; i < probe_count(c->pe); i++) {
		struct probe_obs *o = probe_obs_at(c->pe, i);

		if (o->kind == PROBE_ACTIVE)
			continue;
		o->trace_state = st;
		snprintf(o->trace_reason, sizeof(o->trace_reason), "%s",
		    why != NULL ? why : "");
	}
	if (st == TRACE_OBS_UNAVAILABLE)
		check_note(c, "no nftables trace at the server: %s",
		    why != NULL ? why : "no reason given");
	else if (st == TRACE_OBS_INCOMPLETE)
		check_note(c, "the nftables trace at the server is incomplete: "
		    "%s", why != NULL ? why : "no reason given");
	if (st == TRACE_OBS_UNAVAILABLE)
		return;
	json_array_foreach(json_object_get(obs, "traces"), i, run)
		check_merge_trace_run(c, run);
	if (json_is_true(json_object_get(obs, "traces_truncated")))
		check_note(c, "the reflector truncated its trace records; "
		    "ports without one are judged without the trace");
}

/* Upper bound on collect pages: 65535 arrivals at >= 1000 a page. */
#define CHECK_MAX_COLLECT_PAGES	80

/* Observations come in pages (PROTOCOL.md); ask until "next" is null. */
static int
check_collect(struct check *c)
{
	json_t *req, *obs = NULL;
	json_int_t from = 0;
	int r = 0, page;

	for (page = 0; page < CHECK_MAX_COLLECT_PAGES && from >= 0; page++) {
		if ((req = proto_msg_new("collect")) == NULL ||
		    json_object_set_new(req, "from", json_integer(from)) != 0) {
			json_decref(req);
			return FTP_ERR_NOMEM;
		}
		r = control_request(c->ctl, req, "observations",
		    CONTROL_REPLY_TIMEOUT_MS, &obs);
		json_decref(req);
		if (r != 0)
			return r;
		check_merge_arrivals(c, obs, page == 0);
		if (page == 0)
			check_merge_trace(c, obs);
		from = json_is_integer(json_object_get(obs, "next")) ?
		    json_integer_value(json_object_get(obs, "next")) : -1;
		json_decref(obs);
		obs = NULL;
	}
	if (from >= 0)
		check_note(c, "the reflector reported more arrivals than "
		    "ftpath reads; later ones are treated as unseen");
	return 0;
}

/*
 * The A/B's port: the first of the passive range whose probe reached the
 * reflector (armed for this session, and not an FTP control port: no ALG
 * keyed on the control port looks at it).  0 and d->reason when there is
 * none to use.
 */
static uint16_t
check_alg_other(struct check *c, struct alg_dlg *d)
{
	const struct probe_obs *o;
	unsigned p;

	if (c->passive.lo == 0) {
		snprintf(d->reason, sizeof(d->reason), "no passive range to "
		    "run it on");
		return 0;
	}
	for (p = c->passive.lo; p <= c->passive.hi; p++) {
		if (p == c->cport)
			continue;
		o = probe_lookup(c->pe, PROBE_PASSIVE, (uint16_t)p);
		if (o != NULL && o->arm == ARM_LISTENING &&
		    o->outcome == OUTCOME_ACKED) {
			d->port = (uint16_t)p;
			return d->port;
		}
	}
	snprintf(d->reason, sizeof(d->reason), "no probe to the passive "
	    "range %u-%u reached the reflector", c->passive.lo, c->passive.hi);
	return 0;
}

/*
 * The ALG dialogue on the control port (alg.h), once the probes are done
 * (so that the plain active test ran without any pinhole it could open).
 * It needs the reflector on the control port: when another process owns
 * it and nothing diverts the agent's connections, the test is skipped.
 */
static int
check_alg(struct check *c)
{
	const struct probe_obs *ctl = probe_lookup(c->pe, PROBE_CONTROL,
	    c->cport);
	struct sockaddr_storage srv = c->f.server;
	struct algrun_params p;

	if ((c->alg = calloc(1, sizeof(*c->alg))) == NULL)
		return FTP_ERR_NOMEM;
	c->alg->d[ALG_D_CONTROL].port = c->cport;
	if (ctl == NULL || ctl->arm != ARM_LISTENING) {
		snprintf(c->alg->d[ALG_D_CONTROL].reason,
		    sizeof(c->alg->d[ALG_D_CONTROL].reason), "the "
		    "reflector does not listen on the control port %u (%s)",
		    c->cport, ctl != NULL && ctl->arm == ARM_IN_USE ?
		    "another process owns it and nothing diverts the agent's "
		    "connections to the reflector" : "not armed");
		return 0;
	}
	if (ctl->outcome != OUTCOME_ACKED) {
		snprintf(c->alg->d[ALG_D_CONTROL].reason,
		    sizeof(c->alg->d[ALG_D_CONTROL].reason), "the "
		    "control probe to port %u did not pass", c->cport);
		return 0;
	}
	memset(&p, 0, sizeof(p));
	addr_set_port((struct sockaddr *)&srv, c->cport);
	p.base = c->base;
	p.ctl = c->ctl;
	p.server = (struct sockaddr *)&srv;
	p.other_port = check_alg_other(c, &c->alg->d[ALG_D_OTHER]);
	p.source_port = c->w.active_source_port;
	p.timeout_ms = c->f.timeout_ms > 2000 ? c->f.timeout_ms : 2000;
	p.no_active = c->o->no_active;
	p.client_public = (struct sockaddr *)&c->f.agent_observed;
	p.server_public = (struct sockaddr *)&c->f.server;
	return algrun_run(&p, c->alg);
}

static void
check_bye(struct check *c)
{
	json_t *req, *rep = NULL;

	if ((req = proto_msg_new("bye")) == NULL)
		return;
	/* The reflector closes its listeners either way; a lost bye reply
	 * changes nothing in the result. */
	if (control_request(c->ctl, req, "bye", CONTROL_REPLY_TIMEOUT_MS,
	    &rep) != 0)
		log_debug("bye: %s", control_errmsg(c->ctl));
	json_decref(req);
	json_decref(rep);
}

/* The real FTP client, once the reflector has let go of the ports. */
static void
check_service(struct check *c)
{
	struct ftpcheck_opts fo;
	struct sockaddr_storage srv = c->f.server;
	unsigned t = 4 * c->f.timeout_ms;
	int r;

	if (c->o->no_ftp_check)
		return;
	if ((c->svc = calloc(1, sizeof(*c->svc))) == NULL)
		return;
	memset(&fo, 0, sizeof(fo));
	fo.user = c->o->ftp_user;
	fo.password = c->o->ftp_password;
	fo.path = c->o->ftp_path;
	fo.server_name = c->server_name;
	fo.timeout_ms = t > 2000 ? t : 2000;
	fo.tls = 1;
	if (c->o->no_active)
		fo.modes = FTPCHECK_MODE_BIT(FTPCHECK_EPSV) |
		    FTPCHECK_MODE_BIT(FTPCHECK_PASV);
	addr_set_port((struct sockaddr *)&srv, c->cport);
	if ((r = service_run(c->base, (struct sockaddr *)&srv, &fo,
	    c->svc)) != 0) {
		log_warnx("real FTP client: %s", ftp_strerror(r));
		free(c->svc);
		c->svc = NULL;
	}
}

/* ---- TCP traceroute of failing runs (traceroute.h) ---- */

/* A SYN left and met a silence, ICMP or a RST: worth a trace. */
static int
check_trace_outcome(const struct probe_obs *o)
{
	return o->kind != PROBE_ACTIVE && (o->outcome == OUTCOME_TIMEOUT ||
	    o->outcome == OUTCOME_ICMP || o->outcome == OUTCOME_RESET);
}

/* The path failed before the server host, or nothing says it got there. */
static int
check_trace_wanted(const struct probe_obs *o, const struct verdict *v)
{
	if (v->pass || !check_trace_outcome(o))
		return 0;
	switch (v->cause) {
	case CAUSE_PATH_SILENT_DROP:
	case CAUSE_ROUTING_GAP:
	case CAUSE_PATH_REJECT:
		return 1;
	case CAUSE_NONE:
		return !o->arrived && !(o->trace_record && o->syn_seen);
	default:
		return 0;
	}
}

/*
 * Same observation, as far as the verdict goes: one trace speaks for all
 * (as one run's evidence is that of its first port).  Never finer than
 * the report's run signature (report.c same_signature): ports of one run
 * must share one trace, or the run would split.  So the agent host's
 * trace counters, which an incomplete trace loses for some ports, are
 * not compared.
 */
static int
check_trace_same(const struct probe_obs *a, const struct probe_obs *b)
{
	const struct errq_icmp *ia = &a->icmp, *ib = &b->icmp;

	if (a->kind != b->kind || a->outcome != b->outcome ||
	    a->arrived != b->arrived || a->trace_record != b->trace_record ||
	    a->syn_seen != b->syn_seen || a->synack_sent != b->synack_sent ||
	    a->rule.present != b->rule.present ||
	    a->crule.present != b->crule.present ||
	    ia->present != ib->present)
		return 0;
	return !ia->present || (ia->type == ib->type &&
	    ia->code == ib->code && addr_equal((const struct sockaddr *)
	    &ia->from, (const struct sockaddr *)&ib->from));
}

static struct check_trace *
check_trace_group(struct check *c, const struct probe_obs *o)
{
	size_t i;

	for (i = 0; i < c->n_groups; i++)
		if (check_trace_same(&c->traces[i].first, o))
			return &c->traces[i];
	return NULL;
}

/* Trace o's own 5-tuple (any source port if it never got one). */
static struct traceroute *
check_trace_start(struct check *c, const struct probe_obs *o)
{
	struct sockaddr_storage local = o->local;
	struct traceroute *tr;

	if (local.ss_family != o->remote.ss_family) {
		memset(&local, 0, sizeof(local));
		local.ss_family = o->remote.ss_family;
	}
	tr = traceroute_new(c->base, (struct sockaddr *)&local,
	    (const struct sockaddr *)&o->remote, TRACEROUTE_MAX_TTL,
	    c->f.timeout_ms);
	if (tr != NULL && traceroute_start(tr) != 0) {
		traceroute_free(tr);
		tr = NULL;
	}
	return tr;
}

/*
 * After collect and bye: the reflector has reported and let go of the
 * ports, so a trace SYN can be neither an arrival nor a trace record of
 * the session.  The agent host's own trace still listens: its records
 * are taken first.  The traces run in parallel, each within one timeout.
 */
static void
check_traceroute(struct check *c)
{
	size_t i, k;
	int busy;

	ctrace_merge(c->ct, c->pe);
	c->ct_merged = 1;
	for (i = 0; i < probe_count(c->pe) &&
	    c->n_groups < CHECK_MAX_TRACE_GROUPS; i++) {
		const struct probe_obs *o = probe_obs_at(c->pe, i);
		struct check_trace *g;
		struct verdict v;

		if (!check_trace_outcome(o) || check_trace_group(c, o) != NULL)
			continue;
		g = &c->traces[c->n_groups++];
		g->first = *o;
		verdict_classify(o, &c->f, &v);
		if (c->n_traced < CHECK_MAX_TRACES &&
		    check_trace_wanted(o, &v) &&
		    (g->tr = check_trace_start(c, o)) != NULL)
			c->n_traced++;
	}
	if (c->n_traced > 0)
		log_debug("traceroute: %zu run(s) traced", c->n_traced);
	/* Bounded: every trace ends within its budget. */
	do {
		busy = 0;
		for (k = 0; k < c->n_groups; k++)
			busy |= c->traces[k].tr != NULL &&
			    !traceroute_done(c->traces[k].tr);
	} while (busy && event_base_loop(c->base, EVLOOP_ONCE) == 0);
}

static void
check_ev_add(struct verdict *v, const char *text)
{
	if (v->n_evidence >= VERDICT_MAX_EVIDENCE)
		return;
	snprintf(v->evidence[v->n_evidence], VERDICT_EVIDENCE_LEN, "%s", text);
	v->stage[v->n_evidence++] = VERDICT_STAGE_PATH;
}

/*
 * The hop list as path evidence, and the last hop that answered as the
 * hop when the ICMP evidence named none.  A trace that got an answer in
 * the server's name says so and names no hop: it never overrides what
 * the probes proved, nor claims a death it did not see.
 */
static void
check_trace_apply(const struct probe_obs *o, const struct check_trace *g,
    struct verdict *v)
{
	const struct traceroute_path *p = traceroute_path(g->tr);
	const struct traceroute_hop *ans = traceroute_last_answered(p);
	const struct traceroute_hop *end = traceroute_reached(p);
	char label[96], line[VERDICT_EVIDENCE_LEN], a[ADDR_STRLEN];

	if (p->n == 0)
		return;
	if (g->first.port != o->port || !p->same_tuple)
		snprintf(label, sizeof(label), "hops (traced on port %u%s)",
		    g->first.port, p->same_tuple ? "" : " from another source "
		    "port: the probe's was taken");
	else
		snprintf(label, sizeof(label), "hops");
	check_ev_add(v, traceroute_format(p, label, line, sizeof(line)));
	/* The probes' own ICMP came from that router: its silence at the
	 * next TTL is its rate limit (the trace follows the probes'
	 * bursts), not a drop. */
	if (p->hop[p->n - 1].result == TRACEROUTE_SILENT && ans != NULL &&
	    o->icmp.present && addr_equal((const struct sockaddr *)
	    &ans->from, (const struct sockaddr *)&o->icmp.from)) {
		snprintf(line, sizeof(line), "TTL %u got no answer, but the "
		    "probes got ICMP from %s: routers rate-limit ICMP, so "
		    "that silence proves no drop", p->hop[p->n - 1].ttl,
		    addr_ntop((const struct sockaddr *)&ans->from, a,
		    sizeof(a)));
		check_ev_add(v, line);
	}
	if (end != NULL && end->result == TRACEROUTE_CONNECTED) {
		snprintf(line, sizeof(line), "the traceroute's SYN completed a "
		    "handshake at TTL %u: this 5-tuple gets through now, so "
		    "the failure above did not repeat", end->ttl);
		check_ev_add(v, line);
	}
	if (v->hop[0] == '\0' && ans != NULL &&
	    (end == NULL || v->cause == CAUSE_PATH_REJECT))
		addr_ntop((const struct sockaddr *)&ans->from, v->hop,
		    sizeof(v->hop));
}

static int
check_add(struct check *c, struct report *rep, const struct probe_obs *o)
{
	const struct check_trace *g = NULL;
	struct verdict v;

	verdict_classify(o, &c->f, &v);
	srvcheck_adjust(c->sc, o, &v);
	if (check_trace_wanted(o, &v))
		g = check_trace_group(c, o);
	if (g == NULL || g->tr == NULL)
		return report_add(rep, o, &v);
	check_trace_apply(o, g, &v);
	return report_add_traced(rep, o, &v, traceroute_path(g->tr));
}

/* The active probe, passing through an ALG's pinhole if only so. */
static int
check_add_active(struct check *c, struct report *rep,
    const struct probe_obs *o)
{
	struct verdict v;

	verdict_classify(o, &c->f, &v);
	srvcheck_adjust(c->sc, o, &v);
	/* Whether it changed v does not matter here: a pass with cause
	 * alg-dependent is listed as a warning by the report itself. */
	if (c->alg != NULL)
		(void)alg_active(c->alg, &v);
	return report_add(rep, o, &v);
}

/* The "alg" object and cause alg-rewrite (a warning when the ALG wrote
 * the right address, a failure when it wrote a wrong one or garbage). */
static int
check_report_alg(struct check *c, struct report *rep)
{
	struct alg_result res;
	char ev[8 * VERDICT_EVIDENCE_LEN];
	json_t *j;

	if (c->alg == NULL)
		return 0;
	alg_classify(c->alg, &res);
	if ((j = alg_json(c->alg, &res)) == NULL)
		return FTP_ERR_NOMEM;
	report_set_alg(rep, j);
	json_decref(j);
	if (!res.rewrite)
		return 0;
	alg_rewrite_evidence(c->alg, &res, ev, sizeof(ev));
	return report_add_cause(rep, REPORT_PART_ALG, res.rewrite_fails ?
	    REPORT_FAILURE : REPORT_WARNING, CAUSE_ALG_REWRITE, "alg", ev);
}

static int
check_note_not_run(struct report *rep, size_t n)
{
	char text[128];

	snprintf(text, sizeof(text), "%zu probe(s) were not run (the session "
	    "ended before they started); their paths are untested", n);
	return report_note(rep, text);
}

/* Cross-check the measurements with the server host's facts before the
 * verdicts are added (a dns-mismatch changes them). */
static int
check_srvcheck(struct check *c)
{
	struct srvcheck_input in;
	struct sockaddr_storage svc = c->f.server;

	addr_set_port((struct sockaddr *)&svc, c->cport);
	memset(&in, 0, sizeof(in));
	in.server_opt = c->o->server;
	in.service = (struct sockaddr *)&svc;
	in.dialled = (struct sockaddr *)&c->f.dialled;
	in.pe = c->pe;
	in.svc = c->svc;
	return srvcheck_observe(c->sc, &in);
}

static struct report *
check_build_report(struct check *c)
{
	struct report *rep;
	struct probe_obs ao;
	const json_t *n;
	size_t i, not_run = 0;

	rep = report_new(&c->f, FTPATH_VERSION, c->w.reflector,
	    c->server_name);
	if (rep == NULL)
		return NULL;
	if (!c->ct_merged)
		ctrace_merge(c->ct, c->pe);
	if (check_srvcheck(c) != 0)
		goto fail;
	for (i = 0; i < probe_count(c->pe); i++) {
		const struct probe_obs *o = probe_obs_at(c->pe, i);

		/* An untested path is neither a pass nor a failure of the
		 * network: it is counted in a note, not given a verdict. */
		if (o->outcome == OUTCOME_NOT_RUN) {
			not_run++;
			continue;
		}
		if (check_add(c, rep, o) != 0)
			goto fail;
	}
	if (not_run > 0 && check_note_not_run(rep, not_run) != 0)
		goto fail;
	if (c->act != NULL) {
		active_obs(c->act, &ao);
		ctrace_apply(c->ct, &ao);
		if (check_add_active(c, rep, &ao) != 0)
			goto fail;
	}
	if (check_report_alg(c, rep) != 0)
		goto fail;
	json_array_foreach(c->notes, i, n)
		if (report_note(rep, json_string_value(n)) != 0)
			goto fail;
	if (c->svc != NULL && service_apply(c->svc, rep) != 0)
		goto fail;
	if (srvcheck_apply(c->sc, rep) != 0)
		goto fail;
	report_set_duration(rep, clock_ms_since(&c->t0));
	return rep;
fail:
	report_free(rep);
	return NULL;
}

static int
check_write_json(const struct report *rep, const char *path)
{
	json_t *j;
	FILE *fp;
	int r = -1;

	if ((j = report_json(rep)) == NULL)
		return -1;
	fp = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
	if (fp == NULL) {
		log_warn("%s", path);
		goto out;
	}
	if (json_dumpf(j, fp, JSON_INDENT(2)) == 0 && fputc('\n', fp) != EOF)
		r = 0;
	if (fp != stdout && fclose(fp) != 0)
		r = -1;
	if (r != 0)
		log_warn("writing %s", path);
out:
	json_decref(j);
	return r;
}

static int
check_output(struct check *c)
{
	struct report *rep;
	FILE *human;
	int r = CHECK_EXIT_UNREACHABLE;

	if ((rep = check_build_report(c)) == NULL) {
		log_warnx("out of memory building the report");
		return CHECK_EXIT_USAGE;
	}
	human = c->o->json != NULL && strcmp(c->o->json, "-") == 0 ? stderr :
	    stdout;
	report_print(rep, human, !c->o->no_color && isatty(fileno(human)));
	fflush(human);
	if (c->o->json != NULL && check_write_json(rep, c->o->json) != 0) {
		r = CHECK_EXIT_USAGE;
		goto out;
	}
	if (!c->lost)
		r = report_failed(rep) ? CHECK_EXIT_FAIL : CHECK_EXIT_PASS;
out:
	report_free(rep);
	return r;
}

/* Without the reflector's observations its arming says nothing about
 * arrivals, and a verdict must not read "listened, saw nothing" into it. */
static void
check_forget_reflector(struct check *c)
{
	size_t i;

	for (i = 0; i < probe_count(c->pe); i++) {
		struct probe_obs *o = probe_obs_at(c->pe, i);

		o->arm = ARM_UNKNOWN;
		o->arrived = 0;
		o->trace_state = TRACE_OBS_NONE;
		o->trace_record = 0;
		o->rule.present = 0;
	}
}

/* Probes, the active test and collection; the report follows either way
 * unless the reflector refused the plan. */
static int
check_probe_all(struct check *c)
{
	int r;

	/* Before the first probe: the agent host's trace (client-local-rule).
	 * Unavailable without CAP_NET_ADMIN; NULL only on no memory. */
	c->ct = ctrace_new(c->base, control_token(c->ctl),
	    (struct sockaddr *)&c->f.server, c->cport, &c->passive,
	    c->o->no_active ? 0 : c->w.active_source_port);
	/* Said even when every path passes: the reader must not take the
	 * absence of a client-local-rule as checked. */
	if (ctrace_unavailable(c->ct) != NULL)
		check_note(c, "no nftables trace on the agent host: %s",
		    ctrace_unavailable(c->ct));
	if ((r = probe_start(c->pe)) != 0 ||
	    (r = check_active_start(c)) != 0 ||
	    (r = check_active_wait(c)) != 0)
		goto lost;
	check_wait_probes(c);
	/* The reflector is gone: its observations cannot come, and a
	 * confirmation pass would only delay saying so. */
	if (!control_alive(c->ctl)) {
		r = FTP_ERR_PROTO;
		goto lost;
	}
	if ((r = retry_run(c->base, c->pe, (struct sockaddr *)&c->f.server,
	    control_token(c->ctl), c->f.timeout_ms)) < 0)
		log_warnx("retry of silent probes failed (%s); they are "
		    "reported as first observed", ftp_strerror(r));
	else if (r > 0)
		check_note(c, "%d probe(s) were silent at first and answered "
		    "a second attempt (loss, load or ICMP rate limiting)", r);
	if ((r = check_alg(c)) != 0 || (r = check_collect(c)) != 0)
		goto lost;
	check_bye(c);
	check_traceroute(c);
	check_service(c);
	return 0;
lost:
	ctrace_stop(c->ct);
	check_wait_probes(c);
	check_forget_reflector(c);
	log_warnx("%s", control_errmsg(c->ctl));
	check_note(c, "control channel lost: %s; reflector observations "
	    "incomplete", control_errmsg(c->ctl));
	c->lost = 1;
	return r;
}

static void
check_release(struct check *c)
{
	size_t i;

	for (i = 0; i < c->n_groups; i++)
		traceroute_free(c->traces[i].tr);
	/* Our own table only, before the loop it listens on goes. */
	ctrace_free(c->ct);
	active_free(c->act);
	probe_free(c->pe);
	control_free(c->ctl);
	if (c->base != NULL)
		event_base_free(c->base);
	if (c->ctx != NULL)
		SSL_CTX_free(c->ctx);
	json_decref(c->notes);
	free(c->svc);
	free(c->alg);
	srvcheck_free(c->sc);
}

int
check_run(const struct check_opts *o)
{
	struct check c;
	int ex;

	memset(&c, 0, sizeof(c));
	c.o = o;
	clock_gettime(CLOCK_MONOTONIC, &c.t0);
	if ((ex = check_setup(&c)) != CHECK_EXIT_PASS ||
	    (ex = check_pair(&c)) != CHECK_EXIT_PASS ||
	    (ex = check_pick_server(&c)) != CHECK_EXIT_PASS)
		goto out;
	check_pick_passive(&c);
	if ((ex = check_plan(&c)) != CHECK_EXIT_PASS)
		goto out;
	check_probe_all(&c);
	ex = check_output(&c);
out:
	check_release(&c);
	return ex;
}
