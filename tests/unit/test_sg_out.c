/*
 * test_sg_out.c - cloud security groups, what comes out and what is
 * refused: the security_groups JSON entries, the cloud-<provider>.sh
 * script and its quoting, malformed and truncated files, bad evaluator
 * input.  test_sg.c has the readers and the evaluator.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "addr.h"
#include "err.h"
#include "sg.h"
#include "testsg.h"

/* The JSON entries have exactly the contract's keys. */
static void
test_json(void **state)
{
	static const char *const gkeys[] = {
		"provider", "file", "group", "paths", "fix",
	};
	struct sg_input in;
	struct sg *sg;
	json_t *arr, *g, *p, *fix;
	size_t i, j;
	const char *key;
	json_t *val;

	(void)state;
	input_init(&in, "198.51.100.7");
	sg = load_eval("aws_sg.json", &in);
	assert_non_null(arr = sg_json(sg));
	assert_int_equal(json_array_size(arr), 2);
	g = json_array_get(arr, 0);
	assert_int_equal(json_object_size(g), 5);
	for (i = 0; i < 5; i++)
		assert_non_null(json_object_get(g, gkeys[i]));
	assert_string_equal(json_string_value(json_object_get(g, "provider")),
	    "aws");
	assert_string_equal(json_string_value(json_object_get(g, "group")),
	    "sg-0a1b2c3d4e5f60001");
	json_array_foreach(json_object_get(g, "paths"), i, p) {
		assert_int_equal(json_object_size(p), 5);
		json_object_foreach(p, key, val) {
			if (strcmp(key, "port") == 0)
				assert_true(json_is_integer(val));
			else if (strcmp(key, "ports") == 0)
				assert_true(json_is_string(val));
			else if (strcmp(key, "allowed") == 0)
				assert_true(json_is_boolean(val) ||
				    json_is_null(val));
			else if (strcmp(key, "explains") == 0)
				assert_true(json_is_boolean(val));
			else if (strcmp(key, "name") != 0 &&
			    strcmp(key, "rule") != 0)
				fail_msg("unexpected key %s", key);
		}
	}
	p = json_array_get(json_object_get(g, "paths"), 0);
	assert_int_equal(json_integer_value(json_object_get(p, "port")), 21);
	p = json_array_get(json_object_get(g, "paths"), 1);
	assert_string_equal(json_string_value(json_object_get(p, "ports")),
	    "30000-30049");
	fix = json_object_get(g, "fix");
	json_array_foreach(fix, j, val)
		assert_true(json_is_string(val));
	json_decref(arr);
	sg_free(sg);
}

static void
test_script(void **state)
{
	const struct sg *sgs[3];
	struct sg_input in;
	struct sg *a, *b, *c;
	char *text = NULL, *line, *save, *copy;
	size_t n = 0;

	(void)state;
	input_init(&in, "198.51.100.7");
	a = load_eval("aws_sg.json", &in);
	b = load_eval("aws_nacl.json", &in);
	c = load_eval("aws_sg.json", &in);	/* the same file twice */
	sgs[0] = a;
	sgs[1] = b;
	sgs[2] = c;
	assert_int_equal(sg_script(sgs, 3, SG_AWS, &text), 0);
	assert_true(strncmp(text, "#!/bin/sh\nset -eu\n# cloud-aws.sh", 32) ==
	    0);
	assert_non_null(strstr(text, "network-acl acl-0a1b2c3d4e5f60002"));
	/* One command a line, each once. */
	copy = strdup(text);
	assert_non_null(copy);
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#' || strcmp(line, "set -eu") == 0)
			continue;
		assert_true(strncmp(line, "aws ec2 ", 8) == 0);
		assert_non_null(strstr(text, line));
		assert_ptr_equal(strstr(strstr(text, line) + 1, line), NULL);
		n++;
	}
	assert_true(n >= 6);
	free(copy);
	free(text);
	text = NULL;
	assert_int_equal(sg_script(sgs, 3, SG_GCP, &text), FTP_ERR_NOTFOUND);
	assert_null(text);
	sg_free(a);
	sg_free(b);
	sg_free(c);
}

/* Names from the file cannot break out of a comment or a word. */
static const char aws_evil[] =
    "{\"SecurityGroups\": [{\"GroupId\": \"sg-1'; reboot\\nreboot #\","
    " \"GroupName\": \"x\\nreboot\", \"IpPermissions\": []}]}";

static void
test_script_quoting(void **state)
{
	struct sg_input in;
	struct sg *sg = NULL;
	const struct sg *sgs[1];
	char err[256], *text = NULL;

	(void)state;
	input_init(&in, "198.51.100.7");
	assert_int_equal(sg_parse("evil\n.json", aws_evil, strlen(aws_evil),
	    &sg, err, sizeof(err)), 0);
	assert_int_equal(sg_eval(sg, &in, err, sizeof(err)), 0);
	sgs[0] = sg;
	assert_int_equal(sg_script(sgs, 1, SG_AWS, &text), 0);
	assert_null(strstr(text, "\nreboot"));
	assert_non_null(strstr(text, "--group-id 'sg-1'\\''; reboot?reboot "
	    "#' --ip-permissions"));
	assert_non_null(strstr(text, "#   evil?.json: security-group "));
	free(text);
	sg_free(sg);
}

/* Broken input: an error that names the file and the reason. */
static void
test_malformed(void **state)
{
	static const struct {
		const char *text, *why;
	} cases[] = {
		{ "hello", "not valid JSON" },
		{ "", "empty file" },
		{ " \n\t", "empty file" },
		{ "{\"SecurityGroups\": [{\"GroupId\": \"sg-1\", \"IpPerm",
		    "truncated" },
		{ "{\"foo\": 1}", "unknown shape" },
		{ "42", "unknown shape" },
		{ "[]", "empty list" },
		{ "[1, 2]", "unknown shape" },
		{ "{\"SecurityGroups\": {}}", "SecurityGroups: expected an "
		    "array, got an object" },
		{ "{\"SecurityGroups\": []}", "no security group" },
		{ "{\"SecurityGroups\": [{\"GroupName\": \"x\"}]}",
		    "no \"GroupId\"" },
		{ "{\"SecurityGroups\": [{\"GroupId\": \"sg-1\", "
		    "\"IpPermissions\": [{\"IpProtocol\": \"tcp\", \"FromPort\": "
		    "\"21\", \"ToPort\": 21}]}]}",
		    "IpPermissions[0].FromPort: expected an integer, got a "
		    "string" },
		{ "{\"SecurityGroups\": [{\"GroupId\": \"sg-1\", "
		    "\"IpPermissions\": [{\"IpProtocol\": \"tcp\", \"FromPort\": "
		    "21, \"ToPort\": 70000}]}]}", "not in 0..65535" },
		{ "{\"SecurityGroups\": [{\"GroupId\": \"sg-1\", "
		    "\"IpPermissions\": [{\"IpProtocol\": \"tcp\", \"FromPort\": "
		    "21, \"ToPort\": 20}]}]}", "bad port range" },
		{ "{\"SecurityGroups\": [{\"GroupId\": \"sg-1\", "
		    "\"IpPermissions\": [{\"IpProtocol\": \"-1\", \"IpRanges\": "
		    "[{\"CidrIp\": \"300.0.0.0/8\"}]}]}]}", "bad address" },
		{ "{\"SecurityGroups\": [{\"GroupId\": \"sg-1\", "
		    "\"GroupId\": \"sg-2\"}]}", "duplicate" },
		{ "{\"NetworkAcls\": [{\"NetworkAclId\": \"acl-1\", \"Entries\": "
		    "[{\"RuleNumber\": 1, \"Protocol\": \"6\", \"RuleAction\": "
		    "\"maybe\", \"Egress\": false, \"CidrBlock\": "
		    "\"0.0.0.0/0\"}]}]}", "neither allow nor deny" },
		{ "{\"NetworkAcls\": [{\"NetworkAclId\": \"acl-1\", \"Entries\": "
		    "[{\"RuleNumber\": 1, \"Protocol\": \"6\", \"RuleAction\": "
		    "\"allow\", \"Egress\": \"no\", \"CidrBlock\": "
		    "\"0.0.0.0/0\"}]}]}", "Egress: expected a boolean" },
		{ "{\"name\": \"n\", \"securityRules\": [{\"name\": \"r\", "
		    "\"priority\": 100, \"direction\": \"Sideways\", \"access\": "
		    "\"Allow\", \"protocol\": \"Tcp\"}]}", "Sideways" },
		{ "{\"name\": \"n\", \"securityRules\": [{\"name\": \"r\", "
		    "\"priority\": 100, \"direction\": \"Inbound\", \"access\": "
		    "\"Allow\", \"protocol\": \"Tcp\", \"sourceAddressPrefix\": "
		    "\"*\", \"destinationAddressPrefix\": \"*\", "
		    "\"destinationPortRange\": \"abc\", \"sourcePortRange\": "
		    "\"*\"}]}", "bad port or range \"abc\"" },
		{ "{\"name\": \"n\", \"securityRules\": [{\"name\": \"r\", "
		    "\"priority\": 100, \"direction\": \"Inbound\", \"access\": "
		    "\"Allow\", \"protocol\": \"Tcp\", "
		    "\"destinationPortRange\": \"21\", \"sourcePortRange\": "
		    "\"*\"}]}", "no source or destination address prefix" },
		{ "[{\"name\": \"r\", \"network\": \"n\", \"allowed\": [], "
		    "\"denied\": []}]", "exactly one of allowed and denied" },
		{ "[{\"name\": \"r\", \"network\": \"n\", \"allowed\": "
		    "[{\"IPProtocol\": \"tcp\", \"ports\": [21]}]}]",
		    "ports[0]: expected a string" },
		{ "[{\"network\": \"n\", \"allowed\": []}]", "no \"name\"" },
		{ "[{\"name\": \"r\", \"network\": \"n\", \"allowed\": [], "
		    "\"priority\": \"high\"}]", "priority: expected an integer" },
	};
	struct sg *sg;
	char err[512], name[32];
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sg = (struct sg *)&sg;	/* must stay untouched */
		snprintf(name, sizeof(name), "bad%zu.json", i);
		err[0] = '\0';
		r = sg_parse(name, cases[i].text, strlen(cases[i].text), &sg,
		    err, sizeof(err));
		if (r != FTP_ERR_INVAL || sg != (struct sg *)&sg ||
		    strncmp(err, name, strlen(name)) != 0 ||
		    strstr(err, cases[i].why) == NULL)
			fail_msg("case %zu: r %d err '%s', expected '%s'", i, r,
			    err, cases[i].why);
	}
}

/* A fixture cut in half reads as truncated; a missing file as such. */
static void
test_truncated_file(void **state)
{
	char *buf = NULL, err[512];
	struct sg *sg = NULL;
	FILE *f;
	long len;

	(void)state;
	assert_non_null(f = fopen(fixture("gcp_fw.json"), "r"));
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	rewind(f);
	assert_non_null(buf = malloc((size_t)len));
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	assert_int_equal(sg_parse("gcp_fw.json", buf, (size_t)len / 2, &sg,
	    err, sizeof(err)), FTP_ERR_INVAL);
	assert_null(sg);
	assert_non_null(strstr(err, "gcp_fw.json: truncated JSON"));
	free(buf);
	errno = 0;
	assert_int_equal(sg_load("/nonexistent/ftpath/sg.json", &sg, err,
	    sizeof(err)), FTP_ERR_SYSTEM);
	assert_int_equal(errno, ENOENT);
	assert_non_null(strstr(err, "/nonexistent/ftpath/sg.json"));
	assert_null(sg);
}

static void
test_eval_input(void **state)
{
	struct sg_group_view v;
	struct sg_input in;
	struct sg *sg = NULL;
	char err[256];

	(void)state;
	assert_int_equal(sg_load(fixture("aws_sg.json"), &sg, err,
	    sizeof(err)), 0);
	/* Nothing evaluated yet. */
	assert_int_equal(sg_group(sg, 0, &v), FTP_ERR_NOTFOUND);
	assert_null(sg_json(sg));
	input_init(&in, "198.51.100.7");
	in.client.ss_family = AF_UNSPEC;
	assert_int_equal(sg_eval(sg, &in, err, sizeof(err)), FTP_ERR_INVAL);
	assert_non_null(strstr(err, "IPv4 or IPv6"));
	input_init(&in, "198.51.100.7");
	in.passive = (struct portrange){ 30099, 30000 };
	assert_int_equal(sg_eval(sg, &in, err, sizeof(err)), FTP_ERR_INVAL);
	/* Paths left out of the input are left out of the result. */
	input_init(&in, "198.51.100.7");
	in.passive.lo = in.passive.hi = 0;
	in.active_dports.lo = in.active_dports.hi = 0;
	in.channel_port = 0;
	assert_int_equal(sg_eval(sg, &in, err, sizeof(err)), 0);
	assert_int_equal(sg_group(sg, 0, &v), 0);
	assert_int_equal(v.npaths, 1);
	assert_string_equal(v.paths[0].name, "control");
	sg_free(sg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_script),
		cmocka_unit_test(test_script_quoting),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_truncated_file),
		cmocka_unit_test(test_eval_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
