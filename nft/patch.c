/*
 * patch.c - nftables fix scripts for local rules that drop FTP, and their
 * check by the kernel (see patch.h).
 *
 * The writer plans every hole first (validation, direction, ports merged,
 * the peer as a prefix) and only then prints, so a bad hole anywhere
 * yields no text at all.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nftables/libnftables.h>

#include "err.h"
#include "patch.h"

#define PATCH_CAUSE_MAX	200
#define PATCH_PEER_MAX	(INET6_ADDRSTRLEN + 5)

/* ---- growing text buffer ---- */

struct patch_sb {
	char	*buf;
	size_t	 len;
	size_t	 cap;
	int	 err;	/* first error; later appends are no-ops */
};

__attribute__((format(printf, 2, 3)))
static void
patch_sb_add(struct patch_sb *sb, const char *fmt, ...)
{
	va_list ap;
	size_t need, ncap;
	char *nb;
	int n;

	if (sb->err != 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		sb->err = FTP_ERR_INVAL;
		return;
	}
	need = sb->len + (size_t)n + 1;
	if (need > sb->cap) {
		for (ncap = sb->cap ? sb->cap : 1024; ncap < need; ncap *= 2)
			;
		if ((nb = realloc(sb->buf, ncap)) == NULL) {
			sb->err = FTP_ERR_NOMEM;
			return;
		}
		sb->buf = nb;
		sb->cap = ncap;
	}
	va_start(ap, fmt);
	(void)vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

/* ---- one hole, planned ---- */

struct patch_plan {
	const struct patch_hole	*h;
	int			 tfam;	/* 0 inet, 4 ip, 6 ip6 */
	int			 v6;	/* the peer is IPv6 */
	int			 in;	/* the hook sees packets arriving */
	int			 reply;	/* it drops the connection's answers */
	int			 helper;	/* style HELPER, data path */
	char			 peer[PATCH_PEER_MAX];	/* "198.51.100.0/24" */
	struct portrange	 ports[PATCH_PORTS_MAX];	/* merged, sorted */
	size_t			 nports;
	uint16_t		 ctrl;
	uint16_t		 data;
	const char		*cause;
};

/* nft's command line reads a name as one word only if it starts with a
 * letter, '_' or '.' and 1.0.6 takes no quotes there; this alphabet also
 * keeps any name from adding words or commands to the script. */
static int
patch_name_ok(const char *s)
{
	size_t i;
	char c;

	if (s == NULL || s[0] == '\0' || (s[0] >= '0' && s[0] <= '9') ||
	    s[0] == '-')
		return 0;
	for (i = 0; (c = s[i]) != '\0'; i++) {
		if (i >= 255)
			return 0;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return 0;
	}
	return 1;
}

/* The cause goes into comment lines: one line of printable ASCII, or a
 * newline could start a command of its own. */
static int
patch_cause_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (i >= PATCH_CAUSE_MAX || s[i] < 0x20 || s[i] > 0x7e)
			return 0;
	return i > 0;
}

static int
patch_family(const char *f)
{
	if (f == NULL)
		return -1;
	if (strcmp(f, "inet") == 0)
		return 0;
	if (strcmp(f, "ip") == 0)
		return 4;
	if (strcmp(f, "ip6") == 0)
		return 6;
	return -1;
}

/* Does the connection's first packet arrive at this host?  On the server
 * control and passive connections arrive and active ones leave; on the
 * client the other way round. */
static int
patch_orig_in(const struct patch_hole *h)
{
	return (h->host == PATCH_HOST_SERVER) != (h->path == PATCH_PATH_ACTIVE);
}

/* Which way the hook sees packets: 1 arriving, 0 leaving.  forward and an
 * unknown hook see the connection's own direction. */
static int
patch_hook_in(const char *hook, int orig_in, int *in)
{
	if (hook == NULL || hook[0] == '\0' || strcmp(hook, "forward") == 0)
		*in = orig_in;
	else if (strcmp(hook, "input") == 0 || strcmp(hook, "prerouting") == 0)
		*in = 1;
	else if (strcmp(hook, "output") == 0 ||
	    strcmp(hook, "postrouting") == 0)
		*in = 0;
	else
		return FTP_ERR_INVAL;
	return 0;
}

static int
patch_range_cmp(const void *a, const void *b)
{
	const struct portrange *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return (x->hi > y->hi) - (x->hi < y->hi);
}

/* Sort and merge overlapping and adjacent ranges: { 21, 30000-30099 }. */
static int
patch_ports_merge(struct patch_plan *p, const struct portrange *in, size_t n)
{
	size_t i, o = 0;

	if (n > PATCH_PORTS_MAX)
		return FTP_ERR_TOOBIG;
	if (n > 0 && in == NULL)
		return FTP_ERR_INVAL;
	for (i = 0; i < n; i++)
		if (in[i].lo == 0 || in[i].lo > in[i].hi)
			return FTP_ERR_INVAL;
	if (n > 0)
		memcpy(p->ports, in, n * sizeof(*in));
	qsort(p->ports, n, sizeof(*in), patch_range_cmp);
	for (i = 0; i < n; i++) {
		if (o > 0 && (uint32_t)p->ports[i].lo <=
		    (uint32_t)p->ports[o - 1].hi + 1) {
			if (p->ports[i].hi > p->ports[o - 1].hi)
				p->ports[o - 1].hi = p->ports[i].hi;
			continue;
		}
		p->ports[o++] = p->ports[i];
	}
	p->nports = o;
	return 0;
}

/* Clear the host bits past `prefix` of an address of `bytes` bytes. */
static void
patch_mask(uint8_t *a, size_t bytes, unsigned prefix)
{
	size_t i;

	for (i = 0; i < bytes; i++) {
		if (prefix >= 8 * (i + 1))
			continue;
		if (prefix <= 8 * i)
			a[i] = 0;
		else
			a[i] &= (uint8_t)(0xff << (8 - (prefix - 8 * i)));
	}
}

/* The peer as nft writes a prefix; the host's own length prints bare.
 * A v4-mapped peer (a dual-stack socket's view) is the IPv4 host the
 * packets really carry. */
static int
patch_peer(struct patch_plan *p, const struct patch_hole *h)
{
	struct sockaddr_storage ss = h->peer;
	struct in6_addr a6;
	struct in_addr a4;
	unsigned max, pfx = h->prefix;
	char ab[INET6_ADDRSTRLEN];
	void *src;
	int af, n;

	if (ss.ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(
	    &((const struct sockaddr_in6 *)&ss)->sin6_addr)) {
		addr_unmap(&ss);
		/* ::ffff:0:0/96 would be every IPv4 host */
		if (pfx != 0 && (pfx <= 96 || pfx > 128))
			return FTP_ERR_INVAL;
		if (pfx != 0)
			pfx -= 96;
	}
	if ((af = ss.ss_family) == AF_INET) {
		a4 = ((const struct sockaddr_in *)&ss)->sin_addr;
		max = 32;
		src = &a4;
	} else if (af == AF_INET6) {
		a6 = ((const struct sockaddr_in6 *)&ss)->sin6_addr;
		max = 128;
		src = &a6;
	} else
		return FTP_ERR_INVAL;
	if (pfx > max)
		return FTP_ERR_INVAL;
	pfx = pfx == 0 ? max : pfx;
	patch_mask(src, max / 8, pfx);
	if (inet_ntop(af, src, ab, sizeof(ab)) == NULL)
		return FTP_ERR_INVAL;
	n = pfx == max ? snprintf(p->peer, sizeof(p->peer), "%s", ab) :
	    snprintf(p->peer, sizeof(p->peer), "%s/%u", ab, pfx);
	if (n < 0 || (size_t)n >= sizeof(p->peer))
		return FTP_ERR_INVAL;
	p->v6 = af == AF_INET6;
	return 0;
}

enum patch_style
patch_style_effective(const struct patch_hole *h)
{
	if (h->style != PATCH_STYLE_AUTO)
		return h->style;
	return h->stateful && !h->tls_offered ? PATCH_STYLE_HELPER :
	    PATCH_STYLE_PORTS;
}

const char *
patch_style_reason(const struct patch_hole *h)
{
	if (h->style == PATCH_STYLE_HELPER)
		return "asked for with --fix-style helper";
	if (h->style == PATCH_STYLE_PORTS)
		return "asked for with --fix-style ports";
	if (h->tls_offered)
		return "the server offers AUTH TLS, and FTPS (encrypted "
		    "control) blinds the helper";
	if (h->stateful)
		return "the chain accepts ct state related: a stateful "
		    "firewall that lacks only the FTP helper (since Linux "
		    "6.0 none is assigned by itself), and the server was not "
		    "seen offering AUTH TLS";
	return "the chain accepts no ct state related: its rules stop these "
	    "data connections as such, and opening their ports answers "
	    "that directly";
}

int
patch_style_applies(const struct patch_hole *h)
{
	int in, orig_in = patch_orig_in(h);

	if (h->path == PATCH_PATH_CONTROL ||
	    patch_hook_in(h->hook, orig_in, &in) != 0)
		return 0;
	return in == orig_in;
}

const char *
patch_style_name(enum patch_style s)
{
	switch (s) {
	case PATCH_STYLE_AUTO:		return "auto";
	case PATCH_STYLE_HELPER:	return "helper";
	case PATCH_STYLE_PORTS:		return "ports";
	}
	return "?";
}

static int
patch_plan_hole(struct patch_plan *p, const struct patch_hole *h)
{
	struct portrange ctl;
	int r;

	memset(p, 0, sizeof(*p));
	p->h = h;
	if ((p->tfam = patch_family(h->family)) < 0 ||
	    !patch_name_ok(h->table) || !patch_name_ok(h->chain) ||
	    h->path > PATCH_PATH_ACTIVE || h->style > PATCH_STYLE_PORTS ||
	    h->verdict > PATCH_VERDICT_REJECT || h->host > PATCH_HOST_CLIENT ||
	    (h->has_handle && h->handle == 0))
		return FTP_ERR_INVAL;
	p->cause = h->cause != NULL ? h->cause : h->host == PATCH_HOST_SERVER ?
	    "server-local-rule" : "client-local-rule";
	if (!patch_cause_ok(p->cause))
		return FTP_ERR_INVAL;
	if ((r = patch_peer(p, h)) != 0)
		return r;
	/* An ip table never sees IPv6 packets, nor ip6 IPv4 ones. */
	if ((p->tfam == 4 && p->v6) || (p->tfam == 6 && !p->v6))
		return FTP_ERR_INVAL;
	if ((r = patch_hook_in(h->hook, patch_orig_in(h), &p->in)) != 0)
		return r;
	p->reply = p->in != patch_orig_in(h);
	p->ctrl = h->control_port != 0 ? h->control_port : 21;
	p->data = h->data_port != 0 ? h->data_port : 20;
	/* Answers are established whatever announced the connection: only
	 * the connection's own first packet needs the helper. */
	p->helper = h->path != PATCH_PATH_CONTROL && !p->reply &&
	    patch_style_effective(h) == PATCH_STYLE_HELPER;
	if (h->path == PATCH_PATH_CONTROL && h->nports == 0) {
		ctl.lo = ctl.hi = p->ctrl;
		return patch_ports_merge(p, &ctl, 1);
	}
	if ((r = patch_ports_merge(p, h->ports, h->nports)) != 0)
		return r;
	/* Without the helper nothing but the ports says what to open. */
	if (h->path == PATCH_PATH_PASSIVE && !p->helper && p->nports == 0)
		return FTP_ERR_INVAL;
	return 0;
}

/* ---- printing ---- */

static const char *
patch_path_name(enum patch_path path)
{
	switch (path) {
	case PATCH_PATH_CONTROL:	return "control";
	case PATCH_PATH_PASSIVE:	return "passive";
	case PATCH_PATH_ACTIVE:		return "active";
	}
	return "?";
}

/* "21", "30000-30099" or "{ 21, 30000-30099 }" (sep ", ", braces) or the
 * label form "21,30000-30099" (label). */
static void
patch_put_ports(struct patch_sb *sb, const struct patch_plan *p, int label)
{
	size_t i;
	const struct portrange *r;

	if (!label && p->nports > 1)
		patch_sb_add(sb, "{ ");
	for (i = 0; i < p->nports; i++) {
		r = &p->ports[i];
		if (i > 0)
			patch_sb_add(sb, label ? "," : ", ");
		if (r->lo == r->hi)
			patch_sb_add(sb, "%u", r->lo);
		else
			patch_sb_add(sb, "%u-%u", r->lo, r->hi);
	}
	if (!label && p->nports > 1)
		patch_sb_add(sb, " }");
}

/* "ip saddr 198.51.100.2" for a packet of the hook's direction. */
static void
patch_put_peer(struct patch_sb *sb, const struct patch_plan *p, int in)
{
	patch_sb_add(sb, "%s %s %s", p->v6 ? "ip6" : "ip",
	    in ? "saddr" : "daddr", p->peer);
}

/* The tcp ports of the packets the hook drops.  The connection's own
 * packets go to the service ports (control, passive) or leave from the
 * data port to the client's ports (active); its answers mirror that. */
static void
patch_put_tcp(struct patch_sb *sb, const struct patch_plan *p)
{
	const char *to = p->reply ? "sport" : "dport";
	const char *from = p->reply ? "dport" : "sport";

	if (p->h->path == PATCH_PATH_ACTIVE)
		patch_sb_add(sb, " tcp %s %u", from, p->data);
	if (p->nports == 0)
		return;
	patch_sb_add(sb, " tcp %s ", to);
	patch_put_ports(sb, p, 0);
}

/* What the offending rule stopped, for the comment lines. */
static void
patch_put_what(struct patch_sb *sb, const struct patch_plan *p)
{
	const struct patch_hole *h = p->h;
	const char *v = h->verdict == PATCH_VERDICT_REJECT ? "reject" :
	    "drop";

	if (h->has_handle)
		patch_sb_add(sb, "rule %s %s %s handle %" PRIu64 " (%s)",
		    h->family, h->table, h->chain, h->handle, v);
	else
		patch_sb_add(sb, "the policy of %s %s %s (%s)", h->family,
		    h->table, h->chain, v);
	patch_sb_add(sb, " stops %s%s ", patch_path_name(h->path),
	    p->reply ? " answers" : "");
	if (h->path == PATCH_PATH_ACTIVE)
		patch_sb_add(sb, "tcp/%u -> ", p->data);
	patch_sb_add(sb, "tcp/");
	if (p->nports == 0)
		patch_sb_add(sb, "any");
	else
		patch_put_ports(sb, p, 1);
	patch_sb_add(sb, " %s %s", p->in ? "from" : "to", p->peer);
}

/* The command that puts a rule right before the offending one, or after
 * the chain's rules when its policy decided. */
static void
patch_put_position(struct patch_sb *sb, const struct patch_plan *p)
{
	const struct patch_hole *h = p->h;

	if (h->has_handle)
		patch_sb_add(sb, "insert rule %s %s %s handle %" PRIu64 " ",
		    h->family, h->table, h->chain, h->handle);
	else
		patch_sb_add(sb, "add rule %s %s %s ", h->family, h->table,
		    h->chain);
}

/* A data connection can be let in two ways: say which one this is, why,
 * and what the other would be. */
static void
patch_put_remedy(struct patch_sb *sb, const struct patch_plan *p)
{
	patch_sb_add(sb, "# remedy: %s (style %s): %s\n", p->helper ?
	    "the FTP conntrack helper makes the data connection related" :
	    "the data ports opened explicitly", p->helper ? "helper" :
	    "ports", patch_style_reason(p->h));
	if (p->helper)
		patch_sb_add(sb, "# the other remedy, --fix-style ports, opens "
		    "the data ports explicitly: it works with FTPS too\n");
	else
		patch_sb_add(sb, "# the other remedy, --fix-style helper, "
		    "assigns the FTP conntrack helper (ct helper type \"ftp\") "
		    "and accepts ct state related; WARNING: FTPS (AUTH TLS) "
		    "blinds the helper\n");
}

static void
patch_put_accept(struct patch_sb *sb, const struct patch_plan *p)
{
	const char *state;

	patch_sb_add(sb, "# answers %s: ", p->cause);
	patch_put_what(sb, p);
	patch_sb_add(sb, "\n");
	if (!p->h->has_handle)
		patch_sb_add(sb, "# appended (add rule): after the chain's "
		    "rules, which still decide first as before, and before "
		    "the policy, which applies only when no rule decided\n");
	else
		patch_sb_add(sb, "# inserted right before that rule, in the "
		    "same chain, so it decides first\n");
	/* Answers are established by definition.  The connection's own
	 * packets: new for the first, established for the rest (the
	 * offending rule would stop those too); with the helper the data
	 * connection's first packet is related instead of new. */
	if (p->reply)
		state = "established";
	else if (p->helper)
		state = "established,related";
	else
		state = "new,established";
	if (p->h->path != PATCH_PATH_CONTROL && !p->reply)
		patch_put_remedy(sb, p);
	if (p->helper)
		patch_sb_add(sb, "# the FTP helper announced this data "
		    "connection: it is related to the control connection\n");
	patch_put_position(sb, p);
	patch_put_peer(sb, p, p->in);
	patch_put_tcp(sb, p);
	patch_sb_add(sb, " ct state %s accept\n\n", state);
}

/* Did an earlier helper hole already put the object and chain into this
 * table (same), and the assignment for this peer and port (*rule)? */
static int
patch_helper_seen(const struct patch_plan *plans, size_t i, int *rule)
{
	const struct patch_plan *p = &plans[i], *q;
	size_t j;
	int seen = 0;

	*rule = 0;
	for (j = 0; j < i; j++) {
		q = &plans[j];
		if (!q->helper || strcmp(q->h->family, p->h->family) != 0 ||
		    strcmp(q->h->table, p->h->table) != 0)
			continue;
		seen = 1;
		if (strcmp(q->peer, p->peer) == 0 && q->ctrl == p->ctrl)
			*rule = 1;
	}
	return seen;
}

/* The helper object, a chain of its own that assigns it to the control
 * connection as it first passes this host, and the assignment. */
static void
patch_put_helper(struct patch_sb *sb, const struct patch_plan *plans,
    size_t i)
{
	const struct patch_plan *p = &plans[i];
	const struct patch_hole *h = p->h;
	int server = h->host == PATCH_HOST_SERVER, rule_seen;
	const char *chain = server ? PATCH_HELPER_CHAIN_PRE :
	    PATCH_HELPER_CHAIN_OUT;

	if (!patch_helper_seen(plans, i, &rule_seen)) {
		patch_sb_add(sb, "# answers %s: the FTP conntrack helper, "
		    "for the %s data connections (since Linux 6.0 the kernel "
		    "assigns no helper by itself)\n", p->cause,
		    patch_path_name(h->path));
		patch_sb_add(sb, "# WARNING: FTPS (AUTH TLS) blinds the "
		    "helper: it cannot read PORT/227 in an encrypted control "
		    "connection; use --fix-style ports then\n");
		if (h->tls_offered)
			patch_sb_add(sb, "# WARNING: this server offers AUTH "
			    "TLS: its FTPS sessions get no data connection "
			    "through this\n");
		patch_sb_add(sb, "add ct helper %s %s %s { type \"ftp\" "
		    "protocol tcp; }\n", h->family, h->table,
		    PATCH_HELPER_NAME);
		/* No policy named: a new chain accepts by default, and an
		 * existing chain of that name keeps its own. */
		patch_sb_add(sb, "# answers %s: a chain of its own at the "
		    "%s hook, after conntrack and before the connection is "
		    "confirmed, assigns the helper (policy accept, the "
		    "default)\n", p->cause, server ? "prerouting" : "output");
		patch_sb_add(sb, "add chain %s %s %s { type filter hook %s "
		    "priority filter; }\n", h->family, h->table, chain,
		    server ? "prerouting" : "output");
	}
	if (rule_seen)
		return;
	patch_sb_add(sb, "# answers %s: the helper watches the control "
	    "connection tcp/%u %s %s\n", p->cause, p->ctrl,
	    server ? "from" : "to", p->peer);
	patch_sb_add(sb, "add rule %s %s %s ", h->family, h->table, chain);
	patch_put_peer(sb, p, server);
	patch_sb_add(sb, " tcp dport %u ct helper set \"%s\"\n\n", p->ctrl,
	    PATCH_HELPER_NAME);
}

/* Each distinct cause once, and what the script relies on. */
static void
patch_put_header(struct patch_sb *sb, const struct patch_plan *plans,
    size_t n, enum patch_host host)
{
	size_t i, j;
	int helper = 0, ports = 0;

	patch_sb_add(sb, "#!/usr/sbin/nft -f\n# ftpath fix for the %s host: "
	    "load it there with nft -f FILE (check first: nft -c -f FILE)\n"
	    "# cause:", host == PATCH_HOST_SERVER ? "server (FTP server)" :
	    "client (agent)");
	for (i = 0; i < n; i++) {
		for (j = 0; j < i; j++)
			if (strcmp(plans[j].cause, plans[i].cause) == 0)
				break;
		if (j == i)
			patch_sb_add(sb, "%s %s", i ? "," : "", plans[i].cause);
		helper |= plans[i].helper;
		ports |= plans[i].h->path != PATCH_PATH_CONTROL &&
		    !plans[i].helper && !plans[i].reply;
	}
	patch_sb_add(sb, "\n# relies on: connection tracking (ct state)\n");
	if (helper)
		patch_sb_add(sb, "# relies on: the FTP conntrack helper, "
		    "assigned here to the control connection; FTPS (AUTH TLS) "
		    "blinds it\n");
	if (ports)
		patch_sb_add(sb, "# relies on: the data ports opened "
		    "explicitly (no helper: works with FTPS too)\n");
	patch_sb_add(sb, "# only additions: every command is add or insert; "
	    "nothing that exists is changed or removed\n\n");
}

int
patch_write(const struct patch_hole *holes, size_t nholes,
    enum patch_host host, char **out)
{
	struct patch_plan *plans = NULL;
	struct patch_sb sb = { NULL, 0, 0, 0 };
	size_t i, n = 0;
	int r = FTP_ERR_INVAL;

	if (out == NULL || (holes == NULL && nholes > 0))
		goto out;
	r = FTP_ERR_TOOBIG;
	if (nholes > PATCH_HOLES_MAX)
		goto out;
	r = FTP_ERR_NOMEM;
	if (nholes > 0 && (plans = calloc(nholes, sizeof(*plans))) == NULL)
		goto out;
	for (i = 0; i < nholes; i++) {
		if (holes[i].host != host)
			continue;
		if ((r = patch_plan_hole(&plans[n], &holes[i])) != 0)
			goto out;
		n++;
	}
	r = FTP_ERR_NOTFOUND;
	if (n == 0)
		goto out;
	patch_put_header(&sb, plans, n, host);
	for (i = 0; i < n; i++) {
		if (plans[i].helper)
			patch_put_helper(&sb, plans, i);
		patch_put_accept(&sb, &plans[i]);
	}
	if ((r = sb.err) != 0)
		goto out;
	*out = sb.buf;
	sb.buf = NULL;
	r = 0;
out:
	free(sb.buf);
	free(plans);
	return r;
}

/* ---- checks ---- */

/* A line that may carry ';': a helper or chain definition, one block
 * that closes the line ("add chain t c { ...; }"), so no second command
 * can follow it, and names no policy (on an existing chain that would
 * change it). */
static int
patch_block_line_ok(const char *s, const char *e)
{
	const char *open, *close, *semi;
	size_t len = (size_t)(e - s);

	if (strncmp(s, "add ct helper ", 14) != 0 &&
	    strncmp(s, "add chain ", 10) != 0)
		return 0;
	open = memchr(s, '{', len);
	close = memchr(s, '}', len);
	semi = memchr(s, ';', len);
	if (open == NULL || close == NULL || semi < open || close < semi ||
	    memchr(open + 1, '{', (size_t)(e - open - 1)) != NULL ||
	    memchr(close + 1, '}', (size_t)(e - close - 1)) != NULL ||
	    memmem(s, len, "policy", 6) != NULL)
		return 0;
	for (close++; close < e; close++)
		if (*close != ' ' && *close != '\t' && *close != '\r')
			return 0;
	return 1;
}

int
patch_only_additions(const char *text)
{
	const char *s, *e;

	if (text == NULL)
		return FTP_ERR_INVAL;
	for (s = text; *s != '\0'; s = *e == '\0' ? e : e + 1) {
		if ((e = strchr(s, '\n')) == NULL)
			e = s + strlen(s);
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		if (s == e || *s == '#')
			continue;
		if (strncmp(s, "add ", 4) != 0 && strncmp(s, "insert ", 7) != 0)
			return FTP_ERR_DENIED;
		/* One command a line: ';' would start another. */
		if (memchr(s, ';', (size_t)(e - s)) != NULL &&
		    !patch_block_line_ok(s, e))
			return FTP_ERR_DENIED;
	}
	return 0;
}

static patch_verify_fn patch_verify_other;

void
patch_verify_delegate(patch_verify_fn fn)
{
	patch_verify_other = fn;
}

int
patch_verify(const char *text, char *err, size_t errlen)
{
	struct nft_ctx *ctx = NULL;
	const char *msg;
	int r;

	if (patch_verify_other != NULL)
		return patch_verify_other(text, err, errlen);

	if ((r = patch_only_additions(text)) != 0) {
		ftp_errmsg(err, errlen, "not additions only: refused");
		goto out;
	}
	r = FTP_ERR_NOMEM;
	if ((ctx = nft_ctx_new(NFT_CTX_DEFAULT)) == NULL ||
	    nft_ctx_buffer_output(ctx) != 0 || nft_ctx_buffer_error(ctx) != 0)
		goto out;
	/* Check mode: the kernel validates the whole transaction against
	 * the live ruleset, then aborts it. */
	nft_ctx_set_dry_run(ctx, true);
	if (nft_run_cmd_from_buffer(ctx, text) == 0) {
		r = 0;
		goto out;
	}
	msg = nft_ctx_get_error_buffer(ctx);
	if (msg == NULL || msg[0] == '\0')
		msg = "nft rejected the script (no message)";
	ftp_errmsg(err, errlen, "%s", msg);
	r = FTP_ERR_INVAL;
	if (strstr(msg, "Operation not permitted") != NULL) {
		errno = EPERM;
		r = FTP_ERR_DENIED;
	}
out:
	if (ctx != NULL)
		nft_ctx_free(ctx);
	return r;
}
