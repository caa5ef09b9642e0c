/*
 * ftpcheck_reply.c - the real FTP client's pure parts (ftpcheck.h): reply
 * reassembly, the 227/229 parsers, the PORT/EPRT formatters.  No I/O:
 * unit tests call them directly.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "err.h"
#include "ftpcheck.h"

/* ------------------------------------------------------------------ */
/* Pure parts                                                          */
/* ------------------------------------------------------------------ */

void
ftpcheck_rparser_init(struct ftpcheck_rparser *p)
{
	memset(p, 0, sizeof(*p));
}

/* "ddd", "ddd text" or "ddd-text" with d in 1..5 for the first digit. */
static int
ftpcheck_reply_start(const char *line, size_t len, int *code, int *multi)
{
	if (len < 3 || line[0] < '1' || line[0] > '5' ||
	    !isdigit((unsigned char)line[1]) || !isdigit((unsigned char)line[2]))
		return FTP_ERR_PROTO;
	if (len > 3 && line[3] != ' ' && line[3] != '-')
		return FTP_ERR_PROTO;
	*code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	*multi = len > 3 && line[3] == '-';
	return 0;
}

/* Keep the text printable ASCII: it ends up in JSON and terminals. */
static void
ftpcheck_reply_append(struct ftpcheck_reply *r, const char *line, size_t len)
{
	size_t have = strlen(r->text), room, i;

	r->nlines++;
	room = sizeof(r->text) - 1 - have;
	if (r->nlines > 1) {
		if (room == 0) {
			r->truncated = 1;
			return;
		}
		r->text[have++] = '\n';
		room--;
	}
	if (len > room) {
		len = room;
		r->truncated = 1;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		r->text[have + i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	r->text[have + len] = '\0';
}

int
ftpcheck_rparser_feed(struct ftpcheck_rparser *p, const char *line,
    size_t len, struct ftpcheck_reply *out)
{
	int code, multi, r;

	if (len > FTPCHECK_LINE_MAX)
		return FTP_ERR_TOOBIG;
	if (!p->in_multi) {
		if ((r = ftpcheck_reply_start(line, len, &code, &multi)) != 0)
			return r;
		memset(&p->cur, 0, sizeof(p->cur));
		p->cur.code = code;
		ftpcheck_reply_append(&p->cur, line, len);
		if (multi) {
			p->in_multi = 1;
			return 0;
		}
		goto complete;
	}
	if (p->cur.nlines >= FTPCHECK_REPLY_LINES_MAX)
		return FTP_ERR_TOOBIG;
	ftpcheck_reply_append(&p->cur, line, len);
	/* RFC 959: the last line repeats the code followed by a space; any
	 * other line (even "ddd-" or another code) is part of the text. */
	if (ftpcheck_reply_start(line, len, &code, &multi) == 0 && !multi &&
	    code == p->cur.code)
		goto complete;
	return 0;
complete:
	*out = p->cur;
	ftpcheck_rparser_init(p);
	return 1;
}

int
ftpcheck_reply_parse(const char *buf, size_t len, size_t *used,
    struct ftpcheck_reply *out)
{
	struct ftpcheck_rparser p;
	struct ftpcheck_reply r;
	size_t pos = 0, n;
	const char *nl;
	int rc;

	ftpcheck_rparser_init(&p);
	while (pos < len) {
		if ((nl = memchr(buf + pos, '\n', len - pos)) == NULL)
			return len - pos > FTPCHECK_LINE_MAX + 1 ?
			    FTP_ERR_TOOBIG : 0;
		n = (size_t)(nl - (buf + pos));
		if (n > 0 && buf[pos + n - 1] == '\r')
			n--;
		if ((rc = ftpcheck_rparser_feed(&p, buf + pos, n, &r)) < 0)
			return rc;
		pos = (size_t)(nl - buf) + 1;
		if (rc == 1) {
			*used = pos;
			*out = r;
			return 1;
		}
	}
	return 0;
}

/* Six comma-separated numbers 0..255 at s, each 1-3 digits. */
static int
ftpcheck_six(const char *s, unsigned v[6])
{
	int i, digits;

	for (i = 0; i < 6; i++) {
		v[i] = 0;
		for (digits = 0; isdigit((unsigned char)*s); s++) {
			if (++digits > 3)
				return -1;
			v[i] = v[i] * 10 + (unsigned)(*s - '0');
		}
		if (digits == 0 || v[i] > 255)
			return -1;
		if (i < 5 && *s++ != ',')
			return -1;
	}
	return 0;
}

int
ftpcheck_parse_227(const char *text, struct sockaddr_in *out)
{
	const char *s = text;
	unsigned v[6];
	uint16_t port;

	/* Skip the reply code so that "227" is never taken as h1. */
	if (isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) &&
	    isdigit((unsigned char)s[2]))
		s += 3;
	for (; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s) ||
		    (s > text && isdigit((unsigned char)s[-1])))
			continue;
		if (ftpcheck_six(s, v) != 0)
			continue;
		port = (uint16_t)(v[4] * 256 + v[5]);
		if (port == 0)
			continue;
		memset(out, 0, sizeof(*out));
		out->sin_family = AF_INET;
		out->sin_addr.s_addr = htonl((uint32_t)v[0] << 24 |
		    (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3]);
		out->sin_port = htons(port);
		return 0;
	}
	return FTP_ERR_INVAL;
}

int
ftpcheck_parse_229(const char *text, uint16_t *port)
{
	const char *s;
	unsigned long v;
	int digits;
	char d;

	for (s = strchr(text, '('); s != NULL; s = strchr(s + 1, '(')) {
		d = s[1];
		/* RFC 2428: any printable ASCII delimiter; digits would be
		 * ambiguous, so they are refused. */
		if (d < 33 || d > 126 || isdigit((unsigned char)d) ||
		    s[2] != d || s[3] != d)
			continue;
		v = 0;
		for (digits = 0; isdigit((unsigned char)s[4 + digits]) &&
		    digits < 6; digits++)
			v = v * 10 + (unsigned long)(s[4 + digits] - '0');
		if (digits == 0 || digits > 5 || v == 0 || v > 65535 ||
		    s[4 + digits] != d || s[5 + digits] != ')')
			continue;
		*port = (uint16_t)v;
		return 0;
	}
	return FTP_ERR_INVAL;
}

/* The IPv4 address of sa (plain or v4-mapped), or -1. */
static int
ftpcheck_v4(const struct sockaddr *sa, struct in_addr *a, uint16_t *port)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

	if (sa->sa_family == AF_INET) {
		*a = ((const struct sockaddr_in *)sa)->sin_addr;
		*port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		memcpy(a, &s6->sin6_addr.s6_addr[12], 4);
		*port = ntohs(s6->sin6_port);
		return 0;
	}
	return -1;
}

int
ftpcheck_format_port(const struct sockaddr *sa, char *buf, size_t len)
{
	struct in_addr a;
	uint16_t port;
	const unsigned char *b;
	int n;

	if (ftpcheck_v4(sa, &a, &port) != 0)
		return FTP_ERR_INVAL;
	b = (const unsigned char *)&a;
	n = snprintf(buf, len, "PORT %u,%u,%u,%u,%u,%u", b[0], b[1], b[2],
	    b[3], (unsigned)(port >> 8), (unsigned)(port & 0xff));
	return n < 0 || (size_t)n >= len ? FTP_ERR_TOOBIG : 0;
}

int
ftpcheck_format_eprt(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];
	struct in_addr a;
	uint16_t port;
	int n, proto = 1;

	if (ftpcheck_v4(sa, &a, &port) == 0) {
		inet_ntop(AF_INET, &a, host, sizeof(host));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		/* inet_ntop leaves out the scope, which the server could
		 * not use anyway. */
		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		port = ntohs(s6->sin6_port);
		proto = 2;
	} else {
		return FTP_ERR_INVAL;
	}
	n = snprintf(buf, len, "EPRT |%d|%s|%u|", proto, host, (unsigned)port);
	return n < 0 || (size_t)n >= len ? FTP_ERR_TOOBIG : 0;
}

int
ftpcheck_addr_private(const struct sockaddr *sa)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
	struct in_addr a;
	uint16_t port;
	uint32_t h;

	if (ftpcheck_v4(sa, &a, &port) == 0) {
		h = ntohl(a.s_addr);
		return (h >> 24) == 10 || (h >> 24) == 127 || (h >> 24) == 0 ||
		    (h >> 20) == (172u << 4 | 1) ||	/* 172.16/12 */
		    (h >> 16) == (192u << 8 | 168) ||	/* 192.168/16 */
		    (h >> 16) == (169u << 8 | 254) ||	/* 169.254/16 */
		    (h >> 22) == (100u << 2 | 1);	/* 100.64/10 */
	}
	if (sa->sa_family != AF_INET6)
		return 0;
	return IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr) ||
	    IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr) ||
	    IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr) ||
	    (s6->sin6_addr.s6_addr[0] & 0xfe) == 0xfc;	/* ULA fc00::/7 */
}

const char *
ftpcheck_mode_name(enum ftpcheck_mode m)
{
	static const char *const names[] = { "EPSV", "PASV", "EPRT", "PORT" };

	return (unsigned)m < FTPCHECK_NMODES ? names[m] : "?";
}
