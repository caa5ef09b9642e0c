/*
 * channel.c - framed control messages over a bufferevent (see channel.h).
 */
#include <stdlib.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "channel.h"
#include "err.h"
#include "proto.h"

int
channel_send(struct bufferevent *bev, const json_t *msg)
{
	uint8_t *frame = NULL;
	size_t len;
	int r;

	if (bev == NULL || msg == NULL)
		return FTP_ERR_INVAL;
	if ((r = proto_encode(msg, &frame, &len)) != 0)
		goto out;
	/* bufferevent_write goes through the filter (TLS) layer too. */
	if (bufferevent_write(bev, frame, len) != 0) {
		r = FTP_ERR_NOMEM;
		goto out;
	}
	r = 0;
out:
	free(frame);
	return r;
}

int
channel_recv(struct bufferevent *bev, json_t **msg)
{
	struct evbuffer *in;
	uint8_t hdr[PROTO_HDR_LEN];
	const uint8_t *data;
	size_t avail, need, consumed;
	uint32_t plen;
	json_t *m = NULL;
	int r;

	if (bev == NULL || msg == NULL)
		return FTP_ERR_INVAL;
	in = bufferevent_get_input(bev);
	avail = evbuffer_get_length(in);
	if (avail < PROTO_HDR_LEN)
		return FTP_ERR_AGAIN;
	/*
	 * Peek at the header first: the frame may span several chains, and
	 * pulling up an announced-but-oversized frame would let the peer
	 * make us linearise a huge buffer before the codec says no.
	 */
	if (evbuffer_copyout(in, hdr, sizeof(hdr)) != (ev_ssize_t)sizeof(hdr))
		return FTP_ERR_AGAIN;
	plen = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
	    (uint32_t)hdr[2] << 8 | (uint32_t)hdr[3];
	if (plen > PROTO_MAX_PAYLOAD)
		return FTP_ERR_TOOBIG;
	need = PROTO_HDR_LEN + (size_t)plen;
	if (avail < need)
		return FTP_ERR_AGAIN;
	/* Only this one frame is made contiguous, not the whole buffer. */
	if ((data = evbuffer_pullup(in, (ev_ssize_t)need)) == NULL)
		return FTP_ERR_NOMEM;
	if ((r = proto_decode(data, need, &m, &consumed)) != 0)
		return r;
	evbuffer_drain(in, consumed);
	*msg = m;
	return 0;
}
