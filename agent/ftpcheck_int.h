/*
 * ftpcheck_int.h - what the parts of the real FTP client share (not for
 * other modules; the interface is ftpcheck.h).
 *
 * ftpcheck.c runs the session: the control connection's state machine.
 * ftpcheck_mode.c (ftpcheck_mode.h) runs the data modes: each mode's
 * command, its data connection and the transfer.  ftpcheck_tls.c holds
 * everything TLS: AUTH TLS and the certificate, and the FTPS data
 * connections.  ftpcheck_reply.c holds the pure parsers and formatters.
 */
#ifndef FTPATH_AGENT_FTPCHECK_INT_H
#define FTPATH_AGENT_FTPCHECK_INT_H

#include <time.h>
#include <sys/socket.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "ftpcheck.h"
#include "log.h"

#define FTPCHECK_ARG_MAX	512	/* user, password, path */

enum ftpcheck_state {
	FC_IDLE,
	FC_CONNECT,
	FC_BANNER,
	FC_USER,
	FC_PASS,
	FC_TYPE,
	FC_MODE,		/* reply to PASV/EPSV/PORT/EPRT */
	FC_DATA_CONNECT,	/* passive data connect in flight */
	FC_XFER,		/* RETR/LIST sent: replies + data */
	FC_QUIT,
	FC_AUTH,
	FC_HANDSHAKE,
	FC_PBSZ,		/* FTPS: PBSZ 0 sent */
	FC_PROT,		/* FTPS: PROT P sent */
	FC_DONE,
};

struct ftpcheck {
	struct event_base *base;
	struct sockaddr_storage server;
	char *user, *password, *path, *server_name;
	unsigned modes;
	unsigned timeout_ms;
	unsigned data_timeout_ms;	/* FC_DATA_CONNECT's bound */
	int tls;
	void (*done_cb)(void *);
	void *done_arg;

	enum ftpcheck_state state;
	int tls_session;		/* this control connection is for AUTH TLS */
	int opening;			/* inside bufferevent_socket_connect() */
	int cur;			/* mode being run, -1 before the first */
	struct bufferevent *bev;
	unsigned gen;			/* bumped when bev is replaced or freed */
	struct ftpcheck_rparser rp;
	unsigned nreplies;
	struct event *timer;
	int data_fd;
	struct event *data_ev;
	struct evconnlistener *lst;
	SSL_CTX *ssl_ctx;
	SSL *data_ssl;			/* FTPS: on data_fd, NULL otherwise */
	struct timespec t0, tmode;
	struct ftpcheck_result res;
	int done;
};


/* ftpcheck.c: the session, for the data modes and the TLS part. */
void ftpcheck_wait(struct ftpcheck *fc, enum ftpcheck_state st);
void ftpcheck_session_end(struct ftpcheck *fc, const char *why, ...)
    LOG_FMT(2, 3);
/* One command line (CRLF added) queued on the control connection. */
void ftpcheck_send(struct ftpcheck *fc, const char *fmt, ...) LOG_FMT(2, 3);
/* The control connection is TLS now: log in again over it (FTPS). */
void ftpcheck_tls_ready(struct ftpcheck *fc);
/* The mode being run (the FTPS one in the TLS session), or NULL. */
struct ftpcheck_data *ftpcheck_cur(struct ftpcheck *fc);

/* ftpcheck_mode.c: the data socket, for the TLS part. */
/* Watch data_fd for what (EV_READ|EV_PERSIST, EV_WRITE).  0 or NOMEM. */
int ftpcheck_data_watch(struct ftpcheck *fc, short what);

/* ftpcheck_tls.c */
/* After 234: the handshake on the control connection (FC_HANDSHAKE). */
void ftpcheck_tls_begin(struct ftpcheck *fc);
/* What the TLS part holds (the client context). */
void ftpcheck_tls_free(struct ftpcheck *fc);
/*
 * FTPS: make data_fd (connected) a TLS client that resumes the control
 * connection's session, and start its handshake.  As
 * ftpcheck_data_tls_io(): 1, 0 (everything already came: a server that
 * waits for our close before its final reply must not wait in vain) or
 * a negative FTP_ERR_* with the current mode's tls_error set.
 */
int ftpcheck_data_tls_start(struct ftpcheck *fc);
/*
 * FTPS: data_fd is ready: drive the handshake, then read (bytes counted
 * into the current mode).  1 while more is to come (the watch is set),
 * 0 at the end of the data, or a negative FTP_ERR_* (tls_error and
 * data_err set).
 */
int ftpcheck_data_tls_io(struct ftpcheck *fc);
/* FTPS: free data_ssl (before data_fd is closed). */
void ftpcheck_data_tls_close(struct ftpcheck *fc);

#endif
