/*
 * fw_nl.h - the thin netlink transport under the nft/ module, and the
 * batch container that builders fill.
 *
 * Build apart from talk: builders (fw.c, fw_route.c) only write netlink
 * messages into a struct fw_batch; fw_nl_talk() sends one and drains every
 * reply.  The socket itself sits behind struct fw_nl_ops, so unit tests
 * swap in canned kernel replies.
 *
 * Errors: 0 or a negative FTP_ERR_* (common/err.h).  A kernel error in an
 * ACK is returned as FTP_ERR_DENIED (EPERM, EACCES), FTP_ERR_NOTFOUND
 * (ENOENT) or FTP_ERR_SYSTEM; in all three cases errno holds the kernel's
 * error code.  A reply that never comes gives FTP_ERR_SYSTEM/ETIMEDOUT.
 */
#ifndef FTPATH_FW_NL_H
#define FTPATH_FW_NL_H

#include <stddef.h>
#include <stdint.h>

struct nlmsghdr;

/* How long fw_nl_talk() waits for one more reply before giving up. */
#define FW_NL_TIMEOUT_MS 2000

/*
 * A transport.  ctx is the implementation's own state.
 *   send:   write one datagram; 0 or negative FTP_ERR_*.
 *   recv:   read one datagram into buf, waiting at most timeout_ms;
 *           returns its length (> 0), 0 when nothing arrived in time, or
 *           a negative FTP_ERR_*.
 *   portid: our netlink port id, used to check replies (0 = don't check).
 *   close:  release ctx (may be NULL); called by fw_nl_free().
 */
struct fw_nl_ops {
	int (*send)(void *ctx, const void *buf, size_t len);
	int (*recv)(void *ctx, void *buf, size_t len, int timeout_ms);
	uint32_t (*portid)(void *ctx);
	void (*close)(void *ctx);
};

/* One exchange at a time per fw_nl; not for use from several threads. */
struct fw_nl;

/* Open a real netlink socket of the given bus (NETLINK_NETFILTER or
 * NETLINK_ROUTE), bound to an automatic port id.  NULL with errno set on
 * failure.  Sending nftables changes needs CAP_NET_ADMIN. */
struct fw_nl *fw_nl_open(int bus);
/* Wrap a custom transport (tests).  ctx stays the caller's unless ops has
 * a close function, which fw_nl_free() then calls.  NULL on no memory. */
struct fw_nl *fw_nl_new(const struct fw_nl_ops *ops, void *ctx);
void fw_nl_free(struct fw_nl *nl);
/* A fresh sequence number (the next free one). */
uint32_t fw_nl_seq(struct fw_nl *nl);

/*
 * A batch: a buffer of netlink messages with consecutive sequence
 * numbers.  For nftables it is framed by NFNL_MSG_BATCH_BEGIN/END so the
 * kernel applies it as one transaction; for rtnetlink (framed = 0) the
 * messages are independent.  Every message added with fw_batch_msg()
 * asks for an ACK, and fw_nl_talk() waits for all of them.
 */
struct fw_batch;

/* cap: room in bytes for the messages (the builder's estimate).
 * seq: sequence number of the first message.  NULL on no memory. */
struct fw_batch *fw_batch_new(size_t cap, uint32_t seq, int framed);
void fw_batch_free(struct fw_batch *b);
/* Start an nftables message (type NFT_MSG_*, NLM_F_ACK added to flags);
 * the caller appends its payload, then calls fw_batch_commit().  NULL
 * once the batch is finished or has overflowed.  The buffer keeps a
 * spare MNL_SOCKET_BUFFER_SIZE beyond cap, so one message up to that
 * size never writes out of bounds; the commit then reports overflow. */
struct nlmsghdr *fw_batch_nft_msg(struct fw_batch *b, uint16_t type,
    uint16_t family, uint16_t flags);
/* Start a raw message (rtnetlink), header only, NLM_F_REQUEST|NLM_F_ACK
 * added.  Same contract as fw_batch_nft_msg(). */
struct nlmsghdr *fw_batch_raw_msg(struct fw_batch *b, uint16_t type,
    uint16_t flags);
/* Close the message started last.  0 or FTP_ERR_TOOBIG (it overflowed the
 * buffer; the batch is then unusable). */
int fw_batch_commit(struct fw_batch *b);
/* Append the batch end (framed batches) and freeze the batch.  0 or
 * FTP_ERR_TOOBIG. */
int fw_batch_finish(struct fw_batch *b);
/* The finished bytes; NULL before fw_batch_finish(). */
const void *fw_batch_data(const struct fw_batch *b, size_t *len);
/* Number of messages that ask for an ACK. */
unsigned fw_batch_count(const struct fw_batch *b);
/* First and one-past-last sequence numbers used. */
uint32_t fw_batch_seq_first(const struct fw_batch *b);
uint32_t fw_batch_seq_end(const struct fw_batch *b);

/* Per-message callback for replies carrying data (dumps).  Return 0 to go
 * on, a negative FTP_ERR_* to abort the exchange with that error. */
typedef int (*fw_nl_data_cb)(const struct nlmsghdr *nlh, void *arg);

/*
 * Send a finished batch and drain its ACKs.  Every ACK is checked against
 * the batch's sequence numbers and our port id; the first kernel error is
 * returned.  For framed nftables batches an error means the kernel
 * aborted the whole transaction: nothing of it is left behind.
 */
int fw_nl_talk(struct fw_nl *nl, const struct fw_batch *b);

/*
 * Send one dump request (buf holds a single message with NLM_F_DUMP and
 * sequence number seq) and hand each reply to cb until NLMSG_DONE.
 */
int fw_nl_dump(struct fw_nl *nl, const void *buf, size_t len, uint32_t seq,
    fw_nl_data_cb cb, void *arg);

/* Map a positive kernel errno to our return code (sets errno). */
int fw_nl_errno(int kerr);

#endif
