/*
 * sg_aws.c - AWS readers: `aws ec2 describe-security-groups` and
 * `aws ec2 describe-network-acls` output into the model (sg_int.h).
 *
 * A security group is a set of allow rules (stateful, no order, no
 * deny); each IpPermission becomes one rule whose remote side is its
 * IpRanges and Ipv6Ranges.  UserIdGroupPairs and PrefixListIds name
 * members the file does not list: they become SG_PEER_MEMBER, which the
 * evaluator reports as an assumption.  A network ACL is ordered by
 * RuleNumber, first match wins, and stateless: the evaluator checks the
 * way back itself.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "sg_int.h"

/* What an IpProtocol / Protocol value means for a TCP path. */
enum sg_aws_proto { SG_P_TCP, SG_P_ALL, SG_P_OTHER };

static enum sg_aws_proto
sg_aws_proto(const char *p)
{
	if (strcasecmp(p, "tcp") == 0 || strcmp(p, "6") == 0)
		return SG_P_TCP;
	if (strcmp(p, "-1") == 0 || strcasecmp(p, "all") == 0)
		return SG_P_ALL;
	return SG_P_OTHER;
}

/* The list at key: each element an object whose field holds a CIDR. */
static int
sg_aws_ranges(struct sg_ctx *c, struct sg_rule *r, const json_t *perm,
    const char *key, const char *field, const char *where)
{
	char w[160];
	json_t *arr, *e;
	const char *cidr;
	size_t i;
	int rc;

	if ((rc = sg_jarr(c, perm, key, where, 0, &arr)) != 0 || arr == NULL)
		return rc;
	json_array_foreach(arr, i, e) {
		snprintf(w, sizeof(w), "%s.%s[%zu]", where, key, i);
		if (!json_is_object(e))
			return sg_fail(c, FTP_ERR_INVAL, "%s: expected an "
			    "object", w);
		if ((rc = sg_jstr(c, e, field, w, 1, &cidr)) != 0 ||
		    (rc = sg_peer_add(c, &r->remote, SG_PEER_CIDR, cidr,
		    w)) != 0)
			return rc;
	}
	return 0;
}

/* Group pairs and prefix lists: members the evaluator cannot see. */
static int
sg_aws_members(struct sg_ctx *c, struct sg_rule *r, const json_t *perm,
    const char *key, const char *field, const char *what,
    const char *where)
{
	char w[160], text[200];
	json_t *arr, *e;
	const char *id;
	size_t i;
	int rc;

	if ((rc = sg_jarr(c, perm, key, where, 0, &arr)) != 0 || arr == NULL)
		return rc;
	json_array_foreach(arr, i, e) {
		snprintf(w, sizeof(w), "%s.%s[%zu]", where, key, i);
		if (!json_is_object(e))
			return sg_fail(c, FTP_ERR_INVAL, "%s: expected an "
			    "object", w);
		if ((rc = sg_jstr(c, e, field, w, 0, &id)) != 0)
			return rc;
		snprintf(text, sizeof(text), "%s %s", what,
		    id != NULL ? id : "(unnamed)");
		if ((rc = sg_peer_add(c, &r->remote, SG_PEER_MEMBER, text,
		    w)) != 0)
			return rc;
	}
	return 0;
}

static int
sg_aws_perm(struct sg_ctx *c, struct sg_group *g, const json_t *perm,
    enum sg_dir dir, const char *where)
{
	const char *proto;
	char name[64];
	long from = 0, to = 65535;
	int rc, hf = 0, ht = 0;
	enum sg_aws_proto kind;
	struct sg_rule *r;

	if (!json_is_object(perm))
		return sg_fail(c, FTP_ERR_INVAL, "%s: expected an object",
		    where);
	if ((rc = sg_jstr(c, perm, "IpProtocol", where, 1, &proto)) != 0)
		return rc;
	if ((kind = sg_aws_proto(proto)) == SG_P_OTHER)
		return 0;	/* udp, icmp: not an FTP path */
	if (kind == SG_P_TCP &&
	    ((rc = sg_jint(c, perm, "FromPort", where, 0, 65535, &from,
	    &hf)) != 0 ||
	    (rc = sg_jint(c, perm, "ToPort", where, 0, 65535, &to,
	    &ht)) != 0))
		return rc;
	if (kind == SG_P_TCP && (!hf || !ht))
		return sg_fail(c, FTP_ERR_INVAL, "%s: a tcp permission "
		    "without FromPort/ToPort", where);
	if (kind == SG_P_ALL)
		snprintf(name, sizeof(name), "%s all",
		    dir == SG_IN ? "ingress" : "egress");
	else if (from == to)
		snprintf(name, sizeof(name), "%s tcp %ld",
		    dir == SG_IN ? "ingress" : "egress", from);
	else
		snprintf(name, sizeof(name), "%s tcp %ld-%ld",
		    dir == SG_IN ? "ingress" : "egress", from, to);
	if ((r = sg_rule_new(c, g, name)) == NULL)
		return FTP_ERR_NOMEM;
	r->dir = dir;
	r->action = SG_ALLOW;
	r->sports.any = 1;
	if ((rc = sg_ports_add(c, &r->dports, from, to, where)) != 0)
		return rc;
	if ((rc = sg_aws_ranges(c, r, perm, "IpRanges", "CidrIp",
	    where)) != 0 ||
	    (rc = sg_aws_ranges(c, r, perm, "Ipv6Ranges", "CidrIpv6",
	    where)) != 0 ||
	    (rc = sg_aws_members(c, r, perm, "UserIdGroupPairs", "GroupId",
	    "security group", where)) != 0 ||
	    (rc = sg_aws_members(c, r, perm, "PrefixListIds", "PrefixListId",
	    "prefix list", where)) != 0)
		return rc;
	return 0;
}

static int
sg_aws_perms(struct sg_ctx *c, struct sg_group *g, const json_t *o,
    const char *key, enum sg_dir dir, const char *where)
{
	char w[128];
	json_t *arr, *perm;
	size_t i;
	int rc;

	if ((rc = sg_jarr(c, o, key, where, 0, &arr)) != 0 || arr == NULL)
		return rc;
	json_array_foreach(arr, i, perm) {
		snprintf(w, sizeof(w), "%s.%s[%zu]", where, key, i);
		if ((rc = sg_aws_perm(c, g, perm, dir, w)) != 0)
			return rc;
	}
	return 0;
}

int
sg_aws_read_groups(struct sg_ctx *c, const json_t *root)
{
	const char *id, *name;
	char w[64];
	json_t *arr, *o;
	struct sg_group *g;
	size_t i;
	int rc;

	if ((rc = sg_jarr(c, root, "SecurityGroups", "(top)", 1, &arr)) != 0)
		return rc;
	json_array_foreach(arr, i, o) {
		snprintf(w, sizeof(w), "SecurityGroups[%zu]", i);
		if (!json_is_object(o))
			return sg_fail(c, FTP_ERR_INVAL, "%s: expected an "
			    "object", w);
		if ((rc = sg_jstr(c, o, "GroupId", w, 1, &id)) != 0 ||
		    (rc = sg_jstr(c, o, "GroupName", w, 0, &name)) != 0)
			return rc;
		if ((g = sg_group_new(c, SG_KIND_SG, id, name)) == NULL)
			return FTP_ERR_NOMEM;
		if ((rc = sg_aws_perms(c, g, o, "IpPermissions", SG_IN,
		    w)) != 0 ||
		    (rc = sg_aws_perms(c, g, o, "IpPermissionsEgress", SG_OUT,
		    w)) != 0)
			return rc;
	}
	return 0;
}

/* The Name tag of a resource, which people know it by; or NULL. */
static const char *
sg_aws_name_tag(const json_t *o)
{
	json_t *tags = json_object_get(o, "Tags"), *t;
	const char *k, *v;
	size_t i;

	json_array_foreach(tags, i, t) {
		k = json_string_value(json_object_get(t, "Key"));
		v = json_string_value(json_object_get(t, "Value"));
		if (k != NULL && v != NULL && strcmp(k, "Name") == 0)
			return v;
	}
	return NULL;
}

static int
sg_aws_entry_ports(struct sg_ctx *c, struct sg_rule *r, const json_t *e,
    enum sg_aws_proto kind, const char *w)
{
	json_t *pr;
	long from = 0, to = 65535;
	int rc, hf = 0, ht = 0;

	if ((rc = sg_jobj(c, e, "PortRange", w, 0, &pr)) != 0)
		return rc;
	/* A tcp entry without a range covers every port, as "-1" does. */
	if (kind == SG_P_TCP && pr != NULL &&
	    ((rc = sg_jint(c, pr, "From", w, 0, 65535, &from, &hf)) != 0 ||
	    (rc = sg_jint(c, pr, "To", w, 0, 65535, &to, &ht)) != 0))
		return rc;
	if (pr != NULL && kind == SG_P_TCP && (!hf || !ht))
		return sg_fail(c, FTP_ERR_INVAL, "%s.PortRange: no From/To",
		    w);
	return sg_ports_add(c, &r->dports, from, to, w);
}

static int
sg_aws_entry(struct sg_ctx *c, struct sg_group *g, const json_t *e,
    const char *w)
{
	const char *proto, *action, *v4, *v6;
	enum sg_aws_proto kind;
	struct sg_rule *r;
	char name[48];
	long num;
	int rc, egress, has;

	if (!json_is_object(e))
		return sg_fail(c, FTP_ERR_INVAL, "%s: expected an object", w);
	if ((rc = sg_jint(c, e, "RuleNumber", w, 1, 32768, &num, &has)) != 0 ||
	    (rc = sg_jstr(c, e, "Protocol", w, 1, &proto)) != 0 ||
	    (rc = sg_jstr(c, e, "RuleAction", w, 1, &action)) != 0 ||
	    (rc = sg_jbool(c, e, "Egress", w, 0, &egress)) != 0 ||
	    (rc = sg_jstr(c, e, "CidrBlock", w, 0, &v4)) != 0 ||
	    (rc = sg_jstr(c, e, "Ipv6CidrBlock", w, 0, &v6)) != 0)
		return rc;
	if (!has)
		return sg_fail(c, FTP_ERR_INVAL, "%s: no RuleNumber", w);
	if (strcasecmp(action, "allow") != 0 && strcasecmp(action, "deny") != 0)
		return sg_fail(c, FTP_ERR_INVAL, "%s.RuleAction: \"%.20s\" is "
		    "neither allow nor deny", w, action);
	if (v4 == NULL && v6 == NULL)
		return sg_fail(c, FTP_ERR_INVAL, "%s: no CidrBlock or "
		    "Ipv6CidrBlock", w);
	kind = sg_aws_proto(proto);
	/* 32767 (IPv4) and 32768 (IPv6) are the catch-alls every ACL ends
	 * with: the "default". */
	if (num >= 32767)
		snprintf(name, sizeof(name), "default");
	else
		snprintf(name, sizeof(name), "%s %ld",
		    egress ? "egress" : "ingress", num);
	if ((r = sg_rule_new(c, g, name)) == NULL)
		return FTP_ERR_NOMEM;
	r->priority = num;
	r->dir = egress ? SG_OUT : SG_IN;
	r->action = strcasecmp(action, "allow") == 0 ? SG_ALLOW : SG_DENY;
	r->sports.any = 1;
	/* Another protocol's entry never matches, but its number is taken
	 * (the fix writer needs a free one). */
	if (kind != SG_P_OTHER &&
	    (rc = sg_aws_entry_ports(c, r, e, kind, w)) != 0)
		return rc;
	if (v4 != NULL &&
	    (rc = sg_peer_add(c, &r->remote, SG_PEER_CIDR, v4, w)) != 0)
		return rc;
	if (v6 != NULL &&
	    (rc = sg_peer_add(c, &r->remote, SG_PEER_CIDR, v6, w)) != 0)
		return rc;
	return 0;
}

int
sg_aws_read_nacls(struct sg_ctx *c, const json_t *root)
{
	const char *id;
	char w[64], we[96];
	json_t *arr, *o, *entries, *e;
	struct sg_group *g;
	size_t i, j;
	int rc;

	if ((rc = sg_jarr(c, root, "NetworkAcls", "(top)", 1, &arr)) != 0)
		return rc;
	json_array_foreach(arr, i, o) {
		snprintf(w, sizeof(w), "NetworkAcls[%zu]", i);
		if (!json_is_object(o))
			return sg_fail(c, FTP_ERR_INVAL, "%s: expected an "
			    "object", w);
		if ((rc = sg_jstr(c, o, "NetworkAclId", w, 1, &id)) != 0 ||
		    (rc = sg_jarr(c, o, "Entries", w, 1, &entries)) != 0)
			return rc;
		if ((g = sg_group_new(c, SG_KIND_NACL, id,
		    sg_aws_name_tag(o))) == NULL)
			return FTP_ERR_NOMEM;
		json_array_foreach(entries, j, e) {
			snprintf(we, sizeof(we), "%s.Entries[%zu]", w, j);
			if ((rc = sg_aws_entry(c, g, e, we)) != 0)
				return rc;
		}
	}
	return 0;
}
