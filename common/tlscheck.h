/*
 * tlscheck.h - check a TLS identity's PEM files before they are used, one
 * message naming the file and what is wrong with it.
 *
 * tls_ctx_new() fails on most of these too, but with OpenSSL's reason
 * ("PEM routines::no start line") for whichever file it was loading; and
 * it accepts two mistakes a daemon must not start with: a private key
 * readable by other users, and a CA file that holds a key or an ordinary
 * certificate instead of a CA.  ftpath-reflector -n runs this first, as
 * sshd -t loads its host keys.
 *
 * Checked, in this order (the first problem is reported):
 *   cert  readable, holds a PEM certificate;
 *   key   a regular file, no permission bits for group or others (0600 or
 *         0400), holds a PEM private key that is not encrypted (a daemon
 *         cannot ask for a passphrase), matches the certificate;
 *   ca    holds at least one PEM certificate, each one a CA;
 *   and the certificate verifies against the CA (signed by it, key usage
 *   fit for the role: serverAuth for TLS_ROLE_SERVER, clientAuth for
 *   TLS_ROLE_CLIENT), as the peer will verify it.
 *
 * Validity dates are a warning, not an error: they are judged on this
 * host's clock, and a wrong clock is one of the faults ftpath diagnoses
 * (clock-skew), which a reflector that refused to start could not.  The
 * warning says the certificate (or a CA) has expired, is not valid yet,
 * or expires within TLSCHECK_EXPIRY_WARN_DAYS.
 */
#ifndef FTPATH_TLSCHECK_H
#define FTPATH_TLSCHECK_H

#include <stddef.h>

#include "tls.h"

#define TLSCHECK_EXPIRY_WARN_DAYS	30

/*
 * Returns 0, FTP_ERR_CONFIG with "FILE: what is wrong" in err, or
 * FTP_ERR_NOMEM.  On 0, warn holds "FILE: ..." about the validity dates,
 * or "" (warn may be NULL).  Reads the files only; the OpenSSL error
 * queue is left empty.  key NULL: the key is not read again (a process
 * that kept the key it loaded earlier; the TLS context checks that it
 * matches the certificate).
 */
int tlscheck_files(enum tls_role role, const char *cert, const char *key,
    const char *ca, char *warn, size_t warnlen, char *err, size_t errlen);

#endif
