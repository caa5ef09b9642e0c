/*
 * fw_driver.c - exercise nft/ against the real kernel, for fw_test.sh.
 * Runs inside a throw-away network namespace; needs CAP_NET_ADMIN.
 *
 *   fw_driver cleanup
 *   fw_driver add ID PEER PORTS [LISTENPORT MARK RTTABLE [TPROXYADDR]]
 *   fw_driver addact ID PEER PORTS ACTIVE [LISTENPORT MARK RTTABLE]
 *   fw_driver del ID [PEERFAMILY MARK RTTABLE]
 *   fw_driver hold ID PEER PORTS          (add, print "ready", sleep)
 *   fw_driver holdown ID PEER PORTS       (same, table owned by the socket)
 *   fw_driver trace ID PEER SERVER PORT [LISTENPORT [LISTENADDR]]
 *   fw_driver text FAMILY TABLE CHAIN HANDLE
 *   fw_driver cback PEER SERVER SPORT
 *
 * PORTS is "21,30000-30009".  With LISTENPORT, add installs the tproxy
 * part and its policy route (to TPROXYADDR:LISTENPORT when given), and
 * trace expects the connection to land on a transparent listener there
 * (bound to LISTENADDR, default the wildcard address).  addact is add
 * with the connect-back from port ACTIVE traced (fw_spec.trace_active_port).
 * cback connects from SERVER:SPORT to a listener on PEER, prints the
 * trace events and "cback accepted" once the handshake completed (the
 * peer's answer reached the connecting socket).  Output lines are grepped
 * by the script.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/netfilter.h>
#include <linux/netlink.h>

#include "err.h"
#include "fw.h"
#include "fw_route.h"
#include "fw_text.h"
#include "fw_trace.h"

#define MAXR 64

static int
parse_addr(const char *s, struct sockaddr_storage *ss, uint16_t port)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		return 0;
	}
	return -1;
}

static size_t
parse_ports(const char *s, struct portrange *r)
{
	char buf[512], *tok, *save = NULL;
	unsigned lo, hi;
	size_t n = 0;

	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok && n < MAXR;
	    tok = strtok_r(NULL, ",", &save)) {
		if (sscanf(tok, "%u-%u", &lo, &hi) != 2)
			hi = lo = (unsigned)strtoul(tok, NULL, 10);
		r[n].lo = (uint16_t)lo;
		r[n].hi = (uint16_t)hi;
		n++;
	}
	return n;
}

static const char *
ntop(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	uint16_t port;

	if (ss->ss_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr,
		    a, sizeof(a));
		port = ((const struct sockaddr_in *)ss)->sin_port;
		snprintf(buf, len, "%s:%u", a, ntohs(port));
	} else {
		inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)ss)->sin6_addr, a,
		    sizeof(a));
		port = ((const struct sockaddr_in6 *)ss)->sin6_port;
		snprintf(buf, len, "[%s]:%u", a, ntohs(port));
	}
	return buf;
}

static int
fail(const char *what, int r)
{
	printf("error %s: %s\n", what, ftp_strerror(r));
	return 1;
}

static int
cmd_cleanup(void)
{
	unsigned n = 0;
	int r;

	if ((r = fw_cleanup_stale(&n)) != 0)
		return fail("cleanup", r);
	printf("cleanup removed %u\n", n);
	return 0;
}

static int
do_add(int argc, char **argv, struct fw_nl *nl, uint16_t active)
{
	struct portrange pr[MAXR];
	struct fw_spec spec = { 0 };
	struct fw_nl *rt = NULL;
	int r;

	spec.trace_active_port = active;
	spec.id = argv[2];
	if (parse_addr(argv[3], &spec.peer, 0) != 0)
		return fail("peer", FTP_ERR_INVAL);
	spec.ports = pr;
	spec.nports = parse_ports(argv[4], pr);
	spec.parts = FW_PART_TRACE;
	if (strcmp(argv[1], "holdown") == 0)
		spec.flags = FW_F_OWNER;
	if (argc >= 8) {
		spec.parts |= FW_PART_TPROXY;
		spec.tproxy_port = (uint16_t)atoi(argv[5]);
		spec.tproxy_mark = (uint32_t)strtoul(argv[6], NULL, 0);
		if (argc >= 9 && parse_addr(argv[8], &spec.tproxy_addr,
		    0) != 0)
			return fail("tproxy address", FTP_ERR_INVAL);
		if ((rt = fw_nl_open(NETLINK_ROUTE)) == NULL)
			return fail("rtnl", FTP_ERR_SYSTEM);
		r = fw_policy_route_add(rt, spec.peer.ss_family,
		    spec.tproxy_mark, (uint32_t)atoi(argv[7]));
		fw_nl_free(rt);
		if (r != 0)
			return fail("policy route add", r);
	}
	if ((r = fw_table_add(nl, &spec)) != 0)
		return fail("table add", r);
	printf("added ftpath_%s\n", spec.id);
	return 0;
}

static int
cmd_del(int argc, char **argv)
{
	struct fw_nl *nl, *rt;
	int r, r2 = 0;

	if ((nl = fw_nl_open(NETLINK_NETFILTER)) == NULL)
		return fail("nfnl", FTP_ERR_SYSTEM);
	r = fw_table_del(nl, argv[2]);
	fw_nl_free(nl);
	if (argc >= 6) {
		if ((rt = fw_nl_open(NETLINK_ROUTE)) == NULL)
			return fail("rtnl", FTP_ERR_SYSTEM);
		r2 = fw_policy_route_del(rt, strcmp(argv[3], "6") == 0 ?
		    AF_INET6 : AF_INET, (uint32_t)strtoul(argv[4], NULL, 0),
		    (uint32_t)atoi(argv[5]));
		fw_nl_free(rt);
	}
	if (r != 0)
		return fail("table del", r);
	if (r2 != 0)
		return fail("policy route del", r2);
	printf("deleted ftpath_%s\n", argv[2]);
	return 0;
}

struct trace_state {
	const char	*table;
	int		 seen;
	int		 family;
	char		 chain[FW_TRACE_NAME_MAX];
	uint64_t	 handle;
};

static void
trace_cb(const struct fw_trace_event *ev, void *arg)
{
	struct trace_state *st = arg;
	char s[80] = "-", d[80] = "-";

	if (ev->has_tuple) {
		ntop(&ev->src, s, sizeof(s));
		ntop(&ev->dst, d, sizeof(d));
	}
	printf("event id=%08x family=%s table=%s chain=%s type=%s "
	    "handle=%" PRIu64 " verdict=%s %s -> %s\n", ev->id,
	    fw_family_name(ev->family) ? fw_family_name(ev->family) : "?",
	    ev->table, ev->chain, fw_trace_type_name(ev->type),
	    ev->has_handle ? ev->handle : 0, fw_verdict_name(ev->verdict),
	    s, d);
	if (!st->seen && ev->has_handle && strcmp(ev->table, st->table) == 0) {
		st->seen = 1;
		st->family = ev->family;
		snprintf(st->chain, sizeof(st->chain), "%s", ev->chain);
		st->handle = ev->handle;
	}
}

static int
transparent_listener(int family, uint16_t port, const char *addr)
{
	struct sockaddr_storage ss = { 0 };
	int fd, one = 1;

	ss.ss_family = (sa_family_t)family;
	if (addr != NULL && parse_addr(addr, &ss, port) != 0)
		return -1;
	if (family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
	if ((fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0)) < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (setsockopt(fd, family == AF_INET ? SOL_IP : SOL_IPV6,
	    family == AF_INET ? IP_TRANSPARENT : IPV6_TRANSPARENT, &one,
	    sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, sizeof(ss)) < 0 ||
	    listen(fd, 8) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
cmd_trace(int argc, char **argv)
{
	struct fw_trace_listener *l;
	struct sockaddr_storage peer, srv, got;
	struct trace_state st = { 0 };
	struct pollfd pfd[2];
	char table[FW_TABLE_MAX], buf[80], *text = NULL;
	int cfd, lfd = -1, afd, accepted = 0, r, n;
	socklen_t glen;
	time_t end;

	if (fw_table_name(argv[2], table, sizeof(table)) != 0 ||
	    parse_addr(argv[3], &peer, 0) != 0 ||
	    parse_addr(argv[4], &srv, (uint16_t)atoi(argv[5])) != 0)
		return fail("args", FTP_ERR_INVAL);
	st.table = table;
	if ((l = fw_trace_listener_new()) == NULL)
		return fail("listener", FTP_ERR_SYSTEM);
	if (argc >= 7 && (lfd = transparent_listener(srv.ss_family,
	    (uint16_t)atoi(argv[6]), argc >= 8 ? argv[7] : NULL)) < 0)
		return fail("transparent listener", FTP_ERR_SYSTEM);
	cfd = socket(peer.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (cfd < 0 || bind(cfd, (struct sockaddr *)&peer, sizeof(peer)) < 0)
		return fail("client bind", FTP_ERR_SYSTEM);
	(void)connect(cfd, (struct sockaddr *)&srv, sizeof(srv));
	pfd[0].fd = fw_trace_fd(l);
	pfd[0].events = POLLIN;
	pfd[1].fd = lfd;
	pfd[1].events = POLLIN;
	end = time(NULL) + 3;
	while (time(NULL) < end && !(st.seen && (lfd < 0 || accepted))) {
		if (poll(pfd, 2, 200) <= 0)
			continue;
		if ((pfd[0].revents & POLLIN) &&
		    (n = fw_trace_read(l, trace_cb, &st)) < 0)
			return fail("trace read", n);
		if (lfd >= 0 && (pfd[1].revents & POLLIN)) {
			glen = sizeof(got);
			if ((afd = accept(lfd, NULL, NULL)) >= 0) {
				getsockname(afd, (struct sockaddr *)&got,
				    &glen);
				printf("tproxy accepted local=%s\n",
				    ntop(&got, buf, sizeof(buf)));
				accepted = 1;
				close(afd);
			}
		}
	}
	/* Events of the reply may still be queued: drain them too. */
	if (poll(pfd, 1, 100) > 0 && (n = fw_trace_read(l, trace_cb, &st)) < 0)
		return fail("trace read", n);
	if (!st.seen)
		return fail("no trace event for our table", FTP_ERR_NOTFOUND);
	if ((r = fw_rule_text(st.family, table, st.chain, st.handle,
	    &text)) != 0)
		return fail("rule text", r);
	printf("rule %s %s %" PRIu64 ": %s\n", table, st.chain, st.handle,
	    text);
	free(text);
	fw_trace_listener_free(l);
	close(cfd);
	if (lfd >= 0)
		close(lfd);
	return lfd >= 0 && !accepted ? fail("tproxy", FTP_ERR_NOTFOUND) : 0;
}

/* A listener on addr, ephemeral port; its port in *port. */
static int
plain_listener(const struct sockaddr_storage *addr, uint16_t *port)
{
	struct sockaddr_storage ss = *addr;
	socklen_t sl = sizeof(ss);
	int fd;

	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0)) < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&ss, sizeof(ss)) < 0 ||
	    listen(fd, 8) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(ss.ss_family == AF_INET ?
	    ((struct sockaddr_in *)&ss)->sin_port :
	    ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

/* The connect-back: SERVER:SPORT -> a listener on PEER. */
static int
cmd_cback(char **argv)
{
	struct fw_trace_listener *l;
	struct sockaddr_storage peer, srv;
	struct trace_state st = { .table = "" };
	struct pollfd pfd[2];
	uint16_t lport = 0;
	int cfd, lfd, afd, accepted = 0, one = 1, n;
	time_t end;

	if (parse_addr(argv[2], &peer, 0) != 0 ||
	    parse_addr(argv[3], &srv, (uint16_t)atoi(argv[4])) != 0)
		return fail("args", FTP_ERR_INVAL);
	if ((l = fw_trace_listener_new()) == NULL)
		return fail("listener", FTP_ERR_SYSTEM);
	if ((lfd = plain_listener(&peer, &lport)) < 0)
		return fail("peer listener", FTP_ERR_SYSTEM);
	parse_addr(argv[2], &peer, lport);
	cfd = socket(srv.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (cfd < 0 || setsockopt(cfd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) < 0 || bind(cfd, (struct sockaddr *)&srv,
	    sizeof(srv)) < 0)
		return fail("server bind", FTP_ERR_SYSTEM);
	(void)connect(cfd, (struct sockaddr *)&peer, sizeof(peer));
	pfd[0].fd = fw_trace_fd(l);
	pfd[0].events = POLLIN;
	pfd[1].fd = lfd;
	pfd[1].events = POLLIN;
	end = time(NULL) + 3;
	while (time(NULL) < end && !accepted) {
		if (poll(pfd, 2, 200) <= 0)
			continue;
		if ((pfd[0].revents & POLLIN) &&
		    (n = fw_trace_read(l, trace_cb, &st)) < 0)
			return fail("trace read", n);
		if ((pfd[1].revents & POLLIN) &&
		    (afd = accept(lfd, NULL, NULL)) >= 0) {
			printf("cback accepted\n");
			accepted = 1;
			close(afd);
		}
	}
	if (poll(pfd, 1, 100) > 0 && (n = fw_trace_read(l, trace_cb, &st)) < 0)
		return fail("trace read", n);
	fw_trace_listener_free(l);
	close(cfd);
	close(lfd);
	return accepted ? 0 : fail("cback", FTP_ERR_NOTFOUND);
}

static int
cmd_text(char **argv)
{
	char *text = NULL;
	int fam = strcmp(argv[2], "inet") == 0 ? NFPROTO_INET :
	    strcmp(argv[2], "ip6") == 0 ? NFPROTO_IPV6 : NFPROTO_IPV4;
	int r;

	r = fw_rule_text(fam, argv[3], argv[4], strtoull(argv[5], NULL, 10),
	    &text);
	if (r != 0)
		return fail("rule text", r);
	printf("text: %s\n", text);
	free(text);
	return 0;
}

int
main(int argc, char **argv)
{
	struct fw_nl *nl;
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && strcmp(argv[1], "cleanup") == 0)
		return cmd_cleanup();
	if (argc >= 6 && strcmp(argv[1], "addact") == 0) {
		/* add's arguments without ACTIVE */
		uint16_t active = (uint16_t)atoi(argv[5]);

		memmove(&argv[5], &argv[6], (size_t)(argc - 6 + 1) *
		    sizeof(*argv));
		if ((nl = fw_nl_open(NETLINK_NETFILTER)) == NULL)
			return fail("nfnl", FTP_ERR_SYSTEM);
		r = do_add(argc - 1, argv, nl, active);
		fw_nl_free(nl);
		return r;
	}
	if (argc >= 5 && (strcmp(argv[1], "add") == 0 ||
	    strncmp(argv[1], "hold", 4) == 0)) {
		if ((nl = fw_nl_open(NETLINK_NETFILTER)) == NULL)
			return fail("nfnl", FTP_ERR_SYSTEM);
		r = do_add(argc, argv, nl, 0);
		if (r == 0 && argv[1][0] == 'h') {
			printf("ready\n");
			for (;;)
				pause();
		}
		fw_nl_free(nl);
		return r;
	}
	if (argc >= 3 && strcmp(argv[1], "del") == 0)
		return cmd_del(argc, argv);
	if (argc >= 6 && strcmp(argv[1], "trace") == 0)
		return cmd_trace(argc, argv);
	if (argc >= 6 && strcmp(argv[1], "text") == 0)
		return cmd_text(argv);
	if (argc >= 5 && strcmp(argv[1], "cback") == 0)
		return cmd_cback(argv);
	fprintf(stderr, "usage: see fw_driver.c\n");
	return 2;
}
