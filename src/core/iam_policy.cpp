#include "iam_policy.hpp"

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <algorithm>
#include <set>

#include "error.hpp"
#include "fence.hpp"
#include "notify.hpp"
#include "settings.hpp"

namespace pg_vip {

namespace {

// One condition of a statement: `op` applied to context key `key`. A single
// value is written as a string, as IAM's own examples do, except under a set
// operator (ForAllValues:...), whose values are a set.
struct Condition {
  std::string op;
  std::string key;
  std::vector<std::string> values;
};

struct Statement {
  std::string sid;  // IAM allows only [A-Za-z0-9]: the statement's description is in docs/iam.md, by Sid
  std::vector<std::string> actions;
  std::vector<std::string> resources;  // empty: "*"
  std::vector<Condition> conditions;   // grouped by op in the order first seen
};

// A value from outside, as a message may show it.
std::string shown(std::string_view value) { return sanitize_event_text(value, 100); }

std::string checked_account(const std::string &account) {
  bool ok =
      account.size() == 12 && std::all_of(account.begin(), account.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!ok)
    throw ConfigError("invalid AWS account id \"" + shown(account) + "\"",
                      "An AWS account id is 12 digits, such as 123456789012.",
                      "Give the account that owns the route tables (the instance's own, in instance metadata).");
  return account;
}

std::string checked_region(const std::string &region) {
  if (region.empty())
    throw ConfigError("the IAM policy needs the AWS region", "A route table's ARN names its region.",
                      "Set pg_vip.region, or AWS_REGION in the server's environment.");
  try {
    if (settings::parse_region(region) == region) return region;
  } catch (const ConfigError &e) {
    throw ConfigError("invalid AWS region \"" + shown(region) + "\"", e.detail());
  }
  throw ConfigError("invalid AWS region \"" + shown(region) + "\"", "The region has white space around it.");
}

std::string checked_partition(const std::string &partition, const std::string &region) {
  if (partition.empty()) return partition_of_region(region);
  // "aws", or "aws-" and lower-case words joined by single dashes.
  bool ok =
      partition.compare(0, 3, "aws") == 0 && partition.back() != '-' && partition.find("--") == std::string::npos &&
      std::all_of(partition.begin() + 3, partition.end(), [](char c) { return c == '-' || (c >= 'a' && c <= 'z'); }) &&
      (partition.size() == 3 || partition[3] == '-');
  if (!ok)
    throw ConfigError("invalid AWS partition \"" + shown(partition) + "\"",
                      "A partition is \"aws\", \"aws-cn\", \"aws-us-gov\" or another \"aws-\" name.",
                      "Leave it empty to derive it from the region.");
  return partition;
}

std::vector<std::string> checked_route_tables(const std::vector<std::string> &tables) {
  if (tables.empty())
    throw ConfigError("the IAM policy needs at least one route table",
                      "Its changing actions are allowed on the configured route tables only.",
                      "Set pg_vip.route_tables.");
  std::set<std::string> seen;
  for (const auto &id : tables) {
    // The setting's own check, one id at a time: a comma or white space in
    // an id must not make two ARNs of one entry.
    bool ok = false;
    try {
      std::vector<std::string> one = settings::parse_route_tables(id);
      ok = one.size() == 1 && one[0] == id;
    } catch (const ConfigError &) {
    }
    if (!ok)
      throw ConfigError("invalid route table id \"" + shown(id) + "\"",
                        "A route table id is \"rtb-\" followed by 8 or 17 lower-case hex digits.");
    if (!seen.insert(id).second)
      throw ConfigError("route table \"" + id + "\" is listed twice", "Each route table is named once in the policy.");
  }
  return tables;
}

std::string checked_vip(const std::string &vip) {
  if (vip.empty())
    throw ConfigError("the IAM policy needs the virtual IP", "Its fence tag keys name the VIP.", "Set pg_vip.vip.");
  return settings::parse_vip(vip).cidr;
}

// The key pattern of every fence tag this VIP's nodes write: the
// per-timeline key with its timeline number made a wildcard. (IAM's
// StringLike knows only "*" and "?", so "tl*" is as narrow as it gets; the
// VIP in its canonical form contains neither.)
std::string timeline_keys(const std::string &vip) {
  std::string key = fence_tag_key(vip, 1);
  return key.substr(0, key.size() - 1) + "*";
}

// The statements the route tables need. A later kind of target adds a
// function like this one, with its own resources and Sids.
std::vector<Statement> route_table_statements(const std::string &arn_prefix, const std::vector<std::string> &tables,
                                              const std::string &vip) {
  std::vector<std::string> arns;
  for (const auto &id : tables) arns.push_back(arn_prefix + "route-table/" + id);
  // Only tag keys of this VIP, and only with tag keys: ForAllValues is
  // true of a request that carries none.
  auto only_keys = [](std::vector<std::string> patterns) {
    return std::vector<Condition>{{"ForAllValues:StringLike", "aws:TagKeys", std::move(patterns)},
                                  {"Null", "aws:TagKeys", {"false"}}};
  };
  return {
      // ReplaceRoute points the VIP's route at this node's interface;
      // CreateRoute makes it in a table that has none.
      {"PgVipMoveRoute", {"ec2:ReplaceRoute", "ec2:CreateRoute"}, arns, {}},
      // The fence tag: only this VIP's per-timeline keys are ever written.
      {"PgVipWriteFenceTag", {"ec2:CreateTags"}, arns, only_keys({timeline_keys(vip)})},
      // Older timelines' keys, and the key of 0.2 (pg_vip:<vip>), which is
      // deleted but never written.
      {"PgVipDeleteOldFenceTags", {"ec2:DeleteTags"}, arns, only_keys({legacy_fence_tag_key(vip), timeline_keys(vip)})},
  };
}

void write_strings(rapidjson::PrettyWriter<rapidjson::StringBuffer> &w, const std::vector<std::string> &values) {
  w.StartArray();
  for (const auto &v : values) w.String(v.c_str(), static_cast<rapidjson::SizeType>(v.size()));
  w.EndArray();
}

void write_statement(rapidjson::PrettyWriter<rapidjson::StringBuffer> &w, const Statement &s) {
  w.StartObject();
  w.Key("Sid");
  w.String(s.sid.c_str());
  w.Key("Effect");
  w.String("Allow");
  w.Key("Action");
  write_strings(w, s.actions);
  w.Key("Resource");
  if (s.resources.empty()) w.String("*");
  else write_strings(w, s.resources);
  if (!s.conditions.empty()) {
    w.Key("Condition");
    w.StartObject();
    std::vector<std::string> ops;
    for (const auto &c : s.conditions)
      if (std::find(ops.begin(), ops.end(), c.op) == ops.end()) ops.push_back(c.op);
    for (const auto &op : ops) {
      w.Key(op.c_str());
      w.StartObject();
      for (const auto &c : s.conditions) {
        if (c.op != op) continue;
        w.Key(c.key.c_str());
        if (c.values.size() == 1 && c.op.find(':') == std::string::npos) w.String(c.values[0].c_str());
        else write_strings(w, c.values);
      }
      w.EndObject();
    }
    w.EndObject();
  }
  w.EndObject();
}

}  // namespace

std::string partition_of_region(std::string_view region) {
  auto starts = [&](std::string_view prefix) { return region.substr(0, prefix.size()) == prefix; };
  if (starts("cn-")) return "aws-cn";
  if (starts("us-gov-")) return "aws-us-gov";
  if (starts("us-iso-")) return "aws-iso";
  if (starts("us-isob-")) return "aws-iso-b";
  if (starts("us-isof-")) return "aws-iso-f";
  if (starts("eu-isoe-")) return "aws-iso-e";
  if (starts("eusc-")) return "aws-eusc";
  return "aws";
}

std::string iam_policy_json(const IamPolicyInput &in) {
  std::string vip = checked_vip(in.vip);
  std::vector<std::string> tables = checked_route_tables(in.route_tables);
  std::string region = checked_region(in.region);
  std::string account = checked_account(in.account);
  std::string partition = checked_partition(in.partition, region);

  std::vector<Statement> statements{
      // The reads: every table's routes and tags, the interface and its
      // source/destination check. EC2's Describe* take no resource ARN (a
      // statement naming one does not allow them); ec2:Region keeps them
      // to this region.
      {"PgVipRead",
       {"ec2:DescribeRouteTables", "ec2:DescribeNetworkInterfaces", "ec2:DescribeNetworkInterfaceAttribute"},
       {},
       {{"StringEquals", "ec2:Region", {region}}}},
  };
  std::string arn_prefix = "arn:" + partition + ":ec2:" + region + ":" + account + ":";
  for (auto &s : route_table_statements(arn_prefix, tables, vip)) statements.push_back(std::move(s));

  rapidjson::StringBuffer out;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(out);
  w.SetIndent(' ', 2);
  w.StartObject();
  w.Key("Version");
  w.String("2012-10-17");
  w.Key("Statement");
  w.StartArray();
  for (const auto &s : statements) write_statement(w, s);
  w.EndArray();
  w.EndObject();
  return std::string(out.GetString(), out.GetSize());
}

}  // namespace pg_vip
