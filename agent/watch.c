/*
 * watch.c - the check on an interval, exposed as Prometheus metrics
 * (watch.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "addr.h"
#include "err.h"
#include "log.h"
#include "metricsrv.h"
#include "watch.h"

/* A check that has not ended after this long is killed. */
#define WATCH_CHILD_MAX_S	300
#define WATCH_OUT_MAX		(1u << 20)
#define WATCH_NBUCKETS		8

static const double watch_buckets[WATCH_NBUCKETS] = {
	0.5, 1, 2, 5, 10, 30, 60, 120
};

struct watch {
	const struct watch_opts *w;
	const struct check_opts *o;
	struct event_base *base;
	struct metricsrv *http;		/* --listen */
	struct event *timer, *sigint, *sigterm, *kill_timer, *pipe_ev;
	pid_t child;
	int pipe_fd;
	struct timespec started;
	char *cur;			/* the running child's output */
	size_t cur_len;
	char *last;			/* the last complete check's metrics */
	unsigned checks;
	/* across checks */
	unsigned long long results[4];	/* pass, fail, usage, unreachable */
	unsigned long long bucket[WATCH_NBUCKETS];
	unsigned long long count;
	double sum_s;
	double last_success;		/* unix seconds, 0: never */
	double last_check;
};

static double
watch_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The exposition: the last check's series, then those across checks. */
static char *
watch_exposition(const struct watch *ws)
{
	static const char *const res[4] = { "pass", "fail", "usage",
	    "unreachable" };
	char *buf = NULL;
	size_t len = 0, i;
	FILE *fp = open_memstream(&buf, &len);

	if (fp == NULL)
		return NULL;
	if (ws->last != NULL)
		fputs(ws->last, fp);
	fputs("# HELP ftpath_checks_total Checks run, by result.\n"
	    "# TYPE ftpath_checks_total counter\n", fp);
	for (i = 0; i < 4; i++)
		fprintf(fp, "ftpath_checks_total{result=\"%s\"} %llu\n", res[i],
		    ws->results[i]);
	fputs("# HELP ftpath_check_duration_seconds Wall time of a check.\n"
	    "# TYPE ftpath_check_duration_seconds histogram\n", fp);
	for (i = 0; i < WATCH_NBUCKETS; i++)
		fprintf(fp, "ftpath_check_duration_seconds_bucket{le=\"%g\"} "
		    "%llu\n", watch_buckets[i], ws->bucket[i]);
	fprintf(fp, "ftpath_check_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
	    "ftpath_check_duration_seconds_sum %.3f\n"
	    "ftpath_check_duration_seconds_count %llu\n", ws->count,
	    ws->sum_s, ws->count);
	fprintf(fp, "# HELP ftpath_last_success_timestamp_seconds When a "
	    "check last passed (0: never).\n"
	    "# TYPE ftpath_last_success_timestamp_seconds gauge\n"
	    "ftpath_last_success_timestamp_seconds %.3f\n"
	    "# HELP ftpath_last_check_timestamp_seconds When the last check "
	    "ended.\n# TYPE ftpath_last_check_timestamp_seconds gauge\n"
	    "ftpath_last_check_timestamp_seconds %.3f\n", ws->last_success,
	    ws->last_check);
	if (fclose(fp) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void
watch_textfile(const struct watch *ws, const char *text)
{
	char tmp[4096], dst[4096];
	FILE *fp;

	snprintf(dst, sizeof(dst), "%s/ftpath.prom", ws->w->textfile_dir);
	snprintf(tmp, sizeof(tmp), "%s/.ftpath.prom.%ld", ws->w->textfile_dir,
	    (long)getpid());
	if ((fp = fopen(tmp, "w")) == NULL) {
		log_warn("--textfile %s", tmp);
		return;
	}
	fputs(text, fp);
	if ((ferror(fp) | fclose(fp)) != 0 || rename(tmp, dst) != 0) {
		log_warn("--textfile %s", dst);
		(void)unlink(tmp);
	}
}

/* metricsrv's render: a scrape sees the state of that moment. */
static char *
watch_render_cb(void *arg)
{
	return watch_exposition(arg);
}

static void watch_schedule(struct watch *ws);

/* The child ended: account its result, publish, schedule the next. */
static void
watch_finish(struct watch *ws)
{
	double s = 0;
	int status = 0, ex = CHECK_EXIT_USAGE;
	struct timespec now;
	char *text;
	size_t i;

	if (waitpid(ws->child, &status, 0) == ws->child && WIFEXITED(status))
		ex = WEXITSTATUS(status);
	ws->child = -1;
	evtimer_del(ws->kill_timer);
	clock_gettime(CLOCK_MONOTONIC, &now);
	s = (double)(now.tv_sec - ws->started.tv_sec) +
	    (now.tv_nsec - ws->started.tv_nsec) / 1e9;
	ws->results[ex >= 0 && ex <= 3 ? ex : CHECK_EXIT_USAGE]++;
	for (i = 0; i < WATCH_NBUCKETS; i++)
		ws->bucket[i] += s <= watch_buckets[i];
	ws->count++;
	ws->sum_s += s;
	ws->last_check = watch_now();
	if (ex == CHECK_EXIT_PASS)
		ws->last_success = ws->last_check;
	/* A check that wrote nothing (killed, no memory) keeps the last. */
	if (ws->cur != NULL && ws->cur_len > 0) {
		free(ws->last);
		ws->last = ws->cur;
		ws->cur = NULL;
	}
	free(ws->cur);
	ws->cur = NULL;
	ws->cur_len = 0;
	log_info("check %u: exit %d after %.1f s", ws->checks, ex, s);
	if (ws->w->textfile_dir != NULL &&
	    (text = watch_exposition(ws)) != NULL) {
		watch_textfile(ws, text);
		free(text);
	}
	if (ws->w->max_checks != 0 && ws->checks >= ws->w->max_checks)
		event_base_loopbreak(ws->base);
	else
		watch_schedule(ws);
}

static void
watch_pipe_cb(evutil_socket_t fd, short what, void *arg)
{
	struct watch *ws = arg;
	char buf[8192], *nb;
	ssize_t n;

	(void)what;
	n = read(fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0 && ws->cur_len + (size_t)n < WATCH_OUT_MAX &&
	    (nb = realloc(ws->cur, ws->cur_len + (size_t)n + 1)) != NULL) {
		ws->cur = nb;
		memcpy(ws->cur + ws->cur_len, buf, (size_t)n);
		ws->cur_len += (size_t)n;
		ws->cur[ws->cur_len] = '\0';
		return;
	}
	if (n > 0)
		return;		/* over the bound: the rest is dropped */
	event_free(ws->pipe_ev);
	ws->pipe_ev = NULL;
	close(ws->pipe_fd);
	ws->pipe_fd = -1;
	watch_finish(ws);
}

/* In the child: one quiet check, its metrics into the pipe. */
static void
watch_child(struct watch *ws, int wfd)
{
	struct check_opts o = *ws->o;
	FILE *fp;
	int ex;

	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	if ((fp = fdopen(wfd, "w")) == NULL)
		_exit(CHECK_EXIT_USAGE);
	o.quiet = 1;
	o.metrics = fp;
	ex = check_run(&o);
	fclose(fp);
	_exit(ex);
}

static void
watch_kill_cb(evutil_socket_t fd, short what, void *arg)
{
	struct watch *ws = arg;

	(void)fd;
	(void)what;
	if (ws->child > 0) {
		log_warnx("check %u overran %d s: killed", ws->checks,
		    WATCH_CHILD_MAX_S);
		(void)kill(ws->child, SIGKILL);
	}
}

static void
watch_start_cb(evutil_socket_t fd, short what, void *arg)
{
	struct watch *ws = arg;
	struct timeval kt = { WATCH_CHILD_MAX_S, 0 };
	int p[2];

	(void)fd;
	(void)what;
	if (pipe2(p, O_CLOEXEC) != 0) {
		log_warn("pipe");
		watch_schedule(ws);
		return;
	}
	fflush(NULL);
	ws->checks++;
	clock_gettime(CLOCK_MONOTONIC, &ws->started);
	if ((ws->child = fork()) < 0) {
		log_warn("fork");
		close(p[0]);
		close(p[1]);
		watch_schedule(ws);
		return;
	}
	if (ws->child == 0) {
		close(p[0]);
		watch_child(ws, p[1]);
	}
	close(p[1]);
	ws->pipe_fd = p[0];
	evutil_make_socket_nonblocking(p[0]);
	ws->pipe_ev = event_new(ws->base, p[0], EV_READ | EV_PERSIST,
	    watch_pipe_cb, ws);
	if (ws->pipe_ev == NULL || event_add(ws->pipe_ev, NULL) != 0)
		log_warnx("watch: cannot wait for the check");
	evtimer_add(ws->kill_timer, &kt);
}

/* The next check after the interval, give or take a tenth. */
static void
watch_schedule(struct watch *ws)
{
	unsigned ms = ws->w->interval_s * 1000u, j = ms / 10;
	struct timeval tv;

	if (j > 0)
		ms = ms - j + (unsigned)(random() % (2 * j + 1));
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(ws->timer, &tv);
}

static void
watch_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct watch *ws = arg;

	(void)what;
	log_info("signal %d: stopping", (int)sig);
	event_base_loopbreak(ws->base);
}

static int
watch_listen(struct watch *ws)
{
	char err[512];

	if (ws->w->listen == NULL)
		return 0;
	if ((ws->http = metricsrv_new(ws->base, ws->w->listen,
	    watch_render_cb, ws, err, sizeof(err))) == NULL) {
		log_errx("--listen %s", err);
		return CHECK_EXIT_USAGE;
	}
	log_info("metrics on http://%s/metrics", ws->w->listen);
	return 0;
}

static void
watch_release(struct watch *ws)
{
	if (ws->child > 0) {
		(void)kill(ws->child, SIGTERM);
		(void)waitpid(ws->child, NULL, 0);
	}
	if (ws->pipe_ev != NULL)
		event_free(ws->pipe_ev);
	if (ws->pipe_fd >= 0)
		close(ws->pipe_fd);
	metricsrv_free(ws->http);
	if (ws->timer != NULL)
		event_free(ws->timer);
	if (ws->kill_timer != NULL)
		event_free(ws->kill_timer);
	if (ws->sigint != NULL)
		event_free(ws->sigint);
	if (ws->sigterm != NULL)
		event_free(ws->sigterm);
	if (ws->base != NULL)
		event_base_free(ws->base);
	free(ws->cur);
	free(ws->last);
}

int
watch_run(const struct watch_opts *w, const struct check_opts *o)
{
	struct watch ws;
	struct timeval now = { 0, 0 };
	int r = CHECK_EXIT_USAGE;

	memset(&ws, 0, sizeof(ws));
	ws.w = w;
	ws.o = o;
	ws.child = -1;
	ws.pipe_fd = -1;
	srandom((unsigned)getpid() ^ (unsigned)time(NULL));
	if ((ws.base = event_base_new()) == NULL ||
	    (ws.timer = evtimer_new(ws.base, watch_start_cb, &ws)) == NULL ||
	    (ws.kill_timer = evtimer_new(ws.base, watch_kill_cb, &ws)) ==
	    NULL ||
	    (ws.sigint = evsignal_new(ws.base, SIGINT, watch_signal_cb,
	    &ws)) == NULL ||
	    (ws.sigterm = evsignal_new(ws.base, SIGTERM, watch_signal_cb,
	    &ws)) == NULL) {
		log_warnx("out of memory");
		goto out;
	}
	if (watch_listen(&ws) != 0)
		goto out;
	event_add(ws.sigint, NULL);
	event_add(ws.sigterm, NULL);
	evtimer_add(ws.timer, &now);
	(void)event_base_dispatch(ws.base);
	r = 0;
out:
	watch_release(&ws);
	return r;
}
