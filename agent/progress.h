/*
 * progress.h - one status line on a terminal while a check runs.
 *
 * Only for a run longer than a second, only when stderr is a terminal
 * (the caller decides, see progress_new): after PROGRESS_DELAY_MS the
 * current stage is drawn on stderr and redrawn as it changes, each draw
 * replacing the last ("\r" + erase line); progress_free() erases it, so
 * the report that follows starts on a clean line.  Driven by a timer on
 * the check's event base, which every stage runs.
 */
#ifndef FTPATH_PROGRESS_H
#define FTPATH_PROGRESS_H

#include <event2/event.h>

#define PROGRESS_DELAY_MS	1000
#define PROGRESS_TICK_MS	200

struct progress;

/* NULL when not enabled or out of memory (then every call is a no-op). */
struct progress *progress_new(struct event_base *base, int enabled);
/* The stage now running, printf-style, at most one line. */
void progress_stage(struct progress *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Erase the line (if drawn) and stop.  NULL is a no-op. */
void progress_free(struct progress *p);

#endif
