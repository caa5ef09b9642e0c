/*
 * confcheck.c - the reflector's pre-flight checks (see confcheck.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "confcheck.h"
#include "crl.h"
#include "err.h"
#include "tlscheck.h"

/* Settings may come from the file or the command line; say which. */
static const char *
confcheck_origin(const char *cfgfile)
{
	return cfgfile != NULL ? cfgfile : "command line";
}

static int
confcheck_listen(const struct reflector_config *cfg, const char *origin,
    char *err, size_t errlen)
{
	char host[ADDR_STRLEN];
	struct sockaddr_storage ss;
	socklen_t sl;
	uint16_t port;
	int fd = -1, r = FTP_ERR_CONFIG;

	if (addr_split_hostport(cfg->listen, CONFIG_DEFAULT_PORT, host,
	    sizeof(host), &port) != 0 || addr_parse_ip(host, &ss, &sl) != 0) {
		ftp_errmsg(err, errlen, "%s: listen = %s: not ADDR:PORT",
		    origin, cfg->listen);
		goto out;
	}
	if (portset_contains(cfg->allowed, port)) {
		ftp_errmsg(err, errlen, "%s: listen = %s: port %u is also in "
		    "allowed_ports (an agent's probe of it would be diverted "
		    "away from the control channel)", origin, cfg->listen,
		    port);
		goto out;
	}
	/* Port 0: proves the address is ours without taking the port a
	 * running reflector (or the one about to start) holds. */
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&ss, sl) == -1) {
		ftp_errmsg(err, errlen, "%s: listen = %s: %s%s", origin,
		    cfg->listen, strerror(errno), errno == EADDRNOTAVAIL ?
		    " (not an address of this host)" : "");
		goto out;
	}
	r = 0;
out:
	if (fd != -1)
		close(fd);
	return r;
}

/* CAP_NET_ADMIN (12) in the effective set, from /proc/self/status:
 * -1 when it cannot be read. */
static int
confcheck_net_admin(void)
{
	char line[256];
	unsigned long long eff;
	FILE *fp = fopen("/proc/self/status", "re");
	int r = -1;

	if (fp == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			r = (eff >> 12) & 1;
	fclose(fp);
	return r;
}

/*
 * allow_apply = yes (applysrv.h): the state directory is a directory or
 * can be made (its parent exists); without CAP_NET_ADMIN every request
 * would be refused, which is worth a warning, not a refusal (the
 * operator may grant it to the service only).
 */
static int
confcheck_apply(const struct reflector_config *cfg, const char *origin,
    char *warn, size_t warnlen, char *err, size_t errlen)
{
	char parent[sizeof(cfg->apply_state_dir)], *slash;
	struct stat st;
	size_t n;

	if (!cfg->allow_apply)
		return 0;
	if (stat(cfg->apply_state_dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			ftp_errmsg(err, errlen, "%s: apply_state_dir = %s: not "
			    "a directory", origin, cfg->apply_state_dir);
			return FTP_ERR_CONFIG;
		}
	} else {
		snprintf(parent, sizeof(parent), "%s", cfg->apply_state_dir);
		if ((slash = strrchr(parent, '/')) != NULL)
			*(slash == parent ? slash + 1 : slash) = '\0';
		if (stat(parent, &st) != 0 || !S_ISDIR(st.st_mode)) {
			ftp_errmsg(err, errlen, "%s: apply_state_dir = %s: "
			    "neither it nor its parent directory exists",
			    origin, cfg->apply_state_dir);
			return FTP_ERR_CONFIG;
		}
	}
	if (confcheck_net_admin() == 0 && (n = strlen(warn)) + 1 < warnlen)
		snprintf(warn + n, warnlen - n, "%sallow_apply = yes, but this "
		    "process has no CAP_NET_ADMIN: apply requests will be "
		    "refused", n ? "; " : "");
	return 0;
}

int
confcheck_run(const struct reflector_config *cfg, const char *cfgfile,
    int reread_key, char *warn, size_t warnlen, char *err, size_t errlen)
{
	char cwarn[512];
	size_t used;
	int r;

	if ((r = tlscheck_files(TLS_ROLE_SERVER, cfg->cert,
	    reread_key ? cfg->key : NULL,
	    cfg->ca, warn, warnlen, err, errlen)) != 0 ||
	    (r = confcheck_listen(cfg, confcheck_origin(cfgfile), err,
	    errlen)) != 0)
		return r;
	if (cfg->crl[0] != '\0') {
		if ((r = crl_check_file(cfg->crl, cfg->ca, cwarn, sizeof(cwarn),
		    err, errlen)) != 0)
			return r;
		/* Both warnings, the certificate's first. */
		used = warn != NULL ? strlen(warn) : 0;
		if (cwarn[0] != '\0' && warn != NULL && used + 2 < warnlen)
			snprintf(warn + used, warnlen - used, "%s%s",
			    used > 0 ? "; " : "", cwarn);
	}
	return confcheck_apply(cfg, confcheck_origin(cfgfile), warn, warnlen,
	    err, errlen);
}
