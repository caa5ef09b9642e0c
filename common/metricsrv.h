/*
 * metricsrv.h - a Prometheus scrape endpoint: GET /metrics on ADDR:PORT,
 * served from the caller's event base, in the text exposition format.
 *
 * The body is rendered for each scrape by the caller's callback (a
 * malloc'd NUL-terminated string the server frees), so what is served is
 * always the state of that moment.  Anything but GET /metrics is 404/405.
 */
#ifndef FTPATH_METRICSRV_H
#define FTPATH_METRICSRV_H

#include <stddef.h>
#include <event2/event.h>

struct metricsrv;

/* The exposition, malloc'd; NULL: out of memory (the scrape gets 500). */
typedef char *(*metricsrv_render_fn)(void *arg);

/*
 * Listen on listen ("ADDR:PORT", IPv6 in brackets; port 1-65535).
 * NULL with a message in err: not ADDR:PORT, or the bind failed (errno's
 * text).  base and arg must outlive the server.
 */
struct metricsrv *metricsrv_new(struct event_base *base, const char *listen,
    metricsrv_render_fn render, void *arg, char *err, size_t errlen);
void metricsrv_free(struct metricsrv *m);

#endif
