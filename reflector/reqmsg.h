/*
 * reqmsg.h - the requests an agent sends the reflector (PROTOCOL.md),
 * each a struct with a pure decoder.
 *
 * Every check of a request's fields lives here: types, ranges, lengths,
 * allowed characters, the shape of arrays.  A decoder either fills its
 * struct completely or returns FTP_ERR_INVAL with *why pointing to the
 * static sentence the reflector answers with ("bad-request"), and it never
 * allocates.  What a request means for the session (its state, the
 * configuration's policy) is the session's business (session.c), which
 * dispatches through a table {type, states, handler} and acts on the
 * decoded struct only.  Strings are copied into the structs; the one
 * borrowed member is named so (it lives as long as the message).
 */
#ifndef FTPATH_REQMSG_H
#define FTPATH_REQMSG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <jansson.h>

#include "addr.h"
#include "proto.h"

#define REQMSG_MAX_NAME		255		/* agent, server */
#define REQMSG_MAX_WAIT_MS	(24u * 3600 * 1000)	/* before capping */
#define REQMSG_MAX_AGENT_ADDRS	64

struct reqmsg_hello {
	char token[PROTO_TOKEN_HEXLEN + 1];	/* 32 lowercase hex */
	char agent[REQMSG_MAX_NAME + 1];
	int64_t time_ms;			/* >= 0 */
};

struct reqmsg_ping {
	int64_t seq;				/* >= 0 */
	const json_t *t_borrowed;		/* opaque, echoed */
};

struct reqmsg_plan {
	char server[REQMSG_MAX_NAME + 1];
	uint16_t control_port;			/* 1-65535 */
	int has_passive;
	struct portrange passive;		/* if has_passive */
	struct sockaddr_storage agent_addrs[REQMSG_MAX_AGENT_ADDRS];
	size_t n_agent_addrs;
	uint32_t timeout_ms;			/* 1..REQMSG_MAX_WAIT_MS */
	const json_t *fix_borrowed;		/* plan.fix or NULL (fixgen.h) */
};

struct reqmsg_active {
	uint16_t port;				/* 1-65535 */
	uint32_t timeout_ms;
};

struct reqmsg_collect {
	size_t from;				/* 0 if absent */
};

/* alg-active: only a timeout. */
struct reqmsg_wait {
	uint32_t timeout_ms;
};

int reqmsg_hello(const json_t *m, struct reqmsg_hello *out,
    const char **why);
int reqmsg_ping(const json_t *m, struct reqmsg_ping *out, const char **why);
int reqmsg_plan(const json_t *m, struct reqmsg_plan *out, const char **why);
int reqmsg_active(const json_t *m, struct reqmsg_active *out,
    const char **why);
int reqmsg_collect(const json_t *m, struct reqmsg_collect *out,
    const char **why);
int reqmsg_wait(const json_t *m, struct reqmsg_wait *out, const char **why);

#endif
