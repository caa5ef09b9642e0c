/*
 * testaddr.h - address set-up shared by the cmocka suites.
 *
 * Include after <cmocka.h>: a bad literal fails the test, not the build.
 */
#ifndef FTPATH_TESTADDR_H
#define FTPATH_TESTADDR_H

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"

/* ss = ip (v4 or v6 literal) : port. */
static inline void
sa_set(struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(ip, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)(void *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		assert_int_equal(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		assert_int_equal(inet_pton(AF_INET, ip, &s4->sin_addr), 1);
	}
}

/* The same into an observation's compact address. */
static inline void
inet_set(struct addr_inet *a, const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;

	sa_set(&ss, ip, port);
	assert_int_equal(addr_inet_set(a, (struct sockaddr *)&ss), 0);
}

#endif
