/*
 * main.c - ftpath-reflector: command line, configuration, event loop.
 *
 * ftpath-reflector [-c FILE] [--listen ADDR:PORT] --cert F --key F --ca F
 *                  [--crl F] [--passive-range LO-HI] [--ftp-config FILE]
 *                  [-n] [-v]...
 *
 * Runs in the foreground and logs to stderr (systemd captures it).
 * SIGHUP reloads the configuration and its files (reload.h); SIGINT and
 * SIGTERM end it.  Under systemd (Type=notify) it reports READY=1 once
 * it listens, RELOADING=1 / READY=1 around a reload and STOPPING=1.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "apply.h"
#include "apply_cmd.h"
#include "config.h"
#include "err.h"
#include "log.h"
#include "privclient.h"
#include "privsep.h"
#include "reload.h"
#include "sandbox.h"
#include "metricsrv.h"
#include "rstats.h"
#include "sdnotify.h"
#include "server.h"
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
	OPT_CRL,
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
	{ "crl", required_argument, OPT_CRL, "FILE", "crl",
	    "the CA's certificate revocation list (PEM): agent certificates "
	    "it lists are refused" },
	{ "passive-range", required_argument, OPT_PASSIVE, "LO-HI",
	    "passive_range", "the FTP server's passive port range" },
	{ "ftp-config", required_argument, OPT_FTP_CONFIG, "FILE", NULL,
	    "FTP server configuration (vsftpd, proftpd or pure-ftpd), "
	    "checked against this configuration" },
	{ "check", no_argument, 'n', NULL, NULL,
	    "check the configuration and the files it names (certificate, "
	    "key, CA, CRL, --ftp-config), print it and exit" },
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
	    "                        [--crl F] [--passive-range LO-HI] "
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

/* What the signal callbacks act on. */
struct main_run {
	struct event_base *base;
	struct reload *rl;
	struct server *srv;
	struct metricsrv *metrics;	/* metrics_listen, or NULL */
};

/* A scrape of metrics_listen: the counters, and the handshakes now. */
static char *
main_metrics_cb(void *arg)
{
	struct main_run *run = arg;

	return rstats_render(server_metrics, run->srv);
}

static void
main_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct main_run *run = arg;

	(void)what;
	log_info("signal %d, shutting down", (int)sig);
	(void)sdnotify("STOPPING=1");
	event_base_loopexit(run->base, NULL);
}

/*
 * SIGHUP, delivered by libevent in the loop (not in the handler): a
 * reload between two events, so no session sees half of it.
 */
static void
main_reload_cb(evutil_socket_t sig, short what, void *arg)
{
	struct main_run *run = arg;
	char err[512];

	(void)sig;
	(void)what;
	log_info("SIGHUP: reloading the configuration");
	(void)sdnotify_reloading();
	if (reload_run(run->rl, run->srv, err, sizeof(err)) != 0)
		(void)sdnotifyf("READY=1\nSTATUS=reload failed, running "
		    "configuration kept: %s", err);
	else
		(void)sdnotify("READY=1\nSTATUS=reloaded");
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

/* Each SIGx event on run; 0 or -1 (logged). */
static int
main_signals(struct main_run *run, struct event *ev[3])
{
	static const int sigs[3] = { SIGINT, SIGTERM, SIGHUP };
	int i;

	for (i = 0; i < 3; i++) {
		ev[i] = evsignal_new(run->base, sigs[i], sigs[i] == SIGHUP ?
		    main_reload_cb : main_signal_cb, run);
		if (ev[i] == NULL || evsignal_add(ev[i], NULL) != 0) {
			log_warnx("cannot install signal events");
			return -1;
		}
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct option longopts[MAIN_NOPTS + 1];
	struct main_run run;
	struct event *sigev[3] = { NULL, NULL, NULL };
	struct reload *rl = NULL;
	const struct reflector_config *cfg;
	const char *cfgfile = NULL, *ftpconf = NULL;
	const struct main_option *mo;
	char err[512];
	int ch, i, verbose = 0, check = 0, rc = 1, separated = 0, ctlfd = -1;
	/* Command-line overrides, applied after the file. */
	struct {
		const char *key;
		const char *value;
	} over[MAIN_NOPTS];
	size_t nover = 0, k;

	/* The operator's own patch, reviewed first: nothing of the daemon. */
	if (argc >= 2 && strcmp(argv[1], "apply") == 0)
		return apply_cmd_main("ftpath-reflector", argc - 1, argv + 1);
	memset(&run, 0, sizeof(run));
	memset(longopts, 0, sizeof(longopts));
	for (k = 0; k < MAIN_NOPTS; k++) {
		longopts[k].name = main_options[k].name;
		longopts[k].has_arg = main_options[k].has_arg;
		longopts[k].val = main_options[k].val;
	}
	log_init("ftpath-reflector", 0, 0);
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
	if ((rl = reload_new(cfgfile, ftpconf)) == NULL) {
		fprintf(stderr, "ftpath-reflector: out of memory\n");
		goto out;
	}
	for (k = 0; k < nover; k++)
		(void)reload_override(rl, over[k].key, over[k].value);
	/* -n, a start and a reload run the same checks and build the same
	 * TLS context: a configuration -n accepts must not fail at start. */
	if (reload_load(rl, err, sizeof(err)) != 0) {
		fprintf(stderr, "ftpath-reflector: %s\n", err);
		rc = EXIT_USAGE;
		goto out;
	}
	cfg = reload_config(rl);
	if (check) {
		if (privsep_check(cfg, err, sizeof(err)) != 0) {
			fprintf(stderr, "ftpath-reflector: %s: %s\n",
			    cfgfile != NULL ? cfgfile : "user", err);
			rc = EXIT_USAGE;
			goto out;
		}
		config_print(cfg, stdout);
		rc = 0;
		goto out;
	}

	signal(SIGPIPE, SIG_IGN);
	main_raise_nofile();
	/* Before the engine may no longer reach it (privsep.h). */
	if (sdnotify_open() != 0)
		log_warn("NOTIFY_SOCKET");
	/* Bound while we may: the control port can be below 1024. */
	if ((i = server_bind(cfg, &ctlfd, err, sizeof(err))) != 0) {
		log_errx("%s", err);
		rc = i == FTP_ERR_CONFIG ? EXIT_USAGE : 1;
		goto out;
	}
	if (privsep_start(cfg, &separated, err, sizeof(err)) != 0) {
		log_errx("privilege separation: %s", err);
		rc = EXIT_USAGE;
		goto out;
	}
	if (separated) {
		/* The key file is out of reach now: reloads keep this key. */
		reload_keep_key(rl);
		log_info("running as two processes: the engine (pid %d, uid "
		    "%d, no capabilities, %zu system calls refused) and its "
		    "privileged helper (pid %d)", (int)getpid(),
		    (int)getuid(), sandbox_refused_count(), privclient_pid());
	}
	if ((run.base = event_base_new()) == NULL) {
		log_warnx("cannot create the event loop");
		goto out;
	}
	run.rl = rl;
	reload_set_base(rl, run.base);
	if (main_signals(&run, sigev) != 0 || privsep_watch(run.base) != 0)
		goto out;
	rstats_init();
	/* Leftovers of a crashed run first: a probe must not leave a hole. */
	trace_startup(run.base, cfg->active_source_port,
	    cfg->session_lifetime_s);
	/* A watchdog killed itself leaves its undo plan: apply refuses
	 * until the operator runs it (never guessed at here). */
	if (cfg->allow_apply && apply_stale(cfg->apply_state_dir, NULL) == 0)
		log_warnx("apply: %s/%s was left by a killed watchdog; every "
		    "apply is refused until 'ftpath-reflector apply "
		    "--rollback-stale --state-dir %s' ran", cfg->apply_state_dir,
		    APPLY_PLAN_FILE, cfg->apply_state_dir);
	if ((run.srv = server_new(run.base, cfg, reload_ctx(rl))) == NULL) {
		log_warnx("out of memory");
		goto out;
	}
	i = server_start(run.srv, ctlfd, err, sizeof(err));
	ctlfd = -1;
	if (i != 0) {
		log_warnx("%s", err);
		rc = i == FTP_ERR_CONFIG ? EXIT_USAGE : 1;
		goto out;
	}
	log_info("ftpath-reflector %s ready (control port %u, active source "
	    "port %u)", FTPATH_VERSION, cfg->control_port,
	    cfg->active_source_port);
	if (cfg->metrics_listen[0] != '\0') {
		if ((run.metrics = metricsrv_new(run.base, cfg->metrics_listen,
		    main_metrics_cb, &run, err, sizeof(err))) == NULL) {
			log_errx("metrics_listen = %s", err);
			rc = EXIT_USAGE;
			goto out;
		}
		log_info("metrics on http://%s/metrics", cfg->metrics_listen);
	}
	(void)sdnotifyf("READY=1\nSTATUS=listening on %s", cfg->listen);
	if (event_base_dispatch(run.base) == -1) {
		log_warnx("event loop failed");
		goto out;
	}
	rc = 0;
out:
	if (ctlfd != -1)
		close(ctlfd);
	metricsrv_free(run.metrics);
	server_free(run.srv);
	for (i = 0; i < 3; i++)
		if (sigev[i] != NULL)
			event_free(sigev[i]);
	/* Before the loop: its lingering connections are events. */
	reload_free(rl);
	trace_shutdown();
	/* Last to ask the helper: it cleans up and exits. */
	privsep_stop();
	if (run.base != NULL)
		event_base_free(run.base);
	return rc;
}
