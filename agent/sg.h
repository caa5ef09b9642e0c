/*
 * sg.h - cloud security groups: read a provider's JSON, evaluate it
 * against what ftpath measured, and write the missing rule in the
 * provider's own CLI syntax.
 *
 * Readers (sg_aws.c, sg_azure.c, sg_gcp.c) turn one file into a common
 * model of groups and ordered rules; the provider is told by the JSON's
 * shape:
 *   aws    `aws ec2 describe-security-groups` (SecurityGroups[]) and
 *          `aws ec2 describe-network-acls` (NetworkAcls[], stateless)
 *   azure  `az network nsg show` (one NSG) or `az network nsg list`
 *          (an array of them); rule fields flattened or under
 *          "properties" (the REST/ARM form)
 *   gcp    `gcloud compute firewall-rules list --format=json` (an array
 *          of rules; one group per network)
 *
 * The evaluator (sg_eval.c) checks, per group, each FTP path from the
 * server's side: control (client -> server control port), passive
 * (client -> server passive range), active (server port 20 -> client
 * connect-back ports) and channel (client -> reflector control-channel
 * port), with the client's public address as the reflector saw it.
 * Stateless network ACLs also need the way back (server -> client
 * ephemeral ports, client -> server port 20).  Each path's ports are
 * split into runs of equal result.  A run says whether the group allows
 * it (yes, no, or unknown when a rule depends on something the file does
 * not hold, e.g. the VirtualNetwork tag for a private client), whether
 * that explains the measurement, and which rule decided.  What the
 * evaluation had to assume (AWS group pairs and prefix lists, GCP target
 * tags, Azure application security groups) is listed per group.
 *
 * Pure: sg_parse(), sg_eval(), sg_json() and sg_script() do no I/O;
 * sg_load() only reads the file.  Everything returned is owned by the
 * struct sg it came from and lives until sg_eval() runs again or
 * sg_free().
 *
 * Errors: 0 or a negative FTP_ERR_* (common/err.h); err (optional,
 * errlen bytes) then names the file and what was wrong.
 */
#ifndef FTPATH_SG_H
#define FTPATH_SG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <jansson.h>

#include "addr.h"

/* Largest file sg_load() reads; larger is FTP_ERR_TOOBIG. */
#define SG_FILE_MAX	(8u << 20)

enum sg_provider {
	SG_AWS,
	SG_AZURE,
	SG_GCP,
	SG_NPROVIDERS
};

/* The paths evaluated, in output order. */
enum sg_path {
	SG_PATH_CONTROL,	/* client -> server control port */
	SG_PATH_PASSIVE,	/* client -> server passive range */
	SG_PATH_ACTIVE,		/* server port 20 -> client connect-back */
	SG_PATH_CHANNEL,	/* client -> reflector control channel */
	SG_NPATHS
};

/* A group's decision for a run of ports. */
enum sg_allow {
	SG_DENIED,
	SG_ALLOWED,
	SG_UNKNOWN	/* a rule that decides depends on what the file lacks */
};

/* What ftpath measured for some ports of a path. */
enum sg_measured {
	SG_NOT_MEASURED,
	SG_PASSED,
	SG_FAILED
};

struct sg_measure {
	struct portrange ports;	/* lo 0: the whole path */
	enum sg_measured result;
	const char *cause;	/* cause class ("path-silent-drop") or NULL */
};

/*
 * The evaluator's input; the caller keeps it (and what it points to)
 * alive for the call only.  A port or range 0 leaves that path out.
 */
struct sg_input {
	struct sockaddr_storage client;	/* public address as the reflector
					 * saw it (v4, v6 or v4-mapped) */
	struct sockaddr_storage server;	/* the service address dialled */
	/* The server host's own addresses (the reflector's report), for
	 * rules that name the server's private address; may be 0. */
	const struct sockaddr_storage *server_local;
	size_t nserver_local;
	uint16_t control_port;		/* 21 */
	struct portrange passive;	/* 30000-30099 */
	uint16_t active_sport;		/* 20 */
	struct portrange active_dports;	/* the client's connect-back ports */
	uint16_t channel_port;		/* 7021 */
	/* The client's source ports, for stateless return traffic and
	 * source-port rules; lo 0 means 1024-65535. */
	struct portrange client_ephemeral;
	/* Per path, what was measured (none: SG_NOT_MEASURED).  A fix is
	 * written for a denied run not measured passing, so the channel
	 * should be given as passed when the reflector answered. */
	const struct sg_measure *measure[SG_NPATHS];
	size_t nmeasure[SG_NPATHS];
};

/*
 * One run of a path's ports, for a renderer.  explains is 1 when the
 * group accounts for what was measured: allowed and passed; denied and
 * failed with path-silent-drop (return-path when a stateless ACL denies
 * the way back) or with no cause named.  It is 0 for a path not
 * measured, an unknown decision, an allowed path that failed (the note
 * says to look at network ACLs, another firewall or the host), a denied
 * path that passed (the note says the group is not the one in the path)
 * and a denial whose measured cause it cannot have produced.  The note
 * (text renderers; the JSON keeps the contract's keys only) also names
 * an assumption or a disabled rule the result rests on.
 */
struct sg_path_view {
	const char *name;	/* "control", "passive", "active", "channel" */
	struct portrange ports;	/* lo == hi: JSON "port", else "ports" */
	enum sg_allow allowed;
	int explains;
	const char *rule;	/* the deciding rule ("AllowFTP (priority
				 * 300)", "ingress 100", "ingress tcp 21 from
				 * 198.51.100.0/24"), or "default" */
	const char *note;	/* may be NULL */
};

/* One evaluated group, for a renderer. */
struct sg_group_view {
	const char *provider;	/* "aws", "azure", "gcp" */
	const char *kind;	/* "security-group", "network-acl", "nsg",
				 * "firewall" */
	const char *file;
	const char *group;	/* sg-..., acl-..., NSG name, GCP network */
	const char *name;	/* GroupName, or the same as group */
	const struct sg_path_view *paths;
	size_t npaths;
	const char *const *fix;		/* CLI commands, one per line */
	size_t nfix;
	const char *const *assumptions;	/* what the evaluation assumed */
	size_t nassumptions;
};

struct sg;

/*
 * Parse a provider's JSON held in buf (len bytes; no NUL needed), named
 * file in messages.  *out (freed with sg_free) is set only on success.
 * FTP_ERR_INVAL: not JSON, truncated, a field of the wrong type or value,
 * a shape of no known provider, no group; FTP_ERR_TOOBIG: more groups or
 * rules than a real file holds (16384 groups, 65536 rules); FTP_ERR_NOMEM.
 */
int sg_parse(const char *file, const char *buf, size_t len, struct sg **out,
    char *err, size_t errlen);

/* sg_parse() of the file at path (at most SG_FILE_MAX bytes); also
 * FTP_ERR_SYSTEM (errno kept) when it cannot be read. */
int sg_load(const char *path, struct sg **out, char *err, size_t errlen);

void sg_free(struct sg *sg);

enum sg_provider sg_provider(const struct sg *sg);
const char *sg_provider_name(enum sg_provider p);
/* Number of groups the file holds (evaluated or not). */
size_t sg_count(const struct sg *sg);

/*
 * Evaluate every group of sg against in, replacing an earlier result
 * (a failed evaluation leaves none).
 * FTP_ERR_INVAL (err says why) when the client or server address is not
 * IPv4/IPv6 or a range is reversed; FTP_ERR_NOMEM.
 */
int sg_eval(struct sg *sg, const struct sg_input *in, char *err,
    size_t errlen);

/* Group i of the last sg_eval(): 0, or FTP_ERR_NOTFOUND (i out of range
 * or not evaluated).  The view's pointers are owned by sg. */
int sg_group(const struct sg *sg, size_t i, struct sg_group_view *out);

/*
 * The report's security_groups entries of this file: a new JSON array
 * (caller owns it) of {provider, file, group, paths: [{name, port|ports,
 * allowed (true, false or null when unknown), explains, rule}],
 * fix: [strings]}; NULL on ENOMEM or before sg_eval().
 */
json_t *sg_json(const struct sg *sg);

/* "cloud-aws.sh", "cloud-azure.sh", "cloud-gcp.sh". */
const char *sg_script_name(enum sg_provider p);

/*
 * The text of cloud-<provider>.sh for the evaluated files in sgs (those
 * of another provider are skipped): a shebang, `set -eu`, a comment
 * header naming the files and groups, then one command per line, each
 * command once.  *text (malloc'd, caller frees) is set only on success;
 * FTP_ERR_NOTFOUND when no group of that provider needs a fix (nothing
 * to write); FTP_ERR_NOMEM.
 */
int sg_script(const struct sg *const *sgs, size_t n, enum sg_provider p,
    char **text);

#endif
