/*
 * report_fixout.c - --fix-out DIR: the fixes of the report model as the
 * files an engineer runs on each host (DESIGN.md "Fixes"): server.nft,
 * client.nft, server-settings.txt.  Only verified patches are written,
 * only files with content, each with a header naming the host, the run
 * and the causes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "err.h"
#include "log.h"
#include "report.h"
#include "report_int.h"
#include "sg.h"

static int
fixout_has(const struct report *r, int server)
{
	size_t i;

	for (i = 0; i < r->n_fixes; i++)
		if (r->fixes[i].server == server && r->fixes[i].verified)
			return 1;
	return 0;
}

static void
fixout_header(const struct report *r, FILE *fp, const char *host,
    const char *how)
{
	char a[ADDR_STRLEN], b[ADDR_STRLEN];

	fprintf(fp, "# ftpath %s: fix for the %s\n", r->agent_version ?
	    r->agent_version : "", host);
	fprintf(fp, "# run: agent %s (seen as %s), server %s, %u ms\n",
	    addr_text(ADDR_SA(&r->f.agent_local), 0, a, sizeof(a)),
	    addr_text(ADDR_SA(&r->f.agent_observed), 0, b, sizeof(b)),
	    r->server_name ? r->server_name : "?", r->duration_ms);
	fprintf(fp, "# %s\n", how);
}

static FILE *
fixout_open(const char *dir, const char *name, char *path, size_t len)
{
	FILE *fp;

	snprintf(path, len, "%s/%s", dir, name);
	if ((fp = fopen(path, "w")) == NULL)
		log_warn("--fix-out %s", path);
	return fp;
}

static int
fixout_close(FILE *fp, const char *path)
{
	if (ferror(fp) | (fclose(fp) != 0)) {
		log_warn("--fix-out: writing %s", path);
		return FTP_ERR_SYSTEM;
	}
	log_info("fix written: %s", path);
	return 0;
}

static int
fixout_nft(const struct report *r, const char *dir, int server)
{
	char path[4096];
	size_t i;
	FILE *fp;

	if (!fixout_has(r, server))
		return 0;
	if ((fp = fixout_open(dir, server ? "server.nft" : "client.nft", path,
	    sizeof(path))) == NULL)
		return FTP_ERR_SYSTEM;
	fixout_header(r, fp, server ? "FTP server host" : "agent (client) "
	    "host", "checked by that host's kernel (nft -c); load there with "
	    "nft -f; it only adds rules");
	for (i = 0; i < r->n_fixes; i++)
		if (r->fixes[i].server == server && r->fixes[i].verified)
			fprintf(fp, "\n# for cause %s\n%s",
			    cause_name(r->fixes[i].cause), r->fixes[i].text);
	return fixout_close(fp, path);
}

static int
fixout_settings(const struct report *r, const char *dir)
{
	char path[4096];
	size_t i;
	FILE *fp;

	if (r->n_advice == 0)
		return 0;
	if ((fp = fixout_open(dir, "server-settings.txt", path,
	    sizeof(path))) == NULL)
		return FTP_ERR_SYSTEM;
	fixout_header(r, fp, "FTP server host", "the FTP server settings to "
	    "change, then restart the FTP server");
	for (i = 0; i < r->n_advice; i++)
		fprintf(fp, "\n# for cause %s\n%s\n",
		    cause_name(r->advice[i].cause), r->advice[i].text);
	return fixout_close(fp, path);
}

/* cloud-<provider>.sh: the missing security-group rules (sg.h). */
static int
fixout_cloud(const struct report *r, const char *dir)
{
	char path[4096], *text;
	int p, ret;
	FILE *fp;

	for (p = 0; p < SG_NPROVIDERS; p++) {
		ret = sg_script(r->sgs, r->n_sgs, (enum sg_provider)p, &text);
		if (ret == FTP_ERR_NOTFOUND)
			continue;
		if (ret != 0)
			return ret;
		fp = fixout_open(dir, sg_script_name((enum sg_provider)p), path,
		    sizeof(path));
		if (fp != NULL)
			fputs(text, fp);
		free(text);
		if (fp == NULL || (ret = fixout_close(fp, path)) != 0)
			return FTP_ERR_SYSTEM;
	}
	return 0;
}

int
report_write_fixes(const struct report *r, const char *dir)
{
	int ret;

	if ((ret = fixout_nft(r, dir, 1)) != 0 ||
	    (ret = fixout_nft(r, dir, 0)) != 0 ||
	    (ret = fixout_settings(r, dir)) != 0)
		return ret;
	return r->n_sgs > 0 ? fixout_cloud(r, dir) : 0;
}
