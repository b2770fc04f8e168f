#include "ec2_addresses.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <set>

#include "cidr.hpp"
#include "ec2_xml_reader.hpp"
#include "error.hpp"
#include "fence.hpp"
#include "notify.hpp"

namespace pg_vip::aws {

using namespace xml;

namespace {

// A prefix and 8 or 17 lower-case hex digits: EC2's short and long ids.
bool is_ec2_id(std::string_view id, std::string_view prefix) {
  if (id.substr(0, prefix.size()) != prefix) return false;
  std::string_view hex = id.substr(prefix.size());
  return (hex.size() == 8 || hex.size() == 17) &&
         std::all_of(hex.begin(), hex.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// A value from outside, as a message may show it.
std::string shown(std::string_view value) { return sanitize_event_text(value, 100); }

void check_allocation_id(const std::string &id) {
  if (!is_allocation_id(id))
    throw ConfigError("invalid Elastic IP allocation id \"" + shown(id) + "\"",
                      "An allocation id is \"eipalloc-\" followed by 8 or 17 lower-case hex digits.",
                      "Name each Elastic IP by its allocation id, not its public address.");
}

void check_network_interface_id(const std::string &id) {
  if (!is_network_interface_id(id))
    throw ConfigError("invalid network interface id \"" + shown(id) + "\"",
                      "A network interface id is \"eni-\" followed by 8 or 17 lower-case hex digits.");
}

void check_subnet_id(const std::string &id) {
  if (!is_subnet_id(id))
    throw ConfigError("invalid subnet id \"" + shown(id) + "\"",
                      "A subnet id is \"subnet-\" followed by 8 or 17 lower-case hex digits.");
}

void check_private_ip(const std::string &address) {
  if (!is_ipv4_address(address))
    throw ConfigError("invalid private IPv4 address \"" + shown(address) + "\"",
                      "A private IP is written as four decimal numbers without leading zeros, such as 10.0.1.50.");
}

// The <tagSet> of an item, a key named twice refused.
std::map<std::string, std::string> tags_of(const xmlNode *item, const char *what) {
  std::map<std::string, std::string> tags;
  for (const xmlNode *tag : items(child(item, "tagSet")))
    if (!tags.emplace(child_text(tag, "key"), child_text(tag, "value")).second)
      malformed(std::string("a tag key is listed twice on ") + what + " (\"" +
                shown(child_text(tag, "key")).substr(0, 64) + "\")");
  return tags;
}

// The items of the answer's `set`, which must be there.
std::vector<const xmlNode *> answer_items(const Doc &doc, const char *root, const char *set) {
  const xmlNode *found = child(root_named(doc, root), set);
  if (!found) malformed(std::string("the response has no <") + set + ">");
  return items(found);
}

// The item's id `field`, which must be there and not be in `seen` yet.
std::string unique_id(const xmlNode *item, const char *field, std::set<std::string> &seen, const std::string &what) {
  std::string id = child_text(item, field);
  if (id.empty()) malformed(what + " has no <" + field + ">");
  if (!seen.insert(id).second) malformed(what + " \"" + shown(id).substr(0, 64) + "\" is listed twice");
  return id;
}

}  // namespace

bool is_allocation_id(std::string_view id) { return is_ec2_id(id, "eipalloc-"); }
bool is_network_interface_id(std::string_view id) { return is_ec2_id(id, "eni-"); }
bool is_subnet_id(std::string_view id) { return is_ec2_id(id, "subnet-"); }

bool is_ipv4_address(std::string_view address) {
  if (address.empty() || address.size() > 15) return false;
  std::string text(address);
  in_addr parsed{};
  if (inet_pton(AF_INET, text.c_str(), &parsed) != 1) return false;
  char canonical[INET_ADDRSTRLEN];
  return inet_ntop(AF_INET, &parsed, canonical, sizeof canonical) && text == canonical;
}

Ec2Call associate_address(const std::string &allocation_id, const std::string &network_interface_id,
                          const std::string &private_ip) {
  check_allocation_id(allocation_id);
  check_network_interface_id(network_interface_id);
  if (!private_ip.empty()) check_private_ip(private_ip);
  Ec2Call c{"AssociateAddress", {}};
  c.params.emplace_back("AllocationId", allocation_id);
  // Without it EC2 refuses an address associated elsewhere: taking it from
  // the old primary is the point.
  c.params.emplace_back("AllowReassociation", "true");
  c.params.emplace_back("NetworkInterfaceId", network_interface_id);
  if (!private_ip.empty()) c.params.emplace_back("PrivateIpAddress", private_ip);
  return c;
}

namespace {

// A Describe* of the resources `ids` (each checked, none twice) as
// `param`.N: never of none, which EC2 would take for every one.
Ec2Call describe_each(const char *action, const char *param, const std::vector<std::string> &ids,
                      void (*check)(const std::string &), const std::string &what, const char *none,
                      const char *none_detail) {
  if (ids.empty()) throw ConfigError(none, none_detail);
  std::set<std::string> seen;
  Ec2Call c{action, {}};
  for (std::size_t i = 0; i < ids.size(); ++i) {
    check(ids[i]);
    if (!seen.insert(ids[i]).second) throw ConfigError(what + " \"" + ids[i] + "\" is listed twice");
    c.params.emplace_back(std::string(param) + "." + std::to_string(i + 1), ids[i]);
  }
  return c;
}

}  // namespace

Ec2Call describe_addresses(const std::vector<std::string> &allocation_ids) {
  return describe_each("DescribeAddresses", "AllocationId", allocation_ids, check_allocation_id, "Elastic IP",
                       "no Elastic IP to describe",
                       "Without allocation ids EC2 describes every address in the region.");
}

Ec2Call assign_private_ip_addresses(const std::string &network_interface_id,
                                    const std::vector<std::string> &addresses) {
  check_network_interface_id(network_interface_id);
  // Without addresses EC2 would need SecondaryPrivateIpAddressCount and pick
  // addresses itself: never what moving a VIP means.
  if (addresses.empty()) throw ConfigError("no secondary private IP to assign");
  std::set<std::string> seen;
  Ec2Call c{"AssignPrivateIpAddresses", {}};
  // Without it EC2 refuses an address another interface has.
  c.params.emplace_back("AllowReassignment", "true");
  c.params.emplace_back("NetworkInterfaceId", network_interface_id);
  for (std::size_t i = 0; i < addresses.size(); ++i) {
    check_private_ip(addresses[i]);
    if (!seen.insert(addresses[i]).second)
      throw ConfigError("secondary private IP \"" + addresses[i] + "\" is listed twice");
    c.params.emplace_back("PrivateIpAddress." + std::to_string(i + 1), addresses[i]);
  }
  return c;
}

Ec2Call describe_interfaces_holding(const std::vector<std::string> &addresses, const std::string &subnet_id) {
  // Without addresses the filter would match nothing and EC2 would list
  // every interface of the account instead.
  if (addresses.empty()) throw ConfigError("no private IP to look for");
  Ec2Call c{"DescribeNetworkInterfaces", {{"Filter.1.Name", "addresses.private-ip-address"}}};
  for (std::size_t i = 0; i < addresses.size(); ++i) {
    check_private_ip(addresses[i]);
    c.params.emplace_back("Filter.1.Value." + std::to_string(i + 1), addresses[i]);
  }
  if (!subnet_id.empty()) {
    check_subnet_id(subnet_id);
    c.params.emplace_back("Filter.2.Name", "subnet-id");
    c.params.emplace_back("Filter.2.Value.1", subnet_id);
  }
  return c;
}

Ec2Call describe_subnets(const std::vector<std::string> &subnet_ids) {
  return describe_each("DescribeSubnets", "SubnetId", subnet_ids, check_subnet_id, "subnet", "no subnet to describe",
                       "Without subnet ids EC2 describes every subnet in the region.");
}

std::string secondary_ip_fence_scope(const std::string &address) { return address + "/32"; }

namespace {
std::optional<std::string> rekey(const std::string &from, const std::string &to, const std::string &key) {
  std::optional<uint32_t> tl = fence_tag_key_timeline(from, key);
  if (!tl) return std::nullopt;
  return *tl == 0 ? legacy_fence_tag_key(to) : fence_tag_key(to, *tl);
}
}  // namespace

std::optional<std::string> subnet_fence_key(const std::string &vip, const std::string &address,
                                            const std::string &vip_key) {
  return rekey(vip, secondary_ip_fence_scope(address), vip_key);
}

std::optional<std::string> vip_fence_key(const std::string &vip, const std::string &address,
                                         const std::string &subnet_key) {
  return rekey(secondary_ip_fence_scope(address), vip, subnet_key);
}

std::vector<Ec2Call> read_secondary_ips(const std::vector<std::string> &addresses, const std::string &subnet_id) {
  // Without the subnet the addresses would be looked for in every VPC.
  check_subnet_id(subnet_id);
  return {describe_interfaces_holding(addresses, subnet_id), describe_subnets({subnet_id})};
}

SubnetTags subnet_fence_tags(const std::string &vip, const std::vector<std::string> &addresses,
                             const SubnetTags &vip_tags) {
  SubnetTags out;
  for (const auto &a : addresses)
    for (const auto &[key, value] : vip_tags)
      if (auto k = subnet_fence_key(vip, a, key)) out.emplace_back(*k, value);
  return out;
}

namespace {
void check_fence_tags(const std::string &subnet_id, const SubnetTags &tags) {
  check_subnet_id(subnet_id);
  if (tags.empty()) throw ConfigError("no fence tag for the subnet " + subnet_id);
}
}  // namespace

Ec2Call write_subnet_fence(const std::string &subnet_id, const SubnetTags &tags) {
  check_fence_tags(subnet_id, tags);
  return create_tags({subnet_id}, std::map<std::string, std::string>(tags.begin(), tags.end()));
}

Ec2Call delete_subnet_fence(const std::string &subnet_id, const SubnetTags &tags) {
  check_fence_tags(subnet_id, tags);
  return delete_tags({subnet_id}, tags);
}

std::vector<Subnet> parse_subnets(const std::string &body) {
  Doc doc = parse(body);
  std::vector<Subnet> out;
  std::set<std::string> seen;
  for (const xmlNode *item : answer_items(doc, "DescribeSubnetsResponse", "subnetSet")) {
    Subnet s;
    s.id = unique_id(item, "subnetId", seen, "a subnet");
    s.vpc_id = child_text(item, "vpcId");
    s.cidr_block = child_text(item, "cidrBlock");
    s.tags = tags_of(item, "a subnet");
    out.push_back(std::move(s));
  }
  return out;
}

std::optional<AwsError> outside_subnet(const Subnet &subnet, const std::string &address) {
  if (cidr_contains(subnet.cidr_block, address) == std::optional<bool>(true)) return std::nullopt;
  return AwsError{ErrorKind::Invalid, 0, "AddressOutsideSubnet",
                  address + " is not in this node's subnet " + subnet.id + " (" + subnet.cidr_block +
                      "); a secondary IP moves only within its subnet",
                  ""};
}

std::vector<ElasticIp> parse_addresses(const std::string &body) {
  Doc doc = parse(body);
  std::vector<ElasticIp> out;
  std::set<std::string> seen;
  for (const xmlNode *item : answer_items(doc, "DescribeAddressesResponse", "addressesSet")) {
    ElasticIp a;
    a.allocation_id = unique_id(item, "allocationId", seen, "an address");
    a.public_ip = child_text(item, "publicIp");
    a.association_id = child_text(item, "associationId");
    a.network_interface_id = child_text(item, "networkInterfaceId");
    a.private_ip_address = child_text(item, "privateIpAddress");
    a.instance_id = child_text(item, "instanceId");
    a.tags = tags_of(item, "an address");
    out.push_back(std::move(a));
  }
  return out;
}

std::string parse_association_id(const std::string &body) {
  Doc doc = parse(body);
  std::string id = child_text(root_named(doc, "AssociateAddressResponse"), "associationId");
  if (id.empty()) malformed("the response has no <associationId>");
  return id;
}

std::string InterfaceAddresses::primary_ip() const {
  for (const auto &p : private_ips)
    if (p.primary) return p.address;
  return {};
}

bool InterfaceAddresses::has(const std::string &address) const {
  return std::any_of(private_ips.begin(), private_ips.end(), [&](const PrivateIp &p) { return p.address == address; });
}

std::vector<InterfaceAddresses> parse_interface_addresses(const std::string &body) {
  Doc doc = parse(body);
  std::vector<InterfaceAddresses> out;
  std::set<std::string> interfaces;
  for (const xmlNode *item : answer_items(doc, "DescribeNetworkInterfacesResponse", "networkInterfaceSet")) {
    InterfaceAddresses n;
    n.network_interface_id = unique_id(item, "networkInterfaceId", interfaces, "a network interface");
    n.subnet_id = child_text(item, "subnetId");
    n.vpc_id = child_text(item, "vpcId");
    std::set<std::string> addresses;
    int primaries = 0;
    for (const xmlNode *a : items(child(item, "privateIpAddressesSet"))) {
      PrivateIp p;
      p.address = child_text(a, "privateIpAddress");
      if (p.address.empty()) malformed("a private IP of an interface has no <privateIpAddress>");
      const xmlNode *primary = child(a, "primary");
      if (!primary) malformed("a private IP of an interface has no <primary>");
      p.primary = parse_bool(text(primary), "primary");
      primaries += p.primary;
      if (!addresses.insert(p.address).second)
        malformed("the private IP \"" + shown(p.address).substr(0, 64) + "\" is listed twice on one interface");
      n.private_ips.push_back(std::move(p));
    }
    if (primaries > 1) malformed("a network interface has more than one primary private IP");
    n.tags = tags_of(item, "a network interface");
    out.push_back(std::move(n));
  }
  return out;
}

std::vector<std::string> parse_assigned_private_ips(const std::string &body) {
  Doc doc = parse(body);
  const xmlNode *root = root_named(doc, "AssignPrivateIpAddressesResponse");
  // The older answer has only <return>: false would be a refusal without an
  // error code, which EC2 never sends.
  if (const xmlNode *ret = child(root, "return"))
    if (!parse_bool(text(ret), "return")) malformed("the response says <return>false</return>");
  std::vector<std::string> out;
  const xmlNode *set = child(root, "assignedPrivateIpAddressesSet");
  for (const xmlNode *item : items(set)) {
    std::string address = child_text(item, "privateIpAddress");
    if (address.empty()) malformed("an assigned address has no <privateIpAddress>");
    out.push_back(std::move(address));
  }
  return out;
}

}  // namespace pg_vip::aws
