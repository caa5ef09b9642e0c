/*
 * copypool.c - copies of small records that live as long as their pool.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "copypool.h"

/* How many of the latest copies a new one is compared with: enough for
 * the runs of equal records an observation array holds, bounded so that
 * keeping stays O(1). */
#define COPYPOOL_RECENT 16

struct copy {
	struct copy *next;	/* the one kept before */
	size_t len;
	max_align_t data[];	/* aligned for any record */
};

struct copypool {
	struct copy *last;
};

struct copypool *
copypool_new(void)
{
	return calloc(1, sizeof(struct copypool));
}

void
copypool_free(struct copypool *cp)
{
	struct copy *c, *next;

	if (cp == NULL)
		return;
	for (c = cp->last; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(cp);
}

static const void *
copypool_recent(const struct copypool *cp, const void *p, size_t len)
{
	const struct copy *c = cp->last;
	int i;

	for (i = 0; c != NULL && i < COPYPOOL_RECENT; i++, c = c->next)
		if (c->len == len && memcmp(c->data, p, len) == 0)
			return c->data;
	return NULL;
}

const void *
copypool_bytes(struct copypool *cp, const void *p, size_t len)
{
	const void *had;
	struct copy *c;

	if ((had = copypool_recent(cp, p, len)) != NULL)
		return had;
	if (len > SIZE_MAX - sizeof(*c) ||
	    (c = malloc(sizeof(*c) + len)) == NULL)
		return NULL;
	c->len = len;
	memcpy(c->data, p, len);
	c->next = cp->last;
	cp->last = c;
	return c->data;
}

const char *
copypool_str(struct copypool *cp, const char *s)
{
	return s == NULL ? NULL : copypool_bytes(cp, s, strlen(s) + 1);
}
