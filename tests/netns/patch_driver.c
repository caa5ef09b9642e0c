/*
 * patch_driver.c - nft/patch against the real kernel, for patch_test.sh.
 *
 *   patch_driver --host server|client --family F --table T --chain C
 *       (--handle N | --policy) [--hook H] [--verdict drop|reject]
 *       --path control|passive|active --peer ADDR [--scope CIDR]
 *       [--ports LIST] [--style auto|helper|ports] [--tls] [--stateful]
 *       [--control-port P] [--cause TEXT] [--out FILE]
 *
 * Writes the script of that one hole to stdout (and FILE), then checks it
 * with patch_verify() against the ruleset of the namespace it runs in.
 * Exit 0: verified; 1: the kernel (or nft) rejected it, its message on
 * stderr; 2: usage or patch_write() failed; 3: it could not be checked
 * (no CAP_NET_ADMIN: FTP_ERR_DENIED).  LIST is "21,30000-30099".
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "err.h"
#include "patch.h"

#define DRV_PORTS_MAX	64

static struct portrange drv_ports[DRV_PORTS_MAX];

static int
drv_ports_parse(const char *list, size_t *n)
{
	char buf[1024], *save = NULL, *tok;

	if (strlen(list) >= sizeof(buf))
		return -1;
	strcpy(buf, list);
	*n = 0;
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (*n >= DRV_PORTS_MAX || portrange_parse(tok, &drv_ports[*n]))
			return -1;
		(*n)++;
	}
	return 0;
}

/* "ADDR/LEN": the peer scope override. */
static int
drv_scope(const char *s, struct patch_hole *h)
{
	char buf[128], *slash, *end;
	socklen_t len;
	long l;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	if ((slash = strchr(buf, '/')) == NULL)
		return -1;
	*slash = '\0';
	l = strtol(slash + 1, &end, 10);
	if (*end != '\0' || l < 1 || l > 128)
		return -1;
	h->prefix = (unsigned)l;
	return addr_parse_ip(buf, &h->peer, &len) == 0 ? 0 : -1;
}

static int
drv_enum(const char *s, const char *const *names, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

static const char *const drv_hosts[] = { "server", "client" };
static const char *const drv_paths[] = { "control", "passive", "active" };
static const char *const drv_styles[] = { "auto", "helper", "ports" };
static const char *const drv_verdicts[] = { "drop", "reject" };

static const struct option drv_opts[] = {
	{ "host", required_argument, NULL, 'H' },
	{ "family", required_argument, NULL, 'f' },
	{ "table", required_argument, NULL, 't' },
	{ "chain", required_argument, NULL, 'c' },
	{ "handle", required_argument, NULL, 'n' },
	{ "policy", no_argument, NULL, 'P' },
	{ "hook", required_argument, NULL, 'k' },
	{ "verdict", required_argument, NULL, 'v' },
	{ "path", required_argument, NULL, 'p' },
	{ "peer", required_argument, NULL, 'a' },
	{ "scope", required_argument, NULL, 's' },
	{ "ports", required_argument, NULL, 'r' },
	{ "style", required_argument, NULL, 'y' },
	{ "tls", no_argument, NULL, 'T' },
	{ "stateful", no_argument, NULL, 'S' },
	{ "control-port", required_argument, NULL, 'C' },
	{ "cause", required_argument, NULL, 'x' },
	{ "out", required_argument, NULL, 'o' },
	{ NULL, 0, NULL, 0 },
};

/* One option into the hole; -1 on a bad value. */
static int
drv_opt(int c, const char *arg, struct patch_hole *h, const char **out)
{
	socklen_t len;
	int e = 0;

	switch (c) {
	case 'H': e = drv_enum(arg, drv_hosts, 2); h->host = e; break;
	case 'f': h->family = arg; break;
	case 't': h->table = arg; break;
	case 'c': h->chain = arg; break;
	case 'n': h->has_handle = 1; h->handle = strtoull(arg, NULL, 10); break;
	case 'P': h->has_handle = 0; break;
	case 'k': h->hook = arg; break;
	case 'v': e = drv_enum(arg, drv_verdicts, 2); h->verdict = e; break;
	case 'p': e = drv_enum(arg, drv_paths, 3); h->path = e; break;
	case 'a': e = addr_parse_ip(arg, &h->peer, &len) == 0 ? 0 : -1; break;
	case 's': e = drv_scope(arg, h); break;
	case 'r': e = drv_ports_parse(arg, &h->nports); h->ports = drv_ports;
		break;
	case 'y': e = drv_enum(arg, drv_styles, 3); h->style = e; break;
	case 'T': h->tls_offered = 1; break;
	case 'S': h->stateful = 1; break;
	case 'C': h->control_port = (uint16_t)atoi(arg); break;
	case 'x': h->cause = arg; break;
	case 'o': *out = arg; break;
	default: e = -1; break;
	}
	return e < 0 ? -1 : 0;
}

int
main(int argc, char **argv)
{
	struct patch_hole h;
	const char *outf = NULL;
	char *text = NULL, err[4096];
	FILE *f;
	int c, r;

	memset(&h, 0, sizeof(h));
	while ((c = getopt_long(argc, argv, "", drv_opts, NULL)) != -1)
		if (drv_opt(c, optarg, &h, &outf) != 0) {
			fprintf(stderr, "patch_driver: bad option\n");
			return 2;
		}
	if ((r = patch_write(&h, 1, h.host, &text)) != 0) {
		fprintf(stderr, "patch_write: %s\n", ftp_strerror(r));
		return 2;
	}
	fputs(text, stdout);
	if (outf != NULL && (f = fopen(outf, "w")) != NULL) {
		fputs(text, f);
		fclose(f);
	}
	r = patch_verify(text, err, sizeof(err));
	free(text);
	if (r != 0) {
		fprintf(stderr, "patch_verify: %s: %s\n", ftp_strerror(r), err);
		return r == FTP_ERR_DENIED ? 3 : 1;
	}
	fprintf(stderr, "patch_verify: ok\n");
	return 0;
}
