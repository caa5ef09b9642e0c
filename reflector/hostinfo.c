/*
 * hostinfo.c - the server host's own facts for `welcome` (hostinfo.h).
 */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "err.h"
#include "hostinfo.h"
#include "log.h"

/* The settings an agent cross-checks, under ftpath's own key names (the
 * server's own name goes in "name"): PROTOCOL.md "welcome". */
static const struct hostinfo_key {
	const char *key;
	enum ftpconf_field field;
	enum { HK_NUM, HK_BOOL, HK_STR } type;
} hostinfo_keys[] = {
	{ "control_port", FTPCONF_CONTROL_PORT, HK_NUM },
	{ "pasv_enable", FTPCONF_PASV_ENABLE, HK_BOOL },
	{ "pasv_min_port", FTPCONF_PASV_MIN_PORT, HK_NUM },
	{ "pasv_max_port", FTPCONF_PASV_MAX_PORT, HK_NUM },
	{ "pasv_address", FTPCONF_PASV_ADDRESS, HK_STR },
	{ "pasv_addr_resolve", FTPCONF_PASV_ADDR_RESOLVE, HK_BOOL },
	{ "connect_from_port_20", FTPCONF_CONNECT_FROM_PORT_20, HK_BOOL },
	{ "ftp_data_port", FTPCONF_FTP_DATA_PORT, HK_NUM },
	{ "max_clients", FTPCONF_MAX_CLIENTS, HK_NUM },
	{ "max_per_ip", FTPCONF_MAX_PER_IP, HK_NUM },
};

#define HOSTINFO_NKEYS	(sizeof(hostinfo_keys) / sizeof(hostinfo_keys[0]))

static int
hostinfo_has(const json_t *arr, const char *s)
{
	const json_t *v;
	size_t i;

	json_array_foreach(arr, i, v)
		if (strcmp(json_string_value(v), s) == 0)
			return 1;
	return 0;
}

json_t *
hostinfo_addresses_json(const struct ifaddrs *ifa)
{
	json_t *a = json_array();
	char buf[ADDR_STRLEN];

	if (a == NULL)
		return NULL;
	for (; ifa != NULL; ifa = ifa->ifa_next) {
		const struct sockaddr *sa = ifa->ifa_addr;

		if (sa == NULL || (sa->sa_family != AF_INET &&
		    sa->sa_family != AF_INET6))
			continue;
		if (json_array_size(a) >= HOSTINFO_MAX_ADDRS)
			break;
		addr_ntop(sa, buf, sizeof(buf));
		/* No scope (PROTOCOL.md): addr_ntop writes fe80::1%eth0, and
		 * our interface names mean nothing on the agent's host. */
		buf[strcspn(buf, "%")] = '\0';
		if (strcmp(buf, "?") == 0 || hostinfo_has(a, buf))
			continue;
		if (json_array_append_new(a, json_string(buf)) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* A string from the file (printable per ftpconf.h); JSON needs UTF-8,
 * so anything else is shown with '?'. */
static json_t *
hostinfo_text(const char *s)
{
	char buf[FTPCONF_LINE_MAX];
	size_t i;

	if (s == NULL)
		return json_null();
	snprintf(buf, sizeof(buf), "%s", s);
	for (i = 0; buf[i] != '\0'; i++)
		if ((unsigned char)buf[i] < 0x20 ||
		    (unsigned char)buf[i] >= 0x7f)
			buf[i] = '?';
	return json_string(buf);
}

static json_t *
hostinfo_setting(const struct ftpconf *cf, const struct hostinfo_key *k)
{
	struct ftpconf_fact f;
	json_t *v;

	if (ftpconf_get(cf, k->field, &f) != 0)
		return json_null();
	switch (k->type) {
	case HK_BOOL:
		v = json_boolean(f.num != 0);
		break;
	case HK_STR:
		v = hostinfo_text(f.str);
		break;
	default:
		v = json_integer((json_int_t)f.num);
		break;
	}
	return json_pack("{s:s,s:o,s:b,s:o,s:o}",
	    "name", ftpconf_field_name(ftpconf_kind(cf), k->field),
	    "value", v,
	    "set", f.set,
	    "line", f.set ? json_integer((json_int_t)f.line) : json_null(),
	    "text", f.set ? hostinfo_text(f.text) : json_null());
}

json_t *
hostinfo_ftp_json(const struct ftpconf *cf, const char *path)
{
	struct portrange pr;
	json_t *o, *set;
	char range[16];
	size_t i;

	if ((set = json_object()) == NULL)
		return NULL;
	for (i = 0; i < HOSTINFO_NKEYS; i++)
		if (json_object_set_new(set, hostinfo_keys[i].key,
		    hostinfo_setting(cf, &hostinfo_keys[i])) != 0) {
			json_decref(set);
			return NULL;
		}
	/* null: passive disabled, or the kernel picks the port. */
	range[0] = '\0';
	if (ftpconf_passive_range(cf, &pr) == 0 && pr.lo != 0)
		snprintf(range, sizeof(range), "%u-%u", pr.lo, pr.hi);
	o = json_pack("{s:s,s:o,s:o,s:o}",
	    "kind", ftpconf_kind_name(ftpconf_kind(cf)),
	    "file", hostinfo_text(path),
	    "passive_range", range[0] ? json_string(range) : json_null(),
	    "settings", set);
	return o;
}

int
hostinfo_welcome(json_t *welcome, const struct reflector_config *cfg)
{
	struct ifaddrs *ifa = NULL;
	json_t *addrs, *ftp;

	if (getifaddrs(&ifa) == -1) {
		log_warn("getifaddrs");
		ifa = NULL;
	}
	addrs = hostinfo_addresses_json(ifa);
	if (ifa != NULL)
		freeifaddrs(ifa);
	ftp = cfg->ftpconf != NULL ? hostinfo_ftp_json(cfg->ftpconf,
	    cfg->ftpconf_path) : json_null();
	if (addrs == NULL || ftp == NULL) {
		json_decref(addrs);
		json_decref(ftp);
		return FTP_ERR_NOMEM;
	}
	/* json_object_set_new() takes the reference even when it fails. */
	if (json_object_set_new(welcome, "addresses", addrs) != 0) {
		json_decref(ftp);
		return FTP_ERR_NOMEM;
	}
	if (json_object_set_new(welcome, "ftp_server", ftp) != 0)
		return FTP_ERR_NOMEM;
	return 0;
}
