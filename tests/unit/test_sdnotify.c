/*
 * test_sdnotify.c - sd_notify datagrams to a path socket and an
 * abstract one, and nothing at all without $NOTIFY_SOCKET.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "err.h"
#include "sdnotify.h"

/* A datagram socket bound at name (a path, or "@x": abstract). */
static int
listen_at(const char *name)
{
	struct sockaddr_un sun;
	socklen_t len;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct timeval tv = { 2, 0 };

	assert_true(fd >= 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	assert_true(strlen(name) < sizeof(sun.sun_path));
	memcpy(sun.sun_path, name, strlen(name));
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    strlen(name) + (name[0] == '@' ? 0 : 1));
	if (name[0] == '@')
		sun.sun_path[0] = '\0';
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, len), 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)), 0);
	return fd;
}

static void
expect(int fd, const char *want_prefix)
{
	char buf[512];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);

	assert_true(n > 0);
	buf[n] = '\0';
	if (strncmp(buf, want_prefix, strlen(want_prefix)) != 0)
		fail_msg("got \"%s\", want \"%s...\"", buf, want_prefix);
}

static void
test_unset(void **state)
{
	(void)state;
	assert_int_equal(unsetenv("NOTIFY_SOCKET"), 0);
	assert_int_equal(sdnotify("READY=1"), 1);
	assert_int_equal(setenv("NOTIFY_SOCKET", "", 1), 0);
	assert_int_equal(sdnotify("READY=1"), 1);
	/* Not an AF_UNIX address: refused, never a crash or a guess. */
	assert_int_equal(setenv("NOTIFY_SOCKET", "relative/path", 1), 0);
	assert_int_equal(sdnotify("READY=1"), FTP_ERR_INVAL);
	assert_int_equal(unsetenv("NOTIFY_SOCKET"), 0);
}

static void
test_path(void **state)
{
	char dir[] = "/tmp/ftpath-test-notify.XXXXXX", path[128];
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/notify", dir);
	fd = listen_at(path);
	assert_int_equal(setenv("NOTIFY_SOCKET", path, 1), 0);
	assert_int_equal(sdnotify("READY=1"), 0);
	expect(fd, "READY=1");
	assert_int_equal(sdnotify_reloading(), 0);
	expect(fd, "RELOADING=1\nMONOTONIC_USEC=");
	assert_int_equal(sdnotifyf("STATUS=%s %d", "sessions", 3), 0);
	expect(fd, "STATUS=sessions 3");
	close(fd);
	/* Nobody listening any more: an error, not a hang. */
	unlink(path);
	assert_int_equal(sdnotify("STOPPING=1"), FTP_ERR_SYSTEM);
	rmdir(dir);
	assert_int_equal(unsetenv("NOTIFY_SOCKET"), 0);
}

static void
test_abstract(void **state)
{
	char name[64];
	int fd;

	(void)state;
	snprintf(name, sizeof(name), "@ftpath-test-notify-%ld", (long)getpid());
	fd = listen_at(name);
	assert_int_equal(setenv("NOTIFY_SOCKET", name, 1), 0);
	assert_int_equal(sdnotify("STOPPING=1"), 0);
	expect(fd, "STOPPING=1");
	close(fd);
	assert_int_equal(unsetenv("NOTIFY_SOCKET"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unset),
		cmocka_unit_test(test_path),
		cmocka_unit_test(test_abstract),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
