// libFuzzer target: every GUC parser, each row's of the setting table (as
// the GUC check hooks call them) and through settings::normalize(name,
// value) (as vip_check_setting() does). Each input is tried as the value of
// every pg_vip string setting, and once as a setting name.
// Expected refusal: ConfigError.
// Properties: a canonical form is a fixed point (normalizing it again gives
// it back), and sanitize_node_name() always yields a valid node name.
#include "core/error.hpp"
#include "core/setting_table.hpp"
#include "core/settings.hpp"
#include "fuzz/support.hpp"

using namespace pg_vip;

namespace {

// Names normalize() takes besides the table's rows: with the prefix, and
// one it does not know (refused with ConfigError, never worse).
const char *const kNames[] = {"vip", "pg_vip.vip", "route_tables", "no_such_setting"};

// A canonical form is a fixed point of its parser.
void fixed_point(settings::Normalizer normalize, const std::string &value) {
  std::string canonical;
  try {
    canonical = normalize(value);
  } catch (const ConfigError &) {
    return;
  }
  try {
    FUZZ_CHECK(normalize(canonical) == canonical);
  } catch (const ConfigError &) {
    FUZZ_CHECK(!"the canonical form of an accepted value is refused");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size) {
  const std::string value = fuzz::text(data, size);
  // Every string setting's parser, from the table, so a new row is fuzzed
  // without a change here.
  for (const auto &row : settings::kSettings)
    if (row.normalize) fixed_point(row.normalize, value);
  for (const char *name : kNames) {
    try {
      std::string canonical = settings::normalize(name, value);
      FUZZ_CHECK(settings::normalize(name, canonical) == canonical);
    } catch (const ConfigError &) {
    }
  }
  try {
    (void) settings::normalize(value, "");
  } catch (const ConfigError &) {
  }
  try {
    (void) settings::parse_node_name(settings::sanitize_node_name(value));
  } catch (const ConfigError &) {
    FUZZ_CHECK(!"sanitize_node_name gave a node name parse_node_name refuses");
  }
  return 0;
}
