/*
 * fuzz_ftpcmd.c - libFuzzer target for FTP command and reply parsing:
 * PORT/EPRT arguments, the escaping of transcripts and line splitting
 * (common/ftpcmd.c), and the agent's reply reassembly and 227/229 parsers
 * (agent/ftpcheck.c).  The first byte picks the parser; the rest is its
 * input (NUL-terminated where the parser takes a string).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "err.h"
#include "ftpcheck.h"
#include "ftpcmd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* escape then unescape gives the bytes back (PROTOCOL.md: exact). */
static void
fuzz_escape(const uint8_t *p, size_t n)
{
	char *esc;
	uint8_t *back;
	size_t got = 0;

	esc = malloc(4 * n + 1);
	back = malloc(n + 1);
	if (esc == NULL || back == NULL)
		goto out;
	if (ftpcmd_escape(p, n, esc, 4 * n + 1) != 0 ||
	    ftpcmd_unescape(esc, back, n + 1, &got) != 0 || got != n ||
	    memcmp(p, back, n) != 0)
		__builtin_trap();
out:
	free(esc);
	free(back);
}

static void
fuzz_lines(const char *s, size_t n)
{
	struct ftpcheck_reply rep;
	const char *line;
	size_t off = 0, ll, used;
	int complete, guard = 0;

	while (ftpcmd_next_line(s, n, &off, &line, &ll, &complete) == 0) {
		if (off > n || ll > n || ++guard > (int)n + 1)
			__builtin_trap();
	}
	off = 0;
	while (off < n && ftpcheck_reply_parse(s + off, n - off, &used,
	    &rep) == 1) {
		if (used == 0 || used > n - off)
			__builtin_trap();
		off += used;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_storage ss;
	struct sockaddr_in sin;
	uint8_t out[512];
	uint16_t port;
	size_t n;
	char *s;

	if (size < 1 || (s = malloc(size)) == NULL)
		return 0;
	n = size - 1;
	memcpy(s, data + 1, n);
	s[n] = '\0';
	switch (data[0] % 6) {
	case 0:
		(void)ftpcmd_parse_port(s, &ss);
		break;
	case 1:
		(void)ftpcmd_parse_eprt(s, &ss);
		break;
	case 2:
		(void)ftpcmd_unescape(s, out, sizeof(out), &n);
		break;
	case 3:
		fuzz_escape(data + 1, size - 1);
		break;
	case 4:
		fuzz_lines(s, n);
		break;
	default:
		(void)ftpcheck_parse_227(s, &sin);
		(void)ftpcheck_parse_229(s, &port);
		break;
	}
	free(s);
	return 0;
}
