/*
 * srvcheck_finding.c - the causes the server host's facts prove, as
 * findings with their evidence sentence and the setting to change, and
 * the dns-mismatch sentence for a failing path (srvcheck.h).  It words
 * what srvcheck_decide() found; the 421 limits are looked up here
 * because only a finding needs them.
 */
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "srvcheck_int.h"

/* What the name resolved to here, for both sentences. */
static const char *
resolved_text(const struct srvcheck_dns *d, char *buf, size_t len)
{
	char a[ADDR_STRLEN];
	size_t off = 0;
	unsigned i;

	buf[0] = '\0';
	for (i = 0; i < d->n && off + 1 < len; i++) {
		int n = snprintf(buf + off, len - off, "%s%s", i ? ", " : "",
		    addr_text((const struct sockaddr *)&d->resolved[i], 0, a,
		    sizeof(a)));

		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
	}
	return buf;
}

int
srvcheck_dns_evidence(const struct srvcheck *sc,
    const struct srvcheck_result *res, char *buf, size_t len)
{
	char r[SRVCHECK_TEXT], h[SRVCHECK_TEXT];

	if (sc == NULL || !res->dns.mismatch)
		return 0;
	srvcheck_text(buf, len, "%s resolves to %s, which is not an address of "
	    "the server host (%s)", res->dns.name, resolved_text(&res->dns, r,
	    sizeof(r)), srvcheck_host_addrs_text(&sc->h, h, sizeof(h)));
	return 1;
}

/* ---- the causes the server host's facts prove ---- */

static struct srvcheck_finding *
finding_next(struct srvcheck_finding *out, unsigned max, unsigned *n,
    enum cause c, int warning, const char *label)
{
	struct srvcheck_finding *f;

	if (*n >= max)
		return NULL;
	f = &out[(*n)++];
	memset(f, 0, sizeof(*f));
	f->cause = c;
	f->warning = warning;
	snprintf(f->label, sizeof(f->label), "%s", label);
	return f;
}

static void
finding_clock(const struct srvcheck_result *res, struct srvcheck_finding *out,
    unsigned max, unsigned *n)
{
	const struct srvcheck_clock *k = &res->clk;
	long long mag = k->offset_ms < 0 ? -k->offset_ms : k->offset_ms;
	struct srvcheck_finding *f;

	if (!k->skewed || (f = finding_next(out, max, n, CAUSE_CLOCK_SKEW, 1,
	    "control channel")) == NULL)
		return;
	srvcheck_text(f->evidence, sizeof(f->evidence), "the reflector's clock "
	    "is %lld.%03lld s %s the agent's (+-%lld ms: half the control "
	    "channel's round trip); certificates and logs disagree by as "
	    "much", mag / 1000, mag % 1000, k->offset_ms > 0 ? "ahead of" :
	    "behind", k->uncertainty_ms);
}

static void
finding_dns(const struct srvcheck *sc, const struct srvcheck_result *res,
    struct srvcheck_finding *out, unsigned max, unsigned *n)
{
	const struct srvcheck_dns *d = &res->dns;
	char r[SRVCHECK_TEXT], h[SRVCHECK_TEXT], hf[2 * SRVCHECK_TEXT] = "";
	struct srvcheck_finding *f;

	if (!d->mismatch || (f = finding_next(out, max, n, CAUSE_DNS_MISMATCH,
	    0, "server name")) == NULL)
		return;
	if (d->hosts.found)
		srvcheck_text(hf, sizeof(hf), "; hosts-file override: "
		    "%s:%lu '%s'%s%s", d->hosts_file, d->hosts.line,
		    d->hosts.text, d->hosts_source[0] ? ", mounted from " : "",
		    d->hosts_source);
	srvcheck_text(f->evidence, sizeof(f->evidence), "%s resolves to %s; "
	    "the server host's addresses are %s, and nothing sent to %s "
	    "reached it%s", d->name, resolved_text(d, r, sizeof(r)),
	    srvcheck_host_addrs_text(&sc->h, h, sizeof(h)),
	    d->n == 1 ? "it" : "them", hf);
}

/* welcome.ftp_server.settings.KEY, for "settings" on a cause. */
static json_t *
setting_json(const struct srvcheck *sc, enum srvcheck_key k)
{
	json_t *s = json_object_get(json_object_get(sc->ftp, "settings"),
	    srvcheck_keys[k]);

	if (s == NULL)
		return NULL;
	return json_pack("{s:s,s:s,s:O}", "key", srvcheck_keys[k], "file",
	    sc->h.file, "setting", s);
}

static void
finding_pasv(const struct srvcheck_result *res, struct srvcheck_finding *out,
    unsigned max, unsigned *n)
{
	const struct srvcheck_pasv *p = &res->pasv;
	struct srvcheck_finding *f;

	if (!p->cause || (f = finding_next(out, max, n, CAUSE_PASV_ADDRESS, 0,
	    "server settings")) == NULL)
		return;
	snprintf(f->evidence, sizeof(f->evidence), "%s", p->evidence);
	snprintf(f->advice, sizeof(f->advice), "%s", p->advice);
	f->key = SRVCHECK_PASV_ADDRESS;
	f->has_key = p->advice[0] != '\0';
}

static void
finding_refused(const struct srvcheck *sc, const struct srvcheck_result *res,
    struct srvcheck_finding *out, unsigned max, unsigned *n)
{
	struct srvcheck_refused rf;
	struct srvcheck_finding *f;
	unsigned i;

	if (res->refused[0] == '\0')
		return;
	srvcheck_refused_decide(&sc->h, res->refused, &rf);
	for (i = 0; i < rf.n; i++) {
		if ((f = finding_next(out, max, n, CAUSE_SERVICE_REFUSED, 0,
		    "server settings")) == NULL)
			return;
		snprintf(f->evidence, sizeof(f->evidence), "%s",
		    rf.evidence[i]);
		snprintf(f->advice, sizeof(f->advice), "%s", rf.advice[i]);
		f->key = rf.key[i];
		f->has_key = rf.advice[i][0] != '\0';
	}
}

unsigned
srvcheck_findings(const struct srvcheck *sc, const struct srvcheck_result *res,
    struct srvcheck_finding *out, unsigned max)
{
	unsigned n = 0;

	if (sc == NULL)
		return 0;
	finding_clock(res, out, max, &n);
	finding_dns(sc, res, out, max, &n);
	if (!res->decided)
		return n;
	finding_pasv(res, out, max, &n);
	finding_refused(sc, res, out, max, &n);
	return n;
}

json_t *
srvcheck_finding_setting(const struct srvcheck *sc,
    const struct srvcheck_finding *f)
{
	return sc != NULL && f->has_key ? setting_json(sc, f->key) : NULL;
}
