/*
 * classify_session.c - the causes of the session as a whole: MTU black
 * holes, idle timeouts, NAT, the control channel and the notes
 * (classify_int.h).  Part of the one classifier: a black hole also
 * fails the data paths whose bare probe passed, so its path rule is
 * here too, next to the MTU test it reads.
 */
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "classify_int.h"
#include "idle.h"
#include "mtu.h"

/* ---- MTU black holes (mtu.h) ---- */

/*
 * A data path whose bare probe passed still fails when large segments
 * are lost in either direction: every listing and transfer of more than
 * one segment hangs (downloads one way, uploads the other).  The probe's
 * own evidence is kept.
 */
void
classify_mtu_path(const struct classify_ctx *c, const struct probe_obs *o,
    struct verdict *v)
{
	char ev[VERDICT_EVIDENCE_LEN];
	int d;

	if (!v->pass || o->kind == PROBE_CONTROL || !c->mres.tested)
		return;
	for (d = MTU_S2C; d >= MTU_C2S; d--) {
		const struct mtu_dir_result *x = &c->mres.d[d];

		if (!x->blackhole)
			continue;
		v->pass = 0;
		v->cause = CAUSE_MTU_BLACKHOLE;
		snprintf(ev, sizeof(ev), "the connection itself works, but "
		    "%s packets larger than %u bytes are lost without ICMP: "
		    "a data transfer of more than one segment hangs",
		    mtu_dir_name((enum mtu_dir)d), x->largest_ok);
		classify_ev_push(v, VERDICT_STAGE_PATH, "%s", ev);
		return;
	}
}

/* The control channel needed a small MSS: what the MTU test makes of
 * it. */
static int
mtu_channel_note(struct classify_ctx *c)
{
	const struct evidence_channel *ch = &c->e->channel;
	char text[320];

	if (ch->small_mss == 0 || !ch->small_mss_ok)
		return 0;
	snprintf(text, sizeof(text), "the control channel's TLS handshake "
	    "stalled after TCP connected and completed with TCP MSS %u: %s",
	    ch->small_mss, c->mres.d[MTU_S2C].blackhole ||
	    c->mres.d[MTU_C2S].blackhole ? "the path loses large segments "
	    "(mtu-blackhole)" : "the MTU test found no black hole, so the "
	    "first attempt may have met loss or a slow reflector");
	return report_note(c->rep, text);
}

/* The "mtu" section and one mtu-blackhole cause per direction. */
int
classify_mtu(struct classify_ctx *c)
{
	const struct evidence *e = c->e;
	char ev[768], adv[512];
	int d, r;

	if ((r = mtu_channel_note(c)) != 0 || e->mtu == NULL)
		return r;
	if ((r = report_set_extra(c->rep, "mtu", mtu_json(e->mtu,
	    &c->mres))) != 0)
		return r;
	for (d = MTU_C2S; d <= MTU_S2C; d++) {
		if (!c->mres.d[d].blackhole)
			continue;
		mtu_evidence(e->mtu, &c->mres, (enum mtu_dir)d, ev, sizeof(ev));
		if (e->channel.small_mss && e->channel.small_mss_ok)
			snprintf(ev + strlen(ev), sizeof(ev) - strlen(ev), "; "
			    "the control channel's TLS handshake stalled after "
			    "TCP connected and completed with MSS %u",
			    e->channel.small_mss);
		mtu_advice(e->mtu, &c->mres, (enum mtu_dir)d, adv, sizeof(adv));
		if ((r = report_add_cause(c->rep, REPORT_PART_SESSION,
		    REPORT_FAILURE, CAUSE_MTU_BLACKHOLE, d == MTU_S2C ?
		    "path server-to-client" : "path client-to-server",
		    ev)) != 0 || (r = report_add_advice(c->rep,
		    CAUSE_MTU_BLACKHOLE, adv, NULL)) != 0)
			return r;
	}
	return 0;
}

/* ---- idle timeouts (idle.h) ---- */

/* The "idle" section and cause idle-timeout: the path forgot an idle
 * control connection (or the control channel). */
int
classify_idle(struct classify_ctx *c)
{
	const struct idle_obs *o = c->e->idle;
	struct idle_result res;
	char ev[1024], adv[512];
	int r;

	if (o == NULL)
		return 0;
	idle_decide(o, &res);
	if ((r = report_set_extra(c->rep, "idle", idle_json(o, &res))) != 0)
		return r;
	if (!o->tested) {
		snprintf(ev, sizeof(ev), "idle test not run: %s", o->reason);
		return report_note(c->rep, ev);
	}
	if (!o->chan_tested) {
		snprintf(ev, sizeof(ev), "idle test: the control channel to "
		    "the reflector: %s", o->chan_error[0] ? o->chan_error :
		    "not tested");
		if ((r = report_note(c->rep, ev)) != 0)
			return r;
	}
	if (!idle_held(o) && (r = report_note(c->rep, "idle test: no FTP "
	    "control connection to the server could be held (connect or "
	    "banner failed), so idle FTP connections are not tested")) != 0)
		return r;
	if (!res.timeout)
		return 0;
	idle_evidence(o, &res, ev, sizeof(ev));
	idle_advice(&res, adv, sizeof(adv));
	if ((r = report_add_cause(c->rep, REPORT_PART_SESSION,
	    REPORT_FAILURE, CAUSE_IDLE_TIMEOUT, "idle control connection",
	    ev)) != 0)
		return r;
	return report_add_advice(c->rep, CAUSE_IDLE_TIMEOUT, adv, NULL);
}

/* ---- NAT, the control channel, the notes ---- */

/*
 * NAT on either side is a cause of its own, a warning even when every
 * path passes: every rule written for this path must allow for the
 * addresses as the other side sees them.
 */
int
classify_nat(struct classify_ctx *c)
{
	const struct session_facts *f = c->e->f;
	char a[ADDR_STRLEN + 8], b[ADDR_STRLEN + 8], ev[512];
	int r;

	if (verdict_client_nat(f)) {
		snprintf(ev, sizeof(ev), "source NAT between agent and "
		    "reflector: the agent's %s is seen by the reflector as %s; "
		    "server-side rules must name %s",
		    addr_text(ADDR_SA(&f->agent_local), 1, a, sizeof(a)),
		    addr_text(ADDR_SA(&f->agent_observed), 1, b, sizeof(b)),
		    addr_text(ADDR_SA(&f->agent_observed), 0, b, sizeof(b)));
		if ((r = report_add_cause(c->rep, REPORT_PART_SESSION,
		    REPORT_WARNING, CAUSE_NAT, "control channel", ev)) != 0)
			return r;
	}
	if (verdict_server_nat(f) || c->sres.dnat.detected) {
		snprintf(ev, sizeof(ev), "destination NAT in front of the "
		    "server: dialled %s, the server host sees %s",
		    addr_text(ADDR_SA(c->sres.dnat.detected ?
		    &c->sres.dnat.service : &f->dialled), 1, a, sizeof(a)),
		    addr_text(ADDR_SA(c->sres.dnat.detected &&
		    c->sres.dnat.seen.ss_family != AF_UNSPEC ?
		    &c->sres.dnat.seen : &f->reflector_local), 1, b,
		    sizeof(b)));
		if ((r = report_add_cause(c->rep, REPORT_PART_SESSION,
		    REPORT_WARNING, CAUSE_NAT, "server address", ev)) != 0)
			return r;
	}
	return 0;
}

/* The control channel never carried a session: what was tried. */
int
classify_channel(struct classify_ctx *c)
{
	const struct evidence_channel *ch = &c->e->channel;
	char ev[512];

	if (!ch->failed)
		return 0;
	snprintf(ev, sizeof(ev), "no session with the reflector after %u "
	    "attempt(s): %s; without it nothing is known of what arrived at "
	    "the server host or of active mode", ch->attempts,
	    ch->error[0] ? ch->error : "unknown error");
	return report_note(c->rep, ev);
}

int
classify_notes(struct classify_ctx *c)
{
	size_t i, not_run = 0;
	char text[160];
	int r;

	for (i = 0; i < c->e->n_notes; i++)
		if ((r = report_note(c->rep, c->e->notes[i])) != 0)
			return r;
	if (c->e->channel.failures_before_success > 0) {
		snprintf(text, sizeof(text), "the control channel connected "
		    "only at attempt %u: the path to the reflector is "
		    "intermittent", c->e->channel.failures_before_success + 1);
		if ((r = report_note(c->rep, text)) != 0)
			return r;
	}
	for (i = 0; i < c->e->n_probes; i++)
		not_run += c->e->probes[i].outcome == OUTCOME_NOT_RUN;
	if (not_run == 0)
		return 0;
	snprintf(text, sizeof(text), "%zu probe(s) were not run (the session "
	    "ended before they started); their paths are untested", not_run);
	return report_note(c->rep, text);
}
