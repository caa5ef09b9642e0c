/*
 * armq.h - who may arm a plan now: the reflector's arming queue.
 *
 * Two things are limited while sessions are armed, and both would turn
 * into false verdicts if they were not:
 *
 *   - one observed address at a time: agents behind one NAT share it,
 *     their set elements in the shared table would overlap and each
 *     session would read the other's connections and trace events as its
 *     own (and real FTP clients from that address are diverted while one
 *     is armed, so the windows must not add up);
 *   - the probe ports armed at once across all sessions (port_budget):
 *     every armed agent's probes land on the transparent listener
 *     together, and beyond what the host accepts and reads in time a clean
 *     path looks lossy.  A plan larger than the budget is armed alone.
 *
 * A plan that cannot be armed now waits, first come first served, and is
 * granted when the ticket ahead of it leaves; it is never refused here.
 * Pure bookkeeping: no I/O, no clock.  A grant callback runs inside
 * armq_leave() or armq_set_budget() and must not call back into armq:
 * the caller defers the arming it announces (an event of its loop).
 *
 * Errors: 0 or FTP_ERR_NOMEM / FTP_ERR_INVAL.
 */
#ifndef FTPATH_ARMQ_H
#define FTPATH_ARMQ_H

#include <stddef.h>
#include <sys/socket.h>

struct armq;
struct armq_ticket;

/* Why a ticket waits (the agent is told). */
enum armq_wait {
	ARMQ_WAIT_NONE,		/* granted */
	ARMQ_WAIT_ADDRESS,	/* another session of its address is armed */
	ARMQ_WAIT_PORTS		/* the port budget is taken */
};

/* port_budget: probe ports armed at once (at least 1).  NULL: no memory. */
struct armq *armq_new(size_t port_budget);
/* Every ticket must have left. */
void armq_free(struct armq *q);
/* A new budget (a reload): waiting tickets it admits are granted. */
void armq_set_budget(struct armq *q, size_t port_budget);

/*
 * A ticket for a plan of nports from addr (its port is ignored).  Granted
 * at once (*out's state ARMQ_WAIT_NONE) when nothing is in the way and
 * nobody waits ahead of it; else it waits and grant(arg) is called, once,
 * when it is granted.  The ticket is the caller's until armq_leave().
 */
int armq_enter(struct armq *q, const struct sockaddr *addr, size_t nports,
    void (*grant)(void *arg), void *arg, struct armq_ticket **out);
/* Granted or waiting, the ticket goes (its session disarmed or ended);
 * the tickets it held back are granted.  NULL is ignored. */
void armq_leave(struct armq *q, struct armq_ticket *t);

/* What t waits for; its place among the waiting (1: next), 0 if granted. */
enum armq_wait armq_ticket_wait(const struct armq_ticket *t);
size_t armq_ticket_position(const struct armq *q,
    const struct armq_ticket *t);
/* Ports of the granted tickets; tickets waiting. */
size_t armq_armed_ports(const struct armq *q);
size_t armq_waiting(const struct armq *q);
/* "address" / "ports" / "none". */
const char *armq_wait_name(enum armq_wait w);

#endif
