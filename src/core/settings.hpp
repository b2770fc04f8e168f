// Parsing and validation of every pg_vip.* setting. The GUC check hooks and
// vip_check_setting() call these, so postgresql.conf, ALTER SYSTEM and SQL
// all reject the same values with the same words.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cpp_only.hpp"

namespace pg_vip::settings {

// Most route tables one VIP may live in: bounds shared memory and one claim's fan-out.
constexpr std::size_t kMaxRouteTables = 200;
// Longest node name: it goes into route table tags and notification commands.
constexpr std::size_t kMaxNodeName = 63;

struct Vip {
  bool ipv6 = false;
  std::string address;  // canonical text form, without the prefix
  std::string cidr;     // canonical "address/32" or "address/128"
};

struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;    // as written; IPv6 literals keep their brackets
  uint16_t port = 0;   // 0: the scheme's default
  std::string text;    // canonical form, without a trailing slash
};

// Each parse_* throws ConfigError whose message names the setting and the
// value and whose detail says what was expected.
Vip parse_vip(std::string_view value);
std::vector<std::string> parse_route_tables(std::string_view value);
std::string parse_network_interface(std::string_view value);  // "auto" or an eni id
std::string parse_probe_table(std::string_view value);        // one rtb id, or ""

std::string parse_region(std::string_view value);  // "" allowed
Url parse_url(std::string_view setting, std::string_view value);
std::string parse_aws_profile(std::string_view value);  // "" allowed
std::string parse_node_name(std::string_view value);    // "" allowed
std::vector<std::string> parse_event_list(std::string_view value);
// The event notification command, as written, once no placeholder in it
// could let the shell read a value (text from AWS among them) as code.
std::string parse_notification_command(std::string_view value);  // "" allowed
void check_ca_file(std::string_view value);                      // "" allowed

// Validates `value` for the setting `name` (with or without the "pg_vip."
// prefix) and returns its canonical form. Unknown names are a ConfigError.
std::string normalize(std::string_view name, std::string_view value);

// Turns any text (a cluster_name, a host name) into a usable node name: the
// printable ASCII characters, cut to kMaxNodeName bytes.
std::string sanitize_node_name(std::string_view text);
}  // namespace pg_vip::settings
