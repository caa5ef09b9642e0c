/*
 * reload.c - load, check and swap the reflector's configuration (see
 * reload.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confcheck.h"
#include "config.h"
#include "crl.h"
#include "rstats.h"
#include "err.h"
#include "ftpconf.h"
#include "tlsclose.h"
#include "log.h"
#include "reload.h"
#include "server.h"
#include "tls.h"

#define RELOAD_MAX_OVERRIDES	32
/* Refused handshakes lingering at once (tlsclose.h): the default
 * max_handshakes, as many as may be refused together. */
#define RELOAD_MAX_TLSCLOSE	64

/* One complete configuration: what a load builds and a reload swaps. */
struct reload_gen {
	struct reflector_config cfg;
	struct ftpconf *fc;		/* cfg.ftpconf points here */
	SSL_CTX *ctx;
	unsigned nrevoked;		/* serials in the CRL */
};

struct reload {
	const char *cfgfile;
	const char *ftpconf_path;
	struct {
		const char *key;
		const char *value;
	} over[RELOAD_MAX_OVERRIDES];
	size_t nover;
	struct tlsclose *tc;		/* every context's refusals */
	int loaded;			/* live holds a configuration */
	int keep_key;			/* reloads keep live's private key */
	struct reload_gen live;
};

static void
reload_gen_release(struct reload_gen *g)
{
	config_release(&g->cfg);
	ftpconf_free(g->fc);
	SSL_CTX_free(g->ctx);
	memset(g, 0, sizeof(*g));
}

struct reload *
reload_new(const char *cfgfile, const char *ftpconf_path)
{
	struct reload *rl;

	if ((rl = calloc(1, sizeof(*rl))) == NULL)
		return NULL;
	if ((rl->tc = tlsclose_new(RELOAD_MAX_TLSCLOSE)) == NULL) {
		free(rl);
		return NULL;
	}
	rl->cfgfile = cfgfile;
	rl->ftpconf_path = ftpconf_path;
	return rl;
}

void
reload_free(struct reload *rl)
{
	if (rl == NULL)
		return;
	if (rl->loaded)
		reload_gen_release(&rl->live);
	tlsclose_free(rl->tc);
	free(rl);
}

int
reload_override(struct reload *rl, const char *key, const char *value)
{
	size_t k;

	for (k = 0; k < rl->nover; k++)
		if (strcmp(rl->over[k].key, key) == 0)
			break;
	if (k == RELOAD_MAX_OVERRIDES)
		return FTP_ERR_TOOBIG;
	rl->over[k].key = key;
	rl->over[k].value = value;
	if (k == rl->nover)
		rl->nover++;
	return 0;
}

static int
reload_overridden(const struct reload *rl, const char *key)
{
	size_t k;

	for (k = 0; k < rl->nover; k++)
		if (strcmp(rl->over[k].key, key) == 0)
			return 1;
	return 0;
}

/* The file, then the command line over it, then the derived defaults. */
static int
reload_settings(const struct reload *rl, struct reflector_config *cfg,
    char *err, size_t errlen)
{
	size_t k;
	int r;

	if ((r = config_defaults(cfg)) != 0) {
		ftp_errmsg(err, errlen, "out of memory");
		return r;
	}
	if (rl->cfgfile != NULL &&
	    (r = config_load_file(cfg, rl->cfgfile, err, errlen)) != 0)
		return r;
	for (k = 0; k < rl->nover; k++)
		if ((r = config_set(cfg, rl->over[k].key, rl->over[k].value,
		    err, errlen)) != 0)
			return r;
	return config_validate(cfg, err, errlen);
}

/*
 * What a running reflector cannot take over: the listening socket, and
 * the probe connection budget sized from max_sessions.  The running
 * values stay, and the log says why the file's are not in force.
 */
static void
reload_keep_restart_only(const struct reflector_config *live,
    struct reflector_config *next, const char *origin)
{
	if (strcmp(live->listen, next->listen) != 0) {
		log_warnx("reload: %s: listen = %s needs a restart; still "
		    "listening on %s", origin, next->listen, live->listen);
		memcpy(next->listen, live->listen, sizeof(next->listen));
	}
	if (strcmp(live->metrics_listen, next->metrics_listen) != 0) {
		log_warnx("reload: %s: metrics_listen = %s needs a restart; "
		    "keeping %s", origin, next->metrics_listen[0] ?
		    next->metrics_listen : "(none)", live->metrics_listen[0] ?
		    live->metrics_listen : "(none)");
		memcpy(next->metrics_listen, live->metrics_listen,
		    sizeof(next->metrics_listen));
	}
	if (live->max_sessions != next->max_sessions) {
		log_warnx("reload: %s: max_sessions = %u needs a restart; "
		    "keeping %u", origin, next->max_sessions,
		    live->max_sessions);
		next->max_sessions = live->max_sessions;
	}
}

/* 1 if the settings the privileged helper checks requests against differ
 * (it read them at start, privsep.h). */
static int
reload_policy_differs(const struct reflector_config *a,
    const struct reflector_config *b)
{
	char pa[1024], pb[1024];

	if (a->control_port != b->control_port ||
	    a->active_source_port != b->active_source_port ||
	    a->passive.lo != b->passive.lo || a->passive.hi != b->passive.hi ||
	    a->max_armed_ports != b->max_armed_ports ||
	    a->session_lifetime_s != b->session_lifetime_s ||
	    strcmp(a->user, b->user) != 0)
		return 1;
	if (portset_format(a->allowed, pa, sizeof(pa)) != 0 ||
	    portset_format(b->allowed, pb, sizeof(pb)) != 0)
		return 1;
	return strcmp(pa, pb) != 0;
}

/* A copy of ps into the (emptied) set to, port by port. */
static int
reload_copy_ports(const struct portset *ps, struct portset **to)
{
	struct portset *n;
	struct portrange r;
	unsigned p;

	if ((n = portset_new()) == NULL)
		return FTP_ERR_NOMEM;
	for (p = 1; p <= 65535; p++) {
		r.lo = r.hi = (uint16_t)p;
		if (portset_contains(ps, (uint16_t)p) &&
		    portset_add_range(n, &r) != 0) {
			portset_free(n);
			return FTP_ERR_NOMEM;
		}
	}
	portset_free(*to);
	*to = n;
	return 0;
}

/* Separated: the helper's policy stays, so the engine's must too. */
static int
reload_keep_policy(const struct reflector_config *live,
    struct reflector_config *next, const char *origin)
{
	if (!reload_policy_differs(live, next))
		return 0;
	log_warnx("reload: %s: control_port, active_source_port, "
	    "passive_range, allowed_ports, max_armed_ports, session_lifetime "
	    "and user need a restart while the reflector runs separated from "
	    "its privileged helper; keeping the running values", origin);
	next->control_port = live->control_port;
	next->active_source_port = live->active_source_port;
	next->passive = live->passive;
	next->max_armed_ports = live->max_armed_ports;
	next->session_lifetime_s = live->session_lifetime_s;
	memcpy(next->user, live->user, sizeof(next->user));
	return reload_copy_ports(live->allowed, &next->allowed);
}

/*
 * ftpconf names the file by its base name (as agents are shown it); the
 * person fixing it wants the path given: "PATH:LINE: reason".
 */
static void
reload_ftpconf_error(const char *path, const char *msg, char *err,
    size_t errlen)
{
	const char *base = strrchr(path, '/');
	size_t n;

	base = base != NULL ? base + 1 : path;
	n = strlen(base);
	if (base != path && strncmp(msg, base, n) == 0 && msg[n] == ':')
		ftp_errmsg(err, errlen, "%s%s", path, msg + n);
	else
		ftp_errmsg(err, errlen, "%s", msg);
}

/*
 * Read the FTP server's own configuration and say where it disagrees
 * with ours: a reflector listening on other ports than the server uses
 * would test paths no FTP client takes.  The result goes to agents in
 * welcome (g->cfg.ftpconf).
 */
static int
reload_ftpconf(const struct reload *rl, struct reload_gen *g, char *err,
    size_t errlen)
{
	const struct reflector_config *cfg = &g->cfg;
	struct portrange pr;
	char msg[512], summary[512];
	int r;

	if (rl->ftpconf_path == NULL)
		return 0;
	if ((g->fc = ftpconf_new()) == NULL) {
		ftp_errmsg(err, errlen, "out of memory");
		return FTP_ERR_NOMEM;
	}
	if ((r = ftpconf_load_file(g->fc, FTPCONF_AUTO, rl->ftpconf_path, msg,
	    sizeof(msg))) != 0) {
		reload_ftpconf_error(rl->ftpconf_path, msg, err, errlen);
		return FTP_ERR_CONFIG;
	}
	if (ftpconf_summary(g->fc, summary, sizeof(summary)) == 0)
		log_info("ftp server: %s", summary);
	if (ftpconf_control_port(g->fc) != cfg->control_port)
		log_warnx("ftp server control port is %u, control_port is %u",
		    ftpconf_control_port(g->fc), cfg->control_port);
	if (ftpconf_passive_range(g->fc, &pr) == 0 && pr.lo != 0 &&
	    (pr.lo != cfg->passive.lo || pr.hi != cfg->passive.hi))
		log_warnx("ftp server passive range is %u-%u, passive_range is "
		    "%u-%u: agents will probe ports FTP clients do not use",
		    pr.lo, pr.hi, cfg->passive.lo, cfg->passive.hi);
	g->cfg.ftpconf = g->fc;
	g->cfg.ftpconf_path = rl->ftpconf_path;
	return 0;
}

/* The files' checks (the same as -n), then the TLS context from them. */
static int
reload_tls(const struct reload *rl, struct reload_gen *g, char *err,
    size_t errlen)
{
	char warn[512];
	int r, keep = rl->loaded && rl->keep_key;

	if (keep && strcmp(g->cfg.key, rl->live.cfg.key) != 0) {
		log_warnx("reload: key = %s needs a restart (this process can "
		    "no longer read key files); keeping %s", g->cfg.key,
		    rl->live.cfg.key);
		memcpy(g->cfg.key, rl->live.cfg.key, sizeof(g->cfg.key));
	}
	/* Messages about settings name the file, or the command line
	 * when an option overrode the file (confcheck.h). */
	if ((r = confcheck_run(&g->cfg, reload_overridden(rl, "listen") ?
	    NULL : rl->cfgfile, !keep, warn, sizeof(warn), err,
	    errlen)) != 0)
		return r;
	if (warn[0] != '\0')
		log_warnx("%s", warn);
	g->ctx = keep ? tls_ctx_new_same_key(TLS_ROLE_SERVER, g->cfg.cert,
	    rl->live.ctx, g->cfg.key, g->cfg.ca, err, errlen) :
	    tls_ctx_new(TLS_ROLE_SERVER, g->cfg.cert, g->cfg.key, g->cfg.ca,
	    err, errlen);
	if (g->ctx == NULL)
		return FTP_ERR_CONFIG;
	tlsclose_install(rl->tc, g->ctx);
	if (g->cfg.crl[0] != '\0' && (r = crl_ctx_install(g->ctx, g->cfg.crl,
	    &g->nrevoked, err, errlen)) != 0)
		return r;
	return 0;
}

/* One complete configuration into g (released by the caller either way). */
static int
reload_build(const struct reload *rl, struct reload_gen *g, char *err,
    size_t errlen)
{
	int r;

	if ((r = reload_settings(rl, &g->cfg, err, errlen)) != 0)
		return r;
	if (rl->loaded)
		reload_keep_restart_only(&rl->live.cfg, &g->cfg,
		    rl->cfgfile != NULL ? rl->cfgfile : "command line");
	if (rl->loaded && rl->keep_key && (r = reload_keep_policy(
	    &rl->live.cfg, &g->cfg, rl->cfgfile != NULL ? rl->cfgfile :
	    "command line")) != 0) {
		ftp_errmsg(err, errlen, "out of memory");
		return r;
	}
	if ((r = reload_ftpconf(rl, g, err, errlen)) != 0)
		return r;
	return reload_tls(rl, g, err, errlen);
}

int
reload_load(struct reload *rl, char *err, size_t errlen)
{
	int r;

	if (rl->loaded) {
		ftp_errmsg(err, errlen, "configuration already loaded");
		return FTP_ERR_INVAL;
	}
	if ((r = reload_build(rl, &rl->live, err, errlen)) != 0) {
		reload_gen_release(&rl->live);
		return r;
	}
	rl->loaded = 1;
	if (rl->live.cfg.crl[0] != '\0')
		log_info("CRL %s: %u revoked certificate(s); agent "
		    "certificates are checked against it", rl->live.cfg.crl,
		    rl->live.nrevoked);
	return 0;
}

void
reload_set_base(struct reload *rl, struct event_base *base)
{
	tlsclose_set_base(rl->tc, base);
}

void
reload_keep_key(struct reload *rl)
{
	rl->keep_key = 1;
}

const struct reflector_config *
reload_config(const struct reload *rl)
{
	return rl->loaded ? &rl->live.cfg : NULL;
}

SSL_CTX *
reload_ctx(const struct reload *rl)
{
	return rl->loaded ? rl->live.ctx : NULL;
}

int
reload_run(struct reload *rl, struct server *srv, char *err,
    size_t errlen)
{
	struct reload_gen *next, old;
	int r;

	if (!rl->loaded) {
		ftp_errmsg(err, errlen, "no configuration to reload");
		return FTP_ERR_INVAL;
	}
	if ((next = calloc(1, sizeof(*next))) == NULL) {
		ftp_errmsg(err, errlen, "out of memory");
		return FTP_ERR_NOMEM;
	}
	if ((r = reload_build(rl, next, err, errlen)) != 0) {
		log_warnx("reload failed: %s; the running configuration is "
		    "unchanged", err);
		rstats_reload(0);
		goto out;
	}
	rstats_reload(1);
	/* All good: the live struct keeps its address (the server and the
	 * sessions point to it); next takes the old contents away. */
	old = rl->live;
	rl->live = *next;
	*next = old;
	server_set_ctx(srv, rl->live.ctx);
	if (rl->live.cfg.crl[0] != '\0')
		log_info("reload: %s reloaded (certificate %s, CA %s, CRL %s: "
		    "%u revoked); new connections use it, %u session(s) in "
		    "flight continue", rl->cfgfile != NULL ? rl->cfgfile :
		    "configuration", rl->live.cfg.cert, rl->live.cfg.ca,
		    rl->live.cfg.crl, rl->live.nrevoked,
		    server_nsessions(srv));
	else
		log_info("reload: %s reloaded (certificate %s, CA %s, no CRL); "
		    "new connections use it, %u session(s) in flight "
		    "continue", rl->cfgfile != NULL ? rl->cfgfile :
		    "configuration", rl->live.cfg.cert, rl->live.cfg.ca,
		    server_nsessions(srv));
out:
	reload_gen_release(next);
	free(next);
	return r;
}
