/*
 * ftpcheck_tls.c - the TLS side of the real FTP client (ftpcheck.h):
 * AUTH TLS on the second control connection, what the server's
 * certificate says, and the FTPS (PROT P) data connections.  Nothing is
 * verified: it is recorded.
 *
 * A data connection is a TLS client even in active mode (RFC 4217), on
 * the data socket itself with OpenSSL's non-blocking calls driven by the
 * session's data event: the socket stays the session's (data_fd), so the
 * plain and the FTPS transfers share one life cycle.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "err.h"
#include "ftpcheck.h"
#include "ftpcheck_int.h"

/* SSL_read calls per readiness: a record fits the buffer, so what is
 * left waits in the socket, which stays readable. */
#define FTPCHECK_TLS_READS	8

static void ftpcheck_tls_event_cb(struct bufferevent *bev, short what,
    void *arg);

/* ---- AUTH TLS ---- */

/* A permissive client context: the point is to look at the certificate
 * the server offers, so verification is recorded, never enforced. */
static SSL_CTX *
ftpcheck_ssl_ctx(struct ftpcheck *fc)
{
	if (fc->ssl_ctx == NULL &&
	    (fc->ssl_ctx = SSL_CTX_new(TLS_client_method())) != NULL) {
		SSL_CTX_set_verify(fc->ssl_ctx, SSL_VERIFY_NONE, NULL);
		(void)SSL_CTX_set_default_verify_paths(fc->ssl_ctx);
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
		/* Servers end data connections with a bare FIN; the final
		 * reply, not close_notify, says whether it all arrived. */
		SSL_CTX_set_options(fc->ssl_ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
	}
	return fc->ssl_ctx;
}

/* SNI for a name, never for an address literal (RFC 6066). */
static void
ftpcheck_tls_sni(const struct ftpcheck *fc, SSL *ssl)
{
	struct in6_addr tmp;

	if (inet_pton(AF_INET, fc->server_name, &tmp) != 1 &&
	    inet_pton(AF_INET6, fc->server_name, &tmp) != 1)
		(void)SSL_set_tlsext_host_name(ssl, fc->server_name);
}

void
ftpcheck_tls_begin(struct ftpcheck *fc)
{
	struct bufferevent *tb;
	SSL_CTX *ctx;
	SSL *ssl;

	if ((ctx = ftpcheck_ssl_ctx(fc)) == NULL || (ssl = SSL_new(ctx)) == NULL) {
		ftpcheck_session_end(fc, "TLS: cannot create context");
		return;
	}
	ftpcheck_tls_sni(fc, ssl);
	/* The filter takes over the plain bufferevent (and frees it). */
	tb = bufferevent_openssl_filter_new(fc->base, fc->bev, ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	if (tb == NULL) {
		SSL_free(ssl);
		ftpcheck_session_end(fc, "TLS: cannot create filter");
		return;
	}
	fc->bev = tb;
	fc->gen++;
	bufferevent_setcb(tb, NULL, NULL, ftpcheck_tls_event_cb, fc);
	bufferevent_enable(tb, EV_READ | EV_WRITE);
	ftpcheck_wait(fc, FC_HANDSHAKE);
}

static void
ftpcheck_tls_name(X509_NAME *n, char *buf, size_t len)
{
	char *p;

	if (n == NULL || X509_NAME_oneline(n, buf, (int)len) == NULL)
		buf[0] = '\0';
	for (p = buf; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
}

static void
ftpcheck_tls_sans(X509 *cert, char *buf, size_t len)
{
	GENERAL_NAMES *gens;
	char one[300], ip[INET6_ADDRSTRLEN];
	int i;

	buf[0] = '\0';
	gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	if (gens == NULL)
		return;
	for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const unsigned char *d;
		int n, j;

		one[0] = '\0';
		if (g->type == GEN_DNS) {
			d = ASN1_STRING_get0_data(g->d.dNSName);
			n = ASN1_STRING_length(g->d.dNSName);
			snprintf(one, sizeof(one), "DNS:");
			for (j = 0; j < n && j < 255; j++)
				one[4 + j] = d[j] >= 0x20 && d[j] < 0x7f ?
				    (char)d[j] : '?';
			one[4 + j] = '\0';
		} else if (g->type == GEN_IPADD) {
			d = ASN1_STRING_get0_data(g->d.iPAddress);
			n = ASN1_STRING_length(g->d.iPAddress);
			if ((n == 4 && inet_ntop(AF_INET, d, ip, sizeof(ip))) ||
			    (n == 16 && inet_ntop(AF_INET6, d, ip, sizeof(ip))))
				snprintf(one, sizeof(one), "IP:%s", ip);
		}
		if (one[0] != '\0' && strlen(buf) + strlen(one) + 3 < len)
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s",
			    buf[0] ? ", " : "", one);
	}
	GENERAL_NAMES_free(gens);
}

static void
ftpcheck_tls_cert(struct ftpcheck *fc, X509 *cert)
{
	struct ftpcheck_tls *t = &fc->res.tls;
	struct in6_addr tmp;
	struct tm tm;

	t->have_cert = 1;
	ftpcheck_tls_name(X509_get_subject_name(cert), t->subject,
	    sizeof(t->subject));
	ftpcheck_tls_name(X509_get_issuer_name(cert), t->issuer,
	    sizeof(t->issuer));
	ftpcheck_tls_sans(cert, t->sans, sizeof(t->sans));
	t->self_signed = X509_check_issued(cert, cert) == X509_V_OK;
	t->expired = X509_cmp_current_time(X509_get0_notAfter(cert)) < 0;
	t->not_yet_valid = X509_cmp_current_time(X509_get0_notBefore(cert)) > 0;
	if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) == 1)
		strftime(t->not_after, sizeof(t->not_after),
		    "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (inet_pton(AF_INET, fc->server_name, &tmp) == 1 ||
	    inet_pton(AF_INET6, fc->server_name, &tmp) == 1) {
		t->name_checked_against_ip = 1;
		t->name_match = X509_check_ip_asc(cert, fc->server_name, 0) == 1;
	} else {
		t->name_match = X509_check_host(cert, fc->server_name, 0, 0,
		    NULL) == 1;
	}
}

static void
ftpcheck_tls_record(struct ftpcheck *fc, SSL *ssl)
{
	struct ftpcheck_tls *t = &fc->res.tls;
	X509 *cert;

	if (ssl == NULL)
		return;
	snprintf(t->version, sizeof(t->version), "%s", SSL_get_version(ssl));
	snprintf(t->cipher, sizeof(t->cipher), "%s",
	    SSL_get_cipher_name(ssl) ? SSL_get_cipher_name(ssl) : "");
	t->verify_code = SSL_get_verify_result(ssl);
	snprintf(t->verify_error, sizeof(t->verify_error), "%s",
	    X509_verify_cert_error_string(t->verify_code));
	if ((cert = SSL_get1_peer_certificate(ssl)) != NULL) {
		ftpcheck_tls_cert(fc, cert);
		X509_free(cert);
	}
}

static void
ftpcheck_tls_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct ftpcheck *fc = arg;
	SSL *ssl = bufferevent_openssl_get_ssl(bev);
	unsigned long e;
	char buf[200];

	if (what & BEV_EVENT_CONNECTED) {
		fc->res.tls.handshake_ok = 1;
		ftpcheck_tls_record(fc, ssl);
		ftpcheck_tls_ready(fc);
		return;
	}
	if (!(what & (BEV_EVENT_ERROR | BEV_EVENT_EOF)))
		return;
	ftpcheck_tls_record(fc, ssl);
	if ((e = bufferevent_get_openssl_error(bev)) != 0)
		ERR_error_string_n(e, buf, sizeof(buf));
	else
		snprintf(buf, sizeof(buf), "%s",
		    (what & BEV_EVENT_EOF) ? "connection closed" :
		    strerror(errno));
	ftpcheck_session_end(fc, "handshake: %s", buf);
}


void
ftpcheck_tls_free(struct ftpcheck *fc)
{
	if (fc->ssl_ctx != NULL)
		SSL_CTX_free(fc->ssl_ctx);
	fc->ssl_ctx = NULL;
}

/* ---- FTPS data connections ---- */

/* Why a TLS call on the data socket failed, into the mode's tls_error. */
static int
ftpcheck_data_tls_failed(struct ftpcheck *fc, const char *what, int err)
{
	struct ftpcheck_data *d = ftpcheck_cur(fc);
	unsigned long e = ERR_get_error();
	char buf[128];

	if (e != 0)
		ERR_error_string_n(e, buf, sizeof(buf));
	else
		snprintf(buf, sizeof(buf), "%s", err != 0 ? strerror(err) :
		    "connection closed by the server");
	snprintf(d->tls_error, sizeof(d->tls_error), "TLS %s: %s", what, buf);
	d->data_err = err != 0 ? err : EPROTO;
	return FTP_ERR_TLS;
}

/* What an SSL call that returned n <= 0 wants: 1 (wait: the watch is
 * set), 0 (the end of the data) or a negative FTP_ERR_*. */
static int
ftpcheck_data_tls_want(struct ftpcheck *fc, int n, const char *what)
{
	struct ftpcheck_data *d = ftpcheck_cur(fc);
	int err = errno;

	switch (SSL_get_error(fc->data_ssl, n)) {
	case SSL_ERROR_WANT_READ:
		return ftpcheck_data_watch(fc, EV_READ | EV_PERSIST) == 0 ? 1 :
		    FTP_ERR_NOMEM;
	case SSL_ERROR_WANT_WRITE:
		return ftpcheck_data_watch(fc, EV_WRITE) == 0 ? 1 :
		    FTP_ERR_NOMEM;
	case SSL_ERROR_ZERO_RETURN:
		if (d->tls_ok)
			return 0;
		return ftpcheck_data_tls_failed(fc, what, 0);
	case SSL_ERROR_SYSCALL:
		return ftpcheck_data_tls_failed(fc, what, err);
	default:
		return ftpcheck_data_tls_failed(fc, what, 0);
	}
}

int
ftpcheck_data_tls_io(struct ftpcheck *fc)
{
	struct ftpcheck_data *d = ftpcheck_cur(fc);
	char buf[16384];
	int i, n;

	ERR_clear_error();
	if (!d->tls_ok) {
		if ((n = SSL_do_handshake(fc->data_ssl)) != 1)
			return ftpcheck_data_tls_want(fc, n, "handshake");
		d->tls_ok = 1;
		d->tls_resumed = SSL_session_reused(fc->data_ssl);
		if (ftpcheck_data_watch(fc, EV_READ | EV_PERSIST) != 0)
			return FTP_ERR_NOMEM;
	}
	for (i = 0; i < FTPCHECK_TLS_READS; i++) {
		if ((n = SSL_read(fc->data_ssl, buf, sizeof(buf))) <= 0)
			return ftpcheck_data_tls_want(fc, n, "read");
		d->bytes += (uint64_t)n;
	}
	return 1;
}

int
ftpcheck_data_tls_start(struct ftpcheck *fc)
{
	struct ftpcheck_data *d = ftpcheck_cur(fc);
	SSL *ctl = fc->bev != NULL ? bufferevent_openssl_get_ssl(fc->bev) :
	    NULL;
	SSL_SESSION *sess;

	if (ctl == NULL || fc->ssl_ctx == NULL ||
	    (fc->data_ssl = SSL_new(fc->ssl_ctx)) == NULL ||
	    SSL_set_fd(fc->data_ssl, fc->data_fd) != 1) {
		snprintf(d->tls_error, sizeof(d->tls_error),
		    "TLS: cannot set up the data connection");
		d->data_err = ENOMEM;
		return FTP_ERR_NOMEM;
	}
	/* Servers tie each data connection to the control connection's
	 * session (vsftpd's require_ssl_reuse, on by default): resume it. */
	if ((sess = SSL_get1_session(ctl)) != NULL) {
		(void)SSL_set_session(fc->data_ssl, sess);
		SSL_SESSION_free(sess);
	}
	ftpcheck_tls_sni(fc, fc->data_ssl);
	SSL_set_connect_state(fc->data_ssl);
	/* A late accept may find the handshake, the data and the server's
	 * close_notify all waiting: then this is already the end. */
	return ftpcheck_data_tls_io(fc);
}

void
ftpcheck_data_tls_close(struct ftpcheck *fc)
{
	if (fc->data_ssl != NULL)
		SSL_free(fc->data_ssl);
	fc->data_ssl = NULL;
}
