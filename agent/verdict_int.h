/*
 * verdict_int.h - what the rules of verdict.c (shared helpers, names),
 * verdict_out.c (control and passive probes) and verdict_in.c (the
 * active connect-back) share.  Not for other modules: verdict.h is the
 * interface.
 */
#ifndef FTPATH_VERDICT_INT_H
#define FTPATH_VERDICT_INT_H

#include <stddef.h>

#include "addr.h"
#include "verdict.h"

#define VERDICT_FMT(a, b) __attribute__((format(printf, a, b)))

/* Everything one classification needs, with the addresses as text once. */
struct vctx {
	const struct probe_obs *o;
	const struct session_facts *f;
	struct verdict *v;
	char src[ADDR_STRLEN];	/* the opener's end */
	char dst[ADDR_STRLEN];	/* the accepting end */
	char what[2 * ADDR_STRLEN + 32];	/* "SYN to D" / "connect-back ..." */
	unsigned ms;		/* how long the opener waited */
};

/* verdict.c: evidence, addresses as text, ICMP */
void vc_ev_add(struct verdict *v, enum verdict_stage st, const char *fmt,
    ...) VERDICT_FMT(3, 4);
void vc_fail(struct verdict *v, enum cause c);
/* The addresses: ADDR_SA() of a sockaddr_storage or struct addr_inet. */
const char *vc_ss_text(const struct sockaddr *sa, char *buf, size_t len);
const char *vc_ip_text(const struct sockaddr *sa, char *buf, size_t len);
const char *vc_ss_text_or(const struct sockaddr *sa,
    const struct sockaddr *fallback, uint16_t port, char *buf, size_t len);
const char *vc_errno_name(int e);
const char *vc_banner_text(const struct probe_obs *o, char *buf,
    size_t len);
int vc_banner_starts(const struct probe_obs *o, const char *code);
void vc_set_hop(struct vctx *c);
void vc_not_run(struct vctx *c);
void vc_icmp_verdict(struct vctx *c);

/* verdict_out.c: the traces, control and passive */
int vc_trace_verdict(struct vctx *c);
int vc_ctrace_explains(const struct vctx *c);
void vc_ctrace_local_rule(struct vctx *c);
void vc_ctrace_missing(struct vctx *c);
int vc_ctrace_nothing_came(const struct probe_obs *o);
const char *vc_rule_verb(const struct probe_rule *r);
/* A trace's reason for a sentence: "no reason given" for none. */
const char *vc_reason(const char *why);
void vc_trace_rule_text(const struct probe_rule *r, char *buf,
    size_t len);
void vc_classify_out(struct vctx *c);

/* verdict_in.c: the connect-back */
void vc_in_failure_clause(const struct vctx *c, char *buf, size_t len);
void vc_classify_in(struct vctx *c);

#endif
