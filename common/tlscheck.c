/*
 * tlscheck.c - check a TLS identity's PEM files (see tlscheck.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "err.h"
#include "tlscheck.h"

/* Never prompt: a daemon has no terminal, and -n must not hang on one. */
static int
tlscheck_nopass_cb(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* Every PEM certificate of path onto certs (may stay empty).  0 or
 * FTP_ERR_CONFIG when the file cannot be read. */
static int
tlscheck_read_certs(const char *path, STACK_OF(X509) *certs, char *err,
    size_t errlen)
{
	FILE *f;
	X509 *x;

	if ((f = fopen(path, "r")) == NULL) {
		ftp_errmsg(err, errlen, "%s: %s", path, strerror(errno));
		return FTP_ERR_CONFIG;
	}
	while ((x = PEM_read_X509(f, NULL, tlscheck_nopass_cb, NULL)) != NULL)
		if (sk_X509_push(certs, x) <= 0) {
			X509_free(x);
			break;
		}
	fclose(f);
	/* The loop ends on "no start line" at the end of the file. */
	ERR_clear_error();
	return 0;
}

static int
tlscheck_cert(const char *path, STACK_OF(X509) *chain, char *err,
    size_t errlen)
{
	int r;

	if ((r = tlscheck_read_certs(path, chain, err, errlen)) != 0)
		return r;
	if (sk_X509_num(chain) == 0) {
		ftp_errmsg(err, errlen, "%s: no PEM certificate in it", path);
		return FTP_ERR_CONFIG;
	}
	return 0;
}

/*
 * A private key anyone else can read is a key to give away: refuse it,
 * as ssh does.  Only the mode is judged (owner and ACLs differ between
 * a root-run reflector and systemd's credentials directory).
 */
static int
tlscheck_key_mode(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (stat(path, &st) == -1) {
		ftp_errmsg(err, errlen, "%s: %s", path, strerror(errno));
		return FTP_ERR_CONFIG;
	}
	if (!S_ISREG(st.st_mode)) {
		ftp_errmsg(err, errlen, "%s: not a regular file", path);
		return FTP_ERR_CONFIG;
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		ftp_errmsg(err, errlen, "%s: private key accessible by group "
		    "or others (mode %04o); chmod 600 it",
		    path, (unsigned)(st.st_mode & 07777));
		return FTP_ERR_CONFIG;
	}
	return 0;
}

static int
tlscheck_key(const char *path, X509 *leaf, const char *cert, char *err,
    size_t errlen)
{
	FILE *f = NULL;
	EVP_PKEY *pkey = NULL;
	int r;

	if ((r = tlscheck_key_mode(path, err, errlen)) != 0)
		goto out;
	r = FTP_ERR_CONFIG;
	if ((f = fopen(path, "r")) == NULL) {
		ftp_errmsg(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if ((pkey = PEM_read_PrivateKey(f, NULL, tlscheck_nopass_cb,
	    NULL)) == NULL) {
		ftp_errmsg(err, errlen, "%s: no PEM private key in it (or "
		    "it is encrypted)", path);
		goto out;
	}
	if (X509_check_private_key(leaf, pkey) != 1) {
		ftp_errmsg(err, errlen, "%s: private key does not match "
		    "certificate %s", path, cert);
		goto out;
	}
	r = 0;
out:
	EVP_PKEY_free(pkey);
	if (f != NULL)
		fclose(f);
	ERR_clear_error();
	return r;
}

/* The CA file must hold certificates, and only CAs: a leaf or a key
 * given as ca would make every handshake fail with "unknown ca". */
static int
tlscheck_ca(const char *path, STACK_OF(X509) *cas, char *err, size_t errlen)
{
	char subj[256];
	int i, r;

	if ((r = tlscheck_read_certs(path, cas, err, errlen)) != 0)
		return r;
	if (sk_X509_num(cas) == 0) {
		ftp_errmsg(err, errlen, "%s: not a certificate (no PEM "
		    "CERTIFICATE block in it)", path);
		return FTP_ERR_CONFIG;
	}
	for (i = 0; i < sk_X509_num(cas); i++) {
		X509 *x = sk_X509_value(cas, i);

		if (X509_check_ca(x) != 0)
			continue;
		X509_NAME_oneline(X509_get_subject_name(x), subj,
		    sizeof(subj));
		ftp_errmsg(err, errlen, "%s: certificate %s is not a CA "
		    "(basicConstraints CA:FALSE or missing)", path, subj);
		return FTP_ERR_CONFIG;
	}
	return 0;
}

/* Verify as the peer will: with only the deployment CA as trust anchor,
 * the rest of the cert file as intermediates, the role's purpose. */
static int
tlscheck_verify(enum tls_role role, STACK_OF(X509) *chain,
    STACK_OF(X509) *cas, const char *cert, const char *ca, char *err,
    size_t errlen)
{
	X509_STORE *store = NULL;
	X509_STORE_CTX *vctx = NULL;
	int i, r = FTP_ERR_NOMEM;

	if ((store = X509_STORE_new()) == NULL ||
	    (vctx = X509_STORE_CTX_new()) == NULL)
		goto out;
	for (i = 0; i < sk_X509_num(cas); i++)
		if (X509_STORE_add_cert(store, sk_X509_value(cas, i)) != 1)
			goto out;
	if (X509_STORE_CTX_init(vctx, store, sk_X509_value(chain, 0),
	    chain) != 1)
		goto out;
	/* Dates are tlscheck_dates' (a warning): see tlscheck.h. */
	X509_STORE_CTX_set_flags(vctx, X509_V_FLAG_NO_CHECK_TIME);
	if (X509_STORE_CTX_set_purpose(vctx,
	    role == TLS_ROLE_SERVER ? X509_PURPOSE_SSL_SERVER :
	    X509_PURPOSE_SSL_CLIENT) != 1)
		goto out;
	r = FTP_ERR_CONFIG;
	if (X509_verify_cert(vctx) != 1) {
		int e = X509_STORE_CTX_get_error(vctx);

		/* OpenSSL's words for "another CA signed it" are obscure. */
		ftp_errmsg(err, errlen, "%s: does not verify against CA %s: "
		    "%s%s", cert, ca, X509_verify_cert_error_string(e),
		    e == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ?
		    " (not signed by this CA)" : "");
		goto out;
	}
	r = 0;
out:
	if (r == FTP_ERR_NOMEM)
		ftp_errmsg(err, errlen, "out of memory");
	X509_STORE_CTX_free(vctx);
	X509_STORE_free(store);
	ERR_clear_error();
	return r;
}

/* "Mar  1 12:00:00 2027 GMT" as OpenSSL prints it, for the warning. */
static void
tlscheck_time_text(const ASN1_TIME *t, char *buf, size_t len)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1 ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(buf, len, "?");
}

/* The first date problem of x (from file) into warn; 1 if one. */
static int
tlscheck_dates1(const X509 *x, const char *file, const char *what,
    char *warn, size_t warnlen)
{
	const ASN1_TIME *nb = X509_get0_notBefore(x);
	const ASN1_TIME *na = X509_get0_notAfter(x);
	time_t soon = time(NULL) + TLSCHECK_EXPIRY_WARN_DAYS * 86400;
	char when[64];

	if (X509_cmp_current_time(nb) > 0) {
		tlscheck_time_text(nb, when, sizeof(when));
		ftp_errmsg(warn, warnlen, "%s: %s not valid before %s (is "
		    "this host's clock right?)", file, what, when);
		return 1;
	}
	tlscheck_time_text(na, when, sizeof(when));
	if (X509_cmp_current_time(na) < 0) {
		ftp_errmsg(warn, warnlen, "%s: %s expired on %s: peers will "
		    "refuse it", file, what, when);
		return 1;
	}
	if (X509_cmp_time(na, &soon) < 0) {
		ftp_errmsg(warn, warnlen, "%s: %s expires on %s, within %d "
		    "days", file, what, when, TLSCHECK_EXPIRY_WARN_DAYS);
		return 1;
	}
	return 0;
}

static void
tlscheck_dates(STACK_OF(X509) *chain, STACK_OF(X509) *cas, const char *cert,
    const char *ca, char *warn, size_t warnlen)
{
	int i;

	ftp_errmsg(warn, warnlen, "%s", "");
	if (tlscheck_dates1(sk_X509_value(chain, 0), cert, "certificate",
	    warn, warnlen))
		return;
	for (i = 0; i < sk_X509_num(cas); i++)
		if (tlscheck_dates1(sk_X509_value(cas, i), ca,
		    "CA certificate", warn, warnlen))
			return;
}

int
tlscheck_files(enum tls_role role, const char *cert, const char *key,
    const char *ca, char *warn, size_t warnlen, char *err, size_t errlen)
{
	STACK_OF(X509) *chain = NULL, *cas = NULL;
	int r = FTP_ERR_NOMEM;

	if ((chain = sk_X509_new_null()) == NULL ||
	    (cas = sk_X509_new_null()) == NULL) {
		ftp_errmsg(err, errlen, "out of memory");
		goto out;
	}
	r = FTP_ERR_CONFIG;
	if (cert == NULL || *cert == '\0' || (key != NULL && *key == '\0') ||
	    ca == NULL || *ca == '\0') {
		ftp_errmsg(err, errlen, "certificate, key and CA files are "
		    "all required");
		goto out;
	}
	if ((r = tlscheck_cert(cert, chain, err, errlen)) != 0 ||
	    (key != NULL && (r = tlscheck_key(key, sk_X509_value(chain, 0),
	    cert, err, errlen)) != 0) ||
	    (r = tlscheck_ca(ca, cas, err, errlen)) != 0 ||
	    (r = tlscheck_verify(role, chain, cas, cert, ca, err,
	    errlen)) != 0)
		goto out;
	tlscheck_dates(chain, cas, cert, ca, warn, warnlen);
	r = 0;
out:
	sk_X509_pop_free(chain, X509_free);
	sk_X509_pop_free(cas, X509_free);
	ERR_clear_error();
	return r;
}
