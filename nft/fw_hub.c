/*
 * fw_hub.c - the shared trace listener (fw_hub.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "fw_hub.h"
#include "fw_session.h"
#include "fw_trace.h"
#include "log.h"

/* Bursts per readable event: events come faster than one bounded read
 * per loop turn takes them (a whole range probed at once). */
#define FW_HUB_BURSTS	64
/* Every session's probe storm lands in this one socket. */
#define FW_HUB_RCVBUF	(64 * 1024 * 1024)

struct fw_hub {
	struct fw_trace_listener *l;
	struct event *ev;
	struct fw_session **s;
	unsigned n, cap;
	unsigned long lost;	/* ENOBUFS seen */
};

static void
fw_hub_event_cb(const struct fw_trace_event *ev, void *arg)
{
	struct fw_hub *h = arg;
	unsigned i;

	for (i = 0; i < h->n; i++)
		fw_session_feed(h->s[i], ev);
}

/* One bounded read; 0 when nothing was pending. */
static int
fw_hub_read_once(struct fw_hub *h)
{
	unsigned i;
	int n;

	if (h->l == NULL)
		return 0;
	n = fw_trace_read(h->l, fw_hub_event_cb, h);
	if (n == FTP_ERR_SYSTEM && errno == ENOBUFS) {
		h->lost++;
		for (i = 0; i < h->n; i++)
			fw_session_set_incomplete(h->s[i], "the kernel dropped "
			    "trace events (ENOBUFS): they were read too "
			    "slowly");
		log_warnx("trace: the kernel dropped trace events (ENOBUFS), "
		    "%u session(s) incomplete", h->n);
		return 1;
	}
	if (n < 0) {
		log_warnx("trace: reading trace events: %s", ftp_strerror(n));
		for (i = 0; i < h->n; i++)
			fw_session_set_incomplete(h->s[i], "reading the trace "
			    "events failed");
		return 0;
	}
	return n;
}

static void
fw_hub_read_cb(evutil_socket_t fd, short what, void *arg)
{
	int i;

	(void)fd;
	(void)what;
	for (i = 0; i < FW_HUB_BURSTS; i++)
		if (fw_hub_read_once(arg) <= 0)
			break;
}

struct fw_hub *
fw_hub_new(struct event_base *base)
{
	struct fw_hub *h;
	int e;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	if ((h->l = fw_trace_listener_new()) == NULL) {
		e = errno;
		free(h);
		errno = e;
		return NULL;
	}
	if (fw_trace_listener_set_rcvbuf(h->l, FW_HUB_RCVBUF) != 0)
		log_debug("trace: the shared listener keeps its default "
		    "receive buffer");
	h->ev = event_new(base, fw_trace_fd(h->l), EV_READ | EV_PERSIST,
	    fw_hub_read_cb, h);
	if (h->ev == NULL || event_add(h->ev, NULL) != 0) {
		fw_hub_free(h);
		errno = ENOMEM;
		return NULL;
	}
	return h;
}

void
fw_hub_free(struct fw_hub *h)
{
	if (h == NULL)
		return;
	if (h->n != 0)
		log_warnx("trace: %u session(s) still on the hub at exit", h->n);
	if (h->ev != NULL)
		event_free(h->ev);
	fw_trace_listener_free(h->l);
	free(h->s);
	free(h);
}

int
fw_hub_add(struct fw_hub *h, struct fw_session *s)
{
	struct fw_session **v;

	if (h->n == h->cap) {
		unsigned cap = h->cap ? 2 * h->cap : 16;

		if ((v = realloc(h->s, cap * sizeof(*v))) == NULL)
			return FTP_ERR_NOMEM;
		h->s = v;
		h->cap = cap;
	}
	h->s[h->n++] = s;
	return 0;
}

void
fw_hub_remove(struct fw_hub *h, struct fw_session *s)
{
	unsigned i;

	for (i = 0; i < h->n; i++)
		if (h->s[i] == s) {
			h->s[i] = h->s[--h->n];
			return;
		}
}

void
fw_hub_drain(struct fw_hub *h)
{
	int i;

	for (i = 0; i < FW_HUB_BURSTS; i++)
		if (fw_hub_read_once(h) <= 0)
			break;
}

unsigned
fw_hub_count(const struct fw_hub *h)
{
	return h->n;
}
