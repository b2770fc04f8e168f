// libFuzzer target: EC2's error answers (<Response><Errors><Error>... and
// the Query dialect's <ErrorResponse>), with every HTTP status the client
// meets, and what is made of them: the kind, the retry decision, the
// message and the hint a DBA reads.
// parse_error is documented never to throw: any exception is a finding.
#include "core/aws_error.hpp"
#include "core/ec2_xml.hpp"
#include "fuzz/support.hpp"

using namespace pg_vip::aws;

namespace {

const long kStatuses[] = {400, 401, 403, 404, 412, 429, 500, 502, 503, 504, 200, 0};

void use(const AwsError &e, long status) {
  FUZZ_CHECK(e.http_status == status);
  FUZZ_CHECK(!e.code.empty());  // the AWS code, or "HTTP<status>" for an unreadable body
  FUZZ_CHECK(!(e.retryable() && e.permanent()));
  if (status == 401 || status == 403)
    FUZZ_CHECK(!e.retryable() || e.kind == ErrorKind::ExpiredToken || e.kind == ErrorKind::Throttled ||
               e.kind == ErrorKind::ServerError);
  (void) e.dry_run_ok();
  (void) to_string(e.kind);
  (void) e.describe();
  (void) e.describe_for("CreateTags");
  (void) e.describe_for("ReplaceRoute");
  (void) e.hint();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size) {
  const std::string body = fuzz::text(data, size);
  // One status per input, chosen by its length, so that mutations reach all.
  const long status = kStatuses[size % (sizeof kStatuses / sizeof kStatuses[0])];
  use(parse_error(body, status), status);
  // The body taken as an error code: classify() sees codes from the wire.
  (void) classify(body, status);
  return 0;
}
