/*
 * hostinfo.h - what the reflector tells an agent about the server host
 * itself, in `welcome` (common/PROTOCOL.md): the host's own unicast
 * addresses and, with --ftp-config, the FTP server's settings.
 *
 * The agent compares them with what it measured: a service address that
 * is not one of the host's addresses but still reaches it is a
 * port-forward (server-side DNAT); a name that resolves to none of them
 * is a dns-mismatch; a pasv_address that is not the address clients dial
 * is a pasv-address cause, with the setting's file and line.
 *
 * hostinfo_addresses_json() and hostinfo_ftp_json() are pure (unit
 * tests); hostinfo_welcome() adds a getifaddrs() call.
 */
#ifndef FTPATH_HOSTINFO_H
#define FTPATH_HOSTINFO_H

#include <ifaddrs.h>
#include <jansson.h>

#include "config.h"
#include "ftpconf.h"

/* Bound on the addresses sent (a frame is bounded too). */
#define HOSTINFO_MAX_ADDRS	64

/*
 * The IPv4/IPv6 addresses of a getifaddrs() list as a JSON array of
 * strings (no scope, no duplicates, at most HOSTINFO_MAX_ADDRS).  New
 * reference, NULL on ENOMEM.
 */
json_t *hostinfo_addresses_json(const struct ifaddrs *ifa);

/*
 * The welcome's "ftp_server" object for a parsed configuration read from
 * path: {kind, file, passive_range, settings: {KEY: {name, value, set,
 * line, text}}} (PROTOCOL.md lists the keys).  New reference, NULL on
 * ENOMEM.
 */
json_t *hostinfo_ftp_json(const struct ftpconf *cf, const char *path);

/*
 * Add "addresses" and "ftp_server" (null without cfg->ftpconf) to a
 * welcome message.  A failing getifaddrs() gives an empty list (the
 * agent then draws no conclusion).  0 or FTP_ERR_NOMEM.
 */
int hostinfo_welcome(json_t *welcome, const struct reflector_config *cfg);

#endif
