// Every pg_vip.* text setting, good and bad values.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "core/error.hpp"
#include "core/events.hpp"
#include "core/setting_table.hpp"
#include "core/settings.hpp"

using namespace pg_vip;
using namespace pg_vip::settings;

namespace {

// The detail of the ConfigError that `fn` throws; fails the test if none.
template <typename Fn>
std::string rejection(Fn fn) {
  try {
    fn();
  } catch (const ConfigError &e) {
    EXPECT_NE(std::string(e.what()).find("invalid value for parameter \"pg_vip."), std::string::npos) << e.what();
    EXPECT_FALSE(e.detail().empty());
    return e.detail();
  }
  ADD_FAILURE() << "expected a ConfigError";
  return {};
}

}  // namespace

TEST(Vip, AcceptsIpv4HostRoute) {
  auto v = parse_vip("10.0.0.10/32");
  EXPECT_FALSE(v.ipv6);
  EXPECT_EQ(v.address, "10.0.0.10");
  EXPECT_EQ(v.cidr, "10.0.0.10/32");
  EXPECT_EQ(parse_vip("  192.168.1.1/32 ").cidr, "192.168.1.1/32");
}

TEST(Vip, AcceptsIpv6HostRouteInCanonicalForm) {
  auto v = parse_vip("2001:DB8:0:0::1/128");
  EXPECT_TRUE(v.ipv6);
  EXPECT_EQ(v.cidr, "2001:db8::1/128");
}

TEST(Vip, RejectsBadValues) {
  EXPECT_NE(rejection([] { parse_vip("10.0.0.10"); }).find("/32"), std::string::npos);
  rejection([] { parse_vip("10.0.0.0/24"); });
  rejection([] { parse_vip("10.0.0.10/128"); });
  rejection([] { parse_vip("2001:db8::1/64"); });
  rejection([] { parse_vip("10.0.0.300/32"); });
  rejection([] { parse_vip("vip.example.com/32"); });
  rejection([] { parse_vip("/32"); });
  rejection([] { parse_vip("10.0.0.10/32/32"); });
}

TEST(RouteTables, ParsesListWithSpaces) {
  auto t = parse_route_tables(" rtb-0123abcd , rtb-0123456789abcdef0,rtb-deadbeef ");
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0], "rtb-0123abcd");
  EXPECT_EQ(t[1], "rtb-0123456789abcdef0");
  EXPECT_EQ(t[2], "rtb-deadbeef");
  EXPECT_TRUE(parse_route_tables("").empty());
  EXPECT_TRUE(parse_route_tables("   ").empty());
}

TEST(RouteTables, RejectsMalformedIds) {
  EXPECT_NE(rejection([] { parse_route_tables("rtb-0123abc"); }).find("8 or 17"), std::string::npos);
  rejection([] { parse_route_tables("rtb-0123ABCD"); });
  rejection([] { parse_route_tables("rtb-0123abcg"); });
  rejection([] { parse_route_tables("rtb-0123456789abcdef"); });  // 16 digits
  rejection([] { parse_route_tables("eni-0123abcd"); });
  rejection([] { parse_route_tables("rtb-0123abcd,,rtb-4567abcd"); });
  rejection([] { parse_route_tables("rtb-0123abcd,"); });
  rejection([] { parse_route_tables("rtb-0123abcd rtb-4567abcd"); });
}

TEST(RouteTables, RejectsDuplicates) {
  EXPECT_NE(rejection([] { parse_route_tables("rtb-0123abcd, rtb-0123abcd"); }).find("twice"), std::string::npos);
}

TEST(RouteTables, AcceptsTwoHundredRejectsMore) {
  auto list = [](int n) {
    std::string s;
    for (int i = 0; i < n; ++i) {
      char id[16];
      snprintf(id, sizeof id, "rtb-%08x", i);
      s += (i ? "," : "") + std::string(id);
    }
    return s;
  };
  EXPECT_EQ(parse_route_tables(list(200)).size(), 200u);
  EXPECT_NE(rejection([&] { parse_route_tables(list(201)); }).find("at most 200"), std::string::npos);
}

TEST(NetworkInterface, AcceptsAutoAndEniIds) {
  EXPECT_EQ(parse_network_interface("auto"), "auto");
  EXPECT_EQ(parse_network_interface("eni-0123abcd"), "eni-0123abcd");
  EXPECT_EQ(parse_network_interface(" eni-0123456789abcdef0 "), "eni-0123456789abcdef0");
  rejection([] { parse_network_interface(""); });
  rejection([] { parse_network_interface("AUTO"); });
  rejection([] { parse_network_interface("eni-123"); });
  rejection([] { parse_network_interface("i-0123abcd"); });
}

TEST(Region, AcceptsRegionNames) {
  EXPECT_EQ(parse_region(""), "");
  EXPECT_EQ(parse_region("us-east-1"), "us-east-1");
  EXPECT_EQ(parse_region("us-gov-west-1"), "us-gov-west-1");
  EXPECT_EQ(parse_region("ap-southeast-3"), "ap-southeast-3");
  rejection([] { parse_region("us-east"); });
  rejection([] { parse_region("US-EAST-1"); });
  rejection([] { parse_region("us east 1"); });
  rejection([] { parse_region("us--1"); });
  rejection([] { parse_region("us-east-1a"); });
}

TEST(Url, AcceptsHttpAndHttpsWithPorts) {
  auto u = parse_url("ec2_endpoint", "https://ec2.us-east-1.amazonaws.com/");
  EXPECT_EQ(u.scheme, "https");
  EXPECT_EQ(u.host, "ec2.us-east-1.amazonaws.com");
  EXPECT_EQ(u.port, 0);
  EXPECT_EQ(u.text, "https://ec2.us-east-1.amazonaws.com");
  auto l = parse_url("ec2_endpoint", "http://127.0.0.1:8080");
  EXPECT_EQ(l.port, 8080);
  EXPECT_EQ(l.text, "http://127.0.0.1:8080");
  auto v6 = parse_url("imds_endpoint", "http://[fd00:ec2::254]:80");
  EXPECT_EQ(v6.host, "[fd00:ec2::254]");
  EXPECT_EQ(v6.port, 80);
}

TEST(Url, RejectsBadUrls) {
  rejection([] { parse_url("ec2_endpoint", "ftp://example.com"); });
  rejection([] { parse_url("ec2_endpoint", "example.com"); });
  rejection([] { parse_url("ec2_endpoint", "http://"); });
  rejection([] { parse_url("ec2_endpoint", "http://host:0"); });
  rejection([] { parse_url("ec2_endpoint", "http://host:65536"); });
  rejection([] { parse_url("ec2_endpoint", "http://host:"); });
  rejection([] { parse_url("ec2_endpoint", "http://host:80x"); });
  rejection([] { parse_url("ec2_endpoint", "http://user:pw@host"); });
  rejection([] { parse_url("ec2_endpoint", "http://host/path"); });
  rejection([] { parse_url("ec2_endpoint", "http://host?x=1"); });
  rejection([] { parse_url("ec2_endpoint", "http://ho st"); });
  rejection([] { parse_url("ec2_endpoint", "http://[zz::1]"); });
  rejection([] { parse_url("ec2_endpoint", "http://host;rm -rf"); });
}

TEST(Profile, AcceptsNamesRejectsOthers) {
  EXPECT_EQ(parse_aws_profile(""), "");
  EXPECT_EQ(parse_aws_profile("prod-ha.role"), "prod-ha.role");
  rejection([] { parse_aws_profile("bad profile"); });
  rejection([] { parse_aws_profile("x]"); });
  rejection([] { parse_aws_profile(std::string(65, 'a')); });
}

TEST(NodeName, AcceptsPrintableAndBoundsLength) {
  EXPECT_EQ(parse_node_name("db-1 (az a)"), "db-1 (az a)");
  EXPECT_EQ(parse_node_name(std::string(63, 'n')).size(), 63u);
  rejection([] { parse_node_name(std::string(64, 'n')); });
  rejection([] { parse_node_name("a\nb"); });
  EXPECT_EQ(sanitize_node_name("host\x01name"), "hostname");
  EXPECT_EQ(sanitize_node_name(std::string(100, 'x')).size(), kMaxNodeName);
}

TEST(Events, KnownNamesOnly) {
  EXPECT_TRUE(parse_event_list("").empty());
  auto e = parse_event_list("vip_held, vip_fenced,vip_held");
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0], "vip_held");
  EXPECT_NE(rejection([] { parse_event_list("vip_hold"); }).find("Known events"), std::string::npos);
  rejection([] { parse_event_list("vip_held,"); });
}

// The refusal lists every event there is (it once left vip_conflict out).
TEST(Events, TheRefusalNamesEveryEvent) {
  std::string why = rejection([] { parse_event_list("vip_hold"); });
  for (auto name : kEventNames) EXPECT_NE(why.find(std::string(name)), std::string::npos) << name;
}

TEST(CaFile, AbsoluteReadableRegularFile) {
  EXPECT_NO_THROW(check_ca_file(""));
  rejection([] { check_ca_file("relative/ca.pem"); });
  rejection([] { check_ca_file("/nonexistent/pg_vip/ca.pem"); });
  rejection([] { check_ca_file("/tmp"); });
  std::string path = testing::TempDir() + "pg_vip_ca_test.pem";
  if (path.front() != '/') GTEST_SKIP() << "temporary directory is not absolute";
  std::ofstream(path) << "not really a certificate\n";
  EXPECT_NO_THROW(check_ca_file(path));
  std::remove(path.c_str());
}

// repmgr's documentation writes "%t" "%d": with pg_vip, a quote around a
// placeholder would let a tag's text run as shell code. Refused, saying
// why and what to write instead.
TEST(NotificationCommand, RefusesAQuotedPlaceholderAndShowsTheSafeForm) {
  const std::string repmgr_style = "/etc/repmgr/repmgr-hook.sh %n %e %s \"%t\" \"%d\"";
  try {
    normalize("pg_vip.event_notification_command", repmgr_style);
    ADD_FAILURE() << "a quoted placeholder was accepted";
  } catch (const ConfigError &e) {
    EXPECT_EQ(std::string(e.what()),
              "invalid value for parameter \"pg_vip.event_notification_command\": \"" + repmgr_style + "\"");
    EXPECT_NE(e.detail().find("The placeholder %t stands inside double quotes"), std::string::npos) << e.detail();
    EXPECT_NE(e.hint().find("as in \"/etc/repmgr/repmgr-hook.sh %n %e %s %t %d\""), std::string::npos) << e.hint();
    EXPECT_NE(e.hint().find("PG_VIP_DETAILS"), std::string::npos) << e.hint();
  }
  for (const char *bad :
       {"hook '%d'", "hook x%dy", "hook `echo %d`", "eval hook %d", "sh -c %d", "%d", "hook > %d", "cat <<E\n%d\nE"})
    rejection([&] { parse_notification_command(bad); });
}

TEST(NotificationCommand, KeepsUnquotedTemplatesAsWritten) {
  for (const char *good : {"", "/etc/repmgr/repmgr-hook.sh %n %e %s %t %d", "hook %e %d >> /var/log/vip.log 2>&1",
                           "hook \"$PG_VIP_DETAILS\"", " logger -t pg_vip %e %d "}) {
    EXPECT_EQ(parse_notification_command(good), good);
    EXPECT_EQ(normalize("event_notification_command", good), good);
  }
}

TEST(Normalize, DispatchesByNameWithOrWithoutPrefix) {
  EXPECT_EQ(normalize("pg_vip.vip", "10.0.0.1/32"), "10.0.0.1/32");
  EXPECT_EQ(normalize("vip", ""), "");
  EXPECT_EQ(normalize("route_tables", "rtb-0123abcd , rtb-4567abcd"), "rtb-0123abcd,rtb-4567abcd");
  EXPECT_EQ(normalize("pg_vip.ec2_endpoint", ""), "");
  EXPECT_EQ(normalize("pg_vip.imds_endpoint", "http://127.0.0.1:9/"), "http://127.0.0.1:9");
  EXPECT_THROW(normalize("pg_vip.imds_endpoint", ""), ConfigError);
  EXPECT_THROW(normalize("pg_vip.nonsense", "x"), ConfigError);
}

// --- The settings of the kinds of target under way (issue 20) ---

namespace {

// The ConfigError's message, for the settings whose value it must not show.
template <typename Fn>
std::string refusal_message(Fn fn) {
  try {
    fn();
  } catch (const ConfigError &e) {
    return std::string(e.what()) + "\n" + e.detail() + "\n" + e.hint();
  }
  ADD_FAILURE() << "expected a ConfigError";
  return {};
}

}  // namespace

TEST(ElasticIps, ParsesAllocationIds) {
  EXPECT_TRUE(parse_elastic_ips(" ").empty());
  auto ids = parse_elastic_ips(" eipalloc-0123456789abcdef0 ");
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_EQ(ids[0], "eipalloc-0123456789abcdef0");
  EXPECT_EQ(normalize_elastic_ips(" eipalloc-0123abcd "), "eipalloc-0123abcd");
}

TEST(ElasticIps, RejectsOtherIdsAddressesDuplicatesAndTooMany) {
  EXPECT_NE(rejection([] { parse_elastic_ips("203.0.113.7"); }).find("allocation id"), std::string::npos);
  rejection([] { parse_elastic_ips("eipassoc-0123abcd"); });
  rejection([] { parse_elastic_ips("eipalloc-0123ABCD"); });
  rejection([] { parse_elastic_ips("eipalloc-0123abc"); });
  rejection([] { parse_elastic_ips("eipalloc-0123abcd,,eipalloc-4567abcd"); });
  EXPECT_NE(rejection([] { parse_elastic_ips("eipalloc-0123abcd,eipalloc-0123abcd"); }).find("twice"),
            std::string::npos);
  std::string many;
  for (std::size_t i = 0; i <= kMaxElasticIps; ++i) {
    char id[32];
    snprintf(id, sizeof id, "%seipalloc-%08zx", i ? "," : "", i);
    many += id;
  }
  // EC2 maps one Elastic IP to a private address: a second would take the
  // first away, so the list is refused, saying why.
  EXPECT_NE(rejection([&] { parse_elastic_ips(many); }).find("each association would take the one before away"),
            std::string::npos);
  EXPECT_EQ(parse_elastic_ips("eipalloc-0123abcd"), std::vector<std::string>{"eipalloc-0123abcd"});
}

TEST(ElasticIpPrivateAddress, OneIpv4OrNothing) {
  EXPECT_EQ(parse_elastic_ip_private_address(""), "");
  EXPECT_EQ(parse_elastic_ip_private_address(" 10.0.1.25 "), "10.0.1.25");
  rejection([] { parse_elastic_ip_private_address("10.0.1.25,10.0.1.26"); });
  rejection([] { parse_elastic_ip_private_address("10.0.1.25/32"); });
  rejection([] { parse_elastic_ip_private_address("2001:db8::1"); });
  rejection([] { parse_elastic_ip_private_address("169.254.169.254"); });
}

TEST(SecondaryIps, ParsesIpv4Lists) {
  EXPECT_TRUE(parse_secondary_ips("").empty());
  EXPECT_EQ(normalize_secondary_ips(" 10.0.1.25, 172.16.0.9 "), "10.0.1.25,172.16.0.9");
  rejection([] { parse_secondary_ips("10.0.1.25,,10.0.1.26"); });
  rejection([] { parse_secondary_ips("10.0.1.256"); });
  rejection([] { parse_secondary_ips("10.0.1.0/24"); });
  rejection([] { parse_secondary_ips("0.0.0.0"); });
  rejection([] { parse_secondary_ips("127.0.0.1"); });
  rejection([] { parse_secondary_ips("224.0.0.1"); });
  rejection([] { parse_secondary_ips("255.255.255.255"); });
  rejection([] { parse_secondary_ips("fd00::1"); });
  EXPECT_NE(rejection([] { parse_secondary_ips("10.0.1.25,10.0.1.25"); }).find("twice"), std::string::npos);
  std::string many;
  for (std::size_t i = 0; i <= kMaxSecondaryIps; ++i) many += (i ? ",10.0.1." : "10.0.1.") + std::to_string(i + 1);
  EXPECT_NE(rejection([&] { parse_secondary_ips(many); }).find("at most 50"), std::string::npos);
}

TEST(DnsRecords, ParsesZoneAndCanonicalName) {
  EXPECT_TRUE(parse_dns_records(" ").empty());
  auto records = parse_dns_records("Z0123456789ABCDEFGHIJ:DB.Example.com, Z1D633PJN98FT9 : db-1.example.com.");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].zone_id, "Z0123456789ABCDEFGHIJ");
  EXPECT_EQ(records[0].name, "db.example.com.");
  EXPECT_EQ(records[1].name, "db-1.example.com.");
  EXPECT_EQ(normalize_dns_records("Z1D633PJN98FT9:db.example.com"), "Z1D633PJN98FT9:db.example.com.");
  // The same name in two zones (a private and a public one) is two records.
  EXPECT_EQ(parse_dns_records("Z1D633PJN98FT9:db.example.com,Z2ABCDEF:db.example.com").size(), 2u);
}

TEST(DnsRecords, RejectsBadZonesNamesAndDuplicates) {
  EXPECT_NE(rejection([] { parse_dns_records("db.example.com"); }).find("no hosted zone"), std::string::npos);
  EXPECT_NE(rejection([] { parse_dns_records("z1d633pjn98ft9:db.example.com"); }).find("hosted zone id"),
            std::string::npos);
  rejection([] { parse_dns_records("/hostedzone/Z1D633PJN98FT9:db.example.com"); });
  rejection([] { parse_dns_records("Z:db.example.com"); });
  rejection([] { parse_dns_records("Z" + std::string(32, 'A') + ":db.example.com"); });
  rejection([] { parse_dns_records("Z1D633PJN98FT9:"); });
  rejection([] { parse_dns_records("Z1D633PJN98FT9:db..example.com"); });
  rejection([] { parse_dns_records("Z1D633PJN98FT9:-db.example.com"); });
  rejection([] { parse_dns_records("Z1D633PJN98FT9:db_1.example.com"); });
  rejection([] { parse_dns_records("Z1D633PJN98FT9:db example.com"); });
  EXPECT_NE(rejection([] { parse_dns_records("Z1D633PJN98FT9:*.example.com"); }).find("wildcard"), std::string::npos);
  rejection([] { parse_dns_records("Z1D633PJN98FT9:" + std::string(64, 'a') + ".example.com"); });
  std::string long_name;
  for (int i = 0; i < 4; ++i) long_name += std::string(63, 'a') + ".";
  rejection([&] { parse_dns_records("Z1D633PJN98FT9:" + long_name); });  // 256 characters
  EXPECT_NE(rejection([] {
              parse_dns_records("Z1D633PJN98FT9:db.example.com,Z1D633PJN98FT9:DB.example.com.");
            }).find("twice"),
            std::string::npos);
  rejection([] { parse_dns_records("Z1D633PJN98FT9:db.example.com,"); });
}

TEST(DnsTtl, RowBoundsAndDefault) {
  const Setting *ttl = find_setting("dns_ttl");
  ASSERT_NE(ttl, nullptr);
  EXPECT_EQ(ttl->boot_int, 10);
  EXPECT_EQ(ttl->min_int, 0);
  EXPECT_EQ(ttl->max_int, 86400);
  EXPECT_EQ(ttl->unit, Unit::S);
}

TEST(DnsValue, KeywordsOrAddresses) {
  EXPECT_EQ(parse_dns_value("private"), "private");
  EXPECT_EQ(parse_dns_value(" Public "), "public");
  // Not yet: the record would need the Elastic IP's public address.
  EXPECT_EQ(parse_dns_value(" Elastic "), "elastic") << "the first Elastic IP's public address";
  EXPECT_EQ(parse_dns_value("203.0.113.7"), "203.0.113.7");
  EXPECT_EQ(parse_dns_value("2001:DB8:0::7"), "2001:db8::7");
  rejection([] { parse_dns_value(""); });
  rejection([] { parse_dns_value("db.example.com"); });
  rejection([] { parse_dns_value("10.0.0.1/32"); });
}

TEST(Route53Endpoint, UrlOrNothing) {
  EXPECT_EQ(normalize_route53_endpoint(""), "");
  EXPECT_EQ(normalize_route53_endpoint("https://route53.amazonaws.com/"), "https://route53.amazonaws.com");
  EXPECT_NE(
      refusal_message([] { normalize_route53_endpoint("route53.amazonaws.com"); }).find("pg_vip.route53_endpoint"),
      std::string::npos);
}

TEST(RoleArn, AcceptsRoleArnsOfEveryPartition) {
  EXPECT_EQ(parse_role_arn(""), "");
  EXPECT_EQ(parse_role_arn(" arn:aws:iam::123456789012:role/pg_vip-failover "),
            "arn:aws:iam::123456789012:role/pg_vip-failover");
  parse_role_arn("arn:aws-cn:iam::123456789012:role/x1");
  parse_role_arn("arn:aws-us-gov:iam::123456789012:role/ops/db/pg_vip+failover=1,a.b@c-d");
  parse_role_arn("arn:aws-iso-b:iam::123456789012:role/r");
}

TEST(RoleArn, RejectsOtherArnsAndMalformedOnes) {
  rejection([] { parse_role_arn("arn:aws:iam::123456789012:user/pg_vip"); });
  rejection([] { parse_role_arn("arn:aws:sts::123456789012:assumed-role/r/s"); });
  rejection([] { parse_role_arn("arn:aws:iam::12345678901:role/r"); });
  rejection([] { parse_role_arn("arn:aws:iam::1234567890123:role/r"); });
  rejection([] { parse_role_arn("arn:aws:iam:us-east-1:123456789012:role/r"); });
  rejection([] { parse_role_arn("arn:aws:iam::123456789012:role/"); });
  rejection([] { parse_role_arn("arn:aws:iam::123456789012:role/a//b"); });
  rejection([] { parse_role_arn("arn:aws:iam::123456789012:role/" + std::string(65, 'r')); });
  rejection([] { parse_role_arn("arn:aws:iam::123456789012:role/r x"); });
  rejection([] { parse_role_arn("arn:awsx:iam::123456789012:role/r"); });
  rejection([] { parse_role_arn("arn:aws-:iam::123456789012:role/r"); });
  rejection([] { parse_role_arn("arn:aws-CN:iam::123456789012:role/r"); });
  rejection([] { parse_role_arn("role/r"); });
}

TEST(RoleExternalId, BoundsAndCharacters) {
  EXPECT_EQ(parse_role_external_id(""), "");
  EXPECT_EQ(parse_role_external_id("ab"), "ab");
  std::string longest(1224, 'x');
  EXPECT_EQ(parse_role_external_id(longest), longest);
  EXPECT_EQ(parse_role_external_id("Team_A+b=c,d.e@f:g/h-i"), "Team_A+b=c,d.e@f:g/h-i");
  rejection([] { parse_role_external_id("a"); });
  rejection([] { parse_role_external_id(std::string(1225, 'x')); });
  rejection([] { parse_role_external_id("two words"); });
}

TEST(RoleExternalId, RefusalNeverShowsTheValue) {
  const std::string secret = "s3cr3t-Ext3rnal-1d!";
  std::string message = refusal_message([&] { parse_role_external_id(secret); });
  EXPECT_NE(message.find("pg_vip.role_external_id"), std::string::npos) << message;
  EXPECT_EQ(message.find("s3cr3t"), std::string::npos) << message;
  EXPECT_NE(message.find("Character 19"), std::string::npos) << message;
  EXPECT_EQ(refusal_message([] { parse_role_external_id(std::string(2000, 'k')); }).find("kkk"), std::string::npos);
}

TEST(RoleSessionName, BoundsAndDefault) {
  EXPECT_EQ(parse_role_session_name(""), "");
  EXPECT_EQ(parse_role_session_name("pg_vip-node-a"), "pg_vip-node-a");
  rejection([] { parse_role_session_name("a"); });
  rejection([] { parse_role_session_name(std::string(65, 'a')); });
  rejection([] { parse_role_session_name("node a"); });
  rejection([] { parse_role_session_name("node:a"); });
  EXPECT_EQ(default_role_session_name("node-a"), "pg_vip-node-a");
  EXPECT_EQ(default_role_session_name("db 1/primary"), "pg_vip-db-1-primary");
  EXPECT_EQ(default_role_session_name("").size(), 7u);
  std::string derived = default_role_session_name(std::string(100, 'n'));
  EXPECT_EQ(derived.size(), 64u);
  EXPECT_EQ(parse_role_session_name(derived), derived);
}
