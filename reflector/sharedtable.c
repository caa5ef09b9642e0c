/*
 * sharedtable.c - the reflector's one table and one trace listener (see
 * sharedtable.h).
 */
#include <errno.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/queue.h>

#include "clock.h"
#include "err.h"
#include "fw.h"
#include "fw_shared.h"
#include "fw_trace.h"
#include "log.h"
#include "privops.h"
#include "sharedtable.h"

/* Subscriptions hash on the agent's address. */
#define ST_BUCKETS	1024
/* Trace ids remembered for the header-less later events of a packet,
 * probed linearly ST_ID_PROBE slots from the id's hash. */
#define ST_IDS		16384
#define ST_ID_PROBE	8
/* fw_trace_read() calls per readable event, and when draining. */
#define ST_READ_BURSTS	32
#define ST_DRAIN_MAX	4096
/* Element batches: one entry per merged range and set. */
#define ST_RANGES_MAX	FW_PORTS_MAX

struct st_key {
	uint8_t		 fam;
	uint8_t		 a[16];
};

struct st_elem {
	LIST_ENTRY(st_elem)	 entry;
	enum fw_shared_set	 which;
	struct st_key		 k;
	struct sockaddr_storage	 peer;	/* for the batches, port 0 */
	struct portrange	 r;	/* unused for FW_SHARED_ACTIVE */
	unsigned		 refs;
};

struct sharedtable_sub {
	LIST_ENTRY(sharedtable_sub) entry;	/* hash bucket */
	struct st_key		 k;
	struct fw_session	*fs;
	struct st_elem		**elems;
	size_t			 nelems;
};

struct st_id {
	uint32_t	 id;
	uint32_t	 age;
	struct st_key	 k;
	uint8_t		 used;
};

LIST_HEAD(st_sub_list, sharedtable_sub);
LIST_HEAD(st_elem_list, st_elem);

struct sharedtable {
	struct event_base		*base;
	uint16_t			 active_port;
	uint32_t			 mark;
	uint64_t			 timeout_ms;
	int				 up;
	struct fw_trace_listener	*l;
	struct event			*ev;
	int				 tproxy_set[2];
	struct sockaddr_storage		 tproxy_to[2];
	struct st_elem_list		 elems;
	struct st_sub_list		 buckets[ST_BUCKETS];
	size_t				 nsubs;
	unsigned long			 overflows;
	uint32_t			 id_age;
	struct st_id			 ids[ST_IDS];
};

/* A planned element of one arming. */
struct st_want {
	enum fw_shared_set	 which;
	struct portrange	 r;
	struct st_elem		*have;
};

/* ---- keys ---- */

static int
st_key(struct st_key *k, const struct sockaddr *sa)
{
	memset(k, 0, sizeof(*k));
	if (sa->sa_family == AF_INET) {
		k->fam = 4;
		memcpy(k->a, &((const struct sockaddr_in *)(const void *)sa)
		    ->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		k->fam = 6;
		memcpy(k->a, &((const struct sockaddr_in6 *)(const void *)sa)
		    ->sin6_addr, 16);
		return 0;
	}
	return FTP_ERR_INVAL;
}

static int
st_key_eq(const struct st_key *a, const struct st_key *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

static unsigned
st_key_hash(const struct st_key *k)
{
	uint32_t h = 2166136261u;
	size_t i;

	h = (h ^ k->fam) * 16777619u;
	for (i = 0; i < sizeof(k->a); i++)
		h = (h ^ k->a[i]) * 16777619u;
	return h & (ST_BUCKETS - 1);
}

/* ---- trace ids ---- */

static struct st_id *
st_id_find(struct sharedtable *st, uint32_t id)
{
	size_t i, k = (id * 2654435761u) & (ST_IDS - 1);

	for (i = 0; i < ST_ID_PROBE; i++) {
		struct st_id *s = &st->ids[(k + i) & (ST_IDS - 1)];

		if (s->used && s->id == id)
			return s;
	}
	return NULL;
}

/* Remember id's packet as k's; the slot of the same id, a free one or
 * the oldest of the probe window. */
static void
st_id_put(struct sharedtable *st, uint32_t id, const struct st_key *k)
{
	size_t i, base = (id * 2654435761u) & (ST_IDS - 1);
	struct st_id *pick = st_id_find(st, id), *s;

	for (i = 0; pick == NULL && i < ST_ID_PROBE; i++) {
		s = &st->ids[(base + i) & (ST_IDS - 1)];
		if (!s->used)
			pick = s;
	}
	if (pick == NULL) {
		pick = &st->ids[base];
		for (i = 1; i < ST_ID_PROBE; i++) {
			s = &st->ids[(base + i) & (ST_IDS - 1)];
			if (s->age < pick->age)
				pick = s;
		}
	}
	pick->id = id;
	pick->k = *k;
	pick->used = 1;
	pick->age = ++st->id_age;
}

/* ---- the listener ---- */

/* Feed ev to every subscription of k; 1 if there was one. */
static int
st_feed_key(struct sharedtable *st, const struct st_key *k,
    const struct fw_trace_event *ev)
{
	struct sharedtable_sub *sub;
	int any = 0;

	LIST_FOREACH(sub, &st->buckets[st_key_hash(k)], entry) {
		if (!st_key_eq(&sub->k, k))
			continue;
		fw_session_feed(sub->fs, ev);
		any = 1;
	}
	return any;
}

static void
st_event_cb(const struct fw_trace_event *ev, void *arg)
{
	struct sharedtable *st = arg;
	struct st_key ks, kd;
	struct st_id *known;
	int in, out = 0;

	if (!ev->has_tuple) {
		if ((known = st_id_find(st, ev->id)) != NULL)
			(void)st_feed_key(st, &known->k, ev);
		return;
	}
	if (ev->l4proto != IPPROTO_TCP ||
	    st_key(&ks, (const struct sockaddr *)&ev->src) != 0 ||
	    st_key(&kd, (const struct sockaddr *)&ev->dst) != 0)
		return;
	in = st_feed_key(st, &ks, ev);
	if (!st_key_eq(&ks, &kd))
		out = st_feed_key(st, &kd, ev);
	if (in || out)
		st_id_put(st, ev->id, in ? &ks : &kd);
	else if ((known = st_id_find(st, ev->id)) != NULL)
		known->used = 0;	/* the id now names another packet */
}

static void
st_incomplete_all(struct sharedtable *st, const char *why)
{
	struct sharedtable_sub *sub;
	size_t i;

	for (i = 0; i < ST_BUCKETS; i++)
		LIST_FOREACH(sub, &st->buckets[i], entry)
			fw_session_set_incomplete(sub->fs, why);
}

/* Read what is pending; 0 when nothing was, else > 0 or < 0. */
static int
st_read_once(struct sharedtable *st)
{
	int n;

	if (st->l == NULL)
		return 0;
	n = fw_trace_read(st->l, st_event_cb, st);
	if (n == FTP_ERR_SYSTEM && errno == ENOBUFS) {
		/* Whose events were lost is unknown: everyone's. */
		st->overflows++;
		st_incomplete_all(st, "the kernel dropped trace events "
		    "(ENOBUFS): the reflector read them too slowly");
		return 1;
	}
	if (n < 0) {
		log_warnx("sharedtable: reading trace events: %s",
		    ftp_strerror(n));
		st_incomplete_all(st, "reading the trace events failed");
		event_del(st->ev);
		fw_trace_listener_free(st->l);
		st->l = NULL;
	}
	return n;
}

static void
st_read_cb(evutil_socket_t fd, short what, void *arg)
{
	int i;

	(void)fd;
	(void)what;
	for (i = 0; i < ST_READ_BURSTS; i++)
		if (st_read_once(arg) <= 0)
			break;
}

void
sharedtable_drain(void *arg)
{
	struct sharedtable *st = arg;
	int i;

	for (i = 0; i < ST_DRAIN_MAX; i++)
		if (st_read_once(st) <= 0)
			break;
}

/* ---- the table ---- */

static void
st_close(struct sharedtable *st)
{
	if (st->ev != NULL)
		event_free(st->ev);
	st->ev = NULL;
	fw_trace_listener_free(st->l);
	st->l = NULL;
	st->up = 0;
	st->tproxy_set[0] = st->tproxy_set[1] = 0;
}

/* The trace listener (its socket made where the capability is). */
static int
st_listen(struct sharedtable *st, char *why, size_t whylen)
{
	int fd = -1, e;

	if (privops_trace_socket(&fd, FW_TRACE_RCVBUF_LARGE) != 0 ||
	    (st->l = fw_trace_listener_from_fd(fd)) == NULL) {
		e = errno;
		if (fd != -1)
			close(fd);
		if (e == EPERM || e == EACCES)
			snprintf(why, whylen, "nftables not usable by the "
			    "reflector (%s: no CAP_NET_ADMIN)", e == EACCES ?
			    "EACCES" : "EPERM");
		else
			snprintf(why, whylen, "cannot listen to nftables trace "
			    "events (%s)", strerror(e));
		return FTP_ERR_SYSTEM;
	}
	return 0;
}

/* Listen first (no event of the first probes is missed), then create
 * the table. */
static int
st_up(struct sharedtable *st, char *why, size_t whylen)
{
	int r;

	if (st->up)
		return 0;
	if (st_listen(st, why, whylen) != 0)
		goto fail;
	st->ev = event_new(st->base, fw_trace_fd(st->l), EV_READ | EV_PERSIST,
	    st_read_cb, st);
	if (st->ev == NULL || event_add(st->ev, NULL) != 0) {
		snprintf(why, whylen, "cannot watch the trace socket");
		goto fail;
	}
	if ((r = privops_table(1, st->active_port)) != 0) {
		snprintf(why, whylen, "cannot create the nftables table "
		    FW_TABLE_PREFIX FW_SHARED_ID " (%s)", ftp_strerror(r));
		goto fail;
	}
	st->up = 1;
	log_debug("sharedtable: table " FW_TABLE_PREFIX FW_SHARED_ID " up");
	return 0;
fail:
	st_close(st);
	return FTP_ERR_SYSTEM;
}

/* The last session went: remove the table (its elements with it). */
static void
st_down(struct sharedtable *st)
{
	int r;

	if (!st->up)
		return;
	if ((r = privops_table(0, 0)) != 0)
		log_warnx("sharedtable: removing table " FW_TABLE_PREFIX
		    FW_SHARED_ID ": %s (the kernel removes it with its owner's "
		    "socket)", ftp_strerror(r));
	else
		log_debug("sharedtable: table removed");
	st_close(st);
}

static int
st_tproxy(struct sharedtable *st, const struct sockaddr *to, char *why,
    size_t whylen)
{
	int i = to->sa_family == AF_INET6;
	int r;

	if (st->tproxy_set[i] && addr_equal((const struct sockaddr *)
	    &st->tproxy_to[i], to) && addr_port((const struct sockaddr *)
	    &st->tproxy_to[i]) == addr_port(to))
		return 0;
	if ((r = privops_tproxy_rule(to, st->mark)) != 0) {
		snprintf(why, whylen, "cannot install the tproxy rule (%s)",
		    ftp_strerror(r));
		return r;
	}
	memcpy(&st->tproxy_to[i], to, addr_len(to));
	st->tproxy_set[i] = 1;
	return 0;
}

/* One element operation of a transaction (privmsg.h). */
static void
st_op(struct privmsg_op *op, int add, enum fw_shared_set which,
    const struct portrange *r)
{
	op->add = (uint8_t)(add != 0);
	op->which = (uint8_t)which;
	op->lo = r->lo;
	op->hi = r->hi;
}

/* ---- elements ---- */

static struct st_elem *
st_elem_find(struct sharedtable *st, enum fw_shared_set which,
    const struct st_key *k, const struct portrange *r, int *conflict)
{
	struct st_elem *e;

	LIST_FOREACH(e, &st->elems, entry) {
		if (e->which != which || !st_key_eq(&e->k, k))
			continue;
		if (which == FW_SHARED_ACTIVE ||
		    (e->r.lo == r->lo && e->r.hi == r->hi))
			return e;
		if (r->lo <= e->r.hi && e->r.lo <= r->hi)
			*conflict = 1;
	}
	return NULL;
}

static int
st_range_cmp(const void *a, const void *b)
{
	const struct portrange *x = a, *y = b;

	return (int)x->lo - (int)y->lo;
}

/* Sort and merge overlapping or adjacent ranges into out (n at most). */
static size_t
st_merge(const struct portrange *pr, size_t n, struct portrange *out)
{
	size_t i, k = 0;

	memcpy(out, pr, n * sizeof(*pr));
	qsort(out, n, sizeof(*out), st_range_cmp);
	for (i = 1; i < n; i++) {
		if ((uint32_t)out[i].lo <= (uint32_t)out[k].hi + 1) {
			if (out[i].hi > out[k].hi)
				out[k].hi = out[i].hi;
		} else
			out[++k] = out[i];
	}
	return n == 0 ? 0 : k + 1;
}

/* The elements one arming needs; *nw of them in w (room for 2n + 1). */
static size_t
st_wants(const struct portrange *m, size_t n, int divert, int active,
    struct st_want *w)
{
	size_t i, nw = 0;

	for (i = 0; i < n; i++) {
		w[nw].which = FW_SHARED_PROBE;
		w[nw++].r = m[i];
		if (divert) {
			w[nw].which = FW_SHARED_DIVERT;
			w[nw++].r = m[i];
		}
	}
	if (active) {
		w[nw].which = FW_SHARED_ACTIVE;
		w[nw].r.lo = w[nw].r.hi = 0;
		nw++;
	}
	return nw;
}

/* Put every wanted element; one already there (another session's) is
 * deleted and added again in the same transaction: that renews its
 * timeout for this session's lifetime. */
/* The arming's transaction: a shared element is deleted and added
 * again, which renews its timeout. */
static size_t
st_put_wants(const struct st_want *w, size_t nw, struct privmsg_op *ops)
{
	size_t i, n = 0;

	for (i = 0; i < nw; i++) {
		if (w[i].have != NULL)
			st_op(&ops[n++], 0, w[i].which, &w[i].r);
		st_op(&ops[n++], 1, w[i].which, &w[i].r);
	}
	return n;
}

/* After the transaction: count the references. */
static int
st_take_wants(struct sharedtable *st, const struct st_key *k,
    const struct sockaddr *peer, struct st_want *w, size_t nw,
    struct sharedtable_sub *sub)
{
	struct st_elem *e;
	size_t i;

	for (i = 0; i < nw; i++) {
		if ((e = w[i].have) == NULL) {
			if ((e = calloc(1, sizeof(*e))) == NULL)
				return FTP_ERR_NOMEM;
			e->which = w[i].which;
			e->k = *k;
			memcpy(&e->peer, peer, addr_len(peer));
			e->r = w[i].r;
			LIST_INSERT_HEAD(&st->elems, e, entry);
		}
		e->refs++;
		sub->elems[sub->nelems++] = e;
	}
	return 0;
}

int
sharedtable_arm(struct sharedtable *st, struct fw_session *fs,
    const struct sockaddr *peer, const struct portrange *pr, size_t npr,
    int trace_active, const struct sockaddr *divert_to,
    struct sharedtable_sub **out, char *why, size_t whylen)
{
	struct portrange m[ST_RANGES_MAX];
	struct st_want w[2 * ST_RANGES_MAX + 1];
	struct sharedtable_sub *sub = NULL;
	struct privmsg_op *ops = NULL;
	struct st_key k;
	size_t n, nw, i;
	int r, conflict = 0;

	snprintf(why, whylen, "no memory");
	if (npr == 0 || npr > ST_RANGES_MAX || st_key(&k, peer) != 0) {
		snprintf(why, whylen, "bad arming request");
		return FTP_ERR_INVAL;
	}
	n = st_merge(pr, npr, m);
	nw = st_wants(m, n, divert_to != NULL, trace_active &&
	    st->active_port != 0, w);
	for (i = 0; i < nw; i++)
		w[i].have = st_elem_find(st, w[i].which, &k, &w[i].r,
		    &conflict);
	if (conflict) {
		snprintf(why, whylen, "another session from this address "
		    "holds overlapping ports");
		return FTP_ERR_AGAIN;
	}
	if ((r = st_up(st, why, whylen)) != 0)
		return r;
	if (divert_to != NULL && (r = st_tproxy(st, divert_to, why,
	    whylen)) != 0)
		goto fail;
	r = FTP_ERR_NOMEM;
	if ((sub = calloc(1, sizeof(*sub))) == NULL ||
	    (sub->elems = calloc(nw, sizeof(*sub->elems))) == NULL ||
	    (ops = calloc(2 * nw, sizeof(*ops))) == NULL)
		goto fail;
	if ((r = privops_elems(peer, ops, st_put_wants(w, nw, ops),
	    st->timeout_ms)) != 0) {
		snprintf(why, whylen, "cannot add the session's set elements "
		    "(%s)", ftp_strerror(r));
		goto fail;
	}
	free(ops);
	ops = NULL;
	sub->k = k;
	sub->fs = fs;
	LIST_INSERT_HEAD(&st->buckets[st_key_hash(&k)], sub, entry);
	st->nsubs++;
	/* Counted even on no memory: the kernel holds them now, and
	 * disarming this sub deletes exactly what it counted. */
	if ((r = st_take_wants(st, &k, peer, w, nw, sub)) != 0) {
		sharedtable_disarm(st, sub);
		return r;
	}
	*out = sub;
	return 0;
fail:
	free(ops);
	if (sub != NULL)
		free(sub->elems);
	free(sub);
	if (st->nsubs == 0)
		st_down(st);
	return r;
}

/* Delete elements one by one, for a batch the kernel refused (one had
 * expired: ENOENT aborts the whole transaction). */
static void
st_del_each(struct st_elem **dead, size_t n)
{
	struct privmsg_op op;
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		st_op(&op, 0, dead[i]->which, &dead[i]->r);
		if ((r = privops_elems((const struct sockaddr *)&dead[i]->peer,
		    &op, 1, 0)) != 0 && r != FTP_ERR_NOTFOUND)
			log_warnx("sharedtable: removing an element: %s "
			    "(its timeout removes it)", ftp_strerror(r));
	}
}

/* Elements no session holds any more, of one peer each: one transaction
 * per peer in a row, one by one if the kernel refuses it (an element
 * that expired makes ENOENT abort the whole transaction). */
static void
st_del_dead(struct st_elem **dead, size_t n)
{
	struct privmsg_op *ops;
	size_t i, j, k;

	if ((ops = calloc(n, sizeof(*ops))) == NULL) {
		st_del_each(dead, n);
		return;
	}
	for (i = 0; i < n; i = j) {
		for (j = i, k = 0; j < n && addr_equal((const struct sockaddr *)
		    &dead[j]->peer, (const struct sockaddr *)&dead[i]->peer);
		    j++)
			st_op(&ops[k++], 0, dead[j]->which, &dead[j]->r);
		if (privops_elems((const struct sockaddr *)&dead[i]->peer, ops,
		    k, 0) != 0)
			st_del_each(dead + i, j - i);
	}
	free(ops);
}

void
sharedtable_disarm(struct sharedtable *st, struct sharedtable_sub *sub)
{
	struct st_elem **dead;
	size_t i, ndead = 0;

	if (sub == NULL)
		return;
	LIST_REMOVE(sub, entry);
	st->nsubs--;
	dead = calloc(sub->nelems + 1, sizeof(*dead));
	for (i = 0; i < sub->nelems; i++) {
		struct st_elem *e = sub->elems[i];

		if (--e->refs > 0)
			continue;
		LIST_REMOVE(e, entry);
		if (dead != NULL)
			dead[ndead++] = e;
		else
			free(e);
	}
	if (st->nsubs == 0) {
		st_down(st);	/* the elements go with the table */
	} else if (ndead > 0 && st->up) {
		st_del_dead(dead, ndead);
	}
	for (i = 0; i < ndead; i++)
		free(dead[i]);
	free(dead);
	free(sub->elems);
	free(sub);
}

/* ---- life cycle ---- */

struct sharedtable *
sharedtable_new(struct event_base *base, uint16_t active_port, uint32_t mark,
    uint64_t elem_timeout_ms)
{
	struct sharedtable *st;
	size_t i;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return NULL;
	st->base = base;
	st->active_port = active_port;
	st->mark = mark;
	st->timeout_ms = elem_timeout_ms;
	LIST_INIT(&st->elems);
	for (i = 0; i < ST_BUCKETS; i++)
		LIST_INIT(&st->buckets[i]);
	return st;
}

void
sharedtable_free(struct sharedtable *st)
{
	struct st_elem *e;

	if (st == NULL)
		return;
	if (st->nsubs != 0)
		log_warnx("sharedtable: %zu sessions still armed at exit",
		    st->nsubs);
	st_down(st);
	while ((e = LIST_FIRST(&st->elems)) != NULL) {
		LIST_REMOVE(e, entry);
		free(e);
	}
	free(st);
}

size_t
sharedtable_nsubs(const struct sharedtable *st)
{
	return st->nsubs;
}

unsigned long
sharedtable_overflows(const struct sharedtable *st)
{
	return st->overflows;
}
