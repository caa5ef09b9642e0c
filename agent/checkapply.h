/*
 * checkapply.h - `check --apply`: what it did and what its re-test saw,
 * as the report's "apply" section (report_set_apply, report_apply.c).
 *
 * The flow (checkapply.c, after the classifier's verdict exists): only
 * the verified patches of causes the classifier named are loaded — the
 * agent host's (client-local-rule, agent/fixes.c) here with nft/apply.h,
 * the server host's (server-local-rule) by the reflector, which loads
 * only the fixes it derived itself from its own trace (apply-request
 * names them by trace record, PROTOCOL.md "Apply"), and only with
 * allow_apply = yes.  Each side saves its prior state and loads its
 * patch as one transaction, with a watchdog that rolls back by itself
 * at the deadline (--confirm-timeout) or when the applier goes (the
 * agent killed, the control channel dropped).  Then the failing paths
 * are checked again: a second, smaller run of the same check (the same
 * probe and real-FTP-client code, only the failing ports and the FTP
 * modes that failed or use them; no ALG, MTU, traceroute), classified
 * by the same classifier.  A host's patch is kept when every failing
 * path whose cause is that host's rule passes in the re-test, else it
 * is rolled back at once.
 *
 * These are observations (like the ALG dialogue), not verdicts: the
 * "after" of a path is the re-test report's own verdict for its ports.
 */
#ifndef FTPATH_AGENT_CHECKAPPLY_H
#define FTPATH_AGENT_CHECKAPPLY_H

#include <stddef.h>
#include <stdint.h>

#include "verdict.h"

#define CHECKAPPLY_MAX_PATHS	32
#define CHECKAPPLY_MAX_ADDED	16
#define CHECKAPPLY_LINE		160
#define CHECKAPPLY_REASON	512

/* Fault injection for tests: "hold" keeps the confirm window open (the
 * agent sleeps up to the deadline) once the patches are loaded, so that
 * a test can kill the agent inside it (tests/netns: apply-kill). */
#define CHECKAPPLY_FAULT_ENV	"FTPATH_CHECKAPPLY_FAULT"

enum checkapply_host {
	CHECKAPPLY_CLIENT,	/* the agent's host */
	CHECKAPPLY_SERVER,	/* the FTP server's host (the reflector) */
	CHECKAPPLY_NHOSTS
};

enum checkapply_state {
	CHECKAPPLY_NONE,	/* no patch for this host */
	CHECKAPPLY_REFUSED,	/* not loaded: policy or state (reason) */
	CHECKAPPLY_REJECTED,	/* not loaded: the kernel rejected it */
	CHECKAPPLY_KEPT,	/* loaded, re-test passed, confirmed */
	CHECKAPPLY_ROLLED_BACK,	/* loaded and undone (reason) */
	CHECKAPPLY_FAILED,	/* loaded; the undo failed or is not known */
};

struct checkapply_hostobs {
	enum checkapply_state state;
	char reason[CHECKAPPLY_REASON];	/* "" for none */
	int identical;		/* rolled back: listing as before 1/0; -1 */
	char added[CHECKAPPLY_MAX_ADDED][CHECKAPPLY_LINE];
	size_t n_added;
};

/* One failing path (a run of the report) before and after. */
struct checkapply_path {
	enum probe_kind kind;
	uint16_t lo, hi;
	enum cause cause;	/* the classifier's, before */
	int host;		/* enum checkapply_host whose patch answers
				   it, -1: none (not a local rule) */
	int after;		/* 1 passes, 0 fails, -1 not re-tested */
	unsigned after_failed;	/* ports failing in the re-test */
	enum cause after_cause;	/* the re-test's cause of the first */
};

struct checkapply_obs {
	unsigned confirm_timeout_s;
	struct checkapply_hostobs host[CHECKAPPLY_NHOSTS];
	int retested;		/* the re-test ran and was classified */
	char retest_error[CHECKAPPLY_REASON];	/* why not, or "" */
	unsigned retest_ms;
	struct checkapply_path paths[CHECKAPPLY_MAX_PATHS];
	size_t n_paths;
	/* The real FTP client's data modes (FTPCHECK_MODE_BIT()s) that
	 * failed before, and of those the ones failing in the re-test. */
	unsigned svc_before, svc_after;
	int all_pass;		/* every failing path passes with what was
				   kept (the exit status) */
};

const char *checkapply_host_name(enum checkapply_host h);	/* "client" */
const char *checkapply_state_name(enum checkapply_state s);	/* "kept" */

#endif
