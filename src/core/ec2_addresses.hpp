// EC2's calls and answers for two kinds of target besides route tables:
// Elastic IPs (AssociateAddress, DescribeAddresses) and secondary private
// IPs of a network interface (AssignPrivateIpAddresses, and
// DescribeNetworkInterfaces' privateIpAddressesSet). The field names are
// those of botocore's model of EC2 (2016-11-15).
//
// The builders refuse, with ConfigError, an id or address not of its form:
// a value that reaches EC2 is one pg_vip checked. The parsers throw
// AwsFailure (kind Malformed) as ec2_xml.hpp's do, and also on an answer
// that names an allocation, an interface, an address or a tag key twice:
// which of two readings to believe is not pg_vip's guess to make.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ec2_client.hpp"
#include "cpp_only.hpp"

namespace pg_vip::aws {

// "eipalloc-" and 8 or 17 lower-case hex digits.
bool is_allocation_id(std::string_view id);
// "eni-" and 8 or 17 lower-case hex digits.
bool is_network_interface_id(std::string_view id);
// An IPv4 address in its canonical dotted form ("10.0.1.50", not
// "10.0.1.050" or " 10.0.1.50"): secondary private IPs are IPv4 only
// (IPv6 ones have calls of their own, which pg_vip does not make).
bool is_ipv4_address(std::string_view address);

// Associates an Elastic IP with `network_interface_id`, taking it from
// wherever it is (AllowReassociation=true). `private_ip`: the interface's
// address it maps to; empty, the interface's primary address.
Ec2Call associate_address(const std::string &allocation_id, const std::string &network_interface_id,
                          const std::string &private_ip = {});
// All of them in one request. An empty list is refused: EC2 would describe
// every address of the account in the region.
Ec2Call describe_addresses(const std::vector<std::string> &allocation_ids);
// Assigns `addresses` to `network_interface_id` as secondary private IPs,
// taking them from the interface that has them (AllowReassignment=true).
Ec2Call assign_private_ip_addresses(const std::string &network_interface_id, const std::vector<std::string> &addresses);

// The interfaces that hold any of `addresses` (a private IPv4 address,
// primary or secondary), in one DescribeNetworkInterfaces: the filter
// addresses.private-ip-address with every address as a value and, with
// `subnet_id`, subnet-id: private addresses overlap between VPCs (and
// other services' interfaces hold them too), so an address is looked for
// only in the subnet it moves within. An empty list is refused: EC2 would
// describe every interface.
Ec2Call describe_interfaces_holding(const std::vector<std::string> &addresses, const std::string &subnet_id = {});

// "subnet-" and 8 or 17 lower-case hex digits.
bool is_subnet_id(std::string_view id);
// The subnets `subnet_ids`, with their tags (a secondary IP's fence is on
// its subnet), in one DescribeSubnets. An empty list is refused.
Ec2Call describe_subnets(const std::vector<std::string> &subnet_ids);

// A secondary IP's fence tags are on its subnet, which stays put whoever
// holds the address (an interface's tags would travel with the address,
// and die with the interface), and which every interface the address can
// move to belongs to. They are the route kind's tags with the address in
// the VIP's place: pg_vip:10.0.1.50/32:tl2 on the subnet is the fence of
// 10.0.1.50, whatever pg_vip.vip is, so that two addresses of one subnet
// (or two clusters' addresses) each have their own. The controller speaks
// of the VIP's keys; these map one to the other. nullopt: `key` is not a
// fence tag key of the VIP (or of the address).
std::string secondary_ip_fence_scope(const std::string &address);
std::optional<std::string> subnet_fence_key(const std::string &vip, const std::string &address,
                                            const std::string &vip_key);
std::optional<std::string> vip_fence_key(const std::string &vip, const std::string &address,
                                         const std::string &subnet_key);

// The secondary IP kind's requests on this node's subnet, built here for
// Ec2Cloud and for the preflight, which proves them with DryRun: one shape
// for each, so that what the preflight passes is what a claim sends.
//
// Where each of `addresses` is (the interfaces of `subnet_id` that hold
// them) and the subnet with its tags (their fence): DescribeNetworkInterfaces
// and DescribeSubnets, in that order, sent together.
std::vector<Ec2Call> read_secondary_ips(const std::vector<std::string> &addresses, const std::string &subnet_id);
using SubnetTags = std::vector<std::pair<std::string, std::string>>;
// Each address's tags on the subnet for the VIP's tags `vip_tags` (key,
// value), address by address, keys mapped by subnet_fence_key; a key that is
// not a fence tag key of `vip` is left out (the caller compares the sizes).
SubnetTags subnet_fence_tags(const std::string &vip, const std::vector<std::string> &addresses,
                             const SubnetTags &vip_tags);
// CreateTags of `tags` on the subnet (the claim's fence), and DeleteTags of
// them, each only where it still has its value (older timelines' fences,
// once this node holds). No tags is refused: there would be nothing to ask.
Ec2Call write_subnet_fence(const std::string &subnet_id, const SubnetTags &tags);
Ec2Call delete_subnet_fence(const std::string &subnet_id, const SubnetTags &tags);

// One item of DescribeSubnets' subnetSet.
struct Subnet {
  std::string id;
  std::string vpc_id;
  std::string cidr_block;  // its IPv4 range
  std::map<std::string, std::string> tags;
};
// Every item, in the answer's order; an item without <subnetId>, or one
// named twice, is refused.
std::vector<Subnet> parse_subnets(const std::string &body);
// AssignPrivateIpAddresses moves an address only within its subnet: an
// address outside `subnet`'s range is none of its to keep. The error a read
// of `address` fails with then (code AddressOutsideSubnet), else nullopt.
std::optional<AwsError> outside_subnet(const Subnet &subnet, const std::string &address);

// One item of DescribeAddresses' addressesSet. An Elastic IP that is not
// associated has no association id, interface, private address or instance.
struct ElasticIp {
  std::string allocation_id;
  std::string public_ip;
  std::string association_id;
  std::string network_interface_id;
  std::string private_ip_address;
  std::string instance_id;
  std::map<std::string, std::string> tags;
  bool associated() const noexcept { return !association_id.empty(); }
};
// Every item, in the answer's order. An item without <allocationId> is
// refused (pg_vip asks by allocation id only).
std::vector<ElasticIp> parse_addresses(const std::string &body);
// AssociateAddress's <associationId> (refused when absent).
std::string parse_association_id(const std::string &body);

struct PrivateIp {
  std::string address;
  bool primary = false;
};
// One interface of DescribeNetworkInterfaces, for its addresses: the
// primary and the secondary private IPv4 addresses, and its tags.
struct InterfaceAddresses {
  std::string network_interface_id;
  std::string subnet_id;  // "" when the answer does not say
  std::string vpc_id;
  std::vector<PrivateIp> private_ips;  // in the answer's order; at most one primary
  std::map<std::string, std::string> tags;
  // The primary address, or "".
  std::string primary_ip() const;
  bool has(const std::string &address) const;
};
// Every <networkInterfaceSet> item. An interface without a
// <privateIpAddressesSet> has no private IPv4 address (IPv6 only).
std::vector<InterfaceAddresses> parse_interface_addresses(const std::string &body);
// AssignPrivateIpAddresses's answer: the addresses assigned, in order;
// none when it lists none (an older answer holds only <return>true</return>:
// read the interface back to know).
std::vector<std::string> parse_assigned_private_ips(const std::string &body);

}  // namespace pg_vip::aws
