/*
 * ftpconns.c - n control connections at once, each read to its banner
 * (ftpconns.h).  All stay open until every one has answered or failed,
 * so the server sees them simultaneously, as a client's parallel
 * transfers are.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "addr.h"
#include "err.h"
#include "ftpconns.h"

struct ftpconns;

struct ftpconns_one {
	struct ftpconns *set;
	struct bufferevent *bev;
	int done;
	int failed;
	struct ftpcheck_reply banner;
};

struct ftpconns {
	struct ftpconns_one c[FTPCONNS_MAX];
	unsigned n, pending;
};

static void
ftpconns_finish(struct ftpconns_one *one, int failed)
{
	if (one->done)
		return;
	one->done = 1;
	one->failed = failed;
	one->set->pending--;
}

static void
ftpconns_read_cb(struct bufferevent *bev, void *arg)
{
	struct ftpconns_one *one = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len = evbuffer_get_length(in), used = 0;
	const char *buf;
	int r;

	if (one->done || len == 0 ||
	    (buf = (const char *)evbuffer_pullup(in, -1)) == NULL)
		return;
	r = ftpcheck_reply_parse(buf, len, &used, &one->banner);
	/* 1: the banner is complete; < 0: not an FTP reply at all */
	if (r != 0)
		ftpconns_finish(one, r < 0);
	else if (len > 2 * FTPCHECK_TEXT_MAX)
		ftpconns_finish(one, 1);
}

static void
ftpconns_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct ftpconns_one *one = arg;

	(void)bev;
	if (what & (BEV_EVENT_ERROR | BEV_EVENT_EOF | BEV_EVENT_TIMEOUT))
		ftpconns_finish(one, 1);
}

static int
ftpconns_open(struct event_base *base, const struct sockaddr *server,
    unsigned timeout_ms, struct ftpconns_one *one)
{
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };

	one->bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (one->bev == NULL)
		return FTP_ERR_NOMEM;
	bufferevent_setcb(one->bev, ftpconns_read_cb, NULL, ftpconns_event_cb,
	    one);
	bufferevent_set_timeouts(one->bev, &tv, &tv);
	bufferevent_enable(one->bev, EV_READ);
	if (bufferevent_socket_connect(one->bev, server,
	    (int)addr_len(server)) != 0)
		ftpconns_finish(one, 1);
	return 0;
}

static void
ftpconns_tally(const struct ftpconns *fs, struct ftpcheck_conns *out)
{
	unsigned i;

	memset(out, 0, sizeof(*out));
	out->tried = fs->n;
	for (i = 0; i < fs->n; i++) {
		const struct ftpconns_one *one = &fs->c[i];
		int code = one->banner.code;

		if (!one->done || (one->failed && code == 0))
			out->failed++;
		else if (code >= 200 && code < 300)
			out->greeted++;
		else if (code >= 400 && code < 500) {
			out->refused++;
			if (out->first_refused == 0) {
				out->first_refused = i + 1;
				out->refusal = one->banner;
			}
		} else
			out->failed++;
	}
}

int
ftpconns_run(struct event_base *base, const struct sockaddr *server,
    unsigned n, unsigned timeout_ms, struct ftpcheck_conns *out)
{
	struct ftpconns fs;
	unsigned i;
	int r = 0;

	if (n == 0 || n > FTPCONNS_MAX)
		return FTP_ERR_INVAL;
	memset(&fs, 0, sizeof(fs));
	for (i = 0; i < n && r == 0; i++) {
		fs.c[i].set = &fs;
		fs.pending++;
		fs.n++;
		r = ftpconns_open(base, server, timeout_ms, &fs.c[i]);
	}
	/* Bounded: every connection has its own read/connect timeout. */
	while (r == 0 && fs.pending > 0)
		if (event_base_loop(base, EVLOOP_ONCE) < 0)
			break;
	if (r == 0)
		ftpconns_tally(&fs, out);
	for (i = 0; i < fs.n; i++) {
		if (fs.c[i].bev == NULL)
			continue;
		/* Politely (a server logs an abrupt close as an error),
		 * straight to the socket: a queued write dies with the
		 * bufferevent. */
		if (fs.c[i].banner.code >= 200 && fs.c[i].banner.code < 300)
			(void)send(bufferevent_getfd(fs.c[i].bev), "QUIT\r\n",
			    6, MSG_DONTWAIT | MSG_NOSIGNAL);
		bufferevent_free(fs.c[i].bev);
	}
	return r;
}
