/*
 * fw_text.h - a rule as nft prints it, for the report's evidence.
 *
 * Trace events name a rule by family/table/chain/handle; people read nft
 * syntax.  Rather than write a printer for every expression, ask
 * libnftables to list the chain with handles and pick the rule's line.
 * Listing needs CAP_NET_ADMIN (it is an nfnetlink request).
 *
 * Errors: 0 or negative FTP_ERR_*: FTP_ERR_INVAL for a bad family or a
 * name outside [A-Za-z0-9_.-] or starting with a digit or '-' (nft's
 * command line cannot name those unquoted, and 1.0.6 takes no quotes
 * there), FTP_ERR_NOTFOUND if the table, chain or
 * handle does not exist, FTP_ERR_SYSTEM (errno, EIO when nft gave no
 * reason) for other failures of libnftables.
 */
#ifndef FTPATH_FW_TEXT_H
#define FTPATH_FW_TEXT_H

#include <stdint.h>

/*
 * The text of rule `handle` in chain `chain` of table `table` (family an
 * NFPROTO_* value), without leading blanks and without nft's trailing
 * " # handle N" comment, e.g. "tcp dport 21 drop".  On success *out is a
 * malloc'd string the caller frees; it is set only on success.
 */
int fw_rule_text(int family, const char *table, const char *chain,
    uint64_t handle, char **out);

/*
 * Pure part of fw_rule_text(): find the rule with this handle in the
 * output of `nft -a list chain ...`.  Same *out contract; FTP_ERR_NOTFOUND
 * if no rule line carries the handle.
 */
int fw_rule_text_find(const char *listing, uint64_t handle, char **out);

/*
 * Pure: does the chain listing hold a rule that accepts related
 * connections (`ct state ... related ... accept`, not negated)?  That
 * is a stateful firewall: FTP data connections pass it once a helper
 * makes them related (patch.h, PATCH_STYLE_AUTO).  1 or 0.
 */
int fw_chain_related_find(const char *listing);

/*
 * One listing of the chain for both: *related as fw_chain_related_find()
 * and, with has_handle, the rule's text as fw_rule_text() (*text
 * untouched without it).  Errors as fw_rule_text(); *related is set
 * whenever the chain could be listed.
 */
int fw_rule_facts(int family, const char *table, const char *chain,
    int has_handle, uint64_t handle, char **text, int *related);
/*
 * From now on fw_rule_facts() asks fn instead (NULL: itself): a process
 * without CAP_NET_ADMIN has its privileged helper list the chain
 * (reflector/privops.h).  fn must not call fw_rule_facts() back.
 */
typedef int (*fw_rule_facts_fn)(int family, const char *table,
    const char *chain, int has_handle, uint64_t handle, char **text,
    int *related);
void fw_rule_facts_delegate(fw_rule_facts_fn fn);

#endif
