/*
 * srvcheck_decide.c - the decisions on each cause the server host's
 * facts can prove (srvcheck.h): clock skew, server-side DNAT,
 * dns-mismatch, pasv-address and the limits behind a 421, and
 * srvcheck_decide(), which hands each its part of all the evidence.
 * Pure: what they are given is all they know, so the unit tests call
 * them directly and the classifier calls srvcheck_decide() once all
 * the evidence is in.
 */
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "srvcheck_int.h"

/* "vsftpd.conf:12 pasv_address=192.0.2.9" or "vsftpd.conf: pasv_address
 * not set". */
static const char *
setting_where(const struct srvcheck_host *h, enum srvcheck_key k,
    char *buf, size_t len)
{
	const struct srvcheck_setting *s = &h->s[k];

	if (s->set)
		srvcheck_text(buf, len, "%s:%lu %s", h->file, s->line, s->text);
	else
		srvcheck_text(buf, len, "%s: %s not set", h->file,
		    s->name[0] ? s->name : srvcheck_keys[k]);
	return buf;
}

/* ---- clock ---- */

void
srvcheck_clock_decide(long long server_ms, long long recv_ms, double rtt_ms,
    struct srvcheck_clock *out)
{
	long long half, mag;

	memset(out, 0, sizeof(*out));
	if (server_ms <= 0 || recv_ms <= 0)
		return;
	if (rtt_ms < 0)
		rtt_ms = 0;
	/* Rounded up: the reflector's stamp has 1 ms resolution too. */
	half = (long long)(rtt_ms / 2) + 1;
	out->known = 1;
	out->offset_ms = server_ms - (recv_ms - half);
	out->uncertainty_ms = half;
	mag = out->offset_ms < 0 ? -out->offset_ms : out->offset_ms;
	out->skewed = mag - half > SRVCHECK_SKEW_MS;
}

/* ---- DNAT ---- */

void
srvcheck_dnat_decide(const struct srvcheck_host *h,
    const struct sockaddr *service, int reached, const struct sockaddr *seen,
    int port_known, int port_preserved, struct srvcheck_dnat *out)
{
	int local = srvcheck_host_local(h, service);

	memset(out, 0, sizeof(*out));
	if (service != NULL)
		memcpy(&out->service, service, addr_len(service));
	if (seen != NULL && (seen->sa_family == AF_INET ||
	    seen->sa_family == AF_INET6))
		memcpy(&out->seen, seen, addr_len(seen));
	out->port_known = port_known;
	out->port_preserved = port_known && port_preserved;
	if (local < 0)
		return;
	out->known = 1;
	out->local = local;
	out->detected = !local && reached;
}

/* ---- dns-mismatch ---- */

void
srvcheck_dns_decide(const struct srvcheck_host *h,
    const struct sockaddr_storage *resolved, unsigned n, int reached,
    struct srvcheck_dns *out)
{
	unsigned i;

	out->checked = 0;
	out->mismatch = 0;
	if (!h->have_addrs || n == 0)
		return;
	out->checked = 1;
	for (i = 0; i < n; i++)
		if (srvcheck_host_local(h, (const struct sockaddr *)
		    &resolved[i]) == 1)
			return;
	out->mismatch = !reached;
}

/* ---- pasv-address ---- */

/* What the settings make the server put in 227 replies. */
enum pasv_cfg {
	PASV_CFG_UNKNOWN,	/* no settings, or a name, or PASV off */
	PASV_CFG_RIGHT,		/* the dialled address */
	PASV_CFG_WRONG,		/* another address (under DNAT: proven) */
};

static enum pasv_cfg
pasv_cfg(const struct srvcheck_host *h, const struct sockaddr *service,
    int dnat, struct sockaddr_storage *adv)
{
	const struct srvcheck_setting *pa = &h->s[SRVCHECK_PASV_ADDRESS];
	const struct srvcheck_setting *en = &h->s[SRVCHECK_PASV_ENABLE];
	socklen_t len;

	memset(adv, 0, sizeof(*adv));
	if (!h->have_ftp || !pa->known || (en->known && en->num == 0))
		return PASV_CFG_UNKNOWN;
	if (pa->str[0] == '\0')
		/* The server advertises the address the control connection
		 * arrived on: right without DNAT, the inside one with it. */
		return dnat ? PASV_CFG_WRONG : PASV_CFG_RIGHT;
	if (addr_parse_ip(pa->str, adv, &len) != 0)
		return PASV_CFG_UNKNOWN;	/* a name the server resolves */
	addr_unmap(adv);
	if (addr_equal((const struct sockaddr *)adv, service))
		return PASV_CFG_RIGHT;
	return PASV_CFG_WRONG;
}

static void
pasv_advice(const struct srvcheck_host *h, const struct sockaddr *service,
    struct srvcheck_pasv *out)
{
	char a[ADDR_STRLEN];

	if (ftpconf_advice(h->kind, FTPCONF_ADVICE_PASV_ADDRESS,
	    addr_text(service, 0, a, sizeof(a)), out->advice,
	    sizeof(out->advice)) != 0)
		out->advice[0] = '\0';
}

/* What the file says, as evidence. */
static void
pasv_cfg_text(const struct srvcheck_host *h, enum pasv_cfg cfg,
    const struct sockaddr *service, const struct sockaddr *arrived,
    char *buf, size_t len)
{
	char w[2 * SRVCHECK_TEXT], s[ADDR_STRLEN], i[ADDR_STRLEN];

	setting_where(h, SRVCHECK_PASV_ADDRESS, w, sizeof(w));
	addr_text(service, 0, s, sizeof(s));
	if (cfg == PASV_CFG_WRONG && h->s[SRVCHECK_PASV_ADDRESS].str[0])
		srvcheck_text(buf, len, "%s: the server puts %s in its 227 "
		    "replies, not %s, the address clients dial", w,
		    h->s[SRVCHECK_PASV_ADDRESS].str, s);
	else if (cfg == PASV_CFG_WRONG)
		srvcheck_text(buf, len, "%s: the server puts the address a "
		    "connection arrived on (%s) in its 227 replies, not %s, "
		    "the forwarded address clients dial", w,
		    arrived != NULL ? addr_text(arrived, 0, i, sizeof(i)) :
		    "its own", s);
	else
		srvcheck_text(buf, len, "%s names %s, the address clients dial",
		    w, s);
}

void
srvcheck_pasv_decide(const struct srvcheck_host *h,
    const struct sockaddr *service, int dnat, const struct sockaddr *arrived,
    const struct srvcheck_pasv_meas *meas, struct srvcheck_pasv *out)
{
	struct sockaddr_storage cfg_adv;
	enum pasv_cfg cfg;
	int measured, m_wrong;
	char t[2 * SRVCHECK_TEXT], a[ADDR_STRLEN + 8];

	memset(out, 0, sizeof(*out));
	/* A 227 carries IPv4 only; EPSV (229) carries no address. */
	if (service == NULL || service->sa_family != AF_INET)
		return;
	cfg = pasv_cfg(h, service, dnat, &cfg_adv);
	measured = meas != NULL && meas->attempted;
	m_wrong = measured && !meas->connected &&
	    !addr_equal((const struct sockaddr *)&meas->adv, service);
	if (cfg == PASV_CFG_UNKNOWN)
		return;
	pasv_cfg_text(h, cfg, service, arrived, t, sizeof(t));
	if (measured && !m_wrong) {
		/* The 227 worked: the measurement wins over the file. */
		if (cfg == PASV_CFG_WRONG)
			srvcheck_text(out->note, sizeof(out->note), "%s; yet "
			    "the 227 reply carried %s and its data connection "
			    "worked (an FTP ALG rewrote it, or the running "
			    "server does not use this file)", t,
			    addr_text((const struct sockaddr *)&meas->adv, 1, a,
			    sizeof(a)));
		return;
	}
	if (measured && cfg == PASV_CFG_RIGHT) {
		out->cause = 1;
		srvcheck_text(out->evidence, sizeof(out->evidence), "%s, but "
		    "the running server advertised %s: it does not run with "
		    "this file (restart it, or check which file it reads), or "
		    "something on the path rewrote the 227", t,
		    addr_text((const struct sockaddr *)&meas->adv, 1, a,
		    sizeof(a)));
		return;
	}
	if (cfg != PASV_CFG_WRONG || (!measured && !dnat))
		return;
	out->cause = 1;
	out->from_config = !measured;
	if (measured)
		srvcheck_text(out->evidence, sizeof(out->evidence), "%s", t);
	else
		srvcheck_text(out->evidence, sizeof(out->evidence), "%s (from "
		    "the settings alone: the real FTP client saw no 227 "
		    "reply)", t);
	pasv_advice(h, service, out);
}

/* ---- service-refused ---- */

static int
text_has(const char *text, const char *const *words)
{
	for (; *words != NULL; words++)
		if (strcasestr(text, *words) != NULL)
			return 1;
	return 0;
}

static void
refused_add(const struct srvcheck_host *h, enum srvcheck_key k,
    struct srvcheck_refused *out)
{
	const struct srvcheck_setting *s = &h->s[k];
	char w[2 * SRVCHECK_TEXT], v[24];
	long long nv;
	unsigned i = out->n;

	/* 0 is "no limit": it cannot refuse anyone. */
	if (!s->known || s->num <= 0 || i >= 2)
		return;
	setting_where(h, k, w, sizeof(w));
	srvcheck_text(out->evidence[i], sizeof(out->evidence[i]), "%s: at most "
	    "%lld %s%s", w, s->num, k == SRVCHECK_MAX_PER_IP ? "connection(s) "
	    "from one "
	    "client address" : "client(s) at once",
	    s->set ? "" : " (the server's default)");
	nv = s->num * 2 > 10 ? s->num * 2 : 10;
	snprintf(v, sizeof(v), "%lld", nv);
	if (ftpconf_advice(h->kind, k == SRVCHECK_MAX_PER_IP ?
	    FTPCONF_ADVICE_MAX_PER_IP : FTPCONF_ADVICE_MAX_CLIENTS, v,
	    out->advice[i], sizeof(out->advice[i])) != 0)
		out->advice[i][0] = '\0';
	out->key[i] = k;
	out->n++;
}

void
srvcheck_refused_decide(const struct srvcheck_host *h, const char *reply,
    struct srvcheck_refused *out)
{
	/* vsftpd, proftpd and pure-ftpd's own wording. */
	static const char *const per_ip[] = { "from your internet address",
	    "from your host", "from this ip", "per ip", "from your ip",
	    NULL };
	static const char *const all[] = { "too many connected users",
	    "maximum number of allowed clients", "users (the maximum)",
	    "too many users", NULL };
	int ip, cl;

	memset(out, 0, sizeof(*out));
	if (!h->have_ftp || reply == NULL)
		return;
	ip = text_has(reply, per_ip);
	cl = text_has(reply, all);
	if (ip || !cl)
		refused_add(h, SRVCHECK_MAX_PER_IP, out);
	if (cl || !ip)
		refused_add(h, SRVCHECK_MAX_CLIENTS, out);
}

/* ---- decisions over all the evidence (called by the classifier) ---- */

/* Where probes to the service arrived: the first arrival's host end, and
 * whether every arrival kept its port. */
static const struct sockaddr *
srvcheck_arrivals(const struct srvcheck_input *in, int *n, int *preserved)
{
	const struct sockaddr *seen = NULL;
	size_t i;

	*n = 0;
	*preserved = 1;
	for (i = 0; i < in->n_probes; i++) {
		const struct probe_obs *o = &in->probes[i];

		if (o->kind == PROBE_ACTIVE || !o->arrived ||
		    (o->seen_local.ss_family != AF_INET &&
		    o->seen_local.ss_family != AF_INET6))
			continue;
		if (seen == NULL)
			seen = (const struct sockaddr *)&o->seen_local;
		(*n)++;
		if (addr_port((const struct sockaddr *)&o->seen_local) !=
		    o->port)
			*preserved = 0;
	}
	return seen;
}

static void
srvcheck_pasv_meas_of(const struct ftpcheck_result *svc,
    struct srvcheck_pasv_meas *m)
{
	memset(m, 0, sizeof(*m));
	if (svc == NULL || !svc->mode[FTPCHECK_PASV].attempted ||
	    !svc->mode[FTPCHECK_PASV].adv_ok)
		return;
	m->attempted = 1;
	m->adv = svc->mode[FTPCHECK_PASV].adv;
	m->connected = svc->mode[FTPCHECK_PASV].connected;
}

void
srvcheck_decide(const struct srvcheck *sc, const struct srvcheck_input *in,
    struct srvcheck_result *out)
{
	const struct sockaddr *seen;
	struct srvcheck_pasv_meas m;
	int reached, arrivals, preserved;

	memset(out, 0, sizeof(*out));
	if (sc == NULL)
		return;
	out->clk = sc->clk;
	seen = srvcheck_arrivals(in, &arrivals, &preserved);
	reached = (in->dialled != NULL && addr_equal(in->service,
	    in->dialled)) || arrivals > 0;
	srvcheck_dnat_decide(&sc->h, in->service, reached, seen, arrivals > 0,
	    preserved, &out->dnat);
	out->dns = sc->dns;
	if (sc->dns.name[0] != '\0')
		srvcheck_dns_decide(&sc->h, sc->dns.resolved, sc->dns.n,
		    reached, &out->dns);
	if (!sc->observed)
		return;
	out->decided = 1;
	srvcheck_pasv_meas_of(in->svc, &m);
	srvcheck_pasv_decide(&sc->h, in->service, out->dnat.detected,
	    out->dnat.detected ? seen : NULL, &m, &out->pasv);
	if (in->refused != NULL)
		snprintf(out->refused, sizeof(out->refused), "%s",
		    in->refused);
}
