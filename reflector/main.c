/*
 * main.c - ftpath-reflector: command line, configuration, event loop.
 *
 * ftpath-reflector [-c FILE] [--listen ADDR:PORT] --cert F --key F --ca F
 *                  [--passive-range LO-HI] [--ftp-config FILE] [-n] [-v]...
 *
 * Runs in the foreground and logs to stderr (systemd captures it).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "apply.h"
#include "apply_cmd.h"
#include "config.h"
#include "confcheck.h"
#include "ftpconf.h"
#include "err.h"
#include "log.h"
#include "server.h"
#include "tls.h"
#include "trace.h"

#ifndef FTPATH_VERSION
#define FTPATH_VERSION "0"
#endif

#define EXIT_USAGE	2

enum {
	OPT_LISTEN = 256,
	OPT_CERT,
	OPT_KEY,
	OPT_CA,
	OPT_PASSIVE,
	OPT_FTP_CONFIG,
	OPT_VERSION,
};

/* One table drives getopt_long and --help.  key: config key the option
 * overrides, NULL for options handled by main itself. */
static const struct main_option {
	const char *name;
	int has_arg;
	int val;
	const char *arg;
	const char *key;
	const char *help;
} main_options[] = {
	{ "config", required_argument, 'c', "FILE", NULL,
	    "read the configuration file FILE" },
	{ "listen", required_argument, OPT_LISTEN, "ADDR:PORT", "listen",
	    "control channel address (default [::]:7021)" },
	{ "cert", required_argument, OPT_CERT, "FILE", "cert",
	    "reflector certificate (PEM)" },
	{ "key", required_argument, OPT_KEY, "FILE", "key",
	    "reflector private key (PEM)" },
	{ "ca", required_argument, OPT_CA, "FILE", "ca",
	    "deployment CA that signs agent certificates (PEM)" },
	{ "passive-range", required_argument, OPT_PASSIVE, "LO-HI",
	    "passive_range", "the FTP server's passive port range" },
	{ "ftp-config", required_argument, OPT_FTP_CONFIG, "FILE", NULL,
	    "FTP server configuration (vsftpd, proftpd or pure-ftpd), "
	    "checked against this configuration" },
	{ "check", no_argument, 'n', NULL, NULL,
	    "check the configuration and the files it names (certificate, "
	    "key, CA, --ftp-config), print it and exit" },
	{ "verbose", no_argument, 'v', NULL, NULL,
	    "more log output (repeatable)" },
	{ "help", no_argument, 'h', NULL, NULL, "show this help and exit" },
	{ "version", no_argument, OPT_VERSION, NULL, NULL,
	    "show the version and exit" },
};

#define MAIN_NOPTS (sizeof(main_options) / sizeof(main_options[0]))

static void
main_usage(FILE *out)
{
	size_t i;
	char left[64];

	fprintf(out, "usage: ftpath-reflector [-c FILE] [--listen ADDR:PORT] "
	    "--cert F --key F --ca F\n"
	    "                        [--passive-range LO-HI] "
	    "[--ftp-config FILE] [-n] [-v]...\n"
	    "       ftpath-reflector apply FILE [--confirm-timeout S] "
	    "[--confirm] (apply --help)\n\noptions:\n");
	for (i = 0; i < MAIN_NOPTS; i++) {
		const struct main_option *o = &main_options[i];

		if (o->val < 256)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o->val,
			    o->name, o->arg ? " " : "", o->arg ? o->arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o->name,
			    o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(out, "  %-28s %s\n", left, o->help);
	}
}

static const struct main_option *
main_find(int val)
{
	size_t i;

	for (i = 0; i < MAIN_NOPTS; i++)
		if (main_options[i].val == val)
			return &main_options[i];
	return NULL;
}

static void
main_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct event_base *base = arg;

	(void)what;
	log_info("signal %d, shutting down", (int)sig);
	event_base_loopexit(base, NULL);
}

/* We may hold thousands of probe listeners: take the hard limit. */
static void
main_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		log_warn("getrlimit(RLIMIT_NOFILE)");
		return;
	}
	if (rl.rlim_cur == rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		log_warn("setrlimit(RLIMIT_NOFILE)");
}

/*
 * ftpconf names the file by its base name (as agents are shown it); the
 * person fixing it wants the path given: "PATH:LINE: reason".
 */
static void
main_ftpconf_error(const char *path, const char *err)
{
	const char *base = strrchr(path, '/');
	size_t n;

	base = base != NULL ? base + 1 : path;
	n = strlen(base);
	if (base != path && strncmp(err, base, n) == 0 && err[n] == ':')
		fprintf(stderr, "ftpath-reflector: %s%s\n", path, err + n);
	else
		fprintf(stderr, "ftpath-reflector: %s\n", err);
}

/*
 * Read the FTP server's own configuration and say where it disagrees
 * with ours: a reflector listening on other ports than the server uses
 * would test paths no FTP client takes.  Returns 0 with *out (the
 * caller's, sent to agents in welcome) or EXIT_USAGE.
 */
static int
main_check_ftpconf(const char *path, const struct reflector_config *cfg,
    struct ftpconf **out)
{
	struct ftpconf *fc;
	struct portrange pr;
	char err[512], summary[512];
	int rc = EXIT_USAGE;

	if ((fc = ftpconf_new()) == NULL) {
		log_warnx("out of memory");
		return EXIT_USAGE;
	}
	if (ftpconf_load_file(fc, FTPCONF_AUTO, path, err, sizeof(err)) != 0) {
		main_ftpconf_error(path, err);
		goto out;
	}
	if (ftpconf_summary(fc, summary, sizeof(summary)) == 0)
		log_info("ftp server: %s", summary);
	if (ftpconf_control_port(fc) != cfg->control_port)
		log_warnx("ftp server control port is %u, control_port is %u",
		    ftpconf_control_port(fc), cfg->control_port);
	if (ftpconf_passive_range(fc, &pr) == 0 && pr.lo != 0 &&
	    (pr.lo != cfg->passive.lo || pr.hi != cfg->passive.hi))
		log_warnx("ftp server passive range is %u-%u, passive_range is "
		    "%u-%u: agents will probe ports FTP clients do not use",
		    pr.lo, pr.hi, cfg->passive.lo, cfg->passive.hi);
	*out = fc;
	fc = NULL;
	rc = 0;
out:
	ftpconf_free(fc);
	return rc;
}

int
main(int argc, char **argv)
{
	struct option longopts[MAIN_NOPTS + 1];
	struct reflector_config cfg;
	struct event_base *base = NULL;
	struct event *sigint = NULL, *sigterm = NULL;
	struct server *srv = NULL;
	SSL_CTX *ctx = NULL;
	const char *cfgfile = NULL, *ftpconf = NULL;
	struct ftpconf *fc = NULL;
	const struct main_option *mo;
	char err[512], warn[512];
	int ch, i, verbose = 0, check = 0, rc = 1;
	/* Command-line overrides, applied after the file. */
	struct {
		const char *key;
		const char *value;
	} over[MAIN_NOPTS];
	size_t nover = 0, k;

	/* The operator's own patch, reviewed first: nothing of the daemon. */
	if (argc >= 2 && strcmp(argv[1], "apply") == 0)
		return apply_cmd_main("ftpath-reflector", argc - 1, argv + 1);
	memset(longopts, 0, sizeof(longopts));
	for (k = 0; k < MAIN_NOPTS; k++) {
		longopts[k].name = main_options[k].name;
		longopts[k].has_arg = main_options[k].has_arg;
		longopts[k].val = main_options[k].val;
	}
	log_init("ftpath-reflector", 0, 0);
	if (config_defaults(&cfg) != 0) {
		fprintf(stderr, "ftpath-reflector: out of memory\n");
		return 1;
	}
	while ((ch = getopt_long(argc, argv, "c:nvh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			cfgfile = optarg;
			break;
		case 'n':
			check = 1;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			main_usage(stdout);
			rc = 0;
			goto out;
		case OPT_VERSION:
			printf("ftpath-reflector %s\n", FTPATH_VERSION);
			rc = 0;
			goto out;
		case OPT_FTP_CONFIG:
			ftpconf = optarg;
			break;
		default:
			if ((mo = main_find(ch)) != NULL && mo->key != NULL) {
				/* Last one wins, as in the file. */
				for (k = 0; k < nover; k++)
					if (strcmp(over[k].key, mo->key) == 0)
						break;
				over[k].key = mo->key;
				over[k].value = optarg;
				if (k == nover)
					nover++;
				break;
			}
			main_usage(stderr);
			rc = EXIT_USAGE;
			goto out;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "ftpath-reflector: unexpected argument \"%s\"\n",
		    argv[optind]);
		main_usage(stderr);
		rc = EXIT_USAGE;
		goto out;
	}
	log_init("ftpath-reflector", verbose, 0);
	if (cfgfile != NULL &&
	    config_load_file(&cfg, cfgfile, err, sizeof(err)) != 0) {
		fprintf(stderr, "ftpath-reflector: %s\n", err);
		rc = EXIT_USAGE;
		goto out;
	}
	for (k = 0; k < nover; k++) {
		if (config_set(&cfg, over[k].key, over[k].value, err,
		    sizeof(err)) != 0) {
			fprintf(stderr, "ftpath-reflector: %s\n", err);
			rc = EXIT_USAGE;
			goto out;
		}
	}
	if (config_validate(&cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "ftpath-reflector: %s\n", err);
		rc = EXIT_USAGE;
		goto out;
	}
	if (ftpconf != NULL &&
	    (rc = main_check_ftpconf(ftpconf, &cfg, &fc)) != 0)
		goto out;
	cfg.ftpconf = fc;
	cfg.ftpconf_path = ftpconf;
	/* -n and a start run the same checks and build the same TLS
	 * context: a configuration -n accepts must not fail at start. */
	for (k = 0; k < nover; k++)
		if (strcmp(over[k].key, "listen") == 0)
			break;
	/* Messages about settings name the file, or the command line
	 * when an option overrode the file (confcheck.h). */
	if (confcheck_run(&cfg, k < nover ? NULL : cfgfile, warn,
	    sizeof(warn), err, sizeof(err)) != 0 ||
	    (ctx = tls_ctx_new(TLS_ROLE_SERVER, cfg.cert, cfg.key, cfg.ca, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "ftpath-reflector: %s\n", err);
		rc = EXIT_USAGE;
		goto out;
	}
	if (warn[0] != '\0')
		log_warnx("%s", warn);
	rc = 1;
	if (check) {
		config_print(&cfg, stdout);
		rc = 0;
		goto out;
	}

	signal(SIGPIPE, SIG_IGN);
	main_raise_nofile();
	if ((base = event_base_new()) == NULL) {
		log_warnx("cannot create the event loop");
		goto out;
	}
	sigint = evsignal_new(base, SIGINT, main_signal_cb, base);
	sigterm = evsignal_new(base, SIGTERM, main_signal_cb, base);
	if (sigint == NULL || sigterm == NULL || evsignal_add(sigint, NULL) ||
	    evsignal_add(sigterm, NULL)) {
		log_warnx("cannot install signal events");
		goto out;
	}
	/* Leftovers of a crashed run first: a probe must not leave a hole. */
	trace_startup();
	/* A watchdog killed itself leaves its undo plan: apply refuses
	 * until the operator runs it (never guessed at here). */
	if (cfg.allow_apply && apply_stale(cfg.apply_state_dir, NULL) == 0)
		log_warnx("apply: %s/%s was left by a killed watchdog; every "
		    "apply is refused until 'ftpath-reflector apply "
		    "--rollback-stale --state-dir %s' ran", cfg.apply_state_dir,
		    APPLY_PLAN_FILE, cfg.apply_state_dir);
	if ((srv = server_new(base, &cfg, ctx)) == NULL) {
		log_warnx("out of memory");
		goto out;
	}
	if ((i = server_start(srv, err, sizeof(err))) != 0) {
		log_warnx("%s", err);
		rc = i == FTP_ERR_CONFIG ? EXIT_USAGE : 1;
		goto out;
	}
	log_info("ftpath-reflector %s ready (control port %u, active source "
	    "port %u)", FTPATH_VERSION, cfg.control_port,
	    cfg.active_source_port);
	if (event_base_dispatch(base) == -1) {
		log_warnx("event loop failed");
		goto out;
	}
	rc = 0;
out:
	server_free(srv);
	if (sigint != NULL)
		event_free(sigint);
	if (sigterm != NULL)
		event_free(sigterm);
	if (base != NULL)
		event_base_free(base);
	SSL_CTX_free(ctx);
	config_release(&cfg);
	ftpconf_free(fc);
	return rc;
}
