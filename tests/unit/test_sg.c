/*
 * test_sg.c - cloud security groups, readers and evaluator: provider
 * detection, the AWS security group and network ACL, Azure NSG and GCP
 * firewall readers on fixtures in the providers' documented shapes
 * (tests/unit/fixtures/sg), rule order, deny before allow, prefixes
 * v4/v6, partial port ranges, disabled rules, service tags, stateless
 * return traffic, explained or not, and the fix commands.
 * test_sg_out.c has the JSON, the script and malformed input.
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
#include "sg_int.h"
#include "testsg.h"

static const struct sg_measure passive_half[] = {
	{ { 30000, 30049 }, SG_PASSED, NULL },
	{ { 30050, 30099 }, SG_FAILED, "path-silent-drop" },
};
static const struct sg_measure pass_all = { { 0, 0 }, SG_PASSED, NULL };
static const struct sg_measure drop_all = { { 0, 0 }, SG_FAILED,
    "path-silent-drop" };

static void
test_detect(void **state)
{
	static const struct {
		const char *file;
		enum sg_provider p;
		size_t groups;
		const char *kind;
	} cases[] = {
		{ "aws_sg.json", SG_AWS, 2, "security-group" },
		{ "aws_nacl.json", SG_AWS, 3, "network-acl" },
		{ "azure_nsg.json", SG_AZURE, 1, "nsg" },
		{ "azure_nsg_rest.json", SG_AZURE, 1, "nsg" },
		{ "gcp_fw.json", SG_GCP, 2, "firewall" },
	};
	struct sg_group_view v;
	struct sg_input in;
	struct sg *sg;
	size_t i;

	(void)state;
	input_init(&in, "198.51.100.7");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sg = load_eval(cases[i].file, &in);
		assert_int_equal(sg_provider(sg), cases[i].p);
		assert_int_equal(sg_count(sg), cases[i].groups);
		assert_int_equal(sg_group(sg, 0, &v), 0);
		assert_string_equal(v.kind, cases[i].kind);
		assert_string_equal(v.provider, sg_provider_name(cases[i].p));
		assert_string_equal(v.file, fixture(cases[i].file));
		assert_int_equal(sg_group(sg, cases[i].groups, &v),
		    FTP_ERR_NOTFOUND);
		sg_free(sg);
	}
	assert_string_equal(sg_script_name(SG_GCP), "cloud-gcp.sh");
	sg_free(NULL);
}

/* AWS: rules are a union of allows; the rest of the range is the
 * default deny, which explains the measured drop. */
static void
test_aws_sg(void **state)
{
	struct sg_group_view v;
	struct sg_input in;
	struct sg *sg;

	(void)state;
	input_init(&in, "198.51.100.7");
	measure(&in, SG_PATH_CONTROL, &pass_all, 1);
	measure(&in, SG_PATH_PASSIVE, passive_half, 2);
	measure(&in, SG_PATH_ACTIVE, &drop_all, 1);
	sg = load_eval("aws_sg.json", &in);
	group(sg, "sg-0a1b2c3d4e5f60001", &v);
	assert_string_equal(v.name, "ftp-server");
	assert_run(run(&v, "control", 21), 21, 21, SG_ALLOWED, 1,
	    "ingress tcp 21 from 198.51.100.0/24");
	assert_run(run(&v, "passive", 30000), 30000, 30049, SG_ALLOWED, 1,
	    "ingress tcp 30000-30049 from 0.0.0.0/0");
	assert_run(run(&v, "passive", 30099), 30050, 30099, SG_DENIED, 1,
	    "default");
	/* Protocol "6" is tcp too. */
	assert_run(run(&v, "channel", 7021), 7021, 7021, SG_ALLOWED, 0,
	    "ingress tcp 7021 from 198.51.100.7/32");
	assert_note(run(&v, "channel", 7021), "not measured");
	/* Allowed here but failed: look elsewhere. */
	assert_run(run(&v, "active", 40000), 40000, 40009, SG_ALLOWED, 0,
	    "egress all to 0.0.0.0/0");
	assert_note(run(&v, "active", 40000), "network ACL");
	assert_int_equal(v.nfix, 1);
	assert_fix(&v, "aws ec2 authorize-security-group-ingress --group-id "
	    "sg-0a1b2c3d4e5f60001 --ip-permissions 'IpProtocol=tcp,"
	    "FromPort=30050,ToPort=30099,IpRanges=[{CidrIp=198.51.100.7/32}]'");
	/* The self-referencing rule and the prefix list: assumptions. */
	assert_true(has_assumption(&v, "security group sg-0a1b2c3d4e5f60002"));
	assert_note(run(&v, "passive", 30099), "rests on an assumption");

	group(sg, "sg-0a1b2c3d4e5f60002", &v);
	/* Denied, yet the probe passed: not the group in the path. */
	assert_run(run(&v, "control", 21), 21, 21, SG_DENIED, 0, "default");
	assert_note(run(&v, "control", 21), "not the one in the path");
	assert_run(run(&v, "active", 40005), 40000, 40009, SG_DENIED, 1,
	    "default");
	assert_fix(&v, "aws ec2 authorize-security-group-egress --group-id "
	    "sg-0a1b2c3d4e5f60002 --ip-permissions 'IpProtocol=tcp,"
	    "FromPort=40000,ToPort=40009,IpRanges=[{CidrIp=198.51.100.7/32}]'");
	/* No fix for what passed. */
	assert_false(has_fix(&v, "aws ec2 authorize-security-group-ingress "
	    "--group-id sg-0a1b2c3d4e5f60002 --ip-permissions 'IpProtocol=tcp,"
	    "FromPort=21,ToPort=21,IpRanges=[{CidrIp=198.51.100.7/32}]'"));
	sg_free(sg);
}

/* IPv6: Ipv6Ranges match, 0.0.0.0/0 does not; the fix is a /128. */
static void
test_aws_sg_v6(void **state)
{
	struct sg_group_view v;
	struct sg_input in;
	struct sg *sg;

	(void)state;
	input_init(&in, "2001:db8:100::7");
	sg = load_eval("aws_sg.json", &in);
	group(sg, "sg-0a1b2c3d4e5f60001", &v);
	assert_run(run(&v, "control", 21), 21, 21, SG_ALLOWED, 0,
	    "ingress tcp 21 from 2001:db8:100::/48");
	assert_run(run(&v, "passive", 30000), 30000, 30099, SG_DENIED, 0,
	    "default");
	assert_run(run(&v, "active", 40000), 40000, 40009, SG_ALLOWED, 0,
	    "egress all to ::/0");
	assert_fix(&v, "aws ec2 authorize-security-group-ingress --group-id "
	    "sg-0a1b2c3d4e5f60001 --ip-permissions 'IpProtocol=tcp,"
	    "FromPort=30000,ToPort=30099,Ipv6Ranges=[{CidrIpv6="
	    "2001:db8:100::7/128}]'");
	sg_free(sg);
	/* A v4-mapped address is the IPv4 client. */
	input_init(&in, "::ffff:198.51.100.7");
	sg = load_eval("aws_sg.json", &in);
	group(sg, "sg-0a1b2c3d4e5f60001", &v);
	assert_run(run(&v, "control", 21), 21, 21, SG_ALLOWED, 0,
	    "ingress tcp 21 from 198.51.100.0/24");
	assert_fix(&v, "aws ec2 authorize-security-group-ingress --group-id "
	    "sg-0a1b2c3d4e5f60001 --ip-permissions 'IpProtocol=tcp,"
	    "FromPort=30050,ToPort=30099,IpRanges=[{CidrIp=198.51.100.7/32}]'");
	sg_free(sg);
}

/* Network ACLs: first match in RuleNumber order, and the way back. */
static void
test_nacl(void **state)
{
	static const struct sg_measure ret = { { 0, 0 }, SG_FAILED,
	    "return-path" };
	struct sg_group_view v;
	struct sg_input in;
	struct sg *sg;

	(void)state;
	input_init(&in, "198.51.100.7");
	measure(&in, SG_PATH_CONTROL, &ret, 1);
	measure(&in, SG_PATH_PASSIVE, passive_half, 2);
	sg = load_eval("aws_nacl.json", &in);

	/* acl-1: deny 90 comes before allow 110; the way back is allowed
	 * only to 32768-65535 of the client's ephemeral ports. */
	group(sg, "acl-0a1b2c3d4e5f60001", &v);
	assert_string_equal(v.name, "public-subnet");
	assert_run(run(&v, "passive", 30095), 30090, 30099, SG_DENIED, 1,
	    "ingress 90");
	assert_run(run(&v, "control", 21), 21, 21, SG_UNKNOWN, 0,
	    "ingress 100; return: default");
	assert_note(run(&v, "control", 21), "client ports 32768-65535");
	assert_run(run(&v, "active", 40000), 40000, 40009, SG_ALLOWED, 0,
	    "egress 100; return: ingress 130");
	/* 80 is taken by the udp entry: 70 is the free number below 90. */
	assert_fix(&v, "aws ec2 create-network-acl-entry --network-acl-id "
	    "acl-0a1b2c3d4e5f60001 --rule-number 70 --protocol tcp "
	    "--port-range From=30090,To=30099 --cidr-block 198.51.100.7/32 "
	    "--rule-action allow");

	/* acl-2: everything comes in, nothing goes back but 443. */
	group(sg, "acl-0a1b2c3d4e5f60002", &v);
	assert_run(run(&v, "control", 21), 21, 21, SG_DENIED, 1,
	    "default (return traffic)");
	assert_run(run(&v, "passive", 30050), 30050, 30099, SG_DENIED, 0,
	    "default (return traffic)");
	assert_note(run(&v, "passive", 30050), "would show as return-path");
	assert_run(run(&v, "active", 40000), 40000, 40009, SG_DENIED, 0,
	    "default");
	/* One entry for the way back of every path. */
	assert_fix(&v, "aws ec2 create-network-acl-entry --network-acl-id "
	    "acl-0a1b2c3d4e5f60002 --rule-number 32760 --protocol tcp "
	    "--port-range From=1024,To=65535 --cidr-block 198.51.100.7/32 "
	    "--rule-action allow --egress");
	assert_int_equal(v.nfix, 2);

	/* acl-3: the default ACL lets everything through both ways. */
	group(sg, "acl-0a1b2c3d4e5f60003", &v);
	assert_run(run(&v, "control", 21), 21, 21, SG_ALLOWED, 0,
	    "ingress 100; return: egress 100");
	assert_note(run(&v, "control", 21), "a security group");
	assert_int_equal(v.nfix, 0);
	sg_free(sg);

	/* A Linux client's ephemeral ports are all allowed back. */
	in.client_ephemeral = (struct portrange){ 32768, 60999 };
	sg = load_eval("aws_nacl.json", &in);
	group(sg, "acl-0a1b2c3d4e5f60001", &v);
	assert_run(run(&v, "control", 21), 21, 21, SG_ALLOWED, 0,
	    "ingress 100; return: egress 100");
	sg_free(sg);

	/* IPv6: the Ipv6CidrBlock entries, the default is 32768. */
	input_init(&in, "2001:db8:100::7");
	sg = load_eval("aws_nacl.json", &in);
	group(sg, "acl-0a1b2c3d4e5f60001", &v);
	assert_run(run(&v, "control", 21), 21, 21, SG_ALLOWED, 0,
	    "ingress 101; return: egress 101");
	assert_run(run(&v, "passive", 30000), 30000, 30099, SG_DENIED, 0,
	    "default");
	assert_fix(&v, "aws ec2 create-network-acl-entry --network-acl-id "
	    "acl-0a1b2c3d4e5f60001 --rule-number 32760 --protocol tcp "
	    "--port-range From=30000,To=30099 --ipv6-cidr-block "
	    "2001:db8:100::7/128 --rule-action allow");
	sg_free(sg);
}

static void
test_azure(void **state)
{
	struct sg_group_view v;
	struct sg_input in;
	struct sg *sg;

	(void)state;
	input_init(&in, "198.51.100.7");
	measure(&in, SG_PATH_PASSIVE, passive_half, 2);
	measure(&in, SG_PATH_ACTIVE, &drop_all, 1);
	sg = load_eval("azure_nsg.json", &in);
	group(sg, "ftp-nsg", &v);
	/* Internet is a tag: it matched, and the note says on what. */
	assert_run(run(&v, "control", 21), 21, 21, SG_ALLOWED, 0,
	    "AllowFTPControl (priority 300)");
	assert_note(run(&v, "control", 21), "service tag Internet");
	/* Plural fields: sourceAddressPrefixes, destinationPortRanges. */
	assert_run(run(&v, "passive", 30000), 30000, 30049, SG_ALLOWED, 1,
	    "AllowPassive (priority 310)");
	/* VirtualNetwork at 200 would allow: assumed out for a public
	 * client, so the deny at 320 decides, and the note says so. */
	assert_run(run(&v, "passive", 30055), 30050, 30059, SG_DENIED, 1,
	    "DenyPassiveRest (priority 320)");
	assert_note(run(&v, "passive", 30055), "VirtualNetwork");
	assert_run(run(&v, "passive", 30060), 30060, 30099, SG_DENIED, 1,
	    "DenyPassiveRest (priority 320)");
	assert_run(run(&v, "active", 40000), 40000, 40009, SG_DENIED, 1,
	    "DenyFtpData (priority 150)");
	assert_run(run(&v, "channel", 7021), 7021, 7021, SG_ALLOWED, 0,
	    "AllowChannel (priority 400)");
	/* One rule for both denied runs; 310, 300 are taken, 290 by the
	 * udp rule: 280. */
	assert_fix(&v, "az network nsg rule create --resource-group ftp-rg "
	    "--nsg-name ftp-nsg --name ftpath-passive --priority 280 "
	    "--direction Inbound --access Allow --protocol Tcp "
	    "--source-address-prefixes 198.51.100.7/32 "
	    "--destination-port-ranges 30050-30099");
	assert_fix(&v, "az network nsg rule create --resource-group ftp-rg "
	    "--nsg-name ftp-nsg --name ftpath-active --priority 140 "
	    "--direction Outbound --access Allow --protocol Tcp "
	    "--source-port-ranges 20 --destination-address-prefixes "
	    "198.51.100.7/32 --destination-port-ranges 40000-40009");
	assert_int_equal(v.nfix, 2);
	sg_free(sg);

	/* A private client may be in VirtualNetwork: unknown. */
	input_init(&in, "10.1.2.3");
	sg = load_eval("azure_nsg.json", &in);
	group(sg, "ftp-nsg", &v);
	assert_run(run(&v, "passive", 30055), 30050, 30059, SG_UNKNOWN, 0,
	    "AllowVnetPassive (priority 200)");
	assert_note(run(&v, "passive", 30055), "may be in VirtualNetwork");
	/* Internet for a private address: unknown too. */
	assert_int_equal(run(&v, "control", 21)->allowed, SG_UNKNOWN);
	sg_free(sg);
}

/* The REST form: properties, the resource group from the id, and the
 * default rules as real, named rules. */
static void
test_azure_rest(void **state)
{
	struct sg_group_view v;
	struct sg_input in;
	struct sg *sg;

	(void)state;
	input_init(&in, "198.51.100.7");
	sg = load_eval("azure_nsg_rest.json", &in);
	group(sg, "ftp-nsg-rest", &v);
	assert_run(run(&v, "passive", 30099), 30000, 30099, SG_ALLOWED, 0,
	    "AllowFtp (priority 100)");
	assert_run(run(&v, "channel", 7021), 7021, 7021, SG_DENIED, 0,
	    "DenyAllInBound (priority 65500)");
	assert_run(run(&v, "active", 40000), 40000, 40009, SG_ALLOWED, 0,
	    "AllowInternetOutBound (priority 65001)");
	assert_fix(&v, "az network nsg rule create --resource-group "
	    "ftp-rest-rg --nsg-name ftp-nsg-rest --name ftpath-channel "
	    "--priority 4090 --direction Inbound --access Allow --protocol Tcp "
	    "--source-address-prefixes 198.51.100.7/32 "
	    "--destination-port-ranges 7021");
	sg_free(sg);
}

/* Tags and source ports, on small inline NSGs. */
static const char nsg_tags[] =
    "{\"name\": \"t\", \"securityRules\": ["
    "{\"name\": \"lb\", \"priority\": 100, \"direction\": \"Inbound\","
    " \"access\": \"Allow\", \"protocol\": \"*\","
    " \"sourceAddressPrefix\": \"AzureLoadBalancer\","
    " \"destinationAddressPrefix\": \"*\", \"sourcePortRange\": \"*\","
    " \"destinationPortRange\": \"*\"},"
    "{\"name\": \"storage\", \"priority\": 110, \"direction\": \"Inbound\","
    " \"access\": \"Allow\", \"protocol\": \"Tcp\","
    " \"sourceAddressPrefix\": \"Storage.WestEurope\","
    " \"destinationAddressPrefix\": \"*\", \"sourcePortRange\": \"*\","
    " \"destinationPortRange\": \"30000-30009\"},"
    "{\"name\": \"lowports\", \"priority\": 120, \"direction\": \"Inbound\","
    " \"access\": \"Allow\", \"protocol\": \"Tcp\","
    " \"sourceAddressPrefix\": \"*\", \"destinationAddressPrefix\": \"*\","
    " \"sourcePortRanges\": [\"1024-2047\"],"
    " \"destinationPortRange\": \"21\"},"
    "{\"name\": \"split-sports\", \"priority\": 126, \"direction\": "
    "\"Inbound\", \"access\": \"Allow\", \"protocol\": \"Tcp\","
    " \"sourceAddressPrefix\": \"*\", \"destinationAddressPrefix\": \"*\","
    " \"sourcePortRanges\": [\"30000-65535\", \"1024-40000\"],"
    " \"destinationPortRange\": \"2121\"},"
    "{\"name\": \"gap-sports\", \"priority\": 127, \"direction\": "
    "\"Inbound\", \"access\": \"Allow\", \"protocol\": \"Tcp\","
    " \"sourceAddressPrefix\": \"*\", \"destinationAddressPrefix\": \"*\","
    " \"sourcePortRanges\": [\"1024-2000\", \"2002-65535\"],"
    " \"destinationPortRange\": \"2122\"},"
    "{\"name\": \"public-dst\", \"priority\": 125, \"direction\": "
    "\"Inbound\", \"access\": \"Allow\", \"protocol\": \"Tcp\","
    " \"sourceAddressPrefix\": \"*\", \"destinationAddressPrefix\": "
    "\"203.0.113.10/32\", \"sourcePortRange\": \"*\","
    " \"destinationPortRange\": \"7021\"},"
    "{\"name\": \"private-dst\", \"priority\": 130, \"direction\": "
    "\"Inbound\", \"access\": \"Allow\", \"protocol\": \"Tcp\","
    " \"sourceAddressPrefix\": \"*\", \"destinationAddressPrefix\": "
    "\"10.0.0.4\", \"sourcePortRange\": \"*\","
    " \"destinationPortRange\": \"7021\"}"
    "]}";

static void
test_azure_tags(void **state)
{
	struct sg_group_view v;
	struct sg_input in;
	struct sockaddr_storage local;
	struct sg *sg = NULL;
	char err[256];
	socklen_t l;

	(void)state;
	input_init(&in, "198.51.100.7");
	assert_int_equal(sg_parse("tags.json", nsg_tags, strlen(nsg_tags),
	    &sg, err, sizeof(err)), 0);
	assert_int_equal(sg_eval(sg, &in, err, sizeof(err)), 0);
	assert_int_equal(sg_group(sg, 0, &v), 0);
	/* AzureLoadBalancer is never a client; Storage is not in the file;
	 * no defaults in the file: inbound denied. */
	assert_run(run(&v, "passive", 30005), 30000, 30009, SG_UNKNOWN, 0,
	    "storage (priority 110)");
	assert_note(run(&v, "passive", 30005), "service tag");
	assert_run(run(&v, "passive", 30010), 30010, 30099, SG_DENIED, 0,
	    "default");
	/* Only some of the client's source ports. */
	assert_run(run(&v, "control", 21), 21, 21, SG_UNKNOWN, 0,
	    "lowports (priority 120)");
	assert_note(run(&v, "control", 21), "source ports");
	/* Azure sees the VM's private address, not the public one
	 * dialled, and that is not known here. */
	assert_run(run(&v, "channel", 7021), 7021, 7021, SG_UNKNOWN, 0,
	    "public-dst (priority 125)");
	assert_note(run(&v, "channel", 7021), "203.0.113.10/32");
	/* ... and known: the reflector reported 10.0.0.4. */
	assert_int_equal(addr_parse_ip("10.0.0.4", &local, &l), 0);
	in.server_local = &local;
	in.nserver_local = 1;
	assert_int_equal(sg_eval(sg, &in, err, sizeof(err)), 0);
	assert_int_equal(sg_group(sg, 0, &v), 0);
	assert_run(run(&v, "channel", 7021), 7021, 7021, SG_ALLOWED, 0,
	    "private-dst (priority 130)");
	/* Outbound without defaults in the file: Azure's allow. */
	assert_run(run(&v, "active", 40000), 40000, 40009, SG_ALLOWED, 0,
	    "default");
	assert_int_equal(v.nfix, 1);	/* passive 30010-30099 */
	/* No resource group in the file: the script asks for it. */
	assert_non_null(strstr(v.fix[0], "--resource-group "
	    "\"${RESOURCE_GROUP:?"));
	/* Overlapping source ranges that cover all, and one gap. */
	in.control_port = 2121;
	assert_int_equal(sg_eval(sg, &in, err, sizeof(err)), 0);
	assert_int_equal(sg_group(sg, 0, &v), 0);
	assert_run(run(&v, "control", 2121), 2121, 2121, SG_ALLOWED, 0,
	    "split-sports (priority 126)");
	in.control_port = 2122;
	assert_int_equal(sg_eval(sg, &in, err, sizeof(err)), 0);
	assert_int_equal(sg_group(sg, 0, &v), 0);
	assert_run(run(&v, "control", 2122), 2122, 2122, SG_UNKNOWN, 0,
	    "gap-sports (priority 127)");
	sg_free(sg);
}

/* GCP: lowest priority first, a deny wins a tie, disabled rules are
 * skipped, implied rules at 65535, one group per network. */
static void
test_gcp(void **state)
{
	struct sg_group_view v;
	struct sg_input in;
	struct sg *sg;

	(void)state;
	input_init(&in, "198.51.100.7");
	measure(&in, SG_PATH_PASSIVE, passive_half, 2);
	measure(&in, SG_PATH_ACTIVE, &drop_all, 1);
	sg = load_eval("gcp_fw.json", &in);
	group(sg, "default", &v);
	assert_run(run(&v, "control", 21), 21, 21, SG_ALLOWED, 0,
	    "allow-ftp-control (priority 1000)");
	assert_run(run(&v, "passive", 30000), 30000, 30049, SG_ALLOWED, 1,
	    "allow-ftp-passive (priority 1000)");
	assert_note(run(&v, "passive", 30000), "tag ftp");
	assert_run(run(&v, "passive", 30085), 30080, 30099, SG_DENIED, 1,
	    "deny-passive-tail (priority 1000)");
	/* The egress deny at 900 comes before the implied allow. */
	assert_run(run(&v, "active", 40000), 40000, 40009, SG_DENIED, 1,
	    "deny-ftp-data-out (priority 900)");
	assert_run(run(&v, "channel", 7021), 7021, 7021, SG_DENIED, 0,
	    "default");
	assert_note(run(&v, "channel", 7021), "allow-channel would allow it "
	    "but is disabled");
	assert_true(has_assumption(&v, "assumed the FTP server is one of "
	    "them"));
	assert_fix(&v, "gcloud compute firewall-rules create ftpath-passive "
	    "--project ftp-project --network default --direction INGRESS "
	    "--action ALLOW --rules tcp:30080-30099 --source-ranges "
	    "198.51.100.7/32 --priority 999");
	assert_fix(&v, "gcloud compute firewall-rules create ftpath-active "
	    "--project ftp-project --network default --direction EGRESS "
	    "--action ALLOW --rules tcp:40000-40009 --destination-ranges "
	    "198.51.100.7/32 --priority 899");

	group(sg, "ftp-net", &v);
	/* Source tags: instances, not the client. */
	assert_run(run(&v, "control", 21), 21, 21, SG_DENIED, 0, "default");
	assert_true(has_assumption(&v, "instances tagged web"));
	assert_run(run(&v, "active", 40000), 40000, 40009, SG_ALLOWED, 0,
	    "default");
	/* Names stay unique in the file. */
	assert_fix(&v, "gcloud compute firewall-rules create ftpath-passive-2 "
	    "--project ftp-project --network ftp-net --direction INGRESS "
	    "--action ALLOW --rules tcp:30050-30099 --source-ranges "
	    "198.51.100.7/32 --priority 1000");
	sg_free(sg);
}

/* Unknown rules of either action before the one that decides. */
static const char gcp_unknowns[] =
    "[{\"name\": \"a-inside\", \"network\": \"n\", \"priority\": 100,"
    "  \"allowed\": [{\"IPProtocol\": \"tcp\"}],"
    "  \"destinationRanges\": [\"10.0.0.0/8\"]},"
    " {\"name\": \"d-inside\", \"network\": \"n\", \"priority\": 110,"
    "  \"denied\": [{\"IPProtocol\": \"tcp\"}],"
    "  \"destinationRanges\": [\"10.0.0.0/24\"]},"
    " {\"name\": \"a-all\", \"network\": \"n\", \"priority\": 120,"
    "  \"allowed\": [{\"IPProtocol\": \"all\"}]}]";

static void
test_unknown_order(void **state)
{
	struct sockaddr_storage local;
	struct sg_group_view v;
	struct sg_input in;
	struct sg *sg = NULL;
	char err[256];
	socklen_t l;

	(void)state;
	input_init(&in, "198.51.100.7");
	assert_int_equal(sg_parse("u.json", gcp_unknowns, strlen(gcp_unknowns),
	    &sg, err, sizeof(err)), 0);
	assert_int_equal(sg_eval(sg, &in, err, sizeof(err)), 0);
	assert_int_equal(sg_group(sg, 0, &v), 0);
	/* The allow at 100 agrees with the allow at 120; the deny at 110
	 * may match first. */
	assert_run(run(&v, "control", 21), 21, 21, SG_UNKNOWN, 0,
	    "d-inside (priority 110)");
	assert_note(run(&v, "control", 21), "server's own (private) address");
	assert_int_equal(v.nfix, 0);
	/* Known: the server is 10.0.0.4, the allow at 100 decides. */
	assert_int_equal(addr_parse_ip("10.0.0.4", &local, &l), 0);
	in.server_local = &local;
	in.nserver_local = 1;
	assert_int_equal(sg_eval(sg, &in, err, sizeof(err)), 0);
	assert_int_equal(sg_group(sg, 0, &v), 0);
	assert_run(run(&v, "control", 21), 21, 21, SG_ALLOWED, 0,
	    "a-inside (priority 100)");
	sg_free(sg);
}

/* A deny at rule 1 leaves no number before it: the fix says so. */
static const char nacl_full[] =
    "{\"NetworkAcls\": [{\"NetworkAclId\": \"acl-9\", \"Entries\": ["
    " {\"RuleNumber\": 1, \"Protocol\": \"-1\", \"RuleAction\": \"deny\","
    "  \"Egress\": false, \"CidrBlock\": \"0.0.0.0/0\"},"
    " {\"RuleNumber\": 100, \"Protocol\": \"-1\", \"RuleAction\": "
    "\"allow\", \"Egress\": true, \"CidrBlock\": \"0.0.0.0/0\"}]}]}";

static void
test_no_room(void **state)
{
	struct sg_group_view v;
	struct sg_input in;
	struct sg *sg = NULL;
	char err[256];

	(void)state;
	input_init(&in, "198.51.100.7");
	assert_int_equal(sg_parse("full.json", nacl_full, strlen(nacl_full),
	    &sg, err, sizeof(err)), 0);
	assert_int_equal(sg_eval(sg, &in, err, sizeof(err)), 0);
	assert_int_equal(sg_group(sg, 0, &v), 0);
	assert_run(run(&v, "control", 21), 21, 21, SG_DENIED, 0, "ingress 1");
	assert_true(v.nfix >= 1);
	assert_non_null(strstr(v.fix[0], "# acl-9: no free rule number below "
	    "1"));
	sg_free(sg);
}

static void
test_cidr(void **state)
{
	static const struct {
		const char *cidr, *addr;
		int in;
	} cases[] = {
		{ "0.0.0.0/0", "203.0.113.1", 1 },
		{ "0.0.0.0/0", "2001:db8::1", 0 },
		{ "198.51.100.0/24", "198.51.100.255", 1 },
		{ "198.51.100.0/24", "198.51.101.0", 0 },
		{ "198.51.100.0/25", "198.51.100.127", 1 },
		{ "198.51.100.0/25", "198.51.100.128", 0 },
		{ "198.51.100.7/32", "198.51.100.7", 1 },
		{ "198.51.100.7", "198.51.100.8", 0 },
		{ "198.51.100.0/24", "::ffff:198.51.100.9", 1 },
		{ "::/0", "2001:db8::1", 1 },
		{ "::/0", "192.0.2.1", 0 },
		{ "2001:db8:100::/48", "2001:db8:100:ffff::1", 1 },
		{ "2001:db8:100::/48", "2001:db8:101::1", 0 },
		{ "2001:db8::/33", "2001:db8:7fff::1", 1 },
		{ "2001:db8::/33", "2001:db8:8000::1", 0 },
		{ "2001:db8::7/128", "2001:db8::7", 1 },
	};
	static const char *const bad[] = {
		"", "/8", "1.2.3.4/33", "1.2.3", "1.2.3.4/", "1.2.3.4/8x",
		"::/129", "x", "300.1.1.1/8", "1.2.3.4/-1", "fe80::1%eth0",
	};
	struct sockaddr_storage ss;
	struct sg_cidr c;
	socklen_t l;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(sg_cidr_parse(cases[i].cidr, &c), 0);
		assert_int_equal(addr_parse_ip(cases[i].addr, &ss, &l), 0);
		if (sg_cidr_contains(&c, (struct sockaddr *)&ss) !=
		    cases[i].in)
			fail_msg("%s in %s: expected %d", cases[i].addr,
			    cases[i].cidr, cases[i].in);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (sg_cidr_parse(bad[i], &c) == 0)
			fail_msg("'%s' accepted", bad[i]);
	assert_int_equal(sg_cidr_parse("10.1.0.0/16", &c), 0);
	assert_true(sg_cidr_private(&c));
	assert_int_equal(sg_cidr_parse("0.0.0.0/0", &c), 0);
	assert_false(sg_cidr_private(&c));
}

/* A range allowed in pieces: the runs, and a fix for the gap only. */
static const char aws_gaps[] =
    "{\"SecurityGroups\": [{\"GroupId\": \"sg-1\", \"GroupName\": \"g\","
    " \"IpPermissions\": ["
    "  {\"IpProtocol\": \"tcp\", \"FromPort\": 30000, \"ToPort\": 30010,"
    "   \"IpRanges\": [{\"CidrIp\": \"198.51.100.0/24\"}]},"
    "  {\"IpProtocol\": \"tcp\", \"FromPort\": 30020, \"ToPort\": 30200,"
    "   \"IpRanges\": [{\"CidrIp\": \"198.51.100.7/32\"}]},"
    "  {\"IpProtocol\": \"tcp\", \"FromPort\": 30005, \"ToPort\": 30025,"
    "   \"IpRanges\": [{\"CidrIp\": \"192.0.2.0/24\"}]}"
    " ], \"IpPermissionsEgress\": []}]}";

static void
test_partial(void **state)
{
	static const struct sg_measure gap = { { 30011, 30019 }, SG_FAILED,
	    NULL };
	struct sg_group_view v;
	struct sg_input in;
	struct sg *sg = NULL;
	char err[256];

	(void)state;
	input_init(&in, "198.51.100.7");
	measure(&in, SG_PATH_PASSIVE, &gap, 1);
	assert_int_equal(sg_parse("gaps.json", aws_gaps, strlen(aws_gaps),
	    &sg, err, sizeof(err)), 0);
	assert_int_equal(sg_eval(sg, &in, err, sizeof(err)), 0);
	assert_int_equal(sg_group(sg, 0, &v), 0);
	assert_run(run(&v, "passive", 30000), 30000, 30010, SG_ALLOWED, 0,
	    "ingress tcp 30000-30010 from 198.51.100.0/24");
	/* A failure without a named cause: the group's drop fits. */
	assert_run(run(&v, "passive", 30015), 30011, 30019, SG_DENIED, 1,
	    "default");
	assert_note(run(&v, "passive", 30015), "named no cause");
	assert_run(run(&v, "passive", 30020), 30020, 30099, SG_ALLOWED, 0,
	    "ingress tcp 30020-30200 from 198.51.100.7/32");
	assert_int_equal(v.npaths, 6);	/* control, 3 passive, active,
					 * channel */
	assert_fix(&v, "aws ec2 authorize-security-group-ingress --group-id "
	    "sg-1 --ip-permissions 'IpProtocol=tcp,FromPort=30011,"
	    "ToPort=30019,IpRanges=[{CidrIp=198.51.100.7/32}]'");
	/* Egress is empty: active denied, not measured, so fixed. */
	assert_run(run(&v, "active", 40000), 40000, 40009, SG_DENIED, 0,
	    "default");
	sg_free(sg);
}

/* A failure the group's drop cannot have caused. */
static void
test_explains(void **state)
{
	static const struct sg_measure gap = { { 0, 0 }, SG_FAILED,
	    "routing-gap" };
	struct sg_group_view v;
	struct sg_input in;
	struct sg *sg;

	(void)state;
	input_init(&in, "198.51.100.7");
	measure(&in, SG_PATH_CONTROL, &gap, 1);
	measure(&in, SG_PATH_PASSIVE, &gap, 1);
	sg = load_eval("aws_sg.json", &in);
	group(sg, "sg-0a1b2c3d4e5f60002", &v);
	assert_run(run(&v, "control", 21), 21, 21, SG_DENIED, 0, "default");
	assert_note(run(&v, "control", 21), "measured routing-gap");
	/* Not measured passing: the fix is still written. */
	assert_fix(&v, "aws ec2 authorize-security-group-ingress --group-id "
	    "sg-0a1b2c3d4e5f60002 --ip-permissions 'IpProtocol=tcp,"
	    "FromPort=21,ToPort=21,IpRanges=[{CidrIp=198.51.100.7/32}]'");
	/* Evaluating again replaces the result. */
	measure(&in, SG_PATH_CONTROL, &pass_all, 1);
	assert_int_equal(sg_eval(sg, &in, NULL, 0), 0);
	group(sg, "sg-0a1b2c3d4e5f60002", &v);
	assert_note(run(&v, "control", 21), "not the one in the path");
	sg_free(sg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_aws_sg),
		cmocka_unit_test(test_aws_sg_v6),
		cmocka_unit_test(test_nacl),
		cmocka_unit_test(test_azure),
		cmocka_unit_test(test_azure_rest),
		cmocka_unit_test(test_azure_tags),
		cmocka_unit_test(test_gcp),
		cmocka_unit_test(test_unknown_order),
		cmocka_unit_test(test_no_room),
		cmocka_unit_test(test_cidr),
		cmocka_unit_test(test_partial),
		cmocka_unit_test(test_explains),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
