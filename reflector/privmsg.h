/*
 * privmsg.h - the fixed request table between the reflector's engine and
 * its privileged helper (privsep.h), and the checks the helper applies to
 * every request before acting on it.
 *
 * A request is one fixed-size record (one SOCK_SEQPACKET datagram); a
 * reply is one record with up to PRIVMSG_MAX_FDS descriptors attached
 * (SCM_RIGHTS).  The engine parses agent input and may be compromised:
 * nothing in a request is trusted.  privmsg_check() holds it against the
 * configuration the helper read itself: which ports may be listened on,
 * diverted or traced (the configured control port, active source port,
 * passive range and allowed_ports), that a transparent listener and a
 * tproxy target are on loopback, that a probe peer is a unicast address
 * of some host, names made of the characters nftables identifiers use.
 * No request makes the helper change the ruleset with text: the one
 * request with text (a fix to verify) is checked as additions only and
 * run in nftables' check mode, which never commits.
 */
#ifndef FTPATH_PRIVMSG_H
#define FTPATH_PRIVMSG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config.h"

#define PRIVMSG_MAX_OPS		1025	/* 2 x FW_PORTS_MAX + 1 */
#define PRIVMSG_NAME_MAX	64	/* table and chain names, with NUL */
#define PRIVMSG_TEXT_MAX	4096	/* a rule's text, or why */
#define PRIVMSG_MAX_FDS		16	/* a transparent group */

enum privmsg_type {
	PRIVMSG_LISTEN = 1,	/* addr, backlog: a listening socket */
	PRIVMSG_LISTEN_TPROXY,	/* addr (loopback, port 0), backlog, n */
	PRIVMSG_BOUND,		/* addr: a bound socket to connect from */
	PRIVMSG_ROUTE,		/* flag add/del, family: the divert route */
	PRIVMSG_TRACE_SOCKET,	/* backlog: receive buffer, the trace socket */
	PRIVMSG_TABLE,		/* flag add (port: active source) / delete */
	PRIVMSG_TPROXY_RULE,	/* addr (loopback:port), mark */
	PRIVMSG_ELEMS,		/* addr: peer; timeout_ms; ops */
	PRIVMSG_RULE_FACTS,	/* family, table, chain, flag, handle */
	PRIVMSG_CLEANUP,	/* stale tables and routes of a crashed run */
	PRIVMSG_VERIFY_PATCH,	/* text: a fix, additions only, check mode */
	PRIVMSG_TYPE_MAX
};

/* One set element added or deleted (fw_shared.h's sets). */
struct privmsg_op {
	uint8_t		add;
	uint8_t		which;		/* enum fw_shared_set */
	uint16_t	lo;
	uint16_t	hi;
};

struct privmsg_req {
	uint32_t		type;
	uint32_t		flag;		/* add, count or has_handle */
	int32_t			backlog;
	int32_t			family;
	uint16_t		port;
	uint32_t		mark;
	uint64_t		timeout_ms;
	uint64_t		handle;
	struct sockaddr_storage	addr;
	char			table[PRIVMSG_NAME_MAX];
	char			chain[PRIVMSG_NAME_MAX];
	uint32_t		nops;
	struct privmsg_op	ops[PRIVMSG_MAX_OPS];
	char			text[PRIVMSG_TEXT_MAX];	/* NUL-terminated */
};

struct privmsg_rep {
	int32_t		result;		/* 0 or FTP_ERR_* */
	int32_t		err;		/* errno with FTP_ERR_SYSTEM */
	uint32_t	nfds;
	int32_t		related;	/* RULE_FACTS */
	uint32_t	count;		/* CLEANUP: what was removed */
	uint32_t	has_text;
	char		text[PRIVMSG_TEXT_MAX];	/* rule text, or why refused */
};

/*
 * The checks of a request of len bytes against cfg (the helper's own
 * copy) and armed (ports the probe set holds now, as the helper counted
 * them).  0, or FTP_ERR_DENIED / FTP_ERR_INVAL with the sentence in why.
 */
int privmsg_check(const struct privmsg_req *q, size_t len,
    const struct reflector_config *cfg, uint64_t armed, char *why,
    size_t whylen);
/* Probe ports an ELEMS request adds (+) and deletes (-) from the probe
 * set, for the helper's count. */
int64_t privmsg_probe_delta(const struct privmsg_req *q);
const char *privmsg_type_name(uint32_t type);

#endif
