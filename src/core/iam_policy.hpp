// The least-privilege IAM policy for one node's configuration: the reads on
// "*" (EC2's Describe* take no resource), the changes on the configured
// targets' ARNs only (route tables, Elastic IPs and the nodes' interfaces,
// hosted zones for the configured records), and the fence tags on them for
// this VIP's tag keys only. The statements come from the action table
// (actions.hpp). docs/iam.md explains each statement; its
// docs/iam-policy.json is this function's output for the README's example
// (test/unit/iam_policy_test.cpp holds the two together).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cpp_only.hpp"

namespace pg_vip {

// A Route 53 record pg_vip points at the primary.
struct DnsRecord {
  std::string hosted_zone;  // "Z0123456789ABCDEFGHIJ" (a "/hostedzone/" prefix is taken off)
  std::string name;         // "db.example.com" or "db.example.com."; written as IAM's condition compares it
  std::string type = "A";   // "A", "AAAA", "CNAME" or "TXT"
};

struct IamPolicyInput {
  std::string partition;                  // "aws", "aws-cn", "aws-us-gov", ...; empty: from the region
  std::string region;                     // "eu-west-1"
  std::string account;                    // the 12-digit account that owns the targets (this node's)
  std::vector<std::string> route_tables;  // pg_vip.route_tables, in its order
  std::string vip;                        // pg_vip.vip ("10.0.99.10/32"; written in its canonical form)
  // The kinds besides route tables; each configured one adds its actions
  // (actions.hpp) to the policy, on its resources only.
  std::vector<std::string> elastic_ips;    // allocation ids ("eipalloc-...")
  std::vector<std::string> secondary_ips;  // private IPv4 addresses
  // The interfaces an Elastic IP or a secondary IP may be moved to: every
  // node's pg_vip.network_interface (eni ids), as many as there are nodes.
  std::vector<std::string> network_interfaces;
  // The subnet the secondary IPs move within, whose tags are their fence
  // ("subnet-..."); empty: every subnet of the account in the region, the
  // tag keys still only the addresses'.
  std::vector<std::string> subnets;
  std::vector<DnsRecord> dns_records;
  // A role in another account that pg_vip assumes to change the targets
  // ("arn:aws:iam::210987654321:role/pg-vip"): the targets' ARNs then name
  // its account, and the policy is two documents (IamPolicyDocuments).
  std::string role_arn;
};

// With a role, the node's credentials need only their own interface's reads
// and sts:AssumeRole on the role; everything else is the role's, in the
// targets' account.
struct IamPolicyDocuments {
  std::string node;  // for the credentials pg_vip runs with (the instance role)
  std::string role;  // for role_arn's role; empty without a role
};

// The policy as JSON: two-space indents, no final line break, statements and
// their elements always in the same order (the action table's, actions.hpp;
// resources in the input's). Throws ConfigError, saying what to fix, when an
// input is missing or not of its form (an account id not of 12 digits, a
// route table id not "rtb-" and 8 or 17 lower-case hex digits, a malformed
// region or VIP, an id listed twice, no target at all, ...).
IamPolicyDocuments iam_policy_documents(const IamPolicyInput &in);
// The node's document (without a role, the whole policy).
std::string iam_policy_json(const IamPolicyInput &in);

// The partition of a region's ARNs, by the prefixes of botocore's
// partitions.json: "cn-..." is aws-cn, "us-gov-..." aws-us-gov, "us-iso-..."
// aws-iso, "us-isob-..." aws-iso-b, "us-isof-..." aws-iso-f, "eu-isoe-..."
// aws-iso-e, "eusc-..." aws-eusc; every other region is aws.
std::string partition_of_region(std::string_view region);

}  // namespace pg_vip
