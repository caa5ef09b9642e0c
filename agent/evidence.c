/*
 * evidence.c - look-ups over a check's evidence (evidence.h).
 */
#include <string.h>

#include "addr.h"
#include "evidence.h"

int
evidence_same_obs(const struct probe_obs *a, const struct probe_obs *b)
{
	const struct errq_icmp *ia = &a->icmp, *ib = &b->icmp;

	if (a->kind != b->kind || a->outcome != b->outcome ||
	    a->arrived != b->arrived || a->trace_record != b->trace_record ||
	    a->syn_seen != b->syn_seen || a->synack_sent != b->synack_sent ||
	    (a->rule == NULL) != (b->rule == NULL) ||
	    (a->crule == NULL) != (b->crule == NULL) ||
	    ia->present != ib->present)
		return 0;
	return !ia->present || (ia->type == ib->type &&
	    ia->code == ib->code && addr_equal((const struct sockaddr *)
	    &ia->from, (const struct sockaddr *)&ib->from));
}

const struct evidence_trace *
evidence_trace_for(const struct evidence *e, const struct probe_obs *o)
{
	size_t i;

	for (i = 0; i < e->n_traces; i++)
		if (evidence_same_obs(&e->traces[i].first, o))
			return &e->traces[i];
	return NULL;
}

const struct evidence_late_icmp *
evidence_late_for(const struct evidence *e, const struct probe_obs *o,
    int *own)
{
	const struct evidence_late_icmp *same_addr = NULL;
	size_t i;

	for (i = 0; i < e->n_late; i++) {
		const struct evidence_late_icmp *l = &e->late[i];

		if (l->kind == o->kind && l->port == o->port) {
			*own = 1;
			return l;
		}
		if (same_addr == NULL &&
		    errq_is_net_or_host_unreachable(&l->icmp) &&
		    addr_equal((const struct sockaddr *)&l->remote,
		    (const struct sockaddr *)&o->remote))
			same_addr = l;
	}
	*own = 0;
	return same_addr;
}
