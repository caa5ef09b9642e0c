#include <string.h>
#include <sys/time.h>

#include "addr.h"
#include "err.h"
#include "icmpretry.h"
#include "log.h"

/* The first ICMP-answered probe and the first silent one of a kind. */
struct icmpretry_pick {
	const struct probe_obs *icmp;
	const struct probe_obs *silent;
};

static int
icmpretry_is_silent(const struct probe_obs *o)
{
	return o->outcome == OUTCOME_TIMEOUT && !o->icmp.present;
}

static void
icmpretry_choose(struct probe_engine *pe, enum probe_kind kind,
    struct icmpretry_pick *pick)
{
	size_t i;

	memset(pick, 0, sizeof(*pick));
	for (i = 0; i < probe_count(pe); i++) {
		const struct probe_obs *o = probe_obs_at(pe, i);

		if (o->kind != kind)
			continue;
		if (pick->icmp == NULL && o->outcome == OUTCOME_ICMP &&
		    o->icmp.present)
			pick->icmp = o;
		if (pick->silent == NULL && icmpretry_is_silent(o))
			pick->silent = o;
	}
}

static int
icmpretry_same(const struct errq_icmp *a, const struct errq_icmp *b)
{
	return a->present && b->present && a->family == b->family &&
	    a->type == b->type && a->code == b->code &&
	    addr_equal((const struct sockaddr *)&a->from,
	    (const struct sockaddr *)&b->from);
}

static void
icmpretry_sleep(struct event_base *base, unsigned ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	/* The loop keeps serving the control channel meanwhile. */
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

/* Retry one port alone; *out gets its observation. */
static int
icmpretry_once(struct event_base *base, const struct sockaddr *server,
    const char *token, unsigned timeout_ms, const struct probe_obs *o,
    struct probe_obs *out)
{
	struct probe_engine *re;
	int r;

	if ((re = probe_new(base, server, token, timeout_ms)) == NULL)
		return FTP_ERR_NOMEM;
	if ((r = probe_add(re, o->kind, o->port)) != 0 ||
	    (r = probe_start(re)) != 0)
		goto out;
	while (!probe_done(re))
		if (event_base_loop(base, EVLOOP_ONCE) != 0)
			break;
	*out = *probe_obs_at(re, 0);
	r = 0;
out:
	probe_free(re);
	return r;
}

static void
icmpretry_relabel(struct probe_engine *pe, enum probe_kind kind,
    const struct probe_obs *retry)
{
	size_t i;

	for (i = 0; i < probe_count(pe); i++) {
		struct probe_obs *o = probe_obs_at(pe, i);

		if (o->kind != kind || !icmpretry_is_silent(o))
			continue;
		o->outcome = OUTCOME_ICMP;
		o->icmp = retry->icmp;
		o->icmp_retry_port = retry->port;
	}
}

static int
icmpretry_kind(struct event_base *base, struct probe_engine *pe,
    enum probe_kind kind, const struct sockaddr *server, const char *token,
    unsigned timeout_ms)
{
	struct icmpretry_pick pick;
	struct probe_obs retry;
	char desc[64];
	int r;

	icmpretry_choose(pe, kind, &pick);
	if (pick.icmp == NULL || pick.silent == NULL)
		return 0;
	log_debug("icmpretry: %s: some ports got ICMP, port %u was silent: "
	    "retrying it alone in %u ms", probe_kind_name(kind),
	    pick.silent->port, ICMPRETRY_WAIT_MS);
	icmpretry_sleep(base, ICMPRETRY_WAIT_MS);
	if ((r = icmpretry_once(base, server, token, timeout_ms, pick.silent,
	    &retry)) != 0)
		return r;
	if (retry.outcome != OUTCOME_ICMP ||
	    !icmpretry_same(&retry.icmp, &pick.icmp->icmp)) {
		log_debug("icmpretry: retry of port %u: %s, not the same ICMP",
		    retry.port, outcome_name(retry.outcome));
		return 0;
	}
	log_debug("icmpretry: retry of port %u got %s: rate-limited ICMP",
	    retry.port, errq_describe(&retry.icmp, desc, sizeof(desc)));
	icmpretry_relabel(pe, kind, &retry);
	return 1;
}

int
icmpretry_run(struct event_base *base, struct probe_engine *pe,
    const struct sockaddr *server, const char *token, unsigned timeout_ms)
{
	/* Only the passive range has enough ports to exhaust a limiter. */
	return icmpretry_kind(base, pe, PROBE_PASSIVE, server, token,
	    timeout_ms);
}
