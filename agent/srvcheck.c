/*
 * srvcheck.c - the server-host cross-checks as one object (srvcheck.h):
 * it keeps what welcome said, and srvcheck_observe() gathers what only
 * this host can see (the name resolved here, its hosts-file line).  All
 * the I/O of the module is here; the parts it holds are pure:
 * srvcheck_parse.c reads the texts, srvcheck_decide.c decides, and
 * srvcheck_finding.c and srvcheck_json.c word and render the results.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "addr.h"
#include "readfile.h"
#include "srvcheck_int.h"

#define SRVCHECK_FILE_MAX	(1024 * 1024)
#define SRVCHECK_HOSTS		"/etc/hosts"
#define SRVCHECK_MOUNTINFO	"/proc/self/mountinfo"

/* Truncation accepted on purpose (srvcheck_int.h). */
void
srvcheck_text(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

#define SRVCHECK_FILE_MAX	(1024 * 1024)
#define SRVCHECK_HOSTS		"/etc/hosts"
#define SRVCHECK_MOUNTINFO	"/proc/self/mountinfo"

struct srvcheck *
srvcheck_new(const json_t *welcome, long long recv_ms, double rtt_ms)
{
	struct srvcheck *sc;
	json_t *v;

	if ((sc = calloc(1, sizeof(*sc))) == NULL)
		return NULL;
	srvcheck_host_parse(welcome, &sc->h);
	if ((v = json_object_get(welcome, "addresses")) != NULL &&
	    (sc->addresses = json_deep_copy(v)) == NULL)
		goto nomem;
	if ((v = json_object_get(welcome, "ftp_server")) != NULL &&
	    (sc->ftp = json_deep_copy(v)) == NULL)
		goto nomem;
	srvcheck_clock_decide(json_integer_value(json_object_get(welcome,
	    "time_ms")), recv_ms, rtt_ms, &sc->clk);
	return sc;
nomem:
	srvcheck_free(sc);
	return NULL;
}

void
srvcheck_free(struct srvcheck *sc)
{
	if (sc == NULL)
		return;
	json_decref(sc->addresses);
	json_decref(sc->ftp);
	free(sc);
}

int
srvcheck_knows_host(const struct srvcheck *sc)
{
	return sc != NULL && sc->h.have_addrs;
}

/* A file that cannot be read (or is larger than SRVCHECK_FILE_MAX) makes
 * the caller name no line: the DNS finding stands without it. */
static char *
slurp(const char *path, size_t *len)
{
	char *buf;

	return readfile_load(path, SRVCHECK_FILE_MAX, &buf, len) == 0 ? buf :
	    NULL;
}

static void
srvcheck_hosts_file(struct srvcheck_dns *d)
{
	size_t len = 0;
	char *buf;

	snprintf(d->hosts_file, sizeof(d->hosts_file), "%s", SRVCHECK_HOSTS);
	if ((buf = slurp(SRVCHECK_HOSTS, &len)) != NULL)
		srvcheck_hosts_find(buf, len, d->name, &d->hosts);
	free(buf);
	if (!d->hosts.found)
		return;
	/* ip netns exec bind-mounts /etc/netns/NS/hosts here: say so. */
	if ((buf = slurp(SRVCHECK_MOUNTINFO, &len)) != NULL &&
	    srvcheck_mount_source(buf, len, SRVCHECK_HOSTS, d->hosts_source,
	    sizeof(d->hosts_source)) != 0)
		d->hosts_source[0] = '\0';
	free(buf);
}

int
srvcheck_observe(struct srvcheck *sc, const char *server_opt,
    const struct sockaddr *service)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int n;

	sc->observed = 1;
	if (server_opt == NULL || addr_parse_ip(server_opt, &ss, &len) == 0)
		return 0;		/* not a name */
	snprintf(sc->dns.name, sizeof(sc->dns.name), "%s", server_opt);
	n = addr_resolve(server_opt, addr_port(service), sc->dns.resolved,
	    SRVCHECK_MAX_RESOLVED);
	sc->dns.n = n > 0 ? (unsigned)n : 0;
	srvcheck_hosts_file(&sc->dns);
	return 0;
}
