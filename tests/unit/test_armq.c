/*
 * test_armq.c - the arming queue: one armed session per observed
 * address, the port budget, arrival order, and every way a ticket
 * leaves.  Addresses are documentation ones.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "armq.h"
#include "err.h"

struct granted {
	int n;
	int order[16];
};

struct who {
	struct granted *g;
	int id;
};

static void
grant_cb(void *arg)
{
	struct who *w = arg;

	w->g->order[w->g->n++] = w->id;
}

static struct sockaddr_storage
A(const char *text, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t sl;

	assert_int_equal(addr_parse_ip(text, &ss, &sl), 0);
	addr_set_port((struct sockaddr *)&ss, port);
	return ss;
}

static struct armq_ticket *
enter(struct armq *q, const char *addr, size_t nports, struct who *w)
{
	struct sockaddr_storage ss = A(addr, 40000);
	struct armq_ticket *t = NULL;

	assert_int_equal(armq_enter(q, (struct sockaddr *)&ss, nports,
	    grant_cb, w, &t), 0);
	assert_non_null(t);
	return t;
}

/* Agents behind one NAT arm one after the other; others pass by. */
static void
test_one_session_per_address(void **state)
{
	struct granted g = { 0 };
	struct who w[3] = { { &g, 1 }, { &g, 2 }, { &g, 3 } };
	struct armq *q = armq_new(10000);
	struct armq_ticket *t1, *t2, *t3;

	(void)state;
	t1 = enter(q, "198.51.100.7", 101, &w[0]);
	assert_int_equal(armq_ticket_wait(t1), ARMQ_WAIT_NONE);
	/* Same address, another source port: it waits. */
	t2 = enter(q, "198.51.100.7", 101, &w[1]);
	assert_int_equal(armq_ticket_wait(t2), ARMQ_WAIT_ADDRESS);
	assert_int_equal(armq_ticket_position(q, t2), 1);
	/* Another address is not held back by that wait. */
	t3 = enter(q, "198.51.100.8", 101, &w[2]);
	assert_int_equal(armq_ticket_wait(t3), ARMQ_WAIT_NONE);
	assert_int_equal(armq_armed_ports(q), 202);
	assert_int_equal(g.n, 0);	/* granted at once: no callback */
	armq_leave(q, t1);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.order[0], 2);
	assert_int_equal(armq_ticket_wait(t2), ARMQ_WAIT_NONE);
	assert_int_equal(armq_waiting(q), 0);
	armq_leave(q, t2);
	armq_leave(q, t3);
	assert_int_equal(armq_armed_ports(q), 0);
	armq_free(q);
}

/* An IPv4-mapped address is the same agent as its IPv4 form. */
static void
test_mapped_address_is_the_same(void **state)
{
	struct granted g = { 0 };
	struct who w[2] = { { &g, 1 }, { &g, 2 } };
	struct armq *q = armq_new(10000);
	struct armq_ticket *t1, *t2;

	(void)state;
	t1 = enter(q, "203.0.113.9", 10, &w[0]);
	t2 = enter(q, "::ffff:203.0.113.9", 10, &w[1]);
	assert_int_equal(armq_ticket_wait(t2), ARMQ_WAIT_ADDRESS);
	armq_leave(q, t1);
	assert_int_equal(g.n, 1);
	armq_leave(q, t2);
	armq_free(q);
}

/* Beyond the budget, plans wait in arrival order; a large one is not
 * overtaken by small ones, and alone it arms even above the budget. */
static void
test_port_budget_in_order(void **state)
{
	struct granted g = { 0 };
	struct who w[4] = { { &g, 1 }, { &g, 2 }, { &g, 3 }, { &g, 4 } };
	struct armq *q = armq_new(300);
	struct armq_ticket *t1, *t2, *t3, *t4;

	(void)state;
	t1 = enter(q, "198.51.100.1", 200, &w[0]);
	t2 = enter(q, "198.51.100.2", 64512, &w[1]);
	assert_int_equal(armq_ticket_wait(t2), ARMQ_WAIT_PORTS);
	/* It would fit, but the large plan came first. */
	t3 = enter(q, "198.51.100.3", 50, &w[2]);
	assert_int_equal(armq_ticket_wait(t3), ARMQ_WAIT_PORTS);
	assert_int_equal(armq_ticket_position(q, t3), 2);
	armq_leave(q, t1);
	/* Alone: the large plan arms; the small one still waits. */
	assert_int_equal(g.n, 1);
	assert_int_equal(g.order[0], 2);
	assert_int_equal(armq_armed_ports(q), 64512);
	t4 = enter(q, "198.51.100.4", 1, &w[3]);
	assert_int_equal(armq_ticket_wait(t4), ARMQ_WAIT_PORTS);
	armq_leave(q, t2);
	assert_int_equal(g.n, 3);
	assert_int_equal(g.order[1], 3);
	assert_int_equal(g.order[2], 4);
	armq_leave(q, t3);
	armq_leave(q, t4);
	armq_free(q);
}

/* A waiting ticket may leave (its agent went away): nobody is granted
 * for it, and the one behind moves up. */
static void
test_waiting_ticket_leaves(void **state)
{
	struct granted g = { 0 };
	struct who w[3] = { { &g, 1 }, { &g, 2 }, { &g, 3 } };
	struct armq *q = armq_new(100);
	struct armq_ticket *t1, *t2, *t3;

	(void)state;
	t1 = enter(q, "2001:db8::1", 100, &w[0]);
	t2 = enter(q, "2001:db8::2", 100, &w[1]);
	t3 = enter(q, "2001:db8::3", 100, &w[2]);
	assert_int_equal(armq_ticket_position(q, t3), 2);
	armq_leave(q, t2);
	assert_int_equal(g.n, 0);
	assert_int_equal(armq_ticket_position(q, t3), 1);
	assert_int_equal(armq_waiting(q), 1);
	armq_leave(q, t1);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.order[0], 3);
	armq_leave(q, t3);
	armq_leave(q, NULL);
	armq_free(q);
}

/* A reload that raises the budget lets the waiting in. */
static void
test_budget_raised(void **state)
{
	struct granted g = { 0 };
	struct who w[2] = { { &g, 1 }, { &g, 2 } };
	struct armq *q = armq_new(100);
	struct armq_ticket *t1, *t2;

	(void)state;
	t1 = enter(q, "192.0.2.1", 100, &w[0]);
	t2 = enter(q, "192.0.2.2", 100, &w[1]);
	assert_int_equal(armq_ticket_wait(t2), ARMQ_WAIT_PORTS);
	armq_set_budget(q, 200);
	assert_int_equal(g.n, 1);
	assert_int_equal(armq_ticket_wait(t2), ARMQ_WAIT_NONE);
	armq_leave(q, t1);
	armq_leave(q, t2);
	armq_free(q);
}

static void
test_bad_input(void **state)
{
	struct armq *q = armq_new(0);
	struct armq_ticket *t = (struct armq_ticket *)&t;
	struct sockaddr_storage ss;

	(void)state;
	assert_non_null(q);
	assert_int_equal(armq_enter(q, NULL, 1, NULL, NULL, &t),
	    FTP_ERR_INVAL);
	assert_null(t);
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	assert_int_equal(armq_enter(q, (struct sockaddr *)&ss, 1, NULL, NULL,
	    &t), FTP_ERR_INVAL);
	assert_string_equal(armq_wait_name(ARMQ_WAIT_ADDRESS), "address");
	assert_string_equal(armq_wait_name(ARMQ_WAIT_PORTS), "ports");
	armq_free(q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_session_per_address),
		cmocka_unit_test(test_mapped_address_is_the_same),
		cmocka_unit_test(test_port_budget_in_order),
		cmocka_unit_test(test_waiting_ticket_leaves),
		cmocka_unit_test(test_budget_raised),
		cmocka_unit_test(test_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
