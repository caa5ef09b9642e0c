/*
 * mtu.c - the MTU black-hole test: probe connections of decreasing
 * packet size (mtu.h), and the pure judgement of what they carried.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "addr.h"
#include "err.h"
#include "log.h"
#include "mtu.h"
#include "proto.h"

/* Packet sizes tried: Ethernet, PPPoE, common tunnels (GRE, IPsec,
 * WireGuard), the IPv6 minimum, and the IPv4 minimum every host must
 * take.  Largest first. */
static const unsigned mtu_packets[MTU_MAX_SIZES] = {
	1500, 1492, 1480, 1460, 1440, 1420, 1400, 1360, 1320, 1280, 1200, 576,
};

/* Headers without options: IPv4 20 or IPv6 40, TCP 20. */
static unsigned
mtu_headers(int family)
{
	return family == AF_INET6 ? 60 : 40;
}

const char *
mtu_dir_name(enum mtu_dir d)
{
	return d == MTU_C2S ? "client-to-server" : "server-to-client";
}

void
mtu_plan(struct mtu_obs *o, int family)
{
	unsigned i;

	memset(o, 0, sizeof(*o));
	o->family = family;
	o->bytes = MTU_BYTES;
	for (i = 0; i < MTU_MAX_SIZES; i++) {
		o->size[o->n].packet = mtu_packets[i];
		o->size[o->n].mss = mtu_packets[i] - mtu_headers(family);
		o->n++;
	}
}

/* ---- judgement (pure) ---- */

static int
mtu_ok(const struct mtu_obs *o, const struct mtu_size *s, enum mtu_dir d)
{
	return d == MTU_S2C ? s->s2c_bytes >= o->bytes :
	    s->c2s_acked >= o->bytes;
}

/* The size the direction's packets really had: the agent's own are no
 * larger than its path MTU (a route's mtu, or one ICMP lowered); the
 * reflector's path MTU is not known here. */
static unsigned
mtu_packet(const struct mtu_size *s, enum mtu_dir d)
{
	if (d == MTU_C2S && s->pmtu_start != 0 && s->pmtu_start < s->packet)
		return s->pmtu_start;
	return s->packet;
}

static void
mtu_decide_dir(const struct mtu_obs *o, enum mtu_dir d,
    struct mtu_dir_result *r)
{
	unsigned i, largest_bad = 0, pk;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < o->n; i++) {
		const struct mtu_size *s = &o->size[i];

		/* A connection that never got its ack says nothing of
		 * sizes: the path or the reflector failed it before. */
		if (!s->acked)
			continue;
		if (s->pmtu_start != 0 && s->pmtu_end != 0 &&
		    s->pmtu_end < s->pmtu_start)
			r->frag_needed = 1;
		pk = mtu_packet(s, d);
		if (mtu_ok(o, s, d)) {
			r->n_ok++;
			if (pk > r->largest_ok)
				r->largest_ok = pk;
			continue;
		}
		r->n_bad++;
		if (r->smallest_bad == 0 || pk < r->smallest_bad)
			r->smallest_bad = pk;
		if (pk > largest_bad)
			largest_bad = pk;
	}
	/* Only a clean cut is a black hole: every size above the largest
	 * that passed failed, every size below it passed (a small size
	 * that fails is loss or a broken path, not an MTU), and no ICMP
	 * lowered the path MTU (that is path MTU discovery working). */
	r->blackhole = r->n_ok > 0 && r->n_bad > 0 && !r->frag_needed &&
	    r->smallest_bad > r->largest_ok && largest_bad > r->largest_ok;
}

void
mtu_decide(const struct mtu_obs *o, struct mtu_result *r)
{
	unsigned i;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < o->n; i++)
		r->tested |= o->size[i].acked;
	if (!o->tested || !r->tested) {
		r->tested = 0;
		return;
	}
	mtu_decide_dir(o, MTU_C2S, &r->d[MTU_C2S]);
	mtu_decide_dir(o, MTU_S2C, &r->d[MTU_S2C]);
}

void
mtu_evidence(const struct mtu_obs *o, const struct mtu_result *r,
    enum mtu_dir d, char *buf, size_t len)
{
	const struct mtu_dir_result *x = &r->d[d];

	snprintf(buf, len, "%s: %u-byte packets and smaller carried %u "
	    "bytes on the control port %u, %u-byte packets and larger "
	    "carried less (handshake and probe line passed) and no ICMP "
	    "fragmentation-needed lowered the path MTU: a router on the "
	    "path drops large packets silently (an MTU black hole; a "
	    "transfer or listing hangs once it sends full segments)",
	    mtu_dir_name(d), x->largest_ok, o->bytes, o->port,
	    x->smallest_bad);
}

void
mtu_advice(const struct mtu_obs *o, const struct mtu_result *r,
    enum mtu_dir d, char *buf, size_t len)
{
	const struct mtu_dir_result *x = &r->d[d];
	unsigned mss = x->largest_ok - mtu_headers(o->family);

	snprintf(buf, len, "clamp the TCP MSS on the router or firewall at "
	    "the small link (nftables: tcp flags syn tcp option maxseg size "
	    "set rt mtu, or ... size set %u), or set the MTU of the link "
	    "towards the %s to %u; and let ICMP %s through so that path MTU "
	    "discovery works", mss, d == MTU_S2C ? "client" : "server",
	    x->largest_ok, o->family == AF_INET6 ? "packet-too-big" :
	    "fragmentation-needed (type 3 code 4)");
}

static json_t *
mtu_json_dir(const struct mtu_dir_result *x)
{
	return json_pack("{s:b, s:o, s:o, s:b}", "blackhole", x->blackhole,
	    "largest_ok", x->largest_ok ? json_integer(x->largest_ok) :
	    json_null(), "smallest_failed", x->smallest_bad ?
	    json_integer(x->smallest_bad) : json_null(), "frag_needed",
	    x->frag_needed);
}

json_t *
mtu_json(const struct mtu_obs *o, const struct mtu_result *r)
{
	json_t *j, *sizes;
	unsigned i;

	if (!o->tested)
		return json_pack("{s:b, s:s}", "tested", 0, "reason",
		    o->reason);
	if ((sizes = json_array()) == NULL)
		return NULL;
	for (i = 0; i < o->n; i++) {
		const struct mtu_size *s = &o->size[i];

		json_array_append_new(sizes, json_pack("{s:i, s:i, s:b, s:i, "
		    "s:i, s:i, s:i, s:i}", "packet", (int)s->packet, "mss",
		    (int)s->mss, "acked", s->acked, "server_to_client",
		    (int)s->s2c_bytes, "client_to_server", (int)s->c2s_acked,
		    "snd_mss", (int)s->snd_mss, "pmtu_start",
		    (int)s->pmtu_start, "pmtu_end", (int)s->pmtu_end));
	}
	j = json_pack("{s:b, s:i, s:i, s:i, s:o, s:o, s:o}", "tested", 1,
	    "port", (int)o->port, "bytes", (int)o->bytes, "wait_ms",
	    (int)o->wait_ms, "sizes", sizes, "client_to_server",
	    mtu_json_dir(&r->d[MTU_C2S]), "server_to_client",
	    mtu_json_dir(&r->d[MTU_S2C]));
	return j;
}

/* ---- the probe connections ---- */

struct mtu_conn {
	struct mtu_run *run;
	struct mtu_size *s;
	int fd;				/* -1: done */
	struct event *ev;
	char line[PROTO_PROBE_LINE_MAX + 1];
	char ack[PROTO_PROBE_LINE_MAX + 16];
	size_t line_len, line_off;
	char in[PROTO_PROBE_LINE_MAX + 16];
	size_t in_len;			/* bytes of the ack read so far */
	size_t written;
};

struct mtu_run {
	struct event_base *base;
	struct mtu_obs *o;
	struct mtu_conn c[MTU_MAX_SIZES];
	struct event *tick;
	unsigned elapsed_ms;
	int done;
};

#define MTU_TICK_MS	50

static void
mtu_tcp_info(struct mtu_conn *k, unsigned *pmtu)
{
	struct tcp_info ti;
	socklen_t sl = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(k->fd, IPPROTO_TCP, TCP_INFO, &ti, &sl) != 0)
		return;
	*pmtu = ti.tcpi_pmtu;
	k->s->snd_mss = ti.tcpi_snd_mss;
}

static void
mtu_conn_close(struct mtu_conn *k)
{
	int q = 0;

	if (k->fd == -1)
		return;
	if (k->s->acked && ioctl(k->fd, SIOCOUTQ, &q) == 0 && q >= 0 &&
	    (size_t)q <= k->written)
		k->s->c2s_acked = (unsigned)(k->written - (size_t)q);
	if (k->s->acked)
		mtu_tcp_info(k, &k->s->pmtu_end);
	if (k->ev != NULL)
		event_free(k->ev);
	k->ev = NULL;
	close(k->fd);
	k->fd = -1;
}

/* The ack line, then filler; counted as server-to-client bytes. */
static int
mtu_conn_read(struct mtu_conn *k)
{
	char buf[4096];
	ssize_t n;
	size_t copied;
	char *eol;

	for (;;) {
		n = recv(k->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0)
			return -1;
		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		if (k->s->acked) {
			k->s->s2c_bytes += (unsigned)n;
			continue;
		}
		copied = (size_t)n;
		if (k->in_len + copied > sizeof(k->in) - 1)
			copied = sizeof(k->in) - 1 - k->in_len;
		memcpy(k->in + k->in_len, buf, copied);
		k->in_len += copied;
		if ((eol = memchr(k->in, '\n', k->in_len)) == NULL) {
			if (k->in_len >= sizeof(k->in) - 1)
				return -1;
			continue;
		}
		if ((size_t)(eol + 1 - k->in) != strlen(k->ack) ||
		    memcmp(k->in, k->ack, strlen(k->ack)) != 0)
			return -1;	/* another service, not the reflector */
		k->s->acked = 1;
		mtu_tcp_info(k, &k->s->pmtu_start);
		/* Filler that came with the ack counts too. */
		k->s->s2c_bytes = (unsigned)(k->in_len - strlen(k->ack) +
		    (size_t)n - copied);
	}
}

static int
mtu_conn_write(struct mtu_conn *k)
{
	static const char filler[2048] = { 0 };
	ssize_t w;

	while (k->line_off < k->line_len) {
		w = send(k->fd, k->line + k->line_off, k->line_len -
		    k->line_off, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0)
			return errno == EAGAIN ? 0 : -1;
		k->line_off += (size_t)w;
	}
	/* The filler only after the ack: the reflector reads the probe
	 * line alone, and a connection to another service gets nothing. */
	while (k->s->acked && k->written < k->run->o->bytes) {
		size_t n = k->run->o->bytes - k->written;

		w = send(k->fd, filler, n < sizeof(filler) ? n :
		    sizeof(filler), MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0)
			return errno == EAGAIN ? 0 : -1;
		k->written += (size_t)w;
	}
	return 0;
}

static void
mtu_conn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mtu_conn *k = arg;
	int err = 0;
	socklen_t sl = sizeof(err);

	(void)fd;
	if (!k->s->acked && k->line_off == 0 && (what & EV_WRITE) &&
	    (getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &err, &sl) != 0 ||
	    err != 0)) {
		k->s->error = err ? err : errno;
		mtu_conn_close(k);
		return;
	}
	if (((what & EV_READ) && mtu_conn_read(k) != 0) ||
	    mtu_conn_write(k) != 0) {
		if (!k->s->acked && k->s->error == 0)
			k->s->error = errno ? errno : ECONNRESET;
		mtu_conn_close(k);
		return;
	}
	/* Write interest only while bytes wait: no busy loop. */
	if (k->line_off >= k->line_len && (!k->s->acked ||
	    k->written >= k->run->o->bytes) && event_get_events(k->ev) &
	    EV_WRITE) {
		event_free(k->ev);
		if ((k->ev = event_new(k->run->base, k->fd, EV_READ |
		    EV_PERSIST, mtu_conn_cb, k)) == NULL ||
		    event_add(k->ev, NULL) != 0)
			mtu_conn_close(k);
	} else if (k->s->acked && k->written < k->run->o->bytes &&
	    !(event_get_events(k->ev) & EV_WRITE)) {
		event_free(k->ev);
		if ((k->ev = event_new(k->run->base, k->fd, EV_READ | EV_WRITE |
		    EV_PERSIST, mtu_conn_cb, k)) == NULL ||
		    event_add(k->ev, NULL) != 0)
			mtu_conn_close(k);
	}
}

static int
mtu_conn_start(struct mtu_run *run, struct mtu_conn *k,
    const struct sockaddr *server, const char *token)
{
	char id[32];
	int one = 1, mss = (int)k->s->mss;

	snprintf(id, sizeof(id), "mtu-%u", k->s->mss);
	if (proto_probe_line(k->line, sizeof(k->line), token, id) != 0 ||
	    proto_probe_ack(k->ack, sizeof(k->ack), id) != 0)
		return FTP_ERR_INVAL;
	k->line_len = strlen(k->line);
	if ((k->fd = socket(server->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) < 0)
		return FTP_ERR_SYSTEM;
	/* Before connect: it clamps our segments and is the MSS we
	 * announce, so the reflector's segments are no larger either. */
	if (setsockopt(k->fd, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof(mss)) != 0 ||
	    setsockopt(k->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
		return FTP_ERR_SYSTEM;
	if (connect(k->fd, server, (socklen_t)addr_len(server)) != 0 &&
	    errno != EINPROGRESS) {
		k->s->error = errno;
		mtu_conn_close(k);
		return 0;
	}
	k->run = run;
	if ((k->ev = event_new(run->base, k->fd, EV_READ | EV_WRITE |
	    EV_PERSIST, mtu_conn_cb, k)) == NULL || event_add(k->ev, NULL) != 0)
		return FTP_ERR_NOMEM;
	return 0;
}

/* Done: every connection closed, or finished both ways. */
static int
mtu_all_done(struct mtu_run *run)
{
	unsigned i;
	int q;

	for (i = 0; i < run->o->n; i++) {
		struct mtu_conn *k = &run->c[i];

		if (k->fd == -1)
			continue;
		if (!k->s->acked || k->s->s2c_bytes < run->o->bytes ||
		    k->written < run->o->bytes ||
		    ioctl(k->fd, SIOCOUTQ, &q) != 0 || q != 0)
			return 0;
	}
	return 1;
}

static void
mtu_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mtu_run *run = arg;

	(void)fd;
	(void)what;
	run->elapsed_ms += MTU_TICK_MS;
	if (run->elapsed_ms >= run->o->wait_ms || mtu_all_done(run))
		run->done = 1;
}

static void
mtu_run_free(struct mtu_run *run)
{
	unsigned i;

	for (i = 0; i < MTU_MAX_SIZES; i++)
		mtu_conn_close(&run->c[i]);
	if (run->tick != NULL)
		event_free(run->tick);
}

int
mtu_run(struct event_base *base, const struct sockaddr *server,
    const char *token, unsigned wait_ms, struct mtu_obs *o)
{
	struct timeval tv = { 0, MTU_TICK_MS * 1000 };
	struct mtu_run run;
	unsigned i;
	int r = FTP_ERR_NOMEM;

	memset(&run, 0, sizeof(run));
	run.base = base;
	run.o = o;
	o->wait_ms = wait_ms;
	o->port = addr_port(server);
	for (i = 0; i < MTU_MAX_SIZES; i++) {
		run.c[i].fd = -1;
		run.c[i].s = &o->size[i];
	}
	if ((run.tick = event_new(base, -1, EV_PERSIST, mtu_tick_cb, &run)) ==
	    NULL || event_add(run.tick, &tv) != 0)
		goto out;
	for (i = 0; i < o->n; i++)
		if ((r = mtu_conn_start(&run, &run.c[i], server, token)) != 0)
			goto out;
	o->tested = 1;
	/* Bounded: the tick ends it after wait_ms. */
	while (!run.done && event_base_loop(base, EVLOOP_ONCE) == 0)
		;
	r = 0;
out:
	if (r != 0)
		snprintf(o->reason, sizeof(o->reason), "the test could not "
		    "start: %s", ftp_strerror(r));
	mtu_run_free(&run);
	if (r != 0)
		o->tested = 0;
	return r;
}
