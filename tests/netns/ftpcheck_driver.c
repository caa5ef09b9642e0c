/*
 * ftpcheck_driver.c - run agent/ftpcheck against one FTP server and print
 * the result as JSON, for tests/netns/ftpcheck_test.sh.
 *
 *   ftpcheck_driver [-u USER] [-p PASS] [-f PATH] [-m EPSV,PASV,EPRT,PORT]
 *                   [-t TIMEOUT_MS] [-T] [-n SERVER_NAME] ADDR [PORT]
 *
 * -T also tries AUTH TLS on a second control connection.  Exit 0 when the
 * check ran (whatever it found), 1 on a usage or set-up error.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "addr.h"
#include "err.h"
#include "errq.h"
#include "ftpcheck.h"

/* ftpcheck promises exactly one call; the JSON shows the count. */
static int driver_done_calls;

static void
driver_done_cb(void *arg)
{
	driver_done_calls++;
	event_base_loopbreak(arg);
}

static json_t *
driver_reply(const struct ftpcheck_reply *r)
{
	return json_pack("{s:i, s:s, s:b, s:b}", "code", r->code, "text",
	    r->text, "timed_out", r->timed_out, "truncated", r->truncated);
}

/* Address and port as separate members (empty when unset). */
static void
driver_addr(json_t *o, const char *key, const struct sockaddr_storage *ss)
{
	char buf[ADDR_STRLEN], k[64];

	if (ss->ss_family == AF_UNSPEC) {
		json_object_set_new(o, key, json_null());
		return;
	}
	json_object_set_new(o, key, json_string(addr_ntop_port(
	    (const struct sockaddr *)ss, buf, sizeof(buf))));
	snprintf(k, sizeof(k), "%s_addr", key);
	json_object_set_new(o, k, json_string(addr_ntop(
	    (const struct sockaddr *)ss, buf, sizeof(buf))));
	snprintf(k, sizeof(k), "%s_port", key);
	json_object_set_new(o, k, json_integer(addr_port(
	    (const struct sockaddr *)ss)));
}

static json_t *
driver_icmp(const struct errq_icmp *e)
{
	char buf[128];

	if (!e->present)
		return json_null();
	return json_string(errq_describe(e, buf, sizeof(buf)));
}

static json_t *
driver_mode(const struct ftpcheck_data *d)
{
	json_t *o = json_object();

	json_object_set_new(o, "attempted", json_boolean(d->attempted));
	json_object_set_new(o, "skipped", json_string(d->skipped));
	json_object_set_new(o, "cmd", json_string(d->cmd));
	json_object_set_new(o, "reply", driver_reply(&d->reply));
	json_object_set_new(o, "adv_ok", json_boolean(d->adv_ok));
	driver_addr(o, "adv", &d->adv);
	json_object_set_new(o, "adv_differs", json_boolean(d->adv_differs));
	json_object_set_new(o, "adv_private", json_boolean(d->adv_private));
	driver_addr(o, "listen", &d->listen);
	json_object_set_new(o, "connected", json_boolean(d->connected));
	driver_addr(o, "peer", &d->peer);
	json_object_set_new(o, "peer_is_server",
	    json_boolean(d->peer_is_server));
	json_object_set_new(o, "data_err", json_string(d->data_err ?
	    strerror(d->data_err) : ""));
	json_object_set_new(o, "data_timed_out",
	    json_boolean(d->data_timed_out));
	json_object_set_new(o, "icmp", driver_icmp(&d->icmp));
	json_object_set_new(o, "bytes", json_integer((json_int_t)d->bytes));
	json_object_set_new(o, "data_eof", json_boolean(d->data_eof));
	json_object_set_new(o, "xfer", driver_reply(&d->xfer));
	json_object_set_new(o, "done", driver_reply(&d->done));
	json_object_set_new(o, "tls_ok", json_boolean(d->tls_ok));
	json_object_set_new(o, "tls_resumed", json_boolean(d->tls_resumed));
	json_object_set_new(o, "tls_error", json_string(d->tls_error));
	json_object_set_new(o, "ok", json_boolean(d->ok));
	json_object_set_new(o, "elapsed_ms", json_integer(d->elapsed_ms));
	return o;
}

static json_t *
driver_ftps(const struct ftpcheck_ftps *f)
{
	json_t *o = json_object(), *modes = json_object();
	int m;

	json_object_set_new(o, "attempted", json_boolean(f->attempted));
	json_object_set_new(o, "user", driver_reply(&f->user));
	json_object_set_new(o, "pass", driver_reply(&f->pass));
	json_object_set_new(o, "logged_in", json_boolean(f->logged_in));
	json_object_set_new(o, "pbsz", driver_reply(&f->pbsz));
	json_object_set_new(o, "prot", driver_reply(&f->prot));
	json_object_set_new(o, "prot_ok", json_boolean(f->prot_ok));
	for (m = 0; m < FTPCHECK_NMODES; m++)
		json_object_set_new(modes, ftpcheck_mode_name(m),
		    driver_mode(&f->mode[m]));
	json_object_set_new(o, "modes", modes);
	json_object_set_new(o, "aborted", json_string(f->aborted));
	return o;
}

static json_t *
driver_tls(const struct ftpcheck_tls *t)
{
	json_t *o = json_object();

	json_object_set_new(o, "attempted", json_boolean(t->attempted));
	json_object_set_new(o, "reply", driver_reply(&t->reply));
	json_object_set_new(o, "handshake_ok", json_boolean(t->handshake_ok));
	json_object_set_new(o, "handshake_error",
	    json_string(t->handshake_error));
	json_object_set_new(o, "version", json_string(t->version));
	json_object_set_new(o, "cipher", json_string(t->cipher));
	json_object_set_new(o, "have_cert", json_boolean(t->have_cert));
	json_object_set_new(o, "subject", json_string(t->subject));
	json_object_set_new(o, "issuer", json_string(t->issuer));
	json_object_set_new(o, "sans", json_string(t->sans));
	json_object_set_new(o, "not_after", json_string(t->not_after));
	json_object_set_new(o, "self_signed", json_boolean(t->self_signed));
	json_object_set_new(o, "expired", json_boolean(t->expired));
	json_object_set_new(o, "not_yet_valid",
	    json_boolean(t->not_yet_valid));
	json_object_set_new(o, "name_match", json_boolean(t->name_match));
	json_object_set_new(o, "verify_code", json_integer(t->verify_code));
	json_object_set_new(o, "verify_error", json_string(t->verify_error));
	return o;
}

static json_t *
driver_json(const struct ftpcheck_result *r)
{
	json_t *o = json_object(), *modes = json_object(), *c = json_object();
	int m;

	json_object_set_new(c, "connected", json_boolean(r->control_connected));
	json_object_set_new(c, "err", json_string(r->control_err ?
	    strerror(r->control_err) : ""));
	json_object_set_new(c, "timed_out", json_boolean(r->control_timed_out));
	json_object_set_new(c, "icmp", driver_icmp(&r->control_icmp));
	driver_addr(c, "local", &r->control_local);
	driver_addr(c, "peer", &r->control_peer);
	json_object_set_new(o, "control", c);
	json_object_set_new(o, "banner", driver_reply(&r->banner));
	json_object_set_new(o, "user", driver_reply(&r->user));
	json_object_set_new(o, "pass", driver_reply(&r->pass));
	json_object_set_new(o, "logged_in", json_boolean(r->logged_in));
	for (m = 0; m < FTPCHECK_NMODES; m++)
		json_object_set_new(modes, ftpcheck_mode_name(m),
		    driver_mode(&r->mode[m]));
	json_object_set_new(o, "modes", modes);
	json_object_set_new(o, "tls", driver_tls(&r->tls));
	json_object_set_new(o, "ftps", driver_ftps(&r->ftps));
	json_object_set_new(o, "aborted", json_string(r->aborted));
	json_object_set_new(o, "elapsed_ms", json_integer(r->elapsed_ms));
	json_object_set_new(o, "done_calls", json_integer(driver_done_calls));
	return o;
}

static int
driver_modes(const char *s, unsigned *out)
{
	char *dup, *tok, *save = NULL;
	int m, found, r = -1;

	*out = 0;
	if ((dup = strdup(s)) == NULL)
		return -1;
	for (tok = strtok_r(dup, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		for (found = 0, m = 0; m < FTPCHECK_NMODES; m++) {
			if (strcasecmp(tok, ftpcheck_mode_name(m)) == 0) {
				*out |= FTPCHECK_MODE_BIT(m);
				found = 1;
			}
		}
		if (!found)
			goto out;
	}
	r = 0;
out:
	free(dup);
	return r;
}

static void
usage(void)
{
	fprintf(stderr, "usage: ftpcheck_driver [-u user] [-p pass] "
	    "[-f path] [-m modes] [-t ms] [-T] [-n name] addr [port]\n");
	exit(1);
}

int
main(int argc, char **argv)
{
	struct ftpcheck_opts o;
	struct sockaddr_storage ss;
	struct event_base *base;
	struct ftpcheck *fc;
	socklen_t sl;
	json_t *j;
	int ch;
	long port = 21;

	memset(&o, 0, sizeof(o));
	while ((ch = getopt(argc, argv, "u:p:f:m:t:Tn:")) != -1) {
		switch (ch) {
		case 'u': o.user = optarg; break;
		case 'p': o.password = optarg; break;
		case 'f': o.path = optarg; break;
		case 'm':
			if (driver_modes(optarg, &o.modes) != 0)
				usage();
			break;
		case 't': o.timeout_ms = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'T': o.tls = 1; break;
		case 'n': o.server_name = optarg; break;
		default: usage();
		}
	}
	if (optind >= argc || argc - optind > 2)
		usage();
	if (argc - optind == 2)
		port = strtol(argv[optind + 1], NULL, 10);
	if (port < 1 || port > 65535 ||
	    addr_parse_ip(argv[optind], &ss, &sl) != 0)
		usage();
	addr_set_port((struct sockaddr *)&ss, (uint16_t)port);
	/* A server that closes while we write must not kill the process. */
	signal(SIGPIPE, SIG_IGN);
	if ((base = event_base_new()) == NULL)
		return 1;
	o.done_cb = driver_done_cb;
	o.done_arg = base;
	if ((fc = ftpcheck_new(base, (struct sockaddr *)&ss, &o)) == NULL) {
		fprintf(stderr, "ftpcheck_new: %s\n", strerror(errno));
		return 1;
	}
	(void)ftpcheck_start(fc);
	if (!ftpcheck_done(fc))
		event_base_dispatch(base);
	j = driver_json(ftpcheck_result(fc));
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
	fputc('\n', stdout);
	json_decref(j);
	ftpcheck_free(fc);
	event_base_free(base);
	return 0;
}
