/*
 * tlsclose.h - close a refused TLS handshake so that its alert arrives.
 *
 * When the reflector refuses an agent's certificate (revoked, another
 * CA) the agent has already sent its Finished and its first frame (TLS
 * 1.3: the client's side of the handshake is done first).  Closing a
 * socket with unread data makes the kernel send a RST and drop what was
 * still queued to send: the alert that says why, about half of the time.
 * The agent then sees "connection reset" instead of "certificate
 * revoked".
 *
 * A context given to tlsclose_install() hands each connection on which it
 * sent a fatal alert during the handshake to tlsclose: a duplicate of
 * its descriptor keeps the socket open when the session closes its own,
 * a shutdown(SHUT_WR) sends FIN after the alert, and what the peer still
 * sends is read and discarded until it closes or TLSCLOSE_LINGER_S pass.
 * At most max connections linger at once (beyond, they close as before).
 */
#ifndef FTPATH_TLSCLOSE_H
#define FTPATH_TLSCLOSE_H

#include <event2/event.h>
#include <openssl/ssl.h>

#define TLSCLOSE_LINGER_S	2

struct tlsclose;

/* NULL on allocation failure. */
struct tlsclose *tlsclose_new(unsigned max);
/* Closes every lingering connection. */
void tlsclose_free(struct tlsclose *tc);

/* The loop the lingering connections are read in; until it is set, a
 * refused connection closes as before. */
void tlsclose_set_base(struct tlsclose *tc, struct event_base *base);

/* Watch ctx's alerts (its info callback and app data are tc's; tc must
 * outlive ctx and every SSL made from it). */
void tlsclose_install(struct tlsclose *tc, SSL_CTX *ctx);

/* Connections lingering now. */
unsigned tlsclose_count(const struct tlsclose *tc);

#endif
