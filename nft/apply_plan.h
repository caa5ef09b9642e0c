/*
 * apply_plan.h - the pure half of apply.h: screening a patch script, the
 * undo plan (from the script, from the kernel's echo, resolved against a
 * listing), its file and its undo.  No kernel and no files: unit tests
 * and the fuzz target call every function.  apply.h includes this header
 * and describes how apply_load() uses these steps.
 *
 * Three files: apply_screen.c (the script), apply_live.c (the kernel's
 * JSON: echo and listings), apply_plan.c (the plan itself, its file, its
 * undo); apply_plan_int.h is what they share.
 */
#ifndef FTPATH_APPLY_PLAN_H
#define FTPATH_APPLY_PLAN_H

#include <stddef.h>
#include <stdio.h>

#define APPLY_SCRIPT_MAX	(1024 * 1024)	/* bytes */

/*
 * An undo plan: the items a patch created, in creation order.  A
 * provisional plan comes from the script (names, rule chains and the
 * watermarks) and a loaded plan from the kernel's echo (handles).
 */
struct apply_plan;

void apply_plan_free(struct apply_plan *p);
/* 1 if provisional (not yet resolved), 0 if exact. */
int apply_plan_provisional(const struct apply_plan *p);
/* Number of items. */
size_t apply_plan_count(const struct apply_plan *p);

/*
 * Screen a script (NUL-terminated, at most APPLY_SCRIPT_MAX bytes).  On
 * success *batch (malloc'd, the caller frees) is the text to load: the
 * script with add -> create for every object kind but rules, and *prov
 * (may be NULL: not wanted) the provisional plan.  Refused: FTP_ERR_INVAL
 * with "line N: ..." in err.  Out-parameters set only on success.
 */
int apply_screen(const char *script, char **batch, struct apply_plan **prov,
    char *err, size_t errlen);

/*
 * Record a table's watermark (the highest handle in use before the load)
 * in a provisional plan; tables not recorded are new (watermark 0).
 * Taken from a "list ruleset" JSON listing by apply_plan_watermarks().
 */
int apply_plan_watermarks(struct apply_plan *p, const char *listing_json);

/* FTP_ERR_INVAL (with err) if a set or map the script adds is in the
 * listing already: adding to it would change the operator's set. */
int apply_plan_check_new(const struct apply_plan *p, const char *listing_json,
    char *err, size_t errlen);

/*
 * Forget the tables, chains, sets, maps and objects of p that a "list
 * ruleset" JSON listing taken before the load shows: they are the
 * operator's (a bodiless "add table|chain" of one that exists).
 */
int apply_plan_drop_existing(struct apply_plan *p, const char *listing_json);

/*
 * Forget the items in tables that are not the ones the patch went into:
 * a table whose own handle (recorded by apply_plan_watermarks) differs in
 * the live listing was deleted and made again (an operator's "nft -f"
 * with flush ruleset), and took our objects with it; its new handles
 * start again and could name the operator's new rules.  *dropped (may be
 * NULL) counts the items forgotten.
 */
int apply_plan_keep_live(struct apply_plan *p, const char *listing_json,
    size_t *dropped);

/*
 * The exact plan from libnftables' JSON echo of the load
 * ({"nftables": [{"create"|"add"|"insert": {KIND: {...}}}, ...]}).
 * FTP_ERR_PROTO for a kind it cannot undo or a missing field.
 */
int apply_plan_from_echo(const char *echo_json, struct apply_plan **out,
    char *err, size_t errlen);

/*
 * Resolve a provisional plan against a "list ruleset" JSON listing taken
 * after the load may have happened.  *out: an exact plan, empty when
 * nothing of the load is there (*loaded 0).  FTP_ERR_DENIED (with err)
 * when the rules above a watermark are not exactly the script's count.
 */
int apply_plan_resolve(const struct apply_plan *prov,
    const char *listing_json, struct apply_plan **out, int *loaded,
    char *err, size_t errlen);

/* The plan file's text (JSON, one object) and back.  decode: FTP_ERR_PROTO
 * for anything that is not a plan of this version. */
int apply_plan_encode(const struct apply_plan *p, char **out);
int apply_plan_decode(const char *text, struct apply_plan **out,
    char *err, size_t errlen);

/*
 * The undo of an exact plan as libnftables JSON input: one
 * {"nftables": [...]} of delete commands, newest item first (item = -1),
 * or only item number `item` (for the one-by-one retry).  *out malloc'd.
 * FTP_ERR_INVAL for a provisional plan or an item out of range.  Element
 * deletes taken from a provisional script are text (*text_out, may stay
 * NULL): "delete element F T S { ... }" lines.
 */
int apply_plan_undo(const struct apply_plan *p, long item, char **json_out,
    char **text_out);

/* Item i of p (i < apply_plan_count(p)), strings owned by p; empty
 * strings for what the kind has not ("" chain of a chain), handle 0 when
 * not known.  FTP_ERR_RANGE for i out of range. */
struct apply_item_info {
	const char	*kind;		/* "rule", "chain", "ct helper", ... */
	const char	*family;
	const char	*table;
	const char	*chain;		/* rule: its chain; element: its set */
	const char	*name;		/* chain, set, map, ct helper */
	const char	*elements;	/* element: JSON array, or the
					 * script's "{ ... }" */
	unsigned long long handle;
};
int apply_plan_item(const struct apply_plan *p, size_t i,
    struct apply_item_info *out);

/* One line per item ("rule inet filter input handle 5"), each prefixed
 * by `prefix`. */
void apply_plan_print(const struct apply_plan *p, const char *prefix,
    FILE *out);

#endif
