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

#include <libmnl/libmnl.h>
#include <libnftnl/trace.h>
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

static void
fw_copy_str(char *dst, size_t len, const struct nftnl_trace *t, uint16_t a)
{
	const char *s;

	dst[0] = '\0';
	if (nftnl_trace_is_set(t, a) && (s = nftnl_trace_get_str(t, a)) != NULL)
		(void)snprintf(dst, len, "%s", s);
}

static uint32_t
fw_trace_u32(const struct nftnl_trace *t, uint16_t a)
{
	return nftnl_trace_is_set(t, a) ? nftnl_trace_get_u32(t, a) : 0;
}

/* Fill ev from a parsed trace object. */
static void
fw_trace_fill(const struct nftnl_trace *t, struct fw_trace_event *ev)
{
	const void *nh, *th = NULL;
	uint32_t nhlen = 0, thlen = 0;

	ev->id = fw_trace_u32(t, NFTNL_TRACE_ID);
	ev->family = (int)fw_trace_u32(t, NFTNL_TRACE_FAMILY);
	ev->nfproto = (int)fw_trace_u32(t, NFTNL_TRACE_NFPROTO);
	ev->type = fw_type_map(fw_trace_u32(t, NFTNL_TRACE_TYPE));
	fw_copy_str(ev->table, sizeof(ev->table), t, NFTNL_TRACE_TABLE);
	fw_copy_str(ev->chain, sizeof(ev->chain), t, NFTNL_TRACE_CHAIN);
	fw_copy_str(ev->jump_target, sizeof(ev->jump_target), t,
	    NFTNL_TRACE_JUMP_TARGET);
	if (nftnl_trace_is_set(t, NFTNL_TRACE_RULE_HANDLE)) {
		ev->has_handle = 1;
		ev->handle = nftnl_trace_get_u64(t, NFTNL_TRACE_RULE_HANDLE);
	}
	/* A policy event carries the chain policy instead of a verdict. */
	if (nftnl_trace_is_set(t, NFTNL_TRACE_VERDICT))
		ev->verdict = fw_verdict_map(
		    nftnl_trace_get_u32(t, NFTNL_TRACE_VERDICT));
	else if (nftnl_trace_is_set(t, NFTNL_TRACE_POLICY))
		ev->verdict = fw_verdict_map(
		    nftnl_trace_get_u32(t, NFTNL_TRACE_POLICY));
	ev->iif = fw_trace_u32(t, NFTNL_TRACE_IIF);
	ev->oif = fw_trace_u32(t, NFTNL_TRACE_OIF);
	ev->mark = fw_trace_u32(t, NFTNL_TRACE_MARK);
	if (!nftnl_trace_is_set(t, NFTNL_TRACE_NETWORK_HEADER))
		return;
	nh = nftnl_trace_get_data(t, NFTNL_TRACE_NETWORK_HEADER, &nhlen);
	if (nftnl_trace_is_set(t, NFTNL_TRACE_TRANSPORT_HEADER))
		th = nftnl_trace_get_data(t, NFTNL_TRACE_TRANSPORT_HEADER,
		    &thlen);
	/* A header we cannot read is not an error: the verdict still is
	 * evidence, just without a tuple. */
	(void)fw_trace_parse_tuple(nh, nhlen, th, thlen, ev);
}

int
fw_trace_decode(const struct nlmsghdr *nlh, struct fw_trace_event *ev)
{
	struct nftnl_trace *t;
	int r;

	if (nlh->nlmsg_type != ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_TRACE))
		return FTP_ERR_INVAL;
	if ((t = nftnl_trace_alloc()) == NULL)
		return FTP_ERR_NOMEM;
	r = FTP_ERR_PROTO;
	if (nftnl_trace_nlmsg_parse(nlh, t) < 0)
		goto out;
	memset(ev, 0, sizeof(*ev));
	fw_trace_fill(t, ev);
	r = 0;
out:
	nftnl_trace_free(t);
	return r;
}

/* ---- listener ---- */

struct fw_trace_ctx {
	fw_trace_cb	 cb;
	void		*arg;
	int		 n;
};

static int
fw_trace_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct fw_trace_ctx *c = data;
	struct fw_trace_event ev;

	/* Other nftables notifications may share the socket: skip them, and
	 * skip a malformed event rather than lose the rest. */
	if (fw_trace_decode(nlh, &ev) == 0) {
		c->cb(&ev, c->arg);
		c->n++;
	}
	return MNL_CB_OK;
}

struct fw_trace_listener *
fw_trace_listener_new(void)
{
	struct fw_trace_listener *l;
	int grp = NFNLGRP_NFTRACE, sz = FW_TRACE_RCVBUF, saved;
	int fd;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->buflen = MNL_SOCKET_BUFFER_SIZE;
	if ((l->buf = malloc(l->buflen)) == NULL) {
		errno = ENOMEM;
		goto fail;
	}
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

int
fw_trace_read(struct fw_trace_listener *l, fw_trace_cb cb, void *arg)
{
	struct fw_trace_ctx c = { .cb = cb, .arg = arg };
	ssize_t n;
	int i;

	for (i = 0; i < FW_TRACE_BURST; i++) {
		n = mnl_socket_recvfrom(l->nl, l->buf, l->buflen);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR)
				continue;
			return FTP_ERR_SYSTEM;	/* ENOBUFS: events lost */
		}
		/* Multicast: no sequence number, sender port id 0. */
		if (mnl_cb_run(l->buf, (size_t)n, 0, 0, fw_trace_msg_cb,
		    &c) < 0 && errno != EINTR)
			return FTP_ERR_SYSTEM;
	}
	return c.n;
}
