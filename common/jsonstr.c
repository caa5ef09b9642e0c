/*
 * jsonstr.c - strings in and out of jansson values (see jsonstr.h).
 */
#include <stdio.h>

#include "jsonstr.h"

const char *
jsonstr_get(const json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : dflt;
}

void
jsonstr_copy(char *dst, size_t len, const json_t *v)
{
	const char *s = json_string_value(v);

	snprintf(dst, len, "%s", s != NULL ? s : "");
}

json_t *
jsonstr_or_null(const char *s)
{
	return s != NULL && s[0] != '\0' ? json_string(s) : json_null();
}
