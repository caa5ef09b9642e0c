/*
 * probe.c - the probe engine and its observations (see probe.h):
 * probe_new(), the queue of probes to the FTP server's control and
 * passive ports, one observation each, and the queries on them.  The
 * probes run in probe_run.c; probe_int.h lists the parts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "addr.h"
#include "copypool.h"
#include "err.h"
#include "probe_int.h"

const char *
probe_id(enum probe_kind kind, uint16_t port, char *buf, size_t len)
{
	const char *name = kind == PROBE_CONTROL ? "control" :
	    kind == PROBE_PASSIVE ? "passive" : "active";

	snprintf(buf, len, "%s-%u", name, (unsigned)port);
	return buf;
}

struct probe_engine *
probe_new(struct event_base *base, const struct sockaddr *server,
    const char *token, unsigned timeout_ms)
{
	struct probe_engine *pe;

	if ((pe = calloc(1, sizeof(*pe))) == NULL)
		return NULL;
	pe->base = base;
	memcpy(&pe->server, server, addr_len(server));
	snprintf(pe->token, sizeof(pe->token), "%s", token);
	pe->timeout_ms = timeout_ms;
	pe->max_inflight = PROBE_MAX_INFLIGHT;
	pe->window = PROBE_WINDOW_START;
	pe->index = calloc(2 * 65536, sizeof(*pe->index));
	pe->slots = calloc(PROBE_MAX_INFLIGHT, sizeof(*pe->slots));
	pe->free_slots = calloc(PROBE_MAX_INFLIGHT, sizeof(*pe->free_slots));
	pe->kept = copypool_new();
	if (pe->index == NULL || pe->slots == NULL || pe->free_slots == NULL ||
	    pe->kept == NULL) {
		probe_free(pe);
		return NULL;
	}
	for (pe->n_free = 0; pe->n_free < PROBE_MAX_INFLIGHT; pe->n_free++) {
		pe->slots[pe->n_free].pe = pe;
		pe->slots[pe->n_free].fd = -1;
		/* the last slot is taken first */
		pe->free_slots[pe->n_free] = pe->n_free;
	}
	return pe;
}

void
probe_free(struct probe_engine *pe)
{
	size_t i;

	if (pe == NULL)
		return;
	for (i = 0; pe->slots != NULL && i < PROBE_MAX_INFLIGHT; i++)
		probe_close(&pe->slots[i]);
	for (i = 0; i < pe->n_late; i++)
		close(pe->late_fd[i]);
	free(pe->slots);
	free(pe->free_slots);
	free(pe->restarts);
	free(pe->again);
	free(pe->obs);
	copypool_free(pe->kept);
	free(pe->index);
	free(pe);
}

static uint32_t *
probe_slot(struct probe_engine *pe, enum probe_kind kind, uint16_t port)
{
	return &pe->index[(kind == PROBE_PASSIVE ? 65536u : 0u) + port];
}

/* Room for twice as many probes (both arrays).  0 or FTP_ERR_NOMEM. */
static int
probe_grow(struct probe_engine *pe)
{
	size_t cap = pe->cap ? pe->cap * 2 : 64;
	uint8_t *r;
	struct probe_obs *o;

	if ((r = realloc(pe->restarts, cap)) == NULL)
		return FTP_ERR_NOMEM;
	pe->restarts = r;
	if ((o = reallocarray(pe->obs, cap, sizeof(*o))) == NULL)
		return FTP_ERR_NOMEM;
	pe->obs = o;
	pe->cap = cap;
	return 0;
}

int
probe_add(struct probe_engine *pe, enum probe_kind kind, uint16_t port)
{
	struct probe_obs *o;
	uint32_t *slot;

	if (kind != PROBE_CONTROL && kind != PROBE_PASSIVE)
		return FTP_ERR_INVAL;
	slot = probe_slot(pe, kind, port);
	if (*slot != 0)
		return 0;
	if (pe->n == pe->cap && probe_grow(pe) != 0)
		return FTP_ERR_NOMEM;
	o = &pe->obs[pe->n];
	memset(o, 0, sizeof(*o));
	pe->restarts[pe->n] = 0;
	o->kind = kind;
	o->port = port;
	o->outcome = OUTCOME_NOT_RUN;
	(void)addr_inet_set(&o->remote, ADDR_SA(&pe->server));
	addr_set_port((struct sockaddr *)&o->remote, port);
	if (pe->first_of[kind] == 0)
		pe->first_of[kind] = pe->n + 1;
	*slot = (uint32_t)++pe->n;
	pe->n_kind[kind == PROBE_PASSIVE]++;
	return 0;
}

int
probe_done(const struct probe_engine *pe)
{
	return pe->finished == pe->n;
}

void
probe_wait(struct probe_engine *pe)
{
	while (!probe_done(pe))
		if (event_base_loop(pe->base, EVLOOP_ONCE) != 0)
			break;
}

struct copypool *
probe_kept(struct probe_engine *pe)
{
	return pe->kept;
}

size_t
probe_count(const struct probe_engine *pe)
{
	return pe->n;
}

struct probe_obs *
probe_obs_at(struct probe_engine *pe, size_t i)
{
	return i < pe->n ? &pe->obs[i] : NULL;
}

const struct probe_obs *
probe_obs_array(const struct probe_engine *pe)
{
	return pe->obs;
}

struct probe_obs *
probe_find(struct probe_engine *pe, const char *id)
{
	enum probe_kind kind;
	const char *num;
	char *end;
	unsigned long port;

	if (strncmp(id, "control-", 8) == 0) {
		kind = PROBE_CONTROL;
		num = id + 8;
	} else if (strncmp(id, "passive-", 8) == 0) {
		kind = PROBE_PASSIVE;
		num = id + 8;
	} else {
		return NULL;
	}
	errno = 0;
	port = strtoul(num, &end, 10);
	if (errno != 0 || end == num || *end != '\0' || port == 0 ||
	    port > 65535)
		return NULL;
	return probe_lookup(pe, kind, (uint16_t)port);
}

struct probe_obs *
probe_lookup(struct probe_engine *pe, enum probe_kind kind, uint16_t port)
{
	uint32_t idx;

	if (kind != PROBE_CONTROL && kind != PROBE_PASSIVE)
		return NULL;
	idx = *probe_slot(pe, kind, port);
	return idx ? &pe->obs[idx - 1] : NULL;
}
