#include "iam_policy.hpp"

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <algorithm>
#include <set>

#include "actions.hpp"
#include "ec2_addresses.hpp"
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

// Each id once, each of its form: `valid` says whether it is, `what` names
// its form in messages ("route table id"), `noun` the thing ("route
// table"), `form` is the detail of a malformed one.
std::vector<std::string> checked_ids(const std::vector<std::string> &ids, bool (*valid)(std::string_view),
                                     const std::string &what, const std::string &noun, const std::string &form) {
  std::set<std::string> seen;
  for (const auto &id : ids) {
    if (!valid(id)) throw ConfigError("invalid " + what + " \"" + shown(id) + "\"", form);
    if (!seen.insert(id).second)
      throw ConfigError(noun + " \"" + id + "\" is listed twice", "Each " + noun + " is named once in the policy.");
  }
  return ids;
}

bool is_route_table_id(std::string_view id) {
  // The setting's own check, one id at a time: a comma or white space in
  // an id must not make two ARNs of one entry.
  try {
    std::vector<std::string> one = settings::parse_route_tables(id);
    return one.size() == 1 && one[0] == id;
  } catch (const ConfigError &) {
    return false;
  }
}

std::vector<std::string> checked_route_tables(const std::vector<std::string> &tables) {
  return checked_ids(tables, is_route_table_id, "route table id", "route table",
                     "A route table id is \"rtb-\" followed by 8 or 17 lower-case hex digits.");
}

std::string checked_vip(const std::string &vip) {
  if (vip.empty())
    throw ConfigError("the IAM policy needs the virtual IP", "Its fence tag keys name the VIP.", "Set pg_vip.vip.");
  return settings::parse_vip(vip).cidr;
}

// A hosted zone id as Route 53 writes it in an ARN: upper-case letters and
// digits (GetHostedZone's "/hostedzone/Z..." is taken off first).
std::string checked_hosted_zone(std::string zone) {
  const std::string prefix = "/hostedzone/";
  std::string given = zone;
  if (zone.compare(0, prefix.size(), prefix) == 0) zone.erase(0, prefix.size());
  bool ok = !zone.empty() && zone.size() <= 32 && std::all_of(zone.begin(), zone.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  });
  if (!ok)
    throw ConfigError("invalid Route 53 hosted zone id \"" + shown(given) + "\"",
                      "A hosted zone id is upper-case letters and digits, such as Z0123456789ABCDEFGHIJ.");
  return zone;
}

// The record name as route53:ChangeResourceRecordSetsNormalizedRecordNames
// holds it: lower case, no final dot, a leading "*" label as its octal
// escape \052. Any other character than letters, digits, '-' and '_' is
// refused rather than escaped: pg_vip's records need none.
std::string normalized_record_name(const std::string &name) {
  std::string n = name;
  if (!n.empty() && n.back() == '.') n.pop_back();
  std::string out;
  bool ok = !n.empty() && n.size() <= 253;
  std::size_t label = 0;
  for (std::size_t i = 0; ok && i < n.size(); ++i) {
    char c = n[i];
    if (c == '.') {
      ok = label > 0;
      label = 0;
      out += c;
      continue;
    }
    ++label;
    ok = label <= 63;
    if (c == '*' && i == 0 && (n.size() == 1 || n[1] == '.')) out += "\\052";
    else if (c >= 'A' && c <= 'Z') out += static_cast<char>(c - 'A' + 'a');
    else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_') out += c;
    else ok = false;
  }
  if (!ok || label == 0)
    throw ConfigError("invalid DNS record name \"" + shown(name) + "\"",
                      "A record name is dot-separated labels of letters, digits, '-' and '_' (the first may be "
                      "\"*\"), each of 1 to 63 characters.");
  return out;
}

std::string checked_record_type(const std::string &type) {
  std::string t;
  for (char c : type) t += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  if (t != "A" && t != "AAAA" && t != "CNAME" && t != "TXT")
    throw ConfigError("invalid DNS record type \"" + shown(type) + "\"",
                      "pg_vip writes records of type A, AAAA, CNAME or TXT.");
  return t;
}

// arn:<partition>:iam::<account>:role/<path><name>, in `partition`; its account.
std::string role_account(const std::string &arn, const std::string &partition) {
  const std::string head = "arn:" + partition + ":iam::";
  bool ok = arn.size() <= 2048 && arn.compare(0, head.size(), head) == 0;
  std::string account, name;
  if (ok) {
    account = arn.substr(head.size(), 12);
    ok = account.size() == 12 &&
         std::all_of(account.begin(), account.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
         arn.compare(head.size() + 12, 6, ":role/") == 0;
  }
  if (ok) {
    name = arn.substr(head.size() + 18);
    // IAM's role names and paths: letters, digits and +=,.@_- , paths
    // separated by '/'; no wildcard, so the ARN names one role.
    ok =
        !name.empty() && name.back() != '/' && name.front() != '/' && std::all_of(name.begin(), name.end(), [](char c) {
          return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 std::string_view("+=,.@_-/").find(c) != std::string_view::npos;
        });
  }
  if (!ok)
    throw ConfigError("invalid IAM role ARN \"" + shown(arn) + "\"",
                      "A role ARN is \"" + head +
                          "\", the 12-digit account, \":role/\" and the role's name (with its "
                          "path), in the partition of the region.");
  return account;
}

// The key pattern of every fence tag this VIP's nodes write: the
// per-timeline key with its timeline number made a wildcard. (IAM's
// StringLike knows only "*" and "?", so "tl*" is as narrow as it gets; the
// VIP in its canonical form contains neither.)
std::string timeline_keys(const std::string &vip) {
  std::string key = fence_tag_key(vip, 1);
  return key.substr(0, key.size() - 1) + "*";
}

// Only keys of `patterns`, and only requests that carry keys: ForAllValues
// is true of a request that carries none.
std::vector<Condition> only(const std::string &op, const std::string &key, std::vector<std::string> values) {
  return {{op, key, std::move(values)}, {"Null", key, {"false"}}};
}

void add_unique(std::vector<std::string> &to, const std::string &value) {
  if (std::find(to.begin(), to.end(), value) == to.end()) to.push_back(value);
}

// What the policy is for, checked.
struct Targets {
  std::string partition, region, account, vip;
  std::vector<std::string> route_tables, elastic_ips, network_interfaces, hosted_zones, subnets;
  std::vector<std::string> secondary_ips;
  std::vector<std::string> record_names, record_types;  // normalized, each once
  std::string role_arn;

  bool configured(const aws::Action &a) const {
    switch (a.kind) {
      case aws::Kind::Node: return true;
      case aws::Kind::Route: return !route_tables.empty();
      case aws::Kind::ElasticIp: return !elastic_ips.empty();
      case aws::Kind::SecondaryIp: return !secondary_ips.empty();
      case aws::Kind::Dns: return !hosted_zones.empty();
      case aws::Kind::Role: return !role_arn.empty();
    }
    return false;
  }

  // The ARNs of a resource type of a configured action.
  std::vector<std::string> arns(const aws::ResourceType &type) const {
    std::string_view name = type.name;
    if (name == "role") return {role_arn};
    const std::vector<std::string> all = {"*"};
    const std::vector<std::string> &ids = name == "route-table"         ? route_tables
                                          : name == "elastic-ip"        ? elastic_ips
                                          : name == "network-interface" ? network_interfaces
                                          : name == "hostedzone"        ? hosted_zones
                                          : name == "subnet"            ? subnets
                                                                        : all;  // change/*: ids Route 53 makes up
    std::vector<std::string> out;
    for (const auto &id : ids) out.push_back(aws::fill_arn(type, partition, region, account, id));
    return out;
  }

  // pg_vip's conditions on a statement (the unit test holds each key to
  // the action table: documented for every action of the statement).
  std::vector<Condition> conditions(std::string_view sid) const {
    if (sid == "PgVipRead") return {{"StringEquals", "ec2:Region", {region}}};
    if (sid == "PgVipWriteFenceTag") return only("ForAllValues:StringLike", "aws:TagKeys", {timeline_keys(vip)});
    if (sid == "PgVipDeleteOldFenceTags")
      return only("ForAllValues:StringLike", "aws:TagKeys", {legacy_fence_tag_key(vip), timeline_keys(vip)});
    if (sid == "PgVipWriteAddressFenceTag" || sid == "PgVipDeleteOldAddressFenceTags") {
      std::vector<std::string> keys;
      for (const auto &a : secondary_ips) keys.push_back(timeline_keys(aws::secondary_ip_fence_scope(a)));
      return only("ForAllValues:StringLike", "aws:TagKeys", keys);
    }
    if (sid == "PgVipChangeRecord") {
      const std::string set = "ForAllValues:StringEquals";
      return {{set, "route53:ChangeResourceRecordSetsNormalizedRecordNames", record_names},
              {set, "route53:ChangeResourceRecordSetsRecordTypes", record_types},
              // The compare-and-swap: DELETE the fence as read, CREATE the
              // new one, UPSERT the address.
              {set, "route53:ChangeResourceRecordSetsActions", {"CREATE", "DELETE", "UPSERT"}},
              {"Null", "route53:ChangeResourceRecordSetsNormalizedRecordNames", {"false"}},
              {"Null", "route53:ChangeResourceRecordSetsRecordTypes", {"false"}},
              {"Null", "route53:ChangeResourceRecordSetsActions", {"false"}}};
    }
    return {};
  }

  // The statements of the configured actions that `on_node` says (with a
  // role: the node's own or the role's), in the table's order.
  std::vector<Statement> statements(bool on_node) const {
    std::vector<Statement> out;
    for (const auto &a : aws::action_table()) {
      if (!configured(a) || (!role_arn.empty() && a.on_node() != on_node)) continue;
      auto s = std::find_if(out.begin(), out.end(), [&](const Statement &x) { return x.sid == a.sid; });
      if (s == out.end()) {
        out.push_back(Statement{a.sid, {}, {}, conditions(a.sid)});
        s = out.end() - 1;
      }
      add_unique(s->actions, a.permission());
      for (const auto &type : a.resources)
        for (const auto &arn : arns(type)) add_unique(s->resources, arn);
    }
    return out;
  }
};

Targets checked_targets(const IamPolicyInput &in) {
  Targets t;
  t.vip = checked_vip(in.vip);
  t.route_tables = checked_route_tables(in.route_tables);
  t.elastic_ips = checked_ids(in.elastic_ips, aws::is_allocation_id, "Elastic IP allocation id", "Elastic IP",
                              "An allocation id is \"eipalloc-\" followed by 8 or 17 lower-case hex digits.");
  t.secondary_ips = checked_ids(in.secondary_ips, aws::is_ipv4_address, "secondary private IP", "secondary private IP",
                                "A secondary private IP is an IPv4 address in its usual form, such as 10.0.1.50.");
  t.subnets = checked_ids(in.subnets, aws::is_subnet_id, "subnet id", "subnet",
                          "A subnet id is \"subnet-\" followed by 8 or 17 lower-case hex digits.");
  if (t.subnets.empty()) t.subnets = {"*"};
  t.network_interfaces =
      checked_ids(in.network_interfaces, aws::is_network_interface_id, "network interface id", "network interface",
                  "A network interface id is \"eni-\" followed by 8 or 17 lower-case hex digits.");
  for (const auto &r : in.dns_records) {
    add_unique(t.hosted_zones, checked_hosted_zone(r.hosted_zone));
    add_unique(t.record_names, normalized_record_name(r.name));
    add_unique(t.record_types, checked_record_type(r.type));
  }
  // Each record's fence: a TXT record at _pg_vip.<name>, changed in the
  // same batch (route53_target.hpp).
  // (A wildcard name, which pg_vip.dns_records does not take, has none.)
  for (const auto &r : in.dns_records)
    if (r.name.compare(0, 1, "*") != 0) add_unique(t.record_names, normalized_record_name("_pg_vip." + r.name));
  if (!in.dns_records.empty()) add_unique(t.record_types, std::string("TXT"));
  if (t.route_tables.empty() && t.elastic_ips.empty() && t.secondary_ips.empty() && t.hosted_zones.empty())
    throw ConfigError("the IAM policy needs at least one target",
                      "Its changing actions are allowed on the configured route tables, Elastic IPs, network "
                      "interfaces and hosted zones only.",
                      "Set pg_vip.route_tables, or another kind of target.");
  if ((!t.elastic_ips.empty() || !t.secondary_ips.empty()) && t.network_interfaces.empty())
    throw ConfigError("the IAM policy needs the network interfaces the addresses move to",
                      "Elastic IPs and secondary IPs are moved to the nodes' interfaces, and only to them.",
                      "Name every node's pg_vip.network_interface.");
  t.region = checked_region(in.region);
  t.account = checked_account(in.account);
  t.partition = checked_partition(in.partition, t.region);
  if (!in.role_arn.empty()) {
    // The targets are the role's account's.
    t.account = role_account(in.role_arn, t.partition);
    t.role_arn = in.role_arn;
  }
  return t;
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

namespace {

std::string document(const std::vector<Statement> &statements) {
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

}  // namespace

IamPolicyDocuments iam_policy_documents(const IamPolicyInput &in) {
  Targets t = checked_targets(in);
  IamPolicyDocuments out;
  out.node = document(t.statements(true));
  if (!t.role_arn.empty()) out.role = document(t.statements(false));
  return out;
}

std::string iam_policy_json(const IamPolicyInput &in) { return iam_policy_documents(in).node; }

}  // namespace pg_vip
