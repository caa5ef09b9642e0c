/*
 * addr.c - IPv4/IPv6 address and port utilities (see addr.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "err.h"

/*
 * Strict decimal port 1..65535: digits only, so "+21", " 21", "21x" and
 * "0x15" are all rejected (strtoul alone would accept some of them).
 */
static int
addr_parse_port(const char *s, size_t n, uint16_t *port)
{
	unsigned long v = 0;
	size_t i;

	if (n == 0 || n > 5)
		return FTP_ERR_INVAL;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return FTP_ERR_INVAL;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return FTP_ERR_RANGE;
	*port = (uint16_t)v;
	return 0;
}

static int
addr_copy_host(const char *s, size_t n, char *host, size_t hostlen)
{
	if (n == 0 || n >= hostlen)
		return FTP_ERR_INVAL;
	memcpy(host, s, n);
	host[n] = '\0';
	return 0;
}

int
addr_split_hostport(const char *s, uint16_t default_port, char *host,
    size_t hostlen, uint16_t *port)
{
	const char *colon, *close;
	uint16_t p = default_port;
	size_t hl;

	if (s == NULL || host == NULL || hostlen == 0)
		return FTP_ERR_INVAL;
	if (s[0] == '[') {
		/* "[v6]" or "[v6]:port"; brackets are how a v6 gets a port. */
		close = strchr(s, ']');
		if (close == NULL)
			return FTP_ERR_INVAL;
		hl = (size_t)(close - (s + 1));
		if (close[1] == ':') {
			if (addr_parse_port(close + 2, strlen(close + 2),
			    &p) != 0)
				return FTP_ERR_INVAL;
		} else if (close[1] != '\0')
			return FTP_ERR_INVAL;
		if (addr_copy_host(s + 1, hl, host, hostlen) != 0)
			return FTP_ERR_INVAL;
		*port = p;
		return 0;
	}
	colon = strchr(s, ':');
	if (colon != NULL && strchr(colon + 1, ':') != NULL) {
		/* Two colons and no brackets: a bare IPv6 literal, no port. */
		if (addr_copy_host(s, strlen(s), host, hostlen) != 0)
			return FTP_ERR_INVAL;
		*port = p;
		return 0;
	}
	if (colon != NULL) {
		if (addr_parse_port(colon + 1, strlen(colon + 1), &p) != 0)
			return FTP_ERR_INVAL;
		hl = (size_t)(colon - s);
	} else
		hl = strlen(s);
	if (addr_copy_host(s, hl, host, hostlen) != 0)
		return FTP_ERR_INVAL;
	*port = p;
	return 0;
}

int
addr_parse_ip(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints, *res = NULL;
	int r = FTP_ERR_INVAL;

	if (s == NULL || *s == '\0')
		return FTP_ERR_INVAL;
	/*
	 * getaddrinfo with AI_NUMERICHOST rather than inet_pton: it also
	 * takes a "%scope" suffix on link-local v6 and fills sin6_scope_id.
	 * It would also accept "1.2" style short v4 forms; inet_pton is used
	 * to refuse those, since an address in a config file should be
	 * written out in full.
	 */
	if (strchr(s, ':') == NULL) {
		struct in_addr a4;

		if (inet_pton(AF_INET, s, &a4) != 1)
			return FTP_ERR_INVAL;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST;
	if (getaddrinfo(s, NULL, &hints, &res) != 0 || res == NULL)
		goto out;
	if (res->ai_addrlen > sizeof(*ss))
		goto out;
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	addr_set_port((struct sockaddr *)ss, 0);
	*len = res->ai_addrlen;
	r = 0;
out:
	if (res != NULL)
		freeaddrinfo(res);
	return r;
}

int
addr_resolve(const char *name, uint16_t port, struct sockaddr_storage *out,
    int max)
{
	struct addrinfo hints, *res = NULL, *ai;
	int n = 0, i, gr, r;

	if (name == NULL || *name == '\0' || out == NULL || max <= 0)
		return FTP_ERR_INVAL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	gr = getaddrinfo(name, NULL, &hints, &res);
	if (gr != 0) {
		if (gr == EAI_SYSTEM)
			r = FTP_ERR_SYSTEM;
		else if (gr == EAI_MEMORY)
			r = FTP_ERR_NOMEM;
		else
			r = FTP_ERR_NOTFOUND;
		goto out;
	}
	for (ai = res; ai != NULL && n < max; ai = ai->ai_next) {
		struct sockaddr_storage ss;
		int dup = 0;

		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    ai->ai_addrlen > sizeof(ss))
			continue;
		memset(&ss, 0, sizeof(ss));
		memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
		addr_set_port((struct sockaddr *)&ss, port);
		/* The hosts file and DNS may both answer the same address. */
		for (i = 0; i < n && !dup; i++)
			dup = addr_equal((struct sockaddr *)&out[i],
			    (struct sockaddr *)&ss) &&
			    out[i].ss_family == ss.ss_family;
		if (!dup)
			out[n++] = ss;
	}
	r = n > 0 ? n : FTP_ERR_NOTFOUND;
out:
	if (res != NULL)
		freeaddrinfo(res);
	return r;
}

socklen_t
addr_len(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return sizeof(struct sockaddr_in);
	if (sa->sa_family == AF_INET6)
		return sizeof(struct sockaddr_in6);
	return 0;
}

int
addr_is_inet(const struct sockaddr *sa)
{
	return sa != NULL && addr_len(sa) != 0;
}

uint16_t
addr_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)(const void *)sa)->
		    sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)(const void *)sa)->
		    sin6_port);
	return 0;
}

void
addr_set_port(struct sockaddr *sa, uint16_t port)
{
	if (sa->sa_family == AF_INET)
		((struct sockaddr_in *)(void *)sa)->sin_port = htons(port);
	else if (sa->sa_family == AF_INET6)
		((struct sockaddr_in6 *)(void *)sa)->sin6_port = htons(port);
}

/*
 * Reduce to a comparable (family, 16 bytes) form: a v4-mapped v6 address
 * becomes AF_INET, which is what makes "::ffff:192.0.2.1" equal
 * "192.0.2.1" (a dual-stack listener reports v4 peers in mapped form).
 */
static int
addr_canon(const struct sockaddr *sa, uint8_t bytes[16])
{
	memset(bytes, 0, 16);
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;

		memcpy(bytes, &s4->sin_addr, 4);
		return AF_INET;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			memcpy(bytes, &s6->sin6_addr.s6_addr[12], 4);
			return AF_INET;
		}
		memcpy(bytes, &s6->sin6_addr, 16);
		return AF_INET6;
	}
	return AF_UNSPEC;
}

int
addr_equal(const struct sockaddr *a, const struct sockaddr *b)
{
	uint8_t ba[16], bb[16];
	int fa, fb;

	if (a == NULL || b == NULL)
		return 0;
	fa = addr_canon(a, ba);
	fb = addr_canon(b, bb);
	if (fa == AF_UNSPEC || fa != fb)
		return 0;
	return memcmp(ba, bb, 16) == 0;
}

int
addr_cidr_parse(const char *s, struct sockaddr_storage *net,
    unsigned *prefix)
{
	char buf[INET6_ADDRSTRLEN + 1], *end;
	const char *slash;
	unsigned long len;
	socklen_t sl;
	int v6;

	if (s == NULL || (slash = strchr(s, '/')) == NULL ||
	    (size_t)(slash - s) >= sizeof(buf) || slash[1] < '0' ||
	    slash[1] > '9')
		return FTP_ERR_INVAL;
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	/* A scope names an interface, not a network. */
	if (strchr(buf, '%') != NULL || addr_parse_ip(buf, net, &sl) != 0)
		return FTP_ERR_INVAL;
	/* ::ffff:a.b.c.d/LEN: say the IPv4 network instead, one way only. */
	if (net->ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(
	    &((const struct sockaddr_in6 *)(const void *)net)->sin6_addr))
		return FTP_ERR_INVAL;
	errno = 0;
	len = strtoul(slash + 1, &end, 10);
	v6 = net->ss_family == AF_INET6;
	if (errno != 0 || *end != '\0' || len < 1 || len > (v6 ? 128u : 32u))
		return FTP_ERR_INVAL;
	*prefix = (unsigned)len;
	return 0;
}

int
addr_cidr_contains(const struct sockaddr *net, unsigned prefix,
    const struct sockaddr *a)
{
	uint8_t bn[16], ba[16];
	unsigned full, rest;
	int fn, fa;

	if (net == NULL || a == NULL)
		return 0;
	fn = addr_canon(net, bn);
	fa = addr_canon(a, ba);
	if (fn == AF_UNSPEC || fn != fa || prefix > (fn == AF_INET ? 32u :
	    128u))
		return 0;
	full = prefix / 8;
	rest = prefix % 8;
	if (memcmp(bn, ba, full) != 0)
		return 0;
	return rest == 0 || ((bn[full] ^ ba[full]) &
	    (uint8_t)(0xff << (8 - rest))) == 0;
}

_Static_assert(sizeof(struct addr_inet) == sizeof(struct sockaddr_in6),
    "struct addr_inet holds a sockaddr_in6 and no more");

/* The v4-mapped IPv6 address at sa (room bytes) as plain IPv4. */
static void
unmap(void *sa, size_t room)
{
	struct sockaddr_in6 s6;
	struct sockaddr_in s4;

	if (((struct sockaddr *)sa)->sa_family != AF_INET6)
		return;
	memcpy(&s6, sa, sizeof(s6));
	if (!IN6_IS_ADDR_V4MAPPED(&s6.sin6_addr))
		return;
	memset(&s4, 0, sizeof(s4));
	s4.sin_family = AF_INET;
	s4.sin_port = s6.sin6_port;
	memcpy(&s4.sin_addr, &s6.sin6_addr.s6_addr[12], 4);
	memset(sa, 0, room);
	memcpy(sa, &s4, sizeof(s4));
}

void
addr_unmap(struct sockaddr_storage *ss)
{
	unmap(ss, sizeof(*ss));
}

void
addr_inet_unmap(struct addr_inet *a)
{
	unmap(a, sizeof(*a));
}

void
addr_store(struct sockaddr_storage *out, const struct sockaddr *sa)
{
	socklen_t len = addr_len(sa);

	memset(out, 0, sizeof(*out));
	if (len != 0)
		memcpy(out, sa, len);
	else
		out->ss_family = sa->sa_family;
}

int
addr_inet_set(struct addr_inet *out, const struct sockaddr *sa)
{
	socklen_t len = sa != NULL ? addr_len(sa) : 0;

	memset(out, 0, sizeof(*out));
	out->ss_family = AF_UNSPEC;
	if (sa == NULL || sa->sa_family == AF_UNSPEC)
		return 0;
	if (len == 0 || len > sizeof(*out))
		return -1;
	memcpy(out, sa, len);
	return 0;
}

const char *
addr_ntop(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[NI_MAXHOST];

	if (buf == NULL || len == 0)
		return buf;
	/* getnameinfo rather than inet_ntop: it appends "%scope" for
	 * link-local v6, without which the address is not usable. */
	if (sa == NULL || addr_len(sa) == 0 ||
	    getnameinfo(sa, addr_len(sa), host, sizeof(host), NULL, 0,
	    NI_NUMERICHOST) != 0 || strlen(host) >= len) {
		snprintf(buf, len, "?");
		return buf;
	}
	snprintf(buf, len, "%s", host);
	return buf;
}

const char *
addr_ntop_port(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[ADDR_STRLEN];
	int n;

	if (buf == NULL || len == 0)
		return buf;
	addr_ntop(sa, host, sizeof(host));
	if (strcmp(host, "?") == 0)
		n = snprintf(buf, len, "?");
	else if (sa->sa_family == AF_INET6)
		n = snprintf(buf, len, "[%s]:%u", host, addr_port(sa));
	else
		n = snprintf(buf, len, "%s:%u", host, addr_port(sa));
	if (n < 0 || (size_t)n >= len)
		snprintf(buf, len, "?");
	return buf;
}

const char *
addr_text(const struct sockaddr *sa, int with_port, char *buf, size_t len)
{
	struct sockaddr_storage p;
	socklen_t n = sa != NULL ? addr_len(sa) : 0;

	if (n == 0)
		return addr_ntop(NULL, buf, len);
	memset(&p, 0, sizeof(p));
	memcpy(&p, sa, n);
	/* A dual-stack socket reports v4 peers as ::ffff:a.b.c.d. */
	addr_unmap(&p);
	if (with_port && addr_port((struct sockaddr *)&p) != 0)
		return addr_ntop_port((struct sockaddr *)&p, buf, len);
	return addr_ntop((struct sockaddr *)&p, buf, len);
}

int
portrange_parse(const char *s, struct portrange *out)
{
	const char *dash;
	uint16_t lo, hi;

	if (s == NULL)
		return FTP_ERR_INVAL;
	dash = strchr(s, '-');
	if (dash == NULL) {
		if (addr_parse_port(s, strlen(s), &lo) != 0)
			return FTP_ERR_INVAL;
		hi = lo;
	} else {
		if (addr_parse_port(s, (size_t)(dash - s), &lo) != 0 ||
		    addr_parse_port(dash + 1, strlen(dash + 1), &hi) != 0)
			return FTP_ERR_INVAL;
		if (lo > hi)
			return FTP_ERR_INVAL;
	}
	out->lo = lo;
	out->hi = hi;
	return 0;
}

unsigned
portrange_count(const struct portrange *r)
{
	if (r == NULL || r->lo == 0 || r->lo > r->hi)
		return 0;
	return (unsigned)r->hi - r->lo + 1;
}

struct portset {
	uint64_t bits[65536 / 64];
};

struct portset *
portset_new(void)
{
	return calloc(1, sizeof(struct portset));
}

void
portset_free(struct portset *ps)
{
	free(ps);
}

static void
portset_set(struct portset *ps, unsigned port)
{
	ps->bits[port / 64] |= (uint64_t)1 << (port % 64);
}

int
portset_add_range(struct portset *ps, const struct portrange *r)
{
	unsigned p;

	if (ps == NULL || r == NULL || r->lo == 0 || r->lo > r->hi)
		return FTP_ERR_INVAL;
	for (p = r->lo; p <= r->hi; p++)
		portset_set(ps, p);
	return 0;
}

int
portset_parse(struct portset *ps, const char *list)
{
	struct portset tmp;
	const char *p, *comma;
	char item[16];
	struct portrange r;
	size_t n;

	if (ps == NULL || list == NULL || *list == '\0')
		return FTP_ERR_INVAL;
	/* Parse into a copy so a bad item leaves ps unchanged. */
	tmp = *ps;
	for (p = list;; p = comma + 1) {
		comma = strchr(p, ',');
		n = comma != NULL ? (size_t)(comma - p) : strlen(p);
		/* Tolerate blanks around items ("20, 21"), nothing else. */
		while (n > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			n--;
		}
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == 0 || n >= sizeof(item))
			return FTP_ERR_INVAL;
		memcpy(item, p, n);
		item[n] = '\0';
		if (portrange_parse(item, &r) != 0)
			return FTP_ERR_INVAL;
		portset_add_range(&tmp, &r);
		if (comma == NULL)
			break;
	}
	*ps = tmp;
	return 0;
}

int
portset_contains(const struct portset *ps, uint16_t port)
{
	if (ps == NULL)
		return 0;
	return (ps->bits[port / 64] >> (port % 64)) & 1;
}

int
portset_contains_range(const struct portset *ps, const struct portrange *r)
{
	unsigned p;

	if (ps == NULL || r == NULL || r->lo == 0 || r->lo > r->hi)
		return 0;
	for (p = r->lo; p <= r->hi; p++)
		if (!portset_contains(ps, (uint16_t)p))
			return 0;
	return 1;
}

unsigned
portset_count(const struct portset *ps)
{
	unsigned n = 0;
	size_t i;

	if (ps == NULL)
		return 0;
	for (i = 0; i < sizeof(ps->bits) / sizeof(ps->bits[0]); i++)
		n += (unsigned)__builtin_popcountll(ps->bits[i]);
	return n;
}

int
portset_format(const struct portset *ps, char *buf, size_t len)
{
	size_t used = 0;
	unsigned p = 1, lo;
	int n;

	if (ps == NULL || buf == NULL || len == 0)
		return FTP_ERR_INVAL;
	buf[0] = '\0';
	while (p <= 65535) {
		if (!portset_contains(ps, (uint16_t)p)) {
			p++;
			continue;
		}
		lo = p;
		while (p + 1 <= 65535 && portset_contains(ps, (uint16_t)(p + 1)))
			p++;
		if (lo == p)
			n = snprintf(buf + used, len - used, "%s%u",
			    used > 0 ? "," : "", lo);
		else
			n = snprintf(buf + used, len - used, "%s%u-%u",
			    used > 0 ? "," : "", lo, p);
		if (n < 0 || (size_t)n >= len - used) {
			buf[0] = '\0';
			return FTP_ERR_TOOBIG;
		}
		used += (size_t)n;
		p++;
	}
	return 0;
}
