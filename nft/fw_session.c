/*
 * fw_session.c - one session's nftables trace (see fw_session.h).
 */
#include <errno.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "fw.h"
#include "fw_session.h"
#include "fw_text.h"
#include "fw_trace.h"
#include "log.h"

/* Distinct dropping rules kept per session; a host has few. */
#define FW_SESSION_MAX_RULES	32
/* Recent trace ids remembered to attribute the header-less later events
 * of a packet; a packet's events arrive together, so a short memory is
 * enough. */
#define FW_SESSION_IDS		1024
/* fw_trace_read() calls when draining at collect time (each reads a
 * bounded burst). */
#define FW_SESSION_DRAIN_MAX	4096
/* fw_trace_read() calls per readable event on the loop. */
#define FW_SESSION_READ_BURSTS	16
/* Connect-back records per session: the reflector makes two (plain and
 * ALG), so a few more only guard against a confused caller. */
#define FW_SESSION_CB_MAX	8
/* Marks a remembered id whose packet turned out not to be ours. */
#define FW_SESSION_DIR_FOREIGN	0xff

struct fw_session_id {
	uint32_t	 id;
	uint16_t	 port;
	uint8_t		 dir;		/* 0: slot unused */
	uint8_t		 dropped;	/* its drop was counted */
	uint8_t		 cb;		/* port is a connect-back's peer port */
};

struct fw_session {
	struct event_base		*base;
	struct event			*ev;
	struct fw_trace_listener	*l;
	struct fw_nl			*nl;
	enum fw_session_role		 role;
	char				 id[FW_ID_MAX + 1];
	char				 who[16];
	int				 have_table;
	int				 detached;
	struct sockaddr_storage		 peer;
	enum fw_session_state		 state;
	char				 reason[200];
	struct fw_session_port		*ports;	/* sorted by port */
	size_t				 nports;
	uint16_t			 active_port;	/* 0: none */
	struct fw_session_port		 cbs[FW_SESSION_CB_MAX];
	size_t				 ncbs;
	struct fw_session_rule		 rules[FW_SESSION_MAX_RULES];
	size_t				 nrules;
	struct fw_session_id		 ids[FW_SESSION_IDS];
	size_t				 id_next;
	unsigned long			 events;
	void				(*drain)(void *);
	void				*drain_arg;
};

const char *
fw_session_state_name(enum fw_session_state st)
{
	switch (st) {
	case FW_SESSION_ON:		return "on";
	case FW_SESSION_UNAVAILABLE:	return "unavailable";
	case FW_SESSION_INCOMPLETE:	return "incomplete";
	}
	return "unavailable";
}

/* Who reads the events, for the reasons the peer is told. */
static const char *
fw_session_actor(const struct fw_session *s)
{
	return s->role == FW_SESSION_SERVER ? "the reflector" : "the agent";
}

static void fw_session_unavailable(struct fw_session *s, const char *fmt,
    ...) __attribute__((format(printf, 2, 3)));

static void
fw_session_unavailable(struct fw_session *s, const char *fmt, ...)
{
	va_list ap;

	s->state = FW_SESSION_UNAVAILABLE;
	va_start(ap, fmt);
	vsnprintf(s->reason, sizeof(s->reason), fmt, ap);
	va_end(ap);
}

void
fw_session_set_incomplete(struct fw_session *s, const char *reason)
{
	if (s->state != FW_SESSION_ON)
		return;
	s->state = FW_SESSION_INCOMPLETE;
	snprintf(s->reason, sizeof(s->reason), "%s", reason);
	log_info("%s %s: incomplete: %s", s->who, s->id[0] ? s->id : "-",
	    reason);
}

enum fw_session_state
fw_session_state(const struct fw_session *s)
{
	return s->state;
}

const char *
fw_session_reason(const struct fw_session *s)
{
	return s->reason[0] != '\0' ? s->reason : NULL;
}

size_t
fw_session_nports(const struct fw_session *s)
{
	return s->nports;
}

const struct fw_session_port *
fw_session_port_at(const struct fw_session *s, size_t i)
{
	return i < s->nports ? &s->ports[i] : NULL;
}

const struct fw_session_rule *
fw_session_rule_at(const struct fw_session *s, int i)
{
	return i >= 0 && (size_t)i < s->nrules ? &s->rules[i] : NULL;
}

static int
fw_session_port_cmp(const void *a, const void *b)
{
	const struct fw_session_port *x = a, *y = b;

	return (int)x->port - (int)y->port;
}

/* The probe ports, sorted, each once. */
static int
fw_session_ports_init(struct fw_session *s, const struct portrange *pr,
    size_t npr)
{
	size_t n = 0, i, j;
	unsigned p;

	for (i = 0; i < npr; i++) {
		if (pr[i].lo == 0 || pr[i].lo > pr[i].hi)
			return FTP_ERR_RANGE;
		n += portrange_count(&pr[i]);
	}
	if (n == 0)
		return FTP_ERR_INVAL;
	if ((s->ports = calloc(n, sizeof(*s->ports))) == NULL)
		return FTP_ERR_NOMEM;
	for (i = j = 0; i < npr; i++)
		for (p = pr[i].lo; p <= pr[i].hi; p++)
			s->ports[j++].port = (uint16_t)p;
	qsort(s->ports, n, sizeof(*s->ports), fw_session_port_cmp);
	for (i = j = 0; i < n; i++) {
		if (j > 0 && s->ports[j - 1].port == s->ports[i].port)
			continue;
		s->ports[j] = s->ports[i];
		s->ports[j].rule = -1;
		j++;
	}
	s->nports = j;
	return 0;
}

static struct fw_session_port *
fw_session_port_find(struct fw_session *s, uint16_t port)
{
	struct fw_session_port key = { .port = port };

	return bsearch(&key, s->ports, s->nports, sizeof(*s->ports),
	    fw_session_port_cmp);
}

const struct fw_session_port *
fw_session_find(const struct fw_session *s, uint16_t port)
{
	struct fw_session_port key = { .port = port };

	return bsearch(&key, s->ports, s->nports, sizeof(*s->ports),
	    fw_session_port_cmp);
}

/* The connect-back to the peer's port, added if new and add is set. */
static struct fw_session_port *
fw_session_cb_find(struct fw_session *s, uint16_t peer_port, int add)
{
	size_t i;

	for (i = 0; i < s->ncbs; i++)
		if (s->cbs[i].port == peer_port)
			return &s->cbs[i];
	if (!add)
		return NULL;
	if (s->ncbs == FW_SESSION_CB_MAX) {
		fw_session_set_incomplete(s, "more connect-backs than the "
		    "reflector records");
		return NULL;
	}
	memset(&s->cbs[s->ncbs], 0, sizeof(s->cbs[0]));
	s->cbs[s->ncbs].port = peer_port;
	s->cbs[s->ncbs].rule = -1;
	return &s->cbs[s->ncbs++];
}

const struct fw_session_port *
fw_session_connectback(const struct fw_session *s, uint16_t peer_port)
{
	size_t i;

	for (i = 0; i < s->ncbs; i++)
		if (s->cbs[i].port == peer_port)
			return &s->cbs[i];
	return NULL;
}

static struct fw_session *
fw_session_alloc(const struct fw_session_spec *spec)
{
	struct fw_session *s;

	if (spec->peer == NULL || spec->ports == NULL ||
	    (s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	memcpy(&s->peer, spec->peer, addr_len(spec->peer));
	addr_unmap(&s->peer);
	s->role = spec->role;
	if (spec->role == FW_SESSION_SERVER)
		s->active_port = spec->active_port;
	s->state = FW_SESSION_ON;
	snprintf(s->who, sizeof(s->who), "%s", spec->who != NULL ?
	    spec->who : "trace");
	snprintf(s->id, sizeof(s->id), "%s", spec->id != NULL ? spec->id :
	    "");
	if (fw_session_ports_init(s, spec->ports, spec->nports) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

struct fw_session *
fw_session_new_detached(const struct fw_session_spec *spec)
{
	struct fw_session *s = fw_session_alloc(spec);

	if (s != NULL)
		s->detached = 1;
	return s;
}

struct fw_session *
fw_session_new_fed(const struct fw_session_spec *spec, void (*drain)(void *),
    void *arg)
{
	struct fw_session *s = fw_session_alloc(spec);

	if (s != NULL) {
		s->drain = drain;
		s->drain_arg = arg;
	}
	return s;
}

void
fw_session_set_unavailable(struct fw_session *s, const char *reason)
{
	fw_session_unavailable(s, "%s", reason);
}

/* ---- events ---- */

static void
fw_session_id_remember(struct fw_session *s, uint32_t id, uint16_t port,
    uint8_t dir, int cb)
{
	struct fw_session_id *slot = &s->ids[s->id_next];

	slot->id = id;
	slot->port = port;
	slot->dir = dir;
	slot->dropped = 0;
	slot->cb = (uint8_t)(cb != 0);
	s->id_next = (s->id_next + 1) % FW_SESSION_IDS;
}

/* Newest first: an id the kernel reused belongs to the latest packet. */
static struct fw_session_id *
fw_session_id_find(struct fw_session *s, uint32_t id)
{
	size_t i, k;

	for (i = 0; i < FW_SESSION_IDS; i++) {
		k = (s->id_next + FW_SESSION_IDS - 1 - i) % FW_SESSION_IDS;
		if (s->ids[k].dir == 0)
			return NULL;
		if (s->ids[k].id == id)
			return &s->ids[k];
	}
	return NULL;
}

/* Index of the rule an event names, added if new; -1 if the table of
 * rules is full. */
static int
fw_session_rule_index(struct fw_session *s, const struct fw_trace_event *ev)
{
	struct fw_session_rule *r;
	size_t i;
	int policy = ev->type == FW_TRACE_POLICY || !ev->has_handle;

	for (i = 0; i < s->nrules; i++) {
		r = &s->rules[i];
		if (r->family == ev->family && r->has_handle == !policy &&
		    (policy || r->handle == ev->handle) &&
		    strcmp(r->table, ev->table) == 0 &&
		    strcmp(r->chain, ev->chain) == 0)
			return (int)i;
	}
	if (s->nrules == FW_SESSION_MAX_RULES)
		return -1;
	r = &s->rules[s->nrules];
	memset(r, 0, sizeof(*r));
	r->family = ev->family;
	snprintf(r->table, sizeof(r->table), "%s", ev->table);
	snprintf(r->chain, sizeof(r->chain), "%s", ev->chain);
	r->has_handle = !policy;
	r->handle = policy ? 0 : ev->handle;
	return (int)s->nrules++;
}

/*
 * The probe port and direction of a packet, by its headers; NULL if it
 * is not one of ours.  A server's ports are the local end of the tuple,
 * a client's the peer's end.  *cb is set for a server's connect-back
 * (from its active port to the peer, not a probe port's answer): the
 * record is then the connect-back's, keyed by the peer's port.
 */
static struct fw_session_port *
fw_session_match(struct fw_session *s, const struct fw_trace_event *ev,
    uint8_t *dir, int *cb)
{
	const struct sockaddr *src = (const struct sockaddr *)&ev->src;
	const struct sockaddr *dst = (const struct sockaddr *)&ev->dst;
	const struct sockaddr *peer = (const struct sockaddr *)&s->peer;
	int client = s->role == FW_SESSION_CLIENT;
	struct fw_session_port *p;

	if (ev->l4proto != IPPROTO_TCP)
		return NULL;
	if (addr_equal(src, peer) && (p = fw_session_port_find(s,
	    addr_port(client ? src : dst))) != NULL) {
		*dir = FW_SESSION_IN;
		return p;
	}
	if (addr_equal(dst, peer) && (p = fw_session_port_find(s,
	    addr_port(client ? dst : src))) != NULL) {
		*dir = FW_SESSION_OUT;
		return p;
	}
	if (s->active_port != 0 && addr_equal(dst, peer) &&
	    addr_port(src) == s->active_port &&
	    (p = fw_session_cb_find(s, addr_port(dst), 1)) != NULL) {
		*dir = FW_SESSION_OUT;
		*cb = 1;
		return p;
	}
	return NULL;
}

static void
fw_session_count(uint32_t *n)
{
	if (*n < UINT32_MAX)
		(*n)++;
}

void
fw_session_feed(struct fw_session *s, const struct fw_trace_event *ev)
{
	struct fw_session_port *p = NULL;
	struct fw_session_id *known;
	uint8_t dir = 0;
	int ri, cb = 0;

	s->events++;
	if (ev->has_tuple) {
		p = fw_session_match(s, ev, &dir, &cb);
		known = fw_session_id_find(s, ev->id);
		if (p == NULL) {
			/* The id now names a packet that is not ours. */
			if (known != NULL)
				known->dir = FW_SESSION_DIR_FOREIGN;
			return;
		}
		if (known == NULL || known->port != p->port ||
		    known->dir != dir || known->cb != cb) {
			fw_session_id_remember(s, ev->id, p->port, dir, cb);
			known = fw_session_id_find(s, ev->id);
			fw_session_count(dir == FW_SESSION_IN ? &p->in_pkts :
			    &p->out_pkts);
		}
	} else {
		if ((known = fw_session_id_find(s, ev->id)) == NULL ||
		    known->dir == FW_SESSION_DIR_FOREIGN)
			return;
		dir = known->dir;
		p = known->cb ? fw_session_cb_find(s, known->port, 0) :
		    fw_session_port_find(s, known->port);
		if (p == NULL)
			return;
	}
	if (dir == FW_SESSION_IN)
		p->in_seen = 1;
	else
		p->out_seen = 1;
	/* A reject is a drop that also sends an answer; either ends the
	 * packet's way through this host. */
	if (ev->verdict != FW_V_DROP || (ev->type != FW_TRACE_RULE &&
	    ev->type != FW_TRACE_POLICY))
		return;
	if (dir == FW_SESSION_IN)
		p->in_dropped = 1;
	else
		p->out_dropped = 1;
	/* One packet is dropped once, whatever else the kernel reports. */
	if (known != NULL && !known->dropped) {
		known->dropped = 1;
		fw_session_count(dir == FW_SESSION_IN ? &p->in_drops :
		    &p->out_drops);
	}
	if (p->rule >= 0)
		return;
	if ((ri = fw_session_rule_index(s, ev)) < 0) {
		char why[128];

		snprintf(why, sizeof(why), "more distinct dropping rules than "
		    "%s records", fw_session_actor(s));
		fw_session_set_incomplete(s, why);
		return;
	}
	p->rule = (int16_t)ri;
	p->rule_dir = dir;
}

static void
fw_session_event_cb(const struct fw_trace_event *ev, void *arg)
{
	fw_session_feed(arg, ev);
}

/* Read what is pending; 0 when nothing was, else > 0 or < 0. */
static int
fw_session_read_once(struct fw_session *s)
{
	char why[128];
	int n;

	if (s->l == NULL)
		return 0;
	n = fw_trace_read(s->l, fw_session_event_cb, s);
	if (n == FTP_ERR_SYSTEM && errno == ENOBUFS) {
		/* The listener stays usable; only completeness is lost. */
		snprintf(why, sizeof(why), "the kernel dropped trace events "
		    "(ENOBUFS): %s read them too slowly", fw_session_actor(s));
		fw_session_set_incomplete(s, why);
		return 1;
	}
	if (n < 0) {
		log_warnx("%s %s: reading trace events: %s", s->who, s->id,
		    ftp_strerror(n));
		fw_session_set_incomplete(s, "reading the trace events failed");
		/* Do not spin on a broken socket. */
		if (s->ev != NULL)
			event_del(s->ev);
		fw_trace_listener_free(s->l);
		s->l = NULL;
	}
	return n;
}

static void
fw_session_read_cb(evutil_socket_t fd, short what, void *arg)
{
	int i;

	(void)fd;
	(void)what;
	/* A probe storm makes events faster than one bounded read per loop
	 * turn takes them, and a full socket loses them (ENOBUFS): take a
	 * few bursts while they keep coming, still bounded. */
	for (i = 0; i < FW_SESSION_READ_BURSTS; i++)
		if (fw_session_read_once(arg) <= 0)
			break;
}

/* ---- life cycle ---- */

struct fw_session *
fw_session_new(struct event_base *base, const struct fw_session_spec *spec)
{
	struct fw_spec fs;
	struct fw_session *s;
	int r;

	if ((s = fw_session_alloc(spec)) == NULL)
		return NULL;
	s->base = base;
	if (spec->unusable != NULL) {
		fw_session_unavailable(s, "%s", spec->unusable);
		return s;
	}
	if (fw_id_check(s->id) != 0) {
		fw_session_unavailable(s, "%s", "no valid session id for the "
		    "table");
		goto out;
	}
	/* Listen first: events of probes sent right after set-up count. */
	if ((s->l = fw_trace_listener_new()) == NULL) {
		int e = errno;

		/* The common case, said in the words the reader can act on. */
		if (e == EPERM || e == EACCES)
			fw_session_unavailable(s, "nftables not usable by %s "
			    "(%s: no CAP_NET_ADMIN)", fw_session_actor(s),
			    e == EACCES ? "EACCES" : "EPERM");
		else
			fw_session_unavailable(s, "cannot listen to nftables "
			    "trace events (%s)", strerror(e));
		goto out;
	}
	if (spec->rcvbuf > 0 && fw_trace_listener_set_rcvbuf(s->l,
	    spec->rcvbuf) != 0)
		log_debug("%s %s: trace receive buffer: %s", s->who, s->id,
		    strerror(errno));
	if ((s->ev = event_new(base, fw_trace_fd(s->l), EV_READ | EV_PERSIST,
	    fw_session_read_cb, s)) == NULL || event_add(s->ev, NULL) != 0) {
		fw_session_unavailable(s, "%s", "cannot watch the trace socket");
		goto out;
	}
	if ((s->nl = fw_nl_open(NETLINK_NETFILTER)) == NULL) {
		fw_session_unavailable(s, "cannot open an nftables socket (%s)",
		    strerror(errno));
		goto out;
	}
	memset(&fs, 0, sizeof(fs));
	fs.id = s->id;
	memcpy(&fs.peer, &s->peer, sizeof(fs.peer));
	fs.ports = spec->ports;
	fs.nports = spec->nports;
	fs.parts = FW_PART_TRACE;
	fs.trace_active_port = s->active_port;
	if (spec->tproxy_to != NULL && s->role == FW_SESSION_SERVER) {
		fs.parts |= FW_PART_TPROXY;
		fs.tproxy_port = addr_port(spec->tproxy_to);
		fs.tproxy_mark = spec->tproxy_mark;
		memcpy(&fs.tproxy_addr, spec->tproxy_to,
		    addr_len(spec->tproxy_to));
		addr_set_port((struct sockaddr *)&fs.tproxy_addr, 0);
	}
	/* A crash must not leave the table behind: the kernel removes it
	 * with the socket that created it. */
	fs.flags = FW_F_OWNER;
	if (s->role == FW_SESSION_CLIENT)
		fs.flags |= FW_F_CLIENT;
	if ((r = fw_table_add(s->nl, &fs)) != 0) {
		fw_session_unavailable(s, "cannot create the session's "
		    "nftables table (%s)", ftp_strerror(r));
		goto out;
	}
	s->have_table = 1;
	log_debug("%s %s: table " FW_TABLE_PREFIX "%s up, %zu port(s)",
	    s->who, s->id, s->id, s->nports);
	return s;
out:
	log_warnx("%s %s: %s; the session runs without it", s->who, s->id,
	    s->reason);
	/* Keep nothing half set up: an unavailable session holds no fd. */
	if (s->ev != NULL)
		event_free(s->ev);
	s->ev = NULL;
	fw_trace_listener_free(s->l);
	s->l = NULL;
	fw_nl_free(s->nl);
	s->nl = NULL;
	return s;
}

/* Stop listening and remove our table; the records stay. */
static void
fw_session_release(struct fw_session *s)
{
	int r;

	if (s->ev != NULL)
		event_free(s->ev);
	s->ev = NULL;
	fw_trace_listener_free(s->l);
	s->l = NULL;
	/* Only the table this session created, by its exact name. */
	if (s->have_table && (r = fw_table_del(s->nl, s->id)) != 0)
		log_warnx("%s %s: removing table " FW_TABLE_PREFIX "%s: %s "
		    "(the kernel removes it with our socket)", s->who, s->id,
		    s->id, ftp_strerror(r));
	else if (s->have_table)
		log_debug("%s %s: table removed (%lu events)", s->who, s->id,
		    s->events);
	s->have_table = 0;
	fw_nl_free(s->nl);
	s->nl = NULL;
}

void
fw_session_stop(struct fw_session *s, const char *why)
{
	if (s == NULL)
		return;
	fw_session_collect(s);
	/* Packets from now on are not seen: absence proves nothing. */
	if (s->have_table || s->l != NULL)
		fw_session_set_incomplete(s, why);
	fw_session_release(s);
}

void
fw_session_free(struct fw_session *s)
{
	size_t i;

	if (s == NULL)
		return;
	fw_session_release(s);
	for (i = 0; i < s->nrules; i++)
		free(s->rules[i].text);
	free(s->ports);
	free(s);
}

/* ---- collect ---- */

void
fw_session_drain(struct fw_session *s)
{
	size_t i;

	for (i = 0; s != NULL && s->l != NULL && i < FW_SESSION_DRAIN_MAX; i++)
		if (fw_session_read_once(s) <= 0)
			break;
}

void
fw_session_collect(struct fw_session *s)
{
	struct fw_session_rule *r;
	size_t i;
	int e;

	if (s->drain != NULL && s->state != FW_SESSION_UNAVAILABLE)
		s->drain(s->drain_arg);
	for (i = 0; i < FW_SESSION_DRAIN_MAX &&
	    s->state != FW_SESSION_UNAVAILABLE; i++)
		if (fw_session_read_once(s) <= 0)
			break;
	for (i = 0; i < s->nrules; i++) {
		r = &s->rules[i];
		if (r->looked_up)
			continue;
		r->looked_up = 1;
		if (s->detached)
			continue;
		/* A policy has no text, but its chain still tells whether
		 * the firewall is stateful (the fix's style, patch.h). */
		if ((e = fw_rule_facts(r->family, r->table, r->chain,
		    r->has_handle, r->handle, &r->text, &r->related)) != 0) {
			r->text = NULL;
			log_info("%s %s: text of rule %s %s handle %llu: %s",
			    s->who, s->id, r->table, r->chain,
			    (unsigned long long)r->handle, ftp_strerror(e));
		}
	}
}
