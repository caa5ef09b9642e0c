/*
 * ftpconf_advice.c - the exact setting lines to change, in the syntax of
 * the server the reflector read (ftpconf_advice() in ftpconf.h).
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
