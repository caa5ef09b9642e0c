/*
 * fw_hub.h - one nftables trace listener shared by many sessions.
 *
 * Every session with a listener of its own receives every trace event of
 * the host, so N sessions cost N copies of each event in the kernel and N
 * decodes, and from a few dozen sessions on their sockets overflow
 * (ENOBUFS) and their traces turn incomplete.  A hub is one listener on
 * the caller's event loop: each event is decoded once and offered to
 * every registered session (fw_session_feed matches it by 5-tuple or
 * trace id, others ignore it); an ENOBUFS marks every registered session
 * incomplete.  Sessions created with fw_session_spec.hub register at
 * creation and leave at release (fw_session.h).
 */
#ifndef FTPATH_FW_HUB_H
#define FTPATH_FW_HUB_H

#include <event2/event.h>

struct fw_hub;
struct fw_session;

/* NULL with errno set (EPERM without CAP_NET_ADMIN, ENOMEM). */
struct fw_hub *fw_hub_new(struct event_base *base);
/* Every session must have left.  NULL is a no-op. */
void fw_hub_free(struct fw_hub *h);

/* 0 or FTP_ERR_NOMEM. */
int fw_hub_add(struct fw_hub *h, struct fw_session *s);
void fw_hub_remove(struct fw_hub *h, struct fw_session *s);
/* Read what is pending now (before a session's records are read). */
void fw_hub_drain(struct fw_hub *h);
/* Sessions registered (for tests and logs). */
unsigned fw_hub_count(const struct fw_hub *h);

#endif
