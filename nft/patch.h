/*
 * patch.h - the fix for a local nftables rule that drops FTP: an nftables
 * script (text for `nft -f`) and its check by the kernel.
 *
 * The classifier names the rule that dropped a probe (family, table,
 * chain, handle, from the host's nftables trace); each such finding is a
 * "hole" to open.  patch_write() turns the holes of one host into a
 * script that only adds: for every hole the narrowest accept (the peer's
 * prefix, the ports, connection tracking state) inserted right before the
 * offending rule in its own chain, or appended to the chain when its
 * policy dropped the packet.  It does no I/O and reads no ruleset: what
 * it writes follows from the holes alone, so unit tests compare texts.
 *
 * FTP needs more than open ports.  Style PATCH_STYLE_HELPER relies on the
 * kernel's FTP conntrack helper: the script adds a `ct helper` object to
 * the offending table, a chain of its own that assigns it to the control
 * connection (prerouting on the server, output on the client: since
 * Linux 6.0 no helper is assigned automatically), and accepts
 * `ct state established,related` from the peer before the offending rule.
 * With FTPS (AUTH TLS) the control connection is encrypted and the helper
 * cannot read PORT/227, so PATCH_STYLE_PORTS opens the data ports
 * explicitly instead.  PATCH_STYLE_AUTO picks HELPER only where the
 * helper is what is missing: the offending chain accepts `ct state
 * related` (a stateful firewall; the hole's `stateful`) and the server
 * was not seen offering AUTH TLS; PORTS otherwise (a rule that drops the
 * data ports as such is answered by opening them).  Every data-path
 * accept says in a comment which remedy it uses and why, and names the
 * other one (with the FTPS warning for the helper).
 *
 * States.  Without the helper the accept takes `ct state new,established`:
 * the offending rule usually stops every packet of the connection, not
 * only its first, and nothing before it need accept established ones.
 * With the helper it is `established,related` (an announced data
 * connection starts related), for answers `established`.
 *
 * Directions.  On the server host control and passive connections arrive
 * (the peer is the source, the ports are destination ports) and active
 * ones leave from the data port (20) to the peer's ports; on the client
 * host the other way round.  A hole whose hook is known and runs against
 * that direction (an output chain on the server dropping the answers of a
 * passive connection) is a reply hole: the accept matches the answers
 * (`ip daddr PEER tcp sport PORTS ct state established`).
 *
 * Loading a script twice adds its rules twice (harmless duplicates): it
 * names nothing it would have to find or remove first.
 *
 * patch_verify() hands a script to libnftables in check mode against the
 * live ruleset of the caller's network namespace: the kernel parses and
 * validates the whole transaction and applies none of it.  Listing the
 * ruleset needs CAP_NET_ADMIN.
 *
 * Ownership: the input is borrowed for the duration of the call.
 * patch_write() returns a malloc'd string the caller frees.
 *
 * Errors: 0 or a negative FTP_ERR_* (err.h); out-parameters are set only
 * on success.
 */
#ifndef FTPATH_PATCH_H
#define FTPATH_PATCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "addr.h"

/* The helper object and the chains that assign it (names in the
 * offending table). */
#define PATCH_HELPER_NAME	"ftp-standard"
#define PATCH_HELPER_CHAIN_PRE	"ftp_helper_pre"
#define PATCH_HELPER_CHAIN_OUT	"ftp_helper_out"

#define PATCH_HOLES_MAX		64	/* holes in one script */
#define PATCH_PORTS_MAX		512	/* port ranges in one hole */

enum patch_host {
	PATCH_HOST_SERVER = 0,	/* the FTP server's host (server.nft) */
	PATCH_HOST_CLIENT,	/* the agent's host (client.nft) */
};

enum patch_path {
	PATCH_PATH_CONTROL = 0,	/* client -> server control port */
	PATCH_PATH_PASSIVE,	/* client -> server passive range */
	PATCH_PATH_ACTIVE,	/* server data port (20) -> client ports */
};

enum patch_style {
	PATCH_STYLE_AUTO = 0,	/* HELPER if stateful && !tls_offered */
	PATCH_STYLE_HELPER,	/* conntrack helper + ct state related */
	PATCH_STYLE_PORTS,	/* open the data ports explicitly */
};

enum patch_verdict {
	PATCH_VERDICT_DROP = 0,
	PATCH_VERDICT_REJECT,
};

/*
 * One hole to open, as the trace named it.  Zero-initialised fields take
 * the defaults noted.  All pointers are borrowed.
 */
struct patch_hole {
	enum patch_host		 host;
	/* The offending rule: family "inet", "ip" or "ip6"; table and chain
	 * names of [A-Za-z0-9_.-] not starting with a digit or '-'. */
	const char		*family;
	const char		*table;
	const char		*chain;
	int			 has_handle;	/* 0: the chain's policy */
	uint64_t		 handle;
	enum patch_verdict	 verdict;
	/* "input", "output", "prerouting", "postrouting", "forward" or
	 * NULL/"" when not known (forward and unknown: the connection's own
	 * direction is assumed); any other hook is FTP_ERR_INVAL. */
	const char		*hook;
	enum patch_path		 path;
	/* Peer scope: the peer's address (v4 or v6; port ignored) and
	 * prefix length, 0 = the host itself (/32, /128).  A --fix-scope
	 * CIDR goes here too.  A patch always names a source: /0 cannot be
	 * expressed. */
	struct sockaddr_storage	 peer;
	unsigned		 prefix;
	/* Control and passive: the server's ports (control: default
	 * control_port; passive: required unless style HELPER).  Active:
	 * the client's data ports, 0 ranges = any port.  Unsorted,
	 * overlapping and adjacent ranges are merged. */
	const struct portrange	*ports;
	size_t			 nports;
	uint16_t		 control_port;	/* default 21 */
	uint16_t		 data_port;	/* active source port, default 20 */
	enum patch_style	 style;
	int			 tls_offered;	/* the server offers AUTH TLS */
	/* The offending chain accepts `ct state related` (a stateful
	 * firewall: the data connections die only because no helper makes
	 * them related). */
	int			 stateful;
	/* Cause label for the comments, e.g. "server-local-rule": one line
	 * of printable ASCII, at most 200 bytes (NULL: server-local-rule or
	 * client-local-rule by host). */
	const char		*cause;
};

/*
 * Write the script for the holes of `host` (holes of the other host are
 * skipped) into *out (malloc'd, NUL-terminated; the caller frees it).
 * Returns 0, FTP_ERR_INVAL for a malformed hole (bad family or name, a
 * peer of the wrong family for an ip/ip6 table, missing ports, a hook
 * that is not on the host's path, a cause with a newline, a prefix too
 * long), FTP_ERR_NOTFOUND if no hole is for `host`, FTP_ERR_TOOBIG for
 * more than PATCH_HOLES_MAX holes or PATCH_PORTS_MAX ranges, or
 * FTP_ERR_NOMEM.  The script never removes or changes what exists: every
 * command is `add` or `insert`.
 */
int patch_write(const struct patch_hole *holes, size_t nholes,
    enum patch_host host, char **out);

/* The style a hole gets: its own, or for PATCH_STYLE_AUTO the one
 * stateful and tls_offered imply. */
enum patch_style patch_style_effective(const struct patch_hole *h);

/* Why patch_style_effective() chose its style: one static sentence for
 * the patch's comment and the report, e.g. "the server offers AUTH TLS,
 * which blinds the helper". */
const char *patch_style_reason(const struct patch_hole *h);

/* Does the style decide how this hole is opened: a data connection's
 * own packets (passive or active, not their answers, which are
 * established either way)?  An unknown hook counts as the connection's
 * own direction, as in patch_write().  1 or 0. */
int patch_style_applies(const struct patch_hole *h);

/* "helper" or "ports" (AUTO: "auto"). */
const char *patch_style_name(enum patch_style s);

/*
 * Pure safety check of a script's text: 0 if every command (lines that
 * are not blank or comments) is an `add` or `insert`, one to a line (a
 * ';' only inside one closing { } block), and no block names a policy
 * (that would change an existing chain's); FTP_ERR_DENIED otherwise,
 * FTP_ERR_INVAL for NULL.
 */
int patch_only_additions(const char *text);

/*
 * Check `text` with libnftables in check mode (nothing is applied)
 * against the live ruleset of the current network namespace.  Returns 0
 * if the kernel accepts it; FTP_ERR_INVAL if nft or the kernel rejects it
 * (err gets nft's message, e.g. "Error: Could not process rule: No such
 * file or directory" with the line it points at); FTP_ERR_DENIED if the
 * text is not additions only (patch_only_additions) or the ruleset could
 * not be read for lack of CAP_NET_ADMIN (errno EPERM: not the patch's
 * fault); FTP_ERR_NOMEM.  err may be NULL or errlen 0; it is written on
 * failure only.
 */
int patch_verify(const char *text, char *err, size_t errlen);
/*
 * From now on patch_verify() asks fn instead (NULL: itself): a process
 * without CAP_NET_ADMIN has its privileged helper run the check mode
 * (reflector/privops.h), which does patch_only_additions() again first.
 * fn must not call patch_verify() back.
 */
typedef int (*patch_verify_fn)(const char *text, char *err, size_t errlen);
void patch_verify_delegate(patch_verify_fn fn);

#endif
