/*
 * srvcheck.h - cross-checks against the server host's own facts, which
 * the reflector sends in `welcome` (PROTOCOL.md): its unicast addresses,
 * its FTP server's settings (--ftp-config) and its clock.
 *
 *  - server-side DNAT: the service address the agent dialled is not an
 *    address of the server host, yet it reaches the host (a probe
 *    arrived there, or it is the reflector address we are connected
 *    to): a port-forward, reported in nat.server with the address the
 *    connections arrived on and whether ports were preserved.
 *  - pasv-address: under DNAT a pasv_address (or none) that is not the
 *    dialled address; merged with the real FTP client's 227 evidence
 *    (service.h) into one cause, with the setting's file:line and the
 *    setting to change (ftpconf_advice()).  When the measurement and
 *    the file disagree, the measurement wins and the evidence says so.
 *  - service-refused: the limit behind a 421 (max_per_ip, max_clients).
 *  - dns-mismatch: --server NAME resolves to no address of the server
 *    host and nothing sent there reached it; a hosts-file line for the
 *    name is named.
 *  - clock-skew: |offset| beyond SRVCHECK_SKEW_MS even allowing for the
 *    measurement's uncertainty (RTT/2); a warning, never a failure.
 *
 * The srvcheck_*_decide() functions, srvcheck_decide() and the parsers
 * are pure (unit tests); the classifier (classify.h) calls them once
 * all evidence is in.  srvcheck_observe() only gathers: it resolves the
 * name and reads the hosts file.
 */
#ifndef FTPATH_AGENT_SRVCHECK_H
#define FTPATH_AGENT_SRVCHECK_H

#include <stddef.h>
#include <sys/socket.h>
#include <jansson.h>

#include "ftpcheck.h"
#include "ftpconf.h"
#include "verdict.h"

#define SRVCHECK_MAX_ADDRS	64
#define SRVCHECK_MAX_RESOLVED	16
#define SRVCHECK_SKEW_MS	60000	/* a clock difference worth a cause */
#define SRVCHECK_TEXT		256

/* The FTP server settings the reflector sends (welcome.ftp_server). */
enum srvcheck_key {
	SRVCHECK_CONTROL_PORT,
	SRVCHECK_PASV_ENABLE,
	SRVCHECK_PASV_ADDRESS,
	SRVCHECK_MAX_CLIENTS,
	SRVCHECK_MAX_PER_IP,
	SRVCHECK_NKEYS
};

struct srvcheck_setting {
	int known;			/* sent by the reflector */
	int set;			/* from the file: line/text valid */
	unsigned long line;
	char name[48];			/* the server's own name */
	char text[SRVCHECK_TEXT];	/* the line as written */
	long long num;			/* numbers and booleans */
	char str[SRVCHECK_TEXT];	/* strings ("" = none) */
};

/* What welcome said about the server host. */
struct srvcheck_host {
	int have_addrs;			/* "addresses" was sent */
	unsigned n_addrs;
	struct sockaddr_storage addrs[SRVCHECK_MAX_ADDRS];
	int have_ftp;			/* "ftp_server" was an object */
	enum ftpconf_kind kind;		/* FTPCONF_AUTO if unknown */
	char file[SRVCHECK_TEXT];
	struct srvcheck_setting s[SRVCHECK_NKEYS];
};

/* Fill h from a welcome message (missing or malformed fields leave
 * their part unknown).  Pure. */
void srvcheck_host_parse(const json_t *welcome, struct srvcheck_host *h);
/* 1 if a is one of the host's addresses, 0 if not, -1 if unknown. */
int srvcheck_host_local(const struct srvcheck_host *h,
    const struct sockaddr *a);
/* "203.0.113.2, 2001:db8:2::2" (at most len bytes). */
const char *srvcheck_host_addrs_text(const struct srvcheck_host *h,
    char *buf, size_t len);

/* ---- clock ---- */
struct srvcheck_clock {
	int known;
	long long offset_ms;		/* reflector minus agent */
	long long uncertainty_ms;	/* +- RTT/2 */
	int skewed;			/* |offset| - uncertainty > limit */
};
/* server_ms: welcome.time_ms; recv_ms: our wall clock when it arrived;
 * rtt_ms: the control channel's round trip.  The reflector stamped the
 * message about RTT/2 before it arrived. */
void srvcheck_clock_decide(long long server_ms, long long recv_ms,
    double rtt_ms, struct srvcheck_clock *out);

/* ---- server-side DNAT ---- */
struct srvcheck_dnat {
	int known;			/* the host's addresses were sent */
	int local;			/* the service address is the host's */
	int detected;			/* not local, and reached the host */
	struct sockaddr_storage service;	/* as dialled (with port) */
	struct sockaddr_storage seen;	/* where it arrived (with port),
					   AF_UNSPEC if no arrival */
	int port_known;
	int port_preserved;
};
/* reached: a probe to service arrived at the reflector or service is
 * the reflector address we are connected to; seen (or NULL): the first
 * arrival's local end; port_known/preserved: over every arrival. */
void srvcheck_dnat_decide(const struct srvcheck_host *h,
    const struct sockaddr *service, int reached,
    const struct sockaddr *seen, int port_known, int port_preserved,
    struct srvcheck_dnat *out);

/* ---- dns-mismatch ---- */
struct srvcheck_hosts_line {
	int found;
	unsigned long line;
	char text[SRVCHECK_TEXT];
};
/* The first line of a hosts file (buf) that names name (case-blind; '#'
 * comments ignored).  Pure. */
void srvcheck_hosts_find(const char *buf, size_t len, const char *name,
    struct srvcheck_hosts_line *out);
/* The source ("root" field) of the mount on mountpoint in a
 * /proc/self/mountinfo text: "/etc/netns/NS/hosts" for ip netns exec's
 * bind mount.  0, or FTP_ERR_NOTFOUND.  Pure. */
int srvcheck_mount_source(const char *buf, size_t len, const char *mountpoint,
    char *out, size_t outlen);

struct srvcheck_dns {
	int checked;			/* --server was a name, addresses known */
	int mismatch;
	char name[256];
	unsigned n;
	struct sockaddr_storage resolved[SRVCHECK_MAX_RESOLVED];
	struct srvcheck_hosts_line hosts;
	char hosts_file[SRVCHECK_TEXT];	/* "/etc/hosts" */
	char hosts_source[SRVCHECK_TEXT];	/* bind-mount source or "" */
};
/* mismatch: addresses known, none of resolved[] is the host's, and
 * nothing sent to them reached it (reached 0). */
void srvcheck_dns_decide(const struct srvcheck_host *h,
    const struct sockaddr_storage *resolved, unsigned n, int reached,
    struct srvcheck_dns *out);

/* ---- pasv-address ---- */
/* The real FTP client's PASV attempt (ftpcheck.h). */
struct srvcheck_pasv_meas {
	int attempted;			/* PASV sent and 227 parsed */
	struct sockaddr_storage adv;	/* the 227 address */
	int connected;			/* the data connection to it */
};
struct srvcheck_pasv {
	int cause;			/* pasv-address stands */
	int from_config;		/* ... on the settings alone */
	char evidence[2 * SRVCHECK_TEXT];	/* "" if none */
	char advice[SRVCHECK_TEXT];	/* "" if none */
	char note[2 * SRVCHECK_TEXT];	/* settings and 227 disagree */
};
/*
 * service: the address the client dialled; dnat: srvcheck_dnat.detected;
 * arrived: the host address connections to it arrive on (under DNAT;
 * NULL if unknown); meas NULL or not attempted: no 227 seen.
 */
void srvcheck_pasv_decide(const struct srvcheck_host *h,
    const struct sockaddr *service, int dnat, const struct sockaddr *arrived,
    const struct srvcheck_pasv_meas *meas, struct srvcheck_pasv *out);

/* ---- service-refused ---- */
struct srvcheck_refused {
	unsigned n;			/* limits that may explain it */
	char evidence[2][SRVCHECK_TEXT];
	char advice[2][SRVCHECK_TEXT];
	enum srvcheck_key key[2];
};
/* The limits behind a 421 text (vsftpd/proftpd/pure-ftpd wording picks
 * one; otherwise both that are in force).  Pure. */
void srvcheck_refused_decide(const struct srvcheck_host *h,
    const char *reply, struct srvcheck_refused *out);

/* ---- glue ---- */
struct srvcheck;

/* welcome may be NULL (nothing known).  NULL on ENOMEM. */
struct srvcheck *srvcheck_new(const json_t *welcome, long long recv_ms,
    double rtt_ms);
void srvcheck_free(struct srvcheck *sc);
/* 1 if the reflector sent the host's addresses. */
int srvcheck_knows_host(const struct srvcheck *sc);

/*
 * The observation stage: resolve --server (when it is a name) here and
 * find its line in the hosts file (reads /etc/hosts and
 * /proc/self/mountinfo).  server_opt: --server as given, or NULL;
 * service: the probed address, with port.  Decides nothing.  0.
 */
int srvcheck_observe(struct srvcheck *sc, const char *server_opt,
    const struct sockaddr *service);

/* What the classifier hands over for the decisions. */
struct srvcheck_input {
	const struct sockaddr *service;	/* the probed address, with port */
	const struct sockaddr *dialled;	/* the reflector we connected to */
	const struct probe_obs *probes;	/* control and passive */
	size_t n_probes;
	const struct ftpcheck_result *svc;	/* may be NULL */
	const char *refused;		/* a 421 reply seen anywhere, or NULL */
};

/* The decisions over the server host's facts and the measurements. */
struct srvcheck_result {
	int decided;			/* srvcheck_observe() ran */
	struct srvcheck_clock clk;
	struct srvcheck_dnat dnat;
	struct srvcheck_dns dns;
	struct srvcheck_pasv pasv;
	char refused[FTPCHECK_TEXT_MAX];	/* the 421 text, or "" */
};

/* Pure: DNAT, DNS mismatch, pasv-address over all the evidence.  sc NULL:
 * out is all zero (nothing known). */
void srvcheck_decide(const struct srvcheck *sc,
    const struct srvcheck_input *in, struct srvcheck_result *out);

/* A client-to-server path is a dns-mismatch: 1 and the sentence in buf,
 * or 0. */
int srvcheck_dns_evidence(const struct srvcheck *sc,
    const struct srvcheck_result *res, char *buf, size_t len);

/* A cause the server host's facts prove (clock-skew, dns-mismatch,
 * pasv-address, service-refused), with the setting to change. */
struct srvcheck_finding {
	enum cause cause;
	int warning;			/* fails nothing (clock-skew) */
	char label[32];			/* "server settings", ... */
	char evidence[3 * SRVCHECK_TEXT];
	char advice[SRVCHECK_TEXT];	/* "" if none */
	int has_key;			/* key names the setting */
	enum srvcheck_key key;
};
#define SRVCHECK_MAX_FINDINGS	6

/* The findings of res (at most max); returns how many.  Pure. */
unsigned srvcheck_findings(const struct srvcheck *sc,
    const struct srvcheck_result *res, struct srvcheck_finding *out,
    unsigned max);
/* The setting behind f as the reflector sent it ({key, file, setting}),
 * a new reference, or NULL. */
json_t *srvcheck_finding_setting(const struct srvcheck *sc,
    const struct srvcheck_finding *f);

/* The report's server_host object (new reference; NULL: nothing known
 * or ENOMEM). */
json_t *srvcheck_host_json(const struct srvcheck *sc,
    const struct srvcheck_result *res);
/* nat.server's extra keys (*extra: new reference or NULL) and its
 * header line ("" for none).  0 or FTP_ERR_NOMEM. */
int srvcheck_nat_json(const struct srvcheck *sc,
    const struct srvcheck_result *res, json_t **extra, char *line,
    size_t len);

#endif
