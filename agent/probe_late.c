/*
 * probe_late.c - the sockets of the first silent probes, kept open
 * after their timeout, and the ICMP errors that reach them late
 * (probe_late_icmp(), probe_late_wait_ms() in probe.h).  Part of the
 * probe engine (probe_int.h): probe_linger() is its one entry from a
 * finished probe.
 */
#include <stddef.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "errq.h"
#include "evidence.h"
#include "probe_int.h"

/* A probe the traceroute will want to trace from its own 5-tuple (the
 * first of its kind: runs are traced on their first port), which a kept
 * socket would hold.  Another probe of the kind keeps its socket when
 * there is one. */
static int
probe_first_of_kind(const struct probe_engine *pe, const struct probe *p)
{
	enum probe_kind kind = probe_o(p)->kind;

	if (pe->n_kind[kind == PROBE_PASSIVE] < 2)
		return 0;
	return pe->first_of[kind] == p->idx + 1;
}

/*
 * The first silent probes' sockets stay open (still connecting) until
 * the engine is freed, so that ICMP which comes late, e.g. host-
 * unreachable once a router gives up neighbour resolution after about
 * 3 s, is still recorded (probe_late_icmp()).  A few suffice, as such
 * ICMP is about the address, not the port; more than one, because the
 * router answers only the first packets still in its neighbour queue
 * (it drops the oldest when the queue overflows, and rate-limits ICMP).
 * Only while no probe got prompt ICMP: otherwise the silence is a rate
 * limit, and the kept sockets' retransmitted SYNs would spend the
 * router's ICMP tokens that the lone retry (retry.c) needs.
 */
/* The kept slot to give up for probe index idx: a free one, else the
 * one of the latest probe if that is later than idx; -1 if none. */
static int
probe_late_slot(struct probe_engine *pe, size_t idx)
{
	size_t i, worst = 0;

	if (pe->n_late < PROBE_MAX_LATE)
		return (int)pe->n_late++;
	for (i = 1; i < pe->n_late; i++)
		if (pe->late_probe[i] > pe->late_probe[worst])
			worst = i;
	if (pe->late_probe[worst] < idx)
		return -1;
	close(pe->late_fd[worst]);
	return (int)worst;
}

void
probe_linger(struct probe *p)
{
	struct probe_engine *pe = p->pe;
	size_t idx = p->idx;
	int slot;

	if (probe_o(p)->outcome == OUTCOME_ICMP)
		pe->icmp_seen = 1;
	if (probe_o(p)->outcome != OUTCOME_TIMEOUT || p->fd == -1 ||
	    pe->icmp_seen || probe_first_of_kind(pe, p) ||
	    (probe_o(p)->kind == PROBE_CONTROL && pe->n_kind[1] > 0))
		return;
	/* The earliest SYNs are kept (probes start in order; timeouts of
	 * one wave fire in any order): the router answers the oldest
	 * packets of its queue. */
	if ((slot = probe_late_slot(pe, idx)) < 0)
		return;
	if (p->ev != NULL) {
		event_free(p->ev);
		p->ev = NULL;
	}
	pe->late_fd[slot] = p->fd;
	pe->late_probe[slot] = idx;
	pe->late_t0[slot] = p->t0;
	p->fd = -1;
}

size_t
probe_late_icmp(struct probe_engine *pe, struct evidence_late_icmp *out,
    size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < pe->n_late && n < max; i++) {
		const struct probe_obs *o = &pe->obs[pe->late_probe[i]];
		struct errq_icmp icmp;

		if (errq_read(pe->late_fd[i], &icmp) != 0 || !icmp.present)
			continue;
		out[n].kind = o->kind;
		out[n].port = o->port;
		addr_store(&out[n].remote, ADDR_SA(&o->remote));
		out[n].icmp = icmp;
		out[n].after_ms = clock_ms_since(&pe->late_t0[i]);
		n++;
	}
	return n;
}

unsigned
probe_late_wait_ms(struct probe_engine *pe, unsigned window_ms)
{
	unsigned wait = 0;
	size_t i;

	for (i = 0; i < pe->n_late; i++) {
		unsigned age = clock_ms_since(&pe->late_t0[i]);

		if (age < window_ms && window_ms - age > wait)
			wait = window_ms - age;
	}
	return wait;
}
