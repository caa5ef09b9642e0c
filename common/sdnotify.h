/*
 * sdnotify.h - systemd's service notification protocol (sd_notify(3)),
 * spoken directly: one datagram of "KEY=VALUE\n" lines to the AF_UNIX
 * socket named by $NOTIFY_SOCKET (a path, or "@name" in the abstract
 * namespace).  No libsystemd: the protocol is one sendto().
 *
 * Without $NOTIFY_SOCKET (not started by systemd with Type=notify) every
 * call does nothing and returns 1.
 */
#ifndef FTPATH_SDNOTIFY_H
#define FTPATH_SDNOTIFY_H

/*
 * Send state ("READY=1", "RELOADING=1\nMONOTONIC_USEC=...", ...) as one
 * datagram.  0 sent, 1 nothing to do, FTP_ERR_INVAL (a $NOTIFY_SOCKET
 * that is not an AF_UNIX address) or FTP_ERR_SYSTEM (errno).
 */
int sdnotify(const char *state);
/* Connect to $NOTIFY_SOCKET now and send over that socket from then on:
 * a process about to lose the right to reach the socket's path. */
int sdnotify_open(void);

/* printf-style sdnotify(); a state longer than 4 KiB is FTP_ERR_TOOBIG. */
int sdnotifyf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* RELOADING=1 with the MONOTONIC_USEC= systemd asks to go with it. */
int sdnotify_reloading(void);

#endif
