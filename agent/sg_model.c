/*
 * sg_model.c - the security-group model's builders, the JSON field
 * readers the three provider readers share (so that a wrong type reads
 * the same for all of them), addresses and prefixes (see sg_int.h).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "sg_int.h"

int
sg_fail(struct sg_ctx *c, int code, const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ftp_errmsg(c->err, c->errlen, "%s: %s", c->file, msg);
	return code;
}

int
sg_nomem(struct sg_ctx *c)
{
	return sg_fail(c, FTP_ERR_NOMEM, "out of memory");
}

static const char *
sg_jtype(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

/* The value at key, NULL for missing and null alike: the CLIs print
 * null for fields a rule does not use. */
static json_t *
sg_jget(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_null(v) ? NULL : v;
}

static int
sg_jmissing(struct sg_ctx *c, const char *where, const char *key,
    int required)
{
	if (required)
		return sg_fail(c, FTP_ERR_INVAL, "%s: no \"%s\"", where, key);
	return 0;
}

static int
sg_jwrong(struct sg_ctx *c, const char *where, const char *key,
    const char *want, const json_t *v)
{
	return sg_fail(c, FTP_ERR_INVAL, "%s.%s: expected %s, got %s", where,
	    key, want, sg_jtype(v));
}

int
sg_jstr(struct sg_ctx *c, const json_t *o, const char *key,
    const char *where, int required, const char **out)
{
	json_t *v = sg_jget(o, key);

	*out = NULL;
	if (v == NULL)
		return sg_jmissing(c, where, key, required);
	if (!json_is_string(v))
		return sg_jwrong(c, where, key, "a string", v);
	*out = json_string_value(v);
	return 0;
}

int
sg_jarr(struct sg_ctx *c, const json_t *o, const char *key,
    const char *where, int required, json_t **out)
{
	json_t *v = sg_jget(o, key);

	*out = NULL;
	if (v == NULL)
		return sg_jmissing(c, where, key, required);
	if (!json_is_array(v))
		return sg_jwrong(c, where, key, "an array", v);
	*out = v;
	return 0;
}

int
sg_jobj(struct sg_ctx *c, const json_t *o, const char *key,
    const char *where, int required, json_t **out)
{
	json_t *v = sg_jget(o, key);

	*out = NULL;
	if (v == NULL)
		return sg_jmissing(c, where, key, required);
	if (!json_is_object(v))
		return sg_jwrong(c, where, key, "an object", v);
	*out = v;
	return 0;
}

int
sg_jint(struct sg_ctx *c, const json_t *o, const char *key,
    const char *where, long lo, long hi, long *out, int *present)
{
	json_t *v = sg_jget(o, key);
	json_int_t n;

	*present = 0;
	if (v == NULL)
		return 0;
	if (!json_is_integer(v))
		return sg_jwrong(c, where, key, "an integer", v);
	n = json_integer_value(v);
	if (n < lo || n > hi)
		return sg_fail(c, FTP_ERR_INVAL, "%s.%s: %lld is not in %ld..%ld",
		    where, key, (long long)n, lo, hi);
	*out = (long)n;
	*present = 1;
	return 0;
}

int
sg_jbool(struct sg_ctx *c, const json_t *o, const char *key,
    const char *where, int dflt, int *out)
{
	json_t *v = sg_jget(o, key);

	if (v == NULL) {
		*out = dflt;
		return 0;
	}
	if (!json_is_boolean(v))
		return sg_jwrong(c, where, key, "a boolean", v);
	*out = json_is_true(v);
	return 0;
}

char *
sg_strdup(struct sg_ctx *c, const char *s)
{
	char *d = strdup(s != NULL ? s : "");

	if (d == NULL)
		(void)sg_nomem(c);
	return d;
}

/* Grow an array of n elements of size sz by one zeroed element. */
static void *
sg_grow(void *base, size_t n, size_t sz)
{
	char *p = realloc(base, (n + 1) * sz);

	if (p != NULL)
		memset(p + n * sz, 0, sz);
	return p;
}

struct sg_group *
sg_group_new(struct sg_ctx *c, enum sg_kind kind, const char *id,
    const char *name)
{
	struct sg *sg = c->sg;
	struct sg_group *g, *arr;

	if (sg->ngroups >= SG_MAX_GROUPS) {
		(void)sg_fail(c, FTP_ERR_TOOBIG, "more than %u groups",
		    SG_MAX_GROUPS);
		return NULL;
	}
	if ((arr = sg_grow(sg->groups, sg->ngroups, sizeof(*arr))) == NULL) {
		(void)sg_nomem(c);
		return NULL;
	}
	sg->groups = arr;
	g = &arr[sg->ngroups++];
	g->kind = kind;
	if ((g->id = sg_strdup(c, id)) == NULL ||
	    (g->name = sg_strdup(c, name != NULL ? name : id)) == NULL)
		return NULL;
	return g;
}

struct sg_rule *
sg_rule_new(struct sg_ctx *c, struct sg_group *g, const char *name)
{
	struct sg_rule *r, *arr;

	if (c->sg->nrules >= SG_MAX_RULES) {
		(void)sg_fail(c, FTP_ERR_TOOBIG, "more than %u rules",
		    SG_MAX_RULES);
		return NULL;
	}
	if ((arr = sg_grow(g->rules, g->nrules, sizeof(*arr))) == NULL) {
		(void)sg_nomem(c);
		return NULL;
	}
	g->rules = arr;
	r = &arr[g->nrules++];
	c->sg->nrules++;
	r->local_any = 1;
	if ((r->name = sg_strdup(c, name)) == NULL)
		return NULL;
	return r;
}

int
sg_ports_add(struct sg_ctx *c, struct sg_ports *p, long lo, long hi,
    const char *where)
{
	struct portrange *arr;

	if (lo < 0 || hi > 65535 || lo > hi)
		return sg_fail(c, FTP_ERR_INVAL, "%s: bad port range %ld-%ld",
		    where, lo, hi);
	if (p->n >= SG_MAX_ITEMS)
		return sg_fail(c, FTP_ERR_TOOBIG, "%s: more than %u port "
		    "ranges", where, SG_MAX_ITEMS);
	if ((arr = sg_grow(p->r, p->n, sizeof(*arr))) == NULL)
		return sg_nomem(c);
	p->r = arr;
	arr[p->n].lo = (uint16_t)lo;
	arr[p->n].hi = (uint16_t)hi;
	p->n++;
	if (lo == 0 && hi == 65535)
		p->any = 1;
	return 0;
}

/* A decimal port 0..65535 of exactly n characters. */
static int
sg_port_num(const char *s, size_t n, long *out)
{
	long v = 0;
	size_t i;

	if (n == 0 || n > 5)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v > 65535)
		return -1;
	*out = v;
	return 0;
}

int
sg_ports_parse(struct sg_ctx *c, struct sg_ports *p, const char *s,
    int star_ok, const char *where)
{
	const char *dash = strchr(s, '-');
	long lo, hi;

	if (star_ok && strcmp(s, "*") == 0) {
		p->any = 1;
		return 0;
	}
	if (dash == NULL) {
		if (sg_port_num(s, strlen(s), &lo) != 0)
			goto bad;
		hi = lo;
	} else if (sg_port_num(s, (size_t)(dash - s), &lo) != 0 ||
	    sg_port_num(dash + 1, strlen(dash + 1), &hi) != 0) {
		goto bad;
	}
	return sg_ports_add(c, p, lo, hi, where);
bad:
	return sg_fail(c, FTP_ERR_INVAL, "%s: bad port or range \"%.40s\"",
	    where, s);
}

int
sg_peer_add(struct sg_ctx *c, struct sg_peers *ps, enum sg_peer_kind k,
    const char *text, const char *where)
{
	struct sg_peer *arr, *p;

	if (ps->n >= SG_MAX_ITEMS)
		return sg_fail(c, FTP_ERR_TOOBIG, "%s: more than %u addresses",
		    where, SG_MAX_ITEMS);
	if ((arr = sg_grow(ps->p, ps->n, sizeof(*arr))) == NULL)
		return sg_nomem(c);
	ps->p = arr;
	p = &arr[ps->n];
	p->kind = k;
	if (k == SG_PEER_CIDR && sg_cidr_parse(text, &p->cidr) != 0)
		return sg_fail(c, FTP_ERR_INVAL, "%s: bad address or prefix "
		    "\"%.60s\"", where, text);
	if ((p->text = sg_strdup(c, text)) == NULL)
		return FTP_ERR_NOMEM;
	ps->n++;
	return 0;
}

static void
sg_peers_free(struct sg_peers *ps)
{
	size_t i;

	for (i = 0; i < ps->n; i++)
		free(ps->p[i].text);
	free(ps->p);
}

void
sg_rule_free(struct sg_rule *r)
{
	free(r->name);
	free(r->dports.r);
	free(r->sports.r);
	sg_peers_free(&r->remote);
	sg_peers_free(&r->local);
	free(r->scope);
}

void
sg_gres_free(struct sg_gres *g)
{
	size_t i;

	for (i = 0; i < g->npaths; i++) {
		free((void *)g->paths[i].rule);
		free((void *)g->paths[i].note);
	}
	free(g->paths);
	free(g->rf);
	sg_strv_free(&g->fix);
	sg_strv_free(&g->assume);
	memset(g, 0, sizeof(*g));
}

int
sg_cidr_parse(const char *s, struct sg_cidr *out)
{
	struct sg_cidr c;
	const char *slash = strchr(s, '/');
	char host[64];
	size_t hl = slash != NULL ? (size_t)(slash - s) : strlen(s);
	long plen;
	unsigned max;

	memset(&c, 0, sizeof(c));
	if (hl == 0 || hl >= sizeof(host))
		return FTP_ERR_INVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	/* inet_pton, not addr_parse_ip: a prefix has no "%scope" and must
	 * not cost a resolver call per rule. */
	if (inet_pton(AF_INET, host, c.a) == 1) {
		c.family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, host, c.a) == 1) {
		c.family = AF_INET6;
		max = 128;
	} else {
		return FTP_ERR_INVAL;
	}
	plen = max;
	if (slash != NULL && sg_port_num(slash + 1, strlen(slash + 1),
	    &plen) != 0)
		return FTP_ERR_INVAL;
	if (plen > (long)max)
		return FTP_ERR_INVAL;
	c.plen = (unsigned)plen;
	*out = c;
	return 0;
}

/* An address as (family, bytes), v4-mapped v6 as plain v4. */
static int
sg_addr_bytes(const struct sockaddr *sa, uint8_t b[16])
{
	memset(b, 0, 16);
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;

		memcpy(b, &s4->sin_addr, 4);
		return AF_INET;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			memcpy(b, &s6->sin6_addr.s6_addr[12], 4);
			return AF_INET;
		}
		memcpy(b, &s6->sin6_addr, 16);
		return AF_INET6;
	}
	return AF_UNSPEC;
}

static int
sg_prefix_eq(const uint8_t *a, const uint8_t *b, unsigned plen)
{
	unsigned full = plen / 8, rest = plen % 8;
	uint8_t mask;

	if (memcmp(a, b, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (uint8_t)(0xff << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

int
sg_cidr_contains(const struct sg_cidr *c, const struct sockaddr *sa)
{
	uint8_t b[16];

	if (sa == NULL || sg_addr_bytes(sa, b) != c->family)
		return 0;
	return sg_prefix_eq(c->a, b, c->plen);
}

/* Ranges no public client or server address comes from. */
static const struct {
	int family;
	uint8_t a[4];
	unsigned plen;
} sg_private4[] = {
	{ AF_INET, { 10, 0, 0, 0 }, 8 },
	{ AF_INET, { 172, 16, 0, 0 }, 12 },
	{ AF_INET, { 192, 168, 0, 0 }, 16 },
	{ AF_INET, { 100, 64, 0, 0 }, 10 },
	{ AF_INET, { 169, 254, 0, 0 }, 16 },
	{ AF_INET, { 127, 0, 0, 0 }, 8 },
};

static int
sg_bytes_private(int family, const uint8_t *b)
{
	size_t i;

	if (family == AF_INET6)
		return (b[0] & 0xfe) == 0xfc ||
		    (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) ||
		    (memcmp(b, in6addr_loopback.s6_addr, 16) == 0);
	for (i = 0; i < sizeof(sg_private4) / sizeof(sg_private4[0]); i++)
		if (sg_prefix_eq(sg_private4[i].a, b, sg_private4[i].plen))
			return 1;
	return 0;
}

int
sg_addr_private(const struct sockaddr *sa)
{
	uint8_t b[16];
	int f = sg_addr_bytes(sa, b);

	return f != AF_UNSPEC && sg_bytes_private(f, b);
}

int
sg_cidr_private(const struct sg_cidr *c)
{
	/* A prefix wider than the private ranges holds public space too. */
	if ((c->family == AF_INET && c->plen < 8) ||
	    (c->family == AF_INET6 && c->plen < 7))
		return 0;
	return sg_bytes_private(c->family, c->a);
}

int
sg_strv_has(const struct sg_strv *sv, const char *s)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return 1;
	return 0;
}

__attribute__((format(printf, 1, 0)))
static char *
sg_vprintf(const char *fmt, va_list ap)
{
	char *s = NULL;

	if (vasprintf(&s, fmt, ap) < 0)
		return NULL;
	return s;
}

char *
sg_printf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = sg_vprintf(fmt, ap);
	va_end(ap);
	return s;
}

int
sg_strv_add(struct sg_strv *sv, int unique, const char *fmt, ...)
{
	char **arr, *s;
	va_list ap;

	va_start(ap, fmt);
	s = sg_vprintf(fmt, ap);
	va_end(ap);
	if (s == NULL)
		return FTP_ERR_NOMEM;
	if (unique && sg_strv_has(sv, s)) {
		free(s);
		return 0;
	}
	if ((arr = realloc(sv->v, (sv->n + 1) * sizeof(*arr))) == NULL) {
		free(s);
		return FTP_ERR_NOMEM;
	}
	sv->v = arr;
	sv->v[sv->n++] = s;
	return 0;
}

void
sg_strv_free(struct sg_strv *sv)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
}
