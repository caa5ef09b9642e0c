/*
 * clock.h - millisecond clocks.
 *
 * Durations and deadlines use the monotonic clock (immune to clock steps);
 * only values exchanged with the peer to compare clocks use wall time.
 */
#ifndef FTPATH_CLOCK_H
#define FTPATH_CLOCK_H

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t clock_mono_ms(void);
/* Milliseconds elapsed since t0 (a CLOCK_MONOTONIC reading), never
 * negative. */
unsigned clock_ms_since(const struct timespec *t0);
/* Milliseconds since the Unix epoch (CLOCK_REALTIME). */
long long clock_wall_ms(void);

#endif
