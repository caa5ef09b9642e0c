/*
 * ftpcheck.h - a real FTP session through the path: banner, login, a
 * transfer in each data mode (EPSV, PASV, EPRT, PORT) and, optionally,
 * AUTH TLS with a look at the server's certificate.
 *
 * The probes (probe.h) say whether packets get through; this says what the
 * FTP service itself does with them: a 421 banner (service-refused), a 227
 * address the client cannot reach (pasv-address), a PORT the server
 * refuses or a data connection that never arrives (alg-*, active path).
 *
 * Everything runs non-blocking on the caller's event_base; every wait
 * (connect, reply, data, handshake) is bounded by opts.timeout_ms.  The
 * check connects only to `server` and to the address a 227 names (a 229
 * carries only a port, which is used with the control connection's peer);
 * active mode listens on the control connection's local address, port 0.
 *
 * Usage: ftpcheck_new() -> ftpcheck_start() -> pump the loop until
 * ftpcheck_done() (or opts.done_cb fires) -> read ftpcheck_result() ->
 * ftpcheck_free().
 *
 * Order: one plain control connection runs banner, USER/PASS, TYPE I and
 * then each selected mode (EPSV, PASV, EPRT, PORT; PASV/PORT only over
 * IPv4), each with RETR opts.path (or LIST /), then QUIT.  With opts.tls
 * a second connection follows: banner, AUTH TLS, handshake; after a plain
 * login worked, the same session again over TLS (res.ftps): USER/PASS,
 * PBSZ 0, PROT P, TYPE I and each mode the plain session attempted, every
 * data connection a TLS client that resumes the control connection's
 * session (servers may insist: vsftpd's require_ssl_reuse), then QUIT.
 * Nothing is verified: the certificate is recorded (res.tls).  A timeout
 * while the server owes a reply ends that session there (res.aborted or
 * res.ftps.aborted says why; later modes stay unattempted).  The transfer
 * is bounded by one timeout_ms, so opts.path should name a small file.
 *
 * The process must ignore SIGPIPE: a server may close the control
 * connection while a command is being written.
 *
 * The parsers and formatters at the end do no I/O (unit tests call them).
 */
#ifndef FTPATH_AGENT_FTPCHECK_H
#define FTPATH_AGENT_FTPCHECK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <event2/event.h>

#include "errq.h"

#define FTPCHECK_LINE_MAX	1024	/* one reply line, without CRLF */
#define FTPCHECK_TEXT_MAX	1024	/* a whole reply as kept (truncated) */
#define FTPCHECK_REPLY_LINES_MAX 128	/* lines of one multi-line reply */
#define FTPCHECK_REPLIES_MAX	64	/* replies per control connection */
#define FTPCHECK_CMD_MAX	128
#define FTPCHECK_TIMEOUT_MS	5000	/* default per-wait bound */

/* Data modes, in the order they run (passive first: an active failure
 * may leave the server busy connecting and end the session). */
enum ftpcheck_mode {
	FTPCHECK_EPSV,
	FTPCHECK_PASV,
	FTPCHECK_EPRT,
	FTPCHECK_PORT,
	FTPCHECK_NMODES
};
#define FTPCHECK_MODE_BIT(m)	(1u << (m))
#define FTPCHECK_MODES_ALL	((1u << FTPCHECK_NMODES) - 1)

/* One reply; code 0 = none received. */
struct ftpcheck_reply {
	int code;
	unsigned nlines;
	int truncated;			/* text cut at FTPCHECK_TEXT_MAX */
	int timed_out;			/* waited timeout_ms, nothing came */
	char text[FTPCHECK_TEXT_MAX];	/* lines joined by '\n', no CR/LF */
};

/* One data mode's attempt. */
struct ftpcheck_data {
	int attempted;
	char skipped[64];		/* why not attempted ("" if it was) */
	char cmd[FTPCHECK_CMD_MAX];	/* PASV / EPSV / the PORT/EPRT line sent */
	struct ftpcheck_reply reply;	/* to cmd: 227/229/200/500... */
	/* passive: the address the reply advertises (229: control peer). */
	int adv_ok;			/* reply parsed */
	struct sockaddr_storage adv;
	int adv_differs;		/* adv address != the address dialled */
	int adv_private;		/* adv is RFC 1918/6598/loopback/link-local */
	/* active: where we listened (the control connection's local addr). */
	struct sockaddr_storage listen;
	/* the data connection */
	int connected;
	struct sockaddr_storage peer;	/* active: who connected to us */
	int peer_is_server;		/* peer address == control peer address */
	int data_err;			/* errno of a failed connect/read, or 0 */
	int data_timed_out;
	struct errq_icmp icmp;		/* ICMP on the data socket (passive) */
	uint64_t bytes;
	int data_eof;			/* the server closed after sending */
	struct ftpcheck_reply xfer;	/* first reply to RETR/LIST (150/425/550) */
	struct ftpcheck_reply done;	/* final reply (226/425/426) if 1xx first */
	/* FTPS only (res.ftps): the data connection's TLS handshake */
	int tls_ok;			/* completed */
	int tls_resumed;		/* resumed the control connection's session */
	char tls_error[160];		/* why it failed ("" if it did not) */
	int ok;				/* 2xx final, data connected and EOF */
	unsigned elapsed_ms;
};

struct ftpcheck_tls {
	int attempted;
	/* to AUTH TLS: 234 / 500 / 530; or the banner if it was not 2xx */
	struct ftpcheck_reply reply;
	int handshake_ok;
	char handshake_error[256];	/* also: connect/banner/AUTH failure */
	char version[16];
	char cipher[64];
	int have_cert;
	char subject[256];
	char issuer[256];
	char sans[512];			/* "DNS:a, IP:192.0.2.1" */
	char not_after[32];
	int self_signed;
	int expired;
	int not_yet_valid;
	int name_checked_against_ip;	/* name_match checked an IP literal */
	int name_match;			/* SAN/CN matches opts.server_name */
	long verify_code;		/* X509_V_* against the system store */
	char verify_error[128];
};

/* The session over TLS (PROT P), after AUTH TLS worked: the plain
 * session's modes again, each data connection TLS-wrapped. */
struct ftpcheck_ftps {
	int attempted;			/* login over TLS tried */
	struct ftpcheck_reply user;	/* 331 / 230 / 530 */
	struct ftpcheck_reply pass;
	int logged_in;
	struct ftpcheck_reply pbsz;	/* to PBSZ 0 */
	struct ftpcheck_reply prot;	/* to PROT P */
	int prot_ok;			/* PROT P accepted: data goes over TLS */
	struct ftpcheck_data mode[FTPCHECK_NMODES];
	char aborted[256];		/* why it ended early ("" if at QUIT) */
};

/* Simultaneous control connections (ftpconns.h). */
struct ftpcheck_conns {
	unsigned tried;			/* 0: not tested */
	unsigned greeted;		/* answered 2xx */
	unsigned refused;		/* answered 4xx (421) */
	unsigned failed;		/* no connection or no banner */
	unsigned first_refused;		/* 1-based, 0 if none */
	struct ftpcheck_reply refusal;	/* the first 4xx banner */
};

struct ftpcheck_result {
	/* control connection */
	int control_connected;
	int control_err;		/* errno if the control connect failed */
	int control_timed_out;
	struct errq_icmp control_icmp;
	struct sockaddr_storage control_local;	/* as our socket shows it */
	struct sockaddr_storage control_peer;
	struct ftpcheck_reply banner;	/* 220, or 421 + text */
	struct ftpcheck_reply user;	/* 331 / 230 / 530 */
	struct ftpcheck_reply pass;	/* 230 / 530 */
	int logged_in;
	struct ftpcheck_data mode[FTPCHECK_NMODES];
	struct ftpcheck_tls tls;
	struct ftpcheck_ftps ftps;
	/* why the session ended early ("" if it ran to QUIT) */
	char aborted[256];
	unsigned elapsed_ms;
	/* filled by the caller's connection-limit test, if it ran */
	struct ftpcheck_conns conns;
};

struct ftpcheck_opts {
	const char *user;		/* NULL: "anonymous" */
	const char *password;		/* NULL: "ftpath@" */
	const char *path;		/* NULL: LIST of "/"; else RETR path */
	const char *server_name;	/* for the cert check; NULL: the address */
	unsigned modes;			/* FTPCHECK_MODE_BIT()s; 0: all */
	unsigned timeout_ms;		/* per wait; 0: FTPCHECK_TIMEOUT_MS */
	/* The wait for a passive data connection to be accepted; 0:
	 * timeout_ms.  The probes have measured the path by then: a caller
	 * passes their timeout, and a dropped passive port costs the real
	 * client no more than it cost them. */
	unsigned data_timeout_ms;
	int tls;			/* also try AUTH TLS (second connection) */
	/* optional: called exactly once when done (possibly from inside
	 * ftpcheck_start()); it must not free the ftpcheck. */
	void (*done_cb)(void *arg);
	void *done_arg;
};

struct ftpcheck;

/* server (with the control port) and opts' strings are copied.  NULL on
 * ENOMEM or an invalid argument (errno EINVAL, e.g. a CR/LF in user). */
struct ftpcheck *ftpcheck_new(struct event_base *base,
    const struct sockaddr *server, const struct ftpcheck_opts *opts);
void ftpcheck_free(struct ftpcheck *fc);

/* Open the control connection.  0, or a negative FTP_ERR_* (then done). */
int ftpcheck_start(struct ftpcheck *fc);
/* 1 once the session(s) ended, successfully or not. */
int ftpcheck_done(const struct ftpcheck *fc);
const struct ftpcheck_result *ftpcheck_result(const struct ftpcheck *fc);

/* "EPSV" / "PASV" / "EPRT" / "PORT". */
const char *ftpcheck_mode_name(enum ftpcheck_mode m);

/* --- pure parts --- */

/* Reply reassembly, one line (without CRLF) at a time. */
struct ftpcheck_rparser {
	int in_multi;			/* inside "ddd-" ... "ddd " */
	struct ftpcheck_reply cur;
};
void ftpcheck_rparser_init(struct ftpcheck_rparser *p);
/*
 * Feed one line.  Returns 1 when it completed a reply (copied to *out and
 * the parser reset), 0 when more lines are needed, FTP_ERR_PROTO for a line
 * that is not a reply start outside a multi-line reply, FTP_ERR_TOOBIG for
 * a line over FTPCHECK_LINE_MAX or more than FTPCHECK_REPLY_LINES_MAX lines.
 */
int ftpcheck_rparser_feed(struct ftpcheck_rparser *p, const char *line,
    size_t len, struct ftpcheck_reply *out);

/*
 * One complete reply from the start of buf (CRLF or LF line ends).
 * Returns 1 and sets *used and *out, 0 if buf ends before the reply does,
 * or the negative error of ftpcheck_rparser_feed().
 */
int ftpcheck_reply_parse(const char *buf, size_t len, size_t *used,
    struct ftpcheck_reply *out);

/* The first "h1,h2,h3,h4,p1,p2" anywhere in a 227 reply's text (after the
 * code); parentheses optional.  0 (out: AF_INET, port set) or FTP_ERR_INVAL. */
int ftpcheck_parse_227(const char *text, struct sockaddr_in *out);

/* The port of "(|||port|)" (any delimiter, RFC 2428) in a 229 reply.
 * 0 or FTP_ERR_INVAL. */
int ftpcheck_parse_229(const char *text, uint16_t *port);

/* "PORT h1,h2,h3,h4,p1,p2" for an AF_INET address (v4-mapped v6 too).
 * 0, FTP_ERR_INVAL (not IPv4) or FTP_ERR_TOOBIG. */
int ftpcheck_format_port(const struct sockaddr *sa, char *buf, size_t len);

/* "EPRT |1|192.0.2.1|port|" / "EPRT |2|2001:db8::1|port|" (no scope).
 * 0, FTP_ERR_INVAL or FTP_ERR_TOOBIG. */
int ftpcheck_format_eprt(const struct sockaddr *sa, char *buf, size_t len);

/* 1 for addresses a remote client cannot normally reach: RFC 1918,
 * 100.64/10, loopback, link-local, unspecified (v4 and v6 ULA/LL). */
int ftpcheck_addr_private(const struct sockaddr *sa);

#endif
