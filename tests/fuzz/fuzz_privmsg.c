/*
 * fuzz_privmsg.c - libFuzzer target for the privileged helper's checks
 * (reflector/privmsg.c): any bytes as a request, of any length, against
 * a default configuration with a passive range.  A request the checks
 * pass never names a port outside the configuration, a set beyond the
 * three, or a non-loopback transparent listener.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "config.h"
#include "privmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct reflector_config *
fuzz_cfg(void)
{
	static struct reflector_config cfg;
	static int done;
	char err[256];

	if (!done) {
		if (config_defaults(&cfg) != 0 ||
		    config_set(&cfg, "passive_range", "30000-30099", err,
		    sizeof(err)) != 0 ||
		    config_set(&cfg, "cert", "/dev/null", err, sizeof(err)) ||
		    config_set(&cfg, "key", "/dev/null", err, sizeof(err)) ||
		    config_set(&cfg, "ca", "/dev/null", err, sizeof(err)) ||
		    config_validate(&cfg, err, sizeof(err)) != 0)
			abort();
		done = 1;
	}
	return &cfg;
}

/* What a passed request may name. */
static void
fuzz_passed(const struct privmsg_req *q, const struct reflector_config *cfg)
{
	uint32_t i;

	if (q->type == PRIVMSG_ELEMS)
		for (i = 0; i < q->nops; i++) {
			struct portrange r = { q->ops[i].lo, q->ops[i].hi };

			if (q->ops[i].which > 2 || (q->ops[i].which < 2 &&
			    !portset_contains_range(cfg->allowed, &r)))
				__builtin_trap();
		}
	if (q->type == PRIVMSG_LISTEN && !portset_contains(cfg->allowed,
	    addr_port((const struct sockaddr *)&q->addr)))
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reflector_config *cfg = fuzz_cfg();
	struct privmsg_req *q;
	char why[256];

	/* The helper reads into a buffer one byte larger than a request. */
	if (size > sizeof(*q) + 1)
		return 0;
	if ((q = calloc(1, sizeof(*q) + 1)) == NULL)
		return 0;
	memcpy(q, data, size);
	if (privmsg_check(q, size, cfg, 0, why, sizeof(why)) == 0)
		fuzz_passed(q, cfg);
	free(q);
	return 0;
}
