/*
 * retry.c - second looks before a silent failure is believed: the
 * confirmation pass and the lone ICMP retries (see retry.h).
 */
#include <string.h>
#include <sys/time.h>

#include "addr.h"
#include "copypool.h"
#include "err.h"
#include "retry.h"
#include "log.h"

/* The first ICMP-answered probe and the first silent one of a kind. */
struct retry_icmp_pick {
	const struct probe_obs *icmp;
	const struct probe_obs *silent;
};

static int
retry_is_silent(const struct probe_obs *o)
{
	return o->outcome == OUTCOME_TIMEOUT && !o->icmp.present;
}

static void
retry_icmp_choose(struct probe_engine *pe, enum probe_kind kind,
    struct retry_icmp_pick *pick)
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
		if (pick->silent == NULL && retry_is_silent(o))
			pick->silent = o;
	}
}

static int
retry_icmp_same(const struct errq_icmp *a, const struct errq_icmp *b)
{
	return a->present && b->present && a->family == b->family &&
	    a->type == b->type && a->code == b->code &&
	    addr_equal((const struct sockaddr *)&a->from,
	    (const struct sockaddr *)&b->from);
}

static void
retry_icmp_sleep(struct event_base *base, unsigned ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	/* The loop keeps serving the control channel meanwhile. */
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

/* Retry one port alone; *out gets its observation. */
static int
retry_icmp_once(struct event_base *base, const struct sockaddr *server,
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
	probe_wait(re);
	*out = *probe_obs_at(re, 0);
	r = 0;
out:
	probe_free(re);
	return r;
}

static void
retry_icmp_relabel(struct probe_engine *pe, enum probe_kind kind,
    const struct probe_obs *retry)
{
	size_t i;

	for (i = 0; i < probe_count(pe); i++) {
		struct probe_obs *o = probe_obs_at(pe, i);

		if (o->kind != kind || !retry_is_silent(o))
			continue;
		o->outcome = OUTCOME_ICMP;
		o->icmp = retry->icmp;
		o->icmp_retry_port = retry->port;
	}
}

static int
retry_icmp_kind(struct event_base *base, struct probe_engine *pe,
    enum probe_kind kind, const struct sockaddr *server, const char *token,
    unsigned timeout_ms)
{
	static const unsigned waits[] = { RETRY_ICMP_WAIT_MS,
	    RETRY_ICMP_WAIT2_MS };
	struct retry_icmp_pick pick;
	struct probe_obs retry;
	char desc[64];
	size_t w;
	int r;

	retry_icmp_choose(pe, kind, &pick);
	if (pick.icmp == NULL || pick.silent == NULL)
		return 0;
	for (w = 0; w < sizeof(waits) / sizeof(waits[0]); w++) {
		log_debug("retry: %s: some ports got ICMP, port %u was silent: "
		    "retrying it alone in %u ms", probe_kind_name(kind),
		    pick.silent->port, waits[w]);
		retry_icmp_sleep(base, waits[w]);
		if ((r = retry_icmp_once(base, server, token, timeout_ms,
		    pick.silent, &retry)) != 0)
			return r;
		/* Only a silence may be the limiter's; anything else is an
		 * answer. */
		if (!retry_is_silent(&retry))
			break;
	}
	if (retry.outcome != OUTCOME_ICMP ||
	    !retry_icmp_same(&retry.icmp, &pick.icmp->icmp)) {
		log_debug("retry: retry of port %u: %s, not the same ICMP",
		    retry.port, outcome_name(retry.outcome));
		return 0;
	}
	log_debug("retry: retry of port %u got %s: rate-limited ICMP",
	    retry.port, errq_describe(&retry.icmp, desc, sizeof(desc)));
	retry_icmp_relabel(pe, kind, &retry);
	return 1;
}

/*
 * What the copy of a retried observation points at lives in the retry
 * engine's pool, which goes before the observation does: copy it into
 * the session engine's pool.  0 or FTP_ERR_NOMEM.
 */
static int
retry_rehome(struct probe_engine *pe, struct probe_obs *o)
{
	struct copypool *kept = probe_kept(pe);
	const char **str[] = { &o->trace_reason, &o->ctrace_reason };
	const struct probe_rule **rule[] = { &o->rule, &o->crule };
	size_t k;

	for (k = 0; k < sizeof(str) / sizeof(str[0]); k++)
		if (*str[k] != NULL &&
		    (*str[k] = copypool_str(kept, *str[k])) == NULL)
			return FTP_ERR_NOMEM;
	for (k = 0; k < sizeof(rule) / sizeof(rule[0]); k++)
		if (*rule[k] != NULL && (*rule[k] = copypool_bytes(kept,
		    *rule[k], sizeof(**rule[k]))) == NULL)
			return FTP_ERR_NOMEM;
	return 0;
}

/* Re-run every silent probe in one parallel pass at twice the timeout. */
static int
retry_confirm(struct event_base *base, struct probe_engine *pe,
    const struct sockaddr *server, const char *token, unsigned timeout_ms)
{
	struct probe_engine *re;
	enum arm_state arm;
	int served;
	size_t i, n = 0, changed = 0;
	int r;

	if ((re = probe_new(base, server, token, 2 * timeout_ms)) == NULL)
		return FTP_ERR_NOMEM;
	for (i = 0; i < probe_count(pe); i++) {
		const struct probe_obs *o = probe_obs_at(pe, i);

		if (!retry_is_silent(o))
			continue;
		if ((r = probe_add(re, o->kind, o->port)) != 0)
			goto out;
		n++;
	}
	r = 0;
	if (n == 0)
		goto out;
	log_debug("retry: confirming %zu silent probe(s) at %u ms", n,
	    2 * timeout_ms);
	/* Silent ports give the slow start no answer to grow on. */
	probe_set_window(re, PROBE_MAX_INFLIGHT);
	if ((r = probe_start(re)) != 0)
		goto out;
	probe_wait(re);
	for (i = 0; i < probe_count(re); i++) {
		const struct probe_obs *ro = probe_obs_at(re, i);
		struct probe_obs *o = probe_lookup(pe, ro->kind, ro->port);

		if (o == NULL || ro->outcome == OUTCOME_NOT_RUN)
			continue;
		if (retry_is_silent(ro)) {
			o->confirm_ms = 2 * timeout_ms;
			continue;
		}
		/* The reflector's arming belongs to the session, not to
		 * the attempt: keep it. */
		arm = o->arm;
		served = o->served;
		*o = *ro;
		o->arm = arm;
		o->served = served;
		if ((r = retry_rehome(pe, o)) != 0)
			goto out;
		changed++;
	}
	r = (int)changed;
out:
	probe_free(re);
	return r;
}

int
retry_run(struct event_base *base, struct probe_engine *pe,
    const struct sockaddr *server, const char *token, unsigned timeout_ms)
{
	int confirmed, relabelled;

	if ((confirmed = retry_confirm(base, pe, server, token,
	    timeout_ms)) < 0)
		return confirmed;
	/* Only the passive range has enough ports to exhaust a limiter. */
	if ((relabelled = retry_icmp_kind(base, pe, PROBE_PASSIVE, server,
	    token, timeout_ms)) < 0)
		return relabelled;
	return confirmed + relabelled;
}
