/*
 * fuzz_trace.c - libFuzzer target for the nftables trace decoder
 * (nft/fw_trace.c), which reads multicast messages anyone with
 * CAP_NET_ADMIN in the namespace could have sent.
 *
 * First byte 0: the rest is the raw message, headers included.  Else the
 * rest is the body after a netlink header of the trace type (nfgenmsg and
 * attributes), so that mutations reach the attribute parser; the first
 * byte's low bit then cuts nlmsg_len by one (unaligned lengths).  The
 * message is copied to the heap at its exact size, so that any read past
 * its end is an ASan report.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include "err.h"
#include "fw_trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_check(const struct fw_trace_event *ev)
{
	/* Names are always terminated inside their buffers. */
	if (memchr(ev->table, '\0', sizeof(ev->table)) == NULL ||
	    memchr(ev->chain, '\0', sizeof(ev->chain)) == NULL ||
	    memchr(ev->jump_target, '\0', sizeof(ev->jump_target)) == NULL)
		__builtin_trap();
	(void)fw_verdict_name(ev->verdict);
	(void)fw_trace_type_name(ev->type);
	(void)fw_family_name(ev->family);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fw_trace_event ev;
	struct nlmsghdr *nlh;
	size_t len;
	uint8_t *buf;

	if (size < 1)
		return 0;
	len = data[0] == 0 ? size - 1 : NLMSG_HDRLEN + size - 1;
	if (len == 0 || (buf = malloc(len)) == NULL)
		return 0;
	if (data[0] == 0)
		memcpy(buf, data + 1, size - 1);
	else {
		memset(buf, 0, NLMSG_HDRLEN < len ? NLMSG_HDRLEN : len);
		memcpy(buf + NLMSG_HDRLEN, data + 1, size - 1);
		nlh = (struct nlmsghdr *)buf;
		nlh->nlmsg_len = (uint32_t)(len - (data[0] & 1));
		nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_TRACE;
	}
	if (len >= sizeof(*nlh) &&
	    fw_trace_decode((const struct nlmsghdr *)buf, len, &ev) == 0)
		fuzz_check(&ev);
	free(buf);
	return 0;
}
