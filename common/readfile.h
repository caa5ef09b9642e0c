/*
 * readfile.h - a small whole file into memory, bounded, for the parsers
 * that take a buffer (FTP server configuration, /etc/hosts, mountinfo):
 * they stay pure and the size limit is decided in one place.
 */
#ifndef FTPATH_READFILE_H
#define FTPATH_READFILE_H

#include <stddef.h>

/*
 * The whole of path into a new buffer (*buf, freed by the caller; a NUL
 * follows its *len bytes).  0; FTP_ERR_TOOBIG when the file holds more
 * than max bytes; FTP_ERR_SYSTEM (errno kept) when it cannot be opened
 * or read; FTP_ERR_NOMEM.  *buf and *len are set only on success.
 */
int readfile_load(const char *path, size_t max, char **buf, size_t *len);

#endif
