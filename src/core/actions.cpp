#include "actions.hpp"

namespace pg_vip::aws {

namespace {

// The resource types pg_vip's requests name, as the Service Authorization
// Reference writes them, with the condition keys it lists for them under
// the actions below (the same for every action here that takes them, but
// for CreateTags and DeleteTags).
ResourceType route_table() {
  return {"route-table",
          "arn:${Partition}:ec2:${Region}:${Account}:route-table/${RouteTableId}",
          {"aws:ResourceTag/${TagKey}", "ec2:ResourceTag/${TagKey}", "ec2:RouteTableID", "ec2:Vpc"}};
}

ResourceType elastic_ip() {
  return {"elastic-ip",
          "arn:${Partition}:ec2:${Region}:${Account}:elastic-ip/${AllocationId}",
          {"aws:ResourceTag/${TagKey}", "ec2:AllocationId", "ec2:Domain", "ec2:PublicIpAddress",
           "ec2:ResourceTag/${TagKey}"}};
}

ResourceType network_interface() {
  return {"network-interface",
          "arn:${Partition}:ec2:${Region}:${Account}:network-interface/${NetworkInterfaceId}",
          {"aws:ResourceTag/${TagKey}", "ec2:AvailabilityZone", "ec2:ManagedResourceOperator", "ec2:NetworkInterfaceID",
           "ec2:ResourceTag/${TagKey}", "ec2:Subnet", "ec2:Vpc"}};
}

ResourceType subnet() {
  return {
      "subnet",
      "arn:${Partition}:ec2:${Region}:${Account}:subnet/${SubnetId}",
      {"aws:ResourceTag/${TagKey}", "ec2:AvailabilityZone", "ec2:ResourceTag/${TagKey}", "ec2:SubnetID", "ec2:Vpc"}};
}

// `type` with the keys the reference lists for CreateTags on it: its own,
// and the request's tags (`more`: what CreateTags adds besides).
ResourceType create_tags_on(ResourceType type, std::vector<const char *> more = {}) {
  type.condition_keys.push_back("aws:RequestTag/${TagKey}");
  type.condition_keys.push_back("aws:TagKeys");
  for (const char *k : more) type.condition_keys.push_back(k);
  return type;
}

// DeleteTags lists the same four keys on every resource type.
ResourceType delete_tags_on(ResourceType type) {
  type.condition_keys = {"aws:RequestTag/${TagKey}", "aws:ResourceTag/${TagKey}", "aws:TagKeys",
                         "ec2:ResourceTag/${TagKey}"};
  return type;
}

ResourceType hosted_zone() { return {"hostedzone", "arn:${Partition}:route53:::hostedzone/${Id}", {}}; }
ResourceType change() { return {"change", "arn:${Partition}:route53:::change/${Id}", {}}; }
ResourceType role() {
  return {"role",
          "arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}",
          {"aws:ResourceTag/${TagKey}", "iam:ResourceTag/${TagKey}"}};
}

// EC2 documents ec2:Region for every action, whatever the resource.
const std::vector<const char *> kRegion = {"ec2:Region"};
// ...and CreateTags also ec2:CreateAction, DeleteTags aws:TagKeys.
const std::vector<const char *> kCreateTags = {"ec2:CreateAction", "ec2:Region"};
const std::vector<const char *> kDeleteTags = {"aws:TagKeys", "ec2:Region"};
constexpr bool kChanges = true, kReads = false, kDryRun = true, kNoDryRun = false;

Action row(Kind kind, Service service, const char *name, bool changes, bool dry_run,
           std::vector<ResourceType> resources, std::vector<const char *> keys, const char *sid, const char *purpose,
           const char *where) {
  return Action{kind, service, name, changes, dry_run, std::move(resources), std::move(keys), sid, purpose, where};
}

// A read of EC2: its Describe* take no resource type, so "*", kept to the
// region by a condition.
Action describe(Kind kind, const char *name, const char *purpose) {
  return row(kind, Service::Ec2, name, kReads, kDryRun, {}, kRegion, "PgVipRead", purpose, "on \"*\" in this region");
}

std::vector<Action> build_table() {
  using K = Kind;
  using S = Service;
  return {
      // --- The reads.
      describe(K::Route, "DescribeRouteTables",
               "Reads every configured table's routes and fence tags in one call, every check_interval on every "
               "node, and after a claim."),
      describe(K::Node, "DescribeNetworkInterfaces",
               "Reads the node's interface in the preflight: that it exists, is attached to this instance, and "
               "its VPC."),
      describe(K::Node, "DescribeNetworkInterfaceAttribute",
               "Reads the interface's sourceDestCheck at start, every 10 minutes and in the preflight."),
      describe(K::ElasticIp, "DescribeAddresses",
               "Reads every configured Elastic IP's association and fence tags in one call."),
      describe(K::SecondaryIp, "DescribeNetworkInterfaces",
               "Reads this node's subnet once, then which interface of that subnet holds each secondary IP."),
      describe(K::SecondaryIp, "DescribeSubnets",
               "Reads the secondary IPs' fence tags on this node's subnet, with where they are."),

      // --- Route tables.
      row(K::Route, S::Ec2, "ReplaceRoute", kChanges, kDryRun, {route_table()}, kRegion, "PgVipMoveRoute",
          "Points the VIP's route at this node's interface.", "on the configured route tables"),
      row(K::Route, S::Ec2, "CreateRoute", kChanges, kDryRun, {route_table()}, kRegion, "PgVipMoveRoute",
          "Creates the VIP's route in a table that has none.", "on the configured route tables"),
      row(K::Route, S::Ec2, "CreateTags", kChanges, kDryRun, {create_tags_on(route_table())}, kCreateTags,
          "PgVipWriteFenceTag", "Writes this timeline's fence tag on the route tables.",
          "on the configured route tables for this VIP's fence tag keys"),
      row(K::Route, S::Ec2, "DeleteTags", kChanges, kDryRun, {delete_tags_on(route_table())}, kDeleteTags,
          "PgVipDeleteOldFenceTags", "Deletes older timelines' fence tags from the route tables.",
          "on the configured route tables for this VIP's fence tag keys"),

      // --- Elastic IPs.
      row(K::ElasticIp, S::Ec2, "AssociateAddress", kChanges, kDryRun, {elastic_ip(), network_interface()}, kRegion,
          "PgVipMoveElasticIp", "Associates each Elastic IP with this node's interface, taking it from its holder.",
          "on the configured Elastic IPs and the nodes' network interfaces"),
      row(K::ElasticIp, S::Ec2, "CreateTags", kChanges, kDryRun, {create_tags_on(elastic_ip())}, kCreateTags,
          "PgVipWriteFenceTag", "Writes this timeline's fence tag on the Elastic IPs.",
          "on the configured Elastic IPs for this VIP's fence tag keys"),
      row(K::ElasticIp, S::Ec2, "DeleteTags", kChanges, kDryRun, {delete_tags_on(elastic_ip())}, kDeleteTags,
          "PgVipDeleteOldFenceTags", "Deletes older timelines' fence tags from the Elastic IPs.",
          "on the configured Elastic IPs for this VIP's fence tag keys"),

      // --- Secondary private IPs. AssignPrivateIpAddresses has no DryRun
      // parameter (botocore's model): the preflight cannot prove it.
      row(K::SecondaryIp, S::Ec2, "AssignPrivateIpAddresses", kChanges, kNoDryRun, {network_interface()}, kRegion,
          "PgVipMoveSecondaryIp", "Assigns the secondary IPs to this node's interface, taking them from their holder.",
          "on the nodes' network interfaces"),
      // A secondary IP's fence is on its subnet, under the address's own
      // key (ec2_addresses.hpp): statements of their own, whose condition
      // names those keys.
      row(K::SecondaryIp, S::Ec2, "CreateTags", kChanges, kDryRun, {create_tags_on(subnet())}, kCreateTags,
          "PgVipWriteAddressFenceTag", "Writes this timeline's fence tag for each secondary IP on its subnet.",
          "on the nodes' subnet for the secondary IPs' fence tag keys"),
      row(K::SecondaryIp, S::Ec2, "DeleteTags", kChanges, kDryRun, {delete_tags_on(subnet())}, kDeleteTags,
          "PgVipDeleteOldAddressFenceTags",
          "Deletes older timelines' fence tags of the secondary IPs from their subnet.",
          "on the nodes' subnet for the secondary IPs' fence tag keys"),

      // --- Route 53 records. Route 53 has no DryRun.
      row(K::Dns, S::Route53, "ChangeResourceRecordSets", kChanges, kNoDryRun, {hosted_zone()},
          {"route53:ChangeResourceRecordSetsNormalizedRecordNames", "route53:ChangeResourceRecordSetsRecordTypes",
           "route53:ChangeResourceRecordSetsActions"},
          "PgVipChangeRecord", "Upserts the configured records to this node's address.",
          "on the configured hosted zones for the configured record names and types"),
      row(K::Dns, S::Route53, "ListResourceRecordSets", kReads, kNoDryRun, {hosted_zone()}, {}, "PgVipReadRecords",
          "Reads the configured records.", "on the configured hosted zones"),
      row(K::Dns, S::Route53, "GetChange", kReads, kNoDryRun, {change()}, {}, "PgVipWaitForChange",
          "Waits until a change is INSYNC on Route 53's name servers.", "on change/*"),

      // --- The role in the targets' account.
      row(K::Role, S::Sts, "AssumeRole", kReads, kNoDryRun, {role()},
          {"aws:TagKeys", "aws:RequestTag/${TagKey}", "sts:TransitiveTagKeys", "sts:ExternalId", "sts:RoleSessionName",
           "iam:ResourceTag/${TagKey}", "sts:SourceIdentity"},
          "PgVipAssumeRole", "Takes the role that may change the targets in their account.", "on the role's ARN"),
  };
}

std::string_view bare_name(std::string_view name) {
  auto colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

}  // namespace

const char *service_prefix(Service service) noexcept {
  switch (service) {
    case Service::Ec2: return "ec2";
    case Service::Route53: return "route53";
    case Service::Sts: return "sts";
  }
  return "unknown";
}

const char *to_string(Kind kind) noexcept {
  switch (kind) {
    case Kind::Node: return "node";
    case Kind::Route: return "route";
    case Kind::ElasticIp: return "elastic_ip";
    case Kind::SecondaryIp: return "secondary_ip";
    case Kind::Dns: return "dns";
    case Kind::Role: return "role";
  }
  return "unknown";
}

std::string Action::permission() const { return std::string(service_prefix(service)) + ":" + name; }

std::string Action::hint() const {
  std::string out = "Allow " + permission() + " " + where + " in the IAM policy of " +
                    (on_node() ? "the node's own credentials" : "the credentials that change the targets") +
                    ": statement " + sid + " of vip_iam_policy() (docs/iam.md).";
  if (kind == Kind::Role) out += " The role's trust policy must also trust those credentials.";
  return out;
}

bool Action::documents(std::string_view key) const {
  for (const char *k : condition_keys)
    if (key == k) return true;
  if (resources.empty()) return false;
  for (const auto &r : resources) {
    bool found = false;
    for (const char *k : r.condition_keys) found |= key == k;
    if (!found) return false;
  }
  return true;
}

const std::vector<Action> &action_table() {
  static const std::vector<Action> table = build_table();
  return table;
}

std::vector<const Action *> find_actions(std::string_view name) {
  std::vector<const Action *> out;
  auto colon = name.find(':');
  std::string_view prefix = colon == std::string_view::npos ? std::string_view() : name.substr(0, colon);
  std::string_view bare = bare_name(name);
  for (const auto &a : action_table())
    if (bare == a.name && (prefix.empty() || prefix == service_prefix(a.service))) out.push_back(&a);
  return out;
}

const Action *find_action(std::string_view name, std::optional<Kind> kind) {
  auto rows = find_actions(name);
  if (rows.empty()) return nullptr;
  if (kind)
    for (const auto *a : rows)
      if (a->kind == *kind) return a;
  return rows.front();
}

std::string fill_arn(const ResourceType &type, const std::string &partition, const std::string &region,
                     const std::string &account, const std::string &id) {
  std::string out = type.arn;
  auto replace = [&](const std::string &placeholder, const std::string &value) {
    auto at = out.find(placeholder);
    if (at != std::string::npos) out.replace(at, placeholder.size(), value);
  };
  replace("${Partition}", partition);
  replace("${Region}", region);
  replace("${Account}", account);
  // The resource's own id: the last placeholder left.
  auto open = out.rfind("${");
  if (open != std::string::npos) out.replace(open, out.find('}', open) - open + 1, id);
  return out;
}

}  // namespace pg_vip::aws
