/*
 * fuzz_applymsg.c - libFuzzer target for the apply-* messages an agent
 * sends and a reflector answers (common/applymsg.c): the input as JSON
 * through both decoders; a request that decodes is encoded and decoded
 * again to the same fixes, and one that decodes never carries a key the
 * decoder does not know (no patch text can ride along).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "applymsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_request(const json_t *msg)
{
	struct applymsg_request a, b;
	char err[256];
	json_t *again;
	size_t i;

	if (applymsg_request_decode(msg, &a, err, sizeof(err)) != 0)
		return;
	if (json_object_get(msg, "text") != NULL || a.n_fixes == 0 ||
	    a.n_fixes > APPLYMSG_MAX_FIXES)
		__builtin_trap();
	if ((again = applymsg_request_encode(&a)) == NULL)
		return;
	if (applymsg_request_decode(again, &b, err, sizeof(err)) != 0 ||
	    b.n_fixes != a.n_fixes || strcmp(a.session, b.session) != 0 ||
	    a.confirm_timeout_s != b.confirm_timeout_s)
		__builtin_trap();
	for (i = 0; i < a.n_fixes; i++)
		if (a.fixes[i].record != b.fixes[i].record ||
		    a.fixes[i].lo != b.fixes[i].lo ||
		    a.fixes[i].hi != b.fixes[i].hi)
			__builtin_trap();
	json_decref(again);
}

static void
fuzz_result(const json_t *msg)
{
	struct applymsg_result *r = malloc(sizeof(*r));
	char err[256];
	json_t *again;

	if (r == NULL)
		return;
	if (applymsg_result_decode(msg, r, err, sizeof(err)) == 0 &&
	    (again = applymsg_result_encode(r)) != NULL) {
		if (applymsg_result_decode(again, r, err, sizeof(err)) != 0)
			__builtin_trap();
		json_decref(again);
	}
	free(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t e;
	json_t *msg = json_loadb((const char *)data, size, 0, &e);

	if (msg == NULL)
		return 0;
	fuzz_request(msg);
	fuzz_result(msg);
	json_decref(msg);
	return 0;
}
