/*
 * ftpconf.h - read the FTP server's own configuration (vsftpd, proftpd,
 * pure-ftpd) so that measurements can be cross-checked against it.
 *
 * The parser is pure: ftpconf_parse() reads a buffer and does no I/O;
 * ftpconf_load_file() is a thin loader around it.  A parsed configuration
 * is an opaque struct ftpconf holding a fixed set of "facts" (enum
 * ftpconf_field).  Every fact has a value that is either taken from the
 * file (set = 1, with the line number and the line's text as evidence) or
 * the server's own default (set = 0).
 *
 * What is read, per server (anything else in the file is ignored, since
 * real files carry many settings ftpath has no use for):
 *
 * field (enum ftpconf_field, FTPCONF_ prefix) and (default):
 *
 * vsftpd:   CONTROL_PORT listen_port (21); LISTEN_V4 listen (NO);
 *           LISTEN_V6 listen_ipv6 (NO); LISTEN_ADDRESS listen_address;
 *           LISTEN_ADDRESS6 listen_address6; PASV_ENABLE pasv_enable
 *           (YES); PASV_MIN_PORT/PASV_MAX_PORT pasv_min_port/
 *           pasv_max_port (0/0); PASV_ADDRESS pasv_address;
 *           PASV_ADDR_RESOLVE pasv_addr_resolve (NO); PORT_ENABLE
 *           port_enable (YES); CONNECT_FROM_PORT_20 connect_from_port_20
 *           (NO); FTP_DATA_PORT ftp_data_port (20); MAX_CLIENTS
 *           max_clients (2000); MAX_PER_IP max_per_ip (50); TLS_ENABLE
 *           ssl_enable (NO); TLS_LOGIN_REQUIRED force_local_logins_ssl
 *           (YES); TLS_DATA_REQUIRED force_local_data_ssl (YES) - both
 *           only matter with ssl_enable=YES; ANONYMOUS_ENABLE
 *           anonymous_enable (YES).
 * proftpd:  CONTROL_PORT Port (21), which also sets FTP_DATA_PORT to
 *           Port - 1 (active data comes from L-1); LISTEN_V4 ServerType
 *           (standalone); LISTEN_V6 UseIPv6 (on); LISTEN_ADDRESS
 *           DefaultAddress; PASV_MIN/MAX_PORT PassivePorts lo hi (none:
 *           kernel's choice); PASV_ADDRESS MasqueradeAddress (names
 *           allowed); MAX_CLIENTS MaxClients (none); MAX_PER_IP
 *           MaxClientsPerHost (none); TLS_ENABLE TLSEngine (off);
 *           TLS_LOGIN/DATA_REQUIRED TLSRequired on|ctrl|auth|data|
 *           auth+data (off); ANONYMOUS_ENABLE an <Anonymous> block.
 *           No setting (fixed): PASV_ENABLE, PORT_ENABLE,
 *           CONNECT_FROM_PORT_20 (all on), LISTEN_ADDRESS6.
 * pure-ftpd: CONTROL_PORT and LISTEN_ADDRESS Bind [addr],port (21);
 *           LISTEN_V4 not IPV6Only, LISTEN_V6 not IPV4Only (both yes);
 *           PASV_ENABLE not NATmode (yes); PASV_MIN/MAX_PORT
 *           PassivePortRange lo hi (none); PASV_ADDRESS ForcePassiveIP;
 *           MAX_CLIENTS MaxClientsNumber (50); MAX_PER_IP MaxClientsPerIP
 *           (none); TLS 0-3 -> TLS_ENABLE >= 1, TLS_LOGIN_REQUIRED >= 2,
 *           TLS_DATA_REQUIRED 3 (0); ANONYMOUS_ENABLE not NoAnonymous
 *           (yes).  No setting (fixed): FTP_DATA_PORT 20, PORT_ENABLE.
 *
 * Numeric limits use 0 for "unlimited" ("none" in proftpd).
 *
 * vsftpd defaults are those of vsftpd 3.0.3 as installed (Debian): the
 * manual page vsftpd.conf(5) still says max_clients/max_per_ip default to
 * 0 and anonymous_enable to NO, but the 3.0 changelog shipped with the
 * package ("set max_per_ip / max_clients to 2000 / 50 as a default") and
 * the binary itself (50 connections from one address, then "421 There
 * are too many connections from your internet address"; anonymous login
 * accepted without anonymous_enable) say otherwise; ftpath must predict
 * what the server does, so the binary wins.  vsftpd syntax is followed
 * exactly: "option=value" with no blanks around '=', booleans
 * YES/NO/TRUE/FALSE/1/0 in any case, numbers starting with 0 are octal,
 * an empty string value unsets it.  ftpath is stricter than vsftpd in one
 * place: trailing junk in a number ("21x") is an error here, where vsftpd
 * would silently read 21.
 *
 * proftpd: directives are case-insensitive; "\" continues a line;
 * <Global> and <IfModule> bodies count as server config (module presence
 * is assumed); <VirtualHost> bodies are skipped (they describe other
 * addresses); an <Anonymous> block enables anonymous logins.  Include is
 * not followed.  pure-ftpd: the pure-ftpd.conf "Key value" format read by
 * pure-config.pl; Debian's one-file-per-option /etc/pure-ftpd/conf/
 * directory is not read.
 *
 * Errors: functions return 0 or a negative FTP_ERR_* (err.h); messages go
 * to err as "NAME:LINE: reason".  Bad values for a read setting are
 * errors (FTP_ERR_CONFIG); unknown settings are ignored.
 */
#ifndef FTPATH_FTPCONF_H
#define FTPATH_FTPCONF_H

#include <stddef.h>
#include <stdint.h>
#include "addr.h"

/* Longest line read; longer lines are an error (real files stay far
 * below; the bound keeps a hostile file from costing memory). */
#define FTPCONF_LINE_MAX	4096

enum ftpconf_kind {
	FTPCONF_AUTO = 0,	/* ftpconf_parse: detect; never a result */
	FTPCONF_VSFTPD,
	FTPCONF_PROFTPD,
	FTPCONF_PUREFTPD,
};

enum ftpconf_field {
	FTPCONF_CONTROL_PORT,
	FTPCONF_LISTEN_V4,
	FTPCONF_LISTEN_V6,
	FTPCONF_LISTEN_ADDRESS,		/* string */
	FTPCONF_LISTEN_ADDRESS6,	/* string */
	FTPCONF_PASV_ENABLE,
	FTPCONF_PASV_MIN_PORT,
	FTPCONF_PASV_MAX_PORT,
	FTPCONF_PASV_ADDRESS,		/* string */
	FTPCONF_PASV_ADDR_RESOLVE,
	FTPCONF_PORT_ENABLE,
	FTPCONF_CONNECT_FROM_PORT_20,
	FTPCONF_FTP_DATA_PORT,
	FTPCONF_MAX_CLIENTS,
	FTPCONF_MAX_PER_IP,
	FTPCONF_TLS_ENABLE,
	FTPCONF_TLS_LOGIN_REQUIRED,
	FTPCONF_TLS_DATA_REQUIRED,
	FTPCONF_ANONYMOUS_ENABLE,
	FTPCONF_NFIELDS
};

/* One fact as returned by ftpconf_get(); pointers are owned by the
 * struct ftpconf and live until ftpconf_free(). */
struct ftpconf_fact {
	int set;		/* 1: from the file, 0: the server's default */
	unsigned long line;	/* 1-based line number when set */
	unsigned long num;	/* number, port or boolean (0/1) */
	const char *str;	/* string fields: value or NULL (none) */
	const char *text;	/* set: the line as written (printable) */
};

enum ftpconf_advice {
	FTPCONF_ADVICE_PASV_ADDRESS,	/* value: address or name */
	FTPCONF_ADVICE_PASV_RANGE,	/* value: "LO-HI" */
	FTPCONF_ADVICE_PORT20,		/* value: ignored (may be NULL) */
	FTPCONF_ADVICE_MAX_PER_IP,	/* value: the new limit */
	FTPCONF_ADVICE_MAX_CLIENTS,	/* value: the new limit */
	FTPCONF_ADVICE_PASV_ENABLE,	/* value: ignored */
};

struct ftpconf;

/* A configuration holding vsftpd defaults; NULL when out of memory. */
struct ftpconf *ftpconf_new(void);
void ftpconf_free(struct ftpconf *cf);

/*
 * Parse len bytes of buf (NUL bytes are an error, no terminator needed).
 * name is the file name used in evidence and messages ("vsftpd.conf");
 * only its last path component is kept.  kind FTPCONF_AUTO detects the
 * server from the name, then from the content (vsftpd when in doubt).
 * Replaces whatever cf held.  Returns 0, FTP_ERR_CONFIG (err: "NAME:LINE:
 * reason"), FTP_ERR_NOMEM or FTP_ERR_INVAL (bad arguments).  On error cf
 * holds the defaults of the kind, not a half-read file.
 */
int ftpconf_parse(struct ftpconf *cf, enum ftpconf_kind kind,
    const char *name, const char *buf, size_t len, char *err, size_t errlen);

/* Read a file (at most 1 MiB) and ftpconf_parse() it.  Also
 * FTP_ERR_SYSTEM (errno kept) and FTP_ERR_TOOBIG. */
int ftpconf_load_file(struct ftpconf *cf, enum ftpconf_kind kind,
    const char *path, char *err, size_t errlen);

enum ftpconf_kind ftpconf_kind(const struct ftpconf *cf);
/* "vsftpd", "proftpd", "pure-ftpd" ("auto" for FTPCONF_AUTO). */
const char *ftpconf_kind_name(enum ftpconf_kind kind);

/* Fill *out for field; 0 or FTP_ERR_INVAL (no such field). */
int ftpconf_get(const struct ftpconf *cf, enum ftpconf_field field,
    struct ftpconf_fact *out);
/* The setting's name in this server's syntax ("pasv_address",
 * "MasqueradeAddress"), or "-" where the server has none. */
const char *ftpconf_field_name(enum ftpconf_kind kind,
    enum ftpconf_field field);

uint16_t ftpconf_control_port(const struct ftpconf *cf);

/*
 * The ports the server really picks passive data ports from.  vsftpd:
 * pasv_min_port is used only when 1025-65535, pasv_max_port only when
 * >= that minimum and < 65535, else 1024 and 65535 (vsftpd's privops.c),
 * so the result is always a real range.  proftpd/pure-ftpd without a
 * range let the kernel choose: *out is then {0, 0}, meaning "the
 * kernel's ephemeral range" (net.ipv4.ip_local_port_range).  Returns 0,
 * or FTP_ERR_NOTFOUND when passive mode is disabled (*out still filled).
 */
int ftpconf_passive_range(const struct ftpconf *cf, struct portrange *out);

/*
 * Evidence for one field: "vsftpd.conf:14 pasv_address=192.0.2.9" when
 * set, "vsftpd.conf: pasv_address not set (vsftpd default: none)"
 * otherwise.  Returns 0, FTP_ERR_INVAL or FTP_ERR_TOOBIG (truncated).
 */
int ftpconf_evidence(const struct ftpconf *cf, enum ftpconf_field field,
    char *buf, size_t len);

/* One line for the log: kind, control port, passive range and address,
 * active source, limits, TLS.  Same returns as ftpconf_evidence(). */
int ftpconf_summary(const struct ftpconf *cf, char *buf, size_t len);

/*
 * "The setting to change" for a finding, in the server's own syntax,
 * prefixed with the server name:
 *   vsftpd: pasv_address=203.0.113.2 (and pasv_addr_resolve=NO)
 *   proftpd: MasqueradeAddress 203.0.113.2
 *   pure-ftpd: ForcePassiveIP 203.0.113.2
 * value must be printable ASCII without blanks (it is copied into a
 * configuration line): an address or name, "LO-HI", or a number.
 * Returns 0, FTP_ERR_INVAL (bad kind/advice/value) or FTP_ERR_TOOBIG.
 */
int ftpconf_advice(enum ftpconf_kind kind, enum ftpconf_advice advice,
    const char *value, char *buf, size_t len);

#endif
