// libFuzzer target: EC2's success answers, as the client reads them:
// DescribeRouteTables pages, the <return> of ReplaceRoute, CreateRoute and
// CreateTags, the request id, and DescribeInstanceAttribute (sourceDestCheck).
// The fence tags a page carries go on to parse_fence_tag, as in the controller.
// Expected refusal: AwsFailure (kind Malformed).
#include "core/aws_error.hpp"
#include "core/ec2_xml.hpp"
#include "core/fence.hpp"
#include "fuzz/support.hpp"

using namespace pg_vip;
using namespace pg_vip::aws;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size) {
  const std::string body = fuzz::text(data, size);
  try {
    RouteTablePage page = parse_route_table_page(body);
    for (const RouteTable &t : page.tables) {
      FUZZ_CHECK(!t.id.empty());  // a table without an id is refused, never returned
      for (const Route &r : t.routes) FUZZ_CHECK(t.find_route(r.destination) != nullptr);
      for (const auto &tag : t.tags)
        if (tag.first.rfind("pg_vip:", 0) == 0) (void) parse_fence_tag(tag.second);
    }
  } catch (const AwsFailure &f) {
    FUZZ_CHECK(f.error().kind == ErrorKind::Malformed);
  }
  try {
    (void) parse_return(body);
  } catch (const AwsFailure &f) {
    FUZZ_CHECK(f.error().kind == ErrorKind::Malformed);
  }
  try {
    (void) parse_request_id(body);
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
