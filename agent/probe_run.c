/*
 * probe_run.c - runs the probe engine's probes (probe.h, probe_int.h):
 * the slots of the sockets in flight, the adaptive window that bounds
 * them and the queue it starts from, each probe's non-blocking
 * connect, its line to the reflector and the reply, and the libevent
 * callback that drives them.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "addr.h"
#include "clock.h"
#include "err.h"
#include "errq.h"
#include "log.h"
#include "probe_int.h"
#include "proto.h"

/* Keep this many descriptors free for the control channel, the active
 * listener and libevent itself. */
#define PROBE_FD_RESERVE	64

/* Connects between two calls of the pacing hook (probe_set_pacer). */
#define PROBE_PACE_EVERY	16

static void probe_io_cb(evutil_socket_t fd, short what, void *arg);

void
probe_close(struct probe *p)
{
	if (p->ev != NULL) {
		event_free(p->ev);
		p->ev = NULL;
	}
	if (p->fd != -1) {
		close(p->fd);
		p->fd = -1;
	}
}

/* Halve the window, once per probe timeout: the probes in flight when
 * the host or the path ran short all report it, and one shortage is one
 * cut, not one per probe. */
static void
probe_window_cut(struct probe_engine *pe)
{
	size_t w = pe->window / 2;

	if (pe->cut_once && clock_ms_since(&pe->last_cut) < pe->timeout_ms)
		return;
	clock_gettime(CLOCK_MONOTONIC, &pe->last_cut);
	pe->cut_once = 1;
	pe->window = w < PROBE_WINDOW_MIN ? PROBE_WINDOW_MIN : w;
	pe->window_cuts++;
}

static void
probe_window_adapt(struct probe_engine *pe, enum probe_outcome outcome)
{
	if (outcome == OUTCOME_TIMEOUT || outcome == OUTCOME_LOCAL_ERROR ||
	    outcome == OUTCOME_NOT_RUN)
		return;
	if (pe->window < pe->max_inflight)
		pe->window++;
	if (pe->window > pe->window_peak)
		pe->window_peak = pe->window;
}

/* The host ran short of something a connect needs: worth a later try. */
static int
probe_short_err(int err)
{
	return err == EAGAIN || err == ENOBUFS || err == ENOMEM ||
	    err == EMFILE || err == ENFILE || err == EADDRNOTAVAIL;
}

/* p's socket is closed: its slot is free for the next probe.  The slot
 * keeps its phase until reused (probe_fill() reads it). */
static void
probe_slot_release(struct probe *p)
{
	struct probe_engine *pe = p->pe;

	pe->free_slots[pe->n_free++] = (size_t)(p - pe->slots);
}

/* Probes in flight: the slots taken. */
static size_t
probe_inflight(const struct probe_engine *pe)
{
	return PROBE_MAX_INFLIGHT - pe->n_free;
}

/*
 * Put p back at the head of the queue (its socket closed) after the host
 * ran short; 0 if it was, -1 if it must fail now: no other probe is in
 * flight to wake the queue again, or it was tried often enough.
 */
static int
probe_requeue(struct probe *p)
{
	struct probe_engine *pe = p->pe;
	size_t *a;

	if (probe_inflight(pe) <= 1 || pe->restarts[p->idx] >= PROBE_RESTARTS)
		return -1;
	if ((a = reallocarray(pe->again, pe->n_again + 1, sizeof(*a))) == NULL)
		return -1;
	pe->again = a;
	pe->again[pe->n_again++] = p->idx;
	pe->restarts[p->idx]++;
	probe_close(p);
	p->phase = PROBE_QUEUED;
	probe_slot_release(p);
	probe_window_cut(pe);
	return 0;
}

static void
probe_finish(struct probe *p, enum probe_outcome outcome, int err)
{
	struct probe_engine *pe = p->pe;
	char id[PROBE_ID_MAX];

	probe_o(p)->outcome = outcome;
	probe_o(p)->error = err;
	probe_o(p)->elapsed_ms = clock_ms_since(&p->t0);
	p->phase = PROBE_FINISHED;
	probe_window_adapt(pe, outcome);
	probe_linger(p);
	probe_close(p);
	probe_slot_release(p);
	pe->finished++;
	if (log_verbosity() >= 2)
		log_debug("probe %s: %s after %u ms",
		    probe_id(probe_o(p)->kind, probe_o(p)->port, id,
		    sizeof(id)),
		    outcome_name(outcome), probe_o(p)->elapsed_ms);
	if (pe->finished == pe->n)
		log_debug("probe: all %zu done; window at most %zu, cut %u "
		    "time(s)", pe->n, pe->window_peak, pe->window_cuts);
}

/* The connect failed (now or later): attribute it. */
static void
probe_failed(struct probe *p, int err)
{
	enum probe_outcome o;

	if (p->fd != -1 && errq_read(p->fd, &probe_o(p)->icmp) != 0)
		probe_o(p)->icmp.present = 0;
	if (probe_o(p)->icmp.present)
		o = OUTCOME_ICMP;
	else if (err == ECONNREFUSED)
		o = OUTCOME_RESET;
	else if (err == ETIMEDOUT)
		o = OUTCOME_TIMEOUT;
	else
		o = OUTCOME_LOCAL_ERROR;	/* EPERM: our output filter */
	probe_finish(p, o, err);
}

static int
probe_is_connected(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	return getpeername(fd, (struct sockaddr *)&ss, &sl) == 0;
}

/*
 * The reply wait is not a network timeout: the handshake already proved
 * the path, and a reflector accepting thousands of probes may take a
 * while to read each line.  Hence a floor well above the RTT-derived one.
 */
#define PROBE_REPLY_FLOOR_MS	2000

static unsigned
probe_reply_budget(const struct probe_engine *pe)
{
	return pe->timeout_ms > PROBE_REPLY_FLOOR_MS ? pe->timeout_ms :
	    PROBE_REPLY_FLOOR_MS;
}

/* Arm p->ev for `what` until the probe's deadline (at least 1 ms). */
static int
probe_arm(struct probe *p, short what, unsigned budget_ms)
{
	unsigned spent = clock_ms_since(&p->tphase);
	unsigned left = spent < budget_ms ? budget_ms - spent : 1;
	struct timeval tv = { left / 1000, (left % 1000) * 1000 };

	if (p->ev != NULL)
		event_free(p->ev);
	p->ev = event_new(p->pe->base, p->fd, what, probe_io_cb, p);
	if (p->ev == NULL || event_add(p->ev, &tv) != 0)
		return FTP_ERR_NOMEM;
	return 0;
}

static void
probe_start_one(struct probe *p)
{
	const struct sockaddr *sa =
	    (const struct sockaddr *)&probe_o(p)->remote;
	socklen_t sl = sizeof(probe_o(p)->local);

	p->phase = PROBE_CONNECTING;
	clock_gettime(CLOCK_MONOTONIC, &p->t0);
	p->tphase = p->t0;
	p->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (p->fd == -1) {
		if (!probe_short_err(errno) || probe_requeue(p) != 0)
			probe_finish(p, OUTCOME_LOCAL_ERROR, errno);
		return;
	}
	if (errq_enable(p->fd, sa->sa_family) != 0)
		log_warn("probe: IP_RECVERR");
	if (connect(p->fd, sa, addr_len(sa)) == -1 && errno != EINPROGRESS) {
		int err = errno;

		/* No ICMP can be queued yet for a connect that failed at
		 * once: a shortage here is ours, not the path's. */
		if (!probe_short_err(err) || probe_requeue(p) != 0)
			probe_failed(p, err);
		return;
	}
	/* The local end is known as soon as connect() picked a port; it
	 * matters for failures too (it is the 5-tuple a trace would show). */
	if (getsockname(p->fd, (struct sockaddr *)&probe_o(p)->local, &sl) == 0)
		addr_inet_unmap(&probe_o(p)->local);
	if (probe_arm(p, EV_WRITE, p->pe->timeout_ms) != 0)
		probe_finish(p, OUTCOME_LOCAL_ERROR, ENOMEM);
}

/* The next probe to start (a restarted one first) in a free slot, or
 * NULL.  A slot is free: fewer than PROBE_MAX_INFLIGHT are in flight. */
static struct probe *
probe_next(struct probe_engine *pe)
{
	struct probe *p;
	size_t idx;

	if (pe->n_free == 0)
		return NULL;
	if (pe->n_again > 0)
		idx = pe->again[--pe->n_again];
	else if (pe->next < pe->n)
		idx = pe->next++;
	else
		return NULL;
	p = &pe->slots[pe->free_slots[--pe->n_free]];
	memset(p, 0, sizeof(*p));
	p->pe = pe;
	p->idx = idx;
	p->fd = -1;
	return p;
}

static void
probe_fill(struct probe_engine *pe)
{
	struct probe *p;
	size_t again;

	while (probe_inflight(pe) < pe->window &&
	    probe_inflight(pe) < pe->max_inflight) {
		again = pe->n_again;
		if ((p = probe_next(pe)) == NULL)
			break;
		probe_start_one(p);
		/* Short again: wait for a probe to finish before the next. */
		if (pe->n_again > again || (pe->n_again == again &&
		    p->phase == PROBE_QUEUED))
			break;
		if (pe->pace != NULL && ++pe->since_pace >= PROBE_PACE_EVERY) {
			pe->since_pace = 0;
			pe->pace(pe->pace_arg);
		}
	}
}

void
probe_set_window(struct probe_engine *pe, size_t start)
{
	pe->window = start < PROBE_WINDOW_MIN ? PROBE_WINDOW_MIN : start;
}

void
probe_set_pacer(struct probe_engine *pe, void (*cb)(void *), void *arg)
{
	pe->pace = cb;
	pe->pace_arg = arg;
}

static void
probe_raise_nofile(struct probe_engine *pe)
{
	struct rlimit rl;
	size_t usable;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t want = rl.rlim_max;

		rl.rlim_cur = want;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			log_debug("probe: cannot raise RLIMIT_NOFILE");
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	usable = rl.rlim_cur > PROBE_FD_RESERVE + 16 ?
	    (size_t)(rl.rlim_cur - PROBE_FD_RESERVE) : 16;
	if (usable < pe->max_inflight)
		pe->max_inflight = usable;
	if (pe->window > pe->max_inflight)
		pe->window = pe->max_inflight;
	pe->window_peak = pe->window;
	log_debug("probe: %zu probes, %zu in flight at first, at most %zu, "
	    "timeout %u ms", pe->n, pe->window, pe->max_inflight,
	    pe->timeout_ms);
}

int
probe_start(struct probe_engine *pe)
{
	probe_raise_nofile(pe);
	probe_fill(pe);
	return 0;
}

/* Printable first line of what another service sent, for evidence. */
static void
probe_banner(struct probe *p)
{
	size_t i, o = 0;

	for (i = 0; i < p->len && o < sizeof(probe_o(p)->banner) - 1; i++) {
		unsigned char ch = (unsigned char)p->buf[i];

		if (ch == '\r' || ch == '\n')
			break;
		probe_o(p)->banner[o++] = (ch >= 0x20 && ch < 0x7f) ?
		    (char)ch : '.';
	}
	probe_o(p)->banner[o] = '\0';
}

static void
probe_judge_reply(struct probe *p, int err)
{
	char want[PROBE_ID_MAX], got[PROBE_ID_MAX];

	if (p->len == 0) {
		probe_finish(p, OUTCOME_SILENT_PEER, err);
		return;
	}
	probe_id(probe_o(p)->kind, probe_o(p)->port, want, sizeof(want));
	if (proto_probe_ack_parse(p->buf, p->len, got, sizeof(got)) == 0 &&
	    strcmp(got, want) == 0) {
		probe_finish(p, OUTCOME_ACKED, 0);
		return;
	}
	probe_banner(p);
	probe_finish(p, OUTCOME_OTHER_SERVICE, 0);
}

static void
probe_connected(struct probe *p)
{
	char line[PROTO_PROBE_LINE_MAX], id[PROBE_ID_MAX];
	socklen_t sl = sizeof(probe_o(p)->remote);
	ssize_t n;
	int len;

	if (getpeername(p->fd, (struct sockaddr *)&probe_o(p)->remote,
	    &sl) == 0)
		addr_inet_unmap(&probe_o(p)->remote);
	probe_id(probe_o(p)->kind, probe_o(p)->port, id, sizeof(id));
	if (proto_probe_line(line, sizeof(line), p->pe->token, id) != 0) {
		probe_finish(p, OUTCOME_LOCAL_ERROR, EINVAL);
		return;
	}
	len = (int)strlen(line);
	n = send(p->fd, line, (size_t)len, MSG_NOSIGNAL);
	if (n != len) {
		/* Connected, then reset at once: the peer said nothing. */
		probe_finish(p, OUTCOME_SILENT_PEER, n < 0 ? errno : EIO);
		return;
	}
	p->phase = PROBE_READING;
	/* The reply gets a fresh budget: the connect may have used most of
	 * the first one, and a peer that accepted is no silent drop. */
	clock_gettime(CLOCK_MONOTONIC, &p->tphase);
	if (probe_arm(p, EV_READ | EV_PERSIST, probe_reply_budget(p->pe)) != 0)
		probe_finish(p, OUTCOME_LOCAL_ERROR, ENOMEM);
}

static void
probe_on_writable(struct probe *p)
{
	int err = 0;
	socklen_t el = sizeof(err);

	if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
		err = errno;
	if (err == EINPROGRESS || err == EALREADY)
		return;	/* spurious wake-up: the caller re-arms */
	if (err != 0)
		probe_failed(p, err);
	else
		probe_connected(p);
}

static void
probe_on_readable(struct probe *p)
{
	ssize_t n;

	n = recv(p->fd, p->buf + p->len, sizeof(p->buf) - 1 - p->len, 0);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		probe_judge_reply(p, errno);
		return;
	}
	p->len += (size_t)n;
	p->buf[p->len] = '\0';
	if (n == 0 || memchr(p->buf, '\n', p->len) != NULL ||
	    p->len == sizeof(p->buf) - 1)
		probe_judge_reply(p, 0);
}

/*
 * A busy loop can see a probe's timer and its readiness in the same
 * iteration (libevent then reports both), so the socket is asked before
 * a timeout is declared: a handshake the kernel completed is no drop, and
 * a reply already queued is no silence.
 */
static void
probe_on_timeout(struct probe *p)
{
	int err = 0;
	socklen_t el = sizeof(err);

	if (p->phase == PROBE_READING) {
		probe_on_readable(p);
		if (p->phase == PROBE_READING)
			probe_judge_reply(p, 0);
		return;
	}
	if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 &&
	    err == 0 && probe_is_connected(p->fd)) {
		probe_connected(p);
		return;
	}
	if (err != 0 && err != EINPROGRESS && err != EALREADY) {
		probe_failed(p, err);
		return;
	}
	/* An ICMP error that did not fail the connect still names a cause. */
	if (errq_read(p->fd, &probe_o(p)->icmp) == 0 &&
	    probe_o(p)->icmp.present) {
		probe_finish(p, OUTCOME_ICMP, ETIMEDOUT);
		return;
	}
	probe_finish(p, OUTCOME_TIMEOUT, ETIMEDOUT);
}

static void
probe_io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;
	struct probe_engine *pe = p->pe;

	(void)fd;
	/* No new probe may take p's slot while p's handlers still read it:
	 * the queue is refilled after them (probe_finish() does not). */
	if (what & EV_TIMEOUT)
		probe_on_timeout(p);
	else if (p->phase == PROBE_CONNECTING) {
		probe_on_writable(p);
		if (p->phase == PROBE_CONNECTING &&
		    probe_arm(p, EV_WRITE, pe->timeout_ms) != 0)
			probe_finish(p, OUTCOME_LOCAL_ERROR, ENOMEM);
	} else if (p->phase == PROBE_READING)
		probe_on_readable(p);
	probe_fill(pe);
}
