/*
 * test_patch.c - nft/patch without a kernel: the writer is pure, so every
 * case compares the whole script with its expected text and also checks
 * what must hold for any script (additions only, a comment line before
 * every command, family-correct matches).  patch_verify() needs the
 * kernel: tests/netns/patch_test.sh covers it; here only its refusal of
 * a script that is not additions only, which happens before libnftables.
 *
 * The expected texts live in test_patch_expect.h.  After a deliberate
 * change of the output, regenerate them with
 *   FTPATH_PATCH_DUMP=1 build/tests/test_patch > tests/unit/test_patch_expect.h
 * and read the diff: every changed line is a changed patch.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "addr.h"
#include "err.h"
#include "patch.h"
#include "testaddr.h"

#define SRV	PATCH_HOST_SERVER
#define CLI	PATCH_HOST_CLIENT
#define CLIENT4	"198.51.100.2"
#define SERVER4	"203.0.113.2"
#define CLIENT6	"2001:db8:1::2"

/* One hole, written compactly; handle 0 = the chain's policy. */
struct pcase {
	const char		*name;
	enum patch_host		 host;
	const char		*family, *table, *chain;
	uint64_t		 handle;
	const char		*hook;
	enum patch_path		 path;
	const char		*peer;
	unsigned		 prefix;
	const char		*ports;		/* "21,30000-30099" or NULL */
	enum patch_style	 style;
	int			 tls;
	enum patch_verdict	 verdict;
	int			 stateful;	/* the chain accepts related */
};

static const struct pcase cases[] = {
	{ "server_passive_handle", SRV, "inet", "filter", "input", 4, "input",
	    PATCH_PATH_PASSIVE, CLIENT4, 0, "30000-30099", PATCH_STYLE_PORTS,
	    0, PATCH_VERDICT_DROP, 0 },
	{ "server_passive_policy_helper", SRV, "inet", "filter", "input", 0,
	    "input", PATCH_PATH_PASSIVE, CLIENT4, 0, "30000-30099",
	    PATCH_STYLE_AUTO, 0, PATCH_VERDICT_DROP, 1 },
	{ "server_passive_policy_tls_ports", SRV, "inet", "filter", "input",
	    0, "input", PATCH_PATH_PASSIVE, CLIENT4, 0, "30000-30099",
	    PATCH_STYLE_AUTO, 1, PATCH_VERDICT_DROP, 1 },
	{ "server_passive_policy_not_stateful", SRV, "inet", "filter",
	    "input", 0, "input", PATCH_PATH_PASSIVE, CLIENT4, 0,
	    "30000-30099", PATCH_STYLE_AUTO, 0, PATCH_VERDICT_DROP, 0 },
	{ "server_passive_stateful_ports_forced", SRV, "inet", "filter",
	    "input", 0, "input", PATCH_PATH_PASSIVE, CLIENT4, 0,
	    "30000-30099", PATCH_STYLE_PORTS, 0, PATCH_VERDICT_DROP, 1 },
	{ "server_passive_scope24_helper", SRV, "inet", "filter", "input", 0,
	    "input", PATCH_PATH_PASSIVE, "198.51.100.3", 24, "30000-30099",
	    PATCH_STYLE_HELPER, 0, PATCH_VERDICT_DROP, 1 },
	{ "server_output_active_sport20", SRV, "inet", "filter", "output", 7,
	    "output", PATCH_PATH_ACTIVE, CLIENT4, 0, NULL, PATCH_STYLE_PORTS,
	    0, PATCH_VERDICT_REJECT, 0 },
	{ "server_output_active_helper", SRV, "inet", "filter", "output", 7,
	    "output", PATCH_PATH_ACTIVE, CLIENT4, 0, NULL, PATCH_STYLE_HELPER,
	    0, PATCH_VERDICT_DROP, 0 },
	{ "client_output_control21", CLI, "inet", "filter", "output", 3,
	    "output", PATCH_PATH_CONTROL, SERVER4, 0, NULL, PATCH_STYLE_AUTO,
	    0, PATCH_VERDICT_DROP, 0 },
	{ "client_input_active_ports", CLI, "inet", "filter", "input", 9,
	    "input", PATCH_PATH_ACTIVE, SERVER4, 0, "32768-60999",
	    PATCH_STYLE_PORTS, 0, PATCH_VERDICT_DROP, 0 },
	{ "client_input_active_helper", CLI, "inet", "filter", "input", 9,
	    NULL, PATCH_PATH_ACTIVE, SERVER4, 0, NULL, PATCH_STYLE_AUTO, 0,
	    PATCH_VERDICT_DROP, 1 },
	{ "ip_table_policy", SRV, "ip", "fw4", "INPUT", 0, "input",
	    PATCH_PATH_CONTROL, CLIENT4, 0, NULL, PATCH_STYLE_AUTO, 0,
	    PATCH_VERDICT_DROP, 0 },
	{ "ip6_table_handle", SRV, "ip6", "fw6", "input", 12, "input",
	    PATCH_PATH_PASSIVE, CLIENT6, 0, "30000-30099", PATCH_STYLE_PORTS,
	    0, PATCH_VERDICT_DROP, 0 },
	{ "inet_table_v6_peer_helper", SRV, "inet", "filter", "input", 5,
	    "input", PATCH_PATH_PASSIVE, CLIENT6, 0, NULL, PATCH_STYLE_HELPER,
	    0, PATCH_VERDICT_DROP, 0 },
	{ "port_compaction", SRV, "inet", "filter", "input", 4, "input",
	    PATCH_PATH_PASSIVE, CLIENT4, 0,
	    "30050-30099,21,30000-30049,22,25,30010-30020",
	    PATCH_STYLE_PORTS, 0, PATCH_VERDICT_DROP, 0 },
	{ "scope_override_v4", SRV, "inet", "filter", "input", 4, "input",
	    PATCH_PATH_PASSIVE, CLIENT4, 24, "30000-30099", PATCH_STYLE_PORTS,
	    0, PATCH_VERDICT_DROP, 0 },
	{ "scope_override_v6", SRV, "inet", "filter", "input", 4, "input",
	    PATCH_PATH_CONTROL, CLIENT6, 49, NULL, PATCH_STYLE_AUTO, 0,
	    PATCH_VERDICT_DROP, 0 },
	{ "server_helper_forced_despite_tls", SRV, "inet", "filter", "input",
	    4, "input", PATCH_PATH_PASSIVE, CLIENT4, 0, "30000-30099",
	    PATCH_STYLE_HELPER, 1, PATCH_VERDICT_DROP, 0 },
	{ "client_input_reply_control_helper", CLI, "inet", "filter",
	    "input", 2, "input", PATCH_PATH_CONTROL, SERVER4, 0, NULL,
	    PATCH_STYLE_HELPER, 0, PATCH_VERDICT_DROP, 0 },
	{ "server_input_reply_active_helper", SRV, "inet", "filter", "input",
	    8, "input", PATCH_PATH_ACTIVE, CLIENT4, 0, NULL,
	    PATCH_STYLE_HELPER, 0, PATCH_VERDICT_DROP, 0 },
	{ "server_output_reply_passive", SRV, "inet", "filter", "output", 6,
	    "output", PATCH_PATH_PASSIVE, CLIENT4, 0, "30000-30099",
	    PATCH_STYLE_PORTS, 0, PATCH_VERDICT_DROP, 0 },
};
#define NCASES	(sizeof(cases) / sizeof(cases[0]))

#include "test_patch_expect.h"

static struct portrange case_ports[64];

static void
hole_from(struct patch_hole *h, const struct pcase *c)
{
	char buf[256], *tok, *save = NULL;

	memset(h, 0, sizeof(*h));
	h->host = c->host;
	h->family = c->family;
	h->table = c->table;
	h->chain = c->chain;
	h->has_handle = c->handle != 0;
	h->handle = c->handle;
	h->hook = c->hook;
	h->path = c->path;
	sa_set(&h->peer, c->peer, 0);
	h->prefix = c->prefix;
	h->style = c->style;
	h->tls_offered = c->tls;
	h->stateful = c->stateful;
	h->verdict = c->verdict;
	if (c->ports == NULL)
		return;
	assert_true(strlen(c->ports) < sizeof(buf));
	strcpy(buf, c->ports);
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		assert_true(h->nports < 64);
		assert_int_equal(portrange_parse(tok, &case_ports[h->nports]),
		    0);
		h->nports++;
	}
	h->ports = case_ports;
}

/* ---- properties every script has ---- */

static int
has_word(const char *text, const char *w)
{
	return strstr(text, w) != NULL;
}

/* Every command line follows a comment line, and is add or insert. */
static void
assert_commented_additions(const char *text)
{
	const char *s, *e, *prev = NULL;

	assert_int_equal(patch_only_additions(text), 0);
	for (s = text; *s != '\0'; s = e + 1) {
		e = strchr(s, '\n');
		assert_non_null(e);	/* every line ends in a newline */
		if (s != e && *s != '#') {
			assert_non_null(prev);
			assert_int_equal(*prev, '#');
		}
		prev = s;
	}
}

static void
assert_script_properties(const char *text, const struct pcase *c)
{
	assert_false(has_word(text, "flush"));
	assert_false(has_word(text, "delete"));
	assert_false(has_word(text, "replace"));
	assert_false(has_word(text, "destroy"));
	assert_commented_additions(text);
	/* Family-correct: an ip table never gets an ip6 match, nor ip6 an
	 * ip one. */
	if (strcmp(c->family, "ip") == 0)
		assert_false(has_word(text, "ip6 "));
	if (strcmp(c->family, "ip6") == 0)
		assert_false(has_word(text, " ip saddr") ||
		    has_word(text, " ip daddr"));
	if (strchr(c->peer, ':') == NULL)
		assert_false(has_word(text, "ip6 "));
	else
		assert_false(has_word(text, " ip saddr") ||
		    has_word(text, " ip daddr"));
	/* The accept sits before the offending rule, or at the chain's end
	 * when the policy dropped it. */
	if (c->handle != 0) {
		char want[128];

		snprintf(want, sizeof(want), "\ninsert rule %s %s %s handle "
		    "%llu ", c->family, c->table, c->chain,
		    (unsigned long long)c->handle);
		assert_true(has_word(text, want));
	}
}

/* Print a script as a C string literal (for the expected-text header). */
static void
dump_literal(const char *name, const char *text)
{
	const char *p;

	printf("\t/* %s */\n\t\"", name);
	for (p = text; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p == '\n')
			printf(p[1] != '\0' ? "\\n\"\n\t\"" : "\\n\"");
		else
			putchar(*p);
	}
	printf(",\n");
}

static int
dump_expected(void)
{
	struct patch_hole h;
	char *text;
	size_t i;

	printf("/* test_patch_expect.h - generated by FTPATH_PATCH_DUMP=1 "
	    "build/tests/test_patch:\n * the expected script of each entry "
	    "of cases[] in test_patch.c. */\nstatic const char *const "
	    "expected[] = {\n");
	for (i = 0; i < NCASES; i++) {
		hole_from(&h, &cases[i]);
		if (patch_write(&h, 1, h.host, &text) != 0)
			return 1;
		dump_literal(cases[i].name, text);
		free(text);
	}
	printf("};\n");
	return 0;
}

/* ---- tests ---- */

static void
test_expected_texts(void **state)
{
	struct patch_hole h;
	char *text;
	size_t i;

	(void)state;
	assert_int_equal(sizeof(expected) / sizeof(expected[0]), NCASES);
	for (i = 0; i < NCASES; i++) {
		text = NULL;
		hole_from(&h, &cases[i]);
		assert_int_equal(patch_write(&h, 1, h.host, &text), 0);
		assert_non_null(text);
		if (strcmp(text, expected[i]) != 0)
			print_error("case %s differs\n", cases[i].name);
		assert_string_equal(text, expected[i]);
		assert_script_properties(text, &cases[i]);
		free(text);
	}
}

static void good_hole(struct patch_hole *h);

static void
test_style_effective(void **state)
{
	struct patch_hole h;

	(void)state;
	memset(&h, 0, sizeof(h));
	/* No related accepted: the chain's rules stop the data as such. */
	assert_int_equal(patch_style_effective(&h), PATCH_STYLE_PORTS);
	assert_non_null(strstr(patch_style_reason(&h), "no ct state related"));
	h.stateful = 1;		/* only the helper is missing */
	assert_int_equal(patch_style_effective(&h), PATCH_STYLE_HELPER);
	assert_non_null(strstr(patch_style_reason(&h), "stateful"));
	h.tls_offered = 1;	/* FTPS blinds the helper */
	assert_int_equal(patch_style_effective(&h), PATCH_STYLE_PORTS);
	assert_non_null(strstr(patch_style_reason(&h), "AUTH TLS"));
	h.style = PATCH_STYLE_HELPER;	/* the caller's choice wins */
	assert_int_equal(patch_style_effective(&h), PATCH_STYLE_HELPER);
	assert_non_null(strstr(patch_style_reason(&h), "--fix-style helper"));
	h.stateful = 0;
	h.tls_offered = 0;
	h.style = PATCH_STYLE_HELPER;
	assert_int_equal(patch_style_effective(&h), PATCH_STYLE_HELPER);
	h.style = PATCH_STYLE_PORTS;
	h.stateful = 1;
	assert_int_equal(patch_style_effective(&h), PATCH_STYLE_PORTS);
	assert_non_null(strstr(patch_style_reason(&h), "--fix-style ports"));
	/* The style decides data connections' own packets only. */
	good_hole(&h);
	h.hook = "input";
	assert_true(patch_style_applies(&h));		/* passive in */
	h.hook = "output";
	assert_false(patch_style_applies(&h));		/* its answers */
	h.hook = NULL;
	assert_true(patch_style_applies(&h));
	h.path = PATCH_PATH_CONTROL;
	assert_false(patch_style_applies(&h));
	h.path = PATCH_PATH_ACTIVE;
	h.hook = "output";
	assert_true(patch_style_applies(&h));		/* connect-back out */
	h.hook = "input";
	assert_false(patch_style_applies(&h));
	h.host = CLI;
	assert_true(patch_style_applies(&h));		/* it arrives there */
	h.hook = "bogus";
	assert_false(patch_style_applies(&h));
	assert_string_equal(patch_style_name(PATCH_STYLE_HELPER), "helper");
	assert_string_equal(patch_style_name(PATCH_STYLE_PORTS), "ports");
	assert_string_equal(patch_style_name(PATCH_STYLE_AUTO), "auto");
}

/* Every data-path accept names its remedy, why, and the other one; the
 * helper's always carries the FTPS warning. */
static void
test_remedy_comments(void **state)
{
	struct patch_hole h;
	char *text;
	size_t i;

	(void)state;
	for (i = 0; i < NCASES; i++) {
		hole_from(&h, &cases[i]);
		assert_int_equal(patch_write(&h, 1, h.host, &text), 0);
		if (strstr(text, "ct helper set") != NULL) {
			assert_non_null(strstr(text, "# remedy: the FTP "
			    "conntrack helper"));
			assert_non_null(strstr(text, "the other remedy, "
			    "--fix-style ports"));
			assert_non_null(strstr(text, "WARNING: FTPS (AUTH TLS) "
			    "blinds the helper"));
		} else if (h.path != PATCH_PATH_CONTROL &&
		    strstr(text, "ct state established accept") == NULL) {
			assert_non_null(strstr(text, "# remedy: the data ports "
			    "opened explicitly"));
			assert_non_null(strstr(text, "the other remedy, "
			    "--fix-style helper"));
			assert_non_null(strstr(text, "blinds the helper"));
		} else {
			assert_null(strstr(text, "# remedy:"));
		}
		/* ... and the reason is the one the hole's facts give */
		if (strstr(text, "# remedy:") != NULL)
			assert_non_null(strstr(text, patch_style_reason(&h)));
		free(text);
	}
}

static const struct portrange pasv = { 30000, 30099 };

static void
good_hole(struct patch_hole *h)
{
	memset(h, 0, sizeof(*h));
	h->host = SRV;
	h->family = "inet";
	h->table = "filter";
	h->chain = "input";
	h->has_handle = 1;
	h->handle = 4;
	h->path = PATCH_PATH_PASSIVE;
	sa_set(&h->peer, CLIENT4, 0);
	h->ports = &pasv;
	h->nports = 1;
	h->style = PATCH_STYLE_PORTS;
}

/* Each way a hole can be malformed, one field off a good hole. */
static void
test_bad_input(void **state)
{
	static const struct portrange zero = { 0, 5 }, back = { 9, 3 };
	struct patch_hole h;
	char *text = (char *)"untouched";
	int i;

	(void)state;
	for (i = 0; i < 19; i++) {
		good_hole(&h);
		switch (i) {
		case 0: h.family = "arp"; break;
		case 1: h.family = NULL; break;
		case 2: h.table = "1filter"; break;
		case 3: h.chain = "in put"; break;
		case 4: h.chain = "input;flush"; break;
		case 5: h.table = ""; break;
		case 6: h.cause = "drop\nflush ruleset"; break;
		case 7: h.prefix = 33; break;
		case 8: h.nports = 0; break;	/* ports style needs ports */
		case 9: h.hook = "ingress"; break;
		case 10: h.handle = 0; break;	/* has_handle without one */
		case 11: h.ports = &zero; break;
		case 12: h.ports = &back; break;
		case 13: h.family = "ip"; sa_set(&h.peer, CLIENT6, 0); break;
		case 14: h.family = "ip6"; break;	/* v4 peer */
		case 15: h.peer.ss_family = AF_UNSPEC; break;
		case 16: h.path = (enum patch_path)7; break;
		case 17: h.cause = ""; break;
		case 18: h.ports = NULL; break;
		}
		assert_int_equal(patch_write(&h, 1, SRV, &text), FTP_ERR_INVAL);
		assert_string_equal(text, "untouched");	/* out untouched */
	}
	good_hole(&h);
	assert_int_equal(patch_write(&h, 1, SRV, NULL), FTP_ERR_INVAL);
	assert_int_equal(patch_write(NULL, 1, SRV, &text), FTP_ERR_INVAL);
	/* no hole for this host */
	assert_int_equal(patch_write(&h, 1, CLI, &text), FTP_ERR_NOTFOUND);
	assert_int_equal(patch_write(&h, 0, SRV, &text), FTP_ERR_NOTFOUND);
	/* one bad hole spoils the whole script */
	{
		struct patch_hole two[2];

		good_hole(&two[0]);
		good_hole(&two[1]);
		two[1].table = "bad table";
		assert_int_equal(patch_write(two, 2, SRV, &text),
		    FTP_ERR_INVAL);
	}
	assert_string_equal(text, "untouched");
}

static void
test_limits(void **state)
{
	static struct patch_hole many[PATCH_HOLES_MAX + 1];
	static struct portrange lots[PATCH_PORTS_MAX + 1];
	struct patch_hole h;
	char *text = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < PATCH_HOLES_MAX + 1; i++)
		good_hole(&many[i]);
	assert_int_equal(patch_write(many, PATCH_HOLES_MAX + 1, SRV, &text),
	    FTP_ERR_TOOBIG);
	assert_int_equal(patch_write(many, PATCH_HOLES_MAX, SRV, &text), 0);
	free(text);
	/* every other port: nothing to merge, each range kept */
	for (i = 0; i < PATCH_PORTS_MAX + 1; i++)
		lots[i].lo = lots[i].hi = (uint16_t)(1024 + 2 * i);
	good_hole(&h);
	h.ports = lots;
	h.nports = PATCH_PORTS_MAX + 1;
	assert_int_equal(patch_write(&h, 1, SRV, &text), FTP_ERR_TOOBIG);
	h.nports = PATCH_PORTS_MAX;
	assert_int_equal(patch_write(&h, 1, SRV, &text), 0);
	assert_true(has_word(text, "{ 1024, 1026, "));
	assert_true(has_word(text, ", 2046 }"));
	free(text);
}

/* Two helper holes in one table: one helper object and chain, one
 * assignment per peer; a hole of the other host is left out. */
static void
test_helper_once_per_table(void **state)
{
	struct patch_hole h[4];
	char *text = NULL;
	const char *p;
	int n;

	(void)state;
	good_hole(&h[0]);
	h[0].style = PATCH_STYLE_HELPER;
	h[1] = h[0];
	h[1].path = PATCH_PATH_ACTIVE;
	h[1].chain = "output";
	h[1].hook = "output";
	h[1].nports = 0;
	h[2] = h[0];
	sa_set(&h[2].peer, "198.51.100.3", 0);
	h[3] = h[0];
	h[3].host = CLI;
	h[3].table = "clienttable";
	assert_int_equal(patch_write(h, 4, SRV, &text), 0);
	for (n = 0, p = text; (p = strstr(p, "\nadd ct helper ")) != NULL; p++)
		n++;
	assert_int_equal(n, 1);
	for (n = 0, p = text; (p = strstr(p, "\nadd chain ")) != NULL; p++)
		n++;
	assert_int_equal(n, 1);
	for (n = 0, p = text; (p = strstr(p, "ct helper set")) != NULL; p++)
		n++;
	assert_int_equal(n, 2);	/* 198.51.100.2 and .3 */
	assert_false(has_word(text, "clienttable"));
	assert_true(has_word(text, "# cause: server-local-rule\n"));
	assert_commented_additions(text);
	free(text);
}

/* A dual-stack socket's v4-mapped peer is the IPv4 host on the wire. */
static void
test_v4_mapped_peer(void **state)
{
	struct patch_hole h;
	char *text = NULL;

	(void)state;
	good_hole(&h);
	sa_set(&h.peer, "::ffff:198.51.100.2", 0);
	assert_int_equal(patch_write(&h, 1, SRV, &text), 0);
	assert_true(has_word(text, "handle 4 ip saddr 198.51.100.2 tcp "));
	free(text);
	h.prefix = 120;
	assert_int_equal(patch_write(&h, 1, SRV, &text), 0);
	assert_true(has_word(text, "handle 4 ip saddr 198.51.100.0/24 tcp "));
	free(text);
	text = NULL;
	h.prefix = 96;	/* every IPv4 host: never */
	assert_int_equal(patch_write(&h, 1, SRV, &text), FTP_ERR_INVAL);
	h.prefix = 64;
	assert_int_equal(patch_write(&h, 1, SRV, &text), FTP_ERR_INVAL);
	h.family = "ip6";	/* the packets are IPv4 */
	h.prefix = 0;
	assert_int_equal(patch_write(&h, 1, SRV, &text), FTP_ERR_INVAL);
	assert_null(text);
}

static void
test_cause_label(void **state)
{
	struct patch_hole h;
	char *text = NULL;

	(void)state;
	good_hole(&h);
	h.cause = "server-local-rule (passive, 100 ports)";
	assert_int_equal(patch_write(&h, 1, SRV, &text), 0);
	assert_true(has_word(text, "# cause: server-local-rule (passive, "
	    "100 ports)\n"));
	assert_true(has_word(text, "# answers server-local-rule (passive, "
	    "100 ports): rule inet filter input handle 4 (drop)"));
	free(text);
}

static void
test_only_additions(void **state)
{
	static const char *const bad[] = {
		"flush ruleset\n",
		"add rule inet t c accept\ndelete table inet t\n",
		"add rule inet t c accept; flush ruleset\n",
		"add chain inet t c { type filter hook input priority 0; }; "
		    "flush ruleset\n",
		"add chain inet t c { type filter hook input priority 0; } "
		    "{ x; }\n",
		"add chain inet t input { type filter hook input priority 0; "
		    "policy drop; }\n",
		"replace rule inet t c handle 4 accept\n",
		"include \"/etc/nftables.conf\"\n",
		"  list ruleset\n",
	};
	char err[128] = "";
	size_t i;

	(void)state;
	assert_int_equal(patch_only_additions(NULL), FTP_ERR_INVAL);
	assert_int_equal(patch_only_additions(""), 0);
	assert_int_equal(patch_only_additions("# flush ruleset\n\n"), 0);
	assert_int_equal(patch_only_additions(
	    "add chain inet t c { type filter hook input priority 0; }\n"
	    "insert rule inet t c handle 3 accept\n"), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(patch_only_additions(bad[i]), FTP_ERR_DENIED);
		/* refused before libnftables sees it */
		assert_int_equal(patch_verify(bad[i], err, sizeof(err)),
		    FTP_ERR_DENIED);
		assert_true(has_word(err, "additions only"));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expected_texts),
		cmocka_unit_test(test_style_effective),
		cmocka_unit_test(test_remedy_comments),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_helper_once_per_table),
		cmocka_unit_test(test_v4_mapped_peer),
		cmocka_unit_test(test_cause_label),
		cmocka_unit_test(test_only_additions),
	};

	if (getenv("FTPATH_PATCH_DUMP") != NULL)
		return dump_expected();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
