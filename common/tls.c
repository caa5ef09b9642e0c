/*
 * tls.c - SSL_CTX construction, TLS 1.3 only, mutual authentication
 * (see tls.h).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tls.h"

/*
 * "what FILE: reason" with the reason from the OpenSSL error queue,
 * which is then cleared so that the next failure does not report a
 * stale cause.
 */
static void
tls_fail(char *err, size_t errlen, const char *what, const char *file)
{
	char reason[256] = "unknown reason";
	unsigned long e, last = 0;

	/* The last queued error is the most specific one. */
	while ((e = ERR_get_error()) != 0)
		last = e;
	if (last != 0)
		ERR_error_string_n(last, reason, sizeof(reason));
	/* OpenSSL says "system lib" for a file it could not open. */
	if (file != NULL && access(file, R_OK) != 0)
		snprintf(reason, sizeof(reason), "%s", strerror(errno));
	if (err != NULL && errlen > 0) {
		if (file != NULL)
			snprintf(err, errlen, "%s %s: %s", what, file, reason);
		else
			snprintf(err, errlen, "%s: %s", what, reason);
	}
}

static int
tls_is_empty(const char *s)
{
	return s == NULL || *s == '\0';
}

/* The key from its file, or the one already loaded (pkey). */
static int
tls_use_key(SSL_CTX *ctx, const char *key, EVP_PKEY *pkey)
{
	if (pkey != NULL)
		return SSL_CTX_use_PrivateKey(ctx, pkey);
	return SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM);
}

static SSL_CTX *
tls_ctx_build(enum tls_role role, const char *cert, const char *key,
    EVP_PKEY *pkey, const char *ca, char *err, size_t errlen)
{
	SSL_CTX *ctx = NULL, *ret = NULL;
	STACK_OF(X509_NAME) *names = NULL;

	ERR_clear_error();
	if (tls_is_empty(cert) || tls_is_empty(key) || tls_is_empty(ca)) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen,
			    "certificate, key and CA files are all required");
		goto out;
	}
	ctx = SSL_CTX_new(role == TLS_ROLE_SERVER ? TLS_server_method() :
	    TLS_client_method());
	if (ctx == NULL) {
		tls_fail(err, errlen, "cannot create TLS context", NULL);
		goto out;
	}
	/* Both ends are ours: no reason to speak anything older. */
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1) {
		tls_fail(err, errlen, "cannot restrict to TLS 1.3", NULL);
		goto out;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		tls_fail(err, errlen, "cannot load certificate", cert);
		goto out;
	}
	/*
	 * OpenSSL already compares the key with the certificate while
	 * loading it, and check_private_key catches the rest; a mismatch
	 * gets its own message because it is the usual mistake (the key
	 * of another host).
	 */
	if (tls_use_key(ctx, key, pkey) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		char what[4200];

		if (ERR_GET_REASON(ERR_peek_last_error()) ==
		    X509_R_KEY_VALUES_MISMATCH) {
			snprintf(what, sizeof(what), "private key %s does "
			    "not match certificate", key);
			tls_fail(err, errlen, what, cert);
		} else
			tls_fail(err, errlen, "cannot load private key", key);
		goto out;
	}
	/* Only the deployment CA: the system store must not vouch for an
	 * agent or reflector. */
	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		tls_fail(err, errlen, "cannot load CA file", ca);
		goto out;
	}
	if (role == TLS_ROLE_SERVER) {
		if ((names = SSL_load_client_CA_file(ca)) == NULL) {
			tls_fail(err, errlen, "no CA names in", ca);
			goto out;
		}
		/* The context takes ownership of names. */
		SSL_CTX_set_client_CA_list(ctx, names);
		names = NULL;
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
		    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	} else
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	/* Long-lived daemons: no session resumption state to leak. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 0);
	ret = ctx;
	ctx = NULL;
out:
	sk_X509_NAME_pop_free(names, X509_NAME_free);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return ret;
}

SSL_CTX *
tls_ctx_new(enum tls_role role, const char *cert, const char *key,
    const char *ca, char *err, size_t errlen)
{
	return tls_ctx_build(role, cert, key, NULL, ca, err, errlen);
}

SSL_CTX *
tls_ctx_new_same_key(enum tls_role role, const char *cert,
    const SSL_CTX *old, const char *key, const char *ca, char *err,
    size_t errlen)
{
	EVP_PKEY *pkey = SSL_CTX_get0_privatekey(old);

	if (pkey == NULL) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "no private key loaded to keep");
		return NULL;
	}
	return tls_ctx_build(role, cert, key, pkey, ca, err, errlen);
}

SSL *
tls_client_ssl_new(SSL_CTX *ctx, const char *host)
{
	SSL *ssl = NULL, *ret = NULL;
	struct in6_addr a6;
	struct in_addr a4;
	X509_VERIFY_PARAM *param;

	if (ctx == NULL || tls_is_empty(host))
		goto out;
	if ((ssl = SSL_new(ctx)) == NULL)
		goto out;
	if (inet_pton(AF_INET, host, &a4) == 1 ||
	    inet_pton(AF_INET6, host, &a6) == 1) {
		/* An IP literal is checked against iPAddress SANs; SNI must
		 * not carry an address (RFC 6066). */
		param = SSL_get0_param(ssl);
		if (X509_VERIFY_PARAM_set1_ip_asc(param, host) != 1)
			goto out;
	} else {
		/* Wildcards are fine, partial labels ("a*.example") are not. */
		SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if (SSL_set1_host(ssl, host) != 1 ||
		    SSL_set_tlsext_host_name(ssl, host) != 1)
			goto out;
	}
	ret = ssl;
	ssl = NULL;
out:
	SSL_free(ssl);
	return ret;
}

void
tls_peer_name(SSL *ssl, char *buf, size_t len)
{
	X509 *peer = NULL;
	GENERAL_NAMES *sans = NULL;
	X509_NAME *subj;
	int i, n;

	if (buf == NULL || len == 0)
		return;
	buf[0] = '\0';
	if (ssl == NULL || (peer = SSL_get1_peer_certificate(ssl)) == NULL)
		goto out;
	subj = X509_get_subject_name(peer);
	if (subj != NULL && X509_NAME_get_text_by_NID(subj, NID_commonName,
	    buf, (int)(len > 1024 ? 1024 : len)) > 0)
		goto out;
	buf[0] = '\0';
	sans = X509_get_ext_d2i(peer, NID_subject_alt_name, NULL, NULL);
	n = sans != NULL ? sk_GENERAL_NAME_num(sans) : 0;
	for (i = 0; i < n; i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(sans, i);

		if (gn->type == GEN_DNS) {
			const unsigned char *d =
			    ASN1_STRING_get0_data(gn->d.dNSName);
			int dl = ASN1_STRING_length(gn->d.dNSName);

			snprintf(buf, len, "%.*s", dl, (const char *)d);
			break;
		}
		if (gn->type == GEN_IPADD) {
			int il = ASN1_STRING_length(gn->d.iPAddress);
			const unsigned char *d =
			    ASN1_STRING_get0_data(gn->d.iPAddress);

			if ((il == 4 && inet_ntop(AF_INET, d, buf,
			    (socklen_t)len) != NULL) ||
			    (il == 16 && inet_ntop(AF_INET6, d, buf,
			    (socklen_t)len) != NULL))
				break;
			buf[0] = '\0';
		}
	}
out:
	GENERAL_NAMES_free(sans);
	X509_free(peer);
}

const char *
tls_last_error(SSL *ssl, char *buf, size_t len)
{
	unsigned long e, last = 0;
	long vr;

	if (buf == NULL || len == 0)
		return buf;
	while ((e = ERR_get_error()) != 0)
		last = e;
	if (last != 0) {
		ERR_error_string_n(last, buf, len);
		/* A verify failure shows up as a generic "certificate verify
		 * failed"; the verify result says which check failed. */
		if (ssl != NULL && (vr = SSL_get_verify_result(ssl)) !=
		    X509_V_OK) {
			size_t used = strlen(buf);

			snprintf(buf + used, len - used, " (%s)",
			    X509_verify_cert_error_string(vr));
		}
		return buf;
	}
	if (ssl != NULL && (vr = SSL_get_verify_result(ssl)) != X509_V_OK) {
		snprintf(buf, len, "certificate verify failed: %s",
		    X509_verify_cert_error_string(vr));
		return buf;
	}
	snprintf(buf, len, "no TLS error recorded");
	return buf;
}
