/*
 * err.h - the one error convention of ftpath.
 *
 * Functions return int: 0 on success, a negative FTP_ERR_* on failure.
 * FTP_ERR_SYSTEM means "look at errno", which the function preserves.
 * There is no global error state; callers pass the code up or print it
 * with ftp_strerror().
 */
#ifndef FTPATH_ERR_H
#define FTPATH_ERR_H

enum ftp_err {
	FTP_OK = 0,
	FTP_ERR_SYSTEM = -1,	/* errno holds the cause */
	FTP_ERR_NOMEM = -2,
	FTP_ERR_INVAL = -3,	/* malformed argument or input */
	FTP_ERR_AGAIN = -4,	/* need more input (incomplete frame) */
	FTP_ERR_TOOBIG = -5,	/* frame or value exceeds a limit */
	FTP_ERR_PROTO = -6,	/* peer violated the control protocol */
	FTP_ERR_TLS = -7,
	FTP_ERR_RANGE = -8,	/* value outside the allowed range */
	FTP_ERR_CONFIG = -9,
	FTP_ERR_DENIED = -10,	/* refused by policy (limits, allowed ports) */
	FTP_ERR_NOTFOUND = -11,
};

/* Static text for an FTP_ERR_* code; FTP_ERR_SYSTEM uses errno. */
const char *ftp_strerror(int err);

#include <stddef.h>

/* Format a message into a caller's optional buffer (err NULL or errlen 0:
 * nothing), as the parsers that explain a rejection do. */
__attribute__((format(printf, 3, 4)))
void ftp_errmsg(char *err, size_t errlen, const char *fmt, ...);

#endif
