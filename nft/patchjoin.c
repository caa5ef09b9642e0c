/*
 * patchjoin.c - several patch scripts for one host as one (patchjoin.h).
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "patchjoin.h"

static const char *const patchjoin_objects[] = {
	"add table ", "add chain ", "add ct helper ", "add set ", "add map ",
};

static int
patchjoin_is_object(const char *line, size_t len)
{
	size_t i, k;

	for (i = 0; i < sizeof(patchjoin_objects) /
	    sizeof(patchjoin_objects[0]); i++) {
		k = strlen(patchjoin_objects[i]);
		if (len >= k && memcmp(line, patchjoin_objects[i], k) == 0)
			return 1;
	}
	return 0;
}

/* An identical line (same length, same bytes, a line start) in
 * buf[0..used). */
static int
patchjoin_seen(const char *buf, size_t used, const char *line, size_t len)
{
	const char *p = buf, *end = buf + used;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);

		if (n == len && memcmp(p, line, len) == 0)
			return 1;
		p += n + 1;
	}
	return 0;
}

int
patchjoin(const char *const *scripts, size_t n, char **out)
{
	size_t i, total = 1, used = 0;
	char *buf;

	for (i = 0; i < n; i++)
		total += strlen(scripts[i]) + 1;
	if ((buf = malloc(total)) == NULL)
		return FTP_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		const char *p = scripts[i];

		while (*p != '\0') {
			const char *nl = strchr(p, '\n');
			size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);

			if (!patchjoin_is_object(p, len) ||
			    !patchjoin_seen(buf, used, p, len)) {
				memcpy(buf + used, p, len);
				used += len;
				buf[used++] = '\n';
			}
			p += len + (nl != NULL);
		}
	}
	buf[used] = '\0';
	*out = buf;
	return 0;
}
