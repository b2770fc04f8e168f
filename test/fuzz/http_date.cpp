// libFuzzer target: an HTTP Date header, as the preflight's clock check
// reads it from any answer (the endpoint, a proxy, anything between may
// write it). Expected refusal: nullopt; an accepted date prints back as
// the same text.
#include <ctime>

#include "core/http_types.hpp"
#include "fuzz/support.hpp"

using namespace pg_vip;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size) {
  const std::string value = fuzz::text(data, size);
  auto t = http::parse_http_date(value);
  if (!t) return 0;
  FUZZ_CHECK(value.size() == 29);
  std::time_t seconds = std::chrono::system_clock::to_time_t(*t);
  std::tm tm{};
  FUZZ_CHECK(gmtime_r(&seconds, &tm) != nullptr);
  char printed[64];
  FUZZ_CHECK(std::strftime(printed, sizeof printed, "%d %b %Y %H:%M:%S", &tm) > 0);
  FUZZ_CHECK(value.compare(5, 20, printed) == 0);  // read back exactly as written: nothing rolled over
  return 0;
}
