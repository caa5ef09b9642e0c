/*
 * fw_trace.c - nftables trace listener and decoder (see fw_trace.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <endian.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include "err.h"
#include "fw_trace.h"

/* Datagrams handled per fw_trace_read() call before yielding to the loop. */
#define FW_TRACE_BURST		64
/* A trace storm (a whole passive range probed at once) must not overflow
 * the socket: ask for a big buffer, forced if we may. */
#define FW_TRACE_RCVBUF		(4 * 1024 * 1024)

struct fw_trace_listener {
	struct mnl_socket	*nl;
	char			*buf;
	size_t			 buflen;
};

const char *
fw_verdict_name(enum fw_verdict v)
{
	switch (v) {
	case FW_V_ACCEPT:	return "accept";
	case FW_V_DROP:		return "drop";
	case FW_V_STOLEN:	return "stolen";
	case FW_V_QUEUE:	return "queue";
	case FW_V_REPEAT:	return "repeat";
	case FW_V_STOP:		return "stop";
	case FW_V_CONTINUE:	return "continue";
	case FW_V_BREAK:	return "break";
	case FW_V_JUMP:		return "jump";
	case FW_V_GOTO:		return "goto";
	case FW_V_RETURN:	return "return";
	case FW_V_UNKNOWN:	break;
	}
	return "unknown";
}

const char *
fw_trace_type_name(enum fw_trace_type t)
{
	switch (t) {
	case FW_TRACE_RULE:	return "rule";
	case FW_TRACE_RETURN:	return "return";
	case FW_TRACE_POLICY:	return "policy";
	case FW_TRACE_UNKNOWN:	break;
	}
	return "unknown";
}

const char *
fw_family_name(int nfproto)
{
	switch (nfproto) {
	case NFPROTO_IPV4:	return "ip";
	case NFPROTO_IPV6:	return "ip6";
	case NFPROTO_INET:	return "inet";
	case NFPROTO_ARP:	return "arp";
	case NFPROTO_BRIDGE:	return "bridge";
	case NFPROTO_NETDEV:	return "netdev";
	default:		return NULL;
	}
}

/* Kernel verdict code -> ours.  Non-negative codes are netfilter
 * verdicts whose upper bits may carry a queue number. */
static enum fw_verdict
fw_verdict_map(uint32_t code)
{
	switch ((int32_t)code) {
	case NFT_CONTINUE:	return FW_V_CONTINUE;
	case NFT_BREAK:		return FW_V_BREAK;
	case NFT_JUMP:		return FW_V_JUMP;
	case NFT_GOTO:		return FW_V_GOTO;
	case NFT_RETURN:	return FW_V_RETURN;
	default:		break;
	}
	if ((int32_t)code < 0)
		return FW_V_UNKNOWN;
	switch (code & NF_VERDICT_MASK) {
	case NF_DROP:		return FW_V_DROP;
	case NF_ACCEPT:		return FW_V_ACCEPT;
	case NF_STOLEN:		return FW_V_STOLEN;
	case NF_QUEUE:		return FW_V_QUEUE;
	case NF_REPEAT:		return FW_V_REPEAT;
	case NF_STOP:		return FW_V_STOP;
	default:		return FW_V_UNKNOWN;
	}
}

static enum fw_trace_type
fw_type_map(uint32_t t)
{
	switch (t) {
	case NFT_TRACETYPE_RULE:	return FW_TRACE_RULE;
	case NFT_TRACETYPE_RETURN:	return FW_TRACE_RETURN;
	case NFT_TRACETYPE_POLICY:	return FW_TRACE_POLICY;
	default:			return FW_TRACE_UNKNOWN;
	}
}

/* Skip IPv6 extension headers that lie inside the network header the
 * kernel copied (it copies up to the transport header).  Returns the
 * upper-layer protocol, or -1 if the chain runs past the bytes we have. */
static int
fw_ip6_l4proto(const uint8_t *p, size_t len)
{
	size_t off = 40;
	uint8_t nh = p[6];

	for (;;) {
		switch (nh) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if (off + 2 > len)
				return -1;
			nh = p[off];
			off += ((size_t)p[off + 1] + 1) * 8;
			break;
		case IPPROTO_FRAGMENT:
			if (off + 8 > len)
				return -1;
			nh = p[off];
			off += 8;
			break;
		default:
			return nh;
		}
	}
}

static int
fw_l4_has_ports(uint8_t proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP ||
	    proto == IPPROTO_UDPLITE || proto == IPPROTO_SCTP ||
	    proto == IPPROTO_DCCP;
}

int
fw_trace_parse_tuple(const void *nh, size_t nhlen, const void *th,
    size_t thlen, struct fw_trace_event *ev)
{
	struct sockaddr_storage src = { 0 }, dst = { 0 };
	struct sockaddr_in *s4 = (struct sockaddr_in *)&src;
	struct sockaddr_in *d4 = (struct sockaddr_in *)&dst;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&src;
	struct sockaddr_in6 *d6 = (struct sockaddr_in6 *)&dst;
	const uint8_t *p = nh, *t = th;
	uint16_t sport = 0, dport = 0;
	int proto;

	if (p == NULL || nhlen < 1)
		return FTP_ERR_INVAL;
	if ((p[0] >> 4) == 4 && nhlen >= 20) {
		proto = p[9];
		s4->sin_family = d4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, p + 12, 4);
		memcpy(&d4->sin_addr, p + 16, 4);
	} else if ((p[0] >> 4) == 6 && nhlen >= 40) {
		if ((proto = fw_ip6_l4proto(p, nhlen)) < 0)
			return FTP_ERR_INVAL;
		s6->sin6_family = d6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, p + 8, 16);
		memcpy(&d6->sin6_addr, p + 24, 16);
	} else
		return FTP_ERR_INVAL;
	if (fw_l4_has_ports((uint8_t)proto) && t != NULL && thlen >= 4) {
		memcpy(&sport, t, 2);
		memcpy(&dport, t + 2, 2);
	}
	/* Ports stay in network order, as in any sockaddr. */
	if (src.ss_family == AF_INET) {
		s4->sin_port = sport;
		d4->sin_port = dport;
	} else {
		s6->sin6_port = sport;
		d6->sin6_port = dport;
	}
	ev->src = src;
	ev->dst = dst;
	ev->l4proto = (uint8_t)proto;
	ev->has_tuple = 1;
	return 0;
}

/*
 * The decoder.  Trace messages are multicast, so anything that reaches
 * the socket is input we did not ask for: every attribute is checked
 * with libmnl's validation before its payload is read, and we read only
 * the attributes ftpath uses.  libnftnl's nftnl_trace_nlmsg_parse() is
 * not used: 1.2.4 calls exit(1) on a message without NFTA_TRACE_ID,
 * reads an uninitialised table for an empty verdict nest and strdup()s
 * an unterminated TABLE past the end of the message.
 */

/* Validation type of each trace attribute we read; MNL_TYPE_UNSPEC for
 * those we skip (headers are binary, bounded by fw_trace_parse_tuple). */
static const enum mnl_attr_data_type fw_trace_policy[NFTA_TRACE_MAX + 1] = {
	[NFTA_TRACE_TABLE]		= MNL_TYPE_NUL_STRING,
	[NFTA_TRACE_CHAIN]		= MNL_TYPE_NUL_STRING,
	[NFTA_TRACE_RULE_HANDLE]	= MNL_TYPE_U64,
	[NFTA_TRACE_TYPE]		= MNL_TYPE_U32,
	[NFTA_TRACE_VERDICT]		= MNL_TYPE_NESTED,
	[NFTA_TRACE_ID]			= MNL_TYPE_U32,
	[NFTA_TRACE_NETWORK_HEADER]	= MNL_TYPE_BINARY,
	[NFTA_TRACE_TRANSPORT_HEADER]	= MNL_TYPE_BINARY,
	[NFTA_TRACE_IIF]		= MNL_TYPE_U32,
	[NFTA_TRACE_OIF]		= MNL_TYPE_U32,
	[NFTA_TRACE_MARK]		= MNL_TYPE_U32,
	[NFTA_TRACE_NFPROTO]		= MNL_TYPE_U32,
	[NFTA_TRACE_POLICY]		= MNL_TYPE_U32,
};

static const enum mnl_attr_data_type fw_verdict_policy[NFTA_VERDICT_MAX + 1] = {
	[NFTA_VERDICT_CODE]		= MNL_TYPE_U32,
	[NFTA_VERDICT_CHAIN]		= MNL_TYPE_NUL_STRING,
};

/* What mnl_attr_parse() collects: the table, the policy it checks
 * against, and how far the attributes seen reach (mnl_attr_parse stops
 * quietly at a malformed attribute; we want to know). */
struct fw_attr_tab {
	const struct nlattr		**tb;
	const enum mnl_attr_data_type	 *policy;
	uint16_t			  max;
	const char			 *end;
};

static int
fw_attr_cb(const struct nlattr *a, void *data)
{
	struct fw_attr_tab *t = data;
	uint16_t type = mnl_attr_get_type(a);

	t->end = (const char *)a + MNL_ALIGN(a->nla_len);
	/* Attributes of a newer kernel, or ones we do not read: skip. */
	if (type > t->max || t->policy[type] == MNL_TYPE_UNSPEC)
		return MNL_CB_OK;
	/* The kernel sends each attribute once; a repeat is forged. */
	if (t->tb[type] != NULL)
		return MNL_CB_ERROR;
	if (mnl_attr_validate(a, t->policy[type]) < 0)
		return MNL_CB_ERROR;
	/* Names are copied into fixed buffers: longer is not the kernel's
	 * (NFT_NAME_MAXLEN counts the NUL). */
	if (t->policy[type] == MNL_TYPE_NUL_STRING &&
	    mnl_attr_get_payload_len(a) > FW_TRACE_NAME_MAX)
		return MNL_CB_ERROR;
	t->tb[type] = a;
	return MNL_CB_OK;
}

/* After mnl_attr_parse*(): FTP_ERR_PROTO unless it ran to the end and
 * the attributes seen cover every byte up to end (t->end starts at the
 * first attribute). */
static int
fw_attr_done(const struct fw_attr_tab *t, const void *end, int r)
{
	return r < 0 || t->end != (const char *)end ? FTP_ERR_PROTO : 0;
}

static int
fw_trace_verdict(const struct nlattr *nest, struct fw_trace_event *ev)
{
	const struct nlattr *tb[NFTA_VERDICT_MAX + 1] = { NULL };
	const char *p = mnl_attr_get_payload(nest);
	struct fw_attr_tab t = { tb, fw_verdict_policy, NFTA_VERDICT_MAX, p };
	int r;

	r = mnl_attr_parse_nested(nest, fw_attr_cb, &t);
	if (fw_attr_done(&t, p + mnl_attr_get_payload_len(nest), r) != 0)
		return FTP_ERR_PROTO;
	/* A verdict without its code is not one (libnftnl read garbage). */
	if (tb[NFTA_VERDICT_CODE] == NULL)
		return FTP_ERR_PROTO;
	ev->verdict = fw_verdict_map(ntohl(mnl_attr_get_u32(
	    tb[NFTA_VERDICT_CODE])));
	if (tb[NFTA_VERDICT_CHAIN] != NULL)
		(void)snprintf(ev->jump_target, sizeof(ev->jump_target), "%s",
		    mnl_attr_get_str(tb[NFTA_VERDICT_CHAIN]));
	return 0;
}

static uint32_t
fw_attr_u32(const struct nlattr *a)
{
	return a != NULL ? ntohl(mnl_attr_get_u32(a)) : 0;
}

static void
fw_attr_str(char *dst, size_t len, const struct nlattr *a)
{
	(void)snprintf(dst, len, "%s", a != NULL ? mnl_attr_get_str(a) : "");
}

/* Fill ev from validated attributes. */
static int
fw_trace_fill(const struct nlattr **tb, struct fw_trace_event *ev)
{
	const struct nlattr *nh = tb[NFTA_TRACE_NETWORK_HEADER];
	const struct nlattr *th = tb[NFTA_TRACE_TRANSPORT_HEADER];

	/* Without its id an event cannot be tied to its packet; the kernel
	 * always sends id and type. */
	if (tb[NFTA_TRACE_ID] == NULL || tb[NFTA_TRACE_TYPE] == NULL)
		return FTP_ERR_PROTO;
	ev->id = fw_attr_u32(tb[NFTA_TRACE_ID]);
	ev->nfproto = (int)fw_attr_u32(tb[NFTA_TRACE_NFPROTO]);
	ev->type = fw_type_map(fw_attr_u32(tb[NFTA_TRACE_TYPE]));
	fw_attr_str(ev->table, sizeof(ev->table), tb[NFTA_TRACE_TABLE]);
	fw_attr_str(ev->chain, sizeof(ev->chain), tb[NFTA_TRACE_CHAIN]);
	if (tb[NFTA_TRACE_RULE_HANDLE] != NULL) {
		ev->has_handle = 1;
		ev->handle = be64toh(mnl_attr_get_u64(
		    tb[NFTA_TRACE_RULE_HANDLE]));
	}
	/* A policy event carries the chain policy instead of a verdict. */
	if (tb[NFTA_TRACE_VERDICT] != NULL) {
		if (fw_trace_verdict(tb[NFTA_TRACE_VERDICT], ev) != 0)
			return FTP_ERR_PROTO;
	} else if (tb[NFTA_TRACE_POLICY] != NULL)
		ev->verdict = fw_verdict_map(fw_attr_u32(
		    tb[NFTA_TRACE_POLICY]));
	ev->iif = fw_attr_u32(tb[NFTA_TRACE_IIF]);
	ev->oif = fw_attr_u32(tb[NFTA_TRACE_OIF]);
	ev->mark = fw_attr_u32(tb[NFTA_TRACE_MARK]);
	/* A header we cannot read is not an error: the verdict still is
	 * evidence, just without a tuple. */
	if (nh != NULL)
		(void)fw_trace_parse_tuple(mnl_attr_get_payload(nh),
		    mnl_attr_get_payload_len(nh),
		    th != NULL ? mnl_attr_get_payload(th) : NULL,
		    th != NULL ? mnl_attr_get_payload_len(th) : 0, ev);
	return 0;
}

/* The netlink and nfnetlink headers: a whole, aligned message of the
 * trace type within len bytes. */
static int
fw_trace_header(const struct nlmsghdr *nlh, size_t len)
{
	const struct nfgenmsg *g;

	if (len < MNL_NLMSG_HDRLEN || nlh->nlmsg_len < MNL_NLMSG_HDRLEN ||
	    nlh->nlmsg_len > len)
		return FTP_ERR_PROTO;
	if (nlh->nlmsg_type != ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_TRACE))
		return FTP_ERR_INVAL;
	/* Unaligned, the attribute walk would read past the message. */
	if (MNL_ALIGN(nlh->nlmsg_len) != nlh->nlmsg_len ||
	    mnl_nlmsg_get_payload_len(nlh) < MNL_ALIGN(sizeof(*g)))
		return FTP_ERR_PROTO;
	g = mnl_nlmsg_get_payload(nlh);
	if (g->version != NFNETLINK_V0)
		return FTP_ERR_PROTO;
	return 0;
}

int
fw_trace_decode(const struct nlmsghdr *nlh, size_t len,
    struct fw_trace_event *ev)
{
	const struct nlattr *tb[NFTA_TRACE_MAX + 1] = { NULL };
	struct fw_attr_tab t = { tb, fw_trace_policy, NFTA_TRACE_MAX, NULL };
	const size_t off = MNL_ALIGN(sizeof(struct nfgenmsg));
	struct fw_trace_event e;
	int r;

	if ((r = fw_trace_header(nlh, len)) != 0)
		return r;
	t.end = (const char *)mnl_nlmsg_get_payload(nlh) + off;
	r = mnl_attr_parse(nlh, (unsigned int)off, fw_attr_cb, &t);
	if (fw_attr_done(&t, mnl_nlmsg_get_payload_tail(nlh), r) != 0)
		return FTP_ERR_PROTO;
	memset(&e, 0, sizeof(e));
	e.family = ((const struct nfgenmsg *)mnl_nlmsg_get_payload(nlh))
	    ->nfgen_family;
	if (fw_trace_fill(tb, &e) != 0)
		return FTP_ERR_PROTO;
	*ev = e;
	return 0;
}

/* ---- listener ---- */

/* A listener with its read buffer and no socket yet; errno ENOMEM. */
static struct fw_trace_listener *
fw_trace_listener_alloc(void)
{
	struct fw_trace_listener *l;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->buflen = MNL_SOCKET_BUFFER_SIZE;
	if ((l->buf = malloc(l->buflen)) == NULL) {
		free(l);
		errno = ENOMEM;
		return NULL;
	}
	return l;
}

struct fw_trace_listener *
fw_trace_listener_new(void)
{
	struct fw_trace_listener *l;
	int grp = NFNLGRP_NFTRACE, sz = FW_TRACE_RCVBUF, saved;
	int fd;

	if ((l = fw_trace_listener_alloc()) == NULL)
		return NULL;
	if ((l->nl = mnl_socket_open2(NETLINK_NETFILTER,
	    SOCK_NONBLOCK | SOCK_CLOEXEC)) == NULL ||
	    mnl_socket_bind(l->nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_setsockopt(l->nl, NETLINK_ADD_MEMBERSHIP, &grp,
	    sizeof(grp)) < 0)
		goto fail;
	fd = mnl_socket_get_fd(l->nl);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	return l;
fail:
	saved = errno;
	fw_trace_listener_free(l);
	errno = saved;
	return NULL;
}

struct fw_trace_listener *
fw_trace_listener_from_fd(int fd)
{
	struct fw_trace_listener *l;
	int saved;

	if ((l = fw_trace_listener_alloc()) == NULL)
		return NULL;
	if ((l->nl = mnl_socket_fdopen(fd)) == NULL) {
		saved = errno;
		free(l->buf);
		free(l);
		errno = saved;
		return NULL;
	}
	return l;
}

int
fw_trace_listener_set_rcvbuf(struct fw_trace_listener *l, int bytes)
{
	int fd = mnl_socket_get_fd(l->nl);

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes,
	    sizeof(bytes)) == 0)
		return 0;
	return setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes)) ==
	    0 ? 0 : FTP_ERR_SYSTEM;
}

void
fw_trace_listener_free(struct fw_trace_listener *l)
{
	if (l == NULL)
		return;
	if (l->nl != NULL)
		mnl_socket_close(l->nl);
	free(l->buf);
	free(l);
}

int
fw_trace_fd(const struct fw_trace_listener *l)
{
	return mnl_socket_get_fd(l->nl);
}

/*
 * One datagram.  0 and *n set (-1: nothing pending), or FTP_ERR_SYSTEM.
 * Only the kernel may speak: a multicast group of NETLINK_NETFILTER can
 * be joined (and sent to) by any process with CAP_NET_ADMIN in the
 * namespace, so a sender with a port id is dropped unread, and so is a
 * datagram cut short (its length would be a lie).
 */
static int
fw_trace_recv(struct fw_trace_listener *l, ssize_t *n)
{
	struct sockaddr_nl from;
	struct iovec iov = { l->buf, l->buflen };
	struct msghdr mh = { 0 };

	mh.msg_name = &from;
	mh.msg_namelen = sizeof(from);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	memset(&from, 0, sizeof(from));
	*n = recvmsg(mnl_socket_get_fd(l->nl), &mh, 0);
	if (*n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		return FTP_ERR_SYSTEM;
	}
	if (mh.msg_namelen != sizeof(from) || from.nl_family != AF_NETLINK ||
	    from.nl_pid != 0 || (mh.msg_flags & MSG_TRUNC) != 0)
		*n = 0;		/* read and ignored */
	return 0;
}

/* Every whole message of a datagram; what is not a valid trace event
 * (other nftables notifications, malformed ones) is skipped rather than
 * lose the rest.  Returns the number of events delivered. */
static int
fw_trace_dispatch(const char *buf, size_t len, fw_trace_cb cb, void *arg)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	int left = (int)len, delivered = 0;
	struct fw_trace_event ev;

	while (mnl_nlmsg_ok(nlh, left)) {
		if (fw_trace_decode(nlh, (size_t)left, &ev) == 0) {
			cb(&ev, arg);
			delivered++;
		}
		nlh = mnl_nlmsg_next(nlh, &left);
	}
	return delivered;
}

int
fw_trace_read(struct fw_trace_listener *l, fw_trace_cb cb, void *arg)
{
	ssize_t n;
	int i, delivered = 0;

	for (i = 0; i < FW_TRACE_BURST; i++) {
		if (fw_trace_recv(l, &n) != 0) {
			if (errno == EINTR)
				continue;
			return FTP_ERR_SYSTEM;	/* ENOBUFS: events lost */
		}
		if (n < 0)
			break;
		delivered += fw_trace_dispatch(l->buf, (size_t)n, cb, arg);
	}
	return delivered;
}
