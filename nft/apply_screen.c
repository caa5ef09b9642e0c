/*
 * apply_screen.c - screen a patch script before it is loaded
 * (apply_screen() in apply_plan.h): split it into commands as nft's
 * grammar does, refuse whatever removes or changes what is there, and
 * write the batch to load (add -> create) and the provisional plan.
 *
 * Pure: no kernel, no files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply_plan.h"
#include "apply_plan_int.h"
#include "err.h"
#include "fw.h"

#define SCAN_WORDS	8	/* words of a command we look at */
#define SCAN_DEPTH	64	/* nested braces */

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
	if (!apply_plan_name_ok(s, len) || len >= dlen)
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
	if (a < c->nw && apply_plan_family_ok(c->w[a].s, c->w[a].len)) {
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

/*
 * Copy the script up to command c into out, as it is to be loaded.  Rules
 * only add; so does "add table|chain NAME" without a body (a no-op on
 * one that exists, which the kernel does not echo and
 * apply_plan_drop_existing() keeps out of plans).  Everything else loads
 * as create: the kernel refuses an object that exists, so the undo
 * deletes only ours.  *copied: how far the script has been copied.
 */
static void
screen_rewrite(struct apply_plan_sbuf *out, const char **copied,
    const struct scmd *c, int kind, int verb)
{
	/* nftables 1.0.6 drops a set's or map's inline "elements = { }" on
	 * create: those stay add, and apply_plan_check_new() refuses one
	 * that exists instead of the kernel. */
	if (kind == AK_RULE || kind == AK_SET || kind == AK_MAP ||
	    (c->body == NULL && (kind == AK_TABLE || kind == AK_CHAIN) &&
	    !wis(c, 0, "create")))
		return;
	apply_plan_sbuf_put(out, *copied, (size_t)(c->start - *copied));
	apply_plan_sbuf_put(out, "create ", 7);
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
		    AK_HELPER : apply_plan_kind_of(w);
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
	struct apply_plan_sbuf out = { NULL, 0, 0, 0 };
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
	if ((p = apply_plan_new(1)) == NULL)
		goto out;
	while ((r = scan_cmd(&pos, &line, &c, err, errlen)) == 1) {
		if ((r = screen_judge(&c, &kind, &k, &verb, err, errlen)) != 0)
			goto out;
		if (kind < 0)
			continue;
		r = FTP_ERR_NOMEM;
		if ((it = apply_plan_add(p)) == NULL)
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
	apply_plan_sbuf_put(&out, copied, strlen(copied));
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
