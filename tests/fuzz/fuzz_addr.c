/*
 * fuzz_addr.c - libFuzzer target for address and port parsing
 * (common/addr.c): host:port splitting, numeric addresses, port ranges
 * and port sets; a parsed set is formatted and parsed again to the same
 * count.  The first byte picks the parser, the rest is the text.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_portset(const char *s)
{
	struct portset *a = portset_new(), *b = portset_new();
	/* Worst case: every other port, "65535," each. */
	static char buf[65536 / 2 * 7 + 1];

	if (a == NULL || b == NULL)
		goto out;
	if (portset_parse(a, s) != 0)
		goto out;
	if (portset_count(a) == 0)
		goto out;
	if (portset_format(a, buf, sizeof(buf)) != 0 ||
	    portset_parse(b, buf) != 0 ||
	    portset_count(a) != portset_count(b))
		__builtin_trap();
out:
	portset_free(a);
	portset_free(b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char host[ADDR_STRLEN], text[ADDR_STRLEN];
	struct sockaddr_storage ss;
	struct portrange pr;
	socklen_t sl;
	uint16_t port;
	char *s;

	if (size < 1 || (s = malloc(size)) == NULL)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] % 4) {
	case 0:
		if (addr_split_hostport(s, 21, host, sizeof(host),
		    &port) == 0 && addr_parse_ip(host, &ss, &sl) == 0)
			(void)addr_text((struct sockaddr *)&ss, 1, text,
			    sizeof(text));
		break;
	case 1:
		if (addr_parse_ip(s, &ss, &sl) == 0)
			(void)addr_ntop_port((struct sockaddr *)&ss, text,
			    sizeof(text));
		break;
	case 2:
		if (portrange_parse(s, &pr) == 0 &&
		    (pr.lo == 0 || pr.lo > pr.hi))
			__builtin_trap();
		break;
	default:
		fuzz_portset(s);
		break;
	}
	free(s);
	return 0;
}
