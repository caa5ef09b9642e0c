/*
 * checkstage.h - the stages of one armed `check` session, between the
 * plan the reflector armed and the report (check.c opens the session
 * before and renders the result after).
 *
 * In order, on the check's one event_base: the agent host's nftables
 * trace (ctrace.h); the probes and the active connect-back in parallel
 * (probe.h, active.h); second looks at silent probes (retry.h); unless
 * a re-test (checkapply.c), the ALG dialogue (algrun.h) and the MTU
 * black-hole test (mtu.h) while the reflector still listens; the
 * reflector's observations, collected page by page (refobs.h); bye;
 * the TCP traceroute of failing runs (collect.c) and the real FTP client
 * (service.h) at once, once the reflector has let go of the ports; last
 * the --idle-test (idle.h).  Nothing here decides a verdict.
 *
 * Ownership: what a stage observes goes into its struct check
 * (check_int.h): c->ct, c->act, c->alg, c->mtu, c->svc, c->idle and the
 * traces are allocated here and freed by check.c with the check; a
 * stage that cannot run leaves its pointer NULL or says why in its
 * result's reason, and what the reader should know becomes a note.
 */
#ifndef FTPATH_AGENT_CHECKSTAGE_H
#define FTPATH_AGENT_CHECKSTAGE_H

struct check;

/*
 * Run every stage of the armed session c (paired, server and passive
 * range picked, plan armed).  Returns 0 when they all ran.  When the
 * control channel is lost on the way (or a stage that needs it cannot
 * start) the probes in flight are drained, the reflector's arming is
 * forgotten, c->lost is set with a note, and the error (err.h) is
 * returned.  Either way the report follows: the caller renders it.
 */
int checkstage_run(struct check *c);

#endif
