/*
 * ftpconf_int.h - what ftpconf.c (the model, the driver, the queries),
 * ftpconf_read.c (each server's lines) and ftpconf_advice.c (the
 * setting to change) share.  Not for other modules: ftpconf.h is the
 * interface.
 */
#ifndef FTPATH_FTPCONF_INT_H
#define FTPATH_FTPCONF_INT_H

#include <stddef.h>

#include "ftpconf.h"

#define FTPCONF_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define NKEYS(t)	(sizeof(t) / sizeof((t)[0]))

#define FTPCONF_NAME_MAX	64
/* Evidence keeps the start of the line; a setting fits easily. */
#define FTPCONF_TEXT_MAX	160
#define FTPCONF_FILE_MAX	(1024 * 1024)
/* proftpd sections nest a few levels; more is garbage, not a config. */
#define FTPCONF_DEPTH_MAX	32
#define FTPCONF_MSG_MAX		384

struct ftpconf_val {
	int set;
	unsigned long line;
	unsigned long num;
	char *str;		/* string fields; NULL = none */
	char *text;		/* evidence; NULL unless set */
};

struct ftpconf {
	enum ftpconf_kind kind;
	char name[FTPCONF_NAME_MAX];
	struct ftpconf_val v[FTPCONF_NFIELDS];
};

enum ftpconf_type {
	FT_BOOL,
	FT_NUM,
	FT_STR,
};

/* Per server: the setting's own name ("-" = none) and its default. */
struct ftpconf_def {
	const char *name;
	unsigned long num;
};

#define KINDS	4	/* indexed by enum ftpconf_kind; [0] unused */

/* Parsing state for one buffer. */
struct ftpconf_ctx {
	struct ftpconf *cf;
	unsigned long line;	/* first physical line of the logical one */
	const char *raw;	/* the logical line as written */
	int depth;		/* proftpd: open sections */
	int skip_depth;		/* proftpd: depth where skipping began */
	char sect[FTPCONF_DEPTH_MAX][24];	/* open section names */
	char msg[FTPCONF_MSG_MAX];
};

extern const enum ftpconf_type ftpconf_types[FTPCONF_NFIELDS];
extern const struct ftpconf_def ftpconf_defs[KINDS][FTPCONF_NFIELDS];

/* ftpconf.c: values and evidence */
int ftpconf_bool_word(const char *s, unsigned long *out);
int ftpconf_fail(struct ftpconf_ctx *c, const char *fmt,
    ...) FTPCONF_PRINTF(2, 3);
int ftpconf_hostname_ok(const char *s);
int ftpconf_ip_family(const char *s);
int ftpconf_is_blank(char ch);
void ftpconf_printable(char *dst, size_t dstlen, const char *s, size_t n);
int ftpconf_setv(struct ftpconf_ctx *c, enum ftpconf_field f,
    unsigned long num, const char *str);
char *ftpconf_trim(char *s);
int ftpconf_ulong(const char *s, int octal0, unsigned long max,
    unsigned long *out);
int ftpconf_done(int n, size_t len);

/* ftpconf_read.c: one logical line of each server's file */
int ftpconf_pro_finish(struct ftpconf_ctx *c);
int ftpconf_pro_line(struct ftpconf_ctx *c, char *line);
int ftpconf_pure_line(struct ftpconf_ctx *c, char *line);
int ftpconf_vs_finish(struct ftpconf_ctx *c);
int ftpconf_vs_line(struct ftpconf_ctx *c, char *line);

#endif
