/*
 * owners.c - listening TCP ports from /proc/net/tcp{,6} (see owners.h).
 *
 * Read through /proc/self/net: the same tables (this network namespace),
 * and still visible where /proc is mounted with subset=pid (the systemd
 * unit's ProcSubset=pid).
 *
 * The kernel prints each address as the hex of its bytes in memory, the
 * port as plain hex: "0100007F:0015" is 127.0.0.1:21 on a little-endian
 * host.  Loopback is recognised byte-wise, so the host's byte order
 * never matters: 127/8 is the first byte of the address in memory.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>

#include "err.h"
#include "owners.h"

#define OWNERS_TCP_LISTEN	0x0A

/* Hex text of n bytes (2n digits) into b. */
static int
owners_hex_bytes(const char *s, uint8_t *b, size_t n)
{
	size_t i;
	unsigned v;

	for (i = 0; i < n; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return FTP_ERR_INVAL;
		b[i] = (uint8_t)v;
	}
	return 0;
}

/*
 * /proc prints each 32-bit word of the address with "%08X" of its value
 * as loaded on this host; undo that so b holds network order.
 */
static int
owners_addr(const char *s, uint8_t *b, size_t n)
{
	uint32_t w;
	size_t i;
	uint8_t raw[4];

	for (i = 0; i < n; i += 4) {
		if (owners_hex_bytes(s + 2 * i, raw, 4) != 0)
			return FTP_ERR_INVAL;
		w = (uint32_t)raw[0] << 24 | (uint32_t)raw[1] << 16 |
		    (uint32_t)raw[2] << 8 | raw[3];
		memcpy(b + i, &w, 4);
	}
	return 0;
}

static int
owners_is_loopback(const uint8_t *a, int ipv6)
{
	static const uint8_t lo6[16] = { [15] = 1 };
	/* ::ffff:127.x (a v4-mapped loopback) */
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (!ipv6)
		return a[0] == 127;
	return memcmp(a, lo6, 16) == 0 ||
	    (memcmp(a, mapped, 12) == 0 && a[12] == 127);
}

int
owners_parse_line(struct owners *o, const char *line, int ipv6)
{
	char addr[33], rem[64];
	unsigned port, st;
	uint8_t a[16];
	size_t alen = ipv6 ? 16 : 4;
	int n;

	if (strstr(line, "local_address") != NULL)
		return 0;
	n = ipv6 ?
	    sscanf(line, " %*u: %32[0-9A-Fa-f]:%4x %63s %2x", addr, &port,
	    rem, &st) :
	    sscanf(line, " %*u: %8[0-9A-Fa-f]:%4x %63s %2x", addr, &port,
	    rem, &st);
	if (n != 4 || strlen(addr) != alen * 2)
		return FTP_ERR_INVAL;
	if (owners_addr(addr, a, alen) != 0)
		return FTP_ERR_INVAL;
	if (st != OWNERS_TCP_LISTEN || port > 65535 ||
	    owners_is_loopback(a, ipv6))
		return 0;
	o->listening[port / 8] |= (uint8_t)(1u << (port % 8));
	return 1;
}

static int
owners_scan_file(struct owners *o, const char *path, int ipv6)
{
	char line[512];
	FILE *f;
	int r = 0, saved;

	if ((f = fopen(path, "re")) == NULL)
		return errno == ENOENT ? 0 : FTP_ERR_SYSTEM;
	/* A malformed line is skipped: the rest still says who listens. */
	while (fgets(line, sizeof(line), f) != NULL)
		(void)owners_parse_line(o, line, ipv6);
	/* A read error leaves the list short: no list rather than a
	 * wrong one. */
	if (ferror(f))
		r = FTP_ERR_SYSTEM;
	saved = errno;
	/* Read-only: closing cannot lose what was read. */
	(void)fclose(f);
	errno = saved;
	return r;
}

/* ---- sock_diag: the listening sockets only, filtered by the kernel ---- */

static int
owners_diag_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct owners *o = arg;
	const struct inet_diag_msg *m;
	uint8_t a[16];
	unsigned port;
	int ipv6;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*m)))
		return MNL_CB_ERROR;
	m = mnl_nlmsg_get_payload(nlh);
	if (m->idiag_state != OWNERS_TCP_LISTEN)
		return MNL_CB_OK;
	ipv6 = m->idiag_family == AF_INET6;
	memcpy(a, m->id.idiag_src, sizeof(a));
	port = ntohs(m->id.idiag_sport);
	if (!owners_is_loopback(a, ipv6))
		o->listening[port / 8] |= (uint8_t)(1u << (port % 8));
	return MNL_CB_OK;
}

static int
owners_diag_family(struct owners *o, struct mnl_socket *nl, int family,
    uint32_t seq)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct inet_diag_req_v2 *req;
	struct nlmsghdr *nlh;
	uint32_t portid = mnl_socket_get_portid(nl);
	ssize_t n;
	int r;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = (uint8_t)family;
	req->sdiag_protocol = IPPROTO_TCP;
	req->idiag_states = 1u << OWNERS_TCP_LISTEN;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return FTP_ERR_SYSTEM;
	for (;;) {
		if ((n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) <= 0)
			return FTP_ERR_SYSTEM;
		r = mnl_cb_run(buf, (size_t)n, seq, portid, owners_diag_cb, o);
		if (r == MNL_CB_STOP)
			return 0;
		if (r < 0)
			return FTP_ERR_SYSTEM;
	}
}

/*
 * Ask the kernel for the listening sockets only: reading /proc/net/tcp
 * walks every socket of the namespace, and a busy reflector has
 * thousands of probe connections in TIME_WAIT (a full scan per arming
 * was the largest cost with 30 sessions at once).
 */
static int
owners_scan_diag(struct owners *o)
{
	struct mnl_socket *nl;
	uint32_t seq = (uint32_t)time(NULL);
	int r, saved;

	if ((nl = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC)) == NULL)
		return FTP_ERR_SYSTEM;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = FTP_ERR_SYSTEM;
		goto out;
	}
	if ((r = owners_diag_family(o, nl, AF_INET, seq)) == 0)
		r = owners_diag_family(o, nl, AF_INET6, seq + 1);
out:
	saved = errno;
	mnl_socket_close(nl);
	errno = saved;
	return r;
}

int
owners_scan(struct owners *o)
{
	int r;

	memset(o, 0, sizeof(*o));
	if (owners_scan_diag(o) == 0)
		return 0;
	/* No sock_diag (a kernel without inet_diag): the text tables. */
	memset(o, 0, sizeof(*o));
	if ((r = owners_scan_file(o, "/proc/self/net/tcp", 0)) != 0)
		return r;
	return owners_scan_file(o, "/proc/self/net/tcp6", 1);
}

int
owners_listening(const struct owners *o, uint16_t port)
{
	return (o->listening[port / 8] >> (port % 8)) & 1;
}
