// libFuzzer target: STS's AssumeRole answer as parse_assume_role reads it
// (the secret and the token taken out before libxml2 sees the body), and
// STS's error documents.
// Expected refusal: AwsFailure (kind Malformed).
#include "core/aws_error.hpp"
#include "core/ec2_xml.hpp"
#include "core/sts.hpp"
#include "fuzz/support.hpp"

using namespace pg_vip;
using namespace pg_vip::aws;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size) {
  const std::string body = fuzz::text(data, size);
  try {
    Credentials c = parse_assume_role(body, "arn:aws:iam::123456789012:role/pg_vip");
    FUZZ_CHECK(!c.access_key_id.empty() && !c.secret_access_key.empty() && !c.session_token.empty());
    FUZZ_CHECK(c.expiration.has_value());
    // Base64 only: nothing in them could be markup.
    for (char ch : c.secret_access_key.reveal()) FUZZ_CHECK(ch != '<' && ch != '&' && ch != '~');
    for (char ch : c.session_token.reveal()) FUZZ_CHECK(ch != '<' && ch != '&' && ch != '^');
  } catch (const AwsFailure &f) {
    FUZZ_CHECK(f.error().kind == ErrorKind::Malformed);
    FUZZ_CHECK(f.error().message.size() < 1024);
  }
  AwsError e = parse_error(body, 403);
  FUZZ_CHECK(!e.code.empty());
  return 0;
}
