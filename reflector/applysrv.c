/*
 * applysrv.c - the reflector's end of `check --apply` (see applysrv.h).
 *
 * Split in two on purpose: the store (remember, find) reads only what
 * this reflector itself sent, and the request handlers read only which
 * stored fixes the agent names.  No path carries agent text to nft.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "apply.h"
#include "applymsg.h"
#include "applysrv.h"
#include "clock.h"
#include "err.h"
#include "log.h"
#include "patchjoin.h"
#include "proto.h"
#include "trace.h"

struct applysrv_fix {
	enum applymsg_record record;
	uint16_t lo, hi;
	char *text;
};

/* The fixes one session was sent. */
struct applysrv_entry {
	int used;
	char token[PROTO_TOKEN_HEXLEN + 1];
	struct sockaddr_storage observed;
	uint64_t t_ms;			/* last remembered (monotonic) */
	struct applysrv_fix fixes[APPLYSRV_FIXES];
	size_t n;
};

struct applysrv {
	const struct reflector_config *cfg;
	struct applysrv_entry e[APPLYSRV_SESSIONS];
	/* The one undecided apply, and the session that asked for it. */
	struct apply *pending;
	const void *owner;
	char pending_tag[9];
};

struct applysrv *
applysrv_new(const struct reflector_config *cfg)
{
	struct applysrv *a = calloc(1, sizeof(*a));

	if (a != NULL)
		a->cfg = cfg;
	return a;
}

static void
applysrv_entry_clear(struct applysrv_entry *e)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		free(e->fixes[i].text);
	memset(e, 0, sizeof(*e));
}

void
applysrv_free(struct applysrv *a)
{
	size_t i;

	if (a == NULL)
		return;
	apply_free(a->pending);
	for (i = 0; i < APPLYSRV_SESSIONS; i++)
		applysrv_entry_clear(&a->e[i]);
	free(a);
}

/* ---- the store ---- */

static int
applysrv_expired(const struct applysrv *a, const struct applysrv_entry *e)
{
	return clock_mono_ms() - e->t_ms >
	    (uint64_t)a->cfg->session_lifetime_s * 1000;
}

/* The session's entry; create: take a free or expired slot, else the
 * oldest. */
static struct applysrv_entry *
applysrv_entry(struct applysrv *a, const char *token, int create)
{
	struct applysrv_entry *e, *old = NULL;
	size_t i;

	for (i = 0; i < APPLYSRV_SESSIONS; i++) {
		e = &a->e[i];
		if (e->used && strcmp(e->token, token) == 0)
			return e;
	}
	if (!create)
		return NULL;
	for (i = 0; i < APPLYSRV_SESSIONS; i++) {
		e = &a->e[i];
		if (!e->used || applysrv_expired(a, e))
			break;
		if (old == NULL || e->t_ms < old->t_ms)
			old = e;
	}
	e = i < APPLYSRV_SESSIONS ? &a->e[i] : old;
	applysrv_entry_clear(e);
	e->used = 1;
	memcpy(e->token, token, PROTO_TOKEN_HEXLEN + 1);
	return e;
}

/* The verified text of a "fix" object, or NULL. */
static const char *
applysrv_fix_text(const json_t *fix)
{
	const json_t *t = json_object_get(fix, "text");

	if (!json_is_object(fix) || !json_is_true(json_object_get(fix,
	    "verified")) || !json_is_string(t) || json_string_length(t) == 0)
		return NULL;
	return json_string_value(t);
}

static void
applysrv_keep(struct applysrv_entry *e, enum applymsg_record rec,
    uint16_t lo, uint16_t hi, const char *text)
{
	struct applysrv_fix *f = NULL;
	size_t i;
	char *copy;

	if (strlen(text) > APPLYSRV_TEXT_MAX) {
		log_warnx("apply: a fix of %zu bytes is not kept (at most %d)",
		    strlen(text), APPLYSRV_TEXT_MAX);
		return;
	}
	for (i = 0; i < e->n; i++)
		if (e->fixes[i].record == rec && e->fixes[i].lo == lo &&
		    e->fixes[i].hi == hi)
			f = &e->fixes[i];
	if (f == NULL && e->n >= APPLYSRV_FIXES) {
		log_warnx("apply: session %.8s...: more than %d fixes, the "
		    "rest is not kept", e->token, APPLYSRV_FIXES);
		return;
	}
	if ((copy = strdup(text)) == NULL) {
		log_warnx("apply: out of memory keeping a fix");
		return;
	}
	if (f == NULL)
		f = &e->fixes[e->n++];
	free(f->text);
	f->record = rec;
	f->lo = lo;
	f->hi = hi;
	f->text = copy;
}

static void
applysrv_keep_traces(struct applysrv_entry *e, const json_t *traces)
{
	const json_t *run;
	const char *text;
	struct portrange pr;
	size_t i;

	json_array_foreach(traces, i, run) {
		const json_t *ports = json_object_get(run, "ports");

		if ((text = applysrv_fix_text(json_object_get(run, "fix"))) ==
		    NULL || !json_is_string(ports))
			continue;
		if (strchr(json_string_value(ports), '-') != NULL) {
			if (portrange_parse(json_string_value(ports), &pr) != 0)
				continue;
		} else {
			pr.lo = pr.hi = (uint16_t)atoi(json_string_value(ports));
		}
		applysrv_keep(e, APPLYMSG_TRACES, pr.lo, pr.hi, text);
	}
}

void
applysrv_remember(struct applysrv *a, const char *token,
    const struct sockaddr *observed, const json_t *msg)
{
	const char *type = msg != NULL ? proto_type(msg) : NULL;
	const json_t *traces = json_object_get(msg, "traces");
	const char *active = applysrv_fix_text(json_object_get(
	    json_object_get(msg, "record"), "fix"));
	struct applysrv_entry *e;

	if (a == NULL || !a->cfg->allow_apply || token == NULL ||
	    type == NULL)
		return;
	if (strcmp(type, "observations") == 0 && json_array_size(traces) > 0)
		active = NULL;
	else if (strcmp(type, "active-result") != 0 || active == NULL)
		return;
	if ((e = applysrv_entry(a, token, 1)) == NULL)
		return;
	memcpy(&e->observed, observed, addr_len(observed));
	e->t_ms = clock_mono_ms();
	if (active != NULL)
		applysrv_keep(e, APPLYMSG_ACTIVE, 0, 0, active);
	else
		applysrv_keep_traces(e, traces);
	log_debug("apply: session %.8s...: %zu fix(es) kept", token, e->n);
}

/* The stored fix a reference names: the active record, or the traces
 * run holding all of lo-hi. */
static const struct applysrv_fix *
applysrv_find(const struct applysrv_entry *e, const struct applymsg_fixref *r)
{
	size_t i;

	for (i = 0; i < e->n; i++) {
		const struct applysrv_fix *f = &e->fixes[i];

		if (f->record != r->record)
			continue;
		if (r->record == APPLYMSG_ACTIVE ||
		    (f->lo <= r->lo && r->hi <= f->hi))
			return f;
	}
	return NULL;
}

/* ---- requests ---- */

static json_t *
applysrv_result(enum applymsg_state st, const char *reason, int identical)
{
	struct applymsg_result *r = calloc(1, sizeof(*r));
	json_t *m;

	if (r == NULL)
		return NULL;
	r->state = st;
	snprintf(r->reason, sizeof(r->reason), "%s", reason ? reason : "");
	r->identical = identical;
	m = applymsg_result_encode(r);
	free(r);
	return m;
}

/*
 * The script of the named fixes, each stored fix once, in the order
 * named.  Refused (NULL script, why in err) when one is missing.
 */
static int
applysrv_script(const struct applysrv_entry *e,
    const struct applymsg_request *req, char **script, char *err,
    size_t errlen)
{
	const char *texts[APPLYMSG_MAX_FIXES];
	const struct applysrv_fix *f;
	size_t i, j, n = 0;

	for (i = 0; i < req->n_fixes; i++) {
		if ((f = applysrv_find(e, &req->fixes[i])) == NULL) {
			if (req->fixes[i].record == APPLYMSG_ACTIVE)
				ftp_errmsg(err, errlen, "no verified fix of the "
				    "active connect-back in that session");
			else
				ftp_errmsg(err, errlen, "no verified fix of the "
				    "trace run %u-%u in that session",
				    req->fixes[i].lo, req->fixes[i].hi);
			return FTP_ERR_NOTFOUND;
		}
		for (j = 0; j < n && texts[j] != f->text; j++)
			;
		if (j == n)
			texts[n++] = f->text;
	}
	return patchjoin(texts, n, script);
}

/* Why this request is refused before anything is touched, or NULL. */
static const char *
applysrv_refusal(struct applysrv *a, const struct sockaddr *observed,
    const struct applymsg_request *req, struct applysrv_entry **out,
    char *buf, size_t len)
{
	struct applysrv_entry *e;

	if (!a->cfg->allow_apply)
		return "allow_apply is no in the reflector's configuration";
	if (!trace_nft_usable())
		return "the reflector cannot use nftables (no CAP_NET_ADMIN)";
	if (a->pending != NULL) {
		snprintf(buf, len, "another apply (session %s...) is not "
		    "decided yet", a->pending_tag);
		return buf;
	}
	e = applysrv_entry(a, req->session, 0);
	if (e == NULL || applysrv_expired(a, e))
		return "no fixes kept for that session (none verified, or "
		    "forgotten after session_lifetime)";
	if (!addr_equal((const struct sockaddr *)&e->observed, observed))
		return "that session's fixes were derived for another agent "
		    "address";
	*out = e;
	return NULL;
}

/* "rule inet filter input handle 9" per item created. */
static void
applysrv_added(const struct apply *ap, struct applymsg_result *r)
{
	const struct apply_plan *p = apply_plan_of(ap);
	struct apply_item_info it;
	size_t i;

	for (i = 0; p != NULL && i < apply_plan_count(p) &&
	    r->n_added < APPLYMSG_ADDED_MAX; i++) {
		if (apply_plan_item(p, i, &it) != 0)
			break;
		snprintf(r->added[r->n_added++], APPLYMSG_LINE_MAX,
		    "%s %s %s%s%s%s%s handle %llu", it.kind, it.family,
		    it.table, it.chain[0] ? " " : "", it.chain,
		    it.name[0] ? " " : "", it.name, it.handle);
	}
}

static json_t *
applysrv_load(struct applysrv *a, const void *owner,
    struct applysrv_entry *e, const struct applymsg_request *req,
    unsigned *hold_s)
{
	struct apply_opts o = { a->cfg->apply_state_dir,
	    req->confirm_timeout_s };
	struct applymsg_result *r;
	char err[APPLYMSG_REASON_MAX], *script = NULL;
	struct apply *ap = NULL;
	json_t *m;
	int ret;

	if ((ret = applysrv_script(e, req, &script, err, sizeof(err))) != 0)
		return ret == FTP_ERR_NOMEM ? NULL :
		    applysrv_result(APPLYMSG_REFUSED, err, -1);
	ret = apply_load(script, &o, &ap, err, sizeof(err));
	free(script);
	if (ret != 0) {
		log_warnx("apply: session %.8s...: not loaded: %s",
		    req->session, err);
		return applysrv_result(ret == FTP_ERR_INVAL ?
		    APPLYMSG_REJECTED : APPLYMSG_REFUSED, err, -1);
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		apply_free(ap);		/* the watchdog rolls back */
		return NULL;
	}
	a->pending = ap;
	a->owner = owner;
	snprintf(a->pending_tag, sizeof(a->pending_tag), "%.8s", req->session);
	/* Derived once: a second request for the same fixes is refused. */
	applysrv_entry_clear(e);
	r->state = APPLYMSG_APPLIED;
	r->identical = -1;
	r->confirm_timeout_s = req->confirm_timeout_s;
	applysrv_added(ap, r);
	log_info("apply: fixes of session %s... loaded (%zu item(s)), "
	    "watchdog %ld rolls back in %u s unless confirmed",
	    a->pending_tag, r->n_added, apply_watchdog_pid(ap),
	    req->confirm_timeout_s);
	*hold_s = req->confirm_timeout_s;
	m = applymsg_result_encode(r);
	free(r);
	return m;
}

static json_t *
applysrv_on_request(struct applysrv *a, const void *owner,
    const struct sockaddr *observed, const json_t *msg, unsigned *hold_s)
{
	struct applymsg_request req;
	struct applysrv_entry *e = NULL;
	char err[256], buf[128];
	const char *why;

	if (a->pending != NULL && a->owner == owner)
		return proto_error_new("unexpected", "an apply of this "
		    "session is not decided yet");
	if (applymsg_request_decode(msg, &req, err, sizeof(err)) != 0)
		return proto_error_new("bad-request", err);
	if ((why = applysrv_refusal(a, observed, &req, &e, buf,
	    sizeof(buf))) != NULL) {
		log_info("apply: request for session %.8s... refused: %s",
		    req.session, why);
		return applysrv_result(APPLYMSG_REFUSED, why, -1);
	}
	return applysrv_load(a, owner, e, &req, hold_s);
}

static json_t *
applysrv_decide(struct applysrv *a, int keep)
{
	char err[APPLYMSG_REASON_MAX] = "";
	enum applymsg_state st;
	int identical = -1, r;

	if (keep) {
		r = apply_confirm(a->pending, err, sizeof(err));
		st = r == 0 ? APPLYMSG_KEPT : r == FTP_ERR_RANGE ?
		    APPLYMSG_ROLLED_BACK : APPLYMSG_FAILED;
	} else {
		r = apply_rollback(a->pending, 0, &identical, err,
		    sizeof(err));
		st = r == 0 ? APPLYMSG_ROLLED_BACK : r == 1 ? APPLYMSG_KEPT :
		    APPLYMSG_FAILED;
	}
	log_info("apply: fixes of session %s... %s%s%s", a->pending_tag,
	    applymsg_state_name(st), err[0] ? ": " : "", err);
	apply_free(a->pending);
	a->pending = NULL;
	a->owner = NULL;
	return applysrv_result(st, err, identical);
}

int
applysrv_handles(const char *type)
{
	return strcmp(type, "apply-request") == 0 ||
	    strcmp(type, "apply-confirm") == 0 ||
	    strcmp(type, "apply-rollback") == 0;
}

json_t *
applysrv_handle(struct applysrv *a, const void *owner,
    const struct sockaddr *observed, const json_t *msg, unsigned *hold_s)
{
	const char *type = proto_type(msg);

	*hold_s = 0;
	if (strcmp(type, "apply-request") == 0)
		return applysrv_on_request(a, owner, observed, msg, hold_s);
	if (a->pending == NULL || a->owner != owner)
		return proto_error_new("unexpected", "no apply of this "
		    "session to decide");
	if (strcmp(type, "apply-confirm") == 0 ||
	    strcmp(type, "apply-rollback") == 0)
		return applysrv_decide(a, strcmp(type, "apply-confirm") == 0);
	return proto_error_new("bad-request", "unknown message type");
}

void
applysrv_owner_gone(struct applysrv *a, const void *owner)
{
	if (a == NULL || a->pending == NULL || a->owner != owner)
		return;
	log_info("apply: the session that asked for the fixes of session "
	    "%s... ended undecided: the watchdog rolls back", a->pending_tag);
	apply_free(a->pending);
	a->pending = NULL;
	a->owner = NULL;
}
