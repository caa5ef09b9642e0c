/*
 * addr.h - IPv4/IPv6 address and port utilities.
 *
 * All parsing is numeric-only unless the function name says "resolve";
 * nothing here does network I/O except addr_resolve().
 */
#ifndef FTPATH_ADDR_H
#define FTPATH_ADDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Large enough for "[v6%scope]:65535". */
#define ADDR_STRLEN 80

/*
 * An IPv4 or IPv6 socket address in the room it needs: sockaddr_in6's 28
 * bytes, not sockaddr_storage's 128, for records kept per port (a full
 * passive range keeps four per port).  Its first member is
 * sockaddr_storage's, so .ss_family reads alike; cast to struct sockaddr
 * as a sockaddr_storage is.  Anything but AF_INET/AF_INET6 is stored as
 * AF_UNSPEC (addr_inet_set).
 */
struct addr_inet {
	_Alignas(uint32_t) sa_family_t ss_family;
	char rest[26];	/* addr.c asserts: sizeof(sockaddr_in6) in all */
};

/* A sockaddr_storage or a struct addr_inet (pointer) as the struct
 * sockaddr it holds; any other type does not compile.  cppcheck 2.10
 * cannot parse _Generic (it reports broken syntax trees and crashes), so
 * make lint reads the plain cast; the compilers check the types. */
#ifdef __CPPCHECK__
#define ADDR_SA(p) ((const struct sockaddr *)(const void *)(p))
#else
#define ADDR_SA(p) _Generic((p), \
	struct sockaddr_storage *: (const struct sockaddr *)(const void *)(p), \
	const struct sockaddr_storage *: \
	    (const struct sockaddr *)(const void *)(p), \
	struct addr_inet *: (const struct sockaddr *)(const void *)(p), \
	const struct addr_inet *: (const struct sockaddr *)(const void *)(p))
#endif

struct portrange {
	uint16_t lo;
	uint16_t hi;	/* inclusive; lo <= hi, lo >= 1 */
};

/*
 * Split "host", "host:port", "[v6]:port" or a bare IPv6 literal into host
 * and port.  A missing port yields default_port.  Returns 0 or
 * FTP_ERR_INVAL (empty host, bad port, host longer than hostlen - 1).
 */
int addr_split_hostport(const char *s, uint16_t default_port, char *host,
    size_t hostlen, uint16_t *port);

/* Parse a numeric IPv4/IPv6 address (no port) into ss, port 0. */
int addr_parse_ip(const char *s, struct sockaddr_storage *ss, socklen_t *len);

/* Resolve name (A and AAAA, numeric allowed) to at most max addresses,
 * each with the given port.  Returns the count (>0) or a negative error. */
int addr_resolve(const char *name, uint16_t port, struct sockaddr_storage *out,
    int max);

socklen_t addr_len(const struct sockaddr *sa);
/* 1 when sa (may be NULL) holds an IPv4 or IPv6 address: what was
 * observed, as against a zeroed field nobody filled. */
int addr_is_inet(const struct sockaddr *sa);
uint16_t addr_port(const struct sockaddr *sa);
void addr_set_port(struct sockaddr *sa, uint16_t port);
/* Same family and address; ports and IPv4-mapped forms are compared as
 * addresses (::ffff:192.0.2.1 equals 192.0.2.1). */
int addr_equal(const struct sockaddr *a, const struct sockaddr *b);
/* Turn an IPv4-mapped IPv6 address into plain IPv4 in place. */
void addr_unmap(struct sockaddr_storage *ss);
/* sa into *out: 0 (NULL or AF_UNSPEC: AF_UNSPEC), or -1 and AF_UNSPEC
 * for a family other than IPv4/IPv6. */
int addr_inet_set(struct addr_inet *out, const struct sockaddr *sa);
/* The same as addr_unmap. */
void addr_inet_unmap(struct addr_inet *a);
/* sa into *out whole (an unknown family: only the family). */
void addr_store(struct sockaddr_storage *out, const struct sockaddr *sa);

/*
 * A network "ADDR/LEN" ("198.51.100.0/24", "2001:db8:1::/48"): numeric
 * address, no scope, no port; LEN 1..32 (IPv4) or 1..128 (IPv6) - /0
 * would be every host, which no fix may name.  Host bits past LEN are
 * kept as written (the patch writer masks them).  0 or FTP_ERR_INVAL.
 */
int addr_cidr_parse(const char *s, struct sockaddr_storage *net,
    unsigned *prefix);
/* a lies in net/prefix: the same family (v4-mapped a taken as IPv4) and
 * the first prefix bits equal.  1 or 0. */
int addr_cidr_contains(const struct sockaddr *net, unsigned prefix,
    const struct sockaddr *a);

/* "192.0.2.1" / "2001:db8::1"; returns buf ("?" on failure). */
const char *addr_ntop(const struct sockaddr *sa, char *buf, size_t len);
/* "192.0.2.1:21" / "[2001:db8::1]:21"; returns buf. */
const char *addr_ntop_port(const struct sockaddr *sa, char *buf, size_t len);
/*
 * The form people read and grep for: a v4-mapped address as plain IPv4,
 * with ":port" ("[v6]:port") when with_port and the port is not 0; "?"
 * for NULL or a family other than IPv4/IPv6.  Returns buf.
 */
const char *addr_text(const struct sockaddr *sa, int with_port, char *buf,
    size_t len);

/* Parse "lo-hi" or "port" (1..65535, lo <= hi). */
int portrange_parse(const char *s, struct portrange *out);
/* Number of ports in the range. */
unsigned portrange_count(const struct portrange *r);

/*
 * A set of TCP ports (bitmap of 65536 bits).  portset_parse accepts a
 * comma-separated list of ports and ranges: "20,21,30000-30099".
 */
struct portset;
struct portset *portset_new(void);
void portset_free(struct portset *ps);
int portset_add_range(struct portset *ps, const struct portrange *r);
int portset_parse(struct portset *ps, const char *list);
int portset_contains(const struct portset *ps, uint16_t port);
int portset_contains_range(const struct portset *ps, const struct portrange *r);
unsigned portset_count(const struct portset *ps);
/* Compact text "20-21,30000-30099" into buf; returns 0 or FTP_ERR_TOOBIG. */
int portset_format(const struct portset *ps, char *buf, size_t len);

#endif
