/*
 * reload.h - the reflector's configuration, loaded from its sources (the
 * file, command-line overrides, --ftp-config) into one live
 * configuration and TLS context: at start, for -n, and again on SIGHUP.
 *
 * Every load runs the same checks (config_validate, confcheck_run with
 * the CRL, the FTP server's configuration) and builds a new TLS context
 * (tls_ctx_new, crl_ctx_install): a configuration -n accepts does not
 * fail at start or at a reload.
 *
 * A reload builds all of it anew and swaps it in only when all of it is
 * good; a problem is logged naming the file and nothing changes.
 * Connections accepted afterwards use the new TLS context (certificate,
 * key, CA, CRL); sessions in flight keep their connection and TLS
 * session.  The configuration struct stays at one address (the server
 * and the sessions point to it) and is overwritten in place between
 * events, so settings read per request (timeouts, allowed ports, limits)
 * apply to sessions in flight from their next request: nothing may keep
 * a pointer into it (cfg->allowed, cfg->ftpconf) across events.
 * listen and max_sessions (the probe connection budget is sized from it)
 * need a restart: a reload that changes them says so and keeps the
 * running value.
 */
#ifndef FTPATH_RELOAD_H
#define FTPATH_RELOAD_H

#include <stddef.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "config.h"

struct reload;
struct server;

/* cfgfile (may be NULL) and ftpconf_path (--ftp-config, may be NULL)
 * must outlive rl.  NULL on allocation failure. */
struct reload *reload_new(const char *cfgfile, const char *ftpconf_path);
void reload_free(struct reload *rl);

/* A command-line option overriding the file's key, applied after the
 * file on every load; the last one of a key wins.  key and value must
 * outlive rl.  0 or FTP_ERR_TOOBIG (too many). */
int reload_override(struct reload *rl, const char *key, const char *value);

/*
 * The first load (start and -n).  0, or FTP_ERR_CONFIG / FTP_ERR_NOMEM
 * with "FILE: what is wrong" (or "FILE:LINE: ...") in err.  Warnings
 * (certificate and CRL dates, an FTP server configuration that
 * disagrees) go to the log.
 */
int reload_load(struct reload *rl, char *err, size_t errlen);

/*
 * The event loop: a handshake the contexts refuse is closed only once
 * its alert is out (tlsclose.h); before this, as the session closes it.
 * rl must be freed before base.
 */
void reload_set_base(struct reload *rl, struct event_base *base);

/* The live configuration and TLS context (after reload_load). */
const struct reflector_config *reload_config(const struct reload *rl);
/* From now on reloads keep the private key loaded so far (the process
 * dropped the privileges to read its file): a new key needs a restart. */
void reload_keep_key(struct reload *rl);
SSL_CTX *reload_ctx(const struct reload *rl);

/*
 * SIGHUP: load everything again and, when all of it is good, swap it in
 * (server_set_ctx for srv's new connections).  Logs what it did.  0, or
 * the FTP_ERR_* of the failed load with the reason in err (the running
 * configuration unchanged).
 */
int reload_run(struct reload *rl, struct server *srv, char *err,
    size_t errlen);

#endif
