/*
 * main.c - ftpath-agent: command line and start-up.
 *
 * One option table drives getopt_long and --help, so the two never drift.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "apply_cmd.h"
#include "applymsg.h"
#include "check.h"
#include "config.h"
#include "watch.h"
#include "idle.h"
#include "log.h"

enum {
	OPT_HELP = 'h',
	OPT_VERBOSE = 'v',
	OPT_REFLECTOR = 256,
	OPT_CERT,
	OPT_KEY,
	OPT_CA,
	OPT_SERVER,
	OPT_CONTROL_PORT,
	OPT_PASSIVE_RANGE,
	OPT_NO_ACTIVE,
	OPT_ACTIVE_PORT,
	OPT_TIMEOUT_MS,
	OPT_JSON,
	OPT_NO_COLOR,
	OPT_FIX_OUT,
	OPT_SG,
	OPT_VERSION,
	OPT_FTP_USER,
	OPT_FTP_PATH,
	OPT_NO_FTP_CHECK,
	OPT_FTP_CONNECTIONS,
	OPT_JUNIT,
	OPT_HTML,
	OPT_INTERVAL,
	OPT_LISTEN,
	OPT_TEXTFILE,
	OPT_COUNT,
	OPT_IDLE_TEST,
	OPT_FIX_SCOPE,
	OPT_FIX_STYLE,
	OPT_FTP_PASSWORD_FILE,
	OPT_CRL,
	OPT_BUSY_WAIT,
	OPT_APPLY,
	OPT_CONFIRM_TIMEOUT,
	OPT_STATE_DIR,
};

struct agent_opt {
	const char *name;
	int has_arg;
	int val;
	const char *arg;	/* argument name in --help, NULL if none */
	const char *help;
};

static const struct agent_opt agent_opts[] = {
	{ "reflector", required_argument, OPT_REFLECTOR, "HOST[:PORT]",
	    "reflector to pair with (port 7021 by default)" },
	{ "cert", required_argument, OPT_CERT, "FILE",
	    "agent certificate (PEM)" },
	{ "key", required_argument, OPT_KEY, "FILE", "agent private key" },
	{ "ca", required_argument, OPT_CA, "FILE", "deployment CA" },
	{ "crl", required_argument, OPT_CRL, "FILE",
	    "the CA's revocation list: refuse a revoked reflector certificate" },
	{ "server", required_argument, OPT_SERVER, "NAME|ADDR",
	    "FTP service address (default: the reflector host)" },
	{ "control-port", required_argument, OPT_CONTROL_PORT, "PORT",
	    "FTP control port (default: the reflector's, else 21)" },
	{ "passive-range", required_argument, OPT_PASSIVE_RANGE, "LO-HI",
	    "passive ports (default: the reflector's passive_range)" },
	{ "no-active", no_argument, OPT_NO_ACTIVE, NULL,
	    "do not test active mode" },
	{ "active-port", required_argument, OPT_ACTIVE_PORT, "PORT",
	    "local port for the connect-back (default: ephemeral)" },
	{ "timeout-ms", required_argument, OPT_TIMEOUT_MS, "MS",
	    "probe timeout (default: 250 + 4 * max RTT, at most 5000)" },
	{ "json", required_argument, OPT_JSON, "FILE|-",
	    "write the JSON report (- for stdout; human report to stderr)" },
	{ "junit", required_argument, OPT_JUNIT, "FILE",
	    "also write the result as JUnit XML (one testcase per path)" },
	{ "interval", required_argument, OPT_INTERVAL, "S",
	    "watch: seconds between checks (1-86400), jittered by a tenth" },
	{ "listen", required_argument, OPT_LISTEN, "ADDR:PORT",
	    "watch: serve Prometheus metrics on http://ADDR:PORT/metrics" },
	{ "textfile", required_argument, OPT_TEXTFILE, "DIR",
	    "watch: write DIR/ftpath.prom for node_exporter's textfile "
	    "collector" },
	{ "count", required_argument, OPT_COUNT, "N",
	    "watch: stop after N checks (default: until SIGTERM)" },
	{ "html", required_argument, OPT_HTML, "FILE",
	    "also write the report as one self-contained HTML page" },
	{ "no-color", no_argument, OPT_NO_COLOR, NULL,
	    "no colour in the human report (also: $NO_COLOR set)" },
	{ "ftp-user", required_argument, OPT_FTP_USER, "USER[:PASSWORD]",
	    "login of the real FTP client (default: anonymous; the password "
	    "better from --ftp-password-file or $FTPATH_FTP_PASSWORD)" },
	{ "ftp-password-file", required_argument, OPT_FTP_PASSWORD_FILE,
	    "FILE", "the real FTP client's password: the first line of FILE" },
	{ "ftp-path", required_argument, OPT_FTP_PATH, "PATH",
	    "small file the real FTP client retrieves (default: LIST)" },
	{ "no-ftp-check", no_argument, OPT_NO_FTP_CHECK, NULL,
	    "no real FTP session after the probes" },
	{ "ftp-connections", required_argument, OPT_FTP_CONNECTIONS, "N",
	    "control connections opened at once to meet the server's "
	    "connection limit, 1-16 (default 3; 1: none)" },
	{ "idle-test", required_argument, OPT_IDLE_TEST, "SECONDS",
	    "after the check, hold FTP control connections and the control "
	    "channel idle up to SECONDS (1-600), then use them" },
	{ "fix-out", required_argument, OPT_FIX_OUT, "DIR",
	    "write the checked fixes there: server.nft, client.nft, "
	    "server-settings.txt (an existing directory)" },
	{ "fix-scope", required_argument, OPT_FIX_SCOPE, "CIDR",
	    "the server's fix lets FTP in from this client network (it must "
	    "contain the agent's address as the reflector sees it) instead "
	    "of that address alone" },
	{ "fix-style", required_argument, OPT_FIX_STYLE, "auto|helper|ports",
	    "how fixes let data connections in: the FTP conntrack helper or "
	    "the data ports opened explicitly (default auto: the helper "
	    "for a stateful firewall unless the server offers AUTH TLS)" },
	{ "apply", no_argument, OPT_APPLY, NULL,
	    "load the verified local-rule patches on this host and (if its "
	    "allow_apply is yes) the reflector's, re-test the failing paths, "
	    "keep what fixed them, roll back the rest" },
	{ "confirm-timeout", required_argument, OPT_CONFIRM_TIMEOUT, "S",
	    "--apply: each host rolls back by itself unless confirmed within "
	    "S seconds, 1-600 (default 30)" },
	{ "state-dir", required_argument, OPT_STATE_DIR, "DIR",
	    "--apply: this host's undo plan and lock (default "
	    CONFIG_APPLY_STATE_DIR ")" },
	{ "busy-wait", required_argument, OPT_BUSY_WAIT, "S",
	    "wait up to S seconds in all for a busy reflector, 1-3600 "
	    "(default 300)" },
	{ "sg", required_argument, OPT_SG, "FILE",
	    "evaluate the cloud security groups, NACLs or firewall rules "
	    "in FILE (AWS, Azure or GCP CLI JSON) against the measurements; "
	    "repeatable" },
	{ "verbose", no_argument, OPT_VERBOSE, NULL,
	    "more debug output (repeatable)" },
	{ "help", no_argument, OPT_HELP, NULL, "this help" },
	{ "version", no_argument, OPT_VERSION, NULL, "print the version" },
};

#define AGENT_NOPTS	(sizeof(agent_opts) / sizeof(agent_opts[0]))

static void
agent_usage(FILE *out)
{
	size_t i;

	fprintf(out, "usage: ftpath-agent check --reflector HOST[:PORT] "
	    "--cert F --key F --ca F [options]\n"
	    "       ftpath-agent watch --interval S [--listen ADDR:PORT] "
	    "[--textfile DIR] <check options>\n"
	    "       ftpath-agent apply FILE [--confirm-timeout S] [--confirm] "
	    "(apply --help)\n\n"
	    "Tests every FTP path (control, passive, active) end to end "
	    "with the reflector\nand names the cause of each failure.\n\n"
	    "options:\n");
	for (i = 0; i < AGENT_NOPTS; i++) {
		const struct agent_opt *o = &agent_opts[i];
		char left[48];

		snprintf(left, sizeof(left), "%s%c%s--%s%s%s",
		    o->val < 256 ? "-" : "   ", o->val < 256 ? o->val : ' ',
		    o->val < 256 ? ", " : "", o->name, o->arg ? " " : "",
		    o->arg ? o->arg : "");
		fprintf(out, "  %-34s %s\n", left, o->help);
	}
	fprintf(out, "\nexit status: 0 all tested paths pass (with --apply: "
	    "every failing path passes\nwith the patches kept), 1 a path "
	    "fails, 2 usage or configuration error,\n3 reflector unreachable "
	    "or authentication failed\n");
}

static int
agent_port(const char *s, uint16_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

static int
agent_ms(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v == 0 || v > 600000)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* USER[:PASSWORD], split into a static copy (the options live as long
 * as the process). */
static int
agent_ftp_user(struct check_opts *o, const char *arg)
{
	static char buf[512];
	char *colon;

	if (arg[0] == '\0' || arg[0] == ':' || strlen(arg) >= sizeof(buf) ||
	    strpbrk(arg, "\r\n") != NULL) {
		fprintf(stderr, "ftpath-agent: --ftp-user: '%s' is not "
		    "USER[:PASSWORD] (at most 511 characters, no CR or LF)\n",
		    arg);
		return -1;
	}
	memcpy(buf, arg, strlen(arg) + 1);
	o->ftp_user = buf;
	o->ftp_password = NULL;
	if ((colon = strchr(buf, ':')) != NULL) {
		*colon = '\0';
		o->ftp_password = colon + 1;
	}
	return 0;
}

/* --fix-out names a directory that exists and is writable: checked
 * before the run, so a typo does not cost a whole check. */
static int
agent_dir(const char *opt, const char *arg)
{
	struct stat st;

	if (stat(arg, &st) != 0) {
		fprintf(stderr, "ftpath-agent: %s %s: %s\n", opt, arg,
		    strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode) || access(arg, W_OK) != 0) {
		fprintf(stderr, "ftpath-agent: %s %s: not a writable "
		    "directory\n", opt, arg);
		return -1;
	}
	return 0;
}

/* A whole number from lo to hi.  0 or -1. */
static int
agent_count(const char *arg, unsigned lo, unsigned hi, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (arg[0] < '0' || arg[0] > '9' || *end != '\0' || errno != 0 ||
	    v < lo || v > hi)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* What a valid value of option val is, for its error; NULL: no text. */
static const char *
agent_expect(int val)
{
	switch (val) {
	case OPT_CONTROL_PORT:	return "a port from 1 to 65535";
	case OPT_ACTIVE_PORT:	return "a port from 0 to 65535 (0: ephemeral)";
	case OPT_PASSIVE_RANGE:
		return "a port range LO-HI with 1 <= LO <= HI <= 65535";
	case OPT_TIMEOUT_MS:
		return "a number of milliseconds from 1 to 600000";
	case OPT_FTP_PATH:	return "a path without CR or LF";
	default:		return NULL;
	}
}

static const struct agent_opt *
agent_opt_of(int val)
{
	size_t i;

	for (i = 0; i < AGENT_NOPTS; i++)
		if (agent_opts[i].val == val)
			return &agent_opts[i];
	return NULL;
}

/* "--timeout-ms: 'abc' is not a number of milliseconds from 1 to ..." */
static int
agent_bad_value(int val, const char *arg)
{
	const struct agent_opt *o = agent_opt_of(val);
	const char *expect = agent_expect(val);

	if (o != NULL && expect != NULL)
		fprintf(stderr, "ftpath-agent: --%s: '%s' is not %s\n",
		    o->name, arg, expect);
	else
		fprintf(stderr, "ftpath-agent: --%s: bad value '%s'\n",
		    o != NULL ? o->name : "?", arg);
	return -1;
}

/* The first line of FILE, into a static buffer (the options live as
 * long as the process).  A password file others may read is said. */
static int
agent_password_file(struct check_opts *o, const char *path)
{
	static char buf[512];
	struct stat st;
	FILE *fp;
	size_t n;

	if ((fp = fopen(path, "r")) == NULL) {
		fprintf(stderr, "ftpath-agent: --ftp-password-file %s: %s\n",
		    path, strerror(errno));
		return -1;
	}
	if (fgets(buf, sizeof(buf), fp) == NULL)
		buf[0] = '\0';
	if (fstat(fileno(fp), &st) == 0 && (st.st_mode & 0077) != 0)
		fprintf(stderr, "ftpath-agent: warning: --ftp-password-file %s "
		    "can be read by other users (mode %03o)\n", path,
		    (unsigned)(st.st_mode & 0777));
	fclose(fp);
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	if (n == 0) {
		fprintf(stderr, "ftpath-agent: --ftp-password-file %s: the "
		    "first line is empty\n", path);
		return -1;
	}
	o->ftp_password = buf;
	return 0;
}

/* `watch`'s own options (watch.h); main-level state of the CLI. */
static struct watch_opts agent_watch;
static int agent_watch_seen;
static const char *agent_password_src;	/* --ftp-password-file */

/* Apply one option; -1 with a message on a bad value. */
static int
agent_set(struct check_opts *o, int val, const char *arg, int *verbose)
{
	switch (val) {
	case OPT_REFLECTOR:	o->reflector = arg; return 0;
	case OPT_CERT:		o->cert = arg; return 0;
	case OPT_KEY:		o->key = arg; return 0;
	case OPT_CA:		o->ca = arg; return 0;
	case OPT_CRL:		o->crl = arg; return 0;
	case OPT_SERVER:	o->server = arg; return 0;
	case OPT_JSON:		o->json = arg; return 0;
	case OPT_JUNIT:		o->junit = arg; return 0;
	case OPT_HTML:		o->html = arg; return 0;
	case OPT_LISTEN:
		agent_watch.listen = arg;
		agent_watch_seen = 1;
		return 0;
	case OPT_TEXTFILE:
		if (agent_dir("--textfile", arg) != 0)
			return -1;
		agent_watch.textfile_dir = arg;
		agent_watch_seen = 1;
		return 0;
	case OPT_INTERVAL:
	case OPT_COUNT:
		agent_watch_seen = 1;
		if (agent_count(arg, val == OPT_COUNT ? 1 : WATCH_MIN_INTERVAL,
		    WATCH_MAX_INTERVAL, val == OPT_COUNT ?
		    &agent_watch.max_checks : &agent_watch.interval_s) == 0)
			return 0;
		fprintf(stderr, "ftpath-agent: --%s: '%s' is not a number from "
		    "1 to %u\n", val == OPT_COUNT ? "count" : "interval", arg,
		    WATCH_MAX_INTERVAL);
		return -1;
	case OPT_NO_ACTIVE:	o->no_active = 1; return 0;
	case OPT_NO_COLOR:	o->no_color = 1; return 0;
	case OPT_VERBOSE:	(*verbose)++; return 0;
	case OPT_NO_FTP_CHECK:	o->no_ftp_check = 1; return 0;
	case OPT_FTP_PATH:
		if (arg[0] != '\0' && strpbrk(arg, "\r\n") == NULL) {
			o->ftp_path = arg;
			return 0;
		}
		break;
	case OPT_FTP_USER:
		return agent_ftp_user(o, arg);
	case OPT_FTP_PASSWORD_FILE:
		agent_password_src = arg;
		return 0;
	case OPT_CONTROL_PORT:
		if (agent_port(arg, &o->control_port) == 0 &&
		    o->control_port != 0)
			return 0;
		break;
	case OPT_ACTIVE_PORT:
		if (agent_port(arg, &o->active_port) == 0)
			return 0;
		break;
	case OPT_PASSIVE_RANGE:
		if (portrange_parse(arg, &o->passive) == 0)
			return 0;
		break;
	case OPT_TIMEOUT_MS:
		if (agent_ms(arg, &o->timeout_ms) == 0)
			return 0;
		break;
	case OPT_FTP_CONNECTIONS:
		if (agent_count(arg, 1, CHECK_MAX_FTP_CONNECTIONS,
		    &o->ftp_connections) == 0)
			return 0;
		fprintf(stderr, "ftpath-agent: --ftp-connections: '%s' is not "
		    "a number from 1 to %u\n", arg, CHECK_MAX_FTP_CONNECTIONS);
		return -1;
	case OPT_BUSY_WAIT:
		if (agent_count(arg, 1, CHECK_BUSY_WAIT_MAX_S,
		    &o->busy_wait_s) == 0)
			return 0;
		fprintf(stderr, "ftpath-agent: --busy-wait: '%s' is not a "
		    "number from 1 to %u\n", arg, CHECK_BUSY_WAIT_MAX_S);
		return -1;
	case OPT_IDLE_TEST:
		if (agent_count(arg, IDLE_MIN_S, IDLE_MAX_S, &o->idle_s) == 0)
			return 0;
		fprintf(stderr, "ftpath-agent: --idle-test: '%s' is not a "
		    "number from %u to %u\n", arg, IDLE_MIN_S, IDLE_MAX_S);
		return -1;
	case OPT_APPLY:		o->apply = 1; return 0;
	case OPT_CONFIRM_TIMEOUT:
		if (agent_count(arg, 1, APPLYMSG_TIMEOUT_MAX,
		    &o->confirm_timeout) == 0)
			return 0;
		fprintf(stderr, "ftpath-agent: --confirm-timeout: '%s' is not "
		    "a number from 1 to %u\n", arg, APPLYMSG_TIMEOUT_MAX);
		return -1;
	case OPT_STATE_DIR:
		if (arg[0] != '/') {
			fprintf(stderr, "ftpath-agent: --state-dir %s: not an "
			    "absolute path\n", arg);
			return -1;
		}
		o->state_dir = arg;
		return 0;
	case OPT_FIX_OUT:
		if (agent_dir("--fix-out", arg) != 0)
			return -1;
		o->fix_out = arg;
		return 0;
	case OPT_FIX_SCOPE:
		if (addr_cidr_parse(arg, &o->fix_net, &o->fix_prefix) != 0) {
			fprintf(stderr, "ftpath-agent: --fix-scope: '%s' is not "
			    "an IPv4 or IPv6 network ADDR/LEN (LEN 1-32 or "
			    "1-128)\n", arg);
			return -1;
		}
		o->fix_scope = arg;
		return 0;
	case OPT_FIX_STYLE:
		if (strcmp(arg, "auto") == 0)
			o->fix_style = PATCH_STYLE_AUTO;
		else if (strcmp(arg, "helper") == 0)
			o->fix_style = PATCH_STYLE_HELPER;
		else if (strcmp(arg, "ports") == 0)
			o->fix_style = PATCH_STYLE_PORTS;
		else {
			fprintf(stderr, "ftpath-agent: --fix-style: '%s' is not "
			    "auto, helper or ports\n", arg);
			return -1;
		}
		return 0;
	case OPT_SG:
		if (o->n_sg >= CHECK_MAX_SG) {
			fprintf(stderr, "ftpath-agent: --sg: at most %u files\n",
			    CHECK_MAX_SG);
			return -1;
		}
		o->sg_files[o->n_sg++] = arg;
		return 0;
	default:
		return -1;
	}
	return agent_bad_value(val, arg);
}

/* The watch options go with `watch`, which needs --interval; --apply
 * goes with a single check (a watch must never change a firewall). */
static int
agent_watch_check(int watch, const struct check_opts *o)
{
	if ((o->confirm_timeout != 0 || o->state_dir != NULL) && !o->apply) {
		fprintf(stderr, "ftpath-agent: --confirm-timeout and "
		    "--state-dir go with --apply\n");
		return -1;
	}
	if (watch && o->apply) {
		fprintf(stderr, "ftpath-agent: --apply goes with 'check', not "
		    "'watch'\n");
		return -1;
	}
	if (!watch && agent_watch_seen) {
		fprintf(stderr, "ftpath-agent: --interval, --listen, --textfile "
		    "and --count go with 'watch'\n");
		return -1;
	}
	if (watch && agent_watch.interval_s == 0) {
		fprintf(stderr, "ftpath-agent: watch needs --interval S\n");
		return -1;
	}
	return 0;
}

/*
 * The FTP password, from the first of: --ftp-password-file, the
 * environment ($FTPATH_FTP_PASSWORD), --ftp-user USER:PASSWORD.  On the
 * command line every user of the host can read it (ps): said once.
 */
static int
agent_password(struct check_opts *o)
{
	const char *env = getenv("FTPATH_FTP_PASSWORD");

	if (agent_password_src != NULL)
		return agent_password_file(o, agent_password_src);
	if (env != NULL && env[0] != '\0') {
		if (strlen(env) >= 512 || strpbrk(env, "\r\n") != NULL) {
			fprintf(stderr, "ftpath-agent: FTPATH_FTP_PASSWORD: at "
			    "most 511 characters, no CR or LF\n");
			return -1;
		}
		o->ftp_password = env;
		return 0;
	}
	if (o->ftp_password != NULL && o->ftp_password[0] != '\0')
		fprintf(stderr, "ftpath-agent: warning: a password on the "
		    "command line can be read by every user of this host; "
		    "--ftp-password-file or FTPATH_FTP_PASSWORD keep it out "
		    "of it\n");
	return 0;
}

static int
agent_parse(int argc, char **argv, struct check_opts *o, int *verbose)
{
	struct option lopts[AGENT_NOPTS + 1];
	size_t i;
	int ch;

	memset(lopts, 0, sizeof(lopts));
	for (i = 0; i < AGENT_NOPTS; i++) {
		lopts[i].name = agent_opts[i].name;
		lopts[i].has_arg = agent_opts[i].has_arg;
		lopts[i].val = agent_opts[i].val;
	}
	while ((ch = getopt_long(argc, argv, "hv", lopts, NULL)) != -1) {
		if (ch == '?')
			return -1;
		if (ch == OPT_HELP) {
			agent_usage(stdout);
			exit(0);
		}
		if (ch == OPT_VERSION) {
			printf("ftpath-agent %s\n", FTPATH_VERSION);
			exit(0);
		}
		if (agent_set(o, ch, optarg, verbose) != 0)
			return -1;
	}
	if (optind != argc) {
		fprintf(stderr, "ftpath-agent: unexpected argument '%s'\n",
		    argv[optind]);
		return -1;
	}
	if (agent_password(o) != 0)
		return -1;
	if (o->reflector == NULL || o->cert == NULL || o->key == NULL ||
	    o->ca == NULL) {
		fprintf(stderr, "ftpath-agent: --reflector, --cert, --key and "
		    "--ca are required\n");
		return -1;
	}
	return 0;
}

/* argv[0] of the sub-command's getopt_long: its messages name it. */
static char agent_prog_check[] = "ftpath-agent check";
static char agent_prog_watch[] = "ftpath-agent watch";

int
main(int argc, char **argv)
{
	struct check_opts o;
	int verbose = 0, watch;

	memset(&o, 0, sizeof(o));
	o.ftp_connections = CHECK_FTP_CONNECTIONS;
	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0)) {
		agent_usage(stdout);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
		printf("ftpath-agent %s\n", FTPATH_VERSION);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "apply") == 0)
		return apply_cmd_main("ftpath-agent", argc - 1, argv + 1);
	if (argc < 2 || (strcmp(argv[1], "check") != 0 &&
	    strcmp(argv[1], "watch") != 0)) {
		agent_usage(stderr);
		return CHECK_EXIT_USAGE;
	}
	watch = strcmp(argv[1], "watch") == 0;
	/* getopt_long sees "check" as argv[0], and its errors name it. */
	argv[1] = watch ? agent_prog_watch : agent_prog_check;
	if (getenv("NO_COLOR") != NULL && getenv("NO_COLOR")[0] != '\0')
		o.no_color = 1;
	if (agent_parse(argc - 1, argv + 1, &o, &verbose) != 0 ||
	    agent_watch_check(watch, &o) != 0) {
		fprintf(stderr, "try 'ftpath-agent --help'\n");
		return CHECK_EXIT_USAGE;
	}
	log_init("ftpath-agent", verbose, 0);
	/* A reflector that vanishes mid-write must end the session with a
	 * report, not kill the agent: OpenSSL writes without MSG_NOSIGNAL. */
	signal(SIGPIPE, SIG_IGN);
	/* Jitter (a busy reflector's retries, watch's interval) must differ
	 * between agents started together. */
	srandom((unsigned)getpid() ^ (unsigned)time(NULL));
	/* The status line: a person at a terminal, nothing else reading. */
	o.progress = !watch && verbose == 0 && isatty(STDERR_FILENO) &&
	    (o.json == NULL || strcmp(o.json, "-") != 0);
	return watch ? watch_run(&agent_watch, &o) : check_run(&o);
}
