/*
 * log.h - logging with a role prefix, in the style of OpenBSD's log.c.
 *
 * Foreground processes log to stderr, daemons to syslog (journald).
 * log_warn() appends strerror(errno); log_warnx() does not; log_err() /
 * log_errx() the same for an error that ends what the caller was doing
 * (labelled "error:", syslog priority LOG_ERR).  Under systemd, when
 * stderr is the journal's stream (JOURNAL_STREAM names it), every line
 * starts with its priority as "<N>", which journald takes as the entry's
 * priority and strips.
 * fatal()/fatalx() are for main-level code only: they run the fatal hook
 * (the reflector uses it to remove its firewall state) and exit(1).
 */
#ifndef FTPATH_LOG_H
#define FTPATH_LOG_H

#include <stdarg.h>

#define LOG_FMT(a, b) __attribute__((format(printf, a, b)))

/* verbosity: 0 = warnings and info, 1 = debug, 2+ = more debug. */
void log_init(const char *role, int verbosity, int use_syslog);
int log_verbosity(void);
/* Called once by fatal()/fatalx() before exiting; NULL clears it. */
void log_set_fatal_hook(void (*hook)(void));

void log_err(const char *fmt, ...) LOG_FMT(1, 2);
void log_errx(const char *fmt, ...) LOG_FMT(1, 2);
void log_warn(const char *fmt, ...) LOG_FMT(1, 2);
void log_warnx(const char *fmt, ...) LOG_FMT(1, 2);
void log_info(const char *fmt, ...) LOG_FMT(1, 2);
void log_debug(const char *fmt, ...) LOG_FMT(1, 2);
_Noreturn void fatal(const char *fmt, ...) LOG_FMT(1, 2);
_Noreturn void fatalx(const char *fmt, ...) LOG_FMT(1, 2);

#endif
