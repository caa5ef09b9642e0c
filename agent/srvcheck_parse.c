/*
 * srvcheck_parse.c - the pure parsers of the server host's facts
 * (srvcheck.h): welcome's addresses and FTP server settings, with the
 * queries on them, a hosts file's line for a name, and the source of a
 * bind mount in mountinfo.  Reading the files is srvcheck.c's part.
 */
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "err.h"
#include "jsonstr.h"
#include "srvcheck_int.h"

/* By enum srvcheck_key; the settings in welcome are named so. */
const char *const srvcheck_keys[SRVCHECK_NKEYS] = {
	[SRVCHECK_CONTROL_PORT] = "control_port",
	[SRVCHECK_PASV_ENABLE] = "pasv_enable",
	[SRVCHECK_PASV_ADDRESS] = "pasv_address",
	[SRVCHECK_MAX_CLIENTS] = "max_clients",
	[SRVCHECK_MAX_PER_IP] = "max_per_ip",
};

/* ---- welcome ---- */

static void
srvcheck_setting_parse(const json_t *j, struct srvcheck_setting *s)
{
	const json_t *v = json_object_get(j, "value");

	memset(s, 0, sizeof(*s));
	if (!json_is_object(j))
		return;
	s->known = 1;
	s->set = json_is_true(json_object_get(j, "set"));
	if (json_is_integer(json_object_get(j, "line")) &&
	    json_integer_value(json_object_get(j, "line")) > 0)
		s->line = (unsigned long)json_integer_value(json_object_get(j,
		    "line"));
	else
		s->set = 0;
	jsonstr_copy(s->name, sizeof(s->name), json_object_get(j, "name"));
	jsonstr_copy(s->text, sizeof(s->text), json_object_get(j, "text"));
	jsonstr_copy(s->str, sizeof(s->str), v);
	if (json_is_integer(v))
		s->num = json_integer_value(v);
	else if (json_is_boolean(v))
		s->num = json_is_true(v);
}

static enum ftpconf_kind
srvcheck_kind(const char *name)
{
	enum ftpconf_kind k;

	for (k = FTPCONF_VSFTPD; name != NULL && k <= FTPCONF_PUREFTPD; k++)
		if (strcmp(ftpconf_kind_name(k), name) == 0)
			return k;
	return FTPCONF_AUTO;
}

void
srvcheck_host_parse(const json_t *welcome, struct srvcheck_host *h)
{
	const json_t *a = json_object_get(welcome, "addresses"), *v, *ftp;
	size_t i;
	int k;

	memset(h, 0, sizeof(*h));
	h->kind = FTPCONF_AUTO;
	if (json_is_array(a)) {
		h->have_addrs = 1;
		json_array_foreach(a, i, v) {
			socklen_t len;

			if (h->n_addrs >= SRVCHECK_MAX_ADDRS)
				break;
			if (!json_is_string(v) || addr_parse_ip(
			    json_string_value(v), &h->addrs[h->n_addrs],
			    &len) != 0)
				continue;
			addr_unmap(&h->addrs[h->n_addrs]);
			h->n_addrs++;
		}
	}
	ftp = json_object_get(welcome, "ftp_server");
	if (!json_is_object(ftp))
		return;
	h->kind = srvcheck_kind(json_string_value(json_object_get(ftp,
	    "kind")));
	if (h->kind == FTPCONF_AUTO)
		return;
	h->have_ftp = 1;
	jsonstr_copy(h->file, sizeof(h->file), json_object_get(ftp, "file"));
	for (k = 0; k < SRVCHECK_NKEYS; k++)
		srvcheck_setting_parse(json_object_get(json_object_get(ftp,
		    "settings"), srvcheck_keys[k]), &h->s[k]);
}

int
srvcheck_host_local(const struct srvcheck_host *h, const struct sockaddr *a)
{
	unsigned i;

	if (!h->have_addrs || a == NULL)
		return -1;
	for (i = 0; i < h->n_addrs; i++)
		if (addr_equal((const struct sockaddr *)&h->addrs[i], a))
			return 1;
	return 0;
}

const char *
srvcheck_host_addrs_text(const struct srvcheck_host *h, char *buf,
    size_t len)
{
	char a[ADDR_STRLEN];
	size_t off = 0;
	unsigned i;

	buf[0] = '\0';
	for (i = 0; i < h->n_addrs && off + 1 < len; i++) {
		const struct sockaddr *sa = (const struct sockaddr *)
		    &h->addrs[i];
		int n;

		/* Loopback says nothing to a remote client. */
		if ((sa->sa_family == AF_INET && (ntohl(((const struct
		    sockaddr_in *)(const void *)sa)->sin_addr.s_addr) >>
		    24) == 127) || (sa->sa_family == AF_INET6 &&
		    IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr)))
			continue;
		n = snprintf(buf + off, len - off, "%s%s", off ? ", " : "",
		    addr_text(sa, 0, a, sizeof(a)));
		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
	}
	return buf;
}

/* ---- hosts file ---- */

/* Does the whitespace-separated field list p (up to end) name name? */
static int
hosts_names(const char *p, const char *end, const char *name)
{
	size_t nl = strlen(name);

	while (p < end) {
		const char *q;

		while (p < end && isspace((unsigned char)*p))
			p++;
		q = p;
		while (q < end && !isspace((unsigned char)*q))
			q++;
		if ((size_t)(q - p) == nl && strncasecmp(p, name, nl) == 0)
			return 1;
		p = q;
	}
	return 0;
}

void
srvcheck_hosts_find(const char *buf, size_t len, const char *name,
    struct srvcheck_hosts_line *out)
{
	const char *p, *end;
	unsigned long line = 0;

	memset(out, 0, sizeof(*out));
	if (buf == NULL || name == NULL || name[0] == '\0')
		return;
	p = buf;
	end = buf + len;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *stop, *hash, *f;

		if (eol == NULL)
			eol = end;
		line++;
		hash = memchr(p, '#', (size_t)(eol - p));
		stop = hash != NULL ? hash : eol;
		/* The first field is the address, the rest names. */
		f = p;
		while (f < stop && isspace((unsigned char)*f))
			f++;
		while (f < stop && !isspace((unsigned char)*f))
			f++;
		if (hosts_names(f, stop, name)) {
			size_t n = (size_t)(eol - p);

			if (n > 0 && p[n - 1] == '\r')
				n--;
			out->found = 1;
			out->line = line;
			snprintf(out->text, sizeof(out->text), "%.*s", (int)n,
			    p);
			return;
		}
		p = eol + 1;
	}
}

int
srvcheck_mount_source(const char *buf, size_t len, const char *mountpoint,
    char *out, size_t outlen)
{
	const char *p = buf, *end = buf + len;

	/* mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS ... */
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		char root[SRVCHECK_TEXT], mp[SRVCHECK_TEXT], l[1024];

		if (eol == NULL)
			eol = end;
		snprintf(l, sizeof(l), "%.*s", (int)(eol - p), p);
		if (sscanf(l, "%*s %*s %*s %255s %255s", root, mp) == 2 &&
		    strcmp(mp, mountpoint) == 0 &&
		    strcmp(root, mountpoint) != 0 && strcmp(root, "/") != 0) {
			snprintf(out, outlen, "%s", root);
			return 0;
		}
		p = eol + 1;
	}
	return FTP_ERR_NOTFOUND;
}
