/*
 * privdrop.h - giving up privileges for good.
 *
 * The reflector's engine (TLS, sessions, agent JSON) runs with no
 * capabilities and, when started as root, as an unprivileged user; its
 * privileged helper keeps only CAP_NET_ADMIN and CAP_NET_BIND_SERVICE
 * (reflector/privsep.h).  Capabilities are set with capset(2) directly:
 * two masks need no library.  Each function verifies what it did from
 * /proc/self/status and fails rather than run with more than it said.
 *
 * Errors: 0 or FTP_ERR_SYSTEM (errno set) / FTP_ERR_CONFIG, with a
 * sentence in why.
 */
#ifndef FTPATH_PRIVDROP_H
#define FTPATH_PRIVDROP_H

#include <stddef.h>
#include <stdint.h>

/* Capability bits (linux/capability.h numbers). */
#define PRIVDROP_CAP_NET_BIND_SERVICE	(UINT64_C(1) << 10)
#define PRIVDROP_CAP_NET_ADMIN		(UINT64_C(1) << 12)

/* The effective capabilities of this process (from /proc/self/status). */
int privdrop_caps(uint64_t *eff, uint64_t *prm);
/*
 * The engine: when root, switch to user (its primary group, no
 * supplementary groups); then drop every capability, permitted and
 * inheritable too, and set no_new_privs.  user NULL or "": stay the uid
 * we are (only allowed when not root).
 */
int privdrop_engine(const char *user, char *why, size_t whylen);
/*
 * The helper: when root, switch to user as the engine does, keeping
 * the permitted set across; then keep exactly keep (a mask of
 * PRIVDROP_CAP_*, as far as we hold them) in the effective and
 * permitted sets, nothing inheritable or ambient, the rest dropped from
 * the bounding set where we may; no_new_privs.
 */
int privdrop_helper(const char *user, uint64_t keep, char *why,
    size_t whylen);

#endif
