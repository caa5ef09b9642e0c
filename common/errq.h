/*
 * errq.h - ICMP errors from a socket's error queue (IP_RECVERR /
 * IPV6_RECVERR).
 *
 * A TCP connect that meets an ICMP unreachable fails with an errno, but
 * only the error queue says which ICMP type/code it was and which node
 * sent it; that is what tells a router's reject from a routing gap.
 */
#ifndef FTPATH_ERRQ_H
#define FTPATH_ERRQ_H

#include <stdint.h>
#include <sys/socket.h>

struct errq_icmp {
	int present;			/* 0: nothing was queued */
	int family;			/* AF_INET: ICMP, AF_INET6: ICMPv6 */
	uint8_t type;
	uint8_t code;
	int err;			/* errno the kernel mapped it to */
	struct sockaddr_storage from;	/* offender; family AF_UNSPEC if none */
};

/* Enable IP_RECVERR (and IPV6_RECVERR for AF_INET6) on fd. */
int errq_enable(int fd, int family);

/*
 * Drain the error queue of fd; the last ICMP-originated entry wins.
 * Returns 0 (out->present says whether one was found) or FTP_ERR_SYSTEM.
 */
int errq_read(int fd, struct errq_icmp *out);

/* Kinds of ICMP destination-unreachable that matter for verdicts. */
int errq_is_admin_prohibited(const struct errq_icmp *e);
int errq_is_net_or_host_unreachable(const struct errq_icmp *e);
/* "ICMP admin-prohibited (3/13)", "ICMPv6 no-route (1/0)" ... */
const char *errq_describe(const struct errq_icmp *e, char *buf, size_t len);

#endif
