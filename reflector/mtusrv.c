/*
 * mtusrv.c - source and sink of the MTU test's probe connections
 * (mtusrv.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "clock.h"
#include "log.h"
#include "mtusrv.h"
#include "proto.h"

struct mtusrv_conn {
	struct mtusrv *m;		/* owner (the callbacks' way back) */
	int fd;				/* -1: slot free */
	struct event *ev;
	char ack[PROTO_PROBE_LINE_MAX + 16];
	size_t ack_len, ack_off;
	size_t sent, received;
	uint64_t deadline_ms;		/* closed then, whatever the agent does */
};

struct mtusrv {
	struct event_base *base;
	unsigned wait_ms;
	struct mtusrv_conn c[MTUSRV_MAX_CONNS];
};

struct mtusrv *
mtusrv_new(struct event_base *base, unsigned wait_ms)
{
	struct mtusrv *m;
	size_t i;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->base = base;
	m->wait_ms = wait_ms;
	for (i = 0; i < MTUSRV_MAX_CONNS; i++) {
		m->c[i].m = m;
		m->c[i].fd = -1;
	}
	return m;
}

static void
mtusrv_close(struct mtusrv_conn *k)
{
	if (k->ev != NULL) {
		event_free(k->ev);
		k->ev = NULL;
	}
	if (k->fd != -1) {
		log_debug("mtusrv: connection done, %zu bytes sent, %zu "
		    "received", k->sent, k->received);
		close(k->fd);
		k->fd = -1;
	}
}

void
mtusrv_free(struct mtusrv *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < MTUSRV_MAX_CONNS; i++)
		mtusrv_close(&m->c[i]);
	free(m);
}

/* The ack first, then the filler; -1 when the connection must end. */
static int
mtusrv_write(struct mtusrv_conn *k)
{
	static const char filler[2048] = { 0 };
	ssize_t w;

	while (k->ack_off < k->ack_len) {
		w = send(k->fd, k->ack + k->ack_off, k->ack_len - k->ack_off,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0)
			return errno == EAGAIN ? 0 : -1;
		k->ack_off += (size_t)w;
	}
	while (k->sent < MTUSRV_BYTES) {
		size_t n = MTUSRV_BYTES - k->sent;

		w = send(k->fd, filler, n < sizeof(filler) ? n :
		    sizeof(filler), MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0)
			return errno == EAGAIN ? 0 : -1;
		k->sent += (size_t)w;
	}
	return 0;
}

/* Drain the agent's bytes; 1 at its EOF, -1 on an error. */
static int
mtusrv_read(struct mtusrv_conn *k)
{
	char buf[4096];
	ssize_t n;

	for (;;) {
		n = recv(k->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0)
			return 1;
		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		k->received += (size_t)n;
	}
}

static void
mtusrv_conn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mtusrv_conn *k = arg;
	short want = EV_READ;
	struct timeval tv;
	uint64_t now = clock_mono_ms(), left;

	(void)fd;
	if ((what & EV_TIMEOUT) || now >= k->deadline_ms ||
	    mtusrv_read(k) != 0 || mtusrv_write(k) != 0) {
		mtusrv_close(k);
		return;
	}
	/* A one-shot event, re-armed: EV_WRITE only while bytes wait. */
	if (k->ack_off < k->ack_len || k->sent < MTUSRV_BYTES)
		want |= EV_WRITE;
	event_free(k->ev);
	left = k->deadline_ms - now;
	tv.tv_sec = (time_t)(left / 1000);
	tv.tv_usec = (suseconds_t)(left % 1000) * 1000;
	if ((k->ev = event_new(k->m->base, k->fd, want, mtusrv_conn_cb, k)) ==
	    NULL || event_add(k->ev, &tv) != 0)
		mtusrv_close(k);
}

static struct mtusrv_conn *
mtusrv_slot(struct mtusrv *m)
{
	size_t i;

	for (i = 0; i < MTUSRV_MAX_CONNS; i++)
		if (m->c[i].fd == -1)
			return &m->c[i];
	return NULL;
}

int
mtusrv_take(struct mtusrv *m, int fd, const char *probe)
{
	struct mtusrv_conn *k;
	struct timeval tv;
	int one = 1;

	if (m == NULL || strncmp(probe, MTUSRV_PROBE_PREFIX,
	    strlen(MTUSRV_PROBE_PREFIX)) != 0 || (k = mtusrv_slot(m)) == NULL)
		return 0;
	memset(k, 0, sizeof(*k));
	k->m = m;
	k->fd = -1;
	if (proto_probe_ack(k->ack, sizeof(k->ack), probe) != 0)
		return 0;
	k->ack_len = strlen(k->ack);
	/* Each write leaves at once: the segments are as large as the
	 * announced MSS allows, not coalesced by Nagle's timing. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	tv.tv_sec = m->wait_ms / 1000;
	tv.tv_usec = (suseconds_t)(m->wait_ms % 1000) * 1000;
	if ((k->ev = event_new(m->base, fd, EV_READ | EV_WRITE,
	    mtusrv_conn_cb, k)) == NULL || event_add(k->ev, &tv) != 0) {
		if (k->ev != NULL)
			event_free(k->ev);
		k->ev = NULL;
		return 0;
	}
	k->fd = fd;
	k->deadline_ms = clock_mono_ms() + m->wait_ms;
	log_debug("mtusrv: %s taken", probe);
	return 1;
}
