// The generated IAM policy: narrow (no "*" resource for a changing action,
// exactly this VIP's tag keys), well-formed for IAM (Sids, no unknown
// fields), refusing bad inputs, and equal to docs/iam-policy.json for the
// README's example. The documents are read relative to the directory the
// binary runs in, the top of the tree (make unit, scripts/test.sh's copy).
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <fstream>
#include <functional>
#include <regex>
#include <set>
#include <sstream>

#include "core/error.hpp"
#include "core/fence.hpp"
#include "core/iam_policy.hpp"

using namespace pg_vip;

namespace {

// The README's example configuration (its postgresql.conf lines), in the
// region and with the example account id docs/iam.md names.
IamPolicyInput readme_example() {
  IamPolicyInput in;
  in.region = "eu-west-1";
  in.account = "123456789012";
  in.route_tables = {"rtb-0123456789abcdef0", "rtb-0fedcba9876543210"};
  in.vip = "10.0.99.10/32";
  return in;
}

std::string read_file(const std::string &path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return {};
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

rapidjson::Document parsed(const std::string &json) {
  rapidjson::Document d;
  d.Parse(json.c_str(), json.size());
  return d;
}

std::vector<std::string> strings(const rapidjson::Value &v) {
  std::vector<std::string> out;
  if (v.IsString()) out.emplace_back(v.GetString(), v.GetStringLength());
  if (v.IsArray())
    for (const auto &e : v.GetArray())
      if (e.IsString()) out.emplace_back(e.GetString(), e.GetStringLength());
  return out;
}

const rapidjson::Value *statement(const rapidjson::Document &d, const std::string &sid) {
  for (const auto &s : d["Statement"].GetArray())
    if (s.HasMember("Sid") && s["Sid"].IsString() && sid == s["Sid"].GetString()) return &s;
  return nullptr;
}

// IAM's StringLike: "*" any run of characters, "?" any one; case-sensitive.
bool string_like(const std::string &pattern, const std::string &value) {
  std::string re;
  for (char c : pattern) {
    if (c == '*') re += ".*";
    else if (c == '?') re += ".";
    else if (std::isalnum(static_cast<unsigned char>(c))) re += c;
    else re += std::string("\\") + c;
  }
  return std::regex_match(value, std::regex(re));
}

// What a statement's ForAllValues:StringLike on aws:TagKeys (with Null
// false) says of a request carrying `keys`.
bool tag_keys_allowed(const rapidjson::Value &s, const std::vector<std::string> &keys) {
  const auto &c = s["Condition"];
  if (strings(c["Null"]["aws:TagKeys"]) != std::vector<std::string>{"false"}) return false;
  if (keys.empty()) return false;  // Null: the request must carry tag keys
  auto patterns = strings(c["ForAllValues:StringLike"]["aws:TagKeys"]);
  for (const auto &k : keys)
    if (std::none_of(patterns.begin(), patterns.end(), [&](const auto &p) { return string_like(p, k); })) return false;
  return true;
}

// What iam_policy_json() refuses the README's example with, once `change`
// made it wrong: "message | detail | hint", or "" when it is accepted.
std::string refusal(const std::function<void(IamPolicyInput &)> &change) {
  IamPolicyInput in = readme_example();
  change(in);
  try {
    (void) iam_policy_json(in);
    return "";
  } catch (const ConfigError &e) {
    return std::string(e.what()) + " | " + e.detail() + " | " + e.hint();
  }
}

// Each of `values`, set by `set`, is refused with a message that starts
// with `head` and quotes the value.
void expect_refused(const std::string &head, const std::vector<std::string> &values,
                    void (*set)(IamPolicyInput &, const std::string &)) {
  for (const auto &v : values)
    EXPECT_EQ(refusal([&](IamPolicyInput &in) { set(in, v); }).rfind(head + " \"" + v + "\"", 0), 0u) << v;
}

const std::set<std::string> kChangingActions = {"ec2:ReplaceRoute", "ec2:CreateRoute", "ec2:CreateTags",
                                                "ec2:DeleteTags"};

}  // namespace

TEST(IamPolicy, DocsPolicyIsTheGeneratedOneForTheReadmeExample) {
  std::string docs = read_file("docs/iam-policy.json");
  ASSERT_FALSE(docs.empty()) << "docs/iam-policy.json not found: run the test binary from the top of the tree";
  EXPECT_EQ(docs, iam_policy_json(readme_example()) + "\n")
      << "regenerate it: the generator's output for the README's example, with a final line break";
}

TEST(IamPolicy, ReadmeExampleIsTheOneTheReadmeConfigures) {
  // If the README's example changes, the policy in docs/ must follow.
  std::string readme = read_file("README.md");
  ASSERT_FALSE(readme.empty()) << "README.md not found: run the test binary from the top of the tree";
  IamPolicyInput in = readme_example();
  EXPECT_NE(readme.find("pg_vip.vip = '" + in.vip + "'"), std::string::npos);
  EXPECT_NE(readme.find("pg_vip.route_tables = '" + in.route_tables[0] + ", " + in.route_tables[1] + "'"),
            std::string::npos);
}

TEST(IamPolicy, EveryStatementIsDescribedInTheDocsBySid) {
  // IAM policies have no comments and reject unknown fields: a statement's
  // description is a section of docs/iam.md headed by its Sid.
  std::string docs = read_file("docs/iam.md");
  ASSERT_FALSE(docs.empty()) << "docs/iam.md not found: run the test binary from the top of the tree";
  auto d = parsed(iam_policy_json(readme_example()));
  ASSERT_FALSE(d.HasParseError());
  for (const auto &s : d["Statement"].GetArray()) {
    std::string sid = s["Sid"].GetString();
    EXPECT_NE(docs.find("\n## `" + sid + "`"), std::string::npos) << sid << " has no section in docs/iam.md";
  }
}

TEST(IamPolicy, IsJsonOfIamsGrammarOnly) {
  auto d = parsed(iam_policy_json(readme_example()));
  ASSERT_FALSE(d.HasParseError());
  ASSERT_TRUE(d.IsObject());
  std::set<std::string> top;
  for (const auto &m : d.GetObject()) top.insert(m.name.GetString());
  EXPECT_EQ(top, (std::set<std::string>{"Version", "Statement"}));
  EXPECT_STREQ(d["Version"].GetString(), "2012-10-17");
  ASSERT_TRUE(d["Statement"].IsArray());
  std::set<std::string> sids;
  for (const auto &s : d["Statement"].GetArray()) {
    for (const auto &m : s.GetObject()) {
      std::string field = m.name.GetString();
      EXPECT_TRUE(field == "Sid" || field == "Effect" || field == "Action" || field == "Resource" ||
                  field == "Condition")
          << "a field IAM would refuse: " << field;
    }
    ASSERT_TRUE(s.HasMember("Sid") && s["Sid"].IsString());
    std::string sid = s["Sid"].GetString();
    EXPECT_TRUE(std::regex_match(sid, std::regex("[A-Za-z0-9]+"))) << "IAM's Sid is alphanumeric: " << sid;
    EXPECT_TRUE(sids.insert(sid).second) << "Sid twice: " << sid;
    EXPECT_STREQ(s["Effect"].GetString(), "Allow");
    for (const auto &a : strings(s["Action"])) {
      EXPECT_EQ(a.find('*'), std::string::npos) << "an action named exactly: " << a;
      EXPECT_EQ(a.rfind("ec2:", 0), 0u) << a;
    }
  }
  EXPECT_EQ(sids.size(), 4u);
}

TEST(IamPolicy, NoChangingActionOnAnyResource) {
  auto d = parsed(iam_policy_json(readme_example()));
  std::set<std::string> changing_seen;
  for (const auto &s : d["Statement"].GetArray()) {
    auto actions = strings(s["Action"]);
    auto resources = strings(s["Resource"]);
    bool changes = std::any_of(actions.begin(), actions.end(), [](const auto &a) { return kChangingActions.count(a); });
    if (!changes) {
      // The reads: EC2's Describe* take no resource, so "*" is the only
      // resource that allows them; they are kept to the region.
      for (const auto &a : actions) EXPECT_EQ(a.rfind("ec2:Describe", 0), 0u) << a;
      EXPECT_EQ(resources, std::vector<std::string>{"*"});
      EXPECT_EQ(strings(s["Condition"]["StringEquals"]["ec2:Region"]), std::vector<std::string>{"eu-west-1"});
      continue;
    }
    for (const auto &a : actions) changing_seen.insert(a);
    EXPECT_EQ(resources,
              (std::vector<std::string>{"arn:aws:ec2:eu-west-1:123456789012:route-table/rtb-0123456789abcdef0",
                                        "arn:aws:ec2:eu-west-1:123456789012:route-table/rtb-0fedcba9876543210"}))
        << s["Sid"].GetString();
    for (const auto &r : resources) EXPECT_EQ(r.find('*'), std::string::npos) << r;
  }
  EXPECT_EQ(changing_seen, kChangingActions);
}

TEST(IamPolicy, TagKeysAreExactlyThisVips) {
  IamPolicyInput in = readme_example();
  auto d = parsed(iam_policy_json(in));
  const auto *create = statement(d, "PgVipWriteFenceTag");
  const auto *remove = statement(d, "PgVipDeleteOldFenceTags");
  ASSERT_TRUE(create && remove);
  EXPECT_EQ(strings((*create)["Action"]), std::vector<std::string>{"ec2:CreateTags"});
  EXPECT_EQ(strings((*remove)["Action"]), std::vector<std::string>{"ec2:DeleteTags"});
  EXPECT_EQ(strings((*create)["Condition"]["ForAllValues:StringLike"]["aws:TagKeys"]),
            std::vector<std::string>{"pg_vip:10.0.99.10/32:tl*"});
  EXPECT_EQ(strings((*remove)["Condition"]["ForAllValues:StringLike"]["aws:TagKeys"]),
            (std::vector<std::string>{"pg_vip:10.0.99.10/32", "pg_vip:10.0.99.10/32:tl*"}));

  // Every key the code writes is allowed; the key of 0.2 only to delete.
  for (uint32_t tl : {1u, 2u, 9u, 10u, 4294967295u}) {
    EXPECT_TRUE(tag_keys_allowed(*create, {fence_tag_key(in.vip, tl)})) << tl;
    EXPECT_TRUE(tag_keys_allowed(*remove, {fence_tag_key(in.vip, tl)})) << tl;
  }
  EXPECT_TRUE(tag_keys_allowed(*remove, {legacy_fence_tag_key(in.vip), fence_tag_key(in.vip, 3)}));
  EXPECT_FALSE(tag_keys_allowed(*create, {legacy_fence_tag_key(in.vip)}));
  // No other VIP's fence, no other tag, no request without tags, no request
  // that slips another key in beside ours.
  for (const std::string &other :
       {fence_tag_key("10.0.99.1/32", 2), fence_tag_key("10.0.99.100/32", 2), legacy_fence_tag_key("10.0.99.11/32"),
        std::string("pg_vip:other"), std::string("Name"), std::string("PG_VIP:10.0.99.10/32:tl2")}) {
    EXPECT_FALSE(tag_keys_allowed(*create, {other})) << other;
    EXPECT_FALSE(tag_keys_allowed(*remove, {other})) << other;
    EXPECT_FALSE(tag_keys_allowed(*create, {fence_tag_key(in.vip, 2), other})) << other;
  }
  EXPECT_FALSE(tag_keys_allowed(*create, {}));
  EXPECT_FALSE(tag_keys_allowed(*remove, {}));
}

TEST(IamPolicy, Ipv6VipAndOtherPartitions) {
  IamPolicyInput in = readme_example();
  in.vip = "2001:DB8:0::10/128";  // canonical form in the keys, as pg_vip.vip writes them
  in.region = "cn-northwest-1";
  auto d = parsed(iam_policy_json(in));
  ASSERT_FALSE(d.HasParseError());
  EXPECT_EQ(strings((*statement(d, "PgVipWriteFenceTag"))["Condition"]["ForAllValues:StringLike"]["aws:TagKeys"]),
            std::vector<std::string>{"pg_vip:2001:db8::10/128:tl*"});
  EXPECT_EQ(strings((*statement(d, "PgVipMoveRoute"))["Resource"])[0],
            "arn:aws-cn:ec2:cn-northwest-1:123456789012:route-table/rtb-0123456789abcdef0");

  EXPECT_EQ(partition_of_region("us-gov-west-1"), "aws-us-gov");
  EXPECT_EQ(partition_of_region("us-east-1"), "aws");
  EXPECT_EQ(partition_of_region("us-iso-east-1"), "aws-iso");
  EXPECT_EQ(partition_of_region("us-isob-east-1"), "aws-iso-b");
  EXPECT_EQ(partition_of_region("eu-isoe-west-1"), "aws-iso-e");
  EXPECT_EQ(partition_of_region("us-isof-south-1"), "aws-iso-f");
  EXPECT_EQ(partition_of_region("eusc-de-east-1"), "aws-eusc");
  in.partition = "aws-future";  // a partition this code does not know, given
  EXPECT_NE(iam_policy_json(in).find("\"arn:aws-future:ec2:cn-northwest-1:"), std::string::npos);
}

TEST(IamPolicy, StableOrderAndOneArnPerTable) {
  IamPolicyInput in = readme_example();
  in.route_tables = {"rtb-0fedcba9876543210", "rtb-12345678", "rtb-0123456789abcdef0"};
  std::string a = iam_policy_json(in);
  EXPECT_EQ(a, iam_policy_json(in));
  auto d = parsed(a);
  EXPECT_EQ(strings((*statement(d, "PgVipMoveRoute"))["Resource"]),
            (std::vector<std::string>{"arn:aws:ec2:eu-west-1:123456789012:route-table/rtb-0fedcba9876543210",
                                      "arn:aws:ec2:eu-west-1:123456789012:route-table/rtb-12345678",
                                      "arn:aws:ec2:eu-west-1:123456789012:route-table/rtb-0123456789abcdef0"}));
  EXPECT_NE(a.back(), '\n');
}

TEST(IamPolicy, RefusesBadInputWithWhatToFix) {
  EXPECT_EQ(refusal([](auto &) {}), "");

  for (const char *account : {"", "12345678901", "1234567890123", "12345678901a", "-12345678901", " 123456789012"})
    EXPECT_EQ(refusal([&](auto &in) { in.account = account; }),
              std::string("invalid AWS account id \"") + account +
                  "\" | An AWS account id is 12 digits, such as 123456789012. | Give the account that owns the "
                  "route tables (the instance's own, in instance metadata).")
        << account;
  EXPECT_EQ(refusal([](auto &in) { in.account = "12345\n789012"; }).rfind("invalid AWS account id \"12345 789012\"", 0),
            0u);

  for (const char *rtb : {"rtb-1234567", "rtb-123456789", "rtb-0123456789ABCDEF0", "rtb-0123456789abcdef", "rtb-",
                          "eni-12345678", "rtb-12345678,rtb-87654321", " rtb-12345678", "rtb-1234567g", ""})
    EXPECT_EQ(refusal([&](auto &in) {
                in.route_tables = {"rtb-0123456789abcdef0", rtb};
              }),
              std::string("invalid route table id \"") + rtb +
                  "\" | A route table id is \"rtb-\" followed by 8 or 17 lower-case hex digits. | ")
        << rtb;
  EXPECT_EQ(refusal([](auto &in) {
              in.route_tables = {"rtb-12345678", "rtb-12345678"};
            }),
            "route table \"rtb-12345678\" is listed twice | Each route table is named once in the policy. | ");
  EXPECT_EQ(refusal([](auto &in) { in.route_tables.clear(); }),
            "the IAM policy needs at least one target | Its changing actions are allowed on the configured route "
            "tables, Elastic IPs, network interfaces and hosted zones only. | Set pg_vip.route_tables, or another "
            "kind of target.");

  expect_refused("invalid AWS region",
                 {"eu-west", "EU-west-1", "eu_west_1", "eu--west-1", "eu-west-1 ", "eu-west-1a", "1-2-3"},
                 [](IamPolicyInput &in, const std::string &v) { in.region = v; });
  EXPECT_EQ(refusal([](auto &in) { in.region = ""; }),
            "the IAM policy needs the AWS region | A route table's ARN names its region. | Set pg_vip.region, or "
            "AWS_REGION in the server's environment.");

  expect_refused("invalid AWS partition", {"amazon", "aws-", "aws--cn", "AWS", "awscn", "aws-cn:x", "aws cn"},
                 [](IamPolicyInput &in, const std::string &v) { in.partition = v; });

  EXPECT_EQ(refusal([](auto &in) { in.vip = ""; }),
            "the IAM policy needs the virtual IP | Its fence tag keys name the VIP. | Set pg_vip.vip.");
  expect_refused("invalid value for parameter \"pg_vip.vip\":",
                 {"10.0.99.10", "10.0.99.10/24", "10.0.99.*/32", "pg_vip:*", "2001:db8::1/64"},
                 [](IamPolicyInput &in, const std::string &v) { in.vip = v; });
}
