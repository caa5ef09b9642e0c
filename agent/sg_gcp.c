/*
 * sg_gcp.c - GCP reader: `gcloud compute firewall-rules list
 * --format=json` into the model (sg_int.h), one group per VPC network
 * (a rule applies to the instances of its network only).
 *
 * Ingress rules without sourceRanges, sourceTags or source service
 * accounts match every IPv4 source, and egress rules without
 * destinationRanges every IPv4 destination, as GCP documents.  Source
 * tags and service accounts name instances, not addresses: members the
 * evaluator cannot see.  targetTags/targetServiceAccounts limit which
 * instances a rule applies to; the evaluator assumes the FTP server is
 * one of them and says so.  Disabled rules are read (a note can name
 * them) but never applied.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "sg_int.h"

/* The allowed[]/denied[] entries: the TCP ports they name, or none. */
static int
sg_gcp_protos(struct sg_ctx *c, struct sg_rule *r, const json_t *arr,
    const char *key, const char *where, int *tcp)
{
	const char *proto;
	json_t *e, *ports, *p;
	char w[160], wp[192];
	size_t i, j;
	int rc;

	*tcp = 0;
	json_array_foreach(arr, i, e) {
		snprintf(w, sizeof(w), "%s.%s[%zu]", where, key, i);
		if (!json_is_object(e))
			return sg_fail(c, FTP_ERR_INVAL, "%s: expected an "
			    "object", w);
		if ((rc = sg_jstr(c, e, "IPProtocol", w, 1, &proto)) != 0 ||
		    (rc = sg_jarr(c, e, "ports", w, 0, &ports)) != 0)
			return rc;
		if (strcasecmp(proto, "tcp") != 0 && strcmp(proto, "6") != 0 &&
		    strcasecmp(proto, "all") != 0)
			continue;
		*tcp = 1;
		if (ports == NULL || json_array_size(ports) == 0 ||
		    strcasecmp(proto, "all") == 0) {
			r->dports.any = 1;
			continue;
		}
		json_array_foreach(ports, j, p) {
			snprintf(wp, sizeof(wp), "%s.ports[%zu]", w, j);
			if (!json_is_string(p))
				return sg_fail(c, FTP_ERR_INVAL, "%s: expected "
				    "a string", wp);
			if ((rc = sg_ports_parse(c, &r->dports,
			    json_string_value(p), 0, wp)) != 0)
				return rc;
		}
	}
	return 0;
}

/* A list of strings at key, each added as a peer of kind k; text is
 * prefixed by what for members. */
static int
sg_gcp_list(struct sg_ctx *c, const json_t *o, const char *key,
    const char *where, enum sg_peer_kind k, const char *what,
    struct sg_peers *out, size_t *count)
{
	json_t *arr, *v;
	char w[160], text[256];
	size_t i;
	int rc;

	*count = 0;
	if ((rc = sg_jarr(c, o, key, where, 0, &arr)) != 0)
		return rc;
	json_array_foreach(arr, i, v) {
		snprintf(w, sizeof(w), "%s.%s[%zu]", where, key, i);
		if (!json_is_string(v))
			return sg_fail(c, FTP_ERR_INVAL, "%s: expected a "
			    "string", w);
		snprintf(text, sizeof(text), "%s%s", what,
		    json_string_value(v));
		if ((rc = sg_peer_add(c, out, k,
		    k == SG_PEER_CIDR ? json_string_value(v) : text, w)) != 0)
			return rc;
		(*count)++;
	}
	return 0;
}

/* The remote and local sides, by direction. */
static int
sg_gcp_addrs(struct sg_ctx *c, struct sg_rule *r, const json_t *o,
    const char *w)
{
	int in = r->dir == SG_IN, rc;
	size_t nr = 0, nt = 0, ns = 0, nl = 0;

	if ((rc = sg_gcp_list(c, o, in ? "sourceRanges" : "destinationRanges",
	    w, SG_PEER_CIDR, "", &r->remote, &nr)) != 0)
		return rc;
	if (in && ((rc = sg_gcp_list(c, o, "sourceTags", w, SG_PEER_MEMBER,
	    "instances tagged ", &r->remote, &nt)) != 0 ||
	    (rc = sg_gcp_list(c, o, "sourceServiceAccounts", w,
	    SG_PEER_MEMBER, "instances running as ", &r->remote, &ns)) != 0))
		return rc;
	if (nr + nt + ns == 0 &&
	    (rc = sg_peer_add(c, &r->remote, SG_PEER_CIDR, "0.0.0.0/0",
	    w)) != 0)
		return rc;
	if ((rc = sg_gcp_list(c, o, in ? "destinationRanges" : "sourceRanges",
	    w, SG_PEER_CIDR, "", &r->local, &nl)) != 0)
		return rc;
	r->local_any = nl == 0;
	return 0;
}

/* targetTags / targetServiceAccounts as one readable scope. */
static int
sg_gcp_scope(struct sg_ctx *c, struct sg_rule *r, const json_t *o,
    const char *w)
{
	static const char *const keys[] = {
		"targetTags", "targetServiceAccounts",
	};
	char text[256] = "";
	json_t *arr, *v;
	size_t i, k, len;
	int rc;

	for (k = 0; k < 2; k++) {
		if ((rc = sg_jarr(c, o, keys[k], w, 0, &arr)) != 0)
			return rc;
		json_array_foreach(arr, i, v) {
			if (!json_is_string(v))
				return sg_fail(c, FTP_ERR_INVAL, "%s.%s[%zu]: "
				    "expected a string", w, keys[k], i);
			len = strlen(text);
			snprintf(text + len, sizeof(text) - len, "%s%s %s",
			    len > 0 ? ", " : "", k == 0 ? "tag" :
			    "service account", json_string_value(v));
		}
	}
	if (text[0] != '\0' && (r->scope = sg_strdup(c, text)) == NULL)
		return FTP_ERR_NOMEM;
	return 0;
}

/* The group of a network URL's last segment, made on first sight. */
static struct sg_group *
sg_gcp_group(struct sg_ctx *c, const char *network)
{
	const char *name = strrchr(network, '/') != NULL ?
	    strrchr(network, '/') + 1 : network;

	const char *proj = strstr(network, "/projects/");
	struct sg_group *g;
	size_t i;

	for (i = 0; i < c->sg->ngroups; i++)
		if (strcmp(c->sg->groups[i].id, name) == 0)
			return &c->sg->groups[i];
	if ((g = sg_group_new(c, SG_KIND_FW, name, name)) == NULL)
		return NULL;
	/* The project, for the fix's --project, from .../projects/P/... */
	if (proj != NULL) {
		proj += strlen("/projects/");
		if (strchr(proj, '/') != NULL &&
		    (g->rg = strndup(proj, (size_t)(strchr(proj, '/') -
		    proj))) == NULL) {
			(void)sg_nomem(c);
			return NULL;
		}
	}
	return g;
}

static int
sg_gcp_head(struct sg_ctx *c, const json_t *o, const char *w,
    const char **name, const char **network, long *prio, int *in)
{
	const char *dir;
	int rc, has;

	if ((rc = sg_jstr(c, o, "name", w, 1, name)) != 0 ||
	    (rc = sg_jstr(c, o, "network", w, 1, network)) != 0 ||
	    (rc = sg_jint(c, o, "priority", w, 0, 65535, prio, &has)) != 0 ||
	    (rc = sg_jstr(c, o, "direction", w, 0, &dir)) != 0)
		return rc;
	if (!has)
		*prio = 1000;
	if (dir == NULL || strcasecmp(dir, "INGRESS") == 0)
		*in = 1;
	else if (strcasecmp(dir, "EGRESS") == 0)
		*in = 0;
	else
		return sg_fail(c, FTP_ERR_INVAL, "%s.direction: \"%.20s\" is "
		    "neither INGRESS nor EGRESS", w, dir);
	return 0;
}

static int
sg_gcp_rule(struct sg_ctx *c, const json_t *o, const char *w)
{
	const char *name, *network;
	json_t *allowed, *denied;
	struct sg_group *g;
	struct sg_rule *r;
	long prio;
	int rc, in = 1, tcp, disabled;

	if (!json_is_object(o))
		return sg_fail(c, FTP_ERR_INVAL, "%s: expected an object", w);
	if ((rc = sg_gcp_head(c, o, w, &name, &network, &prio, &in)) != 0 ||
	    (rc = sg_jarr(c, o, "allowed", w, 0, &allowed)) != 0 ||
	    (rc = sg_jarr(c, o, "denied", w, 0, &denied)) != 0 ||
	    (rc = sg_jbool(c, o, "disabled", w, 0, &disabled)) != 0)
		return rc;
	if ((allowed == NULL) == (denied == NULL))
		return sg_fail(c, FTP_ERR_INVAL, "%s (%.60s): needs exactly one "
		    "of allowed and denied", w, name);
	if ((g = sg_gcp_group(c, network)) == NULL ||
	    (r = sg_rule_new(c, g, name)) == NULL)
		return FTP_ERR_NOMEM;
	r->priority = prio;
	r->dir = in ? SG_IN : SG_OUT;
	r->action = allowed != NULL ? SG_ALLOW : SG_DENY;
	r->disabled = disabled;
	r->sports.any = 1;
	if ((rc = sg_gcp_protos(c, r, allowed != NULL ? allowed : denied,
	    allowed != NULL ? "allowed" : "denied", w, &tcp)) != 0)
		return rc;
	/* No TCP in it: the rule never sees an FTP path.  Nothing of it
	 * is freed here; an empty port list simply never matches. */
	if (!tcp)
		return 0;
	if ((rc = sg_gcp_addrs(c, r, o, w)) != 0 ||
	    (rc = sg_gcp_scope(c, r, o, w)) != 0)
		return rc;
	return 0;
}

int
sg_gcp_read(struct sg_ctx *c, const json_t *root)
{
	json_t *o;
	char w[32];
	size_t i;
	int rc;

	json_array_foreach(root, i, o) {
		snprintf(w, sizeof(w), "[%zu]", i);
		if ((rc = sg_gcp_rule(c, o, w)) != 0)
			return rc;
	}
	return 0;
}
