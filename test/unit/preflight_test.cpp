// vip_preflight()'s rows from what the probe saw: one healthy node, then
// each fault turned into one failing row that names it and says what to do.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "core/cidr.hpp"
#include "core/events.hpp"
#include "core/http_types.hpp"
#include "core/local_addresses.hpp"
#include "core/preflight.hpp"
#include "core/preflight_kind.hpp"
#include "core/settings.hpp"

using namespace pg_vip;
using namespace pg_vip::preflight;
using namespace std::chrono;

namespace {

aws::AwsError answer(const std::string &code, long status, aws::ErrorKind kind, const std::string &message = "") {
  aws::AwsError e;
  e.code = code;
  e.http_status = status;
  e.kind = kind;
  e.message = message;
  return e;
}

aws::AwsError dry_run_ok() {
  return answer("DryRunOperation", 412, aws::ErrorKind::Invalid,
                "Request would have succeeded, but DryRun flag is set.");
}

aws::RouteTable table(const std::string &id, const std::string &vpc = "vpc-1",
                      const std::string &range = "10.0.0.0/18") {
  aws::RouteTable t;
  t.id = id;
  t.vpc_id = vpc;
  aws::Route local;
  local.destination = range;
  local.gateway_id = "local";
  local.origin = "CreateRouteTable";
  t.routes.push_back(local);
  return t;
}

// A node where everything is as it should be.
Observed healthy() {
  Observed s;
  s.vip = "10.0.99.10/32";
  s.route_tables = {"rtb-1", "rtb-2"};
  s.network_interface = "auto";
  s.imds_endpoint = "http://127.0.0.1:1";
  s.credentials_source = "instance role pg-vip-role";
  s.region = "us-east-1";
  s.region_source = "instance metadata";
  s.instance_id = "i-1";
  s.instance_interfaces = std::vector<std::string>{"eni-1", "eni-2"};
  s.interface_id = "eni-1";
  aws::NetworkInterface n;
  n.id = "eni-1";
  n.vpc_id = "vpc-1";
  n.instance_id = "i-1";
  s.interface = n;
  s.source_dest_check = false;
  s.local_addresses = std::vector<LocalAddress>{{"lo", "127.0.0.1"}, {"lo", "10.0.99.10"}, {"eth0", "10.0.1.10"}};
  s.permissions.push_back({"DescribeRouteTables", "", dry_run_ok(), std::nullopt, false, ""});
  for (const char *rtb : {"rtb-1", "rtb-2"})
    for (const char *action : {"ReplaceRoute", "CreateRoute", "CreateTags"})
      s.permissions.push_back({action, rtb, dry_run_ok(), std::nullopt, false, ""});
  s.tables = {{"rtb-1", table("rtb-1"), std::nullopt}, {"rtb-2", table("rtb-2"), std::nullopt}};
  s.local_time = system_clock::now();
  s.aws_date = s.local_time - seconds(2);
  s.ec2_answered = true;
  return s;
}

const CheckResult &row(const std::vector<CheckResult> &rows, const std::string &name) {
  auto it = std::find_if(rows.begin(), rows.end(), [&](const CheckResult &r) { return r.name == name; });
  if (it == rows.end()) throw std::runtime_error("no row " + name);
  return *it;
}

// Exactly the rows named fail.
void expect_failed(const std::vector<CheckResult> &rows, const std::vector<std::string> &names) {
  for (const auto &r : rows) {
    bool want_fail = std::find(names.begin(), names.end(), r.name) != names.end();
    EXPECT_EQ(r.ok, !want_fail) << r.name << ": " << r.detail;
    if (!r.ok) EXPECT_FALSE(r.hint.empty()) << r.name;
    else EXPECT_TRUE(r.hint.empty()) << r.name;
    EXPECT_FALSE(r.detail.empty()) << r.name;
  }
}

bool has(const std::string &text, const std::string &part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST(Preflight, AHealthyNodePassesEveryCheckInAFixedOrder) {
  auto rows = evaluate(healthy());
  expect_failed(rows, {});
  std::vector<std::string> names;
  for (const auto &r : rows) names.push_back(r.name);
  EXPECT_EQ(names, (std::vector<std::string>{
                       "configuration", "credentials", "region", "instance_metadata", "interface_owner",
                       "source_dest_check", "vip_bound", "permission:DescribeRouteTables",
                       "permission:ReplaceRoute rtb-1", "permission:CreateRoute rtb-1", "permission:CreateTags rtb-1",
                       "permission:ReplaceRoute rtb-2", "permission:CreateRoute rtb-2", "permission:CreateTags rtb-2",
                       "route_table:rtb-1", "route_table:rtb-2", "vip_outside_vpc", "clock_skew"}));
  EXPECT_TRUE(has(row(rows, "credentials").detail, "instance role pg-vip-role"));
  EXPECT_TRUE(has(row(rows, "region").detail, "us-east-1, from instance metadata"));
  EXPECT_TRUE(has(row(rows, "vip_bound").detail, "10.0.99.10 is bound on lo"));
  EXPECT_EQ(failed_names(rows), "");
}

TEST(Preflight, ADeniedPermissionNamesTheActionAndTheTable) {
  Observed s = healthy();
  for (auto &p : s.permissions)
    if (p.action == "CreateTags" && p.target == "rtb-2")
      p.answer = answer("UnauthorizedOperation", 403, aws::ErrorKind::Authorization,
                        "You are not authorized to perform this operation. Encoded authorization failure message: xyz");
  auto rows = evaluate(s);
  expect_failed(rows, {"permission:CreateTags rtb-2"});
  const auto &r = row(rows, "permission:CreateTags rtb-2");
  EXPECT_TRUE(has(r.detail, "UnauthorizedOperation (the IAM policy must allow ec2:CreateTags)")) << r.detail;
  EXPECT_FALSE(has(r.detail, "xyz")) << "the encoded message is left out";
  EXPECT_TRUE(has(r.hint, "Allow ec2:CreateTags on rtb-2")) << r.hint;
  EXPECT_EQ(failed_names(rows), "permission:CreateTags rtb-2");
}

TEST(Preflight, AnEndpointThatActsOnADryRunIsNotBelieved) {
  Observed s = healthy();
  s.permissions[1].answer = std::nullopt;  // a 200: something changed
  auto rows = evaluate(s);
  expect_failed(rows, {"permission:ReplaceRoute rtb-1"});
  EXPECT_TRUE(has(row(rows, "permission:ReplaceRoute rtb-1").hint, "pg_vip.ec2_endpoint"));
}

TEST(Preflight, AMissingRouteTable) {
  Observed s = healthy();
  s.tables[1] = {"rtb-2", std::nullopt,
                 answer("InvalidRouteTableID.NotFound", 400, aws::ErrorKind::NotFound,
                        "The routeTable ID 'rtb-2' does not exist")};
  auto rows = evaluate(s);
  expect_failed(rows, {"route_table:rtb-2"});
  EXPECT_TRUE(has(row(rows, "route_table:rtb-2").detail, "rtb-2 does not exist in us-east-1"));
  EXPECT_TRUE(has(row(rows, "route_table:rtb-2").hint, "pg_vip.route_tables"));
}

TEST(Preflight, ATableOfAnotherVpc) {
  Observed s = healthy();
  s.tables[0].table = table("rtb-1", "vpc-other", "172.16.0.0/16");
  auto rows = evaluate(s);
  expect_failed(rows, {"route_table:rtb-1"});
  EXPECT_TRUE(
      has(row(rows, "route_table:rtb-1").detail, "rtb-1 belongs to vpc-other, but the interface eni-1 to vpc-1"));
}

TEST(Preflight, AVipInsideTheVpc) {
  Observed s = healthy();
  s.tables[1].table = table("rtb-2", "vpc-1", "10.0.0.0/16");
  auto rows = evaluate(s);
  expect_failed(rows, {"vip_outside_vpc"});
  EXPECT_TRUE(has(row(rows, "vip_outside_vpc").detail, "10.0.99.10 lies inside 10.0.0.0/16"));
  EXPECT_TRUE(has(row(rows, "vip_outside_vpc").detail, "rtb-2"));
}

TEST(Preflight, AnIpv6VipAgainstTheVpcsIpv6Range) {
  Observed s = healthy();
  s.vip = "2600:1f18:aaaa:bb00::10/128";
  s.local_addresses->push_back({"lo", "2600:1f18:aaaa:bb00::10"});
  aws::Route v6;
  v6.destination = "2600:1f18:aaaa:bb00::/56";
  v6.gateway_id = "local";
  s.tables[0].table->routes.push_back(v6);
  expect_failed(evaluate(s), {"vip_outside_vpc"});
  s.tables[0].table->routes.back().destination = "2600:1f18:aaaa:cc00::/56";
  expect_failed(evaluate(s), {});
}

TEST(Preflight, AVipNotBoundHere) {
  Observed s = healthy();
  s.local_addresses = std::vector<LocalAddress>{{"lo", "127.0.0.1"}};
  auto rows = evaluate(s);
  expect_failed(rows, {"vip_bound"});
  EXPECT_TRUE(has(row(rows, "vip_bound").detail, "bound on no interface"));
  EXPECT_TRUE(has(row(rows, "vip_bound").hint, "ip address add 10.0.99.10/32 dev lo"));
}

TEST(Preflight, TheInterfacesSourceDestCheckOn) {
  Observed s = healthy();
  s.source_dest_check = true;
  auto rows = evaluate(s);
  expect_failed(rows, {"source_dest_check"});
  EXPECT_TRUE(has(row(rows, "source_dest_check").hint,
                  "modify-network-interface-attribute --network-interface-id eni-1 --no-source-dest-check"));
}

TEST(Preflight, ClockSkewBeyondFiveMinutesEitherWay) {
  Observed s = healthy();
  s.aws_date = s.local_time - minutes(6) - seconds(40);
  auto rows = evaluate(s);
  expect_failed(rows, {"clock_skew"});
  EXPECT_TRUE(has(row(rows, "clock_skew").detail, "6 min 40 s ahead of EC2's")) << row(rows, "clock_skew").detail;
  s.aws_date = s.local_time + minutes(7);
  EXPECT_TRUE(has(row(evaluate(s), "clock_skew").detail, "7 min 0 s behind"));
  s.aws_date = s.local_time + minutes(4) + seconds(59);
  expect_failed(evaluate(s), {});
  s.aws_date.reset();
  expect_failed(evaluate(s), {"clock_skew"});
}

TEST(Preflight, MetadataUnreachable) {
  Observed s = healthy();
  s.imds_problem = Problem{"Instance metadata (IMDSv2) at http://127.0.0.1:1 did not answer as it should: ...",
                           "Check pg_vip.imds_endpoint."};
  s.instance_id.clear();
  s.instance_interfaces.reset();
  auto rows = evaluate(s);
  expect_failed(rows, {"instance_metadata", "interface_owner"});
  EXPECT_TRUE(has(row(rows, "interface_owner").detail, "cannot be verified"));
}

TEST(Preflight, MetadataDisabledOnPurposeIsNoFailure) {
  Observed s = healthy();
  s.imds_disabled = true;
  s.instance_id.clear();
  s.instance_interfaces.reset();
  auto rows = evaluate(s);
  expect_failed(rows, {});
  EXPECT_TRUE(has(row(rows, "interface_owner").detail, "not verified"));
}

TEST(Preflight, AnInterfaceOfAnotherInstance) {
  Observed s = healthy();
  s.interface_id = "eni-9";
  auto rows = evaluate(s);
  expect_failed(rows, {"interface_owner"});
  EXPECT_TRUE(has(row(rows, "interface_owner").detail,
                  "eni-9 is not attached to this instance i-1, whose interfaces are eni-1, eni-2"));
  // EC2's attachment, when metadata lists it anyway.
  s = healthy();
  s.interface->instance_id = "i-2";
  expect_failed(evaluate(s), {"interface_owner"});
}

TEST(Preflight, NoCredentials) {
  Observed s = healthy();
  s.credentials_source.reset();
  s.credentials_problem = Problem{"no AWS credentials found. Tried: environment.", "Attach an IAM role."};
  auto rows = evaluate(s);
  EXPECT_FALSE(row(rows, "credentials").ok);
  EXPECT_EQ(row(rows, "credentials").hint, "Attach an IAM role.");
}

TEST(Preflight, NotConfiguredSaysWhichSetting) {
  Observed s;
  s.region = "us-east-1";
  s.region_source = "pg_vip.region";
  auto rows = evaluate(s);
  const auto &c = row(rows, "configuration");
  EXPECT_FALSE(c.ok);
  EXPECT_TRUE(has(c.detail, "pg_vip.vip and pg_vip.route_tables are not set"));
  EXPECT_TRUE(has(c.hint, "Set pg_vip.vip"));
  EXPECT_TRUE(has(row(rows, "vip_bound").hint, "pg_vip.vip"));
  for (const auto &r : rows) {
    EXPECT_EQ(r.name.rfind("permission:", 0), std::string::npos);
    EXPECT_EQ(r.name.rfind("route_table:", 0), std::string::npos);
  }
}

// dns_value = elastic names the first Elastic IP: without pg_vip.elastic_ips
// there is none, and the configuration row says what to set.
TEST(Preflight, ElasticDnsValueWithoutElasticIpsSaysWhatToSet) {
  Observed s = healthy();
  s.dns_records = {"Z0A00000000000000000A:primary.db.example.internal."};
  s.dns_value = "elastic";
  s.elastic_ips.clear();
  auto rows = evaluate(s);
  const auto &c = row(rows, "configuration");
  EXPECT_FALSE(c.ok);
  EXPECT_TRUE(has(c.detail, "pg_vip.dns_value is elastic and pg_vip.elastic_ips is empty")) << c.detail;
  EXPECT_TRUE(has(c.hint, "Set pg_vip.elastic_ips")) << c.hint;
  s.elastic_ips = {"eipalloc-0a000002"};
  EXPECT_TRUE(row(evaluate(s), "configuration").ok) << "with an Elastic IP listed, the setting is whole";
}

TEST(Preflight, SkippedPermissionsSayWhy) {
  Observed s = healthy();
  for (auto &p : s.permissions) p.skipped = Problem{"Not checked: no AWS credentials.", "Fix the credentials check."};
  auto rows = evaluate(s);
  EXPECT_FALSE(row(rows, "permission:ReplaceRoute rtb-1").ok);
  EXPECT_EQ(row(rows, "permission:ReplaceRoute rtb-1").detail, "Not checked: no AWS credentials.");
}

TEST(PreflightEvent, IsAKnownEventName) {
  EXPECT_TRUE(is_event_name("vip_preflight_failed"));
  EXPECT_EQ(settings::normalize("event_notifications", "vip_preflight_failed, vip_claim"),
            "vip_preflight_failed,vip_claim");
}

TEST(Cidr, ContainsIpv4AndIpv6) {
  EXPECT_EQ(cidr_contains("10.0.0.0/16", "10.0.99.10"), true);
  EXPECT_EQ(cidr_contains("10.0.0.0/18", "10.0.99.10"), false);
  EXPECT_EQ(cidr_contains("10.0.64.0/18", "10.0.99.10"), true);
  EXPECT_EQ(cidr_contains("0.0.0.0/0", "192.0.2.1"), true);
  EXPECT_EQ(cidr_contains("10.0.99.10/32", "10.0.99.10"), true);
  EXPECT_EQ(cidr_contains("10.0.99.11/32", "10.0.99.10"), false);
  EXPECT_EQ(cidr_contains("2600:1f18::/32", "2600:1f18:1::1"), true);
  EXPECT_EQ(cidr_contains("2600:1f18::/32", "2600:1f19::1"), false);
  // Not comparable: the other family, no prefix, a prefix too long, garbage.
  EXPECT_EQ(cidr_contains("10.0.0.0/16", "2600::1"), std::nullopt);
  EXPECT_EQ(cidr_contains("10.0.0.0", "10.0.0.1"), std::nullopt);
  EXPECT_EQ(cidr_contains("10.0.0.0/33", "10.0.0.1"), std::nullopt);
  EXPECT_EQ(cidr_contains("10.0.0.0/1a", "10.0.0.1"), std::nullopt);
  EXPECT_EQ(cidr_contains("10.0.0.0/99999", "10.0.0.1"), std::nullopt);
  EXPECT_EQ(cidr_contains("pl-12345678", "10.0.0.1"), std::nullopt);  // a prefix list route
  EXPECT_EQ(cidr_contains("/", ""), std::nullopt);
}

TEST(LocalAddresses, LoopbackIsBoundAndTestNetIsNot) {
  auto bound = local_addresses();
  EXPECT_EQ(interface_of("127.0.0.1", bound), "lo");
  EXPECT_EQ(interface_of("192.0.2.1", bound), "") << "TEST-NET-1 is never bound here";
  // getifaddrs lists 127.0.0.1/8 as one address: 127.0.0.2 answers on lo
  // in the kernel, yet it is not an address of lo's list.
  EXPECT_EQ(interface_of("127.0.0.2", bound), "");
  if (!interface_of("::1", bound).empty()) {
    EXPECT_EQ(interface_of("0:0::1", bound), "lo");
  }
  EXPECT_EQ(interface_of("not an address", bound), "");
}

TEST(HttpDate, ImfFixdateOnly) {
  auto t = http::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(system_clock::to_time_t(*t), 784111777);
  EXPECT_FALSE(http::parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"));  // RFC 850: obsolete
  EXPECT_FALSE(http::parse_http_date("Sun Nov  6 08:49:37 1994"));        // asctime
  EXPECT_FALSE(http::parse_http_date("Sun, 06 Nov 1994 08:49:37 UTC"));
  EXPECT_FALSE(http::parse_http_date("Sun, 06 Xyz 1994 08:49:37 GMT"));
  EXPECT_FALSE(http::parse_http_date("Sun, 36 Nov 1994 08:49:37 GMT"));
  EXPECT_FALSE(http::parse_http_date("Sun, 06 Nov 1994 28:49:37 GMT"));
  EXPECT_FALSE(http::parse_http_date("Sun, 06 Nov 19a4 08:49:37 GMT"));
  EXPECT_FALSE(http::parse_http_date("Thu, 31 Feb 2026 10:00:00 GMT"));  // no such day
  EXPECT_FALSE(http::parse_http_date("Thu, 26 Nov 2026 23:59:60 GMT"));  // a leap second is not believed
  EXPECT_TRUE(http::parse_http_date("Thu, 29 Feb 2024 10:00:00 GMT"));
  // Found by the fuzzer: past 2262 the time point's nanoseconds overflow.
  EXPECT_FALSE(http::parse_http_date("Sun, 06 Nov 3898 08:49:37 GMT"));
  EXPECT_FALSE(http::parse_http_date("Sun, 06 Nov 9999 08:49:37 GMT"));
  EXPECT_FALSE(http::parse_http_date(""));
  EXPECT_FALSE(http::parse_http_date(std::string(29, '\0')));
}

namespace {

aws::AwsError unauthorized(const std::string &action) {
  return answer(
      "UnauthorizedOperation", 403, aws::ErrorKind::Authorization,
      "You are not authorized to perform this operation. User: x is not authorized to perform: ec2:" + action);
}

// healthy(), with pg_vip.preflight_probe_table = rtb-9 and what a narrow
// policy answers there: every changing action refused, and on rtb-1 a tag
// of another VIP refused.
Observed probed() {
  Observed s = healthy();
  for (const char *action : {"ReplaceRoute", "CreateRoute", "CreateTags", "DeleteTags"}) {
    PermissionProbe p{action, "rtb-9", unauthorized(action), std::nullopt, true, ""};
    p.expect_refused = true;
    s.permissions.push_back(p);
  }
  PermissionProbe other{"CreateTags", "rtb-1", unauthorized("CreateTags"), std::nullopt, true, "other_key"};
  other.expect_refused = true;
  other.variant = "other_key";
  s.permissions.push_back(other);
  return s;
}

}  // namespace

TEST(PreflightNarrow, RefusalsOnATableItDoesNotManageProveThePolicyNarrow) {
  auto rows = evaluate(probed());
  expect_failed(rows, {});
  for (const char *name : {"narrow:ReplaceRoute rtb-9", "narrow:CreateRoute rtb-9", "narrow:CreateTags rtb-9",
                           "narrow:DeleteTags rtb-9", "narrow:CreateTags rtb-1 other_key"})
    EXPECT_TRUE(has(row(rows, name).detail, "Refused")) << name << ": " << row(rows, name).detail;
  EXPECT_TRUE(has(row(rows, "narrow:ReplaceRoute rtb-9").detail, "rtb-9"));
}

TEST(PreflightNarrow, AnActionAllowedWhereItShouldNotBeFailsAndNamesTheCure) {
  Observed s = probed();
  for (auto &p : s.permissions)
    if (p.expect_refused && p.action == "ReplaceRoute") p.answer = dry_run_ok();
  for (auto &p : s.permissions)
    if (p.expect_refused && p.variant == "other_key") p.answer = dry_run_ok();
  auto rows = evaluate(s);
  expect_failed(rows, {"narrow:ReplaceRoute rtb-9", "narrow:CreateTags rtb-1 other_key"});
  const auto &r = row(rows, "narrow:ReplaceRoute rtb-9");
  EXPECT_TRUE(has(r.detail, "ec2:ReplaceRoute is allowed on rtb-9, a route table pg_vip does not manage")) << r.detail;
  EXPECT_TRUE(has(r.hint, "vip_iam_policy()")) << r.hint;
  const auto &k = row(rows, "narrow:CreateTags rtb-1 other_key");
  EXPECT_TRUE(has(k.detail, "another VIP's fence tag")) << k.detail;
  EXPECT_TRUE(has(k.hint, "vip_iam_policy()")) << k.hint;
}

TEST(PreflightNarrow, AnAnswerThatIsNeitherARefusalNorAllowedProvesNothing) {
  Observed s = probed();
  for (auto &p : s.permissions)
    if (p.expect_refused && p.action == "DeleteTags")
      p.answer = answer("InvalidRouteTableID.NotFound", 400, aws::ErrorKind::NotFound,
                        "The routeTable ID 'rtb-9' does not exist");
  auto rows = evaluate(s);
  expect_failed(rows, {"narrow:DeleteTags rtb-9"});
  EXPECT_TRUE(has(row(rows, "narrow:DeleteTags rtb-9").detail, "Not proved"))
      << row(rows, "narrow:DeleteTags rtb-9").detail;
  EXPECT_TRUE(has(row(rows, "narrow:DeleteTags rtb-9").hint, "pg_vip.preflight_probe_table"));
}

TEST(Settings, PreflightProbeTableIsOneRouteTableIdOrEmpty) {
  EXPECT_EQ(settings::normalize("preflight_probe_table", " rtb-0123abcd "), "rtb-0123abcd");
  EXPECT_EQ(settings::normalize("pg_vip.preflight_probe_table", ""), "");
  EXPECT_THROW(settings::normalize("preflight_probe_table", "rtb-1,rtb-2"), ConfigError);
  EXPECT_THROW(settings::normalize("preflight_probe_table", "eni-0123abcd"), ConfigError);
  try {
    settings::normalize("preflight_probe_table", "rtb-xyz");
    FAIL();
  } catch (const ConfigError &e) {
    EXPECT_TRUE(has(e.detail(), "not a route table id")) << e.detail();
  }
}

// The secondary IP kind's reads (DescribeNetworkInterfaces of this node's
// subnet, then DescribeSubnets of it), answered: the address's row names the
// request that failed it, and an address outside the subnet (which
// AssignPrivateIpAddresses cannot move there) fails as a check's read does.
std::vector<CheckResult> secondary_rows(const std::optional<aws::AwsError> &subnet_error,
                                        const std::string &subnet_cidr) {
  ControllerConfig config;
  config.vip = "10.0.99.10/32";
  config.secondary_ips = {"10.0.1.50"};
  Observed s = healthy();
  s.secondary_ips = config.secondary_ips;
  s.local_addresses->push_back({"eth0", "10.0.1.50"});
  s.interface_id = "eni-0b0b0b0b";  // the kind's builders take only real ids
  std::vector<std::pair<aws::Ec2Call, std::function<void(const aws::Ec2Result &)>>> reads;
  ProbePlan plan{config, s, config.vip, s.interface_id, "subnet-0a0a0a0a", {}, {}};
  plan.permission = [](const std::string &, const std::string &, std::optional<aws::Ec2Call>, std::optional<Problem>,
                       bool, const std::string &) {};
  plan.read = [&](aws::Ec2Call c, std::function<void(const aws::Ec2Result &)> take) {
    reads.emplace_back(std::move(c), std::move(take));
  };
  auto probe = secondary_ip_probe();
  probe->plan(plan);
  EXPECT_EQ(reads.size(), 2u);
  if (reads.size() != 2) return evaluate(s);
  EXPECT_EQ(reads[0].first.action, "DescribeNetworkInterfaces");
  EXPECT_EQ(reads[1].first.action, "DescribeSubnets");
  aws::Ec2Result interfaces;
  interfaces.body =
      "<DescribeNetworkInterfacesResponse><networkInterfaceSet><item><networkInterfaceId>eni-0b0b0b0b</networkInterfaceId>"
      "<subnetId>subnet-0a0a0a0a</subnetId><privateIpAddressesSet>"
      "<item><privateIpAddress>10.0.1.10</privateIpAddress><primary>true</primary></item>"
      "<item><privateIpAddress>10.0.1.50</privateIpAddress><primary>false</primary></item>"
      "</privateIpAddressesSet></item></networkInterfaceSet></DescribeNetworkInterfacesResponse>";
  reads[0].second(interfaces);
  aws::Ec2Result subnets;
  subnets.error = subnet_error;
  if (!subnet_error)
    subnets.body = "<DescribeSubnetsResponse><subnetSet><item><subnetId>subnet-0a0a0a0a</subnetId><cidrBlock>" +
                   subnet_cidr + "</cidrBlock></item></subnetSet></DescribeSubnetsResponse>";
  reads[1].second(subnets);
  return evaluate(s);
}

TEST(Preflight, ASecondaryIpInThisNodesSubnetPasses) {
  auto rows = secondary_rows(std::nullopt, "10.0.1.0/24");
  const auto &r = row(rows, "secondary_ip:10.0.1.50");
  EXPECT_TRUE(r.ok) << r.detail;
  EXPECT_TRUE(has(r.detail, "assigned to eni-0b0b0b0b (this node)")) << r.detail;
}

TEST(Preflight, ASecondaryIpsRowNamesDescribeSubnetsWhenItIsRefused) {
  auto rows = secondary_rows(answer("UnauthorizedOperation", 403, aws::ErrorKind::Authorization,
                                    "You are not authorized to perform this operation."),
                             "");
  const auto &r = row(rows, "secondary_ip:10.0.1.50");
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(has(r.detail, "ec2:DescribeSubnets")) << r.detail;
}

TEST(Preflight, ASecondaryIpOutsideThisNodesSubnetFails) {
  auto rows = secondary_rows(std::nullopt, "10.0.2.0/24");
  const auto &r = row(rows, "secondary_ip:10.0.1.50");
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(has(r.detail, "not in this node's subnet subnet-0a0a0a0a (10.0.2.0/24)")) << r.detail;
}
