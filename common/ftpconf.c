/*
 * ftpconf.c - read vsftpd / proftpd / pure-ftpd configuration (see
 * ftpconf.h for what is read and why the defaults are what they are).
 *
 * One pass over the buffer, line by line, into a fixed table of facts.
 * Each server has its own line handler (ftpconf_read.c); they share the
 * value parsers and the "set a fact with its evidence" helper, here, with
 * the detection of the server, the driver and the queries.  The advice
 * (the setting to change) is ftpconf_advice.c.  Checks that need the whole
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
#include "ftpconf_int.h"
#include "readfile.h"

/* Generic names, used where a server has no setting of its own. */
static const char *const ftpconf_generic[FTPCONF_NFIELDS] = {
	"control_port", "listen_v4", "listen_v6", "listen_address",
	"listen_address6", "pasv_enable", "pasv_min_port", "pasv_max_port",
	"pasv_address", "pasv_addr_resolve", "port_enable",
	"connect_from_port_20", "ftp_data_port", "max_clients", "max_per_ip",
	"tls_enable", "tls_login_required", "tls_data_required",
	"anonymous_enable",
};

const enum ftpconf_type ftpconf_types[FTPCONF_NFIELDS] = {
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

const struct ftpconf_def ftpconf_defs[KINDS][FTPCONF_NFIELDS] = {
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

int
ftpconf_fail(struct ftpconf_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
	va_end(ap);
	return FTP_ERR_CONFIG;
}

int
ftpconf_is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* Copy at most n bytes of s, a tab as a blank, other control and
 * non-ASCII bytes as '?', so that evidence and messages never carry
 * terminal escapes or newlines. */
void
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
int
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
char *
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
int
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
int
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
int
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

int
ftpconf_ip_family(const char *s)
{
	struct sockaddr_storage ss;
	socklen_t sl;

	if (addr_parse_ip(s, &ss, &sl) != 0)
		return -1;
	return ss.ss_family;
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

int
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

