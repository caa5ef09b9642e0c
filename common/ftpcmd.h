/*
 * ftpcmd.h - the FTP command and reply texts an ALG rewrites (RFC 959
 * PORT/227, RFC 2428 EPRT/229), and an exact, printable encoding of raw
 * bytes for JSON.  Pure: both programs and the unit tests call it.
 *
 * The ALG dialogue (PROTOCOL.md "ALG dialogue") compares the bytes each
 * end sent with the bytes the other end received.  JSON strings must be
 * UTF-8, and an ALG may leave anything on the wire, so the transcripts
 * travel escaped: printable ASCII other than '\' as itself, "\\" for a
 * backslash, "\r", "\n", "\t", and "\xHH" for every other byte.  The
 * encoding is a bijection: ftpcmd_unescape(ftpcmd_escape(b)) == b.
 */
#ifndef FTPATH_FTPCMD_H
#define FTPATH_FTPCMD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <jansson.h>

/* Longest command or reply line the dialogue handles. */
#define FTPCMD_LINE_MAX	512

/*
 * The address of a PORT argument "h1,h2,h3,h4,p1,p2" (spaces around the
 * numbers refused, as the kernel's helper refuses them).  args is the text
 * after "PORT ", without the line end.  0 (out: AF_INET with port) or
 * FTP_ERR_INVAL.
 */
int ftpcmd_parse_port(const char *args, struct sockaddr_storage *out);

/*
 * The address of an EPRT argument "|1|192.0.2.1|port|" or
 * "|2|2001:db8::1|port|" (any delimiter in 33-126, RFC 2428).  0 or
 * FTP_ERR_INVAL (also for a family that does not match the address).
 */
int ftpcmd_parse_eprt(const char *args, struct sockaddr_storage *out);

/* "227 Entering Passive Mode (h1,h2,h3,h4,p1,p2).\r\n" for an IPv4 sa
 * (address and port from sa).  0, FTP_ERR_INVAL (not IPv4), FTP_ERR_TOOBIG. */
int ftpcmd_format_227(const struct sockaddr *sa, char *buf, size_t len);
/* "229 Entering Extended Passive Mode (|||port|)\r\n". */
int ftpcmd_format_229(uint16_t port, char *buf, size_t len);

/*
 * Escape n bytes of in into out (NUL-terminated).  Returns 0, or
 * FTP_ERR_TOOBIG when out is too small (out then holds a truncated but
 * well-formed prefix).  At most 4 output bytes per input byte.
 */
int ftpcmd_escape(const void *in, size_t n, char *out, size_t outlen);
/* The n bytes escaped, as a new JSON string (a transcript as the ALG
 * dialogue's messages and the report carry it); NULL on ENOMEM. */
json_t *ftpcmd_escape_json(const void *in, size_t n);

/*
 * Undo ftpcmd_escape: the bytes into out, their count in *n.  0, FTP_ERR_INVAL for a
 * malformed escape, FTP_ERR_TOOBIG when out is too small.
 */
int ftpcmd_unescape(const char *in, void *out, size_t outlen, size_t *n);

/*
 * The next line of buf (len bytes) from *off: its text (without "\r\n"
 * or "\n") in *line and *linelen, *off moved past it.  A last line without a
 * line end is returned too (*complete 0).  0, or FTP_ERR_AGAIN at the end.
 */
int ftpcmd_next_line(const char *buf, size_t len, size_t *off,
    const char **line, size_t *linelen, int *complete);

#endif
