/*
 * srvcheck_json.c - the server host's facts as the report's JSON: the
 * server_host object and nat.server's extra keys (srvcheck.h).  It
 * renders what srvcheck_decide() found and decides nothing.
 */
#include "addr.h"
#include "err.h"
#include "srvcheck_int.h"

static json_t *
jaddr_port(const struct sockaddr_storage *ss, int with_port)
{
	char buf[ADDR_STRLEN];

	if (ss->ss_family != AF_INET && ss->ss_family != AF_INET6)
		return json_null();
	return json_string(addr_text((const struct sockaddr *)ss, with_port,
	    buf, sizeof(buf)));
}

int
srvcheck_nat_json(const struct srvcheck *sc, const struct srvcheck_result *res,
    json_t **extra, char *line, size_t len)
{
	const struct srvcheck_dnat *d = &res->dnat;
	char a[ADDR_STRLEN], b[ADDR_STRLEN];

	*extra = NULL;
	line[0] = '\0';
	if (sc == NULL || !d->known)
		return 0;
	*extra = json_pack("{s:b,s:o,s:b,s:o,s:o,s:o}",
	    "detected", d->detected,
	    "service", jaddr_port(&d->service, 0),
	    "service_local", d->local,
	    "arrived", jaddr_port(&d->seen, 0),
	    "port_preserved", d->port_known ? json_boolean(d->port_preserved) :
	    json_null(),
	    "server_addresses", json_deep_copy(sc->addresses));
	if (*extra == NULL)
		return FTP_ERR_NOMEM;
	if (d->detected && d->seen.ss_family != AF_UNSPEC)
		srvcheck_text(line, len, "service %s reaches the server host "
		    "as %s (destination NAT, port-forward; ports %s)",
		    addr_text((const struct sockaddr *)&d->service, 0, a,
		    sizeof(a)), addr_text((const struct sockaddr *)&d->seen, 0,
		    b, sizeof(b)), d->port_preserved ? "preserved" :
		    "changed");
	else if (d->detected)
		srvcheck_text(line, len, "service %s is not an address of the "
		    "server host but reaches it (destination NAT, "
		    "port-forward)",
		    addr_text((const struct sockaddr *)&d->service, 0, a,
		    sizeof(a)));
	return 0;
}

static json_t *
json_dns(const struct srvcheck_dns *d)
{
	json_t *res = json_array(), *hf;
	char a[ADDR_STRLEN];
	unsigned i;

	if (res == NULL)
		return NULL;
	for (i = 0; i < d->n; i++)
		if (json_array_append_new(res, json_string(addr_text(
		    (const struct sockaddr *)&d->resolved[i], 0, a,
		    sizeof(a)))) != 0) {
			json_decref(res);
			return NULL;
		}
	hf = d->hosts.found ? json_pack("{s:s,s:I,s:s,s:o}",
	    "file", d->hosts_file, "line", (json_int_t)d->hosts.line,
	    "text", d->hosts.text, "source", d->hosts_source[0] ?
	    json_string(d->hosts_source) : json_null()) : json_null();
	return json_pack("{s:s,s:o,s:b,s:o}", "name", d->name,
	    "resolved", res, "mismatch", d->mismatch, "hosts_file", hf);
}

json_t *
srvcheck_host_json(const struct srvcheck *sc, const struct srvcheck_result *res)
{
	const struct srvcheck_clock *k = &res->clk;
	json_t *clk, *dns;

	if (sc == NULL)
		return NULL;
	clk = k->known ? json_pack("{s:I,s:I,s:b}",
	    "offset_ms", (json_int_t)k->offset_ms,
	    "uncertainty_ms", (json_int_t)k->uncertainty_ms,
	    "skewed", k->skewed) : json_null();
	dns = res->dns.checked || res->dns.name[0] ? json_dns(&res->dns) :
	    json_null();
	return json_pack("{s:o,s:o,s:o,s:o}",
	    "addresses", sc->addresses ? json_deep_copy(sc->addresses) :
	    json_null(),
	    "ftp_server", sc->ftp ? json_deep_copy(sc->ftp) : json_null(),
	    "clock", clk, "dns", dns);
}
