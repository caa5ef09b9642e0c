/*
 * check_int.h - the state of one `check` shared by its orchestration
 * (check.c), the stages of its armed session (checkstage.c) and its
 * evidence collection (collect.c).  Not for other modules: they use
 * check.h.
 */
#ifndef FTPATH_AGENT_CHECK_INT_H
#define FTPATH_AGENT_CHECK_INT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <event2/event.h>
#include <jansson.h>
#include <openssl/ssl.h>

#include "active.h"
#include "alg.h"
#include "check.h"
#include "control.h"
#include "ctrace.h"
#include "evidence.h"
#include "fixes.h"
#include "log.h"
#include "probe.h"
#include "progress.h"
#include "refobs.h"
#include "sg.h"
#include "srvcheck.h"
#include "traceroute.h"

#define CHECK_MAX_SERVER_ADDRS	16
/* Failing runs traced (one port each): every trace may cost a router
 * ICMP tokens, and Linux routers give a destination a burst of 6. */
#define CHECK_MAX_TRACES	3
/* Distinct failing observations looked at for a trace. */
#define CHECK_MAX_TRACE_GROUPS	16
/* Control channel connects (a new source port each) and their deadline. */
#define CHECK_CONNECT_ATTEMPTS	3
#define CHECK_CONNECT_DEADLINE_MS	8000u
/* A reflector over its handshake budget resets a connection before TLS
 * or closes a handshake without an alert: check_hello backs off 2, 4, 8,
 * 16, then 32 times this (plus jitter) and tries again within
 * --busy-wait; a handshake closed early counts so only this many times
 * in a row (a certificate problem has its alert). */
#define CHECK_CONNECT_RESETS		4u
#define CHECK_CONNECT_BACKOFF_MS	125u

/* How old a silent probe's socket gets before an unexplained silence is
 * judged: neighbour resolution gives up after 3 s (3 probes, 1 s apart). */
#define CHECK_LATE_WINDOW_MS	3500
/* Late ICMP kept (probe.h PROBE_MAX_LATE sockets are watched). */
#define CHECK_MAX_LATE		PROBE_MAX_LATE

/* Probes with the same observation share one trace, of the first. */
struct check_trace {
	struct probe_obs first;
	struct traceroute *tr;		/* NULL: not traced */
};

struct check {
	const struct check_opts *o;
	struct timespec t0;
	char host[256];			/* reflector host */
	uint16_t rport;
	char server_name[256];
	uint16_t cport;			/* FTP control port probed */
	struct portrange passive;	/* lo == 0: passive not tested */
	SSL_CTX *ctx;
	struct event_base *base;
	struct progress *prog;		/* the terminal's status line */
	struct control *ctl;
	struct probe_engine *pe;
	struct active *act;
	struct ctrace *ct;		/* the agent host's own nft trace */
	struct control_welcome w;
	struct control_rtt rtt;
	struct session_facts f;
	json_t *notes;			/* strings, added to the report */
	int lost;			/* control channel lost mid-session */
	struct ftpcheck_result *svc;	/* the real FTP client, or NULL */
	struct alg_obs *alg;		/* the ALG test, or NULL */
	struct check_trace traces[CHECK_MAX_TRACE_GROUPS];
	size_t n_groups, n_traced;
	int ct_merged;			/* ctrace read before the traceroute */
	struct srvcheck *sc;		/* the server host's own facts */
	/* The evidence handed to classify() (check_evidence()); the probes
	 * are the engine's own array (pe outlives the report). */
	const struct probe_obs *ev_probes;
	size_t n_ev_probes;
	struct probe_obs ev_active;
	struct evidence_trace *ev_traces;
	size_t n_ev_traces;
	const char **ev_notes;
	struct evidence_late_icmp late[CHECK_MAX_LATE];
	size_t n_late;
	struct evidence_channel channel;
	struct fixes *fx;		/* checked patches (fixes.h) */
	struct sg *sgs[CHECK_MAX_SG];	/* --sg files, read at start */
	size_t n_sgs;
	struct refobs ro;		/* check_refobs() */
	struct mtu_obs *mtu;		/* the MTU test (mtu.h), or NULL */
	struct idle_obs *idle;		/* --idle-test (idle.h), or NULL */
};


/* ---- check.c: for the stages (checkstage.h) ---- */

/* A note for the report (added to c->notes), logged at debug level. */
void check_note(struct check *c, const char *fmt, ...) LOG_FMT(2, 3);
/* Where the reflector's messages are decoded into (refobs.h): c->ro,
 * pointed at this check's engine, fixes, control port and notes. */
struct refobs *check_refobs(struct check *c);

/* ---- collect.c: the later stages' evidence ---- */

/* The name --server gave, as this host resolves it (srvcheck.h). */
void check_server_name(struct check *c);
/* TCP traceroutes of failing runs, after bye (traceroute.h). */
void check_traceroute_start(struct check *c);
void check_traceroute_wait(struct check *c);
/* Wait, only for an unexplained silence, for late ICMP (probe.h). */
void check_late_wait(struct check *c);
/* Everything the stages observed, frozen for classify().  0 or
 * FTP_ERR_NOMEM. */
int check_evidence(struct check *c, struct evidence *e);

/* ---- checkapply.c: --apply, once rep holds the verdicts ---- */

/*
 * Load the verified local-rule patches of rep on both hosts, re-test
 * the failing paths, keep or roll back each host's patch, and record
 * it all in rep (report_set_apply).  Returns 1 when every failing path
 * passes with the patches kept (check exits 0), 0 when not, -1 when
 * nothing was loaded (the exit status is the check's own).
 */
int checkapply_run(struct check *c, struct report *rep);

#endif
