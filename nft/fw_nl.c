/*
 * fw_nl.c - netlink transport and batch container (see fw_nl.h).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include "err.h"
#include "fw_nl.h"

/* Dumps of big rulesets come in large datagrams; nft uses 32 KiB. */
#define FW_NL_RCVBUF 65536

struct fw_nl {
	const struct fw_nl_ops	*ops;
	void			*ctx;
	uint32_t		 seq;
	char			*rbuf;
};

struct fw_batch {
	char			*buf;
	struct mnl_nlmsg_batch	*mb;
	uint32_t		 seq_first;
	uint32_t		 seq_next;
	unsigned		 nmsg;
	int			 framed;
	int			 finished;
	int			 broken;
};

/* State of one send-and-drain exchange. */
struct fw_xfer {
	uint32_t	 first;		/* accepted seq range [first, end) */
	uint32_t	 end;
	uint32_t	 batch_seq;	/* seq of BATCH_BEGIN, 0 if none */
	unsigned	 want;		/* ACKs expected; 0 for dumps */
	unsigned	 got;
	int		 kerr;		/* first kernel error (positive) */
	int		 cberr;		/* error returned by the data cb */
	int		 done;
	fw_nl_data_cb	 cb;
	void		*arg;
};

/* ---- real socket transport ---- */

static int
fw_sock_send(void *ctx, const void *buf, size_t len)
{
	if (mnl_socket_sendto(ctx, buf, len) < 0)
		return FTP_ERR_SYSTEM;
	return 0;
}

static int
fw_sock_recv(void *ctx, void *buf, size_t len, int timeout_ms)
{
	struct pollfd pfd = { .fd = mnl_socket_get_fd(ctx), .events = POLLIN };
	ssize_t n;
	int r;

	do {
		r = poll(&pfd, 1, timeout_ms);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return FTP_ERR_SYSTEM;
	if (r == 0)
		return 0;
	n = mnl_socket_recvfrom(ctx, buf, len);
	if (n < 0)
		return FTP_ERR_SYSTEM;
	if (n == 0) {
		errno = EPROTO;
		return FTP_ERR_SYSTEM;
	}
	return (int)n;
}

static uint32_t
fw_sock_portid(void *ctx)
{
	return mnl_socket_get_portid(ctx);
}

static void
fw_sock_close(void *ctx)
{
	mnl_socket_close(ctx);
}

static const struct fw_nl_ops fw_sock_ops = {
	.send = fw_sock_send,
	.recv = fw_sock_recv,
	.portid = fw_sock_portid,
	.close = fw_sock_close,
};

struct fw_nl *
fw_nl_new(const struct fw_nl_ops *ops, void *ctx)
{
	struct fw_nl *nl;

	if ((nl = calloc(1, sizeof(*nl))) == NULL)
		return NULL;
	if ((nl->rbuf = malloc(FW_NL_RCVBUF)) == NULL) {
		free(nl);
		return NULL;
	}
	nl->ops = ops;
	nl->ctx = ctx;
	/* Time-seeded like nft, so replies to an earlier run's requests on a
	 * reused port id cannot be taken for ours. */
	nl->seq = (uint32_t)time(NULL);
	return nl;
}

struct fw_nl *
fw_nl_open(int bus)
{
	struct mnl_socket *s;
	struct fw_nl *nl;
	int saved;

	if ((s = mnl_socket_open2(bus, SOCK_CLOEXEC)) == NULL)
		return NULL;
	if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	if ((nl = fw_nl_new(&fw_sock_ops, s)) == NULL) {
		errno = ENOMEM;
		goto fail;
	}
	return nl;
fail:
	saved = errno;
	mnl_socket_close(s);
	errno = saved;
	return NULL;
}

void
fw_nl_free(struct fw_nl *nl)
{
	if (nl == NULL)
		return;
	if (nl->ops->close != NULL)
		nl->ops->close(nl->ctx);
	free(nl->rbuf);
	free(nl);
}

uint32_t
fw_nl_seq(struct fw_nl *nl)
{
	/* Leave room for a batch's worth of consecutive numbers and skip 0,
	 * which mnl treats as "don't check". */
	nl->seq += 1024;
	if (nl->seq == 0)
		nl->seq = 1;
	return nl->seq;
}

int
fw_nl_errno(int kerr)
{
	errno = kerr;
	switch (kerr) {
	case EPERM:
	case EACCES:
		return FTP_ERR_DENIED;
	case ENOENT:
		return FTP_ERR_NOTFOUND;
	default:
		return FTP_ERR_SYSTEM;
	}
}

/* ---- batch container ---- */

struct fw_batch *
fw_batch_new(size_t cap, uint32_t seq, int framed)
{
	struct fw_batch *b;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	/* mnl batches let the last message run past the limit and then
	 * refuse it, so the buffer is twice the limit: an overflowing
	 * message never writes outside memory we own. */
	cap += MNL_SOCKET_BUFFER_SIZE;
	if ((b->buf = calloc(2, cap)) == NULL ||
	    (b->mb = mnl_nlmsg_batch_start(b->buf, cap)) == NULL) {
		free(b->buf);
		free(b);
		return NULL;
	}
	b->seq_first = b->seq_next = seq;
	b->framed = framed;
	if (framed) {
		nftnl_batch_begin(mnl_nlmsg_batch_current(b->mb), b->seq_next++);
		mnl_nlmsg_batch_next(b->mb);
	}
	return b;
}

void
fw_batch_free(struct fw_batch *b)
{
	if (b == NULL)
		return;
	mnl_nlmsg_batch_stop(b->mb);
	free(b->buf);
	free(b);
}

struct nlmsghdr *
fw_batch_nft_msg(struct fw_batch *b, uint16_t type, uint16_t family,
    uint16_t flags)
{
	if (b->finished || b->broken)
		return NULL;
	return nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(b->mb), type,
	    family, flags | NLM_F_ACK, b->seq_next);
}

struct nlmsghdr *
fw_batch_raw_msg(struct fw_batch *b, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh;

	if (b->finished || b->broken)
		return NULL;
	nlh = mnl_nlmsg_put_header(mnl_nlmsg_batch_current(b->mb));
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags | NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = b->seq_next;
	return nlh;
}

int
fw_batch_commit(struct fw_batch *b)
{
	if (b->finished || b->broken)
		return FTP_ERR_INVAL;
	b->seq_next++;
	b->nmsg++;
	if (!mnl_nlmsg_batch_next(b->mb)) {
		b->broken = 1;
		return FTP_ERR_TOOBIG;
	}
	return 0;
}

int
fw_batch_finish(struct fw_batch *b)
{
	if (b->finished || b->broken)
		return FTP_ERR_INVAL;
	if (b->framed) {
		nftnl_batch_end(mnl_nlmsg_batch_current(b->mb), b->seq_next++);
		if (!mnl_nlmsg_batch_next(b->mb)) {
			b->broken = 1;
			return FTP_ERR_TOOBIG;
		}
	}
	b->finished = 1;
	return 0;
}

const void *
fw_batch_data(const struct fw_batch *b, size_t *len)
{
	if (!b->finished)
		return NULL;
	*len = mnl_nlmsg_batch_size(b->mb);
	return mnl_nlmsg_batch_head(b->mb);
}

unsigned
fw_batch_count(const struct fw_batch *b)
{
	return b->nmsg;
}

uint32_t
fw_batch_seq_first(const struct fw_batch *b)
{
	return b->seq_first;
}

uint32_t
fw_batch_seq_end(const struct fw_batch *b)
{
	return b->seq_next;
}

/* ---- send and drain ---- */

static int
fw_seq_ours(const struct fw_xfer *x, uint32_t seq)
{
	/* Unsigned distance handles wrap-around of the counter. */
	return seq - x->first < x->end - x->first;
}

static int
fw_xfer_error_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct fw_xfer *x = arg;
	const struct nlmsgerr *e;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
		x->kerr = EPROTO;
		x->done = 1;
		return MNL_CB_STOP;
	}
	/* A late reply to an exchange we gave up on: not ours to count. */
	if (!fw_seq_ours(x, nlh->nlmsg_seq))
		return MNL_CB_OK;
	e = mnl_nlmsg_get_payload(nlh);
	x->got++;
	if (e->error != 0 && x->kerr == 0)
		x->kerr = -e->error;
	/* An error naming the batch header means the kernel refused the
	 * batch as a whole (no CAP_NET_ADMIN, no memory): no other reply
	 * follows.  For dumps, any error ends the dump. */
	if (e->error != 0 && (x->want == 0 || nlh->nlmsg_seq == x->batch_seq))
		x->done = 1;
	return MNL_CB_OK;
}

static int
fw_xfer_done_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct fw_xfer *x = arg;
	int err;

	if (!fw_seq_ours(x, nlh->nlmsg_seq))
		return MNL_CB_OK;
	x->done = 1;
	/* A dump that failed half-way says so in NLMSG_DONE's payload. */
	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(err)) {
		memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(err));
		if (err < 0 && x->kerr == 0)
			x->kerr = -err;
	}
	return MNL_CB_OK;
}

static int
fw_xfer_data_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct fw_xfer *x = arg;
	int r;

	if (!fw_seq_ours(x, nlh->nlmsg_seq) || x->cb == NULL || x->cberr)
		return MNL_CB_OK;
	/* Keep draining after a callback error so the socket is left clean
	 * for the next exchange; report the error at the end. */
	if ((r = x->cb(nlh, x->arg)) < 0)
		x->cberr = r;
	return MNL_CB_OK;
}

static int
fw_xfer_finished(const struct fw_xfer *x)
{
	if (x->done)
		return 1;
	return x->want > 0 && x->got >= x->want;
}

/* Receive and dispatch replies until the exchange is complete. */
static int
fw_nl_drain(struct fw_nl *nl, struct fw_xfer *x)
{
	mnl_cb_t ctl[NLMSG_MIN_TYPE] = { 0 };
	uint32_t portid = nl->ops->portid(nl->ctx);
	int n;

	ctl[NLMSG_ERROR] = fw_xfer_error_cb;
	ctl[NLMSG_DONE] = fw_xfer_done_cb;
	while (!fw_xfer_finished(x)) {
		n = nl->ops->recv(nl->ctx, nl->rbuf, FW_NL_RCVBUF,
		    FW_NL_TIMEOUT_MS);
		if (n < 0)
			return n;
		if (n == 0) {
			errno = ETIMEDOUT;
			return FTP_ERR_SYSTEM;
		}
		/* seq 0: one exchange spans several sequence numbers, so the
		 * callbacks check the range themselves; portid is checked by
		 * mnl. */
		if (mnl_cb_run2(nl->rbuf, (size_t)n, 0, portid, fw_xfer_data_cb,
		    x, ctl, NLMSG_MIN_TYPE) < 0) {
			if (errno == EINTR)	/* dump interrupted: retry */
				errno = EAGAIN;
			return FTP_ERR_SYSTEM;
		}
	}
	if (x->kerr != 0)
		return fw_nl_errno(x->kerr);
	return x->cberr;
}

int
fw_nl_talk(struct fw_nl *nl, const struct fw_batch *b)
{
	struct fw_xfer x = { 0 };
	const void *buf;
	size_t len;
	int r;

	if ((buf = fw_batch_data(b, &len)) == NULL)
		return FTP_ERR_INVAL;
	x.first = b->seq_first;
	x.end = b->seq_next;
	x.batch_seq = b->framed ? b->seq_first : 0;
	x.want = b->nmsg;
	if (x.want == 0)
		return 0;
	if ((r = nl->ops->send(nl->ctx, buf, len)) != 0)
		return r;
	return fw_nl_drain(nl, &x);
}

int
fw_nl_dump(struct fw_nl *nl, const void *buf, size_t len, uint32_t seq,
    fw_nl_data_cb cb, void *arg)
{
	struct fw_xfer x = { 0 };
	int r;

	x.first = seq;
	x.end = seq + 1;
	x.cb = cb;
	x.arg = arg;
	if ((r = nl->ops->send(nl->ctx, buf, len)) != 0)
		return r;
	return fw_nl_drain(nl, &x);
}
