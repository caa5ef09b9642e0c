/*
 * err.c - the FTP_ERR_* codes as text (see err.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

const char *
ftp_strerror(int err)
{
	switch (err) {
	case FTP_OK:		return "success";
	case FTP_ERR_SYSTEM:	return strerror(errno);
	case FTP_ERR_NOMEM:	return "out of memory";
	case FTP_ERR_INVAL:	return "invalid input";
	case FTP_ERR_AGAIN:	return "incomplete input";
	case FTP_ERR_TOOBIG:	return "too large";
	case FTP_ERR_PROTO:	return "protocol error";
	case FTP_ERR_TLS:	return "TLS error";
	case FTP_ERR_RANGE:	return "value out of range";
	case FTP_ERR_CONFIG:	return "configuration error";
	case FTP_ERR_DENIED:	return "refused by policy";
	case FTP_ERR_NOTFOUND:	return "not found";
	}
	return "unknown error";
}

void
ftp_errmsg(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}
