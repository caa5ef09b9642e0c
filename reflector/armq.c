/*
 * armq.c - the reflector's arming queue (see armq.h).
 *
 * Two lists: the granted tickets and the waiting ones in arrival order.
 * Both are short (at most max_sessions) and change only when a plan arms
 * or a session ends, so linear scans are cheaper than an index.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "addr.h"
#include "armq.h"
#include "err.h"

struct armq_ticket {
	TAILQ_ENTRY(armq_ticket) entry;
	struct sockaddr_storage addr;	/* unmapped, port 0 */
	size_t nports;
	int granted;
	/* Until a scan reaches it, a ticket waits behind one the budget
	 * holds back: ARMQ_WAIT_PORTS. */
	enum armq_wait wait;
	void (*grant)(void *arg);
	void *arg;
};

TAILQ_HEAD(armq_list, armq_ticket);

struct armq {
	struct armq_list granted;
	struct armq_list waiting;
	size_t budget;
	size_t armed_ports;
	size_t nwaiting;
};

struct armq *
armq_new(size_t port_budget)
{
	struct armq *q;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	TAILQ_INIT(&q->granted);
	TAILQ_INIT(&q->waiting);
	q->budget = port_budget > 0 ? port_budget : 1;
	return q;
}

void
armq_free(struct armq *q)
{
	free(q);
}

/* 1 if a granted ticket holds addr. */
static int
armq_address_armed(const struct armq *q, const struct sockaddr *addr)
{
	const struct armq_ticket *t;

	TAILQ_FOREACH(t, &q->granted, entry)
		if (addr_equal((const struct sockaddr *)&t->addr, addr))
			return 1;
	return 0;
}

/* What keeps t waiting now, ARMQ_WAIT_NONE if nothing does.  Alone, a
 * plan larger than the budget is armed all the same. */
static enum armq_wait
armq_blocker(const struct armq *q, const struct armq_ticket *t)
{
	if (armq_address_armed(q, (const struct sockaddr *)&t->addr))
		return ARMQ_WAIT_ADDRESS;
	if (q->armed_ports == 0)
		return ARMQ_WAIT_NONE;
	if (q->armed_ports >= q->budget ||
	    t->nports > q->budget - q->armed_ports)
		return ARMQ_WAIT_PORTS;
	return ARMQ_WAIT_NONE;
}

/*
 * Grant what can be granted, in arrival order.  A ticket held back by its
 * address lets later ones of other addresses pass; one held back by the
 * budget stops the scan, or small plans would starve a large one.  The
 * callbacks of all but self (armq_enter's own ticket) run.
 */
static void
armq_pump(struct armq *q, const struct armq_ticket *self)
{
	struct armq_ticket *t, *next;

	for (t = TAILQ_FIRST(&q->waiting); t != NULL; t = next) {
		next = TAILQ_NEXT(t, entry);
		t->wait = armq_blocker(q, t);
		if (t->wait == ARMQ_WAIT_ADDRESS)
			continue;
		if (t->wait == ARMQ_WAIT_PORTS)
			break;
		TAILQ_REMOVE(&q->waiting, t, entry);
		q->nwaiting--;
		TAILQ_INSERT_TAIL(&q->granted, t, entry);
		t->granted = 1;
		q->armed_ports += t->nports;
		if (t != self && t->grant != NULL)
			t->grant(t->arg);
	}
}

void
armq_set_budget(struct armq *q, size_t port_budget)
{
	q->budget = port_budget > 0 ? port_budget : 1;
	armq_pump(q, NULL);
}

int
armq_enter(struct armq *q, const struct sockaddr *addr, size_t nports,
    void (*grant)(void *arg), void *arg, struct armq_ticket **out)
{
	struct armq_ticket *t;

	*out = NULL;
	if (addr == NULL || addr_len(addr) == 0 ||
	    addr_len(addr) > sizeof(t->addr))
		return FTP_ERR_INVAL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return FTP_ERR_NOMEM;
	memcpy(&t->addr, addr, addr_len(addr));
	addr_unmap(&t->addr);
	addr_set_port((struct sockaddr *)&t->addr, 0);
	t->nports = nports;
	t->wait = ARMQ_WAIT_PORTS;
	t->grant = grant;
	t->arg = arg;
	TAILQ_INSERT_TAIL(&q->waiting, t, entry);
	q->nwaiting++;
	armq_pump(q, t);
	*out = t;
	return 0;
}

void
armq_leave(struct armq *q, struct armq_ticket *t)
{
	if (t == NULL)
		return;
	if (t->granted) {
		TAILQ_REMOVE(&q->granted, t, entry);
		q->armed_ports -= t->nports;
	} else {
		TAILQ_REMOVE(&q->waiting, t, entry);
		q->nwaiting--;
	}
	free(t);
	armq_pump(q, NULL);
}

enum armq_wait
armq_ticket_wait(const struct armq_ticket *t)
{
	return t->granted ? ARMQ_WAIT_NONE : t->wait;
}

size_t
armq_ticket_position(const struct armq *q, const struct armq_ticket *t)
{
	const struct armq_ticket *w;
	size_t i = 0;

	if (t->granted)
		return 0;
	TAILQ_FOREACH(w, &q->waiting, entry) {
		i++;
		if (w == t)
			break;
	}
	return i;
}

size_t
armq_armed_ports(const struct armq *q)
{
	return q->armed_ports;
}

size_t
armq_waiting(const struct armq *q)
{
	return q->nwaiting;
}

const char *
armq_wait_name(enum armq_wait w)
{
	switch (w) {
	case ARMQ_WAIT_ADDRESS:
		return "address";
	case ARMQ_WAIT_PORTS:
		return "ports";
	case ARMQ_WAIT_NONE:
		break;
	}
	return "none";
}
