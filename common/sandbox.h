/*
 * sandbox.h - the system calls a process that parses untrusted input
 * never needs, refused by a seccomp filter.
 *
 * The reflector's engine (TLS, sessions, agent JSON) holds no
 * capability and runs as an unprivileged user (privdrop.h); the filter
 * is the next line: should a parser bug give an attacker code execution
 * in it, it still cannot run a program (execve), inspect or write
 * another process (ptrace, process_vm_*), enter or make namespaces,
 * mount, load kernel modules or BPF programs, open perf events, use the
 * kernel keyring or userfaultfd, or set the clock.  A denylist, not an
 * allowlist, on purpose: libevent, OpenSSL and the C library choose
 * their own system calls, and a call they need that an allowlist missed
 * would turn into a failure at run time, on one machine, under load.
 * Refused calls fail with EPERM; a call from another ABI (32-bit x86 on
 * x86_64, x32) kills the process, since it would bypass the numbers
 * checked.  systemd's SystemCallFilter= in the unit applies as well
 * where there is one; this filter holds however the reflector is run.
 *
 * Errors: 0, or FTP_ERR_SYSTEM (errno set) with a sentence in why.  On
 * an architecture this file has no numbers for, sandbox_engine() does
 * nothing and returns 1, with the reason in why (for the log).
 */
#ifndef FTPATH_SANDBOX_H
#define FTPATH_SANDBOX_H

#include <stddef.h>

/* Install the filter for this process and every thread and child it
 * makes from now on (no_new_privs is set first, as the kernel asks of
 * an unprivileged process).  It cannot be removed. */
int sandbox_engine(char *why, size_t whylen);

/* How many system calls the filter refuses (for the log line); 0 where
 * there is no filter. */
size_t sandbox_refused_count(void);

#endif
