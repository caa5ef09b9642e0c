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
#include <stdio.h>
#include <string.h>

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

int
owners_scan(struct owners *o)
{
	int r;

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
