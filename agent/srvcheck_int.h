/*
 * srvcheck_int.h - what the parts of the server-host cross-checks share
 * (not for other modules; the interface is srvcheck.h).
 *
 * srvcheck.c holds the object and its observation stage, the module's
 * only I/O.  srvcheck_parse.c parses welcome's facts, a hosts file and
 * mountinfo.  srvcheck_decide.c holds the pure decisions, one per
 * cause, and srvcheck_decide() over all the evidence.
 * srvcheck_finding.c words the results as findings (causes with
 * evidence); srvcheck_json.c renders them for the report.
 */
#ifndef FTPATH_AGENT_SRVCHECK_INT_H
#define FTPATH_AGENT_SRVCHECK_INT_H

#include <stddef.h>
#include <jansson.h>

#include "log.h"
#include "srvcheck.h"

/* welcome.ftp_server.settings keys, by enum srvcheck_key. */
extern const char *const srvcheck_keys[SRVCHECK_NKEYS];

struct srvcheck {
	json_t *addresses;		/* welcome.addresses, or NULL */
	json_t *ftp;			/* welcome.ftp_server, or NULL */
	struct srvcheck_host h;
	struct srvcheck_clock clk;
	/* What srvcheck_observe() gathered: the name as resolved here and
	 * the hosts-file line for it (dns.mismatch is decided later). */
	int observed;
	struct srvcheck_dns dns;
};

/* snprintf for evidence sentences: a sentence cut at the buffer's end
 * is still evidence, so truncation is accepted here on purpose. */
void srvcheck_text(char *buf, size_t len, const char *fmt, ...)
    LOG_FMT(3, 4);

#endif
