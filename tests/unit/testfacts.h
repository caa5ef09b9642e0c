/*
 * testfacts.h - the session facts the classifier and report suites start
 * from: no NAT (each side sees the other's address as dialled), the
 * reflector on 7021 and the FTP service on 21 at the server address.
 *
 * Include after <cmocka.h> (sa_set asserts its literals).
 */
#ifndef FTPATH_TESTFACTS_H
#define FTPATH_TESTFACTS_H

#include <string.h>

#include "testaddr.h"
#include "verdict.h"

static inline void
facts_set(struct session_facts *f, const char *agent, const char *server,
    unsigned rtt_ms, unsigned timeout_ms)
{
	memset(f, 0, sizeof(*f));
	sa_set(&f->agent_local, agent, 40000);
	sa_set(&f->agent_observed, agent, 40000);
	sa_set(&f->dialled, server, 7021);
	sa_set(&f->reflector_local, server, 7021);
	sa_set(&f->server, server, 21);
	f->rtt_ms = rtt_ms;
	f->timeout_ms = timeout_ms;
}

#endif
