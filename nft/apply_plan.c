/*
 * apply_plan.c - the pure half of apply.h: script screening, undo plans
 * from the kernel's echo or from the script, the plan file, the undo.
 *
 * No kernel and no files here, so unit tests call every function.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "apply.h"
#include "err.h"
#include "fw.h"

#define PLAN_VERSION	1
#define SCAN_WORDS	8	/* words of a command we look at */
#define SCAN_DEPTH	64	/* nested braces */
#define FAMILY_MAX	8

enum apply_kind {
	AK_RULE, AK_CHAIN, AK_SET, AK_MAP, AK_ELEMENT, AK_HELPER, AK_TABLE,
};

/* The names nft uses for them, in its JSON and on its command line. */
static const char *const kind_names[] = {
	[AK_RULE] = "rule", [AK_CHAIN] = "chain", [AK_SET] = "set",
	[AK_MAP] = "map", [AK_ELEMENT] = "element", [AK_HELPER] = "ct helper",
	[AK_TABLE] = "table",
};
#define NKINDS	(sizeof(kind_names) / sizeof(kind_names[0]))

struct apply_item {
	enum apply_kind	 kind;
	char		 family[FAMILY_MAX];
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
	char		 family[FAMILY_MAX];
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

/* ---- plan basics ---- */

static struct apply_plan *
plan_new(int provisional)
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
static struct apply_item *
plan_add(struct apply_plan *p)
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
static int
name_ok(const char *s, size_t len)
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

static int
family_ok(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		if (strlen(families[i]) == len && memcmp(families[i], s, len)
		    == 0)
			return 1;
	return 0;
}

static int
kind_of(const char *s)
{
	size_t i;

	for (i = 0; i < NKINDS; i++)
		if (strcmp(kind_names[i], s) == 0)
			return (int)i;
	return -1;
}

/* ---- the script scanner ---- */

struct word {
	const char	*s;
	size_t		 len;
};

/* One command: its text, its first words outside braces, its body. */
struct scmd {
	const char	*start, *end;
	unsigned	 line;
	struct word	 w[SCAN_WORDS];
	size_t		 nw;
	const char	*body, *body_end;	/* first {...} at depth 0 */
};

static int
wis(const struct scmd *c, size_t i, const char *s)
{
	return i < c->nw && c->w[i].len == strlen(s) &&
	    memcmp(c->w[i].s, s, c->w[i].len) == 0;
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Blanks, separators and comments between commands. */
static const char *
scan_skip(const char *p, unsigned *line)
{
	for (;;) {
		if (*p == '\n') {
			(*line)++;
			p++;
		} else if (is_blank(*p) || *p == ';') {
			p++;
		} else if (*p == '\\' && p[1] == '\n') {
			(*line)++;
			p += 2;
		} else if (*p == '#') {
			while (*p != '\0' && *p != '\n')
				p++;
		} else {
			return p;
		}
	}
}

/* One word at p (a quoted string is one word); NULL if unterminated. */
static const char *
scan_word(const char *p)
{
	if (*p == '"') {
		for (p++; *p != '\0' && *p != '"' && *p != '\n'; p++)
			;
		return *p == '"' ? p + 1 : NULL;
	}
	while (*p != '\0' && !is_blank(*p) && strchr("\n;{}#\"", *p) == NULL)
		p++;
	return p;
}

/* The word at p, noted in c when outside braces; where it ends, or NULL
 * for an unterminated string. */
static const char *
scan_note_word(struct scmd *c, const char *p, int depth)
{
	const char *we = scan_word(p);

	if (we != NULL && depth == 0 && c->nw < SCAN_WORDS) {
		c->w[c->nw].s = p;
		c->w[c->nw].len = (size_t)(we - p);
		c->nw++;
	}
	return we;
}

/*
 * The next command: 1 and *c, 0 at the end, FTP_ERR_INVAL (err) for
 * unbalanced braces or an unterminated string.  A newline or ';' ends a
 * command only outside braces, as in nft's grammar.
 */
static int
scan_cmd(const char **pp, unsigned *line, struct scmd *c, char *err,
    size_t errlen)
{
	const char *p = scan_skip(*pp, line);
	int depth = 0;

	memset(c, 0, sizeof(*c));
	if (*p == '\0') {
		*pp = p;
		return 0;
	}
	c->start = p;
	c->line = *line;
	while (*p != '\0') {
		if (*p == '\\' && p[1] == '\n') {
			(*line)++;
			p += 2;
		} else if (*p == '\n' && depth == 0) {
			break;
		} else if (*p == '\n') {
			(*line)++;
			p++;
		} else if (*p == ';' && depth == 0) {
			break;
		} else if (*p == '#') {
			while (*p != '\0' && *p != '\n')
				p++;
		} else if (*p == '{') {
			if (depth == 0 && c->body == NULL)
				c->body = p;
			if (++depth > SCAN_DEPTH)
				goto unbalanced;
			p++;
		} else if (*p == '}') {
			if (depth == 0)
				goto unbalanced;
			if (--depth == 0 && c->body_end == NULL)
				c->body_end = p + 1;
			p++;
		} else if (is_blank(*p) || *p == ';') {
			p++;
		} else if ((p = scan_note_word(c, p, depth)) == NULL) {
			ftp_errmsg(err, errlen, "line %u: unterminated string",
			    *line);
			return FTP_ERR_INVAL;
		}
	}
	if (depth != 0)
		goto unbalanced;
	c->end = p;
	*pp = p;
	return 1;
unbalanced:
	ftp_errmsg(err, errlen, "line %u: unbalanced braces", c->line);
	return FTP_ERR_INVAL;
}

/* ---- screening ---- */

/* Verbs that remove or change what is there: never in our patches. */
static const char *const refused_verbs[] = {
	"flush", "delete", "destroy", "replace", "reset", "rename",
};

static int
screen_refuse(const struct scmd *c, const char *why, char *err,
    size_t errlen)
{
	int len = (int)(c->end - c->start);

	ftp_errmsg(err, errlen, "line %u: '%.*s%s': %s", c->line,
	    len > 60 ? 60 : len, c->start, len > 60 ? "..." : "", why);
	return FTP_ERR_INVAL;
}

/* Copy word i, without quotes, into dst; 0 or FTP_ERR_INVAL. */
static int
word_name(const struct scmd *c, size_t i, char *dst, size_t dlen)
{
	const char *s;
	size_t len;

	if (i >= c->nw)
		return FTP_ERR_INVAL;
	s = c->w[i].s;
	len = c->w[i].len;
	if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
		s++;
		len -= 2;
	}
	if (!name_ok(s, len) || len >= dlen)
		return FTP_ERR_INVAL;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 0;
}

/*
 * What the command creates, as a provisional item: kind at word k.
 * [family] table [chain|set|name] as nft's grammar has them (family ip
 * when left out).
 */
static int
screen_item(const struct scmd *c, size_t k, int kind, struct apply_item *it,
    char *err, size_t errlen)
{
	size_t a = k + (kind == AK_HELPER ? 2 : 1);

	it->kind = (enum apply_kind)kind;
	snprintf(it->family, sizeof(it->family), "ip");
	if (a < c->nw && family_ok(c->w[a].s, c->w[a].len)) {
		memcpy(it->family, c->w[a].s, c->w[a].len);
		it->family[c->w[a].len] = '\0';
		a++;
	}
	if (word_name(c, a, it->table, sizeof(it->table)) != 0)
		goto bad;
	if (kind == AK_TABLE)
		return 0;
	if (word_name(c, a + 1, kind == AK_RULE || kind == AK_ELEMENT ?
	    it->chain : it->name, FW_NAME_MAX) != 0)
		goto bad;
	if (kind != AK_ELEMENT)
		return 0;
	if (c->body == NULL)
		goto bad;
	/* The text may become "delete element ... { ... }" of a provisional
	 * undo: one plain list, as the plan file takes it back. */
	if (memchr(c->body, ';', (size_t)(c->body_end - c->body)) != NULL ||
	    memchr(c->body, '#', (size_t)(c->body_end - c->body)) != NULL)
		return screen_refuse(c, "an element list with ';' or a comment "
		    "inside", err, errlen);
	if ((it->text = strndup(c->body, (size_t)(c->body_end - c->body)))
	    == NULL)
		return FTP_ERR_NOMEM;
	return 0;
bad:
	return screen_refuse(c, "incomplete command or a name apply cannot "
	    "use (literal names of [A-Za-z0-9_./-] only)", err, errlen);
}

/* Growing output text. */
struct sbuf {
	char	*s;
	size_t	 len, cap;
	int	 oom;
};

static void
sbuf_put(struct sbuf *b, const char *s, size_t len)
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

/*
 * Copy the script up to command c into out, as it is to be loaded.  Rules
 * only add; so does "add table|chain NAME" without a body (a no-op on
 * one that exists, which the kernel does not echo and
 * apply_plan_drop_existing() keeps out of plans).  Everything else loads
 * as create: the kernel refuses an object that exists, so the undo
 * deletes only ours.  *copied: how far the script has been copied.
 */
static void
screen_rewrite(struct sbuf *out, const char **copied, const struct scmd *c,
    int kind, int verb)
{
	/* nftables 1.0.6 drops a set's or map's inline "elements = { }" on
	 * create: those stay add, and apply_plan_check_new() refuses one
	 * that exists instead of the kernel. */
	if (kind == AK_RULE || kind == AK_SET || kind == AK_MAP ||
	    (c->body == NULL && (kind == AK_TABLE || kind == AK_CHAIN) &&
	    !wis(c, 0, "create")))
		return;
	sbuf_put(out, *copied, (size_t)(c->start - *copied));
	sbuf_put(out, "create ", 7);
	*copied = verb ? c->w[0].s + c->w[0].len : c->start;
	while (verb && is_blank(**copied))
		(*copied)++;
}

/*
 * Judge one command; *kind -1 for a command that creates nothing
 * (define), else its kind, *k the index of the kind word and *verb 1 if
 * the command starts with a verb.
 */
static int
screen_judge(const struct scmd *c, int *kind, size_t *k, int *verb,
    char *err, size_t errlen)
{
	char w[16];
	size_t i;

	*kind = -1;
	if (wis(c, 0, "define") || wis(c, 0, "redefine") ||
	    wis(c, 0, "undefine"))
		return 0;
	for (i = 0; i < sizeof(refused_verbs) / sizeof(refused_verbs[0]); i++)
		if (wis(c, 0, refused_verbs[i]))
			return screen_refuse(c, "removes or changes what is "
			    "there; apply only adds (our patches never flush, "
			    "delete, replace or reset)", err, errlen);
	if (wis(c, 0, "include"))
		return screen_refuse(c, "include is not screened; give apply "
		    "the whole script", err, errlen);
	*verb = wis(c, 0, "add") || wis(c, 0, "create") || wis(c, 0, "insert");
	*k = *verb ? 1 : 0;
	if (*k < c->nw && c->w[*k].len < sizeof(w)) {
		memcpy(w, c->w[*k].s, c->w[*k].len);
		w[c->w[*k].len] = '\0';
		*kind = strcmp(w, "ct") == 0 && wis(c, *k + 1, "helper") ?
		    AK_HELPER : kind_of(w);
	}
	if (*kind < 0)
		return screen_refuse(c, "not an addition apply can undo (add "
		    "or insert rule; add table, chain, set, map, element, "
		    "ct helper)", err, errlen);
	if (wis(c, 0, "insert") && *kind != AK_RULE)
		return screen_refuse(c, "insert takes rules only", err, errlen);
	if (!*verb && *kind == AK_TABLE && c->body != NULL)
		return screen_refuse(c, "a declarative table block can change "
		    "what is there; write add/insert commands", err, errlen);
	return 0;
}

int
apply_screen(const char *script, char **batch, struct apply_plan **prov,
    char *err, size_t errlen)
{
	struct apply_plan *p = NULL;
	struct apply_item *it;
	struct sbuf out = { NULL, 0, 0, 0 };
	struct scmd c;
	const char *pos = script, *copied = script;
	unsigned line = 1;
	size_t k = 0;
	int r, kind, verb = 0, ncmd = 0;

	if (strlen(script) > APPLY_SCRIPT_MAX) {
		ftp_errmsg(err, errlen, "script larger than %u bytes",
		    APPLY_SCRIPT_MAX);
		r = FTP_ERR_TOOBIG;
		goto out;
	}
	r = FTP_ERR_NOMEM;
	if ((p = plan_new(1)) == NULL)
		goto out;
	while ((r = scan_cmd(&pos, &line, &c, err, errlen)) == 1) {
		if ((r = screen_judge(&c, &kind, &k, &verb, err, errlen)) != 0)
			goto out;
		if (kind < 0)
			continue;
		r = FTP_ERR_NOMEM;
		if ((it = plan_add(p)) == NULL)
			goto out;
		if ((r = screen_item(&c, k, kind, it, err, errlen)) != 0)
			goto out;
		ncmd++;
		screen_rewrite(&out, &copied, &c, kind, verb);
	}
	if (r != 0)
		goto out;
	if (ncmd == 0) {
		ftp_errmsg(err, errlen, "the script adds nothing");
		r = FTP_ERR_INVAL;
		goto out;
	}
	sbuf_put(&out, copied, strlen(copied));
	r = FTP_ERR_NOMEM;
	if (out.oom || out.s == NULL)
		goto out;
	*batch = out.s;
	out.s = NULL;
	if (prov != NULL) {
		*prov = p;
		p = NULL;
	}
	r = 0;
out:
	free(out.s);
	apply_plan_free(p);
	return r;
}

/* ---- JSON helpers ---- */

/* A string member copied into dst if it is a valid name (or family). */
static int
json_name(json_t *o, const char *key, char *dst, size_t dlen, int family)
{
	const char *s = json_string_value(json_object_get(o, key));
	size_t len;

	if (s == NULL)
		return FTP_ERR_PROTO;
	len = strlen(s);
	if (len >= dlen || !(family ? family_ok(s, len) : name_ok(s, len)))
		return FTP_ERR_PROTO;
	memcpy(dst, s, len + 1);
	return 0;
}

static uint64_t
json_handle(json_t *o)
{
	json_t *h = json_object_get(o, "handle");

	return json_is_integer(h) && json_integer_value(h) > 0 ?
	    (uint64_t)json_integer_value(h) : 0;
}

/* The family and table of an nft JSON object.  A table names itself
 * ("name" in nft's JSON); our plan file says "table" for every kind. */
static int
json_where(json_t *o, int kind, struct apply_item *it)
{
	const char *key = kind == AK_TABLE && json_object_get(o, "name") !=
	    NULL ? "name" : "table";

	if (json_name(o, "family", it->family, sizeof(it->family), 1) != 0)
		return FTP_ERR_PROTO;
	return json_name(o, key, it->table, sizeof(it->table), 0);
}

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
	if (json_where(o, kind, it) != 0)
		return FTP_ERR_PROTO;
	it->handle = json_handle(o);
	switch (kind) {
	case AK_RULE:
		if (it->handle == 0)
			return FTP_ERR_PROTO;
		return json_name(o, "chain", it->chain, sizeof(it->chain), 0);
	case AK_ELEMENT:
		if (json_name(o, "name", it->chain, sizeof(it->chain), 0) != 0 ||
		    json_object_get(o, "elem") == NULL)
			return FTP_ERR_PROTO;
		it->elem = json_elem_array(json_object_get(o, "elem"));
		return it->elem == NULL ? FTP_ERR_NOMEM : 0;
	case AK_TABLE:
		return 0;
	default:
		return json_name(o, "name", it->name, sizeof(it->name), 0);
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
		return kind_of(key);
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
	if ((p = plan_new(0)) == NULL)
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
		if ((it = plan_add(p)) == NULL)
			goto out;
		if ((r = json_item(obj, kind, it)) != 0) {
			ftp_errmsg(err, errlen, "echo entry %zu: %s without "
			    "the names and handle an undo needs", i,
			    kind_names[kind]);
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

/* ---- watermarks and resolution (listings) ---- */

static struct apply_wm *
wm_find(const struct apply_plan *p, const char *family, const char *table)
{
	size_t i;

	for (i = 0; i < p->nwm; i++)
		if (strcmp(p->wm[i].family, family) == 0 &&
		    strcmp(p->wm[i].table, table) == 0)
			return &p->wm[i];
	return NULL;
}

static int
wm_note(struct apply_plan *p, const char *family, const char *table,
    uint64_t handle, uint64_t table_handle)
{
	struct apply_wm *w = wm_find(p, family, table), *nw;
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
		if (json_where(obj, kind, &where) != 0)
			continue;
		/* A table's own handle counts among the tables, not among
		 * the handles of its rules and objects. */
		if ((r = wm_note(p, where.family, where.table,
		    kind == AK_TABLE ? 0 : json_handle(obj),
		    kind == AK_TABLE ? json_handle(obj) : 0)) != 0)
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

	if ((it = plan_add(p)) == NULL)
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
	if ((l = plan_new(0)) == NULL)
		goto out;
	json_array_foreach(a, i, e) {
		if ((kind = json_entry(e, &obj)) < 0 || kind == AK_ELEMENT)
			continue;
		memset(&it, 0, sizeof(it));
		if (json_item(obj, kind, &it) != 0)
			continue;
		if (plan_add(l) == NULL)
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
				    "already: apply only adds (add its elements "
				    "with add element)", kind_names[it->kind],
				    it->family, it->table, it->name);
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

		w = wm_find(p, it->family, it->table);
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
	const struct apply_wm *w = wm_find(prov, q->family, q->table);
	uint64_t mark = w ? w->handle : 0;
	struct apply_item *it;
	size_t i, got = 0;
	int r;

	for (i = 0; i < live->n; i++) {
		const struct apply_item *l = &live->items[i];

		if (l->kind != AK_RULE || l->handle <= mark ||
		    strcmp(l->family, q->family) || strcmp(l->table, q->table) ||
		    strcmp(l->chain, q->chain))
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
	if ((res = plan_new(0)) == NULL)
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
		if ((res = plan_new(0)) == NULL)
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

/* ---- the plan file ---- */

static json_t *
item_json(const struct apply_item *it)
{
	json_t *o = json_pack("{s:s, s:s, s:s}", "kind", kind_names[it->kind],
	    "family", it->family, "table", it->table);

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

	if (k == NULL || (kind = kind_of(k)) < 0 ||
	    json_where(o, kind, it) != 0)
		return FTP_ERR_PROTO;
	it->kind = (enum apply_kind)kind;
	it->handle = json_handle(o);
	if (json_object_get(o, "chain") != NULL &&
	    json_name(o, "chain", it->chain, sizeof(it->chain), 0) != 0)
		return FTP_ERR_PROTO;
	if (json_object_get(o, "name") != NULL && kind != AK_TABLE &&
	    json_name(o, "name", it->name, sizeof(it->name), 0) != 0)
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
	char fam[FAMILY_MAX], table[FW_NAME_MAX];
	int r;

	json_array_foreach(json_object_get(root, "items"), i, v) {
		if (plan_add(p) == NULL)
			return FTP_ERR_NOMEM;
		if ((r = item_from_json(v, &p->items[p->n - 1])) != 0)
			return r;
	}
	json_array_foreach(json_object_get(root, "watermarks"), i, w) {
		if (json_name(w, "family", fam, sizeof(fam), 1) != 0 ||
		    json_name(w, "table", table, sizeof(table), 0) != 0)
			return FTP_ERR_PROTO;
		th = json_object_get(w, "table_handle");
		if ((r = wm_note(p, fam, table, json_handle(w),
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
	if ((p = plan_new(json_is_true(json_object_get(root, "provisional"))))
	    == NULL)
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
	return json_pack("{s:{s:o}}", "delete", kind_names[it->kind], o);
fail:
	json_decref(o);
	return NULL;
}

/* "delete element F T S { ... }" for an element known by its text. */
static void
undo_text(struct sbuf *b, const struct apply_item *it)
{
	char line[3 * FW_NAME_MAX];
	int n;

	n = snprintf(line, sizeof(line), "delete element %s %s %s ",
	    it->family, it->table, it->chain);
	sbuf_put(b, line, (size_t)n);
	sbuf_put(b, it->text, strlen(it->text));
	sbuf_put(b, "\n", 1);
}

int
apply_plan_undo(const struct apply_plan *p, long item, char **json_out,
    char **text_out)
{
	json_t *root = NULL, *cmds;
	struct sbuf tb = { NULL, 0, 0, 0 };
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
	out->kind = kind_names[it->kind];
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

		fprintf(out, "%s%s %s %s", prefix, kind_names[it->kind],
		    it->family, it->table);
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
