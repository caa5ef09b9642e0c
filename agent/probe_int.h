/*
 * probe_int.h - what the parts of the probe engine share.  Not for
 * other modules: probe.h is the interface.
 *
 * probe.c holds the engine and its observations: probe_new(), the
 * queue of probes added and the queries on what they observed.
 * probe_run.c runs them: the slots of the probes in flight, the
 * adaptive window, each probe's connect and reply and the libevent
 * callback that drives them.  probe_late.c keeps the sockets of the
 * first silent probes open and reads the ICMP that reaches them late.
 */
#ifndef FTPATH_AGENT_PROBE_INT_H
#define FTPATH_AGENT_PROBE_INT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "probe.h"
#include "proto.h"
#include "verdict.h"

/*
 * The in-flight window (what the host and the path take): it starts at
 * the cap (PROBE_WINDOW_START, probe_set_window), halves, at most once
 * per probe timeout, when the host ran short (EAGAIN, ENOBUFS, no free
 * port or descriptor), and grows again by one per probe that got an
 * answer.  A silent probe neither grows nor cuts it: silence is what a
 * filtered port answers, and a window cut per filtered block would queue
 * a range behind its drops.  Not a slow start either: a silently dropped
 * range answers nothing to grow on, and 256 at first made 1000 dropped
 * ports four rounds of timeouts (tests/bench/bench.sh 1000 ports: 2.20 s
 * against nmap's 4.45 s, 0.49; from the cap one round).  A probe the
 * host could not start is started again later, up to PROBE_RESTARTS
 * times, instead of being reported as a local error.
 */
#define PROBE_WINDOW_START	PROBE_MAX_INFLIGHT
#define PROBE_WINDOW_MIN	32
#define PROBE_RESTARTS		3

enum probe_phase {
	PROBE_QUEUED,
	PROBE_CONNECTING,
	PROBE_READING,
	PROBE_FINISHED,
};

/*
 * The socket state of a probe in flight: one of the engine's
 * PROBE_MAX_INFLIGHT slots, bound to its observation pe->obs[idx] from
 * connect() to its end, then free for the next.  Per port only the
 * observation (and a restart count) is kept: with 64,512 ports a slot
 * per port was 13 MB of read buffers nobody reads.
 */
struct probe {
	struct probe_engine *pe;
	size_t idx;			/* its observation, pe->obs[idx] */
	enum probe_phase phase;
	int fd;
	struct event *ev;
	struct timespec t0;		/* connect(): elapsed_ms from here */
	struct timespec tphase;		/* start of this phase's budget */
	size_t len;
	char buf[PROTO_PROBE_LINE_MAX];
};

struct probe_engine {
	struct event_base *base;
	struct sockaddr_storage server;
	char token[PROTO_TOKEN_HEXLEN + 1];
	unsigned timeout_ms;
	/* The slots (PROBE_MAX_INFLIGHT) and the free ones' indexes. */
	struct probe *slots;
	size_t *free_slots;
	size_t n_free;
	uint8_t *restarts;		/* per observation (PROBE_RESTARTS) */
	/* The observations, apart and in the same order, so that the
	 * evidence can borrow them as one array (probe_obs_array). */
	struct probe_obs *obs;
	size_t n, cap;
	struct copypool *kept;		/* their reasons and rules */
	size_t next;			/* first probe not yet started */
	size_t finished;
	size_t max_inflight;		/* cap: fd limit, PROBE_MAX_INFLIGHT */
	size_t window;			/* the adaptive in-flight bound */
	size_t window_peak;
	unsigned window_cuts;
	struct timespec last_cut;	/* when the window last halved */
	int cut_once;			/* last_cut is set */
	/* Probes the host could not start, to start again first. */
	size_t *again;
	size_t n_again;
	void (*pace)(void *);		/* probe_set_pacer() */
	void *pace_arg;
	unsigned since_pace;
	/* (kind, port) -> index + 1, so arrivals merge in O(1). */
	uint32_t *index;
	/* Sockets of probes that timed out, kept open so that an ICMP error
	 * arriving later still lands in their error queue. */
	int late_fd[PROBE_MAX_LATE];
	size_t late_probe[PROBE_MAX_LATE];
	struct timespec late_t0[PROBE_MAX_LATE];	/* their connect() */
	size_t n_late;
	int icmp_seen;			/* some probe got ICMP promptly */
	size_t n_kind[2];		/* probes per kind (control, passive) */
	/* 1 + the index of each kind's first probe (0: none yet), so that a
	 * timeout need not scan the observations to learn it. */
	size_t first_of[PROBE_ACTIVE + 1];
};

/* p's observation.  Inline here, as it was while the engine was one
 * file: every step of every probe in flight reads it. */
static inline struct probe_obs *
probe_o(const struct probe *p)
{
	return &p->pe->obs[p->idx];
}

/* probe_run.c */
/* Free p's event and close its socket (either may be gone). */
void probe_close(struct probe *p);

/* probe_late.c */
/* p has its outcome: keep its socket for late ICMP when it is one of
 * the first silent probes (p->fd is then -1, p->ev NULL). */
void probe_linger(struct probe *p);

#endif
