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

#include "core/actions.hpp"
#include "core/error.hpp"
#include "core/fence.hpp"
#include "core/iam_policy.hpp"

using namespace pg_vip;
using namespace pg_vip::aws;

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

std::string code(const std::string &s) { return "`" + s + "`"; }

std::string joined(const std::vector<const char *> &items) {
  std::string out;
  for (const char *i : items) out += (out.empty() ? "" : ", ") + code(i);
  return out;
}

// One row of docs/iam.md's list, as the table says it.
std::string doc_row(const Action &a) {
  std::string resources, keys;
  for (const auto &r : a.resources) {
    resources += (resources.empty() ? "" : ", ") + code(r.arn);
    if (!r.condition_keys.empty())
      keys += (keys.empty() ? "" : "; ") + std::string("on `") + r.name + "`: " + joined(r.condition_keys);
  }
  if (resources.empty()) resources = code("*");
  if (!a.condition_keys.empty())
    keys += (keys.empty() ? "" : "; ") + std::string("for the action: ") + joined(a.condition_keys);
  return "| " + std::string(to_string(a.kind)) + " | " + code(a.permission()) + " | " +
         (a.changes ? "changes" : "reads") + " | " + (a.dry_run ? "yes" : "no") + " | " + resources + " | " +
         code(a.sid) + " | " + a.purpose + " | " + (keys.empty() ? "none" : keys) + " |";
}

std::string doc_list() {
  std::string out = "| kind | action | | DryRun | resource | statement | what for | condition keys AWS documents |\n"
                    "| --- | --- | --- | --- | --- | --- | --- | --- |\n";
  for (const auto &a : action_table()) out += doc_row(a) + "\n";
  return out;
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

TEST(IamPolicy, DocsListOfActionsIsTheTable) {
  std::string docs = read_file("docs/iam.md");
  ASSERT_FALSE(docs.empty()) << "docs/iam.md not found: run the test binary from the top of the tree";
  std::string list = doc_list();
  EXPECT_NE(docs.find("\n\n" + list + "\n"), std::string::npos)
      << "docs/iam.md's list of actions differs from the action table (src/core/actions.cpp); it reads:\n"
      << list;
  // And every statement has its section.
  for (const auto &a : action_table())
    EXPECT_NE(docs.find("\n## `" + std::string(a.sid) + "`"), std::string::npos) << a.sid;
}

namespace {

// Every kind of target, in one account.
IamPolicyInput every_kind() {
  IamPolicyInput in = readme_example();
  in.elastic_ips = {"eipalloc-08229861", "eipalloc-0123456789abcdef0"};
  in.secondary_ips = {"10.0.1.50"};
  in.network_interfaces = {"eni-0f7db66c34c4b0a1c", "eni-12345678"};
  in.subnets = {"subnet-0a0b0c0d"};
  in.dns_records = {{"Z0123456789ABCDEFGHIJ", "DB.Example.com.", "A"},
                    {"/hostedzone/Z0123456789ABCDEFGHIJ", "*.db.example.com", "TXT"}};
  return in;
}

std::vector<std::string> sids(const rapidjson::Document &d) {
  std::vector<std::string> out;
  for (const auto &s : d["Statement"].GetArray()) out.emplace_back(s["Sid"].GetString());
  return out;
}

// The ARNs of a resource type: its form with each placeholder a run of
// characters without ':' (the last, the id, any run).
std::regex arn_pattern(const ResourceType &r) {
  std::string form = r.arn, re;
  for (std::size_t i = 0; i < form.size(); ++i) {
    if (form.compare(i, 2, "${") == 0) {
      i = form.find('}', i);
      re += i + 1 == form.size() ? ".+" : "[^:]*";
    } else if (std::isalnum(static_cast<unsigned char>(form[i]))) {
      re += form[i];
    } else {
      re += std::string("\\") + form[i];
    }
  }
  return std::regex(re);
}

// Each statement of `d` against the action table: every action is one the
// table puts in that statement, every resource is an ARN of a resource type
// the table gives that action there, and every condition key is documented
// by AWS for every such row (actions.hpp's Action::documents).
void expect_statements_follow_the_table(const rapidjson::Document &d) {
  for (const auto &s : d["Statement"].GetArray()) {
    std::string sid = s["Sid"].GetString();
    for (const auto &permission : strings(s["Action"])) {
      std::vector<const Action *> rows;
      for (const Action *a : find_actions(permission))
        if (sid == a->sid) rows.push_back(a);
      ASSERT_FALSE(rows.empty()) << sid << " allows " << permission << ", which the table does not put there";
      auto resources = strings(s["Resource"]);
      for (const auto &arn : resources) {
        bool ours = std::any_of(rows.begin(), rows.end(), [&](const Action *a) {
          if (a->resources.empty()) return arn == "*";
          return std::any_of(a->resources.begin(), a->resources.end(),
                             [&](const ResourceType &r) { return std::regex_match(arn, arn_pattern(r)); });
        });
        EXPECT_TRUE(ours) << sid << ": " << permission << " on " << arn;
      }
      if (!s.HasMember("Condition")) continue;
      for (const auto &op : s["Condition"].GetObject())
        for (const auto &key : op.value.GetObject())
          for (const Action *a : rows)
            EXPECT_TRUE(a->documents(key.name.GetString()))
                << sid << ": " << key.name.GetString() << " is not documented for " << permission << " ("
                << to_string(a->kind) << ")";
    }
  }
}

}  // namespace

TEST(IamPolicy, EveryKindAddsItsStatementsOnItsResourcesOnly) {
  auto d = parsed(iam_policy_json(every_kind()));
  ASSERT_FALSE(d.HasParseError());
  EXPECT_EQ(sids(d), (std::vector<std::string>{"PgVipRead", "PgVipMoveRoute", "PgVipWriteFenceTag",
                                               "PgVipDeleteOldFenceTags", "PgVipMoveElasticIp", "PgVipMoveSecondaryIp",
                                               "PgVipWriteAddressFenceTag", "PgVipDeleteOldAddressFenceTags",
                                               "PgVipChangeRecord", "PgVipReadRecords", "PgVipWaitForChange"}));
  EXPECT_EQ(strings((*statement(d, "PgVipRead"))["Action"]),
            (std::vector<std::string>{"ec2:DescribeRouteTables", "ec2:DescribeNetworkInterfaces",
                                      "ec2:DescribeNetworkInterfaceAttribute", "ec2:DescribeAddresses",
                                      "ec2:DescribeSubnets"}));
  const std::string ec2 = "arn:aws:ec2:eu-west-1:123456789012:";
  const std::vector<std::string> interfaces = {ec2 + "network-interface/eni-0f7db66c34c4b0a1c",
                                               ec2 + "network-interface/eni-12345678"};
  EXPECT_EQ(strings((*statement(d, "PgVipMoveElasticIp"))["Resource"]),
            (std::vector<std::string>{ec2 + "elastic-ip/eipalloc-08229861",
                                      ec2 + "elastic-ip/eipalloc-0123456789abcdef0", interfaces[0], interfaces[1]}));
  EXPECT_EQ(strings((*statement(d, "PgVipMoveSecondaryIp"))["Action"]),
            std::vector<std::string>{"ec2:AssignPrivateIpAddresses"});
  EXPECT_EQ(strings((*statement(d, "PgVipMoveSecondaryIp"))["Resource"]), interfaces);
  // The fence on the route tables and allocations, with the VIP's keys;
  // never on an interface.
  for (const char *sid : {"PgVipWriteFenceTag", "PgVipDeleteOldFenceTags"}) {
    auto resources = strings((*statement(d, sid))["Resource"]);
    EXPECT_EQ(resources.size(), 4u) << sid;
    EXPECT_EQ(resources[2], ec2 + "elastic-ip/eipalloc-08229861") << sid;
  }
  // A secondary IP's on its subnet, with the address's keys only.
  for (const char *sid : {"PgVipWriteAddressFenceTag", "PgVipDeleteOldAddressFenceTags"}) {
    const auto &st = *statement(d, sid);
    EXPECT_EQ(strings(st["Resource"]), std::vector<std::string>{ec2 + "subnet/subnet-0a0b0c0d"}) << sid;
    EXPECT_EQ(strings(st["Condition"]["ForAllValues:StringLike"]["aws:TagKeys"]),
              std::vector<std::string>{"pg_vip:10.0.1.50/32:tl*"})
        << sid;
  }
  const auto &change = *statement(d, "PgVipChangeRecord");
  EXPECT_EQ(strings(change["Action"]), std::vector<std::string>{"route53:ChangeResourceRecordSets"});
  EXPECT_EQ(strings(change["Resource"]),
            std::vector<std::string>{"arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ"});
  const auto &set = change["Condition"]["ForAllValues:StringEquals"];
  EXPECT_EQ(strings(set["route53:ChangeResourceRecordSetsNormalizedRecordNames"]),
            (std::vector<std::string>{"db.example.com", "\\052.db.example.com", "_pg_vip.db.example.com"}));
  EXPECT_EQ(strings(set["route53:ChangeResourceRecordSetsRecordTypes"]), (std::vector<std::string>{"A", "TXT"}));
  // The compare-and-swap: DELETE the fence as read, CREATE the new one, UPSERT the address.
  EXPECT_EQ(strings(set["route53:ChangeResourceRecordSetsActions"]),
            (std::vector<std::string>{"CREATE", "DELETE", "UPSERT"}));
  for (const char *key : {"route53:ChangeResourceRecordSetsNormalizedRecordNames",
                          "route53:ChangeResourceRecordSetsRecordTypes", "route53:ChangeResourceRecordSetsActions"})
    EXPECT_EQ(strings(change["Condition"]["Null"][key]), std::vector<std::string>{"false"}) << key;
  EXPECT_EQ(strings((*statement(d, "PgVipReadRecords"))["Resource"]),
            std::vector<std::string>{"arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ"});
  EXPECT_EQ(strings((*statement(d, "PgVipWaitForChange"))["Resource"]),
            std::vector<std::string>{"arn:aws:route53:::change/*"});
  expect_statements_follow_the_table(d);

  // The subnet not known: any subnet, for the addresses' keys only.
  IamPolicyInput in = every_kind();
  in.subnets.clear();
  auto without = parsed(iam_policy_json(in));
  EXPECT_EQ(strings((*statement(without, "PgVipWriteAddressFenceTag"))["Resource"]),
            std::vector<std::string>{ec2 + "subnet/*"});
  // One kind alone: its statements only (no route table, no DescribeRouteTables).
  IamPolicyInput eip;
  eip.region = "eu-west-1";
  eip.account = "123456789012";
  eip.vip = "10.0.99.10/32";
  eip.elastic_ips = {"eipalloc-08229861"};
  eip.network_interfaces = {"eni-12345678"};
  auto alone = parsed(iam_policy_json(eip));
  EXPECT_EQ(sids(alone), (std::vector<std::string>{"PgVipRead", "PgVipMoveElasticIp", "PgVipWriteFenceTag",
                                                   "PgVipDeleteOldFenceTags"}));
  EXPECT_EQ(strings((*statement(alone, "PgVipRead"))["Action"]),
            (std::vector<std::string>{"ec2:DescribeNetworkInterfaces", "ec2:DescribeNetworkInterfaceAttribute",
                                      "ec2:DescribeAddresses"}));
  expect_statements_follow_the_table(alone);
  expect_statements_follow_the_table(parsed(iam_policy_json(readme_example())));
}

TEST(IamPolicy, WithARoleTheNodeMayOnlyAssumeIt) {
  IamPolicyInput in = every_kind();
  in.role_arn = "arn:aws:iam::210987654321:role/ops/pg-vip";
  IamPolicyDocuments docs = iam_policy_documents(in);
  EXPECT_EQ(iam_policy_json(in), docs.node);
  auto node = parsed(docs.node);
  auto role = parsed(docs.role);
  ASSERT_FALSE(node.HasParseError() || role.HasParseError());
  EXPECT_EQ(sids(node), (std::vector<std::string>{"PgVipRead", "PgVipAssumeRole"}));
  EXPECT_EQ(strings((*statement(node, "PgVipRead"))["Action"]),
            (std::vector<std::string>{"ec2:DescribeNetworkInterfaces", "ec2:DescribeNetworkInterfaceAttribute"}));
  EXPECT_EQ(strings((*statement(node, "PgVipAssumeRole"))["Action"]), std::vector<std::string>{"sts:AssumeRole"});
  EXPECT_EQ(strings((*statement(node, "PgVipAssumeRole"))["Resource"]), std::vector<std::string>{in.role_arn});
  // The role's: everything else, its ARNs in the role's account.
  EXPECT_EQ(sids(role),
            (std::vector<std::string>{"PgVipRead", "PgVipMoveRoute", "PgVipWriteFenceTag", "PgVipDeleteOldFenceTags",
                                      "PgVipMoveElasticIp", "PgVipMoveSecondaryIp", "PgVipWriteAddressFenceTag",
                                      "PgVipDeleteOldAddressFenceTags", "PgVipChangeRecord", "PgVipReadRecords",
                                      "PgVipWaitForChange"}));
  EXPECT_EQ(strings((*statement(role, "PgVipRead"))["Action"]),
            (std::vector<std::string>{"ec2:DescribeRouteTables", "ec2:DescribeAddresses",
                                      "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"}));
  EXPECT_EQ(strings((*statement(role, "PgVipMoveRoute"))["Resource"])[0],
            "arn:aws:ec2:eu-west-1:210987654321:route-table/rtb-0123456789abcdef0");
  EXPECT_EQ(docs.role.find("123456789012"), std::string::npos) << "the node's account in the role's policy";
  EXPECT_EQ(docs.role.find("sts:"), std::string::npos);
  expect_statements_follow_the_table(node);
  expect_statements_follow_the_table(role);
  // Without a role, one document.
  EXPECT_EQ(iam_policy_documents(every_kind()).role, "");
  // Each statement of either document is described in docs/iam.md.
  std::string text = read_file("docs/iam.md");
  for (const auto *d : {&node, &role})
    for (const auto &sid : sids(*d)) EXPECT_NE(text.find("\n## `" + sid + "`"), std::string::npos) << sid;
}

TEST(IamPolicy, RefusesBadTargetsWithWhatToFix) {
  auto refused = [](const std::function<void(IamPolicyInput &)> &change) {
    IamPolicyInput in = every_kind();
    change(in);
    try {
      (void) iam_policy_documents(in);
      return std::string();
    } catch (const ConfigError &e) {
      return std::string(e.what());
    }
  };
  EXPECT_EQ(refused([](auto &) {}), "");
  for (const char *id : {"eipalloc-0822986", "203.0.113.41", "eipalloc-08229861,eipalloc-12345678", ""})
    EXPECT_EQ(refused([&](auto &in) { in.elastic_ips.push_back(id); }),
              std::string("invalid Elastic IP allocation id \"") + id + "\"")
        << id;
  EXPECT_EQ(refused([](auto &in) { in.elastic_ips.push_back("eipalloc-08229861"); }),
            "Elastic IP \"eipalloc-08229861\" is listed twice");
  EXPECT_EQ(refused([](auto &in) { in.secondary_ips.push_back("10.0.1.050"); }),
            "invalid secondary private IP \"10.0.1.050\"");
  EXPECT_EQ(refused([](auto &in) { in.network_interfaces.push_back("auto"); }),
            "invalid network interface id \"auto\"");
  EXPECT_EQ(refused([](auto &in) { in.network_interfaces.clear(); }),
            "the IAM policy needs the network interfaces the addresses move to");
  for (const char *zone : {"", "z0123", "Z0123*", "/hostedzone/", "Z0123456789ABCDEFGHIJ0123456789ABC"})
    EXPECT_EQ(refused([&](auto &in) { in.dns_records[0].hosted_zone = zone; }),
              std::string("invalid Route 53 hosted zone id \"") + zone + "\"")
        << zone;
  for (const char *name : {"", ".", "db..example.com", "db.*.example.com", "db example.com", "db.example.com/x",
                           "*db.example.com", "db.\"example\".com"})
    EXPECT_EQ(refused([&](auto &in) { in.dns_records[0].name = name; }),
              std::string("invalid DNS record name \"") + name + "\"")
        << name;
  EXPECT_EQ(refused([](auto &in) {
              in.dns_records[0].name = std::string(64, 'a') + ".example.com";
            }).rfind("invalid DNS record name", 0),
            0u);
  EXPECT_EQ(refused([](auto &in) { in.dns_records[0].type = "MX"; }), "invalid DNS record type \"MX\"");
  for (const char *arn : {"arn:aws:iam::21098765432:role/pg-vip", "arn:aws:iam::210987654321:user/pg-vip",
                          "arn:aws:iam::210987654321:role/*", "arn:aws:iam::210987654321:role/", "pg-vip",
                          "arn:aws-cn:iam::210987654321:role/pg-vip", "arn:aws:iam::210987654321:role/a b",
                          "arn:aws:iam:eu-west-1:210987654321:role/pg-vip"})
    EXPECT_EQ(refused([&](auto &in) { in.role_arn = arn; }), std::string("invalid IAM role ARN \"") + arn + "\"")
        << arn;
  // Only DNS records is a policy; nothing at all is not.
  EXPECT_EQ(refused([](auto &in) {
              in.route_tables.clear();
              in.elastic_ips.clear();
              in.secondary_ips.clear();
            }),
            "");
  EXPECT_EQ(refused([](auto &in) {
              in.route_tables.clear();
              in.elastic_ips.clear();
              in.secondary_ips.clear();
              in.dns_records.clear();
            }),
            "the IAM policy needs at least one target");
}
