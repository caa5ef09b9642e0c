/*
 * listener.c - probe listeners of one session (see listener.h).
 *
 * The sockets and the reading of probe lines belong to the process-wide
 * port registry (portreg.h), so that sessions can share ports; a set
 * holds one reference per port and records what the registry hands it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "clock.h"
#include "err.h"
#include "listener.h"
#include "log.h"
#include "owners.h"
#include "portreg.h"

struct listener_port {
	uint16_t port;
	enum listener_state state;
	int err;
	int shared;		/* another session had opened the socket */
	struct portreg_ref *ref;	/* NULL unless listening */
};

struct listener_set {
	struct portreg *reg;
	struct sockaddr_storage local;
	char token[PROTO_TOKEN_HEXLEN + 1];
	unsigned probe_timeout_ms;
	struct sockaddr_storage *peers;	/* whose probes (listener_set_peers) */
	size_t npeers;
	int opened;
	uint64_t armed_ms;

	struct listener_port *ports;
	size_t nports;
	struct portreg_ref *divert_ref;	/* the transparent listener's */

	struct listener_arrival *arrivals;
	size_t narrivals;
	size_t arrivals_cap;
	size_t arrivals_max;
	unsigned foreign;

	int (*take)(void *, int, const char *);
	void *take_arg;
};

const char *
listener_state_name(enum listener_state st)
{
	switch (st) {
	case LISTENER_LISTENING:	return "listening";
	case LISTENER_IN_USE:		return "in-use";
	case LISTENER_ERROR:		return "error";
	case LISTENER_DIVERTED:		return "diverted";
	case LISTENER_DIVERTED_IN_USE:	return "diverted-in-use";
	}
	return "error";
}

int
listener_policy_check(const struct reflector_config *cfg,
    uint16_t control_port, const struct portrange *passive,
    const char **code, char *msg, size_t msglen)
{
	unsigned count = 1;

	if (control_port == 0 || !portset_contains(cfg->allowed, control_port)) {
		*code = "port-not-allowed";
		snprintf(msg, msglen, "control port %u is not allowed",
		    control_port);
		return FTP_ERR_DENIED;
	}
	if (passive != NULL) {
		if (passive->lo == 0 || passive->lo > passive->hi ||
		    !portset_contains_range(cfg->allowed, passive)) {
			*code = "port-not-allowed";
			snprintf(msg, msglen, "passive range %u-%u is not "
			    "(entirely) allowed", passive->lo, passive->hi);
			return FTP_ERR_DENIED;
		}
		count = portrange_count(passive);
		if (control_port < passive->lo || control_port > passive->hi)
			count++;
	}
	if (count > cfg->max_ports_per_session) {
		*code = "too-many-ports";
		snprintf(msg, msglen, "%u ports requested, at most %u allowed",
		    count, cfg->max_ports_per_session);
		return FTP_ERR_DENIED;
	}
	return 0;
}

struct listener_set *
listener_set_new(struct portreg *reg, const struct sockaddr *local,
    const char *token, unsigned probe_timeout_ms)
{
	struct listener_set *ls;

	if (strlen(token) != PROTO_TOKEN_HEXLEN)
		return NULL;
	if ((ls = calloc(1, sizeof(*ls))) == NULL)
		return NULL;
	ls->reg = reg;
	memcpy(&ls->local, local, addr_len(local));
	addr_unmap(&ls->local);
	memcpy(ls->token, token, PROTO_TOKEN_HEXLEN + 1);
	ls->probe_timeout_ms = probe_timeout_ms;
	return ls;
}

void
listener_set_free(struct listener_set *ls)
{
	size_t i;

	if (ls == NULL)
		return;
	/* Other sessions may keep a port open; ours is only a reference. */
	for (i = 0; i < ls->nports; i++)
		portreg_release(ls->reg, ls->ports[i].ref);
	portreg_release(ls->reg, ls->divert_ref);
	free(ls->peers);
	free(ls->ports);
	free(ls->arrivals);
	free(ls);
}

static void
listener_record(struct listener_set *ls, int fd, const char *probe)
{
	struct listener_arrival *a;
	struct sockaddr_storage ss;
	socklen_t sl;

	if (ls->narrivals >= ls->arrivals_max) {
		log_debug("listener: arrival list full, %s not recorded", probe);
		return;
	}
	if (ls->narrivals == ls->arrivals_cap) {
		size_t cap = ls->arrivals_cap ? ls->arrivals_cap * 2 : 64;
		struct listener_arrival *n;

		if ((n = reallocarray(ls->arrivals, cap, sizeof(*n))) == NULL) {
			log_warnx("listener: out of memory recording arrival");
			return;
		}
		ls->arrivals = n;
		ls->arrivals_cap = cap;
	}
	a = &ls->arrivals[ls->narrivals];
	memset(a, 0, sizeof(*a));
	snprintf(a->probe, sizeof(a->probe), "%s", probe);
	sl = sizeof(ss);
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0) {
		addr_unmap(&ss);
		a->peer = ss;
	}
	sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
		addr_unmap(&ss);
		a->local = ss;
	}
	a->ms = clock_mono_ms() - ls->armed_ms;
	ls->narrivals++;
}

/* The registry read a line with our token: record it, have it acked. */
static int
listener_arrival_cb(void *arg, int fd, const char *probe)
{
	struct listener_set *ls = arg;

	listener_record(ls, fd, probe);
	log_debug("listener: probe %s arrived", probe);
	if (ls->take != NULL && ls->take(ls->take_arg, fd, probe))
		return PORTREG_ARRIVAL_TAKEN;
	/* Acked even when the list is full: the path worked. */
	return 0;
}

void
listener_set_take(struct listener_set *ls,
    int (*take)(void *, int, const char *), void *arg)
{
	ls->take = take;
	ls->take_arg = arg;
}

static void
listener_foreign_cb(void *arg)
{
	struct listener_set *ls = arg;

	ls->foreign++;
}

static void
listener_owner(struct listener_set *ls, struct portreg_owner *owner)
{
	owner->arrival = listener_arrival_cb;
	owner->foreign = listener_foreign_cb;
	owner->arg = ls;
	owner->token = ls->token;
	owner->line_wait_ms = ls->probe_timeout_ms;
	owner->peers = ls->peers;
	owner->npeers = ls->npeers;
}

int
listener_set_peers(struct listener_set *ls,
    const struct sockaddr_storage *peers, size_t n)
{
	size_t i;

	if (ls->opened || n == 0 || n > LISTENER_MAX_PEERS)
		return FTP_ERR_INVAL;
	if ((ls->peers = calloc(n, sizeof(*ls->peers))) == NULL)
		return FTP_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		ls->peers[i] = peers[i];
		addr_unmap(&ls->peers[i]);
	}
	ls->npeers = n;
	return 0;
}

static void
listener_open_port(struct listener_set *ls, struct listener_port *lp)
{
	struct portreg_owner owner;

	listener_owner(ls, &owner);
	if (portreg_acquire(ls->reg, (struct sockaddr *)&ls->local, lp->port,
	    &owner, &lp->ref, &lp->shared) != 0) {
		lp->err = errno;
		/* EADDRINUSE here is another process (the FTP server): a
		 * port ftpath holds is shared, never refused. */
		lp->state = errno == EADDRINUSE ? LISTENER_IN_USE :
		    LISTENER_ERROR;
		return;
	}
	lp->state = LISTENER_LISTENING;
}

/* The control port, then the passive range, each port once. */
static int
listener_set_ports(struct listener_set *ls, uint16_t control_port,
    const struct portrange *passive)
{
	size_t n = 1;
	unsigned p;

	if (ls->opened)
		return FTP_ERR_INVAL;
	if (passive != NULL)
		n += portrange_count(passive);
	if ((ls->ports = calloc(n, sizeof(*ls->ports))) == NULL)
		return FTP_ERR_NOMEM;
	ls->opened = 1;
	ls->ports[ls->nports++].port = control_port;
	if (passive != NULL) {
		for (p = passive->lo; p <= passive->hi; p++) {
			if (p == control_port)
				continue;
			ls->ports[ls->nports++].port = (uint16_t)p;
		}
	}
	return 0;
}

/* Every listening port may see a few probes (retries); bound it. */
static void
listener_set_start(struct listener_set *ls)
{
	ls->arrivals_max = ls->nports * 4 + 16;
	ls->armed_ms = clock_mono_ms();
}

/* Whether the FTP server owns a port still matters to the agent (a
 * control port nobody serves is "not listening"). */
static void
listener_mark_diverted(struct listener_set *ls)
{
	struct owners *ow;
	size_t i;
	int known;

	ow = malloc(sizeof(*ow));
	known = ow != NULL && owners_scan(ow) == 0;
	/* Unknown counts as in use: the agent must not conclude from our
	 * ignorance that no FTP server listens. */
	if (!known)
		log_warnx("listener: cannot read the socket table; diverted "
		    "ports are reported as in use");
	for (i = 0; i < ls->nports; i++)
		ls->ports[i].state = !known || owners_listening(ow,
		    ls->ports[i].port) ? LISTENER_DIVERTED_IN_USE :
		    LISTENER_DIVERTED;
	free(ow);
}

int
listener_set_divert(struct listener_set *ls, uint16_t control_port,
    const struct portrange *passive, struct sockaddr_storage *to)
{
	struct portreg_owner owner;
	int r;

	if (ls->opened)
		return FTP_ERR_INVAL;
	listener_owner(ls, &owner);
	if ((r = portreg_acquire_transparent(ls->reg, ls->local.ss_family,
	    &owner, &ls->divert_ref, to)) != 0)
		return r;
	if ((r = listener_set_ports(ls, control_port, passive)) != 0) {
		portreg_release(ls->reg, ls->divert_ref);
		ls->divert_ref = NULL;
		return r;
	}
	listener_mark_diverted(ls);
	log_debug("listener: %zu ports diverted to the transparent listener",
	    ls->nports);
	listener_set_start(ls);
	return 0;
}

int
listener_set_open(struct listener_set *ls, uint16_t control_port,
    const struct portrange *passive)
{
	size_t i, nshared = 0;
	int r;

	if ((r = listener_set_ports(ls, control_port, passive)) != 0)
		return r;
	for (i = 0; i < ls->nports; i++) {
		listener_open_port(ls, &ls->ports[i]);
		nshared += ls->ports[i].shared;
	}
	log_debug("listener: %zu ports, %zu shared with other sessions",
	    ls->nports, nshared);
	listener_set_start(ls);
	return 0;
}

size_t
listener_set_nports(const struct listener_set *ls)
{
	return ls->nports;
}

void
listener_set_port(const struct listener_set *ls, size_t i, uint16_t *port,
    enum listener_state *state, int *err)
{
	*port = ls->ports[i].port;
	*state = ls->ports[i].state;
	*err = ls->ports[i].err;
}

size_t
listener_set_narrivals(const struct listener_set *ls)
{
	return ls->narrivals;
}

const struct listener_arrival *
listener_set_arrival(const struct listener_set *ls, size_t i)
{
	return i < ls->narrivals ? &ls->arrivals[i] : NULL;
}

unsigned
listener_set_foreign(const struct listener_set *ls)
{
	/* Asked for at collect, when the agent's probes are done: those
	 * still silent are someone else's too. */
	return ls->foreign + portreg_held(ls->reg, ls);
}
