/*
 * test_sandbox.c - the engine's seccomp filter, installed for real in a
 * child process: what an attacker would want fails with the filter's
 * errno, what the engine does every day still works, and a call from
 * another ABI kills the process.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox.h"

typedef int (*child_fn)(void);

/* Run fn in a child behind the filter; its wait status.  The child
 * leaves with _exit(): no atexit handler (a sanitizer's leak check
 * would ptrace) runs behind the filter. */
static int
in_sandbox(child_fn fn)
{
	char why[128];
	pid_t pid;
	int st = 0;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (sandbox_engine(why, sizeof(why)) != 0)
			_exit(100);
		_exit(fn());
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

/* 0 if the call failed with want, else 1 (failed otherwise) or 2. */
static int
failed_with(long r, int want)
{
	if (r != -1)
		return 2;
	return errno == want ? 0 : 1;
}

static int
try_execve(void)
{
	char name[] = "false";
	char *argv[] = { name, NULL };
	char *envp[] = { NULL };

	/* Should it run, false's exit 1 fails the test as well. */
	return failed_with(execve("/bin/false", argv, envp), EPERM);
}

static int
try_ptrace(void)
{
	return failed_with(ptrace(PTRACE_TRACEME, 0, NULL, NULL), EPERM);
}

static int
try_unshare(void)
{
	return failed_with(unshare(CLONE_NEWUSER | CLONE_NEWNET), EPERM);
}

static int
try_setns(void)
{
	int fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 3;
	return failed_with(setns(fd, CLONE_NEWNET), EPERM);
}

static int
try_clone_newuser(void)
{
	/* The raw call: glibc's clone() wants a stack; a fork-like clone
	 * with a namespace flag needs none. */
	return failed_with(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0,
	    0, 0, 0), EPERM);
}

static int
try_clone3(void)
{
#ifdef SYS_clone3
	return failed_with(syscall(SYS_clone3, NULL, 0), ENOSYS);
#else
	return 0;
#endif
}

static int
try_bpf(void)
{
	return failed_with(syscall(SYS_bpf, 0, NULL, 0), EPERM);
}

static int
try_settime(void)
{
	struct timespec ts = { 0, 0 };

	return failed_with(clock_settime(CLOCK_REALTIME, &ts), EPERM);
}

static void
test_refused(void **state)
{
	child_fn fns[] = { try_execve, try_ptrace, try_unshare, try_setns,
	    try_clone_newuser, try_clone3, try_bpf, try_settime };
	size_t i;
	int st;

	(void)state;
	for (i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		st = in_sandbox(fns[i]);
		assert_true(WIFEXITED(st));
		if (WEXITSTATUS(st) != 0)
			fail_msg("refused call %zu: child exit %d", i,
			    WEXITSTATUS(st));
	}
	assert_true(sandbox_refused_count() > 30);
}

/* What the engine does all day: files, sockets, a fork, the clock. */
static int
daily_work(void)
{
	struct timespec ts;
	int fd, sv[2], st;
	pid_t pid;

	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0 ||
	    write(fd, "x", 1) != 1 || close(fd) != 0)
		return 1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0 ||
	    send(sv[0], "y", 1, 0) != 1)
		return 2;
	close(sv[0]);
	close(sv[1]);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 3;
	close(fd);
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0 || getpid() <= 0)
		return 4;
	if ((pid = fork()) < 0)
		return 5;
	if (pid == 0)
		_exit(7);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 7)
		return 6;
	return 0;
}

static void
test_allowed(void **state)
{
	int st;

	(void)state;
	st = in_sandbox(daily_work);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

#if defined(__x86_64__)
static int
try_x32(void)
{
	/* getpid by the x32 ABI's number: bypasses a check of numbers
	 * unless the filter looks at the ABI bit. */
	(void)syscall(0x40000000L | SYS_getpid);
	return 0;
}

static void
test_other_abi_killed(void **state)
{
	int st;

	(void)state;
	st = in_sandbox(try_x32);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
}
#endif

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_allowed),
#if defined(__x86_64__)
		cmocka_unit_test(test_other_abi_killed),
#endif
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
