/*
 * divert.c - policy route for tproxy diversion (see divert.h).
 */
#include "divert.h"
#include "err.h"
#include "privops.h"

int
divert_route_add(int family)
{
	return privops_route(1, family);
}

int
divert_route_del(int family)
{
	return privops_route(0, family);
}
