/*
 * apply_driver.c - apply_run() against the real kernel, for
 * apply_test.sh.  Runs inside a throw-away network namespace; needs
 * CAP_NET_ADMIN.
 *
 *   apply_driver STATEDIR PATCH TIMEOUT SRC DST PORT
 *
 * Listens on DST:PORT, then apply_run()s PATCH with a re-test that
 * connects from SRC to DST:PORT (1 s): the patch is kept only if the
 * connection now gets through.  Prints "retest pass" or "retest fail",
 * then "kept" or "rolled-back identical|differs"; exit 0 kept, 1 rolled
 * back, 2 error (the reason on stderr).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "apply.h"
#include "err.h"
#include "readfile.h"

struct retest {
	struct sockaddr_in	src, dst;
};

static int
addr4(const char *s, unsigned port, struct sockaddr_in *out)
{
	memset(out, 0, sizeof(*out));
	out->sin_family = AF_INET;
	out->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, s, &out->sin_addr) == 1 ? 0 : -1;
}

/* The re-test: 1 if SRC -> DST:PORT connects within a second. */
static int
driver_retest(void *arg)
{
	const struct retest *t = arg;
	struct pollfd pfd;
	socklen_t len = sizeof(int);
	int fd, soerr = -1, pass = 0;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1)
		return -1;
	if (bind(fd, (const struct sockaddr *)&t->src, sizeof(t->src)) == 0 &&
	    (connect(fd, (const struct sockaddr *)&t->dst, sizeof(t->dst)) == 0
	    || errno == EINPROGRESS)) {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, 1000) == 1 &&
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0)
			pass = soerr == 0;
	}
	close(fd);
	printf("retest %s\n", pass ? "pass" : "fail");
	fflush(stdout);
	return pass;
}

static int
driver_listen(const struct sockaddr_in *a)
{
	int fd, on = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, (const struct sockaddr *)a, sizeof(*a)) == -1 ||
	    listen(fd, 8) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

int
main(int argc, char **argv)
{
	struct apply_opts o = { NULL, 0 };
	struct retest t;
	char *script = NULL, err[2048];
	size_t len;
	int lfd, r, kept = 0, identical = 0;

	if (argc != 7 || addr4(argv[4], 0, &t.src) != 0 ||
	    addr4(argv[5], (unsigned)atoi(argv[6]), &t.dst) != 0) {
		fprintf(stderr, "usage: apply_driver STATEDIR PATCH TIMEOUT "
		    "SRC DST PORT\n");
		return 2;
	}
	o.state_dir = argv[1];
	o.confirm_timeout = (unsigned)atoi(argv[3]);
	if ((lfd = driver_listen(&t.dst)) == -1) {
		perror("listen");
		return 2;
	}
	if ((r = readfile_load(argv[2], APPLY_SCRIPT_MAX, &script, &len))
	    != 0) {
		fprintf(stderr, "%s: %s\n", argv[2], ftp_strerror(r));
		return 2;
	}
	r = apply_run(script, &o, driver_retest, &t, &kept, &identical, err,
	    sizeof(err));
	free(script);
	close(lfd);
	if (r != 0) {
		fprintf(stderr, "apply_run: %s (%s)\n", err, ftp_strerror(r));
		return 2;
	}
	if (kept)
		printf("kept\n");
	else
		printf("rolled-back %s\n", identical ? "identical" : "differs");
	return kept ? 0 : 1;
}
