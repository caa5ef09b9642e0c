/*
 * apply_cmd.h - the "apply" subcommand of ftpath-agent and
 * ftpath-reflector (same options, same behaviour on either host):
 *
 *   PROG apply FILE [--confirm-timeout S] [--confirm] [--state-dir DIR]
 *   PROG apply --rollback-stale [--state-dir DIR]
 *
 * Checks FILE with the kernel, loads it as one transaction, prints what
 * was added, then keeps it only if the operator types "yes" on the
 * terminal within S seconds (default 30), or at once with --confirm.
 * Without a terminal and without --confirm the watchdog rolls it back
 * after S seconds.  See apply.h for the mechanism.
 *
 * Exit status: 0 kept (or nothing stale to roll back), 1 rolled back,
 * 2 usage, a refused script or one the kernel rejected (nothing loaded),
 * 3 the state needs attention (a stale plan, a failed rollback, no
 * watchdog).
 */
#ifndef FTPATH_APPLY_CMD_H
#define FTPATH_APPLY_CMD_H

#include <stdio.h>

#define APPLY_EXIT_KEPT		0
#define APPLY_EXIT_ROLLED_BACK	1
#define APPLY_EXIT_USAGE	2
#define APPLY_EXIT_STATE	3

/* argv[0] is "apply"; prog names the program in messages.  Returns the
 * exit status; never exits. */
int apply_cmd_main(const char *prog, int argc, char **argv);
/* The subcommand's --help text. */
void apply_cmd_usage(const char *prog, FILE *out);

#endif
