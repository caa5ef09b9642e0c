/*
 * clock.h - millisecond clocks.
 *
 * Durations and deadlines use the monotonic clock (immune to clock steps);
 * only values exchanged with the peer to compare clocks use wall time.
 */
#ifndef FTPATH_CLOCK_H
#define FTPATH_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t clock_mono_ms(void);
/* Milliseconds since the Unix epoch (CLOCK_REALTIME). */
long long clock_wall_ms(void);

#endif
