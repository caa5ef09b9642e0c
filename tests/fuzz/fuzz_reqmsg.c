/*
 * fuzz_reqmsg.c - libFuzzer target for the decoders of the agent's
 * requests (reflector/reqmsg.c): the input as JSON (NUL allowed, as the
 * frame codec allows it) through every decoder; what a decoder accepts
 * must hold its promises (ranges, lengths, terminated strings, a
 * sentence for every refusal).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "reqmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_check_why(int r, const char *why)
{
	if (r != 0 && (why == NULL || why[0] == '\0'))
		__builtin_trap();
}

static void
fuzz_plan(const json_t *m)
{
	struct reqmsg_plan *p = malloc(sizeof(*p));
	const char *why = NULL;
	int r;

	if (p == NULL)
		return;
	r = reqmsg_plan(m, p, &why);
	fuzz_check_why(r, why);
	if (r == 0 && (p->control_port == 0 || p->timeout_ms == 0 ||
	    p->timeout_ms > REQMSG_MAX_WAIT_MS ||
	    p->n_agent_addrs > REQMSG_MAX_AGENT_ADDRS ||
	    strlen(p->server) == 0 || strlen(p->server) > REQMSG_MAX_NAME ||
	    (p->has_passive && (p->passive.lo == 0 ||
	    p->passive.lo > p->passive.hi))))
		__builtin_trap();
	free(p);
}

static void
fuzz_rest(const json_t *m)
{
	struct reqmsg_hello h;
	struct reqmsg_ping pg;
	struct reqmsg_active a;
	struct reqmsg_collect c;
	struct reqmsg_wait w;
	const char *why = NULL;
	int r;

	r = reqmsg_hello(m, &h, &why);
	fuzz_check_why(r, why);
	if (r == 0 && (strlen(h.token) != PROTO_TOKEN_HEXLEN ||
	    strspn(h.token, "0123456789abcdef") != PROTO_TOKEN_HEXLEN ||
	    h.agent[0] == '\0' || h.time_ms < 0))
		__builtin_trap();
	why = NULL;
	r = reqmsg_ping(m, &pg, &why);
	fuzz_check_why(r, why);
	if (r == 0 && (pg.seq < 0 || pg.t_borrowed == NULL))
		__builtin_trap();
	why = NULL;
	r = reqmsg_active(m, &a, &why);
	fuzz_check_why(r, why);
	if (r == 0 && (a.port == 0 || a.timeout_ms == 0))
		__builtin_trap();
	why = NULL;
	fuzz_check_why(reqmsg_collect(m, &c, &why), why);
	why = NULL;
	r = reqmsg_wait(m, &w, &why);
	fuzz_check_why(r, why);
	if (r == 0 && (w.timeout_ms == 0 || w.timeout_ms > REQMSG_MAX_WAIT_MS))
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t e;
	json_t *m = json_loadb((const char *)data, size, JSON_ALLOW_NUL, &e);

	if (m == NULL)
		return 0;
	fuzz_plan(m);
	fuzz_rest(m);
	json_decref(m);
	return 0;
}
