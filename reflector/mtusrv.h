/*
 * mtusrv.h - the reflector's end of the MTU test (PROTOCOL.md "MTU
 * probe"): on an `mtu-<mss>` probe connection it acks the probe line,
 * then writes MTUSRV_BYTES of filler towards the agent in full segments
 * (TCP_NODELAY; the segment size is the MSS the agent announced with
 * TCP_MAXSEG) and reads and discards what the agent writes.
 *
 * The agent judges both directions itself: the bytes it read (server to
 * client) and the bytes the reflector's TCP acknowledged (client to
 * server).  The reflector only has to be a well-behaved sink and source,
 * so no report message is needed.
 *
 * One object per session; it owns the taken connections and closes each
 * at the agent's EOF, on an error, or after wait_ms.  All callbacks run
 * on base.
 */
#ifndef FTPATH_MTUSRV_H
#define FTPATH_MTUSRV_H

#include <event2/event.h>

/* Filler written per connection: several full segments at any MSS. */
#define MTUSRV_BYTES		16384
/* Connections at once (the agent tries one per size). */
#define MTUSRV_MAX_CONNS	24
#define MTUSRV_PROBE_PREFIX	"mtu-"

struct mtusrv;

/* NULL on ENOMEM.  wait_ms bounds each connection. */
struct mtusrv *mtusrv_new(struct event_base *base, unsigned wait_ms);
/* Closes every connection.  NULL: no-op. */
void mtusrv_free(struct mtusrv *m);

/*
 * An arrival with probe id `probe` on fd: an "mtu-<mss>" one is taken
 * (acked, served and closed here) and 1 returned; otherwise, or when all
 * slots are busy, 0 and the caller keeps fd.
 */
int mtusrv_take(struct mtusrv *m, int fd, const char *probe);

#endif
