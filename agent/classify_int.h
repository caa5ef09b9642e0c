/*
 * classify_int.h - the classifier's parts in other files (classify.c is
 * the whole; classify_sg.c holds the security-group rule).  Not for
 * other modules.
 */
#ifndef FTPATH_AGENT_CLASSIFY_INT_H
#define FTPATH_AGENT_CLASSIFY_INT_H

#include <stddef.h>

#include "evidence.h"
#include "report.h"
#include "sg.h"

/* The verdicts per path as runs of ports, for the security groups. */
struct classify_sg {
	struct sg_measure *m[SG_NPATHS];
	size_t n[SG_NPATHS], cap[SG_NPATHS];
};

/* Record path o's final verdict v.  0 or FTP_ERR_NOMEM. */
int classify_sg_measure(struct classify_sg *m, const struct probe_obs *o,
    const struct verdict *v);
void classify_sg_free(struct classify_sg *m);

/* Evaluate e's groups against the measured runs: security_groups,
 * notes, and evidence on the causes a group explains.  0 or
 * FTP_ERR_NOMEM. */
int classify_sg(const struct evidence *e, const struct classify_sg *m,
    struct report *rep);

#endif
