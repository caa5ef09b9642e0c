/*
 * apply_plan_int.h - what apply_plan.c (the plan, its file, its undo),
 * apply_screen.c (the script) and apply_live.c (the kernel's echo and
 * listings) share.  Not for other modules: apply_plan.h is the interface.
 */
#ifndef FTPATH_APPLY_PLAN_INT_H
#define FTPATH_APPLY_PLAN_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "apply_plan.h"
#include "fw.h"

#define APPLY_FAMILY_MAX	8

enum apply_kind {
	AK_RULE, AK_CHAIN, AK_SET, AK_MAP, AK_ELEMENT, AK_HELPER, AK_TABLE,
	APPLY_NKINDS
};

/* By enum apply_kind: nft's names, in its JSON and on its command line. */
extern const char *const apply_plan_kind_names[APPLY_NKINDS];

struct apply_item {
	enum apply_kind	 kind;
	char		 family[APPLY_FAMILY_MAX];
	char		 table[FW_NAME_MAX];
	char		 chain[FW_NAME_MAX];	/* rule: its chain; element:
						 * its set or map */
	char		 name[FW_NAME_MAX];	/* chain, set, map, helper */
	uint64_t	 handle;		/* 0: not known yet */
	char		*elem;	/* element, exact: JSON array of the keys */
	char		*text;	/* element, provisional: "{ ... }" as in the
				 * script */
};

/* A table as it was before the load: the highest handle of its objects,
 * and its own handle (table handles come from one counter that only
 * grows: a table deleted and made again has another one). */
struct apply_wm {
	char		 family[APPLY_FAMILY_MAX];
	char		 table[FW_NAME_MAX];
	uint64_t	 handle;
	uint64_t	 table_handle;
};

struct apply_plan {
	int		 provisional;
	struct apply_item *items;
	size_t		 n, cap;
	struct apply_wm	*wm;
	size_t		 nwm, wmcap;
};

/* Growing output text; oom once an allocation failed (then s is what
 * was built before, and every later put is ignored). */
struct apply_plan_sbuf {
	char	*s;
	size_t	 len, cap;
	int	 oom;
};

/* apply_plan.c: the plan's basics */
struct apply_plan *apply_plan_new(int provisional);
/* A zeroed item at the end; NULL on no memory. */
struct apply_item *apply_plan_add(struct apply_plan *p);
struct apply_wm *apply_plan_wm_find(const struct apply_plan *p,
    const char *family, const char *table);
/* Raise the watermark of family/table to handle (and record its own
 * handle when not 0).  0 or FTP_ERR_NOMEM. */
int apply_plan_wm_note(struct apply_plan *p, const char *family,
    const char *table, uint64_t handle, uint64_t table_handle);
void apply_plan_sbuf_put(struct apply_plan_sbuf *b, const char *s,
    size_t len);

/* apply_plan.c: names, as undo commands may hold them */
int apply_plan_name_ok(const char *s, size_t len);
int apply_plan_family_ok(const char *s, size_t len);
/* The kind named s (nft's word), or -1. */
int apply_plan_kind_of(const char *s);

/* apply_plan.c: an item's names from nft JSON, every one checked */
int apply_plan_json_name(json_t *o, const char *key, char *dst,
    size_t dlen, int family);
/* The object's "handle", 0 if it has none. */
uint64_t apply_plan_json_handle(json_t *o);
int apply_plan_json_where(json_t *o, int kind, struct apply_item *it);

#endif
