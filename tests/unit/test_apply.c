/*
 * test_apply.c - the pure half of nft/apply: script screening (refusals,
 * add -> create, comments and braces), the undo plan from a real kernel
 * echo, the plan file both ways, resolving a provisional plan against
 * real listings, and the undo commands built from a plan.
 *
 * The JSON fixtures are nftables 1.0.6 captures (fixtures/apply_gen.sh).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "err.h"

static const char before_json[] =
#include "fixtures/apply_before.inc"
    ;
static const char echo_json[] =
#include "fixtures/apply_echo.inc"
    ;
static const char after_json[] =
#include "fixtures/apply_after.inc"
    ;

/* fixtures/apply_patch.nft */
static const char patch[] =
    "insert rule inet filter input handle 4 ip saddr 198.51.100.0/24 "
    "tcp dport 21 ct state new accept\n"
    "add chain inet filter ftp_pre { type filter hook prerouting "
    "priority filter; policy accept; }\n"
    "add ct helper inet filter ftp-std { type \"ftp\" protocol tcp; }\n"
    "add element inet filter blocked { 192.0.2.50 }\n";

static const char undo_exact[] =
    "{\"nftables\":["
    "{\"delete\":{\"element\":{\"family\":\"inet\",\"table\":\"filter\","
    "\"name\":\"blocked\",\"elem\":[\"192.0.2.50\"]}}},"
    "{\"delete\":{\"ct helper\":{\"family\":\"inet\",\"table\":\"filter\","
    "\"name\":\"ftp-std\"}}},"
    "{\"delete\":{\"chain\":{\"family\":\"inet\",\"table\":\"filter\","
    "\"name\":\"ftp_pre\"}}},"
    "{\"delete\":{\"rule\":{\"family\":\"inet\",\"table\":\"filter\","
    "\"chain\":\"input\",\"handle\":5}}}]}";

/* The plan's printed lines, for comparisons. */
static char *
plan_text(const struct apply_plan *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	apply_plan_print(p, "+ ", f);
	fclose(f);
	return buf;
}

/* ---- screening ---- */

static void
test_screen_patch(void **state)
{
	struct apply_plan *p = NULL;
	char *batch = NULL, *t, err[256];

	(void)state;
	assert_int_equal(apply_screen(patch, &batch, &p, err, sizeof(err)), 0);
	/* Rules as written; every other kind loads as create. */
	assert_memory_equal(batch, "insert rule inet filter input handle 4 ",
	    39);
	assert_non_null(strstr(batch, "\ncreate chain inet filter ftp_pre {"));
	assert_non_null(strstr(batch, "\ncreate ct helper inet filter ftp-std"));
	assert_non_null(strstr(batch, "\ncreate element inet filter blocked "
	    "{ 192.0.2.50 }\n"));
	assert_null(strstr(batch, "add "));
	assert_true(apply_plan_provisional(p));
	assert_int_equal(apply_plan_count(p), 4);
	t = plan_text(p);
	assert_string_equal(t,
	    "+ rule inet filter input\n"
	    "+ chain inet filter ftp_pre\n"
	    "+ ct helper inet filter ftp-std\n"
	    "+ element inet filter blocked { 192.0.2.50 }\n");
	free(t);
	free(batch);
	apply_plan_free(p);
}

static void
test_screen_syntax(void **state)
{
	struct apply_plan *p = NULL;
	char *batch = NULL, *t, err[256];
	/* Comments naming refused verbs, ';' and newlines inside braces and
	 * strings, a continued line, implicit add, default family ip. */
	const char *s =
	    "# flush ruleset would be refused, but this is a comment\n"
	    "define PEER = 198.51.100.7\n"
	    "chain inet filter x\n"
	    "add table inet filter\n"
	    "add chain inet filter y { type filter hook output priority 0; }\n"
	    "rule filter input ip saddr $PEER accept comment \"a;b#c\"\n"
	    "add set inet filter s { type ipv4_addr;\n"
	    "    flags interval; }; add rule inet filter input \\\n"
	    "    tcp dport 21 accept\n";

	(void)state;
	assert_int_equal(apply_screen(s, &batch, &p, err, sizeof(err)), 0);
	/* Without a body, add table|chain changes nothing that exists: it
	 * stays an add; with one it is a create. */
	assert_non_null(strstr(batch, "\nchain inet filter x\n"));
	assert_non_null(strstr(batch, "\nadd table inet filter\n"));
	assert_non_null(strstr(batch, "\ncreate chain inet filter y {"));
	assert_non_null(strstr(batch, "\nrule filter input ip saddr $PEER"));
	assert_non_null(strstr(batch, "\nadd set inet filter s {"));
	assert_non_null(strstr(batch, "; add rule inet filter input"));
	t = plan_text(p);
	assert_string_equal(t,
	    "+ chain inet filter x\n"
	    "+ table inet filter\n"
	    "+ chain inet filter y\n"
	    "+ rule ip filter input\n"
	    "+ set inet filter s\n"
	    "+ rule inet filter input\n");
	free(t);
	free(batch);
	apply_plan_free(p);
}

static void
refused(const char *script, const char *want)
{
	char *batch = (char *)"untouched", err[256] = "";
	struct apply_plan *p = NULL;

	assert_int_equal(apply_screen(script, &batch, &p, err, sizeof(err)),
	    FTP_ERR_INVAL);
	if (strstr(err, want) == NULL)
		fail_msg("'%s': got '%s', want '%s'", script, err, want);
	assert_string_equal(batch, "untouched");
	assert_null(p);
}

static void
test_screen_refuses(void **state)
{
	(void)state;
	refused("add rule inet filter input accept\nflush ruleset\n",
	    "line 2: 'flush ruleset': removes or changes");
	refused("delete rule inet filter input handle 3", "removes or changes");
	refused("replace rule inet filter input handle 3 accept",
	    "removes or changes");
	refused("reset counters", "removes or changes");
	refused("rename chain inet filter input x", "removes or changes");
	refused("destroy table inet filter", "removes or changes");
	refused("add rule inet filter input accept; flush chain inet filter "
	    "input", "'flush chain inet filter input'");
	refused("include \"/etc/nftables.conf\"", "include is not screened");
	refused("table inet filter {\n chain input { policy drop; }\n}",
	    "declarative table block");
	refused("insert chain inet filter x", "insert takes rules only");
	refused("add counter inet filter c", "not an addition");
	refused("add ct timeout inet filter t { protocol tcp; }",
	    "not an addition");
	refused("list ruleset", "not an addition");
	refused("add rule inet filter input { accept", "unbalanced braces");
	refused("add rule inet filter input }", "unbalanced braces");
	refused("add rule inet filter input comment \"x", "unterminated");
	refused("# nothing\n\n", "adds nothing");
	refused("add rule inet filter", "incomplete command");
	refused("add element inet filter blocked", "incomplete command");
	refused("add rule inet filter $CHAIN accept", "literal names");
	refused("add element inet filter s { 1; 2 }", "element list with");
	refused("add element inet filter s { 1 # one\n }", "element list with");
}

/* ---- plans ---- */

static void
test_echo_plan(void **state)
{
	struct apply_item_info ii;
	struct apply_plan *p = NULL;
	char *json = NULL, *text = NULL, *t, err[256];

	(void)state;
	assert_int_equal(apply_plan_from_echo(echo_json, &p, err, sizeof(err)),
	    0);
	assert_false(apply_plan_provisional(p));
	t = plan_text(p);
	assert_string_equal(t,
	    "+ rule inet filter input handle 5\n"
	    "+ chain inet filter ftp_pre handle 6\n"
	    "+ ct helper inet filter ftp-std handle 7\n"
	    "+ element inet filter blocked [\"192.0.2.50\"]\n");
	free(t);
	assert_int_equal(apply_plan_item(p, 3, &ii), 0);
	assert_string_equal(ii.kind, "element");
	assert_string_equal(ii.chain, "blocked");
	assert_string_equal(ii.elements, "[\"192.0.2.50\"]");
	assert_int_equal(apply_plan_item(p, 0, &ii), 0);
	assert_string_equal(ii.kind, "rule");
	assert_string_equal(ii.chain, "input");
	assert_int_equal(ii.handle, 5);
	assert_int_equal(apply_plan_item(p, 4, &ii), FTP_ERR_RANGE);
	/* Newest first: our rules never outlive what they use. */
	assert_int_equal(apply_plan_undo(p, -1, &json, &text), 0);
	assert_string_equal(json, undo_exact);
	assert_null(text);
	free(json);
	/* One item alone, for the retry after a refused transaction. */
	assert_int_equal(apply_plan_undo(p, 0, &json, &text), 0);
	assert_string_equal(json, "{\"nftables\":[{\"delete\":{\"rule\":"
	    "{\"family\":\"inet\",\"table\":\"filter\",\"chain\":\"input\","
	    "\"handle\":5}}}]}");
	free(json);
	assert_int_equal(apply_plan_undo(p, 4, &json, &text), FTP_ERR_INVAL);
	apply_plan_free(p);
}

static void
test_echo_bad(void **state)
{
	struct apply_plan *p = NULL;
	char err[256];

	(void)state;
	assert_int_equal(apply_plan_from_echo("not json", &p, err,
	    sizeof(err)), FTP_ERR_PROTO);
	/* A kind we cannot undo, a rule without handle, a bad name. */
	assert_int_equal(apply_plan_from_echo("{\"nftables\": [{\"add\": "
	    "{\"counter\": {\"family\": \"inet\", \"table\": \"t\", "
	    "\"name\": \"c\"}}}]}", &p, err, sizeof(err)), FTP_ERR_PROTO);
	assert_int_equal(apply_plan_from_echo("{\"nftables\": [{\"add\": "
	    "{\"rule\": {\"family\": \"inet\", \"table\": \"t\", "
	    "\"chain\": \"c\"}}}]}", &p, err, sizeof(err)), FTP_ERR_PROTO);
	assert_int_equal(apply_plan_from_echo("{\"nftables\": [{\"add\": "
	    "{\"rule\": {\"family\": \"inet\", \"table\": \"t x\", "
	    "\"chain\": \"c\", \"handle\": 3}}}]}", &p, err, sizeof(err)),
	    FTP_ERR_PROTO);
	assert_null(p);
}

static void
test_plan_file(void **state)
{
	struct apply_plan *p = NULL, *q = NULL, *prov = NULL;
	char *enc = NULL, *enc2 = NULL, *json = NULL, *text = NULL;
	char *batch = NULL, err[256];

	(void)state;
	assert_int_equal(apply_plan_from_echo(echo_json, &p, err, sizeof(err)),
	    0);
	assert_int_equal(apply_plan_encode(p, &enc), 0);
	assert_int_equal(apply_plan_decode(enc, &q, err, sizeof(err)), 0);
	assert_int_equal(apply_plan_encode(q, &enc2), 0);
	assert_string_equal(enc, enc2);
	assert_int_equal(apply_plan_undo(q, -1, &json, &text), 0);
	assert_string_equal(json, undo_exact);
	free(json);
	free(enc);
	free(enc2);
	apply_plan_free(q);
	q = NULL;
	/* A provisional plan keeps its watermarks and element text. */
	assert_int_equal(apply_screen(patch, &batch, &prov, err, sizeof(err)),
	    0);
	assert_int_equal(apply_plan_watermarks(prov, before_json), 0);
	assert_int_equal(apply_plan_encode(prov, &enc), 0);
	assert_non_null(strstr(enc, "\"handle\": 4"));
	assert_non_null(strstr(enc, "\"text\": \"{ 192.0.2.50 }\""));
	assert_int_equal(apply_plan_decode(enc, &q, err, sizeof(err)), 0);
	assert_true(apply_plan_provisional(q));
	assert_int_equal(apply_plan_undo(q, -1, &json, &text), FTP_ERR_INVAL);
	free(enc);
	free(batch);
	apply_plan_free(q);
	apply_plan_free(prov);
	apply_plan_free(p);
}

static void
test_plan_file_bad(void **state)
{
	struct apply_plan *p = NULL;
	char err[256];
	static const char *const bad[] = {
		"",
		"[]",
		"{\"ftpath_apply_plan\": 2, \"provisional\": false, "
		    "\"items\": []}",
		"{\"ftpath_apply_plan\": 1, \"items\": []}",
		/* a name that would add words to a command */
		"{\"ftpath_apply_plan\": 1, \"provisional\": false, \"items\": "
		    "[{\"kind\": \"chain\", \"family\": \"inet\", \"table\": "
		    "\"filter\", \"name\": \"x; flush ruleset\"}]}",
		"{\"ftpath_apply_plan\": 1, \"provisional\": false, \"items\": "
		    "[{\"kind\": \"rule\", \"family\": \"inet6\", \"table\": "
		    "\"filter\", \"chain\": \"input\", \"handle\": 3}]}",
		"{\"ftpath_apply_plan\": 1, \"provisional\": false, \"items\": "
		    "[{\"kind\": \"rule\", \"family\": \"inet\", \"table\": "
		    "\"filter\", \"handle\": 3}]}",
		/* element text must be one brace block, nothing after */
		"{\"ftpath_apply_plan\": 1, \"provisional\": true, \"items\": "
		    "[{\"kind\": \"element\", \"family\": \"inet\", \"table\": "
		    "\"filter\", \"chain\": \"s\", \"text\": \"{ 1 }; flush "
		    "ruleset; {}\"}]}",
		"{\"ftpath_apply_plan\": 1, \"provisional\": false, \"items\": "
		    "[{\"kind\": \"quota\", \"family\": \"inet\", \"table\": "
		    "\"filter\", \"name\": \"q\"}]}",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (apply_plan_decode(bad[i], &p, err, sizeof(err)) !=
		    FTP_ERR_PROTO)
			fail_msg("accepted: %s", bad[i]);
		assert_null(p);
	}
}

/* ---- resolving a provisional plan ---- */

static struct apply_plan *
provisional(const char *script, const char *listing)
{
	struct apply_plan *p = NULL;
	char *batch = NULL, err[256];

	assert_int_equal(apply_screen(script, &batch, &p, err, sizeof(err)),
	    0);
	assert_int_equal(apply_plan_watermarks(p, listing), 0);
	free(batch);
	return p;
}

static void
test_resolve_loaded(void **state)
{
	struct apply_plan *prov = provisional(patch, before_json), *ex = NULL;
	char *json = NULL, *text = NULL, *t, err[256];
	int loaded = 0;

	(void)state;
	/* The table's own handle (7) is above the new rule's (5): the
	 * watermark must count only the table's objects (max 4). */
	assert_int_equal(apply_plan_resolve(prov, after_json, &ex, &loaded,
	    err, sizeof(err)), 0);
	assert_true(loaded);
	assert_false(apply_plan_provisional(ex));
	t = plan_text(ex);
	assert_string_equal(t,
	    "+ rule inet filter input handle 5\n"
	    "+ chain inet filter ftp_pre handle 6\n"
	    "+ ct helper inet filter ftp-std handle 7\n"
	    "+ element inet filter blocked { 192.0.2.50 }\n");
	free(t);
	assert_int_equal(apply_plan_undo(ex, -1, &json, &text), 0);
	assert_string_equal(text,
	    "delete element inet filter blocked { 192.0.2.50 }\n");
	assert_non_null(strstr(json, "\"chain\":\"input\",\"handle\":5"));
	free(json);
	free(text);
	apply_plan_free(ex);
	apply_plan_free(prov);
}

static void
test_resolve_not_loaded(void **state)
{
	struct apply_plan *prov = provisional(patch, before_json), *ex = NULL;
	char err[256];
	int loaded = 1;

	(void)state;
	/* Nothing with a name or a handle is there: the atomic load did not
	 * happen, so the element is not deleted either. */
	assert_int_equal(apply_plan_resolve(prov, before_json, &ex, &loaded,
	    err, sizeof(err)), 0);
	assert_false(loaded);
	assert_int_equal(apply_plan_count(ex), 0);
	apply_plan_free(ex);
	apply_plan_free(prov);
}

static void
test_resolve_ambiguous(void **state)
{
	/* A watermark of 2: rules 3, 4 and 5 are all "new", the script added
	 * one: apply must not guess. */
	static const char low[] = "{\"nftables\": [{\"table\": {\"family\": "
	    "\"inet\", \"name\": \"filter\", \"handle\": 9}}, {\"set\": "
	    "{\"family\": \"inet\", \"name\": \"blocked\", \"table\": "
	    "\"filter\", \"handle\": 2}}]}";
	struct apply_plan *prov, *ex = NULL;
	char err[256] = "";
	int loaded = 0;

	(void)state;
	prov = provisional("add rule inet filter input accept\n", low);
	assert_int_equal(apply_plan_resolve(prov, after_json, &ex, &loaded,
	    err, sizeof(err)), FTP_ERR_DENIED);
	assert_non_null(strstr(err, "not guessing"));
	assert_null(ex);
	apply_plan_free(prov);
}

static void
test_drop_existing(void **state)
{
	/* The patch's idiom "add table inet filter": the table was there
	 * before, so neither plan may ever delete it. */
	static const char script[] = "add table inet filter\n"
	    "add chain inet filter input\n"
	    "add chain inet filter ftp_pre { type filter hook prerouting "
	    "priority 0; }\n"
	    "add rule inet filter input tcp dport 21 accept\n";
	static const char echo[] = "{\"nftables\": [{\"add\": {\"table\": "
	    "{\"family\": \"inet\", \"name\": \"filter\", \"handle\": 6}}}, "
	    "{\"add\": {\"table\": {\"family\": \"inet\", \"name\": "
	    "\"new\", \"handle\": 7}}}]}";
	struct apply_plan *prov = provisional(script, before_json), *p = NULL;
	struct apply_plan *q = NULL;
	char *t, *enc = NULL, *json = NULL, *text = NULL, err[256];

	(void)state;
	assert_int_equal(apply_plan_drop_existing(prov, before_json), 0);
	t = plan_text(prov);
	assert_string_equal(t,
	    "+ chain inet filter ftp_pre\n"
	    "+ rule inet filter input\n");
	free(t);
	assert_int_equal(apply_plan_from_echo(echo, &p, err, sizeof(err)), 0);
	assert_int_equal(apply_plan_drop_existing(p, before_json), 0);
	t = plan_text(p);
	assert_string_equal(t, "+ table inet new\n");
	free(t);
	/* A table item through the plan file and into its undo. */
	assert_int_equal(apply_plan_encode(p, &enc), 0);
	assert_int_equal(apply_plan_decode(enc, &q, err, sizeof(err)), 0);
	assert_int_equal(apply_plan_undo(q, -1, &json, &text), 0);
	assert_string_equal(json, "{\"nftables\":[{\"delete\":{\"table\":"
	    "{\"family\":\"inet\",\"name\":\"new\"}}}]}");
	free(json);
	free(enc);
	apply_plan_free(q);
	apply_plan_free(p);
	apply_plan_free(prov);
}

static void
test_check_new(void **state)
{
	struct apply_plan *p;
	char *batch = NULL, err[256] = "";
	static const char fresh[] = "add set inet filter peers { type "
	    "ipv4_addr; flags interval; elements = { 198.51.100.0/24 } }\n";

	(void)state;
	/* Sets stay add (1.0.6 drops inline elements on create)... */
	assert_int_equal(apply_screen(fresh, &batch, NULL, err, sizeof(err)),
	    0);
	assert_string_equal(batch, fresh);
	free(batch);
	p = provisional(fresh, before_json);
	assert_int_equal(apply_plan_check_new(p, before_json, err,
	    sizeof(err)), 0);
	apply_plan_free(p);
	/* ... so apply refuses one that exists itself. */
	p = provisional("add set inet filter blocked { type ipv4_addr; "
	    "elements = { 192.0.2.77 } }\n", before_json);
	assert_int_equal(apply_plan_check_new(p, before_json, err,
	    sizeof(err)), FTP_ERR_INVAL);
	assert_non_null(strstr(err, "set inet filter blocked exists already"));
	apply_plan_free(p);
}

static void
test_keep_live(void **state)
{
	/* The same table made again: handle 9 instead of 7. */
	static const char remade[] = "{\"nftables\": [{\"table\": {\"family\": "
	    "\"inet\", \"name\": \"filter\", \"handle\": 9}}, {\"rule\": "
	    "{\"family\": \"inet\", \"table\": \"filter\", \"chain\": "
	    "\"input\", \"handle\": 5}}]}";
	struct apply_plan *p = NULL, *q = NULL;
	char *enc = NULL, err[256];
	size_t dropped = 99;

	(void)state;
	assert_int_equal(apply_plan_from_echo(echo_json, &p, err, sizeof(err)),
	    0);
	assert_int_equal(apply_plan_watermarks(p, before_json), 0);
	/* The table's own handle goes into the plan file and back. */
	assert_int_equal(apply_plan_encode(p, &enc), 0);
	assert_non_null(strstr(enc, "\"table_handle\": 7"));
	assert_int_equal(apply_plan_decode(enc, &q, err, sizeof(err)), 0);
	free(enc);
	assert_int_equal(apply_plan_keep_live(q, after_json, &dropped), 0);
	assert_int_equal(dropped, 0);
	assert_int_equal(apply_plan_count(q), 4);
	/* Rule 5 of the new table is the operator's, not ours. */
	assert_int_equal(apply_plan_keep_live(q, remade, &dropped), 0);
	assert_int_equal(dropped, 4);
	assert_int_equal(apply_plan_count(q), 0);
	apply_plan_free(q);
	apply_plan_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_screen_patch),
		cmocka_unit_test(test_screen_syntax),
		cmocka_unit_test(test_screen_refuses),
		cmocka_unit_test(test_echo_plan),
		cmocka_unit_test(test_echo_bad),
		cmocka_unit_test(test_plan_file),
		cmocka_unit_test(test_plan_file_bad),
		cmocka_unit_test(test_resolve_loaded),
		cmocka_unit_test(test_resolve_not_loaded),
		cmocka_unit_test(test_resolve_ambiguous),
		cmocka_unit_test(test_drop_existing),
		cmocka_unit_test(test_keep_live),
		cmocka_unit_test(test_check_new),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
