// libFuzzer target: Route 53's answers as the client reads them: a page of
// ListResourceRecordSets (then the target picked from it, and every TXT
// value decoded, as a read of a target does), ChangeInfo, error documents;
// and the TXT encoding of the input itself, which must decode back to it.
// Expected refusals: AwsFailure (kind Malformed) from the parsers,
// ConfigError from txt_value (a text too long for Route 53).
#include "core/aws_error.hpp"
#include "core/error.hpp"
#include "core/route53_fence.hpp"
#include "core/route53_names.hpp"
#include "core/route53_xml.hpp"
#include "fuzz/support.hpp"

using namespace pg_vip;
using namespace pg_vip::aws;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size) {
  const std::string body = fuzz::text(data, size);
  try {
    RecordSetPage page = parse_record_set_page(body);
    FUZZ_CHECK(!page.truncated || !page.next_name.empty());
    for (const RecordSet &r : page.record_sets) {
      FUZZ_CHECK(!r.name.empty() && !r.type.empty());
      for (const auto &v : r.values) (void) txt_text(v);
      (void) canonical_answer_name(r.name);
    }
    TargetRead t = find_target(page.record_sets, "db.example.com", "A", "_fence.example.com");
    if (t.fence) FUZZ_CHECK(t.fence->record.type == "TXT");
  } catch (const AwsFailure &f) {
    FUZZ_CHECK(f.error().kind == ErrorKind::Malformed);
  }
  try {
    ChangeInfo c = parse_change_info(body);
    FUZZ_CHECK(c.status == "PENDING" || c.status == "INSYNC");
    FUZZ_CHECK(change_id(c.id) == c.id);  // a bare id, safe in a path
  } catch (const AwsFailure &f) {
    FUZZ_CHECK(f.error().kind == ErrorKind::Malformed);
  } catch (const ConfigError &) {
  }
  for (long status : {400L, 403L, 404L, 500L}) {
    AwsError e = parse_route53_error(body, status);  // never throws
    FUZZ_CHECK(!e.code.empty());
    FUZZ_CHECK(e.http_status == status);
  }
  try {
    std::string value = txt_value(body);
    auto back = txt_text(value);
    FUZZ_CHECK(back && *back == body);
  } catch (const ConfigError &) {
  }
  return 0;
}
