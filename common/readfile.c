/*
 * readfile.c - a small whole file into memory, bounded (see readfile.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "err.h"
#include "readfile.h"

int
readfile_load(const char *path, size_t max, char **buf, size_t *len)
{
	FILE *f = NULL;
	char *b = NULL;
	size_t n;
	int r = FTP_ERR_SYSTEM, saved;

	if ((f = fopen(path, "re")) == NULL)
		goto out;
	if ((b = malloc(max + 1)) == NULL) {
		r = FTP_ERR_NOMEM;
		goto out;
	}
	/* One byte more than allowed tells a full file from a longer one. */
	n = fread(b, 1, max + 1, f);
	if (ferror(f)) {
		errno = errno != 0 ? errno : EIO;
		goto out;
	}
	if (n > max) {
		r = FTP_ERR_TOOBIG;
		goto out;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	b = NULL;
	r = 0;
out:
	saved = errno;
	free(b);
	/* Read-only: a failing fclose loses nothing we have read. */
	if (f != NULL)
		(void)fclose(f);
	errno = saved;
	return r;
}
