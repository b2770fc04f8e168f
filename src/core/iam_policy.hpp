// The least-privilege IAM policy for one node's configuration: the reads on
// "*" (EC2's Describe* take no resource), the route changes on the
// configured route tables' ARNs only, and the fence tags on those tables for
// this VIP's tag keys only. docs/iam.md explains each statement; its
// docs/iam-policy.json is this function's output for the README's example
// (test/unit/iam_policy_test.cpp holds the two together).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cpp_only.hpp"

namespace pg_vip {

struct IamPolicyInput {
  std::string partition;                  // "aws", "aws-cn", "aws-us-gov", ...; empty: from the region
  std::string region;                     // "eu-west-1"
  std::string account;                    // the 12-digit account that owns the route tables
  std::vector<std::string> route_tables;  // pg_vip.route_tables, in its order
  std::string vip;                        // pg_vip.vip ("10.0.99.10/32"; written in its canonical form)
};

// The policy as JSON: two-space indents, no final line break, statements and
// their elements always in the same order (route tables in the input's).
// Throws ConfigError, saying what to fix, when an input is missing or not of
// its form (an account id not of 12 digits, a route table id not "rtb-" and
// 8 or 17 lower-case hex digits, a malformed region or VIP, a route table
// listed twice).
std::string iam_policy_json(const IamPolicyInput &in);

// The partition of a region's ARNs, by the prefixes of botocore's
// partitions.json: "cn-..." is aws-cn, "us-gov-..." aws-us-gov, "us-iso-..."
// aws-iso, "us-isob-..." aws-iso-b, "us-isof-..." aws-iso-f, "eu-isoe-..."
// aws-iso-e, "eusc-..." aws-eusc; every other region is aws.
std::string partition_of_region(std::string_view region);

}  // namespace pg_vip
