/*
 * fw_text.c - rule text through libnftables (see fw_text.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nftables/libnftables.h>

#include "err.h"
#include "fw.h"
#include "fw_text.h"
#include "fw_trace.h"

#define FW_HANDLE_TAG " # handle "

/* Does the line [s, e) end in " # handle <handle>"?  Then *body_end is
 * where the rule's own text stops. */
static int
fw_line_has_handle(const char *s, const char *e, uint64_t handle,
    const char **body_end)
{
	char want[48];
	size_t wl, ll = (size_t)(e - s);

	(void)snprintf(want, sizeof(want), "%s%" PRIu64, FW_HANDLE_TAG, handle);
	wl = strlen(want);
	if (ll < wl || memcmp(e - wl, want, wl) != 0)
		return 0;
	*body_end = e - wl;
	return 1;
}

int
fw_rule_text_find(const char *listing, uint64_t handle, char **out)
{
	const char *s = listing, *e, *b, *be;
	char *txt;

	for (; *s != '\0'; s = *e == '\0' ? e : e + 1) {
		if ((e = strchr(s, '\n')) == NULL)
			e = s + strlen(s);
		if (!fw_line_has_handle(s, e, handle, &be))
			continue;
		for (b = s; b < be && (*b == ' ' || *b == '\t'); b++)
			;
		/* "table ... {" and "chain ... {" lines carry handles too;
		 * handles are unique per table, but be exact anyway. */
		if (b == be || be[-1] == '{')
			continue;
		if ((txt = strndup(b, (size_t)(be - b))) == NULL)
			return FTP_ERR_NOMEM;
		*out = txt;
		return 0;
	}
	return FTP_ERR_NOTFOUND;
}

/* nft's scanner reads a name as one word only when it starts with a
 * letter, '_' or '.' (1.0.6 does not take quoted names here); a leading
 * digit or '-' would turn into a number or an option. */
static int
fw_cmd_name_check(const char *name)
{
	if (fw_name_check(name) != 0)
		return FTP_ERR_INVAL;
	if ((name[0] >= '0' && name[0] <= '9') || name[0] == '-')
		return FTP_ERR_INVAL;
	return 0;
}

/* Map a failed nft command to our codes, from its error text. */
static int
fw_nft_error(struct nft_ctx *ctx)
{
	const char *msg = nft_ctx_get_error_buffer(ctx);

	if (msg != NULL && strstr(msg, "No such file or directory") != NULL)
		return FTP_ERR_NOTFOUND;
	if (msg != NULL && strstr(msg, "Operation not permitted") != NULL) {
		errno = EPERM;
		return FTP_ERR_DENIED;
	}
	errno = EIO;
	return FTP_ERR_SYSTEM;
}

/* `nft -a list chain FAM TABLE CHAIN` into a buffered context: on
 * success *ctx is the caller's to free and *listing lives in it. */
static int
fw_chain_list(int family, const char *table, const char *chain,
    struct nft_ctx **ctxp, const char **listing)
{
	struct nft_ctx *ctx = NULL;
	const char *fam = fw_family_name(family);
	char cmd[3 * FW_NAME_MAX];
	int n, r = FTP_ERR_INVAL;

	/* Names go into an nft command line: only a safe alphabet, so no
	 * name can add words or commands to it. */
	if (fam == NULL || fw_cmd_name_check(table) != 0 ||
	    fw_cmd_name_check(chain) != 0)
		goto fail;
	n = snprintf(cmd, sizeof(cmd), "list chain %s %s %s", fam, table,
	    chain);
	if (n < 0 || (size_t)n >= sizeof(cmd))
		goto fail;
	r = FTP_ERR_NOMEM;
	if ((ctx = nft_ctx_new(NFT_CTX_DEFAULT)) == NULL ||
	    nft_ctx_buffer_output(ctx) != 0 || nft_ctx_buffer_error(ctx) != 0)
		goto fail;
	nft_ctx_output_set_flags(ctx, NFT_CTX_OUTPUT_HANDLE);
	if (nft_run_cmd_from_buffer(ctx, cmd) != 0) {
		r = fw_nft_error(ctx);
		goto fail;
	}
	if ((*listing = nft_ctx_get_output_buffer(ctx)) == NULL) {
		errno = EIO;
		r = FTP_ERR_SYSTEM;
		goto fail;
	}
	*ctxp = ctx;
	return 0;
fail:
	if (ctx != NULL)
		nft_ctx_free(ctx);
	return r;
}

int
fw_rule_text(int family, const char *table, const char *chain,
    uint64_t handle, char **out)
{
	struct nft_ctx *ctx;
	const char *listing;
	int r;

	if ((r = fw_chain_list(family, table, chain, &ctx, &listing)) != 0)
		return r;
	r = fw_rule_text_find(listing, handle, out);
	nft_ctx_free(ctx);
	return r;
}

/* Does the line [s, e) accept related connections: "ct state" and,
 * after it, "related" and then "accept" ("ct state established,related
 * accept", "ct state { established, related } accept", "ct state vmap
 * { established : accept, related : accept, ... }")?  A negation
 * ("ct state != related") accepts the opposite. */
static int
fw_line_related(const char *s, const char *e)
{
	size_t len = (size_t)(e - s);
	const char *ct, *rel, *acc;

	if ((ct = memmem(s, len, "ct state ", 9)) == NULL ||
	    (rel = memmem(ct, (size_t)(e - ct), "related", 7)) == NULL ||
	    (acc = memmem(rel, (size_t)(e - rel), "accept", 6)) == NULL)
		return 0;
	return memmem(ct, (size_t)(rel - ct), "!=", 2) == NULL;
}

int
fw_chain_related_find(const char *listing)
{
	const char *s, *e;

	for (s = listing; *s != '\0'; s = *e == '\0' ? e : e + 1) {
		if ((e = strchr(s, '\n')) == NULL)
			e = s + strlen(s);
		if (fw_line_related(s, e))
			return 1;
	}
	return 0;
}

static fw_rule_facts_fn fw_rule_facts_other;

void
fw_rule_facts_delegate(fw_rule_facts_fn fn)
{
	fw_rule_facts_other = fn;
}

int
fw_rule_facts(int family, const char *table, const char *chain,
    int has_handle, uint64_t handle, char **text, int *related)
{
	struct nft_ctx *ctx;
	const char *listing;
	int r;

	if (fw_rule_facts_other != NULL)
		return fw_rule_facts_other(family, table, chain, has_handle,
		    handle, text, related);

	if ((r = fw_chain_list(family, table, chain, &ctx, &listing)) != 0)
		return r;
	*related = fw_chain_related_find(listing);
	r = has_handle ? fw_rule_text_find(listing, handle, text) : 0;
	nft_ctx_free(ctx);
	return r;
}
