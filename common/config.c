/*
 * config.c - the reflector's configuration (see config.h).
 *
 * File syntax: "key = value" per line.  '#' starts a comment at the start
 * of a line or after a blank, so that "max_sessions = 8  # default" works
 * while a path such as "/etc/ftp#1/cert.pem" is still taken whole.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "config.h"
#include "err.h"
#include "readfile.h"

#define CONFIG_LINE_MAX		4096
/* A file is a few dozen lines; allowed_ports split over many lines stays
 * far below this. */
#define CONFIG_FILE_MAX		(1024 * 1024)
/* Longest portset line config_print writes; longer sets are split over
 * repeated allowed_ports lines, which a file accumulates. */
#define CONFIG_PRINT_WRAP	1000

enum config_kind {
	CFG_LISTEN,
	CFG_PATH,
	CFG_PORT,
	CFG_RANGE,
	CFG_PORTSET,
	CFG_UINT,
	CFG_NAMES,	/* patterns of certificate names */
	CFG_ADDRPORT,	/* optional ADDR:PORT, port explicit */
	CFG_BOOL,		/* yes | no (an int field) */
};

struct config_key {
	const char *name;
	enum config_kind kind;
	size_t off;		/* offsetof the field */
	size_t size;		/* CFG_PATH: buffer size */
	unsigned long min, max;	/* CFG_UINT bounds */
};

#define CFG_OFF(f)	offsetof(struct reflector_config, f)
#define CFG_SZ(f)	sizeof(((struct reflector_config *)0)->f)

/* One table drives parsing; config_print follows the same order. */
static const struct config_key config_keys[] = {
	{ "listen", CFG_LISTEN, CFG_OFF(listen), CFG_SZ(listen), 0, 0 },
	{ "user", CFG_PATH, CFG_OFF(user), CFG_SZ(user), 0, 0 },
	{ "metrics_listen", CFG_ADDRPORT, CFG_OFF(metrics_listen),
	    CFG_SZ(metrics_listen), 0, 0 },
	{ "cert", CFG_PATH, CFG_OFF(cert), CFG_SZ(cert), 0, 0 },
	{ "key", CFG_PATH, CFG_OFF(key), CFG_SZ(key), 0, 0 },
	{ "ca", CFG_PATH, CFG_OFF(ca), CFG_SZ(ca), 0, 0 },
	{ "crl", CFG_PATH, CFG_OFF(crl), CFG_SZ(crl), 0, 0 },
	{ "allowed_agents", CFG_NAMES, CFG_OFF(allowed_agents),
	    CFG_SZ(allowed_agents), 0, 0 },
	{ "control_port", CFG_PORT, CFG_OFF(control_port), 0, 1, 65535 },
	{ "active_source_port", CFG_PORT, CFG_OFF(active_source_port), 0,
	    1, 65535 },
	{ "passive_range", CFG_RANGE, CFG_OFF(passive), 0, 0, 0 },
	{ "allowed_ports", CFG_PORTSET, CFG_OFF(allowed), 0, 0, 0 },
	{ "max_sessions", CFG_UINT, CFG_OFF(max_sessions), 0, 1, 4096 },
	{ "max_ports_per_session", CFG_UINT, CFG_OFF(max_ports_per_session),
	    0, 1, 65535 },
	{ "max_armed_ports", CFG_UINT, CFG_OFF(max_armed_ports), 0, 1,
	    1048576 },
	/* Seconds; a day is far beyond any sane idle control channel. */
	{ "session_timeout", CFG_UINT, CFG_OFF(session_timeout_s), 0,
	    1, 86400 },
	{ "max_timeout_ms", CFG_UINT, CFG_OFF(max_timeout_ms), 0,
	    1, 600000 },
	{ "connectback_min_port", CFG_PORT, CFG_OFF(connectback_min_port), 0,
	    1, 65535 },
	/* Connections that have not finished TLS: their own small budget,
	 * so that they never take an agent's session slot. */
	{ "max_handshakes", CFG_UINT, CFG_OFF(max_handshakes), 0, 1, 4096 },
	{ "max_handshakes_per_source", CFG_UINT,
	    CFG_OFF(max_handshakes_per_source), 0, 1, 4096 },
	/* Seconds; a handshake takes round trips, not minutes. */
	{ "handshake_timeout", CFG_UINT, CFG_OFF(handshake_timeout_s), 0,
	    1, 60 },
	{ "session_lifetime", CFG_UINT, CFG_OFF(session_lifetime_s), 0,
	    1, 86400 },
	/* Off unless the operator turns it on: an agent may then ask this
	 * host to load the fixes the reflector derived itself. */
	{ "allow_apply", CFG_BOOL, CFG_OFF(allow_apply), 0, 0, 1 },
	{ "apply_state_dir", CFG_PATH, CFG_OFF(apply_state_dir),
	    CFG_SZ(apply_state_dir), 0, 0 },
};

#define CONFIG_NKEYS	(sizeof(config_keys) / sizeof(config_keys[0]))

/*
 * Full-check decimal: strtoul alone accepts leading blanks, a sign
 * ("-1" wraps to ULONG_MAX) and "0x" with base 0, none of which belong
 * in a config file.
 */
static int
config_parse_ulong(const char *s, unsigned long min, unsigned long max,
    unsigned long *out)
{
	unsigned long v;
	char *end = NULL;

	if (s[0] < '0' || s[0] > '9')
		return FTP_ERR_INVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return FTP_ERR_INVAL;
	if (v < min || v > max)
		return FTP_ERR_RANGE;
	*out = v;
	return 0;
}

#define CONFIG_MAX_NAMES	64

static int
config_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || strchr(".-_@*?[]", c) != NULL;
}

/* "a,b  c" -> "a, b, c" in out ("" for an empty list); FTP_ERR_INVAL
 * for a character a certificate name pattern has no use for, too many. */
static int
config_names_norm(const char *value, char *out, size_t outlen)
{
	size_t o = 0, n = 0;
	const char *p = value;

	while (*p != '\0') {
		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		if (++n > CONFIG_MAX_NAMES || (n > 1 && o + 2 >= outlen))
			return FTP_ERR_INVAL;
		if (n > 1) {
			out[o++] = ',';
			out[o++] = ' ';
		}
		for (; *p != '\0' && *p != ',' && *p != ' ' && *p != '\t'; p++) {
			if (!config_name_char(*p) || o + 1 >= outlen)
				return FTP_ERR_INVAL;
			out[o++] = *p;
		}
	}
	out[o] = '\0';	/* none: any certificate of the CA */
	return 0;
}

int
config_agent_allowed(const struct reflector_config *cfg, const char *name)
{
	char pat[sizeof(cfg->allowed_agents)];
	const char *p = cfg->allowed_agents, *end;
	size_t n;

	if (p[0] == '\0')
		return 1;
	while (*p != '\0') {
		end = strchr(p, ',');
		n = end != NULL ? (size_t)(end - p) : strlen(p);
		memcpy(pat, p, n);
		pat[n] = '\0';
		if (name[0] != '\0' && fnmatch(pat, name, 0) == 0)
			return 1;
		p += n;
		while (*p == ',' || *p == ' ')
			p++;
	}
	return 0;
}

static int config_norm_listen(const char *value, char *out, size_t outlen);

/* "" (none) or an ADDR:PORT whose port is given, normalised. */
static int
config_addrport(const char *value, char *out, size_t outlen)
{
	char host[ADDR_STRLEN];
	uint16_t port;

	if (value[0] == '\0') {
		out[0] = '\0';
		return 0;
	}
	if (addr_split_hostport(value, 0, host, sizeof(host), &port) != 0 ||
	    port == 0)
		return FTP_ERR_INVAL;
	return config_norm_listen(value, out, outlen);
}

/* Normalise "ADDR[:PORT]" into "a.b.c.d:port" / "[v6]:port". */
static int
config_norm_listen(const char *value, char *out, size_t outlen)
{
	char host[ADDR_STRLEN];
	struct sockaddr_storage ss;
	socklen_t sl;
	uint16_t port;
	int n;

	if (addr_split_hostport(value, CONFIG_DEFAULT_PORT, host,
	    sizeof(host), &port) != 0 || addr_parse_ip(host, &ss, &sl) != 0)
		return FTP_ERR_INVAL;
	if (ss.ss_family == AF_INET6)
		n = snprintf(out, outlen, "[%s]:%u", host, port);
	else
		n = snprintf(out, outlen, "%s:%u", host, port);
	if (n < 0 || (size_t)n >= outlen)
		return FTP_ERR_TOOBIG;
	return 0;
}

static int
config_path_unprintable(const char *v)
{
	size_t i, n = strlen(v);

	if (n > 0 && (v[0] == ' ' || v[0] == '\t' || v[n - 1] == ' ' ||
	    v[n - 1] == '\t'))
		return 1;
	for (i = 0; i < n; i++) {
		if ((unsigned char)v[i] < 0x20 && v[i] != '\t')
			return 1;
		if (v[i] == '#' && (i == 0 || v[i - 1] == ' ' ||
		    v[i - 1] == '\t'))
			return 1;
	}
	return 0;
}

static const struct config_key *
config_find(const char *key)
{
	size_t i;

	for (i = 0; i < CONFIG_NKEYS; i++)
		if (strcmp(config_keys[i].name, key) == 0)
			return &config_keys[i];
	return NULL;
}

/*
 * Set one key.  merge_ports: add to allowed_ports instead of replacing
 * it (repeated lines in one file).
 */
static int
config_set1(struct reflector_config *cfg, const char *key,
    const char *value, int merge_ports, char *err, size_t errlen)
{
	const struct config_key *k;
	char *field;
	unsigned long ul;
	struct portrange pr;
	struct portset *ps = NULL;
	int r = FTP_ERR_CONFIG;

	if (cfg == NULL || key == NULL || value == NULL) {
		ftp_errmsg(err, errlen, "missing key or value");
		goto out;
	}
	if ((k = config_find(key)) == NULL) {
		ftp_errmsg(err, errlen, "unknown key \"%s\"", key);
		goto out;
	}
	field = (char *)cfg + k->off;
	switch (k->kind) {
	case CFG_LISTEN:
		if (config_norm_listen(value, field, k->size) != 0) {
			ftp_errmsg(err, errlen, "bad value for %s: \"%s\" "
			    "(expected ADDR:PORT with a numeric address)",
			    k->name, value);
			goto out;
		}
		break;
	case CFG_ADDRPORT:
		if (config_addrport(value, (char *)cfg + k->off, k->size) !=
		    0) {
			ftp_errmsg(err, errlen, "bad value for %s: ADDR:PORT "
			    "with a numeric address and a port 1-65535 "
			    "([v6]:port for IPv6), or empty for none", k->name);
			goto out;
		}
		break;
	case CFG_NAMES:
		if (config_names_norm(value, (char *)cfg + k->off,
		    k->size) != 0) {
			ftp_errmsg(err, errlen, "bad value for %s: certificate "
			    "name patterns (letters, digits, \".-_@*?[]\") "
			    "separated by commas or blanks, at most %d, %zu "
			    "characters in all", k->name, CONFIG_MAX_NAMES,
			    k->size - 1);
			goto out;
		}
		break;
	case CFG_PATH:
		/* What the file syntax could not read back (a comment start,
		 * blanks trimmed away, control characters) is refused here so
		 * that config_print output always round-trips. */
		if (config_path_unprintable(value)) {
			ftp_errmsg(err, errlen, "bad value for %s: blanks at "
			    "the ends, \" #\" or control characters",
			    k->name);
			goto out;
		}
		if (strlen(value) >= k->size) {
			ftp_errmsg(err, errlen, "value for %s too long "
			    "(max %zu)", k->name, k->size - 1);
			goto out;
		}
		/* The watchdog runs with cwd "/": a relative directory
		 * would name another place than the operator meant. */
		if (k->off == CFG_OFF(apply_state_dir) && value[0] != '/') {
			ftp_errmsg(err, errlen, "bad value for %s: \"%s\" "
			    "(expected an absolute path)", k->name, value);
			goto out;
		}
		memcpy(field, value, strlen(value) + 1);
		break;
	case CFG_PORT:
		if (config_parse_ulong(value, k->min, k->max, &ul) != 0) {
			ftp_errmsg(err, errlen, "bad value for %s: \"%s\" "
			    "(expected a port 1-65535)", k->name, value);
			goto out;
		}
		*(uint16_t *)(void *)field = (uint16_t)ul;
		break;
	case CFG_RANGE:
		if (strcmp(value, "none") == 0) {
			memset(&pr, 0, sizeof(pr));
		} else if (portrange_parse(value, &pr) != 0) {
			ftp_errmsg(err, errlen, "bad value for %s: \"%s\" "
			    "(expected LO-HI within 1-65535, or none)",
			    k->name, value);
			goto out;
		}
		memcpy(field, &pr, sizeof(pr));
		break;
	case CFG_PORTSET:
		if (cfg->allowed == NULL) {
			ftp_errmsg(err, errlen, "config_defaults not called");
			goto out;
		}
		if (merge_ports && strcmp(value, "none") != 0) {
			/* portset_parse leaves the set alone on error. */
			if (portset_parse(cfg->allowed, value) != 0)
				goto badset;
			break;
		}
		if ((ps = portset_new()) == NULL) {
			ftp_errmsg(err, errlen, "out of memory");
			r = FTP_ERR_NOMEM;
			goto out;
		}
		if (strcmp(value, "none") != 0 &&
		    portset_parse(ps, value) != 0)
			goto badset;
		portset_free(cfg->allowed);
		cfg->allowed = ps;
		ps = NULL;
		break;
	case CFG_UINT:
		if (config_parse_ulong(value, k->min, k->max, &ul) != 0) {
			ftp_errmsg(err, errlen, "bad value for %s: \"%s\" "
			    "(expected %lu-%lu)", k->name, value, k->min,
			    k->max);
			goto out;
		}
		*(unsigned *)(void *)field = (unsigned)ul;
		break;
	case CFG_BOOL:
		if (strcmp(value, "yes") != 0 && strcmp(value, "no") != 0) {
			ftp_errmsg(err, errlen, "bad value for %s: \"%s\" "
			    "(expected yes or no)", k->name, value);
			goto out;
		}
		*(int *)(void *)field = strcmp(value, "yes") == 0;
		break;
	}
	r = 0;
	goto out;
badset:
	ftp_errmsg(err, errlen, "bad value for %s: \"%s\" (expected a list "
	    "such as 20,21,30000-30099, or none)", k->name, value);
out:
	portset_free(ps);
	return r;
}

int
config_defaults(struct reflector_config *cfg)
{
	struct portset *ps;

	if ((ps = portset_new()) == NULL)
		return FTP_ERR_NOMEM;
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->listen, sizeof(cfg->listen), "[::]:%d",
	    CONFIG_DEFAULT_PORT);
	cfg->control_port = 21;
	cfg->active_source_port = 20;
	cfg->allowed = ps;
	cfg->max_sessions = 8;
	/* A whole range: what protects the host is the configuration's
	 * passive_range and allowed_ports, not a second, smaller cap. */
	cfg->max_ports_per_session = 65535;
	/* Probe ports armed at once: eighty agents of a hundred ports
	 * each.  Beyond what the transparent listener takes in and the loop
	 * reads in time a clean path looks lossy (armq.h; tests/bench/load.sh
	 * N=300: 16384 gave 34 false failures on 2 cores, 8192 none). */
	cfg->max_armed_ports = 8192;
	snprintf(cfg->user, sizeof(cfg->user), "ftpath");
	cfg->session_timeout_s = 60;
	cfg->max_timeout_ms = 10000;
	/* An FTP client's data listener is never privileged; a reflector
	 * that dials the agent host's 22 or 25 would be a bounce tool. */
	cfg->connectback_min_port = 1024;
	cfg->max_handshakes = 64;
	cfg->max_handshakes_per_source = 8;
	cfg->handshake_timeout_s = 5;
	/* A check takes seconds; a wide range with retries a minute. */
	cfg->session_lifetime_s = 900;
	snprintf(cfg->apply_state_dir, sizeof(cfg->apply_state_dir), "%s",
	    CONFIG_APPLY_STATE_DIR);
	return 0;
}

void
config_release(struct reflector_config *cfg)
{
	if (cfg == NULL)
		return;
	portset_free(cfg->allowed);
	cfg->allowed = NULL;
}

int
config_set(struct reflector_config *cfg, const char *key,
    const char *value, char *err, size_t errlen)
{
	return config_set1(cfg, key, value, 0, err, errlen);
}

static int
config_is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Trim blanks on both ends in place; returns the new start. */
static char *
config_trim(char *s)
{
	size_t n;

	while (config_is_blank(*s))
		s++;
	n = strlen(s);
	while (n > 0 && config_is_blank(s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* Parse one line already stripped of its newline. */
static int
config_line(struct reflector_config *cfg, char *line, int *seen_ports,
    char *err, size_t errlen)
{
	char *p, *eq, *key, *value;
	int r;

	for (p = line; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 && *p != '\t') {
			ftp_errmsg(err, errlen, "control character in line");
			return FTP_ERR_CONFIG;
		}
		if (*p == '#' && (p == line || config_is_blank(p[-1]))) {
			*p = '\0';
			break;
		}
	}
	key = config_trim(line);
	if (*key == '\0')
		return 0;
	if ((eq = strchr(key, '=')) == NULL) {
		ftp_errmsg(err, errlen, "expected \"key = value\"");
		return FTP_ERR_CONFIG;
	}
	*eq = '\0';
	key = config_trim(key);
	value = config_trim(eq + 1);
	if (*key == '\0') {
		ftp_errmsg(err, errlen, "missing key before '='");
		return FTP_ERR_CONFIG;
	}
	r = config_set1(cfg, key, value,
	    strcmp(key, "allowed_ports") == 0 && *seen_ports, err, errlen);
	if (r == 0 && strcmp(key, "allowed_ports") == 0)
		*seen_ports = 1;
	return r;
}

int
config_parse_buffer(struct reflector_config *cfg, const char *buf,
    size_t len, const char *name, char *err, size_t errlen)
{
	char *line = NULL, msg[512];
	const char *p = buf, *end = buf + len, *nl;
	size_t n;
	unsigned long lineno = 0;
	int seen_ports = 0, r = FTP_ERR_CONFIG;

	if (cfg == NULL || (buf == NULL && len > 0)) {
		ftp_errmsg(err, errlen, "no configuration given");
		return FTP_ERR_CONFIG;
	}
	if (name == NULL)
		name = "-";
	/* One line buffer for all: a line longer than the limit (with its
	 * "\r\n") is refused before it is copied. */
	if ((line = malloc(CONFIG_LINE_MAX + 3)) == NULL)
		return FTP_ERR_NOMEM;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (nl != NULL ? (size_t)(nl - p) : (size_t)(end - p));
		lineno++;
		if (memchr(p, '\0', n) != NULL) {
			ftp_errmsg(err, errlen, "%s:%lu: NUL byte in line",
			    name, lineno);
			goto out;
		}
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > CONFIG_LINE_MAX) {
			ftp_errmsg(err, errlen, "%s:%lu: line longer than %d "
			    "characters", name, lineno, CONFIG_LINE_MAX);
			goto out;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		p = nl != NULL ? nl + 1 : end;
		if ((r = config_line(cfg, line, &seen_ports, msg,
		    sizeof(msg))) != 0) {
			ftp_errmsg(err, errlen, "%s:%lu: %s", name, lineno,
			    msg);
			goto out;
		}
		r = FTP_ERR_CONFIG;
	}
	r = 0;
out:
	free(line);
	return r;
}

int
config_load_file(struct reflector_config *cfg, const char *path,
    char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	int r, saved;

	if (cfg == NULL || path == NULL) {
		ftp_errmsg(err, errlen, "no configuration file given");
		return FTP_ERR_CONFIG;
	}
	if ((r = readfile_load(path, CONFIG_FILE_MAX, &buf, &len)) != 0) {
		saved = errno;
		if (r == FTP_ERR_SYSTEM)
			ftp_errmsg(err, errlen, "%s: %s", path,
			    strerror(saved));
		else
			ftp_errmsg(err, errlen, "%s: %s", path, r ==
			    FTP_ERR_TOOBIG ? "file too large" :
			    ftp_strerror(r));
		errno = saved;
		return r;
	}
	r = config_parse_buffer(cfg, buf, len, path, err, errlen);
	free(buf);
	return r;
}

int
config_validate(struct reflector_config *cfg, char *err, size_t errlen)
{
	char norm[ADDR_STRLEN];
	struct portrange one;
	int r = FTP_ERR_CONFIG;

	if (cfg == NULL || cfg->allowed == NULL) {
		ftp_errmsg(err, errlen, "configuration not initialised");
		goto out;
	}
	if (cfg->cert[0] == '\0' || cfg->key[0] == '\0' ||
	    cfg->ca[0] == '\0') {
		ftp_errmsg(err, errlen, "%s is not set", cfg->cert[0] == '\0' ?
		    "cert" : cfg->key[0] == '\0' ? "key" : "ca");
		goto out;
	}
	/* Again here: the struct may have been filled without config_set. */
	if (config_norm_listen(cfg->listen, norm, sizeof(norm)) != 0) {
		ftp_errmsg(err, errlen, "bad listen address \"%s\"",
		    cfg->listen);
		goto out;
	}
	if (cfg->control_port == 0 || cfg->active_source_port == 0 ||
	    cfg->connectback_min_port == 0) {
		ftp_errmsg(err, errlen, "%s must be 1-65535",
		    cfg->control_port == 0 ? "control_port" :
		    cfg->active_source_port == 0 ? "active_source_port" :
		    "connectback_min_port");
		goto out;
	}
	if (cfg->passive.lo != 0 && cfg->passive.lo > cfg->passive.hi) {
		ftp_errmsg(err, errlen, "passive_range %u-%u is reversed",
		    cfg->passive.lo, cfg->passive.hi);
		goto out;
	}
	if (cfg->max_sessions == 0 || cfg->max_ports_per_session == 0 ||
	    cfg->max_armed_ports == 0 ||
	    cfg->session_timeout_s == 0 || cfg->max_timeout_ms == 0 ||
	    cfg->max_handshakes == 0 || cfg->max_handshakes_per_source == 0 ||
	    cfg->handshake_timeout_s == 0 || cfg->session_lifetime_s == 0) {
		ftp_errmsg(err, errlen, "limits must be at least 1");
		goto out;
	}
	if (cfg->apply_state_dir[0] != '/') {
		ftp_errmsg(err, errlen, "apply_state_dir must be an absolute "
		    "path");
		goto out;
	}
	if (portset_count(cfg->allowed) == 0) {
		/* Derive: exactly the ports an FTP path test needs. */
		one.lo = one.hi = cfg->control_port;
		portset_add_range(cfg->allowed, &one);
		one.lo = one.hi = cfg->active_source_port;
		portset_add_range(cfg->allowed, &one);
		if (cfg->passive.lo != 0)
			portset_add_range(cfg->allowed, &cfg->passive);
	}
	if (!portset_contains(cfg->allowed, cfg->control_port)) {
		ftp_errmsg(err, errlen, "control_port %u is not in "
		    "allowed_ports", cfg->control_port);
		goto out;
	}
	if (!portset_contains(cfg->allowed, cfg->active_source_port)) {
		ftp_errmsg(err, errlen, "active_source_port %u is not in "
		    "allowed_ports", cfg->active_source_port);
		goto out;
	}
	if (cfg->passive.lo != 0 &&
	    !portset_contains_range(cfg->allowed, &cfg->passive)) {
		ftp_errmsg(err, errlen, "passive_range %u-%u is not inside "
		    "allowed_ports", cfg->passive.lo, cfg->passive.hi);
		goto out;
	}
	memcpy(cfg->listen, norm, sizeof(norm));
	r = 0;
out:
	return r;
}

/*
 * allowed_ports may be a long list; print it in runs of lines that each
 * stay well under the parser's line limit.
 */
static void
config_print_ports(const struct portset *ps, FILE *out)
{
	/* Worst case: every other port, "65535," each. */
	size_t cap = 65536 / 2 * 7 + 1;
	char *buf = NULL, *p, *cut;

	if (ps == NULL || portset_count(ps) == 0) {
		fprintf(out, "allowed_ports = none\n");
		return;
	}
	if ((buf = malloc(cap)) == NULL ||
	    portset_format(ps, buf, cap) != 0) {
		/* Should not happen with cap sized for the worst case. */
		fprintf(out, "# allowed_ports: cannot format\n");
		goto out;
	}
	for (p = buf; *p != '\0'; p = cut) {
		size_t n = strlen(p);

		if (n > CONFIG_PRINT_WRAP) {
			/* Cut at the last comma inside the window. */
			cut = p + CONFIG_PRINT_WRAP;
			while (cut > p && *cut != ',')
				cut--;
			*cut++ = '\0';
		} else
			cut = p + n;
		fprintf(out, "allowed_ports = %s\n", p);
	}
out:
	free(buf);
}

void
config_print(const struct reflector_config *cfg, FILE *out)
{
	size_t i;

	for (i = 0; i < CONFIG_NKEYS; i++) {
		const struct config_key *k = &config_keys[i];
		const char *field = (const char *)cfg + k->off;
		const struct portrange *pr;

		switch (k->kind) {
		case CFG_ADDRPORT:
		case CFG_NAMES:
		case CFG_PATH:
			/* cert, key and ca are never empty after
			 * config_validate; an empty crl is "none". */
			if (*field == '\0')
				break;
			fprintf(out, "%s = %s\n", k->name, field);
			break;
		case CFG_LISTEN:
			fprintf(out, "%s = %s\n", k->name, field);
			break;
		case CFG_PORT:
			fprintf(out, "%s = %u\n", k->name,
			    *(const uint16_t *)(const void *)field);
			break;
		case CFG_RANGE:
			pr = (const void *)field;
			if (pr->lo == 0)
				fprintf(out, "%s = none\n", k->name);
			else
				fprintf(out, "%s = %u-%u\n", k->name, pr->lo,
				    pr->hi);
			break;
		case CFG_PORTSET:
			config_print_ports(cfg->allowed, out);
			break;
		case CFG_UINT:
			fprintf(out, "%s = %u\n", k->name,
			    *(const unsigned *)(const void *)field);
			break;
		case CFG_BOOL:
			fprintf(out, "%s = %s\n", k->name,
			    *(const int *)(const void *)field ? "yes" : "no");
			break;
		}
	}
}
