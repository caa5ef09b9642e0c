/*
 * sandbox.c - the engine's seccomp filter (sandbox.h): a classic BPF
 * program built from a table of system-call numbers, installed with
 * prctl(PR_SET_SECCOMP) so that no library is needed.
 */
#include <errno.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "err.h"
#include "sandbox.h"

#if defined(__x86_64__)
#define SANDBOX_ARCH	AUDIT_ARCH_X86_64
#elif defined(__aarch64__) && defined(__AARCH64EL__)
#define SANDBOX_ARCH	AUDIT_ARCH_AARCH64
#endif

/* Refused, by what they would give an attacker in the engine. */
static const int sandbox_refused[] = {
	/* run another program */
	__NR_execve, __NR_execveat,
	/* read or write another process */
	__NR_ptrace, __NR_process_vm_readv, __NR_process_vm_writev,
	/* namespaces and mounts */
	__NR_setns, __NR_unshare, __NR_mount, __NR_umount2, __NR_pivot_root,
	__NR_chroot,
#ifdef __NR_open_tree
	__NR_open_tree, __NR_move_mount, __NR_fsopen, __NR_fsconfig,
	__NR_fsmount, __NR_fspick,
#endif
#ifdef __NR_mount_setattr
	__NR_mount_setattr,
#endif
	/* the kernel itself */
	__NR_init_module, __NR_finit_module, __NR_delete_module,
	__NR_kexec_load,
#ifdef __NR_kexec_file_load
	__NR_kexec_file_load,
#endif
	__NR_bpf, __NR_perf_event_open, __NR_userfaultfd, __NR_reboot,
	__NR_swapon, __NR_swapoff, __NR_acct, __NR_quotactl,
	__NR_open_by_handle_at, __NR_name_to_handle_at,
	/* the keyring */
	__NR_keyctl, __NR_add_key, __NR_request_key,
	/* the clock every host's logs and certificates depend on */
	__NR_settimeofday, __NR_clock_settime, __NR_clock_adjtime,
	__NR_adjtimex,
#if defined(__x86_64__)
	/* port I/O */
	__NR_iopl, __NR_ioperm,
#endif
};

#define SANDBOX_NREFUSED \
	(sizeof(sandbox_refused) / sizeof(sandbox_refused[0]))
/* Load the arch, check it, check x32 (x86_64), load the number, clone
 * and clone3 (7), one test per refused call, allow, refuse. */
#define SANDBOX_PROG_MAX	(SANDBOX_NREFUSED + 16)

/* A jump's offset is one byte. */
_Static_assert(SANDBOX_NREFUSED < 255, "too many refused calls for one jump");

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME	0x00000080	/* linux/sched.h; glibc may lack it */
#endif
/* clone(2) flags that make a namespace: refused as unshare is. */
#define SANDBOX_CLONE_NEW	((unsigned)(CLONE_NEWNS | CLONE_NEWCGROUP | \
	CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | \
	CLONE_NEWNET | CLONE_NEWTIME))

#ifdef SANDBOX_ARCH

size_t
sandbox_refused_count(void)
{
	return SANDBOX_NREFUSED;
}

static void
sandbox_put(struct sock_filter *prog, size_t *n, struct sock_filter ins)
{
	prog[(*n)++] = ins;
}

/*
 * clone with a namespace flag: EPERM; clone3, whose flags are in memory
 * a filter cannot read: ENOSYS, on which the C library falls back to
 * clone.  Other numbers go on with the number still loaded.
 */
static void
sandbox_clone(struct sock_filter *prog, size_t *n)
{
	sandbox_put(prog, n, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ |
	    BPF_K, __NR_clone, 0, 4));
	sandbox_put(prog, n, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W |
	    BPF_ABS, offsetof(struct seccomp_data, args[0])));
	sandbox_put(prog, n, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET |
	    BPF_K, SANDBOX_CLONE_NEW, 0, 1));
	sandbox_put(prog, n, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)));
	sandbox_put(prog, n, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_ALLOW));
#ifdef __NR_clone3
	sandbox_put(prog, n, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ |
	    BPF_K, __NR_clone3, 0, 1));
	sandbox_put(prog, n, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)));
#endif
}

/* The program; *len its length.  Every refused number jumps to the
 * last instruction (EPERM), all others fall through to "allow". */
static void
sandbox_build(struct sock_filter *prog, size_t *len)
{
	size_t n = 0, i;

	sandbox_put(prog, &n, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W |
	    BPF_ABS, offsetof(struct seccomp_data, arch)));
	sandbox_put(prog, &n, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ |
	    BPF_K, SANDBOX_ARCH, 1, 0));
	sandbox_put(prog, &n, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_KILL_PROCESS));
	sandbox_put(prog, &n, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W |
	    BPF_ABS, offsetof(struct seccomp_data, nr)));
#if defined(__x86_64__)
	/* x32 calls carry the native arch with bit 30 set. */
	sandbox_put(prog, &n, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE |
	    BPF_K, 0x40000000u, 0, 1));
	sandbox_put(prog, &n, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_KILL_PROCESS));
#endif
	sandbox_clone(prog, &n);
	for (i = 0; i < SANDBOX_NREFUSED; i++)
		sandbox_put(prog, &n, (struct sock_filter)BPF_JUMP(BPF_JMP |
		    BPF_JEQ | BPF_K, (unsigned)sandbox_refused[i],
		    (unsigned char)(SANDBOX_NREFUSED - i), 0));
	sandbox_put(prog, &n, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_ALLOW));
	sandbox_put(prog, &n, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)));
	*len = n;
}

int
sandbox_engine(char *why, size_t whylen)
{
	struct sock_filter prog[SANDBOX_PROG_MAX];
	struct sock_fprog fprog;
	size_t len = 0;

	sandbox_build(prog, &len);
	fprog.len = (unsigned short)len;
	fprog.filter = prog;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		snprintf(why, whylen, "PR_SET_NO_NEW_PRIVS: %s",
		    strerror(errno));
		return FTP_ERR_SYSTEM;
	}
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0) != 0) {
		snprintf(why, whylen, "installing the seccomp filter: %s",
		    strerror(errno));
		return FTP_ERR_SYSTEM;
	}
	return 0;
}

#else	/* no SANDBOX_ARCH */

size_t
sandbox_refused_count(void)
{
	return 0;
}

int
sandbox_engine(char *why, size_t whylen)
{
	snprintf(why, whylen, "no seccomp filter on this architecture");
	return 1;
}

#endif
