/*
 * apply_live.c - the undo plan against the kernel's own JSON
 * (apply_plan.h): the exact plan from the load's echo, and a provisional
 * plan checked, trimmed and resolved against "list ruleset" listings.
 *
 * Pure: the caller takes the echo and the listings; no kernel here.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "apply_plan.h"
#include "apply_plan_int.h"
#include "err.h"
#include "fw.h"

/* The elements of an echoed "element": {"set": [...]} or a bare array
 * or value, as the JSON array a delete takes. */
static char *
json_elem_array(json_t *e)
{
	json_t *a;
	char *s;

	if (json_is_object(e) && json_is_array(json_object_get(e, "set")))
		return json_dumps(json_object_get(e, "set"), JSON_COMPACT);
	if (json_is_array(e))
		return json_dumps(e, JSON_COMPACT);
	if ((a = json_array()) == NULL || json_array_append(a, e) != 0) {
		json_decref(a);
		return NULL;
	}
	s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return s;
}

/* Fill it from one nft JSON object of the given kind. */
static int
json_item(json_t *o, int kind, struct apply_item *it)
{
	it->kind = (enum apply_kind)kind;
	if (apply_plan_json_where(o, kind, it) != 0)
		return FTP_ERR_PROTO;
	it->handle = apply_plan_json_handle(o);
	switch (kind) {
	case AK_RULE:
		if (it->handle == 0)
			return FTP_ERR_PROTO;
		return apply_plan_json_name(o, "chain", it->chain,
		    sizeof(it->chain), 0);
	case AK_ELEMENT:
		if (apply_plan_json_name(o, "name", it->chain,
		    sizeof(it->chain), 0) != 0 ||
		    json_object_get(o, "elem") == NULL)
			return FTP_ERR_PROTO;
		it->elem = json_elem_array(json_object_get(o, "elem"));
		return it->elem == NULL ? FTP_ERR_NOMEM : 0;
	case AK_TABLE:
		return 0;
	default:
		return apply_plan_json_name(o, "name", it->name,
		    sizeof(it->name), 0);
	}
}

/* The single KIND member of an nft command or listing entry. */
static int
json_entry(json_t *entry, json_t **obj)
{
	const char *key;
	json_t *v;

	if (!json_is_object(entry) || json_object_size(entry) != 1)
		return -1;
	json_object_foreach(entry, key, v) {
		*obj = v;
		return apply_plan_kind_of(key);
	}
	return -1;
}

static json_t *
json_nftables(const char *text)
{
	json_t *root = json_loads(text, 0, NULL), *a;

	a = json_object_get(root, "nftables");
	if (!json_is_array(a)) {
		json_decref(root);
		return NULL;
	}
	json_incref(a);
	json_decref(root);
	return a;
}

/* ---- from the echo ---- */

int
apply_plan_from_echo(const char *echo_json, struct apply_plan **out,
    char *err, size_t errlen)
{
	struct apply_plan *p = NULL;
	struct apply_item *it;
	json_t *a = NULL, *cmd, *body, *obj;
	const char *verb;
	size_t i;
	int r = FTP_ERR_PROTO, kind;

	if ((a = json_nftables(echo_json)) == NULL) {
		ftp_errmsg(err, errlen, "the kernel's echo is not nftables "
		    "JSON");
		goto out;
	}
	r = FTP_ERR_NOMEM;
	if ((p = apply_plan_new(0)) == NULL)
		goto out;
	json_array_foreach(a, i, cmd) {
		verb = NULL;
		json_object_foreach(cmd, verb, body)
			break;
		if (verb != NULL && strcmp(verb, "metainfo") == 0)
			continue;
		r = FTP_ERR_PROTO;
		if (verb == NULL || (strcmp(verb, "add") != 0 &&
		    strcmp(verb, "create") != 0 &&
		    strcmp(verb, "insert") != 0) ||
		    (kind = json_entry(body, &obj)) < 0) {
			ftp_errmsg(err, errlen, "echo entry %zu: not an "
			    "addition apply can undo", i);
			goto out;
		}
		r = FTP_ERR_NOMEM;
		if ((it = apply_plan_add(p)) == NULL)
			goto out;
		if ((r = json_item(obj, kind, it)) != 0) {
			ftp_errmsg(err, errlen, "echo entry %zu: %s without "
			    "the names and handle an undo needs", i,
			    apply_plan_kind_names[kind]);
			goto out;
		}
	}
	*out = p;
	p = NULL;
	r = 0;
out:
	json_decref(a);
	apply_plan_free(p);
	return r;
}

int
apply_plan_watermarks(struct apply_plan *p, const char *listing_json)
{
	struct apply_item where;
	json_t *a, *e, *obj;
	size_t i;
	int r = FTP_ERR_PROTO, kind;

	if ((a = json_nftables(listing_json)) == NULL)
		return FTP_ERR_PROTO;
	json_array_foreach(a, i, e) {
		if ((kind = json_entry(e, &obj)) < 0)
			continue;	/* metainfo, counters, ... */
		memset(&where, 0, sizeof(where));
		if (apply_plan_json_where(obj, kind, &where) != 0)
			continue;
		/* A table's own handle counts among the tables, not among
		 * the handles of its rules and objects. */
		if ((r = apply_plan_wm_note(p, where.family, where.table,
		    kind == AK_TABLE ? 0 : apply_plan_json_handle(obj),
		    kind == AK_TABLE ? apply_plan_json_handle(obj) : 0)) != 0)
			goto out;
	}
	r = 0;
out:
	json_decref(a);
	return r;
}

static int listing_items(const char *listing_json, struct apply_plan **out);

static int
item_same_object(const struct apply_item *a, const struct apply_item *b)
{
	return a->kind == b->kind && strcmp(a->family, b->family) == 0 &&
	    strcmp(a->table, b->table) == 0 && strcmp(a->name, b->name) == 0 &&
	    strcmp(a->chain, b->chain) == 0;
}

/* Copy an item (deep: elem and text). */
static int
item_copy(struct apply_plan *p, const struct apply_item *src,
    struct apply_item **dst)
{
	struct apply_item *it;

	if ((it = apply_plan_add(p)) == NULL)
		return FTP_ERR_NOMEM;
	*it = *src;
	it->elem = src->elem ? strdup(src->elem) : NULL;
	it->text = src->text ? strdup(src->text) : NULL;
	if ((src->elem && !it->elem) || (src->text && !it->text))
		return FTP_ERR_NOMEM;
	*dst = it;
	return 0;
}

/* The listing's objects, as items (rules, chains, sets, ...). */
static int
listing_items(const char *listing_json, struct apply_plan **out)
{
	struct apply_plan *l;
	struct apply_item it;
	json_t *a, *e, *obj;
	size_t i;
	int r = FTP_ERR_NOMEM, kind;

	if ((a = json_nftables(listing_json)) == NULL)
		return FTP_ERR_PROTO;
	if ((l = apply_plan_new(0)) == NULL)
		goto out;
	json_array_foreach(a, i, e) {
		if ((kind = json_entry(e, &obj)) < 0 || kind == AK_ELEMENT)
			continue;
		memset(&it, 0, sizeof(it));
		if (json_item(obj, kind, &it) != 0)
			continue;
		if (apply_plan_add(l) == NULL)
			goto out;
		l->items[l->n - 1] = it;
	}
	*out = l;
	l = NULL;
	r = 0;
out:
	apply_plan_free(l);
	json_decref(a);
	return r;
}

int
apply_plan_check_new(const struct apply_plan *p, const char *listing_json,
    char *err, size_t errlen)
{
	struct apply_plan *live = NULL;
	size_t i, j;
	int r;

	if ((r = listing_items(listing_json, &live)) != 0)
		return r;
	for (i = 0; i < p->n && r == 0; i++) {
		const struct apply_item *it = &p->items[i];

		if (it->kind != AK_SET && it->kind != AK_MAP)
			continue;
		for (j = 0; j < live->n && r == 0; j++)
			if (item_same_object(it, &live->items[j])) {
				ftp_errmsg(err, errlen, "%s %s %s %s exists "
				    "already: apply only adds (add its "
				    "elements with add element)",
				    apply_plan_kind_names[it->kind], it->family,
				    it->table, it->name);
				r = FTP_ERR_INVAL;
			}
	}
	apply_plan_free(live);
	return r;
}

int
apply_plan_drop_existing(struct apply_plan *p, const char *listing_json)
{
	struct apply_plan *live = NULL;
	size_t i, j, keep = 0;
	int r, old;

	if ((r = listing_items(listing_json, &live)) != 0)
		return r;
	for (i = 0; i < p->n; i++) {
		struct apply_item *it = &p->items[i];

		old = 0;
		for (j = 0; it->kind != AK_RULE && it->kind != AK_ELEMENT &&
		    j < live->n && !old; j++)
			old = item_same_object(it, &live->items[j]);
		if (old) {
			free(it->elem);
			free(it->text);
			continue;
		}
		p->items[keep++] = *it;
	}
	p->n = keep;
	apply_plan_free(live);
	return 0;
}

/* The live handle of table family/name in a listing's items, 0 if the
 * table is not there. */
static uint64_t
live_table_handle(const struct apply_plan *live, const char *family,
    const char *table)
{
	size_t i;

	for (i = 0; i < live->n; i++)
		if (live->items[i].kind == AK_TABLE &&
		    strcmp(live->items[i].family, family) == 0 &&
		    strcmp(live->items[i].table, table) == 0)
			return live->items[i].handle;
	return 0;
}

int
apply_plan_keep_live(struct apply_plan *p, const char *listing_json,
    size_t *dropped)
{
	struct apply_plan *live = NULL;
	const struct apply_wm *w;
	size_t i, keep = 0, gone = 0;
	int r;

	if ((r = listing_items(listing_json, &live)) != 0)
		return r;
	for (i = 0; i < p->n; i++) {
		struct apply_item *it = &p->items[i];

		w = apply_plan_wm_find(p, it->family, it->table);
		if (w != NULL && w->table_handle != 0 && w->table_handle !=
		    live_table_handle(live, it->family, it->table)) {
			free(it->elem);
			free(it->text);
			gone++;
			continue;
		}
		p->items[keep++] = *it;
	}
	p->n = keep;
	if (dropped != NULL)
		*dropped = gone;
	apply_plan_free(live);
	return 0;
}

/*
 * The rules of chain (like rule item q) above its table's watermark:
 * copied into res, at most `want`; FTP_ERR_DENIED if there are more.
 */
static int
resolve_rules(const struct apply_plan *prov, const struct apply_plan *live,
    const struct apply_item *q, size_t want, struct apply_plan *res,
    int *found, char *err, size_t errlen)
{
	const struct apply_wm *w = apply_plan_wm_find(prov, q->family,
	    q->table);
	uint64_t mark = w ? w->handle : 0;
	struct apply_item *it;
	size_t i, got = 0;
	int r;

	for (i = 0; i < live->n; i++) {
		const struct apply_item *l = &live->items[i];

		if (l->kind != AK_RULE || l->handle <= mark ||
		    strcmp(l->family, q->family) ||
		    strcmp(l->table, q->table) || strcmp(l->chain, q->chain))
			continue;
		if (++got > want) {
			ftp_errmsg(err, errlen, "chain %s %s %s has more new "
			    "rules above handle %" PRIu64 " than the patch "
			    "added (%zu): not guessing which are its own",
			    q->family, q->table, q->chain, mark, want);
			return FTP_ERR_DENIED;
		}
		if ((r = item_copy(res, l, &it)) != 0)
			return r;
		*found = 1;
	}
	return 0;
}

/* Has a rule item for this chain been seen before index i? */
static int
rule_chain_seen(const struct apply_plan *p, size_t i)
{
	size_t j;

	for (j = 0; j < i; j++)
		if (p->items[j].kind == AK_RULE &&
		    item_same_object(&p->items[j], &p->items[i]))
			return 1;
	return 0;
}

static size_t
rule_chain_count(const struct apply_plan *p, const struct apply_item *q)
{
	size_t j, n = 0;

	for (j = 0; j < p->n; j++)
		n += p->items[j].kind == AK_RULE &&
		    item_same_object(&p->items[j], q);
	return n;
}

/* Named objects (not rules, not elements) found live, by name. */
static int
resolve_named(const struct apply_plan *live, const struct apply_item *q,
    struct apply_plan *res, int *found)
{
	struct apply_item *it;
	size_t i;

	for (i = 0; i < live->n; i++)
		if (item_same_object(&live->items[i], q)) {
			*found = 1;
			return item_copy(res, &live->items[i], &it);
		}
	return 0;	/* gone already: nothing to undo */
}

int
apply_plan_resolve(const struct apply_plan *prov, const char *listing_json,
    struct apply_plan **out, int *loaded, char *err, size_t errlen)
{
	struct apply_plan *live = NULL, *res = NULL;
	struct apply_item *it;
	size_t i;
	int r, found = 0, evidence = 0;

	if ((r = listing_items(listing_json, &live)) != 0)
		goto out;
	r = FTP_ERR_NOMEM;
	if ((res = apply_plan_new(0)) == NULL)
		goto out;
	for (i = 0; i < prov->n; i++) {
		const struct apply_item *q = &prov->items[i];

		if (q->kind == AK_ELEMENT)
			r = item_copy(res, q, &it);
		else if (q->kind != AK_RULE)
			r = resolve_named(live, q, res, &found);
		else if (!rule_chain_seen(prov, i))
			r = resolve_rules(prov, live, q, rule_chain_count(prov,
			    q), res, &found, err, errlen);
		else
			r = 0;
		if (r != 0)
			goto out;
		evidence |= q->kind != AK_ELEMENT;
	}
	/* Atomic load: nothing found of what has a name or a handle means
	 * nothing was loaded, and the elements were not added either. */
	if (evidence && !found) {
		apply_plan_free(res);
		r = FTP_ERR_NOMEM;
		if ((res = apply_plan_new(0)) == NULL)
			goto out;
	}
	*loaded = res->n > 0;
	*out = res;
	res = NULL;
	r = 0;
out:
	apply_plan_free(live);
	apply_plan_free(res);
	return r;
}
