/*
 * progress.c - the status line of a check on a terminal (progress.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "progress.h"

struct progress {
	struct event *tick;
	struct timespec t0;
	char stage[120];
	char drawn[120];	/* what the terminal shows, "" if nothing */
	unsigned drawn_s;	/* ... and its seconds */
};

static void
progress_draw(struct progress *p)
{
	unsigned ms = clock_ms_since(&p->t0);

	if (ms < PROGRESS_DELAY_MS || (strcmp(p->stage, p->drawn) == 0 &&
	    ms / 1000 == p->drawn_s))
		return;
	/* \r and erase-line: the line is redrawn in place. */
	fprintf(stderr, "\r\033[Kftpath-agent: %s (%u s)", p->stage,
	    ms / 1000);
	fflush(stderr);
	memcpy(p->drawn, p->stage, sizeof(p->drawn));
	p->drawn_s = ms / 1000;
}

static void
progress_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	progress_draw(arg);
}

struct progress *
progress_new(struct event_base *base, int enabled)
{
	struct timeval tv = { 0, PROGRESS_TICK_MS * 1000 };
	struct progress *p;

	if (!enabled || (p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	clock_gettime(CLOCK_MONOTONIC, &p->t0);
	p->tick = event_new(base, -1, EV_PERSIST, progress_tick_cb, p);
	if (p->tick == NULL || event_add(p->tick, &tv) != 0) {
		progress_free(p);
		return NULL;
	}
	return p;
}

void
progress_stage(struct progress *p, const char *fmt, ...)
{
	va_list ap;

	if (p == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(p->stage, sizeof(p->stage), fmt, ap);
	va_end(ap);
	progress_draw(p);
}

void
progress_free(struct progress *p)
{
	if (p == NULL)
		return;
	if (p->tick != NULL)
		event_free(p->tick);
	if (p->drawn[0] != '\0') {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	free(p);
}
