/*
 * config.h - the reflector's configuration: defaults, file, command line.
 *
 * File format: one "key = value" per line, '#' comments, blank lines.
 * Order: config_defaults() -> config_load_file() -> command-line overrides
 * (config_set()) -> config_validate() -> config_print() for -n.
 */
#ifndef FTPATH_CONFIG_H
#define FTPATH_CONFIG_H

#include <stdint.h>
#include <stdio.h>
#include "addr.h"

#define CONFIG_DEFAULT_PORT	7021

struct ftpconf;

struct reflector_config {
	char listen[ADDR_STRLEN];	/* "ADDR:PORT", default "[::]:7021" */
	/* Prometheus /metrics ("ADDR:PORT", the port explicit); "" off. */
	char metrics_listen[ADDR_STRLEN];
	char cert[4096];
	char key[4096];
	char ca[4096];
	/* The CA's CRL (PEM); "" for none.  Agent certificates it lists
	 * are refused in the TLS handshake (tls_ctx_set_crl). */
	char crl[4096];
	/* allowed_agents: the agent certificate names (CN, else the first
	 * DNS SAN) that may start a session, as shell patterns (fnmatch)
	 * separated by ", "; "" for any certificate the CA signed. */
	char allowed_agents[1024];
	uint16_t control_port;		/* FTP control port, default 21 */
	uint16_t active_source_port;	/* default 20 */
	struct portrange passive;	/* lo == 0: not configured */
	struct portset *allowed;	/* ports the reflector may open; owned */
	unsigned max_sessions;		/* default 8 */
	unsigned max_ports_per_session;	/* default 65535: a whole range */
	unsigned max_armed_ports;	/* all sessions at once, default 8192 */
	unsigned session_timeout_s;	/* idle control channel, default 60 */
	unsigned max_timeout_ms;	/* cap on agent-requested waits, 10000 */
	/* Lowest agent port a connect-back (active, alg-active) dials;
	 * default 1024 (privileged ports refused). */
	uint16_t connectback_min_port;
	/* Before TLS is up (pre-authentication): connections in the
	 * handshake at once, in total (default 64) and from one source
	 * address (8); each must finish within handshake_timeout_s (5),
	 * however much it sends.  They never count as sessions. */
	unsigned max_handshakes;
	unsigned max_handshakes_per_source;
	unsigned handshake_timeout_s;
	/* Absolute bound on a session, idle or not (default 900). */
	unsigned session_lifetime_s;
	/* --ftp-config: the FTP server's settings, sent to agents in
	 * welcome.  Borrowed (main owns them); NULL without the option. */
	const struct ftpconf *ftpconf;
	const char *ftpconf_path;
	/* check --apply (reflector/applysrv.h): whether an agent may ask
	 * this reflector to load the fixes it derived itself (default 0:
	 * no), and where the undo plan and its lock live. */
	/* The account the reflector runs as when started as root (its
	 * engine and its privileged helper, privsep.h); default "ftpath". */
	char user[64];
	int allow_apply;
	char apply_state_dir[4096];	/* default CONFIG_APPLY_STATE_DIR */
};

/* 1 if an agent certificate named name may start a session
 * (allowed_agents), else 0.  Pure. */
int config_agent_allowed(const struct reflector_config *cfg,
    const char *name);

/* The state directory of nft/apply.h (APPLY_STATE_DIR). */
#define CONFIG_APPLY_STATE_DIR	"/run/ftpath"


/* Fill defaults (allocates cfg->allowed).  0 or FTP_ERR_NOMEM. */
int config_defaults(struct reflector_config *cfg);
/* Free what the config owns (the struct itself is the caller's). */
void config_release(struct reflector_config *cfg);

/*
 * Set one key (as in the file) to a value.  Returns 0, or FTP_ERR_CONFIG
 * with a message in err ("unknown key", "bad value for ...").
 */
int config_set(struct reflector_config *cfg, const char *key,
    const char *value, char *err, size_t errlen);

/*
 * Parse a configuration held in memory: len bytes of buf (need not be
 * NUL-terminated; a NUL inside is an error), lines split at "\n" with an
 * optional "\r".  Pure: no I/O.  err gets "NAME:LINE: reason" (name NULL:
 * "-").  0, FTP_ERR_CONFIG or FTP_ERR_NOMEM; keys before the bad line
 * stay set.
 */
int config_parse_buffer(struct reflector_config *cfg, const char *buf,
    size_t len, const char *name, char *err, size_t errlen);

/* Read a file (at most 1 MiB) and config_parse_buffer() it; err gets
 * "FILE:LINE: reason".  0 or FTP_ERR_CONFIG/SYSTEM/TOOBIG/NOMEM. */
int config_load_file(struct reflector_config *cfg, const char *path,
    char *err, size_t errlen);

/*
 * Fill derived defaults and check consistency: cert/key/ca set, passive
 * range and control/active ports inside "allowed" (when allowed was left
 * empty it becomes control port + active port + passive range).
 */
int config_validate(struct reflector_config *cfg, char *err, size_t errlen);

/* Normalised configuration, one "key = value" per line (for -n); an
 * optional path left unset (crl) is not printed. */
void config_print(const struct reflector_config *cfg, FILE *out);

#endif
