/*
 * testsg.h - fixtures and assertions shared by the security-group
 * suites (test_sg.c, test_sg_out.c).
 *
 * Include after <cmocka.h> and sg.h.  The fixtures sit in
 * tests/unit/fixtures/sg, found from this file's path: make runs the
 * suites from the top of the tree.
 */
#ifndef FTPATH_TESTSG_H
#define FTPATH_TESTSG_H

#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "sg.h"

/* The path of fixture name. */
static inline const char *
fixture(const char *name)
{
	static char path[512];
	const char *slash = strrchr(__FILE__, '/');
	int dir = slash != NULL ? (int)(slash - __FILE__) : 1;

	snprintf(path, sizeof(path), "%.*s/fixtures/sg/%s", dir,
	    slash != NULL ? __FILE__ : ".", name);
	return path;
}

/* The usual situation: a public client, passive 30000-30099, active
 * to 40000-40009, nothing measured yet. */
static inline void
input_init(struct sg_input *in, const char *client)
{
	socklen_t l;

	memset(in, 0, sizeof(*in));
	assert_int_equal(addr_parse_ip(client, &in->client, &l), 0);
	assert_int_equal(addr_parse_ip("203.0.113.10", &in->server, &l), 0);
	in->control_port = 21;
	in->passive = (struct portrange){ 30000, 30099 };
	in->active_sport = 20;
	in->active_dports = (struct portrange){ 40000, 40009 };
	in->channel_port = 7021;
}

static inline void
measure(struct sg_input *in, enum sg_path p, const struct sg_measure *m,
    size_t n)
{
	in->measure[p] = m;
	in->nmeasure[p] = n;
}

static inline struct sg *
load_eval(const char *name, const struct sg_input *in)
{
	struct sg *sg = NULL;
	char err[512] = "";

	if (sg_load(fixture(name), &sg, err, sizeof(err)) != 0)
		fail_msg("load %s: %s", name, err);
	if (sg_eval(sg, in, err, sizeof(err)) != 0)
		fail_msg("eval %s: %s", name, err);
	return sg;
}

/* The group whose id is id. */
static inline void
group(const struct sg *sg, const char *id, struct sg_group_view *v)
{
	size_t i;

	for (i = 0; sg_group(sg, i, v) == 0; i++)
		if (strcmp(v->group, id) == 0)
			return;
	fail_msg("no group %s", id);
}

/* The run of path name that holds port. */
static inline const struct sg_path_view *
run(const struct sg_group_view *v, const char *name, unsigned port)
{
	size_t i;

	for (i = 0; i < v->npaths; i++)
		if (strcmp(v->paths[i].name, name) == 0 &&
		    port >= v->paths[i].ports.lo &&
		    port <= v->paths[i].ports.hi)
			return &v->paths[i];
	fail_msg("no %s run holds %u", name, port);
	return NULL;
}

static inline void
assert_run(const struct sg_path_view *p, unsigned lo, unsigned hi,
    enum sg_allow allowed, int explains, const char *rule)
{
	if (p->ports.lo != lo || p->ports.hi != hi || p->allowed != allowed ||
	    p->explains != explains || strcmp(p->rule, rule) != 0)
		fail_msg("%s %u-%u allowed %d explains %d rule '%s' (note '%s'); "
		    "expected %u-%u %d %d '%s'", p->name, p->ports.lo,
		    p->ports.hi, p->allowed, p->explains, p->rule,
		    p->note != NULL ? p->note : "", lo, hi, allowed, explains,
		    rule);
}

static inline void
assert_note(const struct sg_path_view *p, const char *part)
{
	if (p->note == NULL || strstr(p->note, part) == NULL)
		fail_msg("note of %s %u-%u: '%s' lacks '%s'", p->name,
		    p->ports.lo, p->ports.hi, p->note != NULL ? p->note :
		    "(none)", part);
}

static inline int
has_fix(const struct sg_group_view *v, const char *cmd)
{
	size_t i;

	for (i = 0; i < v->nfix; i++)
		if (strcmp(v->fix[i], cmd) == 0)
			return 1;
	return 0;
}

static inline void
assert_fix(const struct sg_group_view *v, const char *cmd)
{
	size_t i;

	if (has_fix(v, cmd))
		return;
	for (i = 0; i < v->nfix; i++)
		print_message("fix: %s\n", v->fix[i]);
	fail_msg("%s: no fix '%s'", v->group, cmd);
}

static inline int
has_assumption(const struct sg_group_view *v, const char *part)
{
	size_t i;

	for (i = 0; i < v->nassumptions; i++)
		if (strstr(v->assumptions[i], part) != NULL)
			return 1;
	return 0;
}

#endif
