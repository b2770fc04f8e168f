// libFuzzer target: every GUC parser, through settings::normalize(name,
// value) as the GUC check hooks and vip_check_setting() call it. Each input
// is tried as the value of every pg_vip setting, and once as a setting name.
// Expected refusal: ConfigError.
// Properties: a canonical form is a fixed point (normalizing it again gives
// it back), and sanitize_node_name() always yields a valid node name.
#include "core/error.hpp"
#include "core/settings.hpp"
#include "fuzz/support.hpp"

using namespace pg_vip;

namespace {

// Every setting that takes a text value (and the notification settings);
// a name normalize() does not know is refused with ConfigError, never worse.
const char *const kNames[] = {
    "vip",         "route_tables", "network_interface",   "region",  "ec2_endpoint",   "imds_endpoint",
    "aws_profile", "node_name",    "event_notifications", "ca_file", "fence_key_file", "event_notification_command",
    "pg_vip.vip",
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size) {
  const std::string value = fuzz::text(data, size);
  for (const char *name : kNames) {
    std::string canonical;
    try {
      canonical = settings::normalize(name, value);
    } catch (const ConfigError &) {
      continue;
    }
    try {
      FUZZ_CHECK(settings::normalize(name, canonical) == canonical);
    } catch (const ConfigError &) {
      FUZZ_CHECK(!"the canonical form of an accepted value is refused");
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
