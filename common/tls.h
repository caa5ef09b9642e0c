/*
 * tls.h - the only place that builds SSL_CTXs (TLS 1.3 only, mutual
 * authentication against the deployment CA).
 *
 * Server contexts require and verify a client certificate; client contexts
 * verify the server chain, and tls_client_ssl_new() pins the expected
 * host name or IP address of the reflector.
 */
#ifndef FTPATH_TLS_H
#define FTPATH_TLS_H

#include <stddef.h>
#include <openssl/ssl.h>

enum tls_role { TLS_ROLE_SERVER, TLS_ROLE_CLIENT };

/*
 * Build a context from PEM files.  On failure returns NULL and writes a
 * human-readable reason (with the file name) into err.
 */
SSL_CTX *tls_ctx_new(enum tls_role role, const char *cert, const char *key,
    const char *ca, char *err, size_t errlen);
/*
 * The same with the private key of old (key names it in messages): a
 * process that gave up the right to read its key file (the reflector's
 * engine, privsep.h) keeps the key it loaded at start.
 */
SSL_CTX *tls_ctx_new_same_key(enum tls_role role, const char *cert,
    const SSL_CTX *old, const char *key, const char *ca, char *err,
    size_t errlen);

/* New client SSL that verifies the peer as host (DNS name or IP literal)
 * and sends SNI for names.  NULL on failure. */
SSL *tls_client_ssl_new(SSL_CTX *ctx, const char *host);

/* Subject CN (or first SAN) of the peer certificate into buf; "" if none. */
void tls_peer_name(SSL *ssl, char *buf, size_t len);

/* Text of the last OpenSSL error, or of the verify result, for logs. */
const char *tls_last_error(SSL *ssl, char *buf, size_t len);

#endif
