/*
 * refobs.c - the reflector's messages (PROTOCOL.md: armed, observations,
 * traces) decoded into the probes' observations (refobs.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "addr.h"
#include "control.h"
#include "copypool.h"
#include "err.h"
#include "fixes.h"
#include "jsonstr.h"
#include "log.h"
#include "probe.h"
#include "refobs.h"

static void LOG_FMT(2, 3)
refobs_note(struct refobs *c, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_debug("note: %s", buf);
	json_array_append_new(c->notes, json_string(buf));
}

static enum arm_state
refobs_arm_state(const char *s)
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
refobs_range(const json_t *v, struct portrange *r)
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

void
refobs_armed(struct refobs *c, const json_t *armed)
{
	const json_t *run;
	size_t i;

	json_array_foreach(json_object_get(armed, "ports"), i, run) {
		struct portrange pr;
		enum arm_state st;
		const char *detail, *state;
		unsigned p;
		int served;

		if (refobs_range(json_object_get(run, "ports"), &pr) != 0)
			continue;
		state = json_string_value(json_object_get(run, "state"));
		st = refobs_arm_state(state);
		served = state != NULL && strcmp(state, "diverted-in-use") == 0;
		detail = json_string_value(json_object_get(run, "detail"));
		if (st == ARM_ERROR && detail != NULL)
			refobs_note(c, "reflector could not listen on %u-%u: %s",
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

static void
refobs_arrivals(struct refobs *c, const json_t *obs, int first)
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
		/* an address it cannot read stays unknown */
		(void)control_parse_addrport_inet(jsonstr_get(a, "peer", NULL),
		    &o->seen_peer);
		(void)control_parse_addrport_inet(jsonstr_get(a, "local", NULL),
		    &o->seen_local);
	}
	foreign = json_integer_value(json_object_get(obs, "foreign"));
	if (first && foreign > 0)
		c->foreign = (unsigned long)foreign;
	if (first && foreign > 0)
		refobs_note(c, "reflector saw %lld connection(s) to the "
		    "session's ports without this session's token",
		    (long long)foreign);
}

/* One "traces" run onto the probes of its ports. */
static void
refobs_trace_run(struct refobs *c, const json_t *run)
{
	const json_t *v = json_object_get(run, "verdict");
	const struct probe_rule *kept = NULL;
	struct probe_rule rule;
	struct portrange pr;
	unsigned p;
	int k;

	if (refobs_range(json_object_get(run, "ports"), &pr) != 0)
		return;
	if (control_parse_rule(v, &rule) == 0 && (kept = copypool_bytes(
	    probe_kept(c->pe), &rule, sizeof(rule))) == NULL)
		log_warnx("out of memory keeping a rule the trace named");
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
			o->rule = kept;
		}
	}
	/* The reflector's checked patch for that rule (fixgen.h). */
	if (fixes_take_server(c->fx, json_object_get(run, "fix"),
	    pr.lo == c->cport && pr.hi == c->cport ? PROBE_CONTROL :
	    PROBE_PASSIVE, pr.lo, pr.hi) != 0)
		log_warnx("out of memory keeping a fix");
}

/* The reflector's nftables trace (first page only, PROTOCOL.md). */
static void
refobs_trace(struct refobs *c, const json_t *obs)
{
	const json_t *tr = json_object_get(obs, "trace"), *run;
	int st = control_trace_state(json_string_value(json_object_get(tr,
	    "state")));
	const char *why = json_string_value(json_object_get(tr, "reason"));
	const char *reason;
	size_t i;

	if (tr == NULL)
		return;		/* a reflector without trace support */
	/* NULL (none, or out of memory) reads as "no reason given" */
	reason = copypool_str(probe_kept(c->pe), why);
	for (i = 0; i < probe_count(c->pe); i++) {
		struct probe_obs *o = probe_obs_at(c->pe, i);

		if (o->kind == PROBE_ACTIVE)
			continue;
		o->trace_state = st;
		o->trace_reason = reason;
	}
	if (st == TRACE_OBS_UNAVAILABLE)
		refobs_note(c, "no nftables trace at the server: %s",
		    why != NULL ? why : "no reason given");
	else if (st == TRACE_OBS_INCOMPLETE)
		refobs_note(c, "the nftables trace at the server is incomplete: "
		    "%s", why != NULL ? why : "no reason given");
	if (st == TRACE_OBS_UNAVAILABLE)
		return;
	json_array_foreach(json_object_get(obs, "traces"), i, run)
		refobs_trace_run(c, run);
	if (json_is_true(json_object_get(obs, "traces_truncated")))
		refobs_note(c, "the reflector truncated its trace records; "
		    "ports without one are judged without the trace");
}

/* Without the reflector's observations its arming says nothing about
 * arrivals, and a verdict must not read "listened, saw nothing" into it. */
void
refobs_forget(struct probe_engine *pe)
{
	size_t i;

	for (i = 0; i < probe_count(pe); i++) {
		struct probe_obs *o = probe_obs_at(pe, i);

		o->arm = ARM_UNKNOWN;
		o->arrived = 0;
		o->trace_state = TRACE_OBS_NONE;
		o->trace_record = 0;
		o->rule = NULL;
	}
}


void
refobs_observations(struct refobs *c, const json_t *obs, int first)
{
	refobs_arrivals(c, obs, first);
	if (first)
		refobs_trace(c, obs);
}
