/*
 * jsonstr.h - strings in and out of jansson values, for JSON that comes
 * from the peer (fields may be missing or of another type) and for the
 * report's optional strings.  Pure: no I/O, no allocation of ours.
 */
#ifndef FTPATH_JSONSTR_H
#define FTPATH_JSONSTR_H

#include <stddef.h>
#include <jansson.h>

/* o[key] if it is a string, else dflt (o not an object, key missing or
 * not a string).  The result lives as long as o or dflt. */
const char *jsonstr_get(const json_t *o, const char *key, const char *dflt);

/* v's string, or "" when v is NULL or no string, into dst (truncated to
 * len - 1 bytes, always terminated; len > 0). */
void jsonstr_copy(char *dst, size_t len, const json_t *v);

/* A new JSON string of s, or JSON null for NULL or "" (an optional text
 * that is absent); NULL on ENOMEM or when s is not UTF-8. */
json_t *jsonstr_or_null(const char *s);

#endif
