/*
 * check.h - `ftpath-agent check`: pair with the reflector, probe every FTP
 * path in parallel, classify and report.
 */
#ifndef FTPATH_AGENT_CHECK_H
#define FTPATH_AGENT_CHECK_H

#include <stdint.h>
#include <stdio.h>

#include "addr.h"
#include "patch.h"

/* Exit codes of `check` (DESIGN.md, "Interfaces"). */
enum check_exit {
	CHECK_EXIT_PASS = 0,
	CHECK_EXIT_FAIL = 1,		/* some path fails; report printed */
	CHECK_EXIT_USAGE = 2,		/* usage or configuration error */
	CHECK_EXIT_UNREACHABLE = 3,	/* reflector unreachable / TLS / auth */
};

#define CHECK_DEFAULT_PORT	7021
#define CHECK_RTT_PINGS		5
#define CHECK_TIMEOUT_MIN_MS	250
#define CHECK_TIMEOUT_MAX_MS	5000

#define CHECK_MAX_SG	8u	/* --sg files */

struct report;

struct check_opts {
	const char *reflector;		/* HOST[:PORT] */
	const char *cert, *key, *ca;
	const char *crl;		/* --crl FILE: the reflector's checked */
	const char *server;		/* NULL: the reflector's host */
	uint16_t control_port;		/* 0: the reflector's, else 21 */
	struct portrange passive;	/* lo == 0: the reflector's range */
	int no_active;
	uint16_t active_port;		/* 0: ephemeral */
	unsigned timeout_ms;		/* 0: adaptive from the RTT */
	const char *json;		/* NULL, "-" (stdout) or a file */
	int no_color;
	/* the real FTP client after the probes (service.h) */
	int no_ftp_check;
	const char *ftp_user;		/* NULL: anonymous */
	const char *ftp_password;	/* NULL: ftpcheck's default */
	const char *ftp_path;		/* NULL: LIST */
	unsigned ftp_connections;	/* at once, for the limit; <= 1: no */
	const char *fix_out;		/* --fix-out DIR, or NULL */
	/* --fix-scope CIDR (NULL: none): the server fix's source network,
	 * parsed; it must contain the agent's observed address */
	const char *fix_scope;
	struct sockaddr_storage fix_net;
	unsigned fix_prefix;
	enum patch_style fix_style;	/* --fix-style; AUTO by default */
	const char *junit;		/* --junit FILE, or NULL */
	const char *html;		/* --html FILE, or NULL */
	/* watch (watch.h): no human report; the metrics of the check into
	 * this stream (NULL: none) */
	int quiet;
	FILE *metrics;
	const char *sg_files[CHECK_MAX_SG];	/* --sg FILE... */
	unsigned n_sg;
	unsigned idle_s;		/* --idle-test (idle.h); 0: off */
	int progress;			/* a status line on stderr (progress.h) */
	unsigned busy_wait_s;		/* --busy-wait (0: CHECK_BUSY_WAIT_S) */
	/* --apply (checkapply.h): load the verified local-rule patches,
	 * re-test, keep or roll back; the window in seconds (0: 30) and
	 * nft/apply.h's state directory (NULL: its default). */
	int apply;
	unsigned confirm_timeout;
	const char *state_dir;
	/*
	 * Set by checkapply.c for its re-test, never by the command line:
	 * only the probes the options name (passive.lo == 0: no passive
	 * test), the real FTP client's ftp_modes (FTPCHECK_MODE_BIT()s; 0:
	 * all) without FTPS, no ALG, MTU or traceroute stage; nothing
	 * printed or written, the classified report handed to *report_out.
	 */
	int retest;
	unsigned ftp_modes;
	struct report **report_out;
};

/* --busy-wait: how long a check waits, in all, for a busy reflector
 * (its "busy" answers); 0 in check_opts: the default. */
#define CHECK_BUSY_WAIT_S	300u
#define CHECK_BUSY_WAIT_MAX_S	3600u

/* Control connections opened at once (a GUI client's parallel ones). */
#define CHECK_FTP_CONNECTIONS		3
#define CHECK_MAX_FTP_CONNECTIONS	16u

/* Run one check; returns a check_exit code.  Prints the report. */
int check_run(const struct check_opts *o);

/* clamp(250 + 4 * rtt_max_ms, 250, 5000). */
unsigned check_adaptive_timeout(double rtt_max_ms);

#endif
