/*
 * control_parse.c - the pure decoders of what the reflector sends
 * (control.h): welcome's fields, the addresses it quotes, a trace's
 * state and the rule of its verdict.  No I/O and no channel: the
 * modules that read the reflector's observations (active.c, refobs.c)
 * call them with no control object, and the dialogue (control_int.h)
 * decodes welcome here.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "control_int.h"
#include "err.h"
#include "jsonstr.h"

int
control_parse_addr(const char *s, uint16_t port, struct sockaddr_storage *ss)
{
	socklen_t len;
	int r;

	if (s == NULL)
		return FTP_ERR_INVAL;
	if ((r = addr_parse_ip(s, ss, &len)) != 0)
		return r;
	addr_set_port((struct sockaddr *)ss, port);
	addr_unmap(ss);
	return 0;
}

int
control_parse_addrport(const char *s, struct sockaddr_storage *ss)
{
	char host[ADDR_STRLEN];
	uint16_t port;
	int r;

	if (s == NULL)
		return FTP_ERR_INVAL;
	if ((r = addr_split_hostport(s, 0, host, sizeof(host), &port)) != 0)
		return r;
	return control_parse_addr(host, port, ss);
}

int
control_parse_addrport_inet(const char *s, struct addr_inet *a)
{
	struct sockaddr_storage ss;

	if (control_parse_addrport(s, &ss) != 0 ||
	    addr_inet_set(a, (struct sockaddr *)&ss) != 0) {
		memset(a, 0, sizeof(*a));
		return FTP_ERR_INVAL;
	}
	return 0;
}

void
control_welcome_parse(const json_t *m, struct control_welcome *w)
{
	const json_t *v;
	const char *s;

	memset(w, 0, sizeof(*w));
	w->active_source_port = 20;
	v = json_object_get(m, "reflector");
	if (json_is_object(v))
		v = json_object_get(v, "version");
	if ((s = json_string_value(v)) != NULL)
		snprintf(w->reflector, sizeof(w->reflector), "%s", s);
	if (control_parse_addr(json_string_value(json_object_get(m,
	    "observed")), (uint16_t)json_integer_value(json_object_get(m,
	    "observed_port")), &w->observed) != 0)
		w->observed.ss_family = AF_UNSPEC;
	if (control_parse_addr(json_string_value(json_object_get(m, "local")),
	    (uint16_t)json_integer_value(json_object_get(m, "local_port")),
	    &w->local) != 0)
		w->local.ss_family = AF_UNSPEC;
	w->control_port = (uint16_t)json_integer_value(json_object_get(m,
	    "control_port"));
	if ((s = json_string_value(json_object_get(m, "passive_range")))
	    != NULL && portrange_parse(s, &w->passive) != 0)
		memset(&w->passive, 0, sizeof(w->passive));
	if ((v = json_object_get(m, "active_source_port")) != NULL &&
	    json_integer_value(v) > 0 && json_integer_value(v) < 65536)
		w->active_source_port = (uint16_t)json_integer_value(v);
	w->max_ports = (unsigned)json_integer_value(json_object_get(m,
	    "max_ports"));
	w->time_ms = json_integer_value(json_object_get(m, "time_ms"));
}

int
control_trace_state(const char *s)
{
	if (s == NULL)
		return TRACE_OBS_NONE;
	if (strcmp(s, "on") == 0)
		return TRACE_OBS_ON;
	if (strcmp(s, "incomplete") == 0)
		return TRACE_OBS_INCOMPLETE;
	/* "unavailable" and anything this agent does not know: a trace
	 * it cannot read is no trace. */
	return TRACE_OBS_UNAVAILABLE;
}

int
control_parse_rule(const json_t *v, struct probe_rule *r)
{
	const json_t *h = json_object_get(v, "handle");
	const char *dir = json_string_value(json_object_get(v, "direction"));

	/* all of it, padding too: equal rules compare equal (copypool.h) */
	memset(r, 0, sizeof(*r));
	if (!json_is_object(v))
		return -1;
	r->has_handle = json_is_integer(h) && json_integer_value(h) >= 0;
	r->handle = r->has_handle ? (uint64_t)json_integer_value(h) : 0;
	r->outbound = dir != NULL && strcmp(dir, "out") == 0;
	jsonstr_copy(r->family, sizeof(r->family), json_object_get(v,
	    "family"));
	jsonstr_copy(r->table, sizeof(r->table), json_object_get(v, "table"));
	jsonstr_copy(r->chain, sizeof(r->chain), json_object_get(v, "chain"));
	jsonstr_copy(r->verdict, sizeof(r->verdict), json_object_get(v,
	    "verdict"));
	jsonstr_copy(r->text, sizeof(r->text), json_object_get(v, "rule"));
	return 0;
}
