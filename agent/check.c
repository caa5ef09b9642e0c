/*
 * check.c - orchestration of `ftpath-agent check`.
 *
 * Sequence: pair (TLS, hello/welcome, RTT) -> plan/armed -> the stages
 * of the armed session (checkstage.h: probes, the active connect-back,
 * ALG, MTU, collection, bye, traceroute, the real FTP client, idle) ->
 * the wait for late ICMP (collect.c) -> the evidence, classified once
 * (classify.h) -> the report, rendered (report.h).  This file opens and
 * closes the session and renders its result; what is measured in
 * between is checkstage.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>
#include <openssl/ssl.h>

#include "check_int.h"
#include "checkstage.h"
#include "classify.h"
#include "crl.h"
#include "clock.h"
#include "err.h"
#include "log.h"
#include "mtu.h"
#include "refobs.h"
#include "report.h"
#include "tls.h"
#include "verdict.h"

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

void
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
	log_errx("%s", control_errmsg(c->ctl));
	return r == FTP_ERR_DENIED ? CHECK_EXIT_USAGE : CHECK_EXIT_UNREACHABLE;
}

/* Read every --sg file before the check: a file that is not a
 * provider's JSON is a usage error (exit 2) that changes nothing. */
static int
check_load_sgs(struct check *c)
{
	char err[512];
	unsigned i;

	for (i = 0; i < c->o->n_sg; i++) {
		if (sg_load(c->o->sg_files[i], &c->sgs[c->n_sgs], err,
		    sizeof(err)) != 0) {
			log_errx("--sg %s", err);
			return CHECK_EXIT_USAGE;
		}
		c->n_sgs++;
	}
	return CHECK_EXIT_PASS;
}

/* --crl: the checks of the reflector's -n, then the reflector's own
 * certificate is refused in the handshake if the CRL lists it. */
static int
check_crl(struct check *c)
{
	char err[512], warn[512];

	if (crl_check_file(c->o->crl, c->o->ca, warn, sizeof(warn), err,
	    sizeof(err)) != 0 || crl_ctx_install(c->ctx, c->o->crl, NULL, err,
	    sizeof(err)) != 0) {
		log_errx("--crl %s", err);
		return -1;
	}
	if (warn[0] != '\0')
		log_warnx("--crl %s", warn);
	return 0;
}

static int
check_setup(struct check *c)
{
	char err[512];

	if (check_load_sgs(c) != CHECK_EXIT_PASS)
		return CHECK_EXIT_USAGE;
	if (addr_split_hostport(c->o->reflector, CHECK_DEFAULT_PORT, c->host,
	    sizeof(c->host), &c->rport) != 0) {
		log_errx("bad --reflector '%s' (HOST[:PORT])", c->o->reflector);
		return CHECK_EXIT_USAGE;
	}
	c->ctx = tls_ctx_new(TLS_ROLE_CLIENT, c->o->cert, c->o->key, c->o->ca,
	    err, sizeof(err));
	if (c->ctx == NULL) {
		log_errx("TLS setup: %s", err);
		return CHECK_EXIT_USAGE;
	}
	if (c->o->crl != NULL && check_crl(c) != 0)
		return CHECK_EXIT_USAGE;
	if ((c->notes = json_array()) == NULL ||
	    (c->fx = fixes_new()) == NULL ||
	    (c->base = event_base_new()) == NULL ||
	    (c->ctl = control_new(c->base, c->ctx)) == NULL) {
		log_errx("out of memory");
		return CHECK_EXIT_USAGE;
	}
	c->prog = progress_new(c->base, c->o->progress && !c->o->retest);
	return CHECK_EXIT_PASS;
}

/*
 * TCP connected but the TLS handshake stalled: the reflector's first
 * flight (its certificate) is larger than one segment, and a path that
 * loses large segments without ICMP (an MTU black hole, mtu.h) never
 * delivers it.  The next attempt announces a small MSS.
 */
static void
check_connect_mss(struct check *c)
{
	if (c->channel.small_mss != 0 || !control_tls_stalled(c->ctl))
		return;
	c->channel.small_mss = MTU_CHANNEL_MSS;
	control_set_mss(c->ctl, MTU_CHANNEL_MSS);
	log_debug("control channel: the TLS handshake stalled after TCP "
	    "connected; retrying with MSS %u", MTU_CHANNEL_MSS);
}

static void
check_connect_ok(struct check *c, unsigned a)
{
	if (c->channel.small_mss == 0) {
		c->channel.failures_before_success = a;
		return;
	}
	/* Not intermittent: the small MSS is what made it work (the
	 * classifier says what the MTU test makes of it). */
	c->channel.small_mss_ok = 1;
}

/* Wait ms on the event loop (the status line keeps going). */
static void
check_sleep(struct check *c, unsigned ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(c->base, &tv);
	(void)event_base_loop(c->base, 0);
}

/*
 * Connect the control channel, a few times within a deadline as real
 * clients do (each attempt from a new source port): attempts that failed
 * before one succeeded are evidence of an intermittent path.
 */
static int
check_connect(struct check *c)
{
	struct timespec t0;
	int r = FTP_ERR_SYSTEM;
	unsigned a;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (a = 0; a < CHECK_CONNECT_ATTEMPTS; a++) {
		if (a > 0 && clock_ms_since(&t0) > CHECK_CONNECT_DEADLINE_MS)
			break;
		/* A reset before TLS is a reflector over its handshake
		 * budget, not the path: check_hello waits and comes back, and
		 * it is no evidence of an intermittent path. */
		if (a > 0 && control_reset_by_peer(c->ctl))
			break;
		c->channel.attempts = a + 1;
		if ((r = control_connect(c->ctl, c->host, c->rport)) == 0) {
			check_connect_ok(c, a);
			return 0;
		}
		check_connect_mss(c);
		snprintf(c->channel.error, sizeof(c->channel.error), "%s",
		    control_errmsg(c->ctl));
		log_debug("control channel attempt %u: %s", a + 1,
		    c->channel.error);
	}
	return r;
}

/* 250, 500, 1000, 2000, then 4000 ms: the reflector's handshake budget
 * frees in a handshake's time, its sessions in a session's. */
static unsigned
check_backoff_ms(unsigned n)
{
	return CHECK_CONNECT_BACKOFF_MS << (n < 5 ? n : 5);
}

/*
 * Connect and say hello; while the reflector answers "busy" (it serves
 * max_sessions), wait what it asks plus up to half again (jitter, so that
 * the agents it turned away do not all come back at once) and try again,
 * within --busy-wait in all.  The wait is evidence: a note.
 */
static int
check_hello(struct check *c)
{
	struct timespec t0;
	unsigned tries = 0, waited = 0, evicted = 0, early = 0, ms;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		ms = 0;
		if ((r = check_connect(c)) != 0) {
			/* Reset before TLS: over the handshake budget. */
			if (!control_reset_by_peer(c->ctl))
				return r;
			ms = check_backoff_ms(++evicted);
			early = 0;
		} else if ((r = control_hello(c->ctl, &c->w)) == 0) {
			break;
		} else if ((ms = control_busy_ms(c->ctl)) != 0) {
			early = 0;
		} else if (control_closed_early(c->ctl) &&
		    ++early <= CHECK_CONNECT_RESETS) {
			/* Evicted from a full handshake budget: busy in all
			 * but name, a few times in a row only (a certificate
			 * problem has its alert). */
			ms = check_backoff_ms(++evicted);
		}
		if (ms == 0)
			break;
		ms += (unsigned)(random() % (ms / 2 + 1));
		if (clock_ms_since(&t0) + ms > 1000u * (c->o->busy_wait_s ?
		    c->o->busy_wait_s : CHECK_BUSY_WAIT_S))
			break;
		tries++;
		waited += ms;
		log_debug("the reflector is busy: trying again in %u ms", ms);
		progress_stage(c->prog, "the reflector is busy: waiting %u ms "
		    "(%u so far)", ms, tries);
		check_sleep(c, ms);
	}
	if (tries > 0)
		check_note(c, "the reflector was busy (it serves its maximum "
		    "number of sessions%s): %u wait(s), %u ms in all, before %s",
		    evicted > 0 ? ", or closed a handshake to make room" : "",
		    tries, waited, r == 0 ? "the session started" :
		    "giving up");
	return r;
}

static int
check_pair(struct check *c)
{
	int r;

	progress_stage(c->prog, "pairing with the reflector %s", c->o->reflector);
	if ((r = check_hello(c)) != 0 ||
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
		log_errx("cannot resolve server %s: %s", c->server_name,
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
	/* A re-test (checkapply.c) names exactly the ports to probe. */
	if (c->o->retest && c->o->passive.lo == 0)
		return;
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
	/* What the server's fixes should follow; the reflector checks it
	 * and writes them itself (PROTOCOL.md "plan.fix"). */
	json_object_set_new(m, "fix", json_pack("{s:o,s:s}", "scope",
	    c->o->fix_scope != NULL ? json_string(c->o->fix_scope) :
	    json_null(), "style", patch_style_name(c->o->fix_style)));
	return m;
}

/* --fix-scope widens the source of the server's fix: it must contain
 * the agent's address as the reflector sees it (behind NAT, the NAT's
 * address), or the fix would open the server for a network this check
 * never tested.  Said before anything is probed: exit 2. */
static int
check_fix_scope(const struct check *c)
{
	char a[ADDR_STRLEN];

	if (c->o->fix_scope == NULL || addr_cidr_contains((const struct
	    sockaddr *)&c->o->fix_net, c->o->fix_prefix, (const struct
	    sockaddr *)&c->f.agent_observed))
		return CHECK_EXIT_PASS;
	/* A usage error, worded as the option parser's are. */
	fprintf(stderr, "ftpath-agent: --fix-scope: %s does not contain %s, "
	    "the agent's address as the reflector sees it: the server's fix "
	    "would open FTP for a network this check did not test\n",
	    c->o->fix_scope,
	    addr_text((const struct sockaddr *)&c->f.agent_observed, 0, a,
	    sizeof(a)));
	return CHECK_EXIT_USAGE;
}

/* Where the reflector's messages are decoded into (refobs.h). */
struct refobs *
check_refobs(struct check *c)
{
	c->ro.pe = c->pe;
	c->ro.fx = c->fx;
	c->ro.cport = c->cport;
	c->ro.notes = c->notes;
	return &c->ro;
}

/*
 * "armed", perhaps after "queued": the reflector arms one session per
 * agent address at a time and a bounded number of ports at once, and
 * holds a plan back (never refuses it) until its turn.  The wait counts
 * against --busy-wait, like a busy answer, and is a note.
 */
static int
check_plan_wait(struct check *c, json_t **armed)
{
	struct timespec t0;
	unsigned budget = 1000u * (c->o->busy_wait_s ? c->o->busy_wait_s :
	    CHECK_BUSY_WAIT_S);
	const char *why;
	json_t *m = NULL;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = control_wait_either(c->ctl, "armed", "queued",
	    CONTROL_REPLY_TIMEOUT_MS, &m);
	if (r != 0 || strcmp(proto_type(m), "armed") == 0) {
		*armed = m;
		return r;
	}
	why = json_string_value(json_object_get(m, "waiting_for"));
	why = why != NULL && strcmp(why, "address") == 0 ?
	    "another agent with this address was being checked" :
	    "it had as many probe ports armed as it takes at once";
	log_debug("the reflector queued the plan (position %lld): %s",
	    (long long)json_integer_value(json_object_get(m, "position")),
	    why);
	progress_stage(c->prog, "queued by the reflector: %s", why);
	json_decref(m);
	r = control_wait(c->ctl, "armed", budget, armed);
	check_note(c, "the reflector queued the plan for %u ms before %s (%s)",
	    clock_ms_since(&t0), r == 0 ? "arming it" : "the agent gave up "
	    "(--busy-wait)", why);
	return r;
}

static int
check_plan(struct check *c)
{
	json_t *plan, *armed = NULL;
	unsigned p;
	int r;

	if ((r = check_fix_scope(c)) != CHECK_EXIT_PASS)
		return r;
	if ((c->pe = probe_new(c->base, (struct sockaddr *)&c->f.server,
	    control_token(c->ctl), c->f.timeout_ms)) == NULL ||
	    probe_add(c->pe, PROBE_CONTROL, c->cport) != 0)
		goto nomem;
	for (p = c->passive.lo; c->passive.lo != 0 && p <= c->passive.hi; p++)
		if (probe_add(c->pe, PROBE_PASSIVE, (uint16_t)p) != 0)
			goto nomem;
	if ((plan = check_plan_msg(c)) == NULL)
		goto nomem;
	if ((r = control_send(c->ctl, plan)) == 0)
		r = check_plan_wait(c, &armed);
	json_decref(plan);
	if (r != 0)
		return check_ctl_exit(c, r);
	refobs_armed(check_refobs(c), armed);
	json_decref(armed);
	return CHECK_EXIT_PASS;
nomem:
	log_warnx("out of memory");
	return CHECK_EXIT_USAGE;
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
		log_err("--json %s", path);
		goto out;
	}
	if (json_dumpf(j, fp, JSON_INDENT(2)) == 0 && fputc('\n', fp) != EOF)
		r = 0;
	if (fp != stdout && fclose(fp) != 0)
		r = -1;
	if (r != 0)
		log_err("--json: writing %s", path);
out:
	json_decref(j);
	return r;
}

/* One more rendering of the model into a file (--junit, --html). */
static int
check_write_as(const struct report *rep, const char *path, const char *opt,
    int (*render)(const struct report *, FILE *))
{
	FILE *fp;
	int r;

	if ((fp = fopen(path, "w")) == NULL) {
		log_err("%s %s", opt, path);
		return -1;
	}
	r = render(rep, fp);
	if (fclose(fp) != 0 || r != 0) {
		log_err("%s: writing %s", opt, path);
		return -1;
	}
	return 0;
}

static int
check_output(struct check *c)
{
	struct evidence e;
	struct report *rep;
	FILE *human;
	int r = CHECK_EXIT_UNREACHABLE, fixed = -1;

	check_server_name(c);
	check_late_wait(c);
	progress_free(c->prog);
	c->prog = NULL;
	if (check_evidence(c, &e) != 0 || (rep = classify(&e)) == NULL) {
		log_warnx("out of memory building the report");
		return CHECK_EXIT_USAGE;
	}
	if (c->o->report_out != NULL) {
		/* checkapply.c's re-test: the verdicts are its answer. */
		*c->o->report_out = rep;
		return c->lost || c->channel.failed ? CHECK_EXIT_UNREACHABLE :
		    CHECK_EXIT_PASS;
	}
	/* After the verdicts, before any rendering: the re-test's
	 * observations are part of the report. */
	if (c->o->apply && !c->lost && !c->channel.failed)
		fixed = checkapply_run(c, rep);
	human = c->o->json != NULL && strcmp(c->o->json, "-") == 0 ? stderr :
	    stdout;
	if (!c->o->quiet) {
		report_print(rep, human, !c->o->no_color &&
		    isatty(fileno(human)));
		fflush(human);
	}
	if (c->o->json != NULL && check_write_json(rep, c->o->json) != 0) {
		r = CHECK_EXIT_USAGE;
		goto out;
	}
	if ((c->o->junit != NULL && check_write_as(rep, c->o->junit,
	    "--junit", report_junit) != 0) || (c->o->html != NULL &&
	    check_write_as(rep, c->o->html, "--html", report_html) != 0)) {
		r = CHECK_EXIT_USAGE;
		goto out;
	}
	if (c->o->fix_out != NULL && report_write_fixes(rep,
	    c->o->fix_out) != 0) {
		r = CHECK_EXIT_USAGE;
		goto out;
	}
	/* --apply: 0 only if every failing path passes with what was kept. */
	if (!c->lost && !c->channel.failed)
		r = report_failed(rep) && fixed != 1 ? CHECK_EXIT_FAIL :
		    CHECK_EXIT_PASS;
	if (c->o->metrics != NULL && report_metrics(rep, r, c->o->metrics) != 0)
		log_warnx("writing the metrics failed");
out:
	report_free(rep);
	return r;
}

static void
check_release(struct check *c)
{
	size_t i;

	for (i = 0; i < c->n_groups; i++)
		traceroute_free(c->traces[i].tr);
	progress_free(c->prog);
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
	free(c->ev_traces);
	free(c->ev_notes);
	fixes_free(c->fx);
	for (i = 0; i < c->n_sgs; i++)
		sg_free(c->sgs[i]);
	free(c->svc);
	free(c->alg);
	free(c->mtu);
	free(c->idle);
	srvcheck_free(c->sc);
}

/*
 * No session with the reflector (exit 3): the report all the same, with
 * what the attempts saw and what cannot be known without the reflector.
 */
static int
check_output_unreached(struct check *c)
{
	struct sockaddr_storage a[1];

	/* The step that failed last (connect, hello or ping) says why. */
	snprintf(c->channel.error, sizeof(c->channel.error), "%s",
	    control_errmsg(c->ctl));
	c->channel.failed = 1;
	if (c->f.dialled.ss_family == AF_UNSPEC &&
	    addr_resolve(c->host, c->rport, a, 1) == 1)
		c->f.dialled = a[0];
	(void)check_output(c);
	return CHECK_EXIT_UNREACHABLE;
}

int
check_run(const struct check_opts *o)
{
	struct check c;
	int ex;

	memset(&c, 0, sizeof(c));
	c.o = o;
	clock_gettime(CLOCK_MONOTONIC, &c.t0);
	if ((ex = check_setup(&c)) != CHECK_EXIT_PASS)
		goto out;
	if ((ex = check_pair(&c)) == CHECK_EXIT_UNREACHABLE) {
		ex = check_output_unreached(&c);
		goto out;
	}
	if (ex != CHECK_EXIT_PASS ||
	    (ex = check_pick_server(&c)) != CHECK_EXIT_PASS)
		goto out;
	check_pick_passive(&c);
	if ((ex = check_plan(&c)) == CHECK_EXIT_UNREACHABLE) {
		/* Paired, but the plan was never armed: still a report. */
		check_note(&c, "the reflector did not arm the plan: %s; no "
		    "path was tested", control_errmsg(c.ctl));
		c.lost = 1;
		ex = check_output(&c);
		goto out;
	}
	if (ex != CHECK_EXIT_PASS)
		goto out;
	(void)checkstage_run(&c);
	ex = check_output(&c);
out:
	check_release(&c);
	return ex;
}
