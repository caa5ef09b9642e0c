/*
 * test_readfile.c - the bounded whole-file reader: a file of exactly the
 * limit is read, one byte more is FTP_ERR_TOOBIG, a missing one keeps
 * errno, and out-parameters are untouched on failure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "readfile.h"

/* A temporary file holding text; its name into path (unlinked by the
 * test). */
static void
tmp_file(char *path, size_t len, const char *text)
{
	int fd;

	snprintf(path, len, "/tmp/ftpath-readfile-XXXXXX");
	assert_true((fd = mkstemp(path)) >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(close(fd), 0);
}

static void
test_limits(void **state)
{
	char path[64], *buf = NULL;
	size_t len = 0;

	(void)state;
	tmp_file(path, sizeof(path), "127.0.0.1 localhost\n");
	assert_int_equal(readfile_load(path, 20, &buf, &len), 0);
	assert_int_equal(len, 20);
	assert_string_equal(buf, "127.0.0.1 localhost\n");
	free(buf);
	buf = NULL;
	len = 7;
	assert_int_equal(readfile_load(path, 19, &buf, &len), FTP_ERR_TOOBIG);
	assert_null(buf);
	assert_int_equal(len, 7);
	assert_int_equal(unlink(path), 0);
}

static void
test_missing(void **state)
{
	char *buf = NULL;
	size_t len = 0;

	(void)state;
	errno = 0;
	assert_int_equal(readfile_load("/nonexistent/ftpath/hosts", 64, &buf,
	    &len), FTP_ERR_SYSTEM);
	assert_int_equal(errno, ENOENT);
	assert_null(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_missing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
