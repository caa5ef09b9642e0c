/*
 * channel.h - framed control messages over a libevent bufferevent.
 *
 * The thin I/O half of the control protocol; framing rules live in the
 * pure codec (proto.h).  Works on any bufferevent, TLS or plain, so unit
 * tests can use a socketpair.
 */
#ifndef FTPATH_CHANNEL_H
#define FTPATH_CHANNEL_H

#include <event2/bufferevent.h>
#include <jansson.h>

/* Queue one message for sending.  Returns 0 or a negative FTP_ERR_*. */
int channel_send(struct bufferevent *bev, const json_t *msg);

/*
 * Take one complete message from the input buffer.  Returns 0 with *msg
 * (caller json_decref()s), FTP_ERR_AGAIN if no complete frame is buffered,
 * or FTP_ERR_TOOBIG / FTP_ERR_PROTO (the caller should drop the peer).
 */
int channel_recv(struct bufferevent *bev, json_t **msg);

#endif
