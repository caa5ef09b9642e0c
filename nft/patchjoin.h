/*
 * patchjoin.h - several nft/patch.h scripts for one host as one batch.
 *
 * `check --apply` loads every verified patch of a host in one atomic
 * transaction (apply.h).  Two patches for the same table may each define
 * the same object (the ct helper, the chain that assigns it); apply.h
 * loads an object definition as "create", and the same object twice in
 * one batch makes the kernel refuse the whole batch.  So the join keeps
 * every line in order but drops an object definition ("add table",
 * "add chain", "add ct helper", "add set", "add map") that an earlier
 * line already made, verbatim.  Rules are all kept: each patch's rule is
 * its own hole.  Pure: no I/O.
 */
#ifndef FTPATH_PATCHJOIN_H
#define FTPATH_PATCHJOIN_H

#include <stddef.h>

/* *out (malloc'd, the caller frees): the joined script.  n == 0 gives
 * "".  0 or FTP_ERR_NOMEM. */
int patchjoin(const char *const *scripts, size_t n, char **out);

#endif
