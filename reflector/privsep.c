/*
 * privsep.c - the privileged helper and the engine's start (privsep.h).
 */
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "divert.h"
#include "err.h"
#include "log.h"
#include "privclient.h"
#include "privdrop.h"
#include "privmsg.h"
#include "privops.h"
#include "privsep.h"
#include "sandbox.h"
#include "fw_text.h"
#include "patch.h"

#define PRIVSEP_CAPS	(PRIVDROP_CAP_NET_ADMIN | PRIVDROP_CAP_NET_BIND_SERVICE)

/* What the helper made and removes when the engine goes. */
struct privsep_helper {
	int sock;
	const struct reflector_config *cfg;
	int table;		/* the shared table is up */
	int route[2];		/* divert routes added (IPv4, IPv6) */
	uint16_t tproxy_port[2];	/* our transparent listeners' ports */
	uint64_t armed;		/* probe ports in the probe set */
};

static struct event *privsep_ev;

/* ---- the helper ---- */

static void
privsep_send(int sock, const struct privmsg_rep *rep, const int *fds,
    size_t nfds)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * PRIVMSG_MAX_FDS)];
	} cm;
	struct iovec iov = { (void *)(uintptr_t)rep, sizeof(*rep) };
	struct msghdr mh;
	struct cmsghdr *c;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds > 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	while (sendmsg(sock, &mh, MSG_NOSIGNAL) == -1 && errno == EINTR)
		;
}

/* State checks that need what the helper made: a tproxy rule diverts to
 * one of its own transparent listeners only. */
static int
privsep_check_state(const struct privsep_helper *h,
    const struct privmsg_req *q, char *why, size_t whylen)
{
	int i = q->addr.ss_family == AF_INET6;

	if (q->type == PRIVMSG_TPROXY_RULE && addr_port((const struct
	    sockaddr *)&q->addr) != h->tproxy_port[i]) {
		snprintf(why, whylen, "tproxy to a port that is not the "
		    "helper's transparent listener");
		return FTP_ERR_DENIED;
	}
	if ((q->type == PRIVMSG_ELEMS || q->type == PRIVMSG_TPROXY_RULE) &&
	    !h->table) {
		snprintf(why, whylen, "no table");
		return FTP_ERR_DENIED;
	}
	return 0;
}

/* What a request done changes in the helper's account of its state. */
static void
privsep_account(struct privsep_helper *h, const struct privmsg_req *q,
    const int *fds)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int64_t d;

	switch (q->type) {
	case PRIVMSG_TABLE:
		h->table = q->flag != 0;
		if (!h->table)
			h->armed = 0;
		break;
	case PRIVMSG_ROUTE:
		h->route[q->family == AF_INET6] = q->flag != 0;
		break;
	case PRIVMSG_LISTEN_TPROXY:
		if (getsockname(fds[0], (struct sockaddr *)&ss, &sl) == 0)
			h->tproxy_port[q->addr.ss_family == AF_INET6] =
			    addr_port((struct sockaddr *)&ss);
		break;
	case PRIVMSG_ELEMS:
		d = privmsg_probe_delta(q);
		h->armed = d < 0 && (uint64_t)-d > h->armed ? 0 :
		    (uint64_t)((int64_t)h->armed + d);
		break;
	}
}

static void
privsep_handle(struct privsep_helper *h, const struct privmsg_req *q,
    size_t len)
{
	struct privmsg_rep rep;
	int fds[PRIVMSG_MAX_FDS];
	size_t nfds = 0, i;
	int r;

	memset(&rep, 0, sizeof(rep));
	if ((r = privmsg_check(q, len, h->cfg, h->armed, rep.text,
	    sizeof(rep.text))) == 0)
		r = privsep_check_state(h, q, rep.text, sizeof(rep.text));
	if (r != 0) {
		log_warnx("privileged helper: refused %s: %s",
		    privmsg_type_name(len == sizeof(*q) ? q->type : 0),
		    rep.text);
		rep.has_text = 1;
	} else if ((r = privops_serve(q, &rep, fds, &nfds)) == 0) {
		privsep_account(h, q, fds);
	} else {
		rep.err = errno;
	}
	rep.result = r;
	rep.nfds = (uint32_t)nfds;
	privsep_send(h->sock, &rep, fds, nfds);
	for (i = 0; i < nfds; i++)
		close(fds[i]);
}

/* The engine went: remove what we made.  The table would go with our
 * socket anyway; the routes would not. */
static void
privsep_cleanup(struct privsep_helper *h)
{
	int i;

	if (h->table && privops_table(0, 0) != 0)
		log_warnx("privileged helper: removing the shared table: %s",
		    strerror(errno));
	for (i = 0; i < 2; i++)
		if (h->route[i] && privops_route(0, i ? AF_INET6 : AF_INET) != 0)
			log_warnx("privileged helper: removing the divert "
			    "route: %s", strerror(errno));
}

static void
privsep_helper_loop(struct privsep_helper *h)
{
	struct privmsg_req *q;
	ssize_t n;

	if ((q = malloc(sizeof(*q) + 1)) == NULL)
		return;
	for (;;) {
		/* One byte more than a request: a longer one is refused,
		 * not cut to size. */
		n = recv(h->sock, q, sizeof(*q) + 1, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		privsep_handle(h, q, (size_t)n);
	}
	free(q);
}

static void
privsep_helper_main(int sock, const struct reflector_config *cfg)
{
	struct privsep_helper h;
	char why[256];

	memset(&h, 0, sizeof(h));
	h.sock = sock;
	h.cfg = cfg;
	/* The engine decides when to stop: a SIGTERM to the whole service
	 * must not take us before it removed its elements. */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	(void)prctl(PR_SET_NAME, "ftpath-privhelp", 0, 0, 0);
	/* No core file and no /proc/PID/mem for its user: the helper holds
	 * a copy of the private key from before the fork. */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (privdrop_helper(cfg->user, PRIVSEP_CAPS, why, sizeof(why)) != 0) {
		log_errx("privileged helper: %s", why);
		_exit(1);
	}
	log_debug("privileged helper (pid %d) serving", (int)getpid());
	privsep_helper_loop(&h);
	privsep_cleanup(&h);
	log_debug("privileged helper: the engine went; cleaned up, exiting");
	_exit(0);
}

/* ---- the engine ---- */

/*
 * Whether this start has privileges (*privileged) and gives them up to a
 * helper (*needed), the user it drops to checked; 0, or an error with
 * why filled.  A privileged start with allow_apply keeps one process.
 */
static int
privsep_plan(const struct reflector_config *cfg, int *needed,
    int *privileged, char *why, size_t whylen)
{
	uint64_t eff = 0, prm = 0;

	*needed = *privileged = 0;
	if (privdrop_caps(&eff, &prm) != 0) {
		snprintf(why, whylen, "reading capabilities: %s",
		    strerror(errno));
		return FTP_ERR_SYSTEM;
	}
	*privileged = geteuid() == 0 || (prm & PRIVSEP_CAPS) != 0;
	*needed = *privileged && !cfg->allow_apply;
	if (*needed && geteuid() == 0 && getpwnam(cfg->user) == NULL) {
		snprintf(why, whylen, "user = %s: no such user (create it, "
		    "e.g. adduser --system %s, or name another)", cfg->user,
		    cfg->user);
		return FTP_ERR_CONFIG;
	}
	return 0;
}

int
privsep_check(const struct reflector_config *cfg, char *why, size_t whylen)
{
	int needed, privileged;

	return privsep_plan(cfg, &needed, &privileged, why, whylen);
}

int
privsep_start(const struct reflector_config *cfg, int *separated,
    char *why, size_t whylen)
{
	int sv[2], needed, privileged, r;
	pid_t pid;

	*separated = 0;
	/* Said once, before there are two processes to say it. */
	if ((r = privsep_plan(cfg, &needed, &privileged, why, whylen)) != 0)
		return r;
	if (!needed) {
		if (privileged)
			log_warnx("allow_apply = yes: the reflector runs as "
			    "one process with its privileges (the apply "
			    "loader needs CAP_NET_ADMIN where the fixes are "
			    "derived)");
		return 0;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		snprintf(why, whylen, "socketpair: %s", strerror(errno));
		return FTP_ERR_SYSTEM;
	}
	if ((pid = fork()) == -1) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return FTP_ERR_SYSTEM;
	}
	if (pid == 0) {
		close(sv[0]);
		privsep_helper_main(sv[1], cfg);
	}
	close(sv[1]);
	privclient_set(sv[0], (int)pid);
	fw_rule_facts_delegate(privops_rule_facts);
	patch_verify_delegate(privops_verify_patch);
	if ((r = privdrop_engine(cfg->user, why, whylen)) != 0)
		return r;
	/* After the drop: the filter refuses what no engine call needs
	 * (sandbox.h), so a parser bug cannot exec or mount. */
	if ((r = sandbox_engine(why, whylen)) < 0)
		return r;
	if (r > 0)
		log_warnx("engine: %s", why);
	*separated = 1;
	return 0;
}

static void
privsep_gone_cb(evutil_socket_t fd, short what, void *arg)
{
	char c;

	(void)what;
	/* Between calls nothing is due: readable means the helper closed. */
	if (recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) > 0)
		return;
	log_errx("the privileged helper (pid %d) exited; stopping",
	    privclient_pid());
	event_base_loopbreak(arg);
}

int
privsep_watch(struct event_base *base)
{
	if (!privclient_active())
		return 0;
	privsep_ev = event_new(base, privclient_fd(), EV_READ | EV_PERSIST,
	    privsep_gone_cb, base);
	if (privsep_ev == NULL || event_add(privsep_ev, NULL) != 0)
		return FTP_ERR_NOMEM;
	return 0;
}

void
privsep_stop(void)
{
	if (privsep_ev != NULL)
		event_free(privsep_ev);
	privsep_ev = NULL;
	privclient_close();
}
