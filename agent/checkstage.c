/*
 * checkstage.c - the stages of an armed `check` session (checkstage.h):
 * the probes and the active connect-back, the second looks, the ALG and
 * MTU tests, the reflector's observations, bye, the traceroute and the
 * real FTP client, the idle test.  The session is opened and its result
 * rendered by check.c; the stages only observe.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "addr.h"
#include "algrun.h"
#include "check_int.h"
#include "checkstage.h"
#include "err.h"
#include "idle.h"
#include "log.h"
#include "mtu.h"
#include "proto.h"
#include "refobs.h"
#include "retry.h"
#include "service.h"

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
	else if (fixes_take_server(c->fx, json_object_get(json_object_get(res,
	    "record"), "fix"), PROBE_ACTIVE, 0, 0) != 0)
		log_warnx("out of memory keeping a fix");
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

/* Upper bound on collect pages: 65535 arrivals at >= 1000 a page. */
#define CHECK_MAX_COLLECT_PAGES	80

/* Observations come in pages (PROTOCOL.md); ask until "next" is null. */
static int
check_collect(struct check *c)
{
	json_t *req, *obs = NULL;
	json_int_t from = 0;
	int r = 0, page;

	progress_stage(c->prog, "collecting the reflector's observations");
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
		refobs_observations(check_refobs(c), obs, page == 0);
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
	progress_stage(c->prog, "the FTP dialogue through the path (ALG test)");
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
	/* The probe timeout (250 ms + 4 RTT): a connect needs one RTT, and
	 * the probes have measured the path with it already. */
	fo.data_timeout_ms = c->f.timeout_ms;
	fo.tls = !c->o->retest;
	fo.modes = c->o->ftp_modes;
	/* A re-test's modes are chosen already (its no_active only spares
	 * the active probe that passed). */
	if (c->o->no_active && !c->o->retest)
		fo.modes = FTPCHECK_MODE_BIT(FTPCHECK_EPSV) |
		    FTPCHECK_MODE_BIT(FTPCHECK_PASV);
	addr_set_port((struct sockaddr *)&srv, c->cport);
	if ((r = service_run(c->base, (struct sockaddr *)&srv, &fo,
	    c->o->ftp_connections,
	    c->svc)) != 0) {
		log_warnx("real FTP client: %s", ftp_strerror(r));
		free(c->svc);
		c->svc = NULL;
	}
}

/*
 * The MTU black-hole test (mtu.h) on the control port, while the
 * reflector still takes its probe connections.  Without the reflector
 * on the port (another process owns it and nothing diverts) the
 * connections would meet that process: not tested.
 */
static void
check_mtu(struct check *c)
{
	const struct probe_obs *ctl = probe_lookup(c->pe, PROBE_CONTROL,
	    c->cport);
	struct sockaddr_storage srv = c->f.server;
	unsigned wait = 4 * c->f.timeout_ms;

	if ((c->mtu = calloc(1, sizeof(*c->mtu))) == NULL)
		return;
	mtu_plan(c->mtu, srv.ss_family);
	if (ctl == NULL || ctl->arm != ARM_LISTENING ||
	    ctl->outcome != OUTCOME_ACKED) {
		snprintf(c->mtu->reason, sizeof(c->mtu->reason), "the "
		    "reflector does not take connections on the control port "
		    "%u (not armed, owned by another process, or its probe "
		    "failed)", c->cport);
		return;
	}
	addr_set_port((struct sockaddr *)&srv, c->cport);
	(void)mtu_run(c->base, (struct sockaddr *)&srv, control_token(c->ctl),
	    wait < 2000 ? 2000 : wait > 8000 ? 8000 : wait, c->mtu);
}

/* --idle-test (idle.h), after everything else. */
static void
check_idle(struct check *c)
{
	struct sockaddr_storage srv = c->f.server;
	struct idle_params p;
	unsigned wait = 4 * c->f.timeout_ms;

	if (c->o->idle_s == 0 || (c->idle = calloc(1, sizeof(*c->idle))) ==
	    NULL)
		return;
	progress_stage(c->prog, "idle test (up to %u s)", c->o->idle_s);
	idle_plan(c->idle, c->o->idle_s);
	addr_set_port((struct sockaddr *)&srv, c->cport);
	memset(&p, 0, sizeof(p));
	p.base = c->base;
	p.server = (struct sockaddr *)&srv;
	p.wait_ms = wait < 3000 ? 3000 : wait > 10000 ? 10000 : wait;
	p.user = c->o->ftp_user;
	p.password = c->o->ftp_password;
	p.ctx = c->ctx;
	p.host = c->host;
	p.port = c->rport;
	log_debug("idle test: %u s", c->o->idle_s);
	(void)idle_run(&p, c->idle);
}

static void
check_pace_cb(void *arg)
{
	struct check *c = arg;

	ctrace_drain(c->ct);
}

/* Probes, the active test and collection; the report follows either way
 * unless the reflector refused the plan. */
int
checkstage_run(struct check *c)
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
	progress_stage(c->prog, "probing %zu port(s) of %s", probe_count(c->pe) +
	    (c->act != NULL ? 1u : 0u), c->server_name[0] ? c->server_name :
	    c->host);
	probe_set_pacer(c->pe, check_pace_cb, c);
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
	progress_stage(c->prog, "second looks at silent probes");
	if ((r = retry_run(c->base, c->pe, (struct sockaddr *)&c->f.server,
	    control_token(c->ctl), c->f.timeout_ms)) < 0)
		log_warnx("retry of silent probes failed (%s); they are "
		    "reported as first observed", ftp_strerror(r));
	else if (r > 0)
		check_note(c, "%d probe(s) were silent at first and answered "
		    "a second attempt (loss, load or ICMP rate limiting)", r);
	/* A re-test checks the failing paths only (check.h). */
	if (!c->o->retest && (r = check_alg(c)) != 0)
		goto lost;
	if (!c->o->retest)
		check_mtu(c);
	if ((r = check_collect(c)) != 0)
		goto lost;
	check_bye(c);
	/* The traces and the real FTP client run at once: neither touches
	 * the other's ports, and each wait is bounded by its own timer. */
	if (!c->o->retest)
		check_traceroute_start(c);
	progress_stage(c->prog, "%s", c->o->no_ftp_check ? "tracing the "
	    "failing paths" : "real FTP client session");
	check_service(c);
	check_traceroute_wait(c);
	check_idle(c);
	return 0;
lost:
	ctrace_stop(c->ct);
	check_wait_probes(c);
	refobs_forget(c->pe);
	log_warnx("%s", control_errmsg(c->ctl));
	check_note(c, "control channel lost: %s; reflector observations "
	    "incomplete", control_errmsg(c->ctl));
	c->lost = 1;
	return r;
}
