/*
 * privops.c - the reflector's privileged operations (see privops.h):
 * done here (no separation, or in the helper), or asked of the helper.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <linux/netlink.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "err.h"
#include "errq.h"
#include "divert.h"
#include "fw.h"
#include "fw_nl.h"
#include "fw_route.h"
#include "fw_shared.h"
#include "fw_text.h"
#include "fw_trace.h"
#include "patch.h"
#include "log.h"
#include "privclient.h"
#include "privops.h"

/* Socket options of privops_socket(). */
#define PRIVOPS_TRANSPARENT	0x1
#define PRIVOPS_REUSEPORT	0x2

static int
privops_socket(const struct sockaddr *addr, int flags, int *fd)
{
	int s, on = 1, saved;

	if (addr->sa_family != AF_INET && addr->sa_family != AF_INET6) {
		errno = EAFNOSUPPORT;
		return FTP_ERR_SYSTEM;
	}
	s = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    IPPROTO_TCP);
	if (s == -1)
		return FTP_ERR_SYSTEM;
	if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1)
		goto fail;
	/* Bound to one concrete address, so v6-only is what we mean. */
	if (addr->sa_family == AF_INET6 && setsockopt(s, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) == -1)
		goto fail;
	if ((flags & PRIVOPS_REUSEPORT) && setsockopt(s, SOL_SOCKET,
	    SO_REUSEPORT, &on, sizeof(on)) == -1)
		goto fail;
	if ((flags & PRIVOPS_TRANSPARENT) && (addr->sa_family == AF_INET ?
	    setsockopt(s, SOL_IP, IP_TRANSPARENT, &on, sizeof(on)) :
	    setsockopt(s, SOL_IPV6, IPV6_TRANSPARENT, &on, sizeof(on))) == -1)
		goto fail;
	if (bind(s, addr, addr_len(addr)) == -1)
		goto fail;
	*fd = s;
	return 0;
fail:
	saved = errno;
	close(s);
	errno = saved;
	return FTP_ERR_SYSTEM;
}

static int
privops_listen_socket(const struct sockaddr *addr, int flags, int backlog,
    int *fd)
{
	int s, r, saved;

	if ((r = privops_socket(addr, flags, &s)) != 0)
		return r;
	if (listen(s, backlog) == -1) {
		saved = errno;
		close(s);
		errno = saved;
		return FTP_ERR_SYSTEM;
	}
	*fd = s;
	return 0;
}

static int
privops_local_listen(const struct sockaddr *addr, int backlog, int *fd)
{
	return privops_listen_socket(addr, 0, backlog, fd);
}

static int
privops_local_listen_transparent(const struct sockaddr *addr, int backlog,
    int *fds, size_t nfds)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	size_t i;
	int r, saved;

	if (nfds == 0 || addr_len(addr) > sizeof(ss)) {
		errno = EINVAL;
		return FTP_ERR_SYSTEM;
	}
	memcpy(&ss, addr, addr_len(addr));
	for (i = 0; i < nfds; i++) {
		if ((r = privops_listen_socket((struct sockaddr *)&ss,
		    PRIVOPS_TRANSPARENT | PRIVOPS_REUSEPORT, backlog,
		    &fds[i])) != 0)
			goto fail;
		/* The first picked the port (0 asks for one); the rest of
		 * the group joins it there. */
		if (i == 0 && getsockname(fds[0], (struct sockaddr *)&ss,
		    &sl) == -1) {
			i++;
			r = FTP_ERR_SYSTEM;
			goto fail;
		}
	}
	return 0;
fail:
	saved = errno;
	while (i > 0)
		close(fds[--i]);
	errno = saved;
	return r;
}

static int
privops_local_bound_socket(const struct sockaddr *local, int *fd)
{
	int s, r, saved;

	if ((r = privops_socket(local, 0, &s)) != 0)
		return r;
	if (errq_enable(s, local->sa_family) != 0) {
		saved = errno;
		close(s);
		errno = saved;
		return FTP_ERR_SYSTEM;
	}
	*fd = s;
	return 0;
}

/* ---- nftables and routes, in this process ---- */

/* The shared table's owner socket: the kernel removes the table with it. */
static struct fw_nl *privops_nl;

static int
privops_local_route(int add, int family)
{
	struct fw_nl *rt;
	int r, saved;

	if ((rt = fw_nl_open(NETLINK_ROUTE)) == NULL)
		return FTP_ERR_SYSTEM;
	r = add ? fw_policy_route_add(rt, family, DIVERT_MARK, DIVERT_TABLE) :
	    fw_policy_route_del(rt, family, DIVERT_MARK, DIVERT_TABLE);
	saved = errno;
	fw_nl_free(rt);
	errno = saved;
	return r;
}

static int
privops_local_trace_socket(int *fd, int rcvbuf)
{
	struct fw_trace_listener *l;
	int saved;

	if ((l = fw_trace_listener_new()) == NULL)
		return FTP_ERR_SYSTEM;
	/* Forced (CAP_NET_ADMIN) here: past net.core.rmem_max, which is all
	 * the receiver could set itself. */
	if (rcvbuf > 0 && fw_trace_listener_set_rcvbuf(l, rcvbuf) != 0)
		log_debug("trace receive buffer of %d bytes: %s", rcvbuf,
		    strerror(errno));
	/* The membership belongs to the socket, not to this descriptor. */
	*fd = fcntl(fw_trace_fd(l), F_DUPFD_CLOEXEC, 0);
	saved = errno;
	fw_trace_listener_free(l);
	errno = saved;
	return *fd == -1 ? FTP_ERR_SYSTEM : 0;
}

static int
privops_talk(struct fw_batch *b)
{
	int r, saved;

	if (b == NULL)
		return FTP_ERR_NOMEM;
	if ((r = fw_batch_finish(b)) == 0)
		r = fw_nl_talk(privops_nl, b);
	saved = errno;
	fw_batch_free(b);
	errno = saved;
	return r;
}

static int
privops_local_table(int add, uint16_t active_port)
{
	struct fw_batch *b;
	int r;

	if (!add) {
		if (privops_nl == NULL)
			return 0;
		b = fw_shared_batch(fw_nl_seq(privops_nl), 0);
		r = b != NULL ? fw_shared_put_del_table(b) : FTP_ERR_NOMEM;
		r = r == 0 ? privops_talk(b) : (fw_batch_free(b), r);
		/* Closing the owner socket removes it anyway. */
		fw_nl_free(privops_nl);
		privops_nl = NULL;
		return r;
	}
	if (privops_nl == NULL &&
	    (privops_nl = fw_nl_open(NETLINK_NETFILTER)) == NULL)
		return FTP_ERR_SYSTEM;
	if ((b = fw_shared_batch(fw_nl_seq(privops_nl), 0)) == NULL)
		return FTP_ERR_NOMEM;
	if ((r = fw_shared_put_table(b, active_port, 1)) != 0) {
		fw_batch_free(b);
		return r;
	}
	return privops_talk(b);
}

static int
privops_local_tproxy_rule(const struct sockaddr *to, uint32_t mark)
{
	struct fw_batch *b;
	int r;

	if (privops_nl == NULL) {
		errno = ENOENT;
		return FTP_ERR_SYSTEM;
	}
	if ((b = fw_shared_batch(fw_nl_seq(privops_nl), 0)) == NULL)
		return FTP_ERR_NOMEM;
	if ((r = fw_shared_put_tproxy(b, to, mark)) != 0) {
		fw_batch_free(b);
		return r;
	}
	return privops_talk(b);
}

static int
privops_local_elems(const struct sockaddr *peer, const struct privmsg_op *ops,
    size_t nops, uint64_t timeout_ms)
{
	struct portrange pr;
	struct fw_batch *b;
	size_t i;
	int r = 0;

	if (privops_nl == NULL) {
		errno = ENOENT;
		return FTP_ERR_SYSTEM;
	}
	if ((b = fw_shared_batch(fw_nl_seq(privops_nl), nops)) == NULL)
		return FTP_ERR_NOMEM;
	for (i = 0; r == 0 && i < nops; i++) {
		pr.lo = ops[i].lo;
		pr.hi = ops[i].hi;
		r = fw_shared_put_elems(b, ops[i].add, (enum fw_shared_set)
		    ops[i].which, peer, &pr, 1, ops[i].add ? timeout_ms : 0);
	}
	if (r != 0) {
		fw_batch_free(b);
		return r;
	}
	return privops_talk(b);
}

/* ---- asked of the helper (privsep.h) ---- */

static struct privmsg_req *
privops_req(uint32_t type)
{
	struct privmsg_req *q = calloc(1, sizeof(*q));

	if (q != NULL)
		q->type = type;
	else
		errno = ENOMEM;
	return q;
}

/* The request (freed here), its reply's result with errno and fds. */
static int
privops_call(struct privmsg_req *q, struct privmsg_rep *rep, int *fds,
    size_t maxfds)
{
	size_t nfds = 0;
	int r;

	memset(rep, 0, sizeof(*rep));
	if (q == NULL)
		return FTP_ERR_NOMEM;
	r = privclient_call(q, rep, fds, maxfds, &nfds);
	if (r == 0 && rep->result != 0) {
		if (rep->has_text)
			log_warnx("privileged helper refused %s: %s",
			    privmsg_type_name(q->type), rep->text);
		errno = rep->err;
		r = rep->result;
	} else if (r == 0 && nfds != maxfds) {
		while (nfds > 0)
			close(fds[--nfds]);
		errno = EPROTO;
		r = FTP_ERR_PROTO;
	}
	free(q);
	return r;
}

static int
privops_remote_socket(uint32_t type, const struct sockaddr *addr,
    int backlog, int *fds, size_t nfds)
{
	struct privmsg_req *q = privops_req(type);
	struct privmsg_rep rep;

	if (q != NULL) {
		memcpy(&q->addr, addr, addr_len(addr));
		q->backlog = backlog;
		q->flag = (uint32_t)nfds;
	}
	return privops_call(q, &rep, fds, nfds);
}

int
privops_listen(const struct sockaddr *addr, int backlog, int *fd)
{
	if (privclient_active())
		return privops_remote_socket(PRIVMSG_LISTEN, addr, backlog,
		    fd, 1);
	return privops_local_listen(addr, backlog, fd);
}

int
privops_listen_transparent(const struct sockaddr *addr, int backlog,
    int *fds, size_t nfds)
{
	if (privclient_active())
		return privops_remote_socket(PRIVMSG_LISTEN_TPROXY, addr,
		    backlog, fds, nfds);
	return privops_local_listen_transparent(addr, backlog, fds, nfds);
}

int
privops_bound_socket(const struct sockaddr *local, int *fd)
{
	if (privclient_active())
		return privops_remote_socket(PRIVMSG_BOUND, local, 0, fd, 1);
	return privops_local_bound_socket(local, fd);
}

int
privops_route(int add, int family)
{
	struct privmsg_req *q;
	struct privmsg_rep rep;

	if (!privclient_active())
		return privops_local_route(add, family);
	if ((q = privops_req(PRIVMSG_ROUTE)) != NULL) {
		q->flag = add != 0;
		q->family = family;
	}
	return privops_call(q, &rep, NULL, 0);
}

int
privops_trace_socket(int *fd, int rcvbuf)
{
	struct privmsg_req *q;
	struct privmsg_rep rep;

	if (!privclient_active())
		return privops_local_trace_socket(fd, rcvbuf);
	if ((q = privops_req(PRIVMSG_TRACE_SOCKET)) != NULL)
		q->backlog = rcvbuf;
	return privops_call(q, &rep, fd, 1);
}

int
privops_table(int add, uint16_t active_port)
{
	struct privmsg_req *q;
	struct privmsg_rep rep;

	if (!privclient_active())
		return privops_local_table(add, active_port);
	if ((q = privops_req(PRIVMSG_TABLE)) != NULL) {
		q->flag = add != 0;
		q->port = active_port;
	}
	return privops_call(q, &rep, NULL, 0);
}

int
privops_tproxy_rule(const struct sockaddr *to, uint32_t mark)
{
	struct privmsg_req *q;
	struct privmsg_rep rep;

	if (!privclient_active())
		return privops_local_tproxy_rule(to, mark);
	if ((q = privops_req(PRIVMSG_TPROXY_RULE)) != NULL) {
		memcpy(&q->addr, to, addr_len(to));
		q->mark = mark;
	}
	return privops_call(q, &rep, NULL, 0);
}

int
privops_elems(const struct sockaddr *peer, const struct privmsg_op *ops,
    size_t nops, uint64_t timeout_ms)
{
	struct privmsg_req *q;
	struct privmsg_rep rep;

	if (!privclient_active())
		return privops_local_elems(peer, ops, nops, timeout_ms);
	if (nops > PRIVMSG_MAX_OPS) {
		errno = E2BIG;
		return FTP_ERR_TOOBIG;
	}
	if ((q = privops_req(PRIVMSG_ELEMS)) != NULL) {
		memcpy(&q->addr, peer, addr_len(peer));
		q->timeout_ms = timeout_ms;
		q->nops = (uint32_t)nops;
		memcpy(q->ops, ops, nops * sizeof(*ops));
	}
	return privops_call(q, &rep, NULL, 0);
}

int
privops_rule_facts(int family, const char *table, const char *chain,
    int has_handle, uint64_t handle, char **text, int *related)
{
	struct privmsg_req *q;
	struct privmsg_rep rep;
	int r;

	*text = NULL;
	*related = 0;
	if (!privclient_active())
		return fw_rule_facts(family, table, chain, has_handle, handle,
		    text, related);
	if ((q = privops_req(PRIVMSG_RULE_FACTS)) != NULL) {
		q->family = family;
		snprintf(q->table, sizeof(q->table), "%s", table);
		snprintf(q->chain, sizeof(q->chain), "%s", chain);
		q->flag = has_handle != 0;
		q->handle = handle;
	}
	if ((r = privops_call(q, &rep, NULL, 0)) != 0)
		return r;
	*related = rep.related;
	if (rep.has_text && (*text = strdup(rep.text)) == NULL)
		return FTP_ERR_NOMEM;
	return 0;
}

int
privops_cleanup_stale(unsigned *removed)
{
	struct privmsg_rep rep;
	int r;

	*removed = 0;
	if (!privclient_active())
		return fw_cleanup_stale(removed);
	r = privops_call(privops_req(PRIVMSG_CLEANUP), &rep, NULL, 0);
	*removed = rep.count;
	return r;
}

int
privops_verify_patch(const char *text, char *err, size_t errlen)
{
	struct privmsg_req *q;
	struct privmsg_rep rep;
	int r;

	if (strlen(text) >= sizeof(q->text)) {
		ftp_errmsg(err, errlen, "patch too long to verify (%zu bytes)",
		    strlen(text));
		return FTP_ERR_TOOBIG;
	}
	if ((q = privops_req(PRIVMSG_VERIFY_PATCH)) != NULL)
		memcpy(q->text, text, strlen(text) + 1);
	if ((r = privops_call(q, &rep, NULL, 0)) != 0 && rep.has_text)
		ftp_errmsg(err, errlen, "%s", rep.text);
	else if (r != 0)
		ftp_errmsg(err, errlen, "%s", ftp_strerror(r));
	return r;
}

/* ---- the helper's side: a checked request, done here ---- */

static int
privops_serve_text(struct privmsg_rep *rep, const struct privmsg_req *q)
{
	char *text = NULL;
	int r, related = 0;

	r = fw_rule_facts(q->family, q->table, q->chain, q->flag != 0,
	    q->handle, &text, &related);
	rep->related = related;
	if (text != NULL) {
		snprintf(rep->text, sizeof(rep->text), "%s", text);
		rep->has_text = 1;
	}
	free(text);
	return r;
}

int
privops_serve(const struct privmsg_req *q, struct privmsg_rep *rep,
    int *fds, size_t *nfds)
{
	const struct sockaddr *a = (const struct sockaddr *)&q->addr;
	unsigned removed = 0;
	int r = FTP_ERR_INVAL;

	*nfds = 0;
	switch (q->type) {
	case PRIVMSG_LISTEN:
		if ((r = privops_local_listen(a, q->backlog, fds)) == 0)
			*nfds = 1;
		break;
	case PRIVMSG_LISTEN_TPROXY:
		if ((r = privops_local_listen_transparent(a, q->backlog, fds,
		    q->flag)) == 0)
			*nfds = q->flag;
		break;
	case PRIVMSG_BOUND:
		if ((r = privops_local_bound_socket(a, fds)) == 0)
			*nfds = 1;
		break;
	case PRIVMSG_ROUTE:
		r = privops_local_route((int)q->flag, q->family);
		break;
	case PRIVMSG_TRACE_SOCKET:
		if ((r = privops_local_trace_socket(fds, q->backlog)) == 0)
			*nfds = 1;
		break;
	case PRIVMSG_TABLE:
		r = privops_local_table((int)q->flag, q->port);
		break;
	case PRIVMSG_TPROXY_RULE:
		r = privops_local_tproxy_rule(a, q->mark);
		break;
	case PRIVMSG_ELEMS:
		r = privops_local_elems(a, q->ops, q->nops, q->timeout_ms);
		break;
	case PRIVMSG_RULE_FACTS:
		r = privops_serve_text(rep, q);
		break;
	case PRIVMSG_CLEANUP:
		r = fw_cleanup_stale(&removed);
		rep->count = removed;
		break;
	case PRIVMSG_VERIFY_PATCH:
		if ((r = patch_verify(q->text, rep->text,
		    sizeof(rep->text))) != 0)
			rep->has_text = 1;
		break;
	}
	return r;
}
