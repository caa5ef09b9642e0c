/*
 * apply_cmd.c - the "apply" subcommand (see apply_cmd.h): options, the
 * operator's terminal, messages.  The mechanism is all in apply.c.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apply.h"
#include "apply_cmd.h"
#include "err.h"
#include "fw_text.h"
#include "readfile.h"

#include <linux/netfilter.h>

enum {
	AOPT_HELP = 'h',
	AOPT_TIMEOUT = 256,
	AOPT_CONFIRM,
	AOPT_STATE_DIR,
	AOPT_STALE,
};

struct apply_cmd_opt {
	const char	*name;
	int		 has_arg;
	int		 val;
	const char	*arg;
	const char	*help;
};

/* One table drives getopt_long and --help. */
static const struct apply_cmd_opt apply_cmd_opts[] = {
	{ "confirm-timeout", required_argument, AOPT_TIMEOUT, "S",
	    "roll back after S seconds unless confirmed (default 30)" },
	{ "confirm", no_argument, AOPT_CONFIRM, NULL,
	    "keep the change at once, no question" },
	{ "state-dir", required_argument, AOPT_STATE_DIR, "DIR",
	    "undo plan and lock (default " APPLY_STATE_DIR ")" },
	{ "rollback-stale", no_argument, AOPT_STALE, NULL,
	    "run the undo plan a killed watchdog left behind" },
	{ "help", no_argument, AOPT_HELP, NULL, "this help" },
};
#define APPLY_CMD_NOPTS	(sizeof(apply_cmd_opts) / sizeof(apply_cmd_opts[0]))

struct apply_cmd {
	const char		*prog;
	const char		*file;
	struct apply_opts	 o;
	int			 confirm;
	int			 stale;
};

void
apply_cmd_usage(const char *prog, FILE *out)
{
	size_t i;
	char left[48];

	fprintf(out, "usage: %s apply FILE [--confirm-timeout S] [--confirm] "
	    "[--state-dir DIR]\n       %s apply --rollback-stale "
	    "[--state-dir DIR]\n\n"
	    "Checks an nftables patch (adds only) with the kernel, loads it "
	    "as one\ntransaction and rolls it back by itself unless you type "
	    "'yes' in time\n(or give --confirm); a kill of this process "
	    "rolls back too.\n\noptions:\n", prog, prog);
	for (i = 0; i < APPLY_CMD_NOPTS; i++) {
		const struct apply_cmd_opt *o = &apply_cmd_opts[i];

		snprintf(left, sizeof(left), "--%s%s%s", o->name,
		    o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(out, "  %-28s %s\n", left, o->help);
	}
	fprintf(out, "\nexit status: 0 kept, 1 rolled back, 2 usage or the "
	    "patch was refused\n(nothing loaded), 3 the state needs attention "
	    "(stale plan, failed rollback)\n");
}

static int
apply_cmd_seconds(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v == 0 ||
	    v > APPLY_TIMEOUT_MAX)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* 0, 1 for --help, -1 with a message. */
static int
apply_cmd_parse(struct apply_cmd *c, int argc, char **argv)
{
	struct option lopts[APPLY_CMD_NOPTS + 1];
	size_t i;
	int ch;

	memset(lopts, 0, sizeof(lopts));
	for (i = 0; i < APPLY_CMD_NOPTS; i++) {
		lopts[i].name = apply_cmd_opts[i].name;
		lopts[i].has_arg = apply_cmd_opts[i].has_arg;
		lopts[i].val = apply_cmd_opts[i].val;
	}
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (ch) {
		case AOPT_HELP:
			return 1;
		case AOPT_TIMEOUT:
			if (apply_cmd_seconds(optarg, &c->o.confirm_timeout)) {
				fprintf(stderr, "%s: apply: bad --confirm-"
				    "timeout '%s'\n", c->prog, optarg);
				return -1;
			}
			break;
		case AOPT_CONFIRM:	c->confirm = 1; break;
		case AOPT_STATE_DIR:	c->o.state_dir = optarg; break;
		case AOPT_STALE:	c->stale = 1; break;
		default:		return -1;
		}
	}
	if (optind < argc)
		c->file = argv[optind++];
	if (optind != argc || (c->file == NULL) != (c->stale != 0)) {
		fprintf(stderr, "%s: apply: give one FILE, or "
		    "--rollback-stale alone\n", c->prog);
		return -1;
	}
	return 0;
}

static int
apply_cmd_stale(const struct apply_cmd *c)
{
	char err[1024];
	int identical = 0, r;

	r = apply_rollback_stale(c->o.state_dir, &identical, err, sizeof(err));
	if (r == FTP_ERR_NOTFOUND) {
		printf("%s: apply: nothing to roll back (%s)\n", c->prog, err);
		return APPLY_EXIT_KEPT;
	}
	if (r != 0) {
		fprintf(stderr, "%s: apply: rollback failed: %s\n", c->prog,
		    err);
		return APPLY_EXIT_STATE;
	}
	printf("rolled back the stale plan: the ruleset listing is %s\n",
	    identical ? "identical to before the apply" : "NOT identical to "
	    "before the apply (counters moved or other changes)");
	return APPLY_EXIT_ROLLED_BACK;
}

/* Say so when a killed watchdog left a plan behind. */
static void
apply_cmd_report_stale(const struct apply_cmd *c)
{
	struct apply_plan *p = NULL;

	if (apply_stale(c->o.state_dir, &p) != 0)
		return;
	fprintf(stderr, "%s: apply: a stale undo plan was found in %s "
	    "(its watchdog is gone); the change it undoes is still loaded:\n",
	    c->prog, c->o.state_dir ? c->o.state_dir : APPLY_STATE_DIR);
	if (p != NULL)
		apply_plan_print(p, "  + ", stderr);
	fprintf(stderr, "run '%s apply --rollback-stale' to undo it\n",
	    c->prog);
	apply_plan_free(p);
}

/* The operator's answer: 1 "yes" in time, 0 anything else. */
static int
apply_cmd_ask(struct apply *a)
{
	struct pollfd pfd = { .fd = 0, .events = POLLIN };
	char line[64];
	long ms;

	printf("type 'yes' within %ld s to keep it: ",
	    (apply_remaining_ms(a) + 999) / 1000);
	fflush(stdout);
	while ((ms = apply_remaining_ms(a)) > 0) {
		if (poll(&pfd, 1, ms > 1000 ? 1000 : (int)ms) <= 0)
			continue;
		if (fgets(line, sizeof(line), stdin) == NULL)
			return 0;
		line[strcspn(line, "\r\n")] = '\0';
		return strcmp(line, "yes") == 0;
	}
	printf("\n");
	return 0;
}

static int
apply_cmd_decide(const struct apply_cmd *c, struct apply *a)
{
	char err[1024];
	int r, identical = 0, tty = isatty(0);

	if (c->confirm || (tty && apply_cmd_ask(a))) {
		if ((r = apply_confirm(a, err, sizeof(err))) == 0) {
			printf("confirmed: the change stays\n");
			return APPLY_EXIT_KEPT;
		}
		if (r != FTP_ERR_RANGE) {
			fprintf(stderr, "%s: apply: %s\n", c->prog, err);
			return APPLY_EXIT_STATE;
		}
		printf("%s\n", err);
		return APPLY_EXIT_ROLLED_BACK;
	}
	if (!tty)
		printf("no terminal and no --confirm: rolling back in %ld s\n",
		    (apply_remaining_ms(a) + 999) / 1000);
	fflush(stdout);
	r = apply_rollback(a, !tty, &identical, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "%s: apply: %s\n", c->prog, err);
		return APPLY_EXIT_STATE;
	}
	if (r == 1) {
		printf("kept (confirmed before the rollback)\n");
		return APPLY_EXIT_KEPT;
	}
	printf("rolled back: the ruleset listing is %s\n", identical ?
	    "identical to before" : "NOT identical to before (counters moved "
	    "or other changes)");
	return APPLY_EXIT_ROLLED_BACK;
}

static int
apply_cmd_nfproto(const char *family)
{
	static const struct { const char *name; int nfproto; } fams[] = {
		{ "ip", NFPROTO_IPV4 }, { "ip6", NFPROTO_IPV6 },
		{ "inet", NFPROTO_INET }, { "arp", NFPROTO_ARP },
		{ "bridge", NFPROTO_BRIDGE }, { "netdev", NFPROTO_NETDEV },
	};
	size_t i;

	for (i = 0; i < sizeof(fams) / sizeof(fams[0]); i++)
		if (strcmp(fams[i].name, family) == 0)
			return fams[i].nfproto;
	return -1;
}

/* What was added, each rule with its text as the kernel lists it: the
 * operator reads what is now in force, not only handles. */
static void
apply_cmd_print(const struct apply_plan *p)
{
	struct apply_item_info ii;
	char *text;
	size_t i;

	for (i = 0; apply_plan_item(p, i, &ii) == 0; i++) {
		text = NULL;
		if (strcmp(ii.kind, "rule") == 0 &&
		    fw_rule_text(apply_cmd_nfproto(ii.family), ii.table,
		    ii.chain, ii.handle, &text) == 0)
			printf("  + rule %s %s %s handle %llu: %s\n", ii.family,
			    ii.table, ii.chain, ii.handle, text);
		else
			printf("  + %s %s %s%s%s%s%s%s%s\n", ii.kind, ii.family,
			    ii.table, ii.chain[0] ? " " : "", ii.chain,
			    ii.name[0] ? " " : "", ii.name,
			    ii.elements[0] ? " " : "", ii.elements);
		free(text);
	}
}

static int
apply_cmd_load(const struct apply_cmd *c)
{
	struct apply *a = NULL;
	char *script = NULL, err[4096];
	size_t len;
	int r, rc = APPLY_EXIT_USAGE;

	if ((r = readfile_load(c->file, APPLY_SCRIPT_MAX, &script, &len)) !=
	    0) {
		fprintf(stderr, "%s: apply: %s: %s\n", c->prog, c->file,
		    ftp_strerror(r));
		goto out;
	}
	if ((r = apply_load(script, &c->o, &a, err, sizeof(err))) != 0) {
		fprintf(stderr, "%s: apply: %s: %s%s\n", c->prog, c->file,
		    r == FTP_ERR_INVAL ? "not applied: " : "", err);
		if (r == FTP_ERR_DENIED)
			apply_cmd_report_stale(c);
		rc = r == FTP_ERR_INVAL ? APPLY_EXIT_USAGE : APPLY_EXIT_STATE;
		goto out;
	}
	printf("loaded %s as one transaction (watchdog pid %ld); added:\n",
	    c->file, apply_watchdog_pid(a));
	apply_cmd_print(apply_plan_of(a));
	fflush(stdout);
	rc = apply_cmd_decide(c, a);
out:
	apply_free(a);
	free(script);
	return rc;
}

int
apply_cmd_main(const char *prog, int argc, char **argv)
{
	struct apply_cmd c;
	int r;

	memset(&c, 0, sizeof(c));
	c.prog = prog;
	if ((r = apply_cmd_parse(&c, argc, argv)) != 0) {
		apply_cmd_usage(prog, r == 1 ? stdout : stderr);
		return r == 1 ? 0 : APPLY_EXIT_USAGE;
	}
	return c.stale ? apply_cmd_stale(&c) : apply_cmd_load(&c);
}
