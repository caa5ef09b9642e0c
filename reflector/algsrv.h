/*
 * algsrv.h - the reflector's end of the ALG test (PROTOCOL.md "ALG
 * dialogue"): a minimal FTP server on the agent's `alg-<port>` probe
 * connection, and the connect-back to the PORT address as it arrived.
 *
 * The agent's dialogue crosses every FTP ALG on the path (an ALG parses
 * the control port's payload): PORT and EPRT one way, 227 and 229 the
 * other.  The server answers with fixed replies, keeps the exact bytes it
 * received and sent (bounded in lines, bytes and time), and reports them
 * in `alg-dialogue` so that the agent can compare them with its own.
 *
 * `alg-active` connects back from the active source port to the address
 * and port of the first PORT (EPRT when no PORT came) *as received* -
 * what an FTP server does - but only when that address is the agent's
 * observed address and the port is not privileged (anti-bounce: an
 * address named in the dialogue is never dialled otherwise).  Behind a
 * NAT gateway whose FTP helper rewrote PORT, that connection passes
 * through the pinhole the helper opened.
 *
 * Two dialogues at most, on two different ports of the session: the
 * agent runs the first on the control port, the second on another port
 * (its A/B: the same bytes where no FTP ALG looks).  Only the first
 * dialogue's PORT/EPRT is ever dialled.
 *
 * One object per session; it owns the taken connections and the
 * connect-back.  Not thread-safe; all callbacks run on base.
 */
#ifndef FTPATH_ALGSRV_H
#define FTPATH_ALGSRV_H

#include <stdint.h>
#include <sys/socket.h>
#include <event2/event.h>
#include <jansson.h>

/* Bounds of one dialogue (each direction). */
#define ALGSRV_MAX_BYTES	4096
#define ALGSRV_MAX_LINES	16
/* Dialogues per session: the control port's and one other. */
#define ALGSRV_MAX_DIALOGUES	2
/* Probe id of the connect-back and its prefix on the control port. */
#define ALGSRV_ACTIVE_PROBE	"alg-active"
#define ALGSRV_PROBE_PREFIX	"alg-"

struct algsrv;

/*
 * local: the reflector's address of the control connection (the 227 and
 * the connect-back's source use it); observed: the agent's address as
 * seen; pasv_port: the port 227/229 name; source_port: the connect-back's
 * (20).  token is copied; wait_ms bounds each dialogue.  NULL on ENOMEM.
 */
struct algsrv *algsrv_new(struct event_base *base, const char *token,
    const struct sockaddr *local, const struct sockaddr *observed,
    uint16_t pasv_port, uint16_t source_port, unsigned wait_ms);
/* Closes the connections and cancels the connect-back.  NULL: no-op. */
void algsrv_free(struct algsrv *a);

/* The lowest PORT/EPRT port the connect-back dials (config
 * connectback_min_port; 1024 unless set): connectback_port_refused(). */
void algsrv_set_min_port(struct algsrv *a, uint16_t min_port);

/*
 * An arrival on a probe port with probe id `probe` on fd.  For an
 * "alg-*" arrival on a port without a dialogue, while fewer than
 * ALGSRV_MAX_DIALOGUES ran, the server takes fd (it acks the probe line
 * and closes fd itself) and returns 1; otherwise 0 (the caller keeps fd).
 */
int algsrv_take(struct algsrv *a, int fd, const char *probe);

/* The `alg-dialogue` message: the first dialogue at the top, every
 * started one in `dialogues` (new reference; NULL on ENOMEM). */
json_t *algsrv_report(const struct algsrv *a);

/*
 * The ALG connect-back.  Returns 0 and either *now (an
 * `alg-active-result` to send at once: refused, or could not start) or,
 * with *now NULL, calls done later with the result message (a new
 * reference the callee owns) exactly once unless the object is freed
 * first.  FTP_ERR_DENIED when it ran already; FTP_ERR_NOMEM.
 */
int algsrv_active(struct algsrv *a, unsigned timeout_ms, json_t **now,
    void (*done)(json_t *msg, void *arg), void *arg);

#endif
