/*
 * sg_fix.c - the missing rules, in each provider's CLI syntax, for the
 * runs sg_eval.c found denied and not measured passing.
 *
 * Each command opens exactly the run's ports to the client's address
 * (/32 or /128), nothing wider.  Ordered groups need the new rule before
 * the one that denies: any free number below it works, since no earlier
 * rule matched; a round one is taken when free.  Stateless ACLs get the
 * way back too, once per group however many paths need it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "sg_int.h"

static const char *const sg_fix_names[SG_NPATHS] = {
	"ftpath-control", "ftpath-passive", "ftpath-active", "ftpath-channel",
};

/* One group's fix writing. */
struct sg_fx {
	const struct sg *sg;
	const struct sg_group *g;
	const struct sg_input *in;
	struct sg_gres *res;
	struct sg_strv *names;		/* rule names taken in this file */
	struct sg_strv keys;		/* flows already fixed */
	long *taken;			/* numbers given to new rules */
	size_t ntaken;
	char cidr[ADDR_STRLEN + 8];
	int v6;
	char gid[160], rg[200];
};

/* s as one shell word: bare when it is plainly safe, else quoted; a
 * control character (a newline would split the command) becomes '?'. */
static void
sg_shq(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	if (*s != '\0' && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklm"
	    "nopqrstuvwxyz0123456789._-/:@") == strlen(s)) {
		snprintf(buf, len, "%s", s);
		return;
	}
	if (len < 3) {
		buf[0] = '\0';
		return;
	}
	buf[o++] = '\'';
	for (; *s != '\0' && o + 6 < len; s++) {
		if (*s == '\'') {
			memcpy(buf + o, "'\\''", 4);
			o += 4;
		} else if ((unsigned char)*s < 0x20 || *s == 0x7f) {
			buf[o++] = '?';
		} else {
			buf[o++] = *s;
		}
	}
	buf[o++] = '\'';
	buf[o] = '\0';
}

static void
sg_range_text(const struct portrange *r, char sep, char *buf, size_t len)
{
	if (r->lo == r->hi)
		snprintf(buf, len, "%u", r->lo);
	else
		snprintf(buf, len, "%u%c%u", r->lo, sep, r->hi);
}

static int
sg_taken(const struct sg_fx *fx, enum sg_dir dir, long n)
{
	const struct sg_group *g = fx->g;
	size_t i;

	for (i = 0; i < g->nrules; i++)
		if (g->rules[i].dir == dir && g->rules[i].priority == n)
			return 1;
	for (i = 0; i < fx->ntaken; i++)
		if (fx->taken[i] == (dir == SG_IN ? n : -n - 1))
			return 1;
	return 0;
}

/* The largest free number in lo..hi, a multiple of 10 if one is free;
 * -1 when none is.  It is then taken. */
static long
sg_free_number(struct sg_fx *fx, enum sg_dir dir, long lo, long hi)
{
	long n, best = -1, *t;

	for (n = hi - hi % 10; n >= lo && best < 0; n -= 10)
		if (!sg_taken(fx, dir, n))
			best = n;
	for (n = hi; n >= lo && best < 0; n--)
		if (!sg_taken(fx, dir, n))
			best = n;
	if (best < 0)
		return -1;
	if ((t = realloc(fx->taken, (fx->ntaken + 1) * sizeof(*t))) == NULL)
		return -2;
	fx->taken = t;
	t[fx->ntaken++] = dir == SG_IN ? best : -best - 1;
	return best;
}

/* A rule name unique in the file: ftpath-passive, ftpath-passive-2. */
static int
sg_fix_name(struct sg_fx *fx, enum sg_path p, char *buf, size_t len)
{
	unsigned k;

	snprintf(buf, len, "%s", sg_fix_names[p]);
	for (k = 2; sg_strv_has(fx->names, buf) && k < 100000; k++)
		snprintf(buf, len, "%s-%u", sg_fix_names[p], k);
	return sg_strv_add(fx->names, 0, "%s", buf);
}

static int
sg_fix_aws_sg(struct sg_fx *fx, enum sg_dir dir, const struct portrange *r)
{
	return sg_strv_add(&fx->res->fix, 1, "aws ec2 authorize-security-"
	    "group-%s --group-id %s --ip-permissions 'IpProtocol=tcp,"
	    "FromPort=%u,ToPort=%u,%s=[{%s=%s}]'",
	    dir == SG_IN ? "ingress" : "egress", fx->gid, r->lo, r->hi,
	    fx->v6 ? "Ipv6Ranges" : "IpRanges", fx->v6 ? "CidrIpv6" :
	    "CidrIp", fx->cidr);
}

static int
sg_fix_nacl(struct sg_fx *fx, enum sg_dir dir, const struct portrange *r,
    const struct sg_rule *deny)
{
	long before = deny != NULL && deny->priority < 32767 ?
	    deny->priority : 32767;
	long n = sg_free_number(fx, dir, 1, before - 1);	/* 1..32766 */

	if (n == -2)
		return FTP_ERR_NOMEM;
	if (n < 0)
		return sg_strv_add(&fx->res->fix, 1, "# %s: no free rule number "
		    "below %ld for tcp %u-%u %s %s: renumber the ACL", fx->gid,
		    before, r->lo, r->hi, dir == SG_IN ? "from" : "to",
		    fx->cidr);
	return sg_strv_add(&fx->res->fix, 1, "aws ec2 create-network-acl-entry "
	    "--network-acl-id %s --rule-number %ld --protocol tcp "
	    "--port-range From=%u,To=%u --%s %s --rule-action allow%s",
	    fx->gid, n, r->lo, r->hi, fx->v6 ? "ipv6-cidr-block" :
	    "cidr-block", fx->cidr, dir == SG_OUT ? " --egress" : "");
}

static int
sg_fix_azure(struct sg_fx *fx, enum sg_path p, enum sg_dir dir,
    const struct portrange *r, const struct sg_rule *deny)
{
	long before = deny != NULL && deny->priority <= 4096 ?
	    deny->priority : 4097;
	long n = sg_free_number(fx, dir, 100, before - 1);
	char name[48], ports[16];
	int rc;

	if (n == -2)
		return FTP_ERR_NOMEM;
	if (n < 0)
		return sg_strv_add(&fx->res->fix, 1, "# %s: no free priority "
		    "below %ld for tcp %u-%u: renumber the NSG's rules",
		    fx->gid, before, r->lo, r->hi);
	if ((rc = sg_fix_name(fx, p, name, sizeof(name))) != 0)
		return rc;
	sg_range_text(r, '-', ports, sizeof(ports));
	if (dir == SG_IN)
		return sg_strv_add(&fx->res->fix, 0, "az network nsg rule create "
		    "--resource-group %s --nsg-name %s --name %s --priority %ld "
		    "--direction Inbound --access Allow --protocol Tcp "
		    "--source-address-prefixes %s --destination-port-ranges %s",
		    fx->rg, fx->gid, name, n, fx->cidr, ports);
	return sg_strv_add(&fx->res->fix, 0, "az network nsg rule create "
	    "--resource-group %s --nsg-name %s --name %s --priority %ld "
	    "--direction Outbound --access Allow --protocol Tcp "
	    "--source-port-ranges %u --destination-address-prefixes %s "
	    "--destination-port-ranges %s", fx->rg, fx->gid, name, n,
	    fx->in->active_sport, fx->cidr, ports);
}

static int
sg_fix_gcp(struct sg_fx *fx, enum sg_path p, enum sg_dir dir,
    const struct portrange *r, const struct sg_rule *deny)
{
	long before = deny != NULL ? deny->priority : 65535;
	char name[48], ports[16], dname[160];
	int rc;

	/* Not unique in GCP, but it must be below the deny: a deny wins
	 * a tie. */
	if (before == 0) {
		sg_shq(deny->name, dname, sizeof(dname));
		return sg_strv_add(&fx->res->fix, 1, "# network %s: rule %s "
		    "denies at priority 0; no rule can come before it",
		    fx->gid, dname);
	}
	if ((rc = sg_fix_name(fx, p, name, sizeof(name))) != 0)
		return rc;
	sg_range_text(r, '-', ports, sizeof(ports));
	return sg_strv_add(&fx->res->fix, 0, "gcloud compute firewall-rules "
	    "create %s%s%s --network %s --direction %s --action ALLOW "
	    "--rules tcp:%s --%s-ranges %s --priority %ld", name,
	    fx->rg[0] != '\0' ? " --project " : "", fx->rg, fx->gid,
	    dir == SG_IN ? "INGRESS" : "EGRESS", ports,
	    dir == SG_IN ? "source" : "destination", fx->cidr,
	    before > 1000 ? 1000 : before - 1);
}

/* One missing flow: dir, ports, the rule that denied it. */
static int
sg_fix_flow(struct sg_fx *fx, enum sg_path p, enum sg_dir dir,
    const struct portrange *r, const struct sg_rule *deny)
{
	char key[64];
	int rc;

	snprintf(key, sizeof(key), "%d %u-%u", (int)dir, r->lo, r->hi);
	if (sg_strv_has(&fx->keys, key))
		return 0;
	if ((rc = sg_strv_add(&fx->keys, 0, "%s", key)) != 0)
		return rc;
	switch (fx->g->kind) {
	case SG_KIND_SG:
		return sg_fix_aws_sg(fx, dir, r);
	case SG_KIND_NACL:
		return sg_fix_nacl(fx, dir, r, deny);
	case SG_KIND_NSG:
		return sg_fix_azure(fx, p, dir, r, deny);
	default:
		return sg_fix_gcp(fx, p, dir, r, deny);
	}
}

static void
sg_fx_init(struct sg_fx *fx, const struct sg *sg, size_t gi,
    const struct sg_input *in, struct sg_strv *names)
{
	struct sockaddr_storage cl = in->client;
	char addr[ADDR_STRLEN];

	memset(fx, 0, sizeof(*fx));
	fx->sg = sg;
	fx->g = &sg->groups[gi];
	fx->in = in;
	fx->res = &sg->res[gi];
	fx->names = names;
	addr_unmap(&cl);
	fx->v6 = cl.ss_family == AF_INET6;
	addr_text((const struct sockaddr *)&cl, 0, addr, sizeof(addr));
	snprintf(fx->cidr, sizeof(fx->cidr), "%s/%d", addr, fx->v6 ? 128 : 32);
	sg_shq(fx->g->id, fx->gid, sizeof(fx->gid));
	/* Unknown resource group: the script stops and asks for it. */
	if (fx->g->rg != NULL)
		sg_shq(fx->g->rg, fx->rg, sizeof(fx->rg));
	else if (fx->g->kind == SG_KIND_NSG)
		snprintf(fx->rg, sizeof(fx->rg), "\"${RESOURCE_GROUP:?set "
		    "RESOURCE_GROUP to the NSG's resource group}\"");
}

/* Whether run b continues run a's fix (ports so far in *ports). */
static int
sg_fix_joins(const struct sg_runfix *a, const struct sg_runfix *b,
    struct portrange *ports)
{
	if (!b->needed || b->path != a->path || b->fwd_denied != a->fwd_denied ||
	    b->ret_denied != a->ret_denied || b->fwd_rule != a->fwd_rule ||
	    b->ret_rule != a->ret_rule || b->ports.lo != ports->hi + 1u)
		return 0;
	ports->hi = b->ports.hi;
	return 1;
}

int
sg_fix_group(const struct sg *sg, size_t gi, const struct sg_input *in,
    struct sg_strv *names)
{
	struct sg_fx fx;
	const struct sg_runfix *rf;
	struct portrange ports;
	size_t i;
	int r = 0;

	sg_fx_init(&fx, sg, gi, in, names);
	for (i = 0; i < fx.res->npaths && r == 0; i++) {
		rf = &fx.res->rf[i];
		ports = rf->ports;
		if (!rf->needed)
			continue;
		/* Neighbouring runs denied by the same rule (they differ in
		 * a note only) take one command. */
		while (i + 1 < fx.res->npaths && sg_fix_joins(rf,
		    &fx.res->rf[i + 1], &ports))
			i++;
		if (rf->fwd_denied)
			r = sg_fix_flow(&fx, rf->path, rf->dir, &ports,
			    rf->fwd_rule);
		if (r == 0 && rf->ret_denied)
			r = sg_fix_flow(&fx, rf->path, rf->ret_dir,
			    &rf->ret_ports, rf->ret_rule);
	}
	sg_strv_free(&fx.keys);
	free(fx.taken);
	return r;
}
