// The public address of an Elastic IP allocation, for pg_vip.dns_value =
// 'elastic' (the record follows the primary under the first of
// pg_vip.elastic_ips' public address). An allocation's public address is
// fixed for the allocation's life: one DescribeAddresses by allocation id
// when the Cloud is built, never again on a claim's path. Signed with the
// targets' credentials (the allocation is a target: another account's,
// through the role, when pg_vip.role_arn is set).
#pragma once
#include <chrono>
#include <string>
#include "credentials.hpp"
#include "time_source.hpp"
#include "cpp_only.hpp"

namespace pg_vip::aws {

struct ElasticIpLookupOptions {
  std::string region;  // pg_vip.region; empty: find_region()'s (instance metadata last)
  std::string ec2_endpoint;
  std::string imds_endpoint = "http://169.254.169.254";
  std::string ca_file;
  std::chrono::milliseconds request_timeout{2000};
  Environment env;
};

// The allocation's public IPv4 address. Throws Error saying what failed
// (no region, the request refused, no such allocation) and what to set.
std::string elastic_ip_public_address(const ElasticIpLookupOptions &options, const std::string &allocation_id,
                                      CredentialSource &credentials, TimeSource &time);

}  // namespace pg_vip::aws
