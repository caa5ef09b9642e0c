/*
 * probe.h - the agent's probe engine: TCP connects to the FTP server's
 * control port and every passive port, all in parallel on the process's
 * event_base, each recorded as a struct probe_obs (verdict.h).
 *
 * Every probe has its own deadline counted from its connect(), so a silent
 * drop of N ports in flight costs one timeout, not N.  How many sockets
 * are open at once is an adaptive window (probe_run.c): it starts at
 * PROBE_MAX_INFLIGHT (or what RLIMIT_NOFILE leaves), halves when the host
 * runs short (EAGAIN, ENOBUFS, ports, descriptors) and grows back while
 * probes get answers; the rest start as earlier ones finish.
 *
 * Usage: probe_new() -> probe_add()... -> probe_start() -> pump the loop
 * until probe_done() -> read probe_obs_at()/probe_find() -> probe_free().
 */
#ifndef FTPATH_AGENT_PROBE_H
#define FTPATH_AGENT_PROBE_H

#include <stddef.h>
#include <stdint.h>
#include <event2/event.h>

#include "verdict.h"

#define PROBE_MAX_INFLIGHT	2048
/* Silent probes whose sockets are kept for late ICMP (probe_late_icmp). */
#define PROBE_MAX_LATE		16
#define PROBE_ID_MAX		32

struct probe_engine;
struct copypool;

/* server (with any port) and token are copied.  NULL on ENOMEM. */
struct probe_engine *probe_new(struct event_base *base,
    const struct sockaddr *server, const char *token, unsigned timeout_ms);
void probe_free(struct probe_engine *pe);

/* Queue a probe of kind PROBE_CONTROL or PROBE_PASSIVE to port.  A second
 * add of the same kind and port is ignored.  0 or FTP_ERR_NOMEM/INVAL. */
int probe_add(struct probe_engine *pe, enum probe_kind kind, uint16_t port);

/* Raise the fd limit and start the first wave.  0 or a negative error. */
int probe_start(struct probe_engine *pe);

/*
 * cb(arg) is called after every few connects while a wave is started: the
 * agent reads its own trace there (ctrace_drain), which would otherwise
 * wait for the loop's next turn while thousands of traced SYNs fill its
 * socket.  NULL cb: none.  Before probe_start().
 */
void probe_set_pacer(struct probe_engine *pe, void (*cb)(void *), void *arg);
/* The window to start with (default 256; at most the cap): a pass over
 * ports known to be silent starts at the cap, as nothing will answer to
 * open it.  Before probe_start(). */
void probe_set_window(struct probe_engine *pe, size_t start);

/* 1 once every queued probe has an outcome. */
int probe_done(const struct probe_engine *pe);

/* Pump the engine's event_base until probe_done() (each probe's own
 * deadline bounds the wait).  For callers with nothing else to watch. */
void probe_wait(struct probe_engine *pe);

size_t probe_count(const struct probe_engine *pe);
/* Where the observations' reasons and rules are kept (verdict.h): what a
 * writer points an observation at lives as long as the engine. */
struct copypool *probe_kept(struct probe_engine *pe);
/* The i-th probe in the order added; mutable so the caller can merge the
 * reflector's view (arrived, seen_*, arm) into it. */
struct probe_obs *probe_obs_at(struct probe_engine *pe, size_t i);
/* All probe_count() observations as one array, in the order added
 * (NULL when there is none); valid until the next probe_add() or
 * probe_free(). */
const struct probe_obs *probe_obs_array(const struct probe_engine *pe);
/* The probe with this id ("control-21", "passive-40000"), or NULL. */
struct probe_obs *probe_find(struct probe_engine *pe, const char *probe_id);

/* The probe of this kind (control/passive) and port, or NULL. */
struct probe_obs *probe_lookup(struct probe_engine *pe, enum probe_kind kind,
    uint16_t port);

/*
 * ICMP errors that reached the kept sockets of silent probes after they
 * timed out (at most max into out; evidence.h); after_ms is the time
 * since the probe's SYN when it was read, an upper bound on its arrival.
 * Each error is read once.  Returns how many were written.
 */
struct evidence_late_icmp;
size_t probe_late_icmp(struct probe_engine *pe,
    struct evidence_late_icmp *out, size_t max);
/* How long until every kept socket is window_ms old (0: all are). */
unsigned probe_late_wait_ms(struct probe_engine *pe, unsigned window_ms);

/* "control-21" / "passive-40000" / "active-20" into buf. */
const char *probe_id(enum probe_kind kind, uint16_t port, char *buf,
    size_t len);

#endif
