// libFuzzer target: the instance role's credentials as IMDS serves them,
// {"Code":"Success","AccessKeyId":...,"SecretAccessKey":...,"Token":...,
// "Expiration":"2026-11-25T19:00:00Z"}, and the timestamp parser the
// Expiration goes through.
// Expected refusals: AwsFailure (from parse_role_credentials), Error (from
// parse_iso8601).
#include "core/aws_error.hpp"
#include "core/clock.hpp"
#include "core/credentials.hpp"
#include "core/error.hpp"
#include "core/imds.hpp"
#include "fuzz/support.hpp"

using namespace pg_vip;
using namespace pg_vip::aws;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size) {
  const std::string json = fuzz::text(data, size);
  try {
    Credentials c = parse_role_credentials(json, "pg-vip-role");
    FUZZ_CHECK(!c.access_key_id.empty() && !c.secret_access_key.empty() && !c.session_token.empty());
    FUZZ_CHECK(c.expiration.has_value());
  } catch (const AwsFailure &) {
  }
  try {
    (void) iso8601(parse_iso8601(json));
  } catch (const Error &) {
  }
  return 0;
}
