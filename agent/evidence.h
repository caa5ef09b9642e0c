/*
 * evidence.h - everything one `check` observed, for the classifier.
 *
 * Each stage of a check (check.c) records what it saw: the probes and
 * their retries (probe_obs, with both hosts' traces merged in), the
 * active connect-back, the TCP traceroutes of failing runs, ICMP that
 * arrived after a probe was judged (late ICMP), the ALG dialogue, the
 * real FTP client, the server host's facts, and the notes of stages
 * that could not run.  No stage decides a verdict: once the last stage
 * is done, classify() (classify.h) reads this, and only this, once.
 *
 * The structure holds pointers into the check's own storage; it owns
 * nothing and is read only (const) from the moment it is handed to the
 * classifier.  Fixture tests fill one by hand.
 */
#ifndef FTPATH_AGENT_EVIDENCE_H
#define FTPATH_AGENT_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

#include "alg.h"
#include "errq.h"
#include "ftpcheck.h"
#include "traceroute.h"
#include "verdict.h"

struct sg;
struct srvcheck;
struct mtu_obs;
struct idle_obs;

/* One TCP traceroute, run with the 5-tuple of `first`; it speaks for
 * every probe with the same observation (evidence_trace_for()). */
struct evidence_trace {
	struct probe_obs first;
	struct traceroute_path path;
};

/*
 * An ICMP error that reached a probe's socket after the probe had been
 * judged silent (a router that gives up neighbour resolution after
 * about 3 s answers host-unreachable then).  kind/port name the probe.
 */
struct evidence_late_icmp {
	enum probe_kind kind;
	uint16_t port;
	struct sockaddr_storage remote;	/* the probe's destination */
	struct errq_icmp icmp;
	unsigned after_ms;	/* since the probe's SYN */
};

/*
 * A checked nftables patch for a rule that dropped probes on one host
 * (nft/patch.h): derived by the reflector from its own trace for the
 * server host, by the agent from its own trace for the client host, and
 * parsed by that host's kernel in check mode.  text is NULL when the
 * kernel rejected it or it could not be written (verify_error says why).
 */
struct evidence_fix {
	int server;			/* 1: the server host's, 0: ours */
	enum probe_kind kind;
	uint16_t lo, hi;		/* the ports of the run it answers */
	const char *text;
	int verified;
	const char *verify_error;	/* "" when verified */
	/* How a data connection is let in: "helper" or "ports" and why
	 * (patch.h); "" for control and answers, where there is no
	 * choice. */
	const char *style;
	const char *style_reason;
};

/* Why the control channel could not be used at all (exit 3). */
struct evidence_channel {
	int failed;		/* no session with the reflector */
	unsigned attempts;	/* connects tried (new source port each) */
	unsigned failures_before_success;
	char error[256];	/* the last attempt's error, "" if none */
	/* Nonzero: the TLS handshake stalled after TCP connected and the
	 * channel was retried with this TCP_MAXSEG (mtu.h). */
	unsigned small_mss;
	int small_mss_ok;	/* ... and that attempt paired */
};

struct evidence {
	const struct session_facts *f;
	const char *agent_version;
	const char *reflector_version;	/* "" when never paired */
	const char *server_name;
	uint16_t control_port;		/* the FTP control port probed */

	/* control and passive probes, in the order they were added */
	const struct probe_obs *probes;
	size_t n_probes;
	const struct probe_obs *active;	/* NULL: active not tested */

	const struct evidence_trace *traces;
	size_t n_traces;
	const struct evidence_late_icmp *late;
	size_t n_late;
	const struct evidence_fix *fixes;
	size_t n_fixes;
	/* --sg files as read (sg.h); the classifier evaluates them
	 * against its verdicts, which writes their evaluation. */
	struct sg *const *sgs;
	size_t n_sgs;

	const struct alg_obs *alg;		/* NULL: not run */
	const struct ftpcheck_result *svc;	/* NULL: not run */
	const struct srvcheck *sc;		/* NULL: nothing known */
	const struct mtu_obs *mtu;		/* NULL: not run (mtu.h) */
	const struct idle_obs *idle;		/* NULL: no --idle-test */

	const char *const *notes;	/* stages' notes, in order */
	size_t n_notes;
	struct evidence_channel channel;
	int lost;			/* the control channel dropped */
	unsigned duration_ms;
};

/*
 * The same observation, as far as a trace goes: a trace of one speaks
 * for the other.  Never finer than the report's runs (the agent host's
 * trace counters, which an incomplete trace loses for some ports, are
 * not compared).
 */
int evidence_same_obs(const struct probe_obs *a, const struct probe_obs *b);

/* The trace that speaks for o, or NULL. */
const struct evidence_trace *evidence_trace_for(const struct evidence *e,
    const struct probe_obs *o);

/*
 * The late ICMP that answers o: its own (same kind and port), else a
 * net- or host-unreachable for another probe to the same address (such
 * an error is about the address, not the port: routers rate-limit ICMP,
 * so only some probes get one).  NULL if none; *own says which.
 */
const struct evidence_late_icmp *evidence_late_for(const struct evidence *e,
    const struct probe_obs *o, int *own);

#endif
