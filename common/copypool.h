/*
 * copypool.h - copies of small records that live as long as their pool.
 *
 * A probe observation points at its trace reason and at the rule that
 * dropped it instead of holding them: a full passive range has 64,512
 * observations and nearly all of them share one reason and no rule, so
 * the copies live once in the pool of whoever owns the observations (the
 * probe engine, the agent's trace, the report) and the observations carry
 * pointers.  A copy equal to one of the last few kept is not kept twice.
 */
#ifndef FTPATH_COPYPOOL_H
#define FTPATH_COPYPOOL_H

#include <stddef.h>

struct copypool;

/* NULL: out of memory. */
struct copypool *copypool_new(void);
/* Frees every copy: pointers from the pool are invalid afterwards. */
void copypool_free(struct copypool *cp);

/* A copy of the len bytes at p, valid until copypool_free; NULL: out of
 * memory. */
const void *copypool_bytes(struct copypool *cp, const void *p, size_t len);
/* The same for a string; NULL s gives NULL. */
const char *copypool_str(struct copypool *cp, const char *s);

#endif
