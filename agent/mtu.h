/*
 * mtu.h - the MTU black-hole test (PROTOCOL.md "MTU probe") and its
 * pure judgement.
 *
 * "Connected, but the listing hangs": a path that carries small segments
 * and loses large ones without sending ICMP fragmentation-needed (or
 * with a router or firewall that drops it) breaks every transfer while
 * every handshake works.  For each packet size of a fixed list the agent
 * opens one probe connection to the reflector on the control port with
 * TCP_MAXSEG set before connect (so both ends' segments are at most that
 * large: the agent's own clamp, and the MSS it announces to the
 * reflector), and after the probe line's ack both ends write
 * MTU_BYTES of filler at once.  The agent then knows both directions by
 * itself: server to client, the bytes it read; client to server, the
 * bytes the reflector's TCP acknowledged (written minus SIOCOUTQ).
 * Path MTU discovery that works (ICMP came back) lets every size through
 * at a smaller size, so it is never a black hole; a size that fails
 * while a larger one passed is loss, not a black hole.
 *
 * mtu_run() does the I/O; everything else is pure, for classify() and
 * the unit tests.
 */
#ifndef FTPATH_AGENT_MTU_H
#define FTPATH_AGENT_MTU_H

#include <stddef.h>
#include <sys/socket.h>
#include <event2/event.h>
#include <jansson.h>

/* Filler per direction and connection; equal to the reflector's
 * MTUSRV_BYTES (PROTOCOL.md). */
#define MTU_BYTES		16384
#define MTU_MAX_SIZES		12
/* The control channel's MSS when its TLS handshake stalled after TCP
 * connected: a 1240-byte IPv4 packet fits every IPv6-capable link. */
#define MTU_CHANNEL_MSS		1200

/* One probe connection, of one packet size. */
struct mtu_size {
	unsigned packet;	/* IP packet size tested (the MTU) */
	unsigned mss;		/* TCP_MAXSEG: packet - IP and TCP headers */
	int acked;		/* handshake done and the probe line acked */
	int error;		/* errno when it never got that far, else 0 */
	unsigned s2c_bytes;	/* filler the agent read */
	unsigned c2s_acked;	/* filler the reflector's TCP acknowledged */
	unsigned snd_mss;	/* TCP_INFO: the segment size we really sent */
	unsigned pmtu_start;	/* TCP_INFO path MTU after connect, 0: ? */
	unsigned pmtu_end;	/* ... at the end: lower = frag-needed came */
};

struct mtu_obs {
	int tested;
	char reason[160];	/* why not, when !tested */
	int family;		/* AF_INET or AF_INET6 */
	unsigned port;		/* the control port the connections used */
	unsigned bytes;		/* filler each direction should carry */
	unsigned wait_ms;	/* how long the connections were given */
	unsigned n;
	struct mtu_size size[MTU_MAX_SIZES];	/* largest first */
};

enum mtu_dir {
	MTU_C2S,		/* client to server (agent writes) */
	MTU_S2C,		/* server to client (reflector writes) */
};

struct mtu_dir_result {
	int blackhole;		/* large sizes lost, smaller pass, no ICMP */
	unsigned largest_ok;	/* largest packet size that passed, 0: none */
	unsigned smallest_bad;	/* smallest that failed, 0: none */
	unsigned n_ok, n_bad;
	int frag_needed;	/* a connection's path MTU dropped (ICMP) */
};

struct mtu_result {
	int tested;		/* at least one connection was acked */
	struct mtu_dir_result d[2];	/* by enum mtu_dir */
};

/* "client-to-server" / "server-to-client". */
const char *mtu_dir_name(enum mtu_dir d);

/* The packet sizes tried for family, largest first, into o (n, packet,
 * mss); everything else zeroed.  Pure. */
void mtu_plan(struct mtu_obs *o, int family);

/* Both directions' judgement.  Pure. */
void mtu_decide(const struct mtu_obs *o, struct mtu_result *r);

/* The evidence sentence and the advice for a black hole in d.  Pure. */
void mtu_evidence(const struct mtu_obs *o, const struct mtu_result *r,
    enum mtu_dir d, char *buf, size_t len);
void mtu_advice(const struct mtu_obs *o, const struct mtu_result *r,
    enum mtu_dir d, char *buf, size_t len);

/* The JSON "mtu" object (new reference; NULL on ENOMEM). */
json_t *mtu_json(const struct mtu_obs *o, const struct mtu_result *r);

/*
 * Run the test against server (address and control port) with the
 * session's token, every size in parallel on base, within wait_ms.
 * Fills o (mtu_plan first).  0, or FTP_ERR_NOMEM / FTP_ERR_SYSTEM when
 * it could not start (o->reason says why).
 */
int mtu_run(struct event_base *base, const struct sockaddr *server,
    const char *token, unsigned wait_ms, struct mtu_obs *o);

#endif
