/*
 * sg_int.h - the security-group model shared by the readers (sg_aws.c,
 * sg_azure.c, sg_gcp.c), the evaluator (sg_eval.c) and the fix writer
 * (sg_fix.c).  Not for use outside agent/sg*.c; the public interface is
 * sg.h.
 *
 * A file becomes a struct sg: groups, each with rules in the provider's
 * terms reduced to what a TCP path needs (direction, action, order key,
 * destination and source ports, the remote and the local side).  Every
 * string and array is owned by the struct that holds it.
 */
#ifndef FTPATH_SG_INT_H
#define FTPATH_SG_INT_H

#include <stdint.h>
#include <stdarg.h>
#include <sys/socket.h>

#include <jansson.h>

#include "sg.h"

/* Bounds that keep a hostile file from costing more than a real one
 * (a whole account's describe-security-groups may hold thousands). */
#define SG_MAX_GROUPS	16384
#define SG_MAX_RULES	65536	/* per file */
#define SG_MAX_ITEMS	4096	/* port ranges or peers per rule */

enum sg_dir { SG_IN, SG_OUT };
enum sg_action { SG_ALLOW, SG_DENY };
enum sg_kind { SG_KIND_SG, SG_KIND_NACL, SG_KIND_NSG, SG_KIND_FW };

struct sg_cidr {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t a[16];
	unsigned plen;
};

enum sg_peer_kind {
	SG_PEER_ANY,		/* Azure "*" */
	SG_PEER_CIDR,
	SG_PEER_INTERNET,	/* Azure tag: addresses outside the VNet */
	SG_PEER_VNET,		/* Azure tag: VNet, peerings, on-premises */
	SG_PEER_LB,		/* Azure tag: the platform's health probes */
	SG_PEER_MEMBER,		/* a group, prefix list, ASG, GCP tag or
				 * service account: members not in the file */
	SG_PEER_TAG		/* another service tag: not evaluable */
};

struct sg_peer {
	enum sg_peer_kind kind;
	struct sg_cidr cidr;	/* SG_PEER_CIDR */
	char *text;		/* as written in the file */
};

/* Port ranges; lo may be 0 (AWS and GCP allow it). */
struct sg_ports {
	int any;
	struct portrange *r;
	size_t n;
};

struct sg_peers {
	struct sg_peer *p;
	size_t n;
};

struct sg_rule {
	char *name;		/* base of the "rule" text */
	long priority;		/* order key (NACL RuleNumber) */
	enum sg_dir dir;
	enum sg_action action;
	int disabled;		/* GCP: read, never applied */
	struct sg_ports dports;
	struct sg_ports sports;	/* Azure only; others any */
	struct sg_peers remote;	/* the client's side */
	int local_any;		/* no local restriction */
	struct sg_peers local;	/* the server's side */
	char *scope;		/* GCP target tags/SAs: the assumption that
				 * the rule applies to the server; or NULL */
};

struct sg_gres;

struct sg_group {
	enum sg_kind kind;
	char *id;		/* sg-..., acl-..., NSG name, network */
	char *name;
	char *rg;		/* Azure resource group, GCP project, or
				 * NULL */
	struct sg_rule *rules;
	size_t nrules;
	int has_defaults;	/* Azure: defaultSecurityRules were read */
};

struct sg {
	enum sg_provider provider;
	char *file;
	struct sg_group *groups;
	size_t ngroups;
	size_t nrules;		/* in all groups, for SG_MAX_RULES */
	struct sg_gres *res;	/* per group, after sg_eval() */
	size_t nres;
};

/* A growing list of owned strings. */
struct sg_strv {
	char **v;
	size_t n;
};

/* One group's result (sg_eval.c fills it, sg_fix.c adds the fixes). */
struct sg_gres {
	struct sg_path_view *paths;	/* rule and note strings owned */
	size_t npaths;
	/* Per path entry, what the fix writer needs. */
	struct sg_runfix *rf;
	struct sg_strv fix;
	struct sg_strv assume;
};

/* Why a run is denied, for the fix writer. */
struct sg_runfix {
	enum sg_path path;
	enum sg_dir dir;		/* direction of the denied flow */
	int fwd_denied;			/* the path's own direction */
	int ret_denied;			/* stateless: the way back */
	const struct sg_rule *fwd_rule;	/* denying rule, NULL = default */
	const struct sg_rule *ret_rule;
	struct portrange ports;		/* the run's ports (forward) */
	enum sg_dir ret_dir;		/* the way back, stateless only */
	struct portrange ret_ports;
	int needed;			/* denied and not measured passing */
};

/* Reader context: the file name for messages and the error buffer. */
struct sg_ctx {
	struct sg *sg;
	const char *file;
	char *err;
	size_t errlen;
};

/* sg_model.c: errors, JSON fields, the model's builders. */
__attribute__((format(printf, 3, 4)))
int sg_fail(struct sg_ctx *c, int code, const char *fmt, ...);
int sg_nomem(struct sg_ctx *c);
/* o[key] of the type asked for; missing or null: *out NULL (an error
 * when required); another type: an error naming where.key. */
int sg_jstr(struct sg_ctx *c, const json_t *o, const char *key,
    const char *where, int required, const char **out);
int sg_jarr(struct sg_ctx *c, const json_t *o, const char *key,
    const char *where, int required, json_t **out);
int sg_jobj(struct sg_ctx *c, const json_t *o, const char *key,
    const char *where, int required, json_t **out);
/* An integer in lo..hi; *present says whether it was there. */
int sg_jint(struct sg_ctx *c, const json_t *o, const char *key,
    const char *where, long lo, long hi, long *out, int *present);
int sg_jbool(struct sg_ctx *c, const json_t *o, const char *key,
    const char *where, int dflt, int *out);

struct sg_group *sg_group_new(struct sg_ctx *c, enum sg_kind kind,
    const char *id, const char *name);
struct sg_rule *sg_rule_new(struct sg_ctx *c, struct sg_group *g,
    const char *name);
int sg_ports_add(struct sg_ctx *c, struct sg_ports *p, long lo, long hi,
    const char *where);
/* "21", "30000-30099" (0..65535); "*" only when star_ok. */
int sg_ports_parse(struct sg_ctx *c, struct sg_ports *p, const char *s,
    int star_ok, const char *where);
int sg_peer_add(struct sg_ctx *c, struct sg_peers *ps, enum sg_peer_kind k,
    const char *text, const char *where);
char *sg_strdup(struct sg_ctx *c, const char *s);
void sg_rule_free(struct sg_rule *r);
void sg_gres_free(struct sg_gres *g);

/* "a.b.c.d[/n]" or "v6[/n]"; 0 or FTP_ERR_INVAL. */
int sg_cidr_parse(const char *s, struct sg_cidr *out);
int sg_cidr_contains(const struct sg_cidr *c, const struct sockaddr *sa);
/* RFC 1918, 100.64/10, fc00::/7, link-local, loopback. */
int sg_addr_private(const struct sockaddr *sa);
int sg_cidr_private(const struct sg_cidr *c);

__attribute__((format(printf, 3, 4)))
int sg_strv_add(struct sg_strv *sv, int unique, const char *fmt, ...);
int sg_strv_has(const struct sg_strv *sv, const char *s);
void sg_strv_free(struct sg_strv *sv);
/* A new string from a format, NULL on ENOMEM. */
__attribute__((format(printf, 1, 2)))
char *sg_printf(const char *fmt, ...);

/* The readers: root is the file's JSON in that reader's shape. */
int sg_aws_read_groups(struct sg_ctx *c, const json_t *root);
int sg_aws_read_nacls(struct sg_ctx *c, const json_t *root);
int sg_azure_read(struct sg_ctx *c, const json_t *root);
int sg_gcp_read(struct sg_ctx *c, const json_t *root);

/*
 * The evaluator's working state, shared by sg_match.c (one rule, one
 * port: a decision) and sg_eval.c (paths, runs, notes).
 */
enum sg_m { SG_M_NO, SG_M_YES, SG_M_UNKNOWN };
enum sg_unk { SG_U_NONE, SG_U_REMOTE, SG_U_LOCAL, SG_U_SPORT, SG_U_RETURN };

/* One direction of a path as the group sees it. */
struct sg_flow {
	enum sg_dir dir;
	struct portrange sport;		/* the source ports it may use */
	struct portrange dports;	/* what is evaluated */
};

/* A rule's match against one flow and port. */
struct sg_match {
	enum sg_m m;
	const struct sg_peer *peer;	/* the remote peer that matched */
	const struct sg_peer *why;	/* what made it unknown */
	enum sg_unk unk;
	const char *assumed;		/* stored assumption it rests on */
};

/* A group's decision for one piece of ports. */
struct sg_dec {
	enum sg_allow allow;
	const struct sg_rule *rule;	/* NULL: the default */
	const struct sg_peer *peer;
	const struct sg_rule *unk_rule;
	struct sg_match unk;
	const struct sg_rule *disabled;	/* would have decided otherwise */
	const char *assumed;		/* the verdict rests on it */
};

/* Everything one group's evaluation needs. */
struct sg_ev {
	const struct sg *sg;
	const struct sg_group *g;
	const struct sg_input *in;
	struct sockaddr_storage client, server;
	char client_txt[ADDR_STRLEN];
	struct portrange eph;
	size_t *order;			/* rules by priority, deny first */
	struct sg_gres *res;
	int rc;				/* first error (ENOMEM) */
};


/* sg_match.c */
void sg_decide(struct sg_ev *ev, const struct sg_flow *f, unsigned port,
    struct sg_dec *d);

/* sg_fix.c: the CLI commands for group gi's denied runs. */
int sg_fix_group(const struct sg *sg, size_t gi, const struct sg_input *in,
    struct sg_strv *names);

#endif
