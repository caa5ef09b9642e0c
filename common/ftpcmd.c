/*
 * ftpcmd.c - PORT/EPRT/227/229 texts and the byte escaping of the ALG
 * dialogue (see ftpcmd.h).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "err.h"
#include "ftpcmd.h"

/* A decimal number of 1-5 digits at *s, at most max; *s moves past it. */
static int
ftpcmd_number(const char **s, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;
	int digits = 0;

	while (isdigit((unsigned char)**s) && digits < 6) {
		v = v * 10 + (unsigned long)(**s - '0');
		(*s)++;
		digits++;
	}
	if (digits == 0 || digits > 5 || v > max)
		return FTP_ERR_INVAL;
	*out = v;
	return 0;
}

int
ftpcmd_parse_port(const char *args, struct sockaddr_storage *out)
{
	struct sockaddr_in *sin;
	unsigned long v[6];
	const char *s = args;
	int i;

	for (i = 0; i < 6; i++) {
		if (ftpcmd_number(&s, 255, &v[i]) != 0)
			return FTP_ERR_INVAL;
		if (i < 5 && *s++ != ',')
			return FTP_ERR_INVAL;
	}
	if (*s != '\0')
		return FTP_ERR_INVAL;
	memset(out, 0, sizeof(*out));
	sin = (struct sockaddr_in *)out;
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl((uint32_t)(v[0] << 24 | v[1] << 16 |
	    v[2] << 8 | v[3]));
	sin->sin_port = htons((uint16_t)(v[4] * 256 + v[5]));
	return 0;
}

int
ftpcmd_parse_eprt(const char *args, struct sockaddr_storage *out)
{
	char d = args[0], host[INET6_ADDRSTRLEN + 1];
	const char *s = args, *end;
	struct sockaddr_storage ss;
	unsigned long fam, port;
	socklen_t sl;
	size_t n;

	if (d < 33 || d > 126 || isdigit((unsigned char)d))
		return FTP_ERR_INVAL;
	s++;
	if (ftpcmd_number(&s, 2, &fam) != 0 || fam == 0 || *s++ != d)
		return FTP_ERR_INVAL;
	if ((end = strchr(s, d)) == NULL || (n = (size_t)(end - s)) == 0 ||
	    n >= sizeof(host))
		return FTP_ERR_INVAL;
	memcpy(host, s, n);
	host[n] = '\0';
	s = end + 1;
	if (ftpcmd_number(&s, 65535, &port) != 0 || *s++ != d || *s != '\0')
		return FTP_ERR_INVAL;
	if (addr_parse_ip(host, &ss, &sl) != 0 ||
	    ss.ss_family != (fam == 1 ? AF_INET : AF_INET6))
		return FTP_ERR_INVAL;
	addr_set_port((struct sockaddr *)&ss, (uint16_t)port);
	*out = ss;
	return 0;
}

int
ftpcmd_format_227(const struct sockaddr *sa, char *buf, size_t len)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
	uint32_t a;
	unsigned int p;	/* not uint16_t: p >> 8 would promote to int for %u */
	int n;

	if (sa->sa_family != AF_INET)
		return FTP_ERR_INVAL;
	a = ntohl(sin->sin_addr.s_addr);
	p = ntohs(sin->sin_port);
	n = snprintf(buf, len, "227 Entering Passive Mode "
	    "(%u,%u,%u,%u,%u,%u).\r\n", a >> 24, (a >> 16) & 255,
	    (a >> 8) & 255, a & 255, p >> 8, p & 255);
	return n < 0 || (size_t)n >= len ? FTP_ERR_TOOBIG : 0;
}

int
ftpcmd_format_229(uint16_t port, char *buf, size_t len)
{
	int n = snprintf(buf, len, "229 Entering Extended Passive Mode "
	    "(|||%u|)\r\n", port);

	return n < 0 || (size_t)n >= len ? FTP_ERR_TOOBIG : 0;
}

/* The escape of one byte into e (at most 4 chars + NUL). */
static void
ftpcmd_escape_byte(unsigned char c, char e[5])
{
	switch (c) {
	case '\\':	snprintf(e, 5, "\\\\"); return;
	case '\r':	snprintf(e, 5, "\\r"); return;
	case '\n':	snprintf(e, 5, "\\n"); return;
	case '\t':	snprintf(e, 5, "\\t"); return;
	}
	if (c >= 0x20 && c < 0x7f)
		snprintf(e, 5, "%c", c);
	else
		snprintf(e, 5, "\\x%02x", c);
}

int
ftpcmd_escape(const void *in, size_t n, char *out, size_t outlen)
{
	const unsigned char *p = in;
	size_t i, o = 0, el;
	char e[5];

	if (outlen == 0)
		return FTP_ERR_TOOBIG;
	for (i = 0; i < n; i++) {
		ftpcmd_escape_byte(p[i], e);
		el = strlen(e);
		if (o + el >= outlen) {
			out[o] = '\0';
			return FTP_ERR_TOOBIG;
		}
		memcpy(out + o, e, el);
		o += el;
	}
	out[o] = '\0';
	return 0;
}

json_t *
ftpcmd_escape_json(const void *in, size_t n)
{
	char *e;
	json_t *j;

	if (n > (SIZE_MAX - 1) / 4 || (e = malloc(n * 4 + 1)) == NULL)
		return NULL;
	/* Cannot be too small: at most 4 output bytes per input byte. */
	(void)ftpcmd_escape(in, n, e, n * 4 + 1);
	j = json_string(e);
	free(e);
	return j;
}

static int
ftpcmd_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
ftpcmd_unescape(const char *in, void *out, size_t outlen, size_t *n)
{
	unsigned char *o = out;
	size_t k = 0;
	int hi, lo;

	while (*in != '\0') {
		unsigned char c = (unsigned char)*in++;

		if (c == '\\') {
			switch (*in++) {
			case '\\':	c = '\\'; break;
			case 'r':	c = '\r'; break;
			case 'n':	c = '\n'; break;
			case 't':	c = '\t'; break;
			case 'x':
				if ((hi = ftpcmd_hexval(in[0])) < 0 ||
				    (lo = ftpcmd_hexval(in[1])) < 0)
					return FTP_ERR_INVAL;
				c = (unsigned char)(hi << 4 | lo);
				in += 2;
				break;
			default:
				return FTP_ERR_INVAL;
			}
		} else if (c < 0x20 || c >= 0x7f) {
			return FTP_ERR_INVAL;	/* never produced by escape */
		}
		if (k >= outlen)
			return FTP_ERR_TOOBIG;
		o[k++] = c;
	}
	*n = k;
	return 0;
}

int
ftpcmd_next_line(const char *buf, size_t len, size_t *off, const char **line,
    size_t *linelen, int *complete)
{
	const char *p, *nl;
	size_t rest, n;

	if (*off >= len)
		return FTP_ERR_AGAIN;
	p = buf + *off;
	rest = len - *off;
	nl = memchr(p, '\n', rest);
	n = nl != NULL ? (size_t)(nl - p) : rest;
	*line = p;
	*complete = nl != NULL;
	*off += nl != NULL ? n + 1 : n;
	if (nl != NULL && n > 0 && p[n - 1] == '\r')
		n--;
	*linelen = n;
	return 0;
}
