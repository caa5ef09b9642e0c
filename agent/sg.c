/*
 * sg.c - cloud security groups: provider detection, loading, the views
 * a renderer reads, the JSON entries and the cloud-<provider>.sh script
 * (see sg.h).  The readers, the evaluator and the fix writer live in
 * sg_aws.c, sg_azure.c, sg_gcp.c, sg_eval.c and sg_fix.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "readfile.h"
#include "sg_int.h"

static const char *const sg_provider_names[SG_NPROVIDERS] = {
	"aws", "azure", "gcp",
};

static const char *const sg_kind_names[] = {
	"security-group", "network-acl", "nsg", "firewall",
};

const char *
sg_provider_name(enum sg_provider p)
{
	return (unsigned)p < SG_NPROVIDERS ? sg_provider_names[p] : "?";
}

const char *
sg_script_name(enum sg_provider p)
{
	static const char *const names[SG_NPROVIDERS] = {
		"cloud-aws.sh", "cloud-azure.sh", "cloud-gcp.sh",
	};

	return (unsigned)p < SG_NPROVIDERS ? names[p] : "cloud.sh";
}

enum sg_provider
sg_provider(const struct sg *sg)
{
	return sg->provider;
}

size_t
sg_count(const struct sg *sg)
{
	return sg != NULL ? sg->ngroups : 0;
}

static void
sg_results_free(struct sg *sg)
{
	size_t i;

	for (i = 0; i < sg->nres; i++)
		sg_gres_free(&sg->res[i]);
	free(sg->res);
	sg->res = NULL;
	sg->nres = 0;
}

void
sg_free(struct sg *sg)
{
	size_t i, j;

	if (sg == NULL)
		return;
	sg_results_free(sg);
	for (i = 0; i < sg->ngroups; i++) {
		struct sg_group *g = &sg->groups[i];

		for (j = 0; j < g->nrules; j++)
			sg_rule_free(&g->rules[j]);
		free(g->rules);
		free(g->id);
		free(g->name);
		free(g->rg);
	}
	free(sg->groups);
	free(sg->file);
	free(sg);
}

/* Azure: an NSG has its rules flat (az) or under "properties" (REST). */
static int
sg_is_nsg(const json_t *o)
{
	const json_t *p = json_object_get(o, "properties");

	if (!json_is_object(o))
		return 0;
	if (json_object_get(o, "securityRules") != NULL ||
	    json_object_get(o, "defaultSecurityRules") != NULL)
		return 1;
	return json_is_object(p) &&
	    (json_object_get(p, "securityRules") != NULL ||
	    json_object_get(p, "defaultSecurityRules") != NULL);
}

static int
sg_is_gcp_rule(const json_t *o)
{
	return json_is_object(o) &&
	    (json_object_get(o, "allowed") != NULL ||
	    json_object_get(o, "denied") != NULL ||
	    json_object_get(o, "sourceRanges") != NULL ||
	    (json_is_string(json_object_get(o, "kind")) &&
	    strcmp(json_string_value(json_object_get(o, "kind")),
	    "compute#firewall") == 0));
}

static const char sg_shapes[] = "expected aws ec2 describe-security-groups "
    "(SecurityGroups), describe-network-acls (NetworkAcls), az network nsg "
    "show/list (securityRules) or gcloud compute firewall-rules list (an "
    "array of rules with allowed/denied)";

/* Tell the provider by the shape of the document and read it. */
static int
sg_detect_read(struct sg_ctx *c, const json_t *root)
{
	if (json_is_object(root)) {
		if (json_object_get(root, "SecurityGroups") != NULL) {
			c->sg->provider = SG_AWS;
			return sg_aws_read_groups(c, root);
		}
		if (json_object_get(root, "NetworkAcls") != NULL) {
			c->sg->provider = SG_AWS;
			return sg_aws_read_nacls(c, root);
		}
		if (sg_is_nsg(root)) {
			c->sg->provider = SG_AZURE;
			return sg_azure_read(c, root);
		}
		return sg_fail(c, FTP_ERR_INVAL, "unknown shape: an object "
		    "without SecurityGroups, NetworkAcls or securityRules "
		    "(%s)", sg_shapes);
	}
	if (!json_is_array(root))
		return sg_fail(c, FTP_ERR_INVAL, "unknown shape: %s",
		    sg_shapes);
	if (json_array_size(root) == 0)
		return sg_fail(c, FTP_ERR_INVAL, "an empty list: no rules and "
		    "no network to evaluate");
	if (sg_is_nsg(json_array_get(root, 0))) {
		c->sg->provider = SG_AZURE;
		return sg_azure_read(c, root);
	}
	if (sg_is_gcp_rule(json_array_get(root, 0))) {
		c->sg->provider = SG_GCP;
		return sg_gcp_read(c, root);
	}
	return sg_fail(c, FTP_ERR_INVAL, "unknown shape: a list whose first "
	    "element is neither an NSG nor a firewall rule (%s)", sg_shapes);
}

/* jansson's message, told apart: a cut-off file reads differently from
 * one that is not JSON at all. */
static int
sg_json_error(struct sg_ctx *c, const json_error_t *je)
{
	if (strstr(je->text, "premature end of input") != NULL ||
	    strstr(je->text, "end of file") != NULL)
		return sg_fail(c, FTP_ERR_INVAL, "truncated JSON: %s (line %d, "
		    "column %d)", je->text, je->line, je->column);
	return sg_fail(c, FTP_ERR_INVAL, "not valid JSON: %s (line %d, "
	    "column %d)", je->text, je->line, je->column);
}

/* Only white space (buf need not end in a NUL). */
static int
sg_blank(const char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (strchr(" \t\r\n", buf[i]) == NULL || buf[i] == '\0')
			return 0;
	return 1;
}

int
sg_parse(const char *file, const char *buf, size_t len, struct sg **out,
    char *err, size_t errlen)
{
	struct sg_ctx c = { NULL, file != NULL ? file : "-", err, errlen };
	json_error_t je;
	json_t *root = NULL;
	int r = FTP_ERR_NOMEM;

	if ((c.sg = calloc(1, sizeof(*c.sg))) == NULL ||
	    (c.sg->file = strdup(c.file)) == NULL) {
		r = sg_nomem(&c);
		goto out;
	}
	if (sg_blank(buf, len)) {
		r = sg_fail(&c, FTP_ERR_INVAL, "empty file");
		goto out;
	}
	/* Duplicate keys are refused: which of two IpPermissions would the
	 * provider have used? */
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
	    &je);
	if (root == NULL) {
		r = sg_json_error(&c, &je);
		goto out;
	}
	if ((r = sg_detect_read(&c, root)) != 0)
		goto out;
	if (c.sg->ngroups == 0) {
		r = sg_fail(&c, FTP_ERR_INVAL, "no security group in the file");
		goto out;
	}
	*out = c.sg;
	c.sg = NULL;
	r = 0;
out:
	json_decref(root);
	sg_free(c.sg);
	return r;
}

int
sg_load(const char *path, struct sg **out, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	int r;

	r = readfile_load(path, SG_FILE_MAX, &buf, &len);
	if (r == FTP_ERR_TOOBIG)
		ftp_errmsg(err, errlen, "%s: larger than %u bytes", path,
		    SG_FILE_MAX);
	else if (r != 0)
		ftp_errmsg(err, errlen, "%s: %s", path, ftp_strerror(r));
	if (r != 0)
		goto out;
	r = sg_parse(path, buf, len, out, err, errlen);
out:
	free(buf);
	return r;
}

int
sg_group(const struct sg *sg, size_t i, struct sg_group_view *out)
{
	const struct sg_group *g;
	const struct sg_gres *res;

	if (sg == NULL || i >= sg->nres)
		return FTP_ERR_NOTFOUND;
	g = &sg->groups[i];
	res = &sg->res[i];
	memset(out, 0, sizeof(*out));
	out->provider = sg_provider_name(sg->provider);
	out->kind = sg_kind_names[g->kind];
	out->file = sg->file;
	out->group = g->id;
	out->name = g->name;
	out->paths = res->paths;
	out->npaths = res->npaths;
	out->fix = (const char *const *)res->fix.v;
	out->nfix = res->fix.n;
	out->assumptions = (const char *const *)res->assume.v;
	out->nassumptions = res->assume.n;
	return 0;
}

static json_t *
sg_json_path(const struct sg_path_view *p)
{
	json_t *o = json_object(), *allowed;
	char ports[16];
	int bad = 0;

	if (o == NULL)
		return NULL;
	allowed = p->allowed == SG_UNKNOWN ? json_null() :
	    json_boolean(p->allowed == SG_ALLOWED);
	bad |= json_object_set_new(o, "name", json_string(p->name));
	if (p->ports.lo == p->ports.hi) {
		bad |= json_object_set_new(o, "port",
		    json_integer(p->ports.lo));
	} else {
		snprintf(ports, sizeof(ports), "%u-%u", p->ports.lo,
		    p->ports.hi);
		bad |= json_object_set_new(o, "ports", json_string(ports));
	}
	bad |= json_object_set_new(o, "allowed", allowed);
	bad |= json_object_set_new(o, "explains", json_boolean(p->explains));
	bad |= json_object_set_new(o, "rule", json_string(p->rule));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *
sg_json_group(const struct sg_group_view *v)
{
	json_t *o = json_object(), *paths = json_array(), *fix = json_array();
	size_t i;
	int bad = o == NULL || paths == NULL || fix == NULL;

	for (i = 0; !bad && i < v->npaths; i++)
		bad |= json_array_append_new(paths,
		    sg_json_path(&v->paths[i]));
	for (i = 0; !bad && i < v->nfix; i++)
		bad |= json_array_append_new(fix, json_string(v->fix[i]));
	if (!bad) {
		bad |= json_object_set_new(o, "provider",
		    json_string(v->provider));
		bad |= json_object_set_new(o, "file", json_string(v->file));
		bad |= json_object_set_new(o, "group", json_string(v->group));
		bad |= json_object_set(o, "paths", paths);
		bad |= json_object_set(o, "fix", fix);
	}
	json_decref(paths);
	json_decref(fix);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *
sg_json(const struct sg *sg)
{
	struct sg_group_view v;
	json_t *arr;
	size_t i;

	if (sg == NULL || sg->res == NULL || (arr = json_array()) == NULL)
		return NULL;
	for (i = 0; i < sg->nres; i++) {
		if (sg_group(sg, i, &v) != 0 ||
		    json_array_append_new(arr, sg_json_group(&v)) != 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

/* A growing text for the script. */
struct sg_text {
	char *s;
	size_t len;
	int bad;
};

__attribute__((format(printf, 2, 3)))
static void
sg_text_add(struct sg_text *t, const char *fmt, ...)
{
	va_list ap;
	char *line, *n;
	size_t l;

	if (t->bad)
		return;
	va_start(ap, fmt);
	if (vasprintf(&line, fmt, ap) < 0) {
		va_end(ap);
		t->bad = 1;
		return;
	}
	va_end(ap);
	l = strlen(line);
	if ((n = realloc(t->s, t->len + l + 1)) == NULL) {
		free(line);
		t->bad = 1;
		return;
	}
	memcpy(n + t->len, line, l + 1);
	t->s = n;
	t->len += l;
	free(line);
}

/*
 * A comment line naming a group.  Names come from the file: a newline
 * in one would end the comment and run the rest, so control characters
 * become '?'.
 */
static void
sg_text_line(struct sg_text *t, const char *file, const char *kind,
    const char *group, const char *name)
{
	char line[512];
	size_t i;

	snprintf(line, sizeof(line), "%s: %s %s (%s)", file, kind, group,
	    name);
	for (i = 0; line[i] != '\0'; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';
	sg_text_add(t, "#   %s\n", line);
}

/* The commands of provider p's groups, each once (two files may name
 * the same group). */
static int
sg_script_cmds(const struct sg *const *sgs, size_t n, enum sg_provider p,
    struct sg_strv *cmds, struct sg_text *t)
{
	struct sg_group_view v;
	size_t i, g, k;
	int r;

	for (i = 0; i < n; i++) {
		if (sgs[i] == NULL || sgs[i]->provider != p)
			continue;
		for (g = 0; sg_group(sgs[i], g, &v) == 0; g++) {
			if (v.nfix == 0)
				continue;
			sg_text_line(t, v.file, v.kind, v.group, v.name);
			for (k = 0; k < v.nfix; k++)
				if ((r = sg_strv_add(cmds, 1, "%s",
				    v.fix[k])) != 0)
					return r;
		}
	}
	return 0;
}

int
sg_script(const struct sg *const *sgs, size_t n, enum sg_provider p,
    char **text)
{
	struct sg_strv cmds = { NULL, 0 };
	struct sg_text t = { NULL, 0, 0 };
	struct sg_text groups = { NULL, 0, 0 };
	size_t i;
	int r;

	if ((r = sg_script_cmds(sgs, n, p, &cmds, &groups)) != 0)
		goto out;
	r = FTP_ERR_NOTFOUND;
	if (cmds.n == 0)
		goto out;
	sg_text_add(&t, "#!/bin/sh\nset -eu\n");
	sg_text_add(&t, "# %s - written by ftpath-agent: the narrowest %s "
	    "rules the measured\n# FTP paths are missing, in the provider's "
	    "CLI syntax.  Review before running;\n# each command adds one "
	    "rule.  Groups:\n%s", sg_script_name(p), sg_provider_name(p),
	    groups.s != NULL ? groups.s : "");
	for (i = 0; i < cmds.n; i++)
		sg_text_add(&t, "%s\n", cmds.v[i]);
	r = FTP_ERR_NOMEM;
	if (t.bad || groups.bad)
		goto out;
	*text = t.s;
	t.s = NULL;
	r = 0;
out:
	free(t.s);
	free(groups.s);
	sg_strv_free(&cmds);
	return r;
}
