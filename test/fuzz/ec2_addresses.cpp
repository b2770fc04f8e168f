// libFuzzer target: EC2's answers about Elastic IPs and secondary private
// IPs (ec2_addresses.hpp): DescribeAddresses, AssociateAddress,
// DescribeNetworkInterfaces' addresses and AssignPrivateIpAddresses.
// Expected refusal: AwsFailure (kind Malformed).
#include <set>

#include "core/aws_error.hpp"
#include "core/ec2_addresses.hpp"
#include "fuzz/support.hpp"

using namespace pg_vip;
using namespace pg_vip::aws;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size) {
  const std::string body = fuzz::text(data, size);
  try {
    std::set<std::string> ids;
    for (const ElasticIp &a : parse_addresses(body)) {
      FUZZ_CHECK(!a.allocation_id.empty());            // refused, never returned
      FUZZ_CHECK(ids.insert(a.allocation_id).second);  // each once
      FUZZ_CHECK(a.associated() == !a.association_id.empty());
    }
  } catch (const AwsFailure &f) {
    FUZZ_CHECK(f.error().kind == ErrorKind::Malformed);
  }
  try {
    FUZZ_CHECK(!parse_association_id(body).empty());
  } catch (const AwsFailure &f) {
    FUZZ_CHECK(f.error().kind == ErrorKind::Malformed);
  }
  try {
    std::set<std::string> ids;
    for (const InterfaceAddresses &n : parse_interface_addresses(body)) {
      FUZZ_CHECK(!n.network_interface_id.empty() && ids.insert(n.network_interface_id).second);
      int primaries = 0;
      std::set<std::string> addresses;
      for (const PrivateIp &p : n.private_ips) {
        primaries += p.primary;
        FUZZ_CHECK(!p.address.empty() && addresses.insert(p.address).second);
      }
      FUZZ_CHECK(primaries <= 1);
      FUZZ_CHECK(n.primary_ip().empty() == (primaries == 0));
    }
  } catch (const AwsFailure &f) {
    FUZZ_CHECK(f.error().kind == ErrorKind::Malformed);
  }
  try {
    for (const std::string &a : parse_assigned_private_ips(body)) FUZZ_CHECK(!a.empty());
  } catch (const AwsFailure &f) {
    FUZZ_CHECK(f.error().kind == ErrorKind::Malformed);
  }
  return 0;
}
