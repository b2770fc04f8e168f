// Targets in another account through an assumed role (pg_vip.role_arn),
// against the local endpoint: which requests go with which credentials
// (the endpoint's log names the caller: the node's instance, or
// "role:<ARN>" for the role's sessions), what a role that cannot be
// assumed leaves in every target, and that AssumeRole is counted.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "core/ec2_cloud.hpp"
#include "core/error.hpp"
#include "core/fence.hpp"
#include "integration/fake_aws.hpp"

using namespace pg_vip;
using namespace std::chrono;

namespace {

const char *kRole = "arn:aws:iam::210987654321:role/pg-vip-dns";
const char *kExternalId = "pg-vip-external-id";
const char *kTable = "rtb-0c000001";         // the other account's
const char *kAddress = "eipalloc-0c000002";  // the other account's

// The shared world, with a route table and an Elastic IP of the other
// account (210987654321, whose role trusts both nodes' instances), the
// nodes' subnet shared by that account (the nodes' interfaces stay their
// own account's), and this suite's static key counted as node-b's.
std::vector<std::string> other_account() {
  return {
      std::string(R"(credentials=[{"access_key": ")") + fake::kAccessKey + R"(", "secret": ")" + fake::kSecret +
          R"(", "instance": "i-0b000001"}])",
      R"(subnets.subnet-0a0b0c0d.account="210987654321")",
      R"(instances.i-0a000001.account="123456789012")",
      R"(instances.i-0b000001.account="123456789012")",
      R"(route_tables.rtb-0c000001={"account": "210987654321", "routes": [{"destination": "10.0.99.10/32", "eni": "eni-0a00000a"}]})",
      R"(addresses.eipalloc-0c000002={"public_ip": "203.0.113.20", "account": "210987654321", "eni": "eni-0a00000a"})"};
}

class RoleCloudTest : public testing::Test {
 protected:
  fake::FakeAws aws{{}, {}, other_account()};
  RealTime time{nullptr, nullptr};
  aws::RoleSettings role{kRole, kExternalId, "", ""};
  std::vector<std::string> attempts;  // the actions on_attempt was told of

  std::unique_ptr<Ec2Cloud> cloud() {
    Ec2CloudOptions o;
    o.vip = "10.0.99.10/32";
    o.region = "us-east-1";
    o.ec2_endpoint = aws.ec2_url();
    o.imds_endpoint = aws.imds_url_b();
    o.request_timeout = milliseconds(2000);
    o.env = fake::static_key_env(false);
    o.node_name = "node b";  // a space: not a session name's character
    o.role = [this] {
      aws::RoleSettings r = role;
      r.endpoint = aws.ec2_url();  // STS answers on the same port
      return r;
    };
    o.on_attempt = [this](const aws::Ec2Call &c, const aws::Ec2Result &) { attempts.push_back(c.action); };
    return std::make_unique<Ec2Cloud>(std::move(o), time);
  }

  // action -> the callers the endpoint logged for it (answered requests only).
  std::map<std::string, std::set<std::string>> callers() const {
    std::map<std::string, std::set<std::string>> out;
    auto d = aws.log();
    for (auto &e : d.GetArray()) {
      if (!e.HasMember("action") || !e["action"].IsString()) continue;
      std::string caller = e.HasMember("caller") && e["caller"].IsString() ? e["caller"].GetString() : "(none)";
      out[e["action"].GetString()].insert(caller);
    }
    return out;
  }
  std::string session_name() const {
    auto d = aws.log();
    for (auto &e : d.GetArray())
      if (e.HasMember("action") && std::string(e["action"].GetString()) == "AssumeRole")
        return e["params"]["RoleSessionName"].GetString();
    return "";
  }
};

const std::string kRoleCaller = std::string("role:") + kRole;

}  // namespace

TEST_F(RoleCloudTest, TheNodesOwnCredentialsDoNotSeeTheOtherAccountsTargets) {
  role = {};
  auto c = cloud();
  c->prepare("eni-0b00000b");
  auto reads = c->read({kTable, kAddress}, 1);
  ASSERT_EQ(reads.size(), 2u);
  for (const auto &r : reads) {
    ASSERT_TRUE(r.error) << r.id << " was read with the node's own credentials";
    EXPECT_EQ(r.error->kind, aws::ErrorKind::NotFound) << r.error->describe();
  }
  EXPECT_EQ(callers()["DescribeRouteTables"], std::set<std::string>{"i-0b000001"});
  EXPECT_EQ(callers().count("AssumeRole"), 0u) << "no role, no AssumeRole";
}

TEST_F(RoleCloudTest, TargetsGoWithTheRoleAndTheNodesOwnReadsWithTheNode) {
  auto c = cloud();
  Placement p = c->prepare("eni-0b00000b");
  EXPECT_TRUE(p.warnings.empty()) << p.warnings.front();
  auto reads = c->read({kTable, kAddress}, 2);
  for (const auto &r : reads) ASSERT_FALSE(r.error) << r.id << ": " << r.error->describe();
  EXPECT_EQ(reads[0].interface_id, "eni-0a00000a");
  EXPECT_EQ(reads[1].interface_id, "eni-0a00000a");
  EXPECT_EQ(reads[1].state, TargetState::Other);

  std::string tag = fence_tag_value({"node-b", "7311", 2, "eni-0b00000b"}, system_clock::now());
  std::string key = fence_tag_key("10.0.99.10/32", 2);
  auto applied = c->apply({{kTable, false}, {kAddress, false}}, "eni-0b00000b", {{kTable, kAddress}, key, tag}, 2);
  for (const auto &o : applied.points) EXPECT_TRUE(o.ok()) << o.action << ": " << o.error->describe();
  EXPECT_TRUE(applied.fence.ok()) << applied.fence.error->describe();
  auto again = c->read({kTable, kAddress}, 2);
  EXPECT_EQ(again[0].state, TargetState::Ours);
  EXPECT_EQ(again[1].state, TargetState::Ours);
  EXPECT_EQ(again[0].fence_tags.count(key), 1u);
  Outcome forgot = c->forget({kTable, kAddress}, {{key, tag}}, 2);
  EXPECT_TRUE(forgot.ok()) << forgot.error->describe();
  (void) c->source_dest_check();

  auto by = callers();
  const std::set<std::string> role_only{kRoleCaller}, node_only{"i-0b000001"};
  for (const char *action :
       {"DescribeRouteTables", "DescribeAddresses", "ReplaceRoute", "AssociateAddress", "CreateTags", "DeleteTags"})
    EXPECT_EQ(by[action], role_only) << action << " goes with the role's credentials";
  EXPECT_EQ(by["AssumeRole"], node_only) << "the role is assumed with the node's own credentials";
  EXPECT_EQ(by["DescribeNetworkInterfaceAttribute"], node_only) << "the node's own read keeps its credentials";
  EXPECT_EQ(aws.count("AssumeRole"), 0) << "(count() is EC2's: AssumeRole is STS's)";
  int assumed = 0;
  for (const auto &a : attempts) assumed += a == "AssumeRole";
  EXPECT_EQ(assumed, 1) << "one AssumeRole for every request, told to the metrics";
  EXPECT_EQ(session_name(), "pg_vip-node-b") << "the node's name, with only a session name's characters";
}

TEST_F(RoleCloudTest, AWrongExternalIdIsEveryTargetsErrorWithWhatToFix) {
  role.external_id = "not-the-id";
  auto c = cloud();
  Placement p = c->prepare("eni-0b00000b");
  ASSERT_EQ(p.warnings.size(), 1u) << "prepared, with a warning: the node's own reads still work";
  EXPECT_NE(p.warnings[0].find("AccessDenied"), std::string::npos) << p.warnings[0];
  auto reads = c->read({kTable, kAddress}, 2);
  for (const auto &r : reads) {
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.failed_action, "AssumeRole");
    EXPECT_EQ(r.error->kind, aws::ErrorKind::Authorization);
    std::string text = "cannot read: " + r.error->describe_for(r.failed_action);
    EXPECT_NE(text.find("sts:AssumeRole"), std::string::npos) << text;
    EXPECT_NE(text.find("trust"), std::string::npos) << text;
    EXPECT_NE(text.find("pg_vip.role_external_id"), std::string::npos) << text;
    EXPECT_EQ(text.find("not-the-id"), std::string::npos) << "the external id is never shown: " << text;
    EXPECT_LE(text.size(), 255u) << "it fits vip_targets().last_error whole: " << text;
  }
  auto applied = c->apply({{kTable, false}}, "eni-0b00000b", {{kTable}, "k", "v"}, 2);
  EXPECT_EQ(applied.points[0].action, "AssumeRole");
  EXPECT_FALSE(applied.points[0].ok());
  EXPECT_EQ(aws.count("ReplaceRoute"), 0) << "nothing sent to EC2 without the role's credentials";
  EXPECT_EQ(aws.count("DescribeRouteTables"), 0);
}

TEST_F(RoleCloudTest, ARoleThatDoesNotTrustTheNodeIsRefusedAlike) {
  role.arn = "arn:aws:iam::210987654321:role/pg-vip-nobody";
  auto c = cloud();
  c->prepare("eni-0b00000b");
  auto reads = c->read({kTable}, 2);
  ASSERT_TRUE(reads[0].error);
  EXPECT_EQ(reads[0].failed_action, "AssumeRole");
  EXPECT_NE(reads[0].error->message.find("must exist and trust"), std::string::npos) << reads[0].error->message;
}

TEST_F(RoleCloudTest, AReloadThatClearsTheRoleGoesBackToTheNodesCredentials) {
  auto c = cloud();
  c->prepare("eni-0b00000b");
  ASSERT_FALSE(c->read({kTable}, 2)[0].error);
  ASSERT_NE(c->target_credentials(), nullptr);
  EXPECT_TRUE(c->target_credentials()->uses_role());
  role = {};
  auto reads = c->read({kTable}, 1);
  ASSERT_TRUE(reads[0].error) << "the node's own account has no such table";
  EXPECT_EQ(reads[0].error->kind, aws::ErrorKind::NotFound);
  EXPECT_FALSE(c->target_credentials()->uses_role());
  EXPECT_EQ(callers()["DescribeRouteTables"], (std::set<std::string>{kRoleCaller, "i-0b000001"}));
}
