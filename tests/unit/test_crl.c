/*
 * test_crl.c - crl_check_file's verdicts on CRL files and a handshake
 * against a context with crl_ctx_install (certificates and CRLs made in
 * memory by the test).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "crl.h"
#include "err.h"
#include "tls.h"

struct pki {
	char dir[64];
	char ca[128], other_ca[128], both_ca[128], scert[128], skey[128];
	char good_cert[128], good_key[128], bad_cert[128], bad_key[128];
	char crl[128], crl_other[128], crl_foreign[128], crl_expired[128];
	char crl_future[128], crl_trunc[128], not_crl[128];
};

static EVP_PKEY *
gen_key(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	assert_non_null(k);
	return k;
}

static void
add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ex;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	assert_non_null(ex);
	assert_int_equal(X509_add_ext(cert, ex, -1), 1);
	X509_EXTENSION_free(ex);
}

/* A CA (issuer NULL) or a leaf of role eku signed by issuer. */
static X509 *
make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *ikey,
    long serial, const char *eku)
{
	X509 *c = X509_new();
	X509_NAME *name;

	assert_non_null(c);
	assert_int_equal(X509_set_version(c, 2), 1);
	ASN1_INTEGER_set(X509_get_serialNumber(c), serial);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(c), -3600));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(c), 86400L * 400));
	assert_int_equal(X509_set_pubkey(c, key), 1);
	name = X509_get_subject_name(c);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0), 1);
	assert_int_equal(X509_set_issuer_name(c, issuer != NULL ?
	    X509_get_subject_name(issuer) : name), 1);
	if (issuer == NULL) {
		add_ext(c, c, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(c, c, NID_key_usage, "critical,keyCertSign,cRLSign");
	} else {
		add_ext(c, issuer, NID_basic_constraints, "CA:FALSE");
		add_ext(c, issuer, NID_ext_key_usage, eku);
		add_ext(c, issuer, NID_subject_alt_name, "IP:127.0.0.1");
	}
	assert_true(X509_sign(c, ikey != NULL ? ikey : key, EVP_sha256()) > 0);
	return c;
}

/* A CRL in issuer's name signed by key, valid from +from to +to seconds
 * from now, listing revoked (may be NULL). */
static X509_CRL *
make_crl(X509 *issuer, EVP_PKEY *key, long from, long to, X509 *revoked)
{
	X509_CRL *c = X509_CRL_new();
	ASN1_TIME *t = ASN1_TIME_new();
	X509_REVOKED *r;

	assert_non_null(c);
	assert_non_null(t);
	assert_int_equal(X509_CRL_set_version(c, 1), 1);
	assert_int_equal(X509_CRL_set_issuer_name(c,
	    X509_get_subject_name(issuer)), 1);
	assert_non_null(X509_gmtime_adj(t, from));
	assert_int_equal(X509_CRL_set1_lastUpdate(c, t), 1);
	assert_non_null(X509_gmtime_adj(t, to));
	assert_int_equal(X509_CRL_set1_nextUpdate(c, t), 1);
	if (revoked != NULL) {
		assert_non_null(r = X509_REVOKED_new());
		assert_int_equal(X509_REVOKED_set_serialNumber(r,
		    X509_get_serialNumber(revoked)), 1);
		assert_non_null(X509_gmtime_adj(t, -60));
		assert_int_equal(X509_REVOKED_set_revocationDate(r, t), 1);
		assert_int_equal(X509_CRL_add0_revoked(c, r), 1);
	}
	ASN1_TIME_free(t);
	assert_int_equal(X509_CRL_sort(c), 1);
	assert_true(X509_CRL_sign(c, key, EVP_sha256()) > 0);
	return c;
}

static void
write_pem(const char *path, X509 *cert, EVP_PKEY *key, X509_CRL *crl)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	if (cert != NULL)
		assert_int_equal(PEM_write_X509(f, cert), 1);
	if (key != NULL)
		assert_int_equal(PEM_write_PrivateKey(f, key, NULL, NULL, 0,
		    NULL, NULL), 1);
	if (crl != NULL)
		assert_int_equal(PEM_write_X509_CRL(f, crl), 1);
	assert_int_equal(fclose(f), 0);
	if (key != NULL)
		assert_int_equal(chmod(path, 0600), 0);
}

/* a then b into dst. */
static void
concat(const char *a, const char *b, const char *dst)
{
	char buf[4096];
	const char *src[2] = { a, b };
	FILE *f, *g = fopen(dst, "w");
	size_t n;
	int i;

	assert_non_null(g);
	for (i = 0; i < 2; i++) {
		assert_non_null(f = fopen(src[i], "r"));
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			assert_int_equal(fwrite(buf, 1, n, g), n);
		fclose(f);
	}
	assert_int_equal(fclose(g), 0);
}

/* The first n bytes of src into dst: a copy cut short. */
static void
truncate_copy(const char *src, const char *dst, long n)
{
	char buf[4096];
	FILE *f = fopen(src, "r"), *g = fopen(dst, "w");
	size_t got;

	assert_non_null(f);
	assert_non_null(g);
	got = fread(buf, 1, sizeof(buf), f);
	assert_true(got > (size_t)n);
	assert_int_equal(fwrite(buf, 1, (size_t)n, g), n);
	fclose(f);
	assert_int_equal(fclose(g), 0);
}

#define PATH(p, f, name)	snprintf((p)->f, sizeof((p)->f), "%s/%s", \
				    (p)->dir, name)

static void
pki_paths(struct pki *p)
{
	PATH(p, ca, "ca.pem");
	PATH(p, other_ca, "other-ca.pem");
	PATH(p, both_ca, "both-ca.pem");
	PATH(p, scert, "server.pem");
	PATH(p, skey, "server.key");
	PATH(p, good_cert, "good.pem");
	PATH(p, good_key, "good.key");
	PATH(p, bad_cert, "revoked.pem");
	PATH(p, bad_key, "revoked.key");
	PATH(p, crl, "ca.crl");
	PATH(p, crl_other, "other-key.crl");
	PATH(p, crl_foreign, "foreign.crl");
	PATH(p, crl_expired, "expired.crl");
	PATH(p, crl_future, "future.crl");
	PATH(p, crl_trunc, "truncated.crl");
	PATH(p, not_crl, "not.crl");
}

static int
pki_setup(void **state)
{
	struct pki *p = calloc(1, sizeof(*p));
	EVP_PKEY *cak, *ck2, *fk, *sk, *gk, *bk;
	X509 *ca, *ca2, *fca, *sc, *gc, *bc;
	X509_CRL *crl;

	if (p == NULL)
		return -1;
	snprintf(p->dir, sizeof(p->dir), "/tmp/ftpath-test-crl.XXXXXX");
	if (mkdtemp(p->dir) == NULL) {
		free(p);
		return -1;
	}
	pki_paths(p);
	cak = gen_key();
	ck2 = gen_key();	/* the same CA name, another key */
	fk = gen_key();		/* a CA of another name */
	sk = gen_key();
	gk = gen_key();
	bk = gen_key();
	ca = make_cert(cak, "ftpath test CA", NULL, NULL, 1, NULL);
	ca2 = make_cert(ck2, "ftpath test CA", NULL, NULL, 1, NULL);
	fca = make_cert(fk, "another CA", NULL, NULL, 1, NULL);
	sc = make_cert(sk, "reflector.test", ca, cak, 2, "serverAuth");
	gc = make_cert(gk, "agent1", ca, cak, 3, "clientAuth");
	bc = make_cert(bk, "agent2", ca, cak, 4, "clientAuth");
	write_pem(p->ca, ca, NULL, NULL);
	write_pem(p->other_ca, fca, NULL, NULL);
	write_pem(p->scert, sc, NULL, NULL);
	write_pem(p->skey, NULL, sk, NULL);
	write_pem(p->good_cert, gc, NULL, NULL);
	write_pem(p->good_key, NULL, gk, NULL);
	write_pem(p->bad_cert, bc, NULL, NULL);
	write_pem(p->bad_key, NULL, bk, NULL);
	write_pem(p->not_crl, ca, NULL, NULL);
	concat(p->ca, p->other_ca, p->both_ca);

	crl = make_crl(ca, cak, -60, 86400L * 365, bc);
	write_pem(p->crl, NULL, NULL, crl);
	X509_CRL_free(crl);
	crl = make_crl(ca2, ck2, -60, 86400L * 365, bc);
	write_pem(p->crl_other, NULL, NULL, crl);
	X509_CRL_free(crl);
	crl = make_crl(fca, fk, -60, 86400L * 365, NULL);
	write_pem(p->crl_foreign, NULL, NULL, crl);
	X509_CRL_free(crl);
	crl = make_crl(ca, cak, -7200, -3600, bc);
	write_pem(p->crl_expired, NULL, NULL, crl);
	X509_CRL_free(crl);
	crl = make_crl(ca, cak, 3600, 86400L * 365, bc);
	write_pem(p->crl_future, NULL, NULL, crl);
	X509_CRL_free(crl);
	truncate_copy(p->crl, p->crl_trunc, 120);

	X509_free(ca);
	X509_free(ca2);
	X509_free(fca);
	X509_free(sc);
	X509_free(gc);
	X509_free(bc);
	EVP_PKEY_free(cak);
	EVP_PKEY_free(ck2);
	EVP_PKEY_free(fk);
	EVP_PKEY_free(sk);
	EVP_PKEY_free(gk);
	EVP_PKEY_free(bk);
	*state = p;
	return 0;
}

static int
pki_teardown(void **state)
{
	struct pki *p = *state;
	const char *files[] = { p->ca, p->other_ca, p->both_ca, p->scert, p->skey,
	    p->good_cert, p->good_key, p->bad_cert, p->bad_key, p->crl,
	    p->crl_other, p->crl_foreign, p->crl_expired, p->crl_future,
	    p->crl_trunc, p->not_crl };
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		unlink(files[i]);
	rmdir(p->dir);
	free(p);
	return 0;
}

/* crl_check_file's error for crl: it fails and err names the file and
 * holds what. */
static void
check_refused(const char *crl, const char *ca, const char *what)
{
	char warn[512] = "x", err[512] = "";

	assert_int_equal(crl_check_file(crl, ca, warn, sizeof(warn), err,
	    sizeof(err)), FTP_ERR_CONFIG);
	if (strstr(err, crl) == NULL || strstr(err, what) == NULL)
		fail_msg("%s: \"%s\" lacks \"%s\"", crl, err, what);
	assert_int_equal(ERR_peek_error(), 0);
}

static void
check_warned(const char *crl, const char *ca, const char *what)
{
	char warn[512] = "", err[512] = "";

	if (crl_check_file(crl, ca, warn, sizeof(warn), err,
	    sizeof(err)) != 0)
		fail_msg("%s refused: %s", crl, err);
	if (strstr(warn, crl) == NULL || strstr(warn, what) == NULL)
		fail_msg("%s: warning \"%s\" lacks \"%s\"", crl, warn, what);
}

static void
test_check_file(void **state)
{
	struct pki *p = *state;
	char warn[512] = "x", err[512] = "";

	assert_int_equal(crl_check_file(p->crl, p->ca, warn, sizeof(warn),
	    err, sizeof(err)), 0);
	assert_string_equal(warn, "");
	check_refused(p->crl_other, p->ca, "signature does not verify");
	check_refused(p->crl_foreign, p->ca, "which is not a certificate of "
	    "CA file");
	check_refused(p->not_crl, p->ca, "not a CRL");
	check_refused(p->crl_trunc, p->ca, "damaged CRL");
	check_refused("/nonexistent/ca.crl", p->ca, "No such file");
	check_warned(p->crl_expired, p->ca, "CRL expired on");
	check_warned(p->crl_future, p->ca, "CRL not valid before");
	/* Two CAs, a CRL of one: the other's agents would all be refused. */
	check_warned(p->crl, p->both_ca, "no CRL of CA /CN=another CA");
	/* The other CA's own CRL is fine against its own file. */
	assert_int_equal(crl_check_file(p->crl_foreign, p->other_ca, warn,
	    sizeof(warn), err, sizeof(err)), 0);
	assert_string_equal(warn, "");
}

/* Handshake of a client with cert/key against sctx over a socketpair,
 * both ends stepped in turn (bounded).  The server's verify result. */
static long
handshake(SSL_CTX *sctx, SSL_CTX *cctx, int *server_ok)
{
	SSL *s = SSL_new(sctx), *c = SSL_new(cctx);
	int sv[2], i, rs = 0, rc = 0;
	long vr;

	assert_non_null(s);
	assert_non_null(c);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	SSL_set_fd(s, sv[0]);
	SSL_set_fd(c, sv[1]);
	SSL_set_accept_state(s);
	SSL_set_connect_state(c);
	for (i = 0; i < 200 && (rs != 1 || rc != 1); i++) {
		if (rc != 1)
			rc = SSL_do_handshake(c);
		if (rs != 1)
			rs = SSL_do_handshake(s);
		if ((rs <= 0 && SSL_get_error(s, rs) != SSL_ERROR_WANT_READ &&
		    SSL_get_error(s, rs) != SSL_ERROR_WANT_WRITE))
			break;
	}
	*server_ok = rs == 1;
	vr = SSL_get_verify_result(s);
	ERR_clear_error();
	SSL_free(s);
	SSL_free(c);
	close(sv[0]);
	close(sv[1]);
	return vr;
}

static void
test_install_handshake(void **state)
{
	struct pki *p = *state;
	SSL_CTX *sctx, *good, *bad;
	char err[512];
	unsigned n = 99;
	int ok;

	sctx = tls_ctx_new(TLS_ROLE_SERVER, p->scert, p->skey, p->ca, err,
	    sizeof(err));
	if (sctx == NULL)
		fail_msg("server ctx: %s", err);
	good = tls_ctx_new(TLS_ROLE_CLIENT, p->good_cert, p->good_key, p->ca,
	    err, sizeof(err));
	bad = tls_ctx_new(TLS_ROLE_CLIENT, p->bad_cert, p->bad_key, p->ca,
	    err, sizeof(err));
	assert_non_null(good);
	assert_non_null(bad);
	/* Without a CRL both get in. */
	assert_int_equal(handshake(sctx, bad, &ok), X509_V_OK);
	assert_true(ok);
	assert_int_equal(crl_ctx_install(sctx, p->crl_trunc, &n, err,
	    sizeof(err)), FTP_ERR_CONFIG);
	assert_non_null(strstr(err, p->crl_trunc));
	assert_int_equal(crl_ctx_install(sctx, p->crl, &n, err, sizeof(err)),
	    0);
	assert_int_equal(n, 1);
	assert_int_equal(handshake(sctx, good, &ok), X509_V_OK);
	assert_true(ok);
	assert_int_equal(handshake(sctx, bad, &ok), X509_V_ERR_CERT_REVOKED);
	assert_false(ok);
	SSL_CTX_free(sctx);

	/* An expired CRL refuses everyone (OpenSSL fails closed). */
	sctx = tls_ctx_new(TLS_ROLE_SERVER, p->scert, p->skey, p->ca, err,
	    sizeof(err));
	assert_non_null(sctx);
	assert_int_equal(crl_ctx_install(sctx, p->crl_expired, NULL, err,
	    sizeof(err)), 0);
	assert_int_equal(handshake(sctx, good, &ok),
	    X509_V_ERR_CRL_HAS_EXPIRED);
	assert_false(ok);
	SSL_CTX_free(sctx);
	SSL_CTX_free(good);
	SSL_CTX_free(bad);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_file),
		cmocka_unit_test(test_install_handshake),
	};

	return cmocka_run_group_tests(tests, pki_setup, pki_teardown);
}
