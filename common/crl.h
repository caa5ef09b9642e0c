/*
 * crl.h - certificate revocation lists of the deployment CA.
 *
 * A CRL file holds one or more PEM "X509 CRL" blocks, as
 * `ftpath-certs crl` writes them (DIR/ca.crl).  Checking is leaf only
 * (X509_V_FLAG_CRL_CHECK, not _CRL_CHECK_ALL): the peer's own
 * certificate is looked up in the CRL of the CA that signed it.  With
 * ftpath-certs' layout (the CA signs agents directly, pathlen 0) that is
 * every certificate a chain has besides the trust anchor; an intermediate
 * CA's revocation would not be checked.
 *
 * Once a CRL is installed, a peer certificate whose CA has no CRL in the
 * file, or whose CRL has expired (nextUpdate passed), fails verification
 * too: OpenSSL fails closed.  crl_check_file() warns about both.
 */
#ifndef FTPATH_CRL_H
#define FTPATH_CRL_H

#include <stddef.h>
#include <openssl/ssl.h>

/*
 * The checks of ftpath-reflector -n, one message naming the file: crl
 * readable, holds at least one PEM CRL, each issued by a certificate of
 * the CA file ca and signed by it.  Returns 0, FTP_ERR_CONFIG with
 * "FILE: what is wrong" in err, or FTP_ERR_NOMEM.  On 0, warn (may be
 * NULL) holds "FILE: ..." about the dates (lastUpdate in the future,
 * nextUpdate passed or within TLSCHECK_EXPIRY_WARN_DAYS) or a CA without
 * a CRL, or "".  The OpenSSL error queue is left empty.
 */
int crl_check_file(const char *crl, const char *ca, char *warn,
    size_t warnlen, char *err, size_t errlen);

/*
 * Add the CRLs of the file crl to ctx's trust store and check the peer's
 * certificate against them in every handshake of ctx.  A certificate
 * refused for its revocation (or for a CRL that cannot vouch for it) is
 * logged with the peer's address, serial and subject.  *nrevoked (may be
 * NULL) gets the number of revoked serials listed.  0, or FTP_ERR_CONFIG
 * / FTP_ERR_NOMEM with "FILE: reason" in err.
 */
int crl_ctx_install(SSL_CTX *ctx, const char *crl, unsigned *nrevoked,
    char *err, size_t errlen);

#endif
