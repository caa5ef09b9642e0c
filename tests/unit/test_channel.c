/*
 * test_channel.c - framed messages over bufferevents on a socketpair,
 * plain and over TLS 1.3 (certificates generated in memory by the test).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "channel.h"
#include "err.h"
#include "proto.h"
#include "tls.h"

#define NMSG	3

struct rx {
	struct event_base *base;
	json_t *got[NMSG + 1];
	int n;
	int err;		/* first channel_recv error other than AGAIN */
	int connected;		/* BEV_EVENT_CONNECTED seen */
	int failed;		/* BEV_EVENT_ERROR/EOF seen */
};

static void
rx_read_cb(struct bufferevent *bev, void *arg)
{
	struct rx *rx = arg;
	json_t *m;
	int r;

	while ((r = channel_recv(bev, &m)) == 0) {
		if (rx->n < NMSG + 1)
			rx->got[rx->n++] = m;
		else
			json_decref(m);
	}
	if (r != FTP_ERR_AGAIN)
		rx->err = r;
	if (rx->n >= NMSG || rx->err != 0)
		event_base_loopbreak(rx->base);
}

static void
rx_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct rx *rx = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED)
		rx->connected++;
	if (what & (BEV_EVENT_ERROR | BEV_EVENT_EOF)) {
		rx->failed = 1;
		event_base_loopbreak(rx->base);
	}
}

static void
rx_clear(struct rx *rx)
{
	int i;

	for (i = 0; i < rx->n; i++)
		json_decref(rx->got[i]);
	rx->n = 0;
}

/* Run the loop, bounded so a broken test fails instead of hanging. */
static void
run_loop(struct event_base *base)
{
	struct timeval tv = { 5, 0 };

	assert_int_equal(event_base_loopexit(base, &tv), 0);
	assert_int_equal(event_base_dispatch(base), 0);
}

/* libevent (and OpenSSL under it) needs non-blocking sockets. */
static void
make_pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(evutil_make_socket_nonblocking(sv[0]), 0);
	assert_int_equal(evutil_make_socket_nonblocking(sv[1]), 0);
}

static void
send_three(struct bufferevent *tx)
{
	int i;

	for (i = 0; i < NMSG; i++) {
		json_t *m = proto_msg_new("ping");

		assert_non_null(m);
		json_object_set_new(m, "seq", json_integer(i));
		assert_int_equal(channel_send(tx, m), 0);
		json_decref(m);
	}
}

static void
check_three(struct rx *rx)
{
	int i;

	assert_int_equal(rx->err, 0);
	assert_int_equal(rx->n, NMSG);
	for (i = 0; i < NMSG; i++) {
		assert_string_equal(proto_type(rx->got[i]), "ping");
		assert_int_equal(json_integer_value(json_object_get(
		    rx->got[i], "seq")), i);
	}
}

static void
test_plain_three(void **state)
{
	struct event_base *base = event_base_new();
	struct bufferevent *a, *b;
	struct rx rx = { 0 };
	json_t *m = NULL;
	int sv[2];

	(void)state;
	assert_non_null(base);
	make_pair(sv);
	a = bufferevent_socket_new(base, sv[0], BEV_OPT_CLOSE_ON_FREE);
	b = bufferevent_socket_new(base, sv[1], BEV_OPT_CLOSE_ON_FREE);
	assert_non_null(a);
	assert_non_null(b);
	rx.base = base;
	bufferevent_setcb(b, rx_read_cb, NULL, rx_event_cb, &rx);
	assert_int_equal(bufferevent_enable(b, EV_READ), 0);
	assert_int_equal(bufferevent_enable(a, EV_WRITE), 0);

	/* Nothing buffered yet. */
	assert_int_equal(channel_recv(b, &m), FTP_ERR_AGAIN);
	assert_null(m);
	send_three(a);
	run_loop(base);
	check_three(&rx);
	rx_clear(&rx);

	bufferevent_free(a);
	bufferevent_free(b);
	event_base_free(base);
}

static void
test_split_and_bad(void **state)
{
	struct event_base *base = event_base_new();
	struct bufferevent *b;
	struct evbuffer *in;
	json_t *m = NULL, *msg = proto_msg_new("pong");
	uint8_t *frame = NULL;
	size_t len;
	static const uint8_t big[4] = { 0x7f, 0, 0, 0 };
	static const uint8_t junk[] = { 0, 0, 0, 3, 'x', 'y', 'z' };

	(void)state;
	/* No socket needed: feed the input buffer directly, in pieces
	 * that cross evbuffer chains. */
	b = bufferevent_socket_new(base, -1, 0);
	assert_non_null(b);
	in = bufferevent_get_input(b);
	/* A bufferevent's input only takes data from its transport; open
	 * its end so the test can play the transport. */
	assert_int_equal(evbuffer_unfreeze(in, 0), 0);
	assert_int_equal(proto_encode(msg, &frame, &len), 0);
	assert_int_equal(evbuffer_add(in, frame, 2), 0);
	assert_int_equal(channel_recv(b, &m), FTP_ERR_AGAIN);
	assert_int_equal(evbuffer_add(in, frame + 2, 5), 0);
	assert_int_equal(channel_recv(b, &m), FTP_ERR_AGAIN);
	assert_int_equal(evbuffer_add(in, frame + 7, len - 7), 0);
	assert_int_equal(evbuffer_add(in, frame, 3), 0);
	assert_int_equal(channel_recv(b, &m), 0);
	assert_string_equal(proto_type(m), "pong");
	json_decref(m);
	m = NULL;
	/* The next frame's first bytes stay buffered. */
	assert_int_equal(evbuffer_get_length(in), 3);
	assert_int_equal(channel_recv(b, &m), FTP_ERR_AGAIN);
	evbuffer_drain(in, 3);

	assert_int_equal(evbuffer_add(in, big, sizeof(big)), 0);
	assert_int_equal(channel_recv(b, &m), FTP_ERR_TOOBIG);
	evbuffer_drain(in, evbuffer_get_length(in));
	assert_int_equal(evbuffer_add(in, junk, sizeof(junk)), 0);
	assert_int_equal(channel_recv(b, &m), FTP_ERR_PROTO);
	assert_null(m);

	/* A message without a type is refused by the sender. */
	json_object_del(msg, "type");
	assert_int_equal(channel_send(b, msg), FTP_ERR_INVAL);

	free(frame);
	json_decref(msg);
	bufferevent_free(b);
	event_base_free(base);
}

/* ---- TLS: a throw-away CA, server and client certificate ---- */

struct pki {
	char dir[64];
	char ca[128], scert[128], skey[128], ccert[128], ckey[128];
	char okey[128];		/* a key that matches no certificate */
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

static X509 *
make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *ikey,
    long serial, const char *san)
{
	X509 *c = X509_new();
	X509_NAME *name;

	assert_non_null(c);
	assert_int_equal(X509_set_version(c, 2), 1);
	ASN1_INTEGER_set(X509_get_serialNumber(c), serial);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(c), -3600));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(c), 3600));
	assert_int_equal(X509_set_pubkey(c, key), 1);
	name = X509_get_subject_name(c);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0), 1);
	assert_int_equal(X509_set_issuer_name(c, issuer != NULL ?
	    X509_get_subject_name(issuer) : name), 1);
	if (issuer == NULL) {
		add_ext(c, c, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(c, c, NID_key_usage, "critical,keyCertSign,cRLSign");
		add_ext(c, c, NID_subject_key_identifier, "hash");
	} else {
		add_ext(c, issuer, NID_basic_constraints, "CA:FALSE");
		add_ext(c, issuer, NID_subject_alt_name, san);
	}
	assert_true(X509_sign(c, ikey != NULL ? ikey : key, EVP_sha256()) > 0);
	return c;
}

static void
write_pem(const char *path, X509 *cert, EVP_PKEY *key)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	if (cert != NULL)
		assert_int_equal(PEM_write_X509(f, cert), 1);
	if (key != NULL)
		assert_int_equal(PEM_write_PrivateKey(f, key, NULL, NULL, 0,
		    NULL, NULL), 1);
	assert_int_equal(fclose(f), 0);
}

static int
pki_setup(void **state)
{
	struct pki *p = calloc(1, sizeof(*p));
	EVP_PKEY *cak, *sk, *ck, *ok;
	X509 *ca, *sc, *cc;

	if (p == NULL)
		return -1;
	snprintf(p->dir, sizeof(p->dir), "/tmp/ftpath-test-tls.XXXXXX");
	if (mkdtemp(p->dir) == NULL) {
		free(p);
		return -1;
	}
	snprintf(p->ca, sizeof(p->ca), "%s/ca.pem", p->dir);
	snprintf(p->scert, sizeof(p->scert), "%s/server.pem", p->dir);
	snprintf(p->skey, sizeof(p->skey), "%s/server.key", p->dir);
	snprintf(p->ccert, sizeof(p->ccert), "%s/client.pem", p->dir);
	snprintf(p->ckey, sizeof(p->ckey), "%s/client.key", p->dir);
	snprintf(p->okey, sizeof(p->okey), "%s/other.key", p->dir);
	cak = gen_key();
	sk = gen_key();
	ck = gen_key();
	ok = gen_key();
	ca = make_cert(cak, "ftpath test CA", NULL, NULL, 1, NULL);
	sc = make_cert(sk, "reflector.test", ca, cak, 2,
	    "DNS:reflector.test,IP:127.0.0.1");
	cc = make_cert(ck, "agent.test", ca, cak, 3, "DNS:agent.test");
	write_pem(p->ca, ca, NULL);
	write_pem(p->scert, sc, NULL);
	write_pem(p->skey, NULL, sk);
	write_pem(p->ccert, cc, NULL);
	write_pem(p->ckey, NULL, ck);
	write_pem(p->okey, NULL, ok);
	X509_free(ca);
	X509_free(sc);
	X509_free(cc);
	EVP_PKEY_free(cak);
	EVP_PKEY_free(sk);
	EVP_PKEY_free(ck);
	EVP_PKEY_free(ok);
	*state = p;
	return 0;
}

static int
pki_teardown(void **state)
{
	struct pki *p = *state;

	if (p == NULL)
		return 0;
	unlink(p->ca);
	unlink(p->scert);
	unlink(p->skey);
	unlink(p->ccert);
	unlink(p->ckey);
	unlink(p->okey);
	rmdir(p->dir);
	free(p);
	return 0;
}

static void
test_tls_ctx_errors(void **state)
{
	struct pki *p = *state;
	char err[512];
	SSL_CTX *ctx;

	ctx = tls_ctx_new(TLS_ROLE_SERVER, "/nonexistent/cert.pem", p->skey,
	    p->ca, err, sizeof(err));
	assert_null(ctx);
	assert_non_null(strstr(err, "/nonexistent/cert.pem"));

	ctx = tls_ctx_new(TLS_ROLE_SERVER, p->scert, p->okey, p->ca, err,
	    sizeof(err));
	assert_null(ctx);
	assert_non_null(strstr(err, p->okey));
	assert_non_null(strstr(err, "does not match"));

	ctx = tls_ctx_new(TLS_ROLE_CLIENT, p->ccert, p->ckey,
	    "/nonexistent/ca.pem", err, sizeof(err));
	assert_null(ctx);
	assert_non_null(strstr(err, "/nonexistent/ca.pem"));

	/* A key file is not a certificate. */
	ctx = tls_ctx_new(TLS_ROLE_CLIENT, p->ckey, p->ckey, p->ca, err,
	    sizeof(err));
	assert_null(ctx);
	assert_non_null(strstr(err, p->ckey));

	ctx = tls_ctx_new(TLS_ROLE_CLIENT, p->ccert, p->ckey, p->ca, err,
	    sizeof(err));
	assert_non_null(ctx);
	assert_int_equal(SSL_CTX_get_min_proto_version(ctx), TLS1_3_VERSION);
	SSL_CTX_free(ctx);
}

/*
 * Handshake over a socketpair; the server side receives NMSG messages.
 * Returns whether the handshake succeeded on the server side.
 */
static int
tls_pair(struct pki *p, const char *host, char *peer, size_t peerlen,
    int *client_verify)
{
	struct event_base *base = event_base_new();
	SSL_CTX *sctx, *cctx;
	SSL *sssl, *cssl;
	struct bufferevent *sb, *cb;
	struct rx srx = { 0 }, crx = { 0 };
	char err[512];
	int sv[2], ok;

	assert_non_null(base);
	sctx = tls_ctx_new(TLS_ROLE_SERVER, p->scert, p->skey, p->ca, err,
	    sizeof(err));
	if (sctx == NULL)
		fail_msg("server ctx: %s", err);
	cctx = tls_ctx_new(TLS_ROLE_CLIENT, p->ccert, p->ckey, p->ca, err,
	    sizeof(err));
	if (cctx == NULL)
		fail_msg("client ctx: %s", err);
	make_pair(sv);
	sssl = SSL_new(sctx);
	cssl = tls_client_ssl_new(cctx, host);
	assert_non_null(sssl);
	assert_non_null(cssl);
	/* BEV_OPT_CLOSE_ON_FREE: the bufferevent owns both fd and SSL. */
	sb = bufferevent_openssl_socket_new(base, sv[0], sssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	cb = bufferevent_openssl_socket_new(base, sv[1], cssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	assert_non_null(sb);
	assert_non_null(cb);
	srx.base = crx.base = base;
	bufferevent_setcb(sb, rx_read_cb, NULL, rx_event_cb, &srx);
	bufferevent_setcb(cb, rx_read_cb, NULL, rx_event_cb, &crx);
	bufferevent_enable(sb, EV_READ | EV_WRITE);
	bufferevent_enable(cb, EV_READ | EV_WRITE);
	/* Queued before the handshake; sent once it completes. */
	send_three(cb);
	run_loop(base);
	/* The client may have broken out first; let the server finish. */
	if (srx.n < NMSG && !srx.failed && !crx.failed)
		run_loop(base);

	ok = srx.connected > 0 && !srx.failed;
	if (ok) {
		check_three(&srx);
		assert_int_equal(SSL_version(sssl), TLS1_3_VERSION);
		tls_peer_name(sssl, peer, peerlen);
	} else {
		char buf[256];

		tls_last_error(cssl, buf, sizeof(buf));
		assert_true(strlen(buf) > 0);
	}
	*client_verify = (int)SSL_get_verify_result(cssl);
	rx_clear(&srx);
	rx_clear(&crx);
	bufferevent_free(sb);
	bufferevent_free(cb);
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
	event_base_free(base);
	return ok;
}

static void
test_tls_handshake(void **state)
{
	struct pki *p = *state;
	char peer[256] = "x";
	int vr = -1;

	assert_true(tls_pair(p, "127.0.0.1", peer, sizeof(peer), &vr));
	assert_int_equal(vr, X509_V_OK);
	/* The server sees who the client is. */
	assert_string_equal(peer, "agent.test");

	assert_true(tls_pair(p, "reflector.test", peer, sizeof(peer), &vr));
	assert_int_equal(vr, X509_V_OK);
}

static void
test_tls_wrong_host(void **state)
{
	struct pki *p = *state;
	char peer[256] = "";
	int vr = X509_V_OK;

	/* Pinning: the certificate is valid but for another address. */
	assert_false(tls_pair(p, "127.0.0.2", peer, sizeof(peer), &vr));
	assert_int_equal(vr, X509_V_ERR_IP_ADDRESS_MISMATCH);
	assert_false(tls_pair(p, "other.test", peer, sizeof(peer), &vr));
	assert_int_equal(vr, X509_V_ERR_HOSTNAME_MISMATCH);
}

int
main(void)
{
	const struct CMUnitTest plain[] = {
		cmocka_unit_test(test_plain_three),
		cmocka_unit_test(test_split_and_bad),
	};
	const struct CMUnitTest tls[] = {
		cmocka_unit_test(test_tls_ctx_errors),
		cmocka_unit_test(test_tls_handshake),
		cmocka_unit_test(test_tls_wrong_host),
	};
	int r;

	r = cmocka_run_group_tests_name("channel", plain, NULL, NULL);
	r += cmocka_run_group_tests_name("tls", tls, pki_setup,
	    pki_teardown);
	return r;
}
