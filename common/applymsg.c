/*
 * applymsg.c - the apply control messages (see applymsg.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "applymsg.h"
#include "err.h"

static const char *const applymsg_states[APPLYMSG_NSTATES] = {
	"applied", "refused", "rejected", "kept", "rolled-back", "failed",
};

const char *
applymsg_state_name(enum applymsg_state s)
{
	return (unsigned)s < APPLYMSG_NSTATES ? applymsg_states[s] : NULL;
}

/* Every key of o is one of the NULL-terminated list: a request with a
 * key we do not know might be carrying text we must never take. */
static int
applymsg_only_keys(const json_t *o, const char *const *keys,
    const char **bad)
{
	const char *k, *const *p;
	json_t *v;

	json_object_foreach((json_t *)o, k, v) {
		for (p = keys; *p != NULL; p++)
			if (strcmp(*p, k) == 0)
				break;
		if (*p == NULL) {
			*bad = k;
			return -1;
		}
	}
	return 0;
}

static int
applymsg_type_is(const json_t *msg, const char *type)
{
	const json_t *t = json_object_get(msg, "type");

	return json_is_object(msg) && json_is_string(t) &&
	    strcmp(json_string_value(t), type) == 0;
}

static int
applymsg_token_ok(const char *t)
{
	size_t i;

	for (i = 0; i < PROTO_TOKEN_HEXLEN; i++)
		if (!((t[i] >= '0' && t[i] <= '9') ||
		    (t[i] >= 'a' && t[i] <= 'f')))
			return 0;
	return t[i] == '\0';
}

/* "21" or "30000-30099". */
static int
applymsg_ports_parse(const char *s, uint16_t *lo, uint16_t *hi)
{
	struct portrange pr;
	unsigned long v;
	char *end;

	if (strchr(s, '-') != NULL) {
		if (portrange_parse(s, &pr) != 0)
			return -1;
		*lo = pr.lo;
		*hi = pr.hi;
		return 0;
	}
	if (s[0] < '0' || s[0] > '9')
		return -1;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || v == 0 || v > 65535)
		return -1;
	*lo = *hi = (uint16_t)v;
	return 0;
}

static int
applymsg_fixref_decode(const json_t *f, struct applymsg_fixref *out,
    char *err, size_t errlen)
{
	static const char *const keys[] = { "record", "ports", NULL };
	const json_t *rec = json_object_get(f, "record");
	const json_t *ports = json_object_get(f, "ports");
	const char *bad = NULL;

	if (!json_is_object(f) || applymsg_only_keys(f, keys, &bad) != 0) {
		ftp_errmsg(err, errlen, "a fix is {record, ports}%s%s",
		    bad ? ", not " : "", bad ? bad : "");
		return FTP_ERR_INVAL;
	}
	if (json_is_string(rec) &&
	    strcmp(json_string_value(rec), "active") == 0 && ports == NULL) {
		out->record = APPLYMSG_ACTIVE;
		out->lo = out->hi = 0;
		return 0;
	}
	if (!json_is_string(rec) ||
	    strcmp(json_string_value(rec), "traces") != 0 ||
	    !json_is_string(ports) ||
	    applymsg_ports_parse(json_string_value(ports), &out->lo,
	    &out->hi) != 0) {
		ftp_errmsg(err, errlen, "a fix names record \"traces\" with "
		    "ports \"LO-HI\", or record \"active\"");
		return FTP_ERR_INVAL;
	}
	out->record = APPLYMSG_TRACES;
	return 0;
}

json_t *
applymsg_request_encode(const struct applymsg_request *r)
{
	json_t *m = proto_msg_new("apply-request"), *fixes = json_array(), *f;
	char ports[16];
	size_t i;

	if (m == NULL || fixes == NULL)
		goto fail;
	for (i = 0; i < r->n_fixes; i++) {
		const struct applymsg_fixref *x = &r->fixes[i];

		if ((f = json_object()) == NULL ||
		    json_array_append_new(fixes, f) != 0)
			goto fail;
		if (x->record == APPLYMSG_ACTIVE) {
			json_object_set_new(f, "record", json_string("active"));
			continue;
		}
		if (x->lo == x->hi)
			snprintf(ports, sizeof(ports), "%u", x->lo);
		else
			snprintf(ports, sizeof(ports), "%u-%u", x->lo, x->hi);
		json_object_set_new(f, "record", json_string("traces"));
		json_object_set_new(f, "ports", json_string(ports));
	}
	json_object_set_new(m, "session", json_string(r->session));
	json_object_set_new(m, "fixes", fixes);
	json_object_set_new(m, "confirm_timeout_s",
	    json_integer(r->confirm_timeout_s));
	return m;
fail:
	json_decref(fixes);
	json_decref(m);
	return NULL;
}

int
applymsg_request_decode(const json_t *msg, struct applymsg_request *out,
    char *err, size_t errlen)
{
	static const char *const keys[] = { "v", "type", "session", "fixes",
	    "confirm_timeout_s", NULL };
	struct applymsg_request r;
	const json_t *sess = json_object_get(msg, "session");
	const json_t *fixes = json_object_get(msg, "fixes");
	const json_t *tmo = json_object_get(msg, "confirm_timeout_s");
	const char *bad = NULL;
	size_t i;

	memset(&r, 0, sizeof(r));
	if (!applymsg_type_is(msg, "apply-request")) {
		ftp_errmsg(err, errlen, "not an apply-request");
		return FTP_ERR_INVAL;
	}
	if (applymsg_only_keys(msg, keys, &bad) != 0) {
		ftp_errmsg(err, errlen, "apply-request takes no \"%s\" (the "
		    "reflector loads only the fixes it derived itself)", bad);
		return FTP_ERR_INVAL;
	}
	if (!json_is_string(sess) || json_string_length(sess) !=
	    PROTO_TOKEN_HEXLEN || !applymsg_token_ok(json_string_value(sess))) {
		ftp_errmsg(err, errlen, "session must be a session token (32 "
		    "lowercase hex characters)");
		return FTP_ERR_INVAL;
	}
	memcpy(r.session, json_string_value(sess), PROTO_TOKEN_HEXLEN + 1);
	if (!json_is_array(fixes) || json_array_size(fixes) == 0 ||
	    json_array_size(fixes) > APPLYMSG_MAX_FIXES) {
		ftp_errmsg(err, errlen, "fixes must be an array of 1 to %d",
		    APPLYMSG_MAX_FIXES);
		return FTP_ERR_INVAL;
	}
	for (i = 0; i < json_array_size(fixes); i++)
		if (applymsg_fixref_decode(json_array_get(fixes, i),
		    &r.fixes[i], err, errlen) != 0)
			return FTP_ERR_INVAL;
	r.n_fixes = i;
	if (!json_is_integer(tmo) || json_integer_value(tmo) < 1 ||
	    json_integer_value(tmo) > APPLYMSG_TIMEOUT_MAX) {
		ftp_errmsg(err, errlen, "confirm_timeout_s must be 1-%u",
		    APPLYMSG_TIMEOUT_MAX);
		return FTP_ERR_INVAL;
	}
	r.confirm_timeout_s = (unsigned)json_integer_value(tmo);
	*out = r;
	return 0;
}

json_t *
applymsg_result_encode(const struct applymsg_result *r)
{
	json_t *m, *added;
	size_t i;

	if (applymsg_state_name(r->state) == NULL ||
	    (m = proto_msg_new("apply-result")) == NULL)
		return NULL;
	if ((added = json_array()) == NULL) {
		json_decref(m);
		return NULL;
	}
	for (i = 0; i < r->n_added && i < APPLYMSG_ADDED_MAX; i++)
		json_array_append_new(added, json_string(r->added[i]));
	json_object_set_new(m, "state",
	    json_string(applymsg_state_name(r->state)));
	json_object_set_new(m, "reason", r->reason[0] != '\0' ?
	    json_string(r->reason) : json_null());
	json_object_set_new(m, "identical", r->identical < 0 ? json_null() :
	    json_boolean(r->identical));
	json_object_set_new(m, "added", added);
	json_object_set_new(m, "confirm_timeout_s",
	    json_integer(r->confirm_timeout_s));
	return m;
}

static int
applymsg_state_parse(const char *s, enum applymsg_state *out)
{
	int i;

	for (i = 0; i < APPLYMSG_NSTATES; i++)
		if (strcmp(applymsg_states[i], s) == 0) {
			*out = (enum applymsg_state)i;
			return 0;
		}
	return -1;
}

static int
applymsg_added_decode(const json_t *a, struct applymsg_result *r)
{
	const json_t *v;
	size_t i;

	if (!json_is_array(a))
		return -1;
	json_array_foreach(a, i, v) {
		if (!json_is_string(v))
			return -1;
		if (r->n_added < APPLYMSG_ADDED_MAX)
			snprintf(r->added[r->n_added++], APPLYMSG_LINE_MAX,
			    "%s", json_string_value(v));
	}
	return 0;
}

int
applymsg_result_decode(const json_t *msg, struct applymsg_result *out,
    char *err, size_t errlen)
{
	struct applymsg_result r;
	const json_t *st = json_object_get(msg, "state");
	const json_t *reason = json_object_get(msg, "reason");
	const json_t *ident = json_object_get(msg, "identical");
	const json_t *tmo = json_object_get(msg, "confirm_timeout_s");

	memset(&r, 0, sizeof(r));
	if (!applymsg_type_is(msg, "apply-result") || !json_is_string(st) ||
	    applymsg_state_parse(json_string_value(st), &r.state) != 0) {
		ftp_errmsg(err, errlen, "apply-result without a known state");
		return FTP_ERR_INVAL;
	}
	if (reason != NULL && !json_is_null(reason) &&
	    !json_is_string(reason)) {
		ftp_errmsg(err, errlen, "apply-result reason is not a string");
		return FTP_ERR_INVAL;
	}
	if (json_is_string(reason))
		snprintf(r.reason, sizeof(r.reason), "%s",
		    json_string_value(reason));
	r.identical = json_is_boolean(ident) ? json_is_true(ident) : -1;
	if (json_object_get(msg, "added") != NULL &&
	    applymsg_added_decode(json_object_get(msg, "added"), &r) != 0) {
		ftp_errmsg(err, errlen, "apply-result added is not a list of "
		    "strings");
		return FTP_ERR_INVAL;
	}
	if (json_is_integer(tmo) && json_integer_value(tmo) >= 0 &&
	    json_integer_value(tmo) <= APPLYMSG_TIMEOUT_MAX)
		r.confirm_timeout_s = (unsigned)json_integer_value(tmo);
	*out = r;
	return 0;
}

json_t *
applymsg_decision_encode(int keep)
{
	return proto_msg_new(keep ? "apply-confirm" : "apply-rollback");
}
