/*
 * metricsrv.c - the /metrics endpoint on libevent's evhttp (metricsrv.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "addr.h"
#include "metricsrv.h"

struct metricsrv {
	struct evhttp *http;
	metricsrv_render_fn render;
	void *arg;
};

static void
metricsrv_cb(struct evhttp_request *req, void *arg)
{
	struct metricsrv *m = arg;
	struct evbuffer *out;
	char *text;

	if (strcmp(evhttp_request_get_uri(req), "/metrics") != 0) {
		evhttp_send_error(req, HTTP_NOTFOUND, "only /metrics here");
		return;
	}
	if ((text = m->render(m->arg)) == NULL ||
	    (out = evbuffer_new()) == NULL) {
		free(text);
		evhttp_send_error(req, HTTP_INTERNAL, "out of memory");
		return;
	}
	evbuffer_add(out, text, strlen(text));
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	evhttp_send_reply(req, HTTP_OK, "OK", out);
	evbuffer_free(out);
	free(text);
}

struct metricsrv *
metricsrv_new(struct event_base *base, const char *listen,
    metricsrv_render_fn render, void *arg, char *err, size_t errlen)
{
	struct metricsrv *m;
	char host[256];
	uint16_t port;

	if (addr_split_hostport(listen, 0, host, sizeof(host), &port) != 0 ||
	    port == 0) {
		snprintf(err, errlen, "%s: not ADDR:PORT", listen);
		return NULL;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (m->http = evhttp_new(base)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", listen);
		free(m);
		return NULL;
	}
	m->render = render;
	m->arg = arg;
	errno = 0;
	if (evhttp_bind_socket(m->http, host, port) != 0) {
		snprintf(err, errlen, "%s: cannot listen there%s%s", listen,
		    errno != 0 ? ": " : "", errno != 0 ? strerror(errno) : "");
		metricsrv_free(m);
		return NULL;
	}
	evhttp_set_allowed_methods(m->http, EVHTTP_REQ_GET);
	evhttp_set_gencb(m->http, metricsrv_cb, m);
	return m;
}

void
metricsrv_free(struct metricsrv *m)
{
	if (m == NULL)
		return;
	if (m->http != NULL)
		evhttp_free(m->http);
	free(m);
}
