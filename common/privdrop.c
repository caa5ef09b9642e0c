/*
 * privdrop.c - giving up privileges for good (see privdrop.h).
 */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "err.h"
#include "privdrop.h"

/* The highest capability number this code knows of; the kernel may know
 * more, and PR_CAPBSET_DROP of an unknown one fails with EINVAL. */
#define PRIVDROP_CAP_LAST	63

static uint64_t
privdrop_hex(const char *line)
{
	return strtoull(line, NULL, 16);
}

int
privdrop_caps(uint64_t *eff, uint64_t *prm)
{
	char line[256];
	FILE *fp;
	int seen = 0;

	if ((fp = fopen("/proc/self/status", "re")) == NULL)
		return FTP_ERR_SYSTEM;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strncmp(line, "CapEff:", 7) == 0) {
			*eff = privdrop_hex(line + 7);
			seen |= 1;
		} else if (strncmp(line, "CapPrm:", 7) == 0) {
			*prm = privdrop_hex(line + 7);
			seen |= 2;
		}
	}
	fclose(fp);
	if (seen != 3) {
		errno = ENOENT;
		return FTP_ERR_SYSTEM;
	}
	return 0;
}

/* capset(2) with one 64-bit mask for effective and permitted. */
static int
privdrop_capset(uint64_t mask)
{
	struct __user_cap_header_struct h;
	struct __user_cap_data_struct d[2];

	memset(&h, 0, sizeof(h));
	memset(d, 0, sizeof(d));
	h.version = _LINUX_CAPABILITY_VERSION_3;
	h.pid = 0;
	d[0].effective = d[0].permitted = (uint32_t)mask;
	d[1].effective = d[1].permitted = (uint32_t)(mask >> 32);
	return syscall(SYS_capset, &h, d) == 0 ? 0 : FTP_ERR_SYSTEM;
}

/* What we hold must be exactly want (effective and permitted). */
static int
privdrop_verify(uint64_t want, char *why, size_t whylen)
{
	uint64_t eff = 0, prm = 0;

	if (privdrop_caps(&eff, &prm) != 0) {
		snprintf(why, whylen, "cannot read /proc/self/status: %s",
		    strerror(errno));
		return FTP_ERR_SYSTEM;
	}
	if (eff != want || prm != want) {
		snprintf(why, whylen, "capabilities after dropping: CapEff "
		    "%016llx CapPrm %016llx, wanted %016llx",
		    (unsigned long long)eff, (unsigned long long)prm,
		    (unsigned long long)want);
		errno = EPERM;
		return FTP_ERR_SYSTEM;
	}
	return 0;
}

static int
privdrop_fail(char *why, size_t whylen, const char *what)
{
	int e = errno;

	snprintf(why, whylen, "%s: %s", what, strerror(e));
	errno = e;
	return FTP_ERR_SYSTEM;
}

/* Root only: become user for good (real, effective and saved ids). */
static int
privdrop_user(const char *user, char *why, size_t whylen)
{
	struct passwd *pw;

	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		snprintf(why, whylen, "user = %s: no such user (create it, "
		    "e.g. adduser --system %s, or name another)", user, user);
		return FTP_ERR_CONFIG;
	}
	if (pw->pw_uid == 0) {
		snprintf(why, whylen, "user = %s: is root; name an "
		    "unprivileged user", user);
		return FTP_ERR_CONFIG;
	}
	if (setgroups(0, NULL) != 0)
		return privdrop_fail(why, whylen, "setgroups");
	if (setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) != 0)
		return privdrop_fail(why, whylen, "setresgid");
	if (setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0)
		return privdrop_fail(why, whylen, "setresuid");
	/* Must not be undoable. */
	if (setuid(0) == 0) {
		snprintf(why, whylen, "could become root again after "
		    "switching to %s", user);
		errno = EPERM;
		return FTP_ERR_SYSTEM;
	}
	return 0;
}

int
privdrop_engine(const char *user, char *why, size_t whylen)
{
	int r;

	if (geteuid() == 0) {
		if (user == NULL || user[0] == '\0') {
			snprintf(why, whylen, "started as root without a user "
			    "to run as (the user key)");
			return FTP_ERR_CONFIG;
		}
		if ((r = privdrop_user(user, why, whylen)) != 0)
			return r;
	}
	/* A uid change from 0 cleared them already; under systemd with
	 * ambient capabilities it did not happen. */
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (privdrop_capset(0) != 0)
		return privdrop_fail(why, whylen, "capset");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return privdrop_fail(why, whylen, "PR_SET_NO_NEW_PRIVS");
	return privdrop_verify(0, why, whylen);
}

int
privdrop_helper(const char *user, uint64_t keep, char *why, size_t whylen)
{
	uint64_t eff = 0, prm = 0;
	int i, r;

	/* Root would own root's files whatever its capabilities: switch
	 * too, keeping the permitted set across the uid change. */
	if (geteuid() == 0 && user != NULL && user[0] != '\0') {
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0)
			return privdrop_fail(why, whylen, "PR_SET_KEEPCAPS");
		if ((r = privdrop_user(user, why, whylen)) != 0)
			return r;
		(void)prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	}
	if (privdrop_caps(&eff, &prm) != 0)
		return privdrop_fail(why, whylen, "/proc/self/status");
	keep &= prm;	/* what we do not have we cannot keep */
	/* Only with CAP_SETPCAP (root); under systemd the unit's
	 * CapabilityBoundingSet already is these two. */
	for (i = 0; i <= PRIVDROP_CAP_LAST; i++)
		if (!(keep & (UINT64_C(1) << i)))
			(void)prctl(PR_CAPBSET_DROP, i, 0, 0, 0);
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (privdrop_capset(keep) != 0)
		return privdrop_fail(why, whylen, "capset");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return privdrop_fail(why, whylen, "PR_SET_NO_NEW_PRIVS");
	return privdrop_verify(keep, why, whylen);
}
