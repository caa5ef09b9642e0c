/*
 * applymsg.h - the control messages of `check --apply` (PROTOCOL.md
 * "Apply"): pure encoders and decoders, no I/O, so unit tests and
 * fuzzers call them directly.
 *
 *   apply-request  {session, fixes, confirm_timeout_s}   agent -> reflector
 *   apply-result   {state, reason, identical, added,
 *                   confirm_timeout_s}                    reflector -> agent
 *   apply-confirm  {} / apply-rollback {}                 agent -> reflector
 *
 * A request names only WHICH of the reflector's own derived fixes to
 * load: the token of the session whose trace derived them and, per fix,
 * the trace record it came in (a "traces" run by its ports, or the
 * active connect-back's record).  It never carries patch text: the
 * decoder refuses any key it does not know, so text cannot ride along.
 *
 * Decoders validate every field, set the output only on success and say
 * what is wrong in err.  Errors: 0, FTP_ERR_INVAL (malformed), or
 * FTP_ERR_NOMEM (encoders: NULL).
 */
#ifndef FTPATH_APPLYMSG_H
#define FTPATH_APPLYMSG_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "proto.h"

#define APPLYMSG_MAX_FIXES	16
#define APPLYMSG_TIMEOUT_MAX	600u	/* seconds a reflector keeps a window */
#define APPLYMSG_REASON_MAX	512
#define APPLYMSG_ADDED_MAX	32	/* "added" lines kept */
#define APPLYMSG_LINE_MAX	160

enum applymsg_record {
	APPLYMSG_TRACES,	/* observations.traces[] run: ports lo-hi */
	APPLYMSG_ACTIVE,	/* active-result.record */
};

struct applymsg_fixref {
	enum applymsg_record record;
	uint16_t lo, hi;	/* APPLYMSG_TRACES: within the run's ports */
};

struct applymsg_request {
	char session[PROTO_TOKEN_HEXLEN + 1];	/* lowercase hex */
	struct applymsg_fixref fixes[APPLYMSG_MAX_FIXES];
	size_t n_fixes;				/* 1..APPLYMSG_MAX_FIXES */
	unsigned confirm_timeout_s;		/* 1..APPLYMSG_TIMEOUT_MAX */
};

enum applymsg_state {
	APPLYMSG_APPLIED,	/* loaded, waiting for confirm or rollback */
	APPLYMSG_REFUSED,	/* nothing loaded: policy or state (reason) */
	APPLYMSG_REJECTED,	/* nothing loaded: the kernel rejected it */
	APPLYMSG_KEPT,		/* confirmed in time */
	APPLYMSG_ROLLED_BACK,	/* undone (identical: listing as before) */
	APPLYMSG_FAILED,	/* the rollback failed: state needs a look */
	APPLYMSG_NSTATES
};

struct applymsg_result {
	enum applymsg_state state;
	char reason[APPLYMSG_REASON_MAX];	/* "" for none */
	int identical;		/* rolled-back: 1/0; -1 not known */
	/* applied: what the load created, one line per item
	 * ("rule inet filter input handle 9") */
	char added[APPLYMSG_ADDED_MAX][APPLYMSG_LINE_MAX];
	size_t n_added;
	unsigned confirm_timeout_s;	/* applied: the window granted */
};

/* "applied", "refused", ...; NULL out of range. */
const char *applymsg_state_name(enum applymsg_state s);

json_t *applymsg_request_encode(const struct applymsg_request *r);
int applymsg_request_decode(const json_t *msg, struct applymsg_request *out,
    char *err, size_t errlen);

json_t *applymsg_result_encode(const struct applymsg_result *r);
int applymsg_result_decode(const json_t *msg, struct applymsg_result *out,
    char *err, size_t errlen);

/* {"v":1,"type":"apply-confirm"} or "apply-rollback" (keep 1 / 0). */
json_t *applymsg_decision_encode(int keep);

#endif
