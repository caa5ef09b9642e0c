/*
 * errq.c - ICMP errors from a socket's error queue (see errq.h).
 */
#include <errno.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <linux/errqueue.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "err.h"
#include "errq.h"

int
errq_enable(int fd, int family)
{
	int on = 1;

	if (setsockopt(fd, IPPROTO_IP, IP_RECVERR, &on, sizeof(on)) == -1)
		return FTP_ERR_SYSTEM;
	/* A v6 socket may carry v4-mapped traffic too, so both are set. */
	if (family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &on, sizeof(on)) == -1)
		return FTP_ERR_SYSTEM;
	return 0;
}

static void
errq_take(const struct sock_extended_err *ee, int family,
    struct errq_icmp *out)
{
	const struct sockaddr *off = SO_EE_OFFENDER(ee);

	memset(out, 0, sizeof(*out));
	out->present = 1;
	out->family = family;
	out->type = ee->ee_type;
	out->code = ee->ee_code;
	out->err = (int)ee->ee_errno;
	if (off->sa_family == AF_INET)
		memcpy(&out->from, off, sizeof(struct sockaddr_in));
	else if (off->sa_family == AF_INET6)
		memcpy(&out->from, off, sizeof(struct sockaddr_in6));
}

static void
errq_scan(struct msghdr *msg, struct errq_icmp *out)
{
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR(msg, c)) {
		const struct sock_extended_err *ee;
		int v4 = c->cmsg_level == IPPROTO_IP &&
		    c->cmsg_type == IP_RECVERR;
		int v6 = c->cmsg_level == IPPROTO_IPV6 &&
		    c->cmsg_type == IPV6_RECVERR;

		if (!v4 && !v6)
			continue;
		ee = (const struct sock_extended_err *)(void *)CMSG_DATA(c);
		if (ee->ee_origin == SO_EE_ORIGIN_ICMP)
			errq_take(ee, AF_INET, out);
		else if (ee->ee_origin == SO_EE_ORIGIN_ICMP6)
			errq_take(ee, AF_INET6, out);
	}
}

int
errq_read(int fd, struct errq_icmp *out)
{
	struct errq_icmp found = { 0 };
	int i;

	/* Bounded: a socket queues at most a handful of errors. */
	for (i = 0; i < 16; i++) {
		char ctrl[512], data[64];
		struct sockaddr_storage name;
		struct iovec iov = { data, sizeof(data) };
		struct msghdr msg = { 0 };

		msg.msg_name = &name;
		msg.msg_namelen = sizeof(name);
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = ctrl;
		msg.msg_controllen = sizeof(ctrl);
		if (recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return FTP_ERR_SYSTEM;
		}
		errq_scan(&msg, &found);
	}
	*out = found;
	return 0;
}

int
errq_is_admin_prohibited(const struct errq_icmp *e)
{
	if (!e->present)
		return 0;
	if (e->family == AF_INET)
		return e->type == ICMP_DEST_UNREACH &&
		    (e->code == ICMP_PKT_FILTERED ||
		    e->code == ICMP_NET_ANO || e->code == ICMP_HOST_ANO ||
		    e->code == ICMP_PREC_CUTOFF);
	return e->type == ICMP6_DST_UNREACH &&
	    (e->code == ICMP6_DST_UNREACH_ADMIN || e->code == 5 /* policy */ ||
	    e->code == 6 /* reject route */);
}

int
errq_is_net_or_host_unreachable(const struct errq_icmp *e)
{
	if (!e->present)
		return 0;
	if (e->family == AF_INET)
		return e->type == ICMP_DEST_UNREACH &&
		    (e->code == ICMP_NET_UNREACH ||
		    e->code == ICMP_HOST_UNREACH ||
		    e->code == ICMP_NET_UNKNOWN ||
		    e->code == ICMP_HOST_UNKNOWN ||
		    e->code == ICMP_NET_UNR_TOS ||
		    e->code == ICMP_HOST_UNR_TOS);
	return e->type == ICMP6_DST_UNREACH &&
	    (e->code == ICMP6_DST_UNREACH_NOROUTE ||
	    e->code == ICMP6_DST_UNREACH_ADDR ||
	    e->code == ICMP6_DST_UNREACH_BEYONDSCOPE);
}

static const char *
errq_v4_name(uint8_t type, uint8_t code)
{
	static const char *const unreach[] = {
		"net-unreachable", "host-unreachable", "protocol-unreachable",
		"port-unreachable", "frag-needed", "source-route-failed",
		"net-unknown", "host-unknown", "host-isolated",
		"net-prohibited", "host-prohibited", "net-unreachable-tos",
		"host-unreachable-tos", "admin-prohibited",
		"host-precedence-violation", "precedence-cutoff",
	};

	if (type == ICMP_DEST_UNREACH && code < sizeof(unreach) /
	    sizeof(unreach[0]))
		return unreach[code];
	if (type == ICMP_TIME_EXCEEDED)
		return "time-exceeded";
	return "icmp";
}

static const char *
errq_v6_name(uint8_t type, uint8_t code)
{
	static const char *const unreach[] = {
		"no-route", "admin-prohibited", "beyond-scope",
		"addr-unreachable", "port-unreachable", "policy-fail",
		"reject-route",
	};

	if (type == ICMP6_DST_UNREACH && code < sizeof(unreach) /
	    sizeof(unreach[0]))
		return unreach[code];
	if (type == ICMP6_TIME_EXCEEDED)
		return "time-exceeded";
	return "icmpv6";
}

const char *
errq_describe(const struct errq_icmp *e, char *buf, size_t len)
{
	if (!e->present) {
		snprintf(buf, len, "no ICMP");
		return buf;
	}
	if (e->family == AF_INET)
		snprintf(buf, len, "ICMP %s (%u/%u)",
		    errq_v4_name(e->type, e->code), e->type, e->code);
	else
		snprintf(buf, len, "ICMPv6 %s (%u/%u)",
		    errq_v6_name(e->type, e->code), e->type, e->code);
	return buf;
}
