/*
 * verdict.h - what was observed on one probed path, and the verdict.
 *
 * The probe engine (probe.h) and the control session fill struct
 * probe_obs with raw facts from both ends; verdict_classify() turns them
 * into pass/fail, a cause class and evidence sentences.  Pure: no I/O, so
 * every rule is unit-tested.  A cause is named only when the evidence
 * shows it; otherwise a failing path has CAUSE_NONE (JSON null).
 */
#ifndef FTPATH_VERDICT_H
#define FTPATH_VERDICT_H

#include <stdint.h>
#include <sys/socket.h>
#include "addr.h"
#include "errq.h"

enum probe_kind {
	PROBE_CONTROL,	/* agent -> server control port */
	PROBE_PASSIVE,	/* agent -> server, one port of the passive range */
	PROBE_ACTIVE,	/* server port 20 -> agent (connect-back) */
};

enum probe_outcome {
	OUTCOME_NOT_RUN,	/* not attempted (skipped, not armed) */
	OUTCOME_ACKED,		/* handshake done, peer acked the probe line */
	OUTCOME_OTHER_SERVICE,	/* handshake done, another service answered
				   (banner holds its first bytes) */
	OUTCOME_SILENT_PEER,	/* handshake done, no ack and no bytes in time */
	OUTCOME_RESET,		/* ECONNREFUSED with no ICMP: a TCP RST */
	OUTCOME_ICMP,		/* ICMP error from the socket error queue */
	OUTCOME_TIMEOUT,	/* nothing came back within the timeout */
	OUTCOME_LOCAL_ERROR,	/* local error without ICMP (ENETUNREACH...) */
};

/* What the reflector did with a port when it armed the session. */
enum arm_state {
	ARM_UNKNOWN,	/* not reported (active probe, or no reflector) */
	ARM_LISTENING,	/* the reflector listened on it */
	ARM_IN_USE,	/* another process owns it (e.g. the FTP server) */
	ARM_ERROR,	/* the reflector could not listen on it */
};

enum cause {
	CAUSE_NONE = 0,
	CAUSE_ROUTING_GAP,
	CAUSE_PATH_SILENT_DROP,
	CAUSE_PATH_REJECT,
	CAUSE_RETURN_PATH,
	CAUSE_SERVER_LOCAL_RULE,
	CAUSE_CLIENT_LOCAL_RULE,
	CAUSE_NAT,
	CAUSE_ALG_REWRITE,
	CAUSE_ALG_DEPENDENT,
	CAUSE_PASV_ADDRESS,
	CAUSE_NOT_LISTENING,
	CAUSE_SERVICE_REFUSED,
	CAUSE_DNS_MISMATCH,
	CAUSE_CLOCK_SKEW,
	CAUSE_MTU_BLACKHOLE,	/* mtu.h: large segments lost, no ICMP */
	CAUSE_IDLE_TIMEOUT,	/* idle.h: the path forgot an idle flow */
};

/* A rule an nftables trace named as dropping a probe packet. */
struct probe_rule {
	int has_handle;		/* 0: the chain's policy dropped it */
	int outbound;		/* dropped leaving that host (the server's
				   answer, or the agent's SYN) */
	uint64_t handle;
	char family[8];		/* "inet", "ip", ... */
	char table[64];
	char chain[64];
	char verdict[8];	/* "drop" or "reject" */
	char text[160];		/* "" if it could not be read */
	int related;		/* its chain accepts ct state related */
};

/*
 * One probed path.  For control/passive probes the agent opened the
 * connection: local/remote are its two ends as the agent saw them, and
 * arrived/seen_* are the reflector's record of it.  For the active probe
 * the reflector opened it: outcome/error/icmp/local/remote come from the
 * reflector's active-result, and arrived/seen_* are the agent listener's
 * record (seen_peer = the reflector's address:port as the agent saw it).
 */
struct probe_obs {
	enum probe_kind kind;
	uint16_t port;			/* control/passive: server port;
					   active: the source port (20) */
	enum probe_outcome outcome;
	int error;			/* errno of the failure, 0 if none */
	struct errq_icmp icmp;		/* ICMP error, see errq.h */
	struct addr_inet local;
	struct addr_inet remote;
	unsigned elapsed_ms;
	/*
	 * Nonzero: this probe timed out in the parallel pass while others got
	 * ICMP; icmp holds what a lone retry of this port (icmp_retry_port)
	 * received after the sender's ICMP rate limit refilled.  Set by
	 * icmpretry.c, which then sets outcome to OUTCOME_ICMP.
	 */
	uint16_t icmp_retry_port;
	/* Nonzero: a second attempt with this timeout was silent too
	 * (retry.c's confirmation pass). */
	unsigned confirm_ms;
	char banner[64];		/* printable first bytes, OTHER_SERVICE */
	enum arm_state arm;
	/* The reflector saw the agent's connections to the port through
	 * tproxy while a service (the FTP server) listens on it. */
	int served;
	int arrived;
	struct addr_inet seen_peer;
	struct addr_inet seen_local;
	/*
	 * The reflector's nftables trace of this port (control/passive;
	 * PROTOCOL.md "traces"; for the active probe see cb_syn_sent).  trace_state is the session's state
	 * (enum trace_obs_state); trace_record says the reflector sent a
	 * record for this very port, without which the other fields say
	 * nothing (the port's probe arrived, or the records were truncated).
	 */
	int trace_state;
	const char *trace_reason;	/* or NULL; owned by whoever owns
					   the observation (copypool.h) */
	int trace_record;
	int syn_seen;		/* a probe packet reached the server host */
	int synack_sent;	/* an answer left it towards the agent */
	/* A rule on the server host dropped it; NULL: none.  Owned like
	 * trace_reason. */
	const struct probe_rule *rule;
	/*
	 * The active probe: the server host's trace of the connect-back
	 * (active-result.trace/record).  trace_state/trace_reason as above;
	 * trace_record: a record came; cb_syn_sent: a connect-back SYN left
	 * the server host with no rule dropping it; rule: the rule on the
	 * server host that dropped one (outbound).
	 */
	int cb_syn_sent;
	/*
	 * The agent host's own nftables trace of this probe (ctrace.h).
	 * ctrace_state is an enum trace_obs_state (NONE: not traced, e.g.
	 * tests; UNAVAILABLE: ctrace_reason says why).  For control and
	 * passive probes syn_sent says our SYN left the output hook without
	 * a drop, answer_seen that the server's answer reached prerouting;
	 * for the active probe answer_seen says the connect-back SYN
	 * reached the agent host and syn_sent that our SYN-ACK left it.
	 * crule.outbound: dropped on its way out of the agent host.
	 */
	int ctrace_state;
	const char *ctrace_reason;	/* or NULL, owned like trace_reason */
	int syn_sent;
	int answer_seen;
	const struct probe_rule *crule;	/* a rule on the agent host dropped
					   it; NULL: none; owned likewise */
};

/* probe_obs.trace_state */
enum trace_obs_state {
	TRACE_OBS_NONE = 0,	/* the reflector sent no trace */
	TRACE_OBS_ON,		/* complete: absence of events is evidence */
	TRACE_OBS_UNAVAILABLE,	/* no trace (trace_reason says why) */
	TRACE_OBS_INCOMPLETE,	/* events were lost: absence proves nothing */
};

/*
 * Active probe conventions (verdict_classify reads them so):
 *  - arm describes the agent's own listener for the connect-back.
 *    ARM_LISTENING or ARM_UNKNOWN: it was open (the agent asks for the
 *    connect-back only once it listens); ARM_ERROR: it was not, so a RST
 *    or a silence proves nothing about the path.
 *  - local/remote: the reflector's ends (server:20, agent observed:port).
 *
 * OUTCOME_NOT_RUN is classified as a failure with CAUSE_NONE and the
 * evidence "not tested", so that nothing untested can ever read as a pass.
 * Callers should not add NOT_RUN probes to a report; say why a path was
 * not tested with report_note() instead.
 */

/* Facts of the whole session, from the control channel. */
struct session_facts {
	struct sockaddr_storage agent_local;	/* control conn, agent side */
	struct sockaddr_storage agent_observed;	/* as the reflector saw it */
	struct sockaddr_storage dialled;	/* reflector addr we connected to */
	struct sockaddr_storage reflector_local;/* as the reflector saw it */
	struct sockaddr_storage server;		/* the FTP service address */
	unsigned rtt_ms;
	unsigned timeout_ms;
	/* Connections without this session's token that reached the
	 * reflector's probe ports while they were armed (a flood, another
	 * client): they compete with the probes for the listen queues. */
	unsigned long foreign;
};

/* Source NAT between agent and reflector: agent_local != agent_observed. */
int verdict_client_nat(const struct session_facts *f);
/* DNAT in front of the reflector: dialled != reflector_local. */
int verdict_server_nat(const struct session_facts *f);

#define VERDICT_MAX_EVIDENCE	6
#define VERDICT_EVIDENCE_LEN	240

/*
 * Where along the path an evidence sentence was observed; the report
 * prints failing paths as a trace through these stages.
 */
enum verdict_stage {
	VERDICT_STAGE_AGENT,	/* the agent host (its socket, its output) */
	VERDICT_STAGE_PATH,	/* between the hosts (hops, middleboxes) */
	VERDICT_STAGE_SERVER,	/* the server host (reflector, its socket) */
	VERDICT_STAGE_RETURN,	/* the way back to the opener */
};

struct verdict {
	int pass;
	enum cause cause;
	char hop[ADDR_STRLEN];	/* node that answered (ICMP sender), or "" */
	unsigned n_evidence;
	char evidence[VERDICT_MAX_EVIDENCE][VERDICT_EVIDENCE_LEN];
	/* stage[i] is the enum verdict_stage of evidence[i]. */
	unsigned char stage[VERDICT_MAX_EVIDENCE];
};

void verdict_classify(const struct probe_obs *o, const struct session_facts *f,
    struct verdict *v);

/* "path-silent-drop" etc.; NULL for CAUSE_NONE. */
const char *cause_name(enum cause c);
/* The class of a name, CAUSE_NONE if it names none. */
enum cause cause_from_name(const char *name);
const char *probe_kind_name(enum probe_kind k);	/* "control" ... */
const char *outcome_name(enum probe_outcome o);
/* "agent host", "path", "server host", "way back". */
const char *verdict_stage_name(enum verdict_stage s);
/* "client-to-server" (control, passive) or "server-to-client" (active). */
const char *probe_direction_name(enum probe_kind k);

#endif
