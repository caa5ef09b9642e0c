/*
 * crl.c - the deployment CA's certificate revocation lists (see crl.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "addr.h"
#include "crl.h"
#include "err.h"
#include "log.h"
#include "tlscheck.h"

/* RFC 5280 CRLReason, as the log names it (7 is unused). */
static const char *const crl_reasons[] = {
	"unspecified", "keyCompromise", "CACompromise", "affiliationChanged",
	"superseded", "cessationOfOperation", "certificateHold", "?",
	"removeFromCRL", "privilegeWithdrawn", "AACompromise",
};

/* Never prompt: a CRL is public, a passphrase request is a wrong file. */
static int
crl_nopass_cb(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* Every PEM CRL of path onto crls.  0, or FTP_ERR_CONFIG: unreadable or
 * none in it. */
static int
crl_read(const char *path, STACK_OF(X509_CRL) *crls, char *err,
    size_t errlen)
{
	FILE *f;
	X509_CRL *c;
	unsigned long e;

	if (path == NULL || *path == '\0') {
		ftp_errmsg(err, errlen, "no CRL file given");
		return FTP_ERR_CONFIG;
	}
	if ((f = fopen(path, "r")) == NULL) {
		ftp_errmsg(err, errlen, "%s: %s", path, strerror(errno));
		return FTP_ERR_CONFIG;
	}
	while ((c = PEM_read_X509_CRL(f, NULL, crl_nopass_cb, NULL)) != NULL)
		if (sk_X509_CRL_push(crls, c) <= 0) {
			X509_CRL_free(c);
			break;
		}
	fclose(f);
	/* The loop ends on "no start line" at the end of the file; anything
	 * else is a block that does not parse (a truncated copy): taking the
	 * blocks before it would drop revocations silently. */
	e = ERR_peek_last_error();
	ERR_clear_error();
	if (e != 0 && !(ERR_GET_LIB(e) == ERR_LIB_PEM &&
	    ERR_GET_REASON(e) == PEM_R_NO_START_LINE)) {
		ftp_errmsg(err, errlen, "%s: damaged CRL (block %d does not "
		    "parse)", path, sk_X509_CRL_num(crls) + 1);
		return FTP_ERR_CONFIG;
	}
	if (sk_X509_CRL_num(crls) == 0) {
		ftp_errmsg(err, errlen, "%s: not a CRL (no PEM X509 CRL block "
		    "in it)", path);
		return FTP_ERR_CONFIG;
	}
	return 0;
}

static int
crl_read_cas(const char *path, STACK_OF(X509) *cas, char *err,
    size_t errlen)
{
	FILE *f;
	X509 *x;

	if ((f = fopen(path, "r")) == NULL) {
		ftp_errmsg(err, errlen, "%s: %s", path, strerror(errno));
		return FTP_ERR_CONFIG;
	}
	while ((x = PEM_read_X509(f, NULL, crl_nopass_cb, NULL)) != NULL)
		if (sk_X509_push(cas, x) <= 0) {
			X509_free(x);
			break;
		}
	fclose(f);
	ERR_clear_error();
	if (sk_X509_num(cas) == 0) {
		ftp_errmsg(err, errlen, "%s: no PEM certificate in it", path);
		return FTP_ERR_CONFIG;
	}
	return 0;
}

/* The CA certificate of cas whose subject issued c, or NULL. */
static X509 *
crl_issuer(X509_CRL *c, STACK_OF(X509) *cas)
{
	int i;

	for (i = 0; i < sk_X509_num(cas); i++)
		if (X509_NAME_cmp(X509_CRL_get_issuer(c),
		    X509_get_subject_name(sk_X509_value(cas, i))) == 0)
			return sk_X509_value(cas, i);
	return NULL;
}

/* Each CRL must come from the CA: another CA's CRL (or a forged one)
 * would make every handshake fail with "unable to get certificate CRL"
 * or "CRL signature failure", for reasons OpenSSL names obscurely. */
static int
crl_signed(STACK_OF(X509_CRL) *crls, STACK_OF(X509) *cas, const char *crl,
    const char *ca, char *err, size_t errlen)
{
	char name[256];
	X509_CRL *c;
	X509 *issuer;
	int i;

	for (i = 0; i < sk_X509_CRL_num(crls); i++) {
		c = sk_X509_CRL_value(crls, i);
		X509_NAME_oneline(X509_CRL_get_issuer(c), name, sizeof(name));
		if ((issuer = crl_issuer(c, cas)) == NULL) {
			ftp_errmsg(err, errlen, "%s: CRL issued by %s, which is "
			    "not a certificate of CA file %s", crl, name, ca);
			return FTP_ERR_CONFIG;
		}
		if (X509_CRL_verify(c, X509_get0_pubkey(issuer)) != 1) {
			ERR_clear_error();
			ftp_errmsg(err, errlen, "%s: the CRL's signature does "
			    "not verify against CA %s (%s)", crl, ca, name);
			return FTP_ERR_CONFIG;
		}
	}
	return 0;
}

static void
crl_time_text(const ASN1_TIME *t, char *buf, size_t len)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1 ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(buf, len, "?");
}

/* The first date problem of one CRL into warn; 1 if one. */
static int
crl_dates1(const X509_CRL *c, const char *crl, char *warn, size_t warnlen)
{
	const ASN1_TIME *lu = X509_CRL_get0_lastUpdate(c);
	const ASN1_TIME *nu = X509_CRL_get0_nextUpdate(c);
	time_t soon = time(NULL) + TLSCHECK_EXPIRY_WARN_DAYS * 86400;
	char when[64];

	if (lu != NULL && X509_cmp_current_time(lu) > 0) {
		crl_time_text(lu, when, sizeof(when));
		ftp_errmsg(warn, warnlen, "%s: CRL not valid before %s (is "
		    "this host's clock right?): every agent is refused until "
		    "then", crl, when);
		return 1;
	}
	if (nu == NULL)
		return 0;
	crl_time_text(nu, when, sizeof(when));
	if (X509_cmp_current_time(nu) < 0) {
		ftp_errmsg(warn, warnlen, "%s: CRL expired on %s (its next "
		    "update): every agent is refused until a new one is "
		    "installed (ftpath-certs crl)", crl, when);
		return 1;
	}
	if (X509_cmp_time(nu, &soon) < 0) {
		ftp_errmsg(warn, warnlen, "%s: CRL expires on %s, within %d "
		    "days: regenerate it (ftpath-certs crl)", crl, when,
		    TLSCHECK_EXPIRY_WARN_DAYS);
		return 1;
	}
	return 0;
}

static void
crl_warnings(STACK_OF(X509_CRL) *crls, STACK_OF(X509) *cas,
    const char *crl, const char *ca, char *warn, size_t warnlen)
{
	char name[256];
	int i, j, found;

	ftp_errmsg(warn, warnlen, "%s", "");
	for (i = 0; i < sk_X509_CRL_num(crls); i++)
		if (crl_dates1(sk_X509_CRL_value(crls, i), crl, warn, warnlen))
			return;
	for (i = 0; i < sk_X509_num(cas); i++) {
		X509 *x = sk_X509_value(cas, i);

		for (found = 0, j = 0; j < sk_X509_CRL_num(crls) && !found;
		    j++)
			found = X509_NAME_cmp(X509_get_subject_name(x),
			    X509_CRL_get_issuer(sk_X509_CRL_value(crls,
			    j))) == 0;
		if (found)
			continue;
		X509_NAME_oneline(X509_get_subject_name(x), name,
		    sizeof(name));
		ftp_errmsg(warn, warnlen, "%s: no CRL of CA %s (in %s): every "
		    "agent certificate it signed is refused", crl, name, ca);
		return;
	}
}

int
crl_check_file(const char *crl, const char *ca, char *warn,
    size_t warnlen, char *err, size_t errlen)
{
	STACK_OF(X509_CRL) *crls = NULL;
	STACK_OF(X509) *cas = NULL;
	int r = FTP_ERR_NOMEM;

	if ((crls = sk_X509_CRL_new_null()) == NULL ||
	    (cas = sk_X509_new_null()) == NULL) {
		ftp_errmsg(err, errlen, "out of memory");
		goto out;
	}
	if ((r = crl_read(crl, crls, err, errlen)) != 0 ||
	    (r = crl_read_cas(ca, cas, err, errlen)) != 0 ||
	    (r = crl_signed(crls, cas, crl, ca, err, errlen)) != 0)
		goto out;
	crl_warnings(crls, cas, crl, ca, warn, warnlen);
out:
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	sk_X509_pop_free(cas, X509_free);
	ERR_clear_error();
	return r;
}

/* "198.51.100.2:40000" of the handshake being verified, or "?". */
static void
crl_peer_text(X509_STORE_CTX *xs, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	SSL *ssl;
	int fd;

	snprintf(buf, len, "?");
	ssl = X509_STORE_CTX_get_ex_data(xs,
	    SSL_get_ex_data_X509_STORE_CTX_idx());
	if (ssl == NULL || (fd = SSL_get_fd(ssl)) < 0 ||
	    getpeername(fd, (struct sockaddr *)&ss, &sl) == -1)
		return;
	addr_unmap(&ss);
	addr_ntop_port((struct sockaddr *)&ss, buf, len);
}

/* ", revoked on DATE (reason)" from the CRL that listed x, or "". */
static void
crl_revocation_text(X509_STORE_CTX *xs, X509 *x, char *buf, size_t len)
{
	X509_CRL *c = X509_STORE_CTX_get0_current_crl(xs);
	X509_REVOKED *rev = NULL;
	ASN1_ENUMERATED *reason;
	char when[64];
	long code = -1;

	buf[0] = '\0';
	if (c == NULL || X509_CRL_get0_by_serial(c, &rev,
	    X509_get0_serialNumber(x)) != 1 || rev == NULL)
		return;
	crl_time_text(X509_REVOKED_get0_revocationDate(rev), when,
	    sizeof(when));
	if ((reason = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, NULL,
	    NULL)) != NULL) {
		code = ASN1_ENUMERATED_get(reason);
		ASN1_ENUMERATED_free(reason);
	}
	snprintf(buf, len, ", revoked on %s (%s)", when, code >= 0 &&
	    (size_t)code < sizeof(crl_reasons) / sizeof(crl_reasons[0]) ?
	    crl_reasons[code] : "no reason given");
}

/*
 * The handshake's verdict stays OpenSSL's (ok is returned unchanged);
 * this only says, once per refused certificate, which certificate the
 * CRL refused: the session's own "TLS handshake failed" line names the
 * peer but not the certificate.
 */
static int
crl_verify_cb(int ok, X509_STORE_CTX *xs)
{
	char peer[ADDR_STRLEN], subj[256], serial[80] = "?", rev[128];
	int e = X509_STORE_CTX_get_error(xs);
	X509 *x = X509_STORE_CTX_get_current_cert(xs);
	BIGNUM *bn;
	char *hex;

	if (ok || x == NULL)
		return ok;
	if (e != X509_V_ERR_CERT_REVOKED && e != X509_V_ERR_UNABLE_TO_GET_CRL &&
	    e != X509_V_ERR_CRL_HAS_EXPIRED && e != X509_V_ERR_CRL_NOT_YET_VALID &&
	    e != X509_V_ERR_CRL_SIGNATURE_FAILURE)
		return ok;
	crl_peer_text(xs, peer, sizeof(peer));
	X509_NAME_oneline(X509_get_subject_name(x), subj, sizeof(subj));
	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL)) !=
	    NULL && (hex = BN_bn2hex(bn)) != NULL) {
		snprintf(serial, sizeof(serial), "%s", hex);
		OPENSSL_free(hex);
	}
	BN_free(bn);
	if (e == X509_V_ERR_CERT_REVOKED) {
		crl_revocation_text(xs, x, rev, sizeof(rev));
		log_warnx("tls: %s: certificate serial %s, subject %s is "
		    "revoked by the CRL%s: refused", peer, serial, subj, rev);
	} else
		log_warnx("tls: %s: certificate serial %s, subject %s: CRL "
		    "check failed (%s): refused", peer, serial, subj,
		    X509_verify_cert_error_string(e));
	return ok;
}

int
crl_ctx_install(SSL_CTX *ctx, const char *crl, unsigned *nrevoked,
    char *err, size_t errlen)
{
	STACK_OF(X509_CRL) *crls = NULL;
	STACK_OF(X509_REVOKED) *revs;
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);
	unsigned n = 0;
	int i, r = FTP_ERR_NOMEM;

	if ((crls = sk_X509_CRL_new_null()) == NULL) {
		ftp_errmsg(err, errlen, "out of memory");
		goto out;
	}
	if ((r = crl_read(crl, crls, err, errlen)) != 0)
		goto out;
	r = FTP_ERR_CONFIG;
	for (i = 0; i < sk_X509_CRL_num(crls); i++) {
		X509_CRL *c = sk_X509_CRL_value(crls, i);

		/* The store takes its own reference. */
		if (X509_STORE_add_crl(store, c) != 1) {
			ftp_errmsg(err, errlen, "%s: cannot add the CRL to the "
			    "trust store", crl);
			goto out;
		}
		if ((revs = X509_CRL_get_REVOKED(c)) != NULL)
			n += (unsigned)sk_X509_REVOKED_num(revs);
	}
	/* The context's parameters, not the store's: they are the ones
	 * each SSL copies into its verification. */
	if (X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(ctx),
	    X509_V_FLAG_CRL_CHECK) != 1) {
		ftp_errmsg(err, errlen, "%s: cannot enable CRL checking", crl);
		goto out;
	}
	SSL_CTX_set_verify(ctx, SSL_CTX_get_verify_mode(ctx), crl_verify_cb);
	if (nrevoked != NULL)
		*nrevoked = n;
	r = 0;
out:
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	ERR_clear_error();
	return r;
}
