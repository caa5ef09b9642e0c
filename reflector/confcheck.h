/*
 * confcheck.h - what ftpath-reflector checks before it serves (and all
 * that -n checks), beyond the syntax config_validate() judges:
 *
 *   the TLS files (tlscheck_files, server role): each problem named with
 *   its file;
 *   the CRL when crl is set (crl_check_file): parses, signed by the CA;
 *   the listen address: a numeric address of this host (a bind to port
 *   0, which cannot collide with a running reflector);
 *   the ports: the control channel's port is not one the reflector
 *   intercepts for agents (allowed_ports), or the tproxy rule of a
 *   session would divert its own control channel.
 *
 * The FTP server's configuration (--ftp-config) is checked by main, which
 * keeps the parsed result for the agents.
 */
#ifndef FTPATH_CONFCHECK_H
#define FTPATH_CONFCHECK_H

#include <stddef.h>

#include "config.h"

/*
 * cfgfile names the configuration file in messages about its settings
 * (NULL: the command line).  Returns 0, FTP_ERR_CONFIG with "FILE: what
 * is wrong" in err, or FTP_ERR_NOMEM.  On 0, warn holds a warning for the
 * log (a certificate's or the CRL's dates, see tlscheck.h and crl.h) or
 * "".  reread_key 0: the private key file is not read (the process
 * keeps the key it loaded at start, reload.h).
 */
int confcheck_run(const struct reflector_config *cfg, const char *cfgfile,
    int reread_key, char *warn, size_t warnlen, char *err, size_t errlen);

#endif
