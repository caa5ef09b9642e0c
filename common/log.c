/*
 * log.c - role-prefixed logging to stderr or syslog (see log.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

/* Process-wide by nature: there is one stderr and one syslog connection. */
/* A copy: openlog() keeps the ident pointer, so it must outlive the
 * caller's string. */
static char log_role[64] = "ftpath";
static int log_level;
static int log_to_syslog;
static int log_to_journal;	/* stderr is the journal's stream */
static void (*log_fatal_hook)(void);

/* JOURNAL_STREAM is "DEV:INODE" of the stream systemd connected; it is
 * inherited, so it counts only while stderr still is that stream. */
static int
log_stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &st) != 0)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
log_init(const char *role, int verbosity, int use_syslog)
{
	snprintf(log_role, sizeof(log_role), "%s",
	    role != NULL ? role : "ftpath");
	log_level = verbosity;
	log_to_syslog = use_syslog;
	log_to_journal = !use_syslog && log_stderr_is_journal();
	if (log_to_syslog)
		openlog(log_role, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

int
log_verbosity(void)
{
	return log_level;
}

void
log_set_fatal_hook(void (*hook)(void))
{
	log_fatal_hook = hook;
}

/*
 * The one place that writes.  suffix (may be NULL) is appended after ": ",
 * which is how log_warn/fatal add strerror without a second buffer copy in
 * every caller.
 */
LOG_FMT(3, 0) static void
log_vwrite(int pri, const char *suffix, const char *fmt, va_list ap)
{
	char msg[2048];
	const char *label = "";

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_to_syslog) {
		if (suffix != NULL)
			syslog(pri, "%s: %s", msg, suffix);
		else
			syslog(pri, "%s", msg);
		return;
	}
	switch (pri) {
	case LOG_CRIT:		label = "fatal: "; break;
	case LOG_ERR:		label = "error: "; break;
	case LOG_WARNING:	label = "warning: "; break;
	case LOG_DEBUG:		label = "debug: "; break;
	default:		break;
	}
	if (log_to_journal)
		fprintf(stderr, "<%d>", pri);
	if (suffix != NULL)
		fprintf(stderr, "%s: %s%s: %s\n", log_role, label, msg, suffix);
	else
		fprintf(stderr, "%s: %s%s\n", log_role, label, msg);
	fflush(stderr);
}

void
log_warn(const char *fmt, ...)
{
	int saved = errno;
	char ebuf[256];
	va_list ap;

	/* Copy the text first: formatting may itself touch errno. */
	snprintf(ebuf, sizeof(ebuf), "%s", strerror(saved));
	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, ebuf, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_err(const char *fmt, ...)
{
	int saved = errno;
	char ebuf[256];
	va_list ap;

	snprintf(ebuf, sizeof(ebuf), "%s", strerror(saved));
	va_start(ap, fmt);
	log_vwrite(LOG_ERR, ebuf, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_errx(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_ERR, NULL, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, NULL, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_info(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_INFO, NULL, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_debug(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	if (log_level < 1)
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_DEBUG, NULL, fmt, ap);
	va_end(ap);
	errno = saved;
}

/* Run the hook at most once, even if it calls fatal() itself. */
static void
log_run_fatal_hook(void)
{
	void (*hook)(void) = log_fatal_hook;

	log_fatal_hook = NULL;
	if (hook != NULL)
		hook();
}

void
fatal(const char *fmt, ...)
{
	char ebuf[256];
	va_list ap;

	snprintf(ebuf, sizeof(ebuf), "%s", strerror(errno));
	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, ebuf, fmt, ap);
	va_end(ap);
	log_run_fatal_hook();
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, NULL, fmt, ap);
	va_end(ap);
	log_run_fatal_hook();
	exit(1);
}
