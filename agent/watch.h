/*
 * watch.h - `ftpath-agent watch`: the check again and again, as
 * Prometheus metrics.
 *
 * Every interval (jittered by up to a tenth, so a fleet of agents does
 * not beat in step) a child process runs one quiet check (check.h) and
 * writes its metrics (report_metrics()); the parent keeps the metrics
 * that span checks (checks by result, a duration histogram, the last
 * success) and exposes the last check's together with them: over HTTP
 * on --listen (GET /metrics, the text exposition format 0.0.4), and/or
 * as DIR/ftpath.prom for node_exporter's textfile collector (written to
 * a temporary file and renamed, so a scrape never reads half of it).
 * A child that overruns its bound is killed by PID.  SIGINT and SIGTERM
 * end the loop cleanly.
 */
#ifndef FTPATH_AGENT_WATCH_H
#define FTPATH_AGENT_WATCH_H

#include "check.h"

#define WATCH_MIN_INTERVAL	1u
#define WATCH_MAX_INTERVAL	86400u

struct watch_opts {
	unsigned interval_s;
	const char *listen;		/* ADDR:PORT, or NULL */
	const char *textfile_dir;	/* DIR, or NULL */
	unsigned max_checks;		/* 0: until a signal (tests: bounded) */
};

/* Runs until SIGINT/SIGTERM (or max_checks).  Returns 0, or
 * CHECK_EXIT_USAGE when --listen cannot be bound. */
int watch_run(const struct watch_opts *w, const struct check_opts *o);

#endif
