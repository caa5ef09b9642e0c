/*
 * owners.h - which TCP ports have a listening socket on this host (in
 * this network namespace), asked of the kernel with sock_diag (as ss
 * does), or read from /proc/net/tcp and /proc/net/tcp6 without it.
 *
 * When the reflector diverts the agent's connections with tproxy it never
 * binds the probe ports, so binding no longer tells whether the FTP
 * server owns one.  Reading the socket table does, without touching the
 * port (a test bind could race with the FTP server binding a passive
 * port).  Loopback-only listeners (our transparent listener, local-only
 * services) do not count: a client could not reach them.
 */
#ifndef FTPATH_OWNERS_H
#define FTPATH_OWNERS_H

#include <stddef.h>
#include <stdint.h>

#define OWNERS_BITMAP_BYTES	(65536 / 8)

struct owners {
	uint8_t listening[OWNERS_BITMAP_BYTES];	/* bit per port */
};

/*
 * Account one line of /proc/net/tcp (ipv6 0) or /proc/net/tcp6 (ipv6 1).
 * Returns 1 if it is a non-loopback listener (and marks its port), 0 if
 * it is another socket or the header, FTP_ERR_INVAL if malformed.
 */
int owners_parse_line(struct owners *o, const char *line, int ipv6);

/* Fill o: from sock_diag (the kernel sends the listening sockets only),
 * else from both /proc tables; a missing table (no IPv6) is no error.
 * 0 or FTP_ERR_SYSTEM (errno set). */
int owners_scan(struct owners *o);

int owners_listening(const struct owners *o, uint16_t port);

#endif
