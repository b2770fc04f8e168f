// libFuzzer target: EC2's answers about a network interface, as the
// preflight and the worker's Cloud read them: DescribeNetworkInterfaces
// (VPC, attachment, source/destination check) and
// DescribeNetworkInterfaceAttribute (sourceDestCheck).
// Expected refusal: AwsFailure (kind Malformed).
#include "core/aws_error.hpp"
#include "core/ec2_xml.hpp"
#include "fuzz/support.hpp"

using namespace pg_vip;
using namespace pg_vip::aws;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size) {
  const std::string body = fuzz::text(data, size);
  try {
    for (const NetworkInterface &n : parse_network_interfaces(body))
      FUZZ_CHECK(!n.id.empty());  // an interface without an id is refused, never returned
  } catch (const AwsFailure &f) {
    FUZZ_CHECK(f.error().kind == ErrorKind::Malformed);
  }
  try {
    (void) parse_network_interface_attribute_bool(body, "sourceDestCheck");
  } catch (const AwsFailure &f) {
    FUZZ_CHECK(f.error().kind == ErrorKind::Malformed);
  }
  return 0;
}
