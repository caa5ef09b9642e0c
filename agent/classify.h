/*
 * classify.h - the one classifier: all the evidence of a check in, every
 * verdict and cause out.
 *
 * classify() runs once, after the last stage of a check, over every path
 * together.  It is the only place a verdict, a cause or its severity is
 * decided: the per-path rules (verdict.c) are its first step, and the
 * rules that need more than one path's observations follow:
 *
 *  - late ICMP: an ICMP error that reached a silent probe's socket after
 *    it was judged (a router giving up neighbour resolution) is that
 *    probe's ICMP;
 *  - dns-mismatch: a client-to-server path to an address that is not
 *    the server host's tested the wrong host;
 *  - traceroute: the hop list and the last hop that answered; a trace
 *    whose SYN completed a handshake on the same 5-tuple contradicts a
 *    path cause: the path is intermittent, never a cause;
 *  - the real FTP client: a data path that failed for bare probes but
 *    moved the client's data passes with cause alg-dependent (related
 *    through an FTP helper or ALG: FTPS will break it), naming the host
 *    whose helper it is where the traces tell;
 *  - the ALG's pinhole: active mode that works only for the PORT address
 *    as the ALG rewrote it is alg-dependent;
 *  - causes outside the paths: alg-rewrite, the server host's facts
 *    (clock-skew, dns-mismatch, pasv-address, service-refused with the
 *    limit behind it), the real FTP client's, and nat whenever either
 *    side's NAT is detected.
 *
 * Pure: no I/O, no clock, no globals.  The same evidence always gives
 * the same report (the unit tests hold fixtures to golden renderings).
 */
#ifndef FTPATH_AGENT_CLASSIFY_H
#define FTPATH_AGENT_CLASSIFY_H

#include "evidence.h"
#include "report.h"

/* The report model (report.h) for e; NULL on allocation failure. */
struct report *classify(const struct evidence *e);

/*
 * Whether a failing probe needs a TCP traceroute before classify() can
 * place it: its SYN met a silence, ICMP or a RST and nothing shows that
 * it reached the server host.  Reads the observation only.
 */
int classify_wants_trace(const struct probe_obs *o,
    const struct session_facts *f);

#endif
