/*
 * ftpconf.c - read vsftpd / proftpd / pure-ftpd configuration (see
 * ftpconf.h for what is read and why the defaults are what they are).
 *
 * One pass over the buffer, line by line, into a fixed table of facts.
 * Each server has its own line handler; they share the value parsers and
 * the "set a fact with its evidence" helper.  Checks that need the whole
 * file (vsftpd's pasv_address vs pasv_addr_resolve, listen vs
 * listen_ipv6) run after the pass, as the servers themselves do at
 * start-up.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "addr.h"
#include "err.h"
#include "ftpconf.h"
#include "readfile.h"

#define FTPCONF_NAME_MAX	64
/* Evidence keeps the start of the line; a setting fits easily. */
#define FTPCONF_TEXT_MAX	160
#define FTPCONF_FILE_MAX	(1024 * 1024)
/* proftpd sections nest a few levels; more is garbage, not a config. */
#define FTPCONF_DEPTH_MAX	32
#define FTPCONF_MSG_MAX		384

struct ftpconf_val {
	int set;
	unsigned long line;
	unsigned long num;
	char *str;		/* string fields; NULL = none */
	char *text;		/* evidence; NULL unless set */
};

struct ftpconf {
	enum ftpconf_kind kind;
	char name[FTPCONF_NAME_MAX];
	struct ftpconf_val v[FTPCONF_NFIELDS];
};

enum ftpconf_type {
	FT_BOOL,
	FT_NUM,
	FT_STR,
};

/* Generic names, used where a server has no setting of its own. */
static const char *const ftpconf_generic[FTPCONF_NFIELDS] = {
	"control_port", "listen_v4", "listen_v6", "listen_address",
	"listen_address6", "pasv_enable", "pasv_min_port", "pasv_max_port",
	"pasv_address", "pasv_addr_resolve", "port_enable",
	"connect_from_port_20", "ftp_data_port", "max_clients", "max_per_ip",
	"tls_enable", "tls_login_required", "tls_data_required",
	"anonymous_enable",
};

static const enum ftpconf_type ftpconf_types[FTPCONF_NFIELDS] = {
	[FTPCONF_CONTROL_PORT] = FT_NUM,
	[FTPCONF_LISTEN_V4] = FT_BOOL,
	[FTPCONF_LISTEN_V6] = FT_BOOL,
	[FTPCONF_LISTEN_ADDRESS] = FT_STR,
	[FTPCONF_LISTEN_ADDRESS6] = FT_STR,
	[FTPCONF_PASV_ENABLE] = FT_BOOL,
	[FTPCONF_PASV_MIN_PORT] = FT_NUM,
	[FTPCONF_PASV_MAX_PORT] = FT_NUM,
	[FTPCONF_PASV_ADDRESS] = FT_STR,
	[FTPCONF_PASV_ADDR_RESOLVE] = FT_BOOL,
	[FTPCONF_PORT_ENABLE] = FT_BOOL,
	[FTPCONF_CONNECT_FROM_PORT_20] = FT_BOOL,
	[FTPCONF_FTP_DATA_PORT] = FT_NUM,
	[FTPCONF_MAX_CLIENTS] = FT_NUM,
	[FTPCONF_MAX_PER_IP] = FT_NUM,
	[FTPCONF_TLS_ENABLE] = FT_BOOL,
	[FTPCONF_TLS_LOGIN_REQUIRED] = FT_BOOL,
	[FTPCONF_TLS_DATA_REQUIRED] = FT_BOOL,
	[FTPCONF_ANONYMOUS_ENABLE] = FT_BOOL,
};

/* Per server: the setting's own name ("-" = none) and its default. */
struct ftpconf_def {
	const char *name;
	unsigned long num;
};

#define KINDS	4	/* indexed by enum ftpconf_kind; [0] unused */

static const struct ftpconf_def ftpconf_defs[KINDS][FTPCONF_NFIELDS] = {
	[FTPCONF_VSFTPD] = {
		{ "listen_port", 21 }, { "listen", 0 }, { "listen_ipv6", 0 },
		{ "listen_address", 0 }, { "listen_address6", 0 },
		{ "pasv_enable", 1 }, { "pasv_min_port", 0 },
		{ "pasv_max_port", 0 }, { "pasv_address", 0 },
		{ "pasv_addr_resolve", 0 }, { "port_enable", 1 },
		{ "connect_from_port_20", 0 }, { "ftp_data_port", 20 },
		/* vsftpd 3.0 changelog and binary, not the manual page. */
		{ "max_clients", 2000 }, { "max_per_ip", 50 },
		{ "ssl_enable", 0 }, { "force_local_logins_ssl", 1 },
		{ "force_local_data_ssl", 1 },
		/* The 3.0.3 binary accepts anonymous without this line. */
		{ "anonymous_enable", 1 },
	},
	[FTPCONF_PROFTPD] = {
		{ "Port", 21 }, { "ServerType", 1 }, { "UseIPv6", 1 },
		{ "DefaultAddress", 0 }, { "-", 0 }, { "-", 1 },
		{ "PassivePorts", 0 }, { "PassivePorts", 0 },
		{ "MasqueradeAddress", 0 }, { "-", 1 }, { "-", 1 },
		/* Active data comes from port L-1 of the control port. */
		{ "-", 1 }, { "Port", 20 },
		{ "MaxClients", 0 }, { "MaxClientsPerHost", 0 },
		{ "TLSEngine", 0 }, { "TLSRequired", 0 }, { "TLSRequired", 0 },
		{ "<Anonymous>", 0 },
	},
	[FTPCONF_PUREFTPD] = {
		{ "Bind", 21 }, { "IPV6Only", 1 }, { "IPV4Only", 1 },
		{ "Bind", 0 }, { "-", 0 }, { "NATmode", 1 },
		{ "PassivePortRange", 0 }, { "PassivePortRange", 0 },
		{ "ForcePassiveIP", 0 }, { "-", 1 }, { "-", 1 },
		{ "-", 1 }, { "-", 20 },
		/* pure-ftpd(8): -c defaults to 50; -C has no default. */
		{ "MaxClientsNumber", 50 }, { "MaxClientsPerIP", 0 },
		{ "TLS", 0 }, { "TLS", 0 }, { "TLS", 0 },
		{ "NoAnonymous", 1 },
	},
};

/* Parsing state for one buffer. */
struct ftpconf_ctx {
	struct ftpconf *cf;
	unsigned long line;	/* first physical line of the logical one */
	const char *raw;	/* the logical line as written */
	int depth;		/* proftpd: open sections */
	int skip_depth;		/* proftpd: depth where skipping began */
	char sect[FTPCONF_DEPTH_MAX][24];	/* open section names */
	char msg[FTPCONF_MSG_MAX];
};

__attribute__((format(printf, 2, 3))) static int
ftpconf_fail(struct ftpconf_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
	va_end(ap);
	return FTP_ERR_CONFIG;
}

static int
ftpconf_is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* Copy at most n bytes of s, a tab as a blank, other control and
 * non-ASCII bytes as '?', so that evidence and messages never carry
 * terminal escapes or newlines. */
static void
ftpconf_printable(char *dst, size_t dstlen, const char *s, size_t n)
{
	size_t i;

	if (dstlen == 0)
		return;
	for (i = 0; i < n && s[i] != '\0' && i + 1 < dstlen; i++)
		dst[i] = s[i] == '\t' ? ' ' :
		    (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	dst[i] = '\0';
}

static void
ftpconf_clear(struct ftpconf *cf, enum ftpconf_kind kind)
{
	size_t i;

	for (i = 0; i < FTPCONF_NFIELDS; i++) {
		free(cf->v[i].str);
		free(cf->v[i].text);
		memset(&cf->v[i], 0, sizeof(cf->v[i]));
		cf->v[i].num = ftpconf_defs[kind][i].num;
	}
	cf->kind = kind;
}

struct ftpconf *
ftpconf_new(void)
{
	struct ftpconf *cf;

	if ((cf = calloc(1, sizeof(*cf))) == NULL)
		return NULL;
	ftpconf_clear(cf, FTPCONF_VSFTPD);
	snprintf(cf->name, sizeof(cf->name), "vsftpd.conf");
	return cf;
}

void
ftpconf_free(struct ftpconf *cf)
{
	if (cf == NULL)
		return;
	ftpconf_clear(cf, FTPCONF_VSFTPD);
	free(cf);
}

/* Record a fact with the current line as evidence; str is copied. */
static int
ftpconf_setv(struct ftpconf_ctx *c, enum ftpconf_field f, unsigned long num,
    const char *str)
{
	struct ftpconf_val *v = &c->cf->v[f];
	char text[FTPCONF_TEXT_MAX];
	const char *raw = c->raw;
	char *ns = NULL, *nt = NULL;

	while (ftpconf_is_blank(*raw))
		raw++;
	ftpconf_printable(text, sizeof(text), raw, strlen(raw));
	if ((nt = strdup(text)) == NULL ||
	    (str != NULL && (ns = strdup(str)) == NULL)) {
		free(nt);
		ftpconf_fail(c, "out of memory");
		return FTP_ERR_NOMEM;
	}
	free(v->str);
	free(v->text);
	v->set = 1;
	v->line = c->line;
	v->num = num;
	v->str = ns;
	v->text = nt;
	return 0;
}

/* Trim blanks (and a CR) on both ends in place; returns the new start. */
static char *
ftpconf_trim(char *s)
{
	size_t n;

	while (ftpconf_is_blank(*s))
		s++;
	n = strlen(s);
	while (n > 0 && (ftpconf_is_blank(s[n - 1]) || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

/*
 * Unsigned number.  octal0: vsftpd reads a leading 0 as octal
 * ("pasv_min_port=050000" is 20480), which ftpath must reproduce.
 * Stricter than the servers: no sign, blanks or trailing junk.
 */
static int
ftpconf_ulong(const char *s, int octal0, unsigned long max,
    unsigned long *out)
{
	unsigned long v;
	char *end = NULL;
	int base = (octal0 && s[0] == '0') ? 8 : 10;

	if (s[0] < '0' || s[0] > '9')
		return FTP_ERR_INVAL;
	errno = 0;
	v = strtoul(s, &end, base);
	if (errno != 0 || end == s || *end != '\0' || v > max)
		return FTP_ERR_RANGE;
	*out = v;
	return 0;
}

/* proftpd / pure-ftpd booleans: on/off, yes/no, true/false, 1/0. */
static int
ftpconf_bool_word(const char *s, unsigned long *out)
{
	static const char *const yes[] = { "on", "yes", "true", "1" };
	static const char *const no[] = { "off", "no", "false", "0" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return FTP_ERR_INVAL;
}

/* A host name as a server would resolve it: letters, digits, '-', '.'. */
static int
ftpconf_hostname_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 253)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' &&
		    s[i] != '.')
			return 0;
	return 1;
}

static int
ftpconf_ip_family(const char *s)
{
	struct sockaddr_storage ss;
	socklen_t sl;

	if (addr_parse_ip(s, &ss, &sl) != 0)
		return -1;
	return ss.ss_family;
}

/* ---- vsftpd ---------------------------------------------------------- */

struct ftpconf_key {
	const char *name;
	enum ftpconf_field field;
	unsigned long max;	/* FT_NUM: upper bound (lower is 0 or 1) */
	unsigned long min;
};

static const struct ftpconf_key ftpconf_vs_keys[] = {
	{ "listen_port", FTPCONF_CONTROL_PORT, 65535, 1 },
	{ "listen", FTPCONF_LISTEN_V4, 0, 0 },
	{ "listen_ipv6", FTPCONF_LISTEN_V6, 0, 0 },
	{ "listen_address", FTPCONF_LISTEN_ADDRESS, 0, 0 },
	{ "listen_address6", FTPCONF_LISTEN_ADDRESS6, 0, 0 },
	{ "pasv_enable", FTPCONF_PASV_ENABLE, 0, 0 },
	{ "pasv_min_port", FTPCONF_PASV_MIN_PORT, 65535, 0 },
	{ "pasv_max_port", FTPCONF_PASV_MAX_PORT, 65535, 0 },
	{ "pasv_address", FTPCONF_PASV_ADDRESS, 0, 0 },
	{ "pasv_addr_resolve", FTPCONF_PASV_ADDR_RESOLVE, 0, 0 },
	{ "port_enable", FTPCONF_PORT_ENABLE, 0, 0 },
	{ "connect_from_port_20", FTPCONF_CONNECT_FROM_PORT_20, 0, 0 },
	{ "ftp_data_port", FTPCONF_FTP_DATA_PORT, 65535, 1 },
	{ "max_clients", FTPCONF_MAX_CLIENTS, UINT_MAX, 0 },
	{ "max_per_ip", FTPCONF_MAX_PER_IP, UINT_MAX, 0 },
	{ "ssl_enable", FTPCONF_TLS_ENABLE, 0, 0 },
	{ "force_local_logins_ssl", FTPCONF_TLS_LOGIN_REQUIRED, 0, 0 },
	{ "force_local_data_ssl", FTPCONF_TLS_DATA_REQUIRED, 0, 0 },
	{ "anonymous_enable", FTPCONF_ANONYMOUS_ENABLE, 0, 0 },
};

#define NKEYS(t)	(sizeof(t) / sizeof((t)[0]))

static const struct ftpconf_key *
ftpconf_vs_find(const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS(ftpconf_vs_keys); i++)
		if (strcmp(ftpconf_vs_keys[i].name, name) == 0)
			return &ftpconf_vs_keys[i];
	return NULL;
}

/* vsftpd booleans: YES/NO/TRUE/FALSE/1/0 in any case (parseconf.c). */
static int
ftpconf_vs_bool(const char *s, unsigned long *out)
{
	if (strcasecmp(s, "YES") == 0 || strcasecmp(s, "TRUE") == 0 ||
	    strcmp(s, "1") == 0)
		*out = 1;
	else if (strcasecmp(s, "NO") == 0 || strcasecmp(s, "FALSE") == 0 ||
	    strcmp(s, "0") == 0)
		*out = 0;
	else
		return FTP_ERR_INVAL;
	return 0;
}

static int
ftpconf_vs_value(struct ftpconf_ctx *c, const struct ftpconf_key *k,
    const char *value)
{
	unsigned long ul = 0;
	char shown[FTPCONF_TEXT_MAX];

	ftpconf_printable(shown, sizeof(shown), value, strlen(value));
	switch (ftpconf_types[k->field]) {
	case FT_STR:
		/* "pasv_address=" unsets, as in vsftpd. */
		return ftpconf_setv(c, k->field, 0,
		    value[0] != '\0' ? value : NULL);
	case FT_BOOL:
		if (ftpconf_vs_bool(value, &ul) != 0)
			return ftpconf_fail(c, "bad value for %s: \"%s\" "
			    "(vsftpd takes YES or NO)", k->name, shown);
		break;
	case FT_NUM:
		if (ftpconf_ulong(value, 1, k->max, &ul) != 0 || ul < k->min)
			return ftpconf_fail(c, "bad value for %s: \"%s\" "
			    "(expected %lu-%lu)", k->name, shown, k->min,
			    k->max);
		break;
	}
	return ftpconf_setv(c, k->field, ul, NULL);
}

/*
 * vsftpd syntax (parseconf.c): a line starting with '#' or all blank is
 * skipped; leading blanks are dropped; the name ends at the first '='.
 * Blanks before '=' make vsftpd refuse to start ("unrecognised
 * variable"), which is worth an error here rather than silence.
 */
static int
ftpconf_vs_line(struct ftpconf_ctx *c, char *line)
{
	const struct ftpconf_key *k;
	char *name, *eq, *value = NULL;

	if (line[0] == '#')
		return 0;
	name = line;
	while (ftpconf_is_blank(*name))
		name++;
	if (*name == '\0')
		return 0;
	if ((eq = strchr(name, '=')) != NULL) {
		*eq = '\0';
		value = eq + 1;
	}
	if ((k = ftpconf_vs_find(name)) == NULL) {
		if ((k = ftpconf_vs_find(ftpconf_trim(name))) != NULL)
			return ftpconf_fail(c, "blank around '=' in %s "
			    "(vsftpd refuses to start)", k->name);
		return 0;
	}
	/* A bare string option unsets it, as "option=" does. */
	if (value == NULL && ftpconf_types[k->field] == FT_STR)
		value = name + strlen(name);
	if (value == NULL || (value[0] == '\0' &&
	    ftpconf_types[k->field] != FT_STR))
		return ftpconf_fail(c, "missing value for %s", k->name);
	return ftpconf_vs_value(c, k, value);
}

/* Whole-file checks vsftpd makes at start-up. */
static int
ftpconf_vs_finish(struct ftpconf_ctx *c)
{
	struct ftpconf_val *v = c->cf->v;
	const char *pa = v[FTPCONF_PASV_ADDRESS].str;
	const char *la = v[FTPCONF_LISTEN_ADDRESS].str;
	const char *la6 = v[FTPCONF_LISTEN_ADDRESS6].str;

	if (v[FTPCONF_LISTEN_V4].num && v[FTPCONF_LISTEN_V6].num) {
		c->line = v[FTPCONF_LISTEN_V4].line;
		if (v[FTPCONF_LISTEN_V6].line > c->line)
			c->line = v[FTPCONF_LISTEN_V6].line;
		return ftpconf_fail(c, "listen=YES and listen_ipv6=YES "
		    "together (vsftpd refuses to start)");
	}
	if (pa != NULL && !v[FTPCONF_PASV_ADDR_RESOLVE].num &&
	    ftpconf_ip_family(pa) != AF_INET) {
		c->line = v[FTPCONF_PASV_ADDRESS].line;
		return ftpconf_fail(c, "bad value for pasv_address: not an "
		    "IPv4 address and pasv_addr_resolve is NO");
	}
	if (pa != NULL && v[FTPCONF_PASV_ADDR_RESOLVE].num &&
	    !ftpconf_hostname_ok(pa)) {
		c->line = v[FTPCONF_PASV_ADDRESS].line;
		return ftpconf_fail(c, "bad value for pasv_address: not a "
		    "host name");
	}
	if (la != NULL && ftpconf_ip_family(la) != AF_INET) {
		c->line = v[FTPCONF_LISTEN_ADDRESS].line;
		return ftpconf_fail(c, "bad value for listen_address: not "
		    "an IPv4 address");
	}
	if (la6 != NULL && ftpconf_ip_family(la6) != AF_INET6) {
		c->line = v[FTPCONF_LISTEN_ADDRESS6].line;
		return ftpconf_fail(c, "bad value for listen_address6: not "
		    "an IPv6 address");
	}
	return 0;
}

/* ---- proftpd / pure-ftpd shared: "Key arg arg" ----------------------- */

#define ARGS_MAX	8

/* Split on blanks in place; "..." quotes one argument (proftpd). */
static int
ftpconf_split(char *s, char **argv, int max)
{
	int n = 0;

	for (;;) {
		while (ftpconf_is_blank(*s))
			s++;
		if (*s == '\0' || n == max)
			break;
		if (*s == '"') {
			argv[n++] = ++s;
			while (*s != '\0' && *s != '"')
				s++;
		} else {
			argv[n++] = s;
			while (*s != '\0' && !ftpconf_is_blank(*s))
				s++;
		}
		if (*s == '\0')
			break;
		*s++ = '\0';
	}
	return n;
}

static int
ftpconf_num_arg(struct ftpconf_ctx *c, const char *key, const char *arg,
    unsigned long min, unsigned long max, unsigned long *out)
{
	char shown[FTPCONF_TEXT_MAX];

	if (ftpconf_ulong(arg, 0, max, out) == 0 && *out >= min)
		return 0;
	ftpconf_printable(shown, sizeof(shown), arg, strlen(arg));
	return ftpconf_fail(c, "bad value for %s: \"%s\" (expected "
	    "%lu-%lu)", key, shown, min, max);
}

static int
ftpconf_bool_arg(struct ftpconf_ctx *c, const char *key, const char *arg,
    unsigned long *out)
{
	char shown[FTPCONF_TEXT_MAX];

	if (ftpconf_bool_word(arg, out) == 0)
		return 0;
	ftpconf_printable(shown, sizeof(shown), arg, strlen(arg));
	return ftpconf_fail(c, "bad value for %s: \"%s\" (expected on or "
	    "off)", key, shown);
}

/* An address or a host name (proftpd MasqueradeAddress, pure-ftpd). */
static int
ftpconf_addr_arg(struct ftpconf_ctx *c, enum ftpconf_field f,
    const char *key, const char *arg, int names_ok)
{
	char shown[FTPCONF_TEXT_MAX];

	if (ftpconf_ip_family(arg) != -1 ||
	    (names_ok && ftpconf_hostname_ok(arg)))
		return ftpconf_setv(c, f, 0, arg);
	ftpconf_printable(shown, sizeof(shown), arg, strlen(arg));
	return ftpconf_fail(c, "bad value for %s: \"%s\" (expected an "
	    "address%s)", key, shown, names_ok ? " or a host name" : "");
}

/* "lo hi" passive range, both in 1024-65535 as proftpd demands. */
static int
ftpconf_range_args(struct ftpconf_ctx *c, const char *key, int argc,
    char **argv)
{
	unsigned long lo, hi;
	int r;

	if (argc != 3)
		return ftpconf_fail(c, "%s takes two ports", key);
	if ((r = ftpconf_num_arg(c, key, argv[1], 1024, 65535, &lo)) != 0 ||
	    (r = ftpconf_num_arg(c, key, argv[2], 1024, 65535, &hi)) != 0)
		return r;
	if (lo > hi)
		return ftpconf_fail(c, "%s %lu %lu is reversed", key, lo, hi);
	if ((r = ftpconf_setv(c, FTPCONF_PASV_MIN_PORT, lo, NULL)) != 0)
		return r;
	return ftpconf_setv(c, FTPCONF_PASV_MAX_PORT, hi, NULL);
}

/* ---- proftpd --------------------------------------------------------- */

/* MaxClients / MaxClientsPerHost: "N|none [message]". */
static int
ftpconf_pro_limit(struct ftpconf_ctx *c, enum ftpconf_field f, int argc,
    char **argv)
{
	unsigned long n = 0;
	int r;

	if (argc < 2)
		return ftpconf_fail(c, "%s needs a value", argv[0]);
	if (strcasecmp(argv[1], "none") != 0 &&
	    (r = ftpconf_num_arg(c, argv[0], argv[1], 1, UINT_MAX, &n)) != 0)
		return r;
	return ftpconf_setv(c, f, n, NULL);
}

/* TLSRequired: which parts of the session must be protected. */
static int
ftpconf_pro_tlsreq(struct ftpconf_ctx *c, const char *arg)
{
	static const struct {
		const char *word;
		unsigned char login, data;
	} map[] = {
		{ "on", 1, 1 }, { "both", 1, 1 }, { "off", 0, 0 },
		{ "ctrl", 1, 0 }, { "control", 1, 0 }, { "!data", 1, 0 },
		{ "data", 0, 1 }, { "auth", 1, 0 }, { "auth+data", 1, 1 },
		{ "yes", 1, 1 }, { "no", 0, 0 }, { "true", 1, 1 },
		{ "false", 0, 0 },
	};
	size_t i;
	int r;

	for (i = 0; i < NKEYS(map); i++) {
		if (strcasecmp(arg, map[i].word) != 0)
			continue;
		if ((r = ftpconf_setv(c, FTPCONF_TLS_LOGIN_REQUIRED,
		    map[i].login, NULL)) != 0)
			return r;
		return ftpconf_setv(c, FTPCONF_TLS_DATA_REQUIRED,
		    map[i].data, NULL);
	}
	return ftpconf_fail(c, "bad value for TLSRequired: expected on, "
	    "off, ctrl, data, auth or auth+data");
}

static int
ftpconf_pro_directive(struct ftpconf_ctx *c, int argc, char **argv)
{
	const char *d = argv[0];
	unsigned long ul;
	int r;

	if (strcasecmp(d, "Port") == 0) {
		if (argc != 2)
			return ftpconf_fail(c, "Port takes one port");
		if ((r = ftpconf_num_arg(c, d, argv[1], 0, 65535, &ul)) != 0 ||
		    (r = ftpconf_setv(c, FTPCONF_CONTROL_PORT, ul, NULL)) != 0)
			return r;
		/* Active data leaves from L-1 (Port 0: no listener at all). */
		return ftpconf_setv(c, FTPCONF_FTP_DATA_PORT,
		    ul > 0 ? ul - 1 : 0, NULL);
	}
	if (strcasecmp(d, "PassivePorts") == 0)
		return ftpconf_range_args(c, d, argc, argv);
	if (argc < 2)
		return 0;	/* not ours, or proftpd will complain itself */
	if (strcasecmp(d, "MasqueradeAddress") == 0)
		return ftpconf_addr_arg(c, FTPCONF_PASV_ADDRESS, d, argv[1], 1);
	if (strcasecmp(d, "DefaultAddress") == 0)
		return ftpconf_addr_arg(c, FTPCONF_LISTEN_ADDRESS, d, argv[1],
		    1);
	if (strcasecmp(d, "MaxClients") == 0)
		return ftpconf_pro_limit(c, FTPCONF_MAX_CLIENTS, argc, argv);
	if (strcasecmp(d, "MaxClientsPerHost") == 0)
		return ftpconf_pro_limit(c, FTPCONF_MAX_PER_IP, argc, argv);
	if (strcasecmp(d, "TLSRequired") == 0)
		return ftpconf_pro_tlsreq(c, argv[1]);
	if (strcasecmp(d, "ServerType") == 0) {
		if (strcasecmp(argv[1], "standalone") != 0 &&
		    strcasecmp(argv[1], "inetd") != 0)
			return ftpconf_fail(c, "bad value for ServerType: "
			    "expected standalone or inetd");
		return ftpconf_setv(c, FTPCONF_LISTEN_V4,
		    strcasecmp(argv[1], "standalone") == 0, NULL);
	}
	if (strcasecmp(d, "UseIPv6") == 0 || strcasecmp(d, "TLSEngine") == 0) {
		if ((r = ftpconf_bool_arg(c, d, argv[1], &ul)) != 0)
			return r;
		return ftpconf_setv(c, strcasecmp(d, "UseIPv6") == 0 ?
		    FTPCONF_LISTEN_V6 : FTPCONF_TLS_ENABLE, ul, NULL);
	}
	return 0;
}

/*
 * Sections.  <Global> and <IfModule>/<IfDefine> hold server config (we
 * cannot know which modules are loaded, so assume they are); every other
 * section (<VirtualHost>, <Anonymous>, <Directory>, <Limit>, ...) scopes
 * its directives to something narrower, so its body is skipped.
 */
static int
ftpconf_pro_section(struct ftpconf_ctx *c, char *line)
{
	char *name, *end;
	int closing = line[1] == '/';

	name = line + 1 + closing;
	end = name + strcspn(name, " \t>");
	if (*end == '\0' || end == name || line[strlen(line) - 1] != '>')
		return ftpconf_fail(c, "malformed section tag");
	*end = '\0';
	/* Names are kept truncated; compare them the same way. */
	if (strlen(name) >= sizeof(c->sect[0]))
		name[sizeof(c->sect[0]) - 1] = '\0';
	if (closing) {
		if (c->depth == 0 || strcasecmp(c->sect[c->depth - 1],
		    name) != 0)
			return ftpconf_fail(c, "unexpected </%.20s>", name);
		if (c->skip_depth == c->depth)
			c->skip_depth = 0;
		c->depth--;
		return 0;
	}
	if (c->depth == FTPCONF_DEPTH_MAX)
		return ftpconf_fail(c, "sections nested too deeply");
	snprintf(c->sect[c->depth], sizeof(c->sect[0]), "%s", name);
	c->depth++;
	if (c->skip_depth != 0)
		return 0;
	if (strcasecmp(name, "Anonymous") == 0) {
		c->skip_depth = c->depth;
		return ftpconf_setv(c, FTPCONF_ANONYMOUS_ENABLE, 1, NULL);
	}
	if (strcasecmp(name, "Global") != 0 &&
	    strcasecmp(name, "IfModule") != 0 &&
	    strcasecmp(name, "IfDefine") != 0)
		c->skip_depth = c->depth;
	return 0;
}

static int
ftpconf_pro_line(struct ftpconf_ctx *c, char *line)
{
	char *argv[ARGS_MAX];
	int argc;

	line = ftpconf_trim(line);
	if (line[0] == '\0' || line[0] == '#')
		return 0;
	if (line[0] == '<')
		return ftpconf_pro_section(c, line);
	if (c->skip_depth != 0)
		return 0;
	argc = ftpconf_split(line, argv, ARGS_MAX);
	return argc > 0 ? ftpconf_pro_directive(c, argc, argv) : 0;
}

static int
ftpconf_pro_finish(struct ftpconf_ctx *c)
{
	if (c->depth != 0)
		return ftpconf_fail(c, "<%.20s> not closed",
		    c->sect[c->depth - 1]);
	return 0;
}

/* ---- pure-ftpd ------------------------------------------------------- */

/* Bind "[addr],port", "port" or "addr" (pure-ftpd -S). */
static int
ftpconf_pure_bind(struct ftpconf_ctx *c, char *arg)
{
	char *comma = strrchr(arg, ',');
	char *port = arg;
	unsigned long ul;
	int r;

	if (comma != NULL) {
		*comma = '\0';
		port = comma + 1;
	} else if (strspn(arg, "0123456789") != strlen(arg))
		port = NULL;	/* an address alone */
	if (port != NULL && ((r = ftpconf_num_arg(c, "Bind", port, 1, 65535,
	    &ul)) != 0 || (r = ftpconf_setv(c, FTPCONF_CONTROL_PORT, ul,
	    NULL)) != 0))
		return r;
	if (port == NULL || (comma != NULL && arg[0] != '\0'))
		return ftpconf_addr_arg(c, FTPCONF_LISTEN_ADDRESS, "Bind", arg,
		    1);
	return 0;
}

static int
ftpconf_pure_limit(struct ftpconf_ctx *c, enum ftpconf_field f,
    const char *key, const char *arg)
{
	unsigned long n;
	int r;

	if ((r = ftpconf_num_arg(c, key, arg, 1, UINT_MAX, &n)) != 0)
		return r;
	return ftpconf_setv(c, f, n, NULL);
}

/* TLS 0-3: none, optional, required for login, required for all. */
static int
ftpconf_pure_tls(struct ftpconf_ctx *c, const char *arg)
{
	unsigned long n;
	int r;

	if ((r = ftpconf_num_arg(c, "TLS", arg, 0, 3, &n)) != 0 ||
	    (r = ftpconf_setv(c, FTPCONF_TLS_ENABLE, n >= 1, NULL)) != 0 ||
	    (r = ftpconf_setv(c, FTPCONF_TLS_LOGIN_REQUIRED, n >= 2,
	    NULL)) != 0)
		return r;
	return ftpconf_setv(c, FTPCONF_TLS_DATA_REQUIRED, n == 3, NULL);
}

/* yes/no options whose "yes" turns a fact off (NoAnonymous, ...). */
static int
ftpconf_pure_neg(struct ftpconf_ctx *c, enum ftpconf_field f,
    const char *key, const char *arg)
{
	unsigned long ul;
	int r;

	if ((r = ftpconf_bool_arg(c, key, arg, &ul)) != 0)
		return r;
	return ftpconf_setv(c, f, !ul, NULL);
}

static int
ftpconf_pure_line(struct ftpconf_ctx *c, char *line)
{
	char *argv[ARGS_MAX];
	const char *k;
	int argc;

	line = ftpconf_trim(line);
	if (line[0] == '\0' || line[0] == '#')
		return 0;
	if ((argc = ftpconf_split(line, argv, ARGS_MAX)) < 2)
		return 0;
	k = argv[0];
	if (strcasecmp(k, "PassivePortRange") == 0)
		return ftpconf_range_args(c, k, argc, argv);
	if (strcasecmp(k, "Bind") == 0)
		return ftpconf_pure_bind(c, argv[1]);
	if (strcasecmp(k, "ForcePassiveIP") == 0)
		return ftpconf_addr_arg(c, FTPCONF_PASV_ADDRESS, k, argv[1], 1);
	if (strcasecmp(k, "MaxClientsNumber") == 0)
		return ftpconf_pure_limit(c, FTPCONF_MAX_CLIENTS, k, argv[1]);
	if (strcasecmp(k, "MaxClientsPerIP") == 0)
		return ftpconf_pure_limit(c, FTPCONF_MAX_PER_IP, k, argv[1]);
	if (strcasecmp(k, "TLS") == 0)
		return ftpconf_pure_tls(c, argv[1]);
	if (strcasecmp(k, "NoAnonymous") == 0)
		return ftpconf_pure_neg(c, FTPCONF_ANONYMOUS_ENABLE, k,
		    argv[1]);
	if (strcasecmp(k, "NATmode") == 0)
		return ftpconf_pure_neg(c, FTPCONF_PASV_ENABLE, k, argv[1]);
	if (strcasecmp(k, "IPV4Only") == 0)
		return ftpconf_pure_neg(c, FTPCONF_LISTEN_V6, k, argv[1]);
	if (strcasecmp(k, "IPV6Only") == 0)
		return ftpconf_pure_neg(c, FTPCONF_LISTEN_V4, k, argv[1]);
	return 0;
}

/* ---- detection, driver ----------------------------------------------- */

static const char *const ftpconf_pro_words[] = {
	"ServerName", "ServerType", "DefaultRoot", "PassivePorts",
	"MasqueradeAddress", "TLSEngine", "Include", "LoadModule",
	"MaxInstances", "DefaultServer", "AllowOverwrite", "UseIPv6",
};
static const char *const ftpconf_pure_words[] = {
	"ChrootEveryone", "PassivePortRange", "ForcePassiveIP",
	"MaxClientsNumber", "MaxClientsPerIP", "NoAnonymous", "PureDB",
	"Daemonize", "VerboseLog", "DisplayDotFiles", "NATmode", "IPV4Only",
};

static int
ftpconf_word_in(const char *w, size_t n, const char *const *list,
    size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		if (strlen(list[i]) == n && strncasecmp(w, list[i], n) == 0)
			return 1;
	return 0;
}

/* Vote per line on the first word; vsftpd wins ties (the common case). */
static enum ftpconf_kind
ftpconf_detect(const char *name, const char *buf, size_t len)
{
	unsigned long vs = 0, pro = 0, pure = 0;
	size_t i = 0, n;
	const char *w;

	if (strstr(name, "vsftpd") != NULL)
		return FTPCONF_VSFTPD;
	if (strstr(name, "proftpd") != NULL)
		return FTPCONF_PROFTPD;
	if (strstr(name, "pure-ftpd") != NULL ||
	    strstr(name, "pureftpd") != NULL)
		return FTPCONF_PUREFTPD;
	while (i < len) {
		while (i < len && (buf[i] == ' ' || buf[i] == '\t'))
			i++;
		w = buf + i;
		for (n = 0; i + n < len && (isalnum((unsigned char)w[n]) ||
		    w[n] == '_'); n++)
			;
		if (i + n < len && w[n] == '=' && n > 0)
			vs++;
		else if (n == 0 && i < len && w[0] == '<')
			pro++;
		pro += ftpconf_word_in(w, n, ftpconf_pro_words,
		    NKEYS(ftpconf_pro_words));
		pure += ftpconf_word_in(w, n, ftpconf_pure_words,
		    NKEYS(ftpconf_pure_words));
		while (i < len && buf[i] != '\n')
			i++;
		i++;
	}
	if (pro > vs && pro >= pure)
		return FTPCONF_PROFTPD;
	if (pure > vs && pure > pro)
		return FTPCONF_PUREFTPD;
	return FTPCONF_VSFTPD;
}

static int
ftpconf_line(struct ftpconf_ctx *c, char *line)
{
	switch (c->cf->kind) {
	case FTPCONF_PROFTPD:
		return ftpconf_pro_line(c, line);
	case FTPCONF_PUREFTPD:
		return ftpconf_pure_line(c, line);
	default:
		return ftpconf_vs_line(c, line);
	}
}

static int
ftpconf_finish(struct ftpconf_ctx *c)
{
	switch (c->cf->kind) {
	case FTPCONF_PROFTPD:
		return ftpconf_pro_finish(c);
	case FTPCONF_VSFTPD:
		return ftpconf_vs_finish(c);
	default:
		return 0;
	}
}

/*
 * Walk the physical lines.  proftpd joins lines ending in '\' into one
 * logical line (evidence then names its first line).  Both the physical
 * and the logical line are bounded by FTPCONF_LINE_MAX.
 */
static int
ftpconf_walk(struct ftpconf_ctx *c, const char *buf, size_t len)
{
	char logical[FTPCONF_LINE_MAX + 1], work[FTPCONF_LINE_MAX + 1];
	size_t pos = 0, n, have = 0;
	unsigned long phys = 0;
	const char *nl;
	int r, cont;

	while (pos < len) {
		nl = memchr(buf + pos, '\n', len - pos);
		n = nl != NULL ? (size_t)(nl - (buf + pos)) : len - pos;
		phys++;
		if (have == 0)
			c->line = phys;
		if (memchr(buf + pos, '\0', n) != NULL) {
			c->line = phys;
			return ftpconf_fail(c, "NUL byte in line");
		}
		if (n > FTPCONF_LINE_MAX || have + n > FTPCONF_LINE_MAX)
			return ftpconf_fail(c, "line longer than %d "
			    "characters", FTPCONF_LINE_MAX);
		memcpy(logical + have, buf + pos, n);
		have += n;
		logical[have] = '\0';
		pos += n + 1;
		if (have > 0 && logical[have - 1] == '\r')
			logical[--have] = '\0';
		cont = c->cf->kind == FTPCONF_PROFTPD && have > 0 &&
		    logical[have - 1] == '\\' && pos < len;
		if (cont) {
			logical[--have] = '\0';
			continue;
		}
		memcpy(work, logical, have + 1);
		c->raw = logical;
		/* Evidence wants the line as written, not the split copy. */
		if ((r = ftpconf_line(c, work)) != 0)
			return r;
		have = 0;
	}
	return 0;
}

static void
ftpconf_set_name(struct ftpconf *cf, const char *name)
{
	const char *slash = strrchr(name, '/');
	char tmp[FTPCONF_NAME_MAX];

	if (slash != NULL && slash[1] != '\0')
		name = slash + 1;
	ftpconf_printable(tmp, sizeof(tmp), name, strlen(name));
	memcpy(cf->name, tmp, sizeof(tmp));
	if (cf->name[0] == '\0')
		snprintf(cf->name, sizeof(cf->name), "-");
}

int
ftpconf_parse(struct ftpconf *cf, enum ftpconf_kind kind, const char *name,
    const char *buf, size_t len, char *err, size_t errlen)
{
	struct ftpconf_ctx *c = NULL;
	int r = FTP_ERR_INVAL;

	if (cf == NULL || (buf == NULL && len > 0) ||
	    (unsigned)kind >= KINDS) {
		ftp_errmsg(err, errlen, "bad arguments");
		goto out;
	}
	if (name == NULL)
		name = "-";
	ftpconf_set_name(cf, name);
	if (kind == FTPCONF_AUTO)
		kind = ftpconf_detect(cf->name, buf != NULL ? buf : "", len);
	ftpconf_clear(cf, kind);
	/* The context carries a 32-deep section stack: heap, not stack. */
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		ftp_errmsg(err, errlen, "out of memory");
		r = FTP_ERR_NOMEM;
		goto out;
	}
	c->cf = cf;
	c->raw = "";
	if ((r = ftpconf_walk(c, buf, len)) != 0 ||
	    (r = ftpconf_finish(c)) != 0) {
		ftp_errmsg(err, errlen, "%s:%lu: %s", cf->name, c->line,
		    c->msg);
		ftpconf_clear(cf, kind);
		goto out;
	}
	r = 0;
out:
	free(c);
	return r;
}

int
ftpconf_load_file(struct ftpconf *cf, enum ftpconf_kind kind,
    const char *path, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t n;
	int r;

	if (cf == NULL || path == NULL) {
		ftp_errmsg(err, errlen, "no FTP server configuration given");
		return FTP_ERR_INVAL;
	}
	r = readfile_load(path, FTPCONF_FILE_MAX, &buf, &n);
	if (r == FTP_ERR_TOOBIG)
		ftp_errmsg(err, errlen, "%s: larger than %d bytes", path,
		    FTPCONF_FILE_MAX);
	else if (r != 0) {
		int saved = errno;	/* FTP_ERR_SYSTEM: the caller reads it */

		ftp_errmsg(err, errlen, "%s: %s", path, ftp_strerror(r));
		errno = saved;
	} else
		r = ftpconf_parse(cf, kind, path, buf, n, err, errlen);
	free(buf);
	return r;
}

/* ---- queries ---------------------------------------------------------- */

enum ftpconf_kind
ftpconf_kind(const struct ftpconf *cf)
{
	return cf != NULL ? cf->kind : FTPCONF_AUTO;
}

const char *
ftpconf_kind_name(enum ftpconf_kind kind)
{
	switch (kind) {
	case FTPCONF_VSFTPD:	return "vsftpd";
	case FTPCONF_PROFTPD:	return "proftpd";
	case FTPCONF_PUREFTPD:	return "pure-ftpd";
	case FTPCONF_AUTO:	return "auto";
	}
	return "?";
}

int
ftpconf_get(const struct ftpconf *cf, enum ftpconf_field field,
    struct ftpconf_fact *out)
{
	const struct ftpconf_val *v;

	if (cf == NULL || out == NULL || (unsigned)field >= FTPCONF_NFIELDS)
		return FTP_ERR_INVAL;
	v = &cf->v[field];
	out->set = v->set;
	out->line = v->line;
	out->num = v->num;
	out->str = v->str;
	out->text = v->text;
	return 0;
}

const char *
ftpconf_field_name(enum ftpconf_kind kind, enum ftpconf_field field)
{
	if ((unsigned)field >= FTPCONF_NFIELDS)
		return "?";
	if (kind == FTPCONF_AUTO || (unsigned)kind >= KINDS)
		return ftpconf_generic[field];
	return ftpconf_defs[kind][field].name;
}

uint16_t
ftpconf_control_port(const struct ftpconf *cf)
{
	return cf != NULL ? (uint16_t)cf->v[FTPCONF_CONTROL_PORT].num : 21;
}

int
ftpconf_passive_range(const struct ftpconf *cf, struct portrange *out)
{
	unsigned long lo, hi, min, max;

	if (cf == NULL || out == NULL)
		return FTP_ERR_INVAL;
	min = cf->v[FTPCONF_PASV_MIN_PORT].num;
	max = cf->v[FTPCONF_PASV_MAX_PORT].num;
	if (cf->kind == FTPCONF_VSFTPD) {
		/* vsftpd privops.c, vsf_privop_pasv_listen(). */
		lo = (min > 1024 && min <= 65535) ? min : 1024;
		hi = (max >= lo && max < 65535) ? max : 65535;
	} else {
		lo = min;
		hi = max;
	}
	out->lo = (uint16_t)lo;
	out->hi = (uint16_t)hi;
	return cf->v[FTPCONF_PASV_ENABLE].num ? 0 : FTP_ERR_NOTFOUND;
}

/* Render a default value in the server's own words. */
static void
ftpconf_default_text(const struct ftpconf *cf, enum ftpconf_field f,
    char *buf, size_t len)
{
	unsigned long n = cf->v[f].num;

	switch (ftpconf_types[f]) {
	case FT_STR:
		snprintf(buf, len, "none");
		break;
	case FT_BOOL:
		snprintf(buf, len, "%s", cf->kind == FTPCONF_VSFTPD ?
		    (n ? "YES" : "NO") : (n ? "on" : "off"));
		break;
	case FT_NUM:
		if (n == 0 && cf->kind == FTPCONF_PROFTPD)
			snprintf(buf, len, "none");
		else
			snprintf(buf, len, "%lu", n);
		break;
	}
}

static int
ftpconf_done(int n, size_t len)
{
	return (n < 0 || (size_t)n >= len) ? FTP_ERR_TOOBIG : 0;
}

int
ftpconf_evidence(const struct ftpconf *cf, enum ftpconf_field field,
    char *buf, size_t len)
{
	const struct ftpconf_val *v;
	const char *name;
	char def[32];
	int n;

	if (cf == NULL || buf == NULL || len == 0 ||
	    (unsigned)field >= FTPCONF_NFIELDS)
		return FTP_ERR_INVAL;
	v = &cf->v[field];
	name = ftpconf_field_name(cf->kind, field);
	ftpconf_default_text(cf, field, def, sizeof(def));
	if (v->set)
		n = snprintf(buf, len, "%s:%lu %s", cf->name, v->line, v->text);
	else if (strcmp(name, "-") == 0)
		n = snprintf(buf, len, "%s: %s has no %s setting (always %s)",
		    cf->name, ftpconf_kind_name(cf->kind),
		    ftpconf_generic[field], def);
	else
		n = snprintf(buf, len, "%s: %s not set (%s default: %s)",
		    cf->name, name, ftpconf_kind_name(cf->kind), def);
	return ftpconf_done(n, len);
}

int
ftpconf_summary(const struct ftpconf *cf, char *buf, size_t len)
{
	const struct ftpconf_val *v;
	struct portrange pr;
	char range[24], active[24];
	int n, pasv, tls;

	if (cf == NULL || buf == NULL || len == 0)
		return FTP_ERR_INVAL;
	v = cf->v;
	pasv = ftpconf_passive_range(cf, &pr) == 0;
	if (!pasv)
		snprintf(range, sizeof(range), "disabled");
	else if (pr.lo == 0)
		snprintf(range, sizeof(range), "ephemeral");
	else
		snprintf(range, sizeof(range), "%u-%u", pr.lo, pr.hi);
	/* vsftpd without connect_from_port_20 connects from any port. */
	if (!v[FTPCONF_PORT_ENABLE].num)
		snprintf(active, sizeof(active), "disabled");
	else if (cf->kind == FTPCONF_VSFTPD &&
	    !v[FTPCONF_CONNECT_FROM_PORT_20].num)
		snprintf(active, sizeof(active), "from any port");
	else
		snprintf(active, sizeof(active), "from port %lu",
		    v[FTPCONF_FTP_DATA_PORT].num);
	tls = v[FTPCONF_TLS_ENABLE].num != 0;
	n = snprintf(buf, len, "%s (%s): control port %lu, passive %s "
	    "address %s, active %s, max clients %lu, per address %lu "
	    "(0 = no limit), TLS %s, anonymous %s",
	    ftpconf_kind_name(cf->kind), cf->name,
	    v[FTPCONF_CONTROL_PORT].num, range,
	    v[FTPCONF_PASV_ADDRESS].str != NULL ?
	    v[FTPCONF_PASV_ADDRESS].str : "of the control socket", active,
	    v[FTPCONF_MAX_CLIENTS].num, v[FTPCONF_MAX_PER_IP].num,
	    !tls ? "off" : (v[FTPCONF_TLS_LOGIN_REQUIRED].num ||
	    v[FTPCONF_TLS_DATA_REQUIRED].num) ? "required" : "optional",
	    v[FTPCONF_ANONYMOUS_ENABLE].num ? "yes" : "no");
	return ftpconf_done(n, len);
}

/* ---- advice ----------------------------------------------------------- */

/* Copied into a configuration line: printable, no blanks, bounded. */
static int
ftpconf_value_ok(const char *v)
{
	size_t i, n;

	if (v == NULL || (n = strlen(v)) == 0 || n > 255)
		return 0;
	for (i = 0; i < n; i++)
		if (v[i] <= 0x20 || v[i] >= 0x7f || v[i] == '#')
			return 0;
	return 1;
}

static int
ftpconf_advice_range(enum ftpconf_kind kind, const char *value, char *buf,
    size_t len)
{
	struct portrange pr;
	int n;

	if (portrange_parse(value, &pr) != 0)
		return FTP_ERR_INVAL;
	if (kind == FTPCONF_VSFTPD)
		n = snprintf(buf, len, "vsftpd: pasv_enable=YES, "
		    "pasv_min_port=%u, pasv_max_port=%u", pr.lo, pr.hi);
	else
		n = snprintf(buf, len, "%s: %s %u %u", ftpconf_kind_name(kind),
		    kind == FTPCONF_PROFTPD ? "PassivePorts" :
		    "PassivePortRange", pr.lo, pr.hi);
	return ftpconf_done(n, len);
}

static int
ftpconf_advice_limit(enum ftpconf_kind kind, enum ftpconf_advice advice,
    const char *value, char *buf, size_t len)
{
	unsigned long ul;
	int per_ip = advice == FTPCONF_ADVICE_MAX_PER_IP;
	enum ftpconf_field f = per_ip ? FTPCONF_MAX_PER_IP :
	    FTPCONF_MAX_CLIENTS;
	int n;

	if (ftpconf_ulong(value, 0, UINT_MAX, &ul) != 0)
		return FTP_ERR_INVAL;
	if (kind == FTPCONF_PROFTPD && ul == 0)
		n = snprintf(buf, len, "proftpd: %s none",
		    ftpconf_defs[kind][f].name);
	else
		n = snprintf(buf, len, "%s: %s%s%lu%s",
		    ftpconf_kind_name(kind), ftpconf_defs[kind][f].name,
		    kind == FTPCONF_VSFTPD ? "=" : " ", ul,
		    ul == 0 ? " (0 = no limit)" : "");
	return ftpconf_done(n, len);
}

static int
ftpconf_advice_text(enum ftpconf_kind kind, enum ftpconf_advice advice,
    const char *value, char *buf, size_t len)
{
	static const char *const port20[KINDS] = {
		[FTPCONF_VSFTPD] = "vsftpd: connect_from_port_20=YES (and "
		    "ftp_data_port=20)",
		[FTPCONF_PROFTPD] = "proftpd: Port 21 (active data then "
		    "comes from port 20, one below the control port)",
		[FTPCONF_PUREFTPD] = "pure-ftpd: no setting; active data "
		    "leaves from port 20, allow it outbound in the firewall",
	};
	static const char *const pasv_on[KINDS] = {
		[FTPCONF_VSFTPD] = "vsftpd: pasv_enable=YES",
		[FTPCONF_PROFTPD] = "proftpd: remove <Limit PASV EPSV> "
		    "DenyAll",
		[FTPCONF_PUREFTPD] = "pure-ftpd: NATmode no",
	};

	(void)value;
	return ftpconf_done(snprintf(buf, len, "%s",
	    advice == FTPCONF_ADVICE_PORT20 ? port20[kind] : pasv_on[kind]),
	    len);
}

int
ftpconf_advice(enum ftpconf_kind kind, enum ftpconf_advice advice,
    const char *value, char *buf, size_t len)
{
	int n, numeric;

	if (buf == NULL || len == 0 || kind == FTPCONF_AUTO ||
	    (unsigned)kind >= KINDS)
		return FTP_ERR_INVAL;
	buf[0] = '\0';
	switch (advice) {
	case FTPCONF_ADVICE_PORT20:
	case FTPCONF_ADVICE_PASV_ENABLE:
		return ftpconf_advice_text(kind, advice, value, buf, len);
	case FTPCONF_ADVICE_PASV_ADDRESS:
	case FTPCONF_ADVICE_PASV_RANGE:
	case FTPCONF_ADVICE_MAX_PER_IP:
	case FTPCONF_ADVICE_MAX_CLIENTS:
		break;
	default:
		return FTP_ERR_INVAL;
	}
	if (!ftpconf_value_ok(value))
		return FTP_ERR_INVAL;
	if (advice == FTPCONF_ADVICE_PASV_RANGE)
		return ftpconf_advice_range(kind, value, buf, len);
	if (advice != FTPCONF_ADVICE_PASV_ADDRESS)
		return ftpconf_advice_limit(kind, advice, value, buf, len);
	numeric = ftpconf_ip_family(value) != -1;
	if (!numeric && !ftpconf_hostname_ok(value))
		return FTP_ERR_INVAL;
	if (kind == FTPCONF_VSFTPD)
		n = snprintf(buf, len, "vsftpd: pasv_address=%s (and "
		    "pasv_addr_resolve=%s)", value, numeric ? "NO" : "YES");
	else
		n = snprintf(buf, len, "%s: %s %s", ftpconf_kind_name(kind),
		    kind == FTPCONF_PROFTPD ? "MasqueradeAddress" :
		    "ForcePassiveIP", value);
	return ftpconf_done(n, len);
}
