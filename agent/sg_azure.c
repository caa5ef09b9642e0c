/*
 * sg_azure.c - Azure reader: `az network nsg show` (one NSG) or
 * `az network nsg list` (an array) into the model (sg_int.h).
 *
 * az prints a rule's fields flat; the REST API and ARM templates nest
 * them under "properties": both are read.  A rule names its addresses
 * and ports in a singular field ("sourceAddressPrefix": "*") or a
 * plural one ("sourceAddressPrefixes": [...]); az prints both, the
 * unused one empty or null.  Service tags become peer kinds the
 * evaluator knows how far it can judge: "*" any, Internet (a public
 * address), VirtualNetwork (the VNet's space: not in the file),
 * AzureLoadBalancer (the platform's health probes), others unknown.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "sg_int.h"

static enum sg_peer_kind
sg_azure_tag(const char *s)
{
	if (strcmp(s, "*") == 0)
		return SG_PEER_ANY;
	if (strcasecmp(s, "Internet") == 0)
		return SG_PEER_INTERNET;
	if (strcasecmp(s, "VirtualNetwork") == 0)
		return SG_PEER_VNET;
	if (strcasecmp(s, "AzureLoadBalancer") == 0)
		return SG_PEER_LB;
	/* Anything that does not start like an address is a tag. */
	if (strchr(s, ':') == NULL && strspn(s, "0123456789./") != strlen(s))
		return SG_PEER_TAG;
	return SG_PEER_CIDR;
}

/* The singular field if it holds a value, else the plural list. */
static int
sg_azure_prefixes(struct sg_ctx *c, const json_t *f, const char *one,
    const char *many, const char *where, struct sg_peers *out)
{
	const char *s;
	json_t *arr, *v;
	char w[160];
	size_t i;
	int rc;

	if ((rc = sg_jstr(c, f, one, where, 0, &s)) != 0)
		return rc;
	if (s != NULL && *s != '\0')
		return sg_peer_add(c, out, sg_azure_tag(s), s, where);
	if ((rc = sg_jarr(c, f, many, where, 0, &arr)) != 0)
		return rc;
	json_array_foreach(arr, i, v) {
		snprintf(w, sizeof(w), "%s.%s[%zu]", where, many, i);
		if (!json_is_string(v))
			return sg_fail(c, FTP_ERR_INVAL, "%s: expected a "
			    "string", w);
		s = json_string_value(v);
		if ((rc = sg_peer_add(c, out, sg_azure_tag(s), s, w)) != 0)
			return rc;
	}
	return 0;
}

/* Application security groups: NICs the file does not list. */
static int
sg_azure_asgs(struct sg_ctx *c, const json_t *f, const char *key,
    const char *where, struct sg_peers *out)
{
	json_t *arr, *v;
	const char *id, *last;
	char w[160], text[160];
	size_t i;
	int rc;

	if ((rc = sg_jarr(c, f, key, where, 0, &arr)) != 0)
		return rc;
	json_array_foreach(arr, i, v) {
		snprintf(w, sizeof(w), "%s.%s[%zu]", where, key, i);
		id = json_string_value(json_object_get(v, "id"));
		last = id != NULL && strrchr(id, '/') != NULL ?
		    strrchr(id, '/') + 1 : id;
		snprintf(text, sizeof(text), "application security group %s",
		    last != NULL ? last : "(unnamed)");
		if ((rc = sg_peer_add(c, out, SG_PEER_MEMBER, text, w)) != 0)
			return rc;
	}
	return 0;
}

static int
sg_azure_ports(struct sg_ctx *c, const json_t *f, const char *one,
    const char *many, const char *where, struct sg_ports *out)
{
	const char *s;
	json_t *arr, *v;
	char w[160];
	size_t i;
	int rc;

	if ((rc = sg_jstr(c, f, one, where, 0, &s)) != 0)
		return rc;
	if (s != NULL && *s != '\0')
		return sg_ports_parse(c, out, s, 1, where);
	if ((rc = sg_jarr(c, f, many, where, 0, &arr)) != 0)
		return rc;
	json_array_foreach(arr, i, v) {
		snprintf(w, sizeof(w), "%s.%s[%zu]", where, many, i);
		if (!json_is_string(v))
			return sg_fail(c, FTP_ERR_INVAL, "%s: expected a "
			    "string", w);
		if ((rc = sg_ports_parse(c, out, json_string_value(v), 1,
		    w)) != 0)
			return rc;
	}
	if (!out->any && out->n == 0)
		return sg_fail(c, FTP_ERR_INVAL, "%s: neither %s nor %s", where,
		    one, many);
	return 0;
}

/* Source and destination prefixes (and ASGs) of a rule's fields f;
 * which is remote depends on the direction. */
static int
sg_azure_addrs(struct sg_ctx *c, struct sg_rule *r, const json_t *f,
    const char *w)
{
	struct sg_peers *src = r->dir == SG_IN ? &r->remote : &r->local;
	struct sg_peers *dst = r->dir == SG_IN ? &r->local : &r->remote;
	int rc;

	if ((rc = sg_azure_prefixes(c, f, "sourceAddressPrefix",
	    "sourceAddressPrefixes", w, src)) != 0 ||
	    (rc = sg_azure_asgs(c, f, "sourceApplicationSecurityGroups", w,
	    src)) != 0 ||
	    (rc = sg_azure_prefixes(c, f, "destinationAddressPrefix",
	    "destinationAddressPrefixes", w, dst)) != 0 ||
	    (rc = sg_azure_asgs(c, f, "destinationApplicationSecurityGroups",
	    w, dst)) != 0)
		return rc;
	if (r->remote.n == 0 || r->local.n == 0)
		return sg_fail(c, FTP_ERR_INVAL, "%s: no source or destination "
		    "address prefix", w);
	r->local_any = 0;
	return 0;
}

static int
sg_azure_enum(struct sg_ctx *c, const char *s, const char *a,
    const char *b, const char *key, const char *w, int *is_a)
{
	if (strcasecmp(s, a) == 0)
		*is_a = 1;
	else if (strcasecmp(s, b) == 0)
		*is_a = 0;
	else
		return sg_fail(c, FTP_ERR_INVAL, "%s.%s: \"%.20s\" is neither "
		    "%s nor %s", w, key, s, a, b);
	return 0;
}

static int
sg_azure_rule(struct sg_ctx *c, struct sg_group *g, const json_t *rule,
    const char *w)
{
	const json_t *f = rule;
	const char *name, *dir, *access, *proto;
	struct sg_rule *r;
	json_t *props;
	long prio;
	int rc, has, in = 0, allow = 0;

	if (!json_is_object(rule))
		return sg_fail(c, FTP_ERR_INVAL, "%s: expected an object", w);
	if ((rc = sg_jobj(c, rule, "properties", w, 0, &props)) != 0)
		return rc;
	if (props != NULL)
		f = props;
	if ((rc = sg_jstr(c, rule, "name", w, 1, &name)) != 0 ||
	    (rc = sg_jint(c, f, "priority", w, 0, 65535, &prio, &has)) != 0 ||
	    (rc = sg_jstr(c, f, "direction", w, 1, &dir)) != 0 ||
	    (rc = sg_jstr(c, f, "access", w, 1, &access)) != 0 ||
	    (rc = sg_jstr(c, f, "protocol", w, 1, &proto)) != 0)
		return rc;
	if (!has)
		return sg_fail(c, FTP_ERR_INVAL, "%s (%.40s): no priority", w,
		    name);
	if ((rc = sg_azure_enum(c, dir, "Inbound", "Outbound", "direction", w,
	    &in)) != 0 ||
	    (rc = sg_azure_enum(c, access, "Allow", "Deny", "access", w,
	    &allow)) != 0)
		return rc;
	if ((r = sg_rule_new(c, g, name)) == NULL)
		return FTP_ERR_NOMEM;
	r->priority = prio;
	r->dir = in ? SG_IN : SG_OUT;
	r->action = allow ? SG_ALLOW : SG_DENY;
	/* Udp, Icmp, Esp, Ah: never matches a TCP path, but holds its
	 * priority (unique per direction: the fix writer needs a free one). */
	if (strcmp(proto, "*") != 0 && strcasecmp(proto, "Tcp") != 0) {
		r->sports.any = 1;
		return 0;
	}
	if ((rc = sg_azure_ports(c, f, "destinationPortRange",
	    "destinationPortRanges", w, &r->dports)) != 0 ||
	    (rc = sg_azure_ports(c, f, "sourcePortRange", "sourcePortRanges",
	    w, &r->sports)) != 0)
		return rc;
	return sg_azure_addrs(c, r, f, w);
}

static int
sg_azure_rules(struct sg_ctx *c, struct sg_group *g, const json_t *f,
    const char *key, const char *where, int *seen)
{
	json_t *arr, *rule;
	char w[128];
	size_t i;
	int rc;

	if ((rc = sg_jarr(c, f, key, where, 0, &arr)) != 0)
		return rc;
	*seen = arr != NULL;
	json_array_foreach(arr, i, rule) {
		snprintf(w, sizeof(w), "%s.%s[%zu]", where, key, i);
		if ((rc = sg_azure_rule(c, g, rule, w)) != 0)
			return rc;
	}
	return 0;
}

/* The resource group: az prints it; the REST form has it in the id. */
static int
sg_azure_rg(struct sg_ctx *c, struct sg_group *g, const json_t *nsg,
    const char *w)
{
	const char *rg, *id, *p, *e;
	char buf[128];
	int rc;

	if ((rc = sg_jstr(c, nsg, "resourceGroup", w, 0, &rg)) != 0 ||
	    (rc = sg_jstr(c, nsg, "id", w, 0, &id)) != 0)
		return rc;
	if (rg == NULL && id != NULL &&
	    (p = strcasestr(id, "/resourceGroups/")) != NULL) {
		p += strlen("/resourceGroups/");
		e = strchr(p, '/');
		snprintf(buf, sizeof(buf), "%.*s",
		    (int)(e != NULL ? (size_t)(e - p) : strlen(p)), p);
		rg = buf;
	}
	if (rg == NULL || *rg == '\0')
		return 0;
	if ((g->rg = sg_strdup(c, rg)) == NULL)
		return FTP_ERR_NOMEM;
	return 0;
}

static int
sg_azure_nsg(struct sg_ctx *c, const json_t *nsg, const char *w)
{
	const json_t *f = nsg;
	const char *name;
	struct sg_group *g;
	json_t *props;
	int rc, seen;

	if (!json_is_object(nsg))
		return sg_fail(c, FTP_ERR_INVAL, "%s: expected an object", w);
	if ((rc = sg_jstr(c, nsg, "name", w, 1, &name)) != 0 ||
	    (rc = sg_jobj(c, nsg, "properties", w, 0, &props)) != 0)
		return rc;
	if (props != NULL && json_object_get(nsg, "securityRules") == NULL)
		f = props;
	if ((g = sg_group_new(c, SG_KIND_NSG, name, name)) == NULL)
		return FTP_ERR_NOMEM;
	if ((rc = sg_azure_rg(c, g, nsg, w)) != 0 ||
	    (rc = sg_azure_rules(c, g, f, "securityRules", w, &seen)) != 0 ||
	    (rc = sg_azure_rules(c, g, f, "defaultSecurityRules", w,
	    &g->has_defaults)) != 0)
		return rc;
	return 0;
}

int
sg_azure_read(struct sg_ctx *c, const json_t *root)
{
	char w[32];
	json_t *nsg;
	size_t i;
	int rc;

	if (json_is_object(root))
		return sg_azure_nsg(c, root, "(top)");
	json_array_foreach(root, i, nsg) {
		snprintf(w, sizeof(w), "[%zu]", i);
		if ((rc = sg_azure_nsg(c, nsg, w)) != 0)
			return rc;
	}
	return 0;
}
