/*
 * trace.c - server-side nftables trace of one session (see trace.h).
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
#include "fw_text.h"
#include "fw_trace.h"
#include "log.h"
#include "trace.h"

/* Distinct dropping rules kept per session; a host has few. */
#define TRACE_MAX_RULES		32
/* Recent trace ids remembered to attribute the header-less later events
 * of a packet; a packet's events arrive together, so a short memory is
 * enough. */
#define TRACE_IDS		1024
/* fw_trace_read() calls when draining at collect time (each reads a
 * bounded burst). */
#define TRACE_DRAIN_MAX		4096
/* fw_trace_read() calls per readable event on the loop. */
#define TRACE_READ_BURSTS	16

enum trace_dir {
	TRACE_DIR_IN = 1,	/* agent -> probe port */
	TRACE_DIR_OUT = 2,	/* probe port -> agent (the answer) */
};

struct trace_rule {
	int		 family;	/* NFPROTO_* of the table */
	char		 table[FW_TRACE_NAME_MAX];
	char		 chain[FW_TRACE_NAME_MAX];
	int		 has_handle;	/* 0: the chain's policy */
	uint64_t	 handle;
	int		 looked_up;
	char		*text;		/* NULL if unknown */
};

struct trace_port {
	uint16_t	 port;
	uint8_t		 syn_seen;
	uint8_t		 out_seen;
	uint8_t		 out_dropped;
	uint8_t		 rule_dir;	/* enum trace_dir of the drop */
	int16_t		 rule;		/* index into rules, -1: none */
};

struct trace_id {
	uint32_t	 id;
	uint16_t	 port;
	uint8_t		 dir;		/* 0: slot unused */
};

struct trace {
	struct event_base		*base;
	struct event			*ev;
	struct fw_trace_listener	*l;
	struct fw_nl			*nl;
	char				 id[FW_ID_MAX + 1];
	int				 have_table;
	int				 detached;
	struct sockaddr_storage		 peer;
	enum trace_state		 state;
	char				 reason[200];
	struct trace_port		*ports;	/* sorted by port */
	size_t				 nports;
	struct trace_rule		 rules[TRACE_MAX_RULES];
	size_t				 nrules;
	struct trace_id			 ids[TRACE_IDS];
	size_t				 id_next;
	unsigned long			 events;
};

/* Learned once at start-up (trace_startup): a process without
 * CAP_NET_ADMIN need not fail the same way for every session. */
static int trace_nft_unusable;
static char trace_nft_reason[160];

const char *
trace_state_name(enum trace_state st)
{
	switch (st) {
	case TRACE_ON:		return "on";
	case TRACE_UNAVAILABLE:	return "unavailable";
	case TRACE_INCOMPLETE:	return "incomplete";
	}
	return "unavailable";
}

void
trace_startup(void)
{
	unsigned removed = 0;
	int r, e;

	r = fw_cleanup_stale(&removed);
	e = errno;
	if (r == 0) {
		if (removed > 0)
			log_info("removed %u stale ftpath nftables table(s) and "
			    "policy route(s) of an earlier run", removed);
		else
			log_debug("no stale ftpath nftables tables or policy "
			    "routes");
		return;
	}
	if (e == EPERM || e == EACCES || r == FTP_ERR_DENIED) {
		trace_nft_unusable = 1;
		snprintf(trace_nft_reason, sizeof(trace_nft_reason),
		    "nftables not usable by the reflector (%s: no "
		    "CAP_NET_ADMIN)", e == EACCES ? "EACCES" : "EPERM");
		log_warnx("%s: no stale-table cleanup, sessions run without "
		    "the server-side trace", trace_nft_reason);
		return;
	}
	/* Something else (a kernel without nf_tables, a transient error):
	 * say so, and let each session try and report its own reason. */
	errno = e;
	log_warnx("stale nftables cleanup failed: %s", ftp_strerror(r));
}

static void trace_unavailable(struct trace *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
trace_unavailable(struct trace *t, const char *fmt, ...)
{
	va_list ap;

	t->state = TRACE_UNAVAILABLE;
	va_start(ap, fmt);
	vsnprintf(t->reason, sizeof(t->reason), fmt, ap);
	va_end(ap);
}

void
trace_set_incomplete(struct trace *t, const char *reason)
{
	if (t->state != TRACE_ON)
		return;
	t->state = TRACE_INCOMPLETE;
	snprintf(t->reason, sizeof(t->reason), "%s", reason);
	log_info("trace %s: incomplete: %s", t->id[0] ? t->id : "-", reason);
}

enum trace_state
trace_state(const struct trace *t)
{
	return t->state;
}

const char *
trace_reason(const struct trace *t)
{
	return t->reason[0] != '\0' ? t->reason : NULL;
}

static int
trace_port_cmp(const void *a, const void *b)
{
	const struct trace_port *x = a, *y = b;

	return (int)x->port - (int)y->port;
}

/* The probe ports, sorted, each once. */
static int
trace_ports_init(struct trace *t, uint16_t control_port,
    const struct portrange *passive)
{
	size_t n = 1, i, j;
	unsigned p;

	if (passive != NULL)
		n += portrange_count(passive);
	if ((t->ports = calloc(n, sizeof(*t->ports))) == NULL)
		return FTP_ERR_NOMEM;
	t->ports[0].port = control_port;
	i = 1;
	for (p = passive != NULL ? passive->lo : 1;
	    passive != NULL && p <= passive->hi; p++)
		t->ports[i++].port = (uint16_t)p;
	qsort(t->ports, n, sizeof(*t->ports), trace_port_cmp);
	for (i = j = 0; i < n; i++) {
		if (j > 0 && t->ports[j - 1].port == t->ports[i].port)
			continue;
		t->ports[j] = t->ports[i];
		t->ports[j].rule = -1;
		j++;
	}
	t->nports = j;
	return 0;
}

static struct trace_port *
trace_port_find(struct trace *t, uint16_t port)
{
	struct trace_port key = { .port = port };

	return bsearch(&key, t->ports, t->nports, sizeof(*t->ports),
	    trace_port_cmp);
}

static struct trace *
trace_alloc(const struct sockaddr *peer, uint16_t control_port,
    const struct portrange *passive)
{
	struct trace *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	memcpy(&t->peer, peer, addr_len(peer));
	addr_unmap(&t->peer);
	t->state = TRACE_ON;
	if (trace_ports_init(t, control_port, passive) != 0) {
		free(t);
		return NULL;
	}
	return t;
}

struct trace *
trace_new_detached(const struct sockaddr *peer, uint16_t control_port,
    const struct portrange *passive)
{
	struct trace *t = trace_alloc(peer, control_port, passive);

	if (t != NULL)
		t->detached = 1;
	return t;
}

/* ---- events ---- */

static void
trace_id_remember(struct trace *t, uint32_t id, uint16_t port, uint8_t dir)
{
	struct trace_id *s = &t->ids[t->id_next];

	s->id = id;
	s->port = port;
	s->dir = dir;
	t->id_next = (t->id_next + 1) % TRACE_IDS;
}

/* Newest first: an id the kernel reused belongs to the latest packet. */
static struct trace_id *
trace_id_find(struct trace *t, uint32_t id)
{
	size_t i, k;

	for (i = 0; i < TRACE_IDS; i++) {
		k = (t->id_next + TRACE_IDS - 1 - i) % TRACE_IDS;
		if (t->ids[k].dir == 0)
			return NULL;
		if (t->ids[k].id == id)
			return &t->ids[k];
	}
	return NULL;
}

/* Index of the rule an event names, added if new; -1 if the table of
 * rules is full. */
static int
trace_rule_index(struct trace *t, const struct fw_trace_event *ev)
{
	struct trace_rule *r;
	size_t i;
	int policy = ev->type == FW_TRACE_POLICY || !ev->has_handle;

	for (i = 0; i < t->nrules; i++) {
		r = &t->rules[i];
		if (r->family == ev->family && r->has_handle == !policy &&
		    (policy || r->handle == ev->handle) &&
		    strcmp(r->table, ev->table) == 0 &&
		    strcmp(r->chain, ev->chain) == 0)
			return (int)i;
	}
	if (t->nrules == TRACE_MAX_RULES)
		return -1;
	r = &t->rules[t->nrules];
	memset(r, 0, sizeof(*r));
	r->family = ev->family;
	snprintf(r->table, sizeof(r->table), "%s", ev->table);
	snprintf(r->chain, sizeof(r->chain), "%s", ev->chain);
	r->has_handle = !policy;
	r->handle = policy ? 0 : ev->handle;
	return (int)t->nrules++;
}

void
trace_feed(struct trace *t, const struct fw_trace_event *ev)
{
	const struct sockaddr *src = (const struct sockaddr *)&ev->src;
	const struct sockaddr *dst = (const struct sockaddr *)&ev->dst;
	const struct sockaddr *peer = (const struct sockaddr *)&t->peer;
	struct trace_port *p = NULL;
	struct trace_id *known;
	uint8_t dir = 0;
	int ri;

	t->events++;
	if (ev->has_tuple) {
		if (ev->l4proto == IPPROTO_TCP && addr_equal(src, peer) &&
		    (p = trace_port_find(t, addr_port(dst))) != NULL)
			dir = TRACE_DIR_IN;
		else if (ev->l4proto == IPPROTO_TCP && addr_equal(dst, peer) &&
		    (p = trace_port_find(t, addr_port(src))) != NULL)
			dir = TRACE_DIR_OUT;
		known = trace_id_find(t, ev->id);
		if (p == NULL) {
			/* The id now names a packet that is not ours. */
			if (known != NULL)
				known->dir = 0xff;
			return;
		}
		if (known == NULL || known->port != p->port ||
		    known->dir != dir)
			trace_id_remember(t, ev->id, p->port, dir);
	} else {
		if ((known = trace_id_find(t, ev->id)) == NULL ||
		    known->dir == 0xff)
			return;
		dir = known->dir;
		p = trace_port_find(t, known->port);
		if (p == NULL)
			return;
	}
	if (dir == TRACE_DIR_IN)
		p->syn_seen = 1;
	else
		p->out_seen = 1;
	/* A reject is a drop that also sends an answer; either ends the
	 * packet's way through this host. */
	if (ev->verdict != FW_V_DROP || (ev->type != FW_TRACE_RULE &&
	    ev->type != FW_TRACE_POLICY))
		return;
	if (dir == TRACE_DIR_OUT)
		p->out_dropped = 1;
	if (p->rule >= 0)
		return;
	if ((ri = trace_rule_index(t, ev)) < 0) {
		trace_set_incomplete(t, "more distinct dropping rules than "
		    "the reflector records");
		return;
	}
	p->rule = (int16_t)ri;
	p->rule_dir = dir;
}

static void
trace_event_cb(const struct fw_trace_event *ev, void *arg)
{
	trace_feed(arg, ev);
}

/* Read what is pending; 0 when nothing was, else > 0 or < 0. */
static int
trace_read_once(struct trace *t)
{
	int n;

	if (t->l == NULL)
		return 0;
	n = fw_trace_read(t->l, trace_event_cb, t);
	if (n == FTP_ERR_SYSTEM && errno == ENOBUFS) {
		/* The listener stays usable; only completeness is lost. */
		trace_set_incomplete(t, "the kernel dropped trace events "
		    "(ENOBUFS): the reflector read them too slowly");
		return 1;
	}
	if (n < 0) {
		log_warnx("trace %s: reading trace events: %s", t->id,
		    ftp_strerror(n));
		trace_set_incomplete(t, "reading the trace events failed");
		/* Do not spin on a broken socket. */
		if (t->ev != NULL)
			event_del(t->ev);
		fw_trace_listener_free(t->l);
		t->l = NULL;
	}
	return n;
}

static void
trace_read_cb(evutil_socket_t fd, short what, void *arg)
{
	int i;

	(void)fd;
	(void)what;
	/* A probe storm makes events faster than one bounded read per loop
	 * turn takes them, and a full socket loses them (ENOBUFS): take a
	 * few bursts while they keep coming, still bounded. */
	for (i = 0; i < TRACE_READ_BURSTS; i++)
		if (trace_read_once(arg) <= 0)
			break;
}

/* ---- life cycle ---- */

struct trace *
trace_new(struct event_base *base, const char *id,
    const struct sockaddr *peer, uint16_t control_port,
    const struct portrange *passive)
{
	struct portrange pr[2];
	struct fw_spec spec;
	struct trace *t;
	int r;

	if ((t = trace_alloc(peer, control_port, passive)) == NULL)
		return NULL;
	t->base = base;
	snprintf(t->id, sizeof(t->id), "%s", id);
	if (trace_nft_unusable) {
		trace_unavailable(t, "%s", trace_nft_reason);
		return t;
	}
	if (fw_id_check(t->id) != 0) {
		trace_unavailable(t, "%s", "no valid session id for the table");
		goto out;
	}
	/* Listen first: events of probes sent right after "armed" count. */
	if ((t->l = fw_trace_listener_new()) == NULL) {
		trace_unavailable(t, "cannot listen to nftables trace events "
		    "(%s)", strerror(errno));
		goto out;
	}
	t->ev = event_new(base, fw_trace_fd(t->l), EV_READ | EV_PERSIST,
	    trace_read_cb, t);
	if (t->ev == NULL || event_add(t->ev, NULL) != 0) {
		trace_unavailable(t, "%s", "cannot watch the trace socket");
		goto out;
	}
	if ((t->nl = fw_nl_open(NETLINK_NETFILTER)) == NULL) {
		trace_unavailable(t, "cannot open an nftables socket (%s)",
		    strerror(errno));
		goto out;
	}
	memset(&spec, 0, sizeof(spec));
	spec.id = t->id;
	memcpy(&spec.peer, &t->peer, sizeof(spec.peer));
	pr[0].lo = pr[0].hi = control_port;
	spec.nports = 1;
	if (passive != NULL)
		pr[spec.nports++] = *passive;
	spec.ports = pr;
	spec.parts = FW_PART_TRACE;
	/* A crash must not leave the table behind: the kernel removes it
	 * with the socket that created it. */
	spec.flags = FW_F_OWNER;
	if ((r = fw_table_add(t->nl, &spec)) != 0) {
		trace_unavailable(t, "cannot create the session's nftables "
		    "table (%s)", ftp_strerror(r));
		goto out;
	}
	t->have_table = 1;
	log_debug("trace %s: table " FW_TABLE_PREFIX "%s up, %zu port(s)",
	    t->id, t->id, t->nports);
	return t;
out:
	log_warnx("trace %s: %s; the session runs without it", t->id,
	    t->reason);
	/* Keep nothing half set up: an unavailable trace holds no fd. */
	if (t->ev != NULL)
		event_free(t->ev);
	t->ev = NULL;
	fw_trace_listener_free(t->l);
	t->l = NULL;
	fw_nl_free(t->nl);
	t->nl = NULL;
	return t;
}

void
trace_free(struct trace *t)
{
	size_t i;
	int r;

	if (t == NULL)
		return;
	if (t->ev != NULL)
		event_free(t->ev);
	fw_trace_listener_free(t->l);
	if (t->have_table && (r = fw_table_del(t->nl, t->id)) != 0)
		log_warnx("trace %s: removing table " FW_TABLE_PREFIX "%s: %s "
		    "(the kernel removes it with our socket)", t->id, t->id,
		    ftp_strerror(r));
	else if (t->have_table)
		log_debug("trace %s: table removed (%lu events)", t->id,
		    t->events);
	fw_nl_free(t->nl);
	for (i = 0; i < t->nrules; i++)
		free(t->rules[i].text);
	free(t->ports);
	free(t);
}

/* ---- observations ---- */

static void
trace_lookup_rules(struct trace *t)
{
	struct trace_rule *r;
	size_t i;
	int e;

	for (i = 0; i < t->nrules; i++) {
		r = &t->rules[i];
		if (r->looked_up)
			continue;
		r->looked_up = 1;
		if (!r->has_handle || t->detached)
			continue;
		if ((e = fw_rule_text(r->family, r->table, r->chain, r->handle,
		    &r->text)) != 0) {
			r->text = NULL;
			log_info("trace %s: text of rule %s %s handle %llu: %s",
			    t->id, r->table, r->chain,
			    (unsigned long long)r->handle, ftp_strerror(e));
		}
	}
}

static json_t *
trace_verdict_json(const struct trace *t, const struct trace_port *p)
{
	const struct trace_rule *r;
	const char *fam;
	json_t *o;
	int reject;

	if (p->rule < 0)
		return json_null();
	r = &t->rules[p->rule];
	if ((o = json_object()) == NULL)
		return NULL;
	fam = fw_family_name(r->family);
	reject = r->text != NULL && strstr(r->text, "reject") != NULL;
	json_object_set_new(o, "family", fam != NULL ? json_string(fam) :
	    json_null());
	json_object_set_new(o, "table", json_string(r->table));
	json_object_set_new(o, "chain", json_string(r->chain));
	json_object_set_new(o, "handle", r->has_handle ?
	    json_integer((json_int_t)r->handle) : json_null());
	json_object_set_new(o, "verdict", json_string(reject ? "reject" :
	    "drop"));
	if (!r->has_handle)
		json_object_set_new(o, "rule", json_string("policy drop"));
	else
		json_object_set_new(o, "rule", r->text != NULL ?
		    json_string(r->text) : json_null());
	json_object_set_new(o, "direction", json_string(
	    p->rule_dir == TRACE_DIR_OUT ? "out" : "in"));
	return o;
}

static int
trace_same(const struct trace_port *a, const struct trace_port *b)
{
	return a->syn_seen == b->syn_seen &&
	    (a->out_seen && !a->out_dropped) ==
	    (b->out_seen && !b->out_dropped) &&
	    a->rule == b->rule && (a->rule < 0 || a->rule_dir == b->rule_dir);
}

static json_t *
trace_run_json(const struct trace *t, const struct trace_port *lo,
    const struct trace_port *hi)
{
	char range[16];
	json_t *o, *v;

	if (lo->port == hi->port)
		snprintf(range, sizeof(range), "%u", lo->port);
	else
		snprintf(range, sizeof(range), "%u-%u", lo->port, hi->port);
	if ((o = json_object()) == NULL)
		return NULL;
	if ((v = trace_verdict_json(t, lo)) == NULL) {
		json_decref(o);
		return NULL;
	}
	json_object_set_new(o, "ports", json_string(range));
	json_object_set_new(o, "syn_seen", json_boolean(lo->syn_seen));
	json_object_set_new(o, "synack_sent", json_boolean(lo->out_seen &&
	    !lo->out_dropped));
	json_object_set_new(o, "verdict", v);
	return o;
}

/* Append one run within the byte budget; 1 if it did not fit. */
static int
trace_append_run(const struct trace *t, json_t *runs, size_t lo, size_t hi,
    size_t *used)
{
	json_t *o;
	size_t sz;

	if ((o = trace_run_json(t, &t->ports[lo], &t->ports[hi])) == NULL)
		return FTP_ERR_NOMEM;
	sz = json_dumpb(o, NULL, 0, JSON_COMPACT) + 1;
	if (*used + sz > TRACE_JSON_MAX) {
		json_decref(o);
		return 1;
	}
	*used += sz;
	return json_array_append_new(runs, o) == 0 ? 0 : FTP_ERR_NOMEM;
}

/* Which ports some probe arrived on (a bitmap over all ports). */
static uint8_t *
trace_arrived_map(const struct listener_set *ls)
{
	uint8_t *map;
	size_t i, n;

	if ((map = calloc(65536 / 8, 1)) == NULL)
		return NULL;
	n = ls != NULL ? listener_set_narrivals(ls) : 0;
	for (i = 0; i < n; i++) {
		uint16_t port = addr_port((const struct sockaddr *)
		    &listener_set_arrival(ls, i)->local);

		map[port / 8] |= (uint8_t)(1u << (port % 8));
	}
	return map;
}

static int
trace_runs(const struct trace *t, const uint8_t *arrived, json_t *runs,
    size_t *used, int *truncated)
{
	size_t i, lo = 0;
	int have = 0, r;

	for (i = 0; i < t->nports; i++) {
		uint16_t port = t->ports[i].port;
		int skip = (arrived[port / 8] >> (port % 8)) & 1;

		if (have && !skip && t->ports[i - 1].port + 1 == port &&
		    trace_same(&t->ports[lo], &t->ports[i]))
			continue;
		if (have && (r = trace_append_run(t, runs, lo, i - 1,
		    used)) != 0)
			goto stop;
		have = !skip;
		lo = i;
	}
	if (have && (r = trace_append_run(t, runs, lo, t->nports - 1,
	    used)) != 0)
		goto stop;
	return 0;
stop:
	if (r == 1)
		*truncated = 1;
	return r < 0 ? r : 0;
}

int
trace_observations(struct trace *t, const struct listener_set *ls,
    json_t *obs, size_t *bytes)
{
	json_t *st, *runs;
	uint8_t *arrived = NULL;
	size_t used = 0, i;
	int truncated = 0, r = FTP_ERR_NOMEM;

	*bytes = 0;
	if ((st = json_object()) == NULL)
		return FTP_ERR_NOMEM;
	if (json_object_set_new(obs, "trace", st) != 0)
		return FTP_ERR_NOMEM;
	if ((runs = json_array()) == NULL ||
	    json_object_set_new(obs, "traces", runs) != 0)
		return FTP_ERR_NOMEM;
	if (t == NULL) {
		json_object_set_new(st, "state", json_string("unavailable"));
		json_object_set_new(st, "reason", json_string(
		    "no plan armed, or no memory for a trace"));
		json_object_set_new(obs, "traces_truncated", json_false());
		goto size;
	}
	/* Events still queued belong to probes that already ended. */
	for (i = 0; i < TRACE_DRAIN_MAX && t->state != TRACE_UNAVAILABLE; i++)
		if (trace_read_once(t) <= 0)
			break;
	json_object_set_new(st, "state", json_string(trace_state_name(
	    t->state)));
	json_object_set_new(st, "reason", trace_reason(t) != NULL ?
	    json_string(trace_reason(t)) : json_null());
	if (t->state != TRACE_UNAVAILABLE) {
		trace_lookup_rules(t);
		if ((arrived = trace_arrived_map(ls)) == NULL)
			goto out;
		if ((r = trace_runs(t, arrived, runs, &used, &truncated)) != 0)
			goto out;
	}
	json_object_set_new(obs, "traces_truncated", json_boolean(truncated));
size:
	*bytes = json_dumpb(st, NULL, 0, JSON_COMPACT) + used + 64;
	r = 0;
out:
	free(arrived);
	return r;
}
