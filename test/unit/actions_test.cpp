// The action table (core/actions.hpp): well-formed rows, one service per
// action name (so an error names the right permission from the bare name),
// DryRun and documented keys as AWS has them. (iam_policy_test.cpp holds
// docs/iam.md's list of actions to it.)
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>

#include "core/actions.hpp"

using namespace pg_vip::aws;

TEST(Actions, EveryRowIsWellFormed) {
  ASSERT_FALSE(action_table().empty());
  std::set<std::pair<Kind, std::string>> seen;
  for (const auto &a : action_table()) {
    std::string what = std::string(to_string(a.kind)) + " " + a.permission();
    EXPECT_TRUE(seen.insert({a.kind, a.name}).second) << what << ": once per kind";
    EXPECT_TRUE(std::regex_match(std::string(a.name), std::regex("[A-Z][A-Za-z0-9]+"))) << what;
    EXPECT_TRUE(std::regex_match(std::string(a.sid), std::regex("PgVip[A-Za-z0-9]+"))) << what;
    std::string purpose = a.purpose;
    ASSERT_FALSE(purpose.empty()) << what;
    EXPECT_TRUE(std::isupper(static_cast<unsigned char>(purpose[0])) && purpose.back() == '.')
        << what << ": a sentence: " << purpose;
    EXPECT_EQ(purpose.find('|'), std::string::npos) << what << ": the docs' table cell";
    std::string hint = a.hint();
    EXPECT_EQ(hint.rfind("Allow " + a.permission() + " " + a.where, 0), 0u) << hint;
    EXPECT_NE(hint.find(std::string("statement ") + a.sid + " of vip_iam_policy()"), std::string::npos) << hint;
    // EC2's reads take no resource type; every other action names the
    // resources pg_vip's request acts on, never "*" alone.
    bool ec2_read = a.service == Service::Ec2 && !a.changes;
    EXPECT_EQ(a.resources.empty(), ec2_read) << what;
    if (ec2_read) {
      EXPECT_TRUE(a.documents("ec2:Region")) << what;
    }
    for (const auto &r : a.resources) {
      std::string arn = r.arn;
      std::string service = a.service == Service::Sts ? "iam" : service_prefix(a.service);
      EXPECT_EQ(arn.rfind("arn:${Partition}:" + service + ":", 0), 0u) << arn;
      EXPECT_NE(arn.find(std::string(":") + r.name + "/${"), std::string::npos) << arn;
      EXPECT_EQ(arn.back(), '}') << arn;
    }
  }
}

TEST(Actions, AnActionNameBelongsToOneService) {
  // describe_for("CreateTags") must name ec2:, describe_for("GetChange")
  // route53:, from the bare name the callers give.
  std::map<std::string, Service> service;
  for (const auto &a : action_table()) {
    auto [at, fresh] = service.emplace(a.name, a.service);
    EXPECT_TRUE(fresh || at->second == a.service) << a.name;
  }
  EXPECT_EQ(find_action("ChangeResourceRecordSets")->permission(), "route53:ChangeResourceRecordSets");
  EXPECT_EQ(find_action("AssumeRole")->permission(), "sts:AssumeRole");
  EXPECT_EQ(find_action("ec2:ReplaceRoute")->permission(), "ec2:ReplaceRoute");
  EXPECT_EQ(find_action("route53:ReplaceRoute"), nullptr);
  EXPECT_EQ(find_action("Frobnicate"), nullptr);
  EXPECT_EQ(find_actions("ec2:CreateTags").size(), 3u);  // route tables, Elastic IPs, interfaces
  EXPECT_EQ(find_action("CreateTags", Kind::ElasticIp)->resources.at(0).name, std::string("elastic-ip"));
  EXPECT_EQ(find_action("CreateTags", Kind::Dns)->kind, Kind::Route);  // no such row: the first
}

TEST(Actions, DryRunOnlyWhereTheRequestHasIt) {
  // botocore's models: every EC2 request pg_vip sends has DryRun but
  // AssignPrivateIpAddresses; Route 53's and STS's have none.
  for (const auto &a : action_table())
    EXPECT_EQ(a.dry_run, a.service == Service::Ec2 && std::string(a.name) != "AssignPrivateIpAddresses")
        << a.permission();
}

TEST(Actions, FillArn) {
  const Action *move = find_action("ReplaceRoute");
  ASSERT_TRUE(move);
  EXPECT_EQ(fill_arn(move->resources.at(0), "aws", "eu-west-1", "123456789012", "rtb-12345678"),
            "arn:aws:ec2:eu-west-1:123456789012:route-table/rtb-12345678");
  const Action *change = find_action("ChangeResourceRecordSets");
  EXPECT_EQ(fill_arn(change->resources.at(0), "aws-cn", "cn-north-1", "123456789012", "Z0123456789ABC"),
            "arn:aws-cn:route53:::hostedzone/Z0123456789ABC");
  EXPECT_EQ(fill_arn(find_action("AssumeRole")->resources.at(0), "aws", "eu-west-1", "210987654321", "ops/pg-vip"),
            "arn:aws:iam::210987654321:role/ops/pg-vip");
}

TEST(Actions, DocumentedKeysAreThoseOfEveryResource) {
  const Action *associate = find_action("AssociateAddress");
  ASSERT_TRUE(associate);
  EXPECT_TRUE(associate->documents("ec2:Region"));                 // for the action
  EXPECT_TRUE(associate->documents("ec2:ResourceTag/${TagKey}"));  // both resource types
  EXPECT_FALSE(associate->documents("ec2:AllocationId"));          // the Elastic IP's only
  EXPECT_FALSE(associate->documents("ec2:Vpc"));                   // the interface's only
  EXPECT_TRUE(find_action("CreateTags", Kind::Route)->documents("aws:TagKeys"));
  EXPECT_FALSE(find_action("DescribeRouteTables")->documents("aws:TagKeys"));
  EXPECT_TRUE(find_action("ChangeResourceRecordSets")->documents("route53:ChangeResourceRecordSetsActions"));
}
