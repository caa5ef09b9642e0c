/*
 * reqmsg.c - decoders of the agent's requests (reqmsg.h).
 */
#include <string.h>

#include "err.h"
#include "reqmsg.h"

/* An integer field in [lo, hi]. */
static int
reqmsg_int(const json_t *m, const char *key, json_int_t lo, json_int_t hi,
    json_int_t *out)
{
	const json_t *v = json_object_get(m, key);
	json_int_t i;

	if (v == NULL || !json_is_integer(v))
		return FTP_ERR_INVAL;
	i = json_integer_value(v);
	if (i < lo || i > hi)
		return FTP_ERR_RANGE;
	*out = i;
	return 0;
}

/* A string field of 1..maxlen bytes without control characters or NUL,
 * copied into out (maxlen + 1 bytes). */
static int
reqmsg_str(const json_t *m, const char *key, size_t maxlen, char *out)
{
	const json_t *v = json_object_get(m, key);
	const char *str;
	size_t len, i;

	if (v == NULL || !json_is_string(v))
		return FTP_ERR_INVAL;
	str = json_string_value(v);
	len = json_string_length(v);
	if (len == 0 || len > maxlen || strlen(str) != len)
		return FTP_ERR_INVAL;
	for (i = 0; i < len; i++)
		if ((unsigned char)str[i] < 0x20 || str[i] == 0x7f)
			return FTP_ERR_INVAL;
	memcpy(out, str, len + 1);
	return 0;
}

static int
reqmsg_fail(const char **why, const char *text)
{
	*why = text;
	return FTP_ERR_INVAL;
}

static int
reqmsg_timeout(const json_t *m, uint32_t *out, const char **why)
{
	json_int_t t;

	if (reqmsg_int(m, "timeout_ms", 1, REQMSG_MAX_WAIT_MS, &t) != 0)
		return reqmsg_fail(why, "timeout_ms must be a positive integer");
	*out = (uint32_t)t;
	return 0;
}

static int
reqmsg_token_valid(const char *t)
{
	size_t i;

	for (i = 0; i < PROTO_TOKEN_HEXLEN; i++)
		if (!((t[i] >= '0' && t[i] <= '9') ||
		    (t[i] >= 'a' && t[i] <= 'f')))
			return 0;
	return t[i] == '\0';
}

int
reqmsg_hello(const json_t *m, struct reqmsg_hello *out, const char **why)
{
	json_int_t t;

	if (reqmsg_str(m, "token", PROTO_TOKEN_HEXLEN, out->token) != 0 ||
	    !reqmsg_token_valid(out->token))
		return reqmsg_fail(why, "token must be 32 lowercase hex "
		    "characters");
	if (reqmsg_str(m, "agent", REQMSG_MAX_NAME, out->agent) != 0)
		return reqmsg_fail(why, "agent must be a string");
	if (reqmsg_int(m, "time_ms", 0, INT64_MAX, &t) != 0)
		return reqmsg_fail(why, "time_ms must be a non-negative integer");
	out->time_ms = t;
	return 0;
}

int
reqmsg_ping(const json_t *m, struct reqmsg_ping *out, const char **why)
{
	json_int_t seq;

	if (reqmsg_int(m, "seq", 0, INT64_MAX, &seq) != 0)
		return reqmsg_fail(why, "seq must be a non-negative integer");
	if ((out->t_borrowed = json_object_get(m, "t")) == NULL)
		return reqmsg_fail(why, "t is missing");
	out->seq = seq;
	return 0;
}

/* plan.passive: "LO-HI" or null. */
static int
reqmsg_passive(const json_t *m, struct reqmsg_plan *out)
{
	const json_t *v = json_object_get(m, "passive");
	char text[12];

	if (v == NULL)
		return FTP_ERR_INVAL;
	if (json_is_null(v)) {
		out->has_passive = 0;
		return 0;
	}
	if (reqmsg_str(m, "passive", sizeof(text) - 1, text) != 0 ||
	    portrange_parse(text, &out->passive) != 0)
		return FTP_ERR_INVAL;
	out->has_passive = 1;
	return 0;
}

/* plan.agent_addrs: an array of at most 64 numeric addresses. */
static int
reqmsg_addrs(const json_t *m, struct reqmsg_plan *out, const char **why)
{
	const json_t *addrs = json_object_get(m, "agent_addrs"), *a;
	socklen_t sl;
	size_t i;

	if (addrs == NULL || !json_is_array(addrs) ||
	    json_array_size(addrs) > REQMSG_MAX_AGENT_ADDRS)
		return reqmsg_fail(why, "agent_addrs must be an array of at "
		    "most 64 addresses");
	out->n_agent_addrs = 0;
	json_array_foreach(addrs, i, a) {
		if (!json_is_string(a) || json_string_length(a) >= ADDR_STRLEN ||
		    addr_parse_ip(json_string_value(a),
		    &out->agent_addrs[out->n_agent_addrs], &sl) != 0)
			return reqmsg_fail(why, "agent_addrs must hold numeric "
			    "IP addresses");
		out->n_agent_addrs++;
	}
	return 0;
}

int
reqmsg_plan(const json_t *m, struct reqmsg_plan *out, const char **why)
{
	json_int_t cport;
	int r;

	if (reqmsg_str(m, "server", REQMSG_MAX_NAME, out->server) != 0)
		return reqmsg_fail(why, "server must be a string");
	if (reqmsg_int(m, "control_port", 1, 65535, &cport) != 0)
		return reqmsg_fail(why, "control_port must be an integer 1-65535");
	out->control_port = (uint16_t)cport;
	if (reqmsg_passive(m, out) != 0)
		return reqmsg_fail(why, "passive must be \"LO-HI\" or null");
	if ((r = reqmsg_addrs(m, out, why)) != 0 ||
	    (r = reqmsg_timeout(m, &out->timeout_ms, why)) != 0)
		return r;
	out->fix_borrowed = json_object_get(m, "fix");
	return 0;
}

int
reqmsg_active(const json_t *m, struct reqmsg_active *out, const char **why)
{
	json_int_t port;

	if (reqmsg_int(m, "port", 1, 65535, &port) != 0)
		return reqmsg_fail(why, "port must be an integer 1-65535");
	out->port = (uint16_t)port;
	return reqmsg_timeout(m, &out->timeout_ms, why);
}

int
reqmsg_collect(const json_t *m, struct reqmsg_collect *out, const char **why)
{
	const json_t *v = json_object_get(m, "from");

	out->from = 0;
	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return reqmsg_fail(why, "collect.from must be an integer >= 0");
	out->from = (size_t)json_integer_value(v);
	return 0;
}

int
reqmsg_wait(const json_t *m, struct reqmsg_wait *out, const char **why)
{
	return reqmsg_timeout(m, &out->timeout_ms, why);
}
