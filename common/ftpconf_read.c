/*
 * ftpconf_read.c - the line handlers of each server's configuration
 * language: vsftpd's key=value, proftpd's directives and sections,
 * pure-ftpd's "Key value" (see ftpconf.h for what is read).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "err.h"
#include "ftpconf_int.h"

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
int
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
int
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

int
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

int
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

int
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
