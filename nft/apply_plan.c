/*
 * apply_plan.c - the undo plan itself (apply_plan.h): its items and
 * watermarks, the plan file, the undo, and reading an item's names back
 * from nft JSON (every name checked).  The script's screen is
 * apply_screen.c, the kernel's echo and listings apply_live.c.
 *
 * No kernel and no files here, so unit tests call every function.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "apply_plan.h"
#include "apply_plan_int.h"
#include "err.h"
#include "fw.h"

#define PLAN_VERSION	1

/* The names nft uses for them, in its JSON and on its command line. */
const char *const apply_plan_kind_names[APPLY_NKINDS] = {
	[AK_RULE] = "rule", [AK_CHAIN] = "chain", [AK_SET] = "set",
	[AK_MAP] = "map", [AK_ELEMENT] = "element", [AK_HELPER] = "ct helper",
	[AK_TABLE] = "table",
};

/* ---- plan basics ---- */

struct apply_plan *
apply_plan_new(int provisional)
{
	struct apply_plan *p = calloc(1, sizeof(*p));

	if (p != NULL)
		p->provisional = provisional;
	return p;
}

void
apply_plan_free(struct apply_plan *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++) {
		free(p->items[i].elem);
		free(p->items[i].text);
	}
	free(p->items);
	free(p->wm);
	free(p);
}

int
apply_plan_provisional(const struct apply_plan *p)
{
	return p->provisional;
}

size_t
apply_plan_count(const struct apply_plan *p)
{
	return p->n;
}

/* A zeroed item at the end; NULL on no memory. */
struct apply_item *
apply_plan_add(struct apply_plan *p)
{
	struct apply_item *ni;
	size_t cap;

	if (p->n == p->cap) {
		cap = p->cap ? p->cap * 2 : 8;
		if ((ni = realloc(p->items, cap * sizeof(*ni))) == NULL)
			return NULL;
		p->items = ni;
		p->cap = cap;
	}
	ni = &p->items[p->n++];
	memset(ni, 0, sizeof(*ni));
	return ni;
}

/* Names we put into undo commands: nft's identifier alphabet, so a name
 * from a plan file can never add words to a command. */
int
apply_plan_name_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len >= FW_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		    c == '-' || c == '/'))
			return 0;
	}
	return 1;
}

static const char *const families[] = {
	"ip", "ip6", "inet", "arp", "bridge", "netdev",
};

int
apply_plan_family_ok(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		if (strlen(families[i]) == len && memcmp(families[i], s, len)
		    == 0)
			return 1;
	return 0;
}

int
apply_plan_kind_of(const char *s)
{
	size_t i;

	for (i = 0; i < APPLY_NKINDS; i++)
		if (strcmp(apply_plan_kind_names[i], s) == 0)
			return (int)i;
	return -1;
}

/* ---- growing text (the screen's batch, the undo's element lines) ---- */

void
apply_plan_sbuf_put(struct apply_plan_sbuf *b, const char *s, size_t len)
{
	char *ns;
	size_t cap;

	if (b->oom)
		return;
	if (b->len + len + 1 > b->cap) {
		cap = b->cap ? b->cap : 256;
		while (cap < b->len + len + 1)
			cap *= 2;
		if ((ns = realloc(b->s, cap)) == NULL) {
			b->oom = 1;
			return;
		}
		b->s = ns;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, len);
	b->len += len;
	b->s[b->len] = '\0';
}

/* ---- JSON helpers ---- */

/* A string member copied into dst if it is a valid name (or family). */
int
apply_plan_json_name(json_t *o, const char *key, char *dst, size_t dlen,
    int family)
{
	const char *s = json_string_value(json_object_get(o, key));
	size_t len;

	if (s == NULL)
		return FTP_ERR_PROTO;
	len = strlen(s);
	if (len >= dlen || !(family ? apply_plan_family_ok(s, len) :
	    apply_plan_name_ok(s, len)))
		return FTP_ERR_PROTO;
	memcpy(dst, s, len + 1);
	return 0;
}

uint64_t
apply_plan_json_handle(json_t *o)
{
	json_t *h = json_object_get(o, "handle");

	return json_is_integer(h) && json_integer_value(h) > 0 ?
	    (uint64_t)json_integer_value(h) : 0;
}

/* The family and table of an nft JSON object.  A table names itself
 * ("name" in nft's JSON); our plan file says "table" for every kind. */
int
apply_plan_json_where(json_t *o, int kind, struct apply_item *it)
{
	const char *key = kind == AK_TABLE && json_object_get(o, "name") !=
	    NULL ? "name" : "table";

	if (apply_plan_json_name(o, "family", it->family, sizeof(it->family),
	    1) != 0)
		return FTP_ERR_PROTO;
	return apply_plan_json_name(o, key, it->table, sizeof(it->table), 0);
}

/* ---- watermarks and resolution (listings) ---- */

struct apply_wm *
apply_plan_wm_find(const struct apply_plan *p, const char *family,
    const char *table)
{
	size_t i;

	for (i = 0; i < p->nwm; i++)
		if (strcmp(p->wm[i].family, family) == 0 &&
		    strcmp(p->wm[i].table, table) == 0)
			return &p->wm[i];
	return NULL;
}

int
apply_plan_wm_note(struct apply_plan *p, const char *family, const char *table,
    uint64_t handle, uint64_t table_handle)
{
	struct apply_wm *w = apply_plan_wm_find(p, family, table), *nw;
	size_t cap;

	if (w == NULL) {
		if (p->nwm == p->wmcap) {
			cap = p->wmcap ? p->wmcap * 2 : 4;
			if ((nw = realloc(p->wm, cap * sizeof(*nw))) == NULL)
				return FTP_ERR_NOMEM;
			p->wm = nw;
			p->wmcap = cap;
		}
		w = &p->wm[p->nwm++];
		memset(w, 0, sizeof(*w));
		snprintf(w->family, sizeof(w->family), "%s", family);
		snprintf(w->table, sizeof(w->table), "%s", table);
	}
	if (handle > w->handle)
		w->handle = handle;
	if (table_handle != 0)
		w->table_handle = table_handle;
	return 0;
}

/* ---- the plan file ---- */

static json_t *
item_json(const struct apply_item *it)
{
	json_t *o = json_pack("{s:s, s:s, s:s}", "kind",
	    apply_plan_kind_names[it->kind], "family", it->family, "table",
	    it->table);

	if (o == NULL)
		return NULL;
	if ((it->chain[0] && json_object_set_new(o, "chain",
	    json_string(it->chain))) ||
	    (it->name[0] && json_object_set_new(o, "name",
	    json_string(it->name))) ||
	    (it->handle && json_object_set_new(o, "handle",
	    json_integer((json_int_t)it->handle))) ||
	    (it->elem && json_object_set_new(o, "elem",
	    json_loads(it->elem, 0, NULL))) ||
	    (it->text && json_object_set_new(o, "text",
	    json_string(it->text)))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int
apply_plan_encode(const struct apply_plan *p, char **out)
{
	json_t *root, *items, *wms;
	size_t i;
	char *s = NULL;
	int r = FTP_ERR_NOMEM;

	root = json_pack("{s:i, s:b, s:[], s:[]}", "ftpath_apply_plan",
	    PLAN_VERSION, "provisional", p->provisional, "items",
	    "watermarks");
	if (root == NULL)
		goto out;
	items = json_object_get(root, "items");
	wms = json_object_get(root, "watermarks");
	for (i = 0; i < p->n; i++)
		if (json_array_append_new(items, item_json(&p->items[i])) != 0)
			goto out;
	for (i = 0; i < p->nwm; i++)
		if (json_array_append_new(wms, json_pack("{s:s, s:s, s:I, s:I}",
		    "family", p->wm[i].family, "table", p->wm[i].table,
		    "handle", (json_int_t)p->wm[i].handle, "table_handle",
		    (json_int_t)p->wm[i].table_handle)) != 0)
			goto out;
	if ((s = json_dumps(root, JSON_INDENT(1))) == NULL)
		goto out;
	*out = s;
	r = 0;
out:
	json_decref(root);
	return r;
}

/* One item back from the file; every name checked again. */
static int
item_from_json(json_t *o, struct apply_item *it)
{
	const char *k = json_string_value(json_object_get(o, "kind"));
	const char *text = json_string_value(json_object_get(o, "text"));
	json_t *elem = json_object_get(o, "elem");
	int kind;

	if (k == NULL || (kind = apply_plan_kind_of(k)) < 0 ||
	    apply_plan_json_where(o, kind, it) != 0)
		return FTP_ERR_PROTO;
	it->kind = (enum apply_kind)kind;
	it->handle = apply_plan_json_handle(o);
	if (json_object_get(o, "chain") != NULL &&
	    apply_plan_json_name(o, "chain", it->chain, sizeof(it->chain),
	    0) != 0)
		return FTP_ERR_PROTO;
	if (json_object_get(o, "name") != NULL && kind != AK_TABLE &&
	    apply_plan_json_name(o, "name", it->name, sizeof(it->name), 0) != 0)
		return FTP_ERR_PROTO;
	if (kind == AK_ELEMENT && json_is_array(elem) &&
	    (it->elem = json_dumps(elem, JSON_COMPACT)) == NULL)
		return FTP_ERR_NOMEM;
	/* The text goes into an nft command: only a brace block. */
	if (kind == AK_ELEMENT && text != NULL) {
		if (text[0] != '{' || text[strlen(text) - 1] != '}' ||
		    strpbrk(text, ";#") != NULL)
			return FTP_ERR_PROTO;
		if ((it->text = strdup(text)) == NULL)
			return FTP_ERR_NOMEM;
	}
	if ((kind == AK_RULE && it->chain[0] == '\0') ||
	    (kind == AK_ELEMENT && (it->chain[0] == '\0' ||
	    (it->elem == NULL && it->text == NULL))) ||
	    (kind != AK_RULE && kind != AK_ELEMENT && kind != AK_TABLE &&
	    it->name[0] == '\0'))
		return FTP_ERR_PROTO;
	return 0;
}

static int
plan_from_json(json_t *root, struct apply_plan *p)
{
	json_t *v, *w, *th;
	size_t i;
	char fam[APPLY_FAMILY_MAX], table[FW_NAME_MAX];
	int r;

	json_array_foreach(json_object_get(root, "items"), i, v) {
		if (apply_plan_add(p) == NULL)
			return FTP_ERR_NOMEM;
		if ((r = item_from_json(v, &p->items[p->n - 1])) != 0)
			return r;
	}
	json_array_foreach(json_object_get(root, "watermarks"), i, w) {
		if (apply_plan_json_name(w, "family", fam, sizeof(fam),
		    1) != 0 || apply_plan_json_name(w, "table", table,
		    sizeof(table), 0) != 0)
			return FTP_ERR_PROTO;
		th = json_object_get(w, "table_handle");
		if ((r = apply_plan_wm_note(p, fam, table,
		    apply_plan_json_handle(w),
		    json_is_integer(th) && json_integer_value(th) > 0 ?
		    (uint64_t)json_integer_value(th) : 0)) != 0)
			return r;
	}
	return 0;
}

int
apply_plan_decode(const char *text, struct apply_plan **out, char *err,
    size_t errlen)
{
	struct apply_plan *p = NULL;
	json_t *root;
	int r = FTP_ERR_PROTO;

	root = json_loads(text, 0, NULL);
	if (!json_is_object(root) || json_integer_value(json_object_get(root,
	    "ftpath_apply_plan")) != PLAN_VERSION ||
	    !json_is_boolean(json_object_get(root, "provisional")) ||
	    !json_is_array(json_object_get(root, "items"))) {
		ftp_errmsg(err, errlen, "not an undo plan of version %d",
		    PLAN_VERSION);
		goto out;
	}
	r = FTP_ERR_NOMEM;
	if ((p = apply_plan_new(json_is_true(json_object_get(root,
	    "provisional")))) == NULL)
		goto out;
	if ((r = plan_from_json(root, p)) != 0) {
		ftp_errmsg(err, errlen, "undo plan: a malformed item");
		goto out;
	}
	*out = p;
	p = NULL;
	r = 0;
out:
	apply_plan_free(p);
	json_decref(root);
	return r;
}

/* ---- the undo ---- */

/* One delete command in nft JSON. */
static json_t *
undo_cmd(const struct apply_item *it)
{
	json_t *o, *elem;

	o = json_pack("{s:s, s:s}", "family", it->family,
	    it->kind == AK_TABLE ? "name" : "table", it->table);
	if (o == NULL)
		return NULL;
	switch (it->kind) {
	case AK_RULE:
		if (json_object_set_new(o, "chain", json_string(it->chain)) ||
		    json_object_set_new(o, "handle",
		    json_integer((json_int_t)it->handle)))
			goto fail;
		break;
	case AK_ELEMENT:
		elem = json_loads(it->elem, 0, NULL);
		if (json_object_set_new(o, "name", json_string(it->chain)) ||
		    json_object_set_new(o, "elem", elem))
			goto fail;
		break;
	case AK_TABLE:
		break;
	default:
		/* Chains, sets, maps, objects by name: create made sure the
		 * name was new, and 1.0.6 deletes objects only by name. */
		if (json_object_set_new(o, "name", json_string(it->name)))
			goto fail;
		break;
	}
	return json_pack("{s:{s:o}}", "delete",
	    apply_plan_kind_names[it->kind], o);
fail:
	json_decref(o);
	return NULL;
}

/* "delete element F T S { ... }" for an element known by its text. */
static void
undo_text(struct apply_plan_sbuf *b, const struct apply_item *it)
{
	char line[3 * FW_NAME_MAX];
	int n;

	n = snprintf(line, sizeof(line), "delete element %s %s %s ",
	    it->family, it->table, it->chain);
	apply_plan_sbuf_put(b, line, (size_t)n);
	apply_plan_sbuf_put(b, it->text, strlen(it->text));
	apply_plan_sbuf_put(b, "\n", 1);
}

int
apply_plan_undo(const struct apply_plan *p, long item, char **json_out,
    char **text_out)
{
	json_t *root = NULL, *cmds;
	struct apply_plan_sbuf tb = { NULL, 0, 0, 0 };
	size_t i;
	int r = FTP_ERR_INVAL;

	if (p->provisional || item >= (long)p->n || item < -1)
		goto out;
	r = FTP_ERR_NOMEM;
	if ((root = json_pack("{s:[]}", "nftables")) == NULL)
		goto out;
	cmds = json_object_get(root, "nftables");
	for (i = p->n; i-- > 0;) {
		const struct apply_item *it = &p->items[i];

		if (item >= 0 && (size_t)item != i)
			continue;
		if (it->kind == AK_ELEMENT && it->elem == NULL)
			undo_text(&tb, it);
		else if (json_array_append_new(cmds, undo_cmd(it)) != 0)
			goto out;
	}
	if (tb.oom || (*json_out = json_dumps(root, JSON_COMPACT)) == NULL)
		goto out;
	*text_out = tb.s;
	tb.s = NULL;
	r = 0;
out:
	free(tb.s);
	json_decref(root);
	return r;
}

int
apply_plan_item(const struct apply_plan *p, size_t i,
    struct apply_item_info *out)
{
	const struct apply_item *it;

	if (i >= p->n)
		return FTP_ERR_RANGE;
	it = &p->items[i];
	out->kind = apply_plan_kind_names[it->kind];
	out->family = it->family;
	out->table = it->table;
	out->chain = it->chain;
	out->name = it->name;
	out->elements = it->elem ? it->elem : it->text ? it->text : "";
	out->handle = it->handle;
	return 0;
}

void
apply_plan_print(const struct apply_plan *p, const char *prefix, FILE *out)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		const struct apply_item *it = &p->items[i];

		fprintf(out, "%s%s %s %s", prefix,
		    apply_plan_kind_names[it->kind], it->family, it->table);
		if (it->chain[0])
			fprintf(out, " %s", it->chain);
		if (it->name[0])
			fprintf(out, " %s", it->name);
		if (it->elem || it->text)
			fprintf(out, " %s", it->elem ? it->elem : it->text);
		if (it->handle && it->kind != AK_TABLE)
			fprintf(out, " handle %" PRIu64, it->handle);
		fputc('\n', out);
	}
}
