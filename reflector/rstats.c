/*
 * rstats.c - the reflector's counters and their exposition (rstats.h).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "rstats.h"

static struct {
	unsigned long long started, ended;
	unsigned long long refused[RSTATS_NREFUSALS];
	unsigned long long trace_incomplete, nft_failed, foreign;
	unsigned long long reloads_ok, reloads_failed;
	double start_time;
	double mean_session_ms;		/* EWMA, 0 until one ended */
} rstats;

static const char *const rstats_reason[RSTATS_NREFUSALS] = {
	[RSTATS_TOO_MANY_SESSIONS] = "too-many-sessions",
	[RSTATS_NOT_ALLOWED] = "not-allowed",
	[RSTATS_HANDSHAKE_BUDGET] = "handshake-budget",
	[RSTATS_TOO_MANY_CONNECTIONS] = "too-many-connections",
	[RSTATS_TLS_FAILED] = "tls-failed",
	[RSTATS_HANDSHAKE_TIMEOUT] = "handshake-timeout",
};

static double
rstats_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void
rstats_session_started(void)
{
	rstats.started++;
}

void
rstats_session_ended(unsigned ms)
{
	rstats.ended++;
	/* A weight of 1/8: a few sessions move it, one outlier does not. */
	rstats.mean_session_ms = rstats.mean_session_ms == 0 ? ms :
	    rstats.mean_session_ms + (ms - rstats.mean_session_ms) / 8;
}

unsigned
rstats_retry_after_ms(void)
{
	double ms = rstats.mean_session_ms != 0 ? rstats.mean_session_ms :
	    1000;

	if (ms < RSTATS_RETRY_MIN_MS)
		return RSTATS_RETRY_MIN_MS;
	return ms > RSTATS_RETRY_MAX_MS ? RSTATS_RETRY_MAX_MS : (unsigned)ms;
}

void
rstats_refused(enum rstats_refusal why)
{
	if ((unsigned)why < RSTATS_NREFUSALS)
		rstats.refused[why]++;
}

void
rstats_trace_incomplete(void)
{
	rstats.trace_incomplete++;
}

void
rstats_nft_failed(void)
{
	rstats.nft_failed++;
}

void
rstats_foreign(void)
{
	rstats.foreign++;
}

void
rstats_reload(int ok)
{
	if (ok)
		rstats.reloads_ok++;
	else
		rstats.reloads_failed++;
}

void
rstats_init(void)
{
	memset(&rstats, 0, sizeof(rstats));
	rstats.start_time = rstats_now();
}

static void
rstats_counter(FILE *fp, const char *name, const char *help,
    unsigned long long v)
{
	fprintf(fp, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help,
	    name, name, v);
}

char *
rstats_render(void (*extra)(FILE *fp, void *arg), void *arg)
{
	char *buf = NULL;
	size_t len = 0, i;
	FILE *fp = open_memstream(&buf, &len);

	if (fp == NULL)
		return NULL;
	fprintf(fp, "# HELP ftpath_reflector_sessions Authenticated sessions "
	    "now.\n# TYPE ftpath_reflector_sessions gauge\n"
	    "ftpath_reflector_sessions %llu\n",
	    rstats.started - rstats.ended);
	rstats_counter(fp, "ftpath_reflector_sessions_total",
	    "Authenticated sessions started.", rstats.started);
	fputs("# HELP ftpath_reflector_refusals_total Connections and agents "
	    "turned away, by reason.\n"
	    "# TYPE ftpath_reflector_refusals_total counter\n", fp);
	for (i = 0; i < RSTATS_NREFUSALS; i++)
		fprintf(fp, "ftpath_reflector_refusals_total{reason=\"%s\"} "
		    "%llu\n", rstats_reason[i], rstats.refused[i]);
	rstats_counter(fp, "ftpath_reflector_trace_incomplete_total",
	    "Sessions whose nftables trace lost events.",
	    rstats.trace_incomplete);
	rstats_counter(fp, "ftpath_reflector_nft_failures_total",
	    "nftables tables or rules a session could not install.",
	    rstats.nft_failed);
	rstats_counter(fp, "ftpath_reflector_foreign_connections_total",
	    "Connections to the probe ports without a session's token.",
	    rstats.foreign);
	fputs("# HELP ftpath_reflector_reloads_total SIGHUP reloads, by "
	    "result.\n# TYPE ftpath_reflector_reloads_total counter\n", fp);
	fprintf(fp, "ftpath_reflector_reloads_total{result=\"ok\"} %llu\n"
	    "ftpath_reflector_reloads_total{result=\"failed\"} %llu\n",
	    rstats.reloads_ok, rstats.reloads_failed);
	fprintf(fp, "# HELP ftpath_reflector_start_time_seconds When the "
	    "reflector started.\n"
	    "# TYPE ftpath_reflector_start_time_seconds gauge\n"
	    "ftpath_reflector_start_time_seconds %.3f\n", rstats.start_time);
	if (extra != NULL)
		extra(fp, arg);
	if (fclose(fp) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
