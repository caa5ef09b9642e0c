/*
 * alg.h - the ALG test's verdicts (DESIGN.md "ALG", PROTOCOL.md "ALG
 * dialogue"): what an FTP ALG on the path did to the dialogue, and
 * whether active mode works only through its pinhole.
 *
 * Pure: algrun.c fills struct alg_obs with what both ends sent and
 * received in each dialogue; alg_classify() compares the four exchanges
 * an ALG rewrites (PORT and EPRT agent -> reflector, 227 and 229 back)
 * and the two dialogues (A/B: an FTP ALG rewrites only the control
 * port's, a generic payload rewriter both), alg_json() builds the
 * report's "alg" object and alg_print() its human section.  Whether the
 * active path works only through the ALG's pinhole is the classifier's
 * to decide (classify_helper.c), from alg_obs.  Unit-tested.
 */
#ifndef FTPATH_AGENT_ALG_H
#define FTPATH_AGENT_ALG_H

#include <stdio.h>
#include <sys/socket.h>
#include <jansson.h>

#include "verdict.h"

/* Bytes of one transcript (each end, each direction). */
#define ALG_MAX_BYTES	4096
#define ALG_TEXT_MAX	160

enum alg_xchg {
	ALG_X_PORT,		/* agent -> reflector */
	ALG_X_EPRT,
	ALG_X_227,		/* reflector -> agent */
	ALG_X_229,
	ALG_NX,
};

/* Worst first is the larger value (the overall class is the maximum). */
enum alg_class {
	ALG_NOT_SENT,		/* not part of the dialogue (PORT/227 on IPv6) */
	ALG_UNTOUCHED,		/* received exactly as sent */
	ALG_MISSING,		/* sent, never received (dialogue cut short) */
	ALG_REWRITTEN_PORT,	/* same address (229: none), other text */
	ALG_REWRITTEN_OBSERVED,	/* address rewritten to the right public one */
	ALG_REWRITTEN_WRONG,	/* rewritten to an address neither sent nor
				   observed (e.g. double NAT) */
	ALG_MANGLED,		/* received but not parseable any more */
};

/* The dialogues: on the FTP control port, and the same bytes on a port
 * that is not one (the first passive port), where no FTP ALG looks. */
enum alg_dlg_id {
	ALG_D_CONTROL,
	ALG_D_OTHER,
	ALG_ND,
};

/* One dialogue as both ends saw it. */
struct alg_dlg {
	int tested;
	char reason[160];		/* why not, when !tested */
	uint16_t port;			/* the server port of the dialogue */
	/* Transcripts after the probe line and its ack, exact bytes. */
	char a_sent[ALG_MAX_BYTES], a_recv[ALG_MAX_BYTES];
	size_t a_sent_len, a_recv_len;
	char r_sent[ALG_MAX_BYTES], r_recv[ALG_MAX_BYTES];
	size_t r_sent_len, r_recv_len;
	int have_reflector;		/* the reflector's record decoded */
	char r_state[16];		/* its "state" */
	char dialogue_error[160];	/* agent side, "" if it ran to QUIT */
};

struct alg_obs {
	struct alg_dlg d[ALG_ND];	/* d[ALG_D_CONTROL].tested: the test
					   ran at all */
	/* The right address of each direction after NAT. */
	struct sockaddr_storage client_public;	/* observed (welcome) */
	struct sockaddr_storage server_public;	/* the address dialled */
	/* The connect-back to the PORT address as received (control port's
	 * dialogue only). */
	int active_tested;
	char active_skip[160];		/* why not, when !active_tested */
	int active_ok;			/* reflector connected, we acked */
	char active_refused[256];	/* reflector's refusal, "" if none */
	char active_error[32];		/* errno name, "" if none */
	char active_target[ADDR_STRLEN];	/* "addr:port" or "" */
	unsigned active_ms;
	uint16_t listen_port;		/* our listener named in PORT/EPRT */
};

struct alg_x {
	enum alg_class cls;
	char sent[ALG_TEXT_MAX];	/* escaped line, "" if none */
	char received[ALG_TEXT_MAX];
};

/* What the A/B says rewrote the control port's dialogue. */
enum alg_ab {
	ALG_AB_NOT_TESTED,	/* no dialogue on the other port */
	ALG_AB_NONE,		/* both untouched */
	ALG_AB_FTP_ALG,		/* only the control port's: an FTP ALG keyed
				   on the control port */
	ALG_AB_GENERIC,		/* both: a payload rewriter on every port */
	ALG_AB_OTHER_ONLY,	/* only the other port's */
	ALG_AB_INCONCLUSIVE,	/* a dialogue was cut short */
};

/* One dialogue's exchanges and its worst class. */
struct alg_dres {
	enum alg_class cls;
	struct alg_x x[ALG_NX];
};

struct alg_result {
	struct alg_dres d[ALG_ND];
	enum alg_ab ab;
	int rewrite;			/* cause alg-rewrite */
	int rewrite_fails;		/* ... as a failure, not a warning */
};

void alg_classify(const struct alg_obs *o, struct alg_result *r);

/* "untouched", "rewritten-to-observed", ... */
const char *alg_class_name(enum alg_class c);
/* "not-tested", "none", "ftp-alg", "generic", "other-port-only",
 * "inconclusive" */
const char *alg_ab_name(enum alg_ab ab);
/* "PORT", "EPRT", "227", "229" */
const char *alg_xchg_name(enum alg_xchg x);

/* The report's "alg" object (new reference; NULL on ENOMEM). */
json_t *alg_json(const struct alg_obs *o, const struct alg_result *r);

/* The evidence sentence of cause alg-rewrite (both versions of every
 * rewritten exchange, and what the A/B says). */
void alg_rewrite_evidence(const struct alg_obs *o,
    const struct alg_result *r, char *buf, size_t len);

/* The human section, from the observation and its classes (never from
 * the JSON); nothing when not tested. */
void alg_print(const struct alg_obs *o, const struct alg_result *r,
    FILE *out, int color);

#endif
